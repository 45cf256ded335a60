"""Why attention divides by sqrt(d): sampling q·k, its statistics, softmax sharpness, the Jacobian.

If the components of a query ``q`` and a key ``k`` are independent with mean 0
and variance ``sigma^2``, then ``q · k = sum_i q_i k_i`` is a sum of ``d``
independent terms of mean 0 and variance ``sigma^4``, so

    E[q · k] = 0,    Var(q · k) = d sigma^4,    Var(q · k / sqrt(d)) = sigma^4.

Unscaled, the scores spread out like ``sqrt(d)``, softmax over them becomes
nearly one-hot and its Jacobian (through which every gradient reaches the
scores) goes to zero. Dividing by ``sqrt(d)`` removes the dependence on ``d``,
but not on ``sigma``: that is the job of normalisation layers.

Everything is sampled with fixed seeds, so the numbers are reproducible, and
each ``d`` has its own random stream, so a sample at one ``d`` is the same
whether it was drawn alone or as part of a sweep. Vectors are drawn with unit
variance and the scores multiplied by ``sigma^2`` afterwards (``q = sigma z``,
``k = sigma z'`` give ``q · k = sigma^2 z · z'``), so a new ``sigma^2`` reuses
the draw instead of sampling again.

Shapes:
    N   independent (query, key) pairs for the score histogram
    D   dimensions in a sweep (``len(d_values)``)
    R   independent trials (each a fresh set of queries and keys)
    L   queries per trial
    S   keys per trial (here ``L = S``)
    E   query/key size (the ``d`` of "scale by sqrt(d)")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from lab.attention import entropy, softmax
from lab.checks import FloatArray, as_real, check_float, check_int

D_VALUES: tuple[int, ...] = tuple(2**power for power in range(11))  # 1, 2, 4, ..., 1024
# Powers of two above 1, so T = sqrt(d) is on the list for d = 4, 16, 64, 256, 1024.
TEMPERATURES: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
VARIANCES: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
MAX_D = 1024  # the largest dimension a page may ask for
JACOBIAN_FLOOR = 1e-16  # below this, a change is lost next to a number of size 1 in float64
SATURATED_BELOW = 1e-3  # a row whose softmax Jacobian has a Frobenius norm below this is saturated
HISTOGRAM_HALF_WIDTH = 4.5  # histogram axes span this many theoretical standard deviations

_PAIR_STREAM = 0  # random stream of the histogram's (q, k) pairs
_TRIAL_STREAM = 1  # random stream of the S-by-S attention trials


class Mode(StrEnum):
    """Whether the scores are divided by ``sqrt(d)`` before softmax."""

    UNSCALED = "unscaled"
    SCALED = "scaled"

    @property
    def scaled(self) -> bool:
        return self is Mode.SCALED


class Comparison(StrEnum):
    """What a page shows: both modes side by side, or one of them. Values go in the address."""

    BOTH = "both"
    UNSCALED = "unscaled"
    SCALED = "scaled"

    @property
    def modes(self) -> tuple[Mode, ...]:
        """The modes drawn, unscaled first."""
        return tuple(Mode) if self is Comparison.BOTH else (Mode(self.value),)

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class ScalingConfig:
    """Defaults of the "why scale by sqrt(d)" demo."""

    d: int = 128  # a common head size (64 and 128 are usual); unscaled, softmax is saturated
    n_keys: int = 16  # S, keys per query (and queries per trial); enough to see one-hot rows
    variance: float = 1.0  # variance of every component of q and k; 1 is the textbook case
    temperature: float = 1.0  # softmax temperature T; 1 means plain softmax
    query: int = 0  # the query whose weights and Jacobian are drawn up close
    seed: int = 0  # one seed for every sample on the page
    n_pairs: int = 2000  # (q, k) pairs per d for the histogram and the variance sweep
    sweep_rows: int = 512  # query rows per d for the sharpness and Jacobian sweeps
    max_n_keys: int = 32  # more keys make the heatmaps and bars unreadable


# ----------------------------------------------------------------------------- checks


def _check_d(d: object) -> int:
    return check_int("d", d, minimum=1)


def _check_variance(variance: object) -> float:
    return check_float("variance", variance, positive=True)


def _check_d_values(d_values: Sequence[int]) -> tuple[int, ...]:
    values = tuple(check_int("every d in d_values", d, minimum=1) for d in d_values)
    if not values:
        raise ValueError("d_values must hold at least one dimension")
    if list(values) != sorted(set(values)):
        raise ValueError(f"d_values must be increasing without repeats, got {list(values)}")
    return values


def _index_of(d: int, d_values: tuple[int, ...]) -> int:
    if d not in d_values:
        raise ValueError(f"d = {d} is not in this sweep; it has {list(d_values)}")
    return d_values.index(d)


# ----------------------------------------------------------------------------- theory


def scale_factor(d: int, *, scaled: bool) -> float:
    """The factor the scores are multiplied by: ``1 / sqrt(d)`` if scaled, else 1."""
    d = _check_d(d)
    return 1.0 / math.sqrt(d) if scaled else 1.0


def score_variance(d: int, variance: float = 1.0, *, scaled: bool = False) -> float:
    """Theoretical variance of ``q · k`` (or of ``q · k / sqrt(d)`` if ``scaled``).

    Each term ``q_i k_i`` has mean 0 and variance ``E[q_i^2] E[k_i^2] = sigma^4``;
    ``d`` independent terms add up to ``d sigma^4``. Dividing by ``sqrt(d)``
    divides the variance by ``d``, leaving ``sigma^4``.
    """
    d = _check_d(d)
    sigma4 = _check_variance(variance) ** 2
    return sigma4 if scaled else d * sigma4


def score_variance_standard_error(
    d: int, n_samples: int, variance: float = 1.0, *, scaled: bool = False
) -> float:
    """Standard error of the sample variance of ``n_samples`` scores, for Gaussian q and k.

    For a sample variance of ``N`` draws of ``X`` with mean 0,
    ``SE^2 ~ (E[X^4] - Var(X)^2) / N``. For ``X = q · k`` with Gaussian entries,
    ``E[(q_i k_i)^4] = E[q_i^4] E[k_i^4] = 9 sigma^8`` and the cross terms give
    ``E[X^4] = 9 d sigma^8 + 3 d (d - 1) sigma^8 = (3 d^2 + 6 d) sigma^8``, so
    ``SE = sigma^4 sqrt((2 d^2 + 6 d) / N)``; scaled, it is that divided by ``d``.
    """
    d = _check_d(d)
    n_samples = check_int("n_samples", n_samples, minimum=2)
    sigma4 = _check_variance(variance) ** 2
    unscaled = sigma4 * math.sqrt((2 * d * d + 6 * d) / n_samples)
    return unscaled / d if scaled else unscaled


def score_excess_kurtosis(d: int) -> float:
    """Excess kurtosis of ``q · k`` for Gaussian entries: ``6 / d`` (0 for a normal).

    From the fourth moment above, ``E[X^4] / Var(X)^2 = 3 + 6 / d``: one product
    ``q_1 k_1`` (``d = 1``) is far peakier and heavier-tailed than a normal, and
    the sum of ``d`` products approaches one as ``d`` grows. Neither ``sigma``
    nor the scaling changes it.
    """
    return 6.0 / _check_d(d)


def normal_density(x: FloatArray, variance: float) -> FloatArray:
    """The density of ``N(0, variance)`` at ``x``, any shape."""
    variance = _check_variance(variance)
    points = as_real("x", x, dtype=np.float64)
    return np.exp(-0.5 * points**2 / variance) / math.sqrt(2 * math.pi * variance)


def uniform_entropy(n_keys: int) -> float:
    """Entropy of uniform weights over ``S`` keys, ``log S`` nats: the most a row can have."""
    return math.log(check_int("n_keys", n_keys, minimum=1))


def score_domain(d: int, variance: float = 1.0, *, scaled: bool = False) -> tuple[float, float]:
    """An x range that holds nearly every score: ``±4.5`` theoretical standard deviations."""
    half_width = HISTOGRAM_HALF_WIDTH * math.sqrt(score_variance(d, variance, scaled=scaled))
    return (-half_width, half_width)


def uniform_jacobian_norm(n_keys: int) -> float:
    """``||J||_F`` for uniform weights over ``S`` keys: ``sqrt(S - 1) / S``.

    ``J = I/S - 11^T/S^2``: ``S`` diagonal entries ``(S - 1)/S^2`` and
    ``S (S - 1)`` off-diagonal entries ``-1/S^2``.
    """
    n_keys = check_int("n_keys", n_keys, minimum=1)
    return math.sqrt(n_keys - 1) / n_keys


def restoring_temperature(variance: float) -> float:
    """The temperature that undoes entries of variance ``sigma^2``: ``T = sigma^2``.

    Entries of variance ``sigma^2`` are ``sigma`` times unit-variance ones, so
    every score is ``sigma^2`` times larger; dividing by ``T = sigma^2`` gives
    softmax exactly the numbers it sees at ``sigma^2 = 1`` and ``T = 1``.
    """
    return _check_variance(variance)


# ----------------------------------------------------------------------------- sampling


def sample_vectors(
    shape: tuple[int, ...], d: int, *, variance: float, rng: np.random.Generator
) -> FloatArray:
    """Vectors of size ``d`` with independent ``N(0, variance)`` entries: ``(*shape, d)``."""
    d = _check_d(d)
    sigma = math.sqrt(_check_variance(variance))
    return rng.standard_normal((*shape, d)) * sigma


def sample_dot_products(
    d: int, n_pairs: int, *, variance: float = 1.0, seed: int = 0
) -> FloatArray:
    """``q · k`` for ``n_pairs`` independent pairs of random vectors of size ``d``.

    Args:
        d: the size ``E`` of the query and the key.
        n_pairs: ``N``, at least 2 (a variance needs two samples).
        variance: ``sigma^2`` of every component of ``q`` and ``k``.
        seed: with ``d``, fixes the sample.

    Returns:
        ``(N,)`` raw dot products (not scaled).
    """
    d = _check_d(d)
    n_pairs = check_int("n_pairs", n_pairs, minimum=2)
    variance = _check_variance(variance)
    rng = np.random.default_rng([int(seed), d, _PAIR_STREAM])
    queries = sample_vectors((n_pairs,), d, variance=1.0, rng=rng)  # (N, E)
    keys = sample_vectors((n_pairs,), d, variance=1.0, rng=rng)  # (N, E)
    return np.einsum("ne,ne->n", queries, keys) * variance  # (N,)


def sample_attention_scores(
    n_keys: int, d: int, *, trials: int = 1, variance: float = 1.0, seed: int = 0
) -> FloatArray:
    """Raw scores ``Q K^T`` of ``trials`` independent sets of ``S`` queries and ``S`` keys.

    Returns:
        ``(R, L, S)`` with ``L = S = n_keys``; trial 0 is the same whatever ``trials`` is.
    """
    n_keys = check_int("n_keys", n_keys, minimum=1)
    d = _check_d(d)
    trials = check_int("trials", trials, minimum=1)
    variance = _check_variance(variance)
    rng = np.random.default_rng([int(seed), d, _TRIAL_STREAM, n_keys])
    # One draw for all trials: in C order it is trial 0's queries, trial 0's keys, then
    # trial 1's, ..., so trial 0 never depends on R.
    vectors = sample_vectors((trials, 2, n_keys), d, variance=1.0, rng=rng)  # (R, 2, S, E)
    queries, keys = vectors[:, 0], vectors[:, 1]  # (R, L, E), (R, S, E)
    return (queries @ np.swapaxes(keys, -1, -2)) * variance  # (R, L, S)


# ----------------------------------------------------------------------------- softmax


def attention_weights(
    scores: FloatArray, d: int, *, scaled: bool, temperature: float = 1.0
) -> FloatArray:
    """``softmax(scores * c / T)`` along the last axis, with ``c = 1/sqrt(d)`` if scaled.

    Uses :func:`lab.attention.softmax`, which subtracts the row maximum before
    dividing by ``T``, so huge scores or tiny temperatures cannot overflow.

    Args:
        scores: ``(..., S)`` raw dot products.
        d: the query/key size the scores came from.
        scaled: divide by ``sqrt(d)`` first.
        temperature: ``T > 0``.

    Returns:
        ``(..., S)`` weights, each row summing to 1.
    """
    array = as_real("scores", scores, dtype=np.float64)
    temperature = check_float("temperature", temperature, positive=True)
    return softmax(array * scale_factor(d, scaled=scaled), temperature=temperature)


def _checked_weights(weights: FloatArray) -> FloatArray:
    w = as_real("weights", weights, dtype=np.float64)
    if w.ndim == 0:
        raise ValueError("weights must have at least one axis (the keys)")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative (a softmax output)")
    return w


def _sum_of_others(values: FloatArray) -> FloatArray:
    """``sum_{j != i} values_j`` for every ``i`` of the last axis, added up, never subtracted.

    ``total - values_i`` would round to 0 for the winner of a saturated row
    (``1 - (1 - 1e-18)`` is 0 in float64); a sum of the small terms keeps them.
    """
    size = values.shape[-1]
    return values @ (1.0 - np.eye(size))  # (..., S)


def softmax_jacobian(weights: FloatArray) -> FloatArray:
    """The Jacobian of softmax at its output ``w``: ``J = diag(w) - w w^T``.

    ``J[i, j] = dw_i / dz_j = w_i (delta_ij - w_j)`` where ``z`` are the logits
    (the scores after scaling and temperature). The diagonal ``w_i (1 - w_i)``
    is computed as ``w_i * sum_{j != i} w_j`` rather than ``w_i - w_i^2``, so a
    saturated row (``w_i`` within 1e-17 of 1) keeps its tiny but non-zero
    diagonal instead of rounding to 0.

    Args:
        weights: ``(..., S)``, each row a probability vector (e.g. a softmax output).

    Returns:
        ``(..., S, S)``: symmetric, rows summing to 0, positive semi-definite.
    """
    w = _checked_weights(weights)
    size = w.shape[-1]
    jacobian = -w[..., :, None] * w[..., None, :]  # (..., S, S) off-diagonal -w_i w_j
    diagonal = np.arange(size)
    jacobian[..., diagonal, diagonal] = w * _sum_of_others(w)
    return jacobian


def jacobian_norm(weights: FloatArray) -> FloatArray:
    """Frobenius norm of :func:`softmax_jacobian` per row: ``(..., S) -> (...)``.

    ``||J||_F^2 = sum_i (w_i (1 - w_i))^2 + sum_{i != j} w_i^2 w_j^2``, computed
    from the row alone (no ``S x S`` matrix per row) with the same care for
    saturated rows as :func:`softmax_jacobian`. It is ``sqrt(S - 1) / S`` for
    uniform weights (:func:`uniform_jacobian_norm`) and 0 for a one-hot row:
    no gradient reaches any score. Since ``J`` is symmetric, the gradient that
    reaches the logits is ``J g`` for a gradient ``g`` on the weights, and
    ``|J g| <= ||J||_F |g|``.
    """
    w = _checked_weights(weights)
    diagonal = w * _sum_of_others(w)  # (..., S)
    squares = w * w
    off_diagonal = squares * _sum_of_others(squares)  # (..., S): sum_{j != i} w_i^2 w_j^2
    return np.sqrt(np.sum(diagonal * diagonal + off_diagonal, axis=-1))


# ----------------------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class DotProductSweep:
    """``N`` raw ``q · k`` samples for each ``d`` of a sweep.

    Attributes:
        d_values: the ``D`` dimensions, increasing.
        variance: ``sigma^2`` of the components of q and k.
        samples: ``(D, N)`` raw dot products; row ``i`` is
            ``sample_dot_products(d_values[i], N, variance, seed)``.
    """

    d_values: tuple[int, ...]
    variance: float
    samples: FloatArray

    @property
    def n_pairs(self) -> int:
        return int(self.samples.shape[1])

    def at(self, d: int, *, scaled: bool = False) -> FloatArray:
        """The ``(N,)`` samples for one ``d``, divided by ``sqrt(d)`` if ``scaled``."""
        return self.samples[_index_of(d, self.d_values)] * scale_factor(d, scaled=scaled)

    def with_variance(self, variance: float) -> DotProductSweep:
        """The same draw with entries of variance ``variance``: every score times the ratio."""
        variance = _check_variance(variance)
        ratio = variance / self.variance
        return DotProductSweep(self.d_values, variance, self.samples * ratio)


def sweep_dot_products(
    *,
    variance: float = 1.0,
    seed: int = 0,
    n_pairs: int = ScalingConfig.n_pairs,
    d_values: Sequence[int] = D_VALUES,
) -> DotProductSweep:
    """Sample :func:`sample_dot_products` for every ``d`` (draw once, then reuse)."""
    values = _check_d_values(d_values)
    samples = np.stack(
        [sample_dot_products(d, n_pairs, variance=variance, seed=seed) for d in values]
    )  # (D, N)
    return DotProductSweep(values, _check_variance(variance), samples)


def variance_table(sweep: DotProductSweep) -> pd.DataFrame:
    """Empirical against theoretical variance of the scores, per ``d`` and mode.

    Columns: ``d``, ``mode`` (``"unscaled"`` / ``"scaled"``), ``empirical``
    (sample variance, ``ddof=1``), ``theory`` (:func:`score_variance`),
    ``standard_error`` (:func:`score_variance_standard_error`), and ``low`` /
    ``high`` = empirical -/+ 2 standard errors (``low`` is kept at least a
    tenth of the empirical value, so a log axis can draw it even for a tiny
    sample).
    """
    rows = []
    for d in sweep.d_values:
        for mode in Mode:
            empirical = float(np.var(sweep.at(d, scaled=mode.scaled), ddof=1))
            error = score_variance_standard_error(
                d, sweep.n_pairs, sweep.variance, scaled=mode.scaled
            )
            rows.append(
                {
                    "d": d,
                    "mode": mode.value,
                    "empirical": empirical,
                    "theory": score_variance(d, sweep.variance, scaled=mode.scaled),
                    "standard_error": error,
                    "low": max(empirical - 2 * error, empirical / 10),
                    "high": empirical + 2 * error,
                }
            )
    return pd.DataFrame(rows)


def bars_covering_theory(variances: pd.DataFrame) -> int:
    """How many ``± 2`` standard error bars of :func:`variance_table` contain the theory."""
    inside = (variances["low"] <= variances["theory"]) & (variances["theory"] <= variances["high"])
    return int(inside.sum())


@dataclass(frozen=True)
class AttentionSweep:
    """Raw attention scores of many independent trials, for each ``d`` of a sweep.

    Attributes:
        d_values: the ``D`` dimensions, increasing.
        n_keys: ``S``, the number of queries and of keys in each trial.
        variance: ``sigma^2`` of the components of q and k.
        scores: ``(D, R, L, S)`` raw ``Q K^T``; ``scores[i, 0]`` is what the
            page shows as the attention matrix at ``d_values[i]``.
    """

    d_values: tuple[int, ...]
    n_keys: int
    variance: float
    scores: FloatArray

    @property
    def n_rows(self) -> int:
        """Query rows per ``d``: ``R * L``."""
        return int(self.scores.shape[1] * self.scores.shape[2])

    def at(self, d: int) -> FloatArray:
        """The ``(R, L, S)`` raw scores at one ``d``."""
        return self.scores[_index_of(d, self.d_values)]

    def with_variance(self, variance: float) -> AttentionSweep:
        """The same draw with entries of variance ``variance``: every score times the ratio."""
        variance = _check_variance(variance)
        ratio = variance / self.variance
        return AttentionSweep(self.d_values, self.n_keys, variance, self.scores * ratio)


def trials_for(n_keys: int, rows: int) -> int:
    """Trials of ``S`` queries needed for at least ``rows`` query rows: ``ceil(rows / S)``."""
    n_keys = check_int("n_keys", n_keys, minimum=1)
    return math.ceil(check_int("rows", rows, minimum=1) / n_keys)


def query_rows(n_keys: int, rows: int = ScalingConfig.sweep_rows) -> int:
    """Query rows per ``d`` that :func:`sweep_attention_scores` draws: ``trials_for * S``."""
    return trials_for(n_keys, rows) * int(n_keys)


def sweep_attention_scores(
    n_keys: int,
    *,
    variance: float = 1.0,
    seed: int = 0,
    rows: int = ScalingConfig.sweep_rows,
    d_values: Sequence[int] = D_VALUES,
) -> AttentionSweep:
    """Sample :func:`sample_attention_scores` for every ``d``, about ``rows`` query rows each.

    The number of trials is :func:`trials_for`, so every ``S`` gets about the
    same number of rows to average over.
    """
    values = _check_d_values(d_values)
    trials = trials_for(n_keys, rows)
    scores = np.stack(
        [
            sample_attention_scores(n_keys, d, trials=trials, variance=variance, seed=seed)
            for d in values
        ]
    )  # (D, R, L, S)
    return AttentionSweep(values, int(n_keys), _check_variance(variance), scores)


def row_statistics(weights: FloatArray) -> dict[str, FloatArray]:
    """Per-row sharpness and Jacobian size of attention weights ``(..., S)``.

    Returns:
        ``entropy`` (nats), ``max_weight`` and ``jacobian_norm`` (Frobenius), each ``(...)``.
    """
    return {
        "entropy": entropy(weights),
        "max_weight": np.max(weights, axis=-1),
        "jacobian_norm": jacobian_norm(weights),
    }


def sharpness_row(scores: FloatArray, d: int, mode: Mode, temperature: float) -> dict[str, float]:
    """The sharpness statistics of many rows of raw scores ``(..., S)`` at one ``d`` and mode.

    Returns:
        ``mean_entropy``, ``mean_max_weight``, ``jacobian_median``,
        ``jacobian_q10``, ``jacobian_q90`` (10th and 90th percentiles of
        ``||J||_F`` over the rows: the median is the typical row, the mean would
        be ruled by the few rows with a near tie), ``jacobian_mean`` and
        ``saturated`` (the fraction of rows with ``||J||_F`` below
        ``SATURATED_BELOW``).
    """
    mode = Mode(mode)
    weights = attention_weights(scores, d, scaled=mode.scaled, temperature=temperature)
    stats = row_statistics(weights)
    norms = stats["jacobian_norm"].ravel()  # (rows,)
    q10, median, q90 = np.quantile(norms, [0.1, 0.5, 0.9])
    return {
        "mean_entropy": float(stats["entropy"].mean()),
        "mean_max_weight": float(stats["max_weight"].mean()),
        "jacobian_median": float(median),
        "jacobian_q10": float(q10),
        "jacobian_q90": float(q90),
        "jacobian_mean": float(norms.mean()),
        "saturated": float(np.mean(norms < SATURATED_BELOW)),
    }


def sharpness_table(sweep: AttentionSweep, temperature: float = 1.0) -> pd.DataFrame:
    """How sharp the weights are and how big the softmax Jacobian is, per ``d`` and mode.

    Every row of every trial is one sample. Columns: ``d``, ``mode`` and the
    statistics of :func:`sharpness_row`.
    """
    records = [
        {"d": d, "mode": mode.value, **sharpness_row(sweep.at(d), d, mode, temperature)}
        for d in sweep.d_values
        for mode in Mode
    ]
    return pd.DataFrame(records)


@dataclass(frozen=True)
class JacobianTrend:
    """How the median ``||J||_F`` of one mode moves across a sweep."""

    first: float  # at the smallest d
    peak: float  # the largest median
    peak_d: int  # where it is largest
    last: float  # at the largest d

    @property
    def rises_first(self) -> bool:
        """True if the median climbs above its value at the smallest d somewhere."""
        return self.peak > self.first

    @property
    def falls_after_peak(self) -> bool:
        """True if the median at the largest d is below its peak."""
        return self.last < self.peak


def jacobian_trend(sharpness: pd.DataFrame, mode: Mode) -> JacobianTrend:
    """The first, largest and last median ``||J||_F`` of ``mode`` in :func:`sharpness_table`."""
    rows = sharpness[sharpness["mode"] == Mode(mode).value].sort_values("d")
    if rows.empty:
        raise ValueError(f"the table has no rows for mode {Mode(mode).value!r}")
    medians = rows["jacobian_median"].to_numpy()
    peak = int(np.argmax(medians))
    return JacobianTrend(
        first=float(medians[0]),
        peak=float(medians[peak]),
        peak_d=int(rows["d"].iloc[peak]),
        last=float(medians[-1]),
    )


def density_histogram(samples: FloatArray, domain: tuple[float, float], bins: int) -> pd.DataFrame:
    """A histogram scaled as a density, to draw under a probability density curve.

    Samples outside ``domain`` are not drawn, but still count in the total, so
    the bars keep the area of the fraction of samples they hold.

    Returns:
        One row per bin: ``start``, ``end``, ``count``, ``density``
        (``count / (N * bin width)``).
    """
    values = as_real("samples", samples).ravel()
    if values.size == 0:
        raise ValueError("samples is empty; there is nothing to count")
    low, high = (float(edge) for edge in domain)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"domain must be two finite numbers, low < high, got {domain}")
    bins = check_int("bins", bins, minimum=1)
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    width = (high - low) / bins
    return pd.DataFrame(
        {
            "start": edges[:-1],
            "end": edges[1:],
            "count": counts,
            "density": counts / (values.size * width),
        }
    )


def sweep_columns(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """A sweep table's columns as numpy arrays, ``mode`` as fixed-width text.

    The chart builders take either form. A page passes this one to a cached
    chart: hashing a few small arrays costs a fraction of a millisecond, a
    DataFrame several.
    """
    return {
        name: table[name].to_numpy(dtype=str) if name == "mode" else table[name].to_numpy()
        for name in table.columns
    }


def summary_at(
    variances: pd.DataFrame, sharpness: pd.DataFrame, d: int, mode: Mode
) -> dict[str, float]:
    """The headline numbers for one ``d`` and mode, read from the two sweep tables.

    Args:
        variances: :func:`variance_table`.
        sharpness: :func:`sharpness_table`.
        d: a dimension present in both tables.
        mode: a :class:`Mode` or its value.

    Returns:
        ``score_variance`` (sample variance of the scores), ``theory_variance``
        (:func:`score_variance`), ``score_std`` and ``theory_std`` (their square
        roots), ``mean_max_weight``,
        ``mean_entropy``, ``jacobian_median`` and ``saturated``.
    """
    try:
        mode = Mode(mode)
    except ValueError:
        raise ValueError(f"mode must be one of {[m.value for m in Mode]}, got {mode!r}") from None
    variance_row = _row_at(variances, d, mode)
    sharp_row = _row_at(sharpness, d, mode)
    return {
        "score_variance": float(variance_row["empirical"]),
        "theory_variance": float(variance_row["theory"]),
        "score_std": math.sqrt(float(variance_row["empirical"])),
        "theory_std": math.sqrt(float(variance_row["theory"])),
        "mean_max_weight": float(sharp_row["mean_max_weight"]),
        "mean_entropy": float(sharp_row["mean_entropy"]),
        "jacobian_median": float(sharp_row["jacobian_median"]),
        "saturated": float(sharp_row["saturated"]),
    }


def _row_at(table: pd.DataFrame, d: int, mode: Mode) -> dict[str, object]:
    """The one row of a sweep table at ``(d, mode)``, read with numpy (pandas filtering is slow)."""
    found = np.flatnonzero((table["d"].to_numpy() == d) & (table["mode"].to_numpy() == mode.value))
    if len(found) != 1:
        raise ValueError(f"d = {d} is not in both tables")
    return {column: table[column].to_numpy()[found[0]] for column in table.columns}


def format_small(value: float, *, equals: bool = False) -> str:
    """A size that may span many orders of magnitude: ``0.305``, ``1.4e-05``, ``< 1e-16``.

    With ``equals=True`` the text reads after a symbol: ``"= 0.305"`` or ``"< 1e-16"``.
    """
    if value < JACOBIAN_FLOOR:
        return f"< {JACOBIAN_FLOOR:.0e}"
    text = f"{value:.1e}" if value < 1e-3 else f"{value:.3f}"
    return f"= {text}" if equals else text


def format_number(value: float) -> str:
    """Three significant digits, with thousands written out: ``1.01``, ``130``, ``16,640``."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"
