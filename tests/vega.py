"""Checks of Vega-Lite specs shared by the chart tests: schema validity and easy access to data."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema.core import load_schema


@cache
def _schema() -> dict[str, Any]:
    return load_schema()


def assert_valid(spec: dict[str, Any]) -> None:
    """The spec is plain JSON and valid against the Vega-Lite schema Altair ships."""
    text = json.dumps(spec, allow_nan=False)  # no numpy values, no NaN in the data
    validate_jsonschema(json.loads(text), _schema())


def dataset(spec: dict[str, Any], name: str | None = None) -> list[dict[str, Any]]:
    """One of the spec's datasets (the only one when ``name`` is not given)."""
    datasets = spec["datasets"]
    if name is None:
        assert len(datasets) == 1, list(datasets)
        return next(iter(datasets.values()))
    return datasets[name]
