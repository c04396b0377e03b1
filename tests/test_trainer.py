"""Trainer: Algorithm 1 step by step, determinism, divergence handling."""

import dataclasses
import re
from types import SimpleNamespace

import pytest
import torch

from gan_core.data.datasets import to_float_images, to_unit_range
from gan_core.losses import GANLoss, get_loss
from gan_core.trainer import TrainConfig, Trainer, TrainingDiverged, random_shift


def fake_dataset(n=256, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return SimpleNamespace(images=torch.rand((n, 1, 28, 28), generator=gen) * 2 - 1, labels=None, class_names=[])


def margin(trainer, x, z):
    """D(x) - D(G(z)) on a fixed batch."""
    with torch.no_grad():
        p = trainer.algorithm.loss.probability
        return (p(trainer.D(x)).mean() - p(trainer.D(trainer.G(z))).mean()).item()


def test_uint8_datasets_stay_uint8_and_each_batch_becomes_float():
    pixels = torch.randint(0, 256, (40, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    t = Trainer(TrainConfig(preset="small", batch_size=8, seed=0, device="cpu"), SimpleNamespace(images=pixels))
    order = t._order[:8].clone()
    batch = t.next_real_batch(8)
    assert t.images.dtype == torch.uint8 and t._batch_source is pixels  # no float copy of the dataset
    assert batch.dtype == torch.float32 and torch.equal(batch, to_unit_range(pixels[order]))
    t.step()  # trains on it
    assert t.step_count == 1


def test_d_step_raises_d_of_real_minus_d_of_fake_on_a_fixed_batch():
    data = fake_dataset(64)
    t = Trainer(TrainConfig(preset="small", batch_size=64, lr_d=1e-3, seed=1), data)
    x, z = data.images, t.sample_noise(64)
    before = margin(t, x, z)
    t.d_step()
    after = margin(t, x, z)
    assert after > before


def test_step_runs_k_discriminator_steps_then_one_generator_step():
    t = Trainer(TrainConfig(preset="small", batch_size=16, k=3), fake_dataset())
    calls = []
    t.on_phase = lambda kind, i: calls.append((kind, i))  # the hook the app's worker uses
    report = t.step()
    assert calls == [("d", 1), ("d", 2), ("d", 3), ("g", 0)]
    assert t.images_seen == 3 * 16
    assert report.step == 1 and report.epoch == pytest.approx(48 / 256)
    assert 0 <= report.d_real <= 1 and 0 <= report.d_fake <= 1 and report.images_per_sec > 0


def test_g_step_changes_only_the_generator():
    t = Trainer(TrainConfig(preset="small", batch_size=16), fake_dataset())
    d_before = [p.clone() for p in t.D.parameters()]
    g_before = [p.clone() for p in t.G.parameters()]
    t.g_step()
    assert all(torch.equal(a, b) for a, b in zip(d_before, t.D.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, t.G.parameters()))
    assert all(p.requires_grad for p in t.D.parameters())  # D unfrozen again


def test_single_updates_walk_an_iteration_exactly_as_step_does():
    config = TrainConfig(preset="small", batch_size=16, k=2, ema=0.9, seed=3)
    walked, stepped = Trainer(config, fake_dataset()), Trainer(config, fake_dataset())
    d = walked.single_update("d")
    assert set(d) == {"loss_d", "d_real", "d_fake", "step", "epoch", "elapsed", "images_per_sec"} and d["step"] == 0
    walked.single_update("d")
    g = walked.single_update("g")  # the G step ends the iteration: the counter and G_ema move on
    assert "loss_d" not in g and g["step"] == walked.step_count == 1 and g["epoch"] == 2 * 16 / 256  # real images: the D steps only
    report = stepped.step()
    assert g["loss_g"] == report.loss_g
    for a, b in ((walked.G, stepped.G), (walked.D, stepped.D), (walked.G_ema, stepped.G_ema)):
        assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    whole, report = walked.single_update("iteration"), stepped.step().to_dict()
    same = ("step", "epoch", "loss_d", "loss_g", "d_real", "d_fake")  # the timings differ
    assert {n: whole[n] for n in same} == {n: report[n] for n in same} and whole["step"] == 2
    with pytest.raises(ValueError, match="unknown single update 'both'"):
        walked.single_update("both")


def test_same_seed_gives_the_same_run_on_cpu():
    runs = []
    for _ in range(2):
        t = Trainer(TrainConfig(preset="tf-tutorial", batch_size=8, seed=7, device="cpu"), fake_dataset())
        runs.append(([t.step().loss_d for _ in range(3)], t.generate()))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])
    other = Trainer(TrainConfig(preset="tf-tutorial", batch_size=8, seed=8, device="cpu"), fake_dataset())
    assert other.step().loss_d != runs[0][0][0]


def test_uniform_prior_draws_from_minus_one_to_one():
    t = Trainer(TrainConfig(preset="small", prior="uniform"), fake_dataset())
    z = t.sample_noise(2000)
    assert z.min() >= -1 and z.max() <= 1 and abs(z.mean().item()) < 0.05
    assert t.fixed_noise.shape == (64, t.config.latent_dim)


def test_nan_loss_stops_training_and_keeps_the_last_good_weights():
    t = Trainer(TrainConfig(preset="small", batch_size=16), fake_dataset())
    t.step()
    good = {k: v.clone() for k, v in t.G.named_parameters()}
    base = get_loss("non-saturating")
    t.algorithm.loss = GANLoss("broken", "returns NaN", base.d_loss, lambda fake: fake.mean() * float("nan"))
    with pytest.raises(TrainingDiverged, match="loss of G became nan"):
        t.step()
    # The NaN update was never applied (BatchNorm running statistics may still move in forward passes).
    assert all(torch.equal(good[k], v) for k, v in t.G.named_parameters())


def test_weights_already_broken_are_restored_from_the_snapshot():
    t = Trainer(TrainConfig(preset="small", batch_size=16), fake_dataset())
    snapshot = {k: v.clone() for k, v in t.G.state_dict().items()}
    with torch.no_grad():
        next(t.G.parameters()).fill_(float("inf"))  # as if an exploding update slipped through
    with pytest.raises(TrainingDiverged, match="went back to step 0"):
        t.step()
    assert all(torch.equal(snapshot[k], v) for k, v in t.G.state_dict().items())


def test_absurd_learning_rate_diverges_with_a_clear_message():
    t = Trainer(TrainConfig(preset="small", batch_size=32, lr_d=10.0, lr_g=10.0, loss="lsgan"), fake_dataset())
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        for _ in range(50):
            t.step()
    assert all(torch.isfinite(v).all() for v in t.G.state_dict().values() if v.is_floating_point())


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, "batch_size must be a whole number from 2 to 4096"), ({"k": 0}, "k must be"),
    ({"lr_d": -1.0}, "lr_d must be a number from 1e-06 to 10"), ({"lr_g": 1e12}, "lr_g must be"),
    ({"loss": "nope"}, "loss must be one of .*hinge"), ({"prior": "cauchy"}, "prior must be one of normal, uniform"),
    ({"label_smoothing": 0.7}, "label_smoothing"), ({"betas_g": (0.5, 1.5)}, "betas_g must be two numbers"),
    ({"ema": 1.0}, "ema must be"), ({"ema": -0.1}, "ema must be"), ({"seed": 2**31}, "seed must be"),
    ({"seed": True}, "seed must be a whole number"), ({"amp": "yes"}, "amp must be true or false"),
    ({"shift": 8}, "shift must be between 0 and 7"),
])
def test_invalid_settings_are_refused_with_a_sentence(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs).resolved()


