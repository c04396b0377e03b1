"""The 1-D page's second tab: a real 1-D GAN (``gan_core.toy.toy1d_train``) trained step by step with
Algorithm 1, or played live. Its settings are ``Toy1DConfig``'s declarations (``views._settings``); this
module owns their session-state keys (``dist_t_``), first values (``DEFAULTS``), link parameters
(``PARAMS``) and the session's trainer (``TRAINER``)."""

from __future__ import annotations

import streamlit as st

from gan_core.algorithm1 import TrainingDiverged
from gan_core.settings import declared
from gan_core.toy import toy1d
from gan_core.toy.optimizers import OPTIMIZERS
from gan_core.toy.toy1d import Gaussian, Mixture, Toy1DError, Uniform
from gan_core.toy.toy1d_train import (PANEL_D_GAP, PANEL_D_JSD, PANEL_D_MASS, PRESETS, STRIP_D_STEPS, STRIP_G_STEPS,
                                      STRIP_MAX_ITERATIONS, Toy1DConfig, Toy1DTrainer, d_gap_over_bulk, reached_panel_d)
from gan_core.toy.toy_gan import PLAY_TICK_BUDGET
from views import _plots1d as plots
from views._charts import show_grid
from views._dist_explorer import G_PRIORS, explorer_data
from views._i18n import error_text, option_labels, t
from views._notes import teaching_notes
from views._play import play_fragment, play_pause_button
from views._settings import PERSIST, params, widget
from views._svg import svg_as_img
from views._urlstate import Param

TICK_SECONDS = 0.07  # Play redraws the figure this often (the goal is >= 10 frames/s)
HISTORY_SECONDS = 1.0  # ... and the charts over steps this often
LIVE_HEIGHT = 0.85  # the live figure is a little lower than the theme's, so it fits under the settings
LOSS_CHOICES = ["non-saturating", "minimax"]
TRAIN_DATA = {
    "gaussian": Gaussian(3.0, 0.5),
    "two_gaussians": Mixture((Gaussian(1.0, 0.4), Gaussian(4.0, 0.4)), (0.5, 0.5)),
    "uniform": Uniform(2.0, 4.0),
}
SAME_AS_EXPLORER = "explorer"
TRAINER = "dist_trainer"  # the session's Toy1DTrainer (the loss comparison starts from its settings)

# The training widgets and the Toy1DConfig field each one sets (defaults: Toy1DConfig()).
CONFIG_WIDGETS = {"loss": "dist_t_loss", "k": "dist_t_k", "lr_d": "dist_t_lr_d", "lr_g": "dist_t_lr_g",
                  "batch_size": "dist_t_batch", "optimizer": "dist_t_opt", "g_hidden": "dist_t_gh",
                  "d_hidden": "dist_t_dh", "prior": "dist_t_prior", "seed": "dist_t_seed"}
FIELDS = declared(Toy1DConfig)
DEFAULTS = {
    **{key: getattr(Toy1DConfig(), field) for field, key in CONFIG_WIDGETS.items()},
    "dist_t_preset": next(iter(PRESETS)), "dist_t_data": "gaussian",
}
PARAMS = [
    Param("data", "dist_t_data", "choice", choices=[*TRAIN_DATA, SAME_AS_EXPLORER]),
    *[p for field, key in CONFIG_WIDGETS.items()  # the 1-D trainer's settings, as declared
      for p in params(FIELDS[field], key, **({"choices": LOSS_CHOICES} if field == "loss" else {}))],
]


def _apply_preset() -> None:
    """Preset callback: set the training widgets to the preset's settings and start a fresh run."""
    s = st.session_state
    preset = PRESETS[s.dist_t_preset]
    for field, key in CONFIG_WIDGETS.items():
        if field != "seed":
            s[key] = getattr(preset, field)
    s.pop(TRAINER, None)


