"""Slow engine work (decoding an upload, loading a dataset) in a thread that can be told to stop.

``BackgroundJob(work)`` runs ``work(should_stop=..., progress=...)`` in a daemon thread that never
touches Streamlit; the page polls ``progress`` and ``done`` from its own thread and calls
``cancel()`` when it stops (see ``views/_cancellable.py``). The engine's loaders check
``should_stop`` between images, so a cancelled job ends within one image.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class BackgroundJob(Generic[T]):
    """``work(should_stop=..., progress=...)`` running in a thread; its result or error afterwards."""

    def __init__(self, work: Callable[..., T], name: str = "gan-background-job") -> None:
        self._work = work
        self._cancel = threading.Event()
        self._result: T | None = None
        self._error: BaseException | None = None
        self.progress: tuple[int, int] = (0, 0)  # (done, total) as the work last reported it
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._work(should_stop=self._cancel.is_set, progress=self._report)
        except BaseException as exc:  # noqa: BLE001 -- handed to the caller by result()
            self._error = exc

    def _report(self, done: int, total: int) -> None:
        self.progress = (done, total)

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True once the work has ended."""
        self._thread.join(seconds)
        return not self._thread.is_alive()

    def cancel(self) -> None:
        """Ask the work to stop at its next check (a no-op once it has ended)."""
        self._cancel.set()

    def result(self) -> T:
        """The work's return value, or its exception raised again (call after ``wait`` says it ended)."""
        if self._thread.is_alive():
            raise RuntimeError("the job is still running")
        if self._error is not None:
            raise self._error
        return self._result
