"""A GAN on 2-D points: Algorithm 1 of Goodfellow et al. 2014 (``gan_core.algorithm1``) with two MLPs.

``Toy2DTrainer`` is a ``gan_core.toy.toy_gan.ToyGAN`` that learns a ``gan_core.toy.toy2d`` target (or a
user's points) with the losses of ``gan_core.losses`` (WGAN-GP included): ``d_step`` / ``g_step`` / ``step``
/ ``next_update`` / ``run_for(seconds)`` from ``ToyGAN``; ``fake_points()`` (G at a fixed noise batch, so the points move smoothly between frames) and
``measure()`` (modes covered, share of high-quality samples, KL both ways and JS with error bars; or
``start_measurement()`` / ``collect_measurement()`` to have a worker thread compute it while training
goes on) and ``view()`` (what a figure draws: D(x) on a grid, the direction the G loss pushes each fake
point, the generator's manifold for 1-D or 2-D noise).

    trainer = Toy2DTrainer(Toy2DConfig(target="ring8"))
    trainer.run_for(1.0)
    trainer.measure()["modes_covered"]
"""

from __future__ import annotations

import math
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import torch
from torch import nn

from gan_core.algorithm1 import PRIORS, render, sample_prior
from gan_core.device import single_thread
from gan_core.evaluation.metrics import toy_mode_metrics
from gan_core.losses import LOSSES
from gan_core.registry import Registry
from gan_core.settings import SEED, Setting, check_fields, setting
from gan_core.toy.optimizers import OPTIMIZERS
from gan_core.toy.toy2d import Toy2DError, divergences, get_target
from gan_core.toy.toy_gan import ToyGAN, build_mlp

LR_CHOICES = (1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2)  # the learning rates the page offers
REAL_POOL = 20_000  # real points drawn once; minibatches are drawn from them
FIXED_FAKES = 1_000  # the fixed noise batch whose images are drawn and measured
MEASURE_REAL = 1_000
DRAWN_REAL = 1_000  # real points a frame draws (more only slows the drawing: the picture is the same)
MODE_MIN_SHARE = 0.01  # a mode is covered when it holds >= 1% of the fixed fakes (10 of 1,000), not one stray point
TRAIL_POINTS, TRAIL_FRAMES = 12, 40  # fake points whose last positions (one per frame that trained) are drawn

# One worker thread for every trainer's background measurements (started at the first one; a trainer has
# at most one waiting or running). Play's frames run on the page's script thread; the measurement (~50 ms
# of k-NN distances, torch kernels that release the GIL) no longer stops them once a second.
_MEASURER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toy2d-measure")


# Toy ranges: k up to 20 (beyond, D is at its optimum before every G step: nothing new to see); depth
# up to 4 hidden layers (more only slows Play); learning rates up to 1. A number's ``choices`` are the
# values the page offers.
_L = "modes.settings."


