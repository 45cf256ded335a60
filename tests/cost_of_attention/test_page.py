"""The cost-of-attention page under AppTest: defaults, extremes, its address, measuring, claims."""

from __future__ import annotations

import json

import pytest

import lab.cost_of_attention as coa
import tests.apptest_util as pages
from app import runs
from app.catalog import demo
from lab.cost_of_attention import (
    Implementation,
    Method,
    crossover_length,
    load_measurements,
    measured_crossovers,
    measured_slopes,
    method_cost,
)
from lab.cost_of_attention.study import (
    ErrorMeasure,
    MeasuredQuantity,
    error_study,
    last_growth,
    small_example,
    speedup,
    square_matrices,
)

SLUG = "cost_of_attention"
PAGE = "demos/cost_of_attention.py"
CONFIG = coa.CostOfAttentionConfig()
CHARTS = 9  # measured, 2 errors, counted, measured vs approximations, 4 heatmaps
LOW = {"n": 8, "d": 1, "a": 0.25, "r": 1, "C": 1}
HIGH = {"n": 256, "d": 128, "a": 1.5, "r": 512, "C": 256}


app = pages.page_fixture(PAGE)


def titles(app) -> list[str]:
    found = []
    for chart in pages.charts(app):
        title = json.loads(chart.proto.spec)["title"]
        found.append(title["text"] if isinstance(title, dict) else title)
    return found


def default_study():
    return error_study(
        CONFIG.n, CONFIG.d, seed=CONFIG.seed, magnitude=CONFIG.magnitude, sweep_seeds=3
    )


# ----------------------------------------------------------------------------- defaults


def test_default_page_shows_every_section(app):
    pages.assert_clean(app)
    assert app.title[0].value == demo(SLUG).title
    assert len(app.latex) == 1 and "O(n^2 d)" in app.latex[0].value
    headers = [header.value for header in app.header]
    assert [header[:3] for header in headers] == ["1 ·", "2 ·", "3 ·", "4 ·"]
    assert titles(app) == [
        "Exact attention: time per call against n",
        "Random features: error against r",
        "Clustered attention: error against C",
        "Counted: multiply-adds against n",
        "Measured: time against n",
        "exact softmax",
        "random features, r = 64",
        "linear (elu + 1)",
        "clustered, C = 8",
    ]
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders
    assert app.select_slider(key="n").value == CONFIG.n
    assert app.select_slider(key="r").value == CONFIG.num_features
    assert app.slider(key="shown").value == CONFIG.heatmap_n
    assert app.warning == [] and app.info == []


def test_the_first_screen_reads_the_shipped_n_squared_growth(app):
    figures = load_measurements()
    growth = last_growth(figures, Implementation.NUMPY, MeasuredQuantity.TIME)
    fits = measured_slopes(figures)
    page = pages.texts(app)
    assert f"took **{figures.series_for(Implementation.NUMPY).seconds[-1] * 1e3:.4g} ms**" in page
    assert (
        f"From n = {growth.n_before} to {growth.n_after} its time grew **×{growth.factor:.1f}**; "
        f"pure n² growth gives ×{growth.quadratic_factor:.0f}."
    ) in page
    assert f"p = {fits[Implementation.NUMPY].seconds.slope:.2f} for numpy" in page
    assert (
        "**Shipped figures**, measured by `bench/attention_cost.py` on "
        + (figures.machine.date[:10])
        in page
    )
    assert f"limited to {figures.machine.threads} thread" in page
    assert "tracemalloc" in page and "torch.profiler" in page


def test_peak_memory_reading_is_the_data_in_matrices(app):
    app.segmented_control(key="show").set_value(MeasuredQuantity.MEMORY).run()
    pages.assert_clean(app)
    figures = load_measurements()
    page = pages.texts(app)
    peak = figures.series_for(Implementation.NUMPY).peak_bytes[-1] / 1e6
    assert f"numpy's peak is **{peak:.4g} MB** " in page
    assert f"({square_matrices(figures, Implementation.NUMPY):.1f} such matrices)" in page
    fused = measured_slopes(figures)[Implementation.TORCH_FUSED]
    assert f"its memory grows with slope {fused.peak_bytes.slope:.2f}" in page
    assert titles(app)[0] == "Exact attention: peak memory against n"


