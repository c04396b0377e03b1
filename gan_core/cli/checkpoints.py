"""``python -m gan_core sample`` and ``export``: what to do with a finished checkpoint."""

from __future__ import annotations

import argparse
import sys

from gan_core.i18n import translate
from gan_core.settings import SEED, Setting, add_flag

N_SAMPLES = Setting("int", 1, 100_000, help="settings.help.n_samples", flag="--n")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``sample`` and ``export`` sub-commands."""
    _add_sample(sub)
    _add_export(sub)


def _add_sample(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="write samples of a checkpoint as a PNG grid or a .npy array")
    p.add_argument("--checkpoint", required=True, help="checkpoint folder or .zip")
    add_flag(p, N_SAMPLES, dest="n", default=64)
    add_flag(p, SEED, dest="seed", default=0)
    p.add_argument("--out", required=True, help="FILE.png for a grid, FILE.npy for an (N, C, H, W) array in [-1, 1]")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists (never a run's own files)")
    p.set_defaults(func=cmd_sample)


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from gan_core.checkpoint import check_output_file, load_checkpoint
    from gan_core.images import make_grid, save_png
    from gan_core.latent import sample_latents

    out = check_output_file(args.out, overwrite=args.overwrite)  # before any slow work
    if out.suffix.lower() not in (".png", ".npy"):  # the bytes written are the format the name says
        raise ValueError(translate("errors.cli.sample_format", suffix=out.suffix))
    ckpt = load_checkpoint(args.checkpoint)
    prior = ckpt.train_config.get("prior", "normal")
    z = sample_latents(args.n, ckpt.model_config.latent_dim, seed=args.seed, prior=prior)
    with torch.no_grad():
        images = torch.cat([ckpt.generator(chunk) for chunk in z.split(1024)])
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
    p.add_argument("--overwrite", action="store_true", help="replace what is already in --out")
    p.add_argument("--dtype", default="float32", choices=("float32", "float16"),
                   help="storage type of the weights (float16: half the size; loaded back as float32)")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from gan_core.checkpoint import check_output_folder, export_generator

    check_output_folder(args.out, overwrite=args.overwrite)
    out = export_generator(args.checkpoint, args.out, dtype=args.dtype)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    print(f"generator-only checkpoint written to {out} ({size / 1e6:.1f} MB)", file=sys.stderr)
    return 0
