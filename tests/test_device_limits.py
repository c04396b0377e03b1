"""Device selection (cuda > mps > cpu, overridable) and the limits' environment overrides."""

import pytest
import torch

from gan_core import device as dev
from gan_core.limits import Limits, get_limits


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv("GAN_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(dev, "_mps_available", lambda: True)
    assert dev.select_device("auto").type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dev.select_device("auto").type == "mps"
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    assert dev.select_device("auto").type == "cpu"
    assert dev.available_devices() == ["cpu"]


def test_override_by_argument_or_environment(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    assert dev.select_device("cpu").type == "cpu"
    monkeypatch.setenv("GAN_DEVICE", "cpu")
    assert dev.select_device("auto").type == "cpu"
    with pytest.raises(ValueError, match="not available"):
        dev.select_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        dev.select_device("tpu")


def test_thread_count_is_set_once():
    n = dev.set_cpu_threads()
    assert n >= 1 and dev.set_cpu_threads(n + 5) == n


def test_limits_read_the_environment(monkeypatch):
    assert get_limits() == Limits()
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "3")
    monkeypatch.setenv("GAN_MAX_IMAGE_PIXELS", "1000")
    lim = get_limits()
    assert lim.max_concurrent_runs == 3 and lim.max_image_pixels == 1000
    monkeypatch.setenv("GAN_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ValueError, match="GAN_MAX_UPLOAD_MB"):
        get_limits()
