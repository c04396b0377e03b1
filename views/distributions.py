"""How a GAN matches distributions: the theory of Goodfellow et al. 2014 on the real line.

1. Analytic explorer: p_data, p_g, the optimal D*, V(D*, G) = -log 4 + 2 JSD, Figure 1 (a)-(d).
2. A real 1-D GAN trained step by step (Algorithm 1), live.
3. Why the non-saturating generator loss.
4. Expectations and the law of large numbers (Monte Carlo estimate of V).

A thin view over ``gan_core.toy.toy1d`` (maths) and ``gan_core.toy.toy1d_train`` (the 1-D GAN). Every
text comes from the catalogs (``[dist]``), every setting is mirrored in the URL, and every tab
ends with a teaching box.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import streamlit as st

from gan_core.toy import toy1d
from gan_core.algorithm1 import TrainingDiverged
from gan_core.settings import declared
from gan_core.toy.optimizers import OPTIMIZERS
from gan_core.toy.toy1d import AffineGenerator, Gaussian, Mixture, Toy1DError, Uniform
from gan_core.toy.toy1d_train import (PANEL_D_GAP, PANEL_D_JSD, PANEL_D_MASS, PRESETS, STRIP_D_STEPS, STRIP_G_STEPS,
                                      STRIP_MAX_ITERATIONS, Toy1DConfig, Toy1DTrainer, d_gap_over_bulk, reached_panel_d)
from gan_core.toy.toy_gan import PLAY_TICK_BUDGET
from views import _plots1d as plots
from views._charts import show_grid
from views._i18n import error_text, option_labels, t
from views._notes import teaching_notes
from views._play import play_fragment, set_playing
from views._settings import PERSIST, params, widget
from views._svg import svg_as_img
from views._urlstate import Param, link_box, mirror, restore

TICK_SECONDS = 0.07  # Play redraws the figure this often (the goal is >= 10 frames/s)
HISTORY_SECONDS = 1.0  # ... and the charts over steps this often
LIVE_HEIGHT = 0.85  # the live figure is a little lower than the theme's, so it fits under the settings
COMPARE_ITERATIONS = 60  # tab 3 runs this many iterations of Algorithm 1 with each loss

# Widget options are stable ids (also what the URL holds); the catalogs give their labels.
TAB_IDS = ["explorer", "train", "saturation", "expectation"]
FAMILIES = ["gaussian", "mixture", "uniform"]
D_MODES = ["optimal", "partial", "frozen"]
G_PRIORS = ["normal", "uniform"]
LOSS_CHOICES = ["non-saturating", "minimax"]
MC_SIZES = [100, 1_000, 10_000, 100_000]
TRAIN_DATA = {
    "gaussian": Gaussian(3.0, 0.5),
    "two_gaussians": Mixture((Gaussian(1.0, 0.4), Gaussian(4.0, 0.4)), (0.5, 0.5)),
    "uniform": Uniform(2.0, 4.0),
}
SAME_AS_EXPLORER = "explorer"

DEFAULTS = {  # explorer widget values
    "dist_tab_id": TAB_IDS[0],
    "dist_family": "gaussian", "dist_mean": 1.0, "dist_std": 0.5,
    "dist_mix_m1": -1.0, "dist_mix_s1": 0.4, "dist_mix_m2": 1.5, "dist_mix_s2": 0.6, "dist_mix_w1": 0.4,
    "dist_uni": (-1.0, 1.5),
    "dist_g_prior": "normal", "dist_g_mean": -0.6, "dist_g_std": 0.8,
    "dist_d_mode": "optimal", "dist_d_training": 0.5,
}
# The training widgets and the Toy1DConfig field each one sets (defaults: Toy1DConfig()).
CONFIG_WIDGETS = {"loss": "dist_t_loss", "k": "dist_t_k", "lr_d": "dist_t_lr_d", "lr_g": "dist_t_lr_g",
                  "batch_size": "dist_t_batch", "optimizer": "dist_t_opt", "g_hidden": "dist_t_gh",
                  "d_hidden": "dist_t_dh", "prior": "dist_t_prior", "seed": "dist_t_seed"}
FIELDS = declared(Toy1DConfig)
TRAIN_DEFAULTS = {
    **{key: getattr(Toy1DConfig(), field) for field, key in CONFIG_WIDGETS.items()},
    "dist_t_preset": next(iter(PRESETS)), "dist_t_data": "gaussian", "dist_mc_m": 10_000, "dist_mc_seed": 0,
}
SLIDER = dict(mean=(-3.0, 3.0, 0.1), std=(0.1, 2.0, 0.05), weight=(0.05, 0.95, 0.05), training=(0.0, 1.0, 0.05))

URL_PARAMS = [
    Param("tab", "dist_tab_id", "choice", choices=TAB_IDS),
    Param("family", "dist_family", "choice", choices=FAMILIES),
    Param("mean", "dist_mean", "float", *SLIDER["mean"][:2]),
    Param("std", "dist_std", "float", *SLIDER["std"][:2]),
    Param("m1", "dist_mix_m1", "float", *SLIDER["mean"][:2]),
    Param("s1", "dist_mix_s1", "float", *SLIDER["std"][:2]),
    Param("m2", "dist_mix_m2", "float", *SLIDER["mean"][:2]),
    Param("s2", "dist_mix_s2", "float", *SLIDER["std"][:2]),
    Param("w1", "dist_mix_w1", "float", *SLIDER["weight"][:2]),
    Param("interval", "dist_uni", "float_pair", *SLIDER["mean"][:2]),
    Param("noise", "dist_g_prior", "choice", choices=G_PRIORS),
    Param("g_mean", "dist_g_mean", "float", *SLIDER["mean"][:2]),
    Param("g_std", "dist_g_std", "float", *SLIDER["std"][:2]),
    Param("d", "dist_d_mode", "choice", choices=D_MODES),
    Param("d_trained", "dist_d_training", "float", *SLIDER["training"][:2]),
    Param("data", "dist_t_data", "choice", choices=[*TRAIN_DATA, SAME_AS_EXPLORER]),
    *[p for field, key in CONFIG_WIDGETS.items()  # the 1-D trainer's settings, as declared
      for p in params(FIELDS[field], key, **({"choices": LOSS_CHOICES} if field == "loss" else {}))],
    Param("mc_m", "dist_mc_m", "choice", choices=MC_SIZES),
    Param("mc_seed", "dist_mc_seed", "int", 0, 10_000),
]


def _fmt(v: float) -> str:
    return "∞" if v == math.inf else f"{v:.4f}"


def _slider(label: str, key: str, kind: str, container=st, **kwargs) -> float:
    """A slider over one of the ``SLIDER`` ranges (its value lives in session state under ``key``)."""
    lo, hi, step = SLIDER[kind]
    return container.slider(label, lo, hi, step=step, key=key, **kwargs, persist_state=PERSIST)


# --- 1. analytic explorer ----------------------------------------------------------------------------

def _snap(panel: toy1d.Figure1Panel) -> None:
    """Button callback: set the explorer's widgets to one Figure-1 panel."""
    s = st.session_state
    s.dist_family, s.dist_mean, s.dist_std = "gaussian", panel.data.mean, panel.data.std
    s.dist_g_prior, s.dist_g_mean, s.dist_g_std = "normal", panel.generator.mean, panel.generator.std
    s.pop("dist_frozen", None)
    if panel.d_trained_against is not None:
        s.dist_d_mode, s.dist_frozen = "frozen", (panel.data, panel.d_trained_against)
    elif panel.d_training < 1:
        s.dist_d_mode, s.dist_d_training = "partial", panel.d_training
    else:
        s.dist_d_mode = "optimal"
    s.dist_panel = panel.label


