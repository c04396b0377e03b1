"""The command line: train writes a checkpoint folder, metrics and grids; sample writes PNG or .npy."""

import csv
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from gan_core.checkpoint import load_checkpoint
from gan_core.cli import main


def test_train_then_sample_png_and_npy_then_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "mnist5k", "--preset", "small", "--steps", "12", "--batch-size", "16",
                 "--seed", "1", "--out", str(out), "--sample-every", "5"]) == 0
    for name in ("config.json", "generator.safetensors", "discriminator.safetensors", "optimizers.safetensors",
                 "metrics.csv", "samples/step_000005.png", "samples/step_000010.png", "samples/final.png"):
        assert (out / name).is_file(), name
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(r["step"]) for r in rows] == list(range(1, 13))
    assert set(rows[0]) == {"step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "images_per_sec", "elapsed"}
    ckpt = load_checkpoint(out)
    assert ckpt.step == 12 and ckpt.dataset["name"] == "mnist5k" and len(ckpt.dataset["class_names"]) == 10
    assert ckpt.config["train"]["reuse_fake"] is True  # k = 1: the G step reuses D's fake batch

    assert main(["sample", "--checkpoint", str(out), "--n", "10", "--seed", "2", "--out", str(tmp_path / "s.npy")]) == 0
    arr = np.load(tmp_path / "s.npy")
    assert arr.shape == (10, 1, 28, 28) and arr.dtype == np.float32 and arr.min() >= -1 and arr.max() <= 1
    assert main(["sample", "--checkpoint", str(out), "--n", "16", "--out", str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").size == (4 * 30 + 2, 4 * 30 + 2)

    assert main(["train", "--resume", str(out), "--steps", "3", "--batch-size", "16", "--out", str(out)]) == 0
    assert load_checkpoint(out).step == 15
    assert len(list(csv.DictReader(open(out / "metrics.csv")))) == 15


def test_fresh_noise_flag_keeps_algorithm_1s_separate_noise_batch(tmp_path):
    # Algorithm 1 word for word: the G step draws its own noise.
    out = tmp_path / "run"
    assert main(["train", "--steps", "2", "--batch-size", "8", "--fresh-noise", "--sample-every", "0",
                 "--out", str(out)]) == 0
    assert load_checkpoint(out).config["train"]["reuse_fake"] is False


def test_export_writes_the_averaged_generator_alone(tmp_path):
    run, shared = tmp_path / "run", tmp_path / "shared"
    assert main(["train", "--steps", "4", "--batch-size", "8", "--ema", "0.5", "--sample-every", "0",
                 "--out", str(run)]) == 0
    assert main(["export", "--checkpoint", str(run), "--out", str(shared)]) == 0
    assert sorted(f.name for f in shared.iterdir()) == ["config.json", "generator.safetensors"]
    full, small = load_checkpoint(run), load_checkpoint(shared)
    assert full.has_ema and not small.has_ema and small.discriminator is None
    for (k, a), (k2, b) in zip(full.generator.state_dict().items(), small.generator.state_dict().items()):
        assert k == k2 and torch.equal(a, b)  # the moving average, not the raw G
    assert small.step == 4 and small.config["exported"]["weights"].startswith("G_ema")
    assert small.model_config == full.model_config and small.dataset == full.dataset
    assert main(["export", "--checkpoint", str(run), "--out", str(run)]) == 2  # would delete its own D
    assert (run / "discriminator.safetensors").is_file()


def test_bad_input_gives_a_message_and_exit_code_2_not_a_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "gan_core", "train", "--dataset", str(tmp_path / "nothing"),
                        "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "gan_core", "sample", "--checkpoint", str(tmp_path),
                        "--out", str(tmp_path / "x.png")], capture_output=True, text=True)
    assert r.returncode == 2 and "not a checkpoint folder" in r.stderr and "Traceback" not in r.stderr


def test_every_command_has_help():
    for cmd in ("train", "sample", "export", "evaluate"):
        r = subprocess.run([sys.executable, "-m", "gan_core", cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage:" in r.stdout
