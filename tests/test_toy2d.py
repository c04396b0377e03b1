"""gan_core.toy.toy2d: the mode-collapse targets, a user's CSV of points, and divergence estimators checked
against cases with known answers (identical samples, disjoint samples, two Gaussians in closed form)."""

import math

import pytest
import torch
from scipy import integrate, stats

from gan_core.evaluation.metrics import toy_mode_metrics
from gan_core.toy.toy2d import (TARGETS, Target, Toy2DError, divergences, get_target, knn_kl, points_from_csv,
                                register_target)


def test_every_target_draws_reproducible_2d_points_and_the_mixtures_fill_every_mode():
    for target in TARGETS.values():
        a, b = target.sample(500, seed=3), target.sample(500, seed=3)
        assert a.shape == (500, 2) and a.dtype == torch.float32 and torch.equal(a, b)
        assert not torch.equal(a, target.sample(500, seed=4))
    for name, modes in (("ring8", 8), ("grid25", 25), ("gaussian", 1)):
        t = get_target(name)
        m = toy_mode_metrics(t.sample(5000), t.means, t.std)
        assert m["n_modes"] == modes and m["modes_covered"] == modes and m["high_quality_share"] > 0.98
    assert toy_mode_metrics(torch.zeros(100, 2) + get_target("ring8").means[2], get_target("ring8").means,
                            0.05)["modes_covered"] == 1  # a collapsed generator: one mode


def test_targets_refuse_a_taken_name_and_an_unknown_one_is_a_sentence():
    with pytest.raises(ValueError, match="a 2-D target named 'ring8' is already registered"):
        register_target(Target("ring8", "another ring", TARGETS["ring8"].sampler))
    with pytest.raises(Toy2DError, match="no 2-D target called 'spiral'.*ring8"):
        get_target("spiral")


def test_divergences_of_two_samples_of_one_distribution_are_about_zero():
    ring = get_target("ring8")
    d = divergences(ring.sample(2000, 0), ring.sample(2000, 1))
    for name in ("kl_pq", "kl_qp", "js"):
        assert abs(d[name].value) <= 3 * d[name].error + 0.02, (name, d[name])


def test_js_of_samples_far_apart_is_log_2():
    ring = get_target("ring8")
    d = divergences(ring.sample(2000, 0), ring.sample(2000, 1) + 20.0)
    assert d["js"].value == pytest.approx(math.log(2), abs=0.01)


def test_two_gaussians_match_the_closed_form_kl_and_the_integrated_js():
    # N(0, I) and N((1, 0), I): KL = |mu|^2 / 2 = 0.5 both ways; JS is that of the 1-D pair (y is shared)
    p = torch.randn(4000, 2, generator=torch.Generator().manual_seed(0))
    q = torch.randn(4000, 2, generator=torch.Generator().manual_seed(1)) + torch.tensor([1.0, 0.0])
    d = divergences(p, q)
    assert d["kl_pq"].value == pytest.approx(0.5, abs=0.1) and d["kl_qp"].value == pytest.approx(0.5, abs=0.1)

    def half_kl_to_mixture(x, mean):
        f, g = stats.norm.pdf(x, mean), stats.norm.pdf(x, 1 - mean)
        return 0.5 * f * math.log(f / (0.5 * (f + g)))
    js = sum(integrate.quad(half_kl_to_mixture, -12, 13, args=(mean,))[0] for mean in (0.0, 1.0))
    assert d["js"].value == pytest.approx(js, abs=0.04)


def test_the_error_bar_shrinks_with_more_samples_and_the_kl_estimator_needs_enough_of_them():
    ring = get_target("ring8")
    few = divergences(ring.sample(200, 0), ring.sample(200, 1), splits=8)
    many = divergences(ring.sample(4000, 0), ring.sample(4000, 1), splits=8)
    assert many["js"].error < few["js"].error and many["kl_pq"].error < few["kl_pq"].error
    with pytest.raises(Toy2DError, match="too few"):
        knn_kl(torch.zeros(3, 2), torch.zeros(3, 2), k=5)


