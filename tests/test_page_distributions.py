"""AppTest of the "How a GAN matches distributions" page: renders, reacts to sliders and every
button, shows the figures and the numbers, and never raises. (AppTest never fires the Play
timer, so Play is checked by its state and the page re-rendering cleanly.)

The page's tabs are lazy (only the open tab runs), so each test opens the tab it needs."""

import base64
import math
from xml.etree import ElementTree
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "views" / "distributions.py")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _latex_text(at: AppTest) -> str:
    return " ".join(e.value for e in at.latex)


def _chart_keys(at: AppTest) -> set[str]:
    return {c.proto.id for c in at.get("plotly_chart")}


def _caption_text(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


TABS = ["1 · Optimal D and JSD", "2 · Train a 1-D GAN", "3 · Why non-saturating", "4 · Expectation and sampling"]


def _open(at: AppTest, tab: int) -> AppTest:
    """Select a tab as a click would (the tab's state), and rerun."""
    at.session_state["dist_tab"] = TABS[tab]
    at.run()
    assert not at.exception
    return at


@pytest.fixture(scope="module")
def at() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception
    return app


def test_page_renders_figures_and_numbers(at):
    keys = " ".join(_chart_keys(at))
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
    at.selectbox(key="dist_family").set_value("Mixture of two Gaussians").run()
    at.slider(key="dist_mix_w1").set_value(0.3).run()
    for tab, key in ((1, "dist_train_fig"), (2, "dist_sat_fig"), (3, "dist_mc_fig")):
        keys = " ".join(_chart_keys(_open(at, tab)))
        assert key in keys and "dist_explorer_fig" not in keys
    _open(at, 0)
    assert at.slider(key="dist_g_mean").value == 0.7  # kept while the tab was closed
    assert at.selectbox(key="dist_family").value == "Mixture of two Gaussians"
    assert at.slider(key="dist_mix_w1").value == 0.3
    at.selectbox(key="dist_family").set_value("Gaussian").run()
    assert not at.exception


def test_other_families_and_d_modes(at):
    at.selectbox(key="dist_family").set_value("Mixture of two Gaussians").run()
    assert not at.exception and at.slider(key="dist_mix_w1")
    at.selectbox(key="dist_family").set_value("Uniform interval").run()
    assert not at.exception
    assert _metrics(at)["KL(p_g ‖ p_data)"] == "∞"  # a Gaussian p_g has mass outside the interval
    at.radio(key="dist_d_mode").set_value("partially trained D").run()
    at.slider(key="dist_d_training").set_value(0.3).run()
    assert not at.exception
    assert any("V(D, G)" in md.value for md in at.markdown)


def test_snap_buttons_set_figure1_states(at):
    for label in "abcd":
        at.button(key=f"dist_snap_{label}").click().run()
        assert not at.exception
        assert f"Figure 1 ({label})" in _caption_text(at)
    # (d): p_g = p_data, so V(D*, G) = -log 4.
    assert float(_metrics(at)["V(D*, G)"]) == pytest.approx(-math.log(4), abs=1e-4)
    at.button(key="dist_snap_c").click().run()
    assert at.radio(key="dist_d_mode").value == "D frozen at an earlier p_g"
    at.button(key="dist_freeze").click().run()
    assert not at.exception


def _steps(at: AppTest) -> tuple[int, int]:
    text = next(c.value for c in at.caption if c.value.startswith("After **"))
    d, g = text.split("**")[1].replace(" D steps and", "").replace(" G steps", "").split()
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
    assert "dist_snapshots_fig" in " ".join(_chart_keys(at))
    at.button(key="dist_clear").click().run()
    assert not any("Recorded panels" in c.value for c in at.caption)
    assert not at.exception


def test_play_pause_and_structural_settings(at):
    _open(at, 1)
    at.button(key="dist_play").click().run()
    assert at.session_state["dist_playing"] is True
    assert at.button(key="dist_pause").label == "Pause"  # Play and Pause are two widgets
    # Playing, the live figure is a light SVG (a Plotly chart with new data is rebuilt in the browser)
    live = [h.proto.body for h in at.get("html") if "data:image/svg+xml;base64," in h.proto.body]
    assert len(live) == 2 and "dist_train_fig" not in " ".join(_chart_keys(at))  # the figure and the history
    svg = base64.b64decode(live[0].split("base64,")[1].split('"')[0]).decode()
    assert svg.startswith("<svg") and "p_data" in svg and "learned D(x)" in svg
    for body in live:  # well-formed, or the browser draws nothing
        ElementTree.fromstring(base64.b64decode(body.split("base64,")[1].split('"')[0]))
    at.button(key="dist_pause").click().run()
    assert at.session_state["dist_playing"] is False
    assert at.button(key="dist_play").label == "Play"
    assert "dist_train_fig" in " ".join(_chart_keys(at))  # paused: the interactive Plotly figure
    _open(at, 0)  # the training settings survive a closed tab
    _open(at, 1)
    assert at.number_input(key="dist_t_k").value == 3 and at.selectbox(key="dist_t_loss").value == "minimax"
    at.number_input(key="dist_t_seed").set_value(5).run()
    assert any("Reset" in i.value for i in at.info)
    at.button(key="dist_reset").click().run()
    assert not at.info and not at.exception


def test_figure1_strip_from_a_real_run_and_loss_comparison(at):
    _open(at, 1)
    at.button(key="dist_record_strip").click().run()
    assert not at.exception
    strip_caption = [c.value for c in at.caption if "Recorded panels" in c.value]
    assert strip_caption
    _open(at, 2)
    at.button(key="dist_compare").click().run()
    assert not at.exception
    assert "dist_compare_fig" in " ".join(_chart_keys(at))


def test_monte_carlo_section(at):
    _open(at, 3)
    at.select_slider(key="dist_mc_m").set_value(100_000).run()
    assert not at.exception
    assert any("m = 100,000" in c.value for c in at.caption)
