"""The live comparison's pair (``gan_core.compare_live``): the study's recipe with one guideline different,
one CPU thread each, both started or neither."""

from __future__ import annotations

import dataclasses
import time

import pytest
import torch

from gan_core.ablation_study import StudyPlan
from gan_core.compare_live import PAIR_THREADS, pair_configs, pair_options, pair_refusal, start_pair
from gan_core.data.datasets import ImageDataset
from gan_core.worker import REGISTRY, RunLimitReached, RunRegistry
from helpers import wait_until


def differences(a, b) -> set[str]:
    return {f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)}


@pytest.mark.parametrize("name", ["relu-d", "no-bn-g", "adam-beta1-0.9", "fc-hidden"])
def test_the_pair_is_the_studys_run_with_only_the_ablation_different(name):
    plan = StudyPlan(seeds=(7, 8))
    baseline, ablated = pair_configs(plan, name)
    assert (baseline.preset, baseline.dataset, baseline.seed) == ("small", "mnist5k", 7)
    assert baseline.ablations == () and ablated.ablations == (name,)
    assert differences(baseline, ablated) == {"ablations"}
    # resolved as a run resolves them: the defaults an ablation changes (beta1) are the ablation itself
    resolved = [c.resolved() for c in (baseline, ablated)]
    changed = differences(*resolved) - {"ablations"}
    assert changed == ({"betas_d", "betas_g"} if name == "adam-beta1-0.9" else
                       {"fc_width"} if name == "fc-hidden" else set())
    assert resolved[0].batch_size == resolved[1].batch_size and resolved[0].seed == resolved[1].seed == 7
    assert pair_configs(plan, name, seed=8)[1].seed == 8


def test_an_unknown_ablation_is_refused():
    with pytest.raises(ValueError, match="no-such"):
        pair_configs(StudyPlan(), "no-such")


def test_each_run_computes_on_one_thread_and_draws_grids_at_the_same_steps():
    options = pair_options(StudyPlan(sample_every=50))
    assert options.cpu_threads == PAIR_THREADS == 1
    assert options.grid_every_steps and options.metrics_every_steps == 50


def test_free_slots_counts_the_cap_the_active_runs_and_the_queue(monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "3")
    registry = RunRegistry()
    assert registry.free_slots() == 3
    registry.acquire(1, "one")
    assert registry.free_slots() == 2
    ticket = registry.enqueue("waiting", 10)
    assert registry.free_slots() == 0  # a free slot is the queue's first
    registry.leave(ticket)
    registry.release(1)
    assert registry.free_slots() == 3


def test_the_refusal_says_what_to_do_in_both_languages(monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "4")
    busy = pair_refusal()
    assert busy.key == "errors.worker.pair_busy" and "neither" in str(busy) and "all 4" in str(busy)
    assert "둘 다 시작하지 않았습니다" in busy.localized("ko") and "4개" in busy.localized("ko")


def test_runs_sharing_a_slot_hold_it_until_the_last_one_releases_it(monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    registry = RunRegistry()
    registry.acquire(7, "baseline")
    registry.acquire(7, "ablated")  # the pair's second run: the same slot, not a second one
    assert registry.free_slots() == 0
    with pytest.raises(RunLimitReached):
        registry.acquire(8, "someone else")
    registry.release(7)  # one run of the pair ended: the other still trains in the slot
    assert registry.free_slots() == 0 and len(registry.active()) == 1
    registry.release(7)
    assert registry.free_slots() == 1 and registry.active() == []


def images(n: int = 64) -> ImageDataset:
    pixels = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return ImageDataset("fake", pixels, None, [])


@pytest.mark.slow
def test_a_server_allowing_one_run_trains_the_pair_in_that_one_slot(monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    pair = start_pair("relu-d", pair_configs(StudyPlan(), "relu-d"), images(), 200, StudyPlan())
    try:
        assert REGISTRY.free_slots() == 0 and len(REGISTRY.active()) == 1
        wait_until(lambda: all(s.step > 0 for s in pair.snapshots()), 60)  # both train
        assert pair.baseline.stop()  # one ends: the other still holds the slot
        assert REGISTRY.free_slots() == 0 and pair.ablated.is_alive()
    finally:
        assert pair.close()
    wait_until(lambda: REGISTRY.active() == [], 30)
    assert REGISTRY.free_slots() == 1


def test_with_the_slot_taken_neither_run_starts(monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    REGISTRY.acquire(-1, "another student's run")
    try:
        with pytest.raises(RunLimitReached) as refused:
            start_pair("relu-d", pair_configs(StudyPlan(), "relu-d"), images(), 5, StudyPlan())
        assert refused.value.key == "errors.worker.pair_busy" and len(REGISTRY.active()) == 1
    finally:
        REGISTRY.release(-1)


@pytest.mark.slow
def test_a_slot_taken_between_the_check_and_the_start_ends_both_runs(monkeypatch):
    """A free slot when asked, none at the start (another browser's run took it): any run process that
    started ends, and the refusal is the pair's."""
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    monkeypatch.setattr(REGISTRY, "free_slots", lambda: 1)
    REGISTRY.acquire(-1, "another student's run")
    try:
        with pytest.raises(RunLimitReached) as refused:
            start_pair("relu-d", pair_configs(StudyPlan(), "relu-d"), images(), 5, StudyPlan())
        assert refused.value.key == "errors.worker.pair_busy"
    finally:
        REGISTRY.release(-1)
    wait_until(lambda: REGISTRY.active() == [], 30)


@pytest.mark.slow
def test_pause_stops_both_runs_and_resume_starts_both(monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    pair = start_pair("relu-d", pair_configs(StudyPlan(), "relu-d"), images(), 10_000, StudyPlan())
    try:
        wait_until(lambda: all(s.step > 2 for s in pair.snapshots()), 60)
        assert pair.pause()  # True: both wait
        paused = [s.step for s in pair.snapshots()]
        assert [s.status for s in pair.snapshots()] == ["paused", "paused"]
        time.sleep(1.0)
        assert [s.step for s in pair.snapshots()] == paused  # neither trains on
        pair.resume()
        wait_until(lambda: all(s.step > p for s, p in zip(pair.snapshots(), paused)), 60)
    finally:
        assert pair.close()
    wait_until(lambda: REGISTRY.active() == [], 30)
