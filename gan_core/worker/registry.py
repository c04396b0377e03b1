"""Server-wide run slots: how many training runs may be active at once, and who may take one over.

``REGISTRY`` counts running and paused runs; starting one beyond
``get_limits().max_concurrent_runs`` raises ``RunLimitReached``. A run frees its slot when its
thread ends (stop, finish, divergence, error). ``REGISTRY.owned_by(owner)`` finds the active run
of an ``owner`` (an opaque id of the browser that started it): after a page reload the page offers
to take that run over instead of refusing to start "because of another run". The registry holds
such a run until its thread ends, so a reload (which drops the old session) does not stop it;
if its browser never comes back, the heartbeat watchdog (``gan_core.worker.run``) ends it.
The wait is ``default_orphan_timeout()``.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from gan_core.i18n import LocalizedError
from gan_core.limits import get_limits

if TYPE_CHECKING:
    from gan_core.worker.run import TrainingRun

DEFAULT_ORPHAN_TIMEOUT = 120.0


class WorkerError(LocalizedError):
    """Something about a training run a user should read (a sentence in every language)."""


class RunLimitReached(WorkerError):
    """Every training slot of this server is taken; the message says what to do."""


class RunRegistry:
    """The training runs active on this server (running or paused), capped by the limits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, str] = {}  # run id -> label
        # Runs whose browser can come back for them (see owned_by), kept until their thread ends.
        self._owned: dict[int, "TrainingRun"] = {}

    def acquire(self, run_id: int, label: str, handle: "TrainingRun | None" = None) -> None:
        """Take a slot for ``run_id`` or raise ``RunLimitReached``; keep ``handle`` if it has an owner."""
        cap = get_limits().max_concurrent_runs
        with self._lock:
            if run_id in self._active:
                return
            if len(self._active) >= cap:
                n = len(self._active)
                key = "errors.worker.run_limit_one" if n == 1 else "errors.worker.run_limit_many"
                raise RunLimitReached(key, n=n, cap=cap)
            self._active[run_id] = label
            if handle is not None and handle.owner is not None:
                self._owned[run_id] = handle

    def release(self, run_id: int) -> None:
        with self._lock:
            self._active.pop(run_id, None)
            self._owned.pop(run_id, None)

    def active(self) -> list[str]:
        """Labels of the active runs (e.g. 'small on mnist5k')."""
        with self._lock:
            return list(self._active.values())

    def owned_by(self, owner: str) -> "TrainingRun | None":
        """An active run started by ``owner`` (an opaque browser id), or None.

        After a page reload the browser's old session is gone but its run keeps its slot until the
        orphan timeout; the page offers that browser to take the run over instead of refusing it.
        """
        with self._lock:
            owned = list(self._owned.values())
        return next((run for run in owned if run.owner == owner and run.is_alive()), None)


REGISTRY = RunRegistry()



def default_orphan_timeout() -> float:
    """$GAN_ORPHAN_TIMEOUT seconds, or 120: how long a run nobody watches keeps its server slot."""
    raw = os.environ.get("GAN_ORPHAN_TIMEOUT", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_ORPHAN_TIMEOUT
    except ValueError:
        raise ValueError(f"environment variable GAN_ORPHAN_TIMEOUT={raw!r} is not a number of seconds") from None
    if not value > 0:
        raise ValueError(f"environment variable GAN_ORPHAN_TIMEOUT={raw!r} must be positive")
    return value
