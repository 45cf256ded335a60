"""The soft-vs-hard page under AppTest: defaults, every control at its extremes, its address,
odd tables, its exercises, its claims, retraining and the training-off path."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import tests.apptest_util as pages
from lab.soft_vs_hard import (
    Preset,
    TrainingMethod,
    angle_sweep,
    attend,
    dot_product_scores,
    frequency_gaps,
    load_comparisons,
    look,
    query_vector,
    soft_weights,
)
from lab.soft_vs_hard.train import sweep_gradients

PAGE = "demos/soft_vs_hard.py"
# soft, hard; key space, value space; sweep; frequencies, 1/√N; Gumbel bars, Gumbel value
# space; accuracy, loss, variance; one example
CHARTS_AT_DEFAULT = 13
FREQUENCIES, GUMBEL_BARS, SWEEP = 5, 7, 4  # positions of some charts in page order


@pytest.fixture(scope="module")
def first_run():
    """One run of the page; the first pays for importing torch."""
    return pages.run_page(PAGE)


app = pages.page_fixture(PAGE)


def spec_of(app: AppTest, index: int) -> str:
    """The chart's spec as text, with its non-ASCII characters (θ, τ) as they are."""
    return json.dumps(json.loads(pages.charts(app)[index].proto.spec), ensure_ascii=False)


def every_example_draws(app: AppTest) -> None:
    """Show each trained model's weights on the other two held-out examples."""
    for index in (1, 2):
        app.segmented_control(key="example").set_value(index).run()
        pages.assert_clean(app)
        assert len(pages.charts(app)) == CHARTS_AT_DEFAULT


def test_default_page_shows_every_part(first_run):
    app = first_run
    pages.assert_clean(app)
    assert app.title[0].value == "Soft vs hard attention"
    assert len(pages.charts(app)) == CHARTS_AT_DEFAULT
    headers = [header.value for header in app.header]
    assert [header[:3] for header in headers] == ["1 ·", "2 ·", "3 ·", "4 ·", "5 ·", "6 ·"]
    assert len(app.latex) >= 1
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders
    page_text = pages.texts(app)
    # The two notes the seeds ask for.
    assert "image captioning" in page_text and "Show, Attend and Tell" in page_text
    assert "not an explanation" in page_text
    # First view: the shipped curves, no training.
    assert "Curves shipped with the lab" in page_text
    assert not app.get("progress")
    assert [metric.label for metric in app.metric] == ["REINFORCE", "Gumbel-ST"]
    assert len(app.get("form")) == 5  # five exercises, each a form


def test_default_numbers_are_the_lab_s(first_run):
    scene = Preset.FOUR.scene
    scores = dot_product_scores(query_vector(30, 2.0), scene.keys)
    assert f"A **{scores[0]:.2f}**" in pages.texts(first_run)
    soft = soft_weights(scores)
    output = attend(soft, scene.value_points)
    assert f"({output[0]:.2f}, {output[1]:.2f})" in pages.texts(first_run)


def test_the_gradient_is_stated_per_degree_and_matches_autograd(first_run):
    """#13: the number under the sweep is dL/dθ per degree, as the axis, from autograd."""
    grads = sweep_gradients(Preset.FOUR.scene, 1, [30.0], 2.0, 1.0)
    page_text = pages.texts(first_run)
    assert f"dL/dθ = **{grads.soft_grad[0]:+.4f} per degree**" in page_text
    assert "dL/dθ = **-0.1970 per degree**" in page_text  # −11.290 per radian × π/180
    assert "dL/dθ = **0 per degree**: flat steps, and 4 cliffs" in page_text
    assert "dL/dθ per degree" in spec_of(first_run, SWEEP)
    assert "-11.290" not in page_text


