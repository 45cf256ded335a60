"""Attention without the n x n matrix: random features, linear attention, clustered attention.

Exact attention forms every score ``q_i · k_j``: ``L S E`` multiply-adds for
the scores and ``L S Ev`` more for the output, and ``L S`` numbers held at
once. Two ways around it, both approximations of softmax attention:

* **Kernelised attention.** If a feature map ``phi`` gives
  ``exp(scale q·k) ≈ phi(q) · phi(k)``, the output of query ``i`` is

      out_i = sum_j phi(q_i)·phi(k_j) v_j / sum_j phi(q_i)·phi(k_j)
            = phi(q_i) [sum_j phi(k_j) v_j^T] / phi(q_i) · [sum_j phi(k_j)],

  and the two bracketed sums are computed once for all queries: ``O(n r d)``
  work and no ``L x S`` array. :func:`performer_attention` uses positive
  random features, whose dot product is an unbiased estimate of
  ``exp(scale q·k)``; :func:`linear_attention` uses a fixed map such as
  ``elu(x) + 1``, which approximates nothing in particular: it is a different
  similarity that happens to be cheap.
* **Clustered attention.** Group the ``L`` queries into ``C`` clusters with
  k-means, attend once per cluster centroid (``C S (E + Ev)`` multiply-adds)
  and give every query its centroid's row of weights.

Every function here works in the precision of its inputs (float32 stays
float32, integers become float64), returns new arrays and never writes into
an input. The approximations take no mask (every query attends to every key).

Shapes:
    B   batch (any number of leading dimensions, written ``...``)
    L   queries
    S   keys and values
    E   query/key size (the ``d`` of O(n^2 d))
    Ev  value size
    r   random features (``num_features``)
    C   query clusters (``num_clusters``)
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lab.attention import (
    FloatArray,
    broadcast_batch,
    check_one_value_per_key,
    check_query_key_size,
    scaled_dot_product_attention,
)
from lab.checks import as_real, check_float, check_int
from lab.enums import LabelledEnum

IntArray = NDArray[np.integer]

# scikit-learn's k-means, as clustered attention runs it. One k-means++ start: the
# seeding already spreads the centres, and one run keeps the cost model simple.
KMEANS_RESTARTS = 1
# At most this many Lloyd iterations (k-means stops earlier once assignments settle);
# the cost model counts all of them, so its k-means term is an upper bound.
KMEANS_MAX_ITERATIONS = 10


class Method(LabelledEnum):
    """The ways to compute attention that the demo compares."""

    # softmax(scale Q K^T) V, through lab.attention
    EXACT = "exact", "exact softmax"
    # positive random features (FAVOR+-style)
    PERFORMER = "performer", "random features (Performer)"
    # a fixed feature map, elu(x) + 1 by default
    LINEAR = "linear", "linear attention (fixed feature map)"
    # k-means on the queries, one softmax row per cluster
    CLUSTERED = "clustered", "clustered attention"


class FeatureMap(enum.Enum):
    """Deterministic, non-negative feature maps for :func:`linear_attention`."""

    ELU_PLUS_ONE = "elu+1"  # elu(x) + 1: x + 1 for x > 0, e^x otherwise; always positive
    RELU = "relu"  # max(x, 0): a whole row of features can be 0

    @classmethod
    def parse(cls, value: FeatureMap | str) -> FeatureMap:
        """The member for ``value`` (a member or its string); ``ValueError`` otherwise."""
        if isinstance(value, cls):
            return value
        for member in cls:
            if value == member.value:
                return member
        names = ", ".join(repr(member.value) for member in cls)
        raise ValueError(f"feature_map must be one of {names}, got {value!r}")

    def apply(self, x: FloatArray) -> FloatArray:
        """``phi(x)`` elementwise, in ``x``'s precision; a new array."""
        if self is FeatureMap.ELU_PLUS_ONE:
            # exp only of the non-positive part, so a large x cannot overflow.
            return np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))
        return np.maximum(x, 0)


