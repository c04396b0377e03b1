"""What a training run will cost in memory, known before it starts, and the refusal of one that cannot fit.

A run holds G's and D's weights with their gradients, Adam's two moments and G_ema (five copies of the
weights), and, during a step, the activations autograd keeps for the backward pass: G's on a batch of z
and D's on the real and the fake batch. The activations are counted exactly by running the real
networks on PyTorch's "meta" device for one image (no memory, milliseconds) and scale with the batch::

    estimate = RUNTIME_MB + 5 * weights + ACTIVATION_FACTOR * (G's + 2 x D's activations per image) * batch

``RUNTIME_MB`` and ``ACTIVATION_FACTOR`` are fitted to the peak resident memory of real runs measured
on this project's CPU (BENCHMARKS.md, "What a run costs"): the estimate is above every measurement,
by at most about 1.5x. A run whose estimate is above ``GAN_MAX_RUN_MB`` is refused before anything is
allocated, with the largest batch that fits: a class server is never taken down by one student's
``batch=4096`` at 64 px.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_core.limits import get_limits
from gan_core.models import ConfigError, ModelConfig, build_networks, model_footprint

RUNTIME_MB = 150.0  # what the first training step adds over the process before it (allocator, kernels)
ACTIVATION_FACTOR = 1.6  # measured peak / counted activations, rounded up (1.0-1.6 measured)
WEIGHT_COPIES = 5  # weights, gradients, Adam's two moments, G_ema


@dataclass(frozen=True)
class RunCost:
    """The memory a run needs, in MiB: fixed (runtime and weights) plus ``per_image_mb`` per image of the batch."""

    fixed_mb: float
    per_image_mb: float

    def megabytes(self, batch_size: int) -> float:
        return self.fixed_mb + self.per_image_mb * batch_size

    def largest_batch(self, limit_mb: float) -> int:
        """The largest batch whose estimate is within ``limit_mb`` (0 when not even one image fits)."""
        return max(0, int((limit_mb - self.fixed_mb) // self.per_image_mb))


def _leaf_outputs(net: nn.Module, x: torch.Tensor) -> int:
    """Numbers every leaf module outputs for ``x`` (the activations autograd keeps, roughly)."""
    total = 0

    def count(module, inputs, output) -> None:
        nonlocal total
        total += output.numel()

    hooks = [m.register_forward_hook(count) for m in net.modules() if not any(True for _ in m.children())]
    try:
        net(x)
    finally:
        for h in hooks:
            h.remove()
    return total


def run_cost(mc: ModelConfig) -> RunCost:
    """The memory a run of this model needs (``RunCost``), from the model alone: nothing is allocated."""
    with torch.device("meta"):
        g, d = build_networks(mc)
        g.train(), d.train()
        per_image = (_leaf_outputs(g, torch.empty(2, mc.latent_dim)) +
                     2 * _leaf_outputs(d, torch.empty(2, mc.channels, mc.image_size, mc.image_size))) / 2
    weights = model_footprint(mc).megabytes
    return RunCost(RUNTIME_MB + WEIGHT_COPIES * weights, ACTIVATION_FACTOR * per_image * 4 / 2**20)


def check_run_cost(mc: ModelConfig, batch_size: int) -> None:
    """Refuse (``ConfigError``) a run whose memory estimate is above ``GAN_MAX_RUN_MB``, naming the
    largest batch that fits."""
    limit = get_limits().max_run_mb
    cost = run_cost(mc)
    need = cost.megabytes(batch_size)
    if need > limit:
        raise ConfigError("errors.train.run_too_big", batch=batch_size, need=f"{need:,.0f}", limit=f"{limit:,}",
                          largest=f"{cost.largest_batch(limit):,}", preset=mc.preset, size=mc.image_size)
