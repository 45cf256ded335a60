"""The masked-attention page under AppTest: defaults, every mask, odd batches, its address, exercises."""

from __future__ import annotations

import inspect
import json

import pytest

import lab.masked_attention as masked
import tests.apptest_util as pages
from lab import attention as lab_attention
from lab.masked_attention import MaskKind, PaddingSide, Precision
from lab.masked_attention.torch_masks import torch_masked_attention, torch_multihead_attention

PAGE = "demos/masked_attention.py"
DEFAULTS = (
    ("the", "cat", "sat", "on", "the", "mat"),
    ("dogs", "bark"),
    ("a", "small", "bird", "sings"),
)
# grid, key padding mask, the first screen's weights, 3 × (mask + weights), leakage, 4 wrong ways
DEFAULT_CHARTS = 2 + 1 + 3 * 2 + 1 + 4


app = pages.page_fixture(PAGE)


def set_sentences(app, *sentences: str):
    app.segmented_control(key="sentences").set_value(len(sentences)).run()
    for index, sentence in enumerate(sentences):
        app.text_input(key=f"sentence_{index + 1}").set_value(sentence)
    return app.run()


def test_default_page_shows_every_section(app):
    pages.assert_clean(app)
    assert app.title[0].value == "Masked attention"
    assert app.segmented_control(key="mask").value is MaskKind.PADDING
    assert app.segmented_control(key="side").value is PaddingSide.RIGHT
    assert app.segmented_control(key="sentences").value == 3
    assert len(pages.charts(app)) == DEFAULT_CHARTS
    headers = [header.value for header in app.header]
    assert [header[:3] for header in headers] == ["1 ·", "2 ·", "3 ·", "4 ·"]
    assert len(app.latex) >= 1
    subheaders = [item.value for item in app.subheader]
    assert "What to notice" in subheaders and "Try this" in subheaders
    page_text = pages.texts(app)
    assert "valid_lens = [6, 2, 4]" in page_text
    # Leakage at the defaults: the last word of sentence 1, numbers for every mask.
    assert "*causal*: the earlier positions (5) changed by **exactly 0**" in page_text
    assert "*none*: the earlier positions (5) moved by up to" in page_text
    # The wrong ways at the defaults already show each failure.
    assert "**NaN**" in page_text and "**uniform**" in page_text and "not 1" in page_text


def test_the_first_screen_states_the_point_with_the_data(app):
    attention = masked.batch_attention(masked.pad_batch(DEFAULTS), MaskKind.PADDING)
    assert masked.prose.glance(attention, 1) in pages.texts(app)
    assert json.loads(pages.charts(app)[0].proto.spec)["title"] == (
        "Weights, sentence 2, mask padding (6 × 6)"
    )
    app.segmented_control(key="mask").set_value(MaskKind.NONE).run()
    none = masked.batch_attention(masked.pad_batch(DEFAULTS), MaskKind.NONE)
    share = none.weight_on_padding[1][none.batch.real[1]].max()
    assert f"Its real words put up to **{share:.1%}** of their attention" in pages.texts(app)


def test_the_code_shown_is_the_code_that_runs(app):
    shown = [item.value for item in app.code]
    for function in (
        torch_masked_attention,
        torch_multihead_attention,
        lab_attention._safe_softmax,
        lab_attention.masked_softmax,
    ):
        assert inspect.getsource(function).rstrip("\n") in shown


def test_the_accuracy_claims_are_on_the_page(app):
    page_text = pages.texts(app)
    for claim in (
        masked.prose.WRONG_WAYS_INTRO,
        masked.prose.HALF_PRECISION,
        masked.prose.TORCH_EMPTY_ROWS,
    ):
        assert claim in page_text  # each one checked against torch in the unit tests
    assert "`need_weights=True`, its default" in masked.prose.TORCH_EMPTY_ROWS
    assert "key_padding_mask` and boolean `attn_mask` mean the opposite" in page_text


@pytest.mark.parametrize("side", list(PaddingSide))
def test_every_mask_on_either_side(app, side):
    app.segmented_control(key="side").set_value(side).run()
    for kind in MaskKind:
        app.segmented_control(key="mask").set_value(kind).run()
        pages.assert_clean(app)
        assert len(pages.charts(app)) >= 2 + 1 + 3 * 2 + 1
        assert f"**Mask: {kind.value}.**" in pages.texts(app)


