"""The soft-vs-hard page's longer text, as data, and the sentences built from its numbers.

Kept here so the page stays widgets and layout, and so every sentence that
states a number, a direction or a unit is built by a function a test calls
with the numbers the page shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lab.soft_vs_hard.compute import AngleSweep, SweepGradients
from lab.soft_vs_hard.cue_task import MethodSummary, TrainingComparison, TrainingMethod
from lab.soft_vs_hard.scene import MAX_COORDINATE, MAX_ITEMS, MIN_ITEMS
from lab.text import escape_markdown

WEIGHTS_EQUATION = (
    r"s_i = \frac{q\cdot k_i}{\sqrt{d}}\qquad"
    r"\underbrace{o = \sum_i \mathrm{softmax}(s/T)_i\, v_i}_{\text{soft: an average}}\qquad"
    r"\underbrace{o = v_{\arg\max_i s_i}}_{\text{hard: one pick}}"
)

TABLE_CAPTION = (
    f"Between {MIN_ITEMS} and {MAX_ITEMS} items; coordinates within ±{MAX_COORDINATE:g}. "
    "Add or delete rows at the table's edge. Your edits stay in this browser session: a "
    "copied link carries the preset, not the edits."
)

GEOMETRY = (
    "Soft attention returns a weighted average of the values, which is always a point "
    "inside their **convex hull** (grey outline). Hard attention returns one of the values "
    "itself. Move θ or T and watch the blue point glide while the orange square jumps from "
    "one value to another."
)

GUMBEL_PLANE = "Value space: the Gumbel-softmax output"

KEY_CAPTION = (
    "The query is the black arrow, q = length · (cos θ, sin θ). Each score is the dot "
    "product of the arrow with a key, so the key that sticks out furthest along the arrow "
    "wins (orange)."
)

SWEEP_INTRO = (
    "Say the model *should* retrieve one particular value. Turn the query through every "
    "direction θ and measure how far the output lands from that value, "
    "L = ‖o − v_target‖². Training would follow the gradient dL/dθ; here **torch "
    "autograd** computes it, per degree of θ, the unit of the axis."
)

SAMPLING = (
    "Instead of the argmax, draw the item at random with probabilities softmax(s / T). "
    "Each draw is still hard attention: one value comes back. But the *average* loss over "
    "draws, Σᵢ pᵢ ‖vᵢ − v_target‖², is smooth in θ: the dashed orange curve of section 2 "
    "(switch it on there). "
    "**REINFORCE** (the score-function estimator) descends it from samples: draw an item, "
    "then move log p(item) down or up by how much worse or better its loss was than a "
    "running baseline. Each update is an unbiased but noisy estimate of the gradient of the "
    "average loss."
)

GUMBEL = (
    "REINFORCE is noisy because the randomness sits inside the choice. The "
    "*reparameterisation* trick moves it outside. Add Gumbel noise g = −log(−log U) to "
    "the logits s / T: the argmax of s / T + g is a draw from softmax(s / T) (the "
    "Gumbel-max trick). Replace that argmax with a softmax at a temperature τ, "
    "y = softmax((s / T + g) / τ), and for a fixed g, y is an ordinary differentiable "
    "function of the scores. **Straight-through** goes one step further: the forward pass "
    "uses the one-hot of the sample, a real pick; the backward pass uses the gradient of "
    "the soft y. Less noise than REINFORCE, at the price of some bias."
)

TASK = (
    "**The task: find the item that matches the cue.** Each example shows a few items, "
    "each with a colour and a symbol (♠ ♥ ♦ ♣). The cue names a colour; the answer is the "
    "symbol of the item with that colour. The model scores every item against the cue "
    "(q = cue · W_q, k = item · W_k), attends, and reads the symbol off what it sees with "
    "W_o. The only way to succeed is to learn where to look. In all three methods the "
    "read-out W_o learns by backpropagation through what it was shown; they differ in how "
    "W_q and W_k, which decide where to look, get their gradient. The three models start "
    "from the same weights and see the same batches."
)

VARIANCE = (
    "At a handful of steps the model is frozen and its attention gradient (for W_q and "
    "W_k) is computed on {batches} fresh batches; the total variance of those estimates, "
    "summed over all weights, measures how much they disagree. At step 0 all three models "
    "have the same weights, so that column compares the estimators alone; noise / signal "
    "divides it by the squared norm of the mean gradient."
)

COST = (
    "**What hard attention costs here.** Every method takes one forward and one backward "
    "pass over a batch of {batch} examples per step (the hard ones also draw their random "
    "picks), so a step costs each method about the same and the price is counted in steps: "
    "the table gives the steps, and the training examples seen, until held-out accuracy "
    "first reaches 95 %. Wall-clock times are left out: at this size they measure the "
    "machine's load more than the method."
)

CAPTIONING = (
    "**Hard attention in image captioning.** Captioning models that attend over image "
    "regions were built both ways: soft, averaging the features of all regions, and hard, "
    "sampling one region per word. The hard model's choice of region cannot be trained by "
    "backpropagation alone; it was trained with a REINFORCE-style estimator (a "
    "reinforcement-learning method) with a moving-average baseline, as on this page. Its "
    "attention maps look at one region at a time, which is why it is the classic picture of "
    "hard attention (Xu et al., *Show, Attend and Tell*, 2015)."
)

NOT_AN_EXPLANATION = (
    "**An attention map is not an explanation.** It is tempting to read the weights as "
    "*why* the model produced an output. Whether they are is disputed: different weights "
    "can give the same output (values can cancel, and later layers can ignore what was "
    "averaged), and removing the most-attended input does not always change the decision. "
    "See *Is Attention Interpretable?* (Serrano and Smith, 2019) and *On Identifiability "
    "in Transformers* (Brunner et al., 2020). Treat a heatmap as a hypothesis to test, not "
    "a proof."
)


def _vector(point: Sequence[float]) -> str:
    return f"({point[0]:.2f}, {point[1]:.2f})"


def scores_sentence(names: Sequence[str], scores: Sequence[float]) -> str:
    """ "Scores s = q · k / √2 for the 4 items: A **2.45**, …"."""
    listed = ", ".join(
        f"{escape_markdown(name)} **{value:.2f}**"
        for name, value in zip(names, scores, strict=True)
    )
    return f"The same scores s = q · k / √2 for the {len(names)} items, {listed}, give two kinds of weights."


def gradient_sentences(
    names: Sequence[str], angle: int, sweep: AngleSweep, gradients: SweepGradients
) -> tuple[str, str]:
    """The two paragraphs under the sweep chart, for the grid angle nearest ``angle``."""
    here = int(np.argmin(np.abs(sweep.angles - angle)))
    return (
        sweep_sentence(
            angle,
            float(gradients.soft_loss[here]),
            float(gradients.soft_grad[here]),
            float(gradients.hard_loss[here]),
            float(gradients.hard_grad[here]),
            len(sweep.jumps()),
        ),
        pick_sentence(
            names,
            int(sweep.hard_index[here]),
            gradients.hard_value_grad[here],
            gradients.hard_key_grad[here],
            gradients.soft_key_grad[here],
        ),
    )


def sweep_sentence(
    angle: int,
    soft_loss: float,
    soft_grad: float,
    hard_loss: float,
    hard_grad: float,
    cliffs: int,
) -> str:
    """What the losses and their gradients per degree are at the current θ."""
    plural = "s" if cliffs != 1 else ""
    return (
        f"At θ = {angle}°: the soft loss is **{soft_loss:.3f}** with dL/dθ = "
        f"**{soft_grad:+.4f} per degree**, a direction to move in. The hard loss is "
        f"**{hard_loss:.3f}** with dL/dθ = **{abs(hard_grad):.0f} per degree**: flat "
        f"steps, and {cliffs} cliff{plural} (dotted) where the derivative does not exist."
    )


def pick_sentence(
    names: Sequence[str],
    picked: int,
    value_grad: np.ndarray,
    key_grad: np.ndarray,
    soft_key_grad: np.ndarray,
) -> str:
    """What autograd gives the values, the keys and the query of hard attention at θ.

    Args:
        names: the ``S`` item names.
        picked: the item the argmax picks.
        value_grad, key_grad: ``(S, 2)`` the hard loss's gradients at θ.
        soft_key_grad: ``(S, 2)`` the soft loss's key gradients at θ, for contrast.
    """
    name = escape_markdown(names[picked])
    others = np.delete(np.arange(len(names)), picked)
    zero_elsewhere = bool(np.all(value_grad[others] == 0))
    no_selection = bool(np.all(key_grad == 0))
    strongest = int(np.argmax(np.linalg.norm(soft_key_grad, axis=1)))
    soft_norm = float(np.linalg.norm(soft_key_grad[strongest]))
    no_path = (
        "argmax returns an integer, so there is no path from the loss back to the scores, "
        "and the query (θ) and every key get a gradient of exactly 0"
    )
    if np.all(value_grad[picked] == 0):
        reached = (
            f"Hard attention picks {name}, the value we want: the loss is 0, and so is every "
            "gradient."
        )
        selection = (
            f" Elsewhere on the staircase the picked value does get a gradient, but {no_path}."
            if no_selection
            else ""
        )
    else:
        reached = (
            f"Backpropagation still reaches the value hard attention picked: autograd gives "
            f"v_{name} the gradient **{_vector(value_grad[picked])}**"
            + (", and every other value 0." if zero_elsewhere else ".")
        )
        selection = (
            f" What gets nothing is the *selection*: {no_path}. Gradient descent could change "
            "what a pick returns, never which item is picked."
            if no_selection
            else ""
        )
    contrast = (
        f" Soft attention gives the keys a gradient here (largest for "
        f"{escape_markdown(names[strongest])}: ‖dL/dk‖ = {soft_norm:.3f})."
        if soft_norm > 0
        else ""
    )
    return reached + selection + contrast


def shown_caption(
    comparison: TrainingComparison, origin: str, shipped: TrainingComparison | None
) -> str:
    """Where the curves on screen come from: shipped, or trained here (and how close to shipped)."""
    seed, items, steps = comparison.config.settings
    settings = f"seed {seed}, {items} items, {steps} steps"
    if origin == "shipped":
        return (
            f"Curves shipped with the lab ({settings}), made by "
            "`scripts/train_soft_vs_hard.py`; *Retrain* trains them here in a few seconds "
            "and gives the same curves."
        )
    message = f"Trained on this server: {settings}."
    if shipped is not None:
        gap = max(
            float(np.max(np.abs(np.subtract(curve.loss, shipped.curves[method].loss))))
            for method, curve in comparison.curves.items()
        )
        message += (
            f" Same settings as a shipped run; the largest difference in held-out loss is "
            f"{gap:.1e}. Same seed, same curves."
        )
    return message


def on_match_caption(comparison: TrainingComparison, index: int) -> str:
    """The weight each trained model puts on the matching item of example ``index``."""
    target = comparison.examples[index]["target"]
    on_match = ", ".join(
        f"{method.label} **{comparison.example_weights[method][index][target]:.2f}**"
        for method in TrainingMethod
    )
    return (
        "Each row: softmax of the trained model's scores on this held-out example (for the "
        f"hard models, the probabilities they sample from). Weight on the match: {on_match}."
    )


def summary_rows(rows: Sequence[MethodSummary]) -> list[dict[str, str]]:
    """The table of methods, one dict of formatted cells per row, in the page's column order."""

    def reached(value: int | None) -> str:
        return "not reached" if value is None else f"{value:,}"

    return [
        {
            "method": row.method.label,
            "steps to 95 %": reached(row.steps_to_target),
            "examples to 95 %": reached(row.examples_to_target),
            "final accuracy": f"{row.final_accuracy:.3f}",
            "variance at step 0": f"{row.start_variance:.2e}",
            "× soft": f"{row.variance_ratio:.1f} ×",
            "noise / signal": f"{row.noise_to_signal:.1f}",
        }
        for row in rows
    ]


