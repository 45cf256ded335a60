"""Chart builders of the soft-vs-hard page: plain Vega-Lite dicts, pure functions.

Weights, the key and value planes, the loss-against-angle sweep and the
training curves. Every builder returns a spec whose data sits in its
top-level ``datasets`` (records built with :func:`lab.charts.table`); items
are keyed by position and shown through ``labelExpr``, so repeated names stay
apart. Decorative layers (hulls, paths, guides, labels, rules) carry
``"aria": False``; every chart has a ``description``.

One colour, one meaning on the page: blue is soft attention, orange is hard
attention (a pick: argmax, sampled, or REINFORCE), purple is Gumbel-softmax;
dark ink is the data itself (keys, values, the query), grey the guides.

Shapes:
    S   items
    A   angles of a sweep
    M   temperatures of a path
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lab.charts import (
    ACCENT,
    FAINT,
    INK,
    PRIMARY,
    Spec,
    bar_rows,
    check_labels,
    table,
    top_level,
    weights_heatmap,
)
from lab.checks import as_real
from lab.soft_vs_hard.cue_task import (
    Curves,
    Example,
    TrainingMethod,
    color_name,
    example_item_names,
    label_name,
)

GUMBEL_COLOR = "#7b3fb5"  # Gumbel-softmax: purple, between soft (blue) and hard (orange)
BAND_COLOR = "#4a4a4a"  # the translucent band where sample frequencies are expected
NOW_PARAM = "theta_now"  # the sweep chart's current query angle, a Vega-Lite parameter
METHOD_COLORS = {
    TrainingMethod.SOFT: PRIMARY,
    TrainingMethod.REINFORCE: ACCENT,
    TrainingMethod.GUMBEL_ST: GUMBEL_COLOR,
}
WEIGHT_SCALE = {"domain": [0, 1.12], "clamp": True}  # room right of 1.0 for the labels


class SweepCurve(StrEnum):
    """The curves of the sweep chart; the value is the legend's label."""

    SOFT = "soft"
    HARD = "hard"
    SAMPLED = "sampled hard (average)"

    @property
    def color(self) -> str:
        return PRIMARY if self is SweepCurve.SOFT else ACCENT

    @property
    def dash(self) -> list[int]:
        # The average over samples is still hard attention (orange), dashed.
        return [6, 3] if self is SweepCurve.SAMPLED else [1, 0]


def _vector(name: str, values: ArrayLike, size: int | None = None) -> np.ndarray:
    array = as_real(name, values, ndim=1, finite=True, dtype=np.float64)
    if size is not None and array.shape[0] != size:
        raise ValueError(f"{name} has {array.shape[0]} entries but there are {size} items")
    return array


def _points(name: str, values: ArrayLike) -> np.ndarray:
    array = as_real(name, values, ndim=2, finite=True, dtype=np.float64)
    if array.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {array.shape}")
    return array


def _coordinates(points: np.ndarray) -> list[str]:
    return [f"({x:.2f}, {y:.2f})" for x, y in points]