def test_left_padding_with_padding_and_causal_explains_the_empty_pad_rows(app):
    app.segmented_control(key="mask").set_value(MaskKind.PADDING_AND_CAUSAL)
    app.segmented_control(key="side").set_value(PaddingSide.LEFT).run()
    pages.assert_clean(app)
    assert "left padding puts these `<pad>` queries before every real word" in pages.texts(app)


def test_left_padding_with_causal_alone_lets_the_words_read_the_padding(app):
    app.segmented_control(key="mask").set_value(MaskKind.CAUSAL)
    app.segmented_control(key="side").set_value(PaddingSide.LEFT).run()
    pages.assert_clean(app)
    assert "the causal mask does not hide it" in pages.texts(app)


@pytest.mark.parametrize("size", [2, 4])
def test_batch_sizes(app, size):
    app.segmented_control(key="sentences").set_value(size).run()
    pages.assert_clean(app)
    assert len(app.text_input) == size + 1 + 1  # the sentences, the new token, an answer box
    assert len(pages.charts(app)) == 2 + 1 + size * 2 + 1 + 4


def test_a_sentence_with_no_token_explains_its_rows(app):
    set_sentences(app, "the cat sat", "", "a bird")
    for kind in MaskKind:
        app.segmented_control(key="mask").set_value(kind).run()
        pages.assert_clean(app)
        page_text = pages.texts(app)
        assert "Sentence 2** is empty" in page_text
        assert "Empty: all `<pad>`, valid length 0." in page_text
        if kind.padding:
            assert "may look at no key at all" in page_text
            assert "the sentence has no real token" in page_text
        else:
            assert "It has no real word at all" in page_text


def test_every_sentence_empty_shows_a_message_and_no_chart(app):
    set_sentences(app, "", "   ")
    pages.assert_clean(app)
    assert "Every sentence is empty" in pages.texts(app)
    assert pages.charts(app) == []


def test_one_word_sentences(app):
    set_sentences(app, "hello", "world")
    pages.assert_clean(app)
    assert "valid_lens = [1, 1]" in pages.texts(app)
    assert "no earlier position and no other real word" in pages.texts(app)
    assert pages.charts(app)
    # No sentence is shorter than another: the exercises that need padding say to reset.
    assert "Press **Reset this page** first" in " ".join(item.value for item in app.markdown)


def test_a_very_long_sentence_is_cut_with_a_warning(app):
    set_sentences(app, " ".join(["word"] * 50), "short one")
    pages.assert_clean(app)
    assert any("50 tokens" in item.value for item in app.warning)
    assert "(B, S) = (2, 10)" in pages.texts(app)


@pytest.mark.parametrize(
    "sentence",
    [
        "<pad> <pad>",
        *pages.ODD_TEXTS,
        "**not bold** [x](y) $x$",
    ],
)
def test_odd_sentences(app, sentence):
    set_sentences(app, sentence, "dogs bark")
    pages.assert_typed_text_shown_safely(app)


@pytest.mark.parametrize(("d_model", "seed"), [(1, 0), (16, 9999)])
def test_embedding_size_and_seed_at_their_extremes(app, d_model, seed):
    app.slider(key="d").set_value(d_model)
    app.number_input(key="seed").set_value(seed).run()
    pages.assert_clean(app)
    assert len(pages.charts(app)) == DEFAULT_CHARTS


def test_leakage_of_a_changed_pad_token(app):
    app.selectbox(key="edit").select_index(1).run()
    # Changing the sentence moves the position to its last real word ...
    assert app.selectbox(key="position").value == "1 · bark"
    # ... and a <pad> can be changed instead: only the padding mask protects the words.
    app.selectbox(key="position").set_value("4 · <pad>").run()
    pages.assert_clean(app)
    page_text = pages.texts(app)
    assert "▶ *padding*: the real words (2) changed by **exactly 0**" in page_text
    assert "*none*: the real words (2) moved by up to" in page_text


def test_leakage_position_follows_the_padding_side(app):
    app.segmented_control(key="side").set_value(PaddingSide.LEFT).run()
    app.selectbox(key="edit").select_index(2).run()
    assert app.selectbox(key="position").value == "5 · sings"
    app.segmented_control(key="side").set_value(PaddingSide.RIGHT).run()
    pages.assert_clean(app)
    # The old label no longer exists ("5 · <pad>" now): back to the last real word.
    assert app.selectbox(key="position").value == "3 · sings"
    assert app.selectbox(key="edit").value.startswith("Sentence 3:")


