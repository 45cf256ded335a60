"""Scaled dot-product attention and its pieces, in numpy.

Every function here works on any number of leading batch dimensions and
returns new arrays; inputs are never modified in place.

Shapes:
    B   batch (any number of leading dimensions, written ``...``)
    H   heads
    L   queries (target length)
    S   keys and values (source length)
    E   query/key size
    Ev  value size

Masks follow ``torch.nn.functional.scaled_dot_product_attention``:
a boolean mask has ``True`` where a query *may attend* to a key; a float mask
is *added* to the scores. Forbidden scores become ``-inf`` (never ``-1e9``),
so their weights are exactly 0. A query whose every key is masked has no
distribution to take; it gets all-zero weights (and an all-zero output), as
torch's SDPA gives since torch 2.5.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from lab.checks import BoolArray, FloatArray, as_bool, as_real, check_float, check_int


def _safe_softmax(scores: FloatArray, axis: int) -> FloatArray:
    """Softmax along ``axis`` that maps a row of all ``-inf`` to all zeros.

    The row maximum is subtracted first, so no score can overflow ``exp``.
    """
    row_max = np.max(scores, axis=axis, keepdims=True)
    # A row of all -inf has max -inf; shift it by 0 instead so exp gives 0s, not NaN.
    shift = np.where(np.isneginf(row_max), 0.0, row_max)
    exps = np.exp(scores - shift)
    totals = np.sum(exps, axis=axis, keepdims=True)
    safe_totals = np.where(totals > 0, totals, 1.0)
    return exps / safe_totals


def softmax(scores: ArrayLike, axis: int = -1, temperature: float = 1.0) -> FloatArray:
    """Numerically stable softmax with a temperature.

    ``softmax(s / T)_i = exp((s_i - max s) / T) / sum_j exp((s_j - max s) / T)``

    The row maximum is subtracted *before* dividing by the temperature, so
    scores of 1e4 (or a temperature of 1e-6) cannot overflow. Scores of
    ``-inf`` get weight exactly 0; a row that is entirely ``-inf`` gets all
    zeros rather than NaN (``torch.softmax`` would give NaN there; SDPA gives 0).

    Args:
        scores: any shape; ``-inf`` allowed, NaN and ``+inf`` are not.
        axis: the axis that sums to 1.
        temperature: > 0. Below 1 sharpens the distribution, above 1 flattens it.

    Returns:
        Weights of the same shape as ``scores``, non-negative, summing to 1 along
        ``axis`` (or to 0 for an all ``-inf`` row).
    """
    array = as_real("scores", scores)
    temperature = check_float("temperature", temperature, positive=True)
    if np.isnan(array).any():
        raise ValueError("scores contain NaN; check the computation that produced them")
    if np.isposinf(array).any():
        raise ValueError("scores contain +inf; only -inf (meaning 'masked') is allowed")
    if array.ndim == 0:
        raise ValueError("scores must have at least one axis")
    if array.shape[axis] == 0:  # no keys at all (S = 0): nothing to weigh, as in torch
        return np.zeros_like(array)
    row_max = np.max(array, axis=axis, keepdims=True)
    shift = np.where(np.isneginf(row_max), 0.0, row_max)
    # (s - max) <= 0, so dividing by a tiny temperature gives -large or -inf, never +inf.
    tempered = (array - shift) / temperature
    return _safe_softmax(tempered, axis=axis)


def masked_softmax(
    scores: ArrayLike, mask: ArrayLike, axis: int = -1, temperature: float = 1.0
) -> FloatArray:
    """Softmax over the entries a boolean mask allows; the rest get exactly 0.

    ``w_i = exp(s_i) / sum_{j: mask_j} exp(s_j)`` if ``mask_i`` else ``0``.

    Masked scores are replaced by ``-inf`` in a copy (the caller's array is
    untouched), so their weights are exactly 0 and the others still sum to 1.
    A fully masked row gives all zeros: no NaN, and not a uniform row.

    Args:
        scores: ``(..., L, S)`` or any shape.
        mask: boolean, broadcastable to ``scores``; ``True`` means "may attend".
        axis: the axis that sums to 1.
        temperature: > 0, as in :func:`softmax`.

    Returns:
        Weights with the broadcast shape of ``scores`` and ``mask``.
    """
    array = as_real("scores", scores)
    allowed = as_bool("mask", mask)
    try:
        shape = np.broadcast_shapes(array.shape, allowed.shape)
    except ValueError:
        raise ValueError(
            f"mask of shape {allowed.shape} does not broadcast to scores of shape {array.shape}"
        ) from None
    filled = np.where(allowed, array, -np.inf)  # a new array: the input is never modified
    weights = softmax(np.broadcast_to(filled, shape), axis=axis, temperature=temperature)
    return np.where(allowed, weights, 0.0)


def causal_mask(L: int, S: int | None = None) -> BoolArray:
    """Boolean look-ahead mask: query ``i`` may attend to keys ``j <= i``.

    Top-left aligned like ``torch.ones(L, S).tril()``, which is what
    ``is_causal=True`` means in torch's SDPA, also when ``L != S``.

    Returns:
        ``(L, S)`` boolean, ``True`` on and below the diagonal.
    """
    L = check_int("L", L, minimum=0)
    S = L if S is None else check_int("S", S, minimum=0)
    return np.tri(L, S, dtype=bool)


def padding_mask(valid_lens: ArrayLike, S: int) -> BoolArray:
    """Boolean key-padding mask: position ``j`` is attendable if ``j < valid_len``.

    Args:
        valid_lens: integers in ``[0, S]``, any shape ``(...)`` (usually ``(B,)``).
        S: padded length.

    Returns:
        ``(..., S)`` boolean. To mask keys for every query, add a query axis:
        ``padding_mask(valid_lens, S)[..., None, :]`` broadcasts to ``(..., L, S)``.
    """
    lens = np.asarray(valid_lens)
    S = check_int("S", S, minimum=0)
    if lens.dtype == np.bool_ or not np.issubdtype(lens.dtype, np.integer):
        # Whole-number floats (3.0) are accepted; booleans and fractions are not.
        if np.issubdtype(lens.dtype, np.floating) and np.all(lens == np.round(lens)):
            lens = lens.astype(np.int64)
        else:
            raise ValueError(f"valid_lens must be whole numbers, got {lens.tolist()}")
    if lens.size and (lens.min() < 0 or lens.max() > S):
        raise ValueError(f"valid_lens must lie in [0, {S}], got {lens.tolist()}")
    return np.arange(S) < lens[..., None]  # (..., S)


def entropy(weights: ArrayLike, axis: int = -1) -> FloatArray:
    """Shannon entropy in nats, ``H(w) = -sum_i w_i log w_i`` with ``0 log 0 = 0``.

    0 for a one-hot row, ``log S`` for a uniform row over ``S`` keys, and 0 for
    an all-zero (fully masked) row.

    Args:
        weights: non-negative, any shape.
        axis: the axis to sum over.

    Returns:
        ``weights`` with ``axis`` removed.
    """
    array = as_real("weights", weights)
    if np.isnan(array).any() or (array < 0).any():
        raise ValueError("weights must be non-negative and not NaN")
    logs = np.log(array, out=np.zeros_like(array), where=array > 0)
    return -np.sum(array * logs, axis=axis)


def check_query_key_size(query: FloatArray, key: FloatArray) -> None:
    """Raise ``ValueError`` unless query ``(..., L, E)`` and key ``(..., S, E)`` share ``E``."""
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"query has size {query.shape[-1]} in its last axis but key has {key.shape[-1]}; "
            "queries and keys must have the same size E"
        )


def check_one_value_per_key(key: FloatArray, value: FloatArray) -> None:
    """Raise ``ValueError`` unless key ``(..., S, E)`` and value ``(..., S, Ev)`` share ``S``."""
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"key has {key.shape[-2]} positions but value has {value.shape[-2]}; "
            "every key needs exactly one value"
        )


def broadcast_batch(query: FloatArray, key: FloatArray, value: FloatArray) -> tuple[int, ...]:
    """The batch shape ``B`` that ``query``, ``key`` and ``value`` broadcast to.

    Raises ``ValueError`` naming the three shapes when their leading
    dimensions (all but the last two axes) do not broadcast.
    """
    try:
        return np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(
            f"batch dimensions do not broadcast: query {query.shape}, key {key.shape}, "
            f"value {value.shape}"
        ) from None


def weights_from_scores(
    scores: FloatArray, mask: ArrayLike | None, shape: tuple[int, ...]
) -> FloatArray:
    """Attention weights ``softmax(scores + M)`` along the keys, with a mask as in torch's SDPA.

    * no ``mask``: a plain softmax over the keys;
    * a boolean ``mask`` (``True`` = may attend): :func:`masked_softmax`, so
      forbidden keys get exactly 0 and a fully masked query gets all zeros;
    * a float ``mask``: added to the scores (``-inf`` forbids; NaN and
      ``+inf`` are refused), in a new array, so the caller's mask is untouched.

    Args:
        scores: ``(..., L, S)``, finite.
        mask: ``None``, boolean or float, broadcastable to ``shape``.
        shape: ``(*B, L, S)``, with ``B`` the batch shape of query, key and
            value together (:func:`broadcast_batch`), which the value's
            leading dimensions may make larger than the scores'.

    Returns:
        ``(..., L, S)`` weights, each row summing to 1 (or 0 when fully masked).
    """
    if mask is None:
        return softmax(scores, axis=-1)
    mask_array = np.asarray(mask)
    try:
        np.broadcast_shapes(mask_array.shape, shape)
    except ValueError:
        raise ValueError(
            f"mask of shape {mask_array.shape} does not broadcast to the scores' "
            f"shape {shape} (..., L, S)"
        ) from None
    if mask_array.dtype == np.bool_:
        return masked_softmax(scores, mask_array, axis=-1)
    additive = as_real("mask", mask_array)
    if np.isnan(additive).any() or np.isposinf(additive).any():
        raise ValueError("a float mask may hold finite numbers and -inf only")
    return softmax(scores + additive, axis=-1)


def scaled_dot_product_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    *,
    mask: ArrayLike | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Scaled dot-product attention that also returns its weights.

    ``weights = softmax(Q K^T * scale + M)``, ``output = weights V``, with
    ``scale = 1 / sqrt(E)`` unless given. Same semantics as
    ``torch.nn.functional.scaled_dot_product_attention``:

    * a boolean ``mask`` is ``True`` where a query may attend;
    * a float ``mask`` is added to the scores (use ``-inf`` to forbid);
    * ``is_causal=True`` applies :func:`causal_mask` (top-left aligned) and
      cannot be combined with ``mask``;
    * a query with every key masked gets zero weights and a zero output.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``.
        mask: boolean or float, broadcastable to ``(..., L, S)``.
        is_causal: forbid attending to later positions.
        scale: multiplies the scores; default ``1 / sqrt(E)``.

    Returns:
        ``(output, weights)`` of shapes ``(..., L, Ev)`` and ``(..., L, S)``.
    """
    q = as_real("query", query)
    k = as_real("key", key)
    v = as_real("value", value)
    for name, array in (("query", q), ("key", k), ("value", v)):
        if array.ndim < 2:
            raise ValueError(
                f"{name} needs at least 2 axes (positions, features), got shape {array.shape}"
            )
    check_query_key_size(q, k)
    check_one_value_per_key(k, v)
    batch = broadcast_batch(q, k, v)
    if mask is not None and is_causal:
        raise ValueError("pass either mask or is_causal=True, not both (as in torch)")
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1]) if q.shape[-1] > 0 else 1.0
    else:
        scale = check_float("scale", scale)

    L, S = q.shape[-2], k.shape[-2]
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below
        scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale  # (..., L, S)
    if np.isnan(scores).any() or np.isinf(scores).any():
        raise ValueError("the scores overflowed or contain NaN; check the inputs for inf or NaN")

    weights = weights_from_scores(
        scores, causal_mask(L, S) if is_causal else mask, (*batch, L, S)
    )  # (..., L, S)
    output = np.matmul(weights, v)  # (..., L, Ev)
    return output, weights
