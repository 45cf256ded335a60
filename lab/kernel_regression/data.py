"""The toy regression problems of the kernel-regression page: a true function plus noise.

Shapes:
    S   training points (keys and values)
    L   test queries
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from lab.checks import FloatArray, check_float, check_int
from lab.enums import LabelledStrEnum


class TrueFunction(LabelledStrEnum):
    """A function the data are drawn from; the values are the names a page puts in its address.

    The labels are what the page shows (no raw caret: x to the 0.8 is written x⁰·⁸).
    """

    TEXTBOOK = "textbook", "2 sin x + x⁰·⁸ (textbook)"
    STEP = "step", "a step at x = 2.5"
    CHIRP = "chirp", "a chirp, faster to the right"
    LINE = "line", "a straight line"

    @property
    def formula(self) -> str:
        """LaTeX of the function."""
        return _FORMULAS[self]

    def __call__(self, x: ArrayLike) -> FloatArray:
        """The noise-free function at ``x``."""
        x = np.asarray(x, dtype=float)
        if self is TrueFunction.TEXTBOOK:
            return 2.0 * np.sin(x) + x**0.8
        if self is TrueFunction.STEP:
            return np.where(x < STEP_AT, 1.0, 3.5)
        if self is TrueFunction.CHIRP:
            return 2.0 * np.sin(x * x / 2.0)
        return 0.8 * x


STEP_AT = 2.5  # where the step function jumps from 1 to 3.5
_FORMULAS = {
    TrueFunction.TEXTBOOK: r"2\sin x + x^{0.8}",
    TrueFunction.STEP: r"1 + 2.5\,\mathbb{1}[x \ge 2.5]",
    TrueFunction.CHIRP: r"2\sin(x^2/2)",
    TrueFunction.LINE: r"0.8\,x",
}


@dataclass(frozen=True)
class DataConfig:
    """The toy regression problem; the defaults are the classic textbook set."""

    n_train: int = 50  # training inputs drawn uniformly on [0, x_max], then sorted
    noise: float = 0.5  # standard deviation σ of the gaussian noise on every target
    seed: int = 0  # one seed for the inputs and both noise draws
    function: TrueFunction = TrueFunction.TEXTBOOK  # or its name
    n_query: int = 50  # evenly spaced test queries on [0, x_max]
    x_max: float = 5.0  # inputs live on [0, x_max]

    def __post_init__(self) -> None:
        try:
            function = TrueFunction(self.function)
        except ValueError:
            names = ", ".join(item.value for item in TrueFunction)
            raise ValueError(f"unknown function {self.function!r}; choose one of {names}") from None
        object.__setattr__(self, "function", function)  # one type, so equal configs hash equal


@dataclass(frozen=True)
class RegressionData:
    """Training keys and values, test queries, and what the truth is there.

    Attributes:
        x_train: ``(S,)`` sorted training inputs (the keys).
        y_train: ``(S,)`` noisy targets (the values).
        x_query: ``(L,)`` evenly spaced test inputs (the queries).
        truth: ``(L,)`` the noise-free function at the queries.
        y_test: ``(L,)`` noisy held-out targets at the queries (fresh noise),
            used for the test error.
    """

    config: DataConfig
    x_train: FloatArray
    y_train: FloatArray
    x_query: FloatArray
    truth: FloatArray
    y_test: FloatArray

    @property
    def typical_gap(self) -> float:
        """The average spacing of the training inputs, ``x_max / S``.

        A bandwidth below it leaves most windows with at most one key.
        """
        return self.config.x_max / self.x_train.size

    def true_function(self, x: ArrayLike) -> FloatArray:
        """The noise-free function at ``x``."""
        return self.config.function(x)


def make_data(config: DataConfig = DataConfig()) -> RegressionData:
    """Draw the training set and test queries of ``config`` (the same numbers for everyone).

    The inputs are ``S`` uniform draws on ``[0, x_max]``, sorted; each target
    is the function plus ``σ`` times a standard normal draw; the ``L`` queries
    are evenly spaced from 0 to ``x_max``, with their own noise stream.

    Raises:
        ValueError: for fewer than 2 training points, no query, negative noise
            or a non-positive range.
    """
    check_int("n_train", config.n_train, minimum=2)  # leave-one-out needs another point
    check_int("n_query", config.n_query, minimum=1)
    check_float("noise", config.noise, minimum=0.0)
    check_float("x_max", config.x_max, positive=True)
    rng = np.random.default_rng(config.seed)
    x_train = np.sort(rng.uniform(0.0, config.x_max, config.n_train))
    y_train = config.function(x_train) + config.noise * rng.standard_normal(config.n_train)
    x_query = np.linspace(0.0, config.x_max, config.n_query)
    truth = config.function(x_query)
    # A separate stream for the test noise, so changing n_train leaves it alone.
    test_rng = np.random.default_rng([config.seed, 1])
    y_test = truth + config.noise * test_rng.standard_normal(config.n_query)
    return RegressionData(config, x_train, y_train, x_query, truth, y_test)
