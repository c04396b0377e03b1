"""The 2-D page's measurements: modes covered, the share of high-quality samples, JS and KL both ways
with their error, the losses and D's outputs, as large numbers and as charts over the steps. Measured
about once a second while playing (on the engine's worker thread), at once when paused. This module
owns the session-state keys of when the last measurement was made."""

from __future__ import annotations

import math
import time

import streamlit as st

from gan_core.toy.toy2d_train import Toy2DTrainer
from views._charts import Chart, Series, show_grid
from views._i18n import t
from views._theme import D_COLOR, GEN_COLOR, is_projector

MEASURE_SECONDS = 1.0  # the numbers and charts are measured and redrawn this often while playing
CHART_POINTS = 400  # a chart line is thinned to about this many points (a chart is ~300 px wide)
MEASURED_AT, MEASURED_TIME = "modes_measured_at", "modes_measured_time"  # (D steps, G steps), monotonic time


def measured(trainer: Toy2DTrainer) -> None:
    """The measurement the numbers and charts show. Paused: measured now (~50 ms) when something trained
    since the last one. Playing: on the engine's worker thread, so Play's frames go on meanwhile; each
    run records the one that finished and starts the next, at most about once a second (the numbers
    and the charts are two fragments on their own timers, and both call this)."""
    s = st.session_state
    at = (trainer.d_steps, trainer.g_steps)
    if s.get("modes_playing"):
        trainer.collect_measurement()
        if time.monotonic() - s.get(MEASURED_TIME, -math.inf) >= 0.8 * MEASURE_SECONDS:
            if trainer.start_measurement():
                s[MEASURED_TIME] = time.monotonic()
        return
    trainer.collect_measurement(wait=True)  # the last one of Play, into the history before the paused one
    if s.get(MEASURED_AT) != at:
        trainer.measure()
        s[MEASURED_AT], s[MEASURED_TIME] = at, time.monotonic()


def numbers(trainer: Toy2DTrainer) -> None:
    """The latest measurement as a few large numbers beside the view."""
    h = trainer.history
    covered, n_modes = h.last("modes_covered"), h.last("n_modes")
    js, js_err, share = h.last("js"), h.last("js_error"), h.last("high_quality_share")
    if covered is not None and n_modes:
        a, b = st.columns(2)
        a.metric(t("modes.metric.modes"), f"{int(covered)} / {int(n_modes)}", help=t("modes.metric.modes_help"))
        b.metric(t("modes.metric.hq"), f"{100 * share:.0f}%", help=t("modes.metric.hq_help"))
    if js is not None:  # a row of its own: "0.615 ± 0.014" is cut off in half a column on a projector
        st.metric(t("modes.metric.js"), f"{js:.3f} ± {js_err or 0:.3f}", help=t("modes.metric.js_help"))


def _charts(trainer: Toy2DTrainer) -> list[Chart]:
    h = trainer.history

    def line(name: str, label: str, colour: str, errors: bool = False, scale: float = 1.0, dash: str = ""):
        x, y = h.series(name)
        e = h.series(f"{name}_error")[1] if errors else None
        stride = max(1, len(x) // CHART_POINTS)  # the losses have one value per update: thousands in a minute
        x, y, e = x[::stride], y[::stride], None if e is None else e[::stride]
        return Series(label, x, [v * scale for v in y], colour, dash, errors=e)

    steps = t("modes.chart.x")
    charts = []
    n_modes = h.last("n_modes")
    if n_modes:
        charts.append(Chart(t("modes.chart.modes", n=int(n_modes)), [line("modes_covered", t("modes.metric.modes"), GEN_COLOR)],
                            steps, y_range=(0, n_modes + 0.5)))
        charts.append(Chart(t("modes.chart.hq"), [line("high_quality_share", "%", GEN_COLOR, scale=100)], steps,
                            y_range=(0, 100)))
    charts.append(Chart(t("modes.chart.js"), [line("js", "JS", "#8e44ad", errors=True)], steps,
                        y_range=(0, math.log(2) * 1.05)))
    charts.append(Chart(t("modes.chart.kl"), [line("kl_pq", "KL(p_data‖p_g)", "#222", errors=True),
                                              line("kl_qp", "KL(p_g‖p_data)", GEN_COLOR, errors=True, dash="dash")],
                        steps))
    charts.append(Chart(t("modes.chart.losses"), [line("loss_d", "loss_D", D_COLOR),
                                                  line("loss_g", "loss_G", GEN_COLOR, dash="dash")], steps))
    charts.append(Chart(t("modes.chart.d_out"), [line("d_real", "D(x)", "#222"),
                                                 line("d_fake", "D(G(z))", GEN_COLOR, dash="dash")], steps,
                        y_range=(0, 1)))
    return charts


def draw_charts(trainer: Toy2DTrainer, playing: bool) -> None:
    # Two to a row on a projector: three titles as large as that run into each other at 1280 px
    columns = 2 if is_projector() else 3
    show_grid(_charts(trainer), playing, "modes_charts_fig", t("modes.fig.charts_alt"), columns=columns,
              width=1100 if columns == 3 else 900, height_scale=0.55)
    st.caption(t("modes.chart.caption"))
