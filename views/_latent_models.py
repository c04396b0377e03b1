"""Choosing the generator for the latent explorer: a shipped asset, this session's training run,
a checkpoint in runs/, or an uploaded .zip. Loading is cached per checkpoint (path + file times,
or the upload's SHA-256); a bad file becomes an ``st.error`` that names it (the upload by its file
name, never a server path) with the loader's sentence in the page's language."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import torch

from gan_core.checkpoint import CONFIG_FILE, load_checkpoint
from gan_core.i18n import has_key
from gan_core.latent import cached_checkpoint, checkpoint_key, explorer_settings
from gan_core.limits import get_limits
from gan_core.models import ModelConfig
from gan_core.paths import ASSETS_DIR as ASSETS, runs_root
from gan_core.runs_quota import mark_in_use
from gan_core.recording import run_folders
from views._i18n import error_text, t, user_text
from views._session_keys import OPEN_IN_LATENT, TRAIN_RUN
from views._settings import PERSIST

SOURCE_KEY = "lat_source"
SHIPPED_PREFIX = "generator-"


@dataclass
class LatentModel:
    """A generator ready to explore, plus what the page needs to know about it."""

    key: str  # identifies the weights: cache key for directions etc.
    label: str
    generator: torch.nn.Module  # eval mode, CPU; shared, so only used through latent.render
    model_config: ModelConfig
    prior: str  # the noise prior G was trained with: "normal" or "uniform"
    dataset: str | None  # dataset name, to find training images for the memorisation check
    step: int
    training_images: torch.Tensor | None = None  # when the run itself holds them


def shipped_generators() -> list[Path]:
    """Checkpoint folders under assets/ whose names start with "generator-" (mnist5k first)."""
    if not ASSETS.is_dir():
        return []
    found = [p for p in ASSETS.iterdir() if p.name.startswith(SHIPPED_PREFIX) and (p / "config.json").is_file()]
    return sorted(found, key=lambda p: (p.name != "generator-mnist5k", p.name))


def shipped_ids() -> list[str]:
    """The generator list's ids of the shipped generators (what ``?gen=`` in a link may name)."""
    return [p.name for p in shipped_generators()]


@st.cache_data(show_spinner=False, max_entries=32)
def _shipped_preset(config_file: str, mtime_ns: int) -> str | None:
    """The model preset a shipped generator's config names (for its label), or None if unreadable."""
    try:
        preset = json.loads(Path(config_file).read_text(encoding="utf-8")).get("model", {}).get("preset")
    except (OSError, ValueError, AttributeError):
        return None
    return preset if isinstance(preset, str) else None


def shipped_label(folder: Path) -> str:
    """A readable label for assets/generator-<name>: the catalog's own words for the models we ship,
    else the name and the preset from its config (any future folder gets a label in every language)."""
    name = folder.name.removeprefix(SHIPPED_PREFIX)
    if has_key(f"latent.shipped.{name}"):
        return t(f"latent.shipped.{name}")
    config = folder / "config.json"
    preset = _shipped_preset(str(config), config.stat().st_mtime_ns)
    if preset:
        return t("latent.source.shipped_preset", name=name, preset=preset)
    return t("latent.source.shipped", name=name)


def _from_checkpoint(ckpt, key: str, label: str) -> LatentModel:
    prior, dataset = explorer_settings(ckpt.config)
    return LatentModel(key=key, label=label, generator=ckpt.generator, model_config=ckpt.model_config,
                       prior=prior, dataset=dataset, step=ckpt.step)


def _from_folder(path: Path, label: str) -> LatentModel:
    resolved, mtime = checkpoint_key(path)
    return _from_checkpoint(cached_checkpoint(path), f"{resolved}@{mtime}", label)


@st.cache_resource(max_entries=4, show_spinner=False)
def _load_upload(digest: str, _data: bytes):
    # keyed by the SHA-256 only: the bytes themselves are not hashed again by Streamlit
    return load_checkpoint(_data)


def _upload_widget():
    """The checkpoint uploader; the uploaded file, or None (after asking for one)."""
    limit = get_limits().max_upload_mb
    upload = st.file_uploader(t("latent.upload.label", limit=limit), type=["zip"], key="lat_file_upload")
    if upload is None:
        st.info(t("latent.upload.ask"))
    return upload


