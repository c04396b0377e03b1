"""The training page's compare view in Chromium: the baseline and one broken DCGAN guideline replayed side by
side from a small study made by the real command (``ablation-study``: 12 steps, a grid and classifier
readings every step). The link opens it on that ablation; the one step slider, moved with the keyboard,
shows both sides at the same step (grid captions and readings, checked against the study's classes.csv);
Play moves both together, forwards, and Pause stops both; in Korean on a 1280x720 projector no label is
cut and the two grids stand level, side by side. Screens under test-output/compare-*.png.

This module runs its own server: the page reads the study from $GAN_ABLATION_STUDY, set when it starts.
"""

from __future__ import annotations

import re
import time

import pytest

from conftest import _SERVERS, StreamlitServer
from gan_core import i18n
from gan_core.ablation_study import BASELINE, StudyPlan, run_study, ship_study
from gan_core.class_shares import read_class_shares
from st_browser import OUTPUT_DIR, assert_no_errors, choose_option, screenshot, wait_for_app, wait_idle, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # the study trains two runs of 12 steps first

ABLATION = "pooling"
STEPS = 12
SEED = 0
STEP_SLIDER = '.st-key-train_compare_step input[type="range"]'
PLAY = ".st-key-train_compare_play button"

# The two sides as the browser shows them, read in one go: the grid captions' steps (None for "no grid
# yet"), the metrics (label, value) in page order, and whether a script run is going on (a page in
# the middle of a refresh shows some elements of the new run and some of the last).
SIDES_JS = r"""() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const app = document.querySelector('[data-testid="stApp"]');
  const captions = [...main.querySelectorAll('[data-testid="stImageContainer"]')].map(e => e.innerText);
  const metrics = [...main.querySelectorAll('[data-testid="stMetric"]')].map(m => [
      m.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
      m.querySelector('[data-testid="stMetricValue"]').innerText.trim()]);
  const slider = main.querySelector('.st-key-train_compare_step input[type="range"]');
  return {captions, metrics, slider: slider ? Number(slider.value) : null,
          running: app.getAttribute('data-test-script-state') !== 'notRunning'};
}"""

# Labels, metric readings and buttons of the main area whose text is cut (wider than their box), as
# tests/e2e/test_classroom.py checks buttons.
CLIPPED_JS = """() => {
  const visible = el => el.offsetParent !== null && el.getClientRects().length > 0;
  const cut = el => [el, ...el.querySelectorAll('*')].some(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1);
  const main = document.querySelector('[data-testid="stMain"]');
  return [...main.querySelectorAll('[data-testid="stWidgetLabel"], [data-testid="stMetricLabel"], '
                                   + '[data-testid="stMetricValue"], button, input[role="combobox"]')]
    .filter(visible).filter(cut).map(e => (e.value || e.innerText).trim().slice(0, 60));
}"""

# The boxes of the two grid images.
GRIDS_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImageContainer"] img')]
  .map(img => { const r = img.getBoundingClientRect();
                return {x: r.x, y: r.y, width: r.width, height: r.height, loaded: img.naturalWidth > 0}; })"""


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory):
    """This module's app server (it overrides the session's), showing a study trained here; ``.study`` is its folder."""
    root = tmp_path_factory.mktemp("compare")
    study = root / "shipped"
    OUTPUT_DIR.mkdir(exist_ok=True)
    # started first: it comes up while the study trains (the page reads the folder when it is opened)
    srv = StreamlitServer(root / "runs", OUTPUT_DIR / "streamlit-compare.log",
                          extra_env={"GAN_ABLATION_STUDY": str(study)})
    _SERVERS.append(srv)
    try:
        plan = StudyPlan(steps=STEPS, seeds=(SEED,), sample_every=1, record_classes=20, names=(BASELINE, ABLATION))
        run_study(plan, root / "study", progress=lambda line: None)
        srv.study = ship_study(root / "study", study, seed=SEED)
        srv.wait_healthy()
        yield srv
    finally:
        srv.stop()
        _SERVERS.remove(srv)


def open_compare(browser, server, lang: str, projector: bool = False, viewport=(1400, 1000)):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{server.url}/train?mode=compare&ablate={ABLATION}&lang={lang}&projector={int(projector)}")
    wait_for_app(page)
    page.locator(STEP_SLIDER).wait_for(state="attached")
    assert_no_errors(page)
    return page


def caption_step(caption: str, lang: str) -> int | None:
    """The step in a grid's caption ("Generated: ..., step 4"; Korean "... 4 스텝")."""
    before, _, after = i18n.translate("train.generated", lang, step="\0").partition("\0")
    match = re.search(re.escape(before) + r"([\d,]+)" + re.escape(after), caption)
    return int(match.group(1).replace(",", "")) if match else None


