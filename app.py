"""GAN Classroom: ``streamlit run app.py``. Page setup, the sidebar's language and projector switches,
and the navigation between pages."""

import streamlit as st

import gan_core  # noqa: F401  (first: sets the OpenMP spin policy before torch loads)
import views._preload  # noqa: F401  (shared libraries whole before any page runs; see its docstring)
from gan_core.paths import ASSETS_DIR

# A local icon: a ":material/...:" page icon makes the browser fetch a font from the internet,
# which fails in an offline lecture hall.
st.set_page_config(page_title="GAN Classroom", page_icon=str(ASSETS_DIR / "icon.png"), layout="wide")

from views._i18n import language_selector, t  # noqa: E402  (after set_page_config)
from views._theme import projector_toggle  # noqa: E402
from views._rescued import rescued_notice  # noqa: E402
from views._train_heartbeat import keep_training_run_alive  # noqa: E402
from views._urlstate import PAGE_PATH_KEY  # noqa: E402

language_selector()
projector_toggle()

PAGES = [
    st.Page("views/home.py", title=t("nav.home"), icon=":material/home:", default=True),
    st.Page("views/distributions.py", title=t("nav.distributions"), icon=":material/show_chart:"),
    st.Page("views/train.py", title=t("nav.train"), icon=":material/model_training:"),
    st.Page("views/latent.py", title=t("nav.latent"), icon=":material/explore:"),
    st.Page("views/modes.py", title=t("nav.modes"), icon=":material/scatter_plot:"),
]

keep_training_run_alive()  # a run keeps going while its user is on another page
page = st.navigation(PAGES)
st.session_state[PAGE_PATH_KEY] = page.url_path
if page.url_path != "train":  # the training page offers to continue it itself
    rescued_notice()  # a run of this browser kept when the app process it trained under died
page.run()
