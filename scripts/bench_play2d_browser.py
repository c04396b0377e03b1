"""Measure the 2-D mode-collapse page's Play in a real browser (issue 16: >= 10 view updates/s with every layer on).

    python scripts/bench_play2d_browser.py [--seconds 10] [--until 60] [--pauses 2]
                                           [--presets "Collapse it (k = 5)" "Fix it (k = 1)"]

Starts ``streamlit run app.py`` on a free loopback port, opens "Mode collapse in 2-D" from the
navigation in headless Chromium (Debian's /usr/bin/chromium via Playwright, as the browser tests
do) and, for each preset, with every layer on (the page's default): picks the preset, presses Reset
and Play, warms up 3 s, then for ``--seconds`` counts how often the "After N D steps and M G steps"
caption under the view changes (frames/s = view updates per second) and how fast the G steps grow,
with what the CPU was doing meanwhile (the share of the browser's main thread in long tasks and in
any task, from Chromium's own counters, and the server process's CPU from /proc). It keeps playing
until ``--until`` seconds after the Play click and records the G steps reached then (the presets
promise collapse within ~500 iterations and the fix by 1,500, "within 60 s"), and the "modes
covered" and "high quality" numbers shown at that moment; then times a few Pause clicks as
scripts/bench_play_browser.py does. Prints JSON. Not part of ``python -m gan_core bench``: it needs
the app, a browser and Playwright (requirements-dev.txt).
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
from st_browser import choose_option, metric_value, open_from_nav, wait_idle  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from bench_play_browser import WATCH_STEPS_JS, time_pause  # noqa: E402  (the 1-D page's watcher and Pause timing)

PAGE = "Mode collapse in 2-D"
PRESETS = ["Collapse it (k = 5)", "Fix it (k = 1)"]
WARM_UP_S = 3.0
STEP_TEXT = re.compile(r"After (\d+) D steps and (\d+) G steps")


def key_button(page, key: str):
    """The visible button with widget key ``key`` (a rerun can leave a hidden copy behind)."""
    return page.locator(f'[data-testid="stMain"] .st-key-{key} button >> visible=true').first


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def renderer_busy(cdp) -> dict[str, float]:
    """Chromium's counters for the page's main thread (seconds): any task, script, layout, style."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {k: metrics.get(k, 0.0) for k in ("TaskDuration", "ScriptDuration", "LayoutDuration",
                                             "RecalcStyleDuration")}


def g_steps_of(text: str) -> int:
    return int(STEP_TEXT.search(text).group(2))


def play_preset(page, cdp, preset: str, seconds: float, until: float, pauses: int) -> dict:
    server_pid = page.app_server.pid
    page.locator("h1").first.hover()  # off the buttons (an open tooltip swallows a click on a select)
    choose_option(page, "preset", preset)
    key_button(page, "modes_reset").click()
    wait_idle(page)
    page.locator("h1").first.hover()
    page.evaluate(WATCH_STEPS_JS)

    clicked = page.evaluate("performance.now()")
    key_button(page, "modes_play").click()
    start = time.monotonic()
    time.sleep(WARM_UP_S)
    t0, busy0 = page.evaluate("[performance.now(), window.__busy]")
    cpu0, task0 = cpu_seconds(server_pid), renderer_busy(cdp)
    time.sleep(seconds)
    t1, busy1, frames = page.evaluate("[performance.now(), window.__busy, window.__frames]")
    cpu1, task1 = cpu_seconds(server_pid), renderer_busy(cdp)
    span = (t1 - t0) / 1000
    window = [f for f in frames if t0 <= f[0] <= t1 and f[1]]
    g = [g_steps_of(f[1]) for f in window]
    result = {
        "preset": preset,
        "frames_per_s": round(len(window) / span, 2),
        "g_steps_per_s": round((g[-1] - g[0]) / span, 1) if len(g) > 1 else 0.0,
        "measured_s": round(span, 1),
        "browser_long_task_share": round((busy1 - busy0) / (t1 - t0), 3),
        "browser_main_thread_share": round((task1["TaskDuration"] - task0["TaskDuration"]) / span, 3),
        "browser_script_layout_style_share": {k: round((task1[k] - task0[k]) / span, 3)
                                              for k in ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration")},
        "server_cpu_cores": round((cpu1 - cpu0) / span, 2),
    }

    time.sleep(max(0.0, until - (time.monotonic() - start)))
    modes, hq = metric_value(page, "modes covered"), metric_value(page, "high quality")
    frames = page.evaluate("window.__frames")
    at = [f for f in frames if f[1] and f[0] <= clicked + until * 1000]
    result[f"at_{until:g}_s"] = {"g_steps": g_steps_of(at[-1][1]) if at else 0, "modes_covered": modes,
                                 "high_quality": hq}

    result["pause"] = []
    for i in range(pauses):
        result["pause"].append(time_pause(page, key_button(page, "modes_pause"), key_button(page, "modes_play")))
        if i < pauses - 1:
            key_button(page, "modes_play").click()
            time.sleep(2.0)
    wait_idle(page, 90)
    return result


def measure(seconds: float, until: float, pauses: int, presets: list[str]) -> dict:
    load_before = os.getloadavg()
    with app_page(height=1000) as page:
        open_from_nav(page, PAGE)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        runs = [play_preset(page, cdp, preset, seconds, until, pauses) for preset in presets]
    return {"runs": runs, "cpus": os.cpu_count(), "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in os.getloadavg()],
            "goal": {"frames_per_s": 10, "pause_s": 1.0}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to count frames (after a 3 s warm-up)")
    parser.add_argument("--until", type=float, default=60.0,
                        help="seconds after the Play click at which to read the G steps and the metrics")
    parser.add_argument("--pauses", type=int, default=2, help="how many Pause clicks to time per preset")
    parser.add_argument("--presets", nargs="+", default=PRESETS, help="preset labels, as the page shows them")
    args = parser.parse_args()
    if args.until < WARM_UP_S + args.seconds:
        parser.error(f"--until must be at least the warm-up ({WARM_UP_S:g} s) plus --seconds")
    print(json.dumps(measure(args.seconds, args.until, args.pauses, args.presets), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
