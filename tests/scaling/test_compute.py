"""lab.scaling.compute: q·k statistics against theory, softmax sharpness, the Jacobian against torch."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lab import scaling as sc
from lab.attention import entropy, softmax
from lab.scaling import Comparison, Mode
from tests.refusals import assert_refuses

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
    assert set(table["mode"]) == {mode.value for mode in Mode}
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


@pytest.mark.parametrize(
    ("bins", "count_from_zero"),
    [(8, 3), (4, 3), (16, 2)],  # bin widths 1, 2 and 0.5
)
def test_density_histogram_has_the_area_of_the_samples_inside(bins, count_from_zero):
    samples = np.array([-3.0, -0.5, 0.1, 0.2, 0.9, 5.0])  # 5.0 is outside the domain
    bars = sc.density_histogram(samples, (-4.0, 4.0), bins)
    assert len(bars) == bins and bars["count"].sum() == 5
    assert (bars["density"] * (bars["end"] - bars["start"])).sum() == pytest.approx(5 / 6)
    from_zero = bars.loc[bars["start"] == 0.0]
    assert from_zero["count"].item() == count_from_zero
    assert from_zero["density"].item() == pytest.approx(count_from_zero / (6 * 8 / bins))


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
    with pytest.raises(ValueError) as error:
        sc.summary_at(variances, sharpness, 16, Mode.SCALED)
    assert str(error.value) == "d = 16 is not in both tables"
    # Every number, read back from the tables (d = 4, scaled).
    scaled = sc.summary_at(variances, sharpness, 4, Mode.SCALED)
    variance_row = variances[(variances["d"] == 4) & (variances["mode"] == "scaled")].iloc[0]
    sharp_row = sharpness[(sharpness["d"] == 4) & (sharpness["mode"] == "scaled")].iloc[0]
    assert scaled == {
        "score_variance": variance_row["empirical"],
        "theory_variance": 1.0,
        "score_std": math.sqrt(variance_row["empirical"]),
        "theory_std": 1.0,
        "mean_max_weight": sharp_row["mean_max_weight"],
        "mean_entropy": sharp_row["mean_entropy"],
        "jacobian_median": sharp_row["jacobian_median"],
        "saturated": sharp_row["saturated"],
    }
    assert sc.summary_at(variances, sharpness, 4, "scaled") == scaled


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
        (lambda: sc.score_variance(0), "d must be at least 1, got 0"),
        (lambda: sc.score_variance(2.5), "d must be a whole number, got 2.5"),
        (lambda: sc.score_variance(True), "d must be a whole number, got True"),
        (lambda: sc.score_variance(4, 0.0), "variance must be positive, got 0.0"),
        (lambda: sc.score_variance(4, math.nan), "variance must be a finite number, got nan"),
        (lambda: sc.score_variance(4, "big"), "variance must be a number, got 'big'"),
        (lambda: sc.sample_dot_products(4, 1), "n_pairs must be at least 2, got 1"),
        (lambda: sc.score_variance_standard_error(4, 1), "n_samples must be at least 2, got 1"),
        (lambda: sc.sweep_dot_products(d_values=()), "d_values must hold at least one dimension"),
        (
            lambda: sc.sweep_dot_products(d_values=(4, 2)),
            "d_values must be increasing without repeats, got [4, 2]",
        ),
        (
            lambda: sc.sweep_dot_products(d_values=(2, 2)),
            "d_values must be increasing without repeats, got [2, 2]",
        ),
        (
            lambda: sc.sweep_dot_products(d_values=(0, 2)),
            "every d in d_values must be at least 1, got 0",
        ),
        (lambda: sc.sweep_attention_scores(0), "n_keys must be at least 1, got 0"),
        (lambda: sc.sample_attention_scores(0, 4), "n_keys must be at least 1, got 0"),
        (lambda: sc.sample_attention_scores(2, 4, trials=0), "trials must be at least 1, got 0"),
        (lambda: sc.sample_attention_scores(2, 0), "d must be at least 1, got 0"),
        (lambda: sc.sample_dot_products(0, 5), "d must be at least 1, got 0"),
        (lambda: sc.uniform_entropy(0), "n_keys must be at least 1, got 0"),
        (lambda: sc.uniform_jacobian_norm(0), "n_keys must be at least 1, got 0"),
        (lambda: sc.restoring_temperature(0.0), "variance must be positive, got 0.0"),
        (lambda: sc.trials_for(16, 0), "rows must be at least 1, got 0"),
        (
            lambda: sc.sweep_dot_products(n_pairs=10, d_values=(2,)).at(3),
            "d = 3 is not in this sweep; it has [2]",
        ),
        (
            lambda: sc.sweep_attention_scores(4, rows=8, d_values=(2,)).at(4),
            "d = 4 is not in this sweep; it has [2]",
        ),
        (
            lambda: sc.attention_weights(np.ones(3), 4, scaled=True, temperature=0),
            "temperature must be positive, got 0",
        ),
        (
            lambda: sc.softmax_jacobian(np.array([0.5, -0.1, 0.6])),
            "weights must be finite and non-negative (a softmax output)",
        ),
        (
            lambda: sc.softmax_jacobian(np.array([0.5, np.nan])),
            "weights must be finite and non-negative (a softmax output)",
        ),
        (
            lambda: sc.jacobian_norm(np.array([0.5, np.inf])),
            "weights must be finite and non-negative (a softmax output)",
        ),
        (
            lambda: sc.softmax_jacobian(np.float64(1.0)),
            "weights must have at least one axis (the keys)",
        ),
        (
            lambda: sc.softmax_jacobian(np.array(["a", "b"])),
            "weights must hold real numbers, got dtype <U1",
        ),
        (
            lambda: sc.density_histogram(np.ones(3), (1.0, 1.0), 4),
            "domain must be two finite numbers, low < high, got (1.0, 1.0)",
        ),
        (
            lambda: sc.density_histogram(np.ones(3), (0.0, math.inf), 4),
            "domain must be two finite numbers, low < high, got (0.0, inf)",
        ),
        (
            lambda: sc.density_histogram(np.array([]), (0.0, 1.0), 4),
            "samples is empty; there is nothing to count",
        ),
        (lambda: sc.density_histogram(np.ones(3), (0.0, 1.0), 0), "bins must be at least 1, got 0"),
        (
            lambda: sc.normal_density(np.array(["a"]), 1.0),
            "x must hold real numbers, got dtype <U1",
        ),
        (
            lambda: sc.attention_weights(np.array(["a"]), 4, scaled=True),
            "scores must hold real numbers, got dtype <U1",
        ),
        (
            lambda: sc.density_histogram(np.array(["a"]), (0.0, 1.0), 2),
            "samples must hold real numbers, got dtype <U1",
        ),
        (
            lambda: sc.attention_weights(np.ones(3), 4, scaled=False, temperature=math.inf),
            "temperature must be a finite number, got inf",
        ),
        (
            lambda: sc.attention_weights(np.ones(3), 4, scaled=False, temperature="hot"),
            "temperature must be a number, got 'hot'",
        ),
        (
            lambda: sc.sweep_dot_products(n_pairs=10, d_values=(2,)).with_variance(-1),
            "variance must be positive, got -1",
        ),
        (
            lambda: sc.summary_at(None, None, 4, "both"),
            "mode must be one of ['unscaled', 'scaled'], got 'both'",
        ),
    ],
)
def test_bad_inputs_raise_clear_errors(call, message):
    assert_refuses(call, message)


def test_defaults_are_on_the_page_lists():
    config = sc.ScalingConfig()
    assert config.d in sc.D_VALUES and config.temperature in sc.TEMPERATURES
    assert config.variance in sc.VARIANCES and 2 <= config.n_keys <= config.max_n_keys
    assert sc.D_VALUES[0] == 1 and sc.D_VALUES[-1] == sc.MAX_D == 1024
    assert all(math.sqrt(d) in sc.TEMPERATURES for d in (4, 16, 64, 256, 1024))


# ----------------------------------------------------------------------------- the draw itself


def test_samples_follow_their_documented_random_streams():
    # Pairs: stream [seed, d, 0], queries then keys, unit variance, times sigma^2.
    rng = np.random.default_rng([7, 8, 0])
    queries = rng.standard_normal((50, 8))
    keys = rng.standard_normal((50, 8))
    np.testing.assert_allclose(
        sc.sample_dot_products(8, 50, variance=2.0, seed=7),
        (queries * keys).sum(axis=1) * 2.0,
        rtol=1e-13,
    )
    # Trials: stream [seed, d, 1, S], one (R, 2, S, d) draw: queries at [:, 0], keys at [:, 1].
    rng = np.random.default_rng([7, 8, 1, 3])
    vectors = rng.standard_normal((2, 2, 3, 8))
    expected = np.einsum("rle,rse->rls", vectors[:, 0], vectors[:, 1]) * 0.5
    np.testing.assert_allclose(
        sc.sample_attention_scores(3, 8, trials=2, variance=0.5, seed=7), expected, rtol=1e-13
    )


def test_a_new_variance_rescales_the_same_draw_exactly():
    unit = sc.sweep_dot_products(seed=3, n_pairs=50, d_values=(1, 16))
    for variance in sc.VARIANCES:
        direct = sc.sweep_dot_products(variance=variance, seed=3, n_pairs=50, d_values=(1, 16))
        rescaled = unit.with_variance(variance)
        assert rescaled.variance == variance and rescaled.d_values == (1, 16)
        np.testing.assert_array_equal(rescaled.samples, direct.samples)  # powers of two: exact
    np.testing.assert_array_equal(unit.with_variance(4.0).samples, 4.0 * unit.samples)
    np.testing.assert_array_equal(
        unit.with_variance(4.0).with_variance(0.5).samples, 0.5 * unit.samples
    )
    attention = sc.sweep_attention_scores(5, seed=3, rows=10, d_values=(4,))
    stronger = attention.with_variance(2.0)
    assert (stronger.variance, stronger.n_keys, stronger.d_values) == (2.0, 5, (4,))
    np.testing.assert_array_equal(
        stronger.scores,
        sc.sweep_attention_scores(5, variance=2.0, seed=3, rows=10, d_values=(4,)).scores,
    )
    np.testing.assert_array_equal(stronger.with_variance(0.5).scores, 0.5 * attention.scores)


def test_restoring_temperature_gives_back_the_unit_variance_softmax_exactly():
    unit = sc.sample_attention_scores(6, 64, trials=3, seed=2)
    for variance in sc.VARIANCES:
        assert sc.restoring_temperature(variance) == variance
        scores = sc.sample_attention_scores(6, 64, trials=3, variance=variance, seed=2)
        restored = sc.attention_weights(
            scores, 64, scaled=True, temperature=sc.restoring_temperature(variance)
        )
        np.testing.assert_array_equal(restored, sc.attention_weights(unit, 64, scaled=True))


def test_trials_give_about_the_asked_number_of_rows():
    assert sc.trials_for(16, 512) == 32 and sc.trials_for(7, 512) == 74
    assert sc.trials_for(32, 512) == 16 and sc.trials_for(512, 1) == 1
    sweep = sc.sweep_attention_scores(7, seed=0, rows=30, d_values=(2,))
    assert sweep.scores.shape == (1, 5, 7, 7) and sweep.n_rows == 35
    assert sweep.n_keys == 7 and sweep.variance == 1.0


def test_modes_and_comparisons():
    assert [mode.value for mode in Mode] == ["unscaled", "scaled"]
    assert Mode.SCALED.scaled and not Mode.UNSCALED.scaled
    assert Mode("scaled") is Mode.SCALED
    assert Comparison.BOTH.modes == (Mode.UNSCALED, Mode.SCALED)
    assert Comparison.UNSCALED.modes == (Mode.UNSCALED,)
    assert Comparison.SCALED.modes == (Mode.SCALED,)
    assert [choice.label for choice in Comparison] == ["Both", "Unscaled", "Scaled"]


# ----------------------------------------------------------------------------- exact values


def test_standard_error_values():
    assert sc.score_variance_standard_error(4, 100) == pytest.approx(math.sqrt(56 / 100))
    assert sc.score_variance_standard_error(4, 100, scaled=True) == pytest.approx(
        math.sqrt(56 / 100) / 4
    )
    assert sc.score_variance_standard_error(1, 8, 2.0) == pytest.approx(4 * math.sqrt(8 / 8))
    assert sc.score_domain(64, 2.0, scaled=True) == (-9.0, 9.0)
    assert sc.score_domain(4, 0.25) == (-2.25, 2.25)


def test_variance_table_columns_and_the_clipped_low_end():
    sweep = sc.sweep_dot_products(seed=1, n_pairs=3, d_values=(1, 1024))
    table = sc.variance_table(sweep)
    assert list(table.columns) == [
        "d",
        "mode",
        "empirical",
        "theory",
        "standard_error",
        "low",
        "high",
    ]
    for row in table.itertuples():
        scaled = row.mode == "scaled"
        assert row.empirical == pytest.approx(np.var(sweep.at(row.d, scaled=scaled), ddof=1))
        assert row.standard_error == sc.score_variance_standard_error(row.d, 3, scaled=scaled)
        assert row.high == row.empirical + 2 * row.standard_error
        # With three pairs two standard errors exceed the estimate: low is a tenth of it.
        assert row.low == max(row.empirical - 2 * row.standard_error, row.empirical / 10)
        assert row.low == row.empirical / 10
    assert sc.bars_covering_theory(table) == int(
        ((table["low"] <= table["theory"]) & (table["theory"] <= table["high"])).sum()
    )


def test_bars_covering_theory_counts_bars_that_contain_it():
    table = pd.DataFrame(
        {
            "low": [0.5, 1.0, 1.1, 0.2, 0.5],
            "high": [1.5, 2.0, 2.0, 0.9, 1.0],
            "theory": [1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    assert sc.bars_covering_theory(table) == 3  # both ends count as inside


def test_excess_kurtosis_is_six_over_d():
    assert sc.score_excess_kurtosis(1) == 6.0 and sc.score_excess_kurtosis(16) == 0.375
    for d, tolerance in ((4, 0.2), (16, 0.1)):
        samples = sc.sample_dot_products(d, 100_000, seed=5)
        centred = samples - samples.mean()
        kurtosis = np.mean(centred**4) / np.mean(centred**2) ** 2 - 3
        assert abs(kurtosis - sc.score_excess_kurtosis(d)) < tolerance, d


def test_sharpness_row_is_what_it_says():
    scores = sc.sample_attention_scores(8, 256, trials=40, seed=6)  # (R, L, S)
    for mode in Mode:
        for temperature in (0.25, 1.0):
            row = sc.sharpness_row(scores, 256, mode, temperature)
            weights = sc.attention_weights(scores, 256, scaled=mode.scaled, temperature=temperature)
            norms = np.linalg.norm(sc.softmax_jacobian(weights), axis=(-2, -1)).ravel()
            q10, median, q90 = np.quantile(norms, [0.1, 0.5, 0.9])
            expected = {
                "mean_entropy": entropy(weights).mean(),
                "mean_max_weight": weights.max(axis=-1).mean(),
                "jacobian_median": median,
                "jacobian_q10": q10,
                "jacobian_q90": q90,
                "jacobian_mean": norms.mean(),
                "saturated": np.mean(norms < 1e-3),
            }
            assert row.keys() == expected.keys()
            for name, value in expected.items():
                assert row[name] == pytest.approx(value, rel=1e-9, abs=1e-300), (mode, name)
    # Unscaled at d = 256 and T = 0.25 many rows are saturated, some not: the threshold counts.
    saturated = sc.sharpness_row(scores, 256, Mode.UNSCALED, 0.25)["saturated"]
    assert 0 < saturated < 1 and sc.SATURATED_BELOW == 1e-3


def test_sharpness_table_rows_are_sharpness_rows():
    sweep = sc.sweep_attention_scores(6, seed=1, rows=60, d_values=(2, 32))
    table = sc.sharpness_table(sweep, 2.0)
    assert list(zip(table["d"], table["mode"], strict=True)) == [
        (2, "unscaled"),
        (2, "scaled"),
        (32, "unscaled"),
        (32, "scaled"),
    ]
    for record in table.to_dict("records"):
        expected = sc.sharpness_row(sweep.at(record["d"]), record["d"], record["mode"], 2.0)
        assert {key: record[key] for key in expected} == expected


def _trend_table(unscaled: list[float]) -> pd.DataFrame:
    d_values = [1, 2, 4, 8][: len(unscaled)]
    return pd.DataFrame(
        {
            "d": d_values * 2,
            "mode": ["unscaled"] * len(d_values) + ["scaled"] * len(d_values),
            "jacobian_median": unscaled + [0.3] * len(d_values),
        }
    )


@pytest.mark.parametrize(
    ("medians", "expected", "rises", "falls"),
    [
        ([0.2, 0.4, 0.3, 0.01], sc.JacobianTrend(0.2, 0.4, 2, 0.01), True, True),
        ([0.2, 0.25, 0.3, 0.35], sc.JacobianTrend(0.2, 0.35, 8, 0.35), True, False),
        ([0.5, 0.4, 0.1, 0.001], sc.JacobianTrend(0.5, 0.5, 1, 0.001), False, True),
    ],
)
def test_jacobian_trend_reads_the_median_line(medians, expected, rises, falls):
    # Rows out of order: the trend sorts by d.
    table = _trend_table(medians).iloc[::-1]
    trend = sc.jacobian_trend(table, Mode.UNSCALED)
    assert trend == expected
    assert trend.rises_first is rises and trend.falls_after_peak is falls
    assert sc.jacobian_trend(table, "scaled") == sc.JacobianTrend(0.3, 0.3, 1, 0.3)


def test_jacobian_trend_needs_rows_of_its_mode():
    table = _trend_table([0.1, 0.2])
    with pytest.raises(ValueError) as error:
        sc.jacobian_trend(table[table["mode"] == "unscaled"], Mode.SCALED)
    assert str(error.value) == "the table has no rows for mode 'scaled'"


def test_format_boundaries():
    assert sc.format_small(1e-3) == "0.001" and sc.format_small(9.99e-4) == "1.0e-03"
    assert sc.format_small(1e-16) == "1.0e-16" and sc.format_small(9.9e-17) == "< 1e-16"
    assert sc.format_number(1000.0) == "1,000" and sc.format_number(999.4) == "999"
    assert sc.format_number(-1234.5) == "-1,234"


vectors_and_logits = st.integers(1, 6).flatmap(
    lambda size: st.tuples(
        hnp.arrays(np.float64, (size,), elements=st.floats(-30, 30)),
        hnp.arrays(np.float64, (size,), elements=st.floats(-10, 10)),
    )
)


@settings(max_examples=60, deadline=None)
@given(vectors_and_logits)
def test_the_frobenius_norm_bounds_the_gradient_that_reaches_the_logits(pair):
    logits, upstream = pair
    weights = softmax(logits)
    jacobian = sc.softmax_jacobian(weights)
    # J is symmetric, so the gradient on the logits is J @ g.
    reached = np.linalg.norm(jacobian @ upstream)
    assert reached <= float(sc.jacobian_norm(weights)) * np.linalg.norm(upstream) + 1e-12


def test_sweep_columns_are_the_table_as_arrays():
    table = sc.sharpness_table(sc.sweep_attention_scores(4, rows=8, d_values=(2, 8)))
    columns = sc.sweep_columns(table)
    assert list(columns) == list(table.columns)
    assert columns["mode"].dtype.kind == "U"  # fixed-width text: hashed as bytes
    assert columns["mode"].tolist() == ["unscaled", "scaled", "unscaled", "scaled"]
    for name in table.columns:
        assert columns[name].tolist() == table[name].tolist()


def test_defaults_of_the_samplers():
    np.testing.assert_array_equal(
        sc.sample_dot_products(4, 10), sc.sample_dot_products(4, 10, seed=0)
    )
    np.testing.assert_array_equal(
        sc.sweep_dot_products(n_pairs=10, d_values=(2,)).samples,
        sc.sweep_dot_products(n_pairs=10, d_values=(2,), seed=0).samples,
    )
    assert sc.sample_attention_scores(3, 4).shape == (1, 3, 3)
    np.testing.assert_array_equal(
        sc.sample_attention_scores(3, 4), sc.sample_attention_scores(3, 4, seed=0)
    )
    np.testing.assert_array_equal(
        sc.sweep_attention_scores(3, rows=6, d_values=(2,)).scores,
        sc.sweep_attention_scores(3, rows=6, d_values=(2,), seed=0).scores,
    )
    assert sc.sweep_dot_products(n_pairs=10, d_values=(2,)).variance == 1.0


def test_float32_inputs_are_computed_in_float64():
    logits = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    assert sc.attention_weights(logits, 4, scaled=True).dtype == np.float64
    weights = softmax(logits.astype(np.float64)).astype(np.float32)
    assert sc.softmax_jacobian(weights).dtype == np.float64
    assert sc.jacobian_norm(weights).dtype == np.float64
    assert sc.normal_density(np.array([0.0, 1.0], dtype=np.float32), 1.0).dtype == np.float64


def test_variance_table_with_another_variance_and_unclipped_bars():
    sweep = sc.sweep_dot_products(variance=2.0, seed=4, n_pairs=500, d_values=(4, 64))
    table = sc.variance_table(sweep)
    for row in table.itertuples():
        scaled = row.mode == "scaled"
        assert row.theory == sc.score_variance(row.d, 2.0, scaled=scaled)
        assert row.theory == (4.0 if scaled else 4.0 * row.d)
        assert row.standard_error == sc.score_variance_standard_error(
            row.d, 500, 2.0, scaled=scaled
        )
        # 500 pairs: two standard errors are far less than the estimate, no clipping.
        assert row.low == row.empirical - 2 * row.standard_error


def test_query_rows_count_what_the_sweep_draws():
    for n_keys, rows in ((16, 512), (7, 512), (32, 512), (3, 10)):
        sweep = sc.sweep_attention_scores(n_keys, rows=rows, d_values=(2,))
        assert sc.query_rows(n_keys, rows) == sweep.n_rows
    assert sc.query_rows(16) == 512 and sc.query_rows(7) == 518
