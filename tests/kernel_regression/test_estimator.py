"""Nadaraya–Watson as a scikit-learn estimator (lab.kernel_regression.estimator)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, LeaveOneOut, cross_val_score
from sklearn.utils.estimator_checks import check_estimator

from lab import kernel_regression as kr
from tests.kernel_regression.util import exactly


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


def test_the_regressor_is_part_of_the_package_api():
    from lab.kernel_regression import NadarayaWatsonRegressor, nadaraya_watson
    from lab.kernel_regression.estimator import NadarayaWatsonRegressor as direct

    assert NadarayaWatsonRegressor is direct is kr.NadarayaWatsonRegressor
    assert nadaraya_watson is kr.compute.nadaraya_watson
    with pytest.raises(AttributeError, match="has no attribute 'Regressor'"):
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
    boxcar = kr.NadarayaWatsonRegressor(kernel=kr.Kernel.BOXCAR, bandwidth=0.3)
    boxcar.fit(data.x_train[:, None], data.y_train)
    np.testing.assert_allclose(
        boxcar.predict(data.x_query[:, None]),
        kr.nadaraya_watson(
            data.x_train, data.y_train, data.x_query, kernel="boxcar", bandwidth=0.3
        ).estimate,
        rtol=1e-12,
        equal_nan=True,
    )


def test_regressor_checks_its_settings_and_state(default_data):
    data = default_data
    with pytest.raises(NotFittedError):
        kr.NadarayaWatsonRegressor().predict(data.x_query[:, None])
    with exactly("bandwidth must be positive, got -1"):
        kr.NadarayaWatsonRegressor(bandwidth=-1).fit(data.x_train[:, None], data.y_train)
    with exactly(
        "unknown kernel 'nope'; choose one of gaussian, boxcar, epanechnikov, triangular, constant"
    ):
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


@pytest.mark.parametrize("kernel", list(kr.Kernel))
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
    curves = kr.error_curves(data.x_train, y, [bandwidth], kernel=kernel)
    np.testing.assert_allclose(curves.loo[0], error, rtol=1e-10, equal_nan=True)


def test_fit_stores_float_inputs_and_numeric_targets():
    """Integer inputs become float64, as do targets in an object array (a mixed pandas column)."""
    model = kr.NadarayaWatsonRegressor().fit([[0], [2]], np.array([1, 2.5], dtype=object))
    assert model.X_fit_.dtype == np.float64 and model.y_fit_.dtype == np.float64
    np.testing.assert_array_equal(model.X_fit_, [[0.0], [2.0]])
    np.testing.assert_array_equal(model.y_fit_, [1.0, 2.5])


def test_predict_reads_inputs_the_way_fit_does():
    """Numbers written as text (a CSV column read as strings) are read as numbers by both."""
    model = kr.NadarayaWatsonRegressor(kernel="boxcar", bandwidth=1.0)
    model.fit([["0"], ["1"]], [1.0, 2.0])
    np.testing.assert_array_equal(model.predict([["0.5"]]), [1.5])
    np.testing.assert_array_equal(model.predict([["0.5"]]), model.predict([[0.5]]))
