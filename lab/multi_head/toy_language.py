"""A toy language for multi-head attention: a small vocabulary, word types, a
sentence grammar with pronouns, and a reader for sentences a learner types.

Every noun belongs to one of four *agreement classes*, named after the pronoun
that refers to it: ``he`` (boy, man), ``she`` (girl, woman), ``it`` (cat, ball,
...) and ``they`` (kids, cats, dogs). The grammar builds two-clause sentences
such as "the girl sat on the mat because she was tired ." in which exactly one
noun before the pronoun agrees with it, so every pronoun has one antecedent
that simple word-type features can find. A learner's own sentence may break
that rule ("the cat sat on the mat because it was tired"): :func:`antecedents`
then lists every candidate and :func:`resolved_antecedent` says it is ambiguous.
A typed sentence is read with :func:`toy_tokens` (unlike :func:`lab.text.tokenize`,
it lower-cases words and turns the ones the vocabulary lacks into ``<unk>``).

Shapes (one sentence, no batch axis):
    L   tokens
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from lab.checks import check_int
from lab.text import Tokenized, split_tokens

UNK = "<unk>"  # stands for any word the vocabulary does not know
PAD = "<pad>"  # fills short sentences up to the batch length while training
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK)


class WordType(StrEnum):
    """The part of speech of a word; the values are the short names the charts show."""

    DET = "det"
    ADJ = "adj"
    NOUN = "noun"
    PRON = "pron"
    VERB = "verb"
    PREP = "prep"
    CONJ = "conj"
    OTHER = "other"  # punctuation, "away", special and unknown tokens


class NounKind(StrEnum):
    """What a noun names; the grammar uses it to keep sentences sensible."""

    PERSON = "person"
    ANIMAL = "animal"
    THING = "thing"


WORD_TYPES: tuple[WordType, ...] = tuple(WordType)
AGREEMENT_CLASSES: tuple[str, ...] = ("he", "she", "it", "they")  # the pronouns themselves
NOUN_KINDS: tuple[NounKind, ...] = tuple(NounKind)

MAX_TOKENS = 12  # longest sentence the hand-set heads and the trained model take


@dataclass(frozen=True)
class Word:
    """One entry of the vocabulary.

    Attributes:
        text: the word as it appears in a sentence (lower case).
        word_type: its :class:`WordType`.
        agreement: for nouns, the pronoun that refers to them; for pronouns,
            the pronoun itself; ``None`` for every other word.
        kind: for nouns, their :class:`NounKind`; ``None`` otherwise.
    """

    text: str
    word_type: WordType
    agreement: str | None = None
    kind: NounKind | None = None


def _nouns(agreement: str, kind: NounKind, *texts: str) -> tuple[Word, ...]:
    return tuple(Word(text, WordType.NOUN, agreement, kind) for text in texts)


def _words(word_type: WordType, *texts: str) -> tuple[Word, ...]:
    return tuple(Word(text, word_type) for text in texts)


VOCABULARY: tuple[Word, ...] = (
    *(Word(token, WordType.OTHER) for token in SPECIAL_TOKENS),
    Word(".", WordType.OTHER),
    *_words(WordType.DET, "the", "a", "some"),
    *_words(WordType.ADJ, "big", "small", "young", "tired", "hungry"),
    *_nouns("he", NounKind.PERSON, "boy", "man"),
    *_nouns("she", NounKind.PERSON, "girl", "woman"),
    *_nouns("it", NounKind.ANIMAL, "cat", "dog", "bird"),
    *_nouns("it", NounKind.THING, "ball", "box", "mat"),
    *_nouns("they", NounKind.PERSON, "kids"),
    *_nouns("they", NounKind.ANIMAL, "cats", "dogs"),
    *(Word(pronoun, WordType.PRON, pronoun) for pronoun in AGREEMENT_CLASSES),
    *_words(WordType.VERB, "saw", "chased", "liked", "helped", "sat", "slept"),
    *_words(WordType.VERB, "smiled", "ran", "rolled", "fell", "was", "were"),
    *_words(WordType.PREP, "on", "near"),
    *_words(WordType.CONJ, "because", "and", "so"),
    Word("away", WordType.OTHER),
)

TOKENS: tuple[str, ...] = tuple(word.text for word in VOCABULARY)
TOKEN_IDS: dict[str, int] = {token: index for index, token in enumerate(TOKENS)}
WORDS: dict[str, Word] = {word.text: word for word in VOCABULARY}
# The words a learner can type (everything but the special tokens).
KNOWN_WORDS: tuple[str, ...] = tuple(token for token in TOKENS if token not in SPECIAL_TOKENS)

# Sentences for the page's menu. All but the last have exactly one antecedent per
# pronoun; the last is the textbook sentence where two nouns agree with "it".
EXAMPLES: tuple[str, ...] = (
    "The girl sat on the mat because she was tired.",
    "The dogs chased the ball and it rolled away.",
    "A small boy helped the kids so they smiled.",
    "The young woman saw a small cat and it ran away.",
    "Some cats liked the man and he slept.",
    "The cat sat on the mat because it was tired.",
)


def word_type(token: str) -> WordType:
    """The type of a token (``WordType.OTHER`` for unknown and special tokens)."""
    word = WORDS.get(token)
    return word.word_type if word else WordType.OTHER


def agreement(token: str) -> str | None:
    """The agreement class of a noun or pronoun, else ``None``."""
    word = WORDS.get(token)
    return word.agreement if word else None


def is_pronoun(token: str) -> bool:
    return word_type(token) is WordType.PRON


def is_noun(token: str) -> bool:
    return word_type(token) is WordType.NOUN


def encode(tokens: tuple[str, ...] | list[str]) -> NDArray[np.int64]:
    """Token ids, ``(L,)``; a word outside the vocabulary becomes ``<unk>``'s id."""
    return np.array([TOKEN_IDS.get(token, TOKEN_IDS[UNK]) for token in tokens], dtype=np.int64)


