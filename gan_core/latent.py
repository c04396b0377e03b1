"""Latent-space tools: sampling z, rendering, interpolation, semantic directions, arithmetic.

Everything here is plain torch on the CPU and works with any ``gan_core.models.Generator``:

- ``render``                     G(z) without gradients, in eval mode (BatchNorm running statistics)
- ``lerp`` / ``slerp``           straight-line vs great-circle paths between two z (White 2016)
- ``random_walk``                a smooth path through several random points (Radford et al. 2016, §6.1)
- ``sefa_directions``            closed-form semantic directions from G's first layer (Shen & Zhou 2021)
- ``ganspace_directions``        PCA of early activations, regressed back to z (Härkönen et al. 2020)
- ``direction_strip`` / ``plane_grid``  images along one direction / over a plane of two
- ``vector_arithmetic``          mean(A) - mean(B) + mean(C) on averaged exemplars (Radford et al. 2016, §6.3)
- ``nearest_neighbours``         the closest training images to generated ones (Goodfellow et al. 2014, Fig. 2)
- ``cached_checkpoint``          one loaded model per checkpoint folder (keyed by path and file times)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

# --- sampling and rendering -------------------------------------------------------------------------


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


def _as_batch(z: torch.Tensor, latent_dim: int) -> torch.Tensor:
    """(latent_dim,) or (..., latent_dim) -> (N, latent_dim) float32, with a clear error otherwise."""
    z = torch.as_tensor(z, dtype=torch.float32)
    if z.shape[-1] != latent_dim:
        raise ValueError(f"z has {z.shape[-1]} dimensions but this generator takes {latent_dim}")
    return z.reshape(-1, latent_dim)


@torch.no_grad()
def render(generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """G(z) as a CPU tensor (N, C, H, W) in [-1, 1]; z is (latent_dim,) or (N, latent_dim).

    G runs in eval mode so BatchNorm uses its running statistics: one image does not depend on
    the others in the batch. A generator that was training is put back into training mode.
    """
    was_training = generator.training
    generator.eval()
    try:
        return generator(_as_batch(z, generator.latent_dim)).float().cpu()
    finally:
        generator.train(was_training)


# --- interpolation ----------------------------------------------------------------------------------


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


INTERPOLATIONS: dict[str, Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]] = {
    "lerp": lerp,
    "slerp": slerp,
}


def interpolation(z0: torch.Tensor, z1: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    """The path from z0 to z1 in ``steps`` points (endpoints included) by "lerp" or "slerp"."""
    if method not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {method!r}; choose one of {', '.join(INTERPOLATIONS)}")
    if not 2 <= steps <= 1000:
        raise ValueError(f"an interpolation needs between 2 and 1000 steps, not {steps}")
    return INTERPOLATIONS[method](z0.float(), z1.float(), steps)


def path_norms(path: torch.Tensor) -> torch.Tensor:
    """||z|| at each point of a path (steps, latent_dim): lerp dips, slerp stays near sqrt(d)."""
    return path.norm(dim=-1)


def path_through(points: torch.Tensor, steps: int, method: str = "slerp", closed: bool = True) -> torch.Tensor:
    """A path visiting ``points`` (P, latent_dim) in order, ``steps`` frames per leg (shared
    endpoints counted once). ``closed`` returns to the first point, so an animation loops smoothly."""
    if len(points) < 2:
        raise ValueError("a walk needs at least two points")
    stops = torch.cat([points, points[:1]]) if closed else points
    legs = [interpolation(a, b, steps + 1, method)[:-1] for a, b in zip(stops[:-1], stops[1:])]
    if not closed:
        legs.append(stops[-1:])
    return torch.cat(legs)


def random_walk(latent_dim: int, n_points: int = 4, steps: int = 8, seed: int = 0,
                method: str = "slerp", prior: str = "normal", closed: bool = True) -> torch.Tensor:
    """"Walking in the latent space" (Radford et al. 2016, §6.1): a smooth path through
    ``n_points`` random z. Smooth transitions in the images mean G did not memorise; sharp jumps
    would. Returns (frames, latent_dim)."""
    if not 2 <= n_points <= 64:
        raise ValueError(f"a walk visits between 2 and 64 points, not {n_points}")
    return path_through(sample_latents(n_points, latent_dim, seed, prior), steps, method, closed)


# --- semantic directions ----------------------------------------------------------------------------


def sefa_directions(generator: nn.Module, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form semantic directions (SeFa, Shen & Zhou 2021).

    G's first layer is affine in z: x_1 = A z + b. The unit directions n that change x_1 the most
    maximise ||A n||² = nᵀ AᵀA n, so they are the top eigenvectors of AᵀA. As in the authors'
    code (genforce/sefa, ``factorize_weight``) every row of A (one output unit's weights) is first
    scaled to unit length, so units with large weights do not dominate.

    Returns (directions (k, latent_dim) with orthonormal rows, eigenvalues (k,) in descending order).
    """
    a = generator.latent_projection().detach().double().cpu()  # (out, latent)
    if not 1 <= k <= a.shape[1]:
        raise ValueError(f"k must be between 1 and the latent size {a.shape[1]}, not {k}")
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)
    eigenvalues, eigenvectors = torch.linalg.eigh(a.T @ a)  # ascending; columns are eigenvectors
    order = torch.argsort(eigenvalues, descending=True)[:k]
    return eigenvectors[:, order].T.float().contiguous(), eigenvalues[order].float()


