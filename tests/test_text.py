"""Tokenizing what learners type, and showing it safely."""

from __future__ import annotations

import pytest

from lab.text import escape_markdown, position_labels, split_tokens, tokenize
from tests.refusals import assert_refuses


def test_words_and_punctuation():
    assert split_tokens("The quick brown fox!") == ["The", "quick", "brown", "fox", "!"]
    assert split_tokens("don't stop") == ["don't", "stop"]


def test_accents_and_emoji_are_tokens():
    assert split_tokens("café naïve 🦊") == ["café", "naïve", "🦊"]
    assert split_tokens("👩‍💻 codes") == ["👩‍💻", "codes"]


def test_empty_sentence_gives_a_message():
    for text in ("", "   ", "\n\t"):
        result = tokenize(text)
        assert result.is_empty and result.tokens == () and result.dropped == 0
        assert result.message == "Type a sentence (a few words) to see attention at work."


def test_long_sentence_is_cut_with_a_warning():
    result = tokenize(" ".join(f"w{i}" for i in range(30)), max_tokens=12)
    assert len(result.tokens) == 12 and result.dropped == 18
    assert "30 tokens" in result.message and "12" in result.message
    assert result.tokens[-1] == "w11"
    assert result.message == (
        "That sentence has 30 tokens; this demo keeps the first 12 so every label stays "
        "readable (18 dropped)."
    )


@pytest.mark.parametrize(
    ("max_tokens", "kept", "dropped"),
    [(1, ("a",), 2), (2, ("a", "b"), 1), (3, ("a", "b", "c"), 0), (4, ("a", "b", "c"), 0)],
)
def test_a_sentence_of_max_tokens_is_kept_whole(max_tokens, kept, dropped):
    result = tokenize("a b c", max_tokens=max_tokens)
    assert result.tokens == kept and result.dropped == dropped
    assert (result.message is None) == (dropped == 0)


def test_max_tokens_below_one_is_refused():
    assert_refuses(lambda: tokenize("a b", max_tokens=0), "max_tokens must be at least 1, got 0")


def test_short_sentence_has_no_message():
    result = tokenize("The quick brown fox")
    assert result.tokens == ("The", "quick", "brown", "fox") and result.message is None
    assert result.dropped == 0 and not result.is_empty


def test_html_is_kept_as_text_tokens():
    assert tokenize("<b>bold</b>").tokens == ("<", "b", ">", "bold", "</", "b", ">")


def test_escape_markdown_neutralises_markup():
    assert escape_markdown("**bold** <b>x</b> [a](b)") == (r"\*\*bold\*\* \<b\>x\</b\> \[a\]\(b\)")


def test_position_labels_tell_repeats_apart():
    assert position_labels(["the", "cat", "the"]) == ["0 · the", "1 · cat", "2 · the"]
