"""The cost-of-attention chart builders: valid Vega-Lite, the data they mean, one colour per method."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lab import charts as lab_charts
from lab.cost_of_attention import (
    CrossoverPlace,
    Implementation,
    Method,
    Quantity,
    cost_curves,
    crossover_length,
    fit_log_log_slope,
    measured_crossovers,
    measured_slopes,
)
from lab.cost_of_attention.charts import (
    COLORS,
    LEGEND_NAMES,
    cost_model_chart,
    error_chart,
    measured_chart,
    method_color,
    method_heatmap,
)
from lab.cost_of_attention.study import ErrorMeasure, MeasuredQuantity, error_study, small_example
from tests.vega import assert_valid, dataset

EXACT = (Implementation.NUMPY, Implementation.TORCH, Implementation.TORCH_FUSED)
VERSUS = (
    Implementation.NUMPY,
    Implementation.PERFORMER,
    Implementation.LINEAR,
    Implementation.CLUSTERED,
)


@pytest.fixture(scope="module")
def study():
    return error_study(32, 8, seed=0, magnitude=0.5, sweep_seeds=3)


def colour_of(spec, series: str) -> str:
    """The colour a layered spec's shared colour scale gives ``series``."""
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    return scale["range"][scale["domain"].index(series)]


def decorative(spec) -> list[dict]:
    return [layer for layer in spec["layer"] if layer["mark"].get("aria") is False]


# ----------------------------------------------------------------------------- measured


@pytest.mark.parametrize("quantity", list(MeasuredQuantity))
def test_measured_chart_holds_the_figures_with_slopes_in_the_legend(figures, quantity):
    spec = measured_chart(figures, EXACT, quantity, title="measured")
    assert_valid(spec)
    assert spec["autosize"] == lab_charts.CONTENT_SIZE
    rows = dataset(spec, "measured")
    fits = measured_slopes(figures)
    for implementation in EXACT:
        fit = (
            fits[implementation].seconds
            if quantity is MeasuredQuantity.TIME
            else (fits[implementation].peak_bytes)
        )
        name = f"{LEGEND_NAMES[implementation]} · slope {fit.slope:.2f}"
        mine = [row for row in rows if row["series"] == name]
        assert [row["n"] for row in mine] == list(figures.n_values)
        expected = quantity.values(figures.series_for(implementation))
        np.testing.assert_allclose([row["value"] for row in mine], expected)
        assert colour_of(spec, name) == COLORS[implementation]


def test_the_reference_line_has_slope_two_through_numpys_last_point(figures):
    spec = measured_chart(figures, EXACT, MeasuredQuantity.TIME, title="t")
    reference = dataset(spec, "reference")
    sizes = [row["n"] for row in reference]
    values = [row["value"] for row in reference]
    assert fit_log_log_slope(sizes, values).slope == pytest.approx(2.0)
    assert values[-1] == pytest.approx(figures.series_for(Implementation.NUMPY).seconds[-1] * 1e3)
    name = reference[0]["series"]
    assert name == "n² reference"
    assert colour_of(spec, name) == lab_charts.FAINT
    dash = spec["layer"][0]["encoding"]["strokeDash"]["scale"]
    assert dash["range"][dash["domain"].index(name)] != [1, 0]  # the one dashed entry
    assert all(layer["mark"]["aria"] is False for layer in decorative(spec))
    assert "n² growth through the last numpy point" in spec["description"]


def test_crossovers_are_marked_where_the_record_puts_them(figures):
    spec = measured_chart(
        figures,
        VERSUS,
        MeasuredQuantity.TIME,
        title="t",
        reference_power=None,
        mark_crossovers=True,
    )
    assert_valid(spec)
    assert "reference" not in spec["datasets"]
    marks = {row["series"].split(" · ")[0]: row for row in dataset(spec, "crossovers")}
    expected = {
        LEGEND_NAMES[item]: crossover
        for item, crossover in measured_crossovers(figures).items()
        if crossover.place is CrossoverPlace.WITHIN_RANGE
    }
    assert set(marks) == set(expected)
    for name, crossover in expected.items():
        assert marks[name]["n"] == pytest.approx(crossover.n)
        assert marks[name]["label"] == f"n ≈ {crossover.n:.0f}"
        assert f"at n ≈ {crossover.n:.0f}" in spec["description"]
    rule, label = spec["layer"][-2:]
    assert rule["mark"]["type"] == "rule" and rule["encoding"]["color"]["field"] == "series"
    assert rule["mark"]["aria"] is False and label["mark"]["aria"] is False


