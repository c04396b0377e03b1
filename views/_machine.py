"""The home page's "This computer" section: the device training uses, the datasets ready offline, and
the space saved runs take (cleaning the runs folder when it is over its quota: ``gan_core.runs_quota``).

It is the only part of the home page that needs torch (seconds to import on a fresh server), so the
page draws everything else first and this last, under a spinner.
"""

from __future__ import annotations

import streamlit as st

from gan_core.paths import runs_root
from gan_core.runs_quota import clean, megabytes, quota_bytes
from views._i18n import t

RUNS_SPACE_SECONDS = 60  # the runs folder is walked (and cleaned) at most this often per app process


@st.cache_data(ttl=RUNS_SPACE_SECONDS, show_spinner=False)
def _runs_space(root: str, quota: int | None) -> tuple[int, bool]:
    """(bytes used, still over the quota) after cleaning ``root``; ``quota`` is part of the cache key."""
    cleaning = clean(root)
    return cleaning.usage.used, cleaning.still_over


def runs_space() -> None:
    """One line: the space saved runs use (of the quota, when set); a warning when nothing can be saved."""
    quota = quota_bytes()
    used, full = _runs_space(str(runs_root()), quota)
    if quota is None:
        st.caption(t("home.runs_used", used=megabytes(used)))
    else:
        st.caption(t("home.runs_quota", used=megabytes(used), quota=megabytes(quota)))
    if full:
        st.warning(t("home.runs_full"))


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
    runs_space()
