"""Chart builders of the multi-head page: plain Vega-Lite dicts, no Streamlit.

The per-head heatmaps, matrices and bars come from :mod:`lab.charts`; the
builders at the end of this module size and title them for the page. This
module adds the *head view*
(tokens in two columns joined by one line per head and pair, opacity =
weight) and the table of pattern scores.

Shapes:
    H   heads
    L   queries (tokens)
    S   keys (= L)
    P   patterns
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lab import charts
from lab.checks import as_real
from lab.multi_head.hand_heads import FEATURES, HandHeadsConfig

# One colour per head (Tableau 10, which stays apart for colour-blind readers
# better than a rainbow); more heads than colours wrap around. On this page a
# colour always means a head.
HEAD_COLORS: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#9c755f",
)
HEAD_COLOR_NAMES: tuple[str, ...] = (
    "blue",
    "orange",
    "green",
    "red",
    "purple",
    "teal",
    "yellow",
    "brown",
)
MIN_LINE_WEIGHT = 0.02  # lighter lines are invisible anyway; leaving them out keeps the spec small
ROW_HEIGHT = 30  # pixels per token in the head view
NOT_APPLICABLE = "n/a"  # a pattern that never applied (e.g. no pronoun in the sentence)
TILE = "#c9d6ea"  # a word's tile in the head view
TILE_HOVERED = "#b3c6e4"  # the tile under the pointer
BLANK = "#f3f3f3"  # a pattern-table cell with no score
X_DOMAIN = [-0.6, 1.6]  # the head view's x: query words left of 0, key words right of 1
HEAT = 165  # pixels of cells of one head's heatmap in a row of three
HEAT_WIDE = 260  # ... in a row of two


def head_color(index: int) -> str:
    """The colour of head ``index`` in every chart of the page."""
    return HEAD_COLORS[index % len(HEAD_COLORS)]


def head_color_name(index: int) -> str:
    """The name of :func:`head_color`'s colour, for sentences that refer to it."""
    return HEAD_COLOR_NAMES[index % len(HEAD_COLOR_NAMES)]


def _word_column(
    field: str, labels: list[str], y_scale: dict[str, Any], *, left: bool
) -> tuple[list[dict[str, Any]], list[charts.Spec]]:
    """One column of word tiles: records and the three layers (highlight, words, tiles).

    The tiles lie on top, translucent, so they alone catch the pointer: a word
    or a highlight above them would fire ``pointerout`` and clear the hover.
    Each hover listens to its own column's tiles only (``@<name>_marks``);
    unscoped, a pointer over a query tile would also fill the key hover with
    an undefined key, and no line would pass both filters.
    """
    positions = np.arange(len(labels))
    start, end, text_x = (-0.55, -0.03, -0.07) if left else (1.03, 1.55, 1.07)
    records = charts.table(
        **{field: positions},
        top=positions - 0.4,
        bottom=positions + 0.4,
        start=np.full(len(labels), start),
        end=np.full(len(labels), end),
        x=np.full(len(labels), text_x),
        label=labels,
    )
    name = f"hover_{field}"  # the selection made by :func:`_hover`
    x = {"field": "start", "type": "quantitative", "scale": {"domain": X_DOMAIN}, "axis": None}
    y = {"field": "top", "type": "quantitative", "scale": y_scale, "axis": None}
    tile_encoding = {"x": x, "x2": {"field": "end"}, "y": y, "y2": {"field": "bottom"}}
    data = {"name": f"{field}_words"}
    layers = [
        {
            "data": data,
            "transform": [{"filter": {"param": name, "empty": False}}],
            "mark": {"type": "rect", "color": TILE_HOVERED, "cornerRadius": 4, "aria": False},
            "encoding": tile_encoding,
        },
        {
            "data": data,
            "mark": {
                "type": "text",
                "align": "right" if left else "left",
                "baseline": "middle",
                "fontSize": 13,
                "aria": False,
            },
            "encoding": {
                # every layer says axis None: Vega-Lite fails when layers that share a
                # scale disagree on whether it has an axis
                "x": {
                    "field": "x",
                    "type": "quantitative",
                    "scale": {"domain": X_DOMAIN},
                    "axis": None,
                },
                "y": {"field": field, "type": "quantitative", "scale": y_scale, "axis": None},
                "text": {"field": "label", "type": "nominal"},
            },
        },
        {
            "name": f"{field}_tiles",  # its Vega marks are "<name>_marks"
            "data": data,
            "mark": {
                "type": "rect",
                "color": TILE,
                "opacity": 0.35,
                "cornerRadius": 4,
                "aria": False,
            },
            "encoding": {
                **tile_encoding,
                "tooltip": [{"field": "label", "type": "nominal", "title": "word"}],
            },
        },
    ]
    return records, layers


