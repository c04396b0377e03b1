"""AppTest of the training page's judge section (views/_train_judge.py): the Judge button runs the two-sample
judge in the background, the verdict is shown with its words, the report button is there, Cancel stops it;
in both languages. AppTest never fires ``st.fragment(run_every=...)``, so the tests wait on the job itself."""

from __future__ import annotations

import re
import threading

import pytest

from gan_core import i18n
from gan_core.report import build_report, record_from_snapshot
from test_page_train import HANGUL, page, wait_until  # noqa: F401  (page is a fixture)
from views import _train_judge


@pytest.fixture
def paused_run(page, monkeypatch):  # noqa: F811
    """The page with a small mnist5k run paused after a few steps; the judge sees 100 images a side."""
    monkeypatch.setattr(_train_judge, "JUDGE_N", 100)

    def make(lang: str):
        from views import _i18n

        for module in (_i18n, _train_judge):  # AppTest formats options in its own thread
            monkeypatch.setattr(module, "current_language", lambda: lang)
        at = page()
        at.number_input(key="train_batch_small").set_value(16).run()
        at.button(key="train_start").click().run()
        run = at.session_state["train_run"]
        wait_until(lambda: run.snapshot().step >= 5)
        at.button(key="train_pause").click().run()
        return at

    return make


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_judge_runs_in_the_background_and_shows_its_verdict_and_the_report(paused_run, lang):
    i18n.MISSING_KEYS.clear()
    at = paused_run(lang)
    assert at.button(key=_train_judge.START).label == i18n.translate("train.judge.start", lang)
    at.button(key=_train_judge.START).click().run()
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state[_train_judge.JOB]
    assert job.wait(120)
    at.run()  # the poll finds the job ended and reruns the page with the verdict
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    accuracy = float(metrics[i18n.translate("train.judge.accuracy", lang)])
    assert 0.9 <= accuracy <= 1.0  # five steps of training: the judge catches nearly every fake
    lo, hi = (float(x) for x in re.findall(r"\d\.\d+", metrics[i18n.translate("train.judge.interval", lang)]))
    assert lo <= accuracy <= hi
    texts = " ".join([*(m.value for m in at.markdown), *(c.value for c in at.caption)])
    assert i18n.translate("judge.verdict.apart", lang) in texts
    assert i18n.translate("judge.copies_means", lang) in texts and i18n.translate("judge.diversity_means", lang) in texts
    assert len(at.get("imgs")) >= 1 or at.get("image")
    labels = [b.label for b in at.get("download_button")]
    assert i18n.translate("train.judge.report", lang) in labels
    # what that button sends (AppTest does not call it): the live run's report with this verdict
    run, result = at.session_state["train_run"], at.session_state[_train_judge.RESULT]
    report = build_report(record_from_snapshot(run.snapshot(), run.dataset), result, lang)
    assert f"{accuracy:.3f}" in report and i18n.translate("report.title", lang) in report
    assert f'<html lang="{lang}">' in report and report.count("<polyline") == 4
    assert i18n.MISSING_KEYS == set(), i18n.MISSING_KEYS
    if lang == "ko":
        assert HANGUL.search(at.button(key=_train_judge.START).label)


@pytest.mark.slow
def test_cancel_stops_the_judge_and_says_so(paused_run):
    at = paused_run("en")
    at.button(key=_train_judge.START).click().run()
    job = at.session_state[_train_judge.JOB]
    at.button(key=_train_judge.CANCEL).click().run()
    assert job.wait(30)
    at.run()
    assert _train_judge.JOB not in at.session_state
    assert any(i18n.translate("train.judge.cancelled", "en") in i.value for i in at.info)
    assert not at.metric or i18n.translate("train.judge.accuracy", "en") not in [m.label for m in at.metric]
    assert not at.button(key=_train_judge.START).disabled


@pytest.mark.slow
def test_training_goes_on_and_the_page_answers_while_the_judge_works(paused_run, monkeypatch):
    # the judge works on a copy of G in a background job: Resume trains, Pause answers, and the job is
    # neither restarted nor cancelled by either
    release = threading.Event()
    judge = _train_judge.judge_generator

    def held_judge(*args, **kwargs):
        assert release.wait(120)
        return judge(*args, **kwargs)

    monkeypatch.setattr(_train_judge, "judge_generator", held_judge)
    try:
        _judge_while_training(paused_run("en"), release)
    finally:
        release.set()  # a failed check must not leave the job's thread waiting


def _judge_while_training(at, release) -> None:
    at.button(key=_train_judge.START).click().run()
    job, run = at.session_state[_train_judge.JOB], at.session_state["train_run"]
    paused_at = run.snapshot().step
    at.button(key="train_resume").click().run()
    wait_until(lambda: run.snapshot().step >= paused_at + 3)
    at.button(key="train_pause").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert run.snapshot().status == "paused" and not at.button(key="train_resume").disabled
    assert at.session_state[_train_judge.JOB] is job and not job.wait(0)
    release.set()
    assert job.wait(120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert i18n.translate("train.judge.accuracy", "en") in [m.label for m in at.metric]
    assert at.session_state[_train_judge.RESULT].judge["checkpoint_step"] == paused_at
