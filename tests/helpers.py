"""Small test inputs built in memory, shared by the test files (``from helpers import png_bytes, zip_bytes``)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image


def png_bytes(image: Image.Image | tuple[int, int], mode: str = "L", color=128) -> bytes:
    """An image (or a new ``mode`` image of ``size`` filled with ``color``) encoded as PNG."""
    if not isinstance(image, Image.Image):
        image = Image.new(mode, image, color)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes | str | Path], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip archive in memory: each member's bytes or text, or the file at a ``Path``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, payload in members.items():
            if isinstance(payload, Path):
                zf.write(payload, arcname=name)
            else:
                zf.writestr(name, payload)
    return buf.getvalue()


def queue_is_empty(registry) -> bool:
    """Whether no Start waits in ``registry``'s queue (a ``gan_core.worker.RunRegistry``): a new ticket is first in line."""
    probe = registry.enqueue("probe", 1)
    try:
        return registry.position(probe) == 1
    finally:
        registry.leave(probe)
