"""A recorded training run, for replaying on the training page: the folder ``python -m gan_core train`` writes.

The format is the CLI's run folder (plain files, nothing pickled)::

    <run>/
      config.json              the checkpoint config: {"format", "format_version", "model": {...},
                               "train": TrainConfig fields (preset, batch_size, k, loss, lr_d, ...),
                               "dataset": {"name", "class_names", "size"}, "step", ...}
      metrics.csv              a header line, then one row per generator step:
                               step,epoch,loss_d,loss_g,d_real,d_fake,images_per_sec,elapsed
      samples/step_000250.png  the fixed-noise sample grid after step 250 (zero-padded step number)
      samples/final.png        the grid at the end of the run; its step is config.json's "step"
                               (used when no step_*.png has that step)

Only ``metrics.csv`` and ``samples/step_*.png`` are required; the weights (``*.safetensors``) may be
left out of a shipped recording, and ``config.json`` only labels it. A recording is read as it may be
while a run is still writing it: a CSV line cut mid-write (too few fields, or a field that is not a
number) is skipped, and so is a row whose step does not increase (a resumed run that repeated steps).

A run the command line is still writing is read the same way (``growing=True`` allows a run that has
no grid yet), its metrics through a ``MetricsFollower`` kept between reads, which parses only what was
appended and keeps at most ``MAX_KEPT_ROWS`` rows (thinned) however long the run; ``run_folders(root)`` lists the run folders under the server's runs root and
``run_folder(root, name)`` refuses any name that would lead outside it. ``config.json``'s
``target_step`` (written by the CLI from its first step on) gives ``Recording.eta()``.

    rec = load_recording("assets/recording-tf-tutorial-mnist5k")
    rec.last_step, rec.frame_steps      # e.g. 7020, [117, 234, ...]
    rec.history_until(1000)             # {"step": array, "loss_d": array, ...} up to step 1000
    rec.frame_image(rec.frame_index_at(1000))   # the newest grid at or before step 1000 (uint8)
"""

from __future__ import annotations

import csv
import io
import json
import math
import operator
import os
import re
import threading
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from gan_core.i18n import LocalizedError
from gan_core.paths import ASSETS_DIR
from gan_core.settings import is_whole

REQUIRED_COLUMNS = ("step", "loss_d", "loss_g", "d_real", "d_fake")
OPTIONAL_COLUMNS = ("epoch", "images_per_sec", "elapsed")
FRAME_NAME = re.compile(r"^step_(\d{1,9})\.png$")
MAX_RUN_FOLDERS = 200  # the newest run folders listed on the training page
MAX_FRAMES = 2000  # a replay needs ~60; far more would only cost memory
MAX_FRAME_PIXELS = 4_000_000  # one grid image (a 64-image grid of 64 px RGB is ~0.3 M pixels)
LECTURE_RECORDING = "recording-tf-tutorial-mnist5k"
# The lecture's model (tf-tutorial) recorded on each dataset it was trained on, in the order the replay
# offers them: the 5,000 digits of the lecture replay, and Fashion-MNIST's 60,000 images for 30 epochs
# (the lecture's recipe at its own scale, with classes.csv: how many kinds of clothing G makes).
LECTURE_RECORDINGS = {"mnist5k": LECTURE_RECORDING, "fashion-mnist": "recording-tf-tutorial-fashion-mnist"}


class RecordingError(LocalizedError):
    """A folder that is not a usable recording; the message says what is missing."""


def lecture_recording_path(dataset: str = "mnist5k") -> Path:
    """The shipped recording of the lecture's model on ``dataset`` (a key of ``LECTURE_RECORDINGS``).
    $GAN_LECTURE_RECORDING overrides the mnist5k one and $GAN_LECTURE_RECORDING_FASHION_MNIST the
    Fashion-MNIST one (e.g. in tests)."""
    variable = "GAN_LECTURE_RECORDING" + ("" if dataset == "mnist5k" else "_" + dataset.upper().replace("-", "_"))
    return Path(os.environ.get(variable) or ASSETS_DIR / LECTURE_RECORDINGS[dataset])


