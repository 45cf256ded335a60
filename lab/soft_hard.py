"""Soft, hard, sampled and Gumbel-softmax attention weights, and their geometry, in numpy.

One query looks at ``S`` items. Each item has a key (what it offers to be found
by) and a value (what it hands over). The same scores ``s_i = q · k_i / sqrt(E)``
become weights in four ways:

* soft: ``softmax(s / T)``, a distribution; the output ``sum_i w_i v_i`` is a point
  inside the convex hull of the values and moves smoothly with the query;
* hard: one-hot on ``argmax s``; the output is one of the values and jumps;
* sampled: one-hot on an index drawn from ``softmax(s / T)``; on average it
  equals the soft weights, one draw at a time it is hard;
* Gumbel-softmax: ``softmax((s / T + g) / tau)`` with Gumbel noise ``g``, a soft
  stand-in for a sample whose argmax *is* a sample (the Gumbel-max trick); the
  straight-through variant is one-hot in value.

Shapes:
    S   items (keys and values)
    E   key/query size (2 on the page, so keys can be drawn)
    Ev  value size (2 on the page, so values can be drawn)
    N   draws
    A   query angles of a sweep
    T   temperatures of a path

Every function returns new arrays; inputs are never modified in place.
The torch parts (autograd through the sweep, training) live in
``lab.hard_training`` so this module stays light.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from lab.attention import FloatArray, softmax

IntArray = np.ndarray

MIN_ITEMS = 2  # fewer items leave nothing to choose between
MAX_ITEMS = 8  # more items stop being readable as labelled points and bars
MAX_COORDINATE = 10.0  # keys and values typed by a learner must stay within ±10


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def _positive(name: str, value: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def _scores(scores: ArrayLike) -> FloatArray:
    """``scores`` as a float array with at least one axis; ``-inf`` allowed, NaN not."""
    array = np.asarray(scores)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"scores must hold numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if array.ndim == 0 or array.shape[-1] == 0:
        raise ValueError(f"scores need at least one item in their last axis, got {array.shape}")
    if np.isnan(array).any():
        raise ValueError("scores contain NaN; check the query, keys and temperature")
    if np.isposinf(array).any():
        raise ValueError("scores contain +inf; only -inf (meaning 'masked') is allowed")
    return array


def _count(name: str, value: int, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _vector(name: str, values: ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a vector, got shape {array.shape}")
    return array


# ---------------------------------------------------------------------------
# Four ways to turn scores into weights
# ---------------------------------------------------------------------------


def attention_scores(query: ArrayLike, keys: ArrayLike) -> FloatArray:
    """Scaled dot-product scores of one query against ``S`` keys.

    ``s_i = q · k_i / sqrt(E)``

    Args:
        query: ``(E,)``.
        keys: ``(S, E)``.

    Returns:
        ``(S,)`` scores.
    """
    q = _vector("query", query)
    k = np.asarray(keys, dtype=np.float64)
    if k.ndim != 2:
        raise ValueError(f"keys must be a matrix (S, E), got shape {k.shape}")
    if k.shape[1] != q.shape[0]:
        raise ValueError(f"query has size {q.shape[0]} but keys have size {k.shape[1]}")
    return k @ q / math.sqrt(q.shape[0])  # (S,)


def soft_weights(scores: ArrayLike, temperature: float = 1.0) -> FloatArray:
    """Soft attention: ``w = softmax(s / T)`` along the last axis.

    Args:
        scores: ``(..., S)``.
        temperature: ``T > 0``; small ``T`` approaches :func:`hard_weights`,
            large ``T`` approaches uniform weights.

    Returns:
        ``(..., S)`` non-negative weights summing to 1.
    """
    return softmax(_scores(scores), axis=-1, temperature=_positive("temperature", temperature))


def hard_weights(scores: ArrayLike) -> FloatArray:
    """Hard attention: a one-hot vector on the largest score.

    ``w_i = 1 if i = argmax_j s_j else 0``. Ties go to the first largest score,
    as ``np.argmax`` and ``torch.argmax`` break them. A row that is entirely
    ``-inf`` (everything masked) has nothing to pick and gets all zeros.

    Args:
        scores: ``(..., S)``.

    Returns:
        ``(..., S)`` weights, exactly one 1 per row (or none for a masked row).
    """
    array = _scores(scores)
    winner = np.argmax(array, axis=-1)  # (...)
    weights = (np.arange(array.shape[-1]) == winner[..., None]).astype(np.float64)  # (..., S)
    fully_masked = np.all(np.isneginf(array), axis=-1, keepdims=True)
    return np.where(fully_masked, 0.0, weights)


def sample_indices(
    scores: ArrayLike, n_draws: int, temperature: float = 1.0, seed: int = 0
) -> IntArray:
    """Draw item indices from ``softmax(s / T)``: the choices of stochastic hard attention.

    Args:
        scores: ``(S,)``.
        n_draws: ``N >= 1``.
        temperature: ``T > 0``.
        seed: seeds a fresh ``numpy.random.Generator``, so a seed always gives
            the same draws.

    Returns:
        ``(N,)`` integers in ``[0, S)``.
    """
    array = _scores(scores)
    if array.ndim != 1:
        raise ValueError(f"scores must be a vector (S,), got shape {array.shape}")
    if np.all(np.isneginf(array)):
        raise ValueError("every score is -inf: there is no item to sample")
    probabilities = soft_weights(array, temperature)
    rng = np.random.default_rng(seed)
    return rng.choice(array.shape[0], size=_count("n_draws", n_draws), p=probabilities)


def sampled_weights(
    scores: ArrayLike, n_draws: int, temperature: float = 1.0, seed: int = 0
) -> FloatArray:
    """``N`` sampled hard weight vectors: row ``n`` is one-hot on draw ``n``.

    Returns:
        ``(N, S)``, each row one-hot; their mean is :func:`sample_frequencies`.
    """
    indices = sample_indices(scores, n_draws, temperature, seed)  # (N,)
    size = np.asarray(scores).shape[-1]
    return (np.arange(size) == indices[:, None]).astype(np.float64)  # (N, S)


def sample_frequencies(
    scores: ArrayLike, n_draws: int, temperature: float = 1.0, seed: int = 0
) -> FloatArray:
    """How often each item was drawn among ``N`` samples, as fractions.

    By the law of large numbers this approaches ``softmax(s / T)``; item ``i``
    is off by about ``sqrt(p_i (1 - p_i) / N)`` (see :func:`frequency_band`).

    Returns:
        ``(S,)`` non-negative, summing to 1.
    """
    indices = sample_indices(scores, n_draws, temperature, seed)
    size = np.asarray(scores).shape[-1]
    return np.bincount(indices, minlength=size) / indices.shape[0]


def frequency_band(probabilities: ArrayLike, n_draws: int, z: float = 2.0) -> FloatArray:
    """Half-width of the band sample frequencies fall in: ``z * sqrt(p (1 - p) / N)``.

    A frequency from ``N`` draws is a mean of ``N`` Bernoulli(``p``) variables,
    so its standard deviation is ``sqrt(p (1 - p) / N)``. With ``z = 2`` about
    95 % of frequencies land within the band; the band shrinks like ``1 / sqrt(N)``.

    Args:
        probabilities: ``(S,)`` in ``[0, 1]``.
        n_draws: ``N >= 1``.
        z: how many standard deviations.

    Returns:
        ``(S,)`` half-widths.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("probabilities must lie in [0, 1]")
    n = _count("n_draws", n_draws)
    return _positive("z", z) * np.sqrt(p * (1.0 - p) / n)


