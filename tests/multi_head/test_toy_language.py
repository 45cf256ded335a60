"""The toy language: vocabulary, grammar, antecedents and reading typed sentences."""

from __future__ import annotations

import numpy as np
import pytest

import lab.multi_head.toy_language as toy_language
from tests.multi_head.helpers import exactly
from tests.refusals import assert_refuses


def test_vocabulary_is_consistent():
    assert len(set(toy_language.TOKENS)) == len(toy_language.TOKENS)
    assert all(word.word_type in toy_language.WORD_TYPES for word in toy_language.VOCABULARY)
    assert all(
        toy_language.TOKENS[toy_language.TOKEN_IDS[token]] == token for token in toy_language.TOKENS
    )
    nouns = [word for word in toy_language.VOCABULARY if word.word_type == "noun"]
    assert nouns and all(
        word.agreement in toy_language.AGREEMENT_CLASSES and word.kind for word in nouns
    )
    # every agreement class has a pronoun and at least one noun
    for pronoun in toy_language.AGREEMENT_CLASSES:
        assert toy_language.is_pronoun(pronoun) and toy_language.agreement(pronoun) == pronoun
        assert any(word.agreement == pronoun for word in nouns)
    assert set(toy_language.KNOWN_WORDS).isdisjoint(toy_language.SPECIAL_TOKENS)
    assert toy_language.word_type("xylophone") == "other" and toy_language.agreement("the") is None


def test_generated_sentences_follow_the_grammar():
    sentences = toy_language.generate_sentences(500, seed=11)
    assert len(set(sentences)) == 500
    for sentence in sentences:
        assert 1 < len(sentence) <= toy_language.MAX_TOKENS
        assert set(sentence) <= set(toy_language.KNOWN_WORDS)
        assert sentence[-1] == "."
        found = toy_language.antecedents(sentence)
        assert len(found) == 1  # one pronoun ...
        ((pronoun, candidates),) = found.items()
        assert len(candidates) == 1  # ... with exactly one agreeing noun before it
        assert candidates[0] < pronoun and toy_language.is_noun(sentence[candidates[0]])
        # no noun after the pronoun competes with the antecedent
        assert not any(toy_language.is_noun(token) for token in sentence[pronoun:])


def test_grammar_uses_both_nouns_as_referents_and_all_pronouns():
    sentences = toy_language.generate_sentences(400, seed=3)
    first_noun_referred = 0
    pronouns_seen = set()
    for sentence in sentences:
        ((pronoun, (noun,)),) = toy_language.antecedents(sentence).items()
        pronouns_seen.add(sentence[pronoun])
        first_noun = next(i for i, token in enumerate(sentence) if toy_language.is_noun(token))
        first_noun_referred += noun == first_noun
    assert pronouns_seen == set(toy_language.AGREEMENT_CLASSES)
    assert 0.3 < first_noun_referred / len(sentences) < 0.7  # subject and object both occur


def test_generation_is_reproducible_and_can_exclude():
    assert toy_language.generate_sentences(50, seed=4) == toy_language.generate_sentences(
        50, seed=4
    )
    assert toy_language.generate_sentences(50, seed=4) != toy_language.generate_sentences(
        50, seed=5
    )
    pool = set(toy_language.generate_sentences(200, seed=4))
    held_out = toy_language.generate_sentences(100, seed=9, exclude=pool)
    assert pool.isdisjoint(held_out)
    assert toy_language.generate_sentences(0, seed=1) == []
    with pytest.raises(ValueError, match=exactly("count must be at least 0, got -1")):
        toy_language.generate_sentences(-1, seed=1)
    rng = np.random.default_rng(0)
    assert all(isinstance(token, str) for token in toy_language.generate_sentence(rng))


def test_examples_read_cleanly_and_only_the_last_is_ambiguous():
    for text in toy_language.EXAMPLES:
        read = toy_language.toy_tokens(text)
        assert read.message is None and not read.unknown
        assert read.tokens[-1] == "."
    resolved = [
        all(
            len(c) == 1
            for c in toy_language.antecedents(toy_language.toy_tokens(text).tokens).values()
        )
        for text in toy_language.EXAMPLES
    ]
    assert resolved == [True] * (len(toy_language.EXAMPLES) - 1) + [False]


