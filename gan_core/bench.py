"""``python -m gan_core bench``: measure the speed goals and write BENCHMARKS.md.

Parts (each a function returning plain data; ``run_bench`` runs them all):

- ``machine_info``       CPU model, cores, torch version, device, threads, load average
- ``matmul_peak``        this machine's float32 matmul FLOP/s (the faster of MKL's torch.mm and
                         oneDNN's), measured at the start and at the end (the best counts), with a
                         3x3 convolution's FLOP/s beside it
- ``trainer_throughput`` images/s of ``Trainer.step`` for each preset vs a plain PyTorch loop of
                         the same models (``ReferenceLoop``, the pytorch/examples DCGAN way),
                         measured alternately A B A B ... (median), plus model FLOPs per step
                         (``FlopCounterMode``) and the share of the matmul peak they reach
- ``time_to_quality``    training seconds until samples of the small preset on mnist5k reach
                         classifier confidence >= 80% with all ten classes present
- ``app_overhead``       images/s of ``worker.TrainingRun`` driven like the training page
                         (poll ``snapshot()`` once a second, heartbeat) vs ``Trainer.step()`` in a loop
- ``latent_latency``     latent-page operations: one slider image, a 16-frame interpolation, SeFa
- ``toy1d_play``         the 1-D page's Play loop without the UI: figure updates and Algorithm 1
                         iterations per second (the browser's frame rate is ``scripts/bench_play_browser.py``)
- ``startup``            fresh-process import time of ``gan_core.trainer`` and first render of the app
- ``amp``                each preset with and without ``--amp`` (images/s, alternating rounds) where the
                         device has a fast reduced format (CUDA; CPUs with native bfloat16); elsewhere
                         not measured, with the reason (``--quick`` runs the timing anyway, to test it)
- ``log_every``          on CUDA: images/s of ``Trainer.step()`` (reads the numbers back every step) vs
                         ``Trainer.run_steps(25)`` (``--log-every 25``: one read per block); elsewhere not
                         measured, the CPU has no queue to drain (``--quick`` runs it anyway)
- ``distributed``        the small preset on mnist5k with the global batch on 1 process vs 2 gloo processes
                         under ``torchrun`` (one thread each): images/s and the scaling efficiency

``--quick`` shrinks every part (tiny batches and step counts) so a test can check the JSON in
well under a minute; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from gan_core.paths import REPO_ROOT
GOALS = {
    "trainer_vs_reference": 1.0,  # ratio, higher is better
    "peak_share_tf_tutorial": 0.60,
    "time_to_quality_seconds": 60.0,  # lower is better
    "app_vs_headless": 0.9,
}
QUALITY_TARGET = {"confidence": 0.8, "classes_covered": 10}
MARK_START, MARK_END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass(frozen=True)
class BenchSettings:
    """Sizes of every part; ``quick()`` is the tiny version for tests."""

    quick: bool = False
    matmul_size: int = 2048
    matmul_repeats: int = 5
    presets: tuple[str, ...] = ("small", "dcgan", "tf-tutorial")
    batch_size: int | None = None  # None: each preset's default
    rounds: int = 14  # A/B rounds per preset: 7 pairs of A B, B A (see paired_ratio)
    round_seconds: float = 3.0  # target length of one side of one round
    quality_cap_seconds: float = 180.0
    quality_eval_every: int = 50
    quality_samples: int = 500
    app_steps: int = 400
    app_rounds: int = 2
    latency_repeats: int = 20
    play_seconds: float = 3.0
    startup_repeats: int = 3
    distributed_steps: int = 150

    @classmethod
    def quick_settings(cls) -> "BenchSettings":
        return cls(quick=True, matmul_size=256, matmul_repeats=2, batch_size=8, rounds=2, round_seconds=0.05,
                   quality_cap_seconds=1.0, quality_eval_every=5, quality_samples=50, app_steps=5,
                   app_rounds=1, latency_repeats=2, play_seconds=0.2, startup_repeats=1,
                   distributed_steps=4)


# --- machine ----------------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: torch.device) -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "parallel_backend": "OpenMP" if "OpenMP" in torch.__config__.parallel_info() else "other",
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
    }


def matmul_peak(size: int = 2048, repeats: int = 5) -> dict:
    """This machine's float32 matmul peak, and the fastest convolution for comparison.

    torch runs a matmul in two libraries: ``torch.mm`` in MKL and convolutions in oneDNN, and on AMD
    CPUs MKL takes its AVX2 path while oneDNN uses AVX-512 (measured here: torch.mm ~180 GFLOP/s,
    the same matmul as a 1x1 convolution ~220). The peak is the faster of the two matmuls. A 3x3
    convolution, which oneDNN computes with direct kernels, is also timed and reported (not used as
    the peak: it is not a matmul). All in nominal FLOPs (2 per multiply-add), as FlopCounterMode
    counts the models' layers.
    """
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm-up: thread pool, allocator
    mm_best = min(_timed(lambda: torch.mm(a, b)) for _ in range(repeats))
    # (4 size) x (size / 2) @ (size / 2) x (size / 2) as a 1x1 convolution: oneDNN's matmul
    k, rows = max(8, size // 2), max(16, 4 * size)
    side = 16
    x1, conv1 = torch.randn(rows // side**2, k, side, side), nn.Conv2d(k, k, 1, bias=False)
    # (64, C, 28, 28) -> (64, C, 28, 28), 3x3: the shape of a DCGAN layer
    channels = max(8, size // 8)
    x3, conv3 = torch.randn(64, channels, 28, 28), nn.Conv2d(channels, channels, 3, padding=1, bias=False)
    with torch.no_grad():
        conv1(x1), conv3(x3)
        onednn_best = min(_timed(lambda: conv1(x1)) for _ in range(repeats))
        conv3_best = min(_timed(lambda: conv3(x3)) for _ in range(repeats))
    mm_rate = 2 * size**3 / mm_best
    onednn_rate = 2 * x1.shape[0] * side * side * k * k / onednn_best
    conv3_rate = 2 * 64 * channels**2 * 9 * 28 * 28 / conv3_best
    return {"size": size, "seconds": mm_best, "mm_flops_per_sec": mm_rate, "onednn_matmul_flops_per_sec": onednn_rate,
            "onednn_matmul_shape": [x1.shape[0] * side * side, k, k], "conv3x3_channels": channels,
            "conv3x3_flops_per_sec": conv3_rate, "flops_per_sec": max(mm_rate, onednn_rate)}


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --- the reference loop ---------------------------------------------------------------------------------

class ReferenceLoop:
    """The plain way to write DCGAN training (pytorch/examples ``dcgan/main.py``), one loop body.

    Same models, initialisation, optimisers, batch and data order as ``Trainer`` for the
    non-saturating loss with k = 1; D sees real and fake batches through ``BCEWithLogitsLoss``, and
    the G step reuses the fake batch made for D (G runs forward once per iteration).
    """

    def __init__(self, config, images: torch.Tensor, device: torch.device) -> None:
        from gan_core.models import build_models

        c = config.resolved()
        self.config, self.device, self.images = c, device, images
        torch.manual_seed(c.seed)
        self.G, self.D = (m.to(device) for m in build_models(c.model_config()))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=c.lr_d, betas=c.betas_d)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=c.lr_g, betas=c.betas_g)
        self.criterion = nn.BCEWithLogitsLoss()
        self.rng = torch.Generator().manual_seed(c.seed)
        self.order, self.cursor = torch.randperm(len(images), generator=self.rng), 0
        self.images_seen = 0

    def step(self) -> dict:
        b = self.config.batch_size
        if self.cursor + b > len(self.order):
            self.order, self.cursor = torch.randperm(len(self.images), generator=self.rng), 0
        real = self.images[self.order[self.cursor:self.cursor + b]].to(self.device)
        self.cursor += b
        self.images_seen += b
        ones, zeros = torch.ones(b, device=self.device), torch.zeros(b, device=self.device)
        # (1) Update D: maximise log D(x) + log(1 - D(G(z)))
        self.D.zero_grad()
        out_real = self.D(real)
        err_real = self.criterion(out_real, ones)
        err_real.backward()
        noise = torch.randn(b, self.config.latent_dim, generator=self.rng).to(self.device)
        fake = self.G(noise)
        out_fake = self.D(fake.detach())
        err_fake = self.criterion(out_fake, zeros)
        err_fake.backward()
        self.opt_d.step()
        # (2) Update G: maximise log D(G(z)), reusing the fake batch
        self.G.zero_grad()
        out = self.D(fake)
        err_g = self.criterion(out, ones)
        err_g.backward()
        self.opt_g.step()
        # the example logs these every iteration
        return {"loss_d": (err_real + err_fake).item(), "loss_g": err_g.item(),
                "d_real": out_real.sigmoid().mean().item(), "d_fake": out_fake.sigmoid().mean().item()}


# --- throughput and FLOPs -------------------------------------------------------------------------------

def count_step_flops(step: Callable[[], object]) -> int:
    """Matmul/convolution FLOPs (forward + backward) of one call, by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())