def antecedents(tokens: tuple[str, ...] | list[str]) -> dict[int, tuple[int, ...]]:
    """For every pronoun, the earlier nouns that agree with it.

    ``"the girl saw the dog because she ..."`` -> ``{6: (1,)}``: "she" (position 6)
    can only refer to "girl". Several candidates mean the sentence is
    ambiguous for agreement alone; none means the pronoun has no antecedent.

    Returns:
        ``{pronoun position: (candidate noun positions, in order)}``.
    """
    found: dict[int, tuple[int, ...]] = {}
    for position, token in enumerate(tokens):
        if is_pronoun(token):
            found[position] = tuple(
                earlier
                for earlier in range(position)
                if is_noun(tokens[earlier]) and agreement(tokens[earlier]) == token
            )
    return found


def resolved_antecedent(tokens: tuple[str, ...] | list[str], pronoun: int) -> int | None:
    """The one noun a pronoun refers to, or ``None`` if there are none or several."""
    candidates = antecedents(tokens).get(pronoun)
    if candidates is None:
        raise ValueError(f"position {pronoun} is not a pronoun in {list(tokens)}")
    return candidates[0] if len(candidates) == 1 else None


# ----------------------------------------------------------------------------
# The grammar
# ----------------------------------------------------------------------------

_ATTRIBUTIVE = ("big", "small", "young")
_CONJUNCTIONS = ("because", "and", "so")
_NOUNS_BY_KIND = {
    kind: tuple(word.text for word in VOCABULARY if word.kind == kind) for kind in NOUN_KINDS
}
_ANIMATE = _NOUNS_BY_KIND[NounKind.PERSON] + _NOUNS_BY_KIND[NounKind.ANIMAL]
_ALL_NOUNS = _ANIMATE + _NOUNS_BY_KIND[NounKind.THING]
# verb -> which objects make sense after it
_TRANSITIVE = {"saw": _ALL_NOUNS, "chased": _ALL_NOUNS, "liked": _ALL_NOUNS, "helped": _ANIMATE}
# each intransitive verb takes its own preposition: a word pair a head can learn
_INTRANSITIVE = {"sat": "on", "slept": "near"}
# (verb, subject's class) -> objects of another class that make sense after the verb
_TRANSITIVE_VERBS = tuple(_TRANSITIVE)
_INTRANSITIVE_VERBS = tuple(_INTRANSITIVE)
_OBJECTS = {
    (verb, subject_class): tuple(
        noun
        for noun in (_TRANSITIVE[verb] if verb in _TRANSITIVE else _ALL_NOUNS)
        if WORDS[noun].agreement != subject_class
    )
    for verb in (*_TRANSITIVE, *_INTRANSITIVE)
    for subject_class in AGREEMENT_CLASSES
}


def _predicates(noun: str) -> list[tuple[str, ...]]:
    """What can follow the pronoun that refers to ``noun`` ("was tired", "rolled away")."""
    be = "were" if agreement(noun) == "they" else "was"
    kind = WORDS[noun].kind
    if kind is NounKind.THING:
        return [("rolled", "away"), ("fell",)]
    options = [(be, "tired"), (be, "hungry"), ("ran", "away"), ("ran",), ("slept",), ("fell",)]
    if kind is NounKind.PERSON:
        options.append(("smiled",))
    return options


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    """One of ``options``, uniformly (cheaper than ``rng.choice``, which builds an array)."""
    return options[int(rng.random() * len(options))]


def _noun_phrase(rng: np.random.Generator, noun: str, adjective: bool) -> list[str]:
    plural = agreement(noun) == "they"
    phrase = [_pick(rng, ("the", "some") if plural else ("the", "a"))]
    if adjective:
        phrase.append(_pick(rng, _ATTRIBUTIVE))
    return [*phrase, noun]


