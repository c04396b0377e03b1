"""Command line for the quality metrics.

    python -m gan_core evaluate --checkpoint DIR [--n 2000] [--seed 0]
        prints the metrics of a checkpoint's generator as JSON (see gan_core.evaluation.metrics)
    python -m gan_core evaluate --checkpoint DIR --two-sample [--data NAME_OR_PATH] [--n 1000]
        the independent judge that needs no labels (gan_core.evaluation.two_sample), plus the
        classifier metrics above when the dataset has a classifier
    python -m gan_core evaluate --real-vs-real --data NAME_OR_PATH --two-sample
        the judge's floor: two halves of the real images against each other
    python -m gan_core train-classifier --dataset mnist5k --out assets/classifier-mnist5k --seed 0
        trains the small CNN those metrics are measured with
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys

from tqdm import tqdm

from gan_core.i18n import translate
from gan_core.settings import SEED, THREADS, Setting, add_flag

_H = "settings.help."
CLASSIFIER_EPOCHS = Setting("int", 1, 1000, help=_H + "classifier_epochs", flag="--epochs")
# more images than any dataset registered here (MNIST's 70,000); a bigger --limit would use them all anyway
LIMIT = Setting("int", 1, 1_000_000, help=_H + "classifier_limit", flag="--limit")
HOLDOUT = Setting("float", 0.01, 0.5, help=_H + "holdout", flag="--holdout")  # at least one image, at most half


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``evaluate`` and ``train-classifier`` sub-commands."""
    from gan_core.evaluation.classifier import WIDTH
    from gan_core.evaluation.metrics import N_SAMPLES

    p = sub.add_parser(
        "evaluate", help="print a checkpoint's quality metrics as JSON (--two-sample: the judge that needs no labels)",
        description="Generate --n samples from a checkpoint and measure them. --two-sample: the independent "
        "judge (a fresh small CNN trained to tell real from generated images; its held-out accuracy with a 95%% "
        "interval and p-value against 1/2), the gallery, copies and diversity; works for any dataset. Without "
        "it, or as well when the dataset has one: the dataset's classifier (assets/classifier-<dataset>): "
        "Fréchet distance with its real-vs-real floor, confidence, class coverage, KL to uniform, Inception "
        "Score. Prints JSON.")
    p.add_argument("--checkpoint", default=None, help="checkpoint folder or .zip")
    p.add_argument("--two-sample", action="store_true",
                   help="run the independent judge (a classifier two-sample test; needs no labels)")
    p.add_argument("--real-vs-real", action="store_true",
                   help="judge two halves of --data against each other: the floor an honest generator scores "
                        "(with --two-sample; no checkpoint)")
    p.add_argument("--data", default=None,
                   help="real images: a dataset name, an image folder or a .zip (default: the checkpoint's own)")
    p.add_argument("--image-size", type=int, default=28, choices=(28, 32, 64),
                   help="with --real-vs-real: the size the images are judged at (a checkpoint decides its own)")
    p.add_argument("--channels", type=int, default=1, choices=(1, 3),
                   help="with --real-vs-real: 1 (grey) or 3 (colour) (a checkpoint decides its own)")
    add_flag(p, N_SAMPLES, dest="n")
    add_flag(p, SEED, dest="seed", default=0)
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
    add_flag(t, CLASSIFIER_EPOCHS, dest="epochs", default=8)
    add_flag(t, LIMIT, dest="limit")
    add_flag(t, WIDTH, dest="width", default=16)
    add_flag(t, HOLDOUT, dest="holdout", default=0.1)
    add_flag(t, SEED, dest="seed", default=0)
    add_flag(t, THREADS, dest="threads")
    t.add_argument("--data-root", default=None, help="folder for torchvision datasets")
    t.set_defaults(func=cmd_train_classifier)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from gan_core.checkpoint import check_output_file

    if args.real_vs_real and not (args.two_sample and args.data) or args.real_vs_real and args.checkpoint:
        raise ValueError(translate("errors.cli.real_vs_real"))
    if not args.real_vs_real and not args.checkpoint:
        raise ValueError(translate("errors.cli.evaluate_what"))
    if args.out:
        check_output_file(args.out, overwrite=args.overwrite)  # before the slow measuring
    result = _two_sample(args) if args.two_sample else _classifier_metrics(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0


@contextlib.contextmanager
def judge_progress():
    """A ``progress(done, total)`` for the judge that draws a bar on stderr (none when it is not a terminal)."""
    with tqdm(desc="judge", unit="batch", file=sys.stderr, disable=None) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield progress


def _classifier_metrics(args: argparse.Namespace) -> dict:
    from gan_core.evaluation.metrics import evaluate_checkpoint

    return evaluate_checkpoint(args.checkpoint, n=args.n or 2000, seed=args.seed, data_root=args.data_root)


def _two_sample(args: argparse.Namespace) -> dict:
    """The judge's JSON, and beside it the classifier metrics when the checkpoint's own dataset has a
    classifier (measured on that dataset, as plain ``evaluate`` does)."""
    from gan_core.evaluation import two_sample
    from gan_core.evaluation.metrics import classifier_metrics_if_any

    config = two_sample.JudgeConfig(n=args.n or 1000, seed=args.seed)
    with judge_progress() as progress:
        if args.real_vs_real:
            real = two_sample.load_real_images(args.data, args.image_size, args.channels, args.data_root)
            result = two_sample.judge_real_vs_real(real.images, config, progress=progress)
            result.judge.update(data=args.data, real_vs_real=True)
            return result.to_json()
        result = two_sample.judge_checkpoint(args.checkpoint, args.data, config, args.data_root, progress)
    return {**result.to_json(), **(classifier_metrics_if_any(args.checkpoint, args.n or 2000, args.seed,
                                                             args.data_root) or {})}


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
