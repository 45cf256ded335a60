"""Fixtures of the multi-head tests."""

from __future__ import annotations

import pytest

from lab.multi_head import TrainedModel, load_checkpoint


@pytest.fixture(scope="module")
def shipped() -> TrainedModel:
    """The trained tiny transformer shipped with the lab (loaded once per test module)."""
    return load_checkpoint()
