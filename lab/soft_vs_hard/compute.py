"""Soft, hard, sampled and Gumbel-softmax attention weights, and their geometry, in numpy.

One query looks at ``S`` items. Each item has a key (what it offers to be found
by) and a value (what it hands over). The same scores ``s_i = q · k_i / sqrt(d)``
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
    d   query/key size (2 on the page, so keys can be drawn)
    Ev  value size (2 on the page, so values can be drawn)
    N   draws
    A   query angles of a sweep
    M   temperatures of a path

Every function returns new arrays; inputs are never modified in place.
The torch parts (autograd through the sweep, training) live in
:mod:`lab.soft_vs_hard.train` so this module stays light.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lab.attention import FloatArray, softmax
from lab.checks import as_real, check_float, check_int
from lab.soft_vs_hard.scene import Scene

IntArray = NDArray[np.int64]


def _check_scores(name: str, scores: ArrayLike) -> FloatArray:
    """``scores`` as float64 with at least one item in the last axis; ``-inf`` allowed, NaN not."""
    array = as_real(name, scores, dtype=np.float64)
    if array.ndim == 0 or array.shape[-1] == 0:
        raise ValueError(f"{name} need at least one item in their last axis, got {array.shape}")
    if np.isnan(array).any():
        raise ValueError(f"{name} contain NaN; check the query, keys and temperature")
    if np.isposinf(array).any():
        raise ValueError(f"{name} contain +inf; only -inf (meaning 'masked') is allowed")
    return array


# ---------------------------------------------------------------------------
# Four ways to turn scores into weights
# ---------------------------------------------------------------------------


def dot_product_scores(query: ArrayLike, keys: ArrayLike) -> FloatArray:
    """Scaled dot-product scores of one query against ``S`` keys.

    ``s_i = q · k_i / sqrt(d)``

    Args:
        query: ``(d,)``.
        keys: ``(S, d)``.

    Returns:
        ``(S,)`` scores.
    """
    q = as_real("query", query, ndim=1, finite=True, dtype=np.float64)
    k = as_real("keys", keys, ndim=2, finite=True, dtype=np.float64)
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
    array = _check_scores("scores", scores)
    # softmax refuses a temperature that is not a positive number, naming it "temperature"
    return softmax(array, axis=-1, temperature=temperature)


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
    array = _check_scores("scores", scores)
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
    array = _check_scores("scores", scores)
    if array.ndim != 1:
        raise ValueError(f"scores must be a vector (S,), got shape {array.shape}")
    if np.all(np.isneginf(array)):
        raise ValueError("every score is -inf: there is no item to sample")
    probabilities = soft_weights(array, temperature)
    count = check_int("n_draws", n_draws, minimum=1)
    return np.random.default_rng(seed).choice(array.shape[0], size=count, p=probabilities)


def sampled_weights(
    scores: ArrayLike, n_draws: int, temperature: float = 1.0, seed: int = 0
) -> FloatArray:
    """``N`` sampled hard weight vectors: row ``n`` is one-hot on draw ``n``.

    Returns:
        ``(N, S)``, each row one-hot; their mean is :func:`sample_frequencies`.
    """
    indices = sample_indices(scores, n_draws, temperature, seed)  # (N,)
    size = np.shape(scores)[-1]
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
    size = np.shape(scores)[-1]
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
    p = as_real("probabilities", probabilities, dtype=np.float64)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("probabilities must lie in [0, 1]")
    count = check_int("n_draws", n_draws, minimum=1)
    return check_float("z", z, positive=True) * np.sqrt(p * (1.0 - p) / count)


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
    array = _check_scores("scores", scores)
    if array.shape[-1] < 2:
        return False
    top_two = np.sort(array, axis=-1)[..., -2:]
    return bool(np.any(np.abs(top_two[..., 1] - top_two[..., 0]) <= tolerance))


def gumbel_noise(shape: int | tuple[int, ...], seed: int = 0) -> FloatArray:
    """Standard Gumbel noise ``g = -log(E)`` with ``E ~ Exponential(1)``.

    (The same as ``-log(-log U)`` with ``U ~ Uniform(0, 1)``, and how
    ``torch.nn.functional.gumbel_softmax`` draws it.)
    """
    return -np.log(np.random.default_rng(seed).exponential(size=shape))


def gumbel_softmax_weights(
    logits: ArrayLike, tau: float, noise: ArrayLike, *, hard: bool = False
) -> FloatArray:
    """Gumbel-softmax weights for given noise.

    ``y = softmax((l + g) / tau)``. With ``hard=True`` the straight-through
    variant's forward value: one-hot on ``argmax (l + g)``, which is a draw
    from ``softmax(l)`` (the Gumbel-max trick). In training its gradient is
    taken as that of the soft ``y`` (see :mod:`lab.soft_vs_hard.train`).

    Args:
        logits: ``(..., S)``, e.g. ``s / T``.
        tau: Gumbel-softmax temperature ``> 0``; small is nearly one-hot.
        noise: Gumbel noise of the same shape (:func:`gumbel_noise`).
        hard: return the one-hot forward value instead of the soft one.

    Returns:
        ``(..., S)`` weights summing to 1.
    """
    array = _check_scores("logits", logits)
    g = as_real("noise", noise, finite=True, dtype=np.float64)
    if g.shape != array.shape:
        raise ValueError(f"noise has shape {g.shape} but logits have shape {array.shape}")
    check_float("tau", tau, positive=True)
    perturbed = array + g  # (..., S)
    if hard:
        return hard_weights(perturbed)
    return softmax(perturbed, axis=-1, temperature=tau)


def gumbel_argmax_indices(logits: ArrayLike, n_draws: int, seed: int = 0) -> IntArray:
    """``N`` draws by the Gumbel-max trick: ``argmax_i (l_i + g_i)`` with fresh noise.

    Returns:
        ``(N,)`` indices distributed as ``softmax(l)``.
    """
    array = _check_scores("logits", logits)
    if array.ndim != 1:
        raise ValueError(f"logits must be a vector (S,), got shape {array.shape}")
    count = check_int("n_draws", n_draws, minimum=1)
    noise = gumbel_noise((count, array.shape[0]), seed)  # (N, S)
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
    w = as_real("weights", weights, min_ndim=1, dtype=np.float64)
    v = as_real("values", values, ndim=2, dtype=np.float64)
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
        temperatures: ``(M,)`` positive.

    Returns:
        ``(weights, outputs)`` of shapes ``(M, S)`` and ``(M, Ev)``.
    """
    array = _check_scores("scores", scores)
    temps = as_real("temperatures", temperatures, ndim=1, dtype=np.float64)
    if temps.size == 0 or not np.all(np.isfinite(temps)) or (temps <= 0).any():
        raise ValueError("temperatures must be positive finite numbers")
    weights = np.stack([soft_weights(array, float(t)) for t in temps])  # (M, S)
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
    array = as_real("points", points, dtype=np.float64)
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

    def turn(o: int, a: int, b: int) -> float:
        """The z component of (a - o) × (b - o): positive for a left turn."""
        return float(
            (array[a, 0] - array[o, 0]) * (array[b, 1] - array[o, 1])
            - (array[a, 1] - array[o, 1]) * (array[b, 0] - array[o, 0])
        )

    def chain(indices: list[int]) -> list[int]:
        kept: list[int] = []
        for index in indices:
            while len(kept) >= 2 and turn(kept[-2], kept[-1], index) <= 0:
                kept.pop()
            kept.append(index)
        return kept

    lower, upper = chain(unique), chain(unique[::-1])
    return np.asarray(lower[:-1] + upper[:-1], dtype=np.int64)


