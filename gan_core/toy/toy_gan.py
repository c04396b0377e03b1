"""A toy GAN: Algorithm 1 of Goodfellow et al. 2014 (``gan_core.algorithm1``) with two small MLPs, on the CPU.

``ToyGAN`` is what the 1-D and 2-D trainers (``toy1d_train``, ``toy2d_train``) share: the networks and
their optimisers, the running ``Algorithm1``, the counters, one bounded history, the updates in
Algorithm 1's order (``d_step``, ``g_step``, ``step``, ``next_update``, ``run_for``) and the settings
that change while it trains (``apply_settings``). A subclass gives its samplers (``sample_x``; z comes
from the prior) and its pictures.

    trainer.step()                      # k D steps, then one G step
    trainer.run_for(0.02, "update")     # Play: single updates for 20 ms
    trainer.history.series("loss_d")    # (updates so far, values)
"""

from __future__ import annotations

import time
from dataclasses import fields, replace
from typing import Callable, Literal

import torch
from torch import nn

from gan_core.algorithm1 import Algorithm1, TrainingDiverged, sample_prior
from gan_core.device import single_thread
from gan_core.losses import get_loss
from gan_core.toy.optimizers import ADAM_BETAS, make_optimizer

HISTORY_MAX = 20_000  # per series: a long Play thins the history (every other point) instead of growing it
# Seconds of training per Play frame, single updates (``run_for(PLAY_TICK_BUDGET, "update")``): short, so
# frames are frequent and Pause is answered at once; with fewer, paced frames on the 2-D page 20 ms (not 15)
# keeps its presets' iterations within 60 s of Play, and 25 ms made Fix it's frames too long (7 a second).
PLAY_TICK_BUDGET = 0.02
# What can change while a run trains (``ToyGAN.apply_settings``); any other setting needs a new trainer.
LIVE_SETTINGS = ("loss", "k", "batch_size", "lr_d", "lr_g")


