"""The toy translation task: hand-checked alignments, parsing, batches, typed input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import lab.alignment.grammar as grammar
from tests.alignment.test_compute import raises_exactly

# Worked by hand from the two rules: adjectives follow their noun, the verb goes last.
HAND_CHECKED = {
    # the0 big1 dog2 chases3 a4 small5 cat6 -> the dog big a cat small chases
    "the big dog chases a small cat": (
        ("lo", "kano", "grani", "na", "gato", "peti", "chasas"),
        (0, 2, 1, 4, 6, 5, 3, 7),
    ),
    # a0 happy1 girl2 sings3 near4 the5 tall6 tree7 -> a girl happy near the tree tall sings
    "a happy girl sings near the tall tree": (
        ("na", "fila", "felo", "apud", "lo", "arbo", "alto", "kantas"),
        (0, 2, 1, 4, 5, 7, 6, 3, 8),
    ),
    # two adjectives keep their order after the noun
    "the quick red fox follows the boy": (
        ("lo", "vulpa", "rapi", "rusa", "lo", "pujo", "sekvas"),
        (0, 3, 1, 2, 5, 6, 4, 7),
    ),
    # nothing moves but the verb... which is already last
    "the cat sleeps": (("lo", "gato", "dormas"), (0, 1, 2, 3)),
    # repeated words: each copy keeps its own position
    "the dog sees the dog": (("lo", "kano", "lo", "kano", "vidas"), (0, 1, 3, 4, 2, 5)),
    # the parser takes any number of adjectives (training shows at most two)
    "a big small red tall bird runs": (
        ("na", "avi", "grani", "peti", "rusa", "alto", "kuras"),
        (0, 5, 1, 2, 3, 4, 6, 7),
    ),
}


@pytest.mark.parametrize("sentence", sorted(HAND_CHECKED))
def test_hand_checked_translations_and_alignments(sentence):
    target, alignment = HAND_CHECKED[sentence]
    pair = grammar.translate_words(sentence.split())
    assert pair == grammar.SentencePair(tuple(sentence.split()), target, alignment)
    assert pair.source_tokens == (*sentence.split(), grammar.EOS)
    assert pair.target_tokens == (*target, grammar.EOS)


def test_every_target_word_is_the_lexicon_entry_of_its_aligned_source_word():
    for pair in grammar.held_out_pairs()[:100]:
        for position, word in enumerate(pair.target):
            assert grammar.ENTRIES[pair.source[pair.alignment[position]]].target == word
        # a permutation of the source words, plus <eos> on <eos>
        assert sorted(pair.alignment) == list(range(len(pair.source) + 1))
        verb = next(i for i, w in enumerate(pair.source) if grammar.ENTRIES[w].word_class.is_verb)
        assert pair.alignment[-2] == verb  # the verb is always the last word


def test_the_lexicon_is_one_to_one_and_the_vocabularies_are_small():
    assert (
        len({entry.target for entry in grammar.LEXICON})
        == len(grammar.LEXICON)
        == len(grammar.SOURCE_WORDS)
    )
    assert 30 <= len(grammar.SOURCE_WORDS) <= 60
    assert grammar.SOURCE_TOKENS[:2] == (grammar.PAD, grammar.EOS) and grammar.TARGET_TOKENS[
        :3
    ] == (grammar.PAD, grammar.BOS, grammar.EOS)
    assert {entry.word_class for entry in grammar.LEXICON} == set(grammar.WordClass)
    assert all(
        grammar.SOURCE_IDS[token] == index for index, token in enumerate(grammar.SOURCE_TOKENS)
    )
    assert all(
        grammar.TARGET_IDS[token] == index for index, token in enumerate(grammar.TARGET_TOKENS)
    )
    for sentence in grammar.EXAMPLE_SENTENCES:
        assert grammar.read_source(sentence).pair is not None, sentence


@pytest.mark.parametrize(
    ("sentence", "message"),
    [
        ("dog the", "word 1 should start a noun phrase with “the” or “a”, found “dog”"),
        (
            "the big dog chases",
            "word 5 should start a noun phrase with “the” or “a”, found the end of the sentence",
        ),
        ("the big", "word 3 should be a noun, found the end of the sentence"),
        ("the big sleeps", "word 3 should be a noun, found “sleeps”"),
        ("the dog", "word 3 should be a verb, found the end of the sentence"),
        ("the dog the", "word 3 should be a verb, found “the”"),
        ("the dog sleeps the cat", "word 4 should be a preposition or the end, found “the”"),
        (
            "the dog sleeps near the cat the",
            "the sentence should end after word 6; “the” is left over",
        ),
        ("the zebra sleeps", "not in the vocabulary: “zebra”"),
        ("", "the sentence is empty"),
    ],
)
def test_sentences_outside_the_grammar_say_where(sentence, message):
    with raises_exactly(message, grammar.GrammarError):
        grammar.translate_words(sentence.split())


def test_the_held_out_set_is_fixed_distinct_and_in_distribution():
    pairs = grammar.held_out_pairs()
    assert len(pairs) == grammar.HELD_OUT_SIZE == len({pair.source for pair in pairs})
    # pinned, so a change to the generator (which would move every recorded score) shows here
    assert pairs[0] == grammar.translate_words("the girl chases the quick bird".split())
    assert pairs == grammar.held_out_pairs()
    assert grammar.PairSet.HELD_OUT.pairs() == pairs
    lengths = [len(pair.source) for pair in pairs]
    assert min(lengths) == 3 and max(lengths) <= grammar.MAX_SOURCE_WORDS
    for pair in pairs:
        adjectives = [
            w for w in pair.source if grammar.ENTRIES[w].word_class is grammar.WordClass.ADJECTIVE
        ]
        nouns = [w for w in pair.source if grammar.ENTRIES[w].word_class is grammar.WordClass.NOUN]
        assert len(adjectives) <= grammar.MAX_ADJECTIVES * len(nouns)


def test_the_three_adjective_set_is_off_the_training_distribution():
    pairs = grammar.three_adjective_pairs()
    assert len(pairs) == grammar.STRESS_SIZE and grammar.PairSet.THREE_ADJECTIVES.pairs() == pairs
    for pair in pairs:
        classes = [grammar.ENTRIES[word].word_class for word in pair.source]
        assert (
            classes[1:4] == [grammar.WordClass.ADJECTIVE] * 3
            and classes[4] is grammar.WordClass.NOUN
        )
        assert len(set(pair.source[1:4])) == 3  # three different adjectives
    assert not {pair.source for pair in pairs} & {pair.source for pair in grammar.held_out_pairs()}


def test_generate_pairs_is_reproducible_and_honours_exclude():
    first = grammar.generate_pairs(50, seed=4)
    assert first == grammar.generate_pairs(50, seed=4) and first != grammar.generate_pairs(
        50, seed=5
    )
    skipped = frozenset(pair.source for pair in first[:25])
    again = grammar.generate_pairs(50, seed=4, exclude=skipped)
    assert not {pair.source for pair in again} & skipped
    assert again[:25] == first[25:]  # the same stream, minus what was excluded
    with raises_exactly("count must be at least 0, got -1"):
        grammar.generate_pairs(-1, seed=0)
    with raises_exactly("subject_adjectives must be at most 4, got 5"):
        grammar.generate_pairs(1, seed=0, subject_adjectives=5)


def test_pad_pairs_lines_up_inputs_targets_and_alignments():
    short = grammar.translate_words("the cat sleeps".split())
    long = grammar.translate_words("the big dog chases a small cat".split())
    batch = grammar.pad_pairs([short, long])
    assert batch.source.shape == (2, 8) and batch.target.shape == (2, 8)
    np.testing.assert_array_equal(batch.source_lengths, [4, 8])
    ids = [grammar.SOURCE_IDS[w] for w in ("the", "cat", "sleeps", grammar.EOS)] + [
        grammar.SOURCE_IDS[grammar.PAD]
    ] * 4
    np.testing.assert_array_equal(batch.source[0], ids)
    targets = [grammar.TARGET_IDS[w] for w in ("lo", "gato", "dormas", grammar.EOS)] + [
        grammar.TARGET_IDS[grammar.PAD]
    ] * 4
    np.testing.assert_array_equal(batch.target[0], targets)
    # teacher forcing: <bos>, then the target shifted right by one
    np.testing.assert_array_equal(batch.decoder_input[1, 0], grammar.TARGET_IDS[grammar.BOS])
    np.testing.assert_array_equal(batch.decoder_input[1, 1:], batch.target[1, :-1])
    np.testing.assert_array_equal(batch.alignment[0], [0, 1, 2, 3, -1, -1, -1, -1])
    np.testing.assert_array_equal(batch.alignment[1], long.alignment)
    np.testing.assert_array_equal(batch.target_valid[0], [True] * 4 + [False] * 4)
    with raises_exactly("pad_pairs needs at least one sentence pair"):
        grammar.pad_pairs([])


# ----------------------------------------------------------------------------
# What a learner types
# ----------------------------------------------------------------------------


def test_a_typed_sentence_is_lower_cased_and_punctuation_is_ignored():
    reading = grammar.read_source("The big Dog chases a small cat!")
    assert reading.words == ("the", "big", "dog", "chases", "a", "small", "cat")
    assert reading.usable and reading.message is None and reading.unknown == ()
    assert reading.pair == grammar.translate_words(reading.words)


@pytest.mark.parametrize("text", ["", "   ", "?!", None])
def test_empty_input_asks_for_a_sentence(text):
    reading = grammar.read_source(text)
    assert not reading.usable
    assert reading == grammar.SourceReading(
        (), (), None, "Type a sentence, for example “the big dog sleeps”."
    )


def test_unknown_words_are_listed_once_each():
    reading = grammar.read_source("The zebra sees the gnu and the Zebra")
    assert not reading.usable and reading.words == ()
    assert reading.unknown == ("zebra", "gnu", "and")
    assert reading.message == (
        "Not in the vocabulary: “zebra”, “gnu”, “and”. "
        f"The model knows only the {len(grammar.SOURCE_WORDS)} source words of the toy language."
    )


def test_overlong_input_is_refused_with_its_length():
    text = "the big red dog chases a small happy cat near the tall tree"
    reading = grammar.read_source(text)
    assert not reading.usable
    message = (
        "That sentence has 13 words; the model reads at most 12. "
        "Shorten it (drop an adjective or the phrase at the end)."
    )
    assert reading == grammar.SourceReading((), (), None, message)
    assert grammar.read_source(text, max_words=12).message == reading.message
    assert grammar.read_source("the cat sleeps near the dog", max_words=5).message.startswith(
        "That sentence has 6 words; the model reads at most 5."
    )
    with raises_exactly("max_words must be at most 12, got 13"):
        grammar.read_source("the cat sleeps", max_words=13)


def test_known_words_out_of_grammar_are_usable_without_a_true_alignment():
    reading = grammar.read_source("dog the sleeps")
    assert reading.usable and reading.words == ("dog", "the", "sleeps") and reading.pair is None
    assert reading.unknown == ()
    assert reading.message == (
        "The grammar cannot parse this sentence (word 1 should start a noun phrase with "
        "“the” or “a”, found “dog”), so it has no true alignment to compare with; "
        "the model translates it anyway."
    )


# ----------------------------------------------------------------------------
# The generator's odds
# ----------------------------------------------------------------------------

ADJECTIVE_ODDS = {0: 0.4, 1: 0.4, 2: 0.2}  # adjectives per noun phrase, as documented


def accepted_odds() -> dict[str, float]:
    """The documented odds of a kept draw, enumerated by hand from the grammar.

    A draw is ``np(a1) verb [np(a2)] [prep np(a3)]``: transitive 60 %, a phrase
    40 %, ``a`` adjectives with :data:`ADJECTIVE_ODDS`; it has ``3 + a1 + T (2 + a2)
    + P (3 + a3)`` words and is redrawn when that exceeds :data:`MAX_SOURCE_WORDS`.
    """
    kept = transitive = phrase = twelve = 0.0
    subject = dict.fromkeys(ADJECTIVE_ODDS, 0.0)
    for a1, a2, a3 in itertools.product(ADJECTIVE_ODDS, repeat=3):
        for has_object, has_phrase in itertools.product((0, 1), repeat=2):
            odds = ADJECTIVE_ODDS[a1] * ADJECTIVE_ODDS[a2] * ADJECTIVE_ODDS[a3]
            odds *= (0.6 if has_object else 0.4) * (0.4 if has_phrase else 0.6)
            words = 3 + a1 + has_object * (2 + a2) + has_phrase * (3 + a3)
            if words <= grammar.MAX_SOURCE_WORDS:
                kept += odds
                transitive += odds * has_object
                phrase += odds * has_phrase
                twelve += odds * (words == grammar.MAX_SOURCE_WORDS)
                subject[a1] += odds
    return {
        "transitive": transitive / kept,
        "phrase": phrase / kept,
        "twelve words": twelve / kept,
        **{f"{count} subject adjectives": odds / kept for count, odds in subject.items()},
    }


def test_drawn_sentences_follow_the_documented_odds():
    draws = 4000
    rng = np.random.default_rng(11)
    sentences = [grammar.draw_sentence(rng) for _ in range(draws)]

    def classes(sentence):
        return [grammar.ENTRIES[word].word_class for word in sentence]

    def subject_adjectives(sentence):
        return classes(sentence)[1:].index(
            grammar.WordClass.NOUN
        )  # the words between "the" and its noun

    observed = {
        "transitive": np.mean([grammar.WordClass.TRANSITIVE in classes(s) for s in sentences]),
        "phrase": np.mean([grammar.WordClass.PREPOSITION in classes(s) for s in sentences]),
        "twelve words": np.mean([len(s) == grammar.MAX_SOURCE_WORDS for s in sentences]),
        **{
            f"{count} subject adjectives": np.mean(
                [subject_adjectives(s) == count for s in sentences]
            )
            for count in ADJECTIVE_ODDS
        },
    }
    for name, odds in accepted_odds().items():
        # four standard errors of a proportion of 4000 draws (at most 0.032)
        assert abs(observed[name] - odds) < 4 * np.sqrt(odds * (1 - odds) / draws), name
    assert (
        max(len(s) for s in sentences) == grammar.MAX_SOURCE_WORDS
    )  # the longest allowed do occur


def test_a_fixed_number_of_subject_adjectives():
    for count in (0, 4):
        pairs = grammar.generate_pairs(20, seed=1, subject_adjectives=count)
        for pair in pairs:
            classes = [grammar.ENTRIES[word].word_class for word in pair.source]
            assert classes[1 : count + 2] == [grammar.WordClass.ADJECTIVE] * count + [
                grammar.WordClass.NOUN
            ]
    with raises_exactly("subject_adjectives must be at least 0, got -1"):
        grammar.generate_pairs(1, seed=0, subject_adjectives=-1)


def test_draw_pairs_translates_the_stream_of_draw_sentence():
    rng = np.random.default_rng(5)
    expected = [grammar.translate_words(grammar.draw_sentence(rng)) for _ in range(40)]
    assert grammar.draw_pairs(np.random.default_rng(5), 40) == expected
    assert grammar.draw_pairs(np.random.default_rng(5), 0) == []
    skipped = frozenset(pair.source for pair in expected[:4])
    kept = grammar.draw_pairs(np.random.default_rng(5), 20, exclude=skipped)
    assert kept == [pair for pair in expected if pair.source not in skipped][:20]
    with raises_exactly("count must be at least 0, got -1"):
        grammar.draw_pairs(rng, -1)


def test_a_long_list_of_unknown_words_is_cut_after_six():
    reading = grammar.read_source("zebra gnu yak emu owl elk ant bee")
    assert reading.unknown == ("zebra", "gnu", "yak", "emu", "owl", "elk", "ant", "bee")
    assert reading.message == (
        "Not in the vocabulary: “zebra”, “gnu”, “yak”, “emu”, “owl”, “elk” and 2 more. "
        f"The model knows only the {len(grammar.SOURCE_WORDS)} source words of the toy language."
    )
    six = grammar.read_source("zebra gnu yak emu owl elk")
    assert six.message.startswith(
        "Not in the vocabulary: “zebra”, “gnu”, “yak”, “emu”, “owl”, “elk”. "
    )


def test_exactly_max_words_is_allowed():
    reading = grammar.read_source("the cat sleeps near the dog", max_words=6)
    assert reading.usable and reading.message is None
    assert reading.pair == grammar.translate_words("the cat sleeps near the dog".split())
    one = grammar.read_source("sleeps", max_words=1)
    assert one.usable and one.words == ("sleeps",) and one.pair is None
    with raises_exactly("max_words must be at least 1, got 0"):
        grammar.read_source("the cat sleeps", max_words=0)
