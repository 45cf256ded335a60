"""Altair charts of the soft-vs-hard page: weights, output geometry, sweeps, training.

Pure functions from arrays to charts (no Streamlit, no torch); tests read the
spec (``chart.to_dict()``). Items are keyed by position and shown through
``labelExpr`` so repeated names stay apart, as in ``lab.charts``.

Shapes:
    S   items
    A   angles of a sweep
    T   temperatures of a path
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lab.legacy_charts import ACCENT, PRIMARY, labels_expr

GUMBEL = "#7b3fb5"  # Gumbel-softmax: purple, between soft (blue) and hard (orange)
INK = "#3a3a3a"  # the values and other fixed things
FAINT = "#9a9a9a"  # paths and guides
NOW_PARAM = "theta_now"  # the sweep chart's current query angle, a Vega-Lite parameter
PAD = alt.AutoSizeParams(type="pad")  # Streamlit would otherwise shrink the plot to fit legends
METHOD_COLORS = {"soft": PRIMARY, "reinforce": ACCENT, "gumbel_st": GUMBEL}
SERIES_COLORS = {
    "soft": PRIMARY,
    "hard": ACCENT,
    "expected hard (sampled)": GUMBEL,
}


def _vector(name: str, values: ArrayLike, size: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a vector, got shape {array.shape}")
    if size is not None and array.shape[0] != size:
        raise ValueError(f"{name} has {array.shape[0]} entries but there are {size} items")
    return array


def _points(name: str, values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {array.shape}")
    return array


def _item_axis(names: Sequence[str], title: str | None) -> alt.Axis:
    return alt.Axis(
        title=title, labelExpr=labels_expr(names), ticks=False, domain=False, labelLimit=120
    )


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
) -> alt.LayerChart:
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
    frame = pd.DataFrame(
        {
            "position": np.arange(size),
            "item": labels,
            "weight": values,
            "text": [f"{value:.3f}" for value in values],
            "bar_color": [ACCENT if index == highlight else color for index in range(size)],
        }
    )
    x_scale = alt.Scale(domain=[0, 1.12], clamp=True)
    y = alt.Y("position:O", axis=_item_axis(labels, None), sort="ascending")
    tooltip = [alt.Tooltip("item:N", title="item"), alt.Tooltip("text:N", title="weight")]
    layers: list[alt.Chart] = []
    layers.append(
        alt.Chart()
        .mark_bar(height={"band": 0.62})
        .encode(
            y=y,
            x=alt.X("weight:Q", title="weight", scale=x_scale, axis=alt.Axis(values=[0, 0.5, 1])),
            color=alt.Color("bar_color:N", scale=None),
            tooltip=tooltip,
        )
    )
    if band is not None and reference is not None:
        center, half = _vector("reference", reference, size), _vector("band", band, size)
        frame["low"] = np.clip(center - half, 0, 1)
        frame["high"] = np.clip(center + half, 0, 1)
        # Drawn over the bars, translucent, so a bar that falls inside shows it.
        layers.append(
            alt.Chart()
            .mark_rule(color="#4a4a4a", strokeWidth=7, opacity=0.3)
            .encode(y=y, x=alt.X("low:Q", scale=x_scale), x2=alt.X2("high:Q"))
        )
    if reference is not None:
        frame["reference"] = _vector("reference", reference, size)
        frame["reference_text"] = [f"{value:.3f}" for value in frame["reference"]]
        layers.append(
            alt.Chart()
            .mark_tick(color="black", thickness=2.5, size=20)
            .encode(
                y=y,
                x=alt.X("reference:Q", scale=x_scale),
                tooltip=[
                    alt.Tooltip("item:N", title="item"),
                    alt.Tooltip("reference_text:N", title=reference_title),
                ],
            )
        )
    layers.append(
        alt.Chart()
        .mark_text(align="left", dx=4, fontSize=11)
        .encode(y=y, x=alt.X("weight:Q", scale=x_scale), text=alt.Text("text:N"))
    )
    return alt.layer(*layers, data=frame).properties(title=title, width=width, height=alt.Step(26))


def frequency_error_chart(
    draw_counts: ArrayLike, errors: ArrayLike, bands: ArrayLike, *, current: int | None = None
) -> alt.LayerChart:
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
    frame = pd.DataFrame(
        {
            "draws": np.concatenate([counts, counts]),
            "gap": np.maximum(np.concatenate([measured, expected]), floor),
            "series": ["measured"] * counts.shape[0] + ["2 standard errors"] * counts.shape[0],
            "text": [f"{value:.4f}" for value in np.concatenate([measured, expected])],
            "current": np.concatenate([counts == current, np.zeros(counts.shape[0], bool)]),
        }
    )
    x = alt.X("draws:Q", scale=alt.Scale(type="log"), title="number of draws N")
    y = alt.Y("gap:Q", scale=alt.Scale(type="log"), title="max |frequency − weight|")
    color = alt.Color(
        "series:N",
        scale=alt.Scale(domain=["measured", "2 standard errors"], range=[INK, FAINT]),
        legend=alt.Legend(orient="top-right", title=None, fillColor="white", padding=4),
    )
    tooltip = [
        alt.Tooltip("draws:Q", title="N"),
        alt.Tooltip("series:N", title="what"),
        alt.Tooltip("text:N", title="gap"),
    ]
    lines = (
        alt.Chart()
        .mark_line()
        .encode(
            x=x,
            y=y,
            color=color,
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(domain=["measured", "2 standard errors"], range=[[1, 0], [5, 4]]),
                legend=None,
            ),
        )
    )
    points = (
        alt.Chart()
        .transform_filter("datum.series == 'measured'")
        .mark_point(filled=True, color=INK, opacity=1)
        .encode(
            x=x,
            y=y,
            size=alt.Size(
                "current:N", scale=alt.Scale(domain=[False, True], range=[30, 160]), legend=None
            ),
            tooltip=tooltip,
        )
    )
    return alt.layer(lines, points, data=frame).properties(
        title="Frequencies close in like 1/√N",
        width=300,
        height=170,
        autosize=PAD,  # legends add to the size instead of squeezing the plot
    )


def _extent(*arrays: np.ndarray, pad: float = 1.2) -> list[float]:
    largest = max((float(np.max(np.abs(array))) for array in arrays if array.size), default=1.0)
    reach = max(largest, 0.5) * pad
    return [-reach, reach]


def key_space_chart(
    keys: ArrayLike, names: Sequence[str], query: ArrayLike, *, winner: int | None = None
) -> alt.LayerChart:
    """The keys as points and the query as an arrow from the origin, on equal axes.

    A key's score is its dot product with the query, so the key furthest
    along the arrow wins; ``winner`` is drawn in the accent colour.
    """
    points = _points("keys", keys)
    q = _vector("query", query)
    labels = [str(name) for name in names]
    domain = _extent(points, q)
    size = points.shape[0]
    frame = pd.DataFrame(
        {
            "x": np.concatenate([points[:, 0], [0.0, q[0]]]),
            "y": np.concatenate([points[:, 1], [0.0, q[1]]]),
            "label": [*labels, "", "q"],
            "kind": ["key"] * size + ["origin", "query"],
            "color": [ACCENT if index == winner else INK for index in range(size)]
            + [PRIMARY, PRIMARY],
            "text": [f"({x:.2f}, {y:.2f})" for x, y in np.vstack([points, [[0, 0]], q[None]])],
        }
    )
    x = alt.X("x:Q", scale=alt.Scale(domain=domain, nice=False), title="key / query dim 1")
    y = alt.Y("y:Q", scale=alt.Scale(domain=domain, nice=False), title="key / query dim 2")
    tooltip = [alt.Tooltip("label:N", title="item"), alt.Tooltip("text:N", title="vector")]
    arrow = (
        alt.Chart()
        .transform_filter("datum.kind != 'key'")
        .mark_line(color=PRIMARY, strokeWidth=3)
        .encode(x=x, y=y)
    )
    tip = (
        alt.Chart()
        .transform_filter("datum.kind == 'query'")
        .mark_point(shape="triangle", filled=True, size=160, color=PRIMARY)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    dots = (
        alt.Chart()
        .transform_filter("datum.kind == 'key'")
        .mark_circle(size=110, opacity=1)
        .encode(x=x, y=y, color=alt.Color("color:N", scale=None), tooltip=tooltip)
    )
    text = (
        alt.Chart()
        .transform_filter("datum.kind != 'origin'")
        .mark_text(dx=9, dy=-9, align="left", fontSize=13, fontWeight="bold")
        .encode(x=x, y=y, text=alt.Text("label:N"), color=alt.Color("color:N", scale=None))
    )
    return alt.layer(arrow, tip, dots, text, data=frame).properties(
        title="Key space: score = q · k / √2", width=300, height=300, autosize=PAD
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
) -> alt.LayerChart:
    """The values, their convex hull, and where each kind of attention puts the output.

    Args:
        values: ``(S, 2)``.
        names: ``S`` item names.
        hull: indices of the hull corners in order (``soft_hard.convex_hull``).
        soft_output, hard_output, gumbel_output: ``(2,)`` points.
        temperature_path: ``(T, 2)`` the soft output as the temperature runs
            from small to large (from the hard corner towards the mean).
        angle_path: ``(A, 2)`` the soft output as the query turns full circle.
    """
    points = _points("values", values)
    labels = [str(name) for name in names]
    if len(labels) != points.shape[0]:
        raise ValueError(f"{len(labels)} names for {points.shape[0]} values")
    rows: list[dict] = []
    corners = [int(index) for index in hull]
    for order, index in enumerate([*corners, corners[0]] if corners else []):
        rows.append({"kind": "hull", "order": order, "x": points[index, 0], "y": points[index, 1]})
    for kind, path in (("temperature path", temperature_path), ("angle path", angle_path)):
        if path is not None:
            for order, (x, y) in enumerate(_points(kind, path)):
                rows.append({"kind": kind, "order": order, "x": x, "y": y})
    for index, (x, y) in enumerate(points):
        rows.append({"kind": "value", "order": index, "x": x, "y": y, "label": labels[index]})
    markers = [("soft output", soft_output), ("hard output", hard_output)]
    if gumbel_output is not None:
        markers.append(("Gumbel-softmax output", gumbel_output))
    for kind, point in markers:
        x, y = _vector(kind, point, 2)
        rows.append({"kind": kind, "order": 0, "x": x, "y": y, "label": kind})
    frame = pd.DataFrame(rows)
    frame["label"] = frame.get("label", pd.Series(dtype=object)).fillna("")
    frame["text"] = [f"({x:.2f}, {y:.2f})" for x, y in zip(frame["x"], frame["y"], strict=True)]
    domain = _extent(frame[["x", "y"]].to_numpy())
    x = alt.X("x:Q", scale=alt.Scale(domain=domain, nice=False), title="value dim 1")
    y = alt.Y("y:Q", scale=alt.Scale(domain=domain, nice=False), title="value dim 2")
    order = alt.Order("order:Q")

    def path(kind: str, **style: object) -> alt.Chart:
        return (
            alt.Chart()
            .transform_filter(alt.datum.kind == kind)
            .mark_line(**style)
            .encode(x=x, y=y, order=order)
        )

    marker_kinds = [kind for kind, _ in markers]
    marker_colors = [PRIMARY, ACCENT, GUMBEL][: len(markers)]
    marker_shapes = ["circle", "square", "diamond"][: len(markers)]
    legend = alt.Legend(orient="bottom", title=None, columns=2, symbolSize=150, labelLimit=220)
    layers = [
        path("hull", color=FAINT, strokeWidth=1.5),
        path("angle path", color=FAINT, strokeDash=[4, 3], strokeWidth=1.2),
        path("temperature path", color=PRIMARY, strokeWidth=2.5, opacity=0.45),
        alt.Chart()
        .transform_filter(alt.datum.kind == "value")
        .mark_circle(size=70, color=INK, opacity=1)
        .encode(
            x=x,
            y=y,
            tooltip=[alt.Tooltip("label:N", title="value of"), alt.Tooltip("text:N", title="v")],
        ),
        alt.Chart()
        .transform_filter(alt.datum.kind == "value")
        .mark_text(dx=8, dy=-8, align="left", fontSize=13, fontWeight="bold", color=INK)
        .encode(x=x, y=y, text=alt.Text("label:N")),
        alt.Chart()
        .transform_filter(alt.FieldOneOfPredicate(field="kind", oneOf=marker_kinds))
        .mark_point(filled=True, size=190, opacity=0.95, stroke="white", strokeWidth=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "kind:N", scale=alt.Scale(domain=marker_kinds, range=marker_colors), legend=legend
            ),
            shape=alt.Shape(
                "kind:N", scale=alt.Scale(domain=marker_kinds, range=marker_shapes), legend=legend
            ),
            tooltip=[alt.Tooltip("kind:N", title="output"), alt.Tooltip("text:N", title="o")],
        ),
    ]
    return alt.layer(*layers, data=frame).properties(
        title=title, width=330, height=330, autosize=PAD
    )


def sweep_chart(
    angles: ArrayLike,
    losses: Mapping[str, ArrayLike],
    gradients: Mapping[str, ArrayLike],
    *,
    current_angle: float,
    jumps: ArrayLike = (),
    width: int = 620,
) -> alt.VConcatChart:
    """Loss against the query angle, and its autograd gradient underneath.

    Args:
        angles: ``(A,)`` degrees.
        losses: series name -> ``(A,)``; names from :data:`SERIES_COLORS`.
        gradients: the same names -> ``(A,)`` ``dL/dθ``.
        current_angle: drawn as a vertical rule in both panels. It is the
            value of the top-level parameter :data:`NOW_PARAM`, so a page can
            build the chart once and move the rule with :func:`with_sweep_angle`.
        jumps: angles where the hard choice changes (dotted rules).
    """
    grid = _vector("angles", angles)
    unknown = set(losses) - set(SERIES_COLORS)
    if unknown or set(gradients) != set(losses):
        raise ValueError(
            f"losses and gradients need the same series, from {list(SERIES_COLORS)}; "
            f"got {sorted(losses)} and {sorted(gradients)}"
        )
    parts = []
    for panel, series in (("loss", losses), ("gradient", gradients)):
        for name, curve in series.items():
            values = _vector(name, curve, grid.shape[0])
            parts.append(
                pd.DataFrame(
                    {
                        "angle": grid,
                        "value": values,
                        "series": name,
                        "panel": panel,
                        "text": [f"{value:.3f}" for value in values],
                    }
                )
            )
    jump_angles = _vector("jumps", jumps)
    # The "query now" row has no angle of its own: it reads the NOW_PARAM parameter.
    marks = pd.DataFrame(
        {
            "angle": [0.0, *jump_angles],
            "series": ["query now"] + ["hard choice changes"] * len(jump_angles),
        }
    )
    marks["panel"] = "mark"
    frame = pd.concat([*parts, marks], ignore_index=True)
    names = [name for name in SERIES_COLORS if name in losses]
    color = alt.Color(
        "series:N",
        scale=alt.Scale(domain=names, range=[SERIES_COLORS[name] for name in names]),
        legend=alt.Legend(orient="top", title=None),
    )
    x = alt.X(
        "angle:Q",
        title="query angle θ (degrees)",
        scale=alt.Scale(domain=[-180, 180]),
        axis=alt.Axis(values=list(range(-180, 181, 45))),
    )
    tooltip = [
        alt.Tooltip("series:N", title="attention"),
        alt.Tooltip("angle:Q", title="θ", format=".0f"),
        alt.Tooltip("text:N", title="value"),
    ]
    now = (
        alt.Chart()
        .transform_filter(alt.datum.series == "query now")
        .transform_calculate(angle=NOW_PARAM)
        .mark_rule(color="black", strokeWidth=1.5)
        .encode(x=x)
    )
    steps = (
        alt.Chart()
        .transform_filter(alt.datum.series == "hard choice changes")
        .mark_rule(color=ACCENT, strokeDash=[2, 3], opacity=0.6)
        .encode(x=x)
    )

    def panel(name: str, title: str, height: int) -> alt.LayerChart:
        line = (
            alt.Chart()
            .transform_filter(alt.datum.panel == name)
            .mark_line(strokeWidth=2.2, interpolate="linear")
            .encode(
                x=x
                if name == "gradient"
                else x.axis(title=None, values=list(range(-180, 181, 45))),
                y=alt.Y("value:Q", title=title),
                color=color,
                strokeDash=alt.StrokeDash(
                    "series:N",
                    scale=alt.Scale(
                        domain=names,
                        range=[
                            [6, 3] if series == "expected hard (sampled)" else [1, 0]
                            for series in names
                        ],
                    ),
                    legend=None,
                ),
                tooltip=tooltip,
            )
        )
        return alt.layer(steps, now, line).properties(width=width, height=height)

    return alt.vconcat(
        panel("loss", "loss ‖o − v_target‖²", 200),
        panel("gradient", "dL/dθ by autograd", 150),
        data=frame,
        spacing=8,
        params=[alt.VariableParameter(name=NOW_PARAM, value=float(current_angle))],
    ).resolve_scale(color="shared")


def with_sweep_angle(spec: Mapping[str, object], angle: float) -> dict:
    """A :func:`sweep_chart` spec (``to_dict()``) with its "query now" rule moved to ``angle``.

    Returns a shallow copy; the (large) data is shared, not copied.
    """
    params = spec.get("params")
    if not isinstance(params, list) or not any(
        isinstance(param, dict) and param.get("name") == NOW_PARAM for param in params
    ):
        raise ValueError(f"not a sweep chart spec: it has no '{NOW_PARAM}' parameter")
    moved = dict(spec)
    moved["params"] = [
        {**param, "value": float(angle)} if param.get("name") == NOW_PARAM else param
        for param in params
    ]
    return moved


def curve_frame(curves: Mapping[str, Mapping[str, Sequence[float]]], metric: str) -> pd.DataFrame:
    """Long form of one metric of several methods' curves (``step``, ``method``, ``value``)."""
    parts = []
    for method, curve in curves.items():
        values = np.asarray(curve[metric], dtype=float)
        steps = np.asarray(curve["steps"], dtype=float)
        keep = np.isfinite(values)
        parts.append(pd.DataFrame({"step": steps[keep], "method": method, "value": values[keep]}))
    if not parts:
        raise ValueError("no curves to draw")
    return pd.concat(parts, ignore_index=True)


