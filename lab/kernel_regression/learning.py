"""The learned bandwidth, numpy side: its settings, its results, and the shipped run.

The torch training itself is in :mod:`lab.kernel_regression.train`; this
module only describes runs and reads and writes them, so the page shows the
shipped run without importing torch.

Shapes:
    T   training steps + 1 (the bandwidth before each step, and at the end)
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from lab.checks import FloatArray
from lab.kernel_regression.data import DataConfig

CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "kernel_regression.json"


class Objective(StrEnum):
    """What a run minimises: both are a mean squared error over the training points."""

    TRAIN = "train"  # each point is one of its own keys: the bandwidth collapses towards 0
    LOO = "loo"  # leave-one-out: its own key is masked, so it is predicted from the others

    @property
    def label(self) -> str:
        return "plain training loss" if self is Objective.TRAIN else "leave-one-out loss"


@dataclass(frozen=True)
class TrainingConfig:
    """How the bandwidth is learned (gaussian kernel, full-batch Adam on log h)."""

    initial_bandwidth: float = 1.0  # start from a smooth fit, h = 1 (log h = 0)
    learning_rate: float = 0.05  # Adam's step on log h: h moves by roughly 5 % a step
    steps: int = 200  # enough for the leave-one-out run to settle on the default data


@dataclass(frozen=True)
class LearningCurve:
    """One training run of the bandwidth.

    Attributes:
        objective: what the run minimised.
        bandwidths: ``(T,)`` the bandwidth before each step, and at the end.
        losses: ``(T,)`` the objective at each of those bandwidths.
        loo_losses: ``(T,)`` the leave-one-out loss at those bandwidths,
            whatever the objective, so the plain run shows what collapsing costs.
    """

    objective: Objective
    bandwidths: FloatArray
    losses: FloatArray
    loo_losses: FloatArray

    @property
    def final_bandwidth(self) -> float:
        return float(self.bandwidths[-1])

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    @property
    def still_moving(self) -> bool:
        """Whether the bandwidth still changed by more than 5 % over the last tenth of the run."""
        tail = max(1, self.bandwidths.size // 10)
        before, after = self.bandwidths[-1 - tail], self.bandwidths[-1]
        return abs(math.log(after / before)) > math.log(1.05)

    def to_dict(self) -> dict[str, object]:
        return {
            "objective": self.objective.value,
            "bandwidths": self.bandwidths.tolist(),
            "losses": self.losses.tolist(),
            "loo_losses": self.loo_losses.tolist(),
        }

    @classmethod
    def from_dict(cls, record: dict[str, object]) -> LearningCurve:
        try:
            objective = Objective(record["objective"])
        except ValueError:
            raise ValueError(
                f"unknown objective {record['objective']!r} in a saved learning curve"
            ) from None
        bandwidths, losses, loo = (
            np.asarray(record[name], dtype=float) for name in ("bandwidths", "losses", "loo_losses")
        )
        if not bandwidths.shape == losses.shape == loo.shape:
            raise ValueError("a saved learning curve has arrays of different lengths")
        return cls(objective, bandwidths, losses, loo)


@dataclass(frozen=True)
class LearningRuns:
    """Both runs on one data set from one start: what the page shows and the checkpoint holds."""

    data: DataConfig
    training: TrainingConfig
    curves: dict[Objective, LearningCurve]

    @property
    def plain(self) -> LearningCurve:
        return self.curves[Objective.TRAIN]

    @property
    def loo(self) -> LearningCurve:
        return self.curves[Objective.LOO]


def save_learning_runs(runs: LearningRuns, path: Path = CHECKPOINT) -> None:
    """Write both runs, with the settings that produced them, as JSON."""
    record = {
        "data": {**asdict(runs.data), "function": runs.data.function.value},
        "training": asdict(runs.training),
        "curves": {objective.value: curve.to_dict() for objective, curve in runs.curves.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")


def load_learning_runs(path: Path = CHECKPOINT) -> LearningRuns:
    """Read what :func:`save_learning_runs` wrote (the shipped default run by default).

    Raises:
        ValueError: if a curve is stored under another objective than its own.
    """
    record = json.loads(path.read_text())
    curves = {}
    for name, stored in record["curves"].items():
        curve = LearningCurve.from_dict(stored)
        if curve.objective.value != name:
            raise ValueError(
                f"the curve stored under {name!r} says its objective is {curve.objective.value!r}"
            )
        curves[curve.objective] = curve
    return LearningRuns(DataConfig(**record["data"]), TrainingConfig(**record["training"]), curves)
