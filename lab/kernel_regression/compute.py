"""Nadaraya–Watson kernel regression: attention with a fixed similarity.

A training set ``(x_i, y_i)`` is a dictionary: the inputs ``x_i`` are the
keys, the targets ``y_i`` the values. A test input ``x`` is a query. Its
estimate is the attention-weighted average of the values,

    f(x) = sum_i alpha(x, x_i) y_i,
    alpha(x, x_i) = K((x - x_i) / h) / sum_j K((x - x_j) / h),

with a kernel ``K`` and a bandwidth ``h`` that sets how sharp the lookup is.
With the gaussian kernel the scores are ``-(x - x_i)^2 / (2 h^2)`` and the
weights are their softmax: the same softmax a transformer applies to
``q . k / sqrt(d)``, only the similarity is fixed instead of learned.

Everything here works in log space: a score is ``log K``, a key outside a
compact kernel's window scores ``-inf`` (weight exactly 0), and the softmax
subtracts each row's maximum first. So a bandwidth of ``1e-4`` gives clean
nearest-neighbour weights rather than ``0 / 0 = NaN``. A query with no key
inside its window has no estimate: it gets all-zero weights and ``NaN``, and
:attr:`NadarayaWatsonResult.empty` says which queries those are.

Shapes:
    L   queries (test inputs)
    S   keys = training inputs (their targets are the values)
    E   input size (1 for the scalar inputs of the demo)
    Ev  value size (targets may be vectors; scalar targets have no such axis)
    G   bandwidths of a grid
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from lab.attention import softmax
from lab.checks import FloatArray, as_real, check_float, check_int

# Beyond this many bandwidths away a gaussian weight is exp(-5e299) = 0 anyway; clipping
# the scaled distance there keeps its square finite (no overflow warning).
_MAX_SCALED_DISTANCE = 1e150
_GRID_BLOCK = 16  # bandwidths per block in error_curves: (16, L, S) floats, 1.3 MB at L = S = 100

# ---------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------


def _scaled(distance: FloatArray, bandwidth: float | FloatArray) -> FloatArray:
    """``u = distance / h``, clipped so that ``u**2`` cannot overflow."""
    with np.errstate(over="ignore"):  # a tiny h sends u to inf; the clip takes it back
        return np.minimum(distance / bandwidth, _MAX_SCALED_DISTANCE)


def _log_inside(profile: FloatArray, inside: FloatArray) -> FloatArray:
    """``log profile`` where ``inside``, ``-inf`` elsewhere, without a log(0) warning."""
    logs = np.full(profile.shape, -np.inf)
    np.log(profile, out=logs, where=inside)
    return logs


class Kernel(StrEnum):
    """A kernel profile ``K(u)``, ``u = |x - x_i| / h``, peak value 1 at ``u = 0``.

    Normalising constants (``1/sqrt(2 pi)``, ``3/4``, ...) are left out: they
    cancel between the numerator and denominator of the Nadaraya–Watson ratio.
    The values are the names a page puts in its address.
    """

    GAUSSIAN = "gaussian"
    BOXCAR = "boxcar"
    EPANECHNIKOV = "epanechnikov"
    TRIANGULAR = "triangular"
    CONSTANT = "constant"

    @property
    def label(self) -> str:
        """The kernel's name for people."""
        return self.value.capitalize()

    @property
    def formula(self) -> str:
        """LaTeX of ``K(u)``."""
        return _FORMULAS[self]

    @property
    def compact(self) -> bool:
        """True if ``K(u) = 0`` outside a window (``|u| <= 1`` for the boxcar, ``< 1`` else)."""
        return self in (Kernel.BOXCAR, Kernel.EPANECHNIKOV, Kernel.TRIANGULAR)

    def log_weight(self, distance: FloatArray, bandwidth: float | FloatArray) -> FloatArray:
        """``log K(distance / h)`` for non-negative distances; ``-inf`` outside the window.

        ``bandwidth`` may be an array that broadcasts against ``distance``
        (``(G, 1, 1)`` against ``(L, S)``: one slice per bandwidth of a grid).
        """
        if self is Kernel.CONSTANT:  # every key weighs the same and h does nothing
            return np.zeros(np.broadcast_shapes(np.shape(distance), np.shape(bandwidth)))
        u = _scaled(distance, bandwidth)
        if self is Kernel.GAUSSIAN:  # every key keeps some weight
            return -0.5 * u * u
        if self is Kernel.BOXCAR:  # a plain average over the window |x - x_i| <= h
            return np.where(u <= 1.0, 0.0, -np.inf)
        inside = u < 1.0
        profile = 1.0 - u * u if self is Kernel.EPANECHNIKOV else 1.0 - u
        return _log_inside(np.where(inside, profile, 1.0), inside)


