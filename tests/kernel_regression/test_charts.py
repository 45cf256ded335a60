"""Chart builders of the kernel-regression page: inspect the Vega-Lite specs, not pixels."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from lab import kernel_regression as kr
from lab import kernel_regression_charts as krc
from lab import legacy_charts as charts


@pytest.fixture(scope="module")
def data() -> kr.RegressionData:
    return kr.make_data()


def datasets(spec: dict) -> list[list[dict]]:
    return list(spec.get("datasets", {}).values())


def main_rows(chart) -> list[dict]:
    """The rows of the chart's top-level dataset (the one the layers share)."""
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    name = spec["data"]["name"]
    return spec["datasets"][name]


def marks(spec: dict) -> list[str]:
    found = []
    for layer in spec.get("layer", []):
        mark = layer["mark"]
        found.append(mark if isinstance(mark, str) else mark["type"])
    return found


def test_format_bandwidth():
    assert krc.format_bandwidth(0.01) == "0.01"
    assert krc.format_bandwidth(0.0112202) == "0.0112"
    assert krc.format_bandwidth(0.251189) == "0.251"
    assert krc.format_bandwidth(1.0) == "1"
    assert krc.format_bandwidth(10.0) == "10"
    assert krc.format_bandwidth(1e-4) == "0.0001"
    assert krc.format_bandwidth(2e-7) == "2e-07"


def test_fit_chart_draws_truth_data_and_estimate(data):
    result = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=0.25)
    chart = krc.fit_chart(data.x_train, data.y_train, data.x_query, result.estimate, data.truth)
    rows = main_rows(chart)
    counts = {
        layer: sum(row["layer"] == layer for row in rows)
        for layer in ("truth", "data", "estimate", "empty")
    }
    assert counts == {"truth": 50, "data": 50, "estimate": 50, "empty": 0}
    estimate_rows = [row for row in rows if row["layer"] == "estimate"]
    np.testing.assert_allclose([row["y"] for row in estimate_rows], result.estimate)
    spec = chart.to_dict()
    assert marks(spec) == ["line", "circle", "line"]
    color = spec["layer"][0]["encoding"]["color"]
    assert color["scale"]["domain"][2] == "estimate at the queries"
    assert color["scale"]["range"][2] == krc.ESTIMATE_COLOR


def test_fit_chart_marks_queries_without_an_estimate_and_breaks_the_line(data):
    result = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel="boxcar", bandwidth=0.05
    )
    assert result.empty.any() and not result.empty.all()
    chart = krc.fit_chart(data.x_train, data.y_train, data.x_query, result.estimate, data.truth)
    rows = main_rows(chart)
    empty_rows = [row for row in rows if row["layer"] == "empty"]
    np.testing.assert_allclose([row["x"] for row in empty_rows], data.x_query[result.empty])
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
    spec = chart.to_dict()
    assert marks(spec)[-1] == "tick"
    assert "no estimate: empty window" in spec["layer"][0]["encoding"]["color"]["scale"]["domain"]


def test_fit_chart_checks_lengths(data):
    with pytest.raises(ValueError, match="same length"):
        krc.fit_chart(data.x_train, data.y_train, data.x_query, data.truth[:3], data.truth)


@pytest.mark.parametrize("kernel", list(kr.KERNELS))
def test_kernel_chart_draws_the_profile_at_this_bandwidth(kernel):
    h = 0.5
    chart = krc.kernel_chart(kernel, h, spacing=0.1)
    rows = main_rows(chart)
    distances = np.array([row["distance"] for row in rows])
    weights = np.array([row["weight"] for row in rows])
    assert distances.min() == -2.5 and distances.max() == 2.5
    np.testing.assert_allclose(weights, kr.kernel_weight(distances, h, kernel))
    assert weights[distances == 0.0] == 1.0
    if kr.KERNELS[kernel].compact:
        assert (weights[np.abs(distances) > h * (1 + 1e-12)] == 0).all()
    spec = chart.to_dict()
    assert spec["title"]["text"] == f"{kr.KERNELS[kernel].label} kernel at h = 0.5"
    rules = [layer for layer in spec["layer"] if layer["mark"]["type"] == "rule"]
    rule_positions = sorted(
        row["position"] for rule in rules for row in spec["datasets"][rule["data"]["name"]]
    )
    assert rule_positions == [-0.5, -0.1, 0.1, 0.5]