def early_features(generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """The generator's activations after its first non-linearity, flattened: (N, features).

    For a DCGAN that is the projected-and-reshaped z after BatchNorm and ReLU, the layer GANSpace
    (Härkönen et al. 2020) uses for BigGAN.
    """
    activations = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.SiLU, nn.GELU)
    x = _as_batch(z, generator.latent_dim)
    for module in generator.net:
        x = module(x)
        if isinstance(module, activations):
            return x.reshape(len(x), -1)
    raise TypeError("the generator has no non-linearity to take early activations from")


@torch.no_grad()
def ganspace_directions(generator: nn.Module, k: int = 5, n_samples: int = 2000, seed: int = 0,
                        prior: str = "normal") -> tuple[torch.Tensor, torch.Tensor]:
    """Semantic directions by PCA of early activations (GANSpace, Härkönen et al. 2020).

    Sample z_j, compute early activations y_j, take the top-k principal components V of y and
    each sample's coordinates x_j = Vᵀ(y_j - mean). Then, as the paper does for BigGAN, transfer the
    components back to z by least squares: U = argmin Σ_j ||U x_j - z_j||². Each column of U is a z
    direction that moves y along one principal component; we return them scaled to unit length.

    Returns (directions (k, latent_dim), unit rows in order of explained variance; the variance of
    each component (k,), descending).
    """
    latent_dim = generator.latent_dim
    if not 1 <= k <= latent_dim:
        raise ValueError(f"k must be between 1 and the latent size {latent_dim}, not {k}")
    if n_samples < 2 * k:
        raise ValueError(f"n_samples must be at least 2k = {2 * k}, not {n_samples}")
    was_training = generator.training
    generator.eval()
    try:
        z = sample_latents(n_samples, latent_dim, seed, prior)
        y = early_features(generator, z).double()
    finally:
        generator.train(was_training)
    y = y - y.mean(dim=0, keepdim=True)
    # Top-k principal axes of y; the randomised SVD is exact enough and fast for k << features.
    _, s, v = torch.svd_lowrank(y, q=min(k + 10, *y.shape), niter=4)
    v, s = v[:, :k], s[:k]
    x = y @ v  # (n, k) PCA coordinates
    u = torch.linalg.lstsq(x, z.double()).solution.T  # (latent, k): z ≈ U x
    directions = (u / u.norm(dim=0, keepdim=True).clamp_min(1e-12)).T
    return directions.float().contiguous(), (s ** 2 / (n_samples - 1)).float()


DIRECTION_METHODS = {"sefa": sefa_directions, "ganspace": ganspace_directions}


def _unit(direction: torch.Tensor) -> torch.Tensor:
    d = torch.as_tensor(direction, dtype=torch.float32).reshape(-1)
    norm = d.norm()
    if float(norm) == 0.0:
        raise ValueError("a direction must not be the zero vector")
    return d / norm


def direction_latents(z: torch.Tensor, direction: torch.Tensor, steps: int = 7, span: float = 3.0) -> torch.Tensor:
    """z + t·d for ``steps`` values of t from -span to +span (d scaled to unit length)."""
    t = torch.linspace(-span, span, steps).unsqueeze(1)
    return z.reshape(1, -1).float() + t * _unit(direction)


def direction_strip(generator: nn.Module, z: torch.Tensor, direction: torch.Tensor,
                    steps: int = 7, span: float = 3.0) -> torch.Tensor:
    """What one direction does: G(z + t·d) for t from -span to +span, (steps, C, H, W)."""
    return render(generator, direction_latents(z, direction, steps, span))


def plane_latents(z: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor, n: int = 7, span: float = 3.0) -> torch.Tensor:
    """z + a·d1 + b·d2 on an n x n grid of (a, b) in [-span, span]²; row-major, d2 down the rows."""
    t = torch.linspace(-span, span, n)
    b, a = torch.meshgrid(t, t, indexing="ij")
    return z.reshape(1, -1).float() + a.reshape(-1, 1) * _unit(d1) + b.reshape(-1, 1) * _unit(d2)


def plane_grid(generator: nn.Module, z: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor,
               n: int = 7, span: float = 3.0) -> torch.Tensor:
    """Images over the plane spanned by two directions through z: (n*n, C, H, W), row-major
    (d1 varies along each row, d2 down the columns); tile with ``images.make_grid(x, nrow=n)``."""
    if not 2 <= n <= 16:
        raise ValueError(f"the plane grid is n x n with n between 2 and 16, not {n}")
    return render(generator, plane_latents(z, d1, d2, n, span))


# --- vector arithmetic ------------------------------------------------------------------------------


