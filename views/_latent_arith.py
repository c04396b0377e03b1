"""The latent explorer's "Vector arithmetic" section: mean z of groups A - B + C (groups measured for a
concept on G's own samples, or picked by hand from a numbered grid), its image and its neighbours."""

from __future__ import annotations

import streamlit as st
import torch

from gan_core import latent
from gan_core.settings import SEED
from views import _latent_pictures as pictures
from views._i18n import t
from views._latent_models import LatentModel, metrics_classifier
from views._notes import teaching_notes
from views._settings import PERSIST
from views._urlstate import Param

CONCEPTS = [*latent.IMAGE_STATISTICS, "custom"]  # measured concepts for vector arithmetic, or your own picks
ARITH_GRID = 24  # images to pick your own groups from
CONCEPT_POOL = 256  # samples measured to pick the concept groups
# Session-state keys this section owns besides its widgets' (``lat_arith_A`` .. ``_C``: the picked groups):
# the model and seed whose grid the picked groups belong to.
ORIGIN = "lat_arith_origin"

DEFAULTS = {"lat_arith_concept": "thickness", "lat_arith_seed": 4, "lat_arith_noise": 0.25}
PARAMS = [
    Param("concept", "lat_arith_concept", "choice", choices=CONCEPTS),
    Param("pool", "lat_arith_seed", "int", 0, SEED.high),
]


@st.cache_resource(max_entries=16, show_spinner=False)
def _concept_groups(model_key: str, concept: str, seed: int, _m: LatentModel) -> dict:
    """Groups A, B, C for one concept, measured on CONCEPT_POOL samples of G (cached per model and seed)."""
    z = latent.sample_latents(CONCEPT_POOL, _m.model_config.latent_dim, seed, _m.prior)
    images = latent.render(_m.generator, z)
    values = latent.IMAGE_STATISTICS[concept](images)
    classifier = metrics_classifier(_m.dataset, images)
    labels = latent.confident_labels(classifier.probs(images)) if classifier is not None else None
    groups = latent.concept_groups(values, labels)
    names = classifier.class_names if classifier is not None else []
    class_c = groups.class_c
    return {"z": z, "images": images, "values": values, "groups": groups,
            "class_c": names[class_c] if class_c is not None and class_c < len(names) else class_c}


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
        pictures.show(pictures.grid(images[group[:shown]], shown, times=0.5),
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
    pictures.show_numbered(images, times=0.6)
    if st.session_state.get(ORIGIN) != (m.key, seed):  # a new grid: start from its measured groups
        start = latent.concept_groups(latent.stroke_width(images), per_group=3)
        for g, chosen in zip("ABC", (start.a, start.b, start.c)):
            st.session_state[f"lat_arith_{g}"] = chosen
        st.session_state[ORIGIN] = (m.key, seed)
    options = list(range(ARITH_GRID))
    cols = st.columns(3)
    groups = []
    for col, g in zip(cols, "ABC"):
        st.session_state[f"lat_arith_{g}"] = [i for i in st.session_state[f"lat_arith_{g}"] if i in options]
        groups.append(col.multiselect(t("latent.arith.group", name=g), options, format_func=pictures.number,
                                      key=f"lat_arith_{g}", persist_state=PERSIST))
    missing = [g for g, chosen in zip("ABC", groups) if not chosen]
    if missing:
        st.info(t("latent.arith.pick", groups=", ".join(missing)))
        return None
    return z, groups


def show(m: LatentModel) -> None:
    """The "Vector arithmetic" section for generator ``m``."""
    controls, figures = st.columns([2, 3], gap="large")
    with controls:
        concept = st.radio(t("latent.arith.concept"), CONCEPTS, key="lat_arith_concept", persist_state=PERSIST,
                           format_func=lambda v: t(f"latent.concept.{v}"))
        c1, c2 = st.columns(2)
        seed = int(c1.number_input(t("latent.arith.seed"), 0, SEED.high, key="lat_arith_seed", persist_state=PERSIST))
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
        st.image(pictures.tiles(means), caption=[t("latent.arith.mean_a"), t("latent.arith.minus_b"),
                                         t("latent.arith.plus_c"), t("latent.arith.result")], output_format="PNG")
        if concept != "custom":
            measure = latent.IMAGE_STATISTICS[concept](means)
            fmt = _value_format(concept)
            st.caption(t(f"latent.arith.measured_{concept}", c=fmt(float(measure[2])), result=fmt(float(measure[3]))))
            _show_concept_groups(found, concept)
        around = latent.render(m.generator, torch.cat([result.neighbours[:4], result.result[None],
                                                       result.neighbours[4:]]))
        pictures.show(pictures.grid(around, 3), caption=t("latent.arith.neighbours"))
