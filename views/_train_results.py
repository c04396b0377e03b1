"""What a run leaves behind on the training page: the timelapse of its sample grids (scrub back, or
download it as a GIF) and the results row (save a checkpoint, open it in the latent page, download
the metrics and the current grid)."""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np
import streamlit as st

from gan_core.checkpoint import CheckpointError, checkpoint_zip_bytes
from gan_core.images import gif_bytes
from gan_core.runs_quota import RunsFull, mark_in_use
from gan_core.worker import RunSnapshot, TrainingRun
from views._i18n import error_text, t, user_text
from views._session_keys import TRAIN_RUN
from views._train_pictures import grid_image, grid_png

# Session-state keys this module owns. OPEN_LATENT: "run" (or "runs:NAME", from the watch view) asks the
# page to switch to the latent page on its next full run; SAVED: the last saved checkpoint's path.
OPEN_LATENT, SAVED = "train_open_latent", "train_saved"
SCRUB, SCRUB_NEWEST = "train_scrub", "train_scrub_newest"  # the timelapse slider; the newest grid's step
SAVE, TO_LATENT = "train_save", "train_to_latent"
DL_GIF, DL_CHECKPOINT, DL_CSV, DL_PNG = "train_dl_gif", "train_dl_checkpoint", "train_dl_csv", "train_dl_png"
DOWNLOAD = ":material/download:"


def _timelapse_gif(run: TrainingRun) -> bytes:
    """Every kept grid as an animated GIF of about 10 seconds (built when the button is clicked)."""
    snap = run.snapshot()
    frames = [grid_image(grid, snap.config["image_size"]) for _, grid in snap.grids]
    return gif_bytes(frames, duration_ms=int(np.clip(10_000 / len(frames), 40, 500)))


def _current_grid_png(run: TrainingRun) -> bytes:
    snap = run.snapshot()
    latest = snap.latest_grid
    return grid_png(latest[1], snap.config["image_size"]) if latest is not None else b""


def timelapse(run: TrainingRun, snap: RunSnapshot) -> None:
    if len(snap.grids) < 2:
        return
    steps = [s for s, _ in snap.grids]
    with st.container(border=True):
        st.subheader(t("train.timelapse.title"))
        # A slider left at the newest grid follows training; once moved back, it stays put.
        if st.session_state.get(SCRUB) in (None, st.session_state.get(SCRUB_NEWEST)):
            st.session_state[SCRUB] = steps[-1]
        st.session_state[SCRUB_NEWEST] = steps[-1]
        chosen = st.slider(t("train.metric.step"), steps[0], steps[-1], key=SCRUB)
        i = min(bisect.bisect_left(steps, chosen), len(steps) - 1)
        st.image(grid_png(snap.grids[i][1], snap.config["image_size"]),
                 caption=t("train.timelapse.at", step=f"{steps[i]:,}"))
        st.caption(t("train.timelapse.caption", n=len(steps)))
        st.download_button(t("train.timelapse.gif"), icon=DOWNLOAD, key=DL_GIF, file_name="timelapse.gif",
                           data=lambda: _timelapse_gif(run), mime="image/gif", on_click="ignore")


@st.fragment
def results() -> None:
    run: TrainingRun | None = st.session_state.get(TRAIN_RUN)
    if run is None:
        return
    snap = run.snapshot()
    st.subheader(t("train.results"))
    cols = st.columns(4)
    with cols[0]:
        if st.button(t("train.save"), icon=":material/save:", key=SAVE, width="stretch"):
            try:
                st.session_state[SAVED] = str(run.save_checkpoint())
            except (CheckpointError, RunsFull) as exc:  # disk full, quota, read-only: the engine's sentence
                st.error(error_text(exc))
            except OSError as exc:  # metrics.csv beside it
                st.error(t("train.save_failed", reason=exc.strerror or type(exc).__name__))
        saved = st.session_state.get(SAVED)
        if saved:
            mark_in_use(saved)  # on the page: the runs folder's quota keeps it
            st.caption(t("train.saved", name=user_text(Path(saved).name)))
            st.download_button(t("train.download_checkpoint"), icon=DOWNLOAD,
                               data=lambda: checkpoint_zip_bytes(saved), file_name=f"{Path(saved).name}.zip",
                               mime="application/zip", on_click="ignore", key=DL_CHECKPOINT, width="stretch")
    with cols[1]:
        if st.button(t("train.open_latent"), icon=":material/explore:", key=TO_LATENT, width="stretch"):
            # Switch pages from a full run: st.switch_page inside a fragment leaves the new page blank.
            st.session_state[OPEN_LATENT] = "run"
            st.rerun(scope="app")
    name = f"{snap.config['preset']}-{Path(snap.dataset).stem}"
    cols[2].download_button(t("train.download_metrics"), icon=DOWNLOAD, data=run.metrics_csv,
                            file_name=f"{name}-metrics.csv", mime="text/csv", on_click="ignore", key=DL_CSV,
                            width="stretch")
    cols[3].download_button(t("train.download_grid"), icon=DOWNLOAD, data=lambda: _current_grid_png(run),
                            file_name=f"{name}-samples.png", mime="image/png", on_click="ignore",
                            key=DL_PNG, width="stretch")
