"""The "why scale by √d" page under AppTest: defaults, extremes, its address, exercises, claims."""

from __future__ import annotations

import inspect
import json
import re

import pyarrow as pa
import pytest

import tests.apptest_util as pages
from lab import charts as lab_charts
from lab import scaling as sc
from lab.scaling import Mode, ScalingConfig
from lab.scaling import charts as scc

PAGE = "demos/scaling.py"
BOTH_MODES_CHARTS = 12  # largest weight (first screen), 2 histograms, variance, 2 bar charts,
# entropy, 2 Jacobians, the Jacobian sweep, 2 attention heatmaps
ONE_MODE_CHARTS = 8
DEFAULTS = ScalingConfig()


app = pages.page_fixture(PAGE)


def specs(app) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in pages.charts(app)]


def datasets(chart) -> dict[str, list[dict]]:
    """A drawn chart's datasets, decoded from the Arrow bytes Streamlit sends."""
    return {
        item.name: pa.ipc.open_stream(item.data.data).read_all().to_pylist()
        for item in chart.proto.datasets
    }


def titled(app) -> dict[str, tuple[dict, dict]]:
    """Every chart with a title: title -> (spec, datasets)."""
    found = {}
    for chart in pages.charts(app):
        spec = json.loads(chart.proto.spec)
        if spec.get("title"):
            found[spec["title"]] = (spec, datasets(chart))
    return found


