"""Loss sign conventions: each loss is low for the player who is winning."""

import dataclasses
import math

import pytest
import torch

from gan_core.losses import LOSSES, get_loss, log_d, log_one_minus_d

CONFIDENT = torch.full((8,), 6.0)  # D says "real" (score +6)
UNSURE = torch.zeros(8)


@pytest.mark.parametrize("name", list(LOSSES))
def test_discriminator_loss_is_lower_when_it_separates_real_from_fake(name):
    loss = get_loss(name)
    good = loss.d_loss(CONFIDENT, -CONFIDENT, 1.0)  # real -> high, fake -> low
    bad = loss.d_loss(-CONFIDENT, CONFIDENT, 1.0)
    assert good < bad


@pytest.mark.parametrize("name", list(LOSSES))
def test_generator_loss_is_lower_when_d_believes_its_fakes(name):
    loss = get_loss(name)
    fooled = loss.g_loss(torch.ones(8) if name == "lsgan" else CONFIDENT)
    caught = loss.g_loss(torch.zeros(8) if name == "lsgan" else -CONFIDENT)
    assert fooled < caught


def test_minimax_is_the_value_function_and_d_loss_is_minus_v():
    real, fake = torch.tensor([0.3, -1.0]), torch.tensor([2.0, -0.5])
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    v = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()
    assert torch.allclose(get_loss("minimax").d_loss(real, fake, 1.0), -v, atol=1e-6)
    assert torch.allclose(get_loss("minimax").g_loss(fake), torch.log(1 - d_fake).mean(), atol=1e-6)
    assert torch.allclose(get_loss("non-saturating").g_loss(fake), -torch.log(d_fake).mean(), atol=1e-6)


def test_minimax_saturates_where_non_saturating_does_not():
    # Early in training D(G(z)) ~ 0 (score very negative): log(1 - D) is flat there.
    score = torch.tensor([-8.0], requires_grad=True)
    get_loss("minimax").g_loss(score).backward()
    g_minimax = score.grad.abs().item()
    score.grad = None
    get_loss("non-saturating").g_loss(score).backward()
    g_ns = score.grad.abs().item()
    assert g_minimax < 1e-3 < 0.9 < g_ns


def test_one_sided_label_smoothing_changes_only_the_real_target():
    loss = get_loss("non-saturating")
    real, fake = torch.full((4,), 10.0), torch.full((4,), -10.0)
    # With target 0.9 a perfectly confident D is penalised on real images only.
    assert loss.d_loss(real, fake, 0.9) > loss.d_loss(real, fake, 1.0) + 0.5


def test_stable_logs_do_not_overflow():
    big = torch.tensor([1000.0, -1000.0])
    assert torch.isfinite(log_d(big)).all() and torch.isfinite(log_one_minus_d(big)).all()
    assert math.isclose(log_d(torch.tensor(0.0)).item(), math.log(0.5), rel_tol=1e-6)


def test_unknown_loss_lists_the_choices():
    with pytest.raises(ValueError, match="non-saturating"):
        get_loss("wasserstein")


def test_the_gradient_penalty_of_a_linear_critic_is_weight_times_norm_minus_one_squared():
    from gan_core.losses import gradient_penalty

    critic = torch.nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # its gradient is (3, 4) everywhere: norm 5
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    assert float(gradient_penalty(critic, real, fake).detach()) == pytest.approx(10 * (5 - 1) ** 2)
    assert float(gradient_penalty(critic, real, fake, weight=1.0).detach()) == pytest.approx(16.0)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8]]))  # 1-Lipschitz exactly: no penalty
    assert float(gradient_penalty(critic, real, fake).detach()) == pytest.approx(0.0, abs=1e-10)


def test_wgan_gp_penalises_through_algorithm_1s_d_step_and_trains_a_small_gan():
    from gan_core.trainer import TrainConfig, Trainer

    loss = get_loss("wgan-gp")
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    assert float(loss.d_loss(real, fake, 1.0)) == pytest.approx(-1.0 - 2.0)
    assert float(loss.g_loss(fake)) == pytest.approx(1.0)
    images = torch.rand(64, 1, 28, 28) * 2 - 1
    data = type("Fake", (), {"name": "fake", "images": images, "labels": None, "class_names": []})()
    t = Trainer(TrainConfig(preset="small", batch_size=16, loss="wgan-gp", ngf=8, ndf=8, latent_dim=8), data)
    seen = []
    t.algorithm.loss = dataclasses.replace(loss, penalty=lambda D, x, f: seen.append((x.shape, f.shape)) or
                                           loss.penalty(D, x, f))
    report = t.step()
    assert seen == [((16, 1, 28, 28), (16, 1, 28, 28))] and math.isfinite(report.loss_d)
