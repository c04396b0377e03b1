"""A training run outlives the app process that started it (issue 30, item 4): when that process is killed,
the run's own process ends its step, saves a whole checkpoint into the runs folder with a marker naming
the browser, and ends; any app process on that runs folder finds it for that browser (gan_core.rescue).

The "app" here is a real Python process that starts a run as the training page does, and is killed with
SIGKILL, as a crashed or killed app process is."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gan_core.checkpoint import load_checkpoint
from gan_core.rescue import RESCUE_FILE, forget, rescued_runs, write_marker
from helpers import gone, wait_until

REPO = Path(__file__).resolve().parents[1]
BROWSER = "b" * 64  # what browser_id() gives: 64 hex digits

APP = textwrap.dedent("""
    import json, sys, time
    import torch
    from gan_core.data.datasets import ImageDataset
    from gan_core.trainer import TrainConfig
    from gan_core.worker import RunOptions, TrainingRun

    owner, paused = sys.argv[1] or None, sys.argv[2] == "paused"
    pixels = torch.randint(0, 256, (200, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    config = TrainConfig(preset="small", batch_size=16, ngf=8, ndf=8, latent_dim=16, n_fixed=16, device="cpu")
    run = TrainingRun(config, ImageDataset("fake", pixels, None, []), steps=10**6,
                      options=RunOptions(grid_every_steps=5), owner=owner)
    run.start()
    print(json.dumps({"pid": run.process_id}), flush=True)
    while True:
        step = run.snapshot().step
        if paused and step >= 20:
            run.pause()
            step = run.snapshot().step
        print(json.dumps({"step": step, "status": run.snapshot().status}), flush=True)
        time.sleep(0.1)
""")


def kill_the_app_while_its_run_trains(runs_dir: Path, owner: str, paused: bool = False,
                                      env: dict | None = None) -> tuple[int, int]:
    """Start the app, let its run train 20+ steps (then pause it if asked), SIGKILL the app.
    Returns (the run's process id, the last step the app saw)."""
    env = {**os.environ, "GAN_RUNS_DIR": str(runs_dir), "GAN_CPU_THREADS": "1", "PYTHONPATH": str(REPO),
           **(env or {})}
    env.pop("GAN_RUN_ISOLATION", None)
    app = subprocess.Popen([sys.executable, "-c", APP, owner, "paused" if paused else "running"], cwd=REPO, env=env,
                           stdout=subprocess.PIPE, text=True)
    try:
        child = json.loads(app.stdout.readline())["pid"]
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline, "the run did not reach step 20 within 2 minutes"
            seen = json.loads(app.stdout.readline())
            if seen["step"] >= 20 and (not paused or seen["status"] == "paused"):
                break
        app.send_signal(signal.SIGKILL)
        app.wait(10)
    finally:
        app.kill()
        app.stdout.close()
    return child, seen["step"]


@pytest.mark.slow
@pytest.mark.parametrize("paused", [False, True], ids=["training", "paused"])
def test_a_run_whose_app_process_is_killed_saves_itself_for_its_browser(tmp_path, paused):
    child, seen = kill_the_app_while_its_run_trains(tmp_path, BROWSER, paused)
    wait_until(lambda: gone(child), timeout=60)  # it ends by itself once saved
    rescued = rescued_runs(BROWSER, tmp_path)
    assert len(rescued) == 1
    run = rescued[0]
    assert run.state == "saved" and run.reason == ""
    assert run.step >= seen and (run.step == seen if paused else True)  # a paused run is kept where it stood
    assert (run.preset, run.dataset) == ("small", "fake") and abs(time.time() - run.saved_at) < 120
    ckpt = load_checkpoint(run.folder)  # a whole checkpoint: G, D and both optimisers, as Save writes it
    assert ckpt.step == run.step and ckpt.discriminator is not None
    state = ckpt.trainer_state()
    assert state["opt_g"] is not None and state["opt_d"] is not None
    with open(run.folder / "metrics.csv", newline="") as f:
        steps = [int(row["step"]) for row in csv.DictReader(f)]
    assert steps == list(range(1, run.step + 1))  # the whole history up to the saved step
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".tmp", ".new"))]  # nothing half-written
    assert rescued_runs("c" * 64, tmp_path) == [] and rescued_runs(None, tmp_path) == []  # only for its browser
    forget(run)
    assert rescued_runs(BROWSER, tmp_path) == [] and load_checkpoint(run.folder).step == run.step


@pytest.mark.slow
def test_a_run_that_finds_no_room_under_the_quota_says_so_in_its_marker(tmp_path):
    busy = tmp_path / "someone-training"
    busy.mkdir()
    (busy / "weights.bin").write_bytes(os.urandom(3 * 2**20))  # 3 MB, written just now: in use, never cleaned
    child, seen = kill_the_app_while_its_run_trains(tmp_path, BROWSER, env={"GAN_MAX_RUNS_MB": "1"})
    wait_until(lambda: gone(child), timeout=60)
    [run] = rescued_runs(BROWSER, tmp_path)
    assert (run.state, run.reason) == ("failed", "runs_full") and run.step >= seen
    assert sorted(p.name for p in run.folder.iterdir()) == [RESCUE_FILE]  # no half of a checkpoint
    assert (busy / "weights.bin").is_file()


@pytest.mark.slow
def test_a_run_nobody_can_come_back_for_ends_with_its_app_and_leaves_nothing(tmp_path):
    child, _ = kill_the_app_while_its_run_trains(tmp_path, "")
    wait_until(lambda: gone(child), timeout=30)
    assert not any(tmp_path.iterdir())


def test_only_a_fresh_readable_marker_of_the_same_browser_counts(tmp_path):
    for name in ("old", "new", "theirs", "broken", "no-step", "saving", "died-saving"):
        (tmp_path / name).mkdir()
    write_marker(tmp_path / "saving", BROWSER, 5, "small", "mnist5k", state="saving")
    write_marker(tmp_path / "died-saving", BROWSER, 5, "small", "mnist5k", state="saving")
    marker = tmp_path / "died-saving" / RESCUE_FILE
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "saved_at": time.time() - 600}))
    write_marker(tmp_path / "old", BROWSER, 10, "small", "mnist5k")
    write_marker(tmp_path / "new", BROWSER, 20, "small", "mnist5k")
    write_marker(tmp_path / "theirs", "c" * 64, 30, "small", "mnist5k")
    (tmp_path / "broken" / RESCUE_FILE).write_text("{not json")
    (tmp_path / "no-step" / RESCUE_FILE).write_text(json.dumps({"owner": BROWSER, "step": True, "saved_at": time.time()}))
    marker = tmp_path / "old" / RESCUE_FILE
    record = json.loads(marker.read_text())
    marker.write_text(json.dumps({**record, "saved_at": record["saved_at"] - 10}))  # rescued 10 s earlier
    found = rescued_runs(BROWSER, tmp_path)
    assert [r.folder.name for r in found] == ["new", "saving", "old"]  # the newest first; not one that died saving
    assert [r.state for r in found] == ["saved", "saving", "saved"]
    with pytest.raises(ValueError, match="state"):
        write_marker(tmp_path / "new", BROWSER, 1, "small", "mnist5k", state="half")
    tomorrow = time.time() + 25 * 3600
    assert rescued_runs(BROWSER, tmp_path, now=tomorrow) == []  # a day later they are ordinary saved runs
    assert rescued_runs(BROWSER, tmp_path / "missing") == []
