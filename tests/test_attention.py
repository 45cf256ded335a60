"""lab.attention against torch's scaled_dot_product_attention, plus invariants."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.attention import (
    causal_mask,
    entropy,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
    softmax,
)

# torch's own float32 tolerances (torch.testing.assert_close defaults).
ATOL, RTOL = 1e-5, 1.3e-6


def torch_sdpa(query, key, value, **kwargs):
    """torch's SDPA in float64 and the weights it used (recomputed the same way)."""
    tensors = [torch.tensor(array, dtype=torch.float64) for array in (query, key, value)]
    if isinstance(kwargs.get("attn_mask"), np.ndarray):
        kwargs["attn_mask"] = torch.tensor(kwargs["attn_mask"])
    output = F.scaled_dot_product_attention(*tensors, **kwargs)
    # Weights: SDPA applied to an identity "value" returns the weight matrix itself.
    S = key.shape[-2]
    eye = torch.eye(S, dtype=torch.float64).expand(*tensors[1].shape[:-2], S, S)
    weights = F.scaled_dot_product_attention(tensors[0], tensors[1], eye, **kwargs)
    return output.numpy(), weights.numpy()


def random_qkv(rng, batch=(2, 3), L=4, S=6, E=5, Ev=3):
    return (
        rng.standard_normal((*batch, L, E)),
        rng.standard_normal((*batch, S, E)),
        rng.standard_normal((*batch, S, Ev)),
    )


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def test_matches_torch_without_mask(rng):
    q, k, v = random_qkv(rng)
    ours, our_weights = scaled_dot_product_attention(q, k, v)
    theirs, their_weights = torch_sdpa(q, k, v)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(our_weights, their_weights, atol=ATOL, rtol=RTOL)


def test_matches_torch_with_boolean_mask_and_fully_masked_row(rng):
    q, k, v = random_qkv(rng)
    mask = rng.random((4, 6)) > 0.4
    mask[2] = False  # query 2 may look at nothing
    ours, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    theirs, their_weights = torch_sdpa(q, k, v, attn_mask=mask)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(weights, their_weights, atol=ATOL, rtol=RTOL)
    assert np.all(weights[..., 2, :] == 0) and np.all(ours[..., 2, :] == 0)
    assert np.all(weights[..., ~mask] == 0)


def test_matches_torch_with_float_mask(rng):
    q, k, v = random_qkv(rng)
    additive = rng.standard_normal((3, 4, 6))  # broadcasts over the first batch axis
    additive[0, 1, :3] = -np.inf
    ours, weights = scaled_dot_product_attention(q, k, v, mask=additive)
    theirs, their_weights = torch_sdpa(q, k, v, attn_mask=additive)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(weights, their_weights, atol=ATOL, rtol=RTOL)
    assert np.all(weights[:, 0, 1, :3] == 0)


@pytest.mark.parametrize(("L", "S"), [(5, 5), (3, 6), (6, 3)])
def test_matches_torch_causal_including_rectangular(rng, L, S):
    q, k, v = random_qkv(rng, L=L, S=S)
    ours, weights = scaled_dot_product_attention(q, k, v, is_causal=True)
    theirs, their_weights = torch_sdpa(q, k, v, is_causal=True)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(weights, their_weights, atol=ATOL, rtol=RTOL)
    assert np.all(np.triu(weights, k=1) == 0)


@pytest.mark.parametrize("scale", [0.0, 0.1, 2.5, -1.0])
def test_matches_torch_with_explicit_scale(rng, scale):
    q, k, v = random_qkv(rng, batch=(2,))
    ours, _ = scaled_dot_product_attention(q, k, v, scale=scale)
    theirs, _ = torch_sdpa(q, k, v, scale=scale)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)


def test_float32_inputs_match_torch_float32(rng):
    q, k, v = (array.astype(np.float32) for array in random_qkv(rng))
    ours, _ = scaled_dot_product_attention(q, k, v)
    theirs = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v))).numpy()
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=1e-4)


def test_no_batch_dimensions(rng):
    q, k, v = random_qkv(rng, batch=())
    ours, weights = scaled_dot_product_attention(q, k, v)
    assert ours.shape == (4, 3) and weights.shape == (4, 6)
    np.testing.assert_allclose(ours, torch_sdpa(q, k, v)[0], atol=ATOL, rtol=RTOL)