def weight_bars(
    weights: ArrayLike,
    names: Sequence[str],
    *,
    title: str,
    color: str = PRIMARY,
    reference: ArrayLike | None = None,
    reference_title: str = "softmax",
    band: ArrayLike | None = None,
    highlight: int | None = None,
    width: int = 300,
) -> Spec:
    """Horizontal bars of one weight vector on a 0..1 axis, one bar per item.

    Args:
        weights: ``(S,)``.
        names: ``S`` item names.
        color: bar colour (the method's colour).
        reference: optional ``(S,)`` drawn as black ticks, e.g. the soft
            weights the sample frequencies should approach.
        band: optional ``(S,)`` half-widths drawn as a grey rule around
            ``reference`` (where frequencies are expected to land).
        highlight: an item drawn in the accent colour.
    """
    values = _vector("weights", weights)
    size = values.shape[0]
    labels = [str(name) for name in names]
    if len(labels) != size:
        raise ValueError(f"{len(labels)} names for {size} weights")
    columns: dict[str, Any] = {
        "position": np.arange(size),
        "item": labels,
        "weight": values,
        "text": [f"{value:.3f}" for value in values],
        "bar_color": [ACCENT if index == highlight else color for index in range(size)],
    }
    x_weight = {"field": "weight", "type": "quantitative", "scale": WEIGHT_SCALE}
    layers: list[Spec] = [
        {
            "mark": {"type": "bar", "height": {"band": 0.62}},
            "encoding": {
                "x": {**x_weight, "title": "weight", "axis": {"values": [0, 0.5, 1]}},
                "color": {"field": "bar_color", "type": "nominal", "scale": None},
                "tooltip": [
                    {"field": "item", "type": "nominal", "title": "item"},
                    {"field": "text", "type": "nominal", "title": "weight"},
                ],
            },
        }
    ]
    if band is not None and reference is not None:
        center, half = _vector("reference", reference, size), _vector("band", band, size)
        columns["low"] = np.clip(center - half, 0, 1)
        columns["high"] = np.clip(center + half, 0, 1)
        # Drawn over the bars, translucent, so a bar that falls inside shows it.
        layers.append(
            {
                "mark": {
                    "type": "rule",
                    "color": BAND_COLOR,
                    "strokeWidth": 7,
                    "opacity": 0.3,
                    "aria": False,
                },
                "encoding": {
                    "x": {"field": "low", "type": "quantitative", "scale": WEIGHT_SCALE},
                    "x2": {"field": "high"},
                },
            }
        )
    if reference is not None:
        expected = _vector("reference", reference, size)
        columns["reference"] = expected
        columns["reference_text"] = [f"{value:.3f}" for value in expected]
        layers.append(
            {
                "mark": {"type": "tick", "color": "black", "thickness": 2.5, "size": 20},
                "encoding": {
                    "x": {"field": "reference", "type": "quantitative", "scale": WEIGHT_SCALE},
                    "tooltip": [
                        {"field": "item", "type": "nominal", "title": "item"},
                        {"field": "reference_text", "type": "nominal", "title": reference_title},
                    ],
                },
            }
        )
    layers.append(
        {
            "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 11, "aria": False},
            "encoding": {"x": x_weight, "text": {"field": "text", "type": "nominal"}},
        }
    )
    described = f"{title}: weights of {size} items" + (
        f", with black ticks at the {reference_title} weights" if reference is not None else ""
    )
    return top_level(
        {**bar_rows(table(**columns), labels, None, width=width), "layer": layers},
        title=title,
        description=described + ".",
    )


