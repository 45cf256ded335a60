"""Train the tiny transformer of the multi-head page and write its checkpoint.

    .venv/bin/python scripts/train_tiny_transformer.py            # the shipped model
    .venv/bin/python scripts/train_tiny_transformer.py --seed 7   # another seed
    .venv/bin/python scripts/train_tiny_transformer.py --out /tmp/tiny  # elsewhere

Same seed, same weights (torch on CPU, one thread, is deterministic for this
model). The checkpoint is lab/checkpoints/multi_head.npz (float32 weights) and
multi_head.json (configuration, metrics and every head's pattern scores on
held-out sentences, which tests/multi_head/test_tiny_transformer.py checks again).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lab.multi_head as multi_head
from lab.multi_head.train import train


def main() -> int:
    defaults = multi_head.TinyTrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=defaults.seed, help="training seed")
    parser.add_argument("--steps", type=int, default=defaults.steps, help="Adam steps")
    parser.add_argument(
        "--out", type=Path, default=multi_head.CHECKPOINT, help="checkpoint path (.npz)"
    )
    args = parser.parse_args()

    train_config = replace(defaults, seed=args.seed, steps=args.steps)

    def progress(step: int, total: int, loss: float) -> None:
        if step % max(1, total // 10) == 0 or step == total:
            print(f"step {step:5d}/{total}  loss {loss:.4f}", flush=True)

    model = train(multi_head.TinyConfig(), train_config, progress=progress)
    weights_path, record_path = multi_head.save_checkpoint(model, args.out)
    print(f"\nwrote {weights_path} ({weights_path.stat().st_size / 1024:.0f} KB) and {record_path}")
    for name, value in model.metrics.items():
        print(f"  {name}: {value:.4f}")
    print(f"\npattern scores on {train_config.eval_sentences} held-out sentences:")
    print("  head     " + "  ".join(f"{name.value[:10]:>10}" for name in multi_head.PATTERNS))
    for layer, heads in enumerate(model.scores):
        for head, row in enumerate(heads):
            cells = "  ".join(f"{value:10.3f}" for value in row)
            print(f"  L{layer + 1} H{head + 1}    {cells}")
    found = {
        f"L{layer + 1} H{head + 1}": multi_head.PATTERN_LABELS[pattern]
        for (layer, head), pattern in multi_head.specialised_heads(model).items()
    }
    print(f"\nheads scoring >= {multi_head.SPECIALISED_AT} on one pattern: {found or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
