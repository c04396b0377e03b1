"""``amp``: each preset with and without ``--amp`` (images/s, alternating rounds) where the device has
a fast reduced format (CUDA; CPUs with native bfloat16); elsewhere not measured, with the reason
(``--quick`` runs the timing anyway, to test it)."""

from __future__ import annotations

from gan_core.bench.harness import BenchContext, Part, alternate, section, table


def amp_throughput(ctx: BenchContext) -> dict:
    """images/s of every preset with float32 and with ``--amp``, alternating rounds (``alternate``)."""
    from gan_core.precision import choose_precision
    from gan_core.trainer import TrainConfig, Trainer

    settings, dataset, device = ctx.settings, ctx.dataset, ctx.device
    chosen = choose_precision(device, amp=True)
    if chosen.dtype is None and not settings.quick:
        return {"available": False, "reason": chosen.note}
    results = {}
    for preset in settings.presets:
        sides = {}
        for name, amp in (("float32", False), ("amp", True)):
            trainer = Trainer(TrainConfig(preset=preset, dataset=dataset.name, batch_size=settings.batch_size,
                                          seed=0, amp=amp), dataset, device=device)
            sides[name] = trainer.step
        batch = trainer.config.batch_size
        timing = alternate(sides, batch, settings.rounds, settings.round_seconds)
        ips = timing["images_per_sec"]
        results[preset] = {"batch_size": batch, "float32_images_per_sec": ips["float32"],
                           "amp_images_per_sec": ips["amp"], "speedup": ips["amp"] / ips["float32"]}
    return {"available": True, "format": chosen.name, "presets": results}


def markdown(amp: dict) -> list[str]:
    return section("Mixed precision (--amp)", amp, lambda a: [
        f"Reduced format: {a['format']}.", "",
        *table(["preset", "batch", "float32 img/s", "--amp img/s", "speed-up"],
               [[name, str(r["batch_size"]), f"{r['float32_images_per_sec']:,.0f}", f"{r['amp_images_per_sec']:,.0f}",
                 f"{r['speedup']:.2f}"] for name, r in a["presets"].items()])])


PART = Part("amp", 90, amp_throughput, markdown)
