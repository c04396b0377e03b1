"""Links that open a view: a page's main settings mirrored in the URL's query string.

A page lists its settings as ``Param``s (the name in the URL, the widget's session-state key, and
what values are allowed) and calls ``restore(PARAMS, page)`` *before* creating its widgets (on the page's first run in a session it copies
valid URL values into session state) and ``mirror(PARAMS)`` after them (it writes the current values
back into the URL). ``link_box()`` shows the URL of the current view. A value that is out of range is
clamped, a value of the wrong type, an unknown choice or a very long string is ignored, and either
way the page shows one short notice: a link never raises an exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence
from urllib.parse import urlencode, urlsplit

import streamlit as st

from views._i18n import t

MAX_VALUE_CHARS = 64  # longer query values are ignored
GLOBAL_PARAMS = ("lang", "projector")
_RESTORED = "_url_restored_pages"
PAGE_PATH_KEY = "_url_page_path"  # set by app.py: the url_path of the page being shown


@dataclass(frozen=True)
class Param:
    """One setting in the URL. ``kind``: "int", "float", "bool", "choice", "choice_list" (several of the
    choices, comma-separated), "float_pair" or "int_list"."""

    name: str
    key: str
    kind: str
    lo: float | None = None
    hi: float | None = None
    choices: Sequence[Any] = ()
    max_items: int = 8

    def parse(self, raw: str) -> tuple[Any, bool]:
        """(value, clamped) for a raw URL value; raises ValueError for one that cannot be used."""
        if len(raw) > self.max_chars:
            raise ValueError("too long")
        if self.kind == "choice":
            for choice in self.choices:
                if str(choice) == raw:
                    return choice, False
            raise ValueError("unknown choice")
        if self.kind == "choice_list":  # the known choices, each once; an unknown one or a repeat is dropped
            parts = [p.strip() for p in raw.split(",") if p.strip()]
            known = {str(c): c for c in self.choices}
            kept = list(dict.fromkeys(known[p] for p in parts if p in known))
            return kept, len(kept) < len(parts)
        if self.kind == "bool":
            if raw.lower() in ("1", "true", "on", "yes"):
                return True, False
            if raw.lower() in ("0", "false", "off", "no"):
                return False, False
            raise ValueError("not a boolean")
        if self.kind == "float_pair":
            parts = raw.split(",")
            if len(parts) != 2:
                raise ValueError("not a pair")
            (a, ca), (b, cb) = (self._number(p, float) for p in parts)
            return (min(a, b), max(a, b)), ca or cb
        if self.kind == "int_list":
            parts = [p for p in raw.split(",") if p != ""]
            if not 1 <= len(parts) <= self.max_items:
                raise ValueError("wrong length")
            values = [self._number(p, int) for p in parts]
            distinct = list(dict.fromkeys(v for v, _ in values))  # a repeat (typed or made by clamping) once
            return distinct, any(c for _, c in values) or len(distinct) < len(values)
        return self._number(raw, int if self.kind == "int" else float)

    @property
    def max_chars(self) -> int:
        """The longest raw value taken: MAX_VALUE_CHARS, or for a list every choice once."""
        if self.kind == "choice_list":
            return max(MAX_VALUE_CHARS, len(",".join(map(str, self.choices))))
        return MAX_VALUE_CHARS

    def _number(self, raw: str, cast) -> tuple[Any, bool]:
        value = cast(raw)  # ValueError for "abc", "1.5" as int
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("not finite")
        clamped = value
        if self.lo is not None:
            clamped = max(cast(self.lo), clamped)
        if self.hi is not None:
            clamped = min(cast(self.hi), clamped)
        return clamped, clamped != value

    def format(self, value: Any) -> str:
        if self.kind == "bool":
            return "1" if value else "0"
        if self.kind in ("float_pair", "int_list", "choice_list"):
            return ",".join(_fmt(v) for v in value)
        return _fmt(value)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def restore(params: Sequence[Param], page: str) -> list[str]:
    """On the page's first run in this session, copy valid URL values into session state.

    Returns the names that were clamped or ignored (also shown as a notice on the page).
    """
    done: set = st.session_state.setdefault(_RESTORED, set())
    if page in done:
        return []
    done.add(page)
    problems: list[str] = []
    for p in params:
        raw = st.query_params.get(p.name)
        if raw is None:
            continue
        try:
            value, clamped = p.parse(raw)
        except (ValueError, TypeError, OverflowError):
            problems.append(p.name)
            continue
        if clamped:
            problems.append(p.name)
        st.session_state[p.key] = value
    known = {p.name for p in params} | set(GLOBAL_PARAMS)
    problems += sorted(name for name in st.query_params.keys() if name not in known)[:5]
    if problems:
        shown = ", ".join(name[:24] for name in problems)
        st.toast(t("common.url_ignored", names=shown))
    return problems


def mirror(params: Sequence[Param]) -> None:
    """Write the current values of ``params`` into the URL (only those that changed); an empty value
    (no choice of a list) is left out of the link, which restores nothing."""
    for p in params:
        if p.key not in st.session_state:
            continue
        text = p.format(st.session_state[p.key])
        if text == "":
            if p.name in st.query_params:
                del st.query_params[p.name]
        elif st.query_params.get(p.name) != text:
            st.query_params[p.name] = text


def current_link() -> str:
    """The URL of this page with the current query string."""
    try:
        base = st.context.url or ""
    except Exception:
        base = ""
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme else "http://localhost:8501"
    path = st.session_state.get(PAGE_PATH_KEY, "")
    query = urlencode({k: st.query_params.get(k) for k in st.query_params.keys()})
    return f"{origin}/{path}" + (f"?{query}" if query else "")


def link_box() -> None:
    """A small expander with the link to this view (st.code has a copy button)."""
    with st.expander(t("common.copy_link"), icon=":material/link:"):
        st.caption(t("common.copy_link_help"))
        st.code(current_link(), language=None, wrap_lines=True)
