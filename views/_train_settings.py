"""The training page's settings: the sidebar widgets, their URL parameters and the two uploads
(a checkpoint to resume, a .zip of the student's own images).

Every widget is created with ``key=`` only; its first value is set once in session state
(``default``), so a value from a link (``views._urlstate.restore``) is not overwritten.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from gan_core.algorithm1 import PRIORS
from gan_core.checkpoint import Checkpoint, load_checkpoint
from gan_core.data.datasets import DATASETS, ImageDataset, dataset_names, load_image_zip
from gan_core.device import DEVICE_CHOICES, available_devices
from gan_core.i18n import has_key
from gan_core.images import make_grid, upscale
from gan_core.losses import LOSSES
from gan_core.models import PRESETS, ModelConfig, get_preset
from gan_core.trainer import TrainConfig
from views._cancellable import run_cancellable
from views._i18n import error_text, t, user_text
from views._session_keys import TRAIN_RUN
from views._theme import upscale_factor
from views._urlstate import Param

# Session-state keys this module owns: the widgets' keys, and the two parsed uploads. The keys of the
# model and optimiser widgets also name the preset (``per``): each preset keeps its own defaults.
MODE, DATASET, DOWNLOAD_DATA, PRESET = "train_mode", "train_dataset", "train_download", "train_preset"
SIZE, CHANNELS, LATENT, FC, BATCH = "train_size", "train_channels", "train_latent", "train_fc", "train_batch"
LR, BETA1, BETA2 = "train_lr", "train_beta1", "train_beta2"
LOSS, K, SMOOTHING, REUSE_FAKE, PRIOR = "train_loss", "train_k", "train_label_smoothing", "train_reuse_fake", "train_prior"
UNIT, STEPS, EPOCHS, SEED, DEVICE = "train_unit", "train_steps", "train_epochs", "train_seed", "train_device"
RESUME_FILE, RESUME = "train_resume_file", "train_resume_checkpoint"  # the upload; (file id, Checkpoint)
OWN_ZIP, UPLOADED = "train_zip", "train_uploaded_dataset"  # the upload; ((file id, size, channels), ImageDataset)

OWN_IMAGES = "own images"
MODES = ("live", "replay", "watch")
DEFAULT_PRESET = "small"  # learns recognisable digits in about a minute on a laptop CPU
# What a user can get wrong in an upload: a damaged zip (bad CRC, truncated), an odd compression
# method or an encrypted entry, unreadable bytes. Shown as a sentence naming the upload, never a traceback.
UPLOAD_ERRORS = (ValueError, zipfile.BadZipFile, NotImplementedError, OSError, EOFError, zlib.error,
                 lzma.LZMAError, RecursionError, OverflowError, KeyError, TypeError)


def per(key: str, *parts) -> str:
    """The key of a widget that exists once per preset, dataset or network, e.g. ``train_lr_d_small``."""
    return "_".join((key, *map(str, parts)))


def url_params(preset: str, dataset: str) -> list[Param]:
    """The settings mirrored in the URL (never uploaded files); widget keys depend on the preset."""
    p = get_preset(preset)
    per_net = [Param(f"{name}_{net}", per(key, net, preset), "float", lo, hi)
               for net in ("d", "g") for name, key, lo, hi in (("lr", LR, 1e-6, 10.0), ("beta1", BETA1, 0.0, 0.999),
                                                               ("beta2", BETA2, 0.0, 0.9999))]
    return [
        Param("mode", MODE, "choice", choices=MODES),
        Param("dataset", DATASET, "choice", choices=dataset_names() + [OWN_IMAGES]),  # never the file
        Param("preset", PRESET, "choice", choices=list(PRESETS)),
        Param("size", per(SIZE, preset), "choice", choices=list(p.image_sizes)),
        Param("channels", per(CHANNELS, dataset), "choice", choices=(1, 3)),
        Param("latent", per(LATENT, preset), "int", 1, 1024),
        Param("fc", per(FC, preset), "int", 0, 4096),
        Param("batch", per(BATCH, preset), "int", 2, 4096),
        Param("loss", LOSS, "choice", choices=list(LOSSES)),
        Param("k", K, "int", 1, 100),
        *per_net,
        Param("smoothing", SMOOTHING, "float", 0.0, 0.45),
        Param("reuse", REUSE_FAKE, "bool"),
        Param("prior", PRIOR, "choice", choices=PRIORS),
        Param("unit", UNIT, "choice", choices=("steps", "epochs")),
        Param("steps", STEPS, "int", 1, 10_000_000),
        Param("epochs", EPOCHS, "float", 0.01, 10_000.0),
        Param("seed", SEED, "int", 0, 2**31 - 1),
        Param("device", DEVICE, "choice", choices=DEVICE_CHOICES),
    ]


def url_keys() -> tuple[str, str]:
    """(preset, dataset) whose widget keys the URL names: the session's, else the link's, else defaults."""
    preset = st.session_state.get(PRESET) or st.query_params.get("preset")
    dataset = st.session_state.get(DATASET) or st.query_params.get("dataset")
    return (preset if preset in PRESETS else DEFAULT_PRESET,
            dataset if dataset in dataset_names() + [OWN_IMAGES] else "mnist5k")


def default(key: str, value) -> None:
    """A widget's first value (set once; the widget is then created with ``key=`` only)."""
    st.session_state.setdefault(key, value)


