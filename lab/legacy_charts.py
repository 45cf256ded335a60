"""The Altair chart builders of the old pages, kept only until every page draws plain Vega-Lite dicts from lab.charts (remove with the last migration). No Streamlit.

Each builder turns a matrix or vector plus labels into a long DataFrame and
then into an ``alt.Chart``; tests inspect the spec (``chart.to_dict()``).

Repeated tokens ("the cat saw the dog") must stay separate rows and columns.
A nominal or ordinal axis keyed by the token text would merge the two "the"
into one band, so every axis here is keyed by *position* (an integer) and
shows the token through ``labelExpr``.

Shapes:
    L  rows (queries)
    S  columns (keys)
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

WEIGHT_SCHEME = "blues"  # sequential, for weights in [0, 1]
SIGNED_SCHEME = "redblue"  # diverging around 0, for raw scores and matrix entries
MASKED_COLOR = "#d4d4d4"  # masked cells: grey, marked with a cross, "masked" in the tooltip
PRIMARY = "#2f6db5"  # bars; the theme's primary colour
ACCENT = "#e8590c"  # the one bar to look at
MAX_CELLS_WITH_TEXT = 150  # above this many cells, numbers in cells become clutter


def symmetric_domain(*matrices: ArrayLike) -> tuple[float, float]:
    """``(-m, m)`` with ``m`` the largest finite ``|value|`` over all matrices (1 if none)."""
    extent = 0.0
    for matrix in matrices:
        values = np.abs(np.asarray(matrix, dtype=float))
        finite = values[np.isfinite(values)]
        if finite.size:
            extent = max(extent, float(finite.max()))
    extent = extent or 1.0
    return (-extent, extent)


def labels_expr(labels: Sequence[str]) -> str:
    """A Vega expression that maps a position (``datum.value``) to its label."""
    return f"{json.dumps([str(label) for label in labels])}[datum.value]"


def _check_labels(name: str, labels: Sequence[str], size: int) -> list[str]:
    labels = [str(label) for label in labels]
    if len(labels) != size:
        raise ValueError(f"{name} has {len(labels)} labels but the matrix has {size}")
    return labels


def _as_matrix(matrix: ArrayLike) -> np.ndarray:
    array = np.asarray(matrix, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {array.shape}")
    return array


def _axis(
    labels: Sequence[str], title: str | None, *, x: bool, cell: int | None = None
) -> alt.Axis:
    """A position-keyed axis showing ``labels``; x labels turn when they would not fit.

    ``cell`` is the band width in pixels. Upright labels wider than their band
    overlap, and Vega then hides every other one, so x labels are rotated
    whenever the longest (about 7 px a character) is wider than its band.
    """
    longest = max((len(label) for label in labels), default=0)
    too_wide = cell is not None and 7 * longest > cell
    angle = -45 if x and (too_wide or (cell is None and longest > 6 and len(labels) > 4)) else 0
    return alt.Axis(
        title=title,
        labelExpr=labels_expr(labels),
        labelAngle=angle,
        # Rotated x labels start at their band; y labels keep Vega's right alignment.
        labelAlign=("left" if angle else "center") if x else "right",
        # Never hide a token's label while a label fits its band (rotation makes room);
        # bands under 13 px are too thin for every label, so Vega thins them out.
        labelOverlap=False if cell is None or cell >= 13 else "parity",
        labelLimit=140,
        labelFontSize=12 if (cell is None or cell >= 20) else 10,
        ticks=False,
        domain=False,
        orient="top" if x else "left",
    )


def matrix_frame(
    matrix: ArrayLike,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    mask: ArrayLike | None = None,
) -> pd.DataFrame:
    """Long form of a matrix: one row per cell.

    Columns: ``row`` and ``col`` (positions), ``row_label``, ``col_label``,
    ``value``, ``masked`` (``True`` where ``mask`` forbids the cell).
    """
    values = _as_matrix(matrix)
    n_rows, n_cols = values.shape
    rows = _check_labels("row_labels", row_labels, n_rows)
    cols = _check_labels("col_labels", col_labels, n_cols)
    if mask is None:
        masked = np.zeros_like(values, dtype=bool)
    else:
        allowed = np.asarray(mask)
        if allowed.dtype != np.bool_:
            raise ValueError("mask must be boolean, True where attending is allowed")
        masked = ~np.broadcast_to(allowed, values.shape)
    row_index, col_index = np.indices(values.shape)
    return pd.DataFrame(
        {
            "row": row_index.ravel(),
            "col": col_index.ravel(),
            "row_label": np.asarray(rows, dtype=object)[row_index.ravel()],
            "col_label": np.asarray(cols, dtype=object)[col_index.ravel()],
            "value": values.ravel(),
            "masked": masked.ravel(),
        }
    )


def default_cell_size(n_rows: int, n_cols: int) -> int:
    """Pixels per cell: big for small matrices, smaller as they grow."""
    largest = max(n_rows, n_cols, 1)
    if largest <= 6:
        return 46
    if largest <= 12:
        return 36
    if largest <= 25:
        return 24
    return max(6, 520 // largest)


def heatmap(
    matrix: ArrayLike,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str = "",
    signed: bool = False,
    row_title: str | None = "query",
    col_title: str | None = "key",
    value_title: str = "weight",
    mask: ArrayLike | None = None,
    show_values: bool | None = None,
    cell_size: int | None = None,
    max_width: int | None = None,
    domain: tuple[float, float] | None = None,
    value_format: str = ".2f",
    legend: bool = True,
) -> alt.LayerChart:
    """A heatmap of a matrix, columns on x (keys) and rows on y (queries).

    Args:
        matrix: ``(L, S)``.
        row_labels: ``L`` labels (query tokens); repeats are fine.
        col_labels: ``S`` labels (key tokens); repeats are fine.
        title: chart title; say what the matrix is and its shape.
        signed: ``False`` for weights (sequential scale from 0 to 1 unless
            ``domain`` says otherwise); ``True`` for matrices with negative
            entries (diverging scale centred on 0, symmetric).
        mask: optional boolean ``(L, S)``, ``True`` = may attend. Forbidden
            cells are drawn grey with a cross and say "masked" in the tooltip.
        show_values: print numbers in the cells; by default only when the
            matrix has at most ``MAX_CELLS_WITH_TEXT`` cells.
        cell_size: pixels per cell; by default from :func:`default_cell_size`.
        max_width: shrink cells so the columns fit in this many pixels.
        domain: colour domain; default ``(0, 1)`` for weights and
            ``(-m, m)`` with ``m = max |value|`` for signed matrices. Pass the
            same domain to charts shown side by side so colours compare.
        legend: draw the colour legend (turn off for all but one of a set of
            charts that share a domain).

    Returns:
        A layered Altair chart (cells, masked cells, optional text).
    """
    frame = matrix_frame(matrix, row_labels, col_labels, mask)
    n_rows, n_cols = _as_matrix(matrix).shape
    size = cell_size or default_cell_size(n_rows, n_cols)
    if max_width:
        size = max(6, min(size, max_width // max(n_cols, 1)))
    if show_values is None:
        show_values = n_rows * n_cols <= MAX_CELLS_WITH_TEXT and size >= 30
    if domain is None:
        if signed:
            domain = symmetric_domain(frame.loc[~frame["masked"], "value"])
        else:
            domain = (0.0, 1.0)
    frame["text"] = [
        "masked" if masked else format(value, value_format)
        for value, masked in zip(frame["value"], frame["masked"], strict=True)
    ]
    # Text colour flips to white on dark cells.
    low, high = domain
    span = (high - low) or 1.0
    position = (frame["value"] - low) / span
    dark = (position > 0.62) if not signed else ((position < 0.18) | (position > 0.82))
    # Colours as data with scale=None: cheaper to build than alt.condition.
    frame["text_color"] = np.where(dark, "white", "#1f1f1f")

    x = alt.X("col:O", axis=_axis(col_labels, col_title, x=True, cell=size), sort="ascending")
    y = alt.Y("row:O", axis=_axis(row_labels, row_title, x=False, cell=size), sort="ascending")
    tooltip = [
        alt.Tooltip("row_label:N", title=row_title or "row"),
        alt.Tooltip("col_label:N", title=col_title or "column"),
        alt.Tooltip("text:N", title=value_title),
    ]
    scale = alt.Scale(scheme=SIGNED_SCHEME if signed else WEIGHT_SCHEME, domain=list(domain))
    if signed:
        scale = alt.Scale(scheme=SIGNED_SCHEME, domain=list(domain), domainMid=0)
    # The data sits on the layer, not on each sub-chart: Altair would otherwise hash
    # the DataFrame once per layer to merge them, which is most of the build time.
    base = alt.Chart().encode(x=x, y=y, tooltip=tooltip)
    cells = (
        base.transform_filter("!datum.masked")
        .mark_rect(stroke="white", strokeWidth=1)
        .encode(
            color=alt.Color(
                "value:Q",
                scale=scale,
                title=value_title,
                legend=alt.Legend(orient="right", gradientLength=max(80, min(200, size * n_rows)))
                if legend
                else None,
            )
        )
    )
    masked_cells = base.transform_filter("datum.masked").mark_rect(
        color=MASKED_COLOR, stroke="white", strokeWidth=1
    )
    masked_marks = base.transform_filter("datum.masked").mark_text(
        text="×", color="#8a8a8a", fontSize=max(10, size // 2)
    )
    layers: list[alt.Chart] = [cells, masked_cells, masked_marks]
    if show_values:
        layers.append(
            base.transform_filter("!datum.masked")
            .mark_text(fontSize=11 if size >= 40 else 10)
            .encode(
                text=alt.Text("text:N"),
                color=alt.Color("text_color:N", scale=None),
            )
        )
    return (
        alt.layer(*layers, data=frame)
        # The text layer's literal colours (scale=None) must not merge with the cells' scale.
        .resolve_scale(color="independent")
        .properties(title=title, width=alt.Step(size), height=alt.Step(size))
    )


def weights_heatmap(
    weights: ArrayLike,
    query_labels: Sequence[str],
    key_labels: Sequence[str],
    **options: object,
) -> alt.LayerChart:
    """:func:`heatmap` for attention weights: queries on y, keys on x, 0 to 1."""
    return heatmap(weights, query_labels, key_labels, signed=False, **options)


def matrix_view(
    matrix: ArrayLike,
    row_labels: Sequence[str],
    name: str,
    *,
    col_labels: Sequence[str] | None = None,
    col_title: str | None = "feature",
    row_title: str | None = "token",
    cell_size: int | None = None,
    max_width: int | None = None,
    show_values: bool | None = None,
    domain: tuple[float, float] | None = None,
    legend: bool = True,
) -> alt.LayerChart:
    """A signed heatmap of a matrix such as X, Q, K or V, titled with its shape.

    The title reads like ``"Q = X W_q   (4 × 5)"``; columns default to
    ``0, 1, …`` (feature indices). ``domain`` and ``legend`` as in :func:`heatmap`.
    """
    values = _as_matrix(matrix)
    n_rows, n_cols = values.shape
    if col_labels is None:
        col_labels = [str(index) for index in range(n_cols)]
    return heatmap(
        values,
        row_labels,
        col_labels,
        title=f"{name}   ({n_rows} × {n_cols})",
        signed=True,
        row_title=row_title,
        col_title=col_title,
        value_title="value",
        cell_size=cell_size or min(40, default_cell_size(n_rows, n_cols)),
        max_width=max_width,
        show_values=show_values,
        domain=domain,
        legend=legend,
    )


def bar_chart(
    values: ArrayLike,
    labels: Sequence[str],
    *,
    title: str = "",
    value_title: str = "weight",
    label_title: str | None = "key",
    domain: tuple[float, float] | None = None,
    highlight: int | None = None,
    value_format: str = ".3f",
) -> alt.LayerChart:
    """Horizontal bars, one per label in order (repeated labels stay apart).

    Args:
        values: ``(S,)``.
        labels: ``S`` labels.
        domain: value axis range, e.g. ``(0, 1)`` for weights.
        highlight: position to draw in the accent colour (e.g. the largest).
    """
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"expected a vector, got shape {array.shape}")
    names = _check_labels("labels", labels, array.shape[0])
    frame = pd.DataFrame(
        {
            "position": np.arange(array.shape[0]),
            "label": names,
            "value": array,
            "text": [format(value, value_format) for value in array],
            # labels of negative bars start at 0 so they never cover their bar
            "label_at": np.maximum(array, 0.0),
            "highlight": np.arange(array.shape[0]) == (-1 if highlight is None else highlight),
            "bar_color": np.where(np.arange(array.shape[0]) == highlight, ACCENT, PRIMARY),
        }
    )
    x_scale = alt.Scale(domain=list(domain)) if domain else alt.Undefined
    base = alt.Chart().encode(
        y=alt.Y("position:O", axis=_axis(names, label_title, x=False), sort="ascending"),
        x=alt.X("value:Q", title=value_title, scale=x_scale),
        tooltip=[
            alt.Tooltip("label:N", title=label_title or "label"),
            alt.Tooltip("text:N", title=value_title),
        ],
    )
    bars = base.mark_bar(height={"band": 0.75}).encode(color=alt.Color("bar_color:N", scale=None))
    text = base.mark_text(align="left", dx=4, fontSize=11).encode(
        x=alt.X("label_at:Q", scale=x_scale), text=alt.Text("text:N")
    )
    return alt.layer(bars, text, data=frame).properties(title=title, height=alt.Step(26), width=300)


def stacked_contributions(
    contributions: ArrayLike,
    key_labels: Sequence[str],
    *,
    title: str = "",
    feature_title: str = "output feature",
) -> alt.LayerChart:
    """How an output row is built: per feature, one stacked segment per key.

    Args:
        contributions: ``(S, Ev)``: row ``j`` is ``w_j * v_j``. Segments stack
            up for positive and down for negative parts; a black tick marks the
            column sum (the output feature).
        key_labels: ``S`` labels.
    """
    array = _as_matrix(contributions)
    n_keys, n_features = array.shape
    names = _check_labels("key_labels", key_labels, n_keys)
    frame = matrix_frame(array, names, [str(index) for index in range(n_features)])
    frame = frame.rename(columns={"row": "key", "col": "feature", "row_label": "key_label"})
    frame["text"] = [format(value, ".3f") for value in frame["value"]]
    totals = pd.DataFrame({"feature": np.arange(n_features), "total": array.sum(axis=0)})
    totals["text"] = [format(value, ".3f") for value in totals["total"]]
    legend = alt.Legend(title="key", labelExpr=labels_expr(names), orient="right")
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("feature:O", title=feature_title, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title="w_j · v_j  (stacked)", stack="zero"),
            color=alt.Color(
                "key:N",
                legend=legend,
                scale=alt.Scale(scheme="tableau10" if n_keys <= 10 else "tableau20"),
            ),
            order=alt.Order("key:Q"),
            tooltip=[
                alt.Tooltip("key_label:N", title="key"),
                alt.Tooltip("feature:O", title="feature"),
                alt.Tooltip("text:N", title="w_j · v_j"),
            ],
        )
    )
    ticks = (
        alt.Chart(totals)
        .mark_tick(color="black", thickness=3, size=28)
        .encode(
            x=alt.X("feature:O"),
            y=alt.Y("total:Q"),
            tooltip=[alt.Tooltip("feature:O"), alt.Tooltip("text:N", title="output (sum)")],
        )
    )
    return alt.layer(bars, ticks).properties(title=title, width=alt.Step(52), height=240)
