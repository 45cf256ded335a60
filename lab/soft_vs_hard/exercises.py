"""The soft-vs-hard page's exercises, built from the numbers on its screen.

Each answer is computed here from the same data the page draws (the items,
θ, the query length, T, the noise seed, the sweep and the training runs), so
it follows the controls; nothing is typed in by hand.
"""

from __future__ import annotations

import numpy as np

import lab.soft_vs_hard.compute as compute
from lab.exercises import ChoiceAnswer, Exercise, NumberAnswer
from lab.soft_vs_hard.cue_task import TrainingComparison, TrainingMethod
from lab.soft_vs_hard.scene import Preset, Scene
from lab.text import escape_markdown

COLD, WARM = 0.05, 20.0  # the two temperatures of the first exercise (the slider's ends)
TWIN_WINDOW = np.arange(-10.0, 11.0)  # degrees either side of 0 for the near-twin keys
DRAW_COUNTS = (1, 10, 100, 1000)  # the draws the sampling exercise walks through
FLAT_GRADIENT = 1e-9  # a gradient this small is zero (a flat loss)


def exercise_target(scene: Scene) -> int:
    """The value the sweep exercise retrieves: item 1 (B in the presets), the page's default."""
    return min(1, scene.size - 1)


def _point(point: np.ndarray) -> str:
    return f"({point[0]:.2f}, {point[1]:.2f})"


def _temperature_exercise(scene: Scene, view: compute.QueryView) -> Exercise:
    """Where the soft output goes at T = 0.05 and at T = 20."""
    pick = escape_markdown(scene.names[view.winner])
    picked_value = scene.value_points[view.winner]
    mean = scene.value_points.mean(axis=0)
    outputs = {
        t: compute.attend(compute.soft_weights(view.scores, t), scene.value_points)
        for t in (COLD, WARM)
    }
    near_pick = {
        t: np.linalg.norm(out - picked_value) <= np.linalg.norm(out - mean)
        for t, out in outputs.items()
    }
    options = (
        f"T = 0.05: next to {pick}'s value; T = 20: near the mean of the values",
        f"T = 0.05: near the mean of the values; T = 20: next to {pick}'s value",
        f"Both next to {pick}'s value",
        "Both near the mean of the values",
    )
    correct = {(True, False): 0, (False, True): 1, (True, True): 2, (False, False): 3}[
        (bool(near_pick[COLD]), bool(near_pick[WARM]))
    ]
    return Exercise(
        key="temperature",
        question=(
            "Set the softmax temperature T to 0.05, then to 20, and watch the blue point "
            "(the soft output) in the value-space chart. Where is it at each?"
        ),
        answer=ChoiceAnswer(options=options, correct=correct),
        hint="softmax(s / T): dividing by a small T stretches the gaps between scores, "
        "dividing by a large T shrinks them.",
        explanation=(
            f"At T = 0.05 the soft output is {_point(outputs[COLD])}; {pick}, the item with "
            f"the top score, has the value {_point(picked_value)}. At T = 20 it is "
            f"{_point(outputs[WARM])}, and the mean of the values is {_point(mean)}. A small T "
            "puts nearly all the weight on the top score (soft tends to hard attention); a "
            "large T makes the weights nearly equal (soft tends to a plain average)"
            + (
                ". Here the scores tie, so even T = 0.05 cannot single one item out."
                if view.tie
                else "."
            )
        ),
    )


