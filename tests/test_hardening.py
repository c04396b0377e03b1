"""Hardening not covered elsewhere: limits in one documented place, Streamlit hygiene, malicious
checkpoints and image zips, and training-run faults (NaN, stop mid-step, double start, orphans).

Covered elsewhere (not repeated here): zip slip, zip-bomb ratio and total size, nested zips,
non-image and 0-byte members, decompression-bomb headers, image modes CMYK/16-bit/palette/alpha
(tests/test_data.py); pickles, truncated safetensors, unknown preset, wrong shape/dtype, newer
format (tests/test_checkpoint.py); NaN from an absurd learning rate at the Trainer level
(tests/test_trainer.py); orphaned runs and the run cap (tests/test_worker.py); the home page not
importing torch (tests/test_app.py); in a real browser, bad uploads shown as a sentence, a closed
tab freeing its slot and thread, and five sessions at once (tests/e2e/). Issue 14: derived costs
bounded with measured memory (tests/test_resource_bounds.py), whole-or-nothing checkpoint saves and
optimiser-state validation (tests/test_checkpoint_atomic.py), generated hostile files
(tests/test_fuzz_inputs.py), the command line's messages, --overwrite and Ctrl-C (tests/test_cli.py).
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
import tomllib
import zipfile
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from gan_core.checkpoint import (CONFIG_FILE, DISCRIMINATOR_FILE, GENERATOR_FILE, MAX_CONFIG_BYTES, CheckpointError,
                                 checkpoint_zip_bytes, load_checkpoint)
from gan_core.data.datasets import DatasetError, load_image_zip
from gan_core.limits import Limits, get_limits
from gan_core.trainer import TrainConfig
from gan_core.worker import REGISTRY, RunLimitReached, RunOptions, TrainingRun
from helpers import png_bytes, zip_bytes

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "assets" / "generator-mnist5k"


def python_files(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module imported anywhere in a file (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


# --- limits: one place, every one configurable and documented -------------------------------------------

def readme_section(title: str) -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


@pytest.mark.parametrize("field", [f.name for f in fields(Limits)])
def test_every_limit_has_an_environment_variable_documented_in_the_readme(field, monkeypatch):
    env = Limits.ENV[field]
    assert env == "GAN_" + field.upper()
    default = getattr(Limits(), field)
    rows = [line for line in readme_section("Limits").splitlines() if f"`{env}`" in line]
    assert len(rows) == 1, f"{env} is not (exactly once) in the README's Limits table"
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    documented = None if cells[1] == "none" else int(cells[1].replace(",", ""))  # none: no limit unless set
    assert documented == default, f"README default for {env} differs from the code"
    monkeypatch.setenv(env, str((default or 0) + 1))
    assert getattr(get_limits(), field) == (default or 0) + 1


# --- Streamlit hygiene --------------------------------------------------------------------------------

def test_streamlit_config_suits_torch_and_sends_no_usage_stats():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"  # the watcher walks torch's lazy modules
    assert config["browser"]["gatherUsageStats"] is False
    # Streamlit's own upload cap must not be below the engine's, or GAN_MAX_UPLOAD_MB would lie
    assert config["server"]["maxUploadSize"] >= Limits().max_upload_mb


@pytest.mark.parametrize("path", python_files("gan_core"), ids=lambda p: p.name)
def test_gan_core_never_imports_streamlit(path):
    """Worker threads run gan_core code only; Streamlit calls are not safe off the script thread."""
    assert "streamlit" not in imported_modules(path)


@pytest.mark.parametrize("path", python_files("views") + [REPO / "app.py"], ids=lambda p: p.name)
def test_pages_start_no_threads_of_their_own(path):
    """Background work goes through gan_core.worker, whose thread never touches Streamlit."""
    modules = imported_modules(path)
    assert not modules & {"threading", "multiprocessing", "concurrent", "_thread"}, modules


DATA_SUFFIXES = {".csv", ".gz", ".npy", ".npz", ".safetensors", ".pt", ".ckpt", ".zip", ".png", ".jpg", ".idx"}
# Prints the thread count, the installed packages' folders (a virtual environment inside the
# checkout, as `python -m venv .venv` makes, is not the project: its packages read their own
# metadata when imported), then every file opened while importing the modules named.
IMPORT_PROBE = """
import importlib, json, os, sys, threading
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
for name in sys.argv[1:]:
    importlib.import_module(name)
