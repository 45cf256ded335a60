"""Chart builders of the cost-of-attention page: plain Vega-Lite dicts, no Streamlit.

One colour per method on the whole page (:data:`COLORS`, the Okabe–Ito
palette, which colour-blind viewers can tell apart): numpy's exact attention
is the same blue in the measured times, the cost model and the error charts,
random features the same vermilion everywhere, and so on. Reference lines are
grey and dashed. Heatmaps come from :mod:`lab.charts`, on one shared scale.

Builders:
    :func:`measured_chart`   measured time or peak memory against n, log-log, with
                             the fitted slopes, an n^2 reference and crossovers
    :func:`cost_model_chart` counted multiply-adds (or floats) against n, log-log
    :func:`error_chart`      an approximation's error against r or C: mean over
                             seeds with a band for the spread, the chosen setting marked
    :func:`method_heatmap`   one method's weights, titled with its errors

Shapes:
    N   measured or counted sizes n
    K   settings of r or C in a sweep
    T   seeds in a sweep
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from lab import charts
from lab.checks import check_int
from lab.cost_of_attention.accuracy import ApproximationResult, ErrorSweep
from lab.cost_of_attention.compute import Method
from lab.cost_of_attention.cost_model import Quantity, cost_curves, crossover_length
from lab.cost_of_attention.study import ErrorMeasure, MeasuredQuantity, slopes
from lab.cost_of_attention.timings import (
    CrossoverPlace,
    Implementation,
    Measurements,
    measured_crossovers,
    power_law_reference,
)

# Okabe–Ito colours, one per implementation; a method takes its implementation's colour.
COLORS: dict[Implementation, str] = {
    Implementation.NUMPY: "#0072B2",  # blue: exact attention, the reference
    Implementation.TORCH: "#56B4E9",  # sky blue: exact attention in explicit torch
    Implementation.TORCH_FUSED: "#009E73",  # bluish green: torch's fused SDPA
    Implementation.PERFORMER: "#D55E00",  # vermilion: random features
    Implementation.LINEAR: "#CC79A7",  # reddish purple: linear attention
    Implementation.CLUSTERED: "#E69F00",  # orange: clustered attention
}
IMPLEMENTATION_OF: dict[Method, Implementation] = {
    Method.EXACT: Implementation.NUMPY,
    Method.PERFORMER: Implementation.PERFORMER,
    Method.LINEAR: Implementation.LINEAR,
    Method.CLUSTERED: Implementation.CLUSTERED,
}
# Legend names: short enough for a legend inside the plot.
LEGEND_NAMES: dict[Implementation, str] = {
    Implementation.NUMPY: "numpy",
    Implementation.TORCH: "torch",
    Implementation.TORCH_FUSED: "torch fused SDPA",
    Implementation.PERFORMER: "random features",
    Implementation.LINEAR: "linear (elu + 1)",
    Implementation.CLUSTERED: "clustered",
}
SHORT_NAMES: dict[Method, str] = {
    Method.EXACT: "exact softmax",
    Method.PERFORMER: "random features",
    Method.LINEAR: "linear (elu + 1)",
    Method.CLUSTERED: "clustered",
}
# The cost model's multiply-add counts, as the legend of the counted chart states them.
FORMULAS: dict[Method, str] = {
    Method.EXACT: "2n²d",
    Method.PERFORMER: "4nrd + 2nr",
    Method.LINEAR: "2nd² + 2nd",
    Method.CLUSTERED: "k-means + 2Cnd",
}
DASH = [5, 4]  # reference lines and crossover rules
LABEL_STEP = 14  # pixels between stacked crossover labels


def method_color(method: Method) -> str:
    """The page's colour for ``method``."""
    return COLORS[IMPLEMENTATION_OF[method]]


def _log_n_axis(n_values: Sequence[int], title: str = "sequence length n (log scale)") -> dict:
    return {
        "field": "n",
        "type": "quantitative",
        "scale": {"type": "log", "base": 2, "domain": [int(n_values[0]), int(n_values[-1])]},
        "axis": {"values": [int(n) for n in n_values], "format": "d", "title": title},
    }


