"""Keep this session's training run alive while the user is on another page.

The worker stops a run that gets no ``heartbeat()`` for ``$GAN_ORPHAN_TIMEOUT`` seconds (default
120), so a closed browser tab frees the server. The training page heartbeats about once a second,
but other pages do not refresh by themselves; ``app.py`` calls ``keep_training_run_alive()`` on
every page so that a run keeps going while its user explores the latent space, and stops only
when the browser is really gone (then nothing reruns any more).
"""

from __future__ import annotations

import streamlit as st

HEARTBEAT_SECONDS = 10.0  # well under the orphan timeout, rare enough to cost nothing


@st.fragment(run_every=HEARTBEAT_SECONDS)
def _heartbeat() -> None:
    run = st.session_state.get("train_run")
    if run is not None:
        run.heartbeat()


def keep_training_run_alive() -> None:
    """Heartbeat the session's training run every few seconds while it is active (draws nothing)."""
    run = st.session_state.get("train_run")
    if run is not None and run.is_alive():
        with st.sidebar:
            _heartbeat()
