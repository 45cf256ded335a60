"""lab.masking and lab.masking_charts: masks against torch, leakage, and the wrong ways failing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lab import legacy_charts as charts
from lab.attention import causal_mask, masked_softmax
from lab.masking import (
    MASK_KINDS,
    METHODS,
    PAD,
    MaskingConfig,
    MethodResult,
    additive_mask,
    attention_mask,
    batch_attention,
    compare_masking_methods,
    embed_batch,
    from_torch_key_padding_mask,
    key_padding_mask,
    leakage_probe,
    mask_padding_queries,
    naive_masked_softmax,
    naive_softmax,
    output_change,
    pad_batch,
    softmax_fill_large_negative,
    softmax_then_multiply_mask,
    stored_fill_value,
    to_torch_key_padding_mask,
)
from lab.masking_charts import (
    NAN_COLOR,
    ZERO_COLOR,
    batch_grid,
    leakage_heatmap,
    mask_heatmap,
    method_heatmap,
    sentence_weights_heatmap,
)
from lab.self_attention import projection_matrices
from lab.text import tokenize

# torch's own float32 tolerances (torch.testing.assert_close defaults), used on float64 inputs.
ATOL, RTOL = 1e-5, 1.3e-6

SENTENCES = ("the cat sat on the mat", "dogs bark", "a small bird sings", "")


def tokens_of(*sentences: str) -> list[tuple[str, ...]]:
    return [tokenize(sentence).tokens for sentence in sentences]


@pytest.fixture(params=["right", "left"])
def side(request):
    return request.param


@pytest.fixture
def batch(side):
    return pad_batch(tokens_of(*SENTENCES), padding_side=side)


def config_for(side: str, d_model: int = 4, seed: int = 0) -> MaskingConfig:
    return MaskingConfig(d_model=d_model, seed=seed, padding_side=side)


# ---------------------------------------------------------------- padding and masks


def test_pad_batch_pads_to_the_longest_on_either_side():
    sentences = tokens_of("a b c", "d", "")
    right = pad_batch(sentences)
    assert right.tokens == (("a", "b", "c"), ("d", PAD, PAD), (PAD, PAD, PAD))
    left = pad_batch(sentences, padding_side="left")
    assert left.tokens == (("a", "b", "c"), (PAD, PAD, "d"), (PAD, PAD, PAD))
    for batch in (right, left):
        assert batch.valid_lens.tolist() == [3, 1, 0]
        assert (batch.B, batch.S) == (3, 3)
    np.testing.assert_array_equal(right.real, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(left.real, [[1, 1, 1], [0, 0, 1], [0, 0, 0]])
    assert right.last_real(1) == 0 and left.last_real(1) == 2
    assert right.last_real(2) is None and left.first_real(1) == 2


def test_pad_batch_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one sentence"):
        pad_batch([])
    with pytest.raises(ValueError, match="not one string"):
        pad_batch("the cat")
    with pytest.raises(ValueError, match="padding_side"):
        pad_batch([["a"]], padding_side="middle")


def test_replaced_swaps_one_token_and_keeps_the_lengths(batch):
    changed = batch.replaced(1, 0, "zebra")
    assert changed.tokens[1][0] == "zebra" and batch.tokens[1][0] != "zebra"
    assert changed.tokens[0] == batch.tokens[0]
    np.testing.assert_array_equal(changed.valid_lens, batch.valid_lens)
    with pytest.raises(ValueError, match="position"):
        batch.replaced(0, batch.S, "x")
    with pytest.raises(ValueError, match="sentence"):
        batch.replaced(9, 0, "x")


def test_key_padding_mask_matches_a_torch_built_mask_on_both_sides():
    valid_lens = np.array([3, 0, 5, 1])
    right = torch.arange(5)[None, :] < torch.tensor(valid_lens)[:, None]
    left = torch.arange(5)[None, :] >= 5 - torch.tensor(valid_lens)[:, None]
    np.testing.assert_array_equal(key_padding_mask(valid_lens, 5), right.numpy())
    np.testing.assert_array_equal(key_padding_mask(valid_lens, 5, "left"), left.numpy())


def test_attention_mask_kinds():
    valid_lens, S = np.array([2, 4]), 4
    keys = key_padding_mask(valid_lens, S)
    tril = causal_mask(S)
    masks = {kind: attention_mask(kind, valid_lens, S) for kind in MASK_KINDS}
    assert all(mask.shape == (2, S, S) and mask.dtype == np.bool_ for mask in masks.values())
    assert masks["none"].all()
    np.testing.assert_array_equal(masks["padding"], np.broadcast_to(keys[:, None, :], (2, S, S)))
    np.testing.assert_array_equal(masks["causal"], np.broadcast_to(tril, (2, S, S)))
    np.testing.assert_array_equal(masks["padding + causal"], masks["padding"] & masks["causal"])
    # The causal upper triangle is forbidden for every sentence.
    assert not masks["causal"][:, np.triu_indices(S, k=1)[0], np.triu_indices(S, k=1)[1]].any()
    with pytest.raises(ValueError, match="kind must be one of"):
        attention_mask("lookahead", valid_lens, S)
    with pytest.raises(ValueError, match="1-D"):
        attention_mask("padding", np.array([[2, 4]]), S)
    with pytest.raises(ValueError, match=r"\[0, 4\]"):
        attention_mask("padding", np.array([5]), S)


def test_left_padding_with_padding_and_causal_leaves_the_first_pad_queries_empty():
    mask = attention_mask("padding + causal", np.array([2]), 4, "left")[0]
    # Keys 2 and 3 are real; queries 0 and 1 (padding) may only look at keys 0..i: padding.
    np.testing.assert_array_equal(mask.any(axis=-1), [False, False, True, True])


def test_mask_padding_queries_and_additive_mask():
    allowed = attention_mask("padding", np.array([2]), 3)[0]
    real = key_padding_mask(np.array([2]), 3)[0]
    both = mask_padding_queries(allowed, real)
    np.testing.assert_array_equal(both, [[1, 1, 0], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(allowed, [[1, 1, 0]] * 3)  # the input is untouched
    additive = additive_mask(both)
    assert additive[0, 0] == 0 and np.isneginf(additive[2]).all()
    with pytest.raises(ValueError, match="boolean"):
        additive_mask(both.astype(int))
    with pytest.raises(ValueError, match="boolean"):
        mask_padding_queries(allowed.astype(float), real)


def test_torch_key_padding_conversion_is_the_logical_not():
    real = key_padding_mask(np.array([1, 3]), 3)
    ignored = to_torch_key_padding_mask(real)
    torch_style = torch.arange(3)[None, :] >= torch.tensor([1, 3])[:, None]  # True = padding
    np.testing.assert_array_equal(ignored, torch_style.numpy())
    np.testing.assert_array_equal(from_torch_key_padding_mask(ignored), real)
    with pytest.raises(ValueError, match="boolean"):
        to_torch_key_padding_mask(real.astype(np.int8))


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="d_model"):
        MaskingConfig(d_model=0)
    with pytest.raises(ValueError, match="d_model"):
        MaskingConfig(d_model=17)
    with pytest.raises(ValueError, match="padding_side"):
        MaskingConfig(padding_side="top")


# ---------------------------------------------------------------- attention on the batch


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_batch_attention_invariants(batch, side, kind):
    attention = batch_attention(batch, kind, config_for(side))
    weights, allowed = attention.weights, attention.allowed
    assert weights.shape == allowed.shape == (batch.B, batch.S, batch.S)
    assert np.all(weights[~allowed] == 0)  # exactly 0, not small
    has_key = allowed.any(axis=-1)
    np.testing.assert_allclose(weights.sum(axis=-1)[has_key], 1.0, atol=1e-12)
    assert np.all(weights[~has_key] == 0) and np.all(attention.output[~has_key] == 0)
    if "causal" in kind:
        upper = np.triu(np.ones((batch.S, batch.S), dtype=bool), k=1)
        assert np.all(weights[:, upper] == 0)
    if "padding" in kind:
        assert np.all(attention.weight_on_padding == 0)
    np.testing.assert_array_equal(attention.fully_masked, ~has_key)


def test_the_empty_sentence_is_fully_masked_under_padding(batch, side):
    attention = batch_attention(batch, "padding", config_for(side))
    assert attention.fully_masked[3].all()  # "" has no real token
    assert not attention.fully_masked[:3].any()
    none = batch_attention(batch, "none", config_for(side))
    assert not none.fully_masked.any()
    np.testing.assert_allclose(none.weights[3].sum(axis=-1), 1.0)  # padding reads padding


def test_without_a_mask_the_real_words_read_the_padding(batch, side):
    attention = batch_attention(batch, "none", config_for(side))
    real_rows = batch.real[1]  # "dogs bark": 2 real tokens, 4 pads
    assert np.all(attention.weight_on_padding[1][real_rows] > 0)


def test_batch_attention_needs_positions_and_a_matching_side():
    with pytest.raises(ValueError, match="empty"):
        batch_attention(pad_batch([(), ()]), "padding")
    with pytest.raises(ValueError, match="padded on the left"):
        batch_attention(pad_batch([("a",)], padding_side="left"), "padding", MaskingConfig())


def torch_weights_and_output(q, k, v, attn_mask):
    """torch SDPA in float64, and its weights (SDPA applied to an identity value)."""
    q_t, k_t, v_t = (torch.tensor(array) for array in (q, k, v))
    mask_t = torch.tensor(attn_mask)
    output = F.scaled_dot_product_attention(q_t, k_t, v_t, attn_mask=mask_t)
    eye = torch.eye(k.shape[-2], dtype=torch.float64).expand(k.shape[0], -1, -1)
    weights = F.scaled_dot_product_attention(q_t, k_t, eye, attn_mask=mask_t)
    return weights.numpy(), output.numpy()


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_matches_torch_sdpa_with_boolean_and_float_masks(batch, side, kind):
    attention = batch_attention(batch, kind, config_for(side, d_model=5, seed=3))
    q, k, v = attention.q, attention.k, attention.v
    for mask in (attention.allowed, additive_mask(attention.allowed)):
        weights, output = torch_weights_and_output(q, k, v, mask)
        has_key = attention.allowed.any(axis=-1)
        np.testing.assert_allclose(attention.output, output, atol=ATOL, rtol=RTOL)
        np.testing.assert_allclose(
            attention.weights[has_key], weights[has_key], atol=ATOL, rtol=RTOL
        )
        if mask.dtype == np.bool_:
            # torch 2.13's SDPA also gives zeros (not NaN) to a query with no allowed key.
            assert np.all(weights[~has_key] == 0) and np.all(output[~has_key] == 0)


def test_sdpa_with_a_padding_mask_of_shape_b_1_s_as_on_the_page(batch, side):
    """The page's snippet: attn_mask=real[:, None, :] broadcasts over the queries."""
    attention = batch_attention(batch, "padding", config_for(side))
    real = torch.arange(batch.S)[None, :] < torch.tensor(batch.valid_lens)[:, None]
    if side == "left":
        real = real.flip(-1)
    tensors = [torch.tensor(array) for array in (attention.q, attention.k, attention.v)]
    output = F.scaled_dot_product_attention(*tensors, attn_mask=real[:, None, :])
    np.testing.assert_allclose(attention.output, output.numpy(), atol=ATOL, rtol=RTOL)


