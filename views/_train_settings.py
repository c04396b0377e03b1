"""The training page's settings: the sidebar widgets, their URL parameters and the checkpoint upload
(to resume); the student's own images are ``views._train_own``.

Every widget is created with ``key=`` only; its first value is set once in session state
(``default``), so a value from a link (``views._urlstate.restore``) is not overwritten.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from gan_core.ablations import ABLATIONS, canonical_ablations
from gan_core.checkpoint import Checkpoint, load_checkpoint
from gan_core.data.datasets import DATASETS, dataset_names
from gan_core.device import available_devices
from gan_core.i18n import has_key
from gan_core.models import MODEL_SETTINGS, PRESETS, ModelConfig, ablations_for, get_preset, preset_defaults
from gan_core.settings import declared
from gan_core.trainer import EPOCHS as EPOCHS_SETTING
from gan_core.trainer import STEPS as STEPS_SETTING
from gan_core.trainer import TrainConfig
from views._i18n import error_text, t, user_text
from views._settings import PERSIST, param, params, widget
from views._urlstate import Param

# Session-state keys this module owns: the widgets' keys, and the parsed checkpoint upload. The keys of the
# model and optimiser widgets also name the preset (``per``): each preset keeps its own defaults.
MODE, DATASET, DOWNLOAD_DATA, PRESET = "train_mode", "train_dataset", "train_download", "train_preset"
SIZE, CHANNELS, LATENT, FC, BATCH = "train_size", "train_channels", "train_latent", "train_fc", "train_batch"
ABLATE, ABLATE_SEEN = "train_ablations", "train_ablations_seen"  # the chosen ablations; those the defaults follow
LR, BETA1, BETA2 = "train_lr", "train_beta1", "train_beta2"
LOSS, K, SMOOTHING, REUSE_FAKE, PRIOR = "train_loss", "train_k", "train_label_smoothing", "train_reuse_fake", "train_prior"
UNIT, STEPS, EPOCHS, SEED, DEVICE = "train_unit", "train_steps", "train_epochs", "train_seed", "train_device"
RESUME_FILE, RESUME = "train_resume_file", "train_resume_checkpoint"  # the upload; (file id, Checkpoint)
RESCUED = "rescued:"  # RESUME's id for a run kept when its app process died (views/_rescued.py): RESCUED + folder
FORGET_RESCUED = "train_resume_forget_rescued"

OWN_IMAGES = "own images"
MODES = ("live", "replay", "watch", "compare")
COMPARE_ABLATION = "train_compare_ablation"  # the ablation the compare view shows beside the baseline
COMPARE_SOURCE = "train_compare_source"  # the compare view replays the study ("replay") or trains the pair ("live")
COMPARE_SOURCES = ("replay", "live")
UNITS = ("steps", "epochs")
DEFAULT_STEPS = 2000
FIELDS = declared(TrainConfig)
# the training settings drawn under "Training" (the dataset and the model have their own places)
TRAINING = [name for name, s in FIELDS.items() if s.widget and name not in ("dataset", *MODEL_SETTINGS)]
KNOWN_KEYS = ("batch_size", "k", "loss", "lr_d", "lr_g", "betas_d", "betas_g", "prior", "label_smoothing",
              "reuse_fake", "seed", "device")
DEFAULT_PRESET = "small"  # learns recognisable digits in about a minute on a laptop CPU
# What a user can get wrong in an upload: a damaged zip (bad CRC, truncated), an odd compression
# method or an encrypted entry, unreadable bytes. Shown as a sentence naming the upload, never a traceback.
UPLOAD_ERRORS = (ValueError, zipfile.BadZipFile, NotImplementedError, OSError, EOFError, zlib.error,
                 lzma.LZMAError, RecursionError, OverflowError, KeyError, TypeError)


def per(key: str, *parts) -> str:
    """The key of a widget that exists once per preset, dataset or network, e.g. ``train_lr_d_small``."""
    return "_".join((key, *map(str, parts)))


def field_keys(preset: str, dataset: str) -> dict[str, str | tuple[str, str]]:
    """The widget key of every ``TrainConfig`` field the page shows (a pair: one key per number)."""
    return {
        "preset": PRESET, "dataset": DATASET, "image_size": per(SIZE, preset), "channels": per(CHANNELS, dataset),
        "latent_dim": per(LATENT, preset), "fc_width": per(FC, preset), "ablations": per(ABLATE, preset),
        "batch_size": per(BATCH, preset),
        "k": K, "loss": LOSS, "lr_d": per(LR, "d", preset), "lr_g": per(LR, "g", preset),
        "betas_d": (per(BETA1, "d", preset), per(BETA2, "d", preset)),
        "betas_g": (per(BETA1, "g", preset), per(BETA2, "g", preset)),
        "prior": PRIOR, "label_smoothing": SMOOTHING, "reuse_fake": REUSE_FAKE, "seed": SEED, "device": DEVICE,
        # a setting declared with a widget later gets a key of its own, and its widget below the others
        **{name: f"train_{name}" for name in TRAINING if name not in KNOWN_KEYS},
    }


def url_params(preset: str, dataset: str) -> list[Param]:
    """The settings mirrored in the URL (never uploaded files), from their declarations; widget keys
    depend on the preset and the dataset."""
    narrowed = {"dataset": dataset_names() + [OWN_IMAGES], "image_size": list(get_preset(preset).image_sizes),
                "ablations": ablations_for(preset)}
    keys = field_keys(preset, dataset)
    fields = [p for name, setting in declared(TrainConfig).items() if setting.url
              for p in params(setting, keys[name], **({"choices": narrowed[name]} if name in narrowed else {}))]
    return [Param("mode", MODE, "choice", choices=MODES), Param("ablate", COMPARE_ABLATION, "choice", choices=list(ABLATIONS)),
            Param("compare", COMPARE_SOURCE, "choice", choices=COMPARE_SOURCES),
            *fields,
            Param("unit", UNIT, "choice", choices=UNITS), param(STEPS_SETTING, STEPS), param(EPOCHS_SETTING, EPOCHS)]


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
    training: dict[str, Any]  # the other TrainConfig fields the page shows, by field name
    unit: str  # "steps" or "epochs"
    amount: float

    def train_config(self, dataset_name: str) -> TrainConfig:
        return TrainConfig(**self.model.to_dict(), dataset=dataset_name, **self.training)


def resume_checkpoint(locked: bool) -> Checkpoint | None:
    with st.sidebar.expander(t("train.resume.title"), expanded=st.session_state.get(RESUME) is not None):
        upload = st.file_uploader(t("train.resume.upload"), type=["zip"], key=RESUME_FILE, disabled=locked)
        cached = st.session_state.get(RESUME)
        if upload is None and cached is not None and str(cached[0]).startswith(RESCUED):
            return _rescued_checkpoint(cached, locked)
        if upload is None:
            st.session_state.pop(RESUME, None)
            return None
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


def _rescued_checkpoint(cached: tuple, locked: bool) -> Checkpoint:
    """The kept run the student chose to continue (views/_rescued.py), until an upload or "start afresh"."""
    ckpt = cached[1]
    st.success(t("train.resume.continues", step=f"{ckpt.step:,}"))
    st.caption(t("rescued.folder", name=user_text(cached[0].removeprefix(RESCUED))))
    if st.button(t("rescued.afresh"), key=FORGET_RESCUED, disabled=locked):
        st.session_state.pop(RESUME, None)
        st.rerun()
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
    name = widget(FIELDS["dataset"], DATASET, options=options, disabled=locked,
                  format_func=lambda n: t("train.own_images") if n == OWN_IMAGES else n)
    download = False
    if name in DATASETS:
        st.sidebar.caption(maybe(f"train.dataset_desc.{name}", DATASETS[name].description))
        if not DATASETS[name].offline:
            download = st.sidebar.checkbox(t("train.download"), key=DOWNLOAD_DATA, disabled=locked,
                                           persist_state=PERSIST)
    else:
        st.sidebar.caption(t("train.own_images_help"))
    return name, download


def _model_choice(locked: bool, resume: Checkpoint | None, dataset: str) -> ModelConfig:
    if resume is not None:
        mc = resume.model_config
        st.sidebar.caption(t("train.model_from_checkpoint", preset=mc.preset, size=mc.image_size,
                             colour=t(f"train.colour.{mc.channels}"), latent=mc.latent_dim))
        if mc.ablations:
            st.sidebar.caption(t("train.model.ablated", guidelines=guidelines(mc.ablations)))
        return mc
    default(PRESET, DEFAULT_PRESET)
    preset = widget(FIELDS["preset"], PRESET, disabled=locked)
    p = get_preset(preset)
    keys = field_keys(preset, dataset)
    st.sidebar.caption(maybe(f"train.preset_desc.{preset}", p.description))
    default(keys["image_size"], p.image_sizes[0])
    size = widget(FIELDS["image_size"], keys["image_size"], options=p.image_sizes,
                  disabled=locked or len(p.image_sizes) == 1)
    default(keys["channels"], 3 if dataset in ("cifar10", "shapes") else 1)
    colour = widget(FIELDS["channels"], keys["channels"], format_func=lambda c: t(f"train.colour.{c}"),
                    disabled=locked)
    default(keys["latent_dim"], p.defaults.latent_dim)
    latent = widget(FIELDS["latent_dim"], keys["latent_dim"], disabled=locked)
    fc_slot = st.sidebar.container()  # filled below: fc-hidden removes small's hidden layer, and its width
    default(keys["ablations"], [])
    ablations = canonical_ablations(widget(
        FIELDS["ablations"], keys["ablations"], options=ablations_for(preset), disabled=locked,
        format_func=lambda name: error_text(ABLATIONS[name].short, markdown=False),  # a chip is narrow
        placeholder=t("train.ablate_none"), help=t("train.ablate_help")))
    fc_width = preset_defaults(preset, ablations).fc_width
    if fc_width:
        default(keys["fc_width"], fc_width)
        fc_width = widget(FIELDS["fc_width"], keys["fc_width"], fc_slot, disabled=locked, help=t("train.fc_width_help"))
    return ModelConfig(preset, int(size), int(colour), int(latent), p.defaults.ngf, p.defaults.ndf, int(fc_width),
                       ablations)


def guidelines(names) -> str:
    """The guidelines the ablations ``names`` break, in the session's language."""
    return "; ".join(error_text(ABLATIONS[name].guideline) for name in names)


