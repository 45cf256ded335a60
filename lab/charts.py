"""Chart builders shared by every page: plain Vega-Lite dicts. Pure functions, no Streamlit.

A builder turns a matrix or vector plus labels into a Vega-Lite v6 spec, a
plain ``dict`` that ``json.dumps`` can write: the data sits in the spec's
top-level ``datasets`` as a list of records and each view names it. Plain
dicts cost well under a millisecond to build where an Altair chart of the
same spec costs 20-30 ms (deep copies, layer merging, ``to_dict``), and a
page redraws a dozen of them on every move. The tests validate every spec
against the Vega-Lite JSON schema that Altair ships, so the schema check
costs nothing at run time. ``app.charts.draw`` is the one way a page shows a
spec: it caches it by its inputs and serialises its data once.

Repeated tokens ("the cat saw the dog") must stay separate rows and columns:
a nominal axis keyed by the token text would merge the two "the" into one
band, so every axis here is keyed by *position* (an integer) and shows the
token through ``labelExpr``.

Shapes:
    L  rows (queries)
    S  columns (keys)
    Ev value features
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lab.checks import as_bool, as_real

Spec = dict[str, Any]  # a Vega-Lite spec as plain JSON-able data

WEIGHT_SCHEME = "blues"  # sequential, for weights in [0, 1]
SIGNED_SCHEME = "redblue"  # diverging around 0, for raw scores and matrix entries
MASKED_COLOR = "#d4d4d4"  # masked cells: grey, marked with a cross, "masked" in the tooltip
ALARM_COLOR = "#e03131"  # NaN or infinite cells: an alarm, not a number on the scale
PRIMARY = "#2f6db5"  # bars and data; the theme's primary colour
ACCENT = "#e8590c"  # the one thing to look at (orange; legible for colour-blind viewers)
INK = "#1f1f1f"  # text on light cells
FAINT = "#8a8a8a"  # guides, reference lines and the cross on masked cells
MAX_CELLS_WITH_TEXT = 150  # above this many cells, numbers in cells become clutter
CHAR_WIDTH = 7  # pixels a character of an 11-12 px label takes, on average
LABEL_LIMIT = 140  # pixels: longer axis labels are cut with an ellipsis
CONTENT_SIZE = {"type": "pad", "contains": "padding"}  # size to the content, never squash it
# Numbers in a cell turn white where the fill is dark: above this share of a sequential
# scale, and beyond this distance from the middle of a diverging one.
DARK_SEQUENTIAL = 0.62
DARK_DIVERGING = 0.32


def table(**columns: ArrayLike | Sequence[Any]) -> list[dict[str, Any]]:
    """Columns of equal length as a list of records, with plain Python values.

    ``table(x=[0, 1], y=np.array([2.0, 3.0]))`` -> ``[{"x": 0, "y": 2.0}, {"x": 1, "y": 3.0}]``.
    numpy values become ``int``/``float``/``bool``/``str`` so the spec is JSON.
    """
    names = list(columns)
    values = [
        np.asarray(column).tolist() if isinstance(column, np.ndarray) else list(column)
        for column in columns.values()
    ]
    lengths = {len(column) for column in values}
    if len(lengths) > 1:
        sizes = ", ".join(
            f"{name}: {len(column)}" for name, column in zip(names, values, strict=True)
        )
        raise ValueError(f"every column needs the same length, got {sizes}")
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def labels_expr(labels: Sequence[str]) -> str:
    """A Vega expression that maps a position (``datum.value``) to its label."""
    return f"{json.dumps([str(label) for label in labels])}[datum.value]"


def text_width(labels: Sequence[str]) -> int:
    """Pixels the longest label takes at the lab's label size (``CHAR_WIDTH`` a character)."""
    return CHAR_WIDTH * max((len(str(label)) for label in labels), default=0)


