"""The run's end of a training run in its own process (``gan_core.worker.process`` is the app's end).

``child_main`` runs in the child: it reads its ``ChildSpec`` from the channel, builds the engine's own
``ThreadRun`` (the ``Trainer`` and the loop the command line runs), trains it in a thread, answers the
app's commands (pause, resume, stop, single steps, save, a copy of G) and publishes what changed
(``gan_core.worker.channel``) every ``PUBLISH_SECONDS``. It holds itself to the memory limit the app
sends with "start" (``RLIMIT_AS`` on the CPU), lifted again to save what was trained. When training
ends it writes its last state to the app's private folder and says "ended". When the app process ends
under it (a crash, a kill), it keeps the run for the browser that started it (``gan_core.rescue``).
"""

from __future__ import annotations

import io
import logging
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from gan_core.rescue import RunRescue
from gan_core.worker.channel import Cursor, read_changes

log = logging.getLogger(__name__)

PUBLISH_SECONDS = 0.2  # the child sends what changed this often (and at once on a pause or a step)


@dataclass
class ChildSpec:
    """Everything a run's process needs, sent once (``torch.save`` bytes: tensors travel as data)."""

    config: object
    dataset: object
    steps: int
    options: object
    resume: dict | None
    device: str | None
    final_dir: str  # where it writes its last state when training ends
    # The browser that started it: if the app ends while it trains, the run saves itself into the runs
    # folder for that browser (gan_core.rescue); None: nobody could come back for it, it just ends.
    rescue_owner: str | None
    env: dict[str, str]  # the app's GAN_* settings now (a forkserver keeps the environment it started with)
    cpu_threads: int
    nice: int


