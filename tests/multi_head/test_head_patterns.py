"""Pattern targets and pattern scores: what a head's score means, on hand-made weights."""

from __future__ import annotations

import numpy as np
import pytest

import lab.multi_head.head_patterns as head_patterns
from tests.multi_head.helpers import exactly

GIRL = ("the", "girl", "saw", "the", "dog", "because", "she", "was", "tired", ".")


def test_targets_of_each_pattern():
    targets = head_patterns.pattern_targets(GIRL)
    assert list(targets) == list(head_patterns.PATTERNS)
    L = len(GIRL)
    assert all(target.shape == (L, L) for target in targets.values())
    assert np.array_equal(np.argwhere(targets["previous"]), [[i, i - 1] for i in range(1, L)])
    assert np.array_equal(np.argwhere(targets["next"]), [[i, i + 1] for i in range(L - 1)])
    assert np.array_equal(np.argwhere(targets["first"]), [[i, 0] for i in range(1, L)])
    assert np.array_equal(np.argwhere(targets["self"]), [[i, i] for i in range(L)])
    assert np.array_equal(np.argwhere(targets["same word"]), [[0, 3], [3, 0]])
    assert np.array_equal(np.argwhere(targets["antecedent"]), [[6, 1]])


def test_unknown_words_are_the_same_token_and_ambiguous_pronouns_have_no_target():
    tokens = ("<unk>", "cat", "<unk>", "mat", "it")
    targets = head_patterns.pattern_targets(tokens)
    assert np.argwhere(targets["same word"]).tolist() == [[0, 2], [2, 0]]
    assert not targets["antecedent"].any()  # cat and mat both agree with "it"
    with pytest.raises(ValueError, match=exactly("pattern_targets needs at least one token")):
        head_patterns.pattern_targets(())


def test_scores_of_exact_heads_are_one_and_of_a_uniform_head_one_over_length():
    L = len(GIRL)
    previous = np.eye(L, k=-1)
    previous[0, 0] = 1.0  # the first row has no previous token: look at itself
    uniform = np.full((L, L), 1 / L)
    weights = np.stack([previous, np.eye(L), uniform])  # (H, L, L)
    scores = head_patterns.pattern_scores([weights], [GIRL])
    assert scores.score(0, "previous") == 1.0 and scores.score(0, "next") == 0.0
    assert scores.score(1, "self") == 1.0 and scores.score(1, "previous") == 0.0
    for pattern in ("previous", "next", "first", "antecedent"):
        assert scores.score(2, pattern) == pytest.approx(1 / L)
    assert scores.score(2, "same word") == pytest.approx(1 / L)  # one other copy per row
    assert scores.rows.tolist() == [L - 1, L - 1, L - 1, 2, 1, L]


def test_scores_pool_rows_over_sentences_rather_than_averaging_sentences():
    short = ("the", "cat", ".")
    # head looks at the previous token in the long sentence and at itself in the short one
    long_weights = np.eye(len(GIRL), k=-1)
    long_weights[0, 0] = 1
    short_weights = np.eye(3)
    scores = head_patterns.pattern_scores([long_weights[None], short_weights[None]], [GIRL, short])
    rows = (len(GIRL) - 1) + 2
    assert scores.score(0, "previous") == pytest.approx((len(GIRL) - 1) / rows)


def test_a_pattern_that_never_applies_scores_nan_and_best_skips_it():
    tokens = ("the", "cat", "sat")
    weights = np.eye(3, k=1)
    weights[2, 2] = 1
    scores = head_patterns.pattern_scores([weights[None]], [tokens])
    assert (
        np.isnan(scores.score(0, "antecedent"))
        and scores.rows[head_patterns.PATTERNS.index("antecedent")] == 0
    )
    assert scores.best(0) == ("next", 1.0)
    assert scores.specialised() == {0: "next"}
    assert head_patterns.describe(scores, 0) == "next token 1.00"


def test_describe_says_when_no_pattern_stands_out():
    scores = head_patterns.PatternScores(
        scores=np.array([[0.3, 0.1, 0.2, np.nan, 0.1, 0.9]]), rows=np.ones(6, dtype=np.int64)
    )
    # looking at itself does not count as specialising
    assert head_patterns.describe(scores, 0) == "no single pattern (best: previous token 0.30)"
    assert scores.specialised() == {}
    empty = head_patterns.PatternScores(
        scores=np.full((1, 6), np.nan), rows=np.zeros(6, dtype=np.int64)
    )
    assert head_patterns.describe(empty, 0) == "no pattern measured"