def test_g_ema_is_the_warmed_up_moving_average_of_g():
    t = Trainer(TrainConfig(preset="small", batch_size=8, ema=0.5, lr_g=1e-2), fake_dataset())
    assert not t.G_ema.training and not any(p.requires_grad for p in t.G_ema.parameters())
    expected = {k: v.clone() for k, v in t.G.named_parameters()}  # the average starts at G's initial weights
    for step in range(1, 4):
        t.step()
        decay = min(0.5, (1 + step) / (10 + step))  # warm-up (2/11, 3/12) then the configured 0.5
        for k, v in t.G.named_parameters():
            expected[k] = decay * expected[k] + (1 - decay) * v.detach()
    for k, v in t.G_ema.named_parameters():
        assert torch.allclose(v, expected[k], atol=1e-6), k
        assert not torch.equal(v, dict(t.G.named_parameters())[k])
    for (k, a), (k2, b) in zip(t.G_ema.named_buffers(), t.G.named_buffers()):
        assert k == k2 and torch.equal(a, b)  # BatchNorm running statistics are copied, not averaged
    assert t.G.training  # training mode untouched by sampling
    z = t.sample_noise(4)
    with torch.no_grad():
        assert torch.equal(t.generate(z), t.G_ema(z)) and t.sampling_generator is t.G_ema
        assert not torch.equal(t.generate(z), t.G.eval()(z))


