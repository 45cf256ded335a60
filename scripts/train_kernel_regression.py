"""Regenerate lab/checkpoints/kernel_regression.json, the learned-bandwidth runs
the kernel-regression page shows on its first view (so that view needs no torch).

    .venv/bin/python scripts/train_kernel_regression.py

Deterministic (full-batch Adam in float64 from a fixed start): the test
tests/test_kernel_regression.py retrains and checks the file still matches.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.kernel_regression import (
    CHECKPOINT,
    DataConfig,
    TrainingConfig,
    make_data,
    save_learning_curves,
)
from lab.learned_bandwidth import learn_both


def main() -> None:
    data_config, training = DataConfig(), TrainingConfig()
    data = make_data(data_config)
    curves = learn_both(data.x_train, data.y_train, config=training)
    save_learning_curves(CHECKPOINT, data_config, training, curves)
    for name, curve in curves.items():
        print(f"{name:>5}: h = {curve.final_bandwidth:.4f}, loss = {curve.final_loss:.4f}")
    print(f"wrote {CHECKPOINT}")


if __name__ == "__main__":
    main()
