"""Altair charts of the multi-head page. Pure functions, no Streamlit.

The per-head heatmaps, matrices and bars reuse :mod:`lab.charts`; this module
adds the *head view* (tokens in two columns joined by one line per head and
pair, opacity = weight) and the table of pattern scores.

Shapes:
    H   heads
    L   queries (tokens)
    S   keys (= L)
    P   patterns
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lab.legacy_charts import labels_expr

# One colour per head (Tableau 10, which stays apart for colour-blind readers
# better than a rainbow); more heads than colours wrap around.
HEAD_COLORS: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#9c755f",
)
MIN_LINE_WEIGHT = (
    0.02  # lines lighter than this are invisible anyway; leaving them out keeps the spec small
)
ROW_HEIGHT = 30  # pixels per token in the head view
NOT_APPLICABLE = "n/a"  # a pattern that never applied (e.g. no pronoun in the sentence)


def head_color(index: int) -> str:
    """The colour of head ``index`` in every chart of the page."""
    return HEAD_COLORS[index % len(HEAD_COLORS)]


def head_view(
    head_weights: ArrayLike,
    tokens: Sequence[str],
    head_names: Sequence[str],
    *,
    visible: Sequence[bool] | None = None,
    title: str = "Head view: hover a word to keep only its lines",
    width: int = 460,
) -> alt.LayerChart:
    """Tokens in two columns (queries left, keys right), one line per head and pair.

    A line from query ``i`` to key ``j`` in head ``h``'s colour has opacity
    ``head_weights[h, i, j]``; heads at the same pair sit a little apart.
    Hovering a word on the left keeps only the lines it sends (its queries);
    hovering a word on the right keeps only the lines it receives. Lines under
    :data:`MIN_LINE_WEIGHT` are left out.

    Args:
        head_weights: ``(H, L, S)`` attention weights with ``S = L``.
        tokens: ``L`` labels (repeats are fine: positions key everything).
        head_names: ``H`` names, shown in the legend and tooltips.
        visible: ``H`` flags; hidden heads draw no lines.
    """
    weights = np.asarray(head_weights, dtype=float)
    if weights.ndim != 3 or weights.shape[1] != weights.shape[2]:
        raise ValueError(f"head_weights must have shape (H, L, L), got {weights.shape}")
    n_heads, length, _ = weights.shape
    labels = [str(token) for token in tokens]
    if len(labels) != length:
        raise ValueError(f"{len(labels)} tokens for weights over {length} positions")
    names = [str(name) for name in head_names]
    if len(names) != n_heads:
        raise ValueError(f"{len(names)} head names for {n_heads} heads")
    shown = [True] * n_heads if visible is None else [bool(flag) for flag in visible]
    if len(shown) != n_heads:
        raise ValueError(f"visible has {len(shown)} flags for {n_heads} heads")

    head_index, query, key = np.nonzero(weights >= MIN_LINE_WEIGHT)
    keep = np.asarray(shown, dtype=bool)[head_index]
    head_index, query, key = head_index[keep], query[keep], key[keep]
    # spread the heads' lines over a third of a row so they do not sit on top of each other
    offsets = (np.arange(n_heads) - (n_heads - 1) / 2) * (0.33 / max(n_heads, 1))
    lines = pd.DataFrame(
        {
            "head": np.asarray(names, dtype=object)[head_index],
            "query": query,
            "key": key,
            "query_label": np.asarray(labels, dtype=object)[query],
            "key_label": np.asarray(labels, dtype=object)[key],
            "weight": weights[head_index, query, key],
            "y_start": query + offsets[head_index],
            "y_end": key + offsets[head_index],
            "x_start": 0.0,  # lines run between the two columns of words
            "x_end": 1.0,
        }
    )
    lines["text"] = [format(value, ".2f") for value in lines["weight"]]
    positions = np.arange(length)
    # the word boxes: the pointer's targets, drawn as pale rounded tiles
    tiles = {"top": positions - 0.4, "bottom": positions + 0.4, "label": labels}
    left = pd.DataFrame({"query": positions, **tiles, "start": -0.55, "end": -0.03, "x": -0.07})
    right = pd.DataFrame({"key": positions, **tiles, "start": 1.03, "end": 1.55, "x": 1.07})

    x_scale = alt.Scale(domain=[-0.6, 1.6])
    y_scale = alt.Scale(domain=[length - 0.5, -0.5])  # first token at the top
    # Each selection listens to its own column's tiles only ("@<mark name>:event"): left
    # unscoped, a pointer over a left tile would also fill hover_key with an undefined
    # key, and no line would pass both filters.
    hover_query = alt.selection_point(
        name="hover_query",
        on="@query_tiles_marks:pointerover",
        clear="@query_tiles_marks:pointerout",
        fields=["query"],
        empty=True,
    )
    hover_key = alt.selection_point(
        name="hover_key",
        on="@key_tiles_marks:pointerover",
        clear="@key_tiles_marks:pointerout",
        fields=["key"],
        empty=True,
    )
    legend_names = [name for name, flag in zip(names, shown, strict=True) if flag] or names
    color = alt.Color(
        "head:N",
        scale=alt.Scale(domain=names, range=[head_color(index) for index in range(n_heads)]),
        legend=alt.Legend(
            title="head",
            orient="bottom",
            values=legend_names,
            columns=4 if n_heads == 4 else 3,
            labelLimit=160,
        ),
    )
    rules = (
        alt.Chart(lines)
        .mark_rule(strokeWidth=2.5, strokeCap="round")
        .encode(
            x=alt.X("x_start:Q", axis=None, scale=x_scale),
            x2=alt.X2("x_end:Q"),
            y=alt.Y("y_start:Q", axis=None, scale=y_scale),
            y2=alt.Y2("y_end:Q"),
            color=color,
            opacity=alt.Opacity(
                "weight:Q", scale=alt.Scale(domain=[0, 1], range=[0, 1]), legend=None
            ),
            tooltip=[
                alt.Tooltip("head:N"),
                alt.Tooltip("query_label:N", title="query"),
                alt.Tooltip("key_label:N", title="key"),
                alt.Tooltip("text:N", title="weight"),
            ],
        )
        .transform_filter(hover_query)
        .transform_filter(hover_key)
    )

    def column(frame: pd.DataFrame, field: str, align: str, selection) -> list[alt.Chart]:
        tile = alt.Chart(frame).encode(
            x=alt.X("start:Q", scale=x_scale),
            x2=alt.X2("end:Q"),
            y=alt.Y("top:Q", scale=y_scale),
            y2=alt.Y2("bottom:Q"),
            tooltip=[alt.Tooltip("label:N", title="word")],
        )
        # The tiles lie on top, translucent, so they alone catch the pointer: a word
        # or a highlight above them would fire "pointerout" and clear the selection.
        boxes = (
            tile.mark_rect(color="#c9d6ea", opacity=0.35, cornerRadius=4)
            .add_params(selection)
            .properties(name=f"{field}_tiles")  # its marks are "<name>_marks"
        )
        # under them, the hovered word's tile turns darker (a filter, not a condition)
        hovered = tile.mark_rect(color="#b3c6e4", cornerRadius=4).transform_filter(
            {"param": selection.name, "empty": False}
        )
        words = (
            alt.Chart(frame)
            .mark_text(align=align, baseline="middle", fontSize=13)
            .encode(
                x=alt.X("x:Q", scale=x_scale),
                y=alt.Y(f"{field}:Q", scale=y_scale),
                text=alt.Text("label:N"),
            )
        )
        return [hovered, words, boxes]

    layers = [
        rules,
        *column(left, "query", "right", hover_query),
        *column(right, "key", "left", hover_key),
    ]
    return alt.layer(*layers).properties(
        title=alt.TitleParams(title, subtitle="queries on the left, keys on the right"),
        width=width,
        height=ROW_HEIGHT * length,
        # width and height are the plotting area; title and legend come on top (Streamlit
        # would otherwise squeeze everything into width x height)
        autosize=alt.AutoSizeParams(type="pad"),
    )


def pattern_table(
    scores: ArrayLike,
    head_names: Sequence[str],
    pattern_names: Sequence[str],
    *,
    title: str = "",
    highlight_at: float = 0.6,
    cell_width: int = 86,
) -> alt.LayerChart:
    """Heads (rows) by patterns (columns), each cell the head's pattern score.

    Scores are weights in ``[0, 1]`` on a sequential scale; NaN (the pattern
    never applied) is drawn as a blank cell reading "n/a". Scores at or above
    ``highlight_at`` are printed in bold.
    """
    values = np.asarray(scores, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"scores must be (heads, patterns), got shape {values.shape}")
    n_heads, n_patterns = values.shape
    heads = [str(name) for name in head_names]
    patterns = [str(name) for name in pattern_names]
    if len(heads) != n_heads or len(patterns) != n_patterns:
        raise ValueError(
            f"{len(heads)} head names and {len(patterns)} pattern names for scores of "
            f"shape {values.shape}"
        )
    row, col = np.indices(values.shape)
    flat = values.ravel()
    missing = np.isnan(flat)
    frame = pd.DataFrame(
        {
            "row": row.ravel(),
            "col": col.ravel(),
            "head": np.asarray(heads, dtype=object)[row.ravel()],
            "pattern": np.asarray(patterns, dtype=object)[col.ravel()],
            "value": np.where(missing, 0.0, flat),
            "missing": missing,
            "text": [
                NOT_APPLICABLE if gone else format(v, ".2f")
                for v, gone in zip(flat, missing, strict=True)
            ],
            "text_color": np.where(~missing & (flat > 0.62), "white", "#1f1f1f"),
            "weight": np.where(~missing & (flat >= highlight_at), "bold", "normal"),
        }
    )
    base = alt.Chart().encode(
        x=alt.X(
            "col:O",
            axis=alt.Axis(
                title=None,
                labelExpr=labels_expr(patterns),
                orient="top",
                labelAngle=0,
                labelLimit=cell_width - 4,
                labelOverlap=False,  # every pattern keeps its label
                ticks=False,
                domain=False,
            ),
        ),
        y=alt.Y(
            "row:O",
            axis=alt.Axis(title=None, labelExpr=labels_expr(heads), ticks=False, domain=False),
        ),
        tooltip=[
            alt.Tooltip("head:N"),
            alt.Tooltip("pattern:N"),
            alt.Tooltip("text:N", title="share of weight"),
        ],
    )
    cells = (
        base.transform_filter("!datum.missing")
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            color=alt.Color(
                "value:Q",
                scale=alt.Scale(scheme="blues", domain=[0, 1]),
                title="share",
                legend=alt.Legend(orient="right", gradientLength=max(60, 30 * n_heads)),
            )
        )
    )
    blanks = base.transform_filter("datum.missing").mark_rect(
        color="#f3f3f3", stroke="white", strokeWidth=1
    )
    texts = [
        base.transform_filter(f"datum.weight == '{weight}'")
        .mark_text(fontSize=12, fontWeight=weight)
        .encode(text=alt.Text("text:N"), color=alt.Color("text_color:N", scale=None))
        for weight in ("normal", "bold")
    ]
    return (
        alt.layer(cells, blanks, *texts, data=frame)
        # the text's literal colours (scale=None) must not merge with the cells' scale
        .resolve_scale(color="independent")
        .properties(title=title, width=alt.Step(cell_width), height=alt.Step(30))
    )
