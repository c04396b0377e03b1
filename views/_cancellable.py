"""Slow engine work (decoding an upload, loading a dataset) that stops when its page does.

Decoding makes no Streamlit call, so in the script thread it would run to the end even after the
student closed the tab. ``gan_core.background.BackgroundJob`` runs it in an engine thread while the
script thread shows its progress; the progress call is a Streamlit call, which raises when the
session ends or reruns, and the ``finally`` then cancels the job (the engine's loaders check
``should_stop`` between images).
"""

from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

from gan_core.background import BackgroundJob

T = TypeVar("T")
POLL_SECONDS = 0.2


def run_cancellable(work: Callable[..., T], label: str) -> T:
    """``work(should_stop=..., progress=...)`` with a progress bar; its result, or its error raised here."""
    job = BackgroundJob(work, name="gan-decode")
    bar = st.progress(0.0, text=label)
    try:
        while not job.wait(POLL_SECONDS):
            done, total = job.progress
            bar.progress(min(1.0, done / total) if total else 0.0,
                         text=f"{label} {done:,} / {total:,}" if total else label)
    finally:
        job.cancel()  # the session ended or reran (StopException/RerunException): stop decoding
    bar.empty()
    return job.result()
