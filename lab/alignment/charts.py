"""Chart builders of the alignment page: plain Vega-Lite dicts, no Streamlit.

* :func:`alignment_heatmap`: an attention map with source words on x (keys)
  and output words on y (queries), the true alignment outlined on top of
  :func:`lab.charts.weights_heatmap`'s cells;
* :func:`truth_bars`: per output word, the weight on its true source word,
  one bar per scoring function;
* :func:`training_curves`: loss, held-out accuracy and alignment score per
  epoch, side by side, one colour per scoring function;
* :func:`seed_dots`: accuracy and alignment score of models trained from
  several seeds, on one 0-to-1 axis.

Every chart colours a scoring function the same way (:data:`SCORING_COLORS`),
and the true alignment is always the orange outline (:data:`TRUTH_COLOR`).

Shapes:
    L   output positions (queries; the decoder's steps)
    S   source positions (keys and values; the words and ``<eos>``)
    W   output words with a true source word
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lab import charts
from lab.alignment.grammar import EOS
from lab.alignment.model import Scoring
from lab.checks import as_bool, as_real

# One colour per scoring function on the whole page: neither the heatmap's blues
# nor the outline's orange, and apart for colour-blind viewers.
SCORING_COLORS: dict[Scoring, str] = {Scoring.ADDITIVE: "#2b8a3e", Scoring.DOT: "#7b3fb5"}
TRUTH_COLOR = charts.ACCENT  # the true alignment's outline
MOST_WEIGHT_COLOR = charts.INK  # the dashed outline of a row's largest weight
BAR_STEP = 12  # pixels per bar; a word's band holds one bar per scoring function
CURVES = (  # curve name in a TrainedAligner, panel title, y domain
    ("loss", "training loss (cross-entropy)", None),
    ("accuracy", "held-out token accuracy", (0.0, 1.0)),
    ("alignment", "held-out alignment score", (0.0, 1.0)),
)


def step_labels(predicted: Sequence[str], expected: Sequence[str]) -> list[str]:
    """Row labels of a teacher-forced map: the word ranked first, and the right one if it differs.

    ``["lo", "rusa (not peti)"]`` for predicted ``["lo", "rusa"]`` and expected ``["lo", "peti"]``.
    """
    if len(predicted) != len(expected):
        raise ValueError(
            f"predicted has {len(predicted)} words but expected has {len(expected)}; "
            "give one of each per step"
        )
    return [
        said if said == right else f"{said} (not {right})"
        for said, right in zip(predicted, expected, strict=True)
    ]


def word_outline(outline: ArrayLike | None, reference: Sequence[str] | None) -> np.ndarray | None:
    """The outline of the output *words*: rows where the reference has ``<eos>`` cleared.

    The alignment score leaves the ``<eos>`` row out (the end marker translates no
    word), so the page outlines only the rows it scores.

    Args:
        outline: ``(L, S)`` boolean, or ``None``.
        reference: the reference tokens (words and ``<eos>``), or ``None``.

    Returns:
        A new ``(L, S)`` array, or ``None`` if either input is ``None``.
    """
    if outline is None or reference is None:
        return None
    words = as_bool("outline", outline).copy()
    for row, token in enumerate(reference[: words.shape[0]]):
        if token == EOS:
            words[row] = False
    return words


def _scoring_color(field: str, drawn: Iterable[Scoring] = tuple(Scoring)) -> dict[str, Any]:
    """A colour encoding that gives each drawn scoring function its page-wide colour."""
    shown = [scoring for scoring in Scoring if scoring in set(drawn)]
    return {
        "field": field,
        "type": "nominal",
        "title": "scoring",
        "scale": {
            "domain": [scoring.label for scoring in shown],
            "range": [SCORING_COLORS[scoring] for scoring in shown],
        },
        "legend": {"orient": "top", "title": None},
    }


def alignment_heatmap(
    attention: ArrayLike,
    source_labels: Sequence[str],
    output_labels: Sequence[str],
    outline: ArrayLike | None = None,
    *,
    title: str,
    most_weight_row: int | None = None,
    max_width: int | None = None,
    cell_size: int | None = None,
    legend: bool = True,
    show_values: bool | None = None,
) -> charts.Spec:
    """An alignment map with the true alignment outlined.

    The cells are :func:`lab.charts.weights_heatmap` (``x`` = source positions,
    the keys; ``y`` = output positions, the queries; 0 to 1 in blues); an
    orange outline marks every ``True`` cell of ``outline``. Axes are keyed by
    position, so a repeated word keeps its own row or column.

    Args:
        attention: ``(L, S)``, each row a distribution over the source positions.
        source_labels: ``S`` source tokens (x axis).
        output_labels: ``L`` output tokens (y axis).
        outline: ``(L, S)`` boolean, ``True`` at each row's true source position
            (rows without one stay all ``False``); ``None`` draws no outline.
        title: the chart title.
        most_weight_row: also outline, dashed, the largest weight of this row
            (where a misleading step looked).
        max_width, cell_size, legend, show_values: as in :func:`lab.charts.heatmap`.

    Returns:
        A layered Vega-Lite spec with datasets ``cells`` (and ``truth``, ``focus``).
    """
    weights = as_real("attention", attention, ndim=2, finite=True, dtype=np.float64)
    n_rows, n_cols = weights.shape
    spec = charts.weights_heatmap(
        weights,
        output_labels,
        source_labels,
        title=title,
        row_title="output word (query)",
        col_title="source word (key)",
        max_width=max_width,
        cell_size=cell_size,
        legend=legend,
        show_values=show_values,
    )
    rows = charts.check_labels("output_labels", output_labels, n_rows)
    cols = charts.check_labels("source_labels", source_labels, n_cols)
    marked = np.zeros(weights.shape, dtype=bool)
    if outline is not None:
        marked = as_bool("outline", outline)
        if marked.shape != weights.shape:
            raise ValueError(
                f"outline has shape {marked.shape} but attention has {weights.shape}; "
                "give one True/False per cell"
            )
    layers = list(spec["layer"])
    datasets = dict(spec["datasets"])
    described = f"{n_rows} output words by {n_cols} source words of attention weight"
    if marked.any():
        row_index, col_index = np.nonzero(marked)
        datasets["truth"] = _cell_records(weights, rows, cols, row_index, col_index)
        layers.append(
            _outline_layer("truth", TRUTH_COLOR, "true source word", dashed=False, width=3)
        )
        described += f"; {len(row_index)} cells outlined in orange mark the true alignment"
    if most_weight_row is not None:
        if not 0 <= most_weight_row < n_rows:
            raise ValueError(
                f"most_weight_row must lie in [0, {n_rows - 1}], got {most_weight_row}"
            )
        column = int(np.argmax(weights[most_weight_row]))
        datasets["focus"] = _cell_records(weights, rows, cols, [most_weight_row], [column])
        layers.append(
            _outline_layer("focus", MOST_WEIGHT_COLOR, "largest weight of the row", dashed=True)
        )
        described += (
            f"; a dashed outline marks the largest weight of row {most_weight_row} "
            f"({rows[most_weight_row]}), on {cols[column]}"
        )
    return {**spec, "datasets": datasets, "layer": layers, "description": f"{title}: {described}."}


def _cell_records(
    weights: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    row_index: Sequence[int],
    col_index: Sequence[int],
) -> list[dict[str, Any]]:
    """Records of chosen cells with the fields the heatmap's axes and tooltips read."""
    return charts.table(
        row=np.asarray(row_index, dtype=int),
        col=np.asarray(col_index, dtype=int),
        row_label=[rows[r] for r in row_index],
        col_label=[cols[c] for c in col_index],
        text=[format(weights[r, c], ".2f") for r, c in zip(row_index, col_index, strict=True)],
    )


