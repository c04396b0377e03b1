"""Explore the latent space of a trained generator: move z, semantic directions (SeFa, GANSpace),
interpolation (lerp vs slerp) and walks, vector arithmetic, and a memorisation check.

A thin view over ``gan_core.latent``: all the maths is there; this file holds widgets and layout.
"""

from __future__ import annotations

import random

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from gan_core import latent
from gan_core.images import gif_bytes, make_grid, png_bytes, to_uint8, upscale
from views._latent_models import LatentModel, choose_model

SECTIONS = ["Move z", "Interpolation", "Vector arithmetic", "Memorisation check"]
MAX_DIRECTIONS = 10
MAX_SEED = 2**31 - 1


# --- small display helpers ---------------------------------------------------------------------------

def _factor(image_size: int, target_px: int) -> int:
    """Integer upscaling so an image is about ``target_px`` wide (nearest neighbour keeps pixels crisp)."""
    return max(1, round(target_px / image_size))


def _grid(images: torch.Tensor, nrow: int, target_px: int = 112) -> np.ndarray:
    """A tiled, upscaled uint8 grid; each tile about ``target_px`` wide."""
    return upscale(make_grid(images, nrow=nrow), _factor(images.shape[-1], target_px))


def _tiles(images: torch.Tensor, target_px: int = 84) -> list[np.ndarray]:
    """Each image as its own upscaled uint8 array (for st.image with numbered captions)."""
    f = _factor(images.shape[-1], target_px)
    arr = to_uint8(images)
    return [upscale(a[:, :, 0] if a.shape[2] == 1 else a, f) for a in arr]


def _show(image: np.ndarray, caption: str | None = None) -> None:
    st.image(image, caption=caption, output_format="PNG")


def _show_numbered(images: torch.Tensor) -> None:
    st.image(_tiles(images), caption=[f"#{i + 1}" for i in range(len(images))], output_format="PNG")


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


@st.cache_resource(max_entries=2, show_spinner="Loading the training images…")
def _training_images(dataset: str, image_size: int, channels: int) -> torch.Tensor:
    from gan_core.data import load_dataset

    return load_dataset(dataset, image_size=image_size, channels=channels).images


@st.cache_resource(max_entries=2, show_spinner="Computing classifier features of the training images…")
def _feature_space(dataset: str, shape: tuple[int, ...], _images: torch.Tensor):
    """(feature function, training-set features) from the metrics classifier, or None without one."""
    try:
        from gan_core.metrics import load_classifier

        classifier = load_classifier(dataset)
    except (ImportError, ValueError):  # no metrics module, or a broken classifier folder
        return None
    if classifier is None or not classifier.accepts(_images[:1]):
        return None
    return classifier.features, classifier.features(_images)


# --- sections ----------------------------------------------------------------------------------------

def _randomise_seed(key: str) -> None:
    st.session_state[key] = random.randint(0, MAX_SEED)


def _reset_directions(method: str, k: int) -> None:
    for i in range(k):
        st.session_state[f"lat_alpha_{method}_{i}"] = 0.0


def _z_chart(z: torch.Tensor, shown: list[int], lo: float, hi: float) -> go.Figure:
    colours = ["#e67e22" if i in shown else "#7f8c8d" for i in range(len(z))]
    fig = go.Figure(go.Bar(x=list(range(len(z))), y=z.tolist(), marker_color=colours))
    fig.update_layout(height=220, margin=dict(l=10, r=10, t=30, b=10), title="z (orange: the slider dimensions)",
                      xaxis_title="dimension", yaxis_range=[lo * 1.2, hi * 1.2],
                      font=dict(size=14))
    return fig


