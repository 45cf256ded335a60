"""lab.scaling.charts: every spec is valid Vega-Lite; inspect its data and encodings, not pixels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lab import charts
from lab import scaling as sc
from lab.scaling import Mode
from lab.scaling import charts as scc
from tests.vega import assert_valid, dataset


@pytest.fixture(scope="module")
def variance_table() -> pd.DataFrame:
    return sc.variance_table(sc.sweep_dot_products(seed=0, n_pairs=400))


@pytest.fixture(scope="module")
def sharpness_table() -> pd.DataFrame:
    return sc.sharpness_table(sc.sweep_attention_scores(8, seed=0, rows=64), temperature=0.1)


@pytest.fixture(scope="module")
def row() -> np.ndarray:
    """One query's weights over 8 keys, scaled, at d = 16."""
    return sc.attention_weights(sc.sample_attention_scores(8, 16)[0], 16, scaled=True)[3]


def layers_of(spec: dict) -> list[dict]:
    return spec["layer"]


def decorative(layer: dict) -> bool:
    return layer["mark"].get("aria") is False


def assert_finished(spec: dict) -> None:
    """Valid, with a text alternative, sized by content, never asking Vega for "fit"."""
    assert_valid(spec)
    assert spec["description"]
    assert spec["autosize"] == {"type": "pad", "contains": "padding"}
    assert "fit" not in json.dumps(spec.get("autosize"))


def test_modes_have_fixed_colours_everywhere():
    assert scc.MODE_COLORS == {Mode.UNSCALED: charts.ACCENT, Mode.SCALED: charts.PRIMARY}
    colour = scc.mode_color(["scaled"])
    assert colour["scale"] == {"domain": ["scaled"], "range": [charts.PRIMARY]}
    both = scc.mode_color([Mode.SCALED, "unscaled"])  # any order in, unscaled first out
    assert both["scale"] == {
        "domain": ["unscaled", "scaled"],
        "range": [charts.ACCENT, charts.PRIMARY],
    }
    assert both["legend"]["labelExpr"] == (
        "datum.value == 'unscaled' ? 'unscaled  q·k' : "
        "datum.value == 'scaled' ? 'scaled  q·k / √d' : datum.value"
    )
    for bad in ([], ["both"], ["scaled", "tilted"]):
        with pytest.raises(ValueError) as error:
            scc.mode_color(bad)
        assert str(error.value) == (
            f"modes must be a non-empty subset of ['unscaled', 'scaled'], got {bad}"
        )


def test_the_matrix_schemes_use_neither_mode_colour():
    # One colour, one meaning: orange and blue belong to the modes.
    assert scc.WEIGHT_SCHEME == "purples" and scc.JACOBIAN_SCHEME == "pinkyellowgreen"
    assert set(scc.MODE_TINTS) == set(Mode)


def test_histogram_bars_are_a_density_under_the_theory_curve():
    samples = sc.sample_dot_products(64, 2000, seed=0)
    spec = scc.score_histogram(
        samples, d=64, variance=1.0, mode="unscaled", domain=(-40.0, 40.0), bins=30
    )
    assert_finished(spec)
    bars_layer, curve_layer = layers_of(spec)
    bars = dataset(spec, "bins")
    curve = dataset(spec, "curve")
    assert len(bars) == 30
    # Bins span ±4.5 theoretical standard deviations = ±36, inside the ±40 axis.
    assert bars[0]["start"] == pytest.approx(-36.0) and bars[-1]["end"] == pytest.approx(36.0)
    area = sum(row["density"] * (row["end"] - row["start"]) for row in bars)
    inside = np.mean(np.abs(samples) <= 36.0)
    assert area == pytest.approx(inside)
    assert sum(row["count"] for row in bars) == np.sum(np.abs(samples) <= 36.0)
    assert bars_layer["encoding"]["x"]["scale"]["domain"] == [-40.0, 40.0]
    peak = max(row["density"] for row in curve)
    assert peak == pytest.approx(1 / np.sqrt(2 * np.pi * 64), rel=1e-3)
    assert len(curve) == 161 and curve[0]["x"] == -40.0 and curve[-1]["x"] == 40.0
    assert bars_layer["mark"]["color"] == charts.ACCENT
    assert decorative(curve_layer) and not decorative(bars_layer)
    assert spec["title"] == "unscaled  q·k   vs   N(0, d·σ⁴ = 64)"
    assert bars_layer["encoding"]["x"]["title"] == "q·k"
    assert bars[0]["range"] == f"{bars[0]['start']:.3g} to {bars[0]['end']:.3g}"


