"""Altair charts of the kernel-regression demo. Pure functions, no Streamlit.

Each builder turns arrays from :mod:`lab.kernel_regression` into one long
DataFrame, put on the top-level chart (``alt.layer(..., data=frame)``) so
Altair hashes it once, and layers filter it by a column.

Shapes:
    L  queries (test inputs)
    S  training points (keys and values)
    G  bandwidths of a grid
    T  training steps + 1
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lab import legacy_charts as charts
from lab.kernel_regression import (
    OBJECTIVES,
    ErrorCurves,
    LearningCurve,
    Objective,
    get_kernel,
    kernel_weight,
)

TRUTH_COLOR = "#6b6b6b"  # the true function: grey, dashed
DATA_COLOR = charts.PRIMARY  # training points (keys and values)
ESTIMATE_COLOR = charts.ACCENT  # the Nadaraya–Watson estimate
EMPTY_COLOR = "#c92a2a"  # queries whose window holds no training point
LOO_COLOR = charts.PRIMARY  # leave-one-out curves
TRAIN_COLOR = charts.ACCENT  # training-error curves
TEST_COLOR = "#2b8a3e"  # test-error curve
CURRENT_COLOR = "#222222"  # the learner's current bandwidth
MAX_HEATMAP_CELLS = 3000  # more cells than this and the page redraws slowly
WIDE = 560  # pixels: a chart that has half the page
ERROR_LABELS = {"train": "training error", "loo": "leave-one-out error", "test": "test error"}
OBJECTIVE_LABELS: dict[Objective, str] = {
    "train": "plain training loss",
    "loo": "leave-one-out loss",
}


def format_bandwidth(bandwidth: float) -> str:
    """Three significant digits, no exponent for the slider's range: ``0.0112``, ``0.2``, ``10``."""
    value = float(bandwidth)
    if not math.isfinite(value):
        return str(value)
    if 1e-3 <= abs(value) < 1e4:
        digits = max(0, 2 - math.floor(math.log10(abs(value))))
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def fit_width(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with ``autosize: fit-x``: it takes the container's width, keeps its height.

    Streamlit's ``width="stretch"`` otherwise sets ``fit``, which squeezes the
    title, axes and legend into the given height and leaves a flat plot.
    """
    return chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))


def _vector(name: str, values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a vector, got shape {array.shape}")
    return array


def _annotation() -> alt.Chart:
    """A chart with one empty datum, for a rule or label placed by ``XDatum``/``YDatum``.

    Without its own data a layer inherits the layered chart's DataFrame and
    would draw the same mark once per row.
    """
    return alt.Chart(alt.Data(values=[{}]))


def _rules(positions: list[float], color: str, dash: list[int], name: str) -> alt.Chart:
    """Vertical rules at ``positions`` (data units), with their own small dataset."""
    frame = pd.DataFrame({"position": positions, "name": name})
    return (
        alt.Chart(frame)
        .mark_rule(color=color, strokeDash=dash)
        .encode(
            x=alt.X("position:Q"),
            tooltip=[alt.Tooltip("name:N", title="rule"), alt.Tooltip("position:Q", format=".3f")],
        )
    )


def _segments(defined: np.ndarray) -> np.ndarray:
    """Run ids so a line breaks at undefined points instead of bridging them."""
    starts = defined & ~np.concatenate(([False], defined[:-1]))
    return np.cumsum(starts)


def fit_chart(
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_query: ArrayLike,
    estimate: ArrayLike,
    truth: ArrayLike,
    *,
    title: str = "",
    width: int = WIDE,
    height: int = 320,
) -> alt.LayerChart:
    """The true function, the training points and the estimate at the queries.

    Queries with no estimate (``NaN``: an empty window) break the estimate's
    line and are marked by red ticks on the x axis.

    Args:
        x_train, y_train: ``(S,)`` the training set.
        x_query: ``(L,)`` query inputs, increasing.
        estimate: ``(L,)`` the estimate, ``NaN`` where undefined.
        truth: ``(L,)`` the noise-free function at the queries.
    """
    keys, values = _vector("x_train", x_train), _vector("y_train", y_train)
    queries, fitted, true = (
        _vector("x_query", x_query),
        _vector("estimate", estimate),
        _vector("truth", truth),
    )
    if keys.shape != values.shape:
        raise ValueError(f"x_train has {keys.size} points but y_train has {values.size}")
    if not queries.shape == fitted.shape == true.shape:
        raise ValueError("x_query, estimate and truth must have the same length")
    defined = ~np.isnan(fitted)
    finite_y = np.concatenate([values, true, fitted[defined]])
    floor = float(finite_y.min()) if finite_y.size else 0.0
    series = ["true function", "training data (keys → values)", "estimate at the queries"]
    colors = [TRUTH_COLOR, DATA_COLOR, ESTIMATE_COLOR]
    frames = [
        pd.DataFrame({"layer": "truth", "x": queries, "y": true, "segment": 0}),
        pd.DataFrame({"layer": "data", "x": keys, "y": values, "segment": 0}),
        pd.DataFrame(
            {"layer": "estimate", "x": queries, "y": fitted, "segment": _segments(defined)}
        ).loc[defined],
    ]
    if (~defined).any():
        series.append("no estimate: empty window")
        colors.append(EMPTY_COLOR)
        frames.append(
            pd.DataFrame({"layer": "empty", "x": queries[~defined], "y": floor, "segment": 0})
        )
    frame = pd.concat(frames, ignore_index=True)
    names = dict(zip(["truth", "data", "estimate", "empty"], series, strict=False))
    frame["series"] = frame["layer"].map(names)
    frame["y_text"] = [format(value, ".3f") for value in frame["y"]]
    color = alt.Color(
        "series:N",
        scale=alt.Scale(domain=series, range=colors),
        legend=alt.Legend(
            orient="bottom", title=None, columns=2 if len(series) > 3 else 3, labelLimit=260
        ),
    )
    x = alt.X("x:Q", title="x (queries and keys)")
    y = alt.Y("y:Q", title="y (values and estimates)")
    tooltip = [
        alt.Tooltip("series:N", title="what"),
        alt.Tooltip("x:Q", format=".3f"),
        alt.Tooltip("y_text:N", title="y"),
    ]
    base = alt.Chart().encode(x=x, y=y, color=color, tooltip=tooltip)
    layers = [
        base.transform_filter("datum.layer === 'truth'").mark_line(strokeDash=[6, 4]),
        base.transform_filter("datum.layer === 'data'").mark_circle(size=42, opacity=0.75),
        base.transform_filter("datum.layer === 'estimate'")
        .mark_line(strokeWidth=2.5, point=alt.OverlayMarkDef(size=18, filled=True))
        .encode(detail=alt.Detail("segment:N")),
    ]
    if (~defined).any():
        layers.append(
            base.transform_filter("datum.layer === 'empty'").mark_tick(
                thickness=2, size=14, orient="vertical"
            )
        )
    return alt.layer(*layers, data=frame).properties(title=title, width=width, height=height)


def kernel_chart(
    kernel: str,
    bandwidth: float,
    *,
    half_width: float = 2.5,
    spacing: float | None = None,
    width: int = 360,
    height: int = 200,
) -> alt.LayerChart:
    """The kernel's weight ``K((x - x_i) / h)`` against ``x - x_i``, at this bandwidth.

    Dashed rules mark ``± h``; dotted ones ``± spacing``, the typical gap
    between training inputs, if given: a window narrower than that holds at
    most one key, so the lookup becomes nearest-neighbour.

    Args:
        kernel: a name in :data:`lab.kernel_regression.KERNELS`.
        bandwidth: ``h``, in the units of x.
        half_width: the x axis runs from ``-half_width`` to ``half_width``.
    """
    spec = get_kernel(kernel)
    if not math.isfinite(half_width) or half_width <= 0:
        raise ValueError(f"half_width must be positive, got {half_width}")
    h = float(bandwidth)
    # An even grid, plus points at multiples of h so a narrow kernel keeps its shape,
    # plus points just inside and outside |u| = 1 where compact kernels drop to 0.
    around = h * np.concatenate([np.linspace(-3.0, 3.0, 61), [-1 - 1e-9, 1 + 1e-9]])
    grid = np.linspace(-half_width, half_width, 201)
    distances = np.unique(np.concatenate([grid, around[np.abs(around) <= half_width]]))
    weights = kernel_weight(distances, h, kernel)
    frame = pd.DataFrame({"distance": distances, "weight": weights})
    whole = math.floor(half_width)
    ticks = list(range(-whole, whole + 1)) if whole >= 1 else [-half_width, 0.0, half_width]
    x = alt.X(
        "distance:Q",
        title="x − xᵢ (query minus key)",
        scale=alt.Scale(domain=[-half_width, half_width], nice=False),
        axis=alt.Axis(values=ticks),
    )
    y = alt.Y("weight:Q", title="K((x − xᵢ)/h)", scale=alt.Scale(domain=[0, 1.1]))
    tooltip = [
        alt.Tooltip("distance:Q", format=".3f", title="x − xᵢ"),
        alt.Tooltip("weight:Q", format=".3f", title="weight"),
    ]
    area = (
        alt.Chart()
        .mark_area(color=DATA_COLOR, opacity=0.25, line={"color": DATA_COLOR, "strokeWidth": 2.5})
        .encode(x=x, y=y, tooltip=tooltip)
    )
    layers: list[alt.Chart] = [area]
    rules = []
    if h <= half_width:
        layers.append(_rules([-h, h], CURRENT_COLOR, [5, 3], "± h"))
        rules.append("dashed: ± h")
    if spacing is not None and 0 < spacing <= half_width:
        layers.append(_rules([-spacing, spacing], TRUTH_COLOR, [1, 3], "± typical gap"))
        rules.append("dotted: ± typical gap between keys")
    subtitle = ["the weight a key gets, before normalising"]
    if rules:
        subtitle.append(" · ".join(rules))
    title = alt.TitleParams(f"{spec.label} kernel at h = {format_bandwidth(h)}", subtitle=subtitle)
    return alt.layer(*layers, data=frame).properties(title=title, width=width, height=height)


def heatmap_rows(n_query: int, n_train: int, max_cells: int = MAX_HEATMAP_CELLS) -> np.ndarray:
    """Which query rows the heatmap draws: all of them, or evenly spaced ones to stay under ``max_cells``."""
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
) -> alt.LayerChart:
    """Attention weights of the queries (rows) over the sorted training keys (columns).

    Colour runs from 0 to 1 on a square-root scale, so the pale weights of a
    wide bandwidth still show and the band darkens as it narrows. A query with
    an empty window (an all-zero row) is drawn grey. At most ``max_cells``
    cells are drawn: with many training points only evenly spaced query rows
    are kept (the title says so).

    Args:
        weights: ``(L, S)``; keys in increasing order of ``x_train``.
        x_query: ``(L,)`` query inputs, increasing.
        x_train: ``(S,)`` training inputs, increasing.
    """
    matrix = np.asarray(weights, dtype=float)
    queries, keys = _vector("x_query", x_query), _vector("x_train", x_train)
    if matrix.ndim != 2 or matrix.shape != (queries.size, keys.size):
        raise ValueError(
            f"weights must be (L, S) = ({queries.size}, {keys.size}), got shape {matrix.shape}"
        )
    rows = heatmap_rows(queries.size, keys.size, max_cells)
    shown = matrix[rows]  # (rows, S)
    row_labels = [f"{value:.2f}" for value in queries[rows]]
    col_labels = [f"{value:.2f}" for value in keys]
    frame = charts.matrix_frame(shown, row_labels, col_labels).drop(columns="masked")
    empty_rows = ~np.any(shown > 0, axis=1)
    frame["empty"] = empty_rows[frame["row"].to_numpy()]
    frame["text"] = np.where(
        frame["empty"], "empty window: no estimate", [format(v, ".3f") for v in frame["value"]]
    )
    n_rows, n_cols = shown.shape
    cell = max(3, min(16, size // max(n_cols, 1)))
    cell_height = max(cell, min(3 * cell, size // max(n_rows, 1)))

    def axis(labels: list[str], title_text: str, *, x: bool) -> alt.Axis:
        return alt.Axis(
            title=title_text,
            values=_tick_positions(len(labels)),
            labelExpr=charts.labels_expr(labels),
            labelAngle=0,
            ticks=False,
            domain=False,
            orient="bottom" if x else "left",
        )

    encoding = {
        "x": alt.X("col:O", axis=axis(col_labels, "training input xᵢ (key)", x=True)),
        "y": alt.Y("row:O", axis=axis(row_labels, "test input x (query)", x=False)),
        "tooltip": [
            alt.Tooltip("row_label:N", title="query x"),
            alt.Tooltip("col_label:N", title="key xᵢ"),
            alt.Tooltip("text:N", title="weight"),
        ],
    }
    base = alt.Chart().encode(**encoding)
    cells = (
        base.transform_filter("!datum.empty")
        .mark_rect()
        .encode(
            color=alt.Color(
                "value:Q",
                title="weight",
                scale=alt.Scale(scheme=charts.WEIGHT_SCHEME, domain=[0.0, 1.0], type="sqrt"),
                legend=alt.Legend(
                    orient="bottom",
                    direction="horizontal",
                    gradientLength=min(240, cell * n_cols),
                    values=[0.0, 0.05, 0.2, 0.5, 1.0],
                ),
            )
        )
    )
    empty = base.transform_filter("datum.empty").mark_rect(color=charts.MASKED_COLOR)
    subtitle = ["each row sums to 1"]
    if empty_rows.any():
        subtitle = ["each row sums to 1; grey rows: empty window, no weights at all"]
    if n_rows < queries.size:
        subtitle.append(f"{n_rows} of {queries.size} queries shown, evenly spaced, to keep it fast")
    return alt.layer(cells, empty, data=frame).properties(
        title=alt.TitleParams(title, subtitle=subtitle),
        width=alt.Step(cell),
        height=alt.Step(cell_height),
    )


def query_weights_chart(
    x_train: ArrayLike,
    weights: ArrayLike,
    query_x: float,
    *,
    x_domain: tuple[float, float] | None = None,
    width: int = WIDE,
    height: int = 170,
) -> alt.LayerChart:
    """One query's weights as bars standing on the training inputs, with the query marked.

    Args:
        x_train: ``(S,)`` training inputs.
        weights: ``(S,)`` that query's weights (sum 1, or all 0 for an empty window).
        query_x: where the query is.
    """
    keys, row = _vector("x_train", x_train), _vector("weights", weights)
    if keys.shape != row.shape:
        raise ValueError(f"x_train has {keys.size} points but weights has {row.size}")
    # No bar stands out when every weight is 0 (an empty window).
    strongest = int(np.argmax(row)) if row.size and row.max() > 0 else -1
    frame = pd.DataFrame(
        {
            "x": keys,
            "weight": row,
            "text": [format(value, ".3f") for value in row],
            "bar_color": np.where(np.arange(row.size) == strongest, charts.ACCENT, DATA_COLOR),
        }
    )
    domain = list(x_domain) if x_domain else [float(keys.min()), float(keys.max())]
    x = alt.X("x:Q", title="training input xᵢ (key)", scale=alt.Scale(domain=domain))
    base = alt.Chart().encode(
        x=x,
        tooltip=[
            alt.Tooltip("x:Q", format=".3f", title="key xᵢ"),
            alt.Tooltip("text:N", title="weight"),
        ],
    )
    y_scale = alt.Scale(domainMin=0) if row.max(initial=0) > 0 else alt.Scale(domain=[0, 1])
    bars = base.mark_rule(strokeWidth=3).encode(
        y=alt.Y("weight:Q", title="weight αᵢ", scale=y_scale),
        y2=alt.Y2Datum(0),
        color=alt.Color("bar_color:N", scale=None),
    )
    tops = base.mark_circle(size=22).encode(
        y=alt.Y("weight:Q"), color=alt.Color("bar_color:N", scale=None)
    )
    query = (
        _annotation()
        .mark_rule(strokeDash=[4, 3], color=CURRENT_COLOR, strokeWidth=1.5)
        .encode(x=alt.XDatum(float(query_x)))
    )
    return alt.layer(bars, tops, query, data=frame).properties(
        title=f"Weights of the query x = {query_x:.2f} (they sum to {row.sum():.3f})",
        width=width,
        height=height,
    )


def weighted_targets_chart(
    x_train: ArrayLike,
    y_train: ArrayLike,
    weights: ArrayLike,
    query_x: float,
    estimate: float,
    *,
    x_domain: tuple[float, float] | None = None,
    width: int = WIDE,
    height: int = 230,
) -> alt.LayerChart:
    """The values ``y_i`` drawn bigger and darker the more weight they get, and their average.

    A horizontal rule and a big point mark the estimate ``sum_i alpha_i y_i``
    at the query (left out when it is ``NaN``).
    """
    keys, values, row = (
        _vector("x_train", x_train),
        _vector("y_train", y_train),
        _vector("weights", weights),
    )
    if not keys.shape == values.shape == row.shape:
        raise ValueError("x_train, y_train and weights must have the same length")
    peak = float(row.max()) if row.size and row.max() > 0 else 1.0
    frame = pd.DataFrame(
        {
            "x": keys,
            "y": values,
            "weight": row,
            "text": [format(value, ".3f") for value in row],
            "share": row / peak,  # 1 for the strongest key
        }
    )
    domain = list(x_domain) if x_domain else [float(keys.min()), float(keys.max())]
    x = alt.X("x:Q", title="x", scale=alt.Scale(domain=domain))
    points = (
        alt.Chart()
        .mark_circle(color=DATA_COLOR)
        .encode(
            x=x,
            y=alt.Y("y:Q", title="y (values)"),
            size=alt.Size("share:Q", scale=alt.Scale(domain=[0, 1], range=[12, 420]), legend=None),
            opacity=alt.Opacity(
                "share:Q", scale=alt.Scale(domain=[0, 1], range=[0.15, 1.0]), legend=None
            ),
            tooltip=[
                alt.Tooltip("x:Q", format=".3f", title="key xᵢ"),
                alt.Tooltip("y:Q", format=".3f", title="value yᵢ"),
                alt.Tooltip("text:N", title="weight αᵢ"),
            ],
        )
    )
    layers: list[alt.Chart] = [points]
    if math.isfinite(estimate):
        label = f"estimate Σ αᵢ yᵢ = {estimate:.3f}"
        layers.append(
            _annotation()
            .mark_rule(color=charts.ACCENT, strokeDash=[4, 3])
            .encode(y=alt.YDatum(float(estimate)))
        )
        layers.append(
            _annotation()
            .mark_point(shape="diamond", size=220, filled=True, color=charts.ACCENT)
            .encode(
                x=alt.XDatum(float(query_x)),
                y=alt.YDatum(float(estimate)),
                tooltip=alt.TooltipValue(label),
            )
        )
        title = alt.TitleParams(
            "Values yᵢ, sized by their weight, and their weighted average",
            subtitle=f"the diamond: Σ αᵢ yᵢ = {estimate:.3f} at x = {query_x:.2f}",
        )
    else:
        title = alt.TitleParams(
            "Values yᵢ, sized by their weight",
            subtitle=f"no key in the window of x = {query_x:.2f}: no weighted average",
        )
    return alt.layer(*layers, data=frame).properties(
        title=title,
        width=width,
        height=height,
    )


def error_chart(
    curves: ErrorCurves,
    bandwidth: float,
    *,
    noise_variance: float | None = None,
    width: int = WIDE,
    height: int = 300,
) -> alt.LayerChart:
    """Training, leave-one-out and test error against the bandwidth (log axis).

    The current bandwidth is a vertical rule; the leave-one-out optimum a
    labelled point; ``noise_variance`` (if given) a dashed floor that no
    estimator beats on average on noisy test targets.
    """
    kinds = {"train": curves.train, "loo": curves.loo}
    if curves.test is not None:
        kinds["test"] = curves.test
    frames = []
    for kind, values in kinds.items():
        defined = ~np.isnan(values)
        frames.append(
            pd.DataFrame(
                {
                    "bandwidth": curves.bandwidths,
                    "error": values,
                    "kind": ERROR_LABELS[kind],
                    "segment": _segments(defined),
                }
            ).loc[defined]
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["h_text"] = [format_bandwidth(value) for value in frame["bandwidth"]]
    domain = [ERROR_LABELS[kind] for kind in kinds]
    colors = [{"train": TRAIN_COLOR, "loo": LOO_COLOR, "test": TEST_COLOR}[kind] for kind in kinds]
    x = alt.X(
        "bandwidth:Q",
        title="bandwidth h (log scale)",
        scale=alt.Scale(
            type="log", domain=[float(curves.bandwidths.min()), float(curves.bandwidths.max())]
        ),
    )
    lines = (
        alt.Chart()
        .mark_line(strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("error:Q", title="mean squared error", scale=alt.Scale(zero=True)),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(domain=domain, range=colors),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            detail=alt.Detail("segment:N"),
            tooltip=[
                alt.Tooltip("kind:N", title="curve"),
                alt.Tooltip("h_text:N", title="h"),
                alt.Tooltip("error:Q", format=".4f", title="error"),
            ],
        )
    )
    current = (
        _annotation()
        .mark_rule(color=CURRENT_COLOR, strokeWidth=2)
        .encode(
            x=alt.XDatum(float(bandwidth)),
            tooltip=alt.TooltipValue(f"your h = {format_bandwidth(bandwidth)}"),
        )
    )
    layers: list[alt.Chart] = [lines, current]
    if noise_variance is not None and noise_variance > 0:
        layers.append(
            _annotation()
            .mark_rule(strokeDash=[5, 4], color=TRUTH_COLOR)
            .encode(
                y=alt.YDatum(float(noise_variance)), tooltip=alt.TooltipValue("noise variance σ²")
            )
        )
        layers.append(
            _annotation()
            .mark_text(align="right", dy=-7, color=TRUTH_COLOR, fontSize=11)
            .encode(
                x=alt.XDatum(float(curves.bandwidths.max())),
                y=alt.YDatum(float(noise_variance)),
                text=alt.TextDatum(f"noise floor σ² = {noise_variance:.3g}"),
            )
        )
    best = curves.best_index
    subtitle = f"black rule: your h = {format_bandwidth(bandwidth)}"
    if best is not None:
        h_best, error_best = float(curves.bandwidths[best]), float(curves.loo[best])
        subtitle += f"; diamond: the leave-one-out optimum, h = {format_bandwidth(h_best)}"
        layers.append(
            _annotation()
            .mark_point(size=140, filled=True, color=LOO_COLOR, shape="diamond", opacity=1)
            .encode(
                x=alt.XDatum(h_best),
                y=alt.YDatum(error_best),
                tooltip=alt.TooltipValue(
                    f"leave-one-out optimum h = {format_bandwidth(h_best)}, error {error_best:.3f}"
                ),
            )
        )
    return alt.layer(*layers, data=frame).properties(
        title=alt.TitleParams("Error against bandwidth", subtitle=subtitle),
        width=width,
        height=height,
    )


def learning_curves_chart(
    curves: dict[Objective, LearningCurve],
    *,
    closed_form_best: float | None = None,
    width: int = 300,
    height: int = 220,
) -> alt.HConcatChart:
    """Two panels over the training steps: the losses, and the bandwidth (log axis).

    Left: each run's own objective (solid) and, for the plain run, the
    leave-one-out loss at its bandwidth (dashed): one falls while the other
    rises. Right: the bandwidth of each run, with the closed-form
    leave-one-out optimum as a dashed rule.
    """
    if not curves:
        raise ValueError("no learning curves to draw")
    frames = []
    for objective, curve in curves.items():
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r}")
        steps = np.arange(curve.bandwidths.size)
        label = OBJECTIVE_LABELS[objective]
        frames.append(
            pd.DataFrame(
                {
                    "step": steps,
                    "run": f"trained on the {label}",
                    "series": f"{label} (what it minimises)",
                    "loss": curve.losses,
                    "bandwidth": curve.bandwidths,
                }
            )
        )
        if objective == "train":
            frames.append(
                pd.DataFrame(
                    {
                        "step": steps,
                        "run": f"trained on the {label}",
                        "series": "its leave-one-out loss (what it costs)",
                        "loss": curve.loo_losses,
                        "bandwidth": np.nan,
                    }
                )
            )
    frame = pd.concat(frames, ignore_index=True)
    series = list(dict.fromkeys(frame["series"]))
    palette = {
        f"{OBJECTIVE_LABELS['train']} (what it minimises)": TRAIN_COLOR,
        "its leave-one-out loss (what it costs)": TRAIN_COLOR,
        f"{OBJECTIVE_LABELS['loo']} (what it minimises)": LOO_COLOR,
    }
    runs = list(dict.fromkeys(frame["run"]))
    run_palette = {
        f"trained on the {OBJECTIVE_LABELS[o]}": c
        for o, c in (("train", TRAIN_COLOR), ("loo", LOO_COLOR))
    }
    x = alt.X("step:Q", title="gradient step")
    legend = alt.Legend(
        orient="bottom", title=None, columns=1, labelLimit=300, symbolStrokeWidth=2.5
    )
    losses = (
        alt.Chart()
        .mark_line(strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("loss:Q", title="mean squared error", scale=alt.Scale(zero=True)),
            color=alt.Color(
                "series:N",
                scale=alt.Scale(domain=series, range=[palette[name] for name in series]),
                legend=legend,
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(
                    domain=series,
                    range=[[5, 4] if "costs" in name else [1, 0] for name in series],
                ),
                legend=legend,  # the same legend as the colour, so the two merge
            ),
            detail=alt.Detail("series:N"),
            tooltip=[
                alt.Tooltip("series:N", title="curve"),
                alt.Tooltip("step:Q"),
                alt.Tooltip("loss:Q", format=".4f"),
            ],
        )
        .properties(title="Losses while learning", width=width, height=height)
    )
    bandwidth_lines = (
        alt.Chart()
        .transform_filter("isValid(datum.bandwidth)")
        .mark_line(strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("bandwidth:Q", title="bandwidth h (log scale)", scale=alt.Scale(type="log")),
            color=alt.Color(
                "run:N",
                scale=alt.Scale(domain=runs, range=[run_palette[name] for name in runs]),
                legend=alt.Legend(orient="bottom", title=None, columns=1, labelLimit=300),
            ),
            tooltip=[
                alt.Tooltip("run:N"),
                alt.Tooltip("step:Q"),
                alt.Tooltip("bandwidth:Q", format=".4f", title="h"),
            ],
        )
    )
    right_layers: list[alt.Chart] = [bandwidth_lines]
    if closed_form_best is not None:
        label = f"closed-form optimum {format_bandwidth(closed_form_best)}"
        rule = _annotation().encode(y=alt.YDatum(float(closed_form_best)))
        right_layers.append(rule.mark_rule(strokeDash=[5, 4], color=TRUTH_COLOR))
        right_layers.append(
            rule.mark_text(align="right", dy=11, color=TRUTH_COLOR, fontSize=11).encode(
                x=alt.XDatum(float(frame["step"].max())), text=alt.TextDatum(label)
            )
        )
    bandwidths = alt.layer(*right_layers).properties(
        title="Bandwidth while learning", width=width, height=height
    )
    return (
        alt.hconcat(losses, bandwidths, data=frame)
        .resolve_scale(color="independent", strokeDash="independent")
        .properties(spacing=40)
    )
