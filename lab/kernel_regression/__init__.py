"""Kernel regression as attention: Nadaraya–Watson with a bandwidth, and learning that bandwidth.

The numpy side of the topic: kernels and the estimator with its leave-one-out
error (:mod:`~lab.kernel_regression.compute`), the toy data
(:mod:`~lab.kernel_regression.data`), the learned-bandwidth runs and their
checkpoint (:mod:`~lab.kernel_regression.learning`), the page's charts and
exercises, and the scikit-learn estimator
(:mod:`~lab.kernel_regression.estimator`). Training needs torch and lives in
:mod:`lab.kernel_regression.train`, which this package does not import.
"""

from lab.kernel_regression.compute import (
    ErrorCurves,
    Kernel,
    NadarayaWatsonResult,
    bandwidth_grid,
    best_bandwidth,
    contributions,
    effective_neighbours,
    error_curves,
    farthest_query,
    format_bandwidth,
    format_error,
    get_kernel,
    kernel_scores,
    kernel_weight,
    loo_error,
    loo_predictions,
    mean_squared_error,
    nadaraya_watson,
    nearest_bandwidth,
    pairwise_distances,
    refined_best_bandwidth,
)
from lab.kernel_regression.data import DataConfig, RegressionData, TrueFunction, make_data
from lab.kernel_regression.estimator import NadarayaWatsonRegressor
from lab.kernel_regression.exercises import page_exercises
from lab.kernel_regression.learning import (
    CHECKPOINT,
    LearningCurve,
    LearningRuns,
    Objective,
    TrainingConfig,
    load_learning_runs,
    save_learning_runs,
)

__all__ = [
    "CHECKPOINT",
    "DataConfig",
    "ErrorCurves",
    "Kernel",
    "LearningCurve",
    "LearningRuns",
    "NadarayaWatsonRegressor",
    "NadarayaWatsonResult",
    "Objective",
    "RegressionData",
    "TrainingConfig",
    "TrueFunction",
    "bandwidth_grid",
    "best_bandwidth",
    "contributions",
    "effective_neighbours",
    "error_curves",
    "farthest_query",
    "format_bandwidth",
    "format_error",
    "get_kernel",
    "kernel_scores",
    "kernel_weight",
    "load_learning_runs",
    "loo_error",
    "loo_predictions",
    "make_data",
    "mean_squared_error",
    "nadaraya_watson",
    "nearest_bandwidth",
    "page_exercises",
    "pairwise_distances",
    "refined_best_bandwidth",
    "save_learning_runs",
]
