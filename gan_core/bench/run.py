"""The whole benchmark: the machine, every part in order (``run_bench``), the goals, and the
markdown between BENCHMARKS.md's bench markers (``write_markdown``)."""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from pathlib import Path
from typing import Callable

import torch

from gan_core.bench.harness import BenchContext, BenchSettings, Goal, table
from gan_core.bench.parts import PARTS
from gan_core.bench.parts.matmul_peak import keep_best, matmul_peak
from gan_core.bench.parts.throughput import add_peak_shares

GOALS: dict[str, Goal] = {goal.name: goal for part in PARTS.values() for goal in part.goals}  # the shipped goals
MARK_START, MARK_END = "<!-- bench:start -->", "<!-- bench:end -->"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: torch.device) -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "parallel_backend": "OpenMP" if "OpenMP" in torch.__config__.parallel_info() else "other",
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
    }


def run_bench(settings: BenchSettings, device: str = "auto", threads: int | None = None,
              progress: Callable[[str], None] | None = None, only: tuple[str, ...] | None = None) -> dict:
    """Every part (or just those named in ``only``), in order; returns the JSON-able result.

    ``goals`` says which goals were met; it and the end-of-run peak are only there when every part ran.
    """
    from gan_core.data.datasets import load_dataset
    from gan_core.device import select_device, set_cpu_threads

    if only is not None:
        unknown = sorted(set(only) - set(PARTS))
        if unknown:
            raise ValueError(f"unknown bench parts {unknown}; choose from {', '.join(PARTS)}")
    say = progress or (lambda _msg: None)
    set_cpu_threads(threads)
    dev = select_device(device)
    result: dict = {"quick": settings.quick, "machine": machine_info(dev)}
    started = time.perf_counter()
    ctx = BenchContext(settings, load_dataset("mnist5k"), dev, device, threads)
    result["part_seconds"] = {"load_dataset": time.perf_counter() - started}
    for part in PARTS.values():
        if only is not None and part.name not in only:
            continue
        say(part.name.replace("_", " "))
        t = time.perf_counter()
        result[part.name] = part.run(dataclasses.replace(ctx, sizes=part.sized(settings.quick)))
        result["part_seconds"][part.name] = time.perf_counter() - t
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    if only is not None:
        result["parts"] = list(only)
        result["total_seconds"] = time.perf_counter() - started
        return result
    keep_best(result["matmul_peak"], matmul_peak(**PARTS["matmul_peak"].sized(settings.quick)))
    add_peak_shares(result["throughput"], result["matmul_peak"]["flops_per_sec"])
    result["goals"] = goals(result)
    result["total_seconds"] = time.perf_counter() - started
    return result


def goals(result: dict) -> dict:
    """Each goal with its measured value and whether it is met (None: not measured, also when its part
    did not run)."""
    out = {}
    for part in PARTS.values():
        for goal in part.goals:
            value = goal.measure(result.get(part.name) or {})
            out[goal.name] = {"target": goal.target, "value": value, "met": goal.met(value)}
    return out


def _goals_markdown(measured: dict) -> list[str]:
    rows = []
    for goal in (goal for part in PARTS.values() for goal in part.goals if goal.name in measured):
        g = measured[goal.name]
        rows.append([goal.label, goal.target_text.format(g["target"]),
                     "–" if g["value"] is None else goal.value_text.format(g["value"]),
                     "–" if g["met"] is None else ("yes" if g["met"] else "no")])
    return ["", "### Goals", "", *table(["goal", "target", "measured", "met"], rows)]


def markdown(result: dict) -> str:
    """The result as markdown tables (the part of BENCHMARKS.md between the bench markers): the
    machine and its matmul peak, the goals, then every part's own section."""
    m = result["machine"]
    lines = [
        f"Measured by `python -m gan_core bench{' --quick' if result['quick'] else ''}` on "
        f"{m['cpu']}, {m['cores']} cores, {m['threads']} torch threads, device {m['device']}, torch {m['torch']}, "
        f"Python {m['python']}, OMP_WAIT_POLICY={m.get('omp_wait_policy') or 'unset'}. Load average at start {m['load_average_at_start']}, at end "
        f"{m.get('load_average_at_end')} (other work was running on the machine if these exceed 0.5).",
        *PARTS["matmul_peak"].markdown(result["matmul_peak"]),
        *_goals_markdown(result["goals"]),
    ]
    for part in PARTS.values():
        if part.name != "matmul_peak" and part.markdown is not None and part.name in result:
            lines += part.markdown(result[part.name])
    lines += ["", f"Whole benchmark: {result['total_seconds']:.0f} s."]
    return "\n".join(lines)


def write_markdown(result: dict, path: str | Path) -> Path:
    """Put the tables between the bench markers of ``path``, keeping any text around them."""
    path = Path(path)
    block = f"{MARK_START}\n{markdown(result)}\n{MARK_END}"
    text = path.read_text() if path.is_file() else ""
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        text = head + block + rest.split(MARK_END, 1)[1]
    else:
        text = "# Benchmarks\n\n" + block + "\n" + (("\n" + text) if text else "")
    path.write_text(text)
    return path
