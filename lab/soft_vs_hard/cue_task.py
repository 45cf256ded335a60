"""The "find the item that matches the cue" task: its settings and its results, without torch.

The page shows training results it did not compute (the shipped runs) and
runs a learner retrained; both are the plain records here, so the page can
read and draw them without importing torch. The training itself is in
:mod:`lab.soft_vs_hard.train`.

The task: an example shows ``S`` items, each a colour (one of ``C``, all
different within the example) and a label (one of ``K``). A cue names one of
the colours; the answer is the label of the item with that colour.

Shapes:
    S   items per example
    C   colours, K labels
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from lab.checks import check_float, check_int


class TrainingMethod(StrEnum):
    """How the attention parameters ``W_q, W_k`` get their update."""

    SOFT = "soft"  # softmax weights, exact gradient by backpropagation
    REINFORCE = "reinforce"  # one sampled item, score-function estimate
    GUMBEL_ST = "gumbel_st"  # one Gumbel-max item forward, soft gradient backward

    @property
    def label(self) -> str:
        """The long name the page's table and captions use."""
        return _METHOD_NAMES[self][0]

    @property
    def short(self) -> str:
        """The short name of chart legends and rows."""
        return _METHOD_NAMES[self][1]


_METHOD_NAMES = {  # method -> (long name, short name)
    TrainingMethod.SOFT: ("soft + backprop", "soft"),
    TrainingMethod.REINFORCE: ("hard + REINFORCE", "REINFORCE"),
    TrainingMethod.GUMBEL_ST: ("hard + Gumbel straight-through", "Gumbel-ST"),
}


@dataclass(frozen=True)
class CueTaskConfig:
    """The "find the item that matches the cue" task."""

    n_items: int = 10  # S: items per example, one match and S - 1 distractors
    n_colors: int = 16  # C: colours in the vocabulary (items in an example differ)
    n_labels: int = 4  # K: answer classes; chance accuracy is 1 / K

    def __post_init__(self) -> None:
        for name in ("n_items", "n_colors", "n_labels"):
            check_int(name, getattr(self, name), minimum=2)
        if self.n_items > self.n_colors:
            raise ValueError(
                f"n_items ({self.n_items}) cannot exceed n_colors ({self.n_colors}): "
                "the items of an example have different colours"
            )


@dataclass(frozen=True)
class CueTrainConfig:
    """How the three methods are trained and measured (the same for all three)."""

    task: CueTaskConfig = field(default_factory=CueTaskConfig)  # the toy task
    steps: int = 600  # optimiser steps per method; soft is done by ~200
    batch_size: int = 32  # examples per step
    learning_rate: float = 0.01  # Adam, for every parameter
    attention_size: int = 8  # d: query/key size
    tau: float = 1.0  # Gumbel-softmax temperature of the straight-through backward pass
    baseline_decay: float = 0.9  # REINFORCE running-mean baseline: b <- decay b + (1 - decay) loss
    eval_every: int = 20  # steps between points of the learning curves
    eval_size: int = 512  # held-out examples for the curves (fixed per seed)
    variance_batches: int = 64  # R: gradient estimates per variance measurement
    seed: int = 0  # one seed for data, initial weights and noise

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "attention_size", "eval_every", "eval_size"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("variance_batches", self.variance_batches, minimum=2)  # a variance needs 2
        check_int("seed", self.seed, minimum=0)
        for name in ("learning_rate", "tau"):
            check_float(name, getattr(self, name), positive=True)
        if not 0 <= self.baseline_decay < 1:
            raise ValueError(f"baseline_decay must lie in [0, 1), got {self.baseline_decay}")

    @property
    def settings(self) -> tuple[int, int, int]:
        """``(seed, items, steps)``: what the page lets a learner change, and the run's key."""
        return (self.seed, self.task.n_items, self.steps)


def with_settings(config: CueTrainConfig, *, seed: int, n_items: int, steps: int) -> CueTrainConfig:
    """``config`` with the three settings the page lets a learner change."""
    return replace(config, seed=seed, steps=steps, task=replace(config.task, n_items=n_items))


# The runs shipped in lab/checkpoints/soft_vs_hard.json: the page's first view, and the
# harder task of its training exercise (16 items, 200 steps), so that exercise can be
# answered on a server where training is switched off.
SHIPPED_CONFIGS: tuple[CueTrainConfig, ...] = (
    CueTrainConfig(),
    with_settings(CueTrainConfig(), seed=0, n_items=16, steps=200),
)

COLOR_NAMES = (
    "red", "orange", "yellow", "lime", "green", "teal", "cyan", "sky",
    "blue", "navy", "violet", "purple", "pink", "brown", "grey", "black",
)  # fmt: skip
LABEL_NAMES = ("♠", "♥", "♦", "♣", "★", "●", "▲", "■")  # fmt: skip


