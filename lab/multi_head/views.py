"""What the multi-head page shows, computed from the topic's pieces: no Streamlit here.

The page offers three sets of heads (:class:`Heads`): the five hand-set heads,
or one layer of the trained tiny transformer. For the chosen set,
:func:`hand_head_view` or :func:`trained_head_view` returns a
:class:`HeadView`: every head's weights on the sentence, what the heads hand
to ``W_o``, and their pattern scores. :func:`ablate` switches heads of the
trained model off at one word.

Shapes:
    H   heads of the set shown
    L   tokens (queries; keys are the same tokens)
    Ev  value size per head (d_v on the page)
    V   vocabulary size
    N   layers of the trained model
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import numpy as np

from lab.attention import FloatArray
from lab.checks import check_int
from lab.multi_head.hand_heads import hand_model, hand_pattern_scores, run_hand_heads
from lab.multi_head.head_patterns import (
    SPECIALISED_AT,
    SPECIALISED_PATTERNS,
    Pattern,
    PatternScores,
    pattern_scores,
)
from lab.multi_head.tiny_transformer import (
    JOBS,
    Job,
    TinyTrainConfig,
    TrainedModel,
    as_job,
    attention_to,
    evaluate,
    forward,
    gates_without,
    held_out_sentences,
    job_answer,
    knockout_effects,
)
from lab.multi_head.toy_language import WORD_TYPES, antecedents, encode

OWN_SENTENCE = "Type my own sentence"  # the last option of the sentence menu
DEFAULT_OWN = "The boy saw the cats and they ran away."  # what the sentence box starts with


class Heads(StrEnum):
    """Which heads the page shows: the hand-set ones or one layer of the trained model."""

    HAND = "hand"
    LAYER_1 = "layer 1"
    LAYER_2 = "layer 2"

    @property
    def layer(self) -> int | None:
        """The trained model's layer (0-based), or ``None`` for the hand-set heads."""
        return None if self is Heads.HAND else list(Heads).index(self) - 1

    @property
    def label(self) -> str:
        """The option as the page shows it (and the address holds it)."""
        return "Hand-set" if self is Heads.HAND else f"Trained: {self.value}"


def heads_offered(num_layers: int | None) -> tuple[Heads, ...]:
    """The choices for a trained model of ``num_layers`` layers (``None``: no model)."""
    if num_layers is None:
        return (Heads.HAND,)
    check_int("num_layers", num_layers, minimum=1, maximum=len(Heads) - 1)
    return tuple(Heads)[: num_layers + 1]


def head_label(layer: int, head: int) -> str:
    """A trained head's name on the page: layer 0, head 1 -> ``"L1 H2"``."""
    return f"L{layer + 1} H{head + 1}"


def trained_head_labels(model: TrainedModel) -> tuple[str, ...]:
    """Every trained head's name, layer by layer: ``("L1 H1", ..., "L2 H4")``."""
    config = model.config
    return tuple(
        head_label(layer, head)
        for layer in range(config.num_layers)
        for head in range(config.num_heads)
    )


@dataclass(frozen=True)
class HeadView:
    """One set of heads on one sentence: what sections 1, 2 and 4 of the page draw.

    Attributes:
        tokens: the ``L`` tokens.
        names: the ``H`` heads' names.
        head_weights: ``(H, L, L)``.
        head_outputs: ``(H, L, Ev)`` each head's weights times its values.
        concat: ``(L, H * Ev)`` the head outputs side by side.
        w_o: ``(H * Ev, d_out)``.
        output: ``(L, d_out)`` ``concat @ w_o``.
        held_out: the heads' pattern scores on the held-out sentences.
        here: their pattern scores on this sentence.
        value_labels: names of a head's ``Ev`` value columns, if they have names.
        output_labels: names of the ``d_out`` output columns, if they have names.
    """

    tokens: tuple[str, ...]
    names: tuple[str, ...]
    head_weights: FloatArray
    head_outputs: FloatArray
    concat: FloatArray
    w_o: FloatArray
    output: FloatArray
    held_out: PatternScores
    here: PatternScores
    value_labels: tuple[str, ...] | None
    output_labels: tuple[str, ...] | None

    @property
    def num_heads(self) -> int:
        return len(self.names)

    def concat_labels(self) -> list[str]:
        """Column names of the concatenation: ``"2·noun"`` is head 2's *noun* column."""
        columns = self.value_labels or [str(c) for c in range(self.head_outputs.shape[-1])]
        return [f"{head + 1}·{column}" for head in range(self.num_heads) for column in columns]

    def specialised(self) -> dict[int, Pattern]:
        """Heads whose held-out score on one pattern reaches ``SPECIALISED_AT``."""
        return self.held_out.specialised()


