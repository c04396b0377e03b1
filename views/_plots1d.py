"""Plotly figures for the "How a GAN matches distributions" page (drawing only, no maths).

Styling follows Goodfellow et al. 2014, Figure 1: p_data black dotted, p_g green solid, D blue
dashed; the z-line is drawn below the x-line, with thin lines showing where x = G(z) lands.
Figures are built from plain dicts and ``go.Figure`` once (``make_subplots`` is slow; Play
redraws ~10 times a second). Texts come from the catalogs (``dist.fig.*``); fonts, line widths
and heights from the theme (``views._theme``: normal or projector), for Plotly and SVG alike.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from views._charts import Chart, Series
from views._i18n import t
from views._svg import escape, nice_ticks, stroke, svg_line, text_width
from views._theme import D_COLOR, DATA_COLOR, FONT_FAMILY, GEN_COLOR, Theme, current, style

DATA_STYLE = dict(color=DATA_COLOR, dash="dot", width=3)
GEN_STYLE = dict(color=GEN_COLOR, width=3)
D_STYLE = dict(color=D_COLOR, dash="dash", width=3)
D_STAR_STYLE = dict(color="#7fa6ff", dash="dot", width=2)
MAP_STYLE = dict(color="rgba(26,158,63,0.45)", width=1)
_Z_LEVEL = 0.32  # the z-line sits this fraction of the density axis below the x-line


def _r(a: np.ndarray) -> list[float]:
    """Round for a smaller JSON payload (4 significant decimals is far below a pixel)."""
    return np.round(np.asarray(a, dtype=float), 4).tolist()


def _line(x, y, name, style, yaxis="y", hover=True, showlegend=True) -> go.Scatter:
    return go.Scatter(x=_r(x), y=_r(y), mode="lines", name=name, line=style, yaxis=yaxis,
                      hoverinfo=None if hover else "skip", showlegend=showlegend)


def _density_axes(top: float) -> tuple[list[float], list[float], float]:
    """Density axis range, D axis range (0 and 0 aligned, D up to 1.05) and the z-line's height."""
    top = max(top, 1e-3) * 1.12
    bottom = -(_Z_LEVEL + 0.12) * top
    frac = -bottom / (top - bottom)  # where 0 sits on both axes
    return [bottom, top], [-frac / (1 - frac) * 1.05, 1.05], -_Z_LEVEL * top


def _density_ticks(top: float) -> list[float]:
    """Ticks on the density axis from 0 up only (the z-line lives below 0)."""
    step = float(np.format_float_positional(top / 4, precision=1, fractional=False))
    return [round(i * step, 6) for i in range(int(top / step) + 1)]


