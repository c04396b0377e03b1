"""Two runs trained live side by side: the baseline and one ablation, with the ablation study's recipe.

The training page's compare view can replay the shipped study or train its pair now ("Train both
live"). The live pair is the study's recipe (``StudyPlan``: preset, dataset, first seed; every other
setting the preset's default, as ``train`` gives it), so it is the run the replay shows, with one
guideline different: the same seed, hence the same initial weights wherever a layer is unchanged and
the same data and batch order. Each run trains in its own process on one CPU thread
(``PAIR_THREADS``): on a 2-core machine the two share the cores at about half a run's speed each,
instead of four threads spinning against each other.

The two runs share one of the server's run slots (``gan_core.worker.registry``): together they cost
about the CPU of one run on the app's threads (two processes of one thread), so a laptop or a server
allowing one run at a time can train a pair. ``start_pair`` starts both or neither, and says in a
sentence what to do when no slot is free.

    configs = pair_configs(StudyPlan(), "no-bn-g")
    pair = start_pair("no-bn-g", configs, dataset, steps=1500)
    pair.snapshots()  # (baseline's RunSnapshot, ablation's)
    pair.close()
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from gan_core.ablation_study import BASELINE, StudyPlan
from gan_core.ablations import ABLATIONS
from gan_core.limits import get_limits
from gan_core.settings import Setting
from gan_core.trainer import STEPS, TrainConfig
from gan_core.worker import REGISTRY, RunLimitReached, RunOptions, RunSnapshot, TrainingRun

PAIR_THREADS = 1  # torch threads of each run's process: two runs, one core each
GRID_EVERY = 25  # steps between two grids, the same for both runs: both sides show the same steps
# How long each run of the pair trains; the page offers the study's steps first (``StudyPlan.steps``).
PAIR_STEPS = Setting("int", 1, STEPS.hi, label="train.compare.live.steps", help="settings.help.compare_steps",
                     widget="number", step=100)


def pair_configs(plan: StudyPlan, name: str, seed: int | None = None) -> tuple[TrainConfig, TrainConfig]:
    """(the baseline's, the ablation ``name``'s) settings: ``plan``'s preset, dataset and seed (its first
    seed unless given), everything else the preset's default, as ``train`` builds them for the study."""
    if name not in ABLATIONS:
        raise ValueError(f"unknown ablation {name!r}; choose one of {', '.join(ABLATIONS)}")
    from gan_core.models import get_preset

    seed = plan.seeds[0] if seed is None else seed
    baseline = TrainConfig(preset=plan.preset, dataset=plan.dataset,
                           image_size=get_preset(plan.preset).image_sizes[0], seed=seed)
    return baseline, replace(baseline, ablations=(name,))


def pair_options(plan: StudyPlan) -> RunOptions:
    """How each run of the pair behaves around training: one CPU thread, grids at the same steps on
    both sides, the classifier's readings as often as the study recorded its samples."""
    return RunOptions(grid_every_steps=GRID_EVERY, metrics_every_steps=plan.sample_every, cpu_threads=PAIR_THREADS)


def pair_refusal() -> RunLimitReached:
    """Why the pair cannot start (every slot taken, or others wait for one), and what to do."""
    return RunLimitReached("errors.worker.pair_busy", cap=get_limits().max_concurrent_runs)


@dataclass(eq=False)
class LivePair:
    """The two runs of a live comparison: ``baseline`` and ``ablated`` (the ablation ``name``)."""

    name: str
    baseline: TrainingRun
    ablated: TrainingRun

    @property
    def runs(self) -> tuple[TrainingRun, TrainingRun]:
        return self.baseline, self.ablated

    @property
    def names(self) -> tuple[str, str]:
        """What each run is, by what differs: (``BASELINE``, the ablation's name)."""
        return BASELINE, self.name

    def snapshots(self) -> tuple[RunSnapshot, RunSnapshot]:
        return self.baseline.snapshot(), self.ablated.snapshot()

    def statuses(self) -> tuple[str, str]:
        return tuple(s.status for s in self.snapshots())

    def is_alive(self) -> bool:
        """True while either run's process (or thread) exists."""
        return any(run.is_alive() for run in self.runs)

    def is_active(self) -> bool:
        """True while either run trains or is paused (a finished run's process may still be saving)."""
        return any(s.is_active for s in self.snapshots())

    def heartbeat(self) -> None:
        for run in self.runs:
            run.heartbeat()

    def pause(self, timeout: float = 10.0) -> bool:
        """Pause both, asked at the same moment (each after its current step); True once both wait.
        (Asking one and waiting for it before asking the other let the second train on meanwhile.)"""
        for run in self.runs:
            run.pause(timeout=0)
        deadline = time.monotonic() + timeout
        return all([run.pause(timeout=max(0.0, deadline - time.monotonic())) for run in self.runs])

    def resume(self) -> None:
        for run in self.runs:
            run.resume()

    def stop(self) -> bool:
        """End both; True when both have ended."""
        return all([run.stop() for run in self.runs])  # a list: ask both, even when the first fails

    def close(self) -> bool:
        """End both runs' processes now (their memory goes back to the system)."""
        return all([run.close() for run in self.runs])


def start_pair(name: str, configs: tuple[TrainConfig, TrainConfig], dataset, steps: int, plan: StudyPlan) -> LivePair:
    """Start the baseline and the ablation ``name`` (``configs`` from ``pair_configs``) on ``dataset`` for
    ``steps`` steps each, or neither: ``RunLimitReached`` with a sentence saying what to do when the
    server has fewer than two free slots (or another run took one meanwhile)."""
    if REGISTRY.free_slots() < 1:
        raise pair_refusal()
    runs = [TrainingRun(config, dataset, steps, pair_options(plan)) for config in configs]
    failures = _start_together(runs, slot=id(runs[0]))
    if failures:
        for run in runs:
            run.close()
        if all(isinstance(exc, RunLimitReached) for exc in failures):  # another run took the slot meanwhile
            raise pair_refusal()
        raise next(exc for exc in failures if not isinstance(exc, RunLimitReached))
    return LivePair(name, *runs)


def _start_together(runs: list[TrainingRun], slot: int) -> list[BaseException]:
    """Start every run at once, each from its own thread (what failed, if anything). One after the other,
    the first trained alone while the second's process was built (seconds on a busy machine), and got
    no heartbeat meanwhile: both sides start at the same moment instead."""
    import threading

    failures: list[BaseException] = []

    def start(run: TrainingRun) -> None:
        try:
            run.start(slot=slot)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, which closes both
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(run,), name="gan-pair-start", daemon=True) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures
