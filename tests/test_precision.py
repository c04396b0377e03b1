"""--amp (gan_core.precision) and the GPU transfers of the training step, checked on the CPU: the choice of
number format for each kind of device (the CUDA branches by their logic), the float16 path with gradient
scaling and the bfloat16 path actually training, and pinned non-blocking copies to a GPU."""

from types import SimpleNamespace

import pytest
import torch

from gan_core import precision as prec
from gan_core.device import to_device
from gan_core.trainer import TrainConfig, Trainer


def fake_dataset(n=64):
    images = torch.rand((n, 1, 28, 28), generator=torch.Generator().manual_seed(0)) * 2 - 1
    return SimpleNamespace(images=images, labels=None, class_names=[])


@pytest.mark.parametrize("device, bf16_gpu, bf16_cpu, expected", [
    ("cuda", True, False, ("bfloat16", False, "")),  # Ampere and later
    ("cuda", False, False, ("float16", True, "")),  # older GPUs: float16, scaled
    ("cpu", False, True, ("bfloat16", False, "")),  # AVX-512 BF16 / AMX
    ("cpu", False, False, ("float32", False, "no native bfloat16")),  # this machine's AVX2
    ("mps", False, False, ("float32", False, "mps has no native bfloat16")),
])
def test_amp_picks_the_fastest_safe_format_of_each_device(monkeypatch, device, bf16_gpu, bf16_cpu, expected):
    monkeypatch.setattr(prec, "gpu_has_bfloat16", lambda d: bf16_gpu)
    monkeypatch.setattr(prec, "cpu_has_native_bfloat16", lambda: bf16_cpu)
    p = prec.choose_precision(torch.device(device), amp=True)
    assert (p.name, p.scaled) == expected[:2]
    assert expected[2] in p.note and bool(p.note) == bool(expected[2])  # a note only when --amp changes nothing
    assert prec.choose_precision(torch.device(device), amp=False).name == "float32"


def test_without_native_bfloat16_amp_trains_exactly_as_float32(monkeypatch):
    monkeypatch.setattr(prec, "cpu_has_native_bfloat16", lambda: False)
    runs = []
    for amp in (False, True):
        t = Trainer(TrainConfig(preset="small", batch_size=16, seed=1, amp=amp), fake_dataset())
        runs.append([t.step().loss_d for _ in range(3)])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("dtype, scaled", [(torch.float16, True), (torch.bfloat16, False)])
def test_the_mixed_precision_paths_train(dtype, scaled):
    """The GPU paths' code, run on the CPU (autocast and GradScaler work there too, slowly)."""
    t = Trainer(TrainConfig(preset="small", batch_size=16, seed=2, loss="wgan-gp" if scaled else "non-saturating"),
                fake_dataset())
    t.algorithm.precision = t.precision = prec.Precision(dtype, "cpu", scaled=scaled)
    before = [p.clone() for p in t.G.parameters()]
    seen = []
    handle = t.D.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    reports = [t.step() for _ in range(3)]
    handle.remove()
    assert dtype in seen  # D's forward passes ran in the reduced format
    assert all(torch.isfinite(torch.tensor([r.loss_d, r.loss_g])).all() for r in reports)
    assert any(not torch.equal(a, b) for a, b in zip(before, t.G.parameters()))  # G learned
    assert all(p.dtype == torch.float32 for p in t.G.parameters())  # weights stay float32
    assert (len(t.precision._scalers) == 2) == scaled  # one GradScaler per optimiser for float16


def test_copies_to_a_gpu_go_through_pinned_memory_without_waiting(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda self: calls.append("pin") or self)
    original_to = torch.Tensor.to

    def recording_to(self, *args, **kwargs):
        calls.append(("to", str(args[0]), kwargs.get("non_blocking", False)))
        return self if str(args[0]).startswith("cuda") else original_to(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", recording_to)
    to_device(torch.zeros(3), torch.device("cuda", 0))
    assert calls == ["pin", ("to", "cuda:0", True)]
    calls.clear()
    to_device(torch.zeros(3), torch.device("cpu"))
    assert calls == [("to", "cpu", False)]
