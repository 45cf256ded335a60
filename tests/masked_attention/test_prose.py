"""lab.masked_attention.prose: every sentence the page builds from numbers says what the numbers say."""

from __future__ import annotations

import numpy as np
import pytest

import lab.masked_attention as masked
from lab.masked_attention import MaskingMethod, MaskKind, PaddingSide, Precision, prose
from tests.masked_attention.examples import SENTENCES


def attention_of(kind, side=PaddingSide.RIGHT, sentences=SENTENCES):
    return masked.batch_attention(
        masked.pad_batch(sentences, padding_side=side),
        kind,
        masked.MaskingConfig(padding_side=side),
    )


def test_fill_label():
    assert [prose.fill_label(value) for value in (-1e9, -1e6, -1e4, -np.inf)] == [
        "-1e9",
        "-1e6",
        "-10000",
        "-inf",
    ]


def test_positions_text():
    assert prose.positions_text([2, 3, 4, 7]) == "2–4 and 7"
    assert prose.positions_text([5]) == "5"
    assert prose.positions_text([0, 2, 4]) == "0, 2 and 4"
    with pytest.raises(ValueError) as error:
        prose.positions_text([])
    assert str(error.value) == "positions_text needs at least one position"


def test_sentence_labels_and_following_a_number():
    assert prose.sentence_label(("dogs", "bark", "<pad>"), 1) == "Sentence 2: dogs bark"
    assert prose.sentence_label(("<pad>",) * 3, 0) == "Sentence 1: (empty)"
    assert prose.sentence_label(("word",) * 8, 0) == "Sentence 1: " + ("word " * 6)[:27] + "…"
    labels = ["Sentence 1: one", "Sentence 2: two"]
    assert prose.same_sentence(labels, "Sentence 2: dogs bark") == "Sentence 2: two"
    assert prose.same_sentence(labels, "Sentence 4: gone") is None
    assert prose.same_sentence(labels, "<script>") is None


def test_glance_states_the_share_on_padding_the_data_gives():
    none = attention_of(MaskKind.NONE)
    share = none.weight_on_padding[1][none.batch.real[1]].max()
    text = prose.glance(none, 1)
    assert text.startswith("**Mask: none.** Sentence 2 (*dogs bark*) has 2 real tokens and 4 ×")
    assert f"put up to **{share:.1%}** of their attention" in text
    assert "Grey cells" not in text  # nothing is masked under none
    padding = prose.glance(attention_of(MaskKind.PADDING), 1)
    assert "Its real words put **exactly 0** weight on `<pad>`." in padding
    assert "Grey cells with a × are masked" in padding


def test_sentence_notes_under_each_mask():
    notes = prose.sentence_notes(attention_of(MaskKind.PADDING), 1)
    assert notes[:2] == ["**Sentence 2**: *dogs bark*", "2 real tokens, 4 × `<pad>`."]
    assert "**Rows 2–5** are `<pad>` queries" in notes[2]
    assert "no real query gives them any weight" in notes[2]
    assert (
        notes[3] == "The real words put exactly **0** weight on `<pad>`: the padding mask hides it."
    )
    none = attention_of(MaskKind.NONE)
    share = none.weight_on_padding[1][none.batch.real[1]].max()
    text = "\n".join(prose.sentence_notes(none, 1))
    assert "the real words *can* read the padding" in text
    assert f"up to **{share:.1%}** of their attention" in text
    causal_right = "\n".join(prose.sentence_notes(attention_of(MaskKind.CAUSAL), 1))
    assert "the padding comes after them and the causal mask hides the future" in causal_right
    causal_left = "\n".join(
        prose.sentence_notes(attention_of(MaskKind.CAUSAL, PaddingSide.LEFT), 1)
    )
    assert "the causal mask does not hide it" in causal_left
    both_left = attention_of(MaskKind.PADDING_AND_CAUSAL, PaddingSide.LEFT)
    assert both_left.fully_masked[1].tolist() == [True] * 4 + [False] * 2
    assert "**Rows 0–3** may look at no key at all: left padding puts" in "\n".join(
        prose.sentence_notes(both_left, 1)
    )


def test_sentence_notes_of_an_empty_sentence():
    sentences = (("the", "cat"), ())
    for kind in MaskKind:
        text = "\n".join(prose.sentence_notes(attention_of(kind, sentences=sentences), 1))
        assert "**Sentence 2** is empty" in text
        if kind.padding:
            assert "**Rows 0–1** may look at no key at all: the sentence has no real token" in text
        else:
            assert "It has no real word at all" in text
            assert "are `<pad>` queries" not in text  # said once, not twice