def frequency_error_chart(
    draw_counts: ArrayLike, errors: ArrayLike, bands: ArrayLike, *, current: int | None = None
) -> Spec:
    """Largest gap between sample frequencies and soft weights, against the number of draws.

    Both axes are logarithmic; the dashed line is the expected size of the gap,
    ``2 max_i sqrt(p_i (1 - p_i) / N)``, a straight line of slope -1/2.

    Args:
        draw_counts: ``(M,)`` numbers of draws ``N``.
        errors: ``(M,)`` ``max_i |f_i - p_i|`` measured.
        bands: ``(M,)`` the expected gap.
        current: the ``N`` the page shows, drawn larger.
    """
    counts = _vector("draw_counts", draw_counts)
    measured = _vector("errors", errors, counts.shape[0])
    expected = _vector("bands", bands, counts.shape[0])
    floor = 1e-4  # a gap of exactly 0 cannot go on a log axis
    both = np.concatenate([measured, expected])
    series = ["measured"] * counts.shape[0] + ["2 standard errors"] * counts.shape[0]
    rows = table(
        draws=np.concatenate([counts, counts]),
        gap=np.maximum(both, floor),
        series=series,
        text=[f"{value:.4f}" for value in both],
        current=np.concatenate([counts == current, np.zeros(counts.shape[0], bool)]),
    )
    for row in rows:
        row["marker_size"] = 160 if row["current"] else 30  # the N on screen, drawn larger
    x = {"field": "draws", "type": "quantitative", "scale": {"type": "log"}}
    y = {"field": "gap", "type": "quantitative", "scale": {"type": "log"}}
    domain = ["measured", "2 standard errors"]
    gap_legend = {"orient": "top-right", "title": None, "fillColor": "white", "padding": 4}
    return top_level(
        {
            "datasets": {"gaps": rows},
            "data": {"name": "gaps"},
            "width": 300,
            "height": 170,
            "layer": [
                {
                    "mark": "line",
                    "encoding": {
                        "x": {**x, "title": "number of draws N"},
                        "y": {**y, "title": "max |frequency − weight|"},
                        "color": {
                            "field": "series",
                            "type": "nominal",
                            "scale": {"domain": domain, "range": [INK, FAINT]},
                            "legend": gap_legend,
                        },
                        # The same legend as the colour, so Vega-Lite merges the two.
                        "strokeDash": {
                            "field": "series",
                            "type": "nominal",
                            "scale": {"domain": domain, "range": [[1, 0], [5, 4]]},
                            "legend": gap_legend,
                        },
                    },
                },
                {
                    "transform": [{"filter": "datum.series == 'measured'"}],
                    "mark": {"type": "point", "filled": True, "color": INK, "opacity": 1},
                    "encoding": {
                        "x": x,
                        "y": y,
                        "size": {"field": "marker_size", "type": "quantitative", "scale": None},
                        "tooltip": [
                            {"field": "draws", "type": "quantitative", "title": "N"},
                            {"field": "series", "type": "nominal", "title": "what"},
                            {"field": "text", "type": "nominal", "title": "gap"},
                        ],
                    },
                },
            ],
        },
        title="Frequencies close in like 1/√N",
        description="Largest gap between sample frequencies and soft weights against the "
        f"number of draws, {counts.shape[0]} draw counts on log-log axes, with the expected "
        "size of two standard errors as a dashed line.",
    )


def _extent(*arrays: np.ndarray, pad: float = 1.2) -> list[float]:
    """A symmetric axis range that holds every point, with a margin."""
    largest = max((float(np.max(np.abs(array))) for array in arrays if array.size), default=1.0)
    reach = max(largest, 0.5) * pad
    return [-reach, reach]


def _plane_axes(domain: list[float], x_title: str, y_title: str) -> tuple[Spec, Spec]:
    x = {"field": "x", "type": "quantitative", "scale": {"domain": domain, "nice": False}}
    y = {"field": "y", "type": "quantitative", "scale": {"domain": domain, "nice": False}}
    return {**x, "title": x_title}, {**y, "title": y_title}


def _plane(rows: list[dict[str, Any]], x: Spec, y: Spec, size: int, layers: list[Spec]) -> Spec:
    """A square plane of points (keys or values): ``layers`` over shared x and y axes."""
    return {
        "datasets": {"plane": rows},
        "data": {"name": "plane"},
        "width": size,
        "height": size,
        "encoding": {"x": x, "y": y},
        "layer": layers,
    }


