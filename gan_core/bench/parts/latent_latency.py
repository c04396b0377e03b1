"""``latent_latency``: milliseconds (median) of the latent page's operations on the shipped
generator: one slider image, a 16-frame interpolation, SeFa directions."""

from __future__ import annotations

import statistics
from typing import Callable

from gan_core.bench.harness import BenchContext, Part, section, table, timed
from gan_core.paths import REPO_ROOT


def latent_latency(ctx: BenchContext) -> dict:
    from gan_core import latent
    from gan_core.models import build_generator, default_model_config

    repeats = ctx.sizes["repeats"]
    shipped = REPO_ROOT / "assets" / "generator-mnist5k"
    if (shipped / "config.json").is_file():
        from gan_core.checkpoint import load_checkpoint

        generator, source = load_checkpoint(shipped).generator, "assets/generator-mnist5k"
    else:
        generator, source = build_generator(default_model_config("small")), "a freshly built small generator"
    z0, z1 = latent.sample_latents(2, generator.latent_dim, seed=0)

    def median_ms(fn: Callable[[], object]) -> float:
        fn()
        return 1000 * statistics.median(timed(fn) for _ in range(repeats))

    return {
        "available": True,
        "generator": source,
        "one_image_ms": median_ms(lambda: latent.render(generator, z0)),
        "interpolation_16_frames_ms": median_ms(lambda: latent.render(generator, latent.interpolation(z0, z1, 16))),
        "sefa_directions_ms": median_ms(lambda: latent.sefa_directions(generator, 5)),
        "repeats": repeats,
    }


def markdown(lat: dict) -> list[str]:
    return section("Latent page", lat, lambda r: [
        f"Generator: {r['generator']}; medians of {r['repeats']} runs.", "",
        *table(["operation", "ms"], [["one slider image", f"{r['one_image_ms']:.2f}"],
                                     ["16-frame interpolation (slerp + render)", f"{r['interpolation_16_frames_ms']:.2f}"],
                                     ["SeFa directions (k = 5)", f"{r['sefa_directions_ms']:.2f}"]])])


PART = Part("latent_latency", 60, latent_latency, markdown, sizes={"repeats": (20, 2)})