def test_ema_zero_turns_the_average_off():
    t = Trainer(TrainConfig(preset="small", batch_size=8, ema=0.0), fake_dataset())
    t.step()
    z = t.sample_noise(4)
    assert t.G_ema is None and t.sampling_generator is t.G and t.state()["G_ema"] is None
    with torch.no_grad():
        assert torch.equal(t.generate(z), t.G.eval()(z))


def test_reuse_fake_runs_g_once_per_step_on_the_d_steps_batch():
    counts = {}
    for reuse in (False, True):
        t = Trainer(TrainConfig(preset="small", batch_size=8, reuse_fake=reuse), fake_dataset())
        calls = []
        t.G.register_forward_hook(lambda *_: calls.append(1))
        t.step()
        counts[reuse] = len(calls)
    assert counts == {False: 2, True: 1}
    t.d_step()
    fake = t.algorithm.kept_fake
    assert fake is not None and fake.requires_grad  # kept with its graph for the G step
    with torch.no_grad():
        expected = t.algorithm.loss.g_loss(t.D(fake)).item()
    g_before = [p.clone() for p in t.G.parameters()]
    assert t.g_step()["loss_g"] == pytest.approx(expected, rel=1e-5) and t.algorithm.kept_fake is None
    assert any(not torch.equal(a, b) for a, b in zip(g_before, t.G.parameters()))
    with pytest.raises(ValueError, match="k = 1"):
        TrainConfig(reuse_fake=True, k=2).resolved()
    # Unset, it follows k: on for k = 1 (the pytorch/examples loop), off for k > 1.
    assert TrainConfig().resolved().reuse_fake is True
    assert TrainConfig(k=3).resolved().reuse_fake is False


def test_random_shift_moves_each_image_by_at_most_the_shift_and_passes_gradients():
    x = torch.rand(64, 1, 28, 28, requires_grad=True)
    out = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and torch.equal(random_shift(x, 0, torch.Generator()), x)
    offsets = set()
    for i in range(len(x)):  # each output is its input translated by one (dy, dx), black (-1) filled in
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if torch.equal(out[i, 0, max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)],
                                x[i, 0, max(-dy, 0):28 + min(-dy, 0), max(-dx, 0):28 + min(-dx, 0)])]
        assert len(found) == 1
        offsets.add(found[0])
        dy, dx = found[0]
        assert (out[i] == -1).sum() >= 28 * (abs(dy) + abs(dx)) - abs(dy * dx)
    assert len(offsets) > 10  # independent shifts per image
    out.sum().backward()
    assert x.grad.sum() > 0 and x.grad.max() == 1


def test_with_shift_d_sees_shifted_images_and_samples_are_not_shifted():
    t = Trainer(TrainConfig(preset="small", batch_size=8, shift=2, ema=0.0), fake_dataset())
    seen = []
    t.D.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach()))
    t.step()
    assert len(seen) == 3  # real and fake in the D step, fake in the G step
    assert (seen[0] == -1).float().mean() > 0  # the uniform(-1, 1) images get black borders
    z = t.sample_noise(4)
    with torch.no_grad():
        assert torch.equal(t.generate(z), t.G.eval()(z))
    with pytest.raises(ValueError, match="shift"):
        TrainConfig(shift=8).resolved()


def test_presets_default_ema():
    assert TrainConfig(preset="small").resolved().ema == 0.999  # the recipe that reaches recognisable digits fast
    assert TrainConfig(preset="dcgan").resolved().ema == 0.0  # faithful to the paper


def test_tf_tutorial_grid_is_the_lectures_4x4_and_other_presets_keep_8x8():
    tf = Trainer(TrainConfig(preset="tf-tutorial", device="cpu"), fake_dataset(16))
    assert tf.generate().shape == (16, 1, 28, 28)  # num_examples_to_generate = 16
    assert TrainConfig(preset="small").resolved().n_fixed == 64
    assert TrainConfig(preset="tf-tutorial", n_fixed=9).resolved().n_fixed == 9


def test_dataset_shape_must_match_the_model():
    with pytest.raises(ValueError, match="model expects"):
        Trainer(TrainConfig(preset="small", channels=3), fake_dataset())