def in_convex_hull(point: ArrayLike, points: ArrayLike, tolerance: float = 1e-9) -> bool:
    """Whether a 2-D point lies in the convex hull of ``points`` (edges included)."""
    p = as_real("point", point, ndim=1, dtype=np.float64)
    array = as_real("points", points, ndim=2, dtype=np.float64)
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
    """The 2-D query ``length * (cos θ, sin θ)``, ``θ`` in degrees."""
    theta = math.radians(check_float("angle_degrees", angle_degrees))
    size = check_float("length", length, minimum=0.0)
    return size * np.array([math.cos(theta), math.sin(theta)])


# ---------------------------------------------------------------------------
# One query on a scene: everything the first sections of the page show
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryView:
    """Soft and hard attention of one query over a scene.

    Attributes:
        query: ``(2,)``.
        scores: ``(S,)`` ``q · k_i / sqrt(2)``.
        soft: ``(S,)`` ``softmax(s / T)``.
        hard: ``(S,)`` one-hot on ``argmax s``.
        winner: the index hard attention picks.
        tie: two or more items share the top score (argmax took the first).
        soft_output, hard_output: ``(2,)`` points of the value plane.
        temperature_path: ``(M, 2)`` the soft output as ``T`` runs over
            :data:`PATH_TEMPERATURES`.
        hull: indices of the corners of the values' convex hull.
    """

    query: FloatArray
    scores: FloatArray
    soft: FloatArray
    hard: FloatArray
    winner: int
    tie: bool
    soft_output: FloatArray
    hard_output: FloatArray
    temperature_path: FloatArray
    hull: IntArray


