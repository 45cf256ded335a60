"""Order and position: attention alone is blind to word order; sinusoidal and rotary encodings fix it."""

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import ui
from app.charts import draw
from lab import charts
from lab.position import (
    MAX_SENTENCE_D_MODEL,
    MAX_TOKENS,
    DiagonalProfile,
    PermutationCheck,
    PositionEffect,
    RotaryScoreGrid,
    SentenceConfig,
    permutation_check,
    position_effect,
    position_similarity,
    random_query_key,
    rotary_score_grid,
    shuffle_permutation,
    similarity_by_offset,
    sinusoidal_positions,
    swap_permutation,
)
from lab.position.charts import encoding_curves, offset_profile
from lab.position.exercises import page_exercises
from lab.text import escape_markdown, position_labels

SLUG = "position"
HALF = 380  # pixels of cells for one of two charts side by side
REORDERINGS = ("swap two words", "shuffle")
BASES = (100.0, 1000.0, 10000.0, 100000.0)


@st.cache_data(max_entries=256, show_spinner=False)
def order_check(
    tokens: tuple[str, ...], order: tuple[int, ...], d_model: int, seed: int
) -> PermutationCheck:
    return permutation_check(tokens, order, SentenceConfig(d_model=d_model, seed=seed))


@st.cache_data(max_entries=256, show_spinner=False)
def effect(tokens: tuple[str, ...], d_model: int, seed: int) -> PositionEffect:
    return position_effect(tokens, SentenceConfig(d_model=d_model, seed=seed))


@st.cache_data(max_entries=128, show_spinner=False)
def rotary_grid(size: int, length: int, seed: int, base: float) -> RotaryScoreGrid:
    query, key = random_query_key(size, seed=seed)
    return rotary_score_grid(query, key, length, base=base)


def gap_text(gap: float) -> str:
    return "0 exactly" if gap == 0 else f"{gap:.1e}" if gap < 1e-6 else f"{gap:.3f}"


def numbered_heatmap(matrix: np.ndarray, title: str, axes: tuple[str, str, str], **options) -> None:
    """A signed heatmap with rows and columns numbered from 0 (positions or dimensions).

    ``axes`` holds the titles of the rows, of the columns and of the values.
    """
    rows, cols = matrix.shape
    row_title, col_title, value_title = axes
    draw(
        charts.heatmap,
        matrix,
        [str(i) for i in range(rows)],
        [str(j) for j in range(cols)],
        title=title,
        signed=True,
        row_title=row_title,
        col_title=col_title,
        value_title=value_title,
        **options,
    )


def grid_by_offset(
    matrix: np.ndarray,
    profile: DiagonalProfile,
    titles: tuple[str, str],
    axes: tuple[str, str, str],
    profile_value: str,
) -> DeltaGenerator:
    """An (L × L) grid of positions beside the values along its diagonals.

    ``titles``: of the grid and of the profile. Returns the right column, for the notes.
    """
    left, right = st.columns(2, gap="large")
    with left:
        numbered_heatmap(matrix, titles[0], axes, max_width=300)
    with right:
        draw(offset_profile, profile, title=titles[1], value_title=profile_value, width=330)
    return right


ui.page_header(SLUG)
st.latex(
    r"\mathrm{attn}(PX) = P\,\mathrm{attn}(X)"
    r"\qquad\text{but}\qquad"
    r"\mathrm{attn}(PX + PE) \neq P\,\mathrm{attn}(X + PE)"
)