def notice_lines(reinforce_ratio: float | None) -> list[str]:
    """The closing list; the REINFORCE ratio comes from the shipped run (``None``: no run)."""
    measured = (
        f"In the shipped run REINFORCE's gradient variance at step 0 is {reinforce_ratio:.1f} "
        "times backprop's, and it needs more steps to learn."
        if reinforce_ratio is not None
        else "REINFORCE's gradients are noisier than backprop's, so it needs more steps."
    )
    return [
        "Soft weights are a distribution; hard weights are one-hot. The same scores give both.",
        "The soft output always lies inside the hull of the values and glides as θ or T "
        "changes; the hard output sits on a value and jumps.",
        "The hard loss against θ is a staircase: dL/dθ is 0 on every step and undefined at "
        "the cliffs. Backpropagation still reaches the picked value, but gives the query "
        "and the keys, which decide the pick, nothing to follow.",
        "Sample frequencies approach the soft weights, with a gap shrinking like 1/√N.",
        "Every method pays the same per step, one forward and one backward pass. " + measured,
    ]


PRESET_HELP = "A few items, each with a 2-D key and a 2-D value. Edit them below."
ANGLE_HELP = "The query is q = length · (cos θ, sin θ). Keys pointing the same way score high."
LENGTH_HELP = "Longer queries give larger scores, so softmax gets sharper."
T_HELP = (
    "softmax(s / T): small T sharpens the weights towards hard attention, large T flattens "
    "them towards a plain average."
)
AVERAGE_LABEL = "Show the average loss when the pick is sampled from softmax(s / T)"
AVERAGE_HELP = "Section 3 explains it: the loss REINFORCE descends."
FLAT_NOTE = "With a zero-length query, θ changes nothing: every curve is flat. Lengthen the query."
WAYS_ROUND = (
    "Two ways round it follow, both trained in section 5: make the pick random and descend "
    "its average loss (section 3), or pick for real going forward but pass a soft "
    "stand-in's gradient going back (section 4)."
)
SEED_HELP = "Seeds the draws here and the Gumbel noise of section 4: the same seed, the same draws."
FREQUENCY_CAPTION = (
    "Bars: how often each item was drawn. Black ticks: the soft weights. Grey bands: where "
    "about 95 % of frequencies land, ±2·√(p(1 − p)/N). One draw is hard attention; the "
    "average of many is soft attention."
)
TAU_HELP = "Small τ: nearly one-hot. Large τ: nearly uniform."
ST_HELP = "Forward: the one-hot of the sample. Backward: the gradient of the soft y."
TRAIN_SEED_HELP = "Seeds the data, the initial weights and the sampling noise."
ITEMS_HELP = "One match and the rest distractors. More items: harder to find by chance."
NO_SHIPPED = (
    "The shipped runs file is missing; press *Retrain* to train the three methods (a few seconds)."
)
EVALUATION_CAPTION = (
    "Held-out examples; the soft model is tested with soft attention, the two hard ones "
    "with argmax (they look at exactly one item)."
)
RATIO_HELP = "Total variance of the attention gradient at step 0, divided by soft's."


