"""The masked-attention page under AppTest: defaults, every mask, odd batches, every widget."""

from __future__ import annotations

import pytest

from tests.apptest_util import assert_clean, charts, run_page, texts

PAGE = "demos/masked_attention.py"


@pytest.fixture
def app():
    return run_page(PAGE)


def set_sentences(app, *sentences: str):
    app.segmented_control(key="ma_batch").set_value(len(sentences)).run()
    for index, sentence in enumerate(sentences):
        app.text_input(key=f"ma_sentence_{index}").set_value(sentence)
    return app.run()


def test_default_page_shows_every_section(app):
    assert_clean(app)
    assert app.title[0].value == "Masked attention"
    assert app.segmented_control(key="ma_kind").value == "padding"
    assert app.segmented_control(key="ma_batch").value == 3
    # grid + key padding mask, 3 × (mask + weights), leakage, 4 wrong ways
    assert len(charts(app)) == 2 + 3 * 2 + 1 + 4
    headers = [header.value for header in app.header]
    assert [header[:3] for header in headers] == ["1 ·", "2 ·", "3 ·", "4 ·"]
    assert len(app.latex) >= 1
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders
    page_text = texts(app)
    assert "valid_lens = [6, 2, 4]" in page_text
    # Leakage at the defaults: the last word of sentence 1, numbers for every mask.
    assert "*causal*: the earlier positions (5) changed by **exactly 0**" in page_text
    assert "*none*: the earlier positions (5) moved by up to" in page_text
    # The wrong ways at the defaults already show each failure.
    assert "**NaN**" in page_text and "**uniform**" in page_text and "not 1" in page_text


KINDS = ["none", "padding", "causal", "padding + causal"]


@pytest.mark.parametrize("side", ["right", "left"])
def test_every_mask_on_either_side(app, side):
    app.segmented_control(key="ma_side").set_value(side).run()
    for kind in KINDS:
        app.segmented_control(key="ma_kind").set_value(kind).run()
        assert_clean(app)
        assert len(charts(app)) >= 2 + 3 * 2 + 1
        assert f"**Mask: {kind}.**" in texts(app)


def test_left_padding_with_padding_and_causal_explains_the_empty_pad_rows(app):
    app.segmented_control(key="ma_kind").set_value("padding + causal")
    app.segmented_control(key="ma_side").set_value("left").run()
    assert_clean(app)
    assert "left padding puts these `<pad>` queries before every real word" in texts(app)


def test_left_padding_with_causal_alone_lets_the_words_read_the_padding(app):
    app.segmented_control(key="ma_kind").set_value("causal")
    app.segmented_control(key="ma_side").set_value("left").run()
    assert_clean(app)
    assert "the causal mask does not hide it" in texts(app)


@pytest.mark.parametrize("size", [2, 4])
def test_batch_sizes(app, size):
    app.segmented_control(key="ma_batch").set_value(size).run()
    assert_clean(app)
    assert len(app.text_input) == size + 1  # the sentences and the leakage word
    assert len(charts(app)) == 2 + size * 2 + 1 + 4


def test_a_sentence_with_no_token_explains_its_rows(app):
    set_sentences(app, "the cat sat", "", "a bird")
    for kind in KINDS:
        app.segmented_control(key="ma_kind").set_value(kind).run()
        assert_clean(app)
        page_text = texts(app)
        assert "Sentence 2** is empty" in page_text
        if "padding" in kind:
            assert "may look at no key at all" in page_text
            assert "the sentence has no real token" in page_text
        else:
            assert "It has no real word at all" in page_text


def test_every_sentence_empty_shows_a_message_and_no_chart(app):
    set_sentences(app, "", "   ")
    assert_clean(app)
    assert "Every sentence is empty" in texts(app)
    assert charts(app) == []


def test_one_word_sentences(app):
    set_sentences(app, "hello", "world")
    assert_clean(app)
    assert "valid_lens = [1, 1]" in texts(app)
    assert "no earlier position and no other real word" in texts(app)
    assert charts(app)


def test_a_very_long_sentence_is_cut_with_a_warning(app):
    set_sentences(app, " ".join(["word"] * 50), "short one")
    assert_clean(app)
    assert any("50 tokens" in item.value for item in app.warning)
    assert "(B, S) = (2, 10)" in texts(app)


@pytest.mark.parametrize(
    "sentence",
    [
        "<pad> <pad>",
        "Café déjà vu, naïve! 🦊🦊",
        "<script>alert('x')</script> <b>bold</b>",
        "**not bold** [x](y) $x$",
    ],
)
def test_odd_sentences(app, sentence):
    set_sentences(app, sentence, "dogs bark")
    assert_clean(app)
    assert charts(app)
    assert not any(getattr(item, "allow_html", False) for item in app.markdown)


