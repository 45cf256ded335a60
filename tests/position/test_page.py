"""The order-and-position page under AppTest: defaults, extremes, its address and its exercises."""

from __future__ import annotations

import pytest

import tests.apptest_util as pages
from lab.position import SentenceConfig, permutation_check, position_effect, swap_permutation

PAGE = "demos/position.py"
DEFAULT = ("the", "dog", "chased", "the", "cat")


app = pages.page_fixture(PAGE)


def test_default_page_swaps_dog_and_cat_and_measures_both_gaps(app):
    pages.assert_clean(app)
    assert app.title[0].value == "Order and position"
    check = permutation_check(DEFAULT, swap_permutation(5, 1, 4), SentenceConfig())
    assert check.permuted_tokens == ("the", "cat", "chased", "the", "dog")
    metrics = {item.label: item.value for item in app.metric}
    assert (
        float(metrics["Without positions"]) < 1e-12 or metrics["Without positions"] == "0 exactly"
    )
    assert metrics["With positions"] == f"{check.with_positions.gap:.3f}"
    assert "*the cat chased the dog*" in pages.texts(app)
    assert len(pages.charts(app)) == 11


def test_the_repeated_word_is_reported_from_the_data(app):
    effect = position_effect(DEFAULT, SentenceConfig())
    the = effect.repeated[0]
    assert the.word == "the" and the.positions == (0, 3)
    assert f"with positions they differ by up to {the.weights_gap_with:.3f}" in pages.texts(app)


@pytest.mark.parametrize(
    "query",
    [
        {"d": "2", "seed": "9999", "length": "4", "width": "2", "base": "100"},
        {"d": "16", "length": "64", "width": "64", "base": "100,000", "positions": "true"},
        {"reorder": "shuffle", "shuffle": "999"},
        {"reorder": "shuffle", "shuffle": "0", "sentence": "a b c d e f g h i j k l"},
    ],
)
def test_controls_at_their_extremes(query):
    app = pages.run_at_address(PAGE, query)
    assert len(pages.charts(app)) == 11


def test_one_word_cannot_be_reordered(app):
    app.text_input(key="sentence").set_value("fox").run()
    pages.assert_clean(app)
    assert "One token cannot be reordered" in pages.texts(app)
    assert pages.charts(app)


def test_empty_sentence(app):
    app.text_input(key="sentence").set_value("").run()
    pages.assert_clean(app)
    assert pages.charts(app) == []


def test_the_address_reproduces_a_swap():
    app = pages.run_page(
        PAGE, query={"sentence": "a b c", "first": "0 · a", "second": "2 · c", "d": "4"}
    )
    pages.assert_clean(app)
    check = permutation_check(("a", "b", "c"), [2, 1, 0], SentenceConfig(d_model=4))
    assert "*a b c* becomes *c b a*" in pages.texts(app)
    assert {item.label: item.value for item in app.metric}["With positions"] == (
        f"{check.with_positions.gap:.3f}"
    )


def test_a_hostile_address_opens_with_defaults_and_notes():
    query = {"d": "1", "base": "7", "reorder": "sideways", "width": "x"}
    app, _ = pages.run_at_hostile_address(PAGE, query, notes=4)
    assert app.slider(key="d").value == 8


def test_exercises_are_checked_against_the_screen(app):
    effect = position_effect(DEFAULT, SentenceConfig())
    app.text_input(key="answer_repeat").set_value(f"{effect.repeated[0].weights_gap_with:.2f}")
    app.button(key="FormSubmitter:exercise_repeat-Check").click().run()
    assert [item.value for item in app.success] == ["Right."]
    app.radio(key="answer_rotary").set_value("m = 3, n = 5")
    app.button(key="FormSubmitter:exercise_rotary-Check").click().run()
    assert any(item.value.startswith("Not this one") for item in app.error)


def test_swapping_a_word_with_itself_is_explained():
    app = pages.run_page(PAGE, query={"first": "1 · dog", "second": "1 · dog"})
    pages.assert_clean(app)
    assert "Pick two different words to swap." in pages.texts(app)
    assert {item.label: item.value for item in app.metric}["With positions"] == "0 exactly"
