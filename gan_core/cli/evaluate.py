"""Command line for the quality metrics.

    python -m gan_core evaluate --checkpoint DIR [--n 2000] [--seed 0]
        prints the metrics of a checkpoint's generator as JSON (see gan_core.evaluation.metrics)
    python -m gan_core train-classifier --dataset mnist5k --out assets/classifier-mnist5k --seed 0
        trains the small CNN those metrics are measured with
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``evaluate`` and ``train-classifier`` sub-commands."""
    p = sub.add_parser(
        "evaluate", help="print a checkpoint's quality metrics (Fréchet distance, confidence, ...) as JSON",
        description="Generate --n samples from a checkpoint and measure them with the dataset's classifier "
        "(assets/classifier-<dataset>): Fréchet distance in its features with the real-vs-real floor, "
        "classifier confidence, class coverage, KL to uniform, Inception Score. Prints JSON.")
    p.add_argument("--checkpoint", required=True, help="checkpoint folder or .zip")
    p.add_argument("--n", type=int, default=2000, help="generated samples (and real images per half)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise and of the real-image draw")
    p.add_argument("--data-root", default=None, help="folder for torchvision datasets")
    p.add_argument("--out", default=None, help="also write the JSON to this file")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists (never a run's own files)")
    p.set_defaults(func=cmd_evaluate)

    t = sub.add_parser(
        "train-classifier", help="train the small CNN the metrics use and save it (safetensors + JSON)",
        description="Train a small CNN classifier on a labelled dataset, holding out a stratified share "
        "of every class, and write classifier.safetensors and classifier.json (with the held-out "
        "accuracy and this command) to --out. The metrics look for assets/classifier-<dataset>.")
    t.add_argument("--dataset", default="mnist5k", help="a labelled dataset name (mnist5k, fashion-mnist, ...)")
    t.add_argument("--out", required=True, help="folder to write, e.g. assets/classifier-mnist5k")
    t.add_argument("--epochs", type=int, default=8)
    t.add_argument("--limit", type=int, default=None, help="use this many images, spread evenly (big datasets)")
    t.add_argument("--width", type=int, default=16, help="feature maps of the first block")
    t.add_argument("--holdout", type=float, default=0.1, help="share of every class held out for the accuracy")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    t.add_argument("--data-root", default=None, help="folder for torchvision datasets")
    t.set_defaults(func=cmd_train_classifier)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from gan_core.checkpoint import check_output_file
    from gan_core.evaluation.metrics import evaluate_checkpoint

    if args.out:
        check_output_file(args.out, overwrite=args.overwrite)  # before the slow measuring
    result = evaluate_checkpoint(args.checkpoint, n=args.n, seed=args.seed, data_root=args.data_root)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


def cmd_train_classifier(args: argparse.Namespace) -> int:
    from gan_core.evaluation.classifier import save_classifier, train_classifier
    from gan_core.data.datasets import load_dataset
    from gan_core.device import set_cpu_threads

    set_cpu_threads(args.threads)
    dataset = load_dataset(args.dataset, root=args.data_root, limit=args.limit)
    print(f"dataset: {dataset.describe()}", file=sys.stderr)

    def report(epoch: int, seconds: float, acc: float) -> None:
        print(f"epoch {epoch}/{args.epochs}  {seconds:6.1f} s  held-out accuracy {acc:.4f}", file=sys.stderr)

    classifier = train_classifier(dataset, epochs=args.epochs, width=args.width, holdout=args.holdout,
                                  seed=args.seed, progress=report)
    command = shlex.join(["python", "-m", "gan_core", "train-classifier", "--dataset", args.dataset,
                          "--out", str(args.out), "--epochs", str(args.epochs), "--width", str(args.width),
                          "--holdout", str(args.holdout), "--seed", str(args.seed)]
                         + (["--limit", str(args.limit)] if args.limit else []))
    save_classifier(classifier, args.out, command=command)
    print(json.dumps({k: classifier.info[k] for k in ("dataset", "heldout_accuracy", "train_size", "heldout_size")}))
    print(f"classifier written to {args.out}", file=sys.stderr)
    return 0
