"""The shipped training runs of the soft-vs-hard page: one JSON file, one load/save pair.

``lab/checkpoints/soft_vs_hard.json`` holds the runs of
:data:`~lab.soft_vs_hard.cue_task.SHIPPED_CONFIGS`, written by
``scripts/train_soft_vs_hard.py``. Floats keep six significant digits (enough
to compare with a fresh run within 1e-4, and a small file); a gradient
statistic that was not measured at a step is stored as ``null`` and read
back as NaN.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np

from lab.soft_vs_hard.cue_task import (
    CueTaskConfig,
    CueTrainConfig,
    Curves,
    TrainingComparison,
    TrainingMethod,
)

CHECKPOINT_PATH = Path(__file__).resolve().parent.parent / "checkpoints" / "soft_vs_hard.json"
SIGNIFICANT_DIGITS = 6  # enough to compare within 1e-4; keeps the file small
_SPARSE = ("total_variance", "noise_to_signal")  # measured at a few steps only


def _plain(value: object, digits: int | None = None) -> object:
    """``value`` as JSON data: NaN as ``None``, floats rounded to ``digits`` significant digits."""
    if isinstance(value, np.ndarray | np.generic):
        return _plain(value.tolist(), digits)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return value if digits is None else float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {str(key): _plain(item, digits) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, digits) for item in value]
    return value


def comparison_to_dict(comparison: TrainingComparison) -> dict:
    """A JSON-ready dict of a comparison (NaN becomes ``None``; floats kept exactly)."""
    return _plain(
        {
            "config": asdict(comparison.config),
            "curves": {str(method): asdict(curve) for method, curve in comparison.curves.items()},
            "examples": comparison.examples,
            "example_weights": {
                str(method): weights for method, weights in comparison.example_weights.items()
            },
        }
    )


def comparison_from_dict(data: dict) -> TrainingComparison:
    """Inverse of :func:`comparison_to_dict`."""
    settings = dict(data["config"])
    config = CueTrainConfig(task=CueTaskConfig(**settings.pop("task")), **settings)
    curves = {}
    for name, entry in data["curves"].items():
        entry = dict(entry)
        for sparse in _SPARSE:
            entry[sparse] = [math.nan if value is None else value for value in entry[sparse]]
        method = TrainingMethod(name)
        curves[method] = Curves(**{**entry, "method": method})  # lists become arrays
    weights = {TrainingMethod(name): rows for name, rows in data["example_weights"].items()}
    return TrainingComparison(config, curves, data["examples"], weights)


def save_comparisons(comparisons: list[TrainingComparison], path: Path = CHECKPOINT_PATH) -> Path:
    """Write ``comparisons`` to ``path`` (the shipped file by default); returns the path.

    Floats keep ``SIGNIFICANT_DIGITS`` significant digits.
    """
    runs = [comparison_to_dict(comparison) for comparison in comparisons]
    payload = {"runs": _plain(runs, SIGNIFICANT_DIGITS)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, separators=(",", ":"), ensure_ascii=False) + "\n")
    return path


def load_comparisons(path: Path = CHECKPOINT_PATH) -> tuple[TrainingComparison, ...]:
    """The comparisons written by :func:`save_comparisons`, in the order they were saved.

    Raises:
        FileNotFoundError: no file at ``path`` (run ``scripts/train_soft_vs_hard.py``).
        ValueError: the file is not a saved list of comparisons.
    """
    try:
        payload = json.loads(Path(path).read_text())
        return tuple(comparison_from_dict(entry) for entry in payload["runs"])
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no shipped runs at {path}; run scripts/train_soft_vs_hard.py to make them"
        ) from None
    except (KeyError, TypeError, ValueError) as problem:
        raise ValueError(f"{path} is not a file of soft-vs-hard runs: {problem}") from None