@dataclass(frozen=True)
class Recording:
    """A run's metrics and sample grids, read from its folder (frames are decoded when asked for)."""

    path: Path
    train_config: dict  # config.json's "train" section ({} without a config.json)
    dataset: str
    history: dict[str, np.ndarray]  # REQUIRED_COLUMNS + OPTIONAL_COLUMNS present -> one value per step
    frame_steps: list[int]  # steps that have a sample grid, ascending
    frame_paths: list[Path] = field(repr=False)
    target_step: int | None = None  # where the run stops (config.json's "target_step"), if it says
    class_names: list[str] = field(default_factory=list)  # config.json's dataset.class_names ([]: unlabelled)
    updated: float = 0.0  # time.time() of metrics.csv's last change

    @property
    def last_step(self) -> int:
        """The last step with metrics or a grid."""
        steps = [int(self.history["step"][-1])] if len(self.history["step"]) else []
        return max(steps + self.frame_steps[-1:] + [0])

    def eta(self, window: int = 50) -> float | None:
        """Seconds until ``target_step`` at the speed of the last ``window`` steps (None if unknown)."""
        steps, elapsed = self.history["step"], self.history.get("elapsed")
        if self.target_step is None or elapsed is None or len(steps) < 2:
            return None
        a = max(0, len(steps) - window)
        rate = (steps[-1] - steps[a]) / max(elapsed[-1] - elapsed[a], 1e-9)
        return max(0.0, (self.target_step - steps[-1]) / rate) if rate > 0 else None

    def history_until(self, step: float) -> dict[str, np.ndarray]:
        """The metric columns for steps <= ``step`` (what a live run would have shown by then)."""
        n = int(np.searchsorted(self.history["step"], step, side="right"))
        return {name: column[:n] for name, column in self.history.items()}

    def frame_index_at(self, step: float) -> int | None:
        """Index of the newest grid at or before ``step`` (None before the first grid)."""
        i = bisect_right(self.frame_steps, step) - 1
        return i if i >= 0 else None

    def frame_image(self, index: int) -> np.ndarray:
        """The grid image ``index`` as uint8 (H, W) or (H, W, 3); raises RecordingError if unreadable."""
        return _read_frame(self.frame_paths[index])


@lru_cache(maxsize=256)
def _read_frame(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_FRAME_PIXELS:
                raise RecordingError("errors.recording.frame_too_big", name=path.name, pixels=img.width * img.height)
            img = img.convert("L" if img.mode in ("1", "L", "I;16", "I") else "RGB")
            return np.asarray(img, dtype=np.uint8).copy()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, RecordingError):
            raise
        raise RecordingError("errors.recording.bad_frame", name=path.name) from None


MAX_KEPT_ROWS = 20_000  # metric rows kept for the charts, whatever the run's length (thinned evenly)
READ_CHUNK_BYTES = 4 << 20  # a long metrics.csv is read in pieces of this size (69 MB for a million rows)
FINGERPRINT_BYTES = 64  # the bytes before the read offset, compared to notice a file rewritten in place


