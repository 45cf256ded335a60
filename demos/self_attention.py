"""Self-attention, step by step: X -> Q, K, V -> scores -> scaled -> weights -> output."""

import numpy as np
import pandas as pd
import streamlit as st

from app_ui import notes, page_header, sentence_tokens
from app_ui import show_chart as show
from lab import charts
from lab.self_attention import SelfAttentionConfig, SelfAttentionSteps, self_attention_steps
from lab.text import escape_markdown, position_labels

MAX_TOKENS = 12
MAX_D = SelfAttentionConfig.max_d_model
WIDE = 620  # pixels of cells for one matrix that has the row to itself
HALF = 380  # pixels of cells for one of two charts side by side
THIRD = 150  # pixels of cells for one of three matrices side by side (room left for the legend)


@st.cache_data(max_entries=256, show_spinner=False)
def compute(
    tokens: tuple[str, ...], d_model: int, seed: int, positional: bool
) -> SelfAttentionSteps:
    config = SelfAttentionConfig(d_model=d_model, seed=seed, positional=positional)
    return self_attention_steps(tokens, config)


def side_by_side(named_matrices, row_labels, row_title: str = "token") -> None:
    """Matrices in one row of columns, on one colour scale with one legend."""
    shared = charts.symmetric_domain(*(matrix for _, matrix in named_matrices))
    columns = st.columns(len(named_matrices))
    for index, (column, (name, matrix)) in enumerate(zip(columns, named_matrices, strict=True)):
        with column:
            show(
                charts.matrix_view(
                    matrix,
                    row_labels,
                    name,
                    row_title=row_title,
                    max_width=THIRD,
                    domain=shared,
                    legend=index == len(named_matrices) - 1,
                )
            )


page_header("self_attention")
st.latex(
    r"Q = XW_q,\quad K = XW_k,\quad V = XW_v,\qquad"
    r"\mathrm{output} = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d}}\right)V"
)

with st.container(border=True):
    sentence_col, d_col, seed_col, position_col = st.columns([3, 1.5, 0.9, 1.5], gap="medium")
    with sentence_col:
        tokenized = sentence_tokens(
            "Sentence",
            default="The quick brown fox",
            key="sa_sentence",
            max_tokens=MAX_TOKENS,
            help=f"Up to {MAX_TOKENS} tokens; punctuation and emoji count as tokens.",
        )
    with d_col:
        d_model = st.slider(
            "Embedding size d",
            1,
            MAX_D,
            5,
            key="sa_d",
            help="Also the size of each query, key and value.",
        )
    with seed_col:
        seed = st.number_input(
            "Seed",
            0,
            9999,
            0,
            step=1,
            key="sa_seed",
            help="Draws the embeddings and W_q, W_k, W_v.",
        )
    with position_col:
        positional = st.toggle(
            "Add positions",
            value=False,
            key="sa_positional",
            help="Add sinusoidal positional encodings to X, so equal words at different places differ.",
        )

if tokenized.is_empty:
    st.stop()

steps = compute(tokenized.tokens, int(d_model), int(seed), positional)
labels = list(steps.tokens)
L, d = steps.x.shape

st.header("1 · Tokens become vectors", anchor=False)
st.markdown(
    f"The sentence splits into **L = {L}** tokens. Each token looks up a vector of size "
    f"**d = {d}** (random here, learned in a real model); stacked, they form **X**."
)
if positional:
    side_by_side(
        [
            ("word vectors", steps.embeddings),
            ("positions P", steps.x - steps.embeddings),
            ("X = word vectors + P", steps.x),
        ],
        labels,
    )
else:
    show(charts.matrix_view(steps.x, labels, "X", max_width=WIDE))

st.header("2 · Three projections: Q, K, V", anchor=False)
st.markdown(
    "The same X is multiplied by three different matrices. A row of **Q** says what a token "
    "is looking for, a row of **K** what it offers to be found by, a row of **V** what it "
    "hands over when it is picked."
)
side_by_side([("Q = X W_q", steps.q), ("K = X W_k", steps.k), ("V = X W_v", steps.v)], labels)
with st.expander(f"The projection matrices W_q, W_k, W_v ({d} × {d} each)"):
    side_by_side(
        [("W_q", steps.w_q), ("W_k", steps.w_k), ("W_v", steps.w_v)],
        [str(index) for index in range(d)],
        row_title="input feature",
    )

