"""The chart builders: inspect the Vega-Lite spec they produce, not pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lab import charts


def spec_data(chart) -> list[dict]:
    """The one inline dataset of a chart's spec."""
    spec = chart.to_dict()
    datasets = list(spec["datasets"].values())
    assert len(datasets) == 1
    return datasets[0]


def layers(chart) -> list[dict]:
    return chart.to_dict()["layer"]


def test_heatmap_has_one_row_per_cell_with_tooltips():
    weights = np.full((3, 4), 0.25)
    chart = charts.weights_heatmap(weights, ["a", "b", "c"], ["w", "x", "y", "z"])
    rows = spec_data(chart)
    assert len(rows) == 12
    assert {(row["row"], row["col"]) for row in rows} == {
        (i, j) for i in range(3) for j in range(4)
    }
    cells = layers(chart)[0]
    tooltip_fields = [item["field"] for item in cells["encoding"]["tooltip"]]
    assert tooltip_fields == ["row_label", "col_label", "text"]
    assert cells["encoding"]["color"]["scale"]["domain"] == [0.0, 1.0]
    assert cells["encoding"]["color"]["scale"]["scheme"] == charts.WEIGHT_SCHEME


def test_repeated_tokens_stay_separate_and_in_order():
    tokens = ["the", "cat", "saw", "the", "dog"]
    chart = charts.weights_heatmap(np.eye(5), tokens, tokens)
    rows = spec_data(chart)
    # Axes are keyed by position, so the two "the" are different rows and columns ...
    assert sorted({row["row"] for row in rows}) == [0, 1, 2, 3, 4]
    assert sorted({row["col"] for row in rows}) == [0, 1, 2, 3, 4]
    encoding = layers(chart)[0]["encoding"]
    assert encoding["x"]["field"] == "col" and encoding["y"]["field"] == "row"
    # ... and the axis shows the token text at each position, in sentence order.
    label_expr = encoding["x"]["axis"]["labelExpr"]
    assert label_expr == json.dumps(tokens) + "[datum.value]"
    diagonal = {row["row"]: row["col_label"] for row in rows if row["row"] == row["col"]}
    assert [diagonal[i] for i in range(5)] == tokens


def test_labels_with_quotes_and_emoji_are_escaped_for_vega():
    labels = ['say "hi"', "back\\slash", "🦊", "</script>"]
    expression = charts.labels_expr(labels)
    assert json.loads(expression.removesuffix("[datum.value]")) == labels


def test_signed_heatmap_is_diverging_and_symmetric():
    matrix = np.array([[-3.0, 1.0], [0.5, 2.0]])
    chart = charts.heatmap(matrix, ["a", "b"], ["c", "d"], signed=True)
    scale = layers(chart)[0]["encoding"]["color"]["scale"]
    assert scale["scheme"] == charts.SIGNED_SCHEME
    assert scale["domain"] == [-3.0, 3.0] and scale["domainMid"] == 0


def test_masked_cells_are_marked_not_drawn_as_zero():
    weights = np.array([[1.0, 0.0], [0.4, 0.6]])
    mask = np.array([[True, False], [True, True]])
    chart = charts.weights_heatmap(weights, ["a", "b"], ["a", "b"], mask=mask)
    rows = spec_data(chart)
    masked = [row for row in rows if row["masked"]]
    assert [(row["row"], row["col"], row["text"]) for row in masked] == [(0, 1, "masked")]
    chart_layers = layers(chart)
    assert chart_layers[0]["transform"] == [{"filter": "!datum.masked"}]
    assert chart_layers[1]["mark"]["color"] == charts.MASKED_COLOR
    assert chart_layers[1]["transform"] == [{"filter": "datum.masked"}]


def test_values_printed_in_cells_only_when_small():
    small = charts.weights_heatmap(np.eye(3), list("abc"), list("abc"))
    assert any(
        layer["mark"]["type"] == "text" and "text" in layer.get("encoding", {})
        for layer in layers(small)
    )
    big = charts.weights_heatmap(
        np.eye(20), list("abcdefghijklmnopqrst"), list("abcdefghijklmnopqrst")
    )
    assert not any("text" in layer.get("encoding", {}) for layer in layers(big))


def test_matrix_view_title_has_shape():
    chart = charts.matrix_view(np.ones((4, 5)), list("abcd"), "Q = X W_q")
    assert chart.to_dict()["title"] == "Q = X W_q   (4 × 5)"


def test_shared_domain_and_hidden_legend():
    domain = charts.symmetric_domain(np.array([[1.0, -2.0]]), np.array([[5.0]]))
    assert domain == (-5.0, 5.0)
    chart = charts.matrix_view(np.ones((1, 2)), ["a"], "K", domain=domain, legend=False)
    color = layers(chart)[0]["encoding"]["color"]
    assert color["scale"]["domain"] == [-5.0, 5.0] and color["legend"] is None


def test_bar_chart_keeps_repeated_labels_apart():
    chart = charts.bar_chart([0.2, 0.3, 0.5], ["the", "cat", "the"], domain=(0, 1), highlight=2)
    rows = spec_data(chart)
    assert [row["position"] for row in rows] == [0, 1, 2]
    assert [row["highlight"] for row in rows] == [False, False, True]


def test_stacked_contributions_sum_to_the_output():
    contributions = np.array([[0.1, -0.2], [0.3, 0.4]])
    chart = charts.stacked_contributions(contributions, ["a", "b"])
    spec = chart.to_dict()
    totals = next(data for data in spec["datasets"].values() if "total" in data[0])
    np.testing.assert_allclose([row["total"] for row in totals], [0.4, 0.2])


@pytest.mark.parametrize(
    ("matrix", "rows", "cols", "message"),
    [
        (np.ones(3), ["a"], ["b"], "2-D"),
        (np.ones((2, 2)), ["a"], ["b", "c"], "row_labels"),
        (np.ones((2, 2)), ["a", "b"], ["c"], "col_labels"),
    ],
)
def test_heatmap_rejects_mismatched_input(matrix, rows, cols, message):
    with pytest.raises(ValueError, match=message):
        charts.heatmap(matrix, rows, cols)


def test_row_labels_sit_beside_the_cells_and_wide_column_labels_turn():
    tokens = ["because", "pronoun", "it"]
    chart = charts.weights_heatmap(np.eye(3), tokens, tokens, cell_size=30)
    encoding = layers(chart)[0]["encoding"]
    assert encoding["y"]["axis"]["labelAlign"] == "right"
    assert encoding["x"]["axis"]["labelAngle"] != 0  # 7 characters do not fit 30 px
    assert encoding["x"]["axis"]["labelOverlap"] is False  # every token keeps its label
    narrow = charts.weights_heatmap(np.eye(3), ["a", "b", "c"], ["a", "b", "c"], cell_size=30)
    assert layers(narrow)[0]["encoding"]["x"]["axis"]["labelAngle"] == 0
