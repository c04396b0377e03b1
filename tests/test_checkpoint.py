"""Checkpoints: bit-exact round trip, atomic writes, and refusal of anything wrong or malicious."""

import hashlib
import json
import os
import pickle
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import save_file

from gan_core.checkpoint import (CONFIG_FILE, FORMAT_VERSION, GENERATOR_EMA_FILE, GENERATOR_FILE, CheckpointError,
                                 checkpoint_zip_bytes, load_checkpoint, save_checkpoint)
from gan_core.models import get_preset
from gan_core.recording import run_folders
from gan_core.trainer import TrainConfig, Trainer
from helpers import zip_bytes


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    data = SimpleNamespace(images=torch.rand(64, 1, 28, 28) * 2 - 1, labels=None, class_names=[])
    t = Trainer(TrainConfig(preset="small", batch_size=16, seed=3, ema=0.9), data)
    for _ in range(3):
        t.step()
    folder = tmp_path_factory.mktemp("ckpt") / "run"
    save_checkpoint(folder, t, dataset={"name": "random", "class_names": []})
    return t, folder


def copy_folder(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def rehash(folder: Path) -> None:
    """Make config.json name the files as they are now: a hostile checkpoint has consistent hashes,
    so the checks behind the hash check must refuse it on their own."""
    cfg = json.loads((folder / CONFIG_FILE).read_text())
    cfg["sha256"] = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in cfg["sha256"]}
    (folder / CONFIG_FILE).write_text(json.dumps(cfg))


def test_round_trip_is_bit_exact_including_optimisers(trained, tmp_path):
    t, folder = trained
    ckpt = load_checkpoint(folder)
    assert ckpt.has_ema and not ckpt.generator.training
    for mine, theirs in ((t.G, ckpt.raw_generator), (t.G_ema, ckpt.generator), (t.D, ckpt.discriminator)):
        for (k, a), (k2, b) in zip(mine.state_dict().items(), theirs.state_dict().items()):
            assert k == k2 and torch.equal(a, b)
    assert ckpt.step == 3 and ckpt.model_config == t.config.model_config()
    resumed = Trainer(TrainConfig.from_dict(ckpt.train_config), SimpleNamespace(images=t.images))
    resumed.load_state(ckpt.trainer_state())
    mine, theirs = t.opt_g.state_dict()["state"], resumed.opt_g.state_dict()["state"]
    assert mine.keys() == theirs.keys()
    for idx in mine:
        a, b = mine[idx], theirs[idx]
        assert torch.equal(a["exp_avg"], b["exp_avg"]) and torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
    assert resumed.step_count == 3
    resumed.step()  # and training goes on


def test_a_checkpoint_from_before_fc_width_loads_as_the_all_convolutional_small(tmp_path):
    data = SimpleNamespace(images=torch.rand(32, 1, 28, 28) * 2 - 1, labels=None, class_names=[])
    t = Trainer(TrainConfig(preset="small", batch_size=16, fc_width=0, ema=0.0), data)
    t.step()
    folder = save_checkpoint(tmp_path / "old", t, dataset={"name": "random", "class_names": []})
    config = json.loads((folder / CONFIG_FILE).read_text())
    del config["model"]["fc_width"]  # as written by GAN Classroom before the field existed
    del config["train"]["fc_width"]
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    ckpt = load_checkpoint(folder)
    assert ckpt.model_config.fc_width == 0
    z = torch.randn(4, t.config.latent_dim)
    t.G.eval()
    with torch.no_grad():
        assert torch.equal(ckpt.generator(z), t.G(z))


def test_resume_with_ema_continues_exactly(tmp_path):
    data = SimpleNamespace(images=torch.rand(64, 1, 28, 28) * 2 - 1, labels=None, class_names=[])
    t = Trainer(TrainConfig(preset="small", batch_size=16, seed=5, ema=0.9), data)
    for _ in range(2):
        t.step()
    save_checkpoint(tmp_path / "run", t)
    resumed = Trainer(TrainConfig.from_dict(load_checkpoint(tmp_path / "run").train_config), data)
    resumed.load_state(load_checkpoint(tmp_path / "run").trainer_state())
    resumed.rng.set_state(t.rng.get_state())  # the checkpoint does not hold the noise RNG; share it
    resumed._order, resumed._cursor = t._order.clone(), t._cursor
    t.step()
    resumed.step()
    for a, b in zip(t.G_ema.state_dict().values(), resumed.G_ema.state_dict().values()):
        assert torch.equal(a, b)


def test_checkpoint_without_ema_still_loads_and_resumes(trained, tmp_path):
    """As written before G_ema existed: no generator_ema file, no "ema" in the training config."""
    t, folder = trained
    old = copy_folder(folder, tmp_path / "old")
    (old / GENERATOR_EMA_FILE).unlink()
    cfg = json.loads((old / CONFIG_FILE).read_text())
    del cfg["train"]["ema"]
    cfg["files"].remove(GENERATOR_EMA_FILE)
    del cfg["sha256"]  # written before checkpoints named their files' hashes
    (old / CONFIG_FILE).write_text(json.dumps(cfg))
    ckpt = load_checkpoint(old)
    assert not ckpt.has_ema and ckpt.generator is ckpt.raw_generator and not ckpt.generator.training
    assert all(torch.equal(a, b) for a, b in zip(t.G.state_dict().values(), ckpt.generator.state_dict().values()))
    state = ckpt.trainer_state()
    assert state["G_ema"] is None
    resumed = Trainer(TrainConfig.from_dict(ckpt.train_config), SimpleNamespace(images=t.images))
    assert resumed.config.ema == get_preset("small").defaults.ema == 0.999  # the preset's G_ema, restarted
    resumed.load_state(state)  # the average starts from the loaded G
    assert all(torch.equal(a, b) for a, b in zip(t.G.state_dict().values(), resumed.G_ema.state_dict().values()))
    resumed.step()