def test_a_csv_of_points_is_read_with_or_without_a_header():
    rows = "\n".join(f"{i * 0.5},{-i}" for i in range(10))
    for text in (rows, "x,y\n" + rows, ("x,y\r\n" + rows.replace("\n", "\r\n") + "\n\n").encode("utf-8-sig")):
        points = points_from_csv(text)
        assert points.shape == (10, 2) and points[3].tolist() == [1.5, -3.0]


@pytest.mark.parametrize("payload, words", [
    ("1,2,3\n" * 10, "line 1 of the CSV has 3 columns"),
    ("1,2\n" * 5 + "a,b\n" + "1,2\n" * 5, "line 6 of the CSV is not two numbers"),
    ("1,2\n" * 9 + "nan,1\n", "line 10 of the CSV has a value that is not a finite number"),
    ("1,2\n" * 9 + "1e300,1\n", "line 10"),
    ("1,2\n" * 3, "has 3 points; at least 8"),
    ("1,2\n" * 20_001, "more than 20,000 points"),
    (b"\xff\xfe\x00\x01" * 10, "not a text CSV file"),
    ("1,2\n" * 600_000, "at most 2000000 bytes"),
    ("1,2\n" * 9 + "7" * 200_000 + ",1\n", "line 10 of the CSV cannot be read"),  # over the csv module's field limit
    ("1,2\n" * 9 + '"3,4\n' + "5,6\n" * 9, "line 10 of the CSV has 1 columns"),  # a quote left open
    ("1,2\n" * 9 + "3,\x004\n", "line 10 of the CSV is not two numbers"),  # a NUL byte
])
def test_a_bad_csv_is_refused_with_a_sentence(payload, words):  # and only ever with Toy2DError
    with pytest.raises(Toy2DError) as info:
        points_from_csv(payload)
    assert words.lower() in str(info.value).lower()


def test_points_far_from_the_networks_size_are_standardised_and_the_others_kept():
    from gan_core.toy.toy2d import fit_to_networks

    gen = torch.Generator().manual_seed(0)
    usual = get_target("ring8").sample(300, 0)
    assert fit_to_networks(usual) == (usual, None)  # the targets' size: untouched
    huge = torch.rand(300, 2, generator=gen) * 2e6 - 1e6  # near the CSV limit of ±1e6
    tiny = 7.0 + 1e-4 * torch.randn(300, 2, generator=gen)  # a cloud D cannot tell apart
    for points in (huge, tiny, huge[:, :1].repeat(1, 2)):
        fitted, rescaling = fit_to_networks(points)
        assert rescaling is not None and abs(float(fitted.std()) - 1.0) < 1e-3 and float(fitted.mean(0).abs().max()) < 1e-3
        back = fitted.double() / rescaling.factor + torch.tensor(rescaling.centre, dtype=torch.float64)
        assert torch.allclose(back, points.double(), rtol=1e-4, atol=1e-6 * float(points.abs().max()))  # one factor
    same, rescaling = fit_to_networks(torch.full((20, 2), 5e5))  # identical points: moved to 0, not divided by 0
    assert rescaling.factor == 1.0 and float(same.abs().max()) == 0.0


@pytest.mark.parametrize("scale", [3e5, 1e-4])  # points up to ±9e5, or a cloud of 1e-4
def test_a_users_points_at_any_scale_train_without_diverging_once_fitted(scale):
    # ±1e6 used to diverge at step 0 at any learning rate
    from gan_core.toy.toy2d import fit_to_networks
    from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer

    text = "\n".join(f"{(i % 7 - 3) * scale},{(i % 5 - 2) * scale}" for i in range(400))
    points, rescaling = fit_to_networks(points_from_csv(text))
    assert rescaling is not None
    trainer = Toy2DTrainer(Toy2DConfig(seed=0), points=points)
    for _ in range(50):
        trainer.step()
    assert all(math.isfinite(v) for v in trainer.step().values() if isinstance(v, float))