def generate_sentence(rng: np.random.Generator) -> tuple[str, ...]:
    """One sentence of the grammar, at most :data:`MAX_TOKENS` tokens.

    ``NP1 (verb NP2 | verb prep NP2) conj pronoun predicate .`` where NP1 and
    NP2 belong to different agreement classes and the pronoun agrees with
    exactly one of them (chosen at random), so the antecedent is unique.
    """
    subject = _pick(rng, _ANIMATE)
    if rng.random() < 0.5:
        verb = _pick(rng, _TRANSITIVE_VERBS)
        middle = [verb]
    else:
        verb = _pick(rng, _INTRANSITIVE_VERBS)
        middle = [verb, _INTRANSITIVE[verb]]
    obj = _pick(rng, _OBJECTS[verb, WORDS[subject].agreement])
    referent = subject if rng.random() < 0.5 else obj
    predicates = _predicates(referent)
    predicate = predicates[int(rng.integers(len(predicates)))]
    adjectives = rng.random(2) < 0.3
    first = _noun_phrase(rng, subject, bool(adjectives[0]))
    second = _noun_phrase(rng, obj, bool(adjectives[1]))
    ending = [_pick(rng, _CONJUNCTIONS), str(agreement(referent)), *predicate, "."]
    if len(first) + len(middle) + len(second) + len(ending) > MAX_TOKENS:
        second = [second[0], second[-1]]  # too long with both adjectives: drop the second
    tokens = [*first, *middle, *second, *ending]
    return tuple(tokens)


def generate_sentences(
    count: int, seed: int, *, exclude: set[tuple[str, ...]] | None = None
) -> list[tuple[str, ...]]:
    """``count`` distinct sentences from :func:`generate_sentence`, reproducible from ``seed``.

    Args:
        count: how many sentences (>= 0).
        seed: seeds a ``numpy.random.default_rng``.
        exclude: sentences to leave out (e.g. the training set, to get held-out ones).
    """
    check_int("count", count, minimum=0)
    rng = np.random.default_rng(seed)
    seen: set[tuple[str, ...]] = set(exclude or ())
    sentences: list[tuple[str, ...]] = []
    attempts = 0
    while len(sentences) < count:
        attempts += 1
        if attempts > 50 * count + 1000:
            raise ValueError(f"the grammar cannot produce {count} distinct new sentences")
        sentence = generate_sentence(rng)
        if sentence not in seen:
            seen.add(sentence)
            sentences.append(sentence)
    return sentences


# ----------------------------------------------------------------------------
# What a learner types
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToyTokens(Tokenized):
    """A typed sentence read in the toy vocabulary: :class:`lab.text.Tokenized` and more.

    Attributes:
        tokens: the ``L`` tokens kept, lower-cased, unknown words replaced by ``<unk>``.
        dropped: how many tokens were cut off the end.
        message: plain text (no Markdown) for the learner when something was
            replaced, cut or is missing, else ``None``.
        typed: the ``L`` tokens as typed (for labels), lower-cased.
        unknown: the distinct typed words that became ``<unk>``, in order.
    """

    typed: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def ids(self) -> NDArray[np.int64]:
        return encode(self.tokens)


def _quoted(words: tuple[str, ...], limit: int = 6) -> str:
    shown = ", ".join(f"“{word}”" for word in words[:limit])
    return shown + (f" and {len(words) - limit} more" if len(words) > limit else "")


def toy_tokens(text: str | None, max_tokens: int = MAX_TOKENS) -> ToyTokens:
    """Read a typed sentence in the toy vocabulary.

    Words are lower-cased and split from punctuation (``"tired."`` -> ``"tired"``,
    ``"."``). Words the vocabulary does not know become ``<unk>`` and are listed
    in ``unknown`` and in ``message``; the special tokens cannot be typed (they
    also become ``<unk>``). At most ``max_tokens`` tokens are kept.
    """
    check_int("max_tokens", max_tokens, minimum=1)
    typed = [token.lower() for token in split_tokens(text or "")]
    if not typed:
        return ToyTokens(
            tokens=(),
            dropped=0,
            message="Type a sentence (a few words) to see the heads at work.",
            typed=(),
            unknown=(),
        )
    notes: list[str] = []
    dropped = max(0, len(typed) - max_tokens)
    if dropped:
        notes.append(
            f"That sentence has {len(typed)} tokens; the demo keeps the first {max_tokens} "
            f"({dropped} dropped), the longest sentence the model was built for."
        )
        typed = typed[:max_tokens]
    tokens = tuple(token if token in KNOWN_WORDS else UNK for token in typed)
    unknown = tuple(dict.fromkeys(t for t, k in zip(typed, tokens, strict=True) if k == UNK))
    if unknown:
        notes.insert(
            0,
            f"Not in the toy vocabulary, so read as {UNK}: {_quoted(unknown)}. "
            f"The toy language knows {len(KNOWN_WORDS)} words (listed under the sentence box).",
        )
    return ToyTokens(
        tokens=tokens,
        dropped=dropped,
        message=" ".join(notes) or None,
        typed=tuple(typed),
        unknown=unknown,
    )
