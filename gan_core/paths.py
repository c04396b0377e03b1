"""The project's shared folders, defined once: the repository root, shipped assets, saved runs."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Shipped models and classifiers ($GAN_ASSETS_DIR overrides, e.g. for tests).
ASSETS_DIR = Path(os.environ.get("GAN_ASSETS_DIR") or REPO_ROOT / "assets")


def runs_root() -> Path:
    """Where checkpoints are saved: $GAN_RUNS_DIR, or runs/ at the repository root."""
    return Path(os.environ.get("GAN_RUNS_DIR") or REPO_ROOT / "runs")
