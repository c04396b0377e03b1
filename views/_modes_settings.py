"""The 2-D page's settings: the preset, the target, and every ``Toy2DConfig`` setting as declared
(``views._settings``), with in words what the preset does and what was changed from it. This module
owns their session-state keys, first values (``DEFAULTS``) and link parameters (``PARAMS``)."""

from __future__ import annotations

import streamlit as st

from gan_core.algorithm1 import PRIORS
from gan_core.losses import LOSSES
from gan_core.settings import declared
from gan_core.toy.optimizers import OPTIMIZERS
from gan_core.toy.toy2d import TARGETS
from gan_core.toy.toy2d_train import PRESETS, Toy2DConfig
from views._i18n import option_labels, t
from views._settings import PERSIST, params, widget
from views._urlstate import Param

DRAW, UPLOAD = "draw", "csv"  # a target the user draws or uploads (views/_modes_points.py)
TARGET_CHOICES = [*TARGETS, DRAW, UPLOAD]
CUSTOM = "custom"
TARGET = "modes_target"

# The settings widgets and the Toy2DConfig field each one sets (defaults: the first preset's config).
CONFIG_WIDGETS = {"hidden": "modes_hidden", "depth": "modes_depth", "noise_dim": "modes_noise_dim",
                  "prior": "modes_prior", "loss": "modes_loss", "k": "modes_k", "optimizer_d": "modes_opt_d",
                  "optimizer_g": "modes_opt_g", "lr_d": "modes_lr_d", "lr_g": "modes_lr_g",
                  "batch_size": "modes_batch", "seed": "modes_seed"}
FIRST_PRESET = "collapse-it"
DEFAULTS = {
    **{key: getattr(PRESETS[FIRST_PRESET].config, field) for field, key in CONFIG_WIDGETS.items()},
    "modes_preset": FIRST_PRESET, TARGET: PRESETS[FIRST_PRESET].config.target,
}
FIELDS = declared(Toy2DConfig)
PARAMS = [
    Param("preset", "modes_preset", "choice", choices=[*PRESETS, CUSTOM]),
    Param("target", TARGET, "choice", choices=list(TARGETS)),  # a drawing or a file cannot go in a link
    *[p for field, key in CONFIG_WIDGETS.items() for p in params(FIELDS[field], key)],  # as declared
]


def _apply_preset() -> None:
    """Preset callback: every setting (and the target) as the preset has it; a new run starts."""
    s = st.session_state
    if s.modes_preset == CUSTOM:
        return
    config = PRESETS[s.modes_preset].config
    for field, key in CONFIG_WIDGETS.items():
        s[key] = getattr(config, field)
    s[TARGET] = config.target


def _config() -> Toy2DConfig:
    """The run's settings from the widgets' values."""
    s = st.session_state
    values = {field: s[key] for field, key in CONFIG_WIDGETS.items()}
    values = {**values, "depth": int(values["depth"]), "noise_dim": int(values["noise_dim"]), "k": int(values["k"]),
              "seed": int(values["seed"])}
    target = s[TARGET] if s[TARGET] in TARGETS else PRESETS[FIRST_PRESET].config.target
    return Toy2DConfig(target=target, **values)


def _differences(config: Toy2DConfig, preset: str) -> list[str]:
    """'k = 1 (preset: 5)' for every setting that differs from the preset's."""
    reference = PRESETS[preset].config
    out = []
    for field in CONFIG_WIDGETS:
        mine, theirs = getattr(config, field), getattr(reference, field)
        if mine != theirs:
            out.append(t("modes.settings.differs_item", name=t(f"modes.settings.{field}"), value=mine, preset=theirs))
    if st.session_state[TARGET] != reference.target:
        out.append(t("modes.settings.differs_item", name=t("modes.target"), value=_target_label(
            st.session_state[TARGET]), preset=_target_label(reference.target)))
    return out


def _target_label(target: str) -> str:
    return t(f"modes.targets.{target}")


def choose_preset_and_target() -> None:
    """The preset and the target (beside the view: the first things a lecture picks)."""
    st.selectbox(t("modes.preset"), [*PRESETS, CUSTOM], key="modes_preset", on_change=_apply_preset,
                 format_func=option_labels("modes.presets", [*PRESETS, CUSTOM]), persist_state=PERSIST)
    st.selectbox(t("modes.target"), TARGET_CHOICES, key=TARGET, format_func=option_labels("modes.targets", TARGET_CHOICES),
                 persist_state=PERSIST)


def _widget_options(field: str) -> dict:
    """How a setting's widget names its options and what it says about it (the rest is declared)."""
    s = st.session_state
    return {"noise_dim": dict(help=t("modes.settings.noise_dim_help")),
            "prior": dict(format_func=option_labels("train.prior_name", PRIORS), horizontal=False),
            "loss": dict(format_func=option_labels("train.loss_name", LOSSES), help=t(f"train.loss_desc.{s.modes_loss}")),
            "k": dict(help=t("modes.settings.k_help")),
            "optimizer_d": dict(format_func=option_labels("common.optimizer", OPTIMIZERS)),
            "optimizer_g": dict(format_func=option_labels("common.optimizer", OPTIMIZERS)),
            "lr_d": dict(format_func=lambda v: f"{v:g}"), "lr_g": dict(format_func=lambda v: f"{v:g}")}.get(field, {})


def settings_panel() -> Toy2DConfig:
    """Every setting of the run (in an expander, so the view fits a screen), and in words what the
    preset does and what was changed from it."""
    s = st.session_state
    with st.expander(t("modes.settings.title")):
        a, b, c, d = st.columns(4)
        for field, column in (("hidden", a), ("depth", a), ("seed", a), ("noise_dim", b), ("prior", b), ("loss", c),
                              ("k", c), ("batch_size", c), ("optimizer_d", d), ("lr_d", d), ("optimizer_g", d),
                              ("lr_g", d)):
            widget(FIELDS[field], CONFIG_WIDGETS[field], column, **_widget_options(field))
        st.caption(t("modes.settings.new_run"))
    config = _config()
    st.markdown(t(f"modes.preset_why.{s.modes_preset}"))
    if s.modes_preset != CUSTOM:
        changed = _differences(config, s.modes_preset)
        if changed:
            st.caption(t("modes.settings.differs", items=", ".join(changed)))
    return config
