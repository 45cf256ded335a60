"""Learning the bandwidth of Nadaraya–Watson regression by gradient descent, in torch.

The parametric model has one parameter, the log of the gaussian bandwidth
(so the bandwidth stays positive whatever step the optimiser takes):

    f(x) = sum_i softmax_i(-(x - x_i)^2 / (2 h^2)) y_i,   h = exp(log_h).

Two objectives, both a mean squared error over the training points:

* ``Objective.TRAIN``: each point is predicted with itself in the dictionary. Its
  own weight grows as ``h`` shrinks, so the loss falls to 0 as ``h -> 0``:
  gradient descent drives the bandwidth to zero and the model memorises.
* ``Objective.LOO`` (leave-one-out): each point's own key is masked out (score
  ``-inf``), so it must be predicted from its neighbours. Shrinking ``h`` then
  copies one neighbour's noise and the loss rises again: the minimum is a
  sensible bandwidth, near the closed-form leave-one-out optimum.

torch is imported here only (the package's ``__init__`` never imports this
module); the rest of the topic stays numpy. The shipped run is remade by
``scripts/train_kernel_regression.py``.

Shapes:
    S   training points (also the queries while training)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from lab.checks import as_real, check_float, check_int
from lab.enums import parse_member
from lab.kernel_regression.data import DataConfig, make_data
from lab.kernel_regression.learning import (
    LearningCurve,
    LearningRuns,
    Objective,
    TrainingConfig,
)
from lab.torch_utils import use_one_thread


class ParametricNadarayaWatson(nn.Module):
    """Gaussian Nadaraya–Watson regression with a learnable bandwidth (float64)."""

    def __init__(self, initial_bandwidth: float = 1.0) -> None:
        super().__init__()
        bandwidth = check_float("bandwidth", initial_bandwidth, positive=True)
        self.log_bandwidth = nn.Parameter(torch.tensor(math.log(bandwidth), dtype=torch.float64))

    @property
    def bandwidth(self) -> float:
        return float(self.log_bandwidth.detach().exp())

    def forward(
        self,
        x_query: torch.Tensor,
        x_train: torch.Tensor,
        y_train: torch.Tensor,
        *,
        exclude_self: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Estimates ``(L,)`` and weights ``(L, S)`` for queries ``(L,)``.

        ``exclude_self`` masks the diagonal (queries must be the training
        inputs): a boolean mask with ``True`` = may attend, filled with ``-inf``.
        """
        bandwidth = self.log_bandwidth.exp()
        distances = x_query[:, None] - x_train[None, :]  # (L, S)
        scores = -0.5 * (distances / bandwidth) ** 2  # (L, S)
        if exclude_self:
            allowed = ~torch.eye(len(x_train), dtype=torch.bool)  # (S, S)
            scores = scores.masked_fill(~allowed, float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # (L, S)
        return weights @ y_train, weights


def _as_tensors(x_train: ArrayLike, y_train: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    """The training set as float64 tensors ``(S,)``, checked."""
    x = as_real("x_train", x_train, ndim=1, finite=True, dtype=np.float64)
    y = as_real("y_train", y_train, ndim=1, finite=True, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x_train has {x.size} points but y_train has {y.size}")
    if x.size < 2:
        raise ValueError(f"learning a bandwidth needs at least 2 training points, got {x.size}")
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


def learn_bandwidth(
    x_train: ArrayLike,
    y_train: ArrayLike,
    *,
    objective: Objective | str = Objective.LOO,
    config: TrainingConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LearningCurve:
    """Fit ``log h`` by full-batch Adam on the training or leave-one-out loss.

    Args:
        x_train: ``(S,)`` training inputs.
        y_train: ``(S,)`` targets.
        objective: ``Objective.TRAIN`` (the model sees each point's own target:
            the bandwidth collapses towards 0) or ``Objective.LOO`` (it may not:
            the bandwidth settles where leave-one-out error is smallest).
        config: start, learning rate and number of steps (``TrainingConfig()`` by default).
        progress: called as ``progress(step, steps)`` after each step.

    Returns:
        The :class:`LearningCurve`: bandwidth and losses at every step.
    """
    config = config or TrainingConfig()
    objective = parse_member(Objective, objective, "objective")
    check_int("steps", config.steps, minimum=1)
    check_float("learning_rate", config.learning_rate, positive=True)
    x, y = _as_tensors(x_train, y_train)
    use_one_thread()  # (S, S) tensors: more threads only add synchronisation
    model = ParametricNadarayaWatson(config.initial_bandwidth)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    exclude_self = objective is Objective.LOO
    bandwidths, losses, loo_losses = [], [], []

    def record() -> None:
        with torch.no_grad():
            loo_estimate, _ = model(x, x, y, exclude_self=True)
            loo_losses.append(float(torch.mean((loo_estimate - y) ** 2)))
        bandwidths.append(model.bandwidth)

    for step in range(config.steps):
        record()
        optimizer.zero_grad()
        estimate, _ = model(x, x, y, exclude_self=exclude_self)
        loss = torch.mean((estimate - y) ** 2)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(step + 1, config.steps)
    record()
    with torch.no_grad():
        estimate, _ = model(x, x, y, exclude_self=exclude_self)
        losses.append(float(torch.mean((estimate - y) ** 2)))
    return LearningCurve(
        objective=objective,
        bandwidths=np.asarray(bandwidths),
        losses=np.asarray(losses),
        loo_losses=np.asarray(loo_losses),
    )


def learn_both(
    data: DataConfig,
    training: TrainingConfig | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> LearningRuns:
    """Both runs on the data of ``data`` from the same start.

    ``progress(fraction, text)`` is called every tenth of each run (the
    signature :func:`app.runs.train` passes in), with the run and the step.
    """
    training = training or TrainingConfig()
    sample = make_data(data)
    total = 2 * training.steps
    every = max(1, training.steps // 10)
    curves: dict[Objective, LearningCurve] = {}
    for offset, objective in enumerate(Objective):

        def report(
            step: int, steps: int, offset: int = offset, name: str = objective.label
        ) -> None:
            if progress is not None and (step % every == 0 or step == steps):
                progress(
                    (offset * steps + step) / total,
                    f"Training on the {name}: step {step} of {steps}",
                )

        curves[objective] = learn_bandwidth(
            sample.x_train, sample.y_train, objective=objective, config=training, progress=report
        )
    return LearningRuns(data, training, curves)