def test_the_page_says_what_gets_a_gradient_through_a_pick(first_run):
    """#13: the picked value gets its gradient; the query and keys get exactly 0."""
    scene = Preset.FOUR.scene
    value_gradient = 2 * (scene.value_points[0] - scene.value_points[1])  # picks A, wants B
    grads = sweep_gradients(scene, 1, [30.0], 2.0, 1.0)
    np.testing.assert_allclose(grads.hard_value_grad[0, 0], value_gradient)
    page_text = pages.texts(first_run)
    assert (
        f"autograd gives v_A the gradient **({value_gradient[0]:.2f}, {value_gradient[1]:.2f})**, "
        "and every other value 0." in page_text
    )
    assert "the query (θ) and every key get a gradient of exactly 0" in page_text
    assert "every step of gradient descent on hard attention stands still" not in page_text


def test_the_cost_table_has_exact_costs_and_no_wall_time(first_run):
    """#13: no unexplained wall times; steps and examples to 95 % are the cost."""
    table = first_run.dataframe[-1].value
    assert list(table.columns) == [
        "method",
        "steps to 95 %",
        "examples to 95 %",
        "final accuracy",
        "variance at step 0",
        "× soft",
        "noise / signal",
    ]
    shipped = load_comparisons()[0]
    expected = [shipped.curves[method].steps_to(0.95) for method in TrainingMethod]
    assert list(table["steps to 95 %"]) == [f"{steps:,}" for steps in expected]
    assert list(table["examples to 95 %"]) == [f"{32 * steps:,}" for steps in expected]
    assert "one forward and one backward pass over a batch of 32" in pages.texts(first_run)


def test_sections_introduce_each_idea_where_it_is_needed(first_run):
    """#13: sampling, Gumbel, τ and straight-through come after the staircase that needs them."""
    page_text = pages.texts(first_run)
    staircase = page_text.index("flat steps")
    for idea in ("REINFORCE** (the score-function", "*reparameterisation*", "**Straight-through**"):
        assert page_text.index(idea) > staircase, idea
    labels = [slider.label for slider in first_run.select_slider]
    assert labels.index("Gumbel temperature τ") > labels.index("Softmax temperature T")


def test_main_controls_at_their_extremes(app):
    for angle, length, temperature in [(-180, 0.0, 0.05), (180, 4.0, 20.0), (0, 4.0, 0.05)]:
        app.slider(key="angle").set_value(angle)
        app.slider(key="length").set_value(length)
        app.select_slider(key="temperature").set_value(temperature).run()
        pages.assert_clean(app)
        assert len(pages.charts(app)) == CHARTS_AT_DEFAULT
        assert f"At θ = {angle}°" in pages.texts(app)


def test_zero_length_query_explains_the_tie(app):
    app.slider(key="length").set_value(0.0).run()
    pages.assert_clean(app)
    assert "share the top score" in pages.texts(app)
    assert "θ changes nothing" in pages.texts(app)
    assert "from 0.02 (at the mean too: the scores tie)" in pages.texts(app)


@pytest.mark.parametrize(
    ("draws", "seed", "tau", "straight_through"),
    [(1, 0, 0.05, True), (10_000, 9999, 10.0, False)],
)
def test_sampling_and_gumbel_controls_at_their_extremes(app, draws, seed, tau, straight_through):
    app.segmented_control(key="draws").set_value(draws)
    app.number_input(key="seed").set_value(seed)
    app.select_slider(key="tau").set_value(tau)
    app.toggle(key="straight").set_value(straight_through).run()
    pages.assert_clean(app)
    assert f"Frequencies over {draws:,} draw" in spec_of(app, FREQUENCIES)
    title = "one-hot forward" if straight_through else "softmax((s/T + g)"
    assert title in spec_of(app, GUMBEL_BARS)


def test_new_draw_moves_to_the_next_seed(app):
    before = app.number_input(key="seed").value
    app.button(key="new_draw").click().run()
    pages.assert_clean(app)
    assert app.number_input(key="seed").value == before + 1
    app.number_input(key="seed").set_value(9999).run()
    app.button(key="new_draw").click().run()
    assert app.number_input(key="seed").value == 0  # wraps round, never out of range


