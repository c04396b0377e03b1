"""Checkpoints: a folder with safetensors weights and a JSON config (and a .zip of it to download).

    run/
      config.json                 format, version, model config, training config, dataset, step,
                                  and the SHA-256 of every weights file that belongs to it
      generator.safetensors       G's state_dict
      generator_ema.safetensors   G_ema's state_dict, the moving average of G  (optional: when present,
                                  samples, metrics and the latent explorer use it instead of G)
      discriminator.safetensors   D's state_dict              (optional: needed to resume training)
      optimizers.safetensors      Adam moments of G and D     (optional: needed to resume exactly)

Nothing a user supplies is ever unpickled: weights are read with safetensors (a JSON header and raw
tensor bytes), the config with ``json``. Loading checks, in this order and before any model is
built: the zip's end record (entry count, directory size), the config (types, ranges, and the
model's memory computed from it: ``GAN_MAX_MODEL_MB``), every file's SHA-256 against the config,
and every safetensors *header* (tensor names, shapes, dtypes) against the model the config
describes. Only then are the weights read and checked for NaN/inf. Problems are ``CheckpointError``
with a plain sentence.

A save is atomic as a whole. The new weights files are written beside the old ones as
``.<name>.new``; then config.json, which names the new files' hashes, replaces the old config in
one rename (the commit); then the ``.new`` files are renamed over the old ones. A reader picks,
for every file, the copy whose hash the config names, so it sees the old checkpoint or the new
one, never a mix. A save that fails before the commit deletes its ``.new`` files and leaves the
previous checkpoint as it was; one killed after the commit is finished by the next reader (which
reads the ``.new`` files) and the next save (which renames them).
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import lzma
import math
import os
import secrets
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

import gan_core
from gan_core.algorithm1 import PRIORS
from gan_core.i18n import LocalizedError
from gan_core.data.image_files import check_zip_directory
from gan_core.limits import get_limits
from gan_core.settings import is_whole
from gan_core.models import (Discriminator, Generator, ModelConfig, ModelFootprint, build_models, model_footprint,
                             validate_model_config)

FORMAT = "gan-classroom-checkpoint"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
GENERATOR_FILE = "generator.safetensors"
GENERATOR_EMA_FILE = "generator_ema.safetensors"
DISCRIMINATOR_FILE = "discriminator.safetensors"
OPTIMIZERS_FILE = "optimizers.safetensors"
CHECKPOINT_FILES = (CONFIG_FILE, GENERATOR_FILE, GENERATOR_EMA_FILE, DISCRIMINATOR_FILE, OPTIMIZERS_FILE)
WEIGHT_FILES = CHECKPOINT_FILES[1:]
EXTRA_FILES = ("metrics.csv",)  # shipped in the download zip when present
MAX_CONFIG_BYTES = 1_000_000
MAX_HEADER_BYTES = 10_000_000  # a safetensors header is JSON: a few KB for these models
ADAM_SLOTS = ("step", "exp_avg", "exp_avg_sq")
SAFETENSORS_DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.float16: "F16", torch.bfloat16: "BF16"}
# A float32 weight may be stored in half precision (``export --dtype float16``: half the size of a
# shared generator); it is widened to float32 on load.
STORAGE_DTYPES = {torch.float32: (torch.float32, torch.float16, torch.bfloat16)}


class CheckpointError(LocalizedError):
    """A checkpoint that cannot be used (or saved), with a sentence saying why."""


def _new_name(name: str) -> str:
    """Where a save writes ``name`` before its commit (see the module docstring)."""
    return f".{name}.new"


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

    @property
    def images_seen(self) -> int:
        return int(self.config.get("images_seen", 0))

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
            "images_seen": self.images_seen,
        }


# --- writing ------------------------------------------------------------------------------------

def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _atomic_write(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old content or the new one (temporary file + rename).

    The file gets the mode every other file of the folder gets (0666 less the umask), not mkstemp's
    0600, which made config.json the one file of a run that others could not read.
    """
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync_directory(directory: Path) -> None:
    """Make the renames in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _finish_interrupted_save(directory: Path) -> None:
    """Complete or discard what a killed save left: ``.new`` files and temporary files.

    A ``.new`` file whose hash the current config names belongs to a committed save: it is renamed
    into place. Any other ``.new`` or ``.tmp`` file is from a save that never committed: deleted.
    """
    hashes = {}
    try:
        config = json.loads((directory / CONFIG_FILE).read_bytes())
        hashes = config.get("sha256") or {} if isinstance(config, dict) else {}
    except (OSError, ValueError, RecursionError):
        pass
    for name in WEIGHT_FILES:
        pending = directory / _new_name(name)
        if pending.is_file():
            if isinstance(hashes, dict) and hashes.get(name) == _sha256(pending.read_bytes()):
                os.replace(pending, directory / name)
            else:
                pending.unlink()
    for name in CHECKPOINT_FILES:
        for stray in directory.glob(f".{name}.*.tmp"):
            stray.unlink(missing_ok=True)


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
    """Write a checkpoint folder (created if needed), atomically as a whole, and return its path.

    Raises CheckpointError when the folder cannot be written (read-only, disk full, a file in the
    way); the checkpoint that was there before is then left as it was.
    """
    directory = Path(directory)
    payloads: dict[str, bytes] = {}
    for name, state in ((GENERATOR_FILE, generator_state), (GENERATOR_EMA_FILE, generator_ema_state),
                        (DISCRIMINATOR_FILE, discriminator_state)):
        if state is not None:
            payloads[name] = st_save({k: v.detach().cpu().contiguous() for k, v in state.items()})
    optim_meta = None
    if optimizer_states:
        tensors: dict[str, torch.Tensor] = {}
        optim_meta = {name: _flatten_optimizer(name, st, tensors) for name, st in optimizer_states.items()}
        payloads[OPTIMIZERS_FILE] = st_save(tensors)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model_config.to_dict(),
        "train": train_config or {},
        "dataset": dataset or {},
        "normalisation": "images in [-1, 1] (x = pixel / 127.5 - 1); G ends in tanh",
        "step": int(step),
        "files": list(payloads),
        "sha256": {name: _sha256(data) for name, data in payloads.items()},
        "optimizers": optim_meta,
        "versions": {"gan_core": gan_core.__version__, "torch": torch.__version__},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(extra or {}),
    }
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _finish_interrupted_save(directory)
        for name, data in payloads.items():
            written.append(directory / _new_name(name))
            _write_synced(written[-1], data)
        _atomic_write(directory / CONFIG_FILE, json.dumps(config, indent=2).encode())  # the commit
    except BaseException as exc:
        for path in written:
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise CheckpointError("errors.checkpoint.save_failed", path=str(directory),
                                  reason=exc.strerror or str(exc)) from None
        raise
    for name in payloads:  # committed: readers already use the .new files; make them the real ones
        os.replace(directory / _new_name(name), directory / name)
    for name in WEIGHT_FILES:
        if name not in payloads:  # a file from an earlier save that the new config does not name
            (directory / name).unlink(missing_ok=True)
    _fsync_directory(directory)
    return directory


def export_generator(source: str | Path | bytes, directory: str | Path, dtype: str = "float32") -> Path:
    """Write a generator-only checkpoint for sharing: config.json and one generator.safetensors.

    The weights are the ones samples come from (G_ema when ``source`` has a moving average, else
    G); D, the optimiser states and the raw G are left out, so the folder is about a third of a
    full checkpoint. ``dtype="float16"`` stores the float weights in half precision (half the size
    again; widened to float32 on load). It opens everywhere a checkpoint does; training resumed
    from it starts D fresh and the moving average from these weights.
    """
    storage = {"float32": torch.float32, "float16": torch.float16}.get(dtype)
    if storage is None:
        raise ValueError(f"export dtype must be float32 or float16, not {dtype!r}")
    if not isinstance(source, (bytes, bytearray, memoryview)) and Path(source).resolve() == Path(directory).resolve():
        raise CheckpointError("errors.checkpoint.export_onto_itself")
    ckpt = load_checkpoint(source)
    exported = {"weights": "G_ema (moving average)" if ckpt.has_ema else "G", "from": ckpt.source, "dtype": dtype}
    weights = {k: v.to(storage) if v.dtype == torch.float32 else v for k, v in ckpt.generator.state_dict().items()}
    return write_checkpoint(directory, ckpt.model_config, weights, step=ckpt.step,
                            train_config=ckpt.train_config, dataset=ckpt.dataset,
                            extra={"images_seen": ckpt.images_seen, "exported": exported})


def save_checkpoint(directory: str | Path, trainer, dataset: dict | None = None, extra: dict | None = None) -> Path:
    """Save a ``Trainer``'s full state (G, D, both Adam states, step) as a checkpoint folder."""
    state = trainer.state()
    return write_checkpoint(
        directory, trainer.config.model_config(), state["G"], state["D"],
        {"opt_g": state["opt_g"], "opt_d": state["opt_d"]}, step=state["step"],
        train_config=trainer.config.to_dict(), dataset=dataset,
        extra={"images_seen": state["images_seen"], **(extra or {})}, generator_ema_state=state.get("G_ema"))


