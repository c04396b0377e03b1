"""The report to hand in (gan_core.report, ``python -m gan_core report``): one self-contained HTML file, in both
languages, with no external reference, within the size bound, with a command that reproduces the run."""

from __future__ import annotations

import html
import re
import shlex

import numpy as np
import pytest
import torch

from gan_core.cli import build_parser, main
from gan_core.evaluation.two_sample import JudgeConfig, two_sample_test
from gan_core.i18n import translate
from gan_core.report import MAX_BYTES, RunRecord, build_report, report_bytes, train_command

EXTERNAL = re.compile(r"https?:|//[a-z0-9]|<link|<script|url\(|@import|src=\"(?!data:)", re.IGNORECASE)
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    assert main(["train", "--dataset", "mnist5k", "--preset", "small", "--steps", "12", "--batch-size", "16",
                 "--sample-every", "4", "--seed", "3", "--out", str(out)]) == 0
    return out


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_report_of_a_run_is_one_offline_file_in_each_language(run, tmp_path, lang, capsys):
    out = tmp_path / f"report-{lang}.html"
    assert main(["report", "--checkpoint", str(run), "--out", str(out), "--lang", lang, "--n", "40"]) == 0
    text = out.read_text(encoding="utf-8")
    assert len(out.read_bytes()) <= MAX_BYTES
    outside = EXTERNAL.search(DATA_URI.sub("data:", text))
    assert not outside, outside
    assert f'<html lang="{lang}">' in text and translate("report.title", lang) in text
    for key in ("report.command", "report.curves", "report.timelapse", "report.judge", "report.copies",
                "report.diversity", "report.machine"):
        assert translate(key, lang) in text, key
    command = re.search(r"python -m gan_core train --dataset mnist5k --preset small --steps 12 [^<]*", text)
    assert command and "--seed 3 " in command.group(0) and "--batch-size 16 " in command.group(0)
    assert text.count("<svg") == 2 and text.count("<polyline") == 4  # losses, D(x) and D(G(z))
    assert text.count('src="data:image/png;base64,') >= 3 + 8 + 8  # grid, timelapse, gallery
    assert html.escape(translate("report.command_data", lang, name="mnist5k")) not in text  # a registered name
    assert html.escape(translate("report.classifier", lang)) in text  # mnist5k has a classifier: its numbers beside the judge's
    assert html.escape(translate("report.confidence", lang)) in text and html.escape(translate("report.fid", lang)) in text
    accuracy = re.search(r"(\d\.\d{3}) \(95%", text) if lang == "en" else re.search(r"(\d\.\d{3}) \(95% 구간", text)
    assert accuracy, "the judge's accuracy is in the report"
    assert "error" not in capsys.readouterr().err.lower()


def test_the_reproducing_command_parses_back_to_the_runs_settings():
    config = {"preset": "small", "dataset": "/home/me/my cats.zip", "image_size": 32, "channels": 3,
              "latent_dim": 64, "batch_size": 32, "k": 2, "loss": "hinge", "lr_d": 0.0004, "lr_g": 0.0001,
              "betas_d": [0.0, 0.9], "betas_g": [0.0, 0.9], "prior": "uniform", "label_smoothing": 0.1, "ema": 0.0,
              "shift": 2, "seed": 7, "reuse_fake": False, "ngf": None}
    argv = shlex.split(train_command(config, 1500, out="runs/again"))
    assert argv[:4] == ["python", "-m", "gan_core", "train"]
    args = build_parser().parse_args(argv[3:])
    assert (args.dataset, args.preset, args.steps, args.out) == ("/home/me/my cats.zip", "small", 1500, "runs/again")
    assert (args.image_size, args.channels, args.batch_size, args.k, args.loss) == (32, 3, 32, 2, "hinge")
    assert (args.lr_d, args.lr_g, args.beta1, args.prior, args.label_smoothing) == (0.0004, 0.0001, 0.0, "uniform", 0.1)
    assert (args.ema, args.shift, args.seed, args.reuse_fake, args.ngf) == (0.0, 2, 7, False, None)


def test_a_64px_colour_run_with_incompressible_grids_stays_under_the_bound():
    rng = np.random.default_rng(0)
    noise = lambda: rng.integers(0, 256, (530, 530, 3), dtype=np.uint8)  # noqa: E731  an 8x8 grid of 64 px
    steps = np.arange(1, 2001)
    history = {"step": steps, "loss_d": np.ones(2000), "loss_g": np.ones(2000), "d_real": np.full(2000, 0.6),
               "d_fake": np.full(2000, 0.4), "elapsed": steps * 0.5}
    record = RunRecord({"preset": "dcgan", "dataset": "photos.zip"}, {"name": "photos", "size": 20000}, 64, 3,
                       2000, history, [(s, noise()) for s in range(250, 2001, 250)], "cpu", 1000.0)
    real = torch.randint(0, 256, (40, 3, 64, 64), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    judge = two_sample_test(real, real.flip(0) // 2, real, JudgeConfig(n=40, epochs=1))
    for lang in ("en", "ko"):
        data = report_bytes(build_report(record, judge, lang, final_grid=noise()))
        assert len(data) <= MAX_BYTES
        # photos.zip was an upload (no such file here): the report says to give its path
        assert html.escape(translate("report.command_data", lang, name="photos.zip")).encode() in data
        assert data.count(b"<figure><img") >= 2  # some timelapse frames kept


def test_an_oversize_report_is_refused_in_one_sentence():
    with pytest.raises(ValueError, match="MB"):
        report_bytes("x" * (MAX_BYTES + 1))
