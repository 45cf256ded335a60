"""Train the two translation models of the alignment page and write their checkpoints.

    .venv/bin/python scripts/train_alignment.py                  # both shipped models
    .venv/bin/python scripts/train_alignment.py --scoring dot    # one of them
    .venv/bin/python scripts/train_alignment.py --seed 3 --out /tmp/aligners  # elsewhere

Same seed, same weights (torch on CPU with one thread is deterministic for this
model). Each checkpoint is lab/checkpoints/alignment_<scoring>.npz (float32
weights) and alignment_<scoring>.json (configuration, held-out metrics with
their chance levels, training curves and where the misleading examples are),
which tests/alignment/ checks again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.alignment.model import (
    AlignmentConfig,
    Scoring,
    checkpoint_path,
    misleading_example,
    save_aligner,
)
from lab.alignment.train import train


def main() -> int:
    defaults = AlignmentConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scoring",
        choices=[scoring.value for scoring in Scoring],
        action="append",
        help="which model to train (repeat for both; default: both)",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="training seed")
    parser.add_argument("--epochs", type=int, default=defaults.epochs, help="training epochs")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the checkpoints (default: lab/checkpoints)",
    )
    args = parser.parse_args()

    for scoring in [Scoring(value) for value in args.scoring or [s.value for s in Scoring]]:
        config = AlignmentConfig(scoring=scoring, seed=args.seed, epochs=args.epochs)

        def progress(step: int, total: int, loss: float) -> None:
            print(f"  step {step:4d}/{total}  loss {loss:.4f}", flush=True)

        print(f"{scoring.label} scoring, seed {config.seed}:")
        aligner = train(config, progress=progress)
        path = checkpoint_path(scoring)
        if args.out is not None:
            path = args.out / path.name
        weights_path, record_path = save_aligner(aligner, path)
        size = weights_path.stat().st_size + record_path.stat().st_size
        print(f"wrote {weights_path} and {record_path} ({size / 1024:.0f} KB in all)")
        for name, value in aligner.metrics.items():
            print(f"  {name}: {value:.4f}")
        for example in aligner.examples:
            case = misleading_example(aligner, example.reading)
            assert case is not None
            print(
                f"  {example.reading.value}: “{' '.join(case.pair.source)}”, output word "
                f"{case.step.step + 1} “{case.pair.target_tokens[case.step.step]}” "
                f"(true source “{case.true_word}”, weight {case.step.on_truth:.2f}; "
                f"most weight on “{case.attended_word}”, {case.step.top_weight:.2f}; "
                f"model said “{case.predicted[case.step.step]}”)"
            )
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
