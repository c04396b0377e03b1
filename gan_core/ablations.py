"""DCGAN's guidelines as switches: each ablation breaks exactly one of them, relative to a preset.

Radford, Metz & Chintala (2016), section 3, "Architecture guidelines for stable Deep Convolutional GANs":

    • Replace any pooling layers with strided convolutions (discriminator) and fractional-strided
      convolutions (generator).
    • Use batchnorm in both the generator and the discriminator.
    • Remove fully connected hidden layers for deeper architectures.
    • Use ReLU activation in generator for all layers except for the output, which uses Tanh.
    • Use LeakyReLU activation in the discriminator for all layers.

and, for training, Adam with lr 0.0002 and β1 = 0.5 ("β1 at the suggested value of 0.9 resulted in
training oscillation and instability").

An ablation is applied to the networks a preset builds (``gan_core.models`` calls ``ablate``), so the
rest of the model is the preset's, layer for layer, with the same initial weights for the same seed
wherever a layer is unchanged; a replaced layer is initialised as the preset initialises its own. The
names are stored in the checkpoint's model config, so a checkpoint rebuilds the model it was trained
with. An ablation that has nothing to break in a preset (the TF tutorial's D has no BatchNorm) is
refused with a sentence, never silently a no-op. Adding one touches only this file (and its catalog
texts ``ablations.<name>``).

    python -m gan_core train --preset dcgan --ablate no-bn-g --out runs/no-bn-g
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

import torch
from torch import nn

from gan_core.i18n import LocalizedText
from gan_core.registry import Registry



@dataclass(frozen=True)
class Build:
    """What a surgery needs to know about the preset: how it initialises a layer, and its own defaults
    (before any ablation changed them)."""

    init: Callable[[nn.Module], None]
    preset_defaults: object  # gan_core.models.TrainDefaults


Surgery = Callable[[nn.Sequential, Build], None]  # changes the net in place


@dataclass(frozen=True)
class Ablation:
    """One broken guideline. ``generator``/``discriminator`` change the built ``nn.Sequential`` in place;
    ``defaults`` changes the preset's training defaults; ``not_for`` says why a preset has nothing to
    break (None when it has); ``conflict`` why a resolved setting contradicts the ablation."""

    name: str
    generator: Surgery | None = None
    discriminator: Surgery | None = None
    defaults: Callable[[object], object] | None = None  # TrainDefaults -> TrainDefaults
    not_for: Callable[[str, object, nn.Module, nn.Module], LocalizedText | None] = lambda *a: None
    conflict: Callable[[object, object], LocalizedText | None] = lambda config, defaults: None

    @property
    def guideline(self) -> LocalizedText:
        """The guideline it breaks, in the reader's language (catalog ``ablations.<name>``, with
        ``_`` for each character of the name that is not a letter or digit)."""
        return LocalizedText("ablations." + re.sub(r"[^a-z0-9]", "_", self.name))

    @property
    def short(self) -> LocalizedText:
        """A few words for a narrow place (a chip, a table cell): catalog ``ablations.short.<name>``."""
        return LocalizedText("ablations.short." + re.sub(r"[^a-z0-9]", "_", self.name))


ABLATIONS: Registry[Ablation] = Registry("ablation")


def register_ablation(ablation: Ablation) -> Ablation:
    """Add an ablation under its name (a taken name is refused with a ``ValueError``)."""
    return ABLATIONS.register(ablation)


# --- surgery helpers ------------------------------------------------------------------------------

def _replace_all(net: nn.Module, wanted: type | tuple[type, ...], make: Callable[[nn.Module], nn.Module]) -> int:
    """Replace every submodule of type ``wanted`` (at any depth) by ``make(old)``; return how many."""
    n = 0
    for name, child in net.named_children():
        if isinstance(child, wanted):
            setattr(net, name, make(child))
            n += 1
        else:
            n += _replace_all(child, wanted, make)
    return n


def _out_units(layer: nn.Module) -> int:
    return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels


def _without_batchnorm(net: nn.Sequential, b: Build) -> None:
    """Each BatchNorm becomes the identity; the layer before it, built without a bias (BatchNorm's
    shift made it redundant), gets one (zero), as a network designed without BatchNorm would have."""
    layers = list(net)
    for i, m in enumerate(layers):
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            before = layers[i - 1] if i else None
            if isinstance(before, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)) and before.bias is None:
                before.bias = nn.Parameter(torch.zeros(_out_units(before), device=before.weight.device))
            net[i] = nn.Identity()


def _has(net: nn.Module, kind: type | tuple[type, ...]) -> bool:
    return any(isinstance(m, kind) for m in net.modules())


def _relu_instead_of_leaky(net: nn.Sequential, b: Build) -> None:
    _replace_all(net, nn.LeakyReLU, lambda old: nn.ReLU(inplace=old.inplace))


def _same_padding_kernel(k: int) -> tuple[int, int]:
    """A stride-1 kernel that keeps H and W: the same odd size (5 -> 5, pad 2), or 3 for an even one."""
    k = k if k % 2 else k - 1
    return k, k // 2


def _pooling_instead_of_strides(net: nn.Sequential, b: Build) -> None:
    """Every 2x resampling by a stride becomes a fixed one: a stride-1 convolution then 2x2 average
    pooling in D; nearest-neighbour 2x upsampling then a stride-1 convolution in G."""
    def down(old: nn.Conv2d) -> nn.Module:
        if old.stride != (2, 2):
            return old
        k, pad = _same_padding_kernel(old.kernel_size[0])
        new = nn.Sequential(nn.Conv2d(old.in_channels, old.out_channels, k, 1, pad, bias=old.bias is not None),
                            nn.AvgPool2d(2))
        b.init(new)
        return new

    def up(old: nn.ConvTranspose2d) -> nn.Module:
        if old.stride != (2, 2):
            return old
        k, pad = _same_padding_kernel(old.kernel_size[0])
        new = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                            nn.Conv2d(old.in_channels, old.out_channels, k, 1, pad, bias=old.bias is not None))
        b.init(new)
        return new

    _replace_all(net, nn.Conv2d, down)
    _replace_all(net, nn.ConvTranspose2d, up)


class SigmoidImage(nn.Module):
    """2·sigmoid(x) − 1: a sigmoid output stretched to the images' range [-1, 1] (equal to tanh(x/2))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * torch.sigmoid(x) - 1