def test_saving_without_ema_removes_a_stale_average(trained, tmp_path):
    t, folder = trained
    reused = copy_folder(folder, tmp_path / "reused")
    plain = Trainer(TrainConfig(preset="small", batch_size=16, seed=4, ema=0.0), SimpleNamespace(images=t.images))
    save_checkpoint(reused, plain)
    ckpt = load_checkpoint(reused)
    assert not (reused / GENERATOR_EMA_FILE).exists() and not ckpt.has_ema
    assert all(torch.equal(a, b) for a, b in zip(plain.G.state_dict().values(), ckpt.generator.state_dict().values()))


def test_zip_round_trip_and_no_temporary_files_left(trained):
    _, folder = trained
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    data = checkpoint_zip_bytes(folder)
    ckpt = load_checkpoint(data)
    assert ckpt.has_ema
    for name in ("generator", "raw_generator"):
        assert torch.equal(next(iter(getattr(ckpt, name).state_dict().values())),
                           next(iter(getattr(load_checkpoint(folder), name).state_dict().values())))
    assert run_folders(folder.parent, marker=CONFIG_FILE) == [folder]


def test_a_pickle_file_is_refused_without_being_executed(trained, tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps({"weights": Evil()})
    # as an upload, as a file on disk, and disguised inside a checkpoint folder
    with pytest.raises(CheckpointError):
        load_checkpoint(payload)
    (tmp_path / "model.pt").write_bytes(payload)
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "model.pt")
    bad = copy_folder(trained[1], tmp_path / "evil")
    (bad / GENERATOR_FILE).write_bytes(payload)
    rehash(bad)
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_checkpoint(bad)
    assert not marker.exists()


def test_truncated_weights_are_refused(trained, tmp_path):
    bad = copy_folder(trained[1], tmp_path / "trunc")
    raw = (bad / GENERATOR_FILE).read_bytes()
    (bad / GENERATOR_FILE).write_bytes(raw[: len(raw) // 2])
    rehash(bad)
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(bad)


def edit_config(folder: Path, **changes) -> None:
    cfg = json.loads((folder / CONFIG_FILE).read_text())
    for key, value in changes.items():
        if key.startswith("model_"):
            cfg["model"][key[6:]] = value
        else:
            cfg[key] = value
    (folder / CONFIG_FILE).write_text(json.dumps(cfg))


@pytest.mark.parametrize("changes,match", [
    ({"model_preset": "biggan"}, "unknown model preset"),
    ({"format_version": FORMAT_VERSION + 1}, "newer GAN Classroom"),
    ({"format": "something-else"}, "not a GAN Classroom checkpoint"),
    ({"model_latent_dim": 65}, "shape"),
    ({"model_image_size": 30}, "makes 28, 32, 64 px images, not 30 px"),
    ({"model_image_size": 64}, "does not match the model in the config"),  # a size small makes, other layers
    ({"step": -4}, "invalid step"),
])
def test_bad_configs_are_refused(trained, tmp_path, changes, match):
    bad = copy_folder(trained[1], tmp_path / "bad")
    edit_config(bad, **changes)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(bad)


def test_wrong_dtype_and_nan_tensors_are_refused(trained, tmp_path):
    _, folder = trained
    state = load_checkpoint(folder).generator.state_dict()
    for file in (GENERATOR_FILE, GENERATOR_EMA_FILE):
        for name, mutate, match in [("dtype", lambda t: t.double(), "dtype"),
                                    ("nan", lambda t: t * float("nan"), "NaN"),
                                    ("shape", lambda t: t[:, :-1], "shape")]:
            bad = copy_folder(folder, tmp_path / f"{file}-{name}")
            tensors = {k: v.clone() for k, v in state.items()}
            key = "net.0.weight"
            tensors[key] = mutate(tensors[key]).contiguous()
            save_file(tensors, str(bad / file))
            rehash(bad)
            with pytest.raises(CheckpointError, match=f"{file}.*{match}"):
                load_checkpoint(bad)


def test_invalid_json_missing_files_and_zip_slip(trained, tmp_path):
    bad = copy_folder(trained[1], tmp_path / "json")
    (bad / CONFIG_FILE).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="no such folder"):
        load_checkpoint(tmp_path / "absent")
    with pytest.raises(CheckpointError, match="no config.json"):
        load_checkpoint(tmp_path / "json" / "..")
    with pytest.raises(CheckpointError, match="outside"):
        load_checkpoint(zip_bytes({"../config.json": "{}"}))
    with pytest.raises(CheckpointError, match="no config.json"):
        load_checkpoint(zip_bytes({"notes.txt": "hello"}))


def test_oversized_upload_is_refused(trained, monkeypatch):
    monkeypatch.setenv("GAN_MAX_UPLOAD_MB", "1")
    with pytest.raises(CheckpointError, match="upload limit"):
        load_checkpoint(b"PK" + b"\0" * 2_000_000)