def _hover(field: str) -> dict[str, Any]:
    """The hover selection of one word column, bound to that column's tiles only."""
    return {
        "name": f"hover_{field}",
        "select": {
            "type": "point",
            "fields": [field],
            "on": f"@{field}_tiles_marks:pointerover",
            "clear": f"@{field}_tiles_marks:pointerout",
        },
        "views": [f"{field}_tiles"],
    }


def head_view(
    head_weights: ArrayLike,
    tokens: Sequence[str],
    head_names: Sequence[str],
    *,
    visible: Sequence[bool] | None = None,
    title: str = "Head view: hover a word to keep only its lines",
    width: int = 460,
) -> charts.Spec:
    """Tokens in two columns (queries left, keys right), one line per head and pair.

    A line from query ``i`` to key ``j`` in head ``h``'s colour has opacity
    ``head_weights[h, i, j]``; heads at the same pair sit a little apart. The
    first token is at the top, so a line to an earlier key rises and a line to
    a later key drops. Hovering a word on the left keeps only the lines it
    sends (its queries); hovering a word on the right keeps only the lines it
    receives. Lines under :data:`MIN_LINE_WEIGHT` are left out.

    Args:
        head_weights: ``(H, L, S)`` attention weights with ``S = L``.
        tokens: ``L`` labels (repeats are fine: positions key everything).
        head_names: ``H`` names, shown in the legend and tooltips.
        visible: ``H`` flags; hidden heads draw no lines.
        width: pixels between the left edge and the right edge of the plot.
    """
    weights = as_real("head_weights", head_weights, dtype=np.float64)
    if weights.ndim != 3 or weights.shape[1] != weights.shape[2]:
        raise ValueError(f"head_weights must have shape (H, L, L), got {weights.shape}")
    n_heads, length, _ = weights.shape
    labels = [str(token) for token in tokens]
    if len(labels) != length:
        raise ValueError(f"{len(labels)} tokens for weights over {length} positions")
    names = [str(name) for name in head_names]
    if len(names) != n_heads:
        raise ValueError(f"{len(names)} head names for {n_heads} heads")
    shown = [True] * n_heads if visible is None else [bool(flag) for flag in visible]
    if len(shown) != n_heads:
        raise ValueError(f"visible has {len(shown)} flags for {n_heads} heads")

    head_index, query, key = np.nonzero(weights >= MIN_LINE_WEIGHT)
    keep = np.asarray(shown, dtype=bool)[head_index]
    head_index, query, key = head_index[keep], query[keep], key[keep]
    # spread the heads' lines over a third of a row so they do not sit on top of each other
    offsets = (np.arange(n_heads) - (n_heads - 1) / 2) * (0.33 / max(n_heads, 1))
    line_weights = weights[head_index, query, key]
    lines = charts.table(
        head=np.asarray(names, dtype=object)[head_index],
        query=query,
        key=key,
        query_label=np.asarray(labels, dtype=object)[query],
        key_label=np.asarray(labels, dtype=object)[key],
        weight=line_weights,
        text=[format(value, ".2f") for value in line_weights],
        y_start=query + offsets[head_index],
        y_end=key + offsets[head_index],
        x_start=np.zeros(len(query)),  # lines run from the query column (x = 0) ...
        x_end=np.ones(len(query)),  # ... to the key column (x = 1)
    )
    y_scale = {"domain": [length - 0.5, -0.5]}  # first token at the top
    query_words, query_layers = _word_column("query", labels, y_scale, left=True)
    key_words, key_layers = _word_column("key", labels, y_scale, left=False)
    legend_names = [name for name, flag in zip(names, shown, strict=True) if flag] or names
    rules: charts.Spec = {
        "data": {"name": "lines"},
        "transform": [
            {"filter": {"param": "hover_query", "empty": True}},
            {"filter": {"param": "hover_key", "empty": True}},
        ],
        "mark": {"type": "rule", "strokeWidth": 2.5, "strokeCap": "round"},
        "encoding": {
            "x": {
                "field": "x_start",
                "type": "quantitative",
                "scale": {"domain": X_DOMAIN},
                "axis": None,
            },
            "x2": {"field": "x_end"},
            "y": {"field": "y_start", "type": "quantitative", "scale": y_scale, "axis": None},
            "y2": {"field": "y_end"},
            "color": {
                "field": "head",
                "type": "nominal",
                "scale": {"domain": names, "range": [head_color(i) for i in range(n_heads)]},
                "legend": {
                    "title": "head",
                    "orient": "bottom",
                    "values": legend_names,
                    "columns": 4 if n_heads == 4 else 3,
                    "labelLimit": 160,
                },
            },
            "opacity": {
                "field": "weight",
                "type": "quantitative",
                "scale": {"domain": [0, 1], "range": [0, 1]},
                "legend": None,
            },
            "tooltip": [
                {"field": "head", "type": "nominal"},
                {"field": "query_label", "type": "nominal", "title": "query"},
                {"field": "key_label", "type": "nominal", "title": "key"},
                {"field": "text", "type": "nominal", "title": "weight"},
            ],
        },
    }
    spec = charts.top_level(
        {
            "datasets": {"lines": lines, "query_words": query_words, "key_words": key_words},
            "params": [_hover("query"), _hover("key")],
            "width": width,
            "height": ROW_HEIGHT * length,
            "layer": [rules, *query_layers, *key_layers],
        },
        title=title,
        description=f"Head view: the attention of {sum(shown)} of {n_heads} heads from "
        f"{length} query words (left) to the same {length} words as keys (right); each "
        "line is one head's weight from a query to a key, as opaque as the weight.",
    )
    spec["title"] = {"text": title, "subtitle": "queries on the left, keys on the right"}
    return spec


