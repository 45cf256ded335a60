"""Additive attention against a torch MLP, and the alignment measures on hand-made maps."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lab.alignment.compute as compute

# float64 on both sides: far tighter than torch's float32 tolerances (atol 1e-5, rtol 1.3e-6)
ATOL, RTOL = 1e-10, 1e-10


def raises_exactly(message: str, error: type[ValueError] = ValueError):
    """``pytest.raises`` that matches the whole message (the other alignment tests import it)."""
    return pytest.raises(error, match="^" + re.escape(message) + "$")


class TorchAdditiveScorer(torch.nn.Module):
    """The reference: a two-layer scoring MLP, ``Linear(H, 1)(tanh(Linear_q(q) + Linear_k(k)))``."""

    def __init__(self, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray) -> None:
        super().__init__()
        size_q, hidden = w_q.shape
        size_k = w_k.shape[0]
        self.query_layer = torch.nn.Linear(size_q, hidden, bias=False, dtype=torch.float64)
        self.key_layer = torch.nn.Linear(size_k, hidden, bias=False, dtype=torch.float64)
        self.score_layer = torch.nn.Linear(hidden, 1, bias=False, dtype=torch.float64)
        with torch.no_grad():  # torch's Linear computes x W^T, so it stores W transposed
            self.query_layer.weight.copy_(torch.from_numpy(w_q.T))
            self.key_layer.weight.copy_(torch.from_numpy(w_k.T))
            self.score_layer.weight.copy_(torch.from_numpy(w_v[None, :]))

    def forward(self, query, key, value, mask=None):
        hidden = torch.tanh(
            self.query_layer(query).unsqueeze(-2) + self.key_layer(key).unsqueeze(-3)
        )  # (..., L, S, H)
        scores = self.score_layer(hidden).squeeze(-1)  # (..., L, S)
        if mask is not None and mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        elif mask is not None:
            scores = scores + mask
        weights = torch.softmax(scores, dim=-1)
        # torch's softmax gives NaN for a row with every key masked; SDPA's rule is zeros
        weights = torch.nan_to_num(weights, nan=0.0)
        return weights @ value, weights


def _reference(query, key, value, w_q, w_k, w_v, mask=None):
    scorer = TorchAdditiveScorer(w_q, w_k, w_v)
    torch_mask = None if mask is None else torch.from_numpy(np.asarray(mask))
    with torch.no_grad():
        output, weights = scorer(
            torch.from_numpy(query), torch.from_numpy(key), torch.from_numpy(value), torch_mask
        )
    return output.numpy(), weights.numpy()


@st.composite
def additive_problems(draw):
    """Random shapes (0-2 batch axes, L != S allowed, Dq != Dk) and values, with a bool mask."""
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    L, S = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    size_q, size_k, size_v, hidden = (draw(st.integers(1, 4)) for _ in range(4))
    values = st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=64)

    def array(shape):
        return draw(hnp.arrays(np.float64, shape, elements=values))

    mask = draw(hnp.arrays(np.bool_, (*batch, L, S)))
    return (
        array((*batch, L, size_q)),
        array((*batch, S, size_k)),
        array((*batch, S, size_v)),
        array((size_q, hidden)),
        array((size_k, hidden)),
        array((hidden,)),
        mask,
    )


@settings(max_examples=60, deadline=None)
@given(additive_problems())
def test_additive_attention_equals_a_torch_scoring_mlp(problem):
    query, key, value, w_q, w_k, w_v, _ = problem
    output, weights = compute.additive_attention(query, key, value, w_q, w_k, w_v)
    expected_output, expected_weights = _reference(query, key, value, w_q, w_k, w_v)
    np.testing.assert_allclose(weights, expected_weights, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(output, expected_output, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-12)  # every row sums to 1


@settings(max_examples=60, deadline=None)
@given(additive_problems())
def test_boolean_mask_true_means_may_attend(problem):
    query, key, value, w_q, w_k, w_v, mask = problem
    copies = [array.copy() for array in problem]
    output, weights = compute.additive_attention(query, key, value, w_q, w_k, w_v, mask=mask)
    expected_output, expected_weights = _reference(query, key, value, w_q, w_k, w_v, mask)
    np.testing.assert_allclose(weights, expected_weights, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(output, expected_output, atol=ATOL, rtol=RTOL)
    assert np.all(weights[~mask] == 0.0)  # forbidden keys get exactly nothing
    row_sums = weights.sum(axis=-1)
    any_allowed = mask.any(axis=-1)
    np.testing.assert_allclose(row_sums[any_allowed], 1.0, atol=1e-12)
    assert np.all(row_sums[~any_allowed] == 0.0)  # a fully masked row: zero weights ...
    assert np.all(output[~any_allowed] == 0.0)  # ... and a zero output
    for before, after in zip(copies, problem, strict=True):
        np.testing.assert_array_equal(before, after)  # nothing written into the inputs


def test_float_mask_is_added_to_the_scores():
    rng = np.random.default_rng(0)
    query, key, value = (
        rng.normal(size=(2, 3, 4)),
        rng.normal(size=(2, 5, 6)),
        rng.normal(size=(2, 5, 2)),
    )
    w_q, w_k, w_v = rng.normal(size=(4, 3)), rng.normal(size=(6, 3)), rng.normal(size=3)
    bias = rng.normal(size=(3, 5))
    bias[1, 2:] = -np.inf
    bias[2, :] = -np.inf  # a row with every key forbidden
    kept = bias.copy()
    output, weights = compute.additive_attention(query, key, value, w_q, w_k, w_v, mask=bias)
    expected_output, expected_weights = _reference(query, key, value, w_q, w_k, w_v, bias)
    np.testing.assert_allclose(weights, expected_weights, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(output, expected_output, atol=ATOL, rtol=RTOL)
    assert np.all(weights[:, 1, 2:] == 0.0) and np.all(weights[:, 2] == 0.0)
    np.testing.assert_array_equal(bias, kept)


def test_additive_attention_shapes_and_a_hand_computed_case():
    # one query, two keys; w_v picks the first hidden unit: scores tanh(1 + 0) and tanh(1 + 2)
    query = np.array([[1.0]])
    key = np.array([[0.0], [2.0]])
    value = np.array([[10.0], [20.0]])
    w_q, w_k, w_v = np.array([[1.0, 0.0]]), np.array([[1.0, 5.0]]), np.array([1.0, 0.0])
    output, weights = compute.additive_attention(query, key, value, w_q, w_k, w_v)
    scores = np.tanh([1.0, 3.0])
    expected = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(weights, [expected], atol=1e-15)
    np.testing.assert_allclose(output, [[expected @ [10.0, 20.0]]], atol=1e-12)
    assert weights.shape == (1, 2) and output.shape == (1, 1)


def test_additive_attention_says_what_to_fix():
    q, k, v = np.zeros((2, 3)), np.zeros((4, 5)), np.zeros((4, 2))
    w_q, w_k, w_v = np.zeros((3, 6)), np.zeros((5, 6)), np.zeros(6)
    with raises_exactly("query needs at least 2 axes, got shape (3,)"):
        compute.additive_attention(np.zeros(3), k, v, w_q, w_k, w_v)
    with raises_exactly(
        "w_q has 6 columns, w_k 6 and w_v 5 entries; all three must equal the hidden size H"
    ):
        compute.additive_attention(q, k, v, w_q, w_k, np.zeros(5))
    with raises_exactly("key has 4 positions but value has 3; every key needs exactly one value"):
        compute.additive_attention(q, k, np.zeros((3, 2)), w_q, w_k, w_v)
    with raises_exactly(
        "batch dimensions do not broadcast: query (2, 2, 3), key (3, 4, 5), value (4, 2)"
    ):
        compute.additive_attention(np.zeros((2, 2, 3)), np.zeros((3, 4, 5)), v, w_q, w_k, w_v)
    # the value's batch axis clashes although the query's and the key's agree
    with raises_exactly(
        "batch dimensions do not broadcast: query (2, 2, 3), key (2, 4, 5), value (3, 4, 2)"
    ):
        compute.additive_attention(
            np.zeros((2, 2, 3)), np.zeros((2, 4, 5)), np.zeros((3, 4, 2)), w_q, w_k, w_v
        )
    with raises_exactly(
        "mask of shape (3, 4) does not broadcast to the scores' shape (2, 4) (..., L, S)"
    ):
        compute.additive_attention(q, k, v, w_q, w_k, w_v, mask=np.ones((3, 4), dtype=bool))
    with raises_exactly("key has no positions; a query needs at least one key to attend to"):
        compute.additive_attention(q, np.zeros((0, 5)), np.zeros((0, 2)), w_q, w_k, w_v)
    with raises_exactly("a float mask may hold finite numbers and -inf only"):
        compute.additive_attention(q, k, v, w_q, w_k, w_v, mask=np.full((2, 4), np.nan))
    with raises_exactly("w_v must have 1 axes, got shape (6, 1)"):
        compute.additive_attention(q, k, v, w_q, w_k, np.zeros((6, 1)))
    with raises_exactly("key contains NaN or infinity; every entry must be a finite number"):
        compute.additive_attention(q, np.full((4, 5), np.inf), v, w_q, w_k, w_v)


# ----------------------------------------------------------------------------
# Reading a map against the truth
# ----------------------------------------------------------------------------

MAP = np.array(
    [
        [0.9, 0.1, 0.0],  # looks right (truth 0)
        [0.2, 0.8, 0.0],  # looks wrong (truth 0, most on 1)
        [0.6, 0.4, 0.0],  # looks wrong (truth 1, most on 0)
        [0.0, 0.3, 0.7],  # looks right (truth 2)
    ]
)
TRUTH = np.array([0, 0, 1, 2])


def test_attention_on_truth_and_the_sentence_score():
    np.testing.assert_array_equal(compute.attention_on_truth(MAP, TRUTH), [0.9, 0.2, 0.4, 0.7])
    assert compute.sentence_alignment_score(MAP, TRUTH) == pytest.approx(
        (0.9 + 0.2 + 0.4 + 0.7) / 4
    )
    assert (
        compute.sentence_alignment_score(np.eye(3), [0, 1, 2]) == 1.0
    )  # the truth itself scores 1
    assert compute.sentence_alignment_score(np.eye(3), [1, 2, 0]) == 0.0


def test_alignment_score_averages_sentences_not_words():
    short = (np.array([[1.0, 0.0]]), [0])  # one word, score 1
    long = (np.array([[0.0, 1.0]] * 3), [0, 0, 0])  # three words, score 0
    score = compute.alignment_score([short[0], long[0]], [short[1], long[1]])
    assert score == 0.5  # each sentence counts once (pooling words would give 0.25)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=6), st.data())
def test_uniform_attention_scores_exactly_chance(lengths, data):
    maps, truths = [], []
    for length in lengths:
        words = data.draw(st.integers(1, 5))
        maps.append(np.full((words, length), 1.0 / length))
        truths.append(
            np.array(
                data.draw(st.lists(st.integers(0, length - 1), min_size=words, max_size=words))
            )
        )
    assert compute.alignment_score(maps, truths) == pytest.approx(
        compute.chance_alignment_score(lengths), abs=1e-12
    )
    assert compute.chance_alignment_score(lengths) == pytest.approx(
        np.mean([1 / n for n in lengths])
    )


def test_alignment_mask_outlines_one_cell_per_row():
    mask = compute.alignment_mask((0, 2, 1, 3), 4)
    np.testing.assert_array_equal(
        mask.astype(int), [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]
    )


def test_map_checks_say_what_to_fix():
    with raises_exactly(
        "weights have 4 rows (output positions) but alignment has 3 entries; "
        "give one true source position per row"
    ):
        compute.attention_on_truth(MAP, [0, 1, 2])
    with raises_exactly(
        "alignment entries must lie in [0, 2] (the weights' columns), got [0, 0, 1, 3]"
    ):
        compute.attention_on_truth(MAP, [0, 0, 1, 3])
    with raises_exactly(
        "alignment must be a 1-D array of whole numbers, got shape (4,) and dtype float64"
    ):
        compute.attention_on_truth(MAP, [0.0, 0.0, 1.0, 2.0])
    with raises_exactly("the sentence has no output words to score; pass at least one row"):
        compute.sentence_alignment_score(np.zeros((0, 3)), [])
    with raises_exactly("got 2 attention maps but 1 alignments; give one alignment per map"):
        compute.alignment_score([MAP, MAP], [TRUTH])
    with raises_exactly("alignment_score needs at least one sentence"):
        compute.alignment_score([], [])
    with raises_exactly("every source length must be at least 1, got [3, 0]"):
        compute.chance_alignment_score([3, 0])
    with raises_exactly("source_lengths must be a non-empty list of whole numbers"):
        compute.chance_alignment_score([])


def test_misleading_steps_finds_both_disagreements_and_nothing_else():
    predicted = np.array([5, 6, 9, 1])
    expected = np.array([5, 6, 8, 2])
    found = compute.misleading_steps(MAP, TRUTH, predicted, expected)
    assert found == [
        # looks wrong (most weight on position 1), yet the word is right
        compute.MisleadingStep(1, compute.MapReading.WRONG_PLACE_RIGHT_WORD, 0, 1, 0.2, 0.8, 6, 6),
        # looks right (most weight on the true position 2), yet the word is wrong
        compute.MisleadingStep(3, compute.MapReading.RIGHT_PLACE_WRONG_WORD, 2, 2, 0.7, 0.7, 1, 2),
    ]
    # row 0 looks right and is right; row 2 looks wrong and is wrong: neither misleads.
    # With every word right, exactly the wrong-looking rows 1 and 2 mislead.
    all_right = compute.misleading_steps(MAP, TRUTH, expected, expected)
    assert [(item.step, item.reading) for item in all_right] == [
        (1, compute.MapReading.WRONG_PLACE_RIGHT_WORD),
        (2, compute.MapReading.WRONG_PLACE_RIGHT_WORD),
    ]
    with raises_exactly(
        "predicted (3,) and expected (4,) must both have shape (4,), one token per row of the weights"
    ):
        compute.misleading_steps(MAP, TRUTH, predicted[:3], expected)


def test_a_float_mask_of_plus_infinity_or_text_is_refused():
    q, k, v = np.zeros((2, 3)), np.zeros((4, 5)), np.zeros((4, 2))
    w_q, w_k, w_v = np.zeros((3, 6)), np.zeros((5, 6)), np.zeros(6)
    with raises_exactly("a float mask may hold finite numbers and -inf only"):
        compute.additive_attention(q, k, v, w_q, w_k, w_v, mask=np.full((2, 4), np.inf))
    with raises_exactly("mask must hold real numbers, got dtype <U1"):
        compute.additive_attention(q, k, v, w_q, w_k, w_v, mask=np.full((2, 4), "a"))


def test_chance_score_by_hand_and_its_checks():
    assert (
        compute.chance_alignment_score([1, 4]) == 0.625
    )  # (1 + 1/4) / 2: one source word is certain
    with raises_exactly("source_lengths must be a non-empty list of whole numbers"):
        compute.chance_alignment_score(np.array([], dtype=np.int64))
    with raises_exactly("source_lengths must be a non-empty list of whole numbers"):
        compute.chance_alignment_score([3.0, 4.0])
    with raises_exactly("source_lengths must be a non-empty list of whole numbers"):
        compute.chance_alignment_score([[3, 4]])


def test_alignment_mask_checks_its_alignment():
    assert compute.alignment_mask([], 3).shape == (0, 3)
    with raises_exactly("alignment entries must lie in [0, 3] (the weights' columns), got [0, 4]"):
        compute.alignment_mask([0, 4], 4)
    with raises_exactly(
        "alignment must be a 1-D array of whole numbers, got shape () and dtype int64"
    ):
        compute.alignment_mask(np.int64(2), 3)


@pytest.mark.parametrize("name", ["query", "key", "value", "w_q", "w_k", "w_v"])
def test_every_input_must_be_finite(name):
    arrays = {
        "query": np.zeros((2, 3)),
        "key": np.zeros((4, 5)),
        "value": np.zeros((4, 2)),
        "w_q": np.zeros((3, 6)),
        "w_k": np.zeros((5, 6)),
        "w_v": np.zeros(6),
    }
    arrays[name] = arrays[name].copy()
    arrays[name].flat[0] = np.nan
    with raises_exactly(f"{name} contains NaN or infinity; every entry must be a finite number"):
        compute.additive_attention(**arrays)


def test_every_input_must_have_its_axes():
    q, k, v = np.zeros((2, 3)), np.zeros((4, 5)), np.zeros((4, 2))
    w_q, w_k, w_v = np.zeros((3, 6)), np.zeros((5, 6)), np.zeros(6)
    with raises_exactly("key needs at least 2 axes, got shape (5,)"):
        compute.additive_attention(q, np.zeros(5), v, w_q, w_k, w_v)
    with raises_exactly("value needs at least 2 axes, got shape (4,)"):
        compute.additive_attention(q, k, np.zeros(4), w_q, w_k, w_v)
    with raises_exactly("w_q must have 2 axes, got shape (3,)"):
        compute.additive_attention(q, k, v, np.zeros(3), w_k, w_v)
    with raises_exactly("w_k must have 2 axes, got shape (5,)"):
        compute.additive_attention(q, k, v, w_q, np.zeros(5), w_v)


@pytest.mark.parametrize("batch", [(), (1,)], ids=["unbatched", "batched"])
def test_size_checks_read_the_last_axis(batch):
    q, k, v = (np.zeros((*batch, *shape)) for shape in ((2, 3), (4, 5), (4, 2)))
    w_q, w_k, w_v = np.zeros((3, 6)), np.zeros((5, 6)), np.zeros(6)
    with raises_exactly(
        "query has size 3 in its last axis but w_q has 4 rows; w_q must be (Dq, H) with Dq = 3"
    ):
        compute.additive_attention(q, k, v, np.zeros((4, 6)), w_k, w_v)
    with raises_exactly(
        "key has size 5 in its last axis but w_k has 3 rows; w_k must be (Dk, H) with Dk = 5"
    ):
        compute.additive_attention(q, k, v, w_q, np.zeros((3, 6)), w_v)


def test_map_weights_must_be_a_finite_matrix():
    with raises_exactly("weights must have 2 axes, got shape (3,)"):
        compute.attention_on_truth(np.zeros(3), [0])
    with raises_exactly("weights contains NaN or infinity; every entry must be a finite number"):
        compute.attention_on_truth(np.array([[np.nan, 1.0]]), [0])
