"""Plotly figures and number formatting for the training page (views only; no training logic).

Colours follow Figure 1 of Goodfellow et al. 2014 as everywhere in the app: things about real data
black (dotted), about the generator green (solid), about the discriminator blue (dashed).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from gan_core.diagnostics import ema, thin_indices

BLACK, GREEN, BLUE, GREY = "#000000", "#1a9641", "#1f4e9c", "#9a9a9a"
MAX_POINTS = 1500  # points drawn per curve; enough for the eye, cheap to send every second
FONT = dict(size=16)


def _layout(fig: go.Figure, title: str, y_title: str, height: int = 320) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10), font=FONT,
                      xaxis_title="step", yaxis_title=y_title, legend=dict(orientation="h", y=1.02, x=1,
                                                                            xanchor="right", yanchor="bottom"),
                      template="plotly_white")
    return fig


def _curve(fig: go.Figure, steps: np.ndarray, values: np.ndarray, name: str, color: str, dash: str,
           smoothing: float) -> None:
    """One curve: faint raw values under the smoothed line (raw only when smoothing is 0)."""
    idx = thin_indices(len(steps), MAX_POINTS)
    if smoothing > 0:
        fig.add_scatter(x=steps[idx], y=values[idx], mode="lines", name=f"{name} (raw)", showlegend=False,
                        line=dict(color=color, width=1), opacity=0.25, hoverinfo="skip")
        values = ema(values, smoothing)
    fig.add_scatter(x=steps[idx], y=values[idx], mode="lines", name=name, line=dict(color=color, dash=dash, width=3))


def loss_figure(history: dict[str, np.ndarray], smoothing: float) -> go.Figure:
    """loss_D (blue, dashed) and loss_G (green, solid) over steps."""
    fig = go.Figure()
    _curve(fig, history["step"], history["loss_d"], "loss D", BLUE, "dash", smoothing)
    _curve(fig, history["step"], history["loss_g"], "loss G", GREEN, "solid", smoothing)
    return _layout(fig, "Losses", "loss")


def discriminator_figure(history: dict[str, np.ndarray], smoothing: float) -> go.Figure:
    """D(x) on real images (black, dotted) and D(G(z)) on samples (green), with the 1/2 equilibrium."""
    fig = go.Figure()
    _curve(fig, history["step"], history["d_real"], "D(x), real images", BLACK, "dot", smoothing)
    _curve(fig, history["step"], history["d_fake"], "D(G(z)), generated", GREEN, "solid", smoothing)
    fig.add_hline(y=0.5, line=dict(color=GREY, dash="dash"), annotation_text="1/2: D cannot tell",
                  annotation_position="bottom right")
    fig.update_yaxes(range=[-0.02, 1.02])
    return _layout(fig, "What D believes", "probability 'real'")


def metrics_figure(rows: list[dict]) -> go.Figure:
    """Classifier-judged quality over steps: classes covered and Inception Score (both 0..K)."""
    steps = [r["step"] for r in rows]
    fig = go.Figure()
    if all("classes_covered" in r for r in rows):
        fig.add_scatter(x=steps, y=[r["classes_covered"] for r in rows], mode="lines+markers",
                        name="classes covered (>= 5% of samples)", line=dict(color=GREEN, width=3))
    if all("inception_score" in r for r in rows):
        fig.add_scatter(x=steps, y=[r["inception_score"] for r in rows], mode="lines+markers",
                        name="Inception Score", line=dict(color=BLUE, dash="dash", width=3))
    if all("confidence" in r for r in rows):
        fig.add_scatter(x=steps, y=[r["confidence"] for r in rows], mode="lines+markers", yaxis="y2",
                        name="confident samples (right axis)", line=dict(color=BLACK, dash="dot", width=2))
        fig.update_layout(yaxis2=dict(overlaying="y", side="right", range=[0, 1], tickformat=".0%",
                                      showgrid=False))
    fig = _layout(fig, "Quality judged by a classifier", "classes / score", height=360)
    fig.update_layout(legend=dict(orientation="h", y=-0.25, x=0, xanchor="left", yanchor="top"),
                      margin=dict(l=10, r=10, t=50, b=10))
    return fig


def class_histogram_figure(shares: list[float], class_names: list[str]) -> go.Figure:
    """Share of generated samples per class; the dotted line is a perfectly balanced generator."""
    fig = go.Figure(go.Bar(x=[str(c) for c in class_names], y=shares, marker_color=GREEN))
    if shares:
        fig.add_hline(y=1.0 / len(shares), line=dict(color=BLACK, dash="dot"), annotation_text="balanced")
    fig.update_yaxes(tickformat=".0%")
    fig = _layout(fig, "Which classes G draws", "share of samples")
    fig.update_layout(xaxis_title="class")
    return fig


def duration(seconds: float | None) -> str:
    """'1 min 05 s' style, or '–' when unknown."""
    if seconds is None or not np.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min"


def shape_text(shape) -> str:
    return "×".join(str(s) for s in shape)
