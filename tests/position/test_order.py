"""Permutation equivariance of self-attention, and what positions change in a sentence."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lab.position.order as word_order
from lab.attention import softmax
from lab.position import MAX_SENTENCE_D_MODEL, MAX_TOKENS, SentenceConfig, sinusoidal_positions
from lab.self_attention import (
    SelfAttentionConfig,
    embed,
    projection_matrices,
    self_attention_steps,
)

SENTENCE = ("the", "cat", "saw", "the", "dog")
VOCABULARY = ("the", "cat", "dog", "saw", "chased", "a", "white", "it", ".", "The")


@st.composite
def sentence_and_permutation(draw):
    tokens = tuple(draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=MAX_TOKENS)))
    permutation = draw(st.permutations(range(len(tokens))))
    return tokens, np.array(permutation)


configs = st.builds(
    SentenceConfig,
    d_model=st.integers(1, MAX_SENTENCE_D_MODEL),
    seed=st.integers(0, 10_000),
    base=st.sampled_from([100.0, 10000.0]),
)


# ------------------------------------------------------------------ permutations


def test_swap_exchanges_two_positions_only():
    np.testing.assert_array_equal(word_order.swap_permutation(5, 1, 3), [0, 3, 2, 1, 4])
    np.testing.assert_array_equal(word_order.swap_permutation(2, 1, 0), [1, 0])
    assert word_order.swap_permutation(5, 1, 3).dtype == np.int64


@pytest.mark.parametrize("length", [2, 3, 5, MAX_TOKENS])
def test_shuffle_is_a_permutation_that_moves_something(length):
    for seed in range(30):
        order = word_order.shuffle_permutation(length, seed=seed)
        np.testing.assert_array_equal(np.sort(order), np.arange(length))
        assert not np.array_equal(order, np.arange(length))


def test_shuffle_is_seed_zero_by_default_and_integer():
    order = word_order.shuffle_permutation(8)
    np.testing.assert_array_equal(order, word_order.shuffle_permutation(8, seed=0))
    assert not np.array_equal(order, word_order.shuffle_permutation(8, seed=1))
    assert order.dtype == np.int64
    # The first draw of seed 0 already moves something, so it is the generator's own shuffle.
    np.testing.assert_array_equal(order, np.random.default_rng(0).permutation(8))


def test_shuffle_repeats_with_its_seed_and_of_one_token_is_the_identity():
    np.testing.assert_array_equal(
        word_order.shuffle_permutation(8, seed=4), word_order.shuffle_permutation(8, seed=4)
    )
    assert any(
        not np.array_equal(
            word_order.shuffle_permutation(8, seed=4), word_order.shuffle_permutation(8, seed=seed)
        )
        for seed in range(5, 10)
    )
    np.testing.assert_array_equal(word_order.shuffle_permutation(1, seed=0), [0])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.permutations(range(n))), st.integers(1, 4))
def test_permutation_matrix_reorders_rows(permutation, width):
    order = np.array(permutation)
    matrix = word_order.permutation_matrix(order)
    x = np.random.default_rng(len(order)).standard_normal((len(order), width))
    np.testing.assert_array_equal(matrix @ x, x[order])
    np.testing.assert_array_equal(matrix @ matrix.T, np.eye(len(order)))
    np.testing.assert_array_equal(matrix.sum(axis=0), 1.0)
    np.testing.assert_array_equal(matrix.sum(axis=1), 1.0)


def test_permutation_matrix_leaves_its_input_alone():
    order = [2, 0, 1]
    word_order.permutation_matrix(order)
    assert order == [2, 0, 1]


# ------------------------------------------------------------------ the runs


def test_run_matches_a_direct_computation():
    config = SentenceConfig(d_model=6, seed=5)
    run = word_order.run_self_attention(SENTENCE, config, positional=True)
    x = embed(SENTENCE, 6, 5) + sinusoidal_positions(5, 6)
    w_q, w_k, w_v = projection_matrices(6, 5)
    weights = softmax((x @ w_q) @ (x @ w_k).T / math.sqrt(6))
    np.testing.assert_allclose(run.x, x, rtol=0, atol=0)
    np.testing.assert_allclose(run.weights, weights, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(run.output, weights @ (x @ w_v), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(run.weights.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert run.tokens == SENTENCE and run.positional


def test_run_is_without_positions_by_default_and_uses_the_config_base():
    tokens = ("the", "cat", "sat")
    bare = word_order.run_self_attention(tokens)
    assert bare.positional is False
    np.testing.assert_array_equal(bare.x, embed(tokens, 8, 0))
    config = SentenceConfig(d_model=4, seed=1, base=100.0)
    run = word_order.run_self_attention(tokens, config, positional=True)
    np.testing.assert_array_equal(
        run.x, embed(tokens, 4, 1) + sinusoidal_positions(3, 4, base=100.0)
    )
    # With base 100 the second pair turns 10 times faster than with the default 10000.
    assert not np.allclose(run.x, embed(tokens, 4, 1) + sinusoidal_positions(3, 4))


@pytest.mark.parametrize("positional", [False, True])
def test_run_agrees_with_the_step_by_step_page(positional):
    tokens = ("The", "quick", "brown", "fox")
    run = word_order.run_self_attention(
        tokens, SentenceConfig(d_model=5, seed=2), positional=positional
    )
    steps = self_attention_steps(
        tokens, SelfAttentionConfig(d_model=5, seed=2, positional=positional)
    )
    np.testing.assert_array_equal(run.x, steps.x)
    np.testing.assert_allclose(run.weights, steps.weights, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(run.output, steps.output, rtol=1e-13, atol=1e-14)


# ------------------------------------------------------------------ equivariance


@settings(max_examples=80, deadline=None)
@given(sentence_and_permutation(), configs)
def test_without_positions_attention_is_permutation_equivariant(case, config):
    tokens, permutation = case
    check = word_order.permutation_check(tokens, permutation, config)
    assert check.without_positions.gap <= 1e-12
    assert check.without_positions.weights_gap <= 1e-12
    assert check.permuted_tokens == tuple(tokens[index] for index in permutation)
    np.testing.assert_array_equal(check.matrix, word_order.permutation_matrix(permutation))
    # The permuted run really saw the reordered words.
    np.testing.assert_array_equal(
        check.without_positions.permuted.x, check.matrix @ check.without_positions.original.x
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "tokens",
    [SENTENCE, ("the", "dog", "chased", "the", "cat"), ("a", "white", "cat", "saw", "it", ".")],
)
def test_with_positions_the_gap_is_clearly_above_rounding(tokens, seed):
    config = SentenceConfig(seed=seed)
    for permutation in (
        word_order.shuffle_permutation(len(tokens), seed=seed),
        word_order.swap_permutation(len(tokens), 0, len(tokens) - 1),
    ):
        check = word_order.permutation_check(tokens, permutation, config)
        assert check.without_positions.gap <= 1e-12
        assert check.with_positions.gap > 1e-3
        assert check.with_positions.weights_gap > 1e-3
        # Positions stay in their slots: the permuted input is P E + PE, not P (E + PE).
        encoding = sinusoidal_positions(len(tokens), config.d_model)
        np.testing.assert_allclose(
            check.with_positions.permuted.x,
            check.matrix @ check.without_positions.original.x + encoding,
            rtol=0,
            atol=1e-15,
        )


def test_permutation_check_runs_once_without_and_once_with_positions():
    config = SentenceConfig(d_model=4, seed=2, base=100.0)
    check = word_order.permutation_check(SENTENCE, [1, 0, 2, 3, 4], config)
    for comparison, positional in ((check.without_positions, False), (check.with_positions, True)):
        assert comparison.original.positional is positional
        assert comparison.permuted.positional is positional
        expected = word_order.run_self_attention(SENTENCE, config, positional=positional)
        np.testing.assert_array_equal(comparison.original.weights, expected.weights)


def test_the_expected_rows_are_the_original_rows_reordered():
    check = word_order.permutation_check(SENTENCE, [4, 3, 2, 1, 0])
    for comparison in (check.without_positions, check.with_positions):
        np.testing.assert_array_equal(
            comparison.expected_output, comparison.original.output[[4, 3, 2, 1, 0]]
        )
        np.testing.assert_array_equal(
            comparison.expected_weights,
            comparison.original.weights[[4, 3, 2, 1, 0]][:, [4, 3, 2, 1, 0]],
        )
    assert check.permuted_tokens == ("dog", "the", "saw", "cat", "the")
    assert not check.is_identity


def test_swapping_the_two_copies_of_a_word_still_shows_the_positions():
    # The words do not change at all, yet with positions the outputs do not swap along.
    check = word_order.permutation_check(SENTENCE, word_order.swap_permutation(5, 0, 3))
    assert check.permuted_tokens == SENTENCE
    assert check.without_positions.gap == 0.0
    assert check.with_positions.gap > 1e-3


def test_a_one_token_sentence_has_nothing_to_reorder():
    check = word_order.permutation_check(("cat",), word_order.shuffle_permutation(1))
    assert check.is_identity
    assert check.without_positions.gap == 0.0
    assert check.with_positions.gap == 0.0


# ------------------------------------------------------------------ repeated words


def test_repeated_word_rows_are_identical_only_without_positions():
    effect = word_order.position_effect(SENTENCE)
    assert effect.identical_without == ((0, 3),)
    assert effect.identical_with == ()
    np.testing.assert_array_equal(
        effect.without_positions.weights[0], effect.without_positions.weights[3]
    )
    assert not np.allclose(effect.with_positions.weights[0], effect.with_positions.weights[3])
    (the,) = effect.repeated
    assert the.word == "the" and the.positions == (0, 3)
    assert the.weights_gap_without == 0.0 and the.output_gap_without == 0.0
    assert the.weights_gap_with > 1e-3 and the.output_gap_with > 1e-3


def test_position_effect_holds_the_two_runs_of_its_config():
    config = SentenceConfig(d_model=6, seed=4, base=100.0)
    effect = word_order.position_effect(SENTENCE, config)
    assert effect.tokens == SENTENCE
    for run, positional in ((effect.without_positions, False), (effect.with_positions, True)):
        assert run.positional is positional
        expected = word_order.run_self_attention(SENTENCE, config, positional=positional)
        np.testing.assert_array_equal(run.x, expected.x)
        np.testing.assert_array_equal(run.weights, expected.weights)
        np.testing.assert_array_equal(run.output, expected.output)


@pytest.mark.parametrize("seed", range(5))
def test_repeated_words_are_found_case_insensitively(seed):
    tokens = ("The", "cat", "saw", "the", "cat", ".")
    effect = word_order.position_effect(tokens, SentenceConfig(seed=seed))
    assert effect.identical_without == ((0, 3), (1, 4))
    assert effect.identical_with == ()
    assert [(word.word, word.positions) for word in effect.repeated] == [
        ("the", (0, 3)),
        ("cat", (1, 4)),
    ]
    for word in effect.repeated:
        assert word.weights_gap_without <= 1e-12
        assert word.weights_gap_with > 1e-3


def test_a_sentence_without_repeats_has_no_identical_rows():
    effect = word_order.position_effect(("a", "white", "cat"))
    assert effect.identical_without == ()
    assert effect.repeated == ()


def test_identical_rows_groups_by_first_row_and_tolerance():
    matrix = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1e-13], [0.0, 1.0], [0.5, 0.5]])
    assert word_order.identical_rows(matrix) == ((0, 2), (1, 3))
    assert word_order.identical_rows(matrix, tolerance=0.0) == ((1, 3),)
    assert word_order.identical_rows(matrix, tolerance=1.0) == ((0, 1, 2, 3, 4),)
    # Rows with no entries are all equal (nothing differs).
    assert word_order.identical_rows(np.zeros((3, 0))) == ((0, 1, 2),)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: word_order.permutation_check((), []),
            "tokens is empty; give at least one token (a word or a punctuation mark)",
        ),
        (
            lambda: word_order.position_effect(("w",) * 13),
            "tokens has 13 tokens but at most 12 fit; "
            "shorten the sentence (lab.text.tokenize cuts it for you)",
        ),
        (
            lambda: word_order.run_self_attention(("the", 3)),
            "every token must be a non-empty string, got 3 at index 1",
        ),
        (
            lambda: word_order.permutation_check(SENTENCE, [0, 1, 2]),
            "permutation has 3 entries but the sentence has 5 tokens; give one entry per token",
        ),
        (
            lambda: word_order.permutation_check(SENTENCE, [0, 1, 1, 3, 4]),
            "permutation must hold each of 0, ..., 4 exactly once, got [0, 1, 1, 3, 4]",
        ),
        (
            lambda: word_order.permutation_matrix([0.5, 1.5]),
            "permutation must hold each of 0, ..., 1 exactly once, got [0.5, 1.5]",
        ),
        (
            lambda: word_order.permutation_matrix([[0, 1]]),
            "permutation must have 1 axes, got shape (1, 2)",
        ),
        (
            lambda: word_order.permutation_matrix([]),
            "permutation is empty; give one entry per token",
        ),
        (
            lambda: word_order.permutation_matrix([0, np.nan]),
            "permutation contains NaN or infinity; every entry must be a finite number",
        ),
        (lambda: word_order.shuffle_permutation(0), "length must be at least 1, got 0"),
        (lambda: word_order.shuffle_permutation(13), "length must be at most 12, got 13"),
        (lambda: word_order.shuffle_permutation(4, seed=-1), "seed must be at least 0, got -1"),
        (lambda: word_order.swap_permutation(1, 0, 0), "length must be at least 2, got 1"),
        (lambda: word_order.swap_permutation(4, 0, 4), "second must be at most 3, got 4"),
        (lambda: word_order.swap_permutation(4, 4, 0), "first must be at most 3, got 4"),
        (lambda: word_order.swap_permutation(4, -1, 2), "first must be at least 0, got -1"),
        (lambda: word_order.swap_permutation(4, 0, -1), "second must be at least 0, got -1"),
        (lambda: word_order.swap_permutation(13, 0, 1), "length must be at most 12, got 13"),
        (lambda: word_order.swap_permutation(4, 2.0, 1), "first must be a whole number, got 2.0"),
        (
            lambda: word_order.swap_permutation(4, 2, 2),
            "first and second are both 2; pick two different positions",
        ),
        (lambda: SentenceConfig(d_model=0), "d_model must be at least 1, got 0"),
        (lambda: SentenceConfig(d_model=17), "d_model must be at most 16, got 17"),
        (lambda: SentenceConfig(d_model=4.5), "d_model must be a whole number, got 4.5"),
        (lambda: SentenceConfig(seed=-2), "seed must be at least 0, got -2"),
        (lambda: SentenceConfig(base=0.0), "base must be positive, got 0.0"),
        (
            lambda: word_order.identical_rows([[np.nan, 1.0]]),
            "matrix contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: word_order.identical_rows(np.eye(2), tolerance=-1.0),
            "tolerance must be at least 0.0, got -1.0",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()
