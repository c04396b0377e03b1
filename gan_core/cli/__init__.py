"""Command line: ``python -m gan_core <command> --help``.

Commands (one module each; every module's ``add_parser(sub)`` registers its sub-commands):
  train             ``gan_core.cli.train``: train a GAN preset on a dataset; writes a checkpoint folder,
                    metrics.csv, sample grids
  sample, export    ``gan_core.cli.checkpoints``: samples of a checkpoint as PNG/.npy; a generator-only copy
  evaluate, train-classifier   ``gan_core.cli.evaluate``: quality metrics as JSON (``--two-sample``: the judge
                    that needs no labels); the metrics' classifier
  report            ``gan_core.cli.report``: one self-contained HTML report of a run, to hand in
  ablation-study    ``gan_core.cli.study``: the baseline and every DCGAN-guideline ablation over seeds,
                    trained, recorded and measured (``gan_core.ablation_study``)
  bench             ``gan_core.cli.bench``: run ``gan_core.bench``, the speed goals; print JSON and write
                    BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import errno
import re
import sys
import traceback
import zipfile
from typing import NoReturn

from gan_core.cli import bench, checkpoints, evaluate, report, study, train
from gan_core.i18n import translate

COMMANDS = [train.add_parser, checkpoints.add_parser, evaluate.add_parser, report.add_parser, study.add_parser,
            bench.add_parser]


class OneLineParser(argparse.ArgumentParser):
    """argparse that refuses a bad argument with one ``error:`` line (no usage block) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        # a declared setting's sentence already names its flag: drop argparse's "argument --x: " before it
        message = re.sub(r"^argument (\S+): (?=\1 )", "", message)
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m gan_core", description="GAN Classroom engine")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def describe_os_error(exc: OSError) -> str:
    """One plain sentence for a failed file operation (read-only, disk full, a folder in the way ...)."""
    path = exc.filename if exc.filename is not None else ""
    keys = {errno.EROFS: "read_only", errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full",
            errno.EISDIR: "is_a_directory", errno.ENOTDIR: "not_a_directory", errno.EEXIST: "exists",
            errno.EACCES: "permission", errno.EPERM: "permission", errno.ENOENT: "missing"}
    key = keys.get(exc.errno, "os_error")
    return translate(f"errors.cli.{key}", path=str(path), reason=exc.strerror or str(exc))


def main(argv: list[str] | None = None) -> int:
    """Run one command. Any failure caused by the input or the machine (a bad file, a setting out of
    range, a read-only folder, a full disk) is one plain ``error:`` line and exit code 2; anything
    else is a bug in GAN Classroom and keeps its traceback, with a request to report it (exit 1)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a refused argument (2) or --help (0): the code, as from a command
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(translate("errors.cli.interrupted"), file=sys.stderr)
        return 130
    except OSError as exc:  # before ValueError-likes: includes FileNotFoundError, PermissionError
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"error: {translate('errors.cli.out_of_memory')}", file=sys.stderr)
        return 2
    # DatasetError, CheckpointError, ConfigError ... are ValueErrors (LocalizedError); the others
    # come from hostile files that slipped past a check (a damaged zip, absurd numbers, deep nesting).
    except (ValueError, zipfile.BadZipFile, OverflowError, RecursionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - a bug: show it, and say so
        traceback.print_exc()
        print(translate("errors.cli.bug"), file=sys.stderr)
        return 1
