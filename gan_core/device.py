"""Device selection (cuda > mps > cpu, overridable) and the CPU thread count."""

from __future__ import annotations

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
