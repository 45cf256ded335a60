"""Self-attention, step by step: X -> Q, K, V -> scores -> scaled -> weights -> output."""

import inspect

import numpy as np
import pandas as pd
import streamlit as st

from app import ui
from app.charts import draw
from lab import charts
from lab.self_attention import (
    SelfAttentionConfig,
    SelfAttentionSteps,
    page_exercises,
    self_attention,
    self_attention_steps,
)
from lab.text import escape_markdown, position_labels

SLUG = "self_attention"
MAX_TOKENS = 12
HALF = 380  # pixels of cells for one of two charts side by side
THIRD = 150  # pixels of cells for one of three matrices side by side (room left for the legend)


@st.cache_data(max_entries=256, show_spinner=False)
def compute(
    tokens: tuple[str, ...], d_model: int, seed: int, positional: bool
) -> SelfAttentionSteps:
    return self_attention_steps(
        tokens, SelfAttentionConfig(d_model=d_model, seed=seed, positional=positional)
    )


def side_by_side(named_matrices, row_labels, row_title: str = "token") -> None:
    """Matrices in one row of columns, on one colour scale with one legend."""
    shared = charts.symmetric_domain(*(matrix for _, matrix in named_matrices))
    columns = st.columns(len(named_matrices))
    last = len(named_matrices) - 1
    for index, (column, (name, matrix)) in enumerate(zip(columns, named_matrices, strict=True)):
        with column:
            draw(
                charts.matrix_view,
                matrix,
                row_labels,
                name,
                row_title=row_title,
                max_width=THIRD,
                domain=shared,
                legend=index == last,
            )


def score_map(scores, labels, title: str, domain: tuple[float, float], legend: bool = True) -> None:
    """A score matrix on the signed colour scale that the raw and the scaled scores share."""
    draw(
        charts.heatmap,
        scores,
        labels,
        labels,
        title=title,
        signed=True,
        value_title="score",
        max_width=HALF,
        domain=domain,
        legend=legend,
    )


ui.page_header(SLUG)
st.latex(
    r"Q = XW_q,\quad K = XW_k,\quad V = XW_v,\qquad"
    r"\mathrm{output} = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d}}\right)V"
)

with st.container(border=True):
    sentence_col, d_col, seed_col, position_col = st.columns([3, 1.5, 0.9, 1.5], gap="medium")
    with sentence_col:
        tokenized = ui.sentence(
            "Sentence",
            default="The quick brown fox",
            key="sentence",
            max_tokens=MAX_TOKENS,
            help=f"Up to {MAX_TOKENS} tokens; punctuation and emoji count as tokens.",
        )
    with d_col:
        d_model = ui.slider(
            "Embedding size d",
            1,
            SelfAttentionConfig.max_d_model,
            5,
            key="d",
            help="Also the size of each query, key and value.",
        )
    with seed_col:
        seed = ui.seed(help="Draws the word vectors and W_q, W_k, W_v.")
    with position_col:
        positional = ui.toggle(
            "Add positions",
            False,
            key="positions",
            help="Add sinusoidal positional encodings to X, so equal words at different "
            "places differ.",
        )

if tokenized.is_empty:
    st.stop()

config = SelfAttentionConfig(d_model=int(d_model), seed=int(seed), positional=positional)
steps = compute(tokenized.tokens, config.d_model, config.seed, config.positional)
labels = list(steps.tokens)
L, d = steps.x.shape

glance_weights, glance_text = st.columns([1.1, 1], gap="large")
with glance_weights:
    draw(
        charts.weights_heatmap,
        steps.weights,
        labels,
        labels,
        title=f"The result: attention weights   ({L} × {L})",
        max_width=HALF,
    )
with glance_text:
    top = int(np.argmax(steps.weights[-1]))
    st.markdown(
        f"Each row is one token asking *which tokens matter to me?*: its weights over the "
        f"{L} keys are non-negative and sum to 1. The last token, "
        f"**{escape_markdown(labels[-1])}**, gives most weight "
        f"({steps.weights[-1, top]:.2f}) to **{escape_markdown(labels[top])}**. Its new "
        "vector, a row of the output, is the weighted average of the value rows with these "
        "weights. The sections below build this matrix one step at a time."
    )

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
    draw(charts.matrix_view, steps.x, labels, "X", max_width=620)

