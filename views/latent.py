"""Explore the latent space of a trained generator: move z, semantic directions (SeFa, GANSpace),
interpolation (lerp vs slerp) and walks, vector arithmetic, and a memorisation check.

A thin view over ``gan_core.latent``: all the maths is there; this file holds widgets and layout.
Every choice lives in session state under a ``lat_`` key, is kept while its section is closed or
another page is open, and the main ones are mirrored in the URL (``URL_PARAMS``), so a link opens the same view.
"""

from __future__ import annotations

import random

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from gan_core import latent
from gan_core.data.datasets import to_float_images
from gan_core.images import gif_bytes, make_grid, png_bytes, to_uint8, upscale
from views._i18n import error_text, t, user_text
from views._latent_figures import z_chart_svg
from views._latent_models import SOURCE_KEY, LatentModel, choose_model, shipped_ids
from views._notes import teaching_notes
from views._settings import PERSIST
from views._svg import svg_as_img
from views._theme import current, style, upscale_factor
from views._urlstate import Param, link_box, mirror, restore

SECTIONS = ["move", "interpolation", "arithmetic", "memorisation"]
DIRECTION_METHODS = ["sefa", "ganspace"]  # latent.sefa_directions, latent.ganspace_directions (see _directions)
CONCEPTS = [*latent.IMAGE_STATISTICS, "custom"]  # measured concepts for vector arithmetic, or your own picks
MAX_DIRECTIONS = 10
MAX_DIMS = 12  # z sliders shown at once
MAX_SEED = 2**31 - 1
MAX_LATENT = 1024  # the largest latent size a link may name a dimension of (clamped to the model's)
STRIP_STEPS = 7
INTERP_GRID = 16  # images to pick interpolation endpoints from
ARITH_GRID = 24  # images to pick your own groups from
CONCEPT_POOL = 256  # samples measured to pick the concept groups

# Every choice of the page, with its first value. Widgets are created with key= only (their value comes
# from here through session state), which avoids Streamlit's "default value but also set via the Session
# State API" warning, and with persist_state=PERSIST, so a choice survives a trip to another section
# or page (Streamlit otherwise forgets the value of a widget that a run does not draw).
DEFAULTS = {
    "lat_section": "move",
    "lat_seed": 0,
    "lat_dims": [0, 1, 2, 3],
    "lat_dir_method": "sefa",
    "lat_k": 5,
    "lat_plane_d1": 0,
    "lat_plane_d2": 1,
    "lat_plane_n": 7,
    "lat_plane_span": 3.0,
    "lat_interp_mode": "seeds",
    "lat_interp_s0": 1,
    "lat_interp_s1": 2,
    "lat_interp_grid_seed": 3,
    "lat_interp_a": 0,
    "lat_interp_b": 1,
    "lat_interp_steps": 10,
    "lat_export_method": "slerp",
    "lat_gif_ms": 120,
    "lat_walk_points": 4,
    "lat_walk_steps": 8,
    "lat_walk_seed": 5,
    "lat_walk_method": "slerp",
    "lat_arith_concept": "thickness",
    "lat_arith_seed": 4,
    "lat_arith_noise": 0.25,
    "lat_mem_source": "grid",
    "lat_mem_seed": 0,
    "lat_mem_k": 6,
}
URL_PARAMS = [
    Param("gen", SOURCE_KEY, "choice", choices=shipped_ids()),  # shipped generators only: never a file
    Param("section", "lat_section", "choice", choices=SECTIONS),
    Param("seed", "lat_seed", "int", 0, MAX_SEED),
    Param("dims", "lat_dims", "int_list", 0, MAX_LATENT - 1, max_items=MAX_DIMS),
    Param("directions", "lat_dir_method", "choice", choices=DIRECTION_METHODS),
    Param("k", "lat_k", "int", 1, MAX_DIRECTIONS),
    *(Param(f"d{i + 1}", f"lat_alpha_{i}", "float", -3.0, 3.0) for i in range(MAX_DIRECTIONS)),
    Param("across", "lat_plane_d1", "int", 0, MAX_DIRECTIONS - 1),
    Param("down", "lat_plane_d2", "int", 0, MAX_DIRECTIONS - 1),
    Param("ends", "lat_interp_mode", "choice", choices=["seeds", "grid"]),
    Param("start", "lat_interp_s0", "int", 0, MAX_SEED),
    Param("end", "lat_interp_s1", "int", 0, MAX_SEED),
    Param("grid", "lat_interp_grid_seed", "int", 0, MAX_SEED),
    Param("a", "lat_interp_a", "int", 0, INTERP_GRID - 1),
    Param("b", "lat_interp_b", "int", 0, INTERP_GRID - 1),
    Param("steps", "lat_interp_steps", "int", 3, 32),
    Param("concept", "lat_arith_concept", "choice", choices=CONCEPTS),
    Param("pool", "lat_arith_seed", "int", 0, MAX_SEED),
    Param("mem_seed", "lat_mem_seed", "int", 0, MAX_SEED),
]
# The URL names only what the open section shows (a link to "Interpolation" carries no slider of "Move z").
SECTION_PARAMS = {
    "move": {"gen", "section", "seed", "dims", "directions", "k", "across", "down",
             *(f"d{i + 1}" for i in range(MAX_DIRECTIONS))},
    "interpolation": {"gen", "section", "ends", "start", "end", "grid", "a", "b", "steps"},
    "arithmetic": {"gen", "section", "concept", "pool"},
    "memorisation": {"gen", "section", "mem_seed"},
}


