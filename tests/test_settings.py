"""Each setting declared once (gan_core.settings, issue 27): every TrainConfig field's declaration
reaches validate(), the train command's flags, the training page's widgets and its link parameters
with one range; a new field without a declaration, or one that a surface forgets, fails here."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core.cli import build_parser
from gan_core.models import ConfigError
from gan_core.settings import Setting, declared
from gan_core.trainer import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
FIELDS = declared(TrainConfig)
# set on the command line by something else: --beta1 sets both pairs' beta1; the grid size is the preset's
NO_FLAG = {"betas_d", "betas_g", "n_fixed"}


def train_flags() -> dict[str, argparse.Action]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices["train"]._actions}


@pytest.fixture(scope="module")
def page():
    """The training page as a student first sees it (the preset "small", dataset mnist5k)."""
    from views._train_settings import field_keys, url_params

    at = AppTest.from_file(str(ROOT / "views" / "train.py"), default_timeout=90).run()
    assert not at.exception
    widgets = {w.key: w for kind in ("number_input", "slider", "selectbox", "radio", "checkbox", "multiselect")
               for w in getattr(at, kind)}
    return widgets, field_keys("small", "mnist5k"), {p.key: p for p in url_params("small", "mnist5k")}


def test_every_field_is_declared_and_checked_by_its_declaration():
    assert [f for f in TrainConfig.__dataclass_fields__] == list(FIELDS)  # none without a declaration
    for name, s in FIELDS.items():
        if s.kind in ("int", "float"):
            for bad in (s.low - 1, s.high * 2 + 1):
                with pytest.raises(ConfigError, match=f"^{name} must be"):
                    TrainConfig(**{name: bad}).resolved()


@pytest.mark.parametrize("name", list(FIELDS))
def test_each_field_has_one_range_on_the_command_line(name):
    s, flags = FIELDS[name], train_flags()
    if name in NO_FLAG:
        assert s.flag is None
        return
    action = flags[name]
    assert action.setting is s and action.option_strings == [s.flag]
    if s.kind in ("int", "float"):
        assert action.type(str(s.low)) == s.low and action.type(str(s.high)) == s.high
        for outside in (s.low - 1, s.high + 1):
            with pytest.raises(argparse.ArgumentTypeError, match=s.flag):
                action.type(str(outside))
    elif s.kind == "choice":
        assert list(action.choices) == s.options()
    elif s.kind == "choice_list":  # repeated: each value one of the choices
        assert action.nargs is None and isinstance(action, argparse._AppendAction)
        assert list(action.choices) == s.options()
    assert action.default is None  # "not given": --resume keeps the checkpoint's value


@pytest.mark.parametrize("name", [n for n, s in FIELDS.items() if s.widget])
def test_each_field_with_a_widget_is_on_the_page_and_in_its_link_with_the_same_range(name, page):
    from gan_core.data.datasets import dataset_names
    from gan_core.models import ablations_for, get_preset
    from views._train_settings import DEFAULT_PRESET, OWN_IMAGES

    widgets, keys, params = page
    s = FIELDS[name]
    # a choice the page narrows: the preset's image sizes and ablations; the registry's datasets and the
    # student's own
    sizes = list(get_preset(DEFAULT_PRESET).image_sizes)
    options = {"image_size": sizes, "dataset": dataset_names() + [OWN_IMAGES],
               "ablations": ablations_for(DEFAULT_PRESET)}.get(name) or s.options()
    for key in (keys[name] if isinstance(keys[name], tuple) else (keys[name],)):
        w, p = widgets[key], params[key]
        assert p.name in ((s.url,) if isinstance(s.url, str) else s.url)
        if s.kind in ("int", "float", "float_pair"):
            assert (w.min, w.max) == (s.low, s.high) and (p.lo, p.hi) == (s.low, s.high), (name, w.min, w.max)
        elif s.kind in ("choice", "text"):  # the widget shows each option by its (translated) name
            assert len(w.options) == len(options) and list(p.choices) == options, name
        elif s.kind == "choice_list":  # several of the choices, in the link too
            assert len(w.options) == len(options) and list(p.choices) == options and p.kind == "choice_list", name
            assert w.value == [] and set(options) <= set(s.options())
        elif s.kind == "bool":
            assert p.kind == "bool" and isinstance(w.value, bool)
        else:
            raise AssertionError(f"{name}: no check for a setting of kind {s.kind}")


def test_a_link_gives_a_list_of_known_choices_each_once():
    from views._settings import param
    from views._urlstate import Param

    p = param(FIELDS["ablations"], "key", choices=["no-bn-g", "relu-d", "pooling"])
    assert p == Param("ablations", "key", "choice_list", choices=["no-bn-g", "relu-d", "pooling"])
    assert p.parse("relu-d,pooling") == (["relu-d", "pooling"], False)
    assert p.parse("") == ([], False)  # none
    assert p.parse("pooling, no-such,pooling,no-bn-d") == (["pooling"], True)  # dropped: the page says so
    assert p.format(["relu-d", "pooling"]) == "relu-d,pooling" and p.format([]) == ""
    every = param(FIELDS["ablations"], "key")  # a link naming all of them is not "too long"
    assert every.parse(",".join(every.choices)) == (every.choices, False) and len(",".join(every.choices)) > 64
    with pytest.raises(ValueError, match="too long"):
        every.parse("x" * (every.max_chars + 1))


def test_run_length_and_seed_have_one_range_on_the_page_and_the_command_line(page):
    from gan_core.trainer import EPOCHS, STEPS

    widgets, _, params = page
    flags = train_flags()
    for key, s in (("train_steps", STEPS), ("train_seed", FIELDS["seed"])):
        assert (widgets[key].min, widgets[key].max) == (s.low, s.high) == (params[key].lo, params[key].hi)
        assert flags[key.removeprefix("train_")].setting is s
    assert flags["epochs"].setting is EPOCHS and (params["train_epochs"].lo, params["train_epochs"].hi) == (
        EPOCHS.low, EPOCHS.high)
    assert STEPS.high == 10_000_000 and FIELDS["seed"].high == 2**31 - 1


def test_a_declaration_refuses_wrong_types_and_values_in_a_sentence():
    s = Setting("int", 1, 10, flag="--x")
    assert s.problem("x", 5) is None
    for bad in (0, 11, 2.0, True, "3", None, math.nan):
        assert "x must be a whole number from 1 to 10" in s.problem("x", bad)
    pair = Setting("float_pair", 0.0, 0.9999)
    assert pair.problem("b", (0.5, 0.9)) is None and pair.problem("b", [0.5, 0.99]) is None
    for bad in ((0.5,), (0.5, 1.0), "0.5,0.9", (0.5, math.inf)):
        assert "b must be two numbers from 0 to 0.9999" in pair.problem("b", bad)
    with pytest.raises(argparse.ArgumentTypeError, match=r"--x must be a whole number from 1 to 10, not abc\."):
        s.parse("abc")


@pytest.mark.parametrize("page_file,config", [("modes.py", "Toy2DConfig"), ("distributions.py", "Toy1DConfig")])
def test_each_toy_setting_is_on_its_page_and_in_its_link_with_the_declared_range(page_file, config):
    from gan_core.i18n import translate
    from gan_core.toy import toy1d_train, toy2d_train

    cls = getattr(toy2d_train if config == "Toy2DConfig" else toy1d_train, config)
    shown = {name: s for name, s in declared(cls).items() if s.widget}
    # a link at the edge of every range: a number past its top is clamped to it, a listed value is taken
    # (the loss: one both pages offer; the 1-D page offers two of the losses)
    link = {name: (str(s.high + 1), s.high) if s.widget == "number" else
            (("minimax",) * 2 if name == "loss" else (str(s.options()[-1]), s.options()[-1]))
            for name, s in shown.items()}
    at = AppTest.from_file(str(ROOT / "views" / page_file), default_timeout=90)
    for name, (raw, _) in link.items():
        at.query_params[shown[name].url] = raw
    at.session_state["dist_tab_id"] = "train"  # the 1-D trainer's tab (lazy tabs: only the open one runs)
    at.run()
    assert not at.exception
    widgets = {w.label: w for kind in ("number_input", "select_slider", "selectbox", "radio")
               for w in getattr(at, kind)}
    for name, s in shown.items():
        w = widgets[translate(s.label)]  # drawn, with its declared label
        assert w.value == link[name][1], name  # the link's value, within the declared range
        assert s.url in at.query_params, name  # and mirrored back into the link
        if s.widget == "number":
            assert (w.min, w.max) == (s.low, s.high), name
        elif s.kind in ("int", "float"):  # a number offered from a list: every value within the range
            assert [float(str(o)) for o in w.options] == [float(o) for o in s.options()], name
            assert all(s.low <= o <= s.high for o in s.options())
        elif name != "loss":
            assert len(w.options) == len(s.options()), name
