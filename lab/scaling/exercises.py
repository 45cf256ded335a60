"""The √d page's exercises, built from the same samples the page draws.

Every answer and every number in an explanation is computed here from the
page's seed, keys per query ``S``, temperature ``T`` and variance ``sigma^2``
(an exercise that asks the learner to set ``d``, ``T`` or ``sigma^2`` computes
its answer at that setting), so nothing is typed in by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lab.exercises import ChoiceAnswer, Exercise, NumberAnswer
from lab.scaling.compute import (
    MAX_D,
    SATURATED_BELOW,
    Mode,
    ScalingConfig,
    density_histogram,
    restoring_temperature,
    sample_attention_scores,
    sample_dot_products,
    score_domain,
    score_excess_kurtosis,
    score_variance,
    sharpness_row,
    trials_for,
)

HEAD_D = 64  # the d of the temperature and keys exercises: a real head size with √d = 8
FEW_KEYS, MANY_KEYS = 4, 32  # the two ends of the keys exercise
FAR_FROM_UNIFORM = 3.0  # a largest weight above this many times 1/S is far from uniform
HISTOGRAM_BINS = 40  # as the page's histograms
STRONGER_VARIANCE = 4.0  # the sigma^2 the variance exercise asks for


def _top_weight(
    config: ScalingConfig, *, n_keys: int, d: int, variance: float, mode: Mode, temperature: float
) -> float:
    """The page's "top weight" (the mean largest weight) for one setting, from its samples."""
    scores = sample_attention_scores(
        n_keys,
        d,
        trials=trials_for(n_keys, config.sweep_rows),
        variance=variance,
        seed=config.seed,
    )
    return sharpness_row(scores, d, mode, temperature)["mean_max_weight"]


def _saturation(config: ScalingConfig, sharpness: pd.DataFrame) -> Exercise:
    at_max = sharpness[sharpness["d"] == MAX_D].set_index("mode")["saturated"]
    unscaled, scaled = float(at_max[Mode.UNSCALED.value]), float(at_max[Mode.SCALED.value])
    spread = math.sqrt(score_variance(MAX_D, config.variance))
    return Exercise(
        key="saturated",
        question=(
            f"With **Scaling: Both**, set **d = {MAX_D}**. What share of the *unscaled* queries "
            f"are saturated (Frobenius norm of their softmax Jacobian below {SATURATED_BELOW:g})? "
            "Read the line beside the Jacobian sweep in section 4. Answer as a percentage or a "
            "fraction (27% or 0.27), within 1 percentage point."
        ),
        answer=NumberAnswer(value=unscaled, tolerance=0.01, minimum=0.0, maximum=1.0),
        hint="Beside the Jacobian sweep in section 4, a line gives the share of saturated "
        "queries of each mode at the d on screen.",
        explanation=(
            f"At d = {MAX_D}, **{unscaled:.1%}** of the unscaled queries are saturated against "
            f"**{scaled:.1%}** of the scaled ones (S = {config.n_keys}, T = "
            f"{config.temperature:g}, σ² = {config.variance:g}). Unscaled scores have a "
            f"standard deviation of √d · σ² = {spread:g}, so one key usually wins by a wide "
            "margin and its softmax row is nearly one-hot; scaled scores keep a standard "
            f"deviation of σ² = {config.variance:g} whatever d is."
        ),
    )