_FORMULAS = {
    Kernel.GAUSSIAN: r"e^{-u^2/2}",
    Kernel.BOXCAR: r"\mathbb{1}[\,|u| \le 1\,]",
    Kernel.EPANECHNIKOV: r"(1 - u^2)\,\mathbb{1}[\,|u| < 1\,]",
    Kernel.TRIANGULAR: r"(1 - |u|)\,\mathbb{1}[\,|u| < 1\,]",
    Kernel.CONSTANT: r"1",
}


def get_kernel(kernel: Kernel | str) -> Kernel:
    """The :class:`Kernel` named ``kernel``, with an error that lists the names."""
    try:
        return Kernel(kernel)
    except ValueError:
        names = ", ".join(item.value for item in Kernel)
        raise ValueError(f"unknown kernel {kernel!r}; choose one of {names}") from None


def kernel_weight(
    distance: ArrayLike, bandwidth: float, kernel: Kernel | str = Kernel.GAUSSIAN
) -> FloatArray:
    """The unnormalised weight ``K(distance / h)`` (1 at distance 0), any shape.

    Used by the kernel chart; the regression itself works with the logs.
    """
    values = np.abs(as_real("distance", distance, finite=True, dtype=np.float64))
    h = check_float("bandwidth", bandwidth, positive=True)
    return np.exp(get_kernel(kernel).log_weight(values, h))


# ---------------------------------------------------------------------------
# Nadaraya–Watson
# ---------------------------------------------------------------------------


def _as_inputs(name: str, values: ArrayLike) -> FloatArray:
    """Inputs as ``(n, E)``: a vector of scalars becomes one column."""
    array = as_real(name, values, finite=True, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]  # (n, 1)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a vector of scalars (n,) or a matrix (n, E), got shape {array.shape}"
        )
    return array


def pairwise_distances(x_query: ArrayLike, x_train: ArrayLike) -> FloatArray:
    """Euclidean distances ``|x_q - x_i|``, ``(L, S)``, from inputs ``(L,)/(L, E)`` and ``(S,)/(S, E)``.

    Computed from the differences (not ``|a|^2 + |b|^2 - 2ab``), so a query
    equal to a key is at distance exactly 0.
    """
    queries = _as_inputs("x_query", x_query)
    keys = _as_inputs("x_train", x_train)
    if queries.shape[1] != keys.shape[1]:
        raise ValueError(
            f"x_query has {queries.shape[1]} features per point but x_train has {keys.shape[1]}"
        )
    if queries.shape[1] == 1:
        return np.abs(queries - keys.T)  # (L, S)
    differences = queries[:, None, :] - keys[None, :, :]  # (L, S, E)
    return np.sqrt(np.sum(differences * differences, axis=-1))  # (L, S)


