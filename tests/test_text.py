"""Tokenizing what learners type, and showing it safely."""

from __future__ import annotations

from lab.text import escape_markdown, position_labels, split_tokens, tokenize


def test_words_and_punctuation():
    assert split_tokens("The quick brown fox!") == ["The", "quick", "brown", "fox", "!"]
    assert split_tokens("don't stop") == ["don't", "stop"]


def test_accents_and_emoji_are_tokens():
    assert split_tokens("café naïve 🦊") == ["café", "naïve", "🦊"]
    assert split_tokens("👩‍💻 codes") == ["👩‍💻", "codes"]


def test_empty_sentence_gives_a_message():
    for text in ("", "   ", "\n\t"):
        result = tokenize(text)
        assert result.is_empty and result.tokens == () and "sentence" in result.message


def test_long_sentence_is_cut_with_a_warning():
    result = tokenize(" ".join(f"w{i}" for i in range(30)), max_tokens=12)
    assert len(result.tokens) == 12 and result.dropped == 18
    assert "30 tokens" in result.message and "12" in result.message
    assert result.tokens[-1] == "w11"


def test_short_sentence_has_no_message():
    result = tokenize("The quick brown fox")
    assert result.tokens == ("The", "quick", "brown", "fox") and result.message is None


def test_html_is_kept_as_text_tokens():
    assert tokenize("<b>bold</b>").tokens == ("<", "b", ">", "bold", "</", "b", ">")


def test_escape_markdown_neutralises_markup():
    assert escape_markdown("**bold** <b>x</b> [a](b)") == (r"\*\*bold\*\* \<b\>x\</b\> \[a\]\(b\)")


def test_position_labels_tell_repeats_apart():
    assert position_labels(["the", "cat", "the"]) == ["0 · the", "1 · cat", "2 · the"]
