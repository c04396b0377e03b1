"""Tests for gan_core.data.datasets and gan_core.data.image_files: registry, torchvision roots, folders, zips,
and every kind of bad input. All offline; fixtures are built in tmp_path."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.data import datasets as data
from gan_core.data.datasets import (
    DATASETS,
    DatasetError,
    ImageDataset,
    dataset_names,
    load_dataset,
    load_image_folder,
    load_image_zip,
    prepare_images,
    read_idx,
    from_unit_range,
    to_float_images,
    to_unit_range,
)
from gan_core.data.image_files import ImageSkipped, decode_image
from helpers import png_bytes, zip_bytes

SIZE = 28  # fixture images are 28x28 so pixel values survive without resampling


@pytest.fixture(autouse=True)
def _fresh_cache():
    data.clear_cache()
    yield
    data.clear_cache()


# ----------------------------------------------------------------------------- helpers


def encode(img: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise_png(seed: int = 0, mode: str = "L") -> bytes:
    rng = np.random.default_rng(seed)
    shape = (SIZE, SIZE) if mode == "L" else (SIZE, SIZE, 3)
    return encode(Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode))


def write_files(folder: Path, entries: dict[str, bytes]) -> Path:
    for name, payload in entries.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
    return folder


def write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    # IDX: 0, 0, type 0x08 (uint8), ndim, big-endian uint32 dims, values
    raw = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def write_mnist_files(folder: Path, counts: dict[str, int], compress: bool) -> dict:
    """MNIST-layout IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]) of random
    28x28 images; returns {prefix: (images, labels)}."""
    rng = np.random.default_rng(len(counts) + sum(counts.values()))
    arrays = {}
    for prefix, count in counts.items():
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        suffix = ".gz" if compress else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, compress)
        arrays[prefix] = (images, labels)
    return arrays


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares width x height but which has no pixel data at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    iend = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + chunk + iend


def pixels(dataset: ImageDataset) -> np.ndarray:
    assert dataset.images.dtype == torch.uint8  # datasets keep pixels; batches become float
    return dataset.images.numpy()


def decode_rgb(payload: bytes) -> np.ndarray:
    return decode_image(payload, SIZE, 3, max_pixels=10**6)


# ----------------------------------------------------------------------------- registry


def test_registry_names_and_specs():
    assert set(dataset_names()) == {"mnist5k", "digits", "shapes", "fashion-mnist", "mnist", "cifar10"}
    assert dataset_names()[0] == "mnist5k"
    assert DATASETS["mnist5k"].offline and not DATASETS["mnist"].offline


def test_mnist5k_is_5000_balanced_digits_in_range():
    mnist = load_dataset("mnist5k")
    assert mnist.images.shape == (5000, 1, 28, 28) and mnist.images.dtype == torch.uint8
    assert mnist.images.min() == 0 and mnist.images.max() == 255
    floats = to_float_images(mnist.images[:100])
    assert floats.dtype == torch.float32 and floats.min() == -1.0 and floats.max() == 1.0
    assert mnist.class_names == [str(d) for d in range(10)]
    assert torch.bincount(mnist.labels).tolist() == [500] * 10
    assert mnist.labels.dtype == torch.int64
    assert len(mnist) == 5000 and mnist.num_classes == 10 and mnist.channels == 1
    # digits are white strokes on black: most pixels are background
    assert (mnist.images == 0).float().mean() > 0.7
    assert "5,000 images" in mnist.describe()


@pytest.mark.parametrize("size,channels", [(32, 1), (64, 3), (28, 3)])
def test_mnist5k_sizes_and_channels(size, channels):
    mnist = load_dataset("mnist5k", image_size=size, channels=channels, limit=200)
    assert mnist.images.shape == (200, channels, size, size)
    assert mnist.image_size == size and mnist.channels == channels
    assert mnist.images.dtype == torch.uint8 and mnist.images.min() < mnist.images.max()
    if channels == 3:  # gray -> RGB repeats the channel
        assert torch.equal(mnist.images[:, 0], mnist.images[:, 1])
        assert torch.equal(mnist.images[:, 0], mnist.images[:, 2])


def test_limit_spreads_over_class_sorted_data():
    mnist = load_dataset("mnist5k", limit=100)  # mnist5k is sorted by class
    assert len(mnist) == 100
    assert torch.bincount(mnist.labels, minlength=10).tolist() == [10] * 10
    assert any("100 of 5,000" in note for note in mnist.notes)


def test_same_images_at_28_with_one_or_three_channels():
    gray = load_dataset("mnist5k", channels=1, limit=50)
    rgb = load_dataset("mnist5k", channels=3, limit=50)
    assert torch.equal(rgb.images[:, 1:2], gray.images)


def test_cache_shares_tensors_but_not_lists():
    first = load_dataset("digits")
    first.class_names.append("extra")
    second = load_dataset("digits")
    assert second.images.data_ptr() == first.images.data_ptr()
    assert second.class_names == [str(d) for d in range(10)]


def test_digits_resized_with_labels():
    from sklearn.datasets import load_digits

    digits = load_dataset("digits", image_size=32)
    assert digits.images.shape == (1797, 1, 32, 32)
    assert torch.equal(digits.labels, torch.as_tensor(load_digits().target))
    assert digits.images.dtype == torch.uint8
    assert to_float_images(digits.images).max() > 0.9  # 16 (the maximum ink) maps near white


def test_unknown_name_lists_registry():
    with pytest.raises(DatasetError, match="mnist5k.*cifar10"):
        load_dataset("no-such-dataset")


@pytest.mark.parametrize("size", [30, 0, 128, True])
def test_invalid_image_size(size):
    with pytest.raises(DatasetError, match="image size"):
        load_dataset("mnist5k", image_size=size)


@pytest.mark.parametrize("kwargs,message", [
    ({"channels": 2}, "channels"), ({"limit": 0}, "limit"), ({"split": "valid"}, "split"),
    ({"split": "test"}, "no 'test' split"),
])
def test_invalid_options(kwargs, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset("mnist5k", **kwargs)


# ----------------------------------------------------------------------------- IDX / fashion-mnist


@pytest.fixture
def fashion_dir(tmp_path, monkeypatch):
    arrays = write_mnist_files(tmp_path, {"train": 6, "t10k": 4}, compress=True)
    monkeypatch.setattr(data, "FASHION_MNIST_DIRS", [tmp_path / "missing", tmp_path])
    return arrays


def test_fashion_mnist_from_idx_files(fashion_dir):
    from torchvision.datasets import FashionMNIST

    train = load_dataset("fashion-mnist", root="/nonexistent")
    images, labels = fashion_dir["train"]
    assert np.array_equal(pixels(train)[:, 0], images)
    assert train.labels.tolist() == labels.tolist()
    assert train.class_names == list(FashionMNIST.classes)
    assert len(load_dataset("fashion-mnist", split="test")) == 4
    assert len(load_dataset("fashion-mnist", split="all")) == 10


def test_fashion_mnist_missing_everywhere(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_DIRS", [tmp_path])
    with pytest.raises(DatasetError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist", root=tmp_path)


def test_fashion_mnist_debian_files(tmp_path, debian_fashion_mnist):
    fashion = load_dataset("fashion-mnist", root=tmp_path)  # empty root: no torchvision files
    assert fashion.images.shape == (60000, 1, 28, 28)
    assert torch.bincount(fashion.labels).tolist() == [6000] * 10


def test_read_idx_plain_and_bad(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "ok", array, compress=False)
    assert np.array_equal(read_idx(tmp_path / "ok"), array)
    (tmp_path / "bad").write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(DatasetError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes((tmp_path / "ok").read_bytes()[:-5])
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(tmp_path / "short")


# ----------------------------------------------------------------------------- torchvision roots


@pytest.fixture
def mnist_root(tmp_path):
    """root/MNIST/raw/*-ubyte, uncompressed, as torchvision's MNIST reads them (no md5 check)."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    return tmp_path, write_mnist_files(raw, {"train": 5, "t10k": 3}, compress=False)


def test_torchvision_mnist_from_root(mnist_root):
    root, arrays = mnist_root
    mnist = load_dataset("mnist", root=root)
    assert np.array_equal(pixels(mnist)[:, 0], arrays["train"][0])
    assert mnist.labels.tolist() == arrays["train"][1].tolist()
    assert mnist.class_names[0] == "0 - zero"
    assert len(load_dataset("mnist", root=root, split="all")) == 8


def test_data_root_from_environment(mnist_root, monkeypatch):
    root, _ = mnist_root
    monkeypatch.setenv("GAN_DATA_ROOT", str(root))
    assert len(load_dataset("mnist", split="test")) == 3


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_missing_root_without_download(tmp_path, name):
    with pytest.raises(DatasetError, match="download=True"):
        load_dataset(name, root=tmp_path / "empty")


@pytest.fixture
def cifar_root(tmp_path, monkeypatch):
    """root/cifar-10-batches-py with tiny pickled batches. torchvision checks each file's md5
    against the official one, so the test points those checksums at the fixture files."""
    from torchvision.datasets import CIFAR10

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(3)
    batches = {}

    def dump(name, payload):
        (folder / name).write_bytes(pickle.dumps(payload))
        return [name, hashlib.md5((folder / name).read_bytes()).hexdigest()]

    train_list = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, (2, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, 2).tolist()
        batches[name] = (images, labels)
        entry = dump(name, {"data": images.reshape(2, -1), "labels": labels})
        if name != "test_batch":
            train_list.append(entry)
        else:
            test_list = [entry]
    class_names = [f"class {i}" for i in range(10)]
    meta_md5 = dump("batches.meta", {"label_names": class_names})[1]
    monkeypatch.setattr(CIFAR10, "train_list", train_list)
    monkeypatch.setattr(CIFAR10, "test_list", test_list)
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": meta_md5})
    return tmp_path, batches, class_names


def test_torchvision_cifar10_from_root(cifar_root):
    root, batches, class_names = cifar_root
    cifar = load_dataset("cifar10", image_size=32, channels=3, root=root)
    expected = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    assert cifar.images.shape == (10, 3, 32, 32)
    assert np.array_equal(pixels(cifar), expected)
    assert cifar.class_names == class_names
    gray = load_dataset("cifar10", image_size=32, channels=1, root=root, split="test")
    r, g, b = batches["test_batch"][0].astype(np.float64).transpose(1, 0, 2, 3)
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    assert np.abs(pixels(gray)[:, 0] - luma).max() <= 1.0


# ----------------------------------------------------------------------------- tensor helpers


def test_unit_range_round_trip():
    values = torch.arange(256, dtype=torch.uint8)
    unit = to_unit_range(values)
    assert unit[0] == -1.0 and unit[-1] == 1.0
    assert torch.equal(from_unit_range(unit), values)


def test_to_float_images_scales_pixels_and_passes_floats_through():
    pixels_ = torch.tensor([0, 255, 51], dtype=torch.uint8).view(1, 1, 1, 3)
    floats = to_float_images(pixels_)
    assert floats.dtype == torch.float32 and floats.flatten().tolist() == pytest.approx([-1.0, 1.0, -0.6])
    generated = torch.tensor([-0.25, 0.5]).view(1, 1, 1, 2)
    assert to_float_images(generated) is generated  # already in [-1, 1]: no copy


def test_prepare_images_center_crops_non_square():
    wide = torch.zeros(1, 3, 28, 84, dtype=torch.uint8)
    wide[:, 1, :, 28:56] = 255  # left third black, middle green, right third black
    out = prepare_images(wide, 28, 3)
    assert out.shape == (1, 3, 28, 28)
    assert (out[0, 1] == 255).all() and (out[0, 0] == 0).all()


def test_prepare_images_rgb_to_gray_matches_pil():
    rgb = torch.randint(0, 256, (2, 3, 28, 28), dtype=torch.uint8)
    gray = prepare_images(rgb, 28, 1)[:, 0].int()
    pil = np.stack([np.asarray(Image.fromarray(x.permute(1, 2, 0).numpy()).convert("L"))
                    for x in rgb])
    assert (gray - torch.from_numpy(pil).int()).abs().max() <= 1


# ----------------------------------------------------------------------------- folders


def test_folder_with_class_subfolders(tmp_path):
    write_files(tmp_path, {"dog/a.png": noise_png(1), "cat/b.png": noise_png(2),
                           "cat/c.png": noise_png(3), "cat/sub/d.png": noise_png(4)})
    folder = load_image_folder(tmp_path, 28, 1)
    assert folder.class_names == ["cat", "dog"]
    assert sorted(folder.labels.tolist()) == [0, 0, 0, 1]
    assert folder.images.shape == (4, 1, 28, 28) and folder.skipped == []


def test_flat_folder_is_unlabelled_and_pixels_survive(tmp_path):
    write_files(tmp_path, {"a.png": noise_png(1), "b.png": noise_png(2)})
    flat = load_dataset(tmp_path)
    assert flat.labels is None and flat.class_names == [] and flat.num_classes == 0
    assert np.array_equal(pixels(flat)[0, 0], np.asarray(Image.open(io.BytesIO(noise_png(1)))))
    assert "unlabelled" in flat.describe()


def test_folder_loose_files_beside_class_folders_are_skipped(tmp_path):
    write_files(tmp_path, {"cat/a.png": noise_png(1), "dog/b.png": noise_png(2),
                           "loose.png": noise_png(3)})
    folder = load_image_folder(tmp_path)
    assert len(folder) == 2
    assert folder.skipped == [("loose.png", "lies outside the class sub-folders")]


def test_folder_reads_every_common_format(tmp_path):
    rgb = Image.fromarray(np.random.default_rng(5).integers(0, 256, (28, 28, 3), np.uint8))
    entries = {f"x.{fmt.lower()}": encode(rgb, fmt)
               for fmt in ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF", "PPM")}
    entries["x.pgm"] = encode(rgb.convert("L"), "PPM")
    entries["x.jpeg"] = encode(rgb, "JPEG")
    write_files(tmp_path, entries)
    folder = load_image_folder(tmp_path, 32, 3)
    assert folder.skipped == [] and len(folder) == len(entries)


def test_hidden_files_and_macosx_are_ignored_silently(tmp_path):
    write_files(tmp_path, {"a.png": noise_png(1), ".hidden.png": b"junk",
                           "__MACOSX/._a.png": b"junk", ".git/x.png": b"junk"})
    folder = load_image_folder(tmp_path)
    assert len(folder) == 1 and folder.skipped == []


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(DatasetError, match="does not exist"):
        load_image_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="is empty"):
        load_image_folder(tmp_path / "empty")
    write_files(tmp_path / "text", {"notes.txt": b"hello"})
    with pytest.raises(DatasetError, match="contains no image files.*notes.txt"):
        load_image_folder(tmp_path / "text")


def test_bad_files_are_skipped_with_reasons(tmp_path):
    good = noise_png(1)
    write_files(tmp_path, {
        "good.png": good, "empty.png": b"", "readme.txt": b"hi", "inner.zip": zip_bytes({}),
        "truncated.png": noise_png(2)[:200], "fake.jpg": b"not really a jpeg at all",
    })
    folder = load_image_folder(tmp_path)
    assert len(folder) == 1
    reasons = dict(folder.skipped)
    assert set(reasons) == {"empty.png", "readme.txt", "inner.zip", "truncated.png", "fake.jpg"}
    assert "0 bytes" in reasons["empty.png"]
    assert "not an image file" in reasons["readme.txt"]
    assert "nested zip" in reasons["inner.zip"]
    assert "corrupt or truncated" in reasons["truncated.png"]
    assert "not an image format" in reasons["fake.jpg"]
    assert "5 files skipped" in folder.describe()


def test_nothing_readable_is_an_error(tmp_path):
    write_files(tmp_path, {"a.png": noise_png(1)[:100], "b.png": b"garbage"})
    with pytest.raises(DatasetError, match="none of the 2 image files"):
        load_image_folder(tmp_path)


def test_max_images_uses_an_even_subset_and_says_so(tmp_path, monkeypatch):
    write_files(tmp_path, {f"{i}.png": noise_png(i) for i in range(6)})
    monkeypatch.setenv("GAN_MAX_IMAGES", "3")
    folder = load_image_folder(tmp_path)
    assert len(folder) == 3
    assert any("GAN_MAX_IMAGES" in note for note in folder.notes)


def test_progress_is_reported(tmp_path):
    write_files(tmp_path, {f"{i}.png": noise_png(i) for i in range(4)})
    calls = []
    load_image_folder(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]


# ----------------------------------------------------------------------------- images: limits and modes


def test_image_over_pixel_limit_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_MAX_IMAGE_PIXELS", "1000")
    write_files(tmp_path, {"big.png": encode(Image.new("L", (40, 40))), "small.png": noise_png(1)})
    folder = load_image_folder(tmp_path)
    assert len(folder) == 1
    assert "GAN_MAX_IMAGE_PIXELS" in dict(folder.skipped)["big.png"]


@pytest.mark.parametrize("side", [7000, 30000])  # above our 40 M limit / above PIL's own bomb cap
def test_header_declaring_huge_image_is_skipped_before_decoding(side):
    with pytest.raises(ImageSkipped, match="pixels"):
        decode_image(png_header_only(side, side), 28, 1, max_pixels=40_000_000)


def test_cmyk_is_converted_to_rgb():
    cyan = encode(Image.new("CMYK", (SIZE, SIZE), (255, 0, 0, 0)), "TIFF")
    assert decode_rgb(cyan)[:, 0, 0].tolist() == [0, 255, 255]
    gray = decode_image(cyan, SIZE, 1, max_pixels=10**6)
    assert gray[0, 0, 0] == round(0.587 * 255 + 0.114 * 255)


def test_16_bit_is_scaled_not_clipped():
    mid = encode(Image.fromarray(np.full((SIZE, SIZE), 32896, np.uint16)))  # 128 * 257
    assert Image.open(io.BytesIO(mid)).mode == "I;16"
    assert decode_image(mid, SIZE, 1, max_pixels=10**6)[0, 0, 0] == 128
    ramp = np.linspace(0, 65535, SIZE * SIZE).astype(np.int32).reshape(SIZE, SIZE)
    decoded = decode_image(encode(Image.fromarray(ramp), "TIFF"), SIZE, 1, max_pixels=10**6)
    assert decoded[0, 0, 0] == 0 and decoded[0, -1, -1] == 255 and decoded[0, 14, 0] == 128


def test_float_image_in_unit_range_is_scaled():
    half = encode(Image.fromarray(np.full((SIZE, SIZE), 0.5, np.float32)), "TIFF")
    assert decode_image(half, SIZE, 1, max_pixels=10**6)[0, 0, 0] == 128


def test_palette_transparency_is_composited_on_white():
    img = Image.new("P", (SIZE, SIZE), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(1, (14, 0, SIZE, SIZE))  # right half: palette index 1 (red)
    decoded = decode_rgb(encode(img, transparency=0))  # index 0 (black) is transparent
    assert decoded[:, 5, 2].tolist() == [255, 255, 255]
    assert decoded[:, 5, 25].tolist() == [255, 0, 0]


def test_rgba_and_la_are_composited_on_white():
    rgba = Image.new("RGBA", (SIZE, SIZE), (255, 0, 0, 0))  # fully transparent red
    rgba.paste((0, 0, 255, 255), (14, 0, SIZE, SIZE))  # opaque blue
    decoded = decode_rgb(encode(rgba))
    assert decoded[:, 0, 0].tolist() == [255, 255, 255]
    assert decoded[:, 0, 27].tolist() == [0, 0, 255]
    la = decode_image(encode(Image.new("LA", (SIZE, SIZE), (0, 0))), SIZE, 1, max_pixels=10**6)
    assert (la == 255).all()


def test_bilevel_gives_black_and_white():
    img = Image.new("1", (SIZE, SIZE), 0)
    img.paste(1, (0, 0, 14, SIZE))
    decoded = decode_image(encode(img, "BMP"), SIZE, 1, max_pixels=10**6)
    assert decoded[0, 0, 0] == 255 and decoded[0, 0, 27] == 0


def test_gif_uses_first_frame():
    frames = [Image.new("L", (SIZE, SIZE), 255), Image.new("L", (SIZE, SIZE), 0)]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert (decode_image(gif, SIZE, 1, max_pixels=10**6) == 255).all()


def test_big_image_is_downscaled_and_center_cropped():
    img = Image.new("RGB", (300, 100), (255, 0, 0))
    img.paste((0, 255, 0), (100, 0, 200, 100))  # green middle third
    decoded = decode_image(encode(img), 32, 3, max_pixels=10**6)
    assert decoded.shape == (3, 32, 32)
    assert decoded[:, 16, 16].tolist() == [0, 255, 0]


def test_exif_orientation_is_applied():
    tall = Image.new("L", (SIZE, 2 * SIZE), 0)
    tall.paste(255, (0, 0, SIZE, SIZE))  # top half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": white ends up on the right
    decoded = decode_image(encode(tall, "JPEG", exif=exif.tobytes(), quality=95), SIZE, 1,
                           max_pixels=10**6)
    assert decoded[0, 0, 2] < 30 and decoded[0, 0, 25] > 225  # left dark, right white


# ----------------------------------------------------------------------------- zips


def test_zip_bytes_with_wrapping_folder_and_classes():
    payload = zip_bytes({"photos/cat/a.png": noise_png(1), "photos/dog/b.png": noise_png(2),
                        "photos/dog/c.png": noise_png(3), "__MACOSX/photos/._a.png": b"x"})
    archive = load_image_zip(payload, 32, 3)
    assert archive.class_names == ["cat", "dog"] and archive.labels.tolist() == [0, 1, 1]
    assert archive.images.shape == (3, 3, 32, 32) and archive.skipped == []


def test_zip_from_file_like_and_path(tmp_path):
    payload = zip_bytes({"a.png": noise_png(1), "b.png": noise_png(2)})
    upload = io.BytesIO(payload)
    upload.name = "my_faces.zip"
    upload.read()  # an upload that was already read once must still work
    from_upload = load_image_zip(upload)
    assert from_upload.name == "my_faces" and from_upload.labels is None
    (tmp_path / "set.zip").write_bytes(payload)
    from_path = load_dataset(tmp_path / "set.zip")
    assert torch.equal(from_path.images, from_upload.images)
    assert len(load_dataset(payload)) == 2


@pytest.mark.parametrize("entry", ["../evil.png", "/etc/evil.png", "ok/../../evil.png",
                                   "C:\\evil.png", "..\\evil.png"])
def test_zip_slip_refuses_whole_zip(entry):
    payload = zip_bytes({"good.png": noise_png(1), entry: noise_png(2)})
    with pytest.raises(DatasetError, match="points outside"):
        load_image_zip(payload)


def test_zip_total_size_over_limit_is_refused(monkeypatch):
    monkeypatch.setenv("GAN_MAX_ZIP_UNCOMPRESSED_MB", "1")
    payload = zip_bytes({"a.png": noise_png(1), "zeros.bmp": bytes(2 * 1024 * 1024)})
    with pytest.raises(DatasetError, match="GAN_MAX_ZIP_UNCOMPRESSED_MB"):
        load_image_zip(payload)


def test_zip_member_with_absurd_ratio_is_refused():
    payload = zip_bytes({"a.png": noise_png(1), "zeros.bmp": bytes(11 * 1024 * 1024)})
    with pytest.raises(DatasetError, match="zip bomb"):
        load_image_zip(payload)


def test_zip_with_too_many_members(monkeypatch):
    monkeypatch.setenv("GAN_MAX_ZIP_MEMBERS", "3")
    payload = zip_bytes({f"{i}.png": noise_png(i) for i in range(4)})
    with pytest.raises(DatasetError, match="GAN_MAX_ZIP_MEMBERS"):
        load_image_zip(payload)


def test_zip_member_lying_about_its_size_is_skipped():
    payload = bytearray(zip_bytes({"a.png": noise_png(1), "b.png": noise_png(2)},
                                 zipfile.ZIP_STORED))
    # shrink b.png's declared size in the central directory: the reader must not trust it
    with zipfile.ZipFile(io.BytesIO(bytes(payload))) as archive:
        info = archive.getinfo("b.png")
    central = payload.rfind(b"PK\x01\x02")
    assert payload[central + 46 : central + 51] == b"b.png"
    struct.pack_into("<I", payload, central + 24, info.file_size - 100)
    archive = load_image_zip(bytes(payload))
    assert len(archive) == 1
    assert "b.png" in dict(archive.skipped)


def test_upload_over_size_limit(monkeypatch):
    monkeypatch.setenv("GAN_MAX_UPLOAD_MB", "1")
    noise = np.random.default_rng(0).integers(0, 256, 1_500_000, dtype=np.uint8).tobytes()
    payload = zip_bytes({"a.png": noise_png(1), "noise.bin": noise}, zipfile.ZIP_STORED)
    with pytest.raises(DatasetError, match="GAN_MAX_UPLOAD_MB"):
        load_image_zip(payload)


@pytest.mark.parametrize("payload", [b"", b"hello, not a zip", "truncated"])
def test_not_a_zip_or_corrupt_zip(payload):
    if payload == "truncated":
        full = zip_bytes({"a.png": noise_png(1), "b.png": noise_png(2)})
        payload = full[: len(full) - 30]  # cuts the end-of-central-directory record
    with pytest.raises(DatasetError, match="not a zip archive or is corrupt"):
        load_image_zip(payload)


def test_zip_bad_members_are_skipped():
    payload = zip_bytes({"a.png": noise_png(1), "nested.zip": zip_bytes({"x.png": noise_png(2)}),
                        "notes.txt": b"hello", "empty.png": b"", "cut.png": noise_png(3)[:150]})
    archive = load_image_zip(payload)
    assert len(archive) == 1
    assert set(dict(archive.skipped)) == {"nested.zip", "notes.txt", "empty.png", "cut.png"}


def test_zip_without_images():
    with pytest.raises(DatasetError, match="contains no image files"):
        load_image_zip(zip_bytes({"notes.txt": b"hello"}))
    with pytest.raises(DatasetError, match="is empty"):
        load_image_zip(zip_bytes({}))


def test_non_zip_file_path_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match="neither a folder of images nor a .zip"):
        load_dataset(tmp_path / "notes.txt")
    (tmp_path / "fake.zip").write_text("hello")
    with pytest.raises(DatasetError, match="not a zip archive"):
        load_dataset(tmp_path / "fake.zip")


def test_devices_and_fifos_are_not_regular_files_or_folders(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for source in (str(fifo), fifo, "/dev/null"):
        with pytest.raises(DatasetError, match="not a regular file or folder"):
            load_dataset(source)
    with pytest.raises(DatasetError, match="not a regular file or folder"):
        load_image_folder(fifo)
    # inside a folder, a FIFO is skipped (reading it would block forever), not waited on
    folder = tmp_path / "imgs"
    folder.mkdir()
    os.mkfifo(folder / "stuck.png")
    Image.new("L", (8, 8), 50).save(folder / "a.png")
    Image.new("L", (8, 8), 60).save(folder / "b.png")
    ds = load_image_folder(folder)
    assert len(ds) == 2 and ds.skipped == [("stuck.png", "not a regular file (a device, pipe or socket)")]


def test_dataset_errors_are_localized(tmp_path):
    with pytest.raises(DatasetError) as info:
        load_dataset(str(tmp_path / "absent"))
    assert info.value.key == "errors.data.path_missing"
    assert "does not exist" in str(info.value) and "없습니다" in info.value.localized("ko")


# ----------------------------------------------------------------------------- folders on the server


def test_a_link_to_a_file_outside_the_folder_is_skipped_not_read(tmp_path):
    secret = tmp_path / "elsewhere" / "secret.png"
    secret.parent.mkdir()
    secret.write_bytes(png_bytes((8, 8), color=200))
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_bytes((8, 8), color=10))
    (folder / "b.png").symlink_to(folder / "a.png")  # a link inside the folder is fine
    (folder / "c.png").symlink_to(secret)
    ds = load_image_folder(folder)
    assert len(ds) == 2 and pixels(ds).max() < 100  # a.png twice, never the secret's 200
    assert ds.skipped == [("c.png", "a link to a file outside the folder (not read)")]


def test_the_page_reads_only_real_sub_folders_of_its_root(tmp_path, monkeypatch):
    from gan_core.paths import image_folder, image_folders, image_folders_root

    monkeypatch.delenv("GAN_IMAGE_FOLDERS", raising=False)
    assert image_folders_root() is None
    root = tmp_path / "class-photos"
    for name in ("cats", "flowers", ".hidden"):
        (root / name).mkdir(parents=True)
    (root / "readme.txt").write_text("x")
    (tmp_path / "private").mkdir()
    (root / "escape").symlink_to(tmp_path / "private")
    monkeypatch.setenv("GAN_IMAGE_FOLDERS", str(root))
    assert image_folders_root() == root
    assert image_folders(root) == ["cats", "flowers"]
    assert image_folder(root, "cats") == root / "cats"
    for hostile in ("escape", "..", "../private", "/etc", ".hidden", "readme.txt", "cats/../.."):
        assert image_folder(root, hostile) is None
    assert image_folders(tmp_path / "missing") == []
