"""lab.masked_attention.compute: the padded batch, its masks, and attention over it against torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lab.masked_attention.compute as compute
from lab.attention import causal_mask, masked_softmax
from lab.embeddings import embed, projection_matrices
from lab.masked_attention import PAD, MaskingConfig, MaskKind, PaddingSide
from lab.text import tokenize
from tests.masked_attention.torch_helpers import multihead_from

# torch's own float32 tolerances (torch.testing.assert_close defaults), used on float64 inputs.
ATOL, RTOL = 1e-5, 1.3e-6

SENTENCES = ("the cat sat on the mat", "dogs bark", "a small bird sings", "")


def tokens_of(*sentences: str) -> list[tuple[str, ...]]:
    return [tokenize(sentence).tokens for sentence in sentences]


@pytest.fixture(params=list(PaddingSide))
def side(request) -> PaddingSide:
    return request.param


@pytest.fixture
def batch(side):
    return compute.pad_batch(tokens_of(*SENTENCES), padding_side=side)


def config_for(side: PaddingSide, d_model: int = 4, seed: int = 0) -> MaskingConfig:
    return MaskingConfig(d_model=d_model, seed=seed, padding_side=side)


# ---------------------------------------------------------------- the closed sets


def test_mask_kinds_say_what_they_hide():
    assert [(kind.padding, kind.causal) for kind in MaskKind] == [
        (False, False),
        (True, False),
        (False, True),
        (True, True),
    ]
    assert [kind.value for kind in MaskKind] == ["none", "padding", "causal", "padding + causal"]
    assert [side.value for side in PaddingSide] == ["right", "left"]


def test_as_member_takes_a_member_or_its_value_and_names_the_choices():
    assert compute.as_member(MaskKind, "padding + causal", "kind") is MaskKind.PADDING_AND_CAUSAL
    assert compute.as_member(PaddingSide, PaddingSide.LEFT, "side") is PaddingSide.LEFT
    with pytest.raises(ValueError) as error:
        compute.as_member(MaskKind, "lookahead", "kind")
    assert str(error.value) == (
        "kind must be one of 'none', 'padding', 'causal', 'padding + causal', got 'lookahead'"
    )


# ---------------------------------------------------------------- padding and masks


def test_pad_batch_pads_to_the_longest_on_either_side():
    sentences = tokens_of("a b c", "d", "")
    right = compute.pad_batch(sentences)
    assert right.tokens == (("a", "b", "c"), ("d", PAD, PAD), (PAD, PAD, PAD))
    left = compute.pad_batch(sentences, padding_side="left")
    assert left.padding_side is PaddingSide.LEFT
    assert left.tokens == (("a", "b", "c"), (PAD, PAD, "d"), (PAD, PAD, PAD))
    for padded in (right, left):
        assert padded.valid_lens.tolist() == [3, 1, 0]
        assert (padded.B, padded.S) == (3, 3)
    np.testing.assert_array_equal(right.real, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(left.real, [[1, 1, 1], [0, 0, 1], [0, 0, 0]])
    assert right.last_real(1) == 0 and left.last_real(1) == 2
    assert right.last_real(2) is None and left.first_real(1) == 2


def test_first_and_last_real_on_the_right_and_the_left():
    right = compute.pad_batch(tokens_of("a b c d", "e f", ""))
    left = compute.pad_batch(tokens_of("a b c d", "e f", ""), padding_side=PaddingSide.LEFT)
    # Right padding: the words come first, so a sentence with words starts at 0.
    assert [right.first_real(b) for b in range(3)] == [0, 0, 4]
    assert [right.last_real(b) for b in range(3)] == [3, 1, None]
    # Left padding: the words come last.
    assert [left.first_real(b) for b in range(3)] == [0, 2, 4]
    assert [left.last_real(b) for b in range(3)] == [3, 3, None]
    for padded in (right, left):
        for b in range(2):
            assert padded.tokens[b][padded.first_real(b)] != PAD
            assert padded.tokens[b][padded.last_real(b)] != PAD
    with pytest.raises(ValueError) as error:
        right.first_real(3)
    assert str(error.value) == "sentence must lie in [0, 2], got 3"


def test_most_padded_prefers_a_sentence_with_words_when_asked():
    padded = compute.pad_batch(tokens_of("a b c d", "", "e f", "g h"))
    assert padded.most_padded() == 1  # the empty one
    assert padded.most_padded(with_words=True) == 2  # the first of the two 2-word sentences
    assert compute.pad_batch(tokens_of("", "")).most_padded(with_words=True) == 0
    # A one-word sentence has words: it wins over a longer one, the empty one never does.
    assert compute.pad_batch(tokens_of("a b c", "d", "")).most_padded(with_words=True) == 1
    # Every sentence with words is as long as the batch: one of them still beats the empty one.
    assert compute.pad_batch(tokens_of("a b", "c d", "")).most_padded(with_words=True) == 0


def test_pad_batch_rejects_bad_input():
    with pytest.raises(ValueError) as error:
        compute.pad_batch([])
    assert str(error.value) == "a batch needs at least one sentence"
    with pytest.raises(ValueError) as error:
        compute.pad_batch("the cat")
    assert str(error.value) == "sentences must be a list of token lists, not one string"
    with pytest.raises(ValueError) as error:
        compute.pad_batch([["a"]], padding_side="middle")
    assert str(error.value) == "padding_side must be one of 'right', 'left', got 'middle'"


def test_replaced_swaps_one_token_and_keeps_the_lengths(batch):
    changed = batch.replaced(1, 0, "zebra")
    assert changed.tokens[1][0] == "zebra" and batch.tokens[1][0] != "zebra"
    assert changed.tokens[0] == batch.tokens[0]
    assert changed.padding_side is batch.padding_side
    np.testing.assert_array_equal(changed.valid_lens, batch.valid_lens)
    with pytest.raises(ValueError) as error:
        batch.replaced(0, batch.S, "x")
    assert str(error.value) == f"position must lie in [0, {batch.S - 1}], got {batch.S}"
    with pytest.raises(ValueError) as error:
        batch.replaced(9, 0, "x")
    assert str(error.value) == "sentence must lie in [0, 3], got 9"


def test_key_padding_mask_matches_a_torch_built_mask_on_both_sides():
    valid_lens = np.array([3, 0, 5, 1])
    right = torch.arange(5)[None, :] < torch.tensor(valid_lens)[:, None]
    left = torch.arange(5)[None, :] >= 5 - torch.tensor(valid_lens)[:, None]
    np.testing.assert_array_equal(compute.key_padding_mask(valid_lens, 5), right.numpy())
    np.testing.assert_array_equal(compute.key_padding_mask(valid_lens, 5, "left"), left.numpy())
    with pytest.raises(ValueError) as error:
        compute.key_padding_mask(valid_lens, 5, "middle")
    assert str(error.value) == "padding_side must be one of 'right', 'left', got 'middle'"


def test_attention_mask_kinds():
    valid_lens, S = np.array([2, 4]), 4
    keys = compute.key_padding_mask(valid_lens, S)
    masks = {kind: compute.attention_mask(kind, valid_lens, S) for kind in MaskKind}
    assert all(mask.shape == (2, S, S) and mask.dtype == np.bool_ for mask in masks.values())
    assert masks[MaskKind.NONE].all()
    padding = np.broadcast_to(keys[:, None, :], (2, S, S))
    np.testing.assert_array_equal(masks[MaskKind.PADDING], padding)
    np.testing.assert_array_equal(
        masks[MaskKind.CAUSAL], np.broadcast_to(causal_mask(S), (2, S, S))
    )
    np.testing.assert_array_equal(
        masks[MaskKind.PADDING_AND_CAUSAL], masks[MaskKind.PADDING] & masks[MaskKind.CAUSAL]
    )
    # The causal upper triangle is forbidden for every sentence.
    upper = np.triu_indices(S, k=1)
    assert not masks[MaskKind.CAUSAL][:, upper[0], upper[1]].any()
    # A value string names the same kind as the member.
    np.testing.assert_array_equal(compute.attention_mask("padding", valid_lens, S), padding)
    with pytest.raises(ValueError) as error:
        compute.attention_mask("lookahead", valid_lens, S)
    assert str(error.value) == (
        "kind must be one of 'none', 'padding', 'causal', 'padding + causal', got 'lookahead'"
    )
    with pytest.raises(ValueError) as error:
        compute.attention_mask(MaskKind.PADDING, np.array([[2, 4]]), S)
    assert str(error.value) == "valid_lens must be a 1-D list of lengths (B,), got shape (1, 2)"
    with pytest.raises(ValueError, match=r"\[0, 4\]"):
        compute.attention_mask(MaskKind.PADDING, np.array([5]), S)


def test_left_padding_with_padding_and_causal_leaves_the_first_pad_queries_empty():
    mask = compute.attention_mask(MaskKind.PADDING_AND_CAUSAL, np.array([2]), 4, PaddingSide.LEFT)[
        0
    ]
    # Keys 2 and 3 are real; queries 0 and 1 (padding) may only look at keys 0..i: padding.
    np.testing.assert_array_equal(mask.any(axis=-1), [False, False, True, True])


def test_mask_padding_queries_and_additive_mask():
    allowed = compute.attention_mask(MaskKind.PADDING, np.array([2]), 3)[0]
    real = compute.key_padding_mask(np.array([2]), 3)[0]
    both = compute.mask_padding_queries(allowed, real)
    np.testing.assert_array_equal(both, [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(allowed, [[1, 1, 0]] * 3)  # the input is untouched
    additive = compute.additive_mask(both)
    np.testing.assert_array_equal(additive[:2], [[0, 0, -np.inf]] * 2)
    assert np.isneginf(additive[2]).all()
    with pytest.raises(ValueError) as error:
        compute.additive_mask(both.astype(int))
    assert str(error.value) == "allowed must be boolean (True/False), got dtype int64"
    with pytest.raises(ValueError) as error:
        compute.mask_padding_queries(allowed.astype(float), real)
    assert str(error.value) == "allowed must be boolean (True/False), got dtype float64"
    with pytest.raises(ValueError) as error:
        compute.mask_padding_queries(allowed, real.astype(np.int8))
    assert str(error.value) == "real must be boolean (True/False), got dtype int8"


def test_torch_key_padding_conversion_is_the_logical_not():
    real = compute.key_padding_mask(np.array([1, 3]), 3)
    ignored = compute.to_torch_key_padding_mask(real)
    torch_style = torch.arange(3)[None, :] >= torch.tensor([1, 3])[:, None]  # True = padding
    np.testing.assert_array_equal(ignored, torch_style.numpy())
    np.testing.assert_array_equal(compute.from_torch_key_padding_mask(ignored), real)
    with pytest.raises(ValueError) as error:
        compute.to_torch_key_padding_mask(real.astype(np.int8))
    assert str(error.value) == "real must be boolean (True/False), got dtype int8"
    with pytest.raises(ValueError) as error:
        compute.from_torch_key_padding_mask(ignored.astype(float))
    assert str(error.value) == "ignored must be boolean (True/False), got dtype float64"


def test_config_rejects_bad_values_and_takes_a_side_by_its_value():
    with pytest.raises(ValueError) as error:
        MaskingConfig(d_model=0)
    assert str(error.value) == "d_model must be at least 1, got 0"
    with pytest.raises(ValueError) as error:
        MaskingConfig(d_model=17)
    assert str(error.value) == "d_model must be at most 16, got 17"
    with pytest.raises(ValueError) as error:
        MaskingConfig(seed=-1)
    assert str(error.value) == "seed must be at least 0, got -1"
    with pytest.raises(ValueError) as error:
        MaskingConfig(padding_side="top")
    assert str(error.value) == "padding_side must be one of 'right', 'left', got 'top'"
    assert MaskingConfig(padding_side="left").padding_side is PaddingSide.LEFT


# ---------------------------------------------------------------- attention on the batch


@pytest.mark.parametrize("kind", list(MaskKind))
def test_batch_attention_invariants(batch, side, kind):
    attention = compute.batch_attention(batch, kind, config_for(side))
    weights, allowed = attention.weights, attention.allowed
    assert weights.shape == allowed.shape == (batch.B, batch.S, batch.S)
    assert np.all(weights[~allowed] == 0)  # exactly 0, not small
    has_key = allowed.any(axis=-1)
    np.testing.assert_allclose(weights.sum(axis=-1)[has_key], 1.0, atol=1e-12)
    assert np.all(weights[~has_key] == 0) and np.all(attention.output[~has_key] == 0)
    if kind.causal:
        upper = np.triu(np.ones((batch.S, batch.S), dtype=bool), k=1)
        assert np.all(weights[:, upper] == 0)
    if kind.padding:
        assert np.all(attention.weight_on_padding == 0)
    np.testing.assert_array_equal(attention.fully_masked, ~has_key)


@pytest.mark.parametrize("kind", list(MaskKind))
def test_batch_attention_keeps_every_stage(batch, side, kind):
    """x, the scores and the kind are what the page reads: each checked against its definition."""
    config = config_for(side, d_model=5, seed=7)
    attention = compute.batch_attention(batch, kind.value, config)
    assert attention.kind is kind and attention.batch is batch
    for b, tokens in enumerate(batch.tokens):
        np.testing.assert_array_equal(attention.x[b], embed(tokens, 5, 7))
    w_q, w_k, w_v = projection_matrices(5, 7)
    np.testing.assert_array_equal(attention.q, attention.x @ w_q)
    np.testing.assert_array_equal(attention.v, attention.x @ w_v)
    expected = attention.q @ np.swapaxes(attention.x @ w_k, -1, -2) / math.sqrt(5)
    np.testing.assert_allclose(attention.scores, expected, rtol=1e-12, atol=1e-12)
    # The weights are the masked softmax of exactly these scores.
    np.testing.assert_allclose(
        attention.weights, masked_softmax(attention.scores, attention.allowed), atol=1e-12
    )
    np.testing.assert_allclose(attention.output, attention.weights @ attention.v, atol=1e-12)


def test_every_weight_goes_through_the_safe_softmax_the_page_prints(monkeypatch, batch, side):
    """The page says every weights heatmap of section 2 went through lab.attention._safe_softmax."""
    from lab import attention as lab_attention

    calls = []
    original = lab_attention._safe_softmax

    def counting(scores, axis):
        calls.append(scores.shape)
        return original(scores, axis)

    monkeypatch.setattr(lab_attention, "_safe_softmax", counting)
    for kind in MaskKind:
        compute.batch_attention(batch, kind, config_for(side))
    assert calls == [(batch.B, batch.S, batch.S)] * len(MaskKind)


def test_weight_on_padding_adds_the_padding_columns(batch, side):
    attention = compute.batch_attention(batch, MaskKind.NONE, config_for(side))
    padding_keys = ~batch.real  # (B, S)
    for b in range(batch.B):
        expected = attention.weights[b][:, padding_keys[b]].sum(axis=-1)
        np.testing.assert_allclose(attention.weight_on_padding[b], expected, atol=1e-15)


def test_the_empty_sentence_is_fully_masked_under_padding(batch, side):
    attention = compute.batch_attention(batch, MaskKind.PADDING, config_for(side))
    assert attention.fully_masked[3].all()  # "" has no real token
    assert not attention.fully_masked[:3].any()
    none = compute.batch_attention(batch, MaskKind.NONE, config_for(side))
    assert not none.fully_masked.any()
    np.testing.assert_allclose(none.weights[3].sum(axis=-1), 1.0)  # padding reads padding
    # Every key of the empty sentence is the same <pad> vector: each row is uniform.
    np.testing.assert_allclose(none.weights[3], 1 / batch.S, rtol=1e-12)


def test_without_a_mask_the_real_words_read_the_padding(batch, side):
    attention = compute.batch_attention(batch, MaskKind.NONE, config_for(side))
    real_rows = batch.real[1]  # "dogs bark": 2 real tokens, 4 pads
    assert np.all(attention.weight_on_padding[1][real_rows] > 0.1)


def test_batch_attention_needs_positions_and_a_matching_side():
    with pytest.raises(ValueError) as error:
        compute.batch_attention(compute.pad_batch([(), ()]), MaskKind.PADDING)
    assert str(error.value) == (
        "every sentence of the batch is empty: there is nothing to attend to"
    )
    with pytest.raises(ValueError) as error:
        compute.batch_attention(
            compute.pad_batch([("a",)], padding_side="left"), "padding", MaskingConfig()
        )
    assert str(error.value) == (
        "the batch is padded on the left but the config says right; pad it with "
        "pad_batch(..., padding_side=config.padding_side)"
    )
    with pytest.raises(ValueError) as error:
        compute.batch_attention(compute.pad_batch([("a",)]), "lookahead")
    assert str(error.value) == (
        "kind must be one of 'none', 'padding', 'causal', 'padding + causal', got 'lookahead'"
    )


def torch_weights_and_output(q, k, v, attn_mask):
    """torch SDPA in float64, and its weights (SDPA applied to an identity value)."""
    q_t, k_t, v_t = (torch.tensor(array) for array in (q, k, v))
    mask_t = torch.tensor(attn_mask)
    output = F.scaled_dot_product_attention(q_t, k_t, v_t, attn_mask=mask_t)
    eye = torch.eye(k.shape[-2], dtype=torch.float64).expand(k.shape[0], -1, -1)
    weights = F.scaled_dot_product_attention(q_t, k_t, eye, attn_mask=mask_t)
    return weights.numpy(), output.numpy()


@pytest.mark.parametrize("kind", list(MaskKind))
def test_matches_torch_sdpa_with_boolean_and_float_masks(batch, side, kind):
    attention = compute.batch_attention(batch, kind, config_for(side, d_model=5, seed=3))
    q, k, v = attention.q, attention.k, attention.v
    for mask in (attention.allowed, compute.additive_mask(attention.allowed)):
        weights, output = torch_weights_and_output(q, k, v, mask)
        has_key = attention.allowed.any(axis=-1)
        np.testing.assert_allclose(attention.output, output, atol=ATOL, rtol=RTOL)
        np.testing.assert_allclose(
            attention.weights[has_key], weights[has_key], atol=ATOL, rtol=RTOL
        )
        if mask.dtype == np.bool_:
            # torch 2.13's SDPA also gives zeros (not NaN) to a query with no allowed key.
            assert np.all(weights[~has_key] == 0) and np.all(output[~has_key] == 0)


def test_sdpa_with_a_padding_mask_of_shape_b_1_s(batch, side):
    """A (B, 1, S) key mask broadcasts over the queries, as the page's torch code uses it."""
    attention = compute.batch_attention(batch, MaskKind.PADDING, config_for(side))
    real = torch.arange(batch.S)[None, :] < torch.tensor(batch.valid_lens)[:, None]
    if side is PaddingSide.LEFT:
        real = real.flip(-1)
    tensors = [torch.tensor(array) for array in (attention.q, attention.k, attention.v)]
    output = F.scaled_dot_product_attention(*tensors, attn_mask=real[:, None, :])
    np.testing.assert_allclose(attention.output, output.numpy(), atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("kind", [MaskKind.PADDING, MaskKind.PADDING_AND_CAUSAL])
def test_matches_multihead_attention_with_the_converted_key_padding_mask(side, kind):
    batch = compute.pad_batch(
        tokens_of(*SENTENCES[:3]), padding_side=side
    )  # no all-padding sentence
    config = config_for(side, d_model=6, seed=2)
    attention = compute.batch_attention(batch, kind, config)
    mha = multihead_from(config)
    x = torch.tensor(compute.embed_batch(batch, config))
    key_padding = torch.tensor(compute.to_torch_key_padding_mask(batch.real))  # True = ignore
    attn_mask = None
    if kind.causal:
        attn_mask = torch.tensor(~causal_mask(batch.S))  # also True = ignore in MHA
    has_key = attention.allowed.any(axis=-1)
    with torch.no_grad():
        output, weights = mha(x, x, x, key_padding_mask=key_padding, attn_mask=attn_mask)
    np.testing.assert_allclose(
        attention.output[has_key], output.numpy()[has_key], atol=ATOL, rtol=RTOL
    )
    np.testing.assert_allclose(
        attention.weights[has_key], weights.numpy()[has_key], atol=ATOL, rtol=RTOL
    )


def test_multihead_attention_with_the_unconverted_mask_attends_to_padding_only():
    """The page's claim: nn.MultiheadAttention's key_padding_mask means True = ignore."""
    batch = compute.pad_batch(tokens_of("the cat sat on the mat", "dogs bark"))
    config = config_for(PaddingSide.RIGHT)
    mha = multihead_from(config)
    x = torch.tensor(compute.embed_batch(batch, config))
    with torch.no_grad():
        _, wrong = mha(x, x, x, key_padding_mask=torch.tensor(batch.real))  # not converted
    ours = compute.batch_attention(batch, MaskKind.PADDING, config).weights
    assert not np.allclose(wrong.numpy()[1], ours[1])
    # "dogs bark": the real keys 0 and 1 get nothing, the four <pad> keys everything.
    np.testing.assert_array_equal(wrong.numpy()[1][:, :2], 0.0)
    np.testing.assert_allclose(wrong.numpy()[1][:, 2:].sum(axis=-1), 1.0)


def test_multihead_attention_boolean_attn_mask_means_ignore_too():
    """The page's claim: a boolean attn_mask of nn.MultiheadAttention is True = ignore."""
    batch = compute.pad_batch(tokens_of("the cat sat on"))
    config = config_for(PaddingSide.RIGHT)
    mha = multihead_from(config)
    x = torch.tensor(compute.embed_batch(batch, config))
    lower = torch.tensor(causal_mask(batch.S))  # True on and below the diagonal
    with torch.no_grad():
        _, weights = mha(x, x, x, attn_mask=lower)  # SDPA's convention, passed as is
    # Each query ignores keys j <= i and attends only to the later ones (the last row has none).
    upper = np.triu(np.ones((4, 4), dtype=bool), k=1)
    assert np.all(weights.numpy()[0][:3][~upper[:3]] == 0)
    np.testing.assert_allclose(weights.numpy()[0][:3].sum(axis=-1), 1.0)
