"""Measure what an attention head looks at: the share of its weight on a pattern's target.

A *pattern* names, for every query position of a sentence, the key positions
a head with that habit would look at: the previous token, the next token, the
first token, the other copies of the same word, the noun a pronoun refers to,
or the token itself. A head's *pattern score* is the average, over the query
rows where the pattern applies, of the weight the head puts on those targets:
1 means it always looks exactly there; a uniform head over ``L`` tokens scores
about ``1 / L``.

Shapes:
    H   heads
    L   queries (tokens of one sentence)
    S   keys (= L: self-attention)
    P   patterns
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lab.checks import as_real
from lab.multi_head.toy_language import antecedents


class Pattern(StrEnum):
    """Where a head with a habit looks from each query; the values name them in checkpoints."""

    PREVIOUS = "previous"
    NEXT = "next"
    FIRST = "first"
    SAME_WORD = "same word"
    ANTECEDENT = "antecedent"
    SELF = "self"

    @property
    def label(self) -> str:
        """How the page names the pattern in a sentence: ``"previous token"``."""
        return PATTERN_LABELS[self]

    @property
    def short(self) -> str:
        """A column heading of the pattern tables: ``"pronoun→noun"``."""
        return {Pattern.ANTECEDENT: "pronoun→noun", Pattern.SELF: "itself"}.get(self, self.value)


PATTERNS: tuple[Pattern, ...] = tuple(Pattern)
PATTERN_LABELS: dict[Pattern, str] = {
    Pattern.PREVIOUS: "previous token",
    Pattern.NEXT: "next token",
    Pattern.FIRST: "first token",
    Pattern.SAME_WORD: "same word elsewhere",
    Pattern.ANTECEDENT: "pronoun → its noun",
    Pattern.SELF: "itself",
}
# Looking at yourself is what a head does when nothing else helps; it does not
# count as specialising.
SPECIALISED_PATTERNS: tuple[Pattern, ...] = PATTERNS[:-1]
SPECIALISED_AT = 0.6  # a head specialises in a pattern when its score reaches this


def pattern_targets(tokens: Sequence[str]) -> dict[Pattern, NDArray[np.bool_]]:
    """For each pattern, a boolean ``(L, S)`` matrix: ``True`` at the targets of row ``i``.

    A row that is all ``False`` is a query where the pattern does not apply
    (the first token has no previous token; a word that occurs once has no
    other copy; only a pronoun with exactly one agreeing noun has an antecedent).
    """
    length = len(tokens)
    if length == 0:
        raise ValueError("pattern_targets needs at least one token")
    positions = np.arange(length)
    targets = {
        Pattern.PREVIOUS: positions[None, :] == positions[:, None] - 1,
        Pattern.NEXT: positions[None, :] == positions[:, None] + 1,
        Pattern.FIRST: (positions[None, :] == 0) & (positions[:, None] >= 1),
        Pattern.SELF: np.eye(length, dtype=bool),
    }
    words = np.array(list(tokens), dtype=object)
    # the same token: two unknown words both read as <unk> count as the same word
    same = (words[:, None] == words[None, :]) & ~np.eye(length, dtype=bool)
    targets[Pattern.SAME_WORD] = same
    antecedent = np.zeros((length, length), dtype=bool)
    for pronoun, candidates in antecedents(tokens).items():
        if len(candidates) == 1:
            antecedent[pronoun, candidates[0]] = True
    targets[Pattern.ANTECEDENT] = antecedent
    return {name: targets[name] for name in PATTERNS}


@dataclass(frozen=True)
class PatternScores:
    """Pattern scores of ``H`` heads, pooled over the query rows of one or more sentences.

    Attributes:
        scores: ``(H, P)``; ``scores[h, p]`` is head ``h``'s average weight on
            pattern ``p``'s targets, NaN where the pattern never applied.
        rows: ``(P,)`` how many query rows each score averages over.
    """

    scores: NDArray[np.floating]
    rows: NDArray[np.int64]

    def score(self, head: int, pattern: Pattern | str) -> float:
        """Head ``head``'s score on ``pattern`` (NaN if the pattern never applied)."""
        return float(self.scores[head, PATTERNS.index(Pattern(pattern))])

    def best(
        self, head: int, patterns: Sequence[Pattern] = SPECIALISED_PATTERNS
    ) -> tuple[Pattern, float]:
        """The pattern (among ``patterns``) with the head's highest score, and that score."""
        columns = [PATTERNS.index(name) for name in patterns]
        values = self.scores[head, columns]
        if np.all(np.isnan(values)):
            return patterns[0], float("nan")
        index = int(np.nanargmax(values))
        return patterns[index], float(values[index])

    def specialised(self, threshold: float = SPECIALISED_AT) -> dict[int, Pattern]:
        """Heads whose best specialised pattern scores at least ``threshold``: ``{head: pattern}``."""
        found = {}
        for head in range(self.scores.shape[0]):
            pattern, value = self.best(head)
            if value >= threshold:
                found[head] = pattern
        return found


def pattern_scores(
    head_weights: Iterable[ArrayLike], sentences: Iterable[Sequence[str]]
) -> PatternScores:
    """Pool the pattern scores of ``H`` heads over sentences.

    Args:
        head_weights: one ``(H, L, S)`` array of attention weights per sentence
            (``L = S`` = that sentence's length).
        sentences: the matching token sequences.

    Returns:
        :class:`PatternScores`: for each head and pattern, the weight on the
        targets summed over every applicable row of every sentence, divided by
        the number of those rows.
    """
    head_weights, sentences = list(head_weights), list(sentences)
    if len(head_weights) != len(sentences):
        raise ValueError(
            f"{len(head_weights)} sets of head weights for {len(sentences)} sentences; "
            "pass one (H, L, L) array per sentence"
        )
    totals: NDArray[np.floating] | None = None
    rows = np.zeros(len(PATTERNS), dtype=np.int64)
    for weights, tokens in zip(head_weights, sentences, strict=True):
        array = as_real("head weights", weights, dtype=np.float64)
        length = len(tokens)
        if array.ndim != 3 or array.shape[1:] != (length, length):
            raise ValueError(
                f"head weights must have shape (H, {length}, {length}) for a sentence of "
                f"{length} tokens, got {array.shape}"
            )
        if totals is None:
            totals = np.zeros((array.shape[0], len(PATTERNS)))
        elif array.shape[0] != totals.shape[0]:
            raise ValueError(f"every sentence needs {totals.shape[0]} heads, got {array.shape[0]}")
        for index, target in enumerate(pattern_targets(tokens).values()):
            applies = target.any(axis=1)  # (L,)
            rows[index] += int(applies.sum())
            # weight on the targets, summed over the rows where the pattern applies
            totals[:, index] += np.sum(array * target, axis=(1, 2))  # (H,)
    if totals is None:
        raise ValueError("pattern_scores needs at least one sentence")
    scores = np.where(rows > 0, totals / np.maximum(rows, 1), np.nan)  # (H, P)
    return PatternScores(scores=scores, rows=rows)


def describe(scores: PatternScores, head: int, threshold: float = SPECIALISED_AT) -> str:
    """A caption: ``"previous token 0.82"``, or ``"no single pattern (best: next token 0.41)"``."""
    pattern, value = scores.best(head)
    if np.isnan(value):
        return "no pattern measured"
    label = f"{PATTERN_LABELS[pattern]} {value:.2f}"
    return label if value >= threshold else f"no single pattern (best: {label})"
