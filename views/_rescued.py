"""This browser's training run, kept when the app process it trained under died (``gan_core.rescue``).

The process the browser moved to (HAProxy's health check sends it to another one) starts every page
afresh; the training page offers to continue the kept run from where it was saved, and the other pages
say that it is there. While the run's process still saves it (a few seconds), the page says so and
looks again every second until it is saved; a run that could not be kept is said so too. The runs
folder is read at most every ``CHECK_SECONDS`` per session otherwise.
"""

from __future__ import annotations

import time
from datetime import datetime

import streamlit as st

from gan_core.rescue import RescuedRun, forget, rescued_runs
from views import _train_heartbeat as heartbeat
from views._i18n import t, user_text

CHECK_SECONDS = 10.0
CHECKED = "rescued_checked"  # (time.monotonic() of the last look, [RescuedRun])
CONTINUE, DISMISS = "rescued_continue", "rescued_dismiss"


def my_rescued_runs() -> list[RescuedRun]:
    """This browser's kept runs, the newest first ([] when the browser cannot be told)."""
    owner = heartbeat.browser_id()
    if owner is None:
        return []
    checked = st.session_state.get(CHECKED)
    now = time.monotonic()
    if checked is None or now - checked[0] > CHECK_SECONDS or any(r.state == "saving" for r in checked[1]):
        checked = (now, rescued_runs(owner))
        st.session_state[CHECKED] = checked
    return checked[1]


def _words(run: RescuedRun) -> dict:
    return {"preset": user_text(run.preset), "dataset": user_text(run.dataset), "step": f"{run.step:,}",
            "time": datetime.fromtimestamp(run.saved_at).strftime("%H:%M")}


def _until_saved() -> None:
    """Every second while the run's process saves it: once it is saved (or failed), draw the page again."""
    st.session_state.pop(CHECKED, None)
    runs = my_rescued_runs()
    if not runs or runs[0].state != "saving":
        st.rerun()


def _status(run: RescuedRun) -> bool:
    """Say that the run is being saved, or could not be; True when it is saved and can be continued."""
    if run.state == "saving":
        st.info(t("rescued.saving", **_words(run)))
        with st.sidebar:
            st.fragment(_until_saved, run_every=1.0)()
        return False
    if run.state == "failed":
        st.error(t("rescued.failed_full" if run.reason == "runs_full" else "rescued.failed", **_words(run)))
        return False
    return True


def _done_with(run: RescuedRun) -> None:
    forget(run)
    st.session_state.pop(CHECKED, None)


def rescue_offer(locked: bool) -> None:
    """On the training page, before its sidebar: continue this browser's kept run, or let it go."""
    # Here, not at the top: the other pages show rescued_notice without loading PyTorch.
    from gan_core.checkpoint import load_checkpoint
    from gan_core.data.datasets import dataset_names
    from views._train_settings import DATASET, RESCUED, RESUME, UPLOAD_ERRORS, upload_reason

    runs = my_rescued_runs()
    if locked or not runs:
        return
    run = runs[0]
    with st.container(border=True):
        if not _status(run):
            if run.state == "failed" and st.button(t("rescued.dismiss"), icon=":material/close:", key=DISMISS):
                _done_with(run)
                st.rerun()
            return
        st.warning(t("rescued.text", **_words(run)))
        own = run.dataset not in dataset_names()
        if own:
            st.caption(t("rescued.own_images", dataset=user_text(run.dataset)))
        row = st.container(horizontal=True, wrap=True, gap="small")
        if row.button(t("rescued.continue"), icon=":material/play_circle:", key=CONTINUE, type="primary"):
            try:
                ckpt = load_checkpoint(run.folder)
            except UPLOAD_ERRORS as exc:
                _done_with(run)
                st.error(t("rescued.unreadable", reason=upload_reason(exc)))
                return
            st.session_state[RESUME] = (RESCUED + run.folder.name, ckpt)
            if not own:
                st.session_state[DATASET] = run.dataset  # the widget comes later in this run
            _done_with(run)
            st.rerun()
        if row.button(t("rescued.dismiss"), icon=":material/close:", key=DISMISS):
            _done_with(run)
            st.rerun()


def rescued_notice() -> None:
    """On every other page: this browser has a kept run, and where to continue it."""
    runs = my_rescued_runs()
    if runs and _status(runs[0]):
        st.info(t("rescued.notice", **_words(runs[0])))
    if runs and runs[0].state != "saving":
        st.page_link("views/train.py", label=t("rescued.open"), icon=":material/model_training:")
