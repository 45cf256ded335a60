"""Small helpers the multi-head tests share: an exact-message pattern and the first example."""

from __future__ import annotations

import re

from lab.multi_head import EXAMPLES, toy_tokens


def exactly(message: str) -> str:
    """A ``pytest.raises`` pattern that matches ``message`` in full and nothing else."""
    return f"^{re.escape(message)}$"


GIRL = toy_tokens(EXAMPLES[0]).tokens  # the girl sat on the mat because she was tired .
