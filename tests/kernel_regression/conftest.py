"""Fixtures of the kernel-regression tests."""

from __future__ import annotations

import pytest

from lab import kernel_regression as kr


@pytest.fixture(scope="session")
def default_data() -> kr.RegressionData:
    """The page's default data: the textbook function, 50 points, σ = 0.5, seed 0."""
    return kr.make_data()
