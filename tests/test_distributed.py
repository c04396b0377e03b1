"""Training on several processes (issue 17): torchrun / DistributedDataParallel on CPU with gloo, 2 ranks.

- Ranks end with the same weights (reuse_fake at k = 1; k = 2 with WGAN-GP's double backward).
- Without BatchNorm, 2 ranks on the global batch match 1 process to float tolerance: the data and
  noise slices and the gradient average are exact. With BatchNorm they cannot on CPU: PyTorch's
  SyncBatchNorm is GPU-only (checked below), so each rank normalises over its own slice.
- ``torchrun --nproc_per_node 2 -m gan_core train``: rank 0 alone writes the folder (one header, one
  row per step), ``--resume`` continues under torchrun, a batch that does not split is refused.
- A rank that dies makes the other exit with a sentence and exit code 3, not hang.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from gan_core.data.datasets import ImageDataset

ROOT = Path(__file__).resolve().parents[1]
NO_BN = "test-no-batchnorm"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dataset(n: int = 64) -> ImageDataset:
    images = torch.rand((n, 1, 28, 28), generator=torch.Generator().manual_seed(5)) * 2 - 1
    return ImageDataset("random", images, None, [])


def _register_no_batchnorm_preset() -> None:
    """A preset without BatchNorm (registered in the worker processes only, never in pytest's)."""
    from gan_core.models import PRESETS, Discriminator, Generator, Preset, Reshape, TrainDefaults, register_preset

    if NO_BN in PRESETS:
        return
    register_preset(Preset(
        NO_BN, "an MLP GAN without BatchNorm", (28,),
        TrainDefaults(batch_size=16, lr=1e-3, betas=(0.5, 0.999), latent_dim=8, ngf=8, ndf=8),
        lambda c: Generator(c, nn.Sequential(nn.Linear(c.latent_dim, 64), nn.ReLU(), nn.Linear(64, 784), nn.Tanh(),
                                             Reshape(1, 28, 28))),
        lambda c: Discriminator(c, nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1)))))


def _train_worker(rank: int, world: int, port: int, config_kwargs: dict, steps: int, out: str) -> None:
    """One rank: join the gloo group, train ``steps`` steps, save this rank's weights to ``out``."""
    import torch.distributed as dist

    from gan_core.distributed import Distributed, shutdown
    from gan_core.trainer import TrainConfig, Trainer

    torch.set_num_threads(1)
    _register_no_batchnorm_preset()
    d = Distributed(rank=rank, world_size=world, local_rank=rank)
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    trainer = Trainer(TrainConfig(**config_kwargs), _dataset(), device="cpu", distributed=d)
    reports = [trainer.step() for _ in range(steps)]
    # Parameters, not buffers: BatchNorm's running statistics are each rank's own between forwards (DDP
    # copies rank 0's at the start of every forward; rank 0's are the ones saved and sampled from).
    params = {net: {name: p.detach().clone() for name, p in module.named_parameters()}
              for net, module in (("G", trainer.G), ("D", trainer.D))}
    torch.save({**params,
                "loss_d": [r.loss_d for r in reports], "images_seen": trainer.images_seen}, f"{out}/rank{rank}.pt")
    # As the command line leaves: all ranks meet first. A rank that closed its connections while the other
    # still read its last message made the other's gloo I/O thread throw, and that rank ended on SIGABRT.
    shutdown(finished=True)


def _run(world: int, config_kwargs: dict, steps: int, out: Path) -> list[dict]:
    port = _free_port()
    ctx = mp.get_context("spawn")
    processes = [ctx.Process(target=_train_worker, args=(r, world, port, config_kwargs, steps, str(out)))
                 for r in range(world)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=180)
        assert p.exitcode == 0, f"a rank failed (exit code {p.exitcode})"
    return [torch.load(out / f"rank{r}.pt") for r in range(world)]


def _assert_same(a: dict, b: dict, exact: bool = True) -> None:
    for net in ("G", "D"):
        for name, tensor in a[net].items():
            if exact:
                assert torch.equal(tensor, b[net][name]), f"{net}.{name} differs"
            else:
                torch.testing.assert_close(tensor, b[net][name], rtol=1e-4, atol=1e-5, msg=f"{net}.{name}")


@pytest.mark.slow
@pytest.mark.parametrize("settings", [
    dict(preset="small", batch_size=16),  # BatchNorm, reuse_fake (k = 1)
    dict(preset="small", batch_size=16, k=2, loss="wgan-gp"),  # fresh noise, the penalty's double backward
])
def test_two_ranks_keep_the_same_weights(tmp_path, settings):
    ranks = _run(2, dict(dataset="random", seed=3, **settings), steps=4, out=tmp_path)
    _assert_same(ranks[0], ranks[1])
    assert ranks[0]["loss_d"] == ranks[1]["loss_d"]  # the reported numbers are means over the ranks
    assert ranks[0]["images_seen"] == 4 * settings.get("k", 1) * 16  # the global batch, counted once