def frequency_gaps(
    scores: ArrayLike, draw_counts: Sequence[int], temperature: float = 1.0, seed: int = 0
) -> tuple[FloatArray, FloatArray]:
    """How far sample frequencies land from the soft weights, for several numbers of draws.

    Args:
        scores: ``(S,)``.
        draw_counts: ``M`` numbers of draws ``N``.
        temperature: ``T > 0``.
        seed: one seed for every ``N`` (each ``N`` draws afresh from it).

    Returns:
        ``(gaps, bands)``, both ``(M,)``: the measured ``max_i |f_i - p_i|`` and
        the expected size ``max_i 2 sqrt(p_i (1 - p_i) / N)``.
    """
    p = soft_weights(scores, temperature)
    gaps = [
        float(np.max(np.abs(sample_frequencies(scores, n, temperature, seed) - p)))
        for n in draw_counts
    ]
    bands = [float(np.max(frequency_band(p, n))) for n in draw_counts]
    return np.asarray(gaps), np.asarray(bands)


def has_top_tie(scores: ArrayLike, tolerance: float = 1e-9) -> bool:
    """Whether two or more items share the largest score (argmax must break a tie)."""
    array = _scores(scores)
    if array.shape[-1] < 2:
        return False
    top_two = np.sort(array, axis=-1)[..., -2:]
    return bool(np.any(np.abs(top_two[..., 1] - top_two[..., 0]) <= tolerance))


