"""The optimisers the toy GANs (1-D and 2-D) offer, by name: one table, so the two pages cannot drift.

Plain SGD steps by the gradient itself, which shows the minimax loss's saturation plainly (momentum
made the tiny GANs oscillate and diverge); Adam rescales every step by the gradient's recent size
(DCGAN's beta1 = 0.5 by default); RMSprop is the original WGAN's choice.
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch

ADAM_BETAS = (0.5, 0.999)

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adam": lambda params, lr, betas=ADAM_BETAS: torch.optim.Adam(params, lr=lr, betas=betas),
    "sgd": lambda params, lr, betas=None: torch.optim.SGD(params, lr=lr),
    "rmsprop": lambda params, lr, betas=None: torch.optim.RMSprop(params, lr=lr),
}


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float,
                   betas: tuple[float, float] = ADAM_BETAS) -> torch.optim.Optimizer:
    """The optimiser ``name`` over ``params`` (``betas`` are Adam's; the others ignore them)."""
    return OPTIMIZERS[name](params, lr, betas)
