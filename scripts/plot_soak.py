"""One PNG of a lecture-long soak (``scripts/bench_class_load.py --soak``), for BENCHMARKS.md.

    python scripts/plot_soak.py soak.csv soak.png

Three panels over the lecture's minutes, one point per window (at its end): slider-to-image p50, p95 and
max with the 1 s goal; the resident memory of each app process and of its child processes (training
runs); the disk used under the runs folder with its quota. ``bench_class_load.py --plot PNG`` draws
the same from the soak it just ran.
"""

from __future__ import annotations

import argparse
import csv
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

GOAL_MS = 1000  # slider-to-image p95 (issue 30)


def number(value) -> float | None:
    """A CSV cell (or a row's value) as a number; None when empty."""
    if value is None or value == "":
        return None
    return float(value)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plot(rows: list[dict], png: Path, title: str = "") -> None:
    """Draw the windows ``rows`` (the soak's JSON "windows", or its CSV rows) into ``png``."""
    x = [number(r["end_min"]) for r in rows]
    fig, (lat, mem, disk) = plt.subplots(3, 1, figsize=(9, 9), sharex=True, constrained_layout=True)
    for key, label in (("slider_to_image_p50_ms", "p50"), ("slider_to_image_p95_ms", "p95")):
        lat.plot(x, [number(r[key]) for r in rows], marker="o", label=label)
    lat.axhline(GOAL_MS, color="red", linestyle="--", label="goal: p95 ≤ 1 s")
    lat.set_ylabel("slider-to-image (ms)")
    lat.set_ylim(0, max([GOAL_MS, *(number(r["slider_to_image_max_ms"]) or 0 for r in rows)]) * 1.1)
    lat.plot(x, [number(r["slider_to_image_max_ms"]) for r in rows], marker=".", linestyle=":", color="grey",
             label="max")
    lat.legend(loc="upper left", fontsize="small", ncols=4)
    apps = sorted({k[:-len("_rss_mb")] for r in rows for k in r if k.startswith("app") and k.endswith("_rss_mb")
                   and not k.endswith("children_rss_mb")})
    for app in apps:
        line, = mem.plot(x, [number(r.get(f"{app}_rss_mb")) for r in rows], marker="o", label=f"{app} process")
        mem.plot(x, [number(r.get(f"{app}_children_rss_mb")) for r in rows], marker=".", linestyle=":",
                 color=line.get_color(), label=f"{app}'s child processes")
    mem.set_ylabel("resident memory (MB)")
    mem.set_ylim(0, max((number(r["rss_total_mb"]) or 0 for r in rows), default=0) * 1.4 or None)
    mem.legend(loc="upper left", fontsize="small", ncols=2)
    disk.plot(x, [number(r["disk_mb"]) for r in rows], marker="o", label="runs folder")
    quota = number(rows[0].get("disk_quota_mb")) if rows else None
    if quota is not None:
        disk.axhline(quota, color="red", linestyle="--", label=f"quota {quota:g} MB")
    disk.set_ylabel("disk (MB)")
    disk.set_xlabel("minute of the lecture (end of each window)")
    disk.set_ylim(0, max([quota or 0, *(number(r["disk_max_mb"]) or 0 for r in rows)]) * 1.2 or None)
    disk.legend(loc="upper left", fontsize="small")
    if title:
        fig.suptitle("\n".join(textwrap.wrap(title, 110)), fontsize="small")
    fig.savefig(png, dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", type=Path, help="the windows (bench_class_load.py --soak ... --csv)")
    ap.add_argument("png", type=Path)
    args = ap.parse_args()
    if not args.csv.is_file():
        ap.error(f"no such file: {args.csv}")
    rows = read_csv(args.csv)
    if not rows:
        ap.error(f"{args.csv} has no windows")
    plot(rows, args.png, title=args.csv.name)
    print(args.png, file=sys.stderr)


if __name__ == "__main__":
    main()
