"""The toy language: vocabulary, grammar, antecedents and reading typed sentences."""

from __future__ import annotations

import numpy as np
import pytest

from lab.multi_head import (
    AGREEMENT_CLASSES,
    EXAMPLES,
    KNOWN_WORDS,
    MAX_TOKENS,
    PAD,
    SPECIAL_TOKENS,
    TOKEN_IDS,
    TOKENS,
    UNK,
    VOCABULARY,
    WORD_TYPES,
    agreement,
    antecedents,
    encode,
    generate_sentence,
    generate_sentences,
    is_noun,
    is_pronoun,
    resolved_antecedent,
    toy_tokens,
    word_type,
)
from tests.multi_head.helpers import exactly


def test_vocabulary_is_consistent():
    assert len(set(TOKENS)) == len(TOKENS)
    assert all(word.word_type in WORD_TYPES for word in VOCABULARY)
    assert all(TOKENS[TOKEN_IDS[token]] == token for token in TOKENS)
    nouns = [word for word in VOCABULARY if word.word_type == "noun"]
    assert nouns and all(word.agreement in AGREEMENT_CLASSES and word.kind for word in nouns)
    # every agreement class has a pronoun and at least one noun
    for pronoun in AGREEMENT_CLASSES:
        assert is_pronoun(pronoun) and agreement(pronoun) == pronoun
        assert any(word.agreement == pronoun for word in nouns)
    assert set(KNOWN_WORDS).isdisjoint(SPECIAL_TOKENS)
    assert word_type("xylophone") == "other" and agreement("the") is None


def test_generated_sentences_follow_the_grammar():
    sentences = generate_sentences(500, seed=11)
    assert len(set(sentences)) == 500
    for sentence in sentences:
        assert 1 < len(sentence) <= MAX_TOKENS
        assert set(sentence) <= set(KNOWN_WORDS)
        assert sentence[-1] == "."
        found = antecedents(sentence)
        assert len(found) == 1  # one pronoun ...
        ((pronoun, candidates),) = found.items()
        assert len(candidates) == 1  # ... with exactly one agreeing noun before it
        assert candidates[0] < pronoun and is_noun(sentence[candidates[0]])
        # no noun after the pronoun competes with the antecedent
        assert not any(is_noun(token) for token in sentence[pronoun:])


def test_grammar_uses_both_nouns_as_referents_and_all_pronouns():
    sentences = generate_sentences(400, seed=3)
    first_noun_referred = 0
    pronouns_seen = set()
    for sentence in sentences:
        ((pronoun, (noun,)),) = antecedents(sentence).items()
        pronouns_seen.add(sentence[pronoun])
        first_noun = next(i for i, token in enumerate(sentence) if is_noun(token))
        first_noun_referred += noun == first_noun
    assert pronouns_seen == set(AGREEMENT_CLASSES)
    assert 0.3 < first_noun_referred / len(sentences) < 0.7  # subject and object both occur


def test_generation_is_reproducible_and_can_exclude():
    assert generate_sentences(50, seed=4) == generate_sentences(50, seed=4)
    assert generate_sentences(50, seed=4) != generate_sentences(50, seed=5)
    pool = set(generate_sentences(200, seed=4))
    held_out = generate_sentences(100, seed=9, exclude=pool)
    assert pool.isdisjoint(held_out)
    assert generate_sentences(0, seed=1) == []
    with pytest.raises(ValueError, match=exactly("count must be at least 0, got -1")):
        generate_sentences(-1, seed=1)
    rng = np.random.default_rng(0)
    assert all(isinstance(token, str) for token in generate_sentence(rng))


def test_examples_read_cleanly_and_only_the_last_is_ambiguous():
    for text in EXAMPLES:
        read = toy_tokens(text)
        assert read.message is None and not read.unknown
        assert read.tokens[-1] == "."
    resolved = [
        all(len(c) == 1 for c in antecedents(toy_tokens(text).tokens).values()) for text in EXAMPLES
    ]
    assert resolved == [True] * (len(EXAMPLES) - 1) + [False]


def test_antecedents_of_the_textbook_sentences():
    girl = toy_tokens("The girl sat on the mat because she was tired.").tokens
    assert antecedents(girl) == {7: (1,)}
    assert resolved_antecedent(girl, 7) == 1
    ball = toy_tokens("The dogs chased the ball and it rolled away.").tokens
    assert resolved_antecedent(ball, 6) == 4  # "it" is the ball: the dogs are "they"
    cat = toy_tokens("The cat sat on the mat because it was tired.").tokens
    assert antecedents(cat) == {7: (1, 5)}  # cat and mat both agree with "it"
    assert resolved_antecedent(cat, 7) is None
    assert antecedents(("she", "saw", "the", "girl")) == {0: ()}  # the noun comes after
    with pytest.raises(ValueError, match="not a pronoun"):
        resolved_antecedent(girl, 1)


def test_typed_sentences_are_lower_cased_and_split_from_punctuation():
    read = toy_tokens("The Girl SAT.")
    assert read.tokens == ("the", "girl", "sat", ".")
    np.testing.assert_array_equal(read.ids, [TOKEN_IDS[t] for t in read.tokens])
    assert read.message is None and read.dropped == 0


def test_unknown_words_become_unk_and_are_named_once():
    read = toy_tokens("The zebra saw the zebra, quickly")
    assert read.tokens == ("the", UNK, "saw", "the", UNK, UNK, UNK)
    assert read.typed[1] == "zebra"
    assert read.unknown == ("zebra", ",", "quickly")
    assert "“zebra”, “,”, “quickly”" in read.message
    assert UNK in read.message and str(len(KNOWN_WORDS)) in read.message
    np.testing.assert_array_equal(encode(["zebra", "the"]), [TOKEN_IDS[UNK], TOKEN_IDS["the"]])


def test_special_tokens_cannot_be_typed():
    read = toy_tokens(f"the {PAD} cat")
    assert PAD not in read.tokens and UNK in read.tokens


def test_many_unknown_words_are_summarised():
    read = toy_tokens("alpha beta gamma delta epsilon zeta eta theta")
    assert "and 2 more" in read.message


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_empty_input_gives_a_message_and_no_tokens(text):
    read = toy_tokens(text)
    assert read.is_empty and read.tokens == () and "Type a sentence" in read.message


def test_long_input_is_cut_with_a_message():
    read = toy_tokens(" ".join(["the cat"] * 10))
    assert len(read.tokens) == MAX_TOKENS and read.dropped == 20 - MAX_TOKENS
    assert "20 tokens" in read.message and "8 dropped" in read.message
    assert len(toy_tokens("the cat sat", max_tokens=2).tokens) == 2
    with pytest.raises(ValueError, match=exactly("max_tokens must be at least 1, got 0")):
        toy_tokens("the cat", max_tokens=0)
