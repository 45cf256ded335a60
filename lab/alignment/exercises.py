"""The alignment page's exercises, built from the numbers on its screen.

Each one follows the sentence and the scoring function the learner chose;
an exercise whose data the screen does not show (a typed sentence with no
true alignment, a model that produced a wrong word early) is left out.
"""

from __future__ import annotations

import numpy as np

from lab.alignment.grammar import SourceReading
from lab.alignment.model import MisleadingCase, Scoring, SentenceView
from lab.alignment.sweep import SeedSpread
from lab.exercises import ChoiceAnswer, Exercise, NumberAnswer
from lab.text import escape_markdown

WEAKEST_OPTIONS = 4  # words offered in the "least weight" question
CLEAR_GAP = 0.01  # the least-weight word must beat the next one by this much to be a fair question


def truth_labels(
    target: tuple[str, ...], source: tuple[str, ...], alignment: tuple[int, ...]
) -> list[str]:
    """``"kano ← dog"`` for every output word: the word and the source word it translates.

    Args:
        target: the ``W`` output words (no ``<eos>``).
        source: the source words.
        alignment: at least ``W`` true source positions.
    """
    return [f"{word} ← {source[alignment[t]]}" for t, word in enumerate(target)]


def _verb_exercise(reading: SourceReading, view: SentenceView, scoring: Scoring) -> Exercise | None:
    pair = reading.pair
    if pair is None or view.outline is None:
        return None
    last = len(pair.target) - 1  # the verb always ends the translation
    if last >= view.outline.shape[0] or not view.outline[last].any():
        return None  # the model went wrong before the verb: the row has no true source word
    verb = pair.alignment[last]
    weight = float(view.attention[last, verb])
    strongest = int(np.argmax(view.attention[last]))
    elsewhere = (
        "That is its largest weight: the map points at the verb."
        if strongest == verb
        else f"Its largest weight, {view.attention[last, strongest]:.3f}, is on "
        f"*{escape_markdown(view.source_labels[strongest])}*."
    )
    return Exercise(
        key="verb",
        question=(
            f"The verb moves to the end: *{escape_markdown(pair.target[last])}* translates "
            f"*{escape_markdown(pair.source[verb])}*. In the alignment heatmap "
            f"of the {scoring.label} model, how much weight does that output row put on "
            f"*{escape_markdown(pair.source[verb])}*? (two decimals)"
        ),
        answer=NumberAnswer(value=weight, tolerance=0.01, minimum=0, maximum=1),
        hint=f"Find the row *{escape_markdown(pair.target[last])}* (the last one before "
        "`<eos>`) and its outlined cell; hover it if the cell shows no number.",
        explanation=(
            f"{weight:.3f} of the row's weight sits on *{escape_markdown(pair.source[verb])}*, "
            f"source word {verb + 1} of {len(pair.source)}, while the row is output word "
            f"{last + 1}: the model looked back across the sentence to find the verb. " + elsewhere
        ),
    )


def _weakest_exercise(
    reading: SourceReading, view: SentenceView, scoring: Scoring
) -> Exercise | None:
    pair = reading.pair
    if pair is None or view.on_truth is None or len(view.on_truth) < 2:
        return None
    shares = np.asarray(view.on_truth)
    order = np.argsort(shares, kind="stable")
    if shares[order[1]] - shares[order[0]] < CLEAR_GAP:
        return None  # two words too close to tell apart on the chart
    offered = sorted(int(t) for t in order[:WEAKEST_OPTIONS])
    labels = truth_labels(pair.target, pair.source, pair.alignment)
    options = tuple(f"word {t + 1}: {labels[t]}" for t in offered)
    weakest = int(order[0])
    listed = ", ".join(f"{labels[t]} {shares[t]:.2f}" for t in offered)
    return Exercise(
        key="weakest",
        question=(
            f"In the bar chart of weight on the true source word, which output word of the "
            f"{scoring.label} model puts the least weight on the source word it translates?"
        ),
        answer=ChoiceAnswer(options=options, correct=offered.index(weakest)),
        hint=f"Read the {scoring.label} bars (its colour is in the legend) and find the shortest.",
        explanation=(
            f"Word {weakest + 1}, {labels[weakest]}, with {shares[weakest]:.3f}. The four "
            f"shortest bars: {listed}. Yet the model produced every word right: a low bar "
            "does not mean a wrong word."
            if view.matches_reference
            else f"Word {weakest + 1}, {labels[weakest]}, with {shares[weakest]:.3f}. "
            f"The four shortest bars: {listed}."
        ),
    )


