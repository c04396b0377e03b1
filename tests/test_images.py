"""Sample grids: every tile in its place inside a frame of ``padding`` pixels, one image included; PNG files
of grey, RGB and RGBA pixels."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.images import make_grid, png_bytes, to_uint8, upscale


def _tiles(grid: np.ndarray, n: int, nrow: int, size: int, pad: int) -> list[np.ndarray]:
    out = []
    for i in range(n):
        r, c = divmod(i, nrow)
        y, x = pad + r * (size + pad), pad + c * (size + pad)
        out.append(grid[y:y + size, x:x + size])
    return out


def test_a_grid_holds_every_image_in_row_order_inside_its_padding():
    images = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    grid = make_grid(images, nrow=4)
    assert grid.shape == (3 * 30 + 2, 4 * 30 + 2) and grid.dtype == np.uint8  # 3 rows: 4 + 4 + 2 images
    expected = to_uint8(images)[..., 0]
    for tile, want in zip(_tiles(grid, 10, 4, 28, 2), expected):
        assert np.array_equal(tile, want)
    frame = grid.copy()
    for i in range(10):
        r, c = divmod(i, 4)
        frame[2 + r * 30:30 + r * 30, 2 + c * 30:30 + c * 30] = 255
    assert (frame == 255).all()  # everything that is not a tile is padding (the two empty cells too)


def test_one_image_keeps_its_frame_and_colour_grids_keep_three_channels():
    one = make_grid(torch.zeros(1, 1, 28, 28))
    assert one.shape == (32, 32) and (one[2:30, 2:30] == 128).all()
    assert one[:2].min() == 255 and one[:, :2].min() == 255 and one[30:].min() == 255
    colour = torch.stack([torch.full((8, 8), v) for v in (-1.0, 0.0, 1.0)])[None].repeat(4, 1, 1, 1)
    grid = make_grid(colour)  # default: a square grid, 2 x 2
    assert grid.shape == (2 * 10 + 2, 2 * 10 + 2, 3)
    assert grid[2, 2].tolist() == [0, 128, 255]


def test_upscaling_repeats_pixels_and_makes_no_new_values():
    grid = make_grid(torch.rand(4, 1, 28, 28) * 2 - 1)
    big = upscale(grid, 3)
    assert big.shape == (grid.shape[0] * 3, grid.shape[1] * 3)
    assert np.array_equal(big[::3, ::3], grid) and set(np.unique(big)) <= set(np.unique(grid))


@pytest.mark.parametrize("shape, mode", [((7, 11), "L"), ((7, 11, 1), "L"), ((7, 11, 3), "RGB"), ((7, 11, 4), "RGBA")])
def test_png_bytes_decode_to_the_same_pixels(shape, mode):
    pixels = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    image = Image.open(io.BytesIO(png_bytes(pixels)))
    assert image.mode == mode and image.size == (11, 7)
    assert np.array_equal(np.asarray(image), pixels.reshape(np.asarray(image).shape))


def test_png_bytes_refuses_two_channels():
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        png_bytes(np.zeros((3, 3, 2), np.uint8))
