"""Measure the training page in a real browser (issue 4: recognisable digits of every class within
about a minute of pressing Start, small preset on mnist5k, 2-core CPU).

    python scripts/bench_train_browser.py [--cap 120] [--screenshot test-output/train-60s.png]

Starts ``streamlit run app.py`` on a free loopback port, opens the training page in headless
Chromium (Debian's /usr/bin/chromium via Playwright, as the browser tests do) with its defaults,
presses Start and reads what the page shows: the Step metric and the line under the quality chart
(the share of confident samples and the classes covered, which the page computes every 100 steps
on 512 samples with the mnist5k classifier). Reports the wall-clock seconds from the click until it first shows
>= 80% confident samples with all ten classes, and takes a screenshot of the page 60 s after the
click. Prints JSON. Not part of ``python -m gan_core bench``: it needs the app, a browser and
Playwright (requirements-dev.txt).

Beside the time it reports what the run cost and what the page did: the Step metric's images/s,
the CPU seconds of the server process and of the Chromium processes during the run (read from
/proc, Linux), and how often the page redrew (changes of the sample grid's image, DOM mutations in
the main area). ``--runs N`` repeats the whole measurement on a fresh server each time and adds the
median and the spread (min, max) of the seconds.

Issue 30, item 5 (the page's overhead with runs in their own processes): ``--isolation thread`` trains in
the app's process as before, ``process`` (the default) in a child process; the server's CPU then counts
its descendants (the forkserver and the run's process) too, and the images/s the page showed are
sampled at every poll (their median is reported). ``--headless`` adds, for the same hour, the same
recipe without the app (``gan_core.bench``'s time to quality: a loop of ``Trainer.step()``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from conftest import app_page  # noqa: E402
from st_browser import button, metric_value, open_from_nav, set_number  # noqa: E402

# The page's one-line reading of the latest judgement under the quality chart ("Step 1,100: 81% of
# 512 samples are confident ..., 10 of 10 classes ..."), the same text live (SVG charts) and paused.
QUALITY_NOW = ".st-key-train_quality_now"
TARGET = {"confidence": 0.8, "classes_covered": 10}
# Counts of redraws, kept by the page itself from the moment Start is clicked.
WATCH_REDRAWS_JS = """() => {
  window.__redraws = {grid: 0, mutations: 0};
  const main = document.querySelector('[data-testid="stMain"]');
  new MutationObserver((records) => {
    for (const r of records) {
      window.__redraws.mutations += 1;
      if (r.type === 'attributes' && r.target.tagName === 'IMG' && r.attributeName === 'src') window.__redraws.grid += 1;
      for (const n of r.addedNodes) {  // a new image element (Streamlit may replace the element, not its src)
        if (n.nodeType === 1 && (n.tagName === 'IMG' || n.querySelector('img'))) window.__redraws.grid += 1;
      }
    }
  }).observe(main, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}"""
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15 of stat)


def chromium_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if "chrom" in (entry / "comm").read_text():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def browser_cpu_seconds() -> float:
    return sum(cpu_seconds(pid) for pid in chromium_pids())


def descendants(pid: int) -> list[int]:
    """Children, grandchildren, ... of ``pid`` now (from /proc's parent ids)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def server_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds of the server and of each process under it (a run's own process, its forkserver)."""
    return {p: cpu_seconds(p) for p in (pid, *descendants(pid))}


def quality_points(page) -> list[dict]:
    """[{step, confidence, classes_covered, samples}] of the judgement the page shows now (0 or 1 point).

    The worker judges every 100 steps and the page redraws every second; polled every 0.5 s, no
    judgement is missed."""
    loc = page.locator(QUALITY_NOW)
    if loc.count() == 0:
        return []
    text = loc.first.inner_text().replace(",", "")
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if len(numbers) < 6:  # step, confidence %, samples, 90 (%), classes, n, 5 (%)
        return []
    step, confidence, samples, _, classes = numbers[:5]
    return [{"step": step, "confidence": confidence / 100, "classes_covered": classes, "samples": samples}]


def measure(cap_s: float, shot_at_s: float, screenshot: Path, isolation: str, env: dict[str, str]) -> dict:
    with app_page(height=1800, extra_env={"GAN_RUN_ISOLATION": isolation, **env}) as page:
        open_from_nav(page, "Train a DCGAN live")
        set_number(page, "Generator steps", 100_000)  # never ends by itself during the measurement
        server_pid = page.app_server.pid
        page.evaluate(WATCH_REDRAWS_JS)
        server_cpu, browser_cpu = server_cpu_seconds(server_pid), browser_cpu_seconds()
        button(page, "Start").click()
        clicked = time.monotonic()
        seen: dict[int, dict] = {}
        reached, shot, steps_at_shot, rates = None, False, None, []
        while time.monotonic() - clicked < cap_s:
            now = time.monotonic() - clicked
            rate = re.sub(r"[^0-9.]", "", metric_value(page, "Images / s") or "")
            if rate and float(rate) > 0:
                rates.append(float(rate))
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
        elapsed = time.monotonic() - clicked
        # before Stop: a run's process that has ended no longer shows its CPU in /proc
        spent = {p: v - server_cpu.get(p, 0.0) for p, v in server_cpu_seconds(server_pid).items()}
        server_cpu, children_cpu = sum(spent.values()), sum(spent.values()) - spent.get(server_pid, 0.0)
        browser_cpu = browser_cpu_seconds() - browser_cpu
        redraws = page.evaluate("() => window.__redraws")
        button(page, "Stop").click()
    return {
        "measured_for_s": round(elapsed, 1),
        "isolation": isolation,
        "server_env": env,
        "server_cpu_s": round(server_cpu, 1),
        "of_which_child_processes_cpu_s": round(children_cpu, 1),
        "server_cores": round(server_cpu / elapsed, 2),
        "browser_cores": round(browser_cpu / elapsed, 2),
        "images_per_sec_median": statistics.median(rates) if rates else None,
        "browser_cpu_s": round(browser_cpu, 1),
        "grid_redraws": redraws["grid"],
        "grid_redraws_per_s": round(redraws["grid"] / elapsed, 2),
        "dom_mutations_per_s": round(redraws["mutations"] / elapsed, 1),
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
    parser.add_argument("--runs", type=int, default=1, help="repeat on a fresh server; report median and spread")
    parser.add_argument("--isolation", choices=("process", "thread"), default="process",
                        help="where the page trains (GAN_RUN_ISOLATION of the server)")
    parser.add_argument("--env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="more environment for the server (e.g. GAN_RUN_NICE=0, GAN_CPU_THREADS=1)")
    parser.add_argument("--headless", action="store_true",
                        help="also time the same recipe without the app (gan_core.bench time_to_quality)")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    runs = [measure(args.cap, args.screenshot_after, args.screenshot, args.isolation, env)
            for _ in range(max(1, args.runs))]
    headless = _headless() if args.headless else None
    if len(runs) == 1 and headless is None:
        print(json.dumps(runs[0], indent=2))
        return 0
    times = [r["seconds_after_start_click"] for r in runs if r["reached"]]
    rates = [r["images_per_sec_median"] for r in runs if r["images_per_sec_median"]]
    summary = {"runs": len(runs), "isolation": args.isolation, "reached": len(times),
               "median_s": statistics.median(times) if times else None,
               "min_s": min(times) if times else None, "max_s": max(times) if times else None,
               "images_per_sec_median": statistics.median(rates) if rates else None}
    if headless is not None:
        summary["headless"] = headless
        if rates and headless.get("images_per_sec"):
            summary["page_over_headless"] = round(summary["images_per_sec_median"] / headless["images_per_sec"], 2)
    print(json.dumps({"summary": summary, "runs": [{k: v for k, v in r.items() if k != "quality_curve"}
                                                    for r in runs]}, indent=2))
    return 0


def _headless() -> dict:
    """The page's recipe (small preset, mnist5k, batch 64, seed 0, both cores) without the app: training
    seconds and images/s until the same target (``gan_core.bench``'s time to quality, judged every 50 steps)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        subprocess.run([sys.executable, "-m", "gan_core", "bench", "--parts", "time_to_quality", "--json", str(out)],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        ttq = json.loads(out.read_text())["time_to_quality"]
    rate = ttq["steps"] * ttq["batch_size"] / ttq["seconds"] if ttq.get("reached") else None
    return {"seconds": ttq.get("seconds"), "steps": ttq.get("steps"),
            "images_per_sec": round(rate) if rate else None}


if __name__ == "__main__":
    raise SystemExit(main())