def test_bad_inputs():
    wrong_shape = "head weights must have shape (H, 3, 3) for a sentence of 3 tokens, got (2, 3, 4)"
    with pytest.raises(ValueError, match=exactly(wrong_shape)):
        head_patterns.pattern_scores([np.ones((2, 3, 4))], [("a", "b", "c")])
    with pytest.raises(ValueError, match=exactly("every sentence needs 2 heads, got 3")):
        head_patterns.pattern_scores(
            [np.ones((2, 2, 2)), np.ones((3, 2, 2))], [("a", "b"), ("a", "b")]
        )
    with pytest.raises(ValueError, match=exactly("pattern_scores needs at least one sentence")):
        head_patterns.pattern_scores([], [])
    unmatched = "1 sets of head weights for 0 sentences; pass one (H, L, L) array per sentence"
    with pytest.raises(ValueError, match=exactly(unmatched)):
        head_patterns.pattern_scores([np.ones((1, 2, 2))], [])
    with pytest.raises(ValueError, match=exactly("'colour' is not a valid Pattern")):
        head_patterns.PatternScores(np.zeros((1, 6)), np.ones(6, dtype=np.int64)).score(0, "colour")


def test_patterns_are_a_closed_set_with_labels():
    assert (
        head_patterns.PATTERNS == tuple(head_patterns.Pattern) and len(head_patterns.PATTERNS) == 6
    )
    assert (
        head_patterns.Pattern("same word") is head_patterns.Pattern.SAME_WORD
    )  # the value a checkpoint stores
    assert (
        head_patterns.SPECIALISED_PATTERNS == head_patterns.PATTERNS[:-1]
        and head_patterns.Pattern.SELF not in head_patterns.SPECIALISED_PATTERNS
    )
    assert [pattern.label for pattern in head_patterns.PATTERNS] == [
        head_patterns.PATTERN_LABELS[p] for p in head_patterns.PATTERNS
    ]
    assert head_patterns.Pattern.PREVIOUS.label == "previous token"
    assert [pattern.short for pattern in head_patterns.PATTERNS] == [
        "previous",
        "next",
        "first",
        "same word",
        "pronoun→noun",
        "itself",
    ]


def test_targets_are_boolean_and_row_counts_whole_numbers():
    targets = head_patterns.pattern_targets(GIRL)
    assert all(target.dtype == np.bool_ for target in targets.values())
    scores = head_patterns.pattern_scores([np.full((1, len(GIRL), len(GIRL)), 0.1)], [GIRL])
    assert scores.rows.dtype == np.int64
    assert [f"{rows}" for rows in scores.rows] == ["9", "9", "9", "2", "1", "10"]


def test_a_score_equal_to_the_threshold_counts_as_specialised():
    scores = head_patterns.PatternScores(
        scores=np.array([[0.6, 0.1, 0.2, np.nan, 0.1, 0.9], [0.59, 0.1, 0.2, 0.3, 0.1, 0.9]]),
        rows=np.ones(6, dtype=np.int64),
    )
    assert scores.specialised() == {0: head_patterns.Pattern.PREVIOUS}
    assert head_patterns.describe(scores, 0) == "previous token 0.60"
    assert head_patterns.describe(scores, 1) == "no single pattern (best: previous token 0.59)"


def test_float32_weights_are_summed_in_float64():
    rng = np.random.default_rng(3)
    weights = rng.random((2, len(GIRL), len(GIRL)))
    weights = (weights / weights.sum(axis=-1, keepdims=True)).astype(np.float32)
    narrow = head_patterns.pattern_scores([weights], [GIRL]).scores
    wide = head_patterns.pattern_scores([weights.astype(np.float64)], [GIRL]).scores
    np.testing.assert_array_equal(narrow, wide)


def test_head_weights_that_are_not_numbers_are_named():
    message = "head weights must hold real numbers, got dtype <U1"
    with pytest.raises(ValueError, match=exactly(message)):
        head_patterns.pattern_scores([np.full((1, 2, 2), "a")], [("a", "b")])
