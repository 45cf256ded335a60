"""Training the translation model in torch: it learns, it repeats, it reports progress."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lab.alignment.grammar import draw_pairs, held_out_pairs, pad_pairs
from lab.alignment.model import AlignmentConfig, Scoring, check_aligner_weights, recorded_metrics
from lab.alignment.train import (
    batch_loss,
    build_module,
    initial_weights,
    module_weights,
    train,
)

# A few steps only: about a second each.
SHORT = AlignmentConfig(scoring=Scoring.ADDITIVE, epochs=3, steps_per_epoch=4, batch_size=16)


@pytest.fixture(scope="module")
def short_run():
    calls = []
    model = train(SHORT, progress=lambda *args: calls.append(args))
    return model, calls


def test_a_short_run_lowers_the_loss_and_reports_progress(short_run):
    model, calls = short_run
    loss = model.curves["loss"]
    assert len(loss) == SHORT.epochs and loss[-1] < loss[0] - 0.3
    assert [(step, total) for step, total, _ in calls] == [(4, 12), (8, 12), (12, 12)]
    assert [value for _, _, value in calls] == list(loss)
    assert torch.get_num_threads() == 1  # training runs torch on one thread
    check_aligner_weights(model.weights, model.config)
    assert all(value.dtype == np.float32 for value in model.weights.values())


def test_the_loss_falls_on_the_same_batch_too(short_run):
    # the curve above is the mean over each epoch's own batches; this checks one fixed batch
    model, _ = short_run
    batch = pad_pairs(held_out_pairs()[:64])
    with torch.no_grad():
        before = float(batch_loss(build_module(initial_weights(SHORT), SHORT), batch))
        after = float(batch_loss(build_module(model.weights, SHORT), batch))
    assert after < before - 0.3


def test_training_repeats_exactly_from_its_seed(short_run):
    model, _ = short_run
    again = train(SHORT)
    for name, value in model.weights.items():
        np.testing.assert_array_equal(again.weights[name], value)
    other = train(
        AlignmentConfig(
            scoring=Scoring.ADDITIVE, epochs=1, steps_per_epoch=4, batch_size=16, seed=1
        )
    )
    assert not np.array_equal(other.weights["readout.weight"], model.weights["readout.weight"])


def test_recorded_metrics_are_the_numpy_measurements(short_run):
    model, _ = short_run
    measured = recorded_metrics(model.weights, model.config)
    assert {name: model.metrics[name] for name in measured} == measured
    assert model.metrics["train_seconds"] > 0


def test_training_never_sees_a_held_out_sentence():
    held_out = frozenset(pair.source for pair in held_out_pairs())
    rng = np.random.default_rng(0)
    drawn = [pair.source for _ in range(40) for pair in draw_pairs(rng, 64, exclude=held_out)]
    assert len(drawn) == 40 * 64 and not set(drawn) & held_out
    # and skipping works: the same stream with its first sentences excluded leaves them out
    first = [pair.source for pair in draw_pairs(np.random.default_rng(3), 10)]
    kept = draw_pairs(np.random.default_rng(3), 10, exclude=frozenset(first[:5]))
    assert not {pair.source for pair in kept} & set(first[:5])
    assert [pair.source for pair in kept][:5] == first[5:]


def test_module_and_weights_round_trip():
    config = AlignmentConfig(scoring=Scoring.DOT, seed=2)
    weights = initial_weights(config)
    back = module_weights(build_module(weights, config))
    for name, value in weights.items():
        np.testing.assert_array_equal(back[name], value.astype(np.float32))
