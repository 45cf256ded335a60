"""The multi-head page's exercises, built from the numbers its screen shows.

Every answer is computed here: from the hand-set heads on the sentence an
exercise names (or on the learner's own sentence when it has what the
exercise needs), and from the trained model on screen (shipped or
retrained), so the answers follow the sentence, the model and the seed.
"""

from __future__ import annotations

import numpy as np

from lab.exercises import ChoiceAnswer, Exercise, NumberAnswer
from lab.multi_head.hand_heads import hand_model
from lab.multi_head.head_patterns import PATTERN_LABELS, SPECIALISED_AT, Pattern
from lab.multi_head.prose import ABLATION_SECTION, PATTERNS_SECTION, jobs_done, section_number
from lab.multi_head.tiny_transformer import Job, TinyTrainConfig, TrainedModel
from lab.multi_head.toy_language import EXAMPLES, toy_tokens
from lab.multi_head.views import (
    OWN_SENTENCE,
    Heads,
    ablate,
    ambiguous_pronoun,
    answer_probabilities,
    best_head,
    hand_head_view,
    head_label,
    specialised_heads,
    trained_head_labels,
)
from lab.text import escape_markdown

FIRST_EXAMPLE = toy_tokens(EXAMPLES[0]).tokens  # "the girl sat on the mat because she was tired ."
AMBIGUOUS_EXAMPLE = toy_tokens(EXAMPLES[-1]).tokens  # "the cat sat on the mat because it ..."
REPEAT_EXAMPLE = ("the", "dog", "saw", "the", "dog")  # the Try-this sentence with a repeat
MEANING = {AMBIGUOUS_EXAMPLE: " (a mat does not get tired)"}  # what settles a known sentence
RETRAIN_SEED = 4  # a seed whose model does its jobs with no head above the mark
EVEN_SPLIT = 1.5  # the larger share is under 1.5x the smaller: "split about evenly"


def _hand_head(pattern: Pattern) -> int:
    return [head.pattern for head in hand_model().heads].index(pattern)


def _moves(before: float, after: float) -> str:
    """How a probability changed, in words: "falls from 1.00 to 0.00"."""
    if after < before - 0.05:
        return f"falls from {before:.2f} to {after:.2f}"
    if after > before + 0.05:
        return f"rises from {before:.2f} to {after:.2f}"
    return f"stays at {after:.2f} (from {before:.2f})"


def _ambiguous(tokens: tuple[str, ...]) -> Exercise:
    """Where the pronoun → noun head looks when two nouns agree with the pronoun."""
    found = ambiguous_pronoun(tokens)
    sentence = tokens if found else AMBIGUOUS_EXAMPLE
    pronoun, nouns = found or ambiguous_pronoun(AMBIGUOUS_EXAMPLE)  # type: ignore[misc]
    nouns = nouns[:3]
    row = hand_head_view(sentence).head_weights[_hand_head(Pattern.ANTECEDENT), pronoun]
    shares = row[list(nouns)]
    words = [f"*{escape_markdown(sentence[noun])}*" for noun in nouns]
    options = (
        *(f"Mostly on {word}" for word in words),
        "Split about evenly between " + " and ".join(words),
        "Mostly on the pronoun itself",
    )
    order = np.argsort(shares)[::-1]
    if shares.sum() < 0.5:
        correct = len(options) - 1
    elif shares[order[0]] < EVEN_SPLIT * shares[order[1]]:
        correct = len(nouns)
    else:
        correct = int(order[0])
    said = escape_markdown(sentence[pronoun])
    where = (
        ""
        if found
        else "Choose *The cat sat on the mat because it was tired.* in **Sentence**, with "
        f"**Heads** on *{Heads.HAND.label}*. "
    )
    spread = ", ".join(f"{share:.3f} on {word}" for share, word in zip(shares, words, strict=True))
    return Exercise(
        key="ambiguous",
        question=f"{where}In the *pronoun → noun* heatmap, where does the row of *{said}* "
        "put its weight?",
        answer=ChoiceAnswer(options=options, correct=correct),
        hint="Find the row of the pronoun and look for its dark cells. Which features does "
        "this head's query and key read?",
        explanation=f"The row of *{said}* puts {spread}. The head's query says only *I am "
        f"{said}*, and every noun that agrees with *{said}* answers with the same score "
        "(β = 10), so the nouns tie and softmax splits the weight between them. Word types "
        f"cannot settle it: people use meaning{MEANING.get(sentence, '')}, which no feature "
        "of this head holds.",
    )


