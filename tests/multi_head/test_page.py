"""The multi-head page under AppTest: defaults, both head sets, extremes, odd sentences,
its address, its exercises, retraining and the training-off note."""

from __future__ import annotations

import json

import pytest

import tests.apptest_util as pages
from lab.multi_head import (
    EXAMPLES,
    OWN_SENTENCE,
    Heads,
    Job,
    Pattern,
    ablate,
    answer_probabilities,
    best_head,
    hand_head_view,
    page_exercises,
    toy_tokens,
)
from lab.multi_head.prose import LINE_SHAPES

PAGE = "demos/multi_head.py"
HAND_CHARTS = 21  # 5 maps, head view, W_q, W_k, scores, pattern table, 5 outputs, concat,
# W_o, output, 3 ablation bars
TRAINED_CHARTS = 16  # 4 maps, head view, pattern table, 4 outputs, concat, W_o, output, 3 bars


app = pages.page_fixture(PAGE)


def chart_titles(app) -> list[str]:
    """The titles of the charts the page drew, in order."""
    titles = []
    for chart in pages.charts(app):
        title = json.loads(chart.proto.spec).get("title", "")
        titles.append(title["text"] if isinstance(title, dict) else title)
    return titles


def own_sentence(app, text):
    app.selectbox(key="example").set_value(OWN_SENTENCE).run()
    app.text_input(key="sentence").set_value(text).run()
    return app


def show(app, heads: Heads):
    app.segmented_control(key="heads").set_value(heads).run()
    return app


def test_default_page_shows_the_hand_set_heads_and_every_section(app):
    pages.assert_clean(app)
    assert app.title[0].value == "Multi-head attention"
    assert app.selectbox(key="example").value == EXAMPLES[0]
    assert app.segmented_control(key="heads").value == Heads.HAND
    assert app.segmented_control(key="heads").options == [
        "Hand-set",
        "Trained: layer 1",
        "Trained: layer 2",
    ]
    headers = [header.value for header in app.header]
    assert headers == [
        "1 · All heads in one picture",
        "2 · Where the patterns come from",
        "3 · Concatenate, then mix with W_o",
        "4 · Ablation: switch heads off",
    ]
    assert len(pages.charts(app)) == HAND_CHARTS
    captions = "\n".join(caption.value for caption in app.caption)
    for pattern in ("previous token", "next token", "first token", "same word", "pronoun"):
        assert pattern in captions
    assert "Attention maps are not explanations" in pages.texts(app)
    assert len(app.latex) == 1 and r"\sqrt{d_k}" in app.latex[0].value
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders


@pytest.mark.parametrize("heads", [Heads.LAYER_1, Heads.LAYER_2])
def test_trained_model_at_each_layer(app, heads):
    show(app, heads)
    pages.assert_clean(app)
    captions = "\n".join(caption.value for caption in app.caption)
    number = heads.layer + 1
    assert chart_titles(app)[:4] == [f"L{number} H{head}" for head in range(1, 5)]
    assert "held-out" in captions
    if heads is Heads.LAYER_1:  # the shipped model's first layer has its specialised heads
        assert (
            "Score ≥ 0.6: L1 H1 (pronoun → its noun), L1 H2 (previous token), "
            "L1 H3 (next token)." in pages.texts(app)
        )
    assert "Layer 2's heads are blurrier (best score 0.40, against 0.81 in layer 1)" in pages.texts(
        app
    )
    assert len(pages.charts(app)) == TRAINED_CHARTS


def test_every_example_sentence_with_every_head_set(app):
    for example in EXAMPLES:
        app.selectbox(key="example").set_value(example).run()
        for heads in (Heads.LAYER_1, Heads.LAYER_2, Heads.HAND):
            show(app, heads)
            pages.assert_clean(app)
    # the last example has two nouns agreeing with "it": the page says so
    assert "word types alone cannot tell" in pages.texts(app)


def test_head_view_draws_all_heads_or_one(app):
    box = app.selectbox(key="drawn")
    assert box.options == ["all heads", *hand_head_view(toy_tokens(EXAMPLES[0]).tokens).names]
    for option in (box.options[-1], box.options[0]):
        app.selectbox(key="drawn").set_value(option).run()
        pages.assert_clean(app)
    show(app, Heads.LAYER_2)
    app.selectbox(key="drawn").set_value("L2 H4").run()
    pages.assert_clean(app)
    # back to the hand-set heads: "L2 H4" is no head of theirs, so the box falls back to all
    show(app, Heads.HAND)
    pages.assert_clean(app)
    assert app.selectbox(key="drawn").value == "all heads"


