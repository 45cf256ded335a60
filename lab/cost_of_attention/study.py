"""What the cost-of-attention page shows, computed: the error study, the small example, readings.

Three groups of pure functions, each a thin layer over the rest of the
package so that the page only lays things out:

* :func:`error_study`: on one set of sample inputs, random-feature attention's
  error against ``r`` and clustered attention's against ``C`` (over a few
  seeds of the method's randomness), and linear attention's error, which has
  no such setting. Errors are :class:`ErrorMeasure`: the relative output
  error (Frobenius norm) or the mean over queries of ``KL(exact ‖ approximate)``.
* :func:`small_example`: exact and approximate weights for a few positions,
  small enough to draw as heatmaps.
* readings of a :class:`~lab.cost_of_attention.timings.Measurements`:
  slopes that never raise (:func:`slopes`), the growth over the last step in
  ``n`` (:func:`last_growth`), the peak memory in ``n x n`` matrices
  (:func:`square_matrices`) and an approximation's speed-up (:func:`speedup`).

The page seeds the data and the methods with one number, ``seed``: the
sweeps use the seeds ``seed, seed + 1, ...``, so their first column is exactly
what :func:`~lab.cost_of_attention.accuracy.compare_methods` gives at ``seed``.

Shapes:
    n   positions (``L = S = n``)
    d   query/key/value size
    K   settings of ``r`` or ``C`` in a sweep
    T   seeds in a sweep
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

import lab.cost_of_attention.accuracy as accuracy
from lab.attention import FloatArray, scaled_dot_product_attention
from lab.checks import check_int
from lab.cost_of_attention.compute import Method, linear_attention
from lab.cost_of_attention.config import (
    MAX_CLUSTERS,
    MAX_FEATURES,
    MAX_HEATMAP_N,
    MAX_SEEDS,
    CostOfAttentionConfig,
)
from lab.cost_of_attention.threads import one_thread
from lab.cost_of_attention.timings import (
    Implementation,
    Measurements,
    PowerLawFit,
    Series,
    SeriesFits,
    measured_slopes,
)
from lab.enums import LabelledEnum

DEFAULTS = CostOfAttentionConfig()
KIND_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # token kinds are drawn as letters in the heatmaps
MEGABYTE = 1e6  # bytes: memory is reported in MB of 10^6 bytes


# ----------------------------------------------------------------------------- error measures


class ErrorMeasure(LabelledEnum):
    """How far an approximation lands from exact attention."""

    # |O_hat - O|_F / |O|_F over every entry of the n x d output
    OUTPUT = "output", "relative output error"
    # KL(exact ‖ approximate) of each weight row, in nats, averaged over queries
    KL = "kl", "KL divergence of the rows"

    @property
    def axis_title(self) -> str:
        return {
            ErrorMeasure.OUTPUT: "‖Ô − O‖ / ‖O‖ (Frobenius)",
            ErrorMeasure.KL: "mean KL(exact ‖ approx.), nats",
        }[self]

    def samples(self, sweep: accuracy.ErrorSweep) -> FloatArray:
        """``(K, T)``: this measure at every setting and seed of ``sweep``."""
        return sweep.output_errors if self is ErrorMeasure.OUTPUT else sweep.kl_divergences

    def of(self, result: accuracy.ApproximationResult) -> float:
        """This measure of one comparison."""
        return result.output_error if self is ErrorMeasure.OUTPUT else result.mean_kl


# ----------------------------------------------------------------------------- error study


@dataclass(frozen=True)
class ErrorStudy:
    """Every approximation's error on one set of sample inputs.

    Attributes:
        n: positions.
        d: query/key/value size.
        seed: seeds the data and the first column of each sweep.
        magnitude: the scale ``a`` of queries and keys (:func:`accuracy.sample_inputs`).
        features: random-feature attention against ``r`` (powers of two up to
            :data:`~lab.cost_of_attention.config.MAX_FEATURES`).
        clusters: clustered attention against ``C`` (powers of two below ``n``, then ``n``).
        linear_output_error: linear attention's (``elu + 1``) relative output error.
        linear_kl: its mean ``KL(exact ‖ linear)`` over the queries, in nats.
    """

    n: int
    d: int
    seed: int
    magnitude: float
    features: accuracy.ErrorSweep
    clusters: accuracy.ErrorSweep
    linear_output_error: float
    linear_kl: float

    def sweep(self, method: Method) -> accuracy.ErrorSweep:
        """The sweep of ``PERFORMER`` or ``CLUSTERED``."""
        if method is Method.PERFORMER:
            return self.features
        if method is Method.CLUSTERED:
            return self.clusters
        raise ValueError(f"only random features and clustered attention are swept, not {method}")

    def at(self, method: Method, measure: ErrorMeasure, setting: int = 1) -> float:
        """The error the page shows for ``method`` at its seed, with ``r`` or ``C`` = ``setting``.

        ``setting`` must be a swept value, except that any ``C >= n`` counts
        as ``C = n`` (every query its own cluster: exact). Linear attention
        ignores ``setting``; exact attention's error is 0.
        """
        if method is Method.EXACT:
            return 0.0
        if method is Method.LINEAR:
            return self.linear_output_error if measure is ErrorMeasure.OUTPUT else self.linear_kl
        sweep = self.sweep(method)
        setting = check_int(sweep.parameter, setting, minimum=1)
        if method is Method.CLUSTERED:
            setting = min(setting, self.n)
        values = sweep.values.tolist()
        if setting not in values:
            raise ValueError(f"{sweep.parameter} = {setting} was not swept; choose one of {values}")
        return float(measure.samples(sweep)[values.index(setting), 0])

    def best(self, measure: ErrorMeasure, num_features: int, num_clusters: int) -> Method:
        """The approximation with the smallest error at ``r`` and ``C`` (the first on a tie)."""
        candidates = (Method.PERFORMER, Method.LINEAR, Method.CLUSTERED)
        settings = {Method.PERFORMER: num_features, Method.CLUSTERED: num_clusters}
        errors = [self.at(method, measure, settings.get(method, 1)) for method in candidates]
        return candidates[int(np.argmin(errors))]


def study_inputs(n: int, d: int, *, seed: int, magnitude: float) -> accuracy.AttentionInputs:
    """The page's sample inputs: :func:`accuracy.sample_inputs` with its kinds and spread."""
    return accuracy.sample_inputs(
        n, d, seed=seed, kinds=DEFAULTS.kinds, spread=DEFAULTS.spread, magnitude=magnitude
    )


