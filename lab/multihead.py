"""Multi-head self-attention in numpy, every intermediate kept for display.

``MultiHead(X) = Concat(head_1, ..., head_H) W_o`` with
``head_h = softmax(Q_h K_h^T / sqrt(E) + M) V_h`` and ``Q_h, K_h, V_h`` the
``h``-th column blocks of ``X W_q``, ``X W_k``, ``X W_v``. Each head is its own
set of projections, so each can learn its own pattern; ``W_o`` mixes what
they found. With ``H * E = H * Ev = d_out = d`` and no biases this is exactly
``torch.nn.MultiheadAttention(d, H, bias=False, batch_first=True)`` with
``in_proj_weight = [W_q^T; W_k^T; W_v^T]`` and ``out_proj.weight = W_o^T``
(torch stores weights transposed because it computes ``x @ W.T``). The sizes
may also differ, as in the Transformer paper's general form.

Shapes:
    B   batch (any number of leading dimensions, written ``...``)
    H   heads
    L   queries (tokens)
    S   keys and values (= L: self-attention)
    d   model size (features of ``x``)
    E   query/key size per head
    Ev  value size per head
    d_out  output size (columns of ``W_o``)

Masks follow ``torch.nn.functional.scaled_dot_product_attention`` (``True`` =
may attend; a float mask is added to the scores) and broadcast to
``(..., H, L, S)``, so one mask can serve every head or each head can have its
own. Note that ``nn.MultiheadAttention``'s boolean ``attn_mask`` means the
opposite (``True`` = *not* allowed): pass it ``~mask``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from lab.attention import FloatArray, scaled_dot_product_attention


@dataclass(frozen=True)
class MultiHeadSteps:
    """Every stage of multi-head self-attention on ``x``.

    Attributes:
        x: ``(..., L, d)`` the input.
        q, k: ``(..., H, L, E)`` each head's queries and keys.
        v: ``(..., H, L, Ev)`` each head's values.
        head_weights: ``(..., H, L, S)`` each head's attention weights.
        head_outputs: ``(..., H, L, Ev)`` each head's ``weights @ V_h``, times its gate.
        gates: ``(H,)`` what each head's output was multiplied by (1 = on, 0 = off).
        concat: ``(..., L, H * Ev)`` the head outputs side by side.
        w_o: ``(H * Ev, d_out)`` the output projection.
        output: ``(..., L, d_out)`` ``concat @ W_o``.
    """

    x: FloatArray
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
    array = np.asarray(matrix, dtype=float)
    _check_num_heads(num_heads)
    if array.ndim < 2 or array.shape[-1] % num_heads:
        raise ValueError(
            f"cannot split {array.shape[-1] if array.ndim else 0} columns into "
            f"{num_heads} equal heads; the last axis must be a multiple of num_heads"
        )
    size = array.shape[-1] // num_heads
    heads = array.reshape(*array.shape[:-1], num_heads, size)  # (..., L, H, E)
    return np.swapaxes(heads, -2, -3)  # (..., H, L, E)


def merge_heads(heads: ArrayLike) -> FloatArray:
    """``(..., H, L, E)`` -> ``(..., L, H * E)``: the inverse of :func:`split_heads`."""
    array = np.asarray(heads, dtype=float)
    if array.ndim < 3:
        raise ValueError(f"expected (..., H, L, E), got shape {array.shape}")
    side_by_side = np.swapaxes(array, -2, -3)  # (..., L, H, E)
    return side_by_side.reshape(*side_by_side.shape[:-2], -1)  # (..., L, H * E)


def _check_num_heads(num_heads: int) -> None:
    if isinstance(num_heads, bool) or not isinstance(num_heads, int | np.integer):
        raise ValueError(f"num_heads must be a positive integer, got {num_heads!r}")
    if num_heads < 1:
        raise ValueError(f"num_heads must be a positive integer, got {num_heads}")


def _as_matrix(name: str, values: ArrayLike) -> FloatArray:
    array = np.asarray(values)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real, got dtype {array.dtype}")
    array = array.astype(float, copy=False)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or inf")
    return array


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
) -> MultiHeadSteps:
    """Multi-head self-attention that keeps every stage.

    ``Q = X W_q``, ``K = X W_k``, ``V = X W_v`` are split column-wise into ``H``
    heads; each head runs :func:`lab.attention.scaled_dot_product_attention`
    (scale ``1 / sqrt(E)``); the head outputs, each multiplied by its gate, are
    concatenated and multiplied by ``W_o``.

    Args:
        x: ``(..., L, d)``.
        w_q, w_k: ``(d, H * E)``.
        w_v: ``(d, H * Ev)``.
        w_o: ``(H * Ev, d_out)``.
        num_heads: ``H``.
        mask: boolean (``True`` = may attend) or float (added to the scores),
            broadcastable to ``(..., H, L, S)``.
        head_gates: ``(H,)`` multipliers of the head outputs; 0 switches a head
            off (ablation). Default: all 1.

    Returns:
        :class:`MultiHeadSteps`.
    """
    _check_num_heads(num_heads)
    inputs = np.asarray(x)
    if inputs.dtype == np.bool_ or not np.issubdtype(inputs.dtype, np.number):
        raise ValueError(f"x must hold real numbers, got dtype {inputs.dtype}")
    inputs = inputs.astype(float, copy=False)
    if inputs.ndim < 2:
        raise ValueError(f"x must have shape (..., L, d), got {inputs.shape}")
    if not np.all(np.isfinite(inputs)):
        raise ValueError("x contains NaN or inf")
    d = inputs.shape[-1]
    w_q, w_k, w_v, w_o = (
        _as_matrix(name, matrix)
        for name, matrix in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v), ("w_o", w_o))
    )
    for name, matrix in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v)):
        if matrix.shape[0] != d:
            raise ValueError(f"x has {d} features but {name} has {matrix.shape[0]} rows")
        if matrix.shape[1] % num_heads:
            raise ValueError(
                f"{name} has {matrix.shape[1]} columns, which do not split into "
                f"{num_heads} heads of equal size"
            )
    if w_q.shape != w_k.shape:
        raise ValueError(
            f"w_q has shape {w_q.shape} but w_k has {w_k.shape}; queries and keys must match"
        )
    if w_o.shape[0] != w_v.shape[1]:
        raise ValueError(
            f"w_o has {w_o.shape[0]} rows but the heads' values concatenate to "
            f"{w_v.shape[1]} columns (w_v's width)"
        )
    if head_gates is None:
        gates = np.ones(num_heads)
    else:
        gates = np.asarray(head_gates, dtype=float)
        if gates.shape != (num_heads,):
            raise ValueError(f"head_gates must have shape ({num_heads},), got {gates.shape}")
        if not np.all(np.isfinite(gates)):
            raise ValueError("head_gates contains NaN or inf")

    q = split_heads(inputs @ w_q, num_heads)  # (..., H, L, E)
    k = split_heads(inputs @ w_k, num_heads)  # (..., H, L, E)
    v = split_heads(inputs @ w_v, num_heads)  # (..., H, L, Ev)
    attended, weights = scaled_dot_product_attention(q, k, v, mask=mask)  # (..., H, L, Ev)
    head_outputs = attended * gates[:, None, None]  # (..., H, L, Ev)
    concat = merge_heads(head_outputs)  # (..., L, H * Ev)
    return MultiHeadSteps(
        x=inputs,
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
) -> tuple[FloatArray, FloatArray]:
    """Multi-head self-attention: ``(output, head_weights)``.

    ``output = Concat(head_1, ..., head_H) W_o``; see :func:`multi_head_steps`
    for the arguments. Equal to ``torch.nn.MultiheadAttention`` (no biases,
    ``need_weights=True, average_attn_weights=False``) given the same weights.

    Returns:
        ``output`` of shape ``(..., L, d_out)`` and ``head_weights`` of shape
        ``(..., H, L, S)``.
    """
    steps = multi_head_steps(x, w_q, w_k, w_v, w_o, num_heads, mask=mask, head_gates=head_gates)
    return steps.output, steps.head_weights