def _z_positions(z: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Where each z sits on the z-line: z's range stretched over the middle 90% of [lo, hi]."""
    z = np.asarray(z, dtype=float)
    span = max(float(z.max() - z.min()), 1e-9)
    return lo + (hi - lo) * (0.05 + 0.9 * (z - z.min()) / span)


def _mapping_traces(z: np.ndarray, gz: np.ndarray, z_level: float, x_range: tuple[float, float],
                    xaxis: str = "x", yaxis: str = "y", legend: bool = True) -> list[go.Scatter]:
    """The x-line (y = 0), the z-line (y = z_level) and z -> G(z) lines. As in the paper, the
    z-line spans the panel: z's range is stretched over the middle 90% of the x-axis (hover
    shows the real z)."""
    lo, hi = x_range
    z = np.asarray(z, dtype=float)
    z_pos = _z_positions(z, lo, hi)
    lx, ly = [], []
    for zi, xi in zip(z_pos, gz):
        lx += [float(zi), float(xi), None]
        ly += [z_level, 0.0, None]
    axis_line = dict(mode="lines", line=dict(color="#888", width=1), xaxis=xaxis, yaxis=yaxis,
                     hoverinfo="skip", showlegend=False)
    return [
        go.Scatter(x=[lo, hi], y=[0, 0], **axis_line),
        go.Scatter(x=[lo, hi], y=[z_level, z_level], **axis_line),
        go.Scatter(x=lx, y=ly, mode="lines", line=MAP_STYLE, name="x = G(z)", xaxis=xaxis, yaxis=yaxis,
                   hoverinfo="skip", showlegend=legend),
        go.Scatter(x=_r(z_pos), y=[z_level] * len(z), customdata=_r(z), mode="markers",
                   marker=dict(color="#1a9e3f", size=6), xaxis=xaxis, yaxis=yaxis, name="z", showlegend=False,
                   hovertemplate="z = %{customdata:.2f}<extra></extra>"),
    ]


def _margin(th: Theme, left: float = 4.0, right: float = 1.5, top: float = 2.0, bottom: float = 3.4) -> dict:
    """Figure margins in units of the theme's font size (larger text needs more room)."""
    return dict(l=round(left * th.font), r=round(right * th.font), t=round(top * th.font), b=round(bottom * th.font))


def distribution_figure(x: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, d: np.ndarray,
                        z: np.ndarray, g_of_z: np.ndarray, d_star: np.ndarray | None = None,
                        d_name: str = "D(x)", height_scale: float = 1.0) -> go.Figure:
    """The Figure-1 picture: densities on the left axis, D on the right axis (0 to 1), and the
    z-line below the x-line. ``height_scale`` shrinks it below the theme's figure height."""
    th = current()
    y_range, d_range, z_level = _density_axes(float(max(np.max(p_data), np.max(p_g))))
    traces = [_line(x, p_data, "p_data", DATA_STYLE), _line(x, p_g, "p_g", GEN_STYLE),
              _line(x, d, d_name, D_STYLE, yaxis="y2")]
    if d_star is not None:
        traces.append(_line(x, d_star, t("dist.fig.d_star"), D_STAR_STYLE, yaxis="y2"))
    traces += _mapping_traces(z, g_of_z, z_level, (float(x[0]), float(x[-1])))
    fig = go.Figure(traces)
    fig.update_layout(
        height=round(th.figure_height * height_scale), margin=_margin(th, right=4.0, top=2.6),
        xaxis=dict(title=t("dist.fig.x"), range=[float(x[0]), float(x[-1])]),
        yaxis=dict(title=t("dist.fig.density"), range=y_range, zeroline=False, tickformat=".2~f",
                   tickvals=_density_ticks(y_range[1])),
        yaxis2=dict(title=t("dist.fig.d_axis"), range=d_range, overlaying="y", side="right", showgrid=False,
                    tickvals=[0, 0.5, 1], zeroline=False),
        legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"),
        annotations=[dict(x=0.0, xref="paper", y=z_level, text="<b>z</b>", showarrow=False, xanchor="left",
                          yanchor="bottom"),
                     dict(x=0.0, xref="paper", y=0, text="<b>x</b>", showarrow=False, xanchor="left",
                          yanchor="bottom")],
    )
    return style(fig, th)


def panel_strip(panels: Sequence[dict]) -> go.Figure:
    """Several Figure-1 panels side by side. Each panel is a dict with keys x, p_data, p_g, d,
    z, g_of_z and title (lines separated by <br>). All panels share one density scale so heights
    compare. Titles sit above their own panel and the legend below the strip, so neither overlaps."""
    th = current()
    n = len(panels)
    top = max(float(max(np.max(p["p_data"]), np.max(p["p_g"]))) for p in panels)
    y_range, d_range, z_level = _density_axes(top)
    gap = 0.04
    width = (1 - gap * (n - 1)) / n
    title_lines = max(p["title"].count("<br>") + 1 for p in panels)
    fig = go.Figure()
    layout: dict = dict(height=th.figure_height, margin=_margin(th, left=1.0, right=1.0, top=1.6 * title_lines + 0.6,
                                                                bottom=3.0),
                        legend=dict(orientation="h", y=-0.02, x=0, yanchor="top"), annotations=[])
    for i, p in enumerate(panels):
        k = "" if i == 0 else str(i + 1)
        dk = str(n + i + 1)  # D's axis for panel i
        x = p["x"]
        first = i == 0
        fig.add_traces([
            go.Scatter(x=_r(x), y=_r(p["p_data"]), mode="lines", line=DATA_STYLE, name="p_data",
                       xaxis=f"x{k}", yaxis=f"y{k}", showlegend=first),
            go.Scatter(x=_r(x), y=_r(p["p_g"]), mode="lines", line=GEN_STYLE, name="p_g",
                       xaxis=f"x{k}", yaxis=f"y{k}", showlegend=first),
            go.Scatter(x=_r(x), y=_r(p["d"]), mode="lines", line=D_STYLE, name="D(x)",
                       xaxis=f"x{k}", yaxis=f"y{dk}", showlegend=first),
            *_mapping_traces(p["z"], p["g_of_z"], z_level, (float(x[0]), float(x[-1])),
                             xaxis=f"x{k}", yaxis=f"y{k}", legend=first),
        ])
        domain = [i * (width + gap), i * (width + gap) + width]
        layout[f"xaxis{k}"] = dict(domain=domain, range=[float(x[0]), float(x[-1])], anchor=f"y{k}",
                                   showticklabels=False)
        layout[f"yaxis{k}"] = dict(range=y_range, anchor=f"x{k}", showticklabels=False, zeroline=False)
        layout[f"yaxis{dk}"] = dict(range=d_range, overlaying=f"y{k}" if k else "y", anchor=f"x{k}",
                                    side="right", showgrid=False, showticklabels=False, zeroline=False)
        layout["annotations"].append(dict(text=p["title"], x=sum(domain) / 2, y=1.0, xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", showarrow=False))
    fig.update_layout(**layout)
    return style(fig, th)


HISTORY_COLOURS = ["#1a9e3f", "#1f4fd1", "#c0392b", "#8e44ad"]


def history_charts(series: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[Chart]:
    """Side-by-side charts over training updates, one per (title -> (x, y)) entry (``views._charts``)."""
    return [Chart(title, [Series(title, x, y, HISTORY_COLOURS[i % len(HISTORY_COLOURS)])], t("dist.fig.updates"))
            for i, (title, (x, y)) in enumerate(series.items())]


LOSS_STYLES = {"minimax": dict(color="#c0392b", width=3),
               "non-saturating": dict(color="#8e44ad", width=3, dash="dash")}


def loss_comparison_figure(jsd_by_loss: dict[str, tuple[np.ndarray, np.ndarray]]) -> go.Figure:
    """JSD over the first updates for each loss (keyed by loss id), on one shared axis."""
    th = current()
    fig = go.Figure([go.Scatter(x=np.asarray(x).tolist(), y=_r(y), mode="lines", name=t(f"dist.loss.{name}"),
                                line=LOSS_STYLES.get(name, dict(width=3)))
                     for name, (x, y) in jsd_by_loss.items()])
    fig.update_layout(height=round(th.figure_height * 0.85), margin=_margin(th),
                      xaxis=dict(title=t("dist.fig.updates")), yaxis=dict(title="JSD(p_data ‖ p_g)", range=[0, 0.72]),
                      legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"))
    return style(fig, th)


def generator_loss_figure(curves: dict[str, np.ndarray]) -> go.Figure:
    """Left: log(1 - D) and -log D against D(G(z)). Right: their gradients w.r.t. D's logit."""
    th = current()
    d = curves["d"]
    mm, ns = LOSS_STYLES["minimax"], LOSS_STYLES["non-saturating"]
    fig = go.Figure([
        go.Scatter(x=_r(d), y=_r(curves["minimax"]), name=t("dist.fig.minimax"), line=mm),
        go.Scatter(x=_r(d), y=_r(curves["non_saturating"]), name=t("dist.fig.non_saturating"), line=ns),
        go.Scatter(x=_r(d), y=_r(curves["minimax_logit_grad"]), line=mm, xaxis="x2", yaxis="y2",
                   showlegend=False, name=t("dist.fig.minimax_grad")),
        go.Scatter(x=_r(d), y=_r(curves["non_saturating_logit_grad"]), line=ns, xaxis="x2", yaxis="y2",
                   showlegend=False, name=t("dist.fig.non_saturating_grad")),
    ])
    fig.add_vrect(x0=0, x1=0.1, fillcolor="#f5cba7", opacity=0.35, line_width=0,
                  annotation_text=t("dist.fig.early"), annotation_position="inside bottom left")
    fig.update_layout(
        height=th.figure_height, margin=_margin(th, top=3.2),
        legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"),
        xaxis=dict(domain=[0, 0.44], title="D(G(z))", range=[0, 1]),
        yaxis=dict(title=t("dist.fig.g_loss"), range=[-5, 5]),
        xaxis2=dict(domain=[0.58, 1], title="D(G(z))", range=[0, 1], anchor="y2"),
        yaxis2=dict(title=t("dist.fig.logit_grad"), range=[-1.1, 0.1], anchor="x2"),
    )
    return style(fig, th)


def monte_carlo_figure(sizes: np.ndarray, estimates: np.ndarray, exact: float) -> go.Figure:
    """Monte Carlo estimates of V(D, G) against the sample size m, with the exact integral."""
    th = current()
    fig = go.Figure([
        go.Scatter(x=np.asarray(sizes).tolist(), y=_r(estimates), mode="lines+markers", name=t("dist.fig.mc_estimate"),
                   line=dict(color="#d35400", width=2), marker=dict(size=5)),
        go.Scatter(x=[int(sizes[0]), int(sizes[-1])], y=[exact, exact], mode="lines", name=t("dist.fig.exact"),
                   line=dict(color="black", width=2, dash="dash")),
    ])
    spread = max(0.05, float(np.nanpercentile(np.abs(np.asarray(estimates) - exact), 90)) * 1.3)
    fig.update_layout(height=round(th.figure_height * 0.85), margin=_margin(th),
                      xaxis=dict(type="log", title=t("dist.fig.samples")),
                      yaxis=dict(title=t("dist.fig.mc_value"), range=[exact - spread, exact + spread]),
                      legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"))
    return style(fig, th)


# --- the live figure as SVG ------------------------------------------------------------------------
# While Play runs, the figure changes ~10 times a second. A Plotly chart whose data changes is
# rebuilt from scratch in the browser (Streamlit gives it a new identity), which costs ~200 ms
# per frame on a 2-core laptop; swapping a small SVG costs ~1 ms. The SVG mirrors
# ``distribution_figure`` (same colours, axes, z-line); when paused the page shows the Plotly one.

# The SVG is drawn about as wide as it shows beside the controls at 1280 px, so its font sizes (from
# the theme, as for Plotly) come out at about their nominal pixel size on screen.
_SVG_W = 720


def distribution_svg(x: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, d: np.ndarray,
                     z: np.ndarray, g_of_z: np.ndarray, d_star: np.ndarray | None = None,
                     d_name: str = "D(x)", height_scale: float = 1.0) -> str:
    """The Figure-1 picture of ``distribution_figure`` as a self-contained SVG string."""
    th = current()
    height = round(th.figure_height * height_scale)
    f = th.font
    left, right, top, bottom = 4 * f, _SVG_W - 3.6 * f, 2.6 * th.legend + 8, height - 3.2 * f
    x = np.asarray(x, dtype=float)
    x_lo, x_hi = float(x[0]), float(x[-1])
    y_range, d_range, z_level = _density_axes(float(max(np.max(p_data), np.max(p_g))))

    def sx(v):
        return left + (np.asarray(v, dtype=float) - x_lo) / (x_hi - x_lo) * (right - left)

    def sy(v, rng=y_range):
        return bottom - (np.asarray(v, dtype=float) - rng[0]) / (rng[1] - rng[0]) * (bottom - top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_SVG_W} {height}" width="100%" '
           f'role="img" aria-label="p_data, p_g, {escape(d_name)}" font-family="{escape(FONT_FAMILY)}" '
           f'font-size="{th.tick}">']
    # grid and axes
    for v in _density_ticks(y_range[1]):
        y = float(sy(v))
        out.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{th.grid_color}"/>'
                   f'<text x="{left - 6}" y="{y + th.tick / 3:.1f}" text-anchor="end" fill="#222">{v:.2f}</text>')
    for v in (0, 0.5, 1):
        y = float(sy(v, d_range))
        out.append(f'<text x="{right + 6}" y="{y + th.tick / 3:.1f}" fill="#222">{v:g}</text>')
    for v in nice_ticks(x_lo, x_hi):
        xx = float(sx(v))
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{bottom}" stroke="{th.grid_color}" '
                   f'stroke-opacity="0.5"/>'
                   f'<text x="{xx:.1f}" y="{bottom + th.tick + 4}" text-anchor="middle" fill="#222">{v:g}</text>')
    out.append(f'<g font-size="{f}"><text x="{(left + right) / 2}" y="{height - 8}" text-anchor="middle">'
               f'{escape(t("dist.fig.x"))}</text>'
               f'<text transform="translate({f},{(top + bottom) / 2}) rotate(-90)" text-anchor="middle">'
               f'{escape(t("dist.fig.density"))}</text>'
               f'<text transform="translate({_SVG_W - f * 0.8},{(top + bottom) / 2}) rotate(90)" '
               f'text-anchor="middle">{escape(t("dist.fig.d_axis"))}</text></g>')
    # the x-line, the z-line and x = G(z)
    z_px = sx(_z_positions(z, x_lo, x_hi))
    y_x, y_z = float(sy(0.0)), float(sy(z_level))
    gz_px = np.clip(sx(g_of_z), left - 5, right + 5)
    out.append(f'<line x1="{left}" x2="{right}" y1="{y_x:.1f}" y2="{y_x:.1f}" stroke="#888"/>'
               f'<line x1="{left}" x2="{right}" y1="{y_z:.1f}" y2="{y_z:.1f}" stroke="#888"/>'
               f'<text x="{left + 4}" y="{y_x - 6:.1f}" font-weight="bold" font-size="{f}">x</text>'
               f'<text x="{left + 4}" y="{y_z - 6:.1f}" font-weight="bold" font-size="{f}">z</text>')
    segs = " ".join(f"M{a:.1f},{y_z:.1f} L{b:.1f},{y_x:.1f}" for a, b in zip(z_px, gz_px))
    out.append(f'<path d="{segs}" {stroke(MAP_STYLE, th)}/>')
    out.append("".join(f'<circle cx="{a:.1f}" cy="{y_z:.1f}" r="{3 * th.marker_scale:g}" fill="{GEN_COLOR}"/>'
                       for a in z_px))
    # the curves, clipped to the plot area
    out.append(f'<clipPath id="live-plot-area"><rect x="{left}" y="{top}" width="{right - left}" '
               f'height="{bottom - top}"/></clipPath><g clip-path="url(#live-plot-area)">')
    curves = [(p_data, DATA_STYLE, y_range, "p_data"), (p_g, GEN_STYLE, y_range, "p_g"),
              (d, D_STYLE, d_range, d_name)]
    if d_star is not None:
        curves.append((d_star, D_STAR_STYLE, d_range, t("dist.fig.d_star")))
    out += [svg_line(sx(x), sy(values, rng), style, th) for values, style, rng, _ in curves]
    out.append("</g>")
    # legend above the plot, as in the Plotly figure (wrapping to a second row when it is full)
    legend = [(name, line_style) for _, line_style, _, name in curves] + [(t("dist.fig.mapping"), MAP_STYLE)]
    lx, ly = left, th.legend
    for name, line_style in legend:
        item = 36 + text_width(name, th.legend) + 16
        if lx + item > _SVG_W and lx > left:
            lx, ly = left, ly + 1.3 * th.legend
        out.append(f'<line x1="{lx}" x2="{lx + 30}" y1="{ly - th.legend / 3:.1f}" y2="{ly - th.legend / 3:.1f}" '
                   f'{stroke(line_style, th)}/><text x="{lx + 36}" y="{ly:.1f}" font-size="{th.legend}">'
                   f'{escape(name)}</text>')
        lx += item
    out.append("</svg>")
    return "".join(out)