def key_space_chart(
    keys: ArrayLike, names: Sequence[str], query: ArrayLike, *, winner: int | None = None
) -> Spec:
    """The keys as points and the query as an arrow from the origin, on equal axes.

    A key's score is its dot product with the query, so the key furthest
    along the arrow wins; ``winner`` is drawn in the accent colour.
    """
    points = _points("keys", keys)
    q = _vector("query", query, 2)
    labels = check_labels("names", names, points.shape[0])
    size = points.shape[0]
    every = np.vstack([points, [[0.0, 0.0]], q[None]])
    rows = table(
        x=every[:, 0],
        y=every[:, 1],
        label=[*labels, "", "q"],
        kind=["key"] * size + ["origin", "query"],
        color=[ACCENT if index == winner else INK for index in range(size)] + [INK, INK],
        text=_coordinates(every),
    )
    x, y = _plane_axes(_extent(points, q), "key / query dim 1", "key / query dim 2")
    tooltip = [
        {"field": "label", "type": "nominal", "title": "item"},
        {"field": "text", "type": "nominal", "title": "vector"},
    ]
    literal_color = {"field": "color", "type": "nominal", "scale": None}
    return top_level(
        _plane(
            rows,
            x,
            y,
            300,
            [
                {
                    "transform": [{"filter": "datum.kind != 'key'"}],
                    "mark": {"type": "line", "color": INK, "strokeWidth": 3, "aria": False},
                },
                {
                    "transform": [{"filter": "datum.kind == 'query'"}],
                    "mark": {"type": "point", "shape": "triangle", "filled": True, "size": 160},
                    "encoding": {"color": {"value": INK}, "tooltip": tooltip},
                },
                {
                    "transform": [{"filter": "datum.kind == 'key'"}],
                    "mark": {"type": "circle", "size": 110, "opacity": 1},
                    "encoding": {"color": literal_color, "tooltip": tooltip},
                },
                {
                    "transform": [{"filter": "datum.kind != 'origin'"}],
                    "mark": {
                        "type": "text",
                        "dx": 9,
                        "dy": -9,
                        "align": "left",
                        "fontSize": 13,
                        "fontWeight": "bold",
                        "aria": False,
                    },
                    "encoding": {
                        "text": {"field": "label", "type": "nominal"},
                        "color": literal_color,
                    },
                },
            ],
        ),
        title="Key space: score = q · k / √2",
        description=f"Key space: {size} keys as points and the query as an arrow from the "
        "origin; the key furthest along the arrow has the top score"
        + (f" ({labels[winner]}, orange)." if winner is not None else "."),
    )


def value_space_chart(
    values: ArrayLike,
    names: Sequence[str],
    hull: Sequence[int],
    *,
    soft_output: ArrayLike,
    hard_output: ArrayLike,
    gumbel_output: ArrayLike | None = None,
    temperature_path: ArrayLike | None = None,
    angle_path: ArrayLike | None = None,
    title: str = "Value space: where the output lands",
) -> Spec:
    """The values, their convex hull, and where each kind of attention puts the output.

    Args:
        values: ``(S, 2)``.
        names: ``S`` item names.
        hull: indices of the hull corners in order (``convex_hull``).
        soft_output, hard_output, gumbel_output: ``(2,)`` points.
        temperature_path: ``(M, 2)`` the soft output as the temperature runs
            from small to large (from the hard corner towards the mean).
        angle_path: ``(A, 2)`` the soft output as the query turns full circle.
    """
    points = _points("values", values)
    labels = check_labels("names", names, points.shape[0])
    kinds: list[str] = []
    orders: list[int] = []
    xy: list[np.ndarray] = []
    tags: list[str] = []

    def add(kind: str, path: np.ndarray, tag: Sequence[str] | None = None) -> None:
        kinds.extend([kind] * path.shape[0])
        orders.extend(range(path.shape[0]))
        xy.append(path)
        tags.extend(tag if tag is not None else [""] * path.shape[0])

    corners = [int(index) for index in hull]
    if corners:
        add("hull", points[[*corners, corners[0]]])  # closed: back to the first corner
    for kind, path in (("temperature path", temperature_path), ("angle path", angle_path)):
        if path is not None:
            add(kind, _points(kind, path))
    add("value", points, labels)
    markers = [("soft output", soft_output, PRIMARY, "circle")]
    markers.append(("hard output", hard_output, ACCENT, "square"))
    if gumbel_output is not None:
        markers.append(("Gumbel-softmax output", gumbel_output, GUMBEL_COLOR, "diamond"))
    for kind, point, _, _ in markers:
        add(kind, _vector(kind, point, 2)[None], [kind])
    every = np.vstack(xy)
    pointed = {"value", *(kind for kind, *_ in markers)}
    rows = table(
        kind=kinds,
        order=orders,
        x=every[:, 0],
        y=every[:, 1],
        label=tags,
        # Only points have tooltips; lines (hull, paths) need no text, and carry none.
        text=[
            text if kind in pointed else ""
            for kind, text in zip(kinds, _coordinates(every), strict=True)
        ],
    )
    x, y = _plane_axes(_extent(every), "value dim 1", "value dim 2")
    marker_kinds = [kind for kind, *_ in markers]
    legend = {"orient": "bottom", "title": None, "columns": 2, "symbolSize": 150, "labelLimit": 220}

    def path(kind: str, **style: Any) -> Spec:
        return {
            "transform": [{"filter": {"field": "kind", "equal": kind}}],
            "mark": {"type": "line", "aria": False, **style},
            "encoding": {"order": {"field": "order", "type": "quantitative"}},
        }

    return top_level(
        _plane(
            rows,
            x,
            y,
            330,
            [
                path("hull", color=FAINT, strokeWidth=1.5),
                path("angle path", color=FAINT, strokeDash=[4, 3], strokeWidth=1.2),
                path("temperature path", color=PRIMARY, strokeWidth=2.5, opacity=0.45),
                {
                    "transform": [{"filter": {"field": "kind", "equal": "value"}}],
                    "mark": {"type": "circle", "size": 70, "color": INK, "opacity": 1},
                    "encoding": {
                        "tooltip": [
                            {"field": "label", "type": "nominal", "title": "value of"},
                            {"field": "text", "type": "nominal", "title": "v"},
                        ]
                    },
                },
                {
                    "transform": [{"filter": {"field": "kind", "equal": "value"}}],
                    "mark": {
                        "type": "text",
                        "dx": 8,
                        "dy": -8,
                        "align": "left",
                        "fontSize": 13,
                        "fontWeight": "bold",
                        "color": INK,
                        "aria": False,
                    },
                    "encoding": {"text": {"field": "label", "type": "nominal"}},
                },
                {
                    "transform": [{"filter": {"field": "kind", "oneOf": marker_kinds}}],
                    "mark": {
                        "type": "point",
                        "filled": True,
                        "size": 190,
                        "opacity": 0.95,
                        "stroke": "white",
                        "strokeWidth": 1,
                    },
                    "encoding": {
                        "color": {
                            "field": "kind",
                            "type": "nominal",
                            "scale": {
                                "domain": marker_kinds,
                                "range": [color for *_, color, _ in markers],
                            },
                            "legend": legend,
                        },
                        "shape": {
                            "field": "kind",
                            "type": "nominal",
                            "scale": {
                                "domain": marker_kinds,
                                "range": [shape for *_, shape in markers],
                            },
                            "legend": legend,
                        },
                        "tooltip": [
                            {"field": "kind", "type": "nominal", "title": "output"},
                            {"field": "text", "type": "nominal", "title": "o"},
                        ],
                    },
                },
            ],
        ),
        title=title,
        description=f"{title}: {points.shape[0]} values, their convex hull (grey), and the "
        + ", ".join(marker_kinds)
        + " as markers.",
    )


