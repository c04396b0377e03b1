"""``thread_scaling``: Trainer images/s of the small preset with 1 thread vs every core, alternating
(CPU only). On a busy machine OpenMP threads that spin-wait for each other can make 2 threads far
slower than 1; this part shows whether that happens here."""

from __future__ import annotations

import os
from typing import Callable

import torch

from gan_core.bench.harness import BenchContext, Part, alternate


def thread_scaling(ctx: BenchContext) -> dict:
    from gan_core.trainer import TrainConfig, Trainer

    settings, dataset, device = ctx.settings, ctx.dataset, ctx.device
    if device.type != "cpu":
        return {"available": False, "reason": f"device is {device}"}
    cores, before = os.cpu_count() or 1, torch.get_num_threads()
    counts = sorted({1, cores})
    trainer = Trainer(TrainConfig(preset="small", dataset=dataset.name, batch_size=settings.batch_size, seed=0),
                      dataset, device=device)
    batch = trainer.config.batch_size

    def with_threads(n: int) -> Callable[[], object]:
        def step():
            torch.set_num_threads(n)
            trainer.step()
        return step

    try:
        timing = alternate({str(n): with_threads(n) for n in counts}, batch, settings.rounds, settings.round_seconds)
    finally:
        torch.set_num_threads(before)
    return {"available": True, "preset": "small", "batch_size": batch,
            "images_per_sec": {int(n): v for n, v in timing["images_per_sec"].items()}, "timing": timing}


def markdown(ts: dict) -> list[str]:
    if not ts.get("available"):
        return []
    shown = ", ".join(f"{n} thread{'s' if int(n) > 1 else ''}: {v:,.0f} img/s" for n, v in ts["images_per_sec"].items())
    return ["", "### Threads", "", f"small preset, batch {ts['batch_size']}, Trainer alone: {shown}."]


PART = Part("thread_scaling", 30, thread_scaling, markdown)
