"""lab.checks: the one place inputs are coerced, with messages that say what to fix."""

from __future__ import annotations

import numpy as np
import pytest

from lab.checks import (
    as_bool,
    as_matrix,
    as_real,
    check_float,
    check_int,
    check_parameter_shapes,
)
from tests.refusals import refuses


def test_as_real_keeps_float_precision_and_converts_integers():
    half = np.ones(3, dtype=np.float16)
    assert as_real("x", half).dtype == np.float16
    assert as_real("x", half) is half  # no copy when nothing changes
    assert as_real("x", [1, 2]).dtype == np.float64
    assert as_real("x", half, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize(
    ("values", "options", "message"),
    [
        ([True, False], {}, "x must hold real numbers, got dtype bool"),
        (["a"], {}, "x must hold real numbers, got dtype <U1"),
        ([1j], {}, "x must be real, got dtype complex128"),
        ([1.0], {"ndim": 2}, "x must have 2 axes, got shape (1,)"),
        (1.0, {"min_ndim": 1}, "x needs at least 1 axes, got shape ()"),
        (
            [1.0, np.nan],
            {"finite": True},
            "x contains NaN or infinity; every entry must be a finite number",
        ),
        (
            [-np.inf],
            {"finite": True},
            "x contains NaN or infinity; every entry must be a finite number",
        ),
    ],
)
def test_as_real_refuses_with_a_message(values, options, message):
    with refuses(message):
        as_real("x", values, **options)


def test_as_real_lets_infinities_through_unless_asked():
    assert np.isneginf(as_real("x", [-np.inf])[0])


def test_as_matrix():
    assert as_matrix("m", [[1, 2]]).dtype == np.float64
    with pytest.raises(ValueError, match=r"^m must have 2 axes, got shape \(2,\)$"):
        as_matrix("m", [1, 2])
    with pytest.raises(ValueError, match=r"^m contains NaN or infinity"):
        as_matrix("m", [[np.inf]])


def test_as_bool_refuses_numbers():
    assert as_bool("mask", [True]).dtype == np.bool_
    with pytest.raises(ValueError, match=r"^mask must be boolean \(True/False\), got dtype int64$"):
        as_bool("mask", np.array([1, 0]))


@pytest.mark.parametrize(
    ("check", "value", "options", "message"),
    [
        (check_int, True, {}, "x must be a whole number, got True"),
        (check_int, 2.0, {}, "x must be a whole number, got 2.0"),
        (check_int, "3", {}, "x must be a whole number, got '3'"),
        (check_int, 0, {"minimum": 1}, "x must be at least 1, got 0"),
        (check_int, 9, {"maximum": 8}, "x must be at most 8, got 9"),
        (check_float, False, {}, "x must be a number, got False"),
        (check_float, "x", {}, "x must be a number, got 'x'"),
        (check_float, None, {}, "x must be a number, got None"),
        (check_float, float("nan"), {}, "x must be a finite number, got nan"),
        (check_float, 0.0, {"positive": True}, "x must be positive, got 0.0"),
        (check_float, -1, {"minimum": 0}, "x must be at least 0, got -1"),
        (check_float, 2, {"maximum": 1}, "x must be at most 1, got 2"),
    ],
)
def test_check_int_and_check_float_refuse_with_a_message(check, value, options, message):
    with refuses(message):
        check("x", value, **options)


def test_check_int_accepts_numpy_integers():
    assert check_int("n", np.int64(3), minimum=3, maximum=3) == 3
    assert type(check_int("n", np.int32(3))) is int


def test_check_float_returns_a_float():
    assert check_float("t", 3, positive=True, minimum=3, maximum=3) == 3.0
    assert check_float("t", "0.5") == 0.5


def test_as_real_copies_only_when_it_converts():
    values = np.array([1.5, -2.0])
    assert as_real("x", values, dtype=np.float64) is values  # already float64: no copy
    narrowed = as_real("x", values, dtype=np.float32)
    assert narrowed.dtype == np.float32 and narrowed is not values
    np.testing.assert_array_equal(narrowed, [1.5, -2.0])


def test_as_real_takes_a_scalar_and_the_least_number_of_axes_itself():
    scalar = as_real("x", 2.5)
    assert scalar.shape == () and scalar == 2.5
    assert as_real("x", [1.0], min_ndim=1).shape == (1,)  # exactly min_ndim axes is enough


def test_as_matrix_is_float64_whatever_comes_in():
    narrow = np.array([[0.1, 0.2]], dtype=np.float32)
    matrix = as_matrix("m", narrow)
    assert matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix, narrow.astype(np.float64))


def test_positive_means_above_zero_not_above_one():
    assert check_float("t", 0.5, positive=True) == 0.5
    assert check_float("t", 1e-300, positive=True) == 1e-300


# ----------------------------------------------------------------------------- parameter shapes


def test_parameter_shapes_that_fit_pass():
    expected = {"w": (2, 3), "b": (3,)}
    assert check_parameter_shapes({"b": np.zeros(3), "w": [[0, 0, 0], [1, 1, 1]]}, expected) is None


def test_parameter_names_missing_and_unexpected_are_listed_sorted():
    expected = {"w": (2,), "b": (2,), "a": (1,)}
    with refuses("weights do not fit the config: missing ['a', 'b'], unexpected ['x', 'y']"):
        check_parameter_shapes({"w": np.zeros(2), "y": 1, "x": 2}, expected)
    with refuses("weights do not fit the config: missing [], unexpected ['x']"):
        check_parameter_shapes({"w": np.zeros(2), "b": np.zeros(2), "a": [0], "x": 0}, expected)


def test_a_parameter_in_the_wrong_shape_is_named_with_both_shapes():
    with refuses("b has shape (2, 1), expected (2,)"):
        check_parameter_shapes(
            {"w": np.zeros((2, 3)), "b": np.zeros((2, 1))}, {"w": (2, 3), "b": (2,)}
        )