def error_study(
    n: int, d: int, *, seed: int, magnitude: float, sweep_seeds: int = DEFAULTS.sweep_seeds
) -> ErrorStudy:
    """Sweep ``r`` and ``C`` on one set of inputs, and measure linear attention beside them.

    Runs with one BLAS and one OpenMP thread (:func:`~lab.cost_of_attention.threads.one_thread`):
    on a busy two-core server, more threads made the matrix products and
    k-means many times slower.

    Args:
        n: positions, ``1 <= n <= MAX_N``.
        d: query/key/value size.
        seed: seeds the data; the sweeps use ``seed ... seed + sweep_seeds - 1``.
        magnitude: the scale ``a >= 0`` of queries and keys.
        sweep_seeds: seeds of each method's randomness, ``1 ... MAX_SEEDS``.

    Returns:
        :class:`ErrorStudy`.
    """
    seed = check_int("seed", seed, minimum=0)
    count = check_int("sweep_seeds", sweep_seeds, minimum=1, maximum=MAX_SEEDS)
    data = study_inputs(n, d, seed=seed, magnitude=magnitude)
    seeds = tuple(range(seed, seed + count))
    with one_thread():
        features = accuracy.feature_sweep(
            data.query,
            data.key,
            data.value,
            feature_counts=accuracy.sweep_values(MAX_FEATURES),
            seeds=seeds,
        )
        clusters = accuracy.cluster_sweep(
            data.query,
            data.key,
            data.value,
            cluster_counts=accuracy.sweep_values(min(n, MAX_CLUSTERS)),
            seeds=seeds,
        )
        exact_output, exact_weights = scaled_dot_product_attention(data.query, data.key, data.value)
        linear_output, linear_weights = linear_attention(data.query, data.key, data.value)
    return ErrorStudy(
        n=n,
        d=d,
        seed=seed,
        magnitude=float(magnitude),
        features=features,
        clusters=clusters,
        linear_output_error=accuracy.relative_output_error(exact_output, linear_output),
        linear_kl=float(np.mean(accuracy.weight_kl_divergence(exact_weights, linear_weights))),
    )


# ----------------------------------------------------------------------------- small example


@dataclass(frozen=True)
class SmallExample:
    """Exact and approximate weights for a few positions, to draw side by side.

    Attributes:
        labels: ``n`` axis labels, the position and its token kind (``"3 B"``).
        kinds: ``(n,)`` the token kind of each position.
        results: every method's output, weights and errors (:func:`accuracy.compare_methods`).
        clusters_used: the clusters k-means actually formed, ``min(C, distinct queries)``.
    """

    labels: tuple[str, ...]
    kinds: np.ndarray
    results: dict[Method, accuracy.ApproximationResult]
    clusters_used: int

    @property
    def own_kind_rows(self) -> int:
        """Rows of exact attention whose largest weight is on a key of the query's own kind."""
        strongest = np.argmax(self.results[Method.EXACT].weights, axis=-1)  # (n,)
        return int(np.sum(self.kinds[strongest] == self.kinds))

    @property
    def largest_weight(self) -> float:
        """The largest weight of any method: the top of the shared colour scale."""
        return max(float(result.weights.max()) for result in self.results.values())


