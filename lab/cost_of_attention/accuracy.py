"""How far each approximation lands from exact attention: error measures, sweeps, sample data.

Two measures, both against exact softmax attention
(:func:`lab.attention.scaled_dot_product_attention`):

* the relative error of the output, ``|O_hat - O|_F / |O|_F``, with the
  Frobenius norm over every entry (all batch elements, queries and value
  components together);
* the Kullback–Leibler divergence of each weight row, ``KL(exact ‖ approximate)``,
  in nats: how many extra nats per key choice an approximate row costs when
  the exact row is the truth.

The sweeps repeat an approximation over ``r`` (random features) or ``C``
(clusters) and over several seeds of the method's own randomness (the random
directions, or k-means' starting centres), on fixed data, so their spread is
the method's, not the data's.

Shapes:
    L   queries (``n`` in the sample data)
    S   keys and values (``n`` in the sample data)
    E   query/key size (``d``)
    Ev  value size (``d`` in the sample data)
    G   token kinds in the sample data
    K   values of ``r`` or ``C`` in a sweep
    T   seeds in a sweep
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from lab.attention import FloatArray, scaled_dot_product_attention
from lab.checks import as_real, check_float, check_int
from lab.cost_of_attention.compute import (
    FeatureMap,
    IntArray,
    Method,
    clustered_attention,
    linear_attention,
    performer_attention,
)
from lab.cost_of_attention.config import MAX_CLUSTERS, MAX_D, MAX_FEATURES, MAX_N, MAX_SEEDS

# A weight row counts as a distribution if it sums to 1 within this (float32 rows reach 1e-7).
ROW_SUM_TOLERANCE = 1e-5


# ----------------------------------------------------------------------------- sample data


@dataclass(frozen=True)
class AttentionInputs:
    """Queries, keys and values for the demo, with the token kind of each position.

    Attributes:
        query: ``(n, d)``.
        key: ``(n, d)``.
        value: ``(n, d)``.
        kinds: ``(n,)`` the token kind of each position, in ``[0, G)``.
    """

    query: FloatArray
    key: FloatArray
    value: FloatArray
    kinds: IntArray


def sample_inputs(
    n: int,
    d: int,
    *,
    seed: int = 0,
    kinds: int = 8,
    spread: float = 0.3,
    magnitude: float = 0.5,
) -> AttentionInputs:
    """Self-attention inputs where positions come in a few kinds, as tokens do.

    Position ``j`` has kind ``g(j)`` (each kind gets ``n / G`` positions, in a
    random order) and

        q_j = a (mu_g(j) + s eps_j),   k_j = a (mu_g(j) + s eps'_j),   v_j ~ N(0, I_d),

    with kind centres ``mu_g ~ N(0, I_d)``, noise ``eps ~ N(0, I_d)``, spread
    ``s`` and magnitude ``a``. With ``scale = 1 / sqrt(d)``, a query's score
    for a key of its own kind is about ``a^2 sqrt(d)`` and for other
    keys about 0 on average, so exact attention leans towards its own kind, and
    the queries form ``G`` clusters. Raising ``a``
    sharpens the attention and, since the random-feature variance grows like
    ``exp(|q' + k'|^2)``, makes random features much noisier.

    Args:
        n: positions, ``1 <= n <=`` :data:`~lab.cost_of_attention.config.MAX_N`.
        d: query/key/value size, ``1 <= d <=`` :data:`~lab.cost_of_attention.config.MAX_D`.
        seed: seeds every draw.
        kinds: ``G >= 1`` token kinds; with ``G >= n`` every position is a kind of its own.
        spread: ``s >= 0``, the noise around each kind's centre.
        magnitude: ``a >= 0``, multiplies queries and keys.

    Returns:
        :class:`AttentionInputs` in float64.
    """
    n = check_int("n", n, minimum=1, maximum=MAX_N)
    d = check_int("d", d, minimum=1, maximum=MAX_D)
    seed = check_int("seed", seed, minimum=0)
    groups = min(check_int("kinds", kinds, minimum=1), n)
    spread = check_float("spread", spread, minimum=0.0)
    magnitude = check_float("magnitude", magnitude, minimum=0.0)
    rng = np.random.default_rng(seed)
    token_kinds = rng.permutation(np.arange(n) % groups)  # (n,)
    centres = rng.standard_normal((groups, d))  # (G, d)
    query = magnitude * (centres[token_kinds] + spread * rng.standard_normal((n, d)))
    key = magnitude * (centres[token_kinds] + spread * rng.standard_normal((n, d)))
    value = rng.standard_normal((n, d))
    return AttentionInputs(query=query, key=key, value=value, kinds=token_kinds)


# ----------------------------------------------------------------------------- error measures


def relative_output_error(exact: ArrayLike, approximate: ArrayLike) -> float:
    """``|approximate - exact|_F / |exact|_F``, the Frobenius norm over every entry.

    0 for a perfect approximation; 1 for an all-zero output.

    Args:
        exact: ``(..., L, Ev)``, exact attention's output, not all zero.
        approximate: the same shape.

    Returns:
        A float ``>= 0``.
    """
    truth = as_real("exact", exact, finite=True)
    guess = as_real("approximate", approximate, finite=True)
    if truth.shape != guess.shape:
        raise ValueError(
            f"exact has shape {truth.shape} but approximate has {guess.shape}; "
            "compare outputs of the same inputs"
        )
    norm = float(np.linalg.norm(truth.ravel()))
    if norm == 0:
        raise ValueError(
            "the exact output is all zeros, so a relative error is undefined; "
            "use values that are not all zero"
        )
    return float(np.linalg.norm((guess - truth).ravel())) / norm


def _check_rows(name: str, weights: FloatArray, allow_zero_rows: bool) -> None:
    if weights.ndim == 0:
        raise ValueError(f"{name} must have at least one axis (the keys), got a scalar")
    if (weights < 0).any():
        raise ValueError(f"{name} has negative entries; weights must be non-negative")
    sums = np.sum(weights, axis=-1)
    wrong = np.abs(sums - 1) > ROW_SUM_TOLERANCE
    if allow_zero_rows:
        wrong &= sums != 0
    if wrong.any():
        row = tuple(int(index) for index in np.argwhere(wrong)[0])
        allowed = "1 (or 0, for a query that sees nothing)" if allow_zero_rows else "1"
        raise ValueError(
            f"row {row} of {name} sums to {float(sums[row]):.6g}; every row must sum to {allowed}"
        )


def weight_kl_divergence(exact: ArrayLike, approximate: ArrayLike) -> FloatArray:
    """``KL(p ‖ q) = sum_j p_j (log p_j - log q_j)`` per row, in nats, ``p`` exact.

    Conventions: a key with ``p_j = 0`` adds 0 whatever ``q_j`` is
    (``0 log 0 = 0``); a key with ``p_j > 0`` and ``q_j = 0`` makes the row's
    divergence ``+inf`` (the approximation rules out what happens). KL is
    never negative; rounding can leave ``-1e-17`` for identical rows, and those
    are reported as 0. Not symmetric: ``KL(q ‖ p)`` differs.

    Args:
        exact: ``(..., L, S)``, rows that sum to 1.
        approximate: the same shape, rows that sum to 1 or are all zero.

    Returns:
        ``(..., L)``, ``>= 0``, possibly ``inf``.
    """
    p = as_real("exact", exact, finite=True)
    q = as_real("approximate", approximate, finite=True)
    if p.shape != q.shape:
        raise ValueError(
            f"exact has shape {p.shape} but approximate has {q.shape}; "
            "compare weights of the same inputs"
        )
    _check_rows("exact", p, allow_zero_rows=False)
    _check_rows("approximate", q, allow_zero_rows=True)
    log_p = np.log(p, out=np.zeros_like(p), where=p > 0)
    log_q = np.log(q, out=np.zeros_like(q), where=q > 0)
    # log_p and log_q are finite (0 where p or q is 0), so a key with p = 0 adds exactly 0.
    terms = p * (log_p - log_q)  # (..., L, S)
    divergence = np.sum(terms, axis=-1)  # (..., L)
    ruled_out = np.any((p > 0) & (q == 0), axis=-1)
    return np.where(ruled_out, np.inf, np.maximum(divergence, 0.0))


# ----------------------------------------------------------------------------- one comparison


@dataclass(frozen=True)
class ApproximationResult:
    """One method's output and weights on the inputs, against exact attention.

    Attributes:
        method: which method.
        output: ``(L, Ev)``.
        weights: ``(L, S)``, the implied rows (exact softmax rows for ``EXACT``).
        output_error: :func:`relative_output_error` against exact attention.
        row_kl: ``(L,)`` :func:`weight_kl_divergence` of each row, in nats.
    """

    method: Method
    output: FloatArray
    weights: FloatArray
    output_error: float
    row_kl: FloatArray

    @property
    def mean_kl(self) -> float:
        """The mean of :attr:`row_kl` over the queries, in nats (``inf`` if any row is)."""
        return float(np.mean(self.row_kl))


def compare_methods(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    *,
    num_features: int,
    num_clusters: int,
    seed: int = 0,
    feature_map: FeatureMap | str = FeatureMap.ELU_PLUS_ONE,
    scale: float | None = None,
) -> dict[Method, ApproximationResult]:
    """Exact attention and every approximation on the same inputs, with their errors.

    Linear attention has no ``scale`` (its similarity is ``phi(q)·phi(k)``);
    the others use ``scale`` (default ``1 / sqrt(E)``), exact attention too.

    Args:
        query: ``(L, E)``.
        key: ``(S, E)``.
        value: ``(S, Ev)``.
        num_features: ``r`` for random features.
        num_clusters: ``C`` for clustered attention.
        seed: the random directions' and k-means' seed.
        feature_map: linear attention's feature map.
        scale: score scale; default ``1 / sqrt(E)``.

    Returns:
        A result for each :class:`~lab.cost_of_attention.compute.Method`, in its order.
    """
    q = as_real("query", query, ndim=2, finite=True)
    as_real("key", key, ndim=2)
    as_real("value", value, ndim=2)
    exact_output, exact_weights = scaled_dot_product_attention(q, key, value, scale=scale)
    results = {
        Method.EXACT: (exact_output, exact_weights),
        Method.PERFORMER: performer_attention(
            q, key, value, num_features=num_features, seed=seed, scale=scale
        ),
        Method.LINEAR: linear_attention(q, key, value, feature_map=feature_map),
        Method.CLUSTERED: clustered_attention(
            q, key, value, num_clusters=num_clusters, seed=seed, scale=scale
        ),
    }
    return {
        method: ApproximationResult(
            method=method,
            output=output,
            weights=weights,
            output_error=relative_output_error(exact_output, output),
            row_kl=weight_kl_divergence(exact_weights, weights),
        )
        for method, (output, weights) in results.items()
    }


# ----------------------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class ErrorSweep:
    """Error against ``r`` or ``C``, repeated over seeds.

    Attributes:
        method: ``PERFORMER`` (values are ``r``) or ``CLUSTERED`` (values are ``C``).
        values: ``(K,)`` the settings swept, increasing.
        seeds: ``(T,)`` the seeds of the method's randomness.
        output_errors: ``(K, T)`` :func:`relative_output_error` at each setting and seed.
        kl_divergences: ``(K, T)`` the mean over queries of :func:`weight_kl_divergence`.
    """

    method: Method
    values: IntArray
    seeds: IntArray
    output_errors: FloatArray
    kl_divergences: FloatArray

    @property
    def parameter(self) -> str:
        """The symbol of the swept setting: ``"r"`` or ``"C"``."""
        return "r" if self.method is Method.PERFORMER else "C"

    @property
    def mean_output_error(self) -> FloatArray:
        """``(K,)`` the mean over seeds."""
        return np.mean(self.output_errors, axis=1)

    @property
    def output_error_spread(self) -> FloatArray:
        """``(K,)`` the sample standard deviation over seeds (``ddof=1``; 0 for one seed)."""
        return _spread(self.output_errors)

    @property
    def mean_kl(self) -> FloatArray:
        """``(K,)`` the mean over seeds, in nats."""
        return np.mean(self.kl_divergences, axis=1)

    @property
    def kl_spread(self) -> FloatArray:
        """``(K,)`` the sample standard deviation over seeds (``ddof=1``; 0 for one seed)."""
        return _spread(self.kl_divergences)


def _spread(samples: FloatArray) -> FloatArray:
    if samples.shape[1] < 2:
        return np.zeros(samples.shape[0])
    return np.std(samples, axis=1, ddof=1)


def sweep_values(maximum: int) -> tuple[int, ...]:
    """``1, 2, 4, ...`` below ``maximum``, then ``maximum`` itself: the points of a sweep.

    ``sweep_values(12) == (1, 2, 4, 8, 12)``.
    """
    top = check_int("maximum", maximum, minimum=1)
    powers = [2**power for power in range(top.bit_length()) if 2**power < top]
    return (*powers, top)


def _check_sweep(
    name: str, values: Sequence[int], seeds: Sequence[int], cap: int
) -> tuple[IntArray, IntArray]:
    if len(values) == 0:
        raise ValueError(f"{name} is empty; give at least one value")
    checked = [check_int(name, value, minimum=1, maximum=cap) for value in values]
    if any(later <= earlier for earlier, later in itertools.pairwise(checked)):
        raise ValueError(f"{name} must increase, got {checked}")
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise ValueError(f"give between 1 and {MAX_SEEDS} seeds, got {len(seeds)}")
    seed_list = [check_int("seed", seed, minimum=0) for seed in seeds]
    return np.asarray(checked), np.asarray(seed_list)


def _sweep(
    method: Method,
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    values: IntArray,
    seeds: IntArray,
    scale: float | None,
) -> ErrorSweep:
    q = as_real("query", query, ndim=2, finite=True)
    if q.shape[0] > MAX_N:
        raise ValueError(f"query has {q.shape[0]} positions; a sweep takes at most {MAX_N}")
    exact_output, exact_weights = scaled_dot_product_attention(q, key, value, scale=scale)
    errors = np.empty((values.size, seeds.size))
    divergences = np.empty((values.size, seeds.size))
    for row, setting in enumerate(values.tolist()):
        for column, seed in enumerate(seeds.tolist()):
            if method is Method.PERFORMER:
                output, weights = performer_attention(
                    q, key, value, num_features=setting, seed=seed, scale=scale
                )
            else:
                output, weights = clustered_attention(
                    q, key, value, num_clusters=setting, seed=seed, scale=scale
                )
            errors[row, column] = relative_output_error(exact_output, output)
            divergences[row, column] = np.mean(weight_kl_divergence(exact_weights, weights))
    return ErrorSweep(method, values, seeds, errors, divergences)


def feature_sweep(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    *,
    feature_counts: Sequence[int],
    seeds: Sequence[int],
    scale: float | None = None,
) -> ErrorSweep:
    """Random-feature attention's error against ``r``, for each seed of its directions.

    The data stay fixed; seed ``t`` draws the directions. Because the first
    ``r`` directions of a seed are shared by every larger ``r``, one seed's
    curve shows features being added, not redrawn.

    Args:
        query: ``(L, E)`` with ``L <=`` :data:`~lab.cost_of_attention.config.MAX_N`.
        key: ``(S, E)``.
        value: ``(S, Ev)``.
        feature_counts: increasing ``r`` values in ``[1, MAX_FEATURES]``.
        seeds: 1 to :data:`~lab.cost_of_attention.config.MAX_SEEDS` seeds.
        scale: score scale; default ``1 / sqrt(E)``.

    Returns:
        :class:`ErrorSweep` with ``method = PERFORMER``.
    """
    values, seed_array = _check_sweep("feature_counts", feature_counts, seeds, MAX_FEATURES)
    return _sweep(Method.PERFORMER, query, key, value, values, seed_array, scale)


def cluster_sweep(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    *,
    cluster_counts: Sequence[int],
    seeds: Sequence[int],
    scale: float | None = None,
) -> ErrorSweep:
    """Clustered attention's error against ``C``, for each seed of k-means.

    The error is exactly 0 once ``C`` reaches the number of distinct queries.

    Args:
        query: ``(L, E)`` with ``L <=`` :data:`~lab.cost_of_attention.config.MAX_N`.
        key: ``(S, E)``.
        value: ``(S, Ev)``.
        cluster_counts: increasing ``C`` values in ``[1, MAX_CLUSTERS]``.
        seeds: 1 to :data:`~lab.cost_of_attention.config.MAX_SEEDS` seeds.
        scale: score scale; default ``1 / sqrt(E)``.

    Returns:
        :class:`ErrorSweep` with ``method = CLUSTERED``.
    """
    values, seed_array = _check_sweep("cluster_counts", cluster_counts, seeds, MAX_CLUSTERS)
    return _sweep(Method.CLUSTERED, query, key, value, values, seed_array, scale)
