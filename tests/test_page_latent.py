"""AppTest of the latent explorer page: opens on the shipped generator, reacts to sliders, exports
interpolations as GIF/PNG, keeps every choice across its sections, speaks English and Korean,
restores a view from its link (and ignores hostile links), grows in projector mode, and turns bad
uploads into a message that names the file."""

import base64
import io
import json
import pickle
import re
from pathlib import Path

import pytest
import torch
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from gan_core import i18n, latent
from helpers import zip_bytes

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "views" / "latent.py")
SHIPPED = ROOT / "assets" / "generator-mnist5k"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
SECTIONS = ["move", "interpolation", "arithmetic", "memorisation"]
NOTES = {"move": "move", "interpolation": "interp", "arithmetic": "arith", "memorisation": "mem"}  # catalog prefixes


@pytest.fixture
def media(monkeypatch):
    """Bytes of every media file (images, downloads) the page hands to Streamlit, by file id."""
    stored: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes):
            stored[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return stored


@pytest.fixture
def pin_language(monkeypatch):
    """AppTest formats a rerun's radio and select-box options in the test's own thread, where there is
    no session and so no chosen language: pin the language for both threads."""
    from views import _i18n

    def pin(lang: str) -> None:
        monkeypatch.setattr(_i18n, "current_language", lambda: lang)

    return pin


def _file_bytes(media: dict[str, bytes], url: str) -> bytes:
    file_id = url.rsplit("/", 1)[-1].split(".")[0]
    return media[file_id]


def _main_image(at: AppTest) -> str:
    return at.image[0].value[0]  # G(z): the first image on the "Move z" section


def _page(query: dict[str, str] | None = None, **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    for key, value in state.items():
        at.session_state[key] = value
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def _z_chart(at: AppTest) -> str:
    """The z bar chart's SVG (an <img> with a data URI inside an html element)."""
    for element in at.get("html"):
        found = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', element.proto.body)
        if found:
            svg = base64.b64decode(found.group(1)).decode()
            if "z_chart" in svg or "<rect" in svg:
                return svg
    raise AssertionError("no z chart on the page")


def _bars(svg: str) -> list[tuple[float, str]]:
    """(height, colour) of each bar of the z chart."""
    return [(float(h), c) for h, c in re.findall(r'<rect [^>]*height="([\d.]+)" fill="(#[0-9a-f]+)"', svg)]


def _zip(config: dict | None = None) -> bytes:
    return zip_bytes({"config.json": SHIPPED / "config.json" if config is None else json.dumps(config),
                      "generator.safetensors": SHIPPED / "generator.safetensors"})


def test_opens_on_the_shipped_generator_without_training():
    at = _page()
    _assert_clean(at)
    assert at.selectbox(key="lat_source").value == "generator-mnist5k"
    assert "mnist5k" in " ".join(c.value for c in at.caption)
    assert len(at.image) >= 1 + 5 + 1  # G(z), one strip per direction, the plane
    bars = _bars(_z_chart(at))  # z as a bar chart: one bar per dimension, the slider dimensions orange
    assert len(bars) == json.loads((SHIPPED / "config.json").read_text())["model"]["latent_dim"] and {c for _, c in bars} == {"#e67e22", "#7f8c8d"}
    assert sum(c == "#e67e22" for _, c in bars) == len(at.multiselect(key="lat_dims").value)


def test_a_z_slider_moves_its_bar():
    at = _page()
    i = at.multiselect(key="lat_dims").value[0]
    heights = {}
    for value in (2.5, -2.5, 0.5):
        at.slider(key=f"lat_zdim_{i}").set_value(value).run()
        _assert_clean(at)
        heights[value] = _bars(_z_chart(at))[i][0]
    assert heights[2.5] == pytest.approx(heights[-2.5], abs=0.11) and heights[2.5] > 4 * heights[0.5] > 0


def test_a_second_student_with_the_same_settings_reuses_the_first_ones_pictures():
    generator = latent.cached_checkpoint(SHIPPED).generator  # the object the page draws with
    calls = []
    hook = generator.register_forward_hook(lambda module, args, out: calls.append(len(out)))
    try:
        counts = []
        for _ in range(2):  # two sessions, as two students on one server
            calls.clear()
            at = _page(query={"seed": "918273645"})  # a seed no other test draws
            _assert_clean(at)
            counts.append(sum(calls))
    finally:
        hook.remove()
    assert counts[0] >= 1 + 5 * 7 + 7 * 7  # G(z), five strips of seven, the 7x7 plane
    assert counts[1] == 0


def test_sliders_and_seed_change_the_image():
    at = _page()
    before = _main_image(at)
    at.slider(key="lat_zdim_0").set_value(2.5).run()
    _assert_clean(at)
    after_dim = _main_image(at)
    assert after_dim != before
    at.slider(key="lat_alpha_0").set_value(-3.0).run()
    after_direction = _main_image(at)
    assert after_direction != after_dim
    at.number_input(key="lat_seed").set_value(123).run()
    _assert_clean(at)
    assert _main_image(at) not in (before, after_dim, after_direction)
    assert at.slider(key="lat_zdim_0").value != 2.5  # a new z: the sliders start from its values
    at.button(key="lat_btn_random").click().run()
    assert at.number_input(key="lat_seed").value != 123


def test_ganspace_directions_and_the_plane():
    at = _page()
    at.slider(key="lat_alpha_1").set_value(2.0).run()
    at.radio(key="lat_dir_method").set_value("ganspace").run()
    _assert_clean(at)
    assert at.slider(key="lat_alpha_1").value == 0.0  # other directions: the sliders start again at 0
    at.slider(key="lat_alpha_1").set_value(2.0).run()
    _assert_clean(at)
    at.selectbox(key="lat_plane_d2").set_value(0).run()
    assert at.warning  # the same direction twice is not a plane


def test_every_choice_survives_a_trip_to_another_section():
    at = _page()
    at.number_input(key="lat_seed").set_value(364072870).run()
    at.multiselect(key="lat_dims").set_value([5, 9]).run()
    at.slider(key="lat_zdim_9").set_value(1.5).run()
    at.radio(key="lat_dir_method").set_value("ganspace").run()
    at.slider(key="lat_k").set_value(3).run()
    at.slider(key="lat_alpha_2").set_value(-1.2).run()
    image = _main_image(at)
    at.radio(key="lat_section").set_value("interpolation").run()
    at.number_input(key="lat_interp_s0").set_value(77).run()
    for section in ("arithmetic", "memorisation", "interpolation"):
        at.radio(key="lat_section").set_value(section).run()
        _assert_clean(at)
    assert at.number_input(key="lat_interp_s0").value == 77
    at.radio(key="lat_section").set_value("move").run()
    _assert_clean(at)
    assert at.number_input(key="lat_seed").value == 364072870
    assert at.multiselect(key="lat_dims").value == [5, 9]
    assert at.slider(key="lat_zdim_9").value == 1.5
    assert at.radio(key="lat_dir_method").value == "ganspace"
    assert at.slider(key="lat_k").value == 3
    assert at.slider(key="lat_alpha_2").value == pytest.approx(-1.2)
    assert _main_image(at) == image


def test_choices_survive_a_visit_to_another_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at.switch_page("views/latent.py").run()
    at.number_input(key="lat_seed").set_value(364072870).run()
    at.radio(key="lat_section").set_value("interpolation").run()
    at.number_input(key="lat_interp_s1").set_value(12).run()
    at.switch_page("views/home.py").run()
    at.switch_page("views/latent.py").run()
    _assert_clean(at)
    assert at.radio(key="lat_section").value == "interpolation"
    assert at.number_input(key="lat_interp_s1").value == 12
    at.radio(key="lat_section").set_value("move").run()
    assert at.number_input(key="lat_seed").value == 364072870


def test_no_widget_gets_both_a_default_and_a_session_state_value(monkeypatch):
    """Streamlit's "created with a default value but also had its value set via the Session State API"
    warning (checked only under a real server; here the check is switched on and the log read)."""
    from streamlit.elements.lib import policies

    warnings: list[str] = []
    monkeypatch.setattr(policies.runtime, "exists", lambda: True)
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda msg, *args, **kw: warnings.append(msg % args))
    at = _page(query={"seed": "42", "section": "move"})
    at.number_input(key="lat_seed").set_value(7).run()
    at.button(key="lat_btn_random").click().run()
    at.button(key="lat_btn_reset_directions").click().run()
    for section in SECTIONS[1:] + ["move"]:
        at.radio(key="lat_section").set_value(section).run()
        _assert_clean(at)
    assert warnings == []
    probe = AppTest.from_string("import streamlit as st\nst.session_state['x'] = 3\nst.number_input('x', value=1, key='x')")
    probe.run()
    assert warnings and "default value" in warnings[0]  # the check is live: a widget with both does warn


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_section_renders_in_both_languages(section, lang):
    i18n.MISSING_KEYS.clear()
    at = _page(lang=lang, lat_section=section)
    _assert_clean(at)
    assert i18n.MISSING_KEYS == set()
    texts = [at.title[0].value, at.selectbox(key="lat_source").label, at.radio(key="lat_section").label,
             *(c.value for c in at.caption), *(w.label for w in (*at.slider, *at.number_input, *at.radio))]
    texts += [*at.radio(key="lat_section").options, *at.selectbox(key="lat_source").options]
    if lang == "ko":
        english_left = [s for s in texts if s and not HANGUL.search(s) and re.search(r"[A-Za-z]{4,}", s)]
        assert english_left == [], english_left
        assert HANGUL.search(at.title[0].value)
        assert all(HANGUL.search(c.value) for c in at.caption), [c.value for c in at.caption]
    else:
        assert not any(HANGUL.search(s) for s in texts)
    notes = " ".join(m.value for m in at.markdown)
    assert i18n.translate(f"latent.{NOTES[section]}.notice", lang) in notes  # the section's teaching box


def test_switching_language_keeps_every_value():
    at = _page(lat_section="move")
    at.number_input(key="lat_seed").set_value(99).run()
    at.radio(key="lat_dir_method").set_value("ganspace").run()
    at.session_state["lang"] = "ko"
    at.run()
    _assert_clean(at)
    assert at.number_input(key="lat_seed").value == 99
    assert at.radio(key="lat_dir_method").value == "ganspace"
    assert HANGUL.search(at.radio(key="lat_dir_method").label)


def test_a_link_restores_the_view_and_the_url_follows_the_widgets():
    at = _page(query={"gen": "generator-mnist5k", "section": "move", "seed": "364072870", "dims": "3,7",
                      "directions": "ganspace", "k": "4", "d2": "1.5", "across": "2", "down": "3"})
    _assert_clean(at)
    assert at.number_input(key="lat_seed").value == 364072870
    assert at.multiselect(key="lat_dims").value == [3, 7]
    assert at.radio(key="lat_dir_method").value == "ganspace"
    assert at.slider(key="lat_k").value == 4
    assert at.slider(key="lat_alpha_1").value == 1.5
    assert (at.selectbox(key="lat_plane_d1").value, at.selectbox(key="lat_plane_d2").value) == (2, 3)
    assert not at.toast  # nothing was ignored
    at.number_input(key="lat_seed").set_value(5).run()
    assert at.query_params["seed"] == ["5"] or at.query_params["seed"] == "5"

    at = _page(query={"section": "interpolation", "ends": "grid", "grid": "12", "a": "4", "b": "9", "steps": "6"})
    _assert_clean(at)
    assert at.radio(key="lat_interp_mode").value == "grid"
    assert at.number_input(key="lat_interp_grid_seed").value == 12
    assert (at.selectbox(key="lat_interp_a").value, at.selectbox(key="lat_interp_b").value) == (4, 9)
    assert at.slider(key="lat_interp_steps").value == 6
    query = {k: at.query_params[k] for k in at.query_params}
    assert "seed" not in query and "dims" not in query  # only the open section's settings are in the link

    at = _page(query={"section": "arithmetic", "concept": "slant", "pool": "9"})
    _assert_clean(at)
    assert at.radio(key="lat_arith_concept").value == "slant"
    assert at.number_input(key="lat_arith_seed").value == 9


@pytest.mark.parametrize("query, widget, expected", [
    ({"seed": "99999999999999"}, ("number_input", "lat_seed"), 2**31 - 1),  # out of range: clamped
    ({"seed": "-5"}, ("number_input", "lat_seed"), 0),
    ({"seed": "nan"}, ("number_input", "lat_seed"), 0),  # not a number: ignored
    ({"seed": "1e999"}, ("number_input", "lat_seed"), 0),
    ({"seed": "7" * 5000}, ("number_input", "lat_seed"), 0),  # 5,000 characters: ignored
    ({"gen": "generator-../../etc"}, ("selectbox", "lat_source"), "generator-mnist5k"),  # unknown name
    ({"gen": "upload"}, ("selectbox", "lat_source"), "generator-mnist5k"),  # never an upload from a link
    ({"section": "x" * 5000}, ("radio", "lat_section"), "move"),
    ({"dims": "1,2,nan"}, ("multiselect", "lat_dims"), [0, 1, 2, 3]),
    ({"k": "1000"}, ("slider", "lat_k"), 10),
    ({"d1": "nan"}, ("slider", "lat_alpha_0"), 0.0),
    ({"a": "99"}, ("selectbox", "lat_interp_a"), 15),
])
def test_hostile_links_are_clamped_or_ignored_with_a_notice(query, widget, expected):
    section = "interpolation" if widget[1].startswith("lat_interp") else "move"
    at = _page(query=query, lat_section=section, lat_interp_mode="grid")
    _assert_clean(at)
    kind, key = widget
    assert getattr(at, kind)(key=key).value == expected
    assert at.toast and next(iter(query)) in at.toast[0].value  # a short notice names what was not used


@pytest.mark.parametrize("dims, expected", [
    ("5,5,5", [5]),  # a repeated dimension once (two sliders with one key would raise)
    ("1023,1022,0,0", [0]),  # past this generator's z and repeated
    ("9,2,9,2,9", [9, 2]),
    ("5000,2000,3", [3]),  # clamped to the same largest dimension twice, which this generator lacks
    (",,,7,,7,", [7]),
])
def test_a_link_repeating_a_dimension_opens_each_once(dims, expected):
    at = _page(query={"dims": dims})
    _assert_clean(at)
    assert at.multiselect(key="lat_dims").value == expected
    assert len(at.slider) >= len(expected)  # one z slider per dimension, drawn
    assert at.toast and "dims" in at.toast[0].value  # the link was not used as written: a notice says so


def test_a_link_naming_dimensions_this_generator_lacks_keeps_the_others():
    at = _page(query={"dims": "900,2"})
    _assert_clean(at)
    assert at.multiselect(key="lat_dims").value == [2]


def _png_size(media, image_element) -> tuple[int, int]:
    return Image.open(io.BytesIO(_file_bytes(media, image_element.value[0]))).size


def test_projector_mode_enlarges_images_and_figure_fonts(media):
    sizes, fonts = {}, {}
    for projector in (False, True):
        at = _page(projector=projector)
        _assert_clean(at)
        sizes[projector] = _png_size(media, at.image[0]), _png_size(media, at.image[1])  # G(z), a strip
        svg = _z_chart(at)
        fonts[projector] = (int(re.search(r'<g font-size="(\d+)"', svg).group(1)),  # axis titles
                            int(re.search(r'<svg [^>]*font-size="(\d+)"', svg).group(1)))  # ticks
    for normal, big in zip(sizes[False], sizes[True]):
        assert big[0] > normal[0] and big[1] > normal[1]
    assert fonts[True][0] > fonts[False][0] and fonts[True][1] > fonts[False][1]


def test_images_are_upscaled_by_nearest_neighbour(media):
    at = _page()
    image = Image.open(io.BytesIO(_file_bytes(media, at.image[0].value[0])))
    pixels = set(image.getdata())
    assert len(pixels) <= 256 and image.size[0] >= 28 * 6  # crisp: no in-between colours were made up
    arr = torch.tensor(list(image.getdata())).reshape(image.size[1], image.size[0])
    factor = image.size[0] // 32  # 28 px + 2 x 2 px padding, scaled
    assert torch.equal(arr[::factor, ::factor].repeat_interleave(factor, 0).repeat_interleave(factor, 1), arr)


def test_interpolation_exports_a_gif_and_a_png_strip(media):
    at = _page(lat_section="interpolation")
    _assert_clean(at)
    at.slider(key="lat_interp_steps").set_value(6).run()
    _assert_clean(at)
    buttons = {b.label: b for b in at.download_button}
    gif = _file_bytes(media, buttons["⬇ Animated GIF"].proto.url)
    assert gif.startswith(b"GIF8")
    frames = Image.open(io.BytesIO(gif))
    assert frames.n_frames == 6 + 4  # there and back: 6 steps, then 4 in-between frames in reverse
    png = _file_bytes(media, buttons["⬇ PNG strip"].proto.url)
    assert png.startswith(b"\x89PNG")
    assert _file_bytes(media, buttons["⬇ Walk as GIF"].proto.url).startswith(b"GIF8")
    at.radio(key="lat_interp_mode").set_value("grid").run()
    _assert_clean(at)
    at.selectbox(key="lat_interp_b").set_value(5).run()
    _assert_clean(at)


def test_vector_arithmetic_opens_on_measured_concept_groups():
    at = _page(lat_section="arithmetic")
    _assert_clean(at)
    assert at.radio(key="lat_arith_concept").value == "thickness"
    text = " ".join(m.value for m in at.markdown)
    assert "thickest strokes" in text and "thinnest" in text  # the sentence saying what the groups show
    measured = next(c.value for c in at.caption if c.value.startswith("Measured"))
    c_width, result_width = (float(v) for v in re.findall(r"([\d.]+) px", measured))
    assert result_width > c_width  # thin C + (thick - thin) came out thicker
    assert any("= result" in img.captions for img in at.image)
    at.radio(key="lat_arith_concept").set_value("slant").run()
    _assert_clean(at)
    assert "lean" in " ".join(m.value for m in at.markdown)


def test_vector_arithmetic_with_your_own_groups():
    at = _page(lat_section="arithmetic", lat_arith_concept="custom")
    _assert_clean(at)
    assert any("= result" in img.captions for img in at.image)
    at.multiselect(key="lat_arith_B").set_value([]).run()
    assert "group B" in at.info[0].value


def test_memorisation_section_shows_nearest_training_images():
    at = _page(lat_section="memorisation")
    _assert_clean(at)
    captions = [c for img in at.image for c in img.captions]
    assert captions.count("generated") >= 4  # each generated image with its nearest training images


@pytest.mark.parametrize("content", [
    pickle.dumps({"state_dict": [1, 2, 3]}),  # a pickle: never unpickled, refused
    None,  # a truncated zip of a real checkpoint
])
def test_invalid_upload_shows_an_error_that_names_the_file(content):
    if content is None:
        content = _zip()[:-200]
    at = _page()
    at.selectbox(key="lat_source").set_value("upload").run()
    assert at.info  # asks for a file
    at.file_uploader[0].upload("my_model.zip", content, "application/zip").run()
    assert not at.exception
    assert at.error and "checkpoint" in at.error[0].value and "my\\_model" in at.error[0].value
    assert str(ROOT) not in at.error[0].value and "/tmp" not in at.error[0].value


@pytest.mark.parametrize("train", [{"prior": "cauchy"}, {"prior": ["normal"]}, [1, 2, 3], "normal"])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_an_upload_with_an_unknown_prior_is_refused_with_a_plain_message(train, lang, pin_language):
    pin_language(lang)
    config = json.loads((SHIPPED / "config.json").read_text())
    config["train"] = train if not isinstance(train, dict) else {**config["train"], **train}
    at = _page(lang=lang, lat_source="upload")
    at.file_uploader[0].upload("odd-prior.zip", _zip(config), "application/zip").run()
    assert not at.exception
    assert at.error and "odd\\-prior" in at.error[0].value
    if lang == "ko":
        assert HANGUL.search(at.error[0].value)
    for section in SECTIONS:  # no section runs on it, so none can raise
        at.radio(key="lat_section").set_value(section).run()
        assert not at.exception and at.error


def test_an_upload_with_a_one_dimensional_z_works_in_every_section(tmp_path):
    """An odd but valid checkpoint (z of size 1, uniform prior): one direction, no plane, no exception."""
    import dataclasses

    from gan_core.checkpoint import checkpoint_zip_bytes, write_checkpoint
    from gan_core.models import build_generator, default_model_config

    config = dataclasses.replace(default_model_config("small"), latent_dim=1, ngf=8, fc_width=16)
    folder = write_checkpoint(tmp_path / "tiny", config, build_generator(config).state_dict(),
                              train_config={"prior": "uniform"}, dataset={"name": "mnist5k"})
    at = _page(lat_source="upload")
    at.file_uploader[0].upload("tiny.zip", checkpoint_zip_bytes(folder), "application/zip").run()
    for section in SECTIONS:
        at.radio(key="lat_section").set_value(section).run()
        _assert_clean(at)
    at.radio(key="lat_section").set_value("move").run()
    assert at.warning  # one direction cannot span a plane: said, not raised
    assert at.slider(key="lat_zdim_0").max == 1.0  # the uniform prior's range


def test_a_valid_upload_is_explored():
    at = _page(lat_source="upload")
    at.file_uploader[0].upload("model.zip", _zip(), "application/zip").run()
    _assert_clean(at)
    assert len(at.image) >= 3
    assert "gen" not in at.query_params  # an upload is never in the link


class FakeRun:
    """Stands in for gan_core.worker.TrainingRun: only snapshot_generator() is used."""

    def __init__(self):
        from gan_core.checkpoint import load_checkpoint

        self.ckpt = load_checkpoint(SHIPPED)
        self.calls = 0

    def snapshot_generator(self):
        self.calls += 1
        return self.ckpt.generator, self.ckpt.model_config, {"step": 42, "dataset": "mnist5k", "prior": "normal"}


def test_training_run_hand_off_preselects_the_run():
    run = FakeRun()
    at = _page(train_run=run, latent_source="run")
    _assert_clean(at)
    assert at.selectbox(key="lat_source").value == "run"
    assert any("step 42" in c.value for c in at.caption)
    assert run.calls == 1
    at.slider(key="lat_zdim_1").set_value(1.0).run()
    assert run.calls == 1  # the snapshot is kept while exploring
    at.button(key="lat_btn_refresh").click().run()
    assert run.calls == 2


def test_a_checkpoint_in_the_runs_folder_can_be_chosen(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(SHIPPED, tmp_path / "20260101-small-mnist5k")
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    at = _page()
    assert "Saved run: 20260101-small-mnist5k" in at.selectbox(key="lat_source").options
    at.selectbox(key="lat_source").set_value("runs:20260101-small-mnist5k").run()
    _assert_clean(at)
    assert len(at.image) >= 3


def test_every_shipped_generator_folder_is_listed_with_a_readable_label(tmp_path, monkeypatch, pin_language):
    import shutil

    from views import _latent_models

    shutil.copytree(SHIPPED, tmp_path / "generator-mnist5k")
    shutil.copytree(SHIPPED, tmp_path / "generator-my-new-model")
    monkeypatch.setattr(_latent_models, "ASSETS", tmp_path)
    for lang, word in (("en", "Pretrained"), ("ko", "사전 학습")):
        pin_language(lang)
        at = _page(lang=lang)
        _assert_clean(at)
        box = at.selectbox(key="lat_source")
        label = next(o for o in box.options if "my-new-model" in o)
        assert word in label and "small" in label
        at.selectbox(key="lat_source").set_value("generator-my-new-model").run()
        _assert_clean(at)
        assert at.selectbox(key="lat_source").value == "generator-my-new-model"


@pytest.mark.slow  # the memorisation check reads each generator's whole training set
@pytest.mark.parametrize("generator", sorted(p.name for p in (ROOT / "assets").glob("generator-*")))
def test_every_shipped_generator_works_in_every_section(generator):
    at = _page(lat_source=generator)
    for section in SECTIONS:
        at.radio(key="lat_section").set_value(section).run()
        _assert_clean(at)
        assert at.image or at.info


def test_memorisation_check_never_reads_a_path_named_by_an_uploaded_checkpoint(tmp_path):
    secret = tmp_path / "private"
    secret.mkdir()
    Image.new("L", (28, 28), 255).save(secret / "photo.png")
    config = json.loads((SHIPPED / "config.json").read_text())
    config["dataset"] = {"name": str(secret)}
    at = _page(lat_source="upload", lat_section="memorisation")
    at.file_uploader[0].upload("model.zip", _zip(config), "application/zip").run()
    _assert_clean(at)
    assert "not a built-in dataset" in at.info[0].value
    assert not at.image