def multihead_from(config: MaskingConfig) -> torch.nn.MultiheadAttention:
    """A one-head nn.MultiheadAttention with our W_q, W_k, W_v and no output mixing."""
    d = config.d_model
    mha = torch.nn.MultiheadAttention(d, 1, bias=False, batch_first=True, dtype=torch.float64)
    w_q, w_k, w_v = projection_matrices(d, config.seed)
    with torch.no_grad():
        # nn.Linear computes x @ W.T, and our projections are x @ w, so W = w.T.
        mha.in_proj_weight.copy_(torch.tensor(np.concatenate([w_q.T, w_k.T, w_v.T])))
        mha.out_proj.weight.copy_(torch.eye(d, dtype=torch.float64))
    return mha


@pytest.mark.parametrize("kind", ["padding", "padding + causal"])
def test_matches_multihead_attention_with_the_converted_key_padding_mask(side, kind):
    batch = pad_batch(tokens_of(*SENTENCES[:3]), padding_side=side)  # no all-padding sentence
    config = config_for(side, d_model=6, seed=2)
    attention = batch_attention(batch, kind, config)
    mha = multihead_from(config)
    x = torch.tensor(embed_batch(batch, config))
    key_padding = torch.tensor(to_torch_key_padding_mask(batch.real))  # True = ignore
    attn_mask = None
    if "causal" in kind:
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
    batch = pad_batch(tokens_of("the cat sat on the mat", "dogs bark"))
    config = config_for("right")
    mha = multihead_from(config)
    x = torch.tensor(embed_batch(batch, config))
    with torch.no_grad():
        _, wrong = mha(x, x, x, key_padding_mask=torch.tensor(batch.real))  # not converted
    ours = batch_attention(batch, "padding", config).weights
    assert not np.allclose(wrong.numpy()[1], ours[1])
    # "dogs bark": the real keys 0 and 1 get nothing, the four <pad> keys everything.
    np.testing.assert_array_equal(wrong.numpy()[1][:, :2], 0.0)
    np.testing.assert_allclose(wrong.numpy()[1][:, 2:].sum(axis=-1), 1.0)