def pattern_table(
    scores: ArrayLike,
    head_names: Sequence[str],
    pattern_names: Sequence[str],
    *,
    title: str = "",
    highlight_at: float = 0.6,
    cell_width: int = 86,
) -> charts.Spec:
    """Heads (rows) by patterns (columns), each cell the head's pattern score.

    Scores are weights in ``[0, 1]`` on a sequential scale; NaN (the pattern
    never applied) is drawn as a blank cell reading "n/a". Scores at or above
    ``highlight_at`` are printed in bold.
    """
    values = as_real("scores", scores, ndim=2, dtype=np.float64)
    n_heads, n_patterns = values.shape
    heads = [str(name) for name in head_names]
    patterns = [str(name) for name in pattern_names]
    if len(heads) != n_heads or len(patterns) != n_patterns:
        raise ValueError(
            f"{len(heads)} head names and {len(patterns)} pattern names for scores of "
            f"shape {values.shape}"
        )
    row, col = np.indices(values.shape)
    flat = values.ravel()
    missing = np.isnan(flat)
    shown = np.where(missing, 0.0, flat)
    cells = charts.table(
        row=row.ravel(),
        col=col.ravel(),
        head=np.asarray(heads, dtype=object)[row.ravel()],
        pattern=np.asarray(patterns, dtype=object)[col.ravel()],
        value=shown,
        missing=missing,
        text=[
            NOT_APPLICABLE if gone else format(value, ".2f")
            for value, gone in zip(flat, missing, strict=True)
        ],
        text_color=charts.text_colors(shown, (0.0, 1.0), signed=False),
        weight=np.where(~missing & (shown >= highlight_at), "bold", "normal"),
    )
    texts = [
        {
            "transform": [{"filter": f"datum.weight == '{weight}'"}],
            "mark": {"type": "text", "fontSize": 12, "fontWeight": weight, "aria": False},
            "encoding": {
                "text": {"field": "text", "type": "nominal"},
                "color": {"field": "text_color", "type": "nominal", "scale": None},
            },
        }
        for weight in ("normal", "bold")
    ]
    return charts.top_level(
        {
            "datasets": {"scores": cells},
            "data": {"name": "scores"},
            "width": {"step": cell_width},
            "height": {"step": 30},
            "encoding": {
                "x": {
                    "field": "col",
                    "type": "ordinal",
                    "axis": {
                        "title": None,
                        "labelExpr": charts.labels_expr(patterns),
                        "orient": "top",
                        "labelAngle": 0,
                        "labelLimit": cell_width - 4,
                        "labelOverlap": False,  # every pattern keeps its label
                        "ticks": False,
                        "domain": False,
                    },
                },
                "y": {
                    "field": "row",
                    "type": "ordinal",
                    "axis": {
                        "title": None,
                        "labelExpr": charts.labels_expr(heads),
                        "ticks": False,
                        "domain": False,
                    },
                },
                "tooltip": [
                    {"field": "head", "type": "nominal"},
                    {"field": "pattern", "type": "nominal"},
                    {"field": "text", "type": "nominal", "title": "share of weight"},
                ],
            },
            "layer": [
                {
                    "transform": [{"filter": "!datum.missing"}],
                    "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
                    "encoding": {
                        "color": {
                            "field": "value",
                            "type": "quantitative",
                            "scale": {"scheme": charts.WEIGHT_SCHEME, "domain": [0, 1]},
                            "title": "share",
                            "legend": {"orient": "right", "gradientLength": max(60, 30 * n_heads)},
                        }
                    },
                },
                {
                    "transform": [{"filter": "datum.missing"}],
                    "mark": {
                        "type": "rect",
                        "color": BLANK,
                        "stroke": "white",
                        "strokeWidth": 1,
                        "aria": False,
                    },
                },
                *texts,
            ],
            # the numbers' literal colours (scale None) must not merge with the cells' scale
            "resolve": {"scale": {"color": "independent"}},
        },
        title=title,
        description=f"{title or 'Pattern scores'}: {n_heads} heads by {n_patterns} patterns; "
        "each cell is the share of a head's weight on the pattern's targets (n/a where "
        "the pattern never applied).",
    )


