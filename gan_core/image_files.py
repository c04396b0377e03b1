"""Decode image folders and zip archives into one uint8 array, safely.

This is the untrusted-input half of ``gan_core.data``: students upload zips and point the app at
folders, so every file is treated as hostile until decoded.

- Zips are read member by member *in memory*; nothing is ever extracted to disk.
- A zip is refused as a whole when it is not a zip, has too many members, an entry that escapes
  its folder (``../x.png`` or an absolute path: "zip slip"), or declares too much uncompressed
  data / an absurd compression ratio ("zip bomb"). Members are read with a size cap, because the
  sizes in the header are only claims.
- A single bad file never stops the load: empty, non-image, corrupt, too large, nested-zip files
  are *skipped* and reported as ``(file name, reason)``.
- An image's pixel count is checked from its header, before any pixel is decoded. PIL's own
  DecompressionBombError (raised inside ``Image.open``) becomes a skip too. PIL's
  DecompressionBombWarning is left alone: our limit, checked first, decides, and changing warning
  filters is process-global state that is not safe across Streamlit's session threads.

Mode conversions (documented choices):

- transparency (LA, RGBA, P with a transparent colour) is composited on **white**, like an image
  viewer's default page, so transparent-background sprites keep a clean background;
- 16-bit images (I;16, and I with values in 0..65535) are *scaled* to 8 bits (x / 257), not clipped;
- float images (F) in [0, 1] are scaled by 255, other ranges are stretched min..max to 0..255;
- RGB -> gray uses ITU-R 601-2 luma (PIL's ``convert("L")``), gray -> RGB repeats the channel.

``DatasetError`` is defined here (the lowest module that raises it) and re-exported by
``gan_core.data``; import it from there.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_core.limits import Limits

MB = 1024 * 1024

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".dib", ".gif", ".webp", ".tif", ".tiff",
     ".ppm", ".pgm", ".pbm", ".pnm"}
)
# Operating-system clutter: dropped silently (not even reported as skipped).
IGNORED_FILE_NAMES = frozenset({"thumbs.db", "desktop.ini"})
# A member expanding more than this ratio *and* larger than this size is taken for a zip bomb.
ZIP_BOMB_RATIO = 200
ZIP_BOMB_MIN_BYTES = 10 * MB

Progress = Callable[[float, str], None]
ZipSource = Union[str, Path, bytes, bytearray, memoryview, BinaryIO]


class DatasetError(ValueError):
    """A dataset cannot be loaded; the message is one plain sentence naming the problem."""


class ImageSkipped(Exception):
    """One file cannot be used; ``reason`` says why (it ends up in ``ImageDataset.skipped``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Member:
    """One file of a folder or zip, not read yet."""

    path: str  # '/'-separated path inside the folder or zip
    size: int  # bytes on disk, or the size a zip entry declares
    read: Callable[[], bytes]  # returns the bytes or raises ImageSkipped


@dataclass
class DecodedImages:
    """The images of a folder or zip, decoded to one array."""

    images: np.ndarray  # uint8 (N, C, S, S)
    labels: np.ndarray | None  # int64 (N,), or None for a flat folder
    class_names: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def evenly_spaced(total: int, keep: int) -> np.ndarray:
    """``keep`` distinct indices spread evenly over ``range(total)`` (all of them if keep >= total).

    Spreading (rather than taking the first ``keep``) keeps every class of class-sorted data.
    """
    if keep >= total:
        return np.arange(total)
    return (np.arange(keep) * total) // keep  # step total/keep >= 1, so floors are distinct


# ----------------------------------------------------------------------------- one image


def decode_image(data: bytes, image_size: int, channels: int, max_pixels: int) -> np.ndarray:
    """Decode one image file to a uint8 array (channels, image_size, image_size).

    The short side is resized to ``image_size`` (Lanczos, antialiased) and the centre cropped.
    Raises ImageSkipped with a reason for anything that is not a usable image.
    """
    if not data:
        raise ImageSkipped("empty file (0 bytes)")
    try:
        img = Image.open(io.BytesIO(data))
        width, height = img.size  # from the header: nothing is decoded yet
        if width * height > max_pixels:
            raise ImageSkipped(
                f"declares {width}x{height} = {width * height:,} pixels, more than the limit of "
                f"{max_pixels:,} (GAN_MAX_IMAGE_PIXELS)"
            )
        if width == 0 or height == 0:
            raise ImageSkipped(f"has no pixels ({width}x{height})")
        if img.format == "JPEG":
            img.draft(img.mode, (image_size, image_size))  # let libjpeg downscale big photos
        img = _to_l_or_rgb(_upright(img))  # decodes the pixels
        img = _fit_square(img, image_size)
    except ImageSkipped:
        raise
    except Image.DecompressionBombError as exc:  # PIL's own cap, raised inside Image.open
        raise ImageSkipped(f"too many pixels to decode safely ({exc})") from None
    except UnidentifiedImageError:
        raise ImageSkipped("not an image format PIL can read") from None
    except Exception as exc:  # noqa: BLE001 -- PIL raises many types on corrupt data
        raise ImageSkipped(f"corrupt or truncated image ({type(exc).__name__}: {exc})") from None
    if channels == 1 and img.mode != "L":
        img = img.convert("L")  # ITU-R 601-2 luma
    elif channels == 3 and img.mode != "RGB":
        img = img.convert("RGB")  # repeats the gray channel
    array = np.asarray(img, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1).copy()


def _to_l_or_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> 8-bit "L" or "RGB" (see the module docstring for the choices)."""
    mode = img.mode
    if mode in ("L", "RGB"):
        img.load()
        return img
    if mode == "1":
        return img.convert("L")
    if mode.startswith("I;16") or mode in ("I", "F"):
        return Image.fromarray(_high_depth_to_uint8(np.asarray(img), mode), "L")
    if mode in ("P", "PA"):
        if mode == "P" and "transparency" not in img.info:
            return img.convert("RGB")
        img, mode = img.convert("RGBA"), "RGBA"
    if mode in ("LA", "La", "RGBA", "RGBa"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX ...


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation (phone photos); a broken EXIF block is ignored, not fatal."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 -- malformed EXIF must not cost us a good image
        return img


def _high_depth_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """16-bit / 32-bit integer / float pixels -> uint8, scaling rather than clipping."""
    values = values.astype(np.float64)
    if mode == "F":
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(values.min()), float(values.max())
        if low >= 0.0 and high <= 1.0:
            scaled = values * 255.0
        else:  # unknown range: stretch what is there
            scaled = (values - low) * (255.0 / (high - low)) if high > low else values * 0.0
    elif mode.startswith("I;16") or (values.min() >= 0 and values.max() <= 65535):
        scaled = values / 257.0  # 65535 -> 255 exactly
    else:  # 32-bit integers outside the 16-bit range: stretch
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / (high - low)) if high > low else values * 0.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _fit_square(img: Image.Image, size: int) -> Image.Image:
    """Resize the short side to ``size`` (antialiased), then crop the centre square."""
    width, height = img.size
    scale = size / min(width, height)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    if (new_w, new_h) != (width, height):
        img = img.resize((new_w, new_h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return img.crop((left, top, left + size, top + size))


# ----------------------------------------------------------------------------- listing files


def _is_ignored(path: str) -> bool:
    """Hidden files, macOS resource forks and OS clutter are dropped silently."""
    parts = path.split("/")
    return any(p.startswith(".") or p == "__MACOSX" for p in parts) or (
        parts[-1].lower() in IGNORED_FILE_NAMES
    )


def folder_members(folder: Path, limits: Limits) -> list[Member]:
    """Every non-hidden file under ``folder`` (recursively, symlinked folders not followed)."""
    members = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _is_ignored(d))
        for filename in filenames:
            full = Path(dirpath, filename)
            relative = full.relative_to(folder).as_posix()
            if _is_ignored(relative):
                continue
            try:
                size = full.stat().st_size
            except OSError as exc:
                size = -1
                reason = f"cannot be read ({exc.strerror or exc})"
                members.append(Member(relative, size, _raiser(reason)))
                continue
            members.append(Member(relative, size, _file_reader(full, limits.max_upload_mb * MB)))
    return sorted(members, key=lambda m: m.path)


def _raiser(reason: str) -> Callable[[], bytes]:
    def read() -> bytes:
        raise ImageSkipped(reason)

    return read


def _file_reader(path: Path, cap: int) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            with path.open("rb") as f:
                return _read_capped(f, cap)
        except OSError as exc:
            raise ImageSkipped(f"cannot be read ({exc.strerror or exc})") from None

    return read


def _read_capped(stream: BinaryIO, cap: int) -> bytes:
    """Read at most ``cap`` bytes; more than that is a skip (sizes on disk/in headers may lie)."""
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise ImageSkipped(f"larger than {cap / MB:g} MB (GAN_MAX_UPLOAD_MB)")
    return data


def open_zip(source: ZipSource, limits: Limits) -> tuple[zipfile.ZipFile, str]:
    """Open a zip from a path, bytes or a file-like object (e.g. a Streamlit upload).

    Returns the archive and a display name. In-memory sources are capped at ``max_upload_mb``.
    """
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.exists():
            raise DatasetError(f"the zip file '{path}' does not exist.")
        if not path.is_file():
            raise DatasetError(f"'{path}' is not a file, so it cannot be a zip archive.")
        name, opened = path.name, path
    else:
        cap = limits.max_upload_mb * MB
        if isinstance(source, (bytes, bytearray, memoryview)):
            data, name = bytes(source), "uploaded zip"
        elif hasattr(source, "read"):
            if hasattr(source, "seek"):
                source.seek(0)  # a Streamlit upload may have been read before
            data = source.read(cap + 1)
            name = Path(str(getattr(source, "name", "") or "uploaded zip")).name
        else:
            raise DatasetError(
                f"cannot read a zip from a {type(source).__name__}; give a path, bytes or an "
                "uploaded file."
            )
        if len(data) > cap:
            raise DatasetError(
                f"'{name}' is larger than the upload limit of {limits.max_upload_mb} MB "
                "(GAN_MAX_UPLOAD_MB)."
            )
        opened = io.BytesIO(data)
    try:
        return zipfile.ZipFile(opened), name
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise DatasetError(f"'{name}' is not a zip archive or is corrupt ({exc}).") from None


def _escapes_folder(name: str) -> bool:
    path = name.replace("\\", "/")
    return path.startswith("/") or bool(re.match(r"^[A-Za-z]:", path)) or ".." in path.split("/")


def zip_members(archive: zipfile.ZipFile, name: str, limits: Limits) -> list[Member]:
    """The file entries of a zip, after refusing zip slip and zip bombs for the whole archive."""
    infos = archive.infolist()
    if len(infos) > limits.max_zip_members:
        raise DatasetError(
            f"'{name}' has {len(infos):,} entries, more than the limit of "
            f"{limits.max_zip_members:,} (GAN_MAX_ZIP_MEMBERS)."
        )
    for info in infos:
        if _escapes_folder(info.filename):
            raise DatasetError(
                f"'{name}' was refused: its entry '{info.filename}' points outside the archive's "
                "folder (an absolute path or '..')."
            )
    files = [i for i in infos if not i.is_dir()]
    total = sum(i.file_size for i in files)
    if total > limits.max_zip_uncompressed_mb * MB:
        raise DatasetError(
            f"'{name}' was refused: it unpacks to {total / MB:,.1f} MB, more than the limit of "
            f"{limits.max_zip_uncompressed_mb} MB (GAN_MAX_ZIP_UNCOMPRESSED_MB)."
        )
    for info in files:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > ZIP_BOMB_MIN_BYTES and ratio > ZIP_BOMB_RATIO:
            raise DatasetError(
                f"'{name}' was refused: its entry '{info.filename}' expands {ratio:,.0f}:1 to "
                f"{info.file_size / MB:,.0f} MB, which looks like a zip bomb."
            )
    cap = limits.max_upload_mb * MB
    members = [
        Member(i.filename, i.file_size, _zip_reader(archive, i, cap))
        for i in files
        if not _is_ignored(i.filename.replace("\\", "/"))
    ]
    return sorted(members, key=lambda m: m.path)


def _zip_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> Callable[[], bytes]:
    def read() -> bytes:
        if info.file_size > cap:
            raise ImageSkipped(f"larger than {cap / MB:g} MB (GAN_MAX_UPLOAD_MB)")
        try:
            with archive.open(info) as f:
                data = f.read(info.file_size + 1)  # never trust the header: cap the read
        except RuntimeError as exc:  # zipfile's "File is encrypted, password required"
            raise ImageSkipped(f"cannot be read from the zip ({exc})") from None
        except NotImplementedError:
            raise ImageSkipped("uses a compression method Python cannot read") from None
        except Exception as exc:  # noqa: BLE001 -- bad CRC, zlib/lzma errors, truncation
            raise ImageSkipped(f"is corrupt inside the zip ({type(exc).__name__}: {exc})") from None
        if len(data) > info.file_size:
            raise ImageSkipped("holds more data than the zip header declares")
        return data

    return read


# ----------------------------------------------------------------------------- many images


def _strip_wrapping_folder(paths: list[str]) -> list[str]:
    """Drop leading folders shared by every path ("photos/cat/1.png" -> "cat/1.png" if all are
    under photos/), so a zip of one wrapping folder is not mistaken for one class."""
    parts = [p.replace("\\", "/").split("/") for p in paths]
    while parts and all(len(p) > 1 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    return ["/".join(p) for p in parts]


def decode_members(
    members: list[Member],
    source: str,
    image_size: int,
    channels: int,
    limits: Limits,
    limit: int | None = None,
    progress: Progress | None = None,
) -> DecodedImages:
    """Decode the image files among ``members`` into one uint8 array.

    Files in sub-folders are labelled by their top sub-folder (class names sorted); a flat set of
    files is unlabelled. When there are more than ``limits.max_images`` images (or ``limit``), an
    evenly spaced subset is used and a note says so. Raises DatasetError when no image is usable.
    """
    skipped: list[tuple[str, str]] = []
    candidates: list[Member] = []
    for member in members:
        suffix = Path(member.path).suffix.lower()
        if suffix == ".zip":
            skipped.append((member.path, "nested zip archives are not opened"))
        elif suffix not in IMAGE_EXTENSIONS:
            skipped.append((member.path, f"not an image file ({suffix or 'no extension'})"))
        elif member.size == 0:
            skipped.append((member.path, "empty file (0 bytes)"))
        else:
            candidates.append(member)
    if not candidates:
        raise DatasetError(_no_images_message(source, members, skipped))

    relative = _strip_wrapping_folder([m.path for m in candidates])
    labelled = any("/" in r for r in relative)
    classes: list[str | None] = []
    usable: list[Member] = []
    for member, rel in zip(candidates, relative):
        if labelled and "/" not in rel:
            skipped.append((member.path, "lies outside the class sub-folders"))
            continue
        usable.append(member)
        classes.append(rel.split("/")[0] if labelled else None)

    notes: list[str] = []
    for cap, why in ((limits.max_images, "GAN_MAX_IMAGES"), (limit, "limit")):
        if cap is not None and len(usable) > cap:
            notes.append(f"Using {cap:,} of the {len(usable):,} images in {source}, spread "
                         f"evenly ({why}={cap:,}).")
            keep = evenly_spaced(len(usable), cap)
            usable, classes = [usable[i] for i in keep], [classes[i] for i in keep]

    images = np.empty((len(usable), channels, image_size, image_size), dtype=np.uint8)
    kept_classes: list[str | None] = []
    step = max(1, len(usable) // 100)
    for index, (member, class_name) in enumerate(zip(usable, classes)):
        if progress is not None and index % step == 0:
            progress(index / len(usable), f"decoding image {index + 1:,} of {len(usable):,}")
        try:
            images[len(kept_classes)] = decode_image(
                member.read(), image_size, channels, limits.max_image_pixels
            )
        except ImageSkipped as exc:
            skipped.append((member.path, exc.reason))
            continue
        kept_classes.append(class_name)
    if progress is not None:
        progress(1.0, f"decoded {len(kept_classes):,} images")
    if not kept_classes:
        raise DatasetError(
            f"none of the {len(usable):,} image files in {source} could be read: "
            f"{_summarise(skipped)}."
        )

    images = images[: len(kept_classes)]
    if not labelled:
        return DecodedImages(images, None, [], skipped, notes)
    class_names = sorted({c for c in kept_classes if c is not None})
    index_of = {c: i for i, c in enumerate(class_names)}
    labels = np.array([index_of[c] for c in kept_classes], dtype=np.int64)
    return DecodedImages(images, labels, class_names, skipped, notes)


def _summarise(skipped: list[tuple[str, str]], shown: int = 3) -> str:
    text = "; ".join(f"{name} ({reason})" for name, reason in skipped[:shown])
    more = len(skipped) - shown
    return text + (f"; and {more:,} more" if more > 0 else "")


def _no_images_message(source: str, members: list[Member], skipped: list[tuple[str, str]]) -> str:
    if not members:
        return f"{source} is empty: there are no files in it."
    extensions = ", ".join(sorted(IMAGE_EXTENSIONS))
    return (
        f"{source} contains no image files (looked for {extensions}); "
        f"skipped: {_summarise(skipped)}."
    )