def _freeze_d() -> None:
    """Button callback: keep D as it is now (optimal for the current p_data and p_g) while p_g moves."""
    s = st.session_state
    s.dist_frozen = (explorer_data(), AffineGenerator(s.dist_g_mean, s.dist_g_std, s.dist_g_prior))
    s.dist_d_mode = "frozen"
    s.dist_panel = "frozen"


def _data_changed() -> None:
    """p_data changed: a D frozen for the old p_data would be stale, so D goes back to D*."""
    s = st.session_state
    s.pop("dist_panel", None)
    if s.get("dist_d_mode") == "frozen":
        s.dist_d_mode = "optimal"
        s.pop("dist_frozen", None)
        s.dist_notice = "dist.explorer.frozen_released"


def _data_controls() -> None:
    family = st.selectbox(t("dist.data.family"), FAMILIES, key="dist_family", on_change=_data_changed,
                          format_func=option_labels("dist.family", FAMILIES), persist_state=PERSIST)
    if family == "gaussian":
        _slider(t("dist.data.mean"), "dist_mean", "mean", on_change=_data_changed)
        _slider(t("dist.data.std"), "dist_std", "std", on_change=_data_changed)
    elif family == "mixture":
        for col, i in zip(st.columns(2), (1, 2)):
            _slider(t("dist.data.mix_mean", i=i), f"dist_mix_m{i}", "mean", col, on_change=_data_changed)
            _slider(t("dist.data.mix_std", i=i), f"dist_mix_s{i}", "std", col, on_change=_data_changed)
        _slider(t("dist.data.mix_weight"), "dist_mix_w1", "weight", on_change=_data_changed)
    else:
        _slider(t("dist.data.interval"), "dist_uni", "mean", on_change=_data_changed)


