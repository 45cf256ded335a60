"""The masked-attention page's words: fixed prose as data, and sentences built from the numbers.

Every sentence here that states a number, a direction or an outcome is built
from the computed data it describes (a :class:`BatchAttention`, a
:class:`LeakageProbe`, a :class:`MethodResult`), so it cannot drift from the
charts beside it; the tests read them back against the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from lab.masked_attention.compute import PAD, BatchAttention, MaskKind, PaddingSide
from lab.masked_attention.leakage import LeakageProbe
from lab.masked_attention.wrong_ways import (
    MaskingMethod,
    MethodResult,
    Precision,
    RowOutcome,
    compare_on_sentence,
    stored_fill_value,
)
from lab.text import escape_markdown

KIND_EXPLAINED = {
    MaskKind.NONE: "Nothing is masked: every query looks at every key, `<pad>` included.",
    MaskKind.PADDING: "No query may look at a `<pad>` key. A `<pad>` query still looks at the "
    "real words: its row is computed, then ignored.",
    MaskKind.CAUSAL: "Query *i* may look at keys *j ≤ i* only, never ahead: the mask of a "
    "decoder that predicts the next token.",
    MaskKind.PADDING_AND_CAUSAL: "Both at once, what a decoder trained on a padded batch "
    "uses: no look-ahead and no `<pad>` key.",
}
METHOD_TITLES = {
    MaskingMethod.RIGHT: "−inf, then a safe softmax (what lab does)",
    MaskingMethod.NAIVE: "−inf, then a plain softmax",
    MaskingMethod.LARGE_NEGATIVE: "fill with {fill} in {precision}",
    MaskingMethod.MULTIPLY: "softmax first, then × mask",
}
METHOD_COLUMNS = {
    MaskingMethod.RIGHT: "−inf, safe softmax",
    MaskingMethod.NAIVE: "−inf, plain softmax",
    MaskingMethod.LARGE_NEGATIVE: "{fill} fill, {precision}",
    MaskingMethod.MULTIPLY: "softmax × mask",
}
WRONG_WAYS_INTRO = (
    "Four ways to apply the same mask to the same scores. On every row that may look at some "
    "key, three of them put exactly 0 on the masked keys and weights summing to 1 on the "
    "others: −∞ with a plain softmax, and a big negative fill (in float32, exp(−1e9 − max) "
    "underflows to exactly 0, so the weights are the same as with −∞, bit for bit). They part "
    "ways on rows that may look at nothing, and in float16; multiplying after the softmax "
    "also breaks the row sums."
)
HALF_PRECISION = (
    "float16 cannot hold a finite number below −65504, so **−1e9 and −1e6 overflow to −∞** "
    "when written into a half-precision tensor (torch refuses outright: "
    "`masked_fill(mask, -1e9)` on a float16 tensor raises *value cannot be converted to type "
    "c10::Half without overflow*). The big number then behaves like −∞ with a plain softmax, "
    "and an empty row becomes NaN. −1e4 fits, but an empty row is still uniform. In float32 "
    "all three fit."
)
EMPTY_ROW = (
    "An empty row has no keys to average, so the honest answer is **no weight at all**: "
    "zeros, and an output of 0. A uniform row would invent an average of padding; NaN would "
    "poison the loss of the whole batch. `lab.attention.masked_softmax` fills a copy of the "
    "scores with −∞ and calls the lab's softmax, whose core `_safe_softmax` guards the one "
    "place where −∞ − (−∞) would appear: an empty row is shifted by 0, and its total of 0 is "
    "divided as if it were 1. This is the lab's own code: every weights heatmap of section 2 "
    "and the ✓ chart of section 4 went through it."
)
TORCH_EMPTY_ROWS = (
    "torch's `F.scaled_dot_product_attention` also gives an empty row zero weights and a zero "
    "output. `nn.MultiheadAttention` depends on how it is called: on a sentence that is all "
    "padding (every key ignored by `key_padding_mask`), torch 2.13 returns NaN outputs and NaN "
    "weights with `need_weights=True`, its default, and with `need_weights=False` an "
    "attention output of 0 (so the module returns just `out_proj`'s bias). Both checked "
    "against torch 2.13 in this lab's tests: check what your library does before trusting an "
    "empty row."
)
WHAT_TO_NOTICE = (
    "A masked weight is exactly 0, not merely small, and the allowed weights of each row still "
    "sum to 1: the softmax shares the whole budget among the keys it may see.",
    "With a causal mask, changing a later token moves the earlier outputs by exactly 0.",
    "In float32, −1e9 gives the same weights as −∞ on every row with an allowed key. It goes "
    "wrong only on a row with nothing to look at (uniform instead of zeros) and in float16 "
    "(it overflows to −∞, and that row turns NaN).",
    "Multiplying by the mask after the softmax zeroes the right cells but loses weight: the "
    "rows no longer sum to 1.",
    "A `<pad>` query's row is computed like any other; it is harmless only because the loss "
    "skips padding positions and the padding mask hides padding keys.",
)
WHY_EXACTLY_ZERO = (
    "Why exactly 0 and not just small: a masked key's score is −∞, its weight exp(−∞) = 0 "
    "exactly, and 0 × (anything finite) adds nothing to the sum. The changed token reaches "
    "other outputs only through its key and value, and the mask cuts both. Green cells are "
    "exactly 0; the outlined column is the changed position (its own query changed, so its "
    "output moves too, unless its row may look at no key at all)."
)


def fill_label(value: float) -> str:
    """``-1e9`` rather than ``-1e+09``; ``-10000`` and ``-inf`` as they are."""
    if np.isneginf(value):
        return "-inf"
    if abs(value) < 1e5:
        return f"{value:.0f}"
    return f"{value:.0e}".replace("e+0", "e")


def positions_text(positions: Iterable[int]) -> str:
    """``[2, 3, 4, 7]`` -> ``"2–4 and 7"``: runs of positions, for sentences on the page."""
    runs: list[list[int]] = []
    for position in (int(p) for p in positions):
        if runs and position == runs[-1][-1] + 1:
            runs[-1].append(position)
        else:
            runs.append([position])
    parts = [str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs]
    if not parts:
        raise ValueError("positions_text needs at least one position")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def sentence_label(tokens: Sequence[str], index: int) -> str:
    """``"Sentence 2: dogs bark"``: a sentence's number and its words (padding left out)."""
    words = " ".join(token for token in tokens if token != PAD)
    short = words if len(words) <= 28 else words[:27] + "…"
    return f"Sentence {index + 1}: {short or '(empty)'}"