def test_kernel_chart_keeps_a_narrow_kernel_visible():
    rows = main_rows(krc.kernel_chart("gaussian", 0.01))
    inside = [row for row in rows if abs(row["distance"]) <= 0.03]
    assert len(inside) >= 50  # sampled at multiples of h, not only on the coarse grid


def test_heatmap_rows_stay_under_the_cell_budget():
    assert list(krc.heatmap_rows(50, 50)) == list(range(50))
    rows = krc.heatmap_rows(50, 100)
    assert len(rows) * 100 <= krc.MAX_HEATMAP_CELLS and rows[0] == 0 and rows[-1] == 49
    assert len(krc.heatmap_rows(50, 10_000)) == 1
    with pytest.raises(ValueError):
        krc.heatmap_rows(0, 5)


def test_attention_heatmap_is_queries_by_keys_with_weights_from_0_to_1(data):
    result = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=0.25)
    chart = krc.attention_heatmap(result.weights, data.x_query, data.x_train, title="t")
    rows = main_rows(chart)
    assert len(rows) == 50 * 50
    matrix = np.zeros((50, 50))
    for row in rows:
        matrix[row["row"], row["col"]] = row["value"]
    np.testing.assert_allclose(matrix, result.weights)
    spec = chart.to_dict()
    cells = spec["layer"][0]
    assert cells["encoding"]["x"]["field"] == "col" and cells["encoding"]["y"]["field"] == "row"
    scale = cells["encoding"]["color"]["scale"]
    assert scale["domain"] == [0.0, 1.0] and scale["scheme"] == charts.WEIGHT_SCHEME
    assert scale["type"] == "sqrt"
    tooltips = [item["field"] for item in cells["encoding"]["tooltip"]]
    assert tooltips == ["row_label", "col_label", "text"]
    # Axis labels are the x values, thinned to about ten.
    x_axis = cells["encoding"]["x"]["axis"]
    labels = json.loads(x_axis["labelExpr"].removesuffix("[datum.value]"))
    assert labels == [f"{value:.2f}" for value in data.x_train]
    assert len(x_axis["values"]) <= 10
    assert spec["title"]["subtitle"] == ["each row sums to 1"]


def test_attention_heatmap_thins_rows_and_greys_empty_windows():
    rng = np.random.default_rng(0)
    x_train = np.sort(rng.uniform(0, 5, 100))
    x_query = np.linspace(0, 5, 50)
    result = kr.nadaraya_watson(x_train, np.sin(x_train), x_query, kernel="boxcar", bandwidth=0.011)
    chart = krc.attention_heatmap(result.weights, x_query, x_train)
    rows = main_rows(chart)
    assert len(rows) <= krc.MAX_HEATMAP_CELLS
    shown = krc.heatmap_rows(50, 100)
    assert {row["row"] for row in rows} == set(range(len(shown)))
    for row in rows:
        assert row["empty"] == bool(result.empty[shown[row["row"]]])
        if row["empty"]:
            assert row["text"] == "empty window: no estimate"
    spec = chart.to_dict()
    assert spec["layer"][0]["transform"] == [{"filter": "!datum.empty"}]
    assert spec["layer"][1]["transform"] == [{"filter": "datum.empty"}]
    assert spec["layer"][1]["mark"]["color"] == charts.MASKED_COLOR
    assert "grey rows: empty window" in spec["title"]["subtitle"][0]
    assert "of 50 queries shown" in spec["title"]["subtitle"][1]


def test_attention_heatmap_checks_its_shape(data):
    with pytest.raises(ValueError, match="weights must be"):
        krc.attention_heatmap(np.zeros((3, 3)), data.x_query, data.x_train)


def test_query_weights_chart_highlights_the_strongest_key(data):
    one = kr.nadaraya_watson(data.x_train, data.y_train, [2.5], bandwidth=0.2)
    chart = krc.query_weights_chart(data.x_train, one.weights[0], 2.5)
    rows = main_rows(chart)
    np.testing.assert_allclose([row["weight"] for row in rows], one.weights[0])
    strongest = int(np.argmax(one.weights[0]))
    colors = [row["bar_color"] for row in rows]
    assert colors[strongest] == charts.ACCENT and colors.count(charts.ACCENT) == 1
    spec = chart.to_dict()
    assert spec["layer"][0]["mark"]["type"] == "rule"
    assert spec["layer"][2]["encoding"]["x"] == {"datum": 2.5}
    assert "they sum to 1.000" in spec["title"]


