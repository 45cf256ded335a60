"""Clustered attention: exact with one cluster per distinct query; k-means below that."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.attention import scaled_dot_product_attention, softmax
from lab.cost_of_attention import (
    KMEANS_MAX_ITERATIONS,
    cluster_queries,
    clustered_attention,
    clustered_output,
    sample_inputs,
)
from tests.refusals import assert_refuses

# torch's own float32 tolerances (torch.testing.assert_close defaults), used here in float64.
ATOL, RTOL = 1e-5, 1.3e-6


def queries_with_duplicates(rng, distinct=5, length=12, size=4):
    """``length`` queries made of ``distinct`` different rows, each used at least once."""
    rows = rng.standard_normal((distinct, size))
    order = np.concatenate([np.arange(distinct), rng.integers(0, distinct, length - distinct)])
    return rows[rng.permutation(order)]


@pytest.mark.parametrize("extra", [0, 1, 20])
def test_one_cluster_per_distinct_query_equals_exact_attention(extra):
    rng = np.random.default_rng(0)
    query = queries_with_duplicates(rng)  # 12 queries, 5 distinct
    key, value = rng.standard_normal((9, 4)), rng.standard_normal((9, 3))
    output, weights = clustered_attention(query, key, value, num_clusters=5 + extra)
    tensors = [torch.tensor(array) for array in (query, key, value)]
    np.testing.assert_allclose(
        output, F.scaled_dot_product_attention(*tensors).numpy(), atol=ATOL, rtol=RTOL
    )
    exact_output, exact_weights = scaled_dot_product_attention(query, key, value)
    np.testing.assert_allclose(output, exact_output, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(weights, exact_weights, rtol=1e-13, atol=1e-15)


def test_clusters_of_distinct_queries_are_the_queries_themselves():
    rng = np.random.default_rng(1)
    query = queries_with_duplicates(rng)
    clusters = cluster_queries(query, num_clusters=50)
    assert clusters.exact is True
    assert clusters.num_clusters == 5
    np.testing.assert_array_equal(clusters.centroids[clusters.labels], query)


def test_fewer_clusters_than_distinct_queries_runs_kmeans_on_whole_duplicates():
    rng = np.random.default_rng(2)
    query = queries_with_duplicates(rng, distinct=8, length=30)
    clusters = cluster_queries(query, num_clusters=3, seed=4)
    assert clusters.exact is False
    assert clusters.num_clusters == 3
    assert clusters.labels.shape == (30,)
    assert set(clusters.labels.tolist()) == {0, 1, 2}
    for row in np.unique(query, axis=0):  # identical queries share a cluster
        same = np.all(query == row, axis=1)
        assert len(set(clusters.labels[same].tolist())) == 1


def test_kmeans_recovers_well_separated_kinds_and_its_centroids_are_member_means():
    data = sample_inputs(48, 6, seed=3, kinds=4, spread=0.05)
    clusters = cluster_queries(data.query, num_clusters=4, seed=0)
    # The same partition as the kinds, up to renaming the clusters.
    pairs = set(zip(clusters.labels.tolist(), data.kinds.tolist(), strict=True))
    assert len(pairs) == 4
    for label in range(4):
        members = data.query[clusters.labels == label]
        np.testing.assert_allclose(clusters.centroids[label], members.mean(axis=0), atol=1e-12)


def test_each_query_takes_its_centroid_softmax_row():
    data = sample_inputs(40, 8, seed=5)
    output, weights = clustered_attention(data.query, data.key, data.value, num_clusters=6, seed=1)
    clusters = cluster_queries(data.query, num_clusters=6, seed=1)
    centroid_weights = softmax(clusters.centroids @ data.key.T / np.sqrt(8))
    np.testing.assert_allclose(weights, centroid_weights[clusters.labels], rtol=1e-12)
    np.testing.assert_allclose(output, weights @ data.value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        clustered_output(data.query, data.key, data.value, num_clusters=6, seed=1), output
    )


def test_batch_elements_are_clustered_separately():
    rng = np.random.default_rng(6)
    query = rng.standard_normal((3, 10, 4))
    key, value = rng.standard_normal((10, 4)), rng.standard_normal((3, 10, 2))  # key broadcasts
    output, weights = clustered_attention(query, key, value, num_clusters=3, seed=2)
    assert output.shape == (3, 10, 2) and weights.shape == (3, 10, 10)
    for index in range(3):
        one_output, one_weights = clustered_attention(
            query[index], key, value[index], num_clusters=3, seed=2
        )
        np.testing.assert_array_equal(output[index], one_output)
        np.testing.assert_array_equal(weights[index], one_weights)


def test_same_seed_same_clusters_and_the_input_is_untouched():
    data = sample_inputs(30, 4, seed=7)
    before = data.query.copy()
    first = clustered_attention(data.query, data.key, data.value, num_clusters=4, seed=9)
    second = clustered_attention(data.query, data.key, data.value, num_clusters=4, seed=9)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(data.query, before)


def test_one_cluster_gives_every_query_the_mean_query_row():
    data = sample_inputs(20, 4, seed=8)
    _, weights = clustered_attention(data.query, data.key, data.value, num_clusters=1)
    expected = softmax(data.query.mean(axis=0) @ data.key.T / 2)
    np.testing.assert_allclose(weights, np.broadcast_to(expected, weights.shape), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 5), st.integers(0, 50))
def test_rows_are_softmax_rows(length, clusters, size, seed):
    rng = np.random.default_rng(seed)
    query = np.round(rng.standard_normal((length, size)), 1)  # rounding makes duplicates likely
    key, value = rng.standard_normal((7, size)), rng.standard_normal((7, 2))
    output, weights = clustered_attention(query, key, value, num_clusters=clusters, seed=seed)
    assert (weights > 0).all()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(output, weights @ value, atol=1e-12)
    distinct = np.unique(query, axis=0).shape[0]
    if clusters >= distinct:
        np.testing.assert_allclose(weights, scaled_dot_product_attention(query, key, value)[1])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: clustered_attention(
                np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 1)), num_clusters=0
            ),
            "num_clusters must be at least 1, got 0",
        ),
        (
            lambda: clustered_attention(
                np.ones((2, 3)),
                np.ones((2, 3)),
                np.ones((2, 1)),
                num_clusters=1,
                scale=float("nan"),
            ),
            "scale must be a finite number, got nan",
        ),
        (
            lambda: cluster_queries(np.ones((2, 2, 3)), num_clusters=2),
            "query must have 2 axes, got shape (2, 2, 3)",
        ),
        (
            lambda: cluster_queries(np.ones((0, 3)), num_clusters=2),
            "query has no positions; give at least one query",
        ),
        (
            lambda: cluster_queries(np.ones((2, 3)), num_clusters=2, seed=True),
            "seed must be a whole number, got True",
        ),
        (
            lambda: cluster_queries(np.ones((2, 3)), num_clusters=0),
            "num_clusters must be at least 1, got 0",
        ),
        (
            lambda: cluster_queries(np.ones((2, 3)), num_clusters=2, seed=-1),
            "seed must be at least 0, got -1",
        ),
        (
            lambda: cluster_queries(np.array([[1.0, np.inf]]), num_clusters=2),
            "query contains NaN or infinity; every entry must be a finite number",
        ),
        # An empty batch runs no k-means, and its settings are still checked.
        (
            lambda: clustered_output(
                np.ones((0, 2, 3)), np.ones((0, 2, 3)), np.ones((0, 2, 1)), num_clusters=0
            ),
            "num_clusters must be at least 1, got 0",
        ),
        (
            lambda: clustered_attention(
                np.ones((0, 2, 3)), np.ones((0, 2, 3)), np.ones((0, 2, 1)), num_clusters=1, seed=-1
            ),
            "seed must be at least 0, got -1",
        ),
    ],
)
def test_bad_inputs_say_what_to_fix(call, message):
    assert_refuses(call, message)


def test_one_cluster_per_distinct_query_exactly_is_already_exact():
    query = queries_with_duplicates(np.random.default_rng(9))  # 5 distinct queries
    clusters = cluster_queries(query, num_clusters=5)
    assert clusters.exact is True
    np.testing.assert_array_equal(clusters.centroids[clusters.labels], query)
    assert cluster_queries(query, num_clusters=4).exact is False


def test_kmeans_weighs_each_distinct_query_by_how_often_it_occurs():
    # One cluster: its centroid is the mean of all L queries, duplicates counted, not the
    # mean of the distinct ones.
    query = np.array([[0.0, 0.0]] * 6 + [[3.0, 0.0], [0.0, 6.0]])
    clusters = cluster_queries(query, num_clusters=1)
    np.testing.assert_allclose(clusters.centroids, [[3 / 8, 6 / 8]], rtol=1e-12)
    np.testing.assert_array_equal(clusters.labels, 0)


def test_kmeans_stops_after_its_iteration_cap():
    from sklearn.cluster import KMeans

    # Uniform points converge slowly: with seed 4, Lloyd's algorithm needs 30 iterations.
    points = np.random.default_rng(0).uniform(size=(300, 2))
    converged = KMeans(8, n_init=1, random_state=4, algorithm="lloyd", max_iter=300).fit(points)
    assert converged.n_iter_ > KMEANS_MAX_ITERATIONS
    clusters = cluster_queries(points, num_clusters=8, seed=4)
    # Stopped early, some centroid is not yet the mean of the queries it holds.
    gaps = [
        np.abs(clusters.centroids[label] - points[clusters.labels == label].mean(axis=0)).max()
        for label in range(8)
    ]
    assert max(gaps) > 1e-3


def test_the_default_seed_is_zero():
    data = sample_inputs(40, 4, seed=0)  # k-means with 3 clusters: seeds 0 and 1 differ here
    by_default = cluster_queries(data.query, num_clusters=3)
    np.testing.assert_array_equal(
        by_default.labels, cluster_queries(data.query, num_clusters=3, seed=0).labels
    )
    assert (by_default.labels != cluster_queries(data.query, num_clusters=3, seed=1).labels).any()
    output, weights = clustered_attention(data.query, data.key, data.value, num_clusters=3)
    seeded = clustered_attention(data.query, data.key, data.value, num_clusters=3, seed=0)
    np.testing.assert_array_equal(output, seeded[0])
    np.testing.assert_array_equal(weights, seeded[1])
    np.testing.assert_array_equal(
        clustered_output(data.query, data.key, data.value, num_clusters=3), output
    )


def test_a_given_scale_reaches_every_centroid_softmax():
    rng = np.random.default_rng(10)
    query, key, value = (rng.standard_normal(shape) for shape in [(6, 3), (5, 3), (5, 2)])
    exact_output, exact_weights = scaled_dot_product_attention(query, key, value, scale=0.3)
    output, weights = clustered_attention(query, key, value, num_clusters=6, scale=0.3)
    np.testing.assert_allclose(weights, exact_weights, rtol=1e-13)
    np.testing.assert_allclose(output, exact_output, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(
        clustered_output(query, key, value, num_clusters=6, scale=0.3), exact_output, rtol=1e-13
    )


@pytest.mark.parametrize("batched", ["query", "key", "value"])
def test_a_batch_axis_on_any_one_input_broadcasts(batched):
    rng = np.random.default_rng(11)
    arrays = {"query": rng.standard_normal((7, 4)), "key": rng.standard_normal((5, 4))}
    arrays["value"] = rng.standard_normal((5, 3))
    arrays[batched] = rng.standard_normal((2, *arrays[batched].shape))
    output, weights = clustered_attention(**arrays, num_clusters=3, seed=1)
    assert output.shape == (2, 7, 3) and weights.shape == (2, 7, 5)
    for index in range(2):
        one = {name: array[index] if name == batched else array for name, array in arrays.items()}
        one_output, one_weights = clustered_attention(**one, num_clusters=3, seed=1)
        np.testing.assert_array_equal(output[index], one_output)
        np.testing.assert_array_equal(weights[index], one_weights)


@pytest.mark.parametrize("wide", ["query", "key", "value"])
def test_the_output_has_the_precision_of_its_widest_input(wide):
    rng = np.random.default_rng(12)
    arrays = {
        "query": rng.standard_normal((6, 3)).astype(np.float32),
        "key": rng.standard_normal((5, 3)).astype(np.float32),
        "value": rng.standard_normal((5, 2)).astype(np.float32),
    }
    arrays[wide] = arrays[wide].astype(np.float64)
    output, weights = clustered_attention(**arrays, num_clusters=6)
    exact_output, exact_weights = scaled_dot_product_attention(**arrays)
    assert output.dtype == exact_output.dtype == np.float64
    assert weights.dtype == exact_weights.dtype
    np.testing.assert_allclose(output, exact_output, rtol=1e-6, atol=1e-6)


def test_float32_queries_keep_float32_centroids():
    data = sample_inputs(30, 4, seed=2)
    query = data.query.astype(np.float32)
    clusters = cluster_queries(query, num_clusters=3)
    assert clusters.centroids.dtype == np.float32
    output, weights = clustered_attention(
        query, data.key.astype(np.float32), data.value.astype(np.float32), num_clusters=3
    )
    assert output.dtype == weights.dtype == np.float32


def test_an_empty_batch_gives_empty_results():
    output, weights = clustered_attention(
        np.ones((0, 2, 3)), np.ones((0, 4, 3)), np.ones((0, 4, 1)), num_clusters=1
    )
    assert output.shape == (0, 2, 1) and weights.shape == (0, 2, 4)
    assert clustered_output(
        np.ones((0, 2, 3)), np.ones((0, 4, 3)), np.ones((0, 4, 1)), num_clusters=1
    ).shape == (0, 2, 1)
