"""Play's pacing (views/_play.py): frames rest as long as the last one took, so a busy server slows
Play down instead of throwing its frames away."""

import pytest

from views._play import MAX_REST, forget_pace, paced_frame


class FakeClock:
    def __init__(self) -> None:
        self.now, self.slept = 100.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _frame(state: dict, clock: FakeClock, takes: float, gap: float) -> None:
    clock.now += gap  # the browser's timer request arrives this long after the last frame ended
    with paced_frame(state, "pace", clock=clock, sleep=clock.sleep):
        clock.now += takes


def test_an_idle_server_plays_at_the_timers_rate():
    state, clock = {}, FakeClock()
    for _ in range(10):
        _frame(state, clock, takes=0.03, gap=0.04)  # a 30 ms frame, asked for every 70 ms
    assert clock.slept == []


def test_a_slow_frame_is_followed_by_as_long_a_rest():
    state, clock = {}, FakeClock()
    _frame(state, clock, takes=0.3, gap=0.0)
    _frame(state, clock, takes=0.3, gap=0.0)  # the request had waited while the frame ran
    assert clock.slept == [pytest.approx(0.3)]
    ended, took = state["pace"]
    assert took == pytest.approx(0.3) and ended == clock.now


def test_the_rest_is_capped_so_pause_still_answers():
    state, clock = {}, FakeClock()
    _frame(state, clock, takes=5.0, gap=0.0)
    _frame(state, clock, takes=0.01, gap=0.0)
    assert clock.slept == [MAX_REST]


def test_a_new_play_starts_without_waiting_for_the_old_frame():
    state, clock = {}, FakeClock()
    _frame(state, clock, takes=0.4, gap=0.0)
    forget_pace(state, "pace")
    _frame(state, clock, takes=0.01, gap=0.0)
    assert clock.slept == []


def test_a_frame_that_raises_still_counts():
    state, clock = {}, FakeClock()
    try:
        with paced_frame(state, "pace", clock=clock, sleep=clock.sleep):
            clock.now += 0.2
            raise RuntimeError("st.rerun() leaves the frame by an exception")
    except RuntimeError:
        pass
    assert state["pace"][1] == pytest.approx(0.2)
