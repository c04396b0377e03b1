"""``log_every``: on CUDA, images/s of ``Trainer.step()`` (reads the numbers back every step) vs
``Trainer.run_steps(25)`` (``--log-every 25``: one read per block); elsewhere not measured, the CPU
has no queue to drain (``--quick`` runs it anyway)."""

from __future__ import annotations

from gan_core.bench.harness import BenchContext, Part, alternate, section, table


def log_every_throughput(ctx: BenchContext) -> dict:
    """images/s reading the losses back every step vs once per block of steps (``--log-every``)."""
    from gan_core.trainer import TrainConfig, Trainer

    settings, dataset, device = ctx.settings, ctx.dataset, ctx.device
    if device.type != "cuda" and not settings.quick:
        return {"available": False, "reason": f"no GPU here ({device.type}): a read-back has no queue to wait for"}
    results = {}
    for preset in settings.presets:
        every_step = Trainer(TrainConfig(preset=preset, dataset=dataset.name, batch_size=settings.batch_size, seed=0),
                             dataset, device=device)
        blocked = Trainer(every_step.config, dataset, device=device)
        batch = every_step.config.batch_size
        n = ctx.sizes["block"]
        # one side's "step" is a block of n steps either way, so both count n x batch images
        timing = alternate({"every_step": lambda: [every_step.step() for _ in range(n)],
                            "log_every": lambda: blocked.run_steps(n)}, batch * n, settings.rounds, settings.round_seconds)
        ips = timing["images_per_sec"]
        results[preset] = {"block": n, "every_step_images_per_sec": ips["every_step"],
                           "log_every_images_per_sec": ips["log_every"], "speedup": ips["log_every"] / ips["every_step"]}
    return {"available": True, "presets": results}


def markdown(le: dict) -> list[str]:
    return section("Reading the numbers back (--log-every)", le, lambda r: table(
        ["preset", "block", "every step img/s", "--log-every img/s", "speed-up"],
        [[name, str(p["block"]), f"{p['every_step_images_per_sec']:,.0f}", f"{p['log_every_images_per_sec']:,.0f}",
          f"{p['speedup']:.2f}"] for name, p in r["presets"].items()]))


PART = Part("log_every", 100, log_every_throughput, markdown, sizes={"block": (25, 2)})