def _sigmoid_output(net: nn.Sequential, b: Build) -> None:
    assert isinstance(net[-1], nn.Tanh), "every preset's G ends in Tanh"
    net[-1] = SigmoidImage()


G_HIDDEN, D_HIDDEN = 256, 128  # the small preset's fully-connected widths (InfoGAN's layout, narrowed)


def _add_generator_fc(net: nn.Sequential, b: Build) -> None:
    """z -> Linear(G_HIDDEN) -> BatchNorm -> ReLU before G's first layer, which now takes G_HIDDEN inputs."""
    from gan_core.models import Reshape

    i = next(i for i, m in enumerate(net) if isinstance(m, (nn.Linear, nn.ConvTranspose2d)))
    first = net[i]
    latent = first.in_features if isinstance(first, nn.Linear) else first.in_channels
    if isinstance(first, nn.Linear):
        new_first = nn.Linear(G_HIDDEN, first.out_features, bias=first.bias is not None)
    else:
        new_first = nn.ConvTranspose2d(G_HIDDEN, first.out_channels, first.kernel_size, first.stride, first.padding,
                                       bias=first.bias is not None)
    hidden = [nn.Linear(latent, G_HIDDEN, bias=False), nn.BatchNorm1d(G_HIDDEN), nn.ReLU(True)]
    layers = list(net)
    before = [Reshape(G_HIDDEN, 1, 1) if isinstance(m, Reshape) else m for m in layers[:i]]  # dcgan's z as 1x1
    rebuilt = [*hidden, *before, new_first, *layers[i + 1:]]
    for m in [*hidden, new_first]:
        b.init(m)
    _refill(net, rebuilt)


def _add_discriminator_fc(net: nn.Sequential, b: Build) -> None:
    """D's last layer (features -> score) becomes features -> Linear(D_HIDDEN) -> LeakyReLU -> Linear(1)."""
    last = net[-1]
    if isinstance(last, nn.Linear):
        n_in, flatten = last.in_features, []
    else:  # dcgan: a convolution over the whole last feature map
        n_in, flatten = last.in_channels * last.kernel_size[0] * last.kernel_size[1], [nn.Flatten()]
    slope = next((m.negative_slope for m in net if isinstance(m, nn.LeakyReLU)), 0.2)
    new = [*flatten, nn.Linear(n_in, D_HIDDEN), nn.LeakyReLU(slope, True), nn.Linear(D_HIDDEN, 1)]
    for m in new:
        b.init(m)
    _refill(net, [*list(net)[:-1], *new])