# --- the 2-D GAN ----------------------------------------------------------------------------------------

def test_a_2d_gan_trained_by_algorithm_1_moves_its_points_onto_the_ring():
    from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer

    trainer = Toy2DTrainer(Toy2DConfig(target="ring8", seed=0))
    before = trainer.measure()
    for _ in range(1500):
        trainer.step()
    after = trainer.measure()
    assert trainer.d_steps == trainer.g_steps == 1500
    assert after["js"][0] < before["js"][0] - 0.2  # p_g moved towards p_data
    assert after["high_quality_share"] > before["high_quality_share"]
    assert torch.equal(trainer.fake_points(), trainer.fake_points())  # the same fixed noise every frame


def test_the_2d_gan_takes_any_registered_loss_a_users_points_and_refuses_bad_settings():
    from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer

    points = points_from_csv("\n".join(f"{i % 7},{i % 5}" for i in range(200)))
    trainer = Toy2DTrainer(Toy2DConfig(loss="wgan-gp", k=5, hidden=32, depth=2), points=points)
    report = trainer.step()
    assert set(report) >= {"loss_d", "loss_g", "d_real", "d_fake"} and trainer.d_steps == 5
    assert "modes_covered" not in trainer.measure()  # a user's points have no known modes
    for bad, words in ((dict(loss="magic"), "loss must be one of .*, not 'magic'"), (dict(k=0), "k must be a whole"),
                       (dict(prior="cauchy"), "prior must be one of normal, uniform"), (dict(lr_g=5.0), "lr_g must be"),
                       (dict(depth=5), "depth must be a whole number from 1 to 4"), (dict(seed=2**31), "seed")):
        with pytest.raises(Toy2DError, match=words):
            Toy2DConfig(**bad).validate()


def test_a_frame_has_d_on_a_grid_the_push_on_fake_points_and_the_manifold_for_2d_noise():
    from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer

    trainer = Toy2DTrainer(Toy2DConfig(hidden=32, depth=2))
    for _ in range(50):
        trainer.step()
    view = trainer.view(grid_n=40, arrows=30)
    assert view.d.shape == (40, 40) and float(view.d.min()) >= 0 and float(view.d.max()) <= 1
    assert view.grid_x[0] < view.fake[:, 0].min() and view.grid_x[-1] > view.fake[:, 0].max()  # the grid holds them
    assert view.arrow_from.shape == view.arrow_push.shape == (30, 2)
    assert float(view.arrow_push.norm(dim=1).max()) == pytest.approx(1.0)
    # the push is down the G loss: a small step along it lowers the loss of those points
    loss = trainer.algorithm.loss
    with torch.no_grad():
        before = loss.g_loss(trainer.D(view.arrow_from))
        after = loss.g_loss(trainer.D(view.arrow_from + 1e-3 * view.arrow_push))
    assert float(after) < float(before)
    assert len(view.manifold) == 18 and view.manifold[0].shape == (100, 2)  # 9 lines each way of a z grid
    one_d = Toy2DTrainer(Toy2DConfig(noise_dim=1, hidden=16, depth=1)).view()
    assert len(one_d.manifold) == 1 and Toy2DTrainer(Toy2DConfig(noise_dim=8, hidden=16, depth=1)).view().manifold is None


def test_slow_motion_walks_algorithm_1_one_update_at_a_time_and_the_history_follows_it():
    from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer

    trainer = Toy2DTrainer(Toy2DConfig(k=3, hidden=16, depth=1))
    moved = [trainer.next_update() for _ in range(9)]
    assert moved == ["D", "D", "D", "G"] * 2 + ["D"]
    assert (trainer.d_steps, trainer.g_steps) == (7, 2)
    updates, losses = trainer.history.series("loss_d")
    assert updates == [1, 2, 3, 5, 6, 7, 9] and len(losses) == 7  # every number at the updates (D + G) so far
    assert trainer.history.series("loss_g")[0] == [4, 8]
    trainer.measure()
    assert trainer.history.series("js")[0] == [9] and trainer.history.last("js_error") >= 0
    assert trainer.history.series("modes_covered")[1][0] == trainer.measure()["modes_covered"]