def _series_encodings(
    names: Sequence[str], colors: Sequence[str], dashed: Sequence[bool], *, legend: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Colour and dash of every series, one legend for both (the same field and scales)."""
    domain = list(names)
    return {
        "color": {
            "field": "series",
            "type": "nominal",
            "sort": domain,
            "scale": {"domain": domain, "range": list(colors)},
            "legend": {"title": None, "symbolType": "stroke", "symbolStrokeWidth": 2, **legend},
        },
        "strokeDash": {
            "field": "series",
            "type": "nominal",
            "sort": domain,
            "scale": {"domain": domain, "range": [DASH if dash else [1, 0] for dash in dashed]},
            "legend": {"title": None, "symbolType": "stroke", "symbolStrokeWidth": 2, **legend},
        },
    }


TOP_LEGEND = {"orient": "top", "direction": "horizontal", "columns": 2, "labelLimit": 200}
BELOW_LEGEND = {"orient": "bottom", "direction": "vertical", "labelLimit": 330}


def _crossover_layers(rows: list[dict[str, Any]], color: dict[str, Any]) -> list[dict[str, Any]]:
    """Dashed vertical rules where an approximation overtakes exact attention, with labels.

    A rule takes its method's colour from the lines' colour scale (the rows
    name their series); its label is dark, for contrast. Decorative: the
    chart's description says where the crossovers are.
    """
    if not rows:
        return []
    return [
        {
            "data": {"name": "crossovers"},
            "mark": {"type": "rule", "strokeDash": DASH, "strokeWidth": 1.5, "aria": False},
            "encoding": {"x": {"field": "n", "type": "quantitative"}, "color": color},
        },
        {
            "data": {"name": "crossovers"},
            "mark": {
                "type": "text",
                "align": "left",
                "baseline": "top",
                "dx": 3,
                "fontSize": 11,
                "color": charts.INK,
                "aria": False,
            },
            "encoding": {
                "x": {"field": "n", "type": "quantitative"},
                "y": {"field": "label_y", "type": "quantitative", "scale": None},
                "text": {"field": "label", "type": "nominal"},
            },
        },
    ]


def _crossover_row(n: float, series: str, label: str, index: int) -> dict[str, Any]:
    """One crossover: its rule's place and series, its label stacked down from the top."""
    return {"n": n, "series": series, "label": label, "label_y": 4 + LABEL_STEP * index}


def measured_chart(
    measurements: Measurements,
    implementations: Sequence[Implementation],
    quantity: MeasuredQuantity,
    *,
    title: str,
    reference_power: float | None = 2.0,
    mark_crossovers: bool = False,
    legend_on_top: bool = False,
    subtitle: str | None = None,
    width: int = 440,
    height: int = 240,
) -> charts.Spec:
    """Measured time or peak memory against ``n`` on log-log axes, one line per implementation.

    The legend gives each line's fitted log-log slope (over ``n >= FIT_MIN_N``,
    see :func:`~lab.cost_of_attention.timings.measured_slopes`); with one
    measured size there is no slope. Figures of 0 (nothing allocated) cannot
    sit on a log axis and are left out.

    Args:
        measurements: shipped or freshly measured figures.
        implementations: the lines to draw, in legend order; the first one
            anchors the reference line.
        quantity: time (ms) or peak memory (MB).
        title: the chart title.
        reference_power: draw ``n^power`` through the first line's largest
            point, grey and dashed, as one more legend entry (``None``: no reference).
        mark_crossovers: mark where each approximation among ``implementations``
            becomes faster than numpy's exact attention (needs numpy among them).
        legend_on_top: put the legend above the plot, in two columns (else below it).
        subtitle: a second title line, e.g. the settings the figures were measured with.
        width, height: pixels of the plot.
    """
    chosen = list(dict.fromkeys(implementations))
    if not chosen:
        raise ValueError("choose at least one implementation to draw")
    n_values = [int(n) for n in measurements.n_values]
    fits = slopes(measurements)
    names, colors, rows = [], [], []
    for implementation in chosen:
        fit = quantity.fit(fits[implementation]) if implementation in fits else None
        name = LEGEND_NAMES[implementation] + (f" · slope {fit.slope:.2f}" if fit else "")
        names.append(name)
        colors.append(COLORS[implementation])
        values = quantity.values(measurements.series_for(implementation))
        rows += [
            {"n": n, "value": float(value), "series": name, "text": f"{value:.4g} {quantity.unit}"}
            for n, value in zip(n_values, values, strict=True)
            if value > 0
        ]
    datasets: dict[str, list[dict[str, Any]]] = {"measured": rows}
    described = []
    anchor = [row for row in rows if row["series"] == names[0]]
    reference = None
    if reference_power is not None and len(anchor) >= 2:
        power = "n²" if reference_power == 2 else f"n^{reference_power:g}"
        reference = f"{power} reference"
        line = power_law_reference(
            [row["n"] for row in anchor],
            through_n=anchor[-1]["n"],
            through_value=anchor[-1]["value"],
            power=reference_power,
        )
        datasets["reference"] = charts.table(
            n=[row["n"] for row in anchor], value=line, series=[reference] * len(anchor)
        )
        described.append(
            f"a grey dashed line shows {power} growth through the last {chosen[0].value} point"
        )
    encodings = _series_encodings(
        names + ([reference] if reference else []),
        colors + ([charts.FAINT] if reference else []),
        [False] * len(names) + ([True] if reference else []),
        legend=TOP_LEGEND if legend_on_top else BELOW_LEGEND,
    )
    x = _log_n_axis(n_values)
    y = {
        "field": "value",
        "type": "quantitative",
        "scale": {"type": "log"},
        "axis": {"title": f"{quantity.label} ({quantity.unit}, log scale)", "format": "~g"},
    }
    layers: list[dict[str, Any]] = [
        {
            "data": {"name": "measured"},
            "mark": {"type": "line", "point": {"filled": True, "size": 45}, "strokeWidth": 2},
            "encoding": {
                "x": x,
                "y": y,
                **encodings,
                "tooltip": [
                    {"field": "series", "type": "nominal", "title": "implementation"},
                    {"field": "n", "type": "quantitative", "title": "n"},
                    {"field": "text", "type": "nominal", "title": quantity.label},
                ],
            },
        }
    ]
    if reference:
        layers.append(
            {
                "data": {"name": "reference"},
                "mark": {"type": "line", "strokeWidth": 1.5, "aria": False},
                "encoding": {"x": x, "y": y, **encodings},
            }
        )
    if mark_crossovers and Implementation.NUMPY in chosen and len(n_values) >= 2:
        marks = []
        for implementation, crossover in measured_crossovers(measurements).items():
            if implementation not in chosen or crossover.place is not CrossoverPlace.WITHIN_RANGE:
                continue
            marks.append(
                _crossover_row(
                    float(crossover.n),
                    names[chosen.index(implementation)],
                    f"n ≈ {crossover.n:.0f}",
                    len(marks),
                )
            )
            described.append(
                f"{implementation.label} overtakes numpy's exact attention at n ≈ {crossover.n:.0f}"
            )
        if marks:
            datasets["crossovers"] = marks
            layers += _crossover_layers(marks, encodings["color"])
    description = (
        f"{title}: {quantity.label} against sequence length n on log-log axes for "
        + ", ".join(names)
        + "".join(f"; {text}" for text in described)
        + "."
    )
    spec = charts.top_level(
        {"datasets": datasets, "width": width, "height": height, "layer": layers},
        title=title,
        description=description,
    )
    if subtitle:
        spec["title"] = {"text": title, "subtitle": subtitle}
    return spec


def cost_model_chart(
    n_values: Sequence[int],
    d: int,
    *,
    num_features: int,
    num_clusters: int,
    title: str,
    quantity: Quantity = Quantity.MULTIPLY_ADDS,
    width: int = 440,
    height: int = 240,
) -> charts.Spec:
    """The cost model's counts against ``n`` for every method, log-log, crossovers marked.

    A crossover is :func:`~lab.cost_of_attention.cost_model.crossover_length`:
    the first ``n`` at which the approximation needs fewer of ``quantity``
    than exact attention; it is marked when it lies inside ``n_values``. The
    title's subtitle gives ``d``, ``r`` and ``C``.

    Args:
        n_values: increasing sizes, at least two.
        d: query/key/value size.
        num_features: ``r``.
        num_clusters: ``C``.
        title: the chart title.
        quantity: multiply-adds or floats held.
        width, height: pixels of the plot.
    """
    sizes = [check_int("n", n, minimum=1) for n in n_values]
    if len(sizes) < 2 or any(later <= earlier for earlier, later in itertools.pairwise(sizes)):
        raise ValueError(f"n_values must be at least two increasing sizes, got {sizes}")
    curves = cost_curves(sizes, d, num_features=num_features, num_clusters=num_clusters)
    methods = list(curves)
    if quantity is Quantity.MULTIPLY_ADDS:
        names = [f"{SHORT_NAMES[method]}: {FORMULAS[method]}" for method in methods]
    else:
        names = [SHORT_NAMES[method] for method in methods]
    rows = [
        {"n": n, "value": cost.get(quantity), "series": name, "text": f"{cost.get(quantity):,}"}
        for method, name in zip(methods, names, strict=True)
        for n, cost in zip(sizes, curves[method], strict=True)
    ]
    encodings = _series_encodings(
        names,
        [method_color(method) for method in methods],
        [False] * len(names),
        legend=BELOW_LEGEND,
    )
    marks, described = [], []
    for method, name in zip(methods, names, strict=True):
        if method is Method.EXACT:
            continue
        first = crossover_length(
            method, d, num_features=num_features, num_clusters=num_clusters, quantity=quantity
        )
        if sizes[0] < first <= sizes[-1]:
            marks.append(_crossover_row(first, name, f"n = {first}", len(marks)))
        described.append(f"{SHORT_NAMES[method]} is cheaper from n = {first}")
    datasets: dict[str, list[dict[str, Any]]] = {"counts": rows}
    layers: list[dict[str, Any]] = [
        {
            "data": {"name": "counts"},
            "mark": {"type": "line", "strokeWidth": 2},
            "encoding": {
                "x": _log_n_axis(sizes),
                "y": {
                    "field": "value",
                    "type": "quantitative",
                    "scale": {"type": "log"},
                    "axis": {"title": f"{quantity.label} (log scale)", "format": "~s"},
                },
                **encodings,
                "tooltip": [
                    {"field": "series", "type": "nominal", "title": "method"},
                    {"field": "n", "type": "quantitative", "title": "n"},
                    {"field": "text", "type": "nominal", "title": quantity.label},
                ],
            },
        }
    ]
    if marks:
        datasets["crossovers"] = marks
        layers += _crossover_layers(marks, encodings["color"])
    spec = charts.top_level(
        {"datasets": datasets, "width": width, "height": height, "layer": layers},
        title=title,
        description=f"{title}: {quantity.label} counted by the cost model against n on log-log "
        f"axes, d = {d}, r = {num_features}, C = {num_clusters}; " + "; ".join(described) + ".",
    )
    spec["title"] = {"text": title, "subtitle": f"d = {d}, r = {num_features}, C = {num_clusters}"}
    return spec


def error_chart(
    sweep: ErrorSweep,
    measure: ErrorMeasure,
    *,
    chosen: int,
    title: str,
    linear_error: float | None = None,
    width: int = 360,
    height: int = 220,
) -> charts.Spec:
    """An approximation's error against ``r`` or ``C``: the mean over seeds and a band.

    The band runs from ``mean - sd`` (not below 0) to ``mean + sd``, with
    ``sd`` the sample standard deviation over the sweep's seeds. A dashed
    rule marks the chosen setting and a diamond the error at the sweep's first
    seed there (the page's seed). Linear attention has no such setting: its
    error, if given, is a horizontal dashed line in its own colour. Settings
    whose error is not finite (a row the approximation rules out) are left out.

    Args:
        sweep: :func:`~lab.cost_of_attention.accuracy.feature_sweep` or
            :func:`~lab.cost_of_attention.accuracy.cluster_sweep`.
        measure: which error to draw.
        chosen: the setting to mark (``C`` beyond the sweep's largest counts as the largest).
        title: the chart title.
        linear_error: linear attention's error in the same measure.
        width, height: pixels of the plot.
    """
    samples = measure.samples(sweep)  # (K, T)
    values = [int(value) for value in sweep.values]
    finite = np.isfinite(samples).all(axis=1)
    # Settings with an infinite error are dropped before any arithmetic touches them.
    usable = np.where(finite[:, None], samples, 0.0)
    mean = usable.mean(axis=1)
    spread = usable.std(axis=1, ddof=1) if samples.shape[1] > 1 else np.zeros(len(values))
    color = method_color(sweep.method)
    symbol = sweep.parameter
    rows = [
        {
            "setting": value,
            "mean": float(mean[index]),
            "low": float(max(mean[index] - spread[index], 0.0)),
            "high": float(mean[index] + spread[index]),
            "text": f"{mean[index]:.3f} ± {spread[index]:.3f}",
        }
        for index, value in enumerate(values)
        if finite[index]
    ]
    if not rows:
        raise ValueError(f"every {measure.label} of this sweep is infinite; nothing to draw")
    target = min(check_int(symbol, chosen, minimum=1), values[-1])
    x = {
        "field": "setting",
        "type": "quantitative",
        "scale": {"type": "log", "base": 2, "domain": [values[0], values[-1]]},
        "axis": {"values": values, "format": "d", "title": f"{symbol} (log scale)"},
    }
    y = {"field": "mean", "type": "quantitative", "axis": {"title": measure.axis_title}}
    datasets: dict[str, list[dict[str, Any]]] = {"sweep": rows}
    layers: list[dict[str, Any]] = [
        {
            "data": {"name": "sweep"},
            "mark": {"type": "area", "color": color, "opacity": 0.2, "aria": False},
            "encoding": {"x": x, "y": {**y, "field": "low"}, "y2": {"field": "high"}},
        },
        {
            "data": {"name": "sweep"},
            "mark": {
                "type": "line",
                "color": color,
                "point": {"filled": True, "size": 35, "color": color},
            },
            "encoding": {
                "x": x,
                "y": y,
                "tooltip": [
                    {"field": "setting", "type": "quantitative", "title": symbol},
                    {"field": "text", "type": "nominal", "title": f"mean ± sd, {measure.label}"},
                ],
            },
        },
    ]
    described = [f"the setting {symbol} = {target} is marked"]
    if target in values and finite[values.index(target)]:
        mine = float(samples[values.index(target), 0])
        datasets["chosen"] = [
            {"setting": target, "mean": mine, "text": f"{mine:.4f}", "seed": int(sweep.seeds[0])}
        ]
        layers += [
            {
                "data": {"name": "chosen"},
                "mark": {"type": "rule", "color": charts.FAINT, "strokeDash": DASH, "aria": False},
                "encoding": {"x": x},
            },
            {
                "data": {"name": "chosen"},
                "mark": {
                    "type": "point",
                    "shape": "diamond",
                    "filled": True,
                    "size": 120,
                    "color": color,
                    "stroke": "white",
                },
                "encoding": {
                    "x": x,
                    "y": y,
                    "tooltip": [
                        {"field": "setting", "type": "quantitative", "title": symbol},
                        {"field": "seed", "type": "quantitative", "title": "seed"},
                        {"field": "text", "type": "nominal", "title": measure.label},
                    ],
                },
            },
        ]
        described[0] = f"at {symbol} = {target} the page's seed gives {mine:.3f}"
    if linear_error is not None and np.isfinite(linear_error):
        datasets["linear"] = [{"mean": float(linear_error)}]
        line_color = method_color(Method.LINEAR)
        layers += [
            {
                "data": {"name": "linear"},
                "mark": {"type": "rule", "color": line_color, "strokeDash": DASH, "aria": False},
                "encoding": {"y": y},
            },
            {
                "data": {"name": "linear"},
                "mark": {
                    "type": "text",
                    "text": f"linear attention: {linear_error:.3f}",
                    "align": "right",
                    "baseline": "bottom",
                    "dy": -3,
                    "x": width,
                    "color": charts.INK,
                    "fontSize": 11,
                    "aria": False,
                },
                "encoding": {"y": y},
            },
        ]
        described.append(f"linear attention's error, {linear_error:.3f}, is a dashed line")
    return charts.top_level(
        {"datasets": datasets, "width": width, "height": height, "layer": layers},
        title=title,
        description=f"{title}: {SHORT_NAMES[sweep.method]}'s {measure.label} against {symbol}, "
        f"the mean over {len(sweep.seeds)} seeds with a band of one standard deviation; "
        + "; ".join(described)
        + ".",
    )


def method_heatmap(
    result: ApproximationResult,
    labels: Sequence[str],
    *,
    setting: str,
    domain: tuple[float, float],
    legend: bool = True,
    max_width: int | None = None,
) -> charts.Spec:
    """One method's weights (queries down, keys across), titled with its errors.

    Args:
        result: one entry of :func:`~lab.cost_of_attention.accuracy.compare_methods`.
        labels: ``n`` position labels, for both axes.
        setting: what the title adds after the method's name, e.g. ``"r = 64"`` (or "").
        domain: the colour scale, shared by every heatmap shown beside this one.
        legend: draw the colour legend.
        max_width: pixels the cells may take.
    """
    name = SHORT_NAMES[result.method] + (f", {setting}" if setting else "")
    if result.method is Method.EXACT:
        subtitle = "the reference: softmax(QKᵀ/√d)"
    else:
        subtitle = f"output error {result.output_error:.3f} · KL {result.mean_kl:.3f} nats"
    spec = charts.weights_heatmap(
        result.weights,
        list(labels),
        list(labels),
        title=name,
        domain=domain,
        legend=legend,
        show_values=False,
        max_width=max_width,
    )
    spec["title"] = {"text": name, "subtitle": subtitle}
    spec["description"] = f"{spec['description']} {subtitle}."
    return spec