@pytest.mark.slow
def test_200_steps_on_mnist5k_move_samples_toward_the_data():
    from gan_core.data.datasets import load_dataset

    data = load_dataset("mnist5k")
    t = Trainer(TrainConfig(preset="small", seed=0, device="cpu"), data)
    real = to_float_images(data.images)

    def distance():
        fake = t.generate(t.sample_noise(512))
        # pixel statistics: the mean image and the per-pixel spread
        return ((fake.mean(0) - real.mean(0)).abs().mean() + (fake.std(0) - real.std(0)).abs().mean()).item()

    before = distance()
    for _ in range(200):
        t.step()
    after = distance()
    assert after < 0.5 * before, (before, after)


# --- issue 14: a divergence restores everything together; absurd losses count; resume applies lr ------

def optimizer_moments(opt):
    return [v.clone() for slots in opt.state_dict()["state"].values() for v in slots.values()]


def test_a_restore_brings_back_weights_optimizer_and_step_together():
    t = Trainer(TrainConfig(preset="small", batch_size=16, seed=2), fake_dataset())
    t.snapshot_every = 3
    for _ in range(4):
        t.step()  # snapshot taken at step 3
    assert t.step_count == 4
    at_3 = Trainer(TrainConfig(preset="small", batch_size=16, seed=2), fake_dataset())
    for _ in range(3):
        at_3.step()
    with torch.no_grad():
        next(t.D.parameters()).fill_(float("nan"))  # weights broken after the snapshot
    with pytest.raises(TrainingDiverged, match="went back to step 3") as info:
        t.step()
    assert info.value.step == 3 and t.step_count == 3
    for a, b in zip(t.G.state_dict().values(), at_3.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(optimizer_moments(t.opt_d), optimizer_moments(at_3.opt_d)):
        assert torch.equal(a, b)
    assert t.images_seen == at_3.images_seen
    # training can go on from the restored state, exactly as the run that never broke
    assert t.step().loss_d == at_3.step().loss_d


def test_a_finite_but_absurd_loss_counts_as_diverged():
    # An absurd but finite G loss from the 20th G step on, injected: lr 10 once did this by itself within
    # 100 steps, but whether it does depends on the CPU's kernels (on one machine it never did).
    t = Trainer(TrainConfig(preset="small", batch_size=16), fake_dataset())
    good, calls = t.algorithm.loss, {"n": 0}

    def absurd_from_step_20(fake):
        calls["n"] += 1
        return good.g_loss(fake) + (1e7 if calls["n"] >= 20 else 0.0)

    t.algorithm.loss = dataclasses.replace(good, g_loss=absurd_from_step_20)
    with pytest.raises(TrainingDiverged, match="smaller learning rate") as info:
        for _ in range(100):
            t.step()
    assert "nan" not in str(info.value) and "inf" not in str(info.value)  # caught while still finite
    assert t.step_count == info.value.step and info.value.step % t.snapshot_every == 0  # back to a snapshot
    assert "학습률" in info.value.localized("ko")


def test_resume_applies_the_configured_lr_and_betas_and_reports_changes():
    t = Trainer(TrainConfig(preset="small", batch_size=16, lr_g=1e-3, lr_d=1e-3), fake_dataset())
    t.step()
    resumed = Trainer(TrainConfig(preset="small", batch_size=16, lr_g=1e-4, lr_d=1e-3, betas_g=(0.0, 0.9)),
                      fake_dataset())
    changes = resumed.load_state(t.state())
    assert changes == {"lr_g": (1e-3, 1e-4), "betas_g": ((0.5, 0.999), (0.0, 0.9))}
    group = resumed.opt_g.param_groups[0]
    assert group["lr"] == 1e-4 and tuple(group["betas"]) == (0.0, 0.9)
    assert resumed.opt_d.param_groups[0]["lr"] == 1e-3


def test_a_one_image_dataset_says_how_many_are_needed():
    from gan_core.data.datasets import DatasetError

    with pytest.raises(DatasetError, match="has 1 image.*at least 2"):
        Trainer(TrainConfig(preset="small", batch_size=16), SimpleNamespace(images=torch.zeros(1, 1, 28, 28)))


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": "64"}, "batch_size must be a whole number"), ({"lr_g": "fast"}, "lr_g must be a number"),
    ({"betas_d": 0.5}, "betas_d"), ({"k": 2.5}, "k must be a whole number"), ({"seed": -1}, "seed"),
    ({"latent_dim": 10**9}, "latent_dim"), ({"preset": ["small"]}, "unknown model preset"),
])
def test_wrong_types_are_sentences_not_type_errors(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        TrainConfig(**kwargs).resolved()
    assert re.search("[\uac00-\ud7a3]", info.value.localized("ko"))


def test_channels_last_gives_the_same_training_to_float_rounding_and_is_a_checked_flag():
    runs = []
    for flag in (None, True):
        t = Trainer(TrainConfig(preset="dcgan", batch_size=8, ngf=8, ndf=8, latent_dim=16, channels_last=flag, seed=3),
                    fake_dataset(32))
        assert t.config.channels_last is bool(flag)
        assert t.next_real_batch(4).is_contiguous(memory_format=t.memory_format)
        conv = next(p for p in t.D.parameters() if p.dim() == 4 and p.shape[1] > 1)  # a weight with channels
        assert conv.is_contiguous(memory_format=torch.channels_last) == bool(flag) != conv.is_contiguous()
        for _ in range(3):
            t.step()
        runs.append(t)
    plain, nhwc = runs
    for (name, a), (_, b) in zip(plain.G.state_dict().items(), nhwc.G.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-3), name
    assert plain.images is plain._batch_source  # on the CPU the batches come from the dataset itself
    with pytest.raises(ValueError, match="channels_last must be true or false"):
        TrainConfig(channels_last="yes").resolved()


# --- issue 17: a block of steps without host synchronisation (--log-every) ----------------------------

@pytest.mark.parametrize("settings", [dict(), dict(k=2, loss="wgan-gp", ema=0.9)])
def test_run_steps_is_the_same_training_as_step_by_step(settings):
    config = TrainConfig(preset="small", batch_size=16, seed=4, **settings)
    one_by_one = Trainer(config, fake_dataset())
    reports = [one_by_one.step() for _ in range(6)]
    block = Trainer(config, fake_dataset())  # after: WGAN-GP's penalty draws from torch's global RNG, seeded here
    blocked = block.run_steps(4) + block.run_steps(2)
    assert [(r.step, r.loss_d, r.loss_g, r.d_real, r.d_fake, r.epoch) for r in blocked] == \
        [(r.step, r.loss_d, r.loss_g, r.d_real, r.d_fake, r.epoch) for r in reports]
    for a, b in zip(block.G.state_dict().values(), one_by_one.G.state_dict().values()):
        assert torch.equal(a, b)
    assert block.elapsed == pytest.approx(blocked[-1].elapsed) and blocked[0].elapsed < blocked[-1].elapsed


def test_run_steps_reads_the_device_once_per_block(monkeypatch):
    """No .item() / .tolist() from the training code inside a block (each would make a GPU wait)."""
    import inspect

    t = Trainer(TrainConfig(preset="small", batch_size=16), fake_dataset())
    reads = []
    for name in ("item", "tolist", "__bool__", "__float__"):
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, _name=name):
            caller = inspect.stack()[1].filename
            if "gan_core" in caller:
                reads.append((_name, caller.rsplit("/", 1)[-1]))
            return _original(self, *args)

        monkeypatch.setattr(torch.Tensor, name, counting)
    t.run_steps(8)
    assert reads == [("tolist", "trainer.py")]
    reads.clear()
    t.step()
    assert len(reads) >= 2  # step() reads the numbers of each update (the app's per-step charts)


def test_a_nan_inside_a_block_restores_the_last_snapshot_and_names_its_step():
    t = Trainer(TrainConfig(preset="small", batch_size=16, seed=2), fake_dataset())
    t.snapshot_every = 2
    t.run_steps(2)  # a clean block: snapshot at step 2
    at_2 = {k: v.clone() for k, v in t.G.state_dict().items()}
    base = get_loss("non-saturating")
    calls = []

    def nan_on_the_second_call(fake):
        calls.append(1)
        return base.g_loss(fake) * (float("nan") if len(calls) == 2 else 1.0)

    t.algorithm.loss = GANLoss("broken", "NaN once", base.d_loss, nan_on_the_second_call)
    with pytest.raises(TrainingDiverged, match="went back to step 2") as info:
        t.run_steps(3)  # steps 3, 4 (NaN), 5: found at the end of the block
    assert "step 4" in str(info.value) and info.value.step == t.step_count == 2
    assert all(torch.equal(at_2[k], v) for k, v in t.G.state_dict().items())
    assert t.algorithm.pending_losses == [] and not t.algorithm.defer_checks