st.header("3 · Scores, then scaling", anchor=False)
st.markdown(
    "Every query is compared with every key by a dot product: entry *(i, j)* of "
    "**Q Kᵀ** says how well token *i*'s query matches token *j*'s key. Dividing by "
    f"√d = {np.sqrt(d):.3f} keeps the spread of the scores from growing with d."
)
cols = st.columns(2)
with cols[0]:
    show(
        charts.heatmap(
            steps.scores,
            labels,
            labels,
            title=f"scores = Q Kᵀ   ({L} × {L})",
            signed=True,
            value_title="score",
            max_width=HALF,
        )
    )
with cols[1]:
    show(
        charts.heatmap(
            steps.scaled_scores,
            labels,
            labels,
            title=f"scaled = Q Kᵀ / √{d}   ({L} × {L})",
            signed=True,
            value_title="scaled score",
            max_width=HALF,
        )
    )

st.header("4 · Softmax turns each row into weights", anchor=False)
st.markdown(
    "Softmax is applied **row by row**: each query gets a distribution over the keys, "
    "non-negative and summing to 1. Then the output row *i* is the weighted average "
    "of the value rows with those weights."
)
cols = st.columns(2)
with cols[0]:
    show(
        charts.weights_heatmap(
            steps.weights,
            labels,
            labels,
            title=f"weights = softmax(scaled)   ({L} × {L})",
            max_width=HALF,
        )
    )
with cols[1]:
    show(charts.matrix_view(steps.output, labels, "output = weights · V", max_width=HALF))


@st.fragment
def query_up_close(steps: SelfAttentionSteps) -> None:
    """One query's row, recomputed alone when the learner picks another query."""
    tokens = list(steps.tokens)
    positions = position_labels(tokens)
    # The options are the labels themselves: with integer options and a format_func,
    # the browser keeps showing the old label ("3 · fox") after the sentence changes.
    choice = st.selectbox(
        "Query token",
        options=positions,
        index=min(3, len(tokens) - 1),
        key="sa_query",
    )
    query = positions.index(choice)
    weights = steps.weights[query]
    strongest = int(np.argmax(weights))
    cols = st.columns(2, gap="large")
    with cols[0]:
        show(
            charts.bar_chart(
                steps.scaled_scores[query],
                tokens,
                title=f"Scaled scores of '{tokens[query]}' (row {query})",
                value_title="q · k / √d",
            )
        )
    with cols[1]:
        show(
            charts.bar_chart(
                weights,
                tokens,
                title=f"Its weights (sum = {weights.sum():.3f})",
                domain=(0.0, 1.0),
                highlight=strongest,
            )
        )
    st.markdown(
        f"Query **{escape_markdown(positions[query])}** puts the most weight, "
        f"**{weights[strongest]:.3f}**, on key **{escape_markdown(positions[strongest])}**. Its output is the sum of each value row times its weight: "
        "the coloured segments below stack up to the black ticks, which are exactly "
        f"row {query} of the output."
    )
    cols = st.columns([3, 2], gap="large")
    with cols[0]:
        show(
            charts.stacked_contributions(
                steps.contributions(query), tokens, title="output row = Σⱼ wⱼ · vⱼ"
            )
        )
    with cols[1]:
        table = pd.DataFrame(
            {
                "key": positions,
                "score": steps.scores[query],
                "scaled": steps.scaled_scores[query],
                "weight": weights,
            }
        )
        st.dataframe(
            table,
            hide_index=True,
            column_config={
                name: st.column_config.NumberColumn(format="%.3f")
                for name in ("score", "scaled", "weight")
            },
        )
        st.caption("output row: " + ", ".join(f"{value:.3f}" for value in steps.output[query]))


st.header("5 · One query up close", anchor=False)
query_up_close(steps)

st.divider()
notes(
    what_to_notice=[
        "Every row of the weights sums to 1: each output is an average of value rows, "
        "so it stays within their range.",
        "The scores matrix is not symmetric: *i* looking for *j* (q_i · k_j) is not *j* "
        "looking for *i*.",
        "With positions off, a repeated word (type *the cat saw the dog*) gets identical rows "
        "in Q, K, V, the weights and the output: attention alone does not know word order.",
        "The scaled scores are the raw ones divided by √d, so softmax sees numbers of "
        "moderate size whatever d is.",
    ],
    try_this=[
        "Raise d from 5 to 16. Do the raw scores spread more than the scaled ones?",
        "Type *the cat saw the dog*. Why are the two *the* rows identical? Switch on "
        "*Add positions*: what changes?",
        "Change the seed a few times. Which query spreads its weight the most evenly, "
        "and how can you tell from the scores?",
        "Pick a query and check one output number by hand from the table: Σ weight × value.",
    ],
)
