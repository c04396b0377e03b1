"""Decode image folders and zip archives into one uint8 array, safely.

This is the untrusted-input half of ``gan_core.data.datasets``: students upload zips and point the app at
folders, so every file is treated as hostile until decoded.

- Zips are read member by member *in memory*; nothing is ever extracted to disk.
- A zip is refused as a whole when it is not a zip, has too many members, an entry that escapes
  its folder (``../x.png`` or an absolute path: "zip slip"), or declares too much uncompressed
  data / an absurd compression ratio ("zip bomb"). Members are read with a size cap, because the
  sizes in the header are only claims.
- A single bad file never stops the load: empty, non-image, corrupt, too large, nested-zip files
  are *skipped* and reported as ``(file name, reason)``.
- The decoded dataset's size (images x channels x H x W bytes, kept as uint8) is checked against
  ``max_dataset_mb`` before the first image is decoded, and the pixels decoded in one load add up
  against ``max_decode_megapixels``: a small zip cannot ask for gigabytes or hours.
- A zip's end-of-central-directory record (entry count, directory size) is read *before*
  ``zipfile`` parses the directory, so four million tiny entries cost nothing to refuse.
- Decoding checks ``should_stop()`` between images (an app stops the load when its session ends)
  and reports ``progress(done, total)``.
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

Fitting to the model's size crops the centre square of the *original* first and then resizes that
square, so no intermediate image is ever larger than the original or the output (resizing first
would turn a 1,000,000 x 1 strip into a 28,000,000 x 28 image). Images more than
``max_aspect_ratio`` times wider than tall (or taller than wide) are skipped.

``DatasetError`` is defined here (the lowest module that raises it) and re-exported by
``gan_core.data.datasets``; import it from there.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_core.i18n import LocalizedError, LocalizedText
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

Progress = Callable[[int, int], None]  # progress(done, total), e.g. images decoded of the images to decode
ShouldStop = Callable[[], bool]  # True when the caller no longer wants the result (checked between images)
ZipSource = Union[str, Path, bytes, bytearray, memoryview, BinaryIO]
# Bytes a central-directory entry may take on average (46 fixed + name + extra + comment): beyond
# this, a directory is refused before zipfile reads it, whatever count its end record claims.
ZIP_DIRECTORY_BYTES_PER_ENTRY = 1024


class DatasetError(LocalizedError):
    """A dataset cannot be loaded; the message is one plain sentence naming the problem."""


class DecodingCancelled(DatasetError):
    """``should_stop()`` said stop: the load was abandoned between two images."""


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


def decode_image(data: bytes, image_size: int, channels: int, max_pixels: int,
                 max_aspect_ratio: int = Limits.max_aspect_ratio) -> np.ndarray:
    """Decode one image file to a uint8 array (channels, image_size, image_size).

    The centre square is cropped (the short side's length) and resized to ``image_size`` (Lanczos,
    antialiased). Raises ImageSkipped with a reason for anything that is not a usable image.
    """
    return _decode(open_image(data, image_size, max_pixels, max_aspect_ratio), image_size, channels)


def open_image(data: bytes, image_size: int, max_pixels: int,
               max_aspect_ratio: int = Limits.max_aspect_ratio) -> Image.Image:
    """Open one image file from its header only (nothing is decoded), checking its declared size.

    The returned image's ``size`` is what decoding it will cost (after JPEG draft downscaling).
    """
    img = read_header(data, max_pixels, max_aspect_ratio)
    if img.format == "JPEG":
        try:
            img.draft(img.mode, (image_size, image_size))  # let libjpeg downscale big photos
        except Exception as exc:  # noqa: BLE001 -- PIL raises many types on corrupt data
            raise ImageSkipped(LocalizedText("errors.files.corrupt", detail=f"{type(exc).__name__}: {exc}")) from None
    return img


def read_header(data: bytes, max_pixels: int, max_aspect_ratio: int = Limits.max_aspect_ratio) -> Image.Image:
    """Open one image file from its header only: its own ``size`` and ``mode``, checked, no pixels.

    Raises ImageSkipped with a reason for anything that is not a usable image.
    """
    if not data:
        raise ImageSkipped(LocalizedText("errors.files.empty"))
    try:
        img = Image.open(io.BytesIO(data))
        width, height = img.size  # from the header: nothing is decoded yet
        if width * height > max_pixels:
            raise ImageSkipped(LocalizedText(
                "errors.files.too_many_pixels", width=width, height=height, pixels=f"{width * height:,}",
                limit=f"{max_pixels:,}"))
        if width == 0 or height == 0:
            raise ImageSkipped(LocalizedText("errors.files.no_pixels", width=width, height=height))
        if max(width, height) > max_aspect_ratio * min(width, height):
            raise ImageSkipped(LocalizedText(
                "errors.files.aspect_ratio", width=width, height=height, ratio=max_aspect_ratio))
        return img
    except ImageSkipped:
        raise
    except Image.DecompressionBombError as exc:  # PIL's own cap, raised inside Image.open
        raise ImageSkipped(LocalizedText("errors.files.bomb", detail=str(exc))) from None
    except UnidentifiedImageError:
        raise ImageSkipped(LocalizedText("errors.files.not_an_image_format")) from None
    except Exception as exc:  # noqa: BLE001 -- PIL raises many types on corrupt data
        raise ImageSkipped(LocalizedText("errors.files.corrupt", detail=f"{type(exc).__name__}: {exc}")) from None


def _decode(img: Image.Image, image_size: int, channels: int) -> np.ndarray:
    """An image from ``open_image`` -> uint8 (channels, image_size, image_size)."""
    try:
        img = _upright(img)
        img = _to_l_or_rgb(_crop_centre_square(img))  # decodes the pixels
        if img.size != (image_size, image_size):
            img = img.resize((image_size, image_size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    except Exception as exc:  # noqa: BLE001 -- PIL raises many types on corrupt data
        raise ImageSkipped(LocalizedText("errors.files.corrupt", detail=f"{type(exc).__name__}: {exc}")) from None
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


def _crop_centre_square(img: Image.Image) -> Image.Image:
    """The centre square of the image, its side the short side: never larger than the original."""
    width, height = img.size
    side = min(width, height)
    if width == height:
        return img
    left, top = (width - side) // 2, (height - side) // 2
    return img.crop((left, top, left + side, top + side))


# ----------------------------------------------------------------------------- listing files


def _is_ignored(path: str) -> bool:
    """Hidden files, macOS resource forks and OS clutter are dropped silently."""
    parts = path.split("/")
    return any(p.startswith(".") or p == "__MACOSX" for p in parts) or (
        parts[-1].lower() in IGNORED_FILE_NAMES
    )


def folder_members(folder: Path, limits: Limits) -> list[Member]:
    """Every non-hidden file under ``folder`` (recursively, symlinked folders not followed).

    A linked file is read only when its target lies inside ``folder``: a link cannot make the load
    read (and show) a file from elsewhere on the machine, as a zip cannot.
    """
    members = []
    inside = folder.resolve()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _is_ignored(d))
        for filename in filenames:
            full = Path(dirpath, filename)
            relative = full.relative_to(folder).as_posix()
            if _is_ignored(relative):
                continue
            if full.is_symlink() and not full.resolve().is_relative_to(inside):
                members.append(Member(relative, -1, _raiser(LocalizedText("errors.files.link_outside"))))
                continue
            try:
                info = full.stat()
            except OSError as exc:
                members.append(Member(relative, -1, _raiser(f"cannot be read ({exc.strerror or exc})")))
                continue
            if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read forever; a device never ends
                members.append(Member(relative, -1, _raiser("not a regular file (a device, pipe or socket)")))
                continue
            members.append(Member(relative, info.st_size, _file_reader(full, limits.max_upload_mb * MB)))
    return sorted(members, key=lambda m: m.path)


def _raiser(reason: str) -> Callable[[], bytes]:
    def read() -> bytes:
        raise ImageSkipped(reason)

    return read


def _file_reader(path: Path, cap: int) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            # O_NONBLOCK: a file swapped for a FIFO after the listing must not hang the load
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise ImageSkipped(LocalizedText("errors.files.not_regular"))
                return _read_capped(f, cap)
        except OSError as exc:
            raise ImageSkipped(LocalizedText("errors.files.unreadable", detail=str(exc.strerror or exc))) from None

    return read


def _read_capped(stream: BinaryIO, cap: int) -> bytes:
    """Read at most ``cap`` bytes; more than that is a skip (sizes on disk/in headers may lie)."""
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise ImageSkipped(LocalizedText("errors.files.too_large", mb=f"{cap / MB:g}"))
    return data


def open_zip(source: ZipSource, limits: Limits) -> tuple[zipfile.ZipFile, str]:
    """Open a zip from a path, bytes or a file-like object (e.g. a Streamlit upload).

    Returns the archive and a display name. In-memory sources are capped at ``max_upload_mb``. The
    end-of-central-directory record is checked (``check_zip_directory``) before ``zipfile`` parses
    anything.
    """
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.exists():
            raise DatasetError("errors.data.zip_missing", path=str(path))
        if not path.is_file():
            raise DatasetError("errors.data.zip_not_file", path=str(path))
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
            raise DatasetError("errors.data.zip_source_type", kind=type(source).__name__)
        if len(data) > cap:
            raise DatasetError("errors.data.upload_too_large", name=name, limit=limits.max_upload_mb)
        opened = io.BytesIO(data)
    try:
        if isinstance(opened, Path):
            with opened.open("rb") as f:
                problem = check_zip_directory(f, limits)
        else:
            problem = check_zip_directory(opened, limits)
        if problem is None:
            return zipfile.ZipFile(opened), name
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
            struct.error) as exc:
        raise DatasetError("errors.data.zip_corrupt", name=name, reason=str(exc)) from None
    key, params = problem
    raise DatasetError(f"errors.data.{key}", name=name, **params)


_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record (22 bytes)
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # zip64 end of central directory locator (20 bytes)
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record (56 bytes)


def check_zip_directory(stream: BinaryIO, limits: Limits) -> tuple[str, dict] | None:
    """Read a zip's end-of-central-directory record and refuse a directory too big to parse.

    ``zipfile.ZipFile`` reads the whole central directory into memory and builds one object per
    entry before anyone can count them; this reads only the 22-byte end record (and the zip64
    one), like zipfile's own ``_EndRecData``. Returns None when the zip may be opened, or
    ``(problem, params)``: ``("zip_too_many_entries", {n, limit})`` or
    ``("zip_directory_too_large", {mb, limit})``. A stream that is not a zip returns None
    (zipfile then says so).
    """
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    tail_length = min(size, _EOCD.size + 65535)  # the record, then a comment of up to 64 KiB
    stream.seek(size - tail_length)
    tail = stream.read(tail_length)
    stream.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return None
    _, _, _, _, entries, directory_size, _, _ = _EOCD.unpack_from(tail, at)
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:  # zip64: the real numbers are elsewhere
        locator_at = size - tail_length + at - _ZIP64_LOCATOR.size
        if locator_at >= 0:
            stream.seek(locator_at)
            signature, _, record_at, _ = _ZIP64_LOCATOR.unpack(stream.read(_ZIP64_LOCATOR.size))
            if signature == b"PK\x06\x07" and 0 <= record_at <= size - _ZIP64_EOCD.size:
                stream.seek(record_at)
                record = _ZIP64_EOCD.unpack(stream.read(_ZIP64_EOCD.size))
                if record[0] == b"PK\x06\x06":
                    entries, directory_size = record[7], record[8]
        stream.seek(0)
    if entries > limits.max_zip_members:
        return "zip_too_many_entries", {"n": f"{entries:,}", "limit": f"{limits.max_zip_members:,}"}
    directory_cap = limits.max_zip_members * ZIP_DIRECTORY_BYTES_PER_ENTRY
    if directory_size > directory_cap:
        return "zip_directory_too_large", {"mb": f"{directory_size / MB:,.1f}", "limit": f"{directory_cap / MB:,.0f}"}
    return None


def _escapes_folder(name: str) -> bool:
    path = name.replace("\\", "/")
    return path.startswith("/") or bool(re.match(r"^[A-Za-z]:", path)) or ".." in path.split("/")


def zip_members(archive: zipfile.ZipFile, name: str, limits: Limits) -> list[Member]:
    """The file entries of a zip, after refusing zip slip and zip bombs for the whole archive."""
    infos = archive.infolist()
    if len(infos) > limits.max_zip_members:  # the end record can understate: count what was parsed
        raise DatasetError("errors.data.zip_too_many_entries", name=name, n=f"{len(infos):,}",
                           limit=f"{limits.max_zip_members:,}")
    for info in infos:
        if _escapes_folder(info.filename):
            raise DatasetError("errors.data.zip_slip", name=name, entry=info.filename)
    files = [i for i in infos if not i.is_dir()]
    total = sum(i.file_size for i in files)
    if total > limits.max_zip_uncompressed_mb * MB:
        raise DatasetError("errors.data.zip_too_big_unpacked", name=name, mb=f"{total / MB:,.1f}",
                           limit=limits.max_zip_uncompressed_mb)
    for info in files:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > ZIP_BOMB_MIN_BYTES and ratio > ZIP_BOMB_RATIO:
            raise DatasetError("errors.data.zip_bomb", name=name, entry=info.filename,
                               ratio=f"{ratio:,.0f}", mb=f"{info.file_size / MB:,.0f}")
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
            raise ImageSkipped(LocalizedText("errors.files.too_large", mb=f"{cap / MB:g}"))
        try:
            with archive.open(info) as f:
                data = f.read(info.file_size + 1)  # never trust the header: cap the read
        except RuntimeError as exc:  # zipfile's "File is encrypted, password required"
            raise ImageSkipped(LocalizedText("errors.files.unreadable_in_zip", detail=str(exc))) from None
        except NotImplementedError:
            raise ImageSkipped(LocalizedText("errors.files.compression")) from None
        except Exception as exc:  # noqa: BLE001 -- bad CRC, zlib/lzma errors, truncation
            raise ImageSkipped(LocalizedText("errors.files.corrupt_in_zip", detail=f"{type(exc).__name__}: {exc}")) from None
        if len(data) > info.file_size:
            raise ImageSkipped(LocalizedText("errors.files.more_than_declared"))
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


@dataclass
class ImageFiles:
    """The files of a folder or zip that look like images, before any is opened."""

    usable: list[Member]
    classes: list[str | None]  # each usable file's class (its top sub-folder), None when unlabelled
    labelled: bool  # True when the images sit in sub-folders (= classes)
    skipped: list[tuple[str, str]]  # (file name, reason): not images, empty, outside the classes


def select_image_files(members: list[Member], source: str) -> ImageFiles:
    """Sort ``members`` into image files (with their classes) and skipped files (with reasons).

    Files in sub-folders are labelled by their top sub-folder (one wrapping folder is looked
    through); a flat set of files is unlabelled. Raises DatasetError when no file is an image.
    """
    skipped: list[tuple[str, str]] = []
    candidates: list[Member] = []
    for member in members:
        suffix = Path(member.path).suffix.lower()
        if suffix == ".zip":
            skipped.append((member.path, LocalizedText("errors.files.nested_zip")))
        elif suffix not in IMAGE_EXTENSIONS:
            skipped.append((member.path, LocalizedText("errors.files.not_an_image_file", suffix=suffix or "—")))
        elif member.size == 0:
            skipped.append((member.path, LocalizedText("errors.files.empty")))
        else:
            candidates.append(member)
    if not candidates:
        if not members:
            raise DatasetError("errors.data.no_files", source=source)
        raise DatasetError("errors.data.no_image_files", source=source,
                           extensions=", ".join(sorted(IMAGE_EXTENSIONS)), skipped=summarise_skipped(skipped))

    relative = _strip_wrapping_folder([m.path for m in candidates])
    labelled = any("/" in r for r in relative)
    classes: list[str | None] = []
    usable: list[Member] = []
    for member, rel in zip(candidates, relative):
        if labelled and "/" not in rel:
            skipped.append((member.path, LocalizedText("errors.files.outside_classes")))
            continue
        usable.append(member)
        classes.append(rel.split("/")[0] if labelled else None)
    return ImageFiles(usable, classes, labelled, skipped)


def decode_members(
    members: list[Member],
    source: str,
    image_size: int,
    channels: int,
    limits: Limits,
    limit: int | None = None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> DecodedImages:
    """Decode the image files among ``members`` into one uint8 array.

    ``source`` names the folder or zip in messages. Files in sub-folders are labelled by their top
    sub-folder (class names sorted); a flat set of files is unlabelled. When there are more than
    ``limits.max_images`` images (or ``limit``), an evenly spaced subset is used and a note says so.
    Raises DatasetError when no image is usable, when the decoded dataset would exceed
    ``limits.max_dataset_mb`` (checked before decoding) or the decoded pixels
    ``limits.max_decode_megapixels``; DecodingCancelled when ``should_stop()`` returns True (it is
    asked before every image). ``progress(done, total)`` follows the decoding.
    """
    files = select_image_files(members, source)
    usable, classes, labelled, skipped = files.usable, files.classes, files.labelled, files.skipped
    notes: list[str] = []
    for cap, why in ((limits.max_images, "GAN_MAX_IMAGES"), (limit, "limit")):
        if cap is not None and len(usable) > cap:
            notes.append(f"Using {cap:,} of the {len(usable):,} images in {source}, spread "
                         f"evenly ({why}={cap:,}).")
            keep = evenly_spaced(len(usable), cap)
            usable, classes = [usable[i] for i in keep], [classes[i] for i in keep]

    # The uint8 array below is what the dataset keeps (1 byte per value; batches become float one at
    # a time). Checked before the first image is decoded.
    dataset_bytes = len(usable) * channels * image_size * image_size
    if dataset_bytes > limits.max_dataset_mb * MB:
        raise DatasetError("errors.data.dataset_too_large", source=source, n=f"{len(usable):,}",
                           mb=f"{dataset_bytes / MB:,.0f}", size=image_size, channels=channels,
                           limit=limits.max_dataset_mb)

    images = np.empty((len(usable), channels, image_size, image_size), dtype=np.uint8)
    kept_classes: list[str | None] = []
    pixel_budget = limits.max_decode_megapixels * 1_000_000
    decoded_pixels = 0
    for index, (member, class_name) in enumerate(zip(usable, classes)):
        if should_stop is not None and should_stop():
            raise DecodingCancelled("errors.data.cancelled", source=source, done=index, total=len(usable))
        if progress is not None:
            progress(index, len(usable))
        try:
            img = open_image(member.read(), image_size, limits.max_image_pixels, limits.max_aspect_ratio)
            decoded_pixels += img.size[0] * img.size[1]  # after JPEG draft: what decoding will cost
            if decoded_pixels > pixel_budget:
                raise DatasetError("errors.data.decode_budget", source=source, limit=limits.max_decode_megapixels)
            images[len(kept_classes)] = _decode(img, image_size, channels)
        except ImageSkipped as exc:
            skipped.append((member.path, exc.reason))
            continue
        kept_classes.append(class_name)
    if progress is not None:
        progress(len(usable), len(usable))
    if not kept_classes:
        raise DatasetError("errors.data.none_readable", n=f"{len(usable):,}", source=source,
                           skipped=summarise_skipped(skipped))

    images = images[: len(kept_classes)]
    if not labelled:
        return DecodedImages(images, None, [], skipped, notes)
    class_names = sorted({c for c in kept_classes if c is not None})
    index_of = {c: i for i, c in enumerate(class_names)}
    labels = np.array([index_of[c] for c in kept_classes], dtype=np.int64)
    return DecodedImages(images, labels, class_names, skipped, notes)


def summarise_skipped(skipped: list[tuple[str, str]], shown: int = 3) -> str:
    """The first ``shown`` skipped files with their reasons, and how many more (for one error sentence)."""
    text = "; ".join(f"{name} ({reason})" for name, reason in skipped[:shown])
    more = len(skipped) - shown
    return text + (f"; and {more:,} more" if more > 0 else "")
