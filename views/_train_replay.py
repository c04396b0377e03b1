"""Recorded runs on the training page: the replay of the lecture's shipped recording (play, pause,
scrub) and the watch view of a run folder the command line is writing (``gan_core.recording``).

Both show a recording the same way (``_recording_view``): numbers, the sample grid at a step, a
caption about the run, and the loss and D charts up to that step."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from gan_core.images import png_bytes
from gan_core.paths import runs_root
from gan_core.class_shares import CLASSES_FILE, ClassShares, read_class_shares
from gan_core.evaluation.metrics import mode_reading
from gan_core.recording import (LECTURE_RECORDINGS, MetricsFollower, Recording, RecordingError, lecture_recording_path,
                                load_recording,
                                run_folder, run_folders)
from gan_core.runs_quota import TOUCH_SECONDS, mark_in_use
from views import _train_charts as charts
from views._charts import show
from views._i18n import error_text, t, user_text
from views._notes import teaching_notes
from views._train_live import REFRESH_SECONDS
from views._train_pictures import curves, grid_image
from views._train_results import OPEN_LATENT

# Session-state keys this module owns. REPLAY_ANCHOR: (time.monotonic() when Play was pressed, the step
# it started from), None while paused; REPLAY_SHOWN: the steps the replay last put on its slider while
# playing. WATCH_GROWING: whether the watched run was still being written.
REPLAY_STEP, REPLAY_SECONDS_KEY, REPLAY_PLAY = "train_replay_step", "train_replay_seconds", "train_replay_play"
REPLAY_ANCHOR, REPLAY_SHOWN = "train_replay_anchor", "train_replay_shown"
REPLAY_RECORDING = "train_replay_recording"  # which of the lecture's recordings (a LECTURE_RECORDINGS key)
WATCH_RUN, WATCH_FRAME, WATCH_LATENT = "train_watch_run", "train_watch_frame", "train_watch_latent"
WATCH_GROWING = "train_watch_growing"
REPLAY_CURVES, WATCH_CURVES = "train_replay", "train_watch"  # prefixes of the charts' keys

REPLAY_REFRESH_SECONDS = 0.25
REPLAY_SECONDS = (10, 30, 60, 120)  # how long a replay of the whole recording takes
# While playing, a refresh the browser asked for before the last one arrived sends back a step the page
# itself put on the slider a moment ago; one of this many latest steps is such an echo, not a scrub.
SHOWN_ECHOES = 8
WATCH_LIVE_SECONDS = 30.0  # a run folder whose metrics.csv changed this recently is still training


@st.cache_resource(show_spinner=False, max_entries=4)
def cached_recording(path: str, modified: float, growing: bool = False) -> Recording:
    """The recording at ``path`` (read again when its metrics file changes; a growing run's metrics by
    its follower, which parses only the rows appended since)."""
    metrics = _metrics_follower(str(Path(path) / "metrics.csv")) if growing else None
    return load_recording(path, growing=growing, metrics=metrics)


@st.cache_resource(show_spinner=False, max_entries=8)
def _metrics_follower(metrics_file: str) -> MetricsFollower:
    """One follower per watched metrics.csv, shared by every page watching that run: a million-row file
    is parsed once, then a few rows per change, instead of whole on every change (5 s at a million)."""
    return MetricsFollower(metrics_file)


def recorded_grid(rec: Recording, frame: int | None) -> None:
    """A recording's sample grid number ``frame`` (or a note that none was recorded yet)."""
    if frame is None:
        st.caption(t("train.replay.no_grid_yet"))
        return
    try:
        image = rec.frame_image(frame)
    except RecordingError as exc:
        st.warning(error_text(exc))
        return
    size = int(rec.train_config.get("image_size") or 28)
    st.image(png_bytes(grid_image(image, size)), caption=t("train.generated", step=f"{rec.frame_steps[frame]:,}"))


def _epoch_text(history: dict[str, np.ndarray]) -> str:
    epochs = history.get("epoch")
    return f"{epochs[-1]:.2f}" if epochs is not None and len(epochs) else "–"


def _recording_view(rec: Recording, history: dict[str, np.ndarray], numbers: list[tuple[str, str]],
                    grid: Callable[[], int | None], about: str, beside: Callable[[], None], curves_key: str) -> None:
    """The layout the replay and the watch view share: a row of ``numbers`` (label, value); the grid
    that ``grid()`` picks on the left; ``about`` the run and whatever ``beside()`` draws on the right;
    the charts of ``history`` below."""
    for col, (label, value) in zip(st.columns(len(numbers)), numbers):
        col.metric(label, value)
    left, right = st.columns([2, 3])
    with left:
        recorded_grid(rec, grid())
    with right:
        st.caption(about)
        beside()
    curves(history, curves_key)


