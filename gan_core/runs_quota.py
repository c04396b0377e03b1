"""The runs folder's disk quota (``$GAN_MAX_RUNS_MB``): measure it, clean abandoned runs, refuse a save past it.

A run is a real folder directly under ``runs_root()`` (a checkpoint, metrics.csv, sample grids).
Sizes are the files' apparent sizes (``lstat``), summed over everything under the root.

In use or abandoned. A run folder is *in use*, and never cleaned, while anything in it changed less
than ``IN_USE_SECONDS`` (10 minutes) ago: the newest modification time of the folder and of anything
inside it (links are not followed), which includes its ``.in-use`` marker. Who keeps a folder fresh:

- ``python -m gan_core train`` writes metrics.csv every step, and touches ``.in-use`` every
  ``TOUCH_SECONDS`` from a background thread (``InUse``), so a run whose steps are slower than the
  window keeps its folder too;
- the app touches the folder a student looks at: the watch view of a command-line run (every minute
  while it is open), a saved run opened in the latent page, and the checkpoints a training page's run
  saved (on every heartbeat while the run is alive).

Everything else is abandoned. Once the root is over its quota, abandoned runs are deleted, the least
recently used first, until it is back under it (``clean``); when everything left is in use, nothing is
deleted and the root stays over (``Cleaning.still_over``). Cleaning runs when a run starts (the training
page's Start, the command line's ``train``), before every save into the runs folder (``make_room``,
which refuses the save with ``RunsFull`` when the root stays over), and when the home page loads (at
most once a minute per app process). A save can therefore pass the quota by at most one checkpoint.

Safety: nothing is followed out of the root. A link directly under the root is neither measured through
nor deleted, a link inside a run is removed as a link (never its target). A run is first renamed to
``.deleting-<name>`` (one atomic rename: a page listing runs never sees half of one), after checking
once more that it is still abandoned, then removed; what a cleaner killed half-way leaves is removed by
the next one. Without ``$GAN_MAX_RUNS_MB`` nothing is ever deleted.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gan_core.i18n import LocalizedError
from gan_core.limits import get_limits
from gan_core.paths import runs_root

IN_USE_SECONDS = 600.0  # a run folder with a change this recent is in use
TOUCH_SECONDS = 60.0  # how often a user of a folder touches its marker (well inside the window)
IN_USE_FILE = ".in-use"
DELETING_PREFIX = ".deleting-"


class RunsFull(LocalizedError):
    """The runs folder is over its quota and every run left in it is in use: a save is refused."""


@dataclass(frozen=True)
class RunFolder:
    """One run folder directly under the root: its size, its last change and whether it is in use."""

    name: str
    size: int  # bytes, everything inside it
    last_change: float  # time.time() of the newest change inside it
    in_use: bool


@dataclass(frozen=True)
class RunsUsage:
    """What the runs folder holds now."""

    root: Path
    used: int  # bytes under the root, everything (runs, leftovers, stray files)
    quota: int | None  # bytes, None without $GAN_MAX_RUNS_MB
    runs: tuple[RunFolder, ...]  # the least recently changed first
    leftovers: tuple[str, ...] = ()  # ``.deleting-*`` folders a killed cleaner left

    @property
    def over(self) -> bool:
        return self.quota is not None and self.used > self.quota


@dataclass(frozen=True)
class Cleaning:
    """What ``clean`` did: the usage after it and the runs it deleted (oldest first)."""

    usage: RunsUsage
    deleted: tuple[str, ...]

    @property
    def still_over(self) -> bool:
        """Over the quota with nothing left to delete (every run in it is in use)."""
        return self.usage.over


def quota_bytes() -> int | None:
    """``$GAN_MAX_RUNS_MB`` in bytes, or None when it is not set (no quota)."""
    mb = get_limits().max_runs_mb
    return None if mb is None else mb * 1_000_000


def _tree(path: str) -> tuple[int, float]:
    """(bytes, newest modification time) of everything under the folder ``path``, links not followed."""
    size, newest = 0, 0.0
    try:
        entries = list(os.scandir(path))
    except OSError:  # removed or unreadable meanwhile
        return 0, 0.0
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        newest = max(newest, info.st_mtime)
        if stat.S_ISDIR(info.st_mode):
            inner, inner_newest = _tree(entry.path)
            size, newest = size + inner, max(newest, inner_newest)
        else:
            size += info.st_size
    return size, newest


def measure(root: str | Path | None = None, now: float | None = None) -> RunsUsage:
    """The usage of ``root`` (default ``runs_root()``): every byte under it and its run folders."""
    root = Path(root) if root is not None else runs_root()
    now = time.time() if now is None else now
    used, runs, leftovers = 0, [], []
    try:
        entries = list(os.scandir(root))
    except OSError:  # no runs folder yet
        entries = []
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode):  # a file or a link: counted, never a run
            used += info.st_size
            continue
        size, newest = _tree(entry.path)
        used += size
        if entry.name.startswith(DELETING_PREFIX):
            leftovers.append(entry.name)
        elif not entry.name.startswith("."):
            last = max(info.st_mtime, newest)
            runs.append(RunFolder(entry.name, size, last, now - last < IN_USE_SECONDS))
    runs.sort(key=lambda r: (r.last_change, r.name))
    return RunsUsage(root, used, quota_bytes(), tuple(runs), tuple(sorted(leftovers)))


def choose_deletions(usage: RunsUsage) -> list[RunFolder]:
    """The abandoned runs to delete, the least recently changed first, until ``usage`` is under its quota
    (all of them if that is not enough; none without a quota or when under it)."""
    if not usage.over:
        return []
    excess, chosen = usage.used - usage.quota, []
    for run in usage.runs:
        if excess <= 0:
            break
        if not run.in_use:
            chosen.append(run)
            excess -= run.size
    return chosen


def _remove(root: Path, name: str) -> None:
    """Delete ``root / name`` (a real folder), never following a link; a vanished folder is fine."""
    path = root / name
    try:
        if stat.S_ISDIR(path.lstat().st_mode):
            shutil.rmtree(path)  # removes links inside as links (rmtree never follows them)
    except FileNotFoundError:
        pass


def _delete_run(root: Path, run: RunFolder) -> bool:
    """Delete an abandoned run: checked again, renamed out of sight, then removed. True if deleted."""
    path = root / run.name
    try:
        if path.is_symlink() or not path.is_dir():
            return False
        size, newest = _tree(str(path))
        if time.time() - max(path.lstat().st_mtime, newest) < IN_USE_SECONDS:
            return False  # someone started using it since it was measured
        hidden = root / f"{DELETING_PREFIX}{run.name}"
        os.rename(path, hidden)
    except OSError:
        return False
    try:
        _remove(root, hidden.name)
    except OSError:
        pass  # the next cleaning removes the rest
    return True


def clean(root: str | Path | None = None) -> Cleaning:
    """Bring ``root`` (default ``runs_root()``) back under its quota: remove leftovers of killed
    cleanings, then delete abandoned runs, the least recently changed first (see the module docstring)."""
    usage = measure(root)
    if usage.quota is None:
        return Cleaning(usage, ())
    for name in usage.leftovers:
        try:
            _remove(usage.root, name)
        except OSError:
            pass
    deleted = tuple(run.name for run in choose_deletions(usage) if _delete_run(usage.root, run))
    if deleted or usage.leftovers:
        usage = measure(usage.root)
    return Cleaning(usage, deleted)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.expanduser().resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def make_room(directory: str | Path) -> None:
    """Before a save into ``directory``: when it is inside the runs folder and a quota is set, clean,
    and raise ``RunsFull`` when the runs folder stays over its quota. Elsewhere, or without a quota,
    nothing happens."""
    root = runs_root()
    if quota_bytes() is None or not _inside(Path(directory), root):
        return
    cleaning = clean(root)
    if cleaning.still_over:
        usage = cleaning.usage
        raise RunsFull("errors.runs_quota.full", path=str(directory), used=megabytes(usage.used),
                       quota=megabytes(usage.quota))


def megabytes(n: int) -> str:
    """Bytes as megabytes for a message: '12.3'."""
    return f"{n / 1e6:,.1f}"


def mark_in_use(folder: str | Path, every: float = TOUCH_SECONDS) -> None:
    """Touch ``folder``'s ``.in-use`` marker, unless it was touched less than ``every`` seconds ago
    (one stat: cheap enough for a page refresh). A missing folder is not created; a folder that cannot
    be written (read-only, full) is left alone."""
    folder = Path(folder)
    marker = folder / IN_USE_FILE
    try:
        if time.time() - marker.stat().st_mtime < every:
            return
    except OSError:
        pass
    try:
        if folder.is_dir() and not folder.is_symlink():
            marker.touch()
    except OSError:
        pass


class InUse:
    """``with InUse(folder):`` touches the folder's marker now and every ``TOUCH_SECONDS`` from a
    background thread, for as long as the block runs (the command line's ``train``). A folder outside
    the runs folder is left alone: nothing there is ever cleaned."""

    def __init__(self, folder: str | Path, every: float = TOUCH_SECONDS) -> None:
        self.folder, self.every = Path(folder), every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="gan-run-in-use", daemon=True)
        self._active = _inside(self.folder, runs_root())

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            mark_in_use(self.folder, every=0.0)

    def __enter__(self) -> "InUse":
        if self._active:
            mark_in_use(self.folder, every=0.0)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._active:
            self._stop.set()
            self._thread.join()
