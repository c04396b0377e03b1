"""Image helpers: sample grids (torchvision's ``make_grid``), upscaling, PNG bytes, animated GIFs."""

from __future__ import annotations

import io
import math
import struct
import zlib
from typing import Sequence

import numpy as np
import torch
from PIL import Image


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] (or uint8 pixels, kept as they are) -> uint8 array (N, H, W, C)."""
    if images.dtype == torch.uint8:
        return images.detach().cpu().permute(0, 2, 3, 1).numpy()
    x = images.detach().float().cpu().clamp(-1, 1)
    x = ((x + 1.0) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def make_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile (N, C, H, W) images in [-1, 1] into one uint8 image (H', W') or (H', W', 3).

    ``nrow`` images per row (torchvision's name; fewer images make one shorter row); default: a square grid.
    """
    import torchvision.utils  # here, not at the top: pages that import this module start faster

    tiles = torch.from_numpy(to_uint8(images)).permute(0, 3, 1, 2)  # (N, C, H, W) uint8
    nrow = nrow or max(1, int(math.ceil(math.sqrt(len(tiles)))))
    grid = torchvision.utils.make_grid(tiles, nrow=nrow, padding=padding, pad_value=pad_value)
    if len(tiles) == 1:  # torchvision hands a single image back without its frame; every grid has one
        grid = torch.nn.functional.pad(grid, (padding,) * 4, value=pad_value)
    # torchvision repeats one channel three times; a grey grid stays one 2-D array here.
    return grid[0].numpy() if images.shape[1] == 1 else grid.permute(1, 2, 0).contiguous().numpy()


def upscale(grid: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling so small digits stay crisp on a projector."""
    if factor <= 1:
        return grid
    return np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)


def png_bytes(image: np.ndarray) -> bytes:
    """An (h, w) grey, (h, w, 1) grey, (h, w, 3) RGB or (h, w, 4) RGBA uint8 array as a PNG file: rows
    unfiltered, deflated at level 2.

    Not Pillow: its encoder tries every row filter on every row, which made it ~3x slower (13 vs 4 ms
    for a 2-D Play frame, ~25 vs ~8 ms for the training page's upscaled 8x8 grid) for a file of about
    the same size (sample grids and Play frames are mostly one colour; level 2 is as fast as level 1
    on them and ~12% smaller). The pages encode several images a second while training or playing."""
    pixels = np.ascontiguousarray(image, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    h, w, channels = pixels.shape
    colour_types = {1: 0, 3: 2, 4: 6}  # grey, RGB, RGBA
    if channels not in colour_types:
        raise ValueError(f"a PNG needs 1, 3 or 4 channels, not {channels}")
    colour_type = colour_types[channels]
    rows = np.zeros((h, 1 + w * channels), np.uint8)  # each row starts with its filter type, 0 (none)
    rows[:, 1:] = pixels.reshape(h, w * channels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)  # 8 bits per sample, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 2))
            + chunk(b"IEND", b""))


def save_png(image: np.ndarray, path) -> None:
    Image.fromarray(image).save(path, format="PNG")


def gif_bytes(frames: Sequence[np.ndarray], duration_ms: int = 200, loop: int = 0) -> bytes:
    """An animated GIF of uint8 frames (all the same shape)."""
    if not frames:
        raise ValueError("no frames to put in the GIF")
    pil = [Image.fromarray(f).convert("P", palette=Image.ADAPTIVE) if f.ndim == 3 else Image.fromarray(f)
           for f in frames]
    buf = io.BytesIO()
    pil[0].save(buf, format="GIF", save_all=True, append_images=pil[1:], duration=duration_ms, loop=loop)
    return buf.getvalue()
