"""What kinds of images G makes along a run: ``classes.csv``, the class shares of its samples per step.

The lecture says a GAN trained on Fashion-MNIST may generate "only a few of the 10 kinds" (mode
collapse). A sample grid of 16 images cannot show that; the shares of a few hundred samples can.
``python -m gan_core train --record-classes N`` classifies N samples of G at every grid step with the
dataset's shipped classifier (``assets/classifier-<dataset>``) and appends one row::

    step,n,confidence,classes_covered,classes_for_80_percent,largest_class_share,class_0,...,class_9

``class_i`` is the share of the N samples whose most likely class is i (the names are config.json's
``dataset.class_names``); the other columns are ``gan_core.evaluation.metrics.mode_coverage``'s. The
same N noise vectors are used every time (seed + 2), so a change between rows is G's, not the noise's.
What it cannot see: a sample the classifier calls "shirt" may be a poor shirt (``confidence`` says how
many it was sure of), and variety inside one class.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_core.checkpoint import trim_metrics_csv

CLASSES_FILE = "classes.csv"
SUMMARY_COLUMNS = ("step", "n", "confidence", "classes_covered", "classes_for_80_percent", "largest_class_share")
BATCH = 500  # samples generated at once: bounds the memory of a large N at 64 px


@dataclass(frozen=True)
class ClassShares:
    """A run's classes.csv: one row per recorded step (steps ascending)."""

    steps: np.ndarray  # (T,) int
    shares: np.ndarray  # (T, num_classes): each row sums to 1
    summary: dict[str, np.ndarray]  # SUMMARY_COLUMNS other than step -> (T,)

    def at(self, step: float) -> int | None:
        """Index of the newest row at or before ``step`` (None before the first)."""
        i = int(np.searchsorted(self.steps, step, side="right")) - 1
        return i if i >= 0 else None


class ClassRecorder:
    """Appends a row to DIR/classes.csv at each grid step of a CLI run (a no-op when off)."""

    def __init__(self, path: Path | None, trainer=None, classifier=None, n: int = 0) -> None:
        self.path, self.trainer, self.classifier = path, trainer, classifier
        if path is None:
            return
        self.noise = trainer.sample_noise(n, torch.Generator().manual_seed(trainer.config.seed + 2))

    @classmethod
    def for_run(cls, out: Path, trainer, n: int, resumed: bool) -> "ClassRecorder":
        """The recorder of a run writing to ``out``; off when ``n`` is 0. A resumed run keeps the rows up
        to its checkpoint's step; a run without a classifier for its dataset and image shape says so and
        records nothing."""
        if n <= 0:
            return cls(None)
        from gan_core.evaluation.metrics import load_classifier
        from gan_core.i18n import translate

        classifier = load_classifier(str(trainer.config.dataset))
        c = trainer.config
        if classifier is None or classifier.image_shape != (c.channels, c.image_size, c.image_size):
            import sys

            print(translate("errors.cli.no_classifier_for_classes", dataset=str(c.dataset)), file=sys.stderr)
            return cls(None)
        path = out / CLASSES_FILE
        if resumed and path.is_file():
            trim_metrics_csv(path, trainer.step_count)  # metrics.csv's rule: the first column is the step
        else:
            header = list(SUMMARY_COLUMNS) + [f"class_{i}" for i in range(len(classifier.class_names))]
            path.write_text(",".join(header) + "\n")
        return cls(path, trainer, classifier, n)

    def record(self, step: int) -> None:
        """Classify G's samples of the fixed noise now and append the row for ``step``."""
        if self.path is None:
            return
        from gan_core.evaluation.metrics import classifier_confidence, mode_coverage

        probs = torch.cat([self.classifier.probs(self.trainer.generate(z)) for z in self.noise.split(BATCH)])
        cover = mode_coverage(probs, len(self.classifier.class_names))
        row = [step, len(probs), round(classifier_confidence(probs), 6), cover["classes_covered"],
               cover["classes_for_80_percent"], round(cover["largest_class_share"], 6), *cover["histogram"]]
        with open(self.path, "a", newline="") as f:
            csv.writer(f, lineterminator="\n").writerow(row)

    def trim(self, up_to_step: int) -> None:
        """Drop rows after ``up_to_step`` (a divergence rolled the run back)."""
        if self.path is not None:
            trim_metrics_csv(self.path, up_to_step)


def read_class_shares(folder: str | Path) -> ClassShares | None:
    """The run's classes.csv, or None when it has none. A row cut mid-write, with a field that is not a
    number, or whose step does not increase is skipped (as in metrics.csv)."""
    path = Path(folder) / CLASSES_FILE
    if not path.is_file():
        return None
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or tuple(rows[0][:len(SUMMARY_COLUMNS)]) != SUMMARY_COLUMNS:
        return None
    width = len(rows[0])
    kept: list[list[float]] = []
    for row in rows[1:]:
        try:
            values = [float(v) for v in row]
        except ValueError:
            continue
        if len(values) != width or not all(map(math.isfinite, values)):
            continue
        if kept and values[0] <= kept[-1][0]:
            continue
        kept.append(values)
    table = np.array(kept, dtype=float).reshape(len(kept), width)
    k = len(SUMMARY_COLUMNS)
    return ClassShares(steps=table[:, 0].astype(int), shares=table[:, k:],
                       summary={name: table[:, i] for i, name in enumerate(SUMMARY_COLUMNS) if i > 0})
