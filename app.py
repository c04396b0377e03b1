"""GAN Classroom: ``streamlit run app.py``. The home page and the navigation between pages."""

import streamlit as st

st.set_page_config(page_title="GAN Classroom", page_icon="🎓", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/distributions.py", title="How a GAN matches distributions", icon="📈"),
    st.Page("pages/train.py", title="Train a DCGAN live", icon="🏋️"),
    st.Page("pages/latent.py", title="Explore the latent space", icon="🧭"),
]

st.navigation(PAGES).run()
