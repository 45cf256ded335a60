"""The toy translation task: a small English-like source language, a made-up
target language with another word order, and the true alignment of every pair.

Every source word has exactly one target word (:data:`LEXICON`), so a
translation is the same words, each looked up, in a new order. Two rules move
words:

* adjectives follow their noun, in the order they came
  ("the big red dog" -> "lo kano grani rusa");
* the verb goes to the end of the sentence
  ("the dog chases a cat" -> "lo kano na gato chasas").

Because the grammar builds each translation, it knows which source word every
target word came from: the *true alignment*, one source position per target
position. An attention map can be checked against it.

The grammar (``adj*`` means any number; generated sentences use at most two)::

    sentence  ->  np transitive np [pp]  |  np intransitive [pp]
    np        ->  determiner adj* noun
    pp        ->  preposition np

and the target order is ``np' [np'] [pp'] verb`` with ``np' = determiner noun
adj*`` and ``pp' = preposition np'``.

Shapes (one sentence, no batch axis):
    S   source positions: the words and the end marker ``<eos>``
    T   target positions: the words and ``<eos>``
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lab.checks import check_int
from lab.text import split_tokens

PAD = "<pad>"  # fills short sentences up to the batch length
BOS = "<bos>"  # the decoder's input at its first step (target side only)
EOS = "<eos>"  # closes every sentence, on both sides

MAX_SOURCE_WORDS = 12  # the longest sentence the model reads (without <eos>)
MAX_ADJECTIVES = 2  # generated noun phrases have at most this many adjectives


class WordClass(enum.Enum):
    """The part of speech of a source word; the grammar's rules are written in them."""

    DETERMINER = "determiner"
    ADJECTIVE = "adjective"
    NOUN = "noun"
    TRANSITIVE = "transitive verb"
    INTRANSITIVE = "intransitive verb"
    PREPOSITION = "preposition"

    @property
    def is_verb(self) -> bool:
        return self in (WordClass.TRANSITIVE, WordClass.INTRANSITIVE)


@dataclass(frozen=True)
class Entry:
    """One line of the lexicon: a source word, its translation and its class."""

    source: str
    target: str
    word_class: WordClass


def _entries(word_class: WordClass, *pairs: str) -> tuple[Entry, ...]:
    """Entries from alternating ``source, target`` words."""
    return tuple(
        Entry(source, target, word_class)
        for source, target in zip(pairs[::2], pairs[1::2], strict=True)
    )


LEXICON: tuple[Entry, ...] = (
    *_entries(WordClass.DETERMINER, "the", "lo", "a", "na"),
    *_entries(
        WordClass.ADJECTIVE,
        *("big", "grani", "small", "peti", "red", "rusa"),
        *("tall", "alto", "happy", "felo", "quick", "rapi"),
    ),
    *_entries(
        WordClass.NOUN,
        *("dog", "kano", "cat", "gato", "bird", "avi", "fox", "vulpa"),
        *("girl", "fila", "boy", "pujo", "horse", "kaval", "fish", "pesko"),
        *("tree", "arbo", "house", "domo", "river", "rivo", "ball", "bolo"),
    ),
    *_entries(
        WordClass.TRANSITIVE,
        *("sees", "vidas", "chases", "chasas", "likes", "amas"),
        *("finds", "trovas", "follows", "sekvas"),
    ),
    *_entries(
        WordClass.INTRANSITIVE,
        *("sleeps", "dormas", "runs", "kuras", "sings", "kantas", "waits", "atendas"),
    ),
    *_entries(WordClass.PREPOSITION, "near", "apud", "under", "sub", "behind", "dorsi"),
)

ENTRIES: dict[str, Entry] = {entry.source: entry for entry in LEXICON}
SOURCE_WORDS: tuple[str, ...] = tuple(entry.source for entry in LEXICON)  # what can be typed
SOURCE_TOKENS: tuple[str, ...] = (PAD, EOS, *SOURCE_WORDS)  # the encoder's vocabulary
TARGET_TOKENS: tuple[str, ...] = (PAD, BOS, EOS, *(entry.target for entry in LEXICON))
SOURCE_IDS: dict[str, int] = {token: index for index, token in enumerate(SOURCE_TOKENS)}
TARGET_IDS: dict[str, int] = {token: index for index, token in enumerate(TARGET_TOKENS)}

