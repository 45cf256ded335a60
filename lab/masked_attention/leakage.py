"""Leakage, measured: change one token and see which outputs of its sentence move.

A decoder must predict token ``i + 1`` from tokens ``0 … i``. If position ``i``
can see a later token, training lets it copy the answer. The test of a mask is
direct: swap one token, recompute, and measure how far every output moved.
Under a causal mask the outputs before the changed position move by exactly
0, not by something small: the changed key reaches them only through a
weight that is exactly 0.

Shapes:
    S   padded length (positions of the changed sentence)
    Ev  value size
    K   mask kinds compared
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from lab.attention import FloatArray
from lab.checks import as_bool, as_real
from lab.masked_attention.compute import (
    MaskingConfig,
    MaskKind,
    PaddedBatch,
    as_member,
    batch_attention,
)


def output_change(before: ArrayLike, after: ArrayLike) -> FloatArray:
    """How far each output row moved: ``max_e |after[..., i, e] - before[..., i, e]|``.

    Args:
        before, after: ``(..., L, Ev)`` outputs of the same shape.

    Returns:
        ``(..., L)``, exactly 0 where a row did not change at all.
    """
    old = as_real("before", before, dtype=np.float64)
    new = as_real("after", after, dtype=np.float64)
    if old.shape != new.shape:
        raise ValueError(f"before has shape {old.shape} but after has {new.shape}")
    if old.ndim < 2:
        raise ValueError(f"outputs need a position axis and a feature axis, got shape {old.shape}")
    if old.shape[-1] == 0:
        return np.zeros(old.shape[:-1])
    return np.max(np.abs(new - old), axis=-1)


@dataclass(frozen=True)
class LeakageProbe:
    """One token changed; how much every output of its sentence moved, per mask kind.

    Attributes:
        sentence: which sentence of the batch was changed.
        position: which position was changed.
        old_token, new_token: the token before and after.
        tokens: the sentence's ``S`` tokens before the change.
        kinds: the ``K`` mask kinds compared.
        changes: ``(K, S)`` :func:`output_change` of every position under each kind.
    """

    sentence: int
    position: int
    old_token: str
    new_token: str
    tokens: tuple[str, ...]
    kinds: tuple[MaskKind, ...]
    changes: FloatArray

    def row(self, kind: MaskKind | str) -> FloatArray:
        """``(S,)``: the changes under one mask kind."""
        kind = as_member(MaskKind, kind, "kind")
        if kind not in self.kinds:
            shown = ", ".join(repr(item.value) for item in self.kinds)
            raise ValueError(f"this probe compared {shown} only, not {kind.value!r}")
        return self.changes[self.kinds.index(kind)]

    def earlier(self, kind: MaskKind | str) -> FloatArray:
        """``(position,)``: the changes at the positions before the changed one."""
        return self.row(kind)[: self.position]

    def max_earlier(self, kind: MaskKind | str) -> float:
        """The largest change at an earlier position (0 if there is none)."""
        earlier = self.earlier(kind)
        return float(earlier.max()) if earlier.size else 0.0

    def max_at(self, kind: MaskKind | str, positions: ArrayLike) -> float:
        """The largest change over the positions where ``positions`` (``(S,)`` bool) is True."""
        where = as_bool("positions", positions)
        row = self.row(kind)
        if where.shape != row.shape:
            raise ValueError(f"positions must have shape {row.shape}, got {where.shape}")
        return float(row[where].max()) if where.any() else 0.0


def leakage_probe(
    batch: PaddedBatch,
    sentence: int,
    position: int,
    new_token: str,
    config: MaskingConfig | None = None,
    kinds: Sequence[MaskKind | str] = tuple(MaskKind),
) -> LeakageProbe:
    """Swap one token and measure, for every position, how much its output changed.

    Only the *content* at ``position`` changes; the valid lengths, hence the
    masks, stay the same (changing a ``<pad>`` is like garbage in the padding).

    Args:
        config: ``d``, seed and padding side (default :class:`MaskingConfig`'s).
        kinds: the masks to compare (default: all four).

    Returns:
        A :class:`LeakageProbe` with ``changes`` of shape ``(K, S)``.
    """
    config = MaskingConfig() if config is None else config
    new_token = str(new_token)
    if not new_token:
        raise ValueError("new_token must be a non-empty token")
    changed = batch.replaced(sentence, position, new_token)
    compared = tuple(as_member(MaskKind, kind, "kind") for kind in kinds)
    rows = []
    for kind in compared:
        before = batch_attention(batch, kind, config).output[sentence]  # (S, Ev)
        after = batch_attention(changed, kind, config).output[sentence]  # (S, Ev)
        rows.append(output_change(before, after))  # (S,)
    return LeakageProbe(
        sentence=sentence,
        position=position,
        old_token=batch.tokens[sentence][position],
        new_token=new_token,
        tokens=batch.tokens[sentence],
        kinds=compared,
        changes=np.stack(rows),  # (K, S)
    )
