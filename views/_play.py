"""Play's pacing: an animated page slows its frames down when the server is busy, instead of
starving the class.

The browser asks for a Play frame on a fixed timer (``st.fragment(run_every=...)``). On a server that
many students share, a frame takes longer than that timer (its Python waits for the one interpreter
lock), the next request is already waiting when it ends, and Streamlit drops the frame it has not
yet sent: one playing student then costs ~0.4 core and sees no frame at all (BENCHMARKS.md, "A class
on one server"). So before each frame the session rests for as long as its last frame took: on an
idle server that is shorter than the timer (nothing changes), on a busy one a playing student asks
for at most half of its time, sees fewer frames but real ones, and the rest of the class gets the CPU.
The rest is a sleep (no CPU, the lock released); timer requests that arrive meanwhile fold into one.
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator, MutableMapping

REST = 1.0  # rest this many times the last frame's duration before the next one
MAX_REST = 0.5  # seconds: Pause and the other buttons still answer within about a second


@contextlib.contextmanager
def paced_frame(state: MutableMapping, key: str, clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] = time.sleep) -> Iterator[None]:
    """Wrap one Play frame (training and drawing): rest first if the last frame ended too recently.

    ``state`` keeps ``(ended, took)`` of the last frame under ``key`` (the session state).
    """
    last = state.get(key)
    if last is not None:
        ended, took = last
        rest = min(MAX_REST, ended + REST * took - clock())
        if rest > 0:
            sleep(rest)
    start = clock()
    try:
        yield
    finally:
        end = clock()
        state[key] = (end, end - start)


def forget_pace(state: MutableMapping, key: str) -> None:
    """On Play: the first frame does not wait for a frame of the last time it played."""
    state.pop(key, None)