def _from_upload(upload) -> LatentModel:
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    with st.spinner(t("latent.upload.loading")):
        ckpt = _load_upload(digest, data)
    return _from_checkpoint(ckpt, f"upload:{digest}", upload.name)


def _from_run() -> LatentModel:
    run = st.session_state[TRAIN_RUN]
    refresh = st.button(t("latent.run.refresh"), help=t("latent.run.refresh_help"), key="lat_btn_refresh")
    if refresh or "lat_run_snapshot" not in st.session_state:
        st.session_state["lat_run_snapshot"] = run.snapshot_generator()
        # names these weights in the caches shared by all sessions (an object's id can be reused)
        st.session_state["lat_run_snapshot_id"] = uuid.uuid4().hex
    generator, model_config, info = st.session_state["lat_run_snapshot"]
    dataset = info.get("dataset")
    if isinstance(dataset, dict):
        dataset = dataset.get("name")
    run_data = getattr(run, "dataset", None)
    step = int(info.get("step", 0))
    st.caption(t("latent.run.snapshot", step=step))
    prior, _ = explorer_settings({"train": {"prior": info.get("prior", "normal")}})
    return LatentModel(key=f"run:{st.session_state['lat_run_snapshot_id']}:{step}", label=t("latent.run.label"), generator=generator,
                       model_config=model_config, prior=prior, dataset=str(dataset) if dataset else None,
                       step=step, training_images=getattr(run_data, "images", None))


def choose_model(container=None) -> LatentModel | None:
    """The generator picker (drawn in ``container``, default the page). Returns None, after saying why,
    when there is nothing to explore yet or the chosen checkpoint cannot be used."""
    area = container if container is not None else st.container()
    labels: dict[str, str] = {}
    paths: dict[str, Path] = {}
    for p in shipped_generators():
        labels[p.name] = shipped_label(p)
        paths[p.name] = p
    if st.session_state.get(TRAIN_RUN) is not None:
        labels["run"] = t("latent.source.run")
    for p in run_folders(runs_root(), marker=CONFIG_FILE):
        labels[f"runs:{p.name}"] = t("latent.source.saved", name=p.name)
        paths[f"runs:{p.name}"] = p
    labels["upload"] = t("latent.source.upload")

    # The training page's "Open in latent explorer" asks for the run once.
    asked = st.session_state.pop(OPEN_IN_LATENT, None)  # "run" or "runs:NAME"
    if asked in labels:
        st.session_state[SOURCE_KEY] = asked
    if st.session_state.get(SOURCE_KEY) not in labels:
        st.session_state[SOURCE_KEY] = next(iter(labels))
    with area:
        choice = st.selectbox(t("latent.source.label"), list(labels), format_func=labels.get, key=SOURCE_KEY,
                              persist_state=PERSIST)
        name = labels[choice]
        try:
            if choice == "upload":
                upload = _upload_widget()
                if upload is None:
                    return None
                name = upload.name  # messages name the file as the user knows it
                return _from_upload(upload)
            if choice == "run":
                return _from_run()
            if choice.startswith("runs:"):
                mark_in_use(paths[choice])  # explored: the runs folder's quota keeps it
            return _from_folder(paths[choice], name)
        except ValueError as exc:  # CheckpointError, LatentError: the user's file, said in a plain sentence
            message = error_text(exc, markdown=False)
            if choice in paths:  # a loader sentence may quote the folder: call it by its label instead
                message = message.replace(str(paths[choice].resolve()), name).replace(str(paths[choice]), name)
            st.error(t("latent.error.unusable", name=user_text(name), reason=user_text(message, 600)))
        except Exception as exc:  # a file that passed validation yet fails to run: say so, never a traceback
            st.error(t("latent.error.failed", name=user_text(name), kind=type(exc).__name__))
    return None


def metrics_classifier(dataset: str | None, images: torch.Tensor):
    """The shipped metrics classifier for this dataset if it takes these images, else None."""
    from gan_core.data.datasets import dataset_names

    if dataset not in dataset_names():  # a name from an uploaded checkpoint never picks a folder
        return None
    try:
        from gan_core.evaluation.metrics import load_classifier

        classifier = load_classifier(dataset)
    except (ImportError, ValueError):  # no metrics module, or a broken classifier folder
        return None
    if classifier is None or not classifier.accepts(images[:1]):
        return None
    return classifier
