"""The kernel-regression page under AppTest: defaults, every control at its extremes, odd cases,
its address, its exercises and the claims it makes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

import tests.apptest_util as pages
from lab import kernel_regression as kr
from tests.kernel_regression.util import GRID

PAGE = "demos/kernel_regression.py"
CHART_COUNT = 7  # fit, kernel, heatmap, query weights, weighted values, errors, learning curves
DEFAULT_H = 0.251189


app = pages.page_fixture(PAGE)


def chart_specs(app) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in pages.charts(app)]


def chart_titles(app) -> list[str]:
    titles = []
    for spec in chart_specs(app):
        title = spec.get("title", "")
        titles.append(title.get("text", "") if isinstance(title, dict) else title)
    return titles


def chart_rows(app, index: int):
    """The first dataset of the page's chart ``index``, as the browser receives it."""
    dataset = pages.charts(app)[index].proto.datasets[0]
    return convert_arrow_bytes_to_pandas_df(dataset.data.data)


def heatmap_cells(app) -> int:
    """Rows of the heatmap's dataset, i.e. the cells the browser draws."""
    index = next(i for i, title in enumerate(chart_titles(app)) if title.startswith("Attention"))
    return len(chart_rows(app, index))


def metrics(app) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def test_default_page_shows_every_part(app):
    pages.assert_clean(app)
    assert app.title[0].value == "Kernel regression as attention"
    assert app.select_slider(key="h").value == pytest.approx(DEFAULT_H, rel=1e-6)
    assert app.segmented_control(key="kernel").value == kr.Kernel.GAUSSIAN
    assert len(pages.charts(app)) == CHART_COUNT
    titles = chart_titles(app)
    assert titles[0] == "Gaussian kernel, h = 0.251: 2 sin x + x⁰·⁸ (textbook)"
    assert "^" not in titles[0]
    assert "Error against bandwidth" in titles
    headers = [header.value for header in app.header]
    assert headers[0].startswith("1 ·") and headers[-1].startswith("4 ·")
    assert [expander.label for expander in app.expander][:2] == [
        "Data: true function, number of points, noise, seed",
        "5 · Learn the bandwidth by gradient descent (torch)",
    ]
    assert list(metrics(app)) == [
        "Effective number of keys",
        "Training error",
        "Leave-one-out error",
        "Test error",
    ]
    assert not app.warning  # the default data has no empty window
    assert heatmap_cells(app) == 50 * 50
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders
    assert len(app.latex) >= 2


def test_the_numbers_on_screen_are_the_labs(app):
    data = kr.make_data()
    result = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=DEFAULT_H)
    curves = kr.error_curves(
        data.x_train, data.y_train, GRID, x_test=data.x_query, y_test=data.y_test
    )
    train, loo, test = curves.at(DEFAULT_H)
    assert metrics(app) == {
        "Effective number of keys": f"{kr.effective_neighbours(result.weights).mean():.1f}",
        "Training error": f"{train:.3f}",
        "Leave-one-out error": f"{loo:.3f}",
        "Test error": f"{test:.3f}",
    }
    assert metrics(app)["Effective number of keys"] == "8.3"
    fit = chart_rows(app, 0)
    np.testing.assert_allclose(fit[fit["layer"] == "estimate"]["y"], result.estimate)
    assert (
        "Here leave-one-out is smallest at h = 0.2 and the test error at h = 0.224"
        in pages.texts(app)
    )


def test_first_view_shows_the_saved_learning_curves_without_training(app):
    # The shipped run on the default data: no button press, no "no run yet" box.
    assert not app.info
    assert "h settles at **0.203**" in pages.texts(app)
    assert "saved with the lab, so the page opens at once" in pages.texts(app)
    questions = [item.value for item in app.markdown if item.value.startswith("**5.**")]
    assert questions and "Learn the bandwidth" in questions[0]


