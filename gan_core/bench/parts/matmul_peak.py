"""``matmul_peak``: this machine's float32 matmul FLOP/s (the faster of MKL's torch.mm and oneDNN's),
with a 3x3 convolution's FLOP/s beside it. A full run measures it again at the end and keeps the best
(``gan_core.bench.run``); the training parts' FLOP/s are reported as shares of it."""

from __future__ import annotations

import torch
from torch import nn

from gan_core.bench.harness import BenchContext, Part, timed


def matmul_peak(size: int = 2048, repeats: int = 5) -> dict:
    """This machine's float32 matmul peak, and the fastest convolution for comparison.

    torch runs a matmul in two libraries: ``torch.mm`` in MKL and convolutions in oneDNN, and on AMD
    CPUs MKL takes its AVX2 path while oneDNN uses AVX-512 (measured here: torch.mm ~180 GFLOP/s,
    the same matmul as a 1x1 convolution ~220). The peak is the faster of the two matmuls. A 3x3
    convolution, which oneDNN computes with direct kernels, is also timed and reported (not used as
    the peak: it is not a matmul). All in nominal FLOPs (2 per multiply-add), as FlopCounterMode
    counts the models' layers.
    """
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm-up: thread pool, allocator
    mm_best = min(timed(lambda: torch.mm(a, b)) for _ in range(repeats))
    # (4 size) x (size / 2) @ (size / 2) x (size / 2) as a 1x1 convolution: oneDNN's matmul
    k, rows = max(8, size // 2), max(16, 4 * size)
    side = 16
    x1, conv1 = torch.randn(rows // side**2, k, side, side), nn.Conv2d(k, k, 1, bias=False)
    # (64, C, 28, 28) -> (64, C, 28, 28), 3x3: the shape of a DCGAN layer
    channels = max(8, size // 8)
    x3, conv3 = torch.randn(64, channels, 28, 28), nn.Conv2d(channels, channels, 3, padding=1, bias=False)
    with torch.no_grad():
        conv1(x1), conv3(x3)
        onednn_best = min(timed(lambda: conv1(x1)) for _ in range(repeats))
        conv3_best = min(timed(lambda: conv3(x3)) for _ in range(repeats))
    mm_rate = 2 * size**3 / mm_best
    onednn_rate = 2 * x1.shape[0] * side * side * k * k / onednn_best
    conv3_rate = 2 * 64 * channels**2 * 9 * 28 * 28 / conv3_best
    return {"size": size, "seconds": mm_best, "mm_flops_per_sec": mm_rate, "onednn_matmul_flops_per_sec": onednn_rate,
            "onednn_matmul_shape": [x1.shape[0] * side * side, k, k], "conv3x3_channels": channels,
            "conv3x3_flops_per_sec": conv3_rate, "flops_per_sec": max(mm_rate, onednn_rate)}


def keep_best(start: dict, end: dict) -> None:
    """Other work on the machine lowers the peak as much as the training speed: keep the best of the
    runs at the start and at the end in ``start``, so a busy moment at the start cannot flatter the shares."""
    start.update(start_flops_per_sec=start["flops_per_sec"], end_flops_per_sec=end["flops_per_sec"],
                 **{k: max(start[k], end[k]) for k in ("flops_per_sec", "mm_flops_per_sec",
                                                       "onednn_matmul_flops_per_sec", "conv3x3_flops_per_sec")})


def markdown(peak: dict) -> list[str]:
    return ["", f"float32 matmul peak (the faster of a {peak['size']}x{peak['size']} `torch.mm` in MKL, "
            f"{peak['mm_flops_per_sec'] / 1e9:.1f} GFLOP/s, and a {'x'.join(map(str, peak['onednn_matmul_shape']))} "
            f"matmul in oneDNN as a 1x1 convolution, {peak['onednn_matmul_flops_per_sec'] / 1e9:.1f} GFLOP/s; best of "
            f"runs at the start and at the end): **{peak['flops_per_sec'] / 1e9:.1f} GFLOP/s**. For comparison, a 3x3 "
            f"convolution ({peak['conv3x3_channels']} channels, 28x28, oneDNN's direct kernels) ran at "
            f"{peak['conv3x3_flops_per_sec'] / 1e9:.1f} GFLOP/s."]


def _run(ctx: BenchContext) -> dict:
    return matmul_peak(**ctx.sizes)


PART = Part("matmul_peak", 10, _run, markdown, sizes={"size": (2048, 256), "repeats": (5, 2)})
