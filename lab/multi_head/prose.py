"""The multi-head page's longer text, as data and as sentences built from the data.

Every sentence here that states a number, a direction or what a head does is
built from the same objects the page draws, so it stays true for any
sentence, layer or retrained model; the tests check the claims against the
data. Markdown throughout; tokens are escaped before they are quoted.
"""

from __future__ import annotations

import math

import numpy as np

from lab.multi_head.charts import head_color_name
from lab.multi_head.hand_heads import HandHeadsConfig, hand_model
from lab.multi_head.head_patterns import SPECIALISED_AT, Pattern
from lab.multi_head.tiny_transformer import Job, TinyTrainConfig, TrainedModel
from lab.multi_head.views import (
    Ablation,
    HeadView,
    answer_probabilities,
    best_head,
    double_duty,
    hand_held_out_scores,
    head_label,
    no_answer_reason,
    specialised_heads,
)
from lab.text import escape_markdown

# The page's numbered sections, in order (the per-head heatmaps come first, unnumbered).
HEAD_VIEW_SECTION = "All heads in one picture"
PATTERNS_SECTION = "Where the patterns come from"
CONCAT_SECTION = "Concatenate, then mix with W_o"
ABLATION_SECTION = "Ablation: switch heads off"
SECTIONS = (HEAD_VIEW_SECTION, PATTERNS_SECTION, CONCAT_SECTION, ABLATION_SECTION)


def section_number(title: str) -> int:
    """The number a section has on the page: :data:`PATTERNS_SECTION` -> 2."""
    return SECTIONS.index(title) + 1


def heading(title: str) -> str:
    """A section's header: ``"2 · Where the patterns come from"``."""
    return f"{section_number(title)} · {title}"


NOUN_CLASSES = (
    "Nouns agree with one pronoun each: boy, man → he; girl, woman → she; "
    "cat, dog, bird, ball, box, mat → it; kids, cats, dogs → they."
)
HEAD_VIEW_HOW = (
    "All heads at once, as in the BERT visualisations: each coloured line joins a query word "
    "(left) to a key word (right), as opaque as the weight, and the first word is at the "
    "top. **Hover a word** on the left to see only where it looks, or on the right to see "
    "who looks at it. Pick one head above to draw it alone."
)
LEVEL_LINES = (
    "A level line is a head resting on the word itself where its rule finds nothing: the "
    "first word in the previous-token head, the last word in the next-token head, a word "
    "with no copy in the same-word head, every word but a pronoun with an agreeing noun in "
    "the pronoun → noun head."
)
FEATURES_TEXT = (
    "Every token is a row of {count} features, each 0 or 1: its position, word type, noun "
    "class, a constant *bias* and the word itself. Below, only the rows of W_q and W_k that "
    "this sentence switches on, and the columns both use."
)
NOT_EXPLANATIONS = (
    "Attention maps are not explanations: a head can put its weight on a word and still not "
    "matter for the answer (another head may carry the same information, or its value may be "
    "ignored downstream), so test a story about a head by switching it off."
)
RETRAIN_INTRO = (
    "**Retrain the model.** Same data and jobs, a new run of up to 3000 steps (the shipped "
    "run of {steps} steps took {seconds:.0f} s; a busy server takes longer). With another "
    "seed the jobs may end up shared between heads: retrain and compare the table."
)
JOBS_DONE = 0.95  # a job counts as learned at this held-out accuracy


# The head view puts the first token at the top, queries on the left and keys
# on the right: a line to an earlier key rises, a line to a later key drops.
LINE_SHAPES: dict[Pattern, str] = {
    Pattern.PREVIOUS: "rise one row, from each word to the word before it",
    Pattern.NEXT: "drop one row, from each word to the word after it",
    Pattern.FIRST: "all run to the first word",
    Pattern.SAME_WORD: "join the copies of a repeated word",
    Pattern.ANTECEDENT: "leave a pronoun for its noun",
    Pattern.SELF: "run level, from each word to itself",
}


def line_sentences(view: HeadView, patterns: dict[int, Pattern]) -> list[str]:
    """One clause per head in ``patterns``: its colour, name, and which way its lines run.

    ``"blue lines (previous token) rise one row, from each word to the word
    before it"``. The colours are those of :func:`lab.multi_head.charts.head_color`.
    """
    return [
        f"{head_color_name(head)} lines ({view.names[head]}) {LINE_SHAPES[pattern]}"
        for head, pattern in sorted(patterns.items())
    ]


def quoted(word: str) -> str:
    return f"“{escape_markdown(word)}”"


def ambiguity_note(tokens: tuple[str, ...], pronoun: int, nouns: tuple[int, ...]) -> str:
    """Why a pronoun with several agreeing nouns splits the pronoun head's weight."""
    return (
        f"{quoted(tokens[pronoun])} agrees with "
        + " and ".join(quoted(tokens[noun]) for noun in nouns)
        + ": word types alone cannot tell which one it means (people use meaning, which "
        "word types do not hold), so a head built from word types splits its weight."
    )


