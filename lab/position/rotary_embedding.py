"""Rotary position embedding (RoPE): rotate queries and keys instead of adding to words.

Rotary encoding leaves the word vectors alone and turns each query and key by
an angle proportional to its position. Dimensions are taken in pairs; pair
``i`` of a vector at position ``p`` is rotated by ``p theta_i`` with
``theta_i = base^(-2i/E)``:

    [y_2i    ]   [cos(p theta_i)  -sin(p theta_i)] [x_2i    ]
    [y_(2i+1)] = [sin(p theta_i)   cos(p theta_i)] [x_(2i+1)]

A rotation keeps lengths, and rotating ``q`` by ``m theta`` and ``k`` by
``n theta`` leaves their dot product depending on ``(m - n) theta`` only:
``R(m)q . R(n)k = q . R(n - m)k``. So the score between a query at ``m`` and a
key at ``n`` depends on the offset ``m - n``, never on where the pair stands.

Pairing convention: *interleaved* pairs ``(2i, 2i+1)``, as in the RoFormer
paper and Meta's original LLaMA code (which views each adjacent pair as one
complex number and multiplies it by ``exp(j p theta_i)``). GPT-NeoX and the
``rotate_half`` code of Hugging Face transformers pair dimension ``i`` with
``i + E/2`` instead. For even ``E`` the two are the same rotation seen through
a fixed reordering of the features: with ``order = [0, 2, 4, ..., 1, 3, 5, ...]``
(even dimensions first), ``rotate_half_rope(x[..., order]) == rotary(x)[..., order]``.
Reordering q and k alike leaves every score unchanged, so a model's ``W_q`` and
``W_k`` columns can be reordered to move from one convention to the other.

Odd ``E``: the last dimension has no partner and passes through unrotated.

Shapes:
    L   positions (queries, or keys: rotary treats both the same way)
    S   keys (= L in the score grid)
    E   query/key size
    d   model size (not used here; rotary acts after the projections)
    ... any leading batch or head axes
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

import lab.position.compute as sinusoidal
from lab.checks import FloatArray, as_real, check_int


@dataclass(frozen=True)
class RotaryScoreGrid:
    """The score of one fixed query against one fixed key, at every pair of positions.

    Attributes:
        query: ``(E,)`` the query before rotation.
        key: ``(E,)`` the key before rotation.
        positions: ``(L,)`` the positions ``0, ..., L - 1``.
        rotated_queries: ``(L, E)`` row ``m`` is the query rotated for position ``m``.
        rotated_keys: ``(L, E)`` row ``n`` is the key rotated for position ``n``.
        scores: ``(L, L)`` ``scores[m, n] = rotated_queries[m] . rotated_keys[n]``
            (raw dot products, not divided by ``sqrt(E)``).
        by_offset: the scores grouped by ``m - n``; ``by_offset.max_spread`` is at
            rounding level because the grid is constant along its diagonals.
        unrotated_score: ``query . key``, which every entry with ``m = n`` equals.
    """

    query: FloatArray
    key: FloatArray
    positions: NDArray[np.int64]
    rotated_queries: FloatArray
    rotated_keys: FloatArray
    scores: FloatArray
    by_offset: sinusoidal.DiagonalProfile
    unrotated_score: float


def rotary(
    x: ArrayLike, positions: ArrayLike, *, base: float = sinusoidal.DEFAULT_BASE
) -> FloatArray:
    """Rotary position embedding of queries or keys, interleaved pairs.

    For each pair ``i < E // 2`` and row ``l`` at position ``p = positions[l]``:
    ``y[2i] = x[2i] cos(p theta_i) - x[2i+1] sin(p theta_i)`` and
    ``y[2i+1] = x[2i] sin(p theta_i) + x[2i+1] cos(p theta_i)``, with
    ``theta_i = base^(-2i/E)``. For odd ``E`` the last column is copied as is.
    Norms are preserved, and ``rotary(q, [m]) . rotary(k, [n])`` depends on
    ``m - n`` only.

    Args:
        x: ``(..., L, E)`` queries or keys, finite, ``E >= 1``.
        positions: ``(L,)`` the position of each row of ``x``; whole numbers in
            practice, but any finite real works (the rotation is continuous).
        base: > 0, the same base as the sinusoidal encoding.

    Returns:
        ``(..., L, E)`` float64, a new array (``x`` is not modified).
    """
    values = as_real("x", x, min_ndim=2, finite=True, dtype=np.float64)
    where = as_real("positions", positions, ndim=1, finite=True, dtype=np.float64)
    length, size = values.shape[-2:]
    if where.shape[0] != length:
        raise ValueError(
            f"positions has {where.shape[0]} entries but x has {length} rows in its "
            f"second-to-last axis (..., L, E); give one position per row"
        )
    if size == 0:
        raise ValueError("x has size 0 in its last axis; rotary needs at least one feature (E)")
    pairs = size // 2
    # pair_frequencies also checks that base > 0.
    theta = sinusoidal.pair_frequencies(size, base=base)[:pairs]  # (E // 2,)
    angles = where[:, None] * theta  # (L, E // 2)
    cos, sin = np.cos(angles), np.sin(angles)
    even = values[..., 0 : 2 * pairs : 2]  # (..., L, E // 2), without an odd E's last column
    odd = values[..., 1::2]  # (..., L, E // 2): there are E // 2 odd columns for any E
    rotated = values.copy()  # the copy carries the unpaired last column of an odd E
    rotated[..., 0 : 2 * pairs : 2] = even * cos - odd * sin
    rotated[..., 1::2] = even * sin + odd * cos
    return rotated


def random_query_key(size: int, *, seed: int = 0) -> tuple[FloatArray, FloatArray]:
    """A reproducible query and key with N(0, 1) entries, ``(E,)`` each.

    Args:
        size: ``E``, in ``[1, MAX_D_MODEL]``.
        seed: >= 0; the same seed gives the same pair for everyone.

    Returns:
        ``(query, key)``.
    """
    size = check_int("size", size, minimum=1, maximum=sinusoidal.MAX_D_MODEL)
    seed = check_int("seed", seed, minimum=0)
    query, key = np.random.default_rng(seed).standard_normal((2, size))
    return query, key


def rotary_score_grid(
    query: ArrayLike, key: ArrayLike, length: int, *, base: float = sinusoidal.DEFAULT_BASE
) -> RotaryScoreGrid:
    """Scores of a fixed query at position ``m`` against a fixed key at ``n``, for all ``m, n < L``.

    ``scores[m, n] = rotary(q, m) . rotary(k, n) = sum_i r_i cos((n - m) theta_i + phi_i)``
    over the pairs (``r_i`` and ``phi_i`` set by q and k), plus ``q_last k_last``
    for odd ``E``: constant along every diagonal ``m - n = const``.

    Args:
        query: ``(E,)`` finite, ``E`` in ``[1, MAX_D_MODEL]``.
        key: ``(E,)`` finite, the same size.
        length: ``L``, the number of positions on each axis, in ``[1, MAX_LENGTH]``.
        base: > 0.

    Returns:
        A :class:`RotaryScoreGrid` with ``(L, L)`` scores.
    """
    q = as_real("query", query, ndim=1, finite=True, dtype=np.float64)
    k = as_real("key", key, ndim=1, finite=True, dtype=np.float64)
    if q.shape != k.shape:
        raise ValueError(
            f"query has size {q.shape[0]} but key has {k.shape[0]}; "
            "a dot product needs them the same size E"
        )
    check_int("query size", q.shape[0], minimum=1, maximum=sinusoidal.MAX_D_MODEL)
    length = check_int("length", length, minimum=1, maximum=sinusoidal.MAX_LENGTH)
    positions = np.arange(length)  # (L,)
    rotated_queries = rotary(np.broadcast_to(q, (length, q.shape[0])), positions, base=base)
    rotated_keys = rotary(np.broadcast_to(k, (length, k.shape[0])), positions, base=base)
    scores = rotated_queries @ rotated_keys.T  # (L, L)
    return RotaryScoreGrid(
        query=q.copy(),
        key=k.copy(),
        positions=positions,
        rotated_queries=rotated_queries,
        rotated_keys=rotated_keys,
        scores=scores,
        by_offset=sinusoidal.diagonal_profile(scores),
        unrotated_score=float(q @ k),
    )
