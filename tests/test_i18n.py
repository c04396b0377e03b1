"""The language catalogs: same keys and placeholders in every language, every key a page uses exists."""

import re
from pathlib import Path

import pytest

from gan_core import i18n

ROOT = Path(__file__).resolve().parents[1]
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_every_catalog_has_the_same_keys():
    en = set(i18n.catalog("en"))
    for lang in i18n.LANGUAGES:
        keys = set(i18n.catalog(lang))
        assert keys - en == set(), f"{lang}.toml has keys that en.toml lacks"
        assert en - keys == set(), f"{lang}.toml lacks keys that en.toml has"


def test_placeholders_are_the_same_in_every_language():
    en = i18n.catalog("en")
    for lang in i18n.LANGUAGES:
        cat = i18n.catalog(lang)
        wrong = {k: (i18n.placeholders(en[k]), i18n.placeholders(cat[k])) for k in en
                 if i18n.placeholders(en[k]) != i18n.placeholders(cat[k])}
        assert wrong == {}, f"{lang}: placeholders differ"


def test_korean_catalog_is_korean():
    """No Korean message is an English sentence left untranslated (names and notation may repeat)."""
    ko = i18n.catalog("ko")
    english_sentences = [k for k, v in ko.items()
                         if not HANGUL.search(v) and re.search(r"[A-Za-z]{3,} [a-z]{3,} [a-z]{2,}", v)]
    assert english_sentences == [], "these Korean messages are still English"


KEY_USE = re.compile(r"""\bt\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")
ERROR_USE = re.compile(r"""(?:Error|Diverged|Reached)\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")


@pytest.mark.parametrize("folder", ["views", "gan_core"])
def test_every_key_in_the_code_exists(folder):
    en = i18n.catalog("en")
    used = set()
    for path in [*(ROOT / folder).rglob("*.py"), *([ROOT / "app.py"] if folder == "views" else [])]:
        text = path.read_text(encoding="utf-8")
        used |= set(KEY_USE.findall(text)) | set(ERROR_USE.findall(text))
    assert sorted(k for k in used if k not in en) == []


def test_translate_fills_placeholders_and_falls_back_to_a_visible_marker():
    assert i18n.translate("common.url_ignored", "ko", names="seed") == "링크에서 무시한 값: seed"
    assert i18n.translate("no.such.key", "ko") == "⟦no.such.key⟧"
    assert "no.such.key" in i18n.MISSING_KEYS
    i18n.MISSING_KEYS.discard("no.such.key")
    assert i18n.normalize_language("ko-KR") == "ko"
    assert i18n.normalize_language("fr") == "en"


def test_localized_error_is_english_for_the_cli_and_korean_for_the_app():
    err = i18n.LocalizedError("common.url_ignored", names="x")
    assert str(err) == "Ignored from the link: x"
    assert err.localized("ko") == "링크에서 무시한 값: x"
    assert isinstance(err, ValueError)


def test_a_skipped_file_reason_is_english_text_that_knows_its_korean(tmp_path):
    from gan_core.data.datasets import load_image_folder

    (tmp_path / "notes.png").write_bytes(b"")
    (tmp_path / "ok.png").write_bytes(__import__("base64").b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABc3UBGAAAAABJRU5ErkJggg=="))
    folder = load_image_folder(tmp_path)
    (name, reason), = folder.skipped
    assert name == "notes.png" and reason == "empty file (0 bytes)"  # the CLI and logs see English
    assert i18n.localized_message(reason, "ko") == "빈 파일입니다 (0바이트)"
