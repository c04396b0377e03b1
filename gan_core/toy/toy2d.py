"""2-D targets for mode collapse, a user's own points, and divergences between two point clouds.

The targets of the mode-collapse literature (``TARGETS``, a registry keyed by name)::

    ring8       8 Gaussians on a circle (Metz et al. 2017, "Unrolled GANs")
    grid25      25 Gaussians on a 5x5 grid (Srivastava et al. 2017, VEEGAN)
    two-moons   two interleaved half circles
    swiss-roll  a spiral
    gaussian    one Gaussian (nothing to collapse onto: the control)

A target draws points with ``target.sample(n, seed)``; the mixtures also have ``means`` and ``std``
for the mode metrics (``gan_core.evaluation.metrics.toy_mode_metrics``: modes covered, share of
high-quality samples). ``points_from_csv`` reads a user's "x,y" file and refuses anything else with a
plain sentence; ``points_from_drawing`` turns clicks and boxes on a canvas into a target;
``fit_to_networks`` standardises a user's points that are far from the targets' size (the factor is
shown to the student).

Divergences from samples, not from a histogram (GAN Lab bins a few hundred points on a 30x30 grid,
which is biased and noisy): ``knn_kl`` is the k-nearest-neighbour estimator of KL(P || Q) of Wang,
Kulkarni & Verdú (2009), consistent as the samples grow; ``divergences`` gives KL both ways and the
Jensen-Shannon divergence (KL of each side to the mixture M = (P + Q) / 2, whose samples are the two
clouds' other halves pooled), each with its spread over random half-splits as the error bar.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Callable

import torch

from gan_core.i18n import LocalizedError
from gan_core.registry import Registry

MAX_CSV_POINTS = 20_000  # a drawn or uploaded target; more adds nothing to a 2-D picture
MAX_CSV_BYTES = 2_000_000
MIN_CSV_POINTS = 8
MAX_ABS_COORDINATE = 1e6


class Toy2DError(LocalizedError):
    """A 2-D target or setting that cannot work (keys under ``[errors.toy2d]`` of the catalogs)."""


@dataclass(frozen=True)
class Target:
    """A 2-D distribution to learn: ``sampler(n, generator)`` draws (n, 2) float32 points."""

    name: str
    description: str
    sampler: Callable[[int, torch.Generator], torch.Tensor]
    means: torch.Tensor | None = None  # the mixtures' component means (M, 2), for the mode metrics
    std: float | None = None  # and their common standard deviation

    def sample(self, n: int, seed: int | None = 0) -> torch.Tensor:
        gen = torch.Generator()
        gen.manual_seed(int(seed)) if seed is not None else gen.seed()
        return self.sampler(int(n), gen).float()


def _mixture(means: torch.Tensor, std: float) -> Callable[[int, torch.Generator], torch.Tensor]:
    def draw(n: int, gen: torch.Generator) -> torch.Tensor:
        which = torch.randint(len(means), (n,), generator=gen)
        return means[which] + std * torch.randn((n, 2), generator=gen)
    return draw


def ring_means(n_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    angles = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    return torch.stack([radius * angles.cos(), radius * angles.sin()], dim=1).float()


def grid_means(side: int = 5, spacing: float = 1.0) -> torch.Tensor:
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    gy, gx = torch.meshgrid(ticks, ticks, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)


def _two_moons(n: int, gen: torch.Generator) -> torch.Tensor:
    t = torch.rand(n, generator=gen) * math.pi
    upper = torch.rand(n, generator=gen) < 0.5
    x = torch.where(upper, t.cos(), 1 - t.cos())
    y = torch.where(upper, t.sin(), 0.5 - t.sin())
    points = torch.stack([x - 0.5, y - 0.25], dim=1) * 1.5
    return points + 0.06 * torch.randn((n, 2), generator=gen)


def _swiss_roll(n: int, gen: torch.Generator) -> torch.Tensor:
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=gen))
    points = torch.stack([t * t.cos(), t * t.sin()], dim=1) / 7.0
    return points + 0.05 * torch.randn((n, 2), generator=gen)


TARGETS: Registry[Target] = Registry("2-D target")
register_target = TARGETS.register

_RING, _GRID = ring_means(), grid_means()
register_target(Target("ring8", "8 Gaussians on a circle of radius 2 (std 0.05)", _mixture(_RING, 0.05), _RING, 0.05))
register_target(Target("grid25", "25 Gaussians on a 5x5 grid, 1 apart (std 0.05)", _mixture(_GRID, 0.05), _GRID, 0.05))
register_target(Target("two-moons", "two interleaved half circles", _two_moons))
register_target(Target("swiss-roll", "a spiral", _swiss_roll))
register_target(Target("gaussian", "one Gaussian N(0, 0.5² I): nothing to collapse onto", _mixture(torch.zeros(1, 2), 0.5),
                       torch.zeros(1, 2), 0.5))


def get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise Toy2DError("errors.toy2d.unknown_target", name=name, choices=", ".join(TARGETS)) from None


# --- a user's own points ---------------------------------------------------------------------------

def points_from_csv(data: bytes | str) -> torch.Tensor:
    """(N, 2) float32 points from a CSV of "x,y" rows (a header line is allowed); raises ``Toy2DError``.

    Refused with a sentence: a file over ``MAX_CSV_BYTES``, a line the csv module cannot read, a row that
    is not two numbers, NaN or infinite or absurdly large values, fewer than ``MIN_CSV_POINTS`` or more
    than ``MAX_CSV_POINTS`` rows.
    """
    if len(data) > MAX_CSV_BYTES:
        raise Toy2DError("errors.toy2d.csv_too_big", size=len(data), limit=MAX_CSV_BYTES)
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Toy2DError("errors.toy2d.csv_not_text") from None
    points: list[tuple[float, float]] = []
    rows = csv.reader(io.StringIO(data))
    line_no = 1  # where the next row starts (a quoted value may span lines)
    try:
        for row in rows:
            _add_csv_row(points, row, line_no)
            line_no = rows.line_num + 1
    except csv.Error:  # a field over the csv module's limit, ...: a sentence, never the csv module's error
        raise Toy2DError("errors.toy2d.csv_unreadable", line=line_no) from None
    if len(points) < MIN_CSV_POINTS:
        raise Toy2DError("errors.toy2d.csv_too_few", n=len(points), minimum=MIN_CSV_POINTS)
    return torch.tensor(points, dtype=torch.float32)


def _add_csv_row(points: list[tuple[float, float]], row: list[str], line_no: int) -> None:
    """Append one CSV row's point to ``points`` (a blank line or a first-line header adds nothing)."""
    if not row or all(not cell.strip() for cell in row):
        return
    if len(row) != 2:
        raise Toy2DError("errors.toy2d.csv_columns", line=line_no, n=len(row))
    try:
        x, y = float(row[0]), float(row[1])
    except ValueError:
        if line_no == 1 and not points:  # a header such as "x,y"
            return
        raise Toy2DError("errors.toy2d.csv_not_numbers", line=line_no) from None
    if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > MAX_ABS_COORDINATE:
        raise Toy2DError("errors.toy2d.csv_bad_value", line=line_no, limit=f"{MAX_ABS_COORDINATE:g}")
    points.append((x, y))
    if len(points) > MAX_CSV_POINTS:
        raise Toy2DError("errors.toy2d.csv_too_many", limit=f"{MAX_CSV_POINTS:,}")


