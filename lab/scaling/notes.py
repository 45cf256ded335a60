"""The "What to notice" lines of the √d page, written from the sweeps on screen.

Which way a line runs depends on the controls (at T = 32 the unscaled
Jacobian norm never falls; at S = 2 it never rises), so each sentence is
built from the tables the page draws and states its numbers, never a
direction that the data on screen could contradict.
"""

from __future__ import annotations

import pandas as pd

from lab.scaling.compute import (
    D_VALUES,
    Mode,
    bars_covering_theory,
    format_number,
    format_small,
    jacobian_trend,
)


def _column(table: pd.DataFrame, mode: Mode, column: str) -> pd.Series:
    return table[table["mode"] == mode.value].sort_values("d")[column]


def variance_line(variances: pd.DataFrame, variance: float) -> str:
    """The variance sweep: slope 1 unscaled, level scaled, and how many error bars hold the theory."""
    covered = bars_covering_theory(variances)
    return (
        "The unscaled variance follows the line d·σ⁴ (slope 1 on log-log axes); the scaled "
        f"one stays at σ⁴ = {variance**2:g} for every d. {covered} of the {len(variances)} "
        "error bars (± 2 standard errors) contain the theory."
    )


def sharpness_line(sharpness: pd.DataFrame) -> str:
    """The largest weight and the entropy from the smallest to the largest d."""
    weights = _column(sharpness, Mode.UNSCALED, "mean_max_weight")
    entropies = _column(sharpness, Mode.UNSCALED, "mean_entropy")
    scaled = _column(sharpness, Mode.SCALED, "mean_max_weight")
    return (
        f"Unscaled, from d = {D_VALUES[0]} to d = {D_VALUES[-1]} the mean largest weight goes "
        f"from {weights.iloc[0]:.2f} to {weights.iloc[-1]:.2f} (one-hot: 1) and the mean "
        f"entropy from {entropies.iloc[0]:.2f} to {entropies.iloc[-1]:.2f} nats (one-hot: 0). "
        f"Scaled, the largest weight stays between {scaled.min():.2f} and {scaled.max():.2f}."
    )


def jacobian_line(sharpness: pd.DataFrame) -> str:
    """How the median Frobenius norm of the softmax Jacobian moves with d, in each mode."""
    trend = jacobian_trend(sharpness, Mode.UNSCALED)
    first, peak, last = (format_small(value) for value in (trend.first, trend.peak, trend.last))
    start = "Unscaled, the median Frobenius norm of the softmax Jacobian"
    if trend.rises_first and trend.falls_after_peak:
        unscaled = (
            f"{start} does not fall at once: it rises from {first} at d = {D_VALUES[0]} to "
            f"{peak} at d = {trend.peak_d} (a moderately peaked softmax has a larger Jacobian "
            f"than a flat one), then falls to {last} at d = {D_VALUES[-1]}."
        )
    elif trend.rises_first:
        unscaled = (
            f"{start} rises from {first} at d = {D_VALUES[0]} to {last} at d = "
            f"{D_VALUES[-1]}: at this temperature it has not started to fall."
        )
    else:
        unscaled = (
            f"{start} falls from {first} at d = {D_VALUES[0]} to {last} at d = {D_VALUES[-1]}."
        )
    scaled = _column(sharpness, Mode.SCALED, "jacobian_median")
    return (
        f"{unscaled} Scaled, it stays between {format_small(scaled.min())} and "
        f"{format_small(scaled.max())}."
    )


def input_scale_line(variances: pd.DataFrame, sharpness: pd.DataFrame, variance: float) -> str:
    """What √d cannot fix: the size of the entries of q and k."""
    if variance == 1.0:
        return (
            "√d fixes the dimension, not the size of the inputs: with σ² = 4 the scaled "
            "scores would have variance σ⁴ = 16 (try it, and the exercises below)."
        )
    samples = _column(variances, Mode.SCALED, "empirical")
    largest = _column(sharpness, Mode.SCALED, "mean_max_weight")
    return (
        f"√d fixes the dimension, not the size of the inputs: with σ² = {variance:g} the "
        f"scaled scores have variance σ⁴ = {variance**2:g} at every d (samples from "
        f"{format_number(samples.min())} to {format_number(samples.max())}), and the scaled "
        f"mean largest weight lies between {largest.min():.2f} and {largest.max():.2f}."
    )


def notice_lines(variances: pd.DataFrame, sharpness: pd.DataFrame, variance: float) -> list[str]:
    """Every "What to notice" line for the tables on screen (none depends on the d shown)."""
    return [
        variance_line(variances, variance),
        sharpness_line(sharpness),
        jacobian_line(sharpness),
        input_scale_line(variances, sharpness, variance),
    ]
