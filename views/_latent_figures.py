"""Figures of the latent page that are redrawn on every slider move, drawn as SVG strings.

A Plotly figure costs the server ~20 ms of Python per draw (its property validators hold the
interpreter lock), which a class of students moving sliders on one server pays dozens of times a
second (BENCHMARKS.md, "A class on one server"); this SVG costs well under a millisecond.
"""

from __future__ import annotations

from typing import Sequence

from views._i18n import t
from views._svg import escape, nice_ticks, text_width
from views._theme import FONT_FAMILY, current

SHOWN_COLOR = "#e67e22"  # the dimensions that have a slider (the title says "orange")
OTHER_COLOR = "#7f8c8d"
WIDTH = 480  # about the picture column's width at 1280 px, so fonts come out near their nominal size


def z_chart_svg(z: Sequence[float], shown: Sequence[int], lo: float, hi: float) -> str:
    """z as a bar chart (one bar per dimension, the slider dimensions orange), y from 1.2·lo to 1.2·hi."""
    th = current()
    values = [float(v) for v in z]
    shown = set(shown)
    height = th.figure_height // 2
    y_lo, y_hi = 1.2 * lo, 1.2 * hi
    tick_width = max(text_width(f"{v:g}", th.tick) for v in nice_ticks(y_lo, y_hi, 4))
    left, right = 1.6 * th.font + tick_width + 8, WIDTH - 8
    top, bottom = 1.9 * th.title, height - 2.4 * th.font - th.tick

    def sy(v: float) -> float:
        v = min(max(v, y_lo), y_hi)  # a bar beyond the range stops at the frame, as Plotly clips it
        return bottom - (v - y_lo) / (y_hi - y_lo) * (bottom - top)

    title = t("latent.move.z_chart_title")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
           f'aria-label="{escape(title)}" font-family="{escape(FONT_FAMILY)}" font-size="{th.tick}">',
           f'<text x="{left:.1f}" y="{1.2 * th.title:.1f}" font-size="{th.title}">{escape(title)}</text>']
    for v in nice_ticks(y_lo, y_hi, 4):
        y = sy(v)
        out.append(f'<line x1="{left:.1f}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{th.grid_color}"/>'
                   f'<text x="{left - 6:.1f}" y="{y + th.tick / 3:.1f}" text-anchor="end" fill="#222">{v:g}</text>')
    step = (right - left) / max(len(values), 1)
    zero = sy(0.0)
    bars = []
    for i, v in enumerate(values):
        y = sy(v)
        colour = SHOWN_COLOR if i in shown else OTHER_COLOR
        bars.append(f'<rect x="{left + i * step + 0.1 * step:.2f}" y="{min(y, zero):.1f}" width="{0.8 * step:.2f}" '
                    f'height="{abs(zero - y):.1f}" fill="{colour}"/>')
    out += bars
    for i in nice_ticks(0, max(len(values) - 1, 1), 5):
        if i <= len(values) - 1:
            x = left + (i + 0.5) * step
            out.append(f'<text x="{x:.1f}" y="{bottom + th.tick + 4:.1f}" text-anchor="middle" fill="#222">{i:g}</text>')
    out.append(f'<g font-size="{th.font}"><text x="{(left + right) / 2:.1f}" y="{height - 6}" text-anchor="middle">'
               f'{escape(t("latent.move.z_chart_x"))}</text>'
               f'<text transform="translate({th.font:.1f},{(top + bottom) / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle">{escape(t("latent.move.z_chart_y"))}</text></g></svg>')
    return "".join(out)
