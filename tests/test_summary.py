"""The dataset summary and the proposed settings for a student's own images (issue 28)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from gan_core.data.datasets import DatasetError, DecodingCancelled, load_image_zip
from gan_core.data.summary import DatasetSummary, propose, summarise_images
from gan_core.i18n import LocalizedText
from helpers import png_bytes, zip_bytes


def colour_png(size: tuple[int, int], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return png_bytes(Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)))


def grey_jpeg_in_rgb(size: tuple[int, int], seed: int) -> bytes:
    """A grey picture saved as an RGB JPEG (a scanned page, a phone's black-and-white photo)."""
    grey = np.random.default_rng(seed).integers(0, 256, (size[1], size[0]), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(grey).convert("RGB").save(buf, "JPEG", quality=80)
    return buf.getvalue()


def summary_of(**kw) -> DatasetSummary:
    base = dict(source="s", images=10, smallest=(20, 20), median=(20, 20), largest=(20, 20), colour=False,
                colour_share=0.0, class_names=[], class_counts=[])
    return DatasetSummary(**{**base, **kw})


def test_a_folder_with_classes_sizes_colour_and_skips(tmp_path):
    for name, size in [("cat/a.png", (100, 80)), ("cat/b.png", (300, 200)), ("cat/c.png", (64, 64)),
                       ("dog/d.png", (120, 90)), ("dog/e.png", (40, 30))]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(colour_png(size, len(name)))
    (tmp_path / "dog" / "notes.txt").write_text("not a picture")
    (tmp_path / "dog" / "empty.png").write_bytes(b"")
    (tmp_path / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "loose.png").write_bytes(colour_png((50, 50), 9))

    s = summarise_images(tmp_path)
    assert s.source == tmp_path.name and s.images == 5
    assert (s.smallest, s.median, s.largest) == ((40, 30), (100, 80), (300, 200))  # ordered by pixel count
    assert s.colour and s.colour_share == 1.0
    assert s.class_names == ["cat", "dog"] and s.class_counts == [3, 2]
    reasons = dict(s.skipped)
    assert set(reasons) == {"dog/notes.txt", "dog/empty.png", "cat/broken.png", "loose.png"}
    assert reasons["dog/notes.txt"] == "not an image file (.txt)"
    assert reasons["loose.png"] == "lies outside the class sub-folders"
    assert isinstance(reasons["cat/broken.png"], LocalizedText)  # shown in the reader's language


def test_grey_content_saved_as_rgb_jpeg_counts_as_grey_and_a_flat_folder_has_no_classes(tmp_path):
    for i in range(6):
        (tmp_path / f"{i}.jpg").write_bytes(grey_jpeg_in_rgb((28, 28), i))
    s = summarise_images(tmp_path)
    assert not s.colour and s.colour_share == 0.0
    assert s.class_names == [] and s.class_counts == [] and s.images == 6
    p = propose(s)
    assert (p.preset, p.image_size, p.channels) == ("small", 28, 1)


def test_a_few_colour_images_among_grey_ones_stay_grey():
    members = {f"g{i}.png": png_bytes((32, 32), "L", i * 10) for i in range(19)}
    members["c.png"] = colour_png((32, 32), 0)  # 1 in 20: 5 %, under the 10 % that makes a set colour
    s = summarise_images(zip_bytes(members))
    assert s.colour_share == pytest.approx(0.05) and not s.colour


def test_a_zip_reads_like_a_folder_and_names_itself(tmp_path):
    payload = zip_bytes({"photos/red/1.png": colour_png((70, 70), 1), "photos/blue/2.png": colour_png((80, 64), 2)})
    s = summarise_images(payload, name="my photos")
    assert s.source == "my photos" and s.class_names == ["blue", "red"]  # the wrapping folder looked through
    assert s.median == (80, 64) and s.colour
    p = propose(s)
    assert (p.preset, p.image_size, p.channels) == ("small", 32, 3)  # large colour images, on a CPU
    # what the summary proposes loads as proposed
    ds = load_image_zip(payload, image_size=p.image_size, channels=p.channels)
    assert tuple(ds.images.shape[1:]) == (3, 32, 32) and ds.class_names == s.class_names


def test_a_hostile_zip_is_refused_as_when_loading():
    with pytest.raises(DatasetError, match="outside"):
        summarise_images(zip_bytes({"../evil.png": png_bytes((8, 8))}))
    with pytest.raises(DatasetError, match="no image files"):
        summarise_images(zip_bytes({"a.txt": b"hello"}))


def test_reading_stops_when_asked(tmp_path):
    for i in range(5):
        (tmp_path / f"{i}.png").write_bytes(png_bytes((8, 8)))
    seen = []
    with pytest.raises(DecodingCancelled):
        summarise_images(tmp_path, progress=lambda done, total: seen.append((done, total)),
                         should_stop=lambda: len(seen) >= 2)
    assert seen == [(0, 5), (1, 5)]


@pytest.mark.parametrize("median,colour,size,channels", [
    ((20, 20), True, 32, 3), ((63, 200), True, 32, 3), ((64, 64), True, 64, 3), ((500, 375), True, 64, 3),
    ((28, 28), False, 28, 1), ((40, 60), False, 28, 1), ((64, 90), False, 64, 1),
])
def test_the_proposed_size_never_enlarges_the_typical_image_beyond_the_smallest_size(median, colour, size, channels):
    p = propose(summary_of(median=median, colour=colour), accelerated=True)
    assert (p.image_size, p.channels) == (size, channels)
    cpu = propose(summary_of(median=median, colour=colour))  # a CPU keeps to the small size, and says why
    assert (cpu.image_size, cpu.channels) == (32 if colour else 28, channels)
    assert ("64x64" in cpu.reason("en") and "GPU" in cpu.reason("en")) == (size == 64)


def test_the_proposal_says_why_in_both_languages_and_takes_dcgan_on_a_gpu():
    s = summary_of(median=(128, 96), colour=True)
    cpu, gpu = propose(s), propose(s, accelerated=True)
    assert cpu.preset == "small" and gpu.preset == "dcgan" and gpu.image_size == 64 and cpu.image_size == 32
    english, korean = cpu.reason("en"), cpu.reason("ko")
    assert "128x96" in english and "32x32" in english and "small" in english
    assert "128x96" in korean and "컬러" in korean and korean != english
    assert "GPU" in gpu.reason("en")