st.header("2 · Three projections: Q, K, V", anchor=False)
st.markdown(
    "The same X is multiplied by three different matrices. A row of **Q** says what a token "
    "is looking for, a row of **K** what it offers to be found by, and a row of **V** what it "
    "contributes to the weighted average that every query takes."
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
    r"Every query is compared with every key by a dot product: entry $(i, j)$ of "
    r"$QK^\top$ is $q_i \cdot k_j$, how well token $i$'s query matches token $j$'s key. "
    f"Dividing by √d = {np.sqrt(d):.3f} keeps the spread of the scores from growing with d. "
    "Both heatmaps share one colour scale, so the scaled one looks paler by exactly that factor."
)
score_domain = charts.symmetric_domain(steps.scores, steps.scaled_scores)
cols = st.columns(2)
with cols[0]:
    score_map(steps.scores, labels, f"scores = Q Kᵀ   ({L} × {L})", score_domain, legend=False)
with cols[1]:
    score_map(steps.scaled_scores, labels, f"scaled = Q Kᵀ / √{d}   ({L} × {L})", score_domain)

st.header("4 · Softmax turns each row into weights", anchor=False)
st.markdown(
    "Softmax is applied **row by row**: each query gets a distribution over the keys, "
    "non-negative and summing to 1 (the matrix at the top). The output row *i* is then the "
    "weighted average of the value rows with those weights."
)
cols = st.columns(2)
with cols[0]:
    draw(
        charts.weights_heatmap,
        steps.weights,
        labels,
        labels,
        title=f"weights = softmax(scaled)   ({L} × {L})",
        max_width=HALF,
    )
with cols[1]:
    draw(charts.matrix_view, steps.output, labels, "output = weights · V", max_width=HALF)


@st.fragment
def query_up_close(steps: SelfAttentionSteps) -> None:
    """One query's row, redrawn alone when the learner picks another query."""
    tokens = list(steps.tokens)
    positions = position_labels(tokens)
    query = ui.choose(
        "Query token",
        positions,
        key="query",
        default=min(3, len(tokens) - 1),
    )
    weights = steps.weights[query]
    strongest = int(np.argmax(weights))
    cols = st.columns(2, gap="large")
    with cols[0]:
        draw(
            charts.bar_chart,
            steps.scaled_scores[query],
            tokens,
            title=f"Scaled scores of '{tokens[query]}' (row {query})",
            value_title="q · k / √d",
        )
    with cols[1]:
        draw(
            charts.bar_chart,
            weights,
            tokens,
            title=f"Its weights (sum = {weights.sum():.3f})",
            domain=(0.0, 1.0),
            highlight=strongest,
        )
    st.markdown(
        f"Query **{escape_markdown(positions[query])}** puts the most weight, "
        f"**{weights[strongest]:.3f}**, on key **{escape_markdown(positions[strongest])}**. "
        r"Its output is $\sum_j w_j v_j$: per feature, the coloured segments are the terms "
        r"$w_j v_j$ (positive ones stacked up from 0, negative ones down from 0) and the "
        f"black tick is their sum, exactly row {query} of the output."
    )
    cols = st.columns([3, 2], gap="large")
    with cols[0]:
        draw(
            charts.stacked_contributions,
            steps.contributions(query),
            tokens,
            title="output row = Σⱼ wⱼ · vⱼ",
        )
    with cols[1]:
        table = pd.DataFrame(
            {
                "key": positions,
                "score": steps.scores[query],
                "scaled": steps.scaled_scores[query],
                "weight": weights,
                "v[0]": steps.v[:, 0],
            }
        )
        st.dataframe(
            table,
            hide_index=True,
            column_config={
                name: st.column_config.NumberColumn(format="%.3f")
                for name in ("score", "scaled", "weight", "v[0]")
            },
        )
        st.markdown("Output row: " + ", ".join(f"{value:.3f}" for value in steps.output[query]))


st.header("5 · One query up close", anchor=False)
query_up_close(steps)

st.header("6 · The whole computation in numpy", anchor=False)
st.markdown(
    "This is the lab's own function, printed from its source: the heatmaps above come from "
    "the same arithmetic (checked against PyTorch's attention in the lab's tests)."
)
st.code(inspect.getsource(self_attention), language="python", wrap_lines=True)

ui.page_end(
    SLUG,
    notice=[
        "Every row of the weights sums to 1: each output is a weighted average of "
        "value rows, so each of its entries lies between the smallest and largest "
        "entry of that column of V.",
        r"The scores matrix is not symmetric: $q_i \cdot k_j$ (token *i* looking for "
        r"*j*) is not $q_j \cdot k_i$.",
        "With positions off, a repeated word (type *the cat saw the dog*) gets identical "
        "rows in Q, K, V, the weights and the output: attention alone does not know "
        "word order.",
        "The scaled scores are the raw ones divided by √d, so softmax sees numbers of "
        "moderate size whatever d is.",
    ],
    exercises=page_exercises(steps, config),
)