def _images_per_sec(step: Callable[[], object], steps: int, batch: int) -> float:
    return steps * batch / _timed(lambda: [step() for _ in range(steps)])


def alternate(sides: dict[str, Callable[[], object]], batch: int, rounds: int, round_seconds: float) -> dict:
    """Run each side for ~round_seconds per round, alternating A B, B A, A B ...; images/s per round."""
    step_time = {}
    for name, step in sides.items():  # warm-up, and the step count that fills a round
        step()
        step_time[name] = max(_timed(step), 1e-6)
    steps = max(1, round(round_seconds / max(step_time.values())))
    rates: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides.items())
    for i in range(rounds):
        # A B, then B A, ...: a machine speeding up or slowing down during a round favours neither side
        for name, step in (order if i % 2 == 0 else order[::-1]):
            rates[name].append(_images_per_sec(step, steps, batch))
    return {"steps_per_round": steps, "rounds": rounds,
            "images_per_sec": {name: statistics.median(r) for name, r in rates.items()},
            "per_round": rates}


def paired_ratio(a: list[float], b: list[float]) -> float:
    """a / b from alternating rounds run A B, B A, A B, ...: the median over round pairs of the
    geometric mean of the pair's two ratios.

    Each round's two sides run back to back, so the machine's speed drifting between rounds (it
    does, on a shared VM) cancels; and whichever side runs second in a round measures a few percent
    faster (switching models costs the first one its warm caches), which the pair's two orders cancel.
    """
    ratios = [x / y for x, y in zip(a, b)]
    pairs = [math.sqrt(ratios[i] * ratios[i + 1]) for i in range(0, len(ratios) - 1, 2)]
    return statistics.median(pairs or ratios)


