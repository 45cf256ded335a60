"""The one way a page draws a chart: built from its inputs once, serialised once, shared.

``draw(builder, *args, **kwargs)`` calls a ``lab`` chart builder (a pure
function that returns a Vega-Lite dict), turns each of the spec's datasets
into Arrow bytes (what Streamlit sends to the browser), and keeps the result
in ``st.cache_data`` keyed by the builder and its arguments. The cache is
shared by every session of the server, so in a room of thirty the first
participant to reach a view pays for it and the others get it for the price
of a dictionary lookup. On a rerun where a chart's inputs did not change,
Streamlit sends the same spec and the browser keeps the drawn chart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pyarrow as pa
import streamlit as st
from streamlit.dataframe_util import convert_arrow_table_to_arrow_bytes

from lab.charts import Spec

CACHED_CHARTS = 2048  # specs kept across sessions; a spec with its data is a few KB


def serialise(spec: Spec) -> Spec:
    """A copy of ``spec`` whose datasets are Arrow IPC bytes, as Streamlit sends them.

    Streamlit passes bytes through untouched; a list of records would be
    converted (through pandas) on every rerun.
    """
    datasets = spec.get("datasets")
    if not datasets:
        return dict(spec)
    return {
        **spec,
        "datasets": {
            name: convert_arrow_table_to_arrow_bytes(pa.Table.from_pylist(records))
            for name, records in datasets.items()
        },
    }


@st.cache_data(max_entries=CACHED_CHARTS, show_spinner=False)
def _built(name: str, _builder: Callable[..., Spec], args: tuple, kwargs: dict) -> Spec:
    # ``name`` keys the cache; the builder itself (leading underscore) is not hashed.
    return serialise(_builder(*args, **kwargs))


def draw(
    builder: Callable[..., Spec],
    /,
    *args: Any,
    width: Literal["content", "stretch"] = "content",
    **kwargs: Any,
) -> None:
    """Draw ``builder(*args, **kwargs)``, cached by the builder's name and its arguments.

    Args:
        builder: a ``lab`` chart builder returning a Vega-Lite dict.
        args, kwargs: its arguments; numpy arrays, tuples, strings, numbers,
            enums and frozen dataclasses all make good cache keys.
        width: "content" keeps the builder's own size (most charts are sized
            per cell); "stretch" fills the column.
    """
    name = f"{builder.__module__}.{builder.__qualname__}"
    st.vega_lite_chart(_built(name, builder, args, kwargs), width=width)
