"""The kernel-regression page's longer text, as data and small formatting functions.

The page lays these out; the sentences that state numbers are built here from
the lab's own results, so a test can hold each claim against the data.
"""

from __future__ import annotations

import math

import numpy as np

from lab.kernel_regression.compute import (
    ErrorCurves,
    Kernel,
    effective_neighbours,
    format_bandwidth,
    format_error,
)
from lab.kernel_regression.learning import LearningRuns

TRIANGULAR_NOTE = (
    "d2l's chapter on attention pooling calls its 1 − |u| kernel “Epanechikov”: that is the "
    "triangular kernel here. The lab's Epanechnikov kernel is 1 − u²."
)
KERNEL_HELP = (
    "Gaussian weights are never zero in exact arithmetic (far keys can still round to 0 in "
    "float64 when h is small); boxcar, Epanechnikov and triangular ones are zero outside the "
    "window |x − xᵢ| < h (≤ h for the boxcar); the constant kernel weighs every key the same. "
    + TRIANGULAR_NOTE
)
EQUATION = (
    r"\begin{aligned}\hat f(x) &= \sum_{i=1}^{S} \alpha(x, x_i)\, y_i \\"
    r"\alpha(x, x_i) &= \frac{K\!\left(\frac{x - x_i}{h}\right)}"
    r"{\sum_{j=1}^{S} K\!\left(\frac{x - x_j}{h}\right)}\end{aligned}"
)
IDEA = (
    "**Nadaraya–Watson regression** predicts at a new input *x* the weighted average of the "
    "training targets *yᵢ*; a kernel *K* of the distance to each training input *xᵢ* gives "
    "the weights, which sum to 1. That is attention with a fixed similarity: the **query** is "
    "*x*, the **keys** are the *xᵢ*, the **values** the *yᵢ*, and the **bandwidth h** sets how "
    r"sharp the lookup is. For the Gaussian kernel $K(u) = e^{-u^2/2}$ the weights are a "
    r"softmax over the keys, $\alpha(x, x_i) = \mathrm{softmax}_i\big(-(x - x_i)^2 / 2h^2\big)$, "
    r"where $\mathrm{softmax}_i(s) = e^{s_i} / \sum_j e^{s_j}$."
)
EFFECTIVE_KEYS_HELP = (
    "1 / Σᵢ αᵢ², averaged over the queries that have an estimate: how many keys a query "
    "effectively averages (k equal weights give k). 1 for a nearest-neighbour lookup, S when "
    "every key weighs the same."
)
ERRORS_NOTE = (
    "Mean squared errors. **Training**: each training point predicted with its own key among "
    "the keys. **Leave-one-out**: each training point predicted from the other points only "
    "(its own key removed). **Test**: the L queries against fresh noisy targets. "
    "— : undefined, some point has no key inside its window."
)
MATRIX = (
    "Each **row** is one test query, each **column** one training key, sorted by x. A row "
    "holds that query's weights; they sum to 1, and its estimate is the row times the "
    "targets.\n\n"
    "Because queries and keys are both sorted, nearby pairs sit on the **diagonal**. Shrink h "
    "and the band narrows: each query copies its nearest keys and their noise. Widen it and "
    "the band smears into flat rows: every query gets nearly the mean of all targets."
)
DICTIONARY = {
    "attention": ["query", "keys", "values", "score", "weights"],
    "kernel regression": [
        "test input x",
        "training inputs xᵢ",
        "training targets yᵢ",
        "log K((x − xᵢ)/h), fixed",
        "softmax of the scores",
    ],
}
LEAVE_ONE_OUT = (
    "The **training error** falls towards 0 as h shrinks: each training point ends up attending "
    "mostly to itself and returns its own noisy target. That says nothing about new inputs. "
    "**Leave-one-out** predicts each point from the others only, and costs nothing extra: "
    "take the training weight matrix, zero its diagonal and renormalise each row."
)
LEARNING = (
    "Make h a parameter (strictly, log h, so it stays positive) and train it with Adam in "
    "torch, like any attention weight. The model is the Gaussian one whatever kernel you chose "
    "above: a boxcar's weights do not change when h moves a little, so its gradient is zero. "
    "Two runs start from the same h, with two losses over the S training points:"
)
LOSSES = (
    r"\underbrace{\tfrac1S\sum_i \big(y_i - \hat f(x_i)\big)^2}_{\text{plain: } x_i"
    r"\text{ may look itself up}}"
    r"\qquad\text{vs.}\qquad"
    r"\underbrace{\tfrac1S\sum_i \big(y_i - \hat f_{-i}(x_i)\big)^2}_{\text{leave-one-out: "
    r"its own key is masked}}"
)
COLLAPSE = (
    "Why the plain run collapses: each training point is one of its own keys, at distance 0. "
    "The smaller h, the more weight that key takes, until the point simply returns its own "
    "target and the loss is 0. The plain loss is smallest as h → 0: a lookup table that "
    "memorises the noise. Masking the point's own key (a score of −∞ on the diagonal) removes "
    "that shortcut."
)


