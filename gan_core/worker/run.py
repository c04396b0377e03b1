"""The background run: ``TrainingRun`` (the handle the page holds) and ``_Worker`` (its thread).

Grids kept for the timelapse: every rendered grid is shown live, and a thinned-out series is kept
for the scrub slider and GIF. When ``max_grids`` are kept (500, or fewer if they would take more
than ``max_grid_mb``), every other one is dropped and from then on only every 2nd (then 4th, ...)
new grid is kept, so the timelapse always spans the whole run at an even spacing.

Single steps while paused (Algorithm 1 on images, one line at a time): ``run.single_step("d")``,
``"g"`` or ``"iteration"`` asks the paused thread to take exactly one discriminator step, one
generator step, or one whole iteration (k D steps and a G step), and waits for it. The torch work
runs in the training thread as always; the UI thread only waits. The step counter counts generator
steps (as ``Trainer.step_count`` does): a lone D step leaves it, a G step or an iteration adds one.

A run nobody is watching ends (a run whose browser can come back for it is held by the registry,
see ``gan_core.worker.registry``):

- ``weakref.finalize``: when the ``TrainingRun`` object of a run without an owner is
  garbage-collected (Streamlit drops a closed session's state), its thread is told to stop. The thread only references the inner
  ``_Worker``, never the ``TrainingRun``, so dropping the handle really frees it.
- Heartbeat watchdog: the page calls ``run.heartbeat()`` on every refresh; without one for
  ``orphan_timeout`` seconds ($GAN_ORPHAN_TIMEOUT, default 120) the thread stops itself and frees
  its slot.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import logging
import math
import os
import queue
import re
import threading
import time
import weakref
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gan_core.data.datasets import to_float_images
from gan_core.evaluation import diagnostics
from gan_core.device import set_cpu_threads
from gan_core.i18n import LocalizedText
from gan_core.images import make_grid
from gan_core.limits import get_limits
from gan_core.paths import runs_root
from gan_core.runs_quota import make_room, mark_in_use
from gan_core.trainer import SINGLE_UPDATES, StepReport, TrainConfig, Trainer, TrainingDiverged
from gan_core.worker.pacing import Cadence, Turnstile
from gan_core.worker.registry import REGISTRY, QueueTicket, WorkerError, default_orphan_timeout
from gan_core.worker.snapshot import HISTORY_FIELDS, RunSnapshot, assemble_snapshot, read_only

log = logging.getLogger(__name__)


def default_run_dir(preset: str, dataset: str, root: str | Path | None = None) -> Path:
    """runs/<timestamp>-<preset>-<dataset> (names made safe for a folder; unique)."""
    slug = lambda s: re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(str(s)).stem)[:40] or "data"  # noqa: E731
    base = Path(root) if root is not None else runs_root()
    path = base / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug(preset)}-{slug(dataset)}"
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


@dataclass
class RunOptions:
    """How the worker behaves around training (not hyper-parameters: those are in TrainConfig)."""

    grid_seconds: float = 1.0  # render the fixed-noise grid about this often ...
    grid_every_steps: int | None = None  # ... or every this many steps (deterministic)
    max_grids: int = 500  # grids kept for the timelapse (then thinned, see the module docstring)
    max_grid_mb: float = 64.0  # ... and at most this much memory for them
    metrics_every_steps: int = 100  # classifier metrics (when a classifier exists for the dataset)
    metrics_samples: int = 512  # generated images judged each time (~0.13 s on 2 cores: ~2% of training)
    # Seconds without heartbeat() before the run stops itself ($GAN_ORPHAN_TIMEOUT, default 120).
    orphan_timeout: float | None = field(default_factory=default_orphan_timeout)
    grid_nrow: int | None = None  # images per row; None: a square grid (8x8, or 4x4 for tf-tutorial)
    # torch's CPU threads in the run's own process (None: as many as the app's); two runs side by side take
    # one each, so that they share 2 cores instead of spinning against each other. Not for a run in a thread
    # of the app (GAN_RUN_ISOLATION=thread): the count is the app's there, set once per process.
    cpu_threads: int | None = None
    # The browser that started the run (TrainingRun's ``owner``): a run in its own process saves itself into
    # the runs folder for it if the app process ends under it (gan_core.rescue). Not for a run in a thread.
    rescue_owner: str | None = None


# How PyTorch's CPU allocator, oneDNN and C++ say an allocation failed (an address-space limit reached).
OUT_OF_MEMORY_SIGNS = ("can't allocate memory", "Cannot allocate memory", "could not create a primitive", "bad_alloc")


def _failure(exc: BaseException) -> WorkerError:
    """What the page says about an exception that ended a run: running out of memory (a run in its own
    process hits ``GAN_MAX_RUN_MB``, gan_core.worker.process) in a sentence, anything else by name."""
    text = str(exc)
    if isinstance(exc, MemoryError) or any(sign in text for sign in OUT_OF_MEMORY_SIGNS):
        return WorkerError("errors.worker.out_of_memory", limit=get_limits().max_run_mb)
    return WorkerError("errors.worker.failed", kind=type(exc).__name__, detail=text)


# --- the worker thread ----------------------------------------------------------------------------

class _Worker:
    """Everything the training thread touches. It never references its ``TrainingRun``."""

    def __init__(self, trainer: Trainer, dataset, steps: int, options: RunOptions) -> None:
        self.trainer = trainer
        self.dataset = dataset
        self.options = options
        self.start_step = trainer.step_count
        self.target_step = trainer.step_count + steps
        self.turnstile = Turnstile()
        self.state_lock = threading.Lock()
        self.stop_requested = threading.Event()
        self.running = threading.Event()  # cleared = paused
        self.running.set()
        self.parked = threading.Event()  # set while the thread waits in pause
        self.last_heartbeat = time.monotonic()
        self.status = "idle"
        self.reason: BaseException | None = None  # why it stopped (divergence, error, orphaned)
        self.wake = threading.Event()  # set to wake a paused thread (resume, stop, a single step)
        self.single_steps: queue.Queue = queue.Queue()  # (kind, threading.Event set when done)
        self.phase: tuple[str, int] = ("", 0)
        self.history = {name: array("d") for name in HISTORY_FIELDS}
        self.grids: list[tuple[int, np.ndarray]] = []
        self.grid_stride = 1  # keep every n-th rendered grid in the timelapse
        self.grids_rendered = 0
        self.latest_grid: tuple[int, np.ndarray] | None = None
        self.diversity: float | None = None
        self.warnings: list[diagnostics.TrainingAdvice] = []
        self.metrics: dict | None = None
        self.metrics_history: list[dict] = []
        self.active_seconds = 0.0
        self.images_per_sec = 0.0
        self.steps_per_sec = 0.0
        self.grid_cadence = Cadence(options.grid_every_steps, options.grid_seconds)
        self.metrics_cadence = Cadence(options.metrics_every_steps, last_step=trainer.step_count)
        self._rate_mark: tuple[float, int, int] | None = None  # (time, step, images_seen)
        self.rollbacks = 0  # how often the record was cut back to a good step (divergence)

        c = trainer.config
        pick = torch.randperm(len(dataset.images), generator=torch.Generator().manual_seed(c.seed))[:c.n_fixed]
        self.real_images = to_float_images(dataset.images[pick])
        self.real_grid = read_only(make_grid(self.real_images, nrow=options.grid_nrow))
        self.metrics_noise = trainer.sample_noise(options.metrics_samples,
                                                  torch.Generator().manual_seed(c.seed + 2))
        trainer.on_phase = self._on_phase

    def _on_phase(self, kind: str, index: int) -> None:
        """Which line of Algorithm 1 runs (for the page's "what is happening" panel)."""
        self.phase = (kind, index)

    # --- the loop ---------------------------------------------------------------------------------

    def run(self, release_slot, warmed_up=None) -> None:
        status, reason = "stopped", None
        try:
            self._render_grid(time.monotonic())  # the untrained G, visible at once
            if warmed_up is not None:
                warmed_up()  # the threads torch computes with exist now (a run's process limits memory here)
            last = time.monotonic()
            self._update_rates(last)
            while True:
                if not self.running.is_set():
                    self._wait_while_paused()
                    last = time.monotonic()
                if self.stop_requested.is_set():
                    break
                if self._orphaned():
                    reason = WorkerError("errors.worker.orphaned", seconds=round(self.options.orphan_timeout))
                    break
                if self.trainer.step_count >= self.target_step:
                    status = "finished"
                    break
                with self.turnstile.step():
                    report = self.trainer.step()
                self._record(report)
                now = time.monotonic()
                self.active_seconds += now - last
                last = now
                self._occasional_jobs(report.step, now)
        except TrainingDiverged as exc:
            status, reason = "diverged", exc
            self._forget_after(exc.step)  # the trainer went back to its last good step: so do the charts
        except Exception as exc:  # noqa: BLE001 - report any failure on the page, keep the server up
            log.exception("training run failed")
            status, reason = "error", _failure(exc)
        finally:
            self.phase = ("", 0)
            try:
                self._render_grid(time.monotonic(), final=True)  # the final (or last good) weights
            except Exception:  # noqa: BLE001
                log.exception("could not render the final grid")
            self._end(status, reason)  # after the final grid: an ended status means all is published
            release_slot()

    def _wait_while_paused(self) -> None:
        with self.state_lock:
            if self.status == "running":
                self.status = "paused"
        self.parked.set()
        try:
            while not self.running.is_set():
                self.wake.clear()  # before looking: a request or resume after this sets it again
                if self.stop_requested.is_set() or self._orphaned():
                    return
                try:
                    kind, done = self.single_steps.get_nowait()
                except queue.Empty:
                    # Wake up now and then to notice an abandoned session (no busy loop: Event.wait).
                    self.wake.wait(timeout=0.5)
                    continue
                try:
                    self._single_step(kind)
                finally:
                    done.set()
        finally:
            self.parked.clear()
        with self.state_lock:
            if self.status == "paused":
                self.status = "running"

    def _single_step(self, kind: str) -> None:
        """One D step, one G step or one iteration, asked for while paused (``Trainer.single_update``)."""
        with self.turnstile.step():
            numbers = self.trainer.single_update(kind)
        with self.state_lock:  # a lone update leaves the other network's numbers as they were
            for name, column in self.history.items():
                column.append(numbers.get(name, column[-1] if len(column) else math.nan))
        self._render_grid(time.monotonic())
        self._update_warnings(self.trainer.step_count)

    def _orphaned(self) -> bool:
        timeout = self.options.orphan_timeout
        return timeout is not None and time.monotonic() - self.last_heartbeat > timeout

    def _end(self, status: str, reason: BaseException | None = None) -> None:
        with self.state_lock:
            self.status, self.reason = status, reason

    def _record(self, r: StepReport) -> None:
        with self.state_lock:
            for name in HISTORY_FIELDS:
                self.history[name].append(getattr(r, name))

    def _forget_after(self, step: int) -> None:
        """Drop the recorded metrics, grids and quality points of steps after ``step``."""
        with self.state_lock:
            self.rollbacks += 1  # a run in its own process sends its whole record again (gan_core.worker.channel)
            steps = self.history["step"]
            keep = next((i for i, s in enumerate(steps) if s > step), len(steps))
            for name in HISTORY_FIELDS:
                del self.history[name][keep:]
            self.grids = [g for g in self.grids if g[0] <= step]
            self.metrics_history = [m for m in self.metrics_history if m.get("step", 0) <= step]

    # --- occasional jobs between steps ------------------------------------------------------------

    def _occasional_jobs(self, step: int, now: float) -> None:
        if self.grid_cadence.due(step, now):
            self._render_grid(now)
            self._update_rates(now)
            self._update_warnings(step)
        if self.metrics_cadence.due(step, now):
            started = time.monotonic()
            self._compute_metrics(step)
            self.metrics_cadence.done(step, started, time.monotonic())

    def _render_grid(self, started: float, final: bool = False) -> None:
        samples = self.trainer.generate()
        grid = read_only(make_grid(samples, nrow=self.options.grid_nrow))
        measurable = min(len(samples), len(self.real_images)) >= 2  # variety needs two images of each
        diversity = diagnostics.diversity_ratio(samples, self.real_images) if measurable else None
        step = self.trainer.step_count
        with self.state_lock:
            self.latest_grid = (step, grid)
            self.diversity = diversity
            keep = final or self.grids_rendered % self.grid_stride == 0
            if keep and not (self.grids and self.grids[-1][0] == step):
                self.grids.append((step, grid))
                if len(self.grids) > self._grid_capacity(grid):
                    self.grids = self.grids[::2]
                    self.grid_stride *= 2
            self.grids_rendered += 1
        self.grid_cadence.done(step, started, time.monotonic())

    def _grid_capacity(self, grid: np.ndarray) -> int:
        by_memory = int(self.options.max_grid_mb * 1e6 // max(grid.nbytes, 1))
        return max(8, min(self.options.max_grids, by_memory))

    def _update_rates(self, now: float) -> None:
        mark = (now, self.trainer.step_count, self.trainer.images_seen)
        if self._rate_mark is not None and now > self._rate_mark[0]:
            dt = now - self._rate_mark[0]
            steps_rate = (mark[1] - self._rate_mark[1]) / dt
            images_rate = (mark[2] - self._rate_mark[2]) / dt
            first = self.steps_per_sec == 0.0
            blend = lambda old, new: new if first else 0.7 * old + 0.3 * new  # noqa: E731 - smooth the readout
            self.steps_per_sec = blend(self.steps_per_sec, steps_rate)
            self.images_per_sec = blend(self.images_per_sec, images_rate)
        self._rate_mark = mark

    def _update_warnings(self, step: int) -> None:
        window = diagnostics.D_WINNING_WINDOW
        with self.state_lock:
            d_real = self.history["d_real"][-window:].tolist()
            d_fake = self.history["d_fake"][-window:].tolist()
        warnings = diagnostics.training_warnings(d_real, d_fake, self.diversity, step)
        with self.state_lock:
            self.warnings = warnings

    def _compute_metrics(self, step: int) -> None:
        from gan_core.evaluation import metrics  # here: torchmetrics is slow to import, and only runs need it

        if not metrics.has_classifier(self.dataset.name):
            self.metrics_cadence.every_steps = 10**12  # nothing to compute for this dataset
            return
        try:
            result = metrics.quick_metrics(self.trainer.generate(self.metrics_noise), self.dataset.name)
        except Exception:  # noqa: BLE001 - metrics are a bonus; never stop training for them
            log.exception("live metrics failed; turning them off for this run")
            self.metrics_cadence.every_steps = 10**12
            return
        if result is None:
            return
        row = {"step": step, **{k: v for k, v in result.items() if isinstance(v, (int, float))}}
        with self.state_lock:
            self.metrics = result
            self.metrics_history.append(row)

    # --- reading the state (any thread) -----------------------------------------------------------

    def snapshot(self) -> RunSnapshot:
        with self.state_lock:
            return assemble_snapshot(
                history={name: np.frombuffer(col, dtype=np.float64).copy() for name, col in self.history.items()},
                status=self.status, reason=self.reason, trainer_step=self.trainer.step_count,
                start_step=self.start_step, target_step=self.target_step, steps_per_sec=self.steps_per_sec,
                phase=self.phase, elapsed=self.active_seconds, images_per_sec=self.images_per_sec,
                latest_grid=self.latest_grid, grids=list(self.grids), real_grid=self.real_grid,
                diversity=self.diversity, warnings=list(self.warnings), metrics=self.metrics,
                metrics_history=list(self.metrics_history), config=self.trainer.config.to_dict(),
                dataset=self.dataset.name, device=str(self.trainer.device))

    def request_stop(self) -> None:
        """Ask the thread to end after its current step (safe from any thread, even a finalizer)."""
        self.stop_requested.set()
        self.running.set()  # wake a paused thread so it can end
        self.wake.set()


# --- a run in a thread of this process -----------------------------------------------------------

class ThreadRun:
    """A run's engine in a thread of this process: what a run's own process runs
    (``gan_core.worker.process``), and what the app runs itself with ``GAN_RUN_ISOLATION=thread``.

    ``resume`` is a ``Trainer.load_state`` dict; ``steps`` counts the steps to train from there.
    """

    def __init__(self, config: TrainConfig, dataset, steps: int, options: RunOptions, resume: dict | None = None,
                 device: torch.device | str | None = None) -> None:
        trainer = Trainer(config, dataset, device=device)
        # What resuming changed in the optimisers ({"lr_g": (saved, now), ...}): the page says so.
        self.resume_changes = trainer.load_state(resume) if resume is not None else {}
        self.config = trainer.config
        self.dataset = dataset
        self.worker = _Worker(trainer, dataset, steps, options)
        self._thread: threading.Thread | None = None

    @property
    def trainer(self) -> Trainer:
        return self.worker.trainer

    def start(self, release_slot, warmed_up=None) -> None:
        """Train in a new daemon thread; ``release_slot()`` is called once when it ends, ``warmed_up()``
        once the first grid is drawn (the thread pools torch computes with exist then)."""
        w = self.worker
        set_cpu_threads()  # once per process: honours $GAN_CPU_THREADS, as the command line does
        w.last_heartbeat = time.monotonic()
        w.status = "running"
        self._thread = threading.Thread(target=w.run, args=(release_slot, warmed_up), name=f"gan-training-{id(self)}",
                                        daemon=True)
        try:
            self._thread.start()
        except BaseException:
            w.status = "error"
            raise

    def pause(self, timeout: float) -> bool:
        if self._thread is not None and not self._thread.is_alive():
            return True  # ended (before start, the pause is kept: the loop parks at once)
        self.heartbeat()  # someone pressed Pause: someone is looking
        self.worker.running.clear()
        with self.worker.state_lock:
            if self.worker.status == "running":
                self.worker.status = "paused"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.worker.parked.wait(0.05) or not self.is_alive():
                return True
        return False

    def resume(self) -> None:
        self.heartbeat()
        self.worker.running.set()
        self.worker.wake.set()

    def single_step(self, kind: str, timeout: float) -> bool:
        w = self.worker
        if not self.is_alive() or self.snapshot().status != "paused":
            return False
        self.heartbeat()
        done = threading.Event()
        w.single_steps.put((kind, done))
        w.wake.set()
        return done.wait(timeout)

    def stop(self, timeout: float) -> bool:
        self.request_stop()
        if self._thread is None:
            with self.worker.state_lock:
                if self.worker.status == "idle":
                    self.worker.status = "stopped"
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def request_stop(self) -> None:
        """End after the current step, without waiting (safe from any thread, even a finalizer)."""
        self.worker.request_stop()

    discard = request_stop  # the handle is gone: nothing else to free than the thread

    def close(self, timeout: float) -> bool:
        return self.stop(timeout)

    def heartbeat(self) -> None:
        self.worker.last_heartbeat = time.monotonic()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def remaining(self) -> tuple[float, float] | None:
        w = self.worker
        rate = w.steps_per_sec
        if w.status != "running" or not rate > 0:
            return None
        return max(0.0, (w.target_step - w.trainer.step_count) / rate), rate

    def snapshot(self) -> RunSnapshot:
        return self.worker.snapshot()

    def between_steps(self):
        """Context manager holding training still between two steps."""
        return self.worker.turnstile.between_steps()

    def generator_copy(self) -> tuple[torch.nn.Module, int]:
        """(a CPU copy of the sampling generator, G_ema or G, in eval mode; its step)."""
        with self.between_steps():
            return copy.deepcopy(self.trainer.sampling_generator).cpu().eval(), self.trainer.step_count

    def save(self, directory: Path, dataset_info: dict) -> Path:
        """A checkpoint and metrics.csv in ``directory``, between two steps."""
        from gan_core.checkpoint import save_checkpoint

        with self.between_steps():
            path = save_checkpoint(directory, self.trainer, dataset=dataset_info)
            step = self.trainer.step_count
        (path / "metrics.csv").write_text(metrics_csv(self.snapshot().history, up_to_step=step))
        return path


def metrics_csv(history: dict[str, np.ndarray], up_to_step: int | None = None) -> str:
    """A run's per-step history as CSV text (one row per step, HISTORY_FIELDS as columns)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HISTORY_FIELDS)
    for i in range(len(history["step"])):
        if up_to_step is not None and history["step"][i] > up_to_step:
            break
        writer.writerow([int(history["step"][i]), *(f"{history[n][i]:.6g}" for n in HISTORY_FIELDS[1:])])
    return out.getvalue()


def run_isolation() -> str:
    """Where the app trains: "process" (each run in its own child process, the default) or "thread"
    (in the app's own process, as before; for a debugger or profiler), from $GAN_RUN_ISOLATION."""
    value = os.environ.get("GAN_RUN_ISOLATION", "").strip().lower() or "process"
    if value not in ("process", "thread"):
        raise ValueError(f"environment variable GAN_RUN_ISOLATION={value!r} must be 'process' or 'thread'")
    return value


# --- the public handle ----------------------------------------------------------------------------

class TrainingRun:
    """One training run, controlled and read from the UI thread.

    It trains in its own child process (``gan_core.worker.process``: a memory limit, a lower CPU priority,
    Stop ends it at once, its memory goes back to the system when it ends), or with
    ``GAN_RUN_ISOLATION=thread`` in a thread of this process (``ThreadRun``). The page sees no
    difference. ``resume`` is a ``Trainer.load_state`` dict (e.g. ``load_checkpoint(...).trainer_state()``);
    ``steps`` counts the steps to train from there.
    """

    def __init__(self, config: TrainConfig, dataset, steps: int, options: RunOptions | None = None,
                 resume: dict | None = None, device: torch.device | str | None = None,
                 owner: str | None = None) -> None:
        from gan_core.worker.process import ChildRun

        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"the number of steps must be a positive whole number, not {steps!r}")
        options = dataclasses.replace(options or RunOptions(), rescue_owner=owner)
        engine = ThreadRun if run_isolation() == "thread" else ChildRun
        self._engine = engine(config, dataset, steps, options, resume=resume, device=device)
        self.dataset = dataset
        self.owner = owner  # an opaque id of the browser that started it (see RunRegistry.owned_by)
        self._steps = steps
        self._started = False
        self._saved: list[Path] = []  # the checkpoints it saved: in use while it runs (gan_core.runs_quota)
        # When the session holding this handle goes away, the handle is collected: stop the run.
        self._finalizer = weakref.finalize(self, self._engine.discard)

    @property
    def config(self) -> TrainConfig:
        """The run's settings, every default filled in."""
        return self._engine.config

    @property
    def resume_changes(self) -> dict[str, tuple]:
        """What resuming changed in the optimisers ({"lr_g": (saved, now), ...}); known once started."""
        return self._engine.resume_changes

    @property
    def cpu_threads(self) -> int | None:
        """The torch CPU threads the run's process computes with (known once started; None in a thread)."""
        return getattr(self._engine, "cpu_threads", None)

    @property
    def process_id(self) -> int | None:
        """The run's own process id, while it has one (None in a thread of this process)."""
        return getattr(self._engine, "pid", None)

    @property
    def trainer(self) -> Trainer:
        """The trainer of a run in this process (``GAN_RUN_ISOLATION=thread``); use ``between_steps()``
        before touching it while the run is active. A run in its own process has none here."""
        if not isinstance(self._engine, ThreadRun):
            raise AttributeError("this run trains in its own process: read it with snapshot(), "
                                 "snapshot_generator() or save_checkpoint()")
        return self._engine.trainer

    def between_steps(self):
        """Context manager holding training still between two steps (a run in this process only)."""
        return self._engine.between_steps()

    # --- control --------------------------------------------------------------------------------

    @property
    def label(self) -> LocalizedText:
        """What runs, in a few words (e.g. 'small on mnist5k'), in each viewer's language."""
        return LocalizedText("train.queue.run_label", preset=self.config.preset, dataset=self.dataset.name)

    @property
    def steps_to_train(self) -> int:
        """The steps this run trains for (from its start or resumed step to its target)."""
        return self._steps

    def start(self, ticket: QueueTicket | None = None, slot: int | None = None) -> None:
        """Take a server slot (or raise ``RunLimitReached``) and start training in the background.

        ``ticket``: this run's place in the server's queue (``REGISTRY.enqueue``), when others wait too.
        ``slot``: a slot id to share with another run (a live comparison's two runs take one slot).
        A run in its own process is built here: settings that cannot work raise as they would in ``Trainer``."""
        if self._started:
            raise RuntimeError("this run has already been started; make a new TrainingRun to train again")
        slot_id = id(self) if slot is None else slot
        REGISTRY.acquire(slot_id, self.label, handle=self, ticket=ticket)
        once = threading.Lock()

        def release() -> None:  # once per run (a shared slot counts its runs), whoever calls first
            if once.acquire(blocking=False):
                REGISTRY.release(slot_id)

        try:
            self._engine.start(release)
        except BaseException:
            release()
            raise
        self._started = True

    def pause(self, timeout: float = 10.0) -> bool:
        """Pause after the current step; returns True once the run is waiting (or has ended)."""
        return not self._started or self._engine.pause(timeout)

    def resume(self) -> None:
        """Continue a paused run."""
        self._engine.resume()

    def single_step(self, kind: str, timeout: float = 120.0) -> bool:
        """While paused: one D step (``"d"``), one G step (``"g"``) or one ``"iteration"``; waits for it.

        The run does the work (this thread only waits). Returns False if the run is not paused or the
        step did not finish within ``timeout`` seconds.
        """
        if kind not in SINGLE_UPDATES:
            raise ValueError(f"unknown single step {kind!r}; choose one of {', '.join(SINGLE_UPDATES)}")
        return self._engine.single_step(kind, timeout)

    def stop(self, timeout: float = 10.0) -> bool:
        """End the run; returns True if it has ended. A run in its own process ends within about two
        seconds whatever its step costs; one in this process after its current step."""
        if not self._started:
            self._engine.request_stop()
        return self._engine.stop(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Stop, and end the run's process now (its memory goes back to the system): after this it can no
        longer be saved or sampled. Reset, a new Start and Leave do this; a dropped handle does it too."""
        if not self._started:
            self._engine.request_stop()
        return self._engine.close(timeout)

    def heartbeat(self) -> None:
        """Tell the watchdog someone is still watching (the page calls this on every refresh); the
        checkpoints this run saved stay in use for the runs folder's quota."""
        self._engine.heartbeat()
        for folder in self._saved:
            mark_in_use(folder)

    def is_alive(self) -> bool:
        """True while the run trains or is paused (its thread or process exists)."""
        return self._engine.is_alive()

    # --- reading ----------------------------------------------------------------------------------

    def remaining(self) -> tuple[float, float] | None:
        """(seconds left, steps per second) while running at a measured speed; None otherwise (paused,
        ended, not measured yet). Cheap: for the queue's wait estimate, asked every second."""
        return self._engine.remaining()

    def snapshot(self) -> RunSnapshot:
        """A plain-data copy of the state (takes a short lock; never waits for a training step)."""
        return self._engine.snapshot()

    def snapshot_generator(self) -> tuple[torch.nn.Module, object, dict]:
        """(copy of the sampling generator, G_ema or G, on the CPU in eval mode, ModelConfig, info);
        safe while training runs."""
        g, step = self._engine.generator_copy()
        info = {"step": step, "dataset": self.dataset.name, "prior": self.config.prior,
                "class_names": list(getattr(self.dataset, "class_names", []) or []), "preset": self.config.preset}
        return g, self.config.model_config(), info

    def metrics_csv(self, up_to_step: int | None = None) -> str:
        """The per-step history as CSV text (one row per step, HISTORY_FIELDS as columns)."""
        return metrics_csv(self.snapshot().history, up_to_step)

    def save_checkpoint(self, directory: str | Path | None = None) -> Path:
        """Save G, D, optimisers and metrics.csv (default: ``default_run_dir``); safe while training.

        In the runs folder with a quota, abandoned runs are cleaned first; ``RunsFull`` when there is
        still no room (``gan_core.runs_quota``)."""
        directory = Path(directory) if directory is not None else default_run_dir(self.config.preset, self.dataset.name)
        make_room(directory)
        dataset_info = {"name": self.dataset.name, "class_names": list(getattr(self.dataset, "class_names", []) or []),
                        "size": len(self.dataset.images)}
        path = self._engine.save(directory, dataset_info)
        self._saved.append(path)
        return path