def point(xy: Sequence[float]) -> str:
    """A 2-D point as the page prints it: ``(2.40, 1.11)``."""
    return _vector(xy)


def soft_caption(soft_output: Sequence[float]) -> str:
    """The caption under the soft weights."""
    return (
        "Every item gets some weight. The output is the weighted average of all values, "
        f"{_vector(soft_output)}."
    )


def hard_caption(winner: str, hard_output: Sequence[float]) -> str:
    """The caption under the hard weights."""
    return f"All the weight on **{winner}**. The output is its value, {_vector(hard_output)}."


def table_warning(problem: str, preset: str) -> str:
    """The warning shown when the edited item table cannot be used."""
    return (
        f"The item table cannot be used: {escape_markdown(problem)}. "
        f"Showing the preset *{escape_markdown(preset)}* instead."
    )


def tie_note(winner: str) -> str:
    """The note shown when two or more items share the top score."""
    return (
        "Two or more items share the top score (a zero-length query makes every score 0). "
        "Soft attention gives them equal weight; hard attention must break the tie, and "
        f"argmax takes the first one, **{winner}**."
    )


def value_caption(
    temperature: float,
    soft_output: Sequence[float],
    winner: str,
    hard_output: Sequence[float],
    tie: bool = False,
) -> str:
    """The caption under the value-space chart (``tie``: the top scores are equal)."""
    start = "at the mean too: the scores tie" if tie else "at the hard pick"
    return (
        f"Blue band: the soft output as T runs from 0.02 ({start}) to 50 (near the plain "
        "mean). Dashed loop: the soft output as the query turns full circle at "
        f"T = {temperature:g}. The soft output is now {_vector(soft_output)}; hard attention "
        f"returns {winner} = {_vector(hard_output)}."
    )


