"""GAN Classroom: ``streamlit run app.py``. The home page and the navigation between pages."""

import streamlit as st

st.set_page_config(page_title="GAN Classroom", page_icon="🎓", layout="wide")


def home() -> None:
    st.title("GAN Classroom")
    st.markdown(
        "See how a **Generative Adversarial Network** learns. A generator G turns random noise z into "
        "samples; a discriminator D tries to tell them from real data. They play the minimax game\n\n"
        "$$\\min_G \\max_D V(D, G) = \\mathbb{E}_{x \\sim p_{data}}[\\log D(x)] + "
        "\\mathbb{E}_{z \\sim p_z}[\\log(1 - D(G(z)))]$$\n\n"
        "(Goodfellow et al. 2014). Each page shows one part of the story:")
    for page in PAGES[1:]:
        st.page_link(page, label=page.title, icon=page.icon)


PAGES = [
    st.Page(home, title="Home", icon="🏠", default=True),
]

st.navigation(PAGES).run()
