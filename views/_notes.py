"""The teaching box shown beside every figure: "what to notice" and "try this", written for students."""

from __future__ import annotations

import streamlit as st

from views._i18n import t


def teaching_notes(prefix: str) -> None:
    """Draw the catalog's ``<prefix>.notice`` and ``<prefix>.try`` messages in one bordered box."""
    with st.container(border=True):
        st.markdown(f"**{t('common.what_to_notice')}** · {t(prefix + '.notice')}")
        st.markdown(f"**{t('common.try_this')}** · {t(prefix + '.try')}")
