"""The compare view's live half: the baseline and one broken DCGAN guideline trained now, side by side.

Start both starts two ``gan_core.worker.TrainingRun``s with the ablation study's recipe
(``gan_core.compare_live``: same seed, data, batch order and settings, one guideline different), each
in its own process on one CPU thread, or neither when the server has no free slot (the two share one; a sentence
says what to do). Each side shows its fixed-noise grid, the classifier's readings, and its loss and
D(x) / D(G(z)) charts, redrawn about once a second by a fragment while either run is active. Reset,
a new Start and choosing another guideline end both runs' processes.
"""

from __future__ import annotations

import logging

import streamlit as st

from gan_core.ablation_study import StudyPlan
from gan_core.compare_live import PAIR_STEPS, LivePair, pair_configs, start_pair
from gan_core.data.datasets import load_dataset
from gan_core.limits import get_limits
from gan_core.run_cost import check_run_cost
from gan_core.worker import ACTIVE_STATUSES, REGISTRY, RunLimitReached, RunSnapshot
from views._cancellable import run_cancellable
from views._i18n import error_text, t, user_text
from views._session_keys import COMPARE_PAIR, TRAIN_NOTICE
from views._settings import widget
from views._train_compare import label, readings
from views._train_live import REFRESH_SECONDS, generated_grid
from views._train_pictures import curves, smoothing_control
from views._train_run import notice
from views._train_settings import default

log = logging.getLogger(__name__)

# Session-state keys this module owns: whether the last redraw saw one of the pair's runs active (their
# end redraws the page), the steps box, and the buttons and their row. The pair itself is COMPARE_PAIR.
WAS_ACTIVE, STEPS = "train_compare_was_active", "train_compare_live_steps"
START, PAUSE, RESUME, STOP, RESET = ("train_compare_start", "train_compare_pause", "train_compare_resume",
                                     "train_compare_stop", "train_compare_reset")
BUTTON_ROW = "train_compare_buttons"
PLAN = StudyPlan()  # the recipe of the shipped study: the live pair is the run its replay shows


def _close() -> None:
    pair: LivePair | None = st.session_state.pop(COMPARE_PAIR, None)
    st.session_state.pop(WAS_ACTIVE, None)
    if pair is not None:
        pair.close()  # both processes (and the memory they hold) end now


def _start(name: str, steps: int) -> None:
    _close()
    configs = pair_configs(PLAN, name)
    try:
        for config in configs:  # before the data is read; the ablated nets may be larger (a hidden layer)
            check_run_cost(config.model_config(), int(config.resolved().batch_size))
        dataset = run_cancellable(
            lambda **kw: load_dataset(PLAN.dataset, image_size=configs[0].image_size, channels=configs[0].channels,
                                      download=False, **kw),
            t("train.loading", name=PLAN.dataset))
        st.session_state[COMPARE_PAIR] = start_pair(name, configs, dataset, steps, PLAN)
    except RunLimitReached as exc:  # no free slot: neither started, the sentence says what to do
        notice("warning", error_text(exc))
    except ValueError as exc:  # DatasetError, a run too large for this server
        notice("error", t("train.start_failed", reason=error_text(exc)))
    except Exception:  # never a traceback (or a server path) on the projector
        log.exception("could not start the live comparison")
        notice("error", t("train.start_failed_unexpected"))


