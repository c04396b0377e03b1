"""AppTest of the training page: settings, layer tables, Start/Pause/Stop of a real background run,
single D / G / iteration steps while paused, uploads that fail with a message naming the file, the
server-wide cap and taking over this browser's own run, both languages, links that restore the
settings, projector mode, the lecture's code, and the replay of a recording made by the real CLI.

AppTest never fires ``st.fragment(run_every=...)``, so the tests poll the run's own state.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import io
import json
import math
import re
import struct
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from gan_core import i18n, lecture_tf_dcgan
from gan_core.algorithm1 import Algorithm1
from gan_core.data.datasets import ImageDataset
from gan_core.trainer import TrainConfig
from gan_core.worker import REGISTRY, RunOptions, TrainingRun
from helpers import png_bytes, queue_is_empty, zip_bytes
from test_recording import record_cli_run
from views._svg import text_width

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "train.py")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def live_charts(at: AppTest) -> list[tuple[str, str]]:
    """(alt text, SVG) of each chart drawn as a picture (the live view while a run trains)."""
    found = []
    for element in at.get("html"):
        for alt_src in re.finditer(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]*)"', element.proto.body):
            found.append((alt_src.group(2), base64.b64decode(alt_src.group(1)).decode()))
    return found


@pytest.fixture
def page(monkeypatch, tmp_path):
    """A fresh AppTest of the page; every run it started is stopped afterwards."""
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    # An earlier test's dropped run ends its process within seconds (STOP_GRACE): count without it.
    wait_until(lambda: not [t for t in threading.enumerate() if t.name.startswith(("gan-run-", "gan-training-"))], 30)
    baseline = threading.active_count()
    made: list[AppTest] = []

    def make() -> AppTest:
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        made.append(at)
        return at

    yield make
    for at in made:
        run = at.session_state["train_run"] if "train_run" in at.session_state else None
        if run is not None:
            assert run.close(timeout=30)
        if "train_queued" in at.session_state:  # a Start still waiting in the server's queue
            REGISTRY.leave(at.session_state["train_queued"][0])
    assert REGISTRY.active() == [] and queue_is_empty(REGISTRY)
    assert threading.active_count() == baseline


def wait_until(predicate, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def layer_table(at: AppTest, which: int = 0):
    return at.dataframe[which].value  # 0: G, 1: D


def test_renders_with_defaults_and_layer_tables(page):
    at = page()
    assert at.selectbox(key="train_dataset").value == "mnist5k"
    assert at.selectbox(key="train_preset").value == "small"
    g, d = layer_table(at, 0), layer_table(at, 1)
    assert list(g.columns) == ["layer", "output shape", "parameters"]
    assert g["layer"].iloc[0] == "Linear 64→256"  # z (64) -> the fully-connected hidden layer
    assert g["output shape"].iloc[-1] == "1×28×28"
    assert d["output shape"].iloc[-1] == "1"
    assert not at.error


def test_fc_width_control_rebuilds_the_small_preset_without_its_hidden_layers(page):
    at = page()
    assert at.number_input(key="train_fc_small").value == 256
    at.number_input(key="train_fc_small").set_value(0).run()
    g, d = layer_table(at, 0), layer_table(at, 1)
    assert g.iloc[0, 0] == "Linear 64→3136"  # z straight to 64 x 7 x 7: the all-convolutional layout
    assert d["layer"].iloc[-1] == "Linear 1568→1"  # D's 32 x 7 x 7 features straight to the score
    assert not at.error


def test_changing_preset_updates_the_layer_table(page):
    at = page()
    small_g = layer_table(at, 0)
    at.selectbox(key="train_preset").set_value("dcgan").run()
    dcgan_g = layer_table(at, 0)
    assert not dcgan_g.equals(small_g)
    assert dcgan_g.iloc[1, 0].startswith("ConvTranspose2d 100→")
    assert at.selectbox(key="train_size_dcgan").options == ["28", "32", "64"]
    at.selectbox(key="train_size_dcgan").set_value(64).run()
    assert layer_table(at, 0).iloc[-1, 1] == "1×64×64"
    assert at.number_input(key="train_batch_dcgan").value == 128  # the preset's default


def test_start_pause_stop_a_real_run(page, tmp_path):
    at = page()
    at.number_input(key="train_batch_small").set_value(16).run()
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run = at.session_state["train_run"]
    assert run.config.batch_size == 16 and run.is_alive()
    wait_until(lambda: run.snapshot().step >= 3)

    at.run()  # redraw: numbers, charts and both grids come from the run
    assert int(at.metric[0].value.replace(",", "")) >= 3
    # training: the page redraws every second, so the charts are SVG pictures (no Plotly figure to rebuild)
    pictures = live_charts(at)
    assert not at.get("plotly_chart") and len(pictures) >= 2
    loss_alt, loss_svg = pictures[0]
    shown_step = int(re.search(r"step ([\d,]+)", loss_alt).group(1).replace(",", ""))
    assert shown_step >= 3 and "Losses" in loss_svg and loss_svg.count("<path") >= 4  # raw + smoothed, D and G
    assert at.button(key="train_start").disabled and not at.button(key="train_pause").disabled

    at.button(key="train_pause").click().run()
    assert run.snapshot().status == "paused"
    paused_at = run.snapshot().step
    time.sleep(0.5)
    assert run.snapshot().step == paused_at
    assert not at.button(key="train_resume").disabled

    at.button(key="train_save").click().run()
    saved = Path(at.session_state["train_saved"])
    assert saved.parent == tmp_path / "runs" and (saved / "config.json").is_file()
    assert any(b.label.startswith("Checkpoint") for b in at.get("download_button"))

    at.button(key="train_stop").click().run()
    assert not run.is_alive()
    assert run.snapshot().status == "stopped"
    assert not at.button(key="train_start").disabled


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_dataset_missing_offline_names_the_data_folder_not_the_servers_path(page, monkeypatch, tmp_path, lang):
    home = tmp_path / "home" / "teacher-kim" / ".cache" / "data"
    monkeypatch.setenv("GAN_DATA_ROOT", str(home))
    from views import _i18n

    monkeypatch.setattr(_i18n, "current_language", lambda: lang)  # AppTest formats options in its own thread
    at = page()
    at.selectbox(key="train_dataset").set_value("cifar10").run()
    at.button(key="train_start").click().run()
    assert not at.exception and len(at.error) == 1
    shown = " ".join(str(e.proto) for e in at.main) + " ".join(str(e.proto) for e in at.sidebar)
    assert "teacher-kim" not in shown and str(tmp_path) not in shown  # no path of the server on the page
    message = at.error[0].value
    assert i18n.translate("common.data_folder", lang) in message and "GAN_DATA_ROOT" in message
    assert lang == "en" or HANGUL.search(message)


def test_bad_zip_upload_shows_an_error(page):
    at = page()
    at.selectbox(key="train_dataset").set_value("own images").run()
    at.file_uploader(key="train_zip").set_value(("holiday.zip", b"this is not a zip", "application/zip")).run()
    assert not at.exception
    assert any("not a zip" in e.value for e in at.error), [e.value for e in at.error]


def test_good_zip_upload_shows_what_was_found_and_skipped(page):
    images = {f"{cls}/{i}.png": png_bytes((40, 30), color=60 * i + 50) for cls in ("cats", "dogs") for i in range(2)}
    upload = zip_bytes({**images, "dogs/broken.png": b"not an image"})
    at = page()
    at.selectbox(key="train_dataset").set_value("own images").run()
    at.file_uploader(key="train_zip").set_value(("pets.zip", upload, "application/zip")).run()
    assert not at.exception and not at.error
    found = " ".join(m.value for m in at.markdown)
    assert "4 images" in found and "cats (2), dogs (2)" in " ".join(x.value for x in at.text)
    skipped = at.dataframe[0].value
    assert list(skipped["file"]) == ["dogs/broken.png"]


def test_bad_checkpoint_upload_shows_an_error(page):
    at = page()
    at.file_uploader(key="train_resume_file").set_value(("run.zip", b"junk", "application/zip")).run()
    assert not at.exception
    assert any("The checkpoint “run\\.zip” cannot be used" in e.value for e in at.error), [e.value for e in at.error]


def damaged_zip(kind: str) -> bytes:
    """A checkpoint-like zip damaged in transit (a flipped byte: bad CRC) or with an unknown compression method."""
    config = json.dumps({"format": "gan-classroom-checkpoint", "format_version": 1}).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("config.json", config)
    data = bytearray(buf.getvalue())
    if kind == "bad_crc":
        start = data.index(config)
        data[start + 5] ^= 0xFF
    else:  # compression method 99 (AES) in the local header (offset 8) and the central directory (offset 10)
        struct.pack_into("<H", data, 8, 99)
        central = data.index(b"PK\x01\x02")
        struct.pack_into("<H", data, central + 10, 99)
    return bytes(data)


@pytest.mark.parametrize("kind, words", [("bad_crc", "damaged"), ("method", "compression method")])
def test_a_damaged_checkpoint_zip_is_a_message_naming_the_upload(page, kind, words):
    at = page()
    at.file_uploader(key="train_resume_file").set_value(("my-run.zip", damaged_zip(kind), "application/zip")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "“my\\-run\\.zip”" in errors[0] and words in errors[0], errors  # the name as text
    assert "/" not in re.sub(r"\\(.)", r"\1", errors[0]).replace("samples/", "")  # no server path
    assert not at.button(key="train_start").disabled  # the page keeps working


def someone_elses_run() -> TrainingRun:
    images = (torch.rand((64, 1, 28, 28)) * 255).to(torch.uint8)
    dataset = ImageDataset("fake", images, None, [])  # a run in its own process gets a copy: a picklable class
    return TrainingRun(TrainConfig(batch_size=16, ngf=8, ndf=8, latent_dim=16, n_fixed=16, device="cpu"),
                       dataset, steps=10**6, options=RunOptions(grid_every_steps=5))


def test_a_full_server_queues_the_start_and_runs_it_by_itself_when_the_slot_frees(page):
    other = someone_elses_run()
    other.start()  # someone else's run holds the only slot
    try:
        at = page()
        at.button(key="train_start").click().run()
        assert not at.exception
        info = " ".join(i.value for i in at.info)
        assert "You are in the queue" in info and "**number 1** in the queue (0 ahead of you)" in info
        assert "Going now: small on fake" in " ".join(c.value for c in at.caption)
        assert "train_run" not in at.session_state and REGISTRY.position(at.session_state["train_queued"][0]) == 1
        keys = {b.key for b in at.button}
        assert "train_leave_queue" in keys and "train_start" not in keys and "train_take_over" not in keys
        assert at.selectbox(key="train_preset").disabled  # the settings of the queued run are fixed
    finally:
        assert other.close(timeout=30)
    at.run()  # the page's next refresh (in the browser its fragment runs every second)
    assert not at.exception
    run = at.session_state["train_run"]
    assert run.is_alive() and "train_queued" not in at.session_state and queue_is_empty(REGISTRY)
    assert any("your run has started" in m.value for m in at.success)
    assert at.button(key="train_start").disabled and not at.button(key="train_pause").disabled


def test_a_korean_student_in_the_queue_reads_the_running_runs_label_in_korean(page, monkeypatch):
    from views import _i18n

    monkeypatch.setattr(_i18n, "current_language", lambda: "ko")  # AppTest formats options in its own thread
    other = someone_elses_run()
    other.start()
    try:
        at = page()
        at.button(key="train_start").click().run()
        assert not at.exception
        assert "지금 학습 중: fake 데이터의 small." in " ".join(c.value for c in at.caption)
    finally:
        assert other.close(timeout=30)


def test_leaving_the_queue_gives_back_the_start_button(page):
    other = someone_elses_run()
    other.start()
    try:
        at = page()
        at.button(key="train_start").click().run()
        at.button(key="train_leave_queue").click().run()
        assert not at.exception and queue_is_empty(REGISTRY) and "train_queued" not in at.session_state
        assert not at.button(key="train_start").disabled
    finally:
        assert other.close(timeout=30)


def test_open_in_latent_explorer_without_the_latent_page_says_so(page):
    at = page()
    at.number_input(key="train_batch_small").set_value(16).run()
    at.button(key="train_start").click().run()
    at.button(key="train_to_latent").click().run()
    assert not at.exception
    assert at.session_state["latent_source"] == "run"
    assert any("latent explorer is not part of this app" in i.value for i in at.info)


def test_other_pages_keep_the_run_alive():
    class Run:
        beats = 0

        def is_alive(self):
            return True

        def heartbeat(self):
            Run.beats += 1

    at = AppTest.from_string("from views._train_heartbeat import keep_training_run_alive\n"
                             "keep_training_run_alive()\n")
    at.session_state["train_run"] = Run()
    at.run()
    assert not at.exception and Run.beats == 1


def test_divergence_shows_the_message_and_save_still_works(page, monkeypatch):
    monkeypatch.setenv("GAN_RUN_ISOLATION", "thread")  # to make its loss NaN from here (tests/test_hardening.py: by the lr)
    at = page()
    at.number_input(key="train_batch_small").set_value(16).run()
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    good = run.trainer.algorithm.loss
    run.trainer.algorithm.loss = dataclasses.replace(good, g_loss=lambda fake: good.g_loss(fake) * float("nan"))
    wait_until(lambda: not run.is_alive())
    at.run()
    assert not at.exception
    diverged = [e.value for e in at.error if "Training diverged" in e.value]
    assert diverged and "last good weights" in diverged[0]
    assert diverged[0].startswith("**Diverged**\n\nTraining diverged")  # the message starts on its own line
    at.button(key="train_save").click().run()
    assert (Path(at.session_state["train_saved"]) / "generator.safetensors").is_file()


def test_start_cleans_abandoned_runs_and_a_save_past_the_runs_quota_is_a_message(page, tmp_path, monkeypatch):
    import os

    runs = tmp_path / "runs"
    abandoned = runs / "abandoned"
    abandoned.mkdir(parents=True)
    (abandoned / "config.json").write_bytes(b"x" * 3_000_000)
    old = time.time() - 3600
    for p in (abandoned / "config.json", abandoned):
        os.utime(p, (old, old))
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "1")
    at = page()
    at.number_input(key="train_batch_small").set_value(16).run()
    at.button(key="train_start").click().run()
    assert not abandoned.exists()  # a new run starts: the abandoned run past the quota went first
    run = at.session_state["train_run"]
    assert run.pause()
    (runs / "busy").mkdir()
    (runs / "busy" / "metrics.csv").write_bytes(b"x" * 1_500_000)  # a command-line run, training now
    at.button(key="train_save").click().run()
    assert not at.exception and "train_saved" not in at.session_state
    assert any("the runs folder is over its quota" in e.value and "GAN_MAX_RUNS_MB" in e.value for e in at.error)
    assert run.is_alive() and (runs / "busy").is_dir()
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "10")  # room again: the same button saves
    at.button(key="train_save").click().run()
    assert (Path(at.session_state["train_saved"]) / "config.json").is_file()


# --- single steps while paused (issue 13) ------------------------------------------------------------

def params(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.named_parameters())


def test_single_step_buttons_advance_a_paused_run_exactly_that_much(page, monkeypatch):
    monkeypatch.setenv("GAN_RUN_ISOLATION", "thread")  # to read both networks' weights from here
    at = page()
    at.number_input(key="train_batch_small").set_value(16).run()
    assert not any(b.key == "train_step_d" for b in at.button)  # no run: no single steps
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    wait_until(lambda: run.snapshot().step >= 2)
    assert not any(b.key == "train_step_d" for b in at.button)  # running: no single steps either
    at.button(key="train_pause").click().run()
    trainer, step = run.trainer, run.snapshot().step

    g, d = params(trainer.G), params(trainer.D)
    at.button(key="train_step_d").click().run()
    assert not at.exception and changed(d, trainer.D) and not changed(g, trainer.G)
    assert run.snapshot().step == step and int(at.metric[0].value.replace(",", "")) == step
    assert "D step 1 of 1" in " ".join(c.value for c in at.caption)  # Algorithm 1's panel says where we are

    g, d = params(trainer.G), params(trainer.D)
    at.button(key="train_step_g").click().run()
    assert changed(g, trainer.G) and not changed(d, trainer.D)
    assert run.snapshot().step == step + 1 and int(at.metric[0].value.replace(",", "")) == step + 1

    g, d = params(trainer.G), params(trainer.D)
    at.button(key="train_step_iteration").click().run()
    assert changed(g, trainer.G) and changed(d, trainer.D)
    assert run.snapshot().step == step + 2 and run.snapshot().status == "paused"
    assert any(f"step {step + 2:,}" in i.caption for i in at.get("image") for i in i.proto.imgs)  # the new grid


# --- tf-tutorial's 4x4 grid (issue 13) -------------------------------------------------------------

@pytest.fixture
def shown_images(monkeypatch):
    """Every image the page sends to the browser, decoded (width, height), in order."""
    sizes: list[tuple[int, int]] = []
    original = MediaFileManager.add

    def add(self, path_or_data, mimetype, *args, **kwargs):
        if isinstance(path_or_data, bytes) and mimetype.startswith("image/"):
            sizes.append(Image.open(io.BytesIO(path_or_data)).size)
        return original(self, path_or_data, mimetype, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", add)
    return sizes


@pytest.mark.parametrize("preset, tiles", [("tf-tutorial", 4), ("small", 8)])
def test_the_sample_grid_is_4x4_for_tf_tutorial_and_8x8_otherwise(page, shown_images, preset, tiles):
    at = page()
    at.selectbox(key="train_preset").set_value(preset).run()
    at.number_input(key=f"train_batch_{preset}").set_value(8).run()
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    wait_until(lambda: run.snapshot().latest_grid is not None)
    assert run.pause()
    shown_images.clear()
    at.run()
    side = tiles * (28 + 2) + 2  # 28 px tiles, 2 px apart
    assert run.snapshot().latest_grid[1].shape == (side, side)
    generated = shown_images[0]  # the live grid comes first, the real images second
    factor = generated[0] // side
    assert generated == (side * factor, side * factor) and factor >= 2


def test_redraws_of_a_paused_run_send_the_same_grids_without_encoding_them_again(page, shown_images, monkeypatch):
    """The live view redraws every second; a grid that has not changed (the real one, always) is not
    PNG-encoded again (issue 18: the page's share of the two cores while training)."""
    import streamlit as st

    from views import _train_pictures as pictures

    encoded = []
    original = pictures.png_bytes
    monkeypatch.setattr(pictures, "png_bytes", lambda pixels: encoded.append(pixels.shape) or original(pixels))
    st.cache_data.clear()
    at = page()
    at.number_input(key="train_batch_small").set_value(8).run()
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    wait_until(lambda: run.snapshot().latest_grid is not None and run.snapshot().latest_grid[0] > 0)
    assert run.pause()
    at.run()
    first, shown = len(encoded), list(shown_images)
    assert first >= 2  # the latest grid and the real one at least
    at.run()
    at.run()
    assert len(encoded) == first  # nothing new to encode: the same grids
    assert shown_images[len(shown):len(shown) + len(shown)] == shown  # ... and the same pictures sent again
    side = shown[0][0]
    real = run.snapshot().real_grid
    assert side % real.shape[1] == 0 and side // real.shape[1] >= 2  # upscaled, crisp


# --- both languages, links, projector (issue 12) ---------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "ko"])
def test_renders_in_both_languages_with_no_missing_key(page, lang):
    i18n.MISSING_KEYS.clear()
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception and i18n.MISSING_KEYS == set(), i18n.MISSING_KEYS
    if lang == "ko":
        assert HANGUL.search(at.title[0].value)
        labels = [at.selectbox(key="train_dataset").label, at.selectbox(key="train_preset").label,
                  at.number_input(key="train_batch_small").label, at.number_input(key="train_k").label,
                  at.number_input(key="train_seed").label, at.button(key="train_start").label,
                  at.radio(key="train_mode").label, at.slider(key="train_label_smoothing").label]
        assert all(HANGUL.search(label) for label in labels), labels
        assert all(HANGUL.search(c.value) for c in at.caption if len(c.value) > 30), [c.value for c in at.caption]
        assert HANGUL.search(at.radio(key="train_mode").options[1])  # option labels too
        assert list(layer_table(at, 0).columns) == ["층", "출력 모양", "파라미터 수"]
    # the teaching box for students: "set k = 5 and watch D win", the minimax loss stalls G
    notes = " ".join(m.value for m in at.markdown)
    assert "k = 5" in notes and "minimax" in notes


def test_live_quality_charts_and_reading_match_the_worker(page):
    # While training, the quality chart and the class histogram are SVG pictures and the line under them
    # reads the worker's latest judgement (512 samples every 100 steps by default): the same numbers.
    at = page()
    at.number_input(key="train_batch_small").set_value(16).run()
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    wait_until(lambda: len(run.snapshot().metrics_history) >= 1, timeout=120)
    at.run()
    snap = run.snapshot()
    assert snap.status == "running" and not at.get("plotly_chart")
    last = snap.metrics_history[-1]
    assert last["step"] == 100 and snap.metrics["n"] == 512
    alts = [alt for alt, _ in live_charts(at)]
    assert any(alt.startswith("Quality judged by a classifier") and "step 100" in alt for alt in alts), alts
    hist_svg = next(svg for alt, svg in live_charts(at) if alt.startswith("Which classes G draws"))
    assert len(re.findall(r"<rect [^>]*fill=\"#", hist_svg)) == 10  # one bar per digit
    reading = next(m.value for m in at.markdown if m.value.startswith("**Step 100:**"))
    assert f"{math.floor(100 * last['confidence'])}% of 512 samples" in reading
    assert f"{last['classes_covered']} of 10 classes" in reading
    at.button(key="train_pause").click().run()  # paused: the interactive Plotly charts come back
    wait_until(lambda: run.snapshot().status == "paused")
    at.run()
    assert len(at.get("plotly_chart")) == 4 and not live_charts(at)


def test_korean_run_shows_korean_status_and_charts(page):
    # Clicks happen in English: AppTest calls a select box's format_func outside the session, where
    # the page's language is unknown; the Korean rendering is then checked without clicking.
    at = page()
    at.number_input(key="train_batch_small").set_value(16).run()
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    wait_until(lambda: run.snapshot().step >= 2)
    at.button(key="train_pause").click().run()
    i18n.MISSING_KEYS.clear()
    at.session_state["lang"] = "ko"
    at.run()
    assert not at.exception and i18n.MISSING_KEYS == set()
    assert any("일시정지" in i.value for i in at.info)
    assert HANGUL.search(at.metric[0].label) and HANGUL.search(at.button(key="train_step_d").label)
    loss_chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert HANGUL.search(loss_chart["layout"]["title"]["text"])
    assert HANGUL.search(loss_chart["layout"]["xaxis"]["title"]["text"])
    assert all(HANGUL.search(trace["name"]) for trace in loss_chart["data"])


def test_a_link_restores_dataset_preset_hyper_parameters_and_seed(page):
    at = AppTest.from_file(PAGE, default_timeout=60)
    for name, value in {"dataset": "digits", "preset": "tf-tutorial", "batch": "32", "k": "3", "loss": "minimax",
                        "lr_d": "0.0002", "lr_g": "0.0003", "beta1_g": "0.5", "smoothing": "0.1", "seed": "42",
                        "unit": "epochs", "epochs": "2.5", "prior": "uniform", "latent": "50"}.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception
    assert at.selectbox(key="train_dataset").value == "digits"
    assert at.selectbox(key="train_preset").value == "tf-tutorial"
    assert at.number_input(key="train_batch_tf-tutorial").value == 32
    assert at.number_input(key="train_k").value == 3
    assert at.selectbox(key="train_loss").value == "minimax"
    assert at.number_input(key="train_lr_d_tf-tutorial").value == pytest.approx(0.0002)
    assert at.number_input(key="train_lr_g_tf-tutorial").value == pytest.approx(0.0003)
    assert at.number_input(key="train_beta1_g_tf-tutorial").value == pytest.approx(0.5)
    assert at.slider(key="train_label_smoothing").value == pytest.approx(0.1)
    assert at.number_input(key="train_seed").value == 42
    assert at.radio(key="train_unit").value == "epochs"
    assert at.number_input(key="train_epochs").value == pytest.approx(2.5)
    assert at.selectbox(key="train_prior").value == "uniform"
    assert at.number_input(key="train_latent_tf-tutorial").value == 50
    assert not at.toast  # nothing was ignored

    # a change is mirrored back into the URL
    at.number_input(key="train_seed").set_value(7).run()
    assert at.query_params["seed"] == ["7"] or at.query_params["seed"] == "7"


@pytest.mark.parametrize("hostile", [
    {"batch": "99999", "k": "0", "seed": "-5"},  # out of range: clamped
    {"batch": "abc", "k": "1.5", "lr_d": "nan", "lr_g": "1e999", "seed": "x" * 5000},  # wrong type: ignored
    {"preset": "evil", "dataset": "../../etc", "loss": "<script>", "device": "tpu", "mode": "x" * 5000},
])
def test_hostile_links_are_clamped_or_ignored_without_an_exception(page, hostile):
    at = AppTest.from_file(PAGE, default_timeout=60)
    for name, value in hostile.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception and not at.error
    assert at.toast  # one short notice
    batch, k, seed = (at.number_input(key=key).value for key in ("train_batch_small", "train_k", "train_seed"))
    assert 2 <= batch <= 4096 and 1 <= k <= 100 and 0 <= seed < 2**31
    if "batch" in hostile and hostile["batch"] == "99999":
        assert (batch, k, seed) == (4096, 1, 0)
    assert at.selectbox(key="train_preset").value == "small"
    assert at.selectbox(key="train_dataset").value == "mnist5k"
    assert at.number_input(key="train_lr_d_small").value == pytest.approx(1e-3)


def test_uploaded_files_never_go_into_the_link(page):
    at = page()
    at.selectbox(key="train_dataset").set_value("own images").run()
    at.file_uploader(key="train_zip").set_value(("secret-photos.zip", b"junk", "application/zip")).run()
    assert all("secret" not in str(v) for v in at.query_params.values())
    assert at.query_params["dataset"] in ("own images", ["own images"])  # the choice, never the file


# --- the lecture's code (issue 12) ------------------------------------------------------------------

def test_the_lecture_code_is_the_real_source_and_its_line_map_matches_it():
    for keras_line, method, torch_line in lecture_tf_dcgan.TRAIN_STEP_LINES:
        assert torch_line in inspect.getsource(getattr(Algorithm1, method)), (method, torch_line)
        assert keras_line.split("(")[0].split(" ...")[0] in lecture_tf_dcgan.KERAS_SOURCE, keras_line
    one_line_source = re.sub(r",\n\s+", ", ", lecture_tf_dcgan.KERAS_SOURCE)  # the tutorial wraps one call
    for keras_line, _ in lecture_tf_dcgan.GENERATOR_LAYERS + lecture_tf_dcgan.DISCRIMINATOR_LAYERS:
        assert keras_line in one_line_source, keras_line


def test_the_page_shows_the_running_steps_source_and_for_tf_tutorial_the_keras_code(page):
    at = page()
    code = [c.value.strip() for c in at.code]
    for method in (Algorithm1.d_step, Algorithm1.g_step):  # the real source, as it runs
        assert textwrap.dedent(inspect.getsource(method)).strip() in code
    assert lecture_tf_dcgan.KERAS_SOURCE.strip() not in code  # only beside the tf-tutorial preset
    at.selectbox(key="train_preset").set_value("tf-tutorial").run()
    assert lecture_tf_dcgan.KERAS_SOURCE.strip() in [c.value.strip() for c in at.code]
    frames = [df.value for df in at.dataframe]
    steps_map = next(f for f in frames if "Keras / TensorFlow" in f.columns and "in" in f.columns)
    assert "self.precision.backward(loss_d, self.opt_d)" in steps_map["PyTorch"].tolist()
    g_map = next(f for f in frames if f.shape[0] == len(lecture_tf_dcgan.GENERATOR_LAYERS))
    # the PyTorch column is printed from the built model: the last Keras layer (activation='tanh') is two modules
    assert g_map.iloc[-1, 1].endswith("Tanh()") and g_map.iloc[0, 1].startswith("Linear(in_features=100")


# --- replay a recording (issue 13) ------------------------------------------------------------------

@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    return record_cli_run(tmp_path_factory.mktemp("lecture") / "recording")


def array_of(values) -> np.ndarray:
    """A Plotly JSON array: a list, or numpy data sent as {"dtype", "bdata": base64}."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values)


def replay_page(monkeypatch, folder: Path, lang: str = "en", projector: bool = False) -> AppTest:
    monkeypatch.setenv("GAN_LECTURE_RECORDING", str(folder))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lang"] = lang
    at.session_state["projector"] = projector
    at.query_params["mode"] = "replay"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_without_the_shipped_recording_the_replay_says_so(monkeypatch, tmp_path):
    at = replay_page(monkeypatch, tmp_path / "recording-tf-tutorial-mnist5k")
    assert any("is not installed on this server" in i.value for i in at.info)
    assert not at.get("plotly_chart")


@pytest.mark.slow
def test_replay_plays_pauses_and_scrubs_a_recording_made_by_the_cli(monkeypatch, recording):
    at = replay_page(monkeypatch, recording)
    assert at.slider(key="train_replay_step").value == 20  # opens on the end of the run
    assert at.metric[0].value == "20 / 20" and len(at.get("plotly_chart")) == 2

    at.slider(key="train_replay_step").set_value(7).run()  # scrub
    assert at.metric[0].value == "7 / 20"
    assert any("step 5" in i.caption for im in at.get("image") for i in im.proto.imgs)  # the newest grid by then
    loss = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert max(array_of(trace["x"]).max() for trace in loss["data"]) == 7  # the charts show the run up to there

    at.selectbox(key="train_replay_seconds").set_value(10).run()  # 20 steps in 10 s: 2 steps a second
    at.button(key="train_replay_play").click().run()
    assert at.button(key="train_replay_play").label == "Pause"
    time.sleep(1.6)
    at.run()
    playing_at = at.slider(key="train_replay_step").value
    assert 8 <= playing_at < 20
    at.button(key="train_replay_play").click().run()  # pause
    paused_at = at.slider(key="train_replay_step").value
    time.sleep(1.0)
    at.run()
    assert at.slider(key="train_replay_step").value == paused_at and at.button(key="train_replay_play").label == "Play"

    at.button(key="train_replay_play").click().run()
    time.sleep(7.0)  # past the end: playing stops at the last step
    at.run()
    at.run()
    assert at.slider(key="train_replay_step").value == 20 and at.button(key="train_replay_play").label == "Play"


@pytest.mark.slow
def test_replay_in_korean_and_projector_mode_is_bigger(monkeypatch, recording, shown_images):
    i18n.MISSING_KEYS.clear()
    normal = replay_page(monkeypatch, recording, lang="ko")
    normal_image = shown_images[-1]
    shown_images.clear()
    big = replay_page(monkeypatch, recording, lang="ko", projector=True)
    big_image = shown_images[-1]
    assert i18n.MISSING_KEYS == set()
    assert HANGUL.search(normal.button(key="train_replay_play").label)
    side = 8 * 30 + 2
    assert normal_image[0] % side == 0 and big_image[0] % side == 0
    assert big_image[0] > normal_image[0]  # nearest-neighbour upscaled by a larger whole factor
    for chart in range(2):
        small_fig = json.loads(normal.get("plotly_chart")[chart].proto.spec)["layout"]
        big_fig = json.loads(big.get("plotly_chart")[chart].proto.spec)["layout"]
        assert big_fig["font"]["size"] > small_fig["font"]["size"]
        assert big_fig["title"]["font"]["size"] > small_fig["title"]["font"]["size"]
        assert big_fig["xaxis"]["tickfont"]["size"] > small_fig["xaxis"]["tickfont"]["size"]
        assert big_fig["legend"]["font"]["size"] > small_fig["legend"]["font"]["size"]
    big_lines = json.loads(big.get("plotly_chart")[0].proto.spec)["data"]
    small_lines = json.loads(normal.get("plotly_chart")[0].proto.spec)["data"]
    assert big_lines[-1]["line"]["width"] > small_lines[-1]["line"]["width"]


# --- a reload: take over this browser's own run (issue 14) -------------------------------------------

def test_after_a_reload_the_same_browser_can_take_over_its_run(page, monkeypatch):
    import views._train_heartbeat as heartbeat

    monkeypatch.setattr(heartbeat, "browser_id", lambda: "browser-1")
    before = page()
    before.number_input(key="train_batch_small").set_value(16).run()
    before.button(key="train_start").click().run()
    run = before.session_state["train_run"]
    assert run.owner == "browser-1"

    after = page()  # the reloaded page: a new session, the run still holds the only slot
    assert "train_run" not in after.session_state
    offer = [i.value for i in after.info if "started from this browser" in i.value]
    assert offer and "small on mnist5k" in offer[0]
    after.button(key="train_take_over").click().run()
    assert after.session_state["train_run"] is run and not after.exception
    assert after.button(key="train_start").disabled and not after.button(key="train_pause").disabled
    assert not any(b.key == "train_take_over" for b in after.button)

    monkeypatch.setattr(heartbeat, "browser_id", lambda: "browser-2")  # another student's browser
    other = page()
    assert not any(b.key == "train_take_over" for b in other.button)
    other.button(key="train_start").click().run()
    assert any("You are in the queue" in i.value for i in other.info)  # queued, not offered the run


def test_the_browser_id_comes_from_the_xsrf_cookie_token():
    import views._train_heartbeat as heartbeat

    token, mask = bytes(range(16)), b"\x01\x02\x03\x04"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    assert heartbeat._xsrf_token(f"2|{mask.hex()}|{masked.hex()}|1700000000") == token
    other_mask = b"\x09\x08\x07\x06"  # the same token under another mask (a later response)
    remasked = bytes(b ^ other_mask[i % 4] for i, b in enumerate(token))
    assert heartbeat._xsrf_token(f"2|{other_mask.hex()}|{remasked.hex()}|1700000000") == token
    assert heartbeat._xsrf_token("garbage") is None and heartbeat._xsrf_token("2|zz|yy|1") is None
    assert heartbeat.browser_id() is None  # no browser here: no id, no take-over


# --- watching a run the command line writes ---------------------------------------------------------------

def watch_page(monkeypatch, runs: Path, lang: str = "en") -> AppTest:
    monkeypatch.setenv("GAN_RUNS_DIR", str(runs))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lang"] = lang
    at.query_params["mode"] = "watch"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_watch_lists_the_run_folders_and_shows_a_finished_run_with_its_grids(monkeypatch, recording, tmp_path):
    import os
    import shutil

    empty = watch_page(monkeypatch, tmp_path / "no-runs")
    assert any("No run folders in" in i.value for i in empty.info)
    runs = tmp_path / "runs"
    shutil.copytree(recording, runs / "digits-a")
    shutil.copytree(recording, runs / "digits-b")
    old = 1_000_000
    for f in (runs / "digits-a").rglob("*"):
        os.utime(f, (old, old))  # finished long ago: shown as not training
    os.utime(runs / "digits-b" / "metrics.csv", (old + 10, old + 10))
    at = watch_page(monkeypatch, runs)
    box = at.selectbox(key="train_watch_run")
    assert box.options == ["digits-b", "digits-a"] and box.value == "digits-b"  # the most recently updated first
    assert (runs / "digits-b" / ".in-use").is_file() and not (runs / "digits-a" / ".in-use").exists()  # watched: kept
    assert any("Not training now: the last step is 20 of 20" in c.value for c in at.caption)
    assert at.metric[0].value == "20" and len(at.get("plotly_chart")) == 2
    assert at.select_slider(key="train_watch_frame").value == 3  # the newest of the grids at 5, 10, 15, 20
    at.select_slider(key="train_watch_frame").set_value(0).run()
    assert any("step 5" in i.caption for im in at.get("image") for i in im.proto.imgs)
    at.button(key="train_watch_latent").click().run()
    assert not at.exception
    assert at.session_state["latent_source"] == "runs:digits-b"  # what the latent page opens first


def test_watch_follows_a_growing_run_and_a_run_with_no_step_yet_waits(monkeypatch, recording, tmp_path):
    import shutil

    runs = tmp_path / "runs"
    folder = Path(shutil.copytree(recording, runs / "live"))
    lines = (folder / "metrics.csv").read_text().splitlines()
    (folder / "metrics.csv").write_text("\n".join(lines[:11]) + "\n")  # 10 steps written, just now
    for later in ("step_000015.png", "step_000020.png", "final.png"):  # grids come after their steps
        (folder / "samples" / later).unlink()
    at = watch_page(monkeypatch, runs)
    assert at.metric[0].value == "10"
    progress = [p for p in at.get("progress")]
    assert progress and "Training: step 10 of 20" in progress[0].proto.text
    (folder / "metrics.csv").write_text(lines[0] + "\n")  # restarted: the header only
    at.run()
    assert not at.exception and any("has not written its first step yet" in i.value for i in at.info)
    i18n.MISSING_KEYS.clear()
    korean = watch_page(monkeypatch, runs, lang="ko")
    assert i18n.MISSING_KEYS == set() and HANGUL.search(korean.selectbox(key="train_watch_run").label)


def test_watching_a_growing_run_parses_each_metrics_row_once(monkeypatch, tmp_path):
    # (watching a million-row run re-read the whole file on every change: 5 s a time)
    import os

    from gan_core.checkpoint import trim_metrics_csv
    from views._train_replay import _metrics_follower

    folder = (tmp_path / "runs" / "long-run").resolve()
    folder.mkdir(parents=True)
    metrics = folder / "metrics.csv"
    row = "{0},{1},1.2,0.8,0.6,0.4,500,{2}\n"

    def parsed_rows() -> int:
        return _metrics_follower(str(metrics)).rows_parsed  # the page's follower of this file

    def write(mode: str, steps: range) -> None:
        with open(metrics, mode) as f:
            f.write("".join(row.format(s, s / 100, s / 10) for s in steps))
        now = time.time_ns() + steps.stop  # a change the page notices (mtime is the cache key)
        os.utime(metrics, ns=(now, now))

    metrics.write_text("step,epoch,loss_d,loss_g,d_real,d_fake,images_per_sec,elapsed\n")
    write("a", range(1, 301))
    at = watch_page(monkeypatch, tmp_path / "runs")
    assert at.metric[0].value == "300" and parsed_rows() == 300
    write("a", range(301, 501))
    at.run()
    assert at.metric[0].value == "500" and parsed_rows() == 500  # the 200 new rows, not 500 again
    at.run()
    assert parsed_rows() == 500  # nothing new, nothing parsed
    trim_metrics_csv(metrics, 200)  # a resume from step 200 rewrote the file
    write("a", range(201, 211))
    at.run()
    assert not at.exception and at.metric[0].value == "210" and parsed_rows() == 500 + 210  # read again, once


@pytest.mark.parametrize("lang, theme", [("en", "normal"), ("ko", "projector")])
def test_live_chart_pictures_are_translated_and_legends_fit(monkeypatch, lang, theme):
    from views import _charts, _theme
    from views import _train_charts as charts

    monkeypatch.setattr(charts, "t", lambda key, **kw: i18n.translate(key, lang, **kw))
    monkeypatch.setattr(_charts, "current", lambda: _theme.THEMES[theme])
    n = 300
    history = {"step": np.arange(1.0, n + 1), "loss_d": np.linspace(1.4, 1.0, n), "loss_g": np.linspace(0.7, 2.0, n),
               "d_real": np.full(n, 0.6), "d_fake": np.full(n, 0.3)}
    rows = [{"step": s, "classes_covered": s // 100, "confidence": s / 1000, "inception_score": s / 150} for s in (100, 200, 300)]
    svgs = [_charts.svg(chart) for chart in (charts.loss_chart(history, 0.9), charts.discriminator_chart(history, 0.0),
                                             charts.metrics_chart(rows),
                                             charts.class_histogram_chart([0.5, 0.5] + [0.0] * 8, list(range(10))))]
    for svg in svgs:
        width = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
        texts = re.findall(r'<text x="([\d.]+)"[^>]*font-size="(\d+)">([^<]+)</text>', svg)
        for x, size, text in texts:  # left-aligned legend entries end inside the picture
            assert float(x) + text_width(text, float(size)) <= width + 1, text
        if lang == "ko":
            assert HANGUL.search(svg)
    assert svgs[0].count("<path") >= 4 + 2 and svgs[1].count("<path") >= 2 + 2  # smoothing 0: no faint raw lines
    assert len(re.findall(r'<rect [^>]*fill="#', svgs[3])) == 10
    assert svgs[2].count("<circle") == 9  # three judgements, three curves


def test_a_long_runs_live_pictures_are_thinned_to_about_a_point_per_pixel_but_the_interactive_charts_keep_detail():
    """Sent every second while training: ~one point per pixel of the plot area, the last step included
    (issue 18: the browser parses and draws them on the same two cores as training)."""
    from views import _train_charts as charts
    from views._charts import figure, svg

    n = 20_000
    history = {"step": np.arange(1.0, n + 1), "loss_d": np.random.default_rng(0).random(n) + 1.0,
               "loss_g": np.random.default_rng(1).random(n), "d_real": np.full(n, 0.6), "d_fake": np.full(n, 0.3)}
    picture = svg(charts.loss_chart(history, 0.9, charts.LIVE_MAX_POINTS))
    paths = re.findall(r'<path d="M([^"]+)" fill="none"', picture)
    counts = [p.count(" L") + 1 for p in paths]
    curves = sorted(counts)[-4:]  # 2 raw + 2 smoothed (the rest are legend swatches)
    assert all(0.9 * charts.LIVE_MAX_POINTS <= c <= charts.LIVE_MAX_POINTS for c in curves), counts
    interactive = figure(charts.loss_chart(history, 0.9))
    assert all(0.9 * charts.MAX_POINTS <= len(trace.x) <= charts.MAX_POINTS for trace in interactive.data)
    assert interactive.data[-1].x[-1] == n


# --- what a user typed or named is shown as text (issue 29) --------------------------------------------

HOSTILE = "See www.example.com **NOW** :red[ALERT] ![i](x) $x^2$ <b>b</b> :smile:"
MARKUP = ("www.example.com", "**NOW**", ":red[", "![i](x)", "$x^2$", "<b>", ":smile:")


def assert_as_text(body: str, named: str) -> None:
    """``named`` is in ``body`` with every punctuation character escaped (shown as its characters)."""
    from views._i18n import user_text

    assert user_text(named) in body, body
    assert not any(m in body for m in MARKUP), body


def test_a_queued_student_sees_the_running_runs_dataset_name_as_text(page):
    other = someone_elses_run()
    other.dataset.name = HOSTILE  # an uploaded zip's name is the run's dataset name
    other.start()
    try:
        at = page()
        at.button(key="train_start").click().run()
        assert not at.exception
        going = next(c.value for c in at.caption if c.value.startswith("Going now"))
        assert_as_text(going, f"small on {HOSTILE}")
    finally:
        assert other.close(timeout=30)


def test_an_uploaded_zip_and_its_sub_folders_are_named_as_text(page):
    classes = ["**cat**", ":red[dog]"]
    images = {f"{cls}/{i}.png": png_bytes((40, 30), color=60 * i + 50) for cls in classes for i in range(2)}
    at = page()
    at.selectbox(key="train_dataset").set_value("own images").run()
    at.file_uploader(key="train_zip").set_value((f"{HOSTILE}.zip", zip_bytes(images), "application/zip")).run()
    assert not at.exception and not at.error
    classes_line = " ".join(x.value for x in at.text)  # st.text: plain text, never Markdown
    for name in classes:
        assert name in classes_line and all(name not in m.value for m in at.markdown)
    at.file_uploader(key="train_zip").set_value((f"{HOSTILE}.zip", b"not a zip", "application/zip")).run()
    assert_as_text(at.error[0].value, f"{HOSTILE}.zip")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_watch_views_warning_names_a_run_folder_as_text(monkeypatch, tmp_path, lang):
    folder = tmp_path / "runs" / "md **bold** www.example.com :red[x]"
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_text("not,the,columns\n1,2,3\n")
    at = watch_page(monkeypatch, tmp_path / "runs", lang)
    warning = at.warning[0].value
    from views._i18n import user_text

    assert user_text(folder.name) in warning and "**bold**" not in warning and ":red[" not in warning


def test_settings_and_a_links_values_survive_a_visit_to_another_page():
    # issue 27: the seed went back to 0, and a link's steps 1234 to 2000, after a look at the home page
    at = AppTest.from_file(str(Path(PAGE).parents[1] / "app.py"), default_timeout=90)
    at.query_params["steps"] = "1234"
    at.query_params["k"] = "3"
    at.switch_page("views/train.py").run()
    assert not at.exception
    assert at.number_input(key="train_steps").value == 1234 and at.number_input(key="train_k").value == 3  # the link
    at.number_input(key="train_seed").set_value(77).run()
    at.selectbox(key="train_loss").set_value("hinge").run()
    at.switch_page("views/home.py").run()
    at.switch_page("views/train.py").run()
    assert not at.exception
    assert at.number_input(key="train_seed").value == 77 and at.selectbox(key="train_loss").value == "hinge"
    assert at.number_input(key="train_steps").value == 1234 and at.number_input(key="train_k").value == 3
    at.radio(key="train_mode").set_value("watch").run()
    at.switch_page("views/home.py").run()
    at.switch_page("views/train.py").run()
    assert at.radio(key="train_mode").value == "watch"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_an_ablated_checkpoint_says_on_the_model_table_which_guideline_it_breaks(page, tmp_path, monkeypatch, lang):
    from views import _i18n

    monkeypatch.setattr(_i18n, "current_language", lambda: lang)  # AppTest formats options in its own thread
    from gan_core.ablations import ABLATIONS
    from gan_core.checkpoint import checkpoint_zip_bytes, save_checkpoint
    from gan_core.data.datasets import load_dataset
    from gan_core.trainer import Trainer

    run = tmp_path / "ablated"
    trainer = Trainer(TrainConfig(dataset="digits", batch_size=8, ablations=("relu-d",)),
                      load_dataset("digits", image_size=28, channels=1), device="cpu")
    trainer.step()
    save_checkpoint(run, trainer, dataset={"name": "digits", "class_names": [], "size": 1797})
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    assert not [w for w in at.warning if i18n.translate("ablations.relu_d", lang) in w.value]
    at.file_uploader(key="train_resume_file").set_value(("ablated.zip", checkpoint_zip_bytes(run),
                                                         "application/zip")).run()
    assert not at.exception, [e.value for e in at.exception]
    warned = [w.value for w in at.warning if i18n.translate("ablations.relu_d", lang) in w.value]
    assert len(warned) == 1 and (lang == "en" or HANGUL.search(warned[0]))
    d_layers = [row for row in layer_table(at, 1).iloc[:, 0]]
    assert any("ReLU" in r for r in d_layers) and not any("LeakyReLU" in r for r in d_layers)
    assert str(ABLATIONS["relu-d"].guideline)  # the English text is the catalog's
