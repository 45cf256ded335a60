"""The timing code: what it runs equals the lab's attention, its memory probes, its budget.

No assertion here is about how long anything takes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lab.attention import scaled_dot_product_attention
from lab.cost_of_attention import (
    MAX_MEASURE_N,
    Implementation,
    Measurements,
    clustered_output,
    linear_output,
    performer_output,
)
from lab.cost_of_attention.measure import (
    MAX_LOOP_CALLS,
    MIN_LOOP_SECONDS,
    calls_per_loop,
    fused_attention,
    fused_kernel_name,
    measure,
    predicted_size_seconds,
    runner,
    sample_timing_inputs,
    torch_attention,
    torch_peak_bytes,
    tracemalloc_peak_bytes,
)

# torch's own float32 tolerances (torch.testing.assert_close defaults).
ATOL, RTOL = 1e-5, 1.3e-6
# float32 runs are compared with float64 references at a stated factor of those tolerances.
FLOAT32_FACTOR = 10


def test_torch_attention_both_ways_equals_the_lab_in_float64():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(shape) for shape in [(9, 6), (11, 6), (11, 4)])
    expected, _ = scaled_dot_product_attention(q, k, v)
    tensors = [torch.tensor(array) for array in (q, k, v)]
    np.testing.assert_allclose(torch_attention(*tensors).numpy(), expected, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(fused_attention(*tensors).numpy(), expected, atol=ATOL, rtol=RTOL)


def test_every_runner_computes_what_its_label_says():
    query, key, value = sample_timing_inputs(48, 8, seed=1)
    assert query.dtype == np.float32
    exact, _ = scaled_dot_product_attention(
        *(array.astype(np.float64) for array in (query, key, value))
    )
    expected = {
        Implementation.NUMPY: exact,
        Implementation.TORCH: exact,
        Implementation.TORCH_FUSED: exact,
        Implementation.PERFORMER: performer_output(query, key, value, num_features=16, seed=2),
        Implementation.LINEAR: linear_output(query, key, value),
        Implementation.CLUSTERED: clustered_output(query, key, value, num_clusters=5, seed=2),
    }
    for implementation, reference in expected.items():
        run = runner(implementation, query, key, value, num_features=16, num_clusters=5, seed=2)
        output = run()
        result = output.numpy() if isinstance(output, torch.Tensor) else output
        assert result.shape == (48, 8), implementation
        np.testing.assert_allclose(
            result,
            reference,
            atol=FLOAT32_FACTOR * ATOL,
            rtol=FLOAT32_FACTOR * RTOL,
            err_msg=implementation.value,
        )


def test_fused_kernel_is_named_after_an_aten_sdpa_kernel():
    assert fused_kernel_name().startswith("aten::_scaled_dot_product")


def test_torch_peak_counts_the_tensors_alive_at_once():
    def two_alive_then_one():
        first = torch.zeros(1000, dtype=torch.float64)  # 8000 bytes
        second = torch.ones(1000, dtype=torch.float64)  # 8000 more while first is alive
        del first
        third = torch.empty(1000, dtype=torch.float64)  # second and third: 16000 again
        return torch.stack([second, third])  # 16000 more: 32000 at the peak

    assert torch_peak_bytes(two_alive_then_one) == 32000
    existing = torch.ones(5000)
    assert torch_peak_bytes(lambda: existing[:10]) == 0  # a view allocates nothing


def test_tracemalloc_peak_counts_numpy_buffers_made_inside_the_call():
    existing = np.ones(10_000)
    peak = tracemalloc_peak_bytes(lambda: np.ones(1_000_000) + existing.sum())
    assert 8_000_000 <= peak < 8_100_000
    assert tracemalloc_peak_bytes(lambda: existing) < 1000  # nothing new to hold


def test_timed_loops_last_at_least_the_minimum_within_the_call_cap():
    assert MIN_LOOP_SECONDS == 0.005 and MAX_LOOP_CALLS == 1000
    assert calls_per_loop(0.001) == 5  # 5 calls of 1 ms
    assert calls_per_loop(0.0015) == 4  # rounded up: 6 ms
    assert calls_per_loop(2.0) == 1  # a slow call is timed alone
    assert calls_per_loop(1e-9) == MAX_LOOP_CALLS
    assert calls_per_loop(0.0) == MAX_LOOP_CALLS  # a call below the timer's resolution


def test_prediction_keeps_fixed_costs_and_grows_the_calls():
    # Two implementations: a 1 ms call (loops last 5 ms) and a 10 ms call, 3 repeats.
    # Before: 3·1 + 3·5 = 18 ms and 3·10 + 3·10 = 60 ms of calls, plus 22 ms of other work.
    previous = 0.018 + 0.060 + 0.022
    predicted = predicted_size_seconds(previous, [0.001, 0.010], 4.0, repeats=3)
    # After: 3·4 + 3·5 = 27 ms and 3·40 + 3·40 = 240 ms, plus the same 22 ms.
    assert predicted == pytest.approx(0.027 + 0.240 + 0.022)
    assert predicted_size_seconds(0.5, [0.001], 1.0, repeats=3) == pytest.approx(0.5)


def test_measure_returns_the_shipped_structure_and_reports_progress():
    fractions: list[float] = []
    measurements = measure(
        (16, 32),
        d=8,
        num_features=4,
        num_clusters=2,
        repeats=1,
        budget_seconds=120.0,
        progress=fractions.append,
    )
    assert measurements.complete
    assert measurements.n_values == (16, 32)
    assert [series.implementation for series in measurements.series] == list(Implementation)
    for series in measurements.series:
        assert len(series.seconds) == len(series.peak_bytes) == 2
        assert all(seconds > 0 for seconds in series.seconds)
    # Explicit exact attention holds at least its 32 x 32 float32 weights.
    assert measurements.series_for(Implementation.NUMPY).peak_bytes[-1] >= 4 * 32 * 32
    assert measurements.series_for(Implementation.TORCH).peak_bytes[-1] >= 4 * 32 * 32
    assert measurements.machine.threads == 1
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(0.0 <= fraction <= 1.0 for fraction in fractions)
    assert len(fractions) == 2 * len(Implementation) + 1
    assert Measurements.from_dict(measurements.to_dict()) == measurements


def test_a_spent_budget_stops_after_the_first_size():
    measurements = measure(
        (16, 32, 64),
        d=4,
        num_features=2,
        num_clusters=2,
        repeats=1,
        budget_seconds=1e-9,
        implementations=(Implementation.NUMPY, Implementation.LINEAR),
    )
    assert measurements.n_values == (16,)
    assert not measurements.complete
    assert measurements.settings.n_values == (16, 32, 64)
    assert [series.implementation for series in measurements.series] == [
        Implementation.NUMPY,
        Implementation.LINEAR,
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_values": ()}, "n_values is empty; give at least one size"),
        ({"n_values": (32, 16)}, "n_values must increase, got [32, 16]"),
        (
            {"n_values": (MAX_MEASURE_N + 1,)},
            f"n must be at most {MAX_MEASURE_N}, got {MAX_MEASURE_N + 1}",
        ),
        ({"budget_seconds": 0}, "budget_seconds must be positive, got 0"),
        ({"budget_seconds": 1000}, "budget_seconds must be at most 300.0, got 1000"),
        ({"repeats": 0}, "repeats must be at least 1, got 0"),
        (
            {"implementations": ("numpy",)},
            "implementations must be Implementation members, got ('numpy',)",
        ),
    ],
)
def test_bad_measure_settings_say_what_to_fix(kwargs, message):
    with pytest.raises(ValueError) as error:
        measure(**{"n_values": (16,), **kwargs})
    assert str(error.value) == message