def color_name(color: int) -> str:
    """A readable name for colour ``color`` (``c<n>`` beyond the named ones)."""
    return COLOR_NAMES[color] if 0 <= color < len(COLOR_NAMES) else f"c{color}"


def label_name(label: int) -> str:
    """A readable name for label ``label`` (``l<n>`` beyond the named ones)."""
    return LABEL_NAMES[label] if 0 <= label < len(LABEL_NAMES) else f"l{label}"


Example = dict[str, int | list[int]]  # colours, labels, cue, target, answer


def example_item_names(example: Example) -> list[str]:
    """The items of an example as "▶ grey ♦" (▶ marks the match), for chart labels."""
    colors, labels = example["colors"], example["labels"]
    return [
        ("▶ " if index == example["target"] else "") + f"{color_name(color)} {label_name(label)}"
        for index, (color, label) in enumerate(zip(colors, labels, strict=True))
    ]


# The measured series of :class:`Curves`, one entry per measured step each.
CURVE_SERIES = (
    "loss",
    "accuracy",
    "looked_right",
    "train_loss",
    "total_variance",
    "noise_to_signal",
)


@dataclass(frozen=True, eq=False)
class Curves:
    """Learning curves of one method, as numpy arrays (one entry per measured step).

    Lists passed in become arrays, so a page that hands the curves to a cached
    chart builder pays for hashing a few arrays, not thousands of floats.

    Attributes:
        method: which :class:`TrainingMethod`.
        steps: optimiser steps at which the curves are measured (0 first).
        loss, accuracy, looked_right: held-out evaluation per step (mean
            cross-entropy, answer correct, largest weight on the match).
        train_loss: mean training loss over the steps since the previous point.
        total_variance, noise_to_signal: gradient statistics per step, at the
            parameters the method had reached (NaN where not measured).
    """

    method: TrainingMethod
    steps: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    looked_right: np.ndarray
    train_loss: np.ndarray
    total_variance: np.ndarray
    noise_to_signal: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", TrainingMethod(self.method))
        object.__setattr__(self, "steps", np.asarray(self.steps, dtype=np.int64))
        for name in CURVE_SERIES:
            values = np.asarray(getattr(self, name), dtype=np.float64)
            if values.shape != self.steps.shape:
                raise ValueError(
                    f"{name} has {values.size} entries but there are {self.steps.size} steps"
                )
            object.__setattr__(self, name, values)

    def steps_to(self, accuracy: float) -> int | None:
        """First measured step at which held-out accuracy reached ``accuracy``."""
        reached = np.flatnonzero(self.accuracy >= accuracy)
        return int(self.steps[reached[0]]) if reached.size else None


@dataclass(frozen=True)
class TrainingComparison:
    """The three methods trained with one config, and where each looks on a few examples.

    Attributes:
        config: the settings used.
        curves: one :class:`Curves` per method, in :class:`TrainingMethod` order.
        examples: a few held-out examples (colours, labels, cue, target, answer).
        example_weights: per method, ``(n_examples, S)`` attention weights on
            them after training (softmax of the scores for every method: for
            the hard ones, the distribution they sample from).
    """

    config: CueTrainConfig
    curves: dict[TrainingMethod, Curves]
    examples: list[Example]
    example_weights: dict[TrainingMethod, list[list[float]]]


TARGET_ACCURACY = 0.95  # "steps to 95 %": the page's measure of how fast a method learns


@dataclass(frozen=True)
class MethodSummary:
    """One row of the page's table: what a method cost and how noisy its gradients were.

    Attributes:
        method: the method.
        steps_to_target: first measured step with held-out accuracy >= 0.95
            (``None`` if never reached).
        examples_to_target: training examples seen by then (steps × batch size).
        final_accuracy: held-out accuracy after the last step.
        start_variance: total variance of the attention gradient at step 0,
            where all three models have the same weights.
        variance_ratio: ``start_variance`` divided by soft's.
        noise_to_signal: at step 0, total variance over the squared norm of
            the mean gradient.
    """

    method: TrainingMethod
    steps_to_target: int | None
    examples_to_target: int | None
    final_accuracy: float
    start_variance: float
    variance_ratio: float
    noise_to_signal: float


def summarise(comparison: TrainingComparison) -> list[MethodSummary]:
    """One :class:`MethodSummary` per method, in :class:`TrainingMethod` order."""
    soft_start = float(comparison.curves[TrainingMethod.SOFT].total_variance[0])
    rows = []
    for method in TrainingMethod:
        curve = comparison.curves[method]
        reached = curve.steps_to(TARGET_ACCURACY)
        start = float(curve.total_variance[0])
        rows.append(
            MethodSummary(
                method=method,
                steps_to_target=reached,
                examples_to_target=None
                if reached is None
                else reached * comparison.config.batch_size,
                final_accuracy=float(curve.accuracy[-1]),
                start_variance=start,
                variance_ratio=start / soft_start if soft_start > 0 else math.nan,
                noise_to_signal=float(curve.noise_to_signal[0]),
            )
        )
    return rows