def test_every_preset_and_every_target(app):
    app.toggle(key="average").set_value(True)
    for preset in Preset:
        scene = preset.scene
        app.selectbox(key="preset").set_value(preset.value).run()
        pages.assert_clean(app)
        for target in (0, scene.size - 1):
            label = f"{target} · {scene.names[target]}"
            app.selectbox(key="target").set_value(label).run()
            pages.assert_clean(app)
            assert len(pages.charts(app)) == CHARTS_AT_DEFAULT
            assert "sampled hard (average)" in spec_of(app, SWEEP)
            assert app.selectbox(key="target").value == label


def test_training_settings_not_yet_trained_say_so(app):
    app.slider(key="items").set_value(2)
    app.select_slider(key="steps").set_value(1200).run()
    pages.assert_clean(app)
    assert "Seed 0, 2 items, 1200 steps have not been trained yet" in pages.texts(app)
    assert len(pages.charts(app)) == CHARTS_AT_DEFAULT
    every_example_draws(app)


def test_the_harder_shipped_run_shows_without_training(app):
    app.slider(key="items").set_value(16)
    app.select_slider(key="steps").set_value(200).run()
    pages.assert_clean(app)
    assert "Curves shipped with the lab (seed 0, 16 items, 200 steps)" in pages.texts(app)
    assert not app.get("progress")


def test_retrain_at_extreme_settings_shows_new_curves(app):
    for seed, items in [(9999, 2), (0, 16)]:
        app.number_input(key="train_seed").set_value(seed)
        app.slider(key="items").set_value(items)
        app.select_slider(key="steps").set_value(100)
        app.button(key="retrain").click().run()
        pages.assert_clean(app)
        assert f"Trained on this server: seed {seed}, {items} items, 100 steps" in pages.texts(app)
        assert len(pages.charts(app)) == CHARTS_AT_DEFAULT
    every_example_draws(app)


def test_retrain_with_defaults_reproduces_the_shipped_curves(app):
    app.button(key="retrain").click().run()
    pages.assert_clean(app)
    page_text = pages.texts(app)
    assert "Same seed, same curves" in page_text
    gap = re.search(r"held-out loss is (\S+?)\. Same seed", page_text)
    assert gap is not None and float(gap.group(1)) < 1e-4


def test_training_off_shows_the_note_and_still_the_shipped_runs(monkeypatch):
    app = pages.run_with_training_off(PAGE, monkeypatch)
    assert not [button for button in app.button if button.key == "retrain"]
    app.slider(key="items").set_value(16)
    app.select_slider(key="steps").set_value(200).run()
    assert "Curves shipped with the lab (seed 0, 16 items, 200 steps)" in pages.texts(app)
    app.slider(key="items").set_value(3).run()
    assert "this server only shows its shipped runs" in pages.texts(app)


def test_the_address_reproduces_a_view():
    query = {
        "preset": "Two near-twin keys",
        "angle": "-20",
        "length": "3.5",
        "temperature": "0.5",
        "target": "2 · B",
        "average": "true",
        "seed": "7",
        "draws": "1000",
        "tau": "2.0",
        "straight": "true",
        "items": "16",
        "steps": "200",
    }
    app = pages.run_at_address(PAGE, query)
    assert app.selectbox(key="preset").value == "Two near-twin keys"
    assert app.slider(key="angle").value == -20
    assert app.slider(key="length").value == 3.5
    assert app.select_slider(key="temperature").value == 0.5
    assert app.selectbox(key="target").value == "2 · B"
    assert app.toggle(key="average").value is True
    assert app.number_input(key="seed").value == 7
    assert app.segmented_control(key="draws").value == 1000
    assert app.toggle(key="straight").value is True
    scene = Preset.TWINS.scene
    scores = dot_product_scores(query_vector(-20, 3.5), scene.keys)
    assert f"B **{scores[2]:.2f}**" in pages.texts(app)
    assert "Frequencies over 1,000 draws" in spec_of(app, FREQUENCIES)
    assert "Curves shipped with the lab (seed 0, 16 items, 200 steps)" in pages.texts(app)


