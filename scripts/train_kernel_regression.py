"""Regenerate lab/checkpoints/kernel_regression.json, the learned-bandwidth runs
the kernel-regression page shows on its first view (so that view needs no torch).

    .venv/bin/python scripts/train_kernel_regression.py

Deterministic (full-batch Adam in float64 from a fixed start): the test
tests/kernel_regression/test_train.py retrains and checks the file still matches.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.kernel_regression import CHECKPOINT, DataConfig, TrainingConfig, save_learning_runs
from lab.kernel_regression.train import learn_both


def main() -> None:
    runs = learn_both(DataConfig(), TrainingConfig())
    save_learning_runs(runs)
    for objective, curve in runs.curves.items():
        print(
            f"{objective.value:>5}: h = {curve.final_bandwidth:.4f}, loss = {curve.final_loss:.4f}"
        )
    print(f"wrote {CHECKPOINT}")


if __name__ == "__main__":
    main()
