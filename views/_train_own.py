"""The training page's own images (issue 28): a .zip upload or a folder on the server -> what it holds
(``gan_core.data.summary``) -> the preset, image size and colour that fit, applied at once and again
with one click -> the images as the model will see them.

A folder is one of the real sub-folders of ``$GAN_IMAGE_FOLDERS`` (``gan_core.paths.image_folder``:
no path typed by a user, no link out), read with the same checks as a zip. Names from the student's
files (file, folder and class names) are shown as text, never as Markdown.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from gan_core.data.datasets import ImageDataset, load_image_folder, load_image_zip
from gan_core.data.summary import DatasetSummary, Proposal, propose, summarise_images
from gan_core.device import available_devices
from gan_core.images import make_grid, upscale
from gan_core.paths import image_folder, image_folders, image_folders_root
from views._cancellable import run_cancellable
from views._i18n import current_language, error_text, t, user_text
from views._session_keys import TRAIN_RUN
from views._settings import PERSIST
from views._theme import upscale_factor
from views._train_settings import (CHANNELS, DEVICE, OWN_IMAGES, PRESET, SIZE, UPLOAD_ERRORS, Settings, default, per,
                                   upload_reason)

# Session-state keys this module owns. SUMMARY: (source id, DatasetSummary, Proposal) of the chosen
# images; UPLOADED: ((source id, size, channels), ImageDataset); PROPOSED: a Proposal to put into the
# sidebar's widgets on the next run, before they exist (Streamlit refuses a change after).
SOURCE, OWN_ZIP, FOLDER, APPLY = "train_own_source", "train_zip", "train_own_folder", "train_own_apply"
SUMMARY, UPLOADED, PROPOSED = "train_own_summary", "train_uploaded_dataset", "train_own_proposed"


def _use(proposal: Proposal) -> None:
    """Set the preset, image size and colour widgets (a callback, or before the sidebar is drawn)."""
    st.session_state[PRESET] = proposal.preset
    st.session_state[per(SIZE, proposal.preset)] = proposal.image_size
    st.session_state[per(CHANNELS, OWN_IMAGES)] = proposal.channels


def apply_proposal() -> None:
    """Call before the sidebar: a proposal made for new images on the last run goes into its widgets."""
    proposal = st.session_state.pop(PROPOSED, None)
    if proposal is not None:
        _use(proposal)


def _chosen_source(locked: bool) -> tuple[str, object, str] | None:
    """(source id, what to read, name to show) of the student's images, or None before any is chosen."""
    root = image_folders_root()
    kind = "zip"
    if root is not None:
        default(SOURCE, "zip")
        kind = st.sidebar.radio(t("train.own.source"), ("zip", "folder"), key=SOURCE, horizontal=True,
                                format_func=lambda k: t(f"train.own.source_{k}"), disabled=locked,
                                persist_state=PERSIST)
    if kind == "folder":
        names = image_folders(root)
        if not names:
            st.sidebar.caption(t("train.own.no_folders"))
            return None
        name = st.sidebar.selectbox(t("train.own.folder"), names, key=FOLDER, disabled=locked, persist_state=PERSIST)
        folder = image_folder(root, name)
        return None if folder is None else (f"folder:{name}", folder, name)
    upload = st.sidebar.file_uploader(t("train.own.upload"), type=["zip"], key=OWN_ZIP, disabled=locked)
    return None if upload is None else (f"zip:{upload.file_id}", upload, upload.name)


def _summary(source_id: str, source: object, shown: str) -> tuple[DatasetSummary, Proposal] | None:
    """The chosen images' summary and proposal (read once per source), or None after an error."""
    cached = st.session_state.get(SUMMARY)
    if cached is not None and cached[0] == source_id:
        return cached[1], cached[2]
    readable, name = (source, shown) if isinstance(source, Path) else (source.getvalue(), Path(shown).stem)
    try:
        summary = run_cancellable(lambda **kw: summarise_images(readable, name=name, **kw),
                                  t("train.own.reading", name=user_text(shown)))
    except UPLOAD_ERRORS as exc:
        st.session_state.pop(SUMMARY, None)
        st.error(t("train.own.cannot_use", name=user_text(shown), reason=upload_reason(exc)))
        return None
    device = st.session_state.get(DEVICE, "auto")
    accelerated = (available_devices()[0] if device == "auto" else device) in ("cuda", "mps")
    proposal = propose(summary, accelerated=accelerated)
    st.session_state[SUMMARY] = (source_id, summary, proposal)
    return summary, proposal


