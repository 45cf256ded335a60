"""Charts of the "why scale by sqrt(d)" demo: pure functions returning plain Vega-Lite dicts.

One colour, one meaning on the page: unscaled is always the accent orange and
scaled the primary blue (the colours of :mod:`lab.charts`). The matrices are
drawn with schemes that use neither: the attention weights in purples (0 white,
1 dark) and the signed Jacobian in pink (negative) to green (positive).
Sweeps over ``d`` put ``d`` on a base-2 log axis with a tick per power of two,
and take the ``d`` on screen as an argument to mark it with a dotted rule.

Shapes:
    N   samples in a histogram
    D   dimensions in a sweep
    L   queries, S keys
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lab import charts
from lab.charts import ACCENT, FAINT, PRIMARY, Spec
from lab.checks import FloatArray, as_real
from lab.scaling.compute import (
    D_VALUES,
    HISTOGRAM_HALF_WIDTH,
    JACOBIAN_FLOOR,
    Mode,
    density_histogram,
    format_small,
    jacobian_norm,
    normal_density,
    score_variance,
    softmax_jacobian,
    uniform_entropy,
    uniform_jacobian_norm,
)

# A sweep table: a DataFrame, or its columns as arrays (lab.scaling.sweep_columns), which a
# page should prefer for a cached chart: hashing a dict of arrays costs far less.
Columns = pd.DataFrame | Mapping[str, np.ndarray]
MODE_COLORS = {Mode.UNSCALED: ACCENT, Mode.SCALED: PRIMARY}
# The same hues, paler: the bars of a query that are not its largest weight.
MODE_TINTS = {Mode.UNSCALED: "#f5b492", Mode.SCALED: "#a1bdde"}
MODE_TITLES = {Mode.UNSCALED: "unscaled  q·k", Mode.SCALED: "scaled  q·k / √d"}
WEIGHT_SCHEME = "purples"  # sequential, neither orange nor blue
JACOBIAN_SCHEME = "pinkyellowgreen"  # diverging, neither orange nor blue
REFERENCE_COLOR = "#6b6b6b"  # theory and reference lines (darker than FAINT, for their labels)
SWEEP_WIDTH = 330  # pixels; two sweep charts sit side by side
SWEEP_HEIGHT = 300
MATRIX_WIDTH = 280  # pixels of cells for one of two matrices side by side


# ----------------------------------------------------------------------------- helpers


def _check_modes(modes: Sequence[Mode | str]) -> list[Mode]:
    """The modes asked for, in the page's order (unscaled first); strings are accepted."""
    try:
        asked = {Mode(mode) for mode in modes}
    except ValueError:
        asked = set()
    if not asked:
        values = [mode.value for mode in Mode]
        raise ValueError(f"modes must be a non-empty subset of {values}, got {list(modes)}")
    return [mode for mode in Mode if mode in asked]


def _check_columns(table: Columns, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in table]
    if missing:
        raise ValueError(f"the table has no column {missing}; it has {list(table)}")


def _rows_of(table: Columns, modes: list[Mode], columns: Sequence[str]) -> dict[str, Any]:
    """The ``columns`` of the rows of ``modes``, as numpy arrays (no pandas filtering per call)."""
    keep = np.isin(np.asarray(table["mode"]).astype(str), [mode.value for mode in modes])
    return {column: np.asarray(table[column])[keep] for column in columns}


def mode_color(modes: Sequence[Mode | str]) -> dict[str, Any]:
    """The colour channel shared by every sweep: one fixed colour per mode, legend on top."""
    chosen = _check_modes(modes)
    labels = " : ".join(f"datum.value == '{mode.value}' ? '{MODE_TITLES[mode]}'" for mode in chosen)
    return {
        "field": "mode",
        "type": "nominal",
        "title": None,
        "scale": {
            "domain": [mode.value for mode in chosen],
            "range": [MODE_COLORS[mode] for mode in chosen],
        },
        "legend": {
            "orient": "top",
            "labelExpr": f"{labels} : datum.value",
            "symbolOpacity": 1,
            "symbolType": "circle",
        },
    }


