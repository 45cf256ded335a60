"""The cost-of-attention page's exercises, built from the numbers on its screen.

Answers come from the figures the page shows (the shipped measurements or
the ones just taken on the server), from the cost model at the page's ``d``
and ``r``, and from the error study at its ``r`` and ``C``; nothing is typed
in by hand, so every answer follows the controls.
"""

from __future__ import annotations

from lab.cost_of_attention.compute import Method
from lab.cost_of_attention.cost_model import crossover_length
from lab.cost_of_attention.study import (
    DEFAULTS,
    ErrorMeasure,
    ErrorStudy,
    MeasuredQuantity,
    last_growth,
    slopes,
    speedup,
    square_matrices,
)
from lab.cost_of_attention.timings import Implementation, Measurements
from lab.exercises import ChoiceAnswer, Exercise, NumberAnswer

APPROXIMATIONS = (Method.PERFORMER, Method.LINEAR, Method.CLUSTERED)
NAMES = {
    Method.PERFORMER: "random features",
    Method.LINEAR: "linear attention (elu + 1)",
    Method.CLUSTERED: "clustered attention",
}
SPEEDUP_TOLERANCE = 0.1  # a speed-up read off the page counts within 10 %


def _slope(measurements: Measurements) -> Exercise | None:
    fits = slopes(measurements)
    if Implementation.NUMPY not in fits:
        return None
    fit = fits[Implementation.NUMPY].seconds
    growth = last_growth(measurements, Implementation.NUMPY, MeasuredQuantity.TIME)
    doubling = (
        f" Between n = {growth.n_before} and {growth.n_after} its time grew "
        f"×{growth.factor:.1f}, where pure n² growth gives ×{growth.quadratic_factor:.0f}."
        if growth
        else ""
    )
    return Exercise(
        key="slope",
        question=(
            "Section 1 fits a straight line to numpy's time against n on log-log axes. "
            "What is its slope? (two decimals)"
        ),
        answer=NumberAnswer(value=round(fit.slope, 2), tolerance=0.01),
        hint="The legend prints each line's fitted slope. On log-log axes, time ∝ n^p is a "
        "straight line of slope p.",
        explanation=(
            f"The fit over n = {fit.n_min} … {fit.n_max} gives {fit.slope:.3f} "
            f"(R² = {fit.r_squared:.3f}). Exact attention forms n² scores of d multiply-adds "
            "each, so its work grows with slope 2: twice the length, four times the work."
            + doubling
        ),
    )


def _memory(measurements: Measurements) -> Exercise:
    n = measurements.n_values[-1]
    peak = measurements.series_for(Implementation.NUMPY).peak_bytes[-1]
    matrices = square_matrices(measurements, Implementation.NUMPY)
    one = 4 * n * n
    return Exercise(
        key="memory",
        question=(
            f"Switch section 1 to *peak memory*. At the largest n, {n}, how many n × n "
            "float32 matrices (4 n² bytes each) does numpy's peak hold? (one decimal)"
        ),
        answer=NumberAnswer(value=round(matrices, 1), tolerance=0.1, minimum=0),
        hint="Read numpy's peak in the sentence beside the chart (1 MB = 10⁶ bytes) and "
        "divide it by 4 n² bytes.",
        explanation=(
            f"{peak / 1e6:.1f} MB / {one / 1e6:.1f} MB = {matrices:.2f}. The cost model's "
            "least is one n × n matrix (the scores, overwritten by the weights); numpy makes "
            "new arrays for the scores, their exponentials and the weights, so several are "
            "alive at once. Either way, memory grows like n²."
        ),
    )


def _model_crossover(d: int, num_features: int, num_clusters: int) -> Exercise:
    first = crossover_length(
        Method.PERFORMER, d, num_features=num_features, num_clusters=num_clusters
    )
    bound = 2 * num_features + num_features / d
    return Exercise(
        key="model_crossover",
        question=(
            f"Section 3's cost model counts 2n²d multiply-adds for exact attention and "
            f"4nrd + 2nr for random features. With r = {num_features} and d = {d} (section "
            "2's controls), from which whole n on do random features need fewer?"
        ),
        answer=NumberAnswer(value=first, tolerance=0.5, minimum=1),
        hint="Solve 2n²d > 4nrd + 2nr for n: divide both sides by 2nd.",
        explanation=(
            f"n > 2r + r/d = {bound:g}, so the first whole n is {first}. Below it, the r "
            "features of every query and key cost more than the n² scores they replace; "
            "the left chart of section 3 marks the same n."
        ),
    )


def _best(study: ErrorStudy, num_features: int, num_clusters: int) -> Exercise:
    measure = ErrorMeasure.OUTPUT
    best = study.best(measure, num_features, num_clusters)
    settings = {Method.PERFORMER: num_features, Method.CLUSTERED: num_clusters}
    errors = {
        method: study.at(method, measure, settings.get(method, 1)) for method in APPROXIMATIONS
    }
    listed = "; ".join(f"{NAMES[method]} {error:.3f}" for method, error in errors.items())
    return Exercise(
        key="best",
        question=(
            f"With section 2's settings (n = {study.n}, d = {study.d}, a = {study.magnitude:g}, "
            f"r = {num_features}, C = {num_clusters}, seed {study.seed}), which approximation "
            "has the smallest relative output error?"
        ),
        answer=ChoiceAnswer(
            options=tuple(NAMES[method] for method in APPROXIMATIONS),
            correct=APPROXIMATIONS.index(best),
        ),
        hint="Section 2 prints each method's error at the chosen r and C under its charts "
        "(the diamonds mark them).",
        explanation=(
            f"{listed}. Random features estimate every exp(q·k/√d) with noise that grows "
            f"with |q + k|; a cluster's row is exact for a query on its centroid, and these "
            f"queries come in {DEFAULTS.kinds} kinds; linear attention uses another "
            "similarity altogether, which no setting changes."
        ),
    )


def _speedup(measurements: Measurements) -> Exercise:
    n = measurements.n_values[-1]
    factor = speedup(measurements, Implementation.PERFORMER)
    expected = 2 * factor
    return Exercise(
        key="speedup",
        question=(
            f"Section 3 gives random features' speed-up over numpy's exact attention at "
            f"n = {n}. If exact attention's time grows like n² and random features' like n, "
            f"what speed-up do you expect at n = {2 * n}? (within 10 %)"
        ),
        answer=NumberAnswer(value=expected, tolerance=SPEEDUP_TOLERANCE * expected, minimum=0),
        hint="Doubling n multiplies exact attention's time by 2² = 4 and random features' by 2.",
        explanation=(
            f"×{factor:.1f} × 4 / 2 = ×{expected:.1f}: the speed-up grows in proportion to n. "
            "Measured slopes are not exactly 2 and 1 (the legend of section 3 gives them), so "
            "a real run would land near this, not on it."
        ),
    )


def page_exercises(
    measurements: Measurements | None, study: ErrorStudy, *, num_features: int, num_clusters: int
) -> list[Exercise]:
    """Five exercises on the figures shown and section 2's settings.

    Four when the figures hold one size (no slope), two when there are no figures.

    Args:
        measurements: the figures sections 1 and 3 show, if any.
        study: section 2's errors.
        num_features: section 2's ``r``.
        num_clusters: section 2's ``C``.
    """
    items = [
        _model_crossover(study.d, num_features, num_clusters),
        _best(study, num_features, num_clusters),
    ]
    if measurements is not None:
        items = [
            _slope(measurements),
            _memory(measurements),
            *items,
            _speedup(measurements),
        ]
    return [item for item in items if item is not None]
