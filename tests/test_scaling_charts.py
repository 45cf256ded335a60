"""lab.scaling_charts: inspect the Vega-Lite specs, not pixels."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from lab import legacy_charts as charts
from lab import scaling as sc
from lab import scaling_charts as scc


@pytest.fixture(scope="module")
def variance_table() -> pd.DataFrame:
    return sc.variance_table(sc.sweep_dot_products(seed=0, n_pairs=400))


@pytest.fixture(scope="module")
def sharpness_table() -> pd.DataFrame:
    return sc.sharpness_table(sc.sweep_attention_scores(8, seed=0, rows=64), temperature=0.1)


def datasets(spec: dict) -> list[list[dict]]:
    return list(spec.get("datasets", {}).values())


def main_rows(spec: dict) -> list[dict]:
    """The rows of the dataset the layer chart itself carries."""
    return spec["datasets"][spec["data"]["name"]]


def test_modes_have_fixed_colours_everywhere():
    assert scc.MODE_COLORS == {"unscaled": charts.ACCENT, "scaled": charts.PRIMARY}
    colour = scc.mode_color(["scaled"]).to_dict()
    assert colour["scale"] == {"domain": ["scaled"], "range": [charts.PRIMARY]}
    for bad in ([], ["both"], ["scaled", "tilted"]):
        with pytest.raises(ValueError, match="modes"):
            scc.mode_color(bad)


def test_histogram_bars_are_a_density_under_the_theory_curve():
    samples = sc.sample_dot_products(64, 2000, seed=0)
    chart = scc.score_histogram(
        samples,
        theory_variance=64,
        domain=(-40.0, 40.0),
        title="t",
        color=charts.ACCENT,
        x_title="q·k",
        bins=30,
    )
    spec = chart.to_dict()
    bars_layer, curve_layer = spec["layer"]
    bars = spec["datasets"][bars_layer["data"]["name"]]
    curve = spec["datasets"][curve_layer["data"]["name"]]
    assert len(bars) == 30
    # Bins span ±4.5 theoretical standard deviations = ±36, inside the ±40 axis.
    assert bars[0]["start"] == pytest.approx(-36.0) and bars[-1]["end"] == pytest.approx(36.0)
    area = sum(row["density"] * (row["end"] - row["start"]) for row in bars)
    inside = np.mean(np.abs(samples) <= 36.0)
    assert area == pytest.approx(inside)
    assert bars_layer["encoding"]["x"]["scale"]["domain"] == [-40.0, 40.0]
    peak = max(row["density"] for row in curve)
    assert peak == pytest.approx(1 / np.sqrt(2 * np.pi * 64), rel=1e-3)
    assert bars_layer["mark"]["color"] == charts.ACCENT


def test_narrow_histogram_keeps_its_bins_on_a_wide_shared_axis():
    samples = sc.sample_dot_products(64, 500, seed=1) / 8.0
    spec = scc.score_histogram(
        samples,
        theory_variance=1.0,
        domain=(-36.0, 36.0),
        title="t",
        color=charts.PRIMARY,
        x_title="x",
        bins=20,
    ).to_dict()
    bars = spec["datasets"][spec["layer"][0]["data"]["name"]]
    assert bars[0]["start"] == pytest.approx(-4.5) and bars[-1]["end"] == pytest.approx(4.5)


def test_variance_chart_is_log_log_with_theory_lines(variance_table):
    spec = scc.variance_chart(variance_table).to_dict()
    rows = main_rows(spec)
    assert len(rows) == 2 * len(sc.D_VALUES)
    theory, error_bars, points, labels = spec["layer"]
    x = theory["encoding"]["x"]
    assert x["scale"]["type"] == "log" and x["scale"]["base"] == 2
    assert x["axis"]["values"] == list(sc.D_VALUES)
    y = theory["encoding"]["y"]
    assert y["field"] == "theory" and y["scale"]["type"] == "log"
    ticks = y["axis"]["values"]
    assert ticks[0] <= min(row["low"] for row in rows) and ticks[-1] >= 1024
    assert error_bars["mark"]["type"] == "rule" and error_bars["encoding"]["y2"]["field"] == "high"
    assert points["encoding"]["y"]["field"] == "empirical"
    assert {row["line"] for row in rows} == {"theory: d·σ⁴", "theory: σ⁴"}
    assert labels["mark"]["type"] == "text"


def test_variance_chart_draws_only_the_chosen_mode(variance_table):
    spec = scc.variance_chart(variance_table, modes=["scaled"]).to_dict()
    assert {row["mode"] for row in main_rows(spec)} == {"scaled"}


def test_sweep_chart_clips_at_the_floor_but_keeps_exact_values(sharpness_table):
    floor = 1e-16
    chart = scc.sweep_chart(
        sharpness_table,
        "jacobian_median",
        title="J",
        y_title="‖J‖",
        references=[("uniform", sc.uniform_jacobian_norm(8))],
        band=("jacobian_q10", "jacobian_q90"),
        log_y=True,
        floor=floor,
    )
    spec = chart.to_dict()
    rows = main_rows(spec)
    assert len(rows) == 2 * len(sc.D_VALUES)
    exact = sharpness_table["jacobian_q10"].min()
    assert exact < floor  # at T = 0.1 and d = 1024 some rows are saturated below the floor
    assert min(row["low_drawn"] for row in rows) == floor
    assert min(row["low"] for row in rows) == exact
    for row in rows:
        assert row["value_drawn"] == max(row["value"], floor)
    band, line, rule, text = spec["layer"]
    assert band["mark"]["type"] == "area" and text["mark"]["type"] == "text"
    assert line["encoding"]["y"]["scale"]["type"] == "log"
    ticks = line["encoding"]["y"]["axis"]["values"]
    assert ticks[0] <= floor and ticks[-1] >= sc.uniform_jacobian_norm(8)
    assert line["encoding"]["y"]["scale"]["domain"] == [ticks[0], ticks[-1]]
    references = spec["datasets"][rule["data"]["name"]]
    assert references == [{"label": "uniform", "value": sc.uniform_jacobian_norm(8)}]
    tooltip = [item["field"] for item in line["encoding"]["tooltip"]]
    assert tooltip == ["d", "mode", "value", "low", "high"]


def test_sweep_chart_linear_with_fixed_domain_and_one_mode(sharpness_table):
    spec = scc.sweep_chart(
        sharpness_table,
        "mean_max_weight",
        title="max",
        y_title="largest weight",
        references=[("one-hot", 1.0), ("uniform", 1 / 8)],
        modes=["unscaled"],
        y_domain=(0.0, 1.05),
    ).to_dict()
    assert {row["mode"] for row in main_rows(spec)} == {"unscaled"}
    line = spec["layer"][0]
    assert line["encoding"]["y"]["scale"]["domain"] == [0.0, 1.05]
    assert line["encoding"]["y"]["scale"]["type"] == "linear"
    references = spec["datasets"][spec["layer"][1]["data"]["name"]]
    assert [row["value"] for row in references] == [1.0, 0.125]


def test_sweep_chart_rejects_a_missing_column(sharpness_table):
    with pytest.raises(ValueError, match="no column"):
        scc.sweep_chart(sharpness_table, "loss", title="t", y_title="y")


def test_d_marker_is_added_to_a_copy(sharpness_table):
    spec = scc.sweep_chart(sharpness_table, "mean_entropy", title="t", y_title="y").to_dict()
    before = copy.deepcopy(spec)
    marked = scc.with_d_marker(spec, 64)
    assert spec == before
    assert len(marked["layer"]) == len(spec["layer"]) + 1
    marker = marked["layer"][-1]
    assert marker["mark"]["type"] == "rule" and marker["data"]["values"] == [{"d": 64}]
    with pytest.raises(ValueError, match="layer"):
        scc.with_d_marker({"mark": "bar"}, 4)


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


def test_jacobian_limits_hold_every_entry():
    low, high = scc.jacobian_limits()
    weights = sc.attention_weights(sc.sample_attention_scores(8, 16, trials=4), 16, scaled=True)
    jacobian = sc.softmax_jacobian(weights)
    assert low <= jacobian.min() and jacobian.max() <= high
    assert sc.softmax_jacobian(np.array([0.5, 0.5]))[0, 0] == high
