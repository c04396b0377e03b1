"""gan_core.latent: interpolation, semantic directions, arithmetic, nearest neighbours, model cache."""

import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from gan_core import latent
from gan_core.checkpoint import CheckpointError, load_checkpoint
from gan_core.i18n import LocalizedError
from gan_core.models import Generator, ModelConfig, build_generator, default_model_config
from helpers import zip_bytes

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "generator-mnist5k"


@pytest.fixture(scope="module")
def small_g():
    torch.manual_seed(0)
    g = build_generator(default_model_config("small"))
    g.train()
    # A few training-mode passes give BatchNorm non-trivial running statistics.
    with torch.no_grad():
        for _ in range(3):
            g(torch.randn(16, g.latent_dim))
    return g.eval()


class FixedProjection(Generator):
    """A generator whose first-layer matrix A is given (for checking SeFa against numpy)."""

    def __init__(self, a: torch.Tensor) -> None:
        config = ModelConfig(latent_dim=a.shape[1])
        super().__init__(config, nn.Sequential(nn.Linear(a.shape[1], a.shape[0], bias=False)))
        with torch.no_grad():
            self.net[0].weight.copy_(a)


# --- interpolation ----------------------------------------------------------------------------------

def test_lerp_and_slerp_hit_both_endpoints():
    z0, z1 = torch.randn(16, generator=torch.Generator().manual_seed(1)), torch.randn(16)
    for method in ("lerp", "slerp"):
        path = latent.interpolation(z0, z1, 9, method)
        assert path.shape == (9, 16)
        assert torch.allclose(path[0], z0, atol=1e-5)
        assert torch.allclose(path[-1], z1, atol=1e-5)


def test_slerp_keeps_the_norm_and_lerp_dips_between_equal_norm_endpoints():
    d = 64
    z = latent.sample_latents(2, d, seed=3)
    r = 8.0
    z0, z1 = z[0] / z[0].norm() * r, z[1] / z[1].norm() * r
    slerp_norms = latent.path_norms(latent.interpolation(z0, z1, 21, "slerp"))
    lerp_norms = latent.path_norms(latent.interpolation(z0, z1, 21, "lerp"))
    assert torch.allclose(slerp_norms, torch.full((21,), r), atol=1e-4)
    cos = float(torch.dot(z0, z1) / r**2)
    assert lerp_norms[10] == pytest.approx(r * ((1 + cos) / 2) ** 0.5, rel=1e-4)  # the chord's midpoint
    assert float(lerp_norms[1:-1].max()) < r


def test_slerp_of_orthogonal_vectors_stays_between_their_norms():
    z0, z1 = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 5.0])
    norms = latent.path_norms(latent.slerp(z0, z1, 11))
    assert float(norms.min()) >= 3.0 - 1e-5 and float(norms.max()) <= 5.0 + 1e-5


def test_interpolation_rejects_unknown_method_and_bad_steps():
    z = torch.zeros(4)
    with pytest.raises(ValueError, match="unknown interpolation"):
        latent.interpolation(z, z, 5, "cubic")
    with pytest.raises(ValueError, match="steps"):
        latent.interpolation(z, z, 1, "lerp")


def test_closed_walk_visits_every_point_and_returns():
    points = latent.sample_latents(3, 8, seed=2)
    path = latent.path_through(points, steps=4, method="slerp", closed=True)
    assert path.shape == (12, 8)
    for i in range(3):
        assert torch.allclose(path[4 * i], points[i], atol=1e-5)
    open_path = latent.path_through(points, steps=4, method="lerp", closed=False)
    assert open_path.shape == (9, 8) and torch.allclose(open_path[-1], points[-1])
    walk = latent.random_walk(8, n_points=3, steps=4, seed=2)
    assert torch.allclose(walk, path)  # same seed, same points, same path


# --- rendering --------------------------------------------------------------------------------------

def test_render_is_per_image_and_restores_training_mode(small_g):
    z = latent.sample_latents(5, small_g.latent_dim, seed=0)
    small_g.train()
    try:
        batch = latent.render(small_g, z)
        assert small_g.training  # put back as it was
    finally:
        small_g.eval()
    single = latent.render(small_g, z[2])
    assert batch.shape == (5, 1, 28, 28) and not batch.requires_grad
    assert torch.allclose(batch[2], single[0], atol=1e-5)  # eval BatchNorm: no batch dependence
    with pytest.raises(ValueError, match="dimensions"):
        latent.render(small_g, torch.zeros(3))


