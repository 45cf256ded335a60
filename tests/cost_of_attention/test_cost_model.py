"""The cost model: exact attention quadratic in n, the approximations linear; crossovers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lab.cost_of_attention.cost_model as cost_model
from lab.cost_of_attention import FeatureMap, Method
from tests.refusals import assert_refuses

APPROXIMATIONS = [Method.PERFORMER, Method.LINEAR, Method.CLUSTERED]
SETTINGS = [(8, 4, 2), (64, 64, 16), (128, 256, 64)]  # (d, r, C)
FIELDS = ("multiply_adds", "exponentials", "floats")


def counts(method, n_values, d, r, C, field):
    return np.array(
        [
            getattr(cost_model.method_cost(method, n, d, num_features=r, num_clusters=C), field)
            for n in n_values
        ],
        dtype=object,  # exact integers, no overflow
    )


@pytest.mark.parametrize(("d", "r", "C"), SETTINGS)
@pytest.mark.parametrize("method", APPROXIMATIONS)
def test_approximations_grow_linearly_in_n(method, d, r, C):
    n_values = range(1, 40)
    for field in FIELDS:
        values = counts(method, n_values, d, r, C, field)
        steps = np.diff(values)
        assert (np.diff(steps) == 0).all(), field  # second differences vanish: linear
        assert (steps > 0).all(), field


@pytest.mark.parametrize(("d", "r", "C"), SETTINGS)
def test_exact_attention_grows_quadratically_in_n(d, r, C):
    n_values = range(1, 40)
    for field in FIELDS:
        values = counts(Method.EXACT, n_values, d, r, C, field)
        second = np.diff(values, n=2)
        assert (second > 0).all() and (second == second[0]).all(), field  # constant: quadratic
    assert (np.diff(counts(Method.EXACT, n_values, d, r, C, "multiply_adds"), n=2) == 4 * d).all()


@pytest.mark.parametrize("n", [16, 1000, 123_456])
@pytest.mark.parametrize(
    ("cost", "growth"),
    [
        (lambda n: cost_model.exact_cost(n, 64), 4),
        (lambda n: cost_model.performer_cost(n, 64, 32), 2),
        (lambda n: cost_model.linear_cost(n, 64), 2),
        (lambda n: cost_model.clustered_cost(n, 64, 8), 2),
    ],
    ids=["exact", "performer", "linear", "clustered"],
)
def test_doubling_n_quadruples_exact_work_and_doubles_the_approximations(n, cost, growth):
    assert cost(2 * n).multiply_adds == growth * cost(n).multiply_adds


def test_counts_by_hand_for_a_small_case():
    # n = 4, d = 2, r = 3, C = 2 (t = 2 + floor(ln 2) = 2), one restart, I = 10.
    assert cost_model.exact_cost(4, 2) == cost_model.Cost(
        multiply_adds=64, exponentials=16, floats=24
    )
    assert cost_model.performer_cost(4, 2, 3) == cost_model.Cost(
        multiply_adds=120, exponentials=24, floats=41
    )
    assert cost_model.linear_cost(4, 2) == cost_model.Cost(
        multiply_adds=48, exponentials=16, floats=30
    )
    assert cost_model.linear_cost(4, 2, "relu").exponentials == 0
    assert cost_model.kmeans_candidates(2) == 2
    # k-means: (1 + 1·2 + 10·3) n d = 33 · 8 = 264; attention of 2 centroids: 2·2·4·2 = 32.
    assert cost_model.clustered_cost(4, 2, 2) == cost_model.Cost(
        multiply_adds=296, exponentials=8, floats=32
    )
    assert (
        cost_model.clustered_cost(4, 2, 2, restarts=2, iterations=0).multiply_adds == 2 * 3 * 8 + 32
    )


def test_one_cluster_by_hand():
    # n = 4, d = 2, C = 1: seeding 1 distance pass, 10 Lloyd iterations of C + 1 = 2 passes,
    # (1 + 20) n d = 168; attention of the one centroid: 2·1·4·2 = 16.
    assert cost_model.clustered_cost(4, 2, 1) == cost_model.Cost(
        multiply_adds=184, exponentials=4, floats=22
    )


def test_the_search_reaches_its_limit_of_two_to_the_fifty():
    # 2 n^2 > 4 n r + 2 n r for d = 1 is n > 3 r: with r = 2^48 the crossover is
    # 3 · 2^48 + 1, just below the search limit 2^50.
    r = 2**48
    assert (
        cost_model.crossover_length(Method.PERFORMER, 1, num_features=r, num_clusters=1)
        == 3 * r + 1
    )


def test_floats_in_bytes():
    assert cost_model.exact_cost(1024, 64).bytes() == 4 * (1024 * 1024 + 1024 * 64)
    assert cost_model.exact_cost(4, 2).bytes(itemsize=8) == 8 * 24
    with pytest.raises(ValueError) as error:
        cost_model.exact_cost(4, 2).bytes(itemsize=0)
    assert str(error.value) == "itemsize must be at least 1, got 0"


def test_kmeans_candidates_follow_scikit_learns_rule():
    assert [cost_model.kmeans_candidates(C) for C in (1, 2, 3, 8, 20, 100)] == [
        2 + int(math.log(C)) for C in (1, 2, 3, 8, 20, 100)
    ]


@pytest.mark.parametrize(("d", "r"), [(8, 4), (64, 64), (64, 256), (3, 7)])
def test_random_feature_crossover_is_the_closed_form(d, r):
    # 2 n^2 d > 4 n r d + 2 n r  <=>  n > 2 r + r / d.
    expected = math.floor(2 * r + r / d) + 1
    assert (
        cost_model.crossover_length(Method.PERFORMER, d, num_features=r, num_clusters=1) == expected
    )


@pytest.mark.parametrize("d", [1, 16, 64])
def test_linear_attention_crossover_is_d_plus_two(d):
    # 2 n^2 d > 2 n d^2 + 2 n d  <=>  n > d + 1.
    assert cost_model.crossover_length(Method.LINEAR, d, num_features=1, num_clusters=1) == d + 2


@pytest.mark.parametrize("quantity", list(cost_model.Quantity))
@pytest.mark.parametrize("method", APPROXIMATIONS)
def test_crossover_is_the_first_n_from_which_the_approximation_stays_cheaper(method, quantity):
    d, r, C = 32, 48, 8
    crossover = cost_model.crossover_length(
        method, d, num_features=r, num_clusters=C, quantity=quantity
    )

    def cheaper(n):
        cost = cost_model.method_cost(method, n, d, num_features=r, num_clusters=C)
        return cost.get(quantity) < cost_model.exact_cost(n, d).get(quantity)

    assert not any(cheaper(n) for n in range(1, crossover))
    assert all(cheaper(n) for n in range(crossover, crossover + 500))


def test_cost_curves_give_every_method_at_every_n():
    curves = cost_model.cost_curves(
        [8, 16, 32], 4, num_features=8, num_clusters=2, feature_map=FeatureMap.RELU
    )
    assert list(curves) == list(Method)
    assert all(len(costs) == 3 for costs in curves.values())
    assert curves[Method.EXACT][2] == cost_model.exact_cost(32, 4)
    assert curves[Method.LINEAR][0] == cost_model.linear_cost(8, 4, "relu")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cost_model.exact_cost(0, 4), "n must be at least 1, got 0"),
        (lambda: cost_model.exact_cost(4, 2.0), "d must be a whole number, got 2.0"),
        (lambda: cost_model.performer_cost(4, 2, 0), "num_features must be at least 1, got 0"),
        (
            lambda: cost_model.clustered_cost(4, 2, 2, iterations=-1),
            "iterations must be at least 0, got -1",
        ),
        (lambda: cost_model.exact_cost(4, 0), "d must be at least 1, got 0"),
        (lambda: cost_model.clustered_cost(4, 2, 0), "num_clusters must be at least 1, got 0"),
        (
            lambda: cost_model.clustered_cost(4, 2, 2, restarts=0),
            "restarts must be at least 1, got 0",
        ),
        (lambda: cost_model.kmeans_candidates(0), "num_clusters must be at least 1, got 0"),
        (
            lambda: cost_model.crossover_length(
                Method.PERFORMER, 1, num_features=2**49, num_clusters=1
            ),
            "random features (Performer) is not cheaper than exact attention for any n up to 2^50",
        ),
        (
            lambda: cost_model.linear_cost(4, 2, "tanh"),
            "feature_map must be one of 'elu+1', 'relu', got 'tanh'",
        ),
        (
            lambda: cost_model.method_cost("exact", 4, 2, num_features=1, num_clusters=1),
            "method must be a Method, got 'exact'",
        ),
        (
            lambda: cost_model.crossover_length(Method.EXACT, 4, num_features=1, num_clusters=1),
            "method must be an approximation (not Method.EXACT), got <Method.EXACT: 'exact'>",
        ),
        (
            lambda: cost_model.crossover_length(
                Method.LINEAR, 4, num_features=1, num_clusters=1, quantity="floats"
            ),
            "quantity must be a Quantity, got 'floats'",
        ),
    ],
)
def test_bad_inputs_say_what_to_fix(call, message):
    assert_refuses(call, message)