def _about(rec: Recording, key: str, **extra) -> str:
    """The catalog's sentence ``key`` about a recorded run's preset, dataset and settings."""
    c = rec.train_config
    return t(key, preset=c.get("preset", "?"), dataset=user_text(rec.dataset or "?"), batch=c.get("batch_size", "?"),
             lr=c.get("lr_g", "?"), k=c.get("k", "?"), **extra)


# --- replay of a recorded run ---------------------------------------------------------------------

def _load_lecture_recording(dataset: str) -> Recording | None:
    path = lecture_recording_path(dataset)
    if not path.is_dir():
        st.info(t("train.replay.absent", name=user_text(path.name)))
        return None
    metrics = path / "metrics.csv"
    try:
        return cached_recording(str(path), metrics.stat().st_mtime if metrics.is_file() else 0.0)
    except RecordingError as exc:
        st.warning(t("train.replay.unusable", reason=error_text(exc)))
        return None


@dataclass(frozen=True)
class Player:
    """Play / Pause, speed and a step slider over a recording of ``last_step`` steps, in session state
    under its own keys (the lecture's replay and the compare view each have one). ``anchor``:
    (time.monotonic() when Play was pressed, the step it started from), None while paused; ``shown``:
    the latest steps put on the slider while playing (to tell the browser's echoes from a scrub)."""

    step: str
    seconds: str
    play: str
    anchor: str
    shown: str

    def start(self, last_step: int) -> bool:
        """First values, the step kept within the recording; True while playing (the view refreshes)."""
        st.session_state.setdefault(self.step, last_step)
        st.session_state.setdefault(self.seconds, 30)
        st.session_state.setdefault(self.anchor, None)
        if st.session_state[self.step] > last_step:
            st.session_state[self.step] = last_step
        return st.session_state[self.anchor] is not None

    def _position(self, last_step: int) -> float:
        """The step shown now: moving with time while playing, else where the slider is."""
        anchor = st.session_state.get(self.anchor)
        if anchor is None:
            return float(st.session_state.get(self.step, last_step))
        started, from_step = anchor
        rate = last_step / float(st.session_state.get(self.seconds, 30))
        return min(float(last_step), from_step + (time.monotonic() - started) * rate)

    def _scrubbed(self) -> None:
        """The slider moved: keep playing from there (or stay paused there).

        While playing, a step the page showed a moment ago is the browser's echo of an earlier refresh, not
        a scrub: taking it for one sent the replay back and forth between two steps, never forwards."""
        step = st.session_state[self.step]
        if st.session_state.get(self.anchor) is not None and step not in st.session_state.get(self.shown, ()):
            st.session_state[self.anchor] = (time.monotonic(), float(step))

    def _speed_changed(self) -> None:
        """A new speed: keep playing from the step shown last, at the new rate."""
        if st.session_state.get(self.anchor) is not None:
            shown = st.session_state.get(self.shown) or [st.session_state[self.step]]
            st.session_state[self.anchor] = (time.monotonic(), float(shown[-1]))

    def _show(self, step: int) -> None:
        """Put ``step`` on the slider while playing, and remember it among the latest shown."""
        st.session_state[self.step] = step
        shown = st.session_state.get(self.shown) or []
        if not shown or shown[-1] != step:
            st.session_state[self.shown] = (shown + [step])[-SHOWN_ECHOES:]

    def controls(self, last_step: int) -> int:
        """Draw the buttons and the slider; return the step to show."""
        position = self._position(last_step)
        playing = st.session_state.get(self.anchor) is not None
        if playing and position >= last_step:
            st.session_state[self.anchor] = None  # the end: stop (and stop refreshing)
            st.session_state[self.step] = last_step
            st.rerun()
        if playing:
            self._show(int(position))
        cols = st.columns([1, 2])
        if cols[0].button(t("train.replay.pause") if playing else t("train.replay.play"),
                          icon=":material/pause:" if playing else ":material/play_arrow:", key=self.play,
                          type="primary", width="stretch"):
            if playing:
                st.session_state[self.anchor] = None
            else:
                start = 0.0 if position >= last_step else position
                st.session_state[self.anchor] = (time.monotonic(), start)
                st.session_state[self.shown] = []
                self._show(int(start))
            st.rerun()  # the whole page: the refresh timer starts or stops
        cols[1].selectbox(t("train.replay.speed"), REPLAY_SECONDS, key=self.seconds,
                          format_func=lambda s: t("train.replay.speed_option", s=s, steps=f"{last_step:,}"),
                          on_change=self._speed_changed)
        return st.slider(t("train.metric.step"), 0, last_step, key=self.step, on_change=self._scrubbed)


