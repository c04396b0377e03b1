"""The training page's live view: status, sample grids, numbers, charts, Algorithm 1 with the step
it is on, the quality metrics, and the place in the queue while waiting for a server slot.

Drawn by a fragment that the page reruns about once a second while a run is active; it reads one
``run.snapshot()`` per redraw and never touches the training thread."""

from __future__ import annotations

import math

import streamlit as st

from gan_core.evaluation.metrics import mode_reading
from gan_core.limits import get_limits
from gan_core.worker import REGISTRY, QueueTicket, RunSnapshot, TrainingRun
from views import _train_charts as charts
from views._charts import show
from views._i18n import error_text, t, user_text
from views._session_keys import QUEUED, TRAIN_RUN
from views._train_heartbeat import advance_queue
from views._train_pictures import curves, grid_png
from views._train_results import timelapse

# Session-state keys this module owns: whether the last redraw saw an active run (its end redraws the page),
# and the containers of the quality charts.
WAS_ACTIVE = "train_was_active"
METRICS_CHART, HIST_CHART, QUALITY_NOW = "train_metrics_chart", "train_hist_chart", "train_quality_now"
CURVES = "train"  # the prefix of the live loss and D charts' keys (``views._train_pictures.curves``)
REFRESH_SECONDS = 1.0


def _status(snap: RunSnapshot) -> None:
    if snap.status == "diverged":
        # Its own block, first line a heading: the message never runs on after the progress bar.
        st.error(f"**{t('train.status.diverged')}**\n\n{error_text(snap.reason)}\n\n{t('train.diverged_save')}")
    elif snap.status == "error":
        st.error(error_text(snap.reason))
    elif snap.status == "stopped" and snap.reason is not None:
        st.warning(error_text(snap.reason))
    elif snap.status == "finished":
        st.success(t("train.finished", steps=f"{snap.step - snap.start_step:,}", time=charts.duration(snap.elapsed)))
    elif snap.status == "paused":
        st.info(t("train.paused"))
    st.progress(snap.progress, text=t("train.progress", status=t(f"train.status.{snap.status}"), device=snap.device,
                                      step=f"{snap.step:,}", target=f"{snap.target_step:,}",
                                      percent=f"{snap.progress:.0%}"))


def _numbers(snap: RunSnapshot) -> None:
    """Step, epoch, speed and time, under the grid (the grid comes first on a projector screen)."""
    cols = st.columns(5)
    cols[0].metric(t("train.metric.step"), f"{snap.step:,}")
    cols[1].metric(t("train.metric.epoch"), f"{snap.epoch:.2f}")
    cols[2].metric(t("train.metric.images_per_sec"), f"{snap.images_per_sec:,.0f}")
    cols[3].metric(t("train.metric.elapsed"), charts.duration(snap.elapsed))
    cols[4].metric(t("train.metric.eta"), charts.duration(snap.eta))


def generated_grid(snap: RunSnapshot) -> None:
    """The run's newest fixed-noise grid, captioned with its step (nothing before the first one)."""
    if snap.latest_grid is not None:
        step, grid = snap.latest_grid
        st.image(grid_png(grid, snap.config["image_size"]), caption=t("train.generated", step=f"{step:,}"))


def _grids(snap: RunSnapshot) -> None:
    left, right = st.columns(2, gap="large")  # the wider gap keeps an 8x8 grid within a 720 px screen
    with left:
        generated_grid(snap)
    with right:
        st.image(grid_png(snap.real_grid, snap.config["image_size"]), caption=t("train.real", dataset=user_text(snap.dataset)))
    st.caption(t("train.grid_caption"))


