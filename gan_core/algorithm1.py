"""Algorithm 1 of Goodfellow et al. 2014, once, for every GAN this app trains.

    for number of training iterations:
        for k steps:                                   -> Algorithm1.d_step()
            sample minibatch of m noise samples z from the noise prior p_z
            sample minibatch of m examples x from the data generating distribution p_data
            update D by ascending its stochastic gradient of
                1/m Σ [log D(x) + log(1 - D(G(z)))]
        sample minibatch of m noise samples z          -> Algorithm1.g_step()
        update G by descending its stochastic gradient of
            1/m Σ log(1 - D(G(z)))     (or another loss from gan_core.losses)

``Algorithm1`` holds the two updates, parameterised by the models and their optimisers, the data
sampler, the noise sampler and the loss; the image ``Trainer`` (gan_core.trainer) and the toy
GANs (``ToyGAN``, gan_core.toy.toy_gan) decide how many of each to run and what to record. The
paper on k: "The number of steps to apply to the discriminator, k, is a hyperparameter. We used
k = 1, the least expensive option, in our experiments."

This module also holds the noise priors p_z, the one way z is drawn (``sample_prior``), and the one
way samples are rendered (``render``: G in eval mode, without gradients).
"""

from __future__ import annotations

import contextlib
import math
from typing import Callable, Iterator

import torch
from torch import nn

from gan_core.i18n import LocalizedError
from gan_core.precision import Precision

PRIORS = ("normal", "uniform")  # p_z: N(0, I) or U(-1, 1)
# A loss this large is not a bad minibatch but a run that has blown up (a learning rate of 1e3 gives
# ~1e6 within a few steps), even while it is still finite. Every registered loss stays far below it
# in a working run: BCE-based losses grow like |logit|, least squares like logit².
MAX_ABS_LOSS = 1e4


class TrainingDiverged(LocalizedError):
    """A loss became NaN, infinite or absurdly large; training stopped with a consistent state.

    ``step`` is the step the trainer is at afterwards (weights, optimiser states and counters all
    belong to it): a caller that recorded metrics for later steps drops them.
    """

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key, **params)
        self.step = int(params.get("step", 0))


def sample_prior(n: int, latent_dim: int, prior: str, generator: torch.Generator) -> torch.Tensor:
    """n latent vectors z ~ p_z, shape (n, latent_dim), on the CPU: "normal" N(0, I), "uniform" U(-1, 1).

    The caller checks ``prior`` against ``PRIORS`` with its own error message.
    """
    if prior == "uniform":
        return torch.rand((n, latent_dim), generator=generator) * 2.0 - 1.0
    return torch.randn((n, latent_dim), generator=generator)


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode inside the block (BatchNorm uses its running statistics, so one sample
    does not depend on the others in its batch); a module that was training is put back afterwards."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


