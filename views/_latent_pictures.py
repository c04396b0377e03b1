"""The latent explorer's pictures: generated images tiled and upscaled for the theme (crisp pixels,
bigger in projector mode), numbered grids to pick from, and G(z) cached across sessions."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from gan_core import latent
from gan_core.images import make_grid, png_bytes, to_uint8, upscale
from views._latent_models import LatentModel
from views._theme import upscale_factor


def _factor(image_size: int, times: float = 1.0) -> int:
    """Integer nearest-neighbour scale for images: the theme's size (bigger in projector mode) x ``times``."""
    return max(1, round(upscale_factor(image_size) * times))


def grid(images: torch.Tensor, nrow: int, times: float = 1.0) -> np.ndarray:
    """A tiled, upscaled uint8 grid (nearest neighbour: crisp pixels)."""
    return upscale(make_grid(images, nrow=nrow), _factor(images.shape[-1], times))


def tiles(images: torch.Tensor, times: float = 1.0) -> list[np.ndarray]:
    """Each image as its own upscaled uint8 array (for st.image with one caption per image)."""
    f = _factor(images.shape[-1], times)
    arr = to_uint8(images)
    return [upscale(a[:, :, 0] if a.shape[2] == 1 else a, f) for a in arr]


def show(image: np.ndarray, caption: str | None = None) -> None:
    """An upscaled picture (PNG: no JPEG blur on crisp pixels)."""
    st.image(image, caption=caption, output_format="PNG")


def number(i: int) -> str:
    """How image ``i`` of a numbered grid is named ("#1" for the first)."""
    return f"#{i + 1}"


@st.cache_data(max_entries=1024, show_spinner=False)
def _picture(model_key: str, latents: bytes, latent_dim: int, nrow: int, factor: int, _generator) -> bytes:
    """G's images of ``latents`` (float32 bytes), tiled ``nrow`` a row and upscaled ``factor`` times, as PNG.

    Shared by every session: a class following the lecture moves the same slider of the same model
    and asks for the same pictures, each a generator pass and a PNG encoding otherwise
    (BENCHMARKS.md, "A class on one server"). ``model_key`` names the weights.
    """
    z = torch.frombuffer(bytearray(latents), dtype=torch.float32).reshape(-1, latent_dim)
    return png_bytes(upscale(make_grid(latent.render(_generator, z), nrow=nrow), factor))


def show_generated(m: LatentModel, z: torch.Tensor, nrow: int, times: float = 1.0, caption: str | None = None) -> None:
    """G(z) for a batch of latents as one tiled picture (``grid``'s picture, cached across sessions)."""
    d = m.model_config.latent_dim
    z = z.detach().reshape(-1, d).float().contiguous()
    factor = _factor(m.model_config.image_size, times)
    st.image(_picture(m.key, z.numpy().tobytes(), d, nrow, factor, m.generator), caption=caption, output_format="PNG")


def show_numbered(images: torch.Tensor, times: float = 0.75) -> None:
    """The images side by side, each captioned with its ``number``, to pick from."""
    st.image(tiles(images, times), caption=[number(i) for i in range(len(images))], output_format="PNG")
