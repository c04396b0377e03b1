"""Latent explorer in a real browser: an image with no training, sliders change it, interpolation
frames and a valid GIF download, the seed kept across sections with no Streamlit warning in the
server log, Korean + projector mode at 1280x720, and bad checkpoint uploads refused with a sentence."""

from __future__ import annotations

import io
import os
import pickle
import re
import zipfile

import pytest
import torch

from gan_core.checkpoint import GENERATOR_FILE, checkpoint_zip_bytes
from st_browser import (REPO, assert_no_errors, button, choose_option, choose_radio, image_src_with_caption,
                        main_text, open_from_nav, press_slider, screenshot, set_number, upload_expecting_error,
                        wait_for_app, wait_until)

pytestmark = pytest.mark.e2e

SHIPPED = REPO / "assets" / "generator-mnist5k"
MAIN_IMAGE = "G(z)"  # caption of the big image in "Move z"
DUPLICATE_STATE_WARNING = "created with a default value but also had its value set via the Session State API"


def test_latent_page_sliders_interpolation_and_gif(page):
    open_from_nav(page, "Explore the latent space")
    assert_no_errors(page)
    before = wait_until(lambda: image_src_with_caption(page, MAIN_IMAGE), 30, message="the G(z) image")

    press_slider(page, "z[0]", "ArrowRight", 10)  # +0.5 in z[0]
    after = wait_until(lambda: (src := image_src_with_caption(page, MAIN_IMAGE)) != before and src, 30,
                       message="the G(z) image to change after moving z[0]")
    assert after != before
    assert_no_errors(page)
    screenshot(page, "latent-move-z")

    choose_radio(page, "Interpolation")
    assert_no_errors(page)
    for strip in ("Linear (lerp)", "Spherical (slerp)"):
        assert image_src_with_caption(page, strip), f"no {strip} frames shown"
    with page.expect_download() as download_info:
        button(page, "⬇ Animated GIF").click()
    data = open(download_info.value.path(), "rb").read()
    assert data[:4] == b"GIF8", data[:16]
    assert download_info.value.suggested_filename.endswith(".gif")
    screenshot(page, "latent-interpolation")


def test_the_seed_survives_switching_sections_and_pages_without_a_streamlit_warning(page, server):
    log_start = server.log_path.stat().st_size
    open_from_nav(page, "Explore the latent space")
    set_number(page, "Seed (sets z)", 364072870)
    image = wait_until(lambda: image_src_with_caption(page, MAIN_IMAGE), 30, message="the G(z) image")
    for section in ("Interpolation", "Vector arithmetic", "Memorisation check", "Move z"):
        choose_radio(page, section)
        assert_no_errors(page)
    seed = page.get_by_label("Seed (sets z)", exact=True).first.input_value()
    assert seed == "364072870"
    assert "seed=364072870" in page.url  # the link follows the view
    open_from_nav(page, "Home")  # and another page
    open_from_nav(page, "Explore the latent space")
    assert page.get_by_label("Seed (sets z)", exact=True).first.input_value() == "364072870"
    assert image_src_with_caption(page, MAIN_IMAGE)
    with open(server.log_path, "rb") as log:
        log.seek(log_start)
        new_lines = log.read().decode(errors="replace")
    assert DUPLICATE_STATE_WARNING not in new_lines, new_lines[-2000:]
    assert image  # (the image was shown before the trip too)


def test_korean_projector_view_from_a_link_fits_1280x720(page, server):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server.url}/latent?lang=ko&projector=1&section=move&seed=364072870&directions=sefa&d1=2")
    wait_for_app(page)
    assert_no_errors(page)
    title = page.locator("h1").first.inner_text()
    assert re.search(r"[\uac00-\ud7a3]", title), title
    # (the first visit imports torch and loads the model: the widgets may arrive a moment after the run)
    wait_until(lambda: "z 움직이기" in (text := main_text(page)) and "방향 1" in text, 30,
               message="the Korean section names and slider labels")
    assert_no_errors(page)
    # Hangul drawn with a real font, not missing-glyph boxes (which all look alike): two different
    # syllables, drawn in the title's font, give different pixels.
    differ = page.locator("h1").first.evaluate("""el => {
        const draw = s => { const c = document.createElement('canvas'); c.width = 80; c.height = 80;
            const g = c.getContext('2d'); g.font = getComputedStyle(el).font; g.textBaseline = 'top';
            g.fillText(s, 4, 4); return Array.from(g.getImageData(0, 0, 80, 80).data).join(','); };
        return draw('잠') !== draw('공'); }""")
    assert differ, "Hangul syllables render as identical boxes: no Korean font"
    # The main image and the direction sliders are on the first screen (no scrolling needed).
    image_box = page.locator('[data-testid="stImageContainer"]').filter(has_text=MAIN_IMAGE).first.bounding_box()
    slider_box = page.locator('[data-testid="stSlider"]').filter(has_text="방향 1").first.bounding_box()
    assert image_box and image_box["y"] + image_box["height"] / 2 < 720, image_box
    assert slider_box and slider_box["y"] < 720, slider_box
    screenshot(page, "latent-ko-projector-1280x720", full_page=False)
    screenshot(page, "latent-ko-projector-full")


class _RunsCommand:
    """Pickled, it calls os.system on load: proof that nothing in an upload is unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _bad_checkpoints(tmp_path) -> dict[str, tuple[bytes, str]]:
    pickled = io.BytesIO()
    torch.save({"generator": _RunsCommand(tmp_path / "pwned")}, pickled)  # a .pt is a zip with data.pkl
    good = zipfile.ZipFile(io.BytesIO(checkpoint_zip_bytes(SHIPPED)))
    truncated = io.BytesIO()
    with zipfile.ZipFile(truncated, "w") as out:
        for name in good.namelist():
            content = good.read(name)
            out.writestr(name, content[: len(content) // 2] if name == GENERATOR_FILE else content)
    # name -> (bytes, a word the refusal must contain)
    return {"torch-pickle.zip": (pickled.getvalue(), "config.json"),
            "plain-pickle.zip": (pickle.dumps(_RunsCommand(tmp_path / "pwned")), "not a .zip"),
            "truncated.zip": (truncated.getvalue(), "truncated"),
            "empty.zip": (b"", "not a .zip")}  # (neighbours differ: an old message cannot pass for a new one)


def test_bad_checkpoint_uploads_are_refused_and_the_page_keeps_working(page, tmp_path):
    open_from_nav(page, "Explore the latent space")
    choose_option(page, "Generator", "Upload a checkpoint")
    for name, (payload, reason) in _bad_checkpoints(tmp_path).items():
        path = tmp_path / name
        path.write_bytes(payload)
        messages = upload_expecting_error(page, "Checkpoint .zip", path, reason)
        assert any(m.startswith("This checkpoint cannot be used") for m in messages), messages
        screenshot(page, f"latent-bad-upload-{name}")
    assert not (tmp_path / "pwned").exists(), "the uploaded pickle was executed"

    # the page still works: back to the shipped generator, an image and no error
    choose_option(page, "Generator", "Pretrained")
    assert_no_errors(page)
    assert image_src_with_caption(page, MAIN_IMAGE)