def _shown(got: dict, lang: str) -> dict:
    steps = [caption_step(c, lang) for c in got["captions"]]
    return {"steps": steps, "metrics": got["metrics"], "slider": got["slider"]}


def sides(page, lang: str) -> dict:
    """The two sides of a paused page: ``steps`` (one per grid), ``metrics`` and the slider's value."""
    def between_runs() -> dict | None:
        got = page.evaluate(SIDES_JS)
        return None if got["running"] else got

    return _shown(wait_until(between_runs, 30, interval_s=0.05, message="the page between two script runs"), lang)


def playing_sides(page, lang: str) -> dict:
    """The two sides of a playing page, which refreshes four times a second, each run taking most of
    that: the browser draws the elements of a run as they arrive, so a look can fall between the two
    grids' paints. Looked at again for up to a few frames' time (a fifth of a second) before two
    different steps count as out of sync."""
    deadline = time.monotonic() + 0.2
    while True:
        shown = _shown(page.evaluate(SIDES_JS), lang)
        if len(set(shown["steps"])) == 1 or time.monotonic() > deadline:
            return shown
        time.sleep(0.02)


def scrub_to(page, target: int) -> None:
    """Move the step slider to ``target`` with the keyboard (reading it back: keys during a rerun can be lost)."""
    thumb = page.locator(STEP_SLIDER).first
    for _ in range(5):
        presses = target - int(thumb.input_value())
        if presses == 0:
            return
        thumb.focus()
        for _ in range(abs(presses)):
            thumb.press("ArrowRight" if presses > 0 else "ArrowLeft")
        wait_idle(page, settle_s=0.3)
    assert int(thumb.input_value()) == target


def expected_readings(server, step: int) -> list[tuple[float, str]]:
    """Each side's (confidence, "classes / n") at ``step``, from the study's classes.csv."""
    out = []
    for name in (BASELINE, ABLATION):
        shares = read_class_shares(server.study / f"{name}-seed{SEED}")
        i = shares.at(step)
        out.append((float(shares.summary["confidence"][i]),
                    f"{int(shares.summary['classes_covered'][i])} / {shares.shares.shape[1]}"))
    return out


def readings(shown: dict, lang: str) -> list[tuple[float, str]]:
    """Each side's (confidence, classes) as shown, from the four metrics in page order."""
    labels = [i18n.translate("train.compare.confidence", lang), i18n.translate("train.compare.classes", lang)]
    metrics = shown["metrics"]
    assert [label for label, _ in metrics] == labels * 2, metrics
    return [(float(metrics[0][1]), metrics[1][1]), (float(metrics[2][1]), metrics[3][1])]


