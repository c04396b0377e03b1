"""gan_core.toy.toy1d / toy1d_train: every formula against scipy.integrate.quad, and a real 1-D GAN."""

import copy
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy import integrate

from gan_core.toy.toy1d import (LOG4, AffineGenerator, Gaussian, GridDensity, Mixture, Toy1DError, Uniform,
                                figure1_panels, generator_loss_curves, js_divergence, kl_divergence,
                                log_spaced_sizes, monte_carlo_value, optimal_discriminator, prior_quantiles,
                                theory_numbers, value_function)
from gan_core.toy.toy1d_train import (PRESETS, Toy1DConfig, Toy1DTrainer, Toy1DView, binned_kde, d_gap_over_bulk,
                                      reached_panel_d)


def norm_logpdf(mean, std):
    return lambda x: -0.5 * ((x - mean) / std) ** 2 - math.log(std * math.sqrt(2 * math.pi))


def uniform_logpdf(low, high):
    return lambda x: -math.log(high - low) if low <= x <= high else -math.inf


# Independent reference log-densities (plain math: fast inside quad), the interval quad
# integrates over, and the jumps quad is told about.
PAIRS = {
    "gauss-gauss": (Gaussian(0.0, 1.0), Gaussian(1.5, 0.7),
                    norm_logpdf(0.0, 1.0), norm_logpdf(1.5, 0.7), (-12, 12), []),
    "mixture-gauss": (Mixture((Gaussian(-2.0, 0.3), Gaussian(2.0, 0.5)), (1.0, 2.0)), Gaussian(0.5, 1.2),
                      lambda x: np.logaddexp(norm_logpdf(-2, 0.3)(x) - math.log(3),
                                             norm_logpdf(2, 0.5)(x) + math.log(2 / 3)),
                      norm_logpdf(0.5, 1.2), (-14, 14), [-2.0, 2.0]),
    "uniform-gauss": (Uniform(-1.0, 2.0), Gaussian(0.3, 0.8),
                      uniform_logpdf(-1.0, 2.0), norm_logpdf(0.3, 0.8), (-10, 10), [-1.0, 2.0]),
}


def ref_integral(f, lo_hi, points):
    lo, hi = lo_hi
    value, _ = integrate.quad(f, lo, hi, points=points or None, limit=500, epsabs=1e-13, epsrel=1e-12)
    return value


def ref_term(log_p, log_ratio):
    """p * log_ratio with 0 * anything = 0."""
    return 0.0 if log_p == -math.inf else math.exp(log_p) * log_ratio


@pytest.mark.parametrize("name", PAIRS)
def test_formulas_match_quad(name):
    p, q, lpf, lqf, span, pts = PAIRS[name]
    lsum = lambda x: float(np.logaddexp(lpf(x), lqf(x)))  # noqa: E731  log(p + q)
    v_ref = ref_integral(lambda x: ref_term(lpf(x), lpf(x) - lsum(x)) + ref_term(lqf(x), lqf(x) - lsum(x)),
                         span, pts)
    lm = lambda x: lsum(x) - math.log(2)  # noqa: E731  log of the mixture m = (p + q) / 2
    jsd_ref = 0.5 * ref_integral(lambda x: ref_term(lpf(x), lpf(x) - lm(x)) + ref_term(lqf(x), lqf(x) - lm(x)),
                                 span, pts)
    nums = theory_numbers(p, q)
    assert nums.value_optimal == pytest.approx(v_ref, abs=1e-6)
    assert nums.jsd == pytest.approx(jsd_ref, abs=1e-6)
    assert 0 < nums.jsd < math.log(2)
    # Theorem 1: V(D*, G) = -log 4 + 2 JSD, each side from its own integral.
    assert nums.value_optimal == pytest.approx(nums.identity_rhs, abs=1e-6)
    # D* on a grid, pointwise.
    x = np.linspace(*span, 101)
    expected = [math.exp(lpf(v)) / (math.exp(lpf(v)) + math.exp(lqf(v))) for v in x]
    np.testing.assert_allclose(optimal_discriminator(p, q, x), expected, atol=1e-9)
    kl_ref = ref_integral(lambda x: ref_term(lpf(x), lpf(x) - lqf(x)), span, pts)
    assert nums.kl_data_g == pytest.approx(kl_ref, abs=1e-6)
    if name == "uniform-gauss":  # p_g has mass where the uniform p_data has none
        assert nums.kl_g_data == math.inf
    else:
        kl_ref = ref_integral(lambda x: ref_term(lqf(x), lqf(x) - lpf(x)), span, pts)
        assert nums.kl_g_data == pytest.approx(kl_ref, abs=1e-6)