def test_a_hostile_address_opens_the_page_with_defaults_and_notes():
    query = {
        "angle": "999",
        "temperature": "abc",
        "preset": "<script>alert(1)</script>",
        "draws": "7",
        "seed": "-3",
        "items": "99",
        "x": "1",
    }
    app, notes = pages.run_at_hostile_address(PAGE, query, notes=6)
    assert notes[1] == (
        "The link set **Query direction θ \\(degrees\\)** to “999”, which is not a whole number "
        "from -180 to 180. The page uses **30**."
    )
    assert app.slider(key="angle").value == 30
    assert app.select_slider(key="temperature").value == 1.0
    assert app.number_input(key="seed").value == 2
    assert len(pages.charts(app)) == CHARTS_AT_DEFAULT


def test_reset_puts_every_control_back():
    app = pages.run_page(PAGE, query={"angle": "-90", "temperature": "5.0"})
    app.segmented_control(key="draws").set_value(10).run()
    app.button(key="reset_page").click().run()
    pages.assert_clean(app)
    assert app.slider(key="angle").value == 30
    assert app.select_slider(key="temperature").value == 1.0
    assert app.segmented_control(key="draws").value == 100


def answer(app: AppTest, key: str, given: str) -> AppTest:
    """Answer exercise ``key`` (a typed number or a picked option) and press Check."""
    radios = [radio for radio in app.radio if radio.key == f"answer_{key}"]
    if radios:
        radios[0].set_value(given)
    else:
        app.text_input(key=f"answer_{key}").set_value(given)
    return app.button(key=f"FormSubmitter:exercise_{key}-Check").click().run()


def verdicts(app: AppTest) -> tuple[list[str], list[str]]:
    return [item.value for item in app.success], [item.value for item in app.error]


def test_exercises_check_answers_computed_from_the_screen(app):
    view = look(Preset.FOUR.scene, 30, 2.0, 1.0)
    gaps, _ = frequency_gaps(view.scores, [1], 1.0, 2)
    answer(app, "draws", f"{gaps[0]:.2f}")
    pages.assert_clean(app)
    assert verdicts(app)[0] == ["Right."]
    answer(app, "draws", "banana")
    assert "That is not a number" in " ".join(item.value for item in app.warning)
    answer(app, "draws", f"{gaps[0] + 0.1:.2f}")
    assert any(item.startswith("Not quite") for item in verdicts(app)[1])
    # The answer follows the noise seed on screen.
    app.number_input(key="seed").set_value(11).run()
    gaps_11, _ = frequency_gaps(view.scores, [1], 1.0, 11)
    answer(app, "draws", f"{gaps_11[0]:.2f}")
    assert "Right." in verdicts(app)[0]


def test_choice_exercises_right_and_wrong(app):
    answer(app, "temperature", "T = 0.05: next to A's value; T = 20: near the mean of the values")
    assert "Right." in verdicts(app)[0]
    answer(app, "twins", "Both jump near θ = 0°")
    assert any(item.startswith("Not this one") for item in verdicts(app)[1])
    answer(
        app,
        "twins",
        "Hard jumps from the value of A′ to that of A near θ = 0°; soft glides between them",
    )
    assert verdicts(app)[0].count("Right.") == 2
    answer(app, "training", "hard + REINFORCE")
    assert verdicts(app)[0].count("Right.") == 3