def _twins_exercise(length: float, temperature: float) -> Exercise:
    """What hard and soft attention do between the near-twin keys A and A′."""
    scene = Preset.TWINS.scene
    sweep = compute.angle_sweep(scene, 0, TWIN_WINDOW, length, temperature)
    hard_steps = np.linalg.norm(np.diff(sweep.hard_outputs, axis=0), axis=1)  # (A - 1,)
    soft_steps = np.linalg.norm(np.diff(sweep.soft_outputs, axis=0), axis=1)
    jump = float(hard_steps.max())
    glide = float(soft_steps.max())
    hard_jumps = jump > FLAT_GRADIENT
    soft_moves = float(np.linalg.norm(sweep.soft_outputs[-1] - sweep.soft_outputs[0])) > 1e-3
    soft_jumps = hard_jumps and glide > jump / 2
    options = (
        "Hard jumps from the value of A′ to that of A near θ = 0°; soft glides between them",
        "Both glide smoothly from the value of A′ to that of A",
        "Both jump near θ = 0°",
        "Neither changes: A and A′ score the same all the way",
    )
    if not hard_jumps and not soft_moves:
        correct = 3
    elif hard_jumps and not soft_jumps:
        correct = 0
    elif hard_jumps:
        correct = 2
    else:
        correct = 1
    where = float(sweep.jumps()[0]) if hard_jumps else 0.0
    return Exercise(
        key="twins",
        question=(
            "Choose the items *Two near-twin keys* and move θ from −10° to 10° (keep the "
            "query length and T as they are). What do hard and soft attention do between "
            "A and A′?"
        ),
        answer=ChoiceAnswer(options=options, correct=correct),
        hint="Watch the orange square and the blue point in the value-space chart, and "
        "which key sticks out furthest along the query arrow.",
        explanation=(
            (
                f"The keys of A and A′ differ only in the sign of their y coordinate, so their "
                f"scores swap order at θ = 0°. Hard attention switches at θ = {where:g}°: its "
                f"output moves by {jump:.2f} in one degree, from the value of A′, "
                f"{_point(scene.value_points[1])}, to that of A, {_point(scene.value_points[0])}. "
                f"The soft output moves by at most {glide:.2f} per degree, from "
                f"{_point(sweep.soft_outputs[0])} at −10° to {_point(sweep.soft_outputs[-1])} "
                "at 10°."
            )
            if hard_jumps or soft_moves
            else "With a zero-length query every score is 0, whatever θ: nothing moves. "
            "Lengthen the query and try again."
        ),
    )


def _draws_exercise(view: compute.QueryView, temperature: float, seed: int) -> Exercise:
    """How far one draw, and then more, lands from the soft weights."""
    gaps, bands = compute.frequency_gaps(view.scores, DRAW_COUNTS, temperature, seed)
    walk = "; ".join(
        f"N = {count:,}: {gap:.3f} (two standard errors: {band:.3f})"
        for count, gap, band in zip(DRAW_COUNTS, gaps, bands, strict=True)
    )
    return Exercise(
        key="draws",
        question=(
            f"In section 3, set Draws to 1 (noise seed {seed}). One bar is at 1, the others "
            "at 0. What is the largest gap between a bar and its black tick? (two decimals)"
        ),
        answer=NumberAnswer(value=float(gaps[0]), tolerance=0.01, minimum=0, maximum=1),
        hint="The black ticks are the soft weights (the blue bars at the top). The drawn item's gap is "
        "1 minus its weight; every other item's gap is its own weight.",
        explanation=(
            f"With one draw the gap is **{gaps[0]:.3f}**. The largest gaps for more draws "
            f"(the 1/√N chart): {walk}. Ten times more draws shrink the expected gap by "
            "√10 ≈ 3.2: one draw is hard attention, the average of many is soft attention."
        ),
    )


def _steep_angle_on_top_step(sweep: compute.AngleSweep, gradients: compute.SweepGradients) -> int:
    """An angle on the highest step of the hard loss where the average loss clearly slopes.

    Of the angles where the hard loss is highest, those where the average loss's
    slope is at least half its steepest there; of these, the one nearest the
    middle of the step (away from the cliffs at its ends).
    """
    top = np.flatnonzero(np.isclose(sweep.hard_loss, sweep.hard_loss.max()))  # indices on the step
    slopes = np.abs(gradients.expected_grad[top])
    steep = top[slopes >= slopes.max() / 2]
    middle = (top.min() + top.max()) / 2
    return int(steep[np.argmin(np.abs(steep - middle))])


