"""Mode collapse, seen and measured: a GAN on 2-D points (Algorithm 1 with two small MLPs).

The targets of the mode-collapse literature (8 Gaussians on a ring, a 5x5 grid, two moons, a Swiss
roll, one Gaussian) or the user's own points (clicked on the canvas or uploaded as a CSV); the
picture in layers (real, fake, D(x), G's push, the manifold, trails); Play / Pause / D step / G step /
Step and slow motion; the two presets "collapse it" (k = 5) and "fix it" (k = 1); and, measured about
once a second, modes covered, the share of high-quality samples, JS and KL both ways with their error,
the losses and D's outputs.

A thin view over ``gan_core.toy.toy2d`` (targets, divergences) and ``gan_core.toy.toy2d_train`` (the
trainer, the presets); figures in ``views._plots2d``; texts from the catalogs (``[modes]``). This file
holds the run (its trainer, the buttons, Play); each concept around it is a module that owns its
session-state keys: ``views/_modes_settings.py`` (preset, target, settings, the link),
``_modes_points.py`` (a drawn or uploaded target), ``_modes_view.py`` (the picture, and beside it
``_modes_graph.py``: the model overview graph lit for the update it shows), ``_modes_measures.py``
(numbers and charts), ``_modes_compare.py`` (two runs one setting apart, side by side).
"""

from __future__ import annotations

import streamlit as st

from gan_core.algorithm1 import TrainingDiverged
from gan_core.toy.toy2d import POINTS_PER_CLICK, TARGETS, Toy2DError
from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer
from gan_core.toy.toy_gan import PLAY_TICK_BUDGET
from views import _modes_compare as compare
from views import _modes_graph as graph
from views import _modes_measures as measures
from views import _modes_points as user_points
from views import _modes_settings as settings
from views import _modes_view as view
from views._i18n import error_text, t
from views._notes import teaching_notes
from views._play import play_fragment, play_pause_button, set_playing
from views._settings import PERSIST
from views._urlstate import Param, link_box, mirror, restore

# Play: the browser asks for a frame every TICK_SECONDS (a fixed-rate timer, whether or not the last one
# arrived; requests that come while a frame runs are merged into one). At 0.03 s the server made frames
# back to back (~9 a second) faster than the browser could show them (it drew 4-6), and the two fought
# over the 2 cores; at 0.07 s the server's ~50 ms a frame leaves room and the browser shows ~13.5 a second
# (BENCHMARKS.md, 2-D Play). At most 1 / 0.07 = 14 a second; the goal is >= 10.
TICK_SECONDS = 0.07
SLOW_TICK_SECONDS = 0.6  # slow motion: one update of D or G per frame, slow enough to follow
TRAINER, TRAINER_KEY = "modes_trainer", "modes_trainer_key"  # the session's run, and what it was built for

DEFAULTS = {**settings.DEFAULTS, **user_points.DEFAULTS, **view.DEFAULTS, **compare.DEFAULTS}
URL_PARAMS = [*settings.PARAMS, Param("compare", compare.CHOICE, "choice", choices=compare.CHOICES)]  # ?compare=k


def _first_values() -> None:
    """Set every widget's first value once per session (the widgets keep theirs with persist_state)."""
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)


# --- the run -------------------------------------------------------------------------------------------

def _trainer(config: Toy2DConfig, points, source: tuple, reset: bool) -> Toy2DTrainer:
    """The session's trainer: a new one for new settings, a new target or Reset."""
    s = st.session_state
    key = (config, source)
    trainer = s.get(TRAINER)
    if trainer is None or reset or s.get(TRAINER_KEY) != key:
        trainer = s[TRAINER] = Toy2DTrainer(config, points=points)
        s[TRAINER_KEY] = key
        s[measures.MEASURED_AT] = None
        s.pop(view.HIGHLIGHT, None)
    return trainer


def _buttons(playing: bool) -> dict[str, bool]:
    row = st.container(horizontal=True, key="modes_buttons", vertical_alignment="center")
    play_pause_button(row, "modes", playing, t("modes.play"), t("modes.pause"))
    k = st.session_state.modes_k
    clicked = {
        "d_step": row.button(t("modes.d_step"), key="modes_d_step", help=t("modes.d_step_help")),
        "g_step": row.button(t("modes.g_step"), key="modes_g_step", help=t("modes.g_step_help")),
        "step": row.button(t("modes.step"), key="modes_step", help=t("modes.step_help", k=k)),
        "reset": row.button(t("modes.reset"), key="modes_reset", help=t("modes.reset_help")),
    }
    row.toggle(t("modes.slow"), key=view.SLOW, help=t("modes.slow_help", k=k), persist_state=PERSIST)
    return clicked


