"""Model presets: output shapes, layer tables, DCGAN/TF-tutorial structure."""

import pytest
import torch
from torch import nn

from gan_core.models import (PRESETS, ModelConfig, build_models, count_parameters, default_model_config, describe,
                             get_preset, validate_model_config)

CASES = [(name, size, ch) for name, p in PRESETS.items() for size in p.image_sizes for ch in (1, 3)]


@pytest.mark.parametrize("preset,size,channels", CASES)
def test_every_preset_maps_z_to_images_and_images_to_one_score(preset, size, channels):
    cfg = default_model_config(preset, size, channels)
    g, d = build_models(cfg)
    z = torch.randn(3, cfg.latent_dim)
    x = g(z)
    assert x.shape == (3, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1  # tanh output
    assert d(x).shape == (3,)


@pytest.mark.parametrize("preset,size,channels", CASES)
def test_layer_table_lists_output_shapes_and_sums_to_parameter_count(preset, size, channels):
    cfg = default_model_config(preset, size, channels)
    g, d = build_models(cfg)
    g_rows = describe(g, (cfg.latent_dim,))
    d_rows = describe(d, (channels, size, size))
    assert g_rows[-1]["output_shape"] == (channels, size, size)
    assert d_rows[-1]["output_shape"] in ((1,), (1, 1, 1))
    assert sum(r["params"] for r in g_rows) == count_parameters(g)
    assert sum(r["params"] for r in d_rows) == count_parameters(d)


def test_tf_tutorial_matches_the_lecture_model():
    cfg = default_model_config("tf-tutorial")
    g, d = build_models(cfg)
    labels = [r["layer"] for r in describe(g, (cfg.latent_dim,))]
    assert labels[0] == "Linear 100→12544"  # Dense(7*7*256)
    convs = [lab for lab in labels if lab.startswith("ConvTranspose2d")]
    assert convs == ["ConvTranspose2d 256→128, 5x5, stride 1", "ConvTranspose2d 128→64, 5x5, stride 2",
                     "ConvTranspose2d 64→1, 5x5, stride 2"]
    d_labels = [r["layer"] for r in describe(d, (1, 28, 28))]
    assert d_labels == ["Conv2d 1→64, 5x5, stride 2", "LeakyReLU(0.3)", "Dropout(0.3)",
                        "Conv2d 64→128, 5x5, stride 2", "LeakyReLU(0.3)", "Dropout(0.3)", "Flatten", "Linear 6272→1"]
    assert get_preset("tf-tutorial").defaults.lr == 1e-4 and get_preset("tf-tutorial").defaults.batch_size == 256


@pytest.mark.parametrize("size", [28, 32, 64])
def test_dcgan_follows_radford_guidelines(size):
    cfg = default_model_config("dcgan", size)
    g, d = build_models(cfg)
    d_layers = list(d.net)
    assert isinstance(d_layers[0], nn.Conv2d) and isinstance(d_layers[1], nn.LeakyReLU)  # no BN on D's input
    assert all(m.negative_slope == 0.2 for m in d.modules() if isinstance(m, nn.LeakyReLU))
    assert any(isinstance(m, nn.BatchNorm2d) for m in g.modules())
    assert any(isinstance(m, nn.ReLU) for m in g.modules()) and not any(isinstance(m, nn.LeakyReLU) for m in g.modules())
    ups = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)][1:]
    assert all(m.kernel_size == (4, 4) and m.stride == (2, 2) for m in ups)
    convs = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert 0.01 < convs[1].weight.std().item() < 0.03  # N(0, 0.02) init
    assert get_preset("dcgan").defaults.betas == (0.5, 0.999) and get_preset("dcgan").defaults.lr == 2e-4


def test_latent_projection_is_the_first_linear_map_of_z():
    for preset in PRESETS:
        cfg = default_model_config(preset)
        g, _ = build_models(cfg)
        a = g.latent_projection()
        assert a.shape[1] == cfg.latent_dim and a.shape[0] > cfg.latent_dim


def test_small_has_infogan_style_fully_connected_layers_around_its_convolutions():
    cfg = default_model_config("small")
    assert cfg.fc_width == 256  # G's hidden layer; D's has 128 (README, "Shipped models")
    g, d = build_models(cfg)
    g_labels = [r["layer"] for r in describe(g, (cfg.latent_dim,))]
    # z -> hidden layer -> 7x7 feature maps -> two transposed convolutions
    assert g_labels[:4] == [f"Linear {cfg.latent_dim}→{cfg.fc_width}", f"BatchNorm1d({cfg.fc_width})", "ReLU",
                            f"Linear {cfg.fc_width}→{2 * cfg.ngf * 49}"]
    d_labels = [r["layer"] for r in describe(d, (1, 28, 28))]
    # ... conv features -> hidden layer over all of them -> one score
    half = cfg.fc_width // 2  # D's hidden layer is half as wide as G's
    assert d_labels[-5:] == ["Flatten", f"Linear {2 * cfg.ndf * 49}→{half}", f"BatchNorm1d({half})",
                             "LeakyReLU(0.2)", f"Linear {half}→1"]


