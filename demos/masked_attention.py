"""Masked attention: padding and causal masks, leakage measured, and the wrong ways to mask."""

import inspect
from enum import Enum
from typing import TypeVar

import numpy as np
import pyarrow as pa
import streamlit as st

from app import ui
from app.charts import draw
from lab import attention as lab_attention
from lab import charts
from lab.exercises import Exercise
from lab.masked_attention import (
    DEFAULT_BATCH,
    DEFAULT_SENTENCES,
    PAD,
    BatchAttention,
    LeakageProbe,
    MaskingConfig,
    MaskKind,
    PaddedBatch,
    PaddingSide,
    Precision,
    batch_attention,
    leakage_probe,
    pad_batch,
    page_exercises,
    prose,
    torch_masks,
)
from lab.masked_attention import charts as mask_charts
from lab.text import escape_markdown, position_labels, tokenize

SLUG = "masked_attention"
MAX_TOKENS = 10  # per sentence: keeps four heatmaps side by side readable
DEFAULT_REPLACEMENT = "dog"
# The big negative fills people use instead of -inf. Deliberately the wrong way: the
# page shows where each one goes wrong (the right way is -inf, as lab.attention does).
FILL_VALUES = (-1e9, -1e6, -1e4)
GLANCE = 180  # pixels of cells for the first screen's heatmap
PANEL = 260  # pixels of cells for a sentence's weights heatmap
MASK_PANEL = 140  # pixels of cells for the small mask beside it (positions as labels)
HALF = 320  # pixels of cells for one of two charts side by side

Sentences = tuple[tuple[str, ...], ...]
MemberT = TypeVar("MemberT", bound=Enum)


@st.cache_data(max_entries=256, show_spinner=False)
def compute(
    sentences: Sentences, side: PaddingSide, kind: MaskKind, d_model: int, seed: int
) -> BatchAttention:
    config = MaskingConfig(d_model=d_model, seed=seed, padding_side=side)
    return batch_attention(pad_batch(sentences, padding_side=side), kind, config)


@st.cache_data(max_entries=256, show_spinner=False)
def compute_leakage(
    sentences: Sentences,
    side: PaddingSide,
    d_model: int,
    seed: int,
    sentence: int,
    position: int,
    new_token: str,
) -> LeakageProbe:
    config = MaskingConfig(d_model=d_model, seed=seed, padding_side=side)
    batch = pad_batch(sentences, padding_side=side)
    return leakage_probe(batch, sentence, position, new_token, config)


@st.cache_data(max_entries=256, show_spinner=False)
def compute_wrong_ways(
    key: tuple, sentence: int, fill: float, precision: Precision, pad_rows: bool
) -> prose.WrongWaysView | None:
    return prose.wrong_ways_view(compute(*key), sentence, fill, precision, pad_rows)


SHOWN_CODE = {  # the lab's own functions the page prints
    "sdpa": torch_masks.torch_masked_attention,
    "mha": torch_masks.torch_multihead_attention,
    "safe_softmax": lab_attention._safe_softmax,
    "masked_softmax": lab_attention.masked_softmax,
}


@st.cache_resource(show_spinner=False)
def sources() -> dict[str, str]:
    """The source of each of :data:`SHOWN_CODE`, read once per server."""
    return {name: inspect.getsource(function) for name, function in SHOWN_CODE.items()}


@st.cache_data(max_entries=256, show_spinner=False)
def compute_exercises(
    sentences: Sentences, side: PaddingSide, d_model: int, seed: int
) -> list[Exercise]:
    return page_exercises(sentences, MaskingConfig(d_model, seed, side))


def draw_weights(attention: BatchAttention, sentence: int, title: str, max_width: int) -> None:
    """One sentence's weights, masked cells grey with a cross."""
    tokens = list(attention.batch.tokens[sentence])
    draw(
        charts.weights_heatmap,
        attention.weights[sentence],
        tokens,
        tokens,
        title=title,
        mask=attention.allowed[sentence],
        max_width=max_width,
        legend=False,
    )


