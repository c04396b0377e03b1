"""Fuzzing the upload points with generated hostile files (issue 14).

A seeded generator mutates valid inputs the way damage in transit and hostile users do: bit flips,
truncation, spliced garbage, and targeted edits of the zip headers (compression method, encryption
flag, sizes, entry counts), of config.json (every field set to wrong types, huge or negative
numbers, NaN/Infinity, deep nesting) and of the safetensors headers (shapes, dtypes, offsets, with
the config's hashes updated so the deeper checks are reached). The property is the issue's: the
loaders either succeed or raise their own error type with a sentence, and the command line ends
every one of them with exit code 0 or 2 and no traceback.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import random
import struct
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_core.checkpoint import CheckpointError, checkpoint_zip_bytes, load_checkpoint
from gan_core.cli import main
from gan_core.data.datasets import DatasetError, load_image_zip
from gan_core.i18n import LocalizedError

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "assets" / "generator-mnist5k"
HOSTILE_VALUES = [None, True, -1, 0, 2**70, -(2**63), 1e308, 0.5, "64", "", [], {}, [[[[[]]]]], {"a": 1},
                  "normal", "../../etc/passwd", "x" * 10_000]
HEADER_FIELDS = {  # offsets of fields in the local (PK\3\4) and central (PK\1\2) zip headers
    b"PK\x03\x04": {"flags": (6, "H"), "method": (8, "H"), "crc": (14, "L"), "csize": (18, "L"),
                    "size": (22, "L"), "name_len": (26, "H"), "extra_len": (28, "H")},
    b"PK\x01\x02": {"flags": (8, "H"), "method": (10, "H"), "crc": (16, "L"), "csize": (20, "L"),
                    "size": (24, "L"), "name_len": (28, "H"), "offset": (42, "L")},
    b"PK\x05\x06": {"entries": (10, "H"), "total": (8, "H"), "cd_size": (12, "L"), "cd_offset": (16, "L")},
}
FIELD_VALUES = {"H": [0, 1, 8, 12, 14, 99, 0x41, 0xFFFF], "L": [0, 1, 2**31, 0xFFFFFFFF]}


# --- the generator --------------------------------------------------------------------------------

def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One random byte-level mutation: flips, truncation, spliced garbage, zeroed runs, a header field."""
    b = bytearray(data)
    kind = rng.choice(["flip", "truncate", "splice", "zero", "field", "field"])
    if kind == "flip":
        for _ in range(rng.randint(1, 16)):
            pos = rng.randrange(len(b))
            b[pos] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del b[rng.randrange(len(b)):]
    elif kind == "splice":
        pos = rng.randrange(len(b))
        b[pos:pos] = rng.randbytes(rng.randint(1, 256))
    elif kind == "zero":
        pos = rng.randrange(len(b))
        b[pos:pos + rng.randint(1, 64)] = bytes(min(64, len(b) - pos))
    else:
        set_zip_field(b, rng)
    return bytes(b)


def set_zip_field(b: bytearray, rng: random.Random) -> None:
    """Overwrite one field of every header of one kind: the method (unknown compression), the flags
    (encryption), sizes and counts (lies), as a damaged or hand-crafted zip has them."""
    signature = rng.choice(list(HEADER_FIELDS))
    name, (offset, fmt) = rng.choice(list(HEADER_FIELDS[signature].items()))
    value = rng.choice(FIELD_VALUES[fmt])
    start = 0
    while (at := b.find(signature, start)) >= 0:
        if at + offset + struct.calcsize(fmt) <= len(b):
            struct.pack_into("<" + fmt, b, at + offset, value)
        start = at + 4


