"""Device selection (cuda > mps > cpu, overridable), the CPU thread count, and one thread for tiny networks."""

from __future__ import annotations

import contextlib
import functools
import os

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
_threads_set = False


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """Device names usable on this machine, best first ("cpu" is always last)."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    found.append("cpu")
    return found


def select_device(preference: str = "auto") -> torch.device:
    """Return the device to train on.

    ``"auto"`` (or the ``GAN_DEVICE`` environment variable) picks cuda, then mps, then cpu.
    Asking for a device that is not present raises ``ValueError`` with a clear message.
    """
    preference = (preference or "auto").lower()
    if preference == "auto":
        preference = os.environ.get("GAN_DEVICE", "auto").lower()
    if preference == "auto":
        return torch.device(available_devices()[0])
    if preference not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {preference!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if preference not in available_devices():
        raise ValueError(f"device {preference!r} is not available here (available: {', '.join(available_devices())})")
    return torch.device(preference)


def set_cpu_threads(n: int | None = None) -> int:
    """Set torch's intra-op CPU thread count once per process; returns the count in force.

    ``n=None`` uses ``GAN_CPU_THREADS`` or the number of CPU cores. Later calls are no-ops,
    because changing the pool while another thread trains is unsafe.
    """
    global _threads_set
    if not _threads_set:
        if n is None:
            n = int(os.environ.get("GAN_CPU_THREADS", "0")) or (os.cpu_count() or 1)
        torch.set_num_threads(max(1, n))
        _threads_set = True
    return torch.get_num_threads()


@functools.cache
def _thread_count_is_per_thread() -> bool:
    # With torch's OpenMP backend, set_num_threads changes only the calling thread's count.
    return "parallel backend: OpenMP" in torch.__config__.parallel_info()


@contextlib.contextmanager
def single_thread():
    """Run torch on one thread inside this block, for the calling thread only.

    The 1-D networks are tiny: on a busy 2-core CPU, handing each matmul to a second OpenMP
    thread made a training step ~20x slower. The count is restored afterwards; with a torch
    build whose thread count is process-wide this does nothing (other threads may be training)."""
    if not _thread_count_is_per_thread():
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A CPU tensor on ``device``. To a CUDA GPU it goes through pinned (page-locked) memory with
    ``non_blocking=True``: the host does not wait for the copy (a copy from ordinary memory makes it
    wait for the GPU's queue to drain, every step). Elsewhere a plain ``.to``."""
    if device.type == "cuda" and t.device.type == "cpu":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)