REPLAY_PLAYER = Player(REPLAY_STEP, REPLAY_SECONDS_KEY, REPLAY_PLAY, REPLAY_ANCHOR, REPLAY_SHOWN)


@st.cache_data(show_spinner=False, max_entries=4)
def _class_shares(path: str, modified: float) -> ClassShares | None:
    return read_class_shares(path)


def _kinds_generated(rec: Recording, step: int) -> None:
    """For a recording with classes.csv: the class shares of G's samples at ``step`` and, over the run
    so far, how many kinds it generates (the lecture's "only a few kinds": mode collapse, measured)."""
    csv_file = rec.path / CLASSES_FILE
    shares = _class_shares(str(rec.path), csv_file.stat().st_mtime) if csv_file.is_file() else None
    if shares is None:
        return
    i = shares.at(step)
    st.subheader(t("train.replay.kinds_title"))
    if i is None:
        st.caption(t("train.replay.kinds_not_yet"))
        return
    k = shares.shares.shape[1]
    names = rec.class_names if len(rec.class_names) == k else [str(c) for c in range(k)]
    few, confidence = int(shares.summary["classes_for_80_percent"][i]), float(shares.summary["confidence"][i])
    # In one word what the numbers say (as under the live page's histogram): few kinds with a sure classifier
    # is collapse; few kinds with an unsure one is noise it files under a few classes, not collapse.
    reading = mode_reading({"classes_for_80_percent": few, "confidence": confidence})
    st.markdown(t("train.replay.kinds_at", step=f"{int(shares.steps[i]):,}", n=f"{int(shares.summary['n'][i]):,}") + " "
                + t(f"train.mode_reading.{reading}", classes=few, n=len(names), confidence=round(100 * confidence),
                    largest=round(100 * float(shares.summary["largest_class_share"][i]))))
    left, right = st.columns(2)
    playing = st.session_state.get(REPLAY_PLAYER.anchor) is not None
    with left:
        show(charts.class_histogram_chart(list(shares.shares[i]), names), playing, "train_replay_kinds_hist",
                    t("train.chart.hist_title"))
    with right:
        show(charts.kinds_chart(shares, i), playing, "train_replay_kinds_run", t("train.chart.kinds_title"))
    st.caption(t("train.replay.kinds_cannot_see"))


def _replay_view(rec: Recording) -> None:
    step = REPLAY_PLAYER.controls(rec.last_step)
    epochs = float(rec.history["epoch"][-1]) if "epoch" in rec.history else 0.0
    history = rec.history_until(step)
    numbers = [(t("train.metric.step"), f"{step:,} / {rec.last_step:,}"),
               (t("train.metric.epoch"), _epoch_text(history))]
    _recording_view(rec, history, numbers, lambda: rec.frame_index_at(step),
                    _about(rec, "train.replay.about", steps=f"{rec.last_step:,}", epochs=f"{epochs:.0f}"),
                    lambda: teaching_notes("train.replay"), REPLAY_CURVES)
    _kinds_generated(rec, step)


def replay() -> None:
    """The replay mode: the lecture's recorded run, played back at a chosen speed (a choice of the lecture's
    recordings when more than one is installed: the digits, and Fashion-MNIST at the lecture's scale)."""
    installed = [d for d in LECTURE_RECORDINGS if lecture_recording_path(d).is_dir()]
    dataset = "mnist5k"
    if len(installed) > 1:
        if st.session_state.get(REPLAY_RECORDING) not in installed:
            st.session_state[REPLAY_RECORDING] = installed[0]
        dataset = st.radio(t("train.replay.which"), installed, key=REPLAY_RECORDING, horizontal=True,
                           format_func=lambda d: t(f"train.replay.which_{d.replace('-', '_')}"))
    st.caption(t("train.replay.intro" if dataset == "mnist5k" else f"train.replay.intro_{dataset.replace('-', '_')}"))
    rec = _load_lecture_recording(dataset)
    if rec is None:
        return
    playing = REPLAY_PLAYER.start(rec.last_step)
    st.fragment(_replay_view, run_every=REPLAY_REFRESH_SECONDS if playing else None)(rec)


