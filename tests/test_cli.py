"""The command line: train writes a checkpoint folder, metrics and grids; sample writes PNG or .npy."""

import argparse
import csv
import errno
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.checkpoint import load_checkpoint
from gan_core.cli import build_parser, main


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


def test_epochs_become_steps_as_on_the_training_page(tmp_path):
    # digits: 1,797 images. 0.05 epochs of batch 16 is 5.6 steps: the command line and the page both run 6
    # (the command line once truncated to 5 while the page rounded up).
    from gan_core.trainer import steps_for_epochs

    assert steps_for_epochs(0.05, 1797, 16) == 6 and steps_for_epochs(1, 5000, 64) == 79
    assert steps_for_epochs(2, 5000, 50, k=2) == 100 and steps_for_epochs(1e-9, 10, 10) == 1
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--epochs", "0.05", "--batch-size", "16", "--sample-every", "0",
                 "--out", str(out)]) == 0
    assert load_checkpoint(out).step == 6


def test_time_limit_stops_after_that_much_training_and_writes_the_run_as_at_its_end(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--steps", "1000000", "--time-limit", "1.5", "--batch-size", "8",
                 "--sample-every", "0", "--out", str(out)]) == 0
    ckpt = load_checkpoint(out)
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(r["step"]) for r in rows] == list(range(1, ckpt.step + 1)) and 1 < ckpt.step < 1000000
    elapsed = [float(r["elapsed"]) for r in rows]
    assert elapsed[-1] >= 1.5 > elapsed[-2]  # the first step past the limit is the last
    assert (out / "samples" / "final.png").is_file() and ckpt.discriminator is not None
    assert f"time limit reached: {elapsed[-1]:.1f} s of training, stopped after step {ckpt.step}" in capsys.readouterr().err
    for bad in ("0", "-3", "nan", "inf"):
        assert main(["train", "--time-limit", bad, "--out", str(tmp_path / bad)]) == 2
        assert "--time-limit must be a number from 1 to 1000000" in capsys.readouterr().err


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
    assert main(["export", "--checkpoint", str(run), "--out", str(run), "--overwrite"]) == 2  # even so
    assert (run / "discriminator.safetensors").is_file()
    assert main(["export", "--checkpoint", str(run), "--out", str(shared)]) == 2  # shared holds a checkpoint
    assert main(["export", "--checkpoint", str(run), "--out", str(shared), "--overwrite"]) == 0


def test_bad_input_gives_a_message_and_exit_code_2_not_a_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "gan_core", "train", "--dataset", str(tmp_path / "nothing"),
                        "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "gan_core", "sample", "--checkpoint", str(tmp_path),
                        "--out", str(tmp_path / "x.png")], capture_output=True, text=True)
    assert r.returncode == 2 and "not a checkpoint folder" in r.stderr and "Traceback" not in r.stderr


def test_every_command_has_help(capsys):
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(commands) == {"train", "sample", "export", "evaluate", "train-classifier", "report", "ablation-study",
                             "bench"}
    for cmd in commands:
        assert main([cmd, "--help"]) == 0 and f"usage: python -m gan_core {cmd}" in capsys.readouterr().out


# --- issue 14: the user's work is kept, every input failure is one line --------------------------------

def train(out, *extra, steps="3"):
    return main(["train", "--steps", steps, "--batch-size", "8", "--sample-every", "0", "--out", str(out), *extra])


def steps_in(metrics):
    return [int(r["step"]) for r in csv.DictReader(open(metrics))]


def test_out_on_an_existing_run_is_refused_unless_resume_or_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()
    assert train(out, steps="2") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # nothing touched
    assert train(out, "--resume", str(out), steps="2") == 0
    assert steps_in(out / "metrics.csv") == [1, 2, 3, 4, 5]
    assert train(out, "--overwrite", steps="2") == 0
    assert steps_in(out / "metrics.csv") == [1, 2] and load_checkpoint(out).step == 2
    (tmp_path / "file").write_text("mine")
    assert train(tmp_path / "file") == 2 and "is a file" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "mine"