def status_mb(field: str, pid: int | str | None = "self") -> float | None:
    """A memory line of /proc/<pid>/status in MiB (``VmRSS``: resident, ``VmSize``: address space);
    None where there is no /proc (not Linux) or the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def child_main(conn) -> None:
    """The run's process: build the trainer, train in a thread, answer the app, publish what changes."""
    baseline_mb = status_mb("VmRSS") or 0.0  # the limit counts all the run brings: data, trainer, steps
    address_space_mb = status_mb("VmSize")
    spec: ChildSpec = torch.load(io.BytesIO(conn.recv_bytes()), weights_only=False)
    for name in [k for k in os.environ if k.startswith("GAN_")]:
        del os.environ[name]
    os.environ.update(spec.env)
    if spec.nice:
        os.nice(spec.nice)
    from gan_core.device import set_cpu_threads
    from gan_core.worker.run import ThreadRun

    set_cpu_threads(spec.cpu_threads)
    send_lock = threading.Lock()
    app_gone = threading.Event()  # the app process ended (its end of the channel closed)

    def send(message: tuple) -> None:
        if app_gone.is_set():
            return
        with send_lock:
            try:
                conn.send(message)
            except (OSError, EOFError):  # nobody reads any more: the app has gone
                app_gone.set()

    try:
        run = ThreadRun(spec.config, spec.dataset, spec.steps, spec.options, resume=spec.resume, device=spec.device)
    except BaseException as exc:  # noqa: BLE001 - the app shows it as it would in-process
        send(("failed", exc))
        return
    worker = run.worker
    spec.dataset = spec.resume = None  # the run has its own references; nothing else keeps a copy
    send(("ready", {"config": run.config, "resume_changes": run.resume_changes, "device": str(run.trainer.device),
                    "dataset": run.dataset.name, "start_step": worker.start_step, "target_step": worker.target_step,
                    "real_grid": worker.real_grid, "pid": os.getpid(), "baseline_mb": baseline_mb,
                    "cpu_threads": torch.get_num_threads()}))
    try:
        message = conn.recv()
    except (EOFError, OSError):
        return
    if message[0] != "start":
        return

    cursor, publish_lock, wake = Cursor(), threading.Lock(), threading.Event()

    def publish() -> None:
        try:
            with publish_lock:
                send(("changes", read_changes(worker, cursor)))
        except MemoryError:  # at the memory limit: the next one goes out once the failed step let go
            pass

    requests: queue.Queue = queue.Queue()
    finished = threading.Event()

    def serve_requests() -> None:  # one thread for every request, so none is made under the limit
        while True:
            item = requests.get()
            if item is None:
                return
            kind, request_id, *args = item
            result, error = None, None
            try:
                if kind == "single":
                    result = run.single_step(args[0], timeout=3600)
                elif kind == "save":
                    result = str(run.save(Path(args[0]), args[1]))
                elif kind == "generator":
                    buffer = io.BytesIO()
                    torch.save(run.generator_copy(), buffer)
                    result = buffer.getvalue()
            except Exception as exc:  # noqa: BLE001 - the page shows it (e.g. no room on the disk)
                error = exc
            publish()  # the record first: a single step's numbers are there when its answer arrives
            send(("done", request_id, result, error))

    def publish_loop() -> None:
        while not finished.is_set():
            wake.wait(PUBLISH_SECONDS)
            wake.clear()
            publish()

    def read_commands() -> None:
        while True:
            try:
                command = conn.recv()
            except (EOFError, OSError):  # the app has gone: end at once, or after saving the run for its student
                if spec.rescue_owner is None:
                    os._exit(0)
                app_gone.set()
                rescue.begin()  # the marker first: the browser's next process can say so when it arrives
                run.request_stop()
                return
            kind = command[0]
            if kind == "pause":
                run.pause(timeout=0)
                wake.set()
            elif kind == "resume":
                run.resume()
                wake.set()
            elif kind == "stop":
                run.request_stop()
            else:
                requests.put(command)

    rescue = RunRescue(spec.rescue_owner, run, _dataset_info(run.dataset))
    threads_made = threading.Event()

    def limit_memory() -> None:  # every thread first: a thread's stack is memory too
        threads_made.wait()
        _limit_memory(message[1], address_space_mb, run.trainer.device)

    run.start(release_slot=finished.set, warmed_up=limit_memory)
    threads = {target: threading.Thread(target=target, daemon=True, name=f"gan-run-{target.__name__}")
               for target in (serve_requests, publish_loop, read_commands)}
    for thread in threads.values():  # after start: the first record sent says "running"
        thread.start()
    threads_made.set()
    request_thread = threads[serve_requests]
    finished.wait()
    _lift_memory_limit()  # saving what was trained must not fail for the memory the training took
    publish()
    requests.put(None)
    request_thread.join()  # a save asked for while it trained is answered first
    if app_gone.is_set():
        rescue.finish()
        return
    saved = False
    try:
        dataset = run.dataset
        run.save(Path(spec.final_dir), _dataset_info(dataset))
        saved = True
    except Exception:  # noqa: BLE001 - then the app says there is no last state to save
        log.exception("could not keep the run's last state")
    send(("ended", saved))
    if app_gone.is_set():  # it went while the last state was being written: nobody will read that one
        rescue.finish()
    conn.close()


def _dataset_info(dataset) -> dict:
    return {"name": dataset.name, "size": len(dataset.images), "class_names": list(getattr(dataset, "class_names", []) or [])}


_NO_LIMIT: tuple[int, int] | None = None


def _lift_memory_limit() -> None:
    if _NO_LIMIT is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, _NO_LIMIT)


def _limit_memory(limit_mb: float, address_space_mb: float | None, device: torch.device) -> None:
    """No allocation past ``limit_mb`` above the empty process the run started as (CPU runs on Linux)."""
    if device.type != "cpu" or address_space_mb is None:
        return  # a GPU driver reserves address space far beyond any limit: the app watches RSS instead
    import resource

    global _NO_LIMIT
    cap = int((address_space_mb + limit_mb) * 2**20)
    _NO_LIMIT = resource.getrlimit(resource.RLIMIT_AS)
    hard = _NO_LIMIT[1]
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