def checkpoint_zip_bytes(directory: str | Path) -> bytes:
    """The checkpoint folder as a .zip (for a download button): the files its config names."""
    directory = Path(directory)
    files = _files_from_directory(directory)
    for name in EXTRA_FILES:
        if (directory / name).is_file():
            files[name] = (directory / name).read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def check_output_folder(directory: str | Path, overwrite: bool = False,
                        resuming_from: str | Path | None = None) -> None:
    """Refuse to write a new run into a folder that already holds someone's work.

    Allowed: a folder that does not exist or is empty; the folder a run resumes from (it continues
    there); anything with ``overwrite``. A file where the folder should be is always refused.
    """
    path = Path(directory).expanduser()
    if path.exists() and not path.is_dir():
        raise CheckpointError("errors.checkpoint.out_is_file", path=str(path))
    if overwrite or not path.is_dir():
        return
    if resuming_from is not None and Path(resuming_from).expanduser().resolve() == path.resolve():
        return
    if any(path.iterdir()):
        raise CheckpointError("errors.checkpoint.out_exists", path=str(path))


def check_output_file(file: str | Path, overwrite: bool = False) -> Path:
    """Refuse to write a command's file (samples, metrics JSON) over someone's work; return the path.

    Refused: a folder; an existing file unless ``overwrite``; and always, even with ``overwrite``, one
    of a run folder's own files (its checkpoint files, metrics.csv, its sample grids), which would
    destroy the run. A symlink counts as the file it points to.
    """
    path = Path(file).expanduser()
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    target = path.resolve()
    run = target.parent.parent if target.parent.name == "samples" else target.parent
    if (run / CONFIG_FILE).is_file() and (target.name in CHECKPOINT_FILES + EXTRA_FILES or run != target.parent):
        raise CheckpointError("errors.checkpoint.out_in_run", path=str(path), run=str(run))
    if path.exists() and not overwrite:
        raise CheckpointError("errors.checkpoint.out_file_exists", path=str(path))
    return path


