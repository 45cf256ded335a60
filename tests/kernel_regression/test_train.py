"""Learning the bandwidth in torch (lab.kernel_regression.train)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lab import kernel_regression as kr
from lab.kernel_regression import train
from tests.kernel_regression.util import exactly


@pytest.fixture(scope="module")
def learned():
    calls = []
    runs = train.learn_both(
        kr.DataConfig(), progress=lambda fraction, text: calls.append((fraction, text))
    )
    return runs, calls


def test_leave_one_out_training_finds_the_closed_form_optimum(default_data, learned):
    runs, _ = learned
    fine = kr.bandwidth_grid(1e-3, 10.0, 100)
    optimum = kr.best_bandwidth(default_data.x_train, default_data.y_train, fine)
    learned_h = runs.loo.final_bandwidth
    assert optimum / 1.5 < learned_h < optimum * 1.5
    # Its final loss is the closed-form leave-one-out error at that bandwidth.
    assert runs.loo.final_loss == pytest.approx(
        kr.loo_error(default_data.x_train, default_data.y_train, bandwidth=learned_h), rel=1e-9
    )


def test_plain_training_loss_drives_the_bandwidth_to_zero(default_data, learned):
    runs, _ = learned
    plain = runs.plain
    assert plain.objective is kr.Objective.TRAIN and runs.loo.objective is kr.Objective.LOO
    assert np.all(np.diff(plain.bandwidths) < 0)  # it only ever shrinks
    assert plain.still_moving and not runs.loo.still_moving
    assert plain.final_bandwidth < runs.loo.final_bandwidth / 5
    assert plain.final_loss < 0.1 * plain.losses[0]
    # Its training loss falls while its leave-one-out loss, at the same h, rises.
    assert plain.loo_losses[-1] > 1.3 * runs.loo.final_loss
    np.testing.assert_allclose(
        plain.final_loss,
        kr.mean_squared_error(
            kr.nadaraya_watson(
                default_data.x_train,
                default_data.y_train,
                default_data.x_train,
                bandwidth=plain.final_bandwidth,
            ).estimate,
            default_data.y_train,
        ),
        rtol=1e-9,
    )


def test_progress_is_reported_every_tenth_of_both_runs(learned):
    _, calls = learned
    steps = kr.TrainingConfig().steps
    fractions = [fraction for fraction, _ in calls]
    assert len(calls) == 20
    assert fractions[0] == pytest.approx(20 / (2 * steps)) and fractions[-1] == 1.0
    assert np.all(np.diff(fractions) > 0)
    assert calls[0][1] == f"Training on the plain training loss: step 20 of {steps}"
    assert calls[-1][1] == f"Training on the leave-one-out loss: step {steps} of {steps}"


def test_every_step_is_reported_by_one_run():
    calls = []
    train.learn_bandwidth(
        [0.0, 1.0, 2.0],
        [1.0, 2.0, 0.0],
        config=kr.TrainingConfig(steps=5),
        progress=lambda step, steps: calls.append((step, steps)),
    )
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_shipped_checkpoint_matches_a_fresh_run(learned):
    saved = kr.load_learning_runs()
    assert saved.data == kr.DataConfig() and saved.training == kr.TrainingConfig()
    runs, _ = learned
    assert runs.data == saved.data and runs.training == saved.training
    for objective in kr.Objective:
        assert saved.curves[objective].objective is runs.curves[objective].objective is objective
        for field in ("bandwidths", "losses", "loo_losses"):
            np.testing.assert_allclose(
                getattr(saved.curves[objective], field),
                getattr(runs.curves[objective], field),
                rtol=1e-8,
            )


def test_learning_runs_round_trip_through_json(tmp_path, learned):
    runs, _ = learned
    path = tmp_path / "curves.json"
    kr.save_learning_runs(runs, path)
    loaded = kr.load_learning_runs(path)
    assert loaded.data == runs.data and loaded.training.steps == runs.training.steps
    np.testing.assert_array_equal(loaded.loo.bandwidths, runs.loo.bandwidths)
    assert loaded.plain.objective is kr.Objective.TRAIN


def test_training_asks_for_one_thread_first(monkeypatch):
    calls = []
    monkeypatch.setattr(train, "use_one_thread", lambda: calls.append("one thread"))
    monkeypatch.setattr(
        train, "ParametricNadarayaWatson", lambda h: calls.append("model") or model(h)
    )
    train.learn_bandwidth([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], config=kr.TrainingConfig(steps=1))
    assert calls == ["one thread", "model"]


model = train.ParametricNadarayaWatson


def test_the_model_masks_its_own_key_with_minus_infinity():
    model = train.ParametricNadarayaWatson(0.5)
    x = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
    y = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    with torch.no_grad():
        estimate, weights = model(x, x, y, exclude_self=True)
    assert torch.all(torch.diagonal(weights) == 0)
    expected = kr.loo_predictions(x.numpy(), y.numpy(), bandwidth=0.5)
    np.testing.assert_allclose(estimate.numpy(), expected.estimate, rtol=1e-12)
    assert model.bandwidth == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"objective": "test"}, "objective must be one of train, loo, got 'test'"),
        ({"config": kr.TrainingConfig(steps=0)}, "steps must be at least 1, got 0"),
        (
            {"config": kr.TrainingConfig(learning_rate=-0.1)},
            "learning_rate must be positive, got -0.1",
        ),
        (
            {"config": kr.TrainingConfig(initial_bandwidth=0.0)},
            "bandwidth must be positive, got 0.0",
        ),
    ],
)
def test_learning_checks_its_arguments(arguments, message):
    with exactly(message):
        train.learn_bandwidth([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], **arguments)


def test_learning_checks_its_data():
    with exactly("learning a bandwidth needs at least 2 training points, got 1"):
        train.learn_bandwidth([0.0], [1.0])
    with exactly("x_train has 2 points but y_train has 3"):
        train.learn_bandwidth([0.0, 1.0], [1.0, 2.0, 3.0])
    with exactly("x_train contains NaN or infinity; every entry must be a finite number"):
        train.learn_bandwidth([0.0, np.nan], [1.0, 2.0])
