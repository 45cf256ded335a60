"""The hand-set heads look where they were built to look, for the reasons they give."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lab.attention import softmax
from lab.multi_head import (
    AGREEMENT_CLASSES,
    EXAMPLES,
    FEATURE_INDEX,
    FEATURES,
    MAX_TOKENS,
    TOKENS,
    WORD_TYPES,
    HandHeadsConfig,
    Pattern,
    explain_head,
    features,
    generate_sentences,
    hand_model,
    hand_pattern_scores,
    intended_targets,
    pattern_scores,
    run_hand_heads,
    toy_tokens,
)
from tests.multi_head.helpers import GIRL, exactly
from tests.refusals import assert_refuses

AT_LEAST = 0.9  # the bar: each head's share of weight on its target, in every row
SENTENCES = generate_sentences(300, seed=21) + [toy_tokens(text).tokens for text in EXAMPLES[:-1]]
PREVIOUS, NEXT, FIRST, SAME, PRONOUN = range(5)


def weights_of(tokens, head):
    return run_hand_heads(tokens).head_weights[head]


def test_heads_are_the_five_patterns_in_order():
    model = hand_model()
    assert [head.pattern for head in model.heads] == [
        "previous",
        "next",
        "first",
        "same word",
        "antecedent",
    ]
    assert model.w_q.shape == (len(FEATURES), 5 * 64) and model.w_o.shape == (40, len(WORD_TYPES))


@pytest.mark.parametrize("sentence", SENTENCES[:60] + SENTENCES[-5:])
def test_positional_heads_put_their_weight_on_the_right_neighbour(sentence):
    L = len(sentence)
    previous, following, first = (weights_of(sentence, h) for h in (PREVIOUS, NEXT, FIRST))
    for i in range(L):
        assert previous[i, i - 1 if i else 0] >= AT_LEAST  # the first word looks at itself
        assert following[i, i + 1 if i < L - 1 else i] >= AT_LEAST
        assert first[i, 0] >= AT_LEAST


def test_pronoun_head_finds_the_antecedent_in_the_textbook_sentences():
    girl = toy_tokens("The girl sat on the mat because she was tired.").tokens
    assert weights_of(girl, PRONOUN)[7, 1] >= AT_LEAST  # she -> girl
    ball = toy_tokens("The dogs chased the ball and it rolled away.").tokens
    assert weights_of(ball, PRONOUN)[6, 4] >= AT_LEAST  # it -> ball, not the dogs
    kids = toy_tokens("A small boy helped the kids so they smiled.").tokens
    assert weights_of(kids, PRONOUN)[7, 5] >= AT_LEAST  # they -> kids
    # words that are not pronouns rest on themselves
    assert all(weights_of(girl, PRONOUN)[i, i] >= AT_LEAST for i in range(len(girl)) if i != 7)


def test_pronoun_head_splits_when_two_nouns_agree():
    cat = toy_tokens("The cat sat on the mat because it was tired.").tokens
    row = weights_of(cat, PRONOUN)[7]
    assert row[1] + row[5] >= AT_LEAST
    assert row[1] == pytest.approx(row[5])  # word types cannot prefer cat to mat


def test_same_word_head_looks_at_the_other_copy():
    tokens = ("the", "dog", "saw", "the", "dog", ".")
    weights = weights_of(tokens, SAME)
    for i, j in [(0, 3), (3, 0), (1, 4), (4, 1)]:
        assert weights[i, j] >= AT_LEAST
    for i in (2, 5):  # no copy: rest on itself
        assert weights[i, i] >= AT_LEAST
    # two unknown words both read as <unk>: to the head they are the same word
    unknown = weights_of(toy_tokens("the zebra saw a yak").tokens, SAME)
    assert unknown[1, 4] >= AT_LEAST and unknown[4, 1] >= AT_LEAST


def test_every_head_meets_the_bar_in_every_row_of_the_toy_sentences():
    for sentence in SENTENCES:
        weights = run_hand_heads(sentence).head_weights  # (H, L, L)
        share = np.sum(weights * intended_targets(sentence), axis=-1)  # (H, L)
        assert share.min() >= AT_LEAST, (sentence, share.min(axis=1))


def test_held_out_pattern_scores_of_each_head_on_its_own_pattern():
    scores = hand_pattern_scores(generate_sentences(100, seed=5))
    for index, head in enumerate(hand_model().heads):
        assert scores.score(index, head.pattern) >= AT_LEAST
        assert scores.best(index) == (head.pattern, scores.score(index, head.pattern))


def test_layer_is_plain_multi_head_attention_with_scale_one_over_sqrt_e():
    tokens = toy_tokens("The girl sat on the mat because she was tired.").tokens
    x = features(tokens)
    steps = run_hand_heads(tokens)
    for index, head in enumerate(hand_model().heads):
        scores = (x @ head.w_q) @ (x @ head.w_k).T / math.sqrt(64)
        np.testing.assert_allclose(steps.head_weights[index], softmax(scores), atol=1e-12)
    # W_o adds up what the heads found, type by type
    np.testing.assert_allclose(steps.output, steps.head_outputs.sum(axis=0), atol=1e-12)
    # each head's output row is the word-type mix of where it looked: rows sum to 1
    np.testing.assert_allclose(steps.head_outputs.sum(axis=-1), 1.0, atol=1e-12)


def test_previous_head_reports_the_previous_words_type():
    tokens = toy_tokens("The girl sat on the mat because she was tired.").tokens
    outputs = run_hand_heads(tokens).head_outputs[PREVIOUS]  # (L, T)
    assert WORD_TYPES[int(np.argmax(outputs[1]))] == "det"  # before "girl": "the"
    assert WORD_TYPES[int(np.argmax(outputs[8]))] == "pron"  # before "was": "she"


@pytest.mark.parametrize("head", range(5))
def test_explanation_keeps_everything_that_matters(head):
    tokens = toy_tokens("The girl sat on the mat because she was tired.").tokens
    model = hand_model()
    parts = explain_head(model.heads[head], tokens)
    x = features(tokens)
    query_rows = [FEATURE_INDEX[name] for name in parts.query_features]
    key_rows = [FEATURE_INDEX[name] for name in parts.key_features]
    # the cut-down matrices give exactly the head's scores on this sentence
    rebuilt = (x[:, query_rows] @ parts.w_q) @ (x[:, key_rows] @ parts.w_k).T / math.sqrt(64)
    np.testing.assert_allclose(rebuilt, parts.scores, atol=1e-12)
    assert len(parts.columns) < 64 and len(parts.query_features) <= len(FEATURES)


def test_explanation_of_the_previous_head_is_a_shifted_diagonal():
    tokens = ("the", "cat", "sat", ".")
    parts = explain_head(hand_model().heads[PREVIOUS], tokens)
    config = HandHeadsConfig()
    assert np.argwhere(parts.scores == config.strength).tolist() == [[1, 0], [2, 1], [3, 2]]
    assert np.all(np.diag(parts.scores) == config.fallback)
    assert parts.query_features == ("pos 0", "pos 1", "pos 2", "pos 3")


def test_features_are_one_hot_blocks():
    x = features(("the", "zebra", "girl"))
    assert x.shape == (3, len(FEATURES))
    assert x[1, FEATURE_INDEX["word: <unk>"]] == 1 and x[1, FEATURE_INDEX["type: other"]] == 1
    assert x[2, FEATURE_INDEX["noun ~ she"]] == 1 and x[0, FEATURE_INDEX["noun ~ she"]] == 0
    assert np.all(x[:, FEATURE_INDEX["bias"]] == 1)
    assert x.sum(axis=1).tolist() == [4, 4, 5]  # position, type, bias, word (+ class for nouns)
    with pytest.raises(ValueError, match=exactly("features needs at least one token")):
        features(())
    too_long = (
        f"the hand-set heads know {MAX_TOKENS} positions, got {MAX_TOKENS + 1} tokens; "
        "read the sentence with toy_tokens, which keeps the first max_tokens"
    )
    with pytest.raises(ValueError, match=exactly(too_long)):
        features(("the",) * (MAX_TOKENS + 1))


def test_model_is_shared_read_only_and_checks_its_config():
    model = hand_model()
    assert hand_model() is model
    with pytest.raises(ValueError):
        model.w_q[0, 0] = 1.0
    order = "need 0 < fallback < strength, got fallback=5.0, strength=4.0"
    with pytest.raises(ValueError, match=exactly(order)):
        hand_model(HandHeadsConfig(strength=4.0, fallback=5.0))
    small = "key_size 16 is too small for 46 words and 12 positions; use at least 58"
    with pytest.raises(ValueError, match=exactly(small)):
        hand_model(HandHeadsConfig(key_size=16))


def test_a_pronoun_no_noun_answers_rests_on_itself():
    """The pronoun head's rule says so: "she saw the dog" has no noun of the she class."""
    tokens = ("she", "saw", "the", "dog", ".")
    weights = weights_of(tokens, PRONOUN)
    assert all(weights[i, i] >= AT_LEAST for i in range(len(tokens)))
    assert "a pronoun that no noun answers, rests on itself" in hand_model().heads[PRONOUN].rule