def same_sentence(labels: Sequence[str], remembered: str) -> str | None:
    """The label in ``labels`` with the same sentence number as ``remembered``, if any.

    When a sentence is edited its label changes ("Sentence 2: dogs bark" becomes
    "Sentence 2: cats purr"); a choice made by label then follows the number.
    """
    number = str(remembered).split(":", 1)[0]
    if not number.startswith("Sentence "):
        return None
    return next((label for label in labels if label.split(":", 1)[0] == number), None)


def words_of(tokens: Sequence[str]) -> str:
    """The real words of a padded sentence, escaped for Markdown."""
    return " ".join(escape_markdown(token) for token in tokens if token != PAD)


def glance(attention: BatchAttention, sentence: int) -> str:
    """The first screen's paragraph: what the mask did to one sentence's weights."""
    batch = attention.batch
    valid = int(batch.valid_lens[sentence])
    pads = batch.S - valid
    kind = attention.kind
    real_rows = batch.real[sentence]
    lines = [
        f"**Mask: {kind.value}.** Sentence {sentence + 1} (*{words_of(batch.tokens[sentence])}*) "
        f"has {valid} real token{'s' * (valid != 1)} and {pads} × `{PAD}`."
    ]
    if not attention.allowed[sentence].all():
        lines.append(
            "Grey cells with a × are masked: their score became −∞, so their weight is "
            "exactly 0, and the allowed weights of each row still sum to 1."
        )
    if real_rows.any() and pads:
        share = float(attention.weight_on_padding[sentence][real_rows].max())
        lines.append(
            f"Its real words put up to **{share:.1%}** of their attention on `{PAD}`."
            if share > 0
            else f"Its real words put **exactly 0** weight on `{PAD}`."
        )
    lines.append("Switch the mask above to see what each one hides.")
    return " ".join(lines)