def test_the_head_view_text_says_which_way_the_lines_run(app):
    text = pages.texts(app)
    assert f"blue lines (previous token) {LINE_SHAPES[Pattern.PREVIOUS]}" in text
    assert f"orange lines (next token) {LINE_SHAPES[Pattern.NEXT]}" in text
    assert LINE_SHAPES[Pattern.PREVIOUS].startswith("rise one row")
    assert LINE_SHAPES[Pattern.NEXT].startswith("drop one row")
    assert "step down one row (previous token)" not in text  # the old, backwards sentence
    show(app, Heads.LAYER_1)
    assert f"orange lines (L1 H2) {LINE_SHAPES[Pattern.PREVIOUS]}" in pages.texts(app)


@pytest.mark.parametrize("head", ["previous token", "pronoun → noun"])
def test_hand_set_heads_can_be_explained(app, head):
    app.selectbox(key="explain").set_value(head).run()
    pages.assert_clean(app)
    assert f"**{head}.**" in pages.texts(app)
    assert "√d_k = 8 (each head's queries and keys have d_k = 64 entries)" in pages.texts(app)
    assert "√E" not in pages.texts(app)
    assert len(pages.charts(app)) == HAND_CHARTS


def test_ablation_with_every_head_off_and_every_job(app):
    for name in ("L1H1", "L1H2", "L1H3", "L1H4", "L2H1", "L2H2", "L2H3", "L2H4"):
        app.toggle(key=name).set_value(False)
    app.run()
    pages.assert_clean(app)
    assert "Off: L1 H1, L1 H2, L1 H3, L1 H4, L2 H1, L2 H2, L2 H3, L2 H4" in chart_titles(app)
    reasons = {
        (Job.PREVIOUS, 0): "the first word has no word before it",
        (Job.NEXT, 10): "the last word has no word after it",
        (Job.REFERENT, 0): "this word is not a pronoun with one agreeing noun before it",
        (Job.REFERENT, 10): "this word is not a pronoun with one agreeing noun before it",
    }
    for job in Job:
        for word in (0, 10):
            box = app.selectbox(key="word")
            box.set_value(box.options[word])
            app.radio(key="job").set_value(job).run()
            pages.assert_clean(app)
            notes = [item.value for item in app.info if item.value.startswith("No right answer")]
            reason = reasons.get((job, word))
            assert notes == (
                [
                    f"No right answer here: {reason}. The model still answers "
                    "(below), but it was never trained for this case."
                ]
                if reason
                else []
            )


def test_ablation_of_the_referent_changes_the_answer(app, shipped):
    # default sentence, default question: "she" (position 7) should name "girl"
    assert app.selectbox(key="word").value == "7 · she"
    assert app.radio(key="job").value == Job.REFERENT
    assert "should name “girl”" in pages.texts(app)
    app.toggle(key="L1H4").set_value(False).run()
    pages.assert_clean(app)
    tokens = toy_tokens(EXAMPLES[0]).tokens
    _, after = answer_probabilities(ablate(shipped, tokens, Job.REFERENT, 7, {(0, 3)}), tokens)
    assert f"with L1 H4 off it gives **{after:.2f}**" in pages.texts(app)


def test_empty_sentence_shows_a_message_and_no_chart(app):
    own_sentence(app, "   ")
    pages.assert_clean(app)
    assert "Type a sentence" in pages.texts(app)
    assert pages.charts(app) == []


def test_unknown_words_are_named(app):
    own_sentence(app, "The zebra saw the girl and she giggled")
    pages.assert_clean(app)
    warning = app.warning[0].value
    assert "zebra" in warning and "giggled" in warning and "unk" in warning
    assert len(pages.charts(app)) == HAND_CHARTS


def test_long_sentence_is_cut_with_a_warning(app):
    own_sentence(app, " ".join(["the cat"] * 30))
    pages.assert_cut_with_a_warning(app, typed=60, menu="word")


@pytest.mark.parametrize(
    "sentence",
    [
        "cat",
        *pages.ODD_TEXTS,
        "**she** [it](they) <pad> <unk>",
        "she she she she",
    ],
)
def test_odd_sentences(app, sentence):
    own_sentence(app, sentence)
    pages.assert_typed_text_shown_safely(app)
    show(app, Heads.LAYER_1)
    pages.assert_typed_text_shown_safely(app)


