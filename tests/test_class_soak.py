"""The lecture-long soak (scripts/bench_class_load.py --soak), three minutes of it against one app
process: 8 students joining over 30 s, latent sliders and 1-D Play, reloads, leaves and returns, and one
student on the training page who starts a run, sees its steps grow, pauses it (the steps stand still),
saves it, resumes it, closes the tab without Stop and later starts again.

It checks that the soak measures and that the class really happened: every 1-minute window has
slider-to-image samples, memory and disk readings; no error anywhere; the trainer's runs started,
paused, saved, resumed, were abandoned and restarted; the CSV and the plot are written. The latency goal
(p95 <= 1 s) is the benchmark's to judge (BENCHMARKS.md), never this test's, on a shared 2-core machine.

And the memory of the app's child processes (training runs, issue 30 part 1) is really read: every
process below a PID, grandchildren too, from /proc; and the goals judge the windows (each goal fails
on a window just past it).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOAK = [sys.executable, "scripts/bench_class_load.py", "--soak", "3", "--sessions", "8", "--trainers", "1",
        "--window-minutes", "1", "--join-minutes", "0.5", "--stay-minutes", "1", "--away-minutes", "0.3",
        "--trainer-minutes", "0.4", "--orphan-timeout", "10", "--seed", "3"]


@pytest.fixture(scope="module")
def soak(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("soak")
    done = subprocess.run([*SOAK, "--csv", str(out / "soak.csv"), "--plot", str(out / "soak.png")], cwd=REPO,
                          capture_output=True, text=True, timeout=330)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), out


@pytest.mark.slow
def test_every_window_measured(soak):
    result, _ = soak
    windows = result["windows"]
    assert [w["window"] for w in windows] == [1, 2, 3]
    for w in windows:
        assert w["slider_samples"] > 0 and 0 < w["slider_to_image_p50_ms"] <= w["slider_to_image_p95_ms"], w
        assert w["app0_rss_mb"] > 100 and w["app0_children_rss_mb"] >= 0 and w["app0_children_max"] >= 0, w
        assert w["rss_total_mb"] >= w["rss_apps_mb"] == w["app0_rss_mb"], w
        assert w["disk_mb"] is not None and w["run_folders"] is not None, w
    assert any(w["play_frames_per_s"] for w in windows)
    assert windows[-1]["disk_mb"] > 0 and windows[-1]["run_folders"] >= 1  # the trainer's saved checkpoints


@pytest.mark.slow
def test_no_errors(soak):
    result, _ = soak
    assert result["errors"] == {"count": 0, "first": []}
    assert all(w["errors"] == 0 for w in result["windows"])
    assert result["goals"]["no_error"]["why"].startswith("0 errors")


@pytest.mark.slow
def test_students_came_and_went(soak):
    result, _ = soak
    events = result["events"]
    assert events["join"] == 7  # 8 students, one of them the trainer
    assert events.get("reload", 0) + events.get("leave", 0) >= 3
    assert result["sessions_opened"] > 8  # reloads and returns are new sessions


@pytest.mark.slow
def test_trainer_started_paused_abandoned_and_restarted(soak):
    result, _ = soak
    visits = result["trainer_visits"]
    first = visits[0]
    low, high = first["steps_seen"]
    assert high > low >= 0  # the page showed the run's steps growing
    assert first["saved"] and first["steps_while_paused"] == 0  # paused: no step while paused
    assert first["resumed_to_step"] > first["paused_at_step"]
    assert first["abandoned_at_step"] >= first["resumed_to_step"]  # closed without Stop, still training
    assert len(visits) >= 2 and visits[1]["steps_seen"][1] > visits[1]["steps_seen"][0]  # started again
    assert result["events"]["abandon"] >= 1 and result["events"]["running"] >= 2


@pytest.mark.slow
def test_goals_csv_and_plot(soak):
    result, out = soak
    assert set(result["goals"]) == {"slider_to_image_p95_within_1s", "no_error", "rss_flat", "disk_bounded"}
    assert result["goals"]["disk_bounded"]["pass"]  # a few small checkpoints against a 200 MB quota
    with open(out / "soak.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["window"]) for r in rows] == [1, 2, 3]
    assert [float(r["slider_to_image_p95_ms"]) for r in rows] == [w["slider_to_image_p95_ms"] for w in result["windows"]]
    assert (out / "soak.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


DESCENDANTS = """
import json, os, subprocess, sys, time
sys.path.insert(0, "scripts")
from bench_class_load import descendants, process_tree, rss_or_zero
shell = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60; true"])  # a child with two of its own
time.sleep(0.5)
below = descendants(os.getpid(), process_tree())
print(json.dumps({"shell": shell.pid, "below": below, "rss": [rss_or_zero(p) for p in below],
                  "ended": rss_or_zero(2 ** 22 + 1)}))
for p in below:
    os.kill(p, 9)
"""


def test_descendants_include_grandchildren():
    done = subprocess.run([sys.executable, "-c", DESCENDANTS], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["shell"] in seen["below"] and len(seen["below"]) == 3  # sh, and its two sleeps
    assert all(mb > 0 for mb in seen["rss"])
    assert seen["ended"] == 0.0  # a PID that is not there: 0, not an exception


GOALS = """
import argparse, json, sys
sys.path.insert(0, "scripts")
from bench_class_load import soak_goals

def row(i, p95, rss, disk):
    return {"window": i + 1, "start_min": 5.0 * i, "end_min": 5.0 * (i + 1), "slider_to_image_p95_ms": p95,
            "errors": 0, "timeouts": 0, "rss_apps_mb": rss, "rss_total_mb": rss + 100, "disk_max_mb": disk,
            "largest_run_mb": 16.0}

args = argparse.Namespace(soak=30, runs_quota_mb=200)
good = [row(0, 400, 900, 50), row(1, 500, 1000, 120), row(2, 600, 1020, 210), row(3, 450, 1050, 150),
        row(4, 700, 1040, 100), row(5, 990, 1049, 90)]
bad = [dict(r) for r in good]
bad[3]["slider_to_image_p95_ms"] = 1001
bad[5]["rss_apps_mb"] = 1051  # +5.1% from minute 10 (1000 MB)
bad[4]["disk_max_mb"] = 217  # past the quota and one run folder
bad[1]["errors"] = 1
out = {name: soak_goals(rows, args, log_problems=0) for name, rows in (("good", good), ("bad", bad))}
out["log"] = soak_goals(good, args, log_problems=1)
print(json.dumps(out))
"""


def test_goals_judge_the_windows():
    done = subprocess.run([sys.executable, "-c", GOALS], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    judged = json.loads(done.stdout)
    assert all(goal["pass"] for goal in judged["good"].values()), judged["good"]
    assert not any(goal["pass"] for goal in judged["bad"].values()), judged["bad"]
    assert "windows [4]" in judged["bad"]["slider_to_image_p95_within_1s"]["why"]
    assert "1000 MB (minute 10" in judged["bad"]["rss_flat"]["why"]
    assert not judged["log"]["no_error"]["pass"]  # a warning in a server's log is an error too
