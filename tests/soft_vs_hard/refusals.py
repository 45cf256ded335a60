"""Asserting an error message in full, not a fragment of it."""

from __future__ import annotations

import re

import pytest


def refuses(message: str, error: type[Exception] = ValueError):
    """``pytest.raises`` that passes only when the message is exactly ``message``."""
    return pytest.raises(error, match=f"^{re.escape(message)}$")
