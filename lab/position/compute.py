"""Sinusoidal positional encodings and the similarity between positions.

Self-attention reads content only, so a model that must know where a word
stands is given a vector per position. The Transformer paper's encoding gives
each pair of dimensions ``(2i, 2i+1)`` a sine and a cosine of the position at
its own frequency ``w_i = base^(-2i/d)``:

    P[p, 2i] = sin(p w_i),    P[p, 2i+1] = cos(p w_i).

Because ``sin(p w) sin(q w) + cos(p w) cos(q w) = cos((p - q) w)``, the dot
product of two encodings, ``P[p] . P[q] = sum_i cos((p - q) w_i)``, depends on
the offset ``p - q`` alone (when ``d`` is even: an odd ``d`` leaves one sine
without its cosine, and that column breaks the rule).

Shapes:
    L   positions (tokens in a sentence; queries, and keys too, so S = L)
    S   keys (= L in self-attention)
    d   model size: the width of an encoding, added to word vectors of width d
    E   query/key size (used by :mod:`lab.position.rotary_embedding`)
    F   frequencies: ceil(d / 2), one per sine/cosine pair
    O   offsets between two positions: 2L - 1 of them, from -(L - 1) to L - 1
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lab.checks import FloatArray, as_matrix, check_float, check_int

DEFAULT_BASE = 10000.0  # the Transformer paper's base; the RoFormer paper uses it for rotary too
# Page caps. 128 positions show several periods of the slower dimensions, and
# a 128 x 128 heatmap (PE, PE.PE^T, the rotary grid) still draws in a moment.
MAX_LENGTH = 128
# 128 is a common head size in current models; wider heatmaps stop being readable.
MAX_D_MODEL = 128


@dataclass(frozen=True)
class DiagonalProfile:
    """A square matrix read along its diagonals, one diagonal per offset.

    Entry ``[m, n]`` lies on the diagonal of offset ``m - n`` (row minus
    column: query position minus key position). A matrix that depends on the
    offset only is constant along every diagonal, so its ``spread`` is 0.

    Attributes:
        offsets: ``(O,)`` the offsets ``-(L - 1), ..., L - 1``.
        values: ``(O,)`` the mean of each diagonal.
        spread: ``(O,)`` largest minus smallest entry of each diagonal (0 for
            the two corner diagonals, which hold one entry each).
    """

    offsets: NDArray[np.int64]
    values: FloatArray
    spread: FloatArray

    @property
    def max_spread(self) -> float:
        """The largest spread over all diagonals: 0 (to rounding) iff the matrix is offset-only."""
        return float(self.spread.max())

    def value_at(self, offset: int) -> float:
        """The mean of the diagonal of ``offset`` (row minus column)."""
        offset = check_int(
            "offset", offset, minimum=int(self.offsets[0]), maximum=int(self.offsets[-1])
        )
        return float(self.values[offset - int(self.offsets[0])])


def pair_frequencies(size: int, *, base: float = DEFAULT_BASE) -> FloatArray:
    """The angular frequency of each dimension pair, ``w_i = base^(-2i/size)``.

    Computed as ``exp(-log(base) * 2i / size)``, exactly as the step-by-step
    page always has, so both give the same bits.

    Args:
        size: the width ``d`` (or ``E``) being paired, at least 1.
        base: > 0; the fastest pair (``i = 0``) turns once every ``2 pi``
            positions, the slowest (``i = F - 1``) once every ``2 pi base^(2(F-1)/size)``.

    Returns:
        ``(F,)`` with ``F = ceil(size / 2)``, in radians per position, from 1 down.
    """
    size = check_int("size", size, minimum=1)
    base = check_float("base", base, positive=True)
    pair_index = np.arange(0, size, 2)  # (F,) the even dimensions 2i
    return np.exp(-math.log(base) * pair_index / size)


def sinusoidal_positions(length: int, d_model: int, *, base: float = DEFAULT_BASE) -> FloatArray:
    """The Transformer paper's sinusoidal positional encoding, ``(L, d)``.

    ``P[p, 2i] = sin(p / base^(2i/d))`` and ``P[p, 2i+1] = cos(p / base^(2i/d))``
    for positions ``p = 0, ..., L - 1``. Every entry lies in ``[-1, 1]``, and
    row 0 is ``(0, 1, 0, 1, ...)``.

    An odd ``d`` is allowed: the last column ``d - 1`` is then a sine,
    ``sin(p / base^((d-1)/d))``, with no cosine partner.

    Args:
        length: ``L``, the number of positions, in ``[1, MAX_LENGTH]``.
        d_model: ``d``, the width of each encoding, in ``[1, MAX_D_MODEL]``.
        base: > 0; larger bases make the slow dimensions slower.

    Returns:
        ``(L, d)`` float64, a new array.
    """
    length = check_int("length", length, minimum=1, maximum=MAX_LENGTH)
    d_model = check_int("d_model", d_model, minimum=1, maximum=MAX_D_MODEL)
    frequencies = pair_frequencies(d_model, base=base)  # (F,)
    angles = np.arange(length)[:, None] * frequencies  # (L, F)
    encoding = np.empty((length, d_model))
    encoding[:, 0::2] = np.sin(angles)  # (L, F)
    encoding[:, 1::2] = np.cos(angles[:, : d_model // 2])  # (L, d // 2): the odd d leaves one out
    return encoding


def wavelengths(d_model: int, *, base: float = DEFAULT_BASE) -> FloatArray:
    """How many positions each sine/cosine pair takes to repeat, ``2 pi / w_i``.

    Args:
        d_model: ``d``, in ``[1, MAX_D_MODEL]``.
        base: > 0.

    Returns:
        ``(F,)`` in positions per cycle: ``2 pi`` for pair 0, growing
        geometrically by ``base^(2/d)`` per pair. Dimension ``j`` belongs to
        pair ``j // 2``.
    """
    d_model = check_int("d_model", d_model, minimum=1, maximum=MAX_D_MODEL)
    return 2 * math.pi / pair_frequencies(d_model, base=base)


def position_similarity(length: int, d_model: int, *, base: float = DEFAULT_BASE) -> FloatArray:
    """Dot products between the encodings of every two positions, ``P P^T``.

    ``G[p, q] = P[p] . P[q]``; for even ``d`` this equals
    ``sum_i cos((p - q) w_i)``, a function of ``p - q`` alone, with ``d / 2``
    on the diagonal.

    Args:
        length: ``L``, in ``[1, MAX_LENGTH]``.
        d_model: ``d``, in ``[1, MAX_D_MODEL]``.
        base: > 0.

    Returns:
        ``(L, L)`` symmetric.
    """
    encoding = sinusoidal_positions(length, d_model, base=base)  # (L, d)
    return encoding @ encoding.T  # (L, L)


def diagonal_profile(matrix: ArrayLike) -> DiagonalProfile:
    """Group the entries of a square matrix by offset ``m - n`` (row minus column).

    ``values[o]`` is the mean of ``{matrix[m, n] : m - n = offsets[o]}`` and
    ``spread[o]`` its max minus min; a Toeplitz matrix has every spread 0.

    Args:
        matrix: ``(L, L)``, finite.

    Returns:
        A :class:`DiagonalProfile` with ``2L - 1`` offsets.
    """
    square = as_matrix("matrix", matrix)
    rows, columns = square.shape
    if rows != columns or rows == 0:
        raise ValueError(
            f"matrix must be square with at least one row, got shape {square.shape}; "
            "diagonals are read on an (L, L) grid"
        )
    offsets = np.arange(-(rows - 1), rows)  # (O,)
    # np.diagonal(k) holds the entries [m, m + k], whose offset m - n is -k.
    diagonals = [np.diagonal(square, offset=-offset) for offset in offsets]
    values = np.array([diagonal.mean() for diagonal in diagonals])  # (O,)
    spread = np.array([np.ptp(diagonal) for diagonal in diagonals])  # (O,)
    return DiagonalProfile(offsets=offsets, values=values, spread=spread)


def similarity_by_offset(
    length: int, d_model: int, *, base: float = DEFAULT_BASE
) -> DiagonalProfile:
    """``P P^T`` read by offset: one similarity per offset, and how far each diagonal strays.

    For even ``d`` every ``spread`` is at rounding level (about 1e-15) and
    ``values[o] = sum_i cos(offsets[o] w_i)``, symmetric in the offset; for odd
    ``d`` the lone sine column adds ``sin(p w) sin(q w)``, which depends on
    ``p`` and ``q`` themselves. That column is the slowest one, so for odd
    ``d > 1`` the spreads are small (1e-4 for ``L = 20, d = 5``) yet far above
    rounding; for ``d = 1`` (``sin p`` alone) they are of order 1.

    Args:
        length: ``L``, in ``[1, MAX_LENGTH]``.
        d_model: ``d``, in ``[1, MAX_D_MODEL]``.
        base: > 0.

    Returns:
        A :class:`DiagonalProfile` over the offsets ``-(L - 1), ..., L - 1``.
    """
    return diagonal_profile(position_similarity(length, d_model, base=base))