def test_direction_strip_and_plane_are_centred_on_z(small_g):
    z = latent.sample_latents(1, small_g.latent_dim, seed=4)[0]
    d1, d2 = torch.eye(small_g.latent_dim)[:2] * 5.0  # any length: scaled to unit
    centre = latent.render(small_g, z)[0]
    strip = latent.render(small_g, latent.direction_latents(z, d1, steps=7, span=3.0))  # as the page draws it
    assert strip.shape == (7, 1, 28, 28)
    assert torch.allclose(strip[3], centre, atol=1e-5)
    zs = latent.direction_latents(z, d1, 7, 3.0)
    assert torch.allclose(zs[0] - z, torch.eye(small_g.latent_dim)[0] * -3.0, atol=1e-6)
    plane = latent.plane_grid(small_g, z, d1, d2, n=5, span=2.0)
    assert plane.shape == (25, 1, 28, 28)
    assert torch.allclose(plane[12], centre, atol=1e-5)
    grid_z = latent.plane_latents(z, d1, d2, 5, 2.0)
    assert torch.allclose(grid_z[4] - z, torch.eye(small_g.latent_dim)[0] * 2 - torch.eye(small_g.latent_dim)[1] * 2)
    with pytest.raises(ValueError, match="zero vector"):
        latent.direction_latents(z, torch.zeros(small_g.latent_dim))


# --- semantic directions ----------------------------------------------------------------------------

def test_sefa_matches_numpy_eigh_of_the_row_normalised_weight():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 6)) * np.array([5.0, 1.0, 1.0, 0.5, 0.2, 0.1])
    a[3] *= 100.0  # one loud unit: row normalisation stops it from dominating
    g = FixedProjection(torch.tensor(a, dtype=torch.float32))
    directions, eigenvalues = latent.sefa_directions(g, k=6)
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    ref_values, ref_vectors = np.linalg.eigh(an.T @ an)
    ref_values, ref_vectors = ref_values[::-1], ref_vectors[:, ::-1]
    assert np.allclose(eigenvalues.numpy(), ref_values, rtol=1e-4)
    for i in range(6):  # eigenvectors are defined up to sign
        assert abs(float(np.dot(directions[i].numpy(), ref_vectors[:, i]))) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("preset", ["small", "dcgan"])
def test_sefa_directions_are_orthonormal_and_sorted(preset):
    torch.manual_seed(1)
    g = build_generator(default_model_config(preset))
    directions, eigenvalues = latent.sefa_directions(g, k=8)
    assert directions.shape == (8, g.latent_dim)
    assert torch.allclose(directions @ directions.T, torch.eye(8), atol=1e-5)
    assert bool((eigenvalues[:-1] >= eigenvalues[1:]).all())
    # The top direction changes the (row-normalised) first layer more than any other unit vector.
    a = g.latent_projection()
    a = a / a.norm(dim=1, keepdim=True)
    others = torch.nn.functional.normalize(torch.randn(200, g.latent_dim), dim=1)
    assert float((a @ directions[0]).norm()) >= float((others @ a.T).norm(dim=1).max())
    with pytest.raises(ValueError, match="k must be"):
        latent.sefa_directions(g, k=g.latent_dim + 1)


def test_ganspace_recovers_the_axes_of_a_known_linear_layer():
    scales = torch.tensor([10.0, 5.0, 1.0, 0.5])
    net = nn.Sequential(nn.Linear(4, 4, bias=False), nn.LeakyReLU(1.0))  # slope 1: the identity
    with torch.no_grad():
        net[0].weight.copy_(torch.diag(scales))
    g = Generator(ModelConfig(latent_dim=4), net)
    directions, variances = latent.ganspace_directions(g, k=2, n_samples=4000, seed=0)
    assert torch.allclose(directions.norm(dim=1), torch.ones(2), atol=1e-5)
    assert abs(float(directions[0, 0])) > 0.99 and abs(float(directions[1, 1])) > 0.99
    assert float(variances[0]) == pytest.approx(100.0, rel=0.1)
    assert float(variances[1]) == pytest.approx(25.0, rel=0.1)


def test_ganspace_on_a_dcgan_generator(small_g):
    directions, variances = latent.ganspace_directions(small_g, k=3, n_samples=300, seed=1)
    assert directions.shape == (3, small_g.latent_dim)
    assert bool((variances[:-1] >= variances[1:]).all())
    assert not small_g.training


