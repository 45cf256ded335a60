"""lab.masked_attention.leakage: a changed token moves exactly the outputs that may see it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lab.masked_attention.compute as compute
import lab.masked_attention.leakage as leakage
from lab.embeddings import embed, projection_matrices
from lab.masked_attention import PAD, MaskingConfig, MaskKind, PaddingSide
from lab.text import tokenize

SENTENCES = ("the cat sat on the mat", "dogs bark", "a small bird sings", "")


def tokens_of(*sentences: str) -> list[tuple[str, ...]]:
    return [tokenize(sentence).tokens for sentence in sentences]


def config_for(side: PaddingSide, d_model: int = 4, seed: int = 0) -> MaskingConfig:
    return MaskingConfig(d_model=d_model, seed=seed, padding_side=side)


def unmasked_outputs(tokens: tuple[str, ...], d_model: int, seed: int) -> np.ndarray:
    """Self-attention with no mask, written out from the definition: softmax(QK^T/√d) V."""
    x = embed(tokens, d_model, seed)
    w_q, w_k, w_v = projection_matrices(d_model, seed)
    scores = (x @ w_q) @ (x @ w_k).T / math.sqrt(d_model)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ (x @ w_v)


def test_output_change():
    before = np.zeros((3, 2))
    after = np.array([[0.0, 0.0], [0.5, -2.0], [0.0, 1e-300]])
    np.testing.assert_array_equal(leakage.output_change(before, after), [0.0, 2.0, 1e-300])
    np.testing.assert_array_equal(
        leakage.output_change(np.zeros((2, 0)), np.zeros((2, 0))), [0.0, 0.0]
    )
    with pytest.raises(ValueError) as error:
        leakage.output_change(np.zeros((3, 2)), np.zeros((2, 2)))
    assert str(error.value) == "before has shape (3, 2) but after has (2, 2)"
    with pytest.raises(ValueError) as error:
        leakage.output_change(np.zeros(3), np.zeros(3))
    assert str(error.value) == ("outputs need a position axis and a feature axis, got shape (3,)")
    with pytest.raises(ValueError) as error:
        leakage.output_change([["a"]], np.zeros((1, 1)))
    assert str(error.value) == "before must hold real numbers, got dtype <U1"
    with pytest.raises(ValueError) as error:
        leakage.output_change(np.zeros((1, 1)), [[True]])
    assert str(error.value) == "after must hold real numbers, got dtype bool"


def test_output_change_keeps_every_leading_axis():
    """Batched outputs (B, L, Ev): the change is taken over the last axis only."""
    before = np.zeros((2, 3, 4))
    after = np.arange(24.0).reshape(2, 3, 4) * np.array([1.0, -1.0, 1.0, -1.0])
    change = leakage.output_change(before, after)
    assert change.shape == (2, 3)
    # Row [b, l] holds 4 (4 b + l) ... 4 (4 b + l) + 3 up to sign: the largest is the last.
    np.testing.assert_array_equal(change, [[3.0, 7.0, 11.0], [15.0, 19.0, 23.0]])
    empty = leakage.output_change(np.zeros((2, 3, 0)), np.zeros((2, 3, 0)))
    assert empty.shape == (2, 3)
    assert np.all(empty == 0.0)
    assert leakage.output_change(np.zeros((2, 0)), np.zeros((2, 0))).shape == (2,)


def test_an_unmasked_batch_moves_the_earlier_outputs_by_the_amount_computed_by_hand():
    """The measure is not always 0: without a causal mask the earlier outputs do move."""
    batch = compute.pad_batch(tokens_of(*SENTENCES[:3]))
    probe = leakage.leakage_probe(batch, 0, 5, "dog", config_for(PaddingSide.RIGHT))
    before = unmasked_outputs(batch.tokens[0], 4, 0)
    after = unmasked_outputs(("the", "cat", "sat", "on", "the", "dog"), 4, 0)
    by_hand = np.abs(after - before).max(axis=-1)  # (6,)
    np.testing.assert_allclose(probe.row(MaskKind.NONE), by_hand, rtol=1e-12, atol=1e-15)
    # Sentence 1 has no padding, so the padding mask changes nothing for it.
    np.testing.assert_array_equal(probe.row(MaskKind.PADDING), probe.row(MaskKind.NONE))
    assert probe.max_earlier(MaskKind.NONE) == pytest.approx(by_hand[:5].max(), rel=1e-12)
    assert probe.max_earlier(MaskKind.NONE) > 0.2  # 0.234 at the page's defaults
    assert np.all(probe.earlier(MaskKind.NONE) > 0.05)


def test_changing_the_last_word_leaks_backwards_only_without_a_causal_mask():
    for side in PaddingSide:
        batch = compute.pad_batch(tokens_of(*SENTENCES), padding_side=side)
        last = batch.last_real(0)
        probe = leakage.leakage_probe(batch, 0, last, "dog", config_for(side))
        assert probe.old_token == "mat" and probe.new_token == "dog"
        assert probe.changes.shape == (len(MaskKind), batch.S)
        assert probe.kinds == tuple(MaskKind) and probe.tokens == batch.tokens[0]
        assert (probe.sentence, probe.position) == (0, last)
        for kind in (MaskKind.CAUSAL, MaskKind.PADDING_AND_CAUSAL):
            assert np.all(probe.earlier(kind) == 0.0)  # exactly 0, not small
            assert probe.max_earlier(kind) == 0.0
        for kind in (MaskKind.NONE, MaskKind.PADDING):
            assert np.all(probe.earlier(kind) > 0)
        assert np.all(probe.changes[:, last] > 0)  # the changed position itself always moves


def test_garbage_in_the_padding_reaches_real_words_only_without_a_padding_mask():
    for side in PaddingSide:
        batch = compute.pad_batch(
            tokens_of("the cat sat on the mat", "dogs bark"), padding_side=side
        )
        pad_position = 3 if side is PaddingSide.RIGHT else 0
        assert batch.tokens[1][pad_position] == PAD
        probe = leakage.leakage_probe(batch, 1, pad_position, "zebra", config_for(side))
        real = batch.real[1]
        assert probe.max_at(MaskKind.PADDING, real) == 0.0
        assert probe.max_at(MaskKind.PADDING_AND_CAUSAL, real) == 0.0
        assert probe.max_at(MaskKind.NONE, real) > 0.01
        # Right padding comes after the words, so causal alone hides it; left padding does not.
        causal = probe.max_at(MaskKind.CAUSAL, real)
        assert causal == 0.0 if side is PaddingSide.RIGHT else causal > 0.01


def test_max_at_over_no_position_is_zero_and_max_earlier_at_position_zero_is_zero():
    batch = compute.pad_batch(tokens_of("dogs bark"))
    probe = leakage.leakage_probe(batch, 0, 0, "cats")
    assert probe.earlier(MaskKind.NONE).shape == (0,)
    assert probe.max_earlier(MaskKind.NONE) == 0.0
    assert probe.max_at(MaskKind.NONE, [False, False]) == 0.0
    assert probe.max_at(MaskKind.NONE, [False, True]) == probe.changes[0, 1] > 0


def test_leakage_probe_checks_its_arguments():
    batch = compute.pad_batch(tokens_of(*SENTENCES))
    with pytest.raises(ValueError) as error:
        leakage.leakage_probe(batch, 0, 0, "")
    assert str(error.value) == "new_token must be a non-empty token"
    with pytest.raises(ValueError) as error:
        leakage.leakage_probe(batch, 0, 99, "x")
    assert str(error.value) == "position must lie in [0, 5], got 99"
    probe = leakage.leakage_probe(batch, 0, 1, "x", kinds=(MaskKind.CAUSAL,))
    assert probe.changes.shape == (1, batch.S)
    with pytest.raises(ValueError) as error:
        probe.row(MaskKind.NONE)
    assert str(error.value) == "this probe compared 'causal' only, not 'none'"
    with pytest.raises(ValueError) as error:
        probe.max_at(MaskKind.CAUSAL, [True])
    assert str(error.value) == "positions must have shape (6,), got (1,)"
    with pytest.raises(ValueError) as error:
        probe.max_at(MaskKind.CAUSAL, [1, 0, 0, 0, 0, 0])
    assert str(error.value) == "positions must be boolean (True/False), got dtype int64"
    kind_error = "kind must be one of 'none', 'padding', 'causal', 'padding + causal', got 'future'"
    with pytest.raises(ValueError) as error:
        probe.row("future")
    assert str(error.value) == kind_error
    with pytest.raises(ValueError) as error:
        leakage.leakage_probe(batch, 0, 1, "x", kinds=("causal", "future"))
    assert str(error.value) == kind_error
    pair = leakage.leakage_probe(batch, 0, 1, "x", kinds=("none", MaskKind.CAUSAL))
    assert pair.kinds == (MaskKind.NONE, MaskKind.CAUSAL)
    np.testing.assert_array_equal(pair.row("causal"), probe.row(MaskKind.CAUSAL))
    with pytest.raises(ValueError) as error:
        pair.row(MaskKind.PADDING)
    assert str(error.value) == "this probe compared 'none', 'causal' only, not 'padding'"


@st.composite
def leakage_case(draw):
    words = st.sampled_from(["the", "cat", "sat", "on", "mat", "dog", "a", "ran"])
    lengths = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    sentences = [tuple(draw(words) for _ in range(length)) for length in lengths]
    sentence = draw(st.integers(0, len(sentences) - 1))
    side = draw(st.sampled_from(list(PaddingSide)))
    batch = compute.pad_batch(sentences, padding_side=side)
    position = draw(st.integers(0, batch.S - 1))
    new_token = draw(st.sampled_from(["zebra", "quantum", PAD]))
    seed = draw(st.integers(0, 50))
    d_model = draw(st.integers(1, 8))
    return batch, sentence, position, new_token, config_for(side, d_model, seed)


@settings(max_examples=60, deadline=None)
@given(leakage_case())
def test_property_a_causal_mask_leaks_exactly_nothing_backwards(case):
    batch, sentence, position, new_token, config = case
    probe = leakage.leakage_probe(batch, sentence, position, new_token, config)
    for kind in (MaskKind.CAUSAL, MaskKind.PADDING_AND_CAUSAL):
        assert np.all(probe.earlier(kind) == 0.0)
    if batch.tokens[sentence][position] != new_token:
        # Without a mask the changed position's own output always moves (its query, key
        # and value all changed): the measure is not stuck at 0.
        assert probe.row(MaskKind.NONE)[position] > 0
    # Other sentences of the batch never change, whatever the mask.
    for kind in MaskKind:
        before = compute.batch_attention(batch, kind, config).output
        after = compute.batch_attention(batch.replaced(sentence, position, new_token), kind, config)
        others = np.arange(batch.B) != sentence
        np.testing.assert_array_equal(before[others], after.output[others])


def test_the_changed_position_stays_put_only_when_its_row_may_look_at_nothing():
    """The page's caption: the changed output moves unless its row is fully masked."""
    batch = compute.pad_batch(
        tokens_of("the cat sat on", "dogs bark"), padding_side=PaddingSide.LEFT
    )
    config = config_for(PaddingSide.LEFT)
    probe = leakage.leakage_probe(batch, 1, 0, "zebra", config)  # a <pad> before every word
    empty = compute.batch_attention(batch, MaskKind.PADDING_AND_CAUSAL, config).fully_masked[1, 0]
    assert empty and probe.row(MaskKind.PADDING_AND_CAUSAL)[0] == 0.0
    for kind in (MaskKind.NONE, MaskKind.PADDING, MaskKind.CAUSAL):
        assert not compute.batch_attention(batch, kind, config).fully_masked[1, 0]
        assert probe.row(kind)[0] > 0