# ----------------------------------------------------------------------------
# The page's matrices, sized and titled for it
# ----------------------------------------------------------------------------
# They take arrays and tuples, not a whole HeadView: ``app.charts.draw`` keys its
# cache by the arguments, and hashing a few small arrays costs far less.


def maps_per_row(num_heads: int) -> int:
    """Heatmaps side by side in the first row of charts: four heads make two rows of two."""
    return 2 if num_heads % 3 and num_heads % 2 == 0 else 3


def outputs_per_row(num_heads: int) -> int:
    """Head outputs side by side in the concatenation section."""
    return num_heads if num_heads <= 4 else 3


def head_map(
    weights: ArrayLike, tokens: Sequence[str], title: str, head: int, num_heads: int
) -> charts.Spec:
    """Head ``head``'s attention weights ``(L, L)``; the legend on the last head only."""
    return charts.weights_heatmap(
        weights,
        list(tokens),
        list(tokens),
        title=title,
        max_width=HEAT_WIDE if maps_per_row(num_heads) == 2 else HEAT,
        show_values=False,
        legend=head == num_heads - 1,
    )


def feature_matrix(
    matrix: ArrayLike,
    rows: Sequence[str],
    columns: Sequence[int],
    side: str,
    domain: tuple[float, float],
) -> charts.Spec:
    """``W_q`` or ``W_k`` of a hand-set head, cut to the rows and columns a sentence uses.

    Args:
        matrix: ``(rows, columns)`` the cut-down matrix (:class:`HeadExplanation`).
        rows: the feature names of its rows.
        columns: which of the head's ``d_k`` columns it keeps.
        side: ``"W_q"`` or ``"W_k"``.
        domain: the colour domain both matrices share.
    """
    if side not in ("W_q", "W_k"):
        raise ValueError(f"side must be 'W_q' or 'W_k', got {side!r}")
    values = as_real("matrix", matrix, ndim=2, dtype=np.float64)
    cell = 20 if len(columns) <= 14 else 13
    return charts.heatmap(
        values,
        list(rows),
        [str(column) for column in columns],
        title=f"{side}, rows used   ({values.shape[0]} × {values.shape[1]} of "
        f"{len(FEATURES)} × {HandHeadsConfig().key_size})",
        signed=True,
        row_title=f"{'query' if side == 'W_q' else 'key'} feature",
        col_title="column",
        value_title="entry",
        value_format=".0f",
        cell_size=cell,
        show_values=cell >= 20,
        domain=domain,
        legend=False,
    )


