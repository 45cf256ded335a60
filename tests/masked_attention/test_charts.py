"""lab.masked_attention.charts: valid Vega-Lite specs whose data and encodings say what the page says."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lab.masked_attention.charts as mask_charts
from lab import charts
from lab.attention import causal_mask, masked_softmax
from lab.masked_attention import PAD, naive_masked_softmax, pad_batch
from tests.masked_attention.examples import ALLOWED, SCORES
from tests.vega import assert_valid, dataset


def layers(spec: dict) -> list[dict]:
    return spec["layer"]


def decorative(spec: dict) -> list[dict]:
    """Layers that carry no data of their own for a screen reader: text, outlines, crosses."""
    return [
        layer
        for layer in layers(spec)
        if layer["mark"]["type"] == "text" or layer["mark"].get("filled") is False
    ]


def assert_accessible(spec: dict) -> None:
    assert spec["description"]
    assert all(layer["mark"].get("aria") is False for layer in decorative(spec))
    # Step-sized charts never ask for "fit" as well (Vega would warn that it dropped it).
    assert spec["autosize"] == {"type": "pad", "contains": "padding"}
    assert "step" in spec["width"] and "step" in spec["height"]


def test_short_token():
    assert mask_charts.short_token("<pad>") == "<pad>"
    assert mask_charts.short_token("abcdefghi") == "abcdefghi"
    assert mask_charts.short_token("abcdefghij") == "abcdefgh…"


def test_batch_grid_has_a_cell_per_token_and_greys_the_padding():
    batch = pad_batch([("the", "cat"), ("a",)])
    spec = mask_charts.batch_grid(batch.tokens, batch.real, title="batch", cell_width=50)
    assert_valid(spec)
    assert_accessible(spec)
    rows = dataset(spec)
    assert len(rows) == 4
    pad_cell = next(row for row in rows if row["sentence"] == 1 and row["position"] == 1)
    assert pad_cell["token"] == PAD and pad_cell["kind"] == "padding"
    assert pad_cell["fill"] == mask_charts.PAD_COLOR == charts.MASKED_COLOR
    word = next(row for row in rows if row["sentence"] == 0 and row["position"] == 1)
    assert (word["token"], word["kind"], word["fill"]) == (
        "cat",
        "real token",
        mask_charts.REAL_COLOR,
    )
    assert [row["sentence_label"] for row in rows] == ["sentence 1"] * 2 + ["sentence 2"] * 2
    assert spec["width"] == {"step": 50}
    assert spec["encoding"]["y"]["axis"]["labelExpr"] == charts.labels_expr(
        ["sentence 1", "sentence 2"]
    )
    assert spec["description"] == "batch: 2 sentences by 2 positions, 1 of the 4 cells are padding."
    assert layers(spec)[0]["encoding"]["color"] == {
        "field": "fill",
        "type": "nominal",
        "scale": None,
    }


def test_batch_grid_shortens_long_tokens_but_keeps_them_whole_in_the_tooltip():
    batch = pad_batch([("antidisestablishment",)])
    rows = dataset(mask_charts.batch_grid(batch.tokens, batch.real, row_labels=["one"]))
    assert rows[0]["token"] == "antidisestablishment" and rows[0]["shown"] == "antidise…"
    assert rows[0]["sentence_label"] == "one"


def test_batch_grid_rejects_mismatched_input():
    batch = pad_batch([("the", "cat"), ("a",)])
    with pytest.raises(ValueError) as error:
        mask_charts.batch_grid(batch.tokens[:1], batch.real)
    assert str(error.value) == "tokens must be 2 rows of 2 tokens, like real"
    with pytest.raises(ValueError) as error:
        mask_charts.batch_grid(batch.tokens, batch.real.astype(int))
    assert str(error.value) == "real must be boolean (True/False), got dtype int64"
    with pytest.raises(ValueError) as error:
        mask_charts.batch_grid(batch.tokens, batch.real, row_labels=["only one"])
    assert str(error.value) == "row_labels has 1 labels but the data has 2"


def test_mask_heatmap_marks_forbidden_cells_as_masked():
    allowed = causal_mask(3)
    spec = mask_charts.mask_heatmap(allowed, list("abc"), list("abc"), title="causal")
    assert_valid(spec)
    assert_accessible(spec)
    rows = dataset(spec)
    masked = {(row["row"], row["col"]) for row in rows if row["masked"]}
    assert masked == {(0, 1), (0, 2), (1, 2)}
    assert {row["text"] for row in rows if row["masked"]} == {"False: masked"}
    assert {row["text"] for row in rows if not row["masked"]} == {"True"}
    assert spec["description"] == "causal: 3 by 3, 6 cells True (may attend) and 3 masked."
    # Masked cells are drawn as in every weights heatmap: grey with a cross.
    assert any(layer["mark"].get("color") == charts.MASKED_COLOR for layer in layers(spec))
    assert any(layer["mark"].get("text") == "×" for layer in layers(spec))
    with pytest.raises(ValueError) as error:
        mask_charts.mask_heatmap(allowed.astype(float), list("abc"), list("abc"))
    assert str(error.value) == "allowed must be boolean (True/False), got dtype float64"
    with pytest.raises(ValueError) as error:
        mask_charts.mask_heatmap(np.ones(3, dtype=bool), list("abc"), list("abc"))
    assert str(error.value) == "allowed must be a matrix, got shape (3,)"


def test_mask_heatmap_writes_true_only_in_big_cells():
    small = mask_charts.mask_heatmap(causal_mask(3), list("abc"), list("abc"), cell_size=20)
    big = mask_charts.mask_heatmap(causal_mask(3), list("abc"), list("abc"), cell_size=40)
    assert not any(
        layer["mark"]["type"] == "text" and "text" not in layer["mark"] for layer in layers(small)
    )
    number_layers = [
        layer
        for layer in layers(big)
        if layer.get("encoding", {}).get("text", {}).get("field") == "text"
    ]
    assert len(number_layers) == 1 and number_layers[0]["mark"]["aria"] is False


def test_the_page_weights_turn_long_key_labels_instead_of_hiding_them():
    """lab.charts rotates key labels wider than their cells (the old page's special case)."""
    weights = masked_softmax(np.zeros((6, 6)), causal_mask(6))
    tokens = ["dogs", "bark", PAD, PAD, PAD, PAD]
    narrow = charts.weights_heatmap(weights, tokens, tokens, mask=causal_mask(6), max_width=120)
    wide = charts.weights_heatmap(weights, tokens, tokens, mask=causal_mask(6), max_width=400)
    assert narrow["encoding"]["x"]["axis"]["labelAngle"] == -45
    assert wide["encoding"]["x"]["axis"]["labelAngle"] == 0
    assert narrow["encoding"]["x"]["axis"]["labelOverlap"] is False
    assert sum(row["masked"] for row in dataset(wide)) == 15


def test_method_heatmap_shows_nan_and_keeps_masked_values_visible():
    weights = naive_masked_softmax(SCORES, ALLOWED)
    spec = mask_charts.method_heatmap(weights, ALLOWED, list("abc"), list("wxyz"), title="naive")
    assert_valid(spec)
    assert_accessible(spec)
    rows = dataset(spec)
    nan_rows = [row for row in rows if row["special"]]
    assert len(nan_rows) == 4 and all(row["text"] == "NaN" for row in nan_rows)
    # The outlined cells are exactly the masked ones, and their values stay in the data.
    outlined = {(row["row"], row["col"]) for row in rows if row["outlined"]}
    assert outlined == {(r, c) for r, c in zip(*np.nonzero(~ALLOWED), strict=True)}
    assert all(not row["masked"] for row in rows)  # nothing greyed out
    assert {row["key_is"] for row in rows if row["outlined"]} == {"masked key"}
    assert {row["key_is"] for row in rows if not row["outlined"]} == {"allowed key"}
    # A weight of exactly 0 says "0"; the others keep two decimals.
    masked_numbers = [row["text"] for row in rows if row["outlined"] and not row["special"]]
    assert masked_numbers == ["0"] * 3
    first = next(row for row in rows if (row["row"], row["col"]) == (0, 0))
    assert first["text"] == format(weights[0, 0], ".2f")
    assert any(layer["mark"].get("color") == charts.ALARM_COLOR for layer in layers(spec))
    outline = [layer for layer in layers(spec) if layer["mark"].get("strokeDash")]
    assert len(outline) == 1 and outline[0]["mark"]["stroke"] == mask_charts.OUTLINE_COLOR
    assert outline[0]["transform"] == [{"filter": "datum.outlined"}]
    # The outline lies under the numbers, so they stay readable.
    kinds = [layer["mark"]["type"] for layer in layers(spec)]
    assert kinds.index("text") > layers(spec).index(outline[0])
    assert spec["resolve"]["scale"]["color"] == "independent"
    assert spec["encoding"]["tooltip"][-1] == {
        "field": "key_is",
        "type": "nominal",
        "title": "this is a",
    }
    assert (
        spec["description"] == "naive: 3 queries by 4 keys; 7 masked cells outlined, 4 cells NaN."
    )


def test_method_heatmap_rejects_mismatched_shapes():
    weights = naive_masked_softmax(SCORES, ALLOWED)
    with pytest.raises(ValueError) as error:
        mask_charts.method_heatmap(weights, ALLOWED[:2], list("abc"), list("wxyz"))
    assert str(error.value) == (
        "weights and allowed must be matrices of one shape, got (3, 4) and (2, 4)"
    )


def test_leakage_heatmap_marks_exact_zeros_and_the_changed_position():
    changes = np.array([[0.1, 0.2, 1.0], [0.0, 0.0, 1.0]])
    spec = mask_charts.leakage_heatmap(
        changes, ["none", "causal"], ["a", "b", "c"], 2, highlight="causal", title="leak"
    )
    assert_valid(spec)
    assert_accessible(spec)
    rows = dataset(spec)
    zeros = [row for row in rows if row["zero"]]
    assert {(row["row"], row["col"]) for row in zeros} == {(1, 0), (1, 1)}
    assert all(row["text"] == "0" and row["tooltip_text"] == "0 (exactly)" for row in zeros)
    assert [row["text"] for row in rows if not row["zero"]] == ["0.1", "0.2", "1", "1"]
    assert {row["role"] for row in rows if row["col"] == 2} == {"the changed position"}
    assert {row["role"] for row in rows if row["col"] < 2} == {"earlier position"}
    assert {row["row_label"] for row in rows} == {"none", "▶ causal"}
    assert rows[0]["col_label"] == "0 · a"
    # The darkest cells (the changed column) get white numbers, the pale ones ink.
    assert {row["ink"] for row in rows if row["col"] == 2} == {"white"}
    assert {row["ink"] for row in rows if row["col"] < 2} == {charts.INK}
    assert any(layer["mark"].get("color") == mask_charts.ZERO_COLOR for layer in layers(spec))
    scale = layers(spec)[0]["encoding"]["color"]["scale"]
    assert scale == {"scheme": "oranges", "domain": [0.0, 1.0]}
    # Column labels are two lines, position then token, so long tokens stay narrow.
    label_expr = spec["encoding"]["x"]["axis"]["labelExpr"]
    assert json.loads(label_expr.removesuffix("[datum.value]")) == [
        ["0", "a"],
        ["1", "b"],
        ["2", "c"],
    ]
    assert spec["description"] == (
        "leak: how far each of 3 outputs moved under 2 masks when position 2 changed; "
        "2 of 6 cells moved by exactly 0."
    )


def test_leakage_heatmap_rejects_bad_input():
    changes = np.array([[0.1, 0.2, 1.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ValueError) as error:
        mask_charts.leakage_heatmap(changes, ["none"], ["a", "b", "c"], 0)
    assert str(error.value) == "changes must be (1, 3) (kinds × positions), got (2, 3)"
    with pytest.raises(ValueError) as error:
        mask_charts.leakage_heatmap(-changes, ["none", "causal"], ["a", "b", "c"], 0)
    assert str(error.value) == "changes must be non-negative numbers"
    with pytest.raises(ValueError) as error:
        mask_charts.leakage_heatmap(changes, ["none", "causal"], ["a", "b", "c"], 3)
    assert str(error.value) == "changed_position must lie in [0, 2], got 3"


def test_leakage_heatmap_of_all_zeros_keeps_a_usable_scale():
    spec = mask_charts.leakage_heatmap(np.zeros((1, 2)), ["causal"], ["a", "b"], 1)
    assert_valid(spec)
    assert layers(spec)[0]["encoding"]["color"]["scale"]["domain"] == [0.0, 1.0]
