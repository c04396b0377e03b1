"""Command line: ``python -m gan_core <command> --help``.

Commands:
  train     train a GAN preset on a dataset; writes a checkpoint folder, metrics.csv, sample grids
  sample    write a PNG grid (or a .npy array in [-1, 1]) of samples from a checkpoint
  evaluate  print quality metrics of a checkpoint as JSON
  bench     measure speed goals; print JSON and write BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from tqdm import tqdm


def _add_train(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--epochs", type=float, default=None, help="train for this many passes over the data instead")
    p.add_argument("--batch-size", type=int, default=None, help="minibatch size m (default: the preset's)")
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
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    p.add_argument("--sample-every", type=int, default=250, help="steps between sample grids (0: never)")
    p.add_argument("--save-every", type=int, default=1000, help="steps between checkpoint saves")
    p.add_argument("--data-root", default=None, help="folder for torchvision datasets")
    p.add_argument("--download", action="store_true", help="download torchvision datasets if missing (online)")
    p.add_argument("--resume", default=None, help="checkpoint folder or .zip to continue from")
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from gan_core.checkpoint import load_checkpoint, save_checkpoint
    from gan_core.data import load_dataset
    from gan_core.device import set_cpu_threads
    from gan_core.images import make_grid, save_png
    from gan_core.models import get_preset
    from gan_core.trainer import TrainConfig, Trainer, TrainingDiverged

    set_cpu_threads(args.threads)
    preset = get_preset(args.preset)
    image_size = args.image_size or preset.image_sizes[0]
    betas = (args.beta1, preset.defaults.betas[1]) if args.beta1 is not None else None
    config = TrainConfig(
        preset=args.preset, dataset=str(args.dataset), image_size=image_size, channels=args.channels,
        latent_dim=args.latent_dim, ngf=args.ngf, ndf=args.ndf, fc_width=args.fc_width, batch_size=args.batch_size,
        k=args.k, loss=args.loss,
        lr_d=args.lr_d, lr_g=args.lr_g, betas_d=betas, betas_g=betas, prior=args.prior,
        label_smoothing=args.label_smoothing, ema=args.ema, shift=args.shift,
        reuse_fake=False if args.fresh_noise else None, seed=args.seed, device=args.device)
    resume = load_checkpoint(args.resume) if args.resume else None
    if resume is not None:  # the checkpoint decides the model; the command line the rest
        mc = resume.model_config
        config = TrainConfig.from_dict({**config.to_dict(), **mc.to_dict()})
    dataset = load_dataset(args.dataset, image_size=config.image_size, channels=config.channels,
                           root=args.data_root, download=args.download)
    print(f"dataset: {dataset.describe()}", file=sys.stderr)
    trainer = Trainer(config, dataset)
    if resume is not None:
        trainer.load_state(resume.trainer_state())
    c = trainer.config
    n_steps = args.steps
    if n_steps is None:
        n_steps = int(args.epochs * len(dataset) / (c.batch_size * c.k)) if args.epochs else 2000
    out = Path(args.out)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    ds_info = {"name": str(args.dataset), "class_names": list(dataset.class_names), "size": len(dataset)}

    def save() -> None:
        save_checkpoint(out, trainer, dataset=ds_info)

    fields = ["step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "images_per_sec", "elapsed"]
    metrics_path = out / "metrics.csv"
    append = resume is not None and metrics_path.exists()
    status = 0
    with open(metrics_path, "a" if append else "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        if not append:
            writer.writeheader()
        bar = tqdm(range(n_steps), desc=f"train {c.preset}", unit="step", file=sys.stderr)
        for _ in bar:
            try:
                r = trainer.step()
            except TrainingDiverged as exc:
                print(f"error: {exc}", file=sys.stderr)
                status = 1
                break
            writer.writerow(r.to_dict())
            bar.set_postfix(loss_d=f"{r.loss_d:.3f}", loss_g=f"{r.loss_g:.3f}", img_s=f"{r.images_per_sec:.0f}")
            if args.sample_every and r.step % args.sample_every == 0:
                save_png(make_grid(trainer.generate()), out / "samples" / f"step_{r.step:06d}.png")
            if args.save_every and r.step % args.save_every == 0:
                save()
    save()
    save_png(make_grid(trainer.generate()), out / "samples" / "final.png")
    print(f"checkpoint written to {out} (step {trainer.step_count})", file=sys.stderr)
    return status


def _add_sample(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="write samples of a checkpoint as a PNG grid or a .npy array")
    p.add_argument("--checkpoint", required=True, help="checkpoint folder or .zip")
    p.add_argument("--n", type=int, default=64, help="number of samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="FILE.png for a grid, FILE.npy for an (N, C, H, W) array in [-1, 1]")
    p.set_defaults(func=cmd_sample)


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from gan_core.checkpoint import load_checkpoint
    from gan_core.images import make_grid, save_png
    from gan_core.latent import sample_latents

    if not 1 <= args.n <= 100_000:
        raise ValueError(f"--n must be between 1 and 100000, not {args.n}")
    ckpt = load_checkpoint(args.checkpoint)
    prior = ckpt.train_config.get("prior", "normal")
    z = sample_latents(args.n, ckpt.model_config.latent_dim, seed=args.seed, prior=prior)
    with torch.no_grad():
        images = torch.cat([ckpt.generator(chunk) for chunk in z.split(1024)])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npy":
        np.save(out, images.numpy().astype(np.float32))
    else:
        save_png(make_grid(images), out)
    print(f"wrote {args.n} samples to {out}", file=sys.stderr)
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a generator-only checkpoint for sharing (the averaged G, no D)",
                       description="Copies the generator that samples come from (G_ema when the run kept a "
                       "moving average, else G) with the config into a new folder; D, the optimiser states and "
                       "the raw G are left out. The result opens in the latent explorer like any checkpoint.")
    p.add_argument("--checkpoint", required=True, help="checkpoint folder or .zip")
    p.add_argument("--out", required=True, help="folder to write")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from gan_core.checkpoint import export_generator

    out = export_generator(args.checkpoint, args.out)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    print(f"generator-only checkpoint written to {out} ({size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


COMMANDS = [_add_train, _add_sample, _add_export]


def _optional_commands() -> list:
    """evaluate/bench live in their own modules; each exposes ``add_parser(sub)``."""
    found = []
    for module in ("gan_core.evaluate", "gan_core.bench"):
        try:
            mod = __import__(module, fromlist=["add_parser"])
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        found.append(mod.add_parser)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_core", description="GAN Classroom engine")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS + _optional_commands():
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from gan_core.checkpoint import CheckpointError

    try:
        return args.func(args)
    except (CheckpointError, ValueError, FileNotFoundError) as exc:  # DatasetError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
