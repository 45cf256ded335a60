"""Random features: unbiased for exp(scale q·k), spread falling like 1/r; Performer attention."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lab.cost_of_attention.compute as compute
from lab.attention import scaled_dot_product_attention
from lab.cost_of_attention import feature_sweep, sample_inputs
from tests.refusals import assert_refuses

# torch's own float32 tolerances (torch.testing.assert_close defaults), used here in float64.
ATOL, RTOL = 1e-5, 1.3e-6

# One (q, k) pair with modest norms, so the estimate's spread is moderate (relative variance
# of one feature: exp(|q' + k'|^2) - 1 = 0.84) and a few thousand seeds pin the mean down.
QUERY = np.array([0.6, -0.4, 0.9, 0.2])
KEY = np.array([0.3, 0.5, -0.7, 0.4])
SCALE = 0.5  # = 1 / sqrt(4), the default for E = 4


def estimate(num_features: int, seed: int) -> float:
    return float(
        compute.random_feature_map(QUERY, num_features=num_features, seed=seed)
        @ compute.random_feature_map(KEY, num_features=num_features, seed=seed)
    )


def torch_features(x: np.ndarray, directions: np.ndarray, scale: float) -> torch.Tensor:
    """phi(x) = exp(W x' - |x'|^2 / 2) / sqrt(r), written directly in torch (float64)."""
    scaled = torch.tensor(x, dtype=torch.float64) * math.sqrt(scale)
    w = torch.tensor(directions, dtype=torch.float64)
    half_norms = 0.5 * (scaled**2).sum(-1, keepdim=True)
    return torch.exp(scaled @ w.T - half_norms) / math.sqrt(w.shape[0])


def torch_kernel_attention(phi_q: torch.Tensor, phi_k: torch.Tensor, value: np.ndarray):
    """The explicit O(n^2) formula: w_ij = phi(q_i)·phi(k_j) / sum_l phi(q_i)·phi(k_l)."""
    similarities = phi_q @ phi_k.transpose(-1, -2)
    weights = similarities / similarities.sum(-1, keepdim=True)
    return (weights @ torch.tensor(value, dtype=torch.float64)).numpy(), weights.numpy()


# ----------------------------------------------------------------------------- the estimator


def test_mean_over_seeds_converges_to_exp_of_scaled_dot_product():
    seeds = 4000
    target = math.exp(SCALE * QUERY @ KEY)
    relative_variance = compute.random_feature_relative_variance(
        QUERY[None], KEY[None], num_features=1
    )
    standard_error = target * math.sqrt(relative_variance[0, 0] / seeds)
    estimates = np.array([estimate(1, seed) for seed in range(seeds)])
    # Tolerance: four standard errors of the mean, from the closed-form variance.
    assert abs(estimates.mean() - target) < 4 * standard_error
    assert standard_error < 0.02 * target  # the check is tight: within 8 % of the target


def test_mean_is_unbiased_for_every_r_not_only_in_the_limit():
    seeds = 1000
    target = math.exp(SCALE * QUERY @ KEY)
    for r in (2, 16):
        variance = compute.random_feature_relative_variance(QUERY[None], KEY[None], num_features=r)
        standard_error = target * math.sqrt(variance[0, 0] / seeds)
        estimates = np.array([estimate(r, seed) for seed in range(seeds)])
        assert abs(estimates.mean() - target) < 4 * standard_error, r


def test_squared_error_falls_like_one_over_r_as_the_closed_form_says():
    seeds = 1000
    target = math.exp(SCALE * QUERY @ KEY)
    errors = []
    for r in (1, 4, 16, 64):
        estimates = np.array([estimate(r, seed) for seed in range(seeds)])
        mean_squared_error = float(np.mean((estimates - target) ** 2))
        predicted = compute.random_feature_relative_variance(QUERY[None], KEY[None], num_features=r)
        # Within 20 % of (exp(|q' + k'|^2) - 1) target^2 / r: the sample of 1000 squared
        # errors has a relative standard error of about 6 % for this pair.
        assert mean_squared_error == pytest.approx(predicted[0, 0] * target**2, rel=0.2), r
        errors.append(mean_squared_error)
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < errors[0] / 30  # 64 times the features: about 64 times less


def test_relative_variance_is_exp_of_the_squared_norm_of_the_scaled_sum():
    rng = np.random.default_rng(3)
    q, k = rng.standard_normal((2, 3, 5))
    scale = 0.7
    variance = compute.random_feature_relative_variance(q, k, num_features=8, scale=scale)
    by_hand = np.expm1(scale * np.sum((q[:, None, :] + k[None, :, :]) ** 2, axis=-1)) / 8
    np.testing.assert_allclose(variance, by_hand, rtol=1e-12)


def test_relative_variance_with_batches_and_the_default_scale():
    rng = np.random.default_rng(4)
    q, k = rng.standard_normal((2, 3, 5)), rng.standard_normal((2, 4, 5))
    variance = compute.random_feature_relative_variance(q, k, num_features=3)  # scale 1 / sqrt(5)
    sums = q[:, :, None, :] + k[:, None, :, :]  # (2, 3, 4, 5)
    by_hand = np.expm1(np.sum(sums**2, axis=-1) / np.sqrt(5)) / 3
    np.testing.assert_allclose(variance, by_hand, rtol=1e-12)


def test_relative_variance_is_zero_for_opposite_vectors_and_inf_past_the_float_range():
    # q + k = 0: the estimate of exp(q·k) is exact whatever the directions.
    q = np.array([[0.1, -0.2]])
    assert compute.random_feature_relative_variance(q, -q, num_features=4).tolist() == [[0.0]]
    # |q + k|^2 = 3600: exp(3600) is beyond float64, so the spread is inf (and no warning).
    big = np.array([[30.0, 30.0]])
    assert compute.random_feature_relative_variance(
        big, big, num_features=2, scale=1.0
    ).tolist() == [[np.inf]]


def test_features_match_the_formula_written_in_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 6))
    ours = compute.random_feature_map(x, num_features=7, seed=3, scale=0.4)
    theirs = torch_features(x, compute.random_directions(7, 6, seed=3), 0.4).numpy()
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    assert ours.shape == (2, 5, 7)
    assert (ours > 0).all()


def test_log_features_are_the_logarithm_of_the_features():
    x = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_allclose(
        np.exp(compute.log_random_features(x, num_features=5, seed=2)),
        compute.random_feature_map(x, num_features=5, seed=2),
        rtol=1e-14,
    )


def test_features_of_no_vectors_are_an_empty_array():
    features = compute.random_feature_map(np.ones((0, 3)), num_features=2)
    assert features.shape == (0, 2)


def test_the_default_seed_is_zero():
    np.testing.assert_array_equal(
        compute.random_directions(3, 4), compute.random_directions(3, 4, seed=0)
    )
    rng = np.random.default_rng(8)
    q, k, v = rng.standard_normal((3, 5, 4))
    np.testing.assert_array_equal(
        compute.performer_output(q, k, v, num_features=8),
        compute.performer_output(q, k, v, num_features=8, seed=0),
    )
    assert not np.allclose(
        compute.performer_output(q, k, v, num_features=8),
        compute.performer_output(q, k, v, num_features=8, seed=1),
    )


def test_default_scale_is_one_over_root_e():
    x = np.random.default_rng(2).standard_normal((3, 9))
    np.testing.assert_array_equal(
        compute.random_feature_map(x, num_features=4),
        compute.random_feature_map(x, num_features=4, scale=1 / 3),
    )


def test_scale_zero_makes_every_feature_one_over_root_r():
    x = np.random.default_rng(2).standard_normal((3, 4))
    np.testing.assert_allclose(compute.random_feature_map(x, num_features=16, scale=0.0), 0.25)


def test_adding_features_keeps_the_old_directions_and_seeds_differ():
    small = compute.random_directions(3, 5, seed=7)
    large = compute.random_directions(10, 5, seed=7)
    np.testing.assert_array_equal(large[:3], small)
    assert not np.allclose(compute.random_directions(3, 5, seed=8), small)


def test_features_keep_float32_and_do_not_touch_the_input():
    x = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    before = x.copy()
    features = compute.random_feature_map(x, num_features=6)
    assert features.dtype == np.float32
    np.testing.assert_array_equal(x, before)


def test_features_that_would_overflow_raise_and_say_what_to_do():
    # phi is largest where x' equals a direction w: log phi = |w|^2 / 2 - log(r) / 2,
    # about 128 for E = 256, beyond float32's limit of 88.7.
    size = 256
    direction = compute.random_directions(1, size, seed=0)[0]
    x = (direction * size**0.25).astype(np.float32)  # x' = x sqrt(1 / sqrt(256)) = w
    largest = float(compute.log_random_features(x, num_features=1)[0])
    with pytest.raises(ValueError) as error:
        compute.random_feature_map(x, num_features=1)
    assert str(error.value) == (
        f"the random features overflow float32 (largest log-feature {largest:.1f}, "
        "limit 88.7); scale x down, or use log_random_features or performer_attention, "
        "which stay in log space"
    )


# ----------------------------------------------------------------------------- Performer attention


def test_performer_equals_the_explicit_quadratic_formula_in_torch():
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal(shape) for shape in [(2, 7, 4), (2, 9, 4), (2, 9, 3)])
    directions = compute.random_directions(32, 4, seed=1)
    theirs_output, theirs_weights = torch_kernel_attention(
        torch_features(q, directions, 0.5), torch_features(k, directions, 0.5), v
    )
    output, weights = compute.performer_attention(q, k, v, num_features=32, seed=1)
    np.testing.assert_allclose(output, theirs_output, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(weights, theirs_weights, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(
        compute.performer_output(q, k, v, num_features=32, seed=1), output, rtol=1e-13, atol=1e-15
    )


def test_performer_with_a_given_scale_equals_the_quadratic_formula_in_torch():
    rng = np.random.default_rng(7)
    q, k, v = rng.standard_normal((5, 3)), rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    directions = compute.random_directions(16, 3, seed=2)
    theirs_output, theirs_weights = torch_kernel_attention(
        torch_features(q, directions, 0.3), torch_features(k, directions, 0.3), v
    )
    output, weights = compute.performer_attention(q, k, v, num_features=16, seed=2, scale=0.3)
    np.testing.assert_allclose(output, theirs_output, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(weights, theirs_weights, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(
        compute.performer_output(q, k, v, num_features=16, seed=2, scale=0.3),
        theirs_output,
        atol=ATOL,
    )


def test_stabiliser_shifts_each_feature_over_the_keys_separately():
    # With directions W and W u = (1, -1), keys near t u and the query -t u (scale 1):
    # feature 1 is e^(2t) times feature 2 on the keys, and e^(-2t) times it on the query.
    # One shift shared by both features would round feature 2 of the keys and feature 1
    # of the query to 0 (e^(-800)), and every similarity would be 0 / 0.
    directions = compute.random_directions(2, 2, seed=0)
    u = np.linalg.solve(directions, [1.0, -1.0])
    across = np.array([-u[1], u[0]]) / np.linalg.norm(u)  # orthogonal to u
    t = 400.0
    key = np.stack([t * u, t * u + 0.5 * across])
    query = -t * u[None]
    value = np.array([[1.0], [2.0]])
    log_q = torch.tensor(compute.log_random_features(query, num_features=2, scale=1.0))
    log_k = torch.tensor(compute.log_random_features(key, num_features=2, scale=1.0))
    log_similarities = torch.logsumexp(log_q[:, None, :] + log_k[None, :, :], dim=-1)
    reference = torch.softmax(log_similarities, dim=-1).numpy()
    assert 0.01 < reference[0, 1] < 0.99  # both keys matter
    output, weights = compute.performer_attention(query, key, value, num_features=2, scale=1.0)
    np.testing.assert_allclose(weights, reference, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(output, reference @ value, atol=ATOL, rtol=RTOL)


def test_stabiliser_cancels_where_unshifted_features_underflow_to_zero():
    rng = np.random.default_rng(6)
    q, k, v = (
        40 * rng.standard_normal((5, 8)),
        40 * rng.standard_normal((6, 8)),
        rng.standard_normal((6, 2)),
    )
    # Unshifted, every feature is exp(about -2000) = 0, and the weights would be 0 / 0.
    assert (compute.random_feature_map(q, num_features=16) == 0).all()
    # Reference in log space: log sim_ij = logsumexp_m(log phi_m(q_i) + log phi_m(k_j)).
    log_q = torch.tensor(compute.log_random_features(q, num_features=16))
    log_k = torch.tensor(compute.log_random_features(k, num_features=16))
    log_similarities = torch.logsumexp(log_q[:, None, :] + log_k[None, :, :], dim=-1)
    reference_weights = torch.softmax(log_similarities, dim=-1).numpy()
    output, weights = compute.performer_attention(q, k, v, num_features=16)
    np.testing.assert_allclose(weights, reference_weights, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(output, reference_weights @ v, atol=ATOL, rtol=RTOL)


def test_performer_error_falls_as_r_grows():
    data = sample_inputs(64, 16, seed=0)
    sweep = feature_sweep(
        data.query, data.key, data.value, feature_counts=(4, 16, 64, 256), seeds=range(5)
    )
    means = sweep.mean_output_error
    assert list(means) == sorted(means, reverse=True)
    assert means[-1] < means[0] / 3  # 64 times the features: about 8 times less error
    assert list(sweep.mean_kl) == sorted(sweep.mean_kl, reverse=True)


def test_performer_approaches_exact_attention_with_many_features():
    data = sample_inputs(16, 8, seed=1, magnitude=0.3)
    exact, exact_weights = scaled_dot_product_attention(data.query, data.key, data.value)
    output, weights = compute.performer_attention(
        data.query, data.key, data.value, num_features=20000
    )
    np.testing.assert_allclose(weights, exact_weights, rtol=0.05)
    assert np.linalg.norm(output - exact) < 0.05 * np.linalg.norm(exact)


@st.composite
def attention_inputs(draw, max_abs=5.0):
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    length, size, width, value_width = (draw(st.integers(1, 6)) for _ in range(4))
    values = st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False)
    query = draw(hnp.arrays(np.float64, (*batch, length, width), elements=values))
    key = draw(hnp.arrays(np.float64, (*batch, size, width), elements=values))
    value = draw(hnp.arrays(np.float64, (*batch, size, value_width), elements=values))
    return query, key, value


@settings(max_examples=60, deadline=None)
@given(attention_inputs(max_abs=50.0), st.integers(1, 64), st.integers(0, 3))
def test_performer_rows_are_distributions_and_the_output_their_average(inputs, r, seed):
    query, key, value = inputs
    before = [array.copy() for array in inputs]
    output, weights = compute.performer_attention(query, key, value, num_features=r, seed=seed)
    assert np.isfinite(weights).all() and (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(output, weights @ value, rtol=1e-9, atol=1e-9)
    for array, original in zip(inputs, before, strict=True):
        np.testing.assert_array_equal(array, original)


# ----------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: compute.random_feature_map(np.ones(3), num_features=0),
            "num_features must be at least 1, got 0",
        ),
        (
            lambda: compute.random_feature_map(np.ones(3), num_features=2.5),
            "num_features must be a whole number, got 2.5",
        ),
        (
            lambda: compute.random_feature_map(np.ones(3), num_features=2, seed=-1),
            "seed must be at least 0, got -1",
        ),
        (
            lambda: compute.random_feature_map(np.ones(3), num_features=2, scale=-1.0),
            "scale must be at least 0.0, got -1.0",
        ),
        (
            lambda: compute.random_feature_map(np.ones((2, 0)), num_features=2),
            "x has size 0 in its last axis; E must be at least 1",
        ),
        (
            lambda: compute.random_feature_map(np.array([1.0, np.nan]), num_features=2),
            "x contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: compute.random_feature_map(5.0, num_features=2),
            "x needs at least 1 axes, got shape ()",
        ),
        (
            lambda: compute.performer_attention(
                np.ones((2, 3)), np.ones((2, 3)), [["a"], ["b"]], num_features=2
            ),
            "value must hold real numbers, got dtype <U1",
        ),
        (
            lambda: compute.random_feature_relative_variance(
                np.ones((2, 3)), np.ones((2, 3)), num_features=0
            ),
            "num_features must be at least 1, got 0",
        ),
        (lambda: compute.random_directions(3, 0), "size must be at least 1, got 0"),
        (
            lambda: compute.performer_output(
                np.ones((2, 3)), np.array([[1.0, 2.0, np.nan]] * 2), np.ones((2, 1)), num_features=2
            ),
            "key contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: compute.performer_output(
                np.array([[1.0, 2.0, np.inf]] * 2), np.ones((2, 3)), np.ones((2, 1)), num_features=2
            ),
            "query contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: compute.performer_output(
                np.ones((2, 3)), np.ones((2, 3)), np.array([[np.nan]] * 2), num_features=2
            ),
            "value contains NaN or infinity; every entry must be a finite number",
        ),
    ],
)
def test_bad_inputs_say_what_to_fix(call, message):
    assert_refuses(call, message)


SIZE_3_AGAINST_4 = (
    "query has size 3 in its last axis but key has 4; queries and keys must have the same size E"
)
NO_SIZE = "query and key have size 0 in their last axis; E must be at least 1"


@pytest.mark.parametrize("attend", [compute.performer_attention, compute.performer_output])
@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        (((2, 3), (2, 4), (2, 1)), SIZE_3_AGAINST_4),
        (
            ((2, 3), (2, 3), (5, 1)),
            "key has 2 positions but value has 5; every key needs exactly one value",
        ),
        (((2, 0), (2, 0), (2, 1)), NO_SIZE),
        (((0, 3), (2, 3), (2, 1)), "query has no positions; give at least one query"),
        (((2, 3), (0, 3), (0, 1)), "key has no positions; attention needs at least one key"),
        ((3, (2, 3), (2, 1)), "query needs at least 2 axes, got shape (3,)"),
        (((2, 3), 3, (2, 1)), "key needs at least 2 axes, got shape (3,)"),
        (((2, 3), (2, 3), 2), "value needs at least 2 axes, got shape (2,)"),
        # With a batch axis, the last axis and the positions axis are different axes.
        (((1, 2, 3), (1, 2, 4), (1, 2, 1)), SIZE_3_AGAINST_4),
        (((1, 2, 0), (1, 2, 0), (1, 2, 1)), NO_SIZE),
        # Each input's batch axes are checked: both clash, then only the key's, then the value's.
        (
            ((2, 2, 3), (3, 2, 3), (3, 2, 1)),
            "batch dimensions do not broadcast: query (2, 2, 3), key (3, 2, 3), value (3, 2, 1)",
        ),
        (
            ((2, 2, 3), (3, 2, 3), (2, 2, 1)),
            "batch dimensions do not broadcast: query (2, 2, 3), key (3, 2, 3), value (2, 2, 1)",
        ),
        (
            ((2, 2, 3), (2, 2, 3), (3, 2, 1)),
            "batch dimensions do not broadcast: query (2, 2, 3), key (2, 2, 3), value (3, 2, 1)",
        ),
    ],
)
def test_bad_shapes_say_what_to_fix(attend, shapes, message):
    query, key, value = (np.ones(shape) for shape in shapes)
    assert_refuses(lambda: attend(query, key, value, num_features=2), message)


@pytest.mark.parametrize(
    ("query", "key", "message"),
    [
        (
            np.ones((2, 3)),
            np.ones((2, 2)),
            "query has size 3 in its last axis but key has 2; queries and keys must have the same size E",
        ),
        (np.ones((2, 0)), np.ones((2, 0)), NO_SIZE),
        (np.ones(3), np.ones((2, 3)), "query needs at least 2 axes, got shape (3,)"),
        (np.ones((2, 3)), np.ones(3), "key needs at least 2 axes, got shape (3,)"),
        (
            np.full((2, 3), np.nan),
            np.ones((2, 3)),
            "query contains NaN or infinity; every entry must be a finite number",
        ),
        (
            np.ones((2, 3)),
            np.full((2, 3), np.inf),
            "key contains NaN or infinity; every entry must be a finite number",
        ),
    ],
)
def test_bad_inputs_to_the_variance_say_what_to_fix(query, key, message):
    def call():
        return compute.random_feature_relative_variance(query, key, num_features=1)

    assert_refuses(call, message)
