"""lab.exercises: reading a learner's number or choice and judging it."""

from __future__ import annotations

import pytest

from lab.exercises import (
    ChoiceAnswer,
    NumberAnswer,
    Verdict,
    check_choice,
    check_number,
    parse_number,
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0.25", 0.25),
        (" .25 ", 0.25),
        ("-3", -3.0),
        ("−3", -3.0),
        ("+2", 2.0),
        ("1e-3", 0.001),
        ("2,5", 2.5),
        ("1/4", 0.25),
        ("-1 / 4", -0.25),
        ("25%", 0.25),
        ("7.", 7.0),
    ],
)
def test_numbers_as_learners_type_them(text, number):
    assert parse_number(text) == pytest.approx(number, abs=1e-15)


@pytest.mark.parametrize(
    "text", ["", "   ", "abc", "1/0", "1..2", "0x10", "nan", "inf", "1e", "3 4"]
)
def test_things_that_are_not_numbers(text):
    assert parse_number(text) is None


def test_check_number_within_tolerance():
    answer = NumberAnswer(value=2.236, tolerance=0.01, minimum=0)
    assert check_number(answer, "2.24") == Verdict(True, "Right.")
    assert check_number(answer, "2.226") == Verdict(True, "Right.")
    assert check_number(answer, "2.25") == Verdict(False, "Not quite. Try again, or open the hint.")
    assert check_number(answer, "-1") == Verdict(None, "The answer cannot be below 0: look again.")
    assert check_number(answer, "two") == Verdict(
        None, "That is not a number. Type something like 0.25, -3 or 1/4."
    )


def test_check_number_above_the_range():
    answer = NumberAnswer(value=0.5, tolerance=0.01, minimum=0, maximum=1)
    assert check_number(answer, "1.5") == Verdict(None, "The answer cannot be above 1: look again.")
    assert check_number(answer, "50%").correct is True


def test_check_choice():
    answer = ChoiceAnswer(options=("a", "b", "c"), correct=1)
    assert check_choice(answer, "b") == Verdict(True, "Right.")
    assert check_choice(answer, "a") == Verdict(False, "Not this one. Try again, or open the hint.")
    assert check_choice(answer, None) == Verdict(None, "Pick one of the options first.")
    assert check_choice(answer, "z") == Verdict(None, "That is not one of the options.")


def test_answers_refuse_nonsense():
    with pytest.raises(ValueError, match=r"^tolerance must be positive, got 0$"):
        NumberAnswer(value=1.0, tolerance=0)
    with pytest.raises(ValueError, match=r"^value must be a finite number, got nan$"):
        NumberAnswer(value=float("nan"), tolerance=0.1)
    with pytest.raises(ValueError, match=r"^a choice needs at least 2 options, got 1$"):
        ChoiceAnswer(options=("a",), correct=0)
    with pytest.raises(ValueError, match=r"^correct must be at most 1, got 2$"):
        ChoiceAnswer(options=("a", "b"), correct=2)


def test_the_ends_of_the_range_are_allowed_answers():
    answer = NumberAnswer(value=0.0, tolerance=0.01, minimum=0, maximum=1)
    assert check_number(answer, "0") == Verdict(True, "Right.")
    assert check_number(answer, "-0.001") == Verdict(
        None, "The answer cannot be below 0: look again."
    )
    top = NumberAnswer(value=1.0, tolerance=0.01, minimum=0, maximum=1)
    assert check_number(top, "1") == Verdict(True, "Right.")
    assert check_number(top, "1.001") == Verdict(None, "The answer cannot be above 1: look again.")


def test_an_answer_exactly_at_the_edge_of_the_tolerance_counts():
    answer = NumberAnswer(value=0.0, tolerance=1.0)
    # 1.000000001 is the tolerance with its hair of slack (1 + 1e-9): still right.
    assert check_number(answer, "1.000000001") == Verdict(True, "Right.")
    assert check_number(answer, "1.000000002") == Verdict(
        False, "Not quite. Try again, or open the hint."
    )


def test_fractions_with_spaces_and_signs():
    assert parse_number("3 / 8") == 0.375
    assert parse_number("+3/ 8") == 0.375
    assert parse_number("12%") == 0.12


def test_the_first_option_can_be_the_right_one_but_not_one_before_it():
    assert check_choice(ChoiceAnswer(options=("a", "b"), correct=0), "a") == Verdict(True, "Right.")
    with pytest.raises(ValueError, match=r"^correct must be at least 0, got -1$"):
        ChoiceAnswer(options=("a", "b"), correct=-1)
