"""What each way of computing attention costs: multiply-adds and floats held, against n.

Self-attention over ``n`` positions with query/key/value size ``d``
(``L = S = n``, ``E = Ev = d``). The counts are exact for the algorithms as
written in :mod:`lab.cost_of_attention.compute`:

* ``multiply_adds``: the multiply-adds of the matrix products (one
  multiplication and one addition each). A sum of ``m`` numbers counts as
  ``m`` (a product with a vector of ones). Elementwise work (scaling,
  subtractions, divisions) is left out: it is of the order of ``exponentials``.
* ``exponentials``: the calls to ``exp``, the dearest elementwise operation.
* ``floats``: the numbers the algorithm must hold at once beyond its inputs
  ``Q, K, V``: intermediate arrays and the output. This is the least a
  straightforward implementation holds; numpy's holds several ``n x n``
  temporaries at once, which is what the measured memory shows.

Exact attention's counts grow like ``n^2``; the approximations' like ``n``
(for fixed ``r`` and ``C``), so past some ``n`` every approximation is cheaper:
:func:`crossover_length` finds that ``n``.

Symbols: ``n`` sequence length, ``d`` query/key/value size, ``r`` random
features, ``C`` clusters, ``t`` k-means++ candidate centres per step, ``I``
Lloyd iterations, ``R`` k-means restarts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lab.checks import check_int
from lab.cost_of_attention.compute import (
    KMEANS_MAX_ITERATIONS,
    KMEANS_RESTARTS,
    FeatureMap,
    Method,
)
from lab.enums import LabelledEnum

# Where crossover_length stops looking: no crossover below 2^50 means none at all.
_SEARCH_LIMIT = 2**50


class Quantity(LabelledEnum):
    """Which count to compare."""

    MULTIPLY_ADDS = "multiply_adds", "multiply-adds"  # arithmetic
    FLOATS = "floats", "floats held"  # memory held beyond the inputs


@dataclass(frozen=True)
class Cost:
    """The counts of one method at one ``n`` (see the module docstring for what each counts)."""

    multiply_adds: int
    exponentials: int
    floats: int

    def get(self, quantity: Quantity) -> int:
        return getattr(self, quantity.value)

    def bytes(self, itemsize: int = 4) -> int:
        """``floats`` in bytes, at ``itemsize`` bytes a number (4 for float32, 8 for float64)."""
        return self.floats * check_int("itemsize", itemsize, minimum=1)


def _sizes(n: int, d: int) -> tuple[int, int]:
    return check_int("n", n, minimum=1), check_int("d", d, minimum=1)


def exact_cost(n: int, d: int) -> Cost:
    """Exact softmax attention.

    * multiply-adds: ``Q K^T`` is ``n^2 d``, ``W V`` another ``n^2 d``: ``2 n^2 d``;
    * exponentials: one per score, ``n^2``;
    * floats: the ``n x n`` scores (the softmax can overwrite them with the
      weights) and the ``n x d`` output: ``n^2 + n d``.
    """
    n, d = _sizes(n, d)
    return Cost(multiply_adds=2 * n * n * d, exponentials=n * n, floats=n * n + n * d)


def performer_cost(n: int, d: int, num_features: int) -> Cost:
    """Random-feature attention with ``r`` features (:func:`~.compute.performer_output`).

    * multiply-adds: projecting queries and keys on ``r`` directions ``2 n r d``;
      key summary ``phi(K)^T V`` ``n r d``; key totals ``n r``; numerators
      ``phi(Q) [phi(K)^T V]`` ``n r d``; denominators ``n r``: ``4 n r d + 2 n r``;
    * exponentials: one per feature of every query and key, ``2 n r``;
    * floats: the features ``2 n r``, the summaries ``r d + r`` and the output
      ``n d``: ``2 n r + r (d + 1) + n d``.
    """
    n, d = _sizes(n, d)
    r = check_int("num_features", num_features, minimum=1)
    return Cost(
        multiply_adds=4 * n * r * d + 2 * n * r,
        exponentials=2 * n * r,
        floats=2 * n * r + r * (d + 1) + n * d,
    )


def linear_cost(n: int, d: int, feature_map: FeatureMap | str = FeatureMap.ELU_PLUS_ONE) -> Cost:
    """Linear attention with a fixed feature map (:func:`~.compute.linear_output`).

    The features have ``d`` entries, so it is :func:`performer_cost` with
    ``r = d`` and no projection:

    * multiply-adds: ``phi(K)^T V`` ``n d^2``, key totals ``n d``, numerators
      ``n d^2``, denominators ``n d``: ``2 n d^2 + 2 n d``;
    * exponentials: ``elu + 1`` takes ``exp`` of the non-positive entries, at
      most ``2 n d`` (counted in full); ``relu`` takes none;
    * floats: the features ``2 n d``, the summaries ``d^2 + d`` and the output
      ``n d``: ``3 n d + d^2 + d``.
    """
    n, d = _sizes(n, d)
    kind = FeatureMap.parse(feature_map)
    return Cost(
        multiply_adds=2 * n * d * d + 2 * n * d,
        exponentials=2 * n * d if kind is FeatureMap.ELU_PLUS_ONE else 0,
        floats=3 * n * d + d * d + d,
    )


def kmeans_candidates(num_clusters: int) -> int:
    """``t = 2 + floor(ln C)``: the candidate centres k-means++ tries per step (scikit-learn's rule)."""
    clusters = check_int("num_clusters", num_clusters, minimum=1)
    return 2 + int(math.log(clusters))


def clustered_cost(
    n: int,
    d: int,
    num_clusters: int,
    *,
    restarts: int = KMEANS_RESTARTS,
    iterations: int = KMEANS_MAX_ITERATIONS,
) -> Cost:
    """Clustered attention with ``C`` clusters (:func:`~.compute.clustered_output`).

    Counts the k-means that :func:`~.compute.cluster_queries` runs, assuming
    the ``n`` queries are distinct and ``C < n`` (otherwise no k-means runs),
    and every one of the ``I`` Lloyd iterations (an upper bound: k-means stops
    once the assignments settle).

    * multiply-adds: k-means++ seeding, per restart, computes the distance of
      every query to the first centre and to ``t`` candidates for each of the
      other ``C - 1``: ``(1 + (C - 1) t) n d``; each Lloyd iteration computes
      ``n C`` distances (``n C d``) and sums the queries into centroids
      (``n d``); attention of the ``C`` centroids to the ``n`` keys is
      ``2 C n d``. In all ``R n d (1 + (C - 1) t + I (C + 1)) + 2 C n d``;
    * exponentials: one per centroid score, ``C n``;
    * floats: the centroids ``C d``, the query-to-centroid distances ``n C``,
      the labels ``n``, the centroids' weights ``C n`` and the output ``n d``:
      ``C d + 2 n C + n + n d``.
    """
    n, d = _sizes(n, d)
    clusters = check_int("num_clusters", num_clusters, minimum=1)
    restarts = check_int("restarts", restarts, minimum=1)
    iterations = check_int("iterations", iterations, minimum=0)
    seeding = 1 + (clusters - 1) * kmeans_candidates(clusters)
    lloyd = iterations * (clusters + 1)
    return Cost(
        multiply_adds=restarts * n * d * (seeding + lloyd) + 2 * clusters * n * d,
        exponentials=clusters * n,
        floats=clusters * d + 2 * n * clusters + n + n * d,
    )


def method_cost(
    method: Method,
    n: int,
    d: int,
    *,
    num_features: int,
    num_clusters: int,
    feature_map: FeatureMap | str = FeatureMap.ELU_PLUS_ONE,
) -> Cost:
    """The :class:`Cost` of ``method`` at ``n`` (``num_features`` and ``num_clusters``
    are used only by the method that needs them)."""
    if not isinstance(method, Method):
        raise ValueError(f"method must be a Method, got {method!r}")
    if method is Method.EXACT:
        return exact_cost(n, d)
    if method is Method.PERFORMER:
        return performer_cost(n, d, num_features)
    if method is Method.LINEAR:
        return linear_cost(n, d, feature_map)
    return clustered_cost(n, d, num_clusters)


def cost_curves(
    n_values: Sequence[int],
    d: int,
    *,
    num_features: int,
    num_clusters: int,
    feature_map: FeatureMap | str = FeatureMap.ELU_PLUS_ONE,
) -> dict[Method, tuple[Cost, ...]]:
    """:func:`method_cost` of every method at every ``n`` in ``n_values``, for a chart."""
    return {
        method: tuple(
            method_cost(
                method,
                n,
                d,
                num_features=num_features,
                num_clusters=num_clusters,
                feature_map=feature_map,
            )
            for n in n_values
        )
        for method in Method
    }


def crossover_length(
    method: Method,
    d: int,
    *,
    num_features: int,
    num_clusters: int,
    quantity: Quantity = Quantity.MULTIPLY_ADDS,
    feature_map: FeatureMap | str = FeatureMap.ELU_PLUS_ONE,
) -> int:
    """The smallest ``n`` at which ``method`` needs fewer of ``quantity`` than exact attention.

    Exact minus approximate is ``a n^2 + b n + c`` with ``a > 0`` and ``c <= 0``
    (every approximate count is a sum of non-negative terms), so it has one
    positive root and the approximation stays cheaper beyond it: doubling
    then bisection finds the first integer ``n`` past it. For random features
    in multiply-adds, ``2 n^2 d > 4 n r d + 2 n r`` gives ``n > 2 r + r / d``;
    for linear attention, ``n > d + 1``.

    Args:
        method: an approximation (not ``EXACT``).
        d: query/key/value size.
        num_features: ``r``, for ``PERFORMER``.
        num_clusters: ``C``, for ``CLUSTERED``.
        quantity: multiply-adds or floats held.
        feature_map: for ``LINEAR``.

    Returns:
        The crossover ``n >= 1``.
    """
    if not isinstance(method, Method) or method is Method.EXACT:
        raise ValueError(f"method must be an approximation (not Method.EXACT), got {method!r}")
    if not isinstance(quantity, Quantity):
        raise ValueError(f"quantity must be a Quantity, got {quantity!r}")

    def cheaper(n: int) -> bool:
        approximate = method_cost(
            method,
            n,
            d,
            num_features=num_features,
            num_clusters=num_clusters,
            feature_map=feature_map,
        )
        return approximate.get(quantity) < exact_cost(n, d).get(quantity)

    high = 1
    while not cheaper(high):
        high *= 2
        if high > _SEARCH_LIMIT:
            raise ValueError(
                f"{method.label} is not cheaper than exact attention for any n up to 2^50"
            )
    low = high // 2  # not cheaper at low (or low is 0)
    while high - low > 1:
        middle = (low + high) // 2
        if cheaper(middle):
            high = middle
        else:
            low = middle
    return high
