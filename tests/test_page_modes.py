"""AppTest of the mode-collapse page: renders in English and Korean, steps Algorithm 1 with every button,
switches presets (and says what changed), toggles layers, trains on uploaded and drawn points (and
refuses bad ones with a sentence), restores its settings from the URL, styles its figures for the
projector and never raises. AppTest never fires the Play timer: Play is checked by the SVG it draws
and Pause by the Plotly figure coming back; live Play is the browser's job (tests/e2e/test_modes_page.py)."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image, ImageColor
from streamlit.testing.v1 import AppTest

from gan_core import i18n
from gan_core.toy.toy2d import POINTS_PER_CLICK
from gan_core.toy.toy2d_train import PRESETS

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "views" / "modes.py")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
STEPS = re.compile(r"After (\d+) D steps and (\d+) G steps")


def _new(lang: str = "en", query: dict | None = None, projector: bool = False) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=90)
    app.session_state["lang"] = lang
    app.session_state["projector"] = projector
    for name, value in (query or {}).items():
        app.query_params[name] = value
    app.run()
    assert not app.exception
    return app


def _charts(at: AppTest) -> dict[str, dict]:
    return {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def _chart(at: AppTest, key: str) -> dict:
    return next(spec for cid, spec in _charts(at).items() if cid.endswith(key))


def _steps(at: AppTest) -> tuple[int, int]:
    match = STEPS.search(" ".join(c.value for c in at.caption))
    assert match, [c.value for c in at.caption]
    return int(match.group(1)), int(match.group(2))


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _live_view(at: AppTest) -> str:
    """The HTML of the view Play draws (the element whose label is the view's alt text)."""
    alt = i18n.translate("modes.fig.view_alt", at.session_state["lang"])
    for h in at.get("html"):
        if f'aria-label="{alt}"' in h.proto.body:
            return h.proto.body
    raise AssertionError("no live view on the page")


def _pngs(html: str) -> list[Image.Image]:
    """The PNG images of the live view, in order."""
    return [Image.open(io.BytesIO(base64.b64decode(data))).convert("RGBA")
            for data in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def _pixels_of(image: Image.Image, colour: str, tolerance: int = 40) -> int:
    """Pixels of ``image`` close to ``colour`` (opaque enough to be seen)."""
    rgba = np.asarray(image).astype(int)
    target = np.array(ImageColor.getrgb(colour)[:3])
    return int(((np.abs(rgba[..., :3] - target).max(-1) <= tolerance) & (rgba[..., 3] > 100)).sum())


@pytest.fixture(scope="module")
def at() -> AppTest:
    return _new()


def test_page_renders_the_collapse_preset_with_its_view_numbers_and_charts(at):
    assert at.session_state["modes_preset"] == "collapse-it" and at.session_state["modes_k"] == PRESETS["collapse-it"].config.k
    assert _steps(at) == (0, 0)
    metrics = _metrics(at)
    assert metrics["modes covered"].endswith("/ 8") and "±" in metrics["JS divergence"]
    view = _chart(at, "modes_view")
    names = {trace.get("name") for trace in view["data"]}
    assert {"real x", "G(z)", "D(x)", "G's push", "manifold"} <= names  # trails need two frames (below)
    assert view["layout"]["yaxis"]["scaleanchor"] == "x"  # one unit is as long on both axes
    assert len(view["layout"]["shapes"]) == 8  # the 3-sigma circle of each mode of the ring
    charts = _chart(at, "modes_charts_fig")
    titles = [a["text"] for a in charts["layout"]["annotations"]]
    assert titles[:2] == ["modes covered (of 8)", "high quality (% within 3σ)"] and len(titles) == 6
    assert any("k = 5" in m.value for m in at.markdown)  # the preset says what it does


def test_buttons_walk_algorithm_1_one_update_or_one_iteration_at_a_time():
    app = _new()
    k = app.session_state["modes_k"]
    app.button(key="modes_step").click().run()
    assert _steps(app) == (k, 1)
    assert "trails" in {trace.get("name") for trace in _chart(app, "modes_view")["data"]}
    app.button(key="modes_d_step").click().run()
    assert _steps(app) == (k + 1, 1)
    view = _chart(app, "modes_view")
    assert view["layout"]["title"]["text"].startswith("<b>D is learning")  # the network that moved, in words
    frame = [s for s in view["layout"]["shapes"] if s.get("line", {}).get("width") == 5]  # framed in its colour,
    assert [(s["x0"], s["x1"], s["y0"], s["y1"]) for s in frame] == [tuple(view["layout"]["xaxis"]["range"] +
                                                                          view["layout"]["yaxis"]["range"])]  # round the plot
    app.button(key="modes_g_step").click().run()
    assert _steps(app) == (k + 1, 2)
    assert _chart(app, "modes_view")["layout"]["title"]["text"] == "<b>G is moving</b>"
    js = [v for v in _chart(app, "modes_charts_fig")["data"] if v.get("name") == "JS"]
    assert js[0]["x"] == [0, k + 1, k + 2, k + 3]  # at the start and after each change, at the updates so far
    # (the paused page measures what it shows)
    app.button(key="modes_reset").click().run()
    assert _steps(app) == (0, 0)
    assert not app.exception


def test_play_draws_the_view_as_images_with_every_layer_and_pause_brings_back_plotly():
    app = _new()
    app.button(key="modes_play").click().run()
    assert app.session_state["modes_playing"] and [b.label for b in app.button][0] == "Pause"
    html = _live_view(app)
    ElementTree.fromstring(html.replace("&", "&amp;"))  # well-formed (as XML: every tag closed)
    assert all(f">{name}<" in html for name in ("real x", "G(z)", "D(x)", "G's push", "manifold"))  # the legend
    assert STEPS.search(html)  # the step counter is part of the view's HTML while playing (one element a frame)
    heat, points = _pngs(html)  # D(x) on its grid, and the points and lines drawn on the server
    assert heat.size == (60, 60) and points.size[0] > 400
    assert _pixels_of(points, "#c0392b") > 50 and _pixels_of(points, "#1a9e3f") > 50  # arrows, G's points
    assert not [k for k in _charts(app) if k.endswith("modes_view")]
    app.button(key="modes_pause").click().run()
    assert not app.session_state["modes_playing"]
    assert _chart(app, "modes_view") and not app.exception


def test_presets_differ_in_k_and_the_page_says_what_was_changed():
    app = _new()
    app.selectbox(key="modes_preset").set_value("fix-it").run()
    assert app.session_state["modes_k"] == PRESETS["fix-it"].config.k == 1
    assert any("k = 1" in m.value for m in app.markdown)
    app.number_input(key="modes_k").set_value(3).run()
    caption = " ".join(c.value for c in app.caption)
    assert "Changed from the preset: k (D steps per G step) 3 (preset: 1)" in caption
    assert _steps(app) == (0, 0)  # new settings: a new run
    app.selectbox(key="modes_preset").set_value("custom").run()
    assert app.session_state["modes_k"] == 3 and "Changed from the preset" not in " ".join(c.value for c in app.caption)


def test_layers_switch_traces_on_and_off():
    app = _new()
    app.session_state["modes_layers"] = ["real", "fake"]
    app.run()
    names = {trace.get("name") for trace in _chart(app, "modes_view")["data"]}
    assert names == {"real x", "G(z)"}
    app.button(key="modes_play").click().run()
    (points,) = _pngs(_live_view(app))  # no D shading
    assert _pixels_of(points, "#c0392b") == 0 and _pixels_of(points, "#1a9e3f") > 100  # no arrows; G's points


def test_other_targets_and_a_single_gaussian_without_modes():
    app = _new()
    app.selectbox(key="modes_target").set_value("grid25").run()
    assert _metrics(app)["modes covered"].endswith("/ 25")
    assert len(_chart(app, "modes_view")["layout"]["shapes"]) == 25
    app.selectbox(key="modes_target").set_value("two-moons").run()
    assert "modes covered" not in _metrics(app) and "JS divergence" in _metrics(app)  # no modes to count


def test_an_uploaded_csv_trains_and_a_bad_one_is_refused_with_a_sentence():
    app = _new()
    app.selectbox(key="modes_target").set_value("csv").run()
    assert app.info and not app.error
    rows = "x,y\n" + "\n".join(f"{i % 3 * 2.0 + 0.01 * i},{(i % 3) - 1.0}" for i in range(90))
    app.file_uploader(key="modes_upload").set_value(("three.csv", rows.encode(), "text/csv")).run()
    assert not app.error and _steps(app) == (0, 0)
    app.button(key="modes_step").click().run()
    assert _steps(app)[1] == 1
    real = next(tr for tr in _chart(app, "modes_view")["data"] if tr.get("name") == "real x")
    assert len(real["x"]) == 90
    app.file_uploader(key="modes_upload").set_value(("bad.csv", b"x,y\n1,2\n3,abc\n", "text/csv")).run()
    assert [e.value for e in app.error] == [i18n.translate("errors.toy2d.csv_not_numbers", "en", line=3)]
    assert not app.exception


def test_points_near_the_csv_limit_are_standardised_with_the_factor_shown_and_train():
    app = _new()
    app.selectbox(key="modes_target").set_value("csv").run()
    rows = "\n".join(f"{(i % 3) * 4e5 - 4e5},{(i % 3) * 3e5 + 1e4}" for i in range(90))  # 3 points, x and y 3e5-4e5 apart
    app.file_uploader(key="modes_upload").set_value(("far.csv", rows.encode(), "text/csv")).run()
    note = next(c.value for c in app.caption if "standardised" in c.value)
    factor = float(re.search(r"divided by ([\d,.]+)", note).group(1).replace(",", ""))
    assert 280_000 < factor < 300_000 and "(0, 310000)" in note  # the centre moved to 0, the spread to 1
    real = next(tr for tr in _chart(app, "modes_view")["data"] if tr.get("name") == "real x")
    assert max(abs(v) for v in real["x"] + real["y"]) < 3  # shown as trained
    for _ in range(3):
        app.button(key="modes_step").click().run()
    assert not app.error and not app.exception and _steps(app)[1] == 3  # it used to diverge at step 0


@pytest.mark.parametrize("content", [
    b"7" * 200_000 + b",1\n" + b"1,2\n" * 20,  # a first field over the csv module's limit (131,072)
    b'x,y\n"1,2\n' + b"3,4\n" * 20,  # a quote left open
    b"1,2\n\x00\x00,\x00\n" * 10,  # NUL bytes
    b"\xef\xbb\xbf" + b"\xff" * 100,  # a BOM and then no text
    b"1,2," * 100_000,  # one line of 200,000 columns
])
def test_every_unreadable_upload_is_refused_with_one_sentence(content):
    app = _new()
    app.selectbox(key="modes_target").set_value("csv").run()
    app.file_uploader(key="modes_upload").set_value(("hostile.csv", content, "text/csv")).run()
    assert not app.exception, app.exception
    assert len(app.error) == 1 and "CSV" in app.error[0].value and "Error" not in app.error[0].value


def test_clicks_on_the_canvas_draw_a_target_and_clear_empties_it():
    app = _new()
    app.selectbox(key="modes_target").set_value("draw").run()
    canvas = _chart(app, "modes_canvas")
    assert canvas["layout"].get("dragmode") is None  # Streamlit picks: a click selects a point (Box Select: a box)
    assert app.info  # how to draw
    app.session_state["modes_clicks"] = [(-1.0, 0.0), (1.5, 1.0)]  # what the canvas callback stores
    app.run()
    caption = " ".join(c.value for c in app.caption)
    assert f"{2 * POINTS_PER_CLICK} points now" in caption
    real = next(tr for tr in _chart(app, "modes_canvas")["data"] if tr.get("name") == "real x")
    assert len(real["x"]) == 2 * POINTS_PER_CLICK
    app.session_state["modes_boxes"] = [(0.0, 1.0, -2.0, -1.0)]
    app.run()
    assert "points now" in " ".join(c.value for c in app.caption) and _steps(app) == (0, 0)
    app.button(key="modes_clear_drawing").click().run()
    assert app.info and not app.session_state["modes_clicks"] and not app.exception


def test_a_drawing_out_of_range_is_refused_with_a_sentence():
    app = _new()
    app.selectbox(key="modes_target").set_value("draw").run()
    app.session_state["modes_clicks"] = [(1e9, 0.0)]
    app.run()
    # (an engine error's values are shown as text: "1e+06" arrives as "1e\\+06" in the Markdown)
    assert [e.value for e in app.error] == [i18n.translate("errors.toy2d.drawing_bad_value", "en", limit="1e\\+06")]
    assert not app.exception


def test_korean_page_is_korean():
    app = _new("ko")
    texts = [app.title[0].value, *[m.value for m in app.markdown], *[c.value for c in app.caption],
             *[m.label for m in app.metric], *[b.label for b in app.button]]
    assert all(HANGUL.search(text) for text in texts if text and not text.startswith("$$")), texts
    assert not i18n.MISSING_KEYS


def test_settings_come_from_the_url_and_go_back_into_it():
    app = _new(query={"preset": "custom", "k": "3", "target": "grid25", "lr_g": "0.0005", "z_dim": "1"})
    s = app.session_state
    assert (s["modes_k"], s["modes_target"], s["modes_lr_g"], s["modes_noise_dim"]) == (3, "grid25", 0.0005, 1)
    assert _metrics(app)["modes covered"].endswith("/ 25")
    app.number_input(key="modes_k").set_value(4).run()
    assert app.query_params["k"] in ("4", ["4"])


def test_projector_mode_enlarges_the_view_and_the_charts():
    sizes = {}
    for projector in (False, True):
        app = _new(projector=projector)
        view, charts = _chart(app, "modes_view"), _chart(app, "modes_charts_fig")
        app.button(key="modes_play").click().run()
        html = _live_view(app)
        sizes[projector] = dict(font=view["layout"]["font"]["size"], chart_font=charts["layout"]["font"]["size"],
                                live_font=int(re.search(r"font-size:(\d+)px", html).group(1)),
                                legend_dot=int(re.search(r"width:(\d+)px;height:\d+px;border-radius:50%", html).group(1)))
        titles = charts["layout"]["annotations"]  # centred on their charts, two charts to a row on a projector
        assert all(a["xanchor"] == "center" for a in titles) and len({a["x"] for a in titles}) == (2 if projector else 3)
    assert all(sizes[True][k] > sizes[False][k] for k in sizes[False]), sizes


def test_settings_and_a_links_values_survive_a_visit_to_another_page():
    # issue 27: k, the seed and lr_d went back to the preset's after a look at the home page
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["batch"] = "64"
    at.switch_page("views/modes.py").run()
    assert not at.exception and at.select_slider(key="modes_batch").value == 64  # the link
    at.number_input(key="modes_k").set_value(3).run()
    at.number_input(key="modes_seed").set_value(77).run()
    at.select_slider(key="modes_lr_d").set_value(5e-3).run()
    at.switch_page("views/home.py").run()
    at.switch_page("views/modes.py").run()
    assert not at.exception
    assert at.number_input(key="modes_k").value == 3 and at.number_input(key="modes_seed").value == 77
    assert at.select_slider(key="modes_lr_d").value == 5e-3 and at.select_slider(key="modes_batch").value == 64


SVG = "{http://www.w3.org/2000/svg}"


def _graph(at: AppTest) -> tuple[ElementTree.Element, str]:
    """The overview graph beside the view: its SVG (decoded from the image) and the words under it."""
    body = next(h.proto.body for h in at.get("html") if 'class="modes-graph"' in h.proto.body)
    body = body[body.index('class="modes-graph"'):]
    svg = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', body).group(1)).decode()
    return ElementTree.fromstring(svg), html.unescape(re.sub(r"<[^>]+>", " ", body[body.index("<p"):]))


def _nodes(svg: ElementTree.Element) -> dict[str, dict]:
    """Each node's texts (symbol, term) and its box's fill."""
    return {g.get("data-node"): {"texts": [t.text for t in g.iter(f"{SVG}text")], "fill": g.find(f"{SVG}rect").get("fill")}
            for g in svg.iter(f"{SVG}g") if g.get("data-node")}


def _gradient(svg: ElementTree.Element) -> list[tuple[str, str]]:
    """The gradient arrows drawn, (from, to), and their colour."""
    return [(line.get("data-gradient"), line.get("stroke")) for line in svg.iter(f"{SVG}line") if line.get("data-gradient")]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_overview_graph_names_every_node_and_lights_the_network_each_step_updates(lang):
    tr = lambda key: i18n.translate(key, lang)  # noqa: E731
    app = _new(lang)
    svg, words = _graph(app)
    nodes = _nodes(svg)
    assert [nodes[n]["texts"] for n in ("z", "G", "fake", "real", "D", "prediction")] == [
        [symbol, tr(f"modes.graph.node.{n}")] for n, symbol in
        (("z", "z"), ("G", "G"), ("fake", "G(z)"), ("real", "x"), ("D", "D"), ("prediction", "D(·)"))]
    assert nodes["loss"]["texts"] == ["loss", tr("modes.graph.node.loss")]
    assert all(node["fill"] == "white" for node in nodes.values()) and not _gradient(svg)  # nothing updated yet
    assert tr("modes.graph.status.none") in " ".join(words.split())

    app.button(key="modes_d_step").click().run()
    svg, words = _graph(app)
    nodes = _nodes(svg)
    assert nodes["D"]["fill"] == "#1f4fd1" and nodes["G"]["fill"] == "white"  # D in its colour (blue)
    assert _gradient(svg) == [("loss-prediction", "#1f4fd1"), ("prediction-D", "#1f4fd1")]  # back into D only
    assert nodes["loss"]["texts"][0] == "loss_D" and tr("modes.graph.status.D") in " ".join(words.split())

    app.button(key="modes_g_step").click().run()
    svg, words = _graph(app)
    nodes = _nodes(svg)
    assert nodes["G"]["fill"] == "#1a9e3f" and nodes["D"]["fill"] == "white"  # G in green; D passes it on, fixed
    assert [edge for edge, colour in _gradient(svg) if colour == "#1a9e3f"] == [
        "loss-prediction", "prediction-D", "D-fake", "fake-G"]
    assert nodes["D"]["texts"] == ["D", tr("modes.graph.node.D"), tr("modes.graph.fixed")]
    assert tr("modes.graph.status.G") in " ".join(words.split())

    app.button(key="modes_step").click().run()  # a whole iteration: no single update to show
    assert not _gradient(_graph(app)[0])
    assert not app.exception


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_each_node_of_the_graph_opens_its_explanation(lang):
    app = _new(lang)
    popovers = {p.proto.id.rsplit("-", 1)[-1]: p for p in app.get("popover")}
    nodes = ("z", "G", "fake", "real", "D", "prediction", "loss")
    assert set(popovers) >= {f"modes_graph_{n}" for n in nodes}
    for n in nodes:
        text = " ".join(m.value for m in popovers[f"modes_graph_{n}"].markdown)
        assert text == i18n.translate(f"modes.graph.explain.{n}", lang) and text.startswith("**")
    assert popovers["modes_graph_loss"].proto.popover.label == i18n.translate("modes.graph.loss_symbol", lang)
    if lang == "ko":
        assert all(term in " ".join(m.value for p in popovers.values() for m in p.markdown)
                   for term in ("생성자", "판별자", "잠재 벡터", "노이즈", "가치함수", "손실함수"))


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_compare_shows_two_runs_one_setting_apart_labelled_by_what_differs(lang):
    tr = lambda key, **kw: i18n.translate(key, lang, **kw)  # noqa: E731
    app = _new(lang)
    assert not [k for k in _charts(app) if "modes_cmp_view" in k]  # off at first
    app.selectbox(key="modes_compare").set_value("k").run()
    labels = [m.value for m in app.markdown if m.value in ("**k = 1**", "**k = 5**")]
    assert labels == ["**k = 1**", "**k = 5**"]
    assert all(_chart(app, f"modes_cmp_view_{i}") for i in (0, 1))
    app.button(key="modes_cmp_step").click().run()
    left, right = app.session_state["modes_cmp_pair"].trainers
    assert (left.d_steps, left.g_steps, right.d_steps, right.g_steps) == (1, 1, 5, 1)  # together, by iteration
    assert (left.config.k, right.config.k) == (1, 5) and left.config.seed == right.config.seed
    captions = " ".join(c.value for c in app.caption)
    assert tr("modes.counter", d=1, g=1) in captions and tr("modes.counter", d=5, g=1) in captions

    app.selectbox(key="modes_compare").set_value("loss").run()
    names = [tr(f"train.loss_name.{loss}") for loss in ("non-saturating", "minimax")]
    assert [m.value for m in app.markdown if m.value.strip("*") in names] == [f"**{n}**" for n in names]
    left, right = app.session_state["modes_cmp_pair"].trainers
    assert (left.config.loss, right.config.loss) == ("non-saturating", "minimax")
    assert left.config.k == right.config.k == app.session_state["modes_k"]  # the rest as the page's settings
    app.button(key="modes_cmp_play").click().run()  # AppTest draws Play's first frame (its timer never fires)
    live = next(h.proto.body for h in app.get("html") if "modes-stage" in h.proto.body and names[0] in h.proto.body)
    assert live.count('role="img"') == 2 and names[1] in live
    assert not app.exception


def test_a_link_opens_the_compare_and_the_link_follows_it():
    app = _new(query={"compare": "k"})  # the lecture's "watch k = 5 collapse beside k = 1" in one click
    assert app.selectbox(key="modes_compare").value == "k"
    assert [m.value for m in app.markdown if m.value in ("**k = 1**", "**k = 5**")] == ["**k = 1**", "**k = 5**"]
    app.selectbox(key="modes_compare").set_value("loss").run()
    assert app.query_params["compare"] in ("loss", ["loss"])
