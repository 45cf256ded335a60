"""app.charts: datasets go to the browser as Arrow bytes, built once per distinct input."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from app.charts import serialise
from lab import charts


def test_serialise_turns_each_dataset_into_arrow_bytes():
    spec = charts.stacked_contributions(np.array([[0.1, -0.2], [0.3, 0.4]]), ["a", "b"])
    sent = serialise(spec)
    assert set(sent["datasets"]) == {"segments", "totals"}
    table = pa.ipc.open_stream(sent["datasets"]["totals"]).read_all()
    assert table.column("total").to_pylist() == [row["total"] for row in spec["datasets"]["totals"]]
    assert isinstance(spec["datasets"]["totals"], list)  # the builder's spec is left alone
    assert {key: value for key, value in sent.items() if key != "datasets"} == {
        key: value for key, value in spec.items() if key != "datasets"
    }


def _page():
    import numpy as np
    import streamlit as st

    from app.charts import draw
    from lab import charts

    calls = st.session_state.setdefault("calls", [])

    def counted(matrix, labels):
        calls.append(1)
        return charts.weights_heatmap(matrix, labels, labels)

    counted.__qualname__ = "counted_for_test"
    size = st.number_input("size", 1, 5, 2, key="size")
    draw(counted, np.eye(size), [str(i) for i in range(size)])


def test_draw_builds_a_spec_once_per_distinct_input():
    app = AppTest.from_function(_page).run()
    assert not app.exception
    assert len(app.session_state["calls"]) == 1
    app.run()  # same input: served from the cache
    assert len(app.session_state["calls"]) == 1
    app.number_input(key="size").set_value(3).run()
    assert len(app.session_state["calls"]) == 2
    assert len(app.get("vega_lite_chart")) == 1