def angle_sweep_chart(
    angles: ArrayLike,
    losses: Mapping[str, ArrayLike],
    gradients: Mapping[str, ArrayLike],
    *,
    current_angle: float,
    jumps: ArrayLike = (),
    width: int = 620,
) -> Spec:
    """Loss against the query angle, and its autograd gradient per degree underneath.

    Args:
        angles: ``(A,)`` degrees.
        losses: :class:`SweepCurve` (or its value) -> ``(A,)``.
        gradients: the same curves -> ``(A,)`` ``dL/dθ`` per degree.
        current_angle: drawn as a black rule in both panels. It is the value
            of the top-level parameter :data:`NOW_PARAM`.
        jumps: angles where the hard choice changes (dotted orange rules).
    """
    grid = _vector("angles", angles)
    try:
        curves = [SweepCurve(name) for name in losses]
        same = {SweepCurve(name) for name in gradients} == set(curves)
    except ValueError:
        same = False
    if not same:
        raise ValueError(
            f"losses and gradients need the same curves, from {[str(c) for c in SweepCurve]}; "
            f"got {sorted(map(str, losses))} and {sorted(map(str, gradients))}"
        )
    named = {
        "loss": {SweepCurve(name): values for name, values in losses.items()},
        "gradient": {SweepCurve(name): values for name, values in gradients.items()},
    }
    columns: dict[str, list] = {"angle": [], "value": [], "series": [], "panel": []}
    for panel, series in named.items():
        for curve in curves:
            values = _vector(str(curve), series[curve], grid.shape[0])
            columns["angle"] += grid.tolist()
            columns["value"] += values.tolist()
            columns["series"] += [str(curve)] * grid.shape[0]
            columns["panel"] += [panel] * grid.shape[0]
    jump_angles = _vector("jumps", jumps)
    # The "query now" row has no angle of its own: it reads the NOW_PARAM parameter.
    columns["angle"] += [0.0, *jump_angles.tolist()]
    columns["value"] += [0.0] * (1 + jump_angles.shape[0])
    columns["series"] += ["query now"] + ["hard choice changes"] * jump_angles.shape[0]
    columns["panel"] += ["mark"] * (1 + jump_angles.shape[0])
    order = [curve for curve in SweepCurve if curve in curves]
    legend = {"orient": "top", "title": None, "symbolStrokeWidth": 2.5}

    def series(values: list) -> Spec:
        """A channel keyed by the curve's name, its value per curve from ``values``."""
        scale = {"domain": [str(curve) for curve in order], "range": values}
        return {"field": "series", "type": "nominal", "scale": scale, "legend": legend}

    x_axis = {"values": list(range(-180, 181, 45))}
    x = {"field": "angle", "type": "quantitative", "scale": {"domain": [-180, 180]}}
    guides: list[Spec] = [
        {
            "transform": [{"filter": "datum.series == 'hard choice changes'"}],
            "mark": {
                "type": "rule",
                "color": ACCENT,
                "strokeDash": [2, 3],
                "opacity": 0.6,
                "aria": False,
            },
            "encoding": {"x": x},
        },
        {
            "transform": [
                {"filter": "datum.series == 'query now'"},
                {"calculate": NOW_PARAM, "as": "angle"},
            ],
            "mark": {"type": "rule", "color": "black", "strokeWidth": 1.5, "aria": False},
            "encoding": {"x": x},
        },
    ]

    def panel(name: str, y_title: str, height: int, x_title: str | None) -> Spec:
        line = {
            "transform": [{"filter": {"field": "panel", "equal": name}}],
            "mark": {"type": "line", "strokeWidth": 2.2},
            "encoding": {
                "x": {**x, "title": x_title, "axis": x_axis},
                "y": {"field": "value", "type": "quantitative", "title": y_title},
                # One legend for both channels, so Vega-Lite merges them and shows the dashes.
                "color": series([curve.color for curve in order]),
                "strokeDash": series([curve.dash for curve in order]),
                "tooltip": [
                    {"field": "series", "type": "nominal", "title": "attention"},
                    {"field": "angle", "type": "quantitative", "title": "θ (°)", "format": ".0f"},
                    {"field": "value", "type": "quantitative", "title": y_title, "format": ".3f"},
                ],
            },
        }
        return {"width": width, "height": height, "layer": [*guides, line]}

    return top_level(
        {
            "datasets": {"sweep": table(**columns)},
            "data": {"name": "sweep"},
            "params": [{"name": NOW_PARAM, "value": float(current_angle)}],
            "spacing": 8,
            "vconcat": [
                panel("loss", "loss ‖o − v_target‖²", 200, None),
                panel("gradient", "dL/dθ per degree", 150, "query angle θ (degrees)"),
            ],
            "resolve": {"scale": {"color": "shared"}},
        },
        title="",
        description="Loss against the query angle θ for "
        + ", ".join(str(curve) for curve in order)
        + f" attention, and below it dL/dθ per degree from autograd; a black rule at "
        f"θ = {float(current_angle):g}°, dotted orange rules where the hard choice changes.",
    )


