"""lab.soft_vs_hard.charts: every builder's spec is valid Vega-Lite; its data and encodings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lab.charts import ACCENT, INK, PRIMARY
from lab.soft_vs_hard import charts as shc
from lab.soft_vs_hard import compute, load_comparisons
from lab.soft_vs_hard.cue_task import CURVE_SERIES, Curves, TrainingMethod
from lab.soft_vs_hard.scene import Preset
from tests.refusals import refuses
from tests.vega import assert_valid, dataset

SOFT, REINFORCE = TrainingMethod.SOFT, TrainingMethod.REINFORCE


def layers_without_text_alternative(spec: dict) -> list[dict]:
    """Layers that are neither described nor hidden from screen readers (``aria: False``)."""
    found = []
    for view in [spec, *spec.get("vconcat", [])]:
        for layer in view.get("layer", []):
            mark = layer["mark"] if isinstance(layer["mark"], dict) else {"type": layer["mark"]}
            if mark["type"] in ("text", "rule") and mark.get("aria") is not False:
                found.append(layer)
    return found


def every_spec() -> list[dict]:
    scene = Preset.FOUR.scene
    view = compute.look(scene, 30, 2.0, 1.0)
    comparison = load_comparisons()[0]
    return [
        shc.weight_bars(view.soft, list(scene.names), title="soft"),
        shc.weight_bars(
            view.soft, list(scene.names), title="f", reference=view.soft, band=view.soft / 10
        ),
        shc.frequency_error_chart([1, 10], [0.3, 0.1], [0.5, 0.2], current=10),
        shc.key_space_chart(scene.keys, list(scene.names), view.query, winner=view.winner),
        shc.value_space_chart(
            scene.value_points,
            list(scene.names),
            view.hull,
            soft_output=view.soft_output,
            hard_output=view.hard_output,
            gumbel_output=[0.0, 0.0],
            temperature_path=view.temperature_path,
            angle_path=np.ones((3, 2)),
        ),
        shc.angle_sweep_chart(
            [-10.0, 0.0, 10.0],
            {"soft": [1.0, 2.0, 3.0], "hard": [1.0, 1.0, 4.0]},
            {"soft": [0.1, 0.1, 0.1], "hard": [0.0, 0.0, 0.0]},
            current_angle=0,
            jumps=[5.0],
        ),
        *(shc.training_panel(comparison.curves, panel, 4) for panel in shc.TrainingPanel),
        shc.example_chart(
            comparison.examples[0],
            {method: rows[0] for method, rows in comparison.example_weights.items()},
        ),
    ]


@pytest.mark.parametrize("spec", every_spec(), ids=lambda spec: spec["title"] or "sweep")
def test_every_builder_gives_a_valid_described_spec_with_silent_decorations(spec):
    assert_valid(spec)
    assert spec["description"] and spec["autosize"] == {"type": "pad", "contains": "padding"}
    assert layers_without_text_alternative(spec) == []


def test_weight_bars_keep_repeated_names_apart_with_reference_and_band():
    names = ["the", "cat", "the"]
    spec = shc.weight_bars(
        [0.2, 0.5, 0.3], names, title="t", reference=[0.25, 0.5, 0.25], band=[0.1, 0.1, 0.1]
    )
    assert_valid(spec)
    rows = dataset(spec)
    assert [row["position"] for row in rows] == [0, 1, 2]
    assert [row["item"] for row in rows] == names
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "rule", "tick", "text"]
    assert rows[0]["low"] == pytest.approx(0.15) and rows[0]["high"] == pytest.approx(0.35)
    bars = spec["layer"][0]["encoding"]
    assert bars["x"]["scale"]["domain"][0] == 0
    assert [item["field"] for item in bars["tooltip"]] == ["item", "text"]
    assert spec["encoding"]["y"]["axis"]["labelExpr"] == '["the", "cat", "the"][datum.value]'
    with refuses("2 names for 3 weights"):
        shc.weight_bars([0.2, 0.5, 0.3], ["a", "b"], title="t")


def test_weight_bars_colour_the_method_and_the_highlight():
    spec = shc.weight_bars([0.5, 0.5], ["a", "b"], title="t", color=ACCENT, highlight=None)
    assert [row["bar_color"] for row in dataset(spec)] == [ACCENT, ACCENT]
    spec = shc.weight_bars([0.5, 0.5], ["a", "b"], title="t", highlight=1)
    assert [row["bar_color"] for row in dataset(spec)] == [PRIMARY, ACCENT]
    assert [row["text"] for row in dataset(spec)] == ["0.500", "0.500"]
    # No reference: bars and their numbers only.
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["bar", "text"]


def test_a_band_is_clipped_to_the_weight_axis():
    spec = shc.weight_bars(
        [0.0, 1.0], ["a", "b"], title="t", reference=[0.05, 0.95], band=[0.2, 0.2]
    )
    rows = dataset(spec)
    assert (rows[0]["low"], rows[0]["high"]) == (0.0, pytest.approx(0.25))
    assert (rows[1]["low"], rows[1]["high"]) == (pytest.approx(0.75), 1.0)
    assert [row["reference_text"] for row in rows] == ["0.050", "0.950"]


def test_frequency_error_chart_is_log_log():
    spec = shc.frequency_error_chart([1, 10, 100], [0.3, 0.0, 0.01], [0.5, 0.1, 0.03], current=10)
    assert_valid(spec)
    encoding = spec["layer"][0]["encoding"]
    assert encoding["x"]["scale"]["type"] == "log" and encoding["y"]["scale"]["type"] == "log"
    rows = dataset(spec)
    assert min(row["gap"] for row in rows) > 0  # a zero gap is floored, not dropped
    assert [row["gap"] for row in rows][:3] == [0.3, 1e-4, 0.01]
    assert [row["text"] for row in rows][:3] == ["0.3000", "0.0000", "0.0100"]
    assert [row["draws"] for row in rows if row["current"]] == [10]
    assert [row["series"] for row in rows].count("2 standard errors") == 3


def test_value_space_chart_closes_the_hull_and_marks_the_outputs():
    scene = Preset.FOUR.scene
    hull = compute.convex_hull(scene.value_points)
    spec = shc.value_space_chart(
        scene.value_points,
        list(scene.names),
        hull,
        soft_output=[0.1, 0.2],
        hard_output=scene.value_points[0],
        gumbel_output=[0.3, 0.3],
        temperature_path=np.zeros((5, 2)),
        angle_path=np.ones((7, 2)),
    )
    assert_valid(spec)
    rows = dataset(spec)
    hull_rows = [row for row in rows if row["kind"] == "hull"]
    assert len(hull_rows) == len(hull) + 1
    assert (hull_rows[0]["x"], hull_rows[0]["y"]) == (hull_rows[-1]["x"], hull_rows[-1]["y"])
    kinds = {row["kind"] for row in rows}
    assert {"soft output", "hard output", "Gumbel-softmax output"} <= kinds
    assert sum(row["kind"] == "angle path" for row in rows) == 7
    markers = spec["layer"][-1]["encoding"]["color"]["scale"]
    assert markers == {
        "domain": ["soft output", "hard output", "Gumbel-softmax output"],
        "range": [PRIMARY, ACCENT, shc.GUMBEL_COLOR],
    }
    soft = next(row for row in rows if row["kind"] == "soft output")
    assert soft["text"] == "(0.10, 0.20)"
    assert [row["label"] for row in rows if row["kind"] == "value"] == ["A", "B", "C", "D"]


def test_value_space_chart_without_gumbel_or_paths():
    scene = Preset.TWINS.scene
    spec = shc.value_space_chart(
        scene.value_points, list(scene.names), [0, 1], soft_output=[0, 0], hard_output=[1, 1]
    )
    assert_valid(spec)
    kinds = [row["kind"] for row in dataset(spec)]
    assert "temperature path" not in kinds and "Gumbel-softmax output" not in kinds
    assert spec["layer"][-1]["encoding"]["shape"]["scale"]["range"] == ["circle", "square"]
    # Equal axes that hold every point with a 20 % margin: the values reach 2.
    assert spec["encoding"]["x"]["scale"]["domain"] == pytest.approx([-2.4, 2.4])
    assert spec["encoding"]["y"]["scale"]["domain"] == pytest.approx([-2.4, 2.4])


def test_key_space_chart_draws_the_query_arrow_and_the_winner():
    scene = Preset.FOUR.scene
    spec = shc.key_space_chart(scene.keys, list(scene.names), [1.0, 0.5], winner=0)
    assert_valid(spec)
    rows = dataset(spec)
    query = [row for row in rows if row["kind"] == "query"]
    assert (query[0]["x"], query[0]["y"]) == (1.0, 0.5)
    assert rows[0]["color"] == ACCENT and rows[1]["color"] == INK
    # The query is ink, not blue: blue means soft attention on this page.
    assert {row["color"] for row in rows if row["kind"] != "key"} == {INK}
    assert "(A, orange)" in spec["description"]


def test_sweep_chart_has_loss_over_gradient_per_degree():
    angles = np.linspace(-180, 180, 5)
    spec = shc.angle_sweep_chart(
        angles,
        {"soft": np.arange(5.0), "hard": np.ones(5)},
        {"soft": -np.arange(5.0), "hard": np.zeros(5)},
        current_angle=30,
        jumps=[10.0],
    )
    assert_valid(spec)
    assert len(spec["vconcat"]) == 2
    rows = dataset(spec)
    assert sum(row["panel"] == "loss" for row in rows) == 10
    assert sum(row["panel"] == "gradient" for row in rows) == 10
    assert [row["series"] for row in rows if row["panel"] == "mark"] == [
        "query now",
        "hard choice changes",
    ]
    assert [row["angle"] for row in rows if row["panel"] == "mark"][1:] == [10.0]
    gradient_line = spec["vconcat"][1]["layer"][-1]["encoding"]
    assert gradient_line["y"]["title"] == "dL/dθ per degree"
    assert gradient_line["x"]["title"] == "query angle θ (degrees)"
    assert gradient_line["tooltip"][2] == {
        "field": "value",
        "type": "quantitative",
        "title": "dL/dθ per degree",
        "format": ".3f",
    }
    with pytest.raises(ValueError, match="same curves"):
        shc.angle_sweep_chart(angles, {"soft": np.ones(5)}, {"hard": np.ones(5)}, current_angle=0)
    with pytest.raises(ValueError, match="same curves"):
        shc.angle_sweep_chart(angles, {"wrong": np.ones(5)}, {"wrong": np.ones(5)}, current_angle=0)


def test_the_sampled_average_is_orange_and_dashed():
    angles = np.linspace(-180, 180, 3)
    curves = {curve: np.zeros(3) for curve in shc.SweepCurve}
    spec = shc.angle_sweep_chart(angles, curves, curves, current_angle=0)
    line = spec["vconcat"][0]["layer"][-1]["encoding"]
    assert line["color"]["scale"] == {
        "domain": ["soft", "hard", "sampled hard (average)"],
        "range": [PRIMARY, ACCENT, ACCENT],
    }
    assert line["strokeDash"]["scale"]["range"] == [[1, 0], [1, 0], [6, 3]]


def test_the_sweep_marker_is_a_parameter():
    angles = np.linspace(-180, 180, 5)
    spec = shc.angle_sweep_chart(
        angles, {"soft": np.ones(5)}, {"soft": np.zeros(5)}, current_angle=30, jumps=[]
    )
    assert spec["params"] == [{"name": shc.NOW_PARAM, "value": 30.0}]
    now_layer = spec["vconcat"][0]["layer"][1]
    assert {"calculate": shc.NOW_PARAM, "as": "angle"} in now_layer["transform"]
    assert "θ = 30°" in spec["description"]


def curve(method: TrainingMethod, steps, **series) -> Curves:
    empty = [math.nan] * len(steps)
    values = {name: series.get(name, empty) for name in CURVE_SERIES}
    return Curves(method=method, steps=list(steps), **values)


def test_learning_curves_skip_missing_points_and_non_positive_values_on_log_axes():
    curves = {
        SOFT: curve(SOFT, [0, 10, 20], total_variance=[1e-3, math.nan, 1e-5]),
        REINFORCE: curve(REINFORCE, [0, 10, 20], total_variance=[1e-2, 0.0, 1e-1]),
    }
    spec = shc.learning_curve_chart(
        curves, "total_variance", title="v", y_title="variance", log=True
    )
    assert_valid(spec)
    rows = dataset(spec)
    assert [(row["method"], row["step"]) for row in rows] == [
        ("soft", 0.0),
        ("soft", 20.0),
        ("REINFORCE", 0.0),
        ("REINFORCE", 20.0),
    ]
    color = spec["encoding"]["color"]["scale"]
    assert color["domain"] == ["soft", "REINFORCE"]
    assert color["range"] == [shc.METHOD_COLORS[SOFT], shc.METHOD_COLORS[REINFORCE]]
    assert spec["encoding"]["y"]["scale"]["type"] == "log"


def test_learning_curves_on_a_linear_axis_keep_zeros():
    curves = {SOFT: curve(SOFT, [0, 10], accuracy=[0.0, 1.0])}
    spec = shc.learning_curve_chart(
        curves, "accuracy", title="a", y_title="accuracy", domain=(0.0, 1.0)
    )
    assert [row["value"] for row in dataset(spec)] == [0.0, 1.0]
    assert spec["encoding"]["y"]["scale"] == {"domain": [0.0, 1.0]}
    with refuses("no finite total_variance values to draw"):
        shc.learning_curve_chart(curves, "total_variance", title="v", y_title="v")


def test_training_panels_name_their_axes_and_scales():
    curves = load_comparisons()[0].curves
    accuracy = shc.training_panel(curves, shc.TrainingPanel.ACCURACY, 4)
    assert accuracy["title"] == "Held-out accuracy (chance = 0.25)"
    assert accuracy["encoding"]["y"]["scale"] == {"domain": [0.0, 1.0]}
    loss = shc.training_panel(curves, "loss", 4)
    assert loss["encoding"]["y"]["scale"] == {"type": "log"}
    assert loss["encoding"]["y"]["axis"] == {"format": "~g"}
    variance = shc.training_panel(curves, shc.TrainingPanel.VARIANCE, 4)
    # Only the steps where the variance was measured are drawn.
    measured = sum(np.isfinite(curves[SOFT].total_variance))
    assert (
        sum(row["method"] == "soft" for row in dataset(variance))
        == measured
        < len(curves[SOFT].steps)
    )


def test_example_chart_marks_the_match_and_has_a_row_per_method():
    comparison = load_comparisons()[0]
    example = comparison.examples[0]
    spec = shc.example_chart(
        example, {method: rows[0] for method, rows in comparison.example_weights.items()}
    )
    rows = dataset(spec)
    assert {row["row_label"] for row in rows} == {"soft", "REINFORCE", "Gumbel-ST"}
    marked = [row["col_label"] for row in rows if row["col_label"].startswith("▶ ")]
    assert len(set(marked)) == 1
    assert spec["title"].startswith("Cue: ") and "(▶ marks the match)" in spec["title"]
