"""gan_core.toy.toy2d_compare: two 2-D runs one setting apart start from the same weights, points and
noise (same seed), differ only in the setting compared, and step together."""

from dataclasses import fields

import pytest
import torch

from gan_core.toy.toy2d_compare import COMPARISONS, Toy2DPair, compare_configs
from gan_core.toy.toy2d_train import Toy2DConfig

SMALL = Toy2DConfig(hidden=16, depth=1, batch_size=32, k=3, loss="hinge", seed=7)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("name", list(COMPARISONS))
def test_the_two_configs_differ_in_the_compared_setting_only(name):
    comparison = COMPARISONS[name]
    left, right = compare_configs(SMALL, name)
    assert (getattr(left, comparison.field), getattr(right, comparison.field)) == comparison.values
    assert [f.name for f in fields(Toy2DConfig) if getattr(left, f.name) != getattr(right, f.name)] == [comparison.field]
    assert all(getattr(left, f.name) == getattr(SMALL, f.name) for f in fields(Toy2DConfig) if f.name != comparison.field)


@pytest.mark.parametrize("name", list(COMPARISONS))
def test_both_runs_start_from_the_same_weights_points_and_noise(name):
    a, b = Toy2DPair(SMALL, name).trainers
    assert _same_weights(a.G, b.G) and _same_weights(a.D, b.D)
    assert torch.equal(a.real, b.real) and torch.equal(a.fixed_z, b.fixed_z)
    other = Toy2DPair(Toy2DConfig(**{**SMALL.__dict__, "seed": 8}), name).trainers[0]
    assert not _same_weights(a.G, other.G)  # the seed, not chance, makes them equal


def test_k_pairs_step_together_one_iteration_each():
    pair = Toy2DPair(SMALL, "k")
    pair.step()
    pair.step()
    assert [(t.d_steps, t.g_steps) for t in pair.trainers] == [(2, 2), (10, 2)]
    assert pair.run_for(0.0) == 1 and [t.g_steps for t in pair.trainers] == [3, 3]


def test_the_losses_pair_trains_d_alike_and_g_differently():
    a, b = Toy2DPair(SMALL, "loss").trainers
    for trainer in (a, b):
        trainer.d_step()
    assert _same_weights(a.D, b.D)  # minimax and non-saturating share D's loss
    for trainer in (a, b):
        trainer.g_step()
    assert not _same_weights(a.G, b.G)  # and differ in G's


def test_an_unknown_comparison_is_a_sentence():
    with pytest.raises(ValueError, match="no 2-D comparison called 'lr'; choose one of k, loss"):
        compare_configs(SMALL, "lr")