def test_editing_the_chosen_sentence_keeps_it_chosen(app):
    app.selectbox(key="edit").select_index(1).run()
    app.text_input(key="sentence_2").set_value("cats purr loudly").run()
    pages.assert_clean(app)
    assert app.selectbox(key="edit").value == "Sentence 2: cats purr loudly"
    assert app.selectbox(key="position").value == "2 · loudly"


def test_leakage_word_that_is_empty_or_already_there(app):
    app.text_input(key="token").set_value("  ").run()
    pages.assert_clean(app)
    assert "Type a word" in pages.texts(app)
    app.text_input(key="token").set_value("MAT").run()
    pages.assert_clean(app)
    assert "is already at position 5" in pages.texts(app)
    app.text_input(key="token").set_value("two words").run()
    pages.assert_clean(app)
    assert "Only one token is swapped in" in pages.texts(app)


def test_choices_stay_valid_when_the_batch_shrinks(app):
    app.segmented_control(key="sentences").set_value(4).run()
    app.selectbox(key="edit").select_index(3).run()
    app.selectbox(key="scores").select_index(3).run()
    set_sentences(app, "one", "two")
    pages.assert_clean(app)
    assert app.selectbox(key="edit").value == "Sentence 1: one"
    assert app.selectbox(key="position").value == "0 · one"
    # Sentence 4 is gone: the choice fell back to the sentence with the most padding
    # ("dogs bark", sentence 2 while the batch shrank), and kept its number after the edit.
    assert app.selectbox(key="scores").value == "Sentence 2: two"


@pytest.mark.parametrize("precision", list(Precision))
def test_wrong_ways_with_every_fill_and_precision(app, precision):
    app.segmented_control(key="precision").set_value(precision).run()
    for fill in (-1e9, -1e6, -1e4):  # the wrong-way fills the page offers, on purpose
        app.segmented_control(key="fill").set_value(fill).run()
        pages.assert_clean(app)
        page_text = pages.texts(app)
        if precision is Precision.FLOAT16 and fill < -65504:
            # The fill overflowed to -inf, so its empty rows are NaN like the plain softmax.
            assert page_text.count("Rows with no allowed key: **NaN**") == 2
        else:
            assert "**uniform**" in page_text
        assert "Right on every row of this sentence (✓): −inf, safe softmax." in page_text
        # On the rows with an allowed key every fill gives the weights of -inf exactly.
        assert "the very same weights as −∞ in this precision" in page_text


def test_wrong_ways_without_empty_rows_or_without_any_mask(app):
    app.toggle(key="pad_rows").set_value(False).run()
    pages.assert_clean(app)
    assert "No row is fully masked here" in pages.texts(app)
    # With no empty row, -1e9 is right on every row of this sentence, and the title says so.
    titles = [json.loads(chart.proto.spec)["title"] for chart in pages.charts(app)]
    assert "✓  fill with -1e9 in float32" in titles
    app.segmented_control(key="mask").set_value(MaskKind.NONE).run()
    pages.assert_clean(app)
    assert "nothing is masked in this sentence" in pages.texts(app)
    assert len(pages.charts(app)) == 2 + 1 + 3 * 2 + 1  # no wrong-way charts to compare


def test_wrong_ways_on_a_sentence_without_padding(app):
    app.selectbox(key="scores").select_index(0).run()
    pages.assert_clean(app)
    # "the cat sat on the mat" is the longest: with the padding mask nothing is masked.
    assert "nothing is masked in this sentence" in pages.texts(app)
    app.segmented_control(key="mask").set_value(MaskKind.CAUSAL).run()
    pages.assert_clean(app)
    assert "No row is fully masked here" in pages.texts(app)


