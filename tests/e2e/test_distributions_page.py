"""The 1-D page in a real browser: make p_g match p_data with the keyboard and see D* = 1/2;
Play the 1-D GAN and watch the step count and JSD chart move, Pause and watch them stop; in Korean
with the projector at 1280x720 (100% and 150% zoom) every tab shows whole formulas and whole button
labels. The page is opened in English by its URL (``?lang=en``), and buttons are found by their keys."""

from __future__ import annotations

import re
import time

import pytest

from st_browser import (assert_no_errors, main_text, press_slider, screenshot, slider_value, wait_for_app, wait_idle,
                        wait_until)

pytestmark = pytest.mark.e2e

PAGE = "Distributions in 1-D"  # its English navigation title (also used by test_sessions.py)
STEP_TEXT = re.compile(r"After (\d+) D steps and (\d+) G steps")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
TABS = ["explorer", "train", "saturation", "expectation"]

# Buttons whose text is cut (ellipsis or clipped), and KaTeX formulas wider than their container.
CLIPPED_JS = """() => {
  const visible = el => el.offsetParent !== null;
  const buttons = [...document.querySelectorAll('[data-testid="stMain"] button')].filter(visible)
    .filter(b => [b, ...b.querySelectorAll('*')].some(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1))
    .map(b => b.innerText.trim());
  const formulas = [...document.querySelectorAll('[data-testid="stMain"] .katex-display')].filter(visible)
    .filter(k => k.querySelector('.katex-html').getBoundingClientRect().right
                 > k.closest('[data-testid="stMarkdownContainer"], [data-testid="stElementContainer"]')
                    .getBoundingClientRect().right + 1)
    .map(k => k.innerText.slice(0, 40));
  return {buttons, formulas};
}"""


def open_page(page, server, query: str = "") -> None:
    page.goto(f"{server.url}/distributions?lang=en{query}")
    wait_for_app(page)


def key_button(page, key: str):
    """The button with widget key ``key`` (labels depend on the language)."""
    return page.locator(f'[data-testid="stMain"] .st-key-{key} button').first


def match_slider(page, slider: str, target: float, step: float) -> float:
    """Press arrow keys on ``slider`` until it shows ``target`` (reading the value back each time)."""
    for _ in range(5):  # a few rounds: keystrokes during a rerun can be coalesced
        value = slider_value(page, slider)
        presses = round((target - value) / step)
        if presses == 0:
            return value
        press_slider(page, slider, "ArrowRight" if presses > 0 else "ArrowLeft", abs(presses))
    return slider_value(page, slider)


def test_p_g_matching_p_data_gives_d_star_one_half(page, server):
    open_page(page, server)
    assert_no_errors(page)
    assert "D* = 1/2 everywhere" not in main_text(page)  # the default p_g differs from p_data
    for what, step in (("mean", 0.1), ("std", 0.05)):
        target = slider_value(page, f"{what} of p_data")
        assert match_slider(page, f"{what} of p_g", target, step) == pytest.approx(target)
    wait_until(lambda: "D* = 1/2 everywhere" in main_text(page), 60, message="the D* = 1/2 message")
    wait_idle(page)
    jsd = page.locator('[data-testid="stMetric"]').filter(has_text="JSD(p_data").locator(
        '[data-testid="stMetricValue"]').inner_text()
    assert float(jsd) == 0.0
    value = page.locator('[data-testid="stMetric"]').filter(has_text="V(D*, G)").locator(
        '[data-testid="stMetricValue"]').inner_text()
    assert float(value) == pytest.approx(-1.3863, abs=1e-4)  # -log 4
    assert "mean=1" in page.url and "g_mean=1" in page.url  # the view is in the link
    assert_no_errors(page)
    screenshot(page, "distributions-d-star-half")
    page.get_by_role("tab", name=re.compile("Train a 1-D GAN")).click()  # a click on a tab goes into the link too
    wait_until(lambda: STEP_TEXT.search(main_text(page)), 60, message="the training tab")
    wait_idle(page)
    wait_until(lambda: "tab=train" in page.url, 30, message=f"the open tab in the URL {page.url}")


def steps_shown(page) -> tuple[int, int]:
    match = STEP_TEXT.search(main_text(page))
    assert match, "the step count is not on the page"
    return int(match.group(1)), int(match.group(2))


def jsd_points(page) -> int:
    """How many points the JSD-history chart has drawn: the Plotly chart when paused, its SVG
    twin (first line = JSD) while playing."""
    charts = page.locator(".st-key-dist_history_fig .js-plotly-plot")  # may include a stale copy mid-rerun
    plotly = charts.evaluate_all("els => Math.max(0, ...els.flatMap(el => (el.data || []).map(t => (t.x || []).length)))")
    svg = page.locator('img[alt^="JSD"]').evaluate_all("""els => Math.max(0, ...els.map(img => {
        const svg = new DOMParser().parseFromString(atob(img.src.split(',')[1]), 'image/svg+xml');
        const line = svg.querySelector('path');
        return line ? line.getAttribute('d').split('L').length : 0; }))""")
    return max(plotly, svg)


def test_play_moves_the_1d_gan_and_pause_stops_it(page, server):
    open_page(page, server, "&tab=train")
    before_steps, before_points = steps_shown(page), jsd_points(page)

    key_button(page, "dist_play").click()
    moved = wait_until(lambda: (s := steps_shown(page))[1] >= before_steps[1] + 20 and s, 60,
                       message="the G step count to grow while playing")
    wait_until(lambda: jsd_points(page) > before_points + 5, 30, message="the JSD chart to grow")
    assert moved[0] > before_steps[0]  # D steps too
    screenshot(page, "distributions-playing")

    key_button(page, "dist_pause").click()
    key_button(page, "dist_play").wait_for(timeout=60_000)
    wait_idle(page, 90)  # Pause ends the timer: the page goes idle, it does not keep redrawing
    paused_steps, paused_points = steps_shown(page), jsd_points(page)
    time.sleep(2.0)  # a playing page advances many ticks in this time
    wait_idle(page, 90)
    assert steps_shown(page) == paused_steps
    assert jsd_points(page) == paused_points
    assert_no_errors(page)
    screenshot(page, "distributions-paused")


@pytest.mark.parametrize("zoom", [1.0, 1.5])
def test_korean_projector_tabs_fit_at_1280x720(new_context, server, zoom):
    """Browser zoom z at 1280x720 is a CSS viewport of 1280/z x 720/z drawn at z device pixels per px."""
    context = new_context()
    page = context.new_page()
    page.set_viewport_size({"width": round(1280 / zoom), "height": round(720 / zoom)})
    for tab in TABS:
        page.goto(f"{server.url}/distributions?lang=ko&projector=1&tab={tab}")
        wait_for_app(page)
        if tab == "train":
            key_button(page, "dist_record").click()
            wait_idle(page)
        assert_no_errors(page)
        assert HANGUL.search(page.locator("h1").first.inner_text())
        clipped = page.evaluate(CLIPPED_JS)
        assert clipped == {"buttons": [], "formulas": []}, f"tab {tab} at {zoom:.0%}"
        screenshot(page, f"distributions-ko-projector-{tab}-{int(zoom * 100)}", full_page=False)
