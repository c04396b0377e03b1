"""``python -m gan_core evaluate --two-sample`` and ``--real-vs-real``: the judge from the command line, on a run
trained on one's own images and on a dataset with a classifier."""

from __future__ import annotations

import json
import shutil

import pytest

from gan_core.cli import main
from gan_core.paths import ASSETS_DIR
from helpers import shapes_zip_bytes

JUDGE_KEYS = {"two_sample", "copies", "diversity", "gallery", "judge"}


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.fixture(scope="module")
def own_run(tmp_path_factory):
    """A run trained for 2 steps on a zip of 60 colour images (judged grey at 28 px by the small preset)."""
    folder = tmp_path_factory.mktemp("own")
    data = folder / "my shapes.zip"
    data.write_bytes(shapes_zip_bytes(60))
    run = folder / "run"
    assert main(["train", "--dataset", str(data), "--preset", "small", "--steps", "2", "--batch-size", "8",
                 "--sample-every", "0", "--out", str(run)]) == 0
    return run, data


def test_own_images_run_is_judged_and_the_classifier_metrics_point_at_the_judge(own_run, tmp_path, capsys):
    run, data = own_run
    assert main(["evaluate", "--checkpoint", str(run), "--n", "20"]) == 2
    err = _error(capsys)
    assert "--two-sample" in err and "train-classifier" not in err and str(data) not in err

    out = tmp_path / "judge.json"
    assert main(["evaluate", "--checkpoint", str(run), "--two-sample", "--n", "20", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == result
    assert set(result) == JUDGE_KEYS  # no classifier for these images: the judge alone
    verdict = result["two_sample"]
    assert set(verdict) >= {"accuracy", "ci95", "p_value", "n_test"} and verdict["n_test"] == 20
    assert verdict["ci95"][0] <= verdict["accuracy"] <= verdict["ci95"][1] and 0 <= verdict["p_value"] <= 1
    assert result["judge"]["data"] == str(data) and result["judge"]["checkpoint_step"] == 2


def test_moved_images_are_asked_for_and_data_overrides(own_run, tmp_path, capsys):
    run, data = own_run
    moved_run = tmp_path / "run"
    shutil.copytree(run, moved_run)
    moved = tmp_path / "elsewhere.zip"
    shutil.copy(data, moved)
    config = json.loads((moved_run / "config.json").read_text())
    config["dataset"]["name"] = config["train"]["dataset"] = "cats"  # as a page run on an upload saves it
    (moved_run / "config.json").write_text(json.dumps(config))
    assert main(["evaluate", "--checkpoint", str(moved_run), "--two-sample", "--n", "20"]) == 2
    assert "--data" in _error(capsys)
    assert main(["evaluate", "--checkpoint", str(moved_run), "--two-sample", "--n", "20", "--data", str(moved)]) == 0
    assert json.loads(capsys.readouterr().out)["judge"]["data"] == str(moved)


def test_real_vs_real_is_the_floor(own_run, capsys):
    _, data = own_run
    assert main(["evaluate", "--real-vs-real", "--data", str(data), "--two-sample", "--n", "25",
                 "--image-size", "32", "--channels", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == JUDGE_KEYS and result["judge"]["real_vs_real"] is True
    assert result["two_sample"]["n_test"] == 26  # 12 + 12 train the judge, 13 + 13 test it
    for wrong in (["--real-vs-real", "--data", str(data)],  # without --two-sample
                  ["--real-vs-real", "--two-sample"],  # without --data
                  ["--real-vs-real", "--two-sample", "--data", str(data), "--checkpoint", "x"],
                  ["--two-sample"]):  # nothing to judge
        assert main(["evaluate", *wrong]) == 2
        _error(capsys)
    assert main(["evaluate", "--real-vs-real", "--two-sample", "--data", str(data), "--n", "5"]) == 2
    assert "20" in _error(capsys)


@pytest.mark.slow
def test_a_dataset_with_a_classifier_gets_both_readings(capsys):
    assert main(["evaluate", "--checkpoint", str(ASSETS_DIR / "generator-mnist5k"), "--two-sample", "--n", "40"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert JUDGE_KEYS <= set(result)
    assert {"fid", "fid_floor", "confidence", "classes_covered", "inception_score"} <= set(result)