def test_narrow_histogram_keeps_its_bins_on_a_wide_shared_axis():
    samples = sc.sample_dot_products(64, 500, seed=1) / 8.0
    spec = scc.score_histogram(
        samples, d=64, variance=1.0, mode=Mode.SCALED, domain=(-36.0, 36.0), bins=20
    )
    assert_finished(spec)
    bars = dataset(spec, "bins")
    assert bars[0]["start"] == pytest.approx(-4.5) and bars[-1]["end"] == pytest.approx(4.5)
    assert layers_of(spec)[0]["mark"]["color"] == charts.PRIMARY
    assert spec["title"] == "scaled  q·k / √d   vs   N(0, σ⁴ = 1)"
    assert layers_of(spec)[0]["encoding"]["x"]["title"] == "q·k / √d"


def test_histogram_theory_follows_the_variance():
    samples = sc.sample_dot_products(16, 300, variance=2.0, seed=1)
    spec = scc.score_histogram(samples, d=16, variance=2.0, mode="unscaled", domain=(-40, 40))
    assert spec["title"].endswith("N(0, d·σ⁴ = 64)")
    peak = max(row["density"] for row in dataset(spec, "curve"))
    assert peak == pytest.approx(1 / np.sqrt(2 * np.pi * 64), rel=1e-3)
    # ±4.5 · 8 = ±36: the bins stop inside the ±40 axis.
    assert dataset(spec, "bins")[0]["start"] == pytest.approx(-36.0)


def test_histogram_outside_its_axis_uses_the_whole_axis():
    # A domain entirely beside the ±4.5σ window keeps its own range for the bins.
    spec = scc.score_histogram(
        np.array([0.0, 10.0, 11.0]), d=1, variance=1.0, mode="scaled", domain=(9.0, 12.0), bins=3
    )
    bars = dataset(spec, "bins")
    assert (bars[0]["start"], bars[-1]["end"]) == (9.0, 12.0)
    assert [row["count"] for row in bars] == [0, 1, 1]


def test_variance_chart_is_log_log_with_theory_lines(variance_table):
    spec = scc.variance_chart(variance_table)
    assert_finished(spec)
    rows = dataset(spec, "variances")
    assert len(rows) == 2 * len(sc.D_VALUES)
    assert "marker" not in spec["datasets"]
    theory, error_bars, points, labels = layers_of(spec)
    x = theory["encoding"]["x"]
    assert x["scale"]["type"] == "log" and x["scale"]["base"] == 2
    assert x["axis"]["values"] == list(sc.D_VALUES)
    y = theory["encoding"]["y"]
    assert y["field"] == "theory" and y["scale"]["type"] == "log"
    ticks = y["axis"]["values"]
    assert ticks[0] <= min(row["low"] for row in rows) and ticks[-1] >= 1024
    assert error_bars["mark"]["type"] == "rule" and error_bars["encoding"]["y2"]["field"] == "high"
    assert error_bars["encoding"]["y"]["field"] == "low"
    assert points["encoding"]["y"]["field"] == "empirical"
    assert {row["line"] for row in rows} == {"theory: d·σ⁴", "theory: σ⁴"}
    assert all(
        row["line"] == ("theory: d·σ⁴" if row["mode"] == "unscaled" else "theory: σ⁴")
        for row in rows
    )
    assert labels["mark"]["type"] == "text"
    assert labels["transform"] == [{"filter": "datum.d == 1024"}]
    assert [decorative(layer) for layer in (theory, error_bars, points, labels)] == [
        True,
        True,
        False,
        True,
    ]
    table_rows = variance_table.to_dict("records")
    for drawn, source in zip(rows, table_rows, strict=True):
        assert {key: drawn[key] for key in source} == source


def test_variance_chart_draws_only_the_chosen_mode_and_marks_d(variance_table):
    spec = scc.variance_chart(variance_table, modes=["scaled"], d=64)
    assert_finished(spec)
    assert {row["mode"] for row in dataset(spec, "variances")} == {"scaled"}
    marker = layers_of(spec)[-1]
    assert spec["datasets"]["marker"] == [{"d": 64}]
    assert marker["data"] == {"name": "marker"} and marker["mark"]["type"] == "rule"
    assert decorative(marker)


