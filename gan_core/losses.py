"""GAN losses, in a registry keyed by name.

Every discriminator in gan_core outputs an unbounded score (a *logit*); each loss says how to
turn scores into D's loss, G's loss and a probability ``D(x)`` for display.

Sign conventions (both networks *minimise* what is returned here):

- ``minimax``        -- Goodfellow et al. 2014 as written: D maximises log D(x) + log(1 - D(G(z))),
  G minimises log(1 - D(G(z))) ("saturating": flat when D(G(z)) ~ 0, so G learns slowly early on).
- ``non-saturating`` -- same D, but G minimises -log D(G(z)) (the paper's practical fix).
- ``lsgan``          -- least squares (Mao et al. 2017): D regresses real->1, fake->0; G pushes fakes to 1.
- ``hinge``          -- hinge loss (Lim & Ye 2017; Miyato et al. 2018).
- ``wgan-gp``        -- Wasserstein loss with a gradient penalty (Gulrajani et al. 2017): D is a critic,
  its score unbounded; ``GANLoss.penalty`` adds the penalty to D's loss inside Algorithm 1's D step.

Using logits with ``softplus`` keeps log(sigmoid(.)) finite: log D = -softplus(-s),
log(1 - D) = -softplus(s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from gan_core.registry import Registry

Tensor = torch.Tensor


def log_d(score: Tensor) -> Tensor:
    """log D = log sigmoid(score), computed stably."""
    return -F.softplus(-score)


def log_one_minus_d(score: Tensor) -> Tensor:
    """log(1 - D) = log(1 - sigmoid(score)), computed stably."""
    return -F.softplus(score)


def _bce_d_loss(real: Tensor, fake: Tensor, real_target: float) -> Tensor:
    # -(t log D(x) + (1-t) log(1-D(x))) - log(1 - D(G(z))); t < 1 is one-sided label smoothing.
    real_term = real_target * log_d(real) + (1.0 - real_target) * log_one_minus_d(real)
    return -(real_term.mean() + log_one_minus_d(fake).mean())


@dataclass(frozen=True)
class GANLoss:
    """One GAN objective: D's loss, G's loss, and how to read D's score as a probability."""

    name: str
    description: str
    d_loss: Callable[[Tensor, Tensor, float], Tensor]  # (real_scores, fake_scores, real_target)
    g_loss: Callable[[Tensor], Tensor]  # (fake_scores)
    probability: Callable[[Tensor], Tensor] = torch.sigmoid
    # Added to D's loss, from D itself: (D, real batch, fake batch) -> a scalar (e.g. WGAN-GP's penalty).
    penalty: Callable[[torch.nn.Module, Tensor, Tensor], Tensor] | None = None


def gradient_penalty(D: torch.nn.Module, real: Tensor, fake: Tensor, weight: float = 10.0) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): weight · E[(‖∇ D(x̂)‖ - 1)²] on random interpolates x̂ between
    real and fake examples, which keeps D (a critic) close to 1-Lipschitz."""
    eps = torch.rand((len(real),) + (1,) * (real.dim() - 1), device=real.device)
    mixed = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    grad, = torch.autograd.grad(D(mixed).sum(), mixed, create_graph=True)
    return weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


LOSSES: Registry[GANLoss] = Registry("loss")


def register_loss(loss: GANLoss) -> GANLoss:
    """Add a loss under its name (a name that is taken is refused with a ``ValueError``)."""
    return LOSSES.register(loss)


register_loss(GANLoss(
    name="minimax",
    description="Original minimax: G minimises log(1 - D(G(z))). Saturates early in training.",
    d_loss=_bce_d_loss,
    g_loss=lambda fake: log_one_minus_d(fake).mean(),
))
register_loss(GANLoss(
    name="non-saturating",
    description="G minimises -log D(G(z)): same fixed point, strong gradients early (the paper's fix).",
    d_loss=_bce_d_loss,
    g_loss=lambda fake: -log_d(fake).mean(),
))
register_loss(GANLoss(
    name="lsgan",
    description="Least squares: D regresses real to 1 and fake to 0; G pushes D(G(z)) to 1.",
    d_loss=lambda real, fake, t: 0.5 * ((real - t) ** 2).mean() + 0.5 * (fake**2).mean(),
    g_loss=lambda fake: 0.5 * ((fake - 1.0) ** 2).mean(),
    probability=lambda score: score.clamp(0.0, 1.0),
))
register_loss(GANLoss(
    name="hinge",
    description="Hinge: D wants real scores >= t and fake scores <= -1; G raises D's score on fakes.",
    d_loss=lambda real, fake, t: F.relu(t - real).mean() + F.relu(1.0 + fake).mean(),
    g_loss=lambda fake: -fake.mean(),
))


register_loss(GANLoss(
    name="wgan-gp",
    description="Wasserstein with gradient penalty: D (a critic) scores real high and fake low, kept "
                "1-Lipschitz by a penalty on its gradient; G raises the critic's score on fakes.",
    d_loss=lambda real, fake, t: fake.mean() - real.mean(),
    g_loss=lambda fake: -fake.mean(),
    penalty=gradient_penalty,
))


def get_loss(name: str) -> GANLoss:
    """Look a loss up by name; unknown names raise ``ValueError`` listing the choices."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
