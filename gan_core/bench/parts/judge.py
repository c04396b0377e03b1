"""``judge``: seconds the independent judge (``gan_core.evaluation.two_sample``) takes for N = 1,000 real
and 1,000 generated 32x32 colour images: generating the fakes, training the judge, its features, the
copies search and the spreads. The real side is mnist5k resized to 32 px and tinted a random colour per
image; the fakes come from a freshly built dcgan generator (what the judge does not depend on)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_core.bench.harness import BenchContext, Goal, Part, section, table, timed


def colour_images(grey: torch.Tensor, n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    """n grey images in [-1, 1] resized to ``size`` and tinted a random colour each, as uint8 (n, 3, size, size)."""
    gen = torch.Generator().manual_seed(seed)
    x = F.interpolate(grey[:n].float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    tint = torch.rand(n, 3, 1, 1, generator=gen) * 0.8 + 0.2
    return ((x + 1) * 127.5 * tint).round().clamp(0, 255).to(torch.uint8)


def judge_time(ctx: BenchContext) -> dict:
    from gan_core.evaluation.two_sample import JudgeConfig, judge_generator
    from gan_core.models import build_generator, default_model_config

    n = ctx.sizes["n"]
    real = colour_images(ctx.dataset.images, len(ctx.dataset.images))
    config = default_model_config("dcgan", image_size=32, channels=3)
    torch.manual_seed(0)
    generator = build_generator(config).to(ctx.device).eval()
    judge = JudgeConfig(n=n, device=ctx.device.type)
    result = {}
    seconds = timed(lambda: result.update(verdict=judge_generator(generator, config.latent_dim, real, judge)))
    verdict = result["verdict"]
    return {"available": True, "n": n, "image": "3x32x32", "seconds": seconds,
            "epochs": judge.epochs, "accuracy": verdict.two_sample["accuracy"],
            "reference_images": verdict.copies["reference_size"], "device": ctx.device.type}


def markdown(r: dict) -> list[str]:
    return section("Judge (two-sample test)", r, lambda r: [
        f"N = {r['n']:,} real + {r['n']:,} generated images, {r['image']}, {r['epochs']} epochs on {r['device']}; "
        f"{r['reference_images']:,} training images searched for copies.", "",
        *table(["", "value"], [["seconds (generate, train the judge, features, copies, spreads)", f"{r['seconds']:.1f}"],
                               ["accuracy of an untrained dcgan's fakes", f"{r['accuracy']:.3f}"]])])


PART = Part("judge", 115, judge_time, markdown, sizes={"n": (1000, 40)}, goals=(
    Goal("judge_seconds", "seconds to judge N = 1,000 at 32x32 RGB", 60.0, lambda r: r.get("seconds"),
         lower_is_better=True, target_text="≤ {:.0f} s", value_text="{:.1f}"),
))
