"""gan_core.worker (background training) and gan_core.evaluation.diagnostics (the page's warnings).

A run trains in its own process in the app (``GAN_RUN_ISOLATION`` unset); the tests marked ``both`` hold
for that and for a run in a thread of this process, and the others reach into the trainer of a run in
this process (to make it diverge or fail on a chosen step), which only ``thread`` allows. What only a
process can do (a memory limit, a crash, a kill) is in tests/test_run_process.py."""

from __future__ import annotations

import dataclasses
import gc
import re
import threading
import time

import pytest
import torch

from gan_core import i18n, worker
from gan_core.evaluation import diagnostics
from gan_core.checkpoint import load_checkpoint
from gan_core.trainer import TrainConfig, Trainer
from gan_core.worker import REGISTRY, RunLimitReached, RunOptions, TrainingRun
from gan_core.worker.pacing import Cadence, Turnstile
from gan_core.worker.registry import DEFAULT_ORPHAN_TIMEOUT
from helpers import queue_is_empty, wait_until

HANGUL = re.compile(r"[\uac00-\ud7a3]")
TINY = dict(preset="small", batch_size=16, ngf=8, ndf=8, latent_dim=16, n_fixed=16, device="cpu")


@dataclasses.dataclass
class FakeDataset:
    name: str
    images: torch.Tensor
    labels: torch.Tensor | None = None
    class_names: list = dataclasses.field(default_factory=list)


@pytest.fixture(autouse=True)
def isolation(request, monkeypatch):
    """Where runs train: a thread of this process unless a test asks for both (``both``)."""
    value = getattr(request, "param", "thread")
    monkeypatch.setenv("GAN_RUN_ISOLATION", value)
    return value


both = pytest.mark.parametrize("isolation", ["thread", "process"], indirect=True)


@pytest.fixture
def dataset():
    gen = torch.Generator().manual_seed(0)
    return FakeDataset("fake", torch.rand((200, 1, 28, 28), generator=gen) * 2 - 1)


@pytest.fixture
def runs():
    """Make runs through this list so every thread is stopped after the test."""
    made: list[TrainingRun] = []
    baseline = threading.active_count()

    def make(dataset, steps=10**6, options=None, resume=None, owner=None, **config):
        run = TrainingRun(TrainConfig(**{**TINY, **config}), dataset, steps=steps, resume=resume,
                          options=options or RunOptions(grid_every_steps=5), owner=owner)
        made.append(run)
        return run

    yield make
    for run in made:
        assert run.close(timeout=30)
    assert REGISTRY.active() == []
    assert threading.active_count() == baseline


@both
def test_start_pause_resume_stop(runs, dataset):
    baseline = threading.active_count()
    run = runs(dataset)
    assert run.snapshot().status == "idle"
    run.start()
    wait_until(lambda: run.snapshot().step >= 3)
    snap = run.snapshot()
    assert snap.status == "running"
    assert len(snap.history["loss_d"]) == snap.step
    assert snap.latest_grid is not None and snap.real_grid.dtype.name == "uint8"

    assert run.pause()
    paused_at = run.snapshot().step
    time.sleep(0.3)
    assert run.snapshot().step == paused_at
    assert run.snapshot().status == "paused"
    assert run.is_alive()

    run.resume()
    wait_until(lambda: run.snapshot().step > paused_at)
    assert run.snapshot().status == "running"

    assert run.stop(timeout=30)
    assert not run.is_alive()
    assert run.snapshot().status == "stopped"
    assert run.close(timeout=30)  # a run in a process keeps it for saving until closed
    assert threading.active_count() == baseline
    assert REGISTRY.active() == []


@both
def test_finishes_after_the_requested_steps(runs, dataset, isolation):
    run = runs(dataset, steps=6, options=RunOptions(grid_every_steps=3))
    run.start()
    wait_until(lambda: not run.is_alive())
    snap = run.snapshot()
    assert snap.status == "finished" and snap.step == 6 and snap.progress == 1.0
    assert list(snap.history["step"]) == [1, 2, 3, 4, 5, 6]
    assert [s for s, _ in snap.grids] == [0, 3, 6]
    if isolation == "thread":
        assert not hasattr(run.trainer, "history")  # the worker's columns are the record, not a second copy