def maybe(key: str, fallback: str) -> str:
    """The catalog's text for ``key`` when there is one (e.g. a dataset's description), else ``fallback``."""
    return t(key) if has_key(key) else fallback


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


def resume_checkpoint(locked: bool) -> Checkpoint | None:
    with st.sidebar.expander(t("train.resume.title"), expanded=st.session_state.get(RESUME) is not None):
        upload = st.file_uploader(t("train.resume.upload"), type=["zip"], key=RESUME_FILE, disabled=locked)
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
                st.error(t("train.resume.cannot_use", name=user_text(upload.name), reason=upload_reason(exc)))
                return None
            st.session_state[RESUME] = (upload.file_id, ckpt)
            if ckpt.dataset.get("name") in dataset_names():  # continue on the checkpoint's dataset
                st.session_state[DATASET] = ckpt.dataset["name"]
        st.success(t("train.resume.continues", step=f"{ckpt.step:,}"))
        if ckpt.discriminator is None:
            st.caption(t("train.resume.no_discriminator"))
        return ckpt


def upload_reason(exc: BaseException) -> str:
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
    default(DATASET, "mnist5k")
    name = st.sidebar.selectbox(t("train.dataset"), options, key=DATASET, disabled=locked,
                                format_func=lambda n: t("train.own_images") if n == OWN_IMAGES else n)
    download = False
    if name in DATASETS:
        st.sidebar.caption(maybe(f"train.dataset_desc.{name}", DATASETS[name].description))
        if not DATASETS[name].offline:
            download = st.sidebar.checkbox(t("train.download"), key=DOWNLOAD_DATA, disabled=locked)
    else:
        st.sidebar.caption(t("train.own_images_help"))
    return name, download


def _model_choice(locked: bool, resume: Checkpoint | None, dataset: str) -> ModelConfig:
    if resume is not None:
        mc = resume.model_config
        st.sidebar.caption(t("train.model_from_checkpoint", preset=mc.preset, size=mc.image_size,
                             colour=t(f"train.colour.{mc.channels}"), latent=mc.latent_dim))
        return mc
    default(PRESET, DEFAULT_PRESET)
    preset = st.sidebar.selectbox(t("train.preset"), list(PRESETS), key=PRESET, disabled=locked)
    p = get_preset(preset)
    st.sidebar.caption(maybe(f"train.preset_desc.{preset}", p.description))
    default(per(SIZE, preset), p.image_sizes[0])
    size = st.sidebar.selectbox(t("train.image_size"), p.image_sizes, key=per(SIZE, preset),
                                disabled=locked or len(p.image_sizes) == 1)
    default(per(CHANNELS, dataset), 3 if dataset == "cifar10" else 1)
    colour = st.sidebar.radio(t("train.colour.label"), (1, 3), horizontal=True, key=per(CHANNELS, dataset),
                              format_func=lambda c: t(f"train.colour.{c}"), disabled=locked)
    default(per(LATENT, preset), p.defaults.latent_dim)
    latent = st.sidebar.number_input(t("train.latent_dim"), 1, 1024, key=per(LATENT, preset), disabled=locked)
    fc_width = p.defaults.fc_width
    if fc_width:
        default(per(FC, preset), fc_width)
        fc_width = st.sidebar.number_input(t("train.fc_width"), 0, 4096, step=32, key=per(FC, preset),
                                           disabled=locked, help=t("train.fc_width_help"))
    return ModelConfig(preset, int(size), int(colour), int(latent), p.defaults.ngf, p.defaults.ndf, int(fc_width))


