"""The ablation study: every run trained the same way but for its ablation, measured, summarised, resumable."""

import json

import pytest

from gan_core.ablation_study import (BASELINE, OUTCOME_FILE, StudyPlan, applicable, load_study, markdown_table,
                                     run_study, steps_to_digits, summarise, verdict, collapse_step)
from gan_core.class_shares import CLASSES_FILE


def test_only_ablations_a_preset_can_take_are_planned():
    assert "no-bn-d" not in applicable(StudyPlan(preset="tf-tutorial"))
    assert "adam-beta1-0.9" not in applicable(StudyPlan(preset="tf-tutorial"))
    assert applicable(StudyPlan(preset="small"))[0] == BASELINE and len(applicable(StudyPlan(preset="small"))) == 8


def test_each_run_differs_from_the_baseline_only_by_its_ablation(tmp_path):
    plan = StudyPlan()
    base, ablated = plan.command(tmp_path, BASELINE, 1), plan.command(tmp_path, "pooling", 1)
    same_folder = [str(plan.folder(tmp_path, BASELINE, 1)) if a == str(plan.folder(tmp_path, "pooling", 1)) else a
                   for a in ablated]
    assert same_folder == base + ["--ablate", "pooling"] and "--seed" in base


def test_steps_to_digits_is_the_first_recorded_step_with_enough_confident_samples(tmp_path):
    header = "step,n,confidence,classes_covered,classes_for_80_percent,largest_class_share,class_0\n"
    (tmp_path / CLASSES_FILE).write_text(header + "100,10,0.9,1,1,1,1\n200,10,0.55,8,7,1,1\n300,10,0.4,8,7,1,1\n")
    assert steps_to_digits(tmp_path) == 200  # a confident blob of one kind at 100 is not digits yet
    (tmp_path / CLASSES_FILE).write_text(header + "100,10,0.2,1,1,1,1\n")
    assert steps_to_digits(tmp_path) is None


def test_a_collapse_during_the_run_counts_even_when_the_end_shows_none(tmp_path):
    header = "step,n,confidence,classes_covered,classes_for_80_percent,largest_class_share,class_0\n"
    rows = "100,10,1.0,1,1,1,1\n200,10,0.2,5,5,1,1\n300,10,0.9,1,1,1,1\n400,10,0.95,1,1,1,1\n500,10,0.0,2,2,1,1\n"
    (tmp_path / CLASSES_FILE).write_text(header + rows)
    assert collapse_step(tmp_path) == 300  # one kind, confident, two readings in a row (100 alone is a blip)
    (tmp_path / CLASSES_FILE).write_text(header + "100,10,0.9,9,8,0.2,1\n")
    assert collapse_step(tmp_path) is None
    s = summarise({"x": {0: {"confidence": 0.0, "fid": 900.0, "steps_to_digits": 200, "mode_reading": "not_learned",
                             "diverged": False, "collapse_step": 200}}})["x"]
    assert s["collapsed"] == 1 and s["not_learned"] == 1


def test_the_summary_counts_divergence_and_collapse_and_spreads_over_seeds():
    run = lambda conf, fid, steps, reading, diverged=False: {  # noqa: E731
        "confidence": conf, "fid": fid, "steps_to_digits": steps, "mode_reading": reading, "diverged": diverged}
    s = summarise({"x": {0: run(0.8, 10.0, 300, "varied"), 1: run(0.6, 30.0, None, "collapsed", True)}})["x"]
    assert s["seeds"] == 2 and s["diverged"] == 1 and s["collapsed"] == 1 and s["not_learned"] == 0
    assert s["confidence"]["mean"] == pytest.approx(0.7) and s["fid"]["sd"] == pytest.approx(14.142, abs=1e-3)
    assert s["steps_to_digits"] == [300, None]
    table = markdown_table({"plan": {"preset": "small", "dataset": "mnist5k", "steps": 9, "seeds": [0, 1]},
                            "summary": {"x": s}})
    assert "| x | 0.70 ± 0.14 | 20.0 ± 14.1 | 300, never | 1/2 | 1/2 | 0/2 | — |" in table


def test_the_verdict_says_same_when_the_seeds_cannot_tell_the_difference():
    def entry(fid_mean, fid_sd, diverged=0, collapsed=0):
        return {"fid": {"mean": fid_mean, "sd": fid_sd}, "diverged": diverged, "collapsed": collapsed,
                "not_learned": 0}

    summary = {BASELINE: entry(20.0, 2.0), "a": entry(23.0, 2.0), "b": entry(40.0, 2.0), "c": entry(12.0, 1.0),
               "d": entry(20.0, 2.0, diverged=1), "e": entry(19.0, 2.0, collapsed=2)}
    assert [verdict(summary, n) for n in "abcde"] == ["same", "worse", "better", "diverged", "collapsed"]


@pytest.mark.slow
def test_a_study_trains_measures_and_continues_where_it_stopped(tmp_path):
    plan = StudyPlan(steps=4, seeds=(0,), sample_every=2, record_classes=20, names=(BASELINE, "relu-d"))
    study = run_study(plan, tmp_path, progress=lambda line: None)
    assert list(study["summary"]) == [BASELINE, "relu-d"]
    for name in (BASELINE, "relu-d"):
        folder = plan.folder(tmp_path, name, 0)
        outcome = json.loads((folder / OUTCOME_FILE).read_text())
        assert outcome["step"] == 4 and 0 <= outcome["confidence"] <= 1 and outcome["fid"] > 0
        saved = json.loads((folder / "config.json").read_text())["model"]["ablations"]
        assert saved == ([] if name == BASELINE else ["relu-d"])
    stamp = (plan.folder(tmp_path, "relu-d", 0) / "metrics.csv").stat().st_mtime_ns
    again = run_study(plan, tmp_path, progress=lambda line: None)  # measured already: nothing retrained
    assert (plan.folder(tmp_path, "relu-d", 0) / "metrics.csv").stat().st_mtime_ns == stamp
    assert again["summary"] == study["summary"] == load_study(tmp_path)["summary"]
