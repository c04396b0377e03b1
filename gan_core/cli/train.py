"""``python -m gan_core train``: Algorithm 1 on a dataset, written to a run folder.

The folder holds the checkpoint (``config.json``, ``*.safetensors``; saved at the start, every
``--save-every`` steps and at the end, each save atomic as a whole; ``config.json``'s ``target_step``
says where the run stops), ``metrics.csv`` (one row per step, each line flushed whole) and
``samples/step_*.png``; ``--resume`` continues it, Ctrl-C or SIGTERM stops it with everything saved.
The training page can watch the folder while it grows (``gan_core.recording``).

Started by ``torchrun --nproc_per_node N -m gan_core train ...`` it trains one model on N processes
(``gan_core.distributed``): ``--batch-size`` is the global batch, rank 0 alone writes the folder and
prints, and every rank stops at the same step (a stop request or the time limit is agreed on).
"""

from __future__ import annotations

import argparse
import csv
import math
import signal
import sys
from pathlib import Path

from tqdm import tqdm

from gan_core.i18n import translate

DEFAULT_GPU_LOG_EVERY = 25  # steps a GPU runs between reads of the losses (a read waits for the queue to drain)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``train`` sub-command."""
    from gan_core.losses import LOSSES
    from gan_core.models import PRESETS

    p = sub.add_parser("train", help="train a GAN (Algorithm 1) and write a checkpoint folder",
                       description="Train a GAN and write DIR/config.json, DIR/*.safetensors, "
                       "DIR/metrics.csv (one row per step) and DIR/samples/step_*.png.")
    p.add_argument("--dataset", default="mnist5k",
                   help="registry name (mnist5k, mnist, fashion-mnist, cifar10, digits) or a path to an "
                   "image folder or .zip (default: mnist5k)")
    p.add_argument("--preset", default="small", choices=sorted(PRESETS), help="model preset (default: small)")
    p.add_argument("--steps", type=int, default=None, help="generator steps (default: 2000, or from --epochs)")
    p.add_argument("--epochs", type=float, default=None,
                   help="train for this many passes over the data instead (a part step rounds up)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="stop after this many seconds of training (saving and sample grids not counted), "
                   "whatever --steps says, and write everything as at the end of a run")
    p.add_argument("--batch-size", type=int, default=None,
                   help="minibatch size m (default: the preset's); under torchrun the global batch, split "
                        "evenly over the processes (so a multiple of their number)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--image-size", type=int, default=None, help="28, 32 or 64 (default: the preset's first)")
    p.add_argument("--channels", type=int, default=1, choices=(1, 3))
    p.add_argument("--latent-dim", type=int, default=None)
    p.add_argument("--ngf", type=int, default=None, help="generator width (default: the preset's)")
    p.add_argument("--ndf", type=int, default=None, help="discriminator width (default: the preset's)")
    p.add_argument("--fc-width", type=int, default=None,
                   help="units of G's fully-connected hidden layer; D's has half as many (small preset; 0: none; "
                        "default: the preset's)")
    p.add_argument("--k", type=int, default=1, help="discriminator steps per generator step")
    p.add_argument("--loss", default="non-saturating", choices=sorted(LOSSES))
    p.add_argument("--lr-d", type=float, default=None)
    p.add_argument("--lr-g", type=float, default=None)
    p.add_argument("--beta1", type=float, default=None, help="Adam beta1 for both networks")
    p.add_argument("--prior", default="normal", choices=("normal", "uniform"))
    p.add_argument("--label-smoothing", type=float, default=0.0, help="one-sided: real target = 1 - this")
    p.add_argument("--ema", type=float, default=None,
                   help="decay of G_ema, the moving average of G's weights that samples come from "
                   "(0: off; default: the preset's)")
    p.add_argument("--shift", type=int, default=None,
                   help="D sees real and fake images shifted by up to this many pixels (0: off; default: the preset's)")
    p.add_argument("--fresh-noise", action="store_true",
                   help="the G step draws its own noise batch (Algorithm 1 word for word) instead of reusing "
                        "the D step's G(z), the default when k = 1")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--channels-last", action="store_const", const=True, default=None,
                   help="convolutions in channels-last (NHWC) memory layout: faster on GPUs with tensor cores, "
                        "the same numbers to float rounding (default: off, or the checkpoint's when resuming)")
    p.add_argument("--amp", action="store_const", const=True, default=None,
                   help="mixed precision: bfloat16 forward passes on GPUs (float16 with gradient scaling on GPUs "
                        "without bfloat16) and on CPUs with native bfloat16; float32 elsewhere, with a note "
                        "(default: off, or the checkpoint's when resuming)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (default: all cores; under torchrun the cores shared out among the processes "
                        "of this machine)")
    p.add_argument("--log-every", type=int, default=None, metavar="STEPS",
                   help="read the losses back from the device every this many steps (metrics.csv still gets one "
                        "row per step; a NaN is found at that time and the last good state restored); default: 1 "
                        "on the CPU, 25 on a GPU, which then never waits for the host between steps")
    p.add_argument("--no-sync-batchnorm", action="store_true",
                   help="under torchrun: each process normalises BatchNorm over its own share of the batch "
                        "(default: SyncBatchNorm over the global batch, where PyTorch has it: on GPUs)")
    p.add_argument("--dist-timeout", type=float, default=None, metavar="SECONDS",
                   help="under torchrun: a process waiting this long for the others gives up with a message "
                        "(default: 120)")
    p.add_argument("--sample-every", type=int, default=250, help="steps between sample grids (0: never)")
    p.add_argument("--save-every", type=int, default=1000, help="steps between checkpoint saves")
    p.add_argument("--data-root", default=None, help="folder for torchvision datasets")
    p.add_argument("--download", action="store_true", help="download torchvision datasets if missing (online)")
    p.add_argument("--resume", default=None,
                   help="checkpoint folder or .zip to continue from; settings you give (e.g. --lr-g) replace the "
                   "saved ones, the rest are kept; metrics.csv continues after the checkpoint's step")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run already in --out (otherwise an --out that holds a run is refused, "
                   "unless it is the folder given to --resume)")
    p.set_defaults(func=cmd_train)


