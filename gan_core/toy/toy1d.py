"""The theory of Goodfellow et al. 2014, section 4, on the real line.

For a fixed generator density p_g, the best discriminator is

    D*(x) = p_data(x) / (p_data(x) + p_g(x))                                 (Proposition 1)

and plugging it into the value function gives

    V(D*, G) = E_{p_data}[log D*(x)] + E_{p_g}[log(1 - D*(x))]
             = -log 4 + 2 * JSD(p_data || p_g)                                (Theorem 1)

so V(D*, G) is smallest, -log 4, exactly when p_g = p_data (then D* = 1/2 everywhere).

This module holds small 1-D densities (``Gaussian``, ``Mixture``, ``Uniform``, ``GridDensity``),
a ``Quadrature`` rule that integrates them accurately (composite Gauss-Legendre with the
densities' jumps as panel edges), the divergences, Monte Carlo estimates of V, the saturating vs
non-saturating generator losses, and the four panels of the paper's Figure 1. Everything is
computed in log space so far tails never turn 0 * log 0 into NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np
from scipy.special import logsumexp

from gan_core.algorithm1 import PRIORS
from gan_core.i18n import LocalizedError

LOG4 = math.log(4.0)
_GAUSS_TAIL = 10.0  # a Gaussian is integrated over mean +- 10 std (mass outside: 1.5e-23)


class Toy1DError(LocalizedError):
    """A 1-D density or setting that cannot work (the message says why, in plain words, in the
    reader's language: keys under ``[errors.toy1d]`` of the catalogs)."""


class Density(Protocol):
    """What every 1-D density offers. ``support`` is where it is non-negligible; ``breakpoints``
    are points where the pdf jumps; ``scale`` is its narrowest feature (sets the quadrature step)."""

    def pdf(self, x: np.ndarray) -> np.ndarray: ...
    def logpdf(self, x: np.ndarray) -> np.ndarray: ...
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray: ...
    def support(self) -> tuple[float, float]: ...
    @property
    def breakpoints(self) -> tuple[float, ...]: ...
    @property
    def scale(self) -> float: ...


def _is_finite(value: float) -> bool:
    return math.isfinite(float(value))


@dataclass(frozen=True)
class Gaussian:
    """Normal density N(mean, std^2)."""

    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self) -> None:
        if not _is_finite(self.mean):
            raise Toy1DError("errors.toy1d.mean_finite", value=self.mean)
        if not (_is_finite(self.std) and self.std > 0):
            raise Toy1DError("errors.toy1d.std_positive", value=self.std)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        u = (np.asarray(x, dtype=float) - self.mean) / self.std
        return -0.5 * u * u - math.log(self.std) - 0.5 * math.log(2 * math.pi)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.mean, self.std, size=n)

    def support(self) -> tuple[float, float]:
        return self.mean - _GAUSS_TAIL * self.std, self.mean + _GAUSS_TAIL * self.std

    @property
    def breakpoints(self) -> tuple[float, ...]:
        return ()

    @property
    def scale(self) -> float:
        return self.std


@dataclass(frozen=True)
class Uniform:
    """Uniform density on the interval [low, high]."""

    low: float = -1.0
    high: float = 1.0

    def __post_init__(self) -> None:
        if not (_is_finite(self.low) and _is_finite(self.high) and self.low < self.high):
            raise Toy1DError("errors.toy1d.interval", low=self.low, high=self.high)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        inside = (x >= self.low) & (x <= self.high)
        return np.where(inside, -math.log(self.high - self.low), -np.inf)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    @property
    def breakpoints(self) -> tuple[float, ...]:
        return (self.low, self.high)

    @property
    def scale(self) -> float:
        return self.high - self.low

    @classmethod
    def from_moments(cls, mean: float, std: float) -> "Uniform":
        """The uniform density with this mean and standard deviation (width = std * sqrt(12))."""
        half = math.sqrt(3.0) * std
        return cls(mean - half, mean + half)


