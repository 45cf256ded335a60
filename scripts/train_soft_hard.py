"""Train the soft-vs-hard comparison and write the curves the page shows first.

    .venv/bin/python scripts/train_soft_hard.py            # writes lab/data/soft_hard_curves.json
    .venv/bin/python scripts/train_soft_hard.py --check    # only compares with the shipped file

The page opens on these shipped curves (no training on the first view); its
"Retrain" button runs the same code, so with the default settings it
reproduces this file. tests/test_hard_training.py checks that it does.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lab.hard_training import TrainConfig, compare_methods, comparison_to_dict  # noqa: E402

CURVES_PATH = ROOT / "lab" / "data" / "soft_hard_curves.json"
SIGNIFICANT_DIGITS = 6  # enough to compare within 1e-4; keeps the file small


def _round(value: object) -> object:
    """Round every float to ``SIGNIFICANT_DIGITS`` significant digits, recursively."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {key: _round(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_round(item) for item in value]
    return value


def build_payload(seed: int = 0) -> dict:
    """Train the three methods with the default settings and ``seed``; a JSON-ready dict."""
    comparison = compare_methods(TrainConfig(seed=seed))
    return _round(comparison_to_dict(comparison))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=CURVES_PATH)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    started = time.perf_counter()
    payload = build_payload(args.seed)
    elapsed = time.perf_counter() - started
    if args.check:
        shipped = json.loads(args.out.read_text())
        same = shipped["curves"].keys() == payload["curves"].keys() and all(
            shipped["curves"][method][name] == payload["curves"][method][name]
            for method in payload["curves"]
            for name in ("steps", "loss", "accuracy")
        )
        print(f"trained in {elapsed:.1f} s; shipped file {'matches' if same else 'DIFFERS'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    size = args.out.stat().st_size / 1024
    print(f"trained in {elapsed:.1f} s; wrote {args.out.relative_to(ROOT)} ({size:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
