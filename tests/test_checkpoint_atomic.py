"""A checkpoint is whole or not at all (issue 14): a save killed or failing at any point leaves the
old checkpoint or the new one, never a mix; the saved optimiser state is validated like the weights."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import gan_core.checkpoint as checkpoint
from gan_core.checkpoint import (CONFIG_FILE, OPTIMIZERS_FILE, CheckpointError, checkpoint_zip_bytes, load_checkpoint,
                                 save_checkpoint)
from gan_core.trainer import TrainConfig, Trainer

REPO = Path(__file__).resolve().parents[1]


def make_trainer(seed: int = 0) -> Trainer:
    data = SimpleNamespace(images=torch.rand(32, 1, 28, 28) * 2 - 1)
    return Trainer(TrainConfig(preset="small", batch_size=8, seed=seed, ema=0.9, fc_width=16), data)


def weights(ckpt) -> list[torch.Tensor]:
    return [*ckpt.raw_generator.state_dict().values(), *ckpt.discriminator.state_dict().values(),
            *ckpt.generator.state_dict().values()]


def same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(weights(a), weights(b)))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def old_and_new(tmp_path):
    """A folder holding a checkpoint at step 1, and a trainer at step 3 about to save over it."""
    t = make_trainer()
    t.step()
    folder = tmp_path / "run"
    save_checkpoint(folder, t)
    old = load_checkpoint(folder)
    t.step()
    t.step()
    return folder, old, t


@pytest.mark.parametrize("fail_at", range(5))  # four weights files (.new), then the config (the commit)
def test_a_save_failing_at_any_file_leaves_the_previous_checkpoint(old_and_new, monkeypatch, fail_at):
    folder, old, t = old_and_new
    calls = []
    real_synced, real_atomic = checkpoint._write_synced, checkpoint._atomic_write

    def failing(real):
        def write(path, data):
            calls.append(path)
            if len(calls) > fail_at:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            return real(path, data)
        return write

    monkeypatch.setattr(checkpoint, "_write_synced", failing(real_synced))
    monkeypatch.setattr(checkpoint, "_atomic_write", failing(real_atomic))
    with pytest.raises(CheckpointError, match="could not be saved.*No space left.*unchanged"):
        save_checkpoint(folder, t)
    after = load_checkpoint(folder)
    assert after.step == 1 and same(after, old)
    assert leftovers(folder) == []  # no .new, no .tmp
    monkeypatch.undo()
    save_checkpoint(folder, t)  # the next save works and replaces it whole
    assert load_checkpoint(folder).step == 3


KILL_SCRIPT = textwrap.dedent("""
    import os, sys, torch
    from types import SimpleNamespace
    import gan_core.checkpoint as checkpoint
    from gan_core.trainer import TrainConfig, Trainer
    torch.set_num_threads(1)
    kill_at, folder = int(sys.argv[1]), sys.argv[2]
    data = SimpleNamespace(images=torch.rand(32, 1, 28, 28) * 2 - 1)
    t = Trainer(TrainConfig(preset="small", batch_size=8, seed=0, ema=0.9, fc_width=16), data)
    for _ in range(3):
        t.step()
    count = 0
    def counted(real):
        def call(*args):
            global count
            count += 1
            if count == kill_at:
                os._exit(9)  # as SIGKILL: no cleanup, no finally
            return real(*args)
        return call
    checkpoint._write_synced = counted(checkpoint._write_synced)
    checkpoint._atomic_write = counted(checkpoint._atomic_write)
    checkpoint.os.replace = counted(os.replace)
    checkpoint.save_checkpoint(folder, t)