@pytest.mark.slow
def test_two_ranks_match_one_process_without_batchnorm(tmp_path):
    config = dict(preset=NO_BN, dataset="random", batch_size=16, seed=1, ema=0.0)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    single = _run(1, config, steps=5, out=tmp_path / "one")[0]
    ranks = _run(2, config, steps=5, out=tmp_path / "two")
    _assert_same(ranks[0], single, exact=False)
    assert ranks[0]["loss_d"] == pytest.approx(single["loss_d"], rel=1e-4)


def test_sync_batchnorm_is_gpu_only_in_pytorch_so_cpu_ranks_normalise_their_own_slice():
    from gan_core.distributed import sync_batchnorm_available

    assert not sync_batchnorm_available(torch.device("cpu")) and sync_batchnorm_available(torch.device("cuda", 0))
    source = Path(torch.nn.modules.batchnorm.__file__).read_text()
    assert "SyncBatchNorm expected input tensor to be on GPU" in source  # what PyTorch raises on CPU


def test_a_batch_that_does_not_split_over_the_ranks_is_refused_with_a_sentence():
    from gan_core.distributed import Distributed
    from gan_core.models import ConfigError
    from gan_core.trainer import TrainConfig, Trainer

    with pytest.raises(ConfigError, match="does not split evenly over 2 processes"):
        Trainer(TrainConfig(dataset="random", batch_size=15), _dataset(), device="cpu",
                distributed=Distributed(rank=0, world_size=2))


def test_rank_slices_cover_the_global_batch_once():
    from gan_core.distributed import Distributed, rank_slice

    batch = torch.arange(12)
    parts = [rank_slice(batch, Distributed(rank=r, world_size=3)) for r in range(3)]
    assert torch.equal(torch.cat(parts), batch)


def _torchrun(args: list[str], timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GAN_CPU_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), "-m", "gan_core", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_torchrun_trains_one_run_written_by_rank_0_alone_and_resumes(tmp_path):
    from gan_core.checkpoint import load_checkpoint

    out = tmp_path / "run"
    common = ["--dataset", "digits", "--batch-size", "16", "--sample-every", "2", "--out", str(out)]
    first = _torchrun(["train", "--steps", "4", *common])
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stderr.count("checkpoint written to") == 1  # rank 0 prints, rank 1 does not
    rows = (out / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,") and [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["final.png", "step_000002.png", "step_000004.png"]
    assert load_checkpoint(out).step == 4
    again = _torchrun(["train", "--steps", "2", "--log-every", "2", "--resume", str(out), *common])
    assert again.returncode == 0, again.stderr[-2000:]
    assert load_checkpoint(out).step == 6
    assert [r.split(",")[0] for r in (out / "metrics.csv").read_text().splitlines()[1:]] == [str(i) for i in range(1, 7)]


def _cli_rank(rank: int, port: int, args: list[str], die_at_step: int | None, result: str) -> None:
    """A rank running the real command line; ``die_at_step``: this rank vanishes at that step (os._exit)."""
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE="2",
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GAN_CPU_THREADS="1")
    from gan_core import trainer as trainer_module
    from gan_core.cli import main

    if die_at_step is not None:
        step = trainer_module.Trainer.step

        def dying_step(self):
            if self.step_count + 1 == die_at_step:
                os._exit(9)
            return step(self)

        trainer_module.Trainer.step = dying_step
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(args)
    Path(result).write_text(f"{code}\n{err.getvalue()}")


@pytest.mark.slow
def test_a_rank_that_dies_makes_the_other_exit_with_a_sentence_not_hang(tmp_path):
    from gan_core.checkpoint import load_checkpoint

    out = tmp_path / "run"
    args = ["train", "--dataset", "digits", "--steps", "50", "--batch-size", "16", "--save-every", "2",
            "--sample-every", "0", "--dist-timeout", "20", "--out", str(out)]
    port = _free_port()
    ctx = mp.get_context("spawn")
    survivor = ctx.Process(target=_cli_rank, args=(0, port, args, None, str(tmp_path / "rank0.txt")))
    victim = ctx.Process(target=_cli_rank, args=(1, port, args, 5, str(tmp_path / "rank1.txt")))
    survivor.start()
    victim.start()
    victim.join(timeout=120)
    survivor.join(timeout=120)
    assert victim.exitcode == 9 and survivor.exitcode == 0  # the survivor returned (it did not hang)
    code, message = (tmp_path / "rank0.txt").read_text().split("\n", 1)
    assert code == "3" and "another process of this torchrun job stopped answering" in message, message
    assert f"--resume {out}" in message
    assert load_checkpoint(out).step in (2, 4)  # the last save before the rank vanished is intact
