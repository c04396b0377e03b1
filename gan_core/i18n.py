"""Messages in several languages: one TOML catalog per language, looked up by key.

Every user-visible string of the app, and every engine message a user can see (an error about
their dataset, checkpoint or settings), lives in ``gan_core/locales/<lang>.toml``. A catalog is
plain TOML, the format of ``pyproject.toml``: ``[section]`` tables and ``key = "text"`` lines, so
a translator edits one file with any editor. Keys are dotted paths (``train.start`` is ``start``
in the ``[train]`` table). Placeholders are Python format fields: ``"{n} images"``.

Adding a language is one file: copy ``en.toml`` to ``xx.toml``, translate the right-hand sides,
and add ``"xx": "name"`` to ``LANGUAGES``. ``tests/test_i18n.py`` checks that every catalog has the
same keys with the same placeholders.

The engine raises ``LocalizedError`` (or a subclass) with a key and parameters: ``str(error)`` is
the English sentence (what the CLI prints); the app shows ``error.localized(lang)``.
"""

from __future__ import annotations

import math
import string
import tomllib
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).with_name("locales")
LANGUAGES = {"en": "English", "ko": "한국어"}  # code -> the language's own name
DEFAULT_LANGUAGE = "en"

# Keys asked for that no catalog has (a page rendering a missing key is a bug; tests read this).
MISSING_KEYS: set[str] = set()


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            out.update(_flatten(value, key + "."))
        elif isinstance(value, str):
            out[key] = value
        else:
            raise ValueError(f"catalog entry {key!r} must be a string, not {type(value).__name__}")
    return out


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """All messages of one language, by dotted key."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    with open(LOCALES_DIR / f"{lang}.toml", "rb") as f:
        return _flatten(tomllib.load(f))


def placeholders(text: str) -> set[str]:
    """The format fields of a message: ``"{n} of {total:,}"`` -> ``{"n", "total"}``."""
    return {field.split(".")[0].split("[")[0]
            for _, field, _, _ in string.Formatter().parse(text) if field}


def normalize_language(lang: str | None) -> str:
    """A supported language code for ``lang`` ("ko-KR" -> "ko"; unknown -> the default)."""
    code = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def has_key(key: str) -> bool:
    return key in catalog(DEFAULT_LANGUAGE)


def translate(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: object) -> str:
    """The message ``key`` in ``lang`` with ``params`` filled in.

    A key missing from ``lang`` falls back to English; a key in no catalog is recorded in
    ``MISSING_KEYS`` and shown as ``⟦key⟧`` (never an exception in front of a class).
    """
    text = catalog(lang).get(key) if lang in LANGUAGES else None
    if text is None:
        text = catalog(DEFAULT_LANGUAGE).get(key)
    if text is None:
        MISSING_KEYS.add(key)
        return f"⟦{key}⟧"
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):  # a translator's typo must not break the page
        MISSING_KEYS.add(f"{key} (placeholders)")
        return text


def duration_text(seconds: float | None, lang: str = DEFAULT_LANGUAGE) -> str:
    """'1 min 05 s' style in ``lang``, or '–' when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return translate("train.duration.seconds", lang, s=seconds)
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return translate("train.duration.minutes", lang, m=minutes, s=f"{s:02d}")
    hours, m = divmod(minutes, 60)
    return translate("train.duration.hours", lang, h=hours, m=f"{m:02d}")


class LocalizedError(ValueError):
    """An error caused by the user's input, with a message in every language.

    ``raise DatasetError("<key>", n=1, minimum=2)``: ``str()`` is the English text,
    ``localized("ko")`` the Korean one. ``key`` and ``params`` are kept for tests and callers.
    """

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(translate(key, DEFAULT_LANGUAGE, **params))

    def localized(self, lang: str) -> str:
        return translate(self.key, lang, **self.params)

    def __reduce__(self):
        # Rebuilt from key and parameters (not the English text), so that it crosses a process
        # boundary intact: a training run's child process reports its errors this way.
        return _rebuild_localized_error, (type(self), self.key, self.params)


def _rebuild_localized_error(cls: type, key: str, params: dict) -> LocalizedError:
    return cls(key, **params)


class LocalizedText(str):
    """A message that *is* its English text (for the CLI, logs and comparisons) and knows its key.

    For reasons kept in data rather than raised, e.g. why one file of an upload was skipped:
    ``LocalizedText("errors.files.empty")`` equals "empty file (0 bytes)"; ``localized("ko")``
    is the Korean sentence.
    """

    key: str
    params: dict

    def __new__(cls, key: str, /, **params: object) -> "LocalizedText":
        text = super().__new__(cls, translate(key, DEFAULT_LANGUAGE, **params))
        text.key, text.params = key, params
        return text

    def localized(self, lang: str) -> str:
        return translate(self.key, lang, **self.params)


def localized_message(error: BaseException | str, lang: str) -> str:
    """The user-facing text of ``error`` in ``lang`` (its English text for a non-localised one)."""
    if isinstance(error, (LocalizedError, LocalizedText)):
        return error.localized(lang)
    return str(error)
