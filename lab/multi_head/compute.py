"""Multi-head attention in numpy, self- or cross-attention, every intermediate kept for display.

``MultiHead(X, M) = Concat(head_1, ..., head_H) W_o`` with
``head_h = softmax(Q_h K_h^T / sqrt(E) + mask) V_h``, where ``Q_h`` is the
``h``-th column block of ``X W_q`` and ``K_h``, ``V_h`` those of ``M W_k`` and
``M W_v``. In self-attention the memory ``M`` is ``X`` itself; in
cross-attention (a decoder reading an encoder) the queries come from ``X`` and
the keys and values from ``M``. Each head is its own set of projections, so
each can learn its own pattern; ``W_o`` mixes what they found.

With ``H * E = H * Ev = d_out = d`` and no biases this is exactly
``torch.nn.MultiheadAttention(d, H, bias=False, batch_first=True)`` called as
``mha(query=X, key=M, value=M)``, with ``in_proj_weight = [W_q^T; W_k^T; W_v^T]``
and ``out_proj.weight = W_o^T`` (torch stores weights transposed because it
computes ``x @ W.T``). The sizes may also differ, as in the Transformer
paper's general form (torch's ``kdim``/``vdim`` for a memory of another width).

Shapes:
    B   batch (any number of leading dimensions, written ``...``)
    H   heads
    L   queries (rows of ``x``)
    S   keys and values (rows of ``memory``; ``S = L`` in self-attention)
    d   features of ``x``
    dm  features of ``memory`` (``= d`` in self-attention)
    E   query/key size per head (d_k on the pages)
    Ev  value size per head (d_v on the pages)
    d_out  output size (columns of ``W_o``)

Masks follow ``torch.nn.functional.scaled_dot_product_attention`` (``True`` =
may attend; a float mask is added to the scores) and broadcast to
``(..., H, L, S)``, so one mask can serve every head or each head can have its
own. ``nn.MultiheadAttention``'s boolean ``attn_mask`` means the opposite
(``True`` = *not* allowed): pass it ``~mask``. A query whose every key is
masked gets all-zero weights and output here (torch's module gives NaN there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from lab.attention import FloatArray, scaled_dot_product_attention
from lab.checks import as_matrix, as_real, check_int


@dataclass(frozen=True)
class MultiHeadSteps:
    """Every stage of multi-head attention of ``x`` over ``memory``.

    Attributes:
        x: ``(..., L, d)`` the input the queries come from.
        memory: ``(..., S, dm)`` the input the keys and values come from
            (``x`` itself in self-attention).
        q: ``(..., H, L, E)`` each head's queries.
        k: ``(..., H, S, E)`` each head's keys.
        v: ``(..., H, S, Ev)`` each head's values.
        head_weights: ``(..., H, L, S)`` each head's attention weights.
        head_outputs: ``(..., H, L, Ev)`` each head's ``weights @ V_h``, times its gate.
        gates: ``(H,)`` what each head's output was multiplied by (1 = on, 0 = off).
        concat: ``(..., L, H * Ev)`` the head outputs side by side.
        w_o: ``(H * Ev, d_out)`` the output projection.
        output: ``(..., L, d_out)`` ``concat @ W_o``.
    """

    x: FloatArray
    memory: FloatArray
    q: FloatArray
    k: FloatArray
    v: FloatArray
    head_weights: FloatArray
    head_outputs: FloatArray
    gates: FloatArray
    concat: FloatArray
    w_o: FloatArray
    output: FloatArray

    @property
    def num_heads(self) -> int:
        return self.head_weights.shape[-3]


def split_heads(matrix: ArrayLike, num_heads: int) -> FloatArray:
    """``(..., L, H * E)`` -> ``(..., H, L, E)``: head ``h`` gets columns ``h*E : (h+1)*E``."""
    check_int("num_heads", num_heads, minimum=1)
    array = as_real("matrix", matrix, min_ndim=2)
    if array.shape[-1] % num_heads:
        raise ValueError(
            f"cannot split {array.shape[-1]} columns into {num_heads} equal heads; "
            "the last axis must be a multiple of num_heads"
        )
    size = array.shape[-1] // num_heads
    heads = array.reshape(*array.shape[:-1], num_heads, size)  # (..., L, H, E)
    return np.swapaxes(heads, -2, -3)  # (..., H, L, E)


def merge_heads(heads: ArrayLike) -> FloatArray:
    """``(..., H, L, E)`` -> ``(..., L, H * E)``: the inverse of :func:`split_heads`."""
    array = as_real("heads", heads, min_ndim=3)
    side_by_side = np.swapaxes(array, -2, -3)  # (..., L, H, E)
    return side_by_side.reshape(*side_by_side.shape[:-2], -1)  # (..., L, H * E)


def _check_projections(
    d: int,
    d_memory: int,
    w_q: FloatArray,
    w_k: FloatArray,
    w_v: FloatArray,
    w_o: FloatArray,
    num_heads: int,
) -> None:
    """Say what to fix when the four matrices do not fit the inputs or each other."""
    rows = (
        ("x", d, "w_q", w_q),
        ("memory", d_memory, "w_k", w_k),
        ("memory", d_memory, "w_v", w_v),
    )
    for source, features, name, matrix in rows:
        if matrix.shape[0] != features:
            raise ValueError(
                f"{source} has {features} features but {name} has {matrix.shape[0]} rows"
            )
    for name, matrix in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v)):
        if matrix.shape[1] % num_heads:
            raise ValueError(
                f"{name} has {matrix.shape[1]} columns, which do not split into "
                f"{num_heads} heads of equal size"
            )
    if w_q.shape[1] != w_k.shape[1]:
        raise ValueError(
            f"w_q has {w_q.shape[1]} columns but w_k has {w_k.shape[1]}; "
            "queries and keys must have the same size"
        )
    if w_o.shape[0] != w_v.shape[1]:
        raise ValueError(
            f"w_o has {w_o.shape[0]} rows but the heads' values concatenate to "
            f"{w_v.shape[1]} columns (w_v's width)"
        )


def multi_head_steps(
    x: ArrayLike,
    w_q: ArrayLike,
    w_k: ArrayLike,
    w_v: ArrayLike,
    w_o: ArrayLike,
    num_heads: int,
    *,
    mask: ArrayLike | None = None,
    head_gates: ArrayLike | None = None,
    memory: ArrayLike | None = None,
) -> MultiHeadSteps:
    """Multi-head attention that keeps every stage.

    ``Q = X W_q``, ``K = M W_k``, ``V = M W_v`` (``M = X`` without a memory)
    are split column-wise into ``H`` heads; each head runs
    :func:`lab.attention.scaled_dot_product_attention` (scale ``1 / sqrt(E)``);
    the head outputs, each multiplied by its gate, are concatenated and
    multiplied by ``W_o``.

    Args:
        x: ``(..., L, d)``, where the queries come from.
        w_q: ``(d, H * E)``.
        w_k: ``(dm, H * E)``.
        w_v: ``(dm, H * Ev)``.
        w_o: ``(H * Ev, d_out)``.
        num_heads: ``H``.
        mask: boolean (``True`` = may attend) or float (added to the scores),
            broadcastable to ``(..., H, L, S)``.
        head_gates: ``(H,)`` multipliers of the head outputs; 0 switches a head
            off (ablation). Default: all 1.
        memory: ``(..., S, dm)``, where the keys and values come from
            (cross-attention). Default: ``x`` (self-attention).

    Returns:
        :class:`MultiHeadSteps`.
    """
    check_int("num_heads", num_heads, minimum=1)
    inputs = as_real("x", x, min_ndim=2, finite=True, dtype=np.float64)
    source = (
        inputs
        if memory is None
        else as_real("memory", memory, min_ndim=2, finite=True, dtype=np.float64)
    )
    w_q, w_k, w_v, w_o = (
        as_matrix(name, matrix)
        for name, matrix in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v), ("w_o", w_o))
    )
    _check_projections(inputs.shape[-1], source.shape[-1], w_q, w_k, w_v, w_o, num_heads)
    if head_gates is None:
        gates = np.ones(num_heads)
    else:
        gates = as_real("head_gates", head_gates, finite=True, dtype=np.float64)
        if gates.shape != (num_heads,):
            raise ValueError(f"head_gates must have shape ({num_heads},), got {gates.shape}")

    q = split_heads(inputs @ w_q, num_heads)  # (..., H, L, E)
    k = split_heads(source @ w_k, num_heads)  # (..., H, S, E)
    v = split_heads(source @ w_v, num_heads)  # (..., H, S, Ev)
    attended, weights = scaled_dot_product_attention(q, k, v, mask=mask)  # (..., H, L, Ev)
    head_outputs = attended * gates[:, None, None]  # (..., H, L, Ev)
    concat = merge_heads(head_outputs)  # (..., L, H * Ev)
    return MultiHeadSteps(
        x=inputs,
        memory=source,
        q=q,
        k=k,
        v=v,
        head_weights=weights,
        head_outputs=head_outputs,
        gates=gates,
        concat=concat,
        w_o=w_o,
        output=concat @ w_o,  # (..., L, d_out)
    )


def multi_head_attention(
    x: ArrayLike,
    w_q: ArrayLike,
    w_k: ArrayLike,
    w_v: ArrayLike,
    w_o: ArrayLike,
    num_heads: int,
    *,
    mask: ArrayLike | None = None,
    head_gates: ArrayLike | None = None,
    memory: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Multi-head attention: ``(output, head_weights)``.

    ``output = Concat(head_1, ..., head_H) W_o``; see :func:`multi_head_steps`
    for the arguments. Without ``memory`` it is self-attention; with
    ``memory (..., S, dm)`` the keys and values come from it (cross-attention).
    Equal to ``torch.nn.MultiheadAttention(query=x, key=memory, value=memory)``
    (no biases, ``need_weights=True, average_attn_weights=False``) given the
    same weights, where a boolean mask is passed to torch negated.

    Returns:
        ``output`` of shape ``(..., L, d_out)`` and ``head_weights`` of shape
        ``(..., H, L, S)``.
    """
    steps = multi_head_steps(
        x, w_q, w_k, w_v, w_o, num_heads, mask=mask, head_gates=head_gates, memory=memory
    )
    return steps.output, steps.head_weights