def _temperature(config: ScalingConfig) -> Exercise:
    root = math.sqrt(HEAD_D)
    common = {"n_keys": config.n_keys, "d": HEAD_D, "variance": config.variance}
    scaled_at_one = _top_weight(config, mode=Mode.SCALED, temperature=1.0, **common)
    unscaled_at_root = _top_weight(config, mode=Mode.UNSCALED, temperature=root, **common)
    scaled_at_root = _top_weight(config, mode=Mode.SCALED, temperature=root, **common)
    return Exercise(
        key="temperature",
        question=(
            f"Set **d = {HEAD_D}**, **Scaling: Both** and **T = 1**, and note the *scaled* **top "
            f"weight** (a mean over queries). Now set **T = {root:g}** (= √{HEAD_D}): the *unscaled* panel shows "
            "that same number. Why?"
        ),
        answer=ChoiceAnswer(
            options=(
                f"Dividing the raw scores by T = {root:g} is dividing them by √{HEAD_D}: "
                "softmax receives exactly the scaled scores",
                f"At T = {root:g} both softmaxes become uniform, so they agree",
                "It is a coincidence of this seed",
                "The temperature changes the variance of the entries of q and k",
            ),
            correct=0,
        ),
        hint="Write both softmax arguments out: q·k / T unscaled, q·k / (√d · T) scaled.",
        explanation=(
            f"Unscaled at T = {root:g}, softmax sees q·k / {root:g} = q·k / √{HEAD_D}, the very "
            f"numbers the scaled softmax sees at T = 1: both give a mean top weight of "
            f"**{unscaled_at_root:.3f}** (scaled at T = 1: {scaled_at_one:.3f}). Not uniform: "
            f"1/S = {1 / config.n_keys:.3f}, and the scaled panel at T = {root:g} is flatter "
            f"still ({scaled_at_root:.3f}). Dividing by √d is a temperature chosen so that the "
            "spread of the scores does not depend on d."
        ),
    )


def _variance(config: ScalingConfig) -> Exercise:
    restoring = restoring_temperature(STRONGER_VARIANCE)
    common = {"n_keys": config.n_keys, "d": HEAD_D, "mode": Mode.SCALED}
    before = _top_weight(config, variance=1.0, temperature=1.0, **common)
    stronger = _top_weight(config, variance=STRONGER_VARIANCE, temperature=1.0, **common)
    restored = _top_weight(config, variance=STRONGER_VARIANCE, temperature=restoring, **common)
    sigma4 = STRONGER_VARIANCE**2
    return Exercise(
        key="variance",
        question=(
            f"Set **d = {HEAD_D}**, **σ² = {STRONGER_VARIANCE:g}** and **T = 1**: the scaled "
            "scores now have "
            f"variance σ⁴ = {sigma4:g}, and every scaled chart moves. Which temperature **T** "
            "brings the scaled softmax (its top weight, entropy and Jacobian norm) back exactly "
            "to its values at σ² = 1 and T = 1? (a value of the T slider)"
        ),
        answer=NumberAnswer(value=restoring, tolerance=0.01, minimum=0.0),
        hint=f"Entries of variance {STRONGER_VARIANCE:g} are √{STRONGER_VARIANCE:g} times "
        "entries of variance 1. By what factor does that multiply q·k?",
        explanation=(
            f"Each entry of q and k is √{STRONGER_VARIANCE:g} = "
            f"{math.sqrt(STRONGER_VARIANCE):g} times larger, so every score is "
            f"{STRONGER_VARIANCE:g} times larger, and T = **{restoring:g}** divides it back. At "
            f"d = {HEAD_D} the scaled mean top weight is {before:.3f} at σ² = 1, "
            f"{stronger:.3f} at σ² = {STRONGER_VARIANCE:g} and T = 1, and {restored:.3f} again "
            f"at T = {restoring:g}. What changes at σ² = {STRONGER_VARIANCE:g}: the scaled "
            f"histogram widens to variance {sigma4:g}, the scaled variance line sits at "
            f"{sigma4:g}, the scaled entropy falls and the top weight rises. Dividing by √d "
            "cannot fix this (it removes d, not σ); a network keeps σ² near 1 with "
            "normalisation (LayerNorm) and the initialisation of its weights."
        ),
    )


KEYS_OPTIONS = (
    "It goes up",
    f"It goes down, but stays above {FAR_FROM_UNIFORM:g} × 1/S: the rows stay far from uniform",
    f"It goes down to below {FAR_FROM_UNIFORM:g} × 1/S: the rows come close to uniform",
)
_KEYS_REASONS = (
    "More keys did not weaken the winner here.",
    "More keys mean more rivals for the winner, so its weight falls, but it stays many times "
    "the uniform weight: the rows stay far from uniform.",
    "Divided by this temperature the scores are small, so with many keys the rows come close "
    "to uniform.",
)


