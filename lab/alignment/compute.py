"""Additive attention, and reading an attention map against a true alignment, in numpy.

Additive scoring compares a query with each key through a small MLP with one
tanh layer, so queries and keys may have different sizes:

    score(q, k) = w_v · tanh(q W_q + k W_k)
    weights     = softmax(scores + mask),   output = weights V

An alignment map from a translation model has one row per output position
(the decoder's query at that step) and one column per input position (the
encoder's key). The *alignment score* is the share of each output word's
attention that lands on the input word it truly translates, averaged over
sentences: 1 for a map that is exactly the true alignment, ``1 / S`` on
average for uniform attention.

Shapes:
    B    batch (any number of leading dimensions, written ``...``)
    L    queries (output positions; ``T`` for one translated sentence)
    S    keys and values (input positions)
    Dq   query size
    Dk   key size
    Dv   value size
    H    hidden units of the additive scoring MLP

Masks follow ``lab.attention`` (and torch's SDPA): a boolean mask is ``True``
where a query may attend; a float mask is added to the scores; a query whose
every key is masked gets all-zero weights and a zero output.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lab.attention import FloatArray, broadcast_batch, check_one_value_per_key, weights_from_scores
from lab.checks import as_real

IntArray = NDArray[np.int64]


def additive_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    w_q: ArrayLike,
    w_k: ArrayLike,
    w_v: ArrayLike,
    *,
    mask: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Additive (MLP) attention that also returns its weights.

    ``score[i, j] = w_v · tanh(q_i W_q + k_j W_k)``, ``weights = softmax(score + M)``
    along the keys, ``output = weights V``.

    Args:
        query: ``(..., L, Dq)``.
        key: ``(..., S, Dk)``.
        value: ``(..., S, Dv)``.
        w_q: ``(Dq, H)`` maps queries into the MLP's hidden layer.
        w_k: ``(Dk, H)`` maps keys into the same hidden layer.
        w_v: ``(H,)`` reads one score out of the hidden layer.
        mask: boolean (``True`` = may attend) or float (added to the scores),
            broadcastable to ``(..., L, S)``. A query with every key masked
            gets zero weights and a zero output.

    Returns:
        ``(output, weights)`` of shapes ``(..., L, Dv)`` and ``(..., L, S)``.
    """
    q = as_real("query", query, min_ndim=2, finite=True)
    k = as_real("key", key, min_ndim=2, finite=True)
    v = as_real("value", value, min_ndim=2, finite=True)
    query_map = as_real("w_q", w_q, ndim=2, finite=True)
    key_map = as_real("w_k", w_k, ndim=2, finite=True)
    readout = as_real("w_v", w_v, ndim=1, finite=True)
    if query_map.shape[0] != q.shape[-1]:
        raise ValueError(
            f"query has size {q.shape[-1]} in its last axis but w_q has "
            f"{query_map.shape[0]} rows; w_q must be (Dq, H) with Dq = {q.shape[-1]}"
        )
    if key_map.shape[0] != k.shape[-1]:
        raise ValueError(
            f"key has size {k.shape[-1]} in its last axis but w_k has "
            f"{key_map.shape[0]} rows; w_k must be (Dk, H) with Dk = {k.shape[-1]}"
        )
    if not query_map.shape[1] == key_map.shape[1] == readout.shape[0]:
        raise ValueError(
            f"w_q has {query_map.shape[1]} columns, w_k {key_map.shape[1]} and w_v "
            f"{readout.shape[0]} entries; all three must equal the hidden size H"
        )
    check_one_value_per_key(k, v)
    if k.shape[-2] == 0:
        raise ValueError("key has no positions; a query needs at least one key to attend to")
    batch = broadcast_batch(q, k, v)

    L, S = q.shape[-2], k.shape[-2]
    projected_q = q @ query_map  # (..., L, H)
    projected_k = k @ key_map  # (..., S, H)
    hidden = np.tanh(projected_q[..., :, None, :] + projected_k[..., None, :, :])  # (..., L, S, H)
    scores = hidden @ readout  # (..., L, S)

    weights = weights_from_scores(scores, mask, (*batch, L, S))  # (..., L, S)
    output = weights @ v  # (..., L, Dv)
    return output, weights


# ----------------------------------------------------------------------------
# Reading a map against the true alignment
# ----------------------------------------------------------------------------


def _check_map(weights: ArrayLike, alignment: ArrayLike) -> tuple[FloatArray, IntArray]:
    """``weights (T, S)`` and ``alignment (T,)`` checked against each other."""
    array = as_real("weights", weights, ndim=2, finite=True)
    positions = np.asarray(alignment)
    if positions.ndim == 1 and positions.size == 0:
        positions = positions.astype(np.int64)  # np.asarray([]) is float64
    if positions.ndim != 1 or not np.issubdtype(positions.dtype, np.integer):
        raise ValueError(
            f"alignment must be a 1-D array of whole numbers, got shape {positions.shape} "
            f"and dtype {positions.dtype}"
        )
    if positions.shape[0] != array.shape[0]:
        raise ValueError(
            f"weights have {array.shape[0]} rows (output positions) but alignment has "
            f"{positions.shape[0]} entries; give one true source position per row"
        )
    if positions.size and (positions.min() < 0 or positions.max() >= array.shape[1]):
        raise ValueError(
            f"alignment entries must lie in [0, {array.shape[1] - 1}] (the weights' columns), "
            f"got {positions.tolist()}"
        )
    return array, positions.astype(np.int64)


