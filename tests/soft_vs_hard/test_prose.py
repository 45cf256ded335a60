"""lab.soft_vs_hard.prose: the sentences the page builds from its numbers say what the data says."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lab.soft_vs_hard import SWEEP_ANGLES, Preset, angle_sweep, load_comparisons, prose, summarise
from lab.soft_vs_hard.train import sweep_gradients


def test_the_sweep_sentence_names_its_unit_and_its_cliffs():
    text = prose.sweep_sentence(30, 5.5461, -0.19704, 10.25, 0.0, 4)
    assert text == (
        "At θ = 30°: the soft loss is **5.546** with dL/dθ = **-0.1970 per degree**, a "
        "direction to move in. The hard loss is **10.250** with dL/dθ = **0 per degree**: "
        "flat steps, and 4 cliffs (dotted) where the derivative does not exist."
    )
    assert "1 cliff (dotted)" in prose.sweep_sentence(0, 1.0, 0.1, 1.0, -0.0, 1)
    assert "**0 per degree**" in prose.sweep_sentence(0, 1.0, 0.1, 1.0, -0.0, 1)  # never "-0"


def test_gradient_sentences_read_the_grid_angle_nearest_theta():
    scene = Preset.FOUR.scene
    sweep = angle_sweep(scene, 1, SWEEP_ANGLES, 2.0, 1.0)
    gradients = sweep_gradients(scene, 1, SWEEP_ANGLES, 2.0, 1.0)
    losses, picks = prose.gradient_sentences(list(scene.names), 30, sweep, gradients)
    here = int(np.flatnonzero(SWEEP_ANGLES == 30)[0])
    assert f"**{gradients.soft_grad[here]:+.4f} per degree**" in losses
    assert "and 4 cliffs" in losses
    assert "autograd gives v_A the gradient **(4.00, -5.00)**, and every other value 0." in picks
    assert "the query (θ) and every key get a gradient of exactly 0" in picks


def test_the_pick_sentence_when_the_pick_is_the_target():
    names = ["A", "B"]
    zero = np.zeros((2, 2))
    text = prose.pick_sentence(names, 1, zero, zero, np.array([[0.5, 0.0], [0.0, 0.2]]))
    assert text.startswith(
        "Hard attention picks B, the value we want: the loss is 0, and so is every gradient. "
        "Elsewhere on the staircase the picked value does get a gradient, but argmax returns"
    )
    assert "largest for A: ‖dL/dk‖ = 0.500" in text


def test_the_pick_sentence_says_nothing_false_when_keys_do_get_a_gradient():
    # Not what autograd gives through argmax; the sentence must then not claim zero.
    names = ["A", "B"]
    value = np.array([[1.0, 0.0], [0.0, 0.0]])
    keys = np.array([[0.1, 0.0], [0.0, 0.0]])
    text = prose.pick_sentence(names, 0, value, keys, np.zeros((2, 2)))
    assert "exactly 0" not in text and "Soft attention gives" not in text
    assert text.endswith("and every other value 0.")


def test_names_in_sentences_are_escaped():
    text = prose.scores_sentence(["**b**", "<i>"], [1.0, -2.0])
    assert text == (
        r"The same scores s = q · k / √2 for the 2 items, \*\*b\*\* **1.00**, \<i\> **-2.00**, "
        "give two kinds of weights."
    )


def test_captions_of_shipped_and_trained_runs():
    shipped, harder = load_comparisons()
    assert prose.shown_caption(shipped, "shipped", None).startswith(
        "Curves shipped with the lab (seed 0, 10 items, 600 steps)"
    )
    same = prose.shown_caption(shipped, "trained", shipped)
    assert same == (
        "Trained on this server: seed 0, 10 items, 600 steps. Same settings as a shipped run; "
        "the largest difference in held-out loss is 0.0e+00. Same seed, same curves."
    )
    assert prose.shown_caption(harder, "trained", None) == (
        "Trained on this server: seed 0, 16 items, 200 steps."
    )


def test_the_summary_table_formats_every_cell():
    rows = prose.summary_rows(summarise(load_comparisons()[0]))
    assert rows[0] == {
        "method": "soft + backprop",
        "steps to 95 %": "160",
        "examples to 95 %": "5,120",
        "final accuracy": "1.000",
        "variance at step 0": "3.81e-05",
        "× soft": "1.0 ×",
        "noise / signal": "19.3",
    }
    assert [row["steps to 95 %"] for row in rows] == ["160", "340", "200"]
    harder = prose.summary_rows(summarise(load_comparisons()[1]))
    assert [row["examples to 95 %"] for row in harder] == ["not reached"] * 3


def test_what_to_notice_states_the_measured_ratio():
    ratio = summarise(load_comparisons()[0])[1].variance_ratio
    lines = prose.notice_lines(ratio)
    assert f"is {ratio:.1f} times backprop's" in lines[-1]
    assert ratio == pytest.approx(8.53, abs=0.01)
    assert "noisier than backprop's" in prose.notice_lines(None)[-1]
    assert "Backpropagation still reaches the picked value" in lines[2]


def test_the_not_trained_note_says_what_to_do():
    assert prose.not_trained_note((3, 4, 100), (0, 10, 600), True) == (
        "Seed 3, 4 items, 100 steps have not been trained yet: press **Retrain** to train "
        "them (a few seconds). Shown meanwhile: seed 0, 10 items, 600 steps."
    )
    assert "only shows its shipped runs" in prose.not_trained_note((3, 4, 100), (0, 10, 600), False)


def test_the_value_caption_and_the_gumbel_texts():
    text = prose.value_caption(1.0, [2.4, 1.111], "A", [3.0, 0.5])
    assert text.endswith(
        "The soft output is now (2.40, 1.11); hard attention returns A = (3.00, 0.50)."
    )
    assert "(at the mean too: the scores tie)" in prose.value_caption(
        1.0, [0, 0], "A", [1, 1], True
    )
    assert "(at the hard pick)" in text
    assert prose.variance_reading(8.53, 1.23).startswith(
        "With the same weights, REINFORCE's estimates vary 8.5 times as much as backprop's"
    )
    assert "soft y: 1.2 times backprop's" in prose.variance_reading(8.53, 1.23)
    assert prose.gumbel_title(True, 0.5) == "Straight-through, τ = 0.5: one-hot forward"
    assert prose.gumbel_title(False, 2.0) == "y = softmax((s/T + g) / τ), τ = 2"
    assert "one-hot on **B**" in prose.gumbel_caption(True, "B")
    assert "(here **B**)" in prose.gumbel_caption(False, "B")


def test_the_stated_per_degree_number_is_the_per_radian_one_converted():
    """The old page said "gradient −11.290" (per radian); the page now says −0.1970 per degree."""
    gradients = sweep_gradients(Preset.FOUR.scene, 1, [30.0], 2.0, 1.0)
    assert gradients.soft_grad[0] * 180 / math.pi == pytest.approx(-11.290, abs=5e-4)
    assert f"{gradients.soft_grad[0]:+.4f}" == "-0.1970"
