"""views._cancellable: slow engine work stops when the page that started it stops."""

import threading
import time

import pytest

from views import _cancellable


class _Bar:
    """Stands in for st.progress; its n-th update raises, as Streamlit does when the session ends."""

    def __init__(self, fail_on: int | None):
        self.updates, self.fail_on = 0, fail_on

    def progress(self, value, text=None):
        self.updates += 1
        if self.fail_on is not None and self.updates >= self.fail_on:
            raise RuntimeError("session ended")  # StopException in a real session

    def empty(self):
        pass


def test_work_stops_when_the_page_stops(monkeypatch):
    monkeypatch.setattr(_cancellable.st, "progress", lambda *a, **k: _Bar(fail_on=3))
    seen = {}

    def decode(should_stop, progress):
        for i in range(10_000):
            if should_stop():
                seen["stopped_at"] = i
                return "cancelled"
            progress(i, 10_000)
            time.sleep(0.01)
        return "finished"

    before = threading.active_count()
    with pytest.raises(RuntimeError, match="session ended"):
        _cancellable.run_cancellable(decode, "decoding")
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "stopped_at" in seen and seen["stopped_at"] < 200  # stopped within ~0.2 s of the page
    assert threading.active_count() == before


def test_result_and_error_come_back_to_the_page(monkeypatch):
    monkeypatch.setattr(_cancellable.st, "progress", lambda *a, **k: _Bar(fail_on=None))
    assert _cancellable.run_cancellable(lambda should_stop, progress: 42, "x") == 42

    def broken(should_stop, progress):
        raise ValueError("bad zip")

    with pytest.raises(ValueError, match="bad zip"):
        _cancellable.run_cancellable(broken, "x")
