"""Training on images: ``Trainer`` runs Algorithm 1 of Goodfellow et al. 2014 (``gan_core.algorithm1``).

``Trainer.d_step()`` and ``Trainer.g_step()`` are its two updates on minibatches of the dataset;
``Trainer.step()`` is one outer iteration (k D steps, one G step) and returns a ``StepReport``;
``Trainer.single_update("d" | "g" | "iteration")`` walks it one line at a time. The
trainer keeps no record of past steps: callers (the CLI's metrics.csv, the app's worker, the bench)
keep what they need from the reports. ``Trainer.on_phase`` tells a caller which update is about to run. After it, and outside
Algorithm 1, the trainer updates ``G_ema``: an exponential moving average of G's weights (when
``TrainConfig.ema`` is on), which sample grids, ``generate()`` and saved checkpoints use. Averaging is
known to smooth out the generator's oscillation (Yazıcı et al. 2019); on mnist5k with the ``small``
preset it measured about the same as G itself (BENCHMARKS.md).

The trainer is plain and single-threaded; ``gan_core.worker`` runs it in a background thread for the app.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, fields, replace
from typing import Callable
import torch
from torch import nn

from gan_core.algorithm1 import MAX_ABS_LOSS, PRIORS, Algorithm1, TrainingDiverged, render, sample_prior
from gan_core.device import DEVICE_CHOICES, select_device, to_device
from gan_core.distributed import SINGLE, Distributed, mean_over_ranks, rank_slice, wrap
from gan_core.precision import choose_precision
from gan_core.run_cost import check_run_cost
from gan_core.data.datasets import DatasetError, to_float_images
from gan_core.losses import LOSSES, get_loss
from gan_core.ablations import ABLATIONS, canonical_ablations
from gan_core.models import (ABLATE, CHANNELS, FC_WIDTH, IMAGE_SIZE, LATENT_DIM, NDF, NGF, PRESET, ConfigError,
                             ModelConfig, build_models, preset_defaults, validate_model_config)
from gan_core.settings import SEED, Setting, check_fields, setting

# BatchNorm normalises over the minibatch, so it needs two images to compute a variance.
MIN_IMAGES = 2
SINGLE_UPDATES = ("d", "g", "iteration")  # Trainer.single_update: one D step, one G step, one iteration


def _pair(value):
    """Betas as a tuple; anything that is not a list or tuple is left for ``validate`` to refuse."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


# How long a run is, the same on the page and the command line. 10^7 steps: metrics.csv keeps one row
# per step (~70 bytes), so ~700 MB, days of CPU training; longer runs are more runs. 10^4 epochs of the
# largest offline dataset fit in those steps.
STEPS = Setting("int", 1, 10_000_000, label="train.steps", help="settings.help.steps", flag="--steps", url="steps",
                widget="number", step=100)
EPOCHS = Setting("float", 0.01, 10_000.0, label="train.epochs", help="settings.help.epochs", flag="--epochs",
                 url="epochs", widget="number", step=1.0)


def steps_for_epochs(epochs: float, n_images: int, batch_size: int, k: int = 1) -> int:
    """Generator steps that make ``epochs`` passes over the data (each step uses k real batches).

    The one conversion the command line (``--epochs``) and the training page share; a part pass
    rounds up, so the run covers at least ``epochs`` of the data."""
    return max(1, math.ceil(epochs * n_images / (batch_size * k)))


# Ranges, justified where they are not the obvious ones: batch >= 2 because BatchNorm needs two images
# for a variance; lr in [1e-6, 10] (below, nothing moves in the steps a class runs; above, Adam's first
# step already diverges); label smoothing <= 0.45 (at 0.5 the real target is a coin toss, D has nothing
# to learn); shift <= 16 px (a quarter of the largest image; ``validate`` ties it to the image size).
_P = "settings.help."


