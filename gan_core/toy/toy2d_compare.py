"""Two 2-D GANs side by side, one setting apart: the quickest ablation a class can watch.

A ``Comparison`` names a ``Toy2DConfig`` field and the two values it is compared at (k = 1 vs k = 5,
the non-saturating loss vs minimax). ``Toy2DPair`` trains two ``Toy2DTrainer``s from one config that
differ only there: same seed, so the same initial weights, real points and fixed noise, and they step
together, one Algorithm 1 iteration (k D steps, one G step) each at a time, so both have had the same
number of G steps.

    pair = Toy2DPair(Toy2DConfig(), "k")    # k = 1 on the left, k = 5 on the right
    pair.run_for(0.5)
    [t.measure()["modes_covered"] for t in pair.trainers]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import torch

from gan_core.registry import Registry
from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer


@dataclass(frozen=True)
class Comparison:
    """Runs that differ in ``field`` only, set to each of ``values`` (left, right)."""

    name: str
    field: str
    values: tuple
    description: str


COMPARISONS: Registry[Comparison] = Registry("2-D comparison")
register_comparison = COMPARISONS.register

# The two presets' one difference: D five steps ahead of G collapses onto a few modes, one step does not.
register_comparison(Comparison("k", "k", (1, 5), "k = 1 vs k = 5 D steps per G step"))
# Goodfellow et al. 2014, section 3: early on D rejects G's points with confidence and log(1 - D(G(z)))
# saturates; G maximising log D(G(z)) instead gets a strong gradient.
register_comparison(Comparison("loss", "loss", ("non-saturating", "minimax"),
                               "the non-saturating G loss vs the minimax one"))


def compare_configs(config: Toy2DConfig, name: str) -> tuple[Toy2DConfig, Toy2DConfig]:
    """``config`` with the comparison's field set to each of its two values (everything else, the seed
    included, as it is)."""
    comparison = COMPARISONS.get(name)
    if comparison is None:
        raise ValueError(f"no 2-D comparison called {name!r}; choose one of {', '.join(COMPARISONS)}")
    left, right = (replace(config, **{comparison.field: v}).validate() for v in comparison.values)
    return left, right


class Toy2DPair:
    """Two trainers one setting apart (``compare_configs``), stepping together."""

    def __init__(self, config: Toy2DConfig, name: str, points: torch.Tensor | None = None) -> None:
        self.comparison = COMPARISONS.get(name)
        self.trainers = tuple(Toy2DTrainer(c, points=points) for c in compare_configs(config, name))

    def step(self) -> None:
        """One Algorithm 1 iteration of each run (k D steps, then one G step)."""
        for trainer in self.trainers:
            trainer.step()

    def run_for(self, seconds: float, max_count: int = 10_000) -> int:
        """Iterations of both runs (``step``) until ``seconds`` have passed, at least one; returns how many."""
        start, n = time.perf_counter(), 0
        while n < max_count and (n == 0 or time.perf_counter() - start < seconds):
            self.step()
            n += 1
        return n
