"""Pacing and synchronisation between the training thread and the page.

Keeping the page from slowing training (goal: >= 90% of headless throughput):

- Sample grids are rendered at most about once a second, and less often if rendering would take
  more than 3% of the time (``Cadence``). History is appended to compact float arrays.
- The one lock the thread takes per step is a ``Turnstile``: the page can cut in between two
  steps (to save or copy the generator) without the training thread starving it.
"""

from __future__ import annotations

import contextlib
import math
import threading
from dataclasses import dataclass
from typing import Iterator


class Turnstile:
    """A lock the training thread takes around every step, which others can take between steps.

    A plain ``Lock`` would let the training thread release and re-take it immediately, starving a
    page that wants to save a checkpoint. Here the training thread waits while anyone queues.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue = threading.Condition()
        self._waiting = 0

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """Used by the training thread around one step; yields to anyone waiting first."""
        with self._queue:
            self._queue.wait_for(lambda: self._waiting == 0)
        with self._lock:
            yield

    @contextlib.contextmanager
    def between_steps(self) -> Iterator[None]:
        """Hold the trainer still: the current step ends, the next waits until we are done."""
        with self._queue:
            self._waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._queue:
                self._waiting -= 1
                self._queue.notify_all()
        try:
            yield
        finally:
            self._lock.release()


@dataclass
class Cadence:
    """When to do an occasional extra job (render a grid, compute metrics) between steps.

    Every ``every_steps`` steps if set (deterministic, for tests and metrics); otherwise every
    ``every_seconds``, stretched so the job never takes more than ``max_share`` of the time.
    """

    every_steps: int | None = None
    every_seconds: float = 1.0
    max_share: float = 0.03
    last_step: int = -(10**9)
    last_time: float = -math.inf
    cost: float = 0.0

    def due(self, step: int, now: float) -> bool:
        if self.every_steps:
            return step - self.last_step >= self.every_steps
        return now - self.last_time >= max(self.every_seconds, self.cost / self.max_share)

    def done(self, step: int, started: float, finished: float) -> None:
        self.last_step, self.last_time, self.cost = step, finished, finished - started
