"""Figures and number formatting for the training page (views only; no training logic).

While a run trains, the page redraws every second: then the charts are SVG pictures (``*_svg``),
built from numpy in a few milliseconds and swapped by the browser as one image each. Rebuilding
four Plotly figures every second cost the server's script thread ~0.3 of a core and the browser
~0.35 (hundreds of DOM changes a second), taken from training on a 2-core machine (BENCHMARKS.md,
time to digits in the browser). Paused, finished or replayed, the charts are interactive Plotly
figures (``*_figure``), drawn once.

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
from views._svg import escape, nice_ticks, stroke, svg_path, text_width
from views._theme import D_COLOR, DATA_COLOR, FONT_FAMILY, GEN_COLOR, current, style

GREY = "#9a9a9a"
MAX_POINTS = 1500  # points per curve of an interactive chart: enough detail to zoom into
# Points per curve of a live picture, sent every second as a data URI: about one per pixel of its plot
# area (a long run's loss chart is ~30 KB instead of ~80 KB at 1,500 points; the browser's CPU time
# did not measurably change, BENCHMARKS.md "Time to digits in the browser").
LIVE_MAX_POINTS = 600


def _layout(fig: go.Figure, title: str, y_title: str, x_title: str | None = None) -> go.Figure:
    # Two charts sit side by side: three quarters of the theme's main-figure height each.
    fig.update_layout(title=title, height=int(current().figure_height * 0.75), margin=dict(l=10, r=10, t=60, b=10),
                      xaxis_title=x_title or t("train.chart.step"), yaxis_title=y_title,
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
                      template="plotly_white")
    return style(fig)


def _curve_lines(steps: np.ndarray, values: np.ndarray, name: str, color: str, dash: str,
                 smoothing: float, max_points: int = MAX_POINTS) -> list[dict]:
    """The lines one curve is drawn with, for Plotly and SVG alike: the faint raw values (no name, no
    legend entry) under the smoothed line, or only the raw values when smoothing is 0; at most
    ``max_points`` points each (smoothed over all the values, then thinned)."""
    idx = thin_indices(len(steps), max_points)
    if smoothing <= 0:
        return [dict(x=steps[idx], y=values[idx], name=name, color=color, dash=dash, width=3)]
    return [dict(x=steps[idx], y=values[idx], color=color, width=1, opacity=0.25),
            dict(x=steps[idx], y=ema(values, smoothing)[idx], name=name, color=color, dash=dash, width=3)]


def _curve(fig: go.Figure, steps: np.ndarray, values: np.ndarray, name: str, color: str, dash: str,
           smoothing: float) -> None:
    """One curve on a Plotly figure (``_curve_lines``); the raw line shows no legend entry and no hover."""
    for line in _curve_lines(steps, values, name, color, dash, smoothing):
        line_style = dict(color=line["color"], dash=line.get("dash", "solid"), width=line["width"])
        if line.get("name"):
            fig.add_scatter(x=line["x"], y=line["y"], mode="lines", name=line["name"], line=line_style)
        else:
            fig.add_scatter(x=line["x"], y=line["y"], mode="lines", name=t("train.chart.raw", name=name),
                            showlegend=False, line=line_style, opacity=line["opacity"], hoverinfo="skip")


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
    # escaped: Plotly reads <a>, <b>, <br> in labels, and a class may be named by a user's sub-folder
    fig = go.Figure(go.Bar(x=[escape(str(c)) for c in class_names], y=shares, marker_color=GEN_COLOR))
    if shares:
        fig.add_hline(y=1.0 / len(shares), line=dict(color=DATA_COLOR, dash="dot"),
                      annotation_text=t("train.chart.balanced"))
    fig.update_yaxes(tickformat=".0%")
    return _layout(fig, t("train.chart.hist_title"), t("train.chart.share"), x_title=t("train.chart.class"))


# --- the same charts as SVG, for the live view ------------------------------------------------------

_SVG_WIDTH = 640  # about the width of one of two side-by-side charts at 1280 px


def _svg_chart(title: str, x_title: str, y_title: str, curves: list[dict], y_range: tuple[float, float] | None = None,
               right_percent: bool = False, hline: tuple[float, str] | None = None, bars: dict | None = None) -> str:
    """One chart as SVG: lines (``curves``: x, y, name, color, dash, width, right) or ``bars`` (labels,
    values, color), a title, axis titles, a legend above the plot, and grid lines at round values.

    Curves with ``right=True`` use a second axis on the right, 0..1 shown as percent."""
    th = current()
    height = int(th.figure_height * 0.75)
    legend_items = [c for c in curves if c.get("name")]
    left, right = 1.6 * th.font + 2.6 * th.tick, (3.6 * th.tick if right_percent else 2 * th.tick)
    x0, x1 = left, _SVG_WIDTH - right
    # the legend above the plot, left to right, wrapping onto a second row when it does not fit
    rows, x = [[]], x0
    for c in legend_items:
        w = text_width(c["name"], th.legend) + 40
        if rows[-1] and x + w > x1:
            rows.append([])
            x = x0
        rows[-1].append((x, c))
        x += w
    top = th.title + 14 + 1.5 * th.legend * len(rows) + 8
    bottom = height - 2.6 * th.font - th.tick
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_SVG_WIDTH} {height}" width="100%" role="img" '
           f'aria-label="{escape(title)}" font-family="{escape(FONT_FAMILY)}" font-size="{th.tick}">',
           f'<rect width="{_SVG_WIDTH}" height="{height}" fill="white"/>',
           f'<text x="8" y="{th.title + 4}" font-size="{th.title}">{escape(title)}</text>',
           f'<text x="{(x0 + x1) / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="{th.font}">{escape(x_title)}</text>',
           f'<text transform="translate({th.font},{(top + bottom) / 2:.1f}) rotate(-90)" text-anchor="middle" '
           f'font-size="{th.font}">{escape(y_title)}</text>']
    for r, row in enumerate(rows):
        y = th.title + 14 + 1.5 * th.legend * (r + 1) - 0.3 * th.legend
        for x, c in row:
            out.append(f'<path d="M{x:.1f},{y - th.legend / 3:.1f} L{x + 26:.1f},{y - th.legend / 3:.1f}" fill="none" '
                       f'{stroke(c, th)}/><text x="{x + 32:.1f}" y="{y:.1f}" font-size="{th.legend}">{escape(c["name"])}</text>')
    if bars is not None:
        values = np.asarray(bars["values"], dtype=float)
        y_lo, y_hi = 0.0, max(float(values.max()) if len(values) else 0.0, y_range[1] if y_range else 0.0) * 1.05 or 1.0
    else:
        ys = [np.asarray(c["y"], dtype=float) for c in curves if not c.get("right")]
        ys = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.zeros(0)
        y_lo, y_hi = y_range if y_range else ((float(ys.min()), float(ys.max())) if len(ys) else (0.0, 1.0))
        if not y_range:
            pad = max((y_hi - y_lo) * 0.05, 1e-3)
            y_lo, y_hi = y_lo - pad, y_hi + pad
    to_y = lambda v, lo=y_lo, hi=y_hi: bottom - (np.asarray(v, dtype=float) - lo) / (hi - lo) * (bottom - top)  # noqa: E731
    for v in nice_ticks(y_lo, y_hi, 5):
        y = float(to_y(v))
        label = f"{v:.0%}" if bars is not None and bars.get("percent") else f"{v:g}"
        out.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{th.grid_color}"/>'
                   f'<text x="{x0 - 6:.1f}" y="{y + th.tick / 3:.1f}" text-anchor="end" fill="#222">{label}</text>')
    if right_percent:
        for v in (0.0, 0.25, 0.5, 0.75, 1.0):
            y = float(to_y(v, 0.0, 1.0))
            out.append(f'<text x="{x1 + 6:.1f}" y="{y + th.tick / 3:.1f}" fill="#222">{v:.0%}</text>')
    if bars is not None:
        n = max(len(values), 1)
        slot = (x1 - x0) / n
        for i, (label, v) in enumerate(zip(bars["labels"], values)):
            bx, by = x0 + i * slot + 0.12 * slot, float(to_y(v))
            out.append(f'<rect x="{bx:.1f}" y="{by:.1f}" width="{0.76 * slot:.1f}" height="{bottom - by:.1f}" '
                       f'fill="{bars["color"]}"/><text x="{x0 + (i + 0.5) * slot:.1f}" y="{bottom + th.tick + 4:.1f}" '
                       f'text-anchor="middle" fill="#222">{escape(str(label))}</text>')
    else:
        xs_all = [np.asarray(c["x"], dtype=float) for c in curves if len(c["x"])]
        x_lo = min(float(x.min()) for x in xs_all) if xs_all else 0.0
        x_hi = max(max(float(x.max()) for x in xs_all) if xs_all else 1.0, x_lo + 1)
        to_x = lambda v: x0 + (np.asarray(v, dtype=float) - x_lo) / (x_hi - x_lo) * (x1 - x0)  # noqa: E731
        for v in nice_ticks(x_lo, x_hi, 5):
            out.append(f'<text x="{float(to_x(v)):.1f}" y="{bottom + th.tick + 4:.1f}" text-anchor="middle" '
                       f'fill="#222">{v:g}</text>')
        for c in curves:
            x, y = np.asarray(c["x"], dtype=float), np.asarray(c["y"], dtype=float)
            keep = np.isfinite(y)
            if not keep.any():
                continue
            py = to_y(y[keep], 0.0, 1.0) if c.get("right") else to_y(np.clip(y[keep], y_lo, y_hi))
            opacity = f' opacity="{c["opacity"]}"' if "opacity" in c else ""
            out.append(f'<path d="{svg_path(to_x(x[keep]), py)}" fill="none" {stroke(c, th)}{opacity}/>')
            if c.get("markers"):
                r = 3.5 * th.marker_scale
                out.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{r:g}" fill="{c["color"]}"/>'
                           for a, b in zip(to_x(x[keep]), py))
    if hline is not None:
        y = float(to_y(hline[0]))
        out.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GREY}" stroke-dasharray="8,4"/>'
                   f'<text x="{x1 - 4:.1f}" y="{y + th.tick + 2:.1f}" text-anchor="end" fill="#555">{escape(hline[1])}</text>')
    out.append("</svg>")
    return "".join(out)


def loss_svg(history: dict[str, np.ndarray], smoothing: float) -> str:
    """``loss_figure`` as SVG (the live view)."""
    curves = (_curve_lines(history["step"], history["loss_d"], t("train.chart.loss_d"), D_COLOR, "dash", smoothing,
                           LIVE_MAX_POINTS)
              + _curve_lines(history["step"], history["loss_g"], t("train.chart.loss_g"), GEN_COLOR, "solid", smoothing,
                             LIVE_MAX_POINTS))
    return _svg_chart(t("train.chart.losses"), t("train.chart.step"), t("train.chart.loss"), curves)


def discriminator_svg(history: dict[str, np.ndarray], smoothing: float) -> str:
    """``discriminator_figure`` as SVG (the live view)."""
    curves = (_curve_lines(history["step"], history["d_real"], t("train.chart.d_real"), DATA_COLOR, "dot", smoothing,
                           LIVE_MAX_POINTS)
              + _curve_lines(history["step"], history["d_fake"], t("train.chart.d_fake"), GEN_COLOR, "solid", smoothing,
                             LIVE_MAX_POINTS))
    return _svg_chart(t("train.chart.d_title"), t("train.chart.step"), t("train.chart.p_real"), curves,
                      y_range=(-0.02, 1.02), hline=(0.5, t("train.chart.half")))


def metrics_svg(rows: list[dict]) -> str:
    """``metrics_figure`` as SVG (the live view): classes covered and Inception Score on the left axis,
    the share of confident samples on the right (percent)."""
    steps = [r["step"] for r in rows]
    curves = []
    if all("classes_covered" in r for r in rows):
        curves.append(dict(x=steps, y=[r["classes_covered"] for r in rows], name=t("train.chart.classes_covered"),
                           color=GEN_COLOR, width=3, markers=True))
    if all("inception_score" in r for r in rows):
        curves.append(dict(x=steps, y=[r["inception_score"] for r in rows], name=t("train.chart.inception_score"),
                           color=D_COLOR, dash="dash", width=3, markers=True))
    if all("confidence" in r for r in rows):
        curves.append(dict(x=steps, y=[r["confidence"] for r in rows], name=t("train.chart.confidence"),
                           color=DATA_COLOR, dash="dot", width=2, markers=True, right=True))
    top = max([r.get("classes_covered", 0) for r in rows] + [r.get("inception_score", 0) for r in rows] + [1])
    return _svg_chart(t("train.chart.quality_title"), t("train.chart.step"), t("train.chart.classes_score"), curves,
                      y_range=(0.0, float(np.ceil(top))), right_percent=any(c.get("right") for c in curves))


def class_histogram_svg(shares: list[float], class_names: list[str]) -> str:
    """``class_histogram_figure`` as SVG (the live view)."""
    balanced = (1.0 / len(shares), t("train.chart.balanced")) if shares else None
    return _svg_chart(t("train.chart.hist_title"), t("train.chart.class"), t("train.chart.share"), [],
                      bars=dict(labels=[str(c) for c in class_names], values=shares, color=GEN_COLOR, percent=True),
                      hline=balanced)


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
