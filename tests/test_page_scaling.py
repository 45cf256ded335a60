"""The "why scale by √d" page under AppTest: defaults, every control at its extremes."""

from __future__ import annotations

import json
import re

import pytest

from lab import scaling as sc
from tests.apptest_util import assert_clean, charts, run_page, texts

PAGE = "demos/scaling.py"
BOTH_MODES_CHARTS = 12  # 2 histograms, variance, 2 bar charts, entropy, max weight,
# 2 Jacobians, the Jacobian sweep, 2 attention heatmaps
ONE_MODE_CHARTS = 8


@pytest.fixture
def app():
    return run_page(PAGE)


def specs(app) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in charts(app)]


def assert_no_nan(app) -> None:
    shown = texts(app) + " " + " ".join(str(metric.value) for metric in app.metric)
    assert not re.search(r"\b(nan|inf)\b", shown, re.IGNORECASE), shown


def test_default_page_makes_the_point(app):
    assert_clean(app)
    assert app.title[0].value == "Why scale by √d"
    assert app.select_slider(key="sc_d").value == sc.ScalingConfig().d
    assert app.segmented_control(key="sc_mode").value == "both"
    assert len(charts(app)) == BOTH_MODES_CHARTS
    assert len(app.latex) >= 1
    headers = [header.value for header in app.header]
    assert headers[0].startswith("1 ·") and headers[-1].startswith("5 ·")
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders
    # The first screen already tells unscaled from scaled: wide against ~1 spread,
    # a top weight near 1 against a spread-out one, and a much smaller gradient.
    metrics = {(index // 3, metric.label): metric.value for index, metric in enumerate(app.metric)}
    unscaled_std = float(metrics[(0, "score std")])
    scaled_std = float(metrics[(1, "score std")])
    assert unscaled_std > 8 and 0.8 < scaled_std < 1.2
    assert float(metrics[(0, "top weight")]) > 0.8 > 0.4 > float(metrics[(1, "top weight")])
    assert float(metrics[(0, "gradient ‖J‖")]) < 0.2 * float(metrics[(1, "gradient ‖J‖")])


def test_sweeps_mark_the_chosen_d(app):
    app.select_slider(key="sc_d").set_value(256).run()
    assert_clean(app)
    markers = [
        layer["data"]["values"]
        for spec in specs(app)
        for layer in spec.get("layer", [])
        if layer.get("mark", {}).get("type") == "rule" and "values" in layer.get("data", {})
    ]
    assert markers == [[{"d": 256}]] * 4  # variance, entropy, max weight, Jacobian


@pytest.mark.parametrize(
    ("d", "n", "temperature", "variance"),
    [
        (1, 2, 0.1, 0.25),
        (1024, 32, 0.1, 4.0),
        (1024, 2, 32.0, 0.25),
        (1, 32, 32.0, 4.0),
        (1024, 32, 0.1, 0.25),
    ],
)
def test_every_slider_at_its_extremes(app, d, n, temperature, variance):
    assert min(sc.D_VALUES) == 1 and max(sc.D_VALUES) == 1024
    assert min(sc.TEMPERATURES) == 0.1 and max(sc.TEMPERATURES) == 32.0
    assert (min(sc.VARIANCES), max(sc.VARIANCES)) == (0.25, 4.0)
    app.select_slider(key="sc_d").set_value(d)
    app.slider(key="sc_n").set_value(n)
    app.select_slider(key="sc_temperature").set_value(temperature)
    app.select_slider(key="sc_variance").set_value(variance).run()
    assert_clean(app)
    assert len(charts(app)) == BOTH_MODES_CHARTS
    assert_no_nan(app)
    heatmaps = [spec for spec in specs(app) if "row_label" in json.dumps(spec)]
    assert heatmaps, "the attention heatmaps are drawn"


@pytest.mark.parametrize("mode", ["unscaled", "scaled"])
def test_one_mode_only(app, mode):
    app.segmented_control(key="sc_mode").set_value(mode).run()
    assert_clean(app)
    assert len(charts(app)) == ONE_MODE_CHARTS
    assert len(app.metric) == 3
    colour_domains = [
        layer["encoding"]["color"]["scale"]["domain"]
        for spec in specs(app)
        for layer in spec.get("layer", [])
        if layer.get("encoding", {}).get("color", {}).get("field") == "mode"
    ]
    assert len(colour_domains) >= 4  # every sweep colours by mode, and shows only this one
    assert all(domain == [mode] for domain in colour_domains)


@pytest.mark.parametrize("seed", [0, 9999])
def test_seed_extremes(app, seed):
    app.number_input(key="sc_seed").set_value(seed).run()
    assert_clean(app)
    assert len(charts(app)) == BOTH_MODES_CHARTS


def test_query_slider_extremes_and_shrinking_n(app):
    app.slider(key="sc_n").set_value(32).run()
    app.slider(key="sc_query").set_value(31).run()
    assert_clean(app)
    assert "q31" in texts(app)
    app.slider(key="sc_n").set_value(2).run()  # query 31 no longer exists: it is clamped
    assert_clean(app)
    assert app.slider(key="sc_query").value == 1
    assert "q1" in texts(app)


def test_histogram_axis_toggle(app):
    shared = [spec for spec in specs(app) if "density" in json.dumps(spec)]
    app.toggle(key="sc_shared_axis").set_value(False).run()
    assert_clean(app)
    separate = [spec for spec in specs(app) if "density" in json.dumps(spec)]
    domains = [spec["layer"][0]["encoding"]["x"]["scale"]["domain"] for spec in shared]
    assert domains[0] == domains[1]
    domains = [spec["layer"][0]["encoding"]["x"]["scale"]["domain"] for spec in separate]
    assert domains[0] != domains[1]


def test_messages_for_d_1_and_other_variances(app):
    app.select_slider(key="sc_d").set_value(1).run()
    assert "√1" in texts(app)
    app.select_slider(key="sc_variance").set_value(4.0).run()
    assert_clean(app)
    assert "normalisation" in texts(app) and "σ⁴ = 16" in texts(app)


def test_coldest_largest_case_reports_vanished_gradients(app):
    app.select_slider(key="sc_d").set_value(1024)
    app.select_slider(key="sc_temperature").set_value(0.1).run()
    assert_clean(app)
    unscaled_gradient = app.metric[2].value
    assert unscaled_gradient.startswith("<") or float(unscaled_gradient) < 1e-6


def test_temperature_sqrt_d_unscaled_shows_the_scaled_numbers(app):
    app.select_slider(key="sc_d").set_value(64).run()
    scaled_at_one = [metric.value for metric in app.metric[4:6]]  # top weight, ‖J‖
    app.select_slider(key="sc_temperature").set_value(8.0).run()
    assert_clean(app)
    assert [metric.value for metric in app.metric[1:3]] == scaled_at_one
