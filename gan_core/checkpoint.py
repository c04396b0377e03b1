"""Checkpoints: a folder with safetensors weights and a JSON config (and a .zip of it to download).

    run/
      config.json                 format, version, model config, training config, dataset, step
      generator.safetensors       G's state_dict
      generator_ema.safetensors   G_ema's state_dict, the moving average of G  (optional: when present,
                                  samples, metrics and the latent explorer use it instead of G)
      discriminator.safetensors   D's state_dict              (optional: needed to resume training)
      optimizers.safetensors      Adam moments of G and D     (optional: needed to resume exactly)

Nothing a user supplies is ever unpickled: weights are read with safetensors (a JSON header and raw
tensor bytes), the config with ``json``. Loading validates the config and every tensor's name,
shape and dtype against the model the config describes, and reports problems as ``CheckpointError``
with a plain sentence. Writes are atomic per file (write a temporary file, then rename), and the
config is written last, so a folder with a config always has the weights that go with it.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

import gan_core
from gan_core.limits import get_limits
from gan_core.models import Discriminator, Generator, ModelConfig, build_models, validate_model_config

FORMAT = "gan-classroom-checkpoint"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
GENERATOR_FILE = "generator.safetensors"
GENERATOR_EMA_FILE = "generator_ema.safetensors"
DISCRIMINATOR_FILE = "discriminator.safetensors"
OPTIMIZERS_FILE = "optimizers.safetensors"
CHECKPOINT_FILES = (CONFIG_FILE, GENERATOR_FILE, GENERATOR_EMA_FILE, DISCRIMINATOR_FILE, OPTIMIZERS_FILE)
EXTRA_FILES = ("metrics.csv",)  # shipped in the download zip when present
MAX_CONFIG_BYTES = 1_000_000


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with a sentence saying why."""


@dataclass
class Checkpoint:
    """A loaded, validated checkpoint. Models are on the CPU; the generators are in eval mode.

    ``generator`` is the one to draw samples from: the moving average G_ema when the checkpoint has
    one, else G. ``raw_generator`` is G as the optimiser left it (what training resumes from); it is
    the same object as ``generator`` when there is no average.
    """

    config: dict  # the whole config.json
    model_config: ModelConfig
    generator: Generator
    raw_generator: Generator
    discriminator: Discriminator | None
    optimizers: dict[str, dict] | None  # {"opt_g": state_dict, "opt_d": state_dict}
    step: int
    source: str

    @property
    def has_ema(self) -> bool:
        """True when ``generator`` is a moving average of G (generator_ema.safetensors)."""
        return self.generator is not self.raw_generator

    @property
    def train_config(self) -> dict:
        return dict(self.config.get("train") or {})

    @property
    def dataset(self) -> dict:
        return dict(self.config.get("dataset") or {})

    def trainer_state(self) -> dict:
        """The parts ``Trainer.load_state`` takes to resume training."""
        opt = self.optimizers or {}
        return {
            "G": self.raw_generator.state_dict(),
            "G_ema": self.generator.state_dict() if self.has_ema else None,
            "D": self.discriminator.state_dict() if self.discriminator is not None else None,
            "opt_g": opt.get("opt_g"),
            "opt_d": opt.get("opt_d"),
            "step": self.step,
            "images_seen": int(self.config.get("images_seen", 0)),
        }


# --- writing ------------------------------------------------------------------------------------