def decade_ticks(values: Sequence[float] | np.ndarray, max_ticks: int = 9) -> list[float]:
    """Powers of ten spanning the positive ``values``, every decade or every few.

    Used as the tick values of a log axis, so it shows ``1e-6``, ``1e-4``, ...
    rather than a gridline per minor step. The step between ticks divides the
    span when it can, so both the top and the bottom decade get a tick.
    """
    array = np.asarray(values, dtype=float)
    positive = array[np.isfinite(array) & (array > 0)]
    if positive.size == 0:
        return [1.0]
    low = int(np.floor(np.log10(positive.min())))
    high = int(np.ceil(np.log10(positive.max())))
    span = high - low
    fewest = max(1, int(np.ceil((span + 1) / max_ticks)))
    # Prefer a step that lands on both ends, if one is at most twice the smallest step.
    step = next((s for s in range(fewest, 2 * fewest + 1) if span % s == 0), fewest)
    # From the top decade down, until a power of ten at or below the smallest value.
    return [10.0**power for power in range(high, low - step, -step)][::-1]


def d_axis(title: str = "dimension d  (log scale)") -> dict[str, Any]:
    """``d`` on a base-2 log axis with a labelled tick at every power of two."""
    return {
        "field": "d",
        "type": "quantitative",
        "title": title,
        "scale": {"type": "log", "base": 2, "domain": [D_VALUES[0], D_VALUES[-1]], "nice": False},
        "axis": {"values": list(D_VALUES), "format": "d", "grid": False, "labelFlush": True},
    }


def _d_marker(d: int | None) -> tuple[dict[str, list], list[Spec]]:
    """The dataset and layer of a dotted vertical rule at the ``d`` on screen (none for ``None``)."""
    if d is None:
        return {}, []
    layer = {
        "data": {"name": "marker"},
        "mark": {"type": "rule", "color": FAINT, "strokeDash": [2, 2], "aria": False},
        "encoding": {"x": {"field": "d", "type": "quantitative"}},
    }
    return {"marker": [{"d": int(d)}]}, [layer]


def jacobian_limits() -> tuple[float, float]:
    """Every entry of a softmax Jacobian lies in ``[-1/4, 1/4]``: ``w(1 - w) <= 1/4``."""
    return (-0.25, 0.25)


def _with_scheme(spec: Spec, scheme: str) -> Spec:
    """A :func:`lab.charts.heatmap` spec with its cells drawn in another colour scheme."""
    spec["layer"][0]["encoding"]["color"]["scale"]["scheme"] = scheme
    return spec


# ----------------------------------------------------------------------------- histograms