@dataclass
class ArithmeticResult:
    """mean(A) - mean(B) + mean(C) and samples around it (Radford et al. 2016, Figure 7)."""

    mean_a: torch.Tensor  # (latent_dim,)
    mean_b: torch.Tensor
    mean_c: torch.Tensor
    result: torch.Tensor  # (latent_dim,)
    neighbours: torch.Tensor  # (n_neighbours, latent_dim): result + small noise


def vector_arithmetic(z_a: torch.Tensor, z_b: torch.Tensor, z_c: torch.Tensor, n_neighbours: int = 8,
                      noise_scale: float = 0.25, seed: int = 0) -> ArithmeticResult:
    """Averaged-exemplar arithmetic: each group (n_i, latent_dim) is averaged first, because single
    exemplars are unstable (the DCGAN paper averages three per concept). The neighbours add
    uniform noise in [-noise_scale, noise_scale] to the result, as in the paper's Figure 7."""
    groups = {"A": z_a, "B": z_b, "C": z_c}
    means = {}
    for name, z in groups.items():
        z = torch.as_tensor(z, dtype=torch.float32)
        if z.ndim == 1:
            z = z.unsqueeze(0)
        if len(z) == 0:
            raise ValueError(f"group {name} is empty: pick at least one image for it")
        means[name] = z.mean(dim=0)
    dims = {m.shape[0] for m in means.values()}
    if len(dims) != 1:
        raise ValueError(f"the three groups have different latent sizes {sorted(dims)}")
    result = means["A"] - means["B"] + means["C"]
    gen = torch.Generator().manual_seed(int(seed))
    noise = (torch.rand((n_neighbours, result.shape[0]), generator=gen) * 2 - 1) * noise_scale
    return ArithmeticResult(means["A"], means["B"], means["C"], result, result + noise)


# --- memorisation check -----------------------------------------------------------------------------


@dataclass
class Neighbours:
    """The k nearest training images of each query: indices into the training set and distances."""

    indices: torch.Tensor  # (Q, k) long
    distances: torch.Tensor  # (Q, k) float, ascending along each row


def nearest_vectors(queries: torch.Tensor, bank: torch.Tensor, k: int = 5, chunk: int = 8192) -> Neighbours:
    """Exact k nearest rows of ``bank`` (N, F) to each row of ``queries`` (Q, F) by Euclidean distance."""
    queries, bank = queries.reshape(len(queries), -1).float(), bank.reshape(len(bank), -1).float()
    if queries.shape[1] != bank.shape[1]:
        raise ValueError(f"queries have {queries.shape[1]} values each but the training set has {bank.shape[1]}")
    if not 1 <= k <= len(bank):
        raise ValueError(f"k must be between 1 and the training-set size {len(bank)}, not {k}")
    best_d, best_i = [], []
    for start in range(0, len(bank), chunk):  # bounded memory for large training sets
        d = torch.cdist(queries, bank[start:start + chunk])
        kk = min(k, d.shape[1])
        v, i = d.topk(kk, dim=1, largest=False)
        best_d.append(v)
        best_i.append(i + start)
    d, i = torch.cat(best_d, dim=1), torch.cat(best_i, dim=1)
    v, order = d.topk(k, dim=1, largest=False)
    return Neighbours(indices=i.gather(1, order), distances=v)


def nearest_neighbours(query_images: torch.Tensor, train_images: torch.Tensor, k: int = 5,
                       features: Callable[[torch.Tensor], torch.Tensor] | None = None,
                       train_features: torch.Tensor | None = None) -> Neighbours:
    """The k training images closest to each query image (Goodfellow et al. 2014, Figure 2).

    Without ``features`` the distance is pixel L2 on images in [-1, 1]. With ``features`` (a
    function images -> (N, F), e.g. a classifier's penultimate layer) the distance is L2 between
    features, which finds near-copies that are shifted by a pixel or two; pass precomputed
    ``train_features`` to avoid recomputing them for every query.
    """
    if query_images.shape[1:] != train_images.shape[1:]:
        raise ValueError(f"generated images are {tuple(query_images.shape[1:])} but training images are "
                         f"{tuple(train_images.shape[1:])}")
    if features is None:
        return nearest_vectors(query_images, train_images, k)
    with torch.no_grad():
        bank = train_features if train_features is not None else features(train_images)
        return nearest_vectors(features(query_images), bank, k)


# --- model cache ------------------------------------------------------------------------------------


def checkpoint_key(path: str | Path) -> tuple[str, int]:
    """(resolved path, newest modification time in ns of its config and generator files): changes
    whenever the checkpoint is overwritten, so a cache keyed by it never serves stale weights."""
    p = Path(path).resolve()
    files = [p / "config.json", p / "generator.safetensors"] if p.is_dir() else [p]
    return str(p), max((f.stat().st_mtime_ns for f in files if f.exists()), default=0)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int):
    from gan_core.checkpoint import load_checkpoint

    return load_checkpoint(path)


def cached_checkpoint(path: str | Path):
    """``checkpoint.load_checkpoint(path)``, loaded once per (path, modification time) per process.

    The returned models are shared: only run them under ``render`` (eval, no gradients)."""
    return _load_cached(*checkpoint_key(path))