def check_labels(name: str, labels: Sequence[str], size: int) -> list[str]:
    """``labels`` as strings, exactly ``size`` of them."""
    names = [str(label) for label in labels]
    if len(names) != size:
        raise ValueError(f"{name} has {len(names)} labels but the data has {size}")
    return names


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


def text_colors(values: ArrayLike, domain: tuple[float, float], *, signed: bool) -> list[str]:
    """White or ink for numbers printed on cells, so they stay legible on dark fills."""
    low, high = domain
    span = (high - low) or 1.0
    position = (np.asarray(values, dtype=float) - low) / span  # 0 at low, 1 at high
    if signed:
        dark = np.abs(position - 0.5) > DARK_DIVERGING
    else:
        dark = position > DARK_SEQUENTIAL
    return np.where(dark, "white", INK).tolist()


def position_axis(
    labels: Sequence[str], title: str | None, *, x: bool, cell: int | None = None
) -> dict[str, Any]:
    """A position-keyed axis showing ``labels``; x labels turn when they would not fit.

    ``cell`` is the band width in pixels. Upright labels wider than their band
    overlap, and Vega then hides every other one, so x labels are rotated
    whenever the longest is wider than its band.
    """
    widest = text_width(labels)
    too_wide = cell is not None and widest > cell
    longest = widest // CHAR_WIDTH
    angle = -45 if x and (too_wide or (cell is None and longest > 6 and len(labels) > 4)) else 0
    return {
        "title": title,
        "labelExpr": labels_expr(labels),
        "labelAngle": angle,
        # Rotated x labels start at their band; y labels keep Vega's right alignment.
        "labelAlign": ("left" if angle else "center") if x else "right",
        # Never hide a token's label while a label fits its band (rotation makes room);
        # bands under 13 px are too thin for every label, so Vega thins them out.
        "labelOverlap": False if cell is None or cell >= 13 else "parity",
        "labelLimit": LABEL_LIMIT,
        "labelFontSize": 12 if (cell is None or cell >= 20) else 10,
        "ticks": False,
        "domain": False,
        "orient": "top" if x else "left",
    }


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


_COMPOSITIONS = ("layer", "hconcat", "vconcat", "concat")


def _label_marks(spec: Spec, description: str) -> Spec:
    """A copy of ``spec`` where every mark is labelled for screen readers or hidden from them.

    A mark that the builder did not mark ``"aria": False`` (decorative) gets a
    ``description``: Vega turns it into the label of the mark's group, which
    screen readers announce, and without it each group is an image with no
    text alternative.
    """
    labelled = dict(spec)
    mark = labelled.get("mark")
    if mark is not None:
        mark = {"type": mark} if isinstance(mark, str) else dict(mark)
        if mark.get("aria") is not False:
            mark.setdefault("description", f"{description} ({mark['type']} marks)")
        labelled["mark"] = mark
    for composition in _COMPOSITIONS:
        if composition in labelled:
            labelled[composition] = [
                _label_marks(part, description) for part in labelled[composition]
            ]
    return labelled