def heatmaps_caption(view: HeadView, layer: int | None, eval_sentences: int) -> str:
    """What section 1 shows and what the line under each map means."""
    what = (
        "five heads whose W_q and W_k were set by hand, one pattern each"
        if layer is None
        else f"the {view.num_heads} heads of layer {layer + 1} of the trained model"
    )
    return (
        f"The same {len(view.tokens)} tokens through {what}: each head h has its own "
        "Q_h = X W_q^(h), K_h = X W_k^(h), V_h = X W_v^(h). Queries are rows, keys columns. "
        "Under each map: the pattern the head follows most and its score (the share of "
        f"weight on the pattern's target) on {eval_sentences} held-out sentences and on "
        "this one."
    )


def head_view_text(view: HeadView, hand_set: bool) -> str:
    """Which way each head's lines run, from the data (section 2)."""
    if hand_set:
        patterns = {index: head.pattern for index, head in enumerate(hand_model().heads)}
        return (
            "With the hand-set heads the colours separate cleanly: "
            + "; ".join(line_sentences(view, patterns))
            + ". "
            + LEVEL_LINES
        )
    found = view.specialised()
    if not found:
        return (
            f"No head of this layer scores {SPECIALISED_AT} or more on one pattern, so no "
            "colour keeps to one direction."
        )
    return (
        f"A head that scores {SPECIALISED_AT} or more on a pattern puts, on average over the "
        "held-out sentences, that share of its weight where the pattern says: "
        + "; ".join(line_sentences(view, found))
        + "."
    )


def scores_text(config: HandHeadsConfig, length: int) -> str:
    """How to read the hand-set head's score map (section 3)."""
    return (
        r"Read a score as *row feature meets column*: $q_i \cdot k_j$ adds up, over the "
        "columns, the query's entry times the key's entry. A query lights up columns with "
        f"√d_k = {math.sqrt(config.key_size):.0f} (each head's queries and keys have "
        f"d_k = {config.key_size} entries); a key answers with the score it should get after "
        f"the division by √d_k. So every cell of the {length} × {length} map on the left is "
        f"β = {config.strength:g} (the pattern's target), α = {config.fallback:g} (the token "
        "itself) or 0."
    )


def trained_intro(model: TrainedModel, retrained: bool) -> str:
    """What the trained model is and how well it does its jobs (section 3)."""
    config = model.train_config
    name = (
        f"retrained here, seed {config.seed}, {config.steps} steps"
        if retrained
        else f"the shipped checkpoint, seed {config.seed}"
    )
    accuracies = ", ".join(
        f"{key.removesuffix('_accuracy')} {value:.0%}"
        for key, value in model.metrics.items()
        if key.endswith("_accuracy")
    )
    return (
        f"This model ({name}) was never told which word to look at. It was trained on "
        f"{config.train_sentences} grammar sentences for three jobs at every word: **name the "
        "word before it, name the word after it, and, at a pronoun, name the noun it refers "
        "to**; each job has its own read-out from the last layer. The patterns are what "
        f"training found useful for these jobs. On held-out sentences {accuracies} of the "
        "answers are right."
    )


def jobs_done(model: TrainedModel) -> bool:
    """Whether every job reaches ``JOBS_DONE`` held-out accuracy."""
    scored = [value for key, value in model.metrics.items() if key.endswith("_accuracy")]
    return bool(scored) and min(scored) >= JOBS_DONE


def none_specialised_text(model: TrainedModel) -> str:
    """What it means that no head reaches the mark, given how well the jobs are done."""
    if jobs_done(model):
        return (
            f"No head scores {SPECIALISED_AT} or more on a single pattern, yet every job is "
            "done: the work is shared between heads."
        )
    return (
        f"No head scores {SPECIALISED_AT} or more on a single pattern, and not every job is "
        "learned yet: try more steps."
    )


def specialised_text(model: TrainedModel) -> str | None:
    """The heads that reach the mark, or ``None`` when none does."""
    found = specialised_heads(model)
    if not found:
        return None
    named = ", ".join(f"{head_label(*pair)} ({pattern.label})" for pair, pattern in found.items())
    return f"Score ≥ {SPECIALISED_AT}: {named}."


def scores_note(model: TrainedModel) -> str:
    """What a score means, and how the layers compare (section 3)."""
    best = [float(np.nanmax(model.scores[n, :, :-1])) for n in range(model.config.num_layers)]
    blurrier = (
        f" Layer 2's heads are blurrier (best score {best[1]:.2f}, against {best[0]:.2f} in "
        "layer 1): one reading is that once layer 1 has copied each word's neighbours in, "
        "layer 2 has less left to look up."
        if len(best) > 1 and best[1] < best[0]
        else ""
    )
    return (
        "A score is the share of a head's weight on the pattern's target, averaged over every "
        "row where the pattern applies (for *pronoun → noun*, only the pronoun rows). A head "
        f"spreading evenly over 10 words would score about 0.1.{blurrier}"
    )


