"""The self-attention page under AppTest: defaults, extremes and odd sentences."""

from __future__ import annotations

import pytest

from tests.apptest_util import assert_clean, charts, run_page, texts

PAGE = "demos/self_attention.py"


@pytest.fixture
def app():
    return run_page(PAGE)


def test_default_page_shows_every_stage(app):
    assert_clean(app)
    assert app.title[0].value == "Self-attention, step by step"
    assert app.text_input(key="sa_sentence").value == "The quick brown fox"
    assert app.slider(key="sa_d").value == 5
    assert len(charts(app)) >= 10  # X, Q, K, V, scores, scaled, weights, output, bars, sum
    headers = [header.value for header in app.header]
    assert headers[0].startswith("1 ·") and headers[-1].startswith("5 ·")
    assert len(app.latex) >= 1
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders


@pytest.mark.parametrize("d_model", [1, 16])
@pytest.mark.parametrize("seed", [0, 9999])
def test_sliders_at_their_extremes(app, d_model, seed):
    app.slider(key="sa_d").set_value(d_model)
    app.number_input(key="sa_seed").set_value(seed)
    app.toggle(key="sa_positional").set_value(True).run()
    assert_clean(app)
    assert len(charts(app)) >= 10


def test_empty_sentence_shows_a_message_and_no_chart(app):
    app.text_input(key="sa_sentence").set_value("   ").run()
    assert_clean(app)
    assert "Type a sentence" in texts(app)
    assert charts(app) == []


def test_long_sentence_is_cut_with_a_warning(app):
    app.text_input(key="sa_sentence").set_value(" ".join(["word"] * 40)).run()
    assert_clean(app)
    assert "40 tokens" in app.warning[0].value
    assert len(app.selectbox(key="sa_query").options) == 12


@pytest.mark.parametrize(
    "sentence",
    [
        "fox",
        "Café déjà vu, naïve! 🦊🦊",
        "<script>alert('x')</script> <b>bold</b>",
        "**not bold** [x](y)",
    ],
)
def test_odd_sentences(app, sentence):
    app.text_input(key="sa_sentence").set_value(sentence).run()
    assert_clean(app)
    assert charts(app)
    assert not any(item.allow_html for item in app.markdown if hasattr(item, "allow_html"))


def test_every_query_can_be_inspected(app):
    app.text_input(key="sa_sentence").set_value("the cat saw the dog").run()
    box = app.selectbox(key="sa_query")
    for label in ("0 · the", "4 · dog"):
        box.set_value(label).run()
        assert_clean(app)
        assert label in texts(app)


def test_query_choice_follows_a_new_sentence(app):
    app.selectbox(key="sa_query").set_value("2 · brown").run()
    app.text_input(key="sa_sentence").set_value("a big red dog ran").run()
    assert_clean(app)
    box = app.selectbox(key="sa_query")
    assert box.options == ["0 · a", "1 · big", "2 · red", "3 · dog", "4 · ran"]
    assert box.value in box.options