def test_the_history_stays_bounded_and_keeps_its_first_and_last_points(monkeypatch):
    from gan_core.toy import toy_gan

    monkeypatch.setattr(toy_gan, "HISTORY_MAX", 10)
    history = toy_gan.ToyHistory()
    for step in range(100):
        history.add(step, {"loss_d": float(step), "mode_counts": [1, 2]})  # lists are not series
    steps, values = history.series("loss_d")
    assert len(steps) <= 10 and steps[0] == 0 and steps[-1] == 99 and values == [float(s) for s in steps]
    assert history.series("mode_counts") == ([], [])
    thinned, _ = history.series("loss_d", max_points=3)
    assert len(thinned) <= 4 and thinned[0] == 0 and thinned[-1] == 99  # thinned when read too: the last point stays


def test_a_frame_keeps_its_axes_and_trails_record_the_frames_that_trained():
    from gan_core.toy.toy2d_train import TRAIL_POINTS, Toy2DConfig, Toy2DTrainer

    trainer = Toy2DTrainer(Toy2DConfig(hidden=32, depth=2))
    first = trainer.view(grid_n=10, arrows=5)
    assert first.trails.shape == (1, TRAIL_POINTS, 2)
    assert trainer.view(grid_n=10, arrows=5).trails.shape[0] == 1  # no training in between: no new trail point
    trainer.step()
    later = trainer.view(grid_n=10, arrows=5)
    assert later.trails.shape[0] == 2 and torch.equal(later.trails[-1], later.fake[:TRAIL_POINTS])
    x0, x1, y0, y1 = later.bounds
    assert x0 <= -2.05 and x1 >= 2.05 and y0 <= -2.05 and y1 >= 2.05  # the ring (radius 2) is inside
    assert all(v * 2 == round(v * 2) for v in later.bounds)  # rounded to 0.5: axes that do not jitter
    bx0, bx1, _, _ = trainer._real_box
    far = trainer.bounds(torch.full((100, 2), 1e6))
    assert far[1] <= bx1 + 3 * (bx1 - bx0) + 0.5 and far[0] == later.bounds[0]  # a diverging G cannot blow it up


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_each_network_has_its_own_optimiser(optimizer):
    from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer

    trainer = Toy2DTrainer(Toy2DConfig(optimizer_d=optimizer, optimizer_g="sgd", lr_d=0.01, lr_g=0.02, hidden=8,
                                       depth=1))
    assert type(trainer.opt_d).__name__.lower() == optimizer and type(trainer.opt_g).__name__ == "SGD"
    assert trainer.opt_g.param_groups[0]["lr"] == 0.02
    with pytest.raises(Toy2DError, match="optimizer_d must be one of .*, not 'lbfgs'"):
        Toy2DConfig(optimizer_d="lbfgs").validate()


@pytest.mark.slow
def test_the_fix_it_preset_covers_at_least_7_of_8_modes_with_80_percent_high_quality_for_its_seed():
    from gan_core.toy.toy2d_train import PRESETS, Toy2DTrainer

    preset = PRESETS["fix-it"]
    trainer = Toy2DTrainer(preset.config)
    for _ in range(preset.iterations):
        trainer.step()
    m = trainer.measure()
    assert m["modes_covered"] >= 7 and m["high_quality_share"] >= 0.8, m