def move_z(m: LatentModel) -> None:
    d = m.model_config.latent_dim
    lo, hi = _z_range(m.prior)
    st.markdown(f"G maps a noise vector **z** ∈ ℝ^{d}, drawn from the prior ({m.prior}), to an image. "
                "Change z and watch the image change: a smooth change means G learned a continuous map.")
    controls, picture = st.columns([3, 2], gap="large")
    with controls:
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        seed = int(c1.number_input("Seed (sets z)", 0, MAX_SEED, 0, key="lat_seed"))
        c2.button("Random", icon=":material/casino:", on_click=_randomise_seed, args=("lat_seed",), width="stretch",
                  key="lat_random")
        z = latent.sample_latents(1, d, seed, m.prior)[0]

        dims = st.multiselect("Dimensions of z to show as sliders", list(range(d)), default=list(range(min(4, d))),
                              key=f"lat_dims_{d}", max_selections=12)
        cols = st.columns(2)
        for j, i in enumerate(dims):
            default = float(np.clip(round(float(z[i]), 2), lo, hi))
            value = cols[j % 2].slider(f"z[{i}]", lo, hi, default, 0.05, key=f"lat_z_{m.prior}_{seed}_{i}")
            if value != default:  # untouched sliders keep z's exact value
                z[i] = value

        method = st.radio("Semantic directions", ["sefa", "ganspace"], horizontal=True, key="lat_dir_method",
                          format_func={"sefa": "SeFa (closed form, first layer)",
                                       "ganspace": "GANSpace (PCA of early activations)"}.get)
        directions, strengths = _directions(m.key, method, m.generator, m.prior)
        k = st.slider("Number of directions", 1, len(directions), min(5, len(directions)), key="lat_k")
        st.button("Reset the direction sliders", on_click=_reset_directions, args=(method, MAX_DIRECTIONS),
                  key="lat_reset_directions")
        cols = st.columns(2)
        offset = torch.zeros(d)
        for i in range(k):
            alpha = cols[i % 2].slider(f"Direction {i + 1}", -3.0, 3.0, 0.0, 0.1, key=f"lat_alpha_{method}_{i}")
            offset += alpha * directions[i]
    z_now = z + offset
    st.session_state["lat_current_z"] = (m.key, z_now.tolist())
    with picture:
        image = latent.render(m.generator, z_now)
        _show(_grid(image, 1, target_px=320), caption=f"G(z), ‖z‖ = {float(z_now.norm()):.2f}")
        st.plotly_chart(_z_chart(z_now, dims, lo, hi), width="stretch")

    st.subheader("What each direction does")
    if method == "sefa":
        st.markdown("**SeFa** (Shen & Zhou 2021): G's first layer is linear in z, x₁ = A z. The unit vectors "
                    "that change x₁ the most are the top eigenvectors of AᵀA, found in closed form from the "
                    "weights alone: no sampling, no labels.")
    else:
        st.markdown("**GANSpace** (Härkönen et al. 2020): sample 2000 z, take the principal components of "
                    "G's first-layer activations, then regress them back to directions in z.")
    st.caption("Each row moves the current z along one direction from -3 (left) to +3 (right); the middle "
               "image is the current one. Directions with larger eigenvalues (variance) come first.")
    steps = 7
    strips = latent.render(m.generator, torch.cat([latent.direction_latents(z_now, directions[i], steps, 3.0)
                                                    for i in range(k)]))
    label = "eigenvalue" if method == "sefa" else "variance"
    for i in range(k):
        _show(_grid(strips[i * steps:(i + 1) * steps], steps, target_px=96),
              caption=f"Direction {i + 1} ({label} {float(strengths[i]):.3g})")

    st.subheader("A plane through z")
    st.caption("A grid over two directions: left to right moves along the first, top to bottom along the second.")
    c1, c2, c3, c4 = st.columns(4)
    names = [f"Direction {i + 1}" for i in range(len(directions))]
    i1 = c1.selectbox("Across", range(len(directions)), 0, format_func=names.__getitem__, key="lat_plane_d1")
    i2 = c2.selectbox("Down", range(len(directions)), 1, format_func=names.__getitem__, key="lat_plane_d2")
    n = c3.slider("Images per side", 3, 11, 7, 2, key="lat_plane_n")
    span = c4.slider("Span ±", 0.5, 6.0, 3.0, 0.5, key="lat_plane_span")
    if i1 == i2:
        st.warning("Pick two different directions for the plane.")
    else:
        plane = latent.plane_grid(m.generator, z_now, directions[i1], directions[i2], n, span)
        _show(_grid(plane, n, target_px=max(48, 640 // n)))


def _norm_chart(paths: dict[str, torch.Tensor], d: int, prior: str) -> go.Figure:
    fig = go.Figure()
    styles = {"lerp": dict(color="#8e44ad", dash="dash"), "slerp": dict(color="#e67e22", dash="solid")}
    for name, path in paths.items():
        norms = latent.path_norms(path)
        fig.add_scatter(x=np.linspace(0, 1, len(norms)), y=norms.tolist(), mode="lines+markers", name=name,
                        line=dict(width=3, **styles[name]))
    if prior == "normal":
        fig.add_hline(y=d ** 0.5, line=dict(color="black", dash="dot"), annotation_text=f"√d = {d ** 0.5:.1f}")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=40, b=10), title="‖z‖ along the path",
                      xaxis_title="position t along the path", yaxis_title="‖z‖", font=dict(size=14))
    return fig


def _endpoints(m: LatentModel) -> tuple[torch.Tensor, torch.Tensor]:
    d = m.model_config.latent_dim
    mode = st.radio("Endpoints", ["seeds", "grid"], horizontal=True, key="lat_interp_mode",
                    format_func={"seeds": "Two seeds", "grid": "Pick two images from a random grid"}.get)
    if mode == "seeds":
        c1, c2 = st.columns(2)
        s0 = int(c1.number_input("Start seed", 0, MAX_SEED, 1, key="lat_interp_s0"))
        s1 = int(c2.number_input("End seed", 0, MAX_SEED, 2, key="lat_interp_s1"))
        return latent.sample_latents(1, d, s0, m.prior)[0], latent.sample_latents(1, d, s1, m.prior)[0]
    grid_seed = int(st.number_input("Grid seed", 0, MAX_SEED, 3, key="lat_interp_grid_seed"))
    z = latent.sample_latents(16, d, grid_seed, m.prior)
    _show_numbered(latent.render(m.generator, z))
    c1, c2 = st.columns(2)
    a = c1.selectbox("Start image", range(16), 0, format_func=lambda i: f"#{i + 1}", key="lat_interp_a")
    b = c2.selectbox("End image", range(16), 1, format_func=lambda i: f"#{i + 1}", key="lat_interp_b")
    return z[a], z[b]


def interpolation(m: LatentModel) -> None:
    d = m.model_config.latent_dim
    st.markdown("Walk from one z to another. **lerp** takes the straight line; **slerp** (White 2016) follows "
                f"the great circle. For z ~ N(0, I) in {d} dimensions almost all samples lie near the sphere "
                f"‖z‖ ≈ √{d} ≈ {d ** 0.5:.1f}: the straight line cuts through the inside, where G never saw "
                "training noise, so mid-path images can look faded. slerp stays on the shell.")
    z0, z1 = _endpoints(m)
    steps = st.slider("Steps", 3, 32, 10, key="lat_interp_steps")
    paths = {name: latent.interpolation(z0, z1, steps, name) for name in ("lerp", "slerp")}
    images = latent.render(m.generator, torch.cat(list(paths.values())))
    strips = {"lerp": images[:steps], "slerp": images[steps:]}
    for name, title in (("lerp", "Linear (lerp)"), ("slerp", "Spherical (slerp)")):
        _show(_grid(strips[name], steps, target_px=max(40, 960 // steps)), caption=title)
    st.plotly_chart(_norm_chart(paths, d, m.prior), width="stretch")

    c1, c2, c3 = st.columns(3)
    which = c1.radio("Export", ["slerp", "lerp"], horizontal=True, key="lat_export_method")
    ms = c2.slider("Frame time (ms)", 40, 500, 120, 20, key="lat_gif_ms")
    frames = _tiles(strips[which], target_px=224)
    c3.download_button("⬇ Animated GIF", gif_bytes(frames + frames[-2:0:-1], ms), f"interpolation-{which}.gif",
                       "image/gif", key="lat_dl_interp_gif")
    c3.download_button("⬇ PNG strip", png_bytes(_grid(strips[which], steps, target_px=112)),
                       f"interpolation-{which}.png", "image/png", key="lat_dl_interp_png")

    st.subheader("Walking in the latent space")
    st.markdown("Radford et al. (2016) walk through several random points: if the images change smoothly, with "
                "no sharp jumps, G has learned a smooth map rather than memorising training images.")
    c1, c2, c3, c4 = st.columns(4)
    n_points = c1.slider("Points", 2, 8, 4, key="lat_walk_points")
    per_leg = c2.slider("Frames between points", 2, 16, 8, key="lat_walk_steps")
    walk_seed = int(c3.number_input("Walk seed", 0, MAX_SEED, 5, key="lat_walk_seed"))
    walk_method = c4.radio("Path", ["slerp", "lerp"], horizontal=True, key="lat_walk_method")
    path = latent.random_walk(d, n_points, per_leg, walk_seed, walk_method, m.prior, closed=True)
    walk = latent.render(m.generator, path)
    walk_gif = gif_bytes(_tiles(walk, target_px=224), 100)
    c1, c2 = st.columns([1, 3])
    with c1:
        st.image(walk_gif, caption="The walk, looping")
        st.download_button("⬇ Walk as GIF", walk_gif, "latent-walk.gif", "image/gif", key="lat_dl_walk_gif")
    with c2:
        _show(_grid(walk, per_leg, target_px=64), caption=f"All {len(walk)} frames, one row per leg")


def arithmetic(m: LatentModel) -> None:
    d = m.model_config.latent_dim
    st.markdown("Radford et al. (2016, Figure 7): average the z of a few exemplars of each concept, then compute "
                "**mean(A) − mean(B) + mean(C)**. With digits, try A = thick 7s, B = thick 1s, C = thin 1s → "
                "thin 7s. Averaging several exemplars makes the result much more stable than single images.")
    n = 24
    grid_seed = int(st.number_input("Grid seed", 0, MAX_SEED, 11, key="lat_arith_seed"))
    z = latent.sample_latents(n, d, grid_seed, m.prior)
    _show_numbered(latent.render(m.generator, z))
    c1, c2, c3, c4 = st.columns(4)
    label = lambda i: f"#{i + 1}"  # noqa: E731
    groups = [col.multiselect(f"Group {g}", range(n), default, format_func=label, key=f"lat_arith_{g}")
              for col, g, default in ((c1, "A", [0, 1, 2]), (c2, "B", [3, 4, 5]), (c3, "C", [6, 7, 8]))]
    noise = c4.slider("Neighbour noise ±", 0.0, 1.0, 0.25, 0.05, key="lat_arith_noise")
    missing = [g for g, chosen in zip("ABC", groups) if not chosen]
    if missing:
        st.info(f"Pick at least one image for group {', '.join(missing)}.")
        return
    result = latent.vector_arithmetic(*(z[list(chosen)] for chosen in groups), n_neighbours=8,
                                      noise_scale=noise, seed=grid_seed)
    means = latent.render(m.generator, torch.stack([result.mean_a, result.mean_b, result.mean_c, result.result]))
    st.image(_tiles(means, target_px=140), caption=["mean(A)", "− mean(B)", "+ mean(C)", "= result"],
             output_format="PNG")
    around = latent.render(m.generator, torch.cat([result.neighbours[:4], result.result[None], result.neighbours[4:]]))
    _show(_grid(around, 3, target_px=112), caption="The result (centre) and 8 neighbours: result + uniform noise")


def memorisation(m: LatentModel) -> None:
    st.markdown("Does G just copy its training set? For generated images, show the **nearest training images** "
                "(Goodfellow et al. 2014, Figure 2). Near-copies would mean memorisation; similar-but-different "
                "images mean G generalises.")
    size, channels = m.model_config.image_size, m.model_config.channels
    train = m.training_images
    if train is None and m.dataset:
        from gan_core.data import dataset_names

        if m.dataset not in dataset_names():  # never read a path named by a (possibly uploaded) checkpoint
            st.info(f"The training images ({m.dataset}) are not a built-in dataset, so this check is off.")
            return
        try:
            train = _training_images(m.dataset, size, channels)
        except Exception as exc:  # a custom dataset from another machine, an absent download, ...
            st.info(f"The training images ({m.dataset}) are not available here ({exc}), so this check is off.")
            return
    if train is None:
        st.info("This checkpoint does not say which dataset it was trained on, so this check is off.")
        return
    c1, c2, c3 = st.columns(3)
    source = c1.radio("Generated images", ["grid", "current"], horizontal=True, key="lat_mem_source",
                      format_func={"grid": "Random samples", "current": "The image from “Move z”"}.get)
    seed = int(c2.number_input("Sample seed", 0, MAX_SEED, 0, key="lat_mem_seed", disabled=source == "current"))
    k = c3.slider("Neighbours", 1, 10, 6, key="lat_mem_k")
    current = st.session_state.get("lat_current_z")
    if source == "current" and current and current[0] == m.key:
        z = torch.tensor([current[1]])
    else:
        if source == "current":
            st.caption("No image from “Move z” for this generator yet; showing random samples.")
        z = latent.sample_latents(4, m.model_config.latent_dim, seed, m.prior)
    fakes = latent.render(m.generator, z)
    spaces = {"pixel distance (L2)": latent.nearest_neighbours(fakes, train, k)}
    feature_space = _feature_space(m.dataset, tuple(train.shape), train) if m.dataset else None
    if feature_space is not None:
        features, bank = feature_space
        spaces["classifier-feature distance"] = latent.nearest_neighbours(fakes, train, k, features, bank)
    else:
        st.caption("Feature distance needs the metrics classifier for this dataset; showing pixel distance only.")
    for name, found in spaces.items():
        st.markdown(f"**Nearest by {name}** — generated image first, then its {k} nearest training images")
        for q in range(len(fakes)):
            row = torch.cat([fakes[q:q + 1], train[found.indices[q]]])
            captions = ["generated"] + [f"{float(v):.2f}" for v in found.distances[q]]
            st.image(_tiles(row, target_px=84), caption=captions, output_format="PNG")


# --- page ---------------------------------------------------------------------------------------------

st.title("Explore the latent space")
st.caption("A trained generator G turns a noise vector z into an image. This page moves z around and shows "
           "what G does with it. It opens on a generator trained in advance, so no training is needed.")
model = choose_model()
if model is None:
    st.stop()
mc = model.model_config
st.caption(f"{model.label}: preset {mc.preset}, {mc.image_size}x{mc.image_size} "
           f"{'grayscale' if mc.channels == 1 else 'colour'} images, z ∈ ℝ^{mc.latent_dim} ({model.prior} prior), "
           f"{model.step} training steps" + (f" on {model.dataset}" if model.dataset else "") + ".")

section = st.radio("Show", SECTIONS, horizontal=True, key="lat_section", label_visibility="collapsed")
{"Move z": move_z, "Interpolation": interpolation, "Vector arithmetic": arithmetic,
 "Memorisation check": memorisation}[section](model)
