"""Word order and self-attention: shuffle the words, and the outputs shuffle the same way.

Self-attention computes ``softmax(Q K^T / sqrt(E)) V`` from the rows of ``X``
alone. Reordering the rows with a permutation matrix ``P`` reorders the queries,
keys and values alike, and the result is the old result reordered:

    attn(P X) = P attn(X),    weights(P X) = P weights(X) P^T

(*permutation equivariance*; measured, the two sides differ only by rounding,
about 1e-16). Adding a positional encoding ``PE`` to the word vectors breaks
this, because the words move and the positions stay where they are:
``attn(P X + PE)`` is not ``P attn(X + PE)``. For the same reason two copies of
one word get identical attention rows without positions and different rows
with them.

Shapes (one sentence, no batch axis):
    L   tokens; every token is a query and a key, so S = L
    S   keys (= L)
    d   model size: the width of the word vectors and of the encoding
    E   query/key size (= d here)
    Ev  value size (= d here)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lab.attention import scaled_dot_product_attention
from lab.checks import FloatArray, as_matrix, as_real, check_float, check_int
from lab.embeddings import embed, projection_matrices
from lab.position.compute import DEFAULT_BASE, sinusoidal_positions
from lab.text import DEFAULT_MAX_TOKENS

MAX_TOKENS = DEFAULT_MAX_TOKENS  # the sentence box keeps this many tokens, as on other pages
MAX_SENTENCE_D_MODEL = 16  # same limit as the step-by-step page: matrices stay readable
# Two rows count as identical when no entry differs by more than this. Two copies
# of a word give bit-for-bit equal rows; 1e-12 only forgives a BLAS that sums
# the rows in another order.
ROW_TOLERANCE = 1e-12

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class SentenceConfig:
    """Settings of the sentence half of the order-and-position demo."""

    d_model: int = 8  # d (= E = Ev); even, so every sine column has its cosine partner
    seed: int = 0  # draws the word vectors and W_q, W_k, W_v, as on the step-by-step page
    base: float = DEFAULT_BASE  # base of the sinusoidal encoding added to the word vectors

    def __post_init__(self) -> None:
        check_int("d_model", self.d_model, minimum=1, maximum=MAX_SENTENCE_D_MODEL)
        check_int("seed", self.seed, minimum=0)
        check_float("base", self.base, positive=True)


@dataclass(frozen=True)
class AttentionRun:
    """Single-head self-attention on one sentence, with or without positions.

    Attributes:
        tokens: the ``L`` tokens, in the order they were fed in.
        positional: whether sinusoidal encodings were added to the word vectors.
        x: ``(L, d)`` the input: word vectors, plus ``PE`` if ``positional``.
        weights: ``(L, L)`` attention weights, ``x`` rows as queries and keys;
            rows sum to 1.
        output: ``(L, Ev)`` ``weights @ V``.
    """

    tokens: tuple[str, ...]
    positional: bool
    x: FloatArray
    weights: FloatArray
    output: FloatArray


@dataclass(frozen=True)
class OrderComparison:
    """Attention on a sentence and on its reordering, and how far ``attn(P X)`` is from ``P attn(X)``.

    Attributes:
        original: the run on the sentence as typed.
        permuted: the run on the reordered sentence (positions, if any, stay in place).
        expected_output: ``(L, Ev)`` ``P @ original.output``: the original rows, reordered.
        expected_weights: ``(L, L)`` ``P @ original.weights @ P^T``.
        gap: ``max |permuted.output - expected_output|``; rounding level (about
            1e-16, often exactly 0) without positions, clearly above 0 with them.
        weights_gap: ``max |permuted.weights - expected_weights|``, likewise.
    """

    original: AttentionRun
    permuted: AttentionRun
    expected_output: FloatArray
    expected_weights: FloatArray
    gap: float
    weights_gap: float


@dataclass(frozen=True)
class PermutationCheck:
    """The permutation test of self-attention, without and with positional encodings.

    Attributes:
        tokens: the sentence as typed.
        permuted_tokens: ``permuted_tokens[i] = tokens[permutation[i]]``.
        permutation: ``(L,)`` which original position lands in each new slot.
        matrix: ``(L, L)`` the permutation matrix ``P``, ``P[i, permutation[i]] = 1``,
            so that ``P @ X`` has the rows of ``X`` in the new order.
        without_positions: the comparison on bare word vectors (equivariant).
        with_positions: the comparison with sinusoidal encodings added (not equivariant).
    """

    tokens: tuple[str, ...]
    permuted_tokens: tuple[str, ...]
    permutation: IntArray
    matrix: FloatArray
    without_positions: OrderComparison
    with_positions: OrderComparison

    @property
    def is_identity(self) -> bool:
        """True if nothing moved (a one-token sentence): both gaps are then 0."""
        return bool(np.array_equal(self.permutation, np.arange(len(self.tokens))))


@dataclass(frozen=True)
class RepeatedWord:
    """A word that occurs more than once, and how far apart its rows are.

    Attributes:
        word: the word, lower-cased (as the embedding reads it: "The" = "the").
        positions: where it stands, in increasing order (at least two).
        weights_gap_without: max difference between its weight rows without
            positions: 0, since every copy has the same query and sees the same keys.
        weights_gap_with: the same with sinusoidal encodings: above 0.
        output_gap_without: max difference between its output rows without positions: 0.
        output_gap_with: the same with positions: above 0, the copies now mean
            different things.
    """

    word: str
    positions: tuple[int, ...]
    weights_gap_without: float
    weights_gap_with: float
    output_gap_without: float
    output_gap_with: float


@dataclass(frozen=True)
class PositionEffect:
    """One sentence's attention without and with sinusoidal positions.

    Attributes:
        tokens: the sentence.
        without_positions: the run on bare word vectors.
        with_positions: the run with sinusoidal encodings added.
        identical_without: groups of query rows with identical weights without
            positions (see :func:`identical_rows`): the repeated words.
        identical_with: the same with positions: normally empty.
        repeated: one entry per word that occurs more than once.
    """

    tokens: tuple[str, ...]
    without_positions: AttentionRun
    with_positions: AttentionRun
    identical_without: tuple[tuple[int, ...], ...]
    identical_with: tuple[tuple[int, ...], ...]
    repeated: tuple[RepeatedWord, ...]


def _check_tokens(tokens: Sequence[str]) -> tuple[str, ...]:
    sentence = tuple(tokens)
    if not sentence:
        raise ValueError("tokens is empty; give at least one token (a word or a punctuation mark)")
    if len(sentence) > MAX_TOKENS:
        raise ValueError(
            f"tokens has {len(sentence)} tokens but at most {MAX_TOKENS} fit; "
            "shorten the sentence (lab.text.tokenize cuts it for you)"
        )
    for index, token in enumerate(sentence):
        if not isinstance(token, str) or not token:
            raise ValueError(
                f"every token must be a non-empty string, got {token!r} at index {index}"
            )
    return sentence


def _check_permutation(permutation: ArrayLike, length: int | None = None) -> IntArray:
    order = as_real("permutation", permutation, ndim=1, finite=True)
    size = order.shape[0]
    if length is not None and size != length:
        raise ValueError(
            f"permutation has {size} entries but the sentence has {length} tokens; "
            "give one entry per token"
        )
    if size == 0:
        raise ValueError("permutation is empty; give one entry per token")
    if not np.array_equal(np.sort(order), np.arange(size)):
        raise ValueError(
            f"permutation must hold each of 0, ..., {size - 1} exactly once, "
            f"got {np.asarray(permutation).tolist()}"
        )
    return order.astype(np.int64)


def shuffle_permutation(length: int, *, seed: int = 0) -> IntArray:
    """A random reordering of ``L`` positions that moves something whenever it can.

    A shuffle that changes nothing would show nothing, so for ``L >= 2`` the
    identity is drawn again (from the same seeded stream, so the result is
    still fixed by the seed). For ``L = 1`` the only permutation is ``[0]``.

    Args:
        length: ``L``, in ``[1, MAX_TOKENS]``.
        seed: >= 0.

    Returns:
        ``(L,)`` integers: slot ``i`` of the shuffled sentence takes the token
        at position ``permutation[i]``.
    """
    length = check_int("length", length, minimum=1, maximum=MAX_TOKENS)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    identity = np.arange(length)
    order = rng.permutation(length)
    while length >= 2 and np.array_equal(order, identity):
        order = rng.permutation(length)
    return order.astype(np.int64)


def swap_permutation(length: int, first: int, second: int) -> IntArray:
    """The permutation that swaps two positions and leaves the rest in place.

    Args:
        length: ``L``, in ``[2, MAX_TOKENS]``.
        first: a position in ``[0, L - 1]``.
        second: another position in ``[0, L - 1]``, different from ``first``.

    Returns:
        ``(L,)`` integers: the identity with entries ``first`` and ``second`` exchanged.
    """
    length = check_int("length", length, minimum=2, maximum=MAX_TOKENS)
    first = check_int("first", first, minimum=0, maximum=length - 1)
    second = check_int("second", second, minimum=0, maximum=length - 1)
    if first == second:
        raise ValueError(f"first and second are both {first}; pick two different positions")
    order = np.arange(length, dtype=np.int64)
    order[[first, second]] = second, first
    return order


def permutation_matrix(permutation: ArrayLike) -> FloatArray:
    """The matrix ``P`` that reorders rows: ``P[i, permutation[i]] = 1``, else 0.

    ``P @ X == X[permutation]`` row for row, ``P^T = P^(-1)``, and each row and
    column holds a single 1.

    Args:
        permutation: ``(L,)`` each of ``0, ..., L - 1`` once.

    Returns:
        ``(L, L)`` float64 of zeros and ones.
    """
    order = _check_permutation(permutation)
    length = order.shape[0]
    matrix = np.zeros((length, length))
    matrix[np.arange(length), order] = 1.0
    return matrix


def run_self_attention(
    tokens: Sequence[str], config: SentenceConfig = SentenceConfig(), *, positional: bool = False
) -> AttentionRun:
    """Single-head self-attention on a sentence, optionally with sinusoidal positions.

    ``X = embed(tokens) (+ PE)``, ``Q, K, V = X W_q, X W_k, X W_v``,
    ``weights = softmax(Q K^T / sqrt(E))``, ``output = weights V``, with the
    word vectors and ``W_q, W_k, W_v`` of :mod:`lab.self_attention` (a word's
    vector depends on the lower-cased word and the seed only) and
    :func:`lab.attention.scaled_dot_product_attention`.

    Args:
        tokens: ``L`` tokens, ``1 <= L <= MAX_TOKENS``.
        config: ``d``, the seed and the encoding's base.
        positional: add ``sinusoidal_positions(L, d, base=config.base)`` to the word vectors.

    Returns:
        An :class:`AttentionRun`.
    """
    sentence = _check_tokens(tokens)
    embeddings = embed(sentence, config.d_model, config.seed)  # (L, d)
    if positional:
        x = embeddings + sinusoidal_positions(len(sentence), config.d_model, base=config.base)
    else:
        x = embeddings
    w_q, w_k, w_v = projection_matrices(config.d_model, config.seed)  # (d, E), (d, E), (d, Ev)
    output, weights = scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v)  # (L, Ev), (L, L)
    return AttentionRun(tokens=sentence, positional=positional, x=x, weights=weights, output=output)


def _compare_orders(
    sentence: tuple[str, ...],
    permuted_tokens: tuple[str, ...],
    matrix: FloatArray,
    config: SentenceConfig,
    *,
    positional: bool,
) -> OrderComparison:
    original = run_self_attention(sentence, config, positional=positional)
    permuted = run_self_attention(permuted_tokens, config, positional=positional)
    expected_output = matrix @ original.output  # (L, Ev)
    expected_weights = matrix @ original.weights @ matrix.T  # (L, L)
    return OrderComparison(
        original=original,
        permuted=permuted,
        expected_output=expected_output,
        expected_weights=expected_weights,
        gap=float(np.max(np.abs(permuted.output - expected_output))),
        weights_gap=float(np.max(np.abs(permuted.weights - expected_weights))),
    )


def permutation_check(
    tokens: Sequence[str], permutation: ArrayLike, config: SentenceConfig = SentenceConfig()
) -> PermutationCheck:
    """Measure ``max |attn(P X) - P attn(X)|`` without and with sinusoidal positions.

    ``X`` holds the word vectors. Without positions the gap is rounding (about
    1e-16, often exactly 0): self-attention is permutation-equivariant. With
    positions the words move but ``PE`` stays put, so ``attn(P X + PE)`` is
    compared with ``P attn(X + PE)``, and the gap is far above rounding.

    Args:
        tokens: ``L`` tokens, ``1 <= L <= MAX_TOKENS``.
        permutation: ``(L,)`` from :func:`shuffle_permutation` or
            :func:`swap_permutation` (any reordering of ``0, ..., L - 1``).
        config: ``d``, the seed and the encoding's base.

    Returns:
        A :class:`PermutationCheck`.
    """
    sentence = _check_tokens(tokens)
    order = _check_permutation(permutation, len(sentence))
    matrix = permutation_matrix(order)  # (L, L)
    permuted_tokens = tuple(sentence[index] for index in order)
    return PermutationCheck(
        tokens=sentence,
        permuted_tokens=permuted_tokens,
        permutation=order,
        matrix=matrix,
        without_positions=_compare_orders(
            sentence, permuted_tokens, matrix, config, positional=False
        ),
        with_positions=_compare_orders(sentence, permuted_tokens, matrix, config, positional=True),
    )


def identical_rows(
    matrix: ArrayLike, *, tolerance: float = ROW_TOLERANCE
) -> tuple[tuple[int, ...], ...]:
    """Groups of rows that are equal entry by entry, to ``tolerance``.

    Row ``r`` joins the first group whose first row differs from it by at most
    ``tolerance`` in every entry; only groups of two or more rows are returned.

    Args:
        matrix: ``(L, S)`` finite, e.g. attention weights.
        tolerance: >= 0, the largest absolute difference still called equal.

    Returns:
        Tuples of row indices, each increasing, ordered by their first row.
    """
    rows = as_matrix("matrix", matrix)
    tolerance = check_float("tolerance", tolerance, minimum=0.0)
    groups: list[list[int]] = []
    for index, row in enumerate(rows):
        for group in groups:
            if np.max(np.abs(rows[group[0]] - row), initial=0.0) <= tolerance:
                group.append(index)
                break
        else:
            groups.append([index])
    return tuple(tuple(group) for group in groups if len(group) >= 2)


def _largest_row_gap(matrix: FloatArray, positions: tuple[int, ...]) -> float:
    """``max |matrix[a] - matrix[b]|`` over every two of ``positions``."""
    chosen = matrix[list(positions)]  # (n, columns)
    return float(np.max(np.ptp(chosen, axis=0)))


def position_effect(
    tokens: Sequence[str], config: SentenceConfig = SentenceConfig()
) -> PositionEffect:
    """Attention weights of one sentence without and with positions, and the repeated words.

    Without positions a word's query, key and value depend on the word only,
    so every copy of a word (``"the"`` in "the cat saw the dog") gets the same
    weight row and the same output row. Adding ``PE`` gives each copy its own
    position, and their rows part.

    Args:
        tokens: ``L`` tokens, ``1 <= L <= MAX_TOKENS``; words are compared
            lower-cased, as :func:`lab.self_attention.embed` reads them.
        config: ``d``, the seed and the encoding's base.

    Returns:
        A :class:`PositionEffect`.
    """
    sentence = _check_tokens(tokens)
    without = run_self_attention(sentence, config, positional=False)
    with_positions = run_self_attention(sentence, config, positional=True)
    places: dict[str, list[int]] = {}
    for index, token in enumerate(sentence):
        places.setdefault(token.lower(), []).append(index)
    repeated = tuple(
        RepeatedWord(
            word=word,
            positions=tuple(where),
            weights_gap_without=_largest_row_gap(without.weights, tuple(where)),
            weights_gap_with=_largest_row_gap(with_positions.weights, tuple(where)),
            output_gap_without=_largest_row_gap(without.output, tuple(where)),
            output_gap_with=_largest_row_gap(with_positions.output, tuple(where)),
        )
        for word, where in places.items()
        if len(where) >= 2
    )
    return PositionEffect(
        tokens=sentence,
        without_positions=without,
        with_positions=with_positions,
        identical_without=identical_rows(without.weights),
        identical_with=identical_rows(with_positions.weights),
        repeated=repeated,
    )
