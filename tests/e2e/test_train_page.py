"""The training page in a real browser: Start the small preset on mnist5k and watch the loss chart
and the sample grid update; Pause, Resume, leave for another page and come back to the same run;
Stop. Bad image zips are refused with a sentence, and the page keeps working. After a reload the
same browser takes over its own run (recognised by its cookie) and steps it one D / G step at a time."""

from __future__ import annotations

import io
import re
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from st_browser import (assert_no_errors, button, chart_picture_step, choose_option, choose_radio, error_messages,
                        exception_count, image_src_with_caption, main_text, metric_value, open_from_nav, screenshot,
                        selectbox_value, set_number, upload_expecting_error, uploader_input, wait_for_app, wait_idle,
                        wait_until)

pytestmark = pytest.mark.e2e

PAGE = "Train a DCGAN live"
LOSS_CHART = ".st-key-train_loss_chart"
SAMPLES = "Generated: G(z)"  # caption of the live sample grid
LONG_RUN_STEPS = 100_000  # far more than the test lasts: the run never finishes by itself


def step(page) -> int:
    """The Step metric of the live view (0 before the first step)."""
    return int(metric_value(page, "Step").replace(",", ""))


def status_line(page) -> str:
    """The progress bar's text, e.g. "Training on cpu: step 120 of 100,000 (0%)"."""
    match = re.search(r"(Starting|Training|Paused|Stopped|Finished|Diverged|Failed) on \w+: step", main_text(page))
    return match.group(1) if match else ""


def start_training(page, steps: int = LONG_RUN_STEPS) -> None:
    """On the training page with its defaults (small preset, mnist5k): Start a long run, wait for steps."""
    set_number(page, "Generator steps", steps)
    button(page, "Start").click()
    wait_until(lambda: status_line(page) == "Training" and step(page) > 0, 90, message="the run to take steps")


def stop_training(page) -> None:
    button(page, "Stop").click()
    wait_until(lambda: status_line(page) == "Stopped", 60, message="the run to stop")
    wait_idle(page)


def test_training_live_pause_resume_other_page_and_stop(page):
    open_from_nav(page, PAGE)
    assert_no_errors(page)
    assert selectbox_value(page, "Dataset") == "mnist5k"
    assert selectbox_value(page, "Model preset") == "small"

    start_training(page)
    # the loss chart (a picture while training) and the sample grid update several times while it trains
    seen_x, seen_grids = [], []

    def updated_three_times() -> bool:
        x, grid = chart_picture_step(page, LOSS_CHART), image_src_with_caption(page, SAMPLES)
        if x is not None and (not seen_x or x > seen_x[-1]):
            seen_x.append(x)
        if grid and (not seen_grids or grid != seen_grids[-1]):
            seen_grids.append(grid)
        return len(seen_x) >= 3 and len(seen_grids) >= 3

    # (the worker renders a grid at most every second, less often when rendering is slow)
    wait_until(updated_three_times, 180, interval_s=0.5, message="three updates of the loss chart and the grid")
    assert_no_errors(page)
    screenshot(page, "train-running")

    # Pause: the step count stops
    button(page, "Pause").click()
    wait_until(lambda: status_line(page) == "Paused", 60, message="the run to pause")
    wait_idle(page)
    paused = step(page)
    time.sleep(3.0)  # a running run takes many steps in this time
    assert step(page) == paused and status_line(page) == "Paused"
    assert "Press Resume to continue" in main_text(page)
    screenshot(page, "train-paused")

    # Resume: it advances again
    button(page, "Resume").click()
    wait_until(lambda: status_line(page) == "Training" and step(page) > paused, 60,
               message="the step count to grow after Resume")

    # another page, for longer than the orphan timeout, and back: the same run is still running
    left_at = step(page)
    open_from_nav(page, "Explore the latent space")
    assert_no_errors(page)
    time.sleep(12.0)  # > GAN_ORPHAN_TIMEOUT (8 s): only the app-wide heartbeat keeps the run alive
    open_from_nav(page, PAGE)
    wait_until(lambda: status_line(page) == "Training" and step(page) > left_at, 60,
               message="the same run, still training, after coming back")
    back_at = step(page)
    wait_until(lambda: step(page) > back_at, 60, message="the step count to keep growing")
    assert "Nobody looked at this run" not in main_text(page)
    screenshot(page, "train-back-from-another-page")

    stop_training(page)
    stopped = step(page)
    assert stopped > back_at
    assert not button(page, "Start").is_disabled()  # the slot is free again
    assert_no_errors(page)
    screenshot(page, "train-stopped")


# --- bad image zips --------------------------------------------------------------------------------

