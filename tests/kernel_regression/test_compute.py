"""Nadaraya–Watson kernel regression (lab.kernel_regression.compute).

References are written independently of the code under test: explicit
float64 formulas and torch's softmax; scikit-learn's LeaveOneOut loop is in
test_estimator.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lab import kernel_regression as kr
from lab.kernel_regression.train import ParametricNadarayaWatson
from tests.kernel_regression.util import exactly

KERNELS = list(kr.Kernel)
COMPACT = [kernel for kernel in kr.Kernel if kernel.compact]


def reference_profile(kernel: str, u: np.ndarray) -> np.ndarray:
    """K(u) written out by hand, for |u|."""
    u = np.abs(u)
    if kernel == "gaussian":
        return np.exp(-0.5 * u**2)
    if kernel == "boxcar":
        return (u <= 1).astype(float)
    if kernel == "epanechnikov":
        return np.where(u < 1, 1 - u**2, 0.0)
    if kernel == "triangular":
        return np.where(u < 1, 1 - u, 0.0)
    if kernel == "constant":
        return np.ones_like(u)
    raise AssertionError(kernel)


def reference_nw(x_train, y_train, x_query, kernel, bandwidth, *, leave_out=False):
    """Direct NW: K / sum K without any log-space trick (fine for moderate h)."""
    u = (np.asarray(x_query)[:, None] - np.asarray(x_train)[None, :]) / bandwidth
    k = reference_profile(kernel, u)
    if leave_out:
        k = k * (1 - np.eye(len(x_train)))
    totals = k.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        weights = k / totals
        estimate = (k @ np.asarray(y_train)) / totals[:, 0]
    return estimate, weights


# --- kernels -------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_profiles_match_their_formulas(kernel):
    distances = np.array([0.0, 0.1, 0.5, 0.99, 1.0, 1.01, 2.0, 7.5])
    for h in (0.5, 1.0, 3.0):
        np.testing.assert_allclose(
            kr.kernel_weight(distances, h, kernel),
            reference_profile(kernel, distances / h),
            rtol=1e-12,
            atol=0,
        )
    # A kernel depends on the distance only: the sign of x - x_i does not matter.
    np.testing.assert_array_equal(
        kr.kernel_weight(-distances, 0.7, kernel), kr.kernel_weight(distances, 0.7, kernel)
    )


def test_window_edges_follow_the_definitions():
    # u = 1 exactly: the boxcar includes it, the kernels that vanish at 1 give it 0.
    assert kr.kernel_weight(1.0, 1.0, "boxcar") == 1.0
    assert kr.kernel_weight(1.0, 1.0, "epanechnikov") == 0.0
    assert kr.kernel_weight(1.0, 1.0, "triangular") == 0.0
    assert 0 < kr.kernel_weight(1.0, 1.0, "gaussian") < 1


def test_kernels_are_a_closed_set_with_their_names_and_formulas():
    assert [kernel.value for kernel in kr.Kernel] == [
        "gaussian",
        "boxcar",
        "epanechnikov",
        "triangular",
        "constant",
    ]
    assert [kernel.label for kernel in kr.Kernel] == [
        "Gaussian",
        "Boxcar",
        "Epanechnikov",
        "Triangular",
        "Constant",
    ]
    assert COMPACT == [kr.Kernel.BOXCAR, kr.Kernel.EPANECHNIKOV, kr.Kernel.TRIANGULAR]
    assert kr.Kernel.EPANECHNIKOV.formula == r"(1 - u^2)\,\mathbb{1}[\,|u| < 1\,]"
    assert kr.Kernel.TRIANGULAR.formula == r"(1 - |u|)\,\mathbb{1}[\,|u| < 1\,]"
    assert kr.Kernel.GAUSSIAN.formula == r"e^{-u^2/2}"
    assert kr.get_kernel("boxcar") is kr.Kernel.BOXCAR
    assert kr.get_kernel(kr.Kernel.CONSTANT) is kr.Kernel.CONSTANT
    with exactly(
        "unknown kernel 'Gaussian'; choose one of gaussian, boxcar, epanechnikov, triangular, "
        "constant"
    ):
        kr.get_kernel("Gaussian")


def test_the_triangular_kernel_is_d2ls_one_minus_abs_u():
    # d2l names 1 - |u| "Epanechikov"; here it is the triangular kernel, and the lab's
    # Epanechnikov is 1 - u^2: the two differ everywhere inside the window but at 0.
    u = np.array([0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(kr.kernel_weight(u, 1.0, "triangular"), 1 - u)
    np.testing.assert_allclose(kr.kernel_weight(u, 1.0, "epanechnikov"), 1 - u**2)


def test_the_constant_kernel_broadcasts_against_a_grid_of_bandwidths():
    distances = np.array([[0.0, 1.0, 2.0]])  # (L, S) = (1, 3)
    bandwidths = np.array([0.1, 1.0])[:, None, None]  # (G, 1, 1)
    assert kr.Kernel.CONSTANT.log_weight(distances, bandwidths).shape == (2, 1, 3)
    assert kr.Kernel.BOXCAR.log_weight(distances, bandwidths).shape == (2, 1, 3)


# --- nadaraya_watson -----------------------------------------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("bandwidth", [0.3, 1.0, 4.0])
def test_estimate_is_the_weighted_mean_of_the_targets(default_data, kernel, bandwidth):
    data = default_data
    result = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel=kernel, bandwidth=bandwidth
    )
    expected, expected_weights = reference_nw(
        data.x_train, data.y_train, data.x_query, kernel, bandwidth
    )
    defined = ~result.empty
    np.testing.assert_allclose(result.estimate[defined], expected[defined], rtol=1e-10)
    np.testing.assert_allclose(
        result.weights[defined], expected_weights[defined], rtol=1e-10, atol=1e-15
    )
    # And literally the weights times the targets.
    np.testing.assert_allclose(
        result.estimate[defined], (result.weights @ data.y_train)[defined], rtol=1e-12
    )
    np.testing.assert_allclose(result.weights[defined].sum(axis=1), 1.0, rtol=1e-12)


def test_gaussian_weights_are_a_softmax_as_torch_computes_it(default_data):
    data = default_data
    h = 0.4
    result = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=h)
    q = torch.tensor(data.x_query, dtype=torch.float64)
    k = torch.tensor(data.x_train, dtype=torch.float64)
    v = torch.tensor(data.y_train, dtype=torch.float64)
    weights = torch.softmax(-((q[:, None] - k[None, :]) ** 2) / (2 * h * h), dim=-1)
    np.testing.assert_allclose(result.weights, weights.numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(result.estimate, (weights @ v).numpy(), rtol=1e-12)
    # The torch model of lab.kernel_regression.train gives the same numbers.
    model = ParametricNadarayaWatson(h)
    with torch.no_grad():
        estimate, model_weights = model(q, k, v)
    np.testing.assert_allclose(model_weights.numpy(), result.weights, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(estimate.numpy(), result.estimate, rtol=1e-10)


def test_kernel_scores_are_log_kernels_and_minus_infinity_outside(default_data):
    x_train, x_query = np.array([0.0, 1.0, 3.0]), np.array([0.5, 2.9])
    scores = kr.kernel_scores(x_train, x_query, kernel="epanechnikov", bandwidth=1.0)
    u = np.abs(x_query[:, None] - x_train[None, :])
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(scores, np.log(np.where(u < 1, 1 - u**2, 0.0)))
    # The gaussian's rows are shifted so their largest score is exactly 0.
    gaussian = kr.kernel_scores(x_train, x_query, bandwidth=0.5)
    np.testing.assert_array_equal(gaussian.max(axis=1), [0.0, 0.0])
    np.testing.assert_allclose(
        gaussian, -(u**2) / (2 * 0.25) - (-(u**2) / (2 * 0.25)).max(axis=1, keepdims=True)
    )
    # Leave-one-out hides each point's own key.
    own = kr.kernel_scores(x_train, x_train, bandwidth=0.5, exclude_self=True)
    assert np.isneginf(np.diag(own)).all() and np.isfinite(own[~np.eye(3, dtype=bool)]).all()


@pytest.mark.parametrize("kernel", ["gaussian", "boxcar", "epanechnikov", "triangular"])
def test_huge_bandwidth_gives_the_global_mean(default_data, kernel):
    data = default_data
    result = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel=kernel, bandwidth=1e12
    )
    np.testing.assert_allclose(result.estimate, data.y_train.mean(), rtol=1e-9)
    np.testing.assert_allclose(result.weights, 1.0 / data.x_train.size, rtol=1e-9)


@pytest.mark.parametrize("bandwidth", [0.01, 1.0, 100.0])
def test_constant_kernel_ignores_the_bandwidth(default_data, bandwidth):
    data = default_data
    result = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel="constant", bandwidth=bandwidth
    )
    np.testing.assert_allclose(result.estimate, data.y_train.mean(), rtol=1e-12)


@pytest.mark.parametrize("bandwidth", [1e-4, 1e-8, 1e-300])
def test_tiny_gaussian_bandwidth_gives_the_nearest_neighbour_without_nan(default_data, bandwidth):
    data = default_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning at all fails, not only RuntimeWarning
        result = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=bandwidth)
    nearest = np.argmin(np.abs(data.x_query[:, None] - data.x_train[None, :]), axis=1)
    assert not np.isnan(result.estimate).any()
    assert not np.isnan(result.weights).any()
    np.testing.assert_array_equal(result.weights, np.eye(data.x_train.size)[nearest])
    np.testing.assert_array_equal(result.estimate, data.y_train[nearest])
    assert result.empty_indices == []
    # On the training inputs themselves every point attends to itself only ...
    fitted = kr.nadaraya_watson(data.x_train, data.y_train, data.x_train, bandwidth=bandwidth)
    np.testing.assert_allclose(fitted.estimate, data.y_train, rtol=0, atol=1e-9)
    # ... and left out, to its nearest other point.
    left_out = kr.loo_predictions(data.x_train, data.y_train, bandwidth=bandwidth)
    gaps = np.abs(data.x_train[:, None] - data.x_train[None, :]) + np.diag(
        np.full(data.x_train.size, np.inf)
    )
    nearest_other = np.argmin(gaps, axis=1)
    np.testing.assert_allclose(left_out.estimate, data.y_train[nearest_other], rtol=0, atol=1e-6)


def test_tiny_bandwidth_splits_a_tie_evenly():
    result = kr.nadaraya_watson([0.0, 1.0, 3.0], [2.0, 4.0, 8.0], [0.5], bandwidth=1e-6)
    np.testing.assert_allclose(result.weights, [[0.5, 0.5, 0.0]])
    np.testing.assert_allclose(result.estimate, [3.0])


@pytest.mark.parametrize("kernel", COMPACT)
def test_empty_windows_are_reported_and_undefined(kernel):
    x_train = np.array([0.0, 0.2, 3.0, 3.1])
    y_train = np.array([1.0, 2.0, 3.0, 4.0])
    x_query = np.array([0.1, 1.5, 3.05, 5.0])
    result = kr.nadaraya_watson(x_train, y_train, x_query, kernel=kernel, bandwidth=0.5)
    assert result.empty_indices == [1, 3]
    np.testing.assert_array_equal(result.empty, [False, True, False, True])
    assert np.isnan(result.estimate[[1, 3]]).all()
    np.testing.assert_array_equal(result.weights[[1, 3]], 0.0)  # zeros, not a uniform row
    np.testing.assert_allclose(result.weights[[0, 2]].sum(axis=1), 1.0)
    assert not np.isnan(result.estimate[[0, 2]]).any()


def test_gaussian_never_has_an_empty_window():
    result = kr.nadaraya_watson([0.0], [1.0], [1e6], bandwidth=1e-3)
    assert result.empty_indices == []
    np.testing.assert_allclose(result.estimate, [1.0])


def test_vector_inputs_and_vector_values():
    rng = np.random.default_rng(3)
    x_train, x_query = rng.normal(size=(7, 2)), rng.normal(size=(4, 2))
    y_train = rng.normal(size=(7, 3))  # (S, Ev)
    h = 0.8
    result = kr.nadaraya_watson(x_train, y_train, x_query, bandwidth=h)
    squared = ((x_query[:, None, :] - x_train[None, :, :]) ** 2).sum(axis=-1)
    kernel = np.exp(-squared / (2 * h * h))
    weights = kernel / kernel.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(result.weights, weights, rtol=1e-12)
    np.testing.assert_allclose(result.estimate, weights @ y_train, rtol=1e-12)
    assert result.estimate.shape == (4, 3)
    np.testing.assert_allclose(kr.pairwise_distances(x_query, x_train), np.sqrt(squared))


def test_vector_values_with_an_empty_window_are_nan_in_every_column():
    result = kr.nadaraya_watson(
        [0.0, 1.0], [[1.0, 2.0], [3.0, 4.0]], [0.0, 9.0], kernel="boxcar", bandwidth=0.1
    )
    np.testing.assert_allclose(result.estimate[0], [1.0, 2.0])
    assert np.isnan(result.estimate[1]).all()


def test_inputs_are_not_modified(default_data):
    data = default_data
    x_train, y_train, x_query = data.x_train.copy(), data.y_train.copy(), data.x_query.copy()
    kr.nadaraya_watson(x_train, y_train, x_query, kernel="boxcar", bandwidth=0.05)
    kr.loo_predictions(x_train, y_train, bandwidth=0.2)
    kr.error_curves(x_train, y_train, [0.1, 1.0], x_test=x_query, y_test=x_query)
    np.testing.assert_array_equal(x_train, data.x_train)
    np.testing.assert_array_equal(y_train, data.y_train)
    np.testing.assert_array_equal(x_query, data.x_query)


def test_no_queries_gives_empty_arrays():
    result = kr.nadaraya_watson([0.0, 1.0], [1.0, 2.0], np.zeros(0))
    assert result.estimate.shape == (0,) and result.weights.shape == (0, 2)
    vectors = kr.nadaraya_watson([0.0, 1.0], [[1.0, 2.0], [3.0, 4.0]], np.zeros(0))
    assert vectors.estimate.shape == (0, 2)


@settings(max_examples=60, deadline=None)
@given(
    x_train=arrays(np.float64, st.integers(1, 12), elements=st.floats(-100, 100)),
    x_query=arrays(np.float64, st.integers(1, 6), elements=st.floats(-100, 100)),
    log_bandwidth=st.floats(-12, 6),
    kernel=st.sampled_from(KERNELS),
    seed=st.integers(0, 2**16),
)
def test_rows_sum_to_one_or_are_empty_for_any_input(x_train, x_query, log_bandwidth, kernel, seed):
    y_train = np.random.default_rng(seed).normal(size=x_train.size)
    bandwidth = 10.0**log_bandwidth
    result = kr.nadaraya_watson(x_train, y_train, x_query, kernel=kernel, bandwidth=bandwidth)
    weights = result.weights
    assert weights.shape == (x_query.size, x_train.size)
    assert not np.isnan(weights).any() and (weights >= 0).all()
    sums = weights.sum(axis=1)
    np.testing.assert_allclose(sums[~result.empty], 1.0, rtol=1e-9)
    np.testing.assert_array_equal(sums[result.empty], 0.0)
    assert np.isnan(result.estimate[result.empty]).all()
    defined = ~result.empty
    # An average never leaves the range of what it averages.
    assert (result.estimate[defined] >= y_train.min() - 1e-9).all()
    assert (result.estimate[defined] <= y_train.max() + 1e-9).all()
    if kernel in ("gaussian", "constant"):
        assert not result.empty.any()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"bandwidth": 0.0}, "bandwidth must be positive, got 0.0"),
        ({"bandwidth": -1.0}, "bandwidth must be positive, got -1.0"),
        ({"bandwidth": math.nan}, "bandwidth must be a finite number, got nan"),
        ({"bandwidth": math.inf}, "bandwidth must be a finite number, got inf"),
        ({"bandwidth": True}, "bandwidth must be a number, got True"),
        ({"bandwidth": "wide"}, "bandwidth must be a number, got 'wide'"),
        (
            {"kernel": "cosine"},
            "unknown kernel 'cosine'; choose one of gaussian, boxcar, epanechnikov, "
            "triangular, constant",
        ),
    ],
)
def test_bad_settings_raise_helpful_errors(arguments, message):
    with exactly(message):
        kr.nadaraya_watson([0.0, 1.0], [1.0, 2.0], [0.5], **arguments)


@pytest.mark.parametrize(
    ("x_train", "y_train", "x_query", "message"),
    [
        ([], [], [0.5], "x_train is empty: kernel regression needs at least one training point"),
        ([0.0, 1.0], [1.0], [0.5], "x_train has 2 points but y_train has 1"),
        (
            [0.0, np.nan],
            [1.0, 2.0],
            [0.5],
            "x_train contains NaN or infinity; every entry must be a finite number",
        ),
        (
            [0.0, 1.0],
            [1.0, np.inf],
            [0.5],
            "y_train contains NaN or infinity; every entry must be a finite number",
        ),
        (
            [0.0, 1.0],
            [1.0, 2.0],
            [[0.5, 0.5]],
            "x_query has 2 features per point but x_train has 1",
        ),
        ([0.0, 1.0], [1.0, 2.0], ["a"], "x_query must hold real numbers, got dtype <U1"),
        (
            np.zeros((2, 1, 1)),
            [1.0, 2.0],
            [0.5],
            "x_train must be a vector of scalars (n,) or a matrix (n, E), got shape (2, 1, 1)",
        ),
        (
            [0.0, 1.0],
            np.zeros((2, 1, 1)),
            [0.5],
            "y_train must be (S,) or (S, Ev), got shape (2, 1, 1)",
        ),
    ],
)
def test_bad_data_raise_helpful_errors(x_train, y_train, x_query, message):
    with exactly(message):
        kr.nadaraya_watson(x_train, y_train, x_query)


def test_exclude_self_needs_the_training_inputs_as_queries():
    with exactly(
        "exclude_self needs the queries to be the training inputs, got 1 queries for 2 training points"
    ):
        kr.nadaraya_watson([0.0, 1.0], [1.0, 2.0], [0.5], exclude_self=True)


# --- leave-one-out and the error curves ----------------------------------------------------


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("bandwidth", [0.05, 0.2, 1.0])
def test_closed_form_leave_one_out_equals_zeroing_the_diagonal(default_data, kernel, bandwidth):
    data = default_data
    expected, _ = reference_nw(
        data.x_train, data.y_train, data.x_train, kernel, bandwidth, leave_out=True
    )
    closed = kr.loo_predictions(data.x_train, data.y_train, kernel=kernel, bandwidth=bandwidth)
    np.testing.assert_allclose(closed.estimate, expected, rtol=1e-10, equal_nan=True)
    error = kr.loo_error(data.x_train, data.y_train, kernel=kernel, bandwidth=bandwidth)
    if np.isnan(expected).any():
        assert math.isnan(error)  # some left-out point had no neighbour in its window
    else:
        assert error == pytest.approx(np.mean((expected - data.y_train) ** 2), rel=1e-10)


def test_compact_kernels_do_leave_points_without_a_neighbour(default_data):
    # The largest gap between neighbouring training inputs is about 0.42 on the default data,
    # so a boxcar of width 0.05 must leave some left-out point with an empty window.
    result = kr.loo_predictions(
        default_data.x_train, default_data.y_train, kernel="boxcar", bandwidth=0.05
    )
    assert result.empty.any() and np.isnan(result.estimate[result.empty]).all()


@pytest.mark.parametrize("kernel", KERNELS)
def test_error_curves_are_the_errors_of_that_kernel_at_every_bandwidth(default_data, kernel):
    data = default_data
    grid = kr.bandwidth_grid(0.02, 5.0, 4)
    curves = kr.error_curves(
        data.x_train, data.y_train, grid, kernel=kernel, x_test=data.x_query, y_test=data.y_test
    )
    for index, h in enumerate(grid):
        fitted, _ = reference_nw(data.x_train, data.y_train, data.x_train, kernel, h)
        left_out, _ = reference_nw(
            data.x_train, data.y_train, data.x_train, kernel, h, leave_out=True
        )
        tested, _ = reference_nw(data.x_train, data.y_train, data.x_query, kernel, h)
        for curve, estimate, target in (
            (curves.train, fitted, data.y_train),
            (curves.loo, left_out, data.y_train),
            (curves.test, tested, data.y_test),
        ):
            expected = np.mean((estimate - target) ** 2)  # NaN if some estimate is undefined
            np.testing.assert_allclose(curve[index], expected, rtol=1e-9, equal_nan=True)
        np.testing.assert_array_equal(
            curves.at(h), (curves.train[index], curves.loo[index], curves.test[index])
        )


def test_each_kernel_has_its_own_best_bandwidth(default_data):
    """The optimum follows the kernel: with kernel=... dropped, every row would read 0.2."""
    data = default_data
    grid = kr.bandwidth_grid()
    best = {
        kernel.value: kr.best_bandwidth(data.x_train, data.y_train, grid, kernel=kernel)
        for kernel in kr.Kernel
    }
    expected = {
        "gaussian": grid[26],  # 0.1995
        "boxcar": grid[32],  # 0.3981
        "epanechnikov": grid[34],  # 0.5012
        "triangular": grid[35],  # 0.5623
        "constant": None,
    }
    assert best == expected
    # Each is the minimum of the leave-one-out error computed by hand with that kernel.
    for kernel in ("boxcar", "epanechnikov", "triangular"):
        errors = []
        for h in grid:
            left_out, _ = reference_nw(
                data.x_train, data.y_train, data.x_train, kernel, h, leave_out=True
            )
            errors.append(np.mean((left_out - data.y_train) ** 2))
        assert best[kernel] == grid[int(np.nanargmin(errors))]


def test_error_curves_show_overfitting(default_data):
    data = default_data
    grid = kr.bandwidth_grid()
    curves = kr.error_curves(
        data.x_train, data.y_train, grid, x_test=data.x_query, y_test=data.y_test
    )
    assert grid.size == 61 and grid[0] == pytest.approx(0.01) and grid[-1] == pytest.approx(10)
    # Training error goes to 0 as h -> 0 (each point attends to itself) ...
    assert curves.train[0] < 0.1 * np.nanmin(curves.loo) and curves.train[-1] > 0.5
    assert np.all(np.diff(curves.train) >= -1e-12)
    # ... but leave-one-out and test error turn back up: both have an interior minimum.
    best = curves.best_index
    assert 0 < best < grid.size - 1
    assert curves.loo[0] > curves.loo[best] * 1.2 and curves.loo[-1] > curves.loo[best] * 2
    test_best = int(np.argmin(curves.test))
    assert abs(math.log(grid[test_best] / grid[best])) < math.log(3)
    assert curves.best_bandwidth == grid[best]


def test_constant_kernel_has_no_best_bandwidth(default_data):
    curves = kr.error_curves(
        default_data.x_train, default_data.y_train, [0.1, 1.0, 10.0], kernel="constant"
    )
    assert np.ptp(curves.loo) == 0 and curves.best_bandwidth is None
    assert curves.test is None and curves.at(1.0)[2] is None


def test_undefined_leave_one_out_is_skipped_by_the_optimum(default_data):
    curves = kr.error_curves(
        default_data.x_train, default_data.y_train, kr.bandwidth_grid(), kernel="boxcar"
    )
    assert np.isnan(curves.loo[0]) and not np.isnan(curves.loo[-1])
    assert not np.isnan(curves.loo[curves.best_index])


def test_a_grid_longer_than_a_block_is_done_in_pieces(default_data):
    data = default_data
    grid = kr.bandwidth_grid(0.01, 10.0, 40)  # 121 bandwidths, eight blocks of 16
    whole = kr.error_curves(data.x_train, data.y_train, grid)
    for index in (0, 15, 16, 17, 120):
        single = kr.error_curves(data.x_train, data.y_train, [grid[index]])
        assert whole.loo[index] == pytest.approx(single.loo[0], rel=1e-12)
        assert whole.train[index] == pytest.approx(single.train[0], rel=1e-12)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"bandwidths": []}, "bandwidths must be a non-empty vector, got shape (0,)"),
        ({"bandwidths": [0.1, -1.0]}, "bandwidth must be positive, got -1.0"),
        ({"bandwidths": [0.1], "x_test": [1.0]}, "pass both x_test and y_test, or neither"),
        (
            {"bandwidths": [0.1], "x_test": [1.0, 2.0], "y_test": [1.0]},
            "x_test has 2 points but y_test has shape (1,)",
        ),
        (
            {"bandwidths": [0.1], "kernel": "nope"},
            "unknown kernel 'nope'; choose one of "
            "gaussian, boxcar, epanechnikov, triangular, constant",
        ),
    ],
)
def test_error_curves_check_their_arguments(arguments, message):
    with exactly(message):
        kr.error_curves([0.0, 1.0], [1.0, 2.0], **arguments)


def test_error_curves_at_needs_a_bandwidth_of_the_grid(default_data):
    curves = kr.error_curves(default_data.x_train, default_data.y_train, [0.1, 1.0])
    with exactly("bandwidth 0.5 is not on the grid of these curves"):
        curves.at(0.5)


def test_refined_optimum_is_the_fine_grid_minimum_near_the_coarse_one(default_data):
    data = default_data
    fine = kr.best_bandwidth(data.x_train, data.y_train, kr.bandwidth_grid(1e-3, 10.0, 100))
    refined = kr.refined_best_bandwidth(data.x_train, data.y_train, kr.bandwidth_grid())
    assert refined == pytest.approx(fine, rel=1e-12)
    assert refined == pytest.approx(0.204174, rel=1e-5)
    # It refines the coarse optimum of the kernel it is given.
    boxcar = kr.refined_best_bandwidth(
        data.x_train, data.y_train, kr.bandwidth_grid(), kernel="boxcar"
    )
    coarse = kr.best_bandwidth(data.x_train, data.y_train, kr.bandwidth_grid(), kernel="boxcar")
    assert coarse / 1.13 < boxcar < coarse * 1.13 and boxcar != refined
    assert kr.refined_best_bandwidth(data.x_train, data.y_train, [0.5]) is None  # no best
    assert (
        kr.refined_best_bandwidth(data.x_train, data.y_train, [0.1, 1], kernel="constant") is None
    )


def test_nearest_bandwidth_is_nearest_on_a_log_scale():
    grid = [0.01, 0.1, 1.0, 10.0]
    assert kr.nearest_bandwidth(grid, 0.3) == 0.1  # log-distance 0.48 to 0.1, 0.52 to 1
    assert kr.nearest_bandwidth(grid, 0.4) == 1.0
    assert kr.nearest_bandwidth(grid, 1e-9) == 0.01 and kr.nearest_bandwidth(grid, 1e9) == 10.0
    with exactly("grid must be a non-empty vector, got shape (0,)"):
        kr.nearest_bandwidth([], 1.0)


def test_bandwidth_grid_is_log_even_and_checked():
    grid = kr.bandwidth_grid(0.1, 10.0, 4)
    np.testing.assert_allclose(np.diff(np.log10(grid)), 0.25)
    assert grid.size == 9
    default = kr.bandwidth_grid()
    np.testing.assert_allclose(default[1:] / default[:-1], 10 ** (1 / 20))
    with exactly("high (0.5) must be above low (1.0)"):
        kr.bandwidth_grid(1.0, 0.5)
    with exactly("per_decade must be at least 1, got 0"):
        kr.bandwidth_grid(per_decade=0)


# --- helpers -----------------------------------------------------------------------------------


def test_contributions_and_effective_neighbours():
    weights = np.array([0.1, 0.6, 0.3])
    targets = np.array([1.0, 2.0, 4.0])
    top = kr.contributions(weights, targets, top=2)
    assert [j for j, _, _ in top] == [1, 2]
    assert top[0][2] == pytest.approx(1.2)
    assert sum(part for _, _, part in kr.contributions(weights, targets)) == pytest.approx(
        weights @ targets
    )
    matrix = np.array(
        [[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0, 0], [0.0, 0.0, 0.0, 0.0]]
    )
    neighbours = kr.effective_neighbours(matrix)
    np.testing.assert_allclose(neighbours[:3], [1.0, 4.0, 2.0])  # k equal weights give k
    assert np.isnan(neighbours[3])
    with exactly("weights (3,) and y_train (2,) must be equal vectors"):
        kr.contributions(weights, [1.0, 2.0])
    with exactly("weights must have 2 axes, got shape (3,)"):
        kr.effective_neighbours(weights)


def test_effective_number_of_keys_runs_from_nearest_neighbour_to_every_key(default_data):
    data = default_data
    sharp = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=0.01)
    wide = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=1e6)
    assert kr.effective_neighbours(sharp.weights).mean() < 1.2
    np.testing.assert_allclose(kr.effective_neighbours(wide.weights), data.x_train.size)


def test_farthest_query_is_where_a_boxcar_first_covers_every_query(default_data):
    data = default_data
    index, distance = kr.farthest_query(data.x_query, data.x_train)
    nearest = np.min(np.abs(data.x_query[:, None] - data.x_train[None, :]), axis=1)
    assert index == int(np.argmax(nearest)) and distance == nearest.max()
    at = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel="boxcar", bandwidth=distance
    )
    below = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel="boxcar", bandwidth=distance * 0.999
    )
    assert at.empty_indices == [] and below.empty_indices == [index]
    with exactly("there are no queries"):
        kr.farthest_query(np.zeros(0), data.x_train)


def test_mean_squared_error_is_nan_when_an_estimate_is_undefined():
    assert math.isnan(kr.mean_squared_error([1.0, np.nan], [1.0, 2.0]))
    assert kr.mean_squared_error([1.0, 3.0], [1.0, 2.0]) == 0.5
    with exactly("estimate has shape (1,) but target has (2,)"):
        kr.mean_squared_error([1.0], [1.0, 2.0])
    with exactly("no estimates to score"):
        kr.mean_squared_error([], [])


def test_formats():
    assert kr.format_bandwidth(0.01) == "0.01"
    assert kr.format_bandwidth(0.0112202) == "0.0112"
    assert kr.format_bandwidth(0.251189) == "0.251"
    assert kr.format_bandwidth(1.0) == "1"
    assert kr.format_bandwidth(10.0) == "10"
    assert kr.format_bandwidth(1e-4) == "0.0001"
    assert kr.format_bandwidth(2e-7) == "2e-07"
    assert kr.format_bandwidth(math.inf) == "inf"
    assert kr.format_error(math.nan) == "—" and kr.format_error(0.31688) == "0.317"


# --- precision, defaults and the checks of every public entry point --------------------------


def test_float32_inputs_are_computed_in_float64():
    # Inputs keep float32 in lab.checks unless asked; the regression asks for float64, so
    # the numbers match a float64 computation on the same (exactly widened) values.
    x_train = np.array([0.1, 0.7, 1.3, 2.9], dtype=np.float32)
    y_train = np.array([1.0, -2.0, 0.5, 3.0])
    x_query = np.array([0.4, 2.2], dtype=np.float32)
    result = kr.nadaraya_watson(x_train, y_train, x_query, bandwidth=0.3)
    expected, weights = reference_nw(
        x_train.astype(np.float64), y_train, x_query.astype(np.float64), "gaussian", 0.3
    )
    assert result.weights.dtype == np.float64
    np.testing.assert_allclose(result.weights, weights, rtol=1e-12)
    np.testing.assert_allclose(result.estimate, expected, rtol=1e-12)
    distances = kr.pairwise_distances(x_query, x_train)
    assert distances.dtype == np.float64
    np.testing.assert_array_equal(
        distances, np.abs(x_query.astype(np.float64)[:, None] - x_train.astype(np.float64))
    )
    near = np.array([0.3, 0.7], dtype=np.float32)
    np.testing.assert_allclose(
        kr.kernel_weight(near, 0.9), np.exp(-0.5 * (near.astype(np.float64) / 0.9) ** 2), rtol=1e-14
    )
    row = np.array([[0.1, 0.2, 0.3, 0.4]], dtype=np.float32)
    np.testing.assert_allclose(
        kr.effective_neighbours(row), 1.0 / np.sum(row.astype(np.float64) ** 2), rtol=1e-14
    )


def test_a_tiny_bandwidth_far_from_every_key_gives_no_overflow_warning():
    # u = 1e10 / 1e-300 overflows float64; the clip must take it back silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights = [kr.kernel_weight(1e10, 1e-300, kernel).item() for kernel in KERNELS]
        result = kr.nadaraya_watson(
            [0.0, 1e10], [1.0, 2.0], [0.0, 3e9, 1e10], kernel="gaussian", bandwidth=1e-300
        )
        boxcar = kr.nadaraya_watson(
            [0.0, 1e10], [1.0, 2.0], [3e9], kernel="boxcar", bandwidth=1e-300
        )
    assert weights == [0.0, 0.0, 0.0, 0.0, 1.0]  # gaussian ... triangular, then constant
    np.testing.assert_array_equal(result.weights, [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(result.estimate, [1.0, 1.0, 2.0])
    assert boxcar.empty_indices == [0]


def test_the_default_bandwidth_is_one():
    x_train, y_train = np.array([0.0, 1.0, 3.0]), np.array([0.0, 1.0, 4.0])
    # Worked by hand at h = 1: from x = 0 the keys score 0, -1/2 and -9/2.
    np.testing.assert_allclose(kr.kernel_scores(x_train, [0.0]), [[0.0, -0.5, -4.5]])
    kernel = np.exp([0.0, -0.5, -4.5])
    result = kr.nadaraya_watson(x_train, y_train, [0.0])
    np.testing.assert_allclose(result.estimate, [kernel @ y_train / kernel.sum()], rtol=1e-12)
    left_out, _ = reference_nw(x_train, y_train, x_train, "gaussian", 1.0, leave_out=True)
    np.testing.assert_allclose(kr.loo_predictions(x_train, y_train).estimate, left_out, rtol=1e-12)
    assert kr.loo_error(x_train, y_train) == pytest.approx(
        np.mean((left_out - y_train) ** 2), rel=1e-12
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: kr.kernel_weight([0.0, np.inf], 1.0),
            "distance contains NaN or infinity; every entry must be a finite number",
        ),
        (lambda: kr.kernel_weight(0.5, 0.0), "bandwidth must be positive, got 0.0"),
        (lambda: kr.kernel_weight(0.5, "wide"), "bandwidth must be a number, got 'wide'"),
        (
            lambda: kr.pairwise_distances([0.5], [0.0, np.nan]),
            "x_train contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: kr.pairwise_distances([np.nan], [0.0]),
            "x_query contains NaN or infinity; every entry must be a finite number",
        ),
        (lambda: kr.nearest_bandwidth([0.1, 1.0], 0.0), "bandwidth must be positive, got 0.0"),
        (lambda: kr.nearest_bandwidth([0.1, 1.0], "h"), "bandwidth must be a number, got 'h'"),
        (
            lambda: kr.contributions([np.nan, 1.0], [1.0, 2.0]),
            "weights contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: kr.contributions([0.5, 0.5], [1.0, np.inf]),
            "y_train contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: kr.effective_neighbours([[0.5, np.nan]]),
            "weights contains NaN or infinity; every entry must be a finite number",
        ),
        (lambda: kr.bandwidth_grid(0.0, 1.0), "low must be positive, got 0.0"),
        (lambda: kr.bandwidth_grid("a", 1.0), "low must be a number, got 'a'"),
        (lambda: kr.bandwidth_grid(0.1, 0.0), "high must be positive, got 0.0"),
        (lambda: kr.bandwidth_grid(0.1, None), "high must be a number, got None"),
        (lambda: kr.bandwidth_grid(1.0, 1.0), "high (1.0) must be above low (1.0)"),
    ],
)
def test_public_helpers_check_their_arguments(call, message):
    with exactly(message):
        call()


def test_a_short_bandwidth_grid_has_its_two_ends():
    np.testing.assert_allclose(kr.bandwidth_grid(1.0, 1.1, 1), [1.0, 1.1])  # 0.04 decades
    np.testing.assert_allclose(kr.bandwidth_grid(1.0, 10.0, 1), [1.0, 10.0])  # one step


def test_tied_contributions_keep_the_order_of_the_keys():
    # Keys alternate between two places: a boxcar around x = 0 gives the even keys 1/8
    # each and the odd ones 0. Listed by weight, ties keep the keys' order.
    x_train = np.tile([0.0, 5.0], 8)
    y_train = np.arange(16.0)
    row = kr.nadaraya_watson(x_train, y_train, [0.0], kernel="boxcar", bandwidth=1.0).weights[0]
    listed = kr.contributions(row, y_train)
    assert [key for key, _, _ in listed] == [*range(0, 16, 2), *range(1, 16, 2)]
    assert [weight for _, weight, _ in listed] == [0.125] * 8 + [0.0] * 8
    assert [part for _, _, part in listed[:3]] == [0.0, 0.25, 0.5]


# --- error curves: sizes, test data and checks -------------------------------------------------


@pytest.mark.parametrize(
    ("x_train", "test_data", "message"),
    [
        ([], {}, "x_train is empty: kernel regression needs at least one training point"),
        (
            [0.0, np.nan],
            {},
            "x_train contains NaN or infinity; every entry must be a finite number",
        ),
        (
            [0.0, 1.0],
            {"x_test": [1.0], "y_test": [np.nan]},
            "y_test contains NaN or infinity; every entry must be a finite number",
        ),
        (
            [0.0, 1.0, 2.0],  # 3 keys, 2 queries: the message counts the queries
            {"x_test": [1.0, 2.0], "y_test": [1.0]},
            "x_test has 2 points but y_test has shape (1,)",
        ),
    ],
)
def test_error_curves_check_their_data(x_train, test_data, message):
    y_train = np.arange(len(x_train), dtype=float)
    with exactly(message):
        kr.error_curves(x_train, y_train, [0.1], **test_data)


def test_one_training_point_has_a_training_error_but_no_leave_one_out_error():
    curves = kr.error_curves([0.0], [1.0], [1, 2])
    np.testing.assert_array_equal(curves.train, [0.0, 0.0])
    assert np.isnan(curves.loo).all() and curves.best_bandwidth is None
    # Whole-number bandwidths are stored as the floats they stand for.
    assert curves.bandwidths.dtype == np.float64
    np.testing.assert_array_equal(curves.bandwidths, [1.0, 2.0])


def test_test_error_with_more_queries_than_keys_and_vector_targets():
    x_train = np.array([0.0, 1.0, 2.5])
    y_train = np.array([[1.0, 0.0], [2.0, -1.0], [0.5, 3.0]])  # (S, Ev) = (3, 2)
    x_test = np.array([0.2, 0.9, 1.7, 2.4, 3.0])
    y_test = np.array([[1.0, 0.5], [2.0, 0.0], [1.0, 1.0], [0.0, 2.0], [1.0, 1.0]])
    grid = [0.3, 1.0]
    curves = kr.error_curves(x_train, y_train, grid, x_test=x_test, y_test=y_test)
    for index, h in enumerate(grid):
        estimate = kr.nadaraya_watson(x_train, y_train, x_test, bandwidth=h).estimate
        assert curves.test[index] == pytest.approx(np.mean((estimate - y_test) ** 2), rel=1e-12)
    with exactly("x_test has 5 points but y_test has shape (5,)"):
        kr.error_curves(x_train, y_train, grid, x_test=x_test, y_test=y_test[:, 0])


def test_error_curves_at_matches_a_bandwidth_to_one_part_in_a_billion():
    curves = kr.error_curves([0.0, 1.0, 2.0], [1.0, 2.0, 0.0], [1e-4, 0.1])
    assert curves.at(0.1 * (1 + 1e-12)) == curves.at(0.1)
    with exactly("bandwidth 0.1000001 is not on the grid of these curves"):
        curves.at(0.1 * (1 + 1e-6))
    with exactly("bandwidth 0.000100005 is not on the grid of these curves"):
        curves.at(1e-4 + 5e-9)  # 5e-9 apart: close in absolute terms, far relative to 1e-4


def test_refining_searches_between_the_two_neighbours_of_the_coarse_optimum(default_data):
    x_train, y_train = default_data.x_train, default_data.y_train

    def fine(low, high, **kernel):
        return kr.best_bandwidth(x_train, y_train, kr.bandwidth_grid(low, high, 100), **kernel)

    # Optimum inside: from the neighbour below (0.05) to the one above (0.8), 100 steps a decade.
    refined = kr.refined_best_bandwidth(x_train, y_train, [0.05, 0.2, 0.8, 3.2])
    assert refined == fine(0.05, 0.8) == pytest.approx(0.2046748, rel=1e-6)
    # Optimum at either end of the coarse grid: the search stops at that end.
    assert kr.refined_best_bandwidth(x_train, y_train, [0.2, 2.0, 5.0]) == fine(0.2, 2.0)
    assert kr.refined_best_bandwidth(x_train, y_train, [0.01, 0.05, 0.2]) == fine(0.05, 0.2) == 0.2
    # The fine search uses the kernel it is given, not the gaussian's optimum.
    grid = kr.bandwidth_grid()
    boxcar = kr.refined_best_bandwidth(x_train, y_train, grid, kernel="boxcar")
    assert boxcar == fine(grid[31], grid[33], kernel="boxcar") != fine(grid[31], grid[33])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (100.0, "100"),
        (150.3, "150"),
        (-100.0, "-100"),
        (999.4, "999"),
        (999.6, "1000"),
        (1234.5, "1234"),
        (9999.0, "9999"),
        (1e4, "1e+04"),
        (0.0, "0"),
        (math.nan, "nan"),
    ],
)
def test_format_bandwidth_writes_whole_numbers_whole(value, text):
    assert kr.format_bandwidth(value) == text
