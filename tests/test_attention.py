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

import lab.attention as lab_attention
from lab.attention import (
    causal_mask,
    entropy,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
    softmax,
)
from tests.refusals import assert_refuses

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
    kwargs = dict(kwargs)  # the parameters are shared between runs: never pop from them
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


# ---------------------------------------------------------------- gaps found by mutation testing


def test_error_messages_say_what_to_fix():
    cases = [
        (lambda: softmax(np.array([0.0, np.nan])), "scores contain NaN; check the computation that produced them"),
        (lambda: softmax(np.array([0.0, np.inf])), "scores contain +inf; only -inf (meaning 'masked') is allowed"),
        (lambda: softmax(np.float64(1.0)), "scores must have at least one axis"),
        (lambda: softmax([1.0], temperature=0), "temperature must be positive, got 0"),
        (lambda: masked_softmax(np.zeros((2, 3)), np.ones((2, 3))), "mask must be boolean (True/False), got dtype float64"),
        (lambda: masked_softmax(np.zeros((2, 3)), np.ones((2, 4), dtype=bool)), "mask of shape (2, 4) does not broadcast to scores of shape (2, 3)"),
        (lambda: causal_mask(-1), "L must be at least 0, got -1"),
        (lambda: causal_mask(2, -3), "S must be at least 0, got -3"),
        (lambda: causal_mask(2.0), "L must be a whole number, got 2.0"),
        (lambda: padding_mask([4], 3), "valid_lens must lie in [0, 3], got [4]"),
        (lambda: padding_mask([-1], 3), "valid_lens must lie in [0, 3], got [-1]"),
        (lambda: padding_mask([1.5], 3), "valid_lens must be whole numbers, got [1.5]"),
        (lambda: padding_mask([True], 3), "valid_lens must be whole numbers, got [True]"),
        (lambda: padding_mask([1], -1), "S must be at least 0, got -1"),
        (lambda: entropy([-0.1, 1.1]), "weights must be non-negative and not NaN"),
        (lambda: entropy([np.nan, 1.0]), "weights must be non-negative and not NaN"),
        (lambda: scaled_dot_product_attention(np.ones(4), np.ones((2, 4)), np.ones((2, 1))), "query needs at least 2 axes (positions, features), got shape (4,)"),
        (lambda: scaled_dot_product_attention(np.ones((2, 4)), np.ones(4), np.ones((2, 1))), "key needs at least 2 axes (positions, features), got shape (4,)"),
        (lambda: scaled_dot_product_attention(np.ones((2, 4)), np.ones((2, 4)), np.ones(2)), "value needs at least 2 axes (positions, features), got shape (2,)"),
        (lambda: scaled_dot_product_attention(np.ones((3, 4)), np.ones((5, 5)), np.ones((5, 2))), "query has size 4 in its last axis but key has 5; queries and keys must have the same size E"),
        (lambda: scaled_dot_product_attention(np.ones((3, 4)), np.ones((5, 4)), np.ones((6, 2))), "key has 5 positions but value has 6; every key needs exactly one value"),
        (lambda: scaled_dot_product_attention(np.ones((2, 3, 4)), np.ones((3, 5, 4)), np.ones((3, 5, 2))), "batch dimensions do not broadcast: query (2, 3, 4), key (3, 5, 4), value (3, 5, 2)"),
        (lambda: scaled_dot_product_attention(np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 2)), mask=np.ones((3, 5), dtype=bool), is_causal=True), "pass either mask or is_causal=True, not both (as in torch)"),
        (lambda: scaled_dot_product_attention(np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 2)), scale=math.inf), "scale must be a finite number, got inf"),
        (lambda: scaled_dot_product_attention(np.full((1, 1), 1e200), np.full((1, 1), 1e200), np.ones((1, 1))), "the scores overflowed or contain NaN; check the inputs for inf or NaN"),
        (lambda: scaled_dot_product_attention(np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 2)), mask=np.ones((4, 5), dtype=bool)), "mask of shape (4, 5) does not broadcast to the scores' shape (3, 5) (..., L, S)"),
        (lambda: scaled_dot_product_attention(np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 2)), mask=np.full((3, 5), np.nan)), "a float mask may hold finite numbers and -inf only"),
        (lambda: scaled_dot_product_attention(np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 2)), mask=np.full((3, 5), np.inf)), "a float mask may hold finite numbers and -inf only"),
    ]  # fmt: skip
    for call, message in cases:
        assert_refuses(call, message)