class MetricsFollower:
    """A run's metrics.csv, read by what was appended since the last ``read()`` (a run being written
    adds a row per step; reading the whole file again on every change cost 5 s at a million rows).

    Each line is parsed once. A line still being written (no newline yet) waits for the next update;
    a cut or malformed row and a step that does not increase (a resumed run that repeated steps) are
    skipped. A file replaced or rewritten (a resume trims metrics.csv) is noticed by its inode, its
    size or the bytes before the offset, and read again from the start. At most ``max_rows`` rows are
    kept, every n-th one (n doubles when they would be more), plus always the newest row, so the
    memory kept and the charts' work are bounded whatever the run's length. Thread-safe (one follower
    may serve every page that watches the run).
    """

    def __init__(self, path: str | Path, max_rows: int = MAX_KEPT_ROWS):
        self.path = Path(path)
        self.max_rows = max_rows
        self.rows_parsed = 0  # lines handed to the CSV parser since the follower was made (tests count them)
        self._lock = threading.Lock()
        self._start_over()

    def _start_over(self) -> None:
        self._inode: int | None = None
        self._offset = 0  # bytes of complete lines consumed
        self._fingerprint = b""
        self._names: list[str] | None = None  # the columns kept, from the header
        self._pick = None  # the columns kept, out of a row
        self._width = 0
        self._kept: list[tuple[float, ...]] = []
        self._latest: tuple[float, ...] | None = None
        self._stride, self._valid_rows, self._last_step = 1, 0, -math.inf
        self._history: dict[str, np.ndarray] | None = None

    def read(self) -> dict[str, np.ndarray]:
        """Parse what was appended, then the columns kept (``REQUIRED_COLUMNS`` + ``OPTIONAL_COLUMNS`` present)."""
        with self._lock:
            self._update()
            if self._history is None:
                rows = self._kept + ([self._latest] if self._latest is not None and
                                     (not self._kept or self._kept[-1] is not self._latest) else [])
                names = self._names or list(REQUIRED_COLUMNS)  # no header line yet: no rows yet
                table = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(names))
                self._history = {n: table[:, i].copy() for i, n in enumerate(names)}
            return self._history

    def _update(self) -> None:
        try:
            stat = os.stat(self.path)
            with open(self.path, "rb") as f:
                if self._inode != stat.st_ino or stat.st_size < self._offset or not self._same_before_offset(f):
                    self._start_over()  # replaced, cut or rewritten (a resume trims it): read it all again
                    self._inode = stat.st_ino
                f.seek(self._offset)
                while chunk := f.read(READ_CHUNK_BYTES):
                    complete = chunk.rfind(b"\n") + 1
                    if complete == 0 and len(chunk) < READ_CHUNK_BYTES:
                        break  # a line still being written: the next update reads it whole
                    self._consume(chunk[:complete or len(chunk)])  # (a line longer than a chunk: junk, skipped)
                    f.seek(self._offset)  # what is left of the chunk starts a line: read it with what follows
        except OSError:
            raise RecordingError("errors.recording.unreadable", name=self.path.name) from None

    def _same_before_offset(self, f) -> bool:
        if not self._offset:
            return True
        f.seek(self._offset - len(self._fingerprint))
        return f.read(len(self._fingerprint)) == self._fingerprint

    def _consume(self, data: bytes) -> None:
        rows = csv.reader(io.StringIO(data.decode("utf-8", errors="replace")))
        if self._names is None:
            header = next(rows, None)
            if header is None or any(name not in header for name in REQUIRED_COLUMNS):
                raise RecordingError("errors.recording.bad_header", columns=", ".join(REQUIRED_COLUMNS))
            self._names = [n for n in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if n in header]
            self._width = len(header)
            self._pick = operator.itemgetter(*(header.index(n) for n in self._names))
        # one loop with local names: a million rows are parsed in a few seconds
        width, pick, kept, last_step = self._width, self._pick, self._kept, self._last_step
        parsed = 0
        for row in rows:
            parsed += 1
            if len(row) != width:
                continue  # a line cut mid-write (or a stray one)
            try:
                values = tuple(map(float, pick(row)))  # values[0]: the step
            except ValueError:
                continue
            if values[0] <= last_step or not math.isfinite(sum(values)):
                continue  # a repeated step (a resumed run), NaN or infinity
            last_step = values[0]
            if self._valid_rows % self._stride == 0:
                kept.append(values)
                if len(kept) > self.max_rows:  # every other one: the stride doubles
                    kept[:] = kept[::2]
                    self._stride *= 2
            self._valid_rows += 1
            self._latest = values
        self._last_step = last_step
        self.rows_parsed += parsed
        self._offset += len(data)
        self._fingerprint = data[-FINGERPRINT_BYTES:]
        self._history = None


