"""Nadaraya–Watson regression as a scikit-learn estimator.

Also importable as ``lab.kernel_regression.NadarayaWatsonRegressor``.

Shapes:
    L   queries (inputs to predict)
    S   training points (keys and values)
    E   input size
    Ev  value size (targets may be vectors)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from lab.checks import FloatArray, check_float
from lab.kernel_regression.compute import (
    Kernel,
    NadarayaWatsonResult,
    get_kernel,
    nadaraya_watson,
)


class NadarayaWatsonRegressor(RegressorMixin, BaseEstimator):
    """Nadaraya–Watson kernel regression as a scikit-learn regressor.

    ``fit`` stores the training set (the keys and values); ``predict`` lets
    each new input attend over it. Works with ``clone``, ``cross_val_score``
    and ``GridSearchCV`` (e.g. a grid over ``bandwidth`` and ``kernel``).

    Args:
        kernel: a :class:`~lab.kernel_regression.compute.Kernel` or its name.
        bandwidth: ``h > 0``, in the units of the inputs.

    Predictions for inputs with no training point inside a compact kernel's
    window are ``NaN`` (``score`` then fails loudly rather than hiding it);
    :meth:`attend` returns the weights and says which inputs those are.
    """

    def __init__(self, kernel: Kernel | str = "gaussian", bandwidth: float = 1.0) -> None:
        self.kernel = kernel
        self.bandwidth = bandwidth

    def fit(self, X: ArrayLike, y: ArrayLike) -> NadarayaWatsonRegressor:
        """Store the training inputs ``(S, E)`` and targets ``(S,)`` or ``(S, Ev)``."""
        get_kernel(self.kernel)
        check_float("bandwidth", self.bandwidth, positive=True)
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        self.X_fit_ = X
        self.y_fit_ = y
        return self

    def attend(self, X: ArrayLike) -> NadarayaWatsonResult:
        """Estimates and weights ``(L, S)`` for the inputs ``X`` ``(L, E)``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return nadaraya_watson(
            self.X_fit_, self.y_fit_, X, kernel=self.kernel, bandwidth=self.bandwidth
        )

    def predict(self, X: ArrayLike) -> FloatArray:
        """The estimates for ``X`` ``(L, E)``: ``(L,)`` or ``(L, Ev)``."""
        return self.attend(X).estimate

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
