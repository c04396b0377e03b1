"""Latent-space tools: sampling z, rendering, interpolation, semantic directions, arithmetic.

Everything here is plain torch on the CPU and works with any ``gan_core.models.Generator``:

- ``render``                     G(z) without gradients, in eval mode (BatchNorm running statistics)
- ``lerp`` / ``slerp``           straight-line vs great-circle paths between two z (White 2016)
- ``random_walk``                a smooth path through several random points (Radford et al. 2016, §6.1)
- ``sefa_directions``            closed-form semantic directions from G's first layer (Shen & Zhou 2021)
- ``ganspace_directions``        PCA of early activations, regressed back to z (Härkönen et al. 2020)
- ``direction_latents`` / ``plane_grid``  z along one direction / images over a plane of two
- ``vector_arithmetic``          mean(A) - mean(B) + mean(C) on averaged exemplars (Radford et al. 2016, §6.3)
- ``stroke_width`` / ``slant`` / ``brightness``  measured statistics of generated images
- ``concept_groups``             exemplar groups A, B, C that show one of those statistics as a concept
- ``nearest_neighbours``         the closest training images to generated ones (Goodfellow et al. 2014, Fig. 2)
- ``explorer_settings``          the prior and dataset a checkpoint says it was trained with, checked
- ``cached_checkpoint``          one loaded model per checkpoint folder (keyed by path and file times)

Errors a user can cause (an unknown prior in an uploaded checkpoint, an empty group) are
``LatentError``s: ``str()`` is the English sentence, the app shows it in the page's language.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from gan_core.algorithm1 import PRIORS, eval_mode, sample_prior
from gan_core.algorithm1 import render as render_eval
from gan_core.data.datasets import to_float_images
from gan_core.i18n import LocalizedError


class LatentError(LocalizedError):
    """A latent-space request that cannot be done (bad prior, empty group, ...), with a sentence saying why."""

# --- sampling and rendering -------------------------------------------------------------------------


def sample_latents(n: int, latent_dim: int, seed: int | None = 0, prior: str = "normal") -> torch.Tensor:
    """n latent vectors from the prior ("normal": N(0, I); "uniform": U(-1, 1)), reproducible by seed."""
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    if prior not in PRIORS:
        raise LatentError("errors.latent.unknown_prior", prior=str(prior)[:40], choices=", ".join(PRIORS))
    return sample_prior(n, latent_dim, prior, gen)


def _as_batch(z: torch.Tensor, latent_dim: int) -> torch.Tensor:
    """(latent_dim,) or (..., latent_dim) -> (N, latent_dim) float32, with a clear error otherwise."""
    z = torch.as_tensor(z, dtype=torch.float32)
    if z.shape[-1] != latent_dim:
        raise LatentError("errors.latent.z_dimensions", got=z.shape[-1], expected=latent_dim)
    return z.reshape(-1, latent_dim)


def render(generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """G(z) as a CPU tensor (N, C, H, W) in [-1, 1]; z is (latent_dim,) or (N, latent_dim).

    G runs in eval mode (``gan_core.algorithm1.render``): one image does not depend on the others
    in the batch.
    """
    return render_eval(generator, _as_batch(z, generator.latent_dim))


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
        raise LatentError("errors.latent.unknown_interpolation", method=str(method)[:40],
                          choices=", ".join(INTERPOLATIONS))
    if not 2 <= steps <= 1000:
        raise LatentError("errors.latent.interpolation_steps", steps=steps)
    return INTERPOLATIONS[method](z0.float(), z1.float(), steps)


def path_norms(path: torch.Tensor) -> torch.Tensor:
    """||z|| at each point of a path (steps, latent_dim): lerp dips, slerp stays near sqrt(d)."""
    return path.norm(dim=-1)


def path_through(points: torch.Tensor, steps: int, method: str = "slerp", closed: bool = True) -> torch.Tensor:
    """A path visiting ``points`` (P, latent_dim) in order, ``steps`` frames per leg (shared
    endpoints counted once). ``closed`` returns to the first point, so an animation loops smoothly."""
    if len(points) < 2:
        raise LatentError("errors.latent.walk_points", n=len(points))
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
        raise LatentError("errors.latent.walk_points", n=n_points)
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
        raise LatentError("errors.latent.directions_k", k=k, latent_dim=a.shape[1])
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
    raise LatentError("errors.latent.no_activation")


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
        raise LatentError("errors.latent.directions_k", k=k, latent_dim=latent_dim)
    if n_samples < 2 * k:
        raise LatentError("errors.latent.ganspace_samples", minimum=2 * k, n=n_samples)
    z = sample_latents(n_samples, latent_dim, seed, prior)
    with eval_mode(generator):
        y = early_features(generator, z).double()
    y = y - y.mean(dim=0, keepdim=True)
    # Top-k principal axes of y; the randomised SVD is exact enough and fast for k << features.
    _, s, v = torch.svd_lowrank(y, q=min(k + 10, *y.shape), niter=4)
    v, s = v[:, :k], s[:k]
    x = y @ v  # (n, k) PCA coordinates
    u = torch.linalg.lstsq(x, z.double()).solution.T  # (latent, k): z ≈ U x
    directions = (u / u.norm(dim=0, keepdim=True).clamp_min(1e-12)).T
    return directions.float().contiguous(), (s ** 2 / (n_samples - 1)).float()


def _unit(direction: torch.Tensor) -> torch.Tensor:
    d = torch.as_tensor(direction, dtype=torch.float32).reshape(-1)
    norm = d.norm()
    if float(norm) == 0.0:
        raise LatentError("errors.latent.zero_direction")
    return d / norm


def direction_latents(z: torch.Tensor, direction: torch.Tensor, steps: int = 7, span: float = 3.0) -> torch.Tensor:
    """z + t·d for ``steps`` values of t from -span to +span (d scaled to unit length)."""
    t = torch.linspace(-span, span, steps).unsqueeze(1)
    return z.reshape(1, -1).float() + t * _unit(direction)


def plane_latents(z: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor, n: int = 7, span: float = 3.0) -> torch.Tensor:
    """z + a·d1 + b·d2 on an n x n grid of (a, b) in [-span, span]²; row-major, d2 down the rows."""
    if not 2 <= n <= 16:
        raise LatentError("errors.latent.plane_size", n=n)
    t = torch.linspace(-span, span, n)
    b, a = torch.meshgrid(t, t, indexing="ij")
    return z.reshape(1, -1).float() + a.reshape(-1, 1) * _unit(d1) + b.reshape(-1, 1) * _unit(d2)


def plane_grid(generator: nn.Module, z: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor,
               n: int = 7, span: float = 3.0) -> torch.Tensor:
    """Images over the plane spanned by two directions through z: (n*n, C, H, W), row-major
    (d1 varies along each row, d2 down the columns); tile with ``images.make_grid(x, nrow=n)``."""
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
            raise LatentError("errors.latent.empty_group", group=name)
        means[name] = z.mean(dim=0)
    dims = {m.shape[0] for m in means.values()}
    if len(dims) != 1:
        raise LatentError("errors.latent.group_sizes", sizes=", ".join(map(str, sorted(dims))))
    result = means["A"] - means["B"] + means["C"]
    gen = torch.Generator().manual_seed(int(seed))
    noise = (torch.rand((n_neighbours, result.shape[0]), generator=gen) * 2 - 1) * noise_scale
    return ArithmeticResult(means["A"], means["B"], means["C"], result, result + noise)


# --- concepts measured on generated images ---------------------------------------------------------
# Vector arithmetic needs groups that share a concept. Three statistics a student can see in a digit,
# measured on G's own samples (images in [-1, 1], light strokes on a dark background as in MNIST).


def _ink(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> ink in [0, 1], (N, H, W) (channels averaged)."""
    return ((images.float().clamp(-1, 1) + 1) / 2).mean(dim=1)


