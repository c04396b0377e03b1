"""The 1-D page's fourth tab: expectations and the law of large numbers, V(D, G) of the explorer's model
estimated by Monte Carlo with more and more samples."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from gan_core.toy import toy1d
from views import _plots1d as plots
from views._dist_explorer import explorer_model
from views._i18n import t
from views._notes import teaching_notes
from views._settings import PERSIST
from views._urlstate import Param

MC_SIZES = [100, 1_000, 10_000, 100_000]

DEFAULTS = {"dist_mc_m": 10_000, "dist_mc_seed": 0}
PARAMS = [
    Param("mc_m", "dist_mc_m", "choice", choices=MC_SIZES),
    Param("mc_seed", "dist_mc_seed", "int", 0, 10_000),
]


def show() -> None:
    """Section 4: expectations, and the Monte Carlo estimate of V(D, G) as the sample grows."""
    col_fig, col_text = st.columns([2.2, 1])
    with col_text:
        st.markdown(t("dist.expectation.lln"))
        max_m = st.select_slider(t("dist.expectation.max_m"), MC_SIZES, key="dist_mc_m", persist_state=PERSIST)
        seed = st.number_input(t("dist.expectation.seed"), 0, 10_000, key="dist_mc_seed", persist_state=PERSIST)
    with col_fig:
        model = explorer_model()
        if model is None:
            return
        p_data, generator, discriminator = model
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
