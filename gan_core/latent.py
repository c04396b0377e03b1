"""Latent-space tools: sampling z, interpolation (lerp / slerp)."""

from __future__ import annotations

import torch


def sample_latents(n: int, latent_dim: int, seed: int | None = 0, prior: str = "normal") -> torch.Tensor:
    """n latent vectors from the prior ("normal": N(0, I); "uniform": U(-1, 1)), reproducible by seed."""
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    if prior == "uniform":
        return torch.rand((n, latent_dim), generator=gen) * 2.0 - 1.0
    if prior != "normal":
        raise ValueError(f"unknown prior {prior!r}; choose normal or uniform")
    return torch.randn((n, latent_dim), generator=gen)


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Straight-line interpolation: (steps, latent_dim), endpoints included."""
    t = torch.linspace(0.0, 1.0, steps, dtype=z0.dtype).unsqueeze(1)
    return (1 - t) * z0.reshape(1, -1) + t * z1.reshape(1, -1)


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Spherical interpolation (White 2016): follows the great circle, so the norm stays near the
    Gaussian shell sqrt(d) instead of dipping in the middle as lerp does. Endpoints included."""
    a, b = z0.reshape(-1), z1.reshape(-1)
    cos = torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if float(omega.sin().abs()) < 1e-6:  # (anti)parallel: the great circle is undefined
        return lerp(z0, z1, steps)
    t = torch.linspace(0.0, 1.0, steps, dtype=z0.dtype).unsqueeze(1)
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
