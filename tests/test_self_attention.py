"""The step-by-step self-attention core."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lab.attention import softmax
from lab.self_attention import (
    SelfAttentionConfig,
    embed,
    self_attention_steps,
    sinusoidal_positions,
)

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
    with pytest.raises(ValueError):
        steps.contributions(4)


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
    with pytest.raises(ValueError, match="at least one token"):
        self_attention_steps(())
    with pytest.raises(ValueError, match="d_model"):
        self_attention_steps(TOKENS, SelfAttentionConfig(d_model=0))
