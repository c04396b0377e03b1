"""A training run in its own process: ``ChildRun``, the app's end (the run's end is ``gan_core.worker.child``).

Why a process, not a thread of the app (issue 30): a class shares one server. In a thread, a run that
blows up its memory or crashes takes every student of that app process down with it, the memory a
finished run used stays with the app, a run competes with the sliders at the same CPU priority, and
Stop waits for the current step (a 4,096-image batch at 64 px takes minutes). In a child process:

- everything the run brings (its copy of the data, the trainer, its steps) may take ``GAN_MAX_RUN_MB``
  over the empty process it starts as: enforced by ``RLIMIT_AS`` on the CPU (an allocation past it
  fails, and the run ends with a sentence) and by the app, which reads the child's resident memory
  about five times a second and kills it past the limit (also for a GPU run, whose driver reserves more
  address space than any limit, so no ``RLIMIT_AS`` there);
- it trains ``GAN_RUN_NICE`` (default 10) steps of niceness below the app, so pages stay quick;
- Stop asks the run to end after its step and, if that takes more than ``STOP_GRACE`` seconds, kills
  it: a student's Stop, Leave or closed tab frees the CPU and the slot within seconds;
- when it ends, its memory goes back to the system, and a crash ends only that run: the app reads the
  exit code and the page says what happened.

The child is the engine's own ``ThreadRun`` (``gan_core.worker.run``: the ``Trainer`` and the same
loop the command line's Algorithm 1 runs), driven through the channel of ``gan_core.worker.channel``.
On Linux children are forked from a "forkserver" that has imported torch once (a run starts in a
fraction of a second, and no CUDA state of the app is inherited); elsewhere they are spawned.
"""

from __future__ import annotations

import ctypes
import io
import itertools
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

import torch

from gan_core.limits import get_limits
from gan_core.worker.channel import Mirror
from gan_core.worker.child import ChildSpec, child_main, status_mb
from gan_core.worker.registry import WorkerError
from gan_core.worker.snapshot import RunSnapshot

log = logging.getLogger(__name__)

STOP_GRACE = 2.0  # seconds a stopped run may take to finish its step before it is killed
START_TIMEOUT = 120.0  # building the trainer (first use also starts the forkserver: a few seconds)
DEFAULT_NICE = 10


def run_niceness() -> int:
    """$GAN_RUN_NICE or 10: how much lower than the app's the CPU priority of a training run is."""
    raw = os.environ.get("GAN_RUN_NICE", "").strip()
    try:
        value = int(raw) if raw else DEFAULT_NICE
    except ValueError:
        raise ValueError(f"environment variable GAN_RUN_NICE={raw!r} is not a whole number") from None
    if not 0 <= value <= 19:
        raise ValueError(f"environment variable GAN_RUN_NICE={raw!r} must be between 0 and 19")
    return value


_context_lock = threading.Lock()


def _context():
    import multiprocessing

    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["gan_core.worker.child", "gan_core.worker.run", "gan_core.evaluation.metrics"])
        return ctx
    return multiprocessing.get_context("spawn")  # macOS and Windows: forking after torch is not safe there


class _PlainMain:
    """While a child starts, ``__main__`` is an empty module: multiprocessing would otherwise import the
    parent's main script in the child, which under Streamlit is the app's page script."""

    def __enter__(self):
        self.saved = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")

    def __exit__(self, *exc):
        sys.modules["__main__"] = self.saved


# --- the app's end --------------------------------------------------------------------------------

