"""Mode collapse, seen and measured: a GAN on 2-D points (Algorithm 1 with two small MLPs).

The targets of the mode-collapse literature (8 Gaussians on a ring, a 5x5 grid, two moons, a Swiss
roll, one Gaussian) or the user's own points (clicked on the canvas or uploaded as a CSV); the
picture in layers (real, fake, D(x), G's push, the manifold, trails); Play / Pause / D step / G step /
Step and slow motion; the two presets "collapse it" (k = 5) and "fix it" (k = 1); and, measured about
once a second, modes covered, the share of high-quality samples, JS and KL both ways with their error,
the losses and D's outputs.

A thin view over ``gan_core.toy.toy2d`` (targets, divergences) and ``gan_core.toy.toy2d_train`` (the
trainer, the presets); figures in ``views._plots2d``; texts from the catalogs (``[modes]``).
"""

from __future__ import annotations

import math
import time

import numpy as np
import streamlit as st

from gan_core.algorithm1 import PRIORS, TrainingDiverged
from gan_core.losses import LOSSES
from gan_core.settings import declared
from gan_core.toy.optimizers import OPTIMIZERS
from gan_core.toy.toy2d import (MAX_CSV_BYTES, POINTS_PER_CLICK, TARGETS, Toy2DError, fit_to_networks, points_from_csv,
                                points_from_drawing)
from gan_core.toy.toy2d_train import PRESETS, Toy2DConfig, Toy2DTrainer
from gan_core.toy.toy_gan import PLAY_TICK_BUDGET
from views import _plots2d as plots
from views._charts import Chart, Series, show_grid
from views._i18n import error_text, option_labels, t
from views._notes import teaching_notes
from views._play import play_fragment, set_playing
from views._settings import PERSIST, params, widget
from views._theme import D_COLOR, GEN_COLOR
from views._urlstate import Param, link_box, mirror, restore

# Play: the browser asks for a frame every TICK_SECONDS (a fixed-rate timer, whether or not the last one
# arrived; requests that come while a frame runs are merged into one). At 0.03 s the server made frames
# back to back (~9 a second) faster than the browser could show them (it drew 4-6), and the two fought
# over the 2 cores; at 0.07 s the server's ~50 ms a frame leaves room and the browser shows ~13.5 a second
# (BENCHMARKS.md, 2-D Play). At most 1 / 0.07 = 14 a second; the goal is >= 10.
TICK_SECONDS = 0.07
SLOW_TICK_SECONDS = 0.6  # slow motion: one update of D or G per frame, slow enough to follow
MEASURE_SECONDS = 1.0  # the numbers and charts are measured and redrawn this often while playing
SHADING_SECONDS = 0.2  # Play recomputes D(x)'s shading this often, not every frame (a 60x60 pass through D)
ARROWS = 60  # fake points that get an arrow (more is a red blur)
CHART_POINTS = 400  # a chart line is thinned to about this many points (a chart is ~300 px wide)
DRAW, UPLOAD = "draw", "csv"
TARGET_CHOICES = [*TARGETS, DRAW, UPLOAD]
CANVAS_BOUNDS = (-3.0, 3.0, -3.0, 3.0)  # the empty drawing canvas
CUSTOM = "custom"

# The settings widgets and the Toy2DConfig field each one sets (defaults: the first preset's config).
CONFIG_WIDGETS = {"hidden": "modes_hidden", "depth": "modes_depth", "noise_dim": "modes_noise_dim",
                  "prior": "modes_prior", "loss": "modes_loss", "k": "modes_k", "optimizer_d": "modes_opt_d",
                  "optimizer_g": "modes_opt_g", "lr_d": "modes_lr_d", "lr_g": "modes_lr_g",
                  "batch_size": "modes_batch", "seed": "modes_seed"}
FIRST_PRESET = "collapse-it"
DEFAULTS = {
    **{key: getattr(PRESETS[FIRST_PRESET].config, field) for field, key in CONFIG_WIDGETS.items()},
    "modes_preset": FIRST_PRESET, "modes_target": PRESETS[FIRST_PRESET].config.target,
    "modes_layers": ["real", "fake", "heatmap", "arrows", "manifold", "trails"], "modes_slow": False,
}
FIELDS = declared(Toy2DConfig)
URL_PARAMS = [
    Param("preset", "modes_preset", "choice", choices=[*PRESETS, CUSTOM]),
    Param("target", "modes_target", "choice", choices=list(TARGETS)),  # a drawing or a file cannot go in a link
    *[p for field, key in CONFIG_WIDGETS.items() for p in params(FIELDS[field], key)],  # as declared
]