def test_sweep_chart_clips_at_the_floor_but_keeps_exact_values(sharpness_table):
    floor = 1e-16
    spec = scc.dimension_sweep_chart(
        sharpness_table,
        "jacobian_median",
        title="J",
        y_title="‖J‖",
        references=[("uniform", sc.uniform_jacobian_norm(8))],
        band=("jacobian_q10", "jacobian_q90"),
        log_y=True,
        floor=floor,
    )
    assert_finished(spec)
    rows = dataset(spec, "sweep")
    assert len(rows) == 2 * len(sc.D_VALUES)
    exact = sharpness_table["jacobian_q10"].min()
    assert exact < floor  # at T = 0.1 and d = 1024 some rows are saturated below the floor
    assert min(row["low_drawn"] for row in rows) == floor
    assert min(row["low"] for row in rows) == exact
    for row in rows:
        assert row["value_drawn"] == max(row["value"], floor)
        assert row["high_drawn"] == max(row["high"], floor)
    band, line, rule, text = layers_of(spec)
    assert band["mark"]["type"] == "area" and text["mark"]["type"] == "text"
    assert band["encoding"]["y"]["field"] == "low_drawn"
    assert band["encoding"]["y2"]["field"] == "high_drawn"
    assert line["encoding"]["y"]["scale"]["type"] == "log"
    ticks = line["encoding"]["y"]["axis"]["values"]
    assert ticks[0] <= floor and ticks[-1] >= sc.uniform_jacobian_norm(8)
    assert line["encoding"]["y"]["scale"]["domain"] == [ticks[0], ticks[-1]]
    references = dataset(spec, "references")
    assert references == [{"label": "uniform", "value": sc.uniform_jacobian_norm(8)}]
    tooltip = [item["field"] for item in line["encoding"]["tooltip"]]
    assert tooltip == ["d", "mode", "value", "low", "high"]
    assert [decorative(layer) for layer in (band, line, rule, text)] == [True, False, True, True]


def test_sweep_chart_linear_with_fixed_domain_and_one_mode(sharpness_table):
    spec = scc.dimension_sweep_chart(
        sharpness_table,
        "mean_max_weight",
        title="max",
        y_title="largest weight",
        references=[("one-hot", 1.0), ("uniform", 1 / 8)],
        modes=["unscaled"],
        y_domain=(0.0, 1.05),
    )
    assert_finished(spec)
    assert {row["mode"] for row in dataset(spec, "sweep")} == {"unscaled"}
    line = layers_of(spec)[0]
    assert line["encoding"]["y"]["scale"]["domain"] == [0.0, 1.05]
    assert line["encoding"]["y"]["scale"]["type"] == "linear"
    assert line["encoding"]["y"]["scale"]["nice"] is False  # the fixed domain is kept as is
    references = dataset(spec, "references")
    assert [row["value"] for row in references] == [1.0, 0.125]
    values = [row["value"] for row in dataset(spec, "sweep")]
    unscaled = sharpness_table[sharpness_table["mode"] == "unscaled"]
    assert values == unscaled["mean_max_weight"].tolist()


def test_sweep_chart_rejects_a_missing_column(sharpness_table):
    with pytest.raises(ValueError) as error:
        scc.dimension_sweep_chart(sharpness_table, "loss", title="t", y_title="y")
    assert str(error.value) == (
        f"the table has no column ['loss']; it has {list(sharpness_table.columns)}"
    )


def test_d_marker_is_an_argument_of_the_sweeps(sharpness_table):
    plain = scc.dimension_sweep_chart(sharpness_table, "mean_entropy", title="t", y_title="y")
    marked = scc.dimension_sweep_chart(
        sharpness_table, "mean_entropy", title="t", y_title="y", d=64
    )
    assert_finished(marked)
    assert len(layers_of(marked)) == len(layers_of(plain)) + 1
    assert layers_of(marked)[:-1] == layers_of(plain)
    marker = layers_of(marked)[-1]
    assert marker["mark"]["type"] == "rule" and marked["datasets"]["marker"] == [{"d": 64}]
    assert marker["encoding"]["x"] == {"field": "d", "type": "quantitative"}
    assert "marker" not in plain["datasets"]


