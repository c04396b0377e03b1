"""scripts/serve_class.py starts a local app process that ended again on its port, and leaves one
that keeps ending stopped (HAProxy's health check has taken it out; the class goes on on the other,
and the command stops when none is left). A process that hangs is not restarted (it never ended):
HAProxy's health check takes it out until it answers again.

The command runs as it does in a lecture (two app processes and HAProxy, in its own process group
so that everything it started is ended after the test, whatever happens); the tests kill an app
process with SIGKILL."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from serve_class import COOKIE, RESTART_LIMIT, RESTART_WINDOW_S, answers, free_port, server_states  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("haproxy") is None,
                                                   reason="haproxy is not installed (apt-get install haproxy)")]


def wait_until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.1)
    return value


def group_members(group: int) -> list[int]:
    """The processes of process group ``group`` (from /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            members.append(int(stat.parent.name))
    return members


class Serving:
    """``serve_class.py --processes N`` running; its stderr lines collected as they come."""

    def __init__(self, tmp_path: Path, processes: int):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "scripts" / "serve_class.py"), "--processes", str(processes),
             "--port", str(self.port), "--address", "127.0.0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**os.environ, "GAN_RUNS_DIR": str(tmp_path / "runs"), "TMPDIR": str(tmp_path)})  # its logs there
        self.errors: list[str] = []
        threading.Thread(target=lambda: self.errors.extend(self.process.stderr), daemon=True).start()

    def wait_ready(self) -> None:
        """Read the line saying the class is served: where its logs and HAProxy's socket are, the apps' ports."""
        ready = self.process.stdout.readline()  # the command's own start timeout bounds this
        found = re.search(r"\(logs: (.+)\); Ctrl-C stops", ready)
        assert found, f"{ready!r} {self.errors}"
        self.log_dir = Path(found[1])
        config = (self.log_dir / "haproxy.cfg").read_text()
        self.app_ports = [int(p) for p in re.findall(r"server app\d 127\.0\.0\.1:(\d+)", config)]

    def app_pid(self, i: int) -> int | None:
        """The process id of the running app process ``i`` (found by its port on its command line)."""
        for pid in group_members(self.process.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"streamlit" in command and str(self.app_ports[i]).encode() in command:
                return pid
        return None

    def error_line(self, words: str) -> str | None:
        return next((line for line in self.errors if words in line), None)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # as an administrator stops it
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever is left of it, on any failure
        except ProcessLookupError:
            pass
        self.process.wait()


@pytest.fixture
def serving(request, tmp_path):
    serving = Serving(tmp_path, getattr(request, "param", 2))
    try:
        serving.wait_ready()
        yield serving
    finally:
        serving.stop()
    assert group_members(serving.process.pid) == []  # no app process or HAProxy left behind


def _status_with_cookie(port: int, pinned: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/_stcore/health",
                                     headers={"Cookie": f"{COOKIE}={pinned}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status
    except OSError as exc:
        return getattr(exc, "code", 0)


def test_a_killed_app_process_is_started_again_on_its_port(serving):
    first = serving.app_pid(1)
    assert first and serving.app_pid(0)
    statuses: list[int] = []
    done = threading.Event()

    def student_on_app1():  # requests of a browser pinned to the process that dies
        while not done.is_set():
            statuses.append(_status_with_cookie(serving.port, "app1"))
            time.sleep(0.05)

    student = threading.Thread(target=student_on_app1)
    student.start()
    try:
        os.kill(first, signal.SIGKILL)
        line = wait_until(lambda: serving.error_line("app process 1"), 10, "a line about the restart")
        assert f"app process 1 (port {serving.app_ports[1]}) ended (killed by SIGKILL); started it again " \
               "on the same port" in line
        wait_until(lambda: answers("127.0.0.1", serving.app_ports[1]), 60, "the port answering again")
        assert serving.app_pid(1) not in (None, first)
        wait_until(lambda: server_states(serving.log_dir / "haproxy.sock") == {"app0": "UP", "app1": "UP"}, 15,
                   "HAProxy sending students to both again")
    finally:
        done.set()
        student.join()
    assert statuses and set(statuses) == {200}  # meanwhile HAProxy retried on the other process
    assert serving.process.poll() is None and len(serving.errors) == 1


def test_an_app_process_that_keeps_ending_is_left_stopped_and_the_class_goes_on(serving):
    for _ in range(RESTART_LIMIT):  # each start ends at once, as one that fails at start would
        pid = wait_until(lambda: serving.app_pid(1), 10, "app process 1 running")
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: serving.app_pid(1) != pid, 10, "app process 1 ended")
    line = wait_until(lambda: serving.error_line("not started again"), 10, "a line saying it is left stopped")
    assert f"app process 1 (port {serving.app_ports[1]}) ended {RESTART_LIMIT} times within " \
           f"{RESTART_WINDOW_S:.0f} s (last: killed by SIGKILL); it is not started again (log: " in line
    assert line.endswith("; the class goes on on the other processes\n")
    wait_until(lambda: server_states(serving.log_dir / "haproxy.sock") == {"app0": "UP", "app1": "DOWN"}, 15,
               "HAProxy's health check taking app process 1 out")
    assert serving.app_pid(1) is None and not answers("127.0.0.1", serving.app_ports[1])
    assert _status_with_cookie(serving.port, "app1") == 200  # its students are served by the other
    assert serving.process.poll() is None and len(serving.errors) == RESTART_LIMIT


def test_a_process_that_hangs_is_taken_out_by_the_health_check_and_back_when_it_answers(serving):
    hung = serving.app_pid(1)
    os.kill(hung, signal.SIGSTOP)  # alive (nothing to restart) but answering nothing, as a process stuck in a loop
    try:
        wait_until(lambda: server_states(serving.log_dir / "haproxy.sock") == {"app0": "UP", "app1": "DOWN"}, 30,
                   "HAProxy's health check taking the hung process out")  # two checks of 5 s without an answer
        assert _status_with_cookie(serving.port, "app1") == 200  # its students are served by the other
    finally:
        os.kill(hung, signal.SIGCONT)
    wait_until(lambda: server_states(serving.log_dir / "haproxy.sock") == {"app0": "UP", "app1": "UP"}, 15,
               "the process back in once it answers")
    assert serving.app_pid(1) == hung and serving.errors == []  # not restarted: it never ended


@pytest.mark.parametrize("serving", [1], indirect=True)
def test_the_command_stops_when_no_process_is_left(serving):
    for _ in range(RESTART_LIMIT):
        pid = wait_until(lambda: serving.app_pid(0), 10, "the app process running")
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: serving.app_pid(0) != pid, 10, "the app process ended")
    assert serving.process.wait(20) == 1
    assert "not started again" in serving.errors[-2] and "the class goes on" not in serving.errors[-2]
    assert serving.errors[-1] == "no app process is left; stopping\n"
