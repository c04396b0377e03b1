"""What every benchmark part uses: the sizes (``BenchSettings``), what a part is given
(``BenchContext``), what a part and a goal are (``Part``, ``Goal``), the timing tools (``timed``,
``alternate`` with ``paired_ratio``, ``count_step_flops``, ``fresh_process_seconds``) and the
markdown helpers its section of BENCHMARKS.md is written with."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from gan_core.paths import REPO_ROOT


@dataclass(frozen=True)
class BenchSettings:
    """What the timing parts share; ``quick_settings()`` is the tiny version for tests. A part's own
    sizes are declared with the part (``Part.sizes``)."""

    quick: bool = False
    presets: tuple[str, ...] = ("small", "dcgan", "tf-tutorial")
    batch_size: int | None = None  # None: each preset's default
    rounds: int = 14  # A/B rounds per preset: 7 pairs of A B, B A (see paired_ratio)
    round_seconds: float = 3.0  # target length of one side of one round

    @classmethod
    def quick_settings(cls) -> "BenchSettings":
        return cls(quick=True, batch_size=8, rounds=2, round_seconds=0.05)


@dataclass(frozen=True)
class BenchContext:
    """What a part is given: the shared settings, its own ``sizes`` (``Part.sizes``, full or
    ``--quick``), mnist5k (loaded once), the device, and the options as typed (``device_name`` "auto"
    and ``threads`` are passed on to the fresh processes some parts start)."""

    settings: BenchSettings
    dataset: object  # gan_core.data.datasets.ImageDataset
    device: torch.device
    device_name: str = "auto"
    threads: int | None = None
    sizes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Goal:
    """A speed goal: a value read from one part's result, and the target it must reach."""

    name: str
    label: str  # its row in BENCHMARKS.md's goal table
    target: float
    measure: Callable[[dict], float | None]  # the value, from the part's result (None: not measured)
    lower_is_better: bool = False
    target_text: str = "≥ {:.1f}"
    value_text: str = "{:.2f}"

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value <= self.target if self.lower_is_better else value >= self.target


@dataclass(frozen=True)
class Part:
    """One measurement. ``run`` returns plain (JSON-able) data, stored under ``name`` in the result;
    ``markdown`` turns that data into its section of BENCHMARKS.md (None: JSON only). ``order``
    places it among the others, in the run and in the markdown (the shipped parts use 10, 20, ...).
    ``sizes``: name -> (full, ``--quick``) value, given to ``run`` as ``ctx.sizes[name]``."""

    name: str
    order: int
    run: Callable[[BenchContext], dict]
    markdown: Callable[[dict], list[str]] | None = None
    goals: tuple[Goal, ...] = ()
    sizes: dict[str, tuple[float, float]] = field(default_factory=dict)

    def sized(self, quick: bool) -> dict:
        """This part's sizes for a full run or a ``--quick`` one."""
        return {name: values[1] if quick else values[0] for name, values in self.sizes.items()}


# --- timing -------------------------------------------------------------------------------------------

def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def images_per_sec(step: Callable[[], object], steps: int, batch: int) -> float:
    return steps * batch / timed(lambda: [step() for _ in range(steps)])


def alternate(sides: dict[str, Callable[[], object]], batch: int, rounds: int, round_seconds: float) -> dict:
    """Run each side for ~round_seconds per round, alternating A B, B A, A B ...; images/s per round."""
    step_time = {}
    for name, step in sides.items():  # warm-up, and the step count that fills a round
        step()
        step_time[name] = max(timed(step), 1e-6)
    steps = max(1, round(round_seconds / max(step_time.values())))
    rates: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides.items())
    for i in range(rounds):
        # A B, then B A, ...: a machine speeding up or slowing down during a round favours neither side
        for name, step in (order if i % 2 == 0 else order[::-1]):
            rates[name].append(images_per_sec(step, steps, batch))
    return {"steps_per_round": steps, "rounds": rounds,
            "images_per_sec": {name: statistics.median(r) for name, r in rates.items()},
            "per_round": rates}


def paired_ratio(a: list[float], b: list[float]) -> float:
    """a / b from alternating rounds run A B, B A, A B, ...: the median over round pairs of the
    geometric mean of the pair's two ratios.

    Each round's two sides run back to back, so the machine's speed drifting between rounds (it
    does, on a shared VM) cancels; and whichever side runs second in a round measures a few percent
    faster (switching models costs the first one its warm caches), which the pair's two orders cancel.
    """
    ratios = [x / y for x, y in zip(a, b)]
    pairs = [math.sqrt(ratios[i] * ratios[i + 1]) for i in range(0, len(ratios) - 1, 2)]
    return statistics.median(pairs or ratios)


def count_step_flops(step: Callable[[], object]) -> int:
    """Matmul/convolution FLOPs (forward + backward) of one call, by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())


def fresh_process_seconds(argv: list[str]) -> tuple[float, str]:
    """Wall time and stdout of ``python *argv`` in a fresh process started in the repository."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"the probe process failed: {done.stderr.strip()[-500:]}")
    return seconds, done.stdout


# --- markdown -----------------------------------------------------------------------------------------

def fmt(x, digits: int = 2) -> str:
    """A number for a table: thousands separated, ``digits`` decimals for a float, "–" for None."""
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table's lines."""
    return ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |",
            *("| " + " | ".join(row) + " |" for row in rows)]


def section(title: str, result: dict, body: Callable[[dict], list[str]]) -> list[str]:
    """A ``### title`` section: ``body(result)``, or why the part was not measured."""
    lines = ["", f"### {title}", ""]
    if not result.get("available"):
        return lines + [f"Not measured: {result.get('reason')}."]
    return lines + body(result)