def stroke_width(images: torch.Tensor) -> torch.Tensor:
    """Mean stroke width in pixels, (N,): 2 x ink area / ink outline length.

    A stroke of width w and length L has area wL and an outline of about 2L, so the ratio is w
    whatever the digit's size or shape; the outline is the total variation of the ink (its summed
    horizontal and vertical changes), which is the perimeter for a sharp binary image.
    """
    ink = _ink(images)
    area = ink.sum(dim=(1, 2))
    outline = (ink[:, 1:, :] - ink[:, :-1, :]).abs().sum(dim=(1, 2)) + \
        (ink[:, :, 1:] - ink[:, :, :-1]).abs().sum(dim=(1, 2))
    return 2 * area / outline.clamp_min(1e-6)


def slant(images: torch.Tensor) -> torch.Tensor:
    """How far the ink leans to the right, (N,): horizontal shift per pixel upwards (0 = upright).

    The ink-weighted regression of column on row, as MNIST's deskewing uses (a shear of -slant
    makes the digit upright). Rows grow downwards, so a right-leaning digit has a negative covariance.
    """
    ink = _ink(images)
    n, h, w = ink.shape
    rows = torch.arange(h, dtype=ink.dtype).reshape(1, h, 1)
    cols = torch.arange(w, dtype=ink.dtype).reshape(1, 1, w)
    mass = ink.sum(dim=(1, 2)).clamp_min(1e-6)
    r0 = (ink * rows).sum(dim=(1, 2)) / mass
    c0 = (ink * cols).sum(dim=(1, 2)) / mass
    dr, dc = rows - r0.reshape(n, 1, 1), cols - c0.reshape(n, 1, 1)
    cov = (ink * dr * dc).sum(dim=(1, 2)) / mass
    var = (ink * dr * dr).sum(dim=(1, 2)) / mass
    return -cov / var.clamp_min(1e-6)


def brightness(images: torch.Tensor) -> torch.Tensor:
    """Mean ink per pixel in [0, 1], (N,): how much of the image is lit."""
    return _ink(images).mean(dim=(1, 2))


IMAGE_STATISTICS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "thickness": stroke_width,
    "slant": slant,
    "brightness": brightness,
}


