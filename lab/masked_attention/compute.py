"""A padded batch, its masks, and masked self-attention over it, every stage kept.

A mask says which keys each query may look at. The right way (what
:mod:`lab.attention` does) turns forbidden scores into ``-inf`` before the
softmax, so their weights are exactly 0 and the allowed ones still sum to 1,
and gives a query with *no* allowed key all-zero weights.

This module builds the batch the masked-attention page draws: sentences of
different lengths padded to one length, the four kinds of mask (none,
padding, causal, both) on either padding side, the conversion to the opposite
boolean convention of ``torch.nn.MultiheadAttention``, and attention over the
batch with the lab's reproducible word vectors.

Shapes:
    B   sentences in the batch
    S   padded length; in self-attention every position is a query and a key,
        so the weights are ``(B, S, S)`` (``L = S``)
    E   query/key size (= d here)
    Ev  value size (= d here)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lab.attention import (
    BoolArray,
    FloatArray,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from lab.checks import as_bool, check_int
from lab.embeddings import embed, projection_matrices

IntArray = NDArray[np.integer]
EnumT = TypeVar("EnumT", bound=Enum)

PAD = "<pad>"  # what fills the short sentences; tokenize() splits a typed "<pad>" into 3 tokens
# The page's batch: four lengths, so the default three already need padding.
DEFAULT_SENTENCES = (
    "the cat sat on the mat",
    "dogs bark",
    "a small bird sings",
    "it rained all night",
)
DEFAULT_BATCH = 3  # sentences shown by default


class MaskKind(Enum):
    """Which keys each query may look at; the value is what the page and its address show."""

    NONE = "none"
    PADDING = "padding"
    CAUSAL = "causal"
    PADDING_AND_CAUSAL = "padding + causal"

    @property
    def padding(self) -> bool:
        """Whether no query may look at a padding key."""
        return self in (MaskKind.PADDING, MaskKind.PADDING_AND_CAUSAL)

    @property
    def causal(self) -> bool:
        """Whether query ``i`` may look at keys ``j <= i`` only."""
        return self in (MaskKind.CAUSAL, MaskKind.PADDING_AND_CAUSAL)


class PaddingSide(Enum):
    """Where the padding goes: after the words (training, encoders) or before them."""

    RIGHT = "right"
    LEFT = "left"


def as_member(enum: type[EnumT], value: object, name: str) -> EnumT:
    """``value`` as a member of ``enum``; a member's value (a string) is accepted too.

    The error names the argument and every value it may take.
    """
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(repr(item.value) for item in enum)
        raise ValueError(f"{name} must be one of {choices}, got {value!r}") from None


@dataclass(frozen=True)
class MaskingConfig:
    """Settings of the masked-attention demo."""

    d_model: int = 4  # embedding size d (= E = Ev); small, since only the masks matter here
    seed: int = 0  # draws the word vectors and W_q, W_k, W_v, as on the self-attention page
    padding_side: PaddingSide = PaddingSide.RIGHT  # LEFT is how batches are padded to generate
    max_d_model: int = 16  # same limit as the self-attention page

    def __post_init__(self) -> None:
        check_int("d_model", self.d_model, minimum=1, maximum=self.max_d_model)
        check_int("seed", self.seed, minimum=0)
        side = as_member(PaddingSide, self.padding_side, "padding_side")
        object.__setattr__(self, "padding_side", side)  # a string value becomes the member


# ---------------------------------------------------------------- the batch and its masks


@dataclass(frozen=True)
class PaddedBatch:
    """Sentences of different lengths padded with :data:`PAD` to one length ``S``.

    Attributes:
        tokens: ``B`` tuples of ``S`` tokens each, padding included.
        valid_lens: ``(B,)`` how many real tokens each sentence has (0 is allowed).
        padding_side: after the words (:attr:`PaddingSide.RIGHT`) or before them.
    """

    tokens: tuple[tuple[str, ...], ...]
    valid_lens: IntArray
    padding_side: PaddingSide = PaddingSide.RIGHT

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
        valid = int(self.valid_lens[sentence])
        if valid == 0:
            return self.S
        return self.S - valid if self.padding_side is PaddingSide.LEFT else 0

    def last_real(self, sentence: int) -> int | None:
        """Position of the last real token of a sentence, ``None`` if it has none."""
        self._check_sentence(sentence)
        valid = int(self.valid_lens[sentence])
        if valid == 0:
            return None
        return self.S - 1 if self.padding_side is PaddingSide.LEFT else valid - 1

    def most_padded(self, *, with_words: bool = False) -> int:
        """The sentence with the most padding (the first of a tie).

        With ``with_words``, among the sentences that have at least one real
        token (if there is none, among all).
        """
        lens = np.asarray(self.valid_lens)
        if with_words:
            # An empty sentence never wins; if all are empty, all tie and the first wins.
            lens = np.where(lens > 0, lens, np.inf)
        return int(np.argmin(lens))

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
    padding_side: PaddingSide | str = PaddingSide.RIGHT,
    pad_token: str = PAD,
) -> PaddedBatch:
    """Pad tokenized sentences with ``pad_token`` to the longest one.

    Args:
        sentences: ``B`` sequences of tokens; an empty sentence is allowed (it
            becomes all padding, with valid length 0).
        padding_side: put the padding after the words (right, the usual choice
            for encoders and training) or before them (left, for batched
            generation, so every sentence ends at the same position).

    Returns:
        A :class:`PaddedBatch` of ``B`` rows of length ``S = max len``.
    """
    side = as_member(PaddingSide, padding_side, "padding_side")
    if isinstance(sentences, str):
        raise ValueError("sentences must be a list of token lists, not one string")
    token_lists = [tuple(str(token) for token in sentence) for sentence in sentences]
    if not token_lists:
        raise ValueError("a batch needs at least one sentence")
    S = max(len(tokens) for tokens in token_lists)
    rows = []
    for tokens in token_lists:
        padding = (pad_token,) * (S - len(tokens))
        rows.append(padding + tokens if side is PaddingSide.LEFT else tokens + padding)
    valid_lens = np.array([len(tokens) for tokens in token_lists], dtype=np.int64)
    return PaddedBatch(tuple(rows), valid_lens, side)


def key_padding_mask(
    valid_lens: ArrayLike, S: int, padding_side: PaddingSide | str = PaddingSide.RIGHT
) -> BoolArray:
    """Which key positions hold a real token, in SDPA's convention (``True`` = may attend).

    Right padding is :func:`lab.attention.padding_mask`; left padding is the same
    mask read backwards (the real tokens are the last ``valid_len`` positions).

    Returns:
        ``(..., S)`` boolean.
    """
    side = as_member(PaddingSide, padding_side, "padding_side")
    mask = padding_mask(valid_lens, S)  # (..., S), real tokens first
    return mask[..., ::-1].copy() if side is PaddingSide.LEFT else mask


def attention_mask(
    kind: MaskKind | str,
    valid_lens: ArrayLike,
    S: int,
    padding_side: PaddingSide | str = PaddingSide.RIGHT,
) -> BoolArray:
    """The full boolean mask of one :class:`MaskKind`, ``True`` = may attend.

    * none: every query sees every key, padding included.
    * padding: no query sees a padding key (a padding *query* still sees the
      real keys; its row is computed and then ignored).
    * causal: query ``i`` sees keys ``j <= i`` only (no look-ahead).
    * padding + causal: both at once, what a decoder on a padded batch uses.

    Args:
        valid_lens: ``(B,)`` real tokens per sentence.
        S: padded length.

    Returns:
        ``(B, S, S)`` boolean: ``[b, i, j]`` says whether query ``i`` of sentence
        ``b`` may attend to key ``j``.
    """
    kind = as_member(MaskKind, kind, "kind")
    lens = np.asarray(valid_lens)
    if lens.ndim != 1:
        raise ValueError(f"valid_lens must be a 1-D list of lengths (B,), got shape {lens.shape}")
    keys = key_padding_mask(lens, S, padding_side)  # (B, S)
    allowed = np.ones((keys.shape[0], S, S), dtype=bool)  # (B, S, S)
    if kind.padding:
        allowed &= keys[:, None, :]  # (B, 1, S): the same keys hidden from every query
    if kind.causal:
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
    return as_bool("allowed", allowed) & as_bool("real", real)[..., :, None]  # (..., S, S)


def additive_mask(allowed: ArrayLike) -> FloatArray:
    """The float mask ``M`` added to the scores: 0 where allowed, ``-inf`` where not.

    ``softmax(scores + M)`` equals the boolean-masked softmax on every row with
    at least one allowed key (torch's SDPA accepts either form).
    """
    return np.where(as_bool("allowed", allowed), 0.0, -np.inf)


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
    return ~as_bool("real", real)


def from_torch_key_padding_mask(ignored: ArrayLike) -> BoolArray:
    """The inverse of :func:`to_torch_key_padding_mask`: "True = ignore" to "True = may attend"."""
    return ~as_bool("ignored", ignored)


# ---------------------------------------------------------------- attention over the batch


@dataclass(frozen=True)
class BatchAttention:
    """Masked self-attention over a padded batch, every stage kept.

    Attributes:
        batch: the padded sentences.
        kind: the :class:`MaskKind` applied.
        x: ``(B, S, d)`` word vectors (padding has its own vector, like any word).
        q, k, v: ``(B, S, E)``, ``(B, S, E)``, ``(B, S, Ev)``.
        scores: ``(B, S, S)`` scaled scores ``Q K^T / sqrt(E)``, before masking.
        allowed: ``(B, S, S)`` the boolean mask (all ``True`` for none).
        weights: ``(B, S, S)`` masked softmax of the scores.
        output: ``(B, S, Ev)`` ``weights @ v``.
    """

    batch: PaddedBatch
    kind: MaskKind
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

    Uses :func:`lab.embeddings.embed`, so a word gets the same vector here as
    on the self-attention page; ``<pad>`` is just another word with its own vector.
    """
    return np.stack([embed(tokens, config.d_model, config.seed) for tokens in batch.tokens])


def batch_attention(
    batch: PaddedBatch, kind: MaskKind | str, config: MaskingConfig = MaskingConfig()
) -> BatchAttention:
    """Single-head self-attention over a padded batch with one :class:`MaskKind`.

    ``Q = X W_q``, ``K = X W_k``, ``V = X W_v``, then
    :func:`lab.attention.scaled_dot_product_attention` with the boolean mask of
    :func:`attention_mask`: forbidden scores become ``-inf``, a query with no
    allowed key gets zero weights and a zero output.

    Raises:
        ValueError: if the batch has no positions at all (every sentence empty),
            or is padded on another side than ``config`` says.
    """
    kind = as_member(MaskKind, kind, "kind")
    if batch.S == 0:
        raise ValueError("every sentence of the batch is empty: there is nothing to attend to")
    if batch.padding_side is not config.padding_side:
        raise ValueError(
            f"the batch is padded on the {batch.padding_side.value} but the config says "
            f"{config.padding_side.value}; pad it with "
            "pad_batch(..., padding_side=config.padding_side)"
        )
    x = embed_batch(batch, config)  # (B, S, d)
    w_q, w_k, w_v = projection_matrices(config.d_model, config.seed)
    q, k, v = x @ w_q, x @ w_k, x @ w_v  # (B, S, E), (B, S, E), (B, S, Ev)
    scale = 1.0 / math.sqrt(q.shape[-1])
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale  # (B, S, S)
    allowed = attention_mask(kind, batch.valid_lens, batch.S, batch.padding_side)  # (B, S, S)
    output, weights = scaled_dot_product_attention(
        q, k, v, mask=allowed, scale=scale
    )  # (B, S, Ev), (B, S, S); under NONE every entry of `allowed` is True
    return BatchAttention(batch, kind, x, q, k, v, scores, allowed, weights, output)
