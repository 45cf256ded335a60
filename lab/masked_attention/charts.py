"""Altair charts of the masked-attention page. Pure functions, no Streamlit.

The attention weights themselves are drawn with :func:`lab.charts.weights_heatmap`
(masked cells grey with a cross); this module adds what that page needs beyond it:
the padded batch as a grid of tokens, a boolean mask as its own heatmap, the
weights a *wrong* way of masking produced (values kept visible on masked cells,
NaN shown as NaN), and the leakage table.

Axes are keyed by position and labelled through ``labelExpr``, as in
:mod:`lab.charts`, so repeated tokens (two ``<pad>``, two "the") stay apart.

Shapes:
    B  sentences
    S  padded length (keys; also queries in self-attention)
    K  mask kinds
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lab import legacy_charts as charts

REAL_COLOR = "#dbe7f5"  # a real token: a light tint of the primary colour
PAD_COLOR = charts.MASKED_COLOR  # padding looks like what it becomes: masked
NAN_COLOR = "#e03131"  # NaN cells: an alarm, not a weight
ZERO_COLOR = "#e6f4ea"  # leakage exactly 0: a pale green "nothing moved"
LEAK_SCHEME = "oranges"  # leakage above 0
MAX_TOKEN_CHARS = 9  # longer tokens are shortened in the grid (the tooltip keeps them whole)


def _short(token: str) -> str:
    return token if len(token) <= MAX_TOKEN_CHARS else token[: MAX_TOKEN_CHARS - 1] + "…"


def batch_grid(
    tokens: Sequence[Sequence[str]],
    real: ArrayLike,
    *,
    row_labels: Sequence[str] | None = None,
    title: str = "",
    cell_width: int = 66,
) -> alt.LayerChart:
    """The padded batch as a grid: one row per sentence, one column per position.

    Args:
        tokens: ``B`` rows of ``S`` tokens.
        real: ``(B, S)`` boolean, ``True`` at real tokens (drawn tinted); padding
            is drawn grey.
        row_labels: ``B`` labels (default ``"sentence 1"``, ...).
        cell_width: pixels per column.
    """
    real_array = np.asarray(real)
    if real_array.dtype != np.bool_ or real_array.ndim != 2:
        raise ValueError(f"real must be a boolean (B, S) matrix, got {real_array.shape}")
    B, S = real_array.shape
    rows = [list(map(str, row)) for row in tokens]
    if len(rows) != B or any(len(row) != S for row in rows):
        raise ValueError(f"tokens must be {B} rows of {S} tokens, like real")
    labels = list(row_labels) if row_labels is not None else [f"sentence {b + 1}" for b in range(B)]
    if len(labels) != B:
        raise ValueError(f"row_labels has {len(labels)} labels but the batch has {B} sentences")
    sentence, position = np.indices((B, S))
    flat_tokens = [rows[b][s] for b, s in zip(sentence.ravel(), position.ravel(), strict=True)]
    frame = pd.DataFrame(
        {
            "sentence": sentence.ravel(),
            "position": position.ravel(),
            "sentence_label": np.asarray(labels, dtype=object)[sentence.ravel()],
            "token": flat_tokens,
            "shown": [_short(token) for token in flat_tokens],
            "kind": np.where(real_array.ravel(), "real token", "padding"),
            "fill": np.where(real_array.ravel(), REAL_COLOR, PAD_COLOR),
            "ink": np.where(real_array.ravel(), "#1f1f1f", "#6b6b6b"),
        }
    )
    base = alt.Chart().encode(
        x=alt.X(
            "position:O",
            axis=alt.Axis(title="position", orient="top", labelAngle=0, ticks=False, domain=False),
        ),
        y=alt.Y(
            "sentence:O",
            axis=alt.Axis(
                title=None, labelExpr=charts.labels_expr(labels), ticks=False, domain=False
            ),
        ),
        tooltip=[
            alt.Tooltip("sentence_label:N", title="sentence"),
            alt.Tooltip("position:O", title="position"),
            alt.Tooltip("token:N", title="token"),
            alt.Tooltip("kind:N", title="is"),
        ],
    )
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("fill:N", scale=None)
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("shown:N"), color=alt.Color("ink:N", scale=None)
    )
    return alt.layer(cells, text, data=frame).properties(
        title=title, width=alt.Step(cell_width), height=alt.Step(32)
    )


def mask_heatmap(
    allowed: ArrayLike,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str = "",
    row_title: str | None = "query",
    col_title: str | None = "key",
    cell_size: int = 20,
    show_text: bool | None = None,
) -> alt.LayerChart:
    """A boolean mask drawn as its own heatmap: blue "True" = may attend, grey × = masked.

    The masked cells look as they do in :func:`lab.charts.heatmap` (grey with a
    cross), so the mask reads straight across to the weights heatmap beside it.
    Two layers only, so it is cheap to rebuild on every rerun.

    Args:
        allowed: ``(L, S)`` boolean (``(B, S)`` for a key-padding mask).
        cell_size: pixels per cell.
        show_text: write "True" in the allowed cells (default: when cells are
            at least 40 pixels wide).
    """
    mask = np.asarray(allowed)
    if mask.dtype != np.bool_ or mask.ndim != 2:
        raise ValueError(
            f"allowed must be a boolean matrix, got dtype {mask.dtype} and shape {mask.shape}"
        )
    n_rows, n_cols = mask.shape
    rows = list(map(str, row_labels))
    cols = list(map(str, col_labels))
    if len(rows) != n_rows or len(cols) != n_cols:
        raise ValueError(
            f"the mask is {n_rows} × {n_cols} but there are {len(rows)} row labels and "
            f"{len(cols)} column labels"
        )
    if show_text is None:
        show_text = cell_size >= 40
    row_index, col_index = np.indices(mask.shape)
    flat = mask.ravel()
    frame = pd.DataFrame(
        {
            "row": row_index.ravel(),
            "col": col_index.ravel(),
            "row_label": np.asarray(rows, dtype=object)[row_index.ravel()],
            "col_label": np.asarray(cols, dtype=object)[col_index.ravel()],
            "masked": ~flat,
            "meaning": np.where(flat, "True: may attend", "False: masked"),
            "fill": np.where(flat, charts.PRIMARY, charts.MASKED_COLOR),
            "glyph": np.where(flat, "True" if show_text else "", "×"),
            "ink": np.where(flat, "white", "#8a8a8a"),
        }
    )
    longest = max((len(label) for label in cols), default=0)
    base = alt.Chart().encode(
        x=alt.X(
            "col:O",
            axis=alt.Axis(
                title=col_title,
                labelExpr=charts.labels_expr(cols),
                orient="top",
                labelAngle=0 if 7 * longest <= cell_size else -90,
                ticks=False,
                domain=False,
            ),
        ),
        y=alt.Y(
            "row:O",
            axis=alt.Axis(
                title=row_title, labelExpr=charts.labels_expr(rows), ticks=False, domain=False
            ),
        ),
        tooltip=[
            alt.Tooltip("row_label:N", title=row_title or "row"),
            alt.Tooltip("col_label:N", title=col_title or "column"),
            alt.Tooltip("meaning:N", title="mask"),
        ],
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color("fill:N", scale=None)
    )
    glyphs = base.mark_text(fontSize=max(9, min(13, cell_size // 3))).encode(
        text=alt.Text("glyph:N"), color=alt.Color("ink:N", scale=None)
    )
    return alt.layer(cells, glyphs, data=frame).properties(
        title=title, width=alt.Step(cell_size), height=alt.Step(cell_size)
    )


def _fits_upright(labels: Sequence[str], cell: int) -> bool:
    """Whether column labels fit upright in cells ``cell`` pixels wide (about 7 px a character)."""
    return 7 * max((len(str(label)) for label in labels), default=0) <= cell


def sentence_weights_heatmap(
    weights: ArrayLike,
    tokens: Sequence[str],
    allowed: ArrayLike,
    *,
    title: str = "",
    max_width: int = 280,
) -> alt.LayerChart:
    """One sentence's attention weights, masked cells grey: :func:`lab.charts.weights_heatmap`.

    The only change: the key labels turn vertical when they do not fit upright.
    ``lab.charts`` keeps short labels upright, and Vega then hides every other
    one when they overlap, which would drop half of a row of ``<pad>`` labels.

    Args:
        weights: ``(S, S)``.
        tokens: ``S`` tokens (queries and keys).
        allowed: ``(S, S)`` boolean, ``True`` = may attend.
        max_width: pixels for the columns' cells.
    """
    values = np.asarray(weights, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"weights must be a matrix, got shape {values.shape}")
    n_rows, n_cols = values.shape
    cell = max(6, min(charts.default_cell_size(n_rows, n_cols), max_width // max(n_cols, 1)))
    chart = charts.weights_heatmap(
        values, tokens, tokens, title=title, mask=allowed, cell_size=cell, legend=False
    )
    # Upright when they fit; else vertical, which never overlaps (Vega would hide every other).
    angle = 0 if _fits_upright(tokens, cell) else -90
    for layer in chart.layer:
        layer.encoding.x["axis"]["labelAngle"] = angle
    return chart


def _weight_text(value: float, masked: bool) -> str:
    if np.isnan(value):
        return "NaN"
    text = "0 (exactly)" if value == 0 else format(value, ".4f")
    return f"{text} on a masked key" if masked else text


def method_heatmap(
    weights: ArrayLike,
    allowed: ArrayLike,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str = "",
    max_width: int | None = None,
    show_values: bool | None = None,
) -> alt.LayerChart:
    """Weights some way of masking produced, *without* hiding what it put on masked cells.

    :func:`lab.charts.weights_heatmap` greys masked cells out, which is right for
    correct weights; a wrong method may put weight there, so here every cell
    keeps its colour and value, masked cells get a dashed dark outline (and
    "on a masked key" in the tooltip), and NaN cells are red and say NaN.

    Args:
        weights: ``(L, S)``, NaN allowed.
        allowed: ``(L, S)`` boolean, ``True`` = may attend.
        show_values: print the numbers in the cells (default: when cells are
            at least 34 pixels wide).
    """
    values = np.asarray(weights, dtype=float)
    mask = np.asarray(allowed)
    if values.ndim != 2 or mask.shape != values.shape or mask.dtype != np.bool_:
        raise ValueError(
            f"weights and allowed must be matrices of one shape, got {values.shape} and "
            f"{mask.shape} ({mask.dtype})"
        )
    n_rows, n_cols = values.shape
    frame = charts.matrix_frame(np.nan_to_num(values, nan=0.0), row_labels, col_labels)
    flat = values.ravel()
    masked = ~mask.ravel()
    frame["masked"] = masked
    frame["is_nan"] = np.isnan(flat)
    frame["text"] = [_weight_text(v, m) for v, m in zip(flat, masked, strict=True)]
    frame["cell_text"] = ["NaN" if np.isnan(v) else format(v, ".2f") for v in flat]
    frame["ink"] = np.where(np.isnan(flat) | (np.nan_to_num(flat) > 0.6), "white", "#1f1f1f")
    size = charts.default_cell_size(n_rows, n_cols)
    if max_width:
        size = max(6, min(size, max_width // max(n_cols, 1)))
    if show_values is None:
        show_values = size >= 34
    x = alt.X(
        "col:O",
        axis=alt.Axis(
            title="key",
            labelExpr=charts.labels_expr(col_labels),
            orient="top",
            ticks=False,
            domain=False,
            labelAngle=0 if _fits_upright(col_labels, size) else -90,
        ),
    )
    y = alt.Y(
        "row:O",
        axis=alt.Axis(
            title="query", labelExpr=charts.labels_expr(row_labels), ticks=False, domain=False
        ),
    )
    base = alt.Chart().encode(
        x=x,
        y=y,
        tooltip=[
            alt.Tooltip("row_label:N", title="query"),
            alt.Tooltip("col_label:N", title="key"),
            alt.Tooltip("text:N", title="weight"),
        ],
    )
    cells = (
        base.transform_filter("!datum.is_nan")
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            color=alt.Color(
                "value:Q",
                scale=alt.Scale(scheme=charts.WEIGHT_SCHEME, domain=[0.0, 1.0]),
                title="weight",
                legend=None,
            )
        )
    )
    nan_cells = base.transform_filter("datum.is_nan").mark_rect(
        color=NAN_COLOR, stroke="white", strokeWidth=1
    )
    outlines = base.transform_filter("datum.masked").mark_rect(
        filled=False, stroke="#495057", strokeWidth=1.5, strokeDash=[3, 2]
    )
    layers: list[alt.Chart] = [cells, nan_cells, outlines]
    if show_values:
        layers.append(
            base.mark_text(fontSize=10).encode(
                text=alt.Text("cell_text:N"), color=alt.Color("ink:N", scale=None)
            )
        )
    return (
        alt.layer(*layers, data=frame)
        # The text's literal colours (scale=None) must not merge with the cells' scale.
        .resolve_scale(color="independent")
        .properties(title=title, width=alt.Step(size), height=alt.Step(size))
    )


def leakage_heatmap(
    changes: ArrayLike,
    kinds: Sequence[str],
    tokens: Sequence[str],
    changed_position: int,
    *,
    title: str = "",
    highlight: str | None = None,
    cell_width: int = 70,
) -> alt.LayerChart:
    """How far each output moved when one token changed: mask kinds × positions.

    Cells that changed by exactly 0 are pale green and say "0"; the others are
    orange, darker for a bigger change, with the number printed. The changed
    position's column is outlined.

    Args:
        changes: ``(K, S)`` non-negative, from :class:`lab.masking.LeakageProbe`.
        kinds: ``K`` mask kind names (the rows).
        tokens: ``S`` tokens of the sentence (the columns).
        changed_position: which column was changed.
        highlight: a kind to mark with "▶" (the one selected on the page).
    """
    values = np.asarray(changes, dtype=float)
    if values.ndim != 2 or values.shape != (len(kinds), len(tokens)):
        raise ValueError(
            f"changes must be ({len(kinds)}, {len(tokens)}) (kinds × positions), got {values.shape}"
        )
    if np.isnan(values).any() or (values < 0).any():
        raise ValueError("changes must be non-negative numbers")
    S = values.shape[1]
    if not 0 <= changed_position < S:
        raise ValueError(f"changed_position must lie in [0, {S - 1}], got {changed_position}")
    kind_labels = [f"▶ {kind}" if kind == highlight else kind for kind in kinds]
    token_labels = [f"{position} · {_short(str(token))}" for position, token in enumerate(tokens)]
    frame = charts.matrix_frame(values, kind_labels, token_labels)
    col = frame["col"].to_numpy()
    flat = frame["value"].to_numpy()
    frame["role"] = np.select(
        [col < changed_position, col == changed_position],
        ["earlier position", "the changed position"],
        "later position",
    )
    frame["zero"] = flat == 0
    frame["changed"] = col == changed_position
    frame["text"] = ["0" if v == 0 else format(v, ".3g") for v in flat]
    frame["tooltip_text"] = ["0 (exactly)" if v == 0 else format(v, ".6g") for v in flat]
    top = float(flat.max()) if flat.size and flat.max() > 0 else 1.0
    frame["ink"] = np.where(flat > 0.55 * top, "white", "#1f1f1f")
    base = alt.Chart().encode(
        x=alt.X(
            "col:O",
            axis=alt.Axis(
                title="output at position",
                # Two lines per label (position, then token), so labels stay narrow.
                labelExpr=json.dumps(
                    [[str(position), _short(str(token))] for position, token in enumerate(tokens)]
                )
                + "[datum.value]",
                orient="top",
                labelAngle=0,
                ticks=False,
                domain=False,
            ),
        ),
        y=alt.Y(
            "row:O",
            axis=alt.Axis(
                title="mask",
                labelExpr=charts.labels_expr(kind_labels),
                ticks=False,
                domain=False,
                labelFontWeight="bold",
            ),
        ),
        tooltip=[
            alt.Tooltip("row_label:N", title="mask"),
            alt.Tooltip("col_label:N", title="output at"),
            alt.Tooltip("role:N", title="which is"),
            alt.Tooltip("tooltip_text:N", title="max |Δ output|"),
        ],
    )
    moved = (
        base.transform_filter("!datum.zero")
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            color=alt.Color(
                "value:Q",
                scale=alt.Scale(scheme=LEAK_SCHEME, domain=[0.0, top]),
                title="max |Δ output|",
                legend=None,
            )
        )
    )
    still = base.transform_filter("datum.zero").mark_rect(
        color=ZERO_COLOR, stroke="white", strokeWidth=1
    )
    outline = base.transform_filter("datum.changed").mark_rect(
        filled=False, stroke="#1f1f1f", strokeWidth=2
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("text:N"), color=alt.Color("ink:N", scale=None)
    )
    return (
        alt.layer(moved, still, outline, text, data=frame)
        # The text's literal colours (scale=None) must not merge with the cells' scale.
        .resolve_scale(color="independent")
        .properties(title=title, width=alt.Step(cell_width), height=alt.Step(34))
    )
