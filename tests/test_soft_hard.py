"""lab.soft_hard (numpy) against torch and scipy, its invariants, and the page's chart builders."""

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

from lab import soft_hard as sh
from lab import soft_hard_charts as shc

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
    np.testing.assert_allclose(sh.attention_scores(query, keys), expected)
    with pytest.raises(ValueError, match="size 3 but keys have size 2"):
        sh.attention_scores([1.0, 2.0, 3.0], keys)


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
    scene = sh.PRESETS["Four items"]
    scores = sh.attention_scores(sh.query_vector(30, 2.0), scene.keys)
    weights, outputs = sh.soft_output_path(scores, scene.value_points, [1e-3, 1.0, 1e4])
    np.testing.assert_allclose(outputs[0], scene.value_points[np.argmax(scores)], atol=1e-9)
    np.testing.assert_allclose(outputs[-1], scene.value_points.mean(axis=0), atol=1e-3)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)


def test_angle_sweep_gives_a_staircase_and_a_smooth_curve():
    scene = sh.PRESETS["Four items"]
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
    scene = sh.PRESETS["Triangle with a middle item"]
    table = pd.DataFrame(sh.scene_table(scene))
    again = sh.scene_from_table(table.to_dict("records"))
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
    scene = sh.scene_from_table(rows)
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
        sh.scene_from_table(rows)


def test_presets_are_valid_scenes():
    for scene in sh.PRESETS.values():
        assert sh.MIN_ITEMS <= scene.size <= sh.MAX_ITEMS
        assert scene.keys.shape == scene.value_points.shape == (scene.size, 2)


# ---------------------------------------------------------------------------
# Chart builders: the spec, not pixels
# ---------------------------------------------------------------------------


def dataset(spec: dict) -> list[dict]:
    datasets = list(spec["datasets"].values())
    assert len(datasets) == 1
    return datasets[0]


def test_weight_bars_keep_repeated_names_apart_with_reference_and_band():
    names = ["the", "cat", "the"]
    chart = shc.weight_bars(
        [0.2, 0.5, 0.3], names, title="t", reference=[0.25, 0.5, 0.25], band=[0.1, 0.1, 0.1]
    )
    spec = chart.to_dict()
    rows = dataset(spec)
    assert [row["position"] for row in rows] == [0, 1, 2]
    assert [row["item"] for row in rows] == names
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "rule", "tick", "text"]
    assert rows[0]["low"] == pytest.approx(0.15) and rows[0]["high"] == pytest.approx(0.35)
    bars = spec["layer"][0]["encoding"]
    assert bars["x"]["scale"]["domain"][0] == 0
    assert [item["field"] for item in bars["tooltip"]] == ["item", "text"]
    with pytest.raises(ValueError, match="2 names for 3 weights"):
        shc.weight_bars([0.2, 0.5, 0.3], ["a", "b"], title="t")


def test_frequency_error_chart_is_log_log():
    chart = shc.frequency_error_chart([1, 10, 100], [0.3, 0.0, 0.01], [0.5, 0.1, 0.03], current=10)
    spec = chart.to_dict()
    encoding = spec["layer"][0]["encoding"]
    assert encoding["x"]["scale"]["type"] == "log" and encoding["y"]["scale"]["type"] == "log"
    rows = dataset(spec)
    assert min(row["gap"] for row in rows) > 0  # a zero gap is floored, not dropped
    assert [row["draws"] for row in rows if row["current"]] == [10]


def test_value_space_chart_closes_the_hull_and_marks_the_outputs():
    scene = sh.PRESETS["Four items"]
    hull = sh.convex_hull(scene.value_points)
    chart = shc.value_space_chart(
        scene.value_points,
        list(scene.names),
        hull,
        soft_output=[0.1, 0.2],
        hard_output=scene.value_points[0],
        gumbel_output=[0.3, 0.3],
        temperature_path=np.zeros((5, 2)),
        angle_path=np.ones((7, 2)),
    )
    rows = dataset(chart.to_dict())
    hull_rows = [row for row in rows if row["kind"] == "hull"]
    assert len(hull_rows) == len(hull) + 1
    assert (hull_rows[0]["x"], hull_rows[0]["y"]) == (hull_rows[-1]["x"], hull_rows[-1]["y"])
    kinds = {row["kind"] for row in rows}
    assert {"soft output", "hard output", "Gumbel-softmax output"} <= kinds
    assert sum(row["kind"] == "angle path" for row in rows) == 7