installed = {sys.prefix, sys.exec_prefix, *(p for p in sys.path if p and os.path.realpath(p) != os.getcwd())}
print(threading.active_count())
print(json.dumps(sorted(os.path.realpath(p) for p in installed)))
print("\\n".join(opened))
"""


def test_importing_the_engine_and_page_helpers_loads_no_data_and_starts_no_thread():
    """Nothing heavy at import time: no dataset, checkpoint or classifier read, no thread started.

    Page scripts run on every rerun and import these modules; the work belongs in functions
    (cached with st.cache_*), not at module level. Checked in a fresh interpreter with an audit
    hook that records every file opened.
    """
    dotted = lambda p: ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")  # noqa: E731
    modules = [dotted(p) for p in python_files("gan_core") if p.stem != "__main__"]
    modules += [f"views.{p.stem}" for p in python_files("views") if p.stem.startswith("_")]
    out = subprocess.run([sys.executable, "-c", IMPORT_PROBE, *modules], capture_output=True, text=True, cwd=REPO,
                         timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    threads, installed, *opened = out.stdout.splitlines()
    assert int(threads) == 1, "a module started a thread when imported"
    # only folders inside the checkout matter (a path entry that holds the whole checkout is not one)
    installed = [Path(p) for p in json.loads(installed) if Path(p).is_relative_to(REPO) and Path(p) != REPO]
    opened = [p for p in opened if not re.search(r"/python3\d*\.zip$", p)]  # the stdlib's zipimport probe

    def project_file(path: str) -> bool:
        resolved = Path(os.path.realpath(path))
        return resolved.is_relative_to(REPO) and not any(resolved.is_relative_to(root) for root in installed)

    data = [p for p in opened
            if Path(p).suffix.lower() in DATA_SUFFIXES or "ubyte" in p or p.startswith("/usr/share/datasets")
            or (project_file(p) and Path(p).suffix not in {".py", ".pyc", ""})]
    assert data == [], f"files read at import time: {data}"


# --- checkpoints: what tests/test_checkpoint.py does not already cover ------------------------------------

class RunsCommand:
    """Pickled, it runs a shell command when unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_torch_save_file_is_refused_without_unpickling(tmp_path):
    """A ``torch.save`` file is itself a zip (holding data.pkl): the zip path must not unpickle it."""
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"G": RunsCommand(marker)}, buf)
    (tmp_path / "model.pt").write_bytes(buf.getvalue())
    for source in (buf.getvalue(), tmp_path / "model.pt"):
        with pytest.raises(CheckpointError, match="no config.json"):
            load_checkpoint(source)
    assert not marker.exists()


def test_a_safetensors_header_claiming_a_huge_size_is_refused(tmp_path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    for f in SHIPPED.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    # 8-byte little-endian header length of 2**60, then a little JSON: must not try to allocate it
    (folder / GENERATOR_FILE).write_bytes(struct.pack("<Q", 2**60) + b'{"a":1}')
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_checkpoint(folder)


def rezip(replace: dict[str, bytes]) -> bytes:
    """The shipped checkpoint as a zip, with some members replaced or added."""
    original = zipfile.ZipFile(io.BytesIO(checkpoint_zip_bytes(SHIPPED)))
    members = {name: original.read(name) for name in original.namelist()} | replace
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


def test_an_oversized_config_is_refused_from_a_zip_as_from_a_folder():
    config = json.loads((SHIPPED / CONFIG_FILE).read_text())
    padded = json.dumps(config).encode() + b" " * (MAX_CONFIG_BYTES + 1)  # valid JSON, compresses to ~1 KB
    with pytest.raises(CheckpointError, match=CONFIG_FILE):
        load_checkpoint(rezip({CONFIG_FILE: padded}))


def test_a_checkpoint_zip_that_inflates_past_the_zip_limit_is_refused(monkeypatch):
    """Each weights file is capped (GAN_MAX_CHECKPOINT_MB, 512 MB), but three of them from one
    small upload would still inflate 1.5 GB: the zip-bomb cap GAN_MAX_ZIP_UNCOMPRESSED_MB must
    apply to checkpoint zips too, checked on the declared sizes before inflating anything."""
    monkeypatch.setenv("GAN_MAX_ZIP_UNCOMPRESSED_MB", "1")
    payload = rezip({DISCRIMINATOR_FILE: bytes(3_000_000)})  # 3 MB of zeros, a few KB compressed
    assert len(payload) < len(checkpoint_zip_bytes(SHIPPED)) + 100_000  # the zeros add a few KB
    with pytest.raises(CheckpointError, match="GAN_MAX_ZIP_UNCOMPRESSED_MB"):
        load_checkpoint(payload)


# --- image zips: a decompression bomb inside a zip -----------------------------------------------------

def test_a_decompression_bomb_image_in_a_zip_is_skipped_and_the_rest_loads(monkeypatch):
    monkeypatch.setenv("GAN_MAX_IMAGE_PIXELS", "1000000")
    bomb = png_bytes(Image.new("L", (2000, 2000)))  # 4 M pixels in a few KB
    good = png_bytes(Image.new("L", (28, 28), 200))
    dataset = load_image_zip(zip_bytes({"bomb.png": bomb, "good.png": good}), 28, 1)
    assert len(dataset) == 1
    assert "pixels" in dict(dataset.skipped)["bomb.png"]
    with pytest.raises(DatasetError, match="could be read"):
        load_image_zip(zip_bytes({"bomb.png": bomb}), 28, 1)


# --- training faults (tests/test_worker.py covers NaN losses, orphans, dropped handles, the cap) ------

TINY = dict(preset="small", batch_size=16, ngf=8, ndf=8, latent_dim=16, n_fixed=16, device="cpu")


def training_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("gan-training-")]