class GracefulStop:
    """SIGINT (Ctrl-C) and SIGTERM during training: finish the current step, then stop.

    The training loop asks ``requested`` after every step; the command then saves the checkpoint,
    flushes metrics.csv and exits with 128 + the signal number. A second Ctrl-C stops at once
    (KeyboardInterrupt), for a save that hangs. Outside the main thread (where Python cannot install
    handlers) signals keep their default behaviour.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict = {}

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def _handle(self, signum: int, frame) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signum

    def __enter__(self) -> "GracefulStop":
        try:
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        except ValueError:  # not the main thread
            self._previous = {}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)


def _resumed_config(config, checkpoint):
    """The run's settings when resuming: what the command line gives explicitly, else what was saved.

    The model always comes from the checkpoint. Settings left at None on the command line (learning
    rates, betas, batch size, ...) take the checkpoint's values rather than the preset's defaults.
    """
    from gan_core.trainer import TrainConfig

    given = {k: v for k, v in config.to_dict().items() if v is not None}
    return TrainConfig.from_dict({**checkpoint.train_config, **given, **checkpoint.model_config.to_dict()})


def _threads_per_process(threads: int | None) -> int | None:
    """The CPU threads of one process: as asked, else under torchrun this machine's cores shared out."""
    import os

    if threads is not None or "LOCAL_WORLD_SIZE" not in os.environ or os.environ.get("GAN_CPU_THREADS"):
        return threads
    return max(1, (os.cpu_count() or 1) // max(1, int(os.environ["LOCAL_WORLD_SIZE"])))


def _agreed(flag: bool, d) -> bool:
    """True on every rank when ``flag`` is true on any of them (one all-reduce; the flag as is alone)."""
    import torch

    from gan_core.distributed import mean_over_ranks

    return bool(mean_over_ranks(torch.tensor([float(flag)]), d).item() > 0) if d.active else flag


def cmd_train(args: argparse.Namespace) -> int:
    from gan_core import distributed

    if args.dist_timeout is not None and not (math.isfinite(args.dist_timeout) and 0 < args.dist_timeout <= 86400):
        raise ValueError(translate("errors.cli.dist_timeout", value=args.dist_timeout))
    if not distributed.launched_by_torchrun():
        return _train(args, distributed.SINGLE, None)
    from gan_core.device import select_device

    d, device = distributed.from_environment(select_device(args.device),
                                             args.dist_timeout or distributed.DEFAULT_TIMEOUT_S)
    try:
        code = _train(args, d, device)
        distributed.shutdown(finished=True)
        return code
    except RuntimeError as exc:  # a collective failed or timed out: another rank is gone
        print(translate("errors.cli.rank_lost", rank=d.rank, detail=str(exc).splitlines()[0][:200], out=args.out),
              file=sys.stderr)
        return 3
    finally:
        distributed.shutdown()


def _train(args: argparse.Namespace, d, device) -> int:
    """The run itself; ``d`` is this process's rank in the job (``gan_core.distributed``)."""
    from gan_core.checkpoint import check_output_folder, load_checkpoint, save_checkpoint, trim_metrics_csv
    from gan_core.data.datasets import load_dataset
    from gan_core.device import set_cpu_threads
    from gan_core.distributed import sync_batchnorm_available
    from gan_core.images import make_grid, save_png
    from gan_core.models import get_preset
    from gan_core.trainer import TrainConfig, Trainer, TrainingDiverged

    if args.steps is not None and not 1 <= args.steps <= 10**9:
        raise ValueError(translate("errors.cli.steps", value=args.steps))
    if args.epochs is not None and not (math.isfinite(args.epochs) and 0 < args.epochs <= 10**6):
        raise ValueError(translate("errors.cli.epochs", value=args.epochs))
    if args.time_limit is not None and not (math.isfinite(args.time_limit) and 0 < args.time_limit <= 10**6):
        raise ValueError(translate("errors.cli.time_limit", value=args.time_limit))
    if args.log_every is not None and not 1 <= args.log_every <= 10_000:
        raise ValueError(translate("errors.cli.log_every", value=args.log_every))
    out = Path(args.out).expanduser()
    check_output_folder(out, overwrite=args.overwrite, resuming_from=args.resume)  # before any slow work
    set_cpu_threads(_threads_per_process(args.threads))
    preset = get_preset(args.preset)
    image_size = args.image_size or preset.image_sizes[0]
    betas = (args.beta1, preset.defaults.betas[1]) if args.beta1 is not None else None
    config = TrainConfig(
        preset=args.preset, dataset=str(args.dataset), image_size=image_size, channels=args.channels,
        latent_dim=args.latent_dim, ngf=args.ngf, ndf=args.ndf, fc_width=args.fc_width, batch_size=args.batch_size,
        k=args.k, loss=args.loss,
        lr_d=args.lr_d, lr_g=args.lr_g, betas_d=betas, betas_g=betas, prior=args.prior,
        label_smoothing=args.label_smoothing, ema=args.ema, shift=args.shift,
        reuse_fake=False if args.fresh_noise else None, seed=args.seed, device=args.device,
        channels_last=args.channels_last, amp=args.amp)
    resume = load_checkpoint(args.resume) if args.resume else None
    if resume is not None:  # the checkpoint decides the model; the command line the rest
        config = _resumed_config(config, resume)
    config.resolved()  # every setting checked before the dataset is read
    dataset = load_dataset(args.dataset, image_size=config.image_size, channels=config.channels,
                           root=args.data_root, download=args.download)
    main = d.is_main  # rank 0 alone writes the folder and prints
    if main:
        print(f"dataset: {dataset.describe()}", file=sys.stderr)
    trainer = Trainer(config, dataset, device=device, distributed=d, sync_batchnorm=not args.no_sync_batchnorm)
    if main and d.active and not args.no_sync_batchnorm and not sync_batchnorm_available(trainer.device):
        print(translate("errors.cli.no_sync_batchnorm", device=trainer.device.type, world=d.world_size,
                        share=trainer.rank_batch, batch=trainer.config.batch_size), file=sys.stderr)
    if main and trainer.precision.note:
        print(f"note: {trainer.precision.note}", file=sys.stderr)
    if resume is not None:
        changes = trainer.load_state(resume.trainer_state())
        for name, (saved, now) in changes.items():
            if main:
                print(translate("errors.cli.resume_changed", name=name, saved=saved, now=now), file=sys.stderr)
    c = trainer.config
    if args.log_every is None:
        args.log_every = 1 if trainer.device.type == "cpu" else DEFAULT_GPU_LOG_EVERY
    if not main:
        return _follow(args, trainer, n_steps=_steps_to_run(args, dataset, c))
    n_steps = _steps_to_run(args, dataset, c)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    ds_info = {"name": str(args.dataset), "class_names": list(dataset.class_names), "size": len(dataset)}

    target_step = trainer.step_count + n_steps  # for whoever watches the folder (the training page's ETA)

    def save() -> None:
        save_checkpoint(out, trainer, dataset=ds_info, extra={"target_step": target_step})

    fields = ["step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "images_per_sec", "elapsed"]
    metrics_path = out / "metrics.csv"
    append = resume is not None and metrics_path.is_file()
    if append:  # rows after the checkpoint's step were written before a crash: they are redone now
        trim_metrics_csv(metrics_path, trainer.step_count)
    elif args.overwrite:
        for old in (out / "samples").glob("*.png"):
            old.unlink()
    save()  # the run's config is in the folder from the start: a watching page knows what trains
    status, out_of_time = 0, False
    started = trainer.elapsed  # the checkpoint's training time, when resuming
    with open(metrics_path, "a" if append else "w", newline="") as f, GracefulStop() as stop:
        writer = csv.DictWriter(f, fieldnames=fields)
        if not append:
            writer.writeheader()
        # disable=None: no bar when stderr is not a terminal (a log file would get one line per update)
        bar = tqdm(total=n_steps, desc=f"train {c.preset}", unit="step", file=sys.stderr, disable=None)
        done = 0
        while done < n_steps:
            try:
                reports = _next_block(trainer, args, n_steps - done)
            except TrainingDiverged as exc:
                bar.close()  # the message starts on its own line, not after the progress bar
                print(f"error: {exc}", file=sys.stderr)
                status = 1
                break
            done += len(reports)
            writer.writerows(r.to_dict() for r in reports)
            f.flush()  # metrics.csv is a live record: a crash or a kill loses no row already read
            bar.update(len(reports))
            r = reports[-1]
            bar.set_postfix(loss_d=f"{r.loss_d:.3f}", loss_g=f"{r.loss_g:.3f}", img_s=f"{r.images_per_sec:.0f}")
            if args.sample_every and r.step % args.sample_every == 0:
                save_png(make_grid(trainer.generate()), out / "samples" / f"step_{r.step:06d}.png")
            if args.save_every and r.step % args.save_every == 0:
                save()
            out_of_time = args.time_limit is not None and trainer.elapsed - started >= args.time_limit
            if _agreed(stop.requested or out_of_time, d):
                break
        bar.close()
    if status:  # a divergence went back to an earlier step: its later rows are not part of the run
        trim_metrics_csv(metrics_path, trainer.step_count)
    save()
    save_png(make_grid(trainer.generate()), out / "samples" / "final.png")
    if stop.requested:
        name = signal.Signals(stop.signal).name
        print(translate("errors.cli.stopped", signal=name, step=trainer.step_count, out=str(out)), file=sys.stderr)
        return 128 + stop.signal
    if out_of_time:
        print(translate("errors.cli.time_limit_reached", seconds=f"{trainer.elapsed - started:.1f}",
                        step=trainer.step_count), file=sys.stderr)
    print(f"checkpoint written to {out} (step {trainer.step_count})", file=sys.stderr)
    return status


def _steps_to_run(args: argparse.Namespace, dataset, c) -> int:
    from gan_core.trainer import steps_for_epochs

    if args.steps is not None:
        return args.steps
    return steps_for_epochs(args.epochs, len(dataset), c.batch_size, c.k) if args.epochs else 2000


def _next_block(trainer, args: argparse.Namespace, left: int) -> list:
    """The next steps' reports: one step (``--log-every 1``), or up to ``--log-every`` steps run without
    waiting for the device (``Trainer.run_steps``), ending at the next sample or save step."""
    if args.log_every == 1:
        return [trainer.step()]
    n = min(left, args.log_every)
    for every in (args.sample_every, args.save_every):
        if every:
            n = min(n, every - trainer.step_count % every)
    return trainer.run_steps(n)


def _follow(args: argparse.Namespace, trainer, n_steps: int) -> int:
    """A rank other than 0: the same steps as rank 0 (their collectives pair up), writing nothing."""
    from gan_core.trainer import TrainingDiverged

    started, done = trainer.elapsed, 0
    with GracefulStop() as stop:
        while done < n_steps:
            try:
                done += len(_next_block(trainer, args, n_steps - done))
            except TrainingDiverged:  # every rank sees the same (averaged) loss: rank 0 reports it
                return 1
            out_of_time = args.time_limit is not None and trainer.elapsed - started >= args.time_limit
            if _agreed(stop.requested or out_of_time, trainer.distributed):
                break
    return 128 + stop.signal if stop.requested else 0
