"""Why attention divides by sqrt(d): sampling q·k, its statistics, softmax sharpness, gradients.

If the components of a query ``q`` and a key ``k`` are independent with mean 0
and variance ``sigma^2``, then ``q · k = sum_i q_i k_i`` is a sum of ``d``
independent terms of mean 0 and variance ``sigma^4``, so

    E[q · k] = 0,    Var(q · k) = d sigma^4,    Var(q · k / sqrt(d)) = sigma^4.

Unscaled, the scores spread out like ``sqrt(d)``, softmax over them becomes
nearly one-hot and its Jacobian (the gradient that reaches the scores) goes
to zero. Dividing by ``sqrt(d)`` removes the dependence on ``d``, but not on
``sigma``: that is the job of normalisation layers.

Everything is sampled with fixed seeds, so the numbers are reproducible, and
each ``d`` has its own random stream, so a sample at one ``d`` is the same
whether it was drawn alone or as part of a sweep.

Shapes:
    N   independent (query, key) pairs for the score histogram
    D   dimensions in a sweep (``len(d_values)``)
    R   independent trials (each a fresh set of queries and keys)
    L   queries per trial
    S   keys per trial (the page's ``n``; here ``L = S = n``)
    E   query/key size (the ``d`` of "scale by sqrt(d)")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lab.attention import FloatArray, entropy, softmax

D_VALUES: tuple[int, ...] = tuple(2**power for power in range(11))  # 1, 2, 4, ..., 1024
# Powers of two above 1, so T = sqrt(d) is on the list for d = 4, 16, 64, 256, 1024.
TEMPERATURES: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
VARIANCES: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
MODES: tuple[str, ...] = ("unscaled", "scaled")
MAX_D = 1024  # the largest dimension a page may ask for
JACOBIAN_FLOOR = 1e-16  # below this, a change is lost next to a number of size 1 in float64

_PAIR_STREAM = 0  # random stream of the histogram's (q, k) pairs
_TRIAL_STREAM = 1  # random stream of the n-by-n attention trials


@dataclass(frozen=True)
class ScalingConfig:
    """Defaults of the "why scale by sqrt(d)" demo."""

    d: int = 128  # a common head size (64 and 128 are usual); unscaled, softmax is saturated
    n_keys: int = 16  # keys per query (and queries per trial); enough to see one-hot rows
    variance: float = 1.0  # variance of every component of q and k; 1 is the textbook case
    temperature: float = 1.0  # softmax temperature T; 1 means plain softmax
    query: int = 0  # the query whose weights and Jacobian are drawn up close
    seed: int = 0  # one seed for every sample on the page
    n_pairs: int = 2000  # (q, k) pairs per d for the histogram and the variance sweep
    sweep_rows: int = 512  # query rows per d for the sharpness and gradient sweeps
    max_n_keys: int = 32  # more keys make the heatmaps and bars unreadable


# ----------------------------------------------------------------------------- checks


def _as_float(name: str, values: object) -> FloatArray:
    """``values`` as a float array; a clear error for text, booleans or complex numbers."""
    array = np.asarray(values)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")
    return int(value)


def _check_variance(variance: object) -> float:
    try:
        value = float(variance)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"variance must be a number, got {variance!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"variance must be a positive finite number, got {variance!r}")
    return value


def _check_d_values(d_values: Sequence[int]) -> tuple[int, ...]:
    values = tuple(_check_positive_int("every d in d_values", d) for d in d_values)
    if not values:
        raise ValueError("d_values must hold at least one dimension")
    if list(values) != sorted(set(values)):
        raise ValueError(f"d_values must be increasing without repeats, got {list(values)}")
    return values


# ----------------------------------------------------------------------------- theory


def scale_factor(d: int, *, scaled: bool) -> float:
    """The factor the scores are multiplied by: ``1 / sqrt(d)`` if scaled, else 1."""
    d = _check_positive_int("d", d)
    return 1.0 / math.sqrt(d) if scaled else 1.0


def score_variance(d: int, variance: float = 1.0, *, scaled: bool = False) -> float:
    """Theoretical variance of ``q · k`` (or of ``q · k / sqrt(d)`` if ``scaled``).

    Each term ``q_i k_i`` has mean 0 and variance ``E[q_i^2] E[k_i^2] = sigma^4``;
    ``d`` independent terms add up to ``d sigma^4``. Dividing by ``sqrt(d)``
    divides the variance by ``d``, leaving ``sigma^4``.
    """
    d = _check_positive_int("d", d)
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
    d = _check_positive_int("d", d)
    n_samples = _check_positive_int("n_samples", n_samples, minimum=2)
    sigma4 = _check_variance(variance) ** 2
    unscaled = sigma4 * math.sqrt((2 * d * d + 6 * d) / n_samples)
    return unscaled / d if scaled else unscaled


def normal_density(x: FloatArray, variance: float) -> FloatArray:
    """The density of ``N(0, variance)`` at ``x``, any shape."""
    variance = _check_variance(variance)
    points = _as_float("x", x)
    return np.exp(-0.5 * points**2 / variance) / math.sqrt(2 * math.pi * variance)


def uniform_entropy(n_keys: int) -> float:
    """Entropy of uniform weights over ``n`` keys, ``log n`` nats: the most a row can have."""
    return math.log(_check_positive_int("n_keys", n_keys))


def score_domain(d: int, variance: float = 1.0, *, scaled: bool = False) -> tuple[float, float]:
    """An x range that holds nearly every score: ``±4.5`` theoretical standard deviations."""
    half_width = 4.5 * math.sqrt(score_variance(d, variance, scaled=scaled))
    return (-half_width, half_width)


def uniform_jacobian_norm(n_keys: int) -> float:
    """``||J||_F`` for uniform weights over ``n`` keys: ``sqrt(n - 1) / n``.

    ``J = I/n - 11^T/n^2``: ``n`` diagonal entries ``(n - 1)/n^2`` and
    ``n (n - 1)`` off-diagonal entries ``-1/n^2``.
    """
    n_keys = _check_positive_int("n_keys", n_keys)
    return math.sqrt(n_keys - 1) / n_keys


# ----------------------------------------------------------------------------- sampling


def sample_vectors(
    shape: tuple[int, ...], d: int, *, variance: float, rng: np.random.Generator
) -> FloatArray:
    """Vectors of size ``d`` with independent ``N(0, variance)`` entries: ``(*shape, d)``."""
    d = _check_positive_int("d", d)
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
    d = _check_positive_int("d", d)
    n_pairs = _check_positive_int("n_pairs", n_pairs, minimum=2)
    rng = np.random.default_rng([int(seed), d, _PAIR_STREAM])
    queries = sample_vectors((n_pairs,), d, variance=variance, rng=rng)  # (N, E)
    keys = sample_vectors((n_pairs,), d, variance=variance, rng=rng)  # (N, E)
    return np.einsum("ne,ne->n", queries, keys)  # (N,)


def sample_attention_scores(
    n_keys: int, d: int, *, trials: int = 1, variance: float = 1.0, seed: int = 0
) -> FloatArray:
    """Raw scores ``Q K^T`` of ``trials`` independent sets of ``n`` queries and ``n`` keys.

    Returns:
        ``(R, L, S)`` with ``L = S = n_keys``; trial 0 is the same whatever ``trials`` is.
    """
    n_keys = _check_positive_int("n_keys", n_keys)
    d = _check_positive_int("d", d)
    trials = _check_positive_int("trials", trials)
    rng = np.random.default_rng([int(seed), d, _TRIAL_STREAM, n_keys])
    # One draw for all trials: in C order it is trial 0's queries, trial 0's keys, then
    # trial 1's, ..., so trial 0 never depends on R.
    vectors = sample_vectors((trials, 2, n_keys), d, variance=variance, rng=rng)  # (R, 2, n, E)
    queries, keys = vectors[:, 0], vectors[:, 1]  # (R, L, E), (R, S, E)
    return queries @ np.swapaxes(keys, -1, -2)  # (R, L, S)


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
    array = _as_float("scores", scores)
    return softmax(array * scale_factor(d, scaled=scaled), temperature=temperature)


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
    w = _as_float("weights", weights)
    if w.ndim == 0:
        raise ValueError("weights must have at least one axis (the keys)")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative (a softmax output)")
    size = w.shape[-1]
    jacobian = -w[..., :, None] * w[..., None, :]  # (..., S, S) off-diagonal -w_i w_j
    others = w @ (1.0 - np.eye(size))  # (..., S) sum of the other weights, all terms >= 0
    diagonal = np.arange(size)
    jacobian[..., diagonal, diagonal] = w * others
    return jacobian


def jacobian_norm(weights: FloatArray) -> FloatArray:
    """Frobenius norm of :func:`softmax_jacobian` per row: ``(..., S) -> (...)``.

    ``sqrt(n - 1) / n`` for uniform weights (:func:`uniform_jacobian_norm`),
    0 for a one-hot row: no gradient reaches any score.
    """
    jacobian = softmax_jacobian(weights)  # (..., S, S)
    return np.sqrt(np.sum(jacobian**2, axis=(-2, -1)))


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
        if d not in self.d_values:
            raise ValueError(f"d = {d} is not in this sweep; it has {list(self.d_values)}")
        return self.samples[self.d_values.index(d)] * scale_factor(d, scaled=scaled)


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
        for mode in MODES:
            scaled = mode == "scaled"
            empirical = float(np.var(sweep.at(d, scaled=scaled), ddof=1))
            error = score_variance_standard_error(d, sweep.n_pairs, sweep.variance, scaled=scaled)
            rows.append(
                {
                    "d": d,
                    "mode": mode,
                    "empirical": empirical,
                    "theory": score_variance(d, sweep.variance, scaled=scaled),
                    "standard_error": error,
                    "low": max(empirical - 2 * error, empirical / 10),
                    "high": empirical + 2 * error,
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class AttentionSweep:
    """Raw attention scores of many independent trials, for each ``d`` of a sweep.

    Attributes:
        d_values: the ``D`` dimensions, increasing.
        n_keys: ``n``, the number of queries and of keys in each trial.
        variance: ``sigma^2`` of the components of q and k.
        scores: ``(D, R, L, S)`` raw ``Q K^T``; ``scores[i, 0]`` is what the
            page shows as the attention matrix at ``d_values[i]``.
    """

    d_values: tuple[int, ...]
    n_keys: int
    variance: float
    scores: FloatArray

    def at(self, d: int) -> FloatArray:
        """The ``(R, L, S)`` raw scores at one ``d``."""
        if d not in self.d_values:
            raise ValueError(f"d = {d} is not in this sweep; it has {list(self.d_values)}")
        return self.scores[self.d_values.index(d)]


def sweep_attention_scores(
    n_keys: int,
    *,
    variance: float = 1.0,
    seed: int = 0,
    rows: int = ScalingConfig.sweep_rows,
    d_values: Sequence[int] = D_VALUES,
) -> AttentionSweep:
    """Sample :func:`sample_attention_scores` for every ``d``, about ``rows`` query rows each.

    The number of trials is ``ceil(rows / n)``, so every ``n`` gets about the
    same number of rows to average over.
    """
    values = _check_d_values(d_values)
    n_keys = _check_positive_int("n_keys", n_keys)
    rows = _check_positive_int("rows", rows)
    trials = math.ceil(rows / n_keys)
    scores = np.stack(
        [
            sample_attention_scores(n_keys, d, trials=trials, variance=variance, seed=seed)
            for d in values
        ]
    )  # (D, R, L, S)
    return AttentionSweep(values, n_keys, _check_variance(variance), scores)


def row_statistics(weights: FloatArray) -> dict[str, FloatArray]:
    """Per-row sharpness and gradient size of attention weights ``(..., S)``.

    Returns:
        ``entropy`` (nats), ``max_weight`` and ``jacobian_norm``, each ``(...)``.
    """
    return {
        "entropy": entropy(weights),
        "max_weight": np.max(weights, axis=-1),
        "jacobian_norm": jacobian_norm(weights),
    }


def sharpness_table(sweep: AttentionSweep, temperature: float = 1.0) -> pd.DataFrame:
    """How sharp the weights are and how big the softmax Jacobian is, per ``d`` and mode.

    Every row of every trial is one sample. Columns: ``d``, ``mode``,
    ``mean_entropy``, ``mean_max_weight``, ``jacobian_median``,
    ``jacobian_q10``, ``jacobian_q90`` (10th and 90th percentiles of
    ``||J||_F`` over the rows: the median is the typical row, the mean would
    be ruled by the few rows with a near tie), ``jacobian_mean`` and
    ``saturated`` (the fraction of rows with ``||J||_F`` below 1e-3).
    """
    records = []
    for d in sweep.d_values:
        scores = sweep.at(d)  # (R, L, S)
        for mode in MODES:
            weights = attention_weights(scores, d, scaled=mode == "scaled", temperature=temperature)
            stats = row_statistics(weights)
            norms = stats["jacobian_norm"].ravel()  # (R * L,)
            q10, median, q90 = np.quantile(norms, [0.1, 0.5, 0.9])
            records.append(
                {
                    "d": d,
                    "mode": mode,
                    "mean_entropy": float(stats["entropy"].mean()),
                    "mean_max_weight": float(stats["max_weight"].mean()),
                    "jacobian_median": float(median),
                    "jacobian_q10": float(q10),
                    "jacobian_q90": float(q90),
                    "jacobian_mean": float(norms.mean()),
                    "saturated": float(np.mean(norms < 1e-3)),
                }
            )
    return pd.DataFrame(records)


def density_histogram(samples: FloatArray, domain: tuple[float, float], bins: int) -> pd.DataFrame:
    """A histogram scaled as a density, to draw under a probability density curve.

    Samples outside ``domain`` are not drawn, but still count in the total, so
    the bars keep the area of the fraction of samples they hold.

    Returns:
        One row per bin: ``start``, ``end``, ``count``, ``density``
        (``count / (N * bin width)``).
    """
    values = _as_float("samples", samples).ravel()
    if values.size == 0:
        raise ValueError("samples is empty; there is nothing to count")
    low, high = (float(edge) for edge in domain)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"domain must be two finite numbers, low < high, got {domain}")
    bins = _check_positive_int("bins", bins)
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


def summary_at(
    variances: pd.DataFrame, sharpness: pd.DataFrame, d: int, mode: str
) -> dict[str, float]:
    """The headline numbers for one ``d`` and mode, read from the two sweep tables.

    Args:
        variances: :func:`variance_table`.
        sharpness: :func:`sharpness_table`.
        d: a dimension present in both tables.
        mode: ``"unscaled"`` or ``"scaled"``.

    Returns:
        ``score_std`` (sample standard deviation of the scores), ``theory_std``
        (``sqrt`` of :func:`score_variance`), ``mean_max_weight``,
        ``mean_entropy``, ``jacobian_median`` and ``saturated``.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")
    variance_rows = variances[(variances["d"] == d) & (variances["mode"] == mode)]
    sharp_rows = sharpness[(sharpness["d"] == d) & (sharpness["mode"] == mode)]
    if len(variance_rows) != 1 or len(sharp_rows) != 1:
        raise ValueError(f"d = {d} is not in both tables")
    variance_row = variance_rows.iloc[0]
    sharp_row = sharp_rows.iloc[0]
    return {
        "score_std": math.sqrt(float(variance_row["empirical"])),
        "theory_std": math.sqrt(float(variance_row["theory"])),
        "mean_max_weight": float(sharp_row["mean_max_weight"]),
        "mean_entropy": float(sharp_row["mean_entropy"]),
        "jacobian_median": float(sharp_row["jacobian_median"]),
        "saturated": float(sharp_row["saturated"]),
    }


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
