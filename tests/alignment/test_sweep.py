"""The shipped seed sweep, and training that reports to a progress bar."""

from __future__ import annotations

import pytest

from lab.alignment import AlignmentConfig, Scoring, load_aligner
from lab.alignment.sweep import (
    SWEEP_SEEDS,
    SeedResult,
    load_seed_sweep,
    save_seed_sweep,
    seed_spread,
)
from lab.alignment.train import train_reporting


@pytest.fixture(scope="module")
def results():
    return load_seed_sweep()


def test_the_sweep_has_every_seed_of_both_scoring_functions(results):
    assert sorted((r.seed, r.scoring.value) for r in results) == sorted(
        (seed, scoring.value) for seed in SWEEP_SEEDS for scoring in Scoring
    )


@pytest.mark.parametrize("scoring", list(Scoring), ids=lambda s: s.value)
def test_seed_zero_is_the_shipped_checkpoint(results, scoring):
    """Backs the page's "seed 0 with 12 epochs is the shipped model": training repeats exactly."""
    (zero,) = [r for r in results if r.seed == 0 and r.scoring is scoring]
    metrics = load_aligner(scoring).metrics
    assert AlignmentConfig(scoring=scoring) == load_aligner(scoring).config
    assert zero.token_accuracy == metrics["token_accuracy"]
    assert zero.sentence_accuracy == metrics["sentence_accuracy"]
    assert zero.alignment_score == metrics["alignment_score"]


@pytest.mark.parametrize("scoring", list(Scoring), ids=lambda s: s.value)
def test_same_accuracy_different_maps(results, scoring):
    """The page's claim: the seeds agree on accuracy far more than on the alignment score."""
    spread = seed_spread(results, scoring)
    assert spread.seeds == len(SWEEP_SEEDS)
    assert spread.accuracy_low >= 0.99
    assert spread.accuracy_range < 0.01 < spread.alignment_range
    scores = [r.alignment_score for r in results if r.scoring is scoring]
    assert spread.alignment_range == max(scores) - min(scores)
    lowest = min((r for r in results if r.scoring is scoring), key=lambda r: r.alignment_score)
    assert spread.lowest_seed == lowest.seed


def test_the_seed_moves_the_score_more_than_the_scoring_function(results):
    """The page's "What to notice": same seed, two scorings, against one scoring's seeds."""
    additive, dot = (load_aligner(s).metrics["alignment_score"] for s in Scoring)
    for scoring in Scoring:
        assert abs(additive - dot) < seed_spread(results, scoring).alignment_range


def test_the_sweep_round_trips_and_refuses_what_it_cannot_use(tmp_path, results):
    path = save_seed_sweep(results[:2], tmp_path / "sweep.json")
    assert load_seed_sweep(path) == results[:2]
    with pytest.raises(ValueError, match="no seed sweep at"):
        load_seed_sweep(tmp_path / "missing.json")
    path.write_text(path.read_text().replace('"epochs": 12', '"epochs": 3'))
    with pytest.raises(ValueError, match="trained with another configuration"):
        load_seed_sweep(path)
    with pytest.raises(ValueError, match="no results for dot scoring"):
        seed_spread([SeedResult(Scoring.ADDITIVE, 0, 1.0, 1.0, 0.5)], Scoring.DOT)


def test_training_reports_fractions_and_lines_for_a_progress_bar():
    reports = []
    config = AlignmentConfig(scoring=Scoring.DOT, epochs=2, steps_per_epoch=2, batch_size=8)
    trained = train_reporting(config, lambda fraction, text: reports.append((fraction, text)))
    assert [fraction for fraction, _ in reports] == [0.0, 0.475, 0.95]
    assert reports[0][1] == "Training scaled dot product scoring, seed 0"
    assert reports[1][1].startswith("Epoch 1 of 2: training loss ")
    assert reports[2][1].startswith("Trained (loss ") and "held-out" in reports[2][1]
    assert trained.config == config and len(trained.curves["loss"]) == 2
    assert f"{trained.curves['loss'][0]:.3f}" in reports[1][1]