def _buttons(name: str, steps: int, pair: LivePair | None) -> None:
    statuses = pair.statuses() if pair is not None else ()
    active = any(status in ACTIVE_STATUSES for status in statuses)
    row = st.container(horizontal=True, wrap=True, gap="small", key=BUTTON_ROW)

    def button(text: str, icon: str, key: str, disabled: bool, **kw) -> bool:
        return row.button(text, icon=f":material/{icon}:", key=key, disabled=disabled, width="content", **kw)

    if button(t("train.compare.live.start"), "play_arrow", START, active, type="primary"):
        _start(name, steps)
        st.rerun()
    if button(t("train.compare.live.pause"), "pause", PAUSE, "running" not in statuses):
        pair.pause()
        st.rerun()
    if button(t("train.compare.live.resume"), "resume", RESUME, "paused" not in statuses):
        pair.resume()
        st.rerun()
    if button(t("train.compare.live.stop"), "stop", STOP, not active):
        pair.stop()
        st.rerun()
    if button(t("train.compare.live.reset"), "restart_alt", RESET, pair is None,
              help=t("train.compare.live.reset_help")):
        _close()
        st.rerun()
    message = st.session_state.pop(TRAIN_NOTICE, None)
    if message is not None:
        getattr(st, message[0])(message[1])


def _status(snap: RunSnapshot) -> None:
    """One side's progress, and why it ended when that is news (a divergence is an outcome here)."""
    if snap.status == "diverged":
        st.warning(f"**{t('train.status.diverged')}**\n\n{error_text(snap.reason)}")
    elif snap.status in ("error", "stopped") and snap.reason is not None:
        st.error(error_text(snap.reason))
    st.progress(snap.progress, text=t("train.progress", status=t(f"train.status.{snap.status}"), device=snap.device,
                                      step=f"{snap.step:,}", target=f"{snap.target_step:,}",
                                      percent=f"{snap.progress:.0%}"))


def _readings(snap: RunSnapshot) -> None:
    last = snap.metrics_history[-1] if snap.metrics_history else {}
    classes = len(snap.metrics["class_names"]) if snap.metrics else None
    readings(last.get("confidence"), last.get("classes_covered"), classes)


def _pair_view() -> None:
    pair: LivePair | None = st.session_state.get(COMPARE_PAIR)
    if pair is None:
        st.info(t("train.compare.live.how", steps=f"{PLAN.steps:,}"))
        st.caption(t("train.server_runs", cap=get_limits().max_concurrent_runs, n=len(REGISTRY.active())))
        return
    pair.heartbeat()
    snaps = pair.snapshots()
    if st.session_state.get(WAS_ACTIVE) and not any(s.is_active for s in snaps):
        st.session_state[WAS_ACTIVE] = False
        st.rerun()  # both ended: redraw the whole page (its buttons) and stop refreshing
    smoothing = smoothing_control()
    # Rows of two columns, as in the replay: the labels, then progress, readings and grids (level with
    # each other however long a label is), then the charts.
    for column, run in zip(st.columns(2, gap="medium"), pair.names):
        column.markdown(f"**{label(run)}**")
    for column, snap in zip(st.columns(2, gap="medium"), snaps):
        with column:
            _status(snap)
            _readings(snap)
            generated_grid(snap)
    for column, side, snap in zip(st.columns(2, gap="medium"), ("baseline", "ablated"), snaps):
        with column:
            curves(snap.history, f"train_compare_live_{side}", snap.status == "running", smoothing=smoothing,
                   stacked=True)


def live_compare(name: str, draw: bool = True) -> None:
    """The live pair for the ablation ``name``: the steps, the buttons, and both runs side by side. A pair
    of another ablation ends first (also with ``draw`` False: another guideline chosen in the replay)."""
    pair: LivePair | None = st.session_state.get(COMPARE_PAIR)
    if pair is not None and pair.name != name:
        _close()
        pair = None
    if not draw:
        return
    st.caption(t("train.compare.live.intro", preset=PLAN.preset, dataset=user_text(PLAN.dataset), seed=PLAN.seeds[0]))
    active = pair is not None and pair.is_active()
    default(STEPS, PLAN.steps)
    steps = widget(PAIR_STEPS, STEPS, st, disabled=active)
    _buttons(name, int(steps), pair)
    pair = st.session_state.get(COMPARE_PAIR)
    active = pair is not None and pair.is_active()
    st.session_state[WAS_ACTIVE] = active
    st.fragment(_pair_view, run_every=REFRESH_SECONDS if active else None)()
