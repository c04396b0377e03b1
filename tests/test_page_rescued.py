"""AppTest: a run kept when its app process died (gan_core.rescue) is offered to its own browser, on the
process the browser moved to: the training page continues it from the step it was saved at (or lets it
go), every other page says where it is; another browser is offered nothing. Both languages.

The kept run is a real checkpoint written by ``python -m gan_core train``, marked as the run's own
process marks it (tests/test_rescue.py kills a real app process for that)."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core.rescue import RESCUE_FILE, rescued_runs, write_marker
from gan_core.worker import REGISTRY
from helpers import wait_until
from test_recording import STEPS, record_cli_run

REPO = Path(__file__).resolve().parents[1]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
MINE, THEIRS = "a" * 64, "b" * 64


@pytest.fixture(scope="module")
def cli_checkpoint(tmp_path_factory) -> Path:
    return record_cli_run(tmp_path_factory.mktemp("rescued") / "run")


@pytest.fixture
def kept(cli_checkpoint, tmp_path, monkeypatch) -> Path:
    """The runs folder with this browser's kept run in it (as its process leaves it)."""
    import views._train_heartbeat as heartbeat

    runs = tmp_path / "runs"
    folder = runs / "20261208-101500-small-mnist5k"
    shutil.copytree(cli_checkpoint, folder)
    write_marker(folder, MINE, STEPS, "small", "mnist5k")
    monkeypatch.setenv("GAN_RUNS_DIR", str(runs))
    monkeypatch.setenv("GAN_MAX_CONCURRENT_RUNS", "1")
    monkeypatch.setattr(heartbeat, "browser_id", lambda: MINE)
    return folder


def page(path: str, lang: str = "en", monkeypatch=None) -> AppTest:
    if lang != "en":  # AppTest formats the widgets' options in its own thread, outside the page's session
        from views import _i18n

        monkeypatch.setattr(_i18n, "current_language", lambda: lang)
    at = AppTest.from_file(str(REPO / path), default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_training_page_continues_the_kept_run_from_its_step(kept, lang, monkeypatch):
    at = page("views/train.py", lang, monkeypatch)
    offer = [w.value for w in at.warning]
    assert len(offer) == 1 and f"{STEPS:,}" in offer[0] and "mnist5k" in offer[0]
    if lang == "ko":
        assert HANGUL.search(offer[0]) and HANGUL.search(at.button(key="rescued_continue").label)
    else:
        assert "server process you were on stopped" in offer[0]
    at.button(key="rescued_continue").click().run()
    assert not at.exception and not at.warning  # offered once: taken
    assert at.session_state["train_resume_checkpoint"][1].step == STEPS
    assert not (kept / RESCUE_FILE).exists() and rescued_runs(MINE) == []  # the folder stays, not offered again
    assert any(f"{STEPS}" in s.value for s in at.success)  # the sidebar: "Training will continue from step 20"
    assert at.selectbox(key="train_dataset").value == "mnist5k"

    at.number_input(key="train_batch_small").set_value(16).run()
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    try:
        wait_until(lambda: run.snapshot().step > STEPS + 2)
        assert run.snapshot().start_step == STEPS  # it goes on from where it was kept
    finally:
        assert run.close(timeout=30)
    wait_until(lambda: REGISTRY.active() == [], 30)


def test_letting_it_go_keeps_the_folder_and_offers_it_no_more(kept):
    at = page("views/train.py")
    at.button(key="rescued_dismiss").click().run()
    assert not at.warning and "train_resume_checkpoint" not in at.session_state
    assert kept.is_dir() and not (kept / RESCUE_FILE).exists()
    assert not page("views/train.py").warning


def test_while_the_run_saves_itself_the_page_says_so_and_offers_it_once_saved(kept):
    write_marker(kept, MINE, STEPS, "small", "mnist5k", state="saving")
    at = page("views/train.py")
    assert any("saving itself now" in i.value for i in at.info)
    assert not at.warning and not any(b.key == "rescued_continue" for b in at.button)
    home = page("app.py")
    assert any("saving itself now" in i.value for i in home.info)
    write_marker(kept, MINE, STEPS, "small", "mnist5k", state="saved")  # its process is done
    at.run()  # what the page's one-second look does
    assert len(at.warning) == 1 and not any("saving itself" in i.value for i in at.info)
    assert any(b.key == "rescued_continue" for b in at.button)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_run_that_could_not_be_kept_is_said_so_until_let_go(kept, lang, monkeypatch):
    for name in ("config.json", "generator.safetensors"):
        (kept / name).unlink()
    write_marker(kept, MINE, STEPS, "small", "mnist5k", state="failed", reason="runs_full")
    at = page("views/train.py", lang, monkeypatch)
    [error] = [e.value for e in at.error]
    assert ("runs folder is full" in error and "GAN_MAX_RUNS_MB" in error) if lang == "en" else HANGUL.search(error)
    assert not any(b.key == "rescued_continue" for b in at.button)
    at.button(key="rescued_dismiss").click().run()
    assert not at.error and not (kept / RESCUE_FILE).exists()


def test_another_browser_is_offered_nothing(kept, monkeypatch):
    import views._train_heartbeat as heartbeat

    monkeypatch.setattr(heartbeat, "browser_id", lambda: THEIRS)
    at = page("views/train.py")
    assert not at.warning and not any(b.key == "rescued_continue" for b in at.button)
    assert (kept / RESCUE_FILE).exists()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_other_page_says_where_the_kept_run_is(kept, lang, monkeypatch):
    at = page("app.py", lang, monkeypatch)  # the home page
    notice = [i.value for i in at.info if f"{STEPS:,}" in i.value]
    assert len(notice) == 1 and ("Training page" in notice[0] if lang == "en" else HANGUL.search(notice[0]))
    assert (kept / RESCUE_FILE).exists()  # saying so is not taking it


def test_the_browser_id_is_the_same_on_every_process_with_the_same_cookie_secret(monkeypatch):
    import views._train_heartbeat as heartbeat

    def key_with(secret: str) -> bytes:
        monkeypatch.setattr(heartbeat.st, "get_option", lambda name: secret if name == "server.cookieSecret" else None)
        return heartbeat._id_key()

    assert key_with("class-secret") == key_with("class-secret") != key_with("another-server")
    assert b"class-secret" not in key_with("class-secret")  # derived, not the secret itself
