"""lab.scaling.exercises: answers computed from the page's own samples, checked both ways."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from lab import scaling as sc
from lab.exercises import ChoiceAnswer, NumberAnswer, check_choice, check_number
from lab.scaling import Mode, ScalingConfig, page_exercises
from lab.scaling.exercises import KEYS_OPTIONS, keys_verdict


def exercises_for(config: ScalingConfig) -> dict:
    sweep = sc.sweep_attention_scores(
        config.n_keys, variance=config.variance, seed=config.seed, rows=config.sweep_rows
    )
    table = sc.sharpness_table(sweep, config.temperature)
    return {exercise.key: exercise for exercise in page_exercises(config, table)}, table


def top_weight(config, *, n_keys, d, variance, mode, temperature):
    scores = sc.sample_attention_scores(
        n_keys,
        d,
        trials=sc.trials_for(n_keys, config.sweep_rows),
        variance=variance,
        seed=config.seed,
    )
    return sc.sharpness_row(scores, d, mode, temperature)["mean_max_weight"]


@pytest.fixture(scope="module")
def defaults():
    return exercises_for(ScalingConfig())


def test_five_exercises_in_page_order(defaults):
    exercises, _ = defaults
    assert list(exercises) == ["saturated", "temperature", "variance", "keys", "histogram"]
    for exercise in exercises.values():
        assert exercise.hint and exercise.explanation and exercise.question
        assert "**d = " in exercise.question  # each says which d to read


def test_exercises_do_not_depend_on_the_d_on_screen(defaults):
    exercises, table = defaults
    other = page_exercises(replace(ScalingConfig(), d=2), table)
    assert [exercise for exercise in other] == list(exercises.values())


def test_saturated_share_is_read_from_the_sweep_at_1024(defaults):
    exercises, table = defaults
    answer = exercises["saturated"].answer
    row = table[(table["d"] == 1024) & (table["mode"] == "unscaled")]
    assert isinstance(answer, NumberAnswer)
    assert answer.value == row["saturated"].item() and answer.tolerance == 0.01
    assert 0.5 < answer.value < 1  # at the defaults most unscaled rows are saturated at 1024
    assert check_number(answer, f"{answer.value:.1%}").correct is True
    assert check_number(answer, f"{answer.value:.2f}").correct is True
    assert check_number(answer, f"{answer.value + 0.03:.2f}").correct is False
    assert check_number(answer, "80").correct is None  # a percentage without % is out of range
    scaled = table[(table["d"] == 1024) & (table["mode"] == "scaled")]["saturated"].item()
    assert f"**{answer.value:.1%}**" in exercises["saturated"].explanation
    assert f"**{scaled:.1%}**" in exercises["saturated"].explanation
    assert "√d · σ² = 32" in exercises["saturated"].explanation


def test_temperature_root_d_is_the_scaling(defaults):
    exercises, _ = defaults
    exercise = exercises["temperature"]
    assert isinstance(exercise.answer, ChoiceAnswer) and exercise.answer.correct == 0
    assert check_choice(exercise.answer, exercise.answer.options[0]).correct is True
    assert check_choice(exercise.answer, exercise.answer.options[1]).correct is False
    config = ScalingConfig()
    common = {"n_keys": config.n_keys, "d": 64, "variance": 1.0}
    scaled = top_weight(config, mode=Mode.SCALED, temperature=1.0, **common)
    unscaled = top_weight(config, mode=Mode.UNSCALED, temperature=8.0, **common)
    assert scaled == unscaled  # exactly the same numbers reach softmax
    flatter = top_weight(config, mode=Mode.SCALED, temperature=8.0, **common)
    assert 1 / config.n_keys < flatter < scaled  # flatter, and not uniform: option 2 is wrong
    assert f"**{unscaled:.3f}**" in exercise.explanation
    assert f"({flatter:.3f})" in exercise.explanation


def test_variance_is_undone_by_a_temperature_of_sigma_squared(defaults):
    exercises, _ = defaults
    exercise = exercises["variance"]
    assert exercise.answer == NumberAnswer(value=4.0, tolerance=0.01, minimum=0.0)
    assert check_number(exercise.answer, "4").correct is True
    assert check_number(exercise.answer, "2").correct is False
    config = ScalingConfig()
    common = {"n_keys": config.n_keys, "d": 64, "mode": Mode.SCALED}
    before = top_weight(config, variance=1.0, temperature=1.0, **common)
    stronger = top_weight(config, variance=4.0, temperature=1.0, **common)
    restored = top_weight(config, variance=4.0, temperature=4.0, **common)
    assert restored == before and stronger > before + 0.2
    assert (
        f"{before:.3f} at σ² = 1, {stronger:.3f} at σ² = 4 and T = 1, and {restored:.3f} again"
        in exercise.explanation
    )


def test_keys_verdict_follows_the_data():
    assert keys_verdict(0.5, 0.6, 32) == 0
    assert keys_verdict(0.9, 0.8, 32) == 1
    assert keys_verdict(0.9, 3 / 32, 32) == 2  # exactly 3 × 1/S is not above it
    assert keys_verdict(0.9, 0.0938, 32) == 1
    assert len(KEYS_OPTIONS) == 3


@pytest.mark.parametrize(("temperature", "correct"), [(1.0, 1), (32.0, 2)])
def test_keys_exercise_at_two_temperatures(temperature, correct):
    config = ScalingConfig(temperature=temperature)
    exercises, _ = exercises_for(config)
    exercise = exercises["keys"]
    common = {"d": 64, "variance": 1.0, "mode": Mode.UNSCALED, "temperature": temperature}
    few = top_weight(config, n_keys=4, **common)
    many = top_weight(config, n_keys=32, **common)
    assert exercise.answer.correct == keys_verdict(few, many, 32) == correct
    assert f"**{few:.3f}** at S = 4 and **{many:.3f}** at S = 32" in exercise.explanation
    assert f"{many * 32:.1f} times at S = 32" in exercise.explanation


@pytest.mark.parametrize(("seed", "variance"), [(0, 1.0), (7, 0.25), (123, 4.0)])
def test_the_d_1_histogram_peaks_above_the_normal_curve(seed, variance):
    config = ScalingConfig(seed=seed, variance=variance)
    samples = sc.sample_dot_products(1, config.n_pairs, variance=variance, seed=seed)
    bars = sc.density_histogram(samples, sc.score_domain(1, variance), 40)
    curve_peak = 1 / math.sqrt(2 * math.pi * variance**2)
    tallest = bars["density"].max()
    assert tallest > 1.5 * curve_peak  # "well above", as the question says
    exercises, _ = exercises_for(replace(config, n_keys=4))
    exercise = exercises["histogram"]
    assert exercise.answer.correct == 0
    assert f"**{tallest:.2f}** against the curve's peak of {curve_peak:.2f}" in (
        exercise.explanation
    )
    assert "0.375 at d = 16" in exercise.explanation


def test_exercises_need_the_sweep_at_1024():
    config = ScalingConfig(n_keys=4)
    table = sc.sharpness_table(sc.sweep_attention_scores(4, rows=8, d_values=(2, 64)))
    with pytest.raises(ValueError) as error:
        page_exercises(config, table)
    assert str(error.value) == "sharpness must have rows for d = 1024"
