"""The toy data of the kernel-regression page (lab.kernel_regression.data)."""

from __future__ import annotations

import numpy as np
import pytest

from lab import kernel_regression as kr
from tests.kernel_regression.util import exactly


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


@pytest.mark.parametrize("noise", [0.0, 0.5, 1.3])
def test_the_noise_is_sigma_times_a_standard_normal_draw(noise):
    config = kr.DataConfig(noise=noise, seed=11, n_train=30)
    data = kr.make_data(config)
    rng = np.random.default_rng(11)
    inputs = rng.uniform(0.0, 5.0, 30)  # drawn first, then sorted
    draws = rng.standard_normal(30)
    np.testing.assert_array_equal(data.x_train, np.sort(inputs))
    np.testing.assert_allclose(data.y_train - data.true_function(data.x_train), noise * draws)
    test_draws = np.random.default_rng([11, 1]).standard_normal(50)
    np.testing.assert_allclose(data.y_test - data.truth, noise * test_draws)


def test_range_and_query_count_follow_the_config():
    data = kr.make_data(kr.DataConfig(x_max=2.0, n_query=7, n_train=200, seed=3))
    assert data.x_query.shape == (7,) and data.truth.shape == (7,) and data.y_test.shape == (7,)
    np.testing.assert_allclose(data.x_query, np.linspace(0.0, 2.0, 7))
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 2.0
    assert data.x_train.max() > 1.9  # 200 draws spread over the whole range, not [0, 5]
    assert data.typical_gap == pytest.approx(2.0 / 200)


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
    for function in kr.TrueFunction:
        data = kr.make_data(kr.DataConfig(function=function, noise=0.0))
        np.testing.assert_allclose(data.true_function(data.x_train), data.y_train)


def test_true_functions_are_a_closed_set_with_their_formulas():
    x = np.array([0.0, 1.0, 2.4, 2.5, 4.0])
    np.testing.assert_allclose(kr.TrueFunction.TEXTBOOK(x), 2 * np.sin(x) + x**0.8)
    np.testing.assert_array_equal(kr.TrueFunction.STEP(x), [1.0, 1.0, 1.0, 3.5, 3.5])
    np.testing.assert_allclose(kr.TrueFunction.CHIRP(x), 2 * np.sin(x * x / 2))
    np.testing.assert_allclose(kr.TrueFunction.LINE(x), 0.8 * x)
    assert [f.value for f in kr.TrueFunction] == ["textbook", "step", "chirp", "line"]
    assert kr.TrueFunction.TEXTBOOK.label == "2 sin x + x⁰·⁸ (textbook)"
    assert "^" not in "".join(f.label for f in kr.TrueFunction)  # no raw caret on the page
    assert kr.TrueFunction.STEP.formula == r"1 + 2.5\,\mathbb{1}[x \ge 2.5]"


def test_a_config_holds_one_type_so_equal_configs_hash_equal():
    by_name, by_member = (
        kr.DataConfig(function="step"),
        kr.DataConfig(function=kr.TrueFunction.STEP),
    )
    assert by_name == by_member and hash(by_name) == hash(by_member)
    assert by_name.function is kr.TrueFunction.STEP


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (dict(n_train=1), "n_train must be at least 2, got 1"),
        (dict(noise=-0.1), "noise must be at least 0.0, got -0.1"),
        (dict(noise=float("nan")), "noise must be a finite number, got nan"),
        (dict(n_query=0), "n_query must be at least 1, got 0"),
        (dict(x_max=0.0), "x_max must be positive, got 0.0"),
        (dict(n_train=2.5), "n_train must be a whole number, got 2.5"),
    ],
)
def test_bad_data_configs(config, message):
    with exactly(message):
        kr.make_data(kr.DataConfig(**config))


def test_an_unknown_function_is_refused_when_the_config_is_made():
    with exactly("unknown function 'cubic'; choose one of textbook, step, chirp, line"):
        kr.DataConfig(function="cubic")


def test_true_functions_are_evaluated_in_float64_whatever_the_input():
    narrow = np.array([0.3, 1.7, 2.5, 4.1], dtype=np.float32)
    wide = narrow.astype(np.float64)  # the same numbers, exactly
    np.testing.assert_array_equal(kr.TrueFunction.LINE(narrow), 0.8 * wide)
    np.testing.assert_array_equal(kr.TrueFunction.CHIRP(narrow), 2.0 * np.sin(wide * wide / 2.0))
    for function in kr.TrueFunction:
        assert function(narrow).dtype == np.float64
    np.testing.assert_array_equal(kr.TrueFunction.STEP([2, 3]), [1.0, 3.5])  # whole numbers too
