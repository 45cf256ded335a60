"""lab.soft_vs_hard.compute and .scene (numpy) against torch and scipy, and their invariants."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull

from lab.soft_vs_hard import compute as sh
from lab.soft_vs_hard import scene as scenes
from tests.refusals import refuses

# torch's own float32 tolerances (torch.testing.assert_close defaults).
ATOL, RTOL = 1e-5, 1.3e-6
# A frequency from N draws lies within Z standard errors sqrt(p(1-p)/N) of p except
# with probability about 7e-6 per item (normal tail beyond 4.5): checks built on it
# fail only if the sampler is wrong, not by bad luck.
Z = 4.5

finite_scores = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
    elements=st.floats(-50, 50, allow_nan=False),
)


@pytest.fixture
def rng():
    return np.random.default_rng(2024)


# ---------------------------------------------------------------------------
# Soft and hard weights
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.05, 1.0, 7.0])
def test_soft_weights_match_torch_softmax(rng, temperature):
    scores = rng.standard_normal((3, 5)) * 4
    expected = torch.softmax(torch.tensor(scores) / temperature, dim=-1).numpy()
    np.testing.assert_allclose(sh.soft_weights(scores, temperature), expected, atol=ATOL, rtol=RTOL)


def test_temperature_moves_soft_between_hard_and_uniform():
    scores = np.array([1.0, 3.0, 2.0, -1.0])
    np.testing.assert_allclose(sh.soft_weights(scores, 1e-3), sh.hard_weights(scores), atol=1e-12)
    np.testing.assert_allclose(sh.soft_weights(scores, 1e6), np.full(4, 0.25), atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(finite_scores)
def test_hard_weights_are_one_hot_on_torch_argmax(scores):
    weights = sh.hard_weights(scores)
    assert weights.shape == scores.shape
    assert set(np.unique(weights)) <= {0.0, 1.0}
    np.testing.assert_array_equal(weights.sum(axis=-1), 1.0)
    # Same choice as torch, ties included (both take the first maximum).
    winners = torch.argmax(torch.tensor(scores), dim=-1).numpy()
    np.testing.assert_array_equal(np.argmax(weights, axis=-1), winners)


@settings(max_examples=60, deadline=None)
@given(finite_scores, st.floats(0.01, 100))
def test_soft_weights_are_a_distribution(scores, temperature):
    weights = sh.soft_weights(scores, temperature)
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-12)


def test_ties_and_masked_rows_in_hard_weights():
    np.testing.assert_array_equal(sh.hard_weights([2.0, 5.0, 5.0]), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(sh.hard_weights([-np.inf, -np.inf]), [0.0, 0.0])
    np.testing.assert_array_equal(sh.hard_weights([-np.inf, 0.3]), [0.0, 1.0])


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([1.0, np.nan], "NaN"),
        ([1.0, np.inf], r"\+inf"),
        ([], "at least one item"),
        (np.float64(3.0), "at least one item"),
        (["a", "b"], "numbers"),
    ],
)
def test_bad_scores_are_refused_with_a_reason(scores, message):
    with pytest.raises(ValueError, match=message):
        sh.hard_weights(scores)


@pytest.mark.parametrize("temperature", [0.0, -1.0, math.inf, math.nan, "warm"])
def test_bad_temperature(temperature):
    with pytest.raises(ValueError, match="temperature"):
        sh.soft_weights([1.0, 2.0], temperature)


def test_scores_are_scaled_dot_products():
    keys = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]])
    query = np.array([2.0, 3.0])
    expected = np.array([2.0, 6.0, 1.0]) / math.sqrt(2)
    np.testing.assert_allclose(sh.dot_product_scores(query, keys), expected)
    with pytest.raises(ValueError, match="size 3 but keys have size 2"):
        sh.dot_product_scores([1.0, 2.0, 3.0], keys)


# ---------------------------------------------------------------------------
# Sampling: frequencies approach the soft weights
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_draws", [100, 2_000, 50_000])
def test_sample_frequencies_converge_to_softmax(n_draws):
    scores = np.array([2.0, 1.0, 0.0, -0.5, 1.5])
    p = sh.soft_weights(scores, 0.8)
    for seed in range(3):
        frequencies = sh.sample_frequencies(scores, n_draws, 0.8, seed)
        tolerance = Z * np.sqrt(p * (1 - p) / n_draws)
        assert np.all(np.abs(frequencies - p) <= tolerance), (frequencies, p, tolerance)
    # The tolerance is no formality: at 50 000 draws it is about one percentage point.
    assert np.all(Z * np.sqrt(p * (1 - p) / 50_000) < 0.011)


def test_gumbel_max_trick_samples_from_the_softmax():
    logits = np.array([0.5, -1.0, 2.0, 0.0])
    p = sh.soft_weights(logits)
    n_draws = 40_000
    indices = sh.gumbel_argmax_indices(logits, n_draws, seed=7)
    frequencies = np.bincount(indices, minlength=4) / n_draws
    assert np.all(np.abs(frequencies - p) <= Z * np.sqrt(p * (1 - p) / n_draws))


def test_frequency_band_covers_about_95_percent():
    """With z = 2 the band is a ~95 % interval: check its coverage over many seeds."""
    scores = np.log([0.1, 0.2, 0.3, 0.4])  # softmax gives exactly these
    p = sh.soft_weights(scores)
    n_draws = 400
    band = sh.frequency_band(p, n_draws)
    np.testing.assert_allclose(band, 2 * np.sqrt(p * (1 - p) / n_draws))
    inside = [
        np.abs(sh.sample_frequencies(scores, n_draws, 1.0, seed) - p) <= band for seed in range(300)
    ]
    coverage = float(np.mean(inside))
    # 1200 checks; a 95 % interval should cover 0.93 to 0.97 of them.
    assert 0.92 <= coverage <= 0.98, coverage


def test_sampled_weights_are_one_hot_rows_whose_mean_is_the_frequencies():
    scores = [0.0, 1.0, 2.0]
    rows = sh.sampled_weights(scores, 50, seed=3)
    assert rows.shape == (50, 3)
    np.testing.assert_array_equal(rows.sum(axis=1), 1.0)
    np.testing.assert_allclose(rows.mean(axis=0), sh.sample_frequencies(scores, 50, seed=3))


def test_sampling_is_reproducible_for_a_seed():
    scores = [0.3, 0.1, 0.9, -0.2]
    first = sh.sample_indices(scores, 200, seed=11)
    np.testing.assert_array_equal(first, sh.sample_indices(scores, 200, seed=11))
    assert not np.array_equal(first, sh.sample_indices(scores, 200, seed=12))


def test_sampling_refuses_bad_input():
    with pytest.raises(ValueError, match="n_draws"):
        sh.sample_frequencies([1.0, 2.0], 0)
    with pytest.raises(ValueError, match="no item to sample"):
        sh.sample_frequencies([-np.inf, -np.inf], 10)
    with pytest.raises(ValueError, match="vector"):
        sh.sample_frequencies(np.zeros((2, 2)), 10)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sh.frequency_band([0.5, 1.5], 10)


# ---------------------------------------------------------------------------
# Gumbel-softmax against torch
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [0.1, 0.5, 2.0])
@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_matches_torch_for_the_same_noise(tau, hard):
    logits = torch.tensor([[1.0, -0.5, 0.3, 2.0], [0.0, 0.1, -2.0, 0.7]], dtype=torch.float64)
    torch.manual_seed(5)
    theirs = F.gumbel_softmax(logits, tau=tau, hard=hard).numpy()
    # torch draws its noise as -log(Exponential(1)) with the same generator state.
    torch.manual_seed(5)
    noise = -torch.empty_like(logits).exponential_().log()
    ours = sh.gumbel_softmax_weights(logits.numpy(), tau, noise.numpy(), hard=hard)
    np.testing.assert_allclose(ours, theirs, atol=ATOL, rtol=RTOL)
    if hard:
        np.testing.assert_array_equal(np.sort(ours, axis=-1)[:, :-1], 0.0)


def test_gumbel_noise_is_standard_gumbel():
    noise = sh.gumbel_noise(200_000, seed=1)
    # Standard Gumbel: mean = Euler-Mascheroni constant, variance = pi^2 / 6.
    assert abs(noise.mean() - 0.5772156649) < Z * math.sqrt(math.pi**2 / 6 / noise.size)
    assert abs(noise.var() - math.pi**2 / 6) < 0.05


def test_gumbel_softmax_checks_noise_shape():
    with pytest.raises(ValueError, match="noise has shape"):
        sh.gumbel_softmax_weights([1.0, 2.0], 0.5, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="tau"):
        sh.gumbel_softmax_weights([1.0, 2.0], 0.0, [0.1, 0.2])


# ---------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------


def test_convex_hull_matches_scipy(rng):
    for _ in range(20):
        points = rng.standard_normal((rng.integers(3, 9), 2))
        ours = set(sh.convex_hull(points).tolist())
        assert ours == set(ConvexHull(points).vertices.tolist())


def test_convex_hull_is_counter_clockwise_and_handles_degenerate_sets():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5], [0.5, 0]], dtype=float)
    corners = square[sh.convex_hull(square)]
    x, y = corners[:, 0], corners[:, 1]
    signed_area = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    assert signed_area == pytest.approx(1.0)  # positive: counter-clockwise, collinear (0.5, 0) out
    assert len(sh.convex_hull([[1.0, 1.0], [1.0, 1.0]])) == 1
    assert len(sh.convex_hull([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])) == 2


@settings(max_examples=80, deadline=None)
@given(
    hnp.arrays(np.float64, (5, 2), elements=st.floats(-5, 5)),
    hnp.arrays(np.float64, 5, elements=st.floats(-20, 20)),
    st.floats(0.05, 20),
)
def test_soft_output_lies_in_the_hull_and_hard_output_is_a_value(values, scores, temperature):
    soft = sh.attend(sh.soft_weights(scores, temperature), values)
    assert sh.in_convex_hull(soft, values, tolerance=1e-7)
    hard = sh.attend(sh.hard_weights(scores), values)
    assert any(np.array_equal(hard, value) for value in values)


def test_in_convex_hull_rejects_outside_points():
    triangle = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    assert sh.in_convex_hull([0.5, 0.5], triangle)
    assert sh.in_convex_hull([1.0, 1.0], triangle)  # on an edge
    assert not sh.in_convex_hull([1.1, 1.1], triangle)
    assert not sh.in_convex_hull([0.5, 0.1], [[0.0, 0.0], [1.0, 0.0]])
    assert sh.in_convex_hull([0.5, 0.0], [[0.0, 0.0], [1.0, 0.0]])


def test_soft_output_path_runs_from_the_hard_pick_to_the_mean():
    scene = scenes.Preset.FOUR.scene
    scores = sh.dot_product_scores(sh.query_vector(30, 2.0), scene.keys)
    weights, outputs = sh.soft_output_path(scores, scene.value_points, [1e-3, 1.0, 1e4])
    np.testing.assert_allclose(outputs[0], scene.value_points[np.argmax(scores)], atol=1e-9)
    np.testing.assert_allclose(outputs[-1], scene.value_points.mean(axis=0), atol=1e-3)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)


def test_angle_sweep_gives_a_staircase_and_a_smooth_curve():
    scene = scenes.Preset.FOUR.scene
    angles = np.linspace(-180, 180, 721)
    sweep = sh.angle_sweep(scene, target=1, angles=angles, length=2.0, temperature=1.0)
    distances = np.sum((scene.value_points - scene.value_points[1]) ** 2, axis=1)
    # Hard: only the S possible squared distances occur, constant between the jumps.
    assert set(np.round(sweep.hard_loss, 12)) <= set(np.round(distances, 12))
    changes = np.flatnonzero(np.diff(sweep.hard_loss) != 0)
    assert len(changes) == len(sweep.jumps()) == 4  # four keys at 90° apart: four switches
    np.testing.assert_allclose(sweep.jumps(), [-135, -45, 45, 135], atol=0.5)
    # Soft: continuous, no step larger than a small multiple of the grid spacing.
    assert np.max(np.abs(np.diff(sweep.soft_loss))) < 0.25
    # The expected loss of sampling is sum_i p_i d_i.
    np.testing.assert_allclose(sweep.expected_hard_loss, sweep.soft_weights @ distances)
    with pytest.raises(ValueError, match="target"):
        sh.angle_sweep(scene, target=4, angles=angles, length=2.0, temperature=1.0)


# ---------------------------------------------------------------------------
# Scenes typed by a learner
# ---------------------------------------------------------------------------


def test_scene_table_round_trips():
    scene = scenes.Preset.TRIANGLE.scene
    table = pd.DataFrame(scenes.scene_table(scene))
    again = scenes.scene_from_table(table.to_dict("records"))
    assert again.names == scene.names
    np.testing.assert_array_equal(again.keys, scene.keys)
    np.testing.assert_array_equal(again.value_points, scene.value_points)


def test_blank_rows_are_dropped_and_blank_names_filled():
    rows = [
        {"item": "", "key x": 1, "key y": 0, "value x": 1, "value y": 1},
        {"item": None, "key x": None, "key y": None, "value x": None, "value y": None},
        {"item": "B", "key x": 0, "key y": 1, "value x": -1, "value y": 2},
        {"item": pd.NA, "key x": pd.NA, "key y": np.nan, "value x": "", "value y": None},
    ]
    scene = scenes.scene_from_table(rows)
    assert scene.names == ("item 0", "B")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "empty"),
        ([{"item": "A", "key x": 1, "key y": 0, "value x": 0, "value y": 0}], "at least 2"),
        (
            [{"item": "A", "key x": 1, "key y": None, "value x": 0, "value y": 0}] * 2,
            "row 1 has no number in 'key y'",
        ),
        (
            [{"item": "A", "key x": "one", "key y": 0, "value x": 0, "value y": 0}] * 2,
            "'key x' must be a number",
        ),
        (
            [{"item": "A", "key x": 1, "key y": 0, "value x": 99, "value y": 0}] * 2,
            "within ±10",
        ),
        (
            [{"item": "A", "key x": 1, "key y": 0, "value x": 0, "value y": 0}] * 9,
            "at most 8",
        ),
        (
            [{"item": "A", "key x": 1, "key y": 0, "value x": 0, "value y": math.inf}] * 2,
            "missing or not numbers",
        ),
    ],
)
def test_bad_tables_say_what_to_fix(rows, message):
    with pytest.raises(ValueError, match=message):
        scenes.scene_from_table(rows)


def test_presets_are_valid_scenes():
    for scene in (preset.scene for preset in scenes.Preset):
        assert scenes.MIN_ITEMS <= scene.size <= scenes.MAX_ITEMS
        assert scene.keys.shape == scene.value_points.shape == (scene.size, 2)


def test_frequency_gaps_shrink_like_one_over_root_n():
    scores = np.array([1.0, 0.2, -0.4])
    counts = [10, 1_000, 100_000]
    gaps, bands = sh.frequency_gaps(scores, counts, 1.0, seed=4)
    p = sh.soft_weights(scores)
    np.testing.assert_allclose(bands, [np.max(2 * np.sqrt(p * (1 - p) / n)) for n in counts])
    assert np.all(gaps <= Z / 2 * bands)  # within Z standard errors (bands are 2 of them)
    assert gaps[-1] < 0.01 < gaps[0]


def test_top_ties_are_detected():
    assert sh.has_top_tie([0.0, 0.0, 0.0])
    assert sh.has_top_tie([1.0, 3.0, 3.0 + 1e-12])
    assert not sh.has_top_tie([3.0, 1.0, 3.1])
    assert not sh.has_top_tie([5.0])


# ---------------------------------------------------------------------------
# Error messages in full, where they tell the caller what to fix
# ---------------------------------------------------------------------------

NOT_FINITE = "contains NaN or infinity; every entry must be a finite number"
NAN_SCORES = "scores contain NaN; check the query, keys and temperature"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: sh.hard_weights([1.0, np.nan]),
            "scores contain NaN; check the query, keys and temperature",
        ),
        (
            lambda: sh.hard_weights([1.0, np.inf]),
            "scores contain +inf; only -inf (meaning 'masked') is allowed",
        ),
        (lambda: sh.hard_weights([]), "scores need at least one item in their last axis, got (0,)"),
        (lambda: sh.hard_weights(["a"]), "scores must hold real numbers, got dtype <U1"),
        (lambda: sh.soft_weights([1.0], 0.0), "temperature must be positive, got 0.0"),
        (lambda: sh.soft_weights([1.0], "warm"), "temperature must be a number, got 'warm'"),
        (lambda: sh.sample_frequencies([1.0, 2.0], 0), "n_draws must be at least 1, got 0"),
        (
            lambda: sh.sample_frequencies([-np.inf, -np.inf], 3),
            "every score is -inf: there is no item to sample",
        ),
        (
            lambda: sh.sample_indices(np.zeros((2, 2)), 3),
            "scores must be a vector (S,), got shape (2, 2)",
        ),
        (lambda: sh.frequency_band([0.5, 1.5], 10), "probabilities must lie in [0, 1]"),
        (lambda: sh.frequency_band([0.5], 10, z=0), "z must be positive, got 0"),
        (
            lambda: sh.gumbel_softmax_weights([1.0, 2.0], 0.5, [0.1]),
            "noise has shape (1,) but logits have shape (2,)",
        ),
        (lambda: sh.gumbel_softmax_weights([1.0], 0.0, [0.1]), "tau must be positive, got 0.0"),
        (
            lambda: sh.gumbel_softmax_weights([1.0], 1.0, [np.inf]),
            "noise contains NaN or infinity; every entry must be a finite number",
        ),
        (
            lambda: sh.gumbel_argmax_indices(np.zeros((2, 2)), 3),
            "logits must be a vector (S,), got shape (2, 2)",
        ),
        (
            lambda: sh.dot_product_scores([1.0, 2.0, 3.0], np.eye(2)),
            "query has size 3 but keys have size 2",
        ),
        (lambda: sh.dot_product_scores([1.0], [1.0]), "keys must have 2 axes, got shape (1,)"),
        (
            lambda: sh.attend([0.5, 0.5], np.ones((3, 2))),
            "weights cover 2 items but there are 3 values",
        ),
        (lambda: sh.attend(1.0, np.eye(3)), "weights needs at least 1 axes, got shape ()"),
        (
            lambda: sh.soft_output_path([1.0], [[0.0, 0.0]], [1.0, -1.0]),
            "temperatures must be positive finite numbers",
        ),
        (
            lambda: sh.convex_hull(np.zeros((0, 2))),
            "points must have shape (S, 2) with S >= 1, got (0, 2)",
        ),
        (lambda: sh.convex_hull([[0.0, np.nan]]), "points must be finite"),
        (lambda: sh.query_vector(30, -1.0), "length must be at least 0.0, got -1.0"),
        (lambda: sh.query_vector(np.inf, 1.0), "angle_degrees must be a finite number, got inf"),
        (
            lambda: sh.angle_sweep(scenes.Preset.FOUR.scene, 4, [0.0], 1.0, 1.0),
            "target must be at most 3, got 4",
        ),
        (
            lambda: sh.angle_sweep(scenes.Preset.FOUR.scene, -1, [0.0], 1.0, 1.0),
            "target must be at least 0, got -1",
        ),
        (
            lambda: sh.angle_sweep(scenes.Preset.FOUR.scene, 0, [[0.0, 1.0]], 1.0, 1.0),
            "angles must have 1 axes, got shape (1, 2)",
        ),
        (
            lambda: sh.angle_sweep(scenes.Preset.FOUR.scene, 0, [0.0, np.nan], 1.0, 1.0),
            f"angles {NOT_FINITE}",
        ),
        (
            lambda: sh.angle_sweep(scenes.Preset.FOUR.scene, 0, ["north"], 1.0, 1.0),
            "angles must hold real numbers, got dtype <U5",
        ),
        # every entry point names the argument it refuses
        (lambda: sh.soft_weights([np.nan]), NAN_SCORES),
        (lambda: sh.sample_indices([np.nan], 3), NAN_SCORES),
        (lambda: sh.has_top_tie([np.nan, 1.0]), NAN_SCORES),
        (lambda: sh.soft_output_path([np.nan], [[0.0, 0.0]], [1.0]), NAN_SCORES),
        (
            lambda: sh.gumbel_softmax_weights([np.nan], 1.0, [0.0]),
            "logits contain NaN; check the query, keys and temperature",
        ),
        (
            lambda: sh.gumbel_argmax_indices([1.0, np.inf], 3),
            "logits contain +inf; only -inf (meaning 'masked') is allowed",
        ),
        (lambda: sh.gumbel_argmax_indices([1.0, 2.0], 0), "n_draws must be at least 1, got 0"),
        (lambda: sh.frequency_band([0.5], 0), "n_draws must be at least 1, got 0"),
        (lambda: sh.frequency_band([0.5, np.nan], 10), "probabilities must lie in [0, 1]"),
        (lambda: sh.frequency_band([-0.1], 10), "probabilities must lie in [0, 1]"),
        (
            lambda: sh.frequency_band(["a"], 10),
            "probabilities must hold real numbers, got dtype <U1",
        ),
        (
            lambda: sh.dot_product_scores([[1.0, 2.0]], np.eye(2)),
            "query must have 1 axes, got shape (1, 2)",
        ),
        (
            lambda: sh.dot_product_scores(["a", "b"], np.eye(2)),
            "query must hold real numbers, got dtype <U1",
        ),
        (lambda: sh.dot_product_scores([1.0, np.inf], np.eye(2)), f"query {NOT_FINITE}"),
        (lambda: sh.dot_product_scores([1.0, 2.0], [[1.0, np.nan]]), f"keys {NOT_FINITE}"),
        (lambda: sh.attend([0.5, 0.5], [1.0, 2.0]), "values must have 2 axes, got shape (2,)"),
        (
            lambda: sh.attend([0.5, 0.5], [["a", "b"], ["c", "d"]]),
            "values must hold real numbers, got dtype <U1",
        ),
        (
            lambda: sh.soft_output_path([1.0], [[0.0, 0.0]], []),
            "temperatures must be positive finite numbers",
        ),
        (
            lambda: sh.soft_output_path([1.0], [[0.0, 0.0]], [1.0, 0.0]),
            "temperatures must be positive finite numbers",
        ),
        (
            lambda: sh.soft_output_path([1.0], [[0.0, 0.0]], [1.0, np.inf]),
            "temperatures must be positive finite numbers",
        ),
        (
            lambda: sh.soft_output_path([1.0], [[0.0, 0.0]], [[1.0]]),
            "temperatures must have 1 axes, got shape (1, 1)",
        ),
        (
            lambda: sh.soft_output_path([1.0], [[0.0, 0.0]], ["hot"]),
            "temperatures must hold real numbers, got dtype <U3",
        ),
        (
            lambda: sh.convex_hull(np.zeros((3, 3))),
            "points must have shape (S, 2) with S >= 1, got (3, 3)",
        ),
        (
            lambda: sh.convex_hull(np.zeros(2)),
            "points must have shape (S, 2) with S >= 1, got (2,)",
        ),
        (lambda: sh.convex_hull([["a", "b"]]), "points must hold real numbers, got dtype <U1"),
        (
            lambda: sh.in_convex_hull([[0.0, 0.0]], np.eye(2)),
            "point must have 1 axes, got shape (1, 2)",
        ),
        (
            lambda: sh.in_convex_hull(["a", "b"], np.eye(2)),
            "point must hold real numbers, got dtype <U1",
        ),
        (
            lambda: sh.in_convex_hull([0.0, 0.0], [1.0, 2.0]),
            "points must have 2 axes, got shape (2,)",
        ),
        (
            lambda: sh.in_convex_hull([0.0, 0.0], [["a", "b"]]),
            "points must hold real numbers, got dtype <U1",
        ),
    ],
)
def test_errors_say_what_to_fix(call, message):
    with refuses(message):
        call()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "the table is empty; add at least two items"),
        (
            [{"item": "A", "key x": 1, "key y": 0, "value x": 0, "value y": 0}],
            "attention needs at least 2 items to choose from",
        ),
        (
            [{"item": "A", "key x": 1, "key y": None, "value x": 0, "value y": 0}] * 2,
            "row 1 has no number in 'key y'; fill it in",
        ),
        (
            [{"item": "A", "key x": 1, "key y": 0, "value x": 0, "value y": "two"}] * 2,
            "row 1: 'value y' must be a number, got 'two'",
        ),
        (
            [{"item": "A", "key x": 11, "key y": 0, "value x": 0, "value y": 0}] * 2,
            "keys must lie within ±10",
        ),
        (
            [{"item": "A", "key x": 1, "key y": 0, "value x": 0, "value y": 0}] * 9,
            "this demo shows at most 8 items, got 9",
        ),
        (
            [{"item": "A", "key x": 1, "key y": 0, "value x": -math.inf, "value y": 0}] * 2,
            "some values are missing or not numbers; fill every cell",
        ),
    ],
)
def test_table_errors_in_full(rows, message):
    with refuses(message):
        scenes.scene_from_table(rows)


def test_make_scene_checks_shapes_and_numbers():
    with refuses("keys must have shape (2, 2), got (2, 3)"):
        scenes.make_scene(["a", "b"], np.zeros((2, 3)), np.zeros((2, 2)))
    with refuses("every key and value coordinate must be a number"):
        scenes.make_scene(["a", "b"], [["x", 0], [0, 0]], np.zeros((2, 2)))
    scene = scenes.make_scene(["", " b "], np.zeros((2, 2)), np.ones((2, 2)))
    assert scene.names == ("item 0", "b")


def test_long_names_are_cut_and_the_scene_key_round_trips():
    rows = [
        {"item": "a very long item name", "key x": 1, "key y": 2, "value x": 3, "value y": 4},
        {"item": "B", "key x": -1.5, "key y": 0, "value x": 0, "value y": -4},
    ]
    scene = scenes.scene_from_table(rows)
    assert scene.names == ("a very long", "B")
    assert scene.key == (
        ("a very long", "B"),
        ((1.0, 2.0), (-1.5, 0.0)),
        ((3.0, 4.0), (0.0, -4.0)),
    )
    again = scenes.scene_from_key(scene.key)
    np.testing.assert_array_equal(again.keys, scene.keys)
    np.testing.assert_array_equal(again.value_points, scene.value_points)
    hash(scene.key)  # a plain, hashable cache key


def test_presets_are_an_enum_of_their_labels():
    assert [preset.value for preset in scenes.Preset] == [
        "Four items",
        "Triangle with a middle item",
        "Two near-twin keys",
        "Six around a circle",
    ]
    assert scenes.Preset("Two near-twin keys").scene.names == ("A", "A′", "B")
    circle = scenes.Preset.CIRCLE.scene
    np.testing.assert_allclose(np.linalg.norm(circle.keys, axis=1), 2.0)
    np.testing.assert_allclose(np.linalg.norm(circle.value_points, axis=1), 3.0)
    np.testing.assert_allclose(circle.keys[1], [1.0, math.sqrt(3)])


def test_presets_cannot_be_changed_through_a_table_edit():
    scene = scenes.Preset.FOUR.scene
    table = scenes.scene_table(scene)
    table["key x"][0] = 9.0
    assert scenes.Preset.FOUR.scene.keys[0, 0] == 2.0


# ---------------------------------------------------------------------------
# One query on a scene
# ---------------------------------------------------------------------------


def test_look_gathers_the_first_sections_numbers():
    scene = scenes.Preset.FOUR.scene
    view = sh.look(scene, 30, 2.0, 1.0)
    np.testing.assert_allclose(view.query, [math.sqrt(3), 1.0])
    np.testing.assert_allclose(view.scores, scene.keys @ view.query / math.sqrt(2))
    np.testing.assert_allclose(view.soft, sh.soft_weights(view.scores))
    np.testing.assert_array_equal(view.hard, [1.0, 0.0, 0.0, 0.0])
    assert view.winner == 0 and view.tie is False
    np.testing.assert_allclose(view.soft_output, view.soft @ scene.value_points)
    np.testing.assert_array_equal(view.hard_output, scene.value_points[0])
    assert view.temperature_path.shape == (len(sh.PATH_TEMPERATURES), 2)
    np.testing.assert_allclose(view.temperature_path[0], scene.value_points[0], atol=1e-9)
    assert sorted(view.hull.tolist()) == [0, 1, 2, 3]
    assert sh.look(scene, 0, 0.0, 1.0).tie is True


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-180, 180),
    st.floats(0, 4),
    st.sampled_from([0.05, 0.5, 1.0, 20.0]),
    st.sampled_from(list(scenes.Preset)),
)
def test_look_keeps_soft_inside_the_hull_and_hard_on_a_value(angle, length, temperature, preset):
    scene = preset.scene
    view = sh.look(scene, angle, length, temperature)
    np.testing.assert_allclose(view.soft.sum(), 1.0)
    assert sh.in_convex_hull(view.soft_output, scene.value_points, tolerance=1e-7)
    assert any(np.array_equal(view.hard_output, value) for value in scene.value_points)
    assert view.scores[view.winner] == view.scores.max()
    assert all(
        sh.in_convex_hull(point, scene.value_points, tolerance=1e-7)
        for point in view.temperature_path
    )


def test_sweep_grid_is_one_degree_steps():
    assert sh.SWEEP_ANGLES[0] == -180 and sh.SWEEP_ANGLES[-1] == 180
    np.testing.assert_allclose(np.diff(sh.SWEEP_ANGLES), 1.0)


# ---------------------------------------------------------------------------
# Scene limits: the page promises "between 2 and 8 items, coordinates within ±10"
# ---------------------------------------------------------------------------


def test_the_limits_the_page_states_are_inclusive():
    eight = scenes.make_scene(list("abcdefgh"), np.zeros((8, 2)), np.zeros((8, 2)))
    assert eight.size == scenes.MAX_ITEMS == 8
    edge = scenes.make_scene(["a", "b"], [[10.0, -10.0], [0.0, 0.0]], [[-10.0, 10.0], [0, 0]])
    np.testing.assert_array_equal(edge.keys, [[10.0, -10.0], [0.0, 0.0]])
    np.testing.assert_array_equal(edge.value_points, [[-10.0, 10.0], [0.0, 0.0]])
    with refuses("values must lie within ±10"):
        scenes.make_scene(["a", "b"], np.zeros((2, 2)), [[0.0, 10.000001], [0.0, 0.0]])


def test_a_missing_value_cell_is_named_not_a_crash():
    with refuses("some values are missing or not numbers; fill every cell"):
        scenes.make_scene(["a", "b"], np.zeros((2, 2)), [[None, 0.0], [0.0, 0.0]])
    with refuses("some keys are missing or not numbers; fill every cell"):
        scenes.make_scene(["a", "b"], [[0.0, None], [0.0, 0.0]], np.zeros((2, 2)))


def test_integer_cells_become_float_coordinates():
    scene = scenes.make_scene(["a", "b"], [[1, 2], [3, 4]], [[5, 6], [7, 8]])
    assert scene.keys.dtype == scene.value_points.dtype == np.float64
    np.testing.assert_array_equal(scene.value_points, [[5.0, 6.0], [7.0, 8.0]])


@pytest.mark.parametrize("blank", [None, np.nan, pd.NA, "   "])
def test_a_row_with_numbers_and_a_blank_name_gets_a_numbered_name(blank):
    rows = [
        {"item": "A", "key x": 1, "key y": 0, "value x": 1, "value y": 1},
        {"item": blank, "key x": 0, "key y": 1, "value x": -1, "value y": 2},
    ]
    assert scenes.scene_from_table(rows).names == ("A", "item 1")


def test_points_on_a_circle_start_on_the_x_axis_and_turn_counter_clockwise():
    points = np.array(scenes._on_circle(3.0, 4))
    np.testing.assert_allclose(points, [[3, 0], [0, 3], [-3, 0], [0, -3]], atol=1e-12)
    hexagon = np.array(scenes._on_circle(2.0, 6))
    angles = np.degrees(np.arctan2(hexagon[:, 1], hexagon[:, 0]))
    np.testing.assert_allclose(angles, [0, 60, 120, 180, -120, -60], atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(hexagon, axis=1), 2.0)


# ---------------------------------------------------------------------------
# Defaults, boundaries and edge cases, each against a hand-worked value
# ---------------------------------------------------------------------------


def test_defaults_are_temperature_one_and_seed_zero():
    scores = [0.3, 1.0, -0.5, 0.8]
    for function in (sh.sample_indices, sh.sample_frequencies, sh.sampled_weights):
        np.testing.assert_array_equal(function(scores, 40), function(scores, 40, 1.0, 0))
    np.testing.assert_array_equal(
        sh.frequency_gaps(scores, [10, 300]), sh.frequency_gaps(scores, [10, 300], 1.0, 0)
    )
    np.testing.assert_array_equal(sh.gumbel_noise((3, 2)), sh.gumbel_noise((3, 2), seed=0))
    np.testing.assert_array_equal(
        sh.gumbel_argmax_indices(scores, 40), sh.gumbel_argmax_indices(scores, 40, seed=0)
    )


def test_gumbel_max_draws_are_the_argmax_of_the_perturbed_logits():
    logits = np.array([0.5, -1.0, 2.0])
    noise = sh.gumbel_noise((25, 3), seed=9)
    expected = np.argmax(logits + noise, axis=1)
    np.testing.assert_array_equal(sh.gumbel_argmax_indices(logits, 25, seed=9), expected)
    one = sh.gumbel_argmax_indices(logits, 1, seed=9)
    np.testing.assert_array_equal(one, expected[:1])  # N = 1 is allowed


def test_gumbel_softmax_is_soft_unless_asked_for_hard():
    logits = np.array([1.0, 0.0, -1.0])
    noise = np.array([0.2, 0.1, 0.0])
    soft = sh.gumbel_softmax_weights(logits, 0.5, noise)
    expected = torch.softmax(torch.tensor(logits + noise) / 0.5, dim=-1).numpy()
    np.testing.assert_allclose(soft, expected, atol=1e-15)
    np.testing.assert_array_equal(
        sh.gumbel_softmax_weights(logits, 0.5, noise, hard=True), [1, 0, 0]
    )


def test_gumbel_softmax_weighs_along_the_last_axis_of_any_shape(rng):
    logits = rng.standard_normal((2, 3, 4))
    noise = sh.gumbel_noise((2, 3, 4), seed=2)
    expected = torch.softmax(torch.tensor(logits + noise) / 0.7, dim=-1).numpy()
    np.testing.assert_allclose(sh.gumbel_softmax_weights(logits, 0.7, noise), expected, atol=1e-15)


def test_a_fully_masked_row_of_a_batch_gets_zero_hard_weights():
    scores = np.array([[-np.inf, -np.inf, -np.inf], [1.0, 3.0, 2.0]])
    np.testing.assert_array_equal(sh.hard_weights(scores), [[0, 0, 0], [0, 1, 0]])


def test_top_ties_row_by_row_and_at_the_tolerance():
    assert sh.has_top_tie([3.0, 3.0])  # two items are enough to tie
    assert not sh.has_top_tie([[3.0, 1.0], [3.0, 2.0]])  # the two 3s are in different rows
    assert sh.has_top_tie([[5.0, 1.0], [2.0, 2.0]])  # the second row ties
    assert sh.has_top_tie([0.0, 0.5], tolerance=0.5)  # a gap equal to the tolerance is a tie
    assert not sh.has_top_tie([0.0, 0.5], tolerance=0.49)


def test_frequency_band_is_zero_for_certain_items():
    np.testing.assert_allclose(sh.frequency_band([0.0, 1.0, 0.5], 100), [0.0, 0.0, 0.1])


def test_frequency_gaps_are_measured_at_the_given_temperature_and_seed():
    scores = np.array([1.0, 0.2, -0.4])
    counts = [10, 200]
    gaps, bands = sh.frequency_gaps(scores, counts, 0.5, seed=4)
    p = sh.soft_weights(scores, 0.5)
    expected = [np.max(np.abs(sh.sample_frequencies(scores, n, 0.5, 4) - p)) for n in counts]
    np.testing.assert_array_equal(gaps, expected)
    np.testing.assert_allclose(bands, [np.max(2 * np.sqrt(p * (1 - p) / n)) for n in counts])


def test_soft_output_path_takes_a_single_temperature():
    weights, outputs = sh.soft_output_path([0.0, np.log(3.0)], [[0.0, 0.0], [4.0, 8.0]], [1.0])
    np.testing.assert_allclose(weights, [[0.25, 0.75]])
    np.testing.assert_allclose(outputs, [[3.0, 6.0]])


def test_in_convex_hull_of_one_point_and_of_a_segment():
    assert not sh.in_convex_hull([1.0, 1.0], [[0.0, 0.0]])
    assert sh.in_convex_hull(
        [0.5, 0.0], [[0.0, 0.0], [0.0, 0.0]], tolerance=0.5
    )  # at the tolerance
    segment = [[0.0, 0.0], [1.0, 0.0]]
    assert not sh.in_convex_hull([-0.5, 0.0], segment)  # on the line, before the start
    assert not sh.in_convex_hull([1.5, 0.0], segment)  # on the line, past the end
    assert sh.in_convex_hull([0.5, 0.25], segment, tolerance=0.25)  # exactly the tolerance away
    assert not sh.in_convex_hull([0.5, 0.25], segment, tolerance=0.24)


def test_in_convex_hull_of_a_segment_too_short_to_square():
    tiny = [[0.0, 0.0], [1e-200, 0.0]]  # its squared length underflows to 0
    assert sh.in_convex_hull([0.0, 0.0], tiny, tolerance=0.0)
    assert not sh.in_convex_hull([1.0, 0.0], tiny)


def test_a_point_on_an_edge_is_inside_even_with_no_tolerance():
    triangle = [[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]]
    assert sh.in_convex_hull([1.0, 1.0], triangle, tolerance=0.0)
    assert not sh.in_convex_hull([1.0, 1.0 + 1e-9], triangle, tolerance=0.0)


def test_low_precision_inputs_are_computed_in_float64():
    """float16/float32 inputs are widened first: the arithmetic never rounds to their precision."""
    scores = np.array([0.0, 1.0, 2.5], dtype=np.float16)
    expected = torch.softmax(torch.tensor(scores, dtype=torch.float64) / 0.3, dim=-1).numpy()
    soft = sh.soft_weights(scores, 0.3)
    assert soft.dtype == np.float64
    np.testing.assert_allclose(soft, expected, rtol=1e-14)
    noise = np.zeros(3, dtype=np.float16)
    np.testing.assert_allclose(sh.gumbel_softmax_weights(scores, 0.3, noise), expected, rtol=1e-14)
    p = np.array([0.1, 0.3], dtype=np.float32)
    wide = p.astype(np.float64)
    np.testing.assert_allclose(
        sh.frequency_band(p, 7), 2 * np.sqrt(wide * (1 - wide) / 7), rtol=1e-15
    )
    # products of coordinates near 300 overflow float16 (max 65504)
    square = np.array([[0, 0], [300, 0], [300, 300], [0, 300], [150, 150]], dtype=np.float16)
    assert set(sh.convex_hull(square).tolist()) == {0, 1, 2, 3}
    # in float16 the edge (0.5, 0) -> (2048, 1) would round to the direction (2048, 1)
    # and take in this point, which lies 0.125 / 2047.5 outside the true edge
    triangle = np.array([[0.5, 0.0], [2048.0, 1.0], [0.5, 1000.0]], dtype=np.float16)
    assert not sh.in_convex_hull([1024.375, 0.5], triangle)
    assert sh.in_convex_hull([1024.25, 0.5], triangle)


def test_an_angle_sweep_keeps_float32_angles_exact():
    angles = np.array([-100.1, -10.3, 0.7, 80.9, 170.3], dtype=np.float32)
    sweep = sh.angle_sweep(scenes.Preset.FOUR.scene, 0, angles, 2.0, 1.0)
    wide = angles.astype(np.float64)
    assert sweep.angles.dtype == np.float64
    np.testing.assert_array_equal(sweep.angles, wide)
    change = np.flatnonzero(np.diff(sweep.hard_index))
    np.testing.assert_array_equal(sweep.jumps(), (wide[change] + wide[change + 1]) / 2)


def test_jumps_are_midpoints_between_the_angles_where_the_pick_changes():
    empty = np.zeros((4, 0))
    sweep = sh.AngleSweep(
        angles=np.array([0.0, 10.0, 20.0, 30.0]),
        soft_weights=empty,
        soft_outputs=empty,
        hard_index=np.array([0, 0, 1, 1]),
        hard_outputs=empty,
        soft_loss=np.zeros(4),
        hard_loss=np.zeros(4),
        expected_hard_loss=np.zeros(4),
    )
    np.testing.assert_array_equal(sweep.jumps(), [15.0])


@pytest.mark.parametrize("preset", list(scenes.Preset))
def test_each_angle_of_a_sweep_is_a_look_at_that_angle(preset):
    scene = preset.scene
    angles = np.array([-150.0, -60.0, 0.0, 35.0, 120.0])
    target, length, temperature = 1, 1.5, 0.4
    sweep = sh.angle_sweep(scene, target, angles, length, temperature)
    goal = scene.value_points[target]
    for row, angle in enumerate(angles):
        view = sh.look(scene, angle, length, temperature)
        np.testing.assert_allclose(sweep.soft_weights[row], view.soft, atol=1e-15)
        np.testing.assert_allclose(sweep.soft_outputs[row], view.soft_output, atol=1e-14)
        np.testing.assert_array_equal(sweep.hard_outputs[row], view.hard_output)
        assert sweep.hard_index[row] == view.winner
        soft_loss = float(np.sum((view.soft_output - goal) ** 2))
        assert sweep.soft_loss[row] == pytest.approx(soft_loss, abs=1e-13)
        hard_loss = float(np.sum((view.hard_output - goal) ** 2))
        assert sweep.hard_loss[row] == pytest.approx(hard_loss, abs=1e-13)


def test_look_uses_its_temperature():
    scene = scenes.Preset.FOUR.scene
    view = sh.look(scene, 30, 2.0, 0.5)
    expected = torch.softmax(torch.tensor(view.scores) / 0.5, dim=-1).numpy()
    np.testing.assert_allclose(view.soft, expected, atol=1e-15)
    np.testing.assert_allclose(view.soft_output, expected @ scene.value_points, atol=1e-14)
