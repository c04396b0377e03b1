"""``python -m gan_core train``: Algorithm 1 on a dataset, written to a run folder.

The folder holds the checkpoint (``config.json``, ``*.safetensors``; saved at the start, every
``--save-every`` steps and at the end, each save atomic as a whole; ``config.json``'s ``target_step``
says where the run stops), ``metrics.csv`` (one row per step, each line flushed whole) and
``samples/step_*.png``; ``--resume`` continues it, Ctrl-C or SIGTERM stops it with everything saved.
The training page can watch the folder while it grows (``gan_core.recording``).

In the runs folder with a quota (``gan_core.runs_quota``): abandoned runs are cleaned before the run
starts and before every save; the folder is marked in use while the command runs; a save that finds
no room (the quota, or a full disk) stops the run with one ``error:`` line, its last whole checkpoint
left as it was.

Started by ``torchrun --nproc_per_node N -m gan_core train ...`` it trains one model on N processes
(``gan_core.distributed``): ``--batch-size`` is the global batch, rank 0 alone writes the folder and
prints, and every rank stops at the same step (a stop request or the time limit is agreed on).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import signal
import sys
from pathlib import Path

from tqdm import tqdm

from gan_core.i18n import translate
from gan_core.settings import THREADS, Setting, add_config_flags, add_flag, declared, is_whole
from gan_core.trainer import EPOCHS, STEPS, TrainConfig

DEFAULT_GPU_LOG_EVERY = 25  # steps a GPU runs between reads of the losses (a read waits for the queue to drain)


# The command's own numbers (a TrainConfig field declares its flag in gan_core.trainer). Each is
# refused outside its range with one sentence; defaults are None ("not given") so that --resume keeps
# the checkpoint's value of every setting the command line does not name.
_H = "settings.help."
TIME_LIMIT = Setting("float", 1.0, 1e6, help=_H + "time_limit", flag="--time-limit")
LOG_EVERY = Setting("int", 1, 10_000, help=_H + "log_every", flag="--log-every")
DIST_TIMEOUT = Setting("float", 1.0, 86_400.0, help=_H + "dist_timeout", flag="--dist-timeout")
# 0 means never; at most the longest run (a grid or a save less often than that is never)
SAMPLE_EVERY = Setting("int", 0, STEPS.hi, help=_H + "sample_every", flag="--sample-every")
SAVE_EVERY = Setting("int", 0, STEPS.hi, help=_H + "save_every", flag="--save-every")
RECORD_CLASSES = Setting("int", 0, 10_000, help=_H + "record_classes", flag="--record-classes")
# beta1 of both networks, in the range of TrainConfig's betas
BETA1 = dataclasses.replace(declared(TrainConfig)["betas_d"], kind="float", label="", help=_H + "beta1",
                            flag="--beta1", url=None, widget=None)
DEFAULT_SAMPLE_EVERY, DEFAULT_SAVE_EVERY, DEFAULT_STEPS = 250, 1000, 2000
# The run's plan, saved in config.json ("plan", with "target_step") so that a resumed run, e.g. after
# Ctrl-C or SIGTERM, goes on as it was started: to the same step, with grids, saves and class readings
# at the same interval, unless the command line says otherwise. flag name -> default of a new run.
PLAN_DEFAULTS = {"sample_every": DEFAULT_SAMPLE_EVERY, "save_every": DEFAULT_SAVE_EVERY, "record_classes": 0}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``train`` sub-command: every ``TrainConfig`` flag, then the run's own."""
    p = sub.add_parser("train", help="train a GAN (Algorithm 1) and write a checkpoint folder",
                       description="Train a GAN and write DIR/config.json, DIR/*.safetensors, "
                       "DIR/metrics.csv (one row per step) and DIR/samples/step_*.png. With --resume, "
                       "every setting not given keeps the checkpoint's value.")
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    add_config_flags(p, TrainConfig)
    add_flag(p, BETA1, dest="beta1")
    add_flag(p, STEPS, dest="steps")
    add_flag(p, EPOCHS, dest="epochs")
    add_flag(p, TIME_LIMIT, dest="time_limit", metavar="SECONDS")
    add_flag(p, THREADS, dest="threads")
    add_flag(p, LOG_EVERY, dest="log_every", metavar="STEPS")
    add_flag(p, DIST_TIMEOUT, dest="dist_timeout", metavar="SECONDS")
    add_flag(p, SAMPLE_EVERY, dest="sample_every")
    add_flag(p, SAVE_EVERY, dest="save_every")
    add_flag(p, RECORD_CLASSES, dest="record_classes", metavar="N")
    p.add_argument("--no-sync-batchnorm", action="store_true",
                   help="under torchrun: each process normalises BatchNorm over its own share of the batch "
                        "(default: SyncBatchNorm over the global batch, where PyTorch has it: on GPUs)")
    p.add_argument("--data-root", default=None, help="folder for torchvision datasets")
    p.add_argument("--download", action="store_true", help="download torchvision datasets if missing (online)")
    p.add_argument("--resume", default=None,
                   help="checkpoint folder or .zip to continue from; settings you give (e.g. --lr-g) replace the "
                   "saved ones, the rest are kept (the command says which); the model comes from the checkpoint "
                   "(a different --preset, --image-size, ... is refused); metrics.csv continues after its step")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run already in --out (otherwise an --out that holds a run is refused, "
                   "unless it is the folder given to --resume)")
    p.set_defaults(func=cmd_train)


