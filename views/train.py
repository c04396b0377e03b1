"""Train a DCGAN live: losses, D(x) and D(G(z)), and the sample grid update while G learns.

A thin view over ``gan_core.worker``: training runs in a background thread that never calls
Streamlit; this page reads ``run.snapshot()`` about once a second in a fragment. While paused, the
D step / G step / one iteration buttons ask that thread for exactly one more step. The "replay"
mode plays back a recorded run (``gan_core.recording``) with the same charts and grid.
"""

from __future__ import annotations

import bisect
import html
import inspect
import logging
import lzma
import math
import textwrap
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from gan_core import lecture_tf_dcgan as lecture
from gan_core.algorithm1 import PRIORS, Algorithm1
from gan_core.checkpoint import Checkpoint, CheckpointError, checkpoint_zip_bytes, load_checkpoint
from gan_core.data.datasets import DATASETS, ImageDataset, dataset_names, load_dataset, load_image_zip
from gan_core.device import DEVICE_CHOICES, available_devices
from gan_core.evaluation.metrics import mode_reading
from gan_core.i18n import has_key
from gan_core.images import gif_bytes, make_grid, png_bytes, upscale
from gan_core.limits import get_limits
from gan_core.losses import LOSSES
from gan_core.models import (PRESETS, ModelConfig, build_models, count_parameters, default_model_config, describe,
                             get_preset)
from gan_core.paths import runs_root
from gan_core.recording import (Recording, RecordingError, lecture_recording_path, load_recording, run_folder,
                                run_folders)
from gan_core.trainer import TrainConfig, steps_for_epochs
from gan_core.worker import REGISTRY, QueueTicket, RunLimitReached, RunSnapshot, TrainingRun
from views import _train_charts as charts
from views._cancellable import run_cancellable
from views._i18n import error_text, t
from views._notes import teaching_notes
from views._session_keys import OPEN_IN_LATENT, QUEUED, TRAIN_NOTICE, TRAIN_RUN
from views._svg import svg_as_img
from views._theme import upscale_factor
from views._train_heartbeat import advance_queue, browser_id
from views._urlstate import Param, link_box, mirror, restore

log = logging.getLogger(__name__)

SAVED, WAS_ACTIVE = "train_saved", "train_was_active"
UPLOADED, RESUME = "train_uploaded_dataset", "train_resume_checkpoint"
OPEN_LATENT = "train_open_latent"
REPLAY_ANCHOR = "train_replay_anchor"  # (wall-clock time, step) when Play was pressed; None = paused
OWN_IMAGES = "own images"
MODES = ("live", "replay", "watch")
DEFAULT_PRESET = "small"  # learns recognisable digits in about a minute on a laptop CPU
REFRESH_SECONDS = 1.0
REPLAY_REFRESH_SECONDS = 0.25
WATCH_LIVE_SECONDS = 30.0  # a run folder whose metrics.csv changed this recently is still training
WATCH_GROWING = "train_watch_growing"
REPLAY_SECONDS = (10, 30, 60, 120)  # how long a replay of the whole recording takes
DOWNLOAD = ":material/download:"
# What a user can get wrong in an upload: a damaged zip (bad CRC, truncated), an odd compression
# method or an encrypted entry, unreadable bytes. Shown as a sentence naming the upload, never a traceback.
UPLOAD_ERRORS = (ValueError, zipfile.BadZipFile, NotImplementedError, OSError, EOFError, zlib.error,
                 lzma.LZMAError, RecursionError, OverflowError, KeyError, TypeError)


def _url_params(preset: str, dataset: str) -> list[Param]:
    """The settings mirrored in the URL (never uploaded files); widget keys depend on the preset."""
    p = get_preset(preset)
    per_net = [Param(f"{name}_{net}", f"train_{name}_{net}_{preset}", "float", lo, hi)
               for net in ("d", "g") for name, lo, hi in (("lr", 1e-6, 10.0), ("beta1", 0.0, 0.999),
                                                          ("beta2", 0.0, 0.9999))]
    return [
        Param("mode", "train_mode", "choice", choices=MODES),
        Param("dataset", "train_dataset", "choice", choices=dataset_names() + [OWN_IMAGES]),  # never the file
        Param("preset", "train_preset", "choice", choices=list(PRESETS)),
        Param("size", f"train_size_{preset}", "choice", choices=list(p.image_sizes)),
        Param("channels", f"train_channels_{dataset}", "choice", choices=(1, 3)),
        Param("latent", f"train_latent_{preset}", "int", 1, 1024),
        Param("fc", f"train_fc_{preset}", "int", 0, 4096),
        Param("batch", f"train_batch_{preset}", "int", 2, 4096),
        Param("loss", "train_loss", "choice", choices=list(LOSSES)),
        Param("k", "train_k", "int", 1, 100),
        *per_net,
        Param("smoothing", "train_label_smoothing", "float", 0.0, 0.45),
        Param("reuse", "train_reuse_fake", "bool"),
        Param("prior", "train_prior", "choice", choices=PRIORS),
        Param("unit", "train_unit", "choice", choices=("steps", "epochs")),
        Param("steps", "train_steps", "int", 1, 10_000_000),
        Param("epochs", "train_epochs", "float", 0.01, 10_000.0),
        Param("seed", "train_seed", "int", 0, 2**31 - 1),
        Param("device", "train_device", "choice", choices=DEVICE_CHOICES),
    ]


def _url_keys() -> tuple[str, str]:
    """(preset, dataset) whose widget keys the URL names: the session's, else the link's, else defaults."""
    preset = st.session_state.get("train_preset") or st.query_params.get("preset")
    dataset = st.session_state.get("train_dataset") or st.query_params.get("dataset")
    return (preset if preset in PRESETS else DEFAULT_PRESET,
            dataset if dataset in dataset_names() + [OWN_IMAGES] else "mnist5k")


def _default(key: str, value) -> None:
    """A widget's first value (set once; the widget is then created with ``key=`` only)."""
    st.session_state.setdefault(key, value)


@dataclass
class Settings:
    """Everything chosen in the sidebar."""

    dataset: str  # a registry name or OWN_IMAGES
    download: bool
    model: ModelConfig
    batch_size: int
    lr_d: float
    lr_g: float
    betas_d: tuple[float, float]
    betas_g: tuple[float, float]
    loss: str
    k: int
    label_smoothing: float
    reuse_fake: bool
    prior: str
    unit: str  # "steps" or "epochs"
    amount: float
    seed: int
    device: str

    def train_config(self, dataset_name: str) -> TrainConfig:
        return TrainConfig(
            **self.model.to_dict(), dataset=dataset_name, batch_size=self.batch_size, k=self.k, loss=self.loss,
            lr_d=self.lr_d, lr_g=self.lr_g, betas_d=self.betas_d, betas_g=self.betas_g, prior=self.prior,
            label_smoothing=self.label_smoothing, reuse_fake=self.reuse_fake, seed=self.seed, device=self.device)


