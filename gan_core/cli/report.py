"""``python -m gan_core report``: one self-contained HTML file about a run, to hand in (``gan_core.report``).

    python -m gan_core report --checkpoint DIR --out report.html [--lang ko|en] [--n 1000] [--data NAME_OR_PATH]
"""

from __future__ import annotations

import argparse
import sys

from gan_core.cli.evaluate import judge_progress
from gan_core.i18n import LANGUAGES
from gan_core.settings import SEED, Setting, add_flag


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``report`` sub-command."""
    from gan_core.evaluation.two_sample import MAX_N, MIN_N

    p = sub.add_parser(
        "report", help="write one self-contained HTML report of a run (curves, samples, the judge), to hand in",
        description="Judge a run with the independent two-sample judge and write one HTML file that works "
        "offline (no external link; figures inline): the dataset, the command that reproduces the run, the "
        "curves, the samples and timelapse, the judge's numbers in words, its gallery, copies and diversity, "
        "the time and hardware.")
    p.add_argument("--checkpoint", required=True, help="run folder (or checkpoint .zip)")
    p.add_argument("--out", required=True, help="the .html file to write")
    p.add_argument("--lang", default="en", choices=list(LANGUAGES), help="language of the report (default: en)")
    p.add_argument("--data", default=None, help="real images for the judge (default: the run's own dataset)")
    add_flag(p, Setting("int", MIN_N, MAX_N, help="settings.help.n_judged", flag="--n"), dest="n", default=1000)
    add_flag(p, SEED, dest="seed", default=0)
    p.add_argument("--data-root", default=None, help="folder for torchvision datasets")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists (never a run's own files)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from gan_core.checkpoint import check_output_file
    from gan_core.evaluation.metrics import classifier_metrics_if_any
    from gan_core.evaluation.two_sample import JudgeConfig, judge_checkpoint
    from gan_core.report import checkpoint_report

    out = check_output_file(args.out, overwrite=args.overwrite)  # before the slow judging
    with judge_progress() as progress:
        judge = judge_checkpoint(args.checkpoint, args.data, JudgeConfig(n=args.n, seed=args.seed), args.data_root,
                                 progress)
    metrics = classifier_metrics_if_any(args.checkpoint, args.n, args.seed, args.data_root)  # mnist5k, fashion-mnist
    data = checkpoint_report(args.checkpoint, judge, args.lang, metrics)
    out.write_bytes(data)
    print(f"report written to {out} ({len(data) / 1e6:.2f} MB)", file=sys.stderr)
    return 0