def keys_verdict(few: float, many: float, n_many: int) -> int:
    """Which of ``KEYS_OPTIONS`` is right when the top weight goes from ``few`` to ``many``."""
    if many > few:
        return 0
    return 1 if many > FAR_FROM_UNIFORM / n_many else 2


def _keys(config: ScalingConfig) -> Exercise:
    common = {
        "d": HEAD_D,
        "variance": config.variance,
        "mode": Mode.UNSCALED,
        "temperature": config.temperature,
    }
    few = _top_weight(config, n_keys=FEW_KEYS, **common)
    many = _top_weight(config, n_keys=MANY_KEYS, **common)
    verdict = keys_verdict(few, many, MANY_KEYS)
    return Exercise(
        key="keys",
        question=(
            f"Set **d = {HEAD_D}** and **Scaling: Unscaled**. Read the **top weight** with "
            f"**Keys per query S = {FEW_KEYS}**, then with **S = {MANY_KEYS}**. Compared with "
            "the uniform weight 1/S, what does it do?"
        ),
        answer=ChoiceAnswer(options=KEYS_OPTIONS, correct=verdict),
        hint="The uniform weight 1/S is on the largest-weight chart at the top as a dashed "
        "line; compare the top weight with it at both S.",
        explanation=(
            f"The mean top weight is **{few:.3f}** at S = {FEW_KEYS} and **{many:.3f}** at "
            f"S = {MANY_KEYS}, while 1/S falls from {1 / FEW_KEYS:.3f} to "
            f"{1 / MANY_KEYS:.3f}: the top weight is {few * FEW_KEYS:.1f} times the uniform "
            f"weight at S = {FEW_KEYS} and {many * MANY_KEYS:.1f} times at S = {MANY_KEYS} "
            f"(T = {config.temperature:g}, σ² = {config.variance:g}). {_KEYS_REASONS[verdict]}"
        ),
    )


def _histogram(config: ScalingConfig) -> Exercise:
    samples = sample_dot_products(1, config.n_pairs, variance=config.variance, seed=config.seed)
    bars = density_histogram(samples, score_domain(1, config.variance), HISTOGRAM_BINS)
    tallest = float(bars["density"].max())
    curve_peak = 1 / math.sqrt(2 * math.pi * score_variance(1, config.variance))
    return Exercise(
        key="histogram",
        question=(
            "Set **d = 1** and look at the histograms of section 1: near 0 the bars rise well "
            "above the dashed normal curve. Why?"
        ),
        answer=ChoiceAnswer(
            options=(
                "At d = 1, q·k is one product q₁k₁ of two normal numbers, which is not normal; "
                "a sum of many such products is close to normal",
                f"{config.n_pairs} pairs are too few to fill the histogram",
                "Dividing by √1 distorts the scores",
                "The curve is drawn with the wrong variance",
            ),
            correct=0,
        ),
        hint="The curve has the right variance (section 2 checks it). What is q·k made of "
        "when d = 1, and what happens when many such terms are added?",
        explanation=(
            f"At d = 1 the tallest bar reaches a density of **{tallest:.2f}** against the "
            f"curve's peak of {curve_peak:.2f}. A product of two normals is sharply peaked at "
            "0 with heavy tails: its excess kurtosis is 6 (a normal's is 0). For a sum of d "
            f"independent products it is 6/d, {score_excess_kurtosis(16):g} at d = 16, so the "
            "central limit theorem brings the histogram onto the curve as d grows."
        ),
    )


def page_exercises(config: ScalingConfig, sharpness: pd.DataFrame) -> list[Exercise]:
    """The page's five exercises for its current controls.

    Each exercise says which ``d`` to set, so none depends on the ``d`` on screen.

    Args:
        config: the controls on screen (``n_keys``, ``temperature``, ``variance``,
            ``seed``; ``d`` is not read).
        sharpness: :func:`lab.scaling.sharpness_table` for those controls.
    """
    if not np.isin(MAX_D, sharpness["d"].to_numpy()):
        raise ValueError(f"sharpness must have rows for d = {MAX_D}")
    return [
        _saturation(config, sharpness),
        _temperature(config),
        _variance(config),
        _keys(config),
        _histogram(config),
    ]
