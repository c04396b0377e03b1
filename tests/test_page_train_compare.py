"""AppTest of the training page's compare view: the baseline and one broken DCGAN guideline side by
side from a study made by the real command (``python -m gan_core ablation-study``), one slider for both,
the measured table, the link ``/train?mode=compare&ablate=NAME``, both languages; and the live half
(``&compare=live``): Start both trains the pair with one setting different, Pause / Resume / Stop both,
another guideline or Reset ends both, and a server without two free slots starts neither.

AppTest never fires ``st.fragment(run_every=...)``: the tests wait on the runs, then run the page again."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core import i18n
from gan_core.ablation_study import BASELINE, StudyPlan, run_study, ship_study
from helpers import wait_until

PAGE = str(Path(__file__).resolve().parents[1] / "views" / "train.py")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("study")
    plan = StudyPlan(steps=6, seeds=(0,), sample_every=2, record_classes=20, names=(BASELINE, "relu-d", "pooling"))
    run_study(plan, root / "runs", progress=lambda line: None)
    return ship_study(root / "runs", root / "shipped")


def compare_page(monkeypatch, folder: Path, lang: str = "en", ablate: str | None = None,
                 source: str | None = None) -> AppTest:
    from views import _i18n

    monkeypatch.setenv("GAN_ABLATION_STUDY", str(folder))
    monkeypatch.setattr(_i18n, "current_language", lambda: lang)  # AppTest formats options in its own thread
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lang"] = lang
    at.query_params["mode"] = "compare"
    if ablate:
        at.query_params["ablate"] = ablate
    if source:
        at.query_params["compare"] = source
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in at.metric:
        out.setdefault(m.label, []).append(m.value)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_link_opens_the_ablation_beside_the_baseline_and_one_slider_moves_both(monkeypatch, study, lang):
    i18n.MISSING_KEYS.clear()
    at = compare_page(monkeypatch, study, lang, ablate="pooling")
    assert i18n.MISSING_KEYS == set(), i18n.MISSING_KEYS
    assert at.selectbox(key="train_compare_ablation").value == "pooling"
    # the menu names each ablation in a few words (the whole sentence did not fit the box on a projector)
    assert at.selectbox(key="train_compare_ablation").options == [
        i18n.translate(f"ablations.short.{n}", lang) for n in ("relu_d", "pooling")]
    shown = " ".join(m.value for m in at.markdown)
    assert i18n.translate("train.compare.baseline", lang) in shown
    assert i18n.translate("ablations.pooling", lang) in shown
    confident = metrics(at)[i18n.translate("train.compare.confidence", lang)]
    assert len(confident) == 2  # one reading per side
    assert len(at.get("imgs")) >= 2 or len(at.get("image")) >= 2
    slider = at.slider(key="train_compare_step")
    assert slider.value == 6  # opens on the end of the runs
    at.slider(key="train_compare_step").set_value(1).run()  # before the first recorded step (2): no reading yet
    assert metrics(at)[i18n.translate("train.compare.confidence", lang)] == ["–", "–"]
    at.slider(key="train_compare_step").set_value(4).run()
    assert all(v != "–" for v in metrics(at)[i18n.translate("train.compare.confidence", lang)])
    table = at.dataframe[0].value
    assert len(table) == 3 and list(table.iloc[:, 0])[0] == i18n.translate("train.compare.baseline_short", lang)
    assert i18n.translate("ablations.short.pooling", lang) in list(table.iloc[:, 0])
    if lang == "ko":
        assert HANGUL.search(at.selectbox(key="train_compare_ablation").label)
        assert all(HANGUL.search(str(c)) for c in table.columns if c != "FID")
    at.selectbox(key="train_compare_ablation").set_value("relu-d").run()
    assert i18n.translate("ablations.relu_d", lang) in " ".join(m.value for m in at.markdown)


def test_without_the_shipped_study_the_view_says_how_to_make_it(monkeypatch, tmp_path):
    at = compare_page(monkeypatch, tmp_path / "nothing-here")
    assert any("python -m gan_core ablation-study" in i.value for i in at.info)


def test_a_link_naming_an_unknown_ablation_is_a_notice_not_an_error(monkeypatch, study):
    at = compare_page(monkeypatch, study, ablate="no-such-guideline")
    assert at.selectbox(key="train_compare_ablation").value in ("relu-d", "pooling")


def test_while_playing_a_step_the_page_showed_a_moment_ago_is_an_echo_not_a_scrub(monkeypatch, study):
    """The browser's refresh requests carry the slider's value when sent; one sent before the last refresh
    arrived brings back a step the page itself showed. Taken for a scrub, it sent the replay back and forth
    between two steps (seen in Chromium); a step the page never showed is still a scrub."""
    at = compare_page(monkeypatch, study, ablate="pooling")
    at.selectbox(key="train_compare_seconds").set_value(10).run()  # 6 steps in 10 s
    at.button(key="train_compare_play").click().run()  # from the end: starts again at 0
    assert at.slider(key="train_compare_step").value == 0
    at.session_state["train_compare_anchor"] = (time.monotonic() - 5.0, 0.0)  # 5 s into the play: step 3
    at.run()
    assert at.slider(key="train_compare_step").value == 3
    at.slider(key="train_compare_step").set_value(0).run()  # the echo of the first refresh
    assert at.slider(key="train_compare_step").value == 3 and at.button(key="train_compare_play").label == "Pause"
    captions = [i.caption for im in at.get("image") for i in im.proto.imgs]
    assert captions == [i18n.translate("train.generated", "en", step="2")] * 2  # both sides' newest grid by step 3
    at.slider(key="train_compare_step").set_value(5).run()  # a real scrub: plays on from there
    assert at.slider(key="train_compare_step").value == 5 and at.button(key="train_compare_play").label == "Pause"


# --- the lecture's model on Fashion-MNIST: how many kinds it generates over the run (issue 31, item 5) -----

def recorded_with_classes(out: Path) -> Path:
    """A real small recording with classes.csv: the command line as the Fashion-MNIST recording was made."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "gan_core", "train", "--preset", "small", "--dataset", "mnist5k",
                    "--steps", "6", "--sample-every", "2", "--record-classes", "40", "--batch-size", "16",
                    "--threads", "1", "--out", str(out)], cwd=Path(PAGE).parents[1], check=True,
                   capture_output=True, timeout=600)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_replay_offers_the_fashion_recording_and_shows_the_kinds_it_generates(monkeypatch, tmp_path, lang):
    from views import _i18n

    lecture = recorded_with_classes(tmp_path / "lecture")
    (lecture / "classes.csv").unlink()  # the digits' recording was made before classes.csv existed
    fashion = recorded_with_classes(tmp_path / "fashion")
    monkeypatch.setenv("GAN_LECTURE_RECORDING", str(lecture))
    monkeypatch.setenv("GAN_LECTURE_RECORDING_FASHION_MNIST", str(fashion))
    monkeypatch.setattr(_i18n, "current_language", lambda: lang)
    i18n.MISSING_KEYS.clear()
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lang"] = lang
    at.query_params["mode"] = "replay"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    kinds_title = i18n.translate("train.replay.kinds_title", lang)
    assert not [s for s in at.subheader if s.value == kinds_title]  # the digits' recording has no classes.csv
    captions = lambda: [c.value for c in at.caption]  # noqa: E731
    assert i18n.translate("train.replay.intro", lang) in captions()
    at.radio(key="train_replay_recording").set_value("fashion-mnist").run()
    assert [s for s in at.subheader if s.value == kinds_title]
    # the words above the player are about the recording chosen (the digits' said "5,000 digits")
    assert i18n.translate("train.replay.intro_fashion_mnist", lang) in captions()
    assert i18n.translate("train.replay.intro", lang) not in captions()
    reading = [m.value for m in at.markdown if "80%" in m.value]
    assert len(reading) == 1 and "6" in reading[0]  # at the end of the run: step 6
    from gan_core.class_shares import read_class_shares
    from gan_core.evaluation.metrics import mode_reading

    last = read_class_shares(fashion).summary
    few, confidence = int(last["classes_for_80_percent"][-1]), float(last["confidence"][-1])
    assert f"{few}" in reading[0] and f"{round(100 * confidence)}%" in reading[0]
    verdict = mode_reading({"classes_for_80_percent": few, "confidence": confidence})  # in words, as the live page
    assert i18n.translate(f"train.mode_reading.{verdict}", lang, classes=few, n=10, confidence=round(100 * confidence),
                          largest=round(100 * float(last["largest_class_share"][-1]))) in reading[0]
    at.slider(key="train_replay_step").set_value(1).run()  # before the first reading
    assert i18n.translate("train.replay.kinds_not_yet", lang) in [c.value for c in at.caption]
    assert i18n.MISSING_KEYS == set(), i18n.MISSING_KEYS
    if lang == "ko":
        assert HANGUL.search(at.radio(key="train_replay_recording").options[1])