@cache
def hand_held_out_scores() -> PatternScores:
    """The hand-set heads' pattern scores on the shipped model's held-out sentences."""
    return hand_pattern_scores(held_out_sentences(TinyTrainConfig()))


def hand_head_view(tokens: tuple[str, ...]) -> HeadView:
    """The five hand-set heads on ``tokens``."""
    steps = run_hand_heads(tokens)
    types = tuple(str(name) for name in WORD_TYPES)
    return HeadView(
        tokens=tuple(tokens),
        names=hand_model().names,
        head_weights=steps.head_weights,
        head_outputs=steps.head_outputs,
        concat=steps.concat,
        w_o=steps.w_o,
        output=steps.output,
        held_out=hand_held_out_scores(),
        here=pattern_scores([steps.head_weights], [tokens]),
        value_labels=types,
        output_labels=types,
    )


def trained_head_view(model: TrainedModel, tokens: tuple[str, ...], layer: int) -> HeadView:
    """Layer ``layer`` (0-based) of the trained model on ``tokens``."""
    check_int("layer", layer, minimum=0, maximum=model.config.num_layers - 1)
    steps = forward(model.weights, encode(tokens), model.config).layers[layer].attention
    return HeadView(
        tokens=tuple(tokens),
        names=tuple(head_label(layer, head) for head in range(model.config.num_heads)),
        head_weights=steps.head_weights,
        head_outputs=steps.head_outputs,
        concat=steps.concat,
        w_o=steps.w_o,
        output=steps.output,
        held_out=model.layer_scores(layer),
        here=pattern_scores([steps.head_weights], [tokens]),
        value_labels=None,
        output_labels=None,
    )


def ambiguous_pronoun(tokens: tuple[str, ...]) -> tuple[int, tuple[int, ...]] | None:
    """The first pronoun with several agreeing nouns before it, and those nouns; else ``None``."""
    for pronoun, nouns in antecedents(tokens).items():
        if len(nouns) > 1:
            return pronoun, nouns
    return None


# ----------------------------------------------------------------------------
# Switching heads of the trained model off
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ablation:
    """The trained model's answer to one job at one word, with some heads switched off.

    Attributes:
        job: what the model is asked to name.
        position: the word it is asked at.
        answer: position of the right word, or ``None`` where the job has no answer.
        off: the ``(layer, head)`` pairs switched off.
        full: ``(V,)`` the model's distribution with every head on.
        cut: ``(V,)`` with the heads in ``off`` switched off.
        effects: ``(N * H,)`` the right word's probability with each head switched
            off as well as ``off`` (``None`` without an answer).
        looked: ``(N * H,)`` each head's weight from ``position`` on the right
            word (``None`` without an answer).
    """

    job: Job
    position: int
    answer: int | None
    off: tuple[tuple[int, int], ...]
    full: FloatArray
    cut: FloatArray
    effects: FloatArray | None
    looked: FloatArray | None


def default_word(tokens: tuple[str, ...]) -> int:
    """The word the ablation starts at: the first pronoun, else the second word (or the only one)."""
    pronouns = list(antecedents(tokens))
    return pronouns[0] if pronouns else min(1, len(tokens) - 1)


