"""The order-and-position exercises: answers computed from what the page shows."""

from __future__ import annotations

import numpy as np

import lab.position as position
from lab.position import SentenceConfig
from lab.position.exercises import page_exercises


def _items(tokens=("the", "dog", "chased", "the", "cat"), length=24, width=32):
    config = SentenceConfig()
    order = position.swap_permutation(len(tokens), 0, len(tokens) - 1) if len(tokens) > 1 else [0]
    check = position.permutation_check(tokens, order, config)
    similarity = position.position_similarity(length, width)
    grid = position.rotary_score_grid(*position.random_query_key(width, seed=0), length)
    effect = position.position_effect(tokens, config)
    return {item.key: item for item in page_exercises(check, similarity, grid, effect)}, (
        check,
        similarity,
        grid,
        effect,
    )


def test_answers_follow_the_data():
    items, (check, similarity, grid, effect) = _items()
    assert list(items) == ["gap", "similarity", "rotary", "repeat"]
    assert items["gap"].answer.value == check.with_positions.gap
    assert items["similarity"].answer.value == similarity[3, 5]
    assert items["repeat"].answer.value == effect.repeated[0].weights_gap_with
    rotary = items["rotary"].answer
    assert rotary.options[rotary.correct] == "m = 2, n = 0"
    np.testing.assert_allclose(grid.scores[2, 0], grid.scores[5, 3], rtol=1e-12)
    assert not np.isclose(grid.scores[3, 5], grid.scores[5, 3])


def test_exercises_drop_what_the_screen_cannot_show():
    items, _ = _items(tokens=("dog",), length=4, width=4)
    assert list(items) == ["similarity"]
    assert "positions 0 and 3" in items["similarity"].question
