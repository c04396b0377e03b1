"""One chart model for every chart over training steps in the app, drawn two ways.

A ``Chart`` is what is shown: its ``Series`` (lines, with an optional error band, markers, a right
axis for shares) or ``Bars``, a title, axis titles, a fixed range or one from the data, a reference
line. Two renderers draw the same chart: ``svg`` / ``grid_svg`` while a page plays or trains (the
picture is swapped every frame; a Plotly chart would be rebuilt in the browser, ~200 ms a frame on
a 2-core laptop, see ``views._svg``), ``figure`` / ``grid_figure`` when it is paused (interactive:
hover, zoom). Both take the same series, ranges, labels and colours; fonts, line widths and heights
come from the theme (normal or projector), every word from the caller (the catalog).

``svg`` / ``figure``: one chart with its legend above the plot (the training page, two side by side).
``grid_svg`` / ``grid_figure``: small charts in rows (the 1-D page's history, the 2-D page's measures),
each naming its lines in a short legend when it has more than one. ``show`` and ``show_grid`` put
either on the page, as a picture while ``playing``, else as a figure.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from views._svg import escape, nice_ticks, stroke, svg_as_img, svg_path, text_width
from views._theme import FONT_FAMILY, Theme, current, style

GREY = "#9a9a9a"
SVG_WIDTH = 640  # one chart: about the width of one of two side-by-side charts at 1280 px


@dataclass(frozen=True)
class Series:
    """One line of a chart: ``y`` over ``x``, in the paper's colour and dash ("", "dot", "dash")."""

    name: str
    x: Sequence[float]
    y: Sequence[float]
    color: str
    dash: str = ""
    width: float = 2.0
    opacity: float = 1.0
    legend: bool = True  # False: a faint helper line (raw values under a smoothed one): no legend, no hover
    markers: bool = False
    errors: Sequence[float] | None = None  # drawn as a band y ± errors
    right: bool = False  # on a second axis on the right, 0..1 shown as percent


@dataclass(frozen=True)
class Bars:
    """A bar per category (``labels``), e.g. the share of samples per class."""

    labels: Sequence[str]
    values: Sequence[float]
    color: str


@dataclass(frozen=True)
class Chart:
    title: str
    series: Sequence[Series] = ()
    x_title: str = ""
    y_title: str = ""
    y_range: tuple[float, float] | None = None  # fixed (a probability, a count of modes); else from the data
    y_percent: bool = False  # the left axis shows shares as percent
    bars: Bars | None = None
    hline: tuple[float, str, str, str] | None = None  # (y, label, colour, dash): a reference value
    legend_below: bool = False  # the interactive figure's legend under the plot (a long legend; the picture wraps it)

    @property
    def right_axis(self) -> bool:
        return any(s.right for s in self.series)


