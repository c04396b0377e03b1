"""``RunSnapshot``: the plain-data copy of a run's state that the page reads (any thread)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gan_core.evaluation import diagnostics

ACTIVE_STATUSES = ("running", "paused")
HISTORY_FIELDS = ("step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "images_per_sec", "elapsed")


@dataclass(frozen=True)
class RunSnapshot:
    """A plain-data copy of a run's state, safe to use in the UI thread."""

    status: str
    message: str  # why it stopped (divergence, error, orphaned) in English, else ""
    reason: BaseException | None  # the same as an exception: the page shows error_text(reason)
    step: int
    start_step: int  # the step it started (or resumed) from
    target_step: int  # the step it stops at
    epoch: float
    elapsed: float  # seconds of training on the monotonic clock, pauses excluded
    eta: float | None  # seconds left at the current speed
    images_per_sec: float  # real images per second, measured on the wall clock
    phase: str  # "d" (a discriminator step), "g" (the generator step) or ""
    phase_index: int  # which of the k D steps (1-based) when phase is "d"
    history: dict[str, np.ndarray]  # HISTORY_FIELDS -> one value per step
    latest_grid: tuple[int, np.ndarray] | None  # (step, uint8 image) of the newest samples
    grids: list[tuple[int, np.ndarray]]  # the timelapse (thinned, evenly spaced)
    real_grid: np.ndarray  # real training images, for comparison
    diversity: float | None  # samples' variety relative to real images (diagnostics)
    warnings: list[diagnostics.TrainingAdvice]  # str() is English; the page shows error_text()
    metrics: dict | None  # latest gan_core.evaluation.metrics.quick_metrics result
    metrics_history: list[dict]  # {"step", "confidence", "classes_covered", ...} per evaluation
    config: dict
    dataset: str
    device: str

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def progress(self) -> float:
        todo = self.target_step - self.start_step
        return 1.0 if todo <= 0 else min(1.0, max(0.0, (self.step - self.start_step) / todo))


def read_only(a: np.ndarray) -> np.ndarray:
    """Mark an array shared between snapshots as read-only (it is never modified after publishing)."""
    a.flags.writeable = False
    return a


def assemble_snapshot(*, history: dict[str, np.ndarray], status: str, reason: BaseException | None,
                      trainer_step: int, start_step: int, target_step: int, steps_per_sec: float,
                      phase: tuple[str, int], **rest) -> RunSnapshot:
    """A ``RunSnapshot`` from a run's record: the step, epoch and ETA are read from it the same way
    whether the run trains in this process or in its own (``gan_core.worker.channel.Mirror``)."""
    step = int(history["step"][-1]) if len(history["step"]) else trainer_step
    epoch = float(history["epoch"][-1]) if len(history["epoch"]) else 0.0
    eta = (target_step - step) / steps_per_sec if status == "running" and steps_per_sec > 0 else None
    kind, index = phase if status in ACTIVE_STATUSES else ("", 0)
    return RunSnapshot(status=status, message=str(reason) if reason is not None else "", reason=reason, step=step,
                       start_step=start_step, target_step=target_step, epoch=epoch, eta=eta, phase=kind,
                       phase_index=index, history=history, **rest)