def learning_curve_chart(
    curves: Mapping[TrainingMethod, Curves],
    metric: str,
    *,
    title: str,
    y_title: str,
    log: bool = False,
    domain: tuple[float, float] | None = None,
    y_format: str | None = None,
    width: int = 330,
    height: int = 240,
) -> Spec:
    """One metric against the training step, one line per method.

    Args:
        curves: method -> its :class:`Curves` (NaN entries, steps without a
            measurement, are left out).
        metric: which list of :class:`Curves` to draw, e.g. ``"accuracy"``.
        log: logarithmic y axis (for variances and losses that span decades);
            values that are not positive are left out.
        y_format: d3 format of the y labels, e.g. ``"~e"`` for tiny variances.
    """
    methods = [TrainingMethod(method) for method in curves]
    steps: list[float] = []
    values: list[float] = []
    names: list[str] = []
    for method in methods:
        series = np.asarray(getattr(curves[method], metric), dtype=float)
        keep = np.isfinite(series) & ((series > 0) if log else True)
        steps += np.asarray(curves[method].steps, dtype=float)[keep].tolist()
        values += series[keep].tolist()
        names += [method.short] * int(keep.sum())
    if not names:
        raise ValueError(f"no finite {metric} values to draw")
    scale: Spec = {"type": "log"} if log else ({"domain": list(domain)} if domain else {})
    y: Spec = {"field": "value", "type": "quantitative", "title": y_title, "scale": scale}
    if y_format:
        y["axis"] = {"format": y_format}
    color = {
        "field": "method",
        "type": "nominal",
        "scale": {
            "domain": [method.short for method in methods],
            "range": [METHOD_COLORS[method] for method in methods],
        },
        "legend": {"orient": "bottom", "title": None, "labelLimit": 260, "columns": len(methods)},
    }
    x = {"field": "step", "type": "quantitative", "title": "training step"}
    return top_level(
        {
            "datasets": {"curves": table(step=steps, method=names, value=values)},
            "data": {"name": "curves"},
            "width": width,
            "height": height,
            "encoding": {"x": x, "y": y, "color": color},
            "layer": [
                {"mark": {"type": "line", "strokeWidth": 2}},
                {
                    "mark": {"type": "circle", "size": 28, "opacity": 1},
                    "encoding": {
                        "tooltip": [
                            {"field": "method", "type": "nominal", "title": "method"},
                            {"field": "step", "type": "quantitative", "title": "step"},
                            {
                                "field": "value",
                                "type": "quantitative",
                                "title": y_title,
                                "format": ".3g",
                            },
                        ]
                    },
                },
            ],
        },
        title=title,
        description=f"{title}: {y_title} against the training step for "
        + ", ".join(method.short for method in methods)
        + ".",
    )