def test_kl_of_gaussians_matches_closed_form_and_is_infinite_off_support():
    p, q = Gaussian(0.2, 1.3), Gaussian(-1.0, 0.6)
    closed = math.log(0.6 / 1.3) + (1.3**2 + 1.2**2) / (2 * 0.6**2) - 0.5
    assert kl_divergence(p, q) == pytest.approx(closed, abs=1e-8)
    assert kl_divergence(Gaussian(0, 1), Uniform(-1, 1)) == math.inf
    assert math.isfinite(kl_divergence(Uniform(-1, 1), Gaussian(0, 1)))


def test_value_of_arbitrary_discriminator_matches_quad():
    p, q = Gaussian(1.0, 0.5), Gaussian(-0.5, 0.9)
    d = lambda x: 1.0 / (1.0 + np.exp(-2.0 * np.asarray(x)))  # noqa: E731
    ref = ref_integral(lambda x: ref_term(norm_logpdf(1, 0.5)(x), math.log(d(x)))
                       + ref_term(norm_logpdf(-0.5, 0.9)(x), math.log(1 - d(x))), (-12, 12), [])
    assert value_function(p, q, d) == pytest.approx(ref, abs=1e-6)
    assert value_function(p, q, d) < value_function(p, q)  # D* maximises V


@pytest.mark.parametrize("density", [Gaussian(0.3, 0.7), Uniform(-1, 2),
                                     Mixture((Gaussian(-1, 0.2), Gaussian(1, 0.4)), (0.3, 0.7))])
def test_equal_densities_give_half_and_minus_log4(density):
    x = np.linspace(-3, 3, 50)
    np.testing.assert_allclose(optimal_discriminator(density, density, x), 0.5)
    nums = theory_numbers(density, density)
    assert nums.value_optimal == pytest.approx(-LOG4, abs=1e-9)
    assert nums.jsd == pytest.approx(0.0, abs=1e-9)
    assert nums.kl_data_g == pytest.approx(0.0, abs=1e-9)


def test_densities_normalised_and_sample_correctly():
    rng = np.random.default_rng(0)
    for d, lo_hi, pts in [(Gaussian(1, 2), (-25, 25), []), (Uniform(-2, 3), (-5, 5), [-2, 3]),
                          (Mixture((Gaussian(-1, 0.3), Gaussian(2, 0.5)), (1, 3)), (-10, 10), [-1, 2])]:
        assert ref_integral(lambda x: float(d.pdf(np.array([x]))[0]), lo_hi, pts) == pytest.approx(1, abs=1e-8)
        s = d.sample(200_000, rng)
        xs = np.linspace(*lo_hi, 4001)
        mean = np.trapezoid(xs * d.pdf(xs), xs)
        assert s.mean() == pytest.approx(mean, abs=0.03)
    g = GridDensity(np.linspace(0, 1, 11), np.ones(11) * 7)
    assert np.allclose(g.pdf(np.array([0.5, 2.0])), [1.0, 0.0])


def test_bad_inputs_raise_clear_errors_in_every_language():
    with pytest.raises(Toy1DError, match="standard deviation must be a positive number, got 0") as err:
        Gaussian(0, 0)
    assert err.value.key == "errors.toy1d.std_positive" and "표준편차" in err.value.localized("ko")
    with pytest.raises(Toy1DError, match="low < high") as err:
        Uniform(1, 1)
    assert "[1, 1]" in err.value.localized("ko")
    with pytest.raises(Toy1DError, match="weight"):
        Mixture((Gaussian(),), (1.0, 2.0))
    with pytest.raises(Toy1DError, match="prior 'cauchy'"):
        AffineGenerator(0, 1, "cauchy")
    with pytest.raises(Toy1DError, match="k must be a whole number from 1 to 20, not 0"):
        Toy1DConfig(k=0).validate()
    with pytest.raises(Toy1DError, match="loss must be one of .*, not 'nope'") as err:
        Toy1DConfig(loss="nope").validate()
    assert "nope" in err.value.localized("ko") and "가운데 하나" in err.value.localized("ko")
    with pytest.raises(Toy1DError, match="lr_g must be a number from 1e-05 to 1, not 2") as err:
        Toy1DConfig(lr_g=2.0).validate()
    assert err.value.params["name"] == "lr_g" and err.value.params["value"] == "2"
    with pytest.raises(Toy1DError, match="seed must be"):
        Toy1DConfig(seed=-1).validate()


