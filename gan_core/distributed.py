"""Training one model on several processes with PyTorch's own engine: ``torchrun`` + DistributedDataParallel.

    torchrun --nproc_per_node 2 -m gan_core train --dataset mnist5k --out runs/ddp   # one machine
    torchrun --nnodes 2 --node_rank 0 --rdzv-endpoint HOST:29500 --nproc_per_node 4 -m gan_core train ...

torchrun starts one process per GPU (or per CPU share) and tells each its ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; ``from_environment`` joins them into one process group (nccl on CUDA, gloo on CPU).
What changes, and only around Algorithm 1's two updates, not inside them (``gan_core.trainer``):

- ``--batch-size`` is the *global* minibatch m. Every rank draws the same global batch (the same
  seed, the same shuffle each epoch, the same noise) and trains on its own slice of it
  (``rank_slice``): together the ranks see exactly the batch a single process would.
- G and D are wrapped in ``DistributedDataParallel``, which averages their gradients over the ranks
  in the backward pass: with equal slices, the average of the ranks' mean losses is the mean loss
  over the global batch, so each update is the single-process update (to float rounding) — except
  for BatchNorm, below. Every rank starts from the same weights (the same seed; DDP also copies rank
  0's at the start).
- BatchNorm normalises over a batch. ``SyncBatchNorm`` (on by default with more than one rank)
  computes the statistics over the global batch, so a 2-rank run matches a 1-process run. PyTorch
  implements it for GPUs only (on CPU it raises "SyncBatchNorm expected input tensor to be on GPU"),
  so on CPU each rank normalises over its own slice (``sync_batchnorm_available``), and a run with
  BatchNorm is then not the 1-process run, only close to it.
- The numbers a step reports (losses, D(x), D(G(z))) are means over the ranks (``mean_over_ranks``),
  so every rank sees the same values and makes the same decision (a NaN stops all of them at once).
- Only rank 0 writes the run folder (``Distributed.is_main``). A rank that dies makes the others'
  next collective fail (gloo/nccl) or time out after ``timeout_s``: they exit with a sentence, not a hang.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

DEFAULT_TIMEOUT_S = 120.0  # a collective waiting longer than this means another rank is gone


@dataclass(frozen=True)
class Distributed:
    """This process's place in the job (rank 0 of 1 when not started by torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and prints progress."""
        return self.rank == 0


SINGLE = Distributed()


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def from_environment(device: torch.device, timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[Distributed, torch.device]:
    """Join torchrun's process group (if this process was started by it) and pick this rank's device.

    On CUDA each rank takes the GPU ``LOCAL_RANK`` and the nccl backend; otherwise gloo. Without
    torchrun's variables this is a single process: ``(SINGLE, device)``.
    """
    if not launched_by_torchrun():
        return SINGLE, device
    rank, world, local = (int(os.environ[name]) for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    if device.type == "cuda":
        device = torch.device("cuda", local % torch.cuda.device_count())
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timedelta(seconds=timeout_s))
    return Distributed(rank=rank, world_size=world, local_rank=local), device


def shutdown(finished: bool = False) -> None:
    """Leave the process group. ``finished``: every rank got to the end, so first wait for the others
    (rank 0 is still writing the last checkpoint when the others are done, and a rank may not have read
    the last message of a collective that the other has already finished). A rank that leaves (closes its
    connections, or exits) while another still reads from or writes to it makes gloo throw "connection
    closed by peer" or "reset by peer" in that rank's I/O thread, which aborts the process (SIGABRT)."""
    if dist.is_initialized():
        if finished:
            dist.barrier()
        dist.destroy_process_group()


def rank_slice(batch: torch.Tensor, d: Distributed) -> torch.Tensor:
    """This rank's equal share of a global batch (the caller checked that it divides evenly)."""
    if not d.active:
        return batch
    share = len(batch) // d.world_size
    return batch[d.rank * share:(d.rank + 1) * share]


def mean_over_ranks(values: torch.Tensor, d: Distributed) -> torch.Tensor:
    """The element-wise mean of ``values`` over all ranks (one all-reduce), the same on every rank."""
    if not d.active:
        return values
    total = values.detach().clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total / d.world_size


def sync_batchnorm_available(device: torch.device) -> bool:
    """PyTorch's SyncBatchNorm runs on GPUs (CUDA, XPU, HPU) only."""
    return device.type in ("cuda", "xpu", "hpu")


def wrap(module: nn.Module, d: Distributed, device: torch.device, sync_batchnorm: bool) -> nn.Module:
    """``module`` for training on every rank: BatchNorm synchronised when asked and possible, and
    gradients averaged over the ranks by ``DistributedDataParallel``. A single process gets it back as is."""
    if not d.active:
        return module
    if sync_batchnorm and sync_batchnorm_available(device):
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)