class GracefulStop:
    """SIGINT (Ctrl-C) and SIGTERM during training: finish the current step, then stop.

    The training loop asks ``requested`` after every step; the command then saves the checkpoint,
    flushes metrics.csv and exits with 128 + the signal number. A second Ctrl-C stops at once
    (KeyboardInterrupt), for a save that hangs. Outside the main thread (where Python cannot install
    handlers) signals keep their default behaviour.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict = {}

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def _handle(self, signum: int, frame) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signum

    def __enter__(self) -> "GracefulStop":
        try:
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        except ValueError:  # not the main thread
            self._previous = {}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)


def _given_settings(args: argparse.Namespace, saved_betas: dict | None = None) -> dict:
    """The ``TrainConfig`` settings the command line names (a flag left out is None: not given).

    ``--beta1`` sets beta1 of both networks; their beta2 stays the checkpoint's (``saved_betas``,
    when resuming) or the preset's."""
    from gan_core.ablations import canonical_ablations
    from gan_core.models import get_preset

    given = {name: getattr(args, name) for name, s in declared(TrainConfig).items()
             if s.flag and getattr(args, name) is not None}
    if "ablations" in given:  # a repeated flag's list, as the checkpoint's model stores it
        given["ablations"] = canonical_ablations(given["ablations"])
    if args.beta1 is not None:
        for name in ("betas_d", "betas_g"):
            saved = (saved_betas or {}).get(name)
            beta2 = saved[1] if saved else get_preset(given.get("preset", TrainConfig.preset)).defaults.betas[1]
            given[name] = (args.beta1, beta2)
    return given


def _fresh_config(given: dict):
    """A new run's settings: what is given, else the defaults (the image size: the preset's first)."""
    from gan_core.models import get_preset

    preset = get_preset(given.get("preset", TrainConfig.preset))
    return TrainConfig(**{"image_size": preset.image_sizes[0], **given})


