"""How a GAN matches distributions: the theory of Goodfellow et al. 2014 on the real line.

1. Analytic explorer: p_data, p_g, the optimal D*, V(D*, G) = -log 4 + 2 JSD, Figure 1 (a)-(d).
2. A real 1-D GAN trained step by step (Algorithm 1), live.
3. Why the non-saturating generator loss.
4. Expectations and the law of large numbers (Monte Carlo estimate of V).

A thin view over ``gan_core.toy1d`` (maths) and ``gan_core.toy1d_train`` (the 1-D GAN).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import streamlit as st

from gan_core import toy1d
from gan_core.toy1d import AffineGenerator, Gaussian, Mixture, Toy1DError, Uniform
from gan_core.toy1d_train import PLAY_TICK_BUDGET, Toy1DConfig, Toy1DTrainer
from gan_core.trainer import TrainingDiverged
from views import _plots1d as plots

TICK_SECONDS = 0.07  # Play redraws the figure this often (the goal is >= 10 frames/s)
HISTORY_SECONDS = 1.0  # ... and the charts over steps this often
FAMILIES = ["Gaussian", "Mixture of two Gaussians", "Uniform interval"]
D_MODES = ["optimal D*", "partially trained D", "D frozen at an earlier p_g"]
LOSS_CHOICES = ["non-saturating", "minimax"]
LR_CHOICES = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
TRAIN_DATA = {
    "Gaussian N(3, 0.5²)": Gaussian(3.0, 0.5),
    "Two Gaussians at 1 and 4": Mixture((Gaussian(1.0, 0.4), Gaussian(4.0, 0.4)), (0.5, 0.5)),
    "Uniform on [2, 4]": Uniform(2.0, 4.0),
}
SAME_AS_EXPLORER = "Same as the explorer (section 1)"

DEFAULTS = {  # explorer widget values
    "dist_family": "Gaussian", "dist_mean": 1.0, "dist_std": 0.5,
    "dist_mix_m1": -1.0, "dist_mix_s1": 0.4, "dist_mix_m2": 1.5, "dist_mix_s2": 0.6, "dist_mix_w1": 0.4,
    "dist_uni": (-1.0, 1.5),
    "dist_g_prior": "normal", "dist_g_mean": -0.6, "dist_g_std": 0.8,
    "dist_d_mode": D_MODES[0], "dist_d_training": 0.5,
}
TRAIN_DEFAULTS = {  # training and Monte Carlo widget values
    "dist_t_data": "Gaussian N(3, 0.5²)", "dist_t_loss": "non-saturating", "dist_t_k": 2,
    "dist_t_lr_d": 0.2, "dist_t_lr_g": 0.05, "dist_t_batch": 128, "dist_t_opt": "sgd",
    "dist_t_gh": 16, "dist_t_dh": 32, "dist_t_prior": "uniform", "dist_t_seed": 0,
    "dist_mc_m": 10_000, "dist_mc_seed": 0,
}
TABS = ["1 · Optimal D and JSD", "2 · Train a 1-D GAN", "3 · Why non-saturating", "4 · Expectation and sampling"]


def _fmt(v: float) -> str:
    return "∞" if v == math.inf else f"{v:.4f}"


# --- 1. analytic explorer ----------------------------------------------------------------------------

def _snap(panel: toy1d.Figure1Panel) -> None:
    """Button callback: set the explorer's widgets to one Figure-1 panel."""
    s = st.session_state
    s.dist_family, s.dist_mean, s.dist_std = "Gaussian", panel.data.mean, panel.data.std
    s.dist_g_prior, s.dist_g_mean, s.dist_g_std = "normal", panel.generator.mean, panel.generator.std
    if panel.d_trained_against is not None:
        s.dist_d_mode, s.dist_d_reference = D_MODES[2], panel.d_trained_against
    elif panel.d_training < 1:
        s.dist_d_mode, s.dist_d_training = D_MODES[1], panel.d_training
    else:
        s.dist_d_mode = D_MODES[0]
    s.dist_panel_caption = f"Figure 1 {panel.label}: {panel.caption}"


def _freeze_d() -> None:
    """Button callback: keep D as it is now (optimal for the current p_g) while p_g moves."""
    s = st.session_state
    s.dist_d_reference = AffineGenerator(s.dist_g_mean, s.dist_g_std, s.dist_g_prior)
    s.dist_d_mode = D_MODES[2]
    s.dist_panel_caption = "D is frozen: move p_g's sliders and watch D stay where it was."