def test_one_measured_size_draws_points_without_slopes_or_reference(one_size):
    spec = measured_chart(one_size, VERSUS, MeasuredQuantity.TIME, title="t")
    assert_valid(spec)
    names = [row["series"] for row in dataset(spec, "measured")]
    assert names == [LEGEND_NAMES[item] for item in VERSUS]
    assert set(spec["datasets"]) == {"measured"}


def test_zero_memory_is_left_off_the_log_axis(figures):
    numpy_series = figures.series_for(Implementation.NUMPY)
    zeroed = replace(numpy_series, peak_bytes=(0, *numpy_series.peak_bytes[1:]))
    broken = replace(figures, series=(zeroed, *figures.series[1:]))
    spec = measured_chart(broken, (Implementation.NUMPY,), MeasuredQuantity.MEMORY, title="m")
    assert_valid(spec)
    assert [row["n"] for row in dataset(spec, "measured")] == list(figures.n_values[1:])


def test_measured_chart_needs_an_implementation(figures):
    with pytest.raises(ValueError, match=r"^choose at least one implementation to draw$"):
        measured_chart(figures, (), MeasuredQuantity.TIME, title="t")


def test_legend_on_top_and_subtitle(figures):
    spec = measured_chart(
        figures, EXACT, MeasuredQuantity.TIME, title="t", legend_on_top=True, subtitle="d = 64"
    )
    assert_valid(spec)
    assert spec["layer"][0]["encoding"]["color"]["legend"]["orient"] == "top"
    assert spec["title"] == {"text": "t", "subtitle": "d = 64"}


# ----------------------------------------------------------------------------- counted


@pytest.mark.parametrize("quantity", list(Quantity))
def test_cost_model_chart_draws_the_counts_and_their_crossovers(quantity):
    sizes = (16, 32, 64, 128, 256, 512)
    spec = cost_model_chart(
        sizes, 32, num_features=64, num_clusters=8, title="counted", quantity=quantity
    )
    assert_valid(spec)
    rows = dataset(spec, "counts")
    curves = cost_curves(sizes, 32, num_features=64, num_clusters=8)
    series = list(dict.fromkeys(row["series"] for row in rows))
    for method, name in zip(Method, series, strict=True):
        assert [row["value"] for row in rows if row["series"] == name] == [
            cost.get(quantity) for cost in curves[method]
        ]
        assert colour_of(spec, name) == method_color(method)
    crossings = {row["series"]: row["n"] for row in spec["datasets"].get("crossovers", [])}
    for method, name in zip(Method, series, strict=True):
        if method is Method.EXACT:
            continue
        first = crossover_length(method, 32, num_features=64, num_clusters=8, quantity=quantity)
        assert crossings.get(name) == (first if sizes[0] < first <= sizes[-1] else None)
        assert f"is cheaper from n = {first}" in spec["description"]
    assert spec["title"]["subtitle"] == "d = 32, r = 64, C = 8"


def test_cost_model_chart_names_the_formulas_it_draws():
    spec = cost_model_chart((16, 4096), 32, num_features=64, num_clusters=8, title="c")
    names = spec["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert names == [
        "exact softmax: 2n²d",
        "random features: 4nrd + 2nr",
        "linear (elu + 1): 2nd² + 2nd",
        "clustered: k-means + 2Cnd",
    ]
    # random features at r = 64, d = 32: n > 2r + r/d = 130, so the first n is 131.
    crossings = {row["series"]: row["n"] for row in dataset(spec, "crossovers")}
    assert crossings["random features: 4nrd + 2nr"] == 131
    assert crossings["linear (elu + 1): 2nd² + 2nd"] == 34  # n > d + 1 = 33


def test_cost_model_chart_refuses_sizes_that_do_not_increase():
    with pytest.raises(ValueError, match=r"^n_values must be at least two increasing sizes"):
        cost_model_chart((64, 32), 8, num_features=4, num_clusters=2, title="c")


# ----------------------------------------------------------------------------- error