def _grid_image(grid: np.ndarray, image_size: int) -> np.ndarray:
    """A sample grid upscaled for the screen (nearest-neighbour: crisp pixels; bigger in projector mode)."""
    return upscale(grid, upscale_factor(image_size))


def _grid_png(grid: np.ndarray, image_size: int) -> bytes:
    """``_grid_image`` as PNG bytes, encoded once per grid and screen size (see ``_encoded_grid``)."""
    return _encoded_grid(grid, upscale_factor(image_size))


# Shared by the sessions: the live view redraws every second, but the real grid never changes and the
# generated one only when the worker renders a new one, so each is encoded once instead of every second.
@st.cache_data(max_entries=64, show_spinner=False)
def _encoded_grid(grid: np.ndarray, factor: int) -> bytes:
    return png_bytes(upscale(grid, factor))


def _notice(kind: str, text: str) -> None:
    """A message shown once, after the rerun that follows a button."""
    st.session_state[TRAIN_NOTICE] = (kind, text)


def _maybe(key: str, fallback: str) -> str:
    """The catalog's text for ``key`` when there is one (e.g. a dataset's description), else ``fallback``."""
    return t(key) if has_key(key) else fallback


# --- sidebar: settings ----------------------------------------------------------------------------

def _resume_checkpoint(locked: bool) -> Checkpoint | None:
    with st.sidebar.expander(t("train.resume.title"), expanded=st.session_state.get(RESUME) is not None):
        upload = st.file_uploader(t("train.resume.upload"), type=["zip"], key="train_resume_file", disabled=locked)
        if upload is None:
            st.session_state.pop(RESUME, None)
            return None
        cached = st.session_state.get(RESUME)
        if cached is not None and cached[0] == upload.file_id:
            ckpt = cached[1]
        else:
            try:
                ckpt = load_checkpoint(upload.getvalue())
            except UPLOAD_ERRORS as exc:
                st.session_state.pop(RESUME, None)
                st.error(t("train.resume.cannot_use", name=upload.name, reason=_upload_reason(exc)))
                return None
            st.session_state[RESUME] = (upload.file_id, ckpt)
            if ckpt.dataset.get("name") in dataset_names():  # continue on the checkpoint's dataset
                st.session_state["train_dataset"] = ckpt.dataset["name"]
        st.success(t("train.resume.continues", step=f"{ckpt.step:,}"))
        if ckpt.discriminator is None:
            st.caption(t("train.resume.no_discriminator"))
        return ckpt


def _upload_reason(exc: BaseException) -> str:
    """Why an upload failed, without a server path: the engine's own sentence, else a plain one."""
    if isinstance(exc, ValueError) and not isinstance(exc, (zipfile.BadZipFile, UnicodeError)):
        return error_text(exc)  # CheckpointError / DatasetError: sentences written for the user
    if isinstance(exc, NotImplementedError):
        return t("train.upload_error.unsupported")
    if isinstance(exc, (zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError)):
        return t("train.upload_error.damaged")
    return t("train.upload_error.unreadable")


def _dataset_choice(locked: bool) -> tuple[str, bool]:
    options = dataset_names() + [OWN_IMAGES]
    _default("train_dataset", "mnist5k")
    name = st.sidebar.selectbox(t("train.dataset"), options, key="train_dataset", disabled=locked,
                                format_func=lambda n: t("train.own_images") if n == OWN_IMAGES else n)
    download = False
    if name in DATASETS:
        st.sidebar.caption(_maybe(f"train.dataset_desc.{name}", DATASETS[name].description))
        if not DATASETS[name].offline:
            download = st.sidebar.checkbox(t("train.download"), key="train_download", disabled=locked)
    else:
        st.sidebar.caption(t("train.own_images_help"))
    return name, download


def _model_choice(locked: bool, resume: Checkpoint | None, dataset: str) -> ModelConfig:
    if resume is not None:
        mc = resume.model_config
        st.sidebar.caption(t("train.model_from_checkpoint", preset=mc.preset, size=mc.image_size,
                             colour=t(f"train.colour.{mc.channels}"), latent=mc.latent_dim))
        return mc
    _default("train_preset", DEFAULT_PRESET)
    preset = st.sidebar.selectbox(t("train.preset"), list(PRESETS), key="train_preset", disabled=locked)
    p = get_preset(preset)
    st.sidebar.caption(_maybe(f"train.preset_desc.{preset}", p.description))
    _default(f"train_size_{preset}", p.image_sizes[0])
    size = st.sidebar.selectbox(t("train.image_size"), p.image_sizes, key=f"train_size_{preset}",
                                disabled=locked or len(p.image_sizes) == 1)
    _default(f"train_channels_{dataset}", 3 if dataset == "cifar10" else 1)
    colour = st.sidebar.radio(t("train.colour.label"), (1, 3), horizontal=True, key=f"train_channels_{dataset}",
                              format_func=lambda c: t(f"train.colour.{c}"), disabled=locked)
    _default(f"train_latent_{preset}", p.defaults.latent_dim)
    latent = st.sidebar.number_input(t("train.latent_dim"), 1, 1024, key=f"train_latent_{preset}", disabled=locked)
    fc_width = p.defaults.fc_width
    if fc_width:
        _default(f"train_fc_{preset}", fc_width)
        fc_width = st.sidebar.number_input(t("train.fc_width"), 0, 4096, step=32, key=f"train_fc_{preset}",
                                           disabled=locked, help=t("train.fc_width_help"))
    return ModelConfig(preset, int(size), int(colour), int(latent), p.defaults.ngf, p.defaults.ndf, int(fc_width))


