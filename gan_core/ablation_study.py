"""What breaks when one DCGAN guideline is broken, measured: every ablation against the baseline, over seeds.

    python -m gan_core ablation-study --out runs/ablations --seeds 0 1 2 --steps 1500

For each of "baseline" and every ablation the preset can take (``gan_core.ablations``), and each seed,
it trains the same run with the command line (same data, seed, batch order and settings: only the
ablation differs), records grids, metrics.csv and classes.csv (``train --record-classes``), measures
the final generator (``gan_core.evaluation.metrics.evaluate_checkpoint``), and writes
``<run>/outcome.json`` and ``<out>/study.json`` (every outcome and the per-ablation summary). A run
whose outcome.json exists is not trained again, so an interrupted study continues where it stopped.

What the summary says, per ablation:
- ``steps_to_digits``: per seed, the first recorded step at which at least half the samples are
  classified with p >= 0.9 (``LEARNED_CONFIDENCE``) and more than ``FEW_CLASSES`` kinds hold 80% of
  them, or None when that never happens;
- ``confidence``, ``fid``: the final generator's (mean and spread over seeds), with the baseline's beside;
- ``diverged``: seeds whose run stopped on a divergence (a non-finite or exploding loss);
- ``collapsed``: seeds whose samples fell into a few classes at the end (``mode_reading``
  "collapsed") or for two readings in a row before (``collapse_step``);
What it cannot see: the figures come from one dataset at one small size and a short run; an ablation
that changes nothing here may matter for larger images, deeper nets or longer training.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gan_core.ablations import ABLATIONS
from gan_core.class_shares import read_class_shares
from gan_core.evaluation.metrics import FEW_CLASSES, LEARNED_CONFIDENCE

BASELINE = "baseline"
STUDY_FILE = "study.json"
OUTCOME_FILE = "outcome.json"


@dataclass(frozen=True)
class StudyPlan:
    """The runs of one study: every name in ``names`` (``BASELINE`` or an ablation) with every seed."""

    preset: str = "small"
    dataset: str = "mnist5k"
    steps: int = 1500
    seeds: tuple[int, ...] = (0, 1, 2)
    sample_every: int = 100
    record_classes: int = 500
    threads: int | None = None
    names: tuple[str, ...] = field(default_factory=lambda: (BASELINE, *ABLATIONS))

    def folder(self, root: Path, name: str, seed: int) -> Path:
        return Path(root) / f"{name}-seed{seed}"

    def command(self, root: Path, name: str, seed: int) -> list[str]:
        """The ``python -m gan_core`` arguments of one run."""
        args = ["train", "--preset", self.preset, "--dataset", self.dataset, "--seed", str(seed),
                "--steps", str(self.steps), "--sample-every", str(self.sample_every),
                "--save-every", str(self.steps), "--record-classes", str(self.record_classes),
                "--out", str(self.folder(root, name, seed)), "--overwrite"]
        if self.threads:
            args += ["--threads", str(self.threads)]
        return args + ([] if name == BASELINE else ["--ablate", name])


def applicable(plan: StudyPlan) -> tuple[str, ...]:
    """The plan's names that its preset can take (an ablation with nothing to break there is left out)."""
    from gan_core.models import ConfigError, default_model_config, validate_model_config
    from gan_core.trainer import TrainConfig

    kept = []
    for name in plan.names:
        if name != BASELINE:
            try:
                validate_model_config(default_model_config(plan.preset, ablations=(name,)))
                TrainConfig(preset=plan.preset, ablations=(name,)).resolved()
            except ConfigError:
                continue
        kept.append(name)
    return tuple(kept)


COLLAPSE_READINGS = 2  # a collapse lasts at least this many recorded readings in a row (not one early blip)


def steps_to_digits(folder: Path) -> int | None:
    """The first recorded step at which G makes digits of many kinds: classifier confidence >=
    LEARNED_CONFIDENCE with more than ``FEW_CLASSES`` kinds holding 80% of the samples (one confident
    blob of one kind is not "digits"). None: never."""
    shares = read_class_shares(folder)
    if shares is None:
        return None
    s = shares.summary
    reached = [int(step) for step, few, conf in zip(shares.steps, s["classes_for_80_percent"], s["confidence"])
               if conf >= LEARNED_CONFIDENCE and few > FEW_CLASSES]
    return reached[0] if reached else None