def feature_scores(scores: ArrayLike, tokens: Sequence[str]) -> charts.Spec:
    """A hand-set head's scores ``q·k / √d_k`` ``(L, L)`` on a sentence, every cell printed."""
    length = len(tokens)
    return charts.heatmap(
        scores,
        list(tokens),
        list(tokens),
        title=f"scores q·k / √d_k on this sentence   ({length} × {length})",
        signed=True,
        value_title="score",
        value_format=".0f",
        max_width=300,
        show_values=True,
        legend=False,
    )


def head_output(
    output: ArrayLike,
    tokens: Sequence[str],
    title: str,
    value_labels: Sequence[str] | None,
    domain: tuple[float, float],
    num_heads: int,
) -> charts.Spec:
    """What one head hands to ``W_o``: its weights times its values, ``(L, d_v)``."""
    return charts.matrix_view(
        output,
        list(tokens),
        title,
        col_labels=list(value_labels) if value_labels else None,
        col_title=None,
        row_title=None,
        cell_size=18 if outputs_per_row(num_heads) == 3 else 14,
        show_values=False,
        domain=domain,
        legend=False,
    )


def concatenation(
    concat: ArrayLike,
    tokens: Sequence[str],
    column_labels: Sequence[str],
    domain: tuple[float, float],
) -> charts.Spec:
    """The head outputs side by side, ``(L, H d_v)``, on the head outputs' colour scale."""
    return charts.matrix_view(
        concat,
        list(tokens),
        "Concat(head_1, …, head_H)",
        col_labels=list(column_labels),
        col_title="head · column",
        cell_size=15,
        show_values=False,
        domain=domain,
    )


def narrow_output(d_out: int) -> bool:
    """A thin ``W_o`` (the hand-set heads' 8 columns): the output fits beside it."""
    return d_out <= 10


def output_projection(
    w_o: ArrayLike, row_labels: Sequence[str], output_labels: Sequence[str] | None
) -> charts.Spec:
    """``W_o``, ``(H d_v, d_out)``."""
    return _output_side(w_o, row_labels, output_labels, "W_o", projection=True)


def layer_output(
    output: ArrayLike, tokens: Sequence[str], output_labels: Sequence[str] | None
) -> charts.Spec:
    """The layer's output ``Concat · W_o``, ``(L, d_out)``."""
    return _output_side(output, tokens, output_labels, "output = Concat · W_o", projection=False)


def _output_side(
    matrix: ArrayLike,
    row_labels: Sequence[str],
    output_labels: Sequence[str] | None,
    name: str,
    *,
    projection: bool,
) -> charts.Spec:
    """``W_o`` or the output: both have the ``d_out`` output columns, sized alike."""
    values = as_real(name, matrix, ndim=2, dtype=np.float64)
    narrow = narrow_output(values.shape[1])
    cell = (12 if narrow else 14) if projection else (None if narrow else 18)
    return charts.matrix_view(
        values,
        list(row_labels),
        name,
        col_labels=list(output_labels) if output_labels else None,
        row_title="head · column" if projection else "token",
        col_title="output column",
        cell_size=cell,
        max_width=None if projection else 520,
        show_values=False,
    )