def test_antecedents_of_the_textbook_sentences():
    girl = toy_language.toy_tokens("The girl sat on the mat because she was tired.").tokens
    assert toy_language.antecedents(girl) == {7: (1,)}
    assert toy_language.resolved_antecedent(girl, 7) == 1
    ball = toy_language.toy_tokens("The dogs chased the ball and it rolled away.").tokens
    assert toy_language.resolved_antecedent(ball, 6) == 4  # "it" is the ball: the dogs are "they"
    cat = toy_language.toy_tokens("The cat sat on the mat because it was tired.").tokens
    assert toy_language.antecedents(cat) == {7: (1, 5)}  # cat and mat both agree with "it"
    assert toy_language.resolved_antecedent(cat, 7) is None
    assert toy_language.antecedents(("she", "saw", "the", "girl")) == {
        0: ()
    }  # the noun comes after
    with pytest.raises(ValueError, match="not a pronoun"):
        toy_language.resolved_antecedent(girl, 1)


def test_typed_sentences_are_lower_cased_and_split_from_punctuation():
    read = toy_language.toy_tokens("The Girl SAT.")
    assert read.tokens == ("the", "girl", "sat", ".")
    np.testing.assert_array_equal(read.ids, [toy_language.TOKEN_IDS[t] for t in read.tokens])
    assert read.message is None and read.dropped == 0


def test_unknown_words_become_unk_and_are_named_once():
    read = toy_language.toy_tokens("The zebra saw the zebra, quickly")
    assert read.tokens == (
        "the",
        toy_language.UNK,
        "saw",
        "the",
        toy_language.UNK,
        toy_language.UNK,
        toy_language.UNK,
    )
    assert read.typed[1] == "zebra"
    assert read.unknown == ("zebra", ",", "quickly")
    assert "“zebra”, “,”, “quickly”" in read.message
    assert toy_language.UNK in read.message and str(len(toy_language.KNOWN_WORDS)) in read.message
    np.testing.assert_array_equal(
        toy_language.encode(["zebra", "the"]),
        [toy_language.TOKEN_IDS[toy_language.UNK], toy_language.TOKEN_IDS["the"]],
    )


def test_special_tokens_cannot_be_typed():
    read = toy_language.toy_tokens(f"the {toy_language.PAD} cat")
    assert toy_language.PAD not in read.tokens and toy_language.UNK in read.tokens


def test_many_unknown_words_are_summarised():
    read = toy_language.toy_tokens("alpha beta gamma delta epsilon zeta eta theta")
    assert "and 2 more" in read.message


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_empty_input_gives_a_message_and_no_tokens(text):
    read = toy_language.toy_tokens(text)
    assert read.is_empty and read.tokens == () and "Type a sentence" in read.message


def test_long_input_is_cut_with_a_message():
    read = toy_language.toy_tokens(" ".join(["the cat"] * 10))
    assert (
        len(read.tokens) == toy_language.MAX_TOKENS and read.dropped == 20 - toy_language.MAX_TOKENS
    )
    assert "20 tokens" in read.message and "8 dropped" in read.message
    assert len(toy_language.toy_tokens("the cat sat", max_tokens=2).tokens) == 2
    with pytest.raises(ValueError, match=exactly("max_tokens must be at least 1, got 0")):
        toy_language.toy_tokens("the cat", max_tokens=0)


ATTRIBUTIVE = {"big", "small", "young"}


def noun_phrases(sentence):
    """The (start, noun) positions of the sentence's two noun phrases."""
    nouns = [i for i, token in enumerate(sentence) if toy_language.is_noun(token)]
    return [(noun - 2 if sentence[noun - 1] in ATTRIBUTIVE else noun - 1, noun) for noun in nouns]


def test_the_first_sentences_of_a_seed_are_fixed():
    """The grammar's random choices are read in a fixed order: a seed gives these sentences."""
    assert toy_language.generate_sentences(4, seed=0) == [
        ("a", "dog", "saw", "a", "boy", "so", "he", "slept", "."),
        ("the", "boy", "sat", "on", "the", "ball", "because", "he", "smiled", "."),
        ("a", "man", "slept", "near", "some", "cats", "and", "he", "ran", "."),
        ("the", "man", "slept", "near", "a", "cat", "because", "he", "smiled", "."),
    ]


