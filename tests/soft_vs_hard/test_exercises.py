"""lab.soft_vs_hard.exercises: every answer is computed from the data on screen and follows it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lab.exercises import ChoiceAnswer, NumberAnswer, check_choice, check_number
from lab.soft_vs_hard import (
    SWEEP_ANGLES,
    Preset,
    TrainingMethod,
    angle_sweep,
    frequency_gaps,
    load_comparisons,
    look,
    page_exercises,
)
from lab.soft_vs_hard.checkpoint import comparison_from_dict, comparison_to_dict
from lab.soft_vs_hard.exercises import exercise_target
from lab.soft_vs_hard.train import sweep_gradients


def exercises_for(
    preset: Preset = Preset.FOUR,
    angle: float = 30,
    length: float = 2.0,
    temperature: float = 1.0,
    seed: int = 2,
    harder=None,
):
    scene = preset.scene
    target = exercise_target(scene)
    sweep = angle_sweep(scene, target, SWEEP_ANGLES, length, temperature)
    gradients = sweep_gradients(scene, target, SWEEP_ANGLES, length, temperature)
    shipped = load_comparisons()
    return {
        exercise.key: exercise
        for exercise in page_exercises(
            scene,
            look(scene, angle, length, temperature),
            length=length,
            temperature=temperature,
            seed=seed,
            sweep=sweep,
            gradients=gradients,
            harder=shipped[1] if harder is None else harder,
        )
    }


@pytest.fixture(scope="module")
def defaults():
    return exercises_for()


def right_option(exercise) -> str:
    answer = exercise.answer
    assert isinstance(answer, ChoiceAnswer)
    return answer.options[answer.correct]


def test_five_exercises_each_with_a_hint_and_an_explanation(defaults):
    assert list(defaults) == ["temperature", "twins", "draws", "descent", "training"]
    for exercise in defaults.values():
        assert exercise.hint and exercise.explanation and exercise.question


def test_without_a_harder_run_the_training_exercise_is_left_out():
    scene = Preset.FOUR.scene
    sweep = angle_sweep(scene, 1, SWEEP_ANGLES, 2.0, 1.0)
    items = page_exercises(
        scene,
        look(scene, 30, 2.0, 1.0),
        length=2.0,
        temperature=1.0,
        seed=2,
        sweep=sweep,
        gradients=sweep_gradients(scene, 1, SWEEP_ANGLES, 2.0, 1.0),
        harder=None,
    )
    assert [item.key for item in items] == ["temperature", "twins", "draws", "descent"]


def test_temperature_exercise_follows_the_query(defaults):
    exercise = defaults["temperature"]
    assert right_option(exercise) == (
        "T = 0.05: next to A's value; T = 20: near the mean of the values"
    )
    # The explanation gives both outputs: at T = 0.05 on A = (3, 0.5); at 20 near the mean.
    assert "At T = 0.05 the soft output is (3.00, 0.50)" in exercise.explanation
    assert "the mean of the values is (0.25, 0.75)" in exercise.explanation
    # Another direction picks another item, and the options name it.
    turned = exercises_for(angle=90)["temperature"]
    assert right_option(turned).startswith("T = 0.05: next to B's value")


@pytest.mark.parametrize(
    ("key", "right", "explained"),
    [
        ("temperature", "Both near the mean of the values", "the scores tie"),
        ("twins", "Neither changes: A and A′ score the same all the way", "nothing moves"),
        ("descent", "Nowhere: its gradient is 0 as well", "Lengthen the query"),
    ],
)
def test_with_a_zero_length_query_every_score_ties(key, right, explained):
    exercise = exercises_for(length=0.0)[key]
    assert right_option(exercise) == right
    assert explained in exercise.explanation


def test_twins_exercise_hard_jumps_soft_glides(defaults):
    exercise = defaults["twins"]
    assert right_option(exercise).startswith("Hard jumps from the value of A′ to that of A")
    assert "Hard attention switches at θ = -0.5°" in exercise.explanation
    assert "its output moves by 4.00 in one degree" in exercise.explanation
    assert check_choice(exercise.answer, "Both jump near θ = 0°").correct is False


def test_twins_exercise_at_a_tiny_temperature_still_glides():
    # At T = 0.05 and length 4 the soft output swings faster, but not in one step.
    exercise = exercises_for(length=4.0, temperature=0.05)["twins"]
    assert right_option(exercise).startswith("Hard jumps")


@pytest.mark.parametrize("seed", [0, 2, 77])
def test_draws_exercise_is_the_one_draw_gap_of_the_seed_on_screen(seed):
    exercise = exercises_for(seed=seed)["draws"]
    view = look(Preset.FOUR.scene, 30, 2.0, 1.0)
    gaps, _ = frequency_gaps(view.scores, [1, 10, 100, 1000], 1.0, seed)
    assert isinstance(exercise.answer, NumberAnswer)
    assert exercise.answer.value == pytest.approx(gaps[0])
    # One draw is one-hot: the gap is 1 − p of the drawn item, or the largest other p.
    soft = view.soft
    assert min(abs(gaps[0] - (1 - p)) for p in soft) < 1e-12 or gaps[0] == pytest.approx(soft.max())
    assert f"(noise seed {seed})" in exercise.question
    assert check_number(exercise.answer, f"{gaps[0]:.2f}").correct is True
    assert check_number(exercise.answer, f"{gaps[0] + 0.05:.2f}").correct is False
    assert check_number(exercise.answer, "2").correct is None  # out of range: a hint


def test_descent_exercise_points_down_the_average_loss(defaults):
    exercise = defaults["descent"]
    scene = Preset.FOUR.scene
    gradients = sweep_gradients(scene, 1, SWEEP_ANGLES, 2.0, 1.0)
    sweep = angle_sweep(scene, 1, SWEEP_ANGLES, 2.0, 1.0)
    assert "set θ to -68°" in exercise.question
    index = int(np.flatnonzero(SWEEP_ANGLES == -68)[0])
    assert sweep.hard_loss[index] == pytest.approx(sweep.hard_loss.max())
    assert gradients.expected_grad[index] < 0  # the average loss falls as θ grows
    assert right_option(exercise) == "Increase θ"
    assert f"dL/dθ = {gradients.expected_grad[index]:+.4f} per degree" in exercise.explanation


def test_training_exercise_reads_the_harder_run(defaults):
    exercise = defaults["training"]
    harder = load_comparisons()[1]
    final = {method: harder.curves[method].accuracy[-1] for method in TrainingMethod}
    assert right_option(exercise) == "hard + REINFORCE"
    assert final[TrainingMethod.REINFORCE] < final[TrainingMethod.GUMBEL_ST]
    assert "set Items per example to 16 and Training steps to 200" in exercise.question
    assert "(training seed 0: it is shipped with the lab" in exercise.question
    gap = final[TrainingMethod.SOFT] - final[TrainingMethod.REINFORCE]
    assert f"REINFORCE trails soft by {gap:.3f}" in exercise.explanation


def test_training_exercise_when_both_keep_up():
    harder = load_comparisons()[1]
    data = comparison_to_dict(harder)
    for method in ("reinforce", "gumbel_st"):
        data["curves"][method]["accuracy"] = data["curves"]["soft"]["accuracy"]
    even = comparison_from_dict(data)
    exercise = exercises_for(harder=even)["training"]
    assert right_option(exercise) == "Neither: both keep up with soft"
    trained = exercises_for(harder=replace(even, config=replace(even.config, seed=5)))
    assert "training seed 5" in trained["training"].question