@both
def test_timelapse_is_thinned_evenly(runs, dataset):
    run = runs(dataset, steps=40, options=RunOptions(grid_every_steps=1, max_grids=8))
    run.start()
    wait_until(lambda: not run.is_alive())
    steps = [s for s, _ in run.snapshot().grids]
    assert steps[0] == 0 and steps[-1] == 40 and len(steps) <= 9
    gaps = {b - a for a, b in zip(steps, steps[1:])}
    assert len(gaps) == 1, steps


def test_divergence_stops_with_a_message_and_keeps_good_weights(runs, dataset):
    run = runs(dataset, steps=100)
    good = run.trainer.algorithm.loss
    calls = {"n": 0}

    def g_loss_nan_on_step_4(fake):
        calls["n"] += 1
        loss = good.g_loss(fake)
        return loss * float("nan") if calls["n"] >= 4 else loss

    run.trainer.algorithm.loss = dataclasses.replace(good, g_loss=g_loss_nan_on_step_4)
    run.start()
    wait_until(lambda: not run.is_alive())
    snap = run.snapshot()
    assert snap.status == "diverged"
    assert "diverged at step 4" in snap.message and "last good weights" in snap.message
    assert snap.step == 3

    # G's weights == those of the same run trained 3 steps headless (the NaN update was not applied).
    reference = Trainer(TrainConfig(**TINY), dataset)
    for _ in range(3):
        reference.step()
    g, _, info = run.snapshot_generator()
    assert info["step"] == 3
    assert all(torch.isfinite(t.float()).all() for t in g.state_dict().values())
    kept = dict(g.named_parameters())
    for name, value in reference.sampling_generator.named_parameters():  # G_ema when the preset averages
        torch.testing.assert_close(kept[name], value, atol=1e-5, rtol=1e-4)
    assert REGISTRY.active() == []


def test_divergence_rolls_the_charts_back_with_the_weights(runs, dataset):
    """An absurd loss sends the trainer back to its last snapshot (every 50 steps); the charts follow it."""
    run = runs(dataset, steps=100)
    good = run.trainer.algorithm.loss
    calls = {"n": 0}

    def g_loss_absurd_on_step_60(fake):
        calls["n"] += 1
        loss = good.g_loss(fake)
        return loss + 1e7 if calls["n"] >= 60 else loss

    run.trainer.algorithm.loss = dataclasses.replace(good, g_loss=g_loss_absurd_on_step_60)
    run.start()
    wait_until(lambda: not run.is_alive())
    snap = run.snapshot()
    assert snap.status == "diverged"
    rolled_back_to = run.trainer.step_count
    assert rolled_back_to == run.trainer.snapshot_every == 50
    assert snap.step == 50
    assert max(snap.history["step"]) == 50 and len(snap.history["step"]) == 50
    assert all(step <= 50 for step, _ in snap.grids)


def test_resuming_with_new_learning_rates_reports_what_changed(runs, dataset):
    first = Trainer(TrainConfig(**TINY, lr_g=1e-3), dataset)
    first.step()
    run = runs(dataset, steps=5, resume=first.state(), lr_g=2e-4)
    assert run.resume_changes == {"lr_g": (1e-3, 2e-4)}
    assert run.trainer.opt_g.param_groups[0]["lr"] == 2e-4


def test_error_in_training_is_reported_not_raised(runs, dataset):
    run = runs(dataset)

    def broken():
        raise RuntimeError("out of memory")

    run.trainer.g_step = broken
    run.start()
    wait_until(lambda: not run.is_alive())
    snap = run.snapshot()
    assert snap.status == "error" and "out of memory" in snap.message