def first_values() -> None:
    """Set every widget's first value, once per session.

    Only the open tab runs (lazy tabs: a closed tab costs nothing, and Play's browser updates
    stay cheap); the widgets keep their values while their tab is closed, or another page is shown,
    with ``persist_state`` (``views._settings.PERSIST``). They take their first values from here, not
    from a ``value=`` argument, so the two never disagree.
    """
    for key, value in {**DEFAULTS, **TRAIN_DEFAULTS}.items():
        st.session_state.setdefault(key, value)


def explorer_data() -> toy1d.Density:
    """p_data of section 1 from its widgets' values (raises Toy1DError for an empty interval)."""
    s = st.session_state
    if s.dist_family == "gaussian":
        return Gaussian(s.dist_mean, s.dist_std)
    if s.dist_family == "mixture":
        return Mixture((Gaussian(s.dist_mix_m1, s.dist_mix_s1), Gaussian(s.dist_mix_m2, s.dist_mix_s2)),
                       (s.dist_mix_w1, 1 - s.dist_mix_w1))
    return Uniform(*s.dist_uni)


def explorer_model() -> tuple[toy1d.Density, AffineGenerator, object]:
    """(p_data, G, D as a function of x) of section 1, from its widgets' values (open tab or not)."""
    s = st.session_state
    p_data = explorer_data()
    generator = AffineGenerator(s.dist_g_mean, s.dist_g_std, s.dist_g_prior)
    training, d_data, reference = 1.0, p_data, None
    if s.dist_d_mode == "partial":
        training = s.dist_d_training
    elif s.dist_d_mode == "frozen":
        d_data, reference = s.get("dist_frozen") or (p_data, generator)

    def discriminator(x):
        return toy1d.shown_discriminator(d_data, generator, x, training, reference)

    return p_data, generator, discriminator


def _snap_row() -> None:
    st.markdown(f"**{t('dist.explorer.snap')}**")
    row = st.container(horizontal=True, gap="small")
    for panel in toy1d.figure1_panels():
        row.button(panel.label, key=f"dist_snap_{panel.label[1]}", on_click=_snap, args=(panel,),
                   help=t(f"dist.fig1.{panel.label[1]}"))
    row.button(t("dist.explorer.freeze"), key="dist_freeze", on_click=_freeze_d, help=t("dist.explorer.freeze_help"))


