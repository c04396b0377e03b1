"""Train a DCGAN live: losses, D(x) and D(G(z)), and the sample grid update while G learns.

A thin view over ``gan_core.worker``: training runs in a background thread that never calls
Streamlit; this page reads ``run.snapshot()`` about once a second in a fragment.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from gan_core.checkpoint import Checkpoint, CheckpointError, checkpoint_zip_bytes, load_checkpoint
from gan_core.data import DATASETS, DatasetError, ImageDataset, dataset_names, load_dataset, load_image_zip
from gan_core.device import DEVICE_CHOICES, available_devices
from gan_core.images import gif_bytes, make_grid, png_bytes, upscale
from gan_core.limits import get_limits
from gan_core.losses import LOSSES
from gan_core.models import PRESETS, ModelConfig, build_models, count_parameters, describe, get_preset
from gan_core.trainer import PRIORS, TrainConfig
from gan_core.worker import REGISTRY, RunLimitReached, RunSnapshot, TrainingRun, steps_for_epochs
from views import _train_charts as charts

RUN, NOTICE, SAVED, WAS_ACTIVE = "train_run", "train_notice", "train_saved", "train_was_active"
UPLOADED, RESUME = "train_uploaded_dataset", "train_resume_checkpoint"
OPEN_LATENT = "train_open_latent"
OWN_IMAGES = "own images"
DEFAULT_PRESET = "small"  # learns recognisable digits in about a minute on a laptop CPU
REFRESH_SECONDS = 1.0
DOWNLOAD = ":material/download:"
GRID_PX = 420  # sample grids are upscaled to about this width for the projector
STATUS_TEXT = {"idle": "Starting", "running": "Training", "paused": "Paused", "stopped": "Stopped",
               "finished": "Finished", "diverged": "Diverged", "error": "Failed"}


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


def _grid_image(grid: np.ndarray) -> np.ndarray:
    return upscale(grid, max(1, round(GRID_PX / grid.shape[1])))


def _notice(kind: str, text: str) -> None:
    """A message shown once, after the rerun that follows a button."""
    st.session_state[NOTICE] = (kind, text)


# --- sidebar: settings ----------------------------------------------------------------------------

def _resume_checkpoint(locked: bool) -> Checkpoint | None:
    with st.sidebar.expander("Continue from a checkpoint", expanded=st.session_state.get(RESUME) is not None):
        upload = st.file_uploader("Checkpoint .zip (from Save checkpoint)", type=["zip"], key="train_resume_file",
                                  disabled=locked)
        if upload is None:
            st.session_state.pop(RESUME, None)
            return None
        cached = st.session_state.get(RESUME)
        if cached is not None and cached[0] == upload.file_id:
            ckpt = cached[1]
        else:
            try:
                ckpt = load_checkpoint(upload.getvalue())
            except CheckpointError as exc:
                st.error(f"This checkpoint cannot be used: {exc}")
                return None
            st.session_state[RESUME] = (upload.file_id, ckpt)
        st.success(f"Training will continue from step {ckpt.step:,}; the model comes from the checkpoint.")
        if ckpt.discriminator is None:
            st.caption("It has no discriminator, so D starts fresh.")
        return ckpt


def _dataset_choice(locked: bool, resume: Checkpoint | None) -> tuple[str, bool]:
    names = dataset_names()
    wanted = (resume.dataset.get("name") if resume else None) or "mnist5k"
    options = names + [OWN_IMAGES]
    labels = {OWN_IMAGES: "my own images (.zip)"}
    name = st.sidebar.selectbox("Dataset", options, index=options.index(wanted) if wanted in options else 0,
                                format_func=lambda n: labels.get(n, n), key="train_dataset", disabled=locked)
    download = False
    if name in DATASETS:
        st.sidebar.caption(DATASETS[name].description)
        if not DATASETS[name].offline:
            download = st.sidebar.checkbox("Download if missing (needs internet)", key="train_download",
                                           disabled=locked)
    else:
        st.sidebar.caption("A .zip of images; folders inside it are classes. Preview below.")
    return name, download


def _model_choice(locked: bool, resume: Checkpoint | None, dataset: str) -> ModelConfig:
    if resume is not None:
        mc = resume.model_config
        st.sidebar.caption(f"Model from the checkpoint: **{mc.preset}**, {mc.image_size}px, "
                           f"{'RGB' if mc.channels == 3 else 'grayscale'}, latent dim {mc.latent_dim}.")
        return mc
    presets = list(PRESETS)
    preset = st.sidebar.selectbox("Model preset", presets, index=presets.index(DEFAULT_PRESET), key="train_preset",
                                  disabled=locked)
    p = get_preset(preset)
    st.sidebar.caption(p.description)
    size = st.sidebar.selectbox("Image size (px)", p.image_sizes, key=f"train_size_{preset}",
                                disabled=locked or len(p.image_sizes) == 1)
    colour = st.sidebar.radio("Colour", (1, 3), index=1 if dataset == "cifar10" else 0, horizontal=True,
                              format_func=lambda c: "grayscale" if c == 1 else "RGB",
                              key=f"train_channels_{dataset}", disabled=locked)
    latent = st.sidebar.number_input("Latent dimension (size of z)", 1, 1024, p.defaults.latent_dim,
                                     key=f"train_latent_{preset}", disabled=locked)
    fc_width = p.defaults.fc_width
    if fc_width:
        fc_width = st.sidebar.number_input(
            "Fully-connected hidden units in G (D gets half; 0 = none)", 0, 4096, fc_width, step=32,
            key=f"train_fc_{preset}", disabled=locked,
            help="A hidden layer over all of D's convolution features lets D judge the whole digit, not only "
                 "strokes; set 0 to see the all-convolutional version plateau at rougher digits.")
    return ModelConfig(preset, int(size), int(colour), int(latent), p.defaults.ngf, p.defaults.ndf, int(fc_width))


def _settings(locked: bool, resume: Checkpoint | None) -> Settings:
    st.sidebar.header("Settings")
    dataset, download = _dataset_choice(locked, resume)
    model = _model_choice(locked, resume, dataset)
    d = get_preset(model.preset).defaults
    key = model.preset  # preset defaults: one set of widgets per preset
    sb = st.sidebar
    sb.subheader("Training")
    batch = sb.number_input("Batch size m", 2, 4096, d.batch_size, key=f"train_batch_{key}", disabled=locked)
    losses = list(LOSSES)
    loss = sb.selectbox("Loss", losses, index=losses.index("non-saturating"), key="train_loss", disabled=locked)
    sb.caption(LOSSES[loss].description)
    k = sb.number_input("k: D steps per G step", 1, 100, 1, key="train_k", disabled=locked)
    lr_cols, b1_cols, b2_cols = sb.columns(2), sb.columns(2), sb.columns(2)
    lr = {}
    betas = {}
    for i, net in enumerate(("d", "g")):
        name = net.upper()
        lr[net] = lr_cols[i].number_input(f"lr {name}", 1e-6, 10.0, float(d.lr), step=1e-5, format="%.5f",
                                          key=f"train_lr_{net}_{key}", disabled=locked)
        b1 = b1_cols[i].number_input(f"β1 {name}", 0.0, 0.999, float(d.betas[0]), step=0.05, format="%.3f",
                                     key=f"train_beta1_{net}_{key}", disabled=locked)
        b2 = b2_cols[i].number_input(f"β2 {name}", 0.0, 0.9999, float(d.betas[1]), step=0.001, format="%.4f",
                                     key=f"train_beta2_{net}_{key}", disabled=locked)
        betas[net] = (float(b1), float(b2))
    smoothing = sb.slider("One-sided label smoothing (real target = 1 − this)", 0.0, 0.45, 0.0, 0.05,
                          key="train_label_smoothing", disabled=locked)
    reuse = sb.checkbox("G step reuses D's fake batch", True, key="train_reuse_fake", disabled=locked or k != 1,
                        help="As pytorch/examples' DCGAN: the G step uses the G(z) made for the D step instead of "
                             "drawing new noise, so G runs forward once per iteration (faster). Off: Algorithm 1 "
                             "word for word. Needs k = 1.") and k == 1
    prior = sb.selectbox("Noise prior p_z", PRIORS, key="train_prior", disabled=locked,
                         format_func=lambda p: {"normal": "normal N(0, I)", "uniform": "uniform U(−1, 1)"}[p])
    unit = sb.radio("Train for", ("steps", "epochs"), horizontal=True, key="train_unit", disabled=locked)
    if unit == "steps":
        amount = sb.number_input("Generator steps", 1, 10_000_000, 2000, step=100, key="train_steps", disabled=locked)
    else:
        amount = sb.number_input("Epochs (passes over the data)", 0.01, 10_000.0, 5.0, step=1.0,
                                 key="train_epochs", disabled=locked)
    seed = sb.number_input("Seed", 0, 2**31 - 1, 0, key="train_seed", disabled=locked)
    device = sb.selectbox("Device", DEVICE_CHOICES, key="train_device", disabled=locked)
    sb.caption(f"Available here: {', '.join(available_devices())} (auto picks the first).")
    return Settings(dataset, download, model, int(batch), float(lr["d"]), float(lr["g"]), betas["d"], betas["g"],
                    loss, int(k), float(smoothing), bool(reuse), prior, unit, float(amount), int(seed), device)


def _own_images(settings: Settings, locked: bool) -> ImageDataset | None:
    """The uploader for a .zip of the student's images, with a preview of what was found and skipped."""
    upload = st.sidebar.file_uploader("Your images (.zip)", type=["zip"], key="train_zip", disabled=locked)
    with st.expander("Your images", expanded=st.session_state.get(RUN) is None):
        if upload is None:
            st.info("Upload a .zip of images in the sidebar. Put each class in its own folder to see class "
                    "names; any size is resized and centre-cropped to the model's image size.")
            return None
        m = settings.model
        cache_key = (upload.file_id, m.image_size, m.channels)
        cached = st.session_state.get(UPLOADED)
        if cached is None or cached[0] != cache_key:
            try:
                with st.spinner(f"Reading {upload.name} ..."):
                    dataset = load_image_zip(upload.getvalue(), m.image_size, m.channels, name=Path(upload.name).stem)
            except DatasetError as exc:
                st.session_state.pop(UPLOADED, None)
                st.error(f"This zip cannot be used: {exc}")
                return None
            st.session_state[UPLOADED] = cached = (cache_key, dataset)
        dataset = cached[1]
        st.markdown(f"**Found:** {dataset.describe()}")
        st.image(upscale(make_grid(dataset.images[:32], nrow=8), 2), caption="The first images, as the model sees them")
        if dataset.skipped:
            st.markdown(f"**Skipped {len(dataset.skipped):,} files:**")
            st.dataframe([{"file": f, "reason": r} for f, r in dataset.skipped], hide_index=True,
                         width="stretch", height=min(300, 40 + 35 * len(dataset.skipped)))
        return dataset