def _settings(locked: bool, resume: Checkpoint | None) -> Settings:
    st.sidebar.header(t("train.settings"))
    dataset, download = _dataset_choice(locked)
    model = _model_choice(locked, resume, dataset)
    d = get_preset(model.preset).defaults
    key = model.preset  # preset defaults: one set of widgets per preset
    sb = st.sidebar
    sb.subheader(t("train.training"))
    _default(f"train_batch_{key}", d.batch_size)
    batch = sb.number_input(t("train.batch_size"), 2, 4096, key=f"train_batch_{key}", disabled=locked)
    _default("train_loss", "non-saturating")
    loss = sb.selectbox(t("train.loss"), list(LOSSES), key="train_loss", disabled=locked,
                        format_func=lambda name: t(f"train.loss_name.{name}"))
    sb.caption(t(f"train.loss_desc.{loss}"))
    _default("train_k", 1)
    k = sb.number_input(t("train.k"), 1, 100, key="train_k", disabled=locked)
    lr_cols, b1_cols, b2_cols = sb.columns(2), sb.columns(2), sb.columns(2)
    lr = {}
    betas = {}
    for i, net in enumerate(("d", "g")):
        name = net.upper()
        for field, value in (("lr", d.lr), ("beta1", d.betas[0]), ("beta2", d.betas[1])):
            _default(f"train_{field}_{net}_{key}", float(value))
        lr[net] = lr_cols[i].number_input(t("train.lr", net=name), 1e-6, 10.0, step=1e-5, format="%.5f",
                                          key=f"train_lr_{net}_{key}", disabled=locked)
        b1 = b1_cols[i].number_input(t("train.beta1", net=name), 0.0, 0.999, step=0.05, format="%.3f",
                                     key=f"train_beta1_{net}_{key}", disabled=locked)
        b2 = b2_cols[i].number_input(t("train.beta2", net=name), 0.0, 0.9999, step=0.001, format="%.4f",
                                     key=f"train_beta2_{net}_{key}", disabled=locked)
        betas[net] = (float(b1), float(b2))
    _default("train_label_smoothing", 0.0)
    smoothing = sb.slider(t("train.label_smoothing"), 0.0, 0.45, step=0.05, key="train_label_smoothing",
                          disabled=locked)
    _default("train_reuse_fake", True)
    reuse = sb.checkbox(t("train.reuse_fake"), key="train_reuse_fake", disabled=locked or k != 1,
                        help=t("train.reuse_fake_help")) and k == 1
    _default("train_prior", "normal")
    prior = sb.selectbox(t("train.prior"), PRIORS, key="train_prior", disabled=locked,
                         format_func=lambda p: t(f"train.prior_name.{p}"))
    _default("train_unit", "steps")
    unit = sb.radio(t("train.unit"), ("steps", "epochs"), horizontal=True, key="train_unit", disabled=locked,
                    format_func=lambda u: t(f"train.unit_name.{u}"))
    if unit == "steps":
        _default("train_steps", 2000)
        amount = sb.number_input(t("train.steps"), 1, 10_000_000, step=100, key="train_steps", disabled=locked)
    else:
        _default("train_epochs", 5.0)
        amount = sb.number_input(t("train.epochs"), 0.01, 10_000.0, step=1.0, key="train_epochs", disabled=locked)
    _default("train_seed", 0)
    seed = sb.number_input(t("train.seed"), 0, 2**31 - 1, key="train_seed", disabled=locked)
    _default("train_device", DEVICE_CHOICES[0])
    device = sb.selectbox(t("train.device"), DEVICE_CHOICES, key="train_device", disabled=locked)
    sb.caption(t("train.devices_here", devices=", ".join(available_devices())))
    return Settings(dataset, download, model, int(batch), float(lr["d"]), float(lr["g"]), betas["d"], betas["g"],
                    loss, int(k), float(smoothing), bool(reuse), prior, unit, float(amount), int(seed), device)


def _own_images(settings: Settings, locked: bool) -> ImageDataset | None:
    """The uploader for a .zip of the student's images, with a preview of what was found and skipped."""
    upload = st.sidebar.file_uploader(t("train.own.upload"), type=["zip"], key="train_zip", disabled=locked)
    with st.expander(t("train.own.title"), expanded=st.session_state.get(TRAIN_RUN) is None):
        if upload is None:
            st.info(t("train.own.how"))
            return None
        m = settings.model
        cache_key = (upload.file_id, m.image_size, m.channels)
        cached = st.session_state.get(UPLOADED)
        if cached is None or cached[0] != cache_key:
            try:
                data = upload.getvalue()
                dataset = run_cancellable(
                    lambda **kw: load_image_zip(data, m.image_size, m.channels, name=Path(upload.name).stem, **kw),
                    t("train.own.reading", name=upload.name))
            except UPLOAD_ERRORS as exc:
                st.session_state.pop(UPLOADED, None)
                st.error(t("train.own.cannot_use", name=upload.name, reason=_upload_reason(exc)))
                return None
            st.session_state[UPLOADED] = cached = (cache_key, dataset)
        dataset = cached[1]
        classes = ", ".join(dataset.class_names[:10]) if dataset.class_names else t("train.own.unlabelled")
        st.markdown(t("train.own.found", n=f"{len(dataset):,}", size=dataset.image_size,
                      colour=t(f"train.colour.{dataset.channels}"), classes=classes))
        st.image(upscale(make_grid(dataset.images[:32], nrow=8), upscale_factor(m.image_size)),
                 caption=t("train.own.preview"), output_format="PNG")
        if dataset.skipped:
            st.markdown(t("train.own.skipped", n=f"{len(dataset.skipped):,}"))
            st.dataframe([{t("train.own.col_file"): f, t("train.own.col_reason"): error_text(r)} for f, r in dataset.skipped],
                         hide_index=True, width="stretch", height=min(300, 40 + 35 * len(dataset.skipped)))
        return dataset


# --- buttons --------------------------------------------------------------------------------------

def _start(settings: Settings, own: ImageDataset | None, resume: Checkpoint | None) -> None:
    old = st.session_state.pop(TRAIN_RUN, None)
    if old is not None:
        old.stop()
    st.session_state.pop(SAVED, None)
    try:
        if settings.dataset == OWN_IMAGES:
            if own is None:
                _notice("error", t("train.start_failed", reason=t("train.own.upload_first")))
                return
            dataset = own
        else:
            dataset = run_cancellable(
                lambda **kw: load_dataset(settings.dataset, image_size=settings.model.image_size,
                                          channels=settings.model.channels, download=settings.download, **kw),
                t("train.loading", name=settings.dataset))
        config = settings.train_config(dataset.name)
        batch_k = (config.batch_size, config.k)
        steps = (int(settings.amount) if settings.unit == "steps"
                 else steps_for_epochs(settings.amount, len(dataset), *batch_k))
        run = TrainingRun(config, dataset, steps, resume=resume.trainer_state() if resume else None,
                          owner=browser_id())
        run.start()
    except RunLimitReached:  # every slot is taken (or others wait): wait in line, start by itself
        st.session_state[QUEUED] = (REGISTRY.enqueue(run.label, run.steps_to_train, owner=browser_id()), run)
        _notice("info", t("train.queue.joined"))
        return
    except ValueError as exc:  # DatasetError, CheckpointError, settings that cannot work
        _notice("error", t("train.start_failed", reason=error_text(exc)))
        return
    except Exception:  # never a traceback (or a server path) on the projector
        log.exception("could not start training")
        _notice("error", t("train.start_failed_unexpected"))
        return
    st.session_state[TRAIN_RUN] = run
    if run.resume_changes:  # resuming applies the settings asked for now: say what that changed
        changed = ", ".join(t("train.resume.change", name=t(f"train.resume.setting.{name}"), old=_fmt(old), new=_fmt(new))
                            for name, (old, new) in sorted(run.resume_changes.items()))
        _notice("info", t("train.resume.changed", changes=changed))


