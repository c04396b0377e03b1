"""Figures for the mode-collapse page (drawing only, no maths): the 2-D view (the charts over steps are
``views._charts`` charts, built by the page).

The 2-D view draws a ``Toy2DView`` in layers (``LAYERS``): real points black (p_data), fake points
green (p_g), D(x) as a blue shading, the push of G's loss at each fake point as arrows, the
generator's manifold (the image of a noise grid) and the trails of a few fake points; the mixture
targets also get a dotted 3σ circle round each mode (inside it a fake counts as high quality).

Play draws the view as HTML around two PNGs made here (``view_html``): swapping them costs the
browser a millisecond or two, rebuilding a Plotly chart ~200 ms. Pause draws the same picture with
Plotly (``view_figure``: hover, zoom, and clicks on the canvas to draw a target). Sizes
come from the theme (normal/projector), texts from the catalogs (``modes.fig.*``).
"""

from __future__ import annotations

import base64
import functools
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageColor, ImageDraw

from gan_core.images import png_bytes
from views._i18n import t
from views._svg import escape, nice_ticks, text_width
from views._theme import D_COLOR, DATA_COLOR, FONT_FAMILY, GEN_COLOR, Theme, current, style

LAYERS = ["real", "fake", "heatmap", "arrows", "manifold", "trails"]
ARROW_COLOR = "#c0392b"  # G's push: red, apart from the paper's black / green / blue
TRAIL_COLOR = "#e67e22"
MANIFOLD_COLOR = "rgba(26,158,63,0.5)"
HIGHLIGHT = {"D": D_COLOR, "G": GEN_COLOR}  # slow motion: the frame of the network that just moved
# D(x) shading: light blue where D says "real" (1), white where it cannot tell (1/2), sand where it says "fake" (0)
_HEAT_FAKE, _HEAT_UNSURE, _HEAT_REAL = np.array([236, 214, 182]), np.array([255, 255, 255]), np.array([122, 160, 236])
HEAT_SCALE = [[0, "rgb(236,214,182)"], [0.5, "rgb(255,255,255)"], [1, "rgb(122,160,236)"]]  # the same for Plotly


def heat_colours(d: np.ndarray) -> np.ndarray:
    """RGB (uint8) of the D(x) shading (``HEAT_SCALE``): sand at 0, white at 1/2, light blue at 1."""
    a = np.clip(np.nan_to_num(np.asarray(d, dtype=float), nan=0.5), 0, 1)[..., None]
    low = _HEAT_FAKE + (_HEAT_UNSURE - _HEAT_FAKE) * (2 * a)
    high = _HEAT_UNSURE + (_HEAT_REAL - _HEAT_UNSURE) * (2 * a - 1)
    return np.round(np.where(a < 0.5, low, high)).astype(np.uint8)


def png_uri(pixels: np.ndarray) -> str:
    """``png_bytes`` as a data URI for an ``<img>``."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode()


def heat_png(d: np.ndarray) -> str:
    """D(x) on the grid (rows along y, upwards) as a PNG data URI, top row first as an image wants.
    The same D gives the same string without redrawing it (Play reuses D's grid for a few frames)."""
    d = np.ascontiguousarray(d, dtype=np.float32)
    return _heat_png(d.tobytes(), d.shape)


@functools.lru_cache(maxsize=4)
def _heat_png(d: bytes, shape: tuple[int, ...]) -> str:
    return png_uri(heat_colours(np.frombuffer(d, np.float32).reshape(shape)[::-1]))


def draw_dots(canvas: np.ndarray, centres: np.ndarray, radius: float, rgba: tuple[int, int, int, int]) -> None:
    """Blend discs of one colour onto ``canvas`` ((h, w, 4) uint8, straight alpha) in place.

    ``centres`` are (n, 2) pixel coordinates (x right, y down; pixel (i, j) covers [i, i + 1) x [j, j + 1)).
    All discs in one numpy pass (``dot_cover``), not one Pillow ellipse each (2,000 a frame took ~7 ms)."""
    h, w = canvas.shape[:2]
    blend(canvas, *dot_cover(centres, radius, rgba[3] / 255, w, h), rgba[:3])


def _stamp(radius: float) -> tuple[np.ndarray, np.ndarray]:
    """A disc's pixels (dx, dy) round the pixel its centre is in: those whose centre is within ``radius``
    + 1/2 (about 2 radius + 1 across, as Pillow's ellipse in a box of 2 radius), hard-edged as Pillow's
    were (anti-aliased edges looked no better at 1.5 pixels per screen pixel and made the frame's PNG ~30%
    larger: fewer repeated bytes to compress)."""
    reach = int(math.ceil(radius + 0.5))
    dx, dy = (v.ravel() for v in np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1)))
    inside = np.hypot(dx, dy) <= radius + 0.5
    return dx[inside], dy[inside]