def sentence_notes(attention: BatchAttention, sentence: int) -> list[str]:
    """Section 2's paragraphs beside one sentence's weights (Markdown)."""
    batch = attention.batch
    kind = attention.kind
    valid = int(batch.valid_lens[sentence])
    pads = batch.S - valid
    real_rows = batch.real[sentence]
    words = words_of(batch.tokens[sentence])
    lines = [
        f"**Sentence {sentence + 1}**" + (f": *{words}*" if words else " is empty"),
        f"{valid} real token{'s' * (valid != 1)}, {pads} × `{PAD}`.",
    ]
    empty_rows = np.flatnonzero(attention.fully_masked[sentence])
    pad_rows = np.flatnonzero(~real_rows & ~attention.fully_masked[sentence])
    on_padding = (
        float(attention.weight_on_padding[sentence][real_rows].max()) if real_rows.any() else 0.0
    )
    if valid == 0 and not kind.padding:
        lines.append(
            "It has no real word at all, yet without a padding mask its `<pad>` queries attend "
            "to `<pad>` keys and produce outputs: numbers made of padding, which the model must "
            "never use."
        )
    if empty_rows.size:
        why = (
            "the sentence has no real token, so every key is padding. "
            if valid == 0
            else "left padding puts these `<pad>` queries before every real word, and the "
            "causal mask forbids looking ahead. "
        )
        lines.append(
            f"**Rows {positions_text(empty_rows)}** may look at no key at all: {why}A softmax "
            "over nothing is undefined; lab (like torch's SDPA) gives such a row all-zero "
            "weights and a zero output. Section 4 shows what the other ways give."
        )
    if pad_rows.size and valid:  # an empty sentence's rows are described above
        lines.append(
            f"**Rows {positions_text(pad_rows)}** are `<pad>` queries. They still get a row of "
            "weights, but it means nothing: the loss skips padding positions "
            + (
                "(but here the real words *can* read the padding, see below)."
                if on_padding > 0
                else "and no real query gives them any weight, so their outputs go nowhere."
            )
        )
    if real_rows.any() and pads:
        if on_padding > 0:
            lines.append(
                f"The real words put up to **{on_padding:.1%}** of their attention on `<pad>`: "
                "their outputs depend on what the padding holds."
                + (
                    " With the padding on the left, the causal mask does not hide it: the "
                    "padding comes *before* the words."
                    if kind is MaskKind.CAUSAL and batch.padding_side is PaddingSide.LEFT
                    else ""
                )
            )
        else:
            if kind.padding:
                reason = "the padding mask hides it"
            elif kind.causal:
                reason = "the padding comes after them and the causal mask hides the future"
            else:
                reason = "their scores on it are so low that exp underflows to 0"
            lines.append(f"The real words put exactly **0** weight on `<pad>`: {reason}.")
    return lines


def leakage_lines(probe: LeakageProbe, real: Sequence[bool], selected: MaskKind) -> str:
    """Section 3's verdict per mask: did the outputs that must not see the change move?

    When a real word was changed, the outputs that must not see it are the
    earlier positions; when a ``<pad>`` was changed, they are the real words.
    """
    others = np.array(real, dtype=bool)
    changed_pad = not others[probe.position]
    others[probe.position] = False
    lines = []
    for kind in probe.kinds:
        if changed_pad:
            moved, where, count = probe.max_at(kind, others), "the real words", int(others.sum())
        else:
            moved, where, count = probe.max_earlier(kind), "the earlier positions", probe.position
        if count == 0:
            continue
        verdict = "changed by **exactly 0**" if moved == 0 else f"moved by up to **{moved:.3g}**"
        marker = "▶ " if kind is selected else ""
        lines.append(f"- {marker}*{kind.value}*: {where} ({count}) {verdict}")
    if not lines:
        return (
            "There is no earlier position and no other real word here, so there is nothing "
            "that could leak. Pick a later position."
        )
    return "\n".join(lines)


def method_title(result: MethodResult, fill: float, precision: Precision) -> str:
    """A wrong-way chart's title, ✓ when it got every row of this sentence right, else ✗."""
    mark = "✓" if result.right_everywhere else "✗"
    text = METHOD_TITLES[result.method].format(fill=fill_label(fill), precision=precision.value)
    return f"{mark}  {text}"