@dataclass(frozen=True)
class Toy2DConfig:
    """Settings of a 2-D run (the page starts a new trainer for new settings). Each field declares its
    range, page widget and link name once (``gan_core.settings``)."""

    target: str = setting("ring8", Setting("text"))  # a TARGETS name (get_target refuses others)
    # 1 or 2 shows the generator's manifold; more is allowed
    noise_dim: int = setting(2, Setting("int", 1, 64, choices=(1, 2), label=_L + "noise_dim", url="z_dim",
                                        widget="radio"))
    prior: str = setting("normal", Setting("choice", choices=PRIORS, label=_L + "prior", url="z", widget="radio"))
    hidden: int = setting(128, Setting("int", 1, 1024, choices=(16, 32, 64, 128, 256), label=_L + "hidden",
                                       url="width", widget="select_slider"))  # width of every hidden layer
    depth: int = setting(3, Setting("int", 1, 4, label=_L + "depth", url="depth", widget="number"))  # hidden layers
    k: int = setting(1, Setting("int", 1, 20, label=_L + "k", url="k", widget="number"))  # Algorithm 1's k
    batch_size: int = setting(256, Setting("int", 2, 10_000, choices=(32, 64, 128, 256, 512), label=_L + "batch_size",
                                           url="batch", widget="select_slider"))
    lr_d: float = setting(1e-3, Setting("float", 1e-5, 1.0, choices=LR_CHOICES, label=_L + "lr_d", url="lr_d",
                                        widget="select_slider"))
    lr_g: float = setting(1e-3, Setting("float", 1e-5, 1.0, choices=LR_CHOICES, label=_L + "lr_g", url="lr_g",
                                        widget="select_slider"))
    optimizer_d: str = setting("adam", Setting("choice", choices=lambda: list(OPTIMIZERS), label=_L + "optimizer_d",
                                               url="opt_d", widget="select"))
    optimizer_g: str = setting("adam", Setting("choice", choices=lambda: list(OPTIMIZERS), label=_L + "optimizer_g",
                                               url="opt_g", widget="select"))
    # Adam's (DCGAN's beta1 = 0.5)
    betas: tuple[float, float] = setting((0.5, 0.999), Setting("float_pair", 0.0, 0.9999))
    loss: str = setting("non-saturating", Setting("choice", choices=lambda: list(LOSSES), label=_L + "loss",
                                                  url="loss", widget="select"))
    seed: int = setting(0, SEED)

    def validate(self) -> "Toy2DConfig":
        check_fields(self, Toy2DError)
        return self


@dataclass(frozen=True)
class Toy2DPreset:
    """Named settings for the mode-collapse page, with the number of iterations within which they do
    what their name says on their seed (checked by ``tests/test_toy2d.py``)."""

    name: str
    config: Toy2DConfig
    iterations: int
    description: str


PRESETS: Registry[Toy2DPreset] = Registry("2-D preset")
register_preset = PRESETS.register

# The defaults: Adam 1e-3 for both networks (DCGAN's beta1 = 0.5), k = 1, the non-saturating loss,
# 3 hidden layers of 128. Seed 0 on ring8 covers 8 of 8 modes with >= 89% of the fakes within 3 sigma
# of a mode by 1,500 iterations (~10 s on one core), and stays there (the tuning runs: BENCHMARKS.md).
register_preset(Toy2DPreset("fix-it", Toy2DConfig(), 1_500,
                            "ring8, non-saturating loss, Adam 1e-3 for G and D, k = 1: all 8 modes"))
# The same with k = 5: D learns five times per G step, gets ahead, and G's gradient sends every fake
# to the few places D is least sure of. Seed 0 sits on 3 of the 8 modes (83-98% of the fakes within
# 3 sigma) from about 450 to at least 2,600 iterations (90 s on one core): collapsed, not lost.
register_preset(Toy2DPreset("collapse-it", Toy2DConfig(k=5), 500,
                            "the same with k = 5: D gets ahead of G, and G piles onto 3 of the 8 modes"))


@dataclass(frozen=True)
class Toy2DView:
    """A frame: real and fake points, D's probability on a grid (rows along y), the push of the G loss on
    some fake points (unit length at the strongest), and G's image of noise grid lines (None for noise > 2-D)."""

    real: torch.Tensor
    fake: torch.Tensor
    grid_x: torch.Tensor
    grid_y: torch.Tensor
    d: torch.Tensor
    arrow_from: torch.Tensor
    arrow_push: torch.Tensor
    manifold: list[torch.Tensor] | None = field(default=None)
    trails: torch.Tensor | None = None  # (frames, TRAIL_POINTS, 2): where some fake points were, oldest first
    bounds: tuple[float, float, float, float] = (-1.0, 1.0, -1.0, 1.0)  # x0, x1, y0, y1 of the drawing


