"""The training page's buttons: Start (or wait in the server's queue), Pause, Resume, Stop, Reset,
the single D / G steps of a paused run, and taking over this browser's run after a page reload.

The run itself is a ``gan_core.worker.TrainingRun`` in its own process; a button only asks it."""

from __future__ import annotations

import logging

import streamlit as st

from gan_core.checkpoint import Checkpoint
from gan_core.data.datasets import ImageDataset, load_dataset
from gan_core.run_cost import check_run_cost
from gan_core.runs_quota import clean
from gan_core.trainer import steps_for_epochs
from gan_core.worker import REGISTRY, RunLimitReached, TrainingRun
from views import _train_heartbeat as heartbeat
from views._cancellable import run_cancellable
from views._i18n import error_text, t, user_text
from views._session_keys import QUEUED, TRAIN_NOTICE, TRAIN_RUN
from views._train_live import WAS_ACTIVE
from views._train_results import SAVED
from views._train_settings import OWN_IMAGES, Settings

log = logging.getLogger(__name__)

# Session-state keys this module owns (the buttons' keys; ``train_step_d`` etc. are ``SINGLE_STEP`` + kind).
START, LEAVE_QUEUE, TAKE_OVER = "train_start", "train_leave_queue", "train_take_over"
PAUSE, RESUME_BUTTON, STOP, RESET = "train_pause", "train_resume", "train_stop", "train_reset"
BUTTON_ROW, SINGLE_STEP_ROW, SINGLE_STEP = "train_buttons", "train_single_steps", "train_step"


def notice(kind: str, text: str) -> None:
    """A message shown once, after the rerun that follows a button (``kind``: info, warning or error)."""
    st.session_state[TRAIN_NOTICE] = (kind, text)


def _start(settings: Settings, own: ImageDataset | None, resume: Checkpoint | None) -> None:
    old = st.session_state.pop(TRAIN_RUN, None)
    if old is not None:
        old.close()  # its process (and the memory it holds) ends now
    st.session_state.pop(SAVED, None)
    clean()  # a new run starts: abandoned runs go first when the runs folder is over its quota
    try:
        check_run_cost(settings.model, int(settings.training["batch_size"]))  # before the data is read
        if settings.dataset == OWN_IMAGES:
            if own is None:
                notice("error", t("train.start_failed", reason=t("train.own.upload_first")))
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
                          owner=heartbeat.browser_id())
        run.start()
    except RunLimitReached:  # every slot is taken (or others wait): wait in line, start by itself
        st.session_state[QUEUED] = (REGISTRY.enqueue(run.label, run.steps_to_train, owner=heartbeat.browser_id()), run)
        notice("info", t("train.queue.joined"))
        return
    except ValueError as exc:  # DatasetError, CheckpointError, settings that cannot work
        notice("error", t("train.start_failed", reason=error_text(exc)))
        return
    except Exception:  # never a traceback (or a server path) on the projector
        log.exception("could not start training")
        notice("error", t("train.start_failed_unexpected"))
        return
    st.session_state[TRAIN_RUN] = run
    if run.resume_changes:  # resuming applies the settings asked for now: say what that changed
        changed = ", ".join(t("train.resume.change", name=t(f"train.resume.setting.{name}"), old=_fmt(old), new=_fmt(new))
                            for name, (old, new) in sorted(run.resume_changes.items()))
        notice("info", t("train.resume.changed", changes=changed))


def _fmt(value) -> str:
    """A learning rate or a pair of betas, short."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(f"{v:g}" for v in value) + ")"
    return f"{value:g}"


def take_over_offer() -> None:
    """After a page reload this browser's run is still going: offer to take it over (not "another run")."""
    owner = heartbeat.browser_id()
    mine = REGISTRY.owned_by(owner) if owner is not None else None
    if mine is None or st.session_state.get(TRAIN_RUN) is mine:
        return
    mine.heartbeat()  # its browser is here, looking at the offer: the orphan watchdog must wait
    snap = mine.snapshot()
    with st.container(border=True):
        st.info(t("train.take_over.text", preset=snap.config["preset"], dataset=user_text(snap.dataset), step=f"{snap.step:,}"))
        if st.button(t("train.take_over.button"), icon=":material/sync_alt:", key=TAKE_OVER):
            st.session_state[TRAIN_RUN] = mine
            st.rerun()


def buttons(settings: Settings, own: ImageDataset | None, resume: Checkpoint | None) -> None:
    run: TrainingRun | None = st.session_state.get(TRAIN_RUN)
    status = run.snapshot().status if run is not None else None
    active = run is not None and run.is_alive()
    # A row that wraps instead of cutting labels ("Res…") at 150% zoom or in projector mode.
    row = st.container(horizontal=True, wrap=True, gap="small", key=BUTTON_ROW)

    def button(label: str, icon: str, key: str, disabled: bool, **kw) -> bool:
        return row.button(label, icon=f":material/{icon}:", key=key, disabled=disabled, width="content", **kw)

    queued = st.session_state.get(QUEUED)
    if queued is not None:
        if button(t("train.queue.leave"), "logout", LEAVE_QUEUE, False):
            REGISTRY.leave(queued[0])
            st.session_state.pop(QUEUED, None)
            st.rerun()
    elif button(t("train.start"), "play_arrow", START, active, type="primary"):
        _start(settings, own, resume)
        st.rerun()
    if button(t("train.pause"), "pause", PAUSE, status != "running"):
        run.pause()
        st.rerun()
    if button(t("train.resume_button"), "resume", RESUME_BUTTON, status != "paused"):
        run.resume()
        st.rerun()
    if button(t("train.stop"), "stop", STOP, not active):
        run.stop()
        st.rerun()
    if button(t("train.reset"), "restart_alt", RESET, run is None, help=t("train.reset_help")):
        run.close()
        for key in (TRAIN_RUN, SAVED, WAS_ACTIVE):
            st.session_state.pop(key, None)
        st.rerun()
    if status == "paused":
        _single_step_buttons(run)
    message = st.session_state.pop(TRAIN_NOTICE, None)
    if message is not None:
        getattr(st, message[0])(message[1])


def _single_step_buttons(run: TrainingRun) -> None:
    """Algorithm 1 on images, one line at a time (the training thread does the work; we wait)."""
    st.caption(t("train.single.caption", k=run.config.k))
    row = st.container(horizontal=True, wrap=True, gap="small", key=SINGLE_STEP_ROW)
    for kind, icon in (("d", "looks_one"), ("g", "looks_two"), ("iteration", "replay")):
        if row.button(t(f"train.single.{kind}"), icon=f":material/{icon}:", key=f"{SINGLE_STEP}_{kind}",
                      width="content", help=t(f"train.single.{kind}_help", k=run.config.k)):
            with st.spinner(t("train.single.working")):
                done = run.single_step(kind)
            if not done:
                notice("warning", t("train.single.not_done"))
            st.rerun()