# --- watching a run the command line is writing ------------------------------------------------------

def _read_watched(name: str) -> Recording:
    """The run folder ``name`` under the runs root, read as it is now (RecordingError, OSError if it cannot be)."""
    folder = run_folder(runs_root(), name)
    return cached_recording(str(folder), (folder / "metrics.csv").stat().st_mtime, growing=True)


def _watched(name: str) -> Recording | None:
    """``_read_watched``, or None after saying why."""
    try:
        return _read_watched(name)
    except RecordingError as exc:
        if exc.key == "errors.recording.empty":  # started, no step written yet
            st.info(t("train.watch.waiting"))
        else:
            st.warning(t("train.watch.unusable", name=user_text(name), reason=error_text(exc)))
    except OSError:  # removed, or a file being replaced this instant: the next refresh reads it
        st.info(t("train.watch.waiting"))
    return None


def _is_growing(rec: Recording) -> bool:
    return time.time() - rec.updated < WATCH_LIVE_SECONDS


def _watch_view(name: str) -> None:
    rec = _watched(name)
    if rec is None:
        return  # said why; the refresh looks again
    growing = _is_growing(rec)
    if growing != st.session_state.get(WATCH_GROWING):  # started or stopped growing: the refresh timer changes
        st.session_state[WATCH_GROWING] = growing
        st.rerun()
    ago = max(0, int(time.time() - rec.updated))
    target = f"{rec.target_step:,}" if rec.target_step else "?"
    if growing:
        st.progress(min(1.0, rec.last_step / rec.target_step) if rec.target_step else 0.0,
                    text=t("train.watch.growing", step=f"{rec.last_step:,}", target=target, s=ago))
    else:
        st.caption(t("train.watch.still", step=f"{rec.last_step:,}", target=target, s=ago))
    numbers = [(t("train.metric.step"), f"{rec.last_step:,}"), (t("train.metric.epoch"), _epoch_text(rec.history)),
               (t("train.metric.eta"), charts.duration(rec.eta() if growing else None))]

    def grid() -> int | None:
        frame = rec.frame_index_at(rec.last_step)
        if frame is not None and not growing and len(rec.frame_steps) > 1:  # finished: look back through its grids
            frame = st.select_slider(t("train.watch.grids"), range(len(rec.frame_steps)), value=frame,
                                     format_func=lambda i: f"{rec.frame_steps[i]:,}", key=WATCH_FRAME)
        return frame

    def open_latent() -> None:
        # a short label: a long one ran out of its button at 150% zoom (tests/e2e/test_classroom.py)
        if (rec.path / "config.json").is_file() and st.button(t("train.watch.open_latent"), key=WATCH_LATENT,
                                                            icon=":material/explore:",
                                                            help=t("train.watch.open_latent_help")):
            st.session_state[OPEN_LATENT] = f"runs:{name}"
            st.rerun()

    _recording_view(rec, rec.history, numbers, grid, _about(rec, "train.watch.about"), open_latent, WATCH_CURVES)


def _await_run_folders() -> None:
    """While no run folder exists: look again every second, and redraw the view when one appears."""
    if run_folders(runs_root()):
        st.rerun()


def _keep_watched(name: str) -> None:
    """While the watch view is open: its run stays in use for the runs folder's quota (draws nothing)."""
    try:
        mark_in_use(run_folder(runs_root(), name))
    except RecordingError:
        pass


def watch() -> None:
    """The watch mode: a run folder under the runs root, followed while the command line writes it."""
    root = runs_root()
    st.caption(t("train.watch.intro", root=root.name))
    folders = run_folders(root)
    if not folders:
        st.info(t("train.watch.none", root=root.name))
        st.fragment(_await_run_folders, run_every=REFRESH_SECONDS)()
        return
    names = [p.name for p in folders]
    if st.session_state.get(WATCH_RUN) not in names:
        st.session_state[WATCH_RUN] = names[0]  # the most recently updated run
    name = st.selectbox(t("train.watch.choose"), names, key=WATCH_RUN)
    try:
        growing = _is_growing(_read_watched(name))
    except (RecordingError, OSError):
        growing = True  # no step written yet (or being replaced): look again every second
    st.session_state[WATCH_GROWING] = growing
    st.fragment(_keep_watched, run_every=TOUCH_SECONDS)(name)
    st.fragment(_watch_view, run_every=REFRESH_SECONDS if growing else None)(name)
