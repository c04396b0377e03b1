"""Run slow engine work (decoding an upload, loading a dataset) so that it stops when its page does.

Decoding makes no Streamlit call, so in the script thread it would run to the end even after the
student closed the tab. Here it runs in a helper thread while the script thread shows its progress;
the progress call is a Streamlit call, which raises when the session ends or reruns, and the
``finally`` then tells the engine to stop (its ``should_stop`` is checked between images).
"""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

import streamlit as st

T = TypeVar("T")
POLL_SECONDS = 0.2


def run_cancellable(work: Callable[..., T], label: str) -> T:
    """``work(should_stop=..., progress=...)`` in a helper thread, with a progress bar; its result or its error."""
    cancel = threading.Event()
    state: dict = {"done": 0, "total": 0}

    def progress(done: int, total: int) -> None:
        state["done"], state["total"] = done, total

    def target() -> None:
        try:
            state["result"] = work(should_stop=cancel.is_set, progress=progress)
        except BaseException as exc:  # noqa: BLE001 -- handed to the script thread below
            state["error"] = exc

    thread = threading.Thread(target=target, name="gan-decode", daemon=True)
    bar = st.progress(0.0, text=label)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(POLL_SECONDS)
            total = state["total"]
            bar.progress(min(1.0, state["done"] / total) if total else 0.0,
                         text=f"{label} {state['done']:,} / {total:,}" if total else label)
    finally:
        cancel.set()  # the session ended or reran (StopException/RerunException): stop decoding
    bar.empty()
    if "error" in state:
        raise state["error"]
    return state["result"]
