"""Measure the 1-D page's Play in a real browser (issue 3: >= 10 frames/s, Pause within 1 s).

    python scripts/bench_play_browser.py [--seconds 10] [--pauses 3]

Starts ``streamlit run app.py`` on a free loopback port, opens the page in headless Chromium
(Debian's /usr/bin/chromium via Playwright, as the browser tests do), presses Play and counts how
often the step counter under the figure changes; then presses Pause a few times and times how
long until the Play button is back and when the counter last moved. Prints JSON. Not part of
``python -m gan_core bench``: it needs the app, a browser and Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from conftest import app_page  # noqa: E402
from st_browser import button, open_from_nav, wait_idle  # noqa: E402

# Records (time, text) each time the "After N D steps and M G steps" caption changes (window.__frames, new
# on each call), and the time the browser's main thread spends in long tasks > 50 ms (window.__busy, kept).
WATCH_STEPS_JS = r"""() => {
  window.__frames = [];
  const root = document.querySelector('[data-testid="stMain"]');
  let last = null;
  const check = () => {
    const m = root.innerText.match(/After (\d+) D steps and (\d+) G steps/);
    const v = m ? m[0] : null;
    if (v !== last) { last = v; window.__frames.push([performance.now(), v]); }
  };
  if (window.__observer) window.__observer.disconnect();
  window.__observer = new MutationObserver(check);
  window.__observer.observe(root, {subtree: true, childList: true, characterData: true});
  if (window.__busy === undefined) {
    window.__busy = 0;
    new PerformanceObserver(l => l.getEntries().forEach(e => { window.__busy += e.duration; }))
      .observe({entryTypes: ['longtask']});
  }
}"""


def time_pause(page, pause_button, play_button) -> dict:
    """Click Pause (a locator); time until Play is back and when the step caption last changed
    (WATCH_STEPS_JS must be watching)."""
    clicked = page.evaluate("performance.now()")
    start = time.monotonic()
    pause_button.click()
    play_button.wait_for(timeout=60_000)
    button_back = time.monotonic() - start
    time.sleep(3.0)
    last_frame = max(f[0] for f in page.evaluate("window.__frames"))
    return {"play_button_back_s": round(button_back, 2),
            "last_frame_after_click_s": round(max(0.0, last_frame - clicked) / 1000, 2)}


def measure(seconds: float, pauses: int) -> dict:
    with app_page(height=1000) as page:
        open_from_nav(page, "Distributions in 1-D")
        page.get_by_role("tab", name=re.compile("Train a 1-D GAN")).click()
        wait_idle(page)
        page.evaluate(WATCH_STEPS_JS)
        button(page, "Play").click()
        time.sleep(3.0)  # warm-up
        t0, busy0 = page.evaluate("[performance.now(), window.__busy]")
        time.sleep(seconds)
        t1, busy1, frames = page.evaluate("[performance.now(), window.__busy, window.__frames]")
        window = [f for f in frames if t0 <= f[0] <= t1 and f[1]]
        g_steps = [int(re.search(r"and (\d+) G", f[1]).group(1)) for f in window]
        span = (t1 - t0) / 1000
        result = {
            "frames_per_s": round(len(window) / span, 2),
            "g_steps_per_s": round((g_steps[-1] - g_steps[0]) / span, 1) if len(g_steps) > 1 else 0.0,
            "browser_long_task_share": round((busy1 - busy0) / (t1 - t0), 3),
            "pause": [],
        }
        for _ in range(pauses):
            result["pause"].append(time_pause(page, button(page, "Pause"), button(page, "Play")))
            button(page, "Play").click()
            time.sleep(2.0)
    result["load_average_1min"] = round(os.getloadavg()[0], 2)
    result["goal"] = {"frames_per_s": 10, "pause_s": 1.0}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to count frames")
    parser.add_argument("--pauses", type=int, default=3, help="how many Pause clicks to time")
    args = parser.parse_args()
    print(json.dumps(measure(args.seconds, args.pauses), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
