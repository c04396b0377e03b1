"""The latent explorer's "Interpolation" section: lerp against slerp between two z (from seeds or
picked from a grid), the norm along each path, exports as GIF and PNG, and a looping random walk."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from gan_core import latent
from gan_core.images import gif_bytes, png_bytes
from gan_core.settings import SEED
from views import _latent_pictures as pictures
from views._i18n import t
from views._latent_models import LatentModel
from views._notes import teaching_notes
from views._settings import PERSIST
from views._theme import current, style
from views._urlstate import Param

INTERP_GRID = 16  # images to pick interpolation endpoints from

DEFAULTS = {"lat_interp_mode": "seeds", "lat_interp_s0": 1, "lat_interp_s1": 2, "lat_interp_grid_seed": 3,
            "lat_interp_a": 0, "lat_interp_b": 1, "lat_interp_steps": 10, "lat_export_method": "slerp",
            "lat_gif_ms": 120, "lat_walk_points": 4, "lat_walk_steps": 8, "lat_walk_seed": 5,
            "lat_walk_method": "slerp"}
PARAMS = [
    Param("ends", "lat_interp_mode", "choice", choices=["seeds", "grid"]),
    Param("start", "lat_interp_s0", "int", 0, SEED.high),
    Param("end", "lat_interp_s1", "int", 0, SEED.high),
    Param("grid", "lat_interp_grid_seed", "int", 0, SEED.high),
    Param("a", "lat_interp_a", "int", 0, INTERP_GRID - 1),
    Param("b", "lat_interp_b", "int", 0, INTERP_GRID - 1),
    Param("steps", "lat_interp_steps", "int", 3, 32),
]


def _norm_chart(paths: dict[str, torch.Tensor], d: int, prior: str) -> go.Figure:
    fig = go.Figure()
    styles = {"lerp": dict(color="#8e44ad", dash="dash"), "slerp": dict(color="#e67e22", dash="solid")}
    for name, path in paths.items():
        norms = latent.path_norms(path)
        fig.add_scatter(x=np.linspace(0, 1, len(norms)), y=norms.tolist(), mode="lines+markers",
                        name=t(f"latent.interp.{name}"), line=dict(width=3, **styles[name]), marker=dict(size=7))
    if prior == "normal":
        fig.add_hline(y=d ** 0.5, line=dict(color="black", dash="dot"), annotation_text=f"√d = {d ** 0.5:.1f}")
    # Title on top, the legend between it and the plot: below the plot it would cover the axis title.
    fig.update_layout(margin=dict(l=10, r=10, t=110, b=10), title=dict(text=t("latent.interp.norm_title"), y=0.98,
                                                                       yanchor="top"),
                      xaxis_title=t("latent.interp.norm_x"), yaxis_title="‖z‖",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return style(fig, height=int(current().figure_height * 0.85))


def _endpoints(m: LatentModel) -> tuple[torch.Tensor, torch.Tensor]:
    d = m.model_config.latent_dim
    mode = st.radio(t("latent.interp.endpoints"), ["seeds", "grid"], horizontal=True, key="lat_interp_mode",
                    persist_state=PERSIST,
                    format_func=lambda v: t(f"latent.interp.mode_{v}"))
    if mode == "seeds":
        c1, c2 = st.columns(2)
        s0 = int(c1.number_input(t("latent.interp.start_seed"), 0, SEED.high, key="lat_interp_s0",
                                 persist_state=PERSIST))
        s1 = int(c2.number_input(t("latent.interp.end_seed"), 0, SEED.high, key="lat_interp_s1",
                                 persist_state=PERSIST))
        return latent.sample_latents(1, d, s0, m.prior)[0], latent.sample_latents(1, d, s1, m.prior)[0]
    grid_seed = int(st.number_input(t("latent.interp.grid_seed"), 0, SEED.high, key="lat_interp_grid_seed",
                                    persist_state=PERSIST))
    z = latent.sample_latents(INTERP_GRID, d, grid_seed, m.prior)
    pictures.show_numbered(latent.render(m.generator, z))
    c1, c2 = st.columns(2)
    a = c1.selectbox(t("latent.interp.start_image"), range(INTERP_GRID), format_func=pictures.number,
                     key="lat_interp_a", persist_state=PERSIST)
    b = c2.selectbox(t("latent.interp.end_image"), range(INTERP_GRID), format_func=pictures.number,
                     key="lat_interp_b", persist_state=PERSIST)
    return z[a], z[b]


def show(m: LatentModel) -> None:
    """The "Interpolation" section for generator ``m``."""
    d = m.model_config.latent_dim
    controls, figures = st.columns([2, 3], gap="large")
    with controls:
        z0, z1 = _endpoints(m)
        steps = st.slider(t("latent.interp.steps"), 3, 32, key="lat_interp_steps", persist_state=PERSIST)
        st.markdown(t("latent.interp.intro", d=d, sqrt_d=f"{d ** 0.5:.1f}"))
        teaching_notes("latent.interp")
    paths = {name: latent.interpolation(z0, z1, steps, name) for name in ("lerp", "slerp")}
    images = latent.render(m.generator, torch.cat(list(paths.values())))
    strips = {"lerp": images[:steps], "slerp": images[steps:]}
    with figures:
        times = min(0.75, 6 / steps)  # the strip fits the column: fewer, bigger frames or more, smaller ones
        for name in ("lerp", "slerp"):
            pictures.show(pictures.grid(strips[name], steps, times), caption=t(f"latent.interp.strip_{name}"))
        st.plotly_chart(_norm_chart(paths, d, m.prior), width="stretch")

    c1, c2, c3 = st.columns(3)
    which = c1.radio(t("latent.interp.export"), ["slerp", "lerp"], horizontal=True, key="lat_export_method",
                     persist_state=PERSIST,
                     format_func=lambda v: t(f"latent.interp.{v}"))
    ms = c2.slider(t("latent.interp.frame_ms"), 40, 500, step=20, key="lat_gif_ms", persist_state=PERSIST)
    frames = pictures.tiles(strips[which], times=8 / 3)
    c3.download_button(t("latent.interp.download_gif"), gif_bytes(frames + frames[-2:0:-1], ms),
                       f"interpolation-{which}.gif", "image/gif", key="lat_dl_interp_gif")
    c3.download_button(t("latent.interp.download_png"), png_bytes(pictures.grid(strips[which], steps, 4 / 3)),
                       f"interpolation-{which}.png", "image/png", key="lat_dl_interp_png")

    st.subheader(t("latent.walk.title"))
    st.markdown(t("latent.walk.intro"))
    c1, c2, c3, c4 = st.columns(4)
    n_points = c1.slider(t("latent.walk.points"), 2, 8, key="lat_walk_points", persist_state=PERSIST)
    per_leg = c2.slider(t("latent.walk.frames"), 2, 16, key="lat_walk_steps", persist_state=PERSIST)
    walk_seed = int(c3.number_input(t("latent.walk.seed"), 0, SEED.high, key="lat_walk_seed", persist_state=PERSIST))
    walk_method = c4.radio(t("latent.walk.path"), ["slerp", "lerp"], horizontal=True, key="lat_walk_method",
                           persist_state=PERSIST,
                           format_func=lambda v: t(f"latent.interp.{v}"))
    path = latent.random_walk(d, n_points, per_leg, walk_seed, walk_method, m.prior, closed=True)
    walk = latent.render(m.generator, path)
    walk_gif = gif_bytes(pictures.tiles(walk, times=8 / 3), 100)
    c1, c2 = st.columns([1, 3])
    with c1:
        st.image(walk_gif, caption=t("latent.walk.looping"))
        st.download_button(t("latent.walk.download"), walk_gif, "latent-walk.gif", "image/gif", key="lat_dl_walk_gif")
    with c2:
        pictures.show(pictures.grid(walk, per_leg, times=0.75), caption=t("latent.walk.frames_caption", n=len(walk)))