def png_bytes(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((28, 28), value, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


BAD_ZIPS = {  # file name -> (content, words the refusal must contain)
    "only-text.zip": (zip_of({"notes.txt": b"no pictures here"}), "no image files"),
    "zip-slip.zip": (zip_of({"good.png": png_bytes(100), "../../evil.png": png_bytes(200)}), "outside"),
    "not-a-zip.zip": (b"hello, I am not a zip", "not a zip"),
}


def test_bad_image_zips_are_refused_with_a_sentence_and_the_page_keeps_working(page, tmp_path):
    open_from_nav(page, PAGE)
    choose_option(page, "Dataset", "my own images")
    for name, (payload, reason) in BAD_ZIPS.items():
        path = tmp_path / name
        path.write_bytes(payload)
        messages = upload_expecting_error(page, "Your images (.zip)", path, reason)
        assert any(m.startswith("These images cannot be used") for m in messages), messages
        screenshot(page, f"train-bad-zip-{name}")
    assert not (tmp_path.parent / "evil.png").exists()

    # Start with no usable images says so instead of failing
    button(page, "Start").click()
    refusal = "upload a .zip of your images, or pick a folder of the server"
    wait_until(lambda: any(refusal in m for m in error_messages(page)), 60, message="the refusal to start without images")
    assert exception_count(page) == 0

    # a good zip then works: its images are previewed
    good = tmp_path / "good.zip"
    good.write_bytes(zip_of({"a/one.png": png_bytes(50), "b/two.png": png_bytes(150)}))
    uploader_input(page, "Your images (.zip)").set_input_files(str(good))
    wait_until(lambda: "Found:" in main_text(page), 60, message="the preview of a good zip")
    wait_idle(page)
    assert not error_messages(page)
    assert image_src_with_caption(page, "The first images")
    screenshot(page, "train-good-zip")


# --- a reload: the same browser takes over its own run; single steps while paused --------------------

def test_after_a_reload_the_same_browser_takes_over_its_run_and_steps_it(page, server):
    open_from_nav(page, PAGE)
    start_training(page)
    page.reload()  # a new Streamlit session on the same page; the old one's run still holds the only slot
    wait_for_app(page)
    wait_until(lambda: "started from this browser" in main_text(page), 60, message="the take-over offer")
    assert "Another training run is using this server" not in main_text(page)
    button(page, "Take over my run").click()
    wait_until(lambda: status_line(page) == "Training", 60, message="the run, taken over, training here")

    button(page, "Pause").click()
    wait_until(lambda: status_line(page) == "Paused", 60, message="the run to pause")
    wait_idle(page)
    paused = step(page)
    button(page, "G step").click()  # one generator step: the counter moves by exactly one
    wait_until(lambda: step(page) == paused + 1, 60, message="one G step")
    button(page, "D step").click()  # a D step alone is not a generator step
    wait_idle(page)
    time.sleep(1.5)
    assert step(page) == paused + 1 and "D step 1 of 1" in main_text(page)
    button(page, "One iteration").click()
    wait_until(lambda: step(page) == paused + 2, 60, message="one iteration")
    assert_no_errors(page)
    screenshot(page, "train-single-steps")
    stop_training(page)


def test_replay_of_the_lecture_model_opens_on_the_end_of_its_run(page):
    open_from_nav(page, PAGE)
    choose_radio(page, "Replay the lecture's model")
    wait_until(lambda: button(page, "Play").count() == 1 and "7,000 / 7,000" in main_text(page), 60,
               message="the replay view of the shipped recording")
    assert SAMPLES in main_text(page) and "step 7,000" in main_text(page)  # the run's last 4x4 grid
    assert exception_count(page) == 0
    screenshot(page, "train-replay")


def test_watch_a_command_line_run_as_it_grows_then_open_it_in_the_latent_explorer(page, server):
    import signal
    import subprocess
    import sys

    from st_browser import REPO

    out = server.runs_dir / "cli-run"
    proc = subprocess.Popen([sys.executable, "-m", "gan_core", "train", "--steps", "100000", "--batch-size", "16",
                             "--sample-every", "10", "--save-every", "25", "--threads", "1", "--out", str(out)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page.goto(f"{server.url}/train?mode=watch")
        wait_for_app(page)
        wait_until(lambda: "Training: step" in main_text(page) and SAMPLES in main_text(page), 120,
                   message="the CLI run's first steps and grid on the page")
        assert selectbox_value(page, "Run folder") == "cli-run"
        first_step, first_grid = step(page), image_src_with_caption(page, SAMPLES)
        # nobody touches the page: it reads the folder again every second
        wait_until(lambda: step(page) >= first_step + 20 and image_src_with_caption(page, SAMPLES) != first_grid, 90,
                   message="the step counter and the grid to advance")
        assert_no_errors(page)
        screenshot(page, "train-watch-cli-run")
        button(page, "Open in the latent explorer").click()
        wait_until(lambda: selectbox_value(page, "Generator") == "Saved run: cli-run", 60,
                   message="the latent explorer on the run's checkpoint")
        wait_until(lambda: "G(z)" in main_text(page), 60, message="an image of the run's generator")
        assert_no_errors(page)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