def _data_controls() -> toy1d.Density:
    family = st.selectbox("p_data (the data distribution)", FAMILIES, key="dist_family")
    if family == "Gaussian":
        return Gaussian(st.slider("mean of p_data", -3.0, 3.0, step=0.1, key="dist_mean"),
                        st.slider("std of p_data", 0.1, 2.0, step=0.05, key="dist_std"))
    if family == "Mixture of two Gaussians":
        c1, c2 = st.columns(2)
        m1 = c1.slider("mean 1", -3.0, 3.0, step=0.1, key="dist_mix_m1")
        s1 = c1.slider("std 1", 0.1, 2.0, step=0.05, key="dist_mix_s1")
        m2 = c2.slider("mean 2", -3.0, 3.0, step=0.1, key="dist_mix_m2")
        s2 = c2.slider("std 2", 0.1, 2.0, step=0.05, key="dist_mix_s2")
        w1 = st.slider("weight of component 1", 0.05, 0.95, step=0.05, key="dist_mix_w1")
        return Mixture((Gaussian(m1, s1), Gaussian(m2, s2)), (w1, 1 - w1))
    low, high = st.slider("interval of p_data", -3.0, 3.0, step=0.1, key="dist_uni")
    return Uniform(low, high)


def keep_widget_values() -> None:
    """Set every widget's default once, and keep its value while its tab is closed.

    Only the open tab runs (lazy tabs: a closed tab costs nothing, and Play's browser updates
    stay cheap), and Streamlit forgets the value of a widget that did not run. Writing each value
    back at the start of the run keeps it. The widgets take their defaults from here, not from a
    ``value=`` argument, so the two never disagree.
    """
    s = st.session_state
    for key, value in {**DEFAULTS, **TRAIN_DEFAULTS}.items():
        s[key] = s[key] if key in s else value


def explorer_model() -> tuple[toy1d.Density, AffineGenerator, object]:
    """(p_data, G, D as a function of x) of section 1, from its widgets' values (open tab or not)."""
    s = st.session_state
    if s.dist_family == "Gaussian":
        p_data = Gaussian(s.dist_mean, s.dist_std)
    elif s.dist_family == "Mixture of two Gaussians":
        p_data = Mixture((Gaussian(s.dist_mix_m1, s.dist_mix_s1), Gaussian(s.dist_mix_m2, s.dist_mix_s2)),
                         (s.dist_mix_w1, 1 - s.dist_mix_w1))
    else:
        p_data = Uniform(*s.dist_uni)
    generator = AffineGenerator(s.dist_g_mean, s.dist_g_std, s.dist_g_prior)
    training, reference = 1.0, None
    if s.dist_d_mode == D_MODES[1]:
        training = s.dist_d_training
    elif s.dist_d_mode == D_MODES[2]:
        reference = s.get("dist_d_reference") or generator

    def discriminator(x):
        return toy1d.shown_discriminator(p_data, generator, x, training, reference)

    return p_data, generator, discriminator


