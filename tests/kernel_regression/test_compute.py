"""Nadaraya–Watson kernel regression (lab.kernel_regression) and the learned bandwidth.

References are written independently of the code under test: explicit
float64 formulas, scikit-learn's LeaveOneOut loop, and torch's softmax.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, LeaveOneOut, cross_val_score
from sklearn.utils.estimator_checks import check_estimator

from lab import kernel_regression as kr
from lab import learned_bandwidth as lb

KERNEL_NAMES = list(kr.KERNELS)
COMPACT = [name for name, kernel in kr.KERNELS.items() if kernel.compact]


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


def reference_nw(x_train, y_train, x_query, kernel, bandwidth):
    """Direct NW: K / sum K without any log-space trick (fine for moderate h)."""
    u = (np.asarray(x_query)[:, None] - np.asarray(x_train)[None, :]) / bandwidth
    k = reference_profile(kernel, u)
    totals = k.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        weights = k / totals
        estimate = (k @ np.asarray(y_train)) / totals[:, 0]
    return estimate, weights


@pytest.fixture(scope="module")
def default_data() -> kr.RegressionData:
    return kr.make_data()


# --- kernels -------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", KERNEL_NAMES)
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


# --- nadaraya_watson -----------------------------------------------------------------------


@pytest.mark.parametrize("kernel", KERNEL_NAMES)
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
    # The torch model of lab.learned_bandwidth gives the same numbers.
    model = lb.ParametricNadarayaWatson(h)
    with torch.no_grad():
        estimate, model_weights = model(q, k, v)
    np.testing.assert_allclose(model_weights.numpy(), result.weights, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(estimate.numpy(), result.estimate, rtol=1e-10)


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
    np.testing.assert_array_equal(x_train, data.x_train)
    np.testing.assert_array_equal(y_train, data.y_train)
    np.testing.assert_array_equal(x_query, data.x_query)


def test_no_queries_gives_empty_arrays():
    result = kr.nadaraya_watson([0.0, 1.0], [1.0, 2.0], np.zeros(0))
    assert result.estimate.shape == (0,) and result.weights.shape == (0, 2)


@settings(max_examples=60, deadline=None)
@given(
    x_train=arrays(np.float64, st.integers(1, 12), elements=st.floats(-100, 100)),
    x_query=arrays(np.float64, st.integers(1, 6), elements=st.floats(-100, 100)),
    log_bandwidth=st.floats(-12, 6),
    kernel=st.sampled_from(KERNEL_NAMES),
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
        ({"bandwidth": 0.0}, "bandwidth must be a positive"),
        ({"bandwidth": -1.0}, "bandwidth must be a positive"),
        ({"bandwidth": math.nan}, "bandwidth must be a positive"),
        ({"bandwidth": math.inf}, "bandwidth must be a positive"),
        ({"bandwidth": True}, "bandwidth must be a positive"),
        ({"bandwidth": "wide"}, "bandwidth must be a positive"),
        ({"kernel": "cosine"}, "unknown kernel 'cosine'"),
    ],
)
def test_bad_settings_raise_helpful_errors(arguments, message):
    with pytest.raises(ValueError, match=message):
        kr.nadaraya_watson([0.0, 1.0], [1.0, 2.0], [0.5], **arguments)


@pytest.mark.parametrize(
    ("x_train", "y_train", "x_query", "message"),
    [
        ([], [], [0.5], "x_train is empty"),
        ([0.0, 1.0], [1.0], [0.5], "x_train has 2 points but y_train has 1"),
        ([0.0, np.nan], [1.0, 2.0], [0.5], "x_train contains NaN"),
        ([0.0, 1.0], [1.0, np.inf], [0.5], "y_train contains NaN or infinity"),
        ([0.0, 1.0], [1.0, 2.0], [[0.5, 0.5]], "x_query has 2 features per point"),
        ([0.0, 1.0], [1.0, 2.0], ["a"], "x_query must hold numbers"),
        (np.zeros((2, 1, 1)), [1.0, 2.0], [0.5], "x_train must be a vector"),
    ],
)
def test_bad_data_raise_helpful_errors(x_train, y_train, x_query, message):
    with pytest.raises(ValueError, match=message):
        kr.nadaraya_watson(x_train, y_train, x_query)


def test_exclude_self_needs_the_training_inputs_as_queries():
    with pytest.raises(ValueError, match="exclude_self needs the queries"):
        kr.nadaraya_watson([0.0, 1.0], [1.0, 2.0], [0.5], exclude_self=True)


# --- scikit-learn --------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_passes_scikit_learns_estimator_checks():
    results = check_estimator(kr.NadarayaWatsonRegressor(), on_fail=None)
    failed = [
        (result["check_name"], repr(result["exception"]))
        for result in results
        if result["status"] == "failed"
    ]
    assert failed == []
    # The only check that does not run needs the array API switched on (SCIPY_ARRAY_API).
    skipped = {result["check_name"] for result in results if result["status"] == "skipped"}
    assert skipped <= {"check_array_api_input"}
    assert sum(result["status"] == "passed" for result in results) >= 40


def test_the_regressor_is_part_of_the_module_api():
    from lab.kernel_regression import NadarayaWatsonRegressor
    from lab.kernel_regression_estimator import NadarayaWatsonRegressor as direct

    assert NadarayaWatsonRegressor is direct is kr.NadarayaWatsonRegressor
    with pytest.raises(AttributeError, match="no attribute 'Regressor'"):
        kr.Regressor  # noqa: B018


def test_clone_and_set_params_keep_the_settings():
    model = kr.NadarayaWatsonRegressor(kernel="epanechnikov", bandwidth=0.3)
    copy = clone(model)
    assert copy is not model and copy.get_params() == {"kernel": "epanechnikov", "bandwidth": 0.3}
    copy.set_params(bandwidth=2.0)
    assert model.bandwidth == 0.3 and copy.bandwidth == 2.0


def test_regressor_predicts_like_the_function(default_data):
    data = default_data
    model = kr.NadarayaWatsonRegressor(bandwidth=0.3).fit(data.x_train[:, None], data.y_train)
    direct = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=0.3)
    np.testing.assert_allclose(model.predict(data.x_query[:, None]), direct.estimate, rtol=1e-12)
    assert model.n_features_in_ == 1
    assert model.attend(data.x_query[:, None]).weights.shape == (50, 50)


def test_regressor_checks_its_settings_and_state(default_data):
    data = default_data
    with pytest.raises(NotFittedError):
        kr.NadarayaWatsonRegressor().predict(data.x_query[:, None])
    with pytest.raises(ValueError, match="bandwidth must be a positive"):
        kr.NadarayaWatsonRegressor(bandwidth=-1).fit(data.x_train[:, None], data.y_train)
    with pytest.raises(ValueError, match="unknown kernel"):
        kr.NadarayaWatsonRegressor(kernel="nope").fit(data.x_train[:, None], data.y_train)


def test_regressor_gives_nan_for_empty_windows():
    model = kr.NadarayaWatsonRegressor(kernel="boxcar", bandwidth=0.1)
    model.fit([[0.0], [1.0]], [1.0, 2.0])
    prediction = model.predict([[0.05], [0.5]])
    assert prediction[0] == 1.0 and np.isnan(prediction[1])
    assert model.attend([[0.05], [0.5]]).empty_indices == [1]


def test_grid_search_with_leave_one_out_picks_the_closed_form_optimum(default_data):
    data = default_data
    grid = kr.bandwidth_grid(0.05, 2.0, 10)
    search = GridSearchCV(
        kr.NadarayaWatsonRegressor(),
        {"bandwidth": list(grid)},
        cv=LeaveOneOut(),
        scoring="neg_mean_squared_error",
    ).fit(data.x_train[:, None], data.y_train)
    curves = kr.error_curves(data.x_train, data.y_train, grid)
    assert search.best_params_["bandwidth"] == curves.best_bandwidth
    np.testing.assert_allclose(-search.best_score_, np.nanmin(curves.loo), rtol=1e-10)


def test_cross_val_score_and_grid_search_over_kernels(default_data):
    data = default_data
    X, y = data.x_train[:, None], data.y_train
    scores = cross_val_score(kr.NadarayaWatsonRegressor(bandwidth=0.3), X, y, cv=5)
    assert scores.shape == (5,) and np.isfinite(scores).all()
    search = GridSearchCV(
        kr.NadarayaWatsonRegressor(),
        {"kernel": ["gaussian", "constant"], "bandwidth": [0.2, 0.5]},
        cv=5,
    ).fit(X, y)
    assert search.best_params_["kernel"] == "gaussian"  # a constant fit ignores x entirely


# --- leave-one-out ---------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", KERNEL_NAMES)
@pytest.mark.parametrize("bandwidth", [0.05, 0.2, 1.0])
def test_closed_form_leave_one_out_equals_scikit_learns_loop(default_data, kernel, bandwidth):
    data = default_data
    X, y = data.x_train[:, None], data.y_train
    looped = np.empty_like(y)
    for train, test in LeaveOneOut().split(X):
        model = kr.NadarayaWatsonRegressor(kernel=kernel, bandwidth=bandwidth).fit(
            X[train], y[train]
        )
        looped[test] = model.predict(X[test])
    closed = kr.loo_predictions(data.x_train, y, kernel=kernel, bandwidth=bandwidth)
    np.testing.assert_allclose(closed.estimate, looped, rtol=1e-10, equal_nan=True)
    error = kr.loo_error(data.x_train, y, kernel=kernel, bandwidth=bandwidth)
    if np.isnan(looped).any():
        assert math.isnan(error)  # some left-out point had no neighbour in its window
    else:
        assert error == pytest.approx(np.mean((looped - y) ** 2), rel=1e-10)


def test_compact_kernels_do_leave_points_without_a_neighbour(default_data):
    # The largest gap between neighbouring training inputs is about 0.42 on the default data,
    # so a boxcar of width 0.05 must leave some left-out point with an empty window.
    result = kr.loo_predictions(
        default_data.x_train, default_data.y_train, kernel="boxcar", bandwidth=0.05
    )
    assert result.empty.any() and np.isnan(result.estimate[result.empty]).all()


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


def test_undefined_leave_one_out_is_skipped_by_the_optimum(default_data):
    curves = kr.error_curves(
        default_data.x_train, default_data.y_train, kr.bandwidth_grid(), kernel="boxcar"
    )
    assert np.isnan(curves.loo[0]) and not np.isnan(curves.loo[-1])
    assert not np.isnan(curves.loo[curves.best_index])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"bandwidths": []}, "non-empty vector"),
        ({"bandwidths": [0.1, -1.0]}, "bandwidth must be a positive"),
        ({"bandwidths": [0.1], "x_test": [1.0]}, "pass both x_test and y_test"),
    ],
)
def test_error_curves_check_their_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        kr.error_curves([0.0, 1.0], [1.0, 2.0], **arguments)


def test_nearest_bandwidth_is_nearest_on_a_log_scale():
    grid = [0.01, 0.1, 1.0, 10.0]
    assert kr.nearest_bandwidth(grid, 0.3) == 0.1  # log-distance 0.48 to 0.1, 0.52 to 1
    assert kr.nearest_bandwidth(grid, 0.4) == 1.0
    assert kr.nearest_bandwidth(grid, 1e-9) == 0.01 and kr.nearest_bandwidth(grid, 1e9) == 10.0
    with pytest.raises(ValueError, match="non-empty"):
        kr.nearest_bandwidth([], 1.0)


def test_bandwidth_grid_is_log_even_and_checked():
    grid = kr.bandwidth_grid(0.1, 10.0, 4)
    np.testing.assert_allclose(np.diff(np.log10(grid)), 0.25)
    with pytest.raises(ValueError, match="must be above"):
        kr.bandwidth_grid(1.0, 0.5)


# --- data and helpers -----------------------------------------------------------------------


def test_default_data_is_the_textbook_set(default_data):
    data = default_data
    assert data.x_train.shape == (50,) and data.x_query.shape == (50,)
    assert (
        (np.diff(data.x_train) >= 0).all() and data.x_train.min() >= 0 and data.x_train.max() <= 5
    )
    np.testing.assert_allclose(data.x_query, np.linspace(0, 5, 50))
    truth_train = 2 * np.sin(data.x_train) + data.x_train**0.8
    np.testing.assert_allclose(data.truth, 2 * np.sin(data.x_query) + data.x_query**0.8)
    residual = data.y_train - truth_train
    assert 0.35 < residual.std() < 0.65  # noise of standard deviation 0.5
    again = kr.make_data()
    np.testing.assert_array_equal(again.y_train, data.y_train)  # a fixed seed


def test_data_controls():
    quiet = kr.make_data(kr.DataConfig(noise=0.0, function="step"))
    np.testing.assert_array_equal(quiet.y_train, np.where(quiet.x_train < 2.5, 1.0, 3.5))
    np.testing.assert_array_equal(quiet.y_test, quiet.truth)
    small, large = kr.make_data(kr.DataConfig(n_train=10)), kr.make_data(kr.DataConfig(n_train=90))
    assert small.x_train.size == 10 and large.x_train.size == 90
    np.testing.assert_array_equal(small.y_test, large.y_test)  # test noise has its own stream
    assert small.typical_gap == pytest.approx(0.5) and large.typical_gap == pytest.approx(5 / 90)
    other = kr.make_data(kr.DataConfig(seed=1))
    assert not np.array_equal(other.x_train, kr.make_data().x_train)
    for name in kr.TRUE_FUNCTIONS:
        data = kr.make_data(kr.DataConfig(function=name, noise=0.0))
        np.testing.assert_allclose(data.true_function(data.x_train), data.y_train)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (kr.DataConfig(n_train=1), "n_train must be at least 2"),
        (kr.DataConfig(noise=-0.1), "noise must be a non-negative"),
        (kr.DataConfig(function="cubic"), "unknown function 'cubic'"),
        (kr.DataConfig(n_query=0), "n_query must be at least 1"),
    ],
)
def test_bad_data_configs(config, message):
    with pytest.raises(ValueError, match=message):
        kr.make_data(config)


def test_contributions_and_effective_neighbours():
    weights = np.array([0.1, 0.6, 0.3])
    targets = np.array([1.0, 2.0, 4.0])
    top = kr.contributions(weights, targets, top=2)
    assert [j for j, _, _ in top] == [1, 2]
    assert top[0][2] == pytest.approx(1.2)
    assert sum(part for _, _, part in kr.contributions(weights, targets)) == pytest.approx(
        weights @ targets
    )
    matrix = np.array([[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.0, 0.0]])
    neighbours = kr.effective_neighbours(matrix)
    np.testing.assert_allclose(neighbours[:2], [1.0, 4.0])
    assert np.isnan(neighbours[2])


def test_mean_squared_error_is_nan_when_an_estimate_is_undefined():
    assert math.isnan(kr.mean_squared_error([1.0, np.nan], [1.0, 2.0]))
    assert kr.mean_squared_error([1.0, 3.0], [1.0, 2.0]) == 0.5
    with pytest.raises(ValueError, match="shape"):
        kr.mean_squared_error([1.0], [1.0, 2.0])


# --- the learned bandwidth (torch) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def learned(default_data):
    calls = []
    runs = lb.learn_both(
        default_data.x_train,
        default_data.y_train,
        progress=lambda done, total: calls.append((done, total)),
    )
    return runs, calls


def test_leave_one_out_training_finds_the_closed_form_optimum(default_data, learned):
    runs, _ = learned
    fine = kr.bandwidth_grid(1e-3, 10.0, 100)
    optimum = kr.best_bandwidth(default_data.x_train, default_data.y_train, fine)
    learned_h = runs["loo"].final_bandwidth
    assert optimum / 1.5 < learned_h < optimum * 1.5
    # Its final loss is the closed-form leave-one-out error at that bandwidth.
    assert runs["loo"].final_loss == pytest.approx(
        kr.loo_error(default_data.x_train, default_data.y_train, bandwidth=learned_h), rel=1e-9
    )


def test_plain_training_loss_drives_the_bandwidth_to_zero(default_data, learned):
    runs, _ = learned
    plain = runs["train"]
    assert np.all(np.diff(plain.bandwidths) < 0)  # it only ever shrinks
    assert plain.still_moving and not runs["loo"].still_moving
    assert plain.final_bandwidth < runs["loo"].final_bandwidth / 5
    assert plain.final_loss < 0.1 * plain.losses[0]
    # Its training loss falls while its leave-one-out loss, at the same h, rises.
    assert plain.loo_losses[-1] > 1.3 * runs["loo"].final_loss
    np.testing.assert_allclose(
        plain.final_loss,
        kr.mean_squared_error(
            kr.nadaraya_watson(
                default_data.x_train,
                default_data.y_train,
                default_data.x_train,
                bandwidth=plain.final_bandwidth,
            ).estimate,
            default_data.y_train,
        ),
        rtol=1e-9,
    )


def test_progress_is_reported_for_both_runs(learned):
    _, calls = learned
    steps = kr.TrainingConfig().steps
    assert len(calls) == 2 * steps
    assert calls[0] == (1, 2 * steps) and calls[-1] == (2 * steps, 2 * steps)


def test_shipped_checkpoint_matches_a_fresh_run(learned):
    data_config, training, saved = kr.load_learning_curves()
    assert data_config == kr.DataConfig() and training == kr.TrainingConfig()
    runs, _ = learned
    for objective in kr.OBJECTIVES:
        for field in ("bandwidths", "losses", "loo_losses"):
            np.testing.assert_allclose(
                getattr(saved[objective], field), getattr(runs[objective], field), rtol=1e-8
            )


def test_learning_curves_round_trip_through_json(tmp_path, learned):
    runs, _ = learned
    path = tmp_path / "curves.json"
    config = kr.DataConfig(seed=3)
    kr.save_learning_curves(path, config, kr.TrainingConfig(steps=7), runs)
    data_config, training, loaded = kr.load_learning_curves(path)
    assert data_config == config and training.steps == 7
    np.testing.assert_array_equal(loaded["loo"].bandwidths, runs["loo"].bandwidths)
    record = json.loads(path.read_text())
    record["curves"]["loo"]["objective"] = "other"
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="unknown objective"):
        kr.load_learning_curves(path)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"objective": "test"}, "objective must be one of"),
        ({"config": kr.TrainingConfig(steps=0)}, "steps must be a positive"),
        ({"config": kr.TrainingConfig(learning_rate=-0.1)}, "learning_rate must be positive"),
        ({"config": kr.TrainingConfig(initial_bandwidth=0.0)}, "bandwidth must be a positive"),
    ],
)
def test_learning_checks_its_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        lb.learn_bandwidth([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], **arguments)


def test_learning_checks_its_data():
    with pytest.raises(ValueError, match="at least 2 training points"):
        lb.learn_bandwidth([0.0], [1.0])
    with pytest.raises(ValueError, match="x_train has 2 points but y_train has 3"):
        lb.learn_bandwidth([0.0, 1.0], [1.0, 2.0, 3.0])
