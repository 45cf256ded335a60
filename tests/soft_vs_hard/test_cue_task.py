"""The cue task's settings, names, curves and summary, without torch (lab.soft_vs_hard.cue_task)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, replace

import numpy as np
import pytest

from lab.soft_vs_hard import checkpoint, cue_task
from lab.soft_vs_hard.cue_task import (
    CueTaskConfig,
    CueTrainConfig,
    Curves,
    TrainingComparison,
    TrainingMethod,
)
from tests.refusals import assert_refuses, refuses

# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def test_the_defaults_are_the_settings_the_shipped_runs_were_trained_with():
    shipped = json.loads(checkpoint.CHECKPOINT_PATH.read_text())["runs"]
    assert [run["config"] for run in shipped] == [
        asdict(config) for config in cue_task.SHIPPED_CONFIGS
    ]
    assert shipped[0]["config"] == asdict(CueTrainConfig())
    assert all(set(run["curves"]) == {str(method) for method in TrainingMethod} for run in shipped)


def test_the_smallest_settings_are_accepted():
    task = CueTaskConfig(n_items=2, n_colors=2, n_labels=2)  # as many items as colours
    config = CueTrainConfig(
        task=task,
        steps=1,
        batch_size=1,
        learning_rate=1e-9,
        attention_size=1,
        tau=1e-9,
        baseline_decay=0.0,
        eval_every=1,
        eval_size=1,
        variance_batches=2,
        seed=0,
    )
    assert config.settings == (0, 2, 1)
    assert CueTrainConfig(baseline_decay=0.999).baseline_decay == 0.999


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: CueTaskConfig(n_items=1), "n_items must be at least 2, got 1"),
        (lambda: CueTaskConfig(n_colors=1), "n_colors must be at least 2, got 1"),
        (
            lambda: CueTaskConfig(n_items=9, n_colors=8),
            "n_items (9) cannot exceed n_colors (8): the items of an example have different "
            "colours",
        ),
        (lambda: CueTaskConfig(n_labels=True), "n_labels must be a whole number, got True"),
        (lambda: CueTrainConfig(steps=0), "steps must be at least 1, got 0"),
        (lambda: CueTrainConfig(batch_size=0), "batch_size must be at least 1, got 0"),
        (lambda: CueTrainConfig(attention_size=0), "attention_size must be at least 1, got 0"),
        (lambda: CueTrainConfig(eval_every=0), "eval_every must be at least 1, got 0"),
        (lambda: CueTrainConfig(eval_size=0), "eval_size must be at least 1, got 0"),
        (lambda: CueTrainConfig(variance_batches=1), "variance_batches must be at least 2, got 1"),
        (lambda: CueTrainConfig(seed=-1), "seed must be at least 0, got -1"),
        (lambda: CueTrainConfig(learning_rate=-1.0), "learning_rate must be positive, got -1.0"),
        (lambda: CueTrainConfig(tau=math.inf), "tau must be a finite number, got inf"),
        (lambda: CueTrainConfig(tau=0.0), "tau must be positive, got 0.0"),
        (lambda: CueTrainConfig(baseline_decay=1.0), "baseline_decay must lie in [0, 1), got 1.0"),
        (
            lambda: CueTrainConfig(baseline_decay=-0.1),
            "baseline_decay must lie in [0, 1), got -0.1",
        ),
    ],
)
def test_config_errors_say_what_to_fix(make, message):
    assert_refuses(make, message)


def test_with_settings_changes_only_the_three_page_settings():
    config = cue_task.with_settings(CueTrainConfig(), seed=7, n_items=3, steps=40)
    assert config.settings == (7, 3, 40)
    assert config.task == CueTaskConfig(n_items=3)
    assert replace(config, seed=0, steps=600, task=CueTaskConfig()) == CueTrainConfig()


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


def test_colour_and_label_names_cover_their_range_and_no_more():
    assert [cue_task.color_name(color) for color in (0, 15, 16, -1)] == [
        "red",
        "black",
        "c16",
        "c-1",
    ]
    assert [cue_task.label_name(label) for label in (0, 7, 8, -1)] == ["♠", "■", "l8", "l-1"]


def test_names_are_short_distinct_and_readable():
    assert len(cue_task.COLOR_NAMES) == len(set(cue_task.COLOR_NAMES)) == 16
    assert all(name.isalpha() and name.islower() for name in cue_task.COLOR_NAMES)
    assert len(cue_task.LABEL_NAMES) == len(set(cue_task.LABEL_NAMES)) == 8
    assert all(len(name) == 1 for name in cue_task.LABEL_NAMES)  # one symbol each


def test_example_names_mark_only_the_match():
    example = {"colors": [3, 0, 15], "labels": [0, 7, 1], "cue": 0, "target": 1, "answer": 7}
    assert cue_task.example_item_names(example) == ["lime ♠", "▶ red ■", "black ♥"]
    with pytest.raises(ValueError):  # a colour without a label is not silently dropped
        cue_task.example_item_names({**example, "labels": [0, 7]})


# ---------------------------------------------------------------------------
# Curves and the summary
# ---------------------------------------------------------------------------


def make_curves(method, accuracy, total_variance, noise_to_signal=(2.0, 0.5, 0.25)):
    """Curves over steps 0, 20, 40 with the given accuracy and gradient statistics."""
    return Curves(
        method=method,
        steps=[0, 20, 40],
        loss=[1, 0, 0],  # ints: they become floats
        accuracy=accuracy,
        looked_right=[0.0, 0.5, 1.0],
        train_loss=[1.0, 0.5, 0.25],
        total_variance=total_variance,
        noise_to_signal=noise_to_signal,
    )


def test_curves_hold_int_steps_and_float_series():
    curve = make_curves("reinforce", [0, 1, 1], [1, 2, 3])
    assert curve.method is TrainingMethod.REINFORCE
    assert isinstance(curve.steps, np.ndarray) and curve.steps.dtype == np.int64
    for name in cue_task.CURVE_SERIES:
        assert getattr(curve, name).dtype == np.float64, name
    assert Curves("soft", [0.0, 20.0], *[[0.0, 1.0]] * 6).steps.dtype == np.int64


@pytest.mark.parametrize("name", cue_task.CURVE_SERIES)
def test_curves_refuse_a_series_of_another_length(name):
    series = {series: [0.0, 0.0, 0.0] for series in cue_task.CURVE_SERIES}
    series[name] = [0.0, 0.0]
    with refuses(f"{name} has 2 entries but there are 3 steps"):
        Curves("soft", [0, 20, 40], **series)


def test_steps_to_is_the_first_step_at_or_above_the_accuracy():
    curve = make_curves("soft", [0.5, 0.95, 1.0], [1.0, 1.0, 1.0])
    assert curve.steps_to(0.95) == 20 and curve.steps_to(0.96) == 40
    assert curve.steps_to(0.5) == 0 and curve.steps_to(1.01) is None


def comparison(soft_variance: float) -> TrainingComparison:
    curves = {
        TrainingMethod.SOFT: make_curves("soft", [0.5, 0.95, 1.0], [soft_variance, 0.1, 0.1]),
        TrainingMethod.REINFORCE: make_curves(
            "reinforce", [0.25, 0.5, 0.75], [2.0, math.nan, 1.0], (8.0, math.nan, 4.0)
        ),
        TrainingMethod.GUMBEL_ST: make_curves("gumbel_st", [0.5, 0.9, 0.96], [0.25, 0.1, 0.1]),
    }
    return TrainingComparison(CueTrainConfig(batch_size=16), curves, [], {})


def test_summary_reads_every_number_off_the_curves():
    rows = cue_task.summarise(comparison(soft_variance=0.5))
    assert rows == [
        cue_task.MethodSummary(TrainingMethod.SOFT, 20, 320, 1.0, 0.5, 1.0, 2.0),
        cue_task.MethodSummary(TrainingMethod.REINFORCE, None, None, 0.75, 2.0, 4.0, 8.0),
        cue_task.MethodSummary(TrainingMethod.GUMBEL_ST, 40, 640, 0.96, 0.25, 0.5, 2.0),
    ]


def test_summary_ratio_is_nan_when_soft_has_no_variance():
    rows = cue_task.summarise(comparison(soft_variance=0.0))
    assert all(math.isnan(row.variance_ratio) for row in rows)
    assert [row.start_variance for row in rows] == [0.0, 2.0, 0.25]