def test_first_view_never_imports_torch():
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({str(pages.ROOT / PAGE)!r}, default_timeout=60).run()\n"
        "assert not app.exception, app.exception\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=pages.ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_every_kernel_at_both_ends_of_the_bandwidth(app):
    for kernel in kr.Kernel:
        for bandwidth in (GRID[0], GRID[-1]):
            app.segmented_control(key="kernel").set_value(kernel)
            app.select_slider(key="h").set_value(bandwidth).run()
            pages.assert_clean(app)
            assert len(pages.charts(app)) == CHART_COUNT, (kernel, bandwidth)
            assert "nan" not in " ".join(metrics(app).values()).lower()
            assert chart_titles(app)[0].startswith(f"{kernel.label} kernel")


def test_compact_kernel_with_a_tiny_bandwidth_names_the_empty_queries(app):
    app.segmented_control(key="kernel").set_value(kr.Kernel.BOXCAR)
    app.select_slider(key="h").set_value(GRID[0]).run()
    pages.assert_clean(app)
    data = kr.make_data()
    result = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel="boxcar", bandwidth=GRID[0]
    )
    count = len(result.empty_indices)
    warning = app.warning[0].value
    assert f"{count} of 50 queries have **no training point within h = 0.01**" in warning
    first = data.x_query[result.empty_indices[0]]
    assert f"x = {first:.2f}" in warning
    assert metrics(app)["Test error"] == "—"  # the test error needs every query
    assert metrics(app)["Leave-one-out error"] == "—"
    assert "some point has no key inside its window" in pages.texts(app)
    assert "windows hold one key or none" in pages.texts(app)


def test_the_d2l_note_appears_with_the_kernels_it_concerns(app):
    assert "Epanechikov" not in " ".join(item.value for item in app.caption)
    app.segmented_control(key="kernel").set_value(kr.Kernel.TRIANGULAR).run()
    captions = " ".join(item.value for item in app.caption)
    assert "calls its 1 − |u| kernel “Epanechikov”: that is the triangular kernel here" in captions


def test_query_with_an_empty_window_says_so(app):
    app.segmented_control(key="kernel").set_value(kr.Kernel.TRIANGULAR)
    app.select_slider(key="h").set_value(GRID[0]).run()
    app.slider(key="query").set_value(5.0).run()
    pages.assert_clean(app)
    assert any(
        "no estimate" in warning.value and "x = 5.00" in warning.value for warning in app.warning
    )


def test_a_query_with_one_key_in_its_window_lists_only_that_key(app):
    app.segmented_control(key="kernel").set_value(kr.Kernel.BOXCAR)
    app.select_slider(key="h").set_value(GRID[5]).run()
    app.slider(key="query").set_value(4.9).run()
    pages.assert_clean(app)
    assert "The 1 key with the most weight:" in pages.texts(app)
    assert "This key carries **100.0%** of the weight" in pages.texts(app)
    assert len(app.dataframe[-1].value) == 1


def test_query_slider_extremes(app):
    for query in (0.0, 5.0):
        app.slider(key="query").set_value(query).run()
        pages.assert_clean(app)
        assert f"Weights of the query x = {query:.2f}" in chart_titles(app)[3]
        assert "keys carry" in pages.texts(app)


def test_every_true_function(app):
    for function in kr.TrueFunction:
        app.segmented_control(key="function").set_value(function).run()
        pages.assert_clean(app)
        assert function.label in chart_titles(app)[0]


def test_data_controls_at_their_extremes(app):
    for n_train, noise, seed in [(5, 0.0, 0), (100, 2.0, 9999), (5, 2.0, 9999)]:
        app.slider(key="n").set_value(n_train)
        app.slider(key="noise").set_value(noise)
        app.number_input(key="seed").set_value(seed).run()
        pages.assert_clean(app)
        assert heatmap_cells(app) <= 3000
        # Different data: the saved run does not apply, so the page offers to train instead.
        assert "No run yet for these data" in app.info[-1].value
        assert len(pages.charts(app)) == CHART_COUNT - 1


