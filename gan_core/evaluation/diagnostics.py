"""Plain-word warnings about a GAN's training, for the "what is happening" panel.

Two classic failure signs, each a small pure function so it can be unit-tested:

- *D is winning*: for a long stretch D(x) stays near 1 and D(G(z)) near 0. D separates real from
  fake perfectly, and (with the minimax loss) G's gradient vanishes.
- *Mode collapse*: the fixed-noise samples lose variety. Variety is measured as the mean pairwise
  pixel distance of the samples, divided by the same number for real images; healthy small-preset
  MNIST runs sit around 0.7-0.9 after a few hundred steps, a collapsed G (near-identical samples)
  falls towards 0. Fresh generators also start near 0, so the check waits for a warm-up.

A warning is a ``TrainingAdvice``: a ``LocalizedError`` that is returned, not raised, so that
``str(advice)`` is the English sentence and the page shows it in the session's language
(catalog keys under ``[errors.diagnostics]``).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from gan_core.i18n import LocalizedError

D_WINNING_WINDOW = 200  # steps averaged
D_WINNING_REAL = 0.97  # mean D(x) above this ...
D_WINNING_FAKE = 0.03  # ... and mean D(G(z)) below this
DIVERSITY_WARMUP_STEPS = 300  # a fresh G has no variety yet; do not call that collapse
DIVERSITY_LOW = 0.35  # samples' spread below this share of the real images' spread


class TrainingAdvice(LocalizedError):
    """A plain-word warning about the run with what to try (returned by ``training_warnings``)."""


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean Euclidean distance between every two different images (N, ...), N >= 2."""
    x = images.detach().float().reshape(len(images), -1)
    n = len(x)
    if n < 2:
        raise ValueError("need at least two images to measure their variety")
    return float(torch.cdist(x, x).sum() / (n * (n - 1)))  # the diagonal is zero


def diversity_ratio(samples: torch.Tensor, real: torch.Tensor) -> float:
    """Variety of the samples relative to real images: about 1 = as varied, 0 = all the same."""
    reference = mean_pairwise_distance(real)
    return mean_pairwise_distance(samples) / reference if reference > 0 else 0.0


def discriminator_winning(d_real: Sequence[float], d_fake: Sequence[float], window: int = D_WINNING_WINDOW,
                          high: float = D_WINNING_REAL, low: float = D_WINNING_FAKE) -> bool:
    """True when, over the last ``window`` steps, mean D(x) > high and mean D(G(z)) < low."""
    if len(d_real) < window or len(d_fake) < window:
        return False
    recent_real = sum(d_real[-window:]) / window
    recent_fake = sum(d_fake[-window:]) / window
    return recent_real > high and recent_fake < low


def low_diversity(ratio: float | None, step: int, warmup: int = DIVERSITY_WARMUP_STEPS,
                  threshold: float = DIVERSITY_LOW) -> bool:
    """True when, after the warm-up, the samples' variety fell below ``threshold`` of the real images'."""
    return ratio is not None and step >= warmup and ratio < threshold


def training_warnings(d_real: Sequence[float], d_fake: Sequence[float], ratio: float | None,
                      step: int) -> list[TrainingAdvice]:
    """The warnings that apply now, for students (empty list: nothing to report)."""
    out = []
    if discriminator_winning(d_real, d_fake):
        out.append(TrainingAdvice("errors.diagnostics.d_winning", window=D_WINNING_WINDOW))
    if low_diversity(ratio, step):
        out.append(TrainingAdvice("errors.diagnostics.low_diversity", share=ratio))
    return out


# --- reading training curves ---------------------------------------------------------------------

def ema(values: Sequence[float] | np.ndarray, smoothing: float) -> np.ndarray:
    """Exponential moving average, as TensorBoard smooths curves: s_t = a s_(t-1) + (1 - a) x_t.

    ``smoothing`` a is in [0, 1): 0 returns the values unchanged, 0.99 is very smooth. The start is
    debiased (divided by 1 - a^t) so the curve does not begin at 0.
    """
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), not {smoothing}")
    x = np.asarray(values, dtype=np.float64)
    if smoothing == 0.0 or len(x) == 0:
        return x.copy()
    from scipy.signal import lfilter  # imported here: scipy.signal is slow to import

    s = lfilter([1.0 - smoothing], [1.0, -smoothing], x)  # the recurrence, in C
    return s / (1.0 - smoothing ** np.arange(1, len(x) + 1))


def thin_indices(n: int, max_points: int) -> list[int]:
    """At most ``max_points`` evenly spaced indices of range(n), always including the last one."""
    if n <= max_points:
        return list(range(n))
    stride = math.ceil(n / max_points)
    idx = list(range(0, n, stride))
    if idx[-1] != n - 1:
        idx[-1] = n - 1
    return idx
