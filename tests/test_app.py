"""AppTest of app.py: the home page in both languages, its links, the sidebar switches, and that it stays light."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core import i18n

REPO = Path(__file__).resolve().parents[1]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
LESSON_PAGES = ("distributions", "train", "latent", "modes")


def run_app(lang: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_home_page_renders_in_both_languages_with_links_to_the_four_pages(lang):
    i18n.MISSING_KEYS.clear()
    at = run_app(lang)
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["lang"] == lang
    assert [t.value for t in at.title] == [i18n.translate("home.title", lang)]
    links = {link.proto.page: link.proto.label for link in at.get("page_link")}
    assert links == {p: i18n.translate(f"nav.{p}", lang) for p in LESSON_PAGES}
    # the colours of Figure 1, the teaching box, the machine section with every registered dataset
    assert any("p_data" in info.value for info in at.info)
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) >= 5
    assert i18n.MISSING_KEYS == set()
    if lang == "ko":
        texts = [at.title[0].value, *(s.value for s in at.subheader), *(c.value for c in at.caption),
                 *links.values()]
        assert all(HANGUL.search(t) for t in texts), [t for t in texts if not HANGUL.search(t)]


def test_language_and_projector_come_from_the_url_and_switch_from_the_sidebar():
    at = run_app("ko", projector="1")
    assert at.session_state["lang"] == "ko" and at.session_state["projector"] is True
    assert at.sidebar.selectbox[0].label == "언어"
    at.sidebar.selectbox[0].set_value("en").run()
    assert at.title[0].value == "GAN Classroom"
    assert at.query_params["lang"] == "en"
    at.sidebar.toggle[0].set_value(False).run()
    assert "projector" not in at.query_params
    # an unknown language in the URL falls back to English, never an exception
    at2 = run_app("xx")
    assert not at2.exception and at2.session_state["lang"] == "en"


def test_opening_the_home_page_draws_its_text_without_torch():
    """The landing page must appear at once: only its last section ("This computer") loads torch."""
    code = (
        "import sys\n"
        "import views._machine as m\n"
        "m.machine_section = lambda: None\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(REPO / 'app.py')!r}, default_timeout=60).run()\n"
        "assert not at.exception, at.exception\n"
        "assert len(at.get('page_link')) == 4\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_home_page_shows_the_space_saved_runs_use_and_cleans_abandoned_ones(lang, tmp_path, monkeypatch):
    import os
    import time

    runs = tmp_path / "runs"
    for name, mb in (("abandoned", 3), ("watched", 2)):
        (runs / name).mkdir(parents=True)
        (runs / name / "config.json").write_bytes(b"x" * (mb * 1_000_000))
    old = time.time() - 3600
    for p in (runs / "abandoned" / "config.json", runs / "abandoned"):
        os.utime(p, (old, old))
    monkeypatch.setenv("GAN_RUNS_DIR", str(runs))
    monkeypatch.delenv("GAN_MAX_RUNS_MB", raising=False)
    at = run_app(lang)
    captions = [c.value for c in at.caption]
    assert i18n.translate("home.runs_used", lang, used="5.0") in captions  # no quota: measured, nothing deleted
    assert (runs / "abandoned").is_dir()

    monkeypatch.setenv("GAN_MAX_RUNS_MB", "4")
    at = run_app(lang)
    assert i18n.translate("home.runs_quota", lang, used="2.0", quota="4.0") in [c.value for c in at.caption]
    assert sorted(p.name for p in runs.iterdir()) == ["watched"] and not at.warning

    monkeypatch.setenv("GAN_MAX_RUNS_MB", "1")  # over, and the one run left is in use
    at = run_app(lang)
    assert i18n.translate("home.runs_quota", lang, used="2.0", quota="1.0") in [c.value for c in at.caption]
    assert [w.value for w in at.warning] == [i18n.translate("home.runs_full", lang)]
    assert (runs / "watched").is_dir()
