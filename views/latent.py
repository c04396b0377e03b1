"""Explore the latent space of a trained generator: move z, semantic directions (SeFa, GANSpace),
interpolation (lerp vs slerp) and walks, vector arithmetic, and a memorisation check.

A thin view over ``gan_core.latent``: all the maths is there. This file holds the page (the model,
the section, the link); each section is a module (``views/_latent_move.py``, ``_latent_interp.py``,
``_latent_arith.py``, ``_latent_memory.py``) with its ``show(model)``, the session-state keys (``lat_``)
it owns with their first values (``DEFAULTS``), and its link parameters (``PARAMS``). Every choice is
kept while its section is closed or another page is open, and a link opens the same view.
"""

from __future__ import annotations

import streamlit as st

from views import _latent_arith, _latent_interp, _latent_memory, _latent_move
from views._i18n import error_text, t, user_text
from views._latent_models import SOURCE_KEY, choose_model, shipped_ids
from views._settings import PERSIST
from views._urlstate import Param, link_box, mirror, restore

# The sections, in the order the page offers them.
SECTIONS = {"move": _latent_move, "interpolation": _latent_interp, "arithmetic": _latent_arith,
            "memorisation": _latent_memory}
SECTION_KEY = "lat_section"
# Widgets are created with key= only (their first value comes from DEFAULTS through session state),
# which avoids Streamlit's "default value but also set via the Session State API" warning, and with
# persist_state=PERSIST, so a choice survives a trip to another section or page (Streamlit otherwise
# forgets the value of a widget that a run does not draw).
DEFAULTS = {SECTION_KEY: "move", **{k: v for section in SECTIONS.values() for k, v in section.DEFAULTS.items()}}
PAGE_PARAMS = [
    Param("gen", SOURCE_KEY, "choice", choices=shipped_ids()),  # shipped generators only: never a file
    Param("section", SECTION_KEY, "choice", choices=list(SECTIONS)),
]
URL_PARAMS = [*PAGE_PARAMS, *(p for section in SECTIONS.values() for p in section.PARAMS)]
# The URL names only what the open section shows (a link to "Interpolation" carries no slider of "Move z").
SECTION_PARAMS = {name: {p.name for p in (*PAGE_PARAMS, *section.PARAMS)} for name, section in SECTIONS.items()}


def _first_values() -> None:
    """Give every choice its first value, once per session (widgets keep theirs with persist_state)."""
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)


def _mirror_section(section: str, model_is_shipped: bool) -> None:
    """Write this section's settings into the URL and drop the others' (never an uploaded file; a
    direction only while its slider is shown and moved)."""
    shown = SECTION_PARAMS[section] - _latent_move.unshown_directions()
    if not model_is_shipped:
        shown = shown - {"gen"}
    for p in URL_PARAMS:
        if p.name not in shown and p.name in st.query_params:
            del st.query_params[p.name]
    mirror([p for p in URL_PARAMS if p.name in shown])


# --- page ---------------------------------------------------------------------------------------------

restore(URL_PARAMS, "latent")
_first_values()
st.title(t("latent.title"))
pick, show = st.columns([2, 3], vertical_alignment="bottom")
model = choose_model(pick)
section = show.radio(t("latent.section.label"), list(SECTIONS), horizontal=True, key=SECTION_KEY,
                     persist_state=PERSIST, format_func=lambda v: t(f"latent.section.{v}"))
with st.sidebar:
    link_box()
if model is not None:
    try:
        SECTIONS[section].show(model)
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