def _show_summary(summary: DatasetSummary) -> None:
    size = "{}x{}".format
    st.markdown(t("train.own.summary", n=f"{summary.images:,}", smallest=size(*summary.smallest),
                  median=size(*summary.median), largest=size(*summary.largest),
                  colour=t("train.own.colour_images" if summary.colour else "train.own.grey_images")))
    if summary.class_names:  # the student's folder names: text, not Markdown
        st.text(t("train.own.classes", n=len(summary.class_names),
                  classes=", ".join(f"{name} ({count:,})" for name, count in
                                    zip(summary.class_names, summary.class_counts))))
    else:
        st.caption(t("train.own.unlabelled"))
    for note in summary.notes:
        st.caption(note.localized(current_language()))


def _show_proposal(proposal: Proposal, settings: Settings, locked: bool) -> None:
    m = settings.model
    applied = (m.preset, m.image_size, m.channels) == (proposal.preset, proposal.image_size, proposal.channels)
    st.info(t("train.own.proposal", preset=proposal.preset, size=proposal.image_size,
              colour=t(f"train.colour.{proposal.channels}")) + "\n\n" + proposal.reason(current_language()))
    if applied:
        st.caption(t("train.own.applied"))
    else:
        st.button(t("train.own.apply"), key=APPLY, on_click=_use, args=(proposal,), disabled=locked,
                  icon=":material/tune:")


def _dataset(source_id: str, source: object, shown: str, settings: Settings) -> ImageDataset | None:
    """The images decoded at the sidebar's size and colour (once per source and setting)."""
    m = settings.model
    cache_key = (source_id, m.image_size, m.channels)
    cached = st.session_state.get(UPLOADED)
    if cached is not None and cached[0] == cache_key:
        return cached[1]
    try:
        if isinstance(source, Path):
            dataset = run_cancellable(lambda **kw: load_image_folder(source, m.image_size, m.channels, **kw),
                                      t("train.own.reading", name=user_text(shown)))
        else:
            data = source.getvalue()
            dataset = run_cancellable(
                lambda **kw: load_image_zip(data, m.image_size, m.channels, name=Path(shown).stem, **kw),
                t("train.own.reading", name=user_text(shown)))
    except UPLOAD_ERRORS as exc:
        st.session_state.pop(UPLOADED, None)
        st.error(t("train.own.cannot_use", name=user_text(shown), reason=upload_reason(exc)))
        return None
    st.session_state[UPLOADED] = (cache_key, dataset)
    return dataset


def own_images(settings: Settings, locked: bool, resumed: bool) -> ImageDataset | None:
    """The student's images: choose them, see what they hold and the settings that fit, preview them.

    ``resumed``: a checkpoint fixes the model, so no settings are proposed.
    """
    chosen = _chosen_source(locked)
    with st.expander(t("train.own.title"), expanded=st.session_state.get(TRAIN_RUN) is None):
        if chosen is None:
            st.info(t("train.own.how_folder" if image_folders_root() is not None else "train.own.how"))
            return None
        source_id, source, shown = chosen
        new = st.session_state.get(SUMMARY, (None,))[0] != source_id
        found = _summary(source_id, source, shown)
        if found is None:
            return None
        summary, proposal = found
        if new and not locked and not resumed:  # new images: their settings by default (then the sidebar shows them)
            st.session_state[PROPOSED] = proposal
            st.rerun()
        _show_summary(summary)
        if not resumed:
            _show_proposal(proposal, settings, locked)
        dataset = _dataset(source_id, source, shown, settings)
        if dataset is None:
            return None
        st.markdown(t("train.own.found", n=f"{len(dataset):,}", size=dataset.image_size,
                      colour=t(f"train.colour.{dataset.channels}")))
        st.image(upscale(make_grid(dataset.images[:32], nrow=8), upscale_factor(settings.model.image_size)),
                 caption=t("train.own.preview"), output_format="PNG")
        if dataset.skipped:
            st.markdown(t("train.own.skipped", n=f"{len(dataset.skipped):,}"))
            st.dataframe([{t("train.own.col_file"): f, t("train.own.col_reason"): error_text(r, markdown=False)}
                          for f, r in dataset.skipped],
                         hide_index=True, width="stretch", height=min(300, 40 + 35 * len(dataset.skipped)))
        return dataset