def _fmt(value) -> str:
    """A learning rate or a pair of betas, short."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(f"{v:g}" for v in value) + ")"
    return f"{value:g}"


def _take_over_offer() -> None:
    """After a page reload this browser's run is still going: offer to take it over (not "another run")."""
    owner = browser_id()
    mine = REGISTRY.owned_by(owner) if owner is not None else None
    if mine is None or st.session_state.get(TRAIN_RUN) is mine:
        return
    mine.heartbeat()  # its browser is here, looking at the offer: the orphan watchdog must wait
    snap = mine.snapshot()
    with st.container(border=True):
        st.info(t("train.take_over.text", preset=snap.config["preset"], dataset=snap.dataset, step=f"{snap.step:,}"))
        if st.button(t("train.take_over.button"), icon=":material/sync_alt:", key="train_take_over"):
            st.session_state[TRAIN_RUN] = mine
            st.rerun()


def _buttons(settings: Settings, own: ImageDataset | None, resume: Checkpoint | None) -> None:
    run: TrainingRun | None = st.session_state.get(TRAIN_RUN)
    status = run.snapshot().status if run is not None else None
    active = run is not None and run.is_alive()
    # A row that wraps instead of cutting labels ("Res…") at 150% zoom or in projector mode.
    row = st.container(horizontal=True, wrap=True, gap="small", key="train_buttons")

    def button(col: int, label: str, icon: str, key: str, disabled: bool, **kw) -> bool:
        return row.button(label, icon=f":material/{icon}:", key=key, disabled=disabled, width="content", **kw)

    queued = st.session_state.get(QUEUED)
    if queued is not None:
        if button(0, t("train.queue.leave"), "logout", "train_leave_queue", False):
            REGISTRY.leave(queued[0])
            st.session_state.pop(QUEUED, None)
            st.rerun()
    elif button(0, t("train.start"), "play_arrow", "train_start", active, type="primary"):
        _start(settings, own, resume)
        st.rerun()
    if button(1, t("train.pause"), "pause", "train_pause", status != "running"):
        run.pause()
        st.rerun()
    if button(2, t("train.resume_button"), "resume", "train_resume", status != "paused"):
        run.resume()
        st.rerun()
    if button(3, t("train.stop"), "stop", "train_stop", not active):
        run.stop()
        st.rerun()
    if button(4, t("train.reset"), "restart_alt", "train_reset", run is None, help=t("train.reset_help")):
        run.stop()
        for key in (TRAIN_RUN, SAVED, WAS_ACTIVE):
            st.session_state.pop(key, None)
        st.rerun()
    if status == "paused":
        _single_step_buttons(run)
    notice = st.session_state.pop(TRAIN_NOTICE, None)
    if notice is not None:
        getattr(st, notice[0])(notice[1])


def _single_step_buttons(run: TrainingRun) -> None:
    """Algorithm 1 on images, one line at a time (the training thread does the work; we wait)."""
    st.caption(t("train.single.caption", k=run.config.k))
    row = st.container(horizontal=True, wrap=True, gap="small", key="train_single_steps")
    for kind, icon in (("d", "looks_one"), ("g", "looks_two"), ("iteration", "replay")):
        if row.button(t(f"train.single.{kind}"), icon=f":material/{icon}:", key=f"train_step_{kind}",
                      width="content", help=t(f"train.single.{kind}_help", k=run.config.k)):
            with st.spinner(t("train.single.working")):
                done = run.single_step(kind)
            if not done:
                _notice("warning", t("train.single.not_done"))
            st.rerun()


# --- the live view --------------------------------------------------------------------------------

def _status(snap: RunSnapshot) -> None:
    if snap.status == "diverged":
        # Its own block, first line a heading: the message never runs on after the progress bar.
        st.error(f"**{t('train.status.diverged')}**\n\n{error_text(snap.reason)}\n\n{t('train.diverged_save')}")
    elif snap.status == "error":
        st.error(error_text(snap.reason))
    elif snap.status == "stopped" and snap.reason is not None:
        st.warning(error_text(snap.reason))
    elif snap.status == "finished":
        st.success(t("train.finished", steps=f"{snap.step - snap.start_step:,}", time=charts.duration(snap.elapsed)))
    elif snap.status == "paused":
        st.info(t("train.paused"))
    st.progress(snap.progress, text=t("train.progress", status=t(f"train.status.{snap.status}"), device=snap.device,
                                      step=f"{snap.step:,}", target=f"{snap.target_step:,}",
                                      percent=f"{snap.progress:.0%}"))


def _numbers(snap: RunSnapshot) -> None:
    """Step, epoch, speed and time, under the grid (the grid comes first on a projector screen)."""
    cols = st.columns(5)
    cols[0].metric(t("train.metric.step"), f"{snap.step:,}")
    cols[1].metric(t("train.metric.epoch"), f"{snap.epoch:.2f}")
    cols[2].metric(t("train.metric.images_per_sec"), f"{snap.images_per_sec:,.0f}")
    cols[3].metric(t("train.metric.elapsed"), charts.duration(snap.elapsed))
    cols[4].metric(t("train.metric.eta"), charts.duration(snap.eta))


def _grids(snap: RunSnapshot) -> None:
    size = snap.config["image_size"]
    left, right = st.columns(2, gap="large")  # the wider gap keeps an 8x8 grid within a 720 px screen
    with left:
        if snap.latest_grid is not None:
            step, grid = snap.latest_grid
            st.image(_grid_png(grid, size), caption=t("train.generated", step=f"{step:,}"))
    with right:
        st.image(_grid_png(snap.real_grid, size), caption=t("train.real", dataset=snap.dataset))
    st.caption(t("train.grid_caption"))