# --- buttons --------------------------------------------------------------------------------------

def _start(settings: Settings, own: ImageDataset | None, resume: Checkpoint | None) -> None:
    old = st.session_state.pop(RUN, None)
    if old is not None:
        old.stop()
    st.session_state.pop(SAVED, None)
    try:
        if settings.dataset == OWN_IMAGES:
            if own is None:
                raise DatasetError("upload a .zip of your images first (sidebar), or pick a dataset.")
            dataset = own
        else:
            with st.spinner(f"Loading {settings.dataset} ..."):
                dataset = load_dataset(settings.dataset, image_size=settings.model.image_size,
                                       channels=settings.model.channels, download=settings.download)
        config = settings.train_config(dataset.name)
        batch_k = (config.batch_size, config.k)
        steps = (int(settings.amount) if settings.unit == "steps"
                 else steps_for_epochs(settings.amount, len(dataset), *batch_k))
        run = TrainingRun(config, dataset, steps, resume=resume.trainer_state() if resume else None)
        run.start()
    except RunLimitReached as exc:
        _notice("warning", str(exc))
        return
    except (DatasetError, CheckpointError, ValueError) as exc:
        _notice("error", f"Cannot start training: {exc}")
        return
    except Exception as exc:  # never a traceback on the projector
        _notice("error", f"Cannot start training ({type(exc).__name__}: {exc}).")
        return
    st.session_state[RUN] = run