def test_multihead_attention_gives_nan_for_an_all_padding_sentence():
    """What the page says about nn.MultiheadAttention's general path (torch 2.13)."""
    batch = pad_batch(tokens_of("dogs bark", ""))
    config = config_for("right")
    mha = multihead_from(config)
    x = torch.tensor(embed_batch(batch, config))
    key_padding = torch.tensor(to_torch_key_padding_mask(batch.real))
    with torch.no_grad():
        output, _ = mha(x, x, x, key_padding_mask=key_padding, need_weights=True)
    assert torch.isnan(output[1]).all() and not torch.isnan(output[0]).any()
    ours = batch_attention(batch, "padding", config).output
    assert np.all(ours[1] == 0)


# ---------------------------------------------------------------- leakage


def test_output_change():
    before = np.zeros((3, 2))
    after = np.array([[0.0, 0.0], [0.5, -2.0], [0.0, 1e-300]])
    np.testing.assert_array_equal(output_change(before, after), [0.0, 2.0, 1e-300])
    with pytest.raises(ValueError, match="shape"):
        output_change(np.zeros((3, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="position axis"):
        output_change(np.zeros(3), np.zeros(3))


def test_changing_the_last_word_leaks_backwards_only_without_a_causal_mask(side):
    batch = pad_batch(tokens_of(*SENTENCES), padding_side=side)
    last = batch.last_real(0)
    probe = leakage_probe(batch, 0, last, "dog", config_for(side))
    assert probe.old_token == "mat" and probe.changes.shape == (len(MASK_KINDS), batch.S)
    for kind in ("causal", "padding + causal"):
        assert np.all(probe.earlier(kind) == 0.0)  # exactly 0, not small
        assert probe.max_earlier(kind) == 0.0
    for kind in ("none", "padding"):
        assert np.all(probe.earlier(kind) > 0)
    assert np.all(probe.changes[:, last] > 0)  # the changed position itself always moves


def test_garbage_in_the_padding_reaches_real_words_only_without_a_padding_mask(side):
    batch = pad_batch(tokens_of("the cat sat on the mat", "dogs bark"), padding_side=side)
    pad_position = 3 if side == "right" else 0
    assert batch.tokens[1][pad_position] == PAD
    probe = leakage_probe(batch, 1, pad_position, "zebra", config_for(side))
    real = batch.real[1]
    assert probe.max_at("padding", real) == 0.0
    assert probe.max_at("padding + causal", real) == 0.0
    assert probe.max_at("none", real) > 0
    # Right padding comes after the words, so causal alone hides it; left padding does not.
    causal = probe.max_at("causal", real)
    assert causal == 0.0 if side == "right" else causal > 0


def test_leakage_probe_checks_its_arguments(batch):
    with pytest.raises(ValueError, match="non-empty"):
        leakage_probe(batch, 0, 0, "")
    with pytest.raises(ValueError, match="position"):
        leakage_probe(batch, 0, 99, "x", config_for(batch.padding_side))
    probe = leakage_probe(batch, 0, 1, "x", config_for(batch.padding_side), kinds=("causal",))
    with pytest.raises(ValueError, match="kind"):
        probe.row("none")
    with pytest.raises(ValueError, match="shape"):
        probe.max_at("causal", [True])


@st.composite
def leakage_case(draw):
    words = st.sampled_from(["the", "cat", "sat", "on", "mat", "dog", "a", "ran"])
    lengths = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    sentences = [tuple(draw(words) for _ in range(length)) for length in lengths]
    sentence = draw(st.integers(0, len(sentences) - 1))
    side = draw(st.sampled_from(["right", "left"]))
    batch = pad_batch(sentences, padding_side=side)
    position = draw(st.integers(0, batch.S - 1))
    new_token = draw(st.sampled_from(["zebra", "quantum", PAD]))
    seed = draw(st.integers(0, 50))
    d_model = draw(st.integers(1, 8))
    return batch, sentence, position, new_token, config_for(side, d_model, seed)


@settings(max_examples=60, deadline=None)
@given(leakage_case())
def test_property_a_causal_mask_leaks_exactly_nothing_backwards(case):
    batch, sentence, position, new_token, config = case
    probe = leakage_probe(batch, sentence, position, new_token, config)
    for kind in ("causal", "padding + causal"):
        assert np.all(probe.earlier(kind) == 0.0)
    # Other sentences of the batch never change, whatever the mask.
    for kind in MASK_KINDS:
        before = batch_attention(batch, kind, config).output
        after = batch_attention(batch.replaced(sentence, position, new_token), kind, config)
        others = np.arange(batch.B) != sentence
        np.testing.assert_array_equal(before[others], after.output[others])


# ---------------------------------------------------------------- the wrong ways

SCORES = np.array([[2.0, 1.0, -1.0, 0.5], [0.3, -0.2, 1.5, 0.0], [1.0, 2.0, 3.0, 4.0]])
ALLOWED = np.array([[True, True, False, False], [True, False, True, True], [False] * 4])


def test_naive_softmax_is_torch_softmax_nan_included():
    scores = np.vstack([SCORES, np.full(4, -np.inf)])
    expected = torch.softmax(torch.tensor(scores), dim=-1).numpy()
    np.testing.assert_allclose(naive_softmax(scores), expected, atol=1e-12, equal_nan=True)
    assert np.isnan(naive_softmax(scores)[-1]).all()


def test_naive_masked_softmax_is_right_except_on_an_empty_row():
    naive = naive_masked_softmax(SCORES, ALLOWED)
    right = masked_softmax(SCORES, ALLOWED)
    np.testing.assert_allclose(naive[:2], right[:2], atol=1e-12)
    assert np.isnan(naive[2]).all() and np.all(right[2] == 0)


def test_minus_1e9_fill_is_right_on_ordinary_rows_and_uniform_on_an_empty_row():
    # -1e9 is deliberate: this test shows the wrong way failing.
    weights = softmax_fill_large_negative(SCORES, ALLOWED, fill=-1e9, dtype=np.float32)
    assert weights.dtype == np.float32
    right = masked_softmax(SCORES, ALLOWED)
    np.testing.assert_allclose(weights[:2], right[:2], atol=1e-6)
    assert np.all(weights[:2][~ALLOWED[:2]] == 0)  # exp(-1e9) underflows to exactly 0
    np.testing.assert_allclose(weights[2], 0.25, rtol=1e-6)  # uniform, not empty
    # The same as what people write in torch: masked_fill(~mask, -1e9) then softmax.
    scores_t = torch.tensor(SCORES, dtype=torch.float32)
    filled = scores_t.masked_fill(~torch.tensor(ALLOWED), -1e9)
    expected = torch.softmax(filled, dim=-1).numpy()
    np.testing.assert_allclose(weights, expected, atol=1e-6)


# Big negative fills on purpose: the wrong way, shown failing.
@pytest.mark.parametrize("fill", [-1e6, -1e4])
def test_other_big_fills_are_also_uniform_on_an_empty_row(fill):
    weights = softmax_fill_large_negative(SCORES, ALLOWED, fill=fill, dtype=np.float32)
    np.testing.assert_allclose(weights[2], 0.25, rtol=1e-6)


def test_minus_1e9_overflows_in_float16():
    # -1e9 throughout on purpose: this test demonstrates the wrong way's overflow.
    assert np.finfo(np.float16).min == -65504
    assert stored_fill_value(-1e9, np.float16) == -np.inf
    assert stored_fill_value(-1e6, np.float16) == -np.inf
    assert stored_fill_value(-1e4, np.float16) == -1e4
    assert stored_fill_value(-1e9, np.float32) == -1e9
    # torch agrees: the cast overflows to -inf, and masked_fill refuses outright.
    assert torch.tensor(-1e9).half().item() == float("-inf")
    half_scores = torch.tensor(SCORES, dtype=torch.float16)
    with pytest.raises(RuntimeError, match="overflow"):
        half_scores.masked_fill(~torch.tensor(ALLOWED), -1e9)
    # So in float16 the "safe" big number is -inf, and an empty row becomes NaN.
    weights = softmax_fill_large_negative(SCORES, ALLOWED, fill=-1e9, dtype=np.float16)
    assert weights.dtype == np.float16
    assert np.isnan(weights[2]).all()
    np.testing.assert_allclose(weights[:2], masked_softmax(SCORES, ALLOWED)[:2], atol=2e-3)
    # -1e4 fits in float16: no NaN, but the empty row is uniform again.
    fits = softmax_fill_large_negative(SCORES, ALLOWED, fill=-1e4, dtype=np.float16)
    np.testing.assert_allclose(fits[2].astype(float), 0.25, rtol=1e-3)


def test_multiplying_after_the_softmax_loses_the_masked_weight():
    weights = softmax_then_multiply_mask(SCORES, ALLOWED)
    full = torch.softmax(torch.tensor(SCORES), dim=-1).numpy()
    np.testing.assert_allclose(weights, full * ALLOWED, atol=1e-12)
    assert np.all(weights[~ALLOWED] == 0)
    lost = (full * ~ALLOWED).sum(axis=-1)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0 - lost, atol=1e-12)
    assert np.all(weights.sum(axis=-1)[:2] < 0.999)


def test_the_wrong_ways_do_not_modify_their_inputs():
    scores, allowed = SCORES.copy(), ALLOWED.copy()
    for function in (naive_masked_softmax, softmax_then_multiply_mask):
        function(scores, allowed)
    softmax_fill_large_negative(scores, allowed, dtype=np.float16)
    compare_masking_methods(scores, allowed)
    np.testing.assert_array_equal(scores, SCORES)
    np.testing.assert_array_equal(allowed, ALLOWED)


@pytest.mark.parametrize(
    ("dtype", "large_negative"), [(np.float32, "uniform"), (np.float16, "nan")]
)
def test_compare_masking_methods_reports_each_failure(dtype, large_negative):
    results = {r.method: r for r in compare_masking_methods(SCORES, ALLOWED, dtype=dtype)}
    assert tuple(results) == METHODS
    assert [results[m].fully_masked_outcome() for m in METHODS] == [
        "zeros",
        "nan",
        large_negative,
        "zeros",
    ]
    assert [results[m].partial_rows_ok() for m in METHODS] == [True, True, True, False]
    np.testing.assert_array_equal(results["naive"].nan_rows, [False, False, True])
    assert np.all(results["right"].masked_weight == 0)
    np.testing.assert_allclose(results["right"].row_sums, [1.0, 1.0, 0.0])


def test_method_result_without_an_empty_row_and_with_other_weights():
    allowed = ALLOWED[:2]
    result = MethodResult("right", masked_softmax(SCORES[:2], allowed), allowed)
    assert result.fully_masked_outcome() is None and result.partial_rows_ok()
    odd = MethodResult("x", np.array([[0.7, 0.3]]), np.array([[False, False]]))
    assert odd.fully_masked_outcome() == "other"


def test_compare_masking_methods_rejects_bad_input():
    with pytest.raises(ValueError, match="boolean"):
        compare_masking_methods(SCORES, ALLOWED.astype(int))
    with pytest.raises(ValueError, match="one shape"):
        compare_masking_methods(SCORES, ALLOWED[:2])
    with pytest.raises(ValueError, match="finite"):
        compare_masking_methods(np.where(ALLOWED, SCORES, -np.inf), ALLOWED)


# ---------------------------------------------------------------- charts


def layer_specs(chart) -> list[dict]:
    return chart.to_dict()["layer"]


def data_of(chart) -> list[dict]:
    datasets = list(chart.to_dict()["datasets"].values())
    assert len(datasets) == 1
    return datasets[0]


def test_batch_grid_has_a_cell_per_token_and_greys_the_padding():
    batch = pad_batch(tokens_of("the cat", "a"))
    chart = batch_grid(batch.tokens, batch.real, title="batch")
    rows = data_of(chart)
    assert len(rows) == 4
    pad_cell = next(row for row in rows if row["sentence"] == 1 and row["position"] == 1)
    assert pad_cell["token"] == PAD and pad_cell["kind"] == "padding"
    assert pad_cell["fill"] == charts.MASKED_COLOR
    with pytest.raises(ValueError, match="rows"):
        batch_grid(batch.tokens[:1], batch.real)
    with pytest.raises(ValueError, match="boolean"):
        batch_grid(batch.tokens, batch.real.astype(int))


def test_mask_heatmap_marks_forbidden_cells_as_masked():
    allowed = causal_mask(3)
    rows = data_of(mask_heatmap(allowed, list("abc"), list("abc")))
    masked = {(row["row"], row["col"]) for row in rows if row["masked"]}
    assert masked == {(0, 1), (0, 2), (1, 2)}
    with pytest.raises(ValueError, match="boolean"):
        mask_heatmap(allowed.astype(float), list("abc"), list("abc"))


def test_sentence_weights_heatmap_turns_labels_that_do_not_fit():
    weights = masked_softmax(np.zeros((6, 6)), causal_mask(6))
    tokens = ["dogs", "bark", PAD, PAD, PAD, PAD]
    narrow = sentence_weights_heatmap(weights, tokens, causal_mask(6), max_width=120)
    wide = sentence_weights_heatmap(weights, tokens, causal_mask(6), max_width=400)
    assert {layer["encoding"]["x"]["axis"]["labelAngle"] for layer in layer_specs(narrow)} == {-90}
    assert {layer["encoding"]["x"]["axis"]["labelAngle"] for layer in layer_specs(wide)} == {0}
    assert sum(row["masked"] for row in data_of(wide)) == 15


def test_method_heatmap_shows_nan_and_keeps_masked_values_visible():
    weights = naive_masked_softmax(SCORES, ALLOWED)
    chart = method_heatmap(weights, ALLOWED, list("abc"), list("wxyz"))
    rows = data_of(chart)
    nan_rows = [row for row in rows if row["is_nan"]]
    assert len(nan_rows) == 4 and all(row["cell_text"] == "NaN" for row in nan_rows)
    masked = [row for row in rows if row["masked"] and not row["is_nan"]]
    assert all(row["text"] == "0 (exactly) on a masked key" for row in masked)
    specs = layer_specs(chart)
    assert any(spec["mark"].get("color") == NAN_COLOR for spec in specs)
    assert any(spec["mark"].get("strokeDash") for spec in specs)  # masked outline
    assert chart.to_dict()["resolve"]["scale"]["color"] == "independent"
    with pytest.raises(ValueError, match="one shape"):
        method_heatmap(weights, ALLOWED[:2], list("abc"), list("wxyz"))


def test_leakage_heatmap_marks_exact_zeros_and_the_changed_position():
    changes = np.array([[0.1, 0.2, 1.0], [0.0, 0.0, 1.0]])
    chart = leakage_heatmap(changes, ["none", "causal"], ["a", "b", "c"], 2, highlight="causal")
    rows = data_of(chart)
    zeros = [row for row in rows if row["zero"]]
    assert {(row["row"], row["col"]) for row in zeros} == {(1, 0), (1, 1)}
    assert all(row["text"] == "0" for row in zeros)
    assert {row["role"] for row in rows if row["col"] == 2} == {"the changed position"}
    assert {row["row_label"] for row in rows} == {"none", "▶ causal"}
    assert any(spec["mark"].get("color") == ZERO_COLOR for spec in layer_specs(chart))
    # Column labels are two lines, position then token, so long tokens stay narrow.
    label_expr = layer_specs(chart)[0]["encoding"]["x"]["axis"]["labelExpr"]
    assert json.loads(label_expr.removesuffix("[datum.value]")) == [
        ["0", "a"],
        ["1", "b"],
        ["2", "c"],
    ]
    with pytest.raises(ValueError, match="kinds × positions"):
        leakage_heatmap(changes, ["none"], ["a", "b", "c"], 0)
    with pytest.raises(ValueError, match="non-negative"):
        leakage_heatmap(-changes, ["none", "causal"], ["a", "b", "c"], 0)
    with pytest.raises(ValueError, match="changed_position"):
        leakage_heatmap(changes, ["none", "causal"], ["a", "b", "c"], 3)