def _chart_picture(svg: str, key: str, alt: str) -> None:
    """A live chart: one SVG image (see ``views._train_charts``), in a container named by ``key``."""
    with st.container(key=key):
        st.html(svg_as_img(svg, alt=html.escape(alt, quote=True)))


def _curves(history: dict[str, np.ndarray], key: str, live: bool = False) -> None:
    """The loss and D(x) / D(G(z)) charts (shared by the live view and the replay).

    ``live``: the run is training and the page redraws every second, so the charts are SVG pictures."""
    if len(history["step"]) == 0:
        st.caption(t("train.charts_after_first_step"))
        return
    _default("train_curve_smoothing", 0.9)
    smoothing = st.slider(t("train.smoothing"), 0.0, 0.99, step=0.01, key="train_curve_smoothing")
    left, right = st.columns(2)
    if live:
        last = f"{int(history['step'][-1]):,}"
        with left:
            _chart_picture(charts.loss_svg(history, smoothing), f"{key}_loss_chart",
                           t("train.chart.alt", title=t("train.chart.losses"), step=last))
        with right:
            _chart_picture(charts.discriminator_svg(history, smoothing), f"{key}_d_chart",
                           t("train.chart.alt", title=t("train.chart.d_title"), step=last))
    else:
        left.plotly_chart(charts.loss_figure(history, smoothing), key=f"{key}_loss_chart")
        right.plotly_chart(charts.discriminator_figure(history, smoothing), key=f"{key}_d_chart")
    left.caption(t("train.loss_caption"))
    right.caption(t("train.d_caption"))


def _algorithm(snap: RunSnapshot) -> None:
    c = snap.config
    d_mark, g_mark = ("▶ " if snap.phase == "d" else "  "), ("▶ " if snap.phase == "g" else "  ")
    lines = [
        f"  {t('train.algo.loop')}",
        f"{d_mark}    for k = {c['k']}:                                  # {t('train.algo.d_steps')}",
        f"{d_mark}        z ~ p_z, x ~ p_data   (m = {c['batch_size']})",
        f"{d_mark}        D ← D + ∇ 1/m Σ [log D(x) + log(1 − D(G(z)))]",
        f"{g_mark}    z ~ p_z   (m = {c['batch_size']})                         # {t('train.algo.g_step')}",
        f"{g_mark}    G ← G − ∇ loss_G(D(G(z)))   ({c['loss']})",
    ]
    with st.container(border=True):
        st.subheader(t("train.algo.title"))
        st.code("\n".join(lines), language=None)
        if snap.phase == "d":
            now = t("train.algo.now_d", i=snap.phase_index, k=c["k"])
        elif snap.phase == "g":
            now = t("train.algo.now_g")
        else:
            now = t(f"train.status.{snap.status}")
        st.caption(t("train.algo.caption", now=now, loss=t(f"train.loss_desc.{c['loss']}")))
        if snap.diversity is not None:
            st.caption(t("train.variety", share=f"{snap.diversity:.0%}"))
        for warning in snap.warnings:
            st.warning(error_text(warning))


def _metrics(snap: RunSnapshot, live: bool = False) -> None:
    if not snap.metrics_history or not snap.metrics:
        return
    left, right = st.columns(2)
    m, last = snap.metrics, snap.metrics_history[-1]
    if live:
        with left:
            _chart_picture(charts.metrics_svg(snap.metrics_history), "train_metrics_chart",
                           t("train.chart.alt", title=t("train.chart.quality_title"), step=f"{last['step']:,}"))
        with right:
            _chart_picture(charts.class_histogram_svg(m["class_histogram"], m["class_names"]), "train_hist_chart",
                           t("train.chart.alt", title=t("train.chart.hist_title"), step=f"{last['step']:,}"))
    else:
        left.plotly_chart(charts.metrics_figure(snap.metrics_history), key="train_metrics_chart")
        right.plotly_chart(charts.class_histogram_figure(m["class_histogram"], m["class_names"]),
                           key="train_hist_chart")
    if "confidence" in last and "classes_covered" in last:  # the latest judgement in words (and for scripts)
        with left.container(key="train_quality_now"):
            confident = math.floor(100 * last["confidence"])  # "80%" means >= 0.80
            st.markdown(t("train.quality_now", step=f"{last['step']:,}", confidence=confident,
                          classes=last["classes_covered"], n=len(m["class_names"]), samples=m.get("n", "")))
    left.caption(t("train.metrics_caption"))
    right.caption(t("train.hist_caption"))
    if "classes_for_80_percent" in m:  # collapse, or not learned yet? the classes and the confidence together
        right.markdown(t(f"train.mode_reading.{mode_reading(m)}", classes=m["classes_for_80_percent"],
                         n=len(m["class_names"]), largest=round(100 * m["largest_class_share"]),
                         confidence=round(100 * m["confidence"])))


def _queue_view(ticket: QueueTicket, run: TrainingRun) -> None:
    """Waiting for a slot: the place in the queue and the estimated wait, live; the run starts by itself."""
    if advance_queue():
        st.rerun()  # the whole page: its buttons and settings now belong to a running run
    position = REGISTRY.position(ticket)
    if position is None:  # dropped: the page was away longer than the orphan timeout
        st.session_state.pop(QUEUED, None)
        st.warning(t("train.queue.expired"))
        return
    st.info(t("train.queue.waiting", position=position, ahead=position - 1))
    wait = REGISTRY.estimated_wait(ticket)
    st.caption(t("train.queue.eta", time=charts.duration(wait)) if wait is not None else t("train.queue.eta_unknown"))
    if REGISTRY.active():
        st.caption(t("train.queue.running_now", runs=", ".join(REGISTRY.active())))


def _live_view() -> None:
    run: TrainingRun | None = st.session_state.get(TRAIN_RUN)
    queued = st.session_state.get(QUEUED)
    if run is None and queued is not None:
        _queue_view(*queued)
        return
    if run is None:
        limits = get_limits()
        st.info(t("train.how_to_start"))
        st.caption(t("train.server_runs", cap=limits.max_concurrent_runs, n=len(REGISTRY.active())))
        return
    run.heartbeat()
    snap = run.snapshot()
    if st.session_state.get(WAS_ACTIVE) and not snap.is_active:
        st.session_state[WAS_ACTIVE] = False
        st.rerun()  # the run ended: redraw the whole page (buttons, results) and stop refreshing
    _status(snap)
    _grids(snap)
    _numbers(snap)
    live = snap.status == "running"  # redrawn every second: charts as pictures (see views._train_charts)
    _curves(snap.history, "train", live)
    _algorithm(snap)
    _metrics(snap, live)
    _timelapse(run, snap)


