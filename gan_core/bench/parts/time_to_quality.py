"""``time_to_quality``: training seconds until samples of the small preset on mnist5k reach classifier
confidence >= 80% with all ten classes present (evaluation time excluded)."""

from __future__ import annotations

import time

import torch

from gan_core.bench.harness import BenchContext, Goal, Part, section, table

QUALITY_TARGET = {"confidence": 0.8, "classes_covered": 10}


def time_to_quality(ctx: BenchContext, config=None) -> dict:
    """Training seconds (evaluation excluded) until samples reach ``QUALITY_TARGET``.

    ``config`` defaults to the small preset with its default hyper-parameters.
    """
    from gan_core.evaluation.metrics import quick_metrics
    from gan_core.trainer import TrainConfig, Trainer

    settings, dataset = ctx.settings, ctx.dataset
    cap, every, samples = ctx.sizes["cap_seconds"], ctx.sizes["eval_every"], ctx.sizes["samples"]
    config = config or TrainConfig(preset="small", dataset=dataset.name, batch_size=settings.batch_size, seed=0)
    trainer = Trainer(config, dataset, device=ctx.device)
    z = trainer.sample_noise(samples, torch.Generator().manual_seed(1234))
    curve, reached = [], None
    wall_start = time.perf_counter()
    while trainer.elapsed < cap and time.perf_counter() - wall_start < 3 * cap:
        for _ in range(every):
            trainer.step()
        m = quick_metrics(trainer.generate(z), dataset.name)
        if m is None:
            return {"available": False, "reason": f"no classifier for {dataset.name}"}
        curve.append({"step": trainer.step_count, "seconds": round(trainer.elapsed, 2),
                      "confidence": round(m["confidence"], 3), "classes_covered": m["classes_covered"]})
        if m["confidence"] >= QUALITY_TARGET["confidence"] and m["classes_covered"] >= QUALITY_TARGET["classes_covered"]:
            reached = curve[-1]
            break
    return {
        "available": True,
        "target": dict(QUALITY_TARGET, samples=samples, evaluated_every_steps=every),
        "reached": reached is not None,
        "seconds": reached["seconds"] if reached else None,
        "steps": reached["step"] if reached else None,
        "cap_seconds": cap,
        "preset": trainer.config.preset,
        "batch_size": trainer.config.batch_size,
        "recipe": {k: trainer.config.to_dict()[k] for k in ("ngf", "ndf", "fc_width", "latent_dim", "lr_d", "lr_g", "ema", "reuse_fake")},
        "curve": curve,
    }


def _body(ttq: dict) -> list[str]:
    t = ttq["target"]
    outcome = (f"**{ttq['seconds']:.1f} s** of training ({ttq['steps']} steps)" if ttq["reached"]
               else f"not reached within {ttq['cap_seconds']:.0f} s")
    r = ttq.get("recipe") or {}
    recipe = ", ".join(f"{k} {v}" for k, v in r.items())
    rows = [[str(p["step"]), f"{p['seconds']:.1f}", f"{p['confidence']:.2f}", str(p["classes_covered"])]
            for p in ttq["curve"]]
    return [f"{ttq['preset']} preset, batch {ttq['batch_size']}{f' ({recipe})' if recipe else ''}, mnist5k: "
            f"{outcome} until at least "
            f"{t['confidence']:.0%} of {t['samples']} samples are classified with p ≥ 0.9 and all "
            f"{t['classes_covered']} classes have ≥ 5% of the samples (evaluated every "
            f"{t['evaluated_every_steps']} steps; evaluation time excluded).",
            "", *table(["step", "seconds", "confidence", "classes"], rows)]


def markdown(ttq: dict) -> list[str]:
    return section("Time to quality", ttq, _body)


PART = Part("time_to_quality", 40, time_to_quality, markdown,
            sizes={"cap_seconds": (180.0, 1.0), "eval_every": (50, 5), "samples": (500, 50)}, goals=(
    Goal("time_to_quality_seconds", "seconds to 80% confident, 10 classes (small, mnist5k)", 60.0,
         lambda ttq: ttq.get("seconds"), lower_is_better=True, target_text="≤ {:.0f} s"),
))
