"""Exercises that check a learner's answer: the questions as data and the checking rules.

A page builds its exercises from the data on its screen, so the expected
answer follows the seed and the controls: it is computed by the lab, never
typed in by hand. The page shows them with ``app.exercises.show``; this
module only decides whether an answer is right and what to say, so it is
tested without Streamlit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from lab.checks import check_float, check_int

# A number as a learner types it: 0.25, .25, -3, 1e-3, 2,5 (decimal comma), 1/4, 25%.
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)(e[+-]?\d+)?%?$", re.IGNORECASE)
_FRACTION = re.compile(r"^[+-]?\d+\s*/\s*\d+$")


@dataclass(frozen=True)
class NumberAnswer:
    """A numeric answer, right within ``tolerance`` (absolute) of ``value``."""

    value: float  # the answer the lab computed from the data on screen
    tolerance: float  # how far off an answer may be and still count (say it in the question)
    minimum: float | None = None  # answers below this get told the range, not "wrong"
    maximum: float | None = None  # answers above this get told the range, not "wrong"

    def __post_init__(self) -> None:
        check_float("value", self.value)
        check_float("tolerance", self.tolerance, positive=True)


@dataclass(frozen=True)
class ChoiceAnswer:
    """A multiple-choice answer: ``options[correct]`` is right."""

    options: tuple[str, ...]  # what the learner picks from, in the order shown
    correct: int  # index of the right option

    def __post_init__(self) -> None:
        if len(self.options) < 2:
            raise ValueError(f"a choice needs at least 2 options, got {len(self.options)}")
        check_int("correct", self.correct, minimum=0, maximum=len(self.options) - 1)


@dataclass(frozen=True)
class Exercise:
    """One "Try this" exercise.

    Attributes:
        key: stable id within its page (progress is stored under it).
        question: Markdown; says what to do on the page and, for numbers, the
            tolerance or the number of decimals wanted.
        answer: the expected answer, computed from the data on screen.
        hint: Markdown, shown on request before answering.
        explanation: Markdown, shown once the learner has answered.
    """

    key: str
    question: str
    answer: NumberAnswer | ChoiceAnswer
    hint: str
    explanation: str


@dataclass(frozen=True)
class Verdict:
    """What the lab says about an answer: right, wrong, or unreadable (``correct is None``)."""

    correct: bool | None
    message: str


def parse_number(text: str) -> float | None:
    """The number a learner typed, or ``None`` if it is not one.

    Accepts ``0.25``, ``.25``, ``-3``, ``1e-3``, ``2,5`` (decimal comma),
    ``1/4`` and ``25%`` (= 0.25); a Unicode minus sign counts as a minus.
    """
    cleaned = text.strip().replace("−", "-")
    if not cleaned:
        return None
    if _FRACTION.match(cleaned):
        numerator, denominator = cleaned.split("/")  # int() ignores the spaces around "/"
        if int(denominator) == 0:
            return None
        return float(Fraction(int(numerator), int(denominator)))
    if not _NUMBER.match(cleaned):
        return None
    percent = cleaned.endswith("%")
    number = float(cleaned.removesuffix("%").replace(",", "."))
    return number / 100 if percent else number


def check_number(answer: NumberAnswer, text: str) -> Verdict:
    """Check a typed number against ``answer``; explain input that is not a number or out of range."""
    given = parse_number(text)
    if given is None or not math.isfinite(given):
        return Verdict(None, "That is not a number. Type something like 0.25, -3 or 1/4.")
    if answer.minimum is not None and given < answer.minimum:
        return Verdict(None, f"The answer cannot be below {answer.minimum:g}: look again.")
    if answer.maximum is not None and given > answer.maximum:
        return Verdict(None, f"The answer cannot be above {answer.maximum:g}: look again.")
    # A hair of slack so that "2.226" for 2.236 ± 0.01 is not lost to binary rounding.
    if abs(given - answer.value) <= answer.tolerance * (1 + 1e-9):
        return Verdict(True, "Right.")
    return Verdict(False, "Not quite. Try again, or open the hint.")


def check_choice(answer: ChoiceAnswer, picked: str | None) -> Verdict:
    """Check a picked option against ``answer``."""
    if picked is None:
        return Verdict(None, "Pick one of the options first.")
    if picked not in answer.options:
        return Verdict(None, "That is not one of the options.")
    if answer.options.index(picked) == answer.correct:
        return Verdict(True, "Right.")
    return Verdict(False, "Not this one. Try again, or open the hint.")