# The networks, their initialisation and the learning rates are set for the targets' size (points
# within about ±3 of 0). Points far outside it make the first losses overflow at any learning rate
# (±1e6 diverges at step 0), and a cloud a thousandth of that size gives D nothing to tell apart.
USUAL_EXTENT = 10.0  # a user's points within ±this, spread at least USUAL_MIN_SPREAD, are kept as they are
USUAL_MIN_SPREAD = 0.05
RESCALED_SPREAD = 1.0  # the standard deviation of rescaled points (the targets': about 0.5 to 2)


@dataclass(frozen=True)
class Rescaling:
    """How a user's points were moved and scaled for the networks: shown = (x - centre) x factor."""

    centre: tuple[float, float]
    factor: float


def fit_to_networks(points: torch.Tensor) -> tuple[torch.Tensor, Rescaling | None]:
    """A user's (N, 2) points standardised to the targets' size when they are far from it, with the
    ``Rescaling`` used (one factor for both axes, so shapes keep their proportions); ``None`` when the
    points already fit (within ±``USUAL_EXTENT``, spread at least ``USUAL_MIN_SPREAD``) and are kept."""
    centre = points.double().mean(0)
    spread = float((points.double() - centre).std()) if len(points) > 1 else 0.0
    if float(points.abs().max()) <= USUAL_EXTENT and spread >= USUAL_MIN_SPREAD:
        return points, None
    factor = RESCALED_SPREAD / spread if spread > 0 else 1.0  # identical points: moved to 0 only
    moved = ((points.double() - centre) * factor).float()
    return moved, Rescaling((float(centre[0]), float(centre[1])), factor)


POINTS_PER_CLICK = 60  # a click on the canvas drops a small blob, so a few clicks make a trainable target
MAX_BOX_POINTS = 1_000  # a box selection fills its area with up to this many points


