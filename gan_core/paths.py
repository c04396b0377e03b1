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


def image_folders_root() -> Path | None:
    """$GAN_IMAGE_FOLDERS: a folder on the server whose sub-folders the training page may train on
    (e.g. a class's shared photo sets); None when unset (the page then offers zip uploads only)."""
    value = os.environ.get("GAN_IMAGE_FOLDERS", "").strip()
    return Path(value).expanduser() if value else None


def image_folders(root: Path) -> list[str]:
    """The names of the real sub-folders of ``root`` (no links, no hidden ones), sorted."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    return sorted(e.name for e in entries
                  if not e.name.startswith(".") and e.is_dir(follow_symlinks=False))


def image_folder(root: Path, name: str) -> Path | None:
    """``root / name`` when ``name`` is one of ``image_folders(root)``, else None: a name from a page
    (a URL, a stale widget) never reaches outside the root (no "..", no "/", no link)."""
    return root / name if name in image_folders(root) else None
