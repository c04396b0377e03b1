"""Choosing the generator for the latent explorer: shipped asset, this session's training run,
a checkpoint in runs/, or an uploaded .zip. Loading is cached per checkpoint (path + file times,
or the upload's SHA-256); a bad file becomes an ``st.error`` with the loader's sentence."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import torch

from gan_core.checkpoint import CheckpointError, list_checkpoints, load_checkpoint
from gan_core.latent import cached_checkpoint, checkpoint_key
from gan_core.limits import get_limits
from gan_core.models import ModelConfig
from gan_core.paths import ASSETS_DIR as ASSETS, runs_root


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
    found = [p for p in ASSETS.iterdir() if p.name.startswith("generator-") and (p / "config.json").is_file()]
    return sorted(found, key=lambda p: (p.name != "generator-mnist5k", p.name))


def _from_checkpoint(ckpt, key: str, label: str) -> LatentModel:
    return LatentModel(key=key, label=label, generator=ckpt.generator, model_config=ckpt.model_config,
                       prior=ckpt.train_config.get("prior", "normal"), dataset=ckpt.dataset.get("name"),
                       step=ckpt.step)


def _from_folder(path: Path, label: str) -> LatentModel:
    resolved, mtime = checkpoint_key(path)
    return _from_checkpoint(cached_checkpoint(path), f"{resolved}@{mtime}", label)


@st.cache_resource(max_entries=4, show_spinner="Checking and loading the checkpoint…")
def _load_upload(digest: str, _data: bytes):
    # keyed by the SHA-256 only: the bytes themselves are not hashed again by Streamlit
    return load_checkpoint(_data)


def _from_upload() -> LatentModel | None:
    limit = get_limits().max_upload_mb
    upload = st.file_uploader(f"Checkpoint .zip (downloaded from the training page; up to {limit} MB)",
                              type=["zip"], key="lat_upload")
    if upload is None:
        st.info("Upload a checkpoint .zip to explore its generator. Only safetensors weights and a JSON "
                "config are read from it; nothing in the file is executed.")
        return None
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    ckpt = _load_upload(digest, data)
    return _from_checkpoint(ckpt, f"upload:{digest}", upload.name)


def _from_run() -> LatentModel:
    run = st.session_state["train_run"]
    refresh = st.button("Refresh from the training run",
                        help="Copy the run's current generator; training keeps going.", key="lat_run_refresh")
    if refresh or "lat_run_snapshot" not in st.session_state:
        st.session_state["lat_run_snapshot"] = run.snapshot_generator()
    generator, model_config, info = st.session_state["lat_run_snapshot"]
    dataset = info.get("dataset")
    if isinstance(dataset, dict):
        dataset = dataset.get("name")
    run_data = getattr(run, "dataset", None)
    step = int(info.get("step", 0))
    st.caption(f"Snapshot of the training run at step {step}.")
    return LatentModel(key=f"run:{id(run)}:{step}", label="training run", generator=generator,
                       model_config=model_config, prior=info.get("prior", "normal"),
                       dataset=str(dataset) if dataset else None, step=step,
                       training_images=getattr(run_data, "images", None))


def choose_model() -> LatentModel | None:
    """The generator picker. Returns None (after saying why) when there is nothing to explore yet."""
    options: dict[str, str] = {}
    paths: dict[str, Path] = {}
    for p in shipped_generators():
        options[f"shipped:{p.name}"] = f"Pretrained: {p.name.removeprefix('generator-')} (shipped)"
        paths[f"shipped:{p.name}"] = p
    if st.session_state.get("train_run") is not None:
        options["run"] = "Generator from the current training run"
    for p in list_checkpoints(runs_root()):
        options[f"runs:{p.name}"] = f"Saved run: {p.name}"
        paths[f"runs:{p.name}"] = p
    options["upload"] = "Upload a checkpoint .zip"

    # The training page's "Open in latent explorer" asks for the run once.
    if st.session_state.pop("latent_source", None) == "run" and "run" in options:
        st.session_state["lat_source"] = "run"
    if st.session_state.get("lat_source") not in options:
        st.session_state.pop("lat_source", None)
    choice = st.selectbox("Generator", list(options), format_func=options.get, key="lat_source")
    try:
        if choice == "upload":
            return _from_upload()
        if choice == "run":
            return _from_run()
        return _from_folder(paths[choice], options[choice])
    except CheckpointError as exc:
        st.error(f"This checkpoint cannot be used: {exc}")
    except Exception as exc:  # a file that passed validation yet fails to run: say so, never a traceback
        st.error(f"This checkpoint could not be loaded ({type(exc).__name__}: {exc}).")
    return None
