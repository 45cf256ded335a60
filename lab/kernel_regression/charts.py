"""Chart builders of the kernel-regression page: pure functions returning Vega-Lite dicts.

Each builder takes arrays from :mod:`lab.kernel_regression.compute` and
returns a plain spec whose data sit in its top-level ``datasets`` (records
made by :func:`lab.charts.table`). Guides that only decorate (rules at ``± h``,
the current bandwidth, the noise floor, labels) carry ``"aria": False``; each
chart's ``description`` is its text alternative.

One colour, one meaning on the page: blue is the training data (keys and
values) and their weights, orange the estimate, red a query with no
estimate, black the learner's current choice (h or the query); the training
and leave-one-out errors have a colour each, the same in both error charts.

Sizes: charts on a continuous x axis are drawn across their column
(``autosize: fit-x``, the page passes ``width="stretch"``); the heatmap is
sized by its cells (``autosize: pad``), so Vega never drops a "fit".

Shapes:
    L  queries (test inputs)
    S  training points (keys and values)
    G  bandwidths of a grid
    T  training steps + 1
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lab.charts import (
    ACCENT,
    ALARM_COLOR,
    MASKED_COLOR,
    PRIMARY,
    Spec,
    labels_expr,
    table,
    top_level,
)
from lab.checks import FloatArray, as_real
from lab.kernel_regression.compute import (
    ErrorCurves,
    Kernel,
    format_bandwidth,
    get_kernel,
    kernel_weight,
)
from lab.kernel_regression.learning import LearningCurve, Objective

TRUTH_COLOR = "#6b6b6b"  # the true function and other references: grey, dashed
DATA_COLOR = PRIMARY  # training points (keys and values) and their weights
STRONGEST_COLOR = "#0b2e59"  # the key with the most weight: the darkest blue
ESTIMATE_COLOR = ACCENT  # the Nadaraya–Watson estimate, and nothing else
EMPTY_COLOR = ALARM_COLOR  # queries whose window holds no training point
CURRENT_COLOR = "#222222"  # the learner's current bandwidth or query
TRAIN_COLOR = "#b5508f"  # training error and the plain training loss (reddish purple)
LOO_COLOR = "#0f8a66"  # leave-one-out error and loss (bluish green)
TEST_COLOR = "#9a7300"  # test error (ochre)
# Heatmap colours: white at a weight of 0, then blues to dark blue at 1, with the stops evenly
# spaced on the square-root scale (sqrt of 0, 1/16, 1/4, 9/16, 1 = 0, 1/4, 1/2, 3/4, 1).
WEIGHT_STOPS = (0.0, 0.0625, 0.25, 0.5625, 1.0)
WEIGHT_COLORS = ("#ffffff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
MAX_HEATMAP_CELLS = 3000  # more cells than this and the page redraws slowly
WIDE = 560  # pixels: the nominal width of a chart drawn across its column
ACROSS = {"type": "fit-x", "contains": "padding"}  # fill the column's width, keep the height
ERROR_COLORS = {"train": TRAIN_COLOR, "loo": LOO_COLOR, "test": TEST_COLOR}
ERROR_LABELS = {"train": "training error", "loo": "leave-one-out error", "test": "test error"}
NO_DATA = {"values": [{}]}  # one empty datum: a layer placed by datum encodings draws once


def _vector(name: str, values: ArrayLike, *, finite: bool = True) -> FloatArray:
    return as_real(name, values, ndim=1, finite=finite, dtype=np.float64)


def _segments(defined: np.ndarray) -> np.ndarray:
    """Run ids so a line breaks at undefined points instead of bridging them."""
    starts = defined & ~np.concatenate(([False], defined[:-1]))
    return np.cumsum(starts)


def _series_color(series: list[str], colors: list[str], legend: dict[str, Any]) -> Spec:
    return {
        "field": "series",
        "type": "nominal",
        "scale": {"domain": series, "range": colors},
        "legend": {"orient": "bottom", "title": None, "labelLimit": 300, **legend},
    }


def _guide(mark: Spec, encoding: Spec) -> Spec:
    """A decorative layer placed by datum encodings: drawn once, hidden from screen readers."""
    return {"data": NO_DATA, "mark": {**mark, "aria": False}, "encoding": encoding}


def _across(spec: Spec, *, title: Any, description: str) -> Spec:
    """A chart that fills its column's width: ``fit-x`` sizing and a title with subtitles."""
    text = title["text"] if isinstance(title, dict) else title
    return top_level(
        {**spec, "title": title, "autosize": dict(ACROSS)}, title=text, description=description
    )