def test_button_jumps_to_the_leave_one_out_optimum(app):
    data = kr.make_data()
    best = kr.error_curves(data.x_train, data.y_train, GRID).best_bandwidth
    button = app.button(key="use_loo")
    assert button.label == f"Use the leave-one-out optimum, h = {kr.format_bandwidth(best)}"
    button.click().run()
    pages.assert_clean(app)
    assert app.select_slider(key="h").value == pytest.approx(best, rel=1e-5)
    assert app.button(key="use_loo").disabled


def test_constant_kernel_explains_that_no_bandwidth_is_best(app):
    app.segmented_control(key="kernel").set_value(kr.Kernel.CONSTANT).run()
    pages.assert_clean(app)
    assert "bandwidth changes nothing" in pages.texts(app)
    with pytest.raises(KeyError):
        app.button(key="use_loo")


def test_learning_on_new_data_trains_both_runs(app):
    app.number_input(key="seed").set_value(7)
    app.select_slider(key="steps").set_value(50).run()
    assert "No run yet" in pages.texts(app)
    app.button(key="learn").click().run()
    pages.assert_clean(app)
    assert len(pages.charts(app)) == CHART_COUNT
    assert "No run yet" not in pages.texts(app)
    assert "Plain loss" in pages.texts(app) and "Leave-one-out loss" in pages.texts(app)
    assert "Run shown: start h = 1, learning rate 0.05, 50 steps." in pages.texts(app)
    # The run is kept: a rerun shows it without training again.
    app.run()
    assert len(pages.charts(app)) == CHART_COUNT and "No run yet" not in pages.texts(app)
    # The exercises follow the run shown.
    assert any(item.value.startswith("**5.**") for item in app.markdown)
    # And its bandwidth can be sent to the slider.
    app.button(key="use_learned").click().run()
    pages.assert_clean(app)
    assert app.select_slider(key="h").value in GRID


@pytest.mark.parametrize(("start", "rate"), [(GRID[0], 0.2), (GRID[-1], 0.01)])
def test_learning_settings_at_their_extremes(app, start, rate):
    app.select_slider(key="start").set_value(start)
    app.select_slider(key="rate").set_value(rate)
    app.select_slider(key="steps").set_value(50).run()
    app.button(key="learn").click().run()
    pages.assert_clean(app)
    assert len(pages.charts(app)) == CHART_COUNT


def test_training_switched_off_shows_a_note_instead_of_the_button(monkeypatch):

    app = pages.run_with_training_off(PAGE, monkeypatch)
    with pytest.raises(KeyError):
        app.button(key="learn")
    assert "h settles at **0.203**" in pages.texts(app)  # the shipped run still shows


def test_the_address_reproduces_a_view():
    query = {
        "kernel": "Epanechnikov",
        "h": "0.501",  # the address holds the slider's label
        "function": "step",
        "n": "30",
        "noise": "1.0",
        "seed": "42",
        "query": "1.5",
    }
    app = pages.run_at_address(PAGE, query)
    assert app.segmented_control(key="kernel").value == kr.Kernel.EPANECHNIKOV
    assert app.select_slider(key="h").value == pytest.approx(0.501187)
    assert app.segmented_control(key="function").value == kr.TrueFunction.STEP
    assert (app.slider(key="n").value, app.slider(key="noise").value) == (30, 1.0)
    assert app.number_input(key="seed").value == 42
    assert app.slider(key="query").value == 1.5
    data = kr.make_data(kr.DataConfig(n_train=30, noise=1.0, seed=42, function="step"))
    curves = kr.error_curves(data.x_train, data.y_train, GRID, kernel="epanechnikov")
    assert metrics(app)["Leave-one-out error"] == kr.format_error(curves.at(0.501187)[1])
    assert chart_titles(app)[0] == "Epanechnikov kernel, h = 0.501: a step at x = 2.5"
    assert "Weights of the query x = 1.50" in chart_titles(app)[3]