def method_verdict(result: MethodResult, *, same_as_minus_inf: bool = False) -> str:
    """What went right or wrong with one way of masking, in one short paragraph."""
    rows = ~result.fully_masked
    if result.partial_rows_ok():
        partial = "Rows with an allowed key: masked weights exactly 0, each row sums to 1"
        partial += ", the very same weights as −∞ in this precision." if same_as_minus_inf else "."
    else:
        sums = result.row_sums[rows]
        partial = (
            f"Rows with an allowed key sum to **{np.nanmin(sums):.3f}–{np.nanmax(sums):.3f}**, "
            "not 1: the weight the masked keys had is thrown away, so each output shrinks."
        )
    outcome = result.fully_masked_outcome()
    S = result.weights.shape[-1]
    if outcome is None:
        empty = "No row is fully masked here, so a failure on empty rows stays hidden."
    elif outcome is RowOutcome.ZEROS and result.method is MaskingMethod.MULTIPLY:
        empty = (
            "Rows with no allowed key: all zeros, by accident (every weight was multiplied "
            "by 0), after a softmax over padding."
        )
    elif outcome is RowOutcome.ZEROS:
        empty = "Rows with no allowed key: **all zeros**, output 0."
    elif outcome is RowOutcome.UNIFORM:
        empty = (
            f"Rows with no allowed key: **uniform**, 1/{S} = {1 / S:.3f} on every key, "
            "padding included. Wrong, and nothing warns you."
        )
    elif outcome is RowOutcome.NAN:
        empty = (
            "Rows with no allowed key: **NaN**. One NaN spreads through every later layer "
            "and into the loss."
        )
    else:
        empty = "Rows with no allowed key: some other non-zero weights."
    return f"{partial} {empty}"


def row_sums_table(
    results: Sequence[MethodResult], tokens: Sequence[str], fill: float, precision: Precision
) -> dict[str, list]:
    """The row sums of every way, one column each: what ``st.dataframe`` shows."""
    table: dict[str, list] = {
        "query": [f"{index} · {token}" for index, token in enumerate(tokens)],
        "keys allowed": results[0].allowed.sum(axis=-1).tolist(),
    }
    for result in results:
        name = METHOD_COLUMNS[result.method].format(
            fill=fill_label(fill), precision=precision.value
        )
        mark = "✓" if result.right_everywhere else "✗"
        table[f"{mark} {name}"] = [
            "NaN" if np.isnan(total) else f"{total:.4f}" for total in result.row_sums
        ]
    return table


def right_ways_caption(results: Sequence[MethodResult], fill: float, precision: Precision) -> str:
    """The caption under the row sums: which ways were right on every row of this sentence."""
    right = [
        METHOD_COLUMNS[result.method].format(fill=fill_label(fill), precision=precision.value)
        for result in results
        if result.right_everywhere
    ]
    return (
        "A row should sum to 1 if it may look at some key and to 0 if it may look at none. "
        f"Right on every row of this sentence (✓): {', '.join(right)}."
    )


def fill_storage_table(fills: Sequence[float]) -> dict[str, list]:
    """What each fill value becomes once stored in each precision."""
    return {
        "fill value": [fill_label(value) for value in fills],
        **{
            f"stored in {precision.value}": [
                fill_label(stored_fill_value(value, precision.dtype)) for value in fills
            ]
            for precision in Precision
        },
    }


@dataclass(frozen=True)
class WrongWaysView:
    """Section 4 for one sentence: the four results and every sentence written about them.

    Attributes:
        results: one :class:`MethodResult` per :class:`MaskingMethod`.
        titles, verdicts: a chart title and a paragraph per result, in the same order.
        intro: the paragraph above the charts.
        row_sums: the row-sum table, column name -> values.
        caption: which ways were right on every row.
    """

    results: tuple[MethodResult, ...]
    titles: tuple[str, ...]
    verdicts: tuple[str, ...]
    intro: str
    row_sums: dict[str, list]
    caption: str


def wrong_ways_view(
    attention: BatchAttention,
    sentence: int,
    fill: float,
    precision: Precision,
    mask_pad_queries: bool,
) -> WrongWaysView | None:
    """Everything section 4 shows for one sentence, ``None`` when nothing is masked in it."""
    compared = compare_on_sentence(
        attention,
        sentence,
        fill=fill,
        dtype=precision.dtype,
        mask_pad_queries=mask_pad_queries,
    )
    if compared is None:
        return None
    results, same_as_minus_inf = compared
    tokens = attention.batch.tokens[sentence]
    intro = (
        f"The same scaled scores of sentence {sentence + 1}, mask *{attention.kind.value}*"
        + (" with the `<pad>` queries' rows masked too" if mask_pad_queries else "")
        + ". Dashed outlines mark masked cells; here their values stay visible, so you can "
        "see what each way put there. Red cells are NaN; a 0 is exactly zero, 0.00 only "
        "rounds to it."
    )
    return WrongWaysView(
        results=results,
        titles=tuple(method_title(result, fill, precision) for result in results),
        verdicts=tuple(
            method_verdict(
                result,
                same_as_minus_inf=same_as_minus_inf
                and result.method is MaskingMethod.LARGE_NEGATIVE,
            )
            for result in results
        ),
        intro=intro,
        row_sums=row_sums_table(results, tokens, fill, precision),
        caption=right_ways_caption(results, fill, precision),
    )