def score_histogram(
    samples: FloatArray,
    *,
    d: int,
    variance: float,
    mode: Mode | str,
    domain: tuple[float, float],
    bins: int = 40,
    curve_points: int = 161,
    width: int = 330,
    height: int = 240,
) -> Spec:
    """A density histogram of ``N`` scores under the normal curve the theory gives them.

    The curve is ``N(0, d sigma^4)`` unscaled and ``N(0, sigma^4)`` scaled. The
    bins cover ``±4.5`` theoretical standard deviations (or the part of it
    inside ``domain``), so a narrow distribution keeps its resolution when the
    x axis is shared with a wide one.

    Args:
        samples: ``(N,)`` scores, already divided by ``sqrt(d)`` if ``mode`` is scaled.
        d: the query/key size they came from.
        variance: ``sigma^2`` of the entries of q and k.
        mode: which scores these are; sets the colour and the titles.
        domain: the x axis range, e.g. the same for the unscaled and scaled charts.
    """
    (mode,) = _check_modes([mode])
    theory = score_variance(d, variance, scaled=mode.scaled)
    low, high = (float(edge) for edge in domain)
    spread = HISTOGRAM_HALF_WIDTH * float(np.sqrt(theory))
    bin_range = (max(low, -spread), min(high, spread))
    if bin_range[0] >= bin_range[1]:
        bin_range = (low, high)
    bars = density_histogram(samples, bin_range, bins)
    curve_x = np.linspace(low, high, curve_points)
    x_scale = {"domain": [low, high], "nice": False}
    x_title = "q·k / √d" if mode.scaled else "q·k"
    theory_text = f"N(0, {'σ⁴' if mode.scaled else 'd·σ⁴'} = {theory:g})"
    title = f"{MODE_TITLES[mode]}   vs   {theory_text}"
    return charts.top_level(
        {
            "datasets": {
                "bins": charts.table(
                    start=bars["start"].to_numpy(),
                    end=bars["end"].to_numpy(),
                    count=bars["count"].to_numpy(),
                    density=bars["density"].to_numpy(),
                    range=[
                        f"{start:.3g} to {end:.3g}"
                        for start, end in zip(bars["start"], bars["end"], strict=True)
                    ],
                ),
                "curve": charts.table(x=curve_x, density=normal_density(curve_x, theory)),
            },
            "width": width,
            "height": height,
            "layer": [
                {
                    "data": {"name": "bins"},
                    "mark": {"type": "rect", "color": MODE_COLORS[mode], "opacity": 0.75},
                    "encoding": {
                        "x": {
                            "field": "start",
                            "type": "quantitative",
                            "title": x_title,
                            "scale": x_scale,
                        },
                        "x2": {"field": "end"},
                        "y": {"field": "density", "type": "quantitative", "title": "density"},
                        "y2": {"datum": 0},
                        "tooltip": [
                            {"field": "range", "type": "nominal", "title": "scores from"},
                            {"field": "count", "type": "quantitative", "title": "pairs"},
                            {
                                "field": "density",
                                "type": "quantitative",
                                "title": "density",
                                "format": ".4f",
                            },
                        ],
                    },
                },
                {
                    "data": {"name": "curve"},
                    "mark": {
                        "type": "line",
                        "color": REFERENCE_COLOR,
                        "strokeWidth": 2,
                        "strokeDash": [5, 3],
                        "aria": False,
                    },
                    "encoding": {
                        "x": {"field": "x", "type": "quantitative", "scale": x_scale},
                        "y": {"field": "density", "type": "quantitative"},
                    },
                },
            ],
        },
        title=title,
        description=f"Histogram of {len(np.ravel(samples))} {mode.value} scores at d = {d} "
        f"(σ² = {variance:g}), drawn as a density under the dashed normal curve {theory_text}.",
    )


# ----------------------------------------------------------------------------- sweeps over d


def variance_chart(
    table: Columns,
    *,
    modes: Sequence[Mode | str] = tuple(Mode),
    d: int | None = None,
    width: int = 350,
    height: int = 300,
) -> Spec:
    """Empirical against theoretical variance of the scores against ``d`` (log-log).

    Args:
        table: :func:`lab.scaling.variance_table`: ``d``, ``mode``, ``empirical``,
            ``theory``, ``standard_error``, ``low``, ``high``.
        modes: which modes to draw.
        d: the dimension on screen, marked by a dotted rule (``None``: no marker).
    """
    chosen = _check_modes(modes)
    names = ["d", "mode", "empirical", "theory", "standard_error", "low", "high"]
    _check_columns(table, names)
    frame = _rows_of(table, chosen, names)
    unscaled = frame["mode"] == Mode.UNSCALED.value
    rows = charts.table(**frame, line=np.where(unscaled, "theory: d·σ⁴", "theory: σ⁴"))
    ticks = decade_ticks(np.concatenate([frame["theory"], frame["low"], frame["high"]]))
    x = d_axis()
    color = mode_color(chosen)
    marker_data, marker = _d_marker(d)
    layers = [
        {
            "mark": {
                "type": "line",
                "strokeDash": [6, 4],
                "strokeWidth": 1.5,
                "opacity": 0.8,
                "aria": False,
            },
            "encoding": {
                "x": x,
                "y": {
                    "field": "theory",
                    "type": "quantitative",
                    "scale": {"type": "log"},
                    "title": "variance of the scores  (log scale)",
                    "axis": {"values": ticks, "format": "~g"},
                },
                "color": color,
                "detail": {"field": "line", "type": "nominal"},
            },
        },
        {
            "mark": {"type": "rule", "strokeWidth": 2, "aria": False},
            "encoding": {
                "x": x,
                "y": {"field": "low", "type": "quantitative"},
                "y2": {"field": "high"},
                "color": color,
            },
        },
        {
            "mark": {"type": "point", "filled": True, "size": 55, "opacity": 1},
            "encoding": {
                "x": x,
                "y": {"field": "empirical", "type": "quantitative"},
                "color": color,
                "tooltip": [
                    {"field": "d", "type": "quantitative", "title": "d"},
                    {"field": "mode", "type": "nominal"},
                    {
                        "field": "empirical",
                        "type": "quantitative",
                        "format": ".4g",
                        "title": "sample variance",
                    },
                    {"field": "theory", "type": "quantitative", "format": ".4g"},
                    {
                        "field": "standard_error",
                        "type": "quantitative",
                        "format": ".2g",
                        "title": "± 1 standard error",
                    },
                ],
            },
        },
        {
            "transform": [{"filter": f"datum.d == {D_VALUES[-1]}"}],
            "mark": {
                "type": "text",
                "align": "right",
                "dx": -6,
                "dy": -9,
                "fontSize": 11,
                "aria": False,
            },
            "encoding": {
                "x": x,
                "y": {"field": "theory", "type": "quantitative"},
                "text": {"field": "line", "type": "nominal"},
                "color": color,
            },
        },
        *marker,
    ]
    return charts.top_level(
        {
            "datasets": {"variances": rows, **marker_data},
            "data": {"name": "variances"},
            "width": width,
            "height": height,
            "layer": layers,
        },
        title="",
        description="Sample variance of the scores against d on log-log axes, "
        + " and ".join(mode.value for mode in chosen)
        + ", with ± 2 standard error bars and the theory lines d·σ⁴ (unscaled) and σ⁴ (scaled).",
    )