def _buttons(settings: Settings, own: ImageDataset | None, resume: Checkpoint | None) -> None:
    run: TrainingRun | None = st.session_state.get(RUN)
    status = run.snapshot().status if run is not None else None
    active = run is not None and run.is_alive()
    cols = st.columns(5)

    def button(col: int, label: str, icon: str, key: str, disabled: bool, **kw) -> bool:
        return cols[col].button(label, icon=f":material/{icon}:", key=key, disabled=disabled, width="stretch", **kw)

    if button(0, "Start", "play_arrow", "train_start", active, type="primary"):
        _start(settings, own, resume)
        st.rerun()
    if button(1, "Pause", "pause", "train_pause", status != "running"):
        run.pause()
        st.rerun()
    if button(2, "Resume", "resume", "train_resume", status != "paused"):
        run.resume()
        st.rerun()
    if button(3, "Stop", "stop", "train_stop", not active):
        run.stop()
        st.rerun()
    if button(4, "Reset", "restart_alt", "train_reset", run is None,
              help="Stop and forget this run (save it first if you want to keep it)."):
        run.stop()
        for key in (RUN, SAVED, WAS_ACTIVE):
            st.session_state.pop(key, None)
        st.rerun()
    notice = st.session_state.pop(NOTICE, None)
    if notice is not None:
        getattr(st, notice[0])(notice[1])