class ChildRun:
    """A run trained by a child process; the same methods as ``ThreadRun``, over the channel.

    The process ends with its training (its memory goes back to the system at once). Before it does, it
    writes its last state to a private folder, from which a finished or stopped run is still saved or
    sampled; the folder goes with the handle (``discard``: Reset, a new Start, a closed session). A run
    killed in the middle of a step (Stop of a step that takes too long, the memory limit, a crash) has
    no last state: what it saved before stays.
    """

    def __init__(self, config, dataset, steps: int, options, resume: dict | None = None, device=None) -> None:
        self.config = config.resolved()  # checks the settings now; the child's built config replaces it
        self.dataset = dataset
        self.resume_changes: dict = {}
        self._spec = (config, dataset, steps, options, resume, device)
        self.orphan_timeout = options.orphan_timeout
        self.last_heartbeat = time.monotonic()
        self.pid: int | None = None
        self.cpu_threads: int | None = None  # torch's thread count in the run's process, once started
        self._process = None
        self._conn = None
        self._mirror: Mirror | None = None
        self._send_lock = threading.Lock()
        self._replies: dict[int, tuple] = {}
        self._ids = itertools.count(1)
        self._ended = threading.Event()  # training is over (the process may still answer requests)
        self._gone = threading.Event()  # the process has ended
        self._stop_requested = False
        self._final_dir: Path | None = None  # the last state the process wrote when its training ended
        self._final_saved = False
        self._limit_mb: float | None = None
        self._kill_at: float | None = None
        self._ending: tuple[str, BaseException | None] | None = None  # why the app ended it, if it did
        self._receiver: threading.Thread | None = None
        self._baseline_mb = 0.0

    # --- starting --------------------------------------------------------------------------------

    def start(self, release_slot) -> None:
        config, dataset, steps, options, resume, device = self._spec
        from gan_core.device import set_cpu_threads

        self._final_dir = Path(tempfile.mkdtemp(prefix="gan-run-"))
        spec = ChildSpec(config=config, dataset=dataset, steps=steps, final_dir=str(self._final_dir / "checkpoint"),
                         rescue_owner=options.rescue_owner,
                         options=_without_orphan_timeout(options), resume=resume,
                         device=None if device is None else str(device),
                         env={k: v for k, v in os.environ.items() if k.startswith("GAN_")},
                         cpu_threads=options.cpu_threads or set_cpu_threads(), nice=run_niceness())
        payload = io.BytesIO()
        torch.save(spec, payload)
        ctx = _context()
        parent_end, child_end = ctx.Pipe()
        process = ctx.Process(target=child_main, args=(child_end,), daemon=True, name="gan-training-run")
        with _context_lock, _PlainMain():
            process.start()
        child_end.close()
        self._process, self._conn, self.pid = process, parent_end, process.pid
        try:
            # Over the pipe, not as an argument: the child frees it once read (arguments stay referenced).
            parent_end.send_bytes(payload.getbuffer())
            del payload
            message = self._first_message()
        except BaseException:
            self._kill()
            raise
        if message[0] == "failed":
            process.join(5)
            self._gone.set()
            raise message[1]
        self._spec = None  # the child has its own copy; the app keeps nothing of the resume state
        info = message[1]
        self.config, self.resume_changes = info["config"], info["resume_changes"]
        self._baseline_mb = info["baseline_mb"]
        self.cpu_threads = info["cpu_threads"]
        self._mirror = Mirror(info)
        self._limit_mb = float(get_limits().max_run_mb)
        self.last_heartbeat = time.monotonic()
        self._send(("start", self._limit_mb))
        self._receiver = threading.Thread(target=self._receive, args=(release_slot,), name="gan-run-channel",
                                          daemon=True)
        self._receiver.start()

    def _first_message(self) -> tuple:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._conn.poll(0.2):
                return self._conn.recv()
            if not self._process.is_alive():
                raise WorkerError("errors.worker.crashed", code=self._process.exitcode)
        raise WorkerError("errors.worker.crashed", code="timeout")

    # --- the channel thread ----------------------------------------------------------------------

    def _receive(self, release_slot) -> None:
        """Apply the child's messages; watch its memory and whether anyone still looks; end cleanly."""
        try:
            while True:
                if self._conn.poll(0.2):
                    try:
                        message = self._conn.recv()
                    except (EOFError, OSError):
                        break
                    kind = message[0]
                    if kind == "changes":
                        self._mirror.apply(message[1])
                    elif kind == "done":
                        with self._mirror.changed:
                            self._replies[message[1]] = message[2:]
                            self._mirror.changed.notify_all()
                    elif kind == "ended":
                        self._final_saved = message[1]
                        self._finish(release_slot, None)
                elif not self._process.is_alive():
                    break
                found = self._watch()
                self._ending = self._ending or found
        finally:
            self._process.join(STOP_GRACE + 1)
            if self._process.is_alive():
                self._kill()
                self._process.join(5)
            ending = None
            if self._ending is None and not self._ended.is_set():
                code = self._process.exitcode
                ending = (("stopped", None) if self._stop_requested
                          else ("error", WorkerError("errors.worker.crashed", code=code)))
            self._conn.close()
            self._gone.set()
            self._finish(release_slot, ending)
            give_back_memory()

    def _finish(self, release_slot, ending: tuple[str, BaseException | None] | None) -> None:
        """Training is over (once): the final status, the server slot back."""
        if self._ended.is_set():
            return
        ending = self._ending or ending  # what the app saw first (memory, orphaned) is why it ended
        if ending is not None:
            self._mirror.end(*ending)
        self._ended.set()
        with self._mirror.changed:
            self._mirror.changed.notify_all()
        release_slot()

    def _watch(self) -> tuple[str, BaseException] | None:
        """Between messages: a run over its memory limit is killed; one asked to stop ``STOP_GRACE`` s ago
        is killed; one nobody looks at is stopped, and its process closed once training is over."""
        now = time.monotonic()
        if self._kill_at is not None and now > self._kill_at:
            self._kill()
        rss = status_mb("VmRSS", self.pid)
        if rss is not None and self._limit_mb is not None and rss - self._baseline_mb > self._limit_mb:
            self._kill()
            return "error", WorkerError("errors.worker.out_of_memory", limit=round(self._limit_mb))
        if self.orphan_timeout is not None and now - self.last_heartbeat > self.orphan_timeout:
            if not self._ended.is_set() and not self._stop_requested:
                self.request_stop()
                return "stopped", WorkerError("errors.worker.orphaned", seconds=round(self.orphan_timeout))
        return None

    # --- control ---------------------------------------------------------------------------------

    def _send(self, message: tuple) -> bool:
        try:
            with self._send_lock:
                self._conn.send(message)
            return True
        except (OSError, ValueError):
            return False  # the child has ended

    def _ask(self, message: tuple, timeout: float):
        """Send a request and wait for its answer: (result, exception), or None if the process is gone."""
        request_id = next(self._ids)
        if self._mirror is None or self._gone.is_set() or not self._send((message[0], request_id, *message[1:])):
            return None
        deadline = time.monotonic() + timeout
        with self._mirror.changed:
            while request_id not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self._gone.is_set():
                    return None
                self._mirror.changed.wait(min(left, 0.5))
            return self._replies.pop(request_id)

    def pause(self, timeout: float) -> bool:
        if not self.is_alive():
            return True
        self.heartbeat()  # someone pressed Pause: someone is looking
        self._send(("pause",))
        deadline = time.monotonic() + timeout
        with self._mirror.changed:
            while not (self._mirror.parked or self._ended.is_set()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._mirror.changed.wait(min(left, 0.2))
                self.heartbeat()  # waiting here is looking
        return True

    def resume(self, timeout: float = 2.0) -> None:
        """Continue; returns once the run says it is running again (the page's next draw shows it)."""
        self.heartbeat()
        self._send(("resume",))
        deadline = time.monotonic() + timeout
        with self._mirror.changed:
            while self._mirror.status == "paused" and not self._ended.is_set() and time.monotonic() < deadline:
                self._mirror.changed.wait(0.1)

    def single_step(self, kind: str, timeout: float) -> bool:
        if not self.is_alive() or self.snapshot().status != "paused":
            return False
        self.heartbeat()
        answer = self._ask(("single", kind), timeout)
        return answer is not None and answer[0] is True

    def stop(self, timeout: float) -> bool:
        """End training: after its step, or killed if that takes longer than ``STOP_GRACE`` s."""
        self.request_stop()
        if self._process is None:
            return True
        self._ended.wait(min(timeout, STOP_GRACE + 2))
        if not self._ended.is_set():
            self._kill()
            self._ended.wait(max(0.0, timeout - STOP_GRACE))
        return self._ended.is_set()

    def request_stop(self) -> None:
        """Ask training to end, and kill the process if it has not within ``STOP_GRACE`` s."""
        self._stop_requested = True
        if self._process is None or self._ended.is_set():
            return
        if self._kill_at is None:
            self._kill_at = time.monotonic() + STOP_GRACE  # the channel thread kills it then (_watch)
        self._send(("stop",))

    def discard(self) -> None:
        """The handle is gone (safe from a finalizer): end training, and forget the last state."""
        self.request_stop()
        if self._final_dir is None:
            return
        if self._gone.is_set():
            shutil.rmtree(self._final_dir, ignore_errors=True)
        else:  # the process may still be writing it
            threading.Thread(target=self._forget_final, daemon=True, name="gan-run-cleanup").start()

    def _forget_final(self) -> None:
        self._gone.wait(STOP_GRACE + 10)
        shutil.rmtree(self._final_dir, ignore_errors=True)

    def close(self, timeout: float = 10.0) -> bool:
        """Stop, end the process and forget the last state now; True once the process has ended."""
        self.request_stop()
        if self._process is None:
            return True
        self._gone.wait(timeout)
        if self._receiver is not None:
            self._receiver.join(timeout)
        shutil.rmtree(self._final_dir, ignore_errors=True)
        return self._gone.is_set()

    def _kill(self) -> None:
        if self._process is not None:
            _kill(self._process)

    def heartbeat(self) -> None:
        self.last_heartbeat = time.monotonic()

    def is_alive(self) -> bool:
        """Training (or paused): the process may live on after it, for saving."""
        return self._mirror is not None and not self._ended.is_set()

    # --- reading ---------------------------------------------------------------------------------

    def remaining(self) -> tuple[float, float] | None:
        return self._mirror.remaining() if self._mirror is not None else None

    def snapshot(self) -> RunSnapshot:
        if self._mirror is None:  # not started (waiting in the queue) or stopped before it started
            return self._unstarted_snapshot()
        return self._mirror.snapshot()

    def _unstarted_snapshot(self) -> RunSnapshot:
        import numpy as np

        from gan_core.worker.snapshot import HISTORY_FIELDS, assemble_snapshot

        _, _, steps, _, resume, _ = self._spec or (None, None, 0, None, None, None)
        start = int((resume or {}).get("step", 0))
        return assemble_snapshot(
            history={name: np.zeros(0) for name in HISTORY_FIELDS}, status="stopped" if self._stop_requested else "idle",
            reason=None, trainer_step=start, start_step=start, target_step=start + steps, steps_per_sec=0.0,
            phase=("", 0), elapsed=0.0, images_per_sec=0.0, latest_grid=None, grids=[],
            real_grid=np.zeros((1, 1), dtype=np.uint8), diversity=None, warnings=[], metrics=None, metrics_history=[],
            config=self.config.to_dict(), dataset=self.dataset.name, device="")

    def between_steps(self):
        raise AttributeError("this run trains in its own process: it cannot be held between steps from here")

    def generator_copy(self) -> tuple[torch.nn.Module, int]:
        if not self._ended.is_set():
            answer = self._ask(("generator",), timeout=120)
            if answer is not None:
                return torch.load(io.BytesIO(_result(answer)), weights_only=False)  # our own child's bytes
        checkpoint = self._last_state()
        return checkpoint.generator, checkpoint.step

    def save(self, directory: Path, dataset_info: dict) -> Path:
        if not self._ended.is_set():
            answer = self._ask(("save", str(directory), dataset_info), timeout=600)
            if answer is not None:
                return Path(_result(answer))
        from gan_core.checkpoint import write_checkpoint

        last = self._last_state()
        state = last.trainer_state()
        path = write_checkpoint(directory, last.model_config, state["G"], state["D"],
                                {"opt_g": state["opt_g"], "opt_d": state["opt_d"]}, step=last.step,
                                train_config=last.train_config, dataset=dataset_info,
                                extra={"images_seen": last.images_seen}, generator_ema_state=state["G_ema"])
        shutil.copyfile(self._final_dir / "checkpoint" / "metrics.csv", path / "metrics.csv")
        del last, state
        give_back_memory()
        return path

    def _last_state(self):
        """The checkpoint the process wrote when its training ended (it has ended, or is ending now)."""
        from gan_core.checkpoint import load_checkpoint

        self._gone.wait(STOP_GRACE + 10)
        if not self._final_saved:
            raise WorkerError("errors.worker.no_last_state")
        return load_checkpoint(self._final_dir / "checkpoint")


def give_back_memory() -> None:
    """Hand the heap's free pages back to the system (glibc keeps them otherwise): after a run's record
    and a loaded checkpoint are dropped, the app's resident memory goes back down."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc (macOS, Windows, musl): nothing to do


def _result(answer: tuple):
    result, error = answer
    if error is not None:
        raise error
    return result


def _without_orphan_timeout(options):
    import dataclasses

    return dataclasses.replace(options, orphan_timeout=None)  # the app watches the heartbeat, not the child


def _kill(process) -> None:
    try:
        os.kill(process.pid, signal.SIGKILL)
    except (ProcessLookupError, TypeError):
        pass