def _training_config() -> Toy1DConfig:
    st.selectbox(t("dist.train.preset"), list(PRESETS), key="dist_t_preset", on_change=_apply_preset,
                 format_func=option_labels("dist.preset", PRESETS), persist_state=PERSIST)
    c1, c2, c3, c4 = st.columns(4)
    options = {"loss": dict(options=LOSS_CHOICES, help=t("dist.train.loss_help"),
                            format_func=option_labels("dist.loss", LOSS_CHOICES)),
               "optimizer": dict(format_func=option_labels("common.optimizer", OPTIMIZERS),
                                 help=t("dist.train.optimizer_help")),
               "prior": dict(format_func=option_labels("dist.prior", G_PRIORS))}
    chosen = {field: widget(FIELDS[field], CONFIG_WIDGETS[field], column, **options.get(field, {}))
              for field, column in (("loss", c1), ("k", c1), ("lr_d", c2), ("lr_g", c2), ("batch_size", c3),
                                    ("optimizer", c3), ("g_hidden", c4), ("d_hidden", c4), ("prior", c1),
                                    ("seed", c2))}
    return Toy1DConfig(**chosen)


def _trainer(config: Toy1DConfig, data: toy1d.Density, reset: bool) -> Toy1DTrainer:
    """The session's trainer: rebuilt on Reset, otherwise given the live settings and data."""
    s = st.session_state
    trainer = s.get(TRAINER)
    if trainer is None or reset:
        trainer = s[TRAINER] = Toy1DTrainer(data, config)
        return trainer
    if trainer.data != data:
        trainer.set_data(data)
    if not trainer.apply_settings(config):
        st.info(t("dist.train.reset_needed"))
    return trainer


def _panel_title(v) -> str:
    """A recorded panel's title, from the run: its letter, the steps so far and the JSD."""
    lines = [v.label] if v.label else []
    lines += [t("dist.train.panel_steps", d=v.d_steps, g=v.g_steps), t("dist.train.panel_jsd", jsd=v.jsd)]
    return "<br>".join(lines)


def _view_dict(v) -> dict:
    return dict(x=v.x, p_data=v.p_data, p_g=v.p_g, d=v.d, z=v.z, g_of_z=v.g_of_z, title=_panel_title(v))


def _draw_live_figure(trainer: Toy1DTrainer, playing: bool) -> None:
    """The animated part: the Figure-1 picture of the current G and D, and its caption.

    While playing it is drawn as SVG: a Plotly chart with new data is rebuilt from scratch in the
    browser (~200 ms a frame on a 2-core laptop), an SVG swap costs ~1 ms. Paused, it is the
    interactive Plotly figure (hover, zoom) with the same look.
    """
    v = trainer.view()
    args = (v.x, v.p_data, v.p_g, v.d, v.z, v.g_of_z, v.d_star)
    d_name = t("dist.fig.learned_d")
    if playing:
        st.html(svg_as_img(plots.distribution_svg(*args, d_name=d_name, height_scale=LIVE_HEIGHT),
                                 alt=t("dist.fig.live_alt")))
    else:
        st.plotly_chart(plots.distribution_figure(*args, d_name=d_name, height_scale=LIVE_HEIGHT),
                        key="dist_train_fig")
    reached = t("dist.train.reached_d") + " " if reached_panel_d(v) else ""
    st.caption(t("dist.train.steps", d=trainer.d_steps, g=trainer.g_steps) + " " + reached
               + t("dist.train.live_caption", jsd=v.jsd, gap=d_gap_over_bulk(v), mass=round(100 * PANEL_D_MASS)))


def _draw_history(trainer: Toy1DTrainer, playing: bool) -> None:
    """JSD and both losses over the steps so far (SVG while playing, as the live figure)."""
    h = trainer.history
    series = {"JSD(p_data ‖ p_g)": h.series("jsd", 600), "loss_D": h.series("loss_d", 600),
              "loss_G": h.series("loss_g", 600)}
    show_grid(plots.history_charts(series), playing, "dist_history_fig", t("dist.fig.history_alt"),
              columns=len(series), width=900, height_scale=0.75)
    st.caption(t("dist.train.history_caption"))


