"""Chart builders of the order-and-position page: plain Vega-Lite dicts, no Streamlit.

Heatmaps come from :mod:`lab.charts`; this module adds the two line charts
the page needs: a few encoding dimensions against position, and a matrix read
by offset (the mean of each diagonal, with how far the diagonal strays).

Shapes:
    L   positions
    d   encoding width
    O   offsets ``-(L - 1), ..., L - 1``
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from lab import charts
from lab.checks import as_real, check_int
from lab.position.compute import DiagonalProfile

CURVE_COLORS = ("#2f6db5", "#e8590c", "#2b8a3e", "#7b3fb5")  # blue, orange, green, purple
MAX_CURVES = len(CURVE_COLORS)  # more lines than this stop being readable


def encoding_curves(
    encoding: ArrayLike, dimensions: Sequence[int], *, title: str, width: int = 420
) -> charts.Spec:
    """Chosen columns of a positional encoding as lines against position.

    Args:
        encoding: ``(L, d)``.
        dimensions: up to ``MAX_CURVES`` column indices, each in ``[0, d)``.
        title: the chart title.
        width: pixels of the position axis.
    """
    values = as_real("encoding", encoding, ndim=2, finite=True, dtype=np.float64)
    length, width_d = values.shape
    chosen = [check_int("dimension", dim, minimum=0, maximum=width_d - 1) for dim in dimensions]
    if not 1 <= len(chosen) <= MAX_CURVES:
        raise ValueError(f"choose 1 to {MAX_CURVES} dimensions, got {len(chosen)}")
    positions = np.tile(np.arange(length), len(chosen))
    names = [f"dim {dim} ({'sin' if dim % 2 == 0 else 'cos'})" for dim in chosen]
    rows = charts.table(
        position=positions,
        value=values[:, chosen].T.ravel(),
        dimension=np.repeat(names, length),
    )
    return charts.top_level(
        {
            "datasets": {"curves": rows},
            "data": {"name": "curves"},
            "width": width,
            "height": 220,
            "mark": {"type": "line", "point": length <= 40, "strokeWidth": 2},
            "encoding": {
                "x": {"field": "position", "type": "quantitative", "title": "position p"},
                "y": {
                    "field": "value",
                    "type": "quantitative",
                    "title": "PE[p, dim]",
                    "scale": {"domain": [-1, 1]},
                },
                "color": {
                    "field": "dimension",
                    "type": "nominal",
                    "sort": names,
                    "scale": {"domain": names, "range": list(CURVE_COLORS[: len(names)])},
                    "legend": {"orient": "top", "title": None},
                },
                "tooltip": [
                    {"field": "dimension", "type": "nominal"},
                    {"field": "position", "type": "quantitative"},
                    {"field": "value", "type": "quantitative", "format": ".3f"},
                ],
            },
        },
        title=title,
        description=f"{title}: {len(names)} columns of the encoding against position 0 to "
        f"{length - 1}.",
    )


def offset_profile(
    profile: DiagonalProfile, *, title: str, value_title: str, width: int = 420
) -> charts.Spec:
    """A matrix read by offset: the mean of each diagonal, and its spread as a band.

    A matrix that depends on the offset only has a spread of 0 everywhere, so
    the band disappears into the line.
    """
    values = as_real("values", profile.values, ndim=1, finite=True, dtype=np.float64)
    spread = as_real("spread", profile.spread, ndim=1, finite=True, dtype=np.float64)
    rows = charts.table(
        offset=np.asarray(profile.offsets),
        value=values,
        low=values - spread / 2,
        high=values + spread / 2,
        spread=spread,
    )
    tooltip = [
        {"field": "offset", "type": "quantitative", "title": "offset m − n"},
        {"field": "value", "type": "quantitative", "format": ".4f", "title": value_title},
        {"field": "spread", "type": "quantitative", "format": ".1e", "title": "spread"},
    ]
    x = {"field": "offset", "type": "quantitative", "title": "offset m − n"}
    return charts.top_level(
        {
            "datasets": {"profile": rows},
            "data": {"name": "profile"},
            "width": width,
            "height": 220,
            "layer": [
                {
                    "mark": {"type": "area", "color": charts.FAINT, "opacity": 0.35, "aria": False},
                    "encoding": {
                        "x": x,
                        "y": {"field": "low", "type": "quantitative"},
                        "y2": {"field": "high"},
                    },
                },
                {
                    "mark": {"type": "line", "color": charts.PRIMARY, "point": True},
                    "encoding": {
                        "x": x,
                        "y": {"field": "value", "type": "quantitative", "title": value_title},
                        "tooltip": tooltip,
                    },
                },
            ],
        },
        title=title,
        description=f"{title}: the mean {value_title} on each diagonal of the matrix, "
        f"for offsets {int(profile.offsets[0])} to {int(profile.offsets[-1])}.",
    )