with st.container(border=True):
    sentence_col, d_col, seed_col = st.columns([3, 1.4, 0.9], gap="medium")
    with sentence_col:
        tokenized = ui.sentence(
            "Sentence",
            default="the dog chased the cat",
            key="sentence",
            max_tokens=MAX_TOKENS,
            help=f"Up to {MAX_TOKENS} tokens. A word's vector depends only on the word and "
            "the seed, as on the step-by-step page.",
        )
    with d_col:
        d_model = ui.slider("Model size d", 2, MAX_SENTENCE_D_MODEL, 8, key="d")
    with seed_col:
        seed = ui.seed(help="Draws the word vectors, W_q, W_k, W_v and the rotary q and k.")
    how_col, first_col, second_col = st.columns([1.3, 1.5, 1.5], gap="medium")
    with how_col:
        how = ui.segmented("Reorder by", REORDERINGS, REORDERINGS[0], key="reorder")
    if tokenized.is_empty:
        st.stop()
    tokens = tokenized.tokens
    L = len(tokens)
    labels = position_labels(tokens)
    if L < 2:
        st.info("One token cannot be reordered. Type two words or more.", icon=":material/edit:")
        order = (0,)
    elif how == "shuffle":
        with first_col:
            shuffle_seed = ui.number("Shuffle number", 0, 999, 1, key="shuffle")
        order = tuple(int(i) for i in shuffle_permutation(L, seed=int(shuffle_seed)))
    else:
        with first_col:
            first = ui.choose("Swap this word", labels, key="first", default=1)
        with second_col:
            second = ui.choose("with this one", labels, key="second", default=L - 1)
        if first == second:
            st.info("Pick two different words to swap.", icon=":material/swap_horiz:")
            order = tuple(range(L))
        else:
            order = tuple(int(i) for i in swap_permutation(L, first, second))

check = order_check(tokens, order, int(d_model), int(seed))
moved = " ".join(check.permuted_tokens)

st.header("1 · Reorder the words: the outputs only reorder", anchor=False)
metric_plain, metric_positions, reading = st.columns([1, 1, 2.2], gap="large")
metric_plain.metric(
    "Without positions",
    gap_text(check.without_positions.gap),
    help="The largest entry of |attn(PX) − P attn(X)|.",
)
metric_positions.metric(
    "With positions",
    gap_text(check.with_positions.gap),
    help="The largest entry of |attn(PX + PE) − P attn(X + PE)|.",
)
reading.markdown(
    f"*{escape_markdown(' '.join(tokens))}* becomes *{escape_markdown(moved)}*. The two "
    "numbers are the largest difference between the outputs of the reordered sentence and "
    "the old outputs reordered. Without positions self-attention computes from content "
    "alone, so reordering the rows of X by a permutation matrix P reorders its output rows "
    "in exactly the same way (*permutation equivariance*): the difference is rounding at "
    "most. Positional encodings PE break this: the words move, their positions do not."
)
p_col, toggle_col = st.columns([1, 1.3], gap="large")
with p_col:
    draw(
        charts.heatmap,
        check.matrix,
        position_labels(check.permuted_tokens),
        labels,
        title=f"P   ({L} × {L})",
        row_title="new slot",
        col_title="old position",
        value_title="P",
        value_format=".0f",
        max_width=240,
        legend=False,
    )
with toggle_col:
    st.markdown(
        "Row *i* of the permutation matrix P has its 1 in the column of the word that "
        "moves into slot *i*, so P X lists the rows of X in the new order. Below, the "
        "outputs of the reordered sentence (left) against the old outputs reordered "
        "(right): without positions they are the same matrix."
    )
    with_positions = ui.toggle("Show them with positions added", False, key="positions")
comparison = check.with_positions if with_positions else check.without_positions
shared = charts.symmetric_domain(comparison.permuted.output, comparison.expected_output)
cols = st.columns(2, gap="large")
for column, matrix, name, legend in (
    (cols[0], comparison.permuted.output, "attn(P X", False),
    (cols[1], comparison.expected_output, "P attn(X", True),
):
    with column:
        draw(
            charts.matrix_view,
            matrix,
            position_labels(check.permuted_tokens),
            name + (" + PE)" if with_positions else ")"),
            max_width=HALF - 110,
            domain=shared,
            legend=legend,
        )


st.header("2 · The sinusoidal encoding", anchor=False)
st.latex(r"PE[p, 2i] = \sin\frac{p}{b^{2i/d}},\qquad PE[p, 2i+1] = \cos\frac{p}{b^{2i/d}}")
length_col, width_col, base_col = st.columns(3, gap="medium")
with length_col:
    length = ui.slider("Positions shown", 4, 64, 24, key="length")
with width_col:
    width = ui.slider("Encoding width d", 2, 64, 32, key="width", step=2)
with base_col:
    base = ui.select_slider(
        "Base b", BASES, 10000.0, key="base", format_func=lambda value: f"{value:,.0f}"
    )