def attention_on_truth(weights: ArrayLike, alignment: ArrayLike) -> FloatArray:
    """The weight each output position puts on its true source position.

    ``a_t = weights[t, alignment[t]]``.

    Args:
        weights: ``(T, S)`` one attention row per output position.
        alignment: ``(T,)`` the true source position of each output position.

    Returns:
        ``(T,)`` shares in ``[0, 1]``.
    """
    array, positions = _check_map(weights, alignment)
    return array[np.arange(len(positions)), positions]


def alignment_mask(alignment: ArrayLike, source_length: int) -> NDArray[np.bool_]:
    """The true alignment as a ``(T, S)`` boolean map (one ``True`` per row), to outline cells."""
    positions = np.asarray(alignment)
    shape = (positions.shape[0] if positions.ndim == 1 else 0, source_length)
    _check_map(np.zeros(shape), positions)
    return np.arange(source_length) == positions[:, None]  # (T, S)


def sentence_alignment_score(weights: ArrayLike, alignment: ArrayLike) -> float:
    """One sentence's alignment score: the mean share of attention on the true word.

    ``score = (1 / T) sum_t weights[t, alignment[t]]``, over the rows given
    (pass the rows of output *words*; leave out the ``<eos>`` row).

    Args:
        weights: ``(T, S)`` with ``T >= 1``.
        alignment: ``(T,)`` true source positions.

    Returns:
        A number in ``[0, 1]``.
    """
    shares = attention_on_truth(weights, alignment)
    if shares.size == 0:
        raise ValueError("the sentence has no output words to score; pass at least one row")
    return float(shares.mean())


def alignment_score(weights: Sequence[ArrayLike], alignments: Sequence[ArrayLike]) -> float:
    """The alignment score of a set of sentences: the mean of their sentence scores.

    ``score = (1 / N) sum_n (1 / T_n) sum_t weights_n[t, alignment_n[t]]``.

    Args:
        weights: ``N`` maps, each ``(T_n, S_n)``.
        alignments: ``N`` arrays, each ``(T_n,)``.

    Returns:
        A number in ``[0, 1]``.
    """
    if len(weights) != len(alignments):
        raise ValueError(
            f"got {len(weights)} attention maps but {len(alignments)} alignments; "
            "give one alignment per map"
        )
    if not weights:
        raise ValueError("alignment_score needs at least one sentence")
    return float(
        np.mean([sentence_alignment_score(w, a) for w, a in zip(weights, alignments, strict=True)])
    )


def chance_alignment_score(source_lengths: Sequence[int]) -> float:
    """What uniform attention would score: ``(1 / N) sum_n 1 / S_n``.

    Args:
        source_lengths: ``N`` source lengths ``S_n`` (every position a map's row
            spreads over, ``<eos>`` included), each >= 1.
    """
    lengths = np.asarray(source_lengths)
    if lengths.ndim != 1 or lengths.size == 0 or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError("source_lengths must be a non-empty list of whole numbers")
    if lengths.min() < 1:
        raise ValueError(f"every source length must be at least 1, got {lengths.tolist()}")
    return float(np.mean(1.0 / lengths))


# ----------------------------------------------------------------------------
# Where attention maps mislead
# ----------------------------------------------------------------------------


class MapReading(enum.Enum):
    """How an attention row and the word produced at that step can disagree."""

    WRONG_PLACE_RIGHT_WORD = "the map looks wrong, the output is right"
    RIGHT_PLACE_WRONG_WORD = "the map looks right, the output is wrong"


@dataclass(frozen=True)
class MisleadingStep:
    """One output step where the map and the output tell different stories.

    Attributes:
        step: the output position ``t``.
        reading: which disagreement (:class:`MapReading`).
        true_position: the source position the output word truly comes from.
        top_position: the source position with the largest weight.
        on_truth: the weight on ``true_position``.
        top_weight: the weight on ``top_position``.
        predicted: the token id the model ranked first.
        expected: the correct token id.
    """

    step: int
    reading: MapReading
    true_position: int
    top_position: int
    on_truth: float
    top_weight: float
    predicted: int
    expected: int


def misleading_steps(
    weights: ArrayLike, alignment: ArrayLike, predicted: ArrayLike, expected: ArrayLike
) -> list[MisleadingStep]:
    """The steps where reading the map as an explanation would mislead.

    A row *looks right* when its largest weight is on the true source position
    (``argmax_j weights[t, j] == alignment[t]``). A step is listed when it looks
    wrong but the model's word is right, or looks right but the word is wrong.
    Compare under teacher forcing, so every step has a correct word.

    Args:
        weights: ``(T, S)``.
        alignment: ``(T,)`` true source positions.
        predicted: ``(T,)`` the model's top token at each step.
        expected: ``(T,)`` the correct token at each step.

    Returns:
        The disagreeing steps, in order.
    """
    array, positions = _check_map(weights, alignment)
    guesses, answers = np.asarray(predicted), np.asarray(expected)
    if guesses.shape != positions.shape or answers.shape != positions.shape:
        raise ValueError(
            f"predicted {guesses.shape} and expected {answers.shape} must both have shape "
            f"{positions.shape}, one token per row of the weights"
        )
    found = []
    for step, (row, truth) in enumerate(zip(array, positions, strict=True)):
        top = int(np.argmax(row))
        looks_right = top == truth
        is_right = guesses[step] == answers[step]
        if looks_right == is_right:
            continue
        reading = (
            MapReading.RIGHT_PLACE_WRONG_WORD if looks_right else MapReading.WRONG_PLACE_RIGHT_WORD
        )
        found.append(
            MisleadingStep(
                step,
                reading,
                int(truth),
                top,
                float(row[truth]),
                float(row[top]),
                int(guesses[step]),
                int(answers[step]),
            )
        )
    return found
