"""Small helpers the multi-head tests share."""

from __future__ import annotations

import re


def exactly(message: str) -> str:
    """A ``pytest.raises`` pattern that matches ``message`` in full and nothing else."""
    return f"^{re.escape(message)}$"
