"""Checkpoints: bit-exact round trip, atomic writes, and refusal of anything wrong or malicious."""

import io
import json
import os
import pickle
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import save_file

from gan_core.checkpoint import (CONFIG_FILE, FORMAT_VERSION, GENERATOR_FILE, CheckpointError, checkpoint_zip_bytes,
                                 list_checkpoints, load_checkpoint, save_checkpoint)
from gan_core.trainer import TrainConfig, Trainer


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    data = SimpleNamespace(images=torch.rand(64, 1, 28, 28) * 2 - 1, labels=None, class_names=[])
    t = Trainer(TrainConfig(preset="small", batch_size=16, seed=3), data)
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


def test_round_trip_is_bit_exact_including_optimisers(trained, tmp_path):
    t, folder = trained
    ckpt = load_checkpoint(folder)
    for mine, theirs in ((t.G, ckpt.generator), (t.D, ckpt.discriminator)):
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


def test_zip_round_trip_and_no_temporary_files_left(trained):
    _, folder = trained
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    data = checkpoint_zip_bytes(folder)
    ckpt = load_checkpoint(data)
    assert torch.equal(next(iter(ckpt.generator.state_dict().values())),
                       next(iter(load_checkpoint(folder).generator.state_dict().values())))
    assert list_checkpoints(folder.parent) == [folder]


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
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_checkpoint(bad)
    assert not marker.exists()


def test_truncated_weights_are_refused(trained, tmp_path):
    bad = copy_folder(trained[1], tmp_path / "trunc")
    raw = (bad / GENERATOR_FILE).read_bytes()
    (bad / GENERATOR_FILE).write_bytes(raw[: len(raw) // 2])
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
    ({"model_image_size": 64}, "cannot be built"),
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
    for name, mutate, match in [("dtype", lambda t: t.double(), "dtype"),
                                ("nan", lambda t: t * float("nan"), "NaN")]:
        bad = copy_folder(folder, tmp_path / name)
        tensors = {k: v.clone() for k, v in state.items()}
        key = "net.0.weight"
        tensors[key] = mutate(tensors[key])
        save_file(tensors, str(bad / GENERATOR_FILE))
        with pytest.raises(CheckpointError, match=match):
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
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../config.json", "{}")
    with pytest.raises(CheckpointError, match="outside"):
        load_checkpoint(buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "hello")
    with pytest.raises(CheckpointError, match="no config.json"):
        load_checkpoint(buf.getvalue())


def test_oversized_upload_is_refused(trained, monkeypatch):
    monkeypatch.setenv("GAN_MAX_UPLOAD_MB", "1")
    with pytest.raises(CheckpointError, match="upload limit"):
        load_checkpoint(b"PK" + b"\0" * 2_000_000)
