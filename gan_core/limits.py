"""Every resource and safety limit of GAN Classroom, in one place.

Each limit has a default suited to a 2-core classroom laptop and can be overridden with an
environment variable (documented in the README), e.g. ``GAN_MAX_UPLOAD_MB=500``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


def _env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from exc
    if value <= 0:
        raise ValueError(f"environment variable {name}={raw!r} must be positive")
    return value


@dataclass(frozen=True)
class Limits:
    """Resource limits. Construct with ``Limits.from_env()`` to honour overrides."""

    max_upload_mb: int = 200  # largest uploaded file (zip of images or checkpoint)
    max_zip_uncompressed_mb: int = 1024  # total uncompressed size of a zip (zip-bomb cap)
    max_zip_members: int = 100_000  # entries in a zip
    max_image_pixels: int = 40_000_000  # pixels of one image, checked before decoding
    max_images: int = 200_000  # images loaded from one folder/zip
    max_concurrent_runs: int = 1  # training runs at once on this server (CPU default)
    max_checkpoint_mb: int = 512  # weights file size accepted when loading a checkpoint
    max_aspect_ratio: int = 50  # long side / short side of one image (a 1,000,000 x 1 strip is refused)
    max_dataset_mb: int = 1024  # decoded folder/zip dataset, images x C x H x W bytes (uint8), checked before decoding
    max_decode_megapixels: int = 2000  # pixels decoded for one folder/zip in total (CPU time of a load)
    max_model_mb: int = 256  # float32 weights of G and D together, computed from a config before building
    max_runs_mb: int | None = None  # everything under the runs folder (gan_core.runs_quota); None: no quota
    max_run_mb: int = 4096  # estimated memory of one training run, checked before it starts (gan_core.run_cost)

    ENV = {
        "max_upload_mb": "GAN_MAX_UPLOAD_MB",
        "max_zip_uncompressed_mb": "GAN_MAX_ZIP_UNCOMPRESSED_MB",
        "max_zip_members": "GAN_MAX_ZIP_MEMBERS",
        "max_image_pixels": "GAN_MAX_IMAGE_PIXELS",
        "max_images": "GAN_MAX_IMAGES",
        "max_concurrent_runs": "GAN_MAX_CONCURRENT_RUNS",
        "max_checkpoint_mb": "GAN_MAX_CHECKPOINT_MB",
        "max_aspect_ratio": "GAN_MAX_ASPECT_RATIO",
        "max_dataset_mb": "GAN_MAX_DATASET_MB",
        "max_decode_megapixels": "GAN_MAX_DECODE_MEGAPIXELS",
        "max_model_mb": "GAN_MAX_MODEL_MB",
        "max_runs_mb": "GAN_MAX_RUNS_MB",
        "max_run_mb": "GAN_MAX_RUN_MB",
    }

    @classmethod
    def from_env(cls) -> "Limits":
        """Defaults, overridden by the ``GAN_*`` environment variables that are set."""
        return cls(**{f.name: _env_int(cls.ENV[f.name], f.default) for f in fields(cls)})


def get_limits() -> Limits:
    """The limits in force now (re-read from the environment on every call)."""
    return Limits.from_env()
