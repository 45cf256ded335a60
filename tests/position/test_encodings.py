"""The sinusoidal encoding, its frequencies, and the similarity between positions."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lab.position.compute as compute
from lab import self_attention
from lab.position import DEFAULT_BASE, MAX_D_MODEL, MAX_LENGTH

lengths = st.integers(min_value=1, max_value=MAX_LENGTH)
d_models = st.integers(min_value=1, max_value=MAX_D_MODEL)
bases = st.sampled_from([2.0, 100.0, DEFAULT_BASE, 1e6])


def reference_encoding(length: int, d_model: int, base: float) -> np.ndarray:
    """The paper's formula written entry by entry, with a power instead of exp/log."""
    encoding = np.empty((length, d_model))
    for position in range(length):
        for dimension in range(d_model):
            pair = dimension // 2
            angle = position / base ** (2 * pair / d_model)
            encoding[position, dimension] = (
                math.sin(angle) if dimension % 2 == 0 else math.cos(angle)
            )
    return encoding


@pytest.mark.parametrize(("length", "d_model"), [(1, 1), (6, 5), (12, 16), (MAX_LENGTH, 7)])
def test_shape_and_first_row(length, d_model):
    encoding = compute.sinusoidal_positions(length, d_model)
    assert encoding.shape == (length, d_model)
    assert encoding.dtype == np.float64
    # Position 0: every sine is 0 and every cosine 1.
    np.testing.assert_array_equal(encoding[0], [(dimension % 2) for dimension in range(d_model)])


@settings(max_examples=60, deadline=None)
@given(lengths, d_models, bases)
def test_values_lie_in_minus_one_to_one(length, d_model, base):
    encoding = compute.sinusoidal_positions(length, d_model, base=base)
    assert np.all(np.abs(encoding) <= 1.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), bases)
def test_matches_the_formula_entry_by_entry(length, d_model, base):
    np.testing.assert_allclose(
        compute.sinusoidal_positions(length, d_model, base=base),
        reference_encoding(length, d_model, base),
        rtol=0,
        atol=1e-12,
    )


def test_first_pair_advances_one_radian_per_position():
    encoding = compute.sinusoidal_positions(10, 4)
    positions = np.arange(10)
    np.testing.assert_allclose(encoding[:, 0], np.sin(positions), atol=1e-15)
    np.testing.assert_allclose(encoding[:, 1], np.cos(positions), atol=1e-15)


@pytest.mark.parametrize("d_model", [1, 3, 5, 17, 127])
def test_odd_width_ends_with_a_sine_without_partner(d_model):
    length = 50
    encoding = compute.sinusoidal_positions(length, d_model)
    slowest = DEFAULT_BASE ** (-(d_model - 1) / d_model)
    np.testing.assert_allclose(
        encoding[:, -1], np.sin(np.arange(length) * slowest), rtol=0, atol=1e-12
    )
    # The other columns come in (sine, cosine) pairs of one angle: sin^2 + cos^2 = 1.
    paired = encoding[:, : d_model - 1]
    np.testing.assert_allclose(paired[:, 0::2] ** 2 + paired[:, 1::2] ** 2, 1.0, rtol=0, atol=1e-15)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 16), st.integers(1, 16))
def test_equals_the_step_by_step_page_bit_for_bit(length_minus_one, d_model):
    length = length_minus_one + 1
    np.testing.assert_array_equal(
        compute.sinusoidal_positions(length, d_model),
        self_attention.sinusoidal_positions(length, d_model),
    )


@pytest.mark.parametrize(("length", "d_model"), [(MAX_LENGTH, MAX_D_MODEL), (100, 33), (3, 2)])
def test_equals_the_step_by_step_page_on_large_sizes(length, d_model):
    np.testing.assert_array_equal(
        compute.sinusoidal_positions(length, d_model, base=10000.0),
        self_attention.sinusoidal_positions(length, d_model),
    )