# --- the live view --------------------------------------------------------------------------------

def _status(snap: RunSnapshot) -> None:
    if snap.status == "diverged":
        st.error(f"{snap.message} Save checkpoint still works.")
    elif snap.status == "error":
        st.error(snap.message)
    elif snap.status == "stopped" and snap.message:
        st.warning(snap.message)
    elif snap.status == "finished":
        st.success(f"Finished: {snap.step - snap.start_step:,} steps in {charts.duration(snap.elapsed)}.")
    elif snap.status == "paused":
        st.info("Paused. Press Resume to continue; nothing is lost.")
    cols = st.columns(5)
    cols[0].metric("Step", f"{snap.step:,}")
    cols[1].metric("Epoch", f"{snap.epoch:.2f}")
    cols[2].metric("Images / s", f"{snap.images_per_sec:,.0f}")
    cols[3].metric("Elapsed", charts.duration(snap.elapsed))
    cols[4].metric("ETA", charts.duration(snap.eta))
    st.progress(snap.progress, text=f"{STATUS_TEXT[snap.status]} on {snap.device}: step {snap.step:,} of "
                f"{snap.target_step:,} ({snap.progress:.0%})")


def _grids(snap: RunSnapshot) -> None:
    left, right = st.columns(2)
    with left:
        if snap.latest_grid is not None:
            step, grid = snap.latest_grid
            st.image(_grid_image(grid), caption=f"Generated: G(z) for the same fixed z, step {step:,}")
    with right:
        st.image(_grid_image(snap.real_grid), caption=f"Real training images ({snap.dataset})")
    st.caption("The fixed noise z never changes, so each tile shows how G's answer to the *same* z "
               "evolves. Early on all tiles look alike; variety should grow as G learns.")


def _curves(snap: RunSnapshot) -> None:
    if len(snap.history["step"]) == 0:
        st.caption("The charts appear after the first step.")
        return
    smoothing = st.slider("Smoothing of the curves (exponential moving average)", 0.0, 0.99, 0.9, 0.01,
                          key="train_curve_smoothing")
    left, right = st.columns(2)
    left.plotly_chart(charts.loss_figure(snap.history, smoothing), key="train_loss_chart")
    left.caption("Blue (dashed) is D's loss, green G's. They fight: when one falls, the other often rises. "
                 "Neither needs to reach 0 — a GAN is a game, not a minimisation.")
    right.plotly_chart(charts.discriminator_figure(snap.history, smoothing), key="train_d_chart")
    right.caption("D's probability that an image is real, on real images (black, dotted) and on G's samples "
                  "(green). At the game's end both approach 1/2: D can no longer tell them apart.")


