"""Slope fits and crossovers on synthetic data; the measurements file and the shipped one."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

import lab.cost_of_attention.timings as timings
from lab.cost_of_attention import FIT_MIN_N
from tests.refusals import assert_refuses

SIZES = np.array([64, 128, 256, 512, 1024, 2048])


# ----------------------------------------------------------------------------- slope fit


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5])
def test_fit_recovers_an_exact_power_law(power):
    fit = timings.fit_log_log_slope(SIZES, 3e-7 * SIZES**power)
    assert fit.slope == pytest.approx(power, abs=1e-12)
    assert fit.prefactor == pytest.approx(3e-7, rel=1e-9)
    assert fit.r_squared == pytest.approx(1.0)
    assert (fit.n_min, fit.n_max) == (64, 2048)
    np.testing.assert_allclose(fit.predict(SIZES), 3e-7 * SIZES**power, rtol=1e-9)


def test_fit_on_noisy_quadratic_data_stays_near_two():
    rng = np.random.default_rng(0)
    sizes = np.geomspace(32, 4096, 15)
    times = 1e-8 * sizes**2 * np.exp(rng.normal(0, 0.1, sizes.size))  # 10 % multiplicative noise
    fit = timings.fit_log_log_slope(sizes, times)
    # The slope's standard error is 0.1 / (std(log n) sqrt(N)) = 0.018; allow four of them.
    assert fit.slope == pytest.approx(2.0, abs=0.075)
    assert 0.98 < fit.r_squared < 1.0


def test_min_n_leaves_out_the_overhead_dominated_sizes():
    # A fixed overhead of 30 µs on top of 1e-9 n^2 s: it dominates up to n = 173, so the
    # small sizes flatten a fit over all points (1.43) but not one over n >= 512 (1.93).
    times = 3e-5 + 1e-9 * SIZES.astype(float) ** 2
    everything = timings.fit_log_log_slope(SIZES, times)
    large = timings.fit_log_log_slope(SIZES, times, min_n=512)
    assert everything.slope < 1.5
    assert large.slope > 1.9
    assert large.n_min == 512


def test_power_law_reference_passes_through_its_anchor_with_the_given_slope():
    line = timings.power_law_reference(SIZES, through_n=1024, through_value=0.5)
    assert line[SIZES.tolist().index(1024)] == pytest.approx(0.5)
    assert timings.fit_log_log_slope(SIZES, line).slope == pytest.approx(2.0)
    root = timings.power_law_reference([4, 16], through_n=4, through_value=1.0, power=-0.5)
    np.testing.assert_allclose(root, [1.0, 0.5])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: timings.fit_log_log_slope([1, 2, 3], [1.0, 2.0]),
            "n_values has 3 entries but values has 2; give one value per n",
        ),
        (
            lambda: timings.fit_log_log_slope([1, 2], [1.0, 0.0]),
            "n_values and values must be positive to take their logarithms",
        ),
        (
            lambda: timings.fit_log_log_slope([4, 4], [1.0, 2.0]),
            "a slope needs at least two distinct sizes, got [4.0, 4.0]",
        ),
        (
            lambda: timings.fit_log_log_slope([1, 2, 4], [1.0, 2.0, 3.0], min_n=4),
            "a slope needs at least two distinct sizes, got [4.0] at n >= 4",
        ),
        (
            lambda: timings.power_law_reference([1, 2], through_n=0, through_value=1.0),
            "through_n must be positive, got 0",
        ),
    ],
)
def test_bad_fit_inputs_say_what_to_fix(call, message):
    assert_refuses(call, message)


# ----------------------------------------------------------------------------- crossover


def test_crossover_of_two_power_laws_is_where_they_meet():
    # 1e-8 n^2 (exact) and 1e-6 n (approximation) meet at n = 100, between 64 and 128.
    sizes = np.array([16, 32, 64, 128, 256])
    crossover = timings.measured_crossover(sizes, 1e-8 * sizes**2.0, 1e-6 * sizes)
    assert crossover.place is timings.CrossoverPlace.WITHIN_RANGE
    assert crossover.n == pytest.approx(100.0)


def test_crossover_below_and_above_the_measured_range():
    sizes = np.array([10, 20, 40])
    below = timings.measured_crossover(sizes, [2.0, 4.0, 8.0], [1.0, 1.0, 1.0])
    above = timings.measured_crossover(sizes, [1.0, 2.0, 4.0], [5.0, 6.0, 7.0])
    assert (below.place, below.n) == (timings.CrossoverPlace.BELOW_RANGE, None)
    assert (above.place, above.n) == (timings.CrossoverPlace.ABOVE_RANGE, None)


def test_a_noisy_flip_uses_the_last_time_the_approximation_was_slower():
    sizes = np.array([10, 20, 40, 80])
    exact = np.array([1.0, 1.0, 1.0, 1.0])
    approximate = np.array([2.0, 0.5, 1.0, 0.5])  # faster at 20 by chance, slower at 40 again
    crossover = timings.measured_crossover(sizes, exact, approximate)
    assert crossover.place is timings.CrossoverPlace.WITHIN_RANGE
    assert crossover.n == pytest.approx(40.0)  # equal at 40: the lines cross right there


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: timings.measured_crossover([1, 2], [1.0, 2.0], [1.0]),
            "n_values, exact_seconds and approximate_seconds have 2, 2 and 1 entries; "
            "give one time per n",
        ),
        (
            lambda: timings.measured_crossover([], [], []),
            "no sizes were given; measure at least one n",
        ),
        (
            lambda: timings.measured_crossover([2, 1], [1.0, 1.0], [1.0, 1.0]),
            "n_values must increase, got [2.0, 1.0]",
        ),
        (
            lambda: timings.measured_crossover([1, 2], [1.0, -1.0], [1.0, 1.0]),
            "sizes and times must be positive",
        ),
    ],
)
def test_bad_crossover_inputs_say_what_to_fix(call, message):
    assert_refuses(call, message)


# ----------------------------------------------------------------------------- the record


def synthetic_measurements(complete: bool = True) -> timings.Measurements:
    """Power-law times (n^2 exact, n approximations) and memory, for every implementation."""
    sizes = (64, 128, 256, 512)
    series = []
    for index, implementation in enumerate(timings.Implementation):
        power = 2 if implementation.exact else 1
        seconds = tuple(1e-9 * (index + 1) * n**power for n in sizes)
        peak_bytes = tuple(int(4 * n**power) for n in sizes)
        series.append(timings.Series(implementation, seconds, peak_bytes))
    settings = timings.MeasureSettings(
        n_values=(*sizes, 1024),
        d=64,
        num_features=64,
        num_clusters=16,
        repeats=3,
        seed=0,
        dtype="float32",
        budget_seconds=3.0,
        min_loop_seconds=0.005,
    )
    machine = timings.MachineInfo(
        machine="test machine",
        cpu_count=2,
        threads=1,
        python="3.11",
        numpy="2",
        torch="2",
        scikit_learn="1",
        fused_kernel="aten::_scaled_dot_product_flash_attention_for_cpu",
        date="2026-01-01T00:00:00+00:00",
        note="synthetic",
    )
    return timings.Measurements(settings, machine, sizes, tuple(series), complete)


def test_measurements_round_trip_through_json(tmp_path):
    original = synthetic_measurements(complete=False)
    path = tmp_path / "nested" / "measurements.json"
    timings.save_measurements(original, path)
    assert timings.load_measurements(path) == original
    record = json.loads(path.read_text())
    assert record["series"][0]["memory_method"] == "tracemalloc"
    assert record["series"][1]["memory_method"] == "torch.profiler"


def test_slopes_and_crossovers_of_a_record():
    measurements = synthetic_measurements()
    fits = timings.measured_slopes(measurements, min_n=128)
    assert set(fits) == set(timings.Implementation)
    assert fits[timings.Implementation.NUMPY].seconds.slope == pytest.approx(2.0)
    assert fits[timings.Implementation.PERFORMER].seconds.slope == pytest.approx(1.0)
    assert fits[timings.Implementation.TORCH_FUSED].peak_bytes.slope == pytest.approx(2.0)
    assert fits[timings.Implementation.NUMPY].seconds.n_min == 128
    # Too few sizes at or above min_n: the two largest are used.
    assert (
        timings.measured_slopes(measurements, min_n=4096)[
            timings.Implementation.NUMPY
        ].seconds.n_min
        == 256
    )
    crossovers = timings.measured_crossovers(measurements)
    assert set(crossovers) == {
        timings.Implementation.PERFORMER,
        timings.Implementation.LINEAR,
        timings.Implementation.CLUSTERED,
    }
    # numpy exact is 1e-9 n^2, random features 4e-9 n: they meet at n = 4, below the range.
    assert crossovers[timings.Implementation.PERFORMER].place is timings.CrossoverPlace.BELOW_RANGE


def test_a_missing_series_or_bad_record_says_what_is_wrong():
    measurements = synthetic_measurements()
    partial = replace(measurements, series=measurements.series[:1])
    with pytest.raises(ValueError) as error:
        partial.series_for(timings.Implementation.TORCH)
    assert str(error.value) == "torch (matmul + softmax) was not measured in this run"
    with pytest.raises(ValueError) as error:
        timings.measured_crossovers(measurements, exact=timings.Implementation.LINEAR)
    assert str(error.value) == "exact must be an exact implementation, got linear attention (numpy)"

    record = measurements.to_dict()
    cases = [
        (
            {**record, "format": 0},
            "measurements have format 0, expected 1; re-run bench/attention_cost.py",
        ),
        (
            {key: value for key, value in record.items() if key != "series"},
            "measurements are missing 'series'",
        ),
        (
            {**record, "machine": {"machine": "x"}},
            "measurements' machine are missing cpu_count, threads, python, numpy, torch, "
            "scikit_learn, fused_kernel, date, note",
        ),
        (
            {**record, "n_values": [64, 64, 256, 512]},
            "measured sizes must increase, got [64, 64, 256, 512]",
        ),
        (
            {**record, "series": [{**record["series"][0], "implementation": "jax"}]},
            "unknown implementation 'jax' in the measurements",
        ),
        (
            {**record, "series": [{**record["series"][0], "seconds": [1.0]}]},
            "the numpy series has 1 times and 4 memory figures for 4 sizes",
        ),
    ]
    for broken, message in cases:
        with pytest.raises(ValueError) as error:
            timings.Measurements.from_dict(broken)
        assert str(error.value) == message


# ----------------------------------------------------------------------------- the shipped file


def test_shipped_measurements_load_with_every_field():
    assert timings.SHIPPED_MEASUREMENTS.name == "cost_of_attention.json"
    assert timings.SHIPPED_MEASUREMENTS.stat().st_size < 100_000
    measurements = timings.load_measurements()
    assert [series.implementation for series in measurements.series] == list(timings.Implementation)
    sizes = measurements.n_values
    assert len(sizes) >= 4 and list(sizes) == sorted(set(sizes))
    assert sum(n >= FIT_MIN_N for n in sizes) >= 2
    assert measurements.settings.dtype == "float32"
    assert measurements.machine.threads == 1
    assert "shared machine" in measurements.machine.note
    assert measurements.machine.torch.startswith("2.")
    assert measurements.machine.date[:2] == "20"
    for series in measurements.series:
        assert all(seconds > 0 and math.isfinite(seconds) for seconds in series.seconds)
        assert all(peak >= 0 for peak in series.peak_bytes)
        assert series.implementation.memory_method in timings.MemoryMethod
    fits = timings.measured_slopes(measurements)
    assert all(math.isfinite(fit.seconds.slope) for fit in fits.values())
    assert set(timings.measured_crossovers(measurements)) == {
        timings.Implementation.PERFORMER,
        timings.Implementation.LINEAR,
        timings.Implementation.CLUSTERED,
    }


def test_shipped_memory_of_explicit_attention_holds_the_n_by_n_weights():
    # Memory, not time: explicit attention must hold at least one n x n float32 array.
    measurements = timings.load_measurements()
    largest = measurements.n_values[-1]
    for implementation in (timings.Implementation.NUMPY, timings.Implementation.TORCH):
        peak = measurements.series_for(implementation).peak_bytes[-1]
        assert peak >= 4 * largest * largest, implementation
