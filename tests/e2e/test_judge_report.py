"""The student project in a real browser: upload a zip of colour images the test makes, train ~100 steps,
Judge the generator (in the background, with a progress bar), download the report and open it in Chromium:
it renders, makes no network request, and shows the judge's accuracy."""

from __future__ import annotations

import re

import pytest

from helpers import shapes_zip_bytes
from st_browser import (button, choose_option, main_text, metric_value, open_from_nav, screenshot, set_number,
                        uploader_input, wait_idle, wait_until)

pytestmark = pytest.mark.e2e

PAGE = "Train a DCGAN live"


def test_upload_train_judge_and_open_the_report_offline(page, new_context, tmp_path):
    open_from_nav(page, PAGE)
    choose_option(page, "Dataset", "my own images")
    data = tmp_path / "shapes.zip"
    data.write_bytes(shapes_zip_bytes(120, size=32))
    uploader_input(page, "Your images (.zip)").set_input_files(str(data))
    wait_until(lambda: "Found:" in main_text(page), 90, message="the preview of the zip")
    wait_idle(page)

    set_number(page, "Generator steps", 100)
    button(page, "Start").click()
    wait_until(lambda: re.search(r"Finished on \w+: step", main_text(page)), 300, message="100 steps of training")
    wait_idle(page)

    button(page, "Judge the generator").click()
    wait_until(lambda: "Judging:" in main_text(page) or "Judge accuracy" in main_text(page), 60,
               message="the judge's progress bar")
    wait_until(lambda: page.get_by_text("Judge accuracy", exact=True).count() > 0, 300, message="the verdict")
    wait_idle(page)
    accuracy = float(metric_value(page, "Judge accuracy"))
    assert 0.0 <= accuracy <= 1.0
    screenshot(page, "train-judge-verdict")

    with page.expect_download(timeout=120_000) as download:
        button(page, "Download the report (HTML)").click()
    report = tmp_path / "report.html"
    download.value.save_as(report)
    assert report.stat().st_size <= 5_000_000

    viewer = new_context().new_page()
    requests: list[str] = []
    viewer.on("request", lambda r: requests.append(r.url))
    viewer.goto(report.as_uri())
    viewer.wait_for_load_state("load")
    shown = viewer.inner_text("body")
    assert f"Judge accuracy {accuracy:.3f}" in shown
    assert viewer.title().startswith("GAN training report")
    sizes = viewer.locator("img").evaluate_all("els => els.map(e => [e.complete, e.naturalWidth])")
    assert len(sizes) >= 10 and all(done and width > 0 for done, width in sizes), sizes
    assert viewer.locator("svg polyline").count() == 4
    outside = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert outside == [], outside
    viewer.screenshot(path=str(tmp_path / "report.png"), full_page=True)
