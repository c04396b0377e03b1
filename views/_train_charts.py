"""Figures and number formatting for the training page (views only; no training logic).

Each chart is a ``views._charts.Chart`` (``*_chart``). While a run trains, the page redraws every
second: then it is drawn as an SVG picture (``views._charts.svg``), built from numpy in a few
milliseconds and swapped by the browser as one image. Rebuilding four Plotly figures every second
cost the server's script thread ~0.3 of a core and the browser ~0.35 (hundreds of DOM changes a
second), taken from training on a 2-core machine (BENCHMARKS.md, time to digits in the browser).
Paused, finished or replayed, the same chart is an interactive Plotly figure (``figure``), drawn once.

Colours follow Figure 1 of Goodfellow et al. 2014 as everywhere in the app (``views._theme``): things
about real data black (dotted), about the generator green (solid), about the discriminator blue
(dashed). Every figure goes through ``style()`` (projector mode: bigger fonts, thicker lines), and
every word in it comes from the catalog.
"""

from __future__ import annotations

import numpy as np

from gan_core.evaluation.diagnostics import ema, thin_indices
from views._charts import GREY, Bars, Chart, Series
from gan_core.i18n import duration_text
from views._i18n import current_language, t
from views._theme import D_COLOR, DATA_COLOR, GEN_COLOR

MAX_POINTS = 1500  # points per curve of an interactive chart: enough detail to zoom into
# Points per curve of a live picture, sent every second as a data URI: about one per pixel of its plot
# area (a long run's loss chart is ~30 KB instead of ~80 KB at 1,500 points; the browser's CPU time
# did not measurably change, BENCHMARKS.md "Time to digits in the browser").
LIVE_MAX_POINTS = 600


def _curve(steps: np.ndarray, values: np.ndarray, name: str, color: str, dash: str, smoothing: float,
           max_points: int) -> list[Series]:
    """One curve: the faint raw values (no legend entry) under the smoothed line, or only the raw
    values when smoothing is 0; at most ``max_points`` points each (smoothed over all the values,
    then thinned)."""
    idx = thin_indices(len(steps), max_points)
    if smoothing <= 0:
        return [Series(name, steps[idx], values[idx], color, dash, width=3)]
    return [Series(t("train.chart.raw", name=name), steps[idx], values[idx], color, width=1, opacity=0.25,
                   legend=False),
            Series(name, steps[idx], ema(values, smoothing)[idx], color, dash, width=3)]


def loss_chart(history: dict[str, np.ndarray], smoothing: float, max_points: int = MAX_POINTS) -> Chart:
    """loss_D (blue, dashed) and loss_G (green, solid) over steps."""
    steps = history["step"]
    return Chart(t("train.chart.losses"),
                 _curve(steps, history["loss_d"], t("train.chart.loss_d"), D_COLOR, "dash", smoothing, max_points)
                 + _curve(steps, history["loss_g"], t("train.chart.loss_g"), GEN_COLOR, "", smoothing, max_points),
                 x_title=t("train.chart.step"), y_title=t("train.chart.loss"))


def discriminator_chart(history: dict[str, np.ndarray], smoothing: float, max_points: int = MAX_POINTS) -> Chart:
    """D(x) on real images (black, dotted) and D(G(z)) on samples (green), with the 1/2 equilibrium."""
    steps = history["step"]
    return Chart(t("train.chart.d_title"),
                 _curve(steps, history["d_real"], t("train.chart.d_real"), DATA_COLOR, "dot", smoothing, max_points)
                 + _curve(steps, history["d_fake"], t("train.chart.d_fake"), GEN_COLOR, "", smoothing, max_points),
                 x_title=t("train.chart.step"), y_title=t("train.chart.p_real"), y_range=(-0.02, 1.02),
                 hline=(0.5, t("train.chart.half"), GREY, "dash"))


def metrics_chart(rows: list[dict]) -> Chart:
    """Classifier-judged quality over steps: classes covered and Inception Score (both 0..K) on the left
    axis, the share of confident samples on the right (percent)."""
    steps = [r["step"] for r in rows]
    series = []
    if all("classes_covered" in r for r in rows):
        series.append(Series(t("train.chart.classes_covered"), steps, [r["classes_covered"] for r in rows], GEN_COLOR,
                             width=3, markers=True))
    if all("inception_score" in r for r in rows):
        series.append(Series(t("train.chart.inception_score"), steps, [r["inception_score"] for r in rows], D_COLOR,
                             "dash", width=3, markers=True))
    if all("confidence" in r for r in rows):
        series.append(Series(t("train.chart.confidence"), steps, [r["confidence"] for r in rows], DATA_COLOR, "dot",
                             width=2, markers=True, right=True))
    top = max([r.get("classes_covered", 0) for r in rows] + [r.get("inception_score", 0) for r in rows] + [1])
    return Chart(t("train.chart.quality_title"), series, x_title=t("train.chart.step"),
                 y_title=t("train.chart.classes_score"), y_range=(0.0, float(np.ceil(top))), legend_below=True)


def class_histogram_chart(shares: list[float], class_names: list[str]) -> Chart:
    """Share of generated samples per class; the dotted line is a perfectly balanced generator."""
    return Chart(t("train.chart.hist_title"), x_title=t("train.chart.class"), y_title=t("train.chart.share"),
                 y_percent=True, bars=Bars([str(c) for c in class_names], shares, GEN_COLOR),
                 hline=(1.0 / len(shares), t("train.chart.balanced"), DATA_COLOR, "dot") if shares else None)


def kinds_chart(shares, upto: int) -> Chart:
    """How many kinds G generates over a run (rows ``0..upto`` of a ``ClassShares``): the fewest classes
    holding 80% of the samples (8 of 10 when balanced; 2-4 is "only a few kinds"), the classes with a
    fair share, and the share of samples the classifier is sure of (right axis)."""
    steps, summary = list(shares.steps[:upto + 1]), shares.summary
    k = shares.shares.shape[1]
    series = [Series(t("train.chart.kinds_80"), steps, list(summary["classes_for_80_percent"][:upto + 1]), GEN_COLOR,
                     width=3, markers=True),
              Series(t("train.chart.classes_covered"), steps, list(summary["classes_covered"][:upto + 1]), D_COLOR,
                     "dash", width=2),
              Series(t("train.chart.confidence"), steps, list(summary["confidence"][:upto + 1]), DATA_COLOR, "dot",
                     width=2, right=True)]
    return Chart(t("train.chart.kinds_title"), series, x_title=t("train.chart.step"), y_title=t("train.chart.kinds_y"),
                 y_range=(0.0, float(k)), legend_below=True)


def duration(seconds: float | None) -> str:
    """'1 min 05 s' style (in the session's language), or '–' when unknown."""
    return duration_text(seconds, current_language())


def shape_text(shape) -> str:
    return "×".join(str(s) for s in shape)