@pytest.mark.parametrize("measure", list(ErrorMeasure))
@pytest.mark.parametrize("method", [Method.PERFORMER, Method.CLUSTERED])
def test_error_chart_draws_mean_band_and_the_chosen_setting(study, measure, method):
    sweep = study.sweep(method)
    chosen = 8
    linear = study.at(Method.LINEAR, measure)
    spec = error_chart(sweep, measure, chosen=chosen, title="e", linear_error=linear)
    assert_valid(spec)
    samples = measure.samples(sweep)
    rows = dataset(spec, "sweep")
    assert [row["setting"] for row in rows] == sweep.values.tolist()
    np.testing.assert_allclose([row["mean"] for row in rows], samples.mean(axis=1))
    spread = samples.std(axis=1, ddof=1)
    np.testing.assert_allclose(
        [row["low"] for row in rows], np.maximum(samples.mean(axis=1) - spread, 0)
    )
    np.testing.assert_allclose([row["high"] for row in rows], samples.mean(axis=1) + spread)
    (mine,) = dataset(spec, "chosen")
    assert mine["setting"] == chosen
    assert mine["mean"] == study.at(method, measure, chosen)
    assert dataset(spec, "linear") == [{"mean": linear}]
    colours = {layer["mark"].get("color") for layer in spec["layer"][:2]}
    assert colours == {method_color(method)}
    band = spec["layer"][0]
    assert band["mark"]["type"] == "area" and band["mark"]["aria"] is False
    assert spec["layer"][1]["mark"]["point"]["color"] == method_color(method)


def test_a_chosen_c_beyond_the_sweep_marks_its_end(study):
    spec = error_chart(study.clusters, ErrorMeasure.OUTPUT, chosen=256, title="e")
    assert dataset(spec, "chosen")[0]["setting"] == 32
    assert dataset(spec, "chosen")[0]["mean"] == 0.0
    assert "linear" not in spec["datasets"]


def test_infinite_errors_are_left_out_and_all_infinite_is_refused(study):
    sweep = study.features
    broken = replace(
        sweep,
        kl_divergences=np.where(np.arange(10)[:, None] == 0, np.inf, 1.0)
        * np.ones_like(sweep.kl_divergences),
    )
    spec = error_chart(broken, ErrorMeasure.KL, chosen=1, title="e")
    assert_valid(spec)
    assert [row["setting"] for row in dataset(spec, "sweep")] == sweep.values.tolist()[1:]
    assert "chosen" not in spec["datasets"]
    hopeless = replace(sweep, kl_divergences=np.full_like(sweep.kl_divergences, np.inf))
    with pytest.raises(ValueError, match=r"infinite; nothing to draw$"):
        error_chart(hopeless, ErrorMeasure.KL, chosen=1, title="e")


# ----------------------------------------------------------------------------- heatmaps


def test_method_heatmaps_share_one_scale_and_state_their_errors():
    example = small_example(8, 16, seed=0, magnitude=0.5, num_features=16, num_clusters=2)
    domain = (0.0, example.largest_weight)
    for method, result in example.results.items():
        spec = method_heatmap(result, example.labels, setting="r = 16", domain=domain, legend=False)
        assert_valid(spec)
        cells = dataset(spec, "cells")
        np.testing.assert_allclose([cell["value"] for cell in cells], result.weights.ravel())
        scale = spec["layer"][0]["encoding"]["color"]["scale"]
        assert scale["domain"] == [0.0, example.largest_weight]
        assert spec["layer"][0]["encoding"]["color"]["legend"] is None
        if method is Method.EXACT:
            assert spec["title"]["subtitle"].startswith("the reference")
        else:
            assert spec["title"]["subtitle"] == (
                f"output error {result.output_error:.3f} · KL {result.mean_kl:.3f} nats"
            )


def test_one_colour_per_method_across_every_chart(figures, study):
    measured = measured_chart(
        figures, VERSUS, MeasuredQuantity.TIME, title="t", reference_power=None
    )
    counted = cost_model_chart((16, 4096), 32, num_features=64, num_clusters=8, title="c")
    for method, implementation in (
        (Method.EXACT, Implementation.NUMPY),
        (Method.PERFORMER, Implementation.PERFORMER),
        (Method.LINEAR, Implementation.LINEAR),
        (Method.CLUSTERED, Implementation.CLUSTERED),
    ):
        measured_names = [
            name
            for name in measured["layer"][0]["encoding"]["color"]["scale"]["domain"]
            if name.startswith(LEGEND_NAMES[implementation])
        ]
        assert colour_of(measured, measured_names[0]) == method_color(method)
        counted_index = list(Method).index(method)
        assert counted["layer"][0]["encoding"]["color"]["scale"]["range"][counted_index] == (
            method_color(method)
        )
    assert len(set(COLORS.values())) == len(COLORS)
    sweep = error_chart(study.features, ErrorMeasure.OUTPUT, chosen=4, title="e")
    assert sweep["layer"][1]["mark"]["color"] == COLORS[Implementation.PERFORMER]
