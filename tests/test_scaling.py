"""lab.scaling: q·k statistics against theory, softmax sharpness, and the Jacobian against torch."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lab import scaling as sc
from lab.attention import entropy, softmax

# float64 throughout, so the comparisons with torch can be tight.
ATOL = 1e-12


def torch_softmax_jacobian(logits: np.ndarray) -> np.ndarray:
    """d softmax(z) / dz by torch autograd, one row at a time: (..., S) -> (..., S, S)."""
    rows = logits.reshape(-1, logits.shape[-1])
    jacobians = [
        torch.autograd.functional.jacobian(
            lambda z: torch.softmax(z, dim=-1), torch.tensor(row, dtype=torch.float64)
        ).numpy()
        for row in rows
    ]
    return np.stack(jacobians).reshape(*logits.shape, logits.shape[-1])


# ----------------------------------------------------------------------------- the variance


@pytest.mark.parametrize("variance", [1.0, 2.0, 0.25])
def test_score_variance_is_d_sigma4_within_sampling_error(variance):
    n_pairs = 4000
    sweep = sc.sweep_dot_products(variance=variance, seed=11, n_pairs=n_pairs)
    for d in sc.D_VALUES:
        raw = sweep.at(d)
        # Theory, written out here: Var(q·k) = d σ⁴; for Gaussian entries
        # E[(q·k)^4] = (3d² + 6d) σ⁸, so the sample variance has standard error
        # σ⁴ sqrt((2d² + 6d) / N), and the sample mean has standard error sqrt(d σ⁴ / N).
        expected = d * variance**2
        variance_error = variance**2 * math.sqrt((2 * d * d + 6 * d) / n_pairs)
        mean_error = math.sqrt(expected / n_pairs)
        assert abs(np.var(raw, ddof=1) - expected) < 4 * variance_error, d
        assert abs(raw.mean()) < 4 * mean_error, d
        scaled = sweep.at(d, scaled=True)
        np.testing.assert_allclose(scaled, raw / math.sqrt(d))
        assert abs(np.var(scaled, ddof=1) - variance**2) < 4 * variance_error / d, d


def test_standard_error_matches_the_spread_of_repeated_estimates():
    n_pairs, repeats = 200, 400
    for d in (1, 16):
        estimates = [
            np.var(sc.sample_dot_products(d, n_pairs, seed=seed), ddof=1) for seed in range(repeats)
        ]
        predicted = sc.score_variance_standard_error(d, n_pairs)
        # With 400 repeats the spread itself is known to about 4 %; allow 15 %.
        assert np.std(estimates) == pytest.approx(predicted, rel=0.15), d


def test_variance_table_reports_theory_and_error_bars():
    sweep = sc.sweep_dot_products(seed=0, n_pairs=500, d_values=(1, 8, 64))
    table = sc.variance_table(sweep)
    assert len(table) == 6 and set(table["mode"]) == {"unscaled", "scaled"}
    unscaled = table[table["mode"] == "unscaled"].set_index("d")
    scaled = table[table["mode"] == "scaled"].set_index("d")
    assert unscaled.loc[64, "theory"] == 64 and scaled.loc[64, "theory"] == 1
    np.testing.assert_allclose(scaled["empirical"] * scaled.index, unscaled["empirical"])
    assert (table["low"] < table["empirical"]).all() and (table["empirical"] < table["high"]).all()
    assert (table["low"] > 0).all()


def test_theory_helpers():
    assert sc.score_variance(256) == 256 and sc.score_variance(256, scaled=True) == 1
    assert sc.score_variance(8, 2.0) == 32 and sc.score_variance(8, 2.0, scaled=True) == 4
    assert sc.scale_factor(64, scaled=True) == 0.125 and sc.scale_factor(64, scaled=False) == 1
    assert sc.score_domain(16) == (-18.0, 18.0)
    x = np.linspace(-12, 12, 4001)
    density = sc.normal_density(x, 2.0)
    assert np.trapezoid(density, x) == pytest.approx(1.0, abs=1e-9)
    assert density[2000] == pytest.approx(1 / math.sqrt(4 * math.pi))
    for n in (1, 2, 7, 32):
        uniform = np.full(n, 1 / n)
        assert sc.uniform_entropy(n) == pytest.approx(entropy(uniform))
        assert sc.uniform_jacobian_norm(n) == pytest.approx(float(sc.jacobian_norm(uniform)))


# ----------------------------------------------------------------------------- sampling


def test_samples_are_reproducible_and_shared_between_the_sweep_and_single_draws():
    one = sc.sample_dot_products(32, 100, variance=2.0, seed=5)
    np.testing.assert_array_equal(one, sc.sample_dot_products(32, 100, variance=2.0, seed=5))
    assert not np.array_equal(one, sc.sample_dot_products(32, 100, variance=2.0, seed=6))
    sweep = sc.sweep_dot_products(variance=2.0, seed=5, n_pairs=100, d_values=(1, 32))
    np.testing.assert_array_equal(sweep.at(32), one)
    # Trial 0 (the one the page draws) does not depend on how many trials were drawn.
    few = sc.sample_attention_scores(8, 16, trials=1, seed=3)
    many = sc.sample_attention_scores(8, 16, trials=40, seed=3)
    assert few.shape == (1, 8, 8) and many.shape == (40, 8, 8)
    np.testing.assert_array_equal(few[0], many[0])
    attention = sc.sweep_attention_scores(8, seed=3, rows=320, d_values=(4, 16))
    assert attention.scores.shape == (2, 40, 8, 8)
    np.testing.assert_array_equal(attention.at(16), many)


def test_samples_have_the_requested_variance_per_component():
    rng = np.random.default_rng(0)
    vectors = sc.sample_vectors((20000,), 3, variance=4.0, rng=rng)
    assert vectors.shape == (20000, 3)
    np.testing.assert_allclose(vectors.var(axis=0), 4.0, rtol=0.05)


# ----------------------------------------------------------------------------- sharpness


def test_entropy_falls_unscaled_and_stays_level_scaled():
    n = 16
    table = sc.sharpness_table(sc.sweep_attention_scores(n, seed=2, rows=1024))
    unscaled = table[table["mode"] == "unscaled"].sort_values("d")
    scaled = table[table["mode"] == "scaled"].sort_values("d")
    entropies = unscaled["mean_entropy"].to_numpy()
    assert np.all(np.diff(entropies) < 0), entropies  # strictly falling with d
    assert entropies[-1] < 0.1 * math.log(n)  # nearly one-hot at d = 1024
    assert np.all(np.diff(unscaled["mean_max_weight"]) > 0)
    assert unscaled["mean_max_weight"].iloc[-1] > 0.9
    level = scaled["mean_entropy"].to_numpy()
    drop = entropies[0] - entropies[-1]
    # Scaled, the entropy moves by less than a tenth of the unscaled drop (the little
    # it moves comes from d = 1, where q·k is a product of normals, not a normal).
    assert level.max() - level.min() < 0.1 * drop, level
    assert level.min() > 0.8 * math.log(n)
    assert scaled["mean_max_weight"].between(1.5 / n, 0.4).all()
    # At d = 1 scaling divides by 1: both modes agree exactly.
    first = table[table["d"] == 1].set_index("mode")
    assert first.loc["unscaled", "mean_entropy"] == first.loc["scaled", "mean_entropy"]


def test_gradient_vanishes_unscaled_and_not_scaled():
    table = sc.sharpness_table(sc.sweep_attention_scores(16, seed=4, rows=512))
    unscaled = table[table["mode"] == "unscaled"].set_index("d")
    scaled = table[table["mode"] == "scaled"].set_index("d")
    assert unscaled.loc[1024, "jacobian_median"] < 1e-3 * scaled.loc[1024, "jacobian_median"]
    assert unscaled.loc[1024, "saturated"] > 0.5 and (scaled["saturated"] < 0.01).all()
    assert (scaled["jacobian_median"] > 0.2).all()
    assert (table["jacobian_q10"] <= table["jacobian_median"]).all()
    assert (table["jacobian_median"] <= table["jacobian_q90"]).all()


def test_temperature_sqrt_d_unscaled_is_scaling():
    scores = sc.sample_attention_scores(6, 64, trials=3, seed=1)
    np.testing.assert_allclose(
        sc.attention_weights(scores, 64, scaled=False, temperature=8.0),
        sc.attention_weights(scores, 64, scaled=True, temperature=1.0),
        atol=ATOL,
    )
    np.testing.assert_allclose(
        sc.attention_weights(scores, 64, scaled=True), softmax(scores / 8.0), atol=ATOL
    )


def test_no_overflow_or_nan_at_d_1024_unscaled_with_the_minimum_temperature():
    coldest = min(sc.TEMPERATURES)
    sweep = sc.sweep_attention_scores(32, seed=0, rows=256, d_values=(1024,))
    scores = sweep.at(1024)
    # exp overflows float64 above ~709.8: naive softmax would return inf/inf = NaN here.
    assert np.abs(scores).max() / coldest > 710
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        weights = sc.attention_weights(scores, 1024, scaled=False, temperature=coldest)
        stats = sc.row_statistics(weights)
        table = sc.sharpness_table(sweep, coldest)
    assert np.isfinite(weights).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    for values in stats.values():
        assert np.isfinite(values).all()
    numeric = table.drop(columns=["mode"]).to_numpy(dtype=float)
    assert np.isfinite(numeric).all()


# ----------------------------------------------------------------------------- the Jacobian


def test_jacobian_matches_torch_autograd():
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((3, 4, 7)) * 3
    ours = sc.softmax_jacobian(softmax(logits))
    assert ours.shape == (3, 4, 7, 7)
    np.testing.assert_allclose(ours, torch_softmax_jacobian(logits), atol=ATOL)
    theirs_norm = np.linalg.norm(torch_softmax_jacobian(logits), axis=(-2, -1))
    np.testing.assert_allclose(sc.jacobian_norm(softmax(logits)), theirs_norm, rtol=1e-10)


def test_jacobian_matches_torch_on_the_page_samples_unscaled_and_scaled():
    sweep = sc.sweep_attention_scores(12, seed=0, rows=24, d_values=(4, 256))
    for d in sweep.d_values:
        for scaled in (False, True):
            logits = sweep.at(d) * sc.scale_factor(d, scaled=scaled)
            ours = sc.softmax_jacobian(sc.attention_weights(sweep.at(d), d, scaled=scaled))
            np.testing.assert_allclose(ours, torch_softmax_jacobian(logits), atol=ATOL)


def test_jacobian_keeps_its_tiny_diagonal_when_saturated():
    # z = (0, -40, -40): w1 = 1 / (1 + 2e), w2 = w3 = e / (1 + 2e) with e = exp(-40).
    e = math.exp(-40.0)
    weights = softmax(np.array([0.0, -40.0, -40.0]))
    assert weights[0] - weights[0] ** 2 == 0.0  # the naive diagonal rounds to 0 ...
    jacobian = sc.softmax_jacobian(weights)
    w1, w2 = 1 / (1 + 2 * e), e / (1 + 2 * e)
    # abs=0: pytest.approx would otherwise accept anything within 1e-12 of these ~1e-18 values.
    assert jacobian[0, 0] == pytest.approx(w1 * 2 * w2, rel=1e-12, abs=0)  # ... this one does not
    assert jacobian[1, 1] == pytest.approx(w2 * (1 - w2), rel=1e-12, abs=0)
    assert jacobian[0, 1] == pytest.approx(-w1 * w2, rel=1e-12, abs=0)
    # ||J||² = (2e)² + e² + e² + 4 e² (the four -w1 w2 entries) + O(e⁴) = 10 e².
    norm = float(sc.jacobian_norm(weights))
    assert norm == pytest.approx(math.sqrt(10) * e, rel=1e-9, abs=0)


logit_arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
    elements=st.floats(-60, 60, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(logit_arrays)
def test_jacobian_properties_for_any_logits(logits):
    weights = softmax(logits)
    jacobian = sc.softmax_jacobian(weights)
    assert jacobian.shape == (*logits.shape, logits.shape[-1])
    np.testing.assert_allclose(jacobian, np.swapaxes(jacobian, -1, -2), atol=ATOL)  # symmetric
    np.testing.assert_allclose(jacobian.sum(axis=-1), 0.0, atol=ATOL)  # shifting z changes nothing
    low, high = -0.25 - ATOL, 0.25 + ATOL
    assert ((jacobian >= low) & (jacobian <= high)).all()
    eigenvalues = np.linalg.eigvalsh(jacobian)  # a covariance matrix: positive semi-definite
    assert (eigenvalues > -1e-12).all()
    np.testing.assert_allclose(
        np.sqrt((jacobian**2).sum(axis=(-2, -1))), sc.jacobian_norm(weights), atol=ATOL
    )


@settings(max_examples=25, deadline=None)
@given(logit_arrays)
def test_jacobian_matches_torch_for_any_logits(logits):
    np.testing.assert_allclose(
        sc.softmax_jacobian(softmax(logits)), torch_softmax_jacobian(logits), atol=ATOL
    )


def test_jacobian_does_not_modify_its_input():
    weights = softmax(np.array([[1.0, 2.0, 3.0]]))
    before = weights.copy()
    sc.softmax_jacobian(weights)
    sc.jacobian_norm(weights)
    np.testing.assert_array_equal(weights, before)


# ----------------------------------------------------------------------------- small helpers


def test_density_histogram_has_the_area_of_the_samples_inside():
    samples = np.array([-3.0, -0.5, 0.1, 0.2, 0.9, 5.0])  # 5.0 is outside the domain
    bars = sc.density_histogram(samples, (-4.0, 4.0), 8)
    assert len(bars) == 8 and bars["count"].sum() == 5
    assert (bars["density"] * (bars["end"] - bars["start"])).sum() == pytest.approx(5 / 6)
    assert bars.loc[bars["start"] == 0.0, "count"].item() == 3


def test_summary_at_reads_the_tables():
    variances = sc.variance_table(sc.sweep_dot_products(n_pairs=300, d_values=(4, 64)))
    sharpness = sc.sharpness_table(sc.sweep_attention_scores(8, rows=64, d_values=(4, 64)))
    numbers = sc.summary_at(variances, sharpness, 64, "unscaled")
    assert numbers["theory_std"] == 8.0
    row = variances[(variances["d"] == 64) & (variances["mode"] == "unscaled")]
    assert numbers["score_std"] == pytest.approx(math.sqrt(row["empirical"].item()))
    assert 0 < numbers["mean_max_weight"] <= 1 and 0 <= numbers["saturated"] <= 1
    with pytest.raises(ValueError, match="mode"):
        sc.summary_at(variances, sharpness, 64, "both")
    with pytest.raises(ValueError, match="d = 16"):
        sc.summary_at(variances, sharpness, 16, "scaled")


def test_format_small():
    assert sc.format_small(0.30512) == "0.305"
    assert sc.format_small(1.4e-5) == "1.4e-05"
    assert sc.format_small(0.0) == "< 1e-16"
    assert sc.format_small(0.30512, equals=True) == "= 0.305"
    assert sc.format_small(1e-20, equals=True) == "< 1e-16"
    assert sc.format_number(16639.7) == "16,640" and sc.format_number(1.0123) == "1.01"
    assert sc.format_number(130.2) == "130"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sc.score_variance(0), "d must be an integer of at least 1"),
        (lambda: sc.score_variance(2.5), "d must be an integer"),
        (lambda: sc.score_variance(True), "d must be an integer"),
        (lambda: sc.score_variance(4, 0.0), "variance must be a positive"),
        (lambda: sc.score_variance(4, math.nan), "variance must be a positive"),
        (lambda: sc.score_variance(4, "big"), "variance must be a number"),
        (lambda: sc.sample_dot_products(4, 1), "n_pairs must be an integer of at least 2"),
        (lambda: sc.score_variance_standard_error(4, 1), "n_samples"),
        (lambda: sc.sweep_dot_products(d_values=()), "at least one dimension"),
        (lambda: sc.sweep_dot_products(d_values=(4, 2)), "increasing"),
        (lambda: sc.sweep_attention_scores(0), "n_keys"),
        (lambda: sc.sweep_dot_products(n_pairs=10, d_values=(2,)).at(3), "not in this sweep"),
        (lambda: sc.attention_weights(np.ones(3), 4, scaled=True, temperature=0), "temperature"),
        (lambda: sc.softmax_jacobian(np.array([0.5, -0.1, 0.6])), "non-negative"),
        (lambda: sc.softmax_jacobian(np.array([0.5, np.nan])), "finite"),
        (lambda: sc.softmax_jacobian(np.float64(1.0)), "at least one axis"),
        (lambda: sc.softmax_jacobian(np.array(["a", "b"])), "real numbers"),
        (lambda: sc.density_histogram(np.ones(3), (1.0, 1.0), 4), "low < high"),
        (lambda: sc.density_histogram(np.array([]), (0.0, 1.0), 4), "empty"),
        (lambda: sc.density_histogram(np.ones(3), (0.0, 1.0), 0), "bins"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_defaults_are_on_the_page_lists():
    config = sc.ScalingConfig()
    assert config.d in sc.D_VALUES and config.temperature in sc.TEMPERATURES
    assert config.variance in sc.VARIANCES and 2 <= config.n_keys <= config.max_n_keys
    assert sc.D_VALUES[0] == 1 and sc.D_VALUES[-1] == sc.MAX_D == 1024
    assert all(math.sqrt(d) in sc.TEMPERATURES for d in (4, 16, 64, 256, 1024))
