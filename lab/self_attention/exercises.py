"""The step-by-step page's exercises, built from the numbers on its screen.

Each answer is computed here from the same :class:`SelfAttentionSteps` the
page draws, so it follows the sentence, ``d``, the seed and the positions
toggle; nothing is typed in by hand.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from lab.attention import entropy
from lab.exercises import ChoiceAnswer, Exercise, NumberAnswer
from lab.self_attention.compute import (
    SelfAttentionConfig,
    SelfAttentionSteps,
    self_attention_steps,
)
from lab.text import escape_markdown, position_labels

REPEAT_EXAMPLE = ("the", "cat", "saw", "the", "dog")  # the seeds' repeated-word example


def first_repeat(tokens: tuple[str, ...]) -> tuple[int, int] | None:
    """Positions of the first word that occurs twice (case-insensitive), or ``None``."""
    seen: dict[str, int] = {}
    for position, token in enumerate(tokens):
        word = token.lower()
        if word in seen:
            return seen[word], position
        seen[word] = position
    return None


def page_exercises(steps: SelfAttentionSteps, config: SelfAttentionConfig) -> list[Exercise]:
    """The exercises on the page's current sentence and settings (four; three for one token)."""
    tokens = steps.tokens
    labels = position_labels(tokens)
    d = steps.q.shape[-1]

    spreads = entropy(steps.weights, axis=-1)  # (L,) nats; the most even row has the most
    evenest = int(np.argmax(spreads))

    by_hand = float(steps.output[0, 0])
    terms = " + ".join(
        f"{weight:.3f} × {value:.3f}"
        for weight, value in zip(steps.weights[0], steps.v[:, 0], strict=True)
    )

    repeat = first_repeat(tokens)
    sentence = tokens if repeat is not None else REPEAT_EXAMPLE
    first, second = repeat if repeat is not None else first_repeat(REPEAT_EXAMPLE)
    with_positions = self_attention_steps(sentence, replace(config, positional=True))
    gap = float(np.max(np.abs(with_positions.weights[first] - with_positions.weights[second])))
    word = escape_markdown(sentence[first])
    instruction = (
        ""
        if repeat is not None
        else "Type the sentence *the cat saw the dog* (a word that occurs twice). "
    )

    items = [
        Exercise(
            key="scale",
            question=(
                "Every scaled score is the raw score divided by the same number. Compare a "
                "cell of the two score heatmaps in section 3: what is that number for the "
                "*d* on screen? (two decimals)"
            ),
            answer=NumberAnswer(value=math.sqrt(d), tolerance=0.01, minimum=0),
            hint="Pick a large cell and divide the raw score by the scaled one, or read the "
            "equation at the top of the page.",
            explanation=(
                f"The scaled scores are Q Kᵀ / √d, and √{d} = {math.sqrt(d):.3f}. Dividing "
                "by √d keeps the spread of the scores near that of one product of "
                "unit-size numbers, whatever *d* is (the *Why scale by √d* page shows why)."
            ),
        ),
        Exercise(
            key="by_hand",
            question=(
                f"In section 5, pick the query **{escape_markdown(labels[0])}**. Its table "
                "lists the weights and the first entry of every value row. Compute the "
                "first entry of its output row, Σⱼ wⱼ · vⱼ, to two decimals."
            ),
            answer=NumberAnswer(value=by_hand, tolerance=0.01),
            hint="Multiply each weight by the value entry on the same line, then add the "
            "products up.",
            explanation=f"{terms} = **{by_hand:.3f}**, the first entry of output row 0.",
        ),
        Exercise(
            key="positions",
            question=(
                f"{instruction}Switch **Add positions** on. Are the two weight rows of "
                f"*{word}* (positions {first} and {second}) still identical?"
            ),
            answer=ChoiceAnswer(
                options=("Yes, identical", "No, they differ"), correct=int(gap > 1e-12)
            ),
            hint="Without positions a word's row depends only on the word. What does adding "
            "a position vector change?",
            explanation=(
                "Without positions the two copies have the same vector, so the same query, "
                "key and value, and identical rows everywhere: attention alone cannot tell "
                f"them apart. Adding a different position vector to each makes them differ: "
                f"their weight rows now differ by up to {gap:.3f}."
            ),
        ),
    ]
    if len(tokens) > 1:  # with one token there is one row of weights and nothing to compare
        items.insert(
            1,
            Exercise(
                key="evenest",
                question=(
                    "Which query spreads its weight most evenly over the keys? Read the rows "
                    "of the weights heatmap in section 4."
                ),
                answer=ChoiceAnswer(options=tuple(labels), correct=evenest),
                hint="An even row has pale, similar cells; a peaked row has one dark cell. "
                "Similar scores in section 3 give similar weights.",
                explanation=(
                    f"Row **{escape_markdown(labels[evenest])}** has the highest entropy, "
                    f"{spreads[evenest]:.3f} nats (a perfectly even row over {len(tokens)} keys "
                    f"would have log {len(tokens)} = {math.log(len(tokens)):.3f}). Its scaled "
                    "scores lie closest together, and softmax turns close scores into close weights."
                ),
            ),
        )
    return items
