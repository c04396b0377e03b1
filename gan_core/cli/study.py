"""Command line for the ablation study (``gan_core.ablation_study``).

    python -m gan_core ablation-study --out runs/ablations [--preset small] [--seeds 0 1 2] [--steps 1500]
                                      [--ship assets/ablations-small-mnist5k]
        trains the baseline and every ablation the preset can take with each seed, measures them,
        writes OUT/study.json and prints the table; --ship copies the first seed's recordings (no
        weights) for the training page's compare view
"""

from __future__ import annotations

import argparse
import sys

from gan_core.settings import SEED, THREADS, add_flag

from gan_core.cli.train import RECORD_CLASSES, SAMPLE_EVERY


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``ablation-study`` sub-command."""
    from gan_core.ablation_study import StudyPlan
    from gan_core.models import PRESET
    from gan_core.trainer import STEPS

    plan = StudyPlan()
    p = sub.add_parser("ablation-study", help="train the baseline and every DCGAN-guideline ablation over seeds "
                       "and print what breaks",
                       description="For the baseline and every ablation the preset can take (train --ablate), "
                       "with each seed: train the same run, record it (grids, metrics.csv, classes.csv), measure "
                       "the final generator, write OUT/study.json and print the table. A run already measured "
                       "(OUT/<run>/outcome.json) is kept, so an interrupted study continues.")
    p.add_argument("--out", required=True, help="folder for the runs and study.json")
    add_flag(p, PRESET, dest="preset", default=plan.preset)
    p.add_argument("--dataset", default=plan.dataset, help="a dataset with a shipped classifier (default: mnist5k)")
    add_flag(p, STEPS, dest="steps", default=plan.steps)
    p.add_argument("--seeds", type=SEED.parse, nargs="+", default=list(plan.seeds), metavar="SEED",
                   help="the seeds every run is trained with (default: 0 1 2)")
    add_flag(p, SAMPLE_EVERY, dest="sample_every", default=plan.sample_every)
    add_flag(p, RECORD_CLASSES, dest="record_classes", metavar="N", default=plan.record_classes)
    add_flag(p, THREADS, dest="threads")
    p.add_argument("--ship", default=None, metavar="DIR",
                   help="then copy study.json and seed 0's recordings (no weights) to DIR, for the training page's "
                   "compare view (as assets/ablations-small-mnist5k was made)")
    p.set_defaults(func=cmd_study)


def cmd_study(args: argparse.Namespace) -> int:
    from gan_core.ablation_study import StudyPlan, markdown_table, run_study, ship_study

    plan = StudyPlan(preset=args.preset, dataset=args.dataset, steps=args.steps, seeds=tuple(args.seeds),
                     sample_every=args.sample_every, record_classes=args.record_classes, threads=args.threads)
    study = run_study(plan, args.out, progress=lambda line: print(line, file=sys.stderr))
    print(markdown_table(study))
    if args.ship:
        print(f"recordings for the compare view written to {ship_study(args.out, args.ship, seed=plan.seeds[0])}",
              file=sys.stderr)
    return 0