encoding = sinusoidal_positions(length, width, base=base)
numbered_heatmap(
    encoding,
    f"PE   ({length} positions × {width} dimensions)",
    ("position p", "dimension", "PE"),
    domain=(-1.0, 1.0),
    cell_size=14,
    max_width=700,
)
left, right = st.columns([1.4, 1], gap="large")
with left:
    dims = sorted({0, 1, width // 2 - width // 2 % 2, width - 2})
    draw(encoding_curves, encoding, dims, title="A few dimensions against position", width=380)
with right:
    st.markdown(
        "Each pair of dimensions is a sine and a cosine of one frequency: the first pair "
        f"turns once every 2π ≈ 6.3 positions, the last once every "
        f"{2 * np.pi * base ** ((width - 2) / width):,.0f}. Together they give every "
        "position a different pattern, and every entry stays in [−1, 1]."
    )
similarity = position_similarity(length, width, base=base)
profile = similarity_by_offset(length, width, base=base)
with grid_by_offset(
    similarity,
    profile,
    (f"PE·PEᵀ   ({length} × {length})", "PE·PEᵀ by offset"),
    ("position m", "position n", "PE[m]·PE[n]"),
    "similarity",
):
    st.markdown(
        "The similarity of two positions depends only on how far apart they are: every "
        f"diagonal of the heatmap is constant (largest spread {profile.max_spread:.1e}), "
        f"and it is largest, d/2 = {width // 2}, at offset 0."
    )

st.header("3 · Rotary: the score depends only on m − n", anchor=False)
st.markdown(
    "Rotary position embedding does not add anything to X. It rotates each pair of "
    "query and key dimensions by an angle proportional to the position, with the "
    "sinusoidal encoding's frequencies. A dot product of two rotated vectors then "
    "depends on the difference of their angles, so on m − n only."
)
grid = rotary_grid(width, length, int(seed), base)
with grid_by_offset(
    grid.scores,
    grid.by_offset,
    (f"Score of q at m and k at n   ({length} × {length})", "The rotary scores by offset"),
    ("query position m", "key position n", "score"),
    "score",
):
    st.markdown(
        f"Constant along every diagonal (largest spread {grid.by_offset.max_spread:.1e}); "
        f"on the main diagonal every score equals the unrotated q·k = "
        f"{grid.unrotated_score:.3f}. *Learned* positional embeddings are instead a "
        "trained table with one vector per position, which cannot reach beyond the "
        "longest position seen in training. Many current large language models use "
        "rotary embeddings because relative offsets come built into every score and "
        "nothing is added to the word vectors."
    )

st.header("4 · What positions do to the weights", anchor=False)
result = effect(tokens, int(d_model), int(seed))
repeated = [word for word in result.repeated]
if repeated:
    word = repeated[0]
    st.markdown(
        f"*{escape_markdown(word.word)}* occurs at positions "
        f"{', '.join(str(p) for p in word.positions)}. Without positions its copies are the "
        f"same vector, so their rows of weights are identical (largest difference "
        f"{gap_text(word.weights_gap_without)}); with positions they differ by up to "
        f"{word.weights_gap_with:.3f}: the copies can now play different roles, as the "
        "subject *the dog* and the object *the cat* must."
    )
else:
    st.markdown(
        "Type a sentence with a repeated word (*the dog chased the cat*) to see two "
        "copies of a word get identical rows without positions and different rows with them."
    )
left, right = st.columns(2, gap="large")
for column, run, name in (
    (left, result.without_positions, "without positions"),
    (right, result.with_positions, "with positions"),
):
    with column:
        draw(
            charts.weights_heatmap,
            run.weights,
            labels,
            labels,
            title=f"Weights {name}   ({L} × {L})",
            max_width=HALF,
        )

ui.page_end(
    SLUG,
    notice=[
        "Without positions, reordering the words reorders the outputs and nothing else: "
        "self-attention cannot tell *the dog chased the cat* from *the cat chased the dog*.",
        "With sinusoidal positions added to X, the same words in a new order give new "
        "outputs, not just reordered ones.",
        "PE·PEᵀ and the rotary scores are constant along their diagonals: both encode "
        "how far apart two positions are.",
        "Two copies of a word get identical rows of weights without positions and "
        "different rows with them.",
    ],
    exercises=page_exercises(check, similarity, grid, result),
)
