"""A real GAN on the real line: Algorithm 1 of Goodfellow et al. 2014 (``gan_core.algorithm1``) with two tiny MLPs.

``Toy1DTrainer`` keeps G, D, their optimisers and the history; the app holds one in its session
and calls ``train_d`` / ``g_step`` / ``step`` from buttons, or ``run_for(seconds)`` from a
timer while "Play" is on. ``view()`` returns everything the figure draws: p_data, p_g estimated
from G's samples (a KDE with a fixed bandwidth, binned on a ~400-point grid so it is cheap), the
learned D(x), D*(x) for the estimated p_g, and where a fixed set of z lands (x = G(z)).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import torch
from torch import nn

from gan_core.algorithm1 import Algorithm1, TrainingDiverged, render, sample_prior
from gan_core.device import single_thread
from gan_core.losses import LOSSES, get_loss
from gan_core.toy.optimizers import OPTIMIZERS, make_optimizer
from gan_core.toy.toy1d import (Density, GridDensity, Quadrature, Toy1DError, check_prior,
                                js_divergence, optimal_discriminator, plot_range, prior_quantiles)

GRID_POINTS = 400  # where D, D* and p_g are evaluated for drawing
KDE_SAMPLES = 2000  # G(z) at this many fixed z quantiles estimate p_g
MAPPING_LINES = 25  # z -> G(z) lines drawn under the plot
MAX_SNAPSHOTS = 8
# "Record panels (a)->(d)": D steps for (b), G steps for (c), then iterations of Algorithm 1 until
# Figure 1 (d) is reached (checked every STRIP_CHECK_EVERY iterations), at most STRIP_MAX_ITERATIONS.
STRIP_D_STEPS, STRIP_G_STEPS, STRIP_MAX_ITERATIONS, STRIP_CHECK_EVERY = 200, 25, 6000, 100
# Figure 1 (d): p_g on p_data and D = 1/2, read as JSD <= PANEL_D_JSD and |D - 1/2| <= PANEL_D_GAP
# over the central PANEL_D_MASS of p_data (the "bulk": D is not asked to be 1/2 in the far tails).
# A little inside issue 13's JSD <= 0.03 and 1/2 +- 0.05, so a recorded (d) is clearly there.
PANEL_D_JSD, PANEL_D_GAP, PANEL_D_MASS = 0.02, 0.04, 0.8
PLAY_TICK_BUDGET = 0.02  # seconds of training per Play frame: short, so frames are frequent and Pause is answered at once

@dataclass
class Toy1DConfig:
    """Settings of a 1-D run. Network sizes, prior and seed need a new trainer; the rest can
    change while training (``Toy1DTrainer.apply_settings``)."""

    g_hidden: int = 16  # width of G's two hidden layers
    d_hidden: int = 32  # width of D's two hidden layers
    prior: str = "normal"  # p_z: "uniform" U(-1, 1) or "normal" N(0, 1)
    k: int = 2  # D steps per G step (Algorithm 1's k)
    batch_size: int = 128  # m in Algorithm 1
    # Adam keeps both networks moving when D's gradients shrink near the equilibrium, so the
    # run reaches Figure 1 (d) (measured in BENCHMARKS.md; tests/test_toy1d.py checks it).
    # D a little slower than G keeps the learned D from chasing minibatch noise at the end.
    lr_d: float = 0.0005
    lr_g: float = 0.001
    optimizer: str = "adam"  # "adam" or plain "sgd"
    loss: str = "non-saturating"
    seed: int = 0

    STRUCTURAL = ("g_hidden", "d_hidden", "prior", "seed", "optimizer")

    def validate(self) -> "Toy1DConfig":
        """Raise ``Toy1DError`` with a plain sentence for any setting that cannot work."""
        check_prior(self.prior)
        if self.optimizer not in OPTIMIZERS:
            raise Toy1DError("errors.toy1d.optimizer", name=self.optimizer, choices=", ".join(OPTIMIZERS))
        if self.loss not in LOSSES:
            raise Toy1DError("errors.toy1d.loss", name=self.loss, choices=", ".join(LOSSES))
        for net, width in (("G", self.g_hidden), ("D", self.d_hidden)):
            if not 1 <= width <= 512:
                raise Toy1DError("errors.toy1d.width", net=net, value=width)
        if not 1 <= self.k <= 100:
            raise Toy1DError("errors.toy1d.k", value=self.k)
        if not 1 <= self.batch_size <= 8192:
            raise Toy1DError("errors.toy1d.batch", value=self.batch_size)
        for net, lr in (("D", self.lr_d), ("G", self.lr_g)):
            if not (math.isfinite(lr) and 0 < lr <= 1):
                raise Toy1DError("errors.toy1d.lr", net=net, value=lr)
        return self


PRESETS = {
    # The defaults: p_g settles on p_data and D on 1/2 (Figure 1 (d)).
    "adam": Toy1DConfig(),
    # Plain SGD (D faster than G): stalls near the equilibrium, where D's gradients are tiny and
    # SGD's steps with them; with the minimax loss it also shows G's slow start (tab 3).
    "sgd-stall": Toy1DConfig(optimizer="sgd", lr_d=0.2, lr_g=0.05, prior="uniform"),
}


def build_mlp(hidden: int, activation: type[nn.Module]) -> nn.Sequential:
    """1 -> hidden -> hidden -> 1. G uses Tanh (smooth maps), D LeakyReLU; D's output is a logit."""
    return nn.Sequential(nn.Linear(1, hidden), activation(), nn.Linear(hidden, hidden), activation(),
                         nn.Linear(hidden, 1))


