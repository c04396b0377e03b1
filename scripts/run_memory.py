"""The peak memory of a few training steps of one configuration, over the process before the run:
the measurements behind ``gan_core.run_cost`` (BENCHMARKS.md, "What a run costs"). Linux only (it
resets and reads the process's peak resident memory in /proc).

    python scripts/run_memory.py PRESET SIZE BATCH CHANNELS
    e.g. python scripts/run_memory.py dcgan 64 256 3
"""

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan_core.data.datasets import load_dataset  # noqa: E402
from gan_core.models import default_model_config  # noqa: E402
from gan_core.run_cost import run_cost  # noqa: E402
from gan_core.trainer import TrainConfig, Trainer  # noqa: E402


def status(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def main() -> None:
    preset, size, batch, channels = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(1)
    dataset = load_dataset("shapes" if channels == 3 else "mnist5k", image_size=size, channels=channels)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak from here on
    before = status("VmRSS")
    config = TrainConfig(preset=preset, image_size=size, channels=channels, batch_size=batch, dataset=dataset.name)
    trainer = Trainer(config, dataset, device="cpu")
    for _ in range(3):
        trainer.step()
    measured = (status("VmHWM") - before) / 2**20
    estimate = run_cost(default_model_config(preset, size, channels)).megabytes(batch)
    print(json.dumps({"preset": preset, "size": size, "channels": channels, "batch": batch,
                      "measured_mb": round(measured, 1), "estimate_mb": round(estimate, 1),
                      "ratio": round(estimate / measured, 2)}))


if __name__ == "__main__":
    main()