# hand_model is cached: a test that calls it may get a model another test built before. These
# tests build the model again from its parts, so they see what the builders write.
build_afresh = hand_model.__wrapped__
ON = 8.0  # sqrt(E) = sqrt(64): a query's 1 cancels the 1/sqrt(E) of the scaling
RULES = {
    "previous token": (
        "The query at position i and the key at position i-1 light up the same column, "
        "so each row looks one step back; the first token has no previous one and "
        "rests on itself."
    ),
    "next token": (
        "The query at position i and the key at position i+1 light up the same column, "
        "so each row looks one step ahead; the last token rests on itself."
    ),
    "first token": (
        "Every query is the same (the bias feature), and only the key at position 0 "
        "answers it, so every row looks at the first token."
    ),
    "same word": (
        "Query and key both carry the word itself, so a word matches every copy of "
        "itself; a position term takes the match back down at the word's own position, "
        "so another copy wins and a word with no copy rests on itself."
    ),
    "pronoun → noun": (
        "Only pronouns ask for a noun (he, she, it, they each light up their own column), "
        "and only nouns of the agreeing class answer; every other word, and a pronoun that "
        "no noun answers, rests on itself."
    ),
}


def entries(matrix):
    """The nonzero entries of an ``(F, columns)`` matrix: ``{(feature, column): value}``."""
    return {
        (FEATURES[row], int(column)): float(matrix[row, column])
        for row, column in np.argwhere(matrix)
    }