def _read_config(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        raise RecordingError("errors.recording.bad_config", name=path.name) from None
    return config if isinstance(config, dict) else {}


def _final_grid_is_current(folder: Path, step, last_frame_step: int) -> bool:
    """Whether samples/final.png is the grid of config.json's step, later than every step_*.png.

    The CLI writes final.png right after the run's last save; a resumed run that is still going
    saves config.json again later, so an older final.png is not its current grid."""
    final, config = folder / "samples" / "final.png", folder / "config.json"
    if not is_whole(step) or step <= last_frame_step or not final.is_file():
        return False
    return final.stat().st_mtime_ns >= config.stat().st_mtime_ns


def run_folders(root: str | Path, marker: str = "metrics.csv") -> list[Path]:
    """Run folders directly under ``root`` that hold a file ``marker`` (metrics.csv: a recorded run;
    ``gan_core.checkpoint.CONFIG_FILE``: a checkpoint), the most recently updated marker first. Symbolic
    links and folders removed while listing are left out; at most ``MAX_RUN_FOLDERS``."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        try:
            if p.is_dir() and not p.is_symlink() and (p / marker).is_file():
                found.append(((p / marker).stat().st_mtime, p))
        except OSError:  # removed while listing
            continue
    return [p for _, p in sorted(found, key=lambda item: item[0], reverse=True)[:MAX_RUN_FOLDERS]]


def run_folder(root: str | Path, name: str) -> Path:
    """The run folder ``name`` directly under ``root``; a name that leads anywhere else is refused."""
    root = Path(root).resolve()
    candidate = (root / name).resolve()
    if not name or name in (".", "..") or "/" in name or "\\" in name or candidate.parent != root:
        raise RecordingError("errors.recording.outside", name=name)
    return candidate


def load_recording(path: str | Path, growing: bool = False, metrics: MetricsFollower | None = None) -> Recording:
    """Read a run folder (see the module docstring); raises RecordingError if it has no metrics or grids
    (``growing``: a run still being written may have no grid yet). ``metrics``: the folder's
    metrics.csv follower, kept between reads of a growing run (only the rows appended are parsed)."""
    folder = Path(path)
    if not folder.is_dir():
        raise RecordingError("errors.recording.missing", name=folder.name)
    metrics_file = folder / "metrics.csv"
    if not metrics_file.is_file():
        raise RecordingError("errors.recording.no_metrics", name=folder.name)
    history = (metrics or MetricsFollower(metrics_file)).read()
    frames = sorted((int(m.group(1)), p) for p in (folder / "samples").glob("step_*.png")
                    if (m := FRAME_NAME.match(p.name)) and p.is_file())
    if (not frames and not growing) or not len(history["step"]):
        raise RecordingError("errors.recording.empty", name=folder.name)
    if len(frames) > MAX_FRAMES:  # keep an even spacing that still ends on the last grid
        stride = math.ceil(len(frames) / MAX_FRAMES)
        frames = frames[::-1][::stride][::-1]
    config = _read_config(folder / "config.json")
    if _final_grid_is_current(folder, config.get("step"), frames[-1][0] if frames else -1):  # the run's last grid
        frames.append((config["step"], folder / "samples" / "final.png"))
    train = config.get("train") if isinstance(config.get("train"), dict) else {}
    dataset = config.get("dataset") if isinstance(config.get("dataset"), dict) else {}
    name = str(dataset.get("name") or train.get("dataset") or "")
    target = config.get("target_step")
    names = dataset.get("class_names")
    names = [str(n)[:40] for n in names[:1000]] if isinstance(names, list) else []
    return Recording(path=folder, train_config=dict(train), dataset=name, history=history, class_names=names,
                     frame_steps=[s for s, _ in frames], frame_paths=[p for _, p in frames],
                     target_step=target if is_whole(target) else None,
                     updated=metrics_file.stat().st_mtime)