_BY_CLASS: dict[WordClass, tuple[str, ...]] = {
    word_class: tuple(entry.source for entry in LEXICON if entry.word_class is word_class)
    for word_class in WordClass
}

# Sentences for the page's menu, each showing a rule (all follow the grammar).
EXAMPLE_SENTENCES: tuple[str, ...] = (
    "the big dog chases a small cat",
    "a happy girl sings near the tall tree",
    "the quick red fox follows the boy",
    "the cat sleeps under the big house",
    "a small bird likes the tall horse near the river",
    "the dog sees the dog",
)


@dataclass(frozen=True)
class SentencePair:
    """A source sentence, its translation and the true alignment.

    Attributes:
        source: the ``S - 1`` source words (no ``<eos>``).
        target: the ``T - 1`` target words (no ``<eos>``).
        alignment: ``T`` source positions, one per target position: target
            word ``t`` is the translation of ``source[alignment[t]]``; the last
            entry is ``S - 1``, the target's ``<eos>`` aligned with the source's.
    """

    source: tuple[str, ...]
    target: tuple[str, ...]
    alignment: tuple[int, ...]

    @property
    def source_tokens(self) -> tuple[str, ...]:
        """The encoder's input: the words and ``<eos>`` (``S`` tokens)."""
        return (*self.source, EOS)

    @property
    def target_tokens(self) -> tuple[str, ...]:
        """What the decoder must produce: the words and ``<eos>`` (``T`` tokens)."""
        return (*self.target, EOS)


class GrammarError(ValueError):
    """A sentence of known words that the grammar cannot parse."""


def _noun_phrase(words: Sequence[str], start: int) -> tuple[list[int], int]:
    """Parse ``determiner adj* noun`` from ``start``.

    Returns:
        The phrase's source positions in target order (determiner, noun,
        adjectives) and the position after the phrase.
    """
    position = start
    if position >= len(words) or ENTRIES[words[position]].word_class is not WordClass.DETERMINER:
        found = f"“{words[position]}”" if position < len(words) else "the end of the sentence"
        raise GrammarError(
            f"word {position + 1} should start a noun phrase with “the” or “a”, found {found}"
        )
    position += 1
    adjectives = []
    while position < len(words) and ENTRIES[words[position]].word_class is WordClass.ADJECTIVE:
        adjectives.append(position)
        position += 1
    if position >= len(words) or ENTRIES[words[position]].word_class is not WordClass.NOUN:
        found = f"“{words[position]}”" if position < len(words) else "the end of the sentence"
        raise GrammarError(f"word {position + 1} should be a noun, found {found}")
    return [start, position, *adjectives], position + 1


def _target_order(words: Sequence[str]) -> list[int]:
    """The source positions in target order, or :class:`GrammarError`."""
    subject, position = _noun_phrase(words, 0)
    if position >= len(words) or not ENTRIES[words[position]].word_class.is_verb:
        found = f"“{words[position]}”" if position < len(words) else "the end of the sentence"
        raise GrammarError(f"word {position + 1} should be a verb, found {found}")
    verb = position
    order = list(subject)
    position += 1
    if ENTRIES[words[verb]].word_class is WordClass.TRANSITIVE:
        obj, position = _noun_phrase(words, position)
        order += obj
    if position < len(words):
        if ENTRIES[words[position]].word_class is not WordClass.PREPOSITION:
            raise GrammarError(
                f"word {position + 1} should be a preposition or the end, found “{words[position]}”"
            )
        phrase, after = _noun_phrase(words, position + 1)
        order += [position, *phrase]
        if after < len(words):
            raise GrammarError(
                f"the sentence should end after word {after}; “{words[after]}” is left over"
            )
    return [*order, verb]