def explorer_section() -> None:
    """Section 1: the analytic explorer (controls beside the figure, so both fit one 1280x720 screen)."""
    notice = st.session_state.pop("dist_notice", None)
    if notice:
        st.info(t(notice))
    controls, view = st.columns([1, 2.4])
    with controls:
        _snap_row()
        _data_controls()
        st.markdown(t("dist.explorer.generator"))
        st.radio(t("dist.explorer.noise"), G_PRIORS, key="dist_g_prior", horizontal=True,
                 format_func=option_labels("dist.prior", G_PRIORS), persist_state=PERSIST)
        _slider(t("dist.explorer.g_mean"), "dist_g_mean", "mean")
        _slider(t("dist.explorer.g_std"), "dist_g_std", "std")
        mode = st.radio(t("dist.explorer.d_mode"), D_MODES, key="dist_d_mode",
                        format_func=option_labels("dist.d_mode", D_MODES), persist_state=PERSIST)
        if mode == "partial":
            _slider(t("dist.explorer.d_training"), "dist_d_training", "training")
        elif mode == "frozen" and st.session_state.get("dist_frozen"):
            reference = st.session_state.dist_frozen[1]
            st.caption(t("dist.explorer.frozen_caption", mean=reference.mean, std=reference.std))

    with view:
        try:
            p_data, generator, discriminator = explorer_model()
        except Toy1DError as exc:
            st.error(error_text(exc))
            return
        p_g = generator.density()
        lo, hi = toy1d.plot_range(p_data, p_g)
        x = np.linspace(lo, hi, 500)
        z = toy1d.prior_quantiles(generator.prior, 21)
        d_name = "D*(x)" if mode == "optimal" else "D(x)"
        st.plotly_chart(plots.distribution_figure(x, p_data.pdf(x), p_g.pdf(x), discriminator(x), z, generator(z),
                                                  d_name=d_name), key="dist_explorer_fig")
        panel = st.session_state.get("dist_panel")
        if panel == "frozen":
            st.caption(t("dist.explorer.frozen_note"))
        elif panel:
            st.caption(t("dist.explorer.panel_caption", label=panel, text=t(f"dist.fig1.{panel[1]}")))
        st.caption(t("dist.explorer.figure_caption"))
        nums = toy1d.theory_numbers(p_data, p_g)
        for row in (("V(D*, G)", nums.value_optimal, "JSD(p_data ‖ p_g)", nums.jsd),
                    ("KL(p_data ‖ p_g)", nums.kl_data_g, "KL(p_g ‖ p_data)", nums.kl_g_data)):
            left, right = st.columns(2)  # 2 x 2: four metrics in a row were squeezed at 150% zoom
            left.metric(row[0], _fmt(row[1]))
            right.metric(row[2], _fmt(row[3]))
        # One short line each, so that both sides of the identity fit beside the figure on a projector.
        st.latex(rf"\begin{{gathered}}V(D^*,G)={nums.value_optimal:.6f}\\ -\log 4+2\,\mathrm{{JSD}}\\"
                 rf"={-toy1d.LOG4:.6f}+2\times{nums.jsd:.6f}\\={nums.identity_rhs:.6f}\end{{gathered}}")
        if mode != "optimal":
            st.markdown(t("dist.explorer.value_of_d", value=_fmt(toy1d.value_function(p_data, p_g, discriminator))))
        if nums.jsd < 1e-9:
            st.success(t("dist.explorer.equal"))
        st.caption(t("dist.explorer.numbers_caption"))

    st.caption(t("dist.caption"))
    st.markdown(t("dist.explorer.intro"))
    st.latex(r"D^*(x)=\frac{p_{data}(x)}{p_{data}(x)+p_g(x)}")
    st.latex(r"V(D^*,G)=-\log 4+2\,\mathrm{JSD}(p_{data}\,\|\,p_g)")
    teaching_notes("dist.tab1")
    with st.expander(t("dist.explorer.strip")):
        panels = []
        for panel in toy1d.figure1_panels():
            px_lo, px_hi = toy1d.plot_range(panel.data, panel.generator.density())
            px = np.linspace(px_lo, px_hi, 300)
            pz = toy1d.prior_quantiles("normal", 21)
            panels.append(dict(x=px, p_data=panel.data.pdf(px), p_g=panel.generator.density().pdf(px),
                               d=panel.discriminator(px), z=pz, g_of_z=panel.generator(pz), title=panel.label))
        st.plotly_chart(plots.panel_strip(panels), key="dist_figure1_strip")
        for panel in toy1d.figure1_panels():
            st.caption(f"**{panel.label}** {t(f'dist.fig1.{panel.label[1]}')}")


# --- 2. a real 1-D GAN -----------------------------------------------------------------------------

def _apply_preset() -> None:
    """Preset callback: set the training widgets to the preset's settings and start a fresh run."""
    s = st.session_state
    preset = PRESETS[s.dist_t_preset]
    for field, key in CONFIG_WIDGETS.items():
        if field != "seed":
            s[key] = getattr(preset, field)
    s.pop("dist_trainer", None)


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
    trainer = s.get("dist_trainer")
    if trainer is None or reset:
        trainer = s.dist_trainer = Toy1DTrainer(data, config)
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
    row.button(t("dist.train.pause") if playing else t("dist.train.play"), key="dist_pause" if playing else "dist_play",
               type="primary", icon=":material/pause:" if playing else ":material/play_arrow:",
               on_click=set_playing, args=("dist", not playing))
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


def training_section() -> None:
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


# --- 3. why the non-saturating loss ---------------------------------------------------------------

def _early_progress(data: toy1d.Density, config: Toy1DConfig, iterations: int) -> dict:
    """JSD over the first ``iterations`` of Algorithm 1 with each loss (same seed and settings)."""
    curves = {}
    for loss in LOSS_CHOICES:
        trainer = Toy1DTrainer(data, replace(config, loss=loss))
        for _ in range(iterations):
            trainer.step()
        curves[loss] = trainer.history.series("jsd")
    return dict(curves=curves, iterations=iterations, updates=iterations * (config.k + 1), config=config)


