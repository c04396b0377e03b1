"""The channel between the app and a training run in its own process (``gan_core.worker.process``).

One duplex ``multiprocessing`` pipe per run; every message is a tuple whose first item names it.

The app (parent) sends::

    ("start", memory_limit_mb)      train (once, after "ready"); the child's memory limit from now on
    ("pause",) ("resume",) ("stop",)
    ("single", request_id, kind)    while paused: one D step ("d"), G step ("g") or "iteration"
    ("save", request_id, directory, dataset_info)   a checkpoint and metrics.csv, between two steps
    ("generator", request_id)       a copy of the sampling generator (for the latent page, the judge)

The run (child) sends::

    ("ready", info)                 the trainer is built: info = {"config", "resume_changes", "device",
                                    "dataset", "start_step", "target_step", "real_grid", "pid",
                                    "baseline_mb"}
    ("failed", exception)           the trainer could not be built (bad settings, too big for the limit)
    ("changes", changes)            what changed since the last "changes" (below), about 5 times a second
    ("done", request_id, result, exception)   the answer to "single", "save" or "generator"
    ("ended",)                      training is over; the last "changes" carried the final status

``changes`` is a dict made by ``read_changes`` from the run's record (``gan_core.worker.run._Worker``)
and a ``Cursor`` of what the app already has, so a long run never sends its whole history again:
new history rows (or all rows after a rollback on divergence, ``"keep_rows": 0``), the new grids of
the timelapse by key (an image is sent once), the newest grid, quality readings, warnings and the
status. ``Mirror`` applies them on the app's side and makes the same ``RunSnapshot`` an in-process
run makes. Exceptions cross the pipe pickled (``LocalizedError`` keeps its key and parameters), so
the page shows them in the student's language.
"""

from __future__ import annotations

import math
import threading
from array import array
from dataclasses import dataclass, field

import numpy as np

from gan_core.worker.snapshot import ACTIVE_STATUSES, HISTORY_FIELDS, assemble_snapshot, read_only


@dataclass
class Cursor:
    """The child's note of what the app already has."""

    rows: int = 0
    rollbacks: int = 0
    metrics_rows: int = 0
    grid_keys: set[int] = field(default_factory=set)
    latest_key: int | None = None
    metrics_key: int | None = None


def read_changes(worker, cursor: Cursor) -> dict:
    """What changed in ``worker``'s record since ``cursor`` (which is moved on). Child side."""
    with worker.state_lock:
        rollback = worker.rollbacks != cursor.rollbacks
        keep = 0 if rollback else cursor.rows
        rows = {name: np.frombuffer(col, dtype=np.float64)[keep:].copy() for name, col in worker.history.items()}
        keep_metrics = 0 if rollback else cursor.metrics_rows
        metrics_rows = [dict(m) for m in worker.metrics_history[keep_metrics:]]
        grids = [(step, id(grid)) for step, grid in worker.grids]
        new_grids = {id(grid): grid for _, grid in worker.grids if id(grid) not in cursor.grid_keys}
        latest = worker.latest_grid
        status, reason, metrics = worker.status, worker.reason, worker.metrics
        diversity, warnings = worker.diversity, list(worker.warnings)
        cursor.rows = len(worker.history["step"])
        cursor.metrics_rows = len(worker.metrics_history)
        cursor.rollbacks = worker.rollbacks
    cursor.grid_keys = {key for _, key in grids}  # the timelapse holds these arrays: their ids stay unique
    changes = {"status": status, "reason": reason, "keep_rows": keep, "rows": rows, "keep_metrics": keep_metrics,
               "metrics_rows": metrics_rows, "grids": grids, "new_grids": new_grids, "diversity": diversity,
               "warnings": warnings, "phase": worker.phase, "parked": worker.parked.is_set(),
               "active_seconds": worker.active_seconds, "images_per_sec": worker.images_per_sec,
               "steps_per_sec": worker.steps_per_sec, "trainer_step": worker.trainer.step_count}
    if latest is not None and id(latest[1]) != cursor.latest_key:
        cursor.latest_key = id(latest[1])
        changes["latest"] = latest
    if metrics is not None and id(metrics) != cursor.metrics_key:
        cursor.metrics_key = id(metrics)
        changes["metrics"] = metrics
    return changes


