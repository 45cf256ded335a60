"""lab.masked_attention.exercises: answers computed from the batch on screen, each one checkable."""

from __future__ import annotations

import numpy as np
import pytest

import lab.masked_attention.compute as compute
from lab.exercises import ChoiceAnswer, NumberAnswer, check_choice, check_number
from lab.masked_attention import MaskingConfig, MaskKind, PaddingSide, leakage_probe, page_exercises
from tests.masked_attention.examples import SENTENCES


def by_key(sentences=SENTENCES, config: MaskingConfig | None = None):
    exercises = page_exercises(sentences, config or MaskingConfig())
    return {exercise.key: exercise for exercise in exercises}


def right_option(exercise) -> str:
    return exercise.answer.options[exercise.answer.correct]


def test_five_exercises_each_with_a_hint_and_an_explanation():
    exercises = page_exercises(SENTENCES, MaskingConfig())
    assert [exercise.key for exercise in exercises] == [
        "share",
        "last_word",
        "pad_token",
        "empty",
        "float16",
    ]
    for exercise in exercises:
        assert exercise.hint and exercise.explanation and exercise.question
        assert "Reset this page" not in exercise.question  # the defaults can do them all


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("side", list(PaddingSide))
def test_the_share_on_padding_is_the_largest_real_row_under_none(seed, side):
    config = MaskingConfig(d_model=6, seed=seed, padding_side=side)
    exercise = by_key(SENTENCES, config)["share"]
    none = compute.batch_attention(
        compute.pad_batch(SENTENCES, padding_side=side), MaskKind.NONE, config
    )
    real = none.batch.real[1]
    share = none.weight_on_padding[1][real].max()
    assert isinstance(exercise.answer, NumberAnswer)
    assert exercise.answer.value == pytest.approx(share, rel=1e-12)
    assert exercise.answer.tolerance == 0.001 and exercise.answer.maximum == 1.0
    assert check_number(exercise.answer, f"{share:.1%}").correct is True  # as the page prints it
    assert check_number(exercise.answer, f"{share:.3f}").correct is True
    assert check_number(exercise.answer, f"{share + 0.01:.3f}").correct is False
    assert check_number(exercise.answer, "banana").correct is None
    assert "sentence 2 (*dogs bark*)" in exercise.question
    assert f"**{share:.1%}**" in exercise.explanation
    assert "exactly **0**" in exercise.explanation  # under padding, computed


def test_the_last_word_answer_is_the_set_of_masks_that_leak_nothing():
    exercise = by_key()["last_word"]
    assert right_option(exercise) == "*causal* and *padding + causal*"
    probe = leakage_probe(compute.pad_batch(SENTENCES), 0, 5, "dog")
    assert f"*none*: up to {probe.max_earlier(MaskKind.NONE):.3g}" in exercise.explanation
    assert "*causal*: exactly 0" in exercise.explanation
    assert "**5 · mat**" in exercise.question and "5 earlier positions" in exercise.question
    assert check_choice(exercise.answer, "all four masks").correct is False
    assert check_choice(exercise.answer, right_option(exercise)).correct is True


def test_the_last_word_exercise_picks_a_sentence_of_two_words_or_more():
    sentences = (("hello",), ("dogs", "bark"), ("a", "small", "bird"))
    exercise = by_key(sentences)["last_word"]
    assert "Sentence 2\\: dogs bark" in exercise.question and "**1 · bark**" in exercise.question
    assert right_option(exercise) == "*causal* and *padding + causal*"


def test_a_changed_pad_is_safe_under_causal_only_on_the_right():
    exercise = by_key()["pad_token"]
    assert right_option(exercise) == "Safe on the right, not on the left"
    for side in PaddingSide:
        batch = compute.pad_batch(SENTENCES, padding_side=side)
        pad = int(np.flatnonzero(~batch.real[1])[0])
        config = MaskingConfig(padding_side=side)
        moved = leakage_probe(batch, 1, pad, "dog", config).max_at(MaskKind.CAUSAL, batch.real[1])
        assert (moved == 0) is (side is PaddingSide.RIGHT)
        if side is PaddingSide.LEFT:
            assert f"up to {moved:.3g} with left padding" in exercise.explanation


def test_an_emptied_sentence_is_zeros_under_padding_and_uniform_under_none():
    exercise = by_key()["empty"]
    assert exercise.question.startswith("Empty the box of sentence 3")
    assert (
        right_option(exercise) == "*padding*: all zeros · *none*: uniform, 1/6 on every `<pad>` key"
    )
    emptied = compute.pad_batch((SENTENCES[0], SENTENCES[1], ()))
    padding = compute.batch_attention(emptied, MaskKind.PADDING).weights[2]
    none = compute.batch_attention(emptied, MaskKind.NONE).weights[2]
    assert np.all(padding == 0)
    np.testing.assert_allclose(none, 1 / 6, rtol=1e-12)
    # A sentence already empty on screen is the one asked about, with no instruction.
    already = by_key((SENTENCES[0], (), SENTENCES[2]))["empty"]
    assert already.question.startswith("Look at sentence 2's weights")


def test_float16_turns_minus_1e9_rows_nan_and_minus_1e4_rows_uniform():
    exercise = by_key()["float16"]
    assert right_option(exercise) == "-1e9: NaN · -10000: uniform"
    assert "Sentence 2\\: dogs bark" in exercise.question
    assert "1/6 = 0.167" in exercise.explanation


def test_a_batch_with_no_padding_asks_for_a_reset_and_answers_for_the_defaults():
    same_length = (("a", "b"), ("c", "d"))
    exercises = by_key(same_length, MaskingConfig(d_model=9, seed=5))
    for key in ("share", "pad_token", "float16"):
        assert exercises[key].question.startswith("Press **Reset this page** first")
    assert exercises["share"].answer.value == by_key()["share"].answer.value
    assert right_option(exercises["pad_token"]) == "Safe on the right, not on the left"
    # The last-word exercise works on the learner's own two-word sentences.
    assert not exercises["last_word"].question.startswith("Press")
    one_word = by_key((("a",), ("b",)))
    assert one_word["last_word"].question.startswith("Press **Reset this page** first")
    assert isinstance(one_word["last_word"].answer, ChoiceAnswer)


def test_page_exercises_needs_two_sentences_with_a_word():
    with pytest.raises(ValueError) as error:
        page_exercises((("a",),), MaskingConfig())
    assert str(error.value) == "the exercises need at least 2 sentences, one of them not empty"
    with pytest.raises(ValueError):
        page_exercises(((), ()), MaskingConfig())