def first_values() -> None:
    """Set every widget's first value once per session (the widgets keep theirs with persist_state)."""
    s = st.session_state
    for key, value in DEFAULTS.items():
        s.setdefault(key, value)
    s.setdefault("modes_clicks", [])
    s.setdefault("modes_boxes", [])


# --- settings -------------------------------------------------------------------------------------

def _apply_preset() -> None:
    """Preset callback: every setting (and the target) as the preset has it; a new run starts."""
    s = st.session_state
    if s.modes_preset == CUSTOM:
        return
    config = PRESETS[s.modes_preset].config
    for field, key in CONFIG_WIDGETS.items():
        s[key] = getattr(config, field)
    s.modes_target = config.target


def _config() -> Toy2DConfig:
    """The run's settings from the widgets' values."""
    s = st.session_state
    values = {field: s[key] for field, key in CONFIG_WIDGETS.items()}
    values = {**values, "depth": int(values["depth"]), "noise_dim": int(values["noise_dim"]), "k": int(values["k"]),
              "seed": int(values["seed"])}
    target = s.modes_target if s.modes_target in TARGETS else PRESETS[FIRST_PRESET].config.target
    return Toy2DConfig(target=target, **values)


def _differences(config: Toy2DConfig, preset: str) -> list[str]:
    """'k = 1 (preset: 5)' for every setting that differs from the preset's."""
    reference = PRESETS[preset].config
    out = []
    for field in CONFIG_WIDGETS:
        mine, theirs = getattr(config, field), getattr(reference, field)
        if mine != theirs:
            out.append(t("modes.settings.differs_item", name=t(f"modes.settings.{field}"), value=mine, preset=theirs))
    if st.session_state.modes_target != reference.target:
        out.append(t("modes.settings.differs_item", name=t("modes.target"), value=_target_label(
            st.session_state.modes_target), preset=_target_label(reference.target)))
    return out


def _target_label(target: str) -> str:
    return t(f"modes.targets.{target}")


def choose_preset_and_target() -> None:
    """The preset and the target (beside the view: the first things a lecture picks)."""
    st.selectbox(t("modes.preset"), [*PRESETS, CUSTOM], key="modes_preset", on_change=_apply_preset,
                 format_func=option_labels("modes.presets", [*PRESETS, CUSTOM]), persist_state=PERSIST)
    st.selectbox(t("modes.target"), TARGET_CHOICES, key="modes_target", format_func=_target_label,
                 persist_state=PERSIST)


def _widget_options(field: str) -> dict:
    """How a setting's widget names its options and what it says about it (the rest is declared)."""
    s = st.session_state
    return {"noise_dim": dict(help=t("modes.settings.noise_dim_help")),
            "prior": dict(format_func=option_labels("train.prior_name", PRIORS), horizontal=False),
            "loss": dict(format_func=option_labels("train.loss_name", LOSSES), help=t(f"train.loss_desc.{s.modes_loss}")),
            "k": dict(help=t("modes.settings.k_help")),
            "optimizer_d": dict(format_func=option_labels("common.optimizer", OPTIMIZERS)),
            "optimizer_g": dict(format_func=option_labels("common.optimizer", OPTIMIZERS)),
            "lr_d": dict(format_func=lambda v: f"{v:g}"), "lr_g": dict(format_func=lambda v: f"{v:g}")}.get(field, {})


def settings_panel() -> Toy2DConfig:
    """Every setting of the run (in an expander, so the view fits a screen), and in words what the
    preset does and what was changed from it."""
    s = st.session_state
    with st.expander(t("modes.settings.title")):
        a, b, c, d = st.columns(4)
        for field, column in (("hidden", a), ("depth", a), ("seed", a), ("noise_dim", b), ("prior", b), ("loss", c),
                              ("k", c), ("batch_size", c), ("optimizer_d", d), ("lr_d", d), ("optimizer_g", d),
                              ("lr_g", d)):
            widget(FIELDS[field], CONFIG_WIDGETS[field], column, **_widget_options(field))
        st.caption(t("modes.settings.new_run"))
    config = _config()
    st.markdown(t(f"modes.preset_why.{s.modes_preset}"))
    if s.modes_preset != CUSTOM:
        changed = _differences(config, s.modes_preset)
        if changed:
            st.caption(t("modes.settings.differs", items=", ".join(changed)))
    return config


