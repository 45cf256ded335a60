"""Chart builders of the masked-attention page: plain Vega-Lite dicts. Pure functions, no Streamlit.

Weights and masks are drawn by :func:`lab.charts.heatmap` (masked cells grey
with a cross, NaN cells red as an alarm); this module adds only what that
page needs beyond it:

* :func:`batch_grid`: the padded batch as a grid of tokens;
* :func:`mask_heatmap`: a boolean mask, "True" cells blue and masked cells as
  in the weights heatmaps;
* :func:`method_heatmap`: the weights a *wrong* way of masking produced, with
  the masked cells outlined but their values kept visible;
* :func:`leakage_heatmap`: how far every output moved, mask kinds by positions.

Axes are keyed by position and labelled through ``labelExpr``, as in
:mod:`lab.charts`, so repeated tokens (two ``<pad>``, two "the") stay apart.

Shapes:
    B  sentences
    L  queries
    S  padded length (keys; also queries in self-attention)
    K  mask kinds
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lab import charts
from lab.charts import Spec
from lab.checks import as_bool, as_real

REAL_COLOR = "#dbe7f5"  # a real token in the batch grid: a light tint of the primary colour
PAD_COLOR = charts.MASKED_COLOR  # padding looks like what it becomes: masked
PAD_INK = "#6b6b6b"  # the text of a <pad> cell, quieter than a word
OUTLINE_COLOR = "#495057"  # the dashed outline of a masked cell whose value stays visible
ZERO_COLOR = "#e6f4ea"  # leakage exactly 0: a pale green "nothing moved"
LEAK_SCHEME = "oranges"  # leakage above 0
MAX_TOKEN_CHARS = 9  # longer tokens are shortened in the grid (the tooltip keeps them whole)


def short_token(token: str) -> str:
    """``token`` cut to :data:`MAX_TOKEN_CHARS` characters with an ellipsis."""
    return token if len(token) <= MAX_TOKEN_CHARS else token[: MAX_TOKEN_CHARS - 1] + "…"


def batch_grid(
    tokens: Sequence[Sequence[str]],
    real: ArrayLike,
    *,
    row_labels: Sequence[str] | None = None,
    title: str = "",
    cell_width: int = 66,
) -> Spec:
    """The padded batch as a grid: one row per sentence, one column per position.

    Args:
        tokens: ``B`` rows of ``S`` tokens.
        real: ``(B, S)`` boolean, ``True`` at real tokens (drawn tinted); padding
            is drawn grey.
        row_labels: ``B`` labels (default ``"sentence 1"``, ...).
        cell_width: pixels per column.
    """
    is_real = as_bool("real", real)
    if is_real.ndim != 2:
        raise ValueError(f"real must be a (B, S) matrix, got shape {is_real.shape}")
    B, S = is_real.shape
    rows = [[str(token) for token in row] for row in tokens]
    if len(rows) != B or any(len(row) != S for row in rows):
        raise ValueError(f"tokens must be {B} rows of {S} tokens, like real")
    labels = charts.check_labels(
        "row_labels",
        row_labels if row_labels is not None else [f"sentence {b + 1}" for b in range(B)],
        B,
    )
    sentence, position = np.indices((B, S))
    flat_tokens = [rows[b][s] for b, s in zip(sentence.ravel(), position.ravel(), strict=True)]
    flat_real = is_real.ravel()
    cells = charts.table(
        sentence=sentence.ravel(),
        position=position.ravel(),
        sentence_label=np.asarray(labels, dtype=object)[sentence.ravel()],
        token=flat_tokens,
        shown=[short_token(token) for token in flat_tokens],
        kind=np.where(flat_real, "real token", "padding"),
        fill=np.where(flat_real, REAL_COLOR, PAD_COLOR),
        ink=np.where(flat_real, charts.INK, PAD_INK),
    )
    spec: Spec = {
        "datasets": {"batch": cells},
        "data": {"name": "batch"},
        "width": {"step": cell_width},
        "height": {"step": 32},
        "encoding": {
            "x": {
                "field": "position",
                "type": "ordinal",
                "axis": charts.position_axis(
                    [str(index) for index in range(S)], "position", x=True, cell=cell_width
                ),
            },
            "y": {
                "field": "sentence",
                "type": "ordinal",
                "axis": charts.position_axis(labels, None, x=False),
            },
            "tooltip": [
                {"field": "sentence_label", "type": "nominal", "title": "sentence"},
                {"field": "position", "type": "ordinal", "title": "position"},
                {"field": "token", "type": "nominal", "title": "token"},
                {"field": "kind", "type": "nominal", "title": "is"},
            ],
        },
        "layer": [
            {
                "mark": {"type": "rect", "stroke": "white", "strokeWidth": 2},
                "encoding": {"color": {"field": "fill", "type": "nominal", "scale": None}},
            },
            {
                "mark": {"type": "text", "fontSize": 12, "aria": False},
                "encoding": {
                    "text": {"field": "shown", "type": "nominal"},
                    "color": {"field": "ink", "type": "nominal", "scale": None},
                },
            },
        ],
    }
    pads = int((~is_real).sum())
    return charts.top_level(
        spec,
        title=title,
        description=f"{title or 'The padded batch'}: {B} sentences by {S} positions, "
        f"{pads} of the {B * S} cells are padding.",
    )


def mask_heatmap(
    allowed: ArrayLike,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str = "",
    row_title: str | None = "query",
    col_title: str | None = "key",
    cell_size: int = 20,
    show_text: bool | None = None,
) -> Spec:
    """A boolean mask as a heatmap: "True" cells blue, masked cells grey with a cross.

    It is :func:`lab.charts.heatmap` of the mask itself (1 where allowed) with
    the mask as its mask, so the masked cells look exactly as they do in the
    weights heatmap beside it.

    Args:
        allowed: ``(L, S)`` boolean (``(B, S)`` for a key-padding mask).
        cell_size: pixels per cell.
        show_text: write "True" in the allowed cells (default: when cells are
            at least 40 pixels wide).
    """
    mask = as_bool("allowed", allowed)
    if mask.ndim != 2:
        raise ValueError(f"allowed must be a matrix, got shape {mask.shape}")
    spec = charts.heatmap(
        mask.astype(np.float64),
        row_labels,
        col_labels,
        title=title,
        row_title=row_title,
        col_title=col_title,
        value_title="mask",
        mask=mask,
        show_values=cell_size >= 40 if show_text is None else show_text,
        cell_size=cell_size,
        legend=False,
    )
    cells = [
        {**cell, "text": "False: masked" if cell["masked"] else "True"}
        for cell in spec["datasets"]["cells"]
    ]
    return {
        **spec,
        "datasets": {"cells": cells},
        "description": f"{title or 'Mask'}: {mask.shape[0]} by {mask.shape[1]}, "
        f"{int(mask.sum())} cells True (may attend) and {int((~mask).sum())} masked.",
    }


def _weight_text(value: float) -> str:
    if np.isnan(value):
        return "NaN"
    return "0" if value == 0 else format(value, ".2f")


def method_heatmap(
    weights: ArrayLike,
    allowed: ArrayLike,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str = "",
    max_width: int | None = None,
    show_values: bool | None = None,
) -> Spec:
    """Weights some way of masking produced, *without* hiding what it put on masked cells.

    :func:`lab.charts.heatmap` greys masked cells out, which is right for
    correct weights; a wrong method may put weight there, so here the heatmap
    is drawn with no mask (every cell keeps its colour and value, NaN cells
    are red), and the masked cells get a dashed dark outline and "masked key"
    in the tooltip. A weight of exactly 0 is written "0", one that only rounds
    to 0 is written "0.00".

    Args:
        weights: ``(L, S)``, NaN allowed.
        allowed: ``(L, S)`` boolean, ``True`` = may attend.
        max_width: shrink cells so the columns fit in this many pixels.
        show_values: print the numbers in the cells (default as in
            :func:`lab.charts.heatmap`).
    """
    values = as_real("weights", weights, ndim=2, dtype=np.float64)
    mask = as_bool("allowed", allowed)
    if mask.shape != values.shape:
        raise ValueError(
            f"weights and allowed must be matrices of one shape, got {values.shape} and "
            f"{mask.shape}"
        )
    spec = charts.heatmap(
        values,
        row_labels,
        col_labels,
        title=title,
        max_width=max_width,
        show_values=show_values,
        legend=False,
    )
    flat_masked = (~mask).ravel().tolist()  # True where the key is masked
    cells = [
        {
            **cell,
            "text": _weight_text(value),
            "outlined": hidden,
            "key_is": "masked key" if hidden else "allowed key",
        }
        for cell, value, hidden in zip(
            spec["datasets"]["cells"], values.ravel(), flat_masked, strict=True
        )
    ]
    outline: Spec = {
        "transform": [{"filter": "datum.outlined"}],
        "mark": {
            "type": "rect",
            "filled": False,
            "stroke": OUTLINE_COLOR,
            "strokeWidth": 1.5,
            "strokeDash": [3, 2],
            "aria": False,
        },
    }
    layers = list(spec["layer"])
    texts = [index for index, layer in enumerate(layers) if layer["mark"]["type"] == "text"]
    layers.insert(texts[0] if texts else len(layers), outline)  # under the numbers
    encoding = dict(spec["encoding"])
    encoding["tooltip"] = [
        *encoding["tooltip"],
        {"field": "key_is", "type": "nominal", "title": "this is a"},
    ]
    n_nan = int(np.isnan(values).sum())
    return {
        **spec,
        "datasets": {"cells": cells},
        "encoding": encoding,
        "layer": layers,
        "description": f"{title or 'Weights'}: {values.shape[0]} queries by {values.shape[1]} "
        f"keys; {int((~mask).sum())} masked cells outlined, {n_nan} cells NaN.",
    }


def leakage_heatmap(
    changes: ArrayLike,
    kinds: Sequence[str],
    tokens: Sequence[str],
    changed_position: int,
    *,
    title: str = "",
    highlight: str | None = None,
    cell_width: int = 70,
) -> Spec:
    """How far each output moved when one token changed: mask kinds × positions.

    Cells that changed by exactly 0 are pale green and say "0"; the others are
    orange, darker for a bigger change, with the number printed. The changed
    position's column is outlined.

    Args:
        changes: ``(K, S)`` non-negative, from :class:`LeakageProbe`.
        kinds: ``K`` mask kind names (the rows).
        tokens: ``S`` tokens of the sentence (the columns).
        changed_position: which column was changed.
        highlight: a kind to mark with "▶" (the one selected on the page).
    """
    values = as_real("changes", changes, ndim=2, dtype=np.float64)
    if values.shape != (len(kinds), len(tokens)):
        raise ValueError(
            f"changes must be ({len(kinds)}, {len(tokens)}) (kinds × positions), got {values.shape}"
        )
    if np.isnan(values).any() or (values < 0).any():
        raise ValueError("changes must be non-negative numbers")
    K, S = values.shape
    if not 0 <= changed_position < S:
        raise ValueError(f"changed_position must lie in [0, {S - 1}], got {changed_position}")
    kind_labels = [f"▶ {kind}" if kind == highlight else str(kind) for kind in kinds]
    row, col = np.indices(values.shape)
    flat = values.ravel()
    top = float(flat.max()) if flat.size and flat.max() > 0 else 1.0
    cells = charts.table(
        row=row.ravel(),
        col=col.ravel(),
        row_label=np.asarray(kind_labels, dtype=object)[row.ravel()],
        col_label=[f"{c} · {tokens[c]}" for c in col.ravel()],
        value=flat,
        role=np.select(
            [col.ravel() < changed_position, col.ravel() == changed_position],
            ["earlier position", "the changed position"],
            "later position",
        ),
        zero=flat == 0,
        changed=col.ravel() == changed_position,
        text=["0" if value == 0 else format(value, ".3g") for value in flat],
        tooltip_text=["0 (exactly)" if value == 0 else format(value, ".6g") for value in flat],
        ink=charts.text_colors(flat, (0.0, top), signed=False),
    )
    # Two lines per column label (position, then token), so long tokens stay narrow.
    two_lines = [[str(position), short_token(str(token))] for position, token in enumerate(tokens)]
    axis_style: dict[str, Any] = {"ticks": False, "domain": False}
    spec: Spec = {
        "datasets": {"leakage": cells},
        "data": {"name": "leakage"},
        "width": {"step": cell_width},
        "height": {"step": 34},
        "encoding": {
            "x": {
                "field": "col",
                "type": "ordinal",
                "axis": {
                    "title": "output at position",
                    "labelExpr": f"{json.dumps(two_lines)}[datum.value]",
                    "orient": "top",
                    "labelAngle": 0,
                    **axis_style,
                },
            },
            "y": {
                "field": "row",
                "type": "ordinal",
                "axis": {
                    "title": "mask",
                    "labelExpr": charts.labels_expr(kind_labels),
                    "labelFontWeight": "bold",
                    **axis_style,
                },
            },
            "tooltip": [
                {"field": "row_label", "type": "nominal", "title": "mask"},
                {"field": "col_label", "type": "nominal", "title": "output at"},
                {"field": "role", "type": "nominal", "title": "which is"},
                {"field": "tooltip_text", "type": "nominal", "title": "max |Δ output|"},
            ],
        },
        "layer": [
            {
                "transform": [{"filter": "!datum.zero"}],
                "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
                "encoding": {
                    "color": {
                        "field": "value",
                        "type": "quantitative",
                        "scale": {"scheme": LEAK_SCHEME, "domain": [0.0, top]},
                        "title": "max |Δ output|",
                        "legend": None,
                    }
                },
            },
            {
                "transform": [{"filter": "datum.zero"}],
                "mark": {"type": "rect", "color": ZERO_COLOR, "stroke": "white", "strokeWidth": 1},
            },
            {
                "transform": [{"filter": "datum.changed"}],
                "mark": {
                    "type": "rect",
                    "filled": False,
                    "stroke": charts.INK,
                    "strokeWidth": 2,
                    "aria": False,
                },
            },
            {
                "mark": {"type": "text", "fontSize": 11, "aria": False},
                "encoding": {
                    "text": {"field": "text", "type": "nominal"},
                    "color": {"field": "ink", "type": "nominal", "scale": None},
                },
            },
        ],
        # The text's literal colours (scale None) must not merge with the cells' scale.
        "resolve": {"scale": {"color": "independent"}},
    }
    zeros = int((flat == 0).sum())
    return charts.top_level(
        spec,
        title=title,
        description=f"{title or 'Leakage'}: how far each of {S} outputs moved under {K} masks "
        f"when position {changed_position} changed; {zeros} of {K * S} cells moved by exactly 0.",
    )