def test_the_descent_exercise_follows_the_sweep(app):
    angle = float(re.search(r"set θ to (-?\d+)°, on the highest step", pages.texts(app)).group(1))
    sweep = angle_sweep(Preset.FOUR.scene, 1, [angle], 2.0, 1.0)
    grads = sweep_gradients(Preset.FOUR.scene, 1, [angle], 2.0, 1.0)
    assert sweep.hard_loss[0] == pytest.approx(
        max(angle_sweep(Preset.FOUR.scene, 1, np.arange(-180, 181), 2.0, 1.0).hard_loss)
    )
    right = "Decrease θ" if grads.expected_grad[0] > 0 else "Increase θ"
    assert not math.isclose(grads.expected_grad[0], 0.0, abs_tol=1e-9)
    answer(app, "descent", right)
    assert "Right." in verdicts(app)[0]


BAD_TABLE_SCRIPT = """
import runpy
import pandas as pd
import streamlit as st

original = st.data_editor
st.data_editor = lambda data, **kwargs: pd.DataFrame({rows!r})
try:
    runpy.run_path({page!r}, run_name="__main__")
finally:
    st.data_editor = original
"""


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"item": "A", "key x": 1.0, "key y": None, "value x": 0, "value y": 0}] * 2, "key y"),
        ([{"item": "A", "key x": 1.0, "key y": 0, "value x": 0, "value y": 0}], "at least 2"),
        ([{"item": "A", "key x": "x", "key y": 0, "value x": 0, "value y": 0}] * 2, "number"),
        ([{"item": "A", "key x": 1.0, "key y": 0, "value x": 50, "value y": 0}] * 2, "±10"),
        ([], "empty"),
    ],
)
def test_a_broken_item_table_gives_a_warning_and_the_preset(rows, message):
    script = BAD_TABLE_SCRIPT.format(rows=rows, page=str(pages.ROOT / PAGE))
    app = AppTest.from_string(script, default_timeout=60).run()
    pages.assert_clean(app)
    assert message in app.warning[0].value and "Showing the preset" in app.warning[0].value
    assert len(pages.charts(app)) == CHARTS_AT_DEFAULT


def test_odd_item_names_are_shown_literally():
    rows = [
        {"item": "**bold**", "key x": 1.0, "key y": 0.0, "value x": 1.0, "value y": 0.0},
        {"item": "<b>x</b>", "key x": -1.0, "key y": 0.0, "value x": -1.0, "value y": 1.0},
        {"item": "🦊", "key x": 0.0, "key y": 1.0, "value x": 0.0, "value y": -1.0},
    ]
    script = BAD_TABLE_SCRIPT.format(rows=rows, page=str(pages.ROOT / PAGE))
    app = AppTest.from_string(script, default_timeout=60).run()
    pages.assert_clean(app)
    assert not app.warning
    assert r"\*\*bold\*\*" in pages.texts(app) and r"\<b\>x\</b\>" in pages.texts(app)


def test_extreme_items_and_temperatures_stay_finite():
    """Coordinates at ±10, the longest query, the smallest T and τ: no NaN, no blank chart."""
    rows = [
        {"item": "far", "key x": 10.0, "key y": 10.0, "value x": 10.0, "value y": -10.0},
        {"item": "near", "key x": 10.0, "key y": 9.9, "value x": -10.0, "value y": 10.0},
        {"item": "back", "key x": -10.0, "key y": -10.0, "value x": 0.0, "value y": 0.0},
    ]
    script = BAD_TABLE_SCRIPT.format(rows=rows, page=str(pages.ROOT / PAGE))
    app = AppTest.from_string(script, default_timeout=60).run()
    app.slider(key="length").set_value(4.0)
    app.select_slider(key="temperature").set_value(0.05)
    app.select_slider(key="tau").set_value(0.05).run()
    pages.assert_clean(app)
    assert not app.warning
    assert len(pages.charts(app)) == CHARTS_AT_DEFAULT
    assert "nan" not in pages.texts(app).lower()
    for index in range(CHARTS_AT_DEFAULT):
        assert "NaN" not in spec_of(app, index) and "Infinity" not in spec_of(app, index)
