"""The latent explorer's "Move z" section: a seed's z, the top directions (SeFa, GANSpace) as sliders,
strips and a plane of two directions, and one slider per chosen dimension of z."""

from __future__ import annotations

import random

import numpy as np
import streamlit as st
import torch

from gan_core import latent
from gan_core.settings import SEED
from views import _latent_pictures as pictures
from views._i18n import t
from views._latent_figures import z_chart_svg
from views._latent_models import LatentModel
from views._notes import teaching_notes
from views._settings import PERSIST
from views._svg import svg_as_img
from views._urlstate import Param

DIRECTION_METHODS = ["sefa", "ganspace"]  # latent.sefa_directions, latent.ganspace_directions (see _directions)
MAX_DIRECTIONS = 10
MAX_DIMS = 12  # z sliders shown at once
MAX_LATENT = 1024  # the largest latent size a link may name a dimension of (clamped to the model's)
STRIP_STEPS = 7
# Session-state keys this section owns besides its widgets' (``lat_alpha_{i}``: direction i's slider,
# ``lat_zdim_{i}``: dimension i's slider): what the sliders were set for, and the z on show (the
# memorisation check can look for it).
Z_ORIGIN, ALPHA_ORIGIN, CURRENT_Z = "lat_z_origin", "lat_alpha_origin", "lat_current_z"

DEFAULTS = {"lat_seed": 0, "lat_dims": [0, 1, 2, 3], "lat_dir_method": "sefa", "lat_k": 5, "lat_plane_d1": 0,
            "lat_plane_d2": 1, "lat_plane_n": 7, "lat_plane_span": 3.0}
PARAMS = [
    Param("seed", "lat_seed", "int", 0, SEED.high),
    Param("dims", "lat_dims", "int_list", 0, MAX_LATENT - 1, max_items=MAX_DIMS),
    Param("directions", "lat_dir_method", "choice", choices=DIRECTION_METHODS),
    Param("k", "lat_k", "int", 1, MAX_DIRECTIONS),
    *(Param(f"d{i + 1}", f"lat_alpha_{i}", "float", -3.0, 3.0) for i in range(MAX_DIRECTIONS)),
    Param("across", "lat_plane_d1", "int", 0, MAX_DIRECTIONS - 1),
    Param("down", "lat_plane_d2", "int", 0, MAX_DIRECTIONS - 1),
]


def unshown_directions() -> set[str]:
    """The link names of the directions not on show (beyond k, or at 0): a link leaves them out."""
    return {f"d{i + 1}" for i in range(MAX_DIRECTIONS)
            if i >= st.session_state.get("lat_k", 0) or st.session_state.get(f"lat_alpha_{i}", 0.0) == 0.0}


def _fit_choice(key: str, options: list, fallback) -> None:
    """Make a stored choice valid for this model's options (a link or another generator may not fit)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = fallback


def _fit_number(key: str, lo, hi) -> None:
    st.session_state[key] = min(max(st.session_state.get(key, lo), lo), hi)


def _z_range(prior: str) -> tuple[float, float]:
    return (-1.0, 1.0) if prior == "uniform" else (-3.0, 3.0)


@st.cache_resource(max_entries=16, show_spinner=False)
def _directions(model_key: str, method: str, _generator: torch.nn.Module, prior: str):
    """Top directions of one model, computed once per model and method (SeFa is closed form;
    GANSpace runs the first layers on a few thousand z)."""
    k = min(MAX_DIRECTIONS, _generator.latent_dim)
    if method == "ganspace":
        return latent.ganspace_directions(_generator, k, n_samples=2000, seed=0, prior=prior)
    return latent.sefa_directions(_generator, k)


def _randomise_seed() -> None:
    st.session_state["lat_seed"] = random.randint(0, SEED.high)


def _reset_directions() -> None:
    for i in range(MAX_DIRECTIONS):
        st.session_state[f"lat_alpha_{i}"] = 0.0


def _z_sliders(m: LatentModel, z: torch.Tensor, seed: int, dims: list[int]) -> torch.Tensor:
    """One slider per chosen dimension, starting at z's value; moved sliders override z."""
    lo, hi = _z_range(m.prior)
    origin = (seed, m.prior, m.model_config.latent_dim)  # what z depends on (not the weights)
    if st.session_state.get(Z_ORIGIN) != origin:  # a new z: the sliders start from its values
        for key in [k for k in st.session_state if k.startswith("lat_zdim_")]:
            del st.session_state[key]
        st.session_state[Z_ORIGIN] = origin
    z = z.clone()
    cols = st.columns(2)
    for j, i in enumerate(dims):
        start = float(np.clip(round(float(z[i]), 2), lo, hi))
        key = f"lat_zdim_{i}"
        st.session_state.setdefault(key, start)
        _fit_number(key, lo, hi)
        value = cols[j % 2].slider(f"z[{i}]", lo, hi, step=0.05, key=key, persist_state=PERSIST)
        if value != start:  # untouched sliders keep z's exact value
            z[i] = value
    return z