def learning_curve_chart(
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    metric: str,
    labels: Mapping[str, str],
    *,
    title: str,
    y_title: str,
    log: bool = False,
    domain: tuple[float, float] | None = None,
    legend_orient: str = "bottom",
    y_format: str | None = None,
    width: int = 330,
    height: int = 240,
) -> alt.LayerChart:
    """One metric against the training step, one line per method.

    Args:
        curves: method -> mapping with ``"steps"`` and ``metric`` lists (NaN
            entries, steps without a measurement, are left out).
        metric: which list to draw.
        labels: method -> legend label.
        log: logarithmic y axis (for variances and losses that span decades).
        legend_orient: where the legend sits: ``"bottom"`` (below, in one row)
            or inside the plot (``"top-left"``, ``"bottom-right"``, ...) where
            the curves leave room.
        y_format: d3 format of the y labels, e.g. ``"~e"`` for tiny variances.
    """
    frame = curve_frame(curves, metric)
    if log:
        frame = frame[frame["value"] > 0]
    frame["label"] = frame["method"].map(lambda method: labels.get(method, method))
    frame["text"] = [f"{value:.3g}" for value in frame["value"]]
    methods = list(curves)
    color = alt.Color(
        "label:N",
        scale=alt.Scale(
            domain=[labels.get(method, method) for method in methods],
            range=[METHOD_COLORS.get(method, INK) for method in methods],
        ),
        legend=alt.Legend(
            orient=legend_orient,
            title=None,
            labelLimit=260,
            columns=len(methods) if legend_orient in ("top", "bottom") else 1,
            fillColor="rgba(255, 255, 255, 0.85)",
        ),
    )
    if log:
        scale = alt.Scale(type="log")
    elif domain is not None:
        scale = alt.Scale(domain=list(domain))
    else:
        scale = alt.Undefined
    x = alt.X("step:Q", title="training step")
    y = alt.Y(
        "value:Q",
        title=y_title,
        scale=scale,
        axis=alt.Axis(format=y_format) if y_format else alt.Undefined,
    )
    tooltip = [
        alt.Tooltip("label:N", title="method"),
        alt.Tooltip("step:Q", title="step"),
        alt.Tooltip("text:N", title=y_title),
    ]
    line = alt.Chart().mark_line(strokeWidth=2).encode(x=x, y=y, color=color)
    points = alt.Chart().mark_circle(size=28).encode(x=x, y=y, color=color, tooltip=tooltip)
    return alt.layer(line, points, data=frame).properties(
        title=title, width=width, height=height, autosize=PAD
    )
