"""Model presets: generator/discriminator pairs in a registry keyed by name.

- ``tf-tutorial`` -- the lecture's TensorFlow MNIST DCGAN, layer for layer (28x28).
- ``dcgan``       -- Radford, Metz & Chintala 2016 guidelines, for 28, 32 or 64 px.
- ``small``       -- a narrow DCGAN with a fully-connected hidden layer in G and in D (InfoGAN's
                     MNIST layout), fast enough to train live on a laptop CPU; 28, 32 or 64 px,
                     grey or colour (a student's own photos at 32 or 64 px RGB).

Every discriminator returns one unbounded score per image (a logit); ``gan_core.losses`` turns
scores into losses. Every generator maps z of shape (N, latent_dim) to images in [-1, 1].
Adding a preset touches only this file: write two builders and call ``register_preset``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
from torch import nn

from gan_core.ablations import ABLATIONS, Build, ablate, ablated_defaults
from gan_core.i18n import LocalizedError, LocalizedText
from gan_core.limits import get_limits
from gan_core.registry import Registry
from gan_core.settings import Setting, is_whole


class ConfigError(LocalizedError):
    """A model or training setting that cannot work, with a sentence saying which and why."""


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a G/D pair (stored in every checkpoint)."""

    preset: str = "small"
    image_size: int = 28
    channels: int = 1
    latent_dim: int = 64
    ngf: int = 64  # generator width (feature maps of the last hidden layer)
    ndf: int = 64  # discriminator width (feature maps of the first layer)
    # Units of the fully-connected hidden layer between z and G's convolutions; D's hidden layer,
    # between its convolutions and its score, has half as many (presets that have them; 0 = none).
    # Checkpoints written before this field existed have none.
    fc_width: int = 0
    # DCGAN guidelines this model breaks on purpose (gan_core.ablations; in registry order). Checkpoints
    # written before this field existed have none.
    ablations: tuple[str, ...] = ()

    @property
    def d_fc_width(self) -> int:
        """Units of D's fully-connected hidden layer: half of G's (0 when G has none)."""
        return max(1, self.fc_width // 2) if self.fc_width else 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainDefaults:
    """Per-preset optimiser defaults, as in the paper or tutorial the preset comes from."""

    batch_size: int
    lr: float
    betas: tuple[float, float]
    latent_dim: int
    ngf: int
    ndf: int
    fc_width: int = 0  # 0: the preset has no fully-connected hidden layer (and cannot have one)
    ema: float = 0.0  # decay of the generator's weight average used for samples (0: off, as in the papers)
    shift: int = 0  # D sees images randomly shifted by up to this many pixels (0: off, as in the papers)
    grid_size: int = 64  # images in the fixed-noise sample grid (a square: 64 = 8x8)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    image_sizes: tuple[int, ...]
    defaults: TrainDefaults
    build_generator: Callable[[ModelConfig], nn.Module]
    build_discriminator: Callable[[ModelConfig], nn.Module]
    source: str = ""
    # how the builders initialise a layer, and so an ablation's new layers (None: PyTorch's defaults)
    init: Callable[[nn.Module], None] | None = None
    notes: list[str] = field(default_factory=list)


PRESETS: Registry[Preset] = Registry("model preset")


# The model's settings, declared once (gan_core.settings): ``TrainConfig`` carries them, the command
# line and the training page are built from them, and ``validate_model_config`` checks them.
PRESET = Setting("choice", choices=lambda: list(PRESETS), label="train.preset", help="settings.help.preset",
                 flag="--preset", url="preset", widget="select")
IMAGE_SIZE = Setting("choice", choices=lambda: sorted({s for p in PRESETS.values() for s in p.image_sizes}),
                     label="train.image_size", help="settings.help.image_size", flag="--image-size", url="size",
                     widget="select")
CHANNELS = Setting("choice", choices=(1, 3), label="train.colour.label", help="settings.help.channels",
                   flag="--channels", url="channels", widget="radio")
LATENT_DIM = Setting("int", 1, 1024, label="train.latent_dim", help="settings.help.latent_dim", flag="--latent-dim",
                     url="latent", widget="number")
NGF = Setting("int", 1, 1024, help="settings.help.ngf", flag="--ngf")
NDF = Setting("int", 1, 1024, help="settings.help.ndf", flag="--ndf")
FC_WIDTH = Setting("int", 0, 4096, label="train.fc_width", help="settings.help.fc_width", flag="--fc-width",
                   url="fc", widget="number", step=32)
# its link parameter is "ablations": "ablate" names the one ablation the training page's compare view shows
ABLATE = Setting("choice_list", choices=lambda: list(ABLATIONS), label="train.ablate", help="settings.help.ablate",
                 flag="--ablate", url="ablations", widget="multiselect")
MODEL_SETTINGS = {"preset": PRESET, "image_size": IMAGE_SIZE, "channels": CHANNELS, "latent_dim": LATENT_DIM,
                  "ngf": NGF, "ndf": NDF, "fc_width": FC_WIDTH, "ablations": ABLATE}


def register_preset(preset: Preset) -> Preset:
    """Add a model preset under its name (a name that is taken is refused with a ``ValueError``)."""
    return PRESETS.register(preset)


class Reshape(nn.Module):
    """(N, C*H*W) -> (N, C, H, W); shows up as a row in the layer table."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class Generator(nn.Module):
    """z (N, latent_dim) -> image (N, C, H, W) in [-1, 1]."""

    def __init__(self, config: ModelConfig, net: nn.Sequential) -> None:
        super().__init__()
        self.config = config
        self.latent_dim = config.latent_dim
        self.net = net

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def latent_projection(self) -> torch.Tensor:
        """The first layer's weight as a matrix A (out_features, latent_dim): x_1 = A z + b.

        SeFa (Shen & Zhou 2021) finds semantic directions as the top eigenvectors of AᵀA.
        """
        first = next(m for m in self.net if not isinstance(m, Reshape))
        if isinstance(first, nn.Linear):
            return first.weight.detach()  # (out, latent)
        if isinstance(first, nn.ConvTranspose2d):
            # weight (latent, C_out, k, k) acting on z as a 1x1 input: each output unit is a row.
            w = first.weight.detach()
            return w.reshape(w.shape[0], -1).t()
        raise TypeError(f"first layer {type(first).__name__} is not a linear map of z")


class Discriminator(nn.Module):
    """image (N, C, H, W) -> one score (logit) per image, shape (N,)."""

    def __init__(self, config: ModelConfig, net: nn.Sequential) -> None:
        super().__init__()
        self.config = config
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).reshape(-1)


def _on_meta_device(module: nn.Module) -> bool:
    """True when ``model_footprint`` builds the module: meta tensors hold no values to initialise
    (and drawing random numbers on the meta device imports half of sympy: seconds of start-up)."""
    return any(p.is_meta for p in module.parameters())


def dcgan_init(module: nn.Module) -> None:
    """Radford et al.: all weights from N(0, 0.02); BatchNorm scale from N(1, 0.02), bias 0."""
    if _on_meta_device(module):
        return
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def keras_init(module: nn.Module) -> None:
    """Keras defaults (glorot_uniform weights, zero bias), to match the TF tutorial."""
    if _on_meta_device(module):
        return
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


# --- tf-tutorial: https://www.tensorflow.org/tutorials/generative/dcgan --------------------------

def _tf_generator(c: ModelConfig) -> nn.Module:
    # Keras: Dense(7*7*256, no bias) -> BN -> LeakyReLU -> Conv2DTranspose(128, 5, 1) -> BN ->
    # LeakyReLU -> Conv2DTranspose(64, 5, 2) -> BN -> LeakyReLU -> Conv2DTranspose(1, 5, 2, tanh).
    # Keras LeakyReLU's default slope is 0.3; padding="same" is padding 2 (+ output_padding 1 at stride 2).
    net = nn.Sequential(
        nn.Linear(c.latent_dim, 7 * 7 * 256, bias=False),
        nn.BatchNorm1d(7 * 7 * 256),
        nn.LeakyReLU(0.3),
        Reshape(256, 7, 7),
        nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False),
        nn.BatchNorm2d(128),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.BatchNorm2d(64),
        nn.LeakyReLU(0.3),
        nn.ConvTranspose2d(64, c.channels, 5, stride=2, padding=2, output_padding=1, bias=False),
        nn.Tanh(),
    )
    g = Generator(c, net)
    keras_init(g)
    return g


def _tf_discriminator(c: ModelConfig) -> nn.Module:
    # Keras: Conv2D(64, 5, 2) -> LeakyReLU -> Dropout(0.3) -> Conv2D(128, 5, 2) -> LeakyReLU ->
    # Dropout(0.3) -> Flatten -> Dense(1)
    net = nn.Sequential(
        nn.Conv2d(c.channels, 64, 5, stride=2, padding=2),
        nn.LeakyReLU(0.3),
        nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, stride=2, padding=2),
        nn.LeakyReLU(0.3),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(128 * 7 * 7, 1),
    )
    d = Discriminator(c, net)
    keras_init(d)
    return d


register_preset(Preset(
    name="tf-tutorial",
    description="The TensorFlow tutorial's MNIST DCGAN from the lecture: Dense 7x7x256, three 5x5 "
    "transposed convolutions; Adam 1e-4, batch 256.",
    image_sizes=(28,),
    defaults=TrainDefaults(batch_size=256, lr=1e-4, betas=(0.9, 0.999), latent_dim=100, ngf=64, ndf=64,
                           grid_size=16),  # the tutorial's num_examples_to_generate = 16: a 4x4 grid
    build_generator=_tf_generator,
    build_discriminator=_tf_discriminator,
    source="TensorFlow tutorial 'Deep Convolutional Generative Adversarial Network'",
    init=keras_init,
))


# --- dcgan: Radford, Metz & Chintala 2016 ---------------------------------------------------------

def _up(c_in: int, c_out: int) -> list[nn.Module]:
    """Fractionally-strided conv doubling H and W, BatchNorm, ReLU (DCGAN generator block)."""
    return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]


def _down(c_in: int, c_out: int, batchnorm: bool = True) -> list[nn.Module]:
    """Strided conv halving H and W, (BatchNorm), LeakyReLU 0.2 (DCGAN discriminator block)."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not batchnorm)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(0.2, True))
    return layers


def _plan(preset: str, plans: dict[int, tuple[int, int]], image_size: int) -> tuple[int, int]:
    """(start resolution, number of 2x up/down-samplings) of ``preset`` at ``image_size``."""
    if image_size not in plans:
        raise ValueError(f"{preset} supports image sizes {sorted(plans)}, not {image_size}")
    return plans[image_size]


DCGAN_PLANS = {28: (7, 2), 32: (4, 3), 64: (4, 4)}


def _dcgan_generator(c: ModelConfig) -> nn.Module:
    start, n_up = _plan("dcgan", DCGAN_PLANS, c.image_size)
    widths = [c.ngf * 2 ** i for i in reversed(range(n_up))]  # e.g. 64px: 8ngf,4ngf,2ngf,ngf
    # Project z to start x start x widths[0]: a "1x1 -> k x k" transposed conv is the paper's projection.
    layers: list[nn.Module] = [
        nn.ConvTranspose2d(c.latent_dim, widths[0], start, 1, 0, bias=False),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(True),
    ]
    for w_in, w_out in zip(widths, widths[1:]):
        layers += _up(w_in, w_out)
    layers += [nn.ConvTranspose2d(widths[-1], c.channels, 4, 2, 1, bias=False), nn.Tanh()]
    g = Generator(c, nn.Sequential(Reshape(c.latent_dim, 1, 1), *layers))
    dcgan_init(g)
    return g


def _dcgan_discriminator(c: ModelConfig) -> nn.Module:
    start, n_down = _plan("dcgan", DCGAN_PLANS, c.image_size)
    widths = [c.ndf * 2 ** i for i in range(n_down)]
    layers = _down(c.channels, widths[0], batchnorm=False)  # no BN on D's input layer
    for w_in, w_out in zip(widths, widths[1:]):
        layers += _down(w_in, w_out)
    layers.append(nn.Conv2d(widths[-1], 1, start, 1, 0, bias=False))  # start x start -> 1 score
    d = Discriminator(c, nn.Sequential(*layers))
    dcgan_init(d)
    return d


register_preset(Preset(
    name="dcgan",
    description="Radford et al. 2016: 4x4 fractionally-strided convs + BatchNorm + ReLU in G, tanh "
    "output; strided convs + LeakyReLU 0.2 in D (no BN on its input layer); N(0, 0.02) init; "
    "Adam 2e-4, beta1 0.5.",
    image_sizes=tuple(DCGAN_PLANS),
    defaults=TrainDefaults(batch_size=128, lr=2e-4, betas=(0.5, 0.999), latent_dim=100, ngf=64, ndf=64),
    build_generator=_dcgan_generator,
    build_discriminator=_dcgan_discriminator,
    source="Radford, Metz & Chintala, ICLR 2016",
    init=dcgan_init,
))


# --- small: a narrow DCGAN for live training on a CPU ----------------------------------------------
# The convolutions are DCGAN's; the fully-connected hidden layers come from InfoGAN's MNIST networks
# (Chen et al. 2016, appendix C.1). With only two strided convolutions, D's last layer is a linear
# function of 10x10-pixel patches: it can tell a stroke from noise but not a digit from a squiggle
# that joins half a 4 to half a 9. A hidden layer over all the patches lets D judge the whole
# digit, and one before G's convolutions lets G draw whole digits. InfoGAN uses 1024 units in both;
# here G has 256 and D 128 (as good as 256 in D on mnist5k, and faster). Measured on mnist5k
# (BENCHMARKS.md, time to quality): classifier confidence ~0.8 after ~1,000 steps, vs a plateau of
# ~0.6 without.

def _fc(n_in: int, n_out: int, activation: nn.Module) -> list[nn.Module]:
    """Linear (no bias: BatchNorm has one), BatchNorm, activation."""
    return [nn.Linear(n_in, n_out, bias=False), nn.BatchNorm1d(n_out), activation]


# 7 -> 14 -> 28, 8 -> 16 -> 32, 8 -> ... -> 64: every size starts at 7 or 8 pixels, so the fully-connected
# layers stay the same size; 64 px adds one block (and doubles the widths before it, as DCGAN does).
SMALL_PLANS = {28: (7, 2), 32: (8, 2), 64: (8, 3)}


def _small_generator(c: ModelConfig) -> nn.Module:
    start, n_up = _plan("small", SMALL_PLANS, c.image_size)
    widths = [c.ngf * 2 ** i for i in reversed(range(n_up))]  # default ngf 32: 64 -> 32 feature maps at 28 px
    hidden = _fc(c.latent_dim, c.fc_width, nn.ReLU(True)) if c.fc_width else []
    layers: list[nn.Module] = [
        *hidden,
        *_fc(c.fc_width or c.latent_dim, widths[0] * start * start, nn.ReLU(True)),
        Reshape(widths[0], start, start),
    ]
    for w_in, w_out in zip(widths, widths[1:]):
        layers += _up(w_in, w_out)
    layers += [nn.ConvTranspose2d(widths[-1], c.channels, 4, 2, 1), nn.Tanh()]
    g = Generator(c, nn.Sequential(*layers))
    dcgan_init(g)
    return g


def _small_discriminator(c: ModelConfig) -> nn.Module:
    # ndf default 16: as good as 32 in steps to good digits and ~1.4x faster per step (BENCHMARKS.md)
    start, n_down = _plan("small", SMALL_PLANS, c.image_size)
    widths = [c.ndf * 2 ** i for i in range(n_down)]
    layers = _down(c.channels, widths[0], batchnorm=False)
    for w_in, w_out in zip(widths, widths[1:]):
        layers += _down(w_in, w_out)
    flat = widths[-1] * start * start
    hidden = _fc(flat, c.d_fc_width, nn.LeakyReLU(0.2, True)) if c.d_fc_width else []
    d = Discriminator(c, nn.Sequential(*layers, nn.Flatten(), *hidden, nn.Linear(c.d_fc_width or flat, 1)))
    dcgan_init(d)
    return d


register_preset(Preset(
    name="small",
    description="A narrow DCGAN (two up/down-sampling blocks; three at 64 px) with a fully-connected hidden "
    "layer in G and in D, as in InfoGAN's MNIST networks; learns recognisable MNIST digits in about a "
    "minute on a laptop CPU, and colour images at 32 or 64 px.",
    image_sizes=tuple(SMALL_PLANS),
    # lr 1e-3 rather than DCGAN's 2e-4: measured on mnist5k, faster to good digits (BENCHMARKS.md,
    # time to quality). G_ema (decay 0.999) is for the samples.
    defaults=TrainDefaults(batch_size=64, lr=1e-3, betas=(0.5, 0.999), latent_dim=64, ngf=32, ndf=16,
                           fc_width=256, ema=0.999),
    build_generator=_small_generator,
    build_discriminator=_small_discriminator,
    source="GAN Classroom (DCGAN guidelines, narrowed; fully-connected layers after InfoGAN, Chen et al. 2016)",
    init=dcgan_init,
))


# --- public API --------------------------------------------------------------------------------------

def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except (KeyError, TypeError):  # TypeError: an unhashable value from a hostile config
        raise ConfigError("errors.models.unknown_preset", name=repr(name), choices=", ".join(PRESETS)) from None


def preset_defaults(preset: str, ablations: tuple[str, ...] = ()) -> TrainDefaults:
    """The preset's training defaults, as the ablations change them (e.g. beta1 = 0.9)."""
    return ablated_defaults(get_preset(preset).defaults, ablations)


def default_model_config(preset: str, image_size: int | None = None, channels: int = 1,
                         ablations: tuple[str, ...] = ()) -> ModelConfig:
    """The preset's default configuration (first supported size unless one is given)."""
    p = get_preset(preset)
    d = preset_defaults(preset, ablations)
    return ModelConfig(preset=preset, image_size=image_size or p.image_sizes[0], channels=channels,
                       latent_dim=d.latent_dim, ngf=d.ngf, ndf=d.ndf, fc_width=d.fc_width, ablations=ablations)



def validate_model_config(c: ModelConfig) -> None:
    """Raise ``ConfigError`` (a ``ValueError``) with a plain sentence if this configuration cannot be built.

    The last check is the memory the weights would take (``model_footprint``), computed without
    building anything, so a hostile config asking for a 6 GB model costs nothing.
    """
    p = get_preset(c.preset)
    for name in ("image_size", "channels", "latent_dim", "ngf", "ndf", "fc_width"):
        if not is_whole(getattr(c, name)):
            raise ConfigError("errors.models.not_whole_number", name=name, value=repr(getattr(c, name)))
    if c.image_size not in p.image_sizes:
        sizes = ", ".join(str(s) for s in p.image_sizes)
        raise ConfigError("errors.models.image_size", preset=c.preset, sizes=sizes, size=c.image_size)
    for name in ("channels", "latent_dim", "ngf", "ndf", "fc_width"):
        reason = MODEL_SETTINGS[name].problem(name, getattr(c, name))
        if reason:
            raise ConfigError(reason.key, **reason.params)
    if c.fc_width and not p.defaults.fc_width:
        raise ConfigError("errors.models.no_fc_layer", preset=c.preset, value=c.fc_width)
    if not isinstance(c.ablations, tuple) or ABLATE.problem("ablations", c.ablations):
        raise ConfigError("errors.ablations.unknown", value=repr(c.ablations)[:80], choices=", ".join(ABLATIONS))
    footprint = model_footprint(c)
    limit = get_limits().max_model_mb
    if footprint.megabytes > limit:
        raise ConfigError("errors.models.too_large", params=f"{footprint.parameters:,}",
                          mb=f"{footprint.megabytes:,.0f}", limit=limit)


@dataclass(frozen=True)
class ModelFootprint:
    """What a configuration's G and D hold, known before any weight is allocated."""

    generator: dict[str, tuple[tuple[int, ...], torch.dtype]]  # state_dict name -> (shape, dtype)
    discriminator: dict[str, tuple[tuple[int, ...], torch.dtype]]
    generator_parameters: list[tuple[int, ...]]  # shapes of G.parameters(), in order (Adam's indices)
    discriminator_parameters: list[tuple[int, ...]]
    parameters: int  # trainable parameters of G and D together
    megabytes: float  # memory of G's and D's state_dicts (float32 weights and buffers), in MiB


def model_footprint(c: ModelConfig) -> ModelFootprint:
    """Every tensor G and D would have, and their memory, from the config alone.

    The builders run on PyTorch's "meta" device, which records shapes and dtypes but allocates no
    memory, so this is exact (it is the real builder) and costs milliseconds even for a model that
    could not fit in memory.
    """
    with torch.device("meta"):
        g, d = build_networks(c)
    shapes = [{k: (tuple(v.shape), v.dtype) for k, v in m.state_dict().items()} for m in (g, d)]
    params = sum(t.numel() for m in (g, d) for t in m.parameters())
    size = sum(t.numel() * t.element_size() for m in (g, d) for t in m.state_dict().values())
    order = [[tuple(t.shape) for t in m.parameters()] for m in (g, d)]
    return ModelFootprint(shapes[0], shapes[1], order[0], order[1], params, size / 2**20)


def build_networks(c: ModelConfig) -> tuple[Generator, Discriminator]:
    """The preset's G and D, then the guidelines ``c.ablations`` break (refused where there is nothing
    to break: checked on the preset's own networks). Not validated: ``build_models`` is the checked
    way; this one also runs on the meta device (``model_footprint``, ``gan_core.run_cost``)."""
    p = get_preset(c.preset)
    g, d = p.build_generator(c), p.build_discriminator(c)
    for name in c.ablations:
        reason = _refusal(name, p, g, d)
        if reason:
            raise ConfigError(reason.key, **reason.params)
    ablate(g, d, c.ablations, Build(p.init or (lambda module: None), p.defaults))
    return g, d


def _refusal(name: str, p: Preset, g: nn.Module, d: nn.Module) -> LocalizedText | None:
    """Why the ablation ``name`` has nothing to break in the preset's own G and D (None: it has)."""
    return ABLATIONS[name].not_for(p.name, p.defaults, g, d)


def ablations_for(preset: str) -> list[str]:
    """The ablations the preset can take (in registry order): those with something to break in its
    networks (the TF tutorial's D has no BatchNorm, so no no-bn-d). Built on the "meta" device: no
    weights allocated."""
    p = get_preset(preset)
    with torch.device("meta"):
        c = default_model_config(preset)
        g, d = p.build_generator(c), p.build_discriminator(c)
    return [name for name in ABLATIONS if _refusal(name, p, g, d) is None]


def build_models(config: ModelConfig) -> tuple[Generator, Discriminator]:
    """Build (G, D) for a configuration, freshly initialised."""
    validate_model_config(config)
    return build_networks(config)


def build_generator(config: ModelConfig) -> Generator:
    """Build G alone (to load a generator's weights into), with its ablations."""
    validate_model_config(config)
    return build_networks(config)[0]


def layer_label(m: nn.Module) -> str:
    """A short, readable name for one layer, e.g. 'ConvTranspose2d 128→64, 5x5, stride 2'."""
    kind = type(m).__name__
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        return f"{kind} {m.in_channels}→{m.out_channels}, {m.kernel_size[0]}x{m.kernel_size[1]}, stride {m.stride[0]}"
    if isinstance(m, nn.Linear):
        return f"{kind} {m.in_features}→{m.out_features}"
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return f"{kind}({m.num_features})"
    if isinstance(m, nn.LeakyReLU):
        return f"LeakyReLU({m.negative_slope:g})"
    if isinstance(m, nn.Dropout):
        return f"Dropout({m.p:g})"
    if isinstance(m, Reshape):
        return f"Reshape{m.shape}"
    return kind


def describe(model: nn.Module, input_shape: tuple[int, ...]) -> list[dict]:
    """The model as a table: one row per layer with its output shape and parameter count.

    ``input_shape`` excludes the batch dimension, e.g. (latent_dim,) for G or (1, 28, 28) for D.
    The total is the sum of the ``params`` column.
    """
    rows: list[dict] = []
    hooks = []
    leaves = [(n, m) for n, m in model.named_modules() if not list(m.children())]

    def hook(name: str, module: nn.Module):
        def fn(_m, _inp, out):
            rows.append({
                "layer": layer_label(module),
                "output_shape": tuple(out.shape[1:]),
                "params": sum(p.numel() for p in module.parameters(recurse=False)),
            })
        return fn

    for name, m in leaves:
        hooks.append(m.register_forward_hook(hook(name, m)))
    was_training = model.training
    try:
        model.eval()
        p = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros((2, *input_shape), device=p.device, dtype=p.dtype))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