def own_position(first, score):
    """Query and key at position i both in column first + i: the token meets itself."""
    query = {(f"pos {i}", first + i): ON for i in range(MAX_TOKENS)}
    key = {(f"pos {i}", first + i): score for i in range(MAX_TOKENS)}
    return query, key


def test_each_head_is_built_from_exactly_the_entries_its_rule_names():
    model = build_afresh(HandHeadsConfig())
    positions = range(MAX_TOKENS)
    diagonal_q, diagonal_k = own_position(0, 5.0)
    previous_k = {**diagonal_k, **{(f"pos {i}", i + 1): 10.0 for i in positions if i + 1 < 12}}
    next_k = {**diagonal_k, **{(f"pos {i}", i - 1): 10.0 for i in positions if i >= 1}}
    words = {(f"word: {token}", column) for column, token in enumerate(TOKENS)}
    same_q, same_k = own_position(len(TOKENS), 5.0 - 10.0)  # lowered from beta to alpha
    pronoun_q, pronoun_k = own_position(len(AGREEMENT_CLASSES), 5.0)
    expected = [
        (diagonal_q, previous_k),
        (diagonal_q, next_k),
        ({("bias", 0): ON}, {("pos 0", 0): 10.0}),
        ({**{w: ON for w in words}, **same_q}, {**{w: 10.0 for w in words}, **same_k}),
        (
            {**{(f"word: {p}", c): ON for c, p in enumerate(AGREEMENT_CLASSES)}, **pronoun_q},
            {**{(f"noun ~ {p}", c): 10.0 for c, p in enumerate(AGREEMENT_CLASSES)}, **pronoun_k},
        ),
    ]
    types = {(f"type: {name}", column): 1.0 for column, name in enumerate(WORD_TYPES)}
    assert [head.name for head in model.heads] == list(RULES)
    assert [head.pattern for head in model.heads] == [
        Pattern.PREVIOUS,
        Pattern.NEXT,
        Pattern.FIRST,
        Pattern.SAME_WORD,
        Pattern.ANTECEDENT,
    ]
    assert [head.rule for head in model.heads] == list(RULES.values())
    for head, (query, key) in zip(model.heads, expected, strict=True):
        assert head.w_q.shape == head.w_k.shape == (len(FEATURES), 64), head.name
        assert entries(head.w_q) == query, head.name
        assert entries(head.w_k) == key, head.name
        assert entries(head.w_v) == types, head.name
    np.testing.assert_array_equal(model.w_q, np.hstack([head.w_q for head in model.heads]))
    np.testing.assert_array_equal(model.w_k, np.hstack([head.w_k for head in model.heads]))