def test_the_link_opens_the_ablation_and_one_slider_and_play_move_both_sides_together(browser, server):
    lang = "en"
    page = open_compare(browser, server, lang)
    try:
        # the link: the view on that ablation, both sides labelled, two grids at the end of the runs
        choose = i18n.translate("train.compare.choose", lang)
        menu = page.get_by_role("combobox", name=choose).first
        assert menu.input_value() == i18n.translate("ablations.short.pooling", lang)
        for text in (i18n.translate("train.compare.baseline", lang), i18n.translate("ablations.pooling", lang)):
            assert page.locator('[data-testid="stMain"] strong').filter(has_text=text).first.is_visible()
        shown = sides(page, lang)
        assert shown["steps"] == [STEPS, STEPS] and shown["slider"] == STEPS
        assert [g["loaded"] for g in page.evaluate(GRIDS_JS)] == [True, True]
        screenshot(page, "compare-opened")

        # scrubbing: the one slider moves both sides, grids and classifier readings, to the same step
        scrub_to(page, 0)
        shown = sides(page, lang)
        assert shown["steps"] == [] and page.get_by_text(i18n.translate("train.replay.no_grid_yet", lang)).count() == 2
        assert [value for _, value in shown["metrics"]] == ["–"] * 4  # no grid, no reading at step 0 on either side
        for step in (3, 8):
            scrub_to(page, step)
            shown = sides(page, lang)
            assert shown["steps"] == [step, step], shown
            for (conf, classes), (want, want_classes) in zip(readings(shown, lang), expected_readings(server, step)):
                assert (f"{conf:.2f}", classes) == (f"{want:.2f}", want_classes), shown
        screenshot(page, "compare-scrubbed")

        # Play at the shortest speed (12 steps in 10 s): both sides advance, together, never backwards
        choose_option(page, i18n.translate("train.replay.speed", lang),
                      i18n.translate("train.replay.speed_option", lang, s=10, steps=f"{STEPS:,}"))
        scrub_to(page, 1)
        page.locator(PLAY).click()
        seen = []  # looked at until four steps were seen, then paused well before the end (step 12 at 10 s)
        deadline = time.monotonic() + 8.0
        while len(set(seen)) < 4 and time.monotonic() < deadline:
            time.sleep(0.3)
            shown = playing_sides(page, lang)
            left, right = shown["steps"]
            assert left == right, f"the two sides at different steps: {shown}"
            seen.append(left)
        assert seen == sorted(seen) and len(set(seen)) >= 4, f"steps seen while playing: {seen}"

        assert i18n.translate("train.replay.pause", lang) in page.locator(PLAY).inner_text()
        page.locator(PLAY).click()  # Pause
        wait_idle(page)
        paused = sides(page, lang)
        screenshot(page, "compare-paused")
        time.sleep(2.0)  # a playing replay moves ~2 steps in this time
        later = sides(page, lang)
        assert later == paused and paused["steps"][0] == paused["steps"][1] < STEPS, (paused, later, seen)
        assert i18n.translate("train.replay.play", lang) in page.locator(PLAY).inner_text()
        assert_no_errors(page)
    finally:
        page.context.close()


def test_in_korean_on_a_projector_nothing_is_cut_and_the_grids_stand_level_side_by_side(browser, server):
    lang = "ko"
    page = open_compare(browser, server, lang, projector=True, viewport=(1280, 720))
    try:
        assert page.get_by_role("combobox", name=i18n.translate("train.compare.choose", lang)).count() == 1
        assert page.locator('[data-testid="stMain"] strong').filter(
            has_text=i18n.translate("train.compare.baseline", lang)).first.is_visible()
        scrub_to(page, 5)
        shown = sides(page, lang)
        assert shown["steps"] == [5, 5]  # the Korean caption, read back
        readings(shown, lang)  # the Korean metric labels, twice
        clipped = page.evaluate(CLIPPED_JS)
        left, right = page.evaluate(GRIDS_JS)
        screenshot(page, "compare-ko-projector-1280-top", full_page=False)
        page.locator('[data-testid="stImageContainer"]').first.scroll_into_view_if_needed()
        screenshot(page, "compare-ko-projector-1280-grids", full_page=False)
        assert not clipped, f"cut labels: {clipped}"
        # side by side: apart, the same size, level (the long Korean label of the ablation wraps to more lines)
        assert left["loaded"] and right["loaded"] and left["x"] + left["width"] <= right["x"], (left, right)
        assert abs(left["y"] - right["y"]) <= 1 and abs(left["width"] - right["width"]) <= 1, (left, right)
        assert_no_errors(page)
    finally:
        page.context.close()