def explorer_section() -> None:
    """Section 1: the analytic explorer."""
    st.markdown("Pick a data distribution and a generator. For a **fixed G** the best discriminator "
                "is known in closed form (Proposition 1), and plugging it in turns the GAN game into "
                "a divergence between the two distributions (Theorem 1).")
    st.latex(r"D^*(x)=\frac{p_{data}(x)}{p_{data}(x)+p_g(x)},\qquad "
             r"V(D^*,G)=-\log 4+2\,\mathrm{JSD}(p_{data}\,\|\,p_g)")
    snap_cols = st.columns(5)
    snap_cols[0].markdown("**Snap to Figure 1:**")
    for col, panel in zip(snap_cols[1:], toy1d.figure1_panels()):
        col.button(f"Figure 1 {panel.label}", key=f"dist_snap_{panel.label[1]}", on_click=_snap, args=(panel,),
                   width="stretch")

    controls, view = st.columns([1, 2.4])
    with controls:
        _data_controls()
        st.markdown("**Generator** x = G(z) = μ + σ·z (affine), so p_g is exact:")
        st.radio("noise z", ["normal", "uniform"], key="dist_g_prior", horizontal=True,
                 format_func=lambda p: "z ~ N(0, 1)" if p == "normal" else "z ~ U(−1, 1)")
        st.slider("mean of p_g (μ)", -3.0, 3.0, step=0.1, key="dist_g_mean")
        st.slider("std of p_g (σ)", 0.1, 2.0, step=0.05, key="dist_g_std")
        mode = st.radio("discriminator drawn", D_MODES, key="dist_d_mode")
        if mode == D_MODES[1]:
            st.slider("how far D is trained (0: D = 1/2, 1: D = D*)", 0.0, 1.0, step=0.05, key="dist_d_training")
        elif mode == D_MODES[2]:
            reference = st.session_state.get("dist_d_reference") or explorer_model()[1]
            st.caption(f"D is optimal for the earlier p_g with mean {reference.mean:.2f}, std {reference.std:.2f}.")
        st.button("Freeze D here", key="dist_freeze", on_click=_freeze_d,
                  help="Keep the current D* while you move p_g: this is step (b) → (c) of Figure 1.")

    p_data, generator, discriminator = explorer_model()
    prior = generator.prior
    p_g = generator.density()

    with view:
        lo, hi = toy1d.plot_range(p_data, p_g)
        x = np.linspace(lo, hi, 500)
        z = toy1d.prior_quantiles(prior, 21)
        title = st.session_state.get("dist_panel_caption", "")
        fig = plots.distribution_figure(x, p_data.pdf(x), p_g.pdf(x), discriminator(x), z, generator(z),
                                        d_name="D(x)" if mode != D_MODES[0] else "D*(x)")
        st.plotly_chart(fig, key="dist_explorer_fig")
        if title:
            st.caption(title)
        st.caption("Black dotted: p_data. Green: p_g. Blue dashed: D(x) (right axis, 0 to 1). "
                   "Below the x-line, the z-line (stretched to the panel's width): each thin line carries "
                   "one z to x = G(z).")
        nums = toy1d.theory_numbers(p_data, p_g)
        cols = st.columns(4)
        cols[0].metric("V(D*, G)", _fmt(nums.value_optimal))
        cols[1].metric("JSD(p_data ‖ p_g)", _fmt(nums.jsd))
        cols[2].metric("KL(p_data ‖ p_g)", _fmt(nums.kl_data_g))
        cols[3].metric("KL(p_g ‖ p_data)", _fmt(nums.kl_g_data))
        # Two lines, so that both sides of the identity fit beside the figure on a projector.
        st.latex(rf"\begin{{aligned}}V(D^*,G)&={nums.value_optimal:.6f}\\ -\log 4+2\,\mathrm{{JSD}}"
                 rf"&={-toy1d.LOG4:.6f}+2\times{nums.jsd:.6f}={nums.identity_rhs:.6f}\end{{aligned}}")
        if mode != D_MODES[0]:
            v_d = toy1d.value_function(p_data, p_g, discriminator)
            st.markdown(f"With the D drawn (not optimal), **V(D, G) = {_fmt(v_d)}** ≤ V(D*, G): "
                        "D* is the best D can do.")
        if nums.jsd < 1e-9:
            st.success("p_g = p_data: D* = 1/2 everywhere and V(D*, G) = −log 4 ≈ −1.386, the global minimum.")
        st.caption("All numbers are integrals computed numerically (Gauss–Legendre quadrature). "
                   "KL is ∞ where one density has mass where the other has none; JSD never is.")

    with st.expander("Figure 1 (a)–(d) side by side"):
        panels = []
        for panel in toy1d.figure1_panels():
            px_lo, px_hi = toy1d.plot_range(panel.data, panel.generator.density())
            px = np.linspace(px_lo, px_hi, 300)
            pz = toy1d.prior_quantiles("normal", 21)
            panels.append(dict(x=px, p_data=panel.data.pdf(px), p_g=panel.generator.density().pdf(px),
                               d=panel.discriminator(px), z=pz, g_of_z=panel.generator(pz), title=panel.label))
        st.plotly_chart(plots.panel_strip(panels), key="dist_figure1_strip")
        for panel in toy1d.figure1_panels():
            st.caption(f"**{panel.label}** {panel.caption}")


# --- 2. a real 1-D GAN -----------------------------------------------------------------------------