def fit_chart(
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_query: ArrayLike,
    estimate: ArrayLike,
    truth: ArrayLike,
    *,
    title: str = "",
    height: int = 320,
) -> Spec:
    """The true function, the training points and the estimate at the queries.

    Queries with no estimate (``NaN``: an empty window) break the estimate's
    line and are marked by red ticks at the bottom of the chart.

    Args:
        x_train, y_train: ``(S,)`` the training set.
        x_query: ``(L,)`` query inputs, increasing.
        estimate: ``(L,)`` the estimate, ``NaN`` where undefined.
        truth: ``(L,)`` the noise-free function at the queries.
    """
    keys, values = _vector("x_train", x_train), _vector("y_train", y_train)
    queries, true = _vector("x_query", x_query), _vector("truth", truth)
    fitted = as_real("estimate", estimate, ndim=1, dtype=np.float64)
    if keys.shape != values.shape:
        raise ValueError(f"x_train has {keys.size} points but y_train has {values.size}")
    if not queries.shape == fitted.shape == true.shape:
        raise ValueError("x_query, estimate and truth must have the same length")
    if np.isinf(fitted).any():
        raise ValueError("estimate must be finite or NaN (no estimate), not infinite")
    defined = ~np.isnan(fitted)
    floor = float(np.concatenate([values, true, fitted[defined]]).min())
    names = {
        "truth": "true function",
        "data": "training data (keys → values)",
        "estimate": "estimate at the queries",
        "empty": "no estimate: empty window",
    }
    parts = [
        ("truth", queries, true, np.zeros(queries.size, dtype=int)),
        ("data", keys, values, np.zeros(keys.size, dtype=int)),
        ("estimate", queries[defined], fitted[defined], _segments(defined)[defined]),
    ]
    if not defined.all():
        parts.append(("empty", queries[~defined], np.full((~defined).sum(), floor), np.zeros(1)))
    layer_of = [name for name, x, _, _ in parts for _ in range(x.size)]
    x_all = np.concatenate([x for _, x, _, _ in parts])
    y_all = np.concatenate([y for _, _, y, _ in parts])
    rows = table(
        layer=layer_of,
        series=[names[name] for name in layer_of],
        x=x_all,
        y=y_all,
        segment=np.concatenate([np.resize(s, x.size) for _, x, _, s in parts]).astype(int),
        y_text=[format(value, ".3f") for value in y_all],
    )
    series = [names[name] for name, _, _, _ in parts]
    colors = [TRUTH_COLOR, DATA_COLOR, ESTIMATE_COLOR, EMPTY_COLOR][: len(series)]

    def only(name: str) -> list[Spec]:
        return [{"filter": f"datum.layer === '{name}'"}]

    layers: list[Spec] = [
        {"transform": only("truth"), "mark": {"type": "line", "strokeDash": [6, 4]}},
        {"transform": only("data"), "mark": {"type": "circle", "size": 42, "opacity": 0.75}},
        {
            "transform": only("estimate"),
            "mark": {"type": "line", "strokeWidth": 2.5, "point": {"size": 18, "filled": True}},
            "encoding": {"detail": {"field": "segment", "type": "nominal"}},
        },
    ]
    if not defined.all():
        layers.append(
            {
                "transform": only("empty"),
                "mark": {"type": "tick", "thickness": 2, "size": 14, "orient": "vertical"},
            }
        )
    missing = int((~defined).sum())
    return _across(
        {
            "datasets": {"fit": rows},
            "data": {"name": "fit"},
            "width": WIDE,
            "height": height,
            "encoding": {
                "x": {"field": "x", "type": "quantitative", "title": "x (queries and keys)"},
                "y": {"field": "y", "type": "quantitative", "title": "y (values and estimates)"},
                "color": _series_color(series, colors, {"columns": 2}),
                "tooltip": [
                    {"field": "series", "type": "nominal", "title": "what"},
                    {"field": "x", "type": "quantitative", "format": ".3f"},
                    {"field": "y_text", "type": "nominal", "title": "y"},
                ],
            },
            "layer": layers,
        },
        title=title,
        description=f"{title or 'Fit'}: the true function (grey, dashed), {keys.size} training "
        f"points (blue) and the estimate at {queries.size} queries (orange)"
        + (f"; {missing} queries have no estimate (red ticks)." if missing else "."),
    )