def choose_member(label: str, default: MemberT, *, key: str, help: str) -> MemberT:
    """One member of ``default``'s enum, shown (and kept in the address) by its value."""
    members = list(type(default))
    return ui.segmented(
        label, members, default, key=key, format_func=lambda item: item.value, help=help
    )


def choose_sentence(label: str, batch: PaddedBatch, *, key: str, default: int = 0) -> int:
    """A sentence of the batch, chosen by its words; an edited sentence stays chosen."""
    labels = [prose.sentence_label(tokens, index) for index, tokens in enumerate(batch.tokens)]
    return ui.choose(
        label,
        labels,
        key=key,
        default=default,
        fallback=lambda old: prose.same_sentence(labels, old),
    )


ui.page_header(SLUG)
code = sources()
with st.container(border=True):
    kind_col, side_col, d_col, seed_col = st.columns([3.3, 1.2, 1.35, 0.8], gap="medium")
    with kind_col:
        kind = choose_member(
            "Mask", MaskKind.PADDING, key="mask", help="Which keys each query may look at."
        )
    with side_col:
        side = choose_member(
            "Pad on the",
            PaddingSide.RIGHT,
            key="side",
            help="Right: after the words (training, encoders). Left: before them "
            "(batched generation, so every sentence ends at the same position).",
        )
    with d_col:
        d_model = ui.slider(
            "Embedding size d",
            1,
            MaskingConfig.max_d_model,
            MaskingConfig.d_model,
            key="d",
            help="Also the size of Q, K and V.",
        )
    with seed_col:
        seed = ui.seed(
            help="Draws the word vectors and W_q, W_k, W_v. A word's vector depends only on "
            "the word and the seed (as on the self-attention page); `<pad>` has its own."
        )
    count_col, sentence_col = st.columns([0.9, 4.2], gap="medium")
    with count_col:
        count = ui.segmented(
            "Sentences",
            [2, 3, 4],
            DEFAULT_BATCH,
            key="sentences",
            help=f"The batch: up to {MAX_TOKENS} tokens per sentence. Leave a box empty for "
            "a sentence that is all padding.",
        )
    with sentence_col:
        boxes = st.columns(count, gap="small")
    token_lists: list[tuple[str, ...]] = []
    cut: list[str] = []  # shown below the boxes, where a warning has room
    for index, box in enumerate(boxes):
        with box:
            typed = ui.text(
                f"Sentence {index + 1}",
                DEFAULT_SENTENCES[index],
                key=f"sentence_{index + 1}",
                max_chars=300,
                placeholder="empty = all padding",
            )
            tokenized = tokenize(typed, max_tokens=MAX_TOKENS)
            if tokenized.is_empty:
                st.caption("Empty: all `<pad>`, valid length 0.")
            token_lists.append(tokenized.tokens)
            if tokenized.dropped:
                cut.append(f"Sentence {index + 1}: {tokenized.message}")
    for message in cut:
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
valid_lens = [int(length) for length in batch.valid_lens]
positions = [str(position) for position in range(S)]

# ---------------------------------------------------------------- the point, on the first screen
showcase = batch.most_padded(with_words=True)
glance_chart, glance_text = st.columns([1, 1.25], gap="large")
with glance_chart:
    draw_weights(
        attention,
        showcase,
        f"Weights, sentence {showcase + 1}, mask {kind.value} ({S} × {S})",
        GLANCE,
    )
with glance_text:
    st.latex(
        r"\begin{aligned}\mathrm{output} &= \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d}}"
        r" + M\right)V \\ M_{ij} &= \begin{cases} 0 & \text{query } i \text{ may look at key }"
        r" j \\ -\infty & \text{otherwise} \end{cases}\end{aligned}"
    )
    st.markdown(prose.glance(attention, showcase))