def dimension_sweep_chart(
    table: Columns,
    column: str,
    *,
    title: str,
    y_title: str,
    references: Sequence[tuple[str, float]] = (),
    modes: Sequence[Mode | str] = tuple(Mode),
    d: int | None = None,
    band: tuple[str, str] | None = None,
    log_y: bool = False,
    y_domain: tuple[float, float] | None = None,
    floor: float | None = None,
    value_format: str = ".3f",
    width: int = SWEEP_WIDTH,
    height: int = SWEEP_HEIGHT,
) -> Spec:
    """One statistic against ``d``, one coloured line per mode, with reference lines.

    Args:
        table: one row per ``(d, mode)``, e.g. :func:`lab.scaling.sharpness_table`.
        column: the statistic to draw on y.
        title: chart title.
        y_title: y axis title.
        references: ``(label, value)`` horizontal dashed lines, e.g.
            ``("uniform: log S", 2.77)``.
        modes: which modes to draw.
        d: the dimension on screen, marked by a dotted rule (``None``: no marker).
        band: two columns drawn as a shaded band around the line (e.g. the
            10th and 90th percentiles).
        log_y: log scale on y (for quantities that fall by orders of magnitude).
        y_domain: fixed y range, e.g. ``(0, 1)`` for weights.
        floor: values below it are drawn at it (a log axis cannot show 0);
            tooltips keep the exact value.
        value_format: d3 format of the value in tooltips.
    """
    needed = ["d", "mode", column, *(band or ())]
    _check_columns(table, needed)
    chosen = _check_modes(modes)
    frame = _rows_of(table, chosen, needed)
    # Columns named "value", "low", "high" whatever the statistic, plus "*_drawn" copies
    # clipped at the floor (a log axis cannot draw 0; the tooltip keeps the exact value).
    columns: dict[str, Any] = {"d": frame["d"], "mode": frame["mode"]}
    for name, source in zip(("value", "low", "high"), (column, *(band or ())), strict=False):
        values = frame[source].astype(float)
        columns[name] = values
        columns[f"{name}_drawn"] = values if floor is None else np.maximum(values, floor)
    reference_values = [value if floor is None else max(value, floor) for _, value in references]
    # A fixed domain is kept as given (no "nice" rounding past it).
    scale: dict[str, Any] = {"type": "log" if log_y else "linear", "nice": not (log_y or y_domain)}
    axis: dict[str, Any] = {}
    if log_y:
        drawn = [values for name, values in columns.items() if name.endswith("_drawn")]
        ticks = decade_ticks(np.concatenate([*drawn, reference_values]))
        axis = {"values": ticks, "format": ".0e"}
        # Whole decades at both ends, so no line runs along the top or bottom edge.
        y_domain = y_domain or (ticks[0], ticks[-1])
    if y_domain:
        scale["domain"] = [float(y_domain[0]), float(y_domain[1])]
    tooltip = [
        {"field": "d", "type": "quantitative", "title": "d"},
        {"field": "mode", "type": "nominal"},
        {"field": "value", "type": "quantitative", "title": y_title, "format": value_format},
    ]
    if band:
        tooltip += [
            {"field": "low", "type": "quantitative", "title": "10th percentile"},
            {"field": "high", "type": "quantitative", "title": "90th percentile"},
        ]
        for item in tooltip[-2:]:
            item["format"] = value_format
    x = d_axis()
    color = mode_color(chosen)
    y = {"title": y_title, "scale": scale, "axis": axis}
    layers: list[Spec] = []
    if band:
        layers.append(
            {
                "mark": {"type": "area", "opacity": 0.15, "aria": False},
                "encoding": {
                    "x": x,
                    "y": {"field": "low_drawn", "type": "quantitative", **y},
                    "y2": {"field": "high_drawn"},
                    "color": color,
                },
            }
        )
    layers.append(
        {
            "mark": {"type": "line", "strokeWidth": 2.5, "point": {"filled": True, "size": 45}},
            "encoding": {
                "x": x,
                "y": {"field": "value_drawn", "type": "quantitative", **y},
                "color": color,
                "tooltip": tooltip,
            },
        }
    )
    datasets: dict[str, list] = {"sweep": charts.table(**columns)}
    if references:
        datasets["references"] = charts.table(
            label=[label for label, _ in references], value=reference_values
        )
        rule_y = {"field": "value", "type": "quantitative", "scale": scale}
        layers += [
            {
                "data": {"name": "references"},
                "mark": {
                    "type": "rule",
                    "color": REFERENCE_COLOR,
                    "strokeDash": [5, 4],
                    "strokeWidth": 1.5,
                    "aria": False,
                },
                "encoding": {"y": rule_y},
            },
            {
                "data": {"name": "references"},
                "mark": {
                    "type": "text",
                    "align": "left",
                    "baseline": "bottom",
                    "dx": 4,
                    "dy": -3,
                    "fontSize": 11,
                    "color": REFERENCE_COLOR,
                    "aria": False,
                },
                "encoding": {
                    "x": {"datum": D_VALUES[0], "type": "quantitative"},
                    "y": rule_y,
                    "text": {"field": "label", "type": "nominal"},
                },
            },
        ]
    marker_data, marker = _d_marker(d)
    datasets.update(marker_data)
    drawn_modes = " and ".join(mode.value for mode in chosen)
    return charts.top_level(
        {
            "datasets": datasets,
            "data": {"name": "sweep"},
            "width": width,
            "height": height,
            "layer": [*layers, *marker],
        },
        title=title,
        description=f"{title}: {y_title} against d from {D_VALUES[0]} to {D_VALUES[-1]} "
        f"(log scale), one line per mode ({drawn_modes})"
        + (", with a band from the 10th to the 90th percentile" if band else "")
        + (
            ", and reference lines: " + "; ".join(label for label, _ in references)
            if references
            else ""
        )
        + ".",
    )


