"""Keep this session's training run alive while the user is on another page.

The worker stops a run that gets no ``heartbeat()`` for ``$GAN_ORPHAN_TIMEOUT`` seconds (default
120), so a closed browser tab frees the server. A run this browser started before a page reload is
kept alive the same way while any page of the app is open in the browser, until the training page
takes it over. The training page heartbeats about once a second,
but other pages do not refresh by themselves; ``app.py`` calls ``keep_training_run_alive()`` on
every page so that a run keeps going while its user explores the latent space, and stops only
when the browser is really gone (then nothing reruns any more). The compare view's live pair is kept
alive the same way.

``browser_id()`` recognises the browser across page reloads, so that a user whose reload left
their run going is offered to take it over instead of being told "another training run" holds the
server. It is derived from the token of Streamlit's XSRF cookie (random, per browser, sent with
every request, never in the URL): an HMAC of it under a key derived from the server's cookie secret,
so the secret itself is never stored or shown. Streamlit makes that secret at random per process
unless it is set; the class deployment (scripts/serve_class.py) gives all its app processes one, so a
browser has the same id on each of them, and a run saved for it when its process died
(``gan_core.rescue``) is found by the process it moves to. Without that cookie (XSRF protection off,
AppTest) there is no id and no take-over.
"""

from __future__ import annotations

import hashlib
import hmac
import sys

import streamlit as st

from views._i18n import t
from views._session_keys import COMPARE_PAIR, QUEUED, TRAIN_NOTICE, TRAIN_RUN

XSRF_COOKIE = "_streamlit_xsrf"

HEARTBEAT_SECONDS = 10.0  # well under the default orphan timeout, rare enough to cost nothing


def _watched_run():
    """The session's active run, else this browser's run left by a page reload (waiting to be taken over)."""
    run = st.session_state.get(TRAIN_RUN)
    if run is not None and run.is_alive():
        return run
    worker = sys.modules.get("gan_core.worker")  # not imported yet: this server has no run at all
    owner = browser_id() if worker is not None else None
    return worker.REGISTRY.owned_by(owner) if owner is not None else None


def _watched_runs() -> list:
    """``_watched_run`` and the compare view's live pair (``COMPARE_PAIR``), those still alive."""
    pair = st.session_state.get(COMPARE_PAIR)
    runs = [run for run in (pair.runs if pair is not None else ()) if run.is_alive()]
    run = _watched_run()
    return ([run] if run is not None else []) + runs


def _heartbeat() -> None:
    for run in _watched_runs():
        run.heartbeat()


def advance_queue() -> bool:
    """If this session's Start waits in the server's queue: heartbeat its ticket, and start its run
    when its turn has come and a slot is free. True if the run started now (it is then the session's run)."""
    queued = st.session_state.get(QUEUED)
    if queued is None:
        return False
    from gan_core.worker import REGISTRY, RunLimitReached

    ticket, run = queued
    if REGISTRY.position(ticket) is None or not REGISTRY.slot_is_free_for(ticket):
        return False
    try:
        run.start(ticket=ticket)
    except RunLimitReached:  # taken in the same instant by a run that does not queue (a take-over)
        return False
    st.session_state.pop(QUEUED, None)
    st.session_state[TRAIN_RUN] = run
    st.session_state[TRAIN_NOTICE] = ("success", t("train.queue.started"))  # shown by the training page
    return True


def _queue_beat() -> None:
    if advance_queue():
        st.rerun()  # the whole page: the training page's buttons belong to a running run now


def keep_training_run_alive() -> None:
    """Heartbeat the session's training run (or this browser's run from before a reload, until it is
    taken over) every few seconds while it is active, or its place in the queue every second, so a
    Start waiting on any page begins when its turn comes (draws nothing)."""
    if st.session_state.get(QUEUED) is not None:
        with st.sidebar:
            st.fragment(_queue_beat, run_every=1.0)()
        return
    if _watched_runs():
        # Imported only with a run (torch is loaded then): the home page must stay light.
        from gan_core.worker import default_orphan_timeout

        # Several beats per timeout, so a short $GAN_ORPHAN_TIMEOUT does not stop a watched run.
        every = min(HEARTBEAT_SECONDS, default_orphan_timeout() / 4)
        with st.sidebar:
            st.fragment(_heartbeat, run_every=every)()


def _xsrf_token(cookie: str) -> bytes | None:
    """The random token inside Streamlit's XSRF cookie ("2|mask|masked token|time", hex; the mask
    changes per response, the token does not), or None if the cookie has another form."""
    parts = cookie.strip("\"'").split("|")
    try:
        if len(parts) == 4 and parts[0] == "2":
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            return bytes(m ^ mask[i % len(mask)] for i, m in enumerate(masked)) if mask and masked else None
    except ValueError:
        return None
    return None


def browser_id() -> str | None:
    """An opaque id of this browser that survives a page reload, or None when it cannot be told."""
    try:
        cookie = st.context.cookies.get(XSRF_COOKIE)
    except Exception:  # no browser (AppTest, bare mode)
        return None
    token = _xsrf_token(cookie) if cookie else None
    return hmac.new(_id_key(), token, hashlib.sha256).hexdigest() if token else None


def _id_key() -> bytes:
    """The key of browser ids: from the cookie secret (shared by a class deployment's processes), so ids
    mean the same on each of them and nothing elsewhere."""
    secret = str(st.get_option("server.cookieSecret"))
    return hmac.new(secret.encode(), b"gan-classroom browser id", hashlib.sha256).digest()