def translate_words(words: Sequence[str]) -> SentencePair:
    """Translate a sentence of the grammar and give its true alignment.

    ``target[t] = LEXICON[source[alignment[t]]]``, with the alignment given by
    the two rules (adjectives after their noun, the verb last).

    Args:
        words: lower-case source words, all in :data:`SOURCE_WORDS`.

    Returns:
        :class:`SentencePair`.

    Raises:
        GrammarError: (a ``ValueError``) if a word is unknown or the sentence
            does not follow the grammar; the message says where.
    """
    words = tuple(words)
    unknown = [word for word in words if word not in ENTRIES]
    if unknown:
        raise GrammarError(f"not in the vocabulary: {_quoted(unknown)}")
    if not words:
        raise GrammarError("the sentence is empty")
    order = _target_order(words)
    target = tuple(ENTRIES[words[position]].target for position in order)
    return SentencePair(words, target, (*order, len(words)))


# ----------------------------------------------------------------------------
# Generating sentences
# ----------------------------------------------------------------------------


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    # uniform; rng.random() is several times faster than rng.integers or rng.choice
    return options[int(rng.random() * len(options))]


def _generate_noun_phrase(rng: np.random.Generator, adjectives: int | None = None) -> list[str]:
    """``determiner adj* noun`` with ``adjectives`` distinct adjectives, or at random:
    0, 1 or 2 with probabilities 0.4, 0.4, 0.2."""
    if adjectives is None:
        draw = rng.random()
        adjectives = min(0 if draw < 0.4 else 1 if draw < 0.8 else 2, MAX_ADJECTIVES)
    chosen: list[str] = []
    while len(chosen) < adjectives:
        word = _pick(rng, _BY_CLASS[WordClass.ADJECTIVE])
        if word not in chosen:
            chosen.append(word)
    return [
        _pick(rng, _BY_CLASS[WordClass.DETERMINER]),
        *chosen,
        _pick(rng, _BY_CLASS[WordClass.NOUN]),
    ]


def draw_sentence(
    rng: np.random.Generator, subject_adjectives: int | None = None
) -> tuple[str, ...]:
    """One random source sentence of the grammar, at most :data:`MAX_SOURCE_WORDS` words.

    Transitive verbs 60 % of the time, a prepositional phrase 40 % of the
    time, 0-2 adjectives per noun phrase. A draw that is too long is redrawn.

    Args:
        rng: the random generator (advanced in place).
        subject_adjectives: give the subject exactly this many adjectives
            instead (3 makes sentences the model never saw in training).
    """
    while True:
        words = _generate_noun_phrase(rng, subject_adjectives)
        if rng.random() < 0.6:
            words += [_pick(rng, _BY_CLASS[WordClass.TRANSITIVE]), *_generate_noun_phrase(rng)]
        else:
            words.append(_pick(rng, _BY_CLASS[WordClass.INTRANSITIVE]))
        if rng.random() < 0.4:
            words += [_pick(rng, _BY_CLASS[WordClass.PREPOSITION]), *_generate_noun_phrase(rng)]
        if len(words) <= MAX_SOURCE_WORDS:
            return tuple(words)


def generate_pairs(
    count: int,
    seed: int,
    *,
    exclude: frozenset[tuple[str, ...]] = frozenset(),
    subject_adjectives: int | None = None,
) -> list[SentencePair]:
    """``count`` distinct sentence pairs, reproducible from ``seed``.

    Args:
        count: how many pairs (>= 0).
        seed: seeds ``numpy.random.default_rng``.
        exclude: source sentences to leave out.
        subject_adjectives: as in :func:`draw_sentence`.

    Returns:
        A list of :class:`SentencePair`, no source sentence twice.
    """
    count = check_int("count", count, minimum=0)
    if subject_adjectives is not None:
        check_int("subject_adjectives", subject_adjectives, minimum=0, maximum=4)
    rng = np.random.default_rng(seed)
    seen = set(exclude)
    pairs: list[SentencePair] = []
    while len(pairs) < count:
        words = draw_sentence(rng, subject_adjectives)
        if words not in seen:
            seen.add(words)
            pairs.append(translate_words(words))
    return pairs