# --- the target's points --------------------------------------------------------------------------

def _drawn_points():
    """The drawing's points (None while it is empty); raises Toy2DError for a drawing that cannot work."""
    s = st.session_state
    if not s.modes_clicks and not s.modes_boxes:
        return None
    return points_from_drawing([tuple(c) for c in s.modes_clicks], [tuple(b) for b in s.modes_boxes],
                               seed=int(s.modes_seed))


def _on_canvas_select() -> None:
    """Canvas callback: a click drops a blob of points, a box selection fills the box."""
    s = st.session_state
    selection = (s.get("modes_canvas") or {}).get("selection") or {}
    boxes = selection.get("box") or []
    if boxes:
        for box in boxes:
            (x0, x1), (y0, y1) = sorted(box["x"][:2]), sorted(box["y"][:2])
            s.modes_boxes = [*s.modes_boxes, (x0, x1, y0, y1)]
    else:
        s.modes_clicks = [*s.modes_clicks, *[(p["x"], p["y"]) for p in selection.get("points") or []]]


def _clear_drawing() -> None:
    st.session_state.modes_clicks, st.session_state.modes_boxes = [], []


def _uploaded_points():
    """The uploaded CSV's points (None before a file is chosen), standardised when far from the networks'
    size (the change is shown under the file); raises Toy2DError for a bad file."""
    file = st.file_uploader(t("modes.upload.label"), type=["csv", "txt"], key="modes_upload",
                            max_upload_size=max(1, MAX_CSV_BYTES // 1_000_000),  # MB, as the widget says
                            help=t("modes.upload.help", limit=f"{MAX_CSV_BYTES // 1_000_000}"))
    if file is None:
        return None, None
    points, rescaling = fit_to_networks(points_from_csv(file.getvalue()))
    if rescaling is not None:  # the student sees by how much their points were changed
        shrink = rescaling.factor < 1
        factor = 1 / rescaling.factor if shrink else rescaling.factor
        st.caption(t("modes.upload.rescaled_down" if shrink else "modes.upload.rescaled_up",
                     factor=f"{factor:,.0f}" if factor >= 1000 else f"{factor:.3g}",
                     cx=_plain_number(rescaling.centre[0]), cy=_plain_number(rescaling.centre[1])))
    return points, file.name


def _plain_number(x: float) -> str:
    """A coordinate for a sentence: whole numbers when large (1000000, not 1e+06), else 3 digits."""
    return f"{x:.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _trainer(config: Toy2DConfig, points, source: tuple, reset: bool) -> Toy2DTrainer:
    """The session's trainer: a new one for new settings, a new target or Reset."""
    s = st.session_state
    key = (config, source)
    trainer = s.get("modes_trainer")
    if trainer is None or reset or s.get("modes_trainer_key") != key:
        trainer = s.modes_trainer = Toy2DTrainer(config, points=points)
        s.modes_trainer_key = key
        s.modes_measured_at = None
        s.pop("modes_highlight", None)
    return trainer


# --- Play and the buttons -------------------------------------------------------------------------

def _buttons(playing: bool) -> dict[str, bool]:
    row = st.container(horizontal=True, key="modes_buttons")
    row.button(t("modes.pause") if playing else t("modes.play"), key="modes_pause" if playing else "modes_play",
               type="primary", icon=":material/pause:" if playing else ":material/play_arrow:",
               on_click=set_playing, args=("modes", not playing))
    k = st.session_state.modes_k
    clicked = {
        "d_step": row.button(t("modes.d_step"), key="modes_d_step", help=t("modes.d_step_help")),
        "g_step": row.button(t("modes.g_step"), key="modes_g_step", help=t("modes.g_step_help")),
        "step": row.button(t("modes.step"), key="modes_step", help=t("modes.step_help", k=k)),
        "reset": row.button(t("modes.reset"), key="modes_reset", help=t("modes.reset_help")),
    }
    st.toggle(t("modes.slow"), key="modes_slow", help=t("modes.slow_help", k=k), persist_state=PERSIST)
    return clicked


def _note(highlight: str | None, trainer: Toy2DTrainer) -> str:
    """Slow motion's words on which network just moved."""
    if highlight == "D":
        return t("modes.moved_d", i=trainer.d_in_a_row, k=trainer.config.k)
    if highlight == "G":
        return t("modes.moved_g")
    return ""


def _frame(trainer: Toy2DTrainer, drawing: bool, shading: bool = True) -> plots.Frame:
    target = trainer.target
    means, std = (target.means, target.std) if target is not None and target.means is not None else (None, None)
    frame = plots.frame_from_view(trainer.view(arrows=ARROWS, shading=shading), means, std)
    if drawing:  # the canvas keeps room to draw round the points drawn so far
        b, c = frame.bounds, CANVAS_BOUNDS
        frame = plots.Frame(**{**frame.__dict__, "bounds": (min(b[0], c[0]), max(b[1], c[1]), min(b[2], c[2]),
                                                             max(b[3], c[3]))})
    return frame


def _empty_canvas() -> plots.Frame:
    empty = np.zeros((0, 2))
    x0, x1, y0, y1 = CANVAS_BOUNDS
    return plots.Frame(bounds=CANVAS_BOUNDS, real=empty, fake=empty, grid_x=np.array([x0, x1]),
                       grid_y=np.array([y0, y1]), d=np.full((2, 2), 0.5), arrow_from=empty, arrow_push=empty)


def _shading_due(playing: bool) -> bool:
    """Whether this frame recomputes D(x)'s shading: always when paused and in slow motion (one update a
    frame, and which network moved is the point), else every ``SHADING_SECONDS``."""
    s = st.session_state
    now = time.monotonic()
    if not playing or s.modes_slow or now - s.get("modes_shaded_time", -math.inf) >= SHADING_SECONDS:
        s.modes_shaded_time = now
        return True
    return False


def _draw_view(trainer: Toy2DTrainer | None, playing: bool, drawing: bool) -> None:
    """The animated picture: HTML around server-drawn PNGs while playing, Plotly when paused (a canvas
    when drawing)."""
    s = st.session_state
    layers = s.modes_layers or []
    highlight = s.get("modes_highlight")
    note = _note(highlight, trainer) if trainer is not None else ""
    frame = _frame(trainer, drawing, _shading_due(playing)) if trainer is not None else _empty_canvas()
    counter = t("modes.counter", d=trainer.d_steps, g=trainer.g_steps) if trainer is not None else None
    if playing:  # the step counter inside the view's HTML: one element a frame for the browser to redraw, not two
        st.html(plots.view_html(frame, layers, t("modes.fig.view_alt"), highlight, note, caption=counter))
        return
    if drawing:
        st.plotly_chart(plots.view_figure(frame, layers if trainer is not None else [], canvas=True,
                                          highlight=highlight, note=note),
                        key="modes_canvas", on_select=_on_canvas_select, selection_mode=("points", "box"))
    else:
        st.plotly_chart(plots.view_figure(frame, layers, highlight=highlight, note=note), key="modes_view")
    if counter is not None:
        st.caption(counter)


def _measured(trainer: Toy2DTrainer) -> None:
    """The measurement the numbers and charts show. Paused: measured now (~50 ms) when something trained
    since the last one. Playing: on the engine's worker thread, so Play's frames go on meanwhile; each
    run records the one that finished and starts the next, at most about once a second (the numbers
    and the charts are two fragments on their own timers, and both call this)."""
    s = st.session_state
    at = (trainer.d_steps, trainer.g_steps)
    if s.get("modes_playing"):
        trainer.collect_measurement()
        if time.monotonic() - s.get("modes_measured_time", -math.inf) >= 0.8 * MEASURE_SECONDS:
            if trainer.start_measurement():
                s.modes_measured_time = time.monotonic()
        return
    trainer.collect_measurement(wait=True)  # the last one of Play, into the history before the paused one
    if s.get("modes_measured_at") != at:
        trainer.measure()
        s.modes_measured_at, s.modes_measured_time = at, time.monotonic()


def _numbers(trainer: Toy2DTrainer) -> None:
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


def _draw_charts(trainer: Toy2DTrainer, playing: bool) -> None:
    show_grid(_charts(trainer), playing, "modes_charts_fig", t("modes.fig.charts_alt"), columns=3, width=1100,
              height_scale=0.55)
    st.caption(t("modes.chart.caption"))


def _apply_clicks(trainer: Toy2DTrainer, clicked: dict[str, bool]) -> None:
    s = st.session_state
    if clicked["d_step"]:
        trainer.d_step()
        s.modes_highlight = "D"
    if clicked["g_step"]:
        trainer.g_step()
        s.modes_highlight = "G"
    if clicked["step"]:
        trainer.step()
        s.pop("modes_highlight", None)


def training_section() -> None:
    # Nested fragments as on the 1-D page: the controls rerun only this section, and while playing
    # only ``tick`` (the view) and ``measurements`` (numbers and charts, once a second) rerun on timers.
    @st.fragment
    def controls() -> None:
        s = st.session_state
        playing = bool(s.get("modes_playing", False))
        if "modes_error" in s:
            st.error(t(s.pop("modes_error")))
        view_col, side = st.columns([1.2, 1])
        with st.container():  # below the view and its controls (drawn first: the run needs its settings)
            config = settings_panel()
        with side:
            choose_preset_and_target()
            clicked = _buttons(playing)
            st.pills(t("modes.layers"), plots.LAYERS, selection_mode="multi", key="modes_layers", wrap=True,
                     format_func=option_labels("modes.layer", plots.LAYERS), persist_state=PERSIST)
        drawing = s.modes_target == DRAW
        try:
            if drawing:
                points, source = _drawn_points(), (DRAW, tuple(s.modes_clicks), tuple(s.modes_boxes))
            elif s.modes_target == UPLOAD:
                with side:
                    points, name = _uploaded_points()
                source = (UPLOAD, name, None if points is None else len(points))
            else:
                points, source = None, (s.modes_target,)
        except Toy2DError as exc:
            set_playing("modes", False)
            with side:
                st.error(error_text(exc))
            points, source = None, ("invalid",)
            if s.modes_target == UPLOAD:
                return
        if points is None and s.modes_target in (DRAW, UPLOAD):
            s.modes_playing = False
            with side:
                st.info(t("modes.draw.empty", n=POINTS_PER_CLICK) if drawing else t("modes.upload.empty"))
            with view_col:
                if drawing:
                    _draw_view(None, False, True)
            return
        try:
            trainer = _trainer(config, points, source, clicked["reset"])
            _apply_clicks(trainer, clicked)
        except (Toy2DError, ValueError) as exc:
            set_playing("modes", False)
            st.error(error_text(exc))
            return
        except TrainingDiverged:
            set_playing("modes", False)
            st.error(t("modes.diverged"))
            return
        if drawing:
            with side:
                st.caption(t("modes.draw.how", n=POINTS_PER_CLICK, points=len(trainer.real)))
                st.button(t("modes.draw.clear"), key="modes_clear_drawing", on_click=_clear_drawing)
        slow = bool(s.modes_slow)

        def train() -> None:
            if s.modes_slow:  # slow motion: one update a frame, and which network moved
                s.modes_highlight = trainer.next_update()
            else:
                s.pop("modes_highlight", None)
                trainer.run_for(PLAY_TICK_BUDGET, "update")

        tick = play_fragment("modes", (SLOW_TICK_SECONDS if slow else TICK_SECONDS) if playing else None, train,
                             draw=lambda playing_now: _draw_view(trainer, playing_now, drawing and not playing_now),
                             diverged_key="modes.diverged")

        @st.fragment(run_every=MEASURE_SECONDS if playing else None)
        def numbers() -> None:
            _measured(trainer)
            _numbers(trainer)

        @st.fragment(run_every=MEASURE_SECONDS if playing else None)
        def charts() -> None:
            _measured(trainer)
            _draw_charts(trainer, s.get("modes_playing", False))

        with side:
            numbers()
            st.markdown(t("modes.intro"))
        charts()
        teaching_notes("modes.notes")
        # The view last (its place is the column above): Play's timer starts when ``tick`` reaches the
        # browser, and a timer rerun that arrives while this run is still measuring would cut it short,
        # leaving the old Play button beside the new Pause.
        with view_col:
            if drawing and not playing:
                # Not in ``tick``: a click on the canvas reruns the fragment it is drawn in, and the
                # drawing's points, the trainer and the caption are made here, in ``controls``.
                _draw_view(trainer, False, True)
            else:
                tick()

    controls()


restore(URL_PARAMS, "modes")
first_values()
st.title(t("modes.title"))
st.caption(t("modes.caption"))
training_section()
mirror([p for p in URL_PARAMS if p.key != "modes_target" or st.session_state.modes_target in TARGETS])
with st.sidebar:
    link_box()