def confident_labels(probs: torch.Tensor, threshold: float = 0.9) -> torch.Tensor:
    """A classifier's label for each image, or -1 where its top probability is below ``threshold``."""
    confidence, labels = probs.max(dim=1)
    return torch.where(confidence >= threshold, labels, torch.full_like(labels, -1))


@dataclass
class ConceptGroups:
    """Exemplar groups for mean(A) - mean(B) + mean(C) that demonstrate one measured concept.

    A and B are the samples with the highest and lowest values of a statistic, many of them and of
    every class, so that in mean(A) - mean(B) what the digits are averages out and only the concept
    is left (e.g. "thicker"). C is a few low-value samples of one class, so the result should be
    C's class with the concept added (thin 1s + (thick - thin) = thick 1s). Indices into the samples.
    """

    a: list[int]
    b: list[int]
    c: list[int]
    class_c: int | None  # the class of C (None without labels)


def concept_groups(values: torch.Tensor, labels: torch.Tensor | None = None, per_group: int = 32,
                   per_c: int = 3) -> ConceptGroups:
    """Pick groups A, B, C from samples by a measured statistic ``values`` (N,).

    A: the ``per_group`` highest values, highest first; B: the ``per_group`` lowest, lowest first.
    C comes from the rest: with ``labels`` (N,; -1 for unknown, see ``confident_labels``) the
    ``per_c`` lowest of the class whose ``per_c`` lowest values are lowest (classes with fewer
    labelled samples left are skipped); without labels, or when no class has enough, the single
    lowest sample left (averaging different classes would only blur C).
    """
    values = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if per_group < 1 or per_c < 1 or len(values) < 2 * per_group + 1:
        raise LatentError("errors.latent.concept_samples", n=len(values), minimum=2 * per_group + 1)
    order = torch.argsort(values, stable=True)  # ascending
    a, b, rest = order[-per_group:].flip(0), order[:per_group], order[per_group:-per_group]
    if labels is not None:
        labels = torch.as_tensor(labels).reshape(-1)
        by_class = {int(c): rest[labels[rest] == c] for c in labels[rest].unique().tolist() if c >= 0}
        lows = {c: float(values[idx[:per_c]].mean()) for c, idx in by_class.items() if len(idx) >= per_c}
        if lows:
            q = min(sorted(lows), key=lows.__getitem__)
            return ConceptGroups(a=a.tolist(), b=b.tolist(), c=by_class[q][:per_c].tolist(), class_c=q)
    return ConceptGroups(a=a.tolist(), b=b.tolist(), c=rest[:1].tolist(), class_c=None)


# --- memorisation check -----------------------------------------------------------------------------


@dataclass
class Neighbours:
    """The k nearest training images of each query: indices into the training set and distances."""

    indices: torch.Tensor  # (Q, k) long
    distances: torch.Tensor  # (Q, k) float, ascending along each row


def nearest_vectors(queries: torch.Tensor, bank: torch.Tensor, k: int = 5, chunk: int = 8192) -> Neighbours:
    """Exact k nearest rows of ``bank`` (N, F) to each row of ``queries`` (Q, F) by Euclidean distance.

    uint8 rows are pixels: they are compared in [-1, 1] (``to_float_images``), one chunk at a time.
    """
    queries, bank = to_float_images(queries.reshape(len(queries), -1)), bank.reshape(len(bank), -1)
    if queries.shape[1] != bank.shape[1]:
        raise LatentError("errors.latent.feature_sizes", got=queries.shape[1], expected=bank.shape[1])
    if not 1 <= k <= len(bank):
        raise LatentError("errors.latent.neighbours_k", k=k, n=len(bank))
    best_d, best_i = [], []
    for start in range(0, len(bank), chunk):  # bounded memory for large training sets
        d = torch.cdist(queries, to_float_images(bank[start:start + chunk]))
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
        raise LatentError("errors.latent.image_shapes", generated=str(tuple(query_images.shape[1:])),
                          training=str(tuple(train_images.shape[1:])))
    if features is None:
        return nearest_vectors(query_images, train_images, k)
    with torch.no_grad():
        bank = train_features if train_features is not None else features(train_images)
        return nearest_vectors(features(query_images), bank, k)


# --- model cache ------------------------------------------------------------------------------------


def explorer_settings(config: dict) -> tuple[str, str | None]:
    """(prior, dataset name) that a checkpoint's config.json says G was trained with, checked.

    The prior decides how z is drawn, so one the explorer cannot sample is refused here, when the
    checkpoint is opened, not later in the middle of a figure. A missing prior means "normal" (the
    default of every preset); a dataset name that is not a string is treated as unknown.
    """
    train = config.get("train", {})
    if train is None:
        train = {}
    if not isinstance(train, dict):
        raise LatentError("errors.latent.train_config", kind=type(train).__name__)
    prior = train.get("prior", "normal")
    if not isinstance(prior, str) or prior not in PRIORS:
        raise LatentError("errors.latent.unknown_prior", prior=str(prior)[:40], choices=", ".join(PRIORS))
    dataset = config.get("dataset")
    name = dataset.get("name") if isinstance(dataset, dict) else None
    return prior, (name if isinstance(name, str) and name else None)


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
