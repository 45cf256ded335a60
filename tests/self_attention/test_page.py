"""The self-attention page under AppTest: defaults, extremes, odd sentences and its address."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tests.apptest_util as pages
from lab.self_attention import SelfAttentionConfig, self_attention, self_attention_steps

PAGE = "demos/self_attention.py"


app = pages.page_fixture(PAGE)


def test_default_page_shows_every_stage(app):
    pages.assert_clean(app)
    assert app.title[0].value == "Self-attention, step by step"
    assert app.text_input(key="sentence").value == "The quick brown fox"
    assert app.slider(key="d").value == 5
    # result, X, Q, K, V, W_q, W_k, W_v, scores, scaled, weights, output, 2 bars, contributions
    assert len(pages.charts(app)) == 15
    headers = [header.value for header in app.header]
    assert headers[0].startswith("1 ·") and headers[-1].startswith("6 ·")
    assert len(app.latex) >= 1
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders


def test_the_code_shown_is_the_code_that_runs(app):
    assert app.code[0].value == inspect.getsource(self_attention).rstrip("\n")


def test_the_first_screen_names_the_strongest_key_of_the_last_token(app):
    steps = self_attention_steps(("The", "quick", "brown", "fox"))
    strongest = ("The", "quick", "brown", "fox")[int(np.argmax(steps.weights[-1]))]
    assert f"gives most weight ({steps.weights[-1].max():.2f}) to **{strongest}**" in pages.texts(
        app
    )


@pytest.mark.parametrize("d_model", [1, 16])
@pytest.mark.parametrize("seed", [0, 9999])
def test_controls_at_their_extremes(app, d_model, seed):
    app.slider(key="d").set_value(d_model)
    app.number_input(key="seed").set_value(seed)
    app.toggle(key="positions").set_value(True).run()
    pages.assert_clean(app)
    assert len(pages.charts(app)) == 17  # positions add word vectors and P beside X


def test_empty_sentence_shows_a_message_and_no_chart(app):
    app.text_input(key="sentence").set_value("   ").run()
    pages.assert_clean(app)
    assert "Type a sentence" in pages.texts(app)
    assert pages.charts(app) == []


def test_long_sentence_is_cut_with_a_warning(app):
    app.text_input(key="sentence").set_value(" ".join(["word"] * 40)).run()
    pages.assert_cut_with_a_warning(app, typed=40, menu="query")


@pytest.mark.parametrize(
    "sentence",
    [
        "fox",
        *pages.ODD_TEXTS,
        "**not bold** [x](y)",
    ],
)
def test_odd_sentences(app, sentence):
    app.text_input(key="sentence").set_value(sentence).run()
    pages.assert_typed_text_shown_safely(app)


def test_every_query_can_be_inspected(app):
    app.text_input(key="sentence").set_value("the cat saw the dog").run()
    box = app.selectbox(key="query")
    for label in ("0 · the", "4 · dog"):
        box.set_value(label).run()
        pages.assert_clean(app)
        assert label in pages.texts(app)


def test_query_choice_follows_a_new_sentence(app):
    app.selectbox(key="query").set_value("2 · brown").run()
    app.text_input(key="sentence").set_value("a big red dog ran").run()
    pages.assert_clean(app)
    box = app.selectbox(key="query")
    assert box.options == ["0 · a", "1 · big", "2 · red", "3 · dog", "4 · ran"]
    assert box.value in box.options


def test_the_address_reproduces_a_view():
    app = pages.run_at_address(
        PAGE, {"sentence": "the cat saw the dog", "d": "8", "seed": "42", "positions": "true"}
    )
    assert app.text_input(key="sentence").value == "the cat saw the dog"
    assert app.slider(key="d").value == 8
    assert app.number_input(key="seed").value == 42
    assert app.toggle(key="positions").value is True
    steps = self_attention_steps(
        ("the", "cat", "saw", "the", "dog"),
        SelfAttentionConfig(d_model=8, seed=42, positional=True),
    )
    assert f"gives most weight ({steps.weights[-1].max():.2f})" in pages.texts(app)


def test_a_hostile_address_opens_the_page_with_defaults_and_notes():
    app, notes = pages.run_at_hostile_address(
        PAGE,
        {"d": "99", "seed": "abc", "positions": "maybe", "query": "<script>", "x": "1"},
        notes=4,
    )
    assert notes[0] == (
        "The link set **Embedding size d** to “99”, which is not a whole number from 1 to 16. "
        "The page uses **5**."
    )
    assert app.slider(key="d").value == 5 and app.number_input(key="seed").value == 0
    assert len(pages.charts(app)) == 15


def test_reset_puts_every_control_back():
    app = pages.run_page(PAGE, query={"d": "9", "seed": "7"})
    app.text_input(key="sentence").set_value("a b c").run()
    app.button(key="reset_page").click().run()
    pages.assert_clean(app)
    assert app.slider(key="d").value == 5
    assert app.number_input(key="seed").value == 0
    assert app.text_input(key="sentence").value == "The quick brown fox"


def test_exercises_check_answers_computed_from_the_screen(app):
    steps = self_attention_steps(("The", "quick", "brown", "fox"))
    app.text_input(key="answer_by_hand").set_value(f"{steps.output[0, 0]:.2f}")
    app.button(key="FormSubmitter:exercise_by_hand-Check").click().run()
    pages.assert_clean(app)
    assert "Right." in [item.value for item in app.success]
    app.text_input(key="answer_scale").set_value("banana")
    app.button(key="FormSubmitter:exercise_scale-Check").click().run()
    assert "That is not a number" in " ".join(item.value for item in app.warning)
    app.slider(key="d").set_value(9).run()
    app.text_input(key="answer_scale").set_value("3")
    app.button(key="FormSubmitter:exercise_scale-Check").click().run()
    # √9 = 3 is right; the hand-computed entry was for d = 5 and is re-checked against d = 9.
    assert [item.value for item in app.success] == ["Right."]
    assert any(item.value.startswith("Not quite") for item in app.error)


def test_infinite_and_huge_numbers_in_the_address_get_a_note_not_an_exception():
    query = {"seed": "inf", "d": "1e400", "positions": "nan"}
    _, notes = pages.run_at_hostile_address(PAGE, query, notes=3)
    assert notes == [
        "The link set **Embedding size d** to “1e400”, which is not a whole number from 1 to "
        "16. The page uses **5**.",
        "The link set **Seed** to “inf”, which is not a whole number from 0 to 9999. "
        "The page uses **0**.",
        "The link set **Add positions** to “nan”, which is not true or false. The page uses "
        "**off**.",
    ]
