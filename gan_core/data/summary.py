"""What a folder or zip of images holds, and the model preset and image size that fit it (issue 28).

A student's images arrive before any model setting is known, so this reads what the settings need:

- every image file's *header* (its own width, height and mode; no pixels are decoded), with the
  same skips and reasons as loading (not an image, empty, too many pixels, corrupt ...);
- the classes, from sub-folders (as loading labels them);
- grey or colour: an image whose mode is grey (L, 1, I;16, LA ...) is grey; for the others a sample
  of up to ``COLOUR_SAMPLE`` images is decoded small and an image counts as colour when its
  channels differ by more than ``GREY_TOLERANCE`` levels on average (a grey scan saved as a JPEG
  in RGB is still grey).

``propose`` turns a summary into a preset, an image size (28, 32 or 64) and grey or RGB, with the
reason in two sentences: the largest supported size not above the typical image's short side (a
model cannot add detail by enlarging), 28 x 28 for small grey images (MNIST's size) and 32 x 32 for
small colour ones; the ``small`` preset on a CPU (it trains live), ``dcgan`` on a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gan_core.data.datasets import DatasetError, image_files_of
from gan_core.data.image_files import (
    DecodingCancelled,
    ImageSkipped,
    Progress,
    ShouldStop,
    ZipSource,
    decode_image,
    evenly_spaced,
    read_header,
    select_image_files,
    summarise_skipped,
)
from gan_core.i18n import LocalizedText
from gan_core.limits import get_limits

COLOUR_SAMPLE = 200  # images decoded (small) to tell grey from colour
COLOUR_SAMPLE_SIZE = 32  # px: enough to see colour, cheap to decode
GREY_TOLERANCE = 3.0  # mean |R - G| + |G - B| over 2, in levels: JPEG noise on a grey image stays below
COLOUR_SHARE = 0.1  # colour when at least this share of the images is colour
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
LARGE_SIZE = 64  # px: the largest image size a model here has


@dataclass(frozen=True)
class Proposal:
    """Model settings that fit a dataset, and why (two sentences: the size, then the preset)."""

    preset: str
    image_size: int
    channels: int
    reasons: tuple[LocalizedText, ...]

    def reason(self, lang: str = "en") -> str:
        """The reason as one paragraph in ``lang``."""
        return " ".join(r.localized(lang) for r in self.reasons)


@dataclass(frozen=True)
class DatasetSummary:
    """What a folder or zip of images holds (headers read, a sample decoded for colour)."""

    source: str
    images: int  # image files with a usable header
    smallest: tuple[int, int]  # (width, height) of the image with the fewest pixels
    median: tuple[int, int]  # ... the median image by pixel count
    largest: tuple[int, int]  # ... the most pixels
    colour: bool  # True when at least COLOUR_SHARE of the images is colour
    colour_share: float  # estimated share of colour images
    class_names: list[str]  # from sub-folders, sorted; [] when the images are not in sub-folders
    class_counts: list[int]  # images per class, in the order of class_names
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    notes: list[LocalizedText] = field(default_factory=list)

    @property
    def typical_side(self) -> int:
        """The short side of the median image: what a square crop of it keeps."""
        return min(self.median)


def summarise_images(source: str | ZipSource, name: str | None = None, progress: Progress | None = None,
                     should_stop: ShouldStop | None = None) -> DatasetSummary:
    """Summarise a folder or zip (a path, bytes or an upload) with the same safety as loading it.

    Raises DatasetError when nothing in it is an image (or a zip is refused as a whole), and
    DecodingCancelled when ``should_stop()`` says so (asked between files). ``progress(done, total)``
    follows the files read.
    """
    limits = get_limits()
    with image_files_of(source, name) as (members, shown):
        files = select_image_files(members, shown)
        skipped = list(files.skipped)
        notes: list[LocalizedText] = []
        usable, classes = files.usable, files.classes
        if len(usable) > limits.max_images:  # loading keeps the same evenly spaced subset
            notes.append(LocalizedText("data.summary.subset", kept=f"{limits.max_images:,}", n=f"{len(usable):,}"))
            keep = evenly_spaced(len(usable), limits.max_images)
            usable, classes = [usable[i] for i in keep], [classes[i] for i in keep]
        sizes: list[tuple[int, int]] = []
        kept_classes: list[str | None] = []
        maybe_colour: list[int] = []  # indices into `usable` of readable images whose mode is not grey
        readable: list[int] = []
        for index, (member, class_name) in enumerate(zip(usable, classes)):
            _stop_if_asked(should_stop, shown, index, len(usable))
            if progress is not None:
                progress(index, len(usable))
            try:
                img = read_header(member.read(), limits.max_image_pixels, limits.max_aspect_ratio)
            except ImageSkipped as exc:
                skipped.append((member.path, exc.reason))
                continue
            sizes.append(img.size)
            kept_classes.append(class_name)
            readable.append(index)
            if img.mode not in GREY_MODES:
                maybe_colour.append(index)
        colour_share = _colour_share(usable, maybe_colour, len(readable), limits, should_stop, shown)
    if progress is not None:
        progress(len(usable), len(usable))
    if not sizes:
        raise DatasetError("errors.data.none_readable", n=f"{len(usable):,}", source=shown,
                           skipped=summarise_skipped(skipped))
    by_area = sorted(sizes, key=lambda wh: (wh[0] * wh[1], wh))
    class_names = sorted({c for c in kept_classes if c is not None})
    counts = [sum(1 for c in kept_classes if c == name) for name in class_names]
    return DatasetSummary(shown, len(sizes), by_area[0], by_area[len(by_area) // 2], by_area[-1],
                          colour_share >= COLOUR_SHARE, colour_share, class_names, counts, skipped, notes)


def _stop_if_asked(should_stop: ShouldStop | None, source: str, done: int, total: int) -> None:
    if should_stop is not None and should_stop():
        raise DecodingCancelled("errors.data.cancelled", source=source, done=done, total=total)


def _colour_share(usable, maybe_colour: list[int], readable: int, limits, should_stop, source: str) -> float:
    """Estimated share of colour images: a sample of the non-grey-mode ones, decoded small."""
    if not maybe_colour or not readable:
        return 0.0
    sample = [maybe_colour[i] for i in evenly_spaced(len(maybe_colour), COLOUR_SAMPLE)]
    colour = decoded = 0
    for done, index in enumerate(sample):
        _stop_if_asked(should_stop, source, done, len(sample))
        try:
            rgb = decode_image(usable[index].read(), COLOUR_SAMPLE_SIZE, 3, limits.max_image_pixels,
                               limits.max_aspect_ratio).astype(np.int16)
        except ImageSkipped:  # a header that reads but pixels that do not: loading will skip it too
            continue
        decoded += 1
        spread = (np.abs(rgb[0] - rgb[1]) + np.abs(rgb[1] - rgb[2])).mean() / 2
        colour += bool(spread > GREY_TOLERANCE)
    if not decoded:
        return 0.0
    return colour / decoded * len(maybe_colour) / readable


def propose(summary: DatasetSummary, accelerated: bool = False) -> Proposal:
    """The preset, image size and channels that fit ``summary``, with the reason.

    ``accelerated``: a GPU (CUDA or MPS) trains here, so the larger ``dcgan`` and 64 px are affordable. On
    a CPU large images are proposed at the small size all the same: 64 px is four times the work a step,
    and ``small`` at 64 px RGB drew only blobs after 20 minutes on 2 cores (BENCHMARKS.md) where 32 px
    drew clear shapes in 5.
    """
    channels = 3 if summary.colour else 1
    side = summary.typical_side
    kind = "colour" if channels == 3 else "grey"
    size = LARGE_SIZE if side >= LARGE_SIZE and accelerated else (32 if channels == 3 else 28)
    key = f"data.proposal.{kind}_{size}" + ("_cpu" if side >= LARGE_SIZE and not accelerated else "")
    width, height = summary.median
    size_reason = LocalizedText(key, width=width, height=height, size=size)
    preset = "dcgan" if accelerated else "small"
    preset_reason = LocalizedText(f"data.proposal.preset_{preset}", size=size)
    return Proposal(preset, size, channels, (size_reason, preset_reason))