# --- results --------------------------------------------------------------------------------------

def _timelapse_gif(run: TrainingRun) -> bytes:
    """Every kept grid as an animated GIF of about 10 seconds (built when the button is clicked)."""
    snap = run.snapshot()
    frames = [_grid_image(grid, snap.config["image_size"]) for _, grid in snap.grids]
    return gif_bytes(frames, duration_ms=int(np.clip(10_000 / len(frames), 40, 500)))


def _current_grid_png(run: TrainingRun) -> bytes:
    snap = run.snapshot()
    latest = snap.latest_grid
    return _grid_png(latest[1], snap.config["image_size"]) if latest is not None else b""


def _timelapse(run: TrainingRun, snap: RunSnapshot) -> None:
    if len(snap.grids) < 2:
        return
    steps = [s for s, _ in snap.grids]
    with st.container(border=True):
        st.subheader(t("train.timelapse.title"))
        # A slider left at the newest grid follows training; once moved back, it stays put.
        if st.session_state.get("train_scrub") in (None, st.session_state.get("train_scrub_newest")):
            st.session_state["train_scrub"] = steps[-1]
        st.session_state["train_scrub_newest"] = steps[-1]
        chosen = st.slider(t("train.metric.step"), steps[0], steps[-1], key="train_scrub")
        i = min(bisect.bisect_left(steps, chosen), len(steps) - 1)
        st.image(_grid_png(snap.grids[i][1], snap.config["image_size"]),
                 caption=t("train.timelapse.at", step=f"{steps[i]:,}"))
        st.caption(t("train.timelapse.caption", n=len(steps)))
        st.download_button(t("train.timelapse.gif"), icon=DOWNLOAD, key="train_dl_gif", file_name="timelapse.gif",
                           data=lambda: _timelapse_gif(run), mime="image/gif", on_click="ignore")


@st.fragment
def _results() -> None:
    run: TrainingRun | None = st.session_state.get(TRAIN_RUN)
    if run is None:
        return
    snap = run.snapshot()
    st.subheader(t("train.results"))
    cols = st.columns(4)
    with cols[0]:
        if st.button(t("train.save"), icon=":material/save:", key="train_save", width="stretch"):
            try:
                st.session_state[SAVED] = str(run.save_checkpoint())
            except CheckpointError as exc:  # disk full, read-only: the engine's sentence, never a server path
                st.error(error_text(exc))
            except OSError as exc:  # metrics.csv beside it
                st.error(t("train.save_failed", reason=exc.strerror or type(exc).__name__))
        saved = st.session_state.get(SAVED)
        if saved:
            st.caption(t("train.saved", name=Path(saved).name))
            st.download_button(t("train.download_checkpoint"), icon=DOWNLOAD,
                               data=lambda: checkpoint_zip_bytes(saved), file_name=f"{Path(saved).name}.zip",
                               mime="application/zip", on_click="ignore", key="train_dl_checkpoint", width="stretch")
    with cols[1]:
        if st.button(t("train.open_latent"), icon=":material/explore:", key="train_to_latent", width="stretch"):
            # Switch pages from a full run: st.switch_page inside a fragment leaves the new page blank.
            st.session_state[OPEN_LATENT] = "run"
            st.rerun(scope="app")
    name = f"{snap.config['preset']}-{Path(snap.dataset).stem}"
    cols[2].download_button(t("train.download_metrics"), icon=DOWNLOAD, data=run.metrics_csv,
                            file_name=f"{name}-metrics.csv", mime="text/csv", on_click="ignore", key="train_dl_csv",
                            width="stretch")
    cols[3].download_button(t("train.download_grid"), icon=DOWNLOAD, data=lambda: _current_grid_png(run),
                            file_name=f"{name}-samples.png", mime="image/png", on_click="ignore",
                            key="train_dl_png", width="stretch")


# --- replay of a recorded run ---------------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=4)
def _recording(path: str, modified: float, growing: bool = False) -> Recording:
    """The recording at ``path`` (read again when its metrics file changes)."""
    return load_recording(path, growing=growing)


def _load_lecture_recording() -> Recording | None:
    path = lecture_recording_path()
    if not path.is_dir():
        st.info(t("train.replay.absent", name=path.name))
        return None
    metrics = path / "metrics.csv"
    try:
        return _recording(str(path), metrics.stat().st_mtime if metrics.is_file() else 0.0)
    except RecordingError as exc:
        st.warning(t("train.replay.unusable", reason=error_text(exc)))
        return None


def _replay_position(rec: Recording) -> float:
    """The step shown now: moving with the wall clock while playing, else where the slider is."""
    anchor = st.session_state.get(REPLAY_ANCHOR)
    if anchor is None:
        return float(st.session_state.get("train_replay_step", rec.last_step))
    started, from_step = anchor
    rate = rec.last_step / float(st.session_state.get("train_replay_seconds", 30))
    return min(float(rec.last_step), from_step + (time.monotonic() - started) * rate)


def _replay_scrubbed() -> None:
    """The slider moved: keep playing from there (or stay paused there)."""
    if st.session_state.get(REPLAY_ANCHOR) is not None:
        st.session_state[REPLAY_ANCHOR] = (time.monotonic(), float(st.session_state["train_replay_step"]))


def _recorded_grid(rec: Recording, frame: int | None) -> None:
    """A recording's sample grid number ``frame`` (or a note that none was recorded yet)."""
    if frame is None:
        st.caption(t("train.replay.no_grid_yet"))
        return
    try:
        image = rec.frame_image(frame)
    except RecordingError as exc:
        st.warning(error_text(exc))
        return
    size = int(rec.train_config.get("image_size") or 28)
    st.image(png_bytes(_grid_image(image, size)), caption=t("train.generated", step=f"{rec.frame_steps[frame]:,}"))