def test_noun_phrases_agree_with_their_noun_and_adjectives_are_optional():
    sentences = toy_language.generate_sentences(500, seed=11)
    with_adjective = [0, 0]
    for sentence in sentences:
        for index, (start, noun) in enumerate(noun_phrases(sentence)):
            plural = toy_language.agreement(sentence[noun]) == "they"
            assert sentence[start] in (("the", "some") if plural else ("the", "a")), sentence
            with_adjective[index] += noun - start == 2
    # each noun phrase has an adjective about 30 % of the time (the second a little less:
    # it loses its adjective when the sentence would be too long)
    assert 0.25 < with_adjective[0] / 500 < 0.35 and 0.2 < with_adjective[1] / 500 < 0.35
    adjectives = [[end - start == 2 for start, end in noun_phrases(s)] for s in sentences]
    assert sum(first != second for first, second in adjectives) > 150  # chosen separately
    # the longest sentences keep both adjectives when they fit in MAX_TOKENS
    assert (
        "a",
        "small",
        "man",
        "liked",
        "the",
        "small",
        "girl",
        "and",
        "he",
        "ran",
        "away",
        ".",
    ) in (sentences)
    # both verb forms occur: "saw the ..." and "sat on the ..."
    intransitive = sum(
        sentence[noun_phrases(sentence)[0][1] + 1] in ("sat", "slept") for sentence in sentences
    )
    assert 0.4 < intransitive / 500 < 0.6


def test_predicates_fit_the_referent():
    everyone = [
        ("was", "tired"),
        ("was", "hungry"),
        ("ran", "away"),
        ("ran",),
        ("slept",),
        ("fell",),
    ]
    assert toy_language._predicates("ball") == [("rolled", "away"), ("fell",)]
    assert toy_language._predicates("dog") == everyone
    assert toy_language._predicates("girl") == [*everyone, ("smiled",)]
    plural = [
        ("were", "tired"),
        ("were", "hungry"),
        ("ran", "away"),
        ("ran",),
        ("slept",),
        ("fell",),
    ]
    assert toy_language._predicates("kids") == [*plural, ("smiled",)]
    assert toy_language._predicates("dogs") == plural


def test_the_vocabulary_helpers_build_words():
    assert toy_language._nouns("it", toy_language.NounKind.THING, "ball", "box") == (
        toy_language.Word("ball", toy_language.WordType.NOUN, "it", toy_language.NounKind.THING),
        toy_language.Word("box", toy_language.WordType.NOUN, "it", toy_language.NounKind.THING),
    )
    assert toy_language._words(toy_language.WordType.PREP, "on", "near") == (
        toy_language.Word("on", toy_language.WordType.PREP),
        toy_language.Word("near", toy_language.WordType.PREP),
    )
    assert toy_language.WORDS["girl"] == toy_language.Word(
        "girl", toy_language.WordType.NOUN, "she", toy_language.NounKind.PERSON
    )
    assert toy_language.agreement("xylophone") is None


def test_encode_gives_int64_ids_even_for_no_tokens():
    assert toy_language.encode(()).dtype == np.int64
    assert toy_language.encode(("the", "cat")).tolist() == [
        toy_language.TOKEN_IDS["the"],
        toy_language.TOKEN_IDS["cat"],
    ]


def test_generation_gives_up_after_50_attempts_per_sentence_and_1000_more(monkeypatch):
    calls = []

    def always_the_same(rng):
        calls.append(1)
        if len(calls) > 5000:
            raise RuntimeError("generate_sentences does not give up")
        return ("the", "cat", ".")

    monkeypatch.setattr(toy_language, "generate_sentence", always_the_same)
    assert toy_language.generate_sentences(1, seed=0) == [("the", "cat", ".")]
    calls.clear()
    assert_refuses(
        lambda: toy_language.generate_sentences(2, seed=0),
        "the grammar cannot produce 2 distinct new sentences",
    )
    assert len(calls) == 50 * 2 + 1000


def test_empty_input_reads_as_nothing():
    assert toy_language.toy_tokens("") == toy_language.ToyTokens(
        tokens=(),
        dropped=0,
        message="Type a sentence (a few words) to see the heads at work.",
        typed=(),
        unknown=(),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "alpha beta gamma delta epsilon zeta",
            "Not in the toy vocabulary, so read as <unk>: “alpha”, “beta”, “gamma”, “delta”, "
            "“epsilon”, “zeta”. The toy language knows 44 words (listed under the sentence box).",
        ),
        (
            "alpha beta gamma delta epsilon zeta eta",
            "Not in the toy vocabulary, so read as <unk>: “alpha”, “beta”, “gamma”, “delta”, "
            "“epsilon”, “zeta” and 1 more. The toy language knows 44 words (listed under the "
            "sentence box).",
        ),
        (
            "the cat sat zebra " + "the cat " * 7,
            "Not in the toy vocabulary, so read as <unk>: “zebra”. The toy language knows 44 "
            "words (listed under the sentence box). That sentence has 18 tokens; the demo keeps "
            "the first 12 (6 dropped), the longest sentence the model was built for.",
        ),
    ],
)
def test_messages_in_full(text, message):
    assert toy_language.toy_tokens(text).message == message