@dataclass(frozen=True)
class Mixture:
    """A weighted mixture of Gaussians (weights are normalised to sum to 1)."""

    components: tuple[Gaussian, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.components or len(self.components) != len(self.weights):
            raise Toy1DError("errors.toy1d.mixture_components")
        w = np.asarray(self.weights, dtype=float)
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise Toy1DError("errors.toy1d.mixture_weights", weights=self.weights)
        object.__setattr__(self, "weights", tuple(float(v) for v in w / w.sum()))

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            terms = [np.log(w) + c.logpdf(x) for c, w in zip(self.components, self.weights)]
        return logsumexp(np.stack(terms), axis=0)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        which = rng.choice(len(self.components), size=n, p=np.asarray(self.weights))
        means = np.array([c.mean for c in self.components])[which]
        stds = np.array([c.std for c in self.components])[which]
        return rng.normal(means, stds)

    def support(self) -> tuple[float, float]:
        ends = [c.support() for c in self.components]
        return min(e[0] for e in ends), max(e[1] for e in ends)

    @property
    def breakpoints(self) -> tuple[float, ...]:
        return ()

    @property
    def scale(self) -> float:
        return min(c.std for c in self.components)


class GridDensity:
    """A density known by its values on an increasing grid (e.g. a KDE of G's samples);
    linear in between, zero outside. Normalised on construction."""

    def __init__(self, x: np.ndarray, values: np.ndarray):
        x = np.asarray(x, dtype=float)
        values = np.clip(np.asarray(values, dtype=float), 0.0, None)
        if x.ndim != 1 or x.shape != values.shape or len(x) < 2 or np.any(np.diff(x) <= 0):
            raise Toy1DError("errors.toy1d.grid")
        mass = float(np.trapezoid(values, x))
        if not (mass > 0 and math.isfinite(mass)):
            raise Toy1DError("errors.toy1d.grid_mass")
        self.x, self.values = x, values / mass

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(x, dtype=float), self.x, self.values, left=0.0, right=0.0)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (self.values[1:] + self.values[:-1]) * np.diff(self.x))])
        return np.interp(rng.uniform(0, cdf[-1], size=n), cdf, self.x)

    def support(self) -> tuple[float, float]:
        return float(self.x[0]), float(self.x[-1])

    @property
    def breakpoints(self) -> tuple[float, ...]:
        return (float(self.x[0]), float(self.x[-1]))

    @property
    def scale(self) -> float:
        return float(4 * np.min(np.diff(self.x)))  # one quadrature panel per grid cell


# --------------------------------------------------------------------------- quadrature

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)


@dataclass(frozen=True)
class Quadrature:
    """Nodes ``x`` and weights ``w`` so that sum(w * f(x)) approximates the integral of f."""

    x: np.ndarray
    w: np.ndarray

    def integrate(self, values: np.ndarray) -> float:
        return float(np.dot(self.w, values))

    @classmethod
    def for_densities(cls, *densities: Density, max_panels: int = 20_000) -> "Quadrature":
        """Composite 8-point Gauss-Legendre over the union of the supports, with every jump of
        every density on a panel edge and panels a quarter of the narrowest feature wide."""
        lo = min(d.support()[0] for d in densities)
        hi = max(d.support()[1] for d in densities)
        edges = sorted({lo, hi, *(b for d in densities for b in d.breakpoints if lo < b < hi)})
        width = max(min(d.scale for d in densities) / 4.0, (hi - lo) / max_panels)
        xs, ws = [], []
        for a, b in zip(edges[:-1], edges[1:]):
            n = max(1, math.ceil((b - a) / width))
            panel_edges = np.linspace(a, b, n + 1)
            half = np.diff(panel_edges)[:, None] / 2
            mid = (panel_edges[:-1] + panel_edges[1:])[:, None] / 2
            xs.append((mid + half * _GL_NODES).ravel())
            ws.append((half * _GL_WEIGHTS).ravel())
        return cls(np.concatenate(xs), np.concatenate(ws))


# --------------------------------------------------------------------------- theory

def _quad(p: Density, q: Density, quad: Quadrature | None) -> Quadrature:
    return quad if quad is not None else Quadrature.for_densities(p, q)


def _weighted_log(p: np.ndarray, log_ratio: np.ndarray) -> np.ndarray:
    """p * log_ratio with the convention 0 * anything = 0 (where p = 0 nothing contributes)."""
    safe = np.where(p > 0, log_ratio, 0.0)
    return np.where(p > 0, p * safe, 0.0)


_D_CLIP = 1e-15


