"""The 2-D page's own targets: points drawn on the canvas (a click drops a blob, a box fills itself) or
read from an uploaded CSV (standardised when far from the networks' size, and said so). This module
owns the drawing's session-state keys (``CLICKS``, ``BOXES``) and the upload's."""

from __future__ import annotations

import streamlit as st

from gan_core.toy.toy2d import MAX_CSV_BYTES, fit_to_networks, points_from_csv, points_from_drawing
from views._i18n import t

CLICKS, BOXES = "modes_clicks", "modes_boxes"  # the drawing: the points clicked, the boxes selected
CANVAS = "modes_canvas"  # the view's chart while drawing (its selection is the click or the box)
DEFAULTS = {CLICKS: [], BOXES: []}  # replaced, never changed in place


def drawn_points(seed: int):
    """The drawing's points (None while it is empty; ``seed`` places each blob's points); raises
    Toy2DError for a drawing that cannot work."""
    s = st.session_state
    if not s[CLICKS] and not s[BOXES]:
        return None
    return points_from_drawing([tuple(c) for c in s[CLICKS]], [tuple(b) for b in s[BOXES]], seed=seed)


def on_canvas_select() -> None:
    """Canvas callback: a click drops a blob of points, a box selection fills the box."""
    s = st.session_state
    selection = (s.get(CANVAS) or {}).get("selection") or {}
    boxes = selection.get("box") or []
    if boxes:
        for box in boxes:
            (x0, x1), (y0, y1) = sorted(box["x"][:2]), sorted(box["y"][:2])
            s[BOXES] = [*s[BOXES], (x0, x1, y0, y1)]
    else:
        s[CLICKS] = [*s[CLICKS], *[(p["x"], p["y"]) for p in selection.get("points") or []]]


def clear_drawing() -> None:
    """The Clear button's callback: an empty canvas."""
    st.session_state[CLICKS], st.session_state[BOXES] = [], []


def uploaded_points():
    """The uploaded CSV's points (None before a file is chosen), standardised when far from the networks'
    size (the change is shown under the file); raises Toy2DError for a bad file."""
    file = st.file_uploader(t("modes.upload.label"), type=["csv", "txt"], key="modes_upload",
                            max_upload_size=max(1, MAX_CSV_BYTES // 1_000_000),  # MB, as the widget says
                            help=t("modes.upload.help", limit=f"{MAX_CSV_BYTES // 1_000_000}"))
    if file is None:
        return None, None
    points, rescaling = fit_to_networks(points_from_csv(file.getvalue()))
    if rescaling is not None:  # the student sees by how much their points were changed
        shrink = rescaling.factor < 1
        factor = 1 / rescaling.factor if shrink else rescaling.factor
        st.caption(t("modes.upload.rescaled_down" if shrink else "modes.upload.rescaled_up",
                     factor=f"{factor:,.0f}" if factor >= 1000 else f"{factor:.3g}",
                     cx=_plain_number(rescaling.centre[0]), cy=_plain_number(rescaling.centre[1])))
    return points, file.name


def _plain_number(x: float) -> str:
    """A coordinate for a sentence: whole numbers when large (1000000, not 1e+06), else 3 digits."""
    return f"{x:.0f}" if abs(x) >= 1000 else f"{x:.3g}"