def trainer_throughput(settings: BenchSettings, dataset, device: torch.device) -> dict:
    """Trainer vs ReferenceLoop for every preset: images/s, ratio, FLOPs per step and per second."""
    from gan_core.trainer import TrainConfig, Trainer

    results = {}
    for preset in settings.presets:
        config = TrainConfig(preset=preset, dataset=dataset.name, batch_size=settings.batch_size, seed=0)
        batch = config.resolved().batch_size
        trainer = Trainer(config, dataset, device=device)
        reference = ReferenceLoop(config, dataset.images, device)
        flops_trainer = count_step_flops(trainer.step)
        flops_reference = count_step_flops(reference.step)
        timing = alternate({"trainer": trainer.step, "reference": reference.step}, batch, settings.rounds,
                           settings.round_seconds)
        ips = timing["images_per_sec"]
        steps_per_sec = ips["trainer"] / batch
        results[preset] = {
            "batch_size": batch,
            "trainer_images_per_sec": ips["trainer"],
            "reference_images_per_sec": ips["reference"],
            "ratio": paired_ratio(timing["per_round"]["trainer"], timing["per_round"]["reference"]),
            "flops_per_step_trainer": flops_trainer,
            "flops_per_step_reference": flops_reference,
            "trainer_flops_per_sec": flops_trainer * steps_per_sec,
            # "useful" FLOP/s: the work the reference needs per step, at the trainer's speed
            "useful_flops_per_sec": flops_reference * steps_per_sec,
            "reference_flops_per_sec": flops_reference * ips["reference"] / batch,
            "timing": timing,
        }
    return results


def add_peak_shares(throughput: dict, peak: float) -> None:
    """Add ``*_peak_share`` = FLOP/s / matmul peak next to every ``*_flops_per_sec``."""
    for r in throughput.values():
        for who in ("trainer", "useful", "reference"):
            r[f"{who}_peak_share"] = r[f"{who}_flops_per_sec"] / peak


def thread_scaling(settings: BenchSettings, dataset, device: torch.device) -> dict:
    """Trainer images/s of the small preset with 1 thread vs every core, alternating (CPU only).

    On a busy machine OpenMP threads that spin-wait for each other can make 2 threads far slower
    than 1; this part shows whether that happens here.
    """
    from gan_core.trainer import TrainConfig, Trainer

    if device.type != "cpu":
        return {"available": False, "reason": f"device is {device}"}
    cores, before = os.cpu_count() or 1, torch.get_num_threads()
    counts = sorted({1, cores})
    trainer = Trainer(TrainConfig(preset="small", dataset=dataset.name, batch_size=settings.batch_size, seed=0),
                      dataset, device=device)
    batch = trainer.config.batch_size

    def with_threads(n: int) -> Callable[[], object]:
        def step():
            torch.set_num_threads(n)
            trainer.step()
        return step

    try:
        timing = alternate({str(n): with_threads(n) for n in counts}, batch, settings.rounds, settings.round_seconds)
    finally:
        torch.set_num_threads(before)
    return {"available": True, "preset": "small", "batch_size": batch,
            "images_per_sec": {int(n): v for n, v in timing["images_per_sec"].items()}, "timing": timing}


# --- time to quality -------------------------------------------------------------------------------------

def time_to_quality(settings: BenchSettings, dataset, device: torch.device, config=None) -> dict:
    """Training seconds (evaluation excluded) until samples reach ``QUALITY_TARGET``.

    ``config`` defaults to the small preset with its default hyper-parameters.
    """
    from gan_core.evaluation.metrics import quick_metrics
    from gan_core.trainer import TrainConfig, Trainer

    config = config or TrainConfig(preset="small", dataset=dataset.name, batch_size=settings.batch_size, seed=0)
    trainer = Trainer(config, dataset, device=device)
    z = trainer.sample_noise(settings.quality_samples, torch.Generator().manual_seed(1234))
    curve, reached = [], None
    wall_start = time.perf_counter()
    while trainer.elapsed < settings.quality_cap_seconds and time.perf_counter() - wall_start < 3 * settings.quality_cap_seconds:
        for _ in range(settings.quality_eval_every):
            trainer.step()
        m = quick_metrics(trainer.generate(z), dataset.name)
        if m is None:
            return {"available": False, "reason": f"no classifier for {dataset.name}"}
        curve.append({"step": trainer.step_count, "seconds": round(trainer.elapsed, 2),
                      "confidence": round(m["confidence"], 3), "classes_covered": m["classes_covered"]})
        if m["confidence"] >= QUALITY_TARGET["confidence"] and m["classes_covered"] >= QUALITY_TARGET["classes_covered"]:
            reached = curve[-1]
            break
    return {
        "available": True,
        "target": dict(QUALITY_TARGET, samples=settings.quality_samples, evaluated_every_steps=settings.quality_eval_every),
        "reached": reached is not None,
        "seconds": reached["seconds"] if reached else None,
        "steps": reached["step"] if reached else None,
        "cap_seconds": settings.quality_cap_seconds,
        "preset": trainer.config.preset,
        "batch_size": trainer.config.batch_size,
        "recipe": {k: trainer.config.to_dict()[k] for k in ("ngf", "ndf", "fc_width", "latent_dim", "lr_d", "lr_g", "ema", "reuse_fake")},
        "curve": curve,
    }