def binned_kde(samples: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian KDE with a fixed bandwidth on an evenly spaced grid: histogram the samples onto
    the grid (linear binning), then convolve with the kernel. O(n + grid), no n x grid matrix."""
    dx = grid[1] - grid[0]
    pos = (samples - grid[0]) / dx
    keep = (pos >= 0) & (pos <= len(grid) - 1)
    pos = pos[keep]
    left = np.minimum(np.floor(pos).astype(int), len(grid) - 2)
    frac = pos - left
    counts = np.bincount(left, 1.0 - frac, len(grid)) + np.bincount(left + 1, frac, len(grid))
    half = int(math.ceil(4 * bandwidth / dx))
    offsets = np.arange(-half, half + 1) * dx
    kernel = np.exp(-0.5 * (offsets / bandwidth) ** 2)
    smooth = np.convolve(counts, kernel / kernel.sum(), mode="same")
    return smooth / (max(len(samples), 1) * dx)


def _diverged(value: float, who: str) -> TrainingDiverged:
    # Raised before the update, so the weights stay the last finite ones and Reset is the way on.
    return TrainingDiverged("errors.train.toy_diverged", who=who)


@dataclass(frozen=True)
class Toy1DView:
    """One frame of the 1-D figure (also what a recorded panel stores)."""

    x: np.ndarray
    p_data: np.ndarray
    p_g: np.ndarray  # KDE of G's samples
    d: np.ndarray  # learned D(x), as a probability
    d_star: np.ndarray  # p_data / (p_data + p_g) for the estimated p_g
    z: np.ndarray  # fixed z values of the mapping lines
    g_of_z: np.ndarray  # G(z)
    jsd: float  # JSD(p_data || estimated p_g)
    d_steps: int
    g_steps: int
    label: str = ""


@dataclass
class Toy1DHistory:
    """Every loss and JSD, indexed by ``updates`` (D steps + G steps so far)."""

    d_updates: list[int] = field(default_factory=list)
    loss_d: list[float] = field(default_factory=list)
    g_updates: list[int] = field(default_factory=list)
    loss_g: list[float] = field(default_factory=list)
    jsd_updates: list[int] = field(default_factory=list)
    jsd: list[float] = field(default_factory=list)

    def series(self, name: str, max_points: int = 1500) -> tuple[np.ndarray, np.ndarray]:
        """(updates, values) for ``name`` in {"loss_d", "loss_g", "jsd"}, thinned to at most
        ``max_points`` (keeping the last point) so long runs stay cheap to draw."""
        xs = {"loss_d": self.d_updates, "loss_g": self.g_updates, "jsd": self.jsd_updates}[name]
        x, y = np.asarray(xs), np.asarray(getattr(self, name))
        if len(x) > max_points:
            idx = np.unique(np.append(np.linspace(0, len(x) - 1, max_points).astype(int), len(x) - 1))
            x, y = x[idx], y[idx]
        return x, y


class Toy1DTrainer:
    """Algorithm 1 on a 1-D ``Density`` with small MLPs (CPU; the networks are tiny)."""

    def __init__(self, data: Density, config: Toy1DConfig | None = None) -> None:
        self.config = (config or Toy1DConfig()).validate()
        c = self.config
        self.data = data
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the app's global RNG
            torch.manual_seed(c.seed)
            self.G = build_mlp(c.g_hidden, nn.Tanh)
            self.D = build_mlp(c.d_hidden, lambda: nn.LeakyReLU(0.2))
        self.opt_d = make_optimizer(c.optimizer, self.D.parameters(), c.lr_d)
        self.opt_g = make_optimizer(c.optimizer, self.G.parameters(), c.lr_g)
        self.torch_rng = torch.Generator().manual_seed(c.seed)  # z for training
        self.numpy_rng = np.random.default_rng(c.seed)  # real samples x ~ p_data
        self.algorithm = Algorithm1(self.G, self.D, self.opt_g, self.opt_d, get_loss(c.loss),
                                    self.sample_x, self.sample_z, on_diverged=_diverged)
        self.kde_z = torch.as_tensor(prior_quantiles(c.prior, KDE_SAMPLES), dtype=torch.float32)[:, None]
        self.line_z = prior_quantiles(c.prior, MAPPING_LINES)
        self.d_steps = 0
        self.g_steps = 0
        self.history = Toy1DHistory()
        self.snapshots: list[Toy1DView] = []
        self._data_range = plot_range(data)
        self._record_jsd()

    @property
    def updates(self) -> int:
        return self.d_steps + self.g_steps

    # --- settings ---------------------------------------------------------------------------

    def apply_settings(self, config: Toy1DConfig) -> bool:
        """Take k, batch size, learning rates and loss from ``config`` now. Returns False (and
        changes nothing) if a structural setting differs, which needs a new trainer."""
        config.validate()
        if any(getattr(config, f) != getattr(self.config, f) for f in Toy1DConfig.STRUCTURAL):
            return False
        self.config = replace(config)
        self.loss = get_loss(config.loss)
        for opt, lr in ((self.opt_d, config.lr_d), (self.opt_g, config.lr_g)):
            for group in opt.param_groups:
                group["lr"] = lr
        return True

    def set_data(self, data: Density) -> None:
        """Train toward a new p_data from now on (G and D keep their weights)."""
        self.data = data
        self._data_range = plot_range(data)

    # --- Algorithm 1 --------------------------------------------------------------------------

    def sample_x(self, m: int) -> torch.Tensor:
        """m real examples x ~ p_data, shape (m, 1)."""
        return torch.as_tensor(self.data.sample(m, self.numpy_rng), dtype=torch.float32)[:, None]

    def sample_z(self, n: int) -> torch.Tensor:
        """n latent values z ~ p_z, shape (n, 1)."""
        return sample_prior(n, 1, self.config.prior, self.torch_rng)

    @single_thread()
    def d_step(self) -> float:
        """One update of D (``Algorithm1.d_step``); returns its loss."""
        loss = self.algorithm.d_step(self.config.batch_size)["loss_d"]
        self.d_steps += 1
        self.history.d_updates.append(self.updates)
        self.history.loss_d.append(loss)
        return loss

    @single_thread()
    def train_d(self, steps: int | None = None) -> float:
        """``steps`` (default k) D steps; returns the last D loss."""
        loss = math.nan
        for _ in range(self.config.k if steps is None else steps):
            loss = self.d_step()
        return loss

    @single_thread()
    def g_step(self) -> float:
        """One update of G on a fresh batch of z, D frozen (``Algorithm1.g_step``); returns its loss."""
        loss = self.algorithm.g_step(self.config.batch_size)["loss_g"]
        self.g_steps += 1
        self.history.g_updates.append(self.updates)
        self.history.loss_g.append(loss)
        self._record_jsd()
        return loss

    @single_thread()
    def step(self) -> tuple[float, float]:
        """One outer iteration of Algorithm 1: k D steps, then one G step. Returns (loss_D, loss_G)."""
        return self.train_d(), self.g_step()

    @single_thread()
    def run_for(self, seconds: float, max_steps: int = 1000) -> int:
        """Outer iterations until ``seconds`` have passed (at least one); returns how many ran.
        A bounded budget keeps each animation tick short, so Pause is answered quickly."""
        start, n = time.perf_counter(), 0
        while n < max_steps and (n == 0 or time.perf_counter() - start < seconds):
            self.step()
            n += 1
        return n

    # --- what the figure shows ---------------------------------------------------------------

    @single_thread()
    def generator_samples(self) -> np.ndarray:
        """G at fixed quantiles of p_z: a deterministic sample of p_g (no flicker between frames)."""
        return render(self.G, self.kde_z).numpy()[:, 0].astype(float)

    def grid(self, g_samples: np.ndarray) -> np.ndarray:
        """The drawing grid: p_data's range joined with where G's samples are, rounded outward to
        multiples of 0.5 so the axes don't jitter from frame to frame."""
        lo, hi = self._data_range
        width = hi - lo
        glo, ghi = np.quantile(g_samples, [0.005, 0.995])
        lo = max(min(lo, glo - 0.1 * width), lo - 3 * width)  # a diverging G can't blow up the grid
        hi = min(max(hi, ghi + 0.1 * width), hi + 3 * width)
        return np.linspace(math.floor(lo * 2) / 2, math.ceil(hi * 2) / 2, GRID_POINTS)

    def bandwidth(self) -> float:
        """The KDE's fixed bandwidth: 2% of p_data's plotted range."""
        lo, hi = self._data_range
        return 0.02 * (hi - lo)

    def estimated_pg(self, g_samples: np.ndarray | None = None) -> GridDensity:
        samples = self.generator_samples() if g_samples is None else g_samples
        x = self.grid(samples)
        return GridDensity(x, binned_kde(samples, x, self.bandwidth()) + 1e-300)

    def _jsd(self, p_g: GridDensity) -> float:
        return js_divergence(self.data, p_g, Quadrature.for_densities(self.data, p_g))

    def _record_jsd(self) -> None:
        self.history.jsd_updates.append(self.updates)
        self.history.jsd.append(self._jsd(self.estimated_pg()))

    @single_thread()
    def view(self, label: str = "") -> Toy1DView:
        """Everything one frame of the figure draws."""
        samples = self.generator_samples()
        p_g = self.estimated_pg(samples)
        x = p_g.x
        with torch.no_grad():
            d = self.algorithm.loss.probability(self.D(torch.as_tensor(x, dtype=torch.float32)[:, None])).numpy()[:, 0]
        g_of_z = render(self.G, torch.as_tensor(self.line_z, dtype=torch.float32)[:, None]).numpy()[:, 0]
        return Toy1DView(x=x, p_data=self.data.pdf(x), p_g=p_g.values, d=d.astype(float),
                         d_star=optimal_discriminator(self.data, p_g, x), z=self.line_z,
                         g_of_z=g_of_z.astype(float), jsd=self._jsd(p_g), d_steps=self.d_steps,
                         g_steps=self.g_steps, label=label)

    def record_snapshot(self, label: str = "") -> Toy1DView:
        """Keep the current frame as a panel (the newest ``MAX_SNAPSHOTS`` are kept). ``label``
        names the panel ("(a)" ... "(d)" for the strip); its step counts and JSD are in the view."""
        snap = self.view(label)
        self.snapshots = (self.snapshots + [snap])[-MAX_SNAPSHOTS:]
        return snap

    def record_figure1_strip(self, d_steps: int = STRIP_D_STEPS, g_steps: int = STRIP_G_STEPS,
                             max_iterations: int = STRIP_MAX_ITERATIONS,
                             on_progress: Callable[[float], None] | None = None) -> list[Toy1DView]:
        """Reproduce Figure 1 (a)->(d) from this run: (a) now; (b) after ``d_steps`` D steps
        (D -> D*); (c) after ``g_steps`` G steps with D held fixed (p_g moves toward where D
        says "real"); (d) after iterations of Algorithm 1 until ``reached_panel_d`` (at most
        ``max_iterations``; the panel's step counts say how many it took).
        ``on_progress(fraction)`` is called now and then during the long last phase."""
        self.snapshots = []
        self.record_snapshot("(a)")
        self.train_d(d_steps)
        self.record_snapshot("(b)")
        for _ in range(g_steps):
            self.g_step()
        self.record_snapshot("(c)")
        for i in range(1, max_iterations + 1):
            self.step()
            if i % STRIP_CHECK_EVERY == 0:
                if on_progress is not None:
                    on_progress(i / max_iterations)
                if reached_panel_d(self.view()):
                    break
        self.record_snapshot("(d)")
        return list(self.snapshots)


def d_gap_over_bulk(view: Toy1DView, mass: float = PANEL_D_MASS) -> float:
    """The largest |D(x) - 1/2| of the learned D over the central ``mass`` of p_data (on the
    view's grid): at Figure 1 (d) D cannot tell p_g from p_data, so this is close to 0."""
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (view.p_data[1:] + view.p_data[:-1]) * np.diff(view.x))])
    cdf /= cdf[-1]
    tail = (1.0 - mass) / 2
    bulk = (cdf >= tail) & (cdf <= 1.0 - tail)
    return float(np.abs(view.d[bulk] - 0.5).max())


def reached_panel_d(view: Toy1DView) -> bool:
    """Whether a frame looks like Figure 1 (d): p_g on p_data and the learned D flat at 1/2."""
    return view.jsd <= PANEL_D_JSD and d_gap_over_bulk(view) <= PANEL_D_GAP