def points_from_drawing(clicks: list[tuple[float, float]], boxes: list[tuple[float, float, float, float]] = (),
                        spread: float = 0.05, seed: int = 0) -> torch.Tensor:
    """A target drawn on the canvas: a Gaussian blob of ``POINTS_PER_CLICK`` points (std ``spread``)
    at each click, and uniform points over each box (x0, x1, y0, y1), as many as its share of
    ``MAX_BOX_POINTS`` by area of the largest box, at least 50. Raises ``Toy2DError`` for a drawing
    with too few or too many points or a coordinate that is not a finite number in range."""
    gen = torch.Generator().manual_seed(int(seed))
    values = [v for point in clicks for v in point] + [v for box in boxes for v in box]
    if any(not math.isfinite(float(v)) or abs(float(v)) > MAX_ABS_COORDINATE for v in values):
        raise Toy2DError("errors.toy2d.drawing_bad_value", limit=f"{MAX_ABS_COORDINATE:g}")
    parts = [torch.tensor([[float(x), float(y)]]) + spread * torch.randn((POINTS_PER_CLICK, 2), generator=gen)
             for x, y in clicks]
    areas = [abs((x1 - x0) * (y1 - y0)) for x0, x1, y0, y1 in boxes]
    for (x0, x1, y0, y1), area in zip(boxes, areas):
        n = max(50, round(MAX_BOX_POINTS * area / max(areas))) if max(areas) > 0 else 50
        corner, size = torch.tensor([min(x0, x1), min(y0, y1)]), torch.tensor([abs(x1 - x0), abs(y1 - y0)])
        parts.append(corner + size * torch.rand((n, 2), generator=gen))
    n = sum(len(p) for p in parts)
    if n < MIN_CSV_POINTS:
        raise Toy2DError("errors.toy2d.drawing_empty")
    if n > MAX_CSV_POINTS:
        raise Toy2DError("errors.toy2d.drawing_too_many", limit=f"{MAX_CSV_POINTS:,}")
    return torch.cat(parts).float()


# --- divergences from samples ------------------------------------------------------------------------

def _kth_distance(a: torch.Tensor, b: torch.Tensor, k: int, same: bool) -> torch.Tensor:
    """Distance from each point of ``a`` to its k-th nearest neighbour in ``b`` (itself left out when same)."""
    dist = torch.cdist(a.double(), b.double())
    if same:
        dist.fill_diagonal_(math.inf)
    # the k smallest, then the last of them: the same value as kthvalue, ~6x faster for a small k
    return dist.topk(k, dim=1, largest=False).values[:, -1].clamp_min(1e-12)  # duplicates: no log(0)


def knn_kl(p: torch.Tensor, q: torch.Tensor, k: int = 5) -> float:
    """KL(P || Q) from samples p (n, d) of P and q (m, d) of Q (Wang, Kulkarni & Verdú 2009):

        KL ≈ d/n · Σ_i log(ν_k(i) / ρ_k(i)) + log(m / (n - 1))

    ρ_k(i): distance from p_i to its k-th nearest neighbour among the other p; ν_k(i): among q.
    """
    n, d = p.shape
    m = len(q)
    if n <= k or m < k:
        raise Toy2DError("errors.toy2d.few_samples", n=min(n, m), k=k)
    rho, nu = _kth_distance(p, p, k, same=True), _kth_distance(p, q, k, same=False)
    return float(d * (nu.log() - rho.log()).mean() + math.log(m / (n - 1)))


@dataclass(frozen=True)
class Estimate:
    """A divergence estimated from samples: the mean over random half-splits and their spread."""

    value: float
    error: float  # standard deviation over the splits


def divergences(p: torch.Tensor, q: torch.Tensor, k: int = 5, splits: int = 5, seed: int = 0) -> dict[str, Estimate]:
    """KL(P || Q), KL(Q || P) and JS(P, Q) (natural log: 0 when P = Q, at most log 2 for JS).

    Each split halves both clouds at random: the first halves estimate KL both ways; for JS, the
    second halves pooled are a sample of M = (P + Q) / 2 (equal counts), independent of the first
    halves, and JS = (KL(P || M) + KL(Q || M)) / 2.
    """
    n = min(len(p), len(q))
    if n < 2 * (k + 2):
        raise Toy2DError("errors.toy2d.few_samples", n=n, k=k)
    gen = torch.Generator().manual_seed(seed)
    values: dict[str, list[float]] = {"kl_pq": [], "kl_qp": [], "js": []}
    for _ in range(splits):
        pi, qi = torch.randperm(len(p), generator=gen)[:n], torch.randperm(len(q), generator=gen)[:n]
        half = n // 2
        p1, p2, q1, q2 = p[pi[:half]], p[pi[half:2 * half]], q[qi[:half]], q[qi[half:2 * half]]
        mixture = torch.cat([p2, q2])
        values["kl_pq"].append(knn_kl(p1, q1, k))
        values["kl_qp"].append(knn_kl(q1, p1, k))
        values["js"].append(0.5 * (knn_kl(p1, mixture, k) + knn_kl(q1, mixture, k)))
    out = {name: Estimate(float(torch.tensor(v).mean()), float(torch.tensor(v).std()) if len(v) > 1 else 0.0)
           for name, v in values.items()}
    # the estimate can stray past JS's bounds by its noise: report the mean inside them, the spread as it was
    out["js"] = Estimate(min(max(out["js"].value, 0.0), math.log(2)), out["js"].error)
    return out
