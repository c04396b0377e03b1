"""DCGAN's guidelines as switches (gan_core.ablations): each ablation builds the model it names, trains,
and comes back from its checkpoint; one that has nothing to break in a preset is refused."""

import pytest
import torch
from torch import nn

from gan_core.ablations import ABLATIONS, SigmoidImage, canonical_ablations
import json

from gan_core.checkpoint import load_checkpoint, save_checkpoint
from gan_core.cli import main
from gan_core.data.datasets import load_dataset
from gan_core.models import ConfigError, ablations_for, build_models, default_model_config, model_footprint
from gan_core.trainer import Trainer, TrainConfig

PRESETS = [("small", 28), ("dcgan", 32), ("tf-tutorial", 28)]


def count(net: nn.Module, kind) -> int:
    return sum(isinstance(m, kind) for m in net.modules())


def strided(net: nn.Module, kind) -> int:
    return sum(isinstance(m, kind) and m.stride == (2, 2) for m in net.modules())


def built(preset, size, *names):
    torch.manual_seed(0)
    return build_models(default_model_config(preset, size, ablations=tuple(names)))


@pytest.mark.parametrize("preset,size", PRESETS)
def test_each_ablation_changes_exactly_the_modules_it_names(preset, size):
    g0, d0 = built(preset, size)
    for name in ABLATIONS:
        try:
            g, d = built(preset, size, name)
        except ConfigError:
            continue  # refused: the test below checks which
        bn = (nn.BatchNorm1d, nn.BatchNorm2d)
        if name == "no-bn-g":
            assert count(g0, bn) > 0 and count(g, bn) == 0 and count(d, bn) == count(d0, bn)
        elif name == "no-bn-d":
            assert count(d0, bn) > 0 and count(d, bn) == 0 and count(g, bn) == count(g0, bn)
        elif name == "relu-d":
            assert count(d, nn.LeakyReLU) == 0 and count(d, nn.ReLU) == count(d0, nn.LeakyReLU) + count(d0, nn.ReLU)
            assert count(g, nn.LeakyReLU) == count(g0, nn.LeakyReLU)  # the TF tutorial's G keeps its LeakyReLU
        elif name == "pooling":
            assert strided(d0, nn.Conv2d) > 0 and strided(d, nn.Conv2d) == 0
            assert count(d, nn.AvgPool2d) == strided(d0, nn.Conv2d)
            assert strided(g, nn.ConvTranspose2d) == 0 and count(g, nn.Upsample) == strided(g0, nn.ConvTranspose2d)
        elif name == "sigmoid-output":
            assert isinstance(g.net[-1], SigmoidImage) and count(g, nn.Tanh) == 0
        elif name == "fc-hidden":
            if preset == "small":  # it has hidden layers: they go
                assert count(g, nn.Linear) == count(g0, nn.Linear) - 1 and count(d, nn.Linear) == count(d0, nn.Linear) - 1
            else:  # they come
                assert count(g, nn.Linear) == count(g0, nn.Linear) + 1
                assert count(d, nn.Linear) == count(d0, nn.Linear) + (2 if preset == "dcgan" else 1)
        elif name == "adam-beta1-0.9":  # the model is the preset's; the optimiser is not (below)
            assert [type(m) for m in g.modules()] == [type(m) for m in g0.modules()]
        z = torch.randn(3, g.latent_dim)
        images = g.eval()(z)
        assert images.shape == g0.eval()(z).shape and images.abs().max() <= 1
        assert d.eval()(images).shape == (3,)


def test_an_unchanged_network_starts_from_the_same_weights_as_the_preset_for_the_same_seed():
    g0, d0 = built("dcgan", 32)
    g, d = built("dcgan", 32, "no-bn-g")  # G changed; D built before the surgery: identical
    for a, b in zip(d0.state_dict().values(), d.state_dict().values()):
        assert torch.equal(a, b)


def test_an_ablation_with_nothing_to_break_is_refused_in_a_sentence():
    with pytest.raises(ConfigError, match="no BatchNorm"):
        built("tf-tutorial", 28, "no-bn-d")
    with pytest.raises(ConfigError, match="0.9"):
        TrainConfig(preset="tf-tutorial", ablations=("adam-beta1-0.9",)).resolved()
    with pytest.raises(ConfigError, match="leave β1 out"):
        TrainConfig(preset="dcgan", ablations=("adam-beta1-0.9",), betas_d=(0.5, 0.999)).resolved()
    with pytest.raises(ConfigError, match="--fc-width"):
        TrainConfig(preset="small", ablations=("fc-hidden",), fc_width=128).resolved()
    with pytest.raises(ConfigError, match="unknown ablation|must be one of|not"):
        TrainConfig(ablations=("no-such-thing",)).resolved()


