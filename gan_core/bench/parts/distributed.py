"""``distributed``: the small preset on mnist5k with the global batch on 1 process vs 2 gloo processes
under ``torchrun`` (one thread each): images/s and the scaling efficiency."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from gan_core.bench.harness import BenchContext, Part
from gan_core.paths import REPO_ROOT


def _cli_images_per_sec(processes: int, steps: int, batch: int, out: Path) -> float:
    """Median images/s of a CLI run's metrics.csv (its first fifth left out: warm-up); 1 process runs plainly,
    more under ``torchrun`` with gloo, one CPU thread each."""
    import csv
    import socket

    train = ["-m", "gan_core", "train", "--preset", "small", "--dataset", "mnist5k", "--steps", str(steps),
             "--batch-size", str(batch), "--threads", "1", "--sample-every", "0", "--save-every", "0", "--out", str(out)]
    if processes > 1:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        launcher = ["-m", "torch.distributed.run", "--nproc_per_node", str(processes), "--master_addr", "127.0.0.1",
                    "--master_port", str(port)]
        argv = [sys.executable, *launcher, *train]
    else:
        argv = [sys.executable, *train]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"training with {processes} process(es) failed: {done.stderr[-500:]}")
    with open(out / "metrics.csv", newline="") as f:
        rates = [float(row["images_per_sec"]) for row in csv.DictReader(f)]
    return statistics.median(rates[len(rates) // 5:])


def distributed_scaling(ctx: BenchContext) -> dict:
    """1 vs 2 processes on the same global batch (CPU, gloo, one thread each): images/s, efficiency."""
    import tempfile

    steps, batch = ctx.sizes["steps"], 64
    with tempfile.TemporaryDirectory() as tmp:
        one = _cli_images_per_sec(1, steps, batch, Path(tmp) / "one")
        two = _cli_images_per_sec(2, steps, batch, Path(tmp) / "two")
    return {"preset": "small", "batch_size": batch, "steps": steps, "backend": "gloo",
            "threads_per_process": 1, "images_per_sec": {"1": one, "2": two}, "scaling_efficiency": two / (2 * one)}


def markdown(dd: dict) -> list[str]:
    ips = dd["images_per_sec"]
    return ["", "### Several processes (torchrun, CPU)", "",
            f"{dd['preset']} preset, mnist5k, global batch {dd['batch_size']}, {dd['steps']} steps, "
            f"{dd['backend']}, {dd['threads_per_process']} thread per process (median images/s of metrics.csv "
            f"after the first fifth): 1 process {ips['1']:,.0f} img/s, 2 processes {ips['2']:,.0f} img/s, "
            f"scaling efficiency **{dd['scaling_efficiency']:.0%}** (2 processes / twice 1)."]


PART = Part("distributed", 110, distributed_scaling, markdown, sizes={"steps": (150, 4)})