# --- state ---------------------------------------------------------------------------------------------

def _first_values() -> None:
    """Give every choice its first value, once per session (widgets keep theirs with persist_state)."""
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)


def _fit_choice(key: str, options: list, fallback) -> None:
    """Make a stored choice valid for this model's options (a link or another generator may not fit)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = fallback


def _fit_number(key: str, lo, hi) -> None:
    st.session_state[key] = min(max(st.session_state.get(key, lo), lo), hi)


def _mirror_section(section: str, model_is_shipped: bool) -> None:
    """Write this section's settings into the URL and drop the others' (never an uploaded file; a
    direction only while its slider is shown and moved)."""
    shown = set(SECTION_PARAMS[section])
    if not model_is_shipped:
        shown.discard("gen")
    for i in range(MAX_DIRECTIONS):
        if i >= st.session_state.get("lat_k", 0) or st.session_state.get(f"lat_alpha_{i}", 0.0) == 0.0:
            shown.discard(f"d{i + 1}")
    for p in URL_PARAMS:
        if p.name not in shown and p.name in st.query_params:
            del st.query_params[p.name]
    mirror([p for p in URL_PARAMS if p.name in shown])


# --- display helpers -------------------------------------------------------------------------------------

def _factor(image_size: int, times: float = 1.0) -> int:
    """Integer nearest-neighbour scale for images: the theme's size (bigger in projector mode) x ``times``."""
    return max(1, round(upscale_factor(image_size) * times))


def _grid(images: torch.Tensor, nrow: int, times: float = 1.0) -> np.ndarray:
    """A tiled, upscaled uint8 grid (nearest neighbour: crisp pixels)."""
    return upscale(make_grid(images, nrow=nrow), _factor(images.shape[-1], times))


def _tiles(images: torch.Tensor, times: float = 1.0) -> list[np.ndarray]:
    """Each image as its own upscaled uint8 array (for st.image with one caption per image)."""
    f = _factor(images.shape[-1], times)
    arr = to_uint8(images)
    return [upscale(a[:, :, 0] if a.shape[2] == 1 else a, f) for a in arr]


def _show(image: np.ndarray, caption: str | None = None) -> None:
    st.image(image, caption=caption, output_format="PNG")


def _number(i: int) -> str:
    return f"#{i + 1}"


