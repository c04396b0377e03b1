"""One figure and page style for the whole app: ``normal`` (a laptop) or ``projector`` (a lecture hall).

Every page styles its figures through here: ``style(fig)`` for a Plotly figure, ``current()`` for
the sizes an SVG or image-building helper needs, ``upscale_factor`` for sample images (always
nearest-neighbour: crisp pixels, never blurred). Projector mode (sidebar switch, or ``?projector=1``)
makes text and fonts larger, lines and markers thicker, colours darker, images bigger.
The paper's colours (Figure 1 of Goodfellow et al. 2014) are defined here once.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from views._i18n import t

PROJECTOR_KEY = "projector"

# Figure 1 of Goodfellow et al. 2014: p_data black dotted, p_g green solid, D blue dashed.
DATA_COLOR = "black"
GEN_COLOR = "#1a9e3f"
D_COLOR = "#1f4fd1"
# Hangul needs a CJK font: Noto Sans CJK KR (Debian fonts-noto-cjk), Apple SD Gothic Neo (macOS),
# Malgun Gothic (Windows); Latin text keeps a clean sans-serif.
FONT_FAMILY = ("'Noto Sans', 'Noto Sans CJK KR', 'Apple SD Gothic Neo', 'Malgun Gothic', "
               "'Helvetica Neue', Arial, sans-serif")


@dataclass(frozen=True)
class Theme:
    name: str
    font: int  # body text of figures (axis titles, annotations), px
    title: int  # figure titles, px
    tick: int  # tick labels, px
    legend: int  # legend entries, px
    line_scale: float  # multiplies every trace's line width
    marker_scale: float  # multiplies every marker size
    line_width: float  # default width of a line that sets none
    grid_color: str
    image_px: int  # on-screen size of one sample image (a 28 px digit is drawn this big)
    figure_height: int  # the main figure's height, px
    root_font_px: int  # the page's base font size (Streamlit sizes in rem, so this scales the page)


NORMAL = Theme("normal", font=15, title=18, tick=13, legend=14, line_scale=1.0, marker_scale=1.0,
               line_width=2.0, grid_color="#e5e5e5", image_px=84, figure_height=440, root_font_px=16)
PROJECTOR = Theme("projector", font=22, title=26, tick=19, legend=20, line_scale=1.8, marker_scale=1.6,
                  line_width=3.5, grid_color="#bdbdbd", image_px=140, figure_height=470, root_font_px=20)
THEMES = {"normal": NORMAL, "projector": PROJECTOR}


def is_projector() -> bool:
    return bool(st.session_state.get(PROJECTOR_KEY, False))


def current() -> Theme:
    return PROJECTOR if is_projector() else NORMAL


def style(fig, theme: Theme | None = None, height: int | None = None):
    """Apply the theme's fonts, line widths, marker sizes and grid to a Plotly figure (in place)."""
    th = theme or current()
    fig.update_layout(
        font=dict(family=FONT_FAMILY, size=th.font, color="black"),
        title_font=dict(size=th.title), legend_font=dict(size=th.legend),
        hoverlabel=dict(font_size=th.font), plot_bgcolor="white", paper_bgcolor="white")
    if height is not None:
        fig.update_layout(height=height)
    fig.update_xaxes(tickfont=dict(size=th.tick), title_font=dict(size=th.font), gridcolor=th.grid_color,
                     linecolor="black", zerolinecolor=th.grid_color)
    fig.update_yaxes(tickfont=dict(size=th.tick), title_font=dict(size=th.font), gridcolor=th.grid_color,
                     linecolor="black", zerolinecolor=th.grid_color)
    fig.update_annotations(font_size=th.font)
    if th.line_scale != 1.0 or th.marker_scale != 1.0:
        for trace in fig.data:
            line = getattr(trace, "line", None)
            if line is not None and "width" in line:
                line.width = (line.width or th.line_width) * th.line_scale
            marker = getattr(trace, "marker", None)
            if marker is not None and "size" in marker and isinstance(marker.size, (int, float)):
                marker.size = marker.size * th.marker_scale
    return fig


def upscale_factor(image_size: int, theme: Theme | None = None) -> int:
    """The integer nearest-neighbour scale that draws an ``image_size`` px image about ``image_px`` big."""
    th = theme or current()
    return max(1, round(th.image_px / max(1, image_size)))


def projector_toggle() -> bool:
    """The sidebar's projector switch (starts from ``?projector=1``); injects the page CSS."""
    if PROJECTOR_KEY not in st.session_state:
        st.session_state[PROJECTOR_KEY] = st.query_params.get("projector", "0") in ("1", "true", "on", "yes")
    st.sidebar.toggle(t("common.projector"), key=PROJECTOR_KEY, help=t("common.projector_help"))
    on = is_projector()
    if on:
        st.query_params["projector"] = "1"
    elif "projector" in st.query_params:
        del st.query_params["projector"]
    th = current()
    # Streamlit sizes text, widgets and spacing in rem: the root font size scales the whole page.
    # Images drawn by the app are already upscaled with nearest-neighbour; keep browsers from smoothing.
    css = f"html {{ font-size: {th.root_font_px}px; }} img {{ image-rendering: pixelated; }}"
    if on:
        css += (" .stMainBlockContainer { padding-top: 2.2rem; padding-left: 1.5rem; padding-right: 1.5rem; }"
                " .stMainBlockContainer h1 { font-size: 2.4rem; padding-bottom: 0.5rem; }"
                " [data-testid='stMarkdownContainer'] { color: #000; }")
    st.html(f"<style>{css}</style>")
    return on
