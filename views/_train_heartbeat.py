"""Keep this session's training run alive while the user is on another page.

The worker stops a run that gets no ``heartbeat()`` for ``$GAN_ORPHAN_TIMEOUT`` seconds (default
120), so a closed browser tab frees the server. The training page heartbeats about once a second,
but other pages do not refresh by themselves; ``app.py`` calls ``keep_training_run_alive()`` on
every page so that a run keeps going while its user explores the latent space, and stops only
when the browser is really gone (then nothing reruns any more).
"""

from __future__ import annotations

import streamlit as st

HEARTBEAT_SECONDS = 10.0  # well under the default orphan timeout, rare enough to cost nothing


def _heartbeat() -> None:
    run = st.session_state.get("train_run")
    if run is not None:
        run.heartbeat()


def keep_training_run_alive() -> None:
    """Heartbeat the session's training run every few seconds while it is active (draws nothing)."""
    run = st.session_state.get("train_run")
    if run is not None and run.is_alive():
        # Imported only with a run (torch is loaded then): the home page must stay light.
        from gan_core.worker import default_orphan_timeout

        # Several beats per timeout, so a short $GAN_ORPHAN_TIMEOUT does not stop a watched run.
        every = min(HEARTBEAT_SECONDS, default_orphan_timeout() / 4)
        with st.sidebar:
            st.fragment(_heartbeat, run_every=every)()