def _finite(s: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A series' finite points (and their errors, when there is one per point)."""
    x, y = np.asarray(s.x, dtype=float), np.asarray(s.y, dtype=float)
    keep = np.isfinite(y) & np.isfinite(x)
    e = None
    if s.errors is not None and len(s.errors) == len(y):
        e = np.nan_to_num(np.asarray(s.errors, dtype=float)[keep])
    return x[keep], y[keep], e


def y_extent(chart: Chart, pad: float = 0.05) -> tuple[float, float]:
    """The left axis' range: fixed, or the data's (bands included) with ``pad`` of it added on each side."""
    if chart.bars is not None:
        values = np.asarray(chart.bars.values, dtype=float)
        top = max(float(values.max()) if len(values) else 0.0, chart.hline[0] if chart.hline else 0.0)
        return 0.0, top * 1.05 or 1.0
    if chart.y_range is not None:
        return chart.y_range
    data = [_finite(s) for s in chart.series if not s.right]
    data = [d for d in data if len(d[1])]
    if not data:
        return 0.0, 1.0
    lo = min(float((y - (e if e is not None else 0)).min()) for _, y, e in data)
    hi = max(float((y + (e if e is not None else 0)).max()) for _, y, e in data)
    margin = max((hi - lo) * pad, 1e-3)
    return lo - margin, hi + margin


def x_extent(chart: Chart) -> tuple[float, float]:
    """The x-axis range of the series (at least one unit wide)."""
    xs = [_finite(s)[0] for s in chart.series]
    xs = [x for x in xs if len(x)]
    if not xs:
        return 0.0, 1.0
    lo = min(float(x.min()) for x in xs)
    return lo, max(max(float(x.max()) for x in xs), lo + 1)


# --- SVG --------------------------------------------------------------------------------------------

def _plot_svg(chart: Chart, box: tuple[float, float, float, float], th: Theme, ticks: int, pad: float) -> list[str]:
    """The plot area of ``chart`` in ``box`` (x0, x1, top, bottom): grid, tick labels, bars or lines,
    bands, markers and the reference line."""
    x0, x1, top, bottom = box
    y_lo, y_hi = y_extent(chart, pad)
    out = []

    def to_y(v, lo=y_lo, hi=y_hi):
        return bottom - (np.clip(np.asarray(v, dtype=float), lo, hi) - lo) / (hi - lo) * (bottom - top)

    for v in nice_ticks(y_lo, y_hi, ticks):
        y = float(to_y(v))
        label = f"{v:.0%}" if chart.y_percent else f"{v:g}"
        out.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{th.grid_color}"/>'
                   f'<text x="{x0 - 6:.1f}" y="{y + th.tick / 3:.1f}" text-anchor="end" fill="#222">{label}</text>')
    if chart.right_axis:
        for v in (0.0, 0.25, 0.5, 0.75, 1.0):
            y = float(to_y(v, 0.0, 1.0))
            out.append(f'<text x="{x1 + 6:.1f}" y="{y + th.tick / 3:.1f}" fill="#222">{v:.0%}</text>')
    if chart.bars is not None:
        values = np.asarray(chart.bars.values, dtype=float)
        slot = (x1 - x0) / max(len(values), 1)
        for i, (label, v) in enumerate(zip(chart.bars.labels, values)):
            bx, by = x0 + i * slot + 0.12 * slot, float(to_y(v))
            out.append(f'<rect x="{bx:.1f}" y="{by:.1f}" width="{0.76 * slot:.1f}" height="{bottom - by:.1f}" '
                       f'fill="{chart.bars.color}"/><text x="{x0 + (i + 0.5) * slot:.1f}" y="{bottom + th.tick + 4:.1f}" '
                       f'text-anchor="middle" fill="#222">{escape(str(label))}</text>')
    else:
        x_lo, x_hi = x_extent(chart)

        def to_x(v):
            return x0 + (np.asarray(v, dtype=float) - x_lo) / (x_hi - x_lo) * (x1 - x0)

        for v in nice_ticks(x_lo, x_hi, ticks):
            out.append(f'<text x="{float(to_x(v)):.1f}" y="{bottom + th.tick + 4:.1f}" text-anchor="middle" '
                       f'fill="#222">{v:g}</text>')
        for s in chart.series:
            x, y, e = _finite(s)
            if not len(x):
                continue
            py = (lambda v: to_y(v, 0.0, 1.0)) if s.right else to_y
            if e is not None:
                band = np.concatenate([np.stack([to_x(x), py(y + e)], 1), np.stack([to_x(x), py(y - e)], 1)[::-1]])
                out.append(f'<path d="{svg_path(band[:, 0], band[:, 1])}Z" fill="{s.color}" fill-opacity="0.18" '
                           f'stroke="none"/>')
            opacity = f' opacity="{s.opacity}"' if s.opacity != 1.0 else ""
            out.append(f'<path d="{svg_path(to_x(x), py(y))}" fill="none" {stroke(_line_style(s), th)}{opacity}/>')
            if s.markers:
                r = 3.5 * th.marker_scale
                out.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{r:g}" fill="{s.color}"/>'
                           for a, b in zip(to_x(x), py(y)))
    if chart.hline is not None:
        value, label, colour, dash = chart.hline
        y = float(to_y(value))
        dashes = {"dash": ' stroke-dasharray="8,4"', "dot": ' stroke-dasharray="2,4"'}.get(dash, "")
        out.append(f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}"{dashes}/>'
                   f'<text x="{x1 - 4:.1f}" y="{y + th.tick + 2:.1f}" text-anchor="end" fill="#555">{escape(label)}</text>')
    return out


def _line_style(s: Series) -> dict:
    return dict(color=s.color, dash=s.dash, width=s.width)


def _svg_open(width: float, height: float, label: str, th: Theme) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" width="100%" role="img" '
            f'aria-label="{escape(label)}" font-family="{escape(FONT_FAMILY)}" font-size="{th.tick}">'
            f'<rect width="{width:g}" height="{height:g}" fill="white"/>')


