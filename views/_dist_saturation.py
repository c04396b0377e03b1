"""The 1-D page's third tab: why the non-saturating generator loss. The two losses' gradients, and the
first iterations of Algorithm 1 with each from the same start."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from gan_core.algorithm1 import TrainingDiverged
from gan_core.toy import toy1d
from gan_core.toy.toy1d import Toy1DError
from gan_core.toy.toy1d_train import PRESETS, Toy1DConfig, Toy1DTrainer
from views import _plots1d as plots
from views._dist_train import LOSS_CHOICES, TRAIN_DATA, TRAINER
from views._i18n import error_text, t
from views._notes import teaching_notes

COMPARE_ITERATIONS = 60  # the comparison runs this many iterations of Algorithm 1 with each loss
RESULT = "dist_compare_result"  # the last comparison, kept for the session


def _early_progress(data: toy1d.Density, config: Toy1DConfig, iterations: int) -> dict:
    """JSD over the first ``iterations`` of Algorithm 1 with each loss (same seed and settings)."""
    curves = {}
    for loss in LOSS_CHOICES:
        trainer = Toy1DTrainer(data, replace(config, loss=loss))
        for _ in range(iterations):
            trainer.step()
        curves[loss] = trainer.history.series("jsd")
    return dict(curves=curves, iterations=iterations, updates=iterations * (config.k + 1), config=config)


def show() -> None:
    """Section 3: why the non-saturating generator loss (its gradients, and both losses from one start)."""
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
        trainer = st.session_state.get(TRAINER)
        base = trainer.config if trainer is not None else Toy1DConfig()
        config = replace(PRESETS["sgd-stall"], k=base.k, batch_size=base.batch_size, seed=base.seed)
        data = trainer.data if trainer is not None else TRAIN_DATA["gaussian"]
        try:
            st.session_state[RESULT] = _early_progress(data, config, COMPARE_ITERATIONS)
        except Toy1DError as exc:
            st.error(error_text(exc))
        except TrainingDiverged:
            st.error(t("dist.train.diverged"))
    result = st.session_state.get(RESULT)
    if result:
        st.plotly_chart(plots.loss_comparison_figure(result["curves"]), key="dist_compare_fig")
        c = result["config"]
        st.caption(t("dist.saturation.caption", n=result["iterations"], updates=result["updates"], k=c.k,
                     lr_d=c.lr_d, lr_g=c.lr_g, seed=c.seed))
    teaching_notes("dist.tab3")