def gumbel_noise(shape: int | tuple[int, ...], seed: int = 0) -> FloatArray:
    """Standard Gumbel noise ``g = -log(E)`` with ``E ~ Exponential(1)``.

    (The same as ``-log(-log U)`` with ``U ~ Uniform(0, 1)``, and how
    ``torch.nn.functional.gumbel_softmax`` draws it.)
    """
    rng = np.random.default_rng(seed)
    return -np.log(rng.exponential(size=shape))


def gumbel_softmax_weights(
    logits: ArrayLike, tau: float, noise: ArrayLike, *, hard: bool = False
) -> FloatArray:
    """Gumbel-softmax weights for given noise.

    ``y = softmax((l + g) / tau)``. With ``hard=True`` the straight-through
    variant's forward value: one-hot on ``argmax (l + g)``, which is a draw
    from ``softmax(l)`` (the Gumbel-max trick). In training its gradient is
    taken as that of the soft ``y`` (see ``lab.hard_training``).

    Args:
        logits: ``(..., S)``, e.g. ``s / T``.
        tau: Gumbel-softmax temperature ``> 0``; small is nearly one-hot.
        noise: Gumbel noise of the same shape (:func:`gumbel_noise`).
        hard: return the one-hot forward value instead of the soft one.

    Returns:
        ``(..., S)`` weights summing to 1.
    """
    array = _scores(logits)
    g = np.asarray(noise, dtype=np.float64)
    if g.shape != array.shape:
        raise ValueError(f"noise has shape {g.shape} but logits have shape {array.shape}")
    if not np.isfinite(g).all():
        raise ValueError("noise must be finite")
    perturbed = array + g  # (..., S)
    if hard:
        return hard_weights(perturbed)
    return softmax(perturbed, axis=-1, temperature=_positive("tau", tau))


def gumbel_argmax_indices(logits: ArrayLike, n_draws: int, seed: int = 0) -> IntArray:
    """``N`` draws by the Gumbel-max trick: ``argmax_i (l_i + g_i)`` with fresh noise.

    Returns:
        ``(N,)`` indices distributed as ``softmax(l)``.
    """
    array = _scores(logits)
    if array.ndim != 1:
        raise ValueError(f"logits must be a vector (S,), got shape {array.shape}")
    noise = gumbel_noise((_count("n_draws", n_draws), array.shape[0]), seed)  # (N, S)
    return np.argmax(array + noise, axis=-1)


# ---------------------------------------------------------------------------
# Outputs and geometry
# ---------------------------------------------------------------------------


def attend(weights: ArrayLike, values: ArrayLike) -> FloatArray:
    """The attention output ``o = sum_i w_i v_i``.

    Args:
        weights: ``(..., S)``.
        values: ``(S, Ev)``.

    Returns:
        ``(..., Ev)``.
    """
    w = np.asarray(weights, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"values must be a matrix (S, Ev), got shape {v.shape}")
    if w.shape[-1] != v.shape[0]:
        raise ValueError(f"weights cover {w.shape[-1]} items but there are {v.shape[0]} values")
    return w @ v