# The page's three sweeps of the sharpness table. ``options`` go to dimension_sweep_chart:
# ``modes`` and ``d`` (the marker) always, ``height`` where the page wants it smaller.


def entropy_chart(table: Columns, n_keys: int, **options: Any) -> Spec:
    """Mean entropy of the weights against ``d``, from 0 (one-hot) to ``log S`` (uniform)."""
    uniform = uniform_entropy(n_keys)
    return dimension_sweep_chart(
        table,
        "mean_entropy",
        title="Mean entropy of the weights",
        y_title="entropy (nats)",
        references=[(f"uniform: log S = {uniform:.2f}", uniform)],
        y_domain=(0.0, uniform * 1.08),
        **options,
    )


def max_weight_chart(table: Columns, n_keys: int, **options: Any) -> Spec:
    """Mean largest weight against ``d``, from ``1/S`` (uniform) to 1 (one-hot)."""
    return dimension_sweep_chart(
        table,
        "mean_max_weight",
        title="Mean largest weight of a query",
        y_title="largest weight",
        references=[("one-hot: 1", 1.0), (f"uniform: 1/S = {1 / n_keys:.3f}", 1 / n_keys)],
        y_domain=(0.0, 1.05),
        **options,
    )


def jacobian_sweep_chart(table: Columns, n_keys: int, **options: Any) -> Spec:
    """Median Frobenius norm of the softmax Jacobian against ``d`` (log y), 10-90 % band."""
    uniform = uniform_jacobian_norm(n_keys)
    return dimension_sweep_chart(
        table,
        "jacobian_median",
        title="Frobenius norm of the softmax Jacobian, median query",
        y_title="‖J‖ Frobenius  (log scale)",
        references=[(f"uniform: √(S−1)/S = {uniform:.3f}", uniform)],
        band=("jacobian_q10", "jacobian_q90"),
        log_y=True,
        floor=JACOBIAN_FLOOR,
        value_format=".2e",
        **{"width": 350, "height": 340, **options},
    )


