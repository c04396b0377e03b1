"""The live comparison's pair (``gan_core.compare_live``): the study's recipe with one guideline different,
one CPU thread each, both started or neither."""

from __future__ import annotations

import dataclasses

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
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    small = pair_refusal(1)
    assert "GAN_MAX_CONCURRENT_RUNS=2" in str(small) and "neither" in str(small)
    assert "GAN_MAX_CONCURRENT_RUNS=2" in small.localized("ko") and "둘 다 시작하지 않았습니다" in small.localized("ko")
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "4")
    busy = pair_refusal(1)
    assert "1 of the 4 are free" in str(busy) and "4개 중 1개" in busy.localized("ko")
    assert busy.key == "errors.worker.pair_busy" and small.key == "errors.worker.pair_cap"


def images(n: int = 64) -> ImageDataset:
    pixels = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return ImageDataset("fake", pixels, None, [])


def test_with_one_slot_neither_run_starts(monkeypatch):
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    with pytest.raises(RunLimitReached) as refused:
        start_pair("relu-d", pair_configs(StudyPlan(), "relu-d"), images(), 5, StudyPlan())
    assert refused.value.key == "errors.worker.pair_cap" and REGISTRY.active() == []


@pytest.mark.slow
def test_a_slot_taken_between_the_check_and_the_start_ends_the_first_run_too(monkeypatch):
    """Two free slots when asked, one by the second start (another browser's run took one): the first run's
    process ends and the refusal is the pair's."""
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    monkeypatch.setattr(REGISTRY, "free_slots", lambda: 2 if not REGISTRY.active() else 0)
    with pytest.raises(RunLimitReached) as refused:
        start_pair("relu-d", pair_configs(StudyPlan(), "relu-d"), images(), 5, StudyPlan())
    assert refused.value.key == "errors.worker.pair_cap"
    wait_until(lambda: REGISTRY.active() == [], 30)
