"""The language of the page: ``t("nav.train")`` is the message in the language this session chose.

The choice lives in ``st.session_state["lang"]`` (a sidebar select box drawn by ``app.py`` on every
page), starts from ``?lang=ko`` / ``?lang=en`` in the URL, else the browser's language, else English,
and is written back to the URL on every run so a copied link keeps it. The catalogs and the lookup
are ``gan_core.i18n``; see its docstring for the file format and how to add a language.
"""

from __future__ import annotations

import streamlit as st

from gan_core.i18n import (DEFAULT_LANGUAGE, LANGUAGES, LocalizedError, localized_message,
                           normalize_language, translate)

LANG_KEY = "lang"


def current_language() -> str:
    lang = st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, /, **params: object) -> str:
    """The message ``key`` of the catalog in this session's language."""
    return translate(key, current_language(), **params)


def error_text(error: BaseException | str) -> str:
    """A user-caused error as a sentence in this session's language (engine errors carry a key).

    The server's data folder (an error's ``root``) is never shown: a page says "the data folder" and
    where it is set instead of a path in the server's home directory.
    """
    if isinstance(error, LocalizedError) and "root" in error.params:
        root, folder = str(error.params["root"]), t("common.data_folder")
        params = {k: v.replace(root, folder) if isinstance(v, str) else v for k, v in error.params.items()}
        return t(error.key, **params)
    return localized_message(error, current_language())


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


__all__ = ["LANG_KEY", "LocalizedError", "current_language", "error_text", "language_selector", "t"]


def option_labels(prefix: str, options) -> object:
    """A widget's ``format_func``: option id -> the catalog's ``<prefix>.<option>`` in this run's language.
    The labels are looked up now, so the function gives the same labels wherever it is called (e.g. by AppTest)."""
    return {option: t(f"{prefix}.{option}") for option in options}.__getitem__