def build_mlp(n_in: int, hidden: int, depth: int, n_out: int, activation: Callable[[], nn.Module]) -> nn.Sequential:
    """n_in -> (hidden, activation) x depth -> n_out."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(n_in if i == 0 else hidden, hidden), activation()]
    return nn.Sequential(*layers, nn.Linear(hidden, n_out))


class ToyHistory:
    """Numbers over the run, each at the number of updates (D steps + G steps) done when it was recorded:
    every update's numbers, and whatever else the trainer measures. Bounded: past ``HISTORY_MAX``
    entries a series keeps every other one (the chart of a long Play stays cheap)."""

    def __init__(self) -> None:
        self.updates: dict[str, list[int]] = {}
        self.values: dict[str, list[float]] = {}

    def add(self, updates: int, numbers: dict) -> None:
        """Record ``numbers`` at ``updates``: a number is a point of its series, an (estimate, error)
        pair two (``name`` and ``name_error``); anything else (a list of counts) is not a series."""
        for name, value in numbers.items():
            if isinstance(value, tuple):
                self.add(updates, {name: value[0], f"{name}_error": value[1]})
                continue
            if not isinstance(value, (int, float)):
                continue
            xs, ys = self.updates.setdefault(name, []), self.values.setdefault(name, [])
            xs.append(updates)
            ys.append(float(value))
            if len(xs) > HISTORY_MAX:
                del xs[1:-1:2], ys[1:-1:2]

    def series(self, name: str, max_points: int | None = None) -> tuple[list[int], list[float]]:
        """(updates, values) of one number, empty if it was never recorded; with ``max_points``, every
        n-th point and the last, at most about that many (a chart is a few hundred pixels wide)."""
        xs, ys = self.updates.get(name, []), self.values.get(name, [])
        stride = 1 if max_points is None else -(-len(xs) // max_points)
        if stride <= 1:
            return list(xs), list(ys)
        keep = list(range(0, len(xs) - 1, stride)) + [len(xs) - 1]
        return [xs[i] for i in keep], [ys[i] for i in keep]

    def last(self, name: str) -> float | None:
        values = self.values.get(name)
        return values[-1] if values else None


def _diverged(value: float, who: str) -> TrainingDiverged:
    # Raised before the update, so the weights stay the last finite ones and Reset is the way on.
    return TrainingDiverged("errors.train.toy_diverged", who=who)


class ToyGAN:
    """Algorithm 1 with small networks on a toy distribution (CPU, one thread).

    ``config`` is a validated settings dataclass with at least ``seed``, ``prior``, ``loss``, ``k``,
    ``batch_size``, ``lr_d`` and ``lr_g``. ``networks()`` builds (G, D); it runs seeded by
    ``config.seed`` without touching anyone's global random stream. ``noise_dim`` is z's size.
    """

    def __init__(self, config, networks: Callable[[], tuple[nn.Module, nn.Module]], noise_dim: int,
                 optimizers: tuple[str, str], betas: tuple[float, float] = ADAM_BETAS) -> None:
        self.config = config
        self.noise_dim = noise_dim
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.G, self.D = networks()
        optimizer_d, optimizer_g = optimizers
        self.opt_d = make_optimizer(optimizer_d, self.D.parameters(), config.lr_d, betas)
        self.opt_g = make_optimizer(optimizer_g, self.G.parameters(), config.lr_g, betas)
        self.rng = torch.Generator().manual_seed(config.seed)  # z for training (and whatever a subclass draws)
        self.algorithm = Algorithm1(self.G, self.D, self.opt_g, self.opt_d, get_loss(config.loss),
                                    self.sample_x, self.sample_z, on_diverged=_diverged)
        self.d_steps = self.g_steps = 0
        self.d_in_a_row = 0  # D steps since the last G step (``next_update`` walks Algorithm 1 one update at a time)
        self.history = ToyHistory()

    @property
    def updates(self) -> int:
        """D steps + G steps so far: the history's x."""
        return self.d_steps + self.g_steps

    # --- settings ---------------------------------------------------------------------------------

    def apply_settings(self, config) -> bool:
        """Take the ``LIVE_SETTINGS`` (loss, k, batch size, learning rates) from ``config`` from the next
        update on. Returns False, changing nothing, when another setting differs: that needs a new trainer."""
        config.validate()
        if any(getattr(config, f.name) != getattr(self.config, f.name) for f in fields(config)
               if f.name not in LIVE_SETTINGS):
            return False
        self.config = replace(config)
        self.algorithm.loss = get_loss(config.loss)
        for opt, lr in ((self.opt_d, config.lr_d), (self.opt_g, config.lr_g)):
            for group in opt.param_groups:
                group["lr"] = lr
        return True

    # --- Algorithm 1 ------------------------------------------------------------------------------

    def sample_x(self, m: int) -> torch.Tensor:
        """m real examples x ~ p_data (the subclass's data)."""
        raise NotImplementedError

    def sample_z(self, m: int) -> torch.Tensor:
        """m latent vectors z ~ p_z, shape (m, noise_dim)."""
        return sample_prior(m, self.noise_dim, self.config.prior, self.rng)

    @single_thread()
    def d_step(self) -> dict[str, float]:
        """One update of D; its loss and mean D(x), D(G(z)) go into the history."""
        report = self.algorithm.d_step(self.config.batch_size)
        self.d_steps += 1
        self.d_in_a_row += 1
        self.history.add(self.updates, report)
        return report

    @single_thread()
    def g_step(self) -> dict[str, float]:
        """One update of G on a fresh batch of z, D fixed; its loss goes into the history."""
        report = self.algorithm.g_step(self.config.batch_size)
        self.g_steps += 1
        self.d_in_a_row = 0
        self.history.add(self.updates, report)
        return report

    def train_d(self, steps: int | None = None) -> dict[str, float]:
        """``steps`` (default k) D steps; the last one's numbers."""
        report: dict[str, float] = {}
        for _ in range(self.config.k if steps is None else steps):
            report = self.d_step()
        return report

    def step(self) -> dict[str, float]:
        """One iteration of Algorithm 1: k D steps, then one G step; the last D step's and the G step's numbers."""
        return {**self.train_d(), **self.g_step()}

    def next_update(self) -> str:
        """The next single update in Algorithm 1's order ("D" while fewer than k D steps ran since the
        last G step, then "G"); returns which network moved."""
        if self.d_in_a_row < self.config.k:
            self.d_step()
            return "D"
        self.g_step()
        return "G"

    @single_thread()
    def run_for(self, seconds: float, unit: Literal["iteration", "update"] = "iteration",
                max_count: int = 10_000) -> int:
        """Iterations (``step``) or single updates in Algorithm 1's order (``next_update``) until ``seconds``
        have passed, at least one; returns how many ran. Play's frames run updates: with k = 5 a whole
        iteration is six updates, too long for one frame of ~10 a second, and Pause is answered at once."""
        advance = self.step if unit == "iteration" else self.next_update
        start, n = time.perf_counter(), 0
        while n < max_count and (n == 0 or time.perf_counter() - start < seconds):
            advance()
            n += 1
        return n
