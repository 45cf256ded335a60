"""The order-and-position chart builders: valid Vega-Lite with the data the page means."""

from __future__ import annotations

import numpy as np
import pytest

from lab.position import similarity_by_offset, sinusoidal_positions
from lab.position.charts import MAX_CURVES, encoding_curves, offset_profile
from tests.vega import assert_valid, dataset


def test_encoding_curves_hold_the_chosen_columns_in_order():
    encoding = sinusoidal_positions(10, 8)
    spec = encoding_curves(encoding, [0, 1, 6], title="curves")
    assert_valid(spec)
    rows = dataset(spec)
    assert len(rows) == 30
    dim6 = [row["value"] for row in rows if row["dimension"] == "dim 6 (sin)"]
    np.testing.assert_allclose(dim6, encoding[:, 6])
    assert spec["encoding"]["color"]["scale"]["domain"] == [
        "dim 0 (sin)",
        "dim 1 (cos)",
        "dim 6 (sin)",
    ]
    assert spec["encoding"]["y"]["scale"] == {"domain": [-1, 1]}


def test_encoding_curves_refuse_bad_choices():
    encoding = sinusoidal_positions(4, 4)
    with pytest.raises(ValueError, match=r"^dimension must be at most 3, got 4$"):
        encoding_curves(encoding, [4], title="x")
    with pytest.raises(ValueError, match=rf"^choose 1 to {MAX_CURVES} dimensions, got 0$"):
        encoding_curves(encoding, [], title="x")


def test_offset_profile_draws_the_mean_and_the_spread_of_each_diagonal():
    profile = similarity_by_offset(6, 4)
    spec = offset_profile(profile, title="by offset", value_title="similarity")
    assert_valid(spec)
    rows = dataset(spec)
    assert [row["offset"] for row in rows] == list(range(-5, 6))
    np.testing.assert_allclose([row["value"] for row in rows], profile.values)
    np.testing.assert_allclose(
        [row["high"] - row["low"] for row in rows], profile.spread, atol=1e-15
    )
    band, line = spec["layer"]
    assert band["mark"]["aria"] is False and line["mark"]["type"] == "line"