def test_a_drawing_becomes_points_a_blob_per_click_and_a_filled_box():
    from gan_core.toy.toy2d import MAX_BOX_POINTS, POINTS_PER_CLICK, points_from_drawing

    points = points_from_drawing([(1.0, 2.0), (-3.0, 0.5)], [(0.0, 2.0, -1.0, -2.0)], spread=0.05)
    blob, other, box = points[:POINTS_PER_CLICK], points[POINTS_PER_CLICK:2 * POINTS_PER_CLICK], points[2 * POINTS_PER_CLICK:]
    assert len(box) == MAX_BOX_POINTS
    assert torch.allclose(blob.mean(0), torch.tensor([1.0, 2.0]), atol=0.03) and float(blob.std(0).max()) < 0.08
    assert torch.allclose(other.mean(0), torch.tensor([-3.0, 0.5]), atol=0.03)
    assert float(box[:, 0].min()) >= 0 and float(box[:, 0].max()) <= 2 and float(box[:, 1].max()) <= -1
    assert torch.equal(points, points_from_drawing([(1.0, 2.0), (-3.0, 0.5)], [(0.0, 2.0, -1.0, -2.0)]))
    with pytest.raises(Toy2DError, match="Nothing is drawn yet"):
        points_from_drawing([], [])
    with pytest.raises(Toy2DError, match="outside the canvas"):
        points_from_drawing([(float("nan"), 0.0)])
    with pytest.raises(Toy2DError, match="The drawing has more than 20,000 points"):
        points_from_drawing([(0.0, 0.0)] * 400)


@pytest.mark.slow
def test_the_collapse_it_preset_sits_on_at_most_3_of_8_modes_with_most_fakes_on_them_for_its_seed():
    from gan_core.toy.toy2d_train import PRESETS, Toy2DTrainer

    preset = PRESETS["collapse-it"]
    assert preset.config.target == PRESETS["fix-it"].config.target  # the same target, one setting changed
    trainer = Toy2DTrainer(preset.config)
    for _ in range(preset.iterations):
        trainer.step()
    m = trainer.measure()
    assert m["modes_covered"] <= 3 and m["high_quality_share"] >= 0.5, m  # collapsed onto modes, not lost


def test_run_updates_for_walks_algorithm_1_one_update_at_a_time_within_the_budget():
    from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer

    trainer = Toy2DTrainer(Toy2DConfig(k=5, hidden=16, depth=1, batch_size=32))
    n = trainer.run_for(0.0, "update")
    assert n == 1 and (trainer.d_steps, trainer.g_steps) == (1, 0)  # at least one update, D first
    n += trainer.run_for(0.05, "update")
    assert trainer.d_steps + trainer.g_steps == n and trainer.d_steps == 5 * trainer.g_steps + trainer.d_in_a_row


def test_a_background_measurement_gives_what_measure_gives_and_files_it_at_the_step_it_started():
    from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer

    trainer = Toy2DTrainer(Toy2DConfig(hidden=16, depth=1, batch_size=32))
    trainer.step()
    assert trainer.collect_measurement() is None  # none started
    assert trainer.start_measurement() and not trainer.start_measurement()  # one at a time
    expected = Toy2DTrainer(Toy2DConfig(hidden=16, depth=1, batch_size=32))
    expected.step()
    trainer.step()  # training goes on while the worker measures the points of step 1
    result = trainer.collect_measurement(wait=True)
    assert result == expected.measure()
    assert trainer.history.series("js") == ([2], [result["js"][0]]) and trainer.collect_measurement() is None
    assert trainer.start_measurement()  # the next one may start now


def test_a_view_without_shading_reuses_d_on_the_grid_until_the_axes_move():
    from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer

    trainer = Toy2DTrainer(Toy2DConfig(hidden=16, depth=1, batch_size=32))
    first = trainer.view(grid_n=10, arrows=5)
    trainer.step()
    assert trainer.view(grid_n=10, arrows=5, shading=False).d is first.d  # D moved, its old shading is kept
    fresh = trainer.view(grid_n=10, arrows=5)
    assert fresh.d is not first.d and not torch.equal(fresh.d, first.d)
    assert trainer.view(grid_n=12, arrows=5, shading=False).d.shape == (12, 12)  # a new grid is always computed