def test_default_scale_is_one_over_sqrt_e(rng):
    q, k, v = random_qkv(rng, batch=())
    _, weights = scaled_dot_product_attention(q, k, v)
    expected = softmax(q @ k.T / math.sqrt(q.shape[-1]))
    np.testing.assert_allclose(weights, expected, atol=1e-12)


def test_inputs_are_not_modified(rng):
    q, k, v = random_qkv(rng)
    mask = rng.random((4, 6)) > 0.5
    additive = np.where(mask, 0.0, -np.inf)
    copies = [array.copy() for array in (q, k, v, mask, additive)]
    scaled_dot_product_attention(q, k, v, mask=mask)
    scaled_dot_product_attention(q, k, v, mask=additive)
    scores = rng.standard_normal((4, 6))
    scores_copy = scores.copy()
    masked_softmax(scores, mask)
    softmax(scores, temperature=0.5)
    for before, after in zip(copies, (q, k, v, mask, additive), strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(scores, scores_copy)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"query": np.ones((3, 4)), "key": np.ones((5, 5)), "value": np.ones((5, 2))}, "size 4"),
        (
            {"query": np.ones((3, 4)), "key": np.ones((5, 4)), "value": np.ones((6, 2))},
            "5 positions",
        ),
        ({"query": np.ones(4), "key": np.ones((5, 4)), "value": np.ones((5, 2))}, "at least 2"),
        (
            {"query": np.ones((2, 3, 4)), "key": np.ones((3, 5, 4)), "value": np.ones((3, 5, 2))},
            "batch",
        ),
        (
            {
                "query": np.ones((3, 4)),
                "key": np.ones((5, 4)),
                "value": np.ones((5, 2)),
                "mask": np.ones((3, 4), dtype=bool),
            },
            "does not broadcast",
        ),
        (
            {
                "query": np.ones((3, 4)),
                "key": np.ones((5, 4)),
                "value": np.ones((5, 2)),
                "mask": np.ones((3, 5), dtype=bool),
                "is_causal": True,
            },
            "not both",
        ),
        ({"query": [["a"]], "key": np.ones((1, 1)), "value": np.ones((1, 1))}, "numbers"),
        (
            {"query": np.full((2, 2), np.nan), "key": np.ones((2, 2)), "value": np.ones((2, 2))},
            "NaN",
        ),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs, message):
    query, key, value = kwargs.pop("query"), kwargs.pop("key"), kwargs.pop("value")
    with pytest.raises(ValueError, match=message):
        scaled_dot_product_attention(query, key, value, **kwargs)


def test_softmax_is_stable_for_huge_scores():
    weights = softmax(np.array([1e4, 1e4 - 1.0, -1e4]))
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights, [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0])


def test_softmax_temperature():
    scores = np.array([2.0, 1.0, 0.0])
    np.testing.assert_allclose(softmax(scores, temperature=2.0), softmax(scores / 2.0))
    cold = softmax(scores, temperature=1e-6)
    np.testing.assert_array_equal(cold, [1.0, 0.0, 0.0])
    assert np.all(np.isfinite(softmax(np.array([1e4, 0.0]), temperature=1e-300)))
    for bad in (0.0, -1.0, math.inf, math.nan, "hot"):
        with pytest.raises(ValueError, match="temperature"):
            softmax(scores, temperature=bad)


def test_softmax_rejects_nan_and_positive_infinity():
    with pytest.raises(ValueError, match="NaN"):
        softmax(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"\+inf"):
        softmax(np.array([0.0, np.inf]))


def test_softmax_matches_torch_along_any_axis(rng):
    scores = rng.standard_normal((3, 4, 5)) * 10
    for axis in (0, 1, -1):
        expected = torch.softmax(torch.tensor(scores), dim=axis).numpy()
        np.testing.assert_allclose(softmax(scores, axis=axis), expected, atol=1e-12)


