"""What the kernel-regression tests share: the page's slider and an exact error-message check."""

from __future__ import annotations

import re

import pytest

from lab.kernel_regression import bandwidth_grid

GRID = tuple(float(f"{h:.6g}") for h in bandwidth_grid())  # the page's bandwidth slider


def exactly(message: str):
    """``pytest.raises`` for a ``ValueError`` with exactly this message."""
    return pytest.raises(ValueError, match=f"^{re.escape(message)}$")