def collapse_step(folder: Path) -> int | None:
    """The first recorded step of a mode collapse during the run: G's samples confident
    (>= LEARNED_CONFIDENCE) and of only a few kinds (at most ``FEW_CLASSES`` hold 80%) for
    ``COLLAPSE_READINGS`` readings in a row. The final generator may no longer show it (D may win
    afterwards). None: never."""
    shares = read_class_shares(folder)
    if shares is None:
        return None
    s = shares.summary
    few = [f <= FEW_CLASSES and c >= LEARNED_CONFIDENCE for f, c in zip(s["classes_for_80_percent"], s["confidence"])]
    for i in range(len(few) - COLLAPSE_READINGS + 1):
        if all(few[i:i + COLLAPSE_READINGS]):
            return int(shares.steps[i])
    return None


def measure_run(folder: Path, exit_code: int, n: int = 2000) -> dict:
    """The outcome of one finished run (written to ``<folder>/outcome.json``)."""
    from gan_core.evaluation.metrics import evaluate_checkpoint

    metrics = evaluate_checkpoint(folder, n=n)
    outcome = {"exit_code": exit_code, "diverged": exit_code == 1, "steps_to_digits": steps_to_digits(folder),
               "step": metrics["checkpoint_step"], "confidence": metrics["confidence"], "fid": metrics["fid"],
               "fid_floor": metrics["fid_floor"], "classes_covered": metrics["classes_covered"],
               "mode_reading": metrics["mode_reading"]}
    (folder / OUTCOME_FILE).write_text(json.dumps(outcome, indent=1))
    return outcome


def run_study(plan: StudyPlan, root: Path, progress=print) -> dict:
    """Train and measure every run of ``plan`` under ``root`` not measured yet; write and return study.json."""
    from gan_core.cli import main

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    names = applicable(plan)
    outcomes: dict[str, dict[int, dict]] = {}
    for name in names:
        for seed in plan.seeds:
            folder = plan.folder(root, name, seed)
            done = folder / OUTCOME_FILE
            if not done.is_file():
                progress(f"{name} seed {seed}: python -m gan_core {' '.join(plan.command(root, name, seed))}")
                code = main(plan.command(root, name, seed))
                if code not in (0, 1):  # 1: stopped on a divergence, an outcome; anything else is not
                    raise RuntimeError(f"{name} seed {seed} failed with exit code {code}")
                measure_run(folder, code)
            outcome = json.loads(done.read_text())
            # read again from classes.csv (cheap), so a study measured before a change of these rules follows it
            outcome.update(steps_to_digits=steps_to_digits(folder), collapse_step=collapse_step(folder))
            outcomes.setdefault(name, {})[seed] = outcome
    study = {"plan": {**asdict(plan), "names": list(names)}, "outcomes": outcomes,
             "summary": summarise(outcomes)}
    (root / STUDY_FILE).write_text(json.dumps(study, indent=1))
    return study


def _spread(values: list[float]) -> dict:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return {"mean": None, "sd": None}
    return {"mean": statistics.fmean(finite), "sd": statistics.stdev(finite) if len(finite) > 1 else 0.0}


def summarise(outcomes: dict[str, dict[int, dict]]) -> dict[str, dict]:
    """Per name: confidence and FID (mean, sd over seeds), steps to digits per seed, diverged and
    collapsed counts, and how many seeds."""
    out = {}
    for name, by_seed in outcomes.items():
        runs = [by_seed[s] for s in sorted(by_seed, key=int)]
        out[name] = {"seeds": len(runs), "confidence": _spread([r["confidence"] for r in runs]),
                     "fid": _spread([r["fid"] for r in runs]),
                     "steps_to_digits": [r["steps_to_digits"] for r in runs],
                     "diverged": sum(bool(r["diverged"]) for r in runs),
                     "collapsed": sum(r["mode_reading"] == "collapsed" or r.get("collapse_step") is not None
                                      for r in runs),
                     "not_learned": sum(r["mode_reading"] == "not_learned" for r in runs)}
    return out