def empty_windows(empty: list[int], x_query: np.ndarray, kernel: Kernel, bandwidth: float) -> str:
    """The warning for queries whose window holds no training point (``empty``: their positions)."""
    where = ", ".join(f"{x_query[index]:.2f}" for index in empty[:10])
    more = f" and {len(empty) - 10} more" if len(empty) > 10 else ""
    return (
        f"{len(empty)} of {x_query.size} queries have **no training point within "
        f"h = {format_bandwidth(bandwidth)}** (x = {where}{more}). With the {kernel.label} "
        "kernel every weight there is zero, so the average 0 / 0 is undefined: these queries "
        "get no estimate (red ticks on the chart, grey rows in the heatmap). Widen the "
        "bandwidth, or use the Gaussian kernel."
    )


def narrow_note(kernel: Kernel, bandwidth: float, gap: float, weights: np.ndarray) -> str | None:
    """What a bandwidth below the typical gap between keys does, read from the ``(L, S)`` weights."""
    if kernel is Kernel.CONSTANT:
        return "The constant kernel ignores h: every query gets the mean of all targets."
    if bandwidth >= gap:
        return None
    if kernel.compact:
        few = int(np.sum(np.count_nonzero(weights > 0, axis=1) <= 1))
        effect = f"{few} of {weights.shape[0]} windows hold one key or none."
    else:
        keys = effective_neighbours(weights).mean()
        effect = f"each query leans on its nearest keys (on average {keys:.1f} effective keys)."
    return f"h is below the typical gap between keys ({gap:.2f}): {effect}"


def optima(curves: ErrorCurves) -> str | None:
    """Where leave-one-out and test error are smallest, in slider steps apart (``None`` if not both)."""
    best = curves.best_index
    if best is None or curves.test is None or np.isnan(curves.test).all():
        return None
    test_best = int(np.nanargmin(curves.test))
    apart = abs(test_best - best)
    return (
        f"Here leave-one-out is smallest at h = {format_bandwidth(curves.bandwidths[best])} and "
        f"the test error at h = {format_bandwidth(curves.bandwidths[test_best])}, {apart} "
        f"slider step{'s' * (apart != 1)} apart; leave-one-out needs no test set."
    )


def learning_summary(runs: LearningRuns, optimum: float | None) -> str:
    """Where each learned run ended, against the closed-form optimum."""
    plain, loo = runs.plain, runs.loo
    ratio = f" (ratio {loo.final_bandwidth / optimum:.2f})" if optimum else ""
    lowest, last = float(plain.loo_losses.min()), float(plain.loo_losses[-1])
    cost = (
        f"its leave-one-out loss, {lowest:.3f} at its lowest on the way, has risen to {last:.3f}"
        if last > lowest * 1.01
        else f"its leave-one-out loss is {last:.3f}"
    )
    return (
        f"- **Leave-one-out loss**: h settles at **{loo.final_bandwidth:.3f}**, next to the "
        f"closed-form optimum {format_bandwidth(optimum) if optimum else '–'}{ratio}.\n"
        f"- **Plain loss**: h has fallen to **{plain.final_bandwidth:.4f}**"
        f"{' and is still falling' if plain.still_moving else ''}; its loss is "
        f"{plain.final_loss:.3f} but {cost}."
    )


def what_to_notice(kernel: Kernel, curves: ErrorCurves) -> list[str]:
    """The closing notes, with the training error of the kernel on screen at both ends of h."""
    low, high = curves.bandwidths[0], curves.bandwidths[-1]
    return [
        "The estimate at a query is an average of training targets, so it never leaves their "
        "range: a wide h pulls everything towards the mean of all targets.",
        "As h shrinks, the band in the attention matrix narrows towards one key per row (the "
        "effective number of keys falls towards 1) and the fit threads through the noisy "
        "points: sharp attention overfits.",
        f"With the {kernel.label} kernel the training error is {format_error(curves.train[-1])} "
        f"at h = {format_bandwidth(high)} and {format_error(curves.train[0])} at "
        f"h = {format_bandwidth(low)}; leave-one-out is not fooled, since a point may not look "
        "itself up.",
        "Compact kernels can leave a query with no key at all: the estimate is then undefined, "
        "not zero.",
    ]


def query_summary(
    shown: float, top: int, used: float, keys: int, estimate: float, truth: float
) -> str:
    """The sentence under one query's table of its ``top`` strongest keys."""
    if not math.isfinite(estimate):
        raise ValueError("a query without an estimate has no summary")
    these = "This key carries" if top == 1 else f"These {top} keys carry"
    return (
        f"{these} **{shown:.1%}** of the weight; the query's effective number of keys is "
        f"**{used:.1f}**. Adding up αᵢ · yᵢ over all {keys} keys gives the estimate "
        f"**{estimate:.3f}** (true value {truth:.3f})."
    )
