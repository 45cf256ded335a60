"""The training records without torch: methods, curves, summaries and the shipped-runs file."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lab.soft_vs_hard import checkpoint, cue_task
from lab.soft_vs_hard.cue_task import Curves, TrainingMethod
from tests.refusals import refuses

ROOT = Path(__file__).resolve().parents[2]


def test_the_package_and_the_page_s_records_import_no_torch():
    code = (
        "import sys; import lab.soft_vs_hard as t; t.load_comparisons(); "
        "print('torch' in sys.modules, 'streamlit' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_methods_are_an_enum_with_labels():
    assert [str(method) for method in TrainingMethod] == ["soft", "reinforce", "gumbel_st"]
    assert [method.label for method in TrainingMethod] == [
        "soft + backprop",
        "hard + REINFORCE",
        "hard + Gumbel straight-through",
    ]
    assert [method.short for method in TrainingMethod] == ["soft", "REINFORCE", "Gumbel-ST"]
    assert TrainingMethod("gumbel_st") is TrainingMethod.GUMBEL_ST


def test_curves_become_arrays_and_find_their_first_good_step():
    curve = Curves(
        method="soft",
        steps=[0, 10, 20],
        loss=[1.0, 0.5, 0.1],
        accuracy=[0.2, 0.96, 0.99],
        looked_right=[0.1, 0.9, 1.0],
        train_loss=[1.0, 0.6, 0.2],
        total_variance=[1e-3, math.nan, 1e-4],
        noise_to_signal=[2.0, math.nan, 3.0],
    )
    assert curve.method is TrainingMethod.SOFT
    assert curve.steps.dtype == np.int64 and curve.loss.dtype == np.float64
    assert curve.steps_to(0.95) == 10 and isinstance(curve.steps_to(0.95), int)
    assert curve.steps_to(0.999) is None
    with refuses("loss has 2 entries but there are 3 steps"):
        Curves("soft", [0, 1, 2], [1.0, 2.0], *[[0.0] * 3] * 5)


def test_the_summary_of_the_shipped_run():
    shipped = checkpoint.load_comparisons()[0]
    rows = cue_task.summarise(shipped)
    assert [row.method for row in rows] == list(TrainingMethod)
    soft, reinforce, gumbel = rows
    assert (soft.steps_to_target, reinforce.steps_to_target, gumbel.steps_to_target) == (
        160,
        340,
        200,
    )
    assert reinforce.examples_to_target == 340 * shipped.config.batch_size
    assert soft.variance_ratio == 1.0
    assert reinforce.variance_ratio == pytest.approx(
        shipped.curves["reinforce"].total_variance[0] / shipped.curves["soft"].total_variance[0]
    )
    assert reinforce.variance_ratio > 3 and gumbel.variance_ratio < 2
    assert soft.noise_to_signal == pytest.approx(shipped.curves["soft"].noise_to_signal[0])
    assert all(row.final_accuracy == 1.0 for row in rows)


def test_example_names_mark_the_match():
    example = {"colors": [0, 14], "labels": [1, 2], "cue": 14, "target": 1, "answer": 2}
    assert cue_task.example_item_names(example) == ["red ♥", "▶ grey ♦"]
    assert cue_task.color_name(20) == "c20" and cue_task.label_name(9) == "l9"
    assert cue_task.color_name(-1) == "c-1"


def test_shipped_configs_are_the_page_default_and_the_exercise_task():
    default, harder = cue_task.SHIPPED_CONFIGS
    assert default == cue_task.CueTrainConfig()
    assert default.settings == (0, 10, 600) and harder.settings == (0, 16, 200)
    loaded = checkpoint.load_comparisons()
    assert tuple(run.config for run in loaded) == cue_task.SHIPPED_CONFIGS


def test_save_and_load_round_trip_with_six_digits(tmp_path):
    runs = list(checkpoint.load_comparisons())
    path = checkpoint.save_comparisons(runs, tmp_path / "runs.json")
    again = checkpoint.load_comparisons(path)
    for before, after in zip(runs, again, strict=True):
        assert after.config == before.config
        for method in TrainingMethod:
            np.testing.assert_array_equal(after.curves[method].loss, before.curves[method].loss)
            np.testing.assert_array_equal(
                after.curves[method].total_variance, before.curves[method].total_variance
            )
    data = json.loads(path.read_text())
    variance = data["runs"][0]["curves"]["soft"]["total_variance"]
    assert variance[1] is None  # not measured at step 20: NaN is written as null
    assert variance[0] == pytest.approx(3.80998e-05)


def test_saving_rounds_to_six_significant_digits(tmp_path):
    run = checkpoint.load_comparisons()[1]
    data = checkpoint.comparison_to_dict(run)
    data["curves"]["soft"]["loss"][0] = 1.23456789
    path = checkpoint.save_comparisons([checkpoint.comparison_from_dict(data)], tmp_path / "r.json")
    saved = json.loads(path.read_text())["runs"][0]["curves"]["soft"]["loss"][0]
    assert saved == 1.23457


def test_loading_says_what_is_wrong(tmp_path):
    missing = tmp_path / "none.json"
    with refuses(
        f"no shipped runs at {missing}; run scripts/train_soft_vs_hard.py to make them",
        FileNotFoundError,
    ):
        checkpoint.load_comparisons(missing)
    broken = tmp_path / "broken.json"
    broken.write_text('{"curves": {}}')
    with refuses(f"{broken} is not a file of soft-vs-hard runs: 'runs'"):
        checkpoint.load_comparisons(broken)
