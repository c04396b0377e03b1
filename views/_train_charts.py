"""Plotly figures and number formatting for the training page (views only; no training logic).

Colours follow Figure 1 of Goodfellow et al. 2014 as everywhere in the app (``views._theme``): things
about real data black (dotted), about the generator green (solid), about the discriminator blue
(dashed). Every figure goes through ``style()`` (projector mode: bigger fonts, thicker lines), and
every word in it comes from the catalog.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from gan_core.evaluation.diagnostics import ema, thin_indices
from views._i18n import t
from views._theme import D_COLOR, DATA_COLOR, GEN_COLOR, current, style

GREY = "#9a9a9a"
MAX_POINTS = 1500  # points drawn per curve; enough for the eye, cheap to send every second


def _layout(fig: go.Figure, title: str, y_title: str, x_title: str | None = None) -> go.Figure:
    # Two charts sit side by side: three quarters of the theme's main-figure height each.
    fig.update_layout(title=title, height=int(current().figure_height * 0.75), margin=dict(l=10, r=10, t=60, b=10),
                      xaxis_title=x_title or t("train.chart.step"), yaxis_title=y_title,
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
                      template="plotly_white")
    return style(fig)


def _curve(fig: go.Figure, steps: np.ndarray, values: np.ndarray, name: str, color: str, dash: str,
           smoothing: float) -> None:
    """One curve: faint raw values under the smoothed line (raw only when smoothing is 0)."""
    idx = thin_indices(len(steps), MAX_POINTS)
    if smoothing > 0:
        fig.add_scatter(x=steps[idx], y=values[idx], mode="lines", name=t("train.chart.raw", name=name),
                        showlegend=False,
                        line=dict(color=color, width=1), opacity=0.25, hoverinfo="skip")
        values = ema(values, smoothing)
    fig.add_scatter(x=steps[idx], y=values[idx], mode="lines", name=name, line=dict(color=color, dash=dash, width=3))


def loss_figure(history: dict[str, np.ndarray], smoothing: float) -> go.Figure:
    """loss_D (blue, dashed) and loss_G (green, solid) over steps."""
    fig = go.Figure()
    _curve(fig, history["step"], history["loss_d"], t("train.chart.loss_d"), D_COLOR, "dash", smoothing)
    _curve(fig, history["step"], history["loss_g"], t("train.chart.loss_g"), GEN_COLOR, "solid", smoothing)
    return _layout(fig, t("train.chart.losses"), t("train.chart.loss"))


def discriminator_figure(history: dict[str, np.ndarray], smoothing: float) -> go.Figure:
    """D(x) on real images (black, dotted) and D(G(z)) on samples (green), with the 1/2 equilibrium."""
    fig = go.Figure()
    _curve(fig, history["step"], history["d_real"], t("train.chart.d_real"), DATA_COLOR, "dot", smoothing)
    _curve(fig, history["step"], history["d_fake"], t("train.chart.d_fake"), GEN_COLOR, "solid", smoothing)
    fig.add_hline(y=0.5, line=dict(color=GREY, dash="dash"), annotation_text=t("train.chart.half"),
                  annotation_position="bottom right")
    fig.update_yaxes(range=[-0.02, 1.02])
    return _layout(fig, t("train.chart.d_title"), t("train.chart.p_real"))


def metrics_figure(rows: list[dict]) -> go.Figure:
    """Classifier-judged quality over steps: classes covered and Inception Score (both 0..K)."""
    steps = [r["step"] for r in rows]
    fig = go.Figure()
    if all("classes_covered" in r for r in rows):
        fig.add_scatter(x=steps, y=[r["classes_covered"] for r in rows], mode="lines+markers",
                        name=t("train.chart.classes_covered"), line=dict(color=GEN_COLOR, width=3))
    if all("inception_score" in r for r in rows):
        fig.add_scatter(x=steps, y=[r["inception_score"] for r in rows], mode="lines+markers",
                        name=t("train.chart.inception_score"), line=dict(color=D_COLOR, dash="dash", width=3))
    if all("confidence" in r for r in rows):
        fig.add_scatter(x=steps, y=[r["confidence"] for r in rows], mode="lines+markers", yaxis="y2",
                        name=t("train.chart.confidence"), line=dict(color=DATA_COLOR, dash="dot", width=2))
        fig.update_layout(yaxis2=dict(overlaying="y", side="right", range=[0, 1], tickformat=".0%",
                                      showgrid=False, tickfont=dict(size=current().tick)))
    fig = _layout(fig, t("train.chart.quality_title"), t("train.chart.classes_score"))
    fig.update_layout(legend=dict(orientation="h", y=-0.25, x=0, xanchor="left", yanchor="top"),
                      margin=dict(l=10, r=10, t=60, b=10))
    return fig


def class_histogram_figure(shares: list[float], class_names: list[str]) -> go.Figure:
    """Share of generated samples per class; the dotted line is a perfectly balanced generator."""
    fig = go.Figure(go.Bar(x=[str(c) for c in class_names], y=shares, marker_color=GEN_COLOR))
    if shares:
        fig.add_hline(y=1.0 / len(shares), line=dict(color=DATA_COLOR, dash="dot"),
                      annotation_text=t("train.chart.balanced"))
    fig.update_yaxes(tickformat=".0%")
    return _layout(fig, t("train.chart.hist_title"), t("train.chart.share"), x_title=t("train.chart.class"))


def duration(seconds: float | None) -> str:
    """'1 min 05 s' style (in the session's language), or '–' when unknown."""
    if seconds is None or not np.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return t("train.duration.seconds", s=seconds)
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return t("train.duration.minutes", m=minutes, s=f"{s:02d}")
    hours, m = divmod(minutes, 60)
    return t("train.duration.hours", h=hours, m=f"{m:02d}")


def shape_text(shape) -> str:
    return "×".join(str(s) for s in shape)
