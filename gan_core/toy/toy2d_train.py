"""A GAN on 2-D points: Algorithm 1 of Goodfellow et al. 2014 (``gan_core.algorithm1``) with two MLPs.

``Toy2DTrainer`` learns a ``gan_core.toy.toy2d`` target (or a user's points) with the losses of
``gan_core.losses`` (WGAN-GP included): ``d_step`` / ``g_step`` / ``step`` / ``run_for(seconds)``,
``fake_points()`` (G at a fixed noise batch, so the points move smoothly between frames) and
``measure()`` (modes covered, share of high-quality samples, KL both ways and JS with error bars) and
``view()`` (what a figure draws: D(x) on a grid, the direction the G loss pushes each fake point,
the generator's manifold for 1-D or 2-D noise).

    trainer = Toy2DTrainer(Toy2DConfig(target="ring8"))
    trainer.run_for(1.0)
    trainer.measure()["modes_covered"]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from torch import nn

from gan_core.algorithm1 import PRIORS, Algorithm1, TrainingDiverged, render, sample_prior
from gan_core.evaluation.metrics import toy_mode_metrics
from gan_core.losses import LOSSES, get_loss
from gan_core.toy.toy1d_train import single_thread
from gan_core.toy.toy2d import Toy2DError, divergences, get_target

REAL_POOL = 20_000  # real points drawn once; minibatches are drawn from them
FIXED_FAKES = 1_000  # the fixed noise batch whose images are drawn and measured
MEASURE_REAL = 1_000


@dataclass(frozen=True)
class Toy2DConfig:
    """Settings of a 2-D run (a new trainer for new settings)."""

    target: str = "ring8"
    noise_dim: int = 2  # 1 or 2 shows the generator's manifold; more is allowed
    prior: str = "normal"
    hidden: int = 128  # width of every hidden layer of G and D
    depth: int = 3  # hidden layers of G and D
    k: int = 1  # D steps per G step (Algorithm 1's k)
    batch_size: int = 256
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    loss: str = "non-saturating"
    seed: int = 0

    def validate(self) -> "Toy2DConfig":
        if self.prior not in PRIORS:
            raise Toy2DError("errors.toy2d.prior", prior=self.prior, choices=", ".join(PRIORS))
        if self.loss not in LOSSES:
            raise Toy2DError("errors.toy2d.loss", name=self.loss, choices=", ".join(LOSSES))
        for name, value, low, high in (("noise_dim", self.noise_dim, 1, 64), ("hidden", self.hidden, 1, 1024),
                                       ("depth", self.depth, 1, 8), ("k", self.k, 1, 100),
                                       ("batch_size", self.batch_size, 2, 10_000)):
            if not isinstance(value, int) or not low <= value <= high:
                raise Toy2DError("errors.toy2d.range", name=name, value=value, low=low, high=high)
        for name, lr in (("lr_d", self.lr_d), ("lr_g", self.lr_g)):
            if not 0 < lr <= 1:
                raise Toy2DError("errors.toy2d.range", name=name, value=lr, low=0, high=1)
        return self


def build_mlp(n_in: int, hidden: int, depth: int, n_out: int, activation: type[nn.Module]) -> nn.Sequential:
    """n_in -> (hidden, activation) x depth -> n_out."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(n_in if i == 0 else hidden, hidden), activation()]
    return nn.Sequential(*layers, nn.Linear(hidden, n_out))


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


def _diverged(value: float, who: str) -> TrainingDiverged:
    return TrainingDiverged("errors.train.toy_diverged", who=who)