@both
def test_cap_refuses_a_second_run_and_frees_the_slot(runs, dataset, monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    first, second = runs(dataset), runs(dataset)
    first.start()
    with pytest.raises(RunLimitReached, match=r"Another training run is using this server \(1 of 1 allowed\)"):
        second.start()
    assert not second.is_alive()
    assert first.stop(timeout=30)
    second.start()  # the slot is free again
    assert second.is_alive()


def weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The trainable weights (not BatchNorm's running statistics, which any forward pass in train mode updates)."""
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    after = weights(module)
    return any(not torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("k", [1, 2])
def test_single_steps_while_paused_change_exactly_one_network(runs, dataset, k):
    run = runs(dataset, k=k)
    trainer = run.trainer
    assert not run.single_step("d")  # not started: nothing to step
    run.start()
    wait_until(lambda: run.snapshot().step >= 2)
    assert run.pause()
    step, rows = run.snapshot().step, len(run.snapshot().history["step"])
    assert trainer.step_count == step

    g_before, d_before = weights(trainer.G), weights(trainer.D)
    assert run.single_step("d")
    assert changed(d_before, trainer.D) and not changed(g_before, trainer.G)
    snap = run.snapshot()
    assert trainer.step_count == step and snap.step == step  # a D step alone is not a generator step
    assert snap.status == "paused" and (snap.phase, snap.phase_index) == ("d", 1)

    g_before, d_before = weights(trainer.G), weights(trainer.D)
    assert run.single_step("g")
    assert changed(g_before, trainer.G) and not changed(d_before, trainer.D)
    assert trainer.step_count == step + 1 and run.snapshot().step == step + 1
    assert run.snapshot().phase == "g"

    g_before, d_before = weights(trainer.G), weights(trainer.D)
    assert run.single_step("iteration")  # k D steps, then one G step
    assert changed(g_before, trainer.G) and changed(d_before, trainer.D)
    snap = run.snapshot()
    assert trainer.step_count == step + 2 and snap.step == step + 2 and snap.status == "paused"
    assert len(snap.history["step"]) == rows + 3  # one chart row per single step
    assert snap.history["step"][-3:].tolist() == [step, step + 1, step + 2]
    assert snap.latest_grid[0] == step + 2  # the grid shows the new G

    time.sleep(0.3)
    assert run.snapshot().step == step + 2  # still paused after the single steps
    run.resume()
    wait_until(lambda: run.snapshot().step > step + 2)
    assert not run.single_step("g")  # running: single steps are for a paused run
    with pytest.raises(ValueError, match="unknown single step"):
        run.single_step("both")


@both
def test_a_run_is_found_by_the_browser_that_started_it(runs, dataset):
    mine, theirs = runs(dataset, owner="browser-a"), runs(dataset, owner=None)
    assert REGISTRY.owned_by("browser-a") is None  # not started
    mine.start()
    assert REGISTRY.owned_by("browser-a") is mine
    assert REGISTRY.owned_by("browser-b") is None
    assert mine.stop(timeout=30)
    assert REGISTRY.owned_by("browser-a") is None
    del theirs


@both
def test_a_reload_does_not_stop_an_owned_run_but_the_watchdog_does(dataset):
    """A reload drops the old session (and its handle); the browser's run waits to be taken over."""
    baseline = threading.active_count()
    run = TrainingRun(TrainConfig(**TINY), dataset, steps=10**6, owner="browser-a",
                      options=RunOptions(grid_every_steps=5, orphan_timeout=3.0))
    run.start()
    del run
    gc.collect()
    found = REGISTRY.owned_by("browser-a")
    assert found is not None and found.is_alive()
    found.heartbeat()  # taken over: the new page heartbeats it
    step = found.snapshot().step
    wait_until(lambda: found.snapshot().step > step)
    del found
    wait_until(lambda: REGISTRY.owned_by("browser-a") is None, timeout=30)  # nobody came: orphaned
    assert REGISTRY.active() == []
    wait_until(lambda: threading.active_count() == baseline)


@both
def test_orphaned_run_stops_itself(runs, dataset):
    run = runs(dataset, options=RunOptions(grid_every_steps=5, orphan_timeout=0.5))
    run.start()
    wait_until(lambda: not run.is_alive())
    snap = run.snapshot()
    assert snap.status == "stopped" and "Nobody looked at this run" in snap.message
    assert REGISTRY.active() == []


@both
def test_heartbeat_keeps_a_paused_run_alive_then_orphan_ends_it(runs, dataset):
    run = runs(dataset, options=RunOptions(grid_every_steps=5, orphan_timeout=1.0))
    run.start()
    assert run.pause()
    for _ in range(8):  # 1.6 s of heartbeats: longer than the timeout
        run.heartbeat()
        time.sleep(0.2)
    assert run.is_alive() and run.snapshot().status == "paused", run.snapshot().message
    wait_until(lambda: not run.is_alive())  # no more heartbeats
    assert "Nobody looked" in run.snapshot().message


@both
def test_dropping_the_handle_stops_the_thread(runs, dataset):
    baseline = threading.active_count()
    run = TrainingRun(TrainConfig(**TINY), dataset, steps=10**6, options=RunOptions(grid_every_steps=5))
    run.start()
    wait_until(lambda: run.snapshot().step >= 1)
    del run  # what happens when Streamlit discards a closed session's state
    gc.collect()
    wait_until(lambda: REGISTRY.active() == [] and threading.active_count() == baseline, timeout=30)


@both
def test_a_save_past_the_runs_quota_is_refused_and_a_live_runs_checkpoints_stay_in_use(runs, dataset, tmp_path,
                                                                                          monkeypatch):
    import os

    from gan_core.runs_quota import RunsFull, measure

    root = tmp_path / "runs"
    monkeypatch.setenv("GAN_RUNS_DIR", str(root))
    monkeypatch.setenv("GAN_MAX_RUNS_MB", "1")
    run = runs(dataset)
    run.start()
    wait_until(lambda: run.snapshot().step >= 1)
    first = run.save_checkpoint()  # a small model: well under 1 MB
    assert first.parent == root and load_checkpoint(first).step >= 1
    old = time.time() - 3600
    for p in [*first.rglob("*"), first]:
        os.utime(p, (old, old))
    assert [r.in_use for r in measure(root).runs] == [False]  # nobody touched it for an hour ...
    run.heartbeat()  # ... but its run is alive and its page heartbeats
    assert [r.in_use for r in measure(root).runs] == [True]

    (root / "busy").mkdir()
    (root / "busy" / "metrics.csv").write_bytes(b"x" * 1_500_000)  # another run, training now
    with pytest.raises(RunsFull, match="over its quota"):
        run.save_checkpoint()
    assert sorted(p.name for p in root.iterdir()) == sorted([first.name, "busy"])  # nothing in use deleted
    assert run.is_alive() and load_checkpoint(first).step >= 1  # training goes on; the saved one is whole


@both
def test_snapshot_generator_and_checkpoint_while_running(runs, dataset, tmp_path):
    run = runs(dataset)
    run.start()
    wait_until(lambda: run.snapshot().step >= 2)
    g, model_config, info = run.snapshot_generator()
    assert not g.training and info["dataset"] == "fake" and info["prior"] == "normal"
    assert g(torch.zeros(2, model_config.latent_dim)).shape == (2, 1, 28, 28)

    path = run.save_checkpoint(tmp_path / "live")  # while the thread trains
    ckpt = load_checkpoint(path)
    rows = (path / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) - 1 == ckpt.step >= 2  # the CSV matches the saved weights, not later steps
    assert ckpt.dataset["name"] == "fake"

    assert run.pause()
    path = run.save_checkpoint(tmp_path / "paused")
    saved = load_checkpoint(path)
    g, _, info = run.snapshot_generator()  # paused: the same weights as the checkpoint
    assert info["step"] == saved.step == run.snapshot().step
    for name, value in g.state_dict().items():
        assert torch.equal(saved.generator.state_dict()[name], value)
    assert run.stop(timeout=30)

    resumed = runs(dataset, steps=2, resume=saved.trainer_state(), options=RunOptions(grid_every_steps=1))
    resumed.start()
    wait_until(lambda: not resumed.is_alive())
    snap = resumed.snapshot()
    assert snap.status == "finished" and snap.start_step == saved.step and snap.step == saved.step + 2


def test_live_metrics_are_computed_when_a_classifier_exists(runs, dataset, monkeypatch):
    from gan_core.evaluation import metrics

    seen = []
    monkeypatch.setattr(metrics, "has_classifier", lambda name: name == "fake")

    def fake_quick_metrics(images, name):
        seen.append(tuple(images.shape))
        return {"confidence": 0.5, "class_histogram": [0.5, 0.5], "class_names": ["a", "b"],
                "classes_covered": 2, "kl_to_uniform": 0.0, "inception_score": 2.0, "n": len(images)}

    monkeypatch.setattr(metrics, "quick_metrics", fake_quick_metrics)
    run = runs(dataset, steps=4, options=RunOptions(grid_every_steps=5, metrics_every_steps=2, metrics_samples=32))
    run.start()
    wait_until(lambda: not run.is_alive())
    snap = run.snapshot()
    assert seen == [(32, 1, 28, 28)] * 2
    assert [row["step"] for row in snap.metrics_history] == [2, 4]
    assert snap.metrics["class_names"] == ["a", "b"]


def test_turnstile_lets_others_in_between_steps():
    gate = Turnstile()
    stop = threading.Event()
    steps = {"n": 0}

    def busy():
        while not stop.is_set():
            with gate.step():
                steps["n"] += 1

    t = threading.Thread(target=busy)
    t.start()
    try:
        for _ in range(20):
            with gate.between_steps():
                before = steps["n"]
                time.sleep(0.001)
                assert steps["n"] == before  # nothing steps while we hold it
    finally:
        stop.set()
        t.join(10)
    assert steps["n"] > 0


def test_cadence_by_steps_and_by_time():
    by_steps = Cadence(every_steps=10)
    by_steps.done(10, 0.0, 0.0)
    assert not by_steps.due(19, 100.0) and by_steps.due(20, 0.0)
    by_time = Cadence(every_seconds=1.0, max_share=0.1)
    by_time.done(0, 10.0, 10.5)  # the job took 0.5 s: wait 5 s so it costs 10% of the time
    assert not by_time.due(1, 12.0) and by_time.due(1, 15.6)


def test_run_dirs_never_collide(tmp_path):
    a = worker.default_run_dir("small", "my images.zip", root=tmp_path)
    a.mkdir()
    b = worker.default_run_dir("small", "my images.zip", root=tmp_path)
    assert a != b and a.name.endswith("-small-my_images")


# --- diagnostics -----------------------------------------------------------------------------------

def test_diversity_ratio_of_collapsed_and_varied_samples():
    gen = torch.Generator().manual_seed(0)
    real = torch.rand((32, 1, 8, 8), generator=gen) * 2 - 1
    collapsed = real[:1].repeat(32, 1, 1, 1) + 0.01 * torch.randn((32, 1, 8, 8), generator=gen)
    assert diagnostics.mean_pairwise_distance(real[:1].repeat(4, 1, 1, 1)) == 0.0
    assert diagnostics.diversity_ratio(real, real) == pytest.approx(1.0)
    ratio = diagnostics.diversity_ratio(collapsed, real)
    assert ratio < 0.1
    assert not diagnostics.low_diversity(ratio, step=10)  # still warming up
    assert diagnostics.low_diversity(ratio, step=1000)
    assert not diagnostics.low_diversity(diagnostics.diversity_ratio(real.flip(0), real), step=1000)
    with pytest.raises(ValueError, match="at least two"):
        diagnostics.mean_pairwise_distance(real[:1])


def test_discriminator_winning_needs_a_long_stretch():
    win = diagnostics.D_WINNING_WINDOW
    assert not diagnostics.discriminator_winning([0.99] * (win - 1), [0.01] * (win - 1))
    assert diagnostics.discriminator_winning([0.5] * 50 + [0.99] * win, [0.5] * 50 + [0.01] * win)
    assert not diagnostics.discriminator_winning([0.99] * win, [0.2] * win)
    warnings = diagnostics.training_warnings([0.99] * win, [0.01] * win, ratio=0.1, step=1000)
    assert len(warnings) == 2 and str(warnings[0]).startswith("D is winning") and "mode collapse" in str(warnings[1])
    assert "10%" in str(warnings[1])  # the measured share, formatted by the catalog
    assert diagnostics.training_warnings([0.7] * win, [0.3] * win, ratio=0.8, step=1000) == []


def test_warnings_and_run_messages_exist_in_korean():
    win = diagnostics.D_WINNING_WINDOW
    messages = [*diagnostics.training_warnings([0.99] * win, [0.01] * win, ratio=0.1, step=1000),
                worker.RunLimitReached("errors.worker.run_limit_one", n=1, cap=1),
                worker.RunLimitReached("errors.worker.run_limit_many", n=2, cap=2),
                worker.WorkerError("errors.worker.orphaned", seconds=120),
                worker.WorkerError("errors.worker.failed", kind="RuntimeError", detail="x")]
    before = set(i18n.MISSING_KEYS)
    for m in messages:
        korean = m.localized("ko")
        assert HANGUL.search(korean) and korean != str(m), m.key
    assert i18n.MISSING_KEYS == before
    assert "모드 붕괴(mode collapse)" in messages[1].localized("ko")


def test_ema_smooths_and_is_debiased():
    steps = [0.0] * 50 + [1.0] * 50
    smooth = diagnostics.ema(steps, 0.9)
    assert smooth[0] == 0.0 and 0.0 < smooth[55] < 1.0 and smooth[-1] == pytest.approx(1.0, abs=0.01)
    assert diagnostics.ema([3.0, 3.0, 3.0], 0.99).tolist() == pytest.approx([3.0, 3.0, 3.0])  # no pull to 0
    assert diagnostics.ema([1.0, 5.0], 0.0).tolist() == [1.0, 5.0]
    with pytest.raises(ValueError, match="smoothing"):
        diagnostics.ema([1.0], 1.0)


def test_thin_indices_keeps_the_ends():
    idx = diagnostics.thin_indices(10_001, 1000)
    assert len(idx) <= 1000 and idx[0] == 0 and idx[-1] == 10_000
    assert diagnostics.thin_indices(5, 1000) == [0, 1, 2, 3, 4]


def test_orphan_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("GAN_ORPHAN_TIMEOUT", raising=False)
    assert RunOptions().orphan_timeout == DEFAULT_ORPHAN_TIMEOUT
    monkeypatch.setenv("GAN_ORPHAN_TIMEOUT", "8")
    assert RunOptions().orphan_timeout == 8.0
    monkeypatch.setenv("GAN_ORPHAN_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="GAN_ORPHAN_TIMEOUT"):
        RunOptions()



# --- the queue for a training slot -----------------------------------------------------------------

def test_the_wait_estimate_lets_every_run_ahead_take_the_first_free_slot():
    # two slots, freeing in 30 s and 100 s; runs ahead of 600 and 300 steps at 10 steps/s
    assert worker.estimated_wait([30.0, 100.0], [], 10.0) == 30.0
    # the run ahead takes the slot free at 30 s and holds it 60 s: free again at 90 s, before the other
    assert worker.estimated_wait([30.0, 100.0], [600], 10.0) == 90.0
    # a second run ahead takes that slot at 90 s until 120 s: the one free at 100 s comes first
    assert worker.estimated_wait([30.0, 100.0], [600, 300], 10.0) == 100.0
    assert worker.estimated_wait([0.0], [], 0.0) == 0.0  # a free slot, nobody ahead
    assert worker.estimated_wait([None, 5.0], [], 10.0) is None  # a paused run: nobody knows
    assert worker.estimated_wait([5.0], [100], 0.0) is None  # no measured speed for the runs ahead


@both
def test_a_full_server_queues_starts_in_order_and_nobody_jumps_the_line(runs, dataset, monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    first = runs(dataset, owner="a")
    first.start()
    second, third, pusher = runs(dataset, steps=50, owner="b"), runs(dataset, steps=70, owner="c"), runs(dataset)
    with pytest.raises(RunLimitReached):
        second.start()
    b = REGISTRY.enqueue(second.label, second.steps_to_train, owner="b")
    c = REGISTRY.enqueue(third.label, third.steps_to_train, owner="c")
    try:
        assert (REGISTRY.position(b), REGISTRY.position(c)) == (1, 2)
        assert not REGISTRY.slot_is_free_for(b)
        wait_until(lambda: first.remaining() is not None)  # the speed is measured after a second or so
        seconds_left, rate = first.remaining()
        assert REGISTRY.estimated_wait(b) == pytest.approx(seconds_left, rel=0.5)
        assert REGISTRY.estimated_wait(c) > REGISTRY.estimated_wait(b)  # b's 50 steps come first

        assert first.stop(timeout=30)
        assert REGISTRY.slot_is_free_for(b) and not REGISTRY.slot_is_free_for(c)
        with pytest.raises(RunLimitReached, match="waiting for a training slot"):
            pusher.start()  # a free slot, but b is first in line
        with pytest.raises(RunLimitReached):
            third.start(ticket=c)  # not c's turn either
        second.start(ticket=b)
        assert REGISTRY.position(b) is None and REGISTRY.position(c) == 1
        REGISTRY.leave(c)
        assert queue_is_empty(REGISTRY) and REGISTRY.position(c) is None
    finally:  # a ticket left behind would keep every later test's runs waiting
        REGISTRY.leave(b)
        REGISTRY.leave(c)
    assert second.stop(timeout=30)


def test_a_ticket_nobody_asks_about_leaves_the_queue(monkeypatch):
    monkeypatch.setenv("GAN_ORPHAN_TIMEOUT", "0.3")
    gone = REGISTRY.enqueue("small on mnist5k", 100)
    kept = REGISTRY.enqueue("small on mnist5k", 100)
    for _ in range(5):  # the page asks about its place every 0.1 s; the closed tab never does
        time.sleep(0.1)
        REGISTRY.position(kept)
    assert REGISTRY.position(gone) is None and REGISTRY.position(kept) == 1
    REGISTRY.leave(kept)
    assert queue_is_empty(REGISTRY)