def test_affine_generator_density_matches_its_mapping():
    for prior in ("normal", "uniform"):
        g = AffineGenerator(1.5, 0.4, prior)
        z = prior_quantiles(prior, 20_000)
        x = g(z)
        assert x.mean() == pytest.approx(1.5, abs=1e-3)
        assert x.std() == pytest.approx(0.4, abs=2e-3)
        dens = g.density()
        assert isinstance(dens, Uniform if prior == "uniform" else Gaussian)
        assert dens.support()[0] <= x.min() and x.max() <= dens.support()[1]


def test_figure1_panels_are_faithful():
    a, b, c, d = figure1_panels()
    x = np.linspace(-1, 3, 200)
    d_star_a = optimal_discriminator(a.data, a.generator.density(), x)
    # (a) partially accurate: between 1/2 and D*, strictly closer to 1/2.
    assert np.all(np.abs(a.discriminator(x) - 0.5) < np.abs(d_star_a - 0.5) + 1e-12)
    assert np.abs(a.discriminator(x) - 0.5).max() > 0.1
    np.testing.assert_allclose(b.discriminator(x), d_star_a)  # (b) D = D*
    jsd = [js_divergence(p.data, p.generator.density()) for p in (a, b, c, d)]
    assert jsd[0] == jsd[1] > jsd[2] > jsd[3]  # (c) p_g moved closer
    np.testing.assert_allclose(c.discriminator(x), b.discriminator(x))  # D not yet retrained in (c)
    np.testing.assert_allclose(d.discriminator(x), 0.5, atol=1e-12)  # (d) D = 1/2
    assert jsd[3] == pytest.approx(0.0, abs=1e-9)


def test_generator_loss_curves_show_saturation():
    c = generator_loss_curves()
    early = c["d"] < 0.05
    # Near D(G(z)) = 0 the minimax loss is flat (gradient w.r.t. the logit -> 0), -log D is steep.
    assert np.abs(c["minimax_logit_grad"][early]).max() < 0.05
    assert np.abs(c["non_saturating_logit_grad"][early]).min() > 0.95
    np.testing.assert_allclose(np.gradient(c["minimax"], c["d"])[5:-5], c["minimax_grad"][5:-5], rtol=2e-2)


def test_monte_carlo_converges_to_the_integral():
    p, q = Gaussian(1.0, 0.5), Gaussian(0.0, 1.0)
    d = lambda x: optimal_discriminator(p, q, x)  # noqa: E731
    sizes = log_spaced_sizes(100_000)
    assert sizes[0] == 1 and sizes[-1] == 100_000 and np.all(np.diff(sizes) > 0)
    est = monte_carlo_value(p, q, d, sizes, np.random.default_rng(1))
    exact = value_function(p, q)
    assert abs(est[-1] - exact) < 0.02
    assert abs(est[-1] - exact) < abs(est[:5] - exact).max()


def test_binned_kde_integrates_to_one_and_finds_the_mean():
    x = np.linspace(-5, 5, 400)
    s = np.random.default_rng(0).normal(1.0, 0.5, 5000)
    k = binned_kde(s, x, 0.1)
    assert np.trapezoid(k, x) == pytest.approx(1.0, abs=1e-3)
    assert np.trapezoid(x * k, x) == pytest.approx(s.mean(), abs=1e-2)


def test_trainer_reduces_jsd_and_nonsaturating_learns_faster_early():
    """With plain SGD (the stalling preset, which tab 3 uses) the minimax loss starts slowly."""
    data = Gaussian(3.0, 0.5)
    runs = {}
    for loss in ("non-saturating", "minimax"):
        t = Toy1DTrainer(data, replace(PRESETS["sgd-stall"], loss=loss, seed=0))
        for _ in range(50):
            t.step()
        runs[loss] = t
    ns, mm = runs["non-saturating"], runs["minimax"]
    jsd = ns.history.series("jsd")[1]
    assert jsd[0] > 0.6
    assert jsd[-1] < 0.5 * mm.history.last("jsd")  # minimax is still stuck near log 2
    for _ in range(150):
        ns.step()
    assert ns.history.last("jsd") < 0.2
    assert ns.d_steps == 400 and ns.g_steps == 200 and len(ns.history.series("loss_d")[1]) == 400
    assert ns.history.series("jsd")[0][-2:] == [597, 600]  # after each G step, at the updates (D + G) so far
    view = ns.view()
    assert view.x.shape == view.d.shape == view.d_star.shape == view.p_g.shape
    assert np.all((view.d >= 0) & (view.d <= 1))
    assert abs(view.g_of_z.mean() - 3.0) < 0.5