# --- vector arithmetic ------------------------------------------------------------------------------

def test_vector_arithmetic_averages_each_group_first():
    za = torch.tensor([[1.0, 0.0], [3.0, 2.0]])
    zb = torch.tensor([[0.0, 1.0]])
    zc = torch.tensor([[2.0, 2.0], [0.0, 0.0], [1.0, 4.0]])
    r = latent.vector_arithmetic(za, zb, zc, n_neighbours=50, noise_scale=0.25, seed=0)
    assert torch.allclose(r.mean_a, torch.tensor([2.0, 1.0]))
    assert torch.allclose(r.mean_c, torch.tensor([1.0, 2.0]))
    assert torch.allclose(r.result, torch.tensor([3.0, 2.0]))
    assert r.neighbours.shape == (50, 2)
    spread = (r.neighbours - r.result).abs()
    assert float(spread.max()) <= 0.25 and float(spread.max()) > 0.1
    with pytest.raises(ValueError, match="group B is empty"):
        latent.vector_arithmetic(za, torch.zeros(0, 2), zc)


# --- concepts measured on generated images -----------------------------------------------------------

def _canvas(points: list[tuple[int, int]], size: int = 28) -> torch.Tensor:
    """A (1, 1, size, size) image in [-1, 1]: ink (+1) at the given (row, column) pixels, background -1."""
    x = torch.full((1, 1, size, size), -1.0)
    for r, c in points:
        x[0, 0, r, c] = 1.0
    return x


@pytest.mark.parametrize("width", [1, 2, 4])
def test_stroke_width_of_a_bar_is_twice_its_area_over_its_outline(width):
    length = 20
    bar = _canvas([(r, c) for r in range(4, 4 + length) for c in range(10, 10 + width)])
    expected = 2 * width * length / (2 * length + 2 * width)  # area / half the perimeter
    assert float(latent.stroke_width(bar)) == pytest.approx(expected, rel=1e-5)
    thicker = _canvas([(r, c) for r in range(4, 4 + length) for c in range(10, 10 + width + 1)])
    assert float(latent.stroke_width(thicker)) > float(latent.stroke_width(bar))
    assert float(latent.stroke_width(bar)) == pytest.approx(float(latent.stroke_width(bar.repeat(1, 3, 1, 1))))