def test_weighted_targets_chart_shows_the_average_only_when_defined(data):
    one = kr.nadaraya_watson(data.x_train, data.y_train, [2.5], bandwidth=0.2)
    estimate = float(one.estimate[0])
    spec = krc.weighted_targets_chart(
        data.x_train, data.y_train, one.weights[0], 2.5, estimate
    ).to_dict()
    rows = datasets(spec)[0] if len(datasets(spec)) == 1 else spec["datasets"][spec["data"]["name"]]
    shares = np.array([row["share"] for row in rows])
    assert shares.max() == 1.0 and shares.min() >= 0
    diamond = [layer for layer in spec["layer"] if layer["mark"].get("shape") == "diamond"]
    assert diamond and diamond[0]["encoding"]["y"] == {"datum": estimate}
    assert f"{estimate:.3f}" in spec["title"]["subtitle"]
    empty = krc.weighted_targets_chart(
        data.x_train, data.y_train, np.zeros(50), 2.5, float("nan")
    ).to_dict()
    assert len(empty["layer"]) == 1 and "no key in the window" in empty["title"]["subtitle"]


def test_error_chart_has_three_curves_on_a_log_axis_and_marks_the_optimum(data):
    curves = kr.error_curves(
        data.x_train, data.y_train, kr.bandwidth_grid(), x_test=data.x_query, y_test=data.y_test
    )
    chart = krc.error_chart(curves, 0.5, noise_variance=0.25)
    rows = main_rows(chart)
    kinds = {row["kind"] for row in rows}
    assert kinds == {"training error", "leave-one-out error", "test error"}
    assert len(rows) == 3 * 61
    spec = chart.to_dict()
    lines = spec["layer"][0]
    assert lines["encoding"]["x"]["scale"]["type"] == "log"
    assert spec["layer"][1]["encoding"]["x"] == {"datum": 0.5}  # the current bandwidth
    diamond = spec["layer"][-1]
    assert diamond["encoding"]["x"] == {"datum": curves.best_bandwidth}
    assert diamond["encoding"]["y"] == {"datum": float(np.nanmin(curves.loo))}
    assert krc.format_bandwidth(curves.best_bandwidth) in spec["title"]["subtitle"]
    assert any(layer["encoding"].get("y") == {"datum": 0.25} for layer in spec["layer"])


def test_error_chart_drops_undefined_errors_and_has_no_optimum_for_a_flat_curve(data):
    boxcar = kr.error_curves(data.x_train, data.y_train, kr.bandwidth_grid(), kernel="boxcar")
    rows = main_rows(krc.error_chart(boxcar, 0.5))
    loo_rows = [row for row in rows if row["kind"] == "leave-one-out error"]
    assert len(loo_rows) == int((~np.isnan(boxcar.loo)).sum()) < 61
    assert all(row["error"] is not None for row in rows)
    flat = kr.error_curves(data.x_train, data.y_train, [0.1, 1.0], kernel="constant")
    spec = krc.error_chart(flat, 0.1).to_dict()
    assert not any(layer["mark"].get("shape") == "diamond" for layer in spec["layer"])
    assert "optimum" not in spec["title"]["subtitle"]


def test_learning_curves_chart_has_both_losses_and_both_bandwidths():
    _, _, runs = kr.load_learning_curves()
    chart = krc.learning_curves_chart(runs, closed_form_best=0.2)
    spec = chart.to_dict()
    rows = spec["datasets"][spec["data"]["name"]]
    series = {row["series"] for row in rows}
    assert series == {
        "plain training loss (what it minimises)",
        "its leave-one-out loss (what it costs)",
        "leave-one-out loss (what it minimises)",
    }
    steps = runs["loo"].bandwidths.size
    assert len(rows) == 3 * steps
    losses, bandwidths = spec["hconcat"]
    dash = losses["encoding"]["strokeDash"]["scale"]
    assert dash["range"][dash["domain"].index("its leave-one-out loss (what it costs)")] == [5, 4]
    assert bandwidths["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    assert bandwidths["layer"][1]["encoding"]["y"] == {"datum": 0.2}
    with pytest.raises(ValueError, match="no learning curves"):
        krc.learning_curves_chart({})


def test_fit_width_asks_for_fit_x(data):
    chart = krc.fit_width(krc.kernel_chart("gaussian", 1.0))
    assert chart.to_dict()["autosize"] == {"type": "fit-x", "contains": "padding"}