def draw_pairs(
    rng: np.random.Generator, count: int, *, exclude: frozenset[tuple[str, ...]] = frozenset()
) -> list[SentencePair]:
    """The next ``count`` pairs of a random stream, skipping excluded sentences.

    Unlike :func:`generate_pairs` a sentence may come twice: this is how
    training draws its batches (with the held-out sentences excluded).

    Args:
        rng: the stream (advanced in place).
        count: how many pairs (>= 0).
        exclude: source sentences to skip.
    """
    count = check_int("count", count, minimum=0)
    pairs: list[SentencePair] = []
    while len(pairs) < count:
        words = draw_sentence(rng)
        if words not in exclude:
            pairs.append(translate_words(words))
    return pairs


HELD_OUT_SEED = 20_160  # the held-out sentences come from their own stream
HELD_OUT_SIZE = 300  # enough for a stable score, small enough to check in a test
STRESS_SEED = 20_161  # the three-adjective sentences come from another stream
STRESS_SIZE = 100  # enough to find where a model breaks


def held_out_pairs() -> list[SentencePair]:
    """The fixed held-out set: the same :data:`HELD_OUT_SIZE` pairs on every machine.

    Training never sees these sentences (its stream skips them).
    """
    return generate_pairs(HELD_OUT_SIZE, HELD_OUT_SEED)


def three_adjective_pairs() -> list[SentencePair]:
    """A fixed set of :data:`STRESS_SIZE` pairs whose subject has three adjectives.

    The grammar allows them but training only ever shows up to
    :data:`MAX_ADJECTIVES`, so they show what a model does off its training data.
    """
    return generate_pairs(STRESS_SIZE, STRESS_SEED, subject_adjectives=3)


class PairSet(enum.Enum):
    """The fixed sentence sets a checkpoint is measured and searched on."""

    HELD_OUT = "held-out"  # the training distribution, sentences never trained on
    THREE_ADJECTIVES = "three adjectives"  # a subject with three adjectives: never seen in training

    def pairs(self) -> list[SentencePair]:
        """The set's sentence pairs, the same on every machine."""
        if self is PairSet.HELD_OUT:
            return held_out_pairs()
        return three_adjective_pairs()


# ----------------------------------------------------------------------------
# Ids and batches
# ----------------------------------------------------------------------------


def source_ids(words: Sequence[str]) -> NDArray[np.int64]:
    """``(S,)`` encoder ids of ``words`` followed by ``<eos>``."""
    return np.array([SOURCE_IDS[word] for word in (*words, EOS)], dtype=np.int64)


def target_ids(words: Sequence[str]) -> NDArray[np.int64]:
    """``(T,)`` decoder targets: the ids of ``words`` followed by ``<eos>``."""
    return np.array([TARGET_IDS[word] for word in (*words, EOS)], dtype=np.int64)


@dataclass(frozen=True)
class PairBatch:
    """Sentence pairs as padded id arrays.

    Attributes:
        source: ``(B, S)`` encoder ids, padded with ``<pad>`` after ``<eos>``.
        source_lengths: ``(B,)`` real source positions (words + 1).
        decoder_input: ``(B, T)`` ``<bos>`` then the target words (teacher forcing).
        target: ``(B, T)`` the target words then ``<eos>``, padded with ``<pad>``.
        alignment: ``(B, T)`` true source position of every target position, -1 at padding.
    """

    source: NDArray[np.int64]
    source_lengths: NDArray[np.int64]
    decoder_input: NDArray[np.int64]
    target: NDArray[np.int64]
    alignment: NDArray[np.int64]

    @property
    def target_valid(self) -> NDArray[np.bool_]:
        """``(B, T)`` ``True`` where there is a target token (not padding)."""
        return self.target != TARGET_IDS[PAD]