def _gaussian_row_scores(distances: FloatArray, bandwidth: float | FloatArray) -> FloatArray:
    """``-(d^2 - d_min^2) / (2 h^2)`` per row: the gaussian ``log K`` minus the row's maximum.

    Softmax ignores a constant per row, and this form keeps the nearest key at
    exactly 0 however small ``h`` is: ``-d^2 / (2 h^2)`` alone would send every
    score of a row to the same huge negative number (clipped) for ``h = 1e-300``
    and turn a nearest-neighbour row into a uniform one. Infinite distances
    (keys a query may not see) score ``-inf``.
    """
    visible = np.isfinite(distances)
    nearest = np.min(np.where(visible, distances, np.inf), axis=-1, keepdims=True)
    nearest = np.where(np.isfinite(nearest), nearest, 0.0)  # (L, 1); a row may see no key
    with np.errstate(over="ignore"):  # a tiny h sends these to inf; the clip takes them back
        ahead = np.minimum((distances - nearest) / bandwidth, _MAX_SCALED_DISTANCE)
        around = np.minimum((distances + nearest) / bandwidth, _MAX_SCALED_DISTANCE)
    return np.where(visible, -0.5 * ahead * around, -np.inf)  # (L, S) or (G, L, S)


def _scores(distances: FloatArray, kernel: Kernel, bandwidth: float | FloatArray) -> FloatArray:
    """``log K`` of ``(L, S)`` distances, ``-inf`` for infinite ones (keys a query may not see).

    A bandwidth of shape ``(G, 1, 1)`` gives ``(G, L, S)``: every bandwidth of a grid at once.
    """
    if kernel is Kernel.GAUSSIAN:
        return _gaussian_row_scores(distances, bandwidth)
    return np.where(np.isfinite(distances), kernel.log_weight(distances, bandwidth), -np.inf)


def _without_self(distances: FloatArray) -> FloatArray:
    """``(S, S)`` distances with the diagonal infinitely far: a key unseen by its own point."""
    return np.where(np.eye(distances.shape[0], dtype=bool), np.inf, distances)


def kernel_scores(
    x_train: ArrayLike,
    x_query: ArrayLike,
    *,
    kernel: Kernel | str = Kernel.GAUSSIAN,
    bandwidth: float = 1.0,
    exclude_self: bool = False,
) -> FloatArray:
    """Scores ``log K(|x_q - x_i| / h)``, ``(L, S)``: ``-inf`` where a key gets no weight.

    For the gaussian kernel each row is shifted so its largest score is 0 (see
    :func:`_gaussian_row_scores`); the softmax, and so the weights, do not change.
    ``exclude_self=True`` (queries must then be the training inputs, ``L = S``)
    puts the diagonal at ``-inf``: each point may not look itself up, which is
    leave-one-out.
    """
    shape = get_kernel(kernel)
    h = check_float("bandwidth", bandwidth, positive=True)
    distances = pairwise_distances(x_query, x_train)  # (L, S)
    if exclude_self:
        if distances.shape[0] != distances.shape[1]:
            raise ValueError(
                "exclude_self needs the queries to be the training inputs, got "
                f"{distances.shape[0]} queries for {distances.shape[1]} training points"
            )
        # Own key infinitely far away: unseen, and not the "nearest" of its row.
        distances = _without_self(distances)
    return _scores(distances, shape, h)


class NadarayaWatsonResult(NamedTuple):
    """What :func:`nadaraya_watson` returns; unpacks as ``y_hat, weights``.

    Attributes:
        estimate: ``(L,)`` or ``(L, Ev)``; ``NaN`` for a query with an empty window.
        weights: ``(L, S)``, non-negative; each row sums to 1, or is all 0 for
            a query with an empty window.
    """

    estimate: FloatArray
    weights: FloatArray

    @property
    def empty(self) -> np.ndarray:
        """``(L,)`` boolean: ``True`` for queries with no training point in their window."""
        return ~np.any(self.weights > 0, axis=1)

    @property
    def empty_indices(self) -> list[int]:
        """Positions of the queries with an empty window, in order."""
        return [int(index) for index in np.flatnonzero(self.empty)]


