"""A training run kept when the app process that started it ends under it (a crash, a kill).

In the class deployment (``scripts/serve_class.py``) a browser talks to one app process; when that
process dies, HAProxy sends the browser to another one, which knows nothing of the first one's
sessions. The run itself trains in its own process (``gan_core.worker.process``), which outlives the
app: it notices its channel close and at once writes ``rescued.json`` into a new folder of the runs
folder, naming the browser that started the run, with the state "saving" (within milliseconds: before
the browser has reconnected, so the process it reaches can say so). Then it ends the step it is in,
saves a whole checkpoint there (G, D, the optimisers and metrics.csv, written atomically as every
checkpoint), and only then sets the marker to "saved"; or to "failed" with the reason (no room under
the quota). Any app process on the same runs folder finds this browser's markers (``rescued_runs``) and
offers to continue a saved run; once taken or let go, the marker goes (``forget``) and the folder is an
ordinary saved run (the quota may clean it like any other). A "saving" marker that stays so for
``SAVING_SECONDS`` belongs to a process that died while saving, and is not shown.

The browser is named by the app's opaque browser id (an HMAC, ``views/_train_heartbeat.browser_id``),
the same in every app process that shares the cookie secret; nothing here reads a cookie.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gan_core.paths import runs_root
from gan_core.settings import is_whole

log = logging.getLogger(__name__)

RESCUE_FILE = "rescued.json"
MAX_AGE_SECONDS = 24 * 3600.0  # a rescue older than a day is not offered any more (the folder stays)
SAVING_SECONDS = 300.0  # a save takes seconds (one step, one checkpoint); "saving" for longer: it died
STATES = ("saving", "saved", "failed")


@dataclass(frozen=True)
class RescuedRun:
    """A run saved by its own process when its app process ended."""

    folder: Path
    step: int  # the step its checkpoint holds (while "saving": about the step it was at)
    saved_at: float  # time.time() of the marker
    preset: str
    dataset: str
    state: str = "saved"  # one of STATES
    reason: str = ""  # why it failed: "runs_full" (no room under GAN_MAX_RUNS_MB) or "error"


def write_marker(folder: str | Path, owner: str, step: int, preset: str, dataset: str, state: str = "saved",
                 reason: str = "") -> None:
    """Say that ``folder`` holds (or is saving, or failed to save) the rescued run of browser ``owner``; atomic.
    Write "saved" only once the checkpoint in it is whole."""
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}, not {state!r}")
    folder = Path(folder)
    record = {"owner": owner, "step": int(step), "saved_at": time.time(), "preset": preset, "dataset": dataset,
              "state": state, "reason": reason}
    temporary = folder / (RESCUE_FILE + ".tmp")
    temporary.write_text(json.dumps(record), encoding="utf-8")
    os.replace(temporary, folder / RESCUE_FILE)


def rescued_runs(owner: str | None, root: str | Path | None = None, now: float | None = None) -> list[RescuedRun]:
    """Browser ``owner``'s rescued runs under the runs folder, the newest first ([] without an owner).

    A marker that cannot be read or names another browser is skipped; so is one older than a day, and
    one that says "saving" for longer than ``SAVING_SECONDS``."""
    if not owner:
        return []
    root = Path(root) if root is not None else runs_root()
    now = time.time() if now is None else now
    try:
        folders = [entry for entry in os.scandir(root) if entry.is_dir(follow_symlinks=False)
                   and not entry.name.startswith(".")]
    except OSError:
        return []
    found = []
    for entry in folders:
        try:
            record = json.loads((Path(entry.path) / RESCUE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or not isinstance(record.get("owner"), str):
            continue
        step, saved_at = record.get("step"), record.get("saved_at")
        state = record.get("state", "saved")
        if (not hmac.compare_digest(record["owner"].encode(), owner.encode()) or not is_whole(step)
                or not isinstance(saved_at, (int, float)) or not 0 <= now - saved_at <= MAX_AGE_SECONDS
                or state not in STATES or (state == "saving" and now - saved_at > SAVING_SECONDS)):
            continue
        found.append(RescuedRun(folder=Path(entry.path), step=step, saved_at=float(saved_at),
                                preset=str(record.get("preset", "")), dataset=str(record.get("dataset", "")),
                                state=state, reason=str(record.get("reason", ""))))
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


def forget(run: RescuedRun) -> None:
    """Offer ``run`` no more: its folder stays, an ordinary saved run."""
    (run.folder / RESCUE_FILE).unlink(missing_ok=True)


class RunRescue:
    """The run's own process keeping its run for the browser that started it, when the app ended under it:
    ``begin`` (a "saving" marker, at once), then ``finish`` once training has stopped (the checkpoint, then
    "saved"; or "failed" with the reason). ``run`` is the process's ``ThreadRun``; nothing happens
    without an ``owner``."""

    def __init__(self, owner: str | None, run, dataset_info: dict) -> None:
        self.owner, self.run, self.dataset_info = owner, run, dataset_info
        self.folder: Path | None = None
        self.problem = ""  # why it cannot be kept, once known: "runs_full" or "error"
        self._lock = threading.Lock()

    def _mark(self, state: str) -> None:
        write_marker(self.folder, self.owner, self.run.trainer.step_count, self.run.config.preset,
                     self.run.dataset.name, state=state, reason=self.problem)

    def begin(self) -> None:
        """Make the run's folder in the app's runs folder (its GAN_* settings) and mark it "saving"."""
        from gan_core.runs_quota import RunsFull, make_room
        from gan_core.worker.run import default_run_dir

        with self._lock:
            if self.owner is None or self.folder is not None:
                return
            self.folder = default_run_dir(self.run.config.preset, self.run.dataset.name)
            try:
                make_room(self.folder)
            except RunsFull:
                self.problem = "runs_full"
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._mark("failed" if self.problem else "saving")
            except OSError:
                log.exception("the app process ended, and the run's folder could not be made")
                self.problem = self.problem or "error"

    def finish(self) -> None:
        """Save the checkpoint (training has ended), then mark it "saved"; "failed" if it cannot be."""
        if self.owner is None:
            return
        self.begin()
        if self.problem:
            return
        try:
            self.run.save(self.folder, self.dataset_info)
            self._mark("saved")
        except Exception:  # noqa: BLE001 - nobody to tell but the marker: the log says why
            log.exception("the app process ended, and the run could not be kept for its student")
            self.problem = "error"
            try:
                self._mark("failed")
            except OSError:
                pass
