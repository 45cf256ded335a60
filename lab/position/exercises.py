"""The order-and-position page's exercises, built from the numbers on its screen."""

from __future__ import annotations

import numpy as np

from lab.exercises import ChoiceAnswer, Exercise, NumberAnswer
from lab.position.order import PermutationCheck, PositionEffect
from lab.position.rotary_embedding import RotaryScoreGrid
from lab.text import escape_markdown

SAME_ROW = 1e-12  # rows closer than this count as identical


def page_exercises(
    check: PermutationCheck,
    similarity: np.ndarray,
    grid: RotaryScoreGrid,
    effect: PositionEffect,
) -> list[Exercise]:
    """Four exercises on the page's current sentence, reordering and encodings."""
    items = []
    if not check.is_identity:
        gap = check.with_positions.gap
        items.append(
            Exercise(
                key="gap",
                question=(
                    "Section 1 reorders the sentence. With positions added, how far is "
                    "attn(PX + PE) from P attn(X + PE), the largest absolute difference "
                    "between the two output matrices? (two decimals)"
                ),
                answer=NumberAnswer(value=gap, tolerance=0.01, minimum=0),
                hint="Read the gap that section 1 reports for *with positions*.",
                explanation=(
                    f"The gap is {gap:.3f}. Without positions it is "
                    f"{check.without_positions.gap:.1e}: rounding only, because shuffling "
                    "the words shuffles the queries, keys and values alike. With positions "
                    "the words move but the position vectors stay where they are, so each "
                    "moved word now carries a different position."
                ),
            )
        )
    length = similarity.shape[0]
    first, second = (3, 5) if length > 5 else (0, length - 1)
    value = float(similarity[first, second])
    items.append(
        Exercise(
            key="similarity",
            question=(
                f"In section 2, hover over the PE·PEᵀ heatmap: what is the similarity of "
                f"positions {first} and {second}? (two decimals)"
            ),
            answer=NumberAnswer(value=value, tolerance=0.01),
            hint="Row m, column n of PE·PEᵀ is the dot product of the encodings of "
            "positions m and n.",
            explanation=(
                f"PE[{first}]·PE[{second}] = {value:.3f}. With an even d it equals every "
                f"other pair {abs(second - first)} apart: the dot product of two "
                "sinusoidal encodings depends only on how far apart they are."
            ),
        )
    )
    positions = len(grid.positions)
    if positions >= 6:
        target = (5, 3)
        options = ((2, 0), (3, 5), (5, 5), (0, 2))
        scores = grid.scores
        close = [
            abs(scores[m, n] - scores[target]) < 1e-9 * max(1.0, abs(scores[target]))
            for m, n in options
        ]
        correct = close.index(True) if sum(close) == 1 else 0
        items.append(
            Exercise(
                key="rotary",
                question=(
                    f"In section 3's rotary grid, which cell has the same score as "
                    f"m = {target[0]}, n = {target[1]}?"
                ),
                answer=ChoiceAnswer(
                    options=tuple(f"m = {m}, n = {n}" for m, n in options), correct=correct
                ),
                hint="Rotary scores depend on m and n only through one number.",
                explanation=(
                    f"Both lie on the diagonal m − n = {target[0] - target[1]}, and a rotary "
                    f"score depends on m − n only: {scores[target]:.4f} at ({target[0]}, "
                    f"{target[1]}) and {scores[options[correct]]:.4f} at "
                    f"{options[correct]}."
                ),
            )
        )
    if effect.repeated:
        word = effect.repeated[0]
        items.append(
            Exercise(
                key="repeat",
                question=(
                    f"Section 4: *{escape_markdown(word.word)}* stands at positions "
                    f"{', '.join(str(p) for p in word.positions)}. With positions, what is "
                    "the largest difference between its rows of weights? (two decimals)"
                ),
                answer=NumberAnswer(value=word.weights_gap_with, tolerance=0.01, minimum=0),
                hint="Compare its rows in the right-hand heatmap, key by key.",
                explanation=(
                    f"{word.weights_gap_with:.3f} with positions, and "
                    f"{word.weights_gap_without:.1e} without: without a position the copies "
                    "are the same vector, so they ask the same question of the same keys."
                ),
            )
        )
    return items