def _weighted_average(weights: FloatArray, values: FloatArray) -> FloatArray:
    """``weights @ values`` with NaN for all-zero rows (no silent fallback to 0).

    ``weights`` is ``(L, S)`` or ``(G, L, S)``; ``values`` is ``(S,)`` or ``(S, Ev)``.
    """
    estimate = weights @ values  # (..., L) or (..., L, Ev)
    empty = ~np.any(weights > 0, axis=-1)  # (..., L)
    if values.ndim == 2:
        empty = empty[..., None]
    return np.where(empty, np.nan, estimate)


def _as_targets(y_train: ArrayLike, n_train: int) -> FloatArray:
    targets = as_real("y_train", y_train, finite=True, dtype=np.float64)
    if targets.ndim not in (1, 2):
        raise ValueError(f"y_train must be (S,) or (S, Ev), got shape {targets.shape}")
    if targets.shape[0] != n_train:
        raise ValueError(f"x_train has {n_train} points but y_train has {targets.shape[0]}")
    return targets


def nadaraya_watson(
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_query: ArrayLike,
    *,
    kernel: Kernel | str = Kernel.GAUSSIAN,
    bandwidth: float = 1.0,
    exclude_self: bool = False,
) -> NadarayaWatsonResult:
    """Nadaraya–Watson estimate at the queries, and the attention weights behind it.

    ``weights = softmax_i(log K(|x_q - x_i| / h))``, ``y_hat = weights @ y_train``.

    Args:
        x_train: keys, ``(S,)`` scalars or ``(S, E)``.
        y_train: values, ``(S,)`` or ``(S, Ev)``.
        x_query: queries, ``(L,)`` or ``(L, E)``.
        kernel: a :class:`Kernel` or its name.
        bandwidth: ``h > 0``. Tiny values give nearest-neighbour weights (ties
            share), huge ones give every key the same weight.
        exclude_self: leave-one-out: queries are the training inputs and each
            ignores its own target.

    Returns:
        ``(y_hat, weights)`` as a :class:`NadarayaWatsonResult`: ``y_hat`` is
        ``(L,)`` or ``(L, Ev)``, ``weights`` is ``(L, S)`` with rows summing to
        1. A query with no key inside a compact kernel's window gets an
        all-zero row and ``NaN``; ``result.empty`` marks those queries.

    Raises:
        ValueError: empty training set, mismatched sizes, non-finite inputs,
            an unknown kernel or a bandwidth that is not positive.
    """
    keys = _as_inputs("x_train", x_train)
    if keys.shape[0] == 0:
        raise ValueError("x_train is empty: kernel regression needs at least one training point")
    targets = _as_targets(y_train, keys.shape[0])
    scores = kernel_scores(
        keys, x_query, kernel=kernel, bandwidth=bandwidth, exclude_self=exclude_self
    )  # (L, S); L = 0 gives (0, S) weights and a (0,) or (0, Ev) estimate
    weights = softmax(scores, axis=-1)  # (L, S); a row of all -inf becomes all 0
    return NadarayaWatsonResult(_weighted_average(weights, targets), weights)


# ---------------------------------------------------------------------------
# Choosing the bandwidth: training, leave-one-out and test error
# ---------------------------------------------------------------------------


def mean_squared_error(estimate: ArrayLike, target: ArrayLike) -> float:
    """Mean squared error, ``NaN`` if any estimate is ``NaN`` (an undefined estimate)."""
    estimate = np.asarray(estimate, dtype=float)
    target = np.asarray(target, dtype=float)
    if estimate.shape != target.shape:
        raise ValueError(f"estimate has shape {estimate.shape} but target has {target.shape}")
    if estimate.size == 0:
        raise ValueError("no estimates to score")
    if np.isnan(estimate).any():
        return math.nan
    return float(np.mean((estimate - target) ** 2))


