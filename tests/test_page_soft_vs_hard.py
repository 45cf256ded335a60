"""The soft-vs-hard page under AppTest: defaults, every control at its extremes, odd tables,
retraining with a progress bar."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from lab import soft_hard as sh
from tests.apptest_util import ROOT, assert_clean, charts, run_page, texts

PAGE = "demos/soft_vs_hard.py"
CHARTS_AT_DEFAULT = 12  # 4 weight panels, 1/√N, key space, value space, sweep, 3 training, example


@pytest.fixture(scope="module")
def first_run():
    """One run of the page; the first pays for importing torch."""
    return run_page(PAGE)


@pytest.fixture
def app():
    return run_page(PAGE)


def test_default_page_shows_every_part(first_run):
    app = first_run
    assert_clean(app)
    assert app.title[0].value == "Soft vs hard attention"
    assert len(charts(app)) == CHARTS_AT_DEFAULT
    headers = [header.value for header in app.header]
    assert [header[:3] for header in headers] == ["1 ·", "2 ·", "3 ·", "4 ·", "5 ·"]
    assert len(app.latex) >= 1
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders
    page_text = texts(app)
    # The two notes the seeds ask for.
    assert "image captioning" in page_text and "Show, Attend and Tell" in page_text
    assert "not an explanation" in page_text
    # First view: the shipped curves, no training.
    assert "Curves shipped with the lab" in page_text
    assert not app.get("progress")
    assert [metric.label for metric in app.metric] == ["REINFORCE", "Gumbel-ST"]


def test_default_numbers_are_the_lab_s(first_run):
    scene = sh.PRESETS["Four items"]
    scores = sh.attention_scores(sh.query_vector(30, 2.0), scene.keys)
    assert f"A **{scores[0]:.2f}**" in texts(first_run)
    soft = sh.soft_weights(scores)
    output = sh.attend(soft, scene.value_points)
    assert f"({output[0]:.2f}, {output[1]:.2f})" in texts(first_run)


def test_main_controls_at_their_extremes(app):
    for angle, length, temperature in [(-180, 0.0, 0.05), (180, 4.0, 20.0), (0, 4.0, 0.05)]:
        app.slider(key="sh_angle").set_value(angle)
        app.slider(key="sh_length").set_value(length)
        app.select_slider(key="sh_temperature").set_value(temperature).run()
        assert_clean(app)
        assert len(charts(app)) == CHARTS_AT_DEFAULT


def test_zero_length_query_explains_the_tie(app):
    app.slider(key="sh_length").set_value(0.0).run()
    assert_clean(app)
    assert "share the top score" in texts(app)
    assert "θ changes nothing" in texts(app)


@pytest.mark.parametrize(
    ("draws", "seed", "tau", "straight_through"),
    [(1, 0, 0.05, True), (10_000, 9999, 10.0, False)],
)
def test_sampling_and_gumbel_controls_at_their_extremes(app, draws, seed, tau, straight_through):
    app.segmented_control(key="sh_draws").set_value(draws)
    app.number_input(key="sh_seed").set_value(seed)
    app.select_slider(key="sh_tau").set_value(tau)
    app.toggle(key="sh_st").set_value(straight_through).run()
    assert_clean(app)
    assert f"Frequencies over {draws:,} draw" in charts(app)[2].proto.spec
    title = "one-hot forward" if straight_through else "softmax((s/T + g)"
    assert title in charts(app)[4].proto.spec


def test_new_draw_moves_to_the_next_seed(app):
    before = app.number_input(key="sh_seed").value
    app.button(key="sh_redraw").click().run()
    assert_clean(app)
    assert app.number_input(key="sh_seed").value == before + 1


def test_every_preset_and_every_target(app):
    app.toggle(key="sh_expected").set_value(True)
    for preset, scene in sh.PRESETS.items():
        app.selectbox(key="sh_preset").set_value(preset).run()
        assert_clean(app)
        for target in (0, scene.size - 1):
            label = f"{target} · {scene.names[target]}"
            app.selectbox(key="sh_target").set_value(label).run()
            assert_clean(app)
            assert len(charts(app)) == CHARTS_AT_DEFAULT
            assert "expected hard (sampled)" in charts(app)[7].proto.spec
            assert app.selectbox(key="sh_target").value == label


def test_retrain_at_extreme_settings_shows_new_curves(app):
    for seed, items in [(9999, 2), (0, 16)]:
        app.number_input(key="sh_train_seed").set_value(seed)
        app.slider(key="sh_train_items").set_value(items)
        app.select_slider(key="sh_train_steps").set_value(100)
        app.button(key="sh_retrain").click().run()
        assert_clean(app)
        assert f"Trained on this server: seed {seed}, {items} items, 100 steps" in texts(app)
        assert len(charts(app)) == CHARTS_AT_DEFAULT
    for index in (1, 2):
        app.segmented_control(key="sh_example").set_value(index).run()
        assert_clean(app)
        assert len(charts(app)) == CHARTS_AT_DEFAULT


def test_retrain_with_defaults_reproduces_the_shipped_curves(app):
    app.button(key="sh_retrain").click().run()
    assert_clean(app)
    page_text = texts(app)
    assert "Same seed, same curves" in page_text
    gap = re.search(r"held-out loss is (\S+?)\. Same seed", page_text)
    assert gap is not None and float(gap.group(1)) < 1e-4


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
        ([], "empty"),
    ],
)
def test_a_broken_item_table_gives_a_warning_and_the_preset(rows, message):
    script = BAD_TABLE_SCRIPT.format(rows=rows, page=str(ROOT / PAGE))
    app = AppTest.from_string(script, default_timeout=60).run()
    assert_clean(app)
    assert message in app.warning[0].value and "Showing the preset" in app.warning[0].value
    assert len(charts(app)) == CHARTS_AT_DEFAULT


def test_odd_item_names_are_shown_literally():
    rows = [
        {"item": "**bold**", "key x": 1.0, "key y": 0.0, "value x": 1.0, "value y": 0.0},
        {"item": "<b>x</b>", "key x": -1.0, "key y": 0.0, "value x": -1.0, "value y": 1.0},
        {"item": "🦊", "key x": 0.0, "key y": 1.0, "value x": 0.0, "value y": -1.0},
    ]
    script = BAD_TABLE_SCRIPT.format(rows=rows, page=str(ROOT / PAGE))
    app = AppTest.from_string(script, default_timeout=60).run()
    assert_clean(app)
    assert not app.warning
    assert r"\*\*bold\*\*" in texts(app) and r"\<b\>x\</b\>" in texts(app)
