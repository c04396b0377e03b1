"""AppTest of the training page's own images (issue 28): a zip or a server folder -> what it holds ->
the proposed settings (applied by default, again with one click) -> a live run -> export -> the
latent page. Both languages; the student's names are shown as text, never as Markdown."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from gan_core import i18n
from helpers import png_bytes, zip_bytes
from test_page_train import page  # noqa: F401 -- the fixture

LATENT_PAGE = str(Path(__file__).resolve().parents[1] / "views" / "latent.py")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
SNEAKY = "**bold** _it_ [link](javascript:x)"  # a class folder name that Markdown would change


def colour_png(seed: int, size=(48, 40)) -> bytes:
    rng = np.random.default_rng(seed)
    return png_bytes(Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)))


def colour_zip() -> bytes:
    images = {f"pets/{cls}/{i}.png": colour_png(i + 10 * k) for k, cls in enumerate(("cats", SNEAKY)) for i in range(12)}
    return zip_bytes({**images, "pets/cats/broken.png": b"not an image", "pets/notes.txt": b"hello"})


@pytest.fixture
def own_page(page, monkeypatch):
    """``page`` of test_page_train (a fresh page; its runs stopped afterwards) in a chosen language."""
    monkeypatch.delenv("GAN_IMAGE_FOLDERS", raising=False)

    def make(lang: str = "en") -> AppTest:
        from views import _i18n, _train_own

        for module in (_i18n, _train_own):  # AppTest formats in its own thread; the proposal's reason too
            monkeypatch.setattr(module, "current_language", lambda: lang)
        return page()

    return make


def shown_markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " ".join(i.value for i in at.info)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_colour_zip_is_summarised_set_up_trained_exported_and_opened_on_the_latent_page(own_page, lang):
    at = own_page(lang)
    at.selectbox(key="train_dataset").set_value("own images").run()
    at.file_uploader(key="train_zip").set_value(("my pets.zip", colour_zip(), "application/zip")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]

    # what it found, in the page's language; the student's folder names as text only
    summary = shown_markdown(at)
    assert "24" in summary and "48x40" in summary
    assert i18n.translate("train.own.colour_images", lang) in summary
    texts = " ".join(x.value for x in at.text)
    assert SNEAKY in texts and "cats (12)" in texts
    assert "bold" not in summary and "javascript" not in summary  # never rendered as Markdown
    assert lang == "en" or HANGUL.search(summary)

    # the proposal (colour, typically 48x40: RGB at 32x32 with the small preset) is already in the sidebar
    assert at.session_state["train_preset"] == "small"
    assert at.session_state["train_size_small"] == 32 and at.session_state["train_channels_own images"] == 3
    proposal = " ".join(i.value for i in at.info)
    assert "48x40" in proposal and "32x32" in proposal
    assert i18n.translate("train.own.applied", lang) in [c.value for c in at.caption]
    ready = i18n.translate("train.own.found", lang, n="24", size=32, colour=i18n.translate("train.colour.3", lang))
    assert ready in summary
    skipped = at.dataframe[0].value
    assert sorted(skipped[skipped.columns[0]]) == ["pets/cats/broken.png", "pets/notes.txt"]

    # trains live on it, saves, exports and hands the generator to the latent page
    at.number_input(key="train_batch_small").set_value(8).run()
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run = at.session_state["train_run"]
    assert run.config.image_size == 32 and run.config.channels == 3 and run.config.preset == "small"
    deadline = time.monotonic() + 90
    while run.snapshot().step < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run.snapshot().step >= 3
    at.button(key="train_pause").click().run()
    at.button(key="train_save").click().run()
    saved = Path(at.session_state["train_saved"])
    assert (saved / "config.json").is_file()
    assert any(b.key == "train_dl_checkpoint" for b in at.get("download_button"))
    at.button(key="train_to_latent").click().run()
    assert at.session_state["latent_source"] == "run"

    latent = AppTest.from_file(LATENT_PAGE, default_timeout=90)
    latent.session_state["train_run"] = run
    latent.session_state["latent_source"] = "run"
    latent.session_state["lat_section"] = "memorisation"  # nearest training images: the run's uint8 pixels
    latent.run()
    assert not latent.exception and not latent.error, [e.value for e in latent.error]
    assert latent.selectbox(key="lat_source").value == "run" and len(latent.image) >= 3


def test_the_proposal_comes_back_with_one_click_after_a_change(own_page):
    at = own_page()
    at.selectbox(key="train_dataset").set_value("own images").run()
    at.file_uploader(key="train_zip").set_value(("pets.zip", colour_zip(), "application/zip")).run()
    at.selectbox(key="train_size_small").set_value(64).run()
    at.radio(key="train_channels_own images").set_value(1).run()
    assert not at.exception and "Use the proposed settings" in [b.label for b in at.button]
    at.button(key="train_own_apply").click().run()
    assert not at.exception
    assert at.session_state["train_size_small"] == 32 and at.session_state["train_channels_own images"] == 3
    assert "train_own_apply" not in [b.key for b in at.button]  # applied: nothing left to click


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_folder_on_the_server_is_read_like_a_zip(own_page, monkeypatch, tmp_path, lang):
    root = tmp_path / "class-photos"
    for name in ("flowers", "empty-set"):
        (root / name).mkdir(parents=True)
    for i in range(5):
        (root / "flowers" / f"{i}.png").write_bytes(png_bytes((80, 80), "L", 40 * i))
    (tmp_path / "private.png").write_bytes(png_bytes((80, 80), "L", 255))
    (root / "flowers" / "link.png").symlink_to(tmp_path / "private.png")
    monkeypatch.setenv("GAN_IMAGE_FOLDERS", str(root))
    at = own_page(lang)
    at.selectbox(key="train_dataset").set_value("own images").run()
    at.radio(key="train_own_source").set_value("folder").run()
    assert at.selectbox(key="train_own_folder").options == ["empty-set", "flowers"]
    at.selectbox(key="train_own_folder").set_value("flowers").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    summary = shown_markdown(at)
    assert "80x80" in summary and i18n.translate("train.own.grey_images", lang) in summary
    # grey and typically 80x80, on a CPU: 28x28 with one channel, and why not 64x64
    assert at.session_state["train_size_small"] == 28 and at.session_state["train_channels_own images"] == 1
    assert i18n.translate("data.proposal.grey_28_cpu", lang, width=80, height=80) in summary
    skipped = at.dataframe[0].value
    assert list(skipped[skipped.columns[0]]) == ["link.png"]  # a link out of the folder is never read
    shown = " ".join(str(e.proto) for e in at.main) + " ".join(str(e.proto) for e in at.sidebar)
    assert str(tmp_path) not in shown  # the server's path never reaches the page
    at.selectbox(key="train_own_folder").set_value("empty-set").run()
    assert not at.exception and len(at.error) == 1 and "empty\\-set" in at.error[0].value  # escaped: shown as typed
