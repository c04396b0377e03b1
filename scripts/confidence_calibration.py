"""What a classifier-confidence number means: the mnist5k classifier's confidence on real digits
that were blurred or smoothly wobbled by a known amount.

    python scripts/confidence_calibration.py

Confidence = share of images the shipped classifier labels with probability >= 0.9 (the metric of
``gan_core.evaluation.metrics``). 1,000 random mnist5k digits; the wobble is a smooth random displacement
field (a 7x7 grid of N(0, amp²) pixel offsets, bicubically upsampled), like the uneven strokes of
an early GAN. Prints one line per distortion.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from gan_core.data.datasets import load_dataset, to_float_images  # noqa: E402
from gan_core.evaluation.metrics import quick_metrics  # noqa: E402


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    k = torch.arange(-2, 3, dtype=torch.float32)
    w = torch.exp(-k ** 2 / (2 * sigma ** 2))
    w = w / w.sum()
    return F.conv2d(x, (w[:, None] * w[None, :])[None, None], padding=2)


def wobble(x: torch.Tensor, amp: float, gen: torch.Generator) -> torch.Tensor:
    n, size = len(x), x.shape[-1]
    offsets = F.interpolate(torch.randn(n, 2, 7, 7, generator=gen) * amp, size=(size, size), mode="bicubic",
                            align_corners=False)
    grid = F.affine_grid(torch.eye(2, 3).expand(n, 2, 3), (n, 1, size, size), align_corners=False)
    return F.grid_sample(x, grid + offsets.permute(0, 2, 3, 1) * (2 / size), align_corners=False,
                         padding_mode="border")


def main() -> None:
    torch.set_num_threads(1)
    images = to_float_images(load_dataset("mnist5k").images)  # blurs and wobbles work on floats
    x = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(1))[:1000]]
    gen = torch.Generator().manual_seed(0)
    cases = [("real digits", x)]
    cases += [(f"Gaussian blur sigma {s} px", blur(x, s)) for s in (0.5, 1.0)]
    cases += [(f"wobbled by ~{a} px", wobble(x, a, gen)) for a in (0.5, 1.0, 1.25, 1.5, 2.0)]
    for name, imgs in cases:
        m = quick_metrics(imgs.clamp(-1, 1), "mnist5k")
        print(f"{name:28s} confidence {m['confidence']:.3f}  classes covered {m['classes_covered']}")


if __name__ == "__main__":
    main()
