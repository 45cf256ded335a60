"""The learned-bandwidth runs without torch: settings, curves and the checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lab import kernel_regression as kr
from tests.kernel_regression.util import exactly


def curve(objective: kr.Objective, bandwidths) -> kr.LearningCurve:
    bandwidths = np.asarray(bandwidths, dtype=float)
    return kr.LearningCurve(objective, bandwidths, bandwidths * 2, bandwidths * 3)


def test_the_shipped_checkpoint_is_the_default_run():
    runs = kr.load_learning_runs()
    assert runs.data == kr.DataConfig() and runs.training == kr.TrainingConfig()
    assert set(runs.curves) == {kr.Objective.TRAIN, kr.Objective.LOO}
    assert runs.plain.objective is kr.Objective.TRAIN and runs.loo.objective is kr.Objective.LOO
    steps = kr.TrainingConfig().steps
    assert runs.loo.bandwidths.shape == runs.loo.losses.shape == (steps + 1,)
    assert runs.loo.bandwidths[0] == kr.TrainingConfig().initial_bandwidth
    assert f"{runs.loo.final_bandwidth:.3f}" == "0.203"
    assert kr.CHECKPOINT.name == "kernel_regression.json"
    assert kr.CHECKPOINT.parent.name == "checkpoints"


def test_learning_runs_round_trip_through_json_with_their_objectives(tmp_path):
    runs = kr.LearningRuns(
        kr.DataConfig(seed=3, function="chirp"),
        kr.TrainingConfig(steps=2),
        {
            kr.Objective.TRAIN: curve(kr.Objective.TRAIN, [1.0, 0.5, 0.2]),
            kr.Objective.LOO: curve(kr.Objective.LOO, [1.0, 0.6, 0.4]),
        },
    )
    path = tmp_path / "curves.json"
    kr.save_learning_runs(runs, path)
    loaded = kr.load_learning_runs(path)
    assert loaded.data == runs.data and loaded.data.function is kr.TrueFunction.CHIRP
    assert loaded.training == runs.training
    for objective in kr.Objective:
        assert loaded.curves[objective].objective is objective
        for name in ("bandwidths", "losses", "loo_losses"):
            np.testing.assert_array_equal(
                getattr(loaded.curves[objective], name), getattr(runs.curves[objective], name)
            )
    record = json.loads(path.read_text())
    assert record["curves"]["loo"]["objective"] == "loo"
    assert record["data"]["function"] == "chirp"
    # A curve stored under the other objective's name is refused, not swapped silently.
    record["curves"]["loo"]["objective"] = "train"
    path.write_text(json.dumps(record))
    with exactly("the curve stored under 'loo' says its objective is 'train'"):
        kr.load_learning_runs(path)
    record["curves"]["loo"]["objective"] = "other"
    path.write_text(json.dumps(record))
    with exactly("unknown objective 'other' in a saved learning curve"):
        kr.load_learning_runs(path)
    record["curves"]["loo"]["objective"] = "loo"
    record["curves"]["loo"]["losses"] = [1.0]
    path.write_text(json.dumps(record))
    with exactly("a saved learning curve has arrays of different lengths"):
        kr.load_learning_runs(path)


def test_still_moving_looks_at_the_last_tenth_of_the_run():
    steady = curve(kr.Objective.LOO, np.r_[np.geomspace(1, 0.2, 90), np.full(11, 0.2)])
    falling = curve(kr.Objective.TRAIN, np.geomspace(1, 0.01, 101))
    assert not steady.still_moving and falling.still_moving
    assert falling.final_bandwidth == pytest.approx(0.01) and falling.final_loss == 0.02


def test_objectives_name_their_losses():
    assert [o.value for o in kr.Objective] == ["train", "loo"]
    assert kr.Objective.TRAIN.label == "plain training loss"
    assert kr.Objective.LOO.label == "leave-one-out loss"