def default_job(tokens: tuple[str, ...], position: int) -> Job:
    """The job the page asks first at a word: the referent at a pronoun, else the word before."""
    return Job.REFERENT if position in antecedents(tokens) else Job.PREVIOUS


def ablate(
    model: TrainedModel,
    tokens: tuple[str, ...],
    job: Job | str,
    position: int,
    off: Collection[tuple[int, int]] = (),
) -> Ablation:
    """Run the trained model on ``tokens`` with every head on, and with ``off`` switched off."""
    job = as_job(job)
    config = model.config
    ids = encode(tokens)
    answer = job_answer(tokens, job, position)
    switched_off = tuple(sorted(set(off)))
    job_index = JOBS.index(job)
    full_run = forward(model.weights, ids, config)
    cut_run = forward(model.weights, ids, config, head_gates=gates_without(switched_off, config))
    effects = looked = None
    if answer is not None:
        effects = knockout_effects(
            model.weights, ids, job, position, int(ids[answer]), config, switched_off
        ).ravel()  # (N * H,)
        looked = attention_to(full_run, position, answer).ravel()  # (N * H,)
    return Ablation(
        job=job,
        position=position,
        answer=answer,
        off=switched_off,
        full=full_run.probabilities[job_index, position],
        cut=cut_run.probabilities[job_index, position],
        effects=effects,
        looked=looked,
    )


def answer_probabilities(ablation: Ablation, tokens: tuple[str, ...]) -> tuple[float, float]:
    """The right word's probability with every head on and with the heads switched off."""
    if ablation.answer is None:
        raise ValueError(f"the job {ablation.job.value!r} has no answer at {ablation.position}")
    word = int(encode([tokens[ablation.answer]])[0])
    return float(ablation.full[word]), float(ablation.cut[word])


def specialised_heads(model: TrainedModel) -> dict[tuple[int, int], Pattern]:
    """Every trained head scoring at least ``SPECIALISED_AT`` on one pattern, by (layer, head)."""
    return {
        (layer, head): pattern
        for layer in range(model.config.num_layers)
        for head, pattern in model.layer_scores(layer).specialised(SPECIALISED_AT).items()
    }


def no_answer_reason(job: Job) -> str:
    """Why a job has no right answer at a word (the page shows it in a note)."""
    return {
        Job.PREVIOUS: "the first word has no word before it",
        Job.NEXT: "the last word has no word after it",
        Job.REFERENT: "this word is not a pronoun with one agreeing noun before it",
    }[job]


def best_head(model: TrainedModel, pattern: Pattern) -> tuple[int, int]:
    """The ``(layer, head)`` with the highest held-out score on ``pattern``."""
    column = model.scores[..., list(Pattern).index(pattern)]  # (N, H)
    layer, head = np.unravel_index(int(np.nanargmax(column)), column.shape)
    return int(layer), int(head)


def accuracy_without(model: TrainedModel, off: Collection[tuple[int, int]]) -> dict[str, float]:
    """Held-out accuracy of each job with the heads in ``off`` switched off."""
    held_out = held_out_sentences(model.train_config)
    gates = gates_without(off, model.config)
    return evaluate(model.weights, held_out, model.config, head_gates=gates)


def double_duty(model: TrainedModel) -> dict[tuple[int, int], list[tuple[Pattern, float]]]:
    """Heads scoring at least ``SPECIALISED_AT`` on two or more of the five patterns."""
    found = {}
    for layer in range(model.config.num_layers):
        for head in range(model.config.num_heads):
            strong = [
                (pattern, float(model.scores[layer, head, index]))
                for index, pattern in enumerate(SPECIALISED_PATTERNS)
                if model.scores[layer, head, index] >= SPECIALISED_AT
            ]
            if len(strong) > 1:
                found[(layer, head)] = sorted(strong, key=lambda item: -item[1])
    return found