def verdict(summary: dict[str, dict], name: str) -> str:
    """How ``name`` compares with the baseline, honestly: "diverged" or "collapsed" when more of its seeds
    did than the baseline's; else "worse" or "better" when its mean Fréchet distance is further from the
    baseline's than twice their combined spread over seeds; else "same" (no difference these seeds can show)."""
    a, b = summary[BASELINE], summary[name]
    for outcome in ("diverged", "collapsed", "not_learned"):
        if b[outcome] > a[outcome]:
            return "diverged" if outcome == "diverged" else "collapsed" if outcome == "collapsed" else "worse"
    fa, fb = a["fid"], b["fid"]
    if fa["mean"] is None or fb["mean"] is None:
        return "same"
    noise = 2 * math.hypot(fa["sd"] or 0.0, fb["sd"] or 0.0)
    if abs(fb["mean"] - fa["mean"]) <= noise:
        return "same"
    return "worse" if fb["mean"] > fa["mean"] else "better"


def load_study(path: str | Path) -> dict | None:
    """A study.json (a folder holding one, or the file), or None when there is none."""
    path = Path(path)
    path = path / STUDY_FILE if path.is_dir() else path
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def spread_text(spread: dict, digits: int, missing: str = "—") -> str:
    """A summary's ``{"mean", "sd"}`` as "0.81 ± 0.02" (``missing`` when no seed gave a number)."""
    return missing if spread["mean"] is None else f"{spread['mean']:.{digits}f} ± {spread['sd']:.{digits}f}"


def markdown_table(study: dict) -> str:
    """The summary as a markdown table (README, BENCHMARKS.md): one row per name, the baseline first."""
    plan, summary = study["plan"], study["summary"]
    lines = [f"{plan['preset']} on {plan['dataset']}, {plan['steps']} steps, seeds "
             f"{', '.join(map(str, plan['seeds']))}; mean ± sd over seeds",
             "",
             "| run | confidence | Fréchet distance | steps to digits (per seed) | diverged | collapsed | no digits | "
             "against the baseline |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in summary.items():
        steps = ", ".join("never" if v is None else str(v) for v in s["steps_to_digits"])
        against = "—" if name == BASELINE or BASELINE not in summary else verdict(summary, name)
        lines.append(f"| {name} | {spread_text(s['confidence'], 2)} | {spread_text(s['fid'], 1)} | {steps} | "
                     f"{s['diverged']}/{s['seeds']} | {s['collapsed']}/{s['seeds']} | {s['not_learned']}/{s['seeds']} | "
                     f"{against} |")
    return "\n".join(lines)


SHIPPED_STUDY = "ablations-small-mnist5k"
SHIPPED_FILES = ("config.json", "metrics.csv", "classes.csv", OUTCOME_FILE)


def shipped_study_path() -> Path:
    """The study shipped for the training page's compare view ($GAN_ABLATION_STUDY overrides it)."""
    import os

    from gan_core.paths import ASSETS_DIR

    return Path(os.environ.get("GAN_ABLATION_STUDY") or ASSETS_DIR / SHIPPED_STUDY)


def ship_study(root: str | Path, dest: str | Path, seed: int = 0) -> Path:
    """Copy what the compare view replays into ``dest``: study.json, and for ``seed`` each run's recording
    without its weights (config.json, metrics.csv, classes.csv, outcome.json, samples/step_*.png)."""
    import shutil

    root, dest = Path(root), Path(dest)
    study = load_study(root)
    if study is None:
        raise FileNotFoundError(root / STUDY_FILE)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / STUDY_FILE).write_text(json.dumps(study, indent=1))
    plan = StudyPlan(**{k: tuple(v) if isinstance(v, list) else v for k, v in study["plan"].items()})
    for name in study["summary"]:
        src, out = plan.folder(root, name, seed), plan.folder(dest, name, seed)
        (out / "samples").mkdir(parents=True, exist_ok=True)
        for file in SHIPPED_FILES:
            shutil.copyfile(src / file, out / file)
        for frame in sorted((src / "samples").glob("step_*.png")):
            shutil.copyfile(frame, out / "samples" / frame.name)
    return dest
