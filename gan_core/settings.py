"""Settings declared once: a config field carries its range, help text, command-line flag and widget.

    k: int = setting(1, Setting("int", 1, 100, label="train.k", flag="--k", url="k", widget="number"))

From that one line ``check_fields`` validates the value's type and range (``TrainConfig.validate``),
``add_flag`` builds the argparse flag (its default None means "not given"; a value out of range is
refused with one sentence), and the pages build the widget and its URL parameter (views/_settings.py).
A new setting is one line here plus its catalog entries (``label``, ``help``) in gan_core/locales.
Flags that are not part of a config (``--threads``, ``--n``) are ``Setting``s too, so every number a
command accepts has one declared range. Nothing here imports streamlit.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from gan_core.i18n import LocalizedText, translate

KINDS = ("int", "float", "choice", "choice_list", "bool", "text", "float_pair")
WIDGETS = ("number", "slider", "select_slider", "select", "radio", "checkbox", "pair", "multiselect")



def is_whole(value: Any) -> bool:
    """Whether ``value`` is an int and not a bool (JSON's ``true`` is not a count or a step)."""
    return isinstance(value, int) and not isinstance(value, bool)

@dataclass(frozen=True)
class Setting:
    """One setting's declaration. ``lo``/``hi`` are inclusive bounds (numbers, or a callable for a
    bound that depends on the machine); ``choices`` a sequence or a callable returning a registry's
    names (for a number: the values a page offers, all within the range); ``label`` and ``help``
    catalog keys; ``flag`` the command-line flag (None: not on the command line), ``flag_value``
    what a flag of a "bool" setting stores; ``url`` the name in a page's link (a pair: two names);
    ``widget`` how a page shows it (None: not on a page)."""

    kind: str
    lo: float | Callable[[], float] | None = None
    hi: float | Callable[[], float] | None = None
    choices: Sequence[Any] | Callable[[], Sequence[Any]] = ()
    label: str = ""
    help: str = ""
    flag: str | None = None
    flag_value: bool = True
    url: str | tuple[str, str] | None = None
    widget: str | None = None
    step: float | None = None
    format: str | None = None

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind
        assert self.widget is None or self.widget in WIDGETS, self.widget

    @property
    def low(self) -> float | None:
        return self.lo() if callable(self.lo) else self.lo

    @property
    def high(self) -> float | None:
        return self.hi() if callable(self.hi) else self.hi

    def options(self) -> list:
        """The allowed values of a "choice" setting (read from the registry now), or the values a page
        offers for a number."""
        return list(self.choices() if callable(self.choices) else self.choices)

    def problem(self, name: str, value: Any) -> LocalizedText | None:
        """A sentence saying why ``value`` cannot be used for this setting, or None when it can."""
        if self.kind == "bool":
            return None if isinstance(value, bool) else LocalizedText("errors.settings.not_a_flag", name=name,
                                                                  value=repr(value))
        if self.kind == "text":
            return None if isinstance(value, str) and value else LocalizedText("errors.settings.not_text", name=name,
                                                                           value=repr(value))
        if self.kind == "choice":
            options = self.options()
            if any(value == o and type(value) is type(o) for o in options):
                return None
            return LocalizedText("errors.settings.choice", name=name, value=repr(value),
                             choices=", ".join(str(o) for o in options))
        if self.kind == "choice_list":  # several of the choices (a repeated flag), each at most once
            options = self.options()
            if isinstance(value, (tuple, list)) and all(isinstance(v, str) and v in options for v in value):
                return None
            return LocalizedText("errors.settings.choice", name=name, value=repr(value)[:80],
                                 choices=", ".join(str(o) for o in options))
        if self.kind == "float_pair":
            if isinstance(value, (tuple, list)) and len(value) == 2 and not any(self._number_problem(name, v)
                                                                               for v in value):
                return None
            return LocalizedText("errors.settings.pair", name=name, value=repr(value), lo=_fmt(self.low),
                                 hi=_fmt(self.high))
        return self._number_problem(name, value)

    def _number_problem(self, name: str, value: Any) -> LocalizedText | None:
        whole = self.kind == "int"
        if (not (is_whole(value) or (not whole and isinstance(value, float)))
                or (isinstance(value, float) and not math.isfinite(value))
                or (self.low is not None and value < self.low) or (self.high is not None and value > self.high)):
            return LocalizedText("errors.settings.whole_range" if whole else "errors.settings.range", name=name,
                             lo=_fmt(self.low), hi=_fmt(self.high), value=_fmt(value))
        return None

    def parse(self, text: str) -> Any:
        """A command-line value: converted and range-checked, else ``argparse.ArgumentTypeError``."""
        cast = int if self.kind == "int" else float
        try:
            value = cast(text)
        except ValueError:
            value = text
        reason = self.problem(self.flag or "", value)
        if reason:
            raise argparse.ArgumentTypeError(reason)
        return value


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def setting(default: Any, declared: Setting) -> Any:
    """A dataclass field with its declaration: ``k: int = setting(1, Setting("int", 1, 100, ...))``.

    ``None`` as the default means "the preset's" (or "not given") and always passes the checks."""
    return dataclasses.field(default=default, metadata={"setting": declared})


def declared(cls) -> dict[str, Setting]:
    """Every field of the dataclass ``cls`` with its declaration (a field without one is a bug)."""
    out = {}
    for f in dataclasses.fields(cls):
        if "setting" not in f.metadata:
            raise TypeError(f"{cls.__name__}.{f.name} has no Setting declaration")
        out[f.name] = f.metadata["setting"]
    return out


def check_fields(config, error: type) -> None:
    """Raise ``error`` (a ``LocalizedError`` class) for the first field of ``config`` outside its
    declared type or range."""
    for name, s in declared(type(config)).items():
        value = getattr(config, name)
        reason = None if value is None else s.problem(name, value)
        if reason:
            raise error(reason.key, **reason.params)


def add_flag(parser: argparse.ArgumentParser, s: Setting, dest: str | None = None,
             default: Any = None, **kwargs) -> argparse.Action:
    """Add the flag of ``s`` to ``parser``: its type, range or choices and help from the declaration.

    ``default`` None means "not given" (what ``--resume`` relies on). The action remembers its
    declaration (``action.setting``), which the fuzz tests read."""
    help_text = translate(s.help) if s.help else None
    if help_text and s.kind in ("int", "float"):
        help_text += f" [{_fmt(s.low)} to {_fmt(s.high)}]"
    if s.kind == "bool":
        action = parser.add_argument(s.flag, dest=dest, action="store_const", const=s.flag_value, default=default,
                                     help=help_text, **kwargs)
    elif s.kind == "choice":
        options = s.options()
        cast = type(options[0]) if options else str
        action = parser.add_argument(s.flag, dest=dest, type=cast, choices=options, default=default,
                                     help=help_text, **kwargs)
    elif s.kind == "choice_list":  # repeated: --ablate a --ablate b
        action = parser.add_argument(s.flag, dest=dest, action="append", choices=s.options(), default=default,
                                     help=help_text, **kwargs)
    elif s.kind == "text":
        action = parser.add_argument(s.flag, dest=dest, default=default, help=help_text, **kwargs)
    else:
        action = parser.add_argument(s.flag, dest=dest, type=s.parse, default=default, help=help_text, **kwargs)
        action.metavar = action.metavar or f"{_fmt(s.low)}..{_fmt(s.high)}"
    action.setting = s
    return action


def add_config_flags(parser: argparse.ArgumentParser, cls, skip: Sequence[str] = ()) -> list[str]:
    """Add the flag of every field of ``cls`` that declares one; returns those fields' names."""
    names = []
    for name, s in declared(cls).items():
        if s.flag and name not in skip:
            add_flag(parser, s, dest=name)
            names.append(name)
    return names


def command_line_flags(values: dict, cls, skip: Sequence[str] = ()) -> list[str]:
    """The flags that give ``values`` (a dict of ``cls``'s fields) on the command line: the inverse of
    ``add_config_flags`` (a report's "the command that reproduces this run")."""
    args: list[str] = []
    for name, s in declared(cls).items():
        value = values.get(name)
        if not s.flag or value is None or name in skip:
            continue
        if s.kind == "bool":
            args += [s.flag] if value == s.flag_value else []
        elif s.kind == "choice_list":
            args += [part for v in value for part in (s.flag, str(v))]
        else:
            args += [s.flag, str(value)]
    return args


# --- settings many commands share -------------------------------------------------------------------------

# 2^31 - 1: every RNG takes it (numpy's legacy seeding stops at 2^32, torch's at 2^64) and the page's
# number box holds it exactly (JavaScript integers are exact to 2^53).
SEED = Setting("int", 0, 2**31 - 1, label="train.seed", help="settings.help.seed", flag="--seed", url="seed",
               widget="number")


def max_threads() -> int:
    """More threads than this machine's logical cores never speed torch up: the extra threads time-share
    a core with the others (and OpenMP's spin-wait makes them steal it), and tens of thousands fail to
    start at all (``libgomp: Thread creation failed``, then a crash)."""
    return max(1, os.cpu_count() or 1)


THREADS = Setting("int", 1, max_threads, help="settings.help.threads", flag="--threads")