def test_leakage_lines_follow_the_probe():
    batch = masked.pad_batch(SENTENCES)
    probe = masked.leakage_probe(batch, 0, 5, "dog")
    text = prose.leakage_lines(probe, batch.real[0], MaskKind.CAUSAL)
    moved = probe.max_earlier(MaskKind.NONE)
    assert text.splitlines() == [
        f"- *none*: the earlier positions (5) moved by up to **{moved:.3g}**",
        f"- *padding*: the earlier positions (5) moved by up to **{moved:.3g}**",
        "- ▶ *causal*: the earlier positions (5) changed by **exactly 0**",
        "- *padding + causal*: the earlier positions (5) changed by **exactly 0**",
    ]
    pad = masked.leakage_probe(batch, 1, 4, "zebra")
    text = prose.leakage_lines(pad, batch.real[1], MaskKind.PADDING)
    assert "- ▶ *padding*: the real words (2) changed by **exactly 0**" in text
    first = masked.leakage_probe(masked.pad_batch([("hello",), ("world",)]), 0, 0, "hi")
    assert prose.leakage_lines(first, [True], MaskKind.PADDING).startswith(
        "There is no earlier position"
    )


def test_method_titles_and_verdicts_follow_the_results():
    scores = np.array([[2.0, 1.0, -1.0], [0.5, 0.1, 0.3]])
    allowed = np.array([[True, True, False], [False, False, False]])
    results = masked.compare_masking_methods(scores, allowed)
    titles = [prose.method_title(result, -1e9, Precision.FLOAT32) for result in results]
    assert titles == [
        "✓  −inf, then a safe softmax (what lab does)",
        "✗  −inf, then a plain softmax",
        "✗  fill with -1e9 in float32",
        "✗  softmax first, then × mask",
    ]
    verdicts = [prose.method_verdict(result) for result in results]
    assert verdicts[0].endswith("Rows with no allowed key: **all zeros**, output 0.")
    assert "**NaN**" in verdicts[1]
    assert "**uniform**, 1/3 = 0.333 on every key" in verdicts[2]
    sums = results[3].row_sums[:1]
    assert verdicts[3].startswith(f"Rows with an allowed key sum to **{sums.min():.3f}–")
    assert "all zeros, by accident" in verdicts[3]
    same = prose.method_verdict(results[2], same_as_minus_inf=True)
    assert "the very same weights as −∞ in this precision." in same
    # With no empty row the fill is right on every row, and the title says so.
    ordinary = masked.compare_masking_methods(scores[:1], allowed[:1])
    assert prose.method_title(ordinary[2], -1e9, Precision.FLOAT32).startswith("✓")
    assert "No row is fully masked here" in prose.method_verdict(ordinary[2])


def test_tables_and_caption():
    scores = np.array([[2.0, 1.0, -1.0], [0.5, 0.1, 0.3]])
    allowed = np.array([[True, True, False], [False, False, False]])
    results = masked.compare_masking_methods(scores, allowed, dtype=np.float16)
    table = prose.row_sums_table(results, ["a", "b"], -1e9, Precision.FLOAT16)
    assert list(table) == [
        "query",
        "keys allowed",
        "✓ −inf, safe softmax",
        "✗ −inf, plain softmax",
        "✗ -1e9 fill, float16",
        "✗ softmax × mask",
    ]
    assert table["query"] == ["0 · a", "1 · b"] and table["keys allowed"] == [2, 0]
    assert table["✓ −inf, safe softmax"] == ["1.0000", "0.0000"]
    assert table["✗ -1e9 fill, float16"][1] == "NaN"
    assert prose.right_ways_caption(results, -1e9, Precision.FLOAT16).endswith(
        "Right on every row of this sentence (✓): −inf, safe softmax."
    )
    storage = prose.fill_storage_table([-1e9, -1e4, -np.inf])
    assert storage == {
        "fill value": ["-1e9", "-10000", "-inf"],
        "stored in float32": ["-1e9", "-10000", "-inf"],
        "stored in float16": ["-inf", "-10000", "-inf"],
    }


def test_wrong_ways_view():
    attention = attention_of(MaskKind.PADDING)
    view = prose.wrong_ways_view(attention, 1, -1e9, Precision.FLOAT32, True)
    assert [result.method for result in view.results] == list(MaskingMethod)
    assert view.titles[0].startswith("✓") and view.titles[2] == "✗  fill with -1e9 in float32"
    assert "the very same weights as −∞ in this precision" in view.verdicts[2]
    assert "the very same weights" not in view.verdicts[1]
    assert view.intro.startswith("The same scaled scores of sentence 2, mask *padding* with")
    assert view.row_sums["query"][0] == "0 · dogs"
    assert view.caption.endswith("(✓): −inf, safe softmax.")
    assert prose.wrong_ways_view(attention, 0, -1e9, Precision.FLOAT32, False) is None