def _noise_lines(noise_dim: int, prior: str, n_lines: int = 9, points: int = 100) -> list[torch.Tensor]:
    """Lines of a grid over the noise space (its bulk: ±2 for N(0, I), ±1 for U(-1, 1)); one line in 1-D."""
    span = 2.0 if prior == "normal" else 1.0
    t = torch.linspace(-span, span, points)
    if noise_dim == 1:
        return [t[:, None]]
    lines = []
    for c in torch.linspace(-span, span, n_lines):
        lines.append(torch.stack([t, torch.full_like(t, float(c))], 1))
        lines.append(torch.stack([torch.full_like(t, float(c)), t], 1))
    return lines


class Toy2DTrainer(ToyGAN):
    """Algorithm 1 on 2-D points with MLPs (``ToyGAN``); the history also holds the measurements."""

    def __init__(self, config: Toy2DConfig | None = None, points: torch.Tensor | None = None) -> None:
        c = (config or Toy2DConfig()).validate()
        super().__init__(c, lambda: (build_mlp(c.noise_dim, c.hidden, c.depth, 2, nn.ReLU),
                                     build_mlp(2, c.hidden, c.depth, 1, lambda: nn.LeakyReLU(0.2))),
                         noise_dim=c.noise_dim, optimizers=(c.optimizer_d, c.optimizer_g), betas=c.betas)
        self.target = None if points is not None else get_target(c.target)
        self.real = points.float() if points is not None else self.target.sample(REAL_POOL, seed=c.seed)
        self.fixed_z = sample_prior(FIXED_FAKES, c.noise_dim, c.prior, torch.Generator().manual_seed(c.seed + 1))
        self._trail: deque[torch.Tensor] = deque(maxlen=TRAIL_FRAMES)
        self._trail_at = -1
        self._real_box = _box(self.real)
        self._shading: tuple | None = None  # (bounds, grid_n, D on that grid) of the last view
        self._measuring: tuple[int, Future] | None = None  # (updates, result) of a background measurement
        self._noise_grid: tuple[torch.Tensor, list[int]] | None = None  # the manifold's noise lines, joined

    def sample_x(self, m: int) -> torch.Tensor:
        """m real points, drawn from the pool with replacement."""
        return self.real[torch.randint(len(self.real), (m,), generator=self.rng)]

    # --- what a figure draws ---------------------------------------------------------------------

    @single_thread()
    def fake_points(self) -> torch.Tensor:
        """G at the fixed noise batch, (FIXED_FAKES, 2): the same z every frame, so points move smoothly."""
        return render(self.G, self.fixed_z)

    def bounds(self, fake: torch.Tensor) -> tuple[float, float, float, float]:
        """The drawing's (x0, x1, y0, y1): the real points' box, widened to hold the bulk of the fakes
        (at most 3 box-widths away, so a diverging G cannot zoom the real points out of sight), rounded out to 0.5
        so the axes stay put from frame to frame."""
        x0, x1, y0, y1 = self._real_box
        if torch.isfinite(fake).all():
            lo, hi = torch.quantile(fake, 0.005, dim=0), torch.quantile(fake, 0.995, dim=0)
            w, h = x1 - x0, y1 - y0
            x0, x1 = max(min(x0, float(lo[0])), x0 - 3 * w), min(max(x1, float(hi[0])), x1 + 3 * w)
            y0, y1 = max(min(y0, float(lo[1])), y0 - 3 * h), min(max(y1, float(hi[1])), y1 + 3 * h)
        return (math.floor(x0 * 2) / 2, math.ceil(x1 * 2) / 2, math.floor(y0 * 2) / 2, math.ceil(y1 * 2) / 2)

    def view(self, grid_n: int = 60, arrows: int = 150, shading: bool = True) -> Toy2DView:
        """Everything a figure of the current state draws (tensors on the CPU). A frame after training
        moved adds the first ``TRAIL_POINTS`` fakes' positions to their trails. ``shading=False`` reuses
        the last view's D on the grid when the grid is the same (the grid through D is the view's largest
        cost; Play redraws D's shading a few times a second, not every frame)."""
        fake = self.fake_points()
        if self.updates != self._trail_at:
            self._trail.append(fake[:TRAIL_POINTS].clone())
            self._trail_at = self.updates
        bounds = x0, x1, y0, y1 = self.bounds(fake)
        xs, ys = torch.linspace(x0, x1, grid_n), torch.linspace(y0, y1, grid_n)
        loss = self.algorithm.loss
        if shading or self._shading is None or self._shading[:2] != (bounds, grid_n):
            gy, gx = torch.meshgrid(ys, xs, indexing="ij")
            with torch.no_grad(), single_thread():
                d = loss.probability(self.D(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1))).reshape(grid_n, grid_n)
            self._shading = (bounds, grid_n, d)
        d = self._shading[2]
        at = fake[:arrows].clone().requires_grad_(True)
        with single_thread():
            (grad,) = torch.autograd.grad(loss.g_loss(self.D(at)), at)
        # G descends its loss: each fake point is pushed along -grad (scaled for drawing, not for length)
        push = -grad / grad.norm(dim=1).max().clamp_min(1e-12)
        manifold = None
        if self.config.noise_dim <= 2:  # every line of the noise grid through G at once, then split
            if self._noise_grid is None:
                lines = _noise_lines(self.config.noise_dim, self.config.prior)
                self._noise_grid = (torch.cat(lines), [len(line) for line in lines])
            with single_thread():
                manifold = list(render(self.G, self._noise_grid[0]).split(self._noise_grid[1]))
        return Toy2DView(real=self.real[:DRAWN_REAL], fake=fake, grid_x=xs, grid_y=ys, d=d,
                         arrow_from=at.detach(), arrow_push=push, manifold=manifold,
                         trails=torch.stack(list(self._trail)), bounds=bounds)

    # --- measurements ----------------------------------------------------------------------------

    def measure(self, seed: int = 0) -> dict:
        """Modes covered and high-quality share (mixture targets), and KL / JS between real and fake
        points as (estimate, error); recorded in the history at the current number of updates."""
        result = self._measurement(self.fake_points(), seed)
        self.history.add(self.updates, result)
        return result

    def start_measurement(self, seed: int = 0) -> bool:
        """``measure()`` of G's points as they are now, on a worker thread, while training goes on;
        ``collect_measurement`` records it. Does nothing (returns False) while one is under way."""
        if self._measuring is not None:
            return False
        # The fakes are computed here, so the worker reads no weight that training is changing.
        self._measuring = (self.updates, _MEASURER.submit(self._measurement, self.fake_points(), seed))
        return True

    def collect_measurement(self, wait: bool = False) -> dict | None:
        """The background measurement's result once it is done (or, with ``wait``, when it is), recorded
        in the history at the update it was started at; None while it runs or when none was started.
        The history is only written here, on the caller's thread, never by the worker."""
        if self._measuring is None or not (wait or self._measuring[1].done()):
            return None
        (updates, future), self._measuring = self._measuring, None
        result = future.result()
        self.history.add(updates, result)
        return result

    @single_thread()  # on the worker thread too: the page's thread and the browser need the other core
    def _measurement(self, fake: torch.Tensor, seed: int) -> dict:
        """``measure()``'s numbers for the points ``fake`` (reads only the fixed real points and target)."""
        real = self.real[torch.randperm(len(self.real), generator=torch.Generator().manual_seed(seed))[:MEASURE_REAL]]
        result: dict = {}
        if torch.isfinite(fake).all():
            result.update({name: (e.value, e.error) for name, e in divergences(real, fake, seed=seed).items()})
        if self.target is not None and self.target.means is not None:
            result.update(toy_mode_metrics(fake, self.target.means, self.target.std,
                                           min_count=math.ceil(MODE_MIN_SHARE * len(fake))))
        return result


def _box(points: torch.Tensor, pad: float = 0.25) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) around ``points``, padded by ``pad`` of its larger side."""
    lo, hi = points.min(0).values, points.max(0).values
    margin = pad * float((hi - lo).max().clamp_min(1e-3))
    return float(lo[0]) - margin, float(hi[0]) + margin, float(lo[1]) - margin, float(hi[1]) + margin
