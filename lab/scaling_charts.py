"""Altair charts of the "why scale by sqrt(d)" demo: pure functions, tested on their specs.

Unscaled is always drawn in the accent colour and scaled in the primary colour
(the colours of :mod:`lab.charts`), so every chart on the page reads the same.
Sweeps over ``d`` put ``d`` on a base-2 log axis with a tick per power of two.

Shapes:
    N   samples in a histogram
    D   dimensions in a sweep
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from lab.legacy_charts import ACCENT, PRIMARY
from lab.scaling import (
    D_VALUES,
    MODES,
    FloatArray,
    density_histogram,
    normal_density,
)

MODE_COLORS = {"unscaled": ACCENT, "scaled": PRIMARY}
MODE_TITLES = {"unscaled": "unscaled  q·k", "scaled": "scaled  q·k / √d"}
REFERENCE_COLOR = "#6b6b6b"  # theory and reference lines
SWEEP_WIDTH = 330  # pixels; two sweep charts sit side by side
SWEEP_HEIGHT = 300  # Streamlit fits title, legend and axes inside this height


def _check_modes(modes: Sequence[str]) -> list[str]:
    chosen = [mode for mode in MODES if mode in modes]
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown or not chosen:
        raise ValueError(f"modes must be a non-empty subset of {list(MODES)}, got {list(modes)}")
    return chosen


def _check_columns(table: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise ValueError(f"the table has no column {missing}; it has {list(table.columns)}")


def mode_color(modes: Sequence[str]) -> alt.Color:
    """The colour channel shared by every sweep: one fixed colour per mode."""
    chosen = _check_modes(modes)
    return alt.Color(
        "mode:N",
        title=None,
        scale=alt.Scale(domain=chosen, range=[MODE_COLORS[mode] for mode in chosen]),
        legend=alt.Legend(
            orient="top", labelExpr=_mode_labels_expr(), symbolOpacity=1, symbolType="circle"
        ),
    )


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


def _mode_labels_expr() -> str:
    return f"datum.value == 'unscaled' ? '{MODE_TITLES['unscaled']}' : '{MODE_TITLES['scaled']}'"


def d_axis_x(title: str = "dimension d  (log scale)") -> alt.X:
    """``d`` on a base-2 log axis with a labelled tick at every power of two."""
    return alt.X(
        "d:Q",
        title=title,
        scale=alt.Scale(type="log", base=2, domain=[D_VALUES[0], D_VALUES[-1]], nice=False),
        axis=alt.Axis(values=list(D_VALUES), format="d", grid=False, labelFlush=True),
    )


def score_histogram(
    samples: FloatArray,
    *,
    theory_variance: float,
    domain: tuple[float, float],
    title: str,
    color: str,
    x_title: str,
    bins: int = 40,
    curve_points: int = 161,
    width: int = 330,
    height: int = 240,
) -> alt.LayerChart:
    """A density histogram of ``N`` scores with the normal curve ``N(0, theory_variance)``.

    The bins cover ``±4.5`` theoretical standard deviations (or the part of it
    inside ``domain``), so a narrow distribution keeps its resolution when the
    x axis is shared with a wide one.

    Args:
        samples: ``(N,)`` scores.
        theory_variance: variance of the normal curve drawn over the bars.
        domain: the x axis range, e.g. the same for the unscaled and scaled charts.
        title: chart title.
        color: bar colour.
        x_title: x axis title.
    """
    low, high = (float(edge) for edge in domain)
    spread = 4.5 * float(np.sqrt(theory_variance))
    bin_range = (max(low, -spread), min(high, spread))
    if bin_range[0] >= bin_range[1]:
        bin_range = (low, high)
    bars_frame = density_histogram(samples, bin_range, bins)
    bars_frame["range"] = [
        f"{start:.3g} to {end:.3g}"
        for start, end in zip(bars_frame["start"], bars_frame["end"], strict=True)
    ]
    curve_x = np.linspace(low, high, curve_points)
    curve_frame = pd.DataFrame({"x": curve_x, "density": normal_density(curve_x, theory_variance)})
    x_scale = alt.Scale(domain=[low, high], nice=False)
    bars = (
        alt.Chart(bars_frame)
        .mark_rect(color=color, opacity=0.75)
        .encode(
            x=alt.X("start:Q", title=x_title, scale=x_scale),
            x2=alt.X2("end:Q"),
            y=alt.Y("density:Q", title="density"),
            y2=alt.datum(0),
            tooltip=[
                alt.Tooltip("range:N", title="scores from"),
                alt.Tooltip("count:Q", title="pairs"),
                alt.Tooltip("density:Q", title="density", format=".4f"),
            ],
        )
    )
    curve = (
        alt.Chart(curve_frame)
        .mark_line(color=REFERENCE_COLOR, strokeWidth=2, strokeDash=[5, 3])
        .encode(x=alt.X("x:Q", scale=x_scale), y=alt.Y("density:Q"))
    )
    return alt.layer(bars, curve).properties(title=title, width=width, height=height)


def variance_chart(
    table: pd.DataFrame,
    *,
    modes: Sequence[str] = MODES,
    width: int = 420,
    height: int = 300,
) -> alt.LayerChart:
    """Empirical variance of the scores against ``d`` (log-log), with the theory lines.

    Args:
        table: :func:`lab.scaling.variance_table`: ``d``, ``mode``, ``empirical``,
            ``theory``, ``standard_error``, ``low``, ``high``.
        modes: which of ``"unscaled"`` / ``"scaled"`` to draw.
    """
    _check_columns(table, ["d", "mode", "empirical", "theory", "low", "high"])
    chosen = _check_modes(modes)
    frame = table[table["mode"].isin(chosen)].copy()
    frame["line"] = np.where(frame["mode"] == "unscaled", "theory: d·σ⁴", "theory: σ⁴")
    color = mode_color(chosen)
    x = d_axis_x()
    y_scale = alt.Scale(type="log")
    y_ticks = decade_ticks(np.concatenate([frame["theory"], frame["low"], frame["high"]]))
    tooltip = [
        alt.Tooltip("d:Q", title="d"),
        alt.Tooltip("mode:N"),
        alt.Tooltip("empirical:Q", format=".4g", title="sample variance"),
        alt.Tooltip("theory:Q", format=".4g"),
        alt.Tooltip("standard_error:Q", format=".2g", title="± 1 standard error"),
    ]
    base = alt.Chart().encode(x=x, color=color)
    theory = base.mark_line(strokeDash=[6, 4], strokeWidth=1.5, opacity=0.8).encode(
        y=alt.Y(
            "theory:Q",
            scale=y_scale,
            title="variance of the scores  (log scale)",
            axis=alt.Axis(values=y_ticks, format="~g"),
        ),
        detail="line:N",
    )
    error_bars = base.mark_rule(strokeWidth=2).encode(y=alt.Y("low:Q"), y2=alt.Y2("high:Q"))
    points = base.mark_point(filled=True, size=55, opacity=1).encode(
        y=alt.Y("empirical:Q"), tooltip=tooltip
    )
    labels = (
        alt.Chart()
        .transform_filter(f"datum.d == {D_VALUES[-1]}")
        .mark_text(align="right", dx=-6, dy=-9, fontSize=11)
        .encode(x=x, y=alt.Y("theory:Q"), text=alt.Text("line:N"), color=color)
    )
    layers: list[alt.Chart] = [theory, error_bars, points, labels]
    return alt.layer(*layers, data=frame).properties(width=width, height=height)


def with_d_marker(spec: dict, d: int) -> dict:
    """A copy of a layered sweep chart's spec with a dotted vertical rule at ``d``.

    The sweep charts do not depend on the ``d`` the learner picks, so a page
    can build (and cache) their spec once and add the marker to a copy on each
    rerun, which costs nothing, instead of rebuilding the chart.
    """
    if "layer" not in spec:
        raise ValueError("with_d_marker expects the spec of a layered chart (a 'layer' key)")
    marker = {
        "data": {"values": [{"d": int(d)}]},
        "mark": {"type": "rule", "color": "#9a9a9a", "strokeDash": [2, 2]},
        "encoding": {"x": {"field": "d", "type": "quantitative"}},
    }
    return {**spec, "layer": [*spec["layer"], marker]}


def sweep_chart(
    table: pd.DataFrame,
    column: str,
    *,
    title: str,
    y_title: str,
    references: Sequence[tuple[str, float]] = (),
    modes: Sequence[str] = MODES,
    band: tuple[str, str] | None = None,
    log_y: bool = False,
    y_domain: tuple[float, float] | None = None,
    floor: float | None = None,
    value_format: str = ".3f",
    width: int = SWEEP_WIDTH,
    height: int = SWEEP_HEIGHT,
) -> alt.LayerChart:
    """One statistic against ``d``, one coloured line per mode, with reference lines.

    Args:
        table: one row per ``(d, mode)``, e.g. :func:`lab.scaling.sharpness_table`.
        column: the statistic to draw on y.
        title: chart title.
        y_title: y axis title.
        references: ``(label, value)`` horizontal dashed lines, e.g.
            ``("uniform: log n", 2.77)``.
        modes: which modes to draw.
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
    frame = table.loc[table["mode"].isin(chosen), needed]
    # Columns named "value", "low", "high" whatever the statistic, plus "*_drawn" copies
    # clipped at the floor (a log axis cannot draw 0; the tooltip keeps the exact value).
    data = {"d": frame["d"].to_numpy(), "mode": frame["mode"].to_numpy()}
    for name, source in zip(("value", "low", "high"), (column, *(band or ())), strict=False):
        values = frame[source].to_numpy(dtype=float)
        data[name] = values
        data[f"{name}_drawn"] = values if floor is None else np.maximum(values, floor)
    drawn = pd.DataFrame(data)
    axis = alt.Axis()
    if log_y:
        drawn_values = [drawn[name] for name in drawn.columns if name.endswith("_drawn")]
        reference_values = [max(value, floor or 0.0) for _, value in references]
        ticks = decade_ticks(np.concatenate([*drawn_values, reference_values]))
        axis = alt.Axis(values=ticks, format=".0e")
        # Whole decades at both ends, so no line runs along the top or bottom edge.
        y_domain = y_domain or (ticks[0], ticks[-1])
    scale = alt.Scale(
        type="log" if log_y else "linear",
        domain=list(y_domain) if y_domain else alt.Undefined,
        nice=not log_y,
    )
    color = mode_color(chosen)
    x = d_axis_x()
    tooltip = [
        alt.Tooltip("d:Q", title="d"),
        alt.Tooltip("mode:N"),
        alt.Tooltip("value:Q", title=y_title, format=value_format),
    ]
    if band:
        tooltip += [
            alt.Tooltip("low:Q", title="10th percentile", format=value_format),
            alt.Tooltip("high:Q", title="90th percentile", format=value_format),
        ]
    base = alt.Chart().encode(x=x, color=color)
    layers: list[alt.Chart] = []
    if band:
        layers.append(
            base.mark_area(opacity=0.15).encode(
                y=alt.Y("low_drawn:Q", scale=scale, title=y_title, axis=axis),
                y2=alt.Y2("high_drawn:Q"),
            )
        )
    layers.append(
        base.mark_line(strokeWidth=2.5, point=alt.OverlayMarkDef(filled=True, size=45)).encode(
            y=alt.Y("value_drawn:Q", title=y_title, scale=scale, axis=axis), tooltip=tooltip
        )
    )
    if references:
        lines = pd.DataFrame(
            {
                "label": [label for label, _ in references],
                "value": [
                    max(value, floor) if floor is not None else value for _, value in references
                ],
            }
        )
        rules = alt.Chart(lines).encode(y=alt.Y("value:Q", scale=scale))
        layers.append(rules.mark_rule(color=REFERENCE_COLOR, strokeDash=[5, 4], strokeWidth=1.5))
        layers.append(
            rules.mark_text(
                align="left", baseline="bottom", dx=4, dy=-3, fontSize=11, color=REFERENCE_COLOR
            ).encode(x=alt.datum(D_VALUES[0]), text=alt.Text("label:N"))
        )
    return alt.layer(*layers, data=drawn).properties(title=title, width=width, height=height)


def jacobian_limits() -> tuple[float, float]:
    """Every entry of a softmax Jacobian lies in ``[-1/4, 1/4]``: ``w(1 - w) <= 1/4``."""
    return (-0.25, 0.25)