def test_all_minus_infinity_row_is_zero_not_nan():
    weights = softmax(np.array([[-np.inf, -np.inf], [0.0, -np.inf]]))
    np.testing.assert_array_equal(weights, [[0.0, 0.0], [1.0, 0.0]])


def test_masked_softmax_fully_masked_row_is_zero_not_uniform():
    scores = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    mask = np.array([[True, False, True], [False, False, False]])
    weights = masked_softmax(scores, mask)
    np.testing.assert_array_equal(weights[1], [0.0, 0.0, 0.0])
    assert weights[0, 1] == 0.0
    np.testing.assert_allclose(weights[0].sum(), 1.0)


def test_masked_softmax_rejects_non_boolean_and_misshaped_masks():
    with pytest.raises(ValueError, match="boolean"):
        masked_softmax(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="broadcast"):
        masked_softmax(np.zeros((2, 3)), np.ones((2, 4), dtype=bool))


def test_causal_mask():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(
        causal_mask(2, 4), torch.ones(2, 4, dtype=torch.bool).tril().numpy()
    )
    with pytest.raises(ValueError):
        causal_mask(-1)


def test_padding_mask():
    mask = padding_mask([2, 0, 3], 3)
    np.testing.assert_array_equal(mask, [[1, 1, 0], [0, 0, 0], [1, 1, 1]])
    assert mask.dtype == np.bool_
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        padding_mask([4], 3)
    with pytest.raises(ValueError, match="whole"):
        padding_mask([1.5], 3)


def test_padding_mask_agrees_with_torch_key_padding_convention(rng):
    """nn.MultiheadAttention's key_padding_mask is True where a key is *ignored*: the opposite."""
    valid_lens = np.array([3, 5])
    ours = padding_mask(valid_lens, 5)
    torch_style = torch.arange(5)[None, :] >= torch.tensor(valid_lens)[:, None]
    np.testing.assert_array_equal(ours, ~torch_style.numpy())


def test_entropy():
    np.testing.assert_allclose(entropy(np.array([0.25] * 4)), math.log(4))
    assert entropy(np.array([1.0, 0.0, 0.0])) == 0.0
    assert entropy(np.zeros(3)) == 0.0
    expected = torch.distributions.Categorical(probs=torch.tensor([0.2, 0.3, 0.5])).entropy()
    np.testing.assert_allclose(entropy(np.array([0.2, 0.3, 0.5])), expected.item())
    with pytest.raises(ValueError):
        entropy(np.array([-0.1, 1.1]))


# ---------------------------------------------------------------- property tests

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def attention_problem(draw):
    L = draw(st.integers(1, 6))
    S = draw(st.integers(1, 6))
    E = draw(st.integers(1, 4))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    query = draw(hnp.arrays(np.float64, (*batch, L, E), elements=st.floats(-30, 30)))
    key = draw(hnp.arrays(np.float64, (*batch, S, E), elements=st.floats(-30, 30)))
    value = draw(hnp.arrays(np.float64, (*batch, S, 2), elements=st.floats(-30, 30)))
    mask = draw(hnp.arrays(np.bool_, (L, S)))
    return query, key, value, mask


@settings(max_examples=150, deadline=None)
@given(attention_problem())
def test_property_weights_are_distributions_and_masked_weights_are_zero(problem):
    query, key, value, mask = problem
    output, weights = scaled_dot_product_attention(query, key, value, mask=mask)
    assert np.all(np.isfinite(output)) and np.all(np.isfinite(weights))
    assert np.all(weights >= 0)
    assert np.all(weights[..., ~mask] == 0)
    row_sums = weights.sum(axis=-1)
    expected = np.broadcast_to(mask.any(axis=-1).astype(float), row_sums.shape)
    np.testing.assert_allclose(row_sums, expected, atol=1e-9)


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=finite)
)
def test_property_softmax_of_finite_scores_is_finite_and_sums_to_one(scores):
    weights = softmax(scores)
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(attention_problem())
def test_property_matches_torch(problem):
    query, key, value, mask = problem
    ours, _ = scaled_dot_product_attention(query, key, value, mask=mask)
    theirs, _ = torch_sdpa(query, key, value, attn_mask=mask)
    np.testing.assert_allclose(ours, theirs, atol=1e-7, rtol=1e-7)