@st.cache_data(max_entries=1024, show_spinner=False)
def _picture(model_key: str, latents: bytes, latent_dim: int, nrow: int, factor: int, _generator) -> bytes:
    """G's images of ``latents`` (float32 bytes), tiled ``nrow`` a row and upscaled ``factor`` times, as PNG.

    Shared by every session: a class following the lecture moves the same slider of the same model
    and asks for the same pictures, each a generator pass and a PNG encoding otherwise
    (BENCHMARKS.md, "A class on one server"). ``model_key`` names the weights.
    """
    z = torch.frombuffer(bytearray(latents), dtype=torch.float32).reshape(-1, latent_dim)
    return png_bytes(upscale(make_grid(latent.render(_generator, z), nrow=nrow), factor))


def _show_generated(m: LatentModel, z: torch.Tensor, nrow: int, times: float = 1.0, caption: str | None = None) -> None:
    """G(z) for a batch of latents as one tiled picture (``_grid``'s picture, cached across sessions)."""
    d = m.model_config.latent_dim
    z = z.detach().reshape(-1, d).float().contiguous()
    factor = _factor(m.model_config.image_size, times)
    st.image(_picture(m.key, z.numpy().tobytes(), d, nrow, factor, m.generator), caption=caption, output_format="PNG")


def _show_numbered(images: torch.Tensor, times: float = 0.75) -> None:
    st.image(_tiles(images, times), caption=[_number(i) for i in range(len(images))], output_format="PNG")


def _z_range(prior: str) -> tuple[float, float]:
    return (-1.0, 1.0) if prior == "uniform" else (-3.0, 3.0)


# --- cached per-model computations -----------------------------------------------------------------

@st.cache_resource(max_entries=16, show_spinner=False)
def _directions(model_key: str, method: str, _generator: torch.nn.Module, prior: str):
    """Top directions of one model, computed once per model and method (SeFa is closed form;
    GANSpace runs the first layers on a few thousand z)."""
    k = min(MAX_DIRECTIONS, _generator.latent_dim)
    if method == "ganspace":
        return latent.ganspace_directions(_generator, k, n_samples=2000, seed=0, prior=prior)
    return latent.sefa_directions(_generator, k)


@st.cache_resource(max_entries=2, show_spinner=False)
def _training_images(dataset: str, image_size: int, channels: int) -> torch.Tensor:
    from gan_core.data.datasets import load_dataset

    return load_dataset(dataset, image_size=image_size, channels=channels).images


def _classifier(dataset: str | None, images: torch.Tensor):
    """The shipped metrics classifier for this dataset if it takes these images, else None."""
    from gan_core.data.datasets import dataset_names

    if dataset not in dataset_names():  # a name from an uploaded checkpoint never picks a folder
        return None
    try:
        from gan_core.evaluation.metrics import load_classifier

        classifier = load_classifier(dataset)
    except (ImportError, ValueError):  # no metrics module, or a broken classifier folder
        return None
    if classifier is None or not classifier.accepts(images[:1]):
        return None
    return classifier


@st.cache_resource(max_entries=2, show_spinner=False)
def _feature_space(dataset: str, shape: tuple[int, ...], _images: torch.Tensor):
    """(feature function, training-set features) from the metrics classifier, or None without one."""
    classifier = _classifier(dataset, _images)
    if classifier is None:
        return None
    return classifier.features, classifier.features(_images)


@st.cache_resource(max_entries=16, show_spinner=False)
def _concept_groups(model_key: str, concept: str, seed: int, _m: LatentModel) -> dict:
    """Groups A, B, C for one concept, measured on CONCEPT_POOL samples of G (cached per model and seed)."""
    z = latent.sample_latents(CONCEPT_POOL, _m.model_config.latent_dim, seed, _m.prior)
    images = latent.render(_m.generator, z)
    values = latent.IMAGE_STATISTICS[concept](images)
    classifier = _classifier(_m.dataset, images)
    labels = latent.confident_labels(classifier.probs(images)) if classifier is not None else None
    groups = latent.concept_groups(values, labels)
    names = classifier.class_names if classifier is not None else []
    class_c = groups.class_c
    return {"z": z, "images": images, "values": values, "groups": groups,
            "class_c": names[class_c] if class_c is not None and class_c < len(names) else class_c}


# --- "Move z" ------------------------------------------------------------------------------------------

def _randomise_seed() -> None:
    st.session_state["lat_seed"] = random.randint(0, MAX_SEED)


