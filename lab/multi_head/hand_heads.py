"""Five attention heads set by hand, each interpretable by construction.

Every token becomes a vector of named 0/1 features (:func:`features`): its
position (``pos 3``), its word type (``type: noun``), for nouns the pronoun
that agrees with them (``noun ~ she``), a constant ``bias`` and the word itself
(``word: girl``). A head's ``W_q`` and ``W_k`` pick features and place them in
the same columns, so ``q_i · k_j / sqrt(E)`` is a *rule* written in features:

* previous token: query "I am at position i" meets key "I am at position i-1";
* next token: the same with i+1;
* first token: every query (``bias``) meets key "I am at position 0";
* same word: query "I am word w" meets key "I am word w", except at its own position;
* pronoun -> noun: query "I am the word she" meets key "I am a noun that agrees with she".

A match scores ``strength`` (beta), the token itself scores ``fallback``
(alpha < beta; the head's resting place when its rule finds nothing), all else
0. With beta = 10 and alpha = 5, a row of 12 tokens puts about 0.99 of its
weight on the target, or 0.93 on itself when the rule does not apply.

Each head's value is the key's word type (one-hot), so a head's output says
what *kind* of word it found; ``W_o`` adds the heads' findings type by type.

Shapes:
    L   tokens
    F   features per token (positions, types, agreement, bias, words)
    H   heads (5)
    E   query/key size per head
    T   word types (the value size per head)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from lab.attention import FloatArray
from lab.multi_head.compute import MultiHeadSteps, multi_head_steps
from lab.multi_head.head_patterns import Pattern, PatternScores, pattern_scores, pattern_targets
from lab.multi_head.toy_language import (
    AGREEMENT_CLASSES,
    MAX_TOKENS,
    TOKENS,
    WORD_TYPES,
    agreement,
    is_noun,
    word_type,
)

POSITION_FEATURES = tuple(f"pos {index}" for index in range(MAX_TOKENS))
TYPE_FEATURES = tuple(f"type: {name}" for name in WORD_TYPES)
AGREEMENT_FEATURES = tuple(f"noun ~ {name}" for name in AGREEMENT_CLASSES)
WORD_FEATURES = tuple(f"word: {token}" for token in TOKENS)
FEATURES: tuple[str, ...] = (
    *POSITION_FEATURES,
    *TYPE_FEATURES,
    *AGREEMENT_FEATURES,
    "bias",
    *WORD_FEATURES,
)
FEATURE_INDEX = {name: index for index, name in enumerate(FEATURES)}


@dataclass(frozen=True)
class HandHeadsConfig:
    """How sharp the hand-set heads are."""

    strength: float = 10.0  # beta: score of a match after the 1/sqrt(E) scaling
    fallback: float = 5.0  # alpha: score of the token itself, where the rule finds nothing
    key_size: int = 64  # E per head: room for the same-word rule (every word plus positions)


@dataclass(frozen=True)
class HandHead:
    """One hand-set head.

    Attributes:
        name: short name, e.g. ``"previous token"``.
        pattern: the :class:`Pattern` it implements.
        rule: one sentence saying how ``W_q`` and ``W_k`` produce the pattern.
        w_q: ``(F, E)``; ``w_k``: ``(F, E)``; ``w_v``: ``(F, T)``.
    """

    name: str
    pattern: Pattern
    rule: str
    w_q: FloatArray
    w_k: FloatArray
    w_v: FloatArray


@dataclass(frozen=True)
class HandModel:
    """The five heads as one multi-head layer: ``(F, H*E)`` projections and ``W_o``."""

    heads: tuple[HandHead, ...]
    w_q: FloatArray  # (F, H * E)
    w_k: FloatArray  # (F, H * E)
    w_v: FloatArray  # (F, H * T)
    w_o: FloatArray  # (H * T, T)
    config: HandHeadsConfig

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(head.name for head in self.heads)


def features(tokens: tuple[str, ...] | list[str]) -> FloatArray:
    """The feature matrix ``X`` of a sentence, ``(L, F)``, one 0/1 row per token.

    Unknown words use the ``<unk>`` word feature and the type ``other``.
    """
    length = len(tokens)
    if length == 0:
        raise ValueError("features needs at least one token")
    if length > MAX_TOKENS:
        raise ValueError(
            f"the hand-set heads know {MAX_TOKENS} positions, got {length} tokens; "
            "read the sentence with toy_tokens, which keeps the first max_tokens"
        )
    x = np.zeros((length, len(FEATURES)))
    for position, token in enumerate(tokens):
        x[position, FEATURE_INDEX[f"pos {position}"]] = 1.0
        x[position, FEATURE_INDEX[f"type: {word_type(token)}"]] = 1.0
        if is_noun(token):
            x[position, FEATURE_INDEX[f"noun ~ {agreement(token)}"]] = 1.0
        x[position, FEATURE_INDEX["bias"]] = 1.0
        known = token if f"word: {token}" in FEATURE_INDEX else "<unk>"
        x[position, FEATURE_INDEX[f"word: {known}"]] = 1.0
    return x


def _empty(config: HandHeadsConfig) -> tuple[FloatArray, FloatArray]:
    return np.zeros((len(FEATURES), config.key_size)), np.zeros((len(FEATURES), config.key_size))


def _type_values() -> FloatArray:
    """``W_v`` shared by every head: feature ``type: t`` -> value column ``t``. ``(F, T)``."""
    w_v = np.zeros((len(FEATURES), len(WORD_TYPES)))
    for column, name in enumerate(TYPE_FEATURES):
        w_v[FEATURE_INDEX[name], column] = 1.0
    return w_v


def _positional_head(
    name: str, pattern: Pattern, offset: int, config: HandHeadsConfig, rule: str
) -> HandHead:
    """A head whose query at position i looks for the key at position i + offset."""
    w_q, w_k = _empty(config)
    on = math.sqrt(config.key_size)  # cancels the 1/sqrt(E) of the scaling
    for position in range(MAX_TOKENS):
        row = FEATURE_INDEX[f"pos {position}"]
        w_q[row, position] = on  # query i lights up column i
        w_k[row, position] = config.fallback  # key i answers column i a little (itself)
        target_of = position - offset  # key j is the target of query j - offset
        if 0 <= target_of < MAX_TOKENS:
            w_k[row, target_of] = config.strength
    return HandHead(name, pattern, rule, w_q, w_k, _type_values())


def _first_token_head(config: HandHeadsConfig) -> HandHead:
    w_q, w_k = _empty(config)
    w_q[FEATURE_INDEX["bias"], 0] = math.sqrt(config.key_size)  # every query asks the same
    w_k[FEATURE_INDEX["pos 0"], 0] = config.strength  # only position 0 answers
    rule = (
        "Every query is the same (the bias feature), and only the key at position 0 "
        "answers it, so every row looks at the first token."
    )
    return HandHead("first token", Pattern.FIRST, rule, w_q, w_k, _type_values())


def _own_position(
    w_q: FloatArray, w_k: FloatArray, first: int, score: float, config: HandHeadsConfig
) -> None:
    """Add ``score`` to every token's match with itself, in columns ``first, first + 1, ...``.

    Query and key at position ``i`` both light up column ``first + i``, so the
    term only ever meets the token itself.
    """
    on = math.sqrt(config.key_size)
    for position in range(MAX_TOKENS):
        row = FEATURE_INDEX[f"pos {position}"]
        w_q[row, first + position] = on
        w_k[row, first + position] = score


def _same_word_head(config: HandHeadsConfig) -> HandHead:
    w_q, w_k = _empty(config)
    on = math.sqrt(config.key_size)
    # every token, <unk> included: two unknown words both read as <unk>, and nothing
    # in X tells them apart
    words = list(TOKENS)
    if len(words) + MAX_TOKENS > config.key_size:
        raise ValueError(
            f"key_size {config.key_size} is too small for {len(words)} words and "
            f"{MAX_TOKENS} positions; use at least {len(words) + MAX_TOKENS}"
        )
    for column, token in enumerate(words):
        row = FEATURE_INDEX[f"word: {token}"]
        w_q[row, column] = on  # query "I am word w" ...
        w_k[row, column] = config.strength  # ... meets key "I am word w"
    # at its own position a word's match is lowered from beta to alpha
    _own_position(w_q, w_k, len(words), config.fallback - config.strength, config)
    rule = (
        "Query and key both carry the word itself, so a word matches every copy of "
        "itself; a position term takes the match back down at the word's own position, "
        "so another copy wins and a word with no copy rests on itself."
    )
    return HandHead("same word", Pattern.SAME_WORD, rule, w_q, w_k, _type_values())


def _pronoun_head(config: HandHeadsConfig) -> HandHead:
    w_q, w_k = _empty(config)
    on = math.sqrt(config.key_size)
    for column, pronoun in enumerate(AGREEMENT_CLASSES):
        w_q[FEATURE_INDEX[f"word: {pronoun}"], column] = on  # query "I am she" ...
        w_k[FEATURE_INDEX[f"noun ~ {pronoun}"], column] = config.strength  # ... meets "noun ~ she"
    _own_position(w_q, w_k, len(AGREEMENT_CLASSES), config.fallback, config)  # rest on itself
    rule = (
        "Only pronouns ask for a noun (he, she, it, they each light up their own column), "
        "and only nouns of the agreeing class answer; every other word, and a pronoun that "
        "no noun answers, rests on itself."
    )
    return HandHead("pronoun → noun", Pattern.ANTECEDENT, rule, w_q, w_k, _type_values())


@cache
def hand_model(config: HandHeadsConfig = HandHeadsConfig()) -> HandModel:
    """The five hand-set heads, stacked into one multi-head layer.

    ``W_o`` is ``H`` identity blocks stacked: the output row of a token is the
    sum over heads of the word type each head found.
    """
    if not 0 < config.fallback < config.strength:
        raise ValueError(
            f"need 0 < fallback < strength, got fallback={config.fallback}, "
            f"strength={config.strength}"
        )
    heads = (
        _positional_head(
            "previous token",
            Pattern.PREVIOUS,
            -1,
            config,
            "The query at position i and the key at position i-1 light up the same column, "
            "so each row looks one step back; the first token has no previous one and "
            "rests on itself.",
        ),
        _positional_head(
            "next token",
            Pattern.NEXT,
            +1,
            config,
            "The query at position i and the key at position i+1 light up the same column, "
            "so each row looks one step ahead; the last token rests on itself.",
        ),
        _first_token_head(config),
        _same_word_head(config),
        _pronoun_head(config),
    )
    model = HandModel(
        heads=heads,
        w_q=np.hstack([head.w_q for head in heads]),
        w_k=np.hstack([head.w_k for head in heads]),
        w_v=np.hstack([head.w_v for head in heads]),
        w_o=np.vstack([np.eye(len(WORD_TYPES))] * len(heads)),  # (H * T, T)
        config=config,
    )
    # The model is cached and shared: freeze its arrays so no caller can change them.
    for array in (model.w_q, model.w_k, model.w_v, model.w_o):
        array.setflags(write=False)
    for head in heads:
        for array in (head.w_q, head.w_k, head.w_v):
            array.setflags(write=False)
    return model


def run_hand_heads(
    tokens: tuple[str, ...] | list[str],
    config: HandHeadsConfig = HandHeadsConfig(),
    head_gates: NDArray[np.floating] | None = None,
) -> MultiHeadSteps:
    """The five hand-set heads on a sentence, through :func:`multi_head_steps`."""
    model = hand_model(config)
    return multi_head_steps(
        features(tokens),
        model.w_q,
        model.w_k,
        model.w_v,
        model.w_o,
        len(model.heads),
        head_gates=head_gates,
    )


def hand_pattern_scores(
    sentences: list[tuple[str, ...]], config: HandHeadsConfig = HandHeadsConfig()
) -> PatternScores:
    """The pattern scores of the five hand-set heads, pooled over ``sentences``."""
    return pattern_scores(
        (run_hand_heads(sentence, config).head_weights for sentence in sentences), sentences
    )


def intended_targets(tokens: tuple[str, ...] | list[str]) -> NDArray[np.bool_]:
    """``(H, L, S)`` boolean: where each hand-set head is built to look.

    The head's pattern target where the pattern applies; the token itself where
    it does not (the fallback), except for the first-token head, whose first
    row's target is the first token (itself).
    """
    model = hand_model()
    targets = pattern_targets(tokens)
    length = len(tokens)
    out = np.zeros((len(model.heads), length, length), dtype=bool)
    for index, head in enumerate(model.heads):
        target = targets[head.pattern].copy()
        if head.pattern is Pattern.ANTECEDENT:
            # a pronoun with several agreeing nouns looks at all of them
            for pronoun in np.flatnonzero([t in AGREEMENT_CLASSES for t in tokens]):
                for noun in range(length):
                    if is_noun(tokens[noun]) and agreement(tokens[noun]) == tokens[pronoun]:
                        target[pronoun, noun] = True
        empty = ~target.any(axis=1)
        target[empty, empty.nonzero()[0]] = True  # no target: itself
        out[index] = target
    return out


@dataclass(frozen=True)
class HeadExplanation:
    """The parts of one head's ``W_q`` and ``W_k`` that a sentence uses.

    Attributes:
        query_features, key_features: names of the rows kept (features that are
            on in some token of the sentence and nonzero in the matrix).
        columns: which of the head's ``E`` columns are kept (nonzero in both).
        w_q: ``(len(query_features), len(columns))``; ``w_k`` likewise.
        scores: ``(L, S)`` this head's ``Q K^T / sqrt(E)`` for the sentence.
    """

    query_features: tuple[str, ...]
    key_features: tuple[str, ...]
    columns: tuple[int, ...]
    w_q: FloatArray
    w_k: FloatArray
    scores: FloatArray


def explain_head(
    head: HandHead, tokens: tuple[str, ...] | list[str], config: HandHeadsConfig = HandHeadsConfig()
) -> HeadExplanation:
    """Cut a head's ``W_q`` and ``W_k`` down to what a sentence uses, and its scores.

    Rows: features that are on for some token and nonzero in the matrix.
    Columns: those where both the kept query rows and the kept key rows are
    nonzero (a column used by only one side adds nothing to ``q · k``).
    """
    x = features(tokens)  # (L, F)
    present = x.any(axis=0)  # (F,)
    query_rows = np.flatnonzero(present & head.w_q.any(axis=1))
    key_rows = np.flatnonzero(present & head.w_k.any(axis=1))
    used = head.w_q[query_rows].any(axis=0) & head.w_k[key_rows].any(axis=0)  # (E,)
    columns = np.flatnonzero(used)
    scores = (x @ head.w_q) @ (x @ head.w_k).T / math.sqrt(config.key_size)  # (L, S)
    return HeadExplanation(
        query_features=tuple(FEATURES[row] for row in query_rows),
        key_features=tuple(FEATURES[row] for row in key_rows),
        columns=tuple(int(column) for column in columns),
        w_q=head.w_q[np.ix_(query_rows, columns)],
        w_k=head.w_k[np.ix_(key_rows, columns)],
        scores=scores,
    )
