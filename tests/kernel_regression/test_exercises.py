"""The kernel-regression exercises: answers computed from the data on screen, and checked."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab import kernel_regression as kr
from lab.exercises import ChoiceAnswer, check_choice, check_number
from tests.kernel_regression.util import GRID


def by_key(items) -> dict:
    return {item.key: item for item in items}


def best(config: kr.DataConfig, kernel="gaussian") -> float:
    data = kr.make_data(config)
    return kr.error_curves(data.x_train, data.y_train, GRID, kernel=kernel).best_bandwidth


@pytest.fixture(scope="module")
def default():
    return by_key(kr.page_exercises(kr.DataConfig(), "gaussian", GRID, kr.load_learning_runs()))


def test_five_exercises_with_a_shown_run_and_four_without():
    assert list(default_keys := by_key(kr.page_exercises(kr.DataConfig(), "gaussian", GRID))) == [
        "optimum",
        "step",
        "boxcar",
        "quiet",
    ]
    assert len(default_keys) == 4


def test_the_optimum_is_the_leave_one_out_minimum_of_the_kernel_on_screen(default):
    optimum = default["optimum"].answer
    assert optimum.value == best(kr.DataConfig()) == GRID[26]
    # As the slider shows it (0.2) counts; the neighbouring slider values do not.
    assert check_number(optimum, "0.2").correct
    assert check_number(optimum, kr.format_bandwidth(GRID[26])).correct
    assert not check_number(optimum, kr.format_bandwidth(GRID[25])).correct
    assert not check_number(optimum, kr.format_bandwidth(GRID[27])).correct
    assert check_number(optimum, "-1").correct is None  # below the range: a note, not "wrong"
    assert check_number(optimum, "two").correct is None
    explanation = default["optimum"].explanation
    assert "**h = 0.2** (0.317)" in explanation and "training error is 0.207" in explanation
    assert "At h = 0.01 the training error is 0.014 and leave-one-out is 0.507" in explanation
    boxcar = by_key(kr.page_exercises(kr.DataConfig(), "boxcar", GRID))["optimum"]
    assert boxcar.answer.value == best(kr.DataConfig(), "boxcar") == GRID[32]
    assert "leave-one-out is undefined (a point has no key in its window)" in boxcar.explanation


def test_the_constant_kernel_sends_the_learner_to_the_gaussian():
    items = by_key(kr.page_exercises(kr.DataConfig(), "constant", GRID))
    assert items["optimum"].question.startswith("Choose the **Gaussian** kernel. ")
    assert items["optimum"].answer.value == best(kr.DataConfig())
    assert items["quiet"].question.startswith("Choose the **Gaussian** kernel. ")
    assert not items["boxcar"].question.startswith("Choose the **Gaussian**")


def test_a_wide_bandwidth_flattens_the_step(default):
    step = default["step"]
    assert isinstance(step.answer, ChoiceAnswer) and step.answer.correct == 2
    data = kr.make_data(kr.DataConfig(function="step"))
    estimate = kr.nadaraya_watson(data.x_train, data.y_train, data.x_query, bandwidth=10).estimate
    assert np.ptp(estimate) < 0.2 * 2.5
    assert f"runs from {estimate.min():.2f} to {estimate.max():.2f}" in step.explanation
    assert f"mean of all targets, {data.y_train.mean():.2f}" in step.explanation
    step_best = best(kr.DataConfig(function="step"))
    assert f"chooses **h = {kr.format_bandwidth(step_best)}** for the step, larger than" in (
        step.explanation
    )
    assert check_choice(step.answer, step.answer.options[2]).correct
    assert not check_choice(step.answer, step.answer.options[0]).correct


def test_the_boxcar_answer_is_the_first_slider_value_that_covers_every_query(default):
    boxcar = default["boxcar"]
    data = kr.make_data()
    where, distance = kr.farthest_query(data.x_query, data.x_train)
    first_above = min(h for h in GRID if h >= distance)
    assert boxcar.answer.value == first_above == GRID[26]
    for h in GRID:
        fit = kr.nadaraya_watson(
            data.x_train, data.y_train, data.x_query, kernel="boxcar", bandwidth=h
        )
        assert fit.empty.any() == (h < first_above)
    start = kr.nearest_bandwidth(GRID, 0.05)
    empty = kr.nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel="boxcar", bandwidth=start
    ).empty_indices
    assert f"At h = 0.0501, {len(empty)} of 50 queries" in boxcar.explanation
    assert f"x = {data.x_query[where]:.2f}, {distance:.3f} from its nearest key" in (
        boxcar.explanation
    )
    assert "set h = 0.0501" in boxcar.question


def test_without_noise_leave_one_out_chooses_a_narrower_window(default):
    quiet = default["quiet"]
    assert quiet.answer.value == best(kr.DataConfig(noise=0.0)) == GRID[21]
    assert quiet.answer.value < default["optimum"].answer.value
    assert "it chooses **h = 0.112**, smaller than before" in quiet.explanation
    already = by_key(kr.page_exercises(kr.DataConfig(noise=0.0), "gaussian", GRID))["quiet"]
    assert already.explanation == "The noise is already 0: leave-one-out chooses **h = 0.112**."


def test_the_learned_answer_is_the_run_shown(default):
    learned = default["learned"]
    runs = kr.load_learning_runs()
    assert learned.answer.value == runs.loo.final_bandwidth
    assert check_number(learned.answer, "0.203").correct
    assert not check_number(learned.answer, "0.21").correct
    assert "0.99 times the closed-form optimum 0.204" in learned.explanation
    assert f"fallen to h = {runs.plain.final_bandwidth:.4f}" in learned.explanation
    moving = replace(runs, curves={**runs.curves, kr.Objective.LOO: runs.plain})
    still = by_key(kr.page_exercises(kr.DataConfig(), "gaussian", GRID, moving))["learned"]
    assert "still moving after 200 steps" in still.explanation


def test_answers_follow_the_seed_and_the_number_of_points():
    other = kr.DataConfig(seed=7, n_train=20)
    items = by_key(kr.page_exercises(other, "epanechnikov", GRID))
    assert items["optimum"].answer.value == best(other, "epanechnikov")
    data = kr.make_data(other)
    _, distance = kr.farthest_query(data.x_query, data.x_train)
    assert items["boxcar"].answer.value == min(h for h in GRID if h >= distance)
    assert items["quiet"].answer.value == best(replace(other, noise=0.0), "epanechnikov")


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 9999),
    n_train=st.sampled_from([5, 25, 100]),
    noise=st.sampled_from([0.0, 0.5, 2.0]),
    function=st.sampled_from(list(kr.TrueFunction)),
    kernel=st.sampled_from(list(kr.Kernel)),
)
def test_every_view_gets_answerable_exercises(seed, n_train, noise, function, kernel):
    config = kr.DataConfig(n_train=n_train, noise=noise, seed=seed, function=function)
    items = kr.page_exercises(config, kernel, GRID)
    assert [item.key for item in items] == ["optimum", "step", "boxcar", "quiet"]
    for item in items:
        if isinstance(item.answer, ChoiceAnswer):
            continue
        assert math.isfinite(item.answer.value) and item.answer.value in GRID
        assert check_number(item.answer, kr.format_bandwidth(item.answer.value)).correct
        assert "nan" not in item.explanation.lower() and "None" not in item.explanation
