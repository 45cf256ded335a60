"""The multi-head page under AppTest: defaults, both head sets, extremes, odd sentences."""

from __future__ import annotations

import pytest

from lab.toy_language import EXAMPLES
from tests.apptest_util import assert_clean, charts, run_page, texts

PAGE = "demos/multi_head.py"
OWN = "✏️ Type my own sentence"


@pytest.fixture
def app():
    return run_page(PAGE)


def own_sentence(app, text):
    app.selectbox(key="mh_example").set_value(OWN).run()
    app.text_input(key="mh_sentence").set_value(text).run()
    return app


def test_default_page_shows_the_hand_set_heads_and_every_section(app):
    assert_clean(app)
    assert app.title[0].value == "Multi-head attention"
    assert app.selectbox(key="mh_example").value == EXAMPLES[0]
    assert app.radio(key="mh_source").value == "Hand-set heads"
    assert app.selectbox(key="mh_layer").disabled
    headers = [header.value for header in app.header]
    assert headers[0].startswith("1 ·") and headers[-1].startswith("5 ·")
    # 5 heatmaps, head view, W_q/W_k/scores, 5 head outputs, concat, W_o, output,
    # pattern table, 3 ablation charts
    assert len(charts(app)) >= 20
    captions = "\n".join(caption.value for caption in app.caption)
    for pattern in ("previous token", "next token", "first token", "same word", "pronoun"):
        assert pattern in captions
    assert "Attention maps are not explanations" in texts(app)
    assert len(app.latex) >= 1
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders


@pytest.mark.parametrize("layer", [1, 2])
def test_trained_model_at_each_layer(app, layer):
    app.radio(key="mh_source").set_value("Trained model").run()
    app.selectbox(key="mh_layer").set_value(layer).run()
    assert_clean(app)
    captions = "\n".join(caption.value for caption in app.caption)
    assert f"L{layer} H1" in texts(app) or "held-out" in captions
    assert "held-out" in captions
    if layer == 1:  # the shipped model's first layer has its specialised heads
        assert "Score ≥ 0.6" in texts(app)
    assert len(charts(app)) >= 14


def test_every_example_sentence_with_both_head_sets(app):
    for example in EXAMPLES:
        app.selectbox(key="mh_example").set_value(example).run()
        assert_clean(app)
        app.radio(key="mh_source").set_value("Trained model").run()
        assert_clean(app)
        app.radio(key="mh_source").set_value("Hand-set heads").run()
    # the last example has two nouns agreeing with "it": the page says so
    assert "word types alone cannot tell" in texts(app)


def test_head_view_toggles_at_their_extremes(app):
    app.pills(key="mh_view_hand").set_value([]).run()
    assert_clean(app)
    assert "Pick at least one head" in texts(app)
    app.pills(key="mh_view_hand").set_value([0, 1, 2, 3, 4]).run()
    assert_clean(app)
    app.radio(key="mh_source").set_value("Trained model").run()
    app.pills(key="mh_view_trained").set_value([3]).run()
    assert_clean(app)


@pytest.mark.parametrize("head", range(5))
def test_every_hand_set_head_can_be_explained(app, head):
    app.selectbox(key="mh_explain").set_value(head).run()
    assert_clean(app)
    assert len(charts(app)) >= 20


def test_ablation_with_every_head_off_and_every_job(app):
    app.pills(key="mh_off").set_value(list(range(8))).run()
    assert_clean(app)
    for job in ("previous", "next", "referent"):
        for word in (0, 10):
            box = app.selectbox(key="mh_word")
            box.set_value(box.options[word]).run()
            app.radio(key="mh_job").set_value(job).run()
            assert_clean(app)
    assert "No right answer here" in texts(app)  # the last word has no next word


def test_ablation_of_the_referent_changes_the_answer(app):
    # default sentence, default question: "she" (position 7) should name "girl"
    assert app.selectbox(key="mh_word").value == "7 · she"
    assert app.radio(key="mh_job").value == "referent"
    assert "should name “girl”" in texts(app)
    app.pills(key="mh_off").set_value([0]).run()  # L1 H1
    assert_clean(app)
    assert "with L1 H1 off it gives" in texts(app)


def test_empty_sentence_shows_a_message_and_no_chart(app):
    own_sentence(app, "   ")
    assert_clean(app)
    assert "Type a sentence" in texts(app)
    assert charts(app) == []


def test_unknown_words_are_named(app):
    own_sentence(app, "The zebra saw the girl and she giggled")
    assert_clean(app)
    warning = app.warning[0].value
    assert "zebra" in warning and "giggled" in warning and "unk" in warning
    assert len(charts(app)) >= 20


def test_long_sentence_is_cut_with_a_warning(app):
    own_sentence(app, " ".join(["the cat"] * 30))
    assert_clean(app)
    assert "60 tokens" in app.warning[0].value
    assert len(app.selectbox(key="mh_word").options) == 12


@pytest.mark.parametrize(
    "sentence",
    [
        "cat",
        "Café déjà vu, naïve! 🦊🦊",
        "<script>alert('x')</script> <b>bold</b>",
        "**she** [it](they) <pad> <unk>",
        "she she she she",
    ],
)
def test_odd_sentences(app, sentence):
    own_sentence(app, sentence)
    assert_clean(app)
    assert charts(app)
    app.radio(key="mh_source").set_value("Trained model").run()
    assert_clean(app)
    assert not any(getattr(item, "allow_html", False) for item in app.markdown)


def test_retrain_with_few_steps_then_go_back(app):
    app.radio(key="mh_source").set_value("Trained model").run()
    app.number_input(key="mh_seed").set_value(9999)
    app.slider(key="mh_steps").set_value(100).run()
    app.button(key="mh_retrain").click().run()
    assert_clean(app)
    assert "retrained here, seed 9999, 100 steps" in texts(app)
    app.button(key="mh_reset").click().run()
    assert_clean(app)
    assert "the shipped checkpoint" in texts(app)