def test_key_space_chart_draws_the_query_arrow_and_the_winner():
    scene = sh.PRESETS["Four items"]
    chart = shc.key_space_chart(scene.keys, list(scene.names), [1.0, 0.5], winner=0)
    rows = dataset(chart.to_dict())
    query = [row for row in rows if row["kind"] == "query"]
    assert (query[0]["x"], query[0]["y"]) == (1.0, 0.5)
    assert rows[0]["color"] == shc.ACCENT and rows[1]["color"] == shc.INK


def test_sweep_chart_has_loss_over_gradient():
    angles = np.linspace(-180, 180, 5)
    chart = shc.sweep_chart(
        angles,
        {"soft": np.arange(5.0), "hard": np.ones(5)},
        {"soft": -np.arange(5.0), "hard": np.zeros(5)},
        current_angle=30,
        jumps=[10.0],
    )
    spec = chart.to_dict()
    assert len(spec["vconcat"]) == 2
    rows = dataset(spec)
    assert sum(row["panel"] == "loss" for row in rows) == 10
    assert sum(row["panel"] == "gradient" for row in rows) == 10
    assert [row["series"] for row in rows if row["panel"] == "mark"] == [
        "query now",
        "hard choice changes",
    ]
    assert [row["angle"] for row in rows if row["panel"] == "mark"][1:] == [10.0]
    with pytest.raises(ValueError, match="same series"):
        shc.sweep_chart(angles, {"soft": np.ones(5)}, {"hard": np.ones(5)}, current_angle=0)


def test_learning_curves_skip_missing_points_and_non_positive_values_on_log_axes():
    curves = {
        "soft": {"steps": [0, 10, 20], "total_variance": [1e-3, math.nan, 1e-5]},
        "reinforce": {"steps": [0, 10, 20], "total_variance": [1e-2, 0.0, 1e-1]},
    }
    labels = {"soft": "soft", "reinforce": "REINFORCE"}
    chart = shc.learning_curve_chart(
        curves, "total_variance", labels, title="v", y_title="variance", log=True
    )
    spec = chart.to_dict()
    rows = dataset(spec)
    assert [(row["method"], row["step"]) for row in rows] == [
        ("soft", 0.0),
        ("soft", 20.0),
        ("reinforce", 0.0),
        ("reinforce", 20.0),
    ]
    color = spec["layer"][0]["encoding"]["color"]["scale"]
    assert color["domain"] == ["soft", "REINFORCE"]
    assert color["range"] == [shc.METHOD_COLORS["soft"], shc.METHOD_COLORS["reinforce"]]
    assert spec["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"


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


def test_the_sweep_marker_is_a_parameter_that_moves_without_rebuilding():
    angles = np.linspace(-180, 180, 5)
    chart = shc.sweep_chart(
        angles, {"soft": np.ones(5)}, {"soft": np.zeros(5)}, current_angle=30, jumps=[]
    )
    spec = chart.to_dict()
    assert spec["params"] == [{"name": shc.NOW_PARAM, "value": 30.0}]
    now_layer = spec["vconcat"][0]["layer"][1]
    assert {"calculate": shc.NOW_PARAM, "as": "angle"} in now_layer["transform"]
    moved = shc.with_sweep_angle(spec, -90)
    assert moved["params"] == [{"name": shc.NOW_PARAM, "value": -90.0}]
    assert spec["params"][0]["value"] == 30.0  # the original is untouched
    assert moved["datasets"] is spec["datasets"]  # the data is shared, not copied
    with pytest.raises(ValueError, match="not a sweep chart"):
        shc.with_sweep_angle({"layer": []}, 0)
