"""The kernel-regression page's exercises, built from the numbers on its screen.

Every answer is computed here from the same data the page draws (the seed,
the number of points, the noise and the kernel the learner chose), after the
change the question asks for; nothing is typed in by hand. A bandwidth is
asked "as the slider shows it" and counts if it is within half a slider step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from lab.exercises import ChoiceAnswer, Exercise, NumberAnswer
from lab.kernel_regression.compute import (
    ErrorCurves,
    Kernel,
    error_curves,
    farthest_query,
    format_bandwidth,
    nadaraya_watson,
    nearest_bandwidth,
    refined_best_bandwidth,
)
from lab.kernel_regression.data import STEP_AT, DataConfig, TrueFunction, make_data
from lab.kernel_regression.learning import LearningRuns

BOXCAR_START = 0.05  # the bandwidth the boxcar exercise starts from
FLAT = 0.2  # a curve whose whole range is under this share of the jump counts as flattened
WIDE_CHOICES = (
    "It keeps the jump sharp at x = 2.5",
    "It blurs the jump into a ramp but keeps most of its height",
    "It flattens the whole curve to nearly one value, the mean of the targets",
)


def _curves(config: DataConfig, kernel: Kernel, grid: np.ndarray) -> ErrorCurves:
    data = make_data(config)
    return error_curves(data.x_train, data.y_train, grid, kernel=kernel)


def _half_step(bandwidth: float, grid: np.ndarray) -> float:
    """Half a slider step around ``bandwidth`` (the grid is log-even), as an absolute tolerance."""
    ratio = float(grid[1] / grid[0]) if grid.size > 1 else 2.0
    return bandwidth * (math.sqrt(ratio) - 1.0)


def _bandwidth_answer(bandwidth: float, grid: np.ndarray) -> NumberAnswer:
    return NumberAnswer(value=bandwidth, tolerance=_half_step(bandwidth, grid), minimum=0)


def _direction(new: float, old: float) -> str:
    return "smaller than" if new < old else "larger than" if new > old else "the same as"


def page_exercises(
    config: DataConfig,
    kernel: Kernel | str,
    bandwidths: Sequence[float],
    runs: LearningRuns | None = None,
) -> list[Exercise]:
    """The exercises on the page's data and kernel: four, and a fifth when a learned run is shown.

    Args:
        config: the data on screen.
        kernel: the kernel chosen on screen (the constant kernel has no best
            bandwidth, so its questions use the gaussian and say so).
        bandwidths: the slider's bandwidths, increasing and log-even.
        runs: the learned-bandwidth runs the page shows, if any.
    """
    grid = np.asarray(bandwidths, dtype=float)
    chosen = Kernel(kernel)
    curves = _curves(config, chosen, grid)
    if curves.best_index is None:  # the constant kernel: every bandwidth is as good
        chosen, curves = Kernel.GAUSSIAN, _curves(config, Kernel.GAUSSIAN, grid)
    switch = "" if chosen == Kernel(kernel) else f"Choose the **{chosen.label}** kernel. "
    items = [
        _optimum(curves, chosen, switch, config.noise > 0),
        _step(config, chosen, grid, switch),
        _boxcar(config, grid),
        _quiet(config, chosen, grid, curves, switch),
    ]
    if runs is not None:
        items.append(_learned(runs, grid))
    return items


def _error(value: float) -> str:
    return "undefined (a point has no key in its window)" if math.isnan(value) else f"{value:.3f}"


def _optimum(curves: ErrorCurves, kernel: Kernel, switch: str, noisy: bool) -> Exercise:
    best = curves.best_index
    h = float(curves.bandwidths[best])
    chases = "it chases the noise" if noisy else "with σ = 0 it copies the nearest targets"
    return Exercise(
        key="optimum",
        question=(
            f"{switch}Slide h from 10 down to 0.01 and watch the training and leave-one-out "
            "errors in section 4. At which h is the leave-one-out error smallest? (as the "
            "slider shows it)"
        ),
        answer=_bandwidth_answer(h, curves.bandwidths),
        hint="Find the lowest point of the green curve; the diamond marks it.",
        explanation=(
            f"With the {kernel.label} kernel, leave-one-out error is smallest at "
            f"**h = {format_bandwidth(h)}** ({_error(curves.loo[best])}), where the training "
            f"error is {_error(curves.train[best])}. At h = "
            f"{format_bandwidth(curves.bandwidths[0])} the training error is "
            f"{_error(curves.train[0])} and leave-one-out is {_error(curves.loo[0])}: below "
            f"the optimum each estimate leans on fewer and fewer neighbours ({chases}), and "
            "only the training error, where each point may look itself up, rewards that."
        ),
    )


def _step(config: DataConfig, kernel: Kernel, grid: np.ndarray, switch: str) -> Exercise:
    step = replace(config, function=TrueFunction.STEP)
    data = make_data(step)
    widest = float(grid[-1])
    estimate = nadaraya_watson(
        data.x_train, data.y_train, data.x_query, kernel=kernel, bandwidth=widest
    ).estimate
    defined = estimate[~np.isnan(estimate)]
    spread = float(defined.max() - defined.min())
    jump = float(TrueFunction.STEP(STEP_AT) - TrueFunction.STEP(0.0))
    correct = 2 if spread < FLAT * jump else 1 if spread < 0.9 * jump else 0
    best = _curves(step, kernel, grid).best_bandwidth
    other = TrueFunction.TEXTBOOK if config.function is TrueFunction.STEP else config.function
    usual = _curves(replace(config, function=other), kernel, grid).best_bandwidth
    return Exercise(
        key="step",
        question=(
            f"{switch}Open **Data**, pick the **step** function and set h = "
            f"{format_bandwidth(widest)}. What does this wide bandwidth do at the jump?"
        ),
        answer=ChoiceAnswer(options=WIDE_CHOICES, correct=correct),
        hint="Every query's window now holds every key, on both sides of the jump.",
        explanation=(
            f"At h = {format_bandwidth(widest)} the estimate runs from {defined.min():.2f} to "
            f"{defined.max():.2f}, a spread of {spread:.2f} where the step rises by "
            f"{jump:.1f}: each query averages keys from both sides of the jump"
            + (
                f", so the estimate sits near the mean of all targets, {data.y_train.mean():.2f}. "
                if correct == 2
                else ". "
            )
            + f"Leave-one-out chooses **h = {format_bandwidth(best)}** for the step, "
            f"{_direction(best, usual)} the h = {format_bandwidth(usual)} it chooses for "
            f"{other.label}"
            + (
                ": it weighs the noise a wide window averages away on the flat parts against "
                "the blur it puts into the jump."
                if config.noise > 0
                else "."
            )
        ),
    )


def _boxcar(config: DataConfig, grid: np.ndarray) -> Exercise:
    data = make_data(config)
    start = nearest_bandwidth(grid, BOXCAR_START)

    def empty_at(h: float) -> np.ndarray:
        return nadaraya_watson(
            data.x_train, data.y_train, data.x_query, kernel=Kernel.BOXCAR, bandwidth=h
        ).empty

    covering = next(float(h) for h in grid if not empty_at(h).any())
    missing = data.x_query[empty_at(start)]
    where, distance = farthest_query(data.x_query, data.x_train)
    if missing.size:
        shown = ", ".join(f"{x:.2f}" for x in missing[:8]) + (" …" if missing.size > 8 else "")
        first = (
            f"At h = {format_bandwidth(start)}, {missing.size} of {data.x_query.size} queries "
            f"have no training point within h (x = {shown}): each lies more than h from "
            "every key, in a gap between neighbouring keys wider than 2h or more than h beyond "
            "the first or last key."
        )
    else:
        first = (
            f"With these data every query already has a key within h = {format_bandwidth(start)}."
        )
    return Exercise(
        key="boxcar",
        question=(
            f"Choose the **Boxcar** kernel and set h = {format_bandwidth(start)}: the warning "
            "under the fit counts the queries with no estimate. Raise h one step at a time: "
            "what is the smallest h on the slider at which every query has an estimate? "
            "(as the slider shows it)"
        ),
        answer=_bandwidth_answer(covering, grid),
        hint="A query has an estimate once its nearest key is within h. Which query is "
        "farthest from every key?",
        explanation=(
            f"{first} The query farthest from any key is x = "
            f"{data.x_query[where]:.2f}, {distance:.3f} from its nearest key. The boxcar counts "
            f"a key at distance up to h, so every query has one once h ≥ {distance:.3f}; the "
            f"first slider value there is **h = {format_bandwidth(covering)}**."
        ),
    )


def _quiet(
    config: DataConfig, kernel: Kernel, grid: np.ndarray, curves: ErrorCurves, switch: str
) -> Exercise:
    noisy = float(curves.bandwidths[curves.best_index])
    quiet = _curves(replace(config, noise=0.0), kernel, grid).best_bandwidth
    if quiet < noisy:
        reason = (
            " Without noise there is nothing for a wide window to average away; what is left "
            "is the blur of the function itself (bias), which grows with h, so a narrower "
            "window wins."
        )
    else:
        reason = (
            " With σ = 0 the leave-one-out error is all bias (how much the function changes "
            f"across a window), and on these data that is smallest at h = {format_bandwidth(quiet)}."
        )
    if config.noise == 0:
        explanation = (
            f"The noise is already 0: leave-one-out chooses **h = {format_bandwidth(quiet)}**."
        )
    else:
        explanation = (
            f"With σ = {config.noise:g} leave-one-out chose h = {format_bandwidth(noisy)}; with "
            f"σ = 0 it chooses **h = {format_bandwidth(quiet)}**, "
            f"{_direction(quiet, noisy)} before.{reason if quiet != noisy else ''}"
        )
    return Exercise(
        key="quiet",
        question=(
            f"{switch}Open **Data** and set the noise σ to 0. Which h does leave-one-out choose "
            "now? (as the slider shows it)"
        ),
        answer=_bandwidth_answer(quiet, grid),
        hint="Read the diamond on the error chart, or the button beside it.",
        explanation=explanation,
    )


def _learned(runs: LearningRuns, grid: np.ndarray) -> Exercise:
    data = make_data(runs.data)
    best = refined_best_bandwidth(data.x_train, data.y_train, grid)
    learned = runs.loo.final_bandwidth
    settled = (
        f"it is still moving after {runs.training.steps} steps, so more steps or a larger "
        "learning rate would bring it closer"
        if runs.loo.still_moving
        else "another start or learning rate changes the path, not the valley it settles in"
    )
    return Exercise(
        key="learned",
        question=(
            "Open **Learn the bandwidth**: at what h does the leave-one-out run settle? (three "
            "decimals, from the summary under its charts) Then learn again with another "
            "learning rate or start h: does it still land near the closed-form optimum?"
        ),
        answer=NumberAnswer(value=learned, tolerance=0.001, minimum=0),
        hint="The green line of the right-hand chart levels off there; the first line of the "
        "summary gives it.",
        explanation=(
            f"It settles at **h = {learned:.3f}**, {learned / best:.2f} times the closed-form "
            f"optimum {best:.3f} (the minimum of the leave-one-out error on a fine grid): "
            f"gradient descent on the leave-one-out loss finds the formula's bandwidth; "
            f"{settled}. The plain run, trained on the training loss, has fallen to "
            f"h = {runs.plain.final_bandwidth:.4f}."
        ),
    )
