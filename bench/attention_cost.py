"""Measure the cost of attention against n and rewrite the shipped figures.

Times exact attention (numpy, explicit torch, torch's fused SDPA) and the
approximations (random features, linear, clustered) at n = 64 ... 4096 on one
thread, with the peak memory of each call, through
``lab.cost_of_attention.measure.measure``; prints a table, the fitted log-log
slopes and the crossovers; and writes ``lab/checkpoints/cost_of_attention.json``,
which the cost-of-attention page shows before anyone measures on the server.

    .venv/bin/python bench/attention_cost.py
    .venv/bin/python bench/attention_cost.py --max-n 1024 --output /tmp/costs.json

Takes well under two minutes. The machine's other work shows up as noise, so
the JSON's machine note says so; slopes and ordering are what to read from it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.cost_of_attention import (  # noqa: E402
    BENCHMARK_N_VALUES,
    FIT_MIN_N,
    MAX_BUDGET_SECONDS,
    SHIPPED_MEASUREMENTS,
    CostOfAttentionConfig,
    CrossoverPlace,
    Measurements,
    Method,
    crossover_length,
    measured_crossovers,
    measured_slopes,
    save_measurements,
)
from lab.cost_of_attention.measure import measure  # noqa: E402

DEFAULTS = CostOfAttentionConfig()
METHOD_OF = {"performer": Method.PERFORMER, "linear": Method.LINEAR, "clustered": Method.CLUSTERED}


def print_table(measurements: Measurements) -> None:
    """Milliseconds and peak megabytes per implementation and n, then slopes and crossovers."""
    names = [series.implementation.value for series in measurements.series]
    width = max(len(name) for name in names) + 2
    print("time per call (ms, least over the timed loops)")
    print("n".rjust(6) + "".join(name.rjust(width) for name in names))
    for index, n in enumerate(measurements.n_values):
        cells = [f"{series.seconds[index] * 1e3:.3f}" for series in measurements.series]
        print(f"{n:6d}" + "".join(cell.rjust(width) for cell in cells))
    print("\npeak memory (MB)")
    print("n".rjust(6) + "".join(name.rjust(width) for name in names))
    for index, n in enumerate(measurements.n_values):
        cells = [f"{series.peak_bytes[index] / 1e6:.3f}" for series in measurements.series]
        print(f"{n:6d}" + "".join(cell.rjust(width) for cell in cells))

    print(f"\nlog-log slopes (n >= {FIT_MIN_N})")
    for implementation, fits in measured_slopes(measurements).items():
        memory = f"{fits.peak_bytes.slope:.2f}" if fits.peak_bytes else "n/a"
        print(f"  {implementation.label:32s} time {fits.seconds.slope:5.2f}   memory {memory}")

    settings = measurements.settings
    print("\nwhere the approximations overtake numpy exact attention")
    for implementation, crossover in measured_crossovers(measurements).items():
        if crossover.place is CrossoverPlace.WITHIN_RANGE:
            measured = f"n ≈ {crossover.n:.0f}"
        else:
            measured = crossover.place.value
        model = crossover_length(
            METHOD_OF[implementation.value],
            settings.d,
            num_features=settings.num_features,
            num_clusters=settings.num_clusters,
        )
        print(
            f"  {implementation.label:32s} measured {measured:14s} model (multiply-adds) n = {model}"
        )
    machine = measurements.machine
    print(f"\n{machine.machine}, {machine.threads} thread, torch {machine.torch}")
    print(f"fused kernel: {machine.fused_kernel}; complete: {measurements.complete}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-n", type=int, default=BENCHMARK_N_VALUES[-1])
    parser.add_argument("--d", type=int, default=DEFAULTS.measure_d)
    parser.add_argument("--features", type=int, default=DEFAULTS.measure_features)
    parser.add_argument("--clusters", type=int, default=DEFAULTS.measure_clusters)
    parser.add_argument("--repeats", type=int, default=DEFAULTS.measure_repeats)
    parser.add_argument("--budget", type=float, default=90.0, help="seconds, at most 300")
    parser.add_argument("--output", type=Path, default=SHIPPED_MEASUREMENTS)
    args = parser.parse_args()
    if not 0 < args.budget <= MAX_BUDGET_SECONDS:
        parser.error(f"--budget must be in (0, {MAX_BUDGET_SECONDS}]")

    def show(fraction: float) -> None:
        print(f"\r{fraction:6.1%} measured", end="", file=sys.stderr, flush=True)

    measurements = measure(
        [n for n in BENCHMARK_N_VALUES if n <= args.max_n],
        d=args.d,
        num_features=args.features,
        num_clusters=args.clusters,
        repeats=args.repeats,
        budget_seconds=args.budget,
        progress=show,
    )
    print(file=sys.stderr)
    print_table(measurements)
    save_measurements(measurements, args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