def _algorithm(snap: RunSnapshot) -> None:
    c = snap.config
    d_mark, g_mark = ("▶ " if snap.phase == "d" else "  "), ("▶ " if snap.phase == "g" else "  ")
    lines = [
        "  for each training iteration:",
        f"{d_mark}    for k = {c['k']} step(s):                                  # D steps",
        f"{d_mark}        sample m = {c['batch_size']} noise vectors z ~ p_z and m real images x",
        f"{d_mark}        update D: ascend 1/m Σ [log D(x) + log(1 − D(G(z)))]",
        f"{g_mark}    sample m noise vectors z ~ p_z                        # G step",
        f"{g_mark}    update G: descend its loss on D(G(z))   ({c['loss']})",
    ]
    with st.container(border=True):
        st.subheader("What is happening: Algorithm 1 (Goodfellow et al. 2014)")
        st.code("\n".join(lines), language=None)
        now = snap.phase_text or STATUS_TEXT[snap.status].lower()
        st.caption(f"Now: **{now}**. The arrow shows the line the worker was on when this view refreshed "
                   f"(about once a second). Loss used: {LOSSES[c['loss']].description}")
        if snap.diversity is not None:
            st.caption(f"Variety of the sample grid: {snap.diversity:.0%} of the real images' variety.")
        for warning in snap.warnings:
            st.warning(warning)


def _metrics(snap: RunSnapshot) -> None:
    if not snap.metrics_history or not snap.metrics:
        return
    left, right = st.columns(2)
    left.plotly_chart(charts.metrics_figure(snap.metrics_history), key="train_metrics_chart")
    left.caption("A small classifier trained on the real data judges G's samples: how many classes G "
                 "draws, how sure the classifier is, and the Inception Score (high = confident and varied).")
    m = snap.metrics
    right.plotly_chart(charts.class_histogram_figure(m["class_histogram"], m["class_names"]),
                       key="train_hist_chart")
    right.caption("Share of G's samples per class. Under mode collapse most bars vanish: G draws only a few "
                  "classes.")


def _live_view() -> None:
    run: TrainingRun | None = st.session_state.get(RUN)
    if run is None:
        limits = get_limits()
        st.info("Choose a dataset and a model in the sidebar, then press **Start**. Training runs in the "
                "background: this page, other pages and other students stay responsive.")
        st.caption(f"This server trains at most {limits.max_concurrent_runs} run(s) at once; "
                   f"{len(REGISTRY.active())} running now.")
        return
    run.heartbeat()
    snap = run.snapshot()
    if st.session_state.get(WAS_ACTIVE) and not snap.is_active:
        st.session_state[WAS_ACTIVE] = False
        st.rerun()  # the run ended: redraw the whole page (buttons, results) and stop refreshing
    _status(snap)
    _grids(snap)
    _curves(snap)
    _algorithm(snap)
    _metrics(snap)
    _timelapse(run, snap)


# --- results --------------------------------------------------------------------------------------

def _timelapse_gif(run: TrainingRun) -> bytes:
    """Every kept grid as an animated GIF of about 10 seconds (built when the button is clicked)."""
    frames = [_grid_image(grid) for _, grid in run.snapshot().grids]
    return gif_bytes(frames, duration_ms=int(np.clip(10_000 / len(frames), 40, 500)))


def _current_grid_png(run: TrainingRun) -> bytes:
    latest = run.snapshot().latest_grid
    return png_bytes(_grid_image(latest[1])) if latest is not None else b""


def _timelapse(run: TrainingRun, snap: RunSnapshot) -> None:
    if len(snap.grids) < 2:
        return
    steps = [s for s, _ in snap.grids]
    with st.container(border=True):
        st.subheader("Timelapse: scrub back through training")
        # A slider left at the newest grid follows training; once moved back, it stays put.
        if st.session_state.get("train_scrub") in (None, st.session_state.get("train_scrub_newest")):
            st.session_state["train_scrub"] = steps[-1]
        st.session_state["train_scrub_newest"] = steps[-1]
        chosen = st.slider("Step", steps[0], steps[-1], key="train_scrub")
        i = min(bisect.bisect_left(steps, chosen), len(steps) - 1)
        st.image(_grid_image(snap.grids[i][1]), caption=f"Samples at step {steps[i]:,}")
        st.caption(f"{len(steps)} grids kept, evenly spaced over the run (older ones are thinned out when "
                   "there are many).")
        st.download_button("Timelapse (.gif)", icon=DOWNLOAD, key="train_dl_gif", file_name="timelapse.gif",
                           data=lambda: _timelapse_gif(run), mime="image/gif", on_click="ignore")