@pytest.fixture
def make_run():
    """TrainingRuns on a small random dataset; afterwards every thread has ended and every slot is free."""
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores: OpenMP spinning would slow everyone down
    made: list[TrainingRun] = []
    data = SimpleNamespace(name="random", images=torch.rand(128, 1, 28, 28) * 2 - 1, labels=None, class_names=[])

    def make(steps=10**6, **config):
        run = TrainingRun(TrainConfig(**{**TINY, **config}), data, steps=steps,
                          options=RunOptions(grid_every_steps=5, metrics_every_steps=10**9))
        made.append(run)
        return run

    yield make
    try:
        for run in made:
            assert run.stop(timeout=30)
        assert REGISTRY.active() == []
        assert training_threads() == []
    finally:
        torch.set_num_threads(torch_threads)


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_an_absurd_learning_rate_ends_the_run_with_advice_and_frees_the_slot(make_run):
    run = make_run(lr_d=10.0, lr_g=10.0, loss="lsgan", batch_size=32)
    run.start()
    wait_for(lambda: not run.is_alive())
    snap = run.snapshot()
    assert snap.status == "diverged"
    assert "smaller learning rate" in snap.message
    generator, _, _ = run.snapshot_generator()
    assert all(torch.isfinite(t).all() for t in generator.state_dict().values() if t.is_floating_point())
    assert REGISTRY.active() == [] and training_threads() == []


def test_stop_in_the_middle_of_a_step_finishes_that_step_cleanly(make_run, tmp_path, monkeypatch):
    """In the app's own thread (GAN_RUN_ISOLATION=thread). A run in its own process is killed when its step
    takes longer than a moment: tests/test_run_process.py."""
    monkeypatch.setenv("GAN_RUN_ISOLATION", "thread")
    run = make_run()
    in_step, release = threading.Event(), threading.Event()
    g_step = run.trainer.g_step

    def slow_g_step():
        if not in_step.is_set():
            in_step.set()
            release.wait(timeout=30)  # hold the thread inside a step while stop() is called
        return g_step()

    run.trainer.g_step = slow_g_step
    run.start()
    assert in_step.wait(timeout=30)
    stopper = threading.Thread(target=lambda: run.stop(timeout=30))
    stopper.start()
    time.sleep(0.2)
    assert run.is_alive()  # stop waits for the step it interrupted ...
    release.set()
    stopper.join(timeout=30)
    assert not run.is_alive()  # ... then the thread ends
    snap = run.snapshot()
    assert snap.status == "stopped" and snap.step == 1
    assert len(snap.history["step"]) == snap.step == run.trainer.step_count  # the step is whole
    ckpt = load_checkpoint(run.save_checkpoint(tmp_path / "after-stop"))
    assert ckpt.step == 1


def test_two_quick_starts_give_one_training_thread(make_run, monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    monkeypatch.setenv("GAN_RUN_ISOLATION", "thread")  # counts the app's training threads
    run = make_run()
    run.start()
    with pytest.raises(RuntimeError, match="already been started"):
        run.start()  # a double click on the same run
    assert len(training_threads()) == 1
    assert run.stop(timeout=30)

    # two sessions pressing Start at the same moment: exactly one gets the slot
    first, second = make_run(), make_run()
    barrier, outcomes = threading.Barrier(2), []

    def press_start(r):
        barrier.wait()
        try:
            r.start()
            outcomes.append("started")
        except RunLimitReached:
            outcomes.append("refused")

    clickers = [threading.Thread(target=press_start, args=(r,)) for r in (first, second)]
    for t in clickers:
        t.start()
    for t in clickers:
        t.join(timeout=30)
    assert sorted(outcomes) == ["refused", "started"]
    assert len(training_threads()) == 1 and len(REGISTRY.active()) == 1