def test_a_different_base_changes_all_but_the_first_pair():
    slow = compute.sinusoidal_positions(20, 8, base=DEFAULT_BASE)
    fast = compute.sinusoidal_positions(20, 8, base=100.0)
    np.testing.assert_array_equal(slow[:, :2], fast[:, :2])
    assert np.max(np.abs(slow[:, 2:] - fast[:, 2:])) > 0.1


@pytest.mark.parametrize(("d_model", "pairs"), [(1, 1), (2, 1), (5, 3), (64, 32)])
def test_pair_frequencies_run_from_one_down(d_model, pairs):
    frequencies = compute.pair_frequencies(d_model, base=DEFAULT_BASE)
    assert frequencies.shape == (pairs,)
    assert frequencies[0] == 1.0
    assert np.all(np.diff(frequencies) < 0)
    np.testing.assert_allclose(
        frequencies, DEFAULT_BASE ** (-2 * np.arange(pairs) / d_model), rtol=1e-13
    )


def test_wavelengths_grow_geometrically_from_two_pi():
    lengths_per_cycle = compute.wavelengths(16, base=DEFAULT_BASE)
    assert lengths_per_cycle.shape == (8,)
    assert lengths_per_cycle[0] == pytest.approx(2 * math.pi, rel=1e-15)
    np.testing.assert_allclose(
        lengths_per_cycle[1:] / lengths_per_cycle[:-1], DEFAULT_BASE ** (2 / 16), rtol=1e-12
    )
    # A pair repeats after its wavelength: angle p w and (p + wavelength) w differ by 2 pi.
    np.testing.assert_allclose(
        lengths_per_cycle * compute.pair_frequencies(16), 2 * math.pi, rtol=1e-15
    )


def test_wavelengths_follow_the_base():
    # d = 4, base 100: w = (1, 100^(-1/2)) = (1, 0.1), so the pairs repeat every 2 pi and 20 pi.
    np.testing.assert_allclose(
        compute.wavelengths(4, base=100.0), [2 * math.pi, 20 * math.pi], rtol=1e-15
    )


def test_similarity_is_the_gram_matrix_of_the_encoding():
    encoding = compute.sinusoidal_positions(12, 6)
    similarity = compute.position_similarity(12, 6)
    assert similarity.shape == (12, 12)
    np.testing.assert_allclose(similarity, encoding @ encoding.T, rtol=0, atol=1e-15)
    np.testing.assert_allclose(similarity, similarity.T, rtol=0, atol=0)
    # An even width: every position has squared norm d / 2 (sin^2 + cos^2 = 1 per pair).
    np.testing.assert_allclose(np.diag(similarity), 3.0, rtol=0, atol=1e-13)


