"""Train the soft-vs-hard comparisons and write the runs the page shows without training.

    .venv/bin/python scripts/train_soft_vs_hard.py          # writes lab/checkpoints/soft_vs_hard.json
    .venv/bin/python scripts/train_soft_vs_hard.py --check  # only compares with the shipped file

It trains every config of ``lab.soft_vs_hard.SHIPPED_CONFIGS``: the page's
first view (10 items, 600 steps) and the harder task of its training exercise
(16 items, 200 steps). The page's "Retrain" button runs the same code, so with
those settings it reproduces this file; tests/soft_vs_hard/test_train.py checks
that it does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import lab.soft_vs_hard as soft_vs_hard  # noqa: E402
from lab.soft_vs_hard.train import compare_training_methods  # noqa: E402

COMPARED = ("steps", "loss", "accuracy")  # the curves --check requires to match


def build_runs() -> list[soft_vs_hard.TrainingComparison]:
    """Train the three methods for every shipped config, in order."""
    return [compare_training_methods(config) for config in soft_vs_hard.SHIPPED_CONFIGS]


def same_curves(
    shipped: soft_vs_hard.TrainingComparison,
    fresh: soft_vs_hard.TrainingComparison,
    tolerance: float = 1e-4,
) -> bool:
    """Whether two comparisons have the same settings and curves (within ``tolerance``)."""
    ours, theirs = soft_vs_hard.comparison_to_dict(fresh), soft_vs_hard.comparison_to_dict(shipped)
    if ours["config"] != theirs["config"] or ours["curves"].keys() != theirs["curves"].keys():
        return False
    return all(
        len(ours["curves"][method][name]) == len(theirs["curves"][method][name])
        and all(
            abs(a - b) <= tolerance * max(1.0, abs(b))
            for a, b in zip(
                ours["curves"][method][name], theirs["curves"][method][name], strict=True
            )
        )
        for method in ours["curves"]
        for name in COMPARED
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=soft_vs_hard.CHECKPOINT_PATH)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    started = time.perf_counter()
    runs = build_runs()
    elapsed = time.perf_counter() - started
    if args.check:
        shipped = soft_vs_hard.load_comparisons(args.out)
        same = len(shipped) == len(runs) and all(
            same_curves(old, new) for old, new in zip(shipped, runs, strict=True)
        )
        print(f"trained in {elapsed:.1f} s; shipped file {'matches' if same else 'DIFFERS'}")
        return 0 if same else 1
    path = soft_vs_hard.save_comparisons(runs, args.out)
    size = path.stat().st_size / 1024
    print(f"trained in {elapsed:.1f} s; wrote {path} ({size:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