def trim_metrics_csv(path: str | Path, up_to_step: int) -> int:
    """Drop the rows of a run's metrics.csv after ``up_to_step`` (rewritten atomically); return rows kept.

    A run resumed from a checkpoint at step S continues the CSV from S + 1: rows written after the
    last save (before a crash or a divergence) would otherwise appear twice.
    """
    path = Path(path)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return 0
    header, kept = rows[0], []
    for row in rows[1:]:
        try:
            if int(row[0]) <= up_to_step:
                kept.append(row)
        except (ValueError, IndexError):
            continue  # a row cut short by a crash
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(kept)
    _atomic_write(path, out.getvalue().encode())
    return len(kept)


# --- reading ------------------------------------------------------------------------------------

def _read_capped(path: Path, cap: int, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > cap:
            raise CheckpointError("errors.checkpoint.file_too_large", name=what, mb=f"{size / 1e6:.1f}",
                                  limit=f"{cap / 1e6:.0f}")
        return path.read_bytes()
    except OSError as exc:
        raise CheckpointError("errors.checkpoint.unreadable", name=what, reason=exc.strerror or str(exc)) from None


def _parse_json(raw: bytes, what: str) -> Any:
    def refuse_constant(name: str) -> None:  # NaN, Infinity: not JSON, and no setting needs them
        raise ValueError(name)

    try:
        return json.loads(raw.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise CheckpointError("errors.checkpoint.bad_json", name=what) from None


def _declared_hashes(config: Any) -> dict[str, str] | None:
    """{file: sha256} from a config, or None for a checkpoint written before hashes existed."""
    if not isinstance(config, dict) or "sha256" not in config:
        return None
    hashes = config["sha256"]
    if not isinstance(hashes, dict) or not all(k in WEIGHT_FILES and isinstance(v, str) for k, v in hashes.items()):
        raise CheckpointError("errors.checkpoint.bad_hashes", name=CONFIG_FILE)
    return hashes


def _files_from_directory(directory: Path) -> dict[str, bytes]:
    """The files of the checkpoint the config describes (rolling forward a save killed after its commit)."""
    if not (directory / CONFIG_FILE).is_file():
        raise CheckpointError("errors.checkpoint.no_config_in_folder", path=str(directory), name=CONFIG_FILE)
    cap = get_limits().max_checkpoint_mb * 1_000_000
    raw_config = _read_capped(directory / CONFIG_FILE, MAX_CONFIG_BYTES, CONFIG_FILE)
    files = {CONFIG_FILE: raw_config}
    hashes = _declared_hashes(_parse_json(raw_config, CONFIG_FILE))
    for name in WEIGHT_FILES:
        if hashes is None:  # an older checkpoint: the files that are there
            if (directory / name).is_file():
                files[name] = _read_capped(directory / name, cap, name)
            continue
        if name not in hashes:
            continue
        for candidate in (directory / name, directory / _new_name(name)):
            if candidate.is_file():
                data = _read_capped(candidate, cap, name)
                if _sha256(data) == hashes[name]:
                    files[name] = data
                    break
        else:
            raise CheckpointError("errors.checkpoint.incomplete", name=name)
    return files


def _files_from_zip(data: bytes) -> dict[str, bytes]:
    limits = get_limits()
    if len(data) > limits.max_upload_mb * 1_000_000:
        raise CheckpointError("errors.checkpoint.upload_too_large", limit=limits.max_upload_mb)
    stream = io.BytesIO(data)
    try:
        problem = check_zip_directory(stream, limits)
        if problem is None:
            zf = zipfile.ZipFile(stream)
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, OSError,
            struct.error):
        raise CheckpointError("errors.checkpoint.not_a_zip") from None
    if problem is not None:
        key, params = problem
        raise CheckpointError(f"errors.checkpoint.{key}", **params)
    if len(infos) > limits.max_zip_members:
        raise CheckpointError("errors.checkpoint.zip_too_many_entries", n=f"{len(infos):,}",
                              limit=f"{limits.max_zip_members:,}")
    weights_cap = limits.max_checkpoint_mb * 1_000_000
    total_cap = limits.max_zip_uncompressed_mb * 1_000_000
    wanted = [i for i in infos if not i.is_dir()]
    for info in wanted:
        path = PurePosixPath(info.filename)
        if path.is_absolute() or ".." in path.parts:
            raise CheckpointError("errors.checkpoint.zip_slip", entry=info.filename)
    wanted = [i for i in wanted if PurePosixPath(i.filename).name in CHECKPOINT_FILES]
    # Declared sizes first (cheap), so a zip bomb is refused before anything is inflated.
    declared = sum(i.file_size for i in wanted)
    if declared > total_cap:
        raise CheckpointError("errors.checkpoint.zip_too_big_unpacked", mb=f"{declared / 1e6:.0f}",
                              limit=limits.max_zip_uncompressed_mb)
    files: dict[str, bytes] = {}
    with zf:
        for info in wanted:
            name = PurePosixPath(info.filename).name
            cap = MAX_CONFIG_BYTES if name == CONFIG_FILE else weights_cap
            if info.file_size > cap:
                raise CheckpointError("errors.checkpoint.file_too_large", name=name,
                                      mb=f"{info.file_size / 1e6:.1f}", limit=f"{cap / 1e6:.0f}")
            if name in files:
                raise CheckpointError("errors.checkpoint.zip_duplicate", name=name)
            try:
                with zf.open(info) as f:
                    content = f.read(cap + 1)  # do not trust the declared size
            except zipfile.BadZipFile as exc:  # bad CRC-32, truncated member
                raise CheckpointError("errors.checkpoint.zip_damaged", name=name, reason=str(exc)) from None
            except (NotImplementedError, RuntimeError) as exc:  # unknown compression; encrypted
                raise CheckpointError("errors.checkpoint.zip_unsupported", name=name, reason=str(exc)) from None
            except (EOFError, OSError, ValueError, zlib.error, lzma.LZMAError) as exc:  # damaged compressed data
                raise CheckpointError("errors.checkpoint.zip_damaged", name=name, reason=str(exc)) from None
            if len(content) > cap:
                raise CheckpointError("errors.checkpoint.file_too_large", name=name, mb=f"> {cap / 1e6:.0f}",
                                      limit=f"{cap / 1e6:.0f}")
            files[name] = content
    if CONFIG_FILE not in files:
        raise CheckpointError("errors.checkpoint.no_config_in_zip", name=CONFIG_FILE)
    return files



def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _parse_config(raw: bytes) -> tuple[dict, ModelConfig]:
    """The config as a dict and the ModelConfig it describes, every field checked (type and range)."""
    config = _parse_json(raw, CONFIG_FILE)
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError("errors.checkpoint.not_our_config", name=CONFIG_FILE)
    version = config.get("format_version")
    if not is_whole(version):
        raise CheckpointError("errors.checkpoint.no_version", name=CONFIG_FILE)
    if version > FORMAT_VERSION:
        raise CheckpointError("errors.checkpoint.newer_version", version=version, supported=FORMAT_VERSION)
    model = config.get("model")
    if not isinstance(model, dict):
        raise CheckpointError("errors.checkpoint.no_model", name=CONFIG_FILE)
    fields = ("image_size", "channels", "latent_dim", "ngf", "ndf", "fc_width")
    if not isinstance(model.get("preset"), str) or not all(k in model for k in fields[:-1]):
        raise CheckpointError("errors.checkpoint.model_incomplete", name=CONFIG_FILE)
    values = {k: model.get(k, 0) for k in fields}  # fc_width: absent in checkpoints from before the field
    bad = [k for k, v in values.items() if not is_whole(v)]
    if bad:
        raise CheckpointError("errors.checkpoint.model_field", name=CONFIG_FILE, field=bad[0], value=repr(values[bad[0]])[:40])
    ablations = model.get("ablations", [])  # absent in checkpoints from before ablations
    if not isinstance(ablations, list) or not all(isinstance(n, str) for n in ablations):
        raise CheckpointError("errors.checkpoint.model_field", name=CONFIG_FILE, field="ablations",
                              value=repr(ablations)[:40])
    mc = ModelConfig(preset=model["preset"], **values, ablations=tuple(ablations))
    try:
        validate_model_config(mc)  # includes the memory the weights would take (GAN_MAX_MODEL_MB)
    except LocalizedError as exc:  # the model's own sentence, in every language
        raise CheckpointError(exc.key, **exc.params) from None
    step = config.get("step", 0)
    if not is_whole(step) or not 0 <= step < 2**63:
        raise CheckpointError("errors.checkpoint.bad_counter", name=CONFIG_FILE, field="step", value=repr(step)[:40])
    images_seen = config.get("images_seen", 0)
    if not is_whole(images_seen) or not 0 <= images_seen < 2**63:
        raise CheckpointError("errors.checkpoint.bad_counter", name=CONFIG_FILE, field="images_seen",
                              value=repr(images_seen)[:40])
    for section in ("train", "dataset"):
        if not isinstance(config.get(section) or {}, dict):
            raise CheckpointError("errors.checkpoint.bad_section", name=CONFIG_FILE, section=section)
    prior = (config.get("train") or {}).get("prior", "normal")
    if prior not in PRIORS:
        raise CheckpointError("errors.checkpoint.bad_prior", value=repr(prior)[:40], choices=", ".join(PRIORS))
    return config, mc


def _header(raw: bytes, name: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The tensor names, dtypes and shapes a safetensors file declares, read from its header only."""
    if len(raw) < 8:
        raise CheckpointError("errors.checkpoint.bad_safetensors", name=name, reason="shorter than its 8-byte header length")
    length = int.from_bytes(raw[:8], "little")
    if length > min(len(raw) - 8, MAX_HEADER_BYTES):
        raise CheckpointError("errors.checkpoint.bad_safetensors", name=name, reason="its header length is impossible")
    header = _parse_json(raw[8:8 + length], name)
    if not isinstance(header, dict):
        raise CheckpointError("errors.checkpoint.bad_safetensors", name=name, reason="its header is not a table")
    tensors = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if (not isinstance(shape, list) or not all(is_whole(d) and d >= 0 for d in shape)
                or not isinstance(entry.get("dtype"), str)):
            raise CheckpointError("errors.checkpoint.bad_safetensors", name=name, reason=f"tensor {key!r} is malformed")
        tensors[key] = (entry["dtype"], tuple(shape))
    return tensors


def _check_header(raw: bytes, name: str, expected: dict[str, tuple[tuple[int, ...], torch.dtype]]) -> None:
    """The file's declared tensors are exactly the model's: names, shapes, dtypes (nothing read yet)."""
    declared = _header(raw, name)
    missing, unexpected = sorted(set(expected) - set(declared)), sorted(set(declared) - set(expected))
    if missing or unexpected:
        raise CheckpointError("errors.checkpoint.names_mismatch", name=name, missing=str(missing[:3]),
                              unexpected=str(unexpected[:3]))
    for key, (shape, dtype) in expected.items():
        got_dtype, got_shape = declared[key]
        if got_shape != shape:
            raise CheckpointError("errors.checkpoint.shape_mismatch", name=name, tensor=key, got=str(got_shape),
                                  expected=str(shape))
        if got_dtype not in {SAFETENSORS_DTYPES.get(d) for d in STORAGE_DTYPES.get(dtype, (dtype,))}:
            raise CheckpointError("errors.checkpoint.dtype_mismatch", name=name, tensor=key, got=got_dtype,
                                  expected=SAFETENSORS_DTYPES.get(dtype, str(dtype)))


def _expected_optimizer_tensors(footprint: ModelFootprint) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    expected = {}
    for prefix, shapes in (("opt_g", footprint.generator_parameters), ("opt_d", footprint.discriminator_parameters)):
        for idx, shape in enumerate(shapes):
            expected[f"{prefix}.{idx}.step"] = ((), torch.float32)
            expected[f"{prefix}.{idx}.exp_avg"] = (shape, torch.float32)
            expected[f"{prefix}.{idx}.exp_avg_sq"] = (shape, torch.float32)
    return expected


def _check_optimizer_header(raw: bytes, footprint: ModelFootprint) -> None:
    """Adam's moments: only known names, each with its parameter's shape (a subset: unstepped params have none)."""
    expected = _expected_optimizer_tensors(footprint)
    for key, (got_dtype, got_shape) in _header(raw, OPTIMIZERS_FILE).items():
        if key not in expected:
            raise CheckpointError("errors.checkpoint.names_mismatch", name=OPTIMIZERS_FILE, missing="[]",
                                  unexpected=str([key]))
        shape, dtype = expected[key]
        if got_shape != shape:
            raise CheckpointError("errors.checkpoint.shape_mismatch", name=OPTIMIZERS_FILE, tensor=key,
                                  got=str(got_shape), expected=str(shape))
        if got_dtype != SAFETENSORS_DTYPES[dtype]:
            raise CheckpointError("errors.checkpoint.dtype_mismatch", name=OPTIMIZERS_FILE, tensor=key,
                                  got=got_dtype, expected=SAFETENSORS_DTYPES[dtype])


def _check_optimizer_meta(meta: Any, prefix: str, n_params: int) -> None:
    """An optimiser's settings from config.json: one Adam parameter group with sane numbers."""
    def refuse(field: str, value: Any) -> None:
        raise CheckpointError("errors.checkpoint.bad_optimizer", name=prefix, field=field, value=repr(value)[:40])

    groups = meta.get("param_groups") if isinstance(meta, dict) else None
    if not isinstance(groups, list) or len(groups) != 1 or not isinstance(groups[0], dict):
        refuse("param_groups", groups)
    group = groups[0]
    if not _is_number(group.get("lr")) or group["lr"] <= 0:
        refuse("lr", group.get("lr"))
    betas = group.get("betas")
    if not isinstance(betas, list) or len(betas) != 2 or not all(_is_number(b) and 0 <= b < 1 for b in betas):
        refuse("betas", betas)
    if not _is_number(group.get("eps")) or group["eps"] <= 0:
        refuse("eps", group.get("eps"))
    if not _is_number(group.get("weight_decay", 0)) or group.get("weight_decay", 0) < 0:
        refuse("weight_decay", group.get("weight_decay"))
    if group.get("params") != list(range(n_params)):
        refuse("params", group.get("params"))
    for key, value in group.items():
        if key not in ("lr", "betas", "eps", "weight_decay", "params") and not isinstance(value, (bool, type(None))):
            refuse(key, value)


def _check_optimizer_state(state: dict, prefix: str) -> None:
    """Adam's numbers themselves: finite moments, a non-negative second moment, a whole step count."""
    for idx, slots in state["state"].items():
        for key, value in slots.items():
            if not bool(torch.isfinite(value).all()):
                raise CheckpointError("errors.checkpoint.not_finite", name=OPTIMIZERS_FILE, tensor=f"{prefix}.{idx}.{key}")
        step = slots.get("step")
        if step is not None and (float(step) < 0 or float(step) != math.floor(float(step))):
            raise CheckpointError("errors.checkpoint.bad_optimizer", name=prefix, field=f"{idx}.step", value=float(step))
        if "exp_avg_sq" in slots and bool((slots["exp_avg_sq"] < 0).any()):
            raise CheckpointError("errors.checkpoint.bad_optimizer", name=prefix, field=f"{idx}.exp_avg_sq",
                                  value="negative")
        if set(slots) != set(ADAM_SLOTS):
            raise CheckpointError("errors.checkpoint.bad_optimizer", name=prefix, field=str(idx),
                                  value=str(sorted(slots)))


def _load_tensors(raw: bytes, name: str) -> dict[str, torch.Tensor]:
    try:
        return st_load(raw)
    except (SafetensorError, ValueError, OverflowError, RuntimeError, TypeError) as exc:
        raise CheckpointError("errors.checkpoint.bad_safetensors", name=name, reason=str(exc)) from None


def _load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], name: str) -> None:
    """Check names, shapes and dtypes against the module, then load (strict)."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError("errors.checkpoint.names_mismatch", name=name, missing=str(missing[:3]),
                              unexpected=str(unexpected[:3]))
    for key, ref in expected.items():
        t = tensors[key]
        if tuple(t.shape) != tuple(ref.shape):
            raise CheckpointError("errors.checkpoint.shape_mismatch", name=name, tensor=key, got=str(tuple(t.shape)),
                                  expected=str(tuple(ref.shape)))
        if t.dtype not in STORAGE_DTYPES.get(ref.dtype, (ref.dtype,)):
            raise CheckpointError("errors.checkpoint.dtype_mismatch", name=name, tensor=key, got=str(t.dtype),
                                  expected=str(ref.dtype))
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckpointError("errors.checkpoint.not_finite", name=name, tensor=key)
    module.load_state_dict({k: t.to(expected[k].dtype) for k, t in tensors.items()}, strict=True)


def load_checkpoint_files(files: dict[str, bytes], source: str = "upload") -> Checkpoint:
    """Validate and load a checkpoint given as {file name: bytes}.

    Everything that can be checked without building a model is checked first (config, hashes,
    every safetensors header against the shapes the config implies), so a hostile config costs
    nothing; then the models are built and the weights loaded and checked for NaN/inf.
    """
    if CONFIG_FILE not in files:
        raise CheckpointError("errors.checkpoint.no_config", name=CONFIG_FILE)
    config, mc = _parse_config(files[CONFIG_FILE])
    hashes = _declared_hashes(config)
    if hashes is not None:  # only the files this config names, and only the bytes it names
        for name in WEIGHT_FILES:
            if name in hashes and (name not in files or _sha256(files[name]) != hashes[name]):
                raise CheckpointError("errors.checkpoint.incomplete", name=name)
        files = {name: data for name, data in files.items() if name == CONFIG_FILE or name in hashes}
    if GENERATOR_FILE not in files:
        raise CheckpointError("errors.checkpoint.no_generator", name=GENERATOR_FILE)
    footprint = model_footprint(mc)
    _check_header(files[GENERATOR_FILE], GENERATOR_FILE, footprint.generator)
    if GENERATOR_EMA_FILE in files:  # checked exactly like G: same names, shapes, dtypes, finite
        _check_header(files[GENERATOR_EMA_FILE], GENERATOR_EMA_FILE, footprint.generator)
    if DISCRIMINATOR_FILE in files:
        _check_header(files[DISCRIMINATOR_FILE], DISCRIMINATOR_FILE, footprint.discriminator)
    meta = config.get("optimizers")
    use_optimizers = OPTIMIZERS_FILE in files and isinstance(meta, dict) and DISCRIMINATOR_FILE in files
    if use_optimizers:
        _check_optimizer_header(files[OPTIMIZERS_FILE], footprint)
        _check_optimizer_meta(meta.get("opt_g"), "opt_g", len(footprint.generator_parameters))
        _check_optimizer_meta(meta.get("opt_d"), "opt_d", len(footprint.discriminator_parameters))

    generator, discriminator = build_models(mc)
    _load_into(generator, _load_tensors(files[GENERATOR_FILE], GENERATOR_FILE), GENERATOR_FILE)
    generator.eval()
    raw_generator = generator
    if GENERATOR_EMA_FILE in files:
        generator = build_models(mc)[0]
        _load_into(generator, _load_tensors(files[GENERATOR_EMA_FILE], GENERATOR_EMA_FILE), GENERATOR_EMA_FILE)
        generator.eval()
    if DISCRIMINATOR_FILE in files:
        _load_into(discriminator, _load_tensors(files[DISCRIMINATOR_FILE], DISCRIMINATOR_FILE), DISCRIMINATOR_FILE)
    else:
        discriminator = None
    optimizers = None
    if use_optimizers:
        tensors = _load_tensors(files[OPTIMIZERS_FILE], OPTIMIZERS_FILE)
        optimizers = {name: _unflatten_optimizer(name, meta[name], tensors) for name in ("opt_g", "opt_d")}
        for name, state in optimizers.items():
            _check_optimizer_state(state, name)
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
    try:
        path.stat()
    except (OSError, ValueError):
        raise CheckpointError("errors.checkpoint.missing", path=str(path)) from None
    raise CheckpointError("errors.checkpoint.not_regular", path=str(path))