def _descent_exercise(
    scene: Scene, sweep: compute.AngleSweep, gradients: compute.SweepGradients
) -> Exercise:
    """What the hard loss's gradient tells descent, and what the average loss of sampling says."""
    target = exercise_target(scene)
    index = _steep_angle_on_top_step(sweep, gradients)
    angle = float(compute.SWEEP_ANGLES[index])
    slope = float(gradients.expected_grad[index])
    options = ("Increase θ", "Decrease θ", "Nowhere: its gradient is 0 as well")
    correct = 2 if abs(slope) <= FLAT_GRADIENT else (1 if slope > 0 else 0)
    name = escape_markdown(f"{target} · {scene.names[target]}")
    return Exercise(
        key="descent",
        question=(
            f"In section 2, keep the value to retrieve at **{name}** and set θ to "
            f"{angle:g}°, on the highest step of the hard loss. Its gradient there is 0, so "
            "gradient descent on θ stands still. Switch on the average loss of sampling: "
            "which way would gradient descent move θ on that curve?"
        ),
        answer=ChoiceAnswer(options=options, correct=correct),
        hint="Gradient descent steps against the gradient: a positive dL/dθ means "
        "decreasing θ lowers the loss.",
        explanation=(
            f"At θ = {angle:g}° the hard loss is {sweep.hard_loss[index]:.3f} with gradient "
            f"0. The average loss of sampling is {gradients.expected_loss[index]:.3f} with "
            f"dL/dθ = {slope:+.4f} per degree"
            + (
                ", so descent moves θ "
                + ("down" if slope > 0 else "up")
                + ": sampling turns the staircase into a slope that REINFORCE can follow "
                "(it estimates this gradient from samples)."
                if correct != 2
                else ": with a zero-length query θ changes nothing. Lengthen the query."
            )
        ),
    )


def _training_exercise(harder: TrainingComparison, shipped: bool) -> Exercise:
    """Which method falls behind on the harder task (16 items, 200 steps)."""
    seed, items, steps = harder.config.settings
    final = {method: harder.curves[method].accuracy[-1] for method in TrainingMethod}
    soft = final[TrainingMethod.SOFT]
    hard_methods = (TrainingMethod.REINFORCE, TrainingMethod.GUMBEL_ST)
    worst = min(hard_methods, key=lambda method: final[method])
    options = (*(method.label for method in hard_methods), "Neither: both keep up with soft")
    correct = 2 if soft - final[worst] < 0.01 else hard_methods.index(worst)
    reached = "; ".join(
        f"{method.short} "
        + (
            "never reaches 95 %"
            if harder.curves[method].steps_to(0.95) is None
            else f"reaches 95 % at step {harder.curves[method].steps_to(0.95)}"
        )
        for method in TrainingMethod
    )
    how = "it is shipped with the lab, so it shows at once" if shipped else "trained here"
    return Exercise(
        key="training",
        question=(
            f"In section 5, set Items per example to {items} and Training steps to {steps} "
            f"(training seed {seed}: {how}). Which method falls furthest behind soft "
            "attention in held-out accuracy at the last step?"
        ),
        answer=ChoiceAnswer(options=options, correct=correct),
        hint="Read the last point of each line in the accuracy chart, or the table's "
        "final accuracy column.",
        explanation=(
            "Held-out accuracy at step "
            f"{steps}: "
            + ", ".join(f"{method.short} {final[method]:.3f}" for method in TrainingMethod)
            + f". {worst.short} trails soft by {soft - final[worst]:.3f} "
            f"({100 * (soft - final[worst]):.0f} percentage points); {reached}. With more "
            "distractors a sampled pick lands on the match less often, so its noisy "
            "gradient says less per step."
        ),
    )


def page_exercises(
    scene: Scene,
    view: compute.QueryView,
    *,
    length: float,
    temperature: float,
    seed: int,
    sweep: compute.AngleSweep,
    gradients: compute.SweepGradients,
    harder: TrainingComparison | None,
    harder_is_shipped: bool = True,
) -> list[Exercise]:
    """The exercises on the page's current items and settings.

    Args:
        scene: the items on screen.
        view: soft and hard attention of the current query over them.
        length, temperature: the query length and T.
        seed: the noise seed of the sampling section.
        sweep, gradients: the sweep for :func:`exercise_target` at the current
            length and T (numpy, and torch autograd).
        harder: the training run on 16 items for 200 steps the last exercise
            asks about (five exercises), or ``None`` if there is none (four).
        harder_is_shipped: whether that run is the shipped one.
    """
    items = [
        _temperature_exercise(scene, view),
        _twins_exercise(length, temperature),
        _draws_exercise(view, temperature, seed),
        _descent_exercise(scene, sweep, gradients),
    ]
    if harder is not None:
        items.append(_training_exercise(harder, harder_is_shipped))
    return items