@torch.no_grad()
def render(generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """G(z) in eval mode, without gradients, as a float32 CPU tensor."""
    with eval_mode(generator):
        return generator(z).float().cpu()


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Temporarily stop gradients into ``module``'s parameters (D during the G step)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


class Algorithm1:
    """The D step and the G step of Algorithm 1 for one pair of models.

    ``sample_real(m)`` returns m real examples x; ``sample_z(m)`` m latent vectors z; ``augment``
    is what D sees of any batch, real or fake (identity by default). When a loss is NaN, infinite or
    beyond ``MAX_ABS_LOSS``, before any optimiser step (the weights are still those of the last
    completed update), ``on_diverged(value, who)`` puts the caller's state in order and returns the
    exception that stops training.

    With ``reuse_fake`` (k = 1 only) the G step reuses the D step's G(z), graph included, instead of
    drawing fresh z and running G again, as pytorch/examples' DCGAN does: one G forward per
    iteration instead of two.

    Under torchrun (``gan_core.distributed``) G and D arrive wrapped in DistributedDataParallel and
    the samplers give this rank's slice of the batch; ``mean_over_ranks`` makes the reported numbers
    (and the divergence check) the same on every rank. The updates below do not change.

    With ``defer_checks`` on (``Trainer.run_steps``: a GPU must not wait for the host every step) the
    updates read nothing back: they return their numbers as tensors on the device and leave each loss
    in ``pending_losses`` for the caller to check for divergence later, all at once.

    ``precision`` (``gan_core.precision``, ``--amp``) runs the forward passes in bfloat16 or float16
    and, for float16, scales each backward pass; the default is float32 throughout.
    """

    def __init__(self, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
                 loss, sample_real: Callable[[int], torch.Tensor], sample_z: Callable[[int], torch.Tensor], *,
                 on_diverged: Callable[[float, str], Exception],
                 augment: Callable[[torch.Tensor], torch.Tensor] = _identity,
                 real_target: float = 1.0, reuse_fake: bool = False,
                 mean_over_ranks: Callable[[torch.Tensor], torch.Tensor] = _identity,
                 precision: Precision | None = None) -> None:
        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d
        # D's own module (the same weights): D is fixed in the G step, so its forward there needs no
        # gradient sync across ranks; WGAN-GP's penalty differentiates through it twice, which
        # DistributedDataParallel does not support (its parameter gradients still reach the sync).
        self.D_fixed = getattr(D, "module", D)
        self.mean_over_ranks = mean_over_ranks
        self.precision = precision or Precision()
        self.defer_checks = False
        self.pending_losses: list[tuple[str, torch.Tensor]] = []  # (who, loss) not yet checked (defer_checks)
        self.loss = loss
        self.sample_real, self.sample_z, self.augment = sample_real, sample_z, augment
        self.on_diverged = on_diverged
        self.real_target = real_target  # 1 - one-sided label smoothing
        self.reuse_fake = reuse_fake
        self.kept_fake: torch.Tensor | None = None  # the D step's G(z), kept for the G step (reuse_fake)

    def d_step(self, m: int) -> dict[str, float]:
        """Update D by ascending log D(x) + log(1 - D(G(z))) (by descending the loss's ``d_loss``)."""
        x = self.sample_real(m)
        z = self.sample_z(len(x))
        with self.precision.autocast():
            if self.reuse_fake:
                # D sees the batch detached, so G is still fixed while D learns; the graph is kept for the G step.
                self.kept_fake = self.G(z)
                fake = self.kept_fake.detach()
            else:
                with torch.no_grad():
                    fake = self.G(z)  # G is fixed while D learns
            real_scores, fake_scores = self.D(self.augment(x)), self.D(self.augment(fake))
        real_scores, fake_scores = real_scores.float(), fake_scores.float()
        loss_d = self.loss.d_loss(real_scores, fake_scores, self.real_target)
        if self.loss.penalty is not None:  # a term from D itself (WGAN-GP's gradient penalty)
            loss_d = loss_d + self.loss.penalty(self.D_fixed, x, fake.float())
        with torch.no_grad():
            numbers = self.mean_over_ranks(torch.stack([
                loss_d.detach(), self.loss.probability(real_scores).mean(), self.loss.probability(fake_scores).mean()]))
        self.stop_if_diverged(numbers[0], "D")
        self.opt_d.zero_grad(set_to_none=True)
        self.precision.backward(loss_d, self.opt_d)  # loss_d.backward() (scaled for float16)
        self.precision.step(self.opt_d)  # self.opt_d.step()
        loss_value, d_real, d_fake = numbers if self.defer_checks else numbers.tolist()
        return {"loss_d": loss_value, "d_real": d_real, "d_fake": d_fake}

    def g_step(self, m: int) -> dict[str, float]:
        """Update G by descending the loss's ``g_loss`` on m fresh samples G(z), D fixed.

        Section 3 of the paper: "Rather than training G to minimize log(1 - D(G(z))) we can train G
        to maximize log D(G(z)). This objective function results in the same fixed point of the
        dynamics of G and D but provides much stronger gradients early in learning." That is the
        "non-saturating" loss, the default; "minimax" is the first one.
        """
        with self.precision.autocast():
            if self.kept_fake is not None:  # reuse_fake: the D step's G(z), graph included
                fake, self.kept_fake = self.kept_fake, None
            else:
                fake = self.G(self.sample_z(m))
            with frozen(self.D_fixed):  # D is fixed while G learns (and its weight gradients are not needed)
                scores = self.D_fixed(self.augment(fake))
        loss_g = self.loss.g_loss(scores.float())
        loss_value = self.mean_over_ranks(loss_g.detach())
        self.stop_if_diverged(loss_value, "G")
        self.opt_g.zero_grad(set_to_none=True)
        self.precision.backward(loss_g, self.opt_g)  # loss_g.backward() (scaled for float16)
        self.precision.step(self.opt_g)  # self.opt_g.step()
        return {"loss_g": loss_value if self.defer_checks else loss_value.item()}

    def stop_if_diverged(self, loss: torch.Tensor, who: str) -> None:
        """Before an update: a NaN, infinite or absurdly large loss stops training (``on_diverged``).
        With ``defer_checks`` the loss is kept for the caller's later check instead."""
        if self.defer_checks:
            self.pending_losses.append((who, loss.detach().reshape(())))
            return
        value = loss.item()
        if math.isfinite(value) and abs(value) <= MAX_ABS_LOSS:
            return
        self.kept_fake = None  # it belongs to the step being abandoned
        raise self.on_diverged(value, who)