# --- the app's overhead ----------------------------------------------------------------------------------

def app_throughput_probe(mode: str, steps: int, batch_size: int | None, threads: int | None, device: str) -> float:
    """Images/s of one small-preset run, in this (fresh) process: the probe behind ``app_overhead``.

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
        return steps * batch / _timed(lambda: [trainer.step() for _ in range(steps)])
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


def app_overhead(settings: BenchSettings, threads: int | None, device: str) -> dict:
    """Images/s of a TrainingRun polled like the page vs Trainer.step() in a loop, each in a fresh process.

    Fresh processes, because of how GNU OpenMP (torch's CPU threads) behaves: once one thread of a
    process has run a parallel op it keeps a thread team, and a second thread's team then only
    spins ~100 times before sleeping (libgomp throttles spinning when it manages more threads than
    there are cores), which makes every small op ~50 µs slower. Measured in one process after a
    headless run, the worker looked ~30% slower than it is in the app, where the server's main
    thread never runs torch.
    """
    batch = settings.batch_size
    code = ("import json, sys; from gan_core.bench import app_throughput_probe; "
            "print(json.dumps(app_throughput_probe(*json.loads(sys.argv[1]))))")
    rates: dict[str, list[float]] = {"headless": [], "in_app": []}
    for _ in range(settings.app_rounds):
        for mode in rates:  # alternating: headless, in_app, headless, in_app, ...
            args = json.dumps([mode, settings.app_steps, batch, threads, device])
            _, out = _fresh_process_seconds(["-c", code, args])
            rates[mode].append(float(out.strip().splitlines()[-1]))
    med = {k: statistics.median(v) for k, v in rates.items()}
    from gan_core.trainer import TrainConfig

    return {"available": True, "steps": settings.app_steps, "preset": "small",
            "batch_size": TrainConfig(preset="small", batch_size=batch).resolved().batch_size,
            "headless_images_per_sec": med["headless"], "in_app_images_per_sec": med["in_app"],
            "ratio": med["in_app"] / med["headless"], "per_round": rates,
            "measured": "each side in a fresh process, alternating; in-app: wall clock from start() to the "
                        "thread's end, polling snapshot() + heartbeat() once a second from the main thread; "
                        "includes the page's grids and live metrics"}


# --- latent page -------------------------------------------------------------------------------------------

def latent_latency(settings: BenchSettings) -> dict:
    """Milliseconds (median) of the latent page's operations on the shipped generator."""
    from gan_core import latent
    from gan_core.models import build_generator, default_model_config

    missing = [f for f in ("render", "interpolation", "sefa_directions") if not hasattr(latent, f)]
    if missing:
        if not settings.quick:
            raise RuntimeError(f"gan_core.latent lacks {', '.join(missing)}")
        return {"available": False, "reason": f"gan_core.latent lacks {', '.join(missing)}"}
    shipped = REPO_ROOT / "assets" / "generator-mnist5k"
    if (shipped / "config.json").is_file():
        from gan_core.checkpoint import load_checkpoint

        generator, source = load_checkpoint(shipped).generator, "assets/generator-mnist5k"
    else:
        generator, source = build_generator(default_model_config("small")), "a freshly built small generator"
    z0, z1 = latent.sample_latents(2, generator.latent_dim, seed=0)

    def median_ms(fn: Callable[[], object]) -> float:
        fn()
        return 1000 * statistics.median(_timed(fn) for _ in range(settings.latency_repeats))

    return {
        "available": True,
        "generator": source,
        "one_image_ms": median_ms(lambda: latent.render(generator, z0)),
        "interpolation_16_frames_ms": median_ms(lambda: latent.render(generator, latent.interpolation(z0, z1, 16))),
        "sefa_directions_ms": median_ms(lambda: latent.sefa_directions(generator, 5)),
        "repeats": settings.latency_repeats,
    }


# --- startup -------------------------------------------------------------------------------------------------

APP_PROBE = REPO_ROOT / "scripts" / "app_startup_probe.py"  # imports streamlit, so not part of gan_core


def _fresh_process_seconds(argv: list[str]) -> tuple[float, str]:
    """Wall time and stdout of ``python *argv`` in a fresh process started in the repository."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"the probe process failed: {done.stderr.strip()[-500:]}")
    return seconds, done.stdout


def toy1d_play(settings: BenchSettings) -> dict:
    """The 1-D page's Play loop without the UI: each tick trains for the page's tick budget, then
    computes the frame (``Toy1DTrainer.view``). Figure updates per second and Algorithm-1 iterations
    per second, on the page's default settings (p_data N(2, 0.5))."""
    from gan_core.toy.toy1d import Gaussian
    from gan_core.toy.toy1d_train import PLAY_TICK_BUDGET, Toy1DTrainer

    trainer = Toy1DTrainer(Gaussian(2.0, 0.5))
    start, ticks, steps = time.perf_counter(), 0, 0
    while time.perf_counter() - start < settings.play_seconds:
        steps += trainer.run_for(PLAY_TICK_BUDGET)
        trainer.view()
        ticks += 1
    elapsed = time.perf_counter() - start
    return {"ticks_per_second": ticks / elapsed, "iterations_per_second": steps / elapsed, "ticks": ticks,
            "iterations": steps, "tick_budget_s": PLAY_TICK_BUDGET, "seconds": elapsed}


def amp_throughput(settings: BenchSettings, dataset, device: torch.device) -> dict:
    """images/s of every preset with float32 and with ``--amp``, alternating rounds (``alternate``)."""
    from gan_core.precision import choose_precision
    from gan_core.trainer import TrainConfig, Trainer

    chosen = choose_precision(device, amp=True)
    if chosen.dtype is None and not settings.quick:
        return {"available": False, "reason": chosen.note}
    results = {}
    for preset in settings.presets:
        sides = {}
        for name, amp in (("float32", False), ("amp", True)):
            trainer = Trainer(TrainConfig(preset=preset, dataset=dataset.name, batch_size=settings.batch_size,
                                          seed=0, amp=amp), dataset, device=device)
            sides[name] = trainer.step
        batch = trainer.config.batch_size
        timing = alternate(sides, batch, settings.rounds, settings.round_seconds)
        ips = timing["images_per_sec"]
        results[preset] = {"batch_size": batch, "float32_images_per_sec": ips["float32"],
                           "amp_images_per_sec": ips["amp"], "speedup": ips["amp"] / ips["float32"]}
    return {"available": True, "format": chosen.name, "presets": results}


def log_every_throughput(settings: BenchSettings, dataset, device: torch.device, block: int = 25) -> dict:
    """images/s reading the losses back every step vs once per ``block`` steps (``--log-every``)."""
    from gan_core.trainer import TrainConfig, Trainer

    if device.type != "cuda" and not settings.quick:
        return {"available": False, "reason": f"no GPU here ({device.type}): a read-back has no queue to wait for"}
    results = {}
    for preset in settings.presets:
        every_step = Trainer(TrainConfig(preset=preset, dataset=dataset.name, batch_size=settings.batch_size, seed=0),
                             dataset, device=device)
        blocked = Trainer(every_step.config, dataset, device=device)
        batch = every_step.config.batch_size
        n = 2 if settings.quick else block
        # one side's "step" is a block of n steps either way, so both count n x batch images
        timing = alternate({"every_step": lambda: [every_step.step() for _ in range(n)],
                            "log_every": lambda: blocked.run_steps(n)}, batch * n, settings.rounds, settings.round_seconds)
        ips = timing["images_per_sec"]
        results[preset] = {"block": n, "every_step_images_per_sec": ips["every_step"],
                           "log_every_images_per_sec": ips["log_every"], "speedup": ips["log_every"] / ips["every_step"]}
    return {"available": True, "presets": results}


def _cli_images_per_sec(processes: int, steps: int, batch: int, out: Path) -> float:
    """Median images/s of a CLI run's metrics.csv (its first fifth left out: warm-up); 1 process runs plainly,
    more under ``torchrun`` with gloo, one CPU thread each."""
    import csv
    import socket

    train = ["-m", "gan_core", "train", "--preset", "small", "--dataset", "mnist5k", "--steps", str(steps),
             "--batch-size", str(batch), "--threads", "1", "--sample-every", "0", "--save-every", "0", "--out", str(out)]
    if processes > 1:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        launcher = ["-m", "torch.distributed.run", "--nproc_per_node", str(processes), "--master_addr", "127.0.0.1",
                    "--master_port", str(port)]
        argv = [sys.executable, *launcher, *train]
    else:
        argv = [sys.executable, *train]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"training with {processes} process(es) failed: {done.stderr[-500:]}")
    with open(out / "metrics.csv", newline="") as f:
        rates = [float(row["images_per_sec"]) for row in csv.DictReader(f)]
    return statistics.median(rates[len(rates) // 5:])


def distributed_scaling(settings: BenchSettings) -> dict:
    """1 vs 2 processes on the same global batch (CPU, gloo, one thread each): images/s, efficiency."""
    import tempfile

    batch = 64
    with tempfile.TemporaryDirectory() as tmp:
        one = _cli_images_per_sec(1, settings.distributed_steps, batch, Path(tmp) / "one")
        two = _cli_images_per_sec(2, settings.distributed_steps, batch, Path(tmp) / "two")
    return {"preset": "small", "batch_size": batch, "steps": settings.distributed_steps, "backend": "gloo",
            "threads_per_process": 1, "images_per_sec": {"1": one, "2": two}, "scaling_efficiency": two / (2 * one)}


def startup(settings: BenchSettings) -> dict:
    """Fresh-process wall times: bare interpreter, ``import gan_core.trainer``, and the app."""
    repeat = lambda code: statistics.median(_fresh_process_seconds(["-c", code])[0] for _ in range(settings.startup_repeats))  # noqa: E731
    result = {"python_bare_seconds": repeat("pass"), "import_gan_core_trainer_seconds": repeat("import gan_core.trainer")}
    pages = [] if settings.quick else [str(p.relative_to(REPO_ROOT)) for p in sorted((REPO_ROOT / "views").glob("[!_]*.py"))
                                       if p.name != "home.py"]
    try:
        seconds, out = _fresh_process_seconds([str(APP_PROBE), *pages])
        probe = json.loads(out.strip().splitlines()[-1])
    except (RuntimeError, ValueError, IndexError, subprocess.TimeoutExpired) as exc:
        result["app"] = {"available": False, "reason": str(exc)[-300:]}
        return result
    result["app"] = {"available": True, "process_seconds": seconds, **probe,
                     "measured": "a fresh python process: import streamlit, then AppTest.from_file('app.py').run() "
                                 "(the home page), then switch_page(...).run() for every other page"}
    return result


# --- the whole benchmark ---------------------------------------------------------------------------------------

def run_bench(settings: BenchSettings, device: str = "auto", threads: int | None = None,
              progress: Callable[[str], None] | None = None, only: tuple[str, ...] | None = None) -> dict:
    """Every part (or just those named in ``only``), in order; returns the JSON-able result.

    ``goals`` says which goals were met; it and the end-of-run peak are only there when every part ran.
    """
    from gan_core.data.datasets import load_dataset
    from gan_core.device import select_device, set_cpu_threads

    say = progress or (lambda _msg: None)
    set_cpu_threads(threads)
    dev = select_device(device)
    result: dict = {"quick": settings.quick, "machine": machine_info(dev)}
    started = time.perf_counter()
    dataset = load_dataset("mnist5k")
    result["part_seconds"] = {"load_dataset": time.perf_counter() - started}
    parts = [
        ("matmul_peak", lambda: matmul_peak(settings.matmul_size, settings.matmul_repeats)),
        ("throughput", lambda: trainer_throughput(settings, dataset, dev)),
        ("thread_scaling", lambda: thread_scaling(settings, dataset, dev)),
        ("time_to_quality", lambda: time_to_quality(settings, dataset, dev)),
        ("app_overhead", lambda: app_overhead(settings, threads, device)),
        ("latent_latency", lambda: latent_latency(settings)),
        ("toy1d_play", lambda: toy1d_play(settings)),
        ("startup", lambda: startup(settings)),
        ("amp", lambda: amp_throughput(settings, dataset, dev)),
        ("log_every", lambda: log_every_throughput(settings, dataset, dev)),
        ("distributed", lambda: distributed_scaling(settings)),
    ]
    if only is not None:
        unknown = sorted(set(only) - {name for name, _ in parts})
        if unknown:
            raise ValueError(f"unknown bench parts {unknown}; choose from {', '.join(n for n, _ in parts)}")
        parts = [(name, part) for name, part in parts if name in only]
    for name, part in parts:
        say(name.replace("_", " "))
        t = time.perf_counter()
        result[name] = part()
        result["part_seconds"][name] = time.perf_counter() - t
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    if only is not None:
        result["parts"] = list(only)
        result["total_seconds"] = time.perf_counter() - started
        return result
    # Other work on the machine lowers the peak as much as the training speed: measure it again at
    # the end and keep the best, so a busy moment at the start cannot flatter the shares.
    end_peak = matmul_peak(settings.matmul_size, settings.matmul_repeats)
    peak = result["matmul_peak"]
    peak.update(start_flops_per_sec=peak["flops_per_sec"], end_flops_per_sec=end_peak["flops_per_sec"],
                **{k: max(peak[k], end_peak[k]) for k in ("flops_per_sec", "mm_flops_per_sec",
                                                           "onednn_matmul_flops_per_sec", "conv3x3_flops_per_sec")})
    add_peak_shares(result["throughput"], peak["flops_per_sec"])
    result["goals"] = goals(result)
    result["total_seconds"] = time.perf_counter() - started
    return result


def goals(result: dict) -> dict:
    """Each goal with its measured value and whether it is met (None: not measured)."""
    tp = result["throughput"]
    ttq, app = result["time_to_quality"], result["app_overhead"]
    worst_ratio = min(r["ratio"] for r in tp.values()) if tp else None
    measured = {
        "trainer_vs_reference": worst_ratio,
        "peak_share_tf_tutorial": tp["tf-tutorial"]["trainer_peak_share"] if "tf-tutorial" in tp else None,
        "time_to_quality_seconds": ttq.get("seconds"),
        "app_vs_headless": app.get("ratio"),
    }
    out = {}
    for name, target in GOALS.items():
        value = measured[name]
        lower_is_better = name == "time_to_quality_seconds"
        met = None if value is None else (value <= target if lower_is_better else value >= target)
        out[name] = {"target": target, "value": value, "met": met}
    return out


# --- markdown ---------------------------------------------------------------------------------------------------

def _fmt(x, digits: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def markdown(result: dict) -> str:
    """The result as markdown tables (the part of BENCHMARKS.md between the bench markers)."""
    m, peak = result["machine"], result["matmul_peak"]
    lines = [
        f"Measured by `python -m gan_core bench{' --quick' if result['quick'] else ''}` on "
        f"{m['cpu']}, {m['cores']} cores, {m['threads']} torch threads, device {m['device']}, torch {m['torch']}, "
        f"Python {m['python']}, OMP_WAIT_POLICY={m.get('omp_wait_policy') or 'unset'}. Load average at start {m['load_average_at_start']}, at end "
        f"{m.get('load_average_at_end')} (other work was running on the machine if these exceed 0.5).",
        "",
        f"float32 matmul peak (the faster of a {peak['size']}x{peak['size']} `torch.mm` in MKL, "
        f"{peak['mm_flops_per_sec'] / 1e9:.1f} GFLOP/s, and a {'x'.join(map(str, peak['onednn_matmul_shape']))} "
        f"matmul in oneDNN as a 1x1 convolution, {peak['onednn_matmul_flops_per_sec'] / 1e9:.1f} GFLOP/s; best of "
        f"runs at the start and at the end): **{peak['flops_per_sec'] / 1e9:.1f} GFLOP/s**. For comparison, a 3x3 "
        f"convolution ({peak['conv3x3_channels']} channels, 28x28, oneDNN's direct kernels) ran at "
        f"{peak['conv3x3_flops_per_sec'] / 1e9:.1f} GFLOP/s.",
        "",
        "### Goals",
        "",
        "| goal | target | measured | met |",
        "| --- | --- | --- | --- |",
    ]
    labels = {"trainer_vs_reference": ("Trainer / plain loop throughput (worst preset)", "≥ {:.1f}"),
              "peak_share_tf_tutorial": ("tf-tutorial FLOP/s as share of the matmul peak", "≥ {:.0%}"),
              "time_to_quality_seconds": ("seconds to 80% confident, 10 classes (small, mnist5k)", "≤ {:.0f} s"),
              "app_vs_headless": ("in-app / headless throughput", "≥ {:.1f}")}
    for name, g in result["goals"].items():
        label, target = labels[name]
        value = g["value"]
        shown = "–" if value is None else (f"{value:.0%}" if name == "peak_share_tf_tutorial" else f"{value:.2f}")
        lines.append(f"| {label} | {target.format(g['target'])} | {shown} | "
                     f"{'–' if g['met'] is None else ('yes' if g['met'] else 'no')} |")
    lines += ["", "### Training throughput (mnist5k, 28x28)", "",
              "Images/s are medians of alternating rounds (trainer then plain loop, plain loop then trainer, "
              "...); the ratio is the median, over pairs of rounds, of the geometric mean of the pair's two ratios "
              "(each round's two sides run back to back; a pair runs them in both orders). "
              "FLOPs are "
              "matmul/convolution FLOPs of one step (forward + backward) from `FlopCounterMode`.", "",
              "| preset | batch | Trainer img/s | plain loop img/s | ratio | GFLOP/step Trainer | GFLOP/step plain | "
              "Trainer GFLOP/s | share of peak | useful share |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for preset, r in result["throughput"].items():
        lines.append(
            f"| {preset} | {r['batch_size']} | {_fmt(r['trainer_images_per_sec'], 0)} | "
            f"{_fmt(r['reference_images_per_sec'], 0)} | {r['ratio']:.2f} | {r['flops_per_step_trainer'] / 1e9:.2f} | "
            f"{r['flops_per_step_reference'] / 1e9:.2f} | {r['trainer_flops_per_sec'] / 1e9:.1f} | "
            f"{r['trainer_peak_share']:.0%} | {r['useful_peak_share']:.0%} |")
    lines += ["", "*useful share*: the plain loop's FLOPs per step (the work a step needs) at the Trainer's speed.", ""]
    ts = result.get("thread_scaling", {})
    if ts.get("available"):
        shown = ", ".join(f"{n} thread{'s' if int(n) > 1 else ''}: {v:,.0f} img/s" for n, v in ts["images_per_sec"].items())
        lines += ["### Threads", "", f"small preset, batch {ts['batch_size']}, Trainer alone: {shown}.", ""]
    ttq = result["time_to_quality"]
    lines += ["### Time to quality", ""]
    if not ttq.get("available"):
        lines.append(f"Not measured: {ttq.get('reason')}.")
    else:
        t = ttq["target"]
        outcome = (f"**{ttq['seconds']:.1f} s** of training ({ttq['steps']} steps)" if ttq["reached"]
                   else f"not reached within {ttq['cap_seconds']:.0f} s")
        r = ttq.get("recipe") or {}
        recipe = ", ".join(f"{k} {v}" for k, v in r.items())
        lines.append(f"{ttq['preset']} preset, batch {ttq['batch_size']}{f' ({recipe})' if recipe else ''}, mnist5k: "
                     f"{outcome} until at least "
                     f"{t['confidence']:.0%} of {t['samples']} samples are classified with p ≥ 0.9 and all "
                     f"{t['classes_covered']} classes have ≥ 5% of the samples (evaluated every "
                     f"{t['evaluated_every_steps']} steps; evaluation time excluded).")
        lines += ["", "| step | seconds | confidence | classes |", "| --- | --- | --- | --- |"]
        lines += [f"| {p['step']} | {p['seconds']:.1f} | {p['confidence']:.2f} | {p['classes_covered']} |"
                  for p in ttq["curve"]]
    app = result["app_overhead"]
    lines += ["", "### App overhead", ""]
    if app.get("available"):
        lines.append(f"small preset, {app['steps']} steps, batch {app['batch_size']}: headless "
                     f"{app['headless_images_per_sec']:,.0f} img/s, in the app's worker {app['in_app_images_per_sec']:,.0f} "
                     f"img/s, ratio **{app['ratio']:.2f}** ({app['measured']}).")
    else:
        lines.append(f"Not measured: {app.get('reason')}.")
    lat = result["latent_latency"]
    lines += ["", "### Latent page", ""]
    if lat.get("available"):
        lines += [f"Generator: {lat['generator']}; medians of {lat['repeats']} runs.", "",
                  "| operation | ms |", "| --- | --- |",
                  f"| one slider image | {lat['one_image_ms']:.2f} |",
                  f"| 16-frame interpolation (slerp + render) | {lat['interpolation_16_frames_ms']:.2f} |",
                  f"| SeFa directions (k = 5) | {lat['sefa_directions_ms']:.2f} |"]
    else:
        lines.append(f"Not measured: {lat.get('reason')}.")
    st = result["startup"]
    lines += ["", "### Startup (fresh processes)", "", "| what | seconds |", "| --- | --- |",
              f"| `python -c pass` | {st['python_bare_seconds']:.2f} |",
              f"| `python -c \"import gan_core.trainer\"` | {st['import_gan_core_trainer_seconds']:.2f} |"]
    app_start = st.get("app", {})
    if app_start.get("available"):
        lines += [f"| import streamlit + AppTest | {app_start['import_streamlit']:.2f} |",
                  f"| first run of app.py (home page) | {app_start['home_first_run']:.2f} |"]
        lines += [f"| then switch to {page} | {p['seconds']:.2f}{' (exceptions!)' if p['exceptions'] else ''} |"
                  for page, p in app_start["pages"].items()]
    else:
        lines.append(f"| app | not measured: {app_start.get('reason')} |")
    amp = result.get("amp")
    if amp:
        lines += ["", "### Mixed precision (--amp)", ""]
        if amp.get("available"):
            lines += [f"Reduced format: {amp['format']}.", "", "| preset | batch | float32 img/s | --amp img/s | speed-up |",
                      "| --- | --- | --- | --- | --- |"]
            lines += [f"| {name} | {r['batch_size']} | {r['float32_images_per_sec']:,.0f} | {r['amp_images_per_sec']:,.0f} | "
                      f"{r['speedup']:.2f} |" for name, r in amp["presets"].items()]
        else:
            lines.append(f"Not measured: {amp.get('reason')}.")
    le = result.get("log_every")
    if le:
        lines += ["", "### Reading the numbers back (--log-every)", ""]
        if le.get("available"):
            lines += ["| preset | block | every step img/s | --log-every img/s | speed-up |", "| --- | --- | --- | --- | --- |"]
            lines += [f"| {name} | {r['block']} | {r['every_step_images_per_sec']:,.0f} | {r['log_every_images_per_sec']:,.0f} | "
                      f"{r['speedup']:.2f} |" for name, r in le["presets"].items()]
        else:
            lines.append(f"Not measured: {le.get('reason')}.")
    dd = result.get("distributed")
    if dd:
        ips = dd["images_per_sec"]
        lines += ["", "### Several processes (torchrun, CPU)", "",
                  f"{dd['preset']} preset, mnist5k, global batch {dd['batch_size']}, {dd['steps']} steps, "
                  f"{dd['backend']}, {dd['threads_per_process']} thread per process (median images/s of metrics.csv "
                  f"after the first fifth): 1 process {ips['1']:,.0f} img/s, 2 processes {ips['2']:,.0f} img/s, "
                  f"scaling efficiency **{dd['scaling_efficiency']:.0%}** (2 processes / twice 1)."]
    lines += ["", f"Whole benchmark: {result['total_seconds']:.0f} s."]
    return "\n".join(lines)


def write_markdown(result: dict, path: str | Path) -> Path:
    """Put the tables between the bench markers of ``path``, keeping any text around them."""
    path = Path(path)
    block = f"{MARK_START}\n{markdown(result)}\n{MARK_END}"
    text = path.read_text() if path.is_file() else ""
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        text = head + block + rest.split(MARK_END, 1)[1]
    else:
        text = "# Benchmarks\n\n" + block + "\n" + (("\n" + text) if text else "")
    path.write_text(text)
    return path


# --- command line -------------------------------------------------------------------------------------------------

def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``bench`` sub-command."""
    p = sub.add_parser(
        "bench", help="measure training speed, FLOP/s, time to quality, app overhead, latencies; write BENCHMARKS.md",
        description="Runs every benchmark part, prints the result as JSON and writes the markdown tables into "
        "--out between <!-- bench:start --> and <!-- bench:end --> (text around them is kept). "
        "Takes about 10 minutes; --quick takes seconds and its numbers mean nothing (for tests).")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmark runs, measures nothing")
    p.add_argument("--out", default=None, help="markdown file to write (default: BENCHMARKS.md, or none with --quick)")
    p.add_argument("--json", default=None, help="also write the JSON to this file")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    p.add_argument("--presets", default=None, help="comma-separated presets to time (default: all)")
    p.add_argument("--parts", default=None,
                   help="comma-separated parts to run, e.g. time_to_quality (prints JSON only; no markdown)")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    settings = BenchSettings.quick_settings() if args.quick else BenchSettings()
    if args.presets:
        from gan_core.models import get_preset

        names = tuple(p.strip() for p in args.presets.split(",") if p.strip())
        for name in names:
            get_preset(name)  # unknown names: a clear ValueError
        settings = dataclasses.replace(settings, presets=names)
    only = tuple(p.strip() for p in args.parts.split(",") if p.strip()) if args.parts else None
    result = run_bench(settings, device=args.device, threads=args.threads, only=only,
                       progress=lambda msg: print(f"bench: {msg} ...", file=sys.stderr, flush=True))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    if only is not None:  # the markdown tables need every part
        return 0
    out = args.out if args.out is not None else (None if args.quick else str(REPO_ROOT / "BENCHMARKS.md"))
    if out:
        write_markdown(result, out)
        print(f"bench: wrote {out}", file=sys.stderr)
    return 0
