"""Measure the training page in a real browser (issue 4: recognisable digits of every class within
about a minute of pressing Start, small preset on mnist5k, 2-core CPU).

    python scripts/bench_train_browser.py [--cap 120] [--screenshot test-output/train-60s.png]

Starts ``streamlit run app.py`` on a free loopback port, opens the training page in headless
Chromium (Debian's /usr/bin/chromium via Playwright, as the browser tests do) with its defaults,
presses Start and reads what the page shows: the Step metric and the quality chart (the share of
confident samples and the classes covered, which the page computes every 250 steps with the
mnist5k classifier). Reports the wall-clock seconds from the click until the chart first shows
>= 80% confident samples with all ten classes, and takes a screenshot of the page 60 s after the
click. Prints JSON. Not part of ``python -m gan_core bench``: it needs the app, a browser and
Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from conftest import app_page  # noqa: E402
from st_browser import button, metric_value, open_from_nav, set_number  # noqa: E402

QUALITY_CHART = ".st-key-train_metrics_chart .js-plotly-plot"
# (name, x, y) of every trace of the quality chart, as Plotly drew it.
TRACES_JS = "els => els.flatMap(el => (el._fullData || []).map(t => [t.name, Array.from(t.x || []), Array.from(t.y || [])]))"
TARGET = {"confidence": 0.8, "classes_covered": 10}


def quality_points(page) -> list[dict]:
    """[{step, confidence, classes_covered}] as drawn in the page's quality chart."""
    traces = {name: dict(zip(xs, ys)) for name, xs, ys in page.locator(QUALITY_CHART).evaluate_all(TRACES_JS)}
    conf = next((v for k, v in traces.items() if k.startswith("confident")), {})
    classes = next((v for k, v in traces.items() if k.startswith("classes covered")), {})
    return [{"step": int(s), "confidence": float(conf[s]), "classes_covered": int(classes.get(s, 0))}
            for s in sorted(conf)]


def measure(cap_s: float, shot_at_s: float, screenshot: Path) -> dict:
    with app_page(height=1800) as page:
        open_from_nav(page, "Train a DCGAN live")
        set_number(page, "Generator steps", 100_000)  # never ends by itself during the measurement
        button(page, "Start").click()
        clicked = time.monotonic()
        seen: dict[int, dict] = {}
        reached, shot, steps_at_shot = None, False, None
        while time.monotonic() - clicked < cap_s:
            now = time.monotonic() - clicked
            for point in quality_points(page):
                if point["step"] not in seen:
                    seen[point["step"]] = {**point, "seen_after_s": round(now, 1)}
                    hit = (point["confidence"] >= TARGET["confidence"]
                           and point["classes_covered"] >= TARGET["classes_covered"])
                    if hit and reached is None:
                        reached = seen[point["step"]]
            if not shot and now >= shot_at_s:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
                steps_at_shot = int(metric_value(page, "Step").replace(",", ""))
                shot = True
            if reached is not None and shot:
                break
            time.sleep(0.5)
        final_step = int(metric_value(page, "Step").replace(",", ""))
        images_per_sec = metric_value(page, "Images / s")
        button(page, "Stop").click()
    return {
        "target": TARGET,
        "reached": reached is not None,
        "seconds_after_start_click": reached["seen_after_s"] if reached else None,
        "step": reached["step"] if reached else None,
        "steps_at_screenshot": steps_at_shot,
        "screenshot": str(screenshot),
        "screenshot_after_s": shot_at_s,
        "last_step": final_step,
        "images_per_sec_shown": images_per_sec,
        "quality_curve": sorted(seen.values(), key=lambda r: r["step"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap", type=float, default=120.0, help="give up after this many seconds")
    parser.add_argument("--screenshot-after", type=float, default=60.0, help="seconds after Start")
    parser.add_argument("--screenshot", type=Path, default=REPO / "test-output" / "train-page-60s.png")
    args = parser.parse_args()
    print(json.dumps(measure(args.cap, args.screenshot_after, args.screenshot), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