def sidebar_settings(locked: bool, resume: Checkpoint | None) -> Settings:
    st.sidebar.header(t("train.settings"))
    dataset, download = _dataset_choice(locked)
    model = _model_choice(locked, resume, dataset)
    d = get_preset(model.preset).defaults
    key = model.preset  # preset defaults: one set of widgets per preset
    sb = st.sidebar
    sb.subheader(t("train.training"))
    default(per(BATCH, key), d.batch_size)
    batch = sb.number_input(t("train.batch_size"), 2, 4096, key=per(BATCH, key), disabled=locked)
    default(LOSS, "non-saturating")
    loss = sb.selectbox(t("train.loss"), list(LOSSES), key=LOSS, disabled=locked,
                        format_func=lambda name: t(f"train.loss_name.{name}"))
    sb.caption(t(f"train.loss_desc.{loss}"))
    default(K, 1)
    k = sb.number_input(t("train.k"), 1, 100, key=K, disabled=locked)
    lr_cols, b1_cols, b2_cols = sb.columns(2), sb.columns(2), sb.columns(2)
    lr = {}
    betas = {}
    for i, net in enumerate(("d", "g")):
        name = net.upper()
        for field, value in ((LR, d.lr), (BETA1, d.betas[0]), (BETA2, d.betas[1])):
            default(per(field, net, key), float(value))
        lr[net] = lr_cols[i].number_input(t("train.lr", net=name), 1e-6, 10.0, step=1e-5, format="%.5f",
                                          key=per(LR, net, key), disabled=locked)
        b1 = b1_cols[i].number_input(t("train.beta1", net=name), 0.0, 0.999, step=0.05, format="%.3f",
                                     key=per(BETA1, net, key), disabled=locked)
        b2 = b2_cols[i].number_input(t("train.beta2", net=name), 0.0, 0.9999, step=0.001, format="%.4f",
                                     key=per(BETA2, net, key), disabled=locked)
        betas[net] = (float(b1), float(b2))
    default(SMOOTHING, 0.0)
    smoothing = sb.slider(t("train.label_smoothing"), 0.0, 0.45, step=0.05, key=SMOOTHING,
                          disabled=locked)
    default(REUSE_FAKE, True)
    reuse = sb.checkbox(t("train.reuse_fake"), key=REUSE_FAKE, disabled=locked or k != 1,
                        help=t("train.reuse_fake_help")) and k == 1
    default(PRIOR, "normal")
    prior = sb.selectbox(t("train.prior"), PRIORS, key=PRIOR, disabled=locked,
                         format_func=lambda p: t(f"train.prior_name.{p}"))
    default(UNIT, "steps")
    unit = sb.radio(t("train.unit"), ("steps", "epochs"), horizontal=True, key=UNIT, disabled=locked,
                    format_func=lambda u: t(f"train.unit_name.{u}"))
    if unit == "steps":
        default(STEPS, 2000)
        amount = sb.number_input(t("train.steps"), 1, 10_000_000, step=100, key=STEPS, disabled=locked)
    else:
        default(EPOCHS, 5.0)
        amount = sb.number_input(t("train.epochs"), 0.01, 10_000.0, step=1.0, key=EPOCHS, disabled=locked)
    default(SEED, 0)
    seed = sb.number_input(t("train.seed"), 0, 2**31 - 1, key=SEED, disabled=locked)
    default(DEVICE, DEVICE_CHOICES[0])
    device = sb.selectbox(t("train.device"), DEVICE_CHOICES, key=DEVICE, disabled=locked)
    sb.caption(t("train.devices_here", devices=", ".join(available_devices())))
    return Settings(dataset, download, model, int(batch), float(lr["d"]), float(lr["g"]), betas["d"], betas["g"],
                    loss, int(k), float(smoothing), bool(reuse), prior, unit, float(amount), int(seed), device)


def own_images(settings: Settings, locked: bool) -> ImageDataset | None:
    """The uploader for a .zip of the student's images, with a preview of what was found and skipped."""
    upload = st.sidebar.file_uploader(t("train.own.upload"), type=["zip"], key=OWN_ZIP, disabled=locked)
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
                    t("train.own.reading", name=user_text(upload.name)))
            except UPLOAD_ERRORS as exc:
                st.session_state.pop(UPLOADED, None)
                st.error(t("train.own.cannot_use", name=user_text(upload.name), reason=upload_reason(exc)))
                return None
            st.session_state[UPLOADED] = cached = (cache_key, dataset)
        dataset = cached[1]
        classes = (", ".join(user_text(c, 30) for c in dataset.class_names[:10]) if dataset.class_names  # sub-folder names
                   else t("train.own.unlabelled"))
        st.markdown(t("train.own.found", n=f"{len(dataset):,}", size=dataset.image_size,
                      colour=t(f"train.colour.{dataset.channels}"), classes=classes))
        st.image(upscale(make_grid(dataset.images[:32], nrow=8), upscale_factor(m.image_size)),
                 caption=t("train.own.preview"), output_format="PNG")
        if dataset.skipped:
            st.markdown(t("train.own.skipped", n=f"{len(dataset.skipped):,}"))
            st.dataframe([{t("train.own.col_file"): f, t("train.own.col_reason"): error_text(r, markdown=False)} for f, r in dataset.skipped],
                         hide_index=True, width="stretch", height=min(300, 40 + 35 * len(dataset.skipped)))
        return dataset