def _reset_directions() -> None:
    for i in range(MAX_DIRECTIONS):
        st.session_state[f"lat_alpha_{i}"] = 0.0


def _z_sliders(m: LatentModel, z: torch.Tensor, seed: int, dims: list[int]) -> torch.Tensor:
    """One slider per chosen dimension, starting at z's value; moved sliders override z."""
    lo, hi = _z_range(m.prior)
    origin = (seed, m.prior, m.model_config.latent_dim)  # what z depends on (not the weights)
    if st.session_state.get("lat_z_origin") != origin:  # a new z: the sliders start from its values
        for key in [k for k in st.session_state if k.startswith("lat_zdim_")]:
            del st.session_state[key]
        st.session_state["lat_z_origin"] = origin
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


def move_z(m: LatentModel) -> None:
    d = m.model_config.latent_dim
    lo, hi = _z_range(m.prior)
    # Controls beside the picture, the ones a lecture uses most first, so both fit one 1280x720 screen.
    controls, picture = st.columns([3, 2], gap="large")
    with controls:
        # a row that puts the button under the seed box when both do not fit (150% zoom, projector)
        row = st.container(horizontal=True, wrap=True, vertical_alignment="bottom", key="lat_seed_row")
        seed = int(row.number_input(t("latent.move.seed"), 0, MAX_SEED, key="lat_seed", persist_state=PERSIST,
                                    help=t("latent.move.seed_help"), width=220))
        row.button(t("latent.move.random"), icon=":material/casino:", on_click=_randomise_seed, width="content",
                   key="lat_btn_random")
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        method = c1.radio(t("latent.move.method"), DIRECTION_METHODS, key="lat_dir_method", persist_state=PERSIST,
                          format_func=lambda v: t(f"latent.method.{v}"))
        if st.session_state.get("lat_alpha_origin") != (m.key, method):  # other directions: start at 0
            if "lat_alpha_origin" in st.session_state:
                _reset_directions()
            st.session_state["lat_alpha_origin"] = (m.key, method)
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
    st.session_state["lat_current_z"] = (m.key, z_now.tolist())
    with picture:
        _show_generated(m, z_now, 1, times=3, caption=t("latent.move.image_caption", norm=f"{float(z_now.norm()):.2f}"))
        st.markdown(t("latent.move.intro", d=d, prior=t(f"latent.prior.{m.prior}")))
        st.html(svg_as_img(z_chart_svg(z_now.tolist(), dims, lo, hi), t("latent.move.z_chart_title")))
        teaching_notes("latent.move")

    st.subheader(t("latent.move.directions_title"))
    st.markdown(t(f"latent.move.explain_{method}"))
    st.caption(t("latent.move.strip_caption"))
    for i in range(k):
        _show_generated(m, latent.direction_latents(z_now, directions[i], STRIP_STEPS, 3.0), STRIP_STEPS,
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
        _show_generated(m, latent.plane_latents(z_now, directions[i1], directions[i2], n, span), n,
                        times=min(1.0, 7 / n), caption=t("latent.move.plane_image"))


# --- "Interpolation" ----------------------------------------------------------------------------------

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
        s0 = int(c1.number_input(t("latent.interp.start_seed"), 0, MAX_SEED, key="lat_interp_s0",
                                 persist_state=PERSIST))
        s1 = int(c2.number_input(t("latent.interp.end_seed"), 0, MAX_SEED, key="lat_interp_s1",
                                 persist_state=PERSIST))
        return latent.sample_latents(1, d, s0, m.prior)[0], latent.sample_latents(1, d, s1, m.prior)[0]
    grid_seed = int(st.number_input(t("latent.interp.grid_seed"), 0, MAX_SEED, key="lat_interp_grid_seed",
                                    persist_state=PERSIST))
    z = latent.sample_latents(INTERP_GRID, d, grid_seed, m.prior)
    _show_numbered(latent.render(m.generator, z))
    c1, c2 = st.columns(2)
    a = c1.selectbox(t("latent.interp.start_image"), range(INTERP_GRID), format_func=_number, key="lat_interp_a",
                     persist_state=PERSIST)
    b = c2.selectbox(t("latent.interp.end_image"), range(INTERP_GRID), format_func=_number, key="lat_interp_b",
                     persist_state=PERSIST)
    return z[a], z[b]


def interpolation(m: LatentModel) -> None:
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
            _show(_grid(strips[name], steps, times), caption=t(f"latent.interp.strip_{name}"))
        st.plotly_chart(_norm_chart(paths, d, m.prior), width="stretch")

    c1, c2, c3 = st.columns(3)
    which = c1.radio(t("latent.interp.export"), ["slerp", "lerp"], horizontal=True, key="lat_export_method",
                     persist_state=PERSIST,
                     format_func=lambda v: t(f"latent.interp.{v}"))
    ms = c2.slider(t("latent.interp.frame_ms"), 40, 500, step=20, key="lat_gif_ms", persist_state=PERSIST)
    frames = _tiles(strips[which], times=8 / 3)
    c3.download_button(t("latent.interp.download_gif"), gif_bytes(frames + frames[-2:0:-1], ms),
                       f"interpolation-{which}.gif", "image/gif", key="lat_dl_interp_gif")
    c3.download_button(t("latent.interp.download_png"), png_bytes(_grid(strips[which], steps, 4 / 3)),
                       f"interpolation-{which}.png", "image/png", key="lat_dl_interp_png")

    st.subheader(t("latent.walk.title"))
    st.markdown(t("latent.walk.intro"))
    c1, c2, c3, c4 = st.columns(4)
    n_points = c1.slider(t("latent.walk.points"), 2, 8, key="lat_walk_points", persist_state=PERSIST)
    per_leg = c2.slider(t("latent.walk.frames"), 2, 16, key="lat_walk_steps", persist_state=PERSIST)
    walk_seed = int(c3.number_input(t("latent.walk.seed"), 0, MAX_SEED, key="lat_walk_seed", persist_state=PERSIST))
    walk_method = c4.radio(t("latent.walk.path"), ["slerp", "lerp"], horizontal=True, key="lat_walk_method",
                           persist_state=PERSIST,
                           format_func=lambda v: t(f"latent.interp.{v}"))
    path = latent.random_walk(d, n_points, per_leg, walk_seed, walk_method, m.prior, closed=True)
    walk = latent.render(m.generator, path)
    walk_gif = gif_bytes(_tiles(walk, times=8 / 3), 100)
    c1, c2 = st.columns([1, 3])
    with c1:
        st.image(walk_gif, caption=t("latent.walk.looping"))
        st.download_button(t("latent.walk.download"), walk_gif, "latent-walk.gif", "image/gif", key="lat_dl_walk_gif")
    with c2:
        _show(_grid(walk, per_leg, times=0.75), caption=t("latent.walk.frames_caption", n=len(walk)))


# --- "Vector arithmetic" --------------------------------------------------------------------------------

def _show_concept_groups(found: dict, concept: str) -> None:
    """The sentence saying what the measured groups show, then the groups themselves, one row each."""
    groups, values, images = found["groups"], found["values"], found["images"]
    fmt = _value_format(concept)
    a, b, c = (fmt(float(values[g].mean())) for g in (groups.a, groups.b, groups.c))
    if found["class_c"] is not None:
        st.markdown(t(f"latent.arith.explain_{concept}", pool=CONCEPT_POOL, n=len(groups.a), a=a, b=b, c=c,
                      label=found["class_c"], n_c=len(groups.c)))
    else:
        st.markdown(t(f"latent.arith.explain_{concept}_unlabelled", pool=CONCEPT_POOL, n=len(groups.a), a=a, b=b,
                      c=c))
    shown = 12  # of the many exemplars in A and B, the most extreme are drawn
    for group, key in ((groups.a, "a"), (groups.b, "b"), (groups.c, "c")):
        _show(_grid(images[group[:shown]], shown, times=0.5),
              caption=t(f"latent.arith.group_{key}_{concept}", n=len(group), shown=min(shown, len(group))))


def _value_format(concept: str):
    """How a concept's measured value reads in a sentence (stroke width in px, slant, share of ink)."""
    if concept == "thickness":
        return lambda v: f"{v:.1f} px"
    if concept == "brightness":
        return lambda v: f"{100 * v:.0f}%"
    return lambda v: f"{v:+.2f}"


def _custom_groups(m: LatentModel, seed: int) -> tuple[torch.Tensor, list[list[int]]] | None:
    """(a grid of z, groups A, B, C picked by the user from the numbered grid), or None until all three
    groups have an image."""
    st.markdown(t("latent.arith.explain_custom"))
    z = latent.sample_latents(ARITH_GRID, m.model_config.latent_dim, seed, m.prior)
    images = latent.render(m.generator, z)
    _show_numbered(images, times=0.6)
    if st.session_state.get("lat_arith_origin") != (m.key, seed):  # a new grid: start from its measured groups
        start = latent.concept_groups(latent.stroke_width(images), per_group=3)
        for g, chosen in zip("ABC", (start.a, start.b, start.c)):
            st.session_state[f"lat_arith_{g}"] = chosen
        st.session_state["lat_arith_origin"] = (m.key, seed)
    options = list(range(ARITH_GRID))
    cols = st.columns(3)
    groups = []
    for col, g in zip(cols, "ABC"):
        st.session_state[f"lat_arith_{g}"] = [i for i in st.session_state[f"lat_arith_{g}"] if i in options]
        groups.append(col.multiselect(t("latent.arith.group", name=g), options, format_func=_number,
                                      key=f"lat_arith_{g}", persist_state=PERSIST))
    missing = [g for g, chosen in zip("ABC", groups) if not chosen]
    if missing:
        st.info(t("latent.arith.pick", groups=", ".join(missing)))
        return None
    return z, groups


def arithmetic(m: LatentModel) -> None:
    controls, figures = st.columns([2, 3], gap="large")
    with controls:
        concept = st.radio(t("latent.arith.concept"), CONCEPTS, key="lat_arith_concept", persist_state=PERSIST,
                           format_func=lambda v: t(f"latent.concept.{v}"))
        c1, c2 = st.columns(2)
        seed = int(c1.number_input(t("latent.arith.seed"), 0, MAX_SEED, key="lat_arith_seed", persist_state=PERSIST))
        noise = c2.slider(t("latent.arith.noise"), 0.0, 1.0, step=0.05, key="lat_arith_noise", persist_state=PERSIST)
        st.markdown(t("latent.arith.intro"))
        teaching_notes("latent.arith")
    with figures:
        if concept == "custom":
            picked = _custom_groups(m, seed)
        else:
            with st.spinner(t("latent.arith.measuring")):
                found = _concept_groups(m.key, concept, seed, m)
            picked = found["z"], [found["groups"].a, found["groups"].b, found["groups"].c]
        if picked is None:
            return
        z, groups = picked
        result = latent.vector_arithmetic(*(z[list(g)] for g in groups), n_neighbours=8, noise_scale=noise,
                                          seed=seed)
        means = latent.render(m.generator, torch.stack([result.mean_a, result.mean_b, result.mean_c, result.result]))
        st.image(_tiles(means), caption=[t("latent.arith.mean_a"), t("latent.arith.minus_b"),
                                         t("latent.arith.plus_c"), t("latent.arith.result")], output_format="PNG")
        if concept != "custom":
            measure = latent.IMAGE_STATISTICS[concept](means)
            fmt = _value_format(concept)
            st.caption(t(f"latent.arith.measured_{concept}", c=fmt(float(measure[2])), result=fmt(float(measure[3]))))
            _show_concept_groups(found, concept)
        around = latent.render(m.generator, torch.cat([result.neighbours[:4], result.result[None],
                                                       result.neighbours[4:]]))
        _show(_grid(around, 3), caption=t("latent.arith.neighbours"))


# --- "Memorisation check" -------------------------------------------------------------------------------

def _memorisation_images(m: LatentModel) -> torch.Tensor | None:
    """The generator's training images, or None after saying why the check is off."""
    size, channels = m.model_config.image_size, m.model_config.channels
    if m.training_images is not None:
        return m.training_images
    if not m.dataset:
        st.info(t("latent.mem.no_dataset"))
        return None
    from gan_core.data.datasets import dataset_names

    if m.dataset not in dataset_names():  # never read a path named by a (possibly uploaded) checkpoint
        st.info(t("latent.mem.not_builtin", dataset=user_text(m.dataset)))
        return None
    try:
        with st.spinner(t("latent.mem.loading")):
            return _training_images(m.dataset, size, channels)
    except Exception:  # an absent download, a dataset from another machine, ...: the check is off
        st.info(t("latent.mem.unavailable", dataset=user_text(m.dataset)))
        return None


def memorisation(m: LatentModel) -> None:
    st.markdown(t("latent.mem.intro"))
    teaching_notes("latent.mem")
    train = _memorisation_images(m)
    if train is None:
        return
    c1, c2, c3 = st.columns(3)
    source = c1.radio(t("latent.mem.source"), ["grid", "current"], horizontal=True, key="lat_mem_source",
                      persist_state=PERSIST,
                      format_func=lambda v: t(f"latent.mem.source_{v}"))
    seed = int(c2.number_input(t("latent.mem.seed"), 0, MAX_SEED, key="lat_mem_seed", persist_state=PERSIST,
                               disabled=source == "current"))
    k = c3.slider(t("latent.mem.k"), 1, 10, key="lat_mem_k", persist_state=PERSIST)
    current_z = st.session_state.get("lat_current_z")
    if source == "current" and current_z and current_z[0] == m.key:
        z = torch.tensor([current_z[1]])
    else:
        if source == "current":
            st.caption(t("latent.mem.no_current"))
        z = latent.sample_latents(4, m.model_config.latent_dim, seed, m.prior)
    fakes = latent.render(m.generator, z)
    spaces = {"pixel": latent.nearest_neighbours(fakes, train, k)}
    with st.spinner(t("latent.mem.features")):
        feature_space = _feature_space(m.dataset, tuple(train.shape), train) if m.dataset else None
    if feature_space is not None:
        features, bank = feature_space
        spaces["feature"] = latent.nearest_neighbours(fakes, train, k, features, bank)
    else:
        st.caption(t("latent.mem.pixel_only"))
    for name, found in spaces.items():
        st.markdown(t(f"latent.mem.nearest_{name}", k=k))
        for q in range(len(fakes)):
            row = torch.cat([fakes[q:q + 1], to_float_images(train[found.indices[q]])])
            captions = [t("latent.mem.generated")] + [f"{float(v):.2f}" for v in found.distances[q]]
            st.image(_tiles(row, times=min(1.0, 6 / (k + 1))), caption=captions, output_format="PNG")


# --- page ---------------------------------------------------------------------------------------------

SHOW = {"move": move_z, "interpolation": interpolation, "arithmetic": arithmetic, "memorisation": memorisation}

restore(URL_PARAMS, "latent")
_first_values()
st.title(t("latent.title"))
pick, show = st.columns([2, 3], vertical_alignment="bottom")
model = choose_model(pick)
section = show.radio(t("latent.section.label"), SECTIONS, horizontal=True, key="lat_section", persist_state=PERSIST,
                     format_func=lambda v: t(f"latent.section.{v}"))
with st.sidebar:
    link_box()
if model is not None:
    try:
        SHOW[section](model)
    except ValueError as exc:  # LatentError and the like: what the user asked for cannot be done, said plainly
        st.error(error_text(exc))
    mc = model.model_config
    colour = t("latent.grayscale") if mc.channels == 1 else t("latent.colour")
    facts = dict(label=user_text(model.label), preset=mc.preset, size=mc.image_size, colour=colour,
                 d=mc.latent_dim, prior=t(f"latent.prior.{model.prior}"), steps=f"{model.step:,}")
    st.divider()
    st.caption(t("latent.model_caption_dataset", dataset=user_text(model.dataset), **facts) if model.dataset
               else t("latent.model_caption", **facts))
st.caption(t("latent.caption"))
_mirror_section(section, st.session_state.get(SOURCE_KEY) in shipped_ids())