def _outline_layer(
    name: str, color: str, meaning: str, *, dashed: bool, width: float = 2
) -> charts.Spec:
    """Unfilled rectangles around the cells of dataset ``name``, with their own tooltip."""
    mark: dict[str, Any] = {
        "type": "rect",
        "filled": False,
        "color": color,
        "strokeWidth": width,
        "description": meaning,
    }
    if dashed:
        # inside the cell, so an orange outline on the same cell stays visible around it
        mark |= {"strokeDash": [4, 3], "width": {"band": 0.7}, "height": {"band": 0.7}}
    return {
        "data": {"name": name},
        "mark": mark,
        "encoding": {
            "tooltip": [
                {"field": "row_label", "type": "nominal", "title": "output word (query)"},
                {"field": "col_label", "type": "nominal", "title": meaning},
                {"field": "text", "type": "nominal", "title": "weight"},
            ]
        },
    }


def _reference_rule(dataset: str, channel: str, field: str) -> charts.Spec:
    """A dashed grey rule at each value of ``field`` in ``dataset`` (a level to compare with).

    Decorative for screen readers (``aria`` off): the chart's description states the level.
    """
    return {
        "data": {"name": dataset},
        "mark": {"type": "rule", "color": charts.FAINT, "strokeDash": [4, 3], "aria": False},
        "encoding": {channel: {"field": field, "type": "quantitative"}},
    }