def _resumed_config(given: dict, checkpoint) -> tuple:
    """(config, kept, changed) when resuming: the model is the checkpoint's (a conflicting value on the
    command line is refused), every other setting the command line gives replaces the saved one, the
    rest are kept. ``kept``: names; ``changed``: ``{name: (saved, now)}``."""
    from gan_core.models import ConfigError

    model = checkpoint.model_config.to_dict()
    for name, value in given.items():
        if name in model and value != model[name]:
            raise ConfigError("errors.cli.resume_model", flag=declared(TrainConfig)[name].flag, value=_shown(value),
                              saved=_shown(model[name]))
    saved = TrainConfig.from_dict(checkpoint.train_config)
    config = TrainConfig.from_dict({**checkpoint.train_config, **given, **model})
    changed = {name: (getattr(saved, name), getattr(config, name)) for name in given
               if name not in model and getattr(saved, name) != getattr(config, name)}
    kept = [name for name, value in saved.to_dict().items()
            if name not in given and name not in model and value is not None]
    return config, kept, changed


def _threads_per_process(threads: int | None) -> int | None:
    """The CPU threads of one process: as asked, else under torchrun this machine's cores shared out."""
    import os

    if threads is not None or "LOCAL_WORLD_SIZE" not in os.environ or os.environ.get("GAN_CPU_THREADS"):
        return threads
    return max(1, (os.cpu_count() or 1) // max(1, int(os.environ["LOCAL_WORLD_SIZE"])))


def _agreed(flag: bool, d) -> bool:
    """True on every rank when ``flag`` is true on any of them (one all-reduce; the flag as is alone)."""
    import torch

    from gan_core.distributed import mean_over_ranks

    return bool(mean_over_ranks(torch.tensor([float(flag)]), d).item() > 0) if d.active else flag


def cmd_train(args: argparse.Namespace) -> int:
    from gan_core import distributed

    if not distributed.launched_by_torchrun():
        return _train(args, distributed.SINGLE, None)
    from gan_core.device import select_device

    d, device = distributed.from_environment(select_device(args.device),
                                             args.dist_timeout or distributed.DEFAULT_TIMEOUT_S)
    try:
        code = _train(args, d, device)
        distributed.shutdown(finished=True)
        return code
    except RuntimeError as exc:  # a collective failed or timed out: another rank is gone
        print(translate("errors.cli.rank_lost", rank=d.rank, detail=str(exc).splitlines()[0][:200], out=args.out),
              file=sys.stderr)
        return 3
    finally:
        distributed.shutdown()


def _train(args: argparse.Namespace, d, device) -> int:
    """The run itself; ``d`` is this process's rank in the job (``gan_core.distributed``)."""
    from gan_core.checkpoint import check_output_folder, load_checkpoint, save_checkpoint, trim_metrics_csv
    from gan_core.data.datasets import load_dataset
    from gan_core.device import set_cpu_threads
    from gan_core.distributed import sync_batchnorm_available
    from gan_core.images import make_grid, save_png
    from gan_core.class_shares import ClassRecorder
    from gan_core.run_cost import check_run_cost
    from gan_core.runs_quota import InUse, clean, make_room
    from gan_core.trainer import Trainer, TrainingDiverged

    out = Path(args.out).expanduser()
    check_output_folder(out, overwrite=args.overwrite, resuming_from=args.resume)  # before any slow work
    clean()  # a new run starts: abandoned runs go first, when the runs folder has a quota
    set_cpu_threads(_threads_per_process(args.threads))
    resume = load_checkpoint(args.resume) if args.resume else None
    if resume is None:
        config, kept, changed = _fresh_config(_given_settings(args)), [], {}
    else:  # the checkpoint decides the model; the command line the rest
        saved_betas = {name: resume.train_config.get(name) for name in ("betas_d", "betas_g")}
        config, kept, changed = _resumed_config(_given_settings(args, saved_betas), resume)
    resolved = config.resolved()  # every setting checked before the dataset is read, and what the run costs
    check_run_cost(resolved.model_config(), max(1, resolved.batch_size // d.world_size))
    dataset = load_dataset(config.dataset, image_size=config.image_size, channels=config.channels,
                           root=args.data_root, download=args.download)
    main = d.is_main  # rank 0 alone writes the folder and prints
    if main:
        print(f"dataset: {dataset.describe()}", file=sys.stderr)
    trainer = Trainer(config, dataset, device=device, distributed=d, sync_batchnorm=not args.no_sync_batchnorm)
    if main and d.active and not args.no_sync_batchnorm and not sync_batchnorm_available(trainer.device):
        print(translate("errors.cli.no_sync_batchnorm", device=trainer.device.type, world=d.world_size,
                        share=trainer.rank_batch, batch=trainer.config.batch_size), file=sys.stderr)
    if main and trainer.precision.note:
        print(f"note: {trainer.precision.note}", file=sys.stderr)
    if resume is not None:
        changed = {**trainer.load_state(resume.trainer_state()), **changed}
        if main:
            _report_resume(kept, changed, resume.train_config)
    kept_plan = _keep_plan(args, resume)
    if resume is not None and main and kept_plan:
        print(translate("errors.cli.resume_plan", settings=", ".join(f"{k}={v}" for k, v in kept_plan.items())),
              file=sys.stderr)
    c = trainer.config
    if args.log_every is None:
        args.log_every = 1 if trainer.device.type == "cpu" else DEFAULT_GPU_LOG_EVERY
    if not main:
        return _follow(args, trainer, n_steps=_steps_to_run(args, dataset, c))
    n_steps = _steps_to_run(args, dataset, c)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    ds_info = {"name": str(c.dataset), "class_names": list(dataset.class_names), "size": len(dataset)}

    target_step = trainer.step_count + n_steps  # for whoever watches the folder (the training page's ETA)
    plan = {name: getattr(args, name) for name in PLAN_DEFAULTS}

    def save() -> None:
        make_room(out)  # past the quota with every run in use: RunsFull, the last checkpoint as it was
        save_checkpoint(out, trainer, dataset=ds_info, extra={"target_step": target_step, "plan": plan})

    fields = ["step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "images_per_sec", "elapsed"]
    metrics_path = out / "metrics.csv"
    append = resume is not None and metrics_path.is_file()
    if append:  # rows after the checkpoint's step were written before a crash: they are redone now
        trim_metrics_csv(metrics_path, trainer.step_count)
    elif args.overwrite:
        for old in (out / "samples").glob("*.png"):
            old.unlink()
    classes = ClassRecorder.for_run(out, trainer, args.record_classes, resumed=append)
    save()  # the run's config is in the folder from the start: a watching page knows what trains
    status, out_of_time = 0, False
    started = trainer.elapsed  # the checkpoint's training time, when resuming
    with open(metrics_path, "a" if append else "w", newline="") as f, GracefulStop() as stop, InUse(out):
        writer = csv.DictWriter(f, fieldnames=fields)
        if not append:
            writer.writeheader()
        # disable=None: no bar when stderr is not a terminal (a log file would get one line per update)
        bar = tqdm(total=n_steps, desc=f"train {c.preset}", unit="step", file=sys.stderr, disable=None)
        done = 0
        while done < n_steps:
            try:
                reports = _next_block(trainer, args, n_steps - done)
            except TrainingDiverged as exc:
                bar.close()  # the message starts on its own line, not after the progress bar
                print(f"error: {exc}", file=sys.stderr)
                status = 1
                break
            done += len(reports)
            writer.writerows(r.to_dict() for r in reports)
            f.flush()  # metrics.csv is a live record: a crash or a kill loses no row already read
            bar.update(len(reports))
            r = reports[-1]
            bar.set_postfix(loss_d=f"{r.loss_d:.3f}", loss_g=f"{r.loss_g:.3f}", img_s=f"{r.images_per_sec:.0f}")
            if args.sample_every and r.step % args.sample_every == 0:
                save_png(make_grid(trainer.generate()), out / "samples" / f"step_{r.step:06d}.png")
                classes.record(r.step)
            if args.save_every and r.step % args.save_every == 0:
                try:
                    save()
                except ValueError:  # no room (RunsFull, CheckpointError): the message on its own line
                    bar.close()
                    raise
            out_of_time = args.time_limit is not None and trainer.elapsed - started >= args.time_limit
            if _agreed(stop.requested or out_of_time, d):
                break
        bar.close()
    if status:  # a divergence went back to an earlier step: its later rows are not part of the run
        trim_metrics_csv(metrics_path, trainer.step_count)
        classes.trim(trainer.step_count)
    save()
    save_png(make_grid(trainer.generate()), out / "samples" / "final.png")
    if stop.requested:
        name = signal.Signals(stop.signal).name
        print(translate("errors.cli.stopped", signal=name, step=trainer.step_count, out=str(out)), file=sys.stderr)
        return 128 + stop.signal
    if out_of_time:
        print(translate("errors.cli.time_limit_reached", seconds=f"{trainer.elapsed - started:.1f}",
                        step=trainer.step_count), file=sys.stderr)
    print(f"checkpoint written to {out} (step {trainer.step_count})", file=sys.stderr)
    return status


def _report_resume(kept: list[str], changed: dict[str, tuple], saved: dict) -> None:
    """Say which saved settings the resumed run keeps and which the command line changed."""
    if kept:
        settings = ", ".join(f"{name}={_shown(saved[name])}" for name in kept)
        print(translate("errors.cli.resume_kept", settings=settings), file=sys.stderr)
    for name, (before, now) in changed.items():
        print(translate("errors.cli.resume_changed", name=name, saved=_shown(before), now=_shown(now)),
              file=sys.stderr)


def _shown(value) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def _keep_plan(args: argparse.Namespace, resume) -> dict:
    """Fill in the plan flags the command line leaves out: a resumed run's saved plan, else the defaults.

    Returns what was taken from the checkpoint (``{name: value}``, with ``target_step`` when the run
    goes on to its saved target), for the command to say so."""
    saved = dict((resume.config.get("plan") or {}) if resume is not None else {})
    kept = {}
    for name, default in PLAN_DEFAULTS.items():
        if getattr(args, name) is None:
            value = saved.get(name)
            if is_whole(value) and value >= 0:
                kept[name] = value
            setattr(args, name, kept.get(name, default))
    target = resume.config.get("target_step") if resume is not None else None
    if (args.steps is None and not args.epochs and is_whole(target)
            and target > resume.step):
        args.steps = target - resume.step  # an interrupted run finishes what it was started for
        kept["target_step"] = target
    return kept


def _steps_to_run(args: argparse.Namespace, dataset, c) -> int:
    from gan_core.trainer import steps_for_epochs

    if args.steps is not None:
        return args.steps
    return steps_for_epochs(args.epochs, len(dataset), c.batch_size, c.k) if args.epochs else DEFAULT_STEPS


def _next_block(trainer, args: argparse.Namespace, left: int) -> list:
    """The next steps' reports: one step (``--log-every 1``), or up to ``--log-every`` steps run without
    waiting for the device (``Trainer.run_steps``), ending at the next sample or save step."""
    if args.log_every == 1:
        return [trainer.step()]
    n = min(left, args.log_every)
    for every in (args.sample_every, args.save_every):
        if every:
            n = min(n, every - trainer.step_count % every)
    return trainer.run_steps(n)


def _follow(args: argparse.Namespace, trainer, n_steps: int) -> int:
    """A rank other than 0: the same steps as rank 0 (their collectives pair up), writing nothing."""
    from gan_core.trainer import TrainingDiverged

    started, done = trainer.elapsed, 0
    with GracefulStop() as stop:
        while done < n_steps:
            try:
                done += len(_next_block(trainer, args, n_steps - done))
            except TrainingDiverged:  # every rank sees the same (averaged) loss: rank 0 reports it
                return 1
            out_of_time = args.time_limit is not None and trainer.elapsed - started >= args.time_limit
            if _agreed(stop.requested or out_of_time, trainer.distributed):
                break
    return 128 + stop.signal if stop.requested else 0