def pad_pairs(pairs: Sequence[SentencePair]) -> PairBatch:
    """Pad a list of pairs into a :class:`PairBatch` (lengths set by the longest pair)."""
    if not pairs:
        raise ValueError("pad_pairs needs at least one sentence pair")
    size = len(pairs)
    source_len = max(len(pair.source) for pair in pairs) + 1
    target_len = max(len(pair.target) for pair in pairs) + 1
    source = np.full((size, source_len), SOURCE_IDS[PAD], dtype=np.int64)
    decoder_input = np.full((size, target_len), TARGET_IDS[PAD], dtype=np.int64)
    target = np.full((size, target_len), TARGET_IDS[PAD], dtype=np.int64)
    alignment = np.full((size, target_len), -1, dtype=np.int64)
    lengths = np.zeros(size, dtype=np.int64)
    for row, pair in enumerate(pairs):
        ids = source_ids(pair.source)
        source[row, : len(ids)] = ids
        lengths[row] = len(ids)
        wanted = target_ids(pair.target)
        target[row, : len(wanted)] = wanted
        decoder_input[row, 0] = TARGET_IDS[BOS]
        decoder_input[row, 1 : len(wanted)] = wanted[:-1]
        alignment[row, : len(wanted)] = pair.alignment
    return PairBatch(source, lengths, decoder_input, target, alignment)


# ----------------------------------------------------------------------------
# What a learner types
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceReading:
    """A typed sentence, read for the model.

    Attributes:
        words: the known words kept, lower-cased (empty if the text cannot be used).
        unknown: typed words the vocabulary does not have, in order, each once.
        pair: the translation and true alignment if the sentence follows the
            grammar, else ``None`` (the model can still translate it; there is
            just no true alignment to compare with).
        message: plain text for the learner when the sentence cannot be used
            or has no true alignment, else ``None``.
    """

    words: tuple[str, ...]
    unknown: tuple[str, ...]
    pair: SentencePair | None
    message: str | None

    @property
    def usable(self) -> bool:
        """True if the model can translate it (known words, 1 to the maximum)."""
        return bool(self.words)


def _quoted(words: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(f"“{word}”" for word in words[:limit])
    return shown + (f" and {len(words) - limit} more" if len(words) > limit else "")


def read_source(text: str, max_words: int = MAX_SOURCE_WORDS) -> SourceReading:
    """Read a sentence a learner typed into source words, with a message if needed.

    Words are lower-cased; punctuation is ignored (the toy language has none).
    Empty text, unknown words and more than ``max_words`` words make the
    sentence unusable, and the message says what to change. Known words in an
    order the grammar does not allow are usable, with a message that there is
    no true alignment.

    Args:
        text: what the learner typed.
        max_words: the longest sentence allowed (the model reads at most
            :data:`MAX_SOURCE_WORDS`).

    Returns:
        :class:`SourceReading`.
    """
    max_words = check_int("max_words", max_words, minimum=1, maximum=MAX_SOURCE_WORDS)
    typed = [token.lower() for token in split_tokens(text or "") if any(c.isalnum() for c in token)]
    if not typed:
        return SourceReading((), (), None, "Type a sentence, for example “the big dog sleeps”.")
    unknown = tuple(dict.fromkeys(word for word in typed if word not in ENTRIES))
    if unknown:
        return SourceReading(
            (),
            unknown,
            None,
            f"Not in the vocabulary: {_quoted(unknown)}. "
            f"The model knows only the {len(SOURCE_WORDS)} source words of the toy language.",
        )
    if len(typed) > max_words:
        return SourceReading(
            (),
            (),
            None,
            f"That sentence has {len(typed)} words; the model reads at most {max_words}. "
            "Shorten it (drop an adjective or the phrase at the end).",
        )
    words = tuple(typed)
    try:
        pair = translate_words(words)
    except GrammarError as problem:
        return SourceReading(
            words,
            (),
            None,
            f"The grammar cannot parse this sentence ({problem}), so it has no true "
            "alignment to compare with; the model translates it anyway.",
        )
    return SourceReading(words, (), pair, None)
