"""The 2-D mode-collapse page in a real browser: open it from the navigation; Play moves the step
counter (the SVG view), Pause stops it and brings back the Plotly figure; a layer pill removes and
restores its trace; D step and G step add one update each; an uploaded CSV starts a run and a bad one
is refused with a sentence; a box dragged on the drawing canvas fills it with points, and clicks on
the canvas drop blobs of 60 points. Buttons are found by their widget keys (labels carry icons)."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from st_browser import (assert_no_errors, choose_option, error_messages, exception_count, main_text, open_from_nav,
                        screenshot, upload_expecting_error, uploader_input, wait_for_app, wait_idle, wait_until)

pytestmark = pytest.mark.e2e

PAGE = "Mode collapse in 2-D"  # its English navigation title
STEP_TEXT = re.compile(r"After (\d+) D steps and (\d+) G steps")
POINTS_NOW = re.compile(r"; ([\d,]+) points now")
VIEW = ".st-key-modes_view .js-plotly-plot"  # the paused figure
CANVAS = ".st-key-modes_canvas"  # the drawing canvas (paused, target "Draw your own")
UPLOADER = "CSV file of x,y points"
PLAYING_ALT = "real points, G's points"  # start of the SVG view's alt text (modes.fig.view_alt)


def key_button(page, key: str):
    """The visible button with widget key ``key`` (a rerun can leave a hidden copy of it behind)."""
    return page.locator(f'[data-testid="stMain"] .st-key-{key} button >> visible=true').first


def steps_shown(page) -> tuple[int, int] | None:
    """(D steps, G steps) of the caption under the view, or None when no run is shown."""
    match = STEP_TEXT.search(main_text(page))
    return (int(match.group(1)), int(match.group(2))) if match else None


def view_trace_types(page) -> list[list[str]]:
    """The trace types of every copy of the paused figure on the page (a rerun may leave a stale one)."""
    return page.locator(VIEW).evaluate_all("els => els.map(el => (el._fullData || []).map(t => t.type))")


def view_trace_length(page, name: str) -> int:
    return max(page.locator(VIEW).evaluate_all(
        "(els, name) => els.flatMap(el => (el._fullData || []).filter(t => t.name === name)"
        ".map(t => (t.x || []).length))", name) or [0])


def layer_pill(page, label: str):
    return page.locator('[data-testid="stMain"] .st-key-modes_layers button').filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).first


def toggle_layer(page, label: str, on: bool) -> None:
    """Click a layer's pill until the pill shows the wanted state (a click that lands while the page
    is still settling after Pause can be dropped by the browser; the pill's state says which)."""
    pill = layer_pill(page, label)
    for _ in range(3):
        if (pill.get_attribute("aria-pressed") == "true") == on:
            return
        pill.click()
        try:
            wait_until(lambda: (pill.get_attribute("aria-pressed") == "true") == on, 10,
                       message=f"the {label} pill to turn {'on' if on else 'off'}")
            return
        except AssertionError:
            continue
    raise AssertionError(f"the {label} pill did not turn {'on' if on else 'off'}")


def points_now(page) -> int | None:
    match = POINTS_NOW.search(main_text(page))
    return int(match.group(1).replace(",", "")) if match else None


def write_csv(path, rows: list[str]) -> None:
    path.write_text("x,y\n" + "\n".join(rows) + "\n")


def three_clusters(n: int = 100) -> list[str]:
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(centre, 0.1, (n, 2)) for centre in [(-1.5, 0.0), (1.5, 0.0), (0.0, 1.5)]])
    return [f"{x:.4f},{y:.4f}" for x, y in points]


def canvas_area(page) -> dict:
    """The bounding box of the canvas's plot area (Plotly's drag layer, where clicks and drags go)."""
    area = page.locator(f"{CANVAS} .nsewdrag").first
    area.wait_for(timeout=30_000)
    return area.bounding_box()


def open_drawing_canvas(page, server) -> None:
    """The page opened by its URL with the target "Draw your own" (an empty canvas)."""
    page.goto(f"{server.url}/modes?lang=en")
    wait_for_app(page)
    choose_option(page, "target p_data", "Draw your own")
    canvas_area(page)