def svg(chart: Chart, height_scale: float = 0.75, width: int = SVG_WIDTH) -> str:
    """One chart as SVG: the title, a legend above the plot (wrapping onto more rows when it does not
    fit), axis titles and the plot; ``height_scale`` of the theme's figure height."""
    th = current()
    height = int(th.figure_height * height_scale)
    left, right = 1.6 * th.font + 2.6 * th.tick, (3.6 * th.tick if chart.right_axis else 2 * th.tick)
    x0, x1 = left, width - right
    rows, x = [[]], x0  # the legend, left to right
    for s in (s for s in chart.series if s.legend and s.name):
        w = text_width(s.name, th.legend) + 40
        if rows[-1] and x + w > x1:
            rows.append([])
            x = x0
        rows[-1].append((x, s))
        x += w
    top = th.title + 14 + 1.5 * th.legend * len(rows) + 8
    bottom = height - 2.6 * th.font - th.tick
    out = [_svg_open(width, height, chart.title, th),
           f'<text x="8" y="{th.title + 4}" font-size="{th.title}">{escape(chart.title)}</text>',
           f'<text x="{(x0 + x1) / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="{th.font}">'
           f'{escape(chart.x_title)}</text>',
           f'<text transform="translate({th.font},{(top + bottom) / 2:.1f}) rotate(-90)" text-anchor="middle" '
           f'font-size="{th.font}">{escape(chart.y_title)}</text>']
    for r, row in enumerate(rows):
        y = th.title + 14 + 1.5 * th.legend * (r + 1) - 0.3 * th.legend
        for x, s in row:
            out.append(f'<path d="M{x:.1f},{y - th.legend / 3:.1f} L{x + 26:.1f},{y - th.legend / 3:.1f}" fill="none" '
                       f'{stroke(_line_style(s), th)}/><text x="{x + 32:.1f}" y="{y:.1f}" font-size="{th.legend}">'
                       f'{escape(s.name)}</text>')
    out += _plot_svg(chart, (x0, x1, top, bottom), th, ticks=5, pad=0.05)
    out.append("</svg>")
    return "".join(out)


def grid_svg(charts: Sequence[Chart], columns: int, width: int, height_scale: float) -> str:
    """Small charts in rows of ``columns`` as one SVG, each ``height_scale`` of the theme's figure
    height: its title above it, its lines named in colour at its top when it has more than one, its
    x-axis title under the charts of the last row."""
    th = current()
    rows = math.ceil(len(charts) / columns)
    row_h = round(th.figure_height * height_scale)
    gap, left_pad = 3.6 * th.tick, 3.6 * th.tick
    col_w = (width - left_pad - 10 - gap * (columns - 1)) / columns
    out = [_svg_open(width, rows * row_h, ", ".join(c.title for c in charts), th)]
    for i, chart in enumerate(charts):
        r, c = divmod(i, columns)
        x0 = left_pad + c * (col_w + gap)
        x1 = x0 + col_w
        top, bottom = r * row_h + 2.0 * th.font, (r + 1) * row_h - 2.6 * th.font
        out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{top - 0.6 * th.font:.1f}" text-anchor="middle" '
                   f'font-size="{th.font}">{escape(chart.title)}</text>')
        if r == rows - 1 and chart.x_title:
            out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{(r + 1) * row_h - 6:.1f}" text-anchor="middle" '
                       f'font-size="{th.tick}">{escape(chart.x_title)}</text>')
        if not any(len(_finite(s)[0]) for s in chart.series):
            continue
        out += _plot_svg(chart, (x0, x1, top, bottom), th, ticks=3, pad=0.08)
        legend_x = x0 + 4
        for s in chart.series if len(chart.series) > 1 else ():
            out.append(f'<text x="{legend_x:.1f}" y="{top + th.tick:.1f}" fill="{s.color}" font-weight="bold">'
                       f'{escape(s.name)}</text>')
            legend_x += text_width(s.name, th.tick) + 12
    out.append("</svg>")
    return "".join(out)


# --- Plotly -----------------------------------------------------------------------------------------

def _r(a) -> list:
    """Round for a smaller JSON payload (4 significant decimals is far below a pixel)."""
    return np.round(np.asarray(a, dtype=float), 4).tolist()


def _traces(chart: Chart, xaxis: str = "x", yaxis: str = "y", legend: bool = True) -> list[go.BaseTraceType]:
    """The Plotly traces of a chart: bars, or per series its band, then its line (a right-axis series
    on ``y2``: only a single chart has one)."""
    if chart.bars is not None:
        # escaped: Plotly reads <a>, <b>, <br> in labels, and a class may be named by a user's sub-folder
        return [go.Bar(x=[escape(str(c)) for c in chart.bars.labels], y=list(chart.bars.values),
                       marker_color=chart.bars.color, xaxis=xaxis, yaxis=yaxis, showlegend=False)]
    traces: list[go.BaseTraceType] = []
    for s in chart.series:
        x, y, e = _finite(s)
        axis = dict(xaxis=xaxis, yaxis="y2" if s.right else yaxis)
        if e is not None:
            traces.append(go.Scatter(x=_r(np.concatenate([x, x[::-1]])), y=_r(np.concatenate([y + e, (y - e)[::-1]])),
                                     fill="toself", fillcolor=s.color, opacity=0.18, line=dict(width=0),
                                     hoverinfo="skip", showlegend=False, **axis))
        line = dict(color=s.color, dash=s.dash or None, width=s.width)
        extra = {} if s.legend else dict(opacity=s.opacity, hoverinfo="skip")
        traces.append(go.Scatter(x=_r(x), y=_r(y), mode="lines+markers" if s.markers else "lines", name=s.name,
                                 line=line, showlegend=legend and s.legend, **extra, **axis))
    return traces


