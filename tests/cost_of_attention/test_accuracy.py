"""Error measures against torch, the sweeps, the side-by-side comparison and the sample data."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.attention import scaled_dot_product_attention, softmax
from lab.cost_of_attention import (
    MAX_D,
    MAX_FEATURES,
    MAX_N,
    MAX_SEEDS,
    Method,
    cluster_sweep,
    clustered_attention,
    compare_methods,
    feature_sweep,
    linear_attention,
    performer_attention,
    relative_output_error,
    sample_inputs,
    sweep_values,
    weight_kl_divergence,
)
from tests.refusals import assert_refuses

# torch's own float32 tolerances (torch.testing.assert_close defaults), used here in float64.
ATOL, RTOL = 1e-5, 1.3e-6


# ----------------------------------------------------------------------------- error measures


def test_relative_error_is_the_frobenius_norm_ratio_as_torch_computes_it():
    rng = np.random.default_rng(0)
    exact, approximate = rng.standard_normal((2, 3, 4, 5))
    theirs = torch.linalg.norm(torch.tensor(approximate - exact)) / torch.linalg.norm(
        torch.tensor(exact)
    )
    assert relative_output_error(exact, approximate) == pytest.approx(float(theirs), rel=RTOL)
    assert relative_output_error(exact, exact) == 0.0
    assert relative_output_error(exact, np.zeros_like(exact)) == pytest.approx(1.0)


def test_kl_divergence_matches_torch_kl_div():
    rng = np.random.default_rng(1)
    p = softmax(rng.standard_normal((2, 4, 6)))
    q = softmax(rng.standard_normal((2, 4, 6)))
    theirs = F.kl_div(torch.tensor(np.log(q)), torch.tensor(p), reduction="none").sum(-1)
    np.testing.assert_allclose(weight_kl_divergence(p, q), theirs.numpy(), atol=ATOL, rtol=RTOL)


def test_kl_conventions_for_zeros():
    exact = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    approximate = np.array([[0.25, 0.25, 0.5], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    divergence = weight_kl_divergence(exact, approximate)
    # Row 0: the exact zero adds nothing whatever q puts there: 2 · 0.5 log(0.5 / 0.25) = log 2.
    assert divergence[0] == pytest.approx(np.log(2))
    # Row 1: q rules out a key that p allows: infinite divergence.
    assert divergence[1] == np.inf
    # Row 2: identical rows.
    assert divergence[2] == 0.0


def test_kl_of_an_approximate_row_that_sees_nothing_is_infinite():
    divergence = weight_kl_divergence([[0.5, 0.5]], [[0.0, 0.0]])
    assert divergence.tolist() == [np.inf]


@settings(max_examples=80, deadline=None)
@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=st.floats(-8, 8)
    ),
    st.integers(0, 1000),
)
def test_kl_is_never_negative_and_zero_for_identical_rows(scores, seed):
    p = softmax(scores)
    q = softmax(scores + np.random.default_rng(seed).standard_normal(scores.shape))
    assert (weight_kl_divergence(p, q) >= 0).all()
    np.testing.assert_array_equal(weight_kl_divergence(p, p), 0.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: relative_output_error(np.ones((2, 3)), np.ones((3, 2))),
            "exact has shape (2, 3) but approximate has (3, 2); compare outputs of the same inputs",
        ),
        (
            lambda: relative_output_error(np.zeros((2, 3)), np.ones((2, 3))),
            "the exact output is all zeros, so a relative error is undefined; "
            "use values that are not all zero",
        ),
        (
            lambda: relative_output_error(np.ones(2), np.array([1.0, np.inf])),
            "approximate contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: weight_kl_divergence(np.ones((2, 2)) / 2, np.ones((2, 3)) / 3),
            "exact has shape (2, 2) but approximate has (2, 3); compare weights of the same inputs",
        ),
        (
            lambda: weight_kl_divergence([[0.5, 0.4]], [[0.5, 0.5]]),
            "row (0,) of exact sums to 0.9; every row must sum to 1",
        ),
        (
            lambda: weight_kl_divergence([[0.5, 0.5]], [[0.7, 0.7]]),
            "row (0,) of approximate sums to 1.4; every row must sum to 1 "
            "(or 0, for a query that sees nothing)",
        ),
        (
            lambda: weight_kl_divergence([[1.5, -0.5]], [[0.5, 0.5]]),
            "exact has negative entries; weights must be non-negative",
        ),
        (
            lambda: weight_kl_divergence(1.0, 1.0),
            "exact must have at least one axis (the keys), got a scalar",
        ),
        (
            lambda: relative_output_error(np.array([1.0, np.nan]), np.ones(2)),
            "exact contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: weight_kl_divergence([[np.nan, 1.0]], [[0.5, 0.5]]),
            "exact contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: weight_kl_divergence([[0.5, 0.5]], [[np.nan, 0.5]]),
            "approximate contains NaN or infinity; every entry must be a finite number",
        ),
    ],
)
def test_bad_error_inputs_say_what_to_fix(call, message):
    assert_refuses(call, message)


# ----------------------------------------------------------------------------- sample data


def test_sample_inputs_are_reproducible_and_come_in_balanced_kinds():
    first = sample_inputs(24, 5, seed=3, kinds=4)
    second = sample_inputs(24, 5, seed=3, kinds=4)
    np.testing.assert_array_equal(first.query, second.query)
    assert first.query.shape == first.key.shape == first.value.shape == (24, 5)
    assert np.bincount(first.kinds).tolist() == [6, 6, 6, 6]
    assert not np.allclose(sample_inputs(24, 5, seed=4, kinds=4).query, first.query)


def test_more_kinds_than_positions_makes_every_position_its_own_kind():
    data = sample_inputs(5, 3, seed=2, kinds=8)
    assert sorted(data.kinds.tolist()) == [0, 1, 2, 3, 4]


def test_queries_attend_mostly_to_keys_of_their_own_kind():
    data = sample_inputs(64, 32, seed=0, kinds=8, magnitude=0.6)
    _, weights = scaled_dot_product_attention(data.query, data.key, data.value)
    same_kind = data.kinds[:, None] == data.kinds[None, :]
    # 8 of 64 keys (1/8 of them) share a query's kind, yet they get most of its weight.
    assert np.mean(np.sum(weights * same_kind, axis=1)) > 0.4


def test_defaults_are_seed_zero_and_eight_kinds():
    by_default = sample_inputs(16, 2)
    seeded = sample_inputs(16, 2, seed=0, kinds=8)
    np.testing.assert_array_equal(by_default.query, seeded.query)
    assert np.bincount(by_default.kinds).tolist() == [2] * 8


def test_every_entry_of_a_query_and_its_key_gets_its_own_noise():
    # q_j - k_j = a s (eps_j - eps'_j): every entry independent, with standard deviation
    # a s sqrt(2) = 0.6 sqrt(2); 8192 entries pin it to about 1 %.
    data = sample_inputs(256, 32, seed=3, kinds=4, spread=0.3, magnitude=2.0)
    differences = data.query - data.key
    assert np.std(differences) == pytest.approx(0.6 * np.sqrt(2), rel=0.05)
    # within one kind the centre cancels too: queries of a kind scatter with a s sqrt(2)
    kind = data.query[data.kinds == 0]
    assert np.std(kind[1:] - kind[:-1]) == pytest.approx(0.6 * np.sqrt(2), rel=0.05)
    keys = data.key[data.kinds == 0]
    assert np.std(keys[1:] - keys[:-1]) == pytest.approx(0.6 * np.sqrt(2), rel=0.05)


def test_magnitude_and_spread_scale_queries_and_keys():
    plain = sample_inputs(10, 3, seed=1, spread=0.0, magnitude=1.0)
    np.testing.assert_array_equal(plain.query, plain.key)  # no noise: a position's q = k
    doubled = sample_inputs(10, 3, seed=1, spread=0.0, magnitude=2.0)
    np.testing.assert_allclose(doubled.query, 2 * plain.query)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sample_inputs(0, 4), "n must be at least 1, got 0"),
        (lambda: sample_inputs(MAX_N + 1, 4), f"n must be at most {MAX_N}, got {MAX_N + 1}"),
        (lambda: sample_inputs(8, 4, kinds=0), "kinds must be at least 1, got 0"),
        (lambda: sample_inputs(8, 4, spread=-0.1), "spread must be at least 0.0, got -0.1"),
        (lambda: sample_inputs(8, 4, magnitude="big"), "magnitude must be a number, got 'big'"),
        (lambda: sample_inputs(8, 0), "d must be at least 1, got 0"),
        (lambda: sample_inputs(8, MAX_D + 1), f"d must be at most {MAX_D}, got {MAX_D + 1}"),
        (lambda: sample_inputs(8, 4, seed=-1), "seed must be at least 0, got -1"),
        (lambda: sample_inputs(8, 4, magnitude=-1.0), "magnitude must be at least 0.0, got -1.0"),
    ],
)
def test_bad_sample_settings_say_what_to_fix(call, message):
    assert_refuses(call, message)


# ----------------------------------------------------------------------------- comparison and sweeps


def test_compare_methods_gives_every_method_with_exact_at_zero_error():
    data = sample_inputs(16, 8, seed=2)
    results = compare_methods(data.query, data.key, data.value, num_features=32, num_clusters=4)
    assert list(results) == list(Method)
    exact = results[Method.EXACT]
    assert exact.output_error == 0.0 and exact.mean_kl == 0.0
    for method, result in results.items():
        assert result.method is method
        assert result.weights.shape == (16, 16) and result.row_kl.shape == (16,)
        np.testing.assert_allclose(result.weights.sum(-1), 1.0, rtol=1e-12)
        assert result.output_error == pytest.approx(
            relative_output_error(exact.output, result.output)
        )
    assert results[Method.PERFORMER].output_error > 0
    assert results[Method.CLUSTERED].mean_kl > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": lambda a: a[None]}, "key must have 2 axes, got shape (1, 4, 2)"),
        ({"query": lambda a: a[0]}, "query must have 2 axes, got shape (2,)"),
        ({"value": lambda a: a[None]}, "value must have 2 axes, got shape (1, 4, 2)"),
        (
            {"query": lambda a: np.where(a == a[0, 0], np.nan, a)},
            "query contains NaN or infinity; every entry must be a finite number",
        ),
    ],
)
def test_compare_methods_takes_one_sequence(change, message):
    data = sample_inputs(4, 2)
    arrays = {"query": data.query, "key": data.key, "value": data.value}
    arrays.update({name: edit(arrays[name]) for name, edit in change.items()})
    with pytest.raises(ValueError) as error:
        compare_methods(**arrays, num_features=2, num_clusters=2)
    assert str(error.value) == message


def test_compare_methods_hands_every_setting_to_every_method():
    data = sample_inputs(40, 4, seed=0)  # k-means seeds 0 and 1 give other clusters here
    q, k, v = data.query, data.key, data.value
    results = compare_methods(
        q, k, v, num_features=8, num_clusters=3, seed=1, feature_map="relu", scale=0.2
    )
    expected = {
        Method.EXACT: scaled_dot_product_attention(q, k, v, scale=0.2),
        Method.PERFORMER: performer_attention(q, k, v, num_features=8, seed=1, scale=0.2),
        Method.LINEAR: linear_attention(q, k, v, feature_map="relu"),
        Method.CLUSTERED: clustered_attention(q, k, v, num_clusters=3, seed=1, scale=0.2),
    }
    for method, (output, weights) in expected.items():
        np.testing.assert_array_equal(results[method].output, output)
        np.testing.assert_array_equal(results[method].weights, weights)
    seed_zero = clustered_attention(q, k, v, num_clusters=3, seed=0, scale=0.2)[0]
    assert not np.allclose(results[Method.CLUSTERED].output, seed_zero)
    # and those settings matter here: the defaults give other numbers
    defaults = compare_methods(q, k, v, num_features=8, num_clusters=3)
    for method in Method:
        assert not np.allclose(defaults[method].output, results[method].output), method


def test_compare_methods_default_seed_is_zero():
    data = sample_inputs(12, 4, seed=6)
    by_default = compare_methods(data.query, data.key, data.value, num_features=4, num_clusters=2)
    seeded = compare_methods(
        data.query, data.key, data.value, num_features=4, num_clusters=2, seed=0
    )
    for method in Method:
        np.testing.assert_array_equal(by_default[method].output, seeded[method].output)


def test_cluster_sweep_reaches_zero_error_at_one_cluster_per_query():
    data = sample_inputs(32, 6, seed=1)
    sweep = cluster_sweep(
        data.query, data.key, data.value, cluster_counts=sweep_values(32), seeds=(0, 1, 2)
    )
    assert sweep.parameter == "C"
    assert sweep.values.tolist() == [1, 2, 4, 8, 16, 32]
    assert sweep.output_errors.shape == sweep.kl_divergences.shape == (6, 3)
    np.testing.assert_array_equal(sweep.output_errors[-1], 0.0)
    np.testing.assert_array_equal(sweep.kl_divergences[-1], 0.0)
    assert sweep.mean_output_error[0] > sweep.mean_output_error[3]  # C = 8 = kinds beats C = 1


def test_sweeps_hand_their_seed_and_scale_to_the_method():
    data = sample_inputs(40, 4, seed=0)  # k-means seeds 0 and 1 give other clusters here
    q, k, v = data.query, data.key, data.value
    exact, exact_weights = scaled_dot_product_attention(q, k, v, scale=0.2)
    clusters = cluster_sweep(q, k, v, cluster_counts=(3,), seeds=(0, 1), scale=0.2)
    features = feature_sweep(q, k, v, feature_counts=(8,), seeds=(0, 1), scale=0.2)
    assert clusters.method is Method.CLUSTERED and features.method is Method.PERFORMER
    for column, seed in enumerate((0, 1)):
        output, weights = clustered_attention(q, k, v, num_clusters=3, seed=seed, scale=0.2)
        assert clusters.output_errors[0, column] == relative_output_error(exact, output)
        assert clusters.kl_divergences[0, column] == np.mean(
            weight_kl_divergence(exact_weights, weights)
        )
        output, weights = performer_attention(q, k, v, num_features=8, seed=seed, scale=0.2)
        assert features.output_errors[0, column] == relative_output_error(exact, output)
        assert features.kl_divergences[0, column] == np.mean(
            weight_kl_divergence(exact_weights, weights)
        )
    assert clusters.output_errors[0, 0] != clusters.output_errors[0, 1]  # k-means seeds differ


def test_a_sweep_takes_up_to_max_n_queries_and_max_seeds_seeds():
    data = sample_inputs(MAX_N, 2, seed=1)
    sweep = cluster_sweep(
        data.query, data.key, data.value, cluster_counts=(1,), seeds=range(MAX_SEEDS)
    )
    assert sweep.output_errors.shape == (1, MAX_SEEDS)
    # one cluster is the mean query whatever the seed: every seed gives the same error
    np.testing.assert_array_equal(sweep.output_errors, sweep.output_errors[0, 0])


def test_sweep_summaries_are_the_mean_and_sample_spread_over_seeds():
    data = sample_inputs(20, 4, seed=3)
    sweep = feature_sweep(data.query, data.key, data.value, feature_counts=(2, 8), seeds=range(4))
    assert sweep.parameter == "r"
    np.testing.assert_allclose(sweep.mean_output_error, sweep.output_errors.mean(axis=1))
    np.testing.assert_allclose(sweep.output_error_spread, sweep.output_errors.std(axis=1, ddof=1))
    np.testing.assert_allclose(sweep.kl_spread, sweep.kl_divergences.std(axis=1, ddof=1))
    single = feature_sweep(data.query, data.key, data.value, feature_counts=(2, 8), seeds=[5])
    assert single.output_error_spread.tolist() == [0.0, 0.0]
    assert single.kl_spread.tolist() == [0.0, 0.0]
    pair = feature_sweep(data.query, data.key, data.value, feature_counts=(2,), seeds=[0, 1])
    errors = pair.output_errors[0]
    # the sample standard deviation of two numbers is their distance over sqrt(2)
    assert pair.output_error_spread[0] == pytest.approx(abs(errors[0] - errors[1]) / np.sqrt(2))


def test_one_seed_of_a_sweep_is_that_seed_of_performer_attention():
    data = sample_inputs(12, 4, seed=4)
    sweep = feature_sweep(data.query, data.key, data.value, feature_counts=(3,), seeds=(7,))
    exact, _ = scaled_dot_product_attention(data.query, data.key, data.value)
    results = compare_methods(
        data.query, data.key, data.value, num_features=3, num_clusters=1, seed=7
    )
    assert sweep.output_errors[0, 0] == pytest.approx(results[Method.PERFORMER].output_error)
    assert sweep.kl_divergences[0, 0] == pytest.approx(results[Method.PERFORMER].mean_kl)
    assert exact.shape == (12, 4)


def test_sweep_values_are_powers_of_two_then_the_maximum():
    assert sweep_values(12) == (1, 2, 4, 8, 12)
    assert sweep_values(16) == (1, 2, 4, 8, 16)
    assert sweep_values(1) == (1,)
    with pytest.raises(ValueError) as error:
        sweep_values(0)
    assert str(error.value) == "maximum must be at least 1, got 0"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda data: feature_sweep(
                data.query, data.key, data.value, feature_counts=(), seeds=(0,)
            ),
            "feature_counts is empty; give at least one value",
        ),
        (
            lambda data: feature_sweep(
                data.query, data.key, data.value, feature_counts=(4, 2), seeds=(0,)
            ),
            "feature_counts must increase, got [4, 2]",
        ),
        (
            lambda data: feature_sweep(
                data.query, data.key, data.value, feature_counts=(2, 2), seeds=(0,)
            ),
            "feature_counts must increase, got [2, 2]",
        ),
        (
            lambda data: feature_sweep(
                data.query, data.key, data.value, feature_counts=(0, 2), seeds=(0,)
            ),
            "feature_counts must be at least 1, got 0",
        ),
        (
            lambda data: feature_sweep(
                data.query, data.key, data.value, feature_counts=(2,), seeds=(0, -1)
            ),
            "seed must be at least 0, got -1",
        ),
        (
            lambda data: cluster_sweep(
                data.query, data.key, data.value, cluster_counts=(MAX_N + 1,), seeds=(0,)
            ),
            f"cluster_counts must be at most {MAX_N}, got {MAX_N + 1}",
        ),
        (
            lambda data: cluster_sweep(
                data.query[0], data.key, data.value, cluster_counts=(1,), seeds=(0,)
            ),
            "query must have 2 axes, got shape (4,)",
        ),
        (
            lambda data: feature_sweep(
                np.full((8, 4), np.nan), data.key, data.value, feature_counts=(1,), seeds=(0,)
            ),
            "query contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda data: feature_sweep(
                data.query, data.key, data.value, feature_counts=(MAX_FEATURES + 1,), seeds=(0,)
            ),
            f"feature_counts must be at most {MAX_FEATURES}, got {MAX_FEATURES + 1}",
        ),
        (
            lambda data: cluster_sweep(
                data.query, data.key, data.value, cluster_counts=(1,), seeds=range(MAX_SEEDS + 1)
            ),
            f"give between 1 and {MAX_SEEDS} seeds, got {MAX_SEEDS + 1}",
        ),
        (
            lambda data: cluster_sweep(
                data.query, data.key, data.value, cluster_counts=(1,), seeds=()
            ),
            f"give between 1 and {MAX_SEEDS} seeds, got 0",
        ),
        (
            lambda data: cluster_sweep(
                np.zeros((MAX_N + 1, 4)), data.key, data.value, cluster_counts=(1,), seeds=(0,)
            ),
            f"query has {MAX_N + 1} positions; a sweep takes at most {MAX_N}",
        ),
    ],
)
def test_bad_sweep_settings_say_what_to_fix(call, message):
    data = sample_inputs(8, 4)
    with pytest.raises(ValueError) as error:
        call(data)
    assert str(error.value) == message