def test_the_address_reproduces_a_view():
    query = {
        "mask": "causal",
        "side": "left",
        "d": "8",
        "seed": "42",
        "sentences": "2",
        "sentence_1": "the dog ran home",
        "sentence_2": "it slept",
        "edit": "Sentence 2: it slept",
        "precision": "float16",
        "fill": "-10000",
    }
    app = pages.run_at_address(PAGE, query)
    assert app.segmented_control(key="mask").value is MaskKind.CAUSAL
    assert app.segmented_control(key="side").value is PaddingSide.LEFT
    assert app.slider(key="d").value == 8 and app.number_input(key="seed").value == 42
    assert app.text_input(key="sentence_2").value == "it slept"
    assert app.selectbox(key="edit").value == "Sentence 2: it slept"
    assert app.selectbox(key="position").value == "3 · slept"  # its last word, on the left
    assert app.segmented_control(key="precision").value is Precision.FLOAT16
    assert app.segmented_control(key="fill").value == -1e4
    # A number on the page is the lab's for exactly this view.
    config = masked.MaskingConfig(d_model=8, seed=42, padding_side=PaddingSide.LEFT)
    batch = masked.pad_batch((("the", "dog", "ran", "home"), ("it", "slept")), padding_side="left")
    probe = masked.leakage_probe(batch, 1, 3, "dog", config)
    moved = probe.max_earlier(MaskKind.NONE)
    assert f"*none*: the earlier positions (3) moved by up to **{moved:.3g}**" in pages.texts(app)
    attention = masked.batch_attention(batch, MaskKind.CAUSAL, config)
    share = attention.weight_on_padding[1][batch.real[1]].max()
    assert f"up to **{share:.1%}** of their attention" in pages.texts(app)


def test_a_hostile_address_opens_the_page_with_defaults_and_notes():
    query = {
        "mask": "lookahead",
        "side": "middle",
        "d": "99",
        "seed": "abc",
        "sentences": "7",
        "sentence_1": "x" * 500,
        "edit": "<script>alert(1)</script>",
        "fill": "-1e99",
        "precision": "float8",
        "pad_rows": "maybe",
    }
    app, notes = pages.run_at_hostile_address(PAGE, query, notes=len(query))
    assert notes[0] == (
        "The link set **Mask** to “lookahead”, which is not one of none, padding, causal, "
        "padding + causal. The page uses **padding**."
    )
    assert app.segmented_control(key="mask").value is MaskKind.PADDING
    assert app.slider(key="d").value == 4 and app.number_input(key="seed").value == 0
    assert app.segmented_control(key="sentences").value == 3
    # Text longer than its box is cut to the box's limit (and said so in a note).
    assert app.text_input(key="sentence_1").value == "x" * 300
    assert app.selectbox(key="edit").value == "Sentence 1: " + "x" * 27 + "…"
    assert app.segmented_control(key="fill").value == -1e9
    assert app.toggle(key="pad_rows").value is True
    assert len(pages.charts(app)) == DEFAULT_CHARTS


def test_reset_puts_every_control_back():
    app = pages.run_page(PAGE, query={"d": "9", "mask": "none", "fill": "-1e6"})
    app.text_input(key="sentence_1").set_value("a b c").run()
    app.button(key="reset_page").click().run()
    pages.assert_clean(app)
    assert app.slider(key="d").value == 4
    assert app.segmented_control(key="mask").value is MaskKind.PADDING
    assert app.segmented_control(key="fill").value == -1e9
    assert app.text_input(key="sentence_1").value == "the cat sat on the mat"


def answer(app, key: str, value: str):
    box = app.text_input(key=f"answer_{key}") if key == "share" else app.radio(key=f"answer_{key}")
    box.set_value(value)
    app.button(key=f"FormSubmitter:exercise_{key}-Check").click().run()
    return app


def test_exercises_check_answers_computed_from_the_screen(app):
    none = masked.batch_attention(masked.pad_batch(DEFAULTS), MaskKind.NONE)
    share = none.weight_on_padding[1][none.batch.real[1]].max()
    answer(app, "share", f"{share:.1%}")
    pages.assert_clean(app)
    assert "Right." in [item.value for item in app.success]
    answer(app, "last_word", "*causal* and *padding + causal*")
    answer(app, "pad_token", "Safe on the right, not on the left")
    answer(app, "empty", "*padding*: all zeros · *none*: uniform, 1/6 on every `<pad>` key")
    answer(app, "float16", "-1e9: NaN · -10000: uniform")
    assert [item.value for item in app.success] == ["Right."] * 5
    answer(app, "float16", "NaN with both")
    assert any(item.value.startswith("Not this one") for item in app.error)
    answer(app, "share", "banana")
    assert "That is not a number" in " ".join(item.value for item in app.warning)
    # A new seed changes the share: the answer given before is re-checked against it.
    answer(app, "share", f"{share:.1%}")
    app.number_input(key="seed").set_value(3).run()
    moved = masked.batch_attention(
        masked.pad_batch(DEFAULTS), MaskKind.NONE, masked.MaskingConfig(seed=3)
    )
    new_share = moved.weight_on_padding[1][moved.batch.real[1]].max()
    assert abs(new_share - share) > 0.001
    assert any(item.value.startswith("Not quite") for item in app.error)
