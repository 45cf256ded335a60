"""The shared chart builders: inspect the Vega-Lite spec they produce, not pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lab import charts
from tests.vega import assert_valid, dataset


def test_heatmap_has_one_row_per_cell_with_tooltips():
    weights = np.full((3, 4), 0.25)
    spec = charts.weights_heatmap(weights, ["a", "b", "c"], ["w", "x", "y", "z"], title="W")
    assert_valid(spec)
    rows = dataset(spec)
    assert len(rows) == 12
    assert {(row["row"], row["col"]) for row in rows} == {
        (i, j) for i in range(3) for j in range(4)
    }
    tooltip_fields = [item["field"] for item in spec["encoding"]["tooltip"]]
    assert tooltip_fields == ["row_label", "col_label", "text"]
    color = spec["layer"][0]["encoding"]["color"]
    assert color["scale"] == {"scheme": charts.WEIGHT_SCHEME, "domain": [0.0, 1.0]}
    assert spec["title"] == "W" and spec["description"].startswith("W: 3 rows")


def test_repeated_tokens_stay_separate_and_in_order():
    tokens = ["the", "cat", "saw", "the", "dog"]
    spec = charts.weights_heatmap(np.eye(5), tokens, tokens)
    rows = dataset(spec)
    # Axes are keyed by position, so the two "the" are different rows and columns ...
    assert sorted({row["row"] for row in rows}) == [0, 1, 2, 3, 4]
    assert sorted({row["col"] for row in rows}) == [0, 1, 2, 3, 4]
    encoding = spec["encoding"]
    assert encoding["x"]["field"] == "col" and encoding["y"]["field"] == "row"
    # ... and the axis shows the token text at each position, in sentence order.
    assert encoding["x"]["axis"]["labelExpr"] == json.dumps(tokens) + "[datum.value]"
    diagonal = {row["row"]: row["col_label"] for row in rows if row["row"] == row["col"]}
    assert [diagonal[i] for i in range(5)] == tokens


def test_labels_with_quotes_and_emoji_are_escaped_for_vega():
    labels = ['say "hi"', "back\\slash", "🦊", "</script>"]
    expression = charts.labels_expr(labels)
    assert json.loads(expression.removesuffix("[datum.value]")) == labels
    assert_valid(charts.weights_heatmap(np.eye(4), labels, labels))


def test_signed_heatmap_is_diverging_and_symmetric():
    matrix = np.array([[-3.0, 1.0], [0.5, 2.0]])
    spec = charts.heatmap(matrix, ["a", "b"], ["c", "d"], signed=True)
    assert_valid(spec)
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale == {"scheme": charts.SIGNED_SCHEME, "domain": [-3.0, 3.0], "domainMid": 0}


def test_masked_cells_are_marked_not_drawn_as_zero():
    weights = np.array([[1.0, 0.0], [0.4, 0.6]])
    mask = np.array([[True, False], [True, True]])
    spec = charts.weights_heatmap(weights, ["a", "b"], ["a", "b"], mask=mask)
    assert_valid(spec)
    masked = [row for row in dataset(spec) if row["masked"]]
    assert [(row["row"], row["col"], row["text"]) for row in masked] == [(0, 1, "masked")]
    cells, grey, cross = spec["layer"][:3]
    assert cells["transform"] == [{"filter": "!datum.masked && !datum.special"}]
    assert grey["mark"]["color"] == charts.MASKED_COLOR and grey["mark"]["aria"] is False
    assert grey["transform"] == cross["transform"] == [{"filter": "datum.masked"}]
    assert cross["mark"]["text"] == "×"


def test_no_mask_no_masked_layers():
    spec = charts.weights_heatmap(np.eye(2), ["a", "b"], ["a", "b"], show_values=False)
    assert len(spec["layer"]) == 1


def test_nan_and_infinite_cells_are_an_alarm_not_a_colour():
    matrix = np.array([[np.nan, 0.5], [-np.inf, 0.25]])
    spec = charts.weights_heatmap(matrix, ["a", "b"], ["a", "b"])
    assert_valid(spec)  # NaN never reaches the data: the cell holds 0 and says "nan"
    special = [row for row in dataset(spec) if row["special"]]
    assert [(row["row"], row["col"], row["text"]) for row in special] == [
        (0, 0, "nan"),
        (1, 0, "-inf"),
    ]
    alarm = [
        layer for layer in spec["layer"] if layer["transform"] == [{"filter": "datum.special"}]
    ]
    assert alarm[0]["mark"]["color"] == charts.ALARM_COLOR


def test_values_printed_in_cells_only_when_small():
    small = charts.weights_heatmap(np.eye(3), list("abc"), list("abc"))
    assert any(layer["mark"]["type"] == "text" for layer in small["layer"])
    assert small["resolve"] == {"scale": {"color": "independent"}}
    letters = list("abcdefghijklmnopqrst")
    big = charts.weights_heatmap(np.eye(20), letters, letters)
    assert not any("text" in layer.get("encoding", {}) for layer in big["layer"])
    assert "resolve" not in big


def test_text_turns_white_on_dark_cells():
    assert charts.text_colors([0.1, 0.9], (0.0, 1.0), signed=False) == [charts.INK, "white"]
    assert charts.text_colors([-1.0, 0.0, 1.0], (-1.0, 1.0), signed=True) == [
        "white",
        charts.INK,
        "white",
    ]


def test_matrix_view_title_has_shape():
    spec = charts.matrix_view(np.ones((4, 5)), list("abcd"), "Q = X W_q")
    assert spec["title"] == "Q = X W_q   (4 × 5)"
    assert_valid(spec)


def test_shared_domain_and_hidden_legend():
    domain = charts.symmetric_domain(np.array([[1.0, -2.0]]), np.array([[5.0]]))
    assert domain == (-5.0, 5.0)
    spec = charts.matrix_view(np.ones((1, 2)), ["a"], "K", domain=domain, legend=False)
    color = spec["layer"][0]["encoding"]["color"]
    assert color["scale"]["domain"] == [-5.0, 5.0] and color["legend"] is None
    assert_valid(spec)


def test_bar_chart_keeps_repeated_labels_apart():
    spec = charts.bar_chart([0.2, 0.3, 0.5], ["the", "cat", "the"], domain=(0, 1), highlight=2)
    assert_valid(spec)
    rows = dataset(spec)
    assert [row["position"] for row in rows] == [0, 1, 2]
    assert [row["bar_color"] for row in rows] == [charts.PRIMARY, charts.PRIMARY, charts.ACCENT]
    assert [row["label_at"] for row in rows] == [0.2, 0.3, 0.5]


def test_bar_labels_of_negative_bars_start_at_zero():
    rows = dataset(charts.bar_chart([-1.0, 2.0], ["a", "b"]))
    assert [row["label_at"] for row in rows] == [0.0, 2.0]


def test_stacked_contributions_sum_to_the_output():
    contributions = np.array([[0.1, -0.2], [0.3, 0.4]])
    spec = charts.stacked_contributions(contributions, ["a", "b"])
    assert_valid(spec)
    totals = dataset(spec, "totals")
    np.testing.assert_allclose([row["total"] for row in totals], [0.4, 0.2])
    assert len(dataset(spec, "segments")) == 4


def test_table_turns_numpy_into_plain_values():
    rows = charts.table(a=np.array([1, 2]), b=np.array([0.5, 1.5]), c=["x", "y"])
    assert rows == [{"a": 1, "b": 0.5, "c": "x"}, {"a": 2, "b": 1.5, "c": "y"}]
    assert type(rows[0]["a"]) is int and type(rows[0]["b"]) is float
    with pytest.raises(ValueError, match=r"^every column needs the same length, got a: 2, b: 1$"):
        charts.table(a=[1, 2], b=[1])


@pytest.mark.parametrize(
    ("matrix", "rows", "cols", "message"),
    [
        (np.ones(3), ["a"], ["b"], r"^matrix must have 2 axes, got shape \(3,\)$"),
        (np.ones((2, 2)), ["a"], ["b", "c"], r"^row_labels has 1 labels but the data has 2$"),
        (np.ones((2, 2)), ["a", "b"], ["c"], r"^col_labels has 1 labels but the data has 2$"),
        (np.ones((2, 2)), ["a", "b"], ["c", "d"], None),
    ],
)
def test_heatmap_rejects_mismatched_input(matrix, rows, cols, message):
    if message is None:
        with pytest.raises(ValueError, match=r"^mask must be boolean"):
            charts.heatmap(matrix, rows, cols, mask=np.ones((2, 2)))
    else:
        with pytest.raises(ValueError, match=message):
            charts.heatmap(matrix, rows, cols)


def test_row_labels_sit_beside_the_cells_and_wide_column_labels_turn():
    tokens = ["because", "pronoun", "it"]
    spec = charts.weights_heatmap(np.eye(3), tokens, tokens, cell_size=30)
    encoding = spec["encoding"]
    assert encoding["y"]["axis"]["labelAlign"] == "right"
    assert encoding["x"]["axis"]["labelAngle"] == -45  # 7 characters do not fit 30 px
    assert encoding["x"]["axis"]["labelOverlap"] is False  # every token keeps its label
    narrow = charts.weights_heatmap(np.eye(3), ["a", "b", "c"], ["a", "b", "c"], cell_size=30)
    assert narrow["encoding"]["x"]["axis"]["labelAngle"] == 0


def test_cells_shrink_to_fit_a_width():
    spec = charts.heatmap(np.zeros((4, 10)), list("abcd"), list("abcdefghij"), max_width=200)
    assert spec["width"] == {"step": 20}
    assert charts.default_cell_size(3, 3) == 46 and charts.default_cell_size(40, 2) == 13


def test_every_spec_sizes_to_its_content():
    specs = [
        charts.weights_heatmap(np.eye(2), ["a", "b"], ["a", "b"]),
        charts.bar_chart([1.0], ["a"]),
        charts.stacked_contributions(np.ones((2, 2)), ["a", "b"]),
    ]
    assert all(spec["autosize"] == {"type": "pad", "contains": "padding"} for spec in specs)