def _training_config() -> Toy1DConfig:
    c1, c2, c3, c4 = st.columns(4)
    loss = c1.selectbox("loss", LOSS_CHOICES, key="dist_t_loss",
                        help="non-saturating: G minimises −log D(G(z)); minimax: G minimises log(1 − D(G(z))).")
    k = c1.number_input("k (D steps per G step)", 1, 20, key="dist_t_k")
    lr_d = c2.select_slider("learning rate of D", LR_CHOICES, key="dist_t_lr_d")
    lr_g = c2.select_slider("learning rate of G", LR_CHOICES, key="dist_t_lr_g")
    batch = c3.select_slider("batch size m", [16, 32, 64, 128, 256, 512], key="dist_t_batch")
    optimizer = c3.selectbox("optimizer", ["sgd", "adam"], key="dist_t_opt",
                             help="Plain SGD shows the minimax loss's slow start; Adam rescales gradients and hides it.")
    g_hidden = c4.select_slider("G hidden width", [4, 8, 16, 32, 64], key="dist_t_gh")
    d_hidden = c4.select_slider("D hidden width", [4, 8, 16, 32, 64], key="dist_t_dh")
    prior = c1.radio("noise z", ["uniform", "normal"], key="dist_t_prior", horizontal=True,
                     format_func=lambda p: "U(−1, 1)" if p == "uniform" else "N(0, 1)")
    seed = c2.number_input("seed", 0, 10_000, key="dist_t_seed")
    return Toy1DConfig(g_hidden=g_hidden, d_hidden=d_hidden, prior=prior, k=int(k), batch_size=batch,
                       lr_d=lr_d, lr_g=lr_g, optimizer=optimizer, loss=loss, seed=int(seed))


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
        st.info("Network widths, noise, optimizer and seed take effect when you press **Reset**.")
    return trainer


def _view_dict(v) -> dict:
    return dict(x=v.x, p_data=v.p_data, p_g=v.p_g, d=v.d, z=v.z, g_of_z=v.g_of_z,
                title=f"{v.label}<br>JSD {v.jsd:.3f}")


def _set_playing(playing: bool) -> None:
    # Set, not toggle, and Play and Pause are two widgets (two keys): Streamlit 1.67 can dispatch a
    # click's callback a second time when it lands while the Play timer reruns (seen in the e2e
    # test); a toggle would undo itself, and one shared key would replay Pause as Play.
    st.session_state.dist_playing = playing
    if not playing:
        st.session_state.dist_stop_timer = True


def _draw_live_figure(trainer: Toy1DTrainer, playing: bool) -> None:
    """The animated part: the Figure-1 picture of the current G and D, and its caption.

    While playing it is drawn as SVG: a Plotly chart with new data is rebuilt from scratch in the
    browser (~200 ms a frame on a 2-core laptop), an SVG swap costs ~1 ms. Paused, it is the
    interactive Plotly figure (hover, zoom) with the same look.
    """
    v = trainer.view()
    args = (v.x, v.p_data, v.p_g, v.d, v.z, v.g_of_z, v.d_star)
    if playing:
        st.html(plots.svg_as_img(plots.distribution_svg(*args, d_name="learned D(x)"),
                                 alt="p_data, p_g, the learned D(x) and D*(x), with the z-line mapped onto x"))
    else:
        st.plotly_chart(plots.distribution_figure(*args, d_name="learned D(x)"), key="dist_train_fig")
    st.caption(f"After **{trainer.d_steps} D steps and {trainer.g_steps} G steps**: "
               f"JSD(p_data ‖ p_g) ≈ **{v.jsd:.4f}** (p_g estimated from G's samples). "
               "Blue dashed: the learned D; light blue dotted: D* for the current p_g. "
               "When D is trained enough the two agree; at equilibrium both are ≈ 1/2.")


def _draw_history(trainer: Toy1DTrainer, playing: bool) -> None:
    """JSD and both losses over the steps so far (SVG while playing, as the live figure)."""
    h = trainer.history
    series = {"JSD(p_data ‖ p_g)": h.series("jsd", 600), "loss_D": h.series("loss_d", 600),
              "loss_G": h.series("loss_g", 600)}
    if playing:
        st.html(plots.svg_as_img(plots.history_svg(series), alt="JSD, loss_D and loss_G over updates"))
    else:
        st.plotly_chart(plots.history_figure(series), key="dist_history_fig")
    st.caption("loss_D = −[log D(x) + log(1 − D(G(z)))] averaged over a batch; at equilibrium it "
               "is log 4 ≈ 1.386. JSD is computed numerically against the estimated p_g.")