def _algorithm(snap: RunSnapshot) -> None:
    c = snap.config
    d_mark, g_mark = ("▶ " if snap.phase == "d" else "  "), ("▶ " if snap.phase == "g" else "  ")
    lines = [
        f"  {t('train.algo.loop')}",
        f"{d_mark}    for k = {c['k']}:                                  # {t('train.algo.d_steps')}",
        f"{d_mark}        z ~ p_z, x ~ p_data   (m = {c['batch_size']})",
        f"{d_mark}        D ← D + ∇ 1/m Σ [log D(x) + log(1 − D(G(z)))]",
        f"{g_mark}    z ~ p_z   (m = {c['batch_size']})                         # {t('train.algo.g_step')}",
        f"{g_mark}    G ← G − ∇ loss_G(D(G(z)))   ({c['loss']})",
    ]
    with st.container(border=True):
        st.subheader(t("train.algo.title"))
        st.code("\n".join(lines), language=None)
        if snap.phase == "d":
            now = t("train.algo.now_d", i=snap.phase_index, k=c["k"])
        elif snap.phase == "g":
            now = t("train.algo.now_g")
        else:
            now = t(f"train.status.{snap.status}")
        st.caption(t("train.algo.caption", now=now, loss=t(f"train.loss_desc.{c['loss']}")))
        if snap.diversity is not None:
            st.caption(t("train.variety", share=f"{snap.diversity:.0%}"))
        for warning in snap.warnings:
            st.warning(error_text(warning))


def _metrics(snap: RunSnapshot, live: bool = False) -> None:
    if not snap.metrics_history or not snap.metrics:
        return
    left, right = st.columns(2)
    m, last = snap.metrics, snap.metrics_history[-1]
    for column, key, chart in ((left, METRICS_CHART, charts.metrics_chart(snap.metrics_history)),
                               (right, HIST_CHART, charts.class_histogram_chart(m["class_histogram"], m["class_names"]))):
        with column:
            show(chart, live, key, t("train.chart.alt", title=chart.title, step=f"{last['step']:,}"))
    if "confidence" in last and "classes_covered" in last:  # the latest judgement in words (and for scripts)
        with left.container(key=QUALITY_NOW):
            confident = math.floor(100 * last["confidence"])  # "80%" means >= 0.80
            st.markdown(t("train.quality_now", step=f"{last['step']:,}", confidence=confident,
                          classes=last["classes_covered"], n=len(m["class_names"]), samples=m.get("n", "")))
    left.caption(t("train.metrics_caption"))
    right.caption(t("train.hist_caption"))
    if "classes_for_80_percent" in m:  # collapse, or not learned yet? the classes and the confidence together
        right.markdown(t(f"train.mode_reading.{mode_reading(m)}", classes=m["classes_for_80_percent"],
                         n=len(m["class_names"]), largest=round(100 * m["largest_class_share"]),
                         confidence=round(100 * m["confidence"])))


def _queue_view(ticket: QueueTicket, run: TrainingRun) -> None:
    """Waiting for a slot: the place in the queue and the estimated wait, live; the run starts by itself."""
    if advance_queue():
        st.rerun()  # the whole page: its buttons and settings now belong to a running run
    position = REGISTRY.position(ticket)
    if position is None:  # dropped: the page was away longer than the orphan timeout
        st.session_state.pop(QUEUED, None)
        st.warning(t("train.queue.expired"))
        return
    st.info(t("train.queue.waiting", position=position, ahead=position - 1))
    wait = REGISTRY.estimated_wait(ticket)
    st.caption(t("train.queue.eta", time=charts.duration(wait)) if wait is not None else t("train.queue.eta_unknown"))
    if REGISTRY.active():
        st.caption(t("train.queue.running_now", runs=", ".join(error_text(label) for label in REGISTRY.active())))


def live_view() -> None:
    run: TrainingRun | None = st.session_state.get(TRAIN_RUN)
    queued = st.session_state.get(QUEUED)
    if run is None and queued is not None:
        _queue_view(*queued)
        return
    if run is None:
        limits = get_limits()
        st.info(t("train.how_to_start"))
        st.caption(t("train.server_runs", cap=limits.max_concurrent_runs, n=len(REGISTRY.active())))
        return
    run.heartbeat()
    snap = run.snapshot()
    if st.session_state.get(WAS_ACTIVE) and not snap.is_active:
        st.session_state[WAS_ACTIVE] = False
        st.rerun()  # the run ended: redraw the whole page (buttons, results) and stop refreshing
    _status(snap)
    _grids(snap)
    _numbers(snap)
    live = snap.status == "running"  # redrawn every second: charts as pictures (see views._train_charts)
    curves(snap.history, CURVES, live)
    _algorithm(snap)
    _metrics(snap, live)
    timelapse(run, snap)
