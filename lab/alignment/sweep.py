"""The same model trained from several seeds: about the same accuracy, different maps.

Training the translation model of :mod:`lab.alignment.model` from another seed
(other initial weights, another stream of sentences) gives a model that
translates the held-out sentences about as well, while the share of attention
on the true source words moves noticeably. The results of a small sweep ship
with the lab in ``lab/checkpoints/alignment_seed_sweep.json``; remake them with

    .venv/bin/python -m lab.alignment.sweep            # seeds 0-5, both scoring functions

(about 7 s a model on one thread). Seed 0 with the default configuration is the
shipped checkpoint of each scoring function, so its row repeats that
checkpoint's recorded metrics.

This module never imports torch at the top: :func:`main` imports
:mod:`lab.alignment.train` when it runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from lab.alignment.model import AlignmentConfig, Scoring

SWEEP_PATH = Path(__file__).resolve().parent.parent / "checkpoints" / "alignment_seed_sweep.json"
SWEEP_SEEDS = tuple(range(6))  # seeds trained for the shipped sweep


@dataclass(frozen=True)
class SeedResult:
    """One trained model's held-out results (see :func:`~lab.alignment.model.score_translations`).

    Attributes:
        scoring: the scoring function.
        seed: the training seed (other settings are the defaults of :class:`AlignmentConfig`).
        token_accuracy: greedy translations, share of reference tokens produced right.
        sentence_accuracy: share of sentences translated exactly.
        alignment_score: mean share of each output word's attention on its true source word.
    """

    scoring: Scoring
    seed: int
    token_accuracy: float
    sentence_accuracy: float
    alignment_score: float


@dataclass(frozen=True)
class SeedSpread:
    """What changes across the seeds of one scoring function.

    Attributes:
        scoring: the scoring function.
        seeds: how many seeds.
        accuracy_low, accuracy_high: the smallest and largest token accuracy.
        alignment_low, alignment_high: the smallest and largest alignment score.
        lowest_seed: the seed with the smallest alignment score.
    """

    scoring: Scoring
    seeds: int
    accuracy_low: float
    accuracy_high: float
    alignment_low: float
    alignment_high: float
    lowest_seed: int

    @property
    def alignment_range(self) -> float:
        """Largest minus smallest alignment score."""
        return self.alignment_high - self.alignment_low

    @property
    def accuracy_range(self) -> float:
        """Largest minus smallest token accuracy."""
        return self.accuracy_high - self.accuracy_low


def seed_spread(results: Sequence[SeedResult], scoring: Scoring) -> SeedSpread:
    """The range of accuracy and alignment score over the seeds of ``scoring``."""
    chosen = [result for result in results if result.scoring is scoring]
    if not chosen:
        raise ValueError(f"no results for {scoring.value} scoring")
    accuracy = [result.token_accuracy for result in chosen]
    alignment = [result.alignment_score for result in chosen]
    lowest = min(chosen, key=lambda result: result.alignment_score)
    return SeedSpread(
        scoring,
        len(chosen),
        min(accuracy),
        max(accuracy),
        min(alignment),
        max(alignment),
        lowest.seed,
    )


def sweep_columns(
    results: Sequence[SeedResult],
) -> tuple[tuple[Scoring, ...], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """The results as columns: scoring functions, seeds, token accuracies, alignment scores."""
    return (
        tuple(result.scoring for result in results),
        np.array([result.seed for result in results], dtype=np.int64),
        np.array([result.token_accuracy for result in results], dtype=np.float64),
        np.array([result.alignment_score for result in results], dtype=np.float64),
    )


def save_seed_sweep(results: Sequence[SeedResult], path: Path | None = None) -> Path:
    """Write the results as JSON (default :data:`SWEEP_PATH`)."""
    target = Path(path) if path is not None else SWEEP_PATH
    record = {
        "about": "Held-out results of the alignment model trained from several seeds "
        "(default configuration otherwise); rebuild with `python -m lab.alignment.sweep`.",
        "config": {
            key: value
            for key, value in AlignmentConfig().to_json().items()
            if key not in ("scoring", "seed")
        },
        "results": [
            {
                "scoring": result.scoring.value,
                "seed": result.seed,
                "token_accuracy": result.token_accuracy,
                "sentence_accuracy": result.sentence_accuracy,
                "alignment_score": result.alignment_score,
            }
            for result in results
        ],
    }
    target.write_text(json.dumps(record, indent=1) + "\n")
    return target


def load_seed_sweep(path: Path | None = None) -> tuple[SeedResult, ...]:
    """Read the shipped sweep (or ``path``).

    Raises:
        ValueError: if the file is missing or was made with another configuration.
    """
    source = Path(path) if path is not None else SWEEP_PATH
    if not source.exists():
        raise ValueError(f"no seed sweep at {source}; run `python -m lab.alignment.sweep`")
    record = json.loads(source.read_text())
    expected = {
        key: value
        for key, value in AlignmentConfig().to_json().items()
        if key not in ("scoring", "seed")
    }
    if record.get("config") != expected:
        raise ValueError(
            "the seed sweep was trained with another configuration; "
            "run `python -m lab.alignment.sweep` to remake it"
        )
    return tuple(
        SeedResult(
            Scoring(item["scoring"]),
            int(item["seed"]),
            float(item["token_accuracy"]),
            float(item["sentence_accuracy"]),
            float(item["alignment_score"]),
        )
        for item in record["results"]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Train every seed of :data:`SWEEP_SEEDS` with both scoring functions and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=len(SWEEP_SEEDS), help="seeds 0 .. n-1")
    parser.add_argument("--out", type=Path, default=None, help=f"default: {SWEEP_PATH}")
    args = parser.parse_args(argv)

    from lab.alignment.train import train  # torch: only when training

    results = []
    for seed in range(args.seeds):
        for scoring in Scoring:
            metrics = train(AlignmentConfig(scoring=scoring, seed=seed)).metrics
            result = SeedResult(
                scoring,
                seed,
                metrics["token_accuracy"],
                metrics["sentence_accuracy"],
                metrics["alignment_score"],
            )
            print(
                f"seed {seed}  {scoring.value:8s}  accuracy {result.token_accuracy:.4f}  "
                f"alignment {result.alignment_score:.4f}",
                flush=True,
            )
            results.append(result)
    print(f"wrote {save_seed_sweep(results, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