def kernel_chart(
    kernel: Kernel | str,
    bandwidth: float,
    *,
    half_width: float = 2.5,
    spacing: float | None = None,
    height: int = 200,
) -> Spec:
    """The kernel's weight ``K((x - x_i) / h)`` against ``x - x_i``, at this bandwidth.

    Dashed rules mark ``± h``; dotted ones ``± spacing``, the typical gap
    between training inputs, if given: a window narrower than that holds at
    most one key, so the lookup becomes nearest-neighbour.

    Args:
        kernel: a :class:`Kernel` or its name.
        bandwidth: ``h``, in the units of x.
        half_width: the x axis runs from ``-half_width`` to ``half_width``.
    """
    shape = get_kernel(kernel)
    if not math.isfinite(half_width) or half_width <= 0:
        raise ValueError(f"half_width must be a positive number, got {half_width}")
    h = float(bandwidth)
    # An even grid, plus points at multiples of h so a narrow kernel keeps its shape,
    # plus points just inside and outside |u| = 1 where compact kernels drop to 0.
    around = h * np.concatenate([np.linspace(-3.0, 3.0, 61), [-1 - 1e-9, 1 + 1e-9]])
    grid = np.linspace(-half_width, half_width, 201)
    distances = np.unique(np.concatenate([grid, around[np.abs(around) <= half_width]]))
    weights = kernel_weight(distances, h, shape)
    whole = math.floor(half_width)
    ticks = list(range(-whole, whole + 1)) if whole >= 1 else [-half_width, 0.0, half_width]
    x = {
        "field": "distance",
        "type": "quantitative",
        "title": "x − xᵢ (query minus key)",
        "scale": {"domain": [-half_width, half_width], "nice": False},
        "axis": {"values": ticks},
    }
    layers: list[Spec] = [
        {
            "data": {"name": "profile"},
            "mark": {
                "type": "area",
                "color": DATA_COLOR,
                "opacity": 0.25,
                "line": {"color": DATA_COLOR, "strokeWidth": 2.5},
            },
            "encoding": {
                "x": x,
                "y": {
                    "field": "weight",
                    "type": "quantitative",
                    "title": "K((x − xᵢ)/h)",
                    "scale": {"domain": [0, 1.1]},
                },
                "tooltip": [
                    {
                        "field": "distance",
                        "type": "quantitative",
                        "format": ".3f",
                        "title": "x − xᵢ",
                    },
                    {"field": "weight", "type": "quantitative", "format": ".3f", "title": "weight"},
                ],
            },
        }
    ]
    rules: list[tuple[float, str]] = []
    notes = []
    if h <= half_width:
        rules += [(-h, "± h"), (h, "± h")]
        notes.append("dashed: ± h")
    if spacing is not None and 0 < spacing <= half_width:
        rules += [(-spacing, "± typical gap"), (spacing, "± typical gap")]
        notes.append("dotted: ± typical gap between keys")
    styles = {"± h": ([5, 3], CURRENT_COLOR), "± typical gap": ([1, 3], TRUTH_COLOR)}
    datasets = {"profile": table(distance=distances, weight=weights)}
    if rules:
        datasets["rules"] = table(
            position=[position for position, _ in rules], name=[name for _, name in rules]
        )
    for name in dict.fromkeys(name for _, name in rules):
        dash, color = styles[name]
        layers.append(
            {
                "data": {"name": "rules"},
                "transform": [{"filter": {"field": "name", "equal": name}}],
                "mark": {"type": "rule", "color": color, "strokeDash": dash, "aria": False},
                "encoding": {
                    "x": {"field": "position", "type": "quantitative"},
                    "tooltip": [
                        {"field": "name", "type": "nominal", "title": "rule"},
                        {"field": "position", "type": "quantitative", "format": ".3f"},
                    ],
                },
            }
        )
    text = f"{shape.label} kernel at h = {format_bandwidth(h)}"
    subtitle = [
        "the weight a key gets, before normalising",
        *([" · ".join(notes)] if notes else []),
    ]
    return _across(
        {"datasets": datasets, "width": 360, "height": height, "layer": layers},
        title={"text": text, "subtitle": subtitle},
        description=f"{text}: the weight K((x − xᵢ)/h) a key gets against its distance x − xᵢ "
        f"from the query, from −{half_width:g} to {half_width:g}"
        + (", zero outside the window |x − xᵢ| < h." if shape.compact else "."),
    )


