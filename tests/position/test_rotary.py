"""Rotary position embedding: rotations, the relative-position property, two references."""

from __future__ import annotations

import re

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.position import (
    DEFAULT_BASE,
    MAX_D_MODEL,
    random_query_key,
    rotary,
    rotary_score_grid,
)

bases = st.sampled_from([2.0, 100.0, DEFAULT_BASE, 1e6])
finite = st.floats(min_value=-10.0, max_value=10.0, allow_nan=False, allow_infinity=False)


@st.composite
def rows_and_positions(draw, min_size=1):
    """Queries or keys ``(B, L, E)`` and one position per row."""
    batch = draw(st.integers(1, 3))
    length = draw(st.integers(1, 6))
    size = draw(st.integers(min_size, 12))
    x = draw(hnp.arrays(np.float64, (batch, length, size), elements=finite))
    positions = draw(
        st.lists(st.integers(-200, 200), min_size=length, max_size=length).map(np.array)
    )
    return x, positions


def complex_reference(x: np.ndarray, positions: np.ndarray, base: float) -> np.ndarray:
    """Interleaved pairs as complex numbers x_2i + j x_(2i+1), multiplied by e^(j p theta_i)."""
    size = x.shape[-1]
    pairs = size // 2
    theta = base ** (-2.0 * np.arange(pairs) / size)
    turned = (x[..., 0 : 2 * pairs : 2] + 1j * x[..., 1 : 2 * pairs : 2]) * np.exp(
        1j * np.outer(positions, theta)
    )
    expected = x.copy()
    expected[..., 0 : 2 * pairs : 2] = turned.real
    expected[..., 1 : 2 * pairs : 2] = turned.imag
    return expected


def rotate_half_reference(x: np.ndarray, positions: np.ndarray, base: float) -> np.ndarray:
    """The GPT-NeoX / Hugging Face convention, in torch: dimension i pairs with i + E/2."""
    values = torch.tensor(x, dtype=torch.float64)
    size = values.shape[-1]
    inverse_frequency = 1.0 / base ** (torch.arange(0, size, 2, dtype=torch.float64) / size)
    angles = torch.outer(torch.tensor(positions, dtype=torch.float64), inverse_frequency)
    angles = torch.cat((angles, angles), dim=-1)  # (L, E)
    first, second = values[..., : size // 2], values[..., size // 2 :]
    rotated_half = torch.cat((-second, first), dim=-1)
    return (values * angles.cos() + rotated_half * angles.sin()).numpy()


def evens_first(size: int) -> np.ndarray:
    return np.concatenate([np.arange(0, size, 2), np.arange(1, size, 2)])


def test_shape_dtype_and_no_change_to_the_input():
    x = np.arange(2 * 3 * 5 * 6, dtype=np.float32).reshape(2, 3, 5, 6)
    before = x.copy()
    rotated = rotary(x, np.arange(5))
    assert rotated.shape == (2, 3, 5, 6)
    assert rotated.dtype == np.float64
    np.testing.assert_array_equal(x, before)


def test_position_zero_is_no_rotation():
    x = np.random.default_rng(0).standard_normal((4, 7))
    np.testing.assert_array_equal(rotary(x, np.zeros(4)), x)


def test_first_pair_turns_by_the_position_in_radians():
    x = np.zeros((1, 4))
    x[0, 0] = 1.0  # the unit vector along dimension 0
    rotated = rotary(x, [np.pi / 2])
    np.testing.assert_allclose(rotated, [[0.0, 1.0, 0.0, 0.0]], atol=1e-15)


@settings(max_examples=80, deadline=None)
@given(rows_and_positions(), bases)
def test_matches_complex_multiplication(case, base):
    x, positions = case
    np.testing.assert_allclose(
        rotary(x, positions, base=base), complex_reference(x, positions, base), rtol=0, atol=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 8), st.integers(0, 1000), bases)
