"""The alignment exercises: answers computed from what the page shows, right and wrong."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lab.alignment import (
    MapReading,
    Scoring,
    load_aligner,
    misleading_example,
    read_source,
    view_sentence,
)
from lab.alignment.exercises import CLEAR_GAP, page_exercises, truth_labels
from lab.alignment.sweep import load_seed_sweep, seed_spread
from lab.exercises import check_choice, check_number

DEFAULT = "the big dog chases a small cat"


@pytest.fixture(scope="module")
def models():
    return {scoring: load_aligner(scoring) for scoring in Scoring}


def _items(models, text=DEFAULT, scoring=Scoring.ADDITIVE):
    reading = read_source(text)
    view = view_sentence(models[scoring], reading) if reading.usable else None
    spread = seed_spread(load_seed_sweep(), scoring)
    case = misleading_example(models[scoring], MapReading.WRONG_PLACE_RIGHT_WORD)
    items = page_exercises(reading, view, scoring, spread, case)
    return {item.key: item for item in items}, reading, view, case


def test_the_default_screen_has_four_exercises(models):
    items, *_ = _items(models)
    assert list(items) == ["verb", "weakest", "seeds", "misleading"]
    for item in items.values():
        assert item.hint and item.explanation


@pytest.mark.parametrize("scoring", list(Scoring), ids=lambda s: s.value)
def test_the_verb_answer_is_the_outlined_cell_of_the_last_word(models, scoring):
    items, reading, view, _ = _items(models, scoring=scoring)
    pair = reading.pair
    assert pair.target[-1] == "chasas" and pair.source[pair.alignment[6]] == "chases"
    expected = view.attention[6, 3]  # output word 7 (chasas) on source word 4 (chases)
    answer = items["verb"].answer
    assert answer.value == expected
    assert check_number(answer, f"{expected:.2f}").correct is True
    assert check_number(answer, f"{expected + 0.05:.2f}").correct is False
    assert check_number(answer, "1.5").correct is None  # out of range: told, not marked wrong
    assert scoring.label in items["verb"].question
    assert f"{expected:.3f}" in items["verb"].explanation


def test_the_weakest_word_is_the_shortest_bar(models):
    items, reading, view, _ = _items(models)
    answer = items["weakest"].answer
    weakest = int(np.argmin(view.on_truth))
    labels = truth_labels(reading.pair.target, reading.pair.source, reading.pair.alignment)
    assert labels[weakest] == "na ← a"  # the additive model, default sentence
    assert answer.options[answer.correct] == f"word {weakest + 1}: na ← a"
    assert len(answer.options) == 4
    assert check_choice(answer, answer.options[answer.correct]).correct is True
    wrong = next(option for option in answer.options if "na ← a" not in option)
    assert check_choice(answer, wrong).correct is False
    assert f"{view.on_truth[weakest]:.3f}" in items["weakest"].explanation


def test_two_bars_too_close_to_tell_apart_drop_the_question(models):
    _, reading, view, _ = _items(models)
    tied = replace(view, on_truth=np.array([0.5, 0.505, 0.9, 0.9, 0.9, 0.9, 0.9]))
    spread = seed_spread(load_seed_sweep(), Scoring.ADDITIVE)
    keys = [item.key for item in page_exercises(reading, tied, Scoring.ADDITIVE, spread, None)]
    assert keys == ["verb", "seeds"]


@pytest.mark.parametrize("scoring", list(Scoring), ids=lambda s: s.value)
def test_the_seed_answer_is_the_spread_of_the_shipped_sweep(models, scoring):
    items, *_ = _items(models, scoring=scoring)
    scores = [r.alignment_score for r in load_seed_sweep() if r.scoring is scoring]
    answer = items["seeds"].answer
    assert answer.value == pytest.approx(max(scores) - min(scores), abs=1e-15)
    assert check_number(answer, f"{max(scores) - min(scores):.2f}").correct is True
    assert check_number(answer, "0.5").correct is False


@pytest.mark.parametrize("scoring", list(Scoring), ids=lambda s: s.value)
def test_the_misleading_answer_is_where_the_row_looked(models, scoring):
    items, _, _, case = _items(models, scoring=scoring)
    answer = items["misleading"].answer
    picked = answer.options[answer.correct]
    assert picked == f"word {case.step.top_position + 1}: {case.attended_word}"
    assert case.attended_word != case.true_word
    assert check_choice(answer, picked).correct is True
    true_option = f"word {case.step.true_position + 1}: {case.true_word}"
    assert check_choice(answer, true_option).correct is False  # offered, and wrong


def test_a_sentence_without_a_true_alignment_keeps_only_the_general_questions(models):
    items, reading, view, _ = _items(models, text="dog the sees")
    assert reading.pair is None and view is not None
    assert list(items) == ["seeds", "misleading"]


def test_an_unusable_sentence_keeps_only_the_general_questions(models):
    items, reading, view, _ = _items(models, text="the zebra sleeps")
    assert not reading.usable and view is None
    assert list(items) == ["seeds", "misleading"]


def test_a_model_wrong_before_the_verb_drops_the_verb_question(models):
    text = "the tall small red river follows a happy red ball"
    items, reading, view, _ = _items(models, text=text)
    assert view.matches_reference is False
    last = len(reading.pair.target) - 1
    assert last >= view.outline.shape[0] or not view.outline[last].any()
    assert "verb" not in items
    # the two shortest bars (0.024 and 0.031) are closer than a chart can show apart
    lowest = np.sort(view.on_truth)[:2]
    assert lowest[1] - lowest[0] < CLEAR_GAP and "weakest" not in items
