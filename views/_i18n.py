"""The language of the page: ``t("nav.train")`` is the message in the language this session chose.

The choice lives in ``st.session_state["lang"]`` (a sidebar select box drawn by ``app.py`` on every
page), starts from ``?lang=ko`` / ``?lang=en`` in the URL, else the browser's language, else English,
and is written back to the URL on every run so a copied link keeps it. The catalogs and the lookup
are ``gan_core.i18n``; see its docstring for the file format and how to add a language.
"""

from __future__ import annotations

import re

import streamlit as st

from gan_core.i18n import (DEFAULT_LANGUAGE, LANGUAGES, LocalizedError, LocalizedText, normalize_language,
                           translate)

LANG_KEY = "lang"


def current_language() -> str:
    lang = st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, /, **params: object) -> str:
    """The message ``key`` of the catalog in this session's language."""
    return translate(key, current_language(), **params)


# Every ASCII punctuation character: CommonMark lets a backslash escape each one, and each can start
# something (a link, bold, ``:red[...]``, ``$`` KaTeX, a heading, a table, HTML).
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Links from bare addresses (www.x, https://x, a@b.c) and emoji (:smile:) are found in the text after
# the escapes are read, so an escape cannot stop them: a zero-width space after "www", ":" and "@" does.
_FOUND_IN_TEXT = re.compile(r"(?i)(www(?=\.)|:|@)")
ZERO_WIDTH_SPACE = "\u200b"


def user_text(text: object, limit: int | None = 80) -> str:
    """Something a user typed or named (a file, folder or run name, a dataset or class label, a CSV
    value), ready to go inside a message shown as Markdown (``st.markdown``, captions, alerts, toasts,
    widget labels): on one line, shortened to ``limit`` characters and with every punctuation character
    escaped, so it shows as exactly its characters and never as a link, an image, bold or coloured
    text, an emoji or a formula on anyone's screen (an invisible zero-width space follows "www", ":"
    and "@"). Not for plain-text places (table cells, st.text)."""
    one_line = " ".join(str(text).split())  # a new line could start a heading, a list or a table
    if limit is not None and len(one_line) > limit:
        one_line = one_line[:limit - 1] + "…"
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", _FOUND_IN_TEXT.sub(r"\1" + ZERO_WIDTH_SPACE, one_line))


def error_text(error: BaseException | str, markdown: bool = True) -> str:
    """A user-caused error (or any message the engine keeps with its key, such as a run's label) as a
    sentence in this session's language.

    What the user named inside it (an engine error's text values: file, folder, tensor or dataset
    names) goes through ``user_text``, and an error without a key is escaped whole, unless
    ``markdown=False`` (a table cell shows text as it is). The server's data folder (an error's
    ``root``) is never shown: a page says "the data folder" and where it is set, not a path in the
    server's home directory.
    """
    shown = (lambda v: user_text(v, limit=None)) if markdown else str
    if not isinstance(error, (LocalizedError, LocalizedText)):
        return shown(str(error))
    root = str(error.params.get("root") or "")
    params = {}
    for name, value in error.params.items():
        if isinstance(value, str):
            value = shown(value.replace(root, "\0") if root else value).replace("\0", t("common.data_folder"))
        params[name] = value
    return t(error.key, **params)


def _initial_language() -> str:
    asked = st.query_params.get("lang")
    if asked:
        return normalize_language(asked)
    try:
        browser = st.context.locale  # the browser's first language, e.g. "ko-KR"
    except Exception:  # AppTest and bare mode have no browser
        browser = None
    return normalize_language(browser) if browser else DEFAULT_LANGUAGE


def language_selector() -> str:
    """The sidebar's language box; returns the chosen code and keeps ``?lang=`` in the URL."""
    if st.session_state.get(LANG_KEY) not in LANGUAGES:
        st.session_state[LANG_KEY] = _initial_language()
    st.sidebar.selectbox(translate("common.language", current_language()), list(LANGUAGES), key=LANG_KEY,
                         format_func=LANGUAGES.__getitem__)
    lang = current_language()
    if st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang
    return lang


__all__ = ["LANG_KEY", "LocalizedError", "current_language", "error_text", "language_selector", "t", "user_text"]


def option_labels(prefix: str, options) -> object:
    """A widget's ``format_func``: option id -> the catalog's ``<prefix>.<option>`` in this run's language.
    The labels are looked up now, so the function gives the same labels wherever it is called (e.g. by AppTest)."""
    return {option: t(f"{prefix}.{option}") for option in options}.__getitem__