@pytest.mark.parametrize(("d_model", "seed"), [(1, 0), (16, 9999)])
def test_embedding_size_and_seed_at_their_extremes(app, d_model, seed):
    app.slider(key="ma_d").set_value(d_model)
    app.number_input(key="ma_seed").set_value(seed).run()
    assert_clean(app)
    assert len(charts(app)) == 13


def test_leakage_of_a_changed_pad_token(app):
    app.selectbox(key="ma_leak_sentence").select_index(1).run()
    # Changing the sentence moves the position to its last real word ...
    assert app.selectbox(key="ma_leak_position").value == "1 · bark"
    # ... and a <pad> can be changed instead: only the padding mask protects the words.
    app.selectbox(key="ma_leak_position").set_value("4 · <pad>").run()
    assert_clean(app)
    page_text = texts(app)
    assert "▶ *padding*: the real words (2) changed by **exactly 0**" in page_text
    assert "*none*: the real words (2) moved by up to" in page_text


def test_leakage_position_follows_the_padding_side(app):
    app.segmented_control(key="ma_side").set_value("left").run()
    app.selectbox(key="ma_leak_sentence").select_index(2).run()
    assert app.selectbox(key="ma_leak_position").value == "5 · sings"
    app.segmented_control(key="ma_side").set_value("right").run()
    assert_clean(app)
    # The old label no longer exists ("5 · <pad>" now): back to the last real word.
    assert app.selectbox(key="ma_leak_position").value == "3 · sings"
    assert app.selectbox(key="ma_leak_sentence").value.startswith("Sentence 3:")


def test_editing_the_chosen_sentence_keeps_it_chosen(app):
    app.selectbox(key="ma_leak_sentence").select_index(1).run()
    app.text_input(key="ma_sentence_1").set_value("cats purr loudly").run()
    assert_clean(app)
    assert app.selectbox(key="ma_leak_sentence").value == "Sentence 2: cats purr loudly"
    assert app.selectbox(key="ma_leak_position").value == "2 · loudly"


def test_leakage_word_that_is_empty_or_already_there(app):
    app.text_input(key="ma_leak_word").set_value("  ").run()
    assert_clean(app)
    assert "Type a word" in texts(app)
    app.text_input(key="ma_leak_word").set_value("MAT").run()
    assert_clean(app)
    assert "is already at position 5" in texts(app)
    app.text_input(key="ma_leak_word").set_value("two words").run()
    assert_clean(app)
    assert "Only one token is swapped in" in texts(app)


def test_choices_stay_valid_when_the_batch_shrinks(app):
    app.segmented_control(key="ma_batch").set_value(4).run()
    app.selectbox(key="ma_leak_sentence").select_index(3).run()
    app.selectbox(key="ma_wrong_sentence").select_index(3).run()
    set_sentences(app, "one", "two")
    assert_clean(app)
    assert app.selectbox(key="ma_leak_sentence").value == "Sentence 1: one"
    assert app.selectbox(key="ma_leak_position").value == "0 · one"
    # Sentence 4 is gone: the choice fell back to the sentence with the most padding
    # ("dogs bark", sentence 2 while the batch shrank), and kept its number after the edit.
    assert app.selectbox(key="ma_wrong_sentence").value == "Sentence 2: two"


@pytest.mark.parametrize("precision", ["float32", "float16"])
def test_wrong_ways_with_every_fill_and_precision(app, precision):
    app.segmented_control(key="ma_wrong_dtype").set_value(precision).run()
    for fill in (-1e9, -1e6, -1e4):  # the wrong-way fills the page offers, on purpose
        app.selectbox(key="ma_wrong_fill").set_value(fill).run()
        assert_clean(app)
        page_text = texts(app)
        if precision == "float16" and fill < -65504:
            # The fill overflowed to -inf, so its empty rows are NaN like the plain softmax.
            assert page_text.count("Rows with no allowed key: **NaN**") == 2
        else:
            assert "**uniform**" in page_text
        assert "Right on every row of this sentence: −inf, safe softmax." in page_text


def test_wrong_ways_without_empty_rows_or_without_any_mask(app):
    app.toggle(key="ma_wrong_rows").set_value(False).run()
    assert_clean(app)
    assert "No row is fully masked here" in texts(app)
    app.segmented_control(key="ma_kind").set_value("none").run()
    assert_clean(app)
    assert "nothing is masked in this sentence" in texts(app)
    assert len(charts(app)) == 2 + 3 * 2 + 1  # no wrong-way charts to compare


def test_wrong_ways_on_a_sentence_without_padding(app):
    app.selectbox(key="ma_wrong_sentence").select_index(0).run()
    assert_clean(app)
    # "the cat sat on the mat" is the longest: with the padding mask nothing is masked.
    assert "nothing is masked in this sentence" in texts(app)
    app.segmented_control(key="ma_kind").set_value("causal").run()
    assert_clean(app)
    assert "No row is fully masked here" in texts(app)