PATH_TEMPERATURES = np.geomspace(0.02, 50.0, 80)  # the soft output's path, hard pick to mean


def look(scene: Scene, angle_degrees: float, length: float, temperature: float) -> QueryView:
    """Soft and hard attention of the query ``length · (cos θ, sin θ)`` over ``scene``."""
    query = query_vector(angle_degrees, length)
    scores = dot_product_scores(query, scene.keys)
    soft = soft_weights(scores, temperature)
    hard = hard_weights(scores)
    _, path = soft_output_path(scores, scene.value_points, PATH_TEMPERATURES)
    return QueryView(
        query=query,
        scores=scores,
        soft=soft,
        hard=hard,
        winner=int(np.argmax(scores)),
        tie=has_top_tie(scores),
        soft_output=attend(soft, scene.value_points),
        hard_output=attend(hard, scene.value_points),
        temperature_path=path,
        hull=convex_hull(scene.value_points),
    )


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


SWEEP_ANGLES = np.linspace(-180.0, 180.0, 361)  # the page's sweep: one-degree steps


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
    check_int("target", target, minimum=0, maximum=scene.size - 1)
    grid = as_real("angles", angles, ndim=1, finite=True, dtype=np.float64)
    queries = np.stack([query_vector(a, length) for a in grid])  # (A, 2)
    scores = queries @ scene.keys.T / math.sqrt(2)  # (A, S)
    soft = soft_weights(scores, temperature)  # (A, S)
    hard = hard_weights(scores)  # (A, S)
    goal = scene.value_points[target]  # (Ev,)
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


@dataclass(frozen=True)
class SweepGradients:
    """Losses and their torch-autograd gradients, one entry per query angle.

    Made by :func:`lab.soft_vs_hard.train.sweep_gradients`; plain numpy arrays
    here, so a page can keep and read them without importing torch.
    Angles are in degrees and autograd differentiates with respect to the
    angle in degrees, so every ``*_grad`` is ``dL/dθ`` **per degree** (the
    per-radian derivative times π/180). The target value is a fixed goal, not
    a parameter, so only the attended values get gradients.

    Attributes:
        soft_loss, soft_grad: ``(A,)`` for ``o = softmax(s / T) V``.
        hard_loss, hard_grad: ``(A,)`` for ``o = onehot(argmax s) V``. Autograd
            finds no path from the loss back to θ (argmax returns integers),
            so ``hard_grad`` is 0.
        expected_loss, expected_grad: ``(A,)`` for the average loss of sampled
            hard attention, the quantity REINFORCE estimates the gradient of.
        soft_key_grad, hard_key_grad: ``(A, S, 2)`` ``dL/dk_i`` per angle; the
            hard ones are all 0 (no path through argmax).
        soft_value_grad, hard_value_grad: ``(A, S, 2)`` ``dL/dv_i`` per angle;
            with hard attention only the picked value's row can be non-zero.
    """

    soft_loss: np.ndarray
    soft_grad: np.ndarray
    hard_loss: np.ndarray
    hard_grad: np.ndarray
    expected_loss: np.ndarray
    expected_grad: np.ndarray
    soft_key_grad: np.ndarray
    hard_key_grad: np.ndarray
    soft_value_grad: np.ndarray
    hard_value_grad: np.ndarray