class Mirror:
    """The app's copy of a child's run record, kept up to date by ``apply``; ``snapshot()`` as in-process."""

    def __init__(self, info: dict) -> None:
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)  # notified on every change (pause and steps wait on it)
        self.config, self.dataset, self.device = info["config"].to_dict(), info["dataset"], info["device"]
        self.start_step, self.target_step = info["start_step"], info["target_step"]
        self.real_grid = info["real_grid"]
        self.status, self.reason = "running", None
        self.ended_here = False  # the app decided how it ended (end()): later messages do not change that
        self.history = {name: array("d") for name in HISTORY_FIELDS}
        self.metrics_history: list[dict] = []
        self.grids: list[tuple[int, np.ndarray]] = []
        self.arrays: dict[int, np.ndarray] = {}
        self.latest_grid: tuple[int, np.ndarray] | None = None
        self.metrics: dict | None = None
        self.diversity: float | None = None
        self.warnings: list = []
        self.phase: tuple[str, int] = ("", 0)
        self.parked = False
        self.active_seconds = self.images_per_sec = self.steps_per_sec = 0.0
        self.trainer_step = self.start_step

    def apply(self, changes: dict) -> None:
        with self.lock:
            for name in HISTORY_FIELDS:
                del self.history[name][changes["keep_rows"]:]
                self.history[name].extend(changes["rows"][name])
            del self.metrics_history[changes["keep_metrics"]:]
            self.metrics_history.extend(changes["metrics_rows"])
            self.arrays = {key: changes["new_grids"].get(key, self.arrays.get(key)) for _, key in changes["grids"]}
            self.grids = [(step, read_only(self.arrays[key])) for step, key in changes["grids"]]
            if "latest" in changes:
                step, grid = changes["latest"]
                self.latest_grid = (step, read_only(grid))
            if "metrics" in changes:
                self.metrics = changes["metrics"]
            if not self.ended_here:  # a status the app set (stopped, out of memory) stays
                self.status, self.reason = changes["status"], changes["reason"]
            for name in ("diversity", "warnings", "phase", "parked", "active_seconds", "images_per_sec",
                         "steps_per_sec", "trainer_step"):
                setattr(self, name, changes[name])
            self.changed.notify_all()

    def end(self, status: str, reason: BaseException | None) -> None:
        """The app decided how the run ended (it stopped it, or the process died)."""
        with self.lock:
            if self.status in ACTIVE_STATUSES or reason is not None:
                self.status, self.reason = status, reason
            self.ended_here = True
            self.phase, self.parked = ("", 0), False
            self.changed.notify_all()

    def snapshot(self) -> RunSnapshot:
        with self.lock:
            return assemble_snapshot(
                history={name: np.frombuffer(col, dtype=np.float64).copy() for name, col in self.history.items()},
                status=self.status, reason=self.reason, trainer_step=self.trainer_step, start_step=self.start_step,
                target_step=self.target_step, steps_per_sec=self.steps_per_sec, phase=self.phase,
                elapsed=self.active_seconds, images_per_sec=self.images_per_sec, latest_grid=self.latest_grid,
                grids=list(self.grids), real_grid=self.real_grid, diversity=self.diversity,
                warnings=list(self.warnings), metrics=self.metrics, metrics_history=list(self.metrics_history),
                config=self.config, dataset=self.dataset, device=self.device)

    def remaining(self) -> tuple[float, float] | None:
        with self.lock:
            rate = self.steps_per_sec
            if self.status != "running" or not rate > 0 or math.isnan(rate):
                return None
            return max(0.0, (self.target_step - self.trainer_step) / rate), rate

