"""The cost-of-attention exercises: answers computed from what the page shows, checked both ways."""

from __future__ import annotations

import pytest

from lab.cost_of_attention import Implementation, Method, crossover_length, measured_slopes
from lab.cost_of_attention.exercises import NAMES, page_exercises
from lab.cost_of_attention.study import ErrorMeasure, error_study, speedup, square_matrices
from lab.exercises import ChoiceAnswer, NumberAnswer, check_choice, check_number


@pytest.fixture(scope="module")
def study():
    return error_study(64, 16, seed=2, magnitude=0.5, sweep_seeds=2)


def items(figures, study, r=64, c=8):
    return {
        item.key: item for item in page_exercises(figures, study, num_features=r, num_clusters=c)
    }


def test_every_answer_follows_the_data(figures, study):
    found = items(figures, study)
    assert list(found) == ["slope", "memory", "model_crossover", "best", "speedup"]
    slope = measured_slopes(figures)[Implementation.NUMPY].seconds.slope
    assert found["slope"].answer.value == round(slope, 2)
    assert found["memory"].answer.value == round(square_matrices(figures, Implementation.NUMPY), 1)
    assert found["model_crossover"].answer.value == crossover_length(
        Method.PERFORMER, 16, num_features=64, num_clusters=8
    )
    assert found["speedup"].answer.value == 2 * speedup(figures, Implementation.PERFORMER)
    best = found["best"].answer
    assert best.options[best.correct] == NAMES[study.best(ErrorMeasure.OUTPUT, 64, 8)]


def test_answers_change_with_the_controls(figures, study):
    # r = 64, d = 16: n > 2r + r/d = 132, so 133; r = 4: n > 8.25, so 9.
    assert items(figures, study, r=64)["model_crossover"].answer.value == 133
    assert items(figures, study, r=4)["model_crossover"].answer.value == 9
    # With C = n every query is its own cluster: clustered attention is exact and best.
    best = items(figures, study, r=1, c=64)["best"].answer
    assert best.options[best.correct] == NAMES[Method.CLUSTERED]


def test_right_and_wrong_answers(figures, study):
    found = items(figures, study)
    for key in ("slope", "memory", "model_crossover", "speedup"):
        answer = found[key].answer
        assert isinstance(answer, NumberAnswer)
        assert check_number(answer, f"{answer.value:.4f}").correct is True
        assert (
            check_number(answer, f"{answer.value + 3 * answer.tolerance + 1:.4f}").correct is False
        )
        assert check_number(answer, "lots").correct is None
    assert check_number(found["model_crossover"].answer, "0").correct is None  # below 1
    best = found["best"].answer
    assert isinstance(best, ChoiceAnswer)
    assert check_choice(best, best.options[best.correct]).correct is True
    wrong = next(option for option in best.options if option != best.options[best.correct])
    assert check_choice(best, wrong).correct is False


def test_explanations_give_the_numbers(figures, study):
    found = items(figures, study)
    fit = measured_slopes(figures)[Implementation.NUMPY].seconds
    assert f"gives {fit.slope:.3f}" in found["slope"].explanation
    peak = figures.series_for(Implementation.NUMPY).peak_bytes[-1]
    assert f"{peak / 1e6:.1f} MB" in found["memory"].explanation
    assert "n > 2r + r/d = 132, so the first whole n is 133" in found["model_crossover"].explanation
    factor = speedup(figures, Implementation.PERFORMER)
    assert f"×{factor:.1f} × 4 / 2 = ×{2 * factor:.1f}" in found["speedup"].explanation
    for item in found.values():
        assert item.hint and item.question and item.explanation


def test_figures_with_one_size_have_no_slope_exercise(one_size, study):
    assert list(items(one_size, study)) == ["memory", "model_crossover", "best", "speedup"]


def test_without_figures_only_the_section_2_exercises_remain(study):
    found = page_exercises(None, study, num_features=8, num_clusters=4)
    assert [item.key for item in found] == ["model_crossover", "best"]