def top_level(spec: Spec, *, title: str, description: str | None = None) -> Spec:
    """Finish a spec: its title, a text alternative for screen readers, and "pad" sizing.

    Every mark gets a description unless its builder hid it from screen readers
    (``"aria": False`` on decorative layers). Sizing by content ("pad") keeps
    step-sized charts from being squashed into Streamlit's width and keeps Vega
    from warning that it dropped "fit".
    """
    text = description or title or "chart"
    return {
        "title": title,
        "description": text,
        "autosize": dict(CONTENT_SIZE),
        **_label_marks(spec, title or text),
    }


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
) -> Spec:
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
            matrix has at most ``MAX_CELLS_WITH_TEXT`` cells of 30 px or more.
        cell_size: pixels per cell; by default from :func:`default_cell_size`.
        max_width: shrink cells so the columns fit in this many pixels.
        domain: colour domain; default ``(0, 1)`` for weights and
            ``(-m, m)`` with ``m = max |value|`` for signed matrices. Pass the
            same domain to charts shown side by side so colours compare.
        value_format: d3 format of the numbers in cells and tooltips.
        legend: draw the colour legend (turn off for all but one of a set of
            charts that share a domain).

    Returns:
        A layered Vega-Lite spec (cells, masked cells, their crosses, optional numbers).
    """
    values = as_real("matrix", matrix, ndim=2, dtype=np.float64)
    n_rows, n_cols = values.shape
    rows = check_labels("row_labels", row_labels, n_rows)
    cols = check_labels("col_labels", col_labels, n_cols)
    if mask is None:
        masked = np.zeros(values.shape, dtype=bool)
    else:
        masked = ~np.broadcast_to(as_bool("mask", mask), values.shape)
    special = ~masked & ~np.isfinite(values)  # NaN or inf: drawn as an alarm, not coloured
    finite = values[~masked & ~special]
    size = cell_size or default_cell_size(n_rows, n_cols)
    if max_width:
        size = max(6, min(size, max_width // max(n_cols, 1)))
    if show_values is None:
        show_values = n_rows * n_cols <= MAX_CELLS_WITH_TEXT and size >= 30
    if domain is None:
        domain = symmetric_domain(finite) if signed else (0.0, 1.0)
    row_index, col_index = np.indices(values.shape)
    flat_masked = masked.ravel()
    flat_special = special.ravel()
    text = [
        "masked" if hidden else format(value, value_format) if np.isfinite(value) else str(value)
        for value, hidden in zip(values.ravel(), flat_masked, strict=True)
    ]
    shown = np.where(flat_masked | flat_special, 0.0, values.ravel())  # colourable values
    cells = table(
        row=row_index.ravel(),
        col=col_index.ravel(),
        row_label=np.asarray(rows, dtype=object)[row_index.ravel()],
        col_label=np.asarray(cols, dtype=object)[col_index.ravel()],
        value=shown,
        masked=flat_masked,
        special=flat_special,
        text=text,
        text_color=np.where(flat_special, "white", text_colors(shown, domain, signed=signed)),
    )
    scale: dict[str, Any] = {
        "scheme": SIGNED_SCHEME if signed else WEIGHT_SCHEME,
        "domain": [float(domain[0]), float(domain[1])],
    }
    if signed:
        scale["domainMid"] = 0
    color: dict[str, Any] = {"field": "value", "type": "quantitative", "scale": scale}
    color["title"] = value_title
    color["legend"] = (
        {"orient": "right", "gradientLength": max(80, min(200, size * n_rows))} if legend else None
    )
    layers: list[Spec] = [
        {
            "transform": [{"filter": "!datum.masked && !datum.special"}],
            "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
            "encoding": {"color": color},
        },
    ]
    if special.any():
        layers.append(
            {
                "transform": [{"filter": "datum.special"}],
                "mark": {"type": "rect", "color": ALARM_COLOR, "stroke": "white", "strokeWidth": 1},
            }
        )
    if masked.any():
        layers += [
            {
                "transform": [{"filter": "datum.masked"}],
                "mark": {
                    "type": "rect",
                    "color": MASKED_COLOR,
                    "stroke": "white",
                    "strokeWidth": 1,
                    "aria": False,
                },
            },
            {
                "transform": [{"filter": "datum.masked"}],
                "mark": {
                    "type": "text",
                    "text": "×",
                    "color": FAINT,
                    "fontSize": max(10, size // 2),
                    "aria": False,
                },
            },
        ]
    if show_values:
        layers.append(
            {
                "transform": [{"filter": "!datum.masked"}],
                "mark": {"type": "text", "fontSize": 11 if size >= 40 else 10, "aria": False},
                "encoding": {
                    "text": {"field": "text", "type": "nominal"},
                    "color": {"field": "text_color", "type": "nominal", "scale": None},
                },
            }
        )
    spec: Spec = {
        "datasets": {"cells": cells},
        "data": {"name": "cells"},
        "width": {"step": size},
        "height": {"step": size},
        "encoding": {
            "x": {
                "field": "col",
                "type": "ordinal",
                "sort": "ascending",
                "axis": position_axis(cols, col_title, x=True, cell=size),
            },
            "y": {
                "field": "row",
                "type": "ordinal",
                "sort": "ascending",
                "axis": position_axis(rows, row_title, x=False, cell=size),
            },
            "tooltip": [
                {"field": "row_label", "type": "nominal", "title": row_title or "row"},
                {"field": "col_label", "type": "nominal", "title": col_title or "column"},
                {"field": "text", "type": "nominal", "title": value_title},
            ],
        },
        "layer": layers,
    }
    if show_values:
        # The numbers' literal colours (scale None) must not merge with the cells' scale.
        spec["resolve"] = {"scale": {"color": "independent"}}
    return top_level(
        spec,
        title=title,
        description=f"{title or 'Heatmap'}: {n_rows} rows ({row_title or 'rows'}) by "
        f"{n_cols} columns ({col_title or 'columns'}) of {value_title}.",
    )


def weights_heatmap(
    weights: ArrayLike,
    query_labels: Sequence[str],
    key_labels: Sequence[str],
    **options: Any,
) -> Spec:
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
) -> Spec:
    """A signed heatmap of a matrix such as X, Q, K or V, titled with its shape.

    The title reads like ``"Q = X W_q   (4 × 5)"``; columns default to
    ``0, 1, …`` (feature indices). ``domain`` and ``legend`` as in :func:`heatmap`.
    """
    values = as_real("matrix", matrix, ndim=2, dtype=np.float64)
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


def bar_rows(
    bars: list[dict[str, Any]], labels: Sequence[str], label_title: str | None, *, width: int
) -> Spec:
    """The frame of a chart with one horizontal bar per position, top to bottom.

    The rows are the ``position`` column of ``bars`` (so repeated labels stay
    apart), shown with ``labels`` on the axis; each row is 26 pixels high.
    The caller adds its ``layer`` list and any further shared encoding.
    """
    return {
        "datasets": {"bars": bars},
        "data": {"name": "bars"},
        "width": width,
        "height": {"step": 26},
        "encoding": {
            "y": {
                "field": "position",
                "type": "ordinal",
                "sort": "ascending",
                "axis": position_axis(labels, label_title, x=False),
            }
        },
    }


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
    width: int = 300,
) -> Spec:
    """Horizontal bars, one per label in order (repeated labels stay apart).

    Args:
        values: ``(S,)``.
        labels: ``S`` labels.
        domain: value axis range, e.g. ``(0, 1)`` for weights.
        highlight: position to draw in the accent colour (e.g. the largest).
        width: pixels of the value axis.
    """
    array = as_real("values", values, ndim=1, finite=True, dtype=np.float64)
    names = check_labels("labels", labels, array.shape[0])
    positions = np.arange(array.shape[0])
    bars = table(
        position=positions,
        label=names,
        value=array,
        text=[format(value, value_format) for value in array],
        # labels of negative bars start at 0 so they never cover their bar
        label_at=np.maximum(array, 0.0),
        bar_color=np.where(positions == highlight, ACCENT, PRIMARY).tolist(),
    )
    x_scale: dict[str, Any] = {"domain": [float(domain[0]), float(domain[1])]} if domain else {}
    frame = bar_rows(bars, names, label_title, width=width)
    frame["encoding"]["tooltip"] = [
        {"field": "label", "type": "nominal", "title": label_title or "label"},
        {"field": "text", "type": "nominal", "title": value_title},
    ]
    return top_level(
        {
            **frame,
            "layer": [
                {
                    "mark": {"type": "bar", "height": {"band": 0.75}},
                    "encoding": {
                        "x": {
                            "field": "value",
                            "type": "quantitative",
                            "title": value_title,
                            "scale": x_scale,
                        },
                        "color": {"field": "bar_color", "type": "nominal", "scale": None},
                    },
                },
                {
                    "mark": {
                        "type": "text",
                        "align": "left",
                        "dx": 4,
                        "fontSize": 11,
                        "aria": False,
                    },
                    "encoding": {
                        "x": {"field": "label_at", "type": "quantitative", "scale": x_scale},
                        "text": {"field": "text", "type": "nominal"},
                    },
                },
            ],
        },
        title=title,
        description=f"{title or 'Bar chart'}: {value_title} for {len(names)} {label_title or 'items'}.",
    )


def stacked_contributions(
    contributions: ArrayLike,
    key_labels: Sequence[str],
    *,
    title: str = "",
    feature_title: str = "output feature",
) -> Spec:
    """How an output row is built: per feature, one stacked segment per key.

    Args:
        contributions: ``(S, Ev)``: row ``j`` is ``w_j * v_j``. Vega-Lite stacks
            positive parts upwards from 0 and negative parts downwards from 0;
            a black tick marks the column sum (the output feature), which is
            the net of the two stacks, not the top of either when signs mix.
        key_labels: ``S`` labels.
    """
    array = as_real("contributions", contributions, ndim=2, finite=True, dtype=np.float64)
    n_keys, n_features = array.shape
    names = check_labels("key_labels", key_labels, n_keys)
    key_index, feature_index = np.indices(array.shape)
    segments = table(
        key=key_index.ravel(),
        feature=feature_index.ravel(),
        key_label=np.asarray(names, dtype=object)[key_index.ravel()],
        value=array.ravel(),
        text=[format(value, ".3f") for value in array.ravel()],
    )
    sums = array.sum(axis=0)
    totals = table(
        feature=np.arange(n_features), total=sums, text=[format(value, ".3f") for value in sums]
    )
    return top_level(
        {
            "datasets": {"segments": segments, "totals": totals},
            "width": {"step": 52},
            "height": 240,
            "layer": [
                {
                    "data": {"name": "segments"},
                    "mark": "bar",
                    "encoding": {
                        "x": {
                            "field": "feature",
                            "type": "ordinal",
                            "title": feature_title,
                            "axis": {"labelAngle": 0},
                        },
                        "y": {
                            "field": "value",
                            "type": "quantitative",
                            "title": "wⱼ · vⱼ  (stacked)",
                            "stack": "zero",
                        },
                        "color": {
                            "field": "key",
                            "type": "nominal",
                            "legend": {
                                "title": "key",
                                "labelExpr": labels_expr(names),
                                "orient": "right",
                            },
                            "scale": {"scheme": "tableau10" if n_keys <= 10 else "tableau20"},
                        },
                        "order": {"field": "key", "type": "quantitative"},
                        "tooltip": [
                            {"field": "key_label", "type": "nominal", "title": "key"},
                            {"field": "feature", "type": "ordinal", "title": "feature"},
                            {"field": "text", "type": "nominal", "title": "wⱼ · vⱼ"},
                        ],
                    },
                },
                {
                    "data": {"name": "totals"},
                    "mark": {"type": "tick", "color": "black", "thickness": 3, "size": 28},
                    "encoding": {
                        "x": {"field": "feature", "type": "ordinal"},
                        "y": {"field": "total", "type": "quantitative"},
                        "tooltip": [
                            {"field": "feature", "type": "ordinal", "title": "feature"},
                            {"field": "text", "type": "nominal", "title": "output (sum)"},
                        ],
                    },
                },
            ],
        },
        title=title,
        description=f"{title or 'Stacked bars'}: each of {n_features} output features as "
        f"the sum of {n_keys} weighted value rows; a black tick marks each sum.",
    )
