"""lab.multi_head.compute against torch.nn.MultiheadAttention, plus invariants and bad inputs."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.attention import scaled_dot_product_attention, softmax
from lab.multi_head import merge_heads, multi_head_attention, multi_head_steps, split_heads
from tests.multi_head.helpers import exactly

# torch's own float32 tolerances; the comparisons below run torch in float64.
ATOL, RTOL = 1e-5, 1.3e-6


def random_weights(rng, d=8, heads=2):
    return [rng.standard_normal((d, d)) / np.sqrt(d) for _ in range(4)]


def torch_mha(x, w_q, w_k, w_v, w_o, num_heads, attn_mask=None, memory=None):
    """nn.MultiheadAttention in float64 with our weights (torch stores them transposed).

    With a memory of another width than ``x``, torch keeps separate ``q/k/v_proj_weight``
    (its ``kdim``/``vdim``); of the same width, one packed ``in_proj_weight``.
    """
    d = x.shape[-1]
    source = x if memory is None else memory
    d_memory = source.shape[-1]
    mha = torch.nn.MultiheadAttention(
        d, num_heads, bias=False, batch_first=True, kdim=d_memory, vdim=d_memory
    ).double()
    with torch.no_grad():
        if d_memory == d:
            mha.in_proj_weight.copy_(torch.tensor(np.concatenate([w_q.T, w_k.T, w_v.T])))
        else:
            mha.q_proj_weight.copy_(torch.tensor(w_q.T))
            mha.k_proj_weight.copy_(torch.tensor(w_k.T))
            mha.v_proj_weight.copy_(torch.tensor(w_v.T))
        mha.out_proj.weight.copy_(torch.tensor(w_o.T))
    query, key = torch.tensor(x), torch.tensor(source)
    mask = None if attn_mask is None else torch.tensor(attn_mask)
    out, weights = mha(
        query, key, key, attn_mask=mask, need_weights=True, average_attn_weights=False
    )
    return out.detach().numpy(), weights.detach().numpy()


@pytest.fixture
def rng():
    return np.random.default_rng(2024)


@pytest.mark.parametrize(("d", "heads"), [(8, 1), (8, 2), (12, 3), (16, 4)])
def test_matches_torch_multihead_attention(rng, d, heads):
    x = rng.standard_normal((3, 5, d))  # (B, L, d)
    weights = random_weights(rng, d)
    ours, our_weights = multi_head_attention(x, *weights, heads)
    theirs, their_weights = torch_mha(x, *weights, heads)
    assert our_weights.shape == (3, heads, 5, 5)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(our_weights, their_weights, atol=ATOL, rtol=RTOL)


def test_matches_torch_without_a_batch_axis(rng):
    x = rng.standard_normal((6, 8))  # (L, d): torch treats it as one unbatched sequence
    weights = random_weights(rng)
    ours, our_weights = multi_head_attention(x, *weights, 4)
    theirs, their_weights = torch_mha(x, *weights, 4)
    assert our_weights.shape == (4, 6, 6)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(our_weights, their_weights, atol=ATOL, rtol=RTOL)


def test_boolean_mask_is_the_opposite_of_torchs_attn_mask(rng):
    x = rng.standard_normal((2, 5, 8))
    weights = random_weights(rng)
    may_attend = rng.random((5, 5)) > 0.3
    may_attend[:, 0] = True  # no fully masked row: torch's MHA gives NaN there
    ours, our_weights = multi_head_attention(x, *weights, 2, mask=may_attend)
    theirs, their_weights = torch_mha(x, *weights, 2, attn_mask=~may_attend)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(our_weights, their_weights, atol=ATOL, rtol=RTOL)
    assert np.all(our_weights[..., ~may_attend] == 0)


def test_one_mask_per_head_and_float_masks_match_torch(rng):
    batch, heads, L = 2, 2, 4
    x = rng.standard_normal((batch, L, 8))
    weights = random_weights(rng)
    additive = rng.standard_normal((batch, heads, L, L))
    additive[0, 1, 2, :2] = -np.inf
    ours, our_weights = multi_head_attention(x, *weights, heads, mask=additive)
    # torch takes a 3-D mask of shape (B * H, L, S), batch-major
    theirs, their_weights = torch_mha(
        x, *weights, heads, attn_mask=additive.reshape(batch * heads, L, L)
    )
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(our_weights, their_weights, atol=ATOL, rtol=RTOL)
    assert np.all(our_weights[0, 1, 2, :2] == 0)


def test_each_head_is_attention_on_its_own_column_block_with_unequal_sizes(rng):
    d, heads, E, Ev, d_out = 6, 3, 4, 2, 5
    x = rng.standard_normal((7, d))
    w_q, w_k = rng.standard_normal((2, d, heads * E))
    w_v = rng.standard_normal((d, heads * Ev))
    w_o = rng.standard_normal((heads * Ev, d_out))
    steps = multi_head_steps(x, w_q, w_k, w_v, w_o, heads)
    blocks = []
    for h in range(heads):
        q = x @ w_q[:, h * E : (h + 1) * E]
        k = x @ w_k[:, h * E : (h + 1) * E]
        v = x @ w_v[:, h * Ev : (h + 1) * Ev]
        out, weights = scaled_dot_product_attention(q, k, v)
        np.testing.assert_allclose(steps.head_weights[h], weights, atol=1e-12)
        np.testing.assert_allclose(steps.head_outputs[h], out, atol=1e-12)
        blocks.append(out)
    np.testing.assert_allclose(steps.concat, np.hstack(blocks), atol=1e-12)
    np.testing.assert_allclose(steps.output, np.hstack(blocks) @ w_o, atol=1e-12)
    assert steps.output.shape == (7, d_out) and steps.num_heads == heads


def test_switching_a_head_off_removes_exactly_its_block(rng):
    x = rng.standard_normal((5, 8))
    w_q, w_k, w_v, w_o = random_weights(rng)
    full = multi_head_steps(x, w_q, w_k, w_v, w_o, 2)
    cut = multi_head_steps(x, w_q, w_k, w_v, w_o, 2, head_gates=[1.0, 0.0])
    np.testing.assert_array_equal(cut.head_weights, full.head_weights)  # it still looks ...
    assert np.all(cut.concat[:, 4:] == 0)  # ... but hands over nothing
    np.testing.assert_allclose(cut.output, full.concat[:, :4] @ w_o[:4], atol=1e-12)
    none = multi_head_steps(x, w_q, w_k, w_v, w_o, 2, head_gates=[0.0, 0.0])
    assert np.all(none.output == 0)


def test_inputs_are_not_modified(rng):
    x = rng.standard_normal((4, 8))
    weights = random_weights(rng)
    mask = np.tril(np.ones((4, 4), dtype=bool))
    copies = [array.copy() for array in (x, *weights, mask)]
    multi_head_attention(x, *weights, 2, mask=mask)
    for before, after in zip(copies, (x, *weights, mask), strict=True):
        np.testing.assert_array_equal(before, after)


def test_a_fully_masked_row_gets_zero_weights_and_output(rng):
    x = rng.standard_normal((3, 8))
    mask = np.ones((3, 3), dtype=bool)
    mask[1] = False
    output, weights = multi_head_attention(x, *random_weights(rng), 2, mask=mask)
    assert np.all(weights[:, 1] == 0) and np.all(output[1] == 0)
    np.testing.assert_allclose(weights[:, [0, 2]].sum(axis=-1), 1.0)


NOT_FINITE = "contains NaN or infinity; every entry must be a finite number"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_heads": 0}, "num_heads must be at least 1, got 0"),
        ({"num_heads": 2.0}, "num_heads must be a whole number, got 2.0"),
        ({"num_heads": True}, "num_heads must be a whole number, got True"),
        ({"num_heads": 3}, "w_q has 8 columns, which do not split into 3 heads of equal size"),
        ({"w_q": np.ones((7, 8))}, "x has 8 features but w_q has 7 rows"),
        (
            {"w_k": np.ones((8, 4))},
            "w_q has 8 columns but w_k has 4; queries and keys must have the same size",
        ),
        (
            {"w_o": np.ones((6, 8))},
            "w_o has 6 rows but the heads' values concatenate to 8 columns (w_v's width)",
        ),
        ({"x": np.ones(8)}, "x needs at least 2 axes, got shape (8,)"),
        ({"x": np.full((3, 8), np.nan)}, f"x {NOT_FINITE}"),
        ({"w_v": np.full((8, 8), np.inf)}, f"w_v {NOT_FINITE}"),
        ({"w_q": np.ones((8, 8, 1))}, "w_q must have 2 axes, got shape (8, 8, 1)"),
        ({"x": np.array([["a"] * 8])}, "x must hold real numbers, got dtype <U1"),
        ({"head_gates": [1.0]}, "head_gates must have shape (2,), got (1,)"),
        ({"head_gates": [1.0, np.nan]}, f"head_gates {NOT_FINITE}"),
        (
            {"mask": np.ones((4, 4), dtype=bool)},
            "mask of shape (4, 4) does not broadcast to the scores' shape (2, 3, 3) (..., L, S)",
        ),
        ({"memory": np.ones((4, 5))}, "memory has 5 features but w_k has 8 rows"),
        ({"memory": np.ones(8)}, "memory needs at least 2 axes, got shape (8,)"),
        ({"memory": np.full((4, 8), np.inf)}, f"memory {NOT_FINITE}"),
        (
            {"memory": np.ones((4, 8)), "w_v": np.ones((7, 8))},
            "memory has 8 features but w_v has 7 rows",
        ),
        (
            {"w_k": np.ones((8, 7))},
            "w_k has 7 columns, which do not split into 2 heads of equal size",
        ),
        (
            {"w_v": np.ones((8, 7))},
            "w_v has 7 columns, which do not split into 2 heads of equal size",
        ),
        ({"w_k": np.full((8, 8), np.nan)}, f"w_k {NOT_FINITE}"),
        ({"w_o": np.ones(8)}, "w_o must have 2 axes, got shape (8,)"),
    ],
)
def test_bad_inputs_say_what_to_fix(rng, change, message):
    arguments = {
        "x": rng.standard_normal((3, 8)),
        "w_q": np.eye(8),
        "w_k": np.eye(8),
        "w_v": np.eye(8),
        "w_o": np.eye(8),
        "num_heads": 2,
    }
    arguments |= change
    with pytest.raises(ValueError, match=exactly(message)):
        multi_head_attention(**arguments)


@settings(max_examples=40, deadline=None)
@given(
    shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5),
    heads=st.integers(1, 4),
)
def test_split_and_merge_are_inverse(shape, heads):
    matrix = np.arange(np.prod(shape[:-1]) * shape[-1] * heads, dtype=float).reshape(
        *shape[:-1], shape[-1] * heads
    )
    split = split_heads(matrix, heads)
    assert split.shape == (*shape[:-2], heads, shape[-2], shape[-1])
    np.testing.assert_array_equal(merge_heads(split), matrix)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    length=st.integers(1, 6),
    heads=st.integers(1, 3),
    head_size=st.integers(1, 3),
)
def test_any_values_give_distributions_and_finite_outputs(data, length, heads, head_size):
    d = heads * head_size
    values = st.floats(-30, 30, allow_nan=False, allow_infinity=False)
    x = data.draw(hnp.arrays(np.float64, (length, d), elements=values))
    w_q, w_k, w_v, w_o = (
        data.draw(hnp.arrays(np.float64, (d, d), elements=st.floats(-3, 3))) for _ in range(4)
    )
    output, weights = multi_head_attention(x, w_q, w_k, w_v, w_o, heads)
    assert weights.shape == (heads, length, length)
    assert np.all(weights >= 0) and np.all(np.isfinite(output))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-9)


# ----------------------------------------------------------------------------
# Cross-attention: keys and values from a memory
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(("L", "S", "heads"), [(3, 7, 2), (6, 2, 4), (1, 5, 1)])
def test_cross_attention_matches_torch_with_l_different_from_s(rng, L, S, heads):
    x = rng.standard_normal((2, L, 8))  # (B, L, d): the queries' side (a decoder)
    memory = rng.standard_normal((2, S, 8))  # (B, S, d): the keys' and values' side (an encoder)
    weights = random_weights(rng)
    ours, our_weights = multi_head_attention(x, *weights, heads, memory=memory)
    theirs, their_weights = torch_mha(x, *weights, heads, memory=memory)
    assert ours.shape == (2, L, 8) and our_weights.shape == (2, heads, L, S)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(our_weights, their_weights, atol=ATOL, rtol=RTOL)


def test_cross_attention_with_a_mask_matches_torchs_opposite_mask(rng):
    L, S = 4, 6
    x = rng.standard_normal((2, L, 8))
    memory = rng.standard_normal((2, S, 8))
    weights = random_weights(rng)
    may_attend = rng.random((L, S)) > 0.4  # (L, S): True = may attend, as in SDPA
    may_attend[:, 1] = True  # no fully masked row (torch's module would give NaN)
    ours, our_weights = multi_head_attention(x, *weights, 2, mask=may_attend, memory=memory)
    # nn.MultiheadAttention's boolean attn_mask is True where attending is *not* allowed
    theirs, their_weights = torch_mha(x, *weights, 2, attn_mask=~may_attend, memory=memory)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(our_weights, their_weights, atol=ATOL, rtol=RTOL)
    assert np.all(our_weights[..., ~may_attend] == 0)
    assert our_weights[..., may_attend].min() > 0
    np.testing.assert_allclose(our_weights.sum(axis=-1), 1.0, atol=1e-12)


def test_cross_attention_with_a_memory_of_another_width_matches_torchs_kdim(rng):
    d, d_memory, heads, L, S = 6, 10, 3, 4, 5
    x = rng.standard_normal((L, d))
    memory = rng.standard_normal((S, d_memory))
    w_q = rng.standard_normal((d, d))
    w_k, w_v = rng.standard_normal((2, d_memory, d))
    w_o = rng.standard_normal((d, d))
    ours, our_weights = multi_head_attention(x, w_q, w_k, w_v, w_o, heads, memory=memory)
    theirs, their_weights = torch_mha(x, w_q, w_k, w_v, w_o, heads, memory=memory)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(our_weights, their_weights, atol=ATOL, rtol=RTOL)


def test_memory_equal_to_x_is_self_attention_and_the_memory_changes_only_keys_and_values(rng):
    x = rng.standard_normal((5, 8))
    weights = random_weights(rng)
    alone = multi_head_steps(x, *weights, 2)
    itself = multi_head_steps(x, *weights, 2, memory=x)
    np.testing.assert_array_equal(itself.output, alone.output)
    np.testing.assert_array_equal(alone.memory, x)
    other = multi_head_steps(x, *weights, 2, memory=rng.standard_normal((3, 8)))
    np.testing.assert_array_equal(other.q, alone.q)  # queries still come from x
    assert other.k.shape == (2, 3, 4) and other.head_weights.shape == (2, 5, 3)


def test_every_stored_stage_is_what_its_name_says(rng):
    """Read back each stage of MultiHeadSteps against a computation written out by hand."""
    d, d_memory, heads, E, Ev, d_out, L, S = 5, 7, 2, 3, 4, 6, 4, 3
    x = rng.standard_normal((L, d))
    memory = rng.standard_normal((S, d_memory))
    w_q = rng.standard_normal((d, heads * E))
    w_k = rng.standard_normal((d_memory, heads * E))
    w_v = rng.standard_normal((d_memory, heads * Ev))
    w_o = rng.standard_normal((heads * Ev, d_out))
    gates = np.array([0.5, -2.0])
    steps = multi_head_steps(x, w_q, w_k, w_v, w_o, heads, head_gates=gates, memory=memory)
    np.testing.assert_array_equal(steps.x, x)
    np.testing.assert_array_equal(steps.memory, memory)
    np.testing.assert_array_equal(steps.w_o, w_o)
    np.testing.assert_array_equal(steps.gates, gates)
    assert steps.num_heads == heads
    outputs = []
    for h in range(heads):
        q = x @ w_q[:, h * E : (h + 1) * E]  # (L, E)
        k = memory @ w_k[:, h * E : (h + 1) * E]  # (S, E)
        v = memory @ w_v[:, h * Ev : (h + 1) * Ev]  # (S, Ev)
        np.testing.assert_allclose(steps.q[h], q, atol=1e-12)
        np.testing.assert_allclose(steps.k[h], k, atol=1e-12)
        np.testing.assert_allclose(steps.v[h], v, atol=1e-12)
        weights = softmax(q @ k.T / np.sqrt(E))
        np.testing.assert_allclose(steps.head_weights[h], weights, atol=1e-12)
        outputs.append(gates[h] * weights @ v)
        np.testing.assert_allclose(steps.head_outputs[h], outputs[-1], atol=1e-12)
    np.testing.assert_allclose(steps.concat, np.hstack(outputs), atol=1e-12)
    np.testing.assert_allclose(steps.output, np.hstack(outputs) @ w_o, atol=1e-12)
    default = multi_head_steps(x, w_q, w_k, w_v, w_o, heads, memory=memory)
    np.testing.assert_array_equal(default.gates, np.ones(heads))


def test_split_and_merge_say_what_to_fix():
    with pytest.raises(ValueError, match=exactly("num_heads must be at least 1, got 0")):
        split_heads(np.ones((2, 4)), 0)
    message = (
        "cannot split 5 columns into 2 equal heads; the last axis must be a multiple of num_heads"
    )
    with pytest.raises(ValueError, match=exactly(message)):
        split_heads(np.ones((2, 5)), 2)
    with pytest.raises(ValueError, match=exactly(message)):  # the columns are the last axis
        split_heads(np.ones((2, 3, 5)), 2)
    with pytest.raises(ValueError, match=exactly("matrix needs at least 2 axes, got shape (4,)")):
        split_heads(np.ones(4), 2)
    with pytest.raises(ValueError, match=exactly("heads needs at least 3 axes, got shape (2, 4)")):
        merge_heads(np.ones((2, 4)))
    np.testing.assert_array_equal(
        split_heads(np.arange(6.0).reshape(1, 6), 3)[:, 0], [[0, 1], [2, 3], [4, 5]]
    )


def test_low_precision_inputs_are_kept_as_float64(rng):
    """Every stored stage is float64 even when the inputs come in float32 or float16."""
    x = rng.standard_normal((4, 8)).astype(np.float32)
    memory = rng.standard_normal((3, 8)).astype(np.float16)
    gates = np.array([1.0, 0.5], dtype=np.float32)
    weights = random_weights(rng)
    steps = multi_head_steps(x, *weights, 2, head_gates=gates, memory=memory)
    for stage in (steps.x, steps.memory, steps.gates, steps.q, steps.k, steps.output):
        assert stage.dtype == np.float64
    np.testing.assert_array_equal(steps.x, x.astype(np.float64))
    np.testing.assert_array_equal(steps.memory, memory.astype(np.float64))
    np.testing.assert_array_equal(steps.gates, [1.0, 0.5])
    wide = multi_head_steps(
        x.astype(np.float64), *weights, 2, head_gates=[1.0, 0.5], memory=memory.astype(np.float64)
    )
    np.testing.assert_array_equal(steps.output, wide.output)
    alone = multi_head_steps(x, *weights, 2)  # self-attention: the memory is x, widened
    assert alone.memory.dtype == np.float64
