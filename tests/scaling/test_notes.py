"""lab.scaling.notes: every "What to notice" sentence says what the tables on screen hold."""

from __future__ import annotations

import pandas as pd
import pytest

from lab import scaling as sc
from lab.scaling.notes import (
    input_scale_line,
    jacobian_line,
    notice_lines,
    sharpness_line,
    variance_line,
)


@pytest.fixture(scope="module")
def variances() -> pd.DataFrame:
    return sc.variance_table(sc.sweep_dot_products(seed=0))


def sharpness(temperature: float = 1.0, n_keys: int = 16, variance: float = 1.0):
    sweep = sc.sweep_attention_scores(n_keys, variance=variance, seed=0)
    return sc.sharpness_table(sweep, temperature)


def synthetic(unscaled: list[float], scaled: list[float]) -> pd.DataFrame:
    d_values = list(sc.D_VALUES[: len(unscaled)])
    return pd.DataFrame(
        {
            "d": d_values * 2,
            "mode": ["unscaled"] * len(d_values) + ["scaled"] * len(d_values),
            "jacobian_median": unscaled + scaled,
        }
    )


def test_variance_line_counts_the_bars(variances):
    covered = sc.bars_covering_theory(variances)
    assert variance_line(variances, 1.0) == (
        "The unscaled variance follows the line d·σ⁴ (slope 1 on log-log axes); the scaled "
        f"one stays at σ⁴ = 1 for every d. {covered} of the 22 error bars (± 2 standard "
        "errors) contain the theory."
    )
    moved = variances.assign(theory=variances["theory"] * 100)  # no bar holds this theory
    assert "0 of the 22 error bars" in variance_line(moved, 2.0)
    assert "stays at σ⁴ = 4 for every d" in variance_line(moved, 2.0)


def test_sharpness_line_states_the_ends():
    table = sharpness()
    unscaled = table[table["mode"] == "unscaled"].sort_values("d")
    scaled = table[table["mode"] == "scaled"]["mean_max_weight"]
    assert sharpness_line(table) == (
        "Unscaled, from d = 1 to d = 1024 the mean largest weight goes from "
        f"{unscaled['mean_max_weight'].iloc[0]:.2f} to {unscaled['mean_max_weight'].iloc[-1]:.2f} "
        f"(one-hot: 1) and the mean entropy from {unscaled['mean_entropy'].iloc[0]:.2f} to "
        f"{unscaled['mean_entropy'].iloc[-1]:.2f} nats (one-hot: 0). Scaled, the largest "
        f"weight stays between {scaled.min():.2f} and {scaled.max():.2f}."
    )


def test_jacobian_line_rises_then_falls():
    line = jacobian_line(synthetic([0.2, 0.4, 0.01], [0.3, 0.31, 0.29]))
    assert line == (
        "Unscaled, the median Frobenius norm of the softmax Jacobian does not fall at once: "
        "it rises from 0.200 at d = 1 to 0.400 at d = 2 (a moderately peaked softmax has a "
        "larger Jacobian than a flat one), then falls to 0.010 at d = 1024. Scaled, it stays "
        "between 0.290 and 0.310."
    )


def test_jacobian_line_only_rises():
    line = jacobian_line(synthetic([0.2, 0.25, 0.3], [0.3, 0.3, 0.3]))
    assert line.startswith(
        "Unscaled, the median Frobenius norm of the softmax Jacobian rises from 0.200 at "
        "d = 1 to 0.300 at d = 1024: at this temperature it has not started to fall."
    )


def test_jacobian_line_only_falls():
    line = jacobian_line(synthetic([0.5, 0.1, 1e-20], [0.3, 0.3, 0.3]))
    assert line.startswith(
        "Unscaled, the median Frobenius norm of the softmax Jacobian falls from 0.500 at "
        "d = 1 to < 1e-16 at d = 1024."
    )


@pytest.mark.parametrize(
    ("temperature", "n_keys", "start"),
    [(1.0, 16, "does not fall at once"), (32.0, 16, "rises from"), (1.0, 2, "falls from")],
)
def test_jacobian_line_on_the_page_samples(temperature, n_keys, start):
    # The three shapes happen on the page: T = 1 (default), T = 32, and S = 2 (where a
    # uniform row has the largest Jacobian there is).
    assert start in jacobian_line(sharpness(temperature, n_keys))


def test_input_scale_line(variances):
    table = sharpness()
    assert input_scale_line(variances, table, 1.0) == (
        "√d fixes the dimension, not the size of the inputs: with σ² = 4 the scaled scores "
        "would have variance σ⁴ = 16 (try it, and the exercises below)."
    )
    strong = sc.variance_table(sc.sweep_dot_products(variance=4.0, seed=0))
    strong_table = sharpness(variance=4.0)
    samples = strong[strong["mode"] == "scaled"]["empirical"]
    largest = strong_table[strong_table["mode"] == "scaled"]["mean_max_weight"]
    assert input_scale_line(strong, strong_table, 4.0) == (
        "√d fixes the dimension, not the size of the inputs: with σ² = 4 the scaled scores "
        f"have variance σ⁴ = 16 at every d (samples from {sc.format_number(samples.min())} to "
        f"{sc.format_number(samples.max())}), and the scaled mean largest weight lies between "
        f"{largest.min():.2f} and {largest.max():.2f}."
    )
    # The claim in the sentence holds: every scaled sample variance is near 16.
    assert samples.between(14, 18).all()


def test_notice_lines_in_order(variances):
    table = sharpness()
    assert notice_lines(variances, table, 1.0) == [
        variance_line(variances, 1.0),
        sharpness_line(table),
        jacobian_line(table),
        input_scale_line(variances, table, 1.0),
    ]
