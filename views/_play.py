"""Play on the animated pages (the 1-D and 2-D GANs): the Play / Pause callback, the frame fragment
(``play_fragment``), and the pacing.

Pacing: an animated page slows its frames down when the server is busy, instead of
starving the class and losing its frames.

The browser asks for a Play frame on a fixed timer (``st.fragment(run_every=...)``). On a server that
many students share, a frame waits for the CPU (the one interpreter lock, two cores), takes longer
than that timer, and the next request is already waiting when it ends; the new run starts before the
server has sent the last frame, and Streamlit drops it: one playing student then costs ~0.4 core
and sees no frame at all (BENCHMARKS.md, "A class on one server"). So after each frame the session
rests, inside the frame's run, for as long as the frame waited for the CPU (its wall time minus its
own CPU time): on an idle server that is nothing, on a busy one the frame is sent during the rest
(a sleep: no CPU, the lock released), a playing student asks for at most about half of its time,
sees fewer frames but real ones, and the rest of the class gets the CPU.
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

import streamlit as st

from gan_core.algorithm1 import TrainingDiverged

REST = 1.0  # rest this many times what the frame waited for the CPU
MAX_REST = 0.5  # seconds: Pause and the other buttons still answer within about a second
MIN_REST = 0.005  # shorter waits are noise (timer resolution, a thread switch), not a busy server


@contextlib.contextmanager
def paced_frame(clock: Callable[[], float] = time.monotonic, cpu: Callable[[], float] = time.thread_time,
                sleep: Callable[[float], None] = time.sleep) -> Iterator[None]:
    """Wrap one Play frame (training and drawing); rest after it if it waited for the CPU.

    ``cpu`` is the calling thread's CPU time (the script thread runs the frame). A frame left by an
    exception (``st.rerun()``) does not rest.
    """
    wall_start, cpu_start = clock(), cpu()
    yield
    waited = (clock() - wall_start) - (cpu() - cpu_start)
    rest = min(MAX_REST, REST * waited)
    if rest >= MIN_REST:
        sleep(rest)


def play_pause_button(row, prefix: str, playing: bool, play_label: str, pause_label: str) -> None:
    """The primary Play or Pause button of a toy page's button row: two widgets (keys ``{prefix}_play``
    and ``{prefix}_pause``) calling ``set_playing``, for the reason it gives."""
    row.button(pause_label if playing else play_label, key=f"{prefix}_pause" if playing else f"{prefix}_play",
               type="primary", icon=":material/pause:" if playing else ":material/play_arrow:",
               on_click=set_playing, args=(prefix, not playing))


def set_playing(prefix: str, playing: bool) -> None:
    """The Play / Pause buttons' callback: ``{prefix}_playing`` set to ``playing`` and, on Pause,
    ``{prefix}_stop_timer`` raised for the page to stop its frame timer.

    Set, not toggle, with Play and Pause as two widgets (two keys): Streamlit 1.67 can dispatch a
    click's callback a second time when it lands while the Play timer reruns (seen in the 1-D page's
    e2e test); a toggle would undo itself, and one shared key would replay Pause as Play.
    """
    st.session_state[f"{prefix}_playing"] = playing
    if not playing:
        st.session_state[f"{prefix}_stop_timer"] = True


def play_fragment(prefix: str, run_every: float | None, train: Callable[[], None],
                  draw: Callable[[bool], None], diverged_key: str) -> Callable[[], None]:
    """The animated part of a toy page as a fragment: while ``{prefix}_playing``, every ``run_every``
    seconds (None: not on a timer) ``train()`` for a frame's budget, then ``draw(True)``, in a paced
    frame; paused, ``draw(False)`` only. A diverging run stops playing and reruns the page, which shows
    ``diverged_key`` (stored in ``{prefix}_error``). Call the result where the picture goes.
    """
    playing_key = f"{prefix}_playing"

    @st.fragment(run_every=run_every)
    def frame() -> None:
        s = st.session_state
        if not s.get(playing_key, False) and s.pop(f"{prefix}_stop_timer", False):
            # A fragment run does not cancel the browser's timer of this nested fragment, so it would
            # keep redrawing for many seconds after Pause; a full run clears it at once.
            st.rerun(scope="app")
        if not s.get(playing_key, False):
            draw(False)
            return
        with paced_frame():  # fewer frames on a busy server, not none
            try:
                train()
            except TrainingDiverged:
                s[playing_key] = False
                s[f"{prefix}_error"] = diverged_key
                st.rerun()  # the whole page, so the timer stops
            draw(True)

    return frame
