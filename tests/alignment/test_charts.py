"""The alignment page's chart builders: valid Vega-Lite holding the data the page means."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from lab import charts
from lab.alignment import (
    MapReading,
    Scoring,
    alignment_mask,
    load_aligner,
    misleading_example,
    read_source,
    view_sentence,
)
from lab.alignment.charts import (
    SCORING_COLORS,
    TRUTH_COLOR,
    alignment_heatmap,
    seed_dots,
    step_labels,
    training_curves,
    truth_bars,
)
from lab.alignment.exercises import truth_labels
from lab.alignment.sweep import load_seed_sweep, sweep_columns
from tests.vega import assert_valid, dataset


@pytest.fixture(scope="module")
def models():
    return {scoring: load_aligner(scoring) for scoring in Scoring}


@pytest.fixture(scope="module")
def repeated(models):
    """A sentence with a repeated word: "the dog sees the dog"."""
    reading = read_source("the dog sees the dog")
    return reading, view_sentence(models[Scoring.ADDITIVE], reading)


def _row_sums(cells):
    sums = defaultdict(float)
    for cell in cells:
        sums[cell["row"]] += cell["value"]
    return [sums[row] for row in sorted(sums)]


def test_the_outlined_cells_are_exactly_the_true_alignment(repeated):
    reading, view = repeated
    spec = alignment_heatmap(
        view.attention, view.source_labels, view.output, view.outline, title="map"
    )
    assert_valid(spec)
    truth = dataset(spec, "truth")
    pair = reading.pair
    assert view.matches_reference
    assert [(cell["row"], cell["col"]) for cell in truth] == list(enumerate(pair.alignment))
    assert [cell["col_label"] for cell in truth] == [
        pair.source_tokens[position] for position in pair.alignment
    ]
    for cell in truth:
        assert cell["text"] == format(view.attention[cell["row"], cell["col"]], ".2f")
    outline = spec["layer"][-1]
    assert outline["data"] == {"name": "truth"}
    assert outline["mark"]["filled"] is False and outline["mark"]["color"] == TRUTH_COLOR
    assert "6 cells outlined in orange mark the true alignment" in spec["description"]


def test_the_cells_are_the_map_and_every_row_sums_to_one(repeated):
    _, view = repeated
    spec = alignment_heatmap(
        view.attention, view.source_labels, view.output, view.outline, title="map"
    )
    cells = dataset(spec, "cells")
    assert len(cells) == view.attention.size
    np.testing.assert_allclose(_row_sums(cells), 1.0, atol=1e-12)
    for cell in cells:
        assert cell["value"] == view.attention[cell["row"], cell["col"]]


def test_repeated_words_keep_their_own_rows_and_columns(repeated):
    _, view = repeated
    assert view.source_labels == ("the", "dog", "sees", "the", "dog", "<eos>")
    spec = alignment_heatmap(
        view.attention, view.source_labels, view.output, view.outline, title="map"
    )
    x, y = spec["encoding"]["x"], spec["encoding"]["y"]
    assert x["field"] == "col" and y["field"] == "row"  # keyed by position, not by word
    assert x["axis"]["labelExpr"] == charts.labels_expr(view.source_labels)
    assert y["axis"]["labelExpr"] == charts.labels_expr(view.output)
    assert len({cell["col"] for cell in dataset(spec, "cells")}) == 6
    assert x["axis"]["title"] == "source word (key)"
    assert y["axis"]["title"] == "output word (query)"


def test_no_outline_without_a_true_alignment(models):
    reading = read_source("dog the sees")  # known words, no grammar
    assert reading.pair is None
    view = view_sentence(models[Scoring.DOT], reading)
    spec = alignment_heatmap(view.attention, view.source_labels, view.output, None, title="m")
    assert_valid(spec)
    assert list(spec["datasets"]) == ["cells"]
    assert "outlined" not in spec["description"]


def test_the_dashed_outline_marks_the_largest_weight_of_the_chosen_row(models):
    case = misleading_example(models[Scoring.ADDITIVE], MapReading.WRONG_PLACE_RIGHT_WORD)
    pair = case.pair
    spec = alignment_heatmap(
        case.attention,
        pair.source_tokens,
        step_labels(case.predicted, pair.target_tokens),
        alignment_mask(pair.alignment, len(pair.source_tokens)),
        title="case",
        most_weight_row=case.step.step,
    )
    assert_valid(spec)
    (focus,) = dataset(spec, "focus")
    assert (focus["row"], focus["col"]) == (case.step.step, case.step.top_position)
    assert focus["col"] != case.step.true_position  # the map looks wrong at this step
    assert spec["layer"][-1]["mark"]["strokeDash"] == [4, 3]
    assert [(c["row"], c["col"]) for c in dataset(spec, "truth")] == list(enumerate(pair.alignment))


def test_the_heatmap_refuses_a_mismatched_outline_or_row():
    weights = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"outline has shape \(3, 2\) but attention has \(2, 3\)"):
        alignment_heatmap(weights, "abc", "xy", np.zeros((3, 2), bool), title="t")
    with pytest.raises(ValueError, match=r"most_weight_row must lie in \[0, 1\], got 2"):
        alignment_heatmap(weights, "abc", "xy", title="t", most_weight_row=2)


def test_step_labels_name_the_right_word_where_the_model_missed():
    assert step_labels(["lo", "rusa", "<eos>"], ["lo", "peti", "<eos>"]) == [
        "lo",
        "rusa (not peti)",
        "<eos>",
    ]
    with pytest.raises(ValueError, match="predicted has 1 words but expected has 2"):
        step_labels(["lo"], ["lo", "na"])


def test_truth_bars_hold_each_scorings_weights_in_its_colour(models):
    reading = read_source("the big dog chases a small cat")
    pair = reading.pair
    shares = {scoring: view_sentence(model, reading).on_truth for scoring, model in models.items()}
    labels = truth_labels(pair.target, pair.source, pair.alignment)
    assert labels[:3] == ["lo ← the", "kano ← dog", "grani ← big"]
    spec = truth_bars(labels, shares, title="bars", uniform=1 / 8)
    assert_valid(spec)
    bars = dataset(spec, "bars")
    for scoring in Scoring:
        mine = [bar for bar in bars if bar["scoring"] == scoring.label]
        assert [bar["label"] for bar in mine] == labels
        np.testing.assert_array_equal([bar["weight"] for bar in mine], shares[scoring])
    color = spec["layer"][0]["encoding"]["color"]["scale"]
    assert color["range"][color["domain"].index(Scoring.DOT.label)] == SCORING_COLORS[Scoring.DOT]
    rule = spec["layer"][1]
    assert rule["mark"]["aria"] is False and dataset(spec, "uniform") == [{"weight": 0.125}]


def test_truth_bars_need_weights_of_the_right_length():
    with pytest.raises(ValueError, match="truth_bars needs the weights"):
        truth_bars(["a"], {}, title="t")
    with pytest.raises(ValueError, match="word_labels has 2 labels but the data has 3"):
        truth_bars(["a", "b"], {Scoring.DOT: [0.1, 0.2, 0.3]}, title="t")


def test_training_curves_show_the_shipped_curves_side_by_side(models):
    runs = tuple((scoring.label, scoring, model.curves) for scoring, model in models.items())
    chance = models[Scoring.ADDITIVE].metrics["chance_alignment"]
    spec = training_curves(runs, title="curves", chance={"alignment": chance})
    assert_valid(spec)
    assert [panel["title"] for panel in spec["hconcat"]] == [
        "training loss (cross-entropy)",
        "held-out token accuracy",
        "held-out alignment score",
    ]
    rows = dataset(spec, "curves")
    for scoring, model in models.items():
        for curve in ("loss", "accuracy", "alignment"):
            mine = [r for r in rows if r["scoring"] == scoring.label and r["curve"] == curve]
            assert [r["epoch"] for r in mine] == list(range(1, 13))
            assert [r["value"] for r in mine] == list(model.curves[curve])
    line = spec["hconcat"][0]["layer"][0]["encoding"]
    assert "strokeDash" not in line  # one run per scoring function: colour says it all
    assert line["color"]["scale"]["range"] == [SCORING_COLORS[s] for s in Scoring]
    rule = spec["hconcat"][2]["layer"][1]
    assert rule["mark"]["aria"] is False
    assert dataset(spec, "chance") == [{"curve": "alignment", "value": chance}]


def test_two_runs_of_one_scoring_differ_by_dash(models):
    model = models[Scoring.DOT]
    short = {name: values[:3] for name, values in model.curves.items()}
    spec = training_curves(
        (("shipped", Scoring.DOT, model.curves), ("seed 5, 3 epochs", Scoring.DOT, short)),
        title="runs",
    )
    assert_valid(spec)
    line = spec["hconcat"][1]["layer"][0]["encoding"]
    assert line["strokeDash"]["scale"]["domain"] == ["shipped", "seed 5, 3 epochs"]
    # the legend lists the scoring function drawn, in its page-wide colour, and no other
    assert line["color"]["scale"] == {
        "domain": [Scoring.DOT.label],
        "range": [SCORING_COLORS[Scoring.DOT]],
    }
    with pytest.raises(ValueError, match="has no 'loss' curve"):
        training_curves((("x", Scoring.DOT, {"accuracy": [1.0]}),), title="t")


def test_seed_dots_put_every_seed_on_one_axis():
    results = load_seed_sweep()
    spec = seed_dots(*sweep_columns(results), title="seeds")
    assert_valid(spec)
    rows = dataset(spec)
    assert len(rows) == 2 * len(results)
    for result in results:
        mine = {
            row["measure"]: row["value"]
            for row in rows
            if row["seed"] == result.seed and row["scoring"] == result.scoring.label
        }
        assert mine == {
            "token accuracy": result.token_accuracy,
            "alignment score": result.alignment_score,
        }
    assert spec["encoding"]["x"]["scale"] == {"domain": [0, 1]}
    with pytest.raises(ValueError, match="one seed, accuracy and alignment score per scoring"):
        seed_dots((Scoring.DOT,), [0, 1], [1.0, 1.0], [0.8, 0.8], title="t")
    with pytest.raises(ValueError, match="at least one result"):
        seed_dots((), [], [], [], title="t")


def test_one_colour_per_scoring_function_apart_from_the_outline_and_the_cells():
    colors = set(SCORING_COLORS.values())
    assert len(colors) == len(Scoring)
    assert TRUTH_COLOR not in colors and charts.PRIMARY not in colors