def _seed_exercise(spread: SeedSpread) -> Exercise:
    return Exercise(
        key="seeds",
        question=(
            f"Section 2's seed table: the {spread.seeds} {spread.scoring.label} models all "
            f"reach a token accuracy of at least {spread.accuracy_low:.3f}. By how much does "
            "their alignment score vary, largest minus smallest? (two decimals)"
        ),
        answer=NumberAnswer(value=spread.alignment_range, tolerance=0.01, minimum=0, maximum=1),
        hint="Take the largest and the smallest alignment score of that scoring function.",
        explanation=(
            f"{spread.alignment_high:.3f} − {spread.alignment_low:.3f} = "
            f"{spread.alignment_range:.3f} (lowest: seed {spread.lowest_seed}), while the "
            f"accuracy moves by {spread.accuracy_range:.3f} only. Models that translate "
            "equally well can spread their attention differently: accuracy alone does not "
            "fix the map."
        ),
    )


def _misleading_exercise(case: MisleadingCase, scoring: Scoring) -> Exercise:
    step = case.step
    tokens = case.pair.source_tokens
    candidates = [step.top_position, step.true_position]
    candidates += [
        int(j) for j in np.argsort(-case.attention[step.step], kind="stable") if j not in candidates
    ]
    offered = sorted(candidates[: min(4, len(tokens))])
    options = tuple(f"word {j + 1}: {tokens[j]}" for j in offered)
    word = case.pair.target_tokens[step.step]
    return Exercise(
        key="misleading",
        question=(
            f"Section 3, the {scoring.label} model's map that looks wrong: at output word "
            f"{step.step + 1}, *{escape_markdown(word)}*, the model produced the right word. "
            "Which source word got the largest weight at that step?"
        ),
        answer=ChoiceAnswer(options=options, correct=offered.index(step.top_position)),
        hint="Follow the row marked with the dashed outline; the orange outline is the true "
        "source word.",
        explanation=(
            f"Word {step.top_position + 1}, *{escape_markdown(case.attended_word)}*, with "
            f"{step.top_weight:.3f}; the word *{escape_markdown(word)}* translates "
            f"*{escape_markdown(case.true_word)}*, which got {step.on_truth:.3f}. The word "
            "came out right all the same: each encoder state is computed by a bidirectional "
            "GRU from the whole sentence, and the decoder carries its own state forward, so "
            "a weight says which state was averaged in, not which word was used."
        ),
    )


def page_exercises(
    reading: SourceReading,
    view: SentenceView | None,
    scoring: Scoring,
    spread: SeedSpread,
    case: MisleadingCase | None,
) -> list[Exercise]:
    """Three or four exercises on the page's sentence, scoring function, seeds and example.

    Args:
        reading: the sentence as read (its true alignment, if the grammar parses it).
        view: the chosen model's translation of it (``None`` if it cannot be translated).
        scoring: the scoring function on screen.
        spread: the seed sweep of that scoring function.
        case: the chosen model's "map looks wrong, output right" example, if it has one.
    """
    items = []
    if view is not None:
        items += [_verb_exercise(reading, view, scoring), _weakest_exercise(reading, view, scoring)]
    items.append(_seed_exercise(spread))
    if case is not None:
        items.append(_misleading_exercise(case, scoring))
    return [item for item in items if item is not None]
