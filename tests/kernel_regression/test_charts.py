"""Chart builders of the kernel-regression page: inspect the Vega-Lite specs, not pixels."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from lab import charts
from lab import kernel_regression as kr
from lab.kernel_regression import charts as kc
from tests.kernel_regression.util import exactly
from tests.vega import assert_valid, dataset


@pytest.fixture(scope="module")
def data() -> kr.RegressionData:
    return kr.make_data()


def marks(layers: list[dict]) -> list[str]:
    return [
        layer["mark"] if isinstance(layer["mark"], str) else layer["mark"]["type"]
        for layer in layers
    ]


def decorative(layer: dict) -> bool:
    return isinstance(layer["mark"], dict) and layer["mark"].get("aria") is False


def test_fit_chart_draws_truth_data_and_estimate(data):
    result = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=0.25)
    spec = kc.fit_chart(
        data.x_train, data.y_train, data.x_query, result.estimate, data.truth, title="fit"
    )
    assert_valid(spec)
    rows = dataset(spec)
    counts = {
        layer: sum(row["layer"] == layer for row in rows)
        for layer in ("truth", "data", "estimate", "empty")
    }
    assert counts == {"truth": 50, "data": 50, "estimate": 50, "empty": 0}
    estimate_rows = [row for row in rows if row["layer"] == "estimate"]
    np.testing.assert_allclose([row["y"] for row in estimate_rows], result.estimate)
    np.testing.assert_allclose([row["x"] for row in estimate_rows], data.x_query)
    data_rows = [row for row in rows if row["layer"] == "data"]
    np.testing.assert_allclose([row["y"] for row in data_rows], data.y_train)
    assert marks(spec["layer"]) == ["line", "circle", "line"]
    color = spec["encoding"]["color"]
    assert color["scale"]["domain"][2] == "estimate at the queries"
    assert color["scale"]["range"] == [kc.TRUTH_COLOR, kc.DATA_COLOR, kc.ESTIMATE_COLOR]
    assert kc.ESTIMATE_COLOR == charts.ACCENT and kc.DATA_COLOR == charts.PRIMARY
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert isinstance(spec["width"], int)  # a number, never a step, with fit-x
    assert spec["title"] == "fit"
    assert spec["description"].startswith("fit: the true function (grey, dashed), 50 training")


def test_fit_chart_marks_queries_without_an_estimate_and_breaks_the_line(data):
    result = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel="boxcar", bandwidth=0.05
    )
    assert result.empty.any() and not result.empty.all()
    spec = kc.fit_chart(data.x_train, data.y_train, data.x_query, result.estimate, data.truth)
    assert_valid(spec)  # no NaN reaches the data
    rows = dataset(spec)
    empty_rows = [row for row in rows if row["layer"] == "empty"]
    np.testing.assert_allclose([row["x"] for row in empty_rows], data.x_query[result.empty])
    floor = min(data.y_train.min(), data.truth.min(), np.nanmin(result.estimate))
    assert {row["y"] for row in empty_rows} == {floor}
    estimate_rows = [row for row in rows if row["layer"] == "estimate"]
    assert len(estimate_rows) == int((~result.empty).sum())
    assert all(row["y"] is not None for row in estimate_rows)
    # Consecutive defined queries share a segment; a gap starts a new one.
    segments = [row["segment"] for row in estimate_rows]
    defined_positions = np.flatnonzero(~result.empty)
    for (a, b), (sa, sb) in zip(
        itertools.pairwise(defined_positions), itertools.pairwise(segments), strict=True
    ):
        assert (sa == sb) == (b == a + 1)
    assert spec["layer"][2]["encoding"]["detail"]["field"] == "segment"
    assert marks(spec["layer"])[-1] == "tick"
    scale = spec["encoding"]["color"]["scale"]
    assert scale["domain"][-1] == "no estimate: empty window"
    assert scale["range"][-1] == kc.EMPTY_COLOR
    assert f"{int(result.empty.sum())} queries have no estimate" in spec["description"]


def test_fit_chart_checks_lengths(data):
    with exactly("x_query, estimate and truth must have the same length"):
        kc.fit_chart(data.x_train, data.y_train, data.x_query, data.truth[:3], data.truth)
    with exactly("x_train has 50 points but y_train has 3"):
        kc.fit_chart(data.x_train, data.y_train[:3], data.x_query, data.truth, data.truth)


@pytest.mark.parametrize("kernel", list(kr.Kernel))
def test_kernel_chart_draws_the_profile_at_this_bandwidth(kernel):
    h = 0.5
    spec = kc.kernel_chart(kernel, h, spacing=0.1)
    assert_valid(spec)
    rows = dataset(spec, "profile")
    distances = np.array([row["distance"] for row in rows])
    weights = np.array([row["weight"] for row in rows])
    assert distances.min() == -2.5 and distances.max() == 2.5
    np.testing.assert_allclose(weights, kr.kernel_weight(distances, h, kernel))
    assert weights[distances == 0.0] == 1.0
    if kernel.compact:
        assert (weights[np.abs(distances) > h * (1 + 1e-12)] == 0).all()
    assert spec["title"]["text"] == f"{kernel.label} kernel at h = 0.5"
    assert spec["title"]["subtitle"][1] == "dashed: ± h · dotted: ± typical gap between keys"
    rule_positions = sorted(row["position"] for row in dataset(spec, "rules"))
    assert rule_positions == [-0.5, -0.1, 0.1, 0.5]
    rules = [layer for layer in spec["layer"] if layer["mark"]["type"] == "rule"]
    assert len(rules) == 2 and all(decorative(layer) for layer in rules)
    assert {tuple(layer["mark"]["strokeDash"]) for layer in rules} == {(5, 3), (1, 3)}


def test_kernel_chart_leaves_out_rules_beyond_its_axis():
    spec = kc.kernel_chart("gaussian", 4.0)
    assert_valid(spec)
    assert "rules" not in spec["datasets"] and len(spec["layer"]) == 1
    assert spec["title"]["subtitle"] == ["the weight a key gets, before normalising"]
    with exactly("half_width must be a positive number, got 0"):
        kc.kernel_chart("gaussian", 1.0, half_width=0)


def test_kernel_chart_keeps_a_narrow_kernel_visible():
    rows = dataset(kc.kernel_chart("gaussian", 0.01), "profile")
    inside = [row for row in rows if abs(row["distance"]) <= 0.03]
    assert len(inside) >= 50  # sampled at multiples of h, not only on the coarse grid


def test_heatmap_rows_stay_under_the_cell_budget():
    assert list(kc.heatmap_rows(50, 50)) == list(range(50))
    rows = kc.heatmap_rows(50, 100)
    assert len(rows) * 100 <= kc.MAX_HEATMAP_CELLS and rows[0] == 0 and rows[-1] == 49
    assert len(kc.heatmap_rows(50, 10_000)) == 1
    with exactly("need at least one query and one key, got 0 and 5"):
        kc.heatmap_rows(0, 5)


def test_attention_heatmap_is_queries_by_keys_on_a_stated_square_root_scale(data):
    result = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=0.25)
    spec = kc.attention_heatmap(result.weights, data.x_query, data.x_train, title="t")
    assert_valid(spec)
    rows = dataset(spec)
    assert len(rows) == 50 * 50
    matrix = np.zeros((50, 50))
    for row in rows:
        matrix[row["row"], row["col"]] = row["value"]
    np.testing.assert_allclose(matrix, result.weights, atol=5e-7)
    assert spec["encoding"]["x"]["field"] == "col" and spec["encoding"]["y"]["field"] == "row"
    color = spec["layer"][0]["encoding"]["color"]
    scale = color["scale"]
    # Zero is white, one is the darkest blue, and the scale is square-root: stated on the chart.
    assert scale["type"] == "sqrt"
    assert scale["domain"][0] == 0.0 and scale["domain"][-1] == 1.0
    assert scale["range"][0] == "#ffffff" and scale["range"][-1] == "#08306b"
    assert scale["interpolate"] == "rgb"  # so 0 is drawn white, not tinted
    np.testing.assert_allclose(np.sqrt(scale["domain"]), [0, 0.25, 0.5, 0.75, 1])
    assert color["title"] == "weight (square-root scale)"
    assert color["legend"]["values"] == [0.0, 0.1, 0.25, 0.5, 1.0]
    assert color["legend"]["format"] == ".2~f"  # 0.25 is not printed as 0.3
    assert spec["title"]["subtitle"] == [
        "each row sums to 1 · colour: square-root scale, white = 0"
    ]
    assert "square-root scale" in spec["description"]
    tooltips = [item["field"] for item in spec["encoding"]["tooltip"]]
    assert tooltips == ["row_label", "col_label", "text"]
    # Axis labels are the x values, thinned to about ten.
    x_axis = spec["encoding"]["x"]["axis"]
    labels = json.loads(x_axis["labelExpr"].removesuffix("[datum.value]"))
    assert labels == [f"{value:.2f}" for value in data.x_train]
    assert len(x_axis["values"]) <= 10
    assert spec["width"] == {"step": 9} and spec["autosize"]["type"] == "pad"


def test_attention_heatmap_thins_rows_and_greys_empty_windows():
    rng = np.random.default_rng(0)
    x_train = np.sort(rng.uniform(0, 5, 100))
    x_query = np.linspace(0, 5, 50)
    result = kr.nadaraya_watson(x_train, np.sin(x_train), x_query, kernel="boxcar", bandwidth=0.011)
    spec = kc.attention_heatmap(result.weights, x_query, x_train)
    assert_valid(spec)
    rows = dataset(spec)
    assert len(rows) <= kc.MAX_HEATMAP_CELLS
    shown = kc.heatmap_rows(50, 100)
    assert {row["row"] for row in rows} == set(range(len(shown)))
    for row in rows:
        assert row["empty"] == bool(result.empty[shown[row["row"]]])
        if row["empty"]:
            assert row["text"] == "empty window: no estimate"
    assert spec["layer"][0]["transform"] == [{"filter": "!datum.empty"}]
    assert spec["layer"][1]["transform"] == [{"filter": "datum.empty"}]
    assert spec["layer"][1]["mark"]["color"] == charts.MASKED_COLOR
    assert spec["title"]["subtitle"][1] == "grey rows: empty window, no weights at all"
    assert spec["title"]["subtitle"][2] == "30 of 50 queries shown, evenly spaced, to keep it fast"


def test_attention_heatmap_checks_its_shape(data):
    with exactly("weights must be (L, S) = (50, 50), got shape (3, 3)"):
        kc.attention_heatmap(np.zeros((3, 3)), data.x_query, data.x_train)


def test_query_weights_chart_marks_the_strongest_key_without_orange(data):
    one = kr.nadaraya_watson(data.x_train, data.y_train, [2.5], bandwidth=0.2)
    spec = kc.query_weights_chart(data.x_train, one.weights[0], 2.5)
    assert_valid(spec)
    rows = dataset(spec)
    np.testing.assert_allclose([row["weight"] for row in rows], one.weights[0])
    strongest = int(np.argmax(one.weights[0]))
    colors = [row["bar_color"] for row in rows]
    assert colors[strongest] == kc.STRONGEST_COLOR and colors.count(kc.STRONGEST_COLOR) == 1
    assert set(colors) == {kc.STRONGEST_COLOR, kc.DATA_COLOR}  # orange is the estimate only
    stems = spec["layer"][0]
    assert marks(stems["layer"]) == ["rule", "circle"]
    query = spec["layer"][1]
    assert query["encoding"]["x"] == {"datum": 2.5} and decorative(query)
    assert "they sum to 1.000" in spec["title"]


def test_query_weights_chart_of_an_empty_window_highlights_nothing(data):
    spec = kc.query_weights_chart(data.x_train, np.zeros(50), 2.5)
    assert_valid(spec)
    assert {row["bar_color"] for row in dataset(spec)} == {kc.DATA_COLOR}
    assert spec["layer"][0]["encoding"]["y"]["scale"] == {"domain": [0, 1]}


def test_weighted_targets_chart_shows_the_average_only_when_defined(data):
    one = kr.nadaraya_watson(data.x_train, data.y_train, [2.5], bandwidth=0.2)
    estimate = float(one.estimate[0])
    spec = kc.weighted_targets_chart(data.x_train, data.y_train, one.weights[0], 2.5, estimate)
    assert_valid(spec)
    rows = dataset(spec)
    shares = np.array([row["share"] for row in rows])
    assert shares.max() == 1.0 and shares.min() >= 0
    diamond = [layer for layer in spec["layer"] if layer["mark"].get("shape") == "diamond"]
    assert diamond and diamond[0]["encoding"]["y"] == {"datum": estimate}
    assert diamond[0]["mark"]["color"] == kc.ESTIMATE_COLOR
    assert decorative(spec["layer"][1])  # the rule at the estimate
    assert f"{estimate:.3f}" in spec["title"]["subtitle"]
    empty = kc.weighted_targets_chart(data.x_train, data.y_train, np.zeros(50), 2.5, float("nan"))
    assert_valid(empty)
    assert len(empty["layer"]) == 1 and "no key in the window" in empty["title"]["subtitle"]


def test_error_chart_has_three_curves_on_a_log_axis_and_marks_the_optimum(data):
    curves = kr.error_curves(
        data.x_train, data.y_train, kr.bandwidth_grid(), x_test=data.x_query, y_test=data.y_test
    )
    spec = kc.error_chart(curves, 0.5, noise_variance=0.25)
    assert_valid(spec)
    rows = dataset(spec)
    kinds = {row["kind"] for row in rows}
    assert kinds == {"training error", "leave-one-out error", "test error"}
    assert len(rows) == 3 * 61
    loo_rows = [row["error"] for row in rows if row["kind"] == "leave-one-out error"]
    np.testing.assert_allclose(loo_rows, curves.loo)
    lines = spec["layer"][0]
    assert lines["encoding"]["x"]["scale"]["type"] == "log"
    assert lines["encoding"]["color"]["scale"]["range"] == [
        kc.TRAIN_COLOR,
        kc.LOO_COLOR,
        kc.TEST_COLOR,
    ]
    assert charts.ACCENT not in lines["encoding"]["color"]["scale"]["range"]
    assert spec["layer"][1]["encoding"]["x"] == {"datum": 0.5}  # the current bandwidth
    diamond = spec["layer"][-1]
    assert diamond["encoding"]["x"] == {"datum": curves.best_bandwidth}
    assert diamond["encoding"]["y"] == {"datum": float(np.nanmin(curves.loo))}
    assert kr.format_bandwidth(curves.best_bandwidth) in spec["title"]["subtitle"]
    assert any(layer["encoding"].get("y") == {"datum": 0.25} for layer in spec["layer"])
    assert all(decorative(layer) for layer in spec["layer"][1:4])  # rule, floor, its label


def test_error_chart_drops_undefined_errors_and_has_no_optimum_for_a_flat_curve(data):
    boxcar = kr.error_curves(data.x_train, data.y_train, kr.bandwidth_grid(), kernel="boxcar")
    spec = kc.error_chart(boxcar, 0.5)
    assert_valid(spec)
    rows = dataset(spec)
    loo_rows = [row for row in rows if row["kind"] == "leave-one-out error"]
    assert len(loo_rows) == int((~np.isnan(boxcar.loo)).sum()) < 61
    assert all(row["error"] is not None for row in rows)
    flat = kr.error_curves(data.x_train, data.y_train, [0.1, 1.0], kernel="constant")
    spec = kc.error_chart(flat, 0.1)
    assert_valid(spec)
    assert not any(layer["mark"].get("shape") == "diamond" for layer in spec["layer"])
    assert "optimum" not in spec["title"]["subtitle"]


def test_learning_curves_chart_has_both_losses_and_both_bandwidths():
    runs = kr.load_learning_runs()
    spec = kc.learning_curves_chart(runs.curves, closed_form_best=0.2)
    assert_valid(spec)
    loss_rows = dataset(spec, "losses")
    series = {row["series"] for row in loss_rows}
    assert series == {
        "plain training loss (what it minimises)",
        "its leave-one-out loss (what it costs)",
        "leave-one-out loss (what it minimises)",
    }
    steps = runs.loo.bandwidths.size
    assert len(loss_rows) == 3 * steps
    assert len(dataset(spec, "bandwidths")) == 2 * steps
    losses, bandwidths = spec["hconcat"]
    dash = losses["encoding"]["strokeDash"]["scale"]
    assert dash["range"][dash["domain"].index("its leave-one-out loss (what it costs)")] == [5, 4]
    colors = dict(zip(*losses["encoding"]["color"]["scale"].values(), strict=True))
    assert colors["plain training loss (what it minimises)"] == kc.TRAIN_COLOR
    assert colors["its leave-one-out loss (what it costs)"] == kc.LOO_COLOR
    assert bandwidths["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    assert bandwidths["layer"][1]["encoding"]["y"] == {"datum": 0.2}
    assert all(decorative(layer) for layer in bandwidths["layer"][1:])
    assert spec["autosize"]["type"] == "pad"  # a concatenation is never fitted
    assert "ends at h = 0.203" in spec["description"]
    with exactly("no learning curves to draw"):
        kc.learning_curves_chart({})


def test_the_page_uses_one_colour_for_one_meaning():
    meanings = [
        kc.TRUTH_COLOR,
        kc.DATA_COLOR,
        kc.STRONGEST_COLOR,
        kc.ESTIMATE_COLOR,
        kc.EMPTY_COLOR,
        kc.CURRENT_COLOR,
        kc.TRAIN_COLOR,
        kc.LOO_COLOR,
        kc.TEST_COLOR,
    ]
    assert len(set(meanings)) == len(meanings)