@settings(max_examples=50, deadline=None)
@given(lengths, st.integers(1, MAX_D_MODEL // 2), bases)
def test_similarity_depends_on_the_offset_only_for_even_width(length, pairs, base):
    d_model = 2 * pairs
    profile = compute.similarity_by_offset(length, d_model, base=base)
    assert profile.offsets.shape == (2 * length - 1,)
    assert profile.max_spread <= 1e-12 * d_model
    # The closed form: sum over the pairs of cos(offset * w_i).
    frequencies = base ** (-2 * np.arange(pairs) / d_model)
    closed_form = np.cos(np.outer(profile.offsets, frequencies)).sum(axis=1)
    np.testing.assert_allclose(profile.values, closed_form, rtol=0, atol=1e-10 * d_model)
    # cos is even, so offset k and -k look the same.
    np.testing.assert_allclose(profile.values, profile.values[::-1], rtol=0, atol=1e-12 * d_model)


@settings(max_examples=50, deadline=None)
@given(st.integers(2, MAX_LENGTH), st.integers(0, (MAX_D_MODEL - 1) // 2))
def test_an_odd_width_breaks_the_offset_rule(length, pairs):
    d_model = 2 * pairs + 1
    profile = compute.similarity_by_offset(length, d_model)
    # On the offset-0 diagonal, |P[1]|^2 - |P[0]|^2 is sin^2 of the lone column's frequency.
    lone = DEFAULT_BASE ** (-(d_model - 1) / d_model)
    assert profile.max_spread >= math.sin(lone) ** 2 - 1e-12 * d_model
    assert profile.max_spread > 1e-9


def test_diagonal_profile_reads_row_minus_column():
    matrix = np.arange(9.0).reshape(3, 3)  # entry [m, n] = 3 m + n
    profile = compute.diagonal_profile(matrix)
    np.testing.assert_array_equal(profile.offsets, [-2, -1, 0, 1, 2])
    np.testing.assert_array_equal(profile.values, [2.0, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_array_equal(profile.spread, [0.0, 4.0, 8.0, 4.0, 0.0])
    assert profile.max_spread == 8.0
    assert profile.value_at(-1) == 3.0
    assert profile.value_at(2) == 6.0


def test_diagonal_profile_of_a_function_of_the_offset_has_no_spread():
    offsets = np.subtract.outer(np.arange(6), np.arange(6))  # [m, n] = m - n
    profile = compute.diagonal_profile(np.exp(0.3 * offsets))
    assert profile.max_spread == 0.0
    np.testing.assert_allclose(profile.values, np.exp(0.3 * np.arange(-5, 6)), rtol=1e-15)


def test_diagonal_profile_leaves_its_input_alone():
    matrix = np.arange(16.0).reshape(4, 4)
    before = matrix.copy()
    compute.diagonal_profile(matrix)
    np.testing.assert_array_equal(matrix, before)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: compute.sinusoidal_positions(0, 4), "length must be at least 1, got 0"),
        (lambda: compute.sinusoidal_positions(-3, 4), "length must be at least 1, got -3"),
        (lambda: compute.sinusoidal_positions(129, 4), "length must be at most 128, got 129"),
        (lambda: compute.sinusoidal_positions(2.5, 4), "length must be a whole number, got 2.5"),
        (
            lambda: compute.sinusoidal_positions(True, 4),
            "length must be a whole number, got True",
        ),
        (lambda: compute.sinusoidal_positions("8", 4), "length must be a whole number, got '8'"),
        (lambda: compute.sinusoidal_positions(4, 0), "d_model must be at least 1, got 0"),
        (lambda: compute.sinusoidal_positions(4, 129), "d_model must be at most 128, got 129"),
        (lambda: compute.sinusoidal_positions(4, 4.0), "d_model must be a whole number, got 4.0"),
        (lambda: compute.sinusoidal_positions(4, 4, base=0), "base must be positive, got 0"),
        (
            lambda: compute.sinusoidal_positions(4, 4, base=-2.0),
            "base must be positive, got -2.0",
        ),
        (
            lambda: compute.sinusoidal_positions(4, 4, base=float("nan")),
            "base must be a finite number, got nan",
        ),
        (lambda: compute.pair_frequencies(0), "size must be at least 1, got 0"),
        (lambda: compute.wavelengths(0), "d_model must be at least 1, got 0"),
        (lambda: compute.wavelengths(129), "d_model must be at most 128, got 129"),
        (lambda: compute.position_similarity(0, 4), "length must be at least 1, got 0"),
        (lambda: compute.similarity_by_offset(4, 0), "d_model must be at least 1, got 0"),
        (
            lambda: compute.diagonal_profile(np.ones((2, 3))),
            "matrix must be square with at least one row, got shape (2, 3); "
            "diagonals are read on an (L, L) grid",
        ),
        (
            lambda: compute.diagonal_profile(np.ones((0, 0))),
            "matrix must be square with at least one row, got shape (0, 0); "
            "diagonals are read on an (L, L) grid",
        ),
        (
            lambda: compute.diagonal_profile([[1.0, np.nan], [0.0, 1.0]]),
            "matrix contains NaN or infinity; every entry must be a finite number",
        ),
        (lambda: compute.diagonal_profile(np.ones(3)), "matrix must have 2 axes, got shape (3,)"),
        (
            lambda: compute.diagonal_profile(np.eye(3)).value_at(3),
            "offset must be at most 2, got 3",
        ),
        (
            lambda: compute.diagonal_profile(np.eye(3)).value_at(-3),
            "offset must be at least -2, got -3",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()