def truth_bars(
    word_labels: Sequence[str],
    shares: Mapping[Scoring, ArrayLike],
    *,
    title: str,
    uniform: float | None = None,
    width: int = 300,
) -> charts.Spec:
    """Per output word, the weight on its true source word: one bar per scoring function.

    Args:
        word_labels: ``W`` labels, one per output word (e.g. ``"kano ← dog"``).
        shares: scoring function -> ``(W,)`` weights in ``[0, 1]``.
        title: the chart title.
        uniform: draw a dashed rule here (``1 / S``: what uniform attention gives).
        width: pixels of the weight axis.
    """
    if not shares:
        raise ValueError("truth_bars needs the weights of at least one scoring function")
    labels = [str(label) for label in word_labels]
    columns: dict[str, list[Any]] = {"word": [], "label": [], "scoring": [], "weight": []}
    columns["text"] = []
    for scoring, values in shares.items():
        array = as_real(f"shares[{scoring.value}]", values, ndim=1, finite=True)
        charts.check_labels("word_labels", labels, array.shape[0])
        columns["word"] += list(range(len(labels)))
        columns["label"] += labels
        columns["scoring"] += [scoring.label] * len(labels)
        columns["weight"] += array.tolist()
        columns["text"] += [format(value, ".2f") for value in array]
    y = {
        "field": "word",
        "type": "ordinal",
        "sort": "ascending",
        "axis": charts.position_axis(labels, "output word ← its true source word", x=False),
    }
    x = {
        "field": "weight",
        "type": "quantitative",
        "title": "weight on the true source word",
        "scale": {"domain": [0, 1]},
    }
    layers: list[charts.Spec] = [
        {
            "data": {"name": "bars"},
            "mark": {"type": "bar", "height": {"band": 0.8}},
            "encoding": {
                "y": y,
                "x": x,
                "yOffset": {"field": "scoring", "sort": [s.label for s in Scoring]},
                "color": _scoring_color("scoring", shares),
                "tooltip": [
                    {"field": "label", "type": "nominal", "title": "output word ← source"},
                    {"field": "scoring", "type": "nominal"},
                    {"field": "text", "type": "nominal", "title": "weight on true word"},
                ],
            },
        }
    ]
    datasets = {"bars": charts.table(**columns)}
    described = f"{len(labels)} output words, {len(shares)} scoring function(s)"
    if uniform is not None:
        datasets["uniform"] = [{"weight": float(uniform)}]
        layers.append(_reference_rule("uniform", "x", "weight"))
        described += f"; a dashed line at {uniform:.3f} is what uniform attention would give"
    return charts.top_level(
        {
            "datasets": datasets,
            "width": width,
            "height": {"step": BAR_STEP, "for": "offset"},
            "layer": layers,
        },
        title=title,
        description=f"{title}: {described}.",
    )


def training_curves(
    runs: Sequence[tuple[str, Scoring, Mapping[str, Sequence[float]]]],
    *,
    title: str,
    chance: Mapping[str, float] | None = None,
    panel_width: int = 230,
) -> charts.Spec:
    """Loss, held-out accuracy and alignment score per epoch: three panels side by side.

    Args:
        runs: ``(name, scoring, curves)`` per training run; ``curves`` holds
            ``loss``, ``accuracy`` and ``alignment``, one value per epoch (as
            :attr:`~lab.alignment.model.TrainedAligner.curves`). Colour follows
            the scoring function; when one scoring function has several runs, the dash
            tells them apart.
        title: the chart title.
        chance: curve name -> a chance level drawn as a dashed grey rule.
        panel_width: pixels of each panel's epoch axis.
    """
    if not runs:
        raise ValueError("training_curves needs at least one run")
    columns: dict[str, list[Any]] = {
        "run": [],
        "scoring": [],
        "curve": [],
        "epoch": [],
        "value": [],
    }
    for name, scoring, curves in runs:
        for curve, _, _ in CURVES:
            if curve not in curves:
                raise ValueError(
                    f"run {name!r} has no {curve!r} curve; give loss, accuracy, alignment"
                )
            values = as_real(f"{name} {curve}", curves[curve], ndim=1, finite=True)
            columns["run"] += [name] * len(values)
            columns["scoring"] += [scoring.label] * len(values)
            columns["curve"] += [curve] * len(values)
            columns["epoch"] += list(range(1, len(values) + 1))
            columns["value"] += values.tolist()
    names = list(dict.fromkeys(name for name, _, _ in runs))
    datasets: dict[str, list[dict[str, Any]]] = {"curves": charts.table(**columns)}
    chance = dict(chance or {})
    if chance:
        datasets["chance"] = charts.table(curve=list(chance), value=list(chance.values()))
    panels = []
    for curve, panel_title, domain in CURVES:
        line_encoding: dict[str, Any] = {
            "x": {
                "field": "epoch",
                "type": "quantitative",
                "title": "epoch",
                "axis": {"tickMinStep": 1, "format": "d"},
            },
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": None,
                "scale": {"domain": list(domain)} if domain else {"zero": True},
            },
            "color": _scoring_color("scoring", [scoring for _, scoring, _ in runs]),
            "detail": {"field": "run", "type": "nominal"},
            "tooltip": [
                {"field": "run", "type": "nominal"},
                {"field": "epoch", "type": "quantitative"},
                {"field": "value", "type": "quantitative", "format": ".3f", "title": curve},
            ],
        }
        if len(names) > len({scoring for _, scoring, _ in runs}):
            line_encoding["strokeDash"] = {
                "field": "run",
                "type": "nominal",
                "sort": names,
                "scale": {"domain": names, "range": [[1, 0], [5, 3], [2, 2]][: len(names)]},
                "legend": {"orient": "top", "title": None, "symbolType": "stroke"},
            }
        layers: list[charts.Spec] = [
            {
                "data": {"name": "curves"},
                "transform": [{"filter": {"field": "curve", "equal": curve}}],
                "mark": {"type": "line", "point": True, "strokeWidth": 2},
                "encoding": line_encoding,
            }
        ]
        if curve in chance:
            rule = _reference_rule("chance", "y", "value")
            layers.append({**rule, "transform": [{"filter": {"field": "curve", "equal": curve}}]})
        panels.append({"title": panel_title, "width": panel_width, "height": 170, "layer": layers})
    drawn = ", ".join(f"{curve} ({scoring.label})" for curve, scoring, _ in runs)
    rules = (
        "; dashed grey lines mark chance: "
        + ", ".join(f"{name} {value:.3f}" for name, value in chance.items())
        if chance
        else ""
    )
    return charts.top_level(
        {
            "datasets": datasets,
            "hconcat": panels,
            "resolve": {"scale": {"color": "shared", "strokeDash": "shared"}},
        },
        title=title,
        description=f"{title}: loss, held-out token accuracy and held-out alignment score "
        f"per epoch for {drawn}{rules}.",
    )


