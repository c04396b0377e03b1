"""Play's pacing (views/_play.py): a frame that waited for the CPU rests as long after it, so a busy
server slows Play down instead of throwing its frames away; an idle one is not slowed."""

import threading

import pytest

from views._play import MAX_REST, paced_frame


class FakeClocks:
    """Wall time and the thread's CPU time, advanced by hand."""

    def __init__(self) -> None:
        self.wall, self.cpu, self.slept = 100.0, 5.0, []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.wall += seconds

    def frame(self, cpu: float, waited: float) -> None:
        with paced_frame(clock=lambda: self.wall, cpu=lambda: self.cpu, sleep=self.sleep):
            self.cpu += cpu
            self.wall += cpu + waited


def test_a_frame_on_an_idle_server_does_not_rest():
    clocks = FakeClocks()
    for _ in range(10):
        clocks.frame(cpu=0.03, waited=0.001)
    assert clocks.slept == []


def test_a_frame_that_waited_for_the_cpu_rests_as_long():
    clocks = FakeClocks()
    clocks.frame(cpu=0.03, waited=0.27)
    assert clocks.slept == [pytest.approx(0.27)]


def test_the_rest_is_capped_so_pause_still_answers():
    clocks = FakeClocks()
    clocks.frame(cpu=0.03, waited=4.0)
    assert clocks.slept == [MAX_REST]


def test_a_frame_left_by_an_exception_does_not_rest():
    clocks = FakeClocks()
    with pytest.raises(RuntimeError):
        with paced_frame(clock=lambda: clocks.wall, cpu=lambda: clocks.cpu, sleep=clocks.sleep):
            clocks.wall += 1.0
            raise RuntimeError("st.rerun() leaves the frame by an exception")
    assert clocks.slept == []


def test_real_clocks_see_a_frame_that_shares_the_cpu_with_another_thread():
    # The real thread CPU clock: a frame that spends its time blocked (here: waiting on another
    # thread, as a frame waits for the interpreter lock) rests.
    slept = []
    done = threading.Event()
    threading.Timer(0.2, done.set).start()
    with paced_frame(sleep=slept.append):
        done.wait()
    assert slept and 0.15 <= slept[0] <= MAX_REST
