"""Fixtures of the cost-of-attention tests: the shipped measurements, whole and cut short."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lab.cost_of_attention import Measurements, load_measurements


@pytest.fixture(scope="session")
def figures() -> Measurements:
    """The shipped measurements (frozen, so every test may share them)."""
    return load_measurements()


@pytest.fixture(scope="session")
def one_size(figures: Measurements) -> Measurements:
    """The shipped measurements cut to their first size, as a run the time budget stopped early."""
    return replace(
        figures,
        n_values=figures.n_values[:1],
        series=tuple(
            replace(series, seconds=series.seconds[:1], peak_bytes=series.peak_bytes[:1])
            for series in figures.series
        ),
    )