def seed_dots(
    scorings: Sequence[Scoring],
    seeds: ArrayLike,
    token_accuracy: ArrayLike,
    alignment_score: ArrayLike,
    *,
    title: str,
    width: int = 460,
) -> charts.Spec:
    """Token accuracy and alignment score of each training seed, on one 0-to-1 axis.

    One row per measure, one dot per (scoring function, seed): accuracies pile
    up near 1 while alignment scores spread. The columns are those of
    :func:`lab.alignment.sweep.sweep_columns` (arrays hash fast as cache keys).

    Args:
        scorings: ``N`` scoring functions, one per trained model.
        seeds: ``(N,)`` training seeds.
        token_accuracy: ``(N,)`` held-out token accuracies.
        alignment_score: ``(N,)`` held-out alignment scores.
    """
    seed_ids = np.asarray(seeds)
    accuracy = as_real("token_accuracy", token_accuracy, ndim=1, finite=True)
    alignment = as_real("alignment_score", alignment_score, ndim=1, finite=True)
    count = len(scorings)
    if count == 0:
        raise ValueError("seed_dots needs at least one result")
    if not seed_ids.shape == accuracy.shape == alignment.shape == (count,):
        raise ValueError(
            f"give one seed, accuracy and alignment score per scoring function: {count} "
            f"scorings, shapes {seed_ids.shape}, {accuracy.shape}, {alignment.shape}"
        )
    measures = ("token accuracy", "alignment score")
    rows = charts.table(
        measure=[measures[0]] * count + [measures[1]] * count,
        scoring=[scoring.label for scoring in scorings] * 2,
        seed=np.concatenate([seed_ids, seed_ids]).astype(int),
        value=np.concatenate([accuracy, alignment]),
    )
    return charts.top_level(
        {
            "datasets": {"seeds": rows},
            "data": {"name": "seeds"},
            "width": width,
            "height": {"step": 34},
            "mark": {"type": "point", "filled": True, "size": 70, "opacity": 0.85},
            "encoding": {
                "x": {
                    "field": "value",
                    "type": "quantitative",
                    "title": "held-out value",
                    "scale": {"domain": [0, 1]},
                },
                "y": {"field": "measure", "type": "nominal", "sort": list(measures), "title": None},
                "yOffset": {"field": "scoring", "sort": [s.label for s in Scoring]},
                "color": _scoring_color("scoring", scorings),
                "tooltip": [
                    {"field": "scoring", "type": "nominal"},
                    {"field": "seed", "type": "quantitative"},
                    {"field": "measure", "type": "nominal"},
                    {"field": "value", "type": "quantitative", "format": ".3f"},
                ],
            },
        },
        title=title,
        description=f"{title}: token accuracy and alignment score of {count} trained "
        "models, one dot per scoring function and seed.",
    )
