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

``NadarayaWatsonRegressor`` (a scikit-learn estimator) is importable from
here too; it lives in :mod:`lab.kernel_regression_estimator` and is loaded on
first use, so the page never imports scikit-learn.

Shapes:
    L   queries (test inputs)
    S   keys = training inputs (their targets are the values)
    E   input size (1 for the scalar inputs of the demo)
    Ev  value size (targets may be vectors; scalar targets have no such axis)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from lab.attention import FloatArray, softmax

# Beyond this many bandwidths away a gaussian weight is exp(-5e299) = 0 anyway; clipping
# the scaled distance there keeps its square finite (no overflow warning).
_MAX_SCALED_DISTANCE = 1e150

# ---------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------


def _scaled(distance: FloatArray, bandwidth: float) -> FloatArray:
    """``u = distance / h``, clipped so that ``u**2`` cannot overflow."""
    with np.errstate(over="ignore"):  # a tiny h sends u to inf; the clip takes it back
        return np.minimum(distance / bandwidth, _MAX_SCALED_DISTANCE)


def _log_inside(profile: FloatArray, inside: FloatArray) -> FloatArray:
    """``log profile`` where ``inside``, ``-inf`` elsewhere, without a log(0) warning."""
    logs = np.full(profile.shape, -np.inf)
    np.log(profile, out=logs, where=inside)
    return logs


def gaussian_log_kernel(distance: FloatArray, bandwidth: float) -> FloatArray:
    """``log K = -u^2 / 2`` with ``u = distance / h``: every key keeps some weight."""
    u = _scaled(distance, bandwidth)
    return -0.5 * u * u


def boxcar_log_kernel(distance: FloatArray, bandwidth: float) -> FloatArray:
    """``K = 1`` for ``u <= 1``, else 0: a plain average over the window ``|x - x_i| <= h``."""
    u = _scaled(distance, bandwidth)
    return np.where(u <= 1.0, 0.0, -np.inf)


def epanechnikov_log_kernel(distance: FloatArray, bandwidth: float) -> FloatArray:
    """``K = 1 - u^2`` for ``u < 1``, else 0 (the 3/4 constant cancels in the ratio)."""
    u = _scaled(distance, bandwidth)
    inside = u < 1.0
    return _log_inside(np.where(inside, 1.0 - u * u, 1.0), inside)


def triangular_log_kernel(distance: FloatArray, bandwidth: float) -> FloatArray:
    """``K = 1 - u`` for ``u < 1``, else 0."""
    u = _scaled(distance, bandwidth)
    inside = u < 1.0
    return _log_inside(np.where(inside, 1.0 - u, 1.0), inside)


def constant_log_kernel(distance: FloatArray, bandwidth: float) -> FloatArray:
    """``K = 1`` everywhere: every key weighs the same and the bandwidth does nothing."""
    return np.zeros(np.shape(distance))


@dataclass(frozen=True)
class Kernel:
    """A kernel profile ``K(u)``, ``u = |x - x_i| / h``, peak value 1 at ``u = 0``.

    Normalising constants (``1/sqrt(2 pi)``, ``3/4``, ...) are left out: they
    cancel between the numerator and denominator of the Nadaraya–Watson ratio.
    """

    name: str  # key used by the functions and the page
    label: str  # short name for people
    formula: str  # LaTeX of K(u)
    compact: bool  # True if K(u) = 0 outside a window |u| < 1 (or <= 1)
    log_kernel: Callable[[FloatArray, float], FloatArray]  # (distance, bandwidth) -> log K


KERNELS: dict[str, Kernel] = {
    kernel.name: kernel
    for kernel in (
        Kernel("gaussian", "Gaussian", r"e^{-u^2/2}", False, gaussian_log_kernel),
        Kernel("boxcar", "Boxcar", r"\mathbb{1}[\,|u| \le 1\,]", True, boxcar_log_kernel),
        Kernel(
            "epanechnikov",
            "Epanechnikov",
            r"(1 - u^2)\,\mathbb{1}[\,|u| < 1\,]",
            True,
            epanechnikov_log_kernel,
        ),
        Kernel(
            "triangular",
            "Triangular",
            r"(1 - |u|)\,\mathbb{1}[\,|u| < 1\,]",
            True,
            triangular_log_kernel,
        ),
        Kernel("constant", "Constant", r"1", False, constant_log_kernel),
    )
}


