"""The multi-head page's chart builders: inspect the Vega-Lite specs, not pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lab.multihead_charts import (
    HEAD_COLORS,
    MIN_LINE_WEIGHT,
    NOT_APPLICABLE,
    head_view,
    pattern_table,
)

TOKENS = ["the", "cat", "saw", "the", "dog"]


def layer_data(spec: dict, layer: dict) -> list[dict]:
    return spec["datasets"][layer["data"]["name"]]


def head_weights():
    previous = np.eye(5, k=-1)
    previous[0, 0] = 1.0
    uniform = np.full((5, 5), 0.2)
    return np.stack([previous, uniform])  # (H, L, L)


def test_head_view_draws_one_line_per_head_and_pair_with_opacity_by_weight():
    spec = head_view(head_weights(), TOKENS, ["prev", "flat"]).to_dict()
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
    spec = head_view(head_weights(), TOKENS, ["prev", "flat"]).to_dict()
    words = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert len(words) == 2  # the query column and the key column
    for layer in words:
        rows = layer_data(spec, layer)
        assert [row["label"] for row in rows] == TOKENS
        field = layer["encoding"]["y"]["field"]
        assert [row[field] for row in rows] == [0, 1, 2, 3, 4]  # keyed by position


def test_hovering_a_word_filters_the_lines():
    spec = head_view(head_weights(), TOKENS, ["prev", "flat"]).to_dict()
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
    spec = head_view(weights, TOKENS, ["prev", "flat"]).to_dict()
    assert {row["head"] for row in layer_data(spec, spec["layer"][0])} == {"prev"}
    hidden = head_view(head_weights(), TOKENS, ["prev", "flat"], visible=[False, True]).to_dict()
    assert {row["head"] for row in layer_data(hidden, hidden["layer"][0])} == {"flat"}
    assert hidden["layer"][0]["encoding"]["color"]["legend"]["values"] == ["flat"]
    nothing = head_view(head_weights(), TOKENS, ["prev", "flat"], visible=[False, False]).to_dict()
    assert layer_data(nothing, nothing["layer"][0]) == []


def test_head_view_escapes_odd_labels():
    odd = ['say "hi"', "</script>", "🦊", "a\\b", "x"]
    spec = head_view(head_weights(), odd, ["a", "b"]).to_dict()
    text = json.dumps(spec)
    assert json.loads(text) == spec
    words = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "text")
    assert [row["label"] for row in layer_data(spec, words)] == odd


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.ones((2, 3)), ["a"] * 3, ["h"]), r"shape \(H, L, L\)"),
        ((np.ones((1, 3, 3)), ["a"] * 2, ["h"]), "2 tokens"),
        ((np.ones((1, 3, 3)), ["a"] * 3, ["h", "i"]), "2 head names"),
    ],
)
def test_head_view_rejects_mismatched_inputs(args, message):
    with pytest.raises(ValueError, match=message):
        head_view(*args)
    with pytest.raises(ValueError, match="visible has 1 flags"):
        head_view(np.ones((2, 3, 3)) / 3, ["a"] * 3, ["h", "i"], visible=[True])


def test_pattern_table_marks_missing_scores_and_bolds_strong_ones():
    scores = np.array([[0.8, np.nan], [0.2, 0.61]])
    chart = pattern_table(scores, ["L1 H1", "L1 H2"], ["previous", "antecedent"])
    spec = chart.to_dict()
    (rows,) = spec["datasets"].values()
    assert len(rows) == 4
    missing = [row for row in rows if row["missing"]]
    assert len(missing) == 1 and missing[0]["text"] == NOT_APPLICABLE
    assert [row["weight"] for row in rows] == ["bold", "normal", "normal", "bold"]
    cells = spec["layer"][0]
    assert cells["encoding"]["color"]["scale"]["domain"] == [0, 1]
    assert spec["resolve"]["scale"]["color"] == "independent"
    with pytest.raises(ValueError, match="2 head names and 1 pattern names"):
        pattern_table(scores, ["a", "b"], ["p"])
    with pytest.raises(ValueError, match="must be"):
        pattern_table(np.ones(3), ["a"], ["p"])