# ---------------------------------------------------------------- 1 · the padded batch
st.header("1 · Pad the batch to one length", anchor=False)
st.markdown(
    f"A batch is one array, so its {B} sentences must have the same length. Each is padded "
    f"with `{PAD}` to the longest one: shape **(B, S) = ({B}, {S})**, valid lengths "
    f"**valid_lens = {valid_lens}**. The padding is there for the array's sake only; a "
    "padding mask makes sure no real word ever reads it."
)
grid_col, key_col = st.columns([1.35, 1], gap="large")
with grid_col:
    draw(
        mask_charts.batch_grid,
        batch.tokens,
        batch.real,
        row_labels=[f"sentence {b + 1} · {valid_lens[b]}" for b in range(B)],
        title=f"The padded batch ({B} × {S}), with each sentence's valid length",
        cell_width=max(40, min(66, 600 // S)),
    )
with key_col:
    draw(
        mask_charts.mask_heatmap,
        batch.real,
        [f"sentence {b + 1}" for b in range(B)],
        positions,
        title=f"Key padding mask ({B} × {S})",
        row_title=None,
        col_title="key position",
        cell_size=max(24, min(40, 300 // S)),
    )
    st.caption(
        "True means *a real token, may be attended to*: the convention of "
        "`torch.nn.functional.scaled_dot_product_attention` and of this lab. "
        "`torch.nn.MultiheadAttention`'s `key_padding_mask` and boolean `attn_mask` mean the "
        "opposite (True = ignore this key), so they need `~mask`."
    )
with st.expander("The same masks in torch (right padding), run by the lab's tests"):
    st.code(code["sdpa"], language="python", wrap_lines=True)
    st.code(code["mha"], language="python", wrap_lines=True)

# ---------------------------------------------------------------- 2 · per sentence
st.header("2 · The mask and the weights, sentence by sentence", anchor=False)
st.markdown(
    f"**Mask: {kind.value}.** {prose.KIND_EXPLAINED[kind]} Grey cells with a × are masked: "
    "their score became −∞ before the softmax, so their weight is exactly 0, and the allowed "
    "weights of each row still sum to 1."
)
for b in range(B):
    mask_col, weights_col, text_col = st.columns([0.7, 1.2, 1], gap="medium")
    with mask_col:
        draw(
            mask_charts.mask_heatmap,
            attention.allowed[b],
            positions,
            positions,
            title=f"Mask, sentence {b + 1}",
            cell_size=max(10, min(20, MASK_PANEL // S)),
        )
    with weights_col:
        draw_weights(attention, b, f"Weights, sentence {b + 1} ({S} × {S})", PANEL)
    with text_col:
        st.markdown("\n\n".join(prose.sentence_notes(attention, b)))


# ---------------------------------------------------------------- 3 · leakage
@st.fragment
def leakage_section(
    sentences: Sentences, side: PaddingSide, kind: MaskKind, d_model: int, seed: int
) -> None:
    """Change one token and measure how far every output of its sentence moves."""
    batch = pad_batch(sentences, padding_side=side)
    choose_col, position_col, word_col = st.columns([1.6, 1.2, 1], gap="medium")
    with choose_col:
        sentence = choose_sentence("Sentence to edit", batch, key="edit")
    tokens = batch.tokens[sentence]
    last = batch.last_real(sentence)
    with position_col:
        position = ui.choose(
            "Position to change",
            position_labels(tokens),
            key="position",
            default=batch.S - 1 if last is None else last,
            help="Pick the last word, or a `<pad>` to put garbage in the padding.",
        )
    with word_col:
        typed = ui.text("New token", DEFAULT_REPLACEMENT, key="token", max_chars=60)
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
    draw(
        mask_charts.leakage_heatmap,
        probe.changes,
        [item.value for item in probe.kinds],
        probe.tokens,
        position,
        highlight=kind.value,
        title=f"Replace '{probe.old_token}' at position {position} by '{new_token}': "
        "how far each output moved (max |Δ|)",
        cell_width=max(44, min(76, 560 // batch.S)),
    )
    st.markdown(prose.leakage_lines(probe, batch.real[sentence], kind))
    st.caption(prose.WHY_EXACTLY_ZERO)


st.header("3 · Leakage, measured", anchor=False)
st.markdown(
    "A decoder learns to predict token *i + 1* from tokens *0…i*. If position *i* can see "
    "a later token, training lets it copy the answer instead of predicting it. To test a "
    "mask, change one token and see which outputs move. The table shows all four masks for "
    "the same change."
)
leakage_section(sentences, side, kind, int(d_model), int(seed))


# ---------------------------------------------------------------- 4 · the wrong ways
@st.fragment
def wrong_ways_section(
    sentences: Sentences, side: PaddingSide, kind: MaskKind, d_model: int, seed: int
) -> None:
    """The four ways of masking on the same scores, side by side."""
    batch = pad_batch(sentences, padding_side=side)
    sentence_col, fill_col, precision_col = st.columns([1.6, 1.3, 1], gap="medium")
    with sentence_col:
        sentence = choose_sentence("Scores of", batch, key="scores", default=batch.most_padded())
    with fill_col:
        fill = ui.segmented(
            "Big negative fill",
            FILL_VALUES,
            FILL_VALUES[0],
            key="fill",
            format_func=prose.fill_label,
            help="What people write instead of -inf.",
        )
    with precision_col:
        precision = choose_member(
            "Precision",
            Precision.FLOAT32,
            key="precision",
            help="float16 (half precision) is what models use on GPUs to save memory.",
        )
    pad_rows = ui.toggle(
        "Also mask the rows of `<pad>` queries (a mask built from both sides: real query "
        "AND real key), so that they may look at no key at all",
        True,
        key="pad_rows",
    )
    key = (sentences, side, kind, d_model, seed)
    view = compute_wrong_ways(key, sentence, fill, precision, pad_rows)
    if view is None:
        st.info(
            f"With the mask *{kind.value}*, nothing is masked in this sentence, so "
            "all four ways give the same weights. Pick a mask above, a sentence with padding, "
            "or turn on *Also mask the rows of `<pad>` queries*.",
            icon=":material/info:",
        )
        return
    tokens = list(batch.tokens[sentence])
    st.markdown(view.intro)
    for start in (0, 2):
        for index, column in zip((start, start + 1), st.columns(2, gap="large"), strict=True):
            with column:
                result = view.results[index]
                draw(
                    mask_charts.method_heatmap,
                    result.weights,
                    result.allowed,
                    tokens,
                    tokens,
                    title=view.titles[index],
                    max_width=HALF - 60,
                )
                st.markdown(view.verdicts[index])

    st.subheader("Row sums", anchor=False)
    st.dataframe(pa.table(view.row_sums), hide_index=True)
    st.caption(view.caption)

    # -1e9 is quoted below on purpose: this part of the page shows where it goes wrong.
    st.subheader("−1e9 in half precision", anchor=False)
    info_col, table_col = st.columns([1.3, 1], gap="large")
    with table_col:
        st.dataframe(pa.table(prose.fill_storage_table([*FILL_VALUES, -np.inf])), hide_index=True)
    with info_col:
        st.markdown(prose.HALF_PRECISION)


st.header("4 · The wrong ways, side by side", anchor=False)
st.markdown(prose.WRONG_WAYS_INTRO)
wrong_ways_section(sentences, side, kind, int(d_model), int(seed))

st.subheader("What lab does with a row that has nothing to look at", anchor=False)
st.markdown(prose.EMPTY_ROW)
st.code(code["safe_softmax"], language="python", wrap_lines=True)
with st.expander("`masked_softmax`, which fills the masked scores with −∞ and calls it"):
    st.code(code["masked_softmax"], language="python", wrap_lines=True)
st.markdown(prose.TORCH_EMPTY_ROWS)

ui.page_end(
    SLUG,
    notice=prose.WHAT_TO_NOTICE,
    exercises=compute_exercises(sentences, side, int(d_model), int(seed)),
)
