"""Learning the bandwidth of Nadaraya–Watson regression by gradient descent, in torch.

The parametric model has one parameter, the log of the gaussian bandwidth
(so the bandwidth stays positive whatever step the optimiser takes):

    f(x) = sum_i softmax_i(-(x - x_i)^2 / (2 h^2)) y_i,   h = exp(log_h).

Two objectives, both a mean squared error over the training points:

* ``"train"``: each point is predicted with itself in the dictionary. Its
  own weight grows as ``h`` shrinks, so the loss falls to 0 as ``h -> 0``:
  gradient descent drives the bandwidth to zero and the model memorises.
* ``"loo"`` (leave-one-out): each point's own key is masked out (score
  ``-inf``), so it must be predicted from its neighbours. Shrinking ``h`` then
  copies one neighbour's noise and the loss rises again: the minimum is a
  sensible bandwidth, near the closed-form leave-one-out optimum.

torch is imported here only; the rest of the lab stays numpy.

Shapes:
    S   training points (also the queries while training)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from lab.kernel_regression import (
    OBJECTIVES,
    LearningCurve,
    Objective,
    TrainingConfig,
    check_bandwidth,
)


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch on one thread, then restore the setting.

    The tensors here are ``(S, S)`` with ``S <= 100``: splitting such small ops
    over threads costs more than it saves, several times over when the
    machine's cores are busy with other work.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class ParametricNadarayaWatson(nn.Module):
    """Gaussian Nadaraya–Watson regression with a learnable bandwidth (float64)."""

    def __init__(self, initial_bandwidth: float = 1.0) -> None:
        super().__init__()
        bandwidth = check_bandwidth(initial_bandwidth)
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


def _check_data(x_train: ArrayLike, y_train: ArrayLike) -> tuple[torch.Tensor, torch.Tensor]:
    x = np.asarray(x_train, dtype=np.float64)
    y = np.asarray(y_train, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(f"x_train and y_train must be vectors, got {x.shape} and {y.shape}")
    if x.shape != y.shape:
        raise ValueError(f"x_train has {x.size} points but y_train has {y.size}")
    if x.size < 2:
        raise ValueError("learning a bandwidth needs at least 2 training points")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x_train and y_train must be finite numbers")
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


def learn_bandwidth(
    x_train: ArrayLike,
    y_train: ArrayLike,
    *,
    objective: Objective = "loo",
    config: TrainingConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LearningCurve:
    """Fit ``log h`` by full-batch Adam on the training or leave-one-out loss.

    Args:
        x_train: ``(S,)`` training inputs.
        y_train: ``(S,)`` targets.
        objective: ``"train"`` (the model sees each point's own target: the
            bandwidth collapses towards 0) or ``"loo"`` (it may not: the
            bandwidth settles where leave-one-out error is smallest).
        config: start, learning rate and number of steps (``TrainingConfig()`` by default).
        progress: called as ``progress(step, steps)`` after each step.

    Returns:
        The :class:`LearningCurve`: bandwidth and losses at every step.
    """
    config = config or TrainingConfig()
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if not isinstance(config.steps, int) or config.steps < 1:
        raise ValueError(f"steps must be a positive integer, got {config.steps!r}")
    if not math.isfinite(config.learning_rate) or config.learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive, got {config.learning_rate}")
    x, y = _check_data(x_train, y_train)
    model = ParametricNadarayaWatson(config.initial_bandwidth)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    exclude_self = objective == "loo"
    bandwidths, losses, loo_losses = [], [], []

    def record() -> None:
        with torch.no_grad():
            loo_estimate, _ = model(x, x, y, exclude_self=True)
            loo_losses.append(float(torch.mean((loo_estimate - y) ** 2)))
        bandwidths.append(model.bandwidth)

    with _one_thread():
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
    x_train: ArrayLike,
    y_train: ArrayLike,
    *,
    config: TrainingConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[Objective, LearningCurve]:
    """Both runs from the same start; ``progress(done, total)`` counts steps of both."""
    config = config or TrainingConfig()
    total = 2 * config.steps
    curves: dict[Objective, LearningCurve] = {}
    for offset, objective in enumerate(OBJECTIVES):

        def report(step: int, _steps: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset * config.steps + step, total)

        curves[objective] = learn_bandwidth(
            x_train, y_train, objective=objective, config=config, progress=report
        )
    return curves