class Toy2DTrainer:
    """Algorithm 1 on 2-D points with MLPs (CPU, one thread: the networks are small)."""

    def __init__(self, config: Toy2DConfig | None = None, points: torch.Tensor | None = None) -> None:
        self.config = c = (config or Toy2DConfig()).validate()
        self.target = None if points is not None else get_target(c.target)
        gen = torch.Generator().manual_seed(c.seed)
        self.real = points.float() if points is not None else self.target.sample(REAL_POOL, seed=c.seed)
        with torch.random.fork_rng(devices=[]):  # seeded init without touching anyone's global RNG
            torch.manual_seed(c.seed)
            self.G = build_mlp(c.noise_dim, c.hidden, c.depth, 2, nn.ReLU)
            self.D = build_mlp(2, c.hidden, c.depth, 1, lambda: nn.LeakyReLU(0.2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=c.lr_d, betas=c.betas)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=c.lr_g, betas=c.betas)
        self.rng = gen
        self.algorithm = Algorithm1(self.G, self.D, self.opt_g, self.opt_d, get_loss(c.loss),
                                    self.sample_x, self.sample_z, on_diverged=_diverged)
        self.fixed_z = sample_prior(FIXED_FAKES, c.noise_dim, c.prior, torch.Generator().manual_seed(c.seed + 1))
        self.d_steps = self.g_steps = 0

    def sample_x(self, m: int) -> torch.Tensor:
        """m real points, drawn from the pool with replacement."""
        return self.real[torch.randint(len(self.real), (m,), generator=self.rng)]

    def sample_z(self, m: int) -> torch.Tensor:
        return sample_prior(m, self.config.noise_dim, self.config.prior, self.rng)

    @single_thread()
    def d_step(self) -> dict[str, float]:
        self.d_steps += 1
        return self.algorithm.d_step(self.config.batch_size)

    @single_thread()
    def g_step(self) -> dict[str, float]:
        self.g_steps += 1
        return self.algorithm.g_step(self.config.batch_size)

    def step(self) -> dict[str, float]:
        """One iteration of Algorithm 1: k D steps, then one G step."""
        for _ in range(self.config.k):
            report = self.d_step()
        return {**report, **self.g_step()}

    def run_for(self, seconds: float, max_steps: int = 10_000) -> int:
        """Iterations until ``seconds`` have passed (at least one); returns how many ran."""
        start, n = time.perf_counter(), 0
        while n < max_steps and (n == 0 or time.perf_counter() - start < seconds):
            self.step()
            n += 1
        return n

    @single_thread()
    def fake_points(self) -> torch.Tensor:
        """G at the fixed noise batch, (FIXED_FAKES, 2): the same z every frame, so points move smoothly."""
        return render(self.G, self.fixed_z)

    def view(self, grid_n: int = 60, arrows: int = 150, margin: float = 0.5) -> "Toy2DView":
        """Everything a figure of the current state draws (tensors on the CPU)."""
        fake = self.fake_points()
        both = torch.cat([self.real[:2000], fake])
        lo, hi = both.min(0).values - margin, both.max(0).values + margin
        xs, ys = torch.linspace(float(lo[0]), float(hi[0]), grid_n), torch.linspace(float(lo[1]), float(hi[1]), grid_n)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        loss = self.algorithm.loss
        with torch.no_grad(), single_thread():
            d = loss.probability(self.D(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1))).reshape(grid_n, grid_n)
        at = fake[:arrows].clone().requires_grad_(True)
        with single_thread():
            (grad,) = torch.autograd.grad(loss.g_loss(self.D(at)), at)
        # G descends its loss: each fake point is pushed along -grad (scaled for drawing, not for length)
        push = -grad / grad.norm(dim=1).max().clamp_min(1e-12)
        manifold = None
        if self.config.noise_dim <= 2:
            manifold = [render(self.G, line) for line in _noise_lines(self.config.noise_dim, self.config.prior)]
        return Toy2DView(real=self.real[:2000], fake=fake, grid_x=xs, grid_y=ys, d=d,
                         arrow_from=at.detach(), arrow_push=push, manifold=manifold)

    def measure(self, seed: int = 0) -> dict:
        """Modes covered and high-quality share (mixture targets), and KL / JS between real and fake points."""
        fake = self.fake_points()
        real = self.real[torch.randperm(len(self.real), generator=torch.Generator().manual_seed(seed))[:MEASURE_REAL]]
        result: dict = {name: (e.value, e.error) for name, e in divergences(real, fake, seed=seed).items()}
        if self.target is not None and self.target.means is not None:
            result.update(toy_mode_metrics(fake, self.target.means, self.target.std))
        return result