def test_the_three_sweeps_of_the_page(sharpness_table):
    entropy = scc.entropy_chart(sharpness_table, 8, modes=tuple(Mode), d=4)
    largest = scc.max_weight_chart(sharpness_table, 8, modes=[Mode.SCALED], d=None, height=250)
    jacobian = scc.jacobian_sweep_chart(sharpness_table, 8, modes=tuple(Mode), d=1024)
    for spec in (entropy, largest, jacobian):
        assert_finished(spec)
    assert dataset(entropy, "references") == [
        {"label": f"uniform: log S = {np.log(8):.2f}", "value": np.log(8)}
    ]
    assert layers_of(entropy)[0]["encoding"]["y"]["scale"]["domain"] == [0.0, np.log(8) * 1.08]
    assert dataset(largest, "references") == [
        {"label": "one-hot: 1", "value": 1.0},
        {"label": "uniform: 1/S = 0.125", "value": 0.125},
    ]
    assert largest["height"] == 250 and entropy["height"] == scc.SWEEP_HEIGHT
    assert largest["title"] == "Mean largest weight of a query"
    assert jacobian["title"] == "Frobenius norm of the softmax Jacobian, median query"
    uniform = sc.uniform_jacobian_norm(8)
    assert dataset(jacobian, "references") == [
        {"label": f"uniform: √(S−1)/S = {uniform:.3f}", "value": uniform}
    ]
    assert min(row["value_drawn"] for row in dataset(jacobian, "sweep")) >= sc.JACOBIAN_FLOOR
    assert jacobian["datasets"]["marker"] == [{"d": 1024}]
    assert [row["value"] for row in dataset(entropy, "sweep")] == sharpness_table[
        "mean_entropy"
    ].tolist()


@pytest.mark.parametrize(
    ("values", "first", "last"),
    [
        ([0.3, 0.01], 0.01, 1.0),
        ([1e-16, 0.3], 1e-16, 1.0),
        ([5.0, 20000.0], 1.0, 1e5),
        ([1e-17, 0.3], 1e-18, 1.0),  # 17 decades: every other one, down past 1e-17
    ],
)
def test_decade_ticks_cover_the_values(values, first, last):
    ticks = scc.decade_ticks(values)
    assert ticks[0] == pytest.approx(first, rel=1e-9, abs=0)
    assert ticks[-1] == pytest.approx(last, rel=1e-9, abs=0)
    assert len(ticks) <= 10 and ticks == sorted(ticks)
    assert scc.decade_ticks([0.0, -1.0]) == [1.0]


def test_decade_ticks_step():
    assert scc.decade_ticks([1e-3, 1.0]) == pytest.approx([1e-3, 1e-2, 1e-1, 1.0])
    # 16 decades, at most 9 ticks: every second decade, landing on both ends.
    assert scc.decade_ticks([1e-16, 1.0]) == pytest.approx([10.0**p for p in range(-16, 1, 2)])
    assert scc.decade_ticks([1e-3, 1.0], max_ticks=2) == pytest.approx([1e-3, 1.0])


def test_jacobian_limits_hold_every_entry():
    low, high = scc.jacobian_limits()
    assert (low, high) == (-0.25, 0.25)
    weights = sc.attention_weights(sc.sample_attention_scores(8, 16, trials=4), 16, scaled=True)
    jacobian = sc.softmax_jacobian(weights)
    assert low <= jacobian.min() and jacobian.max() <= high
    assert sc.softmax_jacobian(np.array([0.5, 0.5]))[0, 0] == high
    assert sc.softmax_jacobian(np.array([0.5, 0.5]))[0, 1] == low


# ----------------------------------------------------------------------------- one query


@pytest.mark.parametrize("mode", list(Mode))
def test_weights_bars_use_the_mode_colour_with_the_largest_in_full(row, mode):
    spec = scc.weights_bars(row, mode, 3)
    assert_finished(spec)
    bars = dataset(spec, "bars")
    strongest = int(np.argmax(row))
    colours = [bar["bar_color"] for bar in bars]
    assert colours[strongest] == scc.MODE_COLORS[mode]
    assert colours.count(scc.MODE_TINTS[mode]) == len(row) - 1
    assert [bar["value"] for bar in bars] == pytest.approx(row.tolist())
    assert [bar["label"] for bar in bars] == [f"k{index}" for index in range(8)]
    assert spec["title"] == f"{scc.MODE_TITLES[mode]}: weights of q3"
    assert spec["height"] == {"step": 20}  # 8 bars: the tallest step
    assert f"key k{strongest}, is drawn in full colour" in spec["description"]
    other = Mode.SCALED if mode is Mode.UNSCALED else Mode.UNSCALED
    assert scc.MODE_COLORS[other] not in colours  # never the other mode's colour