def drag_box(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Choose Box Select in the chart's toolbar, then drag a box on the canvas between two points given as
    fractions of its plot area (without Box Select a drag pans: Streamlit keeps clicks for points)."""
    plot = page.locator(f"{CANVAS} .js-plotly-plot").first
    plot.hover()
    plot.locator('.modebar-btn[data-title="Box Select"]').first.click()
    box = canvas_area(page)
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    page.mouse.move(*at(*start))
    page.mouse.down()
    page.mouse.move(*at((start[0] + end[0]) / 2, (start[1] + end[1]) / 2), steps=8)
    page.mouse.move(*at(*end), steps=8)
    page.mouse.up()


def test_play_pause_layers_steps_and_own_targets(page, server, tmp_path):
    open_from_nav(page, PAGE)
    assert_no_errors(page)
    assert steps_shown(page) == (0, 0)
    # every layer is on by default (Plotly draws the figure after the caption is there: wait for it)
    wait_until(lambda: (types := view_trace_types(page)) and "heatmap" in types[0], 60,
               message="the paused view with its D(x) heatmap")

    # Play: the SVG view, and a counter that moves through several values
    key_button(page, "modes_play").click()
    page.locator(f'[role="img"][aria-label^="{PLAYING_ALT}"]').first.wait_for(timeout=60_000)
    seen: set[tuple[int, int]] = set()

    def moved() -> bool:
        if (s := steps_shown(page)) is not None:
            seen.add(s)
        return len(seen) >= 4 and max(g for _, g in seen) > 0

    wait_until(moved, 60, interval_s=0.1, message=f"the step counter to move while playing (seen {sorted(seen)})")
    # Collapse it: k = 5 D steps per G step, a frame ending anywhere in Algorithm 1's order
    assert all(5 * g <= d <= 5 * g + 5 for d, g in seen), sorted(seen)
    screenshot(page, "modes-playing")

    # Pause: Play is back, the Plotly figure returns, the counter stops
    key_button(page, "modes_pause").click()
    key_button(page, "modes_play").wait_for(timeout=60_000)
    wait_idle(page, 90)
    page.locator(VIEW).first.wait_for(timeout=60_000)
    paused = steps_shown(page)
    assert paused is not None and paused[1] > 0
    time.sleep(2.0)  # a playing page moves many times in this time
    wait_idle(page, 90)
    assert steps_shown(page) == paused

    # A layer off and on: the figure loses and regains its D(x) heatmap
    toggle_layer(page, "D(x)", on=False)
    wait_until(lambda: (types := view_trace_types(page)) and all("heatmap" not in ts for ts in types), 60,
               message="the D(x) heatmap to leave the figure")
    assert "scatter" in view_trace_types(page)[0]  # the other layers stay
    toggle_layer(page, "D(x)", on=True)
    wait_until(lambda: (types := view_trace_types(page)) and all("heatmap" in ts for ts in types), 60,
               message="the D(x) heatmap to come back")
    wait_idle(page)
    assert steps_shown(page) == paused  # a layer is a view, not a new run

    # D step and G step: one update of that network
    d, g = paused
    key_button(page, "modes_d_step").click()
    wait_until(lambda: steps_shown(page) == (d + 1, g), 30, message=f"the counter after D step (was {paused})")
    wait_idle(page)
    key_button(page, "modes_g_step").click()
    wait_until(lambda: steps_shown(page) == (d + 1, g + 1), 30, message="the counter after G step")
    wait_idle(page)
    assert_no_errors(page)

    # An uploaded CSV: a new run on its points; a bad file: a sentence and no run
    good, bad = tmp_path / "three-clusters.csv", tmp_path / "bad.csv"
    write_csv(good, three_clusters())
    write_csv(bad, three_clusters(5)[:10] + ["1,abc"])  # line 12 (after the header)
    page.locator("h1").first.hover()  # off the buttons: while G step's tooltip is open a click on the select is lost
    page.locator('[data-testid="stTooltipContent"]').wait_for(state="detached", timeout=10_000)
    choose_option(page, "target p_data", "Upload a CSV")
    uploader_input(page, UPLOADER).set_input_files(str(good))
    wait_until(lambda: steps_shown(page) == (0, 0), 60, message="a new run on the uploaded points")
    wait_idle(page)
    assert view_trace_length(page, "real x") == 300
    assert_no_errors(page)
    messages = upload_expecting_error(page, UPLOADER, bad, "not two numbers")
    assert any("Line 12" in m for m in messages), messages
    assert steps_shown(page) is None
    screenshot(page, "modes-bad-csv")

    # The drawing canvas: a box dragged on it fills the box with points and starts a run
    choose_option(page, "target p_data", "Draw your own")
    canvas_area(page)
    assert points_now(page) is None and "Click on the canvas" in main_text(page)
    drag_box(page, (0.6, 0.6), (0.8, 0.75))
    wait_until(lambda: points_now(page), 30, message="the drawing's point count after a box")
    wait_idle(page)
    assert points_now(page) >= 50 and steps_shown(page) == (0, 0)
    assert exception_count(page) == 0 and not error_messages(page)
    screenshot(page, "modes-drawn-box")


# Plotly event listeners, to say in the failure what a click did (Streamlit listens to plotly_selected).
_LISTEN_JS = """el => { window.__canvasEvents = window.__canvasEvents || [];
  if (el.__listening) return; el.__listening = true;
  ['plotly_click', 'plotly_selected', 'plotly_deselect'].forEach(n => el.on(n, d =>
    window.__canvasEvents.push(n + ':' + (d && d.points ? d.points.length : 'none')))); }"""


def test_clicks_on_the_canvas_drop_blobs_of_60_points(page, server):
    open_drawing_canvas(page, server)
    counts: list[int] = []
    for fx, fy in [(0.3, 0.3), (0.7, 0.4)]:
        box = canvas_area(page)
        plot = page.locator(f"{CANVAS} .js-plotly-plot").first
        plot.evaluate(_LISTEN_JS)
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        try:
            wait_until(lambda: (points_now(page) or 0) > (counts[-1] if counts else 0), 8,
                       message="the drawing's point count to grow after a click")
        except AssertionError as exc:
            events = page.evaluate("window.__canvasEvents")
            modes = plot.evaluate("el => [el._fullLayout.dragmode, el._fullLayout.clickmode]")
            raise AssertionError(f"{exc}; counts so far {counts}; Plotly events {events}; "
                                 f"dragmode/clickmode {modes}") from None
        wait_idle(page)
        counts.append(points_now(page))
    assert counts == [60, 120]
    assert steps_shown(page) == (0, 0)
    assert_no_errors(page)


def test_a_second_box_adds_its_points(page, server):
    open_drawing_canvas(page, server)
    drag_box(page, (0.6, 0.6), (0.8, 0.75))
    first = wait_until(lambda: points_now(page), 30, message="the drawing's point count after the first box")
    wait_idle(page)
    drag_box(page, (0.15, 0.15), (0.3, 0.3))
    wait_until(lambda: (points_now(page) or 0) > first, 8,
               message=f"the drawing's point count to grow past {first} after a second box")
    assert_no_errors(page)