def loo_predictions(
    x_train: ArrayLike,
    y_train: ArrayLike,
    *,
    kernel: Kernel | str = Kernel.GAUSSIAN,
    bandwidth: float = 1.0,
) -> NadarayaWatsonResult:
    """Leave-one-out estimates in closed form: one weight matrix, no refitting.

    Point ``i`` left out of the training set is predicted from the others with
    weights ``K_ij / sum_{j != i} K_ij``: the training weight matrix with its
    diagonal zeroed and each row renormalised (done in log space by giving the
    diagonal a score of ``-inf``). A point with no other point inside a compact
    kernel's window gets ``NaN``.
    """
    return nadaraya_watson(
        x_train, y_train, x_train, kernel=kernel, bandwidth=bandwidth, exclude_self=True
    )


def loo_error(
    x_train: ArrayLike,
    y_train: ArrayLike,
    *,
    kernel: Kernel | str = Kernel.GAUSSIAN,
    bandwidth: float = 1.0,
) -> float:
    """Leave-one-out mean squared error (``NaN`` if some left-out point has no estimate)."""
    result = loo_predictions(x_train, y_train, kernel=kernel, bandwidth=bandwidth)
    return mean_squared_error(result.estimate, y_train)  # y_train was checked just above


def bandwidth_grid(low: float = 0.01, high: float = 10.0, per_decade: int = 20) -> FloatArray:
    """Log-spaced bandwidths from ``low`` to ``high`` with ``per_decade`` steps per factor 10.

    The defaults give the page's slider: 61 values from 0.01 to 10, each about
    12 % above the previous one (a factor ``10 ** (1/20) = 1.122``).
    """
    low = check_float("low", low, positive=True)
    high = check_float("high", high, positive=True)
    if high <= low:
        raise ValueError(f"high ({high}) must be above low ({low})")
    check_int("per_decade", per_decade, minimum=1)
    steps = round(math.log10(high / low) * per_decade)
    return np.geomspace(low, high, max(steps, 1) + 1)


def nearest_bandwidth(grid: Sequence[float] | FloatArray, bandwidth: float) -> float:
    """The value of ``grid`` closest to ``bandwidth`` on a log scale (for a log slider)."""
    values = np.asarray(grid, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"grid must be a non-empty vector, got shape {values.shape}")
    h = check_float("bandwidth", bandwidth, positive=True)
    return float(values[int(np.argmin(np.abs(np.log(values) - math.log(h))))])


@dataclass(frozen=True)
class ErrorCurves:
    """Errors of Nadaraya–Watson regression against the bandwidth.

    Attributes:
        bandwidths: ``(G,)`` increasing.
        train: ``(G,)`` mean squared error on the training points themselves.
        loo: ``(G,)`` leave-one-out error; ``NaN`` where a left-out point has
            no neighbour in its window.
        test: ``(G,)`` error on held-out test points, or ``None`` without them;
            ``NaN`` where a test point has an empty window.
    """

    bandwidths: FloatArray
    train: FloatArray
    loo: FloatArray
    test: FloatArray | None

    @property
    def best_index(self) -> int | None:
        """Position of the smallest leave-one-out error.

        ``None`` if it is never defined, or if every bandwidth gives the same
        error (the constant kernel), so that no bandwidth is best.
        """
        defined = self.loo[~np.isnan(self.loo)]
        if defined.size == 0 or np.all(defined == defined[0]):
            return None
        return int(np.nanargmin(self.loo))

    @property
    def best_bandwidth(self) -> float | None:
        """The bandwidth that minimises the leave-one-out error over the grid (or ``None``)."""
        index = self.best_index
        return None if index is None else float(self.bandwidths[index])

    def at(self, bandwidth: float) -> tuple[float, float, float | None]:
        """``(train, loo, test)`` errors at a bandwidth of the grid (``NaN`` where undefined)."""
        matches = np.flatnonzero(np.isclose(self.bandwidths, bandwidth, rtol=1e-9, atol=0))
        if matches.size == 0:
            raise ValueError(f"bandwidth {bandwidth!r} is not on the grid of these curves")
        index = int(matches[0])
        test = None if self.test is None else float(self.test[index])
        return float(self.train[index]), float(self.loo[index]), test