def test_trainer_is_reproducible_and_settings_apply_live():
    a, b = (Toy1DTrainer(Gaussian(0, 1), Toy1DConfig(seed=3)) for _ in range(2))
    for t in (a, b):
        t.step()
    assert a.history.series("loss_g") == b.history.series("loss_g")
    assert a.apply_settings(Toy1DConfig(seed=3, k=4, lr_g=0.01))
    assert a.config.k == 4 and a.opt_g.param_groups[0]["lr"] == 0.01
    a.train_d()
    assert a.d_steps == 2 + 4
    assert not a.apply_settings(Toy1DConfig(seed=4))  # a new seed needs a new trainer


def test_a_loss_switched_mid_run_trains_as_a_trainer_built_with_that_loss():
    """The page's loss switch reaches the running Algorithm 1: after the switch, the same updates as a
    trainer built with that loss and given the run so far (weights, optimiser states, random streams)."""
    data, config = Gaussian(3.0, 0.5), Toy1DConfig(seed=4)
    switched, kept = Toy1DTrainer(data, config), Toy1DTrainer(data, config)
    for t in (switched, kept):
        for _ in range(20):
            t.step()
    built = Toy1DTrainer(data, replace(config, loss="minimax"))
    for mine, theirs in ((built.G, switched.G), (built.D, switched.D), (built.opt_g, switched.opt_g),
                         (built.opt_d, switched.opt_d)):
        mine.load_state_dict(copy.deepcopy(theirs.state_dict()))  # a copy: Adam would share its moments
    built.rng.set_state(switched.rng.get_state())
    built.numpy_rng.bit_generator.state = switched.numpy_rng.bit_generator.state
    assert switched.apply_settings(replace(config, loss="minimax"))
    for t in (switched, built, kept):
        for _ in range(20):
            t.step()
    same = lambda a, b: all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))  # noqa: E731
    assert same(switched.G, built.G) and same(switched.D, built.D)
    assert not same(kept.G, built.G)  # the loss made a difference: without the switch the run differs


def test_record_figure1_strip_steps_d_then_g_until_panel_d_or_the_cap():
    t = Toy1DTrainer(Gaussian(3.0, 0.5))
    for _ in range(100):
        t.step()
    strip = t.record_figure1_strip(d_steps=20, g_steps=5, max_iterations=30)
    assert [s.label[:3] for s in strip] == ["(a)", "(b)", "(c)", "(d)"]
    assert strip[1].d_steps == strip[0].d_steps + 20 and strip[1].g_steps == strip[0].g_steps
    assert strip[2].g_steps == strip[1].g_steps + 5
    assert strip[3].g_steps == strip[2].g_steps + 30  # not at (d) yet: every allowed iteration ran


def test_d_gap_over_bulk_reads_d_over_the_central_mass_of_p_data():
    x = np.linspace(-5, 5, 1001)
    data = Gaussian(0.0, 1.0)
    d = np.where(np.abs(x) < 1.0, 0.52, 0.9)  # 1/2 + 0.02 within one std, far off outside
    view = Toy1DView(x=x, p_data=data.pdf(x), p_g=data.pdf(x), d=d, d_star=np.full_like(x, 0.5), z=x[:3],
                     g_of_z=x[:3], jsd=0.0, d_steps=0, g_steps=0)
    assert d_gap_over_bulk(view, mass=0.6) == pytest.approx(0.02)  # central 60% lies within +-0.85 std
    assert d_gap_over_bulk(view, mass=0.9) == pytest.approx(0.4)  # central 90% reaches +-1.64 std


@pytest.mark.slow
@pytest.mark.parametrize("seed", (0, 1, 2))
def test_default_run_records_figure1_panel_d(seed):
    """Issue 13: "Record (a)->(d)" from a fresh default run ends at Figure 1 (d): p_g on p_data
    (JSD <= 0.03) and the learned D within 1/2 +- 0.05 over the central 80% of p_data."""
    t = Toy1DTrainer(Gaussian(3.0, 0.5), Toy1DConfig(seed=seed))
    strip = t.record_figure1_strip()
    assert strip[0].jsd > 0.3  # (a) starts far from p_data
    final = strip[-1]
    assert final.jsd <= 0.03, final.jsd
    assert d_gap_over_bulk(final, mass=0.8) <= 0.05, d_gap_over_bulk(final, mass=0.8)
    assert reached_panel_d(final)
    assert final.g_steps - strip[2].g_steps < 6000  # it got there before the strip's limit
