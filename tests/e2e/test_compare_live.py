"""The compare view's live half in Chromium: the link opens "Train both live" on an ablation; Start both
trains the baseline and the ablation at once (on a server allowing one run at a time: the pair shares
its slot), both grids change as they train,
each side at the same steps; Stop both ends both. Screens under test-output/compare-live-*.png.

This module runs its own server (the default limits: one run slot), so no other module's run holds it.
"""

from __future__ import annotations

import pytest

from conftest import running_server
from gan_core import i18n
from st_browser import (assert_no_errors, button, click_button, image_sources, screenshot, set_number,
                        wait_for_app, wait_idle, wait_until)
from test_compare_replay import caption_step

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # two real runs of the small preset on mnist5k

ABLATION = "relu-d"
STEPS = 400  # long enough to watch the grids change, short enough for a busy 2-core machine

CAPTIONS_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImageContainer"]')]
  .map(e => e.innerText)"""


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory):
    """This module's app server (it overrides the session's), with the default single run slot."""
    with running_server(tmp_path_factory.mktemp("compare-live") / "runs", "streamlit-compare-live.log",
                        {"GAN_MAX_CONCURRENT_RUNS": "1"}) as srv:
        yield srv


def grid_steps(page, lang: str) -> list[int | None]:
    return [caption_step(c, lang) for c in page.evaluate(CAPTIONS_JS)]


def test_start_both_trains_both_and_both_grids_change_then_stop_ends_both(browser, server):
    lang = "en"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/train?mode=compare&compare=live&ablate={ABLATION}&lang={lang}")
        wait_for_app(page)
        assert_no_errors(page)
        set_number(page, i18n.translate("train.compare.live.steps", lang), STEPS)
        click_button(page, i18n.translate("train.compare.live.start", lang), wait=False)
        # both sides draw a grid of the untrained G at once, then one every 25 steps
        wait_until(lambda: len([s for s in grid_steps(page, lang) if s is not None]) == 2, 120,
                   message="both sides' first grids")
        first = image_sources(page)
        first_steps = grid_steps(page, lang)
        screenshot(page, "compare-live-started")
        shown = " ".join(page.locator('[data-testid="stMain"] strong').all_inner_texts())
        assert i18n.translate("train.compare.baseline", lang) in shown
        assert i18n.translate("ablations.relu_d", lang) in shown

        def both_changed():
            steps = grid_steps(page, lang)
            return (len(steps) == 2 and all(s is not None and s > f for s, f in zip(steps, first_steps))
                    and all(a != b for a, b in zip(image_sources(page), first)))

        wait_until(both_changed, 300, interval_s=0.5, message="both grids to change")
        screenshot(page, "compare-live-training")
        assert_no_errors(page)

        click_button(page, i18n.translate("train.compare.live.stop", lang))
        start = button(page, i18n.translate("train.compare.live.start", lang)).first
        wait_until(lambda: start.is_enabled(), 60, message="Start both enabled again after Stop both")
        wait_idle(page)
        stopped = i18n.translate("train.status.stopped", lang)
        assert page.get_by_text(stopped).count() >= 2  # each side's progress says so
        screenshot(page, "compare-live-stopped")
    finally:
        context.close()
