"""``shapes``: an offline colour dataset drawn procedurally (issue 28), for colour GANs on a CPU.

Three classes -- disc, square, triangle -- each a random saturated colour, random size and place, on a
background that fades between two random pale colours. Made for measuring how fast a colour model
learns (BENCHMARKS.md, "colour preset") and for trying the colour path without a download: a shape
is recognisable when a classifier trained on the real images names it confidently, and every class
must appear. Deterministic: the same ``seed`` draws the same images.
"""

from __future__ import annotations

import colorsys
import random

import numpy as np
from PIL import Image, ImageDraw

CLASS_NAMES = ["disc", "square", "triangle"]
SIZE = 64  # px: drawn at the largest model size; smaller sizes are resized from it
PER_CLASS = 2000


def draw_shape(kind: str, rng: random.Random, size: int = SIZE) -> np.ndarray:
    """One image, uint8 (3, size, size): a ``kind`` shape on a two-colour gradient."""
    top, bottom = (np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.3), rng.uniform(0.75, 1.0)))
                   for _ in range(2))
    fade = np.linspace(0.0, 1.0, size)[:, None, None]
    background = ((1 - fade) * top + fade * bottom) * 255 * np.ones((1, size, 3))
    image = Image.fromarray(background.astype(np.uint8), "RGB")
    fill = tuple(int(255 * v) for v in colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.6, 1.0), rng.uniform(0.45, 0.9)))
    r = rng.uniform(0.18, 0.34) * size
    x, y = rng.uniform(r, size - r), rng.uniform(r, size - r)
    draw = ImageDraw.Draw(image)
    if kind == "disc":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    elif kind == "square":
        s = r * 0.85
        draw.rectangle((x - s, y - s, x + s, y + s), fill=fill)
    else:
        draw.polygon([(x, y - r), (x - r * 0.95, y + r * 0.75), (x + r * 0.95, y + r * 0.75)], fill=fill)
    return np.asarray(image).transpose(2, 0, 1).copy()


def make_shapes(per_class: int = PER_CLASS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (3 x per_class, 3, 64, 64), labels int64): the classes interleaved."""
    rng = random.Random(seed)
    count = per_class * len(CLASS_NAMES)
    images = np.empty((count, 3, SIZE, SIZE), dtype=np.uint8)
    labels = np.arange(count, dtype=np.int64) % len(CLASS_NAMES)
    for i, label in enumerate(labels):
        images[i] = draw_shape(CLASS_NAMES[label], rng)
    return images, labels
