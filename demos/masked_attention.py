"""Masked attention: padding and causal masks, leakage measured, and the wrong ways to mask."""

import numpy as np
import pandas as pd
import streamlit as st

from app_ui import notes, page_header
from app_ui import show_chart as show
from lab.masking import (
    MASK_KINDS,
    METHODS,
    PAD,
    PADDING_SIDES,
    BatchAttention,
    LeakageProbe,
    MaskingConfig,
    MethodResult,
    batch_attention,
    compare_masking_methods,
    leakage_probe,
    mask_padding_queries,
    pad_batch,
    stored_fill_value,
)
from lab.masking_charts import (
    batch_grid,
    leakage_heatmap,
    mask_heatmap,
    method_heatmap,
    sentence_weights_heatmap,
)
from lab.text import escape_markdown, tokenize

MAX_TOKENS = 10  # per sentence: keeps four heatmaps side by side readable
MAX_D = MaskingConfig.max_d_model
DEFAULT_SENTENCES = (
    "the cat sat on the mat",
    "dogs bark",
    "a small bird sings",
    "it rained all night",
)
DEFAULT_REPLACEMENT = "dog"
# The big negative fills people use instead of -inf. Deliberately the wrong way: the
# page shows what goes wrong with each (the right way is -inf, as lab.attention does).
FILL_VALUES = (-1e9, -1e6, -1e4)
PRECISIONS = {"float32": np.float32, "float16": np.float16}
PANEL = 260  # pixels of cells for a sentence's weights heatmap
MASK_PANEL = 140  # pixels of cells for the small mask beside it (positions as labels)
HALF = 380  # pixels of cells for one of two charts side by side
METHOD_TITLES = {
    "right": "✓  −inf, then a safe softmax (what lab does)",
    "naive": "✗  −inf, then a plain softmax",
    "large_negative": "✗  fill with {fill} in {precision}",
    "multiply": "✗  softmax first, then × mask",
}
METHOD_COLUMNS = {
    "right": "✓ −inf, safe softmax",
    "naive": "✗ −inf, plain softmax",
    "large_negative": "✗ {fill} fill, {precision}",
    "multiply": "✗ softmax × mask",
}
KIND_EXPLAINED = {
    "none": "Nothing is masked: every query looks at every key, `<pad>` included.",
    "padding": "No query may look at a `<pad>` key. A `<pad>` query still looks at the "
    "real words: its row is computed, then ignored.",
    "causal": "Query *i* may look at keys *j ≤ i* only, never ahead: the mask of a decoder "
    "that predicts the next token.",
    "padding + causal": "Both at once, what a decoder trained on a padded batch uses: no "
    "look-ahead and no `<pad>` key.",
}


@st.cache_data(max_entries=128, show_spinner=False)
def compute(
    sentences: tuple[tuple[str, ...], ...], side: str, kind: str, d_model: int, seed: int
) -> BatchAttention:
    config = MaskingConfig(d_model=d_model, seed=seed, padding_side=side)
    return batch_attention(pad_batch(sentences, padding_side=side), kind, config)


@st.cache_data(max_entries=128, show_spinner=False)
def compute_leakage(
    sentences: tuple[tuple[str, ...], ...],
    side: str,
    d_model: int,
    seed: int,
    sentence: int,
    position: int,
    new_token: str,
) -> LeakageProbe:
    config = MaskingConfig(d_model=d_model, seed=seed, padding_side=side)
    batch = pad_batch(sentences, padding_side=side)
    return leakage_probe(batch, sentence, position, new_token, config)


