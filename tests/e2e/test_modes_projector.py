"""The 2-D page on a 1280x720 projector, in projector mode, measured in the DOM: the view takes at least
45% of the screen's width with its legend beside the plot (not above it), the overview graph is there,
and no chart title overlaps another; in Korean and English, at 100% and at 150% zoom (a 1280x720 screen
at 150% is an 853x480 CSS-pixel window drawn at 1.5 device pixels per CSS pixel, as the browser's zoom
does). One page load each; the screens are saved under test-output/ and the numbers in
test-output/modes-projector.json."""

from __future__ import annotations

import json
import time

import pytest

from st_browser import OUTPUT_DIR, assert_no_errors, screenshot, wait_for_app

pytestmark = pytest.mark.e2e

SCREEN = (1280, 720)
MIN_VIEW_SHARE = 0.45

# Boxes (x, y, width, height in CSS px) of what the checks need, read in one go.
MEASURE_JS = """() => {
  const box = el => { if (!el) return null; const r = el.getBoundingClientRect();
                      return {x: r.x, y: r.y, width: r.width, height: r.height}; };
  const q = s => document.querySelector(s);
  const titles = [...document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot .gtitle, '
                                              + '[data-testid="stMain"] .js-plotly-plot .annotation-text')]
    .filter(el => el.textContent.trim()).map(el => ({text: el.textContent, ...box(el)}));
  return {viewport: window.innerWidth, view: box(q('.st-key-modes_view')),
          plot: box(q('.st-key-modes_view .nsewdrag')), legend: box(q('.st-key-modes_view .legend')),
          graph: box(q('.modes-graph img')), titles};
}"""


def _overlap(a: dict, b: dict) -> float:
    """The area two boxes share (0 when they do not meet)."""
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(w, 0) * max(h, 0)


_MEASURED: dict[str, dict] = {}


@pytest.mark.parametrize("zoom", [1.0, 1.5])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_view_fills_the_projector_with_its_legend_beside_it_and_no_titles_overlap(browser, server, lang, zoom):
    context = browser.new_context(viewport={"width": round(SCREEN[0] / zoom), "height": round(SCREEN[1] / zoom)},
                                  device_scale_factor=zoom)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/modes?lang={lang}&projector=1")
        wait_for_app(page)
        page.locator(".st-key-modes_charts_fig .annotation-text").first.wait_for()
        assert_no_errors(page)
        m = page.evaluate(MEASURE_JS)
        name = f"modes-projector-{lang}-{round(zoom * 100)}"
        screenshot(page, name, full_page=False)  # the screen as the class sees it
        screenshot(page, f"{name}-page")
    finally:
        context.close()

    view, plot, legend = m["view"], m["plot"], m["legend"]
    share = view["width"] / m["viewport"]
    overlaps = [(a["text"], b["text"]) for i, a in enumerate(m["titles"]) for b in m["titles"][i + 1:]
                if _overlap(a, b) > 0]
    _MEASURED[f"{lang} {round(zoom * 100)}%"] = {
        "viewport_css_px": m["viewport"], "view_width_share": round(share, 3),
        "plot_area_width_share": round(plot["width"] / m["viewport"], 3), "titles": len(m["titles"]),
        "title_overlaps": overlaps}
    (OUTPUT_DIR / "modes-projector.json").write_text(json.dumps(_MEASURED, ensure_ascii=False, indent=1))

    assert share >= MIN_VIEW_SHARE, f"the view is {share:.0%} of the screen's width"
    # The legend beside the plot, inside the view's box: right of the plot area, not stacked above it.
    assert legend["x"] >= plot["x"] + plot["width"] - 1 and legend["y"] < plot["y"] + plot["height"]
    assert legend["x"] + legend["width"] <= view["x"] + view["width"] + 1
    assert m["graph"] and m["graph"]["width"] > 200  # the overview graph, beside or (narrow window) under it
    assert len(m["titles"]) >= 6 and not overlaps, overlaps


# What a slow-motion frame shows, read at one instant: the colour of the view's frame (the network that
# moved) and the node the overview graph fills (decoded from its SVG image).
FRAME_AND_GRAPH_JS = """() => {
  const view = document.querySelector('[data-testid="stMain"] div[role="img"]');
  const img = document.querySelector('.modes-graph img');
  if (!view || !img) return null;
  const frame = [...view.querySelectorAll('div')].map(d => getComputedStyle(d))
    .find(s => s.borderTopStyle === 'solid' && parseFloat(s.borderTopWidth) > 2);
  const svg = new DOMParser().parseFromString(atob(img.src.split(',')[1]), 'image/svg+xml');
  const lit = [...svg.querySelectorAll('g[data-node]')]
    .filter(g => g.querySelector('rect').getAttribute('fill') !== 'white').map(g => g.dataset.node);
  return {frame: frame ? frame.borderTopColor : null, lit};
}"""
FRAME_COLOURS = {"rgb(31, 79, 209)": "D", "rgb(26, 158, 63)": "G"}  # D_COLOR, GEN_COLOR


def test_slow_motion_lights_the_graph_for_the_network_each_frame_moves(new_context, server):
    page = new_context().new_page()
    page.goto(f"{server.url}/modes?lang=en")
    wait_for_app(page)
    page.locator('[data-testid="stMain"] .st-key-modes_slow label').first.click()
    wait_for_app(page)
    page.locator('[data-testid="stMain"] .st-key-modes_play button').first.click()
    seen = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (len({s["frame"] for s in seen}) < 2 or len(seen) < 20):
            sample = page.evaluate(FRAME_AND_GRAPH_JS)
            if sample and sample["frame"] in FRAME_COLOURS:
                seen.append(sample)
            time.sleep(0.25)
    finally:
        page.locator('[data-testid="stMain"] .st-key-modes_pause button').first.click()
    assert {FRAME_COLOURS[s["frame"]] for s in seen} == {"D", "G"}, seen  # k = 5 D steps, then a G step
    assert all(s["lit"] == [FRAME_COLOURS[s["frame"]]] for s in seen), seen  # the graph shows the same update