def heatmap_rows(n_query: int, n_train: int, max_cells: int = MAX_HEATMAP_CELLS) -> np.ndarray:
    """Which query rows the heatmap draws: all, or evenly spaced ones to stay under ``max_cells``."""
    if n_query < 1 or n_train < 1:
        raise ValueError(f"need at least one query and one key, got {n_query} and {n_train}")
    rows = max(1, min(n_query, max_cells // n_train))
    return np.unique(np.round(np.linspace(0, n_query - 1, rows)).astype(int))


def _tick_positions(count: int, labels_wanted: int = 10) -> list[int]:
    step = max(1, math.ceil(count / labels_wanted))
    return list(range(0, count, step))


def attention_heatmap(
    weights: ArrayLike,
    x_query: ArrayLike,
    x_train: ArrayLike,
    *,
    title: str = "",
    max_cells: int = MAX_HEATMAP_CELLS,
    size: int = 470,
) -> Spec:
    """Attention weights of the queries (rows) over the sorted training keys (columns).

    Colour runs from white (0) to dark blue (1) on a square-root scale, so the
    pale weights of a wide bandwidth still show; the legend and subtitle say
    so. A query with an empty window (an all-zero row) is drawn grey. At most
    ``max_cells`` cells are drawn: with many training points only evenly
    spaced query rows are kept (the subtitle says so).

    Args:
        weights: ``(L, S)``; keys in increasing order of ``x_train``.
        x_query: ``(L,)`` query inputs, increasing.
        x_train: ``(S,)`` training inputs, increasing.
    """
    matrix = as_real("weights", weights, finite=True, dtype=np.float64)
    queries, keys = _vector("x_query", x_query), _vector("x_train", x_train)
    if matrix.ndim != 2 or matrix.shape != (queries.size, keys.size):
        raise ValueError(
            f"weights must be (L, S) = ({queries.size}, {keys.size}), got shape {matrix.shape}"
        )
    rows = heatmap_rows(queries.size, keys.size, max_cells)
    shown = matrix[rows]  # (rows, S)
    n_rows, n_cols = shown.shape
    row_labels = [f"{value:.2f}" for value in queries[rows]]
    col_labels = [f"{value:.2f}" for value in keys]
    empty_rows = ~np.any(shown > 0, axis=1)  # (rows,)
    row_index, col_index = np.indices(shown.shape)
    empty = empty_rows[row_index.ravel()]
    cells = table(
        row=row_index.ravel(),
        col=col_index.ravel(),
        row_label=np.asarray(row_labels)[row_index.ravel()],
        col_label=np.asarray(col_labels)[col_index.ravel()],
        value=np.round(shown.ravel(), 6),
        empty=empty,
        text=np.where(
            empty, "empty window: no estimate", [format(v, ".3f") for v in shown.ravel()]
        ),
    )
    cell = max(3, min(16, size // max(n_cols, 1)))
    cell_height = max(cell, min(3 * cell, size // max(n_rows, 1)))

    def axis(labels: list[str], text: str, *, x: bool) -> Spec:
        return {
            "title": text,
            "values": _tick_positions(len(labels)),
            "labelExpr": labels_expr(labels),
            "labelAngle": 0,
            "ticks": False,
            "domain": False,
            "orient": "bottom" if x else "left",
        }

    subtitle = ["each row sums to 1 · colour: square-root scale, white = 0"]
    if empty_rows.any():
        subtitle.append("grey rows: empty window, no weights at all")
    if n_rows < queries.size:
        subtitle.append(f"{n_rows} of {queries.size} queries shown, evenly spaced, to keep it fast")
    return top_level(
        {
            "title": {"text": title, "subtitle": subtitle},
            "datasets": {"cells": cells},
            "data": {"name": "cells"},
            "width": {"step": cell},
            "height": {"step": cell_height},
            "encoding": {
                "x": {
                    "field": "col",
                    "type": "ordinal",
                    "axis": axis(col_labels, "training input xᵢ (key)", x=True),
                },
                "y": {
                    "field": "row",
                    "type": "ordinal",
                    "axis": axis(row_labels, "test input x (query)", x=False),
                },
                "tooltip": [
                    {"field": "row_label", "type": "nominal", "title": "query x"},
                    {"field": "col_label", "type": "nominal", "title": "key xᵢ"},
                    {"field": "text", "type": "nominal", "title": "weight"},
                ],
            },
            "layer": [
                {
                    "transform": [{"filter": "!datum.empty"}],
                    "mark": "rect",
                    "encoding": {
                        "color": {
                            "field": "value",
                            "type": "quantitative",
                            "title": "weight (square-root scale)",
                            "scale": {
                                "type": "sqrt",
                                "domain": list(WEIGHT_STOPS),
                                "range": list(WEIGHT_COLORS),
                                "interpolate": "rgb",  # hcl would tint the white end cyan
                            },
                            "legend": {
                                "orient": "bottom",
                                "direction": "horizontal",
                                "gradientLength": min(240, cell * n_cols),
                                "values": [0.0, 0.1, 0.25, 0.5, 1.0],
                                "format": ".2~f",
                                "titleLimit": 300,
                            },
                        }
                    },
                },
            ]
            # Grey rows only where a window is empty: a layer with nothing to draw would
            # still leave an unlabelled mark group for screen readers.
            + (
                [
                    {
                        "transform": [{"filter": "datum.empty"}],
                        "mark": {"type": "rect", "color": MASKED_COLOR},
                    }
                ]
                if empty_rows.any()
                else []
            ),
        },
        title=title,
        description=f"{title or 'Attention weights'}: a heatmap of {n_rows} queries (rows) by "
        f"{n_cols} training keys (columns), both sorted by x; colour from white (weight 0) to "
        "dark blue (weight 1) on a square-root scale"
        + (f"; {int(empty_rows.sum())} grey rows have no weights." if empty_rows.any() else "."),
    )


def query_weights_chart(
    x_train: ArrayLike,
    weights: ArrayLike,
    query_x: float,
    *,
    x_domain: tuple[float, float] | None = None,
    height: int = 170,
) -> Spec:
    """One query's weights as stems standing on the training inputs, with the query marked.

    The key with the most weight is drawn darkest (none when every weight is
    0, an empty window).

    Args:
        x_train: ``(S,)`` training inputs.
        weights: ``(S,)`` that query's weights (sum 1, or all 0 for an empty window).
        query_x: where the query is.
    """
    keys, row = _vector("x_train", x_train), _vector("weights", weights)
    if keys.shape != row.shape:
        raise ValueError(f"x_train has {keys.size} points but weights has {row.size}")
    strongest = int(np.argmax(row)) if row.size and row.max() > 0 else -1
    stems = table(
        x=keys,
        weight=row,
        text=[format(value, ".3f") for value in row],
        bar_color=np.where(np.arange(row.size) == strongest, STRONGEST_COLOR, DATA_COLOR),
    )
    domain = list(x_domain) if x_domain else [float(keys.min()), float(keys.max())]
    y_scale = {"domainMin": 0} if row.max(initial=0) > 0 else {"domain": [0, 1]}
    color = {"field": "bar_color", "type": "nominal", "scale": None}
    title = f"Weights of the query x = {query_x:.2f} (they sum to {row.sum():.3f})"
    return _across(
        {
            "datasets": {"stems": stems},
            "width": WIDE,
            "height": height,
            "layer": [
                {
                    "data": {"name": "stems"},
                    "encoding": {
                        "x": {
                            "field": "x",
                            "type": "quantitative",
                            "title": "training input xᵢ (key)",
                            "scale": {"domain": domain},
                        },
                        "y": {
                            "field": "weight",
                            "type": "quantitative",
                            "title": "weight αᵢ",
                            "scale": y_scale,
                        },
                        "color": color,
                        "tooltip": [
                            {
                                "field": "x",
                                "type": "quantitative",
                                "format": ".3f",
                                "title": "key xᵢ",
                            },
                            {"field": "text", "type": "nominal", "title": "weight"},
                        ],
                    },
                    "layer": [
                        {
                            "mark": {"type": "rule", "strokeWidth": 3},
                            "encoding": {"y2": {"datum": 0}},
                        },
                        {"mark": {"type": "circle", "size": 22, "opacity": 1, "aria": False}},
                    ],
                },
                _guide(
                    {
                        "type": "rule",
                        "strokeDash": [4, 3],
                        "color": CURRENT_COLOR,
                        "strokeWidth": 1.5,
                    },
                    {"x": {"datum": float(query_x)}},
                ),
            ],
        },
        title=title,
        description=f"{title}: one stem per training key at its input xᵢ, as tall as its "
        "weight; a dashed line marks the query.",
    )


def weighted_targets_chart(
    x_train: ArrayLike,
    y_train: ArrayLike,
    weights: ArrayLike,
    query_x: float,
    estimate: float,
    *,
    x_domain: tuple[float, float] | None = None,
    height: int = 230,
) -> Spec:
    """The values ``y_i`` drawn bigger and darker the more weight they get, and their average.

    A horizontal rule and an orange diamond mark the estimate
    ``sum_i alpha_i y_i`` at the query (left out when it is ``NaN``).
    """
    keys, values, row = (
        _vector("x_train", x_train),
        _vector("y_train", y_train),
        _vector("weights", weights),
    )
    if not keys.shape == values.shape == row.shape:
        raise ValueError("x_train, y_train and weights must have the same length")
    peak = float(row.max()) if row.size and row.max() > 0 else 1.0
    points = table(
        x=keys, y=values, weight=row, text=[format(v, ".3f") for v in row], share=row / peak
    )
    domain = list(x_domain) if x_domain else [float(keys.min()), float(keys.max())]
    layers: list[Spec] = [
        {
            "data": {"name": "points"},
            "mark": {"type": "circle", "color": DATA_COLOR},
            "encoding": {
                "x": {
                    "field": "x",
                    "type": "quantitative",
                    "title": "x",
                    "scale": {"domain": domain},
                },
                "y": {"field": "y", "type": "quantitative", "title": "y (values)"},
                "size": {
                    "field": "share",
                    "type": "quantitative",
                    "scale": {"domain": [0, 1], "range": [12, 420]},
                    "legend": None,
                },
                "opacity": {
                    "field": "share",
                    "type": "quantitative",
                    "scale": {"domain": [0, 1], "range": [0.15, 1.0]},
                    "legend": None,
                },
                "tooltip": [
                    {"field": "x", "type": "quantitative", "format": ".3f", "title": "key xᵢ"},
                    {"field": "y", "type": "quantitative", "format": ".3f", "title": "value yᵢ"},
                    {"field": "text", "type": "nominal", "title": "weight αᵢ"},
                ],
            },
        }
    ]
    if math.isfinite(estimate):
        label = f"estimate Σ αᵢ yᵢ = {estimate:.3f}"
        layers.append(
            _guide(
                {"type": "rule", "color": ESTIMATE_COLOR, "strokeDash": [4, 3]},
                {"y": {"datum": float(estimate)}},
            )
        )
        layers.append(
            {
                "data": NO_DATA,
                "mark": {
                    "type": "point",
                    "shape": "diamond",
                    "size": 220,
                    "filled": True,
                    "color": ESTIMATE_COLOR,
                    "opacity": 1,
                },
                "encoding": {
                    "x": {"datum": float(query_x)},
                    "y": {"datum": float(estimate)},
                    "tooltip": {"value": label},
                },
            }
        )
        title = {
            "text": "Values yᵢ, sized by their weight, and their weighted average",
            "subtitle": f"orange diamond: Σ αᵢ yᵢ = {estimate:.3f} at x = {query_x:.2f}",
        }
    else:
        title = {
            "text": "Values yᵢ, sized by their weight",
            "subtitle": f"no key in the window of x = {query_x:.2f}: no weighted average",
        }
    return _across(
        {"datasets": {"points": points}, "width": WIDE, "height": height, "layer": layers},
        title=title,
        description=f"{title['text']}: the {keys.size} training values, each drawn bigger the "
        f"more weight the query x = {query_x:.2f} gives it; {title['subtitle']}.",
    )


def error_chart(
    curves: ErrorCurves,
    bandwidth: float,
    *,
    noise_variance: float | None = None,
    height: int = 300,
) -> Spec:
    """Training, leave-one-out and test error against the bandwidth (log axis).

    The current bandwidth is a black rule; the leave-one-out optimum a
    diamond; ``noise_variance`` (if given) a dashed floor that no estimator
    beats on average on noisy test targets.
    """
    kinds = {"train": curves.train, "loo": curves.loo}
    if curves.test is not None:
        kinds["test"] = curves.test
    columns: dict[str, list] = {"bandwidth": [], "error": [], "kind": [], "segment": []}
    for kind, values in kinds.items():
        defined = ~np.isnan(values)
        columns["bandwidth"] += curves.bandwidths[defined].tolist()
        columns["error"] += values[defined].tolist()
        columns["kind"] += [ERROR_LABELS[kind]] * int(defined.sum())
        columns["segment"] += _segments(defined)[defined].tolist()
    lines = table(**columns, h_text=[format_bandwidth(value) for value in columns["bandwidth"]])
    low, high = float(curves.bandwidths.min()), float(curves.bandwidths.max())
    layers: list[Spec] = [
        {
            "data": {"name": "errors"},
            "mark": {"type": "line", "strokeWidth": 2.5},
            "encoding": {
                "x": {
                    "field": "bandwidth",
                    "type": "quantitative",
                    "title": "bandwidth h (log scale)",
                    "scale": {"type": "log", "domain": [low, high]},
                },
                "y": {
                    "field": "error",
                    "type": "quantitative",
                    "title": "mean squared error",
                    "scale": {"zero": True},
                },
                "color": {
                    "field": "kind",
                    "type": "nominal",
                    "scale": {
                        "domain": [ERROR_LABELS[kind] for kind in kinds],
                        "range": [ERROR_COLORS[kind] for kind in kinds],
                    },
                    "legend": {"orient": "bottom", "title": None},
                },
                "detail": {"field": "segment", "type": "nominal"},
                "tooltip": [
                    {"field": "kind", "type": "nominal", "title": "curve"},
                    {"field": "h_text", "type": "nominal", "title": "h"},
                    {"field": "error", "type": "quantitative", "format": ".4f", "title": "error"},
                ],
            },
        },
        _guide(
            {"type": "rule", "color": CURRENT_COLOR, "strokeWidth": 2},
            {
                "x": {"datum": float(bandwidth)},
                "tooltip": {"value": f"your h = {format_bandwidth(bandwidth)}"},
            },
        ),
    ]
    if noise_variance is not None and noise_variance > 0:
        floor = {"y": {"datum": float(noise_variance)}}
        layers.append(_guide({"type": "rule", "strokeDash": [5, 4], "color": TRUTH_COLOR}, floor))
        layers.append(
            _guide(
                {"type": "text", "align": "right", "dy": -7, "color": TRUTH_COLOR, "fontSize": 11},
                {
                    **floor,
                    "x": {"datum": high},
                    "text": {"datum": f"noise floor σ² = {noise_variance:.3g}"},
                },
            )
        )
    best = curves.best_index
    subtitle = f"black rule: your h = {format_bandwidth(bandwidth)}"
    if best is not None:
        h_best, error_best = float(curves.bandwidths[best]), float(curves.loo[best])
        subtitle += f"; diamond: the leave-one-out optimum, h = {format_bandwidth(h_best)}"
        layers.append(
            {
                "data": NO_DATA,
                "mark": {
                    "type": "point",
                    "size": 140,
                    "filled": True,
                    "color": LOO_COLOR,
                    "shape": "diamond",
                    "opacity": 1,
                },
                "encoding": {
                    "x": {"datum": h_best},
                    "y": {"datum": error_best},
                    "tooltip": {
                        "value": f"leave-one-out optimum h = {format_bandwidth(h_best)}, "
                        f"error {error_best:.3f}"
                    },
                },
            }
        )
    return _across(
        {"datasets": {"errors": lines}, "width": WIDE, "height": height, "layer": layers},
        title={"text": "Error against bandwidth", "subtitle": subtitle},
        description="Error against bandwidth: mean squared "
        + ", ".join(ERROR_LABELS[kind] for kind in kinds)
        + f" for {curves.bandwidths.size} bandwidths from {format_bandwidth(low)} to "
        f"{format_bandwidth(high)} on a log axis; {subtitle}.",
    )


def learning_curves_chart(
    curves: dict[Objective, LearningCurve],
    *,
    closed_form_best: float | None = None,
    width: int = 300,
    height: int = 220,
) -> Spec:
    """Two panels over the training steps: the losses, and the bandwidth (log axis).

    Left: each run's own objective (solid) and, for the plain run, the
    leave-one-out loss at its bandwidth (dashed): one falls while the other
    rises. Colour is the kind of loss (as in the error chart), dashes the
    plain run's cost. Right: the bandwidth of each run, coloured by what it
    minimised, with the closed-form leave-one-out optimum as a dashed rule.
    """
    if not curves:
        raise ValueError("no learning curves to draw")
    loss_parts, bandwidth_parts = [], []
    for objective, curve in curves.items():
        objective = Objective(objective)
        steps = np.arange(curve.bandwidths.size)
        run = f"trained on the {objective.label}"
        loss_parts.append((f"{objective.label} (what it minimises)", steps, curve.losses))
        if objective is Objective.TRAIN:
            loss_parts.append(("its leave-one-out loss (what it costs)", steps, curve.loo_losses))
        bandwidth_parts.append((run, steps, curve.bandwidths))

    def records(parts: list, value: str) -> list[dict[str, Any]]:
        return table(
            series=[name for name, steps, _ in parts for _ in steps],
            step=np.concatenate([steps for _, steps, _ in parts]),
            **{value: np.concatenate([values for _, _, values in parts])},
        )

    series = [name for name, _, _ in loss_parts]
    loss_colors = [TRAIN_COLOR if name.startswith("plain") else LOO_COLOR for name in series]
    dashes = [[5, 4] if "costs" in name else [1, 0] for name in series]
    runs = [name for name, _, _ in bandwidth_parts]
    run_colors = [TRAIN_COLOR if "plain" in name else LOO_COLOR for name in runs]
    legend = {"columns": 1, "symbolStrokeWidth": 2.5}
    x = {"field": "step", "type": "quantitative", "title": "gradient step"}
    losses = {
        "title": "Losses while learning",
        "width": width,
        "height": height,
        "data": {"name": "losses"},
        "mark": {"type": "line", "strokeWidth": 2.5},
        "encoding": {
            "x": x,
            "y": {
                "field": "loss",
                "type": "quantitative",
                "title": "mean squared error",
                "scale": {"zero": True},
            },
            "color": _series_color(series, loss_colors, legend),
            "strokeDash": {
                "field": "series",
                "type": "nominal",
                "scale": {"domain": series, "range": dashes},
                "legend": {"orient": "bottom", "title": None, "labelLimit": 300, **legend},
            },
            "tooltip": [
                {"field": "series", "type": "nominal", "title": "curve"},
                {"field": "step", "type": "quantitative"},
                {"field": "loss", "type": "quantitative", "format": ".4f"},
            ],
        },
    }
    right: list[Spec] = [
        {
            "data": {"name": "bandwidths"},
            "mark": {"type": "line", "strokeWidth": 2.5},
            "encoding": {
                "x": x,
                "y": {
                    "field": "bandwidth",
                    "type": "quantitative",
                    "title": "bandwidth h (log scale)",
                    "scale": {"type": "log"},
                },
                "color": _series_color(runs, run_colors, {"columns": 1}),
                "tooltip": [
                    {"field": "series", "type": "nominal", "title": "run"},
                    {"field": "step", "type": "quantitative"},
                    {"field": "bandwidth", "type": "quantitative", "format": ".4f", "title": "h"},
                ],
            },
        }
    ]
    if closed_form_best is not None:
        rule = {"y": {"datum": float(closed_form_best)}}
        last = float(max(steps.size for _, steps, _ in bandwidth_parts) - 1)
        right.append(_guide({"type": "rule", "strokeDash": [5, 4], "color": TRUTH_COLOR}, rule))
        right.append(
            _guide(
                {"type": "text", "align": "right", "dy": 11, "color": TRUTH_COLOR, "fontSize": 11},
                {
                    **rule,
                    "x": {"datum": last},
                    "text": {"datum": f"closed-form optimum {format_bandwidth(closed_form_best)}"},
                },
            )
        )
    description = "Learning the bandwidth: " + "; ".join(
        f"the run {name} ends at h = {format_bandwidth(values[-1])}"
        for name, _, values in bandwidth_parts
    )
    return top_level(
        {
            "datasets": {
                "losses": records(loss_parts, "loss"),
                "bandwidths": records(bandwidth_parts, "bandwidth"),
            },
            "hconcat": [
                losses,
                {
                    "title": "Bandwidth while learning",
                    "width": width,
                    "height": height,
                    "layer": right,
                },
            ],
            "spacing": 40,
            "resolve": {"scale": {"color": "independent", "strokeDash": "independent"}},
        },
        title="",
        description=description + ".",
    )