# ----------------------------------------------------------------------------- one query, one matrix


def _key_labels(size: int) -> list[str]:
    return [f"k{index}" for index in range(size)]


def weights_bars(weights: FloatArray, mode: Mode | str, query: int) -> Spec:
    """One query's weights as bars in its mode's colour: its largest weight full, the rest pale.

    Args:
        weights: ``(S,)``, the row of the attention matrix of query ``query``.
        mode: sets the colour (orange unscaled, blue scaled) and the title.
        query: the row's index, for the title.
    """
    (mode,) = _check_modes([mode])
    row = as_real("weights", weights, ndim=1, finite=True, dtype=np.float64)
    size = row.shape[0]
    spec = charts.bar_chart(
        row,
        _key_labels(size),
        title=f"{MODE_TITLES[mode]}: weights of q{query}",
        domain=(0.0, 1.0),
    )
    strongest = int(np.argmax(row))
    for position, bar in enumerate(spec["datasets"]["bars"]):
        bar["bar_color"] = MODE_COLORS[mode] if position == strongest else MODE_TINTS[mode]
    spec["height"] = {"step": max(13, min(20, 320 // size))}  # about 330 px tall at most
    spec["description"] += f" The largest, key k{strongest}, is drawn in full colour."
    return spec


def jacobian_heatmap(
    weights: FloatArray, mode: Mode | str, query: int, *, legend: bool = True
) -> Spec:
    """The softmax Jacobian ``J[i, j] = dw_i / dz_j`` of one query's weights, on ``±1/4``.

    The title gives its Frobenius norm. Rows are the weights ``w_i``, columns
    the logits ``z_j`` (scores after scaling and temperature).
    """
    (mode,) = _check_modes([mode])
    row = as_real("weights", weights, ndim=1, finite=True, dtype=np.float64)
    labels = _key_labels(row.shape[0])
    norm = format_small(float(jacobian_norm(row)), equals=True)
    spec = charts.heatmap(
        softmax_jacobian(row),
        labels,
        labels,
        title=f"{MODE_TITLES[mode]}: J of q{query}, Frobenius norm {norm}",
        signed=True,
        row_title="weight wᵢ",
        col_title="logit zⱼ",
        value_title="∂wᵢ/∂zⱼ",
        domain=jacobian_limits(),
        max_width=MATRIX_WIDTH,
        value_format=".2g",
        legend=legend,
    )
    return _with_scheme(spec, JACOBIAN_SCHEME)


def attention_heatmap(
    weights: FloatArray, mode: Mode | str, *, legend: bool = True, max_width: int = MATRIX_WIDTH
) -> Spec:
    """The ``(L, S)`` attention weights of one trial, queries ``q0, ...`` by keys ``k0, ...``."""
    (mode,) = _check_modes([mode])
    matrix = as_real("weights", weights, ndim=2, dtype=np.float64)
    n_queries, n_keys = matrix.shape
    spec = charts.weights_heatmap(
        matrix,
        [f"q{index}" for index in range(n_queries)],
        _key_labels(n_keys),
        title=f"{MODE_TITLES[mode]}   ({n_queries} × {n_keys})",
        max_width=max_width,
        legend=legend,
    )
    return _with_scheme(spec, WEIGHT_SCHEME)