def test_small_without_fc_layers_is_the_all_convolutional_layout_of_older_checkpoints():
    cfg = ModelConfig(preset="small", latent_dim=64, ngf=32, ndf=32, fc_width=0)
    g, d = build_models(cfg)
    assert [k for k in g.state_dict() if k.endswith("weight")] == ["net.0.weight", "net.1.weight", "net.4.weight",
                                                                    "net.5.weight", "net.7.weight"]
    assert tuple(g.net[0].weight.shape) == (2 * 32 * 49, 64)  # z straight to the 7x7 maps
    assert [type(m).__name__ for m in d.net][-2:] == ["Flatten", "Linear"]
    assert tuple(d.net[-1].weight.shape) == (1, 2 * 32 * 49)


@pytest.mark.parametrize("bad,match", [
    (ModelConfig(preset="dcgan", fc_width=128), "no fully-connected hidden layer"),
    (ModelConfig(preset="small", fc_width=-1), "fc_width"),
    (ModelConfig(preset="tf-tutorial", image_size=64), "makes 28 px"),
    (ModelConfig(preset="small", image_size=30), "makes 28, 32, 64 px"),
    (ModelConfig(preset="small", channels=2), "channels"),
    (ModelConfig(preset="nope"), "unknown model preset"),
    (ModelConfig(preset="small", latent_dim=0), "latent_dim"),
])
def test_invalid_model_configs_are_refused_with_a_sentence(bad, match):
    with pytest.raises(ValueError, match=match):
        validate_model_config(bad)


# --- small in colour at 32 and 64 px (issue 28) ------------------------------------------------------------

@pytest.mark.parametrize("size", [32, 64])
def test_small_trains_on_colour_images_at_32_and_64_px_and_round_trips_a_checkpoint(size, tmp_path):
    from types import SimpleNamespace

    from gan_core.checkpoint import load_checkpoint, save_checkpoint
    from gan_core.trainer import TrainConfig, Trainer

    pixels = torch.randint(0, 256, (48, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    t = Trainer(TrainConfig(preset="small", image_size=size, channels=3, batch_size=16, seed=0, device="cpu"),
                SimpleNamespace(images=pixels))
    before = {k: v.clone() for k, v in t.G.state_dict().items()}
    for _ in range(3):
        report = t.step()
    assert report.step == 3 and all(map(torch.isfinite, (torch.tensor(report.loss_d), torch.tensor(report.loss_g))))
    assert any(not torch.equal(before[k], v) for k, v in t.G.state_dict().items())  # it learned something
    ckpt = load_checkpoint(save_checkpoint(tmp_path / "run", t, dataset={"name": "colour"}))
    assert ckpt.model_config == t.config.model_config() and ckpt.model_config.image_size == size
    z = t.sample_noise(4)
    assert torch.equal(ckpt.generator(z), t.generate(z))  # the same samples after loading
    assert ckpt.generator(z).shape == (4, 3, size, size)


def test_small_at_64_px_adds_a_block_and_keeps_its_fully_connected_layers():
    rows = {size: describe(build_models(default_model_config("small", size, 3))[0], (64,)) for size in (28, 32, 64)}
    ups = {size: sum(r["layer"].startswith("ConvTranspose2d") for r in table) for size, table in rows.items()}
    assert ups == {28: 2, 32: 2, 64: 3}
    assert rows[28][0]["layer"] == rows[32][0]["layer"] == rows[64][0]["layer"] == "Linear 64→256"


def test_the_shipped_small_generator_still_loads_into_the_same_layers():
    from gan_core.checkpoint import load_checkpoint
    from gan_core.paths import ASSETS_DIR

    ckpt = load_checkpoint(ASSETS_DIR / "generator-mnist5k")
    assert ckpt.model_config.preset == "small" and ckpt.model_config.image_size == 28
    names = [n for n, _ in ckpt.generator.named_parameters()]
    fresh, _ = build_models(ckpt.model_config)
    assert names == [n for n, _ in fresh.named_parameters()]  # the 28 px layers kept their names
    z = torch.randn(2, 64, generator=torch.Generator().manual_seed(0))
    x = ckpt.generator(z)
    assert x.shape == (2, 1, 28, 28) and x.std() > 0.3  # digits (ink on black), not a flat image
