"""Server-wide run slots: how many training runs may be active at once, and who may take one over.

``REGISTRY`` counts running and paused runs; starting one beyond
``get_limits().max_concurrent_runs`` raises ``RunLimitReached``. A run frees its slot when its
thread ends (stop, finish, divergence, error). ``REGISTRY.owned_by(owner)`` finds the active run
of an ``owner`` (an opaque id of the browser that started it): after a page reload the page offers
to take that run over instead of refusing to start "because of another run". The registry holds
such a run until its thread ends, so a reload (which drops the old session) does not stop it;
if its browser never comes back, the heartbeat watchdog (``gan_core.worker.run``) ends it.
The wait is ``default_orphan_timeout()``.

When every slot is taken, a Start waits in the server's queue instead of failing: ``enqueue`` gives a
``QueueTicket``; ``position`` (1 = next) and ``estimated_wait`` say where it stands, and the page
calls them about once a second (each call is a heartbeat: a ticket nobody asks about for
``default_orphan_timeout()`` seconds leaves the queue, so a closed tab cannot hold the line).
``acquire`` gives a free slot only to the first ticket (or to anyone while nobody waits), so
nobody jumps the queue.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
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


@dataclass(eq=False)
class QueueTicket:
    """A place in the queue for a training slot: what will run (``label``, ``steps``) and for whom."""

    label: str
    steps: int
    owner: str | None = None
    id: int = field(default_factory=itertools.count(1).__next__)
    last_seen: float = field(default_factory=time.monotonic)


def estimated_wait(slots_free_in: list[float | None], steps_ahead: list[int], steps_per_sec: float) -> float | None:
    """Seconds until the next slot is free for the ticket behind ``steps_ahead``.

    ``slots_free_in``: seconds until each slot frees (0 for a free slot, None when unknown, e.g.
    a paused run). Each run ahead in the queue takes the first slot to free up and holds it for its
    steps at ``steps_per_sec`` (the speed of the runs going now). None when that cannot be known.
    """
    if not slots_free_in or any(t is None for t in slots_free_in) or (steps_ahead and not steps_per_sec > 0):
        return None
    free_at = sorted(float(t) for t in slots_free_in)
    for steps in steps_ahead:
        heapq.heappush(free_at, heapq.heappop(free_at) + steps / steps_per_sec)
    return free_at[0]


class RunRegistry:
    """The training runs active on this server (running or paused), capped by the limits, and the
    queue of those waiting for a slot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, str] = {}  # slot id -> label
        self._holders: dict[int, int] = {}  # slot id -> runs holding it (a live comparison's two share one)
        # Runs whose browser can come back for them (see owned_by), kept until their thread ends.
        self._owned: dict[int, "TrainingRun"] = {}
        self._handles: dict[int, weakref.ref] = {}  # every active run, for the queue's wait estimate
        self._queue: list[QueueTicket] = []

    def acquire(self, run_id: int, label: str, handle: "TrainingRun | None" = None,
                ticket: QueueTicket | None = None) -> None:
        """Take a slot for ``run_id`` or raise ``RunLimitReached``; keep ``handle`` if it has an owner.

        While others wait in the queue, only the first ``ticket`` gets a free slot (and leaves the queue).
        A ``run_id`` that holds a slot already is a second run sharing it (``release`` frees the slot
        when the last of them releases it).
        """
        cap = get_limits().max_concurrent_runs
        with self._lock:
            if run_id in self._active:
                self._holders[run_id] = self._holders.get(run_id, 1) + 1
                return
            self._drop_stale(time.monotonic())
            if not self._free_slots_for(ticket, cap):
                n, waiting = len(self._active), len(self._queue)
                if n < cap:  # a slot is free, but it is someone else's turn
                    raise RunLimitReached("errors.worker.queue_ahead", n=waiting)
                key = "errors.worker.run_limit_one" if n == 1 else "errors.worker.run_limit_many"
                raise RunLimitReached(key, n=n, cap=cap)
            if self._queue:  # the ticket was first in line
                self._queue.pop(0)
            self._active[run_id] = label
            if handle is not None:
                self._handles[run_id] = weakref.ref(handle)
                if handle.owner is not None:
                    self._owned[run_id] = handle

    def release(self, run_id: int) -> None:
        with self._lock:
            if self._holders.get(run_id, 1) > 1:  # another run still trains in this shared slot
                self._holders[run_id] -= 1
                return
            self._holders.pop(run_id, None)
            self._active.pop(run_id, None)
            self._owned.pop(run_id, None)
            self._handles.pop(run_id, None)

    # --- the queue -------------------------------------------------------------------------------

    def enqueue(self, label: str, steps: int, owner: str | None = None) -> QueueTicket:
        """Join the end of the queue for a slot (``label``: what will run; ``steps``: for how long)."""
        ticket = QueueTicket(label=label, steps=int(steps), owner=owner)
        with self._lock:
            self._drop_stale(time.monotonic())
            self._queue.append(ticket)
        return ticket

    def leave(self, ticket: QueueTicket) -> None:
        """Leave the queue (nothing happens if the ticket is not in it)."""
        with self._lock:
            if ticket in self._queue:
                self._queue.remove(ticket)

    def position(self, ticket: QueueTicket) -> int | None:
        """1 for the next in line, 2 behind it, ...; None if the ticket is no longer queued. A heartbeat."""
        now = time.monotonic()
        with self._lock:
            self._drop_stale(now)
            if ticket not in self._queue:
                return None
            ticket.last_seen = now
            return self._queue.index(ticket) + 1

    def slot_is_free_for(self, ticket: QueueTicket) -> bool:
        """Whether ``acquire`` with this ticket would get a slot now."""
        cap = get_limits().max_concurrent_runs
        with self._lock:
            return bool(self._queue) and self._free_slots_for(ticket, cap) > 0

    def free_slots(self) -> int:
        """How many runs could start now without waiting: the free slots, or 0 while anyone waits in the
        queue (a free slot is theirs first)."""
        cap = get_limits().max_concurrent_runs
        with self._lock:
            self._drop_stale(time.monotonic())
            return self._free_slots_for(None, cap)

    def _free_slots_for(self, ticket: QueueTicket | None, cap: int) -> int:
        """The one rule of who may start (the lock held): the free slots, but none while someone other
        than ``ticket`` is first in the queue (a free slot is theirs first)."""
        if self._queue and self._queue[0] is not ticket:
            return 0
        return max(0, cap - len(self._active))

    def estimated_wait(self, ticket: QueueTicket) -> float | None:
        """Seconds until a slot is likely free for ``ticket`` at the current runs' speed (None: unknown)."""
        cap = get_limits().max_concurrent_runs
        with self._lock:
            refs = [self._handles.get(run_id) for run_id in self._active]
            ahead = self._queue[:self._queue.index(ticket)] if ticket in self._queue else None
        if ahead is None:
            return None
        runs = [ref() if ref is not None else None for ref in refs]
        remaining = [run.remaining() if run is not None else None for run in runs]  # outside the lock
        known = [r for r in remaining if r is not None]
        speed = sum(rate for _, rate in known) / len(known) if known else 0.0
        slots = [r[0] if r is not None else None for r in remaining] + [0.0] * max(0, cap - len(remaining))
        return estimated_wait(slots, [t.steps for t in ahead], speed)

    def _drop_stale(self, now: float) -> None:
        timeout = default_orphan_timeout()
        self._queue = [t for t in self._queue if now - t.last_seen <= timeout]

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