def test_is_the_rotate_half_convention_with_the_features_reordered(length, pairs, seed, base):
    size = 2 * pairs
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((length, size))
    positions = rng.integers(0, 100, size=length)
    order = evens_first(size)
    np.testing.assert_allclose(
        rotary(x, positions, base=base)[..., order],
        rotate_half_reference(x[..., order], positions, base),
        rtol=0,
        atol=1e-12,
    )
    # Without the reordering the two conventions disagree (as soon as there are 2 pairs).
    if pairs >= 2 and np.any(positions != 0):
        assert not np.allclose(
            rotary(x, positions, base=base), rotate_half_reference(x, positions, base)
        )


@settings(max_examples=80, deadline=None)
@given(rows_and_positions(), bases)
def test_preserves_every_norm(case, base):
    x, positions = case
    rotated = rotary(x, positions, base=base)
    np.testing.assert_allclose(
        np.linalg.norm(rotated, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("size", [1, 3, 9])
def test_odd_size_passes_the_last_dimension_through(size):
    x = np.random.default_rng(size).standard_normal((5, size))
    rotated = rotary(x, np.arange(5) * 7)
    np.testing.assert_array_equal(rotated[:, -1], x[:, -1])
    if size == 1:
        np.testing.assert_array_equal(rotated, x)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 16),
    st.integers(0, 1000),
    st.integers(-100, 100),
    st.integers(-100, 100),
    st.integers(-100, 100),
    bases,
)
def test_the_score_depends_on_the_offset_only(size, seed, m, n, shift, base):
    query, key = random_query_key(size, seed=seed)
    score = rotary(query[None], [m], base=base)[0] @ rotary(key[None], [n], base=base)[0]
    shifted = (
        rotary(query[None], [m + shift], base=base)[0]
        @ rotary(key[None], [n + shift], base=base)[0]
    )
    scale = np.linalg.norm(query) * np.linalg.norm(key)
    assert abs(score - shifted) <= 1e-12 * scale
    # And it equals q . R(n - m) k: only the query is moved back to position 0.
    relative = query @ rotary(key[None], [n - m], base=base)[0]
    assert abs(score - relative) <= 1e-12 * scale


@settings(max_examples=40, deadline=None)
@given(st.integers(1, MAX_D_MODEL), st.integers(1, 64), st.integers(0, 1000), bases)
def test_score_grid_is_constant_along_its_diagonals(size, length, seed, base):
    query, key = random_query_key(size, seed=seed)
    grid = rotary_score_grid(query, key, length, base=base)
    assert grid.scores.shape == (length, length)
    assert grid.rotated_queries.shape == grid.rotated_keys.shape == (length, size)
    scale = np.linalg.norm(query) * np.linalg.norm(key)
    assert grid.by_offset.max_spread <= 1e-12 * scale
    np.testing.assert_allclose(
        np.diag(grid.scores), grid.unrotated_score, rtol=0, atol=1e-12 * scale
    )
    assert grid.by_offset.value_at(0) == pytest.approx(grid.unrotated_score, abs=1e-12 * scale)


def test_score_grid_entries_are_the_rotated_dot_products():
    query, key = random_query_key(6, seed=3)
    grid = rotary_score_grid(query, key, 8)
    for m in range(8):
        for n in range(8):
            expected = rotary(query[None], [m])[0] @ rotary(key[None], [n])[0]
            assert grid.scores[m, n] == pytest.approx(expected, abs=1e-13)
    np.testing.assert_array_equal(grid.positions, np.arange(8))
    np.testing.assert_array_equal(grid.query, query)
    np.testing.assert_array_equal(grid.key, key)


def test_score_grid_is_not_constant_across_diagonals():
    # The diagonal test above would pass for a constant grid too; this one would not.
    query, key = random_query_key(8, seed=0)
    grid = rotary_score_grid(query, key, 16)
    assert np.ptp(grid.by_offset.values) > 0.1