def _training_buttons(playing: bool) -> dict[str, bool]:
    """The row of Algorithm-1 buttons (short labels, content-wide, wrapping: never truncated)."""
    row = st.container(horizontal=True, key="dist_buttons")
    play_pause_button(row, "dist", playing, t("dist.train.play"), t("dist.train.pause"))
    k = st.session_state.dist_t_k
    clicked = {
        "train_d": row.button(t("dist.train.train_d"), key="dist_train_d", help=t("dist.train.train_d_help", k=k)),
        "train_g": row.button(t("dist.train.train_g"), key="dist_train_g", help=t("dist.train.train_g_help")),
        "step": row.button(t("dist.train.step"), key="dist_step", help=t("dist.train.step_help", k=k)),
        "reset": row.button(t("dist.train.reset"), key="dist_reset", help=t("dist.train.reset_help")),
        "record": row.button(t("dist.train.record"), key="dist_record", help=t("dist.train.record_help")),
        "strip": row.button(t("dist.train.strip"), key="dist_record_strip",
                            help=t("dist.train.strip_help", d=STRIP_D_STEPS, g=STRIP_G_STEPS, jsd=PANEL_D_JSD,
                                   gap=PANEL_D_GAP, mass=round(100 * PANEL_D_MASS), n=STRIP_MAX_ITERATIONS)),
        "clear": row.button(t("dist.train.clear"), key="dist_clear"),
    }
    return clicked


def show() -> None:
    """Section 2: a real 1-D GAN, trained step by step or played live."""
    # Two nested fragments: the controls rerun only this section (so Play/Pause never reruns the
    # whole page), and while playing only the inner ``tick`` reruns on a timer.
    @st.fragment
    def controls() -> None:
        playing = bool(st.session_state.get("dist_playing", False))
        with st.expander(t("dist.train.settings")):
            choice = st.selectbox(t("dist.train.data"), [*TRAIN_DATA, SAME_AS_EXPLORER], key="dist_t_data",
                                  format_func=option_labels("dist.train_data", [*TRAIN_DATA, SAME_AS_EXPLORER]),
                                  persist_state=PERSIST)
            config = _training_config()
            st.caption(t(f"dist.preset_why.{st.session_state.dist_t_preset}"))
        if "dist_error" in st.session_state:
            st.error(t(st.session_state.pop("dist_error")))
        figure, side = st.columns([2.6, 1])
        with side:
            clicked = _training_buttons(playing)
        try:
            data = explorer_data() if choice == SAME_AS_EXPLORER else TRAIN_DATA[choice]
            trainer = _trainer(config, data, clicked["reset"])
            if clicked["train_d"]:
                trainer.train_d()
            if clicked["train_g"]:
                trainer.g_step()
            if clicked["step"]:
                trainer.step()
            if clicked["record"]:
                trainer.record_snapshot()
            if clicked["strip"]:
                bar = st.progress(0.0, text=t("dist.train.strip_spinner"))
                trainer.record_figure1_strip(on_progress=lambda f: bar.progress(f, text=t("dist.train.strip_spinner")))
                bar.empty()
            if clicked["clear"]:
                trainer.snapshots = []
        except Toy1DError as exc:
            st.session_state.dist_playing = False
            st.error(error_text(exc))
            return
        except TrainingDiverged:
            st.session_state.dist_playing = False
            st.error(t("dist.train.diverged"))
            return

        tick = play_fragment("dist", TICK_SECONDS if playing else None,
                             train=lambda: trainer.run_for(PLAY_TICK_BUDGET, "update"),
                             draw=lambda playing_now: _draw_live_figure(trainer, playing_now),
                             diverged_key="dist.train.diverged")

        # The charts over steps change slowly: they redraw once a second, not every frame.
        @st.fragment(run_every=HISTORY_SECONDS if playing else None)
        def history() -> None:
            _draw_history(trainer, st.session_state.get("dist_playing", False))

        with figure:
            tick()
        with side:
            st.markdown(t("dist.train.intro"))
        history()
        if trainer.snapshots:
            st.plotly_chart(plots.panel_strip([_view_dict(s) for s in trainer.snapshots[-4:]]),
                            key="dist_snapshots_fig")
            st.caption(t("dist.train.strip_caption"))
        teaching_notes("dist.tab2")

    controls()