def _grid_errors(
    distances: FloatArray, targets: FloatArray, wanted: FloatArray, kernel: Kernel, grid: FloatArray
) -> FloatArray:
    """Mean squared error of the estimate at every bandwidth of ``grid``, ``(G,)``.

    ``distances`` ``(L, S)`` from the queries to the keys, ``targets`` the keys'
    values, ``wanted`` what the ``L`` estimates should be; ``NaN`` where some
    query has no estimate. The grid is done in blocks so that a ``(block, L, S)``
    array stays small.
    """
    errors = []
    for start in range(0, grid.size, _GRID_BLOCK):
        bandwidths = grid[start : start + _GRID_BLOCK, None, None]  # (block, 1, 1)
        weights = softmax(_scores(distances, kernel, bandwidths), axis=-1)  # (block, L, S)
        estimates = _weighted_average(weights, targets)  # (block, L) or (block, L, Ev)
        squared = (estimates - wanted) ** 2  # NaN where a query has no estimate
        errors.append(np.mean(squared.reshape(squared.shape[0], -1), axis=1))
    return np.concatenate(errors)


def error_curves(
    x_train: ArrayLike,
    y_train: ArrayLike,
    bandwidths: Sequence[float] | FloatArray,
    *,
    kernel: Kernel | str = Kernel.GAUSSIAN,
    x_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
) -> ErrorCurves:
    """Training, leave-one-out and (optionally) test error for each bandwidth.

    Training error falls towards 0 as the bandwidth shrinks (each point ends
    up attending to itself); leave-one-out error does not, because a point may
    not look itself up. Its minimum is the usual data-driven choice of ``h``.
    Each error is what :func:`mean_squared_error` gives for the estimates of
    :func:`nadaraya_watson` (and :func:`loo_predictions`) at that bandwidth,
    computed for a block of bandwidths at once.
    """
    grid = np.asarray(bandwidths, dtype=float)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"bandwidths must be a non-empty vector, got shape {grid.shape}")
    for value in grid.tolist():
        check_float("bandwidth", value, positive=True)
    if (x_test is None) != (y_test is None):
        raise ValueError("pass both x_test and y_test, or neither")
    shape = get_kernel(kernel)
    keys = _as_inputs("x_train", x_train)
    if keys.shape[0] == 0:
        raise ValueError("x_train is empty: kernel regression needs at least one training point")
    targets = _as_targets(y_train, keys.shape[0])
    distances = pairwise_distances(keys, keys)  # (S, S)
    train = _grid_errors(distances, targets, targets, shape, grid)
    loo = _grid_errors(_without_self(distances), targets, targets, shape, grid)
    test = None
    if x_test is not None:
        to_test = pairwise_distances(x_test, keys)  # (L, S)
        held_out = as_real("y_test", y_test, finite=True, dtype=np.float64)
        if held_out.shape != (to_test.shape[0], *targets.shape[1:]):
            raise ValueError(
                f"x_test has {to_test.shape[0]} points but y_test has shape {held_out.shape}"
            )
        test = _grid_errors(to_test, targets, held_out, shape, grid)
    return ErrorCurves(bandwidths=grid, train=train, loo=loo, test=test)


def best_bandwidth(
    x_train: ArrayLike,
    y_train: ArrayLike,
    bandwidths: Sequence[float] | FloatArray,
    *,
    kernel: Kernel | str = Kernel.GAUSSIAN,
) -> float | None:
    """The bandwidth of the grid with the smallest leave-one-out error (``None`` if undefined)."""
    return error_curves(x_train, y_train, bandwidths, kernel=kernel).best_bandwidth


