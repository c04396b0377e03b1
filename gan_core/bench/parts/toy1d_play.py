"""``toy1d_play``: the 1-D page's Play loop without the UI: figure updates and Algorithm 1's updates
(D or G steps) per second (the browser's frame rate is ``scripts/bench_play_browser.py``). JSON only."""

from __future__ import annotations

import time

from gan_core.bench.harness import BenchContext, Part


def toy1d_play(ctx: BenchContext) -> dict:
    """Each tick trains single updates for the page's tick budget, then computes the frame
    (``Toy1DTrainer.view``), on the page's default settings (p_data N(2, 0.5))."""
    from gan_core.toy.toy1d import Gaussian
    from gan_core.toy.toy1d_train import Toy1DTrainer
    from gan_core.toy.toy_gan import PLAY_TICK_BUDGET

    trainer = Toy1DTrainer(Gaussian(2.0, 0.5))
    start, ticks, updates = time.perf_counter(), 0, 0
    while time.perf_counter() - start < ctx.sizes["seconds"]:
        updates += trainer.run_for(PLAY_TICK_BUDGET, "update")
        trainer.view()
        ticks += 1
    elapsed = time.perf_counter() - start
    return {"ticks_per_second": ticks / elapsed, "updates_per_second": updates / elapsed, "ticks": ticks,
            "updates": updates, "tick_budget_s": PLAY_TICK_BUDGET, "seconds": elapsed}


PART = Part("toy1d_play", 70, toy1d_play, sizes={"seconds": (3.0, 0.2)})
