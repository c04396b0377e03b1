"""The home page's "This computer" section: the device training uses and the datasets ready offline.

It is the only part of the home page that needs torch (seconds to import on a fresh server), so the
page draws everything else first and this last, under a spinner.
"""

from __future__ import annotations

import streamlit as st

from views._i18n import t


def machine_section() -> None:
    st.subheader(t("home.machine_title"))
    with st.spinner(t("home.checking")):
        from gan_core.data.datasets import dataset_available, dataset_names
        from gan_core.device import select_device

        device = select_device("auto").type
        rows = [{t("home.ds_name"): name,
                 t("home.ds_offline"): "✅" if dataset_available(name) else "—",
                 t("home.ds_what"): t(f"home.ds.{name}")} for name in dataset_names()]
    st.markdown(t("home.device", device=device.upper()) + " " + t(f"home.device_note.{device}"))
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(t("home.ds_caption"))