def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _flatten_optimizer(prefix: str, state: dict, tensors: dict[str, torch.Tensor]) -> dict:
    """Move an optimiser state_dict's tensors into ``tensors``; return the JSON-able rest."""
    for idx, slots in state["state"].items():
        for key, value in slots.items():
            tensors[f"{prefix}.{idx}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    return {"param_groups": state["param_groups"]}


def _unflatten_optimizer(prefix: str, meta: dict, tensors: dict[str, torch.Tensor]) -> dict:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        head, idx, key = name.split(".", 2)
        if head == prefix:
            state.setdefault(int(idx), {})[key] = value
    return {"state": dict(sorted(state.items())), "param_groups": meta["param_groups"]}


def write_checkpoint(directory: str | Path, model_config: ModelConfig, generator_state: dict,
                     discriminator_state: dict | None = None, optimizer_states: dict | None = None,
                     step: int = 0, train_config: dict | None = None, dataset: dict | None = None,
                     extra: dict | None = None, generator_ema_state: dict | None = None) -> Path:
    """Write a checkpoint folder (created if needed) and return its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for name, state in ((GENERATOR_FILE, generator_state), (GENERATOR_EMA_FILE, generator_ema_state),
                        (DISCRIMINATOR_FILE, discriminator_state)):
        if state is not None:
            _atomic_write(directory / name, st_save({k: v.detach().cpu().contiguous() for k, v in state.items()}))
            files.append(name)
        else:  # a stale file from an earlier save into this folder must not be paired with the new config
            (directory / name).unlink(missing_ok=True)
    optim_meta = None
    if optimizer_states:
        tensors: dict[str, torch.Tensor] = {}
        optim_meta = {name: _flatten_optimizer(name, st, tensors) for name, st in optimizer_states.items()}
        _atomic_write(directory / OPTIMIZERS_FILE, st_save(tensors))
        files.append(OPTIMIZERS_FILE)
    else:
        (directory / OPTIMIZERS_FILE).unlink(missing_ok=True)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model_config.to_dict(),
        "train": train_config or {},
        "dataset": dataset or {},
        "normalisation": "images in [-1, 1] (x = pixel / 127.5 - 1); G ends in tanh",
        "step": int(step),
        "files": files,
        "optimizers": optim_meta,
        "versions": {"gan_core": gan_core.__version__, "torch": torch.__version__},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(extra or {}),
    }
    _atomic_write(directory / CONFIG_FILE, json.dumps(config, indent=2).encode())
    return directory


def export_generator(source: str | Path | bytes, directory: str | Path) -> Path:
    """Write a generator-only checkpoint for sharing: config.json and one generator.safetensors.

    The weights are the ones samples come from (G_ema when ``source`` has a moving average, else
    G); D, the optimiser states and the raw G are left out, so the folder is about a third of a
    full checkpoint. It opens everywhere a checkpoint does; training resumed from it starts D fresh
    and the moving average from these weights.
    """
    if not isinstance(source, (bytes, bytearray, memoryview)) and Path(source).resolve() == Path(directory).resolve():
        raise CheckpointError("export into another folder: exporting a checkpoint onto itself would delete its D")
    ckpt = load_checkpoint(source)
    exported = {"weights": "G_ema (moving average)" if ckpt.has_ema else "G", "from": ckpt.source}
    return write_checkpoint(directory, ckpt.model_config, ckpt.generator.state_dict(), step=ckpt.step,
                            train_config=ckpt.train_config, dataset=ckpt.dataset,
                            extra={"images_seen": int(ckpt.config.get("images_seen", 0)), "exported": exported})


def save_checkpoint(directory: str | Path, trainer, dataset: dict | None = None, extra: dict | None = None) -> Path:
    """Save a ``Trainer``'s full state (G, D, both Adam states, step) as a checkpoint folder."""
    state = trainer.state()
    return write_checkpoint(
        directory, trainer.config.model_config(), state["G"], state["D"],
        {"opt_g": state["opt_g"], "opt_d": state["opt_d"]}, step=state["step"],
        train_config=trainer.config.to_dict(), dataset=dataset,
        extra={"images_seen": state["images_seen"], **(extra or {})}, generator_ema_state=state.get("G_ema"))


def checkpoint_zip_bytes(directory: str | Path) -> bytes:
    """The checkpoint folder as a .zip (for a download button)."""
    directory = Path(directory)
    if not (directory / CONFIG_FILE).is_file():
        raise CheckpointError(f"{directory} is not a checkpoint folder (no {CONFIG_FILE})")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in CHECKPOINT_FILES + EXTRA_FILES:
            if (directory / name).is_file():
                zf.write(directory / name, arcname=name)
    return buf.getvalue()


# --- reading ------------------------------------------------------------------------------------

def _read_capped(path: Path, cap: int, what: str) -> bytes:
    size = path.stat().st_size
    if size > cap:
        raise CheckpointError(f"{what} is {size / 1e6:.1f} MB, more than the {cap / 1e6:.0f} MB limit")
    return path.read_bytes()


def _files_from_directory(directory: Path) -> dict[str, bytes]:
    if not (directory / CONFIG_FILE).is_file():
        raise CheckpointError(f"{directory} is not a checkpoint folder: it has no {CONFIG_FILE}")
    cap = get_limits().max_checkpoint_mb * 1_000_000
    files = {CONFIG_FILE: _read_capped(directory / CONFIG_FILE, MAX_CONFIG_BYTES, CONFIG_FILE)}
    for name in CHECKPOINT_FILES[1:]:
        if (directory / name).is_file():
            files[name] = _read_capped(directory / name, cap, name)
    return files


def _files_from_zip(data: bytes) -> dict[str, bytes]:
    limits = get_limits()
    if len(data) > limits.max_upload_mb * 1_000_000:
        raise CheckpointError(f"the file is larger than the {limits.max_upload_mb} MB upload limit")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise CheckpointError("this file is not a checkpoint: it is not a .zip (nor a checkpoint folder)") from None
    weights_cap = limits.max_checkpoint_mb * 1_000_000
    total_cap = limits.max_zip_uncompressed_mb * 1_000_000
    wanted = [i for i in zf.infolist() if not i.is_dir()]
    for info in wanted:
        path = PurePosixPath(info.filename)
        if path.is_absolute() or ".." in path.parts:
            raise CheckpointError(f"the zip entry {info.filename!r} points outside the checkpoint; refused")
    wanted = [i for i in wanted if PurePosixPath(i.filename).name in CHECKPOINT_FILES]
    # Declared sizes first (cheap), so a zip bomb is refused before anything is inflated.
    declared = sum(i.file_size for i in wanted)
    if declared > total_cap:
        raise CheckpointError(f"the checkpoint zip would inflate to {declared / 1e6:.0f} MB, over the "
                              f"{limits.max_zip_uncompressed_mb} MB limit (GAN_MAX_ZIP_UNCOMPRESSED_MB)")
    files: dict[str, bytes] = {}
    with zf:
        for info in wanted:
            name = PurePosixPath(info.filename).name
            cap = MAX_CONFIG_BYTES if name == CONFIG_FILE else weights_cap
            if info.file_size > cap:
                raise CheckpointError(f"{name} in the zip is {info.file_size / 1e6:.1f} MB, over the "
                                      f"{cap / 1e6:.0f} MB limit")
            if name in files:
                raise CheckpointError(f"the zip holds more than one {name}")
            with zf.open(info) as f:
                content = f.read(cap + 1)  # do not trust the declared size
            if len(content) > cap:
                raise CheckpointError(f"{name} in the zip is larger than the {cap / 1e6:.0f} MB limit")
            files[name] = content
    if CONFIG_FILE not in files:
        raise CheckpointError(f"this zip is not a GAN Classroom checkpoint: it has no {CONFIG_FILE}")
    return files


def _parse_config(raw: bytes) -> tuple[dict, ModelConfig]:
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{CONFIG_FILE} is not valid JSON") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{CONFIG_FILE} is not a GAN Classroom checkpoint config")
    version = config.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{CONFIG_FILE} has no valid format_version")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"this checkpoint uses format version {version}, made by a newer GAN Classroom; this one "
            f"reads up to version {FORMAT_VERSION}. Update GAN Classroom to open it.")
    model = config.get("model")
    if not isinstance(model, dict):
        raise CheckpointError(f"{CONFIG_FILE} has no model section")
    try:
        mc = ModelConfig(
            preset=str(model["preset"]), image_size=int(model["image_size"]), channels=int(model["channels"]),
            latent_dim=int(model["latent_dim"]), ngf=int(model["ngf"]), ndf=int(model["ndf"]),
            fc_width=int(model.get("fc_width", 0)))  # absent in checkpoints from before the field: none
        validate_model_config(mc)
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"the model section of {CONFIG_FILE} is incomplete or malformed ({exc})") from None
    except ValueError as exc:
        raise CheckpointError(f"the checkpoint's model cannot be built: {exc}") from None
    step = config.get("step", 0)
    if not isinstance(step, int) or step < 0:
        raise CheckpointError(f"{CONFIG_FILE} has an invalid step {step!r}")
    return config, mc