def metrics(app) -> dict[tuple[int, str], str]:
    """(panel, label) -> shown value; panel 0 is the first mode shown."""
    return {(index // 3, metric.label): metric.value for index, metric in enumerate(app.metric)}


def tables(config: ScalingConfig):
    variances = sc.variance_table(sc.sweep_dot_products(variance=config.variance, seed=config.seed))
    sweep = sc.sweep_attention_scores(config.n_keys, variance=config.variance, seed=config.seed)
    return variances, sc.sharpness_table(sweep, config.temperature)


DEFAULT_CONTROLS = {
    "d": 128,
    "keys": 16,
    "temperature": 1.0,
    "variance": 1.0,
    "scaling": "both",
    "seed": 0,
    "query": 0,
    "same_axis": True,
}


def controls(app) -> dict:
    """Every control of the page by its key (the names the address uses)."""
    return {
        "d": app.select_slider(key="d").value,
        "keys": app.slider(key="keys").value,
        "temperature": app.select_slider(key="temperature").value,
        "variance": app.select_slider(key="variance").value,
        "scaling": app.segmented_control(key="scaling").value,
        "seed": app.number_input(key="seed").value,
        "query": app.slider(key="query").value,
        "same_axis": app.toggle(key="same_axis").value,
    }


def assert_no_nan(app) -> None:
    shown = pages.texts(app) + " " + " ".join(str(metric.value) for metric in app.metric)
    assert not re.search(r"\b(nan|inf)\b", shown, re.IGNORECASE), shown


J_LABEL = r"median $\lVert J\rVert_F$"


def test_default_page_makes_the_point(app):
    pages.assert_clean(app)
    assert controls(app) == DEFAULT_CONTROLS
    assert app.title[0].value == "Why scale by √d"
    assert app.select_slider(key="d").value == DEFAULTS.d
    assert app.segmented_control(key="scaling").value == "both"
    assert len(pages.charts(app)) == BOTH_MODES_CHARTS
    assert len(app.latex) >= 1
    headers = [header.value for header in app.header]
    assert headers[0].startswith("1 ·") and headers[-1].startswith("5 ·")
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders
    # The first screen already tells unscaled from scaled: wide against ~1 spread,
    # a top weight near 1 against a spread-out one, and a much smaller Jacobian.
    shown = metrics(app)
    unscaled_std = float(shown[(0, "score std")])
    scaled_std = float(shown[(1, "score std")])
    assert unscaled_std > 8 and 0.8 < scaled_std < 1.2
    assert float(shown[(0, "top weight")]) > 0.8 > 0.4 > float(shown[(1, "top weight")])
    assert float(shown[(0, J_LABEL)]) < 0.2 * float(shown[(1, J_LABEL)])
    # The chart next to the controls is the largest weight against d, both modes.
    first = json.loads(pages.charts(app)[0].proto.spec)
    assert first["title"] == "Mean largest weight of a query"
    assert_no_nan(app)


def test_headline_numbers_are_the_lab_numbers(app):
    variances, sharpness = tables(DEFAULTS)
    shown = metrics(app)
    for panel, mode in enumerate(Mode):
        numbers = sc.summary_at(variances, sharpness, DEFAULTS.d, mode)
        assert shown[(panel, "score std")] == f"{numbers['score_std']:.2f}"
        assert shown[(panel, "top weight")] == f"{numbers['mean_max_weight']:.2f}"
        assert shown[(panel, J_LABEL)] == sc.format_small(numbers["jacobian_median"])
        bullet = (
            f"- {mode.value}: **{sc.format_number(numbers['score_variance'])}** "
            f"(theory {sc.format_number(numbers['theory_variance'])})"
        )
        assert bullet in pages.texts(app)
    saturated = ", ".join(
        f"{mode.value} **{sc.summary_at(variances, sharpness, DEFAULTS.d, mode)['saturated']:.1%}**"
        for mode in Mode
    )
    assert (
        f"Saturated queries (Frobenius norm below 0.001) at d = 128: {saturated}."
        in pages.texts(app)
    )
    rows = sc.query_rows(DEFAULTS.n_keys)
    assert f"Below, at d = 128 and over {rows} random queries with 16 keys each" in pages.texts(app)
    assert f"Over {rows} queries for every d" in pages.texts(app)


def test_what_to_notice_is_written_from_the_tables(app):
    variances, sharpness = tables(DEFAULTS)
    lines = sc.notice_lines(variances, sharpness, DEFAULTS.variance)
    shown = pages.texts(app)
    for line in lines:
        assert f"- {line}" in shown
    assert "22 of the 22 error bars" in shown


def test_the_jacobian_norm_is_named_where_it_first_appears(app):
    promise = app.markdown[0].value  # the catalog's promise, from ui.page_header
    assert promise.startswith("*See dot products grow")
    paragraphs = [item.value for item in app.markdown[1:]]
    first = next(text for text in paragraphs if "Jacobian" in text or "J\\rVert" in text)
    assert "Frobenius norm of the softmax Jacobian" in first
    assert "gradient ‖J‖" not in pages.texts(app)
    assert all("gradient" not in metric.label for metric in app.metric)


def test_the_lab_notation_s_keys(app):
    assert app.slider(key="keys").label == "Keys per query S"
    # The controls the exercises name, by the names they use.
    assert app.segmented_control(key="scaling").label == "Scaling"
    assert app.segmented_control(key="scaling").options == ["Both", "Unscaled", "Scaled"]
    assert app.select_slider(key="temperature").label == "Temperature T"
    assert app.select_slider(key="variance").label == "Entry variance σ²"
    shown = pages.texts(app)
    assert "log S = 2.77" in shown and "1/S = 0.062" in shown
    assert not re.search(r"\b(log n|1/n|n keys|n queries)\b", shown)


def test_one_colour_one_meaning(app):
    """Orange only for unscaled, blue only for scaled; the matrices use neither."""
    orange = {lab_charts.ACCENT, scc.MODE_TINTS[Mode.UNSCALED]}
    blue = {lab_charts.PRIMARY, scc.MODE_TINTS[Mode.SCALED]}
    seen_bars = 0
    for title, (spec, data) in titled(app).items():
        text = json.dumps(spec) + json.dumps(data)
        if title.startswith("unscaled"):
            assert not any(colour in text for colour in blue), title
        elif title.startswith("scaled"):
            assert not any(colour in text for colour in orange), title
        if "weights of q" in title:
            seen_bars += 1
            colours = {row["bar_color"] for row in data["bars"]}
            mode = Mode.UNSCALED if title.startswith("unscaled") else Mode.SCALED
            assert colours == {scc.MODE_COLORS[mode], scc.MODE_TINTS[mode]}
    for spec in specs(app):  # the variance chart has no title: every chart here
        for layer in spec.get("layer", []):
            colour = layer.get("encoding", {}).get("color", {})
            scheme = (colour.get("scale") or {}).get("scheme")
            assert scheme in (None, scc.WEIGHT_SCHEME, scc.JACOBIAN_SCHEME), spec["title"]
            if colour.get("field") == "mode":
                assert colour["scale"]["range"] == [
                    scc.MODE_COLORS[Mode(mode)] for mode in colour["scale"]["domain"]
                ]
    assert seen_bars == 2
    assert "full colour, the others pale" in pages.texts(app)
    assert "orange bar" not in pages.texts(app)


def test_sweeps_mark_the_chosen_d(app):
    app.select_slider(key="d").set_value(256).run()
    pages.assert_clean(app)
    markers = [
        datasets(chart)["marker"] for chart in pages.charts(app) if "marker" in datasets(chart)
    ]
    assert markers == [[{"d": 256}]] * 4  # largest weight, variance, entropy, Jacobian
    assert "The dotted vertical line marks d = 256." in pages.texts(app)


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
    app.select_slider(key="d").set_value(d)
    app.slider(key="keys").set_value(n)
    app.select_slider(key="temperature").set_value(temperature)
    app.select_slider(key="variance").set_value(variance).run()
    pages.assert_clean(app)
    assert len(pages.charts(app)) == BOTH_MODES_CHARTS
    assert_no_nan(app)
    heatmaps = [spec for spec in specs(app) if "row_label" in json.dumps(spec)]
    assert heatmaps, "the attention heatmaps are drawn"
    for chart in pages.charts(app):  # every chart carries data, none is blank
        assert all(rows for rows in datasets(chart).values())


@pytest.mark.parametrize("mode", ["unscaled", "scaled"])
def test_one_mode_only(app, mode):
    control = app.segmented_control(key="scaling")
    control.set_value(next(option for option in control.options if option.lower() == mode)).run()
    pages.assert_clean(app)
    assert len(pages.charts(app)) == ONE_MODE_CHARTS
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
    app.number_input(key="seed").set_value(seed).run()
    pages.assert_clean(app)
    assert len(pages.charts(app)) == BOTH_MODES_CHARTS


def test_query_slider_extremes_and_shrinking_s(app):
    app.slider(key="keys").set_value(32).run()
    app.slider(key="query").set_value(31).run()
    pages.assert_clean(app)
    assert "q31" in pages.texts(app)
    app.slider(key="keys").set_value(2).run()  # query 31 no longer exists: it is clamped
    pages.assert_clean(app)
    assert app.slider(key="query").value == 1
    assert "q1" in pages.texts(app)


def test_the_query_slider_redraws_its_rows(app):
    app.slider(key="query").set_value(5).run()
    pages.assert_clean(app)
    shown = titled(app)
    trial = sc.sample_attention_scores(16, 128, trials=1)[0]
    for mode in Mode:
        weights = sc.attention_weights(trial, 128, scaled=mode.scaled)[5]
        _, data = shown[f"{scc.MODE_TITLES[mode]}: weights of q5"]
        assert [row["value"] for row in data["bars"]] == pytest.approx(weights.tolist())
        norm = sc.format_small(float(sc.jacobian_norm(weights)), equals=True)
        assert f"{scc.MODE_TITLES[mode]}: J of q5, Frobenius norm {norm}" in shown


def test_histogram_axis_toggle(app):
    shared = [spec for spec in specs(app) if "density" in json.dumps(spec)]
    app.toggle(key="same_axis").set_value(False).run()
    pages.assert_clean(app)
    separate = [spec for spec in specs(app) if "density" in json.dumps(spec)]
    domains = [spec["layer"][0]["encoding"]["x"]["scale"]["domain"] for spec in shared]
    assert domains[0] == domains[1]
    domains = [spec["layer"][0]["encoding"]["x"]["scale"]["domain"] for spec in separate]
    assert domains[0] != domains[1]
    assert domains == [list(sc.score_domain(128)), list(sc.score_domain(128, scaled=True))]


def test_messages_for_d_1_and_other_variances(app):
    app.select_slider(key="d").set_value(1).run()
    assert "√1" in pages.texts(app)
    assert "peakier than the normal curve" in pages.texts(app)
    app.select_slider(key="variance").set_value(4.0).run()
    pages.assert_clean(app)
    assert "normalisation" in pages.texts(app) and "σ⁴ = 16" in pages.texts(app)


def test_coldest_largest_case_reports_a_vanished_jacobian(app):
    app.select_slider(key="d").set_value(1024)
    app.select_slider(key="temperature").set_value(0.1).run()
    pages.assert_clean(app)
    unscaled_norm = app.metric[2].value
    assert unscaled_norm.startswith("<") or float(unscaled_norm) < 1e-6


def test_temperature_sqrt_d_unscaled_shows_the_scaled_numbers(app):
    app.select_slider(key="d").set_value(64).run()
    scaled_at_one = [metric.value for metric in app.metric[4:6]]  # top weight, ‖J‖
    app.select_slider(key="temperature").set_value(8.0).run()
    pages.assert_clean(app)
    assert [metric.value for metric in app.metric[1:3]] == scaled_at_one


def test_the_code_shown_is_the_code_that_runs(app):
    shown = app.code[0].value
    expected = inspect.getsource(sc.softmax_jacobian) + "\n\n" + inspect.getsource(sc.jacobian_norm)
    assert shown == expected.rstrip("\n")


def test_the_address_reproduces_a_view():
    query = {
        "d": "1024",
        "keys": "8",
        "temperature": "8",
        "variance": "4",
        "scaling": "Unscaled",
        "seed": "42",
        "query": "5",
        "same_axis": "false",
    }
    app = pages.run_at_address(PAGE, query)
    assert controls(app) == {
        "d": 1024,
        "keys": 8,
        "temperature": 8.0,
        "variance": 4.0,
        "scaling": "unscaled",
        "seed": 42,
        "query": 5,
        "same_axis": False,
    }
    config = ScalingConfig(d=1024, n_keys=8, temperature=8.0, variance=4.0, seed=42)
    variances, sharpness = tables(config)
    numbers = sc.summary_at(variances, sharpness, 1024, Mode.UNSCALED)
    assert [metric.value for metric in app.metric] == [
        f"{numbers['score_std']:.2f}",
        f"{numbers['mean_max_weight']:.2f}",
        sc.format_small(numbers["jacobian_median"]),
    ]
    assert len(pages.charts(app)) == ONE_MODE_CHARTS


def test_a_hostile_address_opens_the_page_with_defaults_and_notes():
    query = {
        "d": "100",
        "keys": "abc",
        "temperature": "3",
        "variance": "-1",
        "scaling": "<script>",
        "seed": "1e9",
        "query": "99",
        "same_axis": "maybe",
        "x": "1",
    }
    app, notes = pages.run_at_hostile_address(PAGE, query, notes=8)
    assert notes[0] == (
        "The link set **Dimension d of q and k \\(log scale\\)** to “100”, which is not one of "
        "1, 2, 4, 8, 16, 32, 64, 128 …. The page uses **128**."
    )
    assert controls(app) == DEFAULT_CONTROLS
    assert len(pages.charts(app)) == BOTH_MODES_CHARTS


def test_reset_puts_every_control_back():
    app = pages.run_page(PAGE, query={"d": "1024", "seed": "7", "temperature": "0.1"})
    app.slider(key="keys").set_value(4)
    app.slider(key="query").set_value(3)
    app.toggle(key="same_axis").set_value(False).run()
    assert controls(app)["query"] == 3
    app.button(key="reset_page").click().run()
    pages.assert_clean(app)
    assert controls(app) == DEFAULT_CONTROLS
    assert DEFAULT_CONTROLS["d"] == DEFAULTS.d and DEFAULT_CONTROLS["keys"] == DEFAULTS.n_keys


def check(app, key: str, answer: str) -> None:
    field = f"answer_{key}"
    if key in {"saturated", "variance"}:
        app.text_input(key=field).set_value(answer)
    else:
        app.radio(key=field).set_value(answer)
    app.button(key=f"FormSubmitter:exercise_{key}-Check").click().run()


def test_exercises_check_answers_computed_from_the_screen(app):
    app.select_slider(key="d").set_value(1024).run()
    _, sharpness = tables(DEFAULTS)
    share = sharpness[(sharpness["d"] == 1024) & (sharpness["mode"] == "unscaled")]
    share = share["saturated"].item()
    assert f"unscaled **{share:.1%}**" in pages.texts(app)  # the line the exercise points to
    check(app, "saturated", f"{share:.1%}")
    pages.assert_clean(app)
    assert [item.value for item in app.success] == ["Right."]
    check(app, "variance", "2")
    assert any(item.value.startswith("Not quite") for item in app.error)
    check(app, "variance", "banana")
    assert "That is not a number" in " ".join(item.value for item in app.warning)
    check(app, "variance", "4")
    assert [item.value for item in app.success] == ["Right.", "Right."]
    options = app.radio(key="answer_temperature").options
    check(app, "temperature", options[2])
    assert any(item.value.startswith("Not this one") for item in app.error)
    check(app, "temperature", options[0])
    assert len(app.success) == 3


def test_exercise_answers_follow_the_controls(app):
    check(app, "saturated", "0.5")
    app.slider(key="keys").set_value(4).run()
    # The saturated share at d = 1024 is re-read for S = 4 and the answer re-checked.
    config = ScalingConfig(n_keys=4)
    _, sharpness = tables(config)
    share = sharpness[(sharpness["d"] == 1024) & (sharpness["mode"] == "unscaled")]
    check(app, "saturated", f"{share['saturated'].item():.3f}")
    assert [item.value for item in app.success] == ["Right."]
