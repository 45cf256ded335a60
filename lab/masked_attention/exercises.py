"""The masked-attention page's exercises, built from the numbers on its screen.

Every answer is computed here with the same functions the page draws with, on
the learner's sentences, padding side, ``d`` and seed; each question says
which control to move and which chart or text to read. When the sentences on
screen cannot show the point (no sentence is shorter than another), the
question says to press *Reset this page* first and the answer is computed for
the page's defaults.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lab.exercises import ChoiceAnswer, Exercise, NumberAnswer
from lab.masked_attention.compute import (
    DEFAULT_BATCH,
    DEFAULT_SENTENCES,
    PAD,
    MaskingConfig,
    MaskKind,
    PaddedBatch,
    PaddingSide,
    batch_attention,
    pad_batch,
)
from lab.masked_attention.leakage import leakage_probe
from lab.masked_attention.prose import fill_label, sentence_label, words_of
from lab.masked_attention.wrong_ways import (
    MaskingMethod,
    Precision,
    RowOutcome,
    compare_on_sentence,
    row_outcome,
)
from lab.text import escape_markdown, tokenize

RESET = "Press **Reset this page** first: {why}. "
FLOAT16_FILLS = (-1e9, -1e4)  # the fills the float16 exercise compares; deliberately big


def _tokens(sentences: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tokenize(text).tokens for text in sentences)


DEFAULT_TOKENS = _tokens(DEFAULT_SENTENCES[:DEFAULT_BATCH])


def _pick(
    sentences: Sequence[Sequence[str]], config: MaskingConfig, *, min_words: int, why: str
) -> tuple[PaddedBatch, MaskingConfig, int, str]:
    """A batch, its config, a sentence with padding and ``min_words`` real tokens, and an
    instruction (empty when the learner's own batch has such a sentence)."""
    batch = pad_batch(sentences, padding_side=config.padding_side)
    lens = batch.valid_lens
    usable = (lens >= min_words) & (lens < batch.S)
    if usable.any():
        return batch, config, int(np.argmin(np.where(usable, lens, batch.S + 1))), ""
    batch = pad_batch(DEFAULT_TOKENS)
    lens = batch.valid_lens
    usable = (lens >= min_words) & (lens < batch.S)
    sentence = int(np.argmin(np.where(usable, lens, batch.S + 1)))
    return batch, MaskingConfig(), sentence, RESET.format(why=why)


def _choice(options: list[tuple[str, object]], found: object, other: str) -> ChoiceAnswer:
    """Options as (label, what it claims); the right one claims ``found``.

    If no option claims what the data gave, ``other`` (a label for it) is added,
    so the answer is always the data's.
    """
    claims = [claim for _, claim in options]
    labels = [label for label, _ in options]
    if found not in claims:
        claims.append(found)
        labels.append(other)
    return ChoiceAnswer(options=tuple(labels), correct=claims.index(found))


def _share_on_padding(sentences, config: MaskingConfig) -> Exercise:
    batch, config, b, reset = _pick(
        sentences, config, min_words=1, why="the exercise needs a sentence shorter than another"
    )
    real = batch.real[b]
    shares = {
        kind: batch_attention(batch, kind, config).weight_on_padding[b][real]
        for kind in (MaskKind.NONE, MaskKind.PADDING)
    }
    share = float(shares[MaskKind.NONE].max())
    row = int(np.flatnonzero(real)[np.argmax(shares[MaskKind.NONE])])
    masked = float(shares[MaskKind.PADDING].max())
    return Exercise(
        key="share",
        question=(
            f"{reset}Set **Mask** to *none*. Beside sentence {b + 1} "
            f"(*{words_of(batch.tokens[b])}*) in section 2: what is the largest share of its "
            "attention that one of its real words puts on `<pad>`? Type a percentage "
            "(12.3%) or a fraction (0.123). Then switch to *padding* and read it again."
        ),
        answer=NumberAnswer(value=share, tolerance=0.001, minimum=0.0, maximum=1.0),
        hint="The text beside each sentence states it. You can also add up the `<pad>` "
        "columns of each real word's row in its weights heatmap.",
        explanation=(
            f"Under *none*, query **{row} · {escape_markdown(batch.tokens[b][row])}** puts "
            f"**{share:.1%}** ({share:.4f}) of its weight on `<pad>` keys: its output depends on "
            f"what the padding holds. Under *padding* the largest share is exactly "
            f"**{masked:g}**: the padding keys' scores are −∞ and exp(−∞) = 0."
        ),
    )


def _changed_last_word(sentences, config: MaskingConfig) -> Exercise:
    batch = pad_batch(sentences, padding_side=config.padding_side)
    reset = ""
    if not (batch.valid_lens >= 2).any():
        batch, config = pad_batch(DEFAULT_TOKENS), MaskingConfig()
        reset = RESET.format(why="the exercise needs a sentence of two words or more")
    e = int(np.flatnonzero(batch.valid_lens >= 2)[0])
    position = batch.last_real(e)
    old = batch.tokens[e][position]
    new = "dog" if old.lower() != "dog" else "cat"
    probe = leakage_probe(batch, e, position, new, config)
    moved = {kind: probe.max_earlier(kind) for kind in MaskKind}
    still = frozenset(kind for kind, value in moved.items() if value == 0)
    options = [
        ("*none* and *padding*", frozenset({MaskKind.NONE, MaskKind.PADDING})),
        (
            "*causal* and *padding + causal*",
            frozenset({MaskKind.CAUSAL, MaskKind.PADDING_AND_CAUSAL}),
        ),
        ("all four masks", frozenset(MaskKind)),
        ("none of the four", frozenset()),
    ]
    other = " and ".join(f"*{kind.value}*" for kind in MaskKind if kind in still)
    numbers = "; ".join(
        f"*{kind.value}*: " + ("exactly 0" if value == 0 else f"up to {value:.3g}")
        for kind, value in moved.items()
    )
    return Exercise(
        key="last_word",
        question=(
            f"{reset}In section 3, pick **{escape_markdown(sentence_label(batch.tokens[e], e))}** "
            f"and its last word, **{position} · {escape_markdown(old)}**, and type another "
            f"word. Under which masks do the outputs at the {position} earlier positions stay "
            "exactly the same?"
        ),
        answer=_choice(options, still, other),
        hint="In the leakage table, read each row left of the outlined column: green cells "
        "moved by exactly 0.",
        explanation=(
            f"How far the earlier outputs moved: {numbers}. Under a causal mask query *i* may "
            f"look at keys *j ≤ i* only, so key {position} enters the earlier rows with weight "
            "exactly 0 and cannot move them. Without it every query reads the last word."
        ),
    )


def _changed_pad(sentences, config: MaskingConfig) -> Exercise:
    picked, config, b, reset = _pick(
        sentences, config, min_words=1, why="the exercise needs a sentence shorter than another"
    )
    source = DEFAULT_TOKENS if reset else sentences
    moved = {}
    for side in PaddingSide:
        batch = pad_batch(source, padding_side=side)
        pad = int(np.flatnonzero(~batch.real[b])[0])
        probe = leakage_probe(
            batch,
            b,
            pad,
            "dog",
            MaskingConfig(config.d_model, config.seed, side),
            (MaskKind.CAUSAL,),
        )
        moved[side] = probe.max_at(MaskKind.CAUSAL, batch.real[b])
    safe = {side: moved[side] == 0 for side in PaddingSide}
    options = [
        ("Safe on the right, not on the left", (True, False)),
        ("Safe on the left, not on the right", (False, True)),
        ("Safe on both sides", (True, True)),
        ("Safe on neither side", (False, False)),
    ]
    found = (safe[PaddingSide.RIGHT], safe[PaddingSide.LEFT])
    said = {side: "exactly 0" if safe[side] else f"up to {moved[side]:.3g}" for side in PaddingSide}
    return Exercise(
        key="pad_token",
        question=(
            f"{reset}Set **Mask** to *causal*. In section 3, pick sentence {b + 1} "
            f"(*{words_of(picked.tokens[b])}*), one of its `<pad>` positions, and type a word "
            "to put there. Do the outputs of its real words stay exactly the same with "
            "**Pad on the** *right*? And on the *left*?"
        ),
        answer=_choice(options, found, "Safe on neither side"),
        hint="The bullet list under the leakage table says how far the real words moved. "
        "Under a causal mask a word sees only the positions before it.",
        explanation=(
            f"The real words moved by {said[PaddingSide.RIGHT]} with right padding and by "
            f"{said[PaddingSide.LEFT]} with left padding. On the right the `<pad>` come after "
            "every word, so the causal mask hides them; on the left they come first, so "
            "every word sees them. Only the padding mask hides them on both sides."
        ),
    )


def _outcome_text(outcome: RowOutcome | None, S: int) -> str:
    if outcome is RowOutcome.UNIFORM:
        return f"uniform, 1/{S} on every `<pad>` key"
    if outcome is RowOutcome.ZEROS:
        return "all zeros"
    if outcome is RowOutcome.NAN:
        return "NaN"
    return "other weights that sum to 1"


def _empty_sentence(sentences, config: MaskingConfig) -> Exercise:
    lists = [tuple(tokens) for tokens in sentences]
    empty = next((index for index, tokens in enumerate(lists) if not tokens), None)
    target = len(lists) - 1 if empty is None else empty
    lists[target] = ()
    instruction = (
        "" if empty is not None else f"Empty the box of sentence {target + 1} (delete its words). "
    )
    batch = pad_batch(lists, padding_side=config.padding_side)
    outcomes = {
        kind: row_outcome(batch_attention(batch, kind, config).weights[target])
        for kind in (MaskKind.PADDING, MaskKind.NONE)
    }
    S = batch.S
    options = [
        (
            f"*padding*: all zeros · *none*: uniform, 1/{S} on every `<pad>` key",
            (RowOutcome.ZEROS, RowOutcome.UNIFORM),
        ),
        (f"*padding*: uniform, 1/{S} · *none*: all zeros", (RowOutcome.UNIFORM, RowOutcome.ZEROS)),
        ("*padding*: NaN · *none*: uniform", (RowOutcome.NAN, RowOutcome.UNIFORM)),
        ("all zeros under both", (RowOutcome.ZEROS, RowOutcome.ZEROS)),
    ]
    found = (outcomes[MaskKind.PADDING], outcomes[MaskKind.NONE])
    other = f"*padding*: {_outcome_text(found[0], S)} · *none*: {_outcome_text(found[1], S)}"
    return Exercise(
        key="empty",
        question=(
            f"{instruction}Look at sentence {target + 1}'s weights in section 2 under "
            "**Mask** *padding*, then under *none*. What are its rows?"
        ),
        answer=_choice(options, found, other),
        hint="An empty sentence is all `<pad>`. Which keys may its queries look at under each "
        "mask? All its `<pad>` tokens share one vector.",
        explanation=(
            f"Under *padding* every key of the sentence is masked, so each row is "
            f"{_outcome_text(found[0], S)}: nothing to attend to. Under *none* each `<pad>` "
            f"query sees {S} `<pad>` keys with the same vector, hence the same score, and the "
            f"softmax makes the row {_outcome_text(found[1], S)}: an output made of padding."
        ),
    )


def _float16(sentences, config: MaskingConfig) -> Exercise:
    batch, config, s, reset = _pick(
        sentences, config, min_words=0, why="the exercise needs a sentence shorter than another"
    )
    attention = batch_attention(batch, MaskKind.PADDING, config)
    outcomes = []
    for fill in FLOAT16_FILLS:  # as section 4 computes them, <pad> query rows masked too
        results, _ = compare_on_sentence(
            attention, s, fill=fill, dtype=Precision.FLOAT16.dtype, mask_pad_queries=True
        )
        by_method = {result.method: result for result in results}
        outcomes.append(by_method[MaskingMethod.LARGE_NEGATIVE].fully_masked_outcome())
    big, fits = (fill_label(fill) for fill in FLOAT16_FILLS)
    options = [
        (f"{big}: NaN · {fits}: uniform", (RowOutcome.NAN, RowOutcome.UNIFORM)),
        (f"{big}: uniform · {fits}: NaN", (RowOutcome.UNIFORM, RowOutcome.NAN)),
        ("all zeros with both", (RowOutcome.ZEROS, RowOutcome.ZEROS)),
        ("NaN with both", (RowOutcome.NAN, RowOutcome.NAN)),
    ]
    found = tuple(outcomes)
    other = (
        f"{big}: {_outcome_text(found[0], batch.S)} · {fits}: {_outcome_text(found[1], batch.S)}"
    )
    S = batch.S
    return Exercise(
        key="float16",
        question=(
            f"{reset}Set **Mask** to *padding*. In section 4, pick **Scores of** "
            f"{escape_markdown(sentence_label(batch.tokens[s], s))}, keep *Also mask the rows "
            f"of `<pad>` queries* on, set **Precision** to *float16* and **Big negative fill** "
            f"to *{big}*, then to *{fits}*. What do the rows with no allowed key become in the "
            "fill chart?"
        ),
        answer=_choice(options, found, other),
        hint="The lowest finite float16 number is −65504. The table *−1e9 in half precision* "
        "shows what each fill is stored as.",
        explanation=(
            f"float16 cannot hold {big}: it is stored as −∞, so an empty row computes "
            f"−∞ − (−∞) = NaN, as the plain softmax does. {fits} fits, so an empty row holds "
            f"the same number everywhere and the softmax makes it uniform, 1/{S} = {1 / S:.3f} "
            f"on every key, `{PAD}` included. Only −∞ with a safe softmax gives zeros."
        ),
    )


def page_exercises(sentences: Sequence[Sequence[str]], config: MaskingConfig) -> list[Exercise]:
    """The page's five exercises on the learner's batch (tokenized sentences) and settings.

    Args:
        sentences: the ``B >= 2`` tokenized sentences on screen, at least one not empty.
        config: ``d``, seed and padding side on screen.
    """
    lists = [tuple(str(token) for token in tokens) for tokens in sentences]
    if len(lists) < 2 or not any(lists):
        raise ValueError("the exercises need at least 2 sentences, one of them not empty")
    return [
        _share_on_padding(lists, config),
        _changed_last_word(lists, config),
        _changed_pad(lists, config),
        _empty_sentence(lists, config),
        _float16(lists, config),
    ]
