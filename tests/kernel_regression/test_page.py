"""The kernel-regression page under AppTest: defaults, every control at its extremes, odd cases."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

from lab import kernel_regression as kr
from tests.apptest_util import ROOT, assert_clean, charts, run_page, texts

PAGE = "demos/kernel_regression.py"
GRID = [float(f"{h:.6g}") for h in kr.bandwidth_grid()]
CHART_COUNT = 7  # fit, kernel, heatmap, query weights, weighted values, errors, learning curves


@pytest.fixture
def app():
    return run_page(PAGE)


def chart_specs(app) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in charts(app)]


def chart_titles(app) -> list[str]:
    titles = []
    for spec in chart_specs(app):
        title = spec.get("title", "")
        titles.append(title.get("text", "") if isinstance(title, dict) else title)
    return titles


def heatmap_cells(app) -> int:
    """Rows of the heatmap's dataset, i.e. the cells the browser draws."""
    index = next(i for i, title in enumerate(chart_titles(app)) if title.startswith("Attention"))
    dataset = charts(app)[index].proto.datasets[0]
    return len(convert_arrow_bytes_to_pandas_df(dataset.data.data))


def test_default_page_shows_every_part(app):
    assert_clean(app)
    assert app.title[0].value == "Kernel regression as attention"
    assert app.select_slider(key="kr_bandwidth").value == pytest.approx(0.251, rel=1e-3)
    assert app.selectbox(key="kr_kernel").value == "gaussian"
    assert len(charts(app)) == CHART_COUNT
    titles = chart_titles(app)
    assert titles[0].startswith("Gaussian kernel, h = 0.251")
    assert any(title == "Error against bandwidth" for title in titles)
    headers = [header.value for header in app.header]
    assert headers[0].startswith("1 ·") and headers[-1].startswith("5 ·")
    assert [metric.label for metric in app.metric] == [
        "Keys per query",
        "Training error",
        "Leave-one-out",
        "Test error",
    ]
    assert not app.warning  # the default data has no empty window
    assert heatmap_cells(app) == 50 * 50
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders
    assert len(app.latex) >= 2


def test_first_view_shows_the_saved_learning_curves_without_training(app):
    # The shipped run on the default data: no button press, no "no run yet" box.
    assert not app.info
    assert "h settles at **0.203**" in texts(app)
    assert "Shown from a saved run" in texts(app)


def test_first_view_imports_neither_torch_nor_scikit_learn():
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({str(ROOT / PAGE)!r}, default_timeout=60).run()\n"
        "assert not app.exception, app.exception\n"
        "print('torch' in sys.modules, 'sklearn' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False False"


def test_every_kernel_at_both_ends_of_the_bandwidth(app):
    for kernel in kr.KERNELS:
        for bandwidth in (GRID[0], GRID[-1]):
            app.selectbox(key="kr_kernel").set_value(kernel)
            app.select_slider(key="kr_bandwidth").set_value(bandwidth).run()
            assert_clean(app)
            assert len(charts(app)) == CHART_COUNT, (kernel, bandwidth)
            assert "nan" not in " ".join(metric.value for metric in app.metric).lower()
            assert chart_titles(app)[0].startswith(f"{kr.KERNELS[kernel].label} kernel")


def test_compact_kernel_with_a_tiny_bandwidth_names_the_empty_queries(app):
    app.selectbox(key="kr_kernel").set_value("boxcar")
    app.select_slider(key="kr_bandwidth").set_value(GRID[0]).run()
    assert_clean(app)
    data = kr.make_data()
    result = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel="boxcar", bandwidth=GRID[0]
    )
    count = len(result.empty_indices)
    warning = app.warning[0].value
    assert f"{count} of 50 queries have **no training point within h = 0.01**" in warning
    first = data.x_query[result.empty_indices[0]]
    assert f"x = {first:.2f}" in warning
    assert app.metric[3].value == "—"  # the test error needs every query
    assert app.metric[2].value == "—"
    assert "the leave-one-out and test errors are undefined here" in texts(app)


def test_query_with_an_empty_window_says_so(app):
    app.selectbox(key="kr_kernel").set_value("triangular")
    app.select_slider(key="kr_bandwidth").set_value(GRID[0]).run()
    app.slider(key="kr_query").set_value(5.0).run()
    assert_clean(app)
    assert any(
        "no estimate" in warning.value and "x = 5.00" in warning.value for warning in app.warning
    )


def test_query_slider_extremes(app):
    for query in (0.0, 5.0):
        app.slider(key="kr_query").set_value(query).run()
        assert_clean(app)
        assert f"Weights of the query x = {query:.2f}" in chart_titles(app)[3]
        assert "keys carry" in texts(app)


def test_every_true_function(app):
    for function in kr.TRUE_FUNCTIONS:
        app.selectbox(key="kr_function").set_value(function).run()
        assert_clean(app)
        assert kr.TRUE_FUNCTIONS[function].label in chart_titles(app)[0]


def test_data_controls_at_their_extremes(app):
    for n_train, noise, seed in [(5, 0.0, 0), (100, 2.0, 9999), (5, 2.0, 9999)]:
        app.slider(key="kr_n_train").set_value(n_train)
        app.slider(key="kr_noise").set_value(noise)
        app.number_input(key="kr_seed").set_value(seed).run()
        assert_clean(app)
        assert heatmap_cells(app) <= 3000
        # Different data: the saved run does not apply, so the page offers to train instead.
        assert "No run yet for these data" in app.info[-1].value
        assert len(charts(app)) == CHART_COUNT - 1


def test_button_jumps_to_the_leave_one_out_optimum(app):
    data = kr.make_data()
    best = kr.error_curves(data.x_train, data.y_train, GRID).best_bandwidth
    button = app.button(key="kr_use_loo")
    assert f"h = {best:.3g}".rstrip("0") in button.label
    button.click().run()
    assert_clean(app)
    assert app.select_slider(key="kr_bandwidth").value == pytest.approx(best, rel=1e-5)
    assert app.button(key="kr_use_loo").disabled


def test_constant_kernel_explains_that_no_bandwidth_is_best(app):
    app.selectbox(key="kr_kernel").set_value("constant").run()
    assert_clean(app)
    assert "bandwidth changes nothing" in texts(app)
    with pytest.raises(KeyError):
        app.button(key="kr_use_loo")


def test_learning_on_new_data_trains_both_runs(app):
    app.number_input(key="kr_seed").set_value(7)
    app.select_slider(key="kr_learn_steps").set_value(50).run()
    assert "No run yet" in texts(app)
    app.button(key="kr_learn").click().run()
    assert_clean(app)
    assert len(charts(app)) == CHART_COUNT
    assert "No run yet" not in texts(app)
    assert "Plain loss" in texts(app) and "Leave-one-out loss" in texts(app)
    # The run is kept: a rerun shows it without training again.
    app.run()
    assert len(charts(app)) == CHART_COUNT and "No run yet" not in texts(app)
    # And its bandwidth can be sent to the slider.
    app.button(key="kr_use_learned").click().run()
    assert_clean(app)
    assert app.select_slider(key="kr_bandwidth").value in GRID


@pytest.mark.parametrize(("start", "rate"), [(GRID[0], 0.2), (GRID[-1], 0.01)])
def test_learning_settings_at_their_extremes(app, start, rate):
    app.select_slider(key="kr_learn_start").set_value(start)
    app.select_slider(key="kr_learn_rate").set_value(rate)
    app.select_slider(key="kr_learn_steps").set_value(50).run()
    app.button(key="kr_learn").click().run()
    assert_clean(app)
    assert len(charts(app)) == CHART_COUNT
