"""The 2-D page's server-drawn Play pictures (views/_plots2d.py): the PNG encoder, the numpy-drawn dots
and the plot area they make (real behaviour: colours at known pixels, not timings)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageColor

from views import _plots2d as plots
from views._theme import GEN_COLOR, NORMAL


def _decode(uri_or_bytes) -> np.ndarray:
    data = uri_or_bytes
    if isinstance(data, str):
        data = base64.b64decode(data.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)))


def test_png_uri_is_the_png_of_the_pixels():
    pixels = np.random.default_rng(0).integers(0, 256, (7, 11, 4), dtype=np.uint8)
    uri = plots.png_uri(pixels)
    assert uri.startswith("data:image/png;base64,") and np.array_equal(_decode(uri), pixels)


def test_a_dot_has_its_colour_at_its_centre_and_leaves_the_background_elsewhere():
    canvas = np.zeros((40, 60, 4), np.uint8)  # transparent
    plots.draw_dots(canvas, np.array([[10.5, 20.5]]), 3.0, (26, 158, 63, 255))
    assert tuple(canvas[20, 10]) == (26, 158, 63, 255)  # row y, column x
    assert tuple(canvas[20, 13]) == (26, 158, 63, 255) and tuple(canvas[20, 14]) == (0, 0, 0, 0)  # 2 r + 1 across
    assert tuple(canvas[5, 50]) == (0, 0, 0, 0)
    assert (canvas[..., 3] > 0).sum() == pytest.approx(np.pi * 3.5 ** 2, rel=0.15)  # a disc, not a square


def test_overlapping_dots_add_up_as_if_drawn_one_over_the_other():
    canvas = np.zeros((10, 10, 4), np.uint8)
    plots.draw_dots(canvas, np.array([[5.0, 5.0]] * 3 + [[np.nan, 1.0]]), 1.0, (0, 0, 0, 128))  # NaN: left out
    assert canvas[5, 5, 3] == round(255 * (1 - (1 - 128 / 255) ** 3))
    white = np.full((10, 10, 4), 255, np.uint8)  # over an opaque background: the colours mix, alpha stays 1
    plots.draw_dots(white, np.array([[5.0, 5.0]]), 1.0, (0, 0, 0, 51))
    assert tuple(white[5, 5]) == (204, 204, 204, 255)


def test_dots_past_the_edge_are_cut_off():
    canvas = np.zeros((10, 10, 4), np.uint8)
    plots.draw_dots(canvas, np.array([[-1.0, 5.0], [9.5, 9.5], [100.0, 100.0]]), 2.0, (255, 0, 0, 255))
    assert canvas[5, 0, 3] == 255 and canvas[9, 9, 3] == 255 and canvas[0, 5, 3] == 0


def _frame(fake: np.ndarray) -> plots.Frame:
    empty = np.zeros((0, 2))
    return plots.Frame(bounds=(-2.0, 2.0, -1.0, 1.0), real=np.array([[-1.5, 0.5]]), fake=fake,
                       grid_x=np.linspace(-2, 2, 3), grid_y=np.linspace(-1, 1, 3), d=np.full((3, 3), 0.5),
                       arrow_from=empty, arrow_push=empty)


def test_the_plot_area_puts_each_point_where_its_coordinates_say():
    image = _decode(plots.plot_area_png(_frame(np.array([[1.0, -0.5]])), ["real", "fake"], 400, 200, NORMAL))
    assert image.shape == (200, 400, 4)
    green = np.array(ImageColor.getrgb(GEN_COLOR))
    assert np.abs(image[150, 300, :3].astype(int) - green).max() <= 2 and image[150, 300, 3] > 150  # (1, -0.5)
    assert image[50, 50, 3] > 100 and image[50, 50, :3].max() < 40  # the real point at (-1.5, 0.5), black
    assert image[100, 200, 3] == 0  # nothing drawn at (0, 0)
    off = _decode(plots.plot_area_png(_frame(np.array([[1.0, -0.5]])), ["real"], 400, 200, NORMAL))
    assert off[150, 300, 3] == 0  # the fake layer switched off


def test_the_same_d_gives_the_same_shading_image():
    d = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    first = plots.heat_png(d)
    assert plots.heat_png(d.copy()) is first  # cached: Play reuses D's grid for a few frames
    image = _decode(first)
    assert image.shape == (3, 4, 3) and tuple(image[-1, 0]) == tuple(plots.heat_colours(np.array(0.0)))  # y upwards