def test_retrain_with_few_steps_then_go_back(app):
    show(app, Heads.LAYER_1)
    app.number_input(key="seed").set_value(9999)
    app.slider(key="steps").set_value(100).run()
    assert "Press **Retrain** to train seed 9999 with 100 steps." in pages.texts(app)
    app.button(key="retrain").click().run()
    pages.assert_clean(app)
    assert "retrained here, seed 9999, 100 steps" in pages.texts(app)
    app.button(key="shipped").click().run()
    pages.assert_clean(app)
    assert "the shipped checkpoint, seed 3" in pages.texts(app)
    assert app.number_input(key="seed").value == 3 and app.slider(key="steps").value == 1500


def test_training_off_shows_the_note_instead_of_the_button(monkeypatch):
    app = pages.run_with_training_off(PAGE, monkeypatch, {"heads": "Trained: layer 1"})
    assert not [button for button in app.button if button.key == "retrain"]
    assert "How many of the 8 heads of the trained model score at least 0.6" in pages.texts(app)


def test_the_address_reproduces_a_view(shipped):
    query = {
        "example": EXAMPLES[1],
        "heads": "Trained: layer 2",
        "drawn": "L2 H3",
        "word": "4 · ball",
        "job": Job.PREVIOUS.label,
        "L1H2": "false",
    }
    app = pages.run_at_address(PAGE, query)
    assert app.selectbox(key="example").value == EXAMPLES[1]
    assert app.segmented_control(key="heads").value == Heads.LAYER_2
    assert app.selectbox(key="drawn").value == "L2 H3"
    assert app.selectbox(key="word").value == "4 · ball"
    assert app.radio(key="job").value == Job.PREVIOUS
    assert app.toggle(key="L1H2").value is False
    tokens = toy_tokens(EXAMPLES[1]).tokens
    before, after = answer_probabilities(ablate(shipped, tokens, Job.PREVIOUS, 4, {(0, 1)}), tokens)
    assert f"probability **{before:.2f}**; with L1 H2 off it gives **{after:.2f}**" in pages.texts(
        app
    )


def test_a_hostile_address_opens_the_page_with_defaults_and_notes():
    query = {
        "heads": "<script>alert(1)</script>",
        "example": "nope",
        "L1H1": "maybe",
        "drawn": "everything",
        "explain": "x" * 300,
    }
    app, notes = pages.run_at_hostile_address(PAGE, query, notes=5)
    assert (
        "The link set **Heads** to “\\<script\\>alert\\(1\\)\\</script\\>”, which is not one "
        "of Hand-set, Trained: layer 1, Trained: layer 2. The page uses **Hand\\-set**."
    ) in notes
    assert app.segmented_control(key="heads").value == Heads.HAND
    assert app.selectbox(key="example").value == EXAMPLES[0]
    assert app.toggle(key="L1H1").value is True
    assert len(pages.charts(app)) == HAND_CHARTS


def test_reset_puts_every_control_back():
    app = pages.run_page(PAGE, query={"heads": "Trained: layer 2", "drawn": "L2 H1"})
    app.toggle(key="L2H2").set_value(False).run()
    app.button(key="reset_page").click().run()
    pages.assert_clean(app)
    assert app.segmented_control(key="heads").value == Heads.HAND
    assert app.selectbox(key="drawn").value == "all heads"
    assert app.toggle(key="L2H2").value is True


def check(app, key: str, answer: str):
    """Answer exercise ``key`` and press its Check button."""
    field = app.get_by_key(f"answer_{key}")
    field.set_value(answer)
    app.button(key=f"FormSubmitter:exercise_{key}-Check").click().run()
    return app


def test_exercises_check_answers_computed_from_the_screen(app, shipped):
    items = {
        item.key: item
        for item in page_exercises(toy_tokens(EXAMPLES[0]).tokens, shipped, can_train=True)
    }
    assert list(items) == ["ambiguous", "same_word", "previous_head", "knockout", "retrain"]
    same = items["same_word"].answer
    check(app, "same_word", same.options[same.correct])
    assert "Right." in [item.value for item in app.success]
    check(app, "previous_head", "L1 H1")
    assert any(item.value.startswith("Not this one") for item in app.error)
    tokens = toy_tokens(EXAMPLES[0]).tokens
    pair = best_head(shipped, Pattern.PREVIOUS)
    _, at_on = answer_probabilities(ablate(shipped, tokens, Job.PREVIOUS, 3, {pair}), tokens)
    check(app, "knockout", f"{at_on:.2f}")
    check(app, "retrain", "banana")
    assert "That is not a number" in " ".join(item.value for item in app.warning)
    check(app, "retrain", "3")  # L1 H1, L1 H2 and L1 H3 reach 0.6
    successes = [item.value for item in app.success]
    assert successes.count("Right.") == 3