def first_values(model: ModelConfig, ablations: tuple[str, ...] | None = None) -> TrainConfig:
    """Every training setting's first value for ``model`` (with ``ablations`` instead of its own)."""
    model = model if ablations is None else replace(model, ablations=ablations)
    return TrainConfig(**{**model.to_dict(), "fc_width": None}).resolved()  # fc-hidden refuses a width given


def follow_ablations(model: ModelConfig, keys: dict) -> None:
    """A training setting left at its first value follows the chosen ablations (adam-beta1-0.9: β1 from
    0.5 to 0.9, and back when it is removed); one set by hand stays, and Start says if it contradicts."""
    seen = per(ABLATE_SEEN, model.preset)
    before = st.session_state.get(seen)
    st.session_state[seen] = model.ablations
    if before is None or before == model.ablations:
        return
    old, new = first_values(model, before), first_values(model)
    for name in TRAINING:
        olds, news = getattr(old, name), getattr(new, name)
        pairs = zip(keys[name], olds, news) if isinstance(keys[name], tuple) else [(keys[name], olds, news)]
        for key, was, now in pairs:
            if was != now and st.session_state.get(key) == was:
                st.session_state[key] = now


def sidebar_settings(locked: bool, resume: Checkpoint | None) -> Settings:
    st.sidebar.header(t("train.settings"))
    dataset, download = _dataset_choice(locked)
    model = _model_choice(locked, resume, dataset)
    keys = field_keys(model.preset, dataset)  # preset defaults: one set of model/optimiser widgets per preset
    sb = st.sidebar
    sb.subheader(t("train.training"))
    follow_ablations(model, keys)
    firsts = first_values(model)
    for name in TRAINING:
        value = getattr(firsts, name)
        for key, v in (zip(keys[name], value) if isinstance(keys[name], tuple) else [(keys[name], value)]):
            default(key, v)
    chosen = {"batch_size": widget(FIELDS["batch_size"], keys["batch_size"], disabled=locked)}
    chosen["loss"] = widget(FIELDS["loss"], keys["loss"], disabled=locked,
                            format_func=lambda name: t(f"train.loss_name.{name}"))
    sb.caption(t(f"train.loss_desc.{chosen['loss']}"))
    chosen["k"] = widget(FIELDS["k"], keys["k"], disabled=locked)
    columns = {name: sb.columns(2) for name in ("lr", "beta1", "beta2")}  # D and G side by side
    for i, net in enumerate(("d", "g")):
        chosen[f"lr_{net}"] = widget(FIELDS[f"lr_{net}"], keys[f"lr_{net}"], columns["lr"][i], disabled=locked)
        betas = FIELDS[f"betas_{net}"]
        chosen[f"betas_{net}"] = tuple(
            float(widget(betas, key, columns[which][i], label=t(f"train.{which}", net=net.upper()), disabled=locked))
            for key, which in zip(keys[f"betas_{net}"], ("beta1", "beta2")))
    chosen["label_smoothing"] = widget(FIELDS["label_smoothing"], keys["label_smoothing"], disabled=locked)
    k = chosen["k"]
    chosen["reuse_fake"] = widget(FIELDS["reuse_fake"], keys["reuse_fake"], disabled=locked or k != 1,
                                  help=t("train.reuse_fake_help")) and k == 1
    chosen["prior"] = widget(FIELDS["prior"], keys["prior"], disabled=locked,
                             format_func=lambda p: t(f"train.prior_name.{p}"))
    default(UNIT, "steps")
    unit = sb.radio(t("train.unit"), UNITS, horizontal=True, key=UNIT, disabled=locked, persist_state=PERSIST,
                    format_func=lambda u: t(f"train.unit_name.{u}"))
    if unit == "steps":
        default(STEPS, DEFAULT_STEPS)
        amount = widget(STEPS_SETTING, STEPS, disabled=locked)
    else:
        default(EPOCHS, 5.0)
        amount = widget(EPOCHS_SETTING, EPOCHS, disabled=locked)
    for name in TRAINING:  # seed, device and any other declared setting, as declared
        if name not in chosen:
            chosen[name] = widget(FIELDS[name], keys[name], disabled=locked)
    sb.caption(t("train.devices_here", devices=", ".join(available_devices())))
    return Settings(dataset, download, model, chosen, unit, float(amount))
