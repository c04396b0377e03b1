"""A page's widgets and link parameters, built from the config's declarations (``gan_core.settings``).

``widget(setting, key)`` draws a declared setting with the widget kind, range, step and label it
declares; ``param(setting, key)`` is its ``Param`` in the page's link, with the same range. Every
widget is created with ``key=`` only (its first value set once in session state by the page) and
``persist_state="session"``: a setting survives a visit to another page for the whole session
(Streamlit otherwise forgets the value of a widget a run does not draw), and a link's value, copied
into session state on the page's first run (``views._urlstate.restore``), still comes first.
"""

from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

from gan_core.settings import Setting
from views._i18n import t
from views._urlstate import Param

PERSIST = "session"  # how long a widget keeps its value when a run does not draw it

_PARAM_KINDS = {"int": "int", "float": "float", "float_pair": "float", "choice": "choice", "text": "choice", "bool": "bool",
                "choice_list": "choice_list"}


def _bounds(s: Setting) -> tuple[Any, Any]:
    cast = int if s.kind == "int" else float
    return cast(s.low), cast(s.high)


def widget(s: Setting, key: str, where=None, *, label: str | None = None, options: Sequence | None = None,
           **kwargs) -> Any:
    """The declared widget of ``s`` under ``key`` in ``where`` (default: the sidebar); returns its value.

    ``options`` narrows a choice (e.g. the preset's image sizes); ``label`` replaces the declared one
    (e.g. one number of a pair); other keyword arguments go to the Streamlit call (``disabled``,
    ``help``, ``format_func``)."""
    where = where if where is not None else st.sidebar
    label = label if label is not None else t(s.label)
    common = dict(key=key, persist_state=PERSIST, **kwargs)
    if s.widget in ("number", "pair"):
        lo, hi = _bounds(s)
        return where.number_input(label, lo, hi, step=s.step, format=s.format, **common)
    if s.widget == "slider":
        lo, hi = _bounds(s)
        return where.slider(label, lo, hi, step=s.step, **common)
    if s.widget == "select_slider":
        return where.select_slider(label, list(options if options is not None else s.options()), **common)
    if s.widget == "select":
        return where.selectbox(label, list(options if options is not None else s.options()), **common)
    if s.widget == "radio":
        common.setdefault("horizontal", True)
        return where.radio(label, list(options if options is not None else s.options()), **common)
    if s.widget == "checkbox":
        return where.checkbox(label, **common)
    if s.widget == "multiselect":
        common.setdefault("select_all", False)  # Streamlit's "Select all" is in English only
        return where.multiselect(label, list(options if options is not None else s.options()), **common)
    raise ValueError(f"a setting with widget {s.widget!r} cannot be drawn")


def param(s: Setting, key: str, *, name: str | None = None, choices: Sequence | None = None) -> Param:
    """The link parameter of ``s`` (named as declared) for the widget under ``key``, with its range."""
    kind = _PARAM_KINDS[s.kind]
    if kind in ("int", "float") and not s.choices:
        return Param(name or s.url, key, kind, s.low, s.high)
    # a choice (or several), or a number the page offers from a list (a link can only give those values)
    return Param(name or s.url, key, kind if kind in ("bool", "choice_list") else "choice",
                 choices=list(choices if choices is not None else s.options()))


def params(s: Setting, keys: str | tuple[str, str], **kwargs) -> list[Param]:
    """``param`` for a setting drawn as one widget, or one parameter per number of a pair."""
    if isinstance(keys, tuple):
        return [param(s, key, name=name) for key, name in zip(keys, s.url)]
    return [param(s, keys, **kwargs)]
