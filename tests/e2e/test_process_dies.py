"""Issue 30, item 4, in a browser: during a class (scripts/serve_class.py: two app processes behind
HAProxy) the process a student trains on is killed with SIGKILL. Its training run saves itself for that
browser (gan_core.rescue); HAProxy takes the dead process out and the browser reconnects to the other
one, whose page says plainly what happened and continues the run from the step it was saved at."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys

import pytest

from st_browser import REPO, assert_no_errors, button, main_text, open_from_nav, screenshot, wait_for_app, wait_until
from test_train_page import PAGE, start_training, status_line, step

sys.path.insert(0, str(REPO / "scripts"))
from serve_class import COOKIE, ClassServers  # noqa: E402

pytestmark = pytest.mark.e2e

STOPPED = "The server process you were on stopped"


@pytest.fixture
def class_servers(tmp_path):
    if shutil.which("haproxy") is None:
        if os.environ.get("CI"):
            pytest.fail("haproxy is not installed, and this test must run in CI (apt-get install haproxy)")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    runs = tmp_path / "runs"
    servers = ClassServers(2, log_dir=tmp_path / "logs", extra_env={"GAN_RUNS_DIR": str(runs),
                                                                    "GAN_CPU_THREADS": "1"})
    try:
        assert servers.wait_healthy() == []
        yield servers, runs
    finally:
        servers.stop()


def test_a_student_whose_process_is_killed_continues_the_run_on_the_other_one(new_context, class_servers):
    servers, runs = class_servers
    context = new_context()
    page = context.new_page()
    page.goto(servers.url)
    wait_for_app(page)
    open_from_nav(page, PAGE)
    start_training(page)
    wait_until(lambda: step(page) >= 30, 90, message="30 steps")
    before = next(c["value"] for c in context.cookies() if c["name"] == COOKIE)
    victim = servers.apps[int(before.removeprefix("app"))]

    victim.send_signal(signal.SIGKILL)  # as a crash or the kernel's OOM killer would
    victim.wait(10)
    wait_until(lambda: "Continue my run" in main_text(page), 90, message="the offer to continue the kept run")
    text = main_text(page)
    assert STOPPED in text and "small on mnist5k" in text
    screenshot(page, "process-died-offer")
    [kept] = [p for p in runs.iterdir() if (p / "rescued.json").is_file()]
    saved_step = int(json.loads((kept / "rescued.json").read_text())["step"])
    assert saved_step >= 30 and f"{saved_step:,}" in text
    assert not [p for p in runs.rglob("*") if p.name.endswith((".tmp", ".new"))]  # nothing half-written

    button(page, "Continue my run").click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    wait_until(lambda: f"Training will continue from step {saved_step:,}" in sidebar.inner_text(), 60,
               message="the sidebar to say where training continues")
    start_training(page)
    wait_until(lambda: step(page) > saved_step + 5, 120, message="the run to go on past its kept step")
    assert status_line(page) == "Training"
    after = next(c["value"] for c in context.cookies() if c["name"] == COOKIE)
    assert after != before  # on the other process now
    assert STOPPED not in main_text(page) and not (kept / "rescued.json").exists()  # offered once
    assert_no_errors(page)
    screenshot(page, "process-died-continued")
    button(page, "Stop").click()
    wait_until(lambda: status_line(page) == "Stopped", 60, message="the run to stop")