def training_section(explorer_data: toy1d.Density) -> None:
    st.markdown("Now G and D are small neural networks (two hidden layers each) trained by **Algorithm 1**: "
                "k steps of D, then one step of G, on minibatches of m samples. p_g is no longer known, so "
                "it is estimated from G's samples (a kernel density estimate), and D*(x) is computed for it.")

    # Two nested fragments: the controls rerun only this section (so Play/Pause never reruns the
    # whole page), and while playing only the inner ``tick`` reruns on a timer.
    @st.fragment
    def controls() -> None:
        playing = bool(st.session_state.get("dist_playing", False))
        with st.expander("Settings (loss, k, learning rates, batch size, network sizes, seed)"):
            choice = st.selectbox("p_data for training", [*TRAIN_DATA, SAME_AS_EXPLORER], key="dist_t_data")
            config = _training_config()
        data = explorer_data if choice == SAME_AS_EXPLORER else TRAIN_DATA[choice]
        if "dist_error" in st.session_state:
            st.error(st.session_state.pop("dist_error"))
        b = st.columns(8)
        b[0].button("Pause" if playing else "Play", key="dist_pause" if playing else "dist_play", type="primary",
                    width="stretch", icon=":material/pause:" if playing else ":material/play_arrow:",
                    on_click=_set_playing, args=(not playing,))
        train_d = b[1].button("Train D (k steps)", key="dist_train_d", width="stretch")
        train_g = b[2].button("Train G (1 step)", key="dist_train_g", width="stretch")
        step = b[3].button("Step (both)", key="dist_step", width="stretch")
        reset = b[4].button("Reset", key="dist_reset", width="stretch")
        record = b[5].button("Record panel", key="dist_record", width="stretch")
        strip = b[6].button("Record (a)→(d)", key="dist_record_strip", width="stretch",
                            help="From now: (a) as is, (b) after 200 D steps, (c) after 25 G steps, "
                                 "(d) after 600 more iterations.")
        clear = b[7].button("Clear panels", key="dist_clear", width="stretch")
        try:
            trainer = _trainer(config, data, reset)
            if train_d:
                trainer.train_d()
            if train_g:
                trainer.g_step()
            if step:
                trainer.step()
            if record:
                trainer.record_snapshot()
            if strip:
                with st.spinner("Training through (a) → (d)…"):
                    trainer.record_figure1_strip()
            if clear:
                trainer.snapshots = []
        except (TrainingDiverged, Toy1DError) as exc:
            st.session_state.dist_playing = False
            st.error(str(exc))
            return

        @st.fragment(run_every=TICK_SECONDS if playing else None)
        def tick() -> None:
            if not st.session_state.get("dist_playing", False) and st.session_state.pop("dist_stop_timer", False):
                # A fragment run does not cancel the browser's timer of this nested fragment, so it
                # would keep redrawing for many seconds after Pause; a full run clears it at once.
                st.rerun(scope="app")
            playing_now = st.session_state.get("dist_playing", False)
            if playing_now:
                try:
                    trainer.run_for(PLAY_TICK_BUDGET)
                except TrainingDiverged as exc:
                    st.session_state.dist_playing = False
                    st.session_state.dist_error = str(exc)
                    st.rerun()  # the whole page, so the timer stops
            _draw_live_figure(trainer, playing_now)

        # The charts over steps change slowly: they redraw once a second, not every frame.
        @st.fragment(run_every=HISTORY_SECONDS if playing else None)
        def history() -> None:
            _draw_history(trainer, st.session_state.get("dist_playing", False))

        tick()
        history()
        if trainer.snapshots:
            st.plotly_chart(plots.panel_strip([_view_dict(s) for s in trainer.snapshots[-4:]]),
                            key="dist_snapshots_fig")
            st.caption("Recorded panels from this run (the newest four), like the (a)→(d) strip of Figure 1.")

    controls()


# --- 3. why the non-saturating loss ---------------------------------------------------------------

def _early_progress(data: toy1d.Density, config: Toy1DConfig, steps: int = 60) -> dict:
    out = {}
    for loss in LOSS_CHOICES:
        trainer = Toy1DTrainer(data, replace(config, loss=loss))
        for _ in range(steps):
            trainer.step()
        out[loss] = trainer.history.series("jsd")
    return out