def test_softmax_stability_with_a_tiny_temperature():
    """A sign error in the max shift would turn these into inf or NaN."""
    np.testing.assert_array_equal(softmax([1e300, 1e300], temperature=1e-8), [0.5, 0.5])
    np.testing.assert_array_equal(softmax([1e300, 0.0], temperature=1e-8), [1.0, 0.0])
    np.testing.assert_array_equal(softmax([-1e300, -1e300]), [0.5, 0.5])


def test_masked_softmax_with_a_temperature_and_another_axis():
    scores = np.array([[1.0, 2.0], [3.0, 5.0], [0.0, 0.0]])  # (3, 2)
    mask = np.array([[True, True], [True, False], [False, True]])
    cold = masked_softmax(scores, mask, axis=0, temperature=0.5)  # columns sum to 1
    expected0 = np.exp(np.array([1.0, 3.0]) / 0.5) / np.exp(np.array([1.0, 3.0]) / 0.5).sum()
    np.testing.assert_allclose(cold[:, 0], [expected0[0], expected0[1], 0.0])
    np.testing.assert_allclose(
        cold[:, 1], [np.exp(4.0) / (np.exp(4.0) + 1.0), 0.0, 1 / (np.exp(4.0) + 1.0)]
    )
    torch_weights = torch.softmax(
        torch.tensor(scores / 0.5).masked_fill(~torch.tensor(mask), -math.inf), dim=0
    ).numpy()
    np.testing.assert_allclose(cold, torch_weights, atol=1e-12)


def test_entropy_of_rows_along_any_axis():
    weights = np.array([[0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    np.testing.assert_allclose(entropy(weights), [math.log(2), math.log(4)])
    np.testing.assert_allclose(
        entropy(weights, axis=0),
        [-(0.5 * math.log(0.5) + 0.25 * math.log(0.25))] * 2 + [-0.25 * math.log(0.25)] * 2,
    )
    expected = torch.distributions.Categorical(probs=torch.tensor(weights)).entropy().numpy()
    np.testing.assert_allclose(entropy(weights), expected)


def test_padding_mask_takes_whole_number_floats_and_any_shape():
    np.testing.assert_array_equal(padding_mask(np.array([2.0, 0.0]), 3), [[1, 1, 0], [0, 0, 0]])
    assert padding_mask(np.array([[1, 2], [3, 0]]), 3).shape == (2, 2, 3)
    assert padding_mask(np.array([], dtype=int), 4).shape == (0, 4)
    np.testing.assert_array_equal(padding_mask(2, 3), [True, True, False])


def test_edge_sizes():
    assert causal_mask(0).shape == (0, 0)
    assert causal_mask(0, 3).shape == (0, 3)
    np.testing.assert_array_equal(causal_mask(3, 1), [[True], [True], [True]])
    # E = 0: every score is 0 and the default scale stays 1, as in torch: uniform weights.
    output, weights = scaled_dot_product_attention(np.ones((2, 0)), np.ones((3, 0)), np.eye(3))
    np.testing.assert_allclose(weights, np.full((2, 3), 1 / 3))
    np.testing.assert_allclose(output, np.full((2, 3), 1 / 3))
    # S = 0: nothing to attend to; every query gets an empty row of weights and a zero output.
    output, weights = scaled_dot_product_attention(
        np.ones((2, 4)), np.ones((0, 4)), np.ones((0, 3))
    )
    assert weights.shape == (2, 0) and output.shape == (2, 3)
    np.testing.assert_array_equal(output, np.zeros((2, 3)))


def test_a_mask_larger_than_the_scores_is_refused():
    with pytest.raises(ValueError, match=r"^mask of shape \(3, 6\) does not broadcast"):
        scaled_dot_product_attention(
            np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 2)), mask=np.ones((3, 6), dtype=bool)
        )


def test_a_float_mask_is_added_not_multiplied(rng):
    q, k, v = random_qkv(rng, batch=())
    shift = np.zeros((4, 6))
    shift[:, 0] = 2.0  # favour key 0 by exactly e^2
    _, plain = scaled_dot_product_attention(q, k, v)
    _, shifted = scaled_dot_product_attention(q, k, v, mask=shift)
    ratio = (shifted[:, 0] / shifted[:, 1]) / (plain[:, 0] / plain[:, 1])
    np.testing.assert_allclose(ratio, math.exp(2.0))


# ----------------------------------------------------------------- gaps mutation testing found


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda bad: softmax(bad), "scores"),
        (lambda bad: masked_softmax(bad, np.ones(2, dtype=bool)), "scores"),
        (lambda bad: entropy(bad), "weights"),
        (lambda bad: scaled_dot_product_attention(bad, np.ones((1, 2)), np.ones((1, 2))), "query"),
        (lambda bad: scaled_dot_product_attention(np.ones((1, 2)), bad, np.ones((1, 2))), "key"),
        (lambda bad: scaled_dot_product_attention(np.ones((1, 2)), np.ones((1, 2)), bad), "value"),
        (
            lambda bad: scaled_dot_product_attention(
                np.ones((1, 2)), np.ones((2, 2)), np.ones((2, 2)), mask=bad
            ),
            "mask",
        ),
    ],
)
def test_complex_input_is_refused_by_its_name(call, name):
    bad = np.array([[1.0 + 1.0j, 2.0]])
    with pytest.raises(ValueError) as error:
        call(bad)
    assert str(error.value) == f"{name} must be real, got dtype complex128"