def soft_output_path(
    scores: ArrayLike, values: ArrayLike, temperatures: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Where the soft output sits for each temperature.

    Args:
        scores: ``(S,)``.
        values: ``(S, Ev)``.
        temperatures: ``(T,)`` positive.

    Returns:
        ``(weights, outputs)`` of shapes ``(T, S)`` and ``(T, Ev)``.
    """
    array = _scores(scores)
    temps = _vector("temperatures", temperatures)
    if temps.size == 0 or not np.all(np.isfinite(temps)) or (temps <= 0).any():
        raise ValueError("temperatures must be positive finite numbers")
    weights = np.stack([soft_weights(array, float(t)) for t in temps])  # (T, S)
    return weights, attend(weights, values)


def convex_hull(points: ArrayLike) -> IntArray:
    """Indices of the corners of the convex hull of 2-D points, counter-clockwise.

    Andrew's monotone chain. Points on an edge (collinear) are not corners and
    duplicates count once, so the hull of two distinct points is those two and
    of one (or several equal) points is that one.

    Args:
        points: ``(S, 2)``.

    Returns:
        ``(C,)`` indices into ``points``, ``C <= S``.
    """
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] == 0:
        raise ValueError(f"points must have shape (S, 2) with S >= 1, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("points must be finite")
    order = sorted(range(array.shape[0]), key=lambda i: (array[i, 0], array[i, 1]))
    unique: list[int] = []
    for index in order:
        if not unique or not np.array_equal(array[index], array[unique[-1]]):
            unique.append(index)
    if len(unique) <= 2:
        return np.asarray(unique, dtype=np.int64)

    def cross(o: int, a: int, b: int) -> float:
        return float(
            (array[a, 0] - array[o, 0]) * (array[b, 1] - array[o, 1])
            - (array[a, 1] - array[o, 1]) * (array[b, 0] - array[o, 0])
        )

    lower: list[int] = []
    for index in unique:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], index) <= 0:
            lower.pop()
        lower.append(index)
    upper: list[int] = []
    for index in reversed(unique):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], index) <= 0:
            upper.pop()
        upper.append(index)
    return np.asarray(lower[:-1] + upper[:-1], dtype=np.int64)


def in_convex_hull(point: ArrayLike, points: ArrayLike, tolerance: float = 1e-9) -> bool:
    """Whether a 2-D point lies in the convex hull of ``points`` (edges included)."""
    p = _vector("point", point)
    array = np.asarray(points, dtype=np.float64)
    corners = array[convex_hull(array)]  # (C, 2)
    if corners.shape[0] == 1:
        return bool(np.linalg.norm(p - corners[0]) <= tolerance)
    if corners.shape[0] == 2:
        a, b = corners
        edge = b - a
        length_sq = float(np.dot(edge, edge))  # can underflow to 0 for tiny edges
        t = float(np.clip(np.dot(p - a, edge) / length_sq, 0.0, 1.0)) if length_sq > 0 else 0.0
        return bool(np.linalg.norm(a + t * edge - p) <= tolerance)
    following = np.roll(corners, -1, axis=0)
    edges = following - corners  # (C, 2)
    to_point = p - corners  # (C, 2)
    crosses = edges[:, 0] * to_point[:, 1] - edges[:, 1] * to_point[:, 0]  # (C,)
    return bool(np.all(crosses >= -tolerance))


def query_vector(angle_degrees: float, length: float) -> FloatArray:
    """The 2-D query ``length * (cos θ, sin θ)``."""
    theta = math.radians(float(angle_degrees))
    if not math.isfinite(theta) or not math.isfinite(float(length)) or length < 0:
        raise ValueError(f"need a finite angle and a length >= 0, got {angle_degrees}, {length}")
    return float(length) * np.array([math.cos(theta), math.sin(theta)])


# ---------------------------------------------------------------------------
# A scene: items with 2-D keys and values
# ---------------------------------------------------------------------------


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
        return len(self.names)


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
        k = np.asarray(keys, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("every key and value coordinate must be a number") from None
    if len(labels) < MIN_ITEMS:
        raise ValueError(f"attention needs at least {MIN_ITEMS} items to choose from")
    if len(labels) > max_items:
        raise ValueError(f"this demo shows at most {max_items} items, got {len(labels)}")
    for name, array in (("keys", k), ("values", v)):
        if array.shape != (len(labels), 2):
            raise ValueError(f"{name} must have shape ({len(labels)}, 2), got {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError(f"some {name} are missing or not numbers; fill every cell")
        if (np.abs(array) > MAX_COORDINATE).any():
            raise ValueError(f"{name} must lie within ±{MAX_COORDINATE:g}")
    return Scene(labels, k.copy(), v.copy())


PRESETS: dict[str, Scene] = {
    "Four items": make_scene(
        ["A", "B", "C", "D"],
        [[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]],
        [[3.0, 0.5], [1.0, 3.0], [-2.5, 1.5], [-0.5, -2.0]],
    ),
    "Triangle with a middle item": make_scene(
        ["A", "B", "C", "M"],
        [[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7], [0.0, 0.0]],
        [[3.0, 0.0], [-1.5, 2.6], [-1.5, -2.6], [0.2, 0.1]],
    ),
    "Two near-twin keys": make_scene(
        ["A", "A′", "B"],
        [[2.0, 0.2], [2.0, -0.2], [-2.0, 0.0]],
        [[-2.0, 2.0], [2.0, 2.0], [0.0, -2.0]],
    ),
    "Six around a circle": make_scene(
        ["0°", "60°", "120°", "180°", "240°", "300°"],
        [[2 * math.cos(a), 2 * math.sin(a)] for a in np.radians(np.arange(0, 360, 60))],
        [[3 * math.cos(a), 3 * math.sin(a)] for a in np.radians(np.arange(0, 360, 60))],
    ),
}


# ---------------------------------------------------------------------------
# Sweeping the query: smooth against staircase
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AngleSweep:
    """Outputs and losses as the query turns, for a fixed target value.

    The loss is ``||o(θ) - v_target||²``: how far the output lands from the
    value we wanted to retrieve.

    Attributes:
        angles: ``(A,)`` in degrees.
        soft_weights: ``(A, S)``.
        soft_outputs: ``(A, Ev)``.
        hard_index: ``(A,)`` the item hard attention picks at each angle.
        hard_outputs: ``(A, Ev)``.
        soft_loss: ``(A,)``.
        hard_loss: ``(A,)`` piecewise constant: a staircase.
        expected_hard_loss: ``(A,)`` the average loss of sampled hard attention,
            ``sum_i p_i(θ) ||v_i - v_target||²``: smooth again.
    """

    angles: FloatArray
    soft_weights: FloatArray
    soft_outputs: FloatArray
    hard_index: IntArray
    hard_outputs: FloatArray
    soft_loss: FloatArray
    hard_loss: FloatArray
    expected_hard_loss: FloatArray

    def jumps(self) -> FloatArray:
        """Angles (midpoints between grid points) where the hard choice changes."""
        change = np.flatnonzero(np.diff(self.hard_index) != 0)
        return (self.angles[change] + self.angles[change + 1]) / 2


def angle_sweep(
    scene: Scene,
    target: int,
    angles: ArrayLike,
    length: float,
    temperature: float,
) -> AngleSweep:
    """Turn the query through ``angles`` and record soft and hard outputs and losses.

    Args:
        scene: the items.
        target: index of the item whose value the loss asks for.
        angles: ``(A,)`` query angles in degrees.
        length: query length ``>= 0``.
        temperature: soft temperature ``T > 0``.
    """
    if not 0 <= int(target) < scene.size:
        raise ValueError(f"target must be an item index in [0, {scene.size - 1}], got {target}")
    grid = _vector("angles", angles)
    queries = np.stack([query_vector(a, length) for a in grid])  # (A, 2)
    scores = queries @ scene.keys.T / math.sqrt(2)  # (A, S)
    soft = soft_weights(scores, temperature)  # (A, S)
    hard = hard_weights(scores)  # (A, S)
    goal = scene.value_points[int(target)]  # (Ev,)
    distances = np.sum((scene.value_points - goal) ** 2, axis=-1)  # (S,)
    soft_out = soft @ scene.value_points  # (A, Ev)
    hard_out = hard @ scene.value_points  # (A, Ev)
    return AngleSweep(
        angles=grid,
        soft_weights=soft,
        soft_outputs=soft_out,
        hard_index=np.argmax(scores, axis=-1),
        hard_outputs=hard_out,
        soft_loss=np.sum((soft_out - goal) ** 2, axis=-1),
        hard_loss=np.sum((hard_out - goal) ** 2, axis=-1),
        expected_hard_loss=soft @ distances,
    )


TABLE_COLUMNS = ("item", "key x", "key y", "value x", "value y")  # the page's editable table


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
    Missing names become ``"item <n>"``.

    Args:
        rows: mappings with the keys of :data:`TABLE_COLUMNS`.

    Raises:
        ValueError: a sentence saying which row and column to fix.
    """
    names: list[str] = []
    keys: list[list[float]] = []
    values: list[list[float]] = []
    for number, row in enumerate(rows, start=1):
        cells = [row.get(column) for column in TABLE_COLUMNS]
        if all(_blank(cell) for cell in cells):
            continue
        coordinates = []
        for column, cell in zip(TABLE_COLUMNS[1:], cells[1:], strict=True):
            if _blank(cell):
                raise ValueError(f"row {number} has no number in '{column}'; fill it in")
            try:
                coordinates.append(float(cell))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ValueError(
                    f"row {number}: '{column}' must be a number, got {cell!r}"
                ) from None
        name = "" if _blank(cells[0]) else str(cells[0]).strip()
        names.append(name[:12] or f"item {len(names)}")
        keys.append(coordinates[:2])
        values.append(coordinates[2:])
    if not names:
        raise ValueError("the table is empty; add at least two items")
    return make_scene(names, np.asarray(keys), np.asarray(values))


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