# Charts are cached as objects (st.cache_resource: built once, never mutated, shared),
# so flipping between masks or sides redraws without rebuilding a dozen Altair charts.
@st.cache_resource(max_entries=64, show_spinner=False)
def batch_charts(
    sentences: tuple[tuple[str, ...], ...], side: str, kind: str, d_model: int, seed: int
) -> dict[str, list]:
    """The charts of sections 1 and 2: the padded batch, its masks and every sentence's weights."""
    attention = compute(sentences, side, kind, d_model, seed)
    batch = attention.batch
    B, S = batch.B, batch.S
    positions = [str(position) for position in range(S)]
    return {
        "grid": [
            batch_grid(
                batch.tokens,
                batch.real,
                row_labels=[f"sentence {b + 1} · {batch.valid_lens[b]}" for b in range(B)],
                title=f"The padded batch ({B} × {S}), with each sentence's valid length",
                cell_width=max(40, min(66, 600 // S)),
            )
        ],
        "key_mask": [
            mask_heatmap(
                batch.real,
                [f"sentence {b + 1}" for b in range(B)],
                positions,
                title=f"Key padding mask ({B} × {S})",
                row_title=None,
                col_title="key position",
                cell_size=max(24, min(40, 300 // S)),
            )
        ],
        "masks": [
            mask_heatmap(
                attention.allowed[b],
                positions,
                positions,
                title=f"Mask, sentence {b + 1}",
                cell_size=max(10, min(20, MASK_PANEL // S)),
            )
            for b in range(B)
        ],
        "weights": [
            sentence_weights_heatmap(
                attention.weights[b],
                list(batch.tokens[b]),
                attention.allowed[b],
                title=f"Weights, sentence {b + 1} ({S} × {S})",
                max_width=PANEL,
            )
            for b in range(B)
        ],
    }


@st.cache_resource(max_entries=64, show_spinner=False)
def leakage_chart(
    sentences: tuple[tuple[str, ...], ...],
    side: str,
    d_model: int,
    seed: int,
    sentence: int,
    position: int,
    new_token: str,
    kind: str,
):
    probe = compute_leakage(sentences, side, d_model, seed, sentence, position, new_token)
    S = len(probe.tokens)
    return leakage_heatmap(
        probe.changes,
        probe.kinds,
        probe.tokens,
        position,
        highlight=kind,
        title=f"Replace '{probe.old_token}' at position {position} by '{new_token}': "
        "how far each output moved (max |Δ|)",
        cell_width=max(44, min(76, 560 // S)),
    )


@st.cache_resource(max_entries=64, show_spinner=False)
def wrong_ways(
    sentences: tuple[tuple[str, ...], ...],
    side: str,
    kind: str,
    d_model: int,
    seed: int,
    sentence: int,
    fill: float,
    precision: str,
    mask_rows: bool,
) -> tuple[tuple[MethodResult, ...], list] | None:
    """The four ways on one sentence's scores and their charts; None if nothing is masked."""
    attention = compute(sentences, side, kind, d_model, seed)
    batch = attention.batch
    allowed = attention.allowed[sentence]
    if mask_rows:
        allowed = mask_padding_queries(allowed, batch.real[sentence])
    if allowed.all():
        return None
    results = compare_masking_methods(
        attention.scores[sentence], allowed, fill=fill, dtype=PRECISIONS[precision]
    )
    tokens = list(batch.tokens[sentence])
    method_charts = [
        method_heatmap(
            result.weights,
            result.allowed,
            tokens,
            tokens,
            title=METHOD_TITLES[result.method].format(fill=fill_text(fill), precision=precision),
            max_width=HALF - 60,
        )
        for result in results
    ]
    return results, method_charts


def positions_text(positions) -> str:
    """``[2, 3, 4, 7]`` -> ``"2–4 and 7"``: runs of positions, for sentences on the page."""
    runs: list[list[int]] = []
    for position in (int(p) for p in positions):
        if runs and position == runs[-1][-1] + 1:
            runs[-1].append(position)
        else:
            runs.append([position])
    parts = [str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def sentence_name(tokens: tuple[str, ...], index: int) -> str:
    words = " ".join(token for token in tokens if token != PAD)
    short = words if len(words) <= 28 else words[:27] + "…"
    return f"Sentence {index + 1}: {short}" if short else f"Sentence {index + 1}: (empty)"


def fill_text(value: float) -> str:
    """``-1e9`` rather than ``-1e+09``; ``-10000`` and ``-inf`` as they are."""
    if np.isneginf(value):
        return "-inf"
    if abs(value) < 1e5:
        return f"{value:.0f}"
    return f"{value:.0e}".replace("e+0", "e")


def choose(label: str, labels: list[str], key: str, default: int, **options) -> int:
    """A selectbox over labels that returns the chosen index.

    The labels themselves are the options, so when the text behind them changes
    (a sentence is edited, the padding moves) the box never shows a stale label:
    a remembered choice that no longer exists falls back to the same sentence
    number if there is one ("Sentence 2: ..."), else to ``default``.
    """
    remembered = st.session_state.get(key)
    if remembered not in labels:
        number = str(remembered).split(":", 1)[0] + ":"
        same = [
            item
            for item in labels
            if str(remembered).startswith("Sentence ") and item.startswith(number)
        ]
        st.session_state[key] = same[0] if same else labels[default]
    return labels.index(st.selectbox(label, labels, key=key, **options))


page_header("masked_attention")
st.latex(
    r"\mathrm{output} = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d}} + M\right)V,"
    r"\qquad M_{ij} = \begin{cases} 0 & \text{query } i \text{ may look at key } j \\"
    r" -\infty & \text{otherwise} \end{cases}"
)

with st.container(border=True):
    kind_col, side_col, d_col, seed_col = st.columns([3.3, 1.2, 1.35, 0.8], gap="medium")
    with kind_col:
        kind = st.segmented_control(
            "Mask",
            list(MASK_KINDS),
            default="padding",
            required=True,
            key="ma_kind",
            help="Which keys each query may look at.",
        )
    with side_col:
        side = st.segmented_control(
            "Pad on the",
            list(PADDING_SIDES),
            default="right",
            required=True,
            key="ma_side",
            help="Right: after the words (training, encoders). Left: before them "
            "(batched generation, so every sentence ends at the same position).",
        )
    with d_col:
        d_model = st.slider(
            "Embedding size d", 1, MAX_D, 4, key="ma_d", help="Also the size of Q, K and V."
        )
    with seed_col:
        seed = st.number_input(
            "Seed",
            0,
            9999,
            0,
            step=1,
            key="ma_seed",
            help="Draws the word vectors and W_q, W_k, W_v. A word's vector depends only on "
            "the word and the seed (as on the self-attention page); `<pad>` has its own.",
        )
    kind = kind or "padding"
    side = side or "right"
    count_col, *sentence_cols = st.columns([0.9, 4.2], gap="medium")
    with count_col:
        batch_size = st.segmented_control(
            "Sentences",
            [2, 3, 4],
            default=3,
            required=True,
            key="ma_batch",
            help=f"The batch: up to {MAX_TOKENS} tokens per sentence. Leave a box empty for "
            "a sentence that is all padding.",
        )
    batch_size = int(batch_size or 3)
    token_lists: list[tuple[str, ...]] = []
    cut_messages: list[str] = []
    with sentence_cols[0]:
        boxes = st.columns(batch_size, gap="small")
    for index, column in enumerate(boxes):
        with column:
            text = st.text_input(
                f"Sentence {index + 1}",
                value=DEFAULT_SENTENCES[index],
                key=f"ma_sentence_{index}",
                max_chars=300,
                placeholder="empty = all padding",
            )
            tokenized = tokenize(text, max_tokens=MAX_TOKENS)
            if tokenized.is_empty:
                st.caption("Empty: all `<pad>`, valid length 0.")
            elif tokenized.message:
                cut_messages.append(f"Sentence {index + 1}: {tokenized.message}")
            token_lists.append(tokenized.tokens)
    for message in cut_messages:
        st.warning(message, icon=":material/content_cut:")

sentences = tuple(token_lists)
if not any(sentences):
    st.info(
        "Every sentence is empty, so the batch has no positions at all and nothing to "
        "attend to. Type a few words in at least one box.",
        icon=":material/edit:",
    )
    st.stop()

attention = compute(sentences, side, kind, int(d_model), int(seed))
batch = attention.batch
B, S = batch.B, batch.S
real = batch.real  # (B, S)
valid_lens = [int(length) for length in batch.valid_lens]

# ---------------------------------------------------------------- 1 · the padded batch
st.header("1 · Pad the batch to one length", anchor=False)
st.markdown(
    f"A batch is one array, so its {B} sentences must have the same length. Each is padded "
    f"with `{PAD}` to the longest one: shape **(B, S) = ({B}, {S})**, valid lengths "
    f"**valid_lens = {valid_lens}**. The padding is there for the array's sake only; the "
    "mask makes sure no real word ever reads it."
)
drawn = batch_charts(sentences, side, kind, int(d_model), int(seed))
grid_col, mask_col = st.columns([1.35, 1], gap="large")
with grid_col:
    show(drawn["grid"][0])
with mask_col:
    show(drawn["key_mask"][0])
    st.caption(
        "True means *a real token, may be attended to*: the convention of "
        "`torch.nn.functional.scaled_dot_product_attention` and of this lab. "
        "`torch.nn.MultiheadAttention`'s `key_padding_mask` means the opposite "
        "(True = ignore this key), so it needs `~mask`."
    )
with st.expander("The same masks in torch"):
    st.code(
        "real = torch.arange(S) < valid_lens[:, None]   # (B, S), True = real token\n"
        "# SDPA: True = may attend; add a query axis so it broadcasts to (B, L, S)\n"
        "out = F.scaled_dot_product_attention(q, k, v, attn_mask=real[:, None, :])\n"
        "# nn.MultiheadAttention: True = ignore, the opposite convention\n"
        "out, weights = mha(x, x, x, key_padding_mask=~real)\n"
        "# causal, for SDPA: query i sees keys j <= i\n"
        "causal = torch.ones(S, S, dtype=torch.bool).tril()",
        language="python",
    )

# ---------------------------------------------------------------- 2 · per sentence
st.header("2 · The mask and the weights, sentence by sentence", anchor=False)
st.markdown(
    f"**Mask: {kind}.** {KIND_EXPLAINED[kind]} Grey cells with a × are masked: their score "
    "became −∞ before the softmax, so their weight is exactly 0, and the allowed weights of "
    "each row still sum to 1."
)
for b in range(B):
    mask_col, weights_col, text_col = st.columns([0.7, 1.2, 1], gap="medium")
    with mask_col:
        show(drawn["masks"][b])
    with weights_col:
        show(drawn["weights"][b])
    with text_col:
        words = " ".join(escape_markdown(token) for token in batch.tokens[b] if token != PAD)
        pads = S - valid_lens[b]
        lines = [
            f"**Sentence {b + 1}**" + (f": *{words}*" if words else " is empty"),
            f"{valid_lens[b]} real token{'s' * (valid_lens[b] != 1)}, {pads} × `{PAD}`.",
        ]
        empty_rows = np.flatnonzero(attention.fully_masked[b])
        pad_rows = np.flatnonzero(~real[b] & ~attention.fully_masked[b])
        real_rows = real[b]
        if valid_lens[b] == 0 and "padding" not in kind:
            lines.append(
                "It has no real word at all, yet without a padding mask its `<pad>` queries "
                "attend to `<pad>` keys and produce outputs: numbers made of padding, which "
                "the model must never use."
            )
        if empty_rows.size:
            lines.append(
                f"**Rows {positions_text(empty_rows)}** may look at no key at all: "
                + (
                    "the sentence has no real token, so every key is padding. "
                    if valid_lens[b] == 0
                    else "left padding puts these `<pad>` queries before every real word, "
                    "and the causal mask forbids looking ahead. "
                )
                + "A softmax over nothing is undefined; lab (like torch's SDPA) gives such "
                "a row all-zero weights and a zero output. Section 4 shows what the other "
                "ways give."
            )
        if pad_rows.size:
            lines.append(
                f"**Rows {positions_text(pad_rows)}** are `<pad>` queries. They still get "
                "a row of weights, but it means nothing: the loss skips padding positions "
                + (
                    "and every real query masks them as keys, so their outputs go nowhere."
                    if "padding" in kind
                    else "(but here the real words *can* read the padding, see below)."
                )
            )
        if real_rows.any():
            on_padding = float(attention.weight_on_padding[b][real_rows].max())
            if pads and on_padding > 0:
                lines.append(
                    f"The real words put up to **{on_padding:.1%}** of their attention on "
                    "`<pad>`: their outputs depend on what the padding holds."
                    + (
                        " With the padding on the left, the causal mask does not hide it: "
                        "the padding comes *before* the words."
                        if kind == "causal" and batch.padding_side == "left"
                        else ""
                    )
                )
            elif pads:
                reason = (
                    "the padding mask hides it"
                    if "padding" in kind
                    else "the padding comes after them and the causal mask hides the future"
                )
                lines.append(f"The real words put exactly **0** weight on `<pad>`: {reason}.")
        st.markdown("\n\n".join(lines))


# ---------------------------------------------------------------- 3 · leakage
@st.fragment
def leakage_section(
    sentences: tuple[tuple[str, ...], ...], attention: BatchAttention, d_model: int, seed: int
) -> None:
    """Change one token and measure how far every output of its sentence moves."""
    batch = attention.batch
    side = batch.padding_side
    sentence_labels = [sentence_name(tokens, index) for index, tokens in enumerate(batch.tokens)]
    choose_col, position_col, word_col = st.columns([1.6, 1.2, 1], gap="medium")
    with choose_col:
        sentence = choose(
            "Sentence to edit",
            sentence_labels,
            "ma_leak_sentence",
            0,
            on_change=lambda: st.session_state.pop("ma_leak_position", None),
        )
    tokens = batch.tokens[sentence]
    last = batch.last_real(sentence)
    with position_col:
        position = choose(
            "Position to change",
            [f"{index} · {token}" for index, token in enumerate(tokens)],
            "ma_leak_position",
            batch.S - 1 if last is None else last,
            help="Pick the last word, or a `<pad>` to put garbage in the padding.",
        )
    with word_col:
        typed = st.text_input(
            "New token", value=DEFAULT_REPLACEMENT, key="ma_leak_word", max_chars=60
        )
    replacement = tokenize(typed, max_tokens=1)
    if replacement.is_empty:
        st.info("Type a word to put at that position.", icon=":material/edit:")
        return
    new_token = replacement.tokens[0]
    if replacement.dropped:
        st.caption(f"Only one token is swapped in: **{escape_markdown(new_token)}**.")
    if new_token.lower() == tokens[position].lower():
        st.info(
            f"**{escape_markdown(new_token)}** is already at position {position} (case is "
            "ignored: both get the same vector), so nothing would change. Type another word.",
            icon=":material/info:",
        )
        return

    probe = compute_leakage(sentences, side, d_model, seed, sentence, position, new_token)
    kind = attention.kind
    show(leakage_chart(sentences, side, d_model, seed, sentence, position, new_token, kind))
    real = batch.real[sentence].copy()
    changed_pad = not real[position]
    real[position] = False
    lines = []
    for each in probe.kinds:
        if changed_pad:
            moved = probe.max_at(each, real)
            where = "the real words"
            count = int(real.sum())
        else:
            moved = probe.max_earlier(each)
            where = "the earlier positions"
            count = position
        if count == 0:
            continue
        verdict = "changed by **exactly 0**" if moved == 0 else f"moved by up to **{moved:.3g}**"
        marker = "▶ " if each == kind else ""
        lines.append(f"- {marker}*{each}*: {where} ({count}) {verdict}")
    if lines:
        st.markdown("\n".join(lines))
    else:
        st.markdown(
            "There is no earlier position and no other real word here, so there is nothing "
            "that could leak. Pick a later position."
        )
    st.caption(
        "Why exactly 0 and not just small: a masked key's score is −∞, its weight exp(−∞) = 0 "
        "exactly, and 0 × (anything finite) adds nothing to the sum. The changed token reaches "
        "other outputs only through its key and value, and the mask cuts both. Green cells "
        "are exactly 0; the outlined column is the changed position (its own query changed, "
        "so its output always moves)."
    )


st.header("3 · Leakage, measured", anchor=False)
st.markdown(
    "A decoder learns to predict token *i + 1* from tokens *0…i*. If position *i* can see "
    "a later token, training lets it copy the answer instead of predicting it. To test a "
    "mask, change one token and see which outputs move. The table shows all four masks for "
    "the same change."
)
leakage_section(sentences, attention, int(d_model), int(seed))


# ---------------------------------------------------------------- 4 · the wrong ways
def method_verdict(result: MethodResult) -> str:
    """What went right or wrong with one way of masking, in one short paragraph."""
    rows = ~result.fully_masked
    if result.partial_rows_ok():
        partial = "Rows with an allowed key: masked weights exactly 0, each row sums to 1."
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
    elif outcome == "zeros" and result.method == "multiply":
        empty = (
            "Rows with no allowed key: all zeros, by accident (every weight was multiplied "
            "by 0), after a softmax over padding."
        )
    elif outcome == "zeros":
        empty = "Rows with no allowed key: **all zeros**, output 0."
    elif outcome == "uniform":
        empty = (
            f"Rows with no allowed key: **uniform**, 1/{S} = {1 / S:.3f} on every key, "
            "padding included. Wrong, and nothing warns you."
        )
    elif outcome == "nan":
        empty = (
            "Rows with no allowed key: **NaN**. One NaN spreads through every later layer "
            "and into the loss."
        )
    else:
        empty = "Rows with no allowed key: some other non-zero weights."
    return f"{partial} {empty}"


@st.fragment
def wrong_ways_section(
    sentences: tuple[tuple[str, ...], ...], attention: BatchAttention, d_model: int, seed: int
) -> None:
    """The four ways of masking on the same scores, side by side."""
    batch = attention.batch
    most_padding = int(np.argmin(batch.valid_lens))
    sentence_col, fill_col, precision_col = st.columns([1.6, 1, 1.1], gap="medium")
    with sentence_col:
        sentence = choose(
            "Scores of",
            [sentence_name(tokens, index) for index, tokens in enumerate(batch.tokens)],
            "ma_wrong_sentence",
            most_padding,
        )
    with fill_col:
        fill = st.selectbox(
            "Big negative fill",
            list(FILL_VALUES),
            format_func=fill_text,
            key="ma_wrong_fill",
            help="What people write instead of -inf.",
        )
    with precision_col:
        precision = st.segmented_control(
            "Precision",
            list(PRECISIONS),
            default="float32",
            required=True,
            key="ma_wrong_dtype",
            help="float16 (half precision) is what models use on GPUs to save memory.",
        )
    precision = precision or "float32"
    mask_rows = st.toggle(
        "Also mask the rows of `<pad>` queries (a mask built from both sides: real query "
        "AND real key), so that they may look at no key at all",
        value=True,
        key="ma_wrong_rows",
    )
    computed = wrong_ways(
        sentences,
        batch.padding_side,
        attention.kind,
        d_model,
        seed,
        sentence,
        fill,
        precision,
        mask_rows,
    )
    if computed is None:
        st.info(
            f"With the mask *{attention.kind}*, nothing is masked in this sentence, so all "
            "four ways give the same weights. Pick a mask above, a sentence with padding, or "
            "turn on *Also mask the rows of `<pad>` queries*.",
            icon=":material/info:",
        )
        return
    results, method_charts = computed
    tokens = list(batch.tokens[sentence])
    allowed = results[0].allowed
    fill_label = fill_text(fill)
    st.markdown(
        f"The same scaled scores of sentence {sentence + 1}, mask *{attention.kind}*"
        + (" with the `<pad>` queries' rows masked too" if mask_rows else "")
        + ". Dashed outlines mark masked cells; here their values stay visible, so you can "
        "see what each way put there. Red cells are NaN."
    )
    by_method = {result.method: result for result in results}
    for pair in ((0, 1), (2, 3)):
        for index, column in zip(pair, st.columns(2, gap="large"), strict=True):
            with column:
                show(method_charts[index])
                st.markdown(method_verdict(results[index]))

    st.subheader("Row sums", anchor=False)
    table = pd.DataFrame(
        {
            "query": [f"{index} · {token}" for index, token in enumerate(tokens)],
            "keys allowed": allowed.sum(axis=-1),
        }
        | {
            METHOD_COLUMNS[method].format(fill=fill_label, precision=precision): [
                "NaN" if np.isnan(total) else f"{total:.4f}" for total in by_method[method].row_sums
            ]
            for method in METHODS
        }
    )
    st.dataframe(table, hide_index=True)
    correct = [
        METHOD_COLUMNS[result.method].format(fill=fill_label, precision=precision)[2:]
        for result in results
        if result.partial_rows_ok() and result.fully_masked_outcome() in (None, "zeros")
    ]
    st.caption(
        "A row should sum to 1 if it may look at some key and to 0 if it may look at none. "
        f"Right on every row of this sentence: {', '.join(correct)}."
    )

    # -1e9 is quoted below on purpose: this part of the page shows the wrong way.
    st.subheader("−1e9 in half precision", anchor=False)
    fills = [*FILL_VALUES, -np.inf]
    storage = pd.DataFrame(
        {
            "fill value": [fill_text(value) for value in fills],
            **{
                f"stored in {name}": [fill_text(stored_fill_value(value, dtype)) for value in fills]
                for name, dtype in PRECISIONS.items()
            },
        }
    )
    info_col, table_col = st.columns([1.3, 1], gap="large")
    with table_col:
        st.dataframe(storage, hide_index=True)
    with info_col:
        st.markdown(
            "float16 cannot hold anything below −65504, so **−1e9 and −1e6 overflow to −∞** "
            "when written into a half-precision tensor (torch refuses outright: "
            "`masked_fill(mask, -1e9)` on a float16 tensor raises *value cannot be "
            "converted to type c10::Half without overflow*). The big number then behaves "
            "like −∞ with a plain softmax, and an empty row becomes NaN. −1e4 fits, but an "
            "empty row is still uniform."
        )

    st.subheader("What lab does with a row that has nothing to look at", anchor=False)
    st.markdown(
        "An empty row has no keys to average, so the honest answer is **no weight at all**: "
        "zeros, and an output of 0. A uniform row would invent an average of padding; NaN "
        "would poison the loss of the whole batch. `lab.attention.masked_softmax` fills with "
        "−∞ and then guards the one place where −∞ − (−∞) would appear:"
    )
    st.code(
        "filled = np.where(allowed, scores, -np.inf)          # masked scores: exactly -inf\n"
        "row_max = filled.max(axis=-1, keepdims=True)         # -inf for an empty row\n"
        "shift = np.where(np.isneginf(row_max), 0.0, row_max)  # shift an empty row by 0\n"
        "exps = np.exp(filled - shift)                        # exp(-inf) = 0, never NaN\n"
        "totals = exps.sum(axis=-1, keepdims=True)            # 0 for an empty row\n"
        "weights = exps / np.where(totals > 0, totals, 1.0)   # 0 / 1 = 0, not 0 / 0",
        language="python",
    )
    st.markdown(
        "torch's `scaled_dot_product_attention` gives the same zeros (checked against torch "
        "2.13 in this lab's tests), but `nn.MultiheadAttention` on an all-padding sentence "
        "still returns NaN on its general path: check what your library does before trusting "
        "an empty row."
    )


st.header("4 · The wrong ways, side by side", anchor=False)
st.markdown(
    "Four ways to apply the same mask to the same scores. Three of them look right on an "
    "ordinary row; the difference shows on rows that may look at nothing, and in the row sums."
)
wrong_ways_section(sentences, attention, int(d_model), int(seed))

st.divider()
notes(
    what_to_notice=[
        "A masked weight is exactly 0, not merely small, and the allowed weights of each row "
        "still sum to 1: the softmax shares the whole budget among the keys it may see.",
        "With a causal mask, changing a later token moves the earlier outputs by exactly 0.",
        "−1e9 looks right on every ordinary row. It goes wrong only on a row with nothing to "
        "look at (uniform instead of empty) and in float16 (it overflows).",
        "Multiplying by the mask after the softmax zeroes the right cells but loses weight: "
        "the rows no longer sum to 1.",
        "A `<pad>` query's row is computed like any other; it is harmless only because "
        "nobody reads its output.",
    ],
    try_this=[
        "Set the mask to *none*: how much of the real words' attention lands on `<pad>` in "
        "sentence 2? Switch to *padding* and check the number again.",
        "In section 3, change the last word of sentence 1. Under which masks do the earlier "
        "outputs stay exactly the same, and why?",
        "Change a `<pad>` instead, with the mask *causal*. Are the real words safe with the "
        "padding on the right? And on the left?",
        "Empty one sentence. What are its rows under *padding*, and under *none*?",
        "In section 4, switch to float16 with −1e9, then with −1e4. What happens to the "
        "empty rows?",
    ],
)