def test_slant_is_the_shift_per_row_of_a_leaning_stroke():
    upright = _canvas([(r, 14) for r in range(4, 24)])
    right = _canvas([(r, 14 + (24 - r) // 2) for r in range(4, 24, 2)])  # one column right every two rows up
    left = _canvas([(r, 14 - (24 - r) // 2) for r in range(4, 24, 2)])
    values = latent.slant(torch.cat([upright, right, left]))
    assert float(values[0]) == pytest.approx(0.0, abs=1e-6)
    assert float(values[1]) == pytest.approx(0.5, rel=1e-5)
    assert float(values[2]) == pytest.approx(-0.5, rel=1e-5)


def test_brightness_is_the_share_of_lit_pixels():
    image = _canvas([(r, c) for r in range(7) for c in range(28)])  # a quarter of the rows lit
    assert float(latent.brightness(image)) == pytest.approx(0.25)


def test_confident_labels_mark_unsure_images_unknown():
    probs = torch.tensor([[0.95, 0.05], [0.4, 0.6], [0.02, 0.98]])
    assert latent.confident_labels(probs, threshold=0.9).tolist() == [0, -1, 1]


def test_concept_groups_take_the_extremes_and_c_from_one_class():
    values = torch.tensor([5.0, 1.0, 9.0, 2.0, 8.0, 3.0, 0.5, 7.0, 2.5, 6.0])
    labels = torch.tensor([0, 0, 1, 1, 0, 1, 2, -1, 1, 2])
    groups = latent.concept_groups(values, labels, per_group=2, per_c=2)
    assert groups.a == [2, 4]  # the two highest, highest first
    assert groups.b == [6, 1]  # the two lowest, lowest first
    # left: 3 (2.0, class 1), 8 (2.5, 1), 5 (3.0, 1), 0 (5.0, 0), 9 (6.0, 2), 7 (7.0, unknown)
    assert groups.c == [3, 8] and groups.class_c == 1  # class 1 has the lowest values left
    unlabelled = latent.concept_groups(values, None, per_group=2)
    assert unlabelled.c == [3] and unlabelled.class_c is None  # one sample: a mean of mixed classes would blur
    no_class_big_enough = latent.concept_groups(values, labels, per_group=2, per_c=4)
    assert no_class_big_enough.c == [3] and no_class_big_enough.class_c is None
    with pytest.raises(latent.LatentError, match="at least 5 samples"):
        latent.concept_groups(values[:4], per_group=2)


@pytest.fixture(scope="module")
def shipped_and_classifier():
    from gan_core.evaluation.metrics import load_classifier

    return load_checkpoint(SHIPPED).generator, load_classifier("mnist5k")


@pytest.mark.parametrize("concept", ["thickness", "slant"])
@pytest.mark.parametrize("seed", [4, 0, 7])
def test_concept_arithmetic_adds_the_concept_to_c(shipped_and_classifier, concept, seed):
    """The groups demonstrate something: thin/left-leaning C + (A - B) comes out measurably thicker /
    leaning right on the shipped generator (seed 4 is what the page opens on)."""
    g, classifier = shipped_and_classifier
    measure = latent.IMAGE_STATISTICS[concept]
    z = latent.sample_latents(256, g.latent_dim, seed)
    images = latent.render(g, z)
    values = measure(images)
    groups = latent.concept_groups(values, latent.confident_labels(classifier.probs(images)))
    assert groups.class_c is not None
    assert float(values[groups.a].mean()) > float(values[groups.b].mean())
    result = latent.vector_arithmetic(z[groups.a], z[groups.b], z[groups.c])
    rendered = latent.render(g, torch.stack([result.mean_c, result.result]))
    before, after = (float(v) for v in measure(rendered))
    gap = float(values[groups.a].mean() - values[groups.b].mean())
    assert after > before + 0.1 * gap  # by a tenth of the A-B gap at least (a real change, not noise)


def test_the_page_opens_on_a_concept_that_keeps_c_s_digit(shipped_and_classifier):
    g, classifier = shipped_and_classifier
    z = latent.sample_latents(256, g.latent_dim, 4)
    images = latent.render(g, z)
    groups = latent.concept_groups(latent.stroke_width(images), latent.confident_labels(classifier.probs(images)))
    result = latent.vector_arithmetic(z[groups.a], z[groups.b], z[groups.c])
    assert int(classifier.probs(latent.render(g, result.result)).argmax()) == groups.class_c


# --- what a checkpoint says about its latent space ------------------------------------------------------

def test_explorer_settings_read_and_check_the_prior_and_dataset():
    assert latent.explorer_settings({}) == ("normal", None)
    assert latent.explorer_settings({"train": {"prior": "uniform"}, "dataset": {"name": "mnist5k"}}) == \
        ("uniform", "mnist5k")
    assert latent.explorer_settings({"train": None, "dataset": {"name": 5}}) == ("normal", None)
    assert latent.explorer_settings({"dataset": "mnist5k"}) == ("normal", None)
    for train in ({"prior": "cauchy"}, {"prior": ["normal"]}, {"prior": None}):
        with pytest.raises(latent.LatentError) as info:
            latent.explorer_settings({"train": train})
        assert info.value.key == "errors.latent.unknown_prior"
        assert "normal, uniform" in str(info.value)
    with pytest.raises(latent.LatentError, match="table of values"):
        latent.explorer_settings({"train": [1, 2]})


def test_latent_errors_are_english_for_the_cli_and_korean_for_the_app():
    with pytest.raises(LocalizedError) as info:
        latent.sample_latents(2, 4, prior="cauchy")
    assert "cauchy" in str(info.value) and "normal, uniform" in str(info.value)
    assert "사전분포" in info.value.localized("ko") and "cauchy" in info.value.localized("ko")
    assert isinstance(info.value, ValueError)  # callers that catch ValueError keep working


# --- nearest neighbours -----------------------------------------------------------------------------

def test_nearest_neighbours_finds_the_closest_training_images():
    train = torch.stack([torch.full((1, 4, 4), v) for v in (-1.0, -0.5, 0.0, 0.5, 1.0)])
    query = torch.stack([torch.full((1, 4, 4), 0.45), torch.full((1, 4, 4), -0.9)])
    found = latent.nearest_neighbours(query, train, k=3)
    assert found.indices.tolist() == [[3, 2, 4], [0, 1, 2]]
    assert found.distances[0, 0] == pytest.approx(0.05 * 4, abs=1e-5)  # 16 pixels off by 0.05
    assert bool((found.distances[:, :-1] <= found.distances[:, 1:]).all())
    # Chunked search gives the same answer as one block.
    chunked = latent.nearest_vectors(query, train, k=3, chunk=2)
    assert torch.equal(chunked.indices, found.indices)


def test_nearest_neighbours_in_feature_space():
    train = torch.zeros(4, 1, 2, 2)
    train[:, 0, 0, 0] = torch.tensor([0.0, 1.0, 2.0, 3.0])  # feature: the top-left pixel
    train[:, 0, 1, 1] = torch.tensor([9.0, 0.0, 0.0, 0.0])  # a large pixel difference features ignore
    query = torch.zeros(1, 1, 2, 2)

    def features(x):
        return x[:, 0, 0, :1]

    assert latent.nearest_neighbours(query, train, k=1).indices.item() == 1  # pixels: image 0 is far
    assert latent.nearest_neighbours(query, train, k=1, features=features).indices.item() == 0
    bank = features(train)
    assert latent.nearest_neighbours(query, train, k=2, features=features, train_features=bank).indices.tolist() == [[0, 1]]
    with pytest.raises(ValueError, match="training images are"):
        latent.nearest_neighbours(torch.zeros(1, 1, 3, 3), train, k=1)


# --- checkpoints --------------------------------------------------------------------------------------

def test_shipped_generator_loads_and_makes_images():
    ckpt = load_checkpoint(SHIPPED)
    assert ckpt.model_config.image_size == 28 and ckpt.dataset.get("name") == "mnist5k"
    images = latent.render(ckpt.generator, latent.sample_latents(4, ckpt.model_config.latent_dim, seed=0))
    assert images.shape == (4, 1, 28, 28)
    assert float(images.min()) >= -1 and float(images.max()) <= 1
    # White strokes on a black background, like MNIST: mostly dark pixels, some bright ones.
    assert float((images < -0.9).float().mean()) > 0.5
    assert float((images > 0.5).float().mean()) > 0.05


def test_a_float16_generator_loads_and_draws_what_float32_draws(tmp_path):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "generator-half"
    shutil.copytree(SHIPPED, folder)
    weights = load_file(folder / "generator.safetensors")
    save_file({k: v.half() if v.is_floating_point() else v for k, v in weights.items()},
              folder / "generator.safetensors")
    z = latent.sample_latents(16, 64, seed=0)
    half = latent.render(load_checkpoint(folder).generator, z)
    assert float((half - latent.render(load_checkpoint(SHIPPED).generator, z)).abs().max()) < 0.02
    assert {p.dtype for p in load_checkpoint(folder).generator.parameters()} == {torch.float32}  # widened on load


def test_export_float16_halves_the_file_and_keeps_the_samples(tmp_path):
    from gan_core.checkpoint import export_generator

    out = export_generator(SHIPPED, tmp_path / "half", dtype="float16")
    full, half = (SHIPPED / "generator.safetensors").stat().st_size, (out / "generator.safetensors").stat().st_size
    assert 0.45 < half / full < 0.55
    z = latent.sample_latents(16, 64, seed=1)
    diff = latent.render(load_checkpoint(out).generator, z) - latent.render(load_checkpoint(SHIPPED).generator, z)
    assert float(diff.abs().max()) < 0.02


def test_cached_checkpoint_reloads_only_when_the_files_change(tmp_path):
    folder = tmp_path / "g"
    shutil.copytree(SHIPPED, folder)
    first = latent.cached_checkpoint(folder)
    assert latent.cached_checkpoint(folder) is first
    newest = max(f.stat().st_mtime_ns for f in folder.iterdir())  # copies may carry whole-second times
    os.utime(folder / "config.json", ns=(newest, newest + 1_000_000_000))
    assert latent.cached_checkpoint(folder) is not first


def test_invalid_checkpoints_are_refused():
    with pytest.raises(CheckpointError):
        load_checkpoint(pickle.dumps({"generator": [1, 2, 3]}))
    data = zip_bytes({name: SHIPPED / name for name in ("config.json", "generator.safetensors")})
    with pytest.raises(CheckpointError):
        load_checkpoint(data[: len(data) // 2])
    assert load_checkpoint(data).model_config == load_checkpoint(SHIPPED).model_config  # the untruncated zip is fine
