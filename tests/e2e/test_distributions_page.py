"""The 1-D page in a real browser: make p_g match p_data with the keyboard and see D* = 1/2;
Play the 1-D GAN and watch the step count and JSD chart move, Pause and watch them stop."""

from __future__ import annotations

import re
import time

import pytest

from st_browser import (assert_no_errors, button, main_text, open_from_nav, press_slider, screenshot,
                        slider_value, wait_idle, wait_until)

pytestmark = pytest.mark.e2e

PAGE = "How a GAN matches distributions"
STEP_TEXT = re.compile(r"After (\d+) D steps and (\d+) G steps")


def match_slider(page, slider: str, target: float, step: float) -> float:
    """Press arrow keys on ``slider`` until it shows ``target`` (reading the value back each time)."""
    for _ in range(5):  # a few rounds: keystrokes during a rerun can be coalesced
        value = slider_value(page, slider)
        presses = round((target - value) / step)
        if presses == 0:
            return value
        press_slider(page, slider, "ArrowRight" if presses > 0 else "ArrowLeft", abs(presses))
    return slider_value(page, slider)


def test_p_g_matching_p_data_gives_d_star_one_half(page):
    open_from_nav(page, PAGE)
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
    assert_no_errors(page)
    screenshot(page, "distributions-d-star-half")


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


def test_play_moves_the_1d_gan_and_pause_stops_it(page):
    open_from_nav(page, PAGE)
    page.get_by_role("tab", name=re.compile("Train a 1-D GAN")).click()
    wait_idle(page)
    before_steps, before_points = steps_shown(page), jsd_points(page)

    button(page, "Play").click()
    moved = wait_until(lambda: (s := steps_shown(page))[1] >= before_steps[1] + 20 and s, 60,
                       message="the G step count to grow while playing")
    wait_until(lambda: jsd_points(page) > before_points + 5, 30, message="the JSD chart to grow")
    assert moved[0] > before_steps[0]  # D steps too
    screenshot(page, "distributions-playing")

    button(page, "Pause").click()
    button(page, "Play").wait_for(timeout=60_000)
    wait_idle(page, 90)  # Pause ends the timer: the page goes idle, it does not keep redrawing
    paused_steps, paused_points = steps_shown(page), jsd_points(page)
    time.sleep(2.0)  # a playing page advances many ticks in this time
    wait_idle(page, 90)
    assert steps_shown(page) == paused_steps
    assert jsd_points(page) == paused_points
    assert_no_errors(page)
    screenshot(page, "distributions-paused")
