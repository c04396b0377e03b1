"""What the training page draws in more than one view: sample grids (live, results, replay, watch)
and the loss and D(x) / D(G(z)) charts (live, replay, watch)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gan_core.images import png_bytes, upscale
from views import _train_charts as charts
from views._charts import show
from views._i18n import t
from views._theme import upscale_factor

CURVE_SMOOTHING = "train_curve_smoothing"  # the session-state key this module owns: the charts' smoothing slider


def grid_image(grid: np.ndarray, image_size: int) -> np.ndarray:
    """A sample grid upscaled for the screen (nearest-neighbour: crisp pixels; bigger in projector mode)."""
    return upscale(grid, upscale_factor(image_size))


def grid_png(grid: np.ndarray, image_size: int) -> bytes:
    """``grid_image`` as PNG bytes, encoded once per grid and screen size (see ``_encoded_grid``)."""
    return _encoded_grid(grid, upscale_factor(image_size))


# Shared by the sessions: the live view redraws every second, but the real grid never changes and the
# generated one only when the worker renders a new one, so each is encoded once instead of every second.
@st.cache_data(max_entries=64, show_spinner=False)
def _encoded_grid(grid: np.ndarray, factor: int) -> bytes:
    return png_bytes(upscale(grid, factor))


def smoothing_control() -> float:
    """The charts' smoothing slider (one per page view; several chart pairs may share it)."""
    st.session_state.setdefault(CURVE_SMOOTHING, 0.9)
    return st.slider(t("train.smoothing"), 0.0, 0.99, step=0.01, key=CURVE_SMOOTHING)


def curves(history: dict[str, np.ndarray], key: str, live: bool = False, smoothing: float | None = None,
           stacked: bool = False) -> None:
    """The loss and D(x) / D(G(z)) charts (shared by the live view, the replay, the watch view and the
    compare view).

    ``live``: the run is training and the page redraws every second, so the charts are SVG pictures.
    ``smoothing``: given when the caller draws ``smoothing_control`` once for several pairs (else the
    pair has its own slider); ``stacked``: one chart above the other (a half-width column)."""
    if len(history["step"]) == 0:
        st.caption(t("train.charts_after_first_step"))
        return
    if smoothing is None:
        smoothing = smoothing_control()
    left, right = (st.container(), st.container()) if stacked else st.columns(2)
    points, last = charts.LIVE_MAX_POINTS if live else charts.MAX_POINTS, f"{int(history['step'][-1]):,}"
    for column, name, chart, caption in (
            (left, "loss", charts.loss_chart(history, smoothing, points), "train.loss_caption"),
            (right, "d", charts.discriminator_chart(history, smoothing, points), "train.d_caption")):
        with column:
            show(chart, live, f"{key}_{name}_chart", t("train.chart.alt", title=chart.title, step=last))
            st.caption(t(caption))
