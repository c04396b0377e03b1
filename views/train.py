"""Train a DCGAN live: losses, D(x) and D(G(z)), and the sample grid update while G learns.

A thin view over ``gan_core.worker``: training runs in a background thread that never calls
Streamlit; this page reads ``run.snapshot()`` about once a second in a fragment. While paused, the
D step / G step / one iteration buttons ask that thread for exactly one more step. The "replay"
mode plays back a recorded run (``gan_core.recording``) with the same charts and grid; "watch"
follows a run the command line is writing; "compare" replays the baseline and one broken DCGAN
guideline side by side (``gan_core.ablation_study``), or trains both live (``gan_core.compare_live``).

The page composes its parts, one module each: ``_train_settings`` (sidebar, URL), ``_train_own`` (the
student's own images: summary, proposed settings), ``_train_run`` (buttons, queue), ``_train_live`` (the
live view), ``_train_results``, ``_train_judge`` (the judge and the report), ``_train_replay`` (replay
and watch), ``_train_compare`` (the guidelines side by side), ``_train_compare_live`` (both trained now)
and ``_train_model`` (layer tables, the lecture's code).
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from gan_core.models import default_model_config
from gan_core.worker import TrainingRun
from views._i18n import t
from views._notes import teaching_notes
from views._rescued import rescue_offer
from views._session_keys import OPEN_IN_LATENT, QUEUED, TRAIN_RUN
from views._train_compare import compare
from views._train_compare_live import live_compare
from views._train_judge import judge_section
from views._train_live import REFRESH_SECONDS, WAS_ACTIVE, live_view
from views._train_model import lecture_code, model_tables
from views._train_replay import replay, watch
from views._train_results import OPEN_LATENT, results
from views._train_run import buttons, notice, take_over_offer
from views._train_own import apply_proposal, own_images
from views._train_settings import (MODE, MODES, OWN_IMAGES, default, resume_checkpoint, sidebar_settings, url_keys,
                                   url_params)
from views._settings import PERSIST
from views._urlstate import link_box, mirror, restore

URL_PARAMS = url_params(*url_keys())
restore(URL_PARAMS, "train")

st.title(t("train.title"))
if st.session_state.get(TRAIN_RUN) is None:  # once a run exists its grid needs the room (projector: one screen)
    st.caption(t("train.intro"))

_open_latent = st.session_state.pop(OPEN_LATENT, None)  # "run", or "runs:NAME" for a watched folder
if _open_latent:
    st.session_state[OPEN_IN_LATENT] = _open_latent  # the latent page offers that generator first
    try:
        st.switch_page("views/latent.py")
    except StreamlitAPIException:
        notice("info", t("train.no_latent_page"))

default(MODE, "live")
# In the sidebar: the live grid then starts high enough to fit one 1280x720 projector screen.
_mode = st.sidebar.radio(t("train.mode.label"), MODES, key=MODE, format_func=lambda m: t(f"train.mode.{m}"),
                         persist_state=PERSIST)

if _mode == "replay":
    replay()
    lecture_code(default_model_config("tf-tutorial"))
elif _mode == "watch":
    watch()
elif _mode == "compare":
    compare(live_compare)
else:
    _run: TrainingRun | None = st.session_state.get(TRAIN_RUN)
    if _run is not None:
        _run.heartbeat()  # first thing: a slow page run must not look like a closed tab
    _locked = (_run is not None and _run.is_alive()) or st.session_state.get(QUEUED) is not None
    rescue_offer(_locked)  # this browser's run, kept when the app process it trained under died
    _resume = resume_checkpoint(_locked)
    apply_proposal()  # the settings proposed for new own images, before the sidebar's widgets exist
    _settings = sidebar_settings(_locked, _resume)
    _own = own_images(_settings, _locked, _resume is not None) if _settings.dataset == OWN_IMAGES else None
    take_over_offer()
    buttons(_settings, _own, _resume)

    _run = st.session_state.get(TRAIN_RUN)
    _active = _run is not None and _run.snapshot().is_active
    st.session_state[WAS_ACTIVE] = _active
    # Refresh about once a second only while a run is active or waits in the queue; else draw once (no timer).
    _live = _active or st.session_state.get(QUEUED) is not None
    st.fragment(live_view, run_every=REFRESH_SECONDS if _live else None)()
    teaching_notes("train.live")  # below the live figures: the grid and charts come first on a projector
    results()
    judge_section()
    model_tables(_settings.model)
    lecture_code(_settings.model)

mirror(URL_PARAMS)
with st.sidebar:
    link_box()