@pytest.mark.parametrize("preset,size", PRESETS)
def test_a_preset_is_offered_exactly_the_ablations_it_can_take_alone_and_all_together(preset, size):
    offered = ablations_for(preset)
    assert offered == [n for n in ABLATIONS if n in offered]  # registry order
    if preset == "tf-tutorial":  # its D has no BatchNorm; it trains with β1 = 0.9 already
        assert set(ABLATIONS) - set(offered) == {"no-bn-d", "adam-beta1-0.9"}
    else:
        assert offered == list(ABLATIONS)
    for name in ABLATIONS:
        config = TrainConfig(preset=preset, image_size=size, ablations=(name,))
        if name in offered:
            config.resolved()
        else:
            with pytest.raises(ConfigError, match=name):
                config.resolved()
    everything = default_model_config(preset, size, ablations=tuple(offered))  # a page can choose them all
    with torch.device("meta"):
        g, d = build_models(everything)
        images = g(torch.randn(2, everything.latent_dim))
        assert images.shape == (2, 1, size, size) and d(images).shape == (2,)
    assert model_footprint(everything).parameters > 0


def test_ablations_are_kept_once_each_in_registry_order():
    assert canonical_ablations(["pooling", "no-bn-g", "pooling"]) == ("no-bn-g", "pooling")
    c = TrainConfig(ablations=("pooling", "no-bn-g")).resolved()
    assert c.ablations == ("no-bn-g", "pooling") and c.model_config().ablations == c.ablations


def test_the_beta1_ablation_trains_with_beta1_0_9_and_everything_else_the_presets():
    c = TrainConfig(preset="small", ablations=("adam-beta1-0.9",)).resolved()
    base = TrainConfig(preset="small").resolved()
    assert c.betas_d == c.betas_g == (0.9, 0.999) and base.betas_d == (0.5, 0.999)
    assert (c.lr_d, c.batch_size, c.fc_width) == (base.lr_d, base.batch_size, base.fc_width)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", image_size=28, channels=1)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ABLATIONS))
def test_each_ablation_trains_and_its_checkpoint_rebuilds_the_same_model(name, digits, tmp_path):
    preset = "dcgan" if name in ("no-bn-d", "adam-beta1-0.9", "fc-hidden") else "small"
    config = TrainConfig(preset=preset, dataset="digits", batch_size=8, ablations=(name,), seed=1,
                         ngf=8 if preset == "dcgan" else None, ndf=8 if preset == "dcgan" else None)
    trainer = Trainer(config, digits, device="cpu")
    for _ in range(3):
        report = trainer.step()
    assert torch.isfinite(torch.tensor([report.loss_d, report.loss_g])).all()
    save_checkpoint(tmp_path, trainer, dataset={"name": "digits", "class_names": [], "size": len(digits)})
    ckpt = load_checkpoint(tmp_path)
    assert ckpt.model_config.ablations == (name,)
    assert [type(m) for m in ckpt.raw_generator.modules()] == [type(m) for m in trainer.G.modules()]
    assert [type(m) for m in ckpt.discriminator.modules()] == [type(m) for m in trainer.D.modules()]
    z = trainer.fixed_noise.cpu()
    torch.testing.assert_close(ckpt.raw_generator.eval()(z), trainer.G.eval().cpu()(z))
    resumed = Trainer(TrainConfig.from_dict({**ckpt.train_config, **ckpt.model_config.to_dict()}), digits,
                      device="cpu")
    resumed.load_state(ckpt.trainer_state())
    assert resumed.step().step == 4


def test_the_command_line_takes_repeated_ablations_saves_them_and_keeps_them_on_resume(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--steps", "2", "--batch-size", "8", "--sample-every", "0", "--out", str(out)]
    assert main(["train", "--ablate", "pooling", "--ablate", "no-bn-g", *args]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["model"]["ablations"] == ["no-bn-g", "pooling"] == saved["train"]["ablations"]
    assert main(["train", "--resume", str(out), *args]) == 0  # kept without naming them
    assert load_checkpoint(out).model_config.ablations == ("no-bn-g", "pooling")
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--ablate", "relu-d", *args]) == 2
    assert "--ablate relu-d conflicts with the checkpoint" in capsys.readouterr().err
    assert main(["train", "--ablate", "no-such-guideline", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err and all(name in err for name in ABLATIONS)
    assert main(["train", "--preset", "tf-tutorial", "--ablate", "no-bn-d", "--out", str(tmp_path / "y")]) == 2
    assert "has no BatchNorm" in capsys.readouterr().err
