"""How a GAN matches distributions: the theory of Goodfellow et al. 2014 on the real line.

1. Analytic explorer: p_data, p_g, the optimal D*, V(D*, G) = -log 4 + 2 JSD, Figure 1 (a)-(d).
2. A real 1-D GAN trained step by step (Algorithm 1), live.
3. Why the non-saturating generator loss.
4. Expectations and the law of large numbers (Monte Carlo estimate of V).

A thin view over ``gan_core.toy.toy1d`` (maths) and ``gan_core.toy.toy1d_train`` (the 1-D GAN). This
file holds the page (the tabs, the link); each tab is a module (``views/_dist_explorer.py``,
``_dist_train.py``, ``_dist_saturation.py``, ``_dist_expectation.py``) with its ``show()`` and the
session-state keys it owns. Every text comes from the catalogs (``[dist]``), every setting is
mirrored in the URL, and every tab ends with a teaching box.
"""

from __future__ import annotations

import streamlit as st

from views import _dist_expectation, _dist_explorer, _dist_saturation, _dist_train
from views._i18n import t
from views._urlstate import Param, link_box, mirror, restore

# The tabs, by stable id (also what the URL holds; the catalogs give their labels), in order.
SECTIONS = {"explorer": _dist_explorer, "train": _dist_train, "saturation": _dist_saturation,
            "expectation": _dist_expectation}
TAB_IDS = list(SECTIONS)
TAB_KEY = "dist_tab_id"
DEFAULTS = {TAB_KEY: "explorer", **_dist_explorer.DEFAULTS, **_dist_train.DEFAULTS, **_dist_expectation.DEFAULTS}
URL_PARAMS = [Param("tab", TAB_KEY, "choice", choices=TAB_IDS), *_dist_explorer.PARAMS, *_dist_train.PARAMS,
              *_dist_expectation.PARAMS]


def _first_values() -> None:
    """Set every widget's first value, once per session.

    Only the open tab runs (lazy tabs: a closed tab costs nothing, and Play's browser updates
    stay cheap); the widgets keep their values while their tab is closed, or another page is shown,
    with ``persist_state`` (``views._settings.PERSIST``). They take their first values from here, not
    from a ``value=`` argument, so the two never disagree.
    """
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)


# --- page --------------------------------------------------------------------------------------------

def _remember_tab() -> None:
    """Tab callback: keep the open tab as a stable id (the labels change with the language)."""
    labels = st.session_state.get("dist_tab_labels", [])
    if st.session_state.get("dist_tab") in labels:
        st.session_state.dist_tab_id = TAB_IDS[labels.index(st.session_state.dist_tab)]


restore(URL_PARAMS, "distributions")
_first_values()
st.title(t("dist.title"))
# Lazy tabs: only the open tab runs. A closed tab then costs nothing on a rerun (Pause reruns the
# page), and the browser does not re-check the hidden tabs' contents on every Play frame.
tab_labels = [t(f"dist.tabs.{tab}") for tab in TAB_IDS]
st.session_state.dist_tab_labels = tab_labels
st.session_state.dist_tab = tab_labels[TAB_IDS.index(st.session_state.dist_tab_id)]
tabs = st.tabs(tab_labels, key="dist_tab", on_change=_remember_tab)
for tab, section in zip(tabs, SECTIONS.values()):
    with tab:
        if tab.open:
            section.show()
mirror(URL_PARAMS)
with st.sidebar:
    link_box()
