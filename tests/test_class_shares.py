"""classes.csv: the class shares of G's samples along a CLI run (train --record-classes)."""

import numpy as np
import torch

from gan_core.algorithm1 import render, sample_prior
from gan_core.checkpoint import load_checkpoint
from gan_core.class_shares import CLASSES_FILE, read_class_shares
from gan_core.cli import main
from gan_core.evaluation.metrics import load_classifier


def test_record_classes_writes_one_row_per_grid_step_with_the_classifiers_shares(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "mnist5k", "--steps", "6", "--batch-size", "8", "--sample-every", "3",
                 "--save-every", "3", "--record-classes", "40", "--out", str(out)]) == 0
    shares = read_class_shares(out)
    assert list(shares.steps) == [3, 6]
    assert shares.shares.shape == (2, 10)
    np.testing.assert_allclose(shares.shares.sum(axis=1), 1.0, atol=1e-5)
    assert list(shares.summary["n"]) == [40, 40]
    # the last row is the classifier's verdict on G's samples of the recorder's noise (seed + 2)
    ckpt = load_checkpoint(out)
    z = sample_prior(40, ckpt.model_config.latent_dim, "normal", torch.Generator().manual_seed(2))
    labels = load_classifier("mnist5k").probs(render(ckpt.generator, z)).argmax(1)
    expected = torch.bincount(labels, minlength=10).double() / 40
    np.testing.assert_allclose(shares.shares[-1], expected.numpy(), atol=1e-5)

def test_a_resumed_run_continues_classes_csv_after_its_checkpoint_step(tmp_path):
    out = tmp_path / "run"
    common = ["--steps", "4", "--batch-size", "8", "--sample-every", "2", "--record-classes", "20"]
    assert main(["train", "--dataset", "mnist5k", "--save-every", "2", *common, "--out", str(out)]) == 0
    with open(out / CLASSES_FILE, "a") as f:
        f.write("99,20,0.5,1,1,1.0,1.0\n")  # a row after the checkpoint's step (a crash), cut short
    assert main(["train", "--resume", str(out), *common, "--out", str(out)]) == 0
    assert list(read_class_shares(out).steps) == [2, 4, 6, 8]


def test_a_dataset_without_a_classifier_records_nothing_and_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "shapes", "--channels", "3", "--image-size", "32", "--steps", "2",
                 "--batch-size", "8", "--sample-every", "1", "--record-classes", "10", "--out", str(out)]) == 0
    assert "--record-classes" in capsys.readouterr().err
    assert read_class_shares(out) is None


def test_reading_skips_rows_cut_short_not_numbers_or_going_back(tmp_path):
    header = "step,n,confidence,classes_covered,classes_for_80_percent,largest_class_share,class_0,class_1\n"
    (tmp_path / CLASSES_FILE).write_text(header + "1,4,0.5,2,2,0.5,0.5,0.5\n" + "2,4,0.5,2\n" + "3,4,x,2,2,0.5,0.5,0.5\n"
                                         + "1,4,0.5,1,1,1,1,0\n" + "5,4,1,1,1,1,0,1\n")
    shares = read_class_shares(tmp_path)
    assert list(shares.steps) == [1, 5]
    assert shares.shares.tolist() == [[0.5, 0.5], [0.0, 1.0]]
    assert shares.at(4) == 0 and shares.at(0.5) is None
