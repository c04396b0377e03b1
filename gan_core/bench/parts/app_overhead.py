"""``app_overhead``: images/s of ``worker.TrainingRun`` driven like the training page (poll
``snapshot()`` once a second, heartbeat) vs ``Trainer.step()`` in a loop, each in a fresh process."""

from __future__ import annotations

import json
import statistics
import time

from gan_core.bench.harness import BenchContext, Goal, Part, fresh_process_seconds, section, timed


def probe(mode: str, steps: int, batch_size: int | None, threads: int | None, device: str) -> float:
    """Images/s of one small-preset run, in this (fresh) process.

    ``mode`` "headless": ``Trainer.step()`` in a loop in the main thread, as ``python -m gan_core
    train`` does. "in_app": a ``worker.TrainingRun`` built in a short-lived thread (as the page's
    script thread does) and polled once a second from the main thread, which runs no torch op (as
    Streamlit's server thread).
    """
    import threading

    from gan_core.data.datasets import load_dataset
    from gan_core.device import set_cpu_threads
    from gan_core.trainer import TrainConfig, Trainer
    from gan_core.worker import TrainingRun

    set_cpu_threads(threads)
    config = TrainConfig(preset="small", dataset="mnist5k", batch_size=batch_size, seed=0, device=device)
    batch = config.resolved().batch_size
    built: dict = {}

    def build() -> None:
        dataset = load_dataset("mnist5k")
        built["it"] = Trainer(config, dataset) if mode == "headless" else TrainingRun(config, dataset, steps=steps)

    if mode == "headless":
        build()
        trainer = built["it"]
        return steps * batch / timed(lambda: [trainer.step() for _ in range(steps)])
    if mode != "in_app":
        raise ValueError(f"unknown probe mode {mode!r}")
    builder = threading.Thread(target=build)
    builder.start()
    builder.join()
    run = built["it"]
    start = last_poll = time.perf_counter()
    run.start()
    while run.is_alive():
        time.sleep(0.02)  # short naps only so the end is timed precisely; they cost nothing
        if time.perf_counter() - last_poll >= 1.0:  # the page's fragment: snapshot + heartbeat each second
            last_poll = time.perf_counter()
            run.snapshot()
            run.heartbeat()
    seconds = time.perf_counter() - start
    status = run.snapshot().status
    if status != "finished":
        raise RuntimeError(f"the benchmark training run ended as {status!r}: {run.snapshot().message}")
    return steps * batch / seconds


def app_overhead(ctx: BenchContext) -> dict:
    """Images/s of a TrainingRun polled like the page vs Trainer.step() in a loop, each in a fresh process.

    Fresh processes, because of how GNU OpenMP (torch's CPU threads) behaves: once one thread of a
    process has run a parallel op it keeps a thread team, and a second thread's team then only
    spins ~100 times before sleeping (libgomp throttles spinning when it manages more threads than
    there are cores), which makes every small op ~50 µs slower. Measured in one process after a
    headless run, the worker looked ~30% slower than it is in the app, where the server's main
    thread never runs torch.
    """
    settings = ctx.settings
    batch = settings.batch_size
    code = (f"import json, sys; from {__name__} import probe; "
            "print(json.dumps(probe(*json.loads(sys.argv[1]))))")
    rates: dict[str, list[float]] = {"headless": [], "in_app": []}
    steps = ctx.sizes["steps"]
    for _ in range(ctx.sizes["rounds"]):
        for mode in rates:  # alternating: headless, in_app, headless, in_app, ...
            args = json.dumps([mode, steps, batch, ctx.threads, ctx.device_name])
            _, out = fresh_process_seconds(["-c", code, args])
            rates[mode].append(float(out.strip().splitlines()[-1]))
    med = {k: statistics.median(v) for k, v in rates.items()}
    from gan_core.trainer import TrainConfig

    return {"available": True, "steps": steps, "preset": "small",
            "batch_size": TrainConfig(preset="small", batch_size=batch).resolved().batch_size,
            "headless_images_per_sec": med["headless"], "in_app_images_per_sec": med["in_app"],
            "ratio": med["in_app"] / med["headless"], "per_round": rates,
            "measured": "each side in a fresh process, alternating; in-app: wall clock from start() to the "
                        "thread's end, polling snapshot() + heartbeat() once a second from the main thread; "
                        "includes the page's grids and live metrics"}


def markdown(app: dict) -> list[str]:
    return section("App overhead", app, lambda a: [
        f"small preset, {a['steps']} steps, batch {a['batch_size']}: headless "
        f"{a['headless_images_per_sec']:,.0f} img/s, in the app's worker {a['in_app_images_per_sec']:,.0f} "
        f"img/s, ratio **{a['ratio']:.2f}** ({a['measured']})."])


PART = Part("app_overhead", 50, app_overhead, markdown, sizes={"steps": (400, 5), "rounds": (2, 1)}, goals=(
    Goal("app_vs_headless", "in-app / headless throughput", 0.9, lambda app: app.get("ratio")),
))