def _same_word() -> Exercise:
    """Which hand-set head joins the two copies of *dog*, and what their rows look like."""
    weights = hand_head_view(REPEAT_EXAMPLE).head_weights  # (H, L, L)
    first, second = 1, 4  # the two "dog"
    both_ways = np.minimum(weights[:, first, second], weights[:, second, first])  # (H,)
    head = int(np.argmax(both_ways))
    names = hand_model().names
    return Exercise(
        key="same_word",
        question=f"Choose *{OWN_SENTENCE}* in **Sentence**, type *the dog saw the dog* and "
        f"keep **Heads** on *{Heads.HAND.label}*. Which head's map sends each *dog* to the "
        "other *dog*?",
        answer=ChoiceAnswer(options=names, correct=head),
        hint="Look at the rows of the two *dog* in each of the five heatmaps: which map has "
        "a dark cell off the diagonal in both rows, in the other *dog*'s column?",
        explanation=f"*{names[head]}*: row 1 (*dog*) puts {weights[head, first, second]:.3f} "
        f"on position 4 and row 4 puts {weights[head, second, first]:.3f} on position 1. The "
        "two rows mirror each other, each pointing at the other copy, because a position "
        "term takes a word's match with itself back down; the two *the* rows do the same.",
    )


def _previous_head(model: TrainedModel) -> Exercise:
    """Which trained head is the previous-token head; layer 2 against layer 1."""
    names = trained_head_labels(model)
    layer, head = best_head(model, Pattern.PREVIOUS)
    column = list(Pattern).index(Pattern.PREVIOUS)
    five = model.scores[..., : len(Pattern) - 1]  # (N, H, 5): "itself" does not count
    layer_best = [float(np.nanmax(five[n])) for n in range(model.config.num_layers)]
    comparison = " and ".join(f"layer {n + 1} {value:.2f}" for n, value in enumerate(layer_best))
    blurrier = (
        "the second layer's heads are blurrier"
        if layer_best[-1] < layer_best[0]
        else "here the second layer's heads are as sharp as the first's"
    )
    return Exercise(
        key="previous_head",
        question=f"Choose **Heads**: *{Heads.LAYER_1.label}* and read the pattern table in "
        f"section {section_number(PATTERNS_SECTION)}. Which head of the trained model is its "
        "previous-token head (the highest "
        "score in the *previous* column)?",
        answer=ChoiceAnswer(options=names, correct=layer * model.config.num_heads + head),
        hint="The table has one row per head of both layers; compare the numbers in the "
        "*previous* column.",
        explanation=f"**{head_label(layer, head)}** scores "
        f"{model.scores[layer, head, column]:.2f} on *previous*: on average over the held-out "
        "sentences, that share of its weight lands on the word just before. The best score on any of the five patterns "
        f"(*itself* left out) is {comparison}: {blurrier}.",
    )