def test_section_2_prints_the_errors_the_lab_computes(app):
    study = default_study()
    page = pages.texts(app)
    performer = study.at(Method.PERFORMER, ErrorMeasure.OUTPUT, CONFIG.num_features)
    clustered = study.at(Method.CLUSTERED, ErrorMeasure.OUTPUT, CONFIG.num_clusters)
    linear = study.at(Method.LINEAR, ErrorMeasure.OUTPUT)
    assert (
        f"random features with r = {CONFIG.num_features} **{performer:.3f}**, clustered "
        f"attention with C = {CONFIG.num_clusters} **{clustered:.3f}**, linear attention "
        f"**{linear:.3f}** (relative output error)"
    ) in page
    app.segmented_control(key="error").set_value(ErrorMeasure.KL).run()
    kl = study.at(Method.PERFORMER, ErrorMeasure.KL, CONFIG.num_features)
    assert f"r = {CONFIG.num_features} **{kl:.3f}**" in pages.texts(app)
    assert "KL divergence of the rows" in pages.texts(app)


def test_section_3_states_the_model_and_the_measured_crossovers(app):
    figures = load_measurements()
    page = pages.texts(app)
    model = crossover_length(
        Method.PERFORMER, CONFIG.d, num_features=CONFIG.num_features, num_clusters=8
    )
    assert f"from n = **{model}** here" in page
    for implementation, crossover in measured_crossovers(figures).items():
        assert f"{implementation.label} from n ≈ {crossover.n:.0f}" in page
    assert f"×{speedup(figures, Implementation.PERFORMER):.1f} faster" in page
    settings = figures.settings
    counted = crossover_length(
        Method.PERFORMER,
        settings.d,
        num_features=settings.num_features,
        num_clusters=settings.num_clusters,
    )
    assert f"Counting says random features win from n = {counted} at these settings" in page


def test_section_4_counts_rows_that_look_at_their_own_kind(app):
    example = small_example(
        CONFIG.heatmap_n,
        CONFIG.d,
        seed=CONFIG.seed,
        magnitude=CONFIG.magnitude,
        num_features=CONFIG.num_features,
        num_clusters=CONFIG.num_clusters,
    )
    page = pages.texts(app)
    assert f"from 0 to {example.largest_weight:.3f}" in page
    assert f"in {example.own_kind_rows} of {CONFIG.heatmap_n} rows" in page


# ----------------------------------------------------------------------------- claims


def test_what_to_notice_holds_for_the_shipped_figures_and_the_defaults():
    figures = load_measurements()
    fits = measured_slopes(figures)
    # "its time is a line of slope about 2, and so is the memory of every version that
    # holds the n x n weights. A fused flash kernel avoids holding them, not computing them."
    for implementation in (Implementation.NUMPY, Implementation.TORCH):
        assert 1.7 < fits[implementation].seconds.slope < 2.7
        assert fits[implementation].peak_bytes.slope == pytest.approx(2.0, abs=0.1)
    assert "flash" in figures.machine.fused_kernel
    assert fits[Implementation.TORCH_FUSED].peak_bytes.slope < 1.2
    assert fits[Implementation.TORCH_FUSED].seconds.slope > 1.7
    study = default_study()
    # "Random features' error shrinks slowly as r grows ... and grows fast with a."
    errors = [study.at(Method.PERFORMER, ErrorMeasure.OUTPUT, r) for r in (1, 16, 512)]
    assert errors[0] > errors[1] > errors[2] > errors[0] / 20
    sharp = error_study(CONFIG.n, CONFIG.d, seed=0, magnitude=1.5, sweep_seeds=1)
    assert sharp.at(Method.PERFORMER, ErrorMeasure.OUTPUT, 64) > 2 * error_study(
        CONFIG.n, CONFIG.d, seed=0, magnitude=0.25, sweep_seeds=1
    ).at(Method.PERFORMER, ErrorMeasure.OUTPUT, 64)
    # "Clustered attention is exact once C reaches the number of distinct queries, and close
    # to exact once C matches the groups the queries form."
    assert study.at(Method.CLUSTERED, ErrorMeasure.OUTPUT, CONFIG.n) == 0.0
    one = study.at(Method.CLUSTERED, ErrorMeasure.OUTPUT, 1)
    assert study.at(Method.CLUSTERED, ErrorMeasure.OUTPUT, CONFIG.kinds) < one / 5
    # "For fixed r and C the approximations cost O(n)": doubling n doubles their counts.
    for method in (Method.PERFORMER, Method.LINEAR, Method.CLUSTERED):
        small, large = (
            method_cost(method, n, 32, num_features=64, num_clusters=8).multiply_adds
            for n in (1024, 2048)
        )
        assert large == 2 * small


