"""The items one query looks at on the soft-vs-hard page: 2-D keys and 2-D values.

Keys and values are points of the plane so both can be drawn: a key's score is
its dot product with the query arrow, and an output is a point among the values.
The page starts from a preset and lets a learner edit the items in a table;
:func:`scene_from_table` turns the edited rows back into a :class:`Scene`, or
says in a sentence which cell to fix.

Shapes:
    S   items (each has one key and one value)
    d   query/key size (2 here)
    Ev  value size (2 here)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike

from lab.attention import FloatArray

MIN_ITEMS = 2  # fewer items leave nothing to choose between
MAX_ITEMS = 8  # more items stop being readable as labelled points and bars
MAX_COORDINATE = 10.0  # keys and values typed by a learner must stay within ±10
MAX_NAME = 12  # characters of an item name kept from the table
TABLE_COLUMNS = ("item", "key x", "key y", "value x", "value y")  # the page's editable table

SceneKey = tuple[tuple[str, ...], tuple[tuple[float, float], ...], tuple[tuple[float, float], ...]]


@dataclass(frozen=True)
class Scene:
    """Items a query can look at, each with a 2-D key and a 2-D value.

    Attributes:
        names: ``S`` item names (repeats allowed; charts key items by position).
        keys: ``(S, 2)``.
        value_points: ``(S, 2)`` the values, as points of the plane.
    """

    names: tuple[str, ...]
    keys: FloatArray
    value_points: FloatArray

    @property
    def size(self) -> int:
        """``S``, the number of items."""
        return len(self.names)

    @property
    def key(self) -> SceneKey:
        """The scene as plain tuples: a cache key that :func:`scene_from_key` turns back."""
        return (
            self.names,
            tuple((float(x), float(y)) for x, y in self.keys),
            tuple((float(x), float(y)) for x, y in self.value_points),
        )


def make_scene(
    names: Sequence[str], keys: ArrayLike, values: ArrayLike, *, max_items: int = MAX_ITEMS
) -> Scene:
    """Check and build a :class:`Scene` (what the page's item table feeds).

    Raises:
        ValueError: with a sentence a learner can act on, for too few or too
            many items, missing or non-numeric coordinates, or coordinates
            beyond ``±MAX_COORDINATE``.
    """
    labels = tuple(str(name).strip() or f"item {index}" for index, name in enumerate(names))
    try:
        key_points = np.array(keys, dtype=np.float64)
        value_points = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("every key and value coordinate must be a number") from None
    if len(labels) < MIN_ITEMS:
        raise ValueError(f"attention needs at least {MIN_ITEMS} items to choose from")
    if len(labels) > max_items:
        raise ValueError(f"this demo shows at most {max_items} items, got {len(labels)}")
    for name, array in (("keys", key_points), ("values", value_points)):
        if array.shape != (len(labels), 2):
            raise ValueError(f"{name} must have shape ({len(labels)}, 2), got {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError(f"some {name} are missing or not numbers; fill every cell")
        if (np.abs(array) > MAX_COORDINATE).any():
            raise ValueError(f"{name} must lie within ±{MAX_COORDINATE:g}")
    return Scene(labels, key_points, value_points)


def scene_from_key(key: SceneKey) -> Scene:
    """The :class:`Scene` whose :attr:`Scene.key` is ``key``."""
    names, keys, values = key
    return make_scene(names, keys, values)


def _on_circle(radius: float, count: int) -> list[list[float]]:
    """``count`` points evenly round a circle, the first on the positive x axis."""
    angles = [2 * math.pi * index / count for index in range(count)]
    return [[radius * math.cos(angle), radius * math.sin(angle)] for angle in angles]


class Preset(StrEnum):
    """The scenes a learner can start from; the value is the label the page shows."""

    FOUR = "Four items"
    TRIANGLE = "Triangle with a middle item"
    TWINS = "Two near-twin keys"
    CIRCLE = "Six around a circle"

    @property
    def scene(self) -> Scene:
        """The preset's items."""
        return _PRESET_SCENES[self]


_PRESET_SCENES: dict[Preset, Scene] = {
    Preset.FOUR: make_scene(
        ["A", "B", "C", "D"],
        [[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]],
        [[3.0, 0.5], [1.0, 3.0], [-2.5, 1.5], [-0.5, -2.0]],
    ),
    Preset.TRIANGLE: make_scene(
        ["A", "B", "C", "M"],
        [[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7], [0.0, 0.0]],
        [[3.0, 0.0], [-1.5, 2.6], [-1.5, -2.6], [0.2, 0.1]],
    ),
    # A and A′ point 0.2 either side of the x axis: at θ = 0° their scores tie.
    Preset.TWINS: make_scene(
        ["A", "A′", "B"],
        [[2.0, 0.2], [2.0, -0.2], [-2.0, 0.0]],
        [[-2.0, 2.0], [2.0, 2.0], [0.0, -2.0]],
    ),
    Preset.CIRCLE: make_scene(
        ["0°", "60°", "120°", "180°", "240°", "300°"], _on_circle(2.0, 6), _on_circle(3.0, 6)
    ),
}


def scene_table(scene: Scene) -> dict[str, list]:
    """A scene as the columns of the page's item table (:data:`TABLE_COLUMNS`)."""
    return {
        "item": list(scene.names),
        "key x": scene.keys[:, 0].tolist(),
        "key y": scene.keys[:, 1].tolist(),
        "value x": scene.value_points[:, 0].tolist(),
        "value y": scene.value_points[:, 1].tolist(),
    }


def scene_from_table(rows: Sequence[Mapping[str, object]]) -> Scene:
    """Build a :class:`Scene` from table rows a learner edited.

    Rows whose every cell is empty (a row added and left blank) are dropped.
    Missing names become ``"item <n>"``; names are cut to ``MAX_NAME`` characters.

    Args:
        rows: mappings with the keys of :data:`TABLE_COLUMNS`.

    Raises:
        ValueError: a sentence saying which row and column to fix.
    """
    names: list[str] = []
    coordinates: list[list[float]] = []
    for number, row in enumerate(rows, start=1):
        cells = [row.get(column) for column in TABLE_COLUMNS]
        if all(_blank(cell) for cell in cells):
            continue
        numbers = []
        for column, cell in zip(TABLE_COLUMNS[1:], cells[1:], strict=True):
            if _blank(cell):
                raise ValueError(f"row {number} has no number in '{column}'; fill it in")
            try:
                numbers.append(float(cell))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ValueError(
                    f"row {number}: '{column}' must be a number, got {cell!r}"
                ) from None
        name = "" if _blank(cells[0]) else str(cells[0]).strip()
        names.append(name[:MAX_NAME] or f"item {len(names)}")
        coordinates.append(numbers)
    if not names:
        raise ValueError("the table is empty; add at least two items")
    points = np.asarray(coordinates)  # (S, 4): key x, key y, value x, value y
    return make_scene(names, points[:, :2], points[:, 2:])


def _blank(cell: object) -> bool:
    """An empty table cell: None, NaN, pandas' NA, or only spaces."""
    if cell is None:
        return True
    if isinstance(cell, str):
        return not cell.strip()
    try:
        return bool(cell != cell)  # NaN (and pandas' NA) differ from themselves
    except TypeError:
        return True  # pandas.NA refuses to become a bool: it is a missing cell