def test_a_sharper_config_scales_every_entry():
    """strength, fallback and key_size reach every head (here beta 6, alpha 2, E = 100)."""
    model = build_afresh(HandHeadsConfig(strength=6.0, fallback=2.0, key_size=100))
    values = [
        (set(entries(head.w_q).values()), set(entries(head.w_k).values())) for head in model.heads
    ]
    assert values == [
        ({10.0}, {2.0, 6.0}),
        ({10.0}, {2.0, 6.0}),
        ({10.0}, {6.0}),
        ({10.0}, {6.0, -4.0}),
        ({10.0}, {6.0, 2.0}),
    ]
    assert all(head.w_q.shape == (len(FEATURES), 100) for head in model.heads)


def test_the_same_word_head_needs_a_column_per_word_and_position():
    enough = len(TOKENS) + MAX_TOKENS  # 58
    assert build_afresh(HandHeadsConfig(key_size=enough)).w_q.shape == (len(FEATURES), 5 * enough)
    small = "key_size 57 is too small for 46 words and 12 positions; use at least 58"
    assert_refuses(lambda: build_afresh(HandHeadsConfig(key_size=enough - 1)), small)


def test_intended_targets_of_a_pronoun_with_two_agreeing_nouns():
    cat = toy_tokens("The cat sat on the mat because it was tired.").tokens
    targets = intended_targets(cat)
    assert targets.dtype == bool and targets.shape == (5, 11, 11)
    # "it" (7) looks at cat (1) and mat (5); every other row rests on itself
    expected = np.eye(11, dtype=bool)
    expected[7] = False
    expected[7, [1, 5]] = True
    np.testing.assert_array_equal(targets[PRONOUN], expected)
    # a noun of another class does not count: "the boy saw the ball and it ..." -> only ball
    ball = ("the", "boy", "saw", "the", "ball", "and", "it", "rolled", "away", ".")
    rows = np.argwhere(intended_targets(ball)[PRONOUN] & ~np.eye(10, dtype=bool)).tolist()
    assert rows == [[6, 4]]


def test_hand_pattern_scores_use_the_config_given():
    sentences = generate_sentences(20, seed=2)
    blunt = HandHeadsConfig(strength=2.0, fallback=1.0)
    scores = hand_pattern_scores(sentences, blunt)
    expected = pattern_scores((run_hand_heads(s, blunt).head_weights for s in sentences), sentences)
    np.testing.assert_array_equal(scores.scores, expected.scores)
    assert scores.score(PREVIOUS, Pattern.PREVIOUS) < hand_pattern_scores(sentences).score(
        PREVIOUS, Pattern.PREVIOUS
    )


def test_head_gates_switch_heads_off():
    steps = run_hand_heads(GIRL, head_gates=np.array([1.0, 0.0, 0.0, 0.0, 0.0]))
    np.testing.assert_allclose(
        steps.output, run_hand_heads(GIRL).head_outputs[PREVIOUS], atol=1e-12
    )


@pytest.mark.parametrize(
    ("head", "tokens", "query_features", "key_features", "columns"),
    [
        (
            PREVIOUS,
            ("the", "cat", "sat", "."),
            ("pos 0", "pos 1", "pos 2", "pos 3"),
            ("pos 0", "pos 1", "pos 2", "pos 3"),
            (0, 1, 2, 3),
        ),
        (FIRST, ("the", "cat", "sat"), ("bias",), ("pos 0",), (0,)),
        (
            PRONOUN,
            ("she", "saw", "the", "dog", "."),  # no noun answers "she": her column goes
            ("pos 0", "pos 1", "pos 2", "pos 3", "pos 4", "word: she"),
            ("pos 0", "pos 1", "pos 2", "pos 3", "pos 4", "noun ~ it"),
            (4, 5, 6, 7, 8),
        ),
        (
            PRONOUN,
            ("the", "girl", "and", "she", "."),
            ("pos 0", "pos 1", "pos 2", "pos 3", "pos 4", "word: she"),
            ("pos 0", "pos 1", "pos 2", "pos 3", "pos 4", "noun ~ she"),
            (1, 4, 5, 6, 7, 8),
        ),
        (
            SAME,
            ("the", "dog", "the"),
            ("pos 0", "pos 1", "pos 2", "word: the", "word: dog"),
            ("pos 0", "pos 1", "pos 2", "word: the", "word: dog"),
            (TOKENS.index("the"), TOKENS.index("dog"), 46, 47, 48),
        ),
    ],
)
def test_explanation_keeps_the_rows_and_columns_the_sentence_uses(
    head, tokens, query_features, key_features, columns
):
    parts = explain_head(hand_model().heads[head], tokens)
    assert parts.query_features == query_features
    assert parts.key_features == key_features
    assert parts.columns == columns
    assert parts.w_q.shape == (len(query_features), len(columns))
    assert parts.w_k.shape == (len(key_features), len(columns))
