"""``python -m gan_core bench``: run the benchmark (``gan_core.bench``), print its JSON, write the
markdown tables into BENCHMARKS.md."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from gan_core.bench import PARTS, BenchSettings, run_bench, write_markdown
from gan_core.device import DEVICE_CHOICES
from gan_core.paths import REPO_ROOT
from gan_core.settings import THREADS, add_flag


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``bench`` sub-command."""
    p = sub.add_parser(
        "bench", help="measure training speed, FLOP/s, time to quality, app overhead, latencies; write BENCHMARKS.md",
        description="Runs every benchmark part, prints the result as JSON and writes the markdown tables into "
        "--out between <!-- bench:start --> and <!-- bench:end --> (text around them is kept). "
        "Takes about 10 minutes; --quick takes seconds and its numbers mean nothing (for tests).")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmark runs, measures nothing")
    p.add_argument("--out", default=None, help="markdown file to write (default: BENCHMARKS.md, or none with --quick)")
    p.add_argument("--json", default=None, help="also write the JSON to this file")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    add_flag(p, THREADS, dest="threads")
    p.add_argument("--presets", default=None, help="comma-separated presets to time (default: all)")
    p.add_argument("--parts", default=None,
                   help=f"comma-separated parts to run, of {', '.join(PARTS)} (prints JSON only; no markdown)")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    settings = BenchSettings.quick_settings() if args.quick else BenchSettings()
    if args.presets:
        from gan_core.models import get_preset

        names = tuple(p.strip() for p in args.presets.split(",") if p.strip())
        for name in names:
            get_preset(name)  # unknown names: a clear ValueError
        settings = dataclasses.replace(settings, presets=names)
    only = tuple(p.strip() for p in args.parts.split(",") if p.strip()) if args.parts else None
    result = run_bench(settings, device=args.device, threads=args.threads, only=only,
                       progress=lambda msg: print(f"bench: {msg} ...", file=sys.stderr, flush=True))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    if only is not None:  # the markdown tables need every part
        return 0
    out = args.out if args.out is not None else (None if args.quick else str(REPO_ROOT / "BENCHMARKS.md"))
    if out:
        write_markdown(result, out)
        print(f"bench: wrote {out}", file=sys.stderr)
    return 0