def kind_labels(kinds: np.ndarray) -> tuple[str, ...]:
    """``"position kind"`` labels, kinds as letters: ``[1, 0] -> ("0 B", "1 A")``."""
    return tuple(
        f"{index} {KIND_NAMES[int(kind) % len(KIND_NAMES)]}" for index, kind in enumerate(kinds)
    )


def small_example(
    n: int, d: int, *, seed: int, magnitude: float, num_features: int, num_clusters: int
) -> SmallExample:
    """Every method on ``n <= MAX_HEATMAP_N`` positions (fresh inputs, same kinds and scale).

    Args:
        n: positions, ``1 ... MAX_HEATMAP_N``.
        d: query/key/value size.
        seed: seeds the data, the random directions and k-means.
        magnitude: the scale ``a`` of queries and keys.
        num_features: ``r``.
        num_clusters: ``C``.
    """
    n = check_int("n", n, minimum=1, maximum=MAX_HEATMAP_N)
    data = study_inputs(n, d, seed=seed, magnitude=magnitude)
    with one_thread():
        results = accuracy.compare_methods(
            data.query,
            data.key,
            data.value,
            num_features=num_features,
            num_clusters=num_clusters,
            seed=seed,
        )
    distinct = np.unique(data.query, axis=0).shape[0]
    return SmallExample(
        labels=kind_labels(data.kinds),
        kinds=data.kinds,
        results=results,
        clusters_used=min(check_int("num_clusters", num_clusters, minimum=1), distinct),
    )


# ----------------------------------------------------------------------------- measurements


class MeasuredQuantity(LabelledEnum):
    """Which measured figure a chart or a sentence reads."""

    # wall-clock time per call, the least over the timed loops
    TIME = "time", "time per call"
    # peak bytes during one call, as the implementation's MemoryMethod says
    MEMORY = "memory", "peak memory"

    @property
    def unit(self) -> str:
        return {MeasuredQuantity.TIME: "ms", MeasuredQuantity.MEMORY: "MB"}[self]

    def values(self, series: Series) -> FloatArray:
        """``(N,)`` the series' figures in :attr:`unit` (milliseconds, or MB of 10^6 bytes)."""
        if self is MeasuredQuantity.TIME:
            return np.asarray(series.seconds, dtype=float) * 1e3
        return np.asarray(series.peak_bytes, dtype=float) / MEGABYTE

    def fit(self, fits: SeriesFits) -> PowerLawFit | None:
        """The log-log fit of this figure (``None`` where memory had a zero)."""
        return fits.seconds if self is MeasuredQuantity.TIME else fits.peak_bytes


@functools.lru_cache(maxsize=16)
def slopes(measurements: Measurements) -> Mapping[Implementation, SeriesFits]:
    """:func:`measured_slopes`, or an empty mapping when fewer than two sizes were measured.

    Remembered for the last few records (a page reads the same figures several
    times per rerun); the mapping is read-only because it is shared.
    """
    if len(measurements.n_values) < 2:
        return MappingProxyType({})
    return MappingProxyType(measured_slopes(measurements))


@dataclass(frozen=True)
class Growth:
    """How a figure changed between the last two measured sizes.

    Attributes:
        n_before, n_after: the two sizes.
        before, after: the figures at those sizes, in the quantity's unit.
    """

    n_before: int
    n_after: int
    before: float
    after: float

    @property
    def factor(self) -> float:
        """``after / before``: how many times the figure grew."""
        return self.after / self.before

    @property
    def quadratic_factor(self) -> float:
        """``(n_after / n_before)^2``: what pure ``n^2`` growth would give."""
        return (self.n_after / self.n_before) ** 2


def last_growth(
    measurements: Measurements, implementation: Implementation, quantity: MeasuredQuantity
) -> Growth | None:
    """The figure's :class:`Growth` over the last two sizes; ``None`` with one size or a zero."""
    if len(measurements.n_values) < 2:
        return None
    values = quantity.values(measurements.series_for(implementation))
    if values[-2] <= 0:
        return None
    return Growth(
        n_before=int(measurements.n_values[-2]),
        n_after=int(measurements.n_values[-1]),
        before=float(values[-2]),
        after=float(values[-1]),
    )


def square_matrices(measurements: Measurements, implementation: Implementation) -> float:
    """The peak memory at the largest ``n``, counted in ``n x n`` matrices of the inputs' dtype."""
    n = measurements.n_values[-1]
    itemsize = np.dtype(measurements.settings.dtype).itemsize
    return measurements.series_for(implementation).peak_bytes[-1] / (itemsize * n * n)


def speedup(
    measurements: Measurements,
    approximation: Implementation,
    exact: Implementation = Implementation.NUMPY,
) -> float:
    """How many times faster ``approximation`` ran than ``exact`` at the largest ``n``."""
    return (
        measurements.series_for(exact).seconds[-1]
        / measurements.series_for(approximation).seconds[-1]
    )
