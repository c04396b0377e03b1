"""AppTest of the training page: settings, layer tables, Start/Pause/Stop of a real background run,
uploads that fail with a message, and the server-wide cap on concurrent runs.

AppTest never fires ``st.fragment(run_every=...)``, so the tests poll the run's own state.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from gan_core.device import set_cpu_threads
from gan_core.trainer import TrainConfig
from gan_core.worker import REGISTRY, RunOptions, TrainingRun

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "train.py")


@pytest.fixture(scope="module", autouse=True)
def one_cpu_thread():
    # The machine's 2 cores are shared; one torch thread avoids OpenMP spinning against other jobs.
    before = torch.get_num_threads()
    set_cpu_threads(1)  # later calls (TrainingRun.start) are then no-ops
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def page(monkeypatch, tmp_path):
    """A fresh AppTest of the page; every run it started is stopped afterwards."""
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
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
            assert run.stop(timeout=30)
    assert REGISTRY.active() == []
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
    assert list(g.columns) == ["layer", "output shape", "params"]
    assert g["layer"].iloc[0] == "Linear 64→256"  # z (64) -> the fully-connected hidden layer
    assert g["output shape"].iloc[-1] == "1×28×28"
    assert d["output shape"].iloc[-1] == "1"
    assert not at.error


def test_fc_width_control_rebuilds_the_small_preset_without_its_hidden_layers(page):
    at = page()
    assert at.number_input(key="train_fc_small").value == 256
    at.number_input(key="train_fc_small").set_value(0).run()
    g, d = layer_table(at, 0), layer_table(at, 1)
    assert g["layer"].iloc[0] == "Linear 64→3136"  # z straight to 64 x 7 x 7: the all-convolutional layout
    assert d["layer"].iloc[-1] == "Linear 3136→1"
    assert not at.error


def test_changing_preset_updates_the_layer_table(page):
    at = page()
    small_g = layer_table(at, 0)
    at.selectbox(key="train_preset").set_value("dcgan").run()
    dcgan_g = layer_table(at, 0)
    assert not dcgan_g.equals(small_g)
    assert dcgan_g["layer"].iloc[1].startswith("ConvTranspose2d 100→")
    assert at.selectbox(key="train_size_dcgan").options == ["28", "32", "64"]
    at.selectbox(key="train_size_dcgan").set_value(64).run()
    assert layer_table(at, 0)["output shape"].iloc[-1] == "1×64×64"
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
    assert len(at.get("plotly_chart")) >= 2
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


def test_bad_zip_upload_shows_an_error(page):
    at = page()
    at.selectbox(key="train_dataset").set_value("own images").run()
    at.file_uploader(key="train_zip").set_value(("holiday.zip", b"this is not a zip", "application/zip")).run()
    assert not at.exception
    assert any("not a zip" in e.value for e in at.error), [e.value for e in at.error]


def test_good_zip_upload_shows_what_was_found_and_skipped(page):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for cls in ("cats", "dogs"):
            for i in range(2):
                img = io.BytesIO()
                Image.new("L", (40, 30), color=60 * i + 50).save(img, format="PNG")
                zf.writestr(f"{cls}/{i}.png", img.getvalue())
        zf.writestr("dogs/broken.png", b"not an image")
    at = page()
    at.selectbox(key="train_dataset").set_value("own images").run()
    at.file_uploader(key="train_zip").set_value(("pets.zip", buf.getvalue(), "application/zip")).run()
    assert not at.exception and not at.error
    found = " ".join(m.value for m in at.markdown)
    assert "4 images" in found and "cats, dogs" in found
    skipped = at.dataframe[0].value
    assert list(skipped["file"]) == ["dogs/broken.png"]


def test_bad_checkpoint_upload_shows_an_error(page):
    at = page()
    at.file_uploader(key="train_resume_file").set_value(("run.zip", b"junk", "application/zip")).run()
    assert not at.exception
    assert any("This checkpoint cannot be used" in e.value for e in at.error)


def test_the_run_cap_refuses_a_second_run(page):
    images = torch.rand((64, 1, 28, 28)) * 2 - 1
    dataset = type("Fake", (), {"name": "fake", "images": images, "labels": None, "class_names": []})()
    other = TrainingRun(TrainConfig(batch_size=16, ngf=8, ndf=8, latent_dim=16, n_fixed=16, device="cpu"),
                        dataset, steps=10**6, options=RunOptions(grid_every_steps=5))
    other.start()  # someone else's run holds the only slot
    try:
        at = page()
        at.button(key="train_start").click().run()
        assert not at.exception
        assert any("Another training run is using this server (1 of 1 allowed)" in w.value for w in at.warning)
        assert "train_run" not in at.session_state
    finally:
        assert other.stop(timeout=30)


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


def test_divergence_shows_the_message_and_save_still_works(page):
    at = page()
    at.number_input(key="train_batch_small").set_value(16).run()
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    good = run.trainer.loss
    run.trainer.loss = dataclasses.replace(good, g_loss=lambda fake: good.g_loss(fake) * float("nan"))
    wait_until(lambda: not run.is_alive())
    at.run()
    assert not at.exception
    assert any("Training diverged" in e.value and "last good weights" in e.value for e in at.error)
    at.button(key="train_save").click().run()
    assert (Path(at.session_state["train_saved"]) / "generator.safetensors").is_file()
