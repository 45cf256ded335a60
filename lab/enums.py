"""Enums whose members carry the words a page shows for them.

A member is written ``NAME = value, label``: ``member.value`` is the value
alone (what an address, a JSON file and ``Kind(value)`` use) and
``member.label`` the text a page shows, so each label stands beside its
member instead of in a second table that lists every member again.

    class Scoring(LabelledEnum):
        ADDITIVE = "additive", "additive (MLP)"
        DOT = "dot", "scaled dot product"

    Scoring("dot").label  # "scaled dot product"
"""

from __future__ import annotations

import enum
from typing import TypeVar

Member = TypeVar("Member", bound=enum.Enum)


class LabelledEnum(enum.Enum):
    """An enum of ``NAME = value, label`` members, with ``.value`` and ``.label``."""

    label: str  # what a page shows for the member

    def __new__(cls, value: object, label: str) -> LabelledEnum:
        member = object.__new__(cls)
        member._value_ = value
        member.label = label
        return member


class LabelledStrEnum(enum.StrEnum):
    """A :class:`~enum.StrEnum` of ``NAME = value, label`` members: the member is its value."""

    label: str  # what a page shows for the member

    def __new__(cls, value: str, label: str) -> LabelledStrEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


def parse_member(kind: type[Member], value: object, name: str) -> Member:
    """``kind(value)``: the member of ``kind`` whose value (or which) ``value`` is.

    Raises:
        ValueError: ``"{name} must be one of a, b, c, got 'x'"``, listing the values.
    """
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(str(member.value) for member in kind)
        raise ValueError(f"{name} must be one of {names}, got {value!r}") from None