def _load_tensors(raw: bytes, name: str) -> dict[str, torch.Tensor]:
    try:
        return st_load(raw)
    except (SafetensorError, ValueError, OverflowError, RuntimeError) as exc:
        raise CheckpointError(f"{name} is not a valid safetensors file (truncated or corrupt?): {exc}") from None


def _load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], name: str) -> None:
    """Check names, shapes and dtypes against the module, then load (strict)."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{name} does not match the model in the config: missing {missing[:3]}, unexpected {unexpected[:3]}")
    for key, ref in expected.items():
        t = tensors[key]
        if tuple(t.shape) != tuple(ref.shape):
            raise CheckpointError(f"{name}: tensor {key!r} has shape {tuple(t.shape)}, expected {tuple(ref.shape)}")
        if t.dtype != ref.dtype:
            raise CheckpointError(f"{name}: tensor {key!r} has dtype {t.dtype}, expected {ref.dtype}")
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{name}: tensor {key!r} contains NaN or infinite values")
    module.load_state_dict(tensors, strict=True)


def _check_optimizer(state: dict, module: torch.nn.Module, name: str) -> None:
    params = list(module.parameters())
    for idx, slots in state["state"].items():
        if not 0 <= idx < len(params):
            raise CheckpointError(f"optimiser state {name} refers to parameter {idx}, which the model lacks")
        for key in ("exp_avg", "exp_avg_sq"):
            if key in slots and tuple(slots[key].shape) != tuple(params[idx].shape):
                raise CheckpointError(f"optimiser state {name}.{idx}.{key} has the wrong shape")


def load_checkpoint_files(files: dict[str, bytes], source: str = "upload") -> Checkpoint:
    """Validate and load a checkpoint given as {file name: bytes}."""
    if CONFIG_FILE not in files:
        raise CheckpointError(f"not a checkpoint: no {CONFIG_FILE}")
    if GENERATOR_FILE not in files:
        raise CheckpointError(f"the checkpoint has no {GENERATOR_FILE}")
    config, mc = _parse_config(files[CONFIG_FILE])
    generator, discriminator = build_models(mc)
    _load_into(generator, _load_tensors(files[GENERATOR_FILE], GENERATOR_FILE), GENERATOR_FILE)
    generator.eval()
    raw_generator = generator
    if GENERATOR_EMA_FILE in files:  # checked exactly like G: same names, shapes, dtypes, finite
        generator = build_models(mc)[0]
        _load_into(generator, _load_tensors(files[GENERATOR_EMA_FILE], GENERATOR_EMA_FILE), GENERATOR_EMA_FILE)
        generator.eval()
    if DISCRIMINATOR_FILE in files:
        _load_into(discriminator, _load_tensors(files[DISCRIMINATOR_FILE], DISCRIMINATOR_FILE), DISCRIMINATOR_FILE)
    else:
        discriminator = None
    optimizers = None
    meta = config.get("optimizers")
    if OPTIMIZERS_FILE in files and isinstance(meta, dict) and discriminator is not None:
        tensors = _load_tensors(files[OPTIMIZERS_FILE], OPTIMIZERS_FILE)
        try:
            optimizers = {name: _unflatten_optimizer(name, meta[name], tensors) for name in ("opt_g", "opt_d")}
        except (KeyError, ValueError, TypeError):
            raise CheckpointError(f"{OPTIMIZERS_FILE} does not match the optimiser description in {CONFIG_FILE}") from None
        _check_optimizer(optimizers["opt_g"], raw_generator, "opt_g")  # opt_g trains G, not G_ema
        _check_optimizer(optimizers["opt_d"], discriminator, "opt_d")
    return Checkpoint(config=config, model_config=mc, generator=generator, raw_generator=raw_generator,
                      discriminator=discriminator,
                      optimizers=optimizers, step=config.get("step", 0), source=source)


def load_checkpoint(source: str | Path | bytes) -> Checkpoint:
    """Load a checkpoint from a folder, a .zip file, or the bytes of a .zip (an upload)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return load_checkpoint_files(_files_from_zip(bytes(source)), source="upload")
    path = Path(source)
    if path.is_dir():
        return load_checkpoint_files(_files_from_directory(path), source=str(path))
    if path.is_file():
        cap = get_limits().max_upload_mb * 1_000_000
        return load_checkpoint_files(_files_from_zip(_read_capped(path, cap, path.name)), source=str(path))
    raise CheckpointError(f"no checkpoint at {path}: no such folder or file")


def list_checkpoints(root: str | Path) -> list[Path]:
    """Checkpoint folders directly under ``root`` (e.g. runs/), newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if (p / CONFIG_FILE).is_file()]
    return sorted(found, key=lambda p: (p / CONFIG_FILE).stat().st_mtime, reverse=True)


def summary(ckpt: Checkpoint) -> dict[str, Any]:
    """A short description for the UI."""
    mc = ckpt.model_config
    return {"preset": mc.preset, "image": f"{mc.channels}x{mc.image_size}x{mc.image_size}",
            "latent_dim": mc.latent_dim, "step": ckpt.step, "dataset": ckpt.dataset.get("name", "?"),
            "source": ckpt.source}