def show(m: LatentModel) -> None:
    """The "Move z" section for generator ``m``."""
    d = m.model_config.latent_dim
    lo, hi = _z_range(m.prior)
    # Controls beside the picture, the ones a lecture uses most first, so both fit one 1280x720 screen.
    controls, picture = st.columns([3, 2], gap="large")
    with controls:
        # a row that puts the button under the seed box when both do not fit (150% zoom, projector)
        row = st.container(horizontal=True, wrap=True, vertical_alignment="bottom", key="lat_seed_row")
        seed = int(row.number_input(t("latent.move.seed"), 0, SEED.high, key="lat_seed", persist_state=PERSIST,
                                    help=t("latent.move.seed_help"), width=220))
        row.button(t("latent.move.random"), icon=":material/casino:", on_click=_randomise_seed, width="content",
                   key="lat_btn_random")
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        method = c1.radio(t("latent.move.method"), DIRECTION_METHODS, key="lat_dir_method", persist_state=PERSIST,
                          format_func=lambda v: t(f"latent.method.{v}"))
        if st.session_state.get(ALPHA_ORIGIN) != (m.key, method):  # other directions: start at 0
            if ALPHA_ORIGIN in st.session_state:
                _reset_directions()
            st.session_state[ALPHA_ORIGIN] = (m.key, method)
        directions, strengths = _directions(m.key, method, m.generator, m.prior)
        _fit_number("lat_k", 1, len(directions))
        # (a one-dimensional z has one direction: a slider from 1 to 1 cannot be drawn)
        k = (c2.slider(t("latent.move.k"), 1, len(directions), key="lat_k", persist_state=PERSIST)
             if len(directions) > 1 else 1)
        cols = st.columns(2)
        offset = torch.zeros(d)
        for i in range(k):
            st.session_state.setdefault(f"lat_alpha_{i}", 0.0)
            alpha = cols[i % 2].slider(t("latent.move.direction", n=i + 1), -3.0, 3.0, step=0.1,
                                       key=f"lat_alpha_{i}", persist_state=PERSIST)
            offset += alpha * directions[i]
        st.button(t("latent.move.reset"), on_click=_reset_directions, key="lat_btn_reset_directions")

        # this generator's dimensions, each once (one slider per dimension: a repeat would make two widgets)
        dims_here = dict.fromkeys(i for i in st.session_state["lat_dims"] if 0 <= i < d)
        st.session_state["lat_dims"] = list(dims_here)[:MAX_DIMS]
        dims = st.multiselect(t("latent.move.dims"), list(range(d)), key="lat_dims", persist_state=PERSIST,
                              max_selections=MAX_DIMS)
        z = _z_sliders(m, latent.sample_latents(1, d, seed, m.prior)[0], seed, dims)
    z_now = z + offset
    st.session_state[CURRENT_Z] = (m.key, z_now.tolist())
    with picture:
        pictures.show_generated(m, z_now, 1, times=3,
                                caption=t("latent.move.image_caption", norm=f"{float(z_now.norm()):.2f}"))
        st.markdown(t("latent.move.intro", d=d, prior=t(f"latent.prior.{m.prior}")))
        st.html(svg_as_img(z_chart_svg(z_now.tolist(), dims, lo, hi), t("latent.move.z_chart_title")))
        teaching_notes("latent.move")

    st.subheader(t("latent.move.directions_title"))
    st.markdown(t(f"latent.move.explain_{method}"))
    st.caption(t("latent.move.strip_caption"))
    for i in range(k):
        pictures.show_generated(m, latent.direction_latents(z_now, directions[i], STRIP_STEPS, 3.0), STRIP_STEPS,
                        caption=t(f"latent.move.strip_{method}", n=i + 1, value=f"{float(strengths[i]):.3g}"))

    st.subheader(t("latent.move.plane_title"))
    st.caption(t("latent.move.plane_caption"))
    c1, c2, c3, c4 = st.columns(4)
    options = list(range(len(directions)))
    _fit_choice("lat_plane_d1", options, 0)
    _fit_choice("lat_plane_d2", options, min(1, len(options) - 1))
    name = lambda i: t("latent.move.direction", n=i + 1)  # noqa: E731
    i1 = c1.selectbox(t("latent.move.across"), options, format_func=name, key="lat_plane_d1", persist_state=PERSIST)
    i2 = c2.selectbox(t("latent.move.down"), options, format_func=name, key="lat_plane_d2", persist_state=PERSIST)
    n = c3.slider(t("latent.move.plane_n"), 3, 11, step=2, key="lat_plane_n", persist_state=PERSIST)
    span = c4.slider(t("latent.move.span"), 0.5, 6.0, step=0.5, key="lat_plane_span", persist_state=PERSIST)
    if i1 == i2:
        st.warning(t("latent.move.same_direction"))
    else:
        pictures.show_generated(m, latent.plane_latents(z_now, directions[i1], directions[i2], n, span), n,
                        times=min(1.0, 7 / n), caption=t("latent.move.plane_image"))