def _replay_view(rec: Recording) -> None:
    position = _replay_position(rec)
    playing = st.session_state.get(REPLAY_ANCHOR) is not None
    if playing and position >= rec.last_step:
        st.session_state[REPLAY_ANCHOR] = None  # the end: stop (and stop refreshing)
        st.session_state["train_replay_step"] = rec.last_step
        st.rerun()
    if playing:
        st.session_state["train_replay_step"] = int(position)
    cols = st.columns([1, 2])
    if cols[0].button(t("train.replay.pause") if playing else t("train.replay.play"),
                      icon=":material/pause:" if playing else ":material/play_arrow:", key="train_replay_play",
                      type="primary", width="stretch"):
        if playing:
            st.session_state[REPLAY_ANCHOR] = None
        else:
            start = 0.0 if position >= rec.last_step else position
            st.session_state[REPLAY_ANCHOR] = (time.monotonic(), start)
            st.session_state["train_replay_step"] = int(start)
        st.rerun()  # the whole page: the refresh timer starts or stops
    epochs = float(rec.history["epoch"][-1]) if "epoch" in rec.history else 0.0
    cols[1].selectbox(t("train.replay.speed"), REPLAY_SECONDS, key="train_replay_seconds",
                      format_func=lambda s: t("train.replay.speed_option", s=s, steps=f"{rec.last_step:,}"),
                      on_change=_replay_scrubbed)
    step = st.slider(t("train.metric.step"), 0, rec.last_step, key="train_replay_step", on_change=_replay_scrubbed)
    history = rec.history_until(step)
    metric_cols = st.columns(2)
    metric_cols[0].metric(t("train.metric.step"), f"{step:,} / {rec.last_step:,}")
    epoch_now = history["epoch"][-1] if len(history.get("epoch", [])) else None
    metric_cols[1].metric(t("train.metric.epoch"), f"{epoch_now:.2f}" if epoch_now is not None else "–")
    frame = rec.frame_index_at(step)
    left, right = st.columns([2, 3])
    with left:
        _recorded_grid(rec, frame)
    with right:
        c = rec.train_config
        st.caption(t("train.replay.about", preset=c.get("preset", "?"), dataset=rec.dataset or "?",
                     batch=c.get("batch_size", "?"), lr=c.get("lr_g", "?"), k=c.get("k", "?"),
                     steps=f"{rec.last_step:,}", epochs=f"{epochs:.0f}"))
        teaching_notes("train.replay")
    _curves(history, "train_replay")


def _replay() -> None:
    st.caption(t("train.replay.intro"))
    rec = _load_lecture_recording()
    if rec is None:
        return
    st.session_state.setdefault("train_replay_step", rec.last_step)
    st.session_state.setdefault("train_replay_seconds", 30)
    st.session_state.setdefault(REPLAY_ANCHOR, None)
    if st.session_state["train_replay_step"] > rec.last_step:
        st.session_state["train_replay_step"] = rec.last_step
    playing = st.session_state[REPLAY_ANCHOR] is not None
    st.fragment(_replay_view, run_every=REPLAY_REFRESH_SECONDS if playing else None)(rec)


# --- watching a run the command line is writing ------------------------------------------------------

def _read_watched(name: str) -> Recording:
    """The run folder ``name`` under the runs root, read as it is now (RecordingError, OSError if it cannot be)."""
    folder = run_folder(runs_root(), name)
    return _recording(str(folder), (folder / "metrics.csv").stat().st_mtime, growing=True)


def _watched(name: str) -> Recording | None:
    """``_read_watched``, or None after saying why."""
    try:
        return _read_watched(name)
    except RecordingError as exc:
        if exc.key == "errors.recording.empty":  # started, no step written yet
            st.info(t("train.watch.waiting"))
        else:
            st.warning(t("train.watch.unusable", name=name, reason=error_text(exc)))
    except OSError:  # removed, or a file being replaced this instant: the next refresh reads it
        st.info(t("train.watch.waiting"))
    return None


def _is_growing(rec: Recording) -> bool:
    return time.time() - rec.updated < WATCH_LIVE_SECONDS


def _watch_view(name: str) -> None:
    rec = _watched(name)
    if rec is None:
        return  # said why; the refresh looks again
    growing = _is_growing(rec)
    if growing != st.session_state.get(WATCH_GROWING):  # started or stopped growing: the refresh timer changes
        st.session_state[WATCH_GROWING] = growing
        st.rerun()
    ago = max(0, int(time.time() - rec.updated))
    target = f"{rec.target_step:,}" if rec.target_step else "?"
    if growing:
        st.progress(min(1.0, rec.last_step / rec.target_step) if rec.target_step else 0.0,
                    text=t("train.watch.growing", step=f"{rec.last_step:,}", target=target, s=ago))
    else:
        st.caption(t("train.watch.still", step=f"{rec.last_step:,}", target=target, s=ago))
    metric_cols = st.columns(3)
    metric_cols[0].metric(t("train.metric.step"), f"{rec.last_step:,}")
    epochs = rec.history.get("epoch")
    metric_cols[1].metric(t("train.metric.epoch"), f"{epochs[-1]:.2f}" if epochs is not None and len(epochs) else "–")
    metric_cols[2].metric(t("train.metric.eta"), charts.duration(rec.eta() if growing else None))
    left, right = st.columns([2, 3])
    with left:
        frame = rec.frame_index_at(rec.last_step)
        if frame is not None and not growing and len(rec.frame_steps) > 1:  # finished: look back through its grids
            frame = st.select_slider(t("train.watch.grids"), range(len(rec.frame_steps)), value=frame,
                                     format_func=lambda i: f"{rec.frame_steps[i]:,}", key="train_watch_frame")
        _recorded_grid(rec, frame)
    with right:
        c = rec.train_config
        st.caption(t("train.watch.about", preset=c.get("preset", "?"), dataset=rec.dataset or "?",
                     batch=c.get("batch_size", "?"), lr=c.get("lr_g", "?"), k=c.get("k", "?")))
        if (rec.path / "config.json").is_file() and st.button(t("train.watch.open_latent"), key="train_watch_latent",
                                                            icon=":material/explore:"):
            st.session_state[OPEN_LATENT] = f"runs:{name}"
            st.rerun()
    _curves(rec.history, "train_watch")


def _await_run_folders() -> None:
    """While no run folder exists: look again every second, and redraw the view when one appears."""
    if run_folders(runs_root()):
        st.rerun()


def _watch() -> None:
    root = runs_root()
    st.caption(t("train.watch.intro", root=root.name))
    folders = run_folders(root)
    if not folders:
        st.info(t("train.watch.none", root=root.name))
        st.fragment(_await_run_folders, run_every=REFRESH_SECONDS)()
        return
    names = [p.name for p in folders]
    if st.session_state.get("train_watch_run") not in names:
        st.session_state["train_watch_run"] = names[0]  # the most recently updated run
    name = st.selectbox(t("train.watch.choose"), names, key="train_watch_run")
    try:
        growing = _is_growing(_read_watched(name))
    except (RecordingError, OSError):
        growing = True  # no step written yet (or being replaced): look again every second
    st.session_state[WATCH_GROWING] = growing
    st.fragment(_watch_view, run_every=REFRESH_SECONDS if growing else None)(name)