def dot_cover(centres: np.ndarray, radius: float, alpha: float, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The pixels (flat indices, row-major) that discs of ``radius`` round ``centres`` (pixel coordinates)
    touch in a ``width`` x ``height`` image, and the alpha of those discs together there: where n discs
    of ``alpha`` overlap they combine as if drawn one over the other, 1 - (1 - alpha)^n. Each disc is
    centred on the pixel its centre falls in (at 1.5 pixels per screen pixel, off by a third of one at most)."""
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    centres = centres[np.isfinite(centres).all(1)]
    dx, dy = _stamp(radius)
    px = np.floor(centres[:, :1]).astype(np.int64) + dx  # (n, stamp): the pixels of each disc
    py = np.floor(centres[:, 1:]).astype(np.int64) + dy
    keep = (px >= 0) & (px < width) & (py >= 0) & (py < height)
    index = (py * width + px)[keep]
    discs = np.bincount(index, minlength=width * height)  # how many discs cover each pixel
    pixels = np.flatnonzero(discs)
    return pixels, (1 - (1 - min(alpha, 1.0)) ** discs[pixels]).astype(np.float32)


def blend(canvas: np.ndarray, pixels: np.ndarray, alpha: np.ndarray, rgb: Sequence[int]) -> None:
    """Lay one colour at ``alpha`` over ``canvas`` ((h, w, 4) uint8, straight alpha) at flat ``pixels``, in place."""
    flat = canvas.reshape(-1, 4)
    below = flat[pixels].astype(np.float32)
    a = alpha[:, None]
    below_a = below[:, 3:] * ((1 - a) / 255)  # what shows through of the pixel below
    out_a = a + below_a
    colour = (np.asarray(rgb, np.float32) * a + below[:, :3] * below_a) / out_a
    flat[pixels, :3] = colour + 0.5  # rounded
    flat[pixels, 3] = (255 * out_a[:, 0] + 0.5)


@dataclass(frozen=True)
class Frame:
    """What one picture of the 2-D GAN shows (numpy arrays; the page converts a ``Toy2DView``)."""

    bounds: tuple[float, float, float, float]
    real: np.ndarray
    fake: np.ndarray
    grid_x: np.ndarray
    grid_y: np.ndarray
    d: np.ndarray
    arrow_from: np.ndarray
    arrow_push: np.ndarray
    manifold: list[np.ndarray] | None = None
    trails: np.ndarray | None = None  # (frames, points, 2), oldest first
    means: np.ndarray | None = None  # the mixture's modes, for the 3σ circles
    radius: float | None = None  # 3σ


def frame_from_view(view, means=None, std: float | None = None) -> Frame:
    """A ``Frame`` from a ``gan_core.toy.toy2d_train.Toy2DView`` (tensors) and the target's modes."""
    n = lambda v: None if v is None else v.detach().cpu().numpy()  # noqa: E731
    return Frame(bounds=view.bounds, real=n(view.real), fake=n(view.fake), grid_x=n(view.grid_x),
                 grid_y=n(view.grid_y), d=n(view.d), arrow_from=n(view.arrow_from), arrow_push=n(view.arrow_push),
                 manifold=None if view.manifold is None else [n(line) for line in view.manifold],
                 trails=n(view.trails), means=n(means), radius=None if std is None else 3 * std)


def arrow_length(frame: Frame) -> float:
    """The drawn length of the strongest push: 7% of the view's smaller side."""
    x0, x1, y0, y1 = frame.bounds
    return 0.07 * min(x1 - x0, y1 - y0)


def _arrow_segments(frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """Shaft and head segments of every arrow: (starts, ends), each (n, 2)."""
    start = frame.arrow_from
    end = start + frame.arrow_push * arrow_length(frame)
    back = start - end
    norm = np.linalg.norm(back, axis=1, keepdims=True)
    unit = np.divide(back, norm, out=np.zeros_like(back), where=norm > 1e-12)
    head = 0.3 * norm
    c, s = math.cos(0.45), math.sin(0.45)
    left = np.stack([unit[:, 0] * c - unit[:, 1] * s, unit[:, 0] * s + unit[:, 1] * c], 1) * head
    right = np.stack([unit[:, 0] * c + unit[:, 1] * s, -unit[:, 0] * s + unit[:, 1] * c], 1) * head
    return np.concatenate([start, end, end]), np.concatenate([end, end + left, end + right])


def _legend_items(frame: Frame, layers: Sequence[str]) -> list[tuple[str, str, str]]:
    """(label, colour, kind) for each layer drawn; kind is "dot", "line" or "box"."""
    items = []
    spec = {"real": ("dot", DATA_COLOR), "fake": ("dot", GEN_COLOR), "heatmap": ("box", "#7aa0ec"),
            "arrows": ("line", ARROW_COLOR), "manifold": ("line", MANIFOLD_COLOR), "trails": ("line", TRAIL_COLOR)}
    for layer in LAYERS:
        if layer in layers and not (layer == "manifold" and frame.manifold is None):
            kind, colour = spec[layer]
            items.append((t(f"modes.layer.{layer}"), colour, kind))
    return items


# --- SVG (while playing) --------------------------------------------------------------------------

RASTER_SCALE = 1.5  # the points' PNG has 1.5 times the SVG's pixels: sharp enough on a projector, cheap to draw


def _rgba(colour: str, alpha: float = 1.0) -> tuple[int, int, int, int]:
    """'#1a9e3f', 'black' or 'rgba(26,158,63,0.5)' -> an RGBA tuple (alpha multiplied by ``alpha``)."""
    if colour.startswith("rgba("):
        r, g, b, a = (float(v) for v in colour[5:-1].split(","))
        return int(r), int(g), int(b), round(255 * a * alpha)
    r, g, b = ImageColor.getrgb(colour)[:3]
    return r, g, b, round(255 * alpha)


def plot_area_png(frame: Frame, layers: Sequence[str], width: int, height: int, th: Theme,
                  grid: Sequence[tuple[float | None, float | None]] = ()) -> str:
    """The points and lines of the 2-D view's plot area (``width`` x ``height`` px over the bounds' full
    extent, transparent elsewhere) as a PNG data URI: grid lines (``grid``: (x, None) or (None, y) as
    fractions of the area), 3σ circles, manifold, real points, trails, fake points and arrows, blended in
    that order. (D's shading is its own small image under it.) Dots are drawn with numpy
    (``draw_dots``), lines with Pillow; the grid and the circles come from a cache while the axes stay."""
    x0, x1, y0, y1 = frame.bounds
    k = width / (x1 - x0)
    s = RASTER_SCALE

    def px(points) -> np.ndarray:
        """Data coordinates -> pixels (x right, y down), (n, 2)."""
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        return np.stack([(points[:, 0] - x0) * k, (y1 - points[:, 1]) * k], 1)

    means = None if frame.means is None or not frame.radius else tuple(map(tuple, px(frame.means).round(2).tolist()))
    canvas = _grid_and_circles(width, height, tuple(grid), th.grid_color, means,
                               0.0 if frame.radius is None else frame.radius * k, round(s)).copy()
    if "manifold" in layers and frame.manifold is not None:
        canvas = _polylines(canvas, [px(line) for line in frame.manifold], MANIFOLD_COLOR, 1.0,
                            1.2 * th.line_scale * s)
    if "real" in layers:  # the same points every frame: where their discs fall is cached with the axes
        real = np.ascontiguousarray(frame.real, dtype=np.float32)
        colour = _rgba(DATA_COLOR, 0.55)
        blend(canvas, *_real_cover(real.tobytes(), frame.bounds, width, height, 1.6 * th.marker_scale * s,
                                   colour[3] / 255), colour[:3])
    if "trails" in layers and frame.trails is not None and len(frame.trails) > 1:
        trails = px(np.swapaxes(frame.trails, 0, 1)).reshape(frame.trails.shape[1], -1, 2)
        canvas = _polylines(canvas, list(trails), TRAIL_COLOR, 0.8, 1.3 * th.line_scale * s)
    if "fake" in layers:
        draw_dots(canvas, px(frame.fake), 2.1 * th.marker_scale * s, _rgba(GEN_COLOR, 0.8))
    if "arrows" in layers and len(frame.arrow_from):
        starts, ends = _arrow_segments(frame)
        segments = np.stack([px(starts), px(ends)], 1)  # (n, 2 ends, 2)
        canvas = _polylines(canvas, list(segments), ARROW_COLOR, 1.0, 1.4 * th.line_scale * s)
    return png_uri(canvas)


@functools.lru_cache(maxsize=8)
def _real_cover(real: bytes, bounds: tuple[float, float, float, float], width: int, height: int, radius: float,
                alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """``dot_cover`` of the real points (float32 bytes) in a plot area of ``bounds``."""
    x0, x1, y0, y1 = bounds
    k = width / (x1 - x0)
    points = np.frombuffer(real, np.float32).reshape(-1, 2).astype(float)
    pixels, cover = dot_cover(np.stack([(points[:, 0] - x0) * k, (y1 - points[:, 1]) * k], 1), radius, alpha,
                              width, height)
    pixels.flags.writeable = cover.flags.writeable = False
    return pixels, cover


@functools.lru_cache(maxsize=8)
def _grid_and_circles(width: int, height: int, grid: tuple, grid_color: str, means: tuple | None, radius: float,
                      circle_width: int) -> np.ndarray:
    """The plot area's fixed layers: grid lines and the 3σ circles round the modes (pixel centres
    ``means``), as an RGBA array (read-only: a frame draws on a copy). Cached: they change only with the
    axes, which stay put while playing."""
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image, "RGBA")  # "RGBA": each shape is blended over what is there
    for gx, gy in grid:
        line = [(gx * width, 0), (gx * width, height)] if gx is not None else [(0, gy * height), (width, gy * height)]
        draw.line(line, fill=_rgba(grid_color, 0.8), width=1)
    for a, b in means or ():
        draw.ellipse((a - radius, b - radius, a + radius, b + radius), outline=_rgba("#555555", 0.8), width=circle_width)
    pixels = np.array(image)
    pixels.flags.writeable = False
    return pixels


def _polylines(canvas: np.ndarray, lines: Sequence[np.ndarray], colour: str, alpha: float,
               line_width: float) -> np.ndarray:
    """``canvas`` with each line ((n, 2) pixel points, non-finite ones left out) blended over it by Pillow."""
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image, "RGBA")
    fill, w = _rgba(colour, alpha), max(1, round(line_width))
    for line in lines:
        line = line[np.isfinite(line).all(1)]
        if len(line) > 1:
            draw.line(line.ravel().tolist(), fill=fill, width=w, joint="curve")
    return np.array(image)


def view_html(frame: Frame, layers: Sequence[str], alt: str, highlight: str | None = None, note: str = "",
              caption: str | None = None) -> str:
    """The 2-D view for Play, as HTML (``st.html``): the plot area is one PNG drawn on the server (points,
    lines, arrows, grid) over D(x)'s 60x60 image, with the tick labels as text round it and the legend
    beside it, on the right. Positions are percentages of a box of the theme's proportions, so it scales
    with its column.

    Not an SVG image (as on the 1-D page): thousands of vector dots, or an SVG wrapping PNGs, cost the
    browser most of each frame; two PNGs and a few lines of text decode in about a millisecond.
    ``highlight`` ("D" or "G") frames the plot in that network's colour and ``note`` says why (slow motion);
    ``caption`` is a line of small grey text under the view (as ``st.caption`` draws it).
    """
    th = current()
    f = th.font
    items = _legend_items(frame, layers)
    legend_w = max([text_width(label, th.legend) + 3 * th.legend for label, _, _ in items], default=0)
    if highlight and note:
        legend_w = max(legend_w, min(text_width(note, th.legend), 9 * th.legend))  # a long note wraps
    height = th.figure_height
    top, bottom, left = 10, height - 2.2 * f, 3.0 * f
    x0, x1, y0, y1 = frame.bounds
    scale = (bottom - top) / (y1 - y0)  # the plot is as tall as the box; its width follows (equal axes)
    pw, ph = (x1 - x0) * scale, (y1 - y0) * scale
    width = left + pw + 16 + legend_w + 10

    def box(x: float, y: float, w: float | None = None, h: float | None = None) -> str:
        size = "" if w is None else f"width:{100 * w / width:.3f}%;height:{100 * h / height:.3f}%;"
        return f"position:absolute;left:{100 * x / width:.3f}%;top:{100 * y / height:.3f}%;{size}"

    xt = [(v, left + (v - x0) * scale) for v in nice_ticks(x0, x1, 6)]
    yt = [(v, bottom - (v - y0) * scale) for v in nice_ticks(y0, y1, 6)]
    out = [f'<div role="img" aria-label="{escape(alt)}" style="position:relative;width:100%;'
           f'aspect-ratio:{width:.1f}/{height};font-family:{escape(FONT_FAMILY)};font-size:{th.tick}px;color:#222;'
           f'line-height:1">']
    if "heatmap" in layers:  # D(x) on its grid, stretched smoothly (the page's images are otherwise pixelated)
        (gx0, gy0), (gx1, gy1) = [(left + (gx - x0) * scale, bottom - (gy - y0) * scale)
                                  for gx, gy in ((frame.grid_x[0], frame.grid_y[-1]), (frame.grid_x[-1], frame.grid_y[0]))]
        out.append(f'<img src="{heat_png(frame.d)}" alt="" style="{box(gx0, gy0, gx1 - gx0, gy1 - gy0)}'
                   f'image-rendering:auto"/>')
    grid = [((xx - left) / pw, None) for _, xx in xt] + [(None, (yy - top) / ph) for _, yy in yt]
    png = plot_area_png(frame, layers, round(pw * RASTER_SCALE), round(ph * RASTER_SCALE), th, grid)
    out.append(f'<img src="{png}" alt="" style="{box(left, top, pw, ph)}image-rendering:auto"/>')
    frame_colour = HIGHLIGHT.get(highlight or "", "#444")
    frame_width = 5 * th.line_scale if highlight else 1
    out.append(f'<div style="{box(left, top, pw, ph)}box-sizing:border-box;border:{frame_width:g}px solid {frame_colour}">'
               f'</div>')
    for v, xx in xt:
        out.append(f'<span style="{box(xx, bottom + 4)}transform:translateX(-50%)">{v:g}</span>')
    for v, yy in yt:
        out.append(f'<span style="{box(0, yy)}width:{100 * (left - 6) / width:.3f}%;text-align:right;'
                   f'transform:translateY(-50%)">{v:g}</span>')
    out.append(_html_legend(items, 100 * (left + pw + 16) / width, th, highlight, note))
    out.append("</div>")
    if caption:  # one root element still: the view and its caption in a plain div
        out = ["<div>", *out, f'<p style="margin:0.5rem 0 0;font-size:0.875rem;color:rgba(49,51,63,0.6)">'
                              f'{escape(caption)}</p></div>']
    return "".join(out)


def _html_legend(items, left_percent: float, th: Theme, highlight: str | None, note: str) -> str:
    """The legend beside the plot, on its right (one entry a line), led in slow motion by the note on which
    network moved."""
    parts = []
    if highlight and note:
        parts.append(f'<b style="color:{HIGHLIGHT[highlight]};line-height:1.2">{escape(note)}</b>')
    for label, colour, kind in items:
        size = round(8 * th.marker_scale)
        mark = {"dot": f"width:{size}px;height:{size}px;border-radius:50%;background:{colour}",
                "box": f"width:18px;height:12px;background:{colour}",
                "line": f"width:20px;height:0;border-top:{2 * th.line_scale:g}px solid {colour}"}[kind]
        parts.append(f'<span style="display:inline-flex;align-items:center;gap:6px">'
                     f'<span style="display:inline-block;flex:none;{mark}"></span>{escape(label)}</span>')
    return (f'<div style="position:absolute;left:{left_percent:.3f}%;right:0;top:0;display:flex;'
            f'flex-direction:column;row-gap:8px;font-size:{th.legend}px">{"".join(parts)}</div>')


# --- Plotly (paused) ------------------------------------------------------------------------------

def _r(a) -> list:
    return np.round(np.asarray(a, dtype=float), 4).tolist()


def _polyline_xy(polylines) -> tuple[list, list]:
    """Several polylines as one trace: points joined, lines separated by None."""
    xs: list = []
    ys: list = []
    for line in polylines:
        line = np.asarray(line, dtype=float)
        xs += _r(line[:, 0]) + [None]
        ys += _r(line[:, 1]) + [None]
    return xs, ys


CANVAS_GRID = 41  # the clickable points of the drawing canvas per side


def canvas_grid(bounds: tuple[float, float, float, float], n: int = CANVAS_GRID) -> tuple[np.ndarray, np.ndarray]:
    """The invisible points a click on the canvas selects (Plotly reports clicks on points only)."""
    x0, x1, y0, y1 = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return gx.ravel(), gy.ravel()


def view_figure(frame: Frame, layers: Sequence[str], canvas: bool = False, highlight: str | None = None,
                note: str = "") -> go.Figure:
    """The 2-D view with Plotly (equal scale). ``canvas`` adds the invisible grid of clickable points
    that turns a click (or a box selected with the toolbar's Box Select) into part of a drawn target."""
    th = current()
    x0, x1, y0, y1 = frame.bounds
    traces = []
    if "heatmap" in layers:
        traces.append(go.Heatmap(x=_r(frame.grid_x), y=_r(frame.grid_y), z=np.round(frame.d, 3).tolist(), zmin=0,
                                 zmax=1, colorscale=HEAT_SCALE,
                                 colorbar=dict(title=dict(text="D(x)"), thickness=14, len=0.42, y=0, yanchor="bottom"),
                                 name="D(x)",
                                 hovertemplate="D(x) = %{z:.2f}<extra></extra>"))
    if "manifold" in layers and frame.manifold is not None:
        mx, my = _polyline_xy(frame.manifold)
        traces.append(go.Scatter(x=mx, y=my, mode="lines", line=dict(color=MANIFOLD_COLOR, width=1.2),
                                 name=t("modes.layer.manifold"), hoverinfo="skip"))
    if "real" in layers:
        traces.append(go.Scatter(x=_r(frame.real[:, 0]), y=_r(frame.real[:, 1]), mode="markers",
                                 marker=dict(color=DATA_COLOR, size=3.5, opacity=0.55), name=t("modes.layer.real"),
                                 hoverinfo="skip"))
    if "trails" in layers and frame.trails is not None and len(frame.trails) > 1:
        tx, ty = _polyline_xy(np.swapaxes(frame.trails, 0, 1))
        traces.append(go.Scatter(x=tx, y=ty, mode="lines", line=dict(color=TRAIL_COLOR, width=1.6),
                                 name=t("modes.layer.trails"), hoverinfo="skip"))
    if "fake" in layers:
        traces.append(go.Scatter(x=_r(frame.fake[:, 0]), y=_r(frame.fake[:, 1]), mode="markers",
                                 marker=dict(color=GEN_COLOR, size=4.5, opacity=0.8), name=t("modes.layer.fake"),
                                 hovertemplate="G(z) = (%{x:.2f}, %{y:.2f})<extra></extra>"))
    if "arrows" in layers and len(frame.arrow_from):
        starts, ends = _arrow_segments(frame)
        ax = np.stack([starts[:, 0], ends[:, 0], np.full(len(starts), np.nan)], 1).ravel()
        ay = np.stack([starts[:, 1], ends[:, 1], np.full(len(starts), np.nan)], 1).ravel()
        traces.append(go.Scatter(x=[None if math.isnan(v) else v for v in _r(ax)],
                                 y=[None if math.isnan(v) else v for v in _r(ay)], mode="lines",
                                 line=dict(color=ARROW_COLOR, width=1.4), name=t("modes.layer.arrows"),
                                 hoverinfo="skip"))
    if canvas:
        gx, gy = canvas_grid(frame.bounds)
        traces.append(go.Scatter(x=_r(gx), y=_r(gy), mode="markers", name=t("modes.fig.canvas"),
                                 marker=dict(size=14, color="rgba(0,0,0,0)"), showlegend=False,
                                 hovertemplate="(%{x:.2f}, %{y:.2f})<extra></extra>"))
    shapes = []
    if frame.means is not None and frame.radius:
        shapes = [dict(type="circle", x0=a - frame.radius, x1=a + frame.radius, y0=b - frame.radius,
                       y1=b + frame.radius, line=dict(color="#555", width=1, dash="dot"), layer="above")
                  for a, b in frame.means]
    if highlight:  # round the plot area itself (in data coordinates: the axes are narrower than the paper)
        shapes.append(dict(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, line=dict(color=HIGHLIGHT[highlight], width=5)))
    fig = go.Figure(traces)
    fig.update_layout(
        height=th.figure_height, margin=dict(l=round(3 * th.font), r=10, t=round(2 * th.legend), b=round(2.4 * th.font)),
        xaxis=dict(range=[x0, x1], constrain="domain", showgrid=True, zeroline=False),
        yaxis=dict(range=[y0, y1], scaleanchor="x", scaleratio=1, constrain="domain", showgrid=True, zeroline=False),
        # the legend beside the plot (top right, the colour bar under it); slow motion's note above the plot
        legend=dict(orientation="v", x=1.02, xanchor="left", y=1, yanchor="top"), shapes=shapes,
        title=dict(text=f"<b>{note}</b>", font=dict(color=HIGHLIGHT[highlight]), x=0, xanchor="left", y=0.99,
                   yanchor="top") if highlight and note else None,
    )
    if not canvas:  # on the canvas Streamlit picks the modes: a click selects a point (pan + "event+select");
        # a dragged box needs the toolbar's Box Select (in select mode Streamlit makes clicks select nothing)
        fig.update_layout(dragmode="zoom")
    return style(fig, th)
