"""The latent explorer's "Memorisation check" section: each generated image beside its nearest
training images, in pixels and (with the dataset's metrics classifier) in its features."""

from __future__ import annotations

import streamlit as st
import torch

from gan_core import latent
from gan_core.data.datasets import to_float_images
from gan_core.settings import SEED
from views import _latent_pictures as pictures
from views._i18n import t, user_text
from views._latent_models import LatentModel, metrics_classifier
from views._latent_move import CURRENT_Z
from views._notes import teaching_notes
from views._settings import PERSIST
from views._urlstate import Param

DEFAULTS = {"lat_mem_source": "grid", "lat_mem_seed": 0, "lat_mem_k": 6}
PARAMS = [Param("mem_seed", "lat_mem_seed", "int", 0, SEED.high)]


@st.cache_resource(max_entries=2, show_spinner=False)
def _training_images(dataset: str, image_size: int, channels: int) -> torch.Tensor:
    from gan_core.data.datasets import load_dataset

    return load_dataset(dataset, image_size=image_size, channels=channels).images


@st.cache_resource(max_entries=2, show_spinner=False)
def _feature_space(dataset: str, shape: tuple[int, ...], _images: torch.Tensor):
    """(feature function, training-set features) from the metrics classifier, or None without one."""
    classifier = metrics_classifier(dataset, _images)
    if classifier is None:
        return None
    return classifier.features, classifier.features(_images)


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


def show(m: LatentModel) -> None:
    """The "Memorisation check" section for generator ``m``."""
    st.markdown(t("latent.mem.intro"))
    teaching_notes("latent.mem")
    train = _memorisation_images(m)
    if train is None:
        return
    c1, c2, c3 = st.columns(3)
    source = c1.radio(t("latent.mem.source"), ["grid", "current"], horizontal=True, key="lat_mem_source",
                      persist_state=PERSIST,
                      format_func=lambda v: t(f"latent.mem.source_{v}"))
    seed = int(c2.number_input(t("latent.mem.seed"), 0, SEED.high, key="lat_mem_seed", persist_state=PERSIST,
                               disabled=source == "current"))
    k = c3.slider(t("latent.mem.k"), 1, 10, key="lat_mem_k", persist_state=PERSIST)
    current_z = st.session_state.get(CURRENT_Z)
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
            st.image(pictures.tiles(row, times=min(1.0, 6 / (k + 1))), caption=captions, output_format="PNG")
