"""Masked attention on a padded batch: the right way, the wrong ways, and leakage.

A mask says which keys each query may look at. The right way (what
:mod:`lab.attention` does) turns forbidden scores into ``-inf`` before the
softmax, so their weights are exactly 0 and the allowed ones still sum to 1,
and gives a query with *no* allowed key all-zero weights.

This module builds what the masked-attention page needs on top of that:

* a padded batch of sentences and its masks (padding, causal, both), with the
  conversion to the opposite boolean convention of ``torch.nn.MultiheadAttention``;
* attention over the batch with tiny random embeddings, every stage kept;
* a leakage probe: change one token and measure how far every output moves;
* the wrong ways to mask, as clearly named teaching functions that reproduce
  each failure on purpose (NaN rows, silently uniform rows, rows that no longer
  sum to 1, ``-1e9`` that overflows in float16).

Shapes:
    B   sentences in the batch
    S   padded length; in self-attention every position is a query and a key,
        so the weights are ``(B, S, S)`` (``L = S``)
    E   query/key size (= d here)
    Ev  value size (= d here)
    K   mask kinds compared side by side
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from lab.attention import (
    BoolArray,
    FloatArray,
    causal_mask,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
)
from lab.embeddings import embed, projection_matrices

IntArray = NDArray[np.integer]

PAD = "<pad>"  # what fills the short sentences; tokenize() splits a typed "<pad>" into 3 tokens
MASK_KINDS: tuple[str, ...] = ("none", "padding", "causal", "padding + causal")
PADDING_SIDES: tuple[str, ...] = ("right", "left")
PaddingSide = Literal["right", "left"]
# The fill value of the classic mistake. Deliberately the wrong way (the page shows why):
# the right way fills with -inf, as lab.attention does.
WRONG_FILL = -1e9


@dataclass(frozen=True)
class MaskingConfig:
    """Settings of the masked-attention demo."""

    d_model: int = 4  # embedding size d (= E = Ev); small, since only the masks matter here
    seed: int = 0  # draws the word vectors and W_q, W_k, W_v, as on the self-attention page
    padding_side: PaddingSide = "right"  # "left" is how batches are padded for generation
    max_d_model: int = 16  # same limit as the self-attention page

    def __post_init__(self) -> None:
        if not isinstance(self.d_model, int | np.integer) or not (
            1 <= self.d_model <= self.max_d_model
        ):
            raise ValueError(
                f"d_model must be a whole number in [1, {self.max_d_model}], got {self.d_model!r}"
            )
        if self.padding_side not in PADDING_SIDES:
            raise ValueError(
                f"padding_side must be one of {PADDING_SIDES}, got {self.padding_side!r}"
            )


# ---------------------------------------------------------------- the batch and its masks


@dataclass(frozen=True)
class PaddedBatch:
    """Sentences of different lengths padded with :data:`PAD` to one length ``S``.

    Attributes:
        tokens: ``B`` tuples of ``S`` tokens each, padding included.
        valid_lens: ``(B,)`` how many real tokens each sentence has (0 is allowed).
        padding_side: ``"right"`` (pads after the words) or ``"left"`` (before).
    """

    tokens: tuple[tuple[str, ...], ...]
    valid_lens: IntArray
    padding_side: PaddingSide = "right"

    @property
    def B(self) -> int:
        return len(self.tokens)

    @property
    def S(self) -> int:
        return len(self.tokens[0]) if self.tokens else 0

    @property
    def real(self) -> BoolArray:
        """``(B, S)``: ``True`` at real tokens, ``False`` at padding."""
        return key_padding_mask(self.valid_lens, self.S, self.padding_side)

    def first_real(self, sentence: int) -> int:
        """Position of the first real token of a sentence (``S`` if it has none)."""
        self._check_sentence(sentence)
        pads = self.S - int(self.valid_lens[sentence])
        return pads if self.padding_side == "left" else 0

    def last_real(self, sentence: int) -> int | None:
        """Position of the last real token of a sentence, ``None`` if it has none."""
        self._check_sentence(sentence)
        if self.valid_lens[sentence] == 0:
            return None
        return self.S - 1 if self.padding_side == "left" else int(self.valid_lens[sentence]) - 1

    def replaced(self, sentence: int, position: int, token: str) -> PaddedBatch:
        """A copy with one token swapped; the valid lengths (the masks) stay as they were."""
        self._check_sentence(sentence)
        if not 0 <= position < self.S:
            raise ValueError(f"position must lie in [0, {self.S - 1}], got {position}")
        rows = [list(row) for row in self.tokens]
        rows[sentence][position] = token
        return PaddedBatch(
            tuple(tuple(row) for row in rows), self.valid_lens.copy(), self.padding_side
        )

    def _check_sentence(self, sentence: int) -> None:
        if not 0 <= sentence < self.B:
            raise ValueError(f"sentence must lie in [0, {self.B - 1}], got {sentence}")


def pad_batch(
    sentences: Sequence[Sequence[str]],
    *,
    padding_side: PaddingSide = "right",
    pad_token: str = PAD,
) -> PaddedBatch:
    """Pad tokenized sentences with ``pad_token`` to the longest one.

    Args:
        sentences: ``B`` sequences of tokens; an empty sentence is allowed (it
            becomes all padding, with valid length 0).
        padding_side: put the padding after the words (``"right"``, the usual
            choice for encoders and training) or before them (``"left"``, for
            batched generation, so every sentence ends at the same position).

    Returns:
        A :class:`PaddedBatch` of ``B`` rows of length ``S = max len``.
    """
    if padding_side not in PADDING_SIDES:
        raise ValueError(f"padding_side must be one of {PADDING_SIDES}, got {padding_side!r}")
    if isinstance(sentences, str):
        raise ValueError("sentences must be a list of token lists, not one string")
    token_lists = [tuple(str(token) for token in sentence) for sentence in sentences]
    if not token_lists:
        raise ValueError("a batch needs at least one sentence")
    S = max(len(tokens) for tokens in token_lists)
    rows = []
    for tokens in token_lists:
        padding = (pad_token,) * (S - len(tokens))
        rows.append(padding + tokens if padding_side == "left" else tokens + padding)
    valid_lens = np.array([len(tokens) for tokens in token_lists], dtype=np.int64)
    return PaddedBatch(tuple(rows), valid_lens, padding_side)


def key_padding_mask(
    valid_lens: ArrayLike, S: int, padding_side: PaddingSide = "right"
) -> BoolArray:
    """Which key positions hold a real token, in SDPA's convention (``True`` = may attend).

    Right padding is :func:`lab.attention.padding_mask`; left padding is the same
    mask read backwards (the real tokens are the last ``valid_len`` positions).

    Returns:
        ``(..., S)`` boolean.
    """
    if padding_side not in PADDING_SIDES:
        raise ValueError(f"padding_side must be one of {PADDING_SIDES}, got {padding_side!r}")
    mask = padding_mask(valid_lens, S)  # (..., S), real tokens first
    return mask[..., ::-1].copy() if padding_side == "left" else mask


def attention_mask(
    kind: str, valid_lens: ArrayLike, S: int, padding_side: PaddingSide = "right"
) -> BoolArray:
    """The full boolean mask of one of :data:`MASK_KINDS`, ``True`` = may attend.

    * ``"none"``: every query sees every key, padding included.
    * ``"padding"``: no query sees a padding key (a padding *query* still sees
      the real keys; its row is computed and then ignored).
    * ``"causal"``: query ``i`` sees keys ``j <= i`` only (no look-ahead).
    * ``"padding + causal"``: both at once, what a decoder on a padded batch uses.

    Args:
        valid_lens: ``(B,)`` real tokens per sentence.
        S: padded length.

    Returns:
        ``(B, S, S)`` boolean: ``[b, i, j]`` says whether query ``i`` of sentence
        ``b`` may attend to key ``j``.
    """
    if kind not in MASK_KINDS:
        raise ValueError(f"kind must be one of {MASK_KINDS}, got {kind!r}")
    lens = np.asarray(valid_lens)
    if lens.ndim != 1:
        raise ValueError(f"valid_lens must be a 1-D list of lengths (B,), got shape {lens.shape}")
    keys = key_padding_mask(lens, S, padding_side)  # (B, S)
    B = keys.shape[0]
    allowed = np.ones((B, S, S), dtype=bool)
    if "padding" in kind:
        allowed &= keys[:, None, :]  # (B, 1, S): the same keys hidden from every query
    if "causal" in kind:
        allowed &= causal_mask(S)  # (S, S), broadcast over the batch
    return allowed


def mask_padding_queries(allowed: ArrayLike, real: ArrayLike) -> BoolArray:
    """Also forbid every key to the queries that are themselves padding.

    Some code builds the mask from both sides (``real_query & real_key``); then
    the rows of padding queries have no allowed key at all, the case where the
    ways of masking differ most.

    Args:
        allowed: ``(..., S, S)`` boolean mask.
        real: ``(..., S)`` boolean, ``True`` at real tokens.

    Returns:
        ``(..., S, S)``, a new array.
    """
    allowed_array = np.asarray(allowed)
    real_array = np.asarray(real)
    if allowed_array.dtype != np.bool_ or real_array.dtype != np.bool_:
        raise ValueError("allowed and real must both be boolean arrays")
    return allowed_array & real_array[..., :, None]  # (..., S, S)


def additive_mask(allowed: ArrayLike) -> FloatArray:
    """The float mask ``M`` added to the scores: 0 where allowed, ``-inf`` where not.

    ``softmax(scores + M)`` equals the boolean-masked softmax on every row with
    at least one allowed key (torch's SDPA accepts either form).
    """
    allowed_array = np.asarray(allowed)
    if allowed_array.dtype != np.bool_:
        raise ValueError(f"allowed must be boolean (True = may attend), got {allowed_array.dtype}")
    return np.where(allowed_array, 0.0, -np.inf)


def to_torch_key_padding_mask(real: ArrayLike) -> BoolArray:
    """Convert "True = real token" to ``nn.MultiheadAttention``'s "True = ignore this key".

    ``torch.nn.functional.scaled_dot_product_attention`` (and this lab) use
    ``True`` for *may attend*; ``nn.MultiheadAttention``'s ``key_padding_mask``
    and boolean ``attn_mask`` (and ``nn.Transformer*``) use ``True`` for *masked
    out*. Passing one where the other is expected silently attends to the
    padding only, so convert with this (it is just a logical not).

    Args:
        real: ``(B, S)`` boolean, ``True`` at real tokens.

    Returns:
        ``(B, S)`` boolean, ``True`` at padding.
    """
    real_array = np.asarray(real)
    if real_array.dtype != np.bool_:
        raise ValueError(f"the mask must be boolean, got dtype {real_array.dtype}")
    return ~real_array


def from_torch_key_padding_mask(ignored: ArrayLike) -> BoolArray:
    """The inverse of :func:`to_torch_key_padding_mask`: "True = ignore" to "True = may attend"."""
    return to_torch_key_padding_mask(ignored)


# ---------------------------------------------------------------- attention over the batch


@dataclass(frozen=True)
class BatchAttention:
    """Masked self-attention over a padded batch, every stage kept.

    Attributes:
        batch: the padded sentences.
        kind: one of :data:`MASK_KINDS`.
        x: ``(B, S, d)`` word vectors (padding has its own vector, like any word).
        q, k, v: ``(B, S, E)``, ``(B, S, E)``, ``(B, S, Ev)``.
        scores: ``(B, S, S)`` scaled scores ``Q K^T / sqrt(E)``, before masking.
        allowed: ``(B, S, S)`` the boolean mask (all ``True`` for ``"none"``).
        weights: ``(B, S, S)`` masked softmax of the scores.
        output: ``(B, S, Ev)`` ``weights @ v``.
    """

    batch: PaddedBatch
    kind: str
    x: FloatArray
    q: FloatArray
    k: FloatArray
    v: FloatArray
    scores: FloatArray
    allowed: BoolArray
    weights: FloatArray
    output: FloatArray

    @property
    def fully_masked(self) -> BoolArray:
        """``(B, S)``: queries with no key allowed (their weights and output are all 0)."""
        return ~self.allowed.any(axis=-1)

    @property
    def weight_on_padding(self) -> FloatArray:
        """``(B, S)``: the total weight each query puts on padding keys (0 when masked)."""
        padding_keys = ~self.batch.real[:, None, :]  # (B, 1, S)
        return np.where(padding_keys, self.weights, 0.0).sum(axis=-1)  # (B, S)


def embed_batch(batch: PaddedBatch, config: MaskingConfig = MaskingConfig()) -> FloatArray:
    """Word vectors for every token of the batch, ``(B, S, d)``.

    Uses :func:`lab.self_attention.embed`, so a word gets the same vector here as
    on the self-attention page; ``<pad>`` is just another word with its own vector.
    """
    return np.stack([embed(tokens, config.d_model, config.seed) for tokens in batch.tokens])


def batch_attention(
    batch: PaddedBatch, kind: str, config: MaskingConfig = MaskingConfig()
) -> BatchAttention:
    """Single-head self-attention over a padded batch with one of :data:`MASK_KINDS`.

    ``Q = X W_q``, ``K = X W_k``, ``V = X W_v``, then
    :func:`lab.attention.scaled_dot_product_attention` with the boolean mask of
    :func:`attention_mask`: forbidden scores become ``-inf``, a query with no
    allowed key gets zero weights and a zero output.

    Raises:
        ValueError: if the batch has no positions at all (every sentence empty).
    """
    if batch.S == 0:
        raise ValueError("every sentence of the batch is empty: there is nothing to attend to")
    if batch.padding_side != config.padding_side:
        raise ValueError(
            f"the batch is padded on the {batch.padding_side} but the config says "
            f"{config.padding_side}; pad it with pad_batch(..., padding_side=config.padding_side)"
        )
    x = embed_batch(batch, config)  # (B, S, d)
    w_q, w_k, w_v = projection_matrices(config.d_model, config.seed)
    q, k, v = x @ w_q, x @ w_k, x @ w_v  # (B, S, E), (B, S, E), (B, S, Ev)
    scale = 1.0 / math.sqrt(q.shape[-1])
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale  # (B, S, S)
    allowed = attention_mask(kind, batch.valid_lens, batch.S, batch.padding_side)  # (B, S, S)
    output, weights = scaled_dot_product_attention(
        q, k, v, mask=None if kind == "none" else allowed, scale=scale
    )  # (B, S, Ev), (B, S, S)
    return BatchAttention(batch, kind, x, q, k, v, scores, allowed, weights, output)


# ---------------------------------------------------------------- leakage


def output_change(before: ArrayLike, after: ArrayLike) -> FloatArray:
    """How far each output row moved: ``max_e |after[..., i, e] - before[..., i, e]|``.

    Args:
        before, after: ``(..., L, Ev)`` outputs of the same shape.

    Returns:
        ``(..., L)``, exactly 0 where a row did not change at all.
    """
    old = np.asarray(before, dtype=float)
    new = np.asarray(after, dtype=float)
    if old.shape != new.shape:
        raise ValueError(f"before has shape {old.shape} but after has {new.shape}")
    if old.ndim < 2:
        raise ValueError(f"outputs need a position axis and a feature axis, got shape {old.shape}")
    if old.shape[-1] == 0:
        return np.zeros(old.shape[:-1])
    return np.max(np.abs(new - old), axis=-1)


@dataclass(frozen=True)
class LeakageProbe:
    """One token changed; how much every output of its sentence moved, per mask kind.

    Attributes:
        sentence: which sentence of the batch was changed.
        position: which position was changed.
        old_token, new_token: the token before and after.
        tokens: the sentence's ``S`` tokens before the change.
        kinds: the ``K`` mask kinds compared.
        changes: ``(K, S)`` :func:`output_change` of every position under each kind.
    """

    sentence: int
    position: int
    old_token: str
    new_token: str
    tokens: tuple[str, ...]
    kinds: tuple[str, ...]
    changes: FloatArray

    def row(self, kind: str) -> FloatArray:
        """``(S,)``: the changes under one mask kind."""
        if kind not in self.kinds:
            raise ValueError(f"kind must be one of {self.kinds}, got {kind!r}")
        return self.changes[self.kinds.index(kind)]

    def earlier(self, kind: str) -> FloatArray:
        """``(position,)``: the changes at the positions before the changed one."""
        return self.row(kind)[: self.position]

    def max_earlier(self, kind: str) -> float:
        """The largest change at an earlier position (0 if there is none)."""
        earlier = self.earlier(kind)
        return float(earlier.max()) if earlier.size else 0.0

    def max_at(self, kind: str, positions: ArrayLike) -> float:
        """The largest change over the positions where ``positions`` (``(S,)`` bool) is True."""
        where = np.asarray(positions, dtype=bool)
        row = self.row(kind)
        if where.shape != row.shape:
            raise ValueError(f"positions must have shape {row.shape}, got {where.shape}")
        return float(row[where].max()) if where.any() else 0.0


def leakage_probe(
    batch: PaddedBatch,
    sentence: int,
    position: int,
    new_token: str,
    config: MaskingConfig = MaskingConfig(),
    kinds: Sequence[str] = MASK_KINDS,
) -> LeakageProbe:
    """Swap one token and measure, for every position, how much its output changed.

    Only the *content* at ``position`` changes; the valid lengths, hence the
    masks, stay the same (changing a ``<pad>`` is like garbage in the padding).
    Under a causal mask the positions before ``position`` cannot see it, so
    their outputs change by exactly 0, not by something small: the changed key
    only enters their rows through a weight that is exactly 0.

    Returns:
        A :class:`LeakageProbe` with ``changes`` of shape ``(K, S)``.
    """
    new_token = str(new_token)
    if not new_token:
        raise ValueError("new_token must be a non-empty token")
    changed = batch.replaced(sentence, position, new_token)
    kinds = tuple(kinds)
    rows = []
    for kind in kinds:
        before = batch_attention(batch, kind, config).output[sentence]  # (S, Ev)
        after = batch_attention(changed, kind, config).output[sentence]  # (S, Ev)
        rows.append(output_change(before, after))
    return LeakageProbe(
        sentence=sentence,
        position=position,
        old_token=batch.tokens[sentence][position],
        new_token=new_token,
        tokens=batch.tokens[sentence],
        kinds=kinds,
        changes=np.stack(rows),  # (K, S)
    )


# ---------------------------------------------------------------- the wrong ways (teaching)


def naive_softmax(scores: ArrayLike, axis: int = -1) -> FloatArray:
    """WRONG WAY (for teaching): the textbook softmax with no guard for empty rows.

    ``exp(s_i - max s) / sum_j exp(s_j - max s)``, computed in the input's own
    dtype. This is what ``torch.softmax`` does: a row that is entirely ``-inf``
    has ``max = -inf``, so ``-inf - (-inf)`` is NaN and the whole row is NaN.
    The NaN is produced on purpose here, so numpy's warning about it is silenced.
    Compare :func:`lab.attention.softmax`, which maps such a row to zeros.
    """
    array = np.asarray(scores)
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    with np.errstate(invalid="ignore"):  # the NaN of an all -inf row is the lesson
        shifted = array - np.max(array, axis=axis, keepdims=True)
        exps = np.exp(shifted)
        return exps / np.sum(exps, axis=axis, keepdims=True)


def naive_masked_softmax(scores: ArrayLike, mask: ArrayLike) -> FloatArray:
    """WRONG WAY (for teaching): fill with ``-inf`` (right) but use :func:`naive_softmax`.

    Every row with at least one allowed key is correct; a row with none is NaN,
    and one NaN spreads to everything computed from it downstream.
    """
    allowed = _bool_mask(mask)
    array = np.asarray(scores, dtype=float)
    return naive_softmax(np.where(allowed, array, -np.inf))


def stored_fill_value(fill: float, dtype: DTypeLike) -> float:
    """What a fill value becomes once stored in ``dtype``.

    ``-1e9`` is far below float16's lowest finite number (-65504), so it
    overflows to ``-inf``; so does ``-1e6``. (torch refuses outright:
    ``masked_fill(mask, -1e9)`` on a float16 tensor raises "value cannot be
    converted to type c10::Half without overflow".)
    """
    with np.errstate(over="ignore"):  # the overflow to -inf is what we want to show
        return float(np.asarray(fill, dtype=np.float64).astype(dtype))


def softmax_fill_large_negative(
    scores: ArrayLike, mask: ArrayLike, fill: float = WRONG_FILL, dtype: DTypeLike = np.float32
) -> FloatArray:
    """WRONG WAY (for teaching): replace masked scores with a big negative number.

    ``masked_fill(~mask, -1e9)`` followed by a plain softmax, computed in
    ``dtype``. On a row with at least one allowed key it looks right, because
    ``exp(-1e9)`` is exactly 0. On a row with *no* allowed key every entry is the
    same ``fill``, so the softmax is **uniform** over all keys, padding included:
    a silent, plausible-looking wrong answer instead of an empty row. In float16
    the fill itself overflows to ``-inf`` (see :func:`stored_fill_value`) and the
    same row turns into NaN.

    Args:
        scores: ``(..., L, S)``.
        mask: boolean, broadcastable to ``scores``; ``True`` = may attend.
        fill: the value written into masked entries (``-1e9``, ``-1e6``, ...).
        dtype: the precision to compute in (``np.float32``, ``np.float16``, ...).

    Returns:
        Weights of ``scores``' shape, in ``dtype`` (NaN rows possible in float16).
    """
    allowed = _bool_mask(mask)
    fill_value = np.asarray(stored_fill_value(fill, dtype), dtype=dtype)
    # -1e9 is deliberate here: this function exists to show why not to use it.
    filled = np.where(allowed, np.asarray(scores, dtype=np.float64).astype(dtype), fill_value)
    return naive_softmax(filled)


def softmax_then_multiply_mask(scores: ArrayLike, mask: ArrayLike) -> FloatArray:
    """WRONG WAY (for teaching): softmax over every key, then zero the masked weights.

    The masked weights do become 0, but the weight they had is thrown away
    instead of being shared among the allowed keys: the rows no longer sum to 1,
    so each output shrinks towards 0 by however much attention the padding or
    the future had drawn.
    """
    allowed = _bool_mask(mask)
    array = np.asarray(scores, dtype=float)
    weights = naive_softmax(array)
    return weights * allowed


def _bool_mask(mask: ArrayLike) -> BoolArray:
    array = np.asarray(mask)
    if array.dtype != np.bool_:
        raise ValueError(f"mask must be boolean (True = may attend), got dtype {array.dtype}")
    return array


# ---------------------------------------------------------------- the ways compared

METHODS: tuple[str, ...] = ("right", "naive", "large_negative", "multiply")
FullyMaskedOutcome = Literal["zeros", "uniform", "nan", "other"]


@dataclass(frozen=True)
class MethodResult:
    """One way of masking applied to one score matrix, with what came out of it.

    Attributes:
        method: one of :data:`METHODS`.
        weights: ``(L, S)`` as the method produced them (NaN possible).
        allowed: ``(L, S)`` the mask it was asked to apply.
    """

    method: str
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
        rows = ~self.fully_masked
        if not rows.any():
            return True
        sums = self.row_sums[rows]
        return bool(
            np.all(np.isfinite(sums))
            and np.all(self.masked_weight[rows] == 0)
            and np.all(np.abs(sums - 1.0) <= tolerance)
        )

    def fully_masked_outcome(self) -> FullyMaskedOutcome | None:
        """What the rows with no allowed key became, ``None`` if there is no such row.

        ``"zeros"`` (the right answer: nothing to attend to), ``"uniform"`` (the
        same weight on every key, padding included), ``"nan"``, or ``"other"``.
        """
        rows = self.weights[self.fully_masked].astype(np.float64)  # (n, S)
        if rows.shape[0] == 0:
            return None
        if np.isnan(rows).any():
            return "nan"
        if np.all(rows == 0):
            return "zeros"
        if np.allclose(rows, 1.0 / rows.shape[-1], rtol=1e-3, atol=0):
            return "uniform"
        return "other"


def compare_masking_methods(
    scores: ArrayLike,
    allowed: ArrayLike,
    *,
    fill: float = WRONG_FILL,
    dtype: DTypeLike = np.float32,
) -> tuple[MethodResult, ...]:
    """Apply every way of masking in :data:`METHODS` to the same scores.

    * ``"right"``: :func:`lab.attention.masked_softmax` (``-inf``, and zeros for
      a row with no allowed key);
    * ``"naive"``: :func:`naive_masked_softmax` (``-inf`` with a plain softmax);
    * ``"large_negative"``: :func:`softmax_fill_large_negative` with ``fill``
      in ``dtype``;
    * ``"multiply"``: :func:`softmax_then_multiply_mask`.

    Args:
        scores: ``(L, S)`` finite scores.
        allowed: ``(L, S)`` boolean, ``True`` = may attend.

    Returns:
        One :class:`MethodResult` per method, in :data:`METHODS` order.
    """
    array = np.asarray(scores, dtype=float)
    mask = _bool_mask(allowed)
    if array.ndim != 2 or mask.shape != array.shape:
        raise ValueError(
            f"scores and allowed must be matrices of one shape (L, S), got {array.shape} "
            f"and {mask.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("scores must be finite; masking is what adds -inf")
    weights = {
        "right": masked_softmax(array, mask),
        "naive": naive_masked_softmax(array, mask),
        "large_negative": softmax_fill_large_negative(array, mask, fill=fill, dtype=dtype),
        "multiply": softmax_then_multiply_mask(array, mask),
    }
    return tuple(MethodResult(method, weights[method], mask) for method in METHODS)