def test_a_hostile_address_opens_the_page_with_defaults_and_notes():
    query = {
        "h": "99",
        "kernel": "cosine",
        "n": "1e400",
        "noise": "-5",
        "seed": "abc",
        "function": "<script>alert(1)</script>" * 20,
        "x": "1",
    }
    app, notes = pages.run_at_hostile_address(PAGE, query, notes=6)
    assert notes[0] == (
        "The link set **Kernel K** to “cosine”, which is not one of Gaussian, Boxcar, "
        "Epanechnikov, Triangular, Constant. The page uses **Gaussian**."
    )
    assert notes[1] == (
        "The link set **Bandwidth h \\(log scale\\)** to “99”, which is not one of 0.01, "
        "0.0112, 0.0126, 0.0141, 0.0158, 0.0178, 0.02, 0.0224 …. The page uses **0\\.251**."
    )
    assert notes[3] == (
        "The link set **Training points S** to “1e400”, which is not a whole number from 5 "
        "to 100. The page uses **50**."
    )
    assert app.select_slider(key="h").value == pytest.approx(DEFAULT_H, rel=1e-6)
    assert app.segmented_control(key="kernel").value == kr.Kernel.GAUSSIAN
    assert app.slider(key="n").value == 50 and app.number_input(key="seed").value == 0
    assert len(pages.charts(app)) == CHART_COUNT
    assert "<script>" not in " ".join(notes)  # escaped, and cut to 48 characters
    assert app.segmented_control(key="function").value == kr.TrueFunction.TEXTBOOK


def test_reset_puts_every_control_back():
    app = pages.run_page(PAGE, query={"h": "1", "kernel": "Boxcar", "seed": "3"})
    app.slider(key="query").set_value(4.0).run()
    app.button(key="reset_page").click().run()
    pages.assert_clean(app)
    assert app.select_slider(key="h").value == pytest.approx(DEFAULT_H, rel=1e-6)
    assert app.segmented_control(key="kernel").value == kr.Kernel.GAUSSIAN
    assert app.number_input(key="seed").value == 0 and app.slider(key="query").value == 2.5


def test_exercises_check_answers_computed_from_the_screen(app):
    app.text_input(key="answer_optimum").set_value("0.2")
    app.button(key="FormSubmitter:exercise_optimum-Check").click().run()
    pages.assert_clean(app)
    assert "Right." in [item.value for item in app.success]
    app.text_input(key="answer_quiet").set_value("0.2")  # the noisy optimum, not the quiet one
    app.button(key="FormSubmitter:exercise_quiet-Check").click().run()
    assert any(item.value.startswith("Not quite") for item in app.error)
    app.text_input(key="answer_boxcar").set_value("wide")
    app.button(key="FormSubmitter:exercise_boxcar-Check").click().run()
    assert "That is not a number" in " ".join(item.value for item in app.warning)
    app.radio(key="answer_step").set_value(
        "It flattens the whole curve to nearly one value, the mean of the targets"
    )
    app.button(key="FormSubmitter:exercise_step-Check").click().run()
    assert [item.value for item in app.success].count("Right.") == 2
    # Another seed: the same answer to the first exercise is checked against the new data.
    app.number_input(key="seed").set_value(3).run()
    data = kr.make_data(kr.DataConfig(seed=3))
    best = kr.error_curves(data.x_train, data.y_train, GRID).best_bandwidth
    assert best != GRID[26]
    assert any(item.value.startswith("Not quite") for item in app.error)
    app.text_input(key="answer_optimum").set_value(kr.format_bandwidth(best))
    app.button(key="FormSubmitter:exercise_optimum-Check").click().run()
    assert "Right." in [item.value for item in app.success]
