"""Asserting that a call is refused with an error message in full, not a fragment of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@contextmanager
def refuses(message: str, error: type[Exception] = ValueError) -> Iterator[None]:
    """The block raises ``error`` (or a subclass) whose message is exactly ``message``."""
    with pytest.raises(error) as raised:
        yield
    assert str(raised.value) == message


def assert_refuses(
    call: Callable[[], Any], message: str, error: type[Exception] = ValueError
) -> None:
    """``call()`` raises ``error`` (or a subclass) whose message is exactly ``message``.

    For tables of bad inputs: ``(lambda: f(bad), "what to fix")`` rows, one test that calls this.
    """
    with refuses(message, error):
        call()
