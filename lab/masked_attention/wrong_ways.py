"""The wrong ways to mask, as clearly named teaching functions, and what each one gets wrong.

Each function reproduces one common mistake on purpose, so the page can put
its weights beside the right ones (:func:`lab.attention.masked_softmax`):

* ``-inf`` with a plain softmax: right on every row with an allowed key, NaN
  on a row with none;
* a big negative fill (``-1e9``, d2l's ``-1e6``, the seeds' "large negative
  number"): in float32 the *same* weights as ``-inf`` on every row with an
  allowed key (``exp(fill - max)`` is exactly 0); a row with none becomes
  uniform instead of zero, and in float16 the fill overflows to ``-inf``
  (so that row is NaN);
* softmax first, then multiply by the mask: masked weights are 0 but the rows
  no longer sum to 1.

Shapes:
    L   queries
    S   keys
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from lab.attention import BoolArray, FloatArray, masked_softmax
from lab.checks import as_bool, as_real
from lab.masked_attention.compute import BatchAttention, mask_padding_queries

# The fill value of the classic mistake. Deliberately the wrong way (the page shows when
# it goes wrong); the right way fills with -inf, as lab.attention does.
WRONG_FILL = -1e9


class MaskingMethod(Enum):
    """The ways of applying a mask that the page compares; the value names each in data."""

    RIGHT = "right"  # -inf, then a softmax that gives an empty row zeros (lab.attention)
    NAIVE = "naive"  # -inf, then a plain softmax
    LARGE_NEGATIVE = "large_negative"  # a big negative fill, then a plain softmax
    MULTIPLY = "multiply"  # softmax over every key, then multiply by the mask


class RowOutcome(Enum):
    """What a way of masking gave a row that may look at no key."""

    ZEROS = "zeros"  # the right answer: nothing to attend to
    UNIFORM = "uniform"  # the same weight on every key, padding included
    NAN = "nan"
    OTHER = "other"


class Precision(Enum):
    """The floating-point precisions the page computes the wrong ways in."""

    FLOAT32 = "float32"
    FLOAT16 = "float16"  # half precision, what models use on GPUs to save memory

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.value)


def row_outcome(rows: ArrayLike) -> RowOutcome | None:
    """What a set of weight rows ``(n, S)`` all are: NaN, zeros, uniform, or other.

    ``None`` when there is no row. Uniform means ``1/S`` on every key within
    a relative 1e-3 (float16 rounding).
    """
    weights = as_real("rows", rows, ndim=2, dtype=np.float64)  # (n, S)
    if weights.shape[0] == 0:
        return None
    if np.isnan(weights).any():
        return RowOutcome.NAN
    if np.all(weights == 0):
        return RowOutcome.ZEROS
    if weights.shape[1] and np.allclose(weights, 1.0 / weights.shape[1], rtol=1e-3, atol=0):
        return RowOutcome.UNIFORM
    return RowOutcome.OTHER


def naive_softmax(scores: ArrayLike, axis: int = -1) -> FloatArray:
    """WRONG WAY (for teaching): the textbook softmax with no guard for empty rows.

    ``exp(s_i - max s) / sum_j exp(s_j - max s)``, computed in the input's own
    floating dtype (integers become float64). This is what ``torch.softmax``
    does: a row that is entirely ``-inf`` has ``max = -inf``, so ``-inf - (-inf)``
    is NaN and the whole row is NaN. The NaN is produced on purpose here, so
    numpy's warning about it is silenced. Compare :func:`lab.attention.softmax`,
    which maps such a row to zeros.
    """
    array = as_real("scores", scores)
    with np.errstate(invalid="ignore"):  # the NaN of an all -inf row is the lesson
        shifted = array - np.max(array, axis=axis, keepdims=True)
        exps = np.exp(shifted)
        return exps / np.sum(exps, axis=axis, keepdims=True)


def naive_masked_softmax(scores: ArrayLike, mask: ArrayLike) -> FloatArray:
    """WRONG WAY (for teaching): fill with ``-inf`` (right) but use :func:`naive_softmax`.

    Every row with at least one allowed key is correct; a row with none is NaN,
    and one NaN spreads to everything computed from it downstream.
    """
    allowed = as_bool("mask", mask)
    array = as_real("scores", scores, dtype=np.float64)
    return naive_softmax(np.where(allowed, array, -np.inf))


def stored_fill_value(fill: float, dtype: DTypeLike) -> float:
    """What a fill value becomes once stored in ``dtype``.

    ``-1e9`` is far below float16's lowest finite number (-65504), so it
    overflows to ``-inf``; so does ``-1e6``. (torch refuses outright:
    ``masked_fill(mask, -1e9)`` on a float16 tensor raises "value cannot be
    converted to type c10::Half without overflow".)
    """
    with np.errstate(over="ignore"):  # the overflow to -inf is what we want to show
        return float(np.asarray(fill, dtype=dtype))


def softmax_fill_large_negative(
    scores: ArrayLike, mask: ArrayLike, fill: float = WRONG_FILL, dtype: DTypeLike = np.float32
) -> FloatArray:
    """A big negative number instead of ``-inf``, then a plain softmax, in ``dtype``.

    ``masked_fill(~mask, -1e9)`` followed by ``softmax``. Where it is right: on a
    row with at least one allowed key, ``exp(fill - max)`` is exactly 0 in
    float32 (and in float16 for a fill that fits, such as ``-1e4``), so the
    weights are the very same as with ``-inf``. Where it is wrong: on a row
    with *no* allowed key every entry is the same ``fill``, so the softmax is
    **uniform** over all keys, padding included, where the right answer is no
    weight at all; and in float16 ``-1e9`` does not fit, overflows to ``-inf``
    (see :func:`stored_fill_value`), and that row turns into NaN.

    Args:
        scores: ``(..., L, S)``.
        mask: boolean, broadcastable to ``scores``; ``True`` = may attend.
        fill: the value written into masked entries (``-1e9``, ``-1e6``, ...).
        dtype: the precision to compute in (``np.float32``, ``np.float16``, ...).

    Returns:
        Weights of ``scores``' shape, in ``dtype`` (NaN rows possible in float16).
    """
    allowed = as_bool("mask", mask)
    fill_value = np.asarray(stored_fill_value(fill, dtype), dtype=dtype)
    filled = np.where(allowed, as_real("scores", scores, dtype=dtype), fill_value)
    return naive_softmax(filled)


def softmax_then_multiply_mask(scores: ArrayLike, mask: ArrayLike) -> FloatArray:
    """WRONG WAY (for teaching): softmax over every key, then zero the masked weights.

    The masked weights do become 0, but the weight they had is thrown away
    instead of being shared among the allowed keys: the rows no longer sum to 1,
    so each output shrinks towards 0 by however much attention the padding or
    the future had drawn.
    """
    allowed = as_bool("mask", mask)
    weights = naive_softmax(as_real("scores", scores, dtype=np.float64))
    return weights * allowed


@dataclass(frozen=True)
class MethodResult:
    """One way of masking applied to one score matrix, with what came out of it.

    Attributes:
        method: the :class:`MaskingMethod`.
        weights: ``(L, S)`` as the method produced them (NaN possible).
        allowed: ``(L, S)`` the mask it was asked to apply.
    """

    method: MaskingMethod
    weights: FloatArray
    allowed: BoolArray

    @property
    def fully_masked(self) -> BoolArray:
        """``(L,)``: rows with no allowed key."""
        return ~self.allowed.any(axis=-1)

    @property
    def nan_rows(self) -> BoolArray:
        """``(L,)``: rows that contain NaN."""
        return np.isnan(self.weights).any(axis=-1)

    @property
    def row_sums(self) -> FloatArray:
        """``(L,)``: each row's total weight (NaN for a NaN row)."""
        return self.weights.astype(np.float64).sum(axis=-1)

    @property
    def masked_weight(self) -> FloatArray:
        """``(L,)``: weight that landed on masked keys (should be exactly 0)."""
        return np.where(self.allowed, 0.0, self.weights.astype(np.float64)).sum(axis=-1)

    def partial_rows_ok(self, tolerance: float = 1e-3) -> bool:
        """Rows with an allowed key: masked weight exactly 0 and a sum of 1 (± ``tolerance``).

        The tolerance covers float16 rounding; a lost weight of a few percent
        (the multiply-after-softmax mistake) is far outside it.
        """
        rows = ~self.fully_masked  # (L,); if there is none, each np.all below is over nothing: True
        sums = self.row_sums[rows]
        return bool(
            np.all(np.isfinite(sums))
            and np.all(self.masked_weight[rows] == 0)
            and np.all(np.abs(sums - 1.0) <= tolerance)
        )

    def fully_masked_outcome(self) -> RowOutcome | None:
        """What the rows with no allowed key became, ``None`` if there is no such row."""
        return row_outcome(self.weights[self.fully_masked])

    @property
    def right_everywhere(self) -> bool:
        """Right on every row: ordinary rows sum to 1 with 0 on masked keys, empty rows are 0."""
        return self.partial_rows_ok() and self.fully_masked_outcome() in (None, RowOutcome.ZEROS)


def fill_matches_minus_inf(
    scores: ArrayLike, allowed: ArrayLike, fill: float = WRONG_FILL, dtype: DTypeLike = np.float32
) -> bool:
    """Whether a big negative fill gives, bit for bit, the weights of ``-inf`` on every row
    that has an allowed key, both computed the same way in ``dtype``.

    True in float32 for ``-1e9``, ``-1e6`` and ``-1e4`` with ordinary scores:
    ``exp(fill - max)`` underflows to exactly 0, as ``exp(-inf)`` is 0.
    """
    mask = as_bool("allowed", allowed)
    big = softmax_fill_large_negative(scores, mask, fill=fill, dtype=dtype)
    minus_inf = softmax_fill_large_negative(scores, mask, fill=-np.inf, dtype=dtype)
    rows = np.broadcast_to(mask, big.shape).any(axis=-1)  # rows with an allowed key
    return bool(np.array_equal(big[rows], minus_inf[rows]))


def compare_masking_methods(
    scores: ArrayLike,
    allowed: ArrayLike,
    *,
    fill: float = WRONG_FILL,
    dtype: DTypeLike = np.float32,
) -> tuple[MethodResult, ...]:
    """Apply every :class:`MaskingMethod` to the same scores.

    * right: :func:`lab.attention.masked_softmax` (``-inf``, and zeros for a
      row with no allowed key);
    * naive: :func:`naive_masked_softmax` (``-inf`` with a plain softmax);
    * large_negative: :func:`softmax_fill_large_negative` with ``fill`` in ``dtype``;
    * multiply: :func:`softmax_then_multiply_mask`.

    Args:
        scores: ``(L, S)`` finite scores.
        allowed: ``(L, S)`` boolean, ``True`` = may attend.

    Returns:
        One :class:`MethodResult` per method, in :class:`MaskingMethod` order.
    """
    mask = as_bool("allowed", allowed)
    array = as_real("scores", scores, dtype=np.float64)
    if array.ndim != 2 or mask.shape != array.shape:
        raise ValueError(
            f"scores and allowed must be matrices of one shape (L, S), got {array.shape} "
            f"and {mask.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("scores must be finite; masking is what adds -inf")
    weights = {
        MaskingMethod.RIGHT: masked_softmax(array, mask),
        MaskingMethod.NAIVE: naive_masked_softmax(array, mask),
        MaskingMethod.LARGE_NEGATIVE: softmax_fill_large_negative(
            array, mask, fill=fill, dtype=dtype
        ),
        MaskingMethod.MULTIPLY: softmax_then_multiply_mask(array, mask),
    }
    return tuple(MethodResult(method, weights[method], mask) for method in MaskingMethod)


def compare_on_sentence(
    attention: BatchAttention,
    sentence: int,
    *,
    fill: float = WRONG_FILL,
    dtype: DTypeLike = np.float32,
    mask_pad_queries: bool = True,
) -> tuple[tuple[MethodResult, ...], bool] | None:
    """Every way of masking on one sentence's scaled scores, as section 4 of the page shows.

    Args:
        attention: the batch's attention (its scores and mask are used).
        sentence: which sentence of the batch.
        mask_pad_queries: also give the ``<pad>`` queries no key at all
            (:func:`mask_padding_queries`), so the empty-row failures show.

    Returns:
        The :func:`compare_masking_methods` results and whether the fill gave the
        weights of ``-inf`` bit for bit (:func:`fill_matches_minus_inf`); ``None``
        when nothing is masked in the sentence (every way gives the same weights).
    """
    allowed = attention.allowed[sentence]  # (S, S)
    if mask_pad_queries:
        allowed = mask_padding_queries(allowed, attention.batch.real[sentence])
    if allowed.all():
        return None
    scores = attention.scores[sentence]  # (S, S)
    results = compare_masking_methods(scores, allowed, fill=fill, dtype=dtype)
    return results, fill_matches_minus_inf(scores, allowed, fill=fill, dtype=dtype)
