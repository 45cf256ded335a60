"""lab.masked_attention.wrong_ways: each wrong way fails exactly where the page says, and only there.

The big negative fills below (-1e9, -1e6, -1e4) are deliberate: these tests show
what the classic mistake does, in numpy and in torch 2.13.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lab.masked_attention.wrong_ways as wrong_ways
from lab.attention import masked_softmax
from lab.masked_attention import (
    MaskingConfig,
    MaskKind,
    batch_attention,
    mask_padding_queries,
    pad_batch,
)
from tests.masked_attention.examples import ALLOWED, SCORES

FILLS = (-1e9, -1e6, -1e4)  # -1e9 (the classic), d2l's -1e6, and one that fits in float16
LN3 = math.log(3.0)


def test_the_closed_sets():
    assert [method.value for method in wrong_ways.MaskingMethod] == [
        "right",
        "naive",
        "large_negative",
        "multiply",
    ]
    assert [precision.dtype for precision in wrong_ways.Precision] == [np.float32, np.float16]
    assert wrong_ways.WRONG_FILL == -1e9


# ---------------------------------------------------------------- each way's values


def test_naive_softmax_values_and_the_nan_of_an_empty_row():
    np.testing.assert_allclose(wrong_ways.naive_softmax([[0.0, LN3]]), [[0.25, 0.75]], rtol=1e-15)
    np.testing.assert_allclose(wrong_ways.naive_softmax([[0.0], [LN3]], axis=0), [[0.25], [0.75]])
    assert wrong_ways.naive_softmax(np.array([1, 1], dtype=np.int64)).dtype == np.float64
    scores = np.vstack([SCORES, np.full(4, -np.inf)])
    expected = torch.softmax(torch.tensor(scores), dim=-1).numpy()
    np.testing.assert_allclose(
        wrong_ways.naive_softmax(scores), expected, atol=1e-12, equal_nan=True
    )
    assert np.isnan(wrong_ways.naive_softmax(scores)[-1]).all()
    # The row maximum is subtracted first, so huge scores do not overflow.
    np.testing.assert_allclose(wrong_ways.naive_softmax([[1e308, 1e308]]), [[0.5, 0.5]])


def test_naive_masked_softmax_is_right_except_on_an_empty_row():
    naive = wrong_ways.naive_masked_softmax(SCORES, ALLOWED)
    right = masked_softmax(SCORES, ALLOWED)
    np.testing.assert_array_equal(naive[:2], right[:2])  # the same arithmetic, bit for bit
    np.testing.assert_allclose(
        wrong_ways.naive_masked_softmax([[0.0, LN3, 5.0]], [[True, True, False]]),
        [[0.25, 0.75, 0.0]],
    )
    assert np.isnan(naive[2]).all() and np.all(right[2] == 0)


def test_multiplying_after_the_softmax_loses_the_masked_weight():
    np.testing.assert_allclose(
        wrong_ways.softmax_then_multiply_mask([[0.0, LN3]], [[True, False]]),
        [[0.25, 0.0]],
        rtol=1e-15,
    )
    weights = wrong_ways.softmax_then_multiply_mask(SCORES, ALLOWED)
    full = torch.softmax(torch.tensor(SCORES), dim=-1).numpy()
    np.testing.assert_allclose(weights, full * ALLOWED, atol=1e-12)
    assert np.all(weights[~ALLOWED] == 0)
    lost = (full * ~ALLOWED).sum(axis=-1)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0 - lost, atol=1e-12)
    assert np.all(weights.sum(axis=-1)[:2] < 0.999)


def test_stored_fill_value_in_each_precision():
    assert np.finfo(np.float16).min == -65504
    assert wrong_ways.stored_fill_value(-1e9, np.float16) == -np.inf
    assert wrong_ways.stored_fill_value(-1e6, np.float16) == -np.inf
    assert wrong_ways.stored_fill_value(-1e4, np.float16) == -1e4
    assert wrong_ways.stored_fill_value(-65504, np.float16) == -65504
    assert wrong_ways.stored_fill_value(-1e9, np.float32) == -1e9
    assert wrong_ways.stored_fill_value(-1e6, np.float32) == -1e6  # "in float32 all three fit"
    # torch agrees: the cast overflows to -inf.
    assert torch.tensor(-1e9).half().item() == float("-inf")
    assert torch.tensor(-1e4).half().item() == -1e4


# ---------------------------------------------------------------- the #13 claims about -1e9


@pytest.mark.parametrize("fill", FILLS)
def test_in_float32_a_big_fill_gives_the_weights_of_minus_inf_bit_for_bit(fill):
    """On every row with an allowed key; in numpy and in torch 2.13 (float32)."""
    weights = wrong_ways.softmax_fill_large_negative(SCORES, ALLOWED, fill=fill, dtype=np.float32)
    minus_inf = wrong_ways.softmax_fill_large_negative(
        SCORES, ALLOWED, fill=-np.inf, dtype=np.float32
    )
    assert weights.dtype == np.float32
    np.testing.assert_array_equal(weights[:2], minus_inf[:2])
    assert np.all(weights[:2][~ALLOWED[:2]] == 0)  # exp(fill - max) underflows to exactly 0
    np.testing.assert_allclose(weights[:2], masked_softmax(SCORES, ALLOWED)[:2], rtol=1e-6)
    assert wrong_ways.fill_matches_minus_inf(SCORES, ALLOWED, fill=fill, dtype=np.float32)
    # The same in torch: masked_fill(~mask, fill) then softmax, against -inf.
    scores_t = torch.tensor(SCORES, dtype=torch.float32)
    ignore = ~torch.tensor(ALLOWED)
    big = torch.softmax(scores_t.masked_fill(ignore, fill), dim=-1)
    exact = torch.softmax(scores_t.masked_fill(ignore, float("-inf")), dim=-1)
    assert torch.equal(big[:2], exact[:2])
    np.testing.assert_allclose(weights, big.numpy(), atol=1e-6)


@pytest.mark.parametrize("fill", FILLS)
def test_in_float32_a_big_fill_makes_a_fully_masked_row_uniform(fill):
    weights = wrong_ways.softmax_fill_large_negative(SCORES, ALLOWED, fill=fill, dtype=np.float32)
    np.testing.assert_allclose(weights[2], 0.25, rtol=1e-6)  # uniform, not empty
    filled = torch.tensor(SCORES, dtype=torch.float32).masked_fill(~torch.tensor(ALLOWED), fill)
    np.testing.assert_allclose(torch.softmax(filled, dim=-1)[2].numpy(), 0.25, rtol=1e-6)
    assert np.all(masked_softmax(SCORES, ALLOWED)[2] == 0)  # what it should be


def test_in_float16_minus_1e9_overflows_and_minus_1e4_fits():
    half_scores = torch.tensor(SCORES, dtype=torch.float16)
    ignore = ~torch.tensor(ALLOWED)
    # torch refuses outright, with the message the page quotes.
    with pytest.raises(
        RuntimeError, match="value cannot be converted to type c10::Half without overflow"
    ):
        half_scores.masked_fill(ignore, -1e9)
    # Stored as -inf, the empty row is -inf - (-inf) = NaN, in numpy and in torch.
    weights = wrong_ways.softmax_fill_large_negative(SCORES, ALLOWED, fill=-1e9, dtype=np.float16)
    assert weights.dtype == np.float16
    assert np.isnan(weights[2]).all()
    minus_inf = torch.full((), -1e9).half()
    torch_weights = torch.softmax(half_scores.masked_fill(ignore, minus_inf), dim=-1)
    assert torch.isnan(torch_weights[2]).all()
    np.testing.assert_allclose(weights[:2], masked_softmax(SCORES, ALLOWED)[:2], atol=2e-3)
    # -1e4 fits in float16: no NaN, exact zeros on masked keys, but the empty row is uniform.
    fits = wrong_ways.softmax_fill_large_negative(SCORES, ALLOWED, fill=-1e4, dtype=np.float16)
    np.testing.assert_allclose(fits[2].astype(float), 0.25, rtol=1e-3)
    assert np.all(fits[:2][~ALLOWED[:2]] == 0)
    assert wrong_ways.fill_matches_minus_inf(SCORES, ALLOWED, fill=-1e4, dtype=np.float16)
    torch_fits = torch.softmax(half_scores.masked_fill(ignore, -1e4), dim=-1)
    np.testing.assert_allclose(torch_fits[2].float().numpy(), 0.25, rtol=1e-3)


def test_fill_matches_minus_inf_says_no_when_a_fill_is_not_negative_enough():
    # A fill of -1 is inside the scores' range, so the masked keys keep real weight.
    assert not wrong_ways.fill_matches_minus_inf(SCORES, ALLOWED, fill=-1.0, dtype=np.float32)


def test_fill_matches_minus_inf_compares_with_minus_inf_itself():
    # Scores as low as the fill: -1e9 is no longer "far below", -1e12 still is.
    scores, allowed = np.array([[-1e9, -1e9]]), np.array([[True, False]])
    assert not wrong_ways.fill_matches_minus_inf(scores, allowed, fill=-1e9, dtype=np.float64)
    assert wrong_ways.fill_matches_minus_inf(scores, allowed, fill=-1e12, dtype=np.float64)
    np.testing.assert_array_equal(
        wrong_ways.softmax_fill_large_negative(scores, allowed, fill=-1e9, dtype=np.float64),
        [[0.5, 0.5]],
    )


def test_fill_matches_minus_inf_on_a_batch_of_score_matrices():
    scores = np.stack([SCORES, -SCORES])  # (2, L, S)
    allowed = np.stack([ALLOWED, ALLOWED[::-1]])
    assert wrong_ways.fill_matches_minus_inf(scores, allowed, fill=-1e9, dtype=np.float32)
    assert not wrong_ways.fill_matches_minus_inf(scores, allowed, fill=-1.0, dtype=np.float32)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (3, 5), elements=st.floats(-30, 30)),
    arrays(np.bool_, (3, 5)),
)
def test_property_in_float32_minus_1e9_equals_minus_inf_on_every_row_with_a_key(scores, allowed):
    rows = allowed.any(axis=-1)
    big = wrong_ways.softmax_fill_large_negative(scores, allowed, fill=-1e9, dtype=np.float32)
    exact = wrong_ways.softmax_fill_large_negative(scores, allowed, fill=-np.inf, dtype=np.float32)
    np.testing.assert_array_equal(big[rows], exact[rows])
    np.testing.assert_allclose(big[~rows], 1 / 5, rtol=1e-6)


# ---------------------------------------------------------------- the ways compared


def test_the_wrong_ways_do_not_modify_their_inputs():
    scores, allowed = SCORES.copy(), ALLOWED.copy()
    for function in (wrong_ways.naive_masked_softmax, wrong_ways.softmax_then_multiply_mask):
        function(scores, allowed)
    wrong_ways.softmax_fill_large_negative(scores, allowed, dtype=np.float16)
    wrong_ways.compare_masking_methods(scores, allowed)
    np.testing.assert_array_equal(scores, SCORES)
    np.testing.assert_array_equal(allowed, ALLOWED)


@pytest.mark.parametrize(
    ("precision", "large_negative"),
    [
        (wrong_ways.Precision.FLOAT32, wrong_ways.RowOutcome.UNIFORM),
        (wrong_ways.Precision.FLOAT16, wrong_ways.RowOutcome.NAN),
    ],
)
def test_compare_masking_methods_reports_each_failure(precision, large_negative):
    results = wrong_ways.compare_masking_methods(SCORES, ALLOWED, dtype=precision.dtype)
    assert tuple(result.method for result in results) == tuple(wrong_ways.MaskingMethod)
    by_method = {result.method: result for result in results}
    assert [by_method[m].fully_masked_outcome() for m in wrong_ways.MaskingMethod] == [
        wrong_ways.RowOutcome.ZEROS,
        wrong_ways.RowOutcome.NAN,
        large_negative,
        wrong_ways.RowOutcome.ZEROS,
    ]
    assert [by_method[m].partial_rows_ok() for m in wrong_ways.MaskingMethod] == [
        True,
        True,
        True,
        False,
    ]
    assert [by_method[m].right_everywhere for m in wrong_ways.MaskingMethod] == [
        True,
        False,
        False,
        False,
    ]
    np.testing.assert_array_equal(
        by_method[wrong_ways.MaskingMethod.NAIVE].nan_rows, [False, False, True]
    )
    assert np.all(by_method[wrong_ways.MaskingMethod.RIGHT].masked_weight == 0)
    np.testing.assert_allclose(by_method[wrong_ways.MaskingMethod.RIGHT].row_sums, [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(by_method[wrong_ways.MaskingMethod.RIGHT].fully_masked, [0, 0, 1])
    np.testing.assert_array_equal(
        by_method[wrong_ways.MaskingMethod.LARGE_NEGATIVE].weights,
        wrong_ways.softmax_fill_large_negative(SCORES, ALLOWED, dtype=precision.dtype),
    )


def test_masked_weight_counts_what_landed_on_masked_keys():
    weights = np.array([[0.5, 0.3, 0.2]])
    result = wrong_ways.MethodResult(
        wrong_ways.MaskingMethod.NAIVE, weights, np.array([[True, False, False]])
    )
    np.testing.assert_allclose(result.masked_weight, [0.5])
    np.testing.assert_allclose(result.row_sums, [1.0])
    assert not result.partial_rows_ok()  # weight on masked keys
    short = wrong_ways.MethodResult(
        wrong_ways.MaskingMethod.MULTIPLY, np.array([[0.99, 0.0]]), np.array([[True, False]])
    )
    assert not short.partial_rows_ok()  # sums to 0.99, outside the 1e-3 tolerance
    close = wrong_ways.MethodResult(
        wrong_ways.MaskingMethod.MULTIPLY, np.array([[0.9995, 0.0]]), np.array([[True, False]])
    )
    assert close.partial_rows_ok()
    # The tolerance is inclusive: a sum exactly `tolerance` away from 1 still passes.
    half = wrong_ways.MethodResult(
        wrong_ways.MaskingMethod.MULTIPLY, np.array([[0.5, 0.0]]), np.array([[True, False]])
    )
    assert half.partial_rows_ok(tolerance=0.5)
    assert not half.partial_rows_ok(tolerance=0.25)


def test_method_result_with_every_row_fully_masked():
    """No row has an allowed key: there is no ordinary row to get wrong."""
    allowed = np.zeros((2, 3), dtype=bool)
    right = wrong_ways.MethodResult(wrong_ways.MaskingMethod.RIGHT, np.zeros((2, 3)), allowed)
    assert right.partial_rows_ok()
    assert right.fully_masked_outcome() is wrong_ways.RowOutcome.ZEROS
    assert right.right_everywhere
    uniform = wrong_ways.MethodResult(
        wrong_ways.MaskingMethod.LARGE_NEGATIVE, np.full((2, 3), 1 / 3), allowed
    )
    assert uniform.partial_rows_ok()
    assert uniform.fully_masked_outcome() is wrong_ways.RowOutcome.UNIFORM
    assert not uniform.right_everywhere


def test_method_result_without_an_empty_row_and_with_other_weights():
    allowed = ALLOWED[:2]
    result = wrong_ways.MethodResult(
        wrong_ways.MaskingMethod.RIGHT, masked_softmax(SCORES[:2], allowed), allowed
    )
    assert result.fully_masked_outcome() is None and result.partial_rows_ok()
    assert result.right_everywhere
    odd = wrong_ways.MethodResult(
        wrong_ways.MaskingMethod.RIGHT, np.array([[0.7, 0.3]]), np.array([[False, False]])
    )
    assert odd.fully_masked_outcome() is wrong_ways.RowOutcome.OTHER
    assert not odd.right_everywhere


def test_row_outcome():
    assert wrong_ways.row_outcome(np.zeros((0, 3))) is None
    assert wrong_ways.row_outcome([[0.0, 0.0]]) is wrong_ways.RowOutcome.ZEROS
    assert wrong_ways.row_outcome([[0.25] * 4, [0.2501] * 4]) is wrong_ways.RowOutcome.UNIFORM
    assert wrong_ways.row_outcome([[0.25] * 3 + [0.26]]) is wrong_ways.RowOutcome.OTHER
    assert wrong_ways.row_outcome([[np.nan, 0.0]]) is wrong_ways.RowOutcome.NAN


def test_row_outcome_uniform_is_a_relative_1e_3_with_no_absolute_slack():
    # 1/4 within 1e-3 relative means within 2.5e-4; 5e-9 beyond is out (numpy's default
    # atol of 1e-8 would let it in).
    assert wrong_ways.row_outcome([[0.25 + 2.4999e-4] * 4]) is wrong_ways.RowOutcome.UNIFORM
    assert wrong_ways.row_outcome([[0.25 + 2.50005e-4] * 4]) is wrong_ways.RowOutcome.OTHER


def test_row_outcome_judges_float16_rows_in_float64():
    # 0.2001953125 (a float16) is 1.95e-4 from 1/5, inside the 2e-4 allowed; computed in
    # float16 itself, 1/5 and the tolerance round and the same row would count as OTHER.
    row = np.full((1, 5), 0.2001953125, dtype=np.float16)
    assert wrong_ways.row_outcome(row) is wrong_ways.RowOutcome.UNIFORM


def test_row_outcome_rejects_anything_but_a_matrix_of_numbers():
    with pytest.raises(ValueError) as error:
        wrong_ways.row_outcome([0.25, 0.25, 0.25, 0.25])
    assert str(error.value) == "rows must have 2 axes, got shape (4,)"
    with pytest.raises(ValueError) as error:
        wrong_ways.row_outcome([["a", "b"]])
    assert str(error.value) == "rows must hold real numbers, got dtype <U1"


def test_compare_masking_methods_rejects_bad_input():
    with pytest.raises(ValueError) as error:
        wrong_ways.compare_masking_methods(SCORES, ALLOWED.astype(int))
    assert str(error.value) == "allowed must be boolean (True/False), got dtype int64"
    with pytest.raises(ValueError) as error:
        wrong_ways.compare_masking_methods(SCORES, ALLOWED[:2])
    assert str(error.value) == (
        "scores and allowed must be matrices of one shape (L, S), got (3, 4) and (2, 4)"
    )
    with pytest.raises(ValueError) as error:
        wrong_ways.compare_masking_methods(np.where(ALLOWED, SCORES, -np.inf), ALLOWED)
    assert str(error.value) == "scores must be finite; masking is what adds -inf"
    with pytest.raises(ValueError) as error:
        wrong_ways.compare_masking_methods(SCORES.astype(str), ALLOWED)
    assert str(error.value) == "scores must hold real numbers, got dtype <U32"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wrong_ways.naive_softmax([["a"]]), "scores must hold real numbers, got dtype <U1"),
        (
            lambda: wrong_ways.softmax_fill_large_negative(SCORES, ALLOWED.astype(int)),
            "mask must be boolean (True/False), got dtype int64",
        ),
        (
            lambda: wrong_ways.softmax_fill_large_negative(SCORES.astype(str), ALLOWED),
            "scores must hold real numbers, got dtype <U32",
        ),
        (
            lambda: wrong_ways.softmax_then_multiply_mask(SCORES, ALLOWED.astype(float)),
            "mask must be boolean (True/False), got dtype float64",
        ),
        (
            lambda: wrong_ways.softmax_then_multiply_mask(SCORES.astype(str), ALLOWED),
            "scores must hold real numbers, got dtype <U32",
        ),
        (
            lambda: wrong_ways.fill_matches_minus_inf(SCORES, ALLOWED.astype(int)),
            "allowed must be boolean (True/False), got dtype int64",
        ),
    ],
)
def test_the_wrong_ways_name_the_argument_to_fix(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == message


def test_softmax_then_multiply_mask_computes_in_float64():
    scores32 = SCORES.astype(np.float32)
    weights = wrong_ways.softmax_then_multiply_mask(scores32, ALLOWED)
    assert weights.dtype == np.float64
    np.testing.assert_array_equal(
        weights, wrong_ways.softmax_then_multiply_mask(scores32.astype(np.float64), ALLOWED)
    )


def test_naive_masked_softmax_checks_its_inputs():
    with pytest.raises(ValueError) as error:
        wrong_ways.naive_masked_softmax(SCORES, ALLOWED.astype(int))
    assert str(error.value) == "mask must be boolean (True/False), got dtype int64"
    with pytest.raises(ValueError) as error:
        wrong_ways.naive_masked_softmax(SCORES.astype(str), ALLOWED)
    assert str(error.value) == "scores must hold real numbers, got dtype <U32"


def test_float32_scores_are_compared_in_float64():
    """Only the large-negative way computes in the chosen precision; the others in float64."""
    scores32 = SCORES.astype(np.float32)
    widened = scores32.astype(np.float64)
    naive = wrong_ways.naive_masked_softmax(scores32, ALLOWED)
    assert naive.dtype == np.float64
    np.testing.assert_array_equal(naive, wrong_ways.naive_masked_softmax(widened, ALLOWED))
    results = wrong_ways.compare_masking_methods(scores32, ALLOWED)
    expected = wrong_ways.compare_masking_methods(widened, ALLOWED)
    for result, reference in zip(results, expected, strict=True):
        assert result.weights.dtype == reference.weights.dtype
        np.testing.assert_array_equal(result.weights, reference.weights)
    dtypes = [result.weights.dtype for result in results]
    assert dtypes == [np.float64, np.float64, np.float32, np.float64]  # float32: the default dtype


def test_compare_on_sentence_uses_the_sentence_scores_and_mask():
    batch = pad_batch([("dogs", "bark"), ("a", "small", "bird", "sings")])
    attention = batch_attention(batch, MaskKind.PADDING, MaskingConfig())
    compared = wrong_ways.compare_on_sentence(attention, 0, fill=-1e9, dtype=np.float32)
    assert compared is not None
    results, same = compared
    assert same is True
    allowed = mask_padding_queries(attention.allowed[0], batch.real[0])
    for result in results:
        np.testing.assert_array_equal(result.allowed, allowed)
    np.testing.assert_array_equal(results[0].weights, masked_softmax(attention.scores[0], allowed))
    # Without masking the <pad> queries' rows, they still see the real keys.
    unmasked = wrong_ways.compare_on_sentence(attention, 0, mask_pad_queries=False)
    np.testing.assert_array_equal(unmasked[0][0].allowed, attention.allowed[0])
    # Sentence 2 is the longest: under padding nothing in it is masked.
    assert wrong_ways.compare_on_sentence(attention, 1, mask_pad_queries=False) is None


def test_compare_on_sentence_passes_the_fill_and_precision_to_the_bit_for_bit_check():
    batch = pad_batch([("dogs", "bark"), ("a", "small", "bird", "sings")])
    attention = batch_attention(batch, MaskKind.PADDING, MaskingConfig())
    # The scores of sentence 0 lie within 0.6 of 0: a fill of -1 keeps real weight on the padding.
    assert np.abs(attention.scores[0]).max() < 0.6
    assert wrong_ways.compare_on_sentence(attention, 0, fill=-1.0)[1] is False
    # exp(-200) is 1.4e-87: exactly 0 in float32, not in float64.
    assert wrong_ways.compare_on_sentence(attention, 0, fill=-200.0, dtype=np.float32)[1] is True
    assert wrong_ways.compare_on_sentence(attention, 0, fill=-200.0, dtype=np.float64)[1] is False
    # exp(-50) is 2e-22: exactly 0 in float16, not in float32.
    results, same = wrong_ways.compare_on_sentence(attention, 0, fill=-50.0, dtype=np.float16)
    assert same is True
    assert results[2].weights.dtype == np.float16
    assert wrong_ways.compare_on_sentence(attention, 0, fill=-50.0, dtype=np.float32)[1] is False
