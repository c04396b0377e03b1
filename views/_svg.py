"""Small SVG drawing helpers shared by the pages' live pictures (the 1-D page's Play, the 2-D page's Play,
the training page's charts while a run trains, the latent page's z bars): ticks, text widths, paths,
strokes in the theme's line widths, and the ``<img>`` that carries an SVG through ``st.html``.

Why pictures at all: a Plotly chart whose data changes is rebuilt from scratch in the browser (~200 ms
on a 2-core laptop); swapping a small SVG costs ~1 ms. Each page shows Plotly again when nothing moves.
"""

from __future__ import annotations

import base64

import numpy as np

from views._theme import Theme


def svg_as_img(svg: str, alt: str) -> str:
    """An ``<img>`` tag showing ``svg``: ``st.html`` strips inline SVG but keeps a data-URI image."""
    data = base64.b64encode(svg.encode()).decode()
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{alt}" style="width:100%;height:auto"/>'


def nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering [lo, hi]."""
    raw = (hi - lo) / max(n, 1)
    power = 10 ** np.floor(np.log10(raw)) if raw > 0 else 1.0
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = np.ceil(lo / step) * step
    return [round(float(v), 10) + 0.0 for v in np.arange(first, hi + step * 1e-9, step)]  # + 0.0: no '-0'


def text_width(text: str, size: float) -> float:
    """Rough width of ``text`` in px: Hangul (and other wide characters) about 1 em, Latin about 0.6."""
    return sum(size * (1.0 if ord(ch) > 0x2E80 else 0.6) for ch in text)


def svg_path(px: np.ndarray, py: np.ndarray) -> str:
    """The ``d`` attribute of a path through the points (px, py), in pixels."""
    pts = " L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py))
    return f"M{pts}"


def dash_attributes(style: dict, width: float) -> str:
    """SVG dash attributes for a Plotly-style ``dash`` ("dot", "dash"; none for solid)."""
    return {"dot": f' stroke-dasharray="{width:g},{2 * width:g}" stroke-linecap="round"',
            "dash": f' stroke-dasharray="{4 * width:g},{2 * width:g}"'}.get(style.get("dash", ""), "")


def stroke(style: dict, th: Theme) -> str:
    """Stroke colour, width (scaled by the theme: thicker on a projector) and dashes of a Plotly-style line."""
    width = style.get("width", 2) * th.line_scale
    return f'stroke="{style["color"]}" stroke-width="{width:g}"{dash_attributes(style, width)}'


def svg_line(px, py, style: dict, th: Theme) -> str:
    """A ``<path>`` element for a Plotly-style line through (px, py)."""
    return f'<path d="{svg_path(px, py)}" fill="none" {stroke(style, th)}/>'


def escape(text: str) -> str:
    """``text`` safe inside an SVG text element."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
