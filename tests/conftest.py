"""What every test shares: one torch thread, and the rule for data a test needs from the machine.

Per-file fixtures build what only that file needs; the shipped assets are read through
``gan_core.paths.ASSETS_DIR`` and are never optional (a missing asset fails its tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from gan_core.data.datasets import FASHION_MNIST_DIRS
from gan_core.device import set_cpu_threads


@pytest.fixture(scope="session", autouse=True)
def one_cpu_thread():
    """The 2 cores are shared with other tests, a server and a browser: with one torch thread no OpenMP
    pool spins against them (spinning on a busy CPU made runs ~20x slower). ``set_cpu_threads`` acts
    once per process, so a ``TrainingRun`` started by a test keeps this too."""
    set_cpu_threads(1)
    torch.set_num_threads(1)
    yield


@pytest.fixture
def debian_fashion_mnist() -> Path:
    """The folder of Debian's ``dataset-fashion-mnist``. Missing, the test skips, except in CI
    (``CI`` set), where ``scripts/test.sh`` installs the package and its absence is a failure."""
    folder = FASHION_MNIST_DIRS[0]
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"Fashion-MNIST is missing in CI ({folder}; scripts/test.sh installs dataset-fashion-mnist)")
        pytest.skip("Debian's dataset-fashion-mnist is not installed here")
    return folder
