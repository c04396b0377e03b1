"""The training page's look inside the model: G's and D's layer tables, and the code of the D and G
steps that run (for the tf-tutorial preset, beside the lecture's Keras code, line by line)."""

from __future__ import annotations

import inspect
import textwrap

import streamlit as st

from gan_core import lecture_tf_dcgan as lecture
from gan_core.algorithm1 import Algorithm1
from gan_core.models import ModelConfig, build_models, count_parameters, describe, get_preset
from views import _train_charts as charts
from views._i18n import error_text, t
from views._session_keys import TRAIN_RUN
from views._train_settings import guidelines, maybe

@st.cache_data(show_spinner=False, max_entries=32)
def _layer_tables(mc: ModelConfig) -> tuple[list[dict], list[dict], int, int]:
    g, d = build_models(mc)
    return (describe(g, (mc.latent_dim,)), describe(d, (mc.channels, mc.image_size, mc.image_size)),
            count_parameters(g), count_parameters(d))


def _table(rows: list[dict]) -> list[dict]:
    return [{t("train.model.col_layer"): r["layer"], t("train.model.col_shape"): charts.shape_text(r["output_shape"]),
             t("train.model.col_params"): r["params"]} for r in rows]


def model_tables(mc: ModelConfig) -> None:
    try:
        g_rows, d_rows, g_total, d_total = _layer_tables(mc)
    except ValueError as exc:
        st.error(t("train.model.cannot_build", reason=error_text(exc)))
        return
    p = get_preset(mc.preset)
    with st.expander(t("train.model.title", preset=mc.preset, g=f"{g_total:,}", d=f"{d_total:,}"),
                     expanded=st.session_state.get(TRAIN_RUN) is None):
        st.caption(t("train.model.source", description=maybe(f"train.preset_desc.{mc.preset}", p.description),
                     source=p.source))
        if mc.ablations:  # a DCGAN guideline broken on purpose (train --ablate): say which, in words
            st.warning(t("train.model.ablated", guidelines=guidelines(mc.ablations)))
        left, right = st.columns(2)
        left.markdown(t("train.model.generator", latent=mc.latent_dim, n=f"{g_total:,}"))
        left.dataframe(_table(g_rows), hide_index=True, width="stretch")
        right.markdown(t("train.model.discriminator", n=f"{d_total:,}"))
        right.dataframe(_table(d_rows), hide_index=True, width="stretch")


@st.cache_data(show_spinner=False, max_entries=4)
def _lecture_layer_rows(mc: ModelConfig) -> tuple[list[dict], list[dict]]:
    """Each Keras line beside the PyTorch modules it became, printed from a freshly built model."""
    g, d = build_models(mc)
    rows = lambda pairs, net: [{"Keras": keras, "PyTorch": "\n".join(repr(net[i]) for i in idx)}  # noqa: E731
                               for keras, idx in pairs]
    return rows(lecture.GENERATOR_LAYERS, g.net), rows(lecture.DISCRIMINATOR_LAYERS, d.net)


def lecture_code(mc: ModelConfig) -> None:
    """The real PyTorch D and G steps that run; for tf-tutorial, the lecture's Keras code beside them."""
    with st.expander(t("train.code.title"), icon=":material/code:"):
        st.caption(t("train.code.caption"))
        torch_col, keras_col = st.columns(2) if mc.preset == "tf-tutorial" else (st.container(), None)
        with torch_col:
            st.markdown(t("train.code.torch"))
            for method in (Algorithm1.d_step, Algorithm1.g_step):
                st.code(textwrap.dedent(inspect.getsource(method)), language="python")
        if keras_col is None:
            st.caption(t("train.code.tf_only"))
            return
        with keras_col:
            st.markdown(t("train.code.keras"))
            st.code(lecture.KERAS_SOURCE, language="python")
        st.markdown(t("train.code.map_steps"))
        st.caption(t("train.code.map_steps_caption"))
        st.dataframe([{t("train.code.col_keras"): keras, t("train.code.col_method"): f"Algorithm1.{method}",
                       t("train.code.col_torch"): torch_line}
                      for keras, method, torch_line in lecture.TRAIN_STEP_LINES], hide_index=True, width="stretch")
        g_rows, d_rows = _lecture_layer_rows(mc)
        header = {"Keras": t("train.code.col_keras"), "PyTorch": t("train.code.col_module")}
        relabel = lambda rows: [{header[k]: v for k, v in r.items()} for r in rows]  # noqa: E731
        st.markdown(t("train.code.map_g"))
        st.dataframe(relabel(g_rows), hide_index=True, width="stretch")
        st.markdown(t("train.code.map_d"))
        st.dataframe(relabel(d_rows), hide_index=True, width="stretch")

