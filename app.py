"""GAN Classroom: ``streamlit run app.py``. The home page and the navigation between pages."""

import streamlit as st

import gan_core  # noqa: F401  (first: sets the OpenMP spin policy before torch loads)

st.set_page_config(page_title="GAN Classroom", page_icon=":material/school:", layout="wide")

PAGES = [
    st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("views/distributions.py", title="How a GAN matches distributions", icon=":material/show_chart:"),
    st.Page("views/train.py", title="Train a DCGAN live", icon=":material/model_training:"),
    st.Page("views/latent.py", title="Explore the latent space", icon=":material/explore:"),
]

from views._train_heartbeat import keep_training_run_alive  # noqa: E402  (needs set_page_config first)

keep_training_run_alive()  # a run keeps going while its user is on another page
st.navigation(PAGES).run()