def _hline(fig: go.Figure, chart: Chart, **where) -> None:
    if chart.hline is not None:
        value, label, colour, dash = chart.hline
        fig.add_hline(y=value, line=dict(color=colour, dash=dash or None), annotation_text=label,
                      annotation_position="bottom right", **where)


def figure(chart: Chart, height_scale: float = 0.75) -> go.Figure:
    """``svg`` with Plotly: the same chart, interactive."""
    th = current()
    fig = go.Figure(_traces(chart))
    _hline(fig, chart)
    legend = (dict(orientation="h", y=-0.25, x=0, xanchor="left", yanchor="top") if chart.legend_below
              else dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"))
    fig.update_layout(title=chart.title, height=int(th.figure_height * height_scale),
                      margin=dict(l=10, r=10, t=60, b=10), xaxis_title=chart.x_title, yaxis_title=chart.y_title,
                      legend=legend, template="plotly_white")
    fig.update_yaxes(range=list(chart.y_range) if chart.y_range else None, tickformat=".0%" if chart.y_percent else None)
    if chart.right_axis:
        fig.update_layout(yaxis2=dict(overlaying="y", side="right", range=[0, 1], tickformat=".0%",
                                        showgrid=False, tickfont=dict(size=th.tick)))
    return style(fig, th)


def grid_figure(charts: Sequence[Chart], columns: int, height_scale: float) -> go.Figure:
    """``grid_svg`` with Plotly: hover shows each value; the legend (charts with several lines) below."""
    th = current()
    rows = math.ceil(len(charts) / columns)
    gap_x, gap_y = 0.07, 0.16 if rows > 1 else 0
    w = (1 - gap_x * (columns - 1)) / columns
    h = (1 - gap_y * (rows - 1)) / rows
    fig = go.Figure()
    layout: dict = dict(height=round(th.figure_height * height_scale) * rows + 40, annotations=[],
                        margin=dict(l=round(3.4 * th.tick), r=10, t=round(2.2 * th.font), b=round(5.5 * th.font)),
                        legend=dict(orientation="h", y=-0.1, x=0, yanchor="top"))
    for i, chart in enumerate(charts):
        r, c = divmod(i, columns)
        k = "" if i == 0 else str(i + 1)
        xd = [c * (w + gap_x), c * (w + gap_x) + w]
        yd = [1 - (r + 1) * h - r * gap_y, 1 - r * h - r * gap_y]
        fig.add_traces(_traces(chart, f"x{k}", f"y{k}", legend=len(chart.series) > 1))
        layout[f"xaxis{k}"] = dict(domain=xd, anchor=f"y{k}",
                                   title=dict(text=chart.x_title) if r == rows - 1 and chart.x_title else None)
        layout[f"yaxis{k}"] = dict(domain=yd, anchor=f"x{k}", range=list(chart.y_range) if chart.y_range else None)
        # centred on its chart: Plotly's "auto" anchors a title left of a third of the width and right past two
        # thirds, so the titles of neighbouring charts grew towards each other and ran into each other
        layout["annotations"].append(dict(text=chart.title, x=sum(xd) / 2, y=yd[1], xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", showarrow=False))
    fig.update_layout(**layout)
    style(fig, th)
    fig.update_annotations(font_size=th.tick + 1)  # chart titles: three to a row must not run into each other
    return fig


# --- on the page ------------------------------------------------------------------------------------

def show(chart: Chart, playing: bool, key: str, alt: str) -> None:
    """One chart: while ``playing``, an SVG picture in a container named ``key``; else a figure keyed ``key``."""
    if playing:
        with st.container(key=key):
            st.html(svg_as_img(svg(chart), alt=html.escape(alt, quote=True)))
    else:
        st.plotly_chart(figure(chart), key=key)


def show_grid(charts: Sequence[Chart], playing: bool, key: str, alt: str, columns: int, width: int,
              height_scale: float) -> None:
    """Small charts in rows of ``columns``: while ``playing`` one SVG picture ``width`` px wide, else a figure."""
    if playing:
        st.html(svg_as_img(grid_svg(charts, columns, width, height_scale), alt=html.escape(alt, quote=True)))
    else:
        st.plotly_chart(grid_figure(charts, columns, height_scale), key=key)
