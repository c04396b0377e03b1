"""The 1-D page's first tab, the analytic explorer: p_data, p_g, the optimal D*, V(D*, G) = -log 4 + 2 JSD,
Figure 1 (a)-(d). Its widgets' session-state keys (``dist_`` + family, mean, ..., d_mode), their first values
(``DEFAULTS``) and link parameters (``PARAMS``) are this module's; the other tabs read its p_data and model
through ``explorer_data`` and ``explorer_model``."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from gan_core.toy import toy1d
from gan_core.toy.toy1d import AffineGenerator, Gaussian, Mixture, Toy1DError, Uniform
from views import _plots1d as plots
from views._i18n import error_text, option_labels, t
from views._notes import teaching_notes
from views._settings import PERSIST
from views._urlstate import Param

# Widget options are stable ids (also what the URL holds); the catalogs give their labels.
FAMILIES = ["gaussian", "mixture", "uniform"]
D_MODES = ["optimal", "partial", "frozen"]
G_PRIORS = ["normal", "uniform"]
SLIDER = dict(mean=(-3.0, 3.0, 0.1), std=(0.1, 2.0, 0.05), weight=(0.05, 0.95, 0.05), training=(0.0, 1.0, 0.05))
# Session-state keys this tab owns besides its widgets': D kept as it was (the frozen mode), the Figure-1
# panel on show, and a notice for the next run.
FROZEN, PANEL, NOTICE = "dist_frozen", "dist_panel", "dist_notice"

DEFAULTS = {
    "dist_family": "gaussian", "dist_mean": 1.0, "dist_std": 0.5,
    "dist_mix_m1": -1.0, "dist_mix_s1": 0.4, "dist_mix_m2": 1.5, "dist_mix_s2": 0.6, "dist_mix_w1": 0.4,
    "dist_uni": (-1.0, 1.5),
    "dist_g_prior": "normal", "dist_g_mean": -0.6, "dist_g_std": 0.8,
    "dist_d_mode": "optimal", "dist_d_training": 0.5,
}
PARAMS = [
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
]


def _fmt(v: float) -> str:
    return "∞" if v == math.inf else f"{v:.4f}"


def _slider(label: str, key: str, kind: str, container=st, **kwargs) -> float:
    """A slider over one of the ``SLIDER`` ranges (its value lives in session state under ``key``)."""
    lo, hi, step = SLIDER[kind]
    return container.slider(label, lo, hi, step=step, key=key, **kwargs, persist_state=PERSIST)


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


def explorer_data() -> toy1d.Density:
    """p_data of section 1 from its widgets' values (raises Toy1DError for an empty interval)."""
    s = st.session_state
    if s.dist_family == "gaussian":
        return Gaussian(s.dist_mean, s.dist_std)
    if s.dist_family == "mixture":
        return Mixture((Gaussian(s.dist_mix_m1, s.dist_mix_s1), Gaussian(s.dist_mix_m2, s.dist_mix_s2)),
                       (s.dist_mix_w1, 1 - s.dist_mix_w1))
    return Uniform(*s.dist_uni)


def explorer_model() -> tuple[toy1d.Density, AffineGenerator, object] | None:
    """(p_data, G, D as a function of x) of section 1, from its widgets' values (open tab or not); None
    after showing why, when a setting cannot work."""
    s = st.session_state
    try:
        p_data = explorer_data()
        generator = AffineGenerator(s.dist_g_mean, s.dist_g_std, s.dist_g_prior)
    except Toy1DError as exc:
        st.error(error_text(exc))
        return None
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


def show() -> None:
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
        model = explorer_model()
        if model is None:
            return
        p_data, generator, discriminator = model
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