def variance_reading(reinforce_ratio: float, gumbel_ratio: float) -> str:
    """What the step-0 variances of the run on screen say, with its numbers."""
    return (
        f"With the same weights, REINFORCE's estimates vary {reinforce_ratio:.1f} times as much "
        "as backprop's: it learns from one sampled item and a single number, how good the "
        "result was, not from how the loss changes with every weight. Gumbel "
        f"straight-through keeps a gradient through the soft y: {gumbel_ratio:.1f} times "
        "backprop's. Noisier gradients mean smaller useful steps, hence more of them."
    )


def gumbel_title(straight_through: bool, tau: float) -> str:
    """The title of the Gumbel-softmax bars."""
    if straight_through:
        return f"Straight-through, τ = {tau:g}: one-hot forward"
    return f"y = softmax((s/T + g) / τ), τ = {tau:g}"


def gumbel_caption(straight_through: bool, picked: str) -> str:
    """The caption under the Gumbel-softmax bars."""
    if straight_through:
        return (
            f"The forward pass uses the one-hot on **{picked}**, a real sample. The backward "
            "pass pretends the soft y (black ticks) was used, so gradients still reach every "
            "score."
        )
    return (
        "Gumbel noise g added to the logits, then a softmax at temperature τ. The largest "
        f"entry is a draw from softmax(s / T) (here **{picked}**); black ticks show the soft "
        "weights for comparison. *New draw* gives new noise."
    )


def not_trained_note(
    asked: tuple[int, int, int], shown: tuple[int, int, int], allowed: bool
) -> str:
    """The note shown when the settings chosen have no run yet."""
    seed, items, steps = asked
    action = (
        "press **Retrain** to train them (a few seconds)"
        if allowed
        else "this server only shows its shipped runs"
    )
    return (
        f"Seed {seed}, {items} items, {steps} steps have not been trained yet: {action}. "
        f"Shown meanwhile: seed {shown[0]}, {shown[1]} items, {shown[2]} steps."
    )