def test_softmax_shifts_each_row_by_its_own_maximum_before_the_temperature():
    """With a tiny temperature, shifting by the array's maximum would send a low row to -inf."""
    scores = np.array([[0.0, 1.0], [-1000.0, -1001.0]])
    weights = softmax(scores, temperature=1e-306)
    np.testing.assert_array_equal(weights, [[0.0, 1.0], [1.0, 0.0]])


def test_safe_softmax_the_masked_page_prints_shifts_each_row_itself():
    """The masked page prints and calls _safe_softmax on raw scores: it must not overflow."""
    scores = np.array([[1000.0, 1001.0], [0.0, 1.0], [-np.inf, -np.inf]])
    weights = lab_attention._safe_softmax(scores, axis=-1)
    expected = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    np.testing.assert_allclose(weights[:2], [expected, expected], rtol=1e-15)
    np.testing.assert_array_equal(weights[2], [0.0, 0.0])
    columns = lab_attention._safe_softmax(scores[:2].T, axis=0)  # (2, 2); columns sum to 1
    np.testing.assert_allclose(columns, np.array([expected, expected]).T, rtol=1e-15)


def test_padding_mask_takes_whole_numbers_of_any_float_width():
    lens = np.array([2.0, 0.0], dtype=np.float32)
    np.testing.assert_array_equal(
        padding_mask(lens, 3), [[True, True, False], [False, False, False]]
    )


def test_padding_mask_names_a_whole_float_out_of_range_as_an_integer():
    with pytest.raises(ValueError) as error:
        padding_mask([5.0], 4)
    assert str(error.value) == "valid_lens must lie in [0, 4], got [5]"


def test_mismatched_feature_sizes_are_named_with_batch_axes_present():
    query, key, value = np.ones((2, 3, 4)), np.ones((2, 5, 6)), np.ones((2, 5, 1))
    with pytest.raises(ValueError) as error:
        scaled_dot_product_attention(query, key, value)
    assert str(error.value) == (
        "query has size 4 in its last axis but key has 6; queries and keys must have the same size E"
    )


@pytest.mark.parametrize(
    ("query_shape", "key_shape", "value_shape"),
    [((2, 1, 2), (3, 1, 2), (1, 1, 2)), ((2, 1, 2), (2, 1, 2), (3, 1, 2))],
)
def test_every_batch_shape_takes_part_in_the_broadcast_check(query_shape, key_shape, value_shape):
    with pytest.raises(ValueError) as error:
        scaled_dot_product_attention(np.ones(query_shape), np.ones(key_shape), np.ones(value_shape))
    assert str(error.value) == (
        f"batch dimensions do not broadcast: query {query_shape}, key {key_shape}, "
        f"value {value_shape}"
    )


def test_an_overflow_times_a_zero_scale_is_reported_not_warned():
    """1e200 * 1e200 overflows to inf and inf * 0 is NaN: one clear error, no RuntimeWarning."""
    with pytest.raises(ValueError) as error:
        scaled_dot_product_attention([[1e200]], [[1e200]], [[1.0]], scale=0.0)
    assert str(error.value) == (
        "the scores overflowed or contain NaN; check the inputs for inf or NaN"
    )


def test_empty_features_with_a_batch_give_uniform_weights():
    """E = 0: every score is 0 (an empty dot product), so each query averages all values."""
    value = np.arange(2 * 4 * 3, dtype=float).reshape(2, 4, 3)
    output, weights = scaled_dot_product_attention(np.ones((2, 5, 0)), np.ones((2, 4, 0)), value)
    np.testing.assert_array_equal(weights, np.full((2, 5, 4), 0.25))
    np.testing.assert_allclose(
        output, np.broadcast_to(value.mean(axis=1, keepdims=True), (2, 5, 3))
    )