def test_resume_applies_the_requested_learning_rate_and_keeps_the_rest(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--lr-g", "0.0005", "--lr-d", "0.0004") == 0
    capsys.readouterr()
    assert train(out, "--resume", str(out), "--lr-g", "0.0001", steps="1") == 0
    err = capsys.readouterr().err
    assert "lr_g is now 0.0001 (the checkpoint had 0.0005)" in err and "lr_d is now" not in err
    assert "lr_d=0.0004" in err and "lr_g=" not in err  # kept, and said so
    ckpt = load_checkpoint(out)
    assert ckpt.train_config["lr_g"] == 0.0001 and ckpt.train_config["lr_d"] == 0.0004  # not the preset's 1e-3
    assert ckpt.optimizers["opt_g"]["param_groups"][0]["lr"] == 0.0001  # the checkpoint tells the truth
    assert ckpt.optimizers["opt_d"]["param_groups"][0]["lr"] == 0.0004


def test_resume_keeps_every_saved_setting_the_command_line_does_not_give(tmp_path, capsys):
    # issue 27: these flags once had non-None defaults, and a bare --resume trained with k = 1, the
    # non-saturating loss, a normal prior, no smoothing and seed 0.
    out = tmp_path / "run"
    assert train(out, "--k", "2", "--loss", "hinge", "--prior", "uniform", "--label-smoothing", "0.1",
                 "--seed", "5", "--ema", "0.5", "--dataset", "digits", "--fc-width", "64", steps="2") == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--out", str(out), "--steps", "2", "--sample-every", "0"]) == 0
    err = capsys.readouterr().err
    saved = load_checkpoint(out).train_config
    assert (saved["k"], saved["loss"], saved["prior"], saved["label_smoothing"], saved["seed"]) == (
        2, "hinge", "uniform", 0.1, 5)
    assert (saved["ema"], saved["dataset"], saved["batch_size"], saved["fc_width"]) == (0.5, "digits", 8, 64)
    assert steps_in(out / "metrics.csv") == [1, 2, 3, 4]
    kept = next(line for line in err.splitlines() if line.startswith("resume: kept"))
    for shown in ("k=2", "loss=hinge", "prior=uniform", "label_smoothing=0.1", "seed=5", "dataset=digits"):
        assert shown in kept, kept
    assert "is now" not in err  # nothing was changed
    assert main(["train", "--resume", str(out), "--out", str(out), "--steps", "1", "--k", "3", "--beta1", "0.1",
                 "--sample-every", "0"]) == 0
    err = capsys.readouterr().err
    saved = load_checkpoint(out).train_config
    assert saved["k"] == 3 and saved["loss"] == "hinge" and saved["betas_d"][0] == saved["betas_g"][0] == 0.1
    assert "k is now 3 (the checkpoint had 2)" in err and "k=" not in err.split("resume: kept")[1].split("\n")[0]


def test_an_interrupted_run_resumed_without_flags_keeps_its_plan(tmp_path, capsys, monkeypatch):
    """A run stopped (SIGTERM) at step 5 of 12 and resumed with the bare command its message suggests
    goes on to step 12 with grids, saves and class readings at the intervals it was started with (it
    once trained 2,000 more steps with the defaults: grids every 250 steps and no class readings)."""
    import gan_core.cli.train as train_cli

    asked = {"n": 0}

    def stop_after_five(self):  # the loop asks after every step; the 5th answer is "SIGTERM came"
        asked["n"] += 1
        if asked["n"] >= 5:
            self.signal = signal.SIGTERM
        return self.signal is not None

    out = tmp_path / "run"
    start = ["train", "--dataset", "mnist5k", "--steps", "12", "--batch-size", "8", "--sample-every", "3",
             "--save-every", "4", "--record-classes", "16", "--out", str(out)]
    with monkeypatch.context() as m:
        m.setattr(train_cli.GracefulStop, "requested", property(stop_after_five))
        assert main(start) == 128 + signal.SIGTERM
    assert load_checkpoint(out).step == 5
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    plan = next(line for line in err.splitlines() if line.startswith("resume: the run goes on with its saved plan"))
    for shown in ("sample_every=3", "save_every=4", "record_classes=16", "target_step=12"):
        assert shown in plan, plan
    ckpt = load_checkpoint(out)
    assert ckpt.step == 12 and ckpt.config["target_step"] == 12
    assert ckpt.config["plan"] == {"sample_every": 3, "save_every": 4, "record_classes": 16}
    assert steps_in(out / "metrics.csv") == list(range(1, 13))
    assert sorted(p.name for p in (out / "samples").glob("step_*.png")) == [
        f"step_{s:06d}.png" for s in (3, 6, 9, 12)]
    assert steps_in(out / "classes.csv") == [3, 6, 9, 12]  # no gap where the run was stopped
    # a finished run resumed again, with a flag given: the flag wins, the rest of the plan is kept
    assert main(["train", "--resume", str(out), "--out", str(out), "--steps", "3", "--sample-every", "0"]) == 0
    err = capsys.readouterr().err
    assert "record_classes=16" in err and "sample_every=" not in err and "target_step=" not in err
    assert load_checkpoint(out).config["plan"] == {"sample_every": 0, "save_every": 4, "record_classes": 16}
    assert steps_in(out / "metrics.csv") == list(range(1, 16)) and steps_in(out / "classes.csv") == [3, 6, 9, 12]


def test_resume_refuses_a_different_model_and_accepts_the_same_one(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, steps="1") == 0
    capsys.readouterr()
    before = (out / "metrics.csv").read_bytes()
    for flag, value in (("--preset", "dcgan"), ("--image-size", "32"), ("--latent-dim", "7"), ("--ngf", "8")):
        assert train(out, "--resume", str(out), flag, value, steps="1") == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {flag} {value} conflicts with the checkpoint") and err.count("\n") == 1, err
    assert (out / "metrics.csv").read_bytes() == before  # refused before anything was written
    assert train(out, "--resume", str(out), "--preset", "small", "--image-size", "28", "--latent-dim", "64",
                 steps="1") == 0
    assert load_checkpoint(out).step == 2


def test_resume_after_a_crash_continues_metrics_without_duplicates(tmp_path):
    out = tmp_path / "run"
    assert train(out, "--save-every", "2", steps="4") == 0
    with open(out / "metrics.csv", "a") as f:  # rows written after the last save, then a crash
        f.write("5,0.1,9,9,0.5,0.5,100,1\n6,0.1,9,9,0.5,0.5,100,1\n7,0.1")
    assert train(out, "--resume", str(out), steps="3") == 0
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert all(float(r["loss_d"]) != 9 for r in rows)


def test_divergence_keeps_checkpoint_and_metrics_together(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--lr-d", "10", "--lr-g", "10", "--loss", "lsgan", steps="200") == 1
    err = capsys.readouterr().err
    assert "\nerror: Training diverged" in err or err.startswith("error: Training diverged")
    assert "smaller learning rate" in err
    step = load_checkpoint(out).step
    assert steps_in(out / "metrics.csv") == list(range(1, step + 1))


def test_a_one_image_dataset_and_a_fifo_are_messages(tmp_path, capsys):
    folder = tmp_path / "one"
    folder.mkdir()
    Image.new("L", (28, 28), 128).save(folder / "a.png")
    assert train(tmp_path / "o1", "--dataset", str(folder)) == 2
    assert "needs at least 2" in capsys.readouterr().err
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert train(tmp_path / "o2", "--dataset", str(fifo)) == 2
    assert "not a regular file or folder" in capsys.readouterr().err


@pytest.mark.parametrize("error,code,expected", [
    (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/run"), 2, "read-only"),
    (OSError(errno.ENOSPC, "No space left on device", "/data/run"), 2, "disk is full"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "out.png"), 2, "is a folder"),
    (PermissionError(errno.EACCES, "Permission denied", "/root/x"), 2, "permission denied"),
    (OverflowError("cannot convert float infinity to integer"), 2, "infinity"),
    (RecursionError("maximum recursion depth exceeded"), 2, "recursion"),
    (zipfile.BadZipFile("Bad CRC-32 for file 'config.json'"), 2, "CRC"),
])
def test_every_input_failure_is_one_plain_line(monkeypatch, capsys, error, code, expected):
    import gan_core.cli.checkpoints as cli

    def fail(args):
        raise error

    monkeypatch.setattr(cli, "cmd_sample", fail)
    assert main(["sample", "--checkpoint", "x", "--out", "y.png"]) == code
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err
    assert "Traceback" not in err


def test_a_run_that_cannot_save_for_lack_of_space_stops_with_its_last_whole_checkpoint(tmp_path, monkeypatch,
                                                                                         capsys):
    import gan_core.checkpoint as checkpoint

    real_save, real_write = checkpoint.save_checkpoint, checkpoint._write_synced
    saves = []

    def counted_save(*args, **kwargs):
        saves.append(kwargs.get("extra"))
        return real_save(*args, **kwargs)

    def write(path, data):  # the low-level write: the disk is full from the third save on (step 4)
        if len(saves) >= 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(path, data)

    monkeypatch.setattr(checkpoint, "save_checkpoint", counted_save)
    monkeypatch.setattr(checkpoint, "_write_synced", write)
    out = tmp_path / "run"
    assert main(["train", "--steps", "6", "--batch-size", "8", "--save-every", "2", "--sample-every", "0",
                 "--out", str(out)]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: the checkpoint could not be saved") and "No space left on device" in last
    assert "unchanged" in last and "Traceback" not in last
    assert len(saves) == 3  # the run stopped at the save that failed
    monkeypatch.undo()
    assert load_checkpoint(out).step == 2  # the last whole checkpoint, loadable
    assert not [p.name for p in out.iterdir() if p.name.endswith((".new", ".tmp"))]


def test_a_run_in_a_runs_folder_over_its_quota_cleans_abandoned_runs_then_stops_if_still_over(tmp_path, monkeypatch,
                                                                                               capsys):
    runs = tmp_path / "runs"
    for name in ("abandoned", "busy"):
        (runs / name).mkdir(parents=True)
        (runs / name / "config.json").write_bytes(b"x" * 2_000_000)
    old = time.time() - 3600
    for p in (runs / "abandoned" / "config.json", runs / "abandoned"):
        os.utime(p, (old, old))
    monkeypatch.setenv("GAN_RUNS_DIR", str(runs))
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "1")
    out = runs / "new"
    assert main(["train", "--steps", "2", "--batch-size", "8", "--sample-every", "0", "--out", str(out)]) == 2
    assert sorted(p.name for p in runs.iterdir()) == ["busy", "new"]  # the abandoned run went, the busy one stayed
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: the runs folder is over its quota") and "GAN_MAX_RUNS_MB" in last
    assert not (out / "config.json").exists()
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "10")  # room again: the same command trains and saves
    assert main(["train", "--steps", "2", "--batch-size", "8", "--sample-every", "0", "--out", str(out),
                 "--overwrite"]) == 0
    assert load_checkpoint(out).step == 2 and (out / ".in-use").is_file()


def test_a_real_bug_keeps_its_traceback_and_asks_for_a_report(monkeypatch, capsys):
    import gan_core.cli.checkpoints as cli

    def bug(args):
        return {}["missing"]

    monkeypatch.setattr(cli, "cmd_sample", bug)
    assert main(["sample", "--checkpoint", "x", "--out", "y.png"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err and "bug in GAN Classroom" in err and "report" in err


def test_sample_into_a_folder_or_an_unwritable_place_is_a_message(tmp_path, capsys):
    shipped = "assets/generator-mnist5k"
    (tmp_path / "dir.png").mkdir()
    assert main(["sample", "--checkpoint", shipped, "--n", "4", "--out", str(tmp_path / "dir.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is a folder" in err and "Traceback" not in err


def _one_line_refusal(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert all(w in err for w in words), err
    return err


def test_sample_and_evaluate_out_never_replace_a_file_unasked_nor_a_runs_own_files(tmp_path, capsys):
    import shutil

    run = tmp_path / "u4"
    shutil.copytree("assets/generator-mnist5k", run)
    (run / "samples").mkdir()
    (run / "samples" / "final.png").write_bytes(b"grid")
    (run / "metrics.csv").write_text("step\n1\n")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    (tmp_path / "link.png").symlink_to(run / "generator.safetensors")
    own = [run / "generator.safetensors", run / "config.json", run / "metrics.csv", run / "samples" / "final.png",
           tmp_path / "link.png"]
    for target in own:  # even with --overwrite: writing there would destroy the run
        for extra in ([], ["--overwrite"]):
            assert main(["sample", "--checkpoint", str(run), "--n", "4", "--out", str(target), *extra]) == 2
            _one_line_refusal(capsys, "destroy that run")
            assert main(["evaluate", "--checkpoint", str(run), "--n", "4", "--out", str(target), *extra]) == 2
            _one_line_refusal(capsys, "destroy that run")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    assert load_checkpoint(run).step >= 0  # the run still loads (its hashes match)

    mine = tmp_path / "mine.png"
    mine.write_bytes(b"my own picture")
    assert main(["sample", "--checkpoint", str(run), "--n", "4", "--out", str(mine)]) == 2
    _one_line_refusal(capsys, "already exists", "--overwrite")
    assert mine.read_bytes() == b"my own picture"
    notes = tmp_path / "notes.json"
    notes.write_text("{}")
    assert main(["evaluate", "--checkpoint", str(run), "--n", "4", "--out", str(notes)]) == 2
    _one_line_refusal(capsys, "already exists")
    assert notes.read_text() == "{}"
    assert main(["sample", "--checkpoint", str(run), "--n", "4", "--out", str(mine), "--overwrite"]) == 0
    assert Image.open(mine).format == "PNG"
    assert main(["sample", "--checkpoint", str(run), "--n", "4", "--out", str(run / "more.png")]) == 0  # a new file


@pytest.mark.parametrize("name", ["x.jpg", "x.JPEG", "x.gif", "x", "x.png.txt"])
def test_sample_refuses_a_suffix_whose_format_it_does_not_write(tmp_path, capsys, name):
    assert main(["sample", "--checkpoint", "assets/generator-mnist5k", "--n", "4", "--out", str(tmp_path / name)]) == 2
    _one_line_refusal(capsys, ".png", ".npy")
    assert not (tmp_path / name).exists()
    assert main(["sample", "--checkpoint", "assets/generator-mnist5k", "--n", "4", "--out", str(tmp_path / "x.PNG")]) == 0
    assert Image.open(tmp_path / "x.PNG").format == "PNG"


def wait_for_rows(metrics, n, proc, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if metrics.is_file() and len(metrics.read_text().splitlines()) > n:
            return
        time.sleep(0.2)
    pytest.fail(f"the training subprocess did not write {n} rows: {proc.poll()}")


@pytest.mark.slow
@pytest.mark.parametrize("sig,code,name", [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
def test_ctrl_c_or_sigterm_saves_a_loadable_checkpoint_and_flushes_metrics(tmp_path, sig, code, name):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "gan_core", "train", "--steps", "100000", "--batch-size", "8",
                             "--save-every", "100000", "--sample-every", "0", "--threads", "1", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_rows(out / "metrics.csv", 5, proc)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert f"stopped by {name}" in err and "--resume" in err and "Traceback" not in err
    assert "\r" not in err  # stderr is a pipe, not a terminal: no progress-bar updates in a log
    ckpt = load_checkpoint(out)
    assert ckpt.step >= 5 and steps_in(out / "metrics.csv") == list(range(1, ckpt.step + 1))
    assert main(["train", "--resume", str(out), "--steps", "2", "--batch-size", "8", "--sample-every", "0",
                 "--out", str(out)]) == 0
    assert steps_in(out / "metrics.csv") == list(range(1, ckpt.step + 3))


def test_log_every_writes_the_same_rows_as_reading_every_step(tmp_path):
    """--log-every N reads the losses from the device once per N steps (GPU-friendly): the run and its
    metrics.csv are those of --log-every 1, one row per step, and grids still land on their steps."""
    import csv

    rows = {}
    for n in (1, 4):
        out = tmp_path / f"every{n}"
        assert main(["train", "--dataset", "digits", "--steps", "10", "--batch-size", "8", "--seed", "3",
                     "--sample-every", "3", "--log-every", str(n), "--out", str(out)]) == 0
        with open(out / "metrics.csv", newline="") as f:
            rows[n] = [(r["step"], r["loss_d"], r["loss_g"], r["d_real"], r["d_fake"]) for r in csv.DictReader(f)]
        assert sorted(p.name for p in (out / "samples").iterdir()) == [
            "final.png", "step_000003.png", "step_000006.png", "step_000009.png"]
    assert rows[4] == rows[1] and [r[0] for r in rows[4]] == [str(i) for i in range(1, 11)]
    assert main(["train", "--log-every", "0", "--out", str(tmp_path / "bad")]) == 2


def test_a_divergence_found_at_the_end_of_a_block_keeps_checkpoint_and_metrics_together(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(out, "--lr-d", "10", "--lr-g", "10", "--loss", "lsgan", "--log-every", "7", steps="200") == 1
    assert "smaller learning rate" in capsys.readouterr().err
    step = load_checkpoint(out).step
    assert step % 50 == 0  # back to a snapshot, taken only after a clean block
    assert steps_in(out / "metrics.csv") == list(range(1, step + 1))