def concat_text(view: HeadView, trained: bool) -> str:
    """How the heads' outputs become the layer's output (section 4)."""
    length, heads = len(view.tokens), view.num_heads
    d_v, d_out = view.head_outputs.shape[-1], view.output.shape[-1]
    if trained:
        return (
            f"Each head hands back an {length} × {d_v} matrix (its weights times its own V, "
            f"d_v = {d_v}). Side by side they make the {length} × {heads * d_v} "
            f"concatenation; W_o ({heads * d_v} × {d_out}) mixes every head's columns into "
            f"each output column, giving {length} × {d_out}, which is added to the residual "
            "stream."
        )
    return (
        "Each hand-set head's value is the key's word type, so its output row says what "
        f"*kind* of word the head found ({length} × {d_v}). Side by side: {length} × "
        f"{heads * d_v}. Here W_o ({heads * d_v} × {d_out}) is {heads} identity blocks "
        "stacked, so it simply adds the heads' findings type by type; a trained W_o (pick a "
        "trained layer) mixes them in learned proportions."
    )


def no_answer_note(job: Job) -> str:
    return (
        f"No right answer here: {no_answer_reason(job)}. The model still answers (below), "
        "but it was never trained for this case."
    )


def ablation_text(result: Ablation, tokens: tuple[str, ...], names: tuple[str, ...]) -> str:
    """What the model answers with and without the switched-off heads, and who matters."""
    if result.answer is None or result.effects is None or result.looked is None:
        raise ValueError("ablation_text needs a job with a right answer")
    word, target = quoted(tokens[result.position]), quoted(tokens[result.answer])
    before, after = answer_probabilities(result, tokens)
    off = ", ".join(head_label(*pair) for pair in result.off)
    change = (
        f"with {off} off it gives **{after:.2f}**"
        if result.off
        else "switch heads off to see what it depends on"
    )
    watcher, mover = int(np.argmax(result.looked)), int(np.argmin(result.effects))
    looked, effects = result.looked, result.effects
    still = after - effects[mover] < NO_DROP  # no one more head moves the answer
    if still and result.off and before - after >= NO_DROP:
        verdict = (
            f"Switching off {off} took P from {before:.2f} to {after:.2f}; no one more head "
            f"moves it by {NO_DROP} or more."
        )
    elif still:
        verdict = (
            f"No single head matters here: with any one more head off, P stays at "
            f"{effects[mover]:.2f} or more. {names[watcher]} puts the most weight from {word} "
            f"on {target} ({looked[watcher]:.2f}), yet the answer does not depend on it."
        )
    elif watcher == mover:
        verdict = (
            f"Here looking and mattering agree: {names[watcher]} puts the most weight from "
            f"{word} on {target} ({looked[watcher]:.2f}), and switching it off as well hurts "
            f"most (P = {effects[mover]:.2f})."
        )
    else:
        verdict = (
            f"Looking is not mattering: {names[watcher]} puts the most weight from {word} on "
            f"{target} ({looked[watcher]:.2f}), yet without it P = {effects[watcher]:.2f}; the "
            f"biggest drop (to {effects[mover]:.2f}) comes from switching off {names[mover]}."
        )
    return (
        f"At **{escape_markdown(tokens[result.position])}** the model should name {target} "
        f"({result.job.label}). With every head on it gives that answer probability "
        f"**{before:.2f}**; {change}.\n\n{verdict}"
    )


def notice_lines(
    model: TrainedModel | None, without_previous: dict[str, float] | None
) -> list[str]:
    """The page's "What to notice", from the hand-set heads and the model on screen."""
    heads = hand_model().heads
    own = [hand_held_out_scores().score(index, head.pattern) for index, head in enumerate(heads)]
    lines = [
        "Each head is its own W_q, W_k, W_v: the same tokens give different maps.",
        "Concatenation keeps the heads apart; only W_o mixes them.",
    ]
    if model is None:
        return lines
    best = float(np.nanmax(model.scores[..., :-1]))
    sharp = (
        f"The hand-set heads are sharp (each scores at least {min(own):.2f} on its own pattern "
        f"on held-out sentences) because their rules are exact; the best trained head scores "
        f"{best:.2f}"
    )
    both = double_duty(model)
    if both:
        pair, strong = next(iter(both.items()))
        listed = ", ".join(f"{pattern.label} {score:.2f}" for pattern, score in strong)
        sharp += f", and {head_label(*pair)} serves two patterns at once ({listed})"
    lines.insert(1, sharp + ".")
    if without_previous is not None:
        pair = best_head(model, Pattern.PREVIOUS)
        lines.append(
            f"Switching off the previous-token head ({head_label(*pair)}) leaves *"
            f"{Job.PREVIOUS.label}* right at {without_previous['previous_accuracy']:.0%} of "
            f"the held-out words, against {model.metrics['previous_accuracy']:.0%} with every "
            "head on: the other heads cannot fully stand in for it."
        )
    return lines


def retrain_intro(shipped: TrainedModel | None) -> str:
    seconds = shipped.metrics.get("train_seconds", 15.0) if shipped else 15.0
    return RETRAIN_INTRO.format(seconds=seconds, steps=TinyTrainConfig().steps)


NO_DROP = 0.05  # a probability that falls by less than this has not really moved
