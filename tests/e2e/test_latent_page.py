"""Latent explorer in a real browser: an image with no training, sliders change it, interpolation
frames and a valid GIF download, and bad checkpoint uploads refused with a sentence."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import pytest
import torch

from gan_core.checkpoint import GENERATOR_FILE, checkpoint_zip_bytes
from st_browser import (REPO, assert_no_errors, button, choose_option, choose_radio, image_src_with_caption,
                        open_from_nav, press_slider, screenshot, upload_expecting_error, wait_until)

pytestmark = pytest.mark.e2e

SHIPPED = REPO / "assets" / "generator-mnist5k"
MAIN_IMAGE = "G(z)"  # caption of the big image in "Move z"


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
