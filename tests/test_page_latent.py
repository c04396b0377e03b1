"""AppTest of the latent explorer page: opens on the shipped generator, reacts to sliders,
exports interpolations as GIF/PNG, and turns bad uploads into an error message."""

import io
import pickle
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "views" / "latent.py")
SHIPPED = ROOT / "assets" / "generator-mnist5k"


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


def _file_bytes(media: dict[str, bytes], url: str) -> bytes:
    file_id = url.rsplit("/", 1)[-1].split(".")[0]
    return media[file_id]


def _main_image(at: AppTest) -> str:
    return at.image[0].value[0]  # G(z): the first image on the "Move z" section


def _page(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_opens_on_the_shipped_generator_without_training():
    at = _page()
    _assert_clean(at)
    assert at.selectbox(key="lat_source").value == "shipped:generator-mnist5k"
    assert "mnist5k" in " ".join(c.value for c in at.caption)
    assert len(at.image) >= 1 + 5 + 1  # G(z), one strip per direction, the plane
    assert at.get("plotly_chart")  # z as a bar chart


def test_sliders_and_seed_change_the_image():
    at = _page()
    before = _main_image(at)
    at.slider(key="lat_z_normal_0_0").set_value(2.5).run()
    _assert_clean(at)
    after_dim = _main_image(at)
    assert after_dim != before
    at.slider(key="lat_alpha_sefa_0").set_value(-3.0).run()
    after_direction = _main_image(at)
    assert after_direction != after_dim
    at.number_input(key="lat_seed").set_value(123).run()
    _assert_clean(at)
    assert _main_image(at) not in (before, after_dim, after_direction)
    at.button(key="lat_random").click().run()
    assert at.number_input(key="lat_seed").value != 123


def test_ganspace_directions_and_the_plane():
    at = _page(lat_section="Move z")
    at.radio(key="lat_dir_method").set_value("ganspace").run()
    _assert_clean(at)
    at.slider(key="lat_alpha_ganspace_1").set_value(2.0).run()
    _assert_clean(at)
    at.selectbox(key="lat_plane_d2").set_value(0).run()
    assert at.warning  # the same direction twice is not a plane


def test_interpolation_exports_a_gif_and_a_png_strip(media):
    at = _page(lat_section="Interpolation")
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


def test_vector_arithmetic_and_memorisation_sections():
    at = _page(lat_section="Vector arithmetic")
    _assert_clean(at)
    assert any("= result" in img.captions for img in at.image)
    at.multiselect(key="lat_arith_B").set_value([]).run()
    assert "group B" in at.info[0].value
    at.radio(key="lat_section").set_value("Memorisation check").run()
    _assert_clean(at)
    captions = [c for img in at.image for c in img.captions]
    assert captions.count("generated") >= 4  # each generated image with its nearest training images


@pytest.mark.parametrize("content", [
    pickle.dumps({"state_dict": [1, 2, 3]}),  # a pickle: never unpickled, refused
    None,  # a truncated zip of a real checkpoint
])
def test_invalid_upload_shows_an_error(content):
    if content is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name in ("config.json", "generator.safetensors"):
                zf.write(SHIPPED / name, arcname=name)
        content = buf.getvalue()[:-200]
    at = _page()
    at.selectbox(key="lat_source").set_value("upload").run()
    assert at.info  # asks for a file
    at.file_uploader[0].upload("model.zip", content, "application/zip").run()
    assert not at.exception
    assert at.error and "checkpoint" in at.error[0].value


def test_a_valid_upload_is_explored():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ("config.json", "generator.safetensors"):
            zf.write(SHIPPED / name, arcname=name)
    at = _page(lat_source="upload")
    at.file_uploader[0].upload("model.zip", buf.getvalue(), "application/zip").run()
    _assert_clean(at)
    assert len(at.image) >= 3


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
    at.slider(key="lat_z_normal_0_1").set_value(1.0).run()
    assert run.calls == 1  # the snapshot is kept while exploring
    at.button(key="lat_run_refresh").click().run()
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


def test_memorisation_check_never_reads_a_path_named_by_an_uploaded_checkpoint(tmp_path):
    import json

    secret = tmp_path / "private"
    secret.mkdir()
    Image.new("L", (28, 28), 255).save(secret / "photo.png")
    config = json.loads((SHIPPED / "config.json").read_text())
    config["dataset"] = {"name": str(secret)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.write(SHIPPED / "generator.safetensors", arcname="generator.safetensors")
    at = _page(lat_source="upload", lat_section="Memorisation check")
    at.file_uploader[0].upload("model.zip", buf.getvalue(), "application/zip").run()
    _assert_clean(at)
    assert "not a built-in dataset" in at.info[0].value
    assert not at.image