def _apply_clicks(trainer: Toy2DTrainer, clicked: dict[str, bool]) -> None:
    s = st.session_state
    if clicked["d_step"]:
        trainer.d_step()
        s[view.HIGHLIGHT] = "D"
    if clicked["g_step"]:
        trainer.g_step()
        s[view.HIGHLIGHT] = "G"
    if clicked["step"]:
        trainer.step()
        s.pop(view.HIGHLIGHT, None)


def training_section() -> None:
    # Nested fragments as on the 1-D page: the controls rerun only this section, and while playing
    # only ``tick`` (the view) and ``measurements`` (numbers and charts, once a second) rerun on timers.
    @st.fragment
    def controls() -> None:
        s = st.session_state
        playing = bool(s.get("modes_playing", False))
        if "modes_error" in s:
            st.error(t(s.pop("modes_error")))
        clicked = _buttons(playing)
        stage = st.container(key="modes_stage")  # the view and the graph, drawn last (see below)
        graph.explanations()
        side, readings = st.columns(2)
        with st.container():  # below the view and its controls (drawn first: the run needs its settings)
            config = settings.settings_panel()
        with side:
            settings.choose_preset_and_target()
            view.layer_pills()
        drawing = s[settings.TARGET] == settings.DRAW
        try:
            if drawing:
                points = user_points.drawn_points(int(s.modes_seed))
                source = (settings.DRAW, tuple(s[user_points.CLICKS]), tuple(s[user_points.BOXES]))
            elif s[settings.TARGET] == settings.UPLOAD:
                with side:
                    points, name = user_points.uploaded_points()
                source = (settings.UPLOAD, name, None if points is None else len(points))
            else:
                points, source = None, (s[settings.TARGET],)
        except Toy2DError as exc:
            set_playing("modes", False)
            with side:
                st.error(error_text(exc))
            points, source = None, ("invalid",)
            if s[settings.TARGET] == settings.UPLOAD:
                return
        if points is None and s[settings.TARGET] in (settings.DRAW, settings.UPLOAD):
            s.modes_playing = False
            with side:
                st.info(t("modes.draw.empty", n=POINTS_PER_CLICK) if drawing else t("modes.upload.empty"))
            with stage:
                if drawing:
                    view.draw_stage(None, False, True)
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
                st.button(t("modes.draw.clear"), key="modes_clear_drawing", on_click=user_points.clear_drawing)
        slow = bool(s[view.SLOW])

        def train() -> None:
            if s[view.SLOW]:  # slow motion: one update a frame, and which network moved
                s[view.HIGHLIGHT] = trainer.next_update()
            else:
                s.pop(view.HIGHLIGHT, None)
                trainer.run_for(PLAY_TICK_BUDGET, "update")

        tick = play_fragment("modes", (SLOW_TICK_SECONDS if slow else TICK_SECONDS) if playing else None, train,
                             draw=lambda playing_now: view.draw_stage(trainer, playing_now, drawing and not playing_now),
                             diverged_key="modes.diverged")

        @st.fragment(run_every=measures.MEASURE_SECONDS if playing else None)
        def numbers() -> None:
            measures.measured(trainer)
            measures.numbers(trainer)

        @st.fragment(run_every=measures.MEASURE_SECONDS if playing else None)
        def charts() -> None:
            measures.measured(trainer)
            measures.draw_charts(trainer, s.get("modes_playing", False))

        with readings:
            numbers()
            st.markdown(t("modes.intro"))
        charts()
        compare.compare_section(config, points, source)
        teaching_notes("modes.notes")
        # The view last (its place is the column above): Play's timer starts when ``tick`` reaches the
        # browser, and a timer rerun that arrives while this run is still measuring would cut it short,
        # leaving the old Play button beside the new Pause.
        with stage:
            if drawing and not playing:
                # Not in ``tick``: a click on the canvas reruns the fragment it is drawn in, and the
                # drawing's points, the trainer and the caption are made here, in ``controls``.
                view.draw_stage(trainer, False, True)
            else:
                tick()

    controls()


restore(URL_PARAMS, "modes")
_first_values()
st.html(view.STAGE_CSS)
st.title(t("modes.title"))
st.caption(t("modes.caption"))
training_section()
mirror([p for p in URL_PARAMS if p.key != settings.TARGET or st.session_state[settings.TARGET] in TARGETS])
with st.sidebar:
    link_box()
