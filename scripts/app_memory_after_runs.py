"""The app's resident memory after 1 training run and after N (issue 30: "the memory of a finished or
abandoned run is returned"), in this fresh interpreter standing for an app process.

    python scripts/app_memory_after_runs.py [--runs 20] [--isolation process|thread]

Each run is what a student does on the training page: Start a `small` run (batch 32, 10 steps) on
2,000 random 28x28 images, ask for its generator (the latent page), then Stop it (odd runs) or let it
finish (even runs), Save a checkpoint, and Reset (the handle is dropped). Prints JSON: RSS in MiB
before the first run, after it and after the last; the growth from the first; and what the app kept
over its memory before any run (``kept_mb``). tests/test_run_process.py runs it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def resident_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--isolation", choices=("process", "thread"), default="process")
    args = parser.parse_args(argv)
    os.environ["GAN_RUN_ISOLATION"] = args.isolation

    import torch

    from gan_core.data.datasets import ImageDataset
    from gan_core.trainer import TrainConfig
    from gan_core.worker import RunOptions, TrainingRun

    data = ImageDataset("fake", torch.randint(0, 256, (2000, 1, 28, 28), dtype=torch.uint8), None, [])
    folder = Path(tempfile.mkdtemp(prefix="gan-memory-"))

    def one(i: int) -> None:
        run = TrainingRun(TrainConfig(preset="small", batch_size=32, device="cpu"), data, steps=10,
                          options=RunOptions(grid_every_steps=5))
        run.start()
        run.snapshot_generator()
        if i % 2:
            assert run.stop(timeout=60)
        while run.is_alive():
            time.sleep(0.05)
        run.save_checkpoint(folder / str(i))
        snap = run.snapshot()
        assert snap.status in ("finished", "stopped"), snap.message
        assert run.close(timeout=60)
        del run
        gc.collect()

    TrainConfig(preset="small").resolved()  # what the page has imported before anyone trains
    gc.collect()
    before = resident_mb()
    one(0)
    first = resident_mb()
    for i in range(1, args.runs):
        one(i)
    last = resident_mb()
    result = {"isolation": args.isolation, "runs": args.runs, "rss_before_mb": round(before, 1),
              "rss_after_1_mb": round(first, 1), f"rss_after_{args.runs}_mb": round(last, 1),
              "growth": round(last / first - 1, 4), "kept_mb": round(last - before, 1)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