def refined_best_bandwidth(
    x_train: ArrayLike,
    y_train: ArrayLike,
    bandwidths: Sequence[float] | FloatArray,
    *,
    kernel: Kernel | str = Kernel.GAUSSIAN,
    per_decade: int = 100,
) -> float | None:
    """The leave-one-out optimum of ``bandwidths``, refined between its two neighbours.

    The coarse grid finds the valley; a log grid of ``per_decade`` steps per
    factor 10 from the neighbour below to the neighbour above then finds its
    floor. ``None`` where no bandwidth is best (see :attr:`ErrorCurves.best_index`).
    """
    coarse = error_curves(x_train, y_train, bandwidths, kernel=kernel)
    best = coarse.best_index
    if best is None:
        return None
    low = coarse.bandwidths[max(best - 1, 0)]
    high = coarse.bandwidths[min(best + 1, coarse.bandwidths.size - 1)]
    fine = bandwidth_grid(low, high, per_decade)
    return best_bandwidth(x_train, y_train, fine, kernel=kernel)


def farthest_query(x_query: ArrayLike, x_train: ArrayLike) -> tuple[int, float]:
    """The query farthest from its nearest key: ``(its position, that distance)``.

    A compact kernel gives every query an estimate exactly when ``h`` reaches
    this distance (the boxcar's window includes its edge; the others need
    ``h`` strictly above it).
    """
    nearest = np.min(pairwise_distances(x_query, x_train), axis=1)  # (L,)
    if nearest.size == 0:
        raise ValueError("there are no queries")
    index = int(np.argmax(nearest))
    return index, float(nearest[index])


def effective_neighbours(weights: ArrayLike) -> FloatArray:
    """The effective number of keys of each query, ``1 / sum_i w_i^2``, ``(L,)``.

    How many keys a query effectively averages: 1 for a one-hot row (nearest
    neighbour), ``S`` for a uniform row over ``S`` keys, ``k`` for ``k`` equal
    weights; ``NaN`` for an all-zero row (empty window).
    """
    array = as_real("weights", weights, ndim=2, finite=True, dtype=np.float64)
    squares = np.sum(array * array, axis=1)
    safe = np.where(squares > 0, squares, 1.0)
    return np.where(squares > 0, 1.0 / safe, np.nan)


def contributions(
    weights: ArrayLike, y_train: ArrayLike, *, top: int | None = None
) -> list[tuple[int, float, float]]:
    """One query's ``(key position, weight, weight * target)``, largest weights first.

    Args:
        weights: ``(S,)`` one row of the weight matrix.
        y_train: ``(S,)`` targets.
        top: keep only this many (all by default).
    """
    row = as_real("weights", weights, finite=True, dtype=np.float64)
    targets = as_real("y_train", y_train, finite=True, dtype=np.float64)
    if row.shape != targets.shape or row.ndim != 1:
        raise ValueError(f"weights {row.shape} and y_train {targets.shape} must be equal vectors")
    order = np.argsort(-row, kind="stable")
    if top is not None:
        order = order[:top]
    return [(int(j), float(row[j]), float(row[j] * targets[j])) for j in order]


def format_bandwidth(bandwidth: float) -> str:
    """Three significant digits, no exponent for the slider's range: ``0.0112``, ``0.2``, ``10``.

    From 999.5 to 9999 the whole number is written (``1234``) rather than ``1.23e+03``;
    smaller and larger values read as Python's ``.3g`` (``150``, ``2e-07``, ``1e+04``).
    """
    value = float(bandwidth)
    text = f"{value:.3g}"
    if "e+" in text and abs(value) < 1e4:  # .3g would switch to an exponent at 999.5
        return f"{value:.0f}"
    return text


def format_error(value: float) -> str:
    """An error to three decimals, or "—" where it is undefined (``NaN``)."""
    return "—" if math.isnan(value) else f"{value:.3f}"