@dataclass
class TrainConfig:
    """Hyper-parameters of one run. ``None`` means "the preset's default" (see ``resolved``).

    Each field declares its range, help text, flag and widget once (``gan_core.settings``);
    ``validate``, the ``train`` command's flags and the training page are built from them."""

    preset: str = setting("small", PRESET)
    dataset: str = setting("mnist5k", Setting("text", label="train.dataset", help=_P + "dataset", flag="--dataset",
                                              url="dataset", widget="select"))
    image_size: int = setting(28, IMAGE_SIZE)
    channels: int = setting(1, CHANNELS)
    latent_dim: int | None = setting(None, LATENT_DIM)
    ngf: int | None = setting(None, NGF)
    ndf: int | None = setting(None, NDF)
    fc_width: int | None = setting(None, FC_WIDTH)  # G's fully-connected hidden units, half as many in D
    ablations: tuple[str, ...] = setting((), ABLATE)  # DCGAN guidelines broken on purpose (gan_core.ablations)
    batch_size: int | None = setting(None, Setting("int", 2, 4096, label="train.batch_size", help=_P + "batch_size",
                                                   flag="--batch-size", url="batch", widget="number"))
    k: int = setting(1, Setting("int", 1, 100, label="train.k", help=_P + "k", flag="--k", url="k", widget="number"))
    loss: str = setting("non-saturating", Setting("choice", choices=lambda: list(LOSSES), label="train.loss",
                                                  help=_P + "loss", flag="--loss", url="loss", widget="select"))
    lr_d: float | None = setting(None, Setting("float", 1e-6, 10.0, label="settings.label.lr_d", help=_P + "lr_d",
                                               flag="--lr-d", url="lr_d", widget="number", step=1e-5,
                                               format="%.5f"))
    lr_g: float | None = setting(None, Setting("float", 1e-6, 10.0, label="settings.label.lr_g", help=_P + "lr_g",
                                               flag="--lr-g", url="lr_g", widget="number", step=1e-5,
                                               format="%.5f"))
    # Adam's (beta1, beta2); the command line's --beta1 sets beta1 of both (``gan_core.cli.train``).
    betas_d: tuple[float, float] | None = setting(None, Setting("float_pair", 0.0, 0.9999, label="settings.label.betas_d",
                                                                help=_P + "betas", url=("beta1_d", "beta2_d"),
                                                                widget="pair", format="%.4f"))
    betas_g: tuple[float, float] | None = setting(None, Setting("float_pair", 0.0, 0.9999, label="settings.label.betas_g",
                                                                help=_P + "betas", url=("beta1_g", "beta2_g"),
                                                                widget="pair", format="%.4f"))
    prior: str = setting("normal", Setting("choice", choices=lambda: list(PRIORS), label="train.prior",
                                           help=_P + "prior", flag="--prior", url="prior", widget="select"))
    label_smoothing: float = setting(0.0, Setting("float", 0.0, 0.45, label="train.label_smoothing",
                                                  help=_P + "label_smoothing", flag="--label-smoothing",
                                                  url="smoothing", widget="slider", step=0.05))
    ema: float | None = setting(None, Setting("float", 0.0, 0.9999, help=_P + "ema", flag="--ema"))
    # The G step reuses the D step's G(z) instead of drawing fresh z and running G again, as
    # pytorch/examples' DCGAN does: one G forward per iteration instead of two. None: on when k = 1
    # (the only case where it applies); False (--fresh-noise) keeps Algorithm 1's separate noise batch.
    reuse_fake: bool | None = setting(None, Setting("bool", label="train.reuse_fake", help=_P + "reuse_fake",
                                                    flag="--fresh-noise", flag_value=False, url="reuse",
                                                    widget="checkbox"))
    shift: int | None = setting(None, Setting("int", 0, 16, help=_P + "shift", flag="--shift"))
    # Convolutions in channels-last memory layout (NHWC): faster on GPUs with tensor cores; the numbers
    # are the same to float rounding. Off by default (on this project's 2-core CPU it does not help).
    channels_last: bool | None = setting(None, Setting("bool", help=_P + "channels_last", flag="--channels-last"))
    # Mixed precision (gan_core.precision): bfloat16 forward passes on GPUs and CPUs that have it,
    # float16 with gradient scaling on older GPUs; float32 elsewhere. Off by default.
    amp: bool | None = setting(None, Setting("bool", help=_P + "amp", flag="--amp"))
    seed: int = setting(0, SEED)
    device: str = setting("auto", Setting("choice", choices=DEVICE_CHOICES, label="train.device", help=_P + "device",
                                          flag="--device", url="device", widget="select"))
    # size of the fixed noise batch used for sample grids (None: the preset's)
    n_fixed: int | None = setting(None, Setting("int", 1, 1024))

    def resolved(self) -> "TrainConfig":
        """A copy with every ``None`` filled from the preset's defaults (as its ablations change them),
        validated; the ablations in registry order."""
        d = preset_defaults(self.preset, self.ablations)
        c = replace(
            self,
            ablations=canonical_ablations(self.ablations),
            latent_dim=self.latent_dim if self.latent_dim is not None else d.latent_dim,
            ngf=self.ngf if self.ngf is not None else d.ngf,
            ndf=self.ndf if self.ndf is not None else d.ndf,
            fc_width=self.fc_width if self.fc_width is not None else d.fc_width,
            batch_size=self.batch_size if self.batch_size is not None else d.batch_size,
            lr_d=self.lr_d if self.lr_d is not None else d.lr,
            lr_g=self.lr_g if self.lr_g is not None else d.lr,
            betas_d=_pair(self.betas_d) if self.betas_d is not None else d.betas,
            betas_g=_pair(self.betas_g) if self.betas_g is not None else d.betas,
            ema=self.ema if self.ema is not None else d.ema,
            shift=self.shift if self.shift is not None else d.shift,
            n_fixed=self.n_fixed if self.n_fixed is not None else d.grid_size,
            reuse_fake=self.reuse_fake if self.reuse_fake is not None else self.k == 1,
            channels_last=bool(self.channels_last) if self.channels_last in (None, True, False) else self.channels_last,
            amp=bool(self.amp) if self.amp in (None, True, False) else self.amp,
        )
        c.validate()
        return c

    def validate(self) -> None:
        """Raise ``ConfigError`` (a ``ValueError``) with a plain sentence for any setting that cannot work:
        each field against its declaration, then what depends on several fields."""
        check_fields(self, ConfigError)
        validate_model_config(self.model_config())
        if self.shift > self.image_size // 4:
            raise ConfigError("errors.train.shift", high=self.image_size // 4, value=self.shift)
        if self.reuse_fake and self.k != 1:
            raise ConfigError("errors.train.reuse_fake", k=self.k)
        for name in self.ablations:  # a setting given that undoes an ablation (--beta1 0.5 with adam-beta1-0.9)
            reason = ABLATIONS[name].conflict(self, preset_defaults(self.preset))
            if reason:
                raise ConfigError(reason.key, **reason.params)

    def model_config(self) -> ModelConfig:
        d = preset_defaults(self.preset, self.ablations)
        pick = lambda value, default: default if value is None else value  # noqa: E731
        return ModelConfig(self.preset, self.image_size, self.channels, pick(self.latent_dim, d.latent_dim),
                           pick(self.ngf, d.ngf), pick(self.ndf, d.ndf), pick(self.fc_width, d.fc_width),
                           canonical_ablations(self.ablations))

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("betas_d", "betas_g", "ablations"):
            if out[key] is not None:
                out[key] = list(out[key])
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """Build from a dict (e.g. a checkpoint's JSON), ignoring unknown keys.

        Only the shape is checked here (a dict, betas as pairs); ``resolved()`` checks the values.
        """
        if not isinstance(data, dict):
            raise ConfigError("errors.train.not_a_table", value=type(data).__name__)
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        for key in ("betas_d", "betas_g", "ablations"):
            if kwargs.get(key) is not None:
                if not isinstance(kwargs[key], (list, tuple)):
                    raise ConfigError("errors.train.betas" if key != "ablations" else "errors.ablations.unknown",
                                      name=key, value=repr(kwargs[key])[:80], choices=", ".join(ABLATIONS))
                kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


@dataclass
class StepReport:
    """What one outer iteration of Algorithm 1 did (the numbers the app charts)."""

    step: int
    epoch: float
    loss_d: float
    loss_g: float
    d_real: float  # mean D(x) over the last real batch
    d_fake: float  # mean D(G(z)) over the last fake batch (as D saw it in its last step)
    images_per_sec: float  # real images consumed per second in this step
    elapsed: float  # seconds of training so far

    def to_dict(self) -> dict:
        return asdict(self)


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by its own random (dy, dx) in [-max_shift, max_shift], filling with -1 (black).

    Differentiable augmentation (Zhao et al. 2020, "DiffAugment"): D only ever sees shifted images,
    real and fake alike, so it cannot memorise the exact pixels of a small training set, and G's
    gradient flows through the shift. The generated images themselves are never shifted.
    """
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    padded = nn.functional.pad(x, [max_shift] * 4, value=-1.0)
    dy, dx = to_device(torch.randint(0, 2 * max_shift + 1, (2, n, 1, 1), generator=generator), x.device)
    rows = (torch.arange(h, device=x.device)[None, :, None] + dy).expand(n, h, w)
    cols = (torch.arange(w, device=x.device)[None, None, :] + dx).expand(n, h, w)
    batch = torch.arange(n, device=x.device)[:, None, None].expand(n, h, w)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def _all_finite(module: nn.Module) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in module.state_dict().values() if t.is_floating_point())


class Trainer:
    """Algorithm 1 on an ``ImageDataset`` (anything with ``.images`` (N, C, H, W): uint8 pixels or floats in [-1, 1])."""

    snapshot_every = 50  # steps between copies of the weights kept for recovery from NaN

    def __init__(self, config: TrainConfig, dataset, device: torch.device | str | None = None,
                 distributed: Distributed = SINGLE, sync_batchnorm: bool = True) -> None:
        """``distributed``: this process's rank in a torchrun job (``gan_core.distributed``); the job
        trains one model on the global ``batch_size``, each rank on its slice, with BatchNorm
        synchronised across ranks when ``sync_batchnorm`` and the device allow it."""
        self.config = config.resolved()
        c = self.config
        self.distributed = distributed
        if c.batch_size % distributed.world_size:
            raise ConfigError("errors.train.batch_per_rank", batch=c.batch_size, world=distributed.world_size)
        self.rank_batch = c.batch_size // distributed.world_size  # this rank's share of the minibatch m
        check_run_cost(c.model_config(), self.rank_batch)  # before anything is allocated (GAN_MAX_RUN_MB)
        images = dataset.images
        if images.ndim != 4 or tuple(images.shape[1:]) != (c.channels, c.image_size, c.image_size):
            raise ConfigError("errors.train.image_shape", got=str(tuple(images.shape[1:])),
                              expected=str((c.channels, c.image_size, c.image_size)))
        if len(images) < MIN_IMAGES:
            raise DatasetError("errors.data.too_few_images", name=str(getattr(dataset, "name", "")),
                               n=len(images), minimum=MIN_IMAGES)
        self.dataset = dataset
        self.device = torch.device(device) if device is not None else select_device(c.device)
        self.images = images  # the CPU copy (grids of real images, snapshots)
        # Batches come from a copy on the device when that is a GPU: no host-to-device copy per step
        # (the dataset's size is bounded by GAN_MAX_DATASET_MB). On the CPU the two are one tensor.
        # Datasets keep uint8 pixels: the copy on the GPU is uint8 too, and each batch becomes
        # float32 there (next_real_batch), a quarter of the memory of a float copy.
        self._batch_source = images.to(self.device) if self.device.type in ("cuda", "mps") else images
        self.memory_format = torch.channels_last if c.channels_last else torch.contiguous_format
        self.precision = choose_precision(self.device, c.amp)  # float32 unless --amp (and the device has a fast format)

        torch.manual_seed(c.seed)  # model init and dropout draw from torch's global RNG
        self.G, self.D = build_models(c.model_config())
        self.G.to(self.device, memory_format=self.memory_format)
        self.D.to(self.device, memory_format=self.memory_format)
        # G_ema never trains: update_ema() pulls it towards G after every step (Polyak averaging of
        # the generator, as in Karras et al. 2018 and Yazıcı et al. 2019, "The Unusual Effectiveness
        # of Averaging in GAN Training").
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if c.ema > 0 else None
        # Under torchrun: DistributedDataParallel around each network (gradients averaged over the
        # ranks); self.G / self.D stay the networks themselves (checkpoints, samples, snapshots).
        G_train = wrap(self.G, distributed, self.device, sync_batchnorm)
        D_train = wrap(self.D, distributed, self.device, sync_batchnorm)
        self.G, self.D = getattr(G_train, "module", G_train), getattr(D_train, "module", D_train)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=c.lr_d, betas=c.betas_d)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=c.lr_g, betas=c.betas_g)

        self.rng = torch.Generator().manual_seed(c.seed)  # noise and minibatch order
        self.shift_rng = torch.Generator().manual_seed(c.seed + 2)  # D's random shifts (own stream)
        self.fixed_noise = self.sample_noise(c.n_fixed, torch.Generator().manual_seed(c.seed + 1))
        self.step_count = 0
        self.images_seen = 0
        self.elapsed = 0.0
        # Called before each update with ("d", i) for the i-th of the k D steps, or ("g", 0).
        self.on_phase: Callable[[str, int], None] | None = None
        self._d_steps_in_iteration = 0
        self._order = torch.randperm(len(images), generator=self.rng)
        self._cursor = 0
        self.algorithm = Algorithm1(G_train, D_train, self.opt_g, self.opt_d, get_loss(c.loss),
                                    self._rank_real_batch, self._rank_noise, on_diverged=self._diverged,
                                    augment=self.augment, real_target=1.0 - c.label_smoothing,
                                    reuse_fake=c.reuse_fake,
                                    mean_over_ranks=lambda values: mean_over_ranks(values, distributed),
                                    precision=self.precision)
        self._step_start: dict = {}  # counters at the start of the running step (see _diverged)
        self._snapshot = self._take_snapshot()

    # --- Algorithm 1 on minibatches of images ---------------------------------------------------

    def sample_noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw n latent vectors from the prior p_z (on the CPU for reproducibility, then moved)."""
        return to_device(sample_prior(n, self.config.latent_dim, self.config.prior, generator or self.rng), self.device)

    def next_real_batch(self, b: int) -> torch.Tensor:
        """The next minibatch of b real examples (a fresh shuffle every epoch)."""
        if self._cursor + b > len(self._order):
            self._order = torch.randperm(len(self.images), generator=self.rng)
            self._cursor = 0
        idx = self._order[self._cursor:self._cursor + b]
        self._cursor += b
        self.images_seen += len(idx)
        batch = to_float_images(self._batch_source[to_device(idx, self._batch_source.device)])
        return batch.contiguous(memory_format=self.memory_format)

    def _rank_real_batch(self, m: int) -> torch.Tensor:
        """This rank's m real examples: its slice of the job's next minibatch of m x world_size."""
        return rank_slice(self.next_real_batch(m * self.distributed.world_size), self.distributed)

    def _rank_noise(self, m: int) -> torch.Tensor:
        """This rank's m latent vectors: its slice of the m x world_size the job draws (same on every rank)."""
        return rank_slice(self.sample_noise(m * self.distributed.world_size), self.distributed)

    def augment(self, images: torch.Tensor) -> torch.Tensor:
        """What D sees of a batch: the images themselves, or randomly shifted (``config.shift``)."""
        return random_shift(images, self.config.shift, self.shift_rng)

    def d_step(self) -> dict[str, float]:
        """One discriminator update on the next minibatch: {"loss_d", "d_real", "d_fake"}."""
        self._d_steps_in_iteration += 1
        if self.on_phase is not None:
            self.on_phase("d", self._d_steps_in_iteration)
        return self.algorithm.d_step(self.rank_batch)

    def g_step(self) -> dict[str, float]:
        """One generator update, D fixed: {"loss_g"}. With ``reuse_fake`` on the D step's G(z)."""
        self._d_steps_in_iteration = 0
        if self.on_phase is not None:
            self.on_phase("g", 0)
        return self.algorithm.g_step(self.rank_batch)

    def _iteration(self) -> tuple[dict, dict]:
        """Algorithm 1's outer loop body: k D steps, then one G step; the last D step's and the G step's numbers."""
        self._d_steps_in_iteration = 0
        for _ in range(self.config.k):
            d = self.d_step()
        g = self.g_step()
        self._end_iteration()
        return d, g

    def _end_iteration(self) -> None:
        """After an iteration's G step: the step counter (G steps) moves on, and so does G_ema."""
        self.step_count += 1
        self.update_ema()  # not part of Algorithm 1: a smoothed copy of G for drawing samples

    def single_update(self, kind: str) -> dict[str, float]:
        """Algorithm 1 one line at a time (the app's single steps while paused): ``"d"`` one D step,
        ``"g"`` one G step, which ends the iteration as in ``step()`` (the step counter and ``G_ema``
        move on), or ``"iteration"`` (``step()``). Returns the update's numbers (a lone D step has no
        loss_g, a lone G step no D numbers) and the counters after it: step, epoch, elapsed, and
        images_per_sec (0 for a lone update)."""
        if kind == "iteration":
            return self.step().to_dict()
        if kind not in SINGLE_UPDATES:
            raise ValueError(f"unknown single update {kind!r}; choose one of {', '.join(SINGLE_UPDATES)}")
        self._step_start = {"images_seen": self.images_seen, "cursor": self._cursor, "order": self._order}
        if kind == "d":
            numbers = self.d_step()
        else:
            numbers = self.g_step()
            self._end_iteration()
        return {**numbers, "step": self.step_count, "epoch": self.images_seen / len(self.images),
                "elapsed": self.elapsed, "images_per_sec": 0.0}

    def step(self) -> StepReport:
        """One iteration of Algorithm 1: k discriminator steps, then one generator step."""
        start = time.perf_counter()
        seen_before = self.images_seen
        self._step_start = {"images_seen": seen_before, "cursor": self._cursor, "order": self._order}
        d, g = self._iteration()
        duration = time.perf_counter() - start
        self.elapsed += duration
        report = StepReport(
            step=self.step_count,
            epoch=self.images_seen / len(self.images),
            loss_d=d["loss_d"],
            loss_g=g["loss_g"],
            d_real=d["d_real"],
            d_fake=d["d_fake"],
            images_per_sec=(self.images_seen - seen_before) / max(duration, 1e-9),
            elapsed=self.elapsed,
        )
        if self.step_count % self.snapshot_every == 0:
            self._snapshot = self._take_snapshot()
        return report

    def run_steps(self, n: int) -> list[StepReport]:
        """``n`` iterations of Algorithm 1 without waiting for the device in between (what ``--log-every``
        runs): the losses and D's outputs stay on the device and are read once at the end, and so is the
        divergence check. A GPU queues the whole block instead of stopping after every update to hand
        four numbers to the host. The updates are those of ``step()``, in the same order, so on a fixed
        seed the weights and numbers are the same.

        A NaN, infinite or absurd loss anywhere in the block is found at the end, after the updates
        that followed it: the last snapshot comes back (weights, optimisers, step, counters, random
        streams), which is taken only at the end of a clean block, and ``TrainingDiverged`` says at
        which step it went wrong. Each report's images/s is the block's; its elapsed time is
        interpolated over the block.
        """
        alg = self.algorithm
        start, elapsed_before = time.perf_counter(), self.elapsed
        seen_before, step_before = self.images_seen, self.step_count
        self._step_start = {"images_seen": seen_before, "cursor": self._cursor, "order": self._order}
        numbers, seen = [], []
        alg.defer_checks, alg.pending_losses = True, []
        try:
            for _ in range(n):
                d, g = self._iteration()
                numbers.append(torch.stack([d["loss_d"], g["loss_g"], d["d_real"], d["d_fake"]]))
                seen.append(self.images_seen)
            losses = torch.stack([loss for _, loss in alg.pending_losses])
            # the block's one host synchronisation: every number, and every loss for the divergence check
            read = torch.cat([torch.stack(numbers).reshape(-1), losses.float()]).tolist()
        finally:
            alg.defer_checks = False
        values, checked = read[:4 * n], read[4 * n:]
        per_step = len(checked) // n  # k D losses and one G loss per iteration
        for i, value in enumerate(checked):
            if not (math.isfinite(value) and abs(value) <= MAX_ABS_LOSS):
                who = alg.pending_losses[i][0]
                alg.pending_losses, alg.kept_fake = [], None
                self._restore_snapshot()
                raise TrainingDiverged("errors.train.diverged_restored", at=step_before + i // per_step + 1, who=who,
                                       loss=f"{value:.4g}", step=self.step_count)
        alg.pending_losses = []
        duration = time.perf_counter() - start
        self.elapsed += duration
        rate = (self.images_seen - seen_before) / max(duration, 1e-9)
        reports = [StepReport(step=step_before + i + 1, epoch=seen[i] / len(self.images), loss_d=values[4 * i],
                              loss_g=values[4 * i + 1], d_real=values[4 * i + 2], d_fake=values[4 * i + 3],
                              images_per_sec=rate, elapsed=elapsed_before + duration * (i + 1) / n)
                   for i in range(n)]
        if self.step_count // self.snapshot_every > step_before // self.snapshot_every:
            self._snapshot = self._take_snapshot()  # a clean block: the state is good to come back to
        return reports

    # --- samples --------------------------------------------------------------------------------

    @torch.no_grad()
    def update_ema(self) -> None:
        """G_ema <- d G_ema + (1 - d) G for every weight; BatchNorm's running statistics are copied.

        The decay d warms up as (1 + t) / (10 + t) until it reaches ``config.ema``: at step t the
        average spans roughly the last t / 10 steps, so it forgets the random initial weights early
        on instead of dragging them along for 1 / (1 - d) steps.
        """
        if self.G_ema is None:
            return
        t = self.step_count
        decay = min(self.config.ema, (1 + t) / (10 + t))
        for avg, p in zip(self.G_ema.parameters(), self.G.parameters()):
            avg.lerp_(p, 1.0 - decay)
        for avg, b in zip(self.G_ema.buffers(), self.G.buffers()):
            avg.copy_(b)

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator samples are drawn from: G_ema when the moving average is on, else G."""
        return self.G_ema if self.G_ema is not None else self.G

    @torch.no_grad()
    def generate(self, z: torch.Tensor | None = None) -> torch.Tensor:
        """Samples in eval mode (BatchNorm uses running statistics), on the CPU. Default z: fixed noise.

        They come from ``sampling_generator`` (G_ema when the moving average is on).
        """
        return render(self.sampling_generator, self.fixed_noise if z is None else z.to(self.device))

    # --- divergence handling --------------------------------------------------------------------

    def _models(self) -> list[tuple[str, nn.Module]]:
        return [("G", self.G), ("D", self.D)] + ([("G_ema", self.G_ema)] if self.G_ema is not None else [])

    def _optimizers(self) -> list[tuple[str, torch.optim.Optimizer]]:
        return [("opt_g", self.opt_g), ("opt_d", self.opt_d)]

    def _take_snapshot(self) -> dict:
        """Everything that moves during training, copied: what a divergence rolls back to as one piece."""
        return {
            "weights": {name: {k: v.detach().clone() for k, v in m.state_dict().items()} for name, m in self._models()},
            "optimizers": {name: copy.deepcopy(opt.state_dict()) for name, opt in self._optimizers()},
            "step": self.step_count, "images_seen": self.images_seen, "elapsed": self.elapsed,
            "rng": self.rng.get_state(), "shift_rng": self.shift_rng.get_state(),
            "order": self._order.clone(), "cursor": self._cursor,
        }

    def _restore_snapshot(self) -> None:
        snap = self._snapshot
        for name, m in self._models():
            m.load_state_dict(snap["weights"][name])
        for name, opt in self._optimizers():
            opt.load_state_dict(copy.deepcopy(snap["optimizers"][name]))
        self.step_count, self.images_seen, self.elapsed = snap["step"], snap["images_seen"], snap["elapsed"]
        self.rng.set_state(snap["rng"])
        self.shift_rng.set_state(snap["shift_rng"])
        self._order, self._cursor = snap["order"].clone(), snap["cursor"]

    def _state_is_finite(self) -> bool:
        moments = (v for _, opt in self._optimizers() for slots in opt.state.values() for v in slots.values()
                   if torch.is_tensor(v) and v.is_floating_point())
        return all(_all_finite(m) for _, m in self._models()) and all(bool(torch.isfinite(v).all()) for v in moments)

    def _diverged(self, value: float, who: str) -> TrainingDiverged:
        """A NaN, infinite or absurd loss (before its update): put the trainer in a consistent state.

        A NaN/inf loss whose update has not been applied, with every weight and Adam moment still
        finite, keeps the current weights (the last completed step). Otherwise (weights already
        broken by an exploding update, or a finite loss beyond ``MAX_ABS_LOSS``: the weights that
        produced it are useless) the whole last snapshot comes back: weights, optimiser states, step
        count, counters and random streams together (a caller drops what it recorded after the
        exception's ``step``).
        """
        failed_step = self.step_count + 1
        if math.isfinite(value) or not self._state_is_finite():
            self._restore_snapshot()
            key = "errors.train.diverged_restored"
        else:  # the running step is abandoned: its counters go back to where it started
            self.images_seen = self._step_start.get("images_seen", self.images_seen)
            self._cursor = self._step_start.get("cursor", self._cursor)
            self._order = self._step_start.get("order", self._order)
            key = "errors.train.diverged"
        return TrainingDiverged(key, at=failed_step, who=who, loss=f"{value:.4g}", step=self.step_count)

    # --- state for checkpoints ------------------------------------------------------------------

    def state(self) -> dict:
        """Everything a checkpoint needs to resume: weights, optimiser states, counters."""
        return {
            "G": self.G.state_dict(),
            "G_ema": self.G_ema.state_dict() if self.G_ema is not None else None,
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "step": self.step_count,
            "images_seen": self.images_seen,
        }

    def load_state(self, state: dict) -> dict[str, tuple]:
        """Resume from ``state()`` output (or a loaded checkpoint's parts; optimisers optional).

        A state without ``G_ema`` (an older checkpoint, or one saved with the average off) starts
        the average from the loaded G. The optimisers keep their saved moments but take this run's
        learning rates and betas (``config``): what the user asked for now wins over what was saved.
        Returns what that changed, ``{"lr_g": (saved, now), ...}`` (empty when nothing did).
        """
        self.G.load_state_dict(state["G"])
        if self.G_ema is not None:
            self.G_ema.load_state_dict(state["G_ema"] if state.get("G_ema") is not None else state["G"])
        if state.get("D") is not None:
            self.D.load_state_dict(state["D"])
        changes: dict[str, tuple] = {}
        for suffix, opt in (("g", self.opt_g), ("d", self.opt_d)):
            saved = state.get(f"opt_{suffix}")
            if saved is None:
                continue
            opt.load_state_dict(saved)
            wanted = {"lr": getattr(self.config, f"lr_{suffix}"), "betas": tuple(getattr(self.config, f"betas_{suffix}"))}
            for group in opt.param_groups:
                for name, value in wanted.items():
                    old = tuple(group[name]) if name == "betas" else group[name]
                    if old != value:
                        changes[f"{name}_{suffix}"] = (old, value)
                    group[name] = value
        self.step_count = int(state.get("step", 0))
        self.images_seen = int(state.get("images_seen", 0))
        self.algorithm.kept_fake = None  # a kept fake batch (reuse_fake) belongs to the weights just replaced
        self._snapshot = self._take_snapshot()
        return changes