def _refill(net: nn.Sequential, layers: list[nn.Module]) -> None:
    for name in list(net._modules):
        del net._modules[name]
    for i, m in enumerate(layers):
        net.add_module(str(i), m)


# --- the registry ----------------------------------------------------------------------------------

def _needs(kind: type | tuple[type, ...], where: str, key: str):
    def not_for(preset: str, defaults, g: nn.Module, d: nn.Module) -> LocalizedText | None:
        return None if _has(g if where == "G" else d, kind) else LocalizedText(key, preset=preset)
    return not_for


register_ablation(Ablation(
    "no-bn-g", generator=_without_batchnorm,
    not_for=_needs((nn.BatchNorm1d, nn.BatchNorm2d), "G", "errors.ablations.no_bn_g")))
register_ablation(Ablation(
    "no-bn-d", discriminator=_without_batchnorm,
    not_for=_needs((nn.BatchNorm1d, nn.BatchNorm2d), "D", "errors.ablations.no_bn_d")))
register_ablation(Ablation(
    "relu-d", discriminator=_relu_instead_of_leaky,
    not_for=_needs(nn.LeakyReLU, "D", "errors.ablations.relu_d")))
register_ablation(Ablation("pooling", generator=_pooling_instead_of_strides, discriminator=_pooling_instead_of_strides))
register_ablation(Ablation("sigmoid-output", generator=_sigmoid_output))


def _fc_defaults(d):
    return replace(d, fc_width=0)  # a preset with hidden layers (small) loses them; others keep 0


def _fc_generator(net: nn.Sequential, b: Build) -> None:
    if not b.preset_defaults.fc_width:  # a preset with hidden layers lost them already (fc_width 0)
        _add_generator_fc(net, b)


def _fc_discriminator(net: nn.Sequential, b: Build) -> None:
    if not b.preset_defaults.fc_width:
        _add_discriminator_fc(net, b)


def _fc_conflict(config, defaults) -> LocalizedText | None:
    if config.fc_width:  # --fc-width given with an ablation that removes or adds the hidden layer itself
        return LocalizedText("errors.ablations.fc_width", value=config.fc_width)
    return None


register_ablation(Ablation("fc-hidden", generator=_fc_generator, discriminator=_fc_discriminator,
                           defaults=_fc_defaults, conflict=_fc_conflict))


def _beta_defaults(d):
    return replace(d, betas=(0.9, d.betas[1]))


def _beta_not_for(preset: str, defaults, g, d) -> LocalizedText | None:
    return LocalizedText("errors.ablations.beta1", preset=preset) if defaults.betas[0] == 0.9 else None


def _beta_conflict(config, defaults) -> LocalizedText | None:
    if config.betas_d[0] != 0.9 or config.betas_g[0] != 0.9:
        return LocalizedText("errors.ablations.beta1_given", value=f"{config.betas_d[0]:g}")
    return None


register_ablation(Ablation("adam-beta1-0.9", defaults=_beta_defaults, not_for=_beta_not_for,
                           conflict=_beta_conflict))


# --- applying them ----------------------------------------------------------------------------------

def canonical_ablations(names) -> tuple[str, ...]:
    """``names`` once each, in registry order (so that the same ablations always compare equal); a
    value that is not a list of names is returned as it is, for validation to refuse."""
    if not isinstance(names, (tuple, list)) or not all(isinstance(n, str) for n in names):
        return names
    return tuple(n for n in ABLATIONS if n in names) + tuple(n for n in dict.fromkeys(names) if n not in ABLATIONS)


def ablated_defaults(defaults, names: tuple[str, ...]):
    """The preset's training defaults with each ablation's change (e.g. β1 = 0.9)."""
    for name in names if isinstance(names, (tuple, list)) else ():
        a = ABLATIONS.get(name)
        if a is not None and a.defaults is not None:
            defaults = a.defaults(defaults)
    return defaults


def ablate(generator: nn.Module, discriminator: nn.Module, names: tuple[str, ...], build: Build) -> None:
    """Apply the ablations ``names`` to a freshly built G and D (in place, on ``.net``)."""
    for name in names:
        a = ABLATIONS[name]
        if a.generator is not None:
            a.generator(generator.net, build)
        if a.discriminator is not None:
            a.discriminator(discriminator.net, build)