def image_zip(rng: random.Random) -> bytes:
    """A valid zip of a few images in assorted formats, sizes and compression methods."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(rng.randint(1, 4)):
            img = Image.new(rng.choice(["L", "RGB", "RGBA", "P"]), (rng.randint(1, 40), rng.randint(1, 40)), i * 40)
            data = io.BytesIO()
            fmt = rng.choice(["PNG", "BMP", "GIF", "JPEG" if img.mode in ("L", "RGB") else "PNG"])
            img.save(data, fmt)
            zf.writestr(f"c{i % 2}/{i}.{fmt.lower()}", data.getvalue(),
                        compress_type=rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    return buf.getvalue()


def rezip(files: dict[str, bytes], rng: random.Random) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data, compress_type=rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    return buf.getvalue()


def set_path(obj, rng: random.Random, value) -> None:
    """Replace a random leaf (or branch) of a JSON document with ``value``."""
    while isinstance(obj, (dict, list)) and obj:
        key = rng.choice(list(obj)) if isinstance(obj, dict) else rng.randrange(len(obj))
        child = obj[key]
        if not isinstance(child, (dict, list)) or not child or rng.random() < 0.3:
            obj[key] = value
            return
        obj = child


def checkpoint_files(rng: random.Random) -> dict[str, bytes]:
    """The shipped checkpoint's files with a hostile config, or a hostile safetensors header (hashes
    kept consistent, as an attacker would), or left alone for byte-level damage of the zip."""
    files = dict(shipped_files())
    config = json.loads(files["config.json"])
    kind = rng.choice(["config", "config", "raw_config", "header", "none"])
    if kind == "config":
        set_path(config, rng, rng.choice(HOSTILE_VALUES))
        files["config.json"] = json.dumps(config).encode()
    elif kind == "raw_config":
        text = json.dumps(config)
        files["config.json"] = rng.choice([
            text.replace('"step": 6000', '"step": Infinity'), text.replace('"ngf": 32', '"ngf": NaN'),
            text.replace('"ngf": 32', '"ngf": 1e999'), "[" * 50_000 + "]" * 50_000, text[: len(text) // 2],
            text.replace('"model": {', '"model": ' + "{" * 3000 + "}" * 3000 + ', "x": {'),
        ]).encode()
    elif kind == "header":
        raw = files["generator.safetensors"]
        length = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + length])
        set_path(header, rng, rng.choice([[10**12], [-1], [0], "F64", "I8", [0, 2**40], None, [[]], 3]))
        new_header = json.dumps(header).encode()
        files["generator.safetensors"] = len(new_header).to_bytes(8, "little") + new_header + raw[8 + length:]
        if isinstance(config.get("sha256"), dict):
            config["sha256"]["generator.safetensors"] = hashlib.sha256(files["generator.safetensors"]).hexdigest()
        files["config.json"] = json.dumps(config).encode()
    return files


def _read_all(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@functools.cache
def shipped_files() -> dict[str, bytes]:
    return _read_all(checkpoint_zip_bytes(SHIPPED))


def hostile_image_zips(n: int, seed: int = 0):
    rng = random.Random(seed)
    for _ in range(n):
        yield mutate_bytes(image_zip(rng), rng)


def hostile_checkpoints(n: int, seed: int = 1):
    rng = random.Random(seed)
    for _ in range(n):
        payload = rezip(checkpoint_files(rng), rng)
        yield mutate_bytes(payload, rng) if rng.random() < 0.5 else payload


# --- the properties ---------------------------------------------------------------------------------

def test_the_generator_makes_the_damage_the_issue_lists():
    """Bad CRC, unknown compression, encryption: each one a message of its own."""
    stored = bytearray(rezip(shipped_files(), random.Random(0)))
    cases = {}
    for name, (offset, value) in {"crc": (14, 0), "method": (8, 99), "flags": (6, 1)}.items():
        b = bytearray(stored)
        at = b.find(b"PK\x03\x04")
        struct.pack_into("<L" if name == "crc" else "<H", b, at + offset, value)
        cdir = b.find(b"PK\x01\x02")
        struct.pack_into("<L" if name == "crc" else "<H", b, cdir + offset + 2, value)
        cases[name] = bytes(b)
    with pytest.raises(CheckpointError, match="damaged.*CRC"):
        load_checkpoint(cases["crc"])
    with pytest.raises(CheckpointError, match="cannot read.*compression"):
        load_checkpoint(cases["method"])
    with pytest.raises(CheckpointError, match="cannot read.*encrypt"):
        load_checkpoint(cases["flags"])
    for payload in cases.values():
        assert main(["sample", "--checkpoint", _write(payload), "--n", "2", "--out", _tmp_png(), "--overwrite"]) == 2


_TMP: list[Path] = []


def _write(payload: bytes) -> str:
    path = _TMP[0] / f"in-{hashlib.sha1(payload).hexdigest()[:12]}.zip"
    path.write_bytes(payload)
    return str(path)


def _tmp_png() -> str:  # one file, so its callers pass --overwrite (the file a sample before wrote)
    return str(_TMP[0] / "out.png")


@pytest.fixture(autouse=True)
def scratch(tmp_path):
    _TMP[:] = [tmp_path]
    yield


@pytest.mark.slow
def test_hostile_image_zips_are_loaded_or_refused_with_a_sentence():
    outcomes = {"loaded": 0, "refused": 0}
    for payload in hostile_image_zips(300):
        try:
            ds = load_image_zip(payload)
        except DatasetError as exc:
            assert str(exc) and "⟦" not in str(exc) and "⟦" not in exc.localized("ko")
            outcomes["refused"] += 1
        else:
            assert ds.images.shape[1:] == (1, 28, 28) and torch.isfinite(ds.images).all()
            outcomes["loaded"] += 1
    assert outcomes["loaded"] > 10 and outcomes["refused"] > 10  # the generator explores both sides


@pytest.mark.slow
def test_hostile_checkpoints_are_loaded_or_refused_with_a_sentence():
    outcomes = {"loaded": 0, "refused": 0}
    for payload in hostile_checkpoints(150):
        try:
            ckpt = load_checkpoint(payload)
        except CheckpointError as exc:
            assert str(exc) and "⟦" not in str(exc) and "⟦" not in exc.localized("ko")
            outcomes["refused"] += 1
        else:
            with torch.no_grad():
                assert torch.isfinite(ckpt.generator(torch.randn(2, ckpt.model_config.latent_dim))).all()
            outcomes["loaded"] += 1
    assert outcomes["loaded"] > 5 and outcomes["refused"] > 50


@pytest.mark.slow
def test_the_command_line_never_prints_a_traceback_for_hostile_files(capsys):
    for payload in hostile_checkpoints(40, seed=7):
        code = main(["sample", "--checkpoint", _write(payload), "--n", "2", "--out", _tmp_png(), "--overwrite"])
        err = capsys.readouterr().err
        assert code in (0, 2) and "Traceback" not in err, err
        if code == 2:
            assert err.startswith("error: ") and err.count("\n") == 1
    for payload in hostile_image_zips(30, seed=8):
        code = main(["train", "--dataset", _write(payload), "--steps", "1", "--batch-size", "2",
                     "--sample-every", "0", "--out", str(_TMP[0] / f"run-{hashlib.sha1(payload).hexdigest()[:8]}")])
        err = capsys.readouterr().err
        assert code in (0, 2) and "Traceback" not in err, err


def test_every_engine_error_class_is_localized():
    from gan_core.evaluation.classifier import ClassifierError
    from gan_core.evaluation.metrics import MetricsError
    from gan_core.models import ConfigError
    from gan_core.trainer import TrainingDiverged

    for cls in (DatasetError, CheckpointError, ClassifierError, MetricsError, TrainingDiverged, ConfigError):
        assert issubclass(cls, LocalizedError) and issubclass(cls, ValueError)


# --- every numeric flag of every command, from its declared range (issue 29) ----------------------------

def numeric_flags(listed: bool = False):
    """(command, action) for every flag of every command that takes a number, read from the parser: those
    with a declared range, or (``listed``) those that take one of a few listed numbers."""
    import argparse

    from gan_core.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command, parser in sub.choices.items():
        for action in parser._actions:
            setting = getattr(action, "setting", None)
            if setting is None:  # a number without a declared range would pass unchecked
                assert action.type not in (int, float) or action.choices, \
                    f"{command} {action.option_strings} takes a number without a declared range"
                if listed and action.type in (int, float):
                    yield command, action
            elif setting.kind in ("int", "float") and not listed:
                yield command, action


def _required(command: str) -> list[str]:
    from gan_core.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices[command]
    return [arg for a in sub._actions if a.required for arg in (a.option_strings[0], "x")]


def hostile_values(setting) -> list[str]:
    """Just below the minimum, just above the maximum, and things that are not numbers."""
    lo, hi = setting.low, setting.high
    if setting.kind == "int":
        return [str(lo - 1), str(hi + 1), str(-(2**70)), "1.5", "abc", ""]
    return [repr(lo - max(abs(lo), 1e-3)), repr(hi * 1.01 + 1), "nan", "inf", "1e999", "abc", ""]


FLAGS = [(command, action.option_strings[0]) for command, action in numeric_flags()]


def test_the_harness_covers_every_command_with_numbers():
    assert {command for command, _ in FLAGS} == {"train", "sample", "evaluate", "train-classifier", "report",
                                                  "ablation-study", "bench"}
    assert ("train", "--threads") in FLAGS and ("train", "--sample-every") in FLAGS and ("sample", "--n") in FLAGS


@pytest.mark.parametrize("command,flag", FLAGS)
def test_every_numeric_flag_refuses_values_outside_its_declared_range_in_one_line(command, flag, capsys):
    action = dict(((c, a.option_strings[0]), a) for c, a in numeric_flags())[(command, flag)]
    setting = action.setting
    for value in hostile_values(setting):
        code = main([command, *_required(command), f"{flag}={value}"])
        err = capsys.readouterr().err
        assert code == 2, (command, flag, value, err)
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
        assert flag in err, err
    for edge in (setting.low, setting.high):  # the bounds themselves are allowed
        assert action.type(str(edge)) == edge


LISTED = [(command, action.option_strings[0]) for command, action in numeric_flags(listed=True)]


def test_the_harness_covers_the_numbers_given_from_a_list():
    assert ("evaluate", "--image-size") in LISTED and ("evaluate", "--channels") in LISTED


@pytest.mark.parametrize("command,flag", LISTED)
def test_every_listed_number_refuses_other_values_in_one_line(command, flag, capsys):
    action = dict(((c, a.option_strings[0]), a) for c, a in numeric_flags(listed=True))[(command, flag)]
    for value in (str(max(action.choices) + 1), str(min(action.choices) - 1), "1.5", "abc", ""):
        code = main([command, *_required(command), f"{flag}={value}"])
        err = capsys.readouterr().err
        assert code == 2, (command, flag, value, err)
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
        assert flag in err, err
