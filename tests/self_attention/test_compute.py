"""The step-by-step self-attention core."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lab.attention import softmax
from lab.self_attention import (
    SelfAttentionConfig,
    embed,
    page_exercises,
    projection_matrices,
    self_attention,
    self_attention_steps,
    sinusoidal_positions,
)
from lab.self_attention.exercises import first_repeat

TOKENS = ("The", "quick", "brown", "fox")


def test_every_stage_has_its_shape_and_follows_from_the_last():
    steps = self_attention_steps(TOKENS, SelfAttentionConfig(d_model=5, seed=0))
    L, d = 4, 5
    assert steps.x.shape == (L, d) and steps.w_q.shape == (d, d)
    assert steps.q.shape == steps.k.shape == steps.v.shape == (L, d)
    np.testing.assert_allclose(steps.q, steps.x @ steps.w_q)
    np.testing.assert_allclose(steps.scores, steps.q @ steps.k.T)
    np.testing.assert_allclose(steps.scaled_scores, steps.scores / np.sqrt(d))
    np.testing.assert_allclose(steps.weights, softmax(steps.scaled_scores))
    np.testing.assert_allclose(steps.weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(steps.output, steps.weights @ steps.v)


def test_output_matches_torch():
    steps = self_attention_steps(TOKENS, SelfAttentionConfig(d_model=7, seed=3, positional=True))
    q, k, v = (torch.tensor(a) for a in (steps.q, steps.k, steps.v))
    expected = F.scaled_dot_product_attention(q[None], k[None], v[None])[0].numpy()
    np.testing.assert_allclose(steps.output, expected, atol=1e-12)


def test_contributions_sum_to_the_output_row():
    steps = self_attention_steps(TOKENS)
    for query in range(len(TOKENS)):
        np.testing.assert_allclose(steps.contributions(query).sum(axis=0), steps.output[query])
    for outside in (4, -1):
        with pytest.raises(ValueError) as error:
            steps.contributions(outside)
        assert str(error.value) == f"query_index must lie in [0, 3], got {outside}"


def test_same_seed_same_numbers_for_everyone():
    first = self_attention_steps(TOKENS, SelfAttentionConfig(seed=42))
    again = self_attention_steps(TOKENS, SelfAttentionConfig(seed=42))
    other = self_attention_steps(TOKENS, SelfAttentionConfig(seed=43))
    np.testing.assert_array_equal(first.output, again.output)
    assert not np.allclose(first.output, other.output)


def test_repeated_word_has_identical_rows_until_positions_are_added():
    tokens = ("the", "cat", "saw", "The", "dog")
    plain = self_attention_steps(tokens)
    np.testing.assert_array_equal(plain.x[0], plain.x[3])
    np.testing.assert_allclose(plain.output[0], plain.output[3])
    positioned = self_attention_steps(tokens, SelfAttentionConfig(positional=True))
    assert not np.allclose(positioned.output[0], positioned.output[3])


def test_sinusoidal_positions():
    encoding = sinusoidal_positions(6, 5)
    assert encoding.shape == (6, 5)
    np.testing.assert_allclose(encoding[0], [0, 1, 0, 1, 0])
    np.testing.assert_allclose(encoding[:, 0], np.sin(np.arange(6)))
    assert np.all(np.abs(encoding) <= 1)


def test_embeddings_depend_on_the_word_only():
    vectors = embed(["Fox", "fox", "dog"], 4, seed=1)
    np.testing.assert_array_equal(vectors[0], vectors[1])
    assert not np.allclose(vectors[0], vectors[2])


def test_bad_input():
    with pytest.raises(ValueError, match=r"^self-attention needs at least one token$"):
        self_attention_steps(())
    with pytest.raises(ValueError, match=r"^d_model must be at least 1, got 0$"):
        self_attention_steps(TOKENS, SelfAttentionConfig(d_model=0))
    with pytest.raises(ValueError, match=r"^d_model must be at most 16, got 17$"):
        self_attention_steps(TOKENS, SelfAttentionConfig(d_model=17))


def test_the_code_shown_on_the_page_agrees_with_the_lab_and_torch():
    steps = self_attention_steps(
        ("the", "cat", "saw", "the", "dog"), SelfAttentionConfig(d_model=6)
    )
    output, weights = self_attention(steps.x, steps.w_q, steps.w_k, steps.w_v)
    np.testing.assert_allclose(weights, steps.weights, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(output, steps.output, rtol=1e-12, atol=1e-15)
    q, k, v = (torch.tensor(a) for a in (steps.q, steps.k, steps.v))
    expected = F.scaled_dot_product_attention(q, k, v).numpy()
    np.testing.assert_allclose(output, expected, rtol=1.3e-6, atol=1e-5)


def test_the_code_shown_survives_large_scores():
    x = np.array([[30.0, 0.0], [0.0, 30.0]])
    output, weights = self_attention(x, np.eye(2) * 30, np.eye(2) * 30, np.eye(2))
    assert np.isfinite(weights).all() and np.isfinite(output).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)


def test_the_code_shown_shifts_each_row_by_its_own_maximum():
    # Row 0 scores up to 900 * 900 / sqrt(2) = 572 756, row 1 only up to 636: shifted by
    # the largest score of the whole matrix, row 1 would underflow to 0 / 0.
    x = np.array([[30.0, 0.0], [0.0, 1.0]])
    output, weights = self_attention(x, np.eye(2) * 30, np.eye(2) * 30, np.eye(2))
    scores = (30 * x) @ (30 * x).T / np.sqrt(2)
    np.testing.assert_allclose(weights, softmax(scores), rtol=1e-12, atol=0)
    assert weights[1, 0] == pytest.approx(np.exp(-900 / np.sqrt(2)), rel=1e-9)
    np.testing.assert_allclose(output, weights @ x, rtol=1e-12, atol=0)  # V = X here


def test_exercise_answers_come_from_the_data_on_screen():
    tokens = ("The", "quick", "brown", "fox")
    config = SelfAttentionConfig(d_model=7, seed=3)
    steps = self_attention_steps(tokens, config)
    items = {item.key: item for item in page_exercises(steps, config)}
    assert list(items) == ["scale", "evenest", "by_hand", "positions"]
    assert items["scale"].answer.value == pytest.approx(np.sqrt(7))
    assert items["by_hand"].answer.value == steps.output[0, 0]
    spreads = -(steps.weights * np.log(steps.weights)).sum(axis=1)
    assert items["evenest"].answer.correct == int(np.argmax(spreads))
    assert items["evenest"].answer.options == ("0 · The", "1 · quick", "2 · brown", "3 · fox")
    # No repeated word: the exercise asks for the seeds' example and answers for it.
    assert "*the cat saw the dog*" in items["positions"].question
    assert items["positions"].answer.correct == 1  # with positions the two rows differ


def test_the_repeated_word_exercise_uses_the_learners_own_sentence():
    tokens = ("a", "dog", "bit", "a", "man")
    config = SelfAttentionConfig()
    items = {item.key: item for item in page_exercises(self_attention_steps(tokens), config)}
    question = items["positions"].question
    assert question.startswith("Switch **Add positions** on") and "(positions 0 and 3)" in question


def test_one_token_gets_no_question_about_comparing_rows():
    config = SelfAttentionConfig()
    items = page_exercises(self_attention_steps(("fox",), config), config)
    assert [item.key for item in items] == ["scale", "by_hand", "positions"]


def test_first_repeat_is_case_insensitive():
    assert first_repeat(("The", "cat", "the")) == (0, 2)
    assert first_repeat(("a", "b")) is None


def test_every_stored_stage_is_the_one_the_page_shows():
    tokens = ["The", "quick", "brown", "fox"]  # a list is stored as a tuple
    steps = self_attention_steps(tokens, SelfAttentionConfig(d_model=6, seed=2, positional=True))
    assert steps.tokens == ("The", "quick", "brown", "fox")
    np.testing.assert_array_equal(steps.embeddings, embed(tokens, 6, seed=2))
    np.testing.assert_array_equal(steps.x, steps.embeddings + sinusoidal_positions(4, 6))
    for stored, fresh in zip(
        (steps.w_q, steps.w_k, steps.w_v), projection_matrices(6, 2), strict=True
    ):
        np.testing.assert_array_equal(stored, fresh)
    np.testing.assert_array_equal(steps.k, steps.x @ steps.w_k)
    np.testing.assert_array_equal(steps.v, steps.x @ steps.w_v)
    assert steps.scale == 1 / math.sqrt(6)
    plain = self_attention_steps(tokens, SelfAttentionConfig(d_model=6, seed=2))
    np.testing.assert_array_equal(plain.x, plain.embeddings)  # no positions: X is the embeddings