def get_kernel(kernel: str) -> Kernel:
    """Look a kernel up by name, with a helpful error for unknown names."""
    if not isinstance(kernel, str) or kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; choose one of {sorted(KERNELS)}")
    return KERNELS[kernel]


def check_bandwidth(bandwidth: float) -> float:
    """Return ``bandwidth`` as a float if it is positive and finite, else raise ``ValueError``."""
    if isinstance(bandwidth, bool):
        raise ValueError(f"bandwidth must be a positive number, got {bandwidth!r}")
    try:
        value = float(bandwidth)
    except (TypeError, ValueError):
        raise ValueError(f"bandwidth must be a positive number, got {bandwidth!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"bandwidth must be a positive finite number, got {bandwidth!r}")
    return value


def kernel_weight(distance: ArrayLike, bandwidth: float, kernel: str = "gaussian") -> FloatArray:
    """The unnormalised weight ``K(distance / h)`` (1 at distance 0), any shape.

    Used by the kernel chart; the regression itself works with the logs.
    """
    values = np.abs(_as_finite("distance", distance))
    return np.exp(get_kernel(kernel).log_kernel(values, check_bandwidth(bandwidth)))


# ---------------------------------------------------------------------------
# Nadaraya–Watson
# ---------------------------------------------------------------------------


def _as_finite(name: str, values: ArrayLike) -> FloatArray:
    array = np.asarray(values)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must hold numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity; every input must be a finite number")
    return array


def _as_inputs(name: str, values: ArrayLike) -> FloatArray:
    """Inputs as ``(n, E)``: a vector of scalars becomes one column."""
    array = _as_finite(name, values)
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


def _gaussian_row_scores(distances: FloatArray, bandwidth: float) -> FloatArray:
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
    return np.where(visible, -0.5 * ahead * around, -np.inf)  # (L, S)


def attention_scores(
    x_train: ArrayLike,
    x_query: ArrayLike,
    *,
    kernel: str = "gaussian",
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
    spec = get_kernel(kernel)
    h = check_bandwidth(bandwidth)
    distances = pairwise_distances(x_query, x_train)  # (L, S)
    if exclude_self:
        if distances.shape[0] != distances.shape[1]:
            raise ValueError(
                "exclude_self needs the queries to be the training inputs, got "
                f"{distances.shape[0]} queries for {distances.shape[1]} training points"
            )
        # Own key infinitely far away: unseen, and not the "nearest" of its row.
        distances = np.where(np.eye(distances.shape[0], dtype=bool), np.inf, distances)
    if spec.name == "gaussian":
        return _gaussian_row_scores(distances, h)
    return np.where(np.isfinite(distances), spec.log_kernel(distances, h), -np.inf)


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
    """``weights @ values`` with NaN for all-zero rows (no silent fallback to 0)."""
    estimate = weights @ values  # (L,) or (L, Ev)
    empty = ~np.any(weights > 0, axis=1)
    if values.ndim == 2:
        empty = empty[:, None]
    return np.where(empty, np.nan, estimate)


def _as_targets(y_train: ArrayLike, n_train: int) -> FloatArray:
    targets = _as_finite("y_train", y_train)
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
    kernel: str = "gaussian",
    bandwidth: float = 1.0,
    exclude_self: bool = False,
) -> NadarayaWatsonResult:
    """Nadaraya–Watson estimate at the queries, and the attention weights behind it.

    ``weights = softmax_i(log K(|x_q - x_i| / h))``, ``y_hat = weights @ y_train``.

    Args:
        x_train: keys, ``(S,)`` scalars or ``(S, E)``.
        y_train: values, ``(S,)`` or ``(S, Ev)``.
        x_query: queries, ``(L,)`` or ``(L, E)``.
        kernel: a name in :data:`KERNELS`.
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
    scores = attention_scores(
        keys, x_query, kernel=kernel, bandwidth=bandwidth, exclude_self=exclude_self
    )
    if scores.shape[0] == 0:
        shape = (0,) if targets.ndim == 1 else (0, targets.shape[1])
        return NadarayaWatsonResult(np.zeros(shape), np.zeros((0, keys.shape[0])))
    weights = softmax(scores, axis=-1)  # (L, S); a row of all -inf becomes all 0
    return NadarayaWatsonResult(_weighted_average(weights, targets), weights)


# ---------------------------------------------------------------------------
# scikit-learn estimator (in lab.kernel_regression_estimator, loaded on first use)
# ---------------------------------------------------------------------------


def __getattr__(name: str) -> object:
    """``NadarayaWatsonRegressor`` is imported lazily: scikit-learn takes about a second
    to import, and the page itself never needs it."""
    if name == "NadarayaWatsonRegressor":
        from lab.kernel_regression_estimator import NadarayaWatsonRegressor

        return NadarayaWatsonRegressor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    x_train: ArrayLike, y_train: ArrayLike, *, kernel: str = "gaussian", bandwidth: float = 1.0
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
    x_train: ArrayLike, y_train: ArrayLike, *, kernel: str = "gaussian", bandwidth: float = 1.0
) -> float:
    """Leave-one-out mean squared error (``NaN`` if some left-out point has no estimate)."""
    result = loo_predictions(x_train, y_train, kernel=kernel, bandwidth=bandwidth)
    return mean_squared_error(result.estimate, _as_finite("y_train", y_train))


def bandwidth_grid(low: float = 0.01, high: float = 10.0, per_decade: int = 20) -> FloatArray:
    """Log-spaced bandwidths from ``low`` to ``high`` with ``per_decade`` steps per factor 10.

    The defaults give the page's slider: 61 values from 0.01 to 10, each about
    12 % above the previous one.
    """
    low, high = check_bandwidth(low), check_bandwidth(high)
    if high <= low:
        raise ValueError(f"high ({high}) must be above low ({low})")
    if per_decade < 1:
        raise ValueError(f"per_decade must be at least 1, got {per_decade}")
    steps = round(math.log10(high / low) * per_decade)
    return np.geomspace(low, high, max(steps, 1) + 1)


def nearest_bandwidth(grid: Sequence[float] | FloatArray, bandwidth: float) -> float:
    """The value of ``grid`` closest to ``bandwidth`` on a log scale (for a log slider)."""
    values = np.asarray(grid, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"grid must be a non-empty vector, got shape {values.shape}")
    h = check_bandwidth(bandwidth)
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


def error_curves(
    x_train: ArrayLike,
    y_train: ArrayLike,
    bandwidths: Sequence[float] | FloatArray,
    *,
    kernel: str = "gaussian",
    x_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
) -> ErrorCurves:
    """Training, leave-one-out and (optionally) test error for each bandwidth.

    Training error falls towards 0 as the bandwidth shrinks (each point ends
    up attending to itself); leave-one-out error does not, because a point may
    not look itself up. Its minimum is the usual data-driven choice of ``h``.
    """
    grid = np.asarray(bandwidths, dtype=float)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"bandwidths must be a non-empty vector, got shape {grid.shape}")
    for value in grid:
        check_bandwidth(value)
    if (x_test is None) != (y_test is None):
        raise ValueError("pass both x_test and y_test, or neither")
    targets = _as_finite("y_train", y_train)
    train, loo, test = [], [], []
    for h in grid:
        fitted = nadaraya_watson(x_train, targets, x_train, kernel=kernel, bandwidth=h)
        train.append(mean_squared_error(fitted.estimate, targets))
        left_out = loo_predictions(x_train, targets, kernel=kernel, bandwidth=h)
        loo.append(mean_squared_error(left_out.estimate, targets))
        if x_test is not None:
            tested = nadaraya_watson(x_train, targets, x_test, kernel=kernel, bandwidth=h)
            test.append(mean_squared_error(tested.estimate, _as_finite("y_test", y_test)))
    return ErrorCurves(
        bandwidths=grid,
        train=np.asarray(train),
        loo=np.asarray(loo),
        test=np.asarray(test) if x_test is not None else None,
    )


def best_bandwidth(
    x_train: ArrayLike,
    y_train: ArrayLike,
    bandwidths: Sequence[float] | FloatArray,
    *,
    kernel: str = "gaussian",
) -> float | None:
    """The bandwidth of the grid with the smallest leave-one-out error (``None`` if undefined)."""
    return error_curves(x_train, y_train, bandwidths, kernel=kernel).best_bandwidth


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def _textbook(x: FloatArray) -> FloatArray:
    return 2.0 * np.sin(x) + x**0.8


def _step(x: FloatArray) -> FloatArray:
    return np.where(x < 2.5, 1.0, 3.5)


def _chirp(x: FloatArray) -> FloatArray:
    return 2.0 * np.sin(x * x / 2.0)


def _line(x: FloatArray) -> FloatArray:
    return 0.8 * x


@dataclass(frozen=True)
class TrueFunction:
    """A function the demo's data is drawn from."""

    name: str  # key used by the page
    label: str  # what the page shows
    formula: str  # LaTeX
    function: Callable[[FloatArray], FloatArray]


TRUE_FUNCTIONS: dict[str, TrueFunction] = {
    function.name: function
    for function in (
        TrueFunction("textbook", "2 sin x + x^0.8 (textbook)", r"2\sin x + x^{0.8}", _textbook),
        TrueFunction("step", "a step at x = 2.5", r"1 + 2.5\,\mathbb{1}[x \ge 2.5]", _step),
        TrueFunction("chirp", "a chirp, faster to the right", r"2\sin(x^2/2)", _chirp),
        TrueFunction("line", "a straight line", r"0.8\,x", _line),
    )
}


@dataclass(frozen=True)
class DataConfig:
    """The toy regression problem; the defaults are the classic textbook set."""

    n_train: int = 50  # training inputs drawn uniformly on [0, x_max], then sorted
    noise: float = 0.5  # standard deviation of the gaussian noise on every target
    seed: int = 0  # one seed for the inputs and both noise draws
    function: str = "textbook"  # a key of TRUE_FUNCTIONS
    n_query: int = 50  # evenly spaced test queries on [0, x_max]
    x_max: float = 5.0  # inputs live on [0, x_max]


@dataclass(frozen=True)
class RegressionData:
    """Training keys and values, test queries, and what the truth is there.

    Attributes:
        x_train: ``(S,)`` sorted training inputs (the keys).
        y_train: ``(S,)`` noisy targets (the values).
        x_query: ``(L,)`` evenly spaced test inputs (the queries).
        truth: ``(L,)`` the noise-free function at the queries.
        y_test: ``(L,)`` noisy held-out targets at the queries (fresh noise),
            used for the test error.
    """

    config: DataConfig
    x_train: FloatArray
    y_train: FloatArray
    x_query: FloatArray
    truth: FloatArray
    y_test: FloatArray

    @property
    def typical_gap(self) -> float:
        """The average spacing of the training inputs, ``x_max / S``.

        A bandwidth below it leaves most windows with at most one key.
        """
        return self.config.x_max / self.x_train.size

    def true_function(self, x: ArrayLike) -> FloatArray:
        """The noise-free function at ``x``."""
        return TRUE_FUNCTIONS[self.config.function].function(np.asarray(x, dtype=float))


def make_data(config: DataConfig = DataConfig()) -> RegressionData:
    """Draw the training set and test queries of ``config`` (the same numbers for everyone).

    Raises:
        ValueError: for fewer than 2 training points, negative noise, an
            unknown function or a non-positive range.
    """
    if config.function not in TRUE_FUNCTIONS:
        raise ValueError(
            f"unknown function {config.function!r}; choose one of {sorted(TRUE_FUNCTIONS)}"
        )
    if config.n_train < 2:
        raise ValueError(f"n_train must be at least 2 (leave-one-out), got {config.n_train}")
    if config.n_query < 1:
        raise ValueError(f"n_query must be at least 1, got {config.n_query}")
    if not math.isfinite(config.noise) or config.noise < 0:
        raise ValueError(f"noise must be a non-negative number, got {config.noise}")
    if not math.isfinite(config.x_max) or config.x_max <= 0:
        raise ValueError(f"x_max must be positive, got {config.x_max}")
    function = TRUE_FUNCTIONS[config.function].function
    rng = np.random.default_rng(config.seed)
    x_train = np.sort(rng.uniform(0.0, config.x_max, config.n_train))
    y_train = function(x_train) + config.noise * rng.standard_normal(config.n_train)
    x_query = np.linspace(0.0, config.x_max, config.n_query)
    truth = function(x_query)
    # A separate stream for the test noise, so changing n_train leaves it alone.
    test_rng = np.random.default_rng([config.seed, 1])
    y_test = truth + config.noise * test_rng.standard_normal(config.n_query)
    return RegressionData(config, x_train, y_train, x_query, truth, y_test)


def contributions(
    weights: ArrayLike, y_train: ArrayLike, *, top: int | None = None
) -> list[tuple[int, float, float]]:
    """One query's ``(key position, weight, weight * target)``, largest weights first.

    Args:
        weights: ``(S,)`` one row of the weight matrix.
        y_train: ``(S,)`` targets.
        top: keep only this many (all by default).
    """
    row = _as_finite("weights", weights)
    targets = _as_finite("y_train", y_train)
    if row.shape != targets.shape or row.ndim != 1:
        raise ValueError(f"weights {row.shape} and y_train {targets.shape} must be equal vectors")
    order = np.argsort(-row, kind="stable")
    if top is not None:
        order = order[:top]
    return [(int(j), float(row[j]), float(row[j] * targets[j])) for j in order]


def effective_neighbours(weights: ArrayLike) -> FloatArray:
    """``1 / sum_i w_i^2`` per row, ``(L,)``: how many keys a query effectively averages.

    1 for a one-hot row (nearest neighbour), ``S`` for a uniform row; ``NaN``
    for an all-zero row (empty window).
    """
    array = _as_finite("weights", weights)
    if array.ndim != 2:
        raise ValueError(f"weights must be a matrix (L, S), got shape {array.shape}")
    squares = np.sum(array * array, axis=1)
    safe = np.where(squares > 0, squares, 1.0)
    return np.where(squares > 0, 1.0 / safe, np.nan)


# ---------------------------------------------------------------------------
# Learned bandwidth: settings and results (the torch training is in lab.learned_bandwidth)
# ---------------------------------------------------------------------------

Objective = Literal["train", "loo"]
OBJECTIVES: tuple[Objective, ...] = ("train", "loo")
CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "kernel_regression.json"


@dataclass(frozen=True)
class TrainingConfig:
    """How the bandwidth is learned (gaussian kernel, full-batch Adam on log h)."""

    initial_bandwidth: float = 1.0  # start from a smooth fit, h = 1 (log h = 0)
    learning_rate: float = 0.05  # Adam's step on log h: h changes by about 5 % per step at most
    steps: int = 200  # enough for the leave-one-out run to settle on the default data


@dataclass(frozen=True)
class LearningCurve:
    """One training run of the bandwidth.

    Attributes:
        objective: ``"train"`` (each point sees its own target) or ``"loo"``.
        bandwidths: ``(steps + 1,)`` the bandwidth before each step, and at the end.
        losses: ``(steps + 1,)`` the objective at each of those bandwidths.
        loo_losses: ``(steps + 1,)`` the leave-one-out loss at those bandwidths,
            whatever the objective, so the plain run shows what collapsing costs.
    """

    objective: Objective
    bandwidths: FloatArray
    losses: FloatArray
    loo_losses: FloatArray

    @property
    def final_bandwidth(self) -> float:
        return float(self.bandwidths[-1])

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    @property
    def still_moving(self) -> bool:
        """Whether the bandwidth still changed by more than 5 % over the last tenth of the run."""
        tail = max(1, self.bandwidths.size // 10)
        before, after = self.bandwidths[-1 - tail], self.bandwidths[-1]
        return abs(math.log(after / before)) > math.log(1.05)

    def to_dict(self) -> dict[str, object]:
        return {
            "objective": self.objective,
            "bandwidths": self.bandwidths.tolist(),
            "losses": self.losses.tolist(),
            "loo_losses": self.loo_losses.tolist(),
        }

    @classmethod
    def from_dict(cls, record: dict[str, object]) -> LearningCurve:
        objective = record["objective"]
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r} in a saved learning curve")
        arrays = [np.asarray(record[name], dtype=float) for name in ("bandwidths", "losses")]
        loo = np.asarray(record["loo_losses"], dtype=float)
        if not arrays[0].shape == arrays[1].shape == loo.shape:
            raise ValueError("a saved learning curve has arrays of different lengths")
        return cls(objective, arrays[0], arrays[1], loo)  # type: ignore[arg-type]


def save_learning_curves(
    path: Path,
    data: DataConfig,
    training: TrainingConfig,
    curves: dict[Objective, LearningCurve],
) -> None:
    """Write both runs, with the settings that produced them, as JSON."""
    record = {
        "data": asdict(data),
        "training": asdict(training),
        "curves": {name: curve.to_dict() for name, curve in curves.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")


def load_learning_curves(
    path: Path = CHECKPOINT,
) -> tuple[DataConfig, TrainingConfig, dict[Objective, LearningCurve]]:
    """Read what :func:`save_learning_curves` wrote (the shipped default run by default)."""
    record = json.loads(path.read_text())
    curves = {name: LearningCurve.from_dict(curve) for name, curve in record["curves"].items()}
    return DataConfig(**record["data"]), TrainingConfig(**record["training"]), curves
