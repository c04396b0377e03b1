"""gan_core.recording: a run folder written by the real CLI, read back for the training page's replay;
cut and malformed CSV lines are skipped, a folder that is not a recording gets a plain message."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import pytest

from gan_core.recording import RecordingError, lecture_recording_path, load_recording, run_folder, run_folders

REPO = Path(__file__).resolve().parents[1]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
STEPS, EVERY = 20, 5


def record_cli_run(out: Path) -> Path:
    """A real small recording: ``python -m gan_core train`` as a user would run it (one CPU thread)."""
    subprocess.run([sys.executable, "-m", "gan_core", "train", "--preset", "small", "--steps", str(STEPS),
                    "--sample-every", str(EVERY), "--batch-size", "16", "--threads", "1", "--seed", "0",
                    "--out", str(out)], cwd=REPO, check=True, capture_output=True, timeout=600)
    return out


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory) -> Path:
    return record_cli_run(tmp_path_factory.mktemp("recording") / "run")


@pytest.fixture
def copy_of(cli_run, tmp_path):
    """A private copy of the CLI run to damage."""
    def make() -> Path:
        return Path(shutil.copytree(cli_run, tmp_path / "copy"))
    return make


@pytest.mark.slow
def test_reads_a_run_folder_written_by_the_cli(cli_run):
    rec = load_recording(cli_run)
    assert rec.history["step"].tolist() == list(range(1, STEPS + 1))
    assert set(rec.history) >= {"loss_d", "loss_g", "d_real", "d_fake", "epoch"}
    assert np.all((rec.history["d_real"] > 0) & (rec.history["d_real"] < 1))
    assert rec.frame_steps == list(range(EVERY, STEPS + 1, EVERY))  # final.png is not a step frame
    assert rec.last_step == STEPS
    assert rec.train_config["preset"] == "small" and rec.dataset == "mnist5k"
    grid = rec.frame_image(0)
    assert grid.dtype == np.uint8 and grid.shape == (8 * 30 + 2, 8 * 30 + 2)  # 8x8 tiles of 28 px, 2 px apart


@pytest.mark.slow
def test_history_and_frames_up_to_a_step(cli_run):
    rec = load_recording(cli_run)
    part = rec.history_until(12)
    assert part["step"].tolist() == list(range(1, 13)) and len(part["loss_g"]) == 12
    assert rec.frame_index_at(4) is None  # before the first grid
    assert rec.frame_steps[rec.frame_index_at(12)] == 10
    assert rec.frame_steps[rec.frame_index_at(STEPS)] == STEPS


@pytest.mark.slow
def test_a_line_cut_mid_write_and_malformed_rows_are_skipped(copy_of):
    folder = copy_of()
    metrics = folder / "metrics.csv"
    lines = metrics.read_text().splitlines()
    header, rows = lines[0], lines[1:]
    damaged = [header, *rows[:5], "not,a,number,row,at,all,x,y", rows[2], "7,0.1,nan,1,0.5,0.5,1,1", *rows[5:]]
    metrics.write_text("\n".join(damaged) + "\n" + rows[-1].replace(f"{STEPS},", f"{STEPS + 1},", 1)[:20])
    rec = load_recording(folder)
    # the garbage row, the repeated step 3, and the final cut line are gone; step 7's real row is kept
    assert rec.history["step"].tolist() == list(range(1, STEPS + 1))
    assert np.isfinite(rec.history["loss_d"]).all()


@pytest.mark.slow
def test_a_folder_that_is_not_a_recording_says_what_is_missing(copy_of, tmp_path):
    with pytest.raises(RecordingError) as missing:
        load_recording(tmp_path / "nowhere")
    assert missing.value.key == "errors.recording.missing" and "nowhere" in str(missing.value)
    assert HANGUL.search(missing.value.localized("ko"))

    folder = copy_of()
    shutil.rmtree(folder / "samples")
    with pytest.raises(RecordingError, match="no metrics rows or no samples"):
        load_recording(folder)
    (folder / "metrics.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(RecordingError, match="header naming the columns"):
        load_recording(folder)
    (folder / "metrics.csv").unlink()
    with pytest.raises(RecordingError, match="has no metrics.csv"):
        load_recording(folder)


@pytest.mark.slow
def test_the_final_grid_ends_the_replay_when_the_run_ended_between_grids(copy_of):
    import os

    folder = copy_of()
    assert load_recording(folder).frame_steps[-1] == STEPS  # step_000020.png is there: final.png adds nothing
    (folder / "samples" / f"step_{STEPS:06d}.png").unlink()  # as when the run ends between two grids
    rec = load_recording(folder)
    assert rec.frame_steps == [5, 10, 15, STEPS] and rec.frame_paths[-1].name == "final.png"
    config = folder / "config.json"  # a resumed run saved again after its old final.png: not its grid
    os.utime(config, ns=(config.stat().st_atime_ns, (folder / "samples" / "final.png").stat().st_mtime_ns + 10**9))
    assert load_recording(folder).frame_steps == [5, 10, 15]


@pytest.mark.slow
def test_a_broken_grid_image_is_a_message_when_shown(copy_of):
    folder = copy_of()
    (folder / "samples" / "step_000010.png").write_bytes(b"not a png")
    rec = load_recording(folder)
    assert rec.frame_image(0).shape == (8 * (28 + 2) + 2,) * 2  # the small preset's 8x8 grid of 28-px digits
    with pytest.raises(RecordingError, match="step_000010.png is not a readable PNG"):
        rec.frame_image(1)


def test_the_lecture_recording_path_can_be_pointed_elsewhere(monkeypatch, tmp_path):
    monkeypatch.delenv("GAN_LECTURE_RECORDING", raising=False)
    assert lecture_recording_path().name == "recording-tf-tutorial-mnist5k"
    monkeypatch.setenv("GAN_LECTURE_RECORDING", str(tmp_path))
    assert lecture_recording_path() == tmp_path


# --- the shipped recording of the lecture's model ----------------------------------------------------------

def test_the_shipped_lecture_recording_is_the_lecture_run_with_a_4x4_grid_at_about_60_points(monkeypatch):
    monkeypatch.delenv("GAN_LECTURE_RECORDING", raising=False)
    folder = lecture_recording_path()
    rec = load_recording(folder)
    c = rec.train_config
    # the TensorFlow tutorial's settings: Adam(1e-4) for both networks (Keras' betas), batch 256, BCE-from-logits
    # with ones as G's target (the non-saturating loss), one D step per G step, no averaging of G
    assert (c["preset"], c["batch_size"], c["lr_d"], c["lr_g"], c["loss"], c["k"]) == \
        ("tf-tutorial", 256, 1e-4, 1e-4, "non-saturating", 1)
    assert tuple(c["betas_d"]) == tuple(c["betas_g"]) == (0.9, 0.999) and c["ema"] == 0.0
    assert rec.dataset == "mnist5k"
    # as many steps as the lecture's 30 epochs of 60,000 images (30 * 60,000 / 256 = 7,031)
    assert rec.last_step >= 7000 and rec.history["step"].tolist() == list(range(1, rec.last_step + 1))
    assert 55 <= len(rec.frame_steps) <= 65 and rec.frame_steps[-1] > rec.last_step - 200
    for i in (0, len(rec.frame_steps) // 2, len(rec.frame_steps) - 1):
        assert rec.frame_image(i).shape == (4 * (28 + 2) + 2,) * 2  # 16 digits, as num_examples_to_generate
    assert np.all((rec.history["d_real"] > 0) & (rec.history["d_real"] < 1))
    shipped = [p for p in folder.rglob("*") if p.is_file()]
    assert not [p for p in shipped if p.suffix == ".safetensors"]  # metrics and grids only: no weights
    assert sum(p.stat().st_size for p in shipped) < 5_000_000


def test_the_shipped_lecture_generator_is_the_recorded_run_exported_as_float16(monkeypatch):
    import json

    from gan_core.checkpoint import load_checkpoint
    from gan_core.paths import ASSETS_DIR

    monkeypatch.delenv("GAN_LECTURE_RECORDING", raising=False)
    folder = ASSETS_DIR / "generator-tf-tutorial-mnist5k"
    ckpt = load_checkpoint(folder)
    rec = load_recording(lecture_recording_path())
    assert ckpt.discriminator is None and ckpt.model_config.preset == "tf-tutorial"
    assert ckpt.step == rec.last_step and ckpt.train_config == rec.train_config
    assert json.loads((folder / "config.json").read_text())["exported"]["dtype"] == "float16"
    assert next(ckpt.generator.parameters()).dtype == torch.float32  # widened on load



def test_the_shipped_fashion_recording_is_the_lecture_recipe_for_30_epochs_with_its_class_shares(monkeypatch):
    """Issue 31, item 5: the lecture's model with the lecture's settings on Fashion-MNIST's 60,000 images for
    30 epochs, recorded as the mnist5k run was, plus what kinds of clothing it makes at every grid."""
    from gan_core.class_shares import read_class_shares

    monkeypatch.delenv("GAN_LECTURE_RECORDING_FASHION_MNIST", raising=False)
    folder = lecture_recording_path("fashion-mnist")
    rec = load_recording(folder)
    c = rec.train_config
    assert (c["preset"], c["batch_size"], c["lr_d"], c["lr_g"], c["loss"], c["k"], c["ema"]) == \
        ("tf-tutorial", 256, 1e-4, 1e-4, "non-saturating", 1, 0.0)
    assert tuple(c["betas_d"]) == tuple(c["betas_g"]) == (0.9, 0.999)
    assert rec.dataset == "fashion-mnist" and len(rec.class_names) == 10
    # 30 epochs of 60,000 images at 256 a batch: ceil(30 * 60,000 / 256) = 7,032 steps, every one in metrics.csv
    assert rec.target_step == rec.last_step == 7032
    assert rec.history["step"].tolist() == list(range(1, 7033))
    assert rec.frame_steps[:2] == [117, 234] and rec.frame_steps[-1] == 7032 and 60 <= len(rec.frame_steps) <= 62
    for i in (0, len(rec.frame_steps) - 1):
        assert rec.frame_image(i).shape == (4 * (28 + 2) + 2,) * 2  # 16 images, as num_examples_to_generate
    shares = read_class_shares(folder)
    assert shares is not None and shares.shares.shape[1] == 10
    assert set(rec.frame_steps[:-1]) <= set(shares.steps.tolist())  # a class reading at every recorded grid
    assert np.all(shares.summary["n"] == 1000) and np.allclose(shares.shares.sum(axis=1), 1.0, atol=2e-3)
    shipped = [p for p in folder.rglob("*") if p.is_file()]
    assert not [p for p in shipped if p.suffix == ".safetensors"]  # metrics, class shares and grids: no weights
    assert sum(p.stat().st_size for p in shipped) < 5_000_000


def test_the_shipped_fashion_generator_is_that_run_exported_as_float16(monkeypatch):
    import json

    from gan_core.checkpoint import load_checkpoint
    from gan_core.paths import ASSETS_DIR

    monkeypatch.delenv("GAN_LECTURE_RECORDING_FASHION_MNIST", raising=False)
    folder = ASSETS_DIR / "generator-tf-tutorial-fashion-mnist"
    ckpt = load_checkpoint(folder)
    rec = load_recording(lecture_recording_path("fashion-mnist"))
    assert ckpt.discriminator is None and ckpt.model_config.preset == "tf-tutorial"
    assert ckpt.step == rec.last_step and ckpt.train_config == rec.train_config
    assert json.loads((folder / "config.json").read_text())["exported"]["dtype"] == "float16"

# --- watching a run the command line is writing -----------------------------------------------------------

@pytest.mark.slow
def test_a_cli_run_says_where_it_stops_and_its_eta_follows_from_its_speed(cli_run):
    rec = load_recording(cli_run)
    assert rec.target_step == STEPS  # config.json's target_step, written from the first save on
    assert rec.eta() == 0.0  # finished
    rows = rec.history
    half = {name: col[: STEPS // 2] for name, col in rows.items()}
    partial = dataclasses.replace(rec, history=half)
    rate = (half["step"][-1] - half["step"][0]) / (half["elapsed"][-1] - half["elapsed"][0])
    assert partial.eta() == pytest.approx((STEPS - half["step"][-1]) / rate)
    assert dataclasses.replace(rec, target_step=None).eta() is None


@pytest.mark.slow
def test_a_growing_run_without_a_grid_yet_is_readable_and_run_folders_are_listed_newest_first(copy_of, tmp_path):
    import os

    folder = copy_of()
    for grid in (folder / "samples").glob("*.png"):
        grid.unlink()
    with pytest.raises(RecordingError, match="no samples"):
        load_recording(folder)
    rec = load_recording(folder, growing=True)
    assert rec.frame_steps == [] and rec.frame_index_at(STEPS) is None and rec.last_step == STEPS

    root = folder.parent
    (root / "not-a-run").mkdir()
    older = Path(shutil.copytree(folder, root / "older"))
    os.utime(older / "metrics.csv", (1_000_000, 1_000_000))
    assert run_folders(root) == [folder, older] and run_folders(tmp_path / "nowhere") == []
    assert run_folder(root, "older") == older.resolve()
    (root / "link").symlink_to(tmp_path.parent)
    for name in ("..", "../etc", "/etc", "a/b", "", "link"):
        with pytest.raises(RecordingError, match="is not a run folder of this server"):
            run_folder(root, name)


# --- a growing metrics.csv, read by what was appended ---------------------------------------------------

HEADER = "step,epoch,loss_d,loss_g,d_real,d_fake,images_per_sec,elapsed\n"


def _rows(first: int, last: int) -> str:
    return "".join(f"{s},{s / 100},{1 + s % 7 / 10},{2 - s % 5 / 10},0.6,0.4,500,{s / 10}\n" for s in range(first, last + 1))


def test_a_growing_metrics_file_is_parsed_one_row_at_a_time_once(tmp_path):
    from gan_core.recording import MetricsFollower

    path = tmp_path / "metrics.csv"
    path.write_text(HEADER + _rows(1, 300) + "301,3.01,1.2")  # the last line still being written
    follower = MetricsFollower(path)
    assert list(follower.read()["step"]) == list(range(1, 301)) and follower.rows_parsed == 300
    assert follower.read() is follower.read() and follower.rows_parsed == 300  # unchanged: nothing parsed again
    with open(path, "a") as f:
        f.write(",1.5,0.6,0.4,500,30.1\n" + _rows(302, 500))  # the cut line completed, and more
    history = follower.read()
    assert list(history["step"]) == list(range(1, 501)) and follower.rows_parsed == 500  # each row once
    assert history["loss_g"][300] == 1.5 and history["elapsed"][-1] == 50.0


def test_a_rewritten_or_truncated_metrics_file_is_read_again_from_its_start(tmp_path):
    from gan_core.checkpoint import trim_metrics_csv
    from gan_core.recording import MetricsFollower

    path = tmp_path / "metrics.csv"
    path.write_text(HEADER + _rows(1, 400))
    follower = MetricsFollower(path)
    assert follower.read()["step"][-1] == 400
    trim_metrics_csv(path, 250)  # a resume from the checkpoint at 250 (a new file in its place)
    with open(path, "a") as f:
        f.write(_rows(251, 260))
    assert list(follower.read()["step"]) == list(range(1, 261))
    path.write_text(HEADER + _rows(1, 30))  # cut in place (the same inode, shorter)
    assert follower.read()["step"][-1] == 30
    with open(path, "r+") as f:  # rewritten in place with different rows before the offset, then grown
        f.write(HEADER + _rows(1, 30).replace("0.6,0.4", "0.7,0.3") + _rows(31, 40))
    history = follower.read()
    assert history["step"][-1] == 40 and set(history["d_real"]) == {0.7, 0.6}


def test_the_rows_kept_are_bounded_and_thinned_evenly_whatever_the_runs_length(tmp_path):
    from gan_core.recording import MetricsFollower

    path = tmp_path / "metrics.csv"
    path.write_text(HEADER)
    follower = MetricsFollower(path, max_rows=1000)
    written = 0
    for last in (700, 5_000, 33_333, 100_000):  # a run growing between reads
        with open(path, "a") as f:
            f.write(_rows(written + 1, last))
        written = last
        steps = follower.read()["step"]
        assert len(steps) <= 1001 and steps[0] == 1 and steps[-1] == last  # the first and the newest row
        gaps = np.diff(steps[:-1])
        assert len(set(gaps)) == 1 and (last < 1000 or len(steps) > 500)  # every n-th row, at least half the bound
    assert follower.rows_parsed == 100_000
    assert all(len(c) == len(steps) for c in follower.read().values())
