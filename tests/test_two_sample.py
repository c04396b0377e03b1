"""The independent judge (gan_core.evaluation.two_sample): its statistics, its calibration on real data and
generators of known quality, the copies and diversity checks, the JSON keys, progress and cancelling."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from gan_core.checkpoint import load_checkpoint
from gan_core.data.datasets import load_dataset, to_float_images
from gan_core.evaluation.two_sample import (MAX_N, JudgeCancelled, JudgeConfig, JudgeError, as_uint8,
                                            detectable_deviation, judge_generator, judge_real_vs_real, p_value,
                                            two_sample_test, wilson_interval)
from gan_core.paths import ASSETS_DIR
from gan_core.trainer import TrainConfig, Trainer

SMALL = JudgeConfig(n=200, seed=0)


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist5k").images


@pytest.fixture(scope="module")
def floor(mnist):
    """Two disjoint halves of mnist5k judged against each other."""
    return judge_real_vs_real(mnist, SMALL)


class Replay(nn.Module):
    """A "generator" that hands out the given images in turn, whatever z is."""

    def __init__(self, images: torch.Tensor) -> None:
        super().__init__()
        self.images = images
        self.next = 0
        self.weight = nn.Parameter(torch.zeros(1))  # the judge reads the device off a parameter

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        idx = (torch.arange(len(z)) + self.next) % len(self.images)
        self.next += len(z)
        return to_float_images(self.images[idx])  # a generator outputs [-1, 1]


# --- statistics -------------------------------------------------------------------------------------------

def test_p_value_is_the_normal_tail_around_one_half():
    assert p_value(0.5, 1000) == pytest.approx(0.5)
    # accuracy 1/2 + 1.645 standard deviations (sd = 1 / (2 sqrt(n))) is the 5% point
    assert p_value(0.5 + 1.6449 / (2 * math.sqrt(400)), 400) == pytest.approx(0.05, abs=1e-4)
    assert p_value(0.3, 400) > 0.99


def test_wilson_interval_holds_the_accuracy_and_narrows_with_n():
    lo, hi = wilson_interval(0.6, 100)
    assert lo < 0.6 < hi
    lo2, hi2 = wilson_interval(0.6, 10_000)
    assert hi2 - lo2 < (hi - lo) / 5
    lo, hi = wilson_interval(1.0, 200)  # never a point at the edge
    assert 0.97 < lo < 1.0 and hi == 1.0


def test_detectable_deviation_at_a_thousand_test_images():
    assert detectable_deviation(1000) == pytest.approx((1.6449 + 0.8416) / (2 * math.sqrt(1000)), abs=1e-4)
    assert detectable_deviation(4000) == pytest.approx(detectable_deviation(1000) / 2)


def test_as_uint8_maps_the_unit_range():
    x = torch.tensor([-1.0, 0.0, 1.0, 2.0]).view(1, 1, 2, 2)
    assert as_uint8(x).flatten().tolist() == [0, 128, 255, 255]
    u = torch.zeros(1, 1, 2, 2, dtype=torch.uint8)
    assert as_uint8(u) is u


# --- calibration --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_calibration_floor_trained_and_one_step_generators(mnist, floor):
    floor = floor.two_sample
    assert 0.4 <= floor["accuracy"] <= 0.6

    config = TrainConfig(preset="small", dataset="mnist5k", seed=0)
    trainer = Trainer(config, load_dataset("mnist5k"))
    trainer.step()
    untrained = judge_generator(trainer.sampling_generator, trainer.config.latent_dim, mnist, SMALL).two_sample
    assert untrained["accuracy"] >= 0.95
    assert untrained["p_value"] < 1e-6

    ckpt = load_checkpoint(ASSETS_DIR / "generator-mnist5k")
    trained = judge_generator(ckpt.generator, ckpt.model_config.latent_dim, mnist, SMALL).two_sample
    assert floor["accuracy"] < trained["accuracy"] < untrained["accuracy"]
    for verdict in (floor, trained, untrained):
        lo, hi = verdict["ci95"]
        assert lo <= verdict["accuracy"] <= hi
        assert verdict["n_test"] == 200


@pytest.mark.slow
def test_a_generator_that_returns_training_images_is_flagged_as_copying(mnist):
    copier = Replay(mnist[torch.randperm(len(mnist), generator=torch.Generator().manual_seed(5))])
    result = judge_generator(copier, 8, mnist, SMALL)
    copies = result.copies
    assert copies["flagged"]
    assert copies["pixels"]["closer_than_real_share"] > 0.9
    assert copies["closest_pairs"][0]["pixel_distance"] == pytest.approx(0.0, abs=1e-6)
    pair = copies["closest_pairs"][0]
    assert torch.equal(result.images["copy_fakes"][0], result.images["copy_train"][0])
    assert pair["fake"] < 200
    # ... while the two-sample test alone would pass it: memorising is not quality
    assert result.two_sample["accuracy"] <= 0.6


@pytest.mark.slow
def test_the_floor_flags_neither_copies_nor_low_diversity(floor):
    assert not floor.copies["flagged"]
    assert not floor.diversity["flagged"]
    assert 0.85 < floor.diversity["pixels"]["ratio"] < 1.15


@pytest.mark.slow
def test_a_generator_that_returns_one_image_is_flagged_as_not_diverse(mnist):
    one = Replay(to_float_images(mnist[7:8]).expand(4, -1, -1, -1) + 0.0)
    result = judge_generator(one, 8, mnist, SMALL)
    assert result.diversity["flagged"]
    assert result.diversity["pixels"]["ratio"] == pytest.approx(0.0, abs=1e-6)
    assert result.two_sample["accuracy"] >= 0.95


# --- the result's shape ---------------------------------------------------------------------------------------

def _random_images(n: int, channels: int, size: int, seed: int) -> torch.Tensor:
    return torch.randint(0, 256, (n, channels, size, size), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32), (3, 64)])
def test_json_keys_are_stable_for_grey_and_colour(channels, size):
    real = _random_images(40, channels, size, 0)
    fake = (_random_images(40, channels, size, 1) // 2)  # darker: easy to tell
    result = two_sample_test(real, fake, real, JudgeConfig(n=40, epochs=2))
    data = json.loads(json.dumps(result.to_json()))
    assert set(data) == {"two_sample", "copies", "diversity", "gallery", "judge"}
    assert {"accuracy", "ci95", "p_value", "n_test"} <= set(data["two_sample"])
    assert len(data["two_sample"]["ci95"]) == 2 and data["two_sample"]["n_test"] == 40
    assert {"pixels", "features", "flagged", "closest_pairs", "reference_size"} <= set(data["copies"])
    for space in ("pixels", "features"):
        assert {"closer_than_real_share", "median_fake_to_train", "median_real_to_train"} <= set(data["copies"][space])
        assert {"fake_spread", "real_spread", "ratio"} <= set(data["diversity"][space])
    assert {"caught", "fooled"} == set(data["gallery"])
    caught = [g["p_fake"] for g in data["gallery"]["caught"]]
    assert caught == sorted(caught, reverse=True)
    assert result.images["caught"].shape[1:] == (channels, size, size)
    assert result.images["caught"].dtype == torch.uint8


def test_progress_reaches_its_total_and_should_stop_cancels():
    real, fake = _random_images(40, 1, 28, 0), _random_images(40, 1, 28, 1)
    seen = []
    two_sample_test(real, fake, real, JudgeConfig(n=40, epochs=2), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)
    calls = []

    def stop_after_three() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(JudgeCancelled):
        two_sample_test(real, fake, real, JudgeConfig(n=40, epochs=2), should_stop=stop_after_three)


def test_bad_input_is_one_sentence():
    real = _random_images(40, 1, 28, 0)
    with pytest.raises(JudgeError, match="20"):
        judge_real_vs_real(real[:30], JudgeConfig(n=100))  # 15 per half
    with pytest.raises(JudgeError, match=str(MAX_N)):
        judge_real_vs_real(real, JudgeConfig(n=MAX_N + 1))
    with pytest.raises(JudgeError):
        two_sample_test(real, _random_images(40, 3, 28, 1), real, JudgeConfig(n=40))
