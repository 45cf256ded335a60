"""Linear attention equals its explicit O(n^2) formula; the feature map is a closed set."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.attention import scaled_dot_product_attention
from lab.cost_of_attention import FeatureMap, linear_attention, linear_output

# torch's own float32 tolerances (torch.testing.assert_close defaults), used here in float64.
ATOL, RTOL = 1e-5, 1.3e-6

TORCH_MAPS = {
    FeatureMap.ELU_PLUS_ONE: lambda x: F.elu(x) + 1,
    FeatureMap.RELU: F.relu,
}


def explicit_linear_attention(query, key, value, feature_map: FeatureMap):
    """w_ij = phi(q_i)·phi(k_j) / sum_l phi(q_i)·phi(k_l), out = W V: the n x n way, in torch."""
    phi = TORCH_MAPS[feature_map]
    q, k, v = (torch.tensor(array, dtype=torch.float64) for array in (query, key, value))
    similarities = phi(q) @ phi(k).transpose(-1, -2)  # (..., L, S)
    weights = similarities / similarities.sum(-1, keepdim=True)
    return (weights @ v).numpy(), weights.numpy()


@pytest.mark.parametrize("feature_map", list(FeatureMap))
def test_equals_the_explicit_quadratic_formula(feature_map):
    rng = np.random.default_rng(0)
    # Queries shifted up so that no relu row is all zero (that case has its own test).
    q = rng.standard_normal((2, 6, 5)) + 1.5
    k, v = rng.standard_normal((2, 8, 5)) + 1.5, rng.standard_normal((2, 8, 3))
    theirs_output, theirs_weights = explicit_linear_attention(q, k, v, feature_map)
    output, weights = linear_attention(q, k, v, feature_map=feature_map)
    np.testing.assert_allclose(output, theirs_output, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(weights, theirs_weights, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(linear_output(q, k, v, feature_map=feature_map), output, rtol=1e-13)


def test_strings_and_members_name_the_same_map():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((3, 4, 2))
    by_string = linear_attention(q, k, v, feature_map="relu")
    by_member = linear_attention(q, k, v, feature_map=FeatureMap.RELU)
    np.testing.assert_array_equal(by_string[1], by_member[1])
    default = linear_attention(q, k, v)
    np.testing.assert_array_equal(default[1], linear_attention(q, k, v, feature_map="elu+1")[1])
    assert FeatureMap.parse("elu+1") is FeatureMap.ELU_PLUS_ONE


def test_elu_plus_one_is_positive_and_does_not_overflow():
    x = np.array([-800.0, -1.0, 0.0, 2.0, 1e300])
    np.testing.assert_allclose(
        FeatureMap.ELU_PLUS_ONE.apply(x), [np.exp(-800.0), np.exp(-1.0), 1.0, 3.0, 1e300]
    )


def test_a_query_that_sees_nothing_gets_zero_weights_and_output():
    query = np.array([[-1.0, -2.0], [1.0, 0.5]])  # relu(first query) = 0
    key = np.array([[1.0, 1.0], [0.5, 2.0], [3.0, 0.0]])
    value = np.array([[1.0], [2.0], [3.0]])
    output, weights = linear_attention(query, key, value, feature_map="relu")
    np.testing.assert_array_equal(weights[0], 0.0)
    np.testing.assert_array_equal(output[0], 0.0)
    assert weights[1].sum() == pytest.approx(1.0)


def test_the_similarity_is_not_softmax():
    # elu + 1 is a different kernel: the same scores give flatter weights than softmax.
    query = np.array([[3.0, 0.0]])
    key = np.array([[3.0, 0.0], [0.0, 3.0]])
    _, weights = linear_attention(query, key, np.eye(2))
    # phi(q) = phi(k_1) = (4, 1) and phi(k_2) = (1, 4): similarities 17 and 8.
    np.testing.assert_allclose(weights[0], [17 / 25, 8 / 25])
    _, softmax_weights = scaled_dot_product_attention(query, key, np.eye(2))
    assert softmax_weights[0, 0] > 0.99 > weights[0, 0]


# Entries of 0 or of magnitude at least 1e-100: products of features then stay normal
# floats. Subnormal features (5e-324) lose their relative precision in every product, and
# no row can sum to 1 to 1e-12 then; no page gives such inputs.
ENTRIES = st.one_of(st.just(0.0), st.floats(1e-100, 20), st.floats(-20, -1e-100))


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 4)), elements=ENTRIES),
    st.integers(1, 6),
    st.sampled_from(list(FeatureMap)),
)
def test_rows_sum_to_one_or_zero_and_the_output_is_their_average(query, keys, feature_map):
    rng = np.random.default_rng(keys)
    key = rng.standard_normal((keys, query.shape[1]))
    value = rng.standard_normal((keys, 2))
    output, weights = linear_attention(query, key, value, feature_map=feature_map)
    sums = weights.sum(-1)
    assert ((np.abs(sums - 1) < 1e-12) | (sums == 0)).all()
    assert (weights >= 0).all()
    np.testing.assert_allclose(output, weights @ value, atol=1e-12)


def test_unknown_feature_map_names_the_choices():
    with pytest.raises(ValueError) as error:
        linear_attention(np.ones((1, 2)), np.ones((1, 2)), np.ones((1, 1)), feature_map="softmax")
    assert str(error.value) == "feature_map must be one of 'elu+1', 'relu', got 'softmax'"


def test_linear_output_defaults_to_elu_plus_one():
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal((3, 4, 2))
    np.testing.assert_array_equal(
        linear_output(q, k, v), linear_output(q, k, v, feature_map="elu+1")
    )
    assert not np.allclose(linear_output(q, k, v), linear_output(q, k, v, feature_map="relu"))


def test_a_query_whose_similarities_underflow_gets_a_zero_output_even_for_huge_values():
    # phi(-400) = e^-400: each similarity e^-800 rounds to 0, so the query sees nothing,
    # while phi(q) [phi(K)^T V] = e^-800 * 2e200 still rounds to a tiny non-zero number.
    query = np.array([[-400.0]])
    key = np.array([[-400.0], [-400.0]])
    value = np.array([[1e200], [1e200]])
    output, weights = linear_attention(query, key, value)
    np.testing.assert_array_equal(weights, [[0.0, 0.0]])
    np.testing.assert_array_equal(output, [[0.0]])
    np.testing.assert_array_equal(linear_output(query, key, value), [[0.0]])


def test_relu_weights_do_not_change_when_the_query_shrinks():
    # relu(c q) = c relu(q) for c > 0, and c cancels in the normalised weights, however
    # small the similarities get (here about 1e-9).
    rng = np.random.default_rng(3)
    query = np.abs(rng.standard_normal((2, 3)))
    key, value = np.abs(rng.standard_normal((4, 3))), rng.standard_normal((4, 2))
    output, weights = linear_attention(query, key, value, feature_map="relu")
    small_output, small_weights = linear_attention(1e-9 * query, key, value, feature_map="relu")
    np.testing.assert_allclose(small_weights, weights, rtol=1e-12)
    np.testing.assert_allclose(small_output, output, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        linear_output(1e-9 * query, key, value, feature_map="relu"), output, rtol=1e-12, atol=1e-15
    )