def _knockout(model: TrainedModel) -> Exercise:
    """Switch the previous-token head off: the answer at *girl* falls, at *on* it survives."""
    pair = best_head(model, Pattern.PREVIOUS)
    name = head_label(*pair)
    girl, on = FIRST_EXAMPLE.index("girl"), FIRST_EXAMPLE.index("on")
    at_girl, at_on = (
        answer_probabilities(
            ablate(model, FIRST_EXAMPLE, Job.PREVIOUS, word, {pair}), FIRST_EXAMPLE
        )
        for word in (girl, on)
    )
    return Exercise(
        key="knockout",
        question=f"In section {section_number(ABLATION_SECTION)}, with the first example sentence "
        "(*The girl sat on the mat because she was tired.*), pick the word *girl* and the "
        f"job *{Job.PREVIOUS.label}*, and switch the previous-token head off (the head of "
        "exercise 3). Then pick the word *on*: with that head still off, what probability "
        "does the model give *sat*? (two decimals)",
        answer=NumberAnswer(value=at_on[1], tolerance=0.01, minimum=0.0, maximum=1.0),
        hint="The previous-token head has the highest *previous* score in the pattern table. "
        "After picking *on*, read the right-hand bar chart (the model with that head off).",
        explanation=f"Without {name}, P(*the*) at *girl* {_moves(*at_girl)}, while P(*sat*) "
        f"at *on* {_moves(*at_on)}. In the toy grammar *on* only ever follows *sat*, so the "
        "word *on* itself gives the answer away"
        + (
            ": the model does not need the head that looks one word back there."
            if at_on[1] >= 0.5
            else "; this model still loses it without the head."
        ),
    )


def _retrain(model: TrainedModel, can_train: bool) -> Exercise:
    """How many heads specialise: in a model retrained with another seed, or in the shipped one."""
    found = specialised_heads(model)
    count = len(found)
    listed = ", ".join(
        f"{head_label(*pair)} ({PATTERN_LABELS[pattern]})" for pair, pattern in found.items()
    )
    total = model.config.num_layers * model.config.num_heads
    scored = {
        name.removesuffix("_accuracy"): value
        for name, value in model.metrics.items()
        if name.endswith("_accuracy")
    }
    accuracies = ", ".join(f"{name} {value:.0%}" for name, value in scored.items())
    if not jobs_done(model):
        verdict = "Not every job is learned yet: more steps would help."
    elif count == 0:
        verdict = (
            "It does every job although no head reaches the mark: the work is shared "
            "between heads, so a head's map alone does not tell what the model relies on "
            f"(the ablation in section {section_number(ABLATION_SECTION)} does)."
        )
    else:
        verdict = (
            f"It does every job. Retrain with seed {RETRAIN_SEED} (or another) and compare: "
            "how many heads reach the mark changes from run to run while the jobs stay done."
        )
    run = model.train_config
    shipped = run.seed == TinyTrainConfig().seed and run.steps == TinyTrainConfig().steps
    which = (
        f"the shipped model (seed {run.seed})"
        if shipped
        else f"the model retrained with seed {run.seed}, {run.steps} steps"
    )
    ask = (
        f"Choose **Heads**: *{Heads.LAYER_1.label}*; in section {section_number(PATTERNS_SECTION)}, set "
        f"**Seed** to {RETRAIN_SEED} and press **Retrain** (about 15 s). "
        f"How many of the {total} heads of the new model"
        if can_train
        else f"How many of the {total} heads of the trained model"
    )
    return Exercise(
        key="retrain",
        question=f"{ask} score at least {SPECIALISED_AT} on one of the five patterns "
        "(*itself* does not count)?",
        answer=NumberAnswer(value=float(count), tolerance=0.5, minimum=0, maximum=total),
        hint="The line under the pattern table lists the heads that reach the mark; the "
        "numbers above the table give the held-out accuracy of each job.",
        explanation=f"On screen is {which}: {count} head{'s' * (count != 1)} reach "
        f"{SPECIALISED_AT}{': ' + listed if listed else ''}. Its held-out accuracies are "
        f"{accuracies}. {verdict}",
    )


def page_exercises(
    tokens: tuple[str, ...], model: TrainedModel | None, *, can_train: bool
) -> list[Exercise]:
    """The page's exercises for its sentence and model (two without a trained model)."""
    items = [_ambiguous(tokens), _same_word()]
    if model is not None:
        items += [_previous_head(model), _knockout(model), _retrain(model, can_train)]
    return items
