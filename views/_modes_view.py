"""The 2-D page's picture of a run: real and fake points, D(x) as shading, G's push as arrows, the
manifold and trails, in the layers chosen, and beside it the model overview graph lit for the same
update (``views._modes_graph``). HTML around server-drawn PNGs while playing, Plotly when paused, a
canvas to draw on when the target is a drawing. This module owns the layers' and the highlight's
session-state keys."""

from __future__ import annotations

import math
import time

import numpy as np
import streamlit as st

from gan_core.toy.toy2d_train import Toy2DTrainer
from views import _modes_graph as graph
from views import _modes_points as points
from views import _plots2d as plots
from views._i18n import option_labels, t
from views._settings import PERSIST

SHADING_SECONDS = 0.2  # Play recomputes D(x)'s shading this often, not every frame (a 60x60 pass through D)
ARROWS = 60  # fake points that get an arrow (more is a red blur)
CANVAS_BOUNDS = (-3.0, 3.0, -3.0, 3.0)  # the empty drawing canvas
LAYERS = "modes_layers"
# Which network the last single step or slow-motion update moved ("D", "G"), and when the shading was
# last computed.
HIGHLIGHT, SHADED_TIME = "modes_highlight", "modes_shaded_time"
SLOW = "modes_slow"  # slow motion: one update a frame, shaded every frame (the page's toggle)
DEFAULTS = {LAYERS: ["real", "fake", "heatmap", "arrows", "manifold", "trails"], SLOW: False}
STAGE_COLUMNS = [1.9, 1]  # the view, the graph: the view gets ~47% of a 1280 px screen with the sidebar open
# On a narrow screen (a 1280 px projector at 150% zoom is 853 CSS px) the graph goes under the view, which
# keeps the whole width of the page: two side by side would leave the view a third of the screen.
STAGE_CSS = ("<style>.modes-stage { display: flex; gap: 1rem; align-items: flex-start; } "
             "@media (max-width: 1000px) { .st-key-modes_stage [data-testid='stHorizontalBlock'], .modes-stage "
             "{ flex-wrap: wrap; } .st-key-modes_stage [data-testid='stColumn'], .modes-stage > div "
             "{ flex: 1 1 100% !important; min-width: 100% !important; } }</style>")


def _note(highlight: str | None, trainer: Toy2DTrainer) -> str:
    """Slow motion's words on which network just moved."""
    if highlight == "D":
        return t("modes.moved_d", i=trainer.d_in_a_row, k=trainer.config.k)
    if highlight == "G":
        return t("modes.moved_g")
    return ""


def frame_of(trainer: Toy2DTrainer, drawing: bool = False, shading: bool = True) -> plots.Frame:
    """What the view draws of ``trainer`` now (``drawing``: room round the points to draw more)."""
    target = trainer.target
    means, std = (target.means, target.std) if target is not None and target.means is not None else (None, None)
    frame = plots.frame_from_view(trainer.view(arrows=ARROWS, shading=shading), means, std)
    if drawing:  # the canvas keeps room to draw round the points drawn so far
        b, c = frame.bounds, CANVAS_BOUNDS
        frame = plots.Frame(**{**frame.__dict__, "bounds": (min(b[0], c[0]), max(b[1], c[1]), min(b[2], c[2]),
                                                             max(b[3], c[3]))})
    return frame


def _empty_canvas() -> plots.Frame:
    empty = np.zeros((0, 2))
    x0, x1, y0, y1 = CANVAS_BOUNDS
    return plots.Frame(bounds=CANVAS_BOUNDS, real=empty, fake=empty, grid_x=np.array([x0, x1]),
                       grid_y=np.array([y0, y1]), d=np.full((2, 2), 0.5), arrow_from=empty, arrow_push=empty)


def _shading_due(playing: bool) -> bool:
    """Whether this frame recomputes D(x)'s shading: always when paused and in slow motion (one update a
    frame, and which network moved is the point), else every ``SHADING_SECONDS``."""
    s = st.session_state
    now = time.monotonic()
    if not playing or s[SLOW] or now - s.get(SHADED_TIME, -math.inf) >= SHADING_SECONDS:
        s[SHADED_TIME] = now
        return True
    return False


def _live_view(trainer: Toy2DTrainer, drawing: bool) -> str:
    """The view while playing: HTML around server-drawn PNGs, the step counter inside it."""
    s = st.session_state
    highlight = s.get(HIGHLIGHT)
    frame = frame_of(trainer, drawing, _shading_due(True))
    return plots.view_html(frame, s[LAYERS] or [], t("modes.fig.view_alt"), highlight, _note(highlight, trainer),
                           caption=t("modes.counter", d=trainer.d_steps, g=trainer.g_steps))


def draw_view(trainer: Toy2DTrainer | None, drawing: bool) -> None:
    """The paused picture with Plotly (a canvas when drawing), and the step counter under it."""
    s = st.session_state
    layers = s[LAYERS] or []
    highlight = s.get(HIGHLIGHT)
    note = _note(highlight, trainer) if trainer is not None else ""
    frame = frame_of(trainer, drawing, _shading_due(False)) if trainer is not None else _empty_canvas()
    if drawing:
        st.plotly_chart(plots.view_figure(frame, layers if trainer is not None else [], canvas=True,
                                          highlight=highlight, note=note),
                        key=points.CANVAS, on_select=points.on_canvas_select, selection_mode=("points", "box"))
    else:
        st.plotly_chart(plots.view_figure(frame, layers, highlight=highlight, note=note), key="modes_view")
    if trainer is not None:
        st.caption(t("modes.counter", d=trainer.d_steps, g=trainer.g_steps))


def draw_stage(trainer: Toy2DTrainer | None, playing: bool, drawing: bool) -> None:
    """The view and beside it the overview graph, lit for the update the view shows. While playing, both
    are one element, so a frame's view and graph reach the browser together (as two, a look between
    their paints could see the graph of the frame before)."""
    graph_html = graph.graph_html(st.session_state.get(HIGHLIGHT))
    if playing and trainer is not None:
        view_part, graph_part = STAGE_COLUMNS
        st.html(f'<div class="modes-stage"><div style="flex:{view_part} 1 0;min-width:0">{_live_view(trainer, drawing)}'
                f'</div><div style="flex:{graph_part} 1 0;min-width:0">{graph_html}</div></div>')
        return
    view_col, graph_col = st.columns(STAGE_COLUMNS)
    with view_col:
        draw_view(trainer, drawing)
    graph_col.html(graph_html)


def layer_pills() -> None:
    """Which layers the view draws (real, fake, D(x)'s shading, G's push, the manifold, trails)."""
    st.pills(t("modes.layers"), plots.LAYERS, selection_mode="multi", key=LAYERS, wrap=True,
             format_func=option_labels("modes.layer", plots.LAYERS), persist_state=PERSIST)