# ----------------------------------------------------------------------------- controls


@pytest.mark.parametrize("ends", [LOW, HIGH])
def test_every_control_by_key_at_its_extremes(app, ends):
    for key, value in ends.items():
        app.select_slider(key=key).set_value(value)
    app.number_input(key="seed").set_value(9999 if ends is HIGH else 0)
    app.slider(key="shown").set_value(32 if ends is HIGH else 4)
    app.segmented_control(key="error").set_value(ErrorMeasure.KL)
    app.segmented_control(key="show").set_value(MeasuredQuantity.MEMORY)
    app.run()
    pages.assert_clean(app)
    assert len(pages.charts(app)) == CHARTS
    assert pages.address_notes(app) == []
    if ends is HIGH:  # C = 256 > n of the heatmaps: every query is its own cluster there
        assert any("every query is its own cluster" in item.value for item in app.info)
    assert "nan" not in " ".join(chart.proto.spec for chart in pages.charts(app)).lower()


def test_more_clusters_than_queries_is_exact_and_says_so():
    app = pages.run_page(PAGE, query={"n": "8", "C": "64"})
    pages.assert_clean(app)
    assert "C = 64 is more than the n = 8 queries" in pages.texts(app)
    assert "clustered attention with C = 8 **0.000**" in pages.texts(app)


def test_the_address_reproduces_a_view():
    query = {
        "n": "64",
        "d": "8",
        "a": "1.0",
        "r": "16",
        "C": "4",
        "seed": "7",
        "error": "KL divergence of the rows",
        "show": "peak memory",
        "shown": "20",
    }
    app = pages.run_at_address(PAGE, query)
    assert app.select_slider(key="n").value == 64
    assert app.select_slider(key="a").value == 1.0
    assert app.number_input(key="seed").value == 7
    assert app.segmented_control(key="error").value is ErrorMeasure.KL
    assert app.segmented_control(key="show").value is MeasuredQuantity.MEMORY
    assert app.slider(key="shown").value == 20
    study = error_study(64, 8, seed=7, magnitude=1.0, sweep_seeds=CONFIG.sweep_seeds)
    kl = study.at(Method.PERFORMER, ErrorMeasure.KL, 16)
    assert f"random features with r = 16 **{kl:.3f}**" in pages.texts(app)
    assert titles(app)[0] == "Exact attention: peak memory against n"


def test_a_hostile_address_opens_with_defaults_and_notes():
    query = {
        "n": "100",
        "d": "abc",
        "a": "<script>alert(1)</script>",
        "r": "-1",
        "C": "9999",
        "seed": "1e9",
        "shown": "99",
        "error": "nope",
        "show": "💥",
    }
    app, _ = pages.run_at_hostile_address(PAGE, query, notes=len(query))
    assert app.select_slider(key="n").value == CONFIG.n
    assert app.select_slider(key="C").value == CONFIG.num_clusters
    assert app.number_input(key="seed").value == 0
    assert len(pages.charts(app)) == CHARTS


def test_reset_puts_every_control_back():
    app = pages.run_page(PAGE, query={"n": "32", "r": "8", "seed": "5"})
    app.slider(key="shown").set_value(6).run()
    app.button(key="reset_page").click().run()
    pages.assert_clean(app)
    assert app.select_slider(key="n").value == CONFIG.n
    assert app.select_slider(key="r").value == CONFIG.num_features
    assert app.number_input(key="seed").value == 0
    assert app.slider(key="shown").value == CONFIG.heatmap_n


# ----------------------------------------------------------------------------- exercises