def test_random_query_key_is_the_seeded_normal_draw():
    query, key = random_query_key(5)  # seed 0 by default
    expected = np.random.default_rng(0).standard_normal((2, 5))
    np.testing.assert_array_equal(query, expected[0])
    np.testing.assert_array_equal(key, expected[1])


def test_score_grid_works_in_float64_whatever_the_input_precision():
    query, key = random_query_key(6, seed=2)
    grid = rotary_score_grid(query.astype(np.float32), key.astype(np.float32), 5)
    query64, key64 = (
        query.astype(np.float32).astype(np.float64),
        key.astype(np.float32).astype(np.float64),
    )
    assert grid.query.dtype == grid.key.dtype == np.float64
    assert grid.unrotated_score == float(query64 @ key64)
    reference = rotary_score_grid(query64, key64, 5)
    np.testing.assert_array_equal(grid.scores, reference.scores)


def test_random_query_key_repeats_with_its_seed():
    first = random_query_key(5, seed=7)
    again = random_query_key(5, seed=7)
    other = random_query_key(5, seed=8)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.allclose(first[0], other[0])
    assert not np.allclose(first[0], first[1])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: rotary([[1.0, np.nan]], [0]),
            "x contains NaN or infinity; every entry must be a finite number",
        ),
        (lambda: rotary([1.0, 2.0], [0]), "x needs at least 2 axes, got shape (2,)"),
        (lambda: rotary([["a", "b"]], [0]), "x must hold real numbers, got dtype <U1"),
        (
            lambda: rotary(np.ones((3, 4)), [0, 1]),
            "positions has 2 entries but x has 3 rows in its second-to-last axis (..., L, E); "
            "give one position per row",
        ),
        (
            lambda: rotary(np.ones((3, 4)), [[0, 1, 2]]),
            "positions must have 1 axes, got shape (1, 3)",
        ),
        (
            lambda: rotary(np.ones((2, 4)), [0, np.inf]),
            "positions contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: rotary(np.ones((2, 0)), [0, 1]),
            "x has size 0 in its last axis; rotary needs at least one feature (E)",
        ),
        (lambda: rotary(np.ones((2, 4)), [0, 1], base=0.0), "base must be positive, got 0.0"),
        (
            lambda: rotary_score_grid(np.ones(4), np.ones(5), 3),
            "query has size 4 but key has 5; a dot product needs them the same size E",
        ),
        (lambda: rotary_score_grid(np.ones(4), np.ones(4), 0), "length must be at least 1, got 0"),
        (
            lambda: rotary_score_grid(np.ones(4), np.ones(4), 129),
            "length must be at most 128, got 129",
        ),
        (
            lambda: rotary_score_grid(np.ones(129), np.ones(129), 4),
            "query size must be at most 128, got 129",
        ),
        (
            lambda: rotary_score_grid(np.ones(0), np.ones(0), 4),
            "query size must be at least 1, got 0",
        ),
        (
            lambda: rotary_score_grid(np.ones((1, 4)), np.ones(4), 4),
            "query must have 1 axes, got shape (1, 4)",
        ),
        (
            lambda: rotary_score_grid([np.nan, 1.0], np.ones(2), 3),
            "query contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: rotary_score_grid(np.ones(2), [1.0, np.inf], 3),
            "key contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: rotary_score_grid(np.ones(2), ["a", "b"], 3),
            "key must hold real numbers, got dtype <U1",
        ),
        (
            lambda: rotary_score_grid(np.ones(4), np.ones((1, 4)), 4),
            "key must have 1 axes, got shape (1, 4)",
        ),
        (lambda: random_query_key(0), "size must be at least 1, got 0"),
        (lambda: random_query_key(129), "size must be at most 128, got 129"),
        (lambda: random_query_key(4, seed=-1), "seed must be at least 0, got -1"),
    ],
)
def test_bad_input_is_refused_with_a_message(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()
