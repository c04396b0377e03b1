"""A run's memory, estimated before it starts (gan_core.run_cost): above the measured peak, refused past
GAN_MAX_RUN_MB with the largest batch that fits, on the command line and the training page."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gan_core.cli import main
from gan_core.models import ConfigError, default_model_config
from gan_core.run_cost import check_run_cost, run_cost

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys, torch
torch.set_num_threads(1)
from gan_core.data.datasets import load_dataset
from gan_core.trainer import Trainer, TrainConfig

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

preset, size, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ds = load_dataset("mnist5k", image_size=size, channels=1)
open("/proc/self/clear_refs", "w").write("5")  # the peak from here on
before = status("VmRSS")
trainer = Trainer(TrainConfig(preset=preset, image_size=size, batch_size=batch, dataset="mnist5k"), ds, device="cpu")
for _ in range(3):
    trainer.step()
print(json.dumps((status("VmHWM") - before) / 2**20))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc to measure the peak")
@pytest.mark.parametrize("preset,size,batch", [("dcgan", 32, 128), ("small", 28, 512)])
def test_the_estimate_is_above_the_measured_peak_and_not_far_above(preset, size, batch):
    out = subprocess.run([sys.executable, "-c", PROBE, preset, str(size), str(batch)], cwd=REPO, check=True,
                         capture_output=True, text=True, timeout=600)
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    estimate = run_cost(default_model_config(preset, size)).megabytes(batch)
    assert measured < estimate < 2 * measured, (measured, estimate)


def test_the_largest_batch_named_fits_and_one_more_does_not(monkeypatch):
    monkeypatch.setenv("GAN_MAX_RUN_MB", "1000")
    mc = default_model_config("dcgan", 64, 3)
    largest = run_cost(mc).largest_batch(1000)
    assert largest > 1
    check_run_cost(mc, largest)
    with pytest.raises(ConfigError, match=f"the largest batch that fits is {largest}"):
        check_run_cost(mc, largest + 1)


def test_the_cost_grows_with_the_batch_the_image_size_and_the_colour():
    small, dcgan32, dcgan64 = (run_cost(default_model_config(*c)) for c in (("small", 28), ("dcgan", 32),
                                                                            ("dcgan", 64, 3)))
    assert small.megabytes(64) < small.megabytes(128) and dcgan32.per_image_mb < dcgan64.per_image_mb


def test_the_command_line_refuses_a_run_that_cannot_fit_in_one_line(tmp_path, capsys):
    code = main(["train", "--preset", "dcgan", "--image-size", "64", "--channels", "3", "--dataset", "shapes",
                 "--batch-size", "4096", "--steps", "3", "--out", str(tmp_path / "big")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "GAN_MAX_RUN_MB" in err
    largest = run_cost(default_model_config("dcgan", 64, 3)).largest_batch(4096)
    assert f"the largest batch that fits is {largest}" in err


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_training_page_refuses_it_at_start_with_the_largest_batch(monkeypatch, tmp_path, lang):
    from streamlit.testing.v1 import AppTest

    from gan_core.worker import REGISTRY
    from views import _i18n

    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(_i18n, "current_language", lambda: lang)  # AppTest formats options in its own thread
    at = AppTest.from_file(str(REPO / "views" / "train.py"), default_timeout=60)
    at.session_state["lang"] = lang
    for name, value in (("preset", "dcgan"), ("size", "64"), ("batch", "4096"), ("steps", "3")):
        at.query_params[name] = value
    at.run()
    at.button(key="train_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    largest = run_cost(default_model_config("dcgan", 64, 1)).largest_batch(4096)
    errors = [e.value for e in at.error if f"{largest:,}" in e.value]
    assert len(errors) == 1 and "GAN_MAX_RUN_MB" in errors[0]
    assert lang == "en" or re.search(r"[\uac00-\ud7a3]", errors[0])
    assert REGISTRY.active() == [] and "train_run" not in at.session_state