def test_exercises_are_checked_against_the_screen(app):
    slope = measured_slopes(load_measurements())[Implementation.NUMPY].seconds.slope
    app.text_input(key="answer_slope").set_value(f"{slope:.2f}")
    app.button(key="FormSubmitter:exercise_slope-Check").click().run()
    assert [item.value for item in app.success] == ["Right."]
    study = default_study()
    best = study.best(ErrorMeasure.OUTPUT, CONFIG.num_features, CONFIG.num_clusters)
    wrong = "linear attention (elu + 1)" if best is not Method.LINEAR else "random features"
    app.radio(key="answer_best").set_value(wrong)
    app.button(key="FormSubmitter:exercise_best-Check").click().run()
    assert any(item.value.startswith("Not this one") for item in app.error)
    app.text_input(key="answer_model_crossover").set_value("many")
    app.button(key="FormSubmitter:exercise_model_crossover-Check").click().run()
    assert any("That is not a number" in item.value for item in app.warning)


# ----------------------------------------------------------------------------- measuring


def test_measuring_with_a_tiny_budget_shows_what_it_got_and_shares_it(monkeypatch):
    monkeypatch.setattr(coa, "PAGE_MEASURE_N_VALUES", (16, 32))
    monkeypatch.setattr(coa, "PAGE_MEASURE_BUDGET_SECONDS", 1e-6)
    app = pages.run_page(PAGE)
    assert "**Shipped figures**" in pages.texts(app)
    app.button(key="measure").click().run()
    assert not app.exception and not app.error
    page = pages.texts(app)
    assert "**Measured on this server** at " in page
    assert "allowed only n = 16 on this server" in page  # the first size always runs
    assert len(pages.charts(app)) == CHARTS
    stored = runs.stored(SLUG, ("measure", (16, 32), 1e-6))
    assert stored.n_values == (16,) and not stored.complete
    assert stored.machine.threads == 1
    assert [item.key for item in app.button if item.key == "back"] == ["back"]
    keys = [item.key for item in app.text_input]
    assert "answer_slope" not in keys and "answer_memory" in keys  # no slope from one size

    other = pages.run_page(PAGE)  # another participant still sees the shipped figures
    assert "**Shipped figures**" in pages.texts(other)
    other.button(key="measure").click().run()  # and gets the stored run, not a new one
    assert "**Measured on this server** at " + stored.machine.date[:16].replace("T", " ") in (
        pages.texts(other)
    )

    app.button(key="back").click().run()
    assert "**Shipped figures**" in pages.texts(app)


def test_a_complete_measurement_has_its_own_slopes(monkeypatch):
    monkeypatch.setattr(coa, "PAGE_MEASURE_N_VALUES", (16, 32))
    monkeypatch.setattr(coa, "PAGE_MEASURE_BUDGET_SECONDS", 120.0)
    app = pages.run_page(PAGE)
    app.button(key="measure").click().run()
    pages.assert_clean(app)
    figures = runs.stored(SLUG, ("measure", (16, 32), 120.0))
    assert figures.complete and figures.n_values == (16, 32)
    slope = measured_slopes(figures)[Implementation.NUMPY].seconds.slope
    assert f"p = {slope:.2f} for numpy" in pages.texts(app)
    assert app.warning == []


def test_workshop_mode_shows_the_note_instead_of_the_button(monkeypatch):
    app = pages.run_with_training_off(PAGE, monkeypatch)
    assert "measure" not in [item.key for item in app.button]
    assert "**Shipped figures**" in pages.texts(app)


def test_unreadable_shipped_figures_leave_the_rest_of_the_page(monkeypatch, tmp_path):
    broken = tmp_path / "cost_of_attention.json"
    broken.write_text(json.dumps({"format": 0}))
    monkeypatch.setattr(coa, "SHIPPED_MEASUREMENTS", broken)
    app = pages.run_page(PAGE)
    pages.assert_clean(app)
    assert app.warning[0].value.startswith("The shipped measurements could not be read")
    assert len(pages.charts(app)) == CHARTS - 2  # no measured charts
    assert "measure" in [item.key for item in app.button]
    answers = {item.key for item in app.text_input} | {item.key for item in app.radio}
    assert {"answer_model_crossover", "answer_best"} <= answers
    assert "answer_slope" not in answers