""")


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", [1, 3, 5, 6, 7, 10])
def test_a_save_killed_at_any_point_leaves_the_old_or_the_new_checkpoint(old_and_new, kill_at):
    """Calls in a save: 4 .new files (1-4), config.json's temporary file (5) and its rename (6: the
    commit), then 4 renames of .new files (7-10). Killed at call N means calls 1..N-1 happened: up to
    6 the old checkpoint (a stray .tmp at 6); from 7 on the new one (readers take the .new files the
    config names). The next save tidies up either way."""
    folder, old, _ = old_and_new
    result = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(kill_at), str(folder)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 9, result.stderr
    after = load_checkpoint(folder)
    if kill_at <= 6:
        assert after.step == 1 and same(after, old)
    else:
        assert after.step == 3 and not same(after, old)
        assert load_checkpoint(checkpoint_zip_bytes(folder)).step == 3  # the download is the new one too
    t = make_trainer(seed=1)
    save_checkpoint(folder, t)  # finishes or discards what the killed save left
    assert leftovers(folder) == [] and load_checkpoint(folder).step == 0


def test_a_mixed_folder_is_refused_not_loaded(old_and_new, tmp_path):
    """New weights beside an old config (a save from before this fix, or files copied by hand)."""
    folder, _, t = old_and_new
    other = tmp_path / "other"
    save_checkpoint(other, t)
    (folder / "generator.safetensors").write_bytes((other / "generator.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="incomplete.*generator.safetensors"):
        load_checkpoint(folder)


def test_saving_into_a_file_or_an_unwritable_place_is_a_message(tmp_path, monkeypatch):
    t = make_trainer()
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="could not be saved"):
        save_checkpoint(tmp_path / "file", t)
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(CheckpointError, match="Read-only file system"):
        save_checkpoint(tmp_path / "new", t)
    monkeypatch.setattr(Path, "mkdir", real_mkdir)


# --- the saved optimiser state is validated like the weights ------------------------------------------

def edit_optimizer_meta(folder: Path, edit) -> None:
    config = json.loads((folder / CONFIG_FILE).read_text())
    edit(config["optimizers"]["opt_g"]["param_groups"][0])
    (folder / CONFIG_FILE).write_text(json.dumps(config))


@pytest.mark.parametrize("edit,match", [
    (lambda g: g.update(lr="0.001"), "lr"),
    (lambda g: g.pop("betas"), "betas"),
    (lambda g: g.update(betas=[0.5, 7]), "betas"),
    (lambda g: g.update(lr=-1), "lr"),
    (lambda g: g.update(params=[0, 1]), "params"),
    (lambda g: g.update(amsgrad="yes"), "amsgrad"),
])
def test_malformed_optimizer_settings_are_refused(old_and_new, edit, match):
    folder, _, _ = old_and_new
    edit_optimizer_meta(folder, edit)
    with pytest.raises(CheckpointError, match=f"optimiser state opt_g.*{match}"):
        load_checkpoint(folder)


@pytest.mark.parametrize("tensor,value,match", [
    ("opt_g.0.step", torch.tensor(-3.0), "step"),
    ("opt_g.0.step", torch.tensor(2.5), "step"),
    ("opt_g.0.step", torch.tensor([1.0, 2.0]), "shape"),
    ("opt_d.1.exp_avg", None, "shape"),
    ("opt_d.1.exp_avg_sq", "nan", "NaN"),
    ("opt_g.99.exp_avg", torch.zeros(1), "unexpected"),
])
def test_malformed_optimizer_tensors_are_refused(old_and_new, tensor, value, match):
    from safetensors.torch import load_file, save_file

    folder, _, _ = old_and_new
    tensors = load_file(str(folder / OPTIMIZERS_FILE))
    if value is None:
        value = torch.zeros(3)
    elif isinstance(value, str):
        value = tensors[tensor] * float("nan")
    tensors[tensor] = value
    save_file(tensors, str(folder / OPTIMIZERS_FILE))
    config = json.loads((folder / CONFIG_FILE).read_text())
    import hashlib

    config["sha256"][OPTIMIZERS_FILE] = hashlib.sha256((folder / OPTIMIZERS_FILE).read_bytes()).hexdigest()
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(folder)


@pytest.mark.parametrize("raw,match", [
    (b'{"format": "gan-classroom-checkpoint", "format_version": 1, "step": Infinity}', "JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "JSON"),
])
def test_configs_that_overflow_or_nest_deeply_are_messages(old_and_new, raw, match):
    folder, _, _ = old_and_new
    (folder / CONFIG_FILE).write_bytes(raw)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(folder)


@pytest.mark.parametrize("model,match", [
    ({"ngf": "64"}, "ngf"), ({"ngf": 1e300}, "ngf"), ({"latent_dim": [1]}, "latent_dim"),
    ({"preset": ["small"]}, "incomplete"), ({"image_size": True}, "image_size"),
])
def test_wrong_types_in_the_model_section_are_messages(old_and_new, model, match):
    folder, _, _ = old_and_new
    config = json.loads((folder / CONFIG_FILE).read_text())
    config["model"].update(model)
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(folder)


def test_an_unknown_prior_is_refused_at_load_not_later(old_and_new):
    folder, _, _ = old_and_new
    config = json.loads((folder / CONFIG_FILE).read_text())
    config["train"]["prior"] = "cauchy"
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="noise prior 'cauchy'") as info:
        load_checkpoint(folder)
    assert "노이즈" in info.value.localized("ko")


def test_output_folder_guard(tmp_path):
    from gan_core.checkpoint import check_output_folder

    check_output_folder(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_output_folder(tmp_path / "empty")
    run = tmp_path / "run"
    save_checkpoint(run, make_trainer())
    with pytest.raises(CheckpointError, match="already holds a run.*--resume.*--overwrite"):
        check_output_folder(run)
    check_output_folder(run, overwrite=True)
    check_output_folder(run, resuming_from=tmp_path / "." / "run")
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="is a file"):
        check_output_folder(tmp_path / "file", overwrite=True)


def test_trim_metrics_keeps_rows_up_to_a_step(tmp_path):
    from gan_core.checkpoint import trim_metrics_csv

    path = tmp_path / "metrics.csv"
    path.write_text("step,loss\n1,0.5\n2,0.4\n3,0.3\n4,0.")  # the last row cut short by a crash
    assert trim_metrics_csv(path, 2) == 2
    assert path.read_text() == "step,loss\n1,0.5\n2,0.4\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    os.remove(path)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_every_file_of_a_run_has_one_mode(tmp_path, umask):
    # config.json (written through a temporary file) once got 0600 while the weights and metrics got 0644
    from gan_core.checkpoint import trim_metrics_csv

    old = os.umask(umask)
    try:
        run = tmp_path / "run"
        save_checkpoint(run, make_trainer())
        (run / "metrics.csv").write_text("step,loss\n1,0.5\n2,0.4\n")
        trim_metrics_csv(run / "metrics.csv", 1)  # rewritten through a temporary file too
        save_checkpoint(run, make_trainer(seed=1))  # config.json replaced
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in run.iterdir()}
    assert set(modes.values()) == {0o666 & ~umask}, modes