def saturation_section() -> None:
    col_fig, col_text = st.columns([2.4, 1])
    with col_fig:
        st.plotly_chart(plots.generator_loss_figure(toy1d.generator_loss_curves()), key="dist_sat_fig")
    with col_text:
        st.markdown("Early in training G is poor, so D rejects its samples confidently: **D(G(z)) ≈ 0**. "
                    "There **log(1 − D)** is flat: its gradient through D's logit s is −D ≈ 0, so "
                    "G barely learns. **−log D** has the same fixed point but a gradient −(1 − D) ≈ −1 "
                    "exactly when G needs it.")
        st.latex(r"\frac{\partial}{\partial s}\log(1-\sigma(s))=-D,\qquad "
                 r"\frac{\partial}{\partial s}\bigl(-\log\sigma(s)\bigr)=-(1-D)")
    st.markdown("**Same seed, both losses.** Runs the 1-D GAN of section 2 (its data and settings) for "
                "60 iterations with each loss:")
    if st.button("Compare early progress", key="dist_compare"):
        cfg = st.session_state.get("dist_trainer")
        config = cfg.config if cfg is not None else Toy1DConfig()
        data = cfg.data if cfg is not None else TRAIN_DATA["Gaussian N(3, 0.5²)"]
        try:
            st.session_state.dist_compare_result = _early_progress(data, config)
        except (TrainingDiverged, Toy1DError) as exc:
            st.error(str(exc))
    result = st.session_state.get("dist_compare_result")
    if result:
        st.plotly_chart(plots.loss_comparison_figure(result), key="dist_compare_fig")
        st.caption("JSD(p_data ‖ p_g) over the first 60 iterations. With the minimax loss G starts slowly "
                   "(plain SGD; Adam rescales gradients and hides much of the difference).")


# --- 4. expectation and the law of large numbers ----------------------------------------------------

def expectation_section(p_data: toy1d.Density, generator: AffineGenerator, discriminator) -> None:
    p_g = generator.density()
    col_fig, col_text = st.columns([2.4, 1])
    with col_text:
        st.markdown("V(D, G) is an **expectation**, an average weighted by probability:")
        st.latex(r"\mathbb{E}[X]=\sum_x x\,P(x)\quad\text{or}\quad\int x\,p(x)\,dx")
        st.latex(r"\begin{aligned}V(D,G)&=\mathbb{E}_{x\sim p_{data}}[\log D(x)]\\"
                 r"&+\mathbb{E}_{z\sim p_z}[\log(1-D(G(z)))]\end{aligned}")
        st.markdown("Training never sees the integral: it averages over **m samples** (the minibatch). "
                    "By the law of large numbers the average approaches the exact value as m grows; "
                    "the error shrinks like 1/√m.")
        max_m = st.select_slider("largest m", [100, 1_000, 10_000, 100_000], key="dist_mc_m")
        seed = st.number_input("sampling seed", 0, 10_000, key="dist_mc_seed")
    with col_fig:
        exact = toy1d.value_function(p_data, p_g, discriminator)
        if not math.isfinite(exact):
            st.warning("V(D, G) is −∞ here: the D drawn in section 1 is 0 or 1 where samples fall. "
                       "Pick another D or p_g.")
            return
        sizes = toy1d.log_spaced_sizes(int(max_m))
        est = toy1d.monte_carlo_value(p_data, p_g, discriminator, sizes, np.random.default_rng(int(seed)))
        st.plotly_chart(plots.monte_carlo_figure(sizes, est, exact), key="dist_mc_fig")
        st.caption(f"D, p_data and p_g from section 1. Exact V(D, G) = {exact:.4f} (numerical integral); "
                   f"estimate with m = {int(sizes[-1]):,}: {est[-1]:.4f}.")


# --- page --------------------------------------------------------------------------------------------

st.title("How a GAN matches distributions")
st.caption("Goodfellow et al. 2014, section 4, on the real line. Colours as in the paper's Figure 1: "
           "p_data black dotted, p_g green, D blue dashed.")
keep_widget_values()
# Lazy tabs: only the open tab runs. A closed tab then costs nothing on a rerun (Pause reruns the
# page), and the browser does not re-check the hidden tabs' contents on every Play frame.
tabs = st.tabs(TABS, key="dist_tab", on_change="rerun")
with tabs[0]:
    if tabs[0].open:
        explorer_section()
with tabs[1]:
    if tabs[1].open:
        training_section(explorer_model()[0])
with tabs[2]:
    if tabs[2].open:
        saturation_section()
with tabs[3]:
    if tabs[3].open:
        expectation_section(*explorer_model())
