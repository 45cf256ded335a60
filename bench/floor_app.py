"""The floor app: the least a Streamlit page can do for a slider move.

One slider and one 6 × 6 heatmap drawn from a cached Vega-Lite dict. The
benchmarks run it beside the lab (`streamlit run bench/floor_app.py`) and
report the lab's times as ratios to it, so the machine's own speed and the
browser's drawing cost cancel out.

The heatmap is a softmax over six keys for six queries, with the slider as
the temperature: every move changes every cell, so the pixels always change.
"""

from __future__ import annotations

import math

import streamlit as st

SIZE = 6  # queries = keys = 6: 36 cells


@st.cache_data(max_entries=256)
def heatmap_spec(temperature: float) -> dict:
    """A plain Vega-Lite heatmap of softmax(scores / temperature), built once per value."""
    cells = []
    for query in range(SIZE):
        # Scores peak on the diagonal: -|query - key|.
        logits = [-abs(query - key) / temperature for key in range(SIZE)]
        top = max(logits)
        weights = [math.exp(logit - top) for logit in logits]
        total = sum(weights)
        cells.extend(
            {"query": f"q{query}", "key": f"k{key}", "weight": round(weight / total, 4)}
            for key, weight in enumerate(weights)
        )
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": cells},
        "mark": "rect",
        "width": 240,
        "height": 240,
        "encoding": {
            "x": {"field": "key", "type": "nominal", "title": "key"},
            "y": {"field": "query", "type": "nominal", "title": "query"},
            "color": {
                "field": "weight",
                "type": "quantitative",
                "scale": {"scheme": "viridis", "domain": [0, 1]},
            },
            "tooltip": [{"field": "query"}, {"field": "key"}, {"field": "weight"}],
        },
    }


st.title("Floor app")
temperature = st.slider("Temperature", 0.1, 5.0, 1.0, 0.1, key="floor_temperature")
st.vega_lite_chart(heatmap_spec(temperature), width="content")
