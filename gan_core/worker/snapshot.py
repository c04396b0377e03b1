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
