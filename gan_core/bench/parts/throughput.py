"""``throughput``: images/s of ``Trainer.step`` for each preset vs a plain PyTorch loop of the same
models (``ReferenceLoop``, the pytorch/examples DCGAN way), measured alternately A B A B ...
(median), plus model FLOPs per step (``FlopCounterMode``) and, in a full run, the share of the
matmul peak they reach."""

from __future__ import annotations

from gan_core.bench.harness import BenchContext, Goal, Part, alternate, count_step_flops, fmt, paired_ratio, table
from gan_core.bench.reference import ReferenceLoop


def trainer_throughput(ctx: BenchContext) -> dict:
    """Trainer vs ReferenceLoop for every preset: images/s, ratio, FLOPs per step and per second."""
    from gan_core.trainer import TrainConfig, Trainer

    settings, dataset, device = ctx.settings, ctx.dataset, ctx.device
    results = {}
    for preset in settings.presets:
        config = TrainConfig(preset=preset, dataset=dataset.name, batch_size=settings.batch_size, seed=0)
        batch = config.resolved().batch_size
        trainer = Trainer(config, dataset, device=device)
        reference = ReferenceLoop(config, dataset.images, device)
        flops_trainer = count_step_flops(trainer.step)
        flops_reference = count_step_flops(reference.step)
        timing = alternate({"trainer": trainer.step, "reference": reference.step}, batch, settings.rounds,
                           settings.round_seconds)
        ips = timing["images_per_sec"]
        steps_per_sec = ips["trainer"] / batch
        results[preset] = {
            "batch_size": batch,
            "trainer_images_per_sec": ips["trainer"],
            "reference_images_per_sec": ips["reference"],
            "ratio": paired_ratio(timing["per_round"]["trainer"], timing["per_round"]["reference"]),
            "flops_per_step_trainer": flops_trainer,
            "flops_per_step_reference": flops_reference,
            "trainer_flops_per_sec": flops_trainer * steps_per_sec,
            # "useful" FLOP/s: the work the reference needs per step, at the trainer's speed
            "useful_flops_per_sec": flops_reference * steps_per_sec,
            "reference_flops_per_sec": flops_reference * ips["reference"] / batch,
            "timing": timing,
        }
    return results


def add_peak_shares(throughput: dict, peak: float) -> None:
    """Add ``*_peak_share`` = FLOP/s / matmul peak next to every ``*_flops_per_sec``."""
    for r in throughput.values():
        for who in ("trainer", "useful", "reference"):
            r[f"{who}_peak_share"] = r[f"{who}_flops_per_sec"] / peak


def markdown(throughput: dict) -> list[str]:
    rows = [[preset, str(r["batch_size"]), fmt(r["trainer_images_per_sec"], 0), fmt(r["reference_images_per_sec"], 0),
             f"{r['ratio']:.2f}", f"{r['flops_per_step_trainer'] / 1e9:.2f}", f"{r['flops_per_step_reference'] / 1e9:.2f}",
             f"{r['trainer_flops_per_sec'] / 1e9:.1f}", f"{r['trainer_peak_share']:.0%}", f"{r['useful_peak_share']:.0%}"]
            for preset, r in throughput.items()]
    return ["", "### Training throughput (mnist5k, 28x28)", "",
            "Images/s are medians of alternating rounds (trainer then plain loop, plain loop then trainer, "
            "...); the ratio is the median, over pairs of rounds, of the geometric mean of the pair's two ratios "
            "(each round's two sides run back to back; a pair runs them in both orders). "
            "FLOPs are "
            "matmul/convolution FLOPs of one step (forward + backward) from `FlopCounterMode`.", "",
            *table(["preset", "batch", "Trainer img/s", "plain loop img/s", "ratio", "GFLOP/step Trainer",
                    "GFLOP/step plain", "Trainer GFLOP/s", "share of peak", "useful share"], rows),
            "", "*useful share*: the plain loop's FLOPs per step (the work a step needs) at the Trainer's speed."]


PART = Part("throughput", 20, trainer_throughput, markdown, goals=(
    Goal("trainer_vs_reference", "Trainer / plain loop throughput (worst preset)", 1.0,
         lambda tp: min(r["ratio"] for r in tp.values()) if tp else None),
    Goal("peak_share_tf_tutorial", "tf-tutorial FLOP/s as share of the matmul peak", 0.60,
         lambda tp: tp["tf-tutorial"]["trainer_peak_share"] if "tf-tutorial" in tp else None,
         target_text="≥ {:.0%}", value_text="{:.0%}"),
))