# ----------------------------------------------------------------------------- checks


def _check_query_key(query: ArrayLike, key: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Query ``(..., L, E)`` and key ``(..., S, E)`` as finite arrays with the same ``E >= 1``."""
    q = as_real("query", query, min_ndim=2, finite=True)
    k = as_real("key", key, min_ndim=2, finite=True)
    check_query_key_size(q, k)
    if q.shape[-1] == 0:
        raise ValueError("query and key have size 0 in their last axis; E must be at least 1")
    return q, k


def _check_attention_inputs(
    query: ArrayLike, key: ArrayLike, value: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Query ``(..., L, E)``, key ``(..., S, E)`` and value ``(..., S, Ev)`` as finite arrays."""
    q, k = _check_query_key(query, key)
    v = as_real("value", value, min_ndim=2, finite=True)
    check_one_value_per_key(k, v)
    if k.shape[-2] == 0:
        raise ValueError("key has no positions; attention needs at least one key")
    if q.shape[-2] == 0:
        raise ValueError("query has no positions; give at least one query")
    broadcast_batch(q, k, v)
    return q, k, v


def _feature_scale(scale: float | None, size: int) -> float:
    """``scale``, or ``1 / sqrt(E)``; random features need ``scale >= 0`` (they use its root)."""
    if scale is None:
        return 1.0 / math.sqrt(size)
    return check_float("scale", scale, minimum=0.0)


# ----------------------------------------------------------------------------- random features


def random_directions(num_features: int, size: int, *, seed: int = 0) -> FloatArray:
    """The random directions ``w_1 ... w_r ~ N(0, I_E)`` behind :func:`random_feature_map`.

    Drawn row by row from ``numpy.random.default_rng(seed)``, so the first
    ``r`` directions are the same for every larger ``num_features``: adding
    features keeps the old ones. Different seeds give independent draws.

    Args:
        num_features: ``r >= 1``.
        size: ``E >= 1``, the size of the vectors the features are taken of.
        seed: ``>= 0``.

    Returns:
        ``(r, E)`` float64.
    """
    r = check_int("num_features", num_features, minimum=1)
    e = check_int("size", size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    return np.random.default_rng(seed).standard_normal((r, e))  # (r, E)


def log_random_features(
    x: ArrayLike, *, num_features: int, seed: int = 0, scale: float | None = None
) -> FloatArray:
    """The logarithm of :func:`random_feature_map`, which cannot overflow.

    ``log phi_m(x) = w_m · x' - |x'|^2 / 2 - log(r) / 2``, with ``x' = sqrt(scale) x``.

    Args:
        x: ``(..., E)``, finite.
        num_features: ``r >= 1``.
        seed: chooses the directions ``w_m`` (see :func:`random_directions`).
        scale: ``>= 0``; default ``1 / sqrt(E)``.

    Returns:
        ``(..., r)``.
    """
    array = as_real("x", x, min_ndim=1, finite=True)
    if array.shape[-1] == 0:
        raise ValueError("x has size 0 in its last axis; E must be at least 1")
    factor = _feature_scale(scale, array.shape[-1])
    directions = random_directions(num_features, array.shape[-1], seed=seed)  # (r, E)
    scaled = array * np.sqrt(np.asarray(factor, dtype=array.dtype))  # (..., E)
    projections = scaled @ directions.astype(array.dtype).T  # (..., r)
    half_square_norms = 0.5 * np.sum(scaled * scaled, axis=-1, keepdims=True)  # (..., 1)
    return projections - half_square_norms - 0.5 * math.log(directions.shape[0])


def random_feature_map(
    x: ArrayLike, *, num_features: int, seed: int = 0, scale: float | None = None
) -> FloatArray:
    """Positive random features whose dot product estimates ``exp(scale q·k)`` without bias.

    ``phi(x) = exp(W x' - |x'|^2 / 2) / sqrt(r)`` with ``x' = sqrt(scale) x`` and
    the rows of ``W`` drawn from ``N(0, I_E)`` (:func:`random_directions`).
    For one direction ``w``, ``E[exp(w·(q' + k'))] = exp(|q' + k'|^2 / 2)``
    (the moment-generating function of a Gaussian), so

        E[phi(q) · phi(k)] = exp(|q' + k'|^2 / 2 - |q'|^2 / 2 - |k'|^2 / 2)
                           = exp(q'·k') = exp(scale q·k),

    for any ``r``, as long as ``q`` and ``k`` use the same ``seed``. Every
    feature is positive, so the estimated similarities are too. The spread
    shrinks like ``1 / sqrt(r)`` (:func:`random_feature_relative_variance`).

    The features are ``exp`` of :func:`log_random_features` with no shift,
    so they are the unbiased ones, and they can leave the float range:

    * overflow needs ``log phi_m(x)`` above ``log(max float)``; its largest
      value over all ``x``, at ``x' = w_m``, is ``|w_m|^2 / 2 - log(r) / 2``,
      so only inputs close to a long direction (``E`` in the hundreds, in
      float32) get there. This function then raises rather than return ``inf``;
    * underflow is the common failure: for long inputs ``|x'|^2 / 2`` swamps
      ``w·x'`` and every feature rounds to 0, so ``phi(q)·phi(k) = 0`` for
      every pair and normalised weights would be ``0 / 0``.

    :func:`performer_attention` has neither problem: it works from the
    logarithms, with shifts that cancel.

    Args:
        x: ``(..., E)``, finite.
        num_features: ``r >= 1``.
        seed: chooses the random directions; use the same one for queries and keys.
        scale: ``>= 0``; default ``1 / sqrt(E)``, as in scaled dot-product attention.

    Returns:
        ``(..., r)``, positive (0 where a feature underflows).
    """
    log_features = log_random_features(x, num_features=num_features, seed=seed, scale=scale)
    limit = math.log(np.finfo(log_features.dtype).max)
    largest = float(np.max(log_features)) if log_features.size else -math.inf
    if largest > limit:
        raise ValueError(
            f"the random features overflow {log_features.dtype} (largest log-feature "
            f"{largest:.1f}, limit {limit:.1f}); scale x down, or use log_random_features "
            "or performer_attention, which stay in log space"
        )
    return np.exp(log_features)


def random_feature_relative_variance(
    query: ArrayLike, key: ArrayLike, *, num_features: int, scale: float | None = None
) -> FloatArray:
    """The closed-form spread of the random-feature estimate, relative to its target.

    ``Var[phi(q)·phi(k)] / exp(scale q·k)^2 = (exp(|q' + k'|^2) - 1) / r``,
    with ``q' = sqrt(scale) q`` and ``k' = sqrt(scale) k``. One feature
    ``Z = exp(w·(q' + k') - |q'|^2/2 - |k'|^2/2)`` has ``E[Z^2] = exp(2|q' + k'|^2
    - |q'|^2 - |k'|^2)`` (the Gaussian moment-generating function at ``2(q' + k')``),
    and the ``r`` features are independent. So the estimate is sharp when
    ``q' + k'`` is short and hopeless when it is long: the relative variance
    grows exponentially with ``|q' + k'|^2``, and only like ``1 / r`` shrinks.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        num_features: ``r >= 1``.
        scale: ``>= 0``; default ``1 / sqrt(E)``.

    Returns:
        ``(..., L, S)``; ``inf`` where the value exceeds the float range.
    """
    q, k = _check_query_key(query, key)
    r = check_int("num_features", num_features, minimum=1)
    factor = _feature_scale(scale, q.shape[-1])
    # |q + k|^2 = |q|^2 + |k|^2 + 2 q·k, without an (L, S, E) array; rounding can dip below 0.
    square_norms = (
        np.sum(q * q, axis=-1)[..., :, None]
        + np.sum(k * k, axis=-1)[..., None, :]
        + 2 * (q @ np.swapaxes(k, -1, -2))
    )  # (..., L, S)
    with np.errstate(over="ignore"):
        return np.expm1(factor * np.maximum(square_norms, 0)) / r


@dataclass(frozen=True)
class _KernelParts:
    """The pieces that kernelised attention shares between its output and its weights.

    With ``a_i`` the query shift and ``b_m`` the key shift of
    :func:`_performer_parts`, the true features are
    ``phi_m(q_i) = query_weights[i, m] exp(a_i - b_m)`` and
    ``phi_m(k_j) = key_features[j, m] exp(b_m)``.
    """

    query_weights: FloatArray  # (..., L, r) in [0, 1]
    key_features: FloatArray  # (..., S, r) in [0, 1]
    denominators: FloatArray  # (..., L, 1): query_weights @ (key_features summed over keys)


def _performer_parts(
    query: FloatArray, key: FloatArray, num_features: int, seed: int, scale: float | None
) -> _KernelParts:
    """Stabilised random features of the queries and keys (the shifts ``b_m`` and ``a_i``
    described in :func:`performer_attention`)."""
    factor = _feature_scale(scale, query.shape[-1])
    log_query = log_random_features(query, num_features=num_features, seed=seed, scale=factor)
    log_key = log_random_features(key, num_features=num_features, seed=seed, scale=factor)
    key_shift = np.max(log_key, axis=-2, keepdims=True)  # (..., 1, r): b_m
    key_features = np.exp(log_key - key_shift)  # (..., S, r)
    query_logits = log_query + key_shift  # (..., L, r)
    query_shift = np.max(query_logits, axis=-1, keepdims=True)  # (..., L, 1): a_i
    query_weights = np.exp(query_logits - query_shift)  # (..., L, r)
    key_totals = np.sum(key_features, axis=-2)  # (..., r)
    denominators = query_weights @ key_totals[..., None]  # (..., L, 1)
    return _KernelParts(query_weights, key_features, denominators)


def _kernel_output(parts: _KernelParts, value: FloatArray) -> FloatArray:
    """``query_weights [key_features^T V] / denominators``: ``(..., L, Ev)``, no ``L x S`` array."""
    key_value_sums = np.swapaxes(parts.key_features, -1, -2) @ value  # (..., r, Ev)
    return (parts.query_weights @ key_value_sums) / parts.denominators  # (..., L, Ev)


def performer_output(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    *,
    num_features: int,
    seed: int = 0,
    scale: float | None = None,
) -> FloatArray:
    """The output of :func:`performer_attention`, in ``O((L + S) r (E + Ev))``, no weights.

    ``out_i = phi(q_i) [sum_j phi(k_j) v_j^T] / phi(q_i) · [sum_j phi(k_j)]``;
    the two sums are ``(r, Ev)`` and ``(r,)`` and are formed once. This is
    what the timing code runs: no ``L x S`` array exists at any point.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``.
        num_features: ``r >= 1``.
        seed: chooses the random directions.
        scale: ``>= 0``; default ``1 / sqrt(E)``.

    Returns:
        ``(..., L, Ev)``.
    """
    q, k, v = _check_attention_inputs(query, key, value)
    return _kernel_output(_performer_parts(q, k, num_features, seed, scale), v)


def performer_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    *,
    num_features: int,
    seed: int = 0,
    scale: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Attention through positive random features (Performer-style), with its implied weights.

    ``w_ij = phi(q_i)·phi(k_j) / sum_l phi(q_i)·phi(k_l)`` and
    ``out_i = sum_j w_ij v_j``, with ``phi`` = :func:`random_feature_map`.
    Each similarity ``phi(q_i)·phi(k_j)`` estimates ``exp(scale q_i·k_j)``
    without bias; the normalised weights are a ratio of estimates, so they are
    close to softmax's but not unbiased for small ``r``.

    The output comes from :func:`performer_output` (``O(n r d)``, no ``L x S``
    array); ``weights`` are then formed, only for display, from the same
    stabilised features (``L S r`` multiply-adds).

    Stabilising. Everything starts from ``log phi`` (:func:`log_random_features`),
    and two shifts keep every exponential in ``[0, 1]``:

    * ``b_m = max_j log phi_m(k_j)``, per feature over the keys (per batch
      element). Key features become ``exp(log phi_m(k_j) - b_m)``, the largest
      exactly 1. The query side adds ``b_m`` back, so the product
      ``phi_m(q_i) phi_m(k_j)`` of every pair is unchanged.
    * ``a_i = max_m (log phi_m(q_i) + b_m)``, per query. It multiplies the
      numerator and the denominator of query ``i`` by the same ``exp(-a_i)``,
      so it cancels exactly in the normalised weights and the output.

    Neither shift changes a weight or an output, except by rounding. The
    denominator is then at least 1 (the feature attaining ``a_i`` has query
    weight 1 and a key total of at least 1) and at most ``r S``: never 0, never
    ``inf``. A term underflows to 0 only if it is below the smallest float
    times the largest term of its sum, far below the sum's precision. One shift
    per key would not cancel (it would reweight the keys), which is why the
    key shift is shared by all keys.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``.
        num_features: ``r >= 1``.
        seed: chooses the random directions (the same for queries and keys).
        scale: ``>= 0``; default ``1 / sqrt(E)``.

    Returns:
        ``(output, weights)`` of shapes ``(..., L, Ev)`` and ``(..., L, S)``.
    """
    q, k, v = _check_attention_inputs(query, key, value)
    parts = _performer_parts(q, k, num_features, seed, scale)
    weights = parts.query_weights @ np.swapaxes(parts.key_features, -1, -2)  # (..., L, S)
    return _kernel_output(parts, v), weights / parts.denominators


# ----------------------------------------------------------------------------- linear attention


def _linear(
    query: ArrayLike, key: ArrayLike, value: ArrayLike, feature_map: FeatureMap | str
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Check the inputs; return the output ``(..., L, Ev)`` of linear attention and
    what its weights need: the features of the queries ``(..., L, E)`` and of the
    keys ``(..., S, E)``, and the denominators ``(..., L, 1)`` (0 where a query sees nothing).
    """
    q, k, v = _check_attention_inputs(query, key, value)
    kind = FeatureMap.parse(feature_map)
    query_features = kind.apply(q)  # (..., L, E)
    key_features = kind.apply(k)  # (..., S, E)
    key_totals = np.sum(key_features, axis=-2)  # (..., E)
    denominators = query_features @ key_totals[..., None]  # (..., L, 1)
    key_value_sums = np.swapaxes(key_features, -1, -2) @ v  # (..., E, Ev)
    output = _divide_or_zero(query_features @ key_value_sums, denominators)  # (..., L, Ev)
    return output, query_features, key_features, denominators


def _divide_or_zero(numerators: FloatArray, denominators: FloatArray) -> FloatArray:
    """``numerators / denominators``, with 0 where a denominator is 0 (a query that sees nothing)."""
    safe = np.where(denominators > 0, denominators, 1)
    return np.where(denominators > 0, numerators / safe, 0)


def linear_output(
    query: ArrayLike, key: ArrayLike, value: ArrayLike, *, feature_map: FeatureMap | str = "elu+1"
) -> FloatArray:
    """The output of :func:`linear_attention`, in ``O((L + S) E Ev)``, no weights.

    Returns:
        ``(..., L, Ev)``; arguments as in :func:`linear_attention`.
    """
    output, _, _, _ = _linear(query, key, value, feature_map)
    return output


def linear_attention(
    query: ArrayLike, key: ArrayLike, value: ArrayLike, *, feature_map: FeatureMap | str = "elu+1"
) -> tuple[FloatArray, FloatArray]:
    """Linear attention with a fixed feature map (Katharopoulos et al.), with its weights.

    ``w_ij = phi(q_i)·phi(k_j) / sum_l phi(q_i)·phi(k_l)`` and
    ``out_i = sum_j w_ij v_j``, computed as ``phi(q_i) [phi(K)^T V] /
    phi(q_i)·[phi(K)^T 1]``: ``O(n d^2)`` instead of ``O(n^2 d)``. The
    similarity is ``phi(q)·phi(k)``, not ``exp(q·k)``: no scale, no
    randomness, and no setting that makes it equal softmax.

    A query whose similarity to every key is 0 (possible with ``"relu"``, or
    when ``elu + 1`` underflows) gets all-zero weights and a zero output, as a
    fully masked row does in :mod:`lab.attention`. Otherwise each row of
    ``weights`` is non-negative and sums to 1. ``weights`` are formed only for
    display (``L S E`` multiply-adds); the output does not use them.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``.
        feature_map: a :class:`FeatureMap` or its string (``"elu+1"``, ``"relu"``).

    Returns:
        ``(output, weights)`` of shapes ``(..., L, Ev)`` and ``(..., L, S)``.
    """
    output, query_features, key_features, denominators = _linear(query, key, value, feature_map)
    similarities = query_features @ np.swapaxes(key_features, -1, -2)  # (..., L, S)
    return output, _divide_or_zero(similarities, denominators)


# ----------------------------------------------------------------------------- clustered attention


@dataclass(frozen=True)
class QueryClusters:
    """Queries grouped for clustered attention.

    Attributes:
        labels: ``(L,)`` the cluster of each query, in ``[0, C')``.
        centroids: ``(C', E)`` the mean query of each cluster, with
            ``C' = min(C, number of distinct queries)``.
        exact: ``True`` when every distinct query is its own cluster (no
            k-means ran), so clustered attention equals exact attention.
    """

    labels: IntArray
    centroids: FloatArray
    exact: bool

    @property
    def num_clusters(self) -> int:
        return int(self.centroids.shape[0])


def cluster_queries(query: ArrayLike, *, num_clusters: int, seed: int = 0) -> QueryClusters:
    """Group the queries of one sequence into at most ``C`` clusters with k-means.

    k-means minimises ``sum_i |q_i - mu_{c(i)}|^2``. Identical queries always
    share a cluster: k-means runs on the distinct queries, each weighted by
    how often it occurs, which is the same objective. If ``C`` is at least the
    number of distinct queries, every distinct query is its own cluster and
    its own centroid, exactly (no k-means runs, so no rounding and no
    convergence warning). Otherwise scikit-learn's ``KMeans`` runs with
    ``random_state=seed``, :data:`KMEANS_RESTARTS` k-means++ start(s) and at
    most :data:`KMEANS_MAX_ITERATIONS` Lloyd iterations. scikit-learn is
    imported here, on first use, so importing the package stays light.

    Args:
        query: ``(L, E)``, finite, ``L >= 1``.
        num_clusters: ``C >= 1``.
        seed: k-means' random state (which points seed the centres).

    Returns:
        :class:`QueryClusters`.
    """
    q = as_real("query", query, ndim=2, finite=True)
    clusters = check_int("num_clusters", num_clusters, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if q.shape[0] == 0:
        raise ValueError("query has no positions; give at least one query")
    # inverse (L,): the row of ``distinct`` that each query is
    distinct, inverse, counts = np.unique(q, axis=0, return_inverse=True, return_counts=True)
    if clusters >= distinct.shape[0]:
        return QueryClusters(labels=inverse, centroids=distinct, exact=True)

    from sklearn.cluster import KMeans

    kmeans = KMeans(
        n_clusters=clusters,
        init="k-means++",
        n_init=KMEANS_RESTARTS,
        max_iter=KMEANS_MAX_ITERATIONS,
        algorithm="lloyd",
        random_state=seed,
    )
    kmeans.fit(distinct, sample_weight=counts.astype(distinct.dtype))
    labels = kmeans.labels_[inverse]  # (L,)
    centroids = kmeans.cluster_centers_.astype(q.dtype, copy=False)  # (C, E)
    return QueryClusters(labels=labels, centroids=centroids, exact=False)


def _clustered(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    num_clusters: int,
    seed: int,
    scale: float | None,
    *,
    with_weights: bool,
) -> tuple[FloatArray, FloatArray | None]:
    """Clustered attention, batch element by batch element (each has its own clusters).

    Returns the output ``(..., L, Ev)`` and, if ``with_weights``, each query's
    centroid row of weights ``(..., L, S)`` (else ``None``: only ``C' x S``
    weights per batch element are ever held).
    """
    q, k, v = _check_attention_inputs(query, key, value)
    # Checked here too, so that an empty batch (no call to cluster_queries) refuses them as well.
    check_int("num_clusters", num_clusters, minimum=1)
    check_int("seed", seed, minimum=0)
    if scale is not None:
        scale = check_float("scale", scale)
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    length, size, value_size = q.shape[-2], k.shape[-2], v.shape[-1]
    queries = np.broadcast_to(q, (*batch, length, q.shape[-1])).reshape(-1, length, q.shape[-1])
    keys = np.broadcast_to(k, (*batch, size, k.shape[-1])).reshape(-1, size, k.shape[-1])
    values = np.broadcast_to(v, (*batch, size, value_size)).reshape(-1, size, value_size)
    count = queries.shape[0]
    outputs = np.empty((count, length, value_size), dtype=np.result_type(q, k, v))
    # The centroids keep the queries' dtype, so their softmax rows have the scores' dtype.
    weights = np.empty((count, length, size), dtype=np.result_type(q, k)) if with_weights else None
    for index in range(count):
        clusters = cluster_queries(queries[index], num_clusters=num_clusters, seed=seed)
        centroid_output, centroid_weights = scaled_dot_product_attention(
            clusters.centroids, keys[index], values[index], scale=scale
        )  # (C', Ev), (C', S)
        outputs[index] = centroid_output[clusters.labels]  # (L, Ev)
        if weights is not None:
            weights[index] = centroid_weights[clusters.labels]  # (L, S)
    output = outputs.reshape(*batch, length, value_size)  # (..., L, Ev)
    return output, None if weights is None else weights.reshape(*batch, length, size)


def clustered_output(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    *,
    num_clusters: int,
    seed: int = 0,
    scale: float | None = None,
) -> FloatArray:
    """The output of :func:`clustered_attention`, without the ``L x S`` weights.

    Holds ``C x S`` weights per batch element, never ``L x S``; this is what
    the timing code runs.

    Returns:
        ``(..., L, Ev)``; arguments as in :func:`clustered_attention`.
    """
    output, _ = _clustered(query, key, value, num_clusters, seed, scale, with_weights=False)
    return output


def clustered_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    *,
    num_clusters: int,
    seed: int = 0,
    scale: float | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Clustered attention: each query takes its cluster centroid's softmax row.

    ``w_i = softmax(scale mu_{c(i)} K^T)`` and ``out_i = w_i V``, where
    ``mu_c`` are the centroids of :func:`cluster_queries` (k-means on the
    queries, separately for each batch element). Cost: k-means, then
    ``C S (E + Ev)`` multiply-adds for the centroids' attention instead of
    ``L S (E + Ev)``. With ``C`` at least the number of distinct queries
    (duplicates allowed, and ``C`` larger than that is fine) every query is its
    own centroid and the result equals
    :func:`lab.attention.scaled_dot_product_attention`. Rows of ``weights`` are
    softmax rows, so they are positive and sum to 1; ``weights`` are gathered
    only for display.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``.
        num_clusters: ``C >= 1``.
        seed: k-means' random state.
        scale: multiplies the scores; default ``1 / sqrt(E)``.

    Returns:
        ``(output, weights)`` of shapes ``(..., L, Ev)`` and ``(..., L, S)``.
    """
    output, weights = _clustered(query, key, value, num_clusters, seed, scale, with_weights=True)
    return output, weights
