"""Home: what a GAN is, a map of the pages by lecture topic, and what this machine offers."""

import streamlit as st

from views._i18n import t
from views._machine import machine_section
from views._notes import teaching_notes

PAGE_MAP = [  # (page file, catalog key, icon)
    ("views/distributions.py", "distributions", ":material/show_chart:"),
    ("views/train.py", "train", ":material/model_training:"),
    ("views/latent.py", "latent", ":material/explore:"),
    ("views/modes.py", "modes", ":material/scatter_plot:"),
]

st.title(t("home.title"))
st.markdown(t("home.intro"))

left, right = st.columns(2, gap="large")
with left:
    st.subheader(t("home.idea_title"))
    st.markdown(t("home.idea"))
with right:
    st.subheader(t("home.algo_title"))
    st.markdown(t("home.algo"))

st.subheader(t("home.value_title"))
# on three short lines, full width: whole at 150% browser zoom in projector mode
st.latex(r"\begin{aligned} &\min_G \max_D V(D, G), \\ &V(D, G) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] \\ "
         r"&\qquad\quad + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))] \end{aligned}")
st.markdown(t("home.value"))
st.info(t("home.colours"))

st.subheader(t("home.map_title"))
columns = st.columns(len(PAGE_MAP))
for column, (path, key, icon) in zip(columns, PAGE_MAP):
    with column, st.container(border=True):
        st.page_link(path, label=t(f"nav.{key}"), icon=icon)
        st.markdown(t(f"home.map.{key}.teaches"))
        st.caption(t(f"home.map.{key}.lecture"))

teaching_notes("home.notes")
machine_section()  # last: it loads torch
