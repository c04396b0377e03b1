"""AppTest of the "How a GAN matches distributions" page: renders in English and Korean, reacts to
sliders and every button, restores its settings from the URL, styles its figures for the projector,
shows the figures and the numbers, and never raises. (AppTest never fires the Play timer, so Play
is checked by its state and the page re-rendering cleanly.)

The page's tabs are lazy (only the open tab runs), so each test opens the tab it needs."""

import base64
import json
import math
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from streamlit.testing.v1 import AppTest

from gan_core import i18n
from gan_core.toy.toy1d_train import PRESETS

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "views" / "distributions.py")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
TABS = ["explorer", "train", "saturation", "expectation"]
STEPS = re.compile(r"After (\d+) D steps and (\d+) G steps")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _latex_text(at: AppTest) -> str:
    return " ".join(e.value for e in at.latex)


def _charts(at: AppTest) -> dict[str, dict]:
    """The page's Plotly figures (as dicts), by widget key."""
    return {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def _chart(at: AppTest, key: str) -> dict:
    return next(spec for cid, spec in _charts(at).items() if key in cid)


def _chart_keys(at: AppTest) -> str:
    return " ".join(_charts(at))


def _caption_text(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def _open(at: AppTest, tab: int) -> AppTest:
    """Select a tab as a click would (its stable id), and rerun."""
    at.session_state["dist_tab_id"] = TABS[tab]
    at.run()
    assert not at.exception
    return at


def _new(lang: str = "en", query: dict | None = None) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=90)
    app.session_state["lang"] = lang
    for name, value in (query or {}).items():
        app.query_params[name] = value
    app.run()
    assert not app.exception
    return app


@pytest.fixture(scope="module")
def at() -> AppTest:
    return _new()


def test_page_renders_figures_and_numbers(at):
    keys = _chart_keys(at)
    assert "dist_explorer_fig" in keys and "dist_figure1_strip" in keys
    assert "dist_train_fig" not in keys and "dist_mc_fig" not in keys  # lazy: closed tabs did not run
    m = _metrics(at)
    assert {"V(D*, G)", "JSD(p_data ‖ p_g)", "KL(p_data ‖ p_g)", "KL(p_g ‖ p_data)"} <= set(m)
    v, jsd = float(m["V(D*, G)"]), float(m["JSD(p_data ‖ p_g)"])
    assert v == pytest.approx(-math.log(4) + 2 * jsd, abs=2e-4)  # Theorem 1, as printed
    assert "-\\log 4" in _latex_text(at)


def test_sliders_change_the_numbers_and_equal_densities_give_minus_log4(at):
    before = _metrics(at)["JSD(p_data ‖ p_g)"]
    at.slider(key="dist_g_mean").set_value(0.0).run()
    assert not at.exception
    assert _metrics(at)["JSD(p_data ‖ p_g)"] != before
    # p_g = p_data: D* = 1/2, V = -log 4.
    at.slider(key="dist_g_mean").set_value(at.slider(key="dist_mean").value)
    at.slider(key="dist_g_std").set_value(at.slider(key="dist_std").value).run()
    m = _metrics(at)
    assert float(m["V(D*, G)"]) == pytest.approx(-math.log(4), abs=1e-4)
    assert float(m["JSD(p_data ‖ p_g)"]) == pytest.approx(0.0, abs=1e-4)
    assert any("−log 4" in s.value for s in at.success)


def test_each_tab_shows_its_figures_and_explorer_values_survive_closed_tabs(at):
    at.slider(key="dist_g_mean").set_value(0.7).run()
    at.selectbox(key="dist_family").set_value("mixture").run()
    at.slider(key="dist_mix_w1").set_value(0.3).run()
    for tab, key in ((1, "dist_train_fig"), (2, "dist_sat_fig"), (3, "dist_mc_fig")):
        keys = _chart_keys(_open(at, tab))
        assert key in keys and "dist_explorer_fig" not in keys
    _open(at, 0)
    assert at.slider(key="dist_g_mean").value == 0.7  # kept while the tab was closed
    assert at.selectbox(key="dist_family").value == "mixture"
    assert at.slider(key="dist_mix_w1").value == 0.3
    at.selectbox(key="dist_family").set_value("gaussian").run()
    assert not at.exception


def test_other_families_and_d_modes(at):
    at.selectbox(key="dist_family").set_value("mixture").run()
    assert not at.exception and at.slider(key="dist_mix_w1")
    at.selectbox(key="dist_family").set_value("uniform").run()
    assert not at.exception
    assert _metrics(at)["KL(p_g ‖ p_data)"] == "∞"  # a Gaussian p_g has mass outside the interval
    at.slider(key="dist_uni").set_value((1.0, 1.0)).run()  # an empty interval: a message, no traceback
    assert not at.exception and at.error and "low < high" in at.error[0].value
    at.slider(key="dist_uni").set_value((-1.0, 1.5)).run()
    at.radio(key="dist_d_mode").set_value("partial").run()
    at.slider(key="dist_d_training").set_value(0.3).run()
    assert not at.exception
    assert any("V(D, G)" in md.value for md in at.markdown)
    at.selectbox(key="dist_family").set_value("gaussian").run()


def test_snap_buttons_set_figure1_states(at):
    for label in "abcd":
        at.button(key=f"dist_snap_{label}").click().run()
        assert not at.exception
        assert f"Figure 1 ({label})" in _caption_text(at)
    # (d): p_g = p_data, so V(D*, G) = -log 4.
    assert float(_metrics(at)["V(D*, G)"]) == pytest.approx(-math.log(4), abs=1e-4)
    at.button(key="dist_snap_c").click().run()
    assert at.radio(key="dist_d_mode").value == "frozen"
    at.button(key="dist_freeze").click().run()
    assert not at.exception


def test_changing_p_data_releases_a_frozen_d(at):
    """A D frozen for one p_data is not kept for another: the page goes back to D* and says so."""
    at.button(key="dist_snap_c").click().run()
    frozen_d = _chart(at, "dist_explorer_fig")["data"][2]["y"]
    at.selectbox(key="dist_family").set_value("uniform").run()
    assert at.radio(key="dist_d_mode").value == "optimal"
    assert "dist_frozen" not in at.session_state
    assert any("released" in i.value for i in at.info)
    at.selectbox(key="dist_family").set_value("gaussian").run()  # back to the same p_data: D* now
    assert at.radio(key="dist_d_mode").value == "optimal"
    assert _chart(at, "dist_explorer_fig")["data"][2]["y"] != frozen_d


def _steps(at: AppTest) -> tuple[int, int]:
    d, g = STEPS.search(_caption_text(at)).groups()
    return int(d), int(g)


def test_training_buttons(at):
    _open(at, 1)
    at.number_input(key="dist_t_k").set_value(2).run()
    at.button(key="dist_reset").click().run()
    assert _steps(at) == (0, 0)
    at.button(key="dist_train_d").click().run()
    assert _steps(at) == (2, 0)  # k = 2 by default
    at.button(key="dist_train_g").click().run()
    assert _steps(at) == (2, 1)
    at.button(key="dist_step").click().run()
    assert _steps(at) == (4, 2)
    at.number_input(key="dist_t_k").set_value(3).run()
    at.button(key="dist_train_d").click().run()
    assert _steps(at) == (7, 2)
    at.selectbox(key="dist_t_loss").set_value("minimax").run()
    at.button(key="dist_record").click().run()
    assert "dist_snapshots_fig" in _chart_keys(at)
    at.button(key="dist_clear").click().run()
    assert "dist_snapshots_fig" not in _chart_keys(at)
    assert not at.exception


def test_play_pause_and_structural_settings(at):
    _open(at, 1)
    at.button(key="dist_play").click().run()
    assert at.session_state["dist_playing"] is True
    assert at.button(key="dist_pause").label == "Pause"  # Play and Pause are two widgets
    # Playing, the live figure is a light SVG (a Plotly chart with new data is rebuilt in the browser)
    live = [h.proto.body for h in at.get("html") if "data:image/svg+xml;base64," in h.proto.body]
    assert len(live) == 2 and "dist_train_fig" not in _chart_keys(at)  # the figure and the history
    svg = base64.b64decode(live[0].split("base64,")[1].split('"')[0]).decode()
    assert svg.startswith("<svg") and "p_data" in svg and "learned D(x)" in svg
    for body in live:  # well-formed, or the browser draws nothing
        ElementTree.fromstring(base64.b64decode(body.split("base64,")[1].split('"')[0]))
    at.button(key="dist_pause").click().run()
    assert at.session_state["dist_playing"] is False
    assert at.button(key="dist_play").label == "Play"
    assert "dist_train_fig" in _chart_keys(at)  # paused: the interactive Plotly figure
    _open(at, 0)  # the training settings survive a closed tab
    _open(at, 1)
    assert at.number_input(key="dist_t_k").value == 3 and at.selectbox(key="dist_t_loss").value == "minimax"
    at.number_input(key="dist_t_seed").set_value(5).run()
    assert any("Reset" in i.value for i in at.info)
    at.button(key="dist_reset").click().run()
    assert not at.info and not at.exception


def test_presets_set_the_settings_and_start_a_fresh_run(at):
    _open(at, 1)
    at.button(key="dist_step").click().run()
    at.selectbox(key="dist_t_preset").set_value("sgd-stall").run()
    stall = PRESETS["sgd-stall"]
    assert at.selectbox(key="dist_t_opt").value == stall.optimizer == "sgd"
    assert at.select_slider(key="dist_t_lr_d").value == stall.lr_d
    assert _steps(at) == (0, 0) and not at.info  # a new run with the preset, no "press Reset"
    assert any("SGD" in c.value and "tiny" in c.value for c in at.caption)  # why it stalls
    at.selectbox(key="dist_t_preset").set_value("adam").run()
    assert at.selectbox(key="dist_t_opt").value == "adam"
    assert at.select_slider(key="dist_t_lr_g").value == PRESETS["adam"].lr_g


def test_figure1_strip_from_a_real_run_and_loss_comparison(at):
    _open(at, 1)
    at.button(key="dist_record_strip").click().run()
    assert not at.exception
    strip = _chart(at, "dist_snapshots_fig")
    titles = [a["text"] for a in strip["layout"]["annotations"]]
    assert [title.split("<br>")[0] for title in titles] == ["(a)", "(b)", "(c)", "(d)"]
    # The titles sit above their own panel and the legend below the strip: nothing overlaps.
    assert all(a["y"] == 1.0 and a["yanchor"] == "bottom" for a in strip["layout"]["annotations"])
    assert strip["layout"]["legend"]["y"] < 0
    assert max(len(line) for title in titles for line in title.split("<br>")) <= 18
    _open(at, 2)
    at.button(key="dist_compare").click().run()
    assert not at.exception
    fig = _chart(at, "dist_compare_fig")
    caption = next(c.value for c in at.caption if "iterations" in c.value)
    n, updates, k = map(int, re.search(r"first (\d+) iterations = (\d+) updates.*k = (\d+)", caption).groups())
    assert updates == n * (k + 1) == max(max(trace["x"]) for trace in fig["data"])  # the caption is the axis


def test_monte_carlo_section(at):
    _open(at, 3)
    at.select_slider(key="dist_mc_m").set_value(100_000).run()
    assert not at.exception
    assert any("m = 100,000" in c.value for c in at.caption)
    assert "\\int x\\,p(x)" in _latex_text(at) and "\\\\" in _latex_text(at)  # long formulas are broken


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_tab_renders_in_both_languages(lang):
    i18n.MISSING_KEYS.clear()
    app = _new(lang)
    hangul = {True: "Hangul", False: "no Hangul"}
    for tab in range(4):
        _open(app, tab)
        if tab == 1:
            app.button(key="dist_record").click().run()
        if tab == 2:
            app.button(key="dist_compare").click().run()
        assert not app.exception
        labels = [w.label for kind in ("slider", "selectbox", "radio", "number_input", "select_slider", "button")
                  for w in app.get(kind) if not re.fullmatch(r"\([a-d]\)", w.label)]
        texts = {"title": [app.title[0].value], "labels": labels, "captions": [c.value for c in app.caption],
                 "tabs": [tab.label for tab in app.tabs]}
        for what, values in texts.items():
            assert values, what
            missing = [v for v in values if bool(HANGUL.search(v)) != (lang == "ko")]
            assert not missing, f"tab {tab} {what}: {hangul[lang == 'ko']} expected in {missing}"
        for spec in _charts(app).values():  # axis titles, legend names and annotations are translated too
            texts = [tr.get("name", "") for tr in spec["data"] if tr.get("showlegend", True) is not False]
            texts += [v.get("title", {}).get("text", "") for k, v in spec["layout"].items()
                      if k.startswith(("xaxis", "yaxis"))]
            texts += [a.get("text", "") for a in spec["layout"].get("annotations", [])]
            words = [w for w in texts if re.search(r"[A-Za-z]{4,}", w.replace("p_data", "").replace("loss_", ""))]
            assert all(bool(HANGUL.search(w)) == (lang == "ko") for w in words), words
    assert i18n.MISSING_KEYS == set()


def test_switching_language_keeps_every_value_and_the_tab():
    app = _new("en")
    app.selectbox(key="dist_family").set_value("mixture").run()
    app.slider(key="dist_g_std").set_value(1.3).run()
    _open(app, 1)
    app.selectbox(key="dist_t_loss").set_value("minimax").run()
    app.session_state["lang"] = "ko"
    app.run()
    assert not app.exception
    assert app.session_state["dist_tab_id"] == "train" and HANGUL.search(app.selectbox(key="dist_t_loss").label)
    assert app.selectbox(key="dist_t_loss").value == "minimax"
    assert app.session_state["dist_family"] == "mixture" and app.session_state["dist_g_std"] == 1.3


def test_url_restores_the_view():
    app = _new("en", {"tab": "train", "family": "mixture", "m1": "-2", "w1": "0.7", "g_mean": "2.5", "g_std": "0.6",
                      "loss": "minimax", "k": "4", "seed": "17", "opt": "sgd", "lr_d": "0.1", "lr_g": "0.02",
                      "data": "two_gaussians"})
    assert app.session_state["dist_tab_id"] == "train"
    assert app.number_input(key="dist_t_k").value == 4 and app.number_input(key="dist_t_seed").value == 17
    assert app.selectbox(key="dist_t_loss").value == "minimax" and app.selectbox(key="dist_t_opt").value == "sgd"
    assert app.select_slider(key="dist_t_lr_d").value == 0.1 and app.select_slider(key="dist_t_lr_g").value == 0.02
    trainer = app.session_state["dist_trainer"]
    assert (trainer.config.k, trainer.config.seed, trainer.config.optimizer) == (4, 17, "sgd")
    assert app.query_params["tab"] == "train" and app.query_params["k"] == "4"  # mirrored back
    assert app.query_params["mean"] == "1"  # a setting the link did not give is mirrored too
    _open(app, 0)
    assert app.selectbox(key="dist_family").value == "mixture"
    assert app.slider(key="dist_mix_m1").value == -2.0 and app.slider(key="dist_mix_w1").value == 0.7
    assert app.slider(key="dist_g_mean").value == 2.5 and app.slider(key="dist_g_std").value == 0.6
    assert not app.exception


@pytest.mark.parametrize("query", [
    {"k": "999", "g_std": "-5", "mean": "1e999"},  # out of range: clamped; infinite: ignored
    {"tab": "nope", "family": "abc", "loss": "x" * 5000, "seed": "nan", "lr_d": "0.3", "interval": "2"},
    {"interval": "2.5,2.5", "tab": "explorer", "family": "uniform"},  # an empty interval
    {"seed": "1.5", "d": "frozen", "mc_m": "7", "batch": "-1", "opt": "<script>", "unknown": "1"},
])
def test_hostile_urls_are_clamped_or_ignored(query):
    app = _new("en", query)
    assert not app.exception
    for tab in range(4):
        _open(app, tab)
    s = app.session_state
    assert 1 <= s["dist_t_k"] <= 20 and 0.1 <= s["dist_g_std"] <= 2.0 and math.isfinite(s["dist_mean"])
    assert s["dist_family"] in ("gaussian", "mixture", "uniform") and s["dist_t_loss"] in ("non-saturating", "minimax")
    assert s["dist_t_opt"] in ("adam", "sgd") and s["dist_mc_m"] in (100, 1_000, 10_000, 100_000)
    if "k" in query:
        assert s["dist_t_k"] == 20 and s["dist_g_std"] == 0.1


def test_projector_mode_enlarges_figure_fonts_and_lines():
    sizes = {}
    for projector in (False, True):
        app = AppTest.from_file(PAGE, default_timeout=90)
        app.session_state["projector"] = projector
        app.run()
        _open(app, 1)
        app.button(key="dist_play").click().run()
        svg = next(base64.b64decode(h.proto.body.split("base64,")[1].split('"')[0]).decode()
                   for h in app.get("html") if "data:image/svg+xml;base64," in h.proto.body)
        _open(app, 0)
        fig = _chart(app, "dist_explorer_fig")
        strip = _chart(app, "dist_figure1_strip")
        sizes[projector] = dict(
            font=fig["layout"]["font"]["size"], ticks=fig["layout"]["xaxis"]["tickfont"]["size"],
            legend=fig["layout"]["legend"]["font"]["size"], line=fig["data"][0]["line"]["width"],
            height=fig["layout"]["height"], strip_title=strip["layout"]["annotations"][0]["font"]["size"],
            svg_font=int(re.search(r'font-size="(\d+)"', svg).group(1)),
            svg_line=float(re.search(r'stroke="black" stroke-width="([\d.]+)"', svg).group(1)))
    normal, projector = sizes[False], sizes[True]
    assert all(projector[k] > normal[k] for k in normal), sizes


def test_settings_survive_a_visit_to_another_page():
    # issue 27: the mean of p_data and the 1-D trainer's settings went back to their first values
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.switch_page("views/distributions.py").run()
    assert not at.exception
    at.slider(key="dist_mean").set_value(1.5).run()
    at.session_state["dist_tab_id"] = "train"
    at.run()
    at.number_input(key="dist_t_k").set_value(4).run()
    at.number_input(key="dist_t_seed").set_value(77).run()
    at.switch_page("views/home.py").run()
    at.switch_page("views/distributions.py").run()
    assert not at.exception
    assert at.number_input(key="dist_t_k").value == 4 and at.number_input(key="dist_t_seed").value == 77
    at.session_state["dist_tab_id"] = "explorer"
    at.run()
    assert at.slider(key="dist_mean").value == 1.5