# --- the model and the lecture's code ---------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=32)
def _layer_tables(mc: ModelConfig) -> tuple[list[dict], list[dict], int, int]:
    g, d = build_models(mc)
    return (describe(g, (mc.latent_dim,)), describe(d, (mc.channels, mc.image_size, mc.image_size)),
            count_parameters(g), count_parameters(d))


def _table(rows: list[dict]) -> list[dict]:
    return [{t("train.model.col_layer"): r["layer"], t("train.model.col_shape"): charts.shape_text(r["output_shape"]),
             t("train.model.col_params"): r["params"]} for r in rows]


def _model_tables(mc: ModelConfig) -> None:
    try:
        g_rows, d_rows, g_total, d_total = _layer_tables(mc)
    except ValueError as exc:
        st.error(t("train.model.cannot_build", reason=error_text(exc)))
        return
    p = get_preset(mc.preset)
    with st.expander(t("train.model.title", preset=mc.preset, g=f"{g_total:,}", d=f"{d_total:,}"),
                     expanded=st.session_state.get(TRAIN_RUN) is None):
        st.caption(t("train.model.source", description=_maybe(f"train.preset_desc.{mc.preset}", p.description),
                     source=p.source))
        left, right = st.columns(2)
        left.markdown(t("train.model.generator", latent=mc.latent_dim, n=f"{g_total:,}"))
        left.dataframe(_table(g_rows), hide_index=True, width="stretch")
        right.markdown(t("train.model.discriminator", n=f"{d_total:,}"))
        right.dataframe(_table(d_rows), hide_index=True, width="stretch")


@st.cache_data(show_spinner=False, max_entries=4)
def _lecture_layer_rows(mc: ModelConfig) -> tuple[list[dict], list[dict]]:
    """Each Keras line beside the PyTorch modules it became, printed from a freshly built model."""
    g, d = build_models(mc)
    rows = lambda pairs, net: [{"Keras": keras, "PyTorch": "\n".join(repr(net[i]) for i in idx)}  # noqa: E731
                               for keras, idx in pairs]
    return rows(lecture.GENERATOR_LAYERS, g.net), rows(lecture.DISCRIMINATOR_LAYERS, d.net)


def _lecture_code(mc: ModelConfig) -> None:
    """The real PyTorch D and G steps that run; for tf-tutorial, the lecture's Keras code beside them."""
    with st.expander(t("train.code.title"), icon=":material/code:"):
        st.caption(t("train.code.caption"))
        torch_col, keras_col = st.columns(2) if mc.preset == "tf-tutorial" else (st.container(), None)
        with torch_col:
            st.markdown(t("train.code.torch"))
            for method in (Algorithm1.d_step, Algorithm1.g_step):
                st.code(textwrap.dedent(inspect.getsource(method)), language="python")
        if keras_col is None:
            st.caption(t("train.code.tf_only"))
            return
        with keras_col:
            st.markdown(t("train.code.keras"))
            st.code(lecture.KERAS_SOURCE, language="python")
        st.markdown(t("train.code.map_steps"))
        st.caption(t("train.code.map_steps_caption"))
        st.dataframe([{t("train.code.col_keras"): keras, t("train.code.col_method"): f"Algorithm1.{method}",
                       t("train.code.col_torch"): torch_line}
                      for keras, method, torch_line in lecture.TRAIN_STEP_LINES], hide_index=True, width="stretch")
        g_rows, d_rows = _lecture_layer_rows(mc)
        header = {"Keras": t("train.code.col_keras"), "PyTorch": t("train.code.col_module")}
        relabel = lambda rows: [{header[k]: v for k, v in r.items()} for r in rows]  # noqa: E731
        st.markdown(t("train.code.map_g"))
        st.dataframe(relabel(g_rows), hide_index=True, width="stretch")
        st.markdown(t("train.code.map_d"))
        st.dataframe(relabel(d_rows), hide_index=True, width="stretch")


# --- the page -------------------------------------------------------------------------------------

_preset_key, _dataset_key = _url_keys()
URL_PARAMS = _url_params(_preset_key, _dataset_key)
restore(URL_PARAMS, "train")

st.title(t("train.title"))
if st.session_state.get(TRAIN_RUN) is None:  # once a run exists its grid needs the room (projector: one screen)
    st.caption(t("train.intro"))

_open_latent = st.session_state.pop(OPEN_LATENT, None)  # "run", or "runs:NAME" for a watched folder
if _open_latent:
    st.session_state[OPEN_IN_LATENT] = _open_latent  # the latent page offers that generator first
    try:
        st.switch_page("views/latent.py")
    except StreamlitAPIException:
        _notice("info", t("train.no_latent_page"))

_default("train_mode", "live")
# In the sidebar: the live grid then starts high enough to fit one 1280x720 projector screen.
_mode = st.sidebar.radio(t("train.mode.label"), MODES, key="train_mode",
                         format_func=lambda m: t(f"train.mode.{m}"))

if _mode == "replay":
    _replay()
    _lecture_code(default_model_config("tf-tutorial"))
elif _mode == "watch":
    _watch()
else:
    _run: TrainingRun | None = st.session_state.get(TRAIN_RUN)
    if _run is not None:
        _run.heartbeat()  # first thing: a slow page run must not look like a closed tab
    _locked = (_run is not None and _run.is_alive()) or st.session_state.get(QUEUED) is not None
    _resume = _resume_checkpoint(_locked)
    _settings_now = _settings(_locked, _resume)
    _own = _own_images(_settings_now, _locked) if _settings_now.dataset == OWN_IMAGES else None
    _take_over_offer()
    _buttons(_settings_now, _own, _resume)

    _run = st.session_state.get(TRAIN_RUN)
    _active = _run is not None and _run.snapshot().is_active
    st.session_state[WAS_ACTIVE] = _active
    # Refresh about once a second only while a run is active or waits in the queue; else draw once (no timer).
    _live = _active or st.session_state.get(QUEUED) is not None
    st.fragment(_live_view, run_every=REFRESH_SECONDS if _live else None)()
    teaching_notes("train.live")  # below the live figures: the grid and charts come first on a projector
    _results()
    _model_tables(_settings_now.model)
    _lecture_code(_settings_now.model)

mirror(URL_PARAMS)
with st.sidebar:
    link_box()