@st.fragment
def _results() -> None:
    run: TrainingRun | None = st.session_state.get(RUN)
    if run is None:
        return
    snap = run.snapshot()
    st.subheader("Results")
    cols = st.columns(4)
    with cols[0]:
        if st.button("Save checkpoint", icon=":material/save:", key="train_save", width="stretch"):
            try:
                st.session_state[SAVED] = str(run.save_checkpoint())
            except OSError as exc:
                st.error(f"Could not save the checkpoint: {exc}")
        saved = st.session_state.get(SAVED)
        if saved:
            st.caption(f"Saved in `{saved}`")
            st.download_button("Checkpoint (.zip)", icon=DOWNLOAD, data=lambda: checkpoint_zip_bytes(saved),
                               file_name=f"{Path(saved).name}.zip", mime="application/zip", on_click="ignore",
                               key="train_dl_checkpoint", width="stretch")
    with cols[1]:
        if st.button("Open in latent explorer", icon=":material/explore:", key="train_to_latent", width="stretch"):
            # Switch pages from a full run: st.switch_page inside a fragment leaves the new page blank.
            st.session_state[OPEN_LATENT] = True
            st.rerun(scope="app")
    name = f"{snap.config['preset']}-{Path(snap.dataset).stem}"
    cols[2].download_button("Metrics (.csv)", icon=DOWNLOAD, data=run.metrics_csv, file_name=f"{name}-metrics.csv",
                            mime="text/csv", on_click="ignore", key="train_dl_csv", width="stretch")
    cols[3].download_button("Current grid (.png)", icon=DOWNLOAD, data=lambda: _current_grid_png(run),
                            file_name=f"{name}-samples.png", mime="image/png", on_click="ignore",
                            key="train_dl_png", width="stretch")


# --- the model ------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=32)
def _layer_tables(mc: ModelConfig) -> tuple[list[dict], list[dict], int, int]:
    g, d = build_models(mc)
    rows = lambda table: [{"layer": r["layer"], "output shape": charts.shape_text(r["output_shape"]),  # noqa: E731
                           "params": r["params"]} for r in table]
    return (rows(describe(g, (mc.latent_dim,))), rows(describe(d, (mc.channels, mc.image_size, mc.image_size))),
            count_parameters(g), count_parameters(d))


def _model_tables(mc: ModelConfig) -> None:
    try:
        g_rows, d_rows, g_total, d_total = _layer_tables(mc)
    except ValueError as exc:
        st.error(f"This model cannot be built: {exc}")
        return
    p = get_preset(mc.preset)
    with st.expander(f"The model: {mc.preset} — G {g_total:,} and D {d_total:,} parameters",
                     expanded=st.session_state.get(RUN) is None):
        st.caption(f"{p.description} Source: {p.source}.")
        left, right = st.columns(2)
        left.markdown(f"**Generator G**: z ({mc.latent_dim}) → image — {g_total:,} parameters")
        left.dataframe(g_rows, hide_index=True, width="stretch")
        right.markdown(f"**Discriminator D**: image → score — {d_total:,} parameters")
        right.dataframe(d_rows, hide_index=True, width="stretch")


# --- the page -------------------------------------------------------------------------------------

st.title("Train a DCGAN live")
st.caption("G turns noise into images, D judges them against real ones, and both improve by playing "
           "against each other (Algorithm 1 of Goodfellow et al. 2014, with the DCGAN architecture of "
           "Radford et al. 2016). Press Start and watch the samples turn into digits.")

if st.session_state.pop(OPEN_LATENT, False):
    st.session_state["latent_source"] = "run"  # the latent page offers this run's generator first
    try:
        st.switch_page("views/latent.py")
    except StreamlitAPIException:
        _notice("info", "The latent explorer is not part of this app yet.")

_run: TrainingRun | None = st.session_state.get(RUN)
_locked = _run is not None and _run.is_alive()
_resume = _resume_checkpoint(_locked)
_settings_now = _settings(_locked, _resume)
_own = _own_images(_settings_now, _locked) if _settings_now.dataset == OWN_IMAGES else None
_buttons(_settings_now, _own, _resume)

_run = st.session_state.get(RUN)
_active = _run is not None and _run.snapshot().is_active
st.session_state[WAS_ACTIVE] = _active
# Refresh about once a second only while a run is active; otherwise draw once (no timer).
st.fragment(_live_view, run_every=REFRESH_SECONDS if _active else None)()
_results()
_model_tables(_settings_now.model)