def _log_d_and_log_1md(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log D and log(1 - D) for a given D, clipped to [1e-15, 1 - 1e-15]: a D computed in floating
    point rounds to exactly 0 or 1 in far tails, where the other density is negligible anyway."""
    d = np.clip(np.asarray(d, dtype=float), _D_CLIP, 1.0 - _D_CLIP)
    return np.log(d), np.log1p(-d)


def optimal_discriminator(p_data: Density, p_g: Density, x: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)); 1/2 where both densities vanish."""
    lp, lq = p_data.logpdf(x), p_g.logpdf(x)
    both_zero = np.isneginf(lp) & np.isneginf(lq)
    with np.errstate(invalid="ignore"):
        d = np.exp(lp - np.logaddexp(lp, lq))
    return np.where(both_zero, 0.5, d)


def value_function(p_data: Density, p_g: Density,
                   discriminator: Callable[[np.ndarray], np.ndarray] | None = None,
                   quad: Quadrature | None = None) -> float:
    """V(D, G) = ∫ p_data log D + p_g log(1 - D) dx; ``discriminator=None`` means D = D*."""
    quad = _quad(p_data, p_g, quad)
    lp, lq = p_data.logpdf(quad.x), p_g.logpdf(quad.x)
    if discriminator is None:
        with np.errstate(invalid="ignore"):
            lm = np.logaddexp(lp, lq)
            log_d, log_1md = lp - lm, lq - lm
    else:
        log_d, log_1md = _log_d_and_log_1md(discriminator(quad.x))
    return quad.integrate(_weighted_log(np.exp(lp), log_d) + _weighted_log(np.exp(lq), log_1md))


def kl_divergence(p: Density, q: Density, quad: Quadrature | None = None) -> float:
    """KL(p || q) = ∫ p log(p / q) dx; infinite when p has mass where q has none."""
    quad = _quad(p, q, quad)
    lp, lq = p.logpdf(quad.x), q.logpdf(quad.x)
    pv = np.exp(lp)
    if np.any((pv > 0) & np.isneginf(lq)):
        return math.inf
    return max(0.0, quad.integrate(_weighted_log(pv, lp - lq)))


def js_divergence(p: Density, q: Density, quad: Quadrature | None = None) -> float:
    """JSD(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2; between 0 and log 2."""
    quad = _quad(p, q, quad)
    lp, lq = p.logpdf(quad.x), q.logpdf(quad.x)
    with np.errstate(invalid="ignore"):
        lm = np.logaddexp(lp, lq) - math.log(2.0)
    total = _weighted_log(np.exp(lp), lp - lm) + _weighted_log(np.exp(lq), lq - lm)
    return min(math.log(2.0), max(0.0, 0.5 * quad.integrate(total)))


@dataclass(frozen=True)
class TheoryNumbers:
    """The numbers the analytic explorer prints, each by its own numerical integral."""

    value_optimal: float  # V(D*, G)
    jsd: float  # JSD(p_data || p_g)
    kl_data_g: float  # KL(p_data || p_g)
    kl_g_data: float  # KL(p_g || p_data)

    @property
    def identity_rhs(self) -> float:
        """-log 4 + 2 JSD, which Theorem 1 says equals V(D*, G)."""
        return -LOG4 + 2.0 * self.jsd


def theory_numbers(p_data: Density, p_g: Density) -> TheoryNumbers:
    """V(D*, G), JSD and both KLs for a pair of densities (one shared quadrature rule)."""
    quad = Quadrature.for_densities(p_data, p_g)
    return TheoryNumbers(
        value_optimal=value_function(p_data, p_g, None, quad),
        jsd=js_divergence(p_data, p_g, quad),
        kl_data_g=kl_divergence(p_data, p_g, quad),
        kl_g_data=kl_divergence(p_g, p_data, quad),
    )


def plot_range(*densities: Density, pad: float = 0.1, tail: float = 3.5) -> tuple[float, float]:
    """An x-range that shows every density: Gaussians to +- ``tail`` std, intervals whole."""
    lows, highs = [], []
    for d in densities:
        comps = d.components if isinstance(d, Mixture) else (d,)
        for c in comps:
            if isinstance(c, Gaussian):
                lows.append(c.mean - tail * c.std)
                highs.append(c.mean + tail * c.std)
            else:
                lo, hi = c.support()
                lows.append(lo)
                highs.append(hi)
    lo, hi = min(lows), max(highs)
    margin = pad * (hi - lo)
    return lo - margin, hi + margin


# --------------------------------------------------------------------------- generators

def check_prior(prior: str) -> str:
    if prior not in PRIORS:
        raise Toy1DError("errors.toy1d.prior", prior=prior, choices=", ".join(PRIORS))
    return prior


def prior_quantiles(prior: str, n: int) -> np.ndarray:
    """``n`` evenly spread z values (quantiles of p_z): the z-line's tick marks."""
    from scipy.stats import norm

    u = (np.arange(n) + 0.5) / n
    return 2.0 * u - 1.0 if check_prior(prior) == "uniform" else norm.ppf(u)


@dataclass(frozen=True)
class AffineGenerator:
    """G(z) = mean + std * z / std(p_z): p_g then has exactly this mean and std, and is a Gaussian
    for z ~ N(0, 1) or a uniform interval for z ~ U(-1, 1)."""

    mean: float = 0.0
    std: float = 1.0
    prior: str = "normal"

    def __post_init__(self) -> None:
        check_prior(self.prior)
        Gaussian(self.mean, self.std)  # validates mean and std

    @property
    def _gain(self) -> float:
        return self.std * (math.sqrt(3.0) if self.prior == "uniform" else 1.0)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.mean + self._gain * np.asarray(z, dtype=float)

    def density(self) -> Density:
        if self.prior == "uniform":
            return Uniform.from_moments(self.mean, self.std)
        return Gaussian(self.mean, self.std)


# --------------------------------------------------------------------------- Figure 1

@dataclass(frozen=True)
class Figure1Panel:
    """One panel of Goodfellow et al. 2014, Figure 1.

    D(x) = 1/2 + d_training * (D*_ref(x) - 1/2), where D*_ref is optimal for the generator
    ``d_trained_against`` (None: the current one). d_training < 1 draws a partially trained D;
    a past generator draws a D that has not yet caught up with G's last move. What each panel
    shows is explained in the catalogs (``dist.fig1.a`` ... ``dist.fig1.d``)."""

    label: str
    data: Density
    generator: AffineGenerator
    d_training: float = 1.0
    d_trained_against: AffineGenerator | None = None

    def discriminator(self, x: np.ndarray) -> np.ndarray:
        return shown_discriminator(self.data, self.generator, x, self.d_training, self.d_trained_against)


def shown_discriminator(data: Density, generator: AffineGenerator, x: np.ndarray,
                        d_training: float = 1.0, trained_against: AffineGenerator | None = None) -> np.ndarray:
    """The D drawn by the explorer: partially trained toward D* of ``trained_against`` (or of
    the current generator)."""
    if not 0.0 <= d_training <= 1.0:
        raise Toy1DError("errors.toy1d.d_training", value=d_training)
    reference = (trained_against or generator).density()
    return 0.5 + d_training * (optimal_discriminator(data, reference, x) - 0.5)


FIGURE1_DATA = Gaussian(1.0, 0.5)


def figure1_panels(data: Density = FIGURE1_DATA) -> list[Figure1Panel]:
    """The four states (a)-(d) of Figure 1 for a Gaussian-like p_data (mean/std read from it)."""
    mean, std = _moments(data)
    start = AffineGenerator(mean - 1.6 * std, 1.3 * std, "normal")
    moved = AffineGenerator(mean - 0.6 * std, 1.1 * std, "normal")
    done = AffineGenerator(mean, std, "normal")
    return [
        Figure1Panel("(a)", data, start, d_training=0.55),  # near convergence, D partially accurate
        Figure1Panel("(b)", data, start),  # D trained to D*
        Figure1Panel("(c)", data, moved, d_trained_against=start),  # G moved, D still from (b)
        Figure1Panel("(d)", data, done),  # p_g = p_data: D = 1/2
    ]


def _moments(d: Density) -> tuple[float, float]:
    quad = Quadrature.for_densities(d)
    p = d.pdf(quad.x)
    mean = quad.integrate(p * quad.x)
    return mean, math.sqrt(max(quad.integrate(p * (quad.x - mean) ** 2), 1e-12))


# --------------------------------------------------------------------------- losses and expectation

def generator_loss_curves(n: int = 400, eps: float = 1e-3) -> dict[str, np.ndarray]:
    """log(1 - D) (minimax, G minimises it) and -log D (non-saturating) as functions of
    D = D(G(z)) in (0, 1), and their derivatives with respect to D and to D's logit s.

    w.r.t. the logit: d/ds log(1 - sigmoid(s)) = -D (vanishes as D -> 0: saturation);
    d/ds -log sigmoid(s) = -(1 - D) (close to -1 as D -> 0: a strong signal early on)."""
    d = np.linspace(eps, 1.0 - eps, n)
    return {
        "d": d,
        "minimax": np.log1p(-d),
        "non_saturating": -np.log(d),
        "minimax_grad": -1.0 / (1.0 - d),
        "non_saturating_grad": -1.0 / d,
        "minimax_logit_grad": -d,
        "non_saturating_logit_grad": -(1.0 - d),
    }


def monte_carlo_value(p_data: Density, p_g: Density, discriminator: Callable[[np.ndarray], np.ndarray],
                      sizes: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """Monte Carlo estimates of V(D, G) = E_{x~p_data}[log D(x)] + E_{x~p_g}[log(1 - D(x))]
    using the first m of one sample stream, for each m in ``sizes`` (law of large numbers)."""
    sizes = np.asarray(sizes, dtype=int)
    if sizes.size == 0 or np.any(sizes < 1):
        raise Toy1DError("errors.toy1d.mc_sizes")
    m = int(sizes.max())
    real = _log_d_and_log_1md(discriminator(p_data.sample(m, rng)))[0]
    fake = _log_d_and_log_1md(discriminator(p_g.sample(m, rng)))[1]
    real_mean = np.cumsum(real)[sizes - 1] / sizes
    fake_mean = np.cumsum(fake)[sizes - 1] / sizes
    return real_mean + fake_mean


def log_spaced_sizes(max_m: int, n: int = 60) -> np.ndarray:
    """Distinct integer sample sizes from 1 to ``max_m``, evenly spaced on a log axis."""
    if max_m < 1:
        raise Toy1DError("errors.toy1d.mc_max", value=max_m)
    return np.unique(np.round(np.logspace(0, math.log10(max_m), n)).astype(int))