def saturation_section() -> None:
    col_fig, col_text = st.columns([2.2, 1])
    with col_fig:
        st.plotly_chart(plots.generator_loss_figure(toy1d.generator_loss_curves()), key="dist_sat_fig")
    with col_text:
        st.markdown(t("dist.saturation.text"))
    # Full width, one gradient per line: beside the figure it was cut off on a projector.
    st.latex(r"\begin{aligned}\tfrac{\partial}{\partial s}\log(1-\sigma(s))&=-D\\"
             r"\tfrac{\partial}{\partial s}\bigl(-\log\sigma(s)\bigr)&=-(1-D)\end{aligned}")
    st.markdown(t("dist.saturation.same_seed", n=COMPARE_ITERATIONS))
    if st.button(t("dist.saturation.compare"), key="dist_compare"):
        # The stalling preset's optimiser (plain SGD) with section 2's data, k, batch and seed:
        # Adam rescales small gradients and would hide the minimax loss's slow start.
        trainer = st.session_state.get("dist_trainer")
        base = trainer.config if trainer is not None else Toy1DConfig()
        config = replace(PRESETS["sgd-stall"], k=base.k, batch_size=base.batch_size, seed=base.seed)
        data = trainer.data if trainer is not None else TRAIN_DATA["gaussian"]
        try:
            st.session_state.dist_compare_result = _early_progress(data, config, COMPARE_ITERATIONS)
        except Toy1DError as exc:
            st.error(error_text(exc))
        except TrainingDiverged:
            st.error(t("dist.train.diverged"))
    result = st.session_state.get("dist_compare_result")
    if result:
        st.plotly_chart(plots.loss_comparison_figure(result["curves"]), key="dist_compare_fig")
        c = result["config"]
        st.caption(t("dist.saturation.caption", n=result["iterations"], updates=result["updates"], k=c.k,
                     lr_d=c.lr_d, lr_g=c.lr_g, seed=c.seed))
    teaching_notes("dist.tab3")


# --- 4. expectation and the law of large numbers ----------------------------------------------------

def expectation_section() -> None:
    col_fig, col_text = st.columns([2.2, 1])
    with col_text:
        st.markdown(t("dist.expectation.lln"))
        max_m = st.select_slider(t("dist.expectation.max_m"), MC_SIZES, key="dist_mc_m", persist_state=PERSIST)
        seed = st.number_input(t("dist.expectation.seed"), 0, 10_000, key="dist_mc_seed", persist_state=PERSIST)
    with col_fig:
        try:
            p_data, generator, discriminator = explorer_model()
        except Toy1DError as exc:
            st.error(error_text(exc))
            return
        p_g = generator.density()
        exact = toy1d.value_function(p_data, p_g, discriminator)
        if not math.isfinite(exact):
            st.warning(t("dist.expectation.infinite"))
        else:
            sizes = toy1d.log_spaced_sizes(int(max_m))
            est = toy1d.monte_carlo_value(p_data, p_g, discriminator, sizes, np.random.default_rng(int(seed)))
            st.plotly_chart(plots.monte_carlo_figure(sizes, est, exact), key="dist_mc_fig")
            st.caption(t("dist.expectation.caption", exact=exact, m=f"{int(sizes[-1]):,}", estimate=est[-1]))
    # Full width and broken into lines: beside the figure the integral and V(D, G) were cut off.
    st.markdown(t("dist.expectation.text"))
    st.latex(r"\begin{aligned}\mathbb{E}[X]&=\sum_x x\,P(x)\\&\text{or}\;\int x\,p(x)\,dx\end{aligned}")
    st.latex(r"\begin{aligned}V(D,G)=\;&\mathbb{E}_{x\sim p_{data}}[\log D(x)]\\"
             r"+\;&\mathbb{E}_{z\sim p_z}[\log(1-D(G(z)))]\end{aligned}")
    teaching_notes("dist.tab4")


# --- page --------------------------------------------------------------------------------------------

def _remember_tab() -> None:
    """Tab callback: keep the open tab as a stable id (the labels change with the language)."""
    labels = st.session_state.get("dist_tab_labels", [])
    if st.session_state.get("dist_tab") in labels:
        st.session_state.dist_tab_id = TAB_IDS[labels.index(st.session_state.dist_tab)]


restore(URL_PARAMS, "distributions")
first_values()
st.title(t("dist.title"))
# Lazy tabs: only the open tab runs. A closed tab then costs nothing on a rerun (Pause reruns the
# page), and the browser does not re-check the hidden tabs' contents on every Play frame.
tab_labels = [t(f"dist.tabs.{tab}") for tab in TAB_IDS]
st.session_state.dist_tab_labels = tab_labels
st.session_state.dist_tab = tab_labels[TAB_IDS.index(st.session_state.dist_tab_id)]
tabs = st.tabs(tab_labels, key="dist_tab", on_change=_remember_tab)
sections = [explorer_section, training_section, saturation_section, expectation_section]
for tab, section in zip(tabs, sections):
    with tab:
        if tab.open:
            section()
mirror(URL_PARAMS)
with st.sidebar:
    link_box()
