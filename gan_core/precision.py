"""Mixed precision for the training step (``--amp``): which number format, and the three places Algorithm 1
needs it (the forward passes, the backward pass, the optimiser step).

- On a GPU with bfloat16 (NVIDIA Ampere and later): the forward passes run in bfloat16 under
  ``torch.autocast``; bfloat16 has float32's range, so gradients need no scaling.
- On an older GPU: float16, whose small range makes small gradients vanish, so each network's loss
  is scaled up before ``backward`` and the gradients scaled back before the step (``GradScaler``,
  one per optimiser; a step whose gradients overflowed is skipped and the scale lowered).
- On a CPU with native bfloat16 (AVX-512 BF16 or AMX): bfloat16, unscaled. Other CPUs (this
  project's 2-core laptop: AVX2) would only emulate it, slower than float32: ``--amp`` keeps
  float32 there and ``Precision.note`` says so.

Losses are computed from D's scores in float32, and WGAN-GP's gradient penalty (a second derivative)
runs in float32 outside autocast. Weights, optimiser moments and checkpoints stay float32.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch


def cpu_has_native_bfloat16() -> bool:
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def gpu_has_bfloat16(device: torch.device) -> bool:
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


@dataclass
class Precision:
    """The number format of the forward passes (None: float32) on ``device_type``, scaled or not."""

    dtype: torch.dtype | None = None
    device_type: str = "cpu"
    scaled: bool = False  # float16: GradScaler
    note: str = ""  # why --amp kept float32 (empty otherwise)
    _scalers: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return "float32" if self.dtype is None else str(self.dtype).removeprefix("torch.")

    def autocast(self):
        """The context of the forward passes (nothing for float32)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def _scaler(self, optimizer: torch.optim.Optimizer) -> torch.amp.GradScaler:
        if id(optimizer) not in self._scalers:
            self._scalers[id(optimizer)] = torch.amp.GradScaler(self.device_type)
        return self._scalers[id(optimizer)]

    def backward(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """``loss.backward()``; for float16 the loss is first scaled by ``optimizer``'s GradScaler."""
        (self._scaler(optimizer).scale(loss) if self.scaled else loss).backward()

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """``optimizer.step()``; for float16 through its GradScaler (unscale, skip on overflow, adapt the scale)."""
        if not self.scaled:
            optimizer.step()
            return
        scaler = self._scaler(optimizer)
        scaler.step(optimizer)
        scaler.update()


FLOAT32_NOTE = "--amp: {capability} has no native bfloat16, so training stays in float32"


def choose_precision(device: torch.device, amp: bool) -> Precision:
    """float32 without ``amp``; with it the fastest safe format of ``device`` (module docstring)."""
    if not amp:
        return Precision()
    if device.type == "cuda":
        if gpu_has_bfloat16(device):
            return Precision(torch.bfloat16, "cuda")
        return Precision(torch.float16, "cuda", scaled=True)
    if device.type == "cpu" and cpu_has_native_bfloat16():
        return Precision(torch.bfloat16, "cpu")
    capability = f"this CPU ({torch.backends.cpu.get_cpu_capability()})" if device.type == "cpu" else device.type
    return Precision(note=FLOAT32_NOTE.format(capability=capability))
