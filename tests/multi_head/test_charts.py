"""The multi-head page's chart builders: inspect the Vega-Lite specs, not pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lab.multi_head import EXAMPLES, explain_head, hand_head_view, hand_model, toy_tokens
from lab.multi_head.charts import (
    HEAD_COLORS,
    MIN_LINE_WEIGHT,
    NOT_APPLICABLE,
    concatenation,
    feature_matrix,
    feature_scores,
    head_map,
    head_output,
    head_view,
    layer_output,
    maps_per_row,
    output_projection,
    outputs_per_row,
    pattern_table,
)
from tests.multi_head.helpers import exactly
from tests.vega import assert_valid

TOKENS = ["the", "cat", "saw", "the", "dog"]


def layer_data(spec: dict, layer: dict) -> list[dict]:
    return spec["datasets"][layer["data"]["name"]]


def head_weights():
    previous = np.eye(5, k=-1)
    previous[0, 0] = 1.0
    uniform = np.full((5, 5), 0.2)
    return np.stack([previous, uniform])  # (H, L, L)


def test_head_view_draws_one_line_per_head_and_pair_with_opacity_by_weight():
    spec = head_view(head_weights(), TOKENS, ["prev", "flat"])
    rules = spec["layer"][0]
    assert rules["mark"]["type"] == "rule"
    lines = layer_data(spec, rules)
    assert len(lines) == 5 + 25  # the exact head's 5 lines and all 25 of the flat one
    assert {(row["head"], row["query"], row["key"]) for row in lines if row["head"] == "prev"} == {
        ("prev", 0, 0),
        ("prev", 1, 0),
        ("prev", 2, 1),
        ("prev", 3, 2),
        ("prev", 4, 3),
    }
    assert rules["encoding"]["opacity"]["field"] == "weight"
    assert rules["encoding"]["opacity"]["scale"] == {"domain": [0, 1], "range": [0, 1]}
    assert rules["encoding"]["color"]["scale"]["range"] == list(HEAD_COLORS[:2])
    tooltip = [item.get("title", item["field"]) for item in rules["encoding"]["tooltip"]]
    assert tooltip == ["head", "query", "key", "weight"]


def test_head_view_keeps_repeated_words_apart_and_in_order():
    spec = head_view(head_weights(), TOKENS, ["prev", "flat"])
    words = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert len(words) == 2  # the query column and the key column
    for layer in words:
        rows = layer_data(spec, layer)
        assert [row["label"] for row in rows] == TOKENS
        field = layer["encoding"]["y"]["field"]
        assert [row[field] for row in rows] == [0, 1, 2, 3, 4]  # keyed by position


def test_hovering_a_word_filters_the_lines():
    spec = head_view(head_weights(), TOKENS, ["prev", "flat"])
    params = {param["name"]: param for param in spec.get("params", [])}
    for layer in spec["layer"]:
        params |= {param["name"]: param for param in layer.get("params", [])}
    assert {"hover_query", "hover_key"} <= set(params)
    # each selection listens only to its own column's tiles, so hovering a query word
    # leaves the key selection empty (unscoped, it would hide every line)
    names = {layer.get("name") for layer in spec["layer"]}
    for name, field in (("hover_query", "query"), ("hover_key", "key")):
        select = params[name]["select"]
        assert select["fields"] == [field]
        assert select["on"] == f"@{field}_tiles_marks:pointerover"
        assert select["clear"] == f"@{field}_tiles_marks:pointerout"
        assert f"{field}_tiles" in names
    filters = [step["filter"] for step in spec["layer"][0]["transform"]]
    assert {"param": "hover_query", "empty": True} in filters
    assert {"param": "hover_key", "empty": True} in filters


def test_hidden_heads_and_faint_weights_draw_no_lines():
    weights = head_weights()
    weights[1] = MIN_LINE_WEIGHT / 2  # too faint to draw
    spec = head_view(weights, TOKENS, ["prev", "flat"])
    assert {row["head"] for row in layer_data(spec, spec["layer"][0])} == {"prev"}
    hidden = head_view(head_weights(), TOKENS, ["prev", "flat"], visible=[False, True])
    assert {row["head"] for row in layer_data(hidden, hidden["layer"][0])} == {"flat"}
    assert hidden["layer"][0]["encoding"]["color"]["legend"]["values"] == ["flat"]
    nothing = head_view(head_weights(), TOKENS, ["prev", "flat"], visible=[False, False])
    assert layer_data(nothing, nothing["layer"][0]) == []


def test_head_view_escapes_odd_labels():
    odd = ['say "hi"', "</script>", "🦊", "a\\b", "x"]
    spec = head_view(head_weights(), odd, ["a", "b"])
    text = json.dumps(spec)
    assert json.loads(text) == spec
    words = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "text")
    assert [row["label"] for row in layer_data(spec, words)] == odd


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.ones((2, 3)), ["a"] * 3, ["h"]), "head_weights must have shape (H, L, L), got (2, 3)"),
        ((np.ones((1, 3, 3)), ["a"] * 2, ["h"]), "2 tokens for weights over 3 positions"),
        ((np.ones((1, 3, 3)), ["a"] * 3, ["h", "i"]), "2 head names for 1 heads"),
    ],
)
def test_head_view_rejects_mismatched_inputs(args, message):
    with pytest.raises(ValueError, match=exactly(message)):
        head_view(*args)
    with pytest.raises(ValueError, match=exactly("visible has 1 flags for 2 heads")):
        head_view(np.ones((2, 3, 3)) / 3, ["a"] * 3, ["h", "i"], visible=[True])


def test_pattern_table_marks_missing_scores_and_bolds_strong_ones():
    scores = np.array([[0.8, np.nan], [0.2, 0.61]])
    spec = pattern_table(scores, ["L1 H1", "L1 H2"], ["previous", "antecedent"])
    assert_valid(spec)
    (rows,) = spec["datasets"].values()
    assert len(rows) == 4
    missing = [row for row in rows if row["missing"]]
    assert len(missing) == 1 and missing[0]["text"] == NOT_APPLICABLE
    assert [row["weight"] for row in rows] == ["bold", "normal", "normal", "bold"]
    cells = spec["layer"][0]
    assert cells["encoding"]["color"]["scale"]["domain"] == [0, 1]
    assert spec["resolve"]["scale"]["color"] == "independent"
    mismatch = "2 head names and 1 pattern names for scores of shape (2, 2)"
    with pytest.raises(ValueError, match=exactly(mismatch)):
        pattern_table(scores, ["a", "b"], ["p"])
    with pytest.raises(ValueError, match=exactly("scores must have 2 axes, got shape (3,)")):
        pattern_table(np.ones(3), ["a"], ["p"])


def test_every_spec_is_valid_vega_lite_with_a_text_alternative():
    specs = [
        head_view(head_weights(), TOKENS, ["prev", "flat"]),
        head_view(head_weights(), TOKENS, ["prev", "flat"], visible=[False, False]),
        head_view(np.ones((1, 1, 1)), ["solo"], ["only"]),
        pattern_table(np.array([[0.8, np.nan], [0.2, 0.61]]), ["a", "b"], ["p", "q"], title="t"),
    ]
    for spec in specs:
        assert_valid(spec)
        assert spec["description"]
        assert spec["autosize"] == {"type": "pad", "contains": "padding"}
    assert specs[0]["description"].startswith("Head view: the attention of 2 of 2 heads from 5")
    assert specs[1]["description"].startswith("Head view: the attention of 0 of 2 heads")


def test_only_the_lines_and_the_cells_speak_to_screen_readers():
    view = head_view(head_weights(), TOKENS, ["prev", "flat"])
    silent = [layer for layer in view["layer"] if layer["mark"].get("aria") is False]
    assert len(silent) == 6  # per column: the hover highlight, the words, the pointer tiles
    assert "aria" not in view["layer"][0]["mark"]  # the lines carry the data
    table = pattern_table(np.array([[0.8, np.nan]]), ["a"], ["p", "q"])
    marks = [layer["mark"] for layer in table["layer"]]
    assert "aria" not in marks[0] and all(mark["aria"] is False for mark in marks[1:])


def test_sizes_never_ask_for_fit_and_steps_at_once():
    view = head_view(head_weights(), TOKENS, ["prev", "flat"], width=400)
    assert view["width"] == 400 and view["height"] == 30 * len(TOKENS)
    table = pattern_table(np.ones((2, 6)) / 2, ["a", "b"], list("uvwxyz"), cell_width=92)
    assert table["width"] == {"step": 92} and table["height"] == {"step": 30}
    for spec in (view, table):
        assert "fit" not in json.dumps(spec["autosize"])


def test_the_first_token_is_drawn_at_the_top_so_a_line_to_the_word_before_rises():
    """The page says: previous-token lines rise one row, next-token lines drop one."""
    following = np.eye(5, k=1)
    following[4, 4] = 1.0
    weights = np.stack([head_weights()[0], following])  # (previous, next)
    spec = head_view(weights, TOKENS, ["previous", "next"])
    rules = spec["layer"][0]
    low, high = rules["encoding"]["y"]["scale"]["domain"]
    assert low > high  # the y axis runs downwards: position 0 at the top
    lines = layer_data(spec, rules)
    for row in lines:
        if row["head"] == "previous" and row["query"] > 0:
            assert row["key"] == row["query"] - 1
            assert row["y_end"] == pytest.approx(row["y_start"] - 1)  # one row up
        if row["head"] == "next" and row["query"] < 4:
            assert row["key"] == row["query"] + 1
            assert row["y_end"] == pytest.approx(row["y_start"] + 1)  # one row down
    # lines run from the query column (left, x = 0) to the key column (right, x = 1)
    assert (rules["encoding"]["x"]["field"], rules["encoding"]["x2"]["field"]) == (
        "x_start",
        "x_end",
    )
    assert {(row["x_start"], row["x_end"]) for row in lines} == {(0.0, 1.0)}
    words = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert [layer["encoding"]["y"]["field"] for layer in words] == ["query", "key"]
    left, right = (spec["datasets"][layer["data"]["name"]] for layer in words)
    assert {row["x"] for row in left} == {-0.07} and {row["x"] for row in right} == {1.07}


def test_pattern_table_text_turns_white_on_dark_cells_and_keeps_the_order():
    spec = pattern_table(np.array([[0.9, 0.1, np.nan]]), ["h"], ["a", "b", "c"])
    rows = spec["datasets"]["scores"]
    assert [row["text"] for row in rows] == ["0.90", "0.10", NOT_APPLICABLE]
    assert [row["text_color"] for row in rows] == ["white", "#1f1f1f", "#1f1f1f"]
    assert [row["value"] for row in rows] == [0.9, 0.1, 0.0]
    x_axis = spec["encoding"]["x"]["axis"]
    assert x_axis["labelExpr"] == '["a", "b", "c"][datum.value]' and x_axis["orient"] == "top"


def test_every_layer_of_the_head_view_hides_its_axes_alike():
    """Vega-Lite fails to draw (a console error, no chart) when layers sharing a scale
    disagree on whether it has an axis."""
    spec = head_view(head_weights(), TOKENS, ["prev", "flat"])
    for layer in spec["layer"]:
        for channel in ("x", "y"):
            assert layer["encoding"][channel]["axis"] is None, (layer.get("name"), channel)


def test_the_page_matrices_are_valid_and_sized_for_their_row():
    tokens = toy_tokens(EXAMPLES[0]).tokens
    view = hand_head_view(tokens)
    parts = explain_head(hand_model().heads[4], tokens)
    shared = (-1.0, 1.0)
    specs = {
        "map": head_map(view.head_weights[4], tokens, "pronoun → noun", 4, 5),
        "W_q": feature_matrix(parts.w_q, parts.query_features, parts.columns, "W_q", shared),
        "scores": feature_scores(parts.scores, tokens),
        "output": head_output(
            view.head_outputs[0], tokens, "previous", view.value_labels, shared, 5
        ),
        "concat": concatenation(view.concat, tokens, view.concat_labels(), shared),
        "W_o": output_projection(view.w_o, view.concat_labels(), view.output_labels),
        "layer": layer_output(view.output, tokens, view.output_labels),
    }
    for spec in specs.values():
        assert_valid(spec)
    assert maps_per_row(5) == 3 and maps_per_row(4) == 2 and outputs_per_row(5) == 3
    assert outputs_per_row(4) == 4
    legend = specs["map"]["layer"][0]["encoding"]["color"]["legend"]
    assert legend is not None  # the last of five heads carries the legend
    first = head_map(view.head_weights[0], tokens, "previous token", 0, 5)
    assert first["layer"][0]["encoding"]["color"]["legend"] is None
    assert specs["W_q"]["title"] == "W_q, rows used   (12 × 12 of 71 × 64)"
    assert specs["scores"]["title"] == "scores q·k / √d_k on this sentence   (11 × 11)"
    assert specs["W_o"]["title"] == "W_o   (40 × 8)" and specs["W_o"]["width"] == {"step": 12}
    assert specs["layer"]["title"] == "output = Concat · W_o   (11 × 8)"
    values = [row["value"] for row in specs["concat"]["datasets"]["cells"]]
    np.testing.assert_allclose(values, view.concat.ravel())
    with pytest.raises(ValueError, match=exactly("side must be 'W_q' or 'W_k', got 'W_v'")):
        feature_matrix(parts.w_q, parts.query_features, parts.columns, "W_v", shared)