def example_chart(example: Example, weights: Mapping[TrainingMethod, Sequence[float]]) -> Spec:
    """Where each trained model looks on one held-out example: a row of weights per method.

    Args:
        example: colours, labels, cue, target and answer of the example.
        weights: method -> ``(S,)`` its softmax weights over the example's items.
    """
    methods = [TrainingMethod(method) for method in weights]
    return weights_heatmap(
        np.array([weights[method] for method in methods], dtype=float),
        [method.short for method in methods],
        example_item_names(example),
        title=f"Cue: {color_name(int(example['cue']))}   →   answer "
        f"{label_name(int(example['answer']))}   (▶ marks the match)",
        row_title="model",
        col_title="item",
        cell_size=58,
        max_width=760,
    )


class TrainingPanel(StrEnum):
    """The three learning-curve charts of the training section; the value is the metric."""

    ACCURACY = "accuracy"
    LOSS = "loss"
    VARIANCE = "total_variance"


def training_panel(
    curves: Mapping[TrainingMethod, Curves], panel: TrainingPanel, n_labels: int
) -> Spec:
    """One of the training section's charts, with its title, axis and scale.

    Args:
        curves: method -> its :class:`Curves`.
        panel: which chart.
        n_labels: ``K``, answer classes of the task (chance accuracy is ``1 / K``).
    """
    panel = TrainingPanel(panel)
    if panel is TrainingPanel.ACCURACY:
        return learning_curve_chart(
            curves,
            panel.value,
            title=f"Held-out accuracy (chance = {1 / n_labels:.2f})",
            y_title="accuracy",
            domain=(0.0, 1.0),
        )
    if panel is TrainingPanel.LOSS:
        return learning_curve_chart(
            curves,
            panel.value,
            title="Held-out loss (cross-entropy)",
            y_title="loss",
            log=True,
            y_format="~g",
        )
    return learning_curve_chart(
        curves,
        panel.value,
        title="Variance of the attention gradient",
        y_title="total variance",
        log=True,
        y_format="~e",
    )