def test_weights_bars_shrink_for_many_keys():
    many = np.full(32, 1 / 32)
    assert scc.weights_bars(many, "unscaled", 0)["height"] == {"step": 13}
    assert scc.weights_bars(np.full(20, 0.05), "scaled", 0)["height"] == {"step": 16}


def test_jacobian_heatmap_is_j_on_a_quarter_with_its_norm_in_the_title(row):
    spec = scc.jacobian_heatmap(row, Mode.SCALED, 3, legend=False)
    assert_finished(spec)
    cells = dataset(spec, "cells")
    jacobian = sc.softmax_jacobian(row)
    assert [cell["value"] for cell in cells] == pytest.approx(jacobian.ravel().tolist())
    colour = layers_of(spec)[0]["encoding"]["color"]
    assert colour["scale"]["scheme"] == scc.JACOBIAN_SCHEME
    assert colour["scale"]["domain"] == [-0.25, 0.25] and colour["legend"] is None
    norm = sc.format_small(float(sc.jacobian_norm(row)), equals=True)
    assert spec["title"] == f"scaled  q·k / √d: J of q3, Frobenius norm {norm}"
    assert spec["encoding"]["x"]["axis"]["title"] == "logit zⱼ"
    assert spec["encoding"]["y"]["axis"]["title"] == "weight wᵢ"


def test_jacobian_heatmap_of_a_saturated_row_says_below_the_floor():
    one_hot = sc.attention_weights(np.array([0.0, -60.0, -60.0]), 1, scaled=False)
    spec = scc.jacobian_heatmap(one_hot, "unscaled", 0)
    assert spec["title"] == "unscaled  q·k: J of q0, Frobenius norm < 1e-16"


def test_attention_heatmap_draws_the_weights_in_purples():
    weights = sc.attention_weights(sc.sample_attention_scores(5, 64)[0], 64, scaled=False)
    spec = scc.attention_heatmap(weights, Mode.UNSCALED)
    assert_finished(spec)
    colour = layers_of(spec)[0]["encoding"]["color"]
    assert colour["scale"]["scheme"] == scc.WEIGHT_SCHEME
    assert colour["scale"]["domain"] == [0.0, 1.0]
    cells = dataset(spec, "cells")
    assert [cell["value"] for cell in cells] == pytest.approx(weights.ravel().tolist())
    assert cells[6]["row_label"] == "q1" and cells[6]["col_label"] == "k1"
    assert spec["title"] == "unscaled  q·k   (5 × 5)"


def test_every_builder_gives_a_text_alternative_and_hides_decoration(
    variance_table, sharpness_table, row
):
    samples = sc.sample_dot_products(4, 100)
    specs = [
        scc.score_histogram(samples, d=4, variance=1.0, mode="scaled", domain=(-9, 9)),
        scc.variance_chart(variance_table, d=2),
        scc.entropy_chart(sharpness_table, 8, modes=tuple(Mode), d=2),
        scc.max_weight_chart(sharpness_table, 8, modes=tuple(Mode), d=2),
        scc.jacobian_sweep_chart(sharpness_table, 8, modes=tuple(Mode), d=2),
        scc.weights_bars(row, "scaled", 0),
        scc.jacobian_heatmap(row, "unscaled", 0),
        scc.attention_heatmap(np.outer(row, np.ones(1)).T, "scaled"),
    ]
    for spec in specs:
        assert_finished(spec)
        marks = [layer["mark"] for layer in layers_of(spec)]
        for mark in marks:
            if mark["type"] in {"text", "rule"} or (
                mark["type"] == "line" and mark.get("strokeDash")
            ):
                assert mark.get("aria") is False, (spec["title"], mark)
        assert any(mark.get("aria") is not False for mark in marks), spec["title"]


def test_columns_and_dataframes_draw_the_same_chart(variance_table, sharpness_table):
    columns = sc.sweep_columns(sharpness_table)
    assert scc.jacobian_sweep_chart(columns, 8, modes=["scaled"], d=4) == (
        scc.jacobian_sweep_chart(sharpness_table, 8, modes=["scaled"], d=4)
    )
    assert scc.variance_chart(sc.sweep_columns(variance_table), d=8) == scc.variance_chart(
        variance_table, d=8
    )
    with pytest.raises(ValueError) as error:
        scc.entropy_chart(
            {"d": np.ones(2), "mode": np.array(["scaled"] * 2)}, 8, modes=["scaled"], d=None
        )
    assert str(error.value) == "the table has no column ['mean_entropy']; it has ['d', 'mode']"