# --- the live half: both runs trained now (issue 31, item 2) -------------------------------------------

@pytest.fixture
def live_page(monkeypatch, tmp_path):
    """The compare view on "Train both live"; every pair a test started is closed afterwards."""
    from gan_core.worker import REGISTRY

    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path / "runs"))
    made: list[AppTest] = []

    def make(lang: str = "en", slots: int = 1, ablate: str = "relu-d") -> AppTest:
        from views import _train_compare_live

        monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", str(slots))
        # the study's recipe, with classifier readings every 10 steps: a short run shows them
        monkeypatch.setattr(_train_compare_live, "PLAN", StudyPlan(sample_every=10))
        made.append(compare_page(monkeypatch, tmp_path / "no-study", lang, ablate=ablate, source="live"))
        return made[-1]

    yield make
    pairs = [at.session_state["train_compare_pair"] for at in made if "train_compare_pair" in at.session_state]
    assert all([pair.close() for pair in pairs])
    wait_until(lambda: REGISTRY.active() == [], 30)


def config_differences(a, b) -> set[str]:
    import dataclasses

    return {f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_start_both_trains_the_pair_side_by_side_and_stop_ends_both(live_page, lang):
    i18n.MISSING_KEYS.clear()
    at = live_page(lang)
    assert at.radio(key="train_compare_source").value == "live"
    assert at.number_input(key="train_compare_live_steps").value == StudyPlan().steps  # the study's recipe
    assert "train_compare_step" not in at.session_state  # no replay slider
    at.number_input(key="train_compare_live_steps").set_value(30).run()
    at.button(key="train_compare_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    pair = at.session_state["train_compare_pair"]
    baseline, ablated = pair.runs
    # the same seed, data and settings, one guideline different; one CPU thread in each run's process
    assert config_differences(baseline.config, ablated.config) == {"ablations"}
    assert baseline.config.ablations == () and ablated.config.ablations == ("relu-d",)
    assert baseline.config.seed == ablated.config.seed == StudyPlan().seeds[0]
    assert baseline.dataset is ablated.dataset and baseline.dataset.name == "mnist5k"
    assert baseline.cpu_threads == ablated.cpu_threads == 1
    assert baseline.process_id != ablated.process_id
    from gan_core.worker import REGISTRY

    assert len(REGISTRY.active()) == 1  # the server allows one run: the pair shares its slot
    assert at.button(key="train_compare_start").disabled and not at.button(key="train_compare_stop").disabled
    wait_until(lambda: pair.statuses() == ("finished", "finished"), 300)
    at.run()  # AppTest never fires the fragment's timer: draw again
    shown = " ".join(m.value for m in at.markdown)
    assert i18n.translate("train.compare.baseline", lang) in shown and i18n.translate("ablations.relu_d", lang) in shown
    confident = metrics(at)[i18n.translate("train.compare.confidence", lang)]
    assert len(confident) == 2 and all(v != "–" for v in confident)  # both sides' classifier readings
    covered = metrics(at)[i18n.translate("train.compare.classes", lang)]
    assert all(v.endswith("/ 10") for v in covered)
    captions = [i.caption for im in at.get("image") for i in im.proto.imgs]
    assert captions == [i18n.translate("train.generated", lang, step="30")] * 2  # the same step on both sides
    assert i18n.MISSING_KEYS == set(), i18n.MISSING_KEYS
    if lang == "ko":
        assert HANGUL.search(at.button(key="train_compare_start").label)
        assert HANGUL.search(at.radio(key="train_compare_source").options[1])
    assert not at.button(key="train_compare_start").disabled  # both finished: the page was redrawn
    # a new, longer pair, then Stop both ends both at once
    at.number_input(key="train_compare_live_steps").set_value(5000).run()
    at.button(key="train_compare_start").click().run()
    second = at.session_state["train_compare_pair"]
    assert second is not pair and not any(run.is_alive() for run in pair.runs)  # the old pair was closed
    at.button(key="train_compare_stop").click().run()
    assert not any(run.is_alive() for run in second.runs)
    assert {s.status for s in second.snapshots()} == {"stopped"}
    assert not at.button(key="train_compare_start").disabled and at.button(key="train_compare_stop").disabled


@pytest.mark.slow
def test_choosing_another_guideline_ends_the_pair_and_reset_forgets_it(live_page):
    at = live_page()
    at.number_input(key="train_compare_live_steps").set_value(5000).run()
    at.button(key="train_compare_start").click().run()
    pair = at.session_state["train_compare_pair"]
    assert pair.is_alive()
    at.button(key="train_compare_pause").click().run()
    assert pair.statuses() == ("paused", "paused")
    at.button(key="train_compare_resume").click().run()
    assert pair.statuses() == ("running", "running")
    at.selectbox(key="train_compare_ablation").set_value("pooling").run()
    assert not pair.is_alive() and "train_compare_pair" not in at.session_state
    at.button(key="train_compare_start").click().run()
    again = at.session_state["train_compare_pair"]
    assert again.runs[1].config.ablations == ("pooling",)
    at.button(key="train_compare_reset").click().run()
    assert not again.is_alive() and "train_compare_pair" not in at.session_state


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_with_the_servers_slot_taken_neither_run_starts_and_the_page_says_what_to_do(live_page, lang):
    from gan_core.worker import REGISTRY

    at = live_page(lang, slots=1)
    REGISTRY.acquire(-1, "another student's run")
    try:
        at.button(key="train_compare_start").click().run()
    finally:
        REGISTRY.release(-1)
    assert not at.exception, [e.value for e in at.exception]
    assert "train_compare_pair" not in at.session_state and REGISTRY.active() == []
    assert [w.value for w in at.warning] == [i18n.translate("errors.worker.pair_busy", lang, cap=1)]


def test_the_link_opens_the_live_pair_and_the_choice_stays_in_the_link(live_page):
    at = live_page(ablate="pooling")
    assert at.selectbox(key="train_compare_ablation").value == "pooling"
    assert at.query_params["compare"] in ("live", ["live"])
    at.radio(key="train_compare_source").set_value("replay").run()
    assert at.query_params["compare"] in ("replay", ["replay"])


@pytest.mark.slow
def test_every_page_keeps_the_live_pair_alive(live_page):
    """app.py heartbeats the session's runs on every page (views._train_heartbeat): the pair's too, so the
    replay or another page does not leave it to the orphan watchdog."""
    at = live_page()
    at.number_input(key="train_compare_live_steps").set_value(5000).run()
    at.button(key="train_compare_start").click().run()
    pair = at.session_state["train_compare_pair"]
    before = time.monotonic() - 5.0  # a while ago, well within the orphan timeout (the run must not end)
    for run in pair.runs:
        run._engine.last_heartbeat = before

    def another_page():
        from views._train_heartbeat import _heartbeat

        _heartbeat()

    other = AppTest.from_function(another_page, default_timeout=60)
    other.session_state["train_compare_pair"] = pair
    other.run()
    assert not other.exception, [e.value for e in other.exception]
    assert all(run._engine.last_heartbeat > before for run in pair.runs)
