"""gan_core.recording: a run folder written by the real CLI, read back for the training page's replay;
cut and malformed CSV lines are skipped, a folder that is not a recording gets a plain message."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_core.recording import RecordingError, lecture_recording_path, load_recording

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
