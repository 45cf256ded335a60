"""The page's exercises: answers computed from the data on screen, and following it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lab.exercises import ChoiceAnswer, NumberAnswer, check_choice, check_number
from lab.multi_head import (
    EXAMPLES,
    Job,
    ablate,
    answer_probabilities,
    hand_head_view,
    page_exercises,
    toy_tokens,
)
from tests.multi_head.helpers import GIRL


def by_key(tokens, model, can_train=True):
    return {item.key: item for item in page_exercises(tokens, model, can_train=can_train)}


def right(item) -> str:
    answer = item.answer
    if isinstance(answer, ChoiceAnswer):
        return answer.options[answer.correct]
    return f"{answer.value:.2f}"


def test_five_exercises_with_a_model_two_without(shipped):
    assert list(by_key(GIRL, shipped)) == [
        "ambiguous",
        "same_word",
        "previous_head",
        "knockout",
        "retrain",
    ]
    assert list(by_key(GIRL, None)) == ["ambiguous", "same_word"]
    for item in by_key(GIRL, shipped).values():
        assert item.hint and item.explanation
        verdict = (
            check_choice(item.answer, right(item))
            if isinstance(item.answer, ChoiceAnswer)
            else check_number(item.answer, right(item))
        )
        assert verdict.correct is True, item.key


def test_the_ambiguous_pronoun_splits_and_the_question_names_the_sentence(shipped):
    item = by_key(GIRL, shipped)["ambiguous"]
    assert item.question.startswith(
        "Choose *The cat sat on the mat because it was tired.* in **Sentence**, with "
        "**Heads** on *Hand-set*. In the *pronoun → noun* heatmap"
    )
    assert right(item) == "Split about evenly between *cat* and *mat*"
    row = hand_head_view(toy_tokens(EXAMPLES[-1]).tokens).head_weights[4, 7]
    assert f"{row[1]:.3f} on *cat*, {row[5]:.3f} on *mat*" in item.explanation
    assert check_choice(item.answer, "Mostly on *cat*").correct is False
    # the learner's own ambiguous sentence is used as it is, with no instruction
    own = toy_tokens("the dog saw the ball and it fell").tokens
    mine = by_key(own, shipped)["ambiguous"]
    assert mine.question.startswith("In the *pronoun → noun* heatmap, where does the row of *it*")
    assert right(mine) == "Split about evenly between *dog* and *ball*"


def test_the_same_word_head_joins_the_two_dogs(shipped):
    item = by_key(GIRL, shipped)["same_word"]
    assert "Choose *Type my own sentence* in **Sentence**, type *the dog saw the dog*" in (
        item.question
    )
    assert right(item) == "same word"
    weights = hand_head_view(("the", "dog", "saw", "the", "dog")).head_weights[3]
    assert f"puts {weights[1, 4]:.3f} on position 4" in item.explanation
    assert check_choice(item.answer, "first token").correct is False


def test_the_previous_token_head_follows_the_model_on_screen(shipped):
    item = by_key(GIRL, shipped)["previous_head"]
    assert right(item) == "L1 H2"
    assert item.explanation == (
        "**L1 H2** scores 0.81 on *previous*: on average over the held-out sentences, that "
        "share of its weight lands on the word just before. The best score on any of the five "
        "patterns (*itself* left out) is layer 1 0.81 and layer 2 0.40: the second layer's "
        "heads are blurrier."
    )
    scores = shipped.scores.copy()
    scores[1, 3, 0] = 0.95  # a retrained model whose previous-token head is L2 H4
    other = replace(shipped, scores=scores)
    assert right(by_key(GIRL, other)["previous_head"]) == "L2 H4"
    assert (
        "here the second layer's heads are as sharp"
        in by_key(GIRL, other)["previous_head"].explanation
    )


def test_knocking_out_the_previous_token_head_spares_sat_after_on(shipped):
    item = by_key(GIRL, shipped)["knockout"]
    _, at_on = answer_probabilities(ablate(shipped, GIRL, Job.PREVIOUS, 3, {(0, 1)}), GIRL)
    before_girl, at_girl = answer_probabilities(
        ablate(shipped, GIRL, Job.PREVIOUS, 1, {(0, 1)}), GIRL
    )
    assert isinstance(item.answer, NumberAnswer)
    assert item.answer.value == pytest.approx(at_on) and item.answer.tolerance == 0.01
    assert f"P(*the*) at *girl* falls from {before_girl:.2f} to {at_girl:.2f}" in item.explanation
    assert f"P(*sat*) at *on* stays at {at_on:.2f}" in item.explanation
    assert "*on* only ever follows *sat*" in item.explanation
    assert check_number(item.answer, "0.5").correct is False
    assert check_number(item.answer, "2").correct is None  # above 1: told the range


def test_the_retrain_count_follows_the_model_and_the_training_switch(shipped):
    item = by_key(GIRL, shipped)["retrain"]
    assert item.answer.value == 3
    assert item.question.startswith("Choose **Heads**: *Trained: layer 1*; in section 2, set ")
    assert "On screen is the shipped model (seed 3): 3 heads reach 0.6: L1 H1" in item.explanation
    assert "previous 100%, next 100%, referent 100%" in item.explanation
    flat = replace(
        shipped,
        scores=np.full_like(shipped.scores, 0.2),
        train_config=replace(shipped.train_config, seed=4),
    )
    retrained = by_key(GIRL, flat)["retrain"]
    assert retrained.answer.value == 0
    assert "the model retrained with seed 4, 1500 steps: 0 heads reach 0.6." in (
        retrained.explanation
    )
    assert "It does every job although no head reaches the mark" in retrained.explanation
    off = by_key(GIRL, shipped, can_train=False)["retrain"]
    assert off.question.startswith("How many of the 8 heads of the trained model score")
    unlearned = replace(flat, metrics={**flat.metrics, "next_accuracy": 0.5})
    assert "Not every job is learned yet" in by_key(GIRL, unlearned)["retrain"].explanation
