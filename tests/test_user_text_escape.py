"""Anything a user typed or named reaches a page as text: ``views._i18n.user_text`` escapes every
character Markdown could act on, and ``error_text`` does it to the names inside an engine error. The
pages' use of it is tested with each page (test_page_train, test_page_latent); that Streamlit shows
the escaped text as exactly its characters is checked in a browser (tests/e2e/test_user_text.py)."""

from __future__ import annotations

import re
import string

import pytest

from gan_core.i18n import LocalizedError, LocalizedText
from views._i18n import ZERO_WIDTH_SPACE, error_text, user_text

HOSTILE = [
    "See www.example.com **NOW** :red[ALERT] ![i](x) $x^2$.zip",
    "md **bold** www.example.com",
    "<img src=x onerror=alert(1)> &amp; :smile: :material/home:",
    "# heading\n\n- list\n| a | b |\n|---|---|",
    "a\\*b` `code` ~~strike~~ _i_ [l](http://x) https://example.com 1. item",
    string.punctuation,
]


def _unescape(text: str) -> str:
    """The characters a browser shows (the zero-width spaces that break "www.", ":x:" and "a@b" are invisible)."""
    return re.sub(r"\\(.)", r"\1", text).replace(ZERO_WIDTH_SPACE, "")


@pytest.mark.parametrize("name", HOSTILE)
def test_every_punctuation_character_of_user_text_is_escaped_and_nothing_else_changes(name):
    shown = user_text(name, limit=None)
    assert "\n" not in shown and _unescape(shown) == " ".join(name.split())  # the same characters, on one line
    unescaped = re.sub(r"\\.", "", shown)  # what is left once the escaped pairs are taken out
    assert not any(c in string.punctuation for c in unescaped), shown
    assert not re.search(r"(?i)www\\\.|:[a-z]|https?\\:\\/|@[a-z]", shown)  # no address or emoji code found in the text


def test_user_text_is_shortened_to_its_limit():
    assert _unescape(user_text("x" * 200)) == "x" * 79 + "…"
    assert user_text("a.b", limit=None) == "a\\.b"


def test_error_text_escapes_the_names_inside_an_error_but_not_the_catalogs_own_words():
    error = LocalizedError("errors.recording.missing", name="**run** www.example.com")
    shown = error_text(error)
    assert user_text("**run** www.example.com", limit=None) in shown and "**run**" not in shown
    assert "**run** www.example.com" in error_text(error, markdown=False)  # a table cell shows it as it is
    reason = LocalizedText("errors.files.empty")
    assert error_text(reason) == reason  # no names: the catalog's sentence, unchanged
    plain = error_text(ValueError("bad value in [x](y)"))
    assert "[x](y)" not in plain and _unescape(plain) == "bad value in [x](y)"
