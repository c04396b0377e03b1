"""A training run in its own process (gan_core.worker.process, issue 30): what only a process can do.

A run that goes past its memory limit or crashes ends with a sentence and nothing else stops; Stop ends
a run at once whatever its step costs; runs train at a lower CPU priority; the app's memory after 20 runs
is what it was after one. The channel's record (gan_core.worker.channel) rebuilds the run's own snapshot,
including after a rollback on divergence. The contract a run in a process shares with one in a thread
(start, pause, single steps, save, queue, orphan) is in tests/test_worker.py (tests marked ``both``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from gan_core import i18n
from gan_core.data.datasets import ImageDataset
from gan_core.trainer import TrainConfig
from gan_core.worker import REGISTRY, RunOptions, TrainingRun
from gan_core.worker.channel import Cursor, Mirror, read_changes
from gan_core.worker.process import run_niceness
from gan_core.worker.run import ThreadRun
from helpers import gone, wait_until
from test_worker import TINY, runs  # noqa: F401 - the fixture that closes every run it made

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def images(n: int, size: int = 28) -> ImageDataset:
    pixels = torch.randint(0, 256, (n, 1, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return ImageDataset("fake", pixels, None, [])


@pytest.fixture(autouse=True)
def in_processes(monkeypatch):
    monkeypatch.delenv("GAN_RUN_ISOLATION", raising=False)  # the app's default: a process per run


@pytest.fixture
def two_slots(monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "2")


def test_a_run_past_its_memory_limit_ends_with_a_sentence_and_the_other_run_goes_on(runs, two_slots, monkeypatch):
    other = runs(images(200))
    other.start()
    # 160 MB of images in the run's own copy: the estimate of the tiny networks fits 200 MB, the run does not.
    monkeypatch.setenv("GAN_MAX_RUN_MB", "200")
    greedy = runs(images(200_000))
    greedy.start()
    pid = greedy.process_id
    wait_until(lambda: not greedy.is_alive())
    snap = greedy.snapshot()
    assert snap.status == "error", snap.message
    assert "needed more memory than a run may use on this server (200 MB, GAN_MAX_RUN_MB)" in snap.message
    assert "메모리" in snap.reason.localized("ko")
    assert gone(pid) and len(REGISTRY.active()) == 1  # its slot is free
    step = other.snapshot().step
    wait_until(lambda: other.snapshot().step > step + 2)  # the other student's run trains on
    assert other.snapshot().status == "running"


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSEGV])
def test_a_crashed_run_ends_with_a_sentence_and_the_other_run_goes_on(runs, two_slots, how):
    crashing, other = runs(images(200)), runs(images(200))
    crashing.start()
    other.start()
    wait_until(lambda: crashing.snapshot().step >= 2)
    os.kill(crashing.process_id, how)
    wait_until(lambda: not crashing.is_alive())
    snap = crashing.snapshot()
    assert snap.status == "error" and snap.step >= 2  # what it had trained is still shown
    assert f"ended unexpectedly (exit code {-how})" in snap.message
    assert "예기치 않게" in snap.reason.localized("ko")
    step = other.snapshot().step
    wait_until(lambda: other.snapshot().step > step + 2)
    assert other.is_alive() and REGISTRY.active() == [str(other.label)]


def test_stop_ends_a_run_at_once_whatever_its_step_costs(runs):
    # One step of DCGAN at 64 px on 512 images takes ~20 s on one thread of this machine.
    run = runs(images(512, size=64), preset="dcgan", image_size=64, batch_size=512, ngf=None, ndf=None,
               latent_dim=None)
    run.start()
    pid = run.process_id
    time.sleep(1.0)  # inside its first step
    assert run.stop(timeout=10)
    assert gone(pid)
    snap = run.snapshot()
    assert snap.status == "stopped" and snap.step == 0  # the step never finished: the run was ended in it
    assert REGISTRY.active() == []


def test_runs_train_at_a_lower_cpu_priority_than_the_app(runs, monkeypatch):
    app = os.getpriority(os.PRIO_PROCESS, 0)
    run = runs(images(200))
    run.start()
    assert os.getpriority(os.PRIO_PROCESS, run.process_id) == min(19, app + run_niceness()) == min(19, app + 10)
    assert run.stop(timeout=30)
    monkeypatch.setenv("GAN_RUN_NICE", "3")
    run = runs(images(200))
    run.start()
    assert os.getpriority(os.PRIO_PROCESS, run.process_id) == min(19, app + 3)
    assert run.stop(timeout=30)
    monkeypatch.setenv("GAN_RUN_NICE", "twenty")
    with pytest.raises(ValueError, match="GAN_RUN_NICE"):
        runs(images(200)).start()


def test_a_run_cannot_see_the_apps_trainer_but_reads_like_one_in_a_thread(runs):
    run = runs(images(200), steps=12, options=RunOptions(grid_every_steps=4))
    with pytest.raises(AttributeError, match="its own process"):
        run.trainer
    assert run.snapshot().status == "idle"
    run.start()
    wait_until(lambda: not run.is_alive())
    snap = run.snapshot()
    assert snap.status == "finished" and snap.step == 12 and [s for s, _ in snap.grids] == [0, 4, 8, 12]
    assert snap.history["step"].tolist() == list(range(1, 13)) and snap.device == "cpu"


def test_single_steps_of_a_paused_run_in_its_process(runs):
    run = runs(images(200), k=2)
    run.start()
    wait_until(lambda: run.snapshot().step >= 2)
    assert run.pause()
    snap = run.snapshot()
    step, rows = snap.step, len(snap.history["step"])
    g_before, _, _ = run.snapshot_generator()
    assert run.single_step("d")
    snap = run.snapshot()  # the numbers of the step are there when single_step returns
    assert snap.step == step and len(snap.history["step"]) == rows + 1 and (snap.phase, snap.phase_index) == ("d", 1)
    g_after, _, _ = run.snapshot_generator()
    assert all(torch.equal(a, b) for a, b in zip(g_before.parameters(), g_after.parameters()))  # D moved, not G
    assert run.single_step("g")
    assert run.snapshot().step == step + 1 and run.snapshot().phase == "g"
    g_moved, _, info = run.snapshot_generator()
    assert info["step"] == step + 1
    assert any(not torch.equal(a, b) for a, b in zip(g_after.parameters(), g_moved.parameters()))
    assert run.single_step("iteration")
    snap = run.snapshot()
    assert snap.step == step + 2 and snap.status == "paused" and len(snap.history["step"]) == rows + 3
    assert snap.latest_grid[0] == step + 2
    run.resume()
    wait_until(lambda: run.snapshot().step > step + 2)
    assert not run.single_step("g")  # running: single steps are for a paused run


@pytest.mark.slow
def test_the_apps_memory_after_twenty_runs_is_what_it_was_after_one():
    """scripts/app_memory_after_runs.py in a fresh interpreter (an app process): 20 runs started, stopped
    or finished, saved and dropped; its resident memory grows by less than 5% from after the first ..."""
    env = {**os.environ, "GAN_CPU_THREADS": "1"}
    out = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "app_memory_after_runs.py"), "--runs", "20"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["isolation"] == "process" and result["growth"] < 0.05, result
    # ... and it keeps little over what it had before any run (in a thread it kept ~230 MB: BENCHMARKS.md)
    assert result["kept_mb"] < 50, result


def test_the_channel_rebuilds_the_runs_record_also_after_a_rollback():
    """Feed a Mirror from a run in this thread that diverges and rolls back: both snapshots agree."""
    dataset = images(200)
    run = ThreadRun(TrainConfig(**TINY), dataset, steps=100, options=RunOptions(grid_every_steps=7,
                                                                                 max_grids=6))
    good = run.trainer.algorithm.loss
    calls = {"n": 0}

    def absurd_from_step_60(fake):
        calls["n"] += 1
        return good.g_loss(fake) + (1e7 if calls["n"] >= 60 else 0.0)

    run.trainer.algorithm.loss = dataclasses.replace(good, g_loss=absurd_from_step_60)
    info = {"config": run.config, "dataset": "fake", "device": "cpu", "start_step": 0, "target_step": 100,
            "real_grid": run.worker.real_grid}
    mirror, cursor, sent_bytes = Mirror(info), Cursor(), []
    ended = []
    run.start(release_slot=lambda: ended.append(True))
    while not ended:
        changes = read_changes(run.worker, cursor)
        sent_bytes.append(sum(a.nbytes for a in changes["new_grids"].values()))
        mirror.apply(changes)
        time.sleep(0.01)
    mirror.apply(read_changes(run.worker, cursor))
    mine, theirs = mirror.snapshot(), run.snapshot()
    assert theirs.status == "diverged" and mine.status == "diverged" and mine.message == theirs.message
    assert mine.step == theirs.step == 50
    for name, column in theirs.history.items():
        np.testing.assert_array_equal(mine.history[name], column)
    assert [s for s, _ in mine.grids] == [s for s, _ in theirs.grids]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(mine.grids, theirs.grids))
    assert mine.latest_grid[0] == theirs.latest_grid[0] and np.array_equal(mine.latest_grid[1], theirs.latest_grid[1])
    grid_bytes = theirs.grids[0][1].nbytes
    assert sum(sent_bytes) < grid_bytes * (len(sent_bytes) + 20)  # each image once, not with every message


def test_messages_of_a_run_in_a_process_exist_in_both_languages():
    for key in ("errors.worker.out_of_memory", "errors.worker.crashed"):
        en = i18n.translate(key, "en", limit=100, code=-9)
        ko = i18n.translate(key, "ko", limit=100, code=-9)
        assert en != ko and "⟦" not in en + ko
