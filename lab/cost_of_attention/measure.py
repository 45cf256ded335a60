"""Time and peak memory of attention against n, measured on this machine. Imports torch.

Import it only where a measurement runs (the benchmark script, or inside the
page's "measure on this server" callback); the package ``__init__`` does not.

What is timed, for each ``n`` (``L = S = n``, ``E = Ev = d``, float32 inputs,
one batch element and one head):

* exact attention three ways: the lab's numpy
  :func:`lab.attention.scaled_dot_product_attention`; explicit torch
  (``softmax(Q K^T * scale) @ V``); torch's fused
  ``torch.nn.functional.scaled_dot_product_attention`` on ``(1, 1, n, d)``
  tensors (four axes, so that on CPU it may pick its flash kernel, which
  never holds the ``n x n`` matrix);
* the approximations' output-only code paths (no ``L x S`` weights):
  :func:`~lab.cost_of_attention.compute.performer_output`,
  :func:`~lab.cost_of_attention.compute.linear_output` and
  :func:`~lab.cost_of_attention.compute.clustered_output`.

Everything runs on one thread: torch through :func:`lab.torch_utils.use_one_thread`
(the lab runs torch single-threaded in the whole process), and BLAS and OpenMP
(numpy's matrix products, scikit-learn's k-means) through threadpoolctl for the
duration of the measurement. After one warm-up call, each of ``repeats``
loops repeats the call until it lasts at least :data:`MIN_LOOP_SECONDS`, and
the time per call is the least over the loops. Memory is measured in one more run, as
:class:`~lab.cost_of_attention.timings.MemoryMethod` says: tracemalloc for
numpy code, torch.profiler's allocation events for torch (torch's CPU
allocator is invisible to tracemalloc).

Only one measurement runs at a time in a process (it holds
:data:`lab.cost_of_attention.threads.SETTINGS_LOCK`, as the error sweeps do):
two at once on a small server would only measure each other. tracemalloc and the profiler see
the whole process, so another session computing at the same moment adds to
the memory figures; the times are noisy on a shared machine anyway.

Shapes:
    N   sizes ``n`` measured
    n   queries = keys = values (``L = S = n``)
    d   query/key/value size (``E = Ev = d``)
"""

from __future__ import annotations

import datetime
import itertools
import math
import os
import platform
import time
import tracemalloc
from collections.abc import Callable, Sequence

import numpy as np
import sklearn
import torch
import torch.nn.functional as F

from lab.attention import FloatArray, scaled_dot_product_attention
from lab.checks import check_float, check_int
from lab.cost_of_attention.compute import clustered_output, linear_output, performer_output
from lab.cost_of_attention.config import (
    MAX_BUDGET_SECONDS,
    MAX_CLUSTERS,
    MAX_D,
    MAX_FEATURES,
    MAX_MEASURE_N,
    PAGE_MEASURE_BUDGET_SECONDS,
    PAGE_MEASURE_N_VALUES,
    CostOfAttentionConfig,
)
from lab.cost_of_attention.threads import one_thread
from lab.cost_of_attention.timings import (
    Implementation,
    MachineInfo,
    Measurements,
    MeasureSettings,
    MemoryMethod,
    Series,
)
from lab.torch_utils import use_one_thread

_DEFAULTS = CostOfAttentionConfig()
DTYPE = np.float32  # what models run in; torch's fused CPU kernels are built for it
NOISE_NOTE = (
    "Measured on a shared machine: other work ran at the same time, so the times are "
    "noisy (each is the least over a few timed loops). Read the slopes and the orders of "
    "magnitude; exact times, and the order of implementations within a factor of two, can "
    "change from run to run. Memory figures do not depend on the load."
)

Runner = Callable[[], object]
# A timed loop repeats a fast call until it lasts this long, so that the timer's resolution
# and scheduler hiccups of tens of microseconds do not swamp calls that take a few.
MIN_LOOP_SECONDS = 0.005
MAX_LOOP_CALLS = 1000  # at most this many calls per loop (a 5 µs call: 5 ms)


# ----------------------------------------------------------------------------- the implementations


def torch_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Exact attention in explicit torch: ``softmax(Q K^T / sqrt(E)) V``, ``(..., L, Ev)``.

    Holds the ``(..., L, S)`` scores and weights, as the textbook formula does.
    """
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])  # (..., L, S)
    return torch.softmax(scores, dim=-1) @ value  # (..., L, Ev)


def fused_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Exact attention through ``torch.nn.functional.scaled_dot_product_attention``.

    Inputs of shape ``(L, E)`` are viewed as ``(1, 1, L, E)`` (batch, heads):
    on CPU, torch picks its flash kernel only for four-axis inputs.

    Returns:
        ``(L, Ev)``.
    """
    output = F.scaled_dot_product_attention(query[None, None], key[None, None], value[None, None])
    return output[0, 0]


def runner(
    implementation: Implementation,
    query: FloatArray,
    key: FloatArray,
    value: FloatArray,
    *,
    num_features: int,
    num_clusters: int,
    seed: int = 0,
) -> Runner:
    """A function of no arguments that runs ``implementation`` once on the inputs.

    It returns the output: a numpy array ``(n, d)`` or, for the torch
    implementations, a tensor. The torch ones share the numpy inputs' memory
    (``torch.from_numpy``), so preparing them copies nothing.
    """
    if implementation is Implementation.NUMPY:
        return lambda: scaled_dot_product_attention(query, key, value)[0]
    if implementation in (Implementation.TORCH, Implementation.TORCH_FUSED):
        tensors = [torch.from_numpy(np.ascontiguousarray(array)) for array in (query, key, value)]
        function = torch_attention if implementation is Implementation.TORCH else fused_attention

        def run_torch() -> torch.Tensor:
            with torch.inference_mode():
                return function(*tensors)

        return run_torch
    if implementation is Implementation.PERFORMER:
        return lambda: performer_output(query, key, value, num_features=num_features, seed=seed)
    if implementation is Implementation.LINEAR:
        return lambda: linear_output(query, key, value)
    return lambda: clustered_output(query, key, value, num_clusters=num_clusters, seed=seed)


# ----------------------------------------------------------------------------- memory


def tracemalloc_peak_bytes(run: Runner) -> int:
    """Peak bytes traced by tracemalloc during ``run()``, beyond what was traced before it.

    Counts every numpy array buffer allocated inside the call that is alive
    at the peak, the returned output included. If tracemalloc is already
    tracing, it is left running (its peak is reset); otherwise it is started
    and stopped here.
    """
    already_tracing = tracemalloc.is_tracing()
    if not already_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = run()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        if not already_tracing:
            tracemalloc.stop()
    return max(peak - before, 0)


def torch_peak_bytes(run: Runner) -> int:
    """Peak of live bytes of CPU tensors allocated during ``run()``, from torch.profiler.

    With ``profile_memory=True`` the profiler records every allocation (a
    positive byte count) and every free (negative) as a ``[memory]`` event
    with its time. Summed in time order they give the bytes alive at each
    moment; the answer is the highest value, 0 if nothing was allocated.
    Tensors that exist before the call are not counted. The events are read
    from the profiler's kineto results, the one place that keeps each
    allocation with its time stamp (``prof.events()`` folds allocations into
    the operators).
    """
    with torch.profiler.profile(
        activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True
    ) as profile:
        result = run()
        del result
    events = sorted(
        (event.start_ns(), event.nbytes())
        for event in profile.profiler.kineto_results.events()
        if event.name() == "[memory]"
    )
    live = peak = 0
    for _, change in events:
        live += change
        peak = max(peak, live)
    return peak


def fused_kernel_name() -> str:
    """The aten kernel that ``fused_attention`` dispatches to here, e.g. the CPU flash kernel."""
    sample = torch.zeros(8, 4)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        fused_attention(sample, sample, sample)
    names = [
        event.name
        for event in profile.events()
        if event.name.startswith("aten::_scaled_dot_product")
        or event.name.startswith("aten::_flash_attention")
    ]
    return names[0] if names else "aten::scaled_dot_product_attention"


def calls_per_loop(seconds_per_call: float) -> int:
    """How many calls one timed loop makes so that it lasts at least :data:`MIN_LOOP_SECONDS`.

    At most :data:`MAX_LOOP_CALLS`; at least 1 (a slow call is timed alone).
    """
    if seconds_per_call <= 0:
        return MAX_LOOP_CALLS
    return max(1, min(MAX_LOOP_CALLS, math.ceil(MIN_LOOP_SECONDS / seconds_per_call)))


def measure_once(implementation: Implementation, run: Runner, *, repeats: int) -> tuple[float, int]:
    """``(seconds, peak_bytes)`` of one call: timed loops after a warm-up, then one memory run.

    A second call, timed alone, sizes the loops (:func:`calls_per_loop`);
    each of ``repeats`` loops gives a time per call, and the least is kept.
    """
    run()  # warm-up: first-call costs (allocator, kernel choice) are not the algorithm's
    start = time.perf_counter()
    run()
    calls = calls_per_loop(time.perf_counter() - start)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        times.append((time.perf_counter() - start) / calls)
    if implementation.memory_method is MemoryMethod.TORCH_PROFILER:
        peak = torch_peak_bytes(run)
    else:
        peak = tracemalloc_peak_bytes(run)
    return min(times), peak


def predicted_size_seconds(
    previous_seconds: float, call_seconds: Sequence[float], ratio: float, *, repeats: int
) -> float:
    """How long the next size will take, from how long the previous one took.

    One implementation at one size makes three single calls (warm-up,
    sizing, memory) and ``repeats`` loops of ``max(MIN_LOOP_SECONDS, t)``
    each, ``t`` being one call's time. Each call is predicted to take
    ``ratio`` times longer (``ratio = (n_next / n)^2``: exact attention's
    growth, an overestimate for the linear methods); the rest of the
    previous size's time (inputs, profiler start-up) is taken to stay the same.

    Args:
        previous_seconds: wall-clock time the previous size took in all.
        call_seconds: the time of one call of each implementation at that size.
        ratio: ``>= 1``, how much longer a call will take.
        repeats: timed loops per implementation.

    Returns:
        The predicted seconds for the next size.
    """

    def spent(call: float) -> float:
        return 3 * call + repeats * max(MIN_LOOP_SECONDS, call)

    return previous_seconds + sum(spent(call * ratio) - spent(call) for call in call_seconds)


# ----------------------------------------------------------------------------- the measurement


def sample_timing_inputs(n: int, d: int, seed: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Float32 queries, keys and values ``(n, d)`` with standard normal entries."""
    rng = np.random.default_rng(seed)
    query, key, value = (rng.standard_normal((n, d)).astype(DTYPE) for _ in range(3))
    return query, key, value


def machine_info() -> MachineInfo:
    """This machine, the library versions and the thread settings, as a record."""
    processor = platform.processor() or platform.machine()
    return MachineInfo(
        machine=f"{platform.platform()} ({processor})",
        cpu_count=os.cpu_count() or 1,
        threads=torch.get_num_threads(),
        python=platform.python_version(),
        numpy=np.__version__,
        torch=torch.__version__,
        scikit_learn=sklearn.__version__,
        fused_kernel=fused_kernel_name(),
        date=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        note=NOISE_NOTE,
    )


def measure(
    n_values: Sequence[int] = PAGE_MEASURE_N_VALUES,
    *,
    d: int = _DEFAULTS.measure_d,
    num_features: int = _DEFAULTS.measure_features,
    num_clusters: int = _DEFAULTS.measure_clusters,
    repeats: int = _DEFAULTS.measure_repeats,
    seed: int = _DEFAULTS.seed,
    budget_seconds: float = PAGE_MEASURE_BUDGET_SECONDS,
    progress: Callable[[float], None] | None = None,
    implementations: Sequence[Implementation] = tuple(Implementation),
) -> Measurements:
    """Time and memory of every implementation at every ``n``, within a time budget.

    Sizes run in increasing order, every implementation at one size before
    the next size. The first size always runs. A later size runs only if the
    time spent so far plus its predicted time (:func:`predicted_size_seconds`,
    which lets every call grow like ``n^2``) fits in ``budget_seconds``. So
    the run stops early rather than overrun, and ``complete`` says whether it
    reached the last size. ``progress`` is called with the fraction done, in ``[0, 1]``,
    after every implementation at every size (each size weighs ``n^2``), and
    with 1.0 at the end.

    Args:
        n_values: increasing sizes, each in ``[1, MAX_MEASURE_N]``.
        d: query/key/value size.
        num_features: ``r`` of the random-feature runs.
        num_clusters: ``C`` of the clustered runs.
        repeats: timed loops per size and implementation (the least time per call is kept).
        seed: seeds the inputs, the random directions and k-means.
        budget_seconds: the time budget, in ``(0, MAX_BUDGET_SECONDS]``.
        progress: called with the fraction done.
        implementations: what to time (all by default).

    Returns:
        :class:`~lab.cost_of_attention.timings.Measurements`, the layout of the shipped JSON.
    """
    sizes = [check_int("n", n, minimum=1, maximum=MAX_MEASURE_N) for n in n_values]
    if not sizes:
        raise ValueError("n_values is empty; give at least one size")
    if any(later <= earlier for earlier, later in itertools.pairwise(sizes)):
        raise ValueError(f"n_values must increase, got {sizes}")
    d = check_int("d", d, minimum=1, maximum=MAX_D)
    num_features = check_int("num_features", num_features, minimum=1, maximum=MAX_FEATURES)
    num_clusters = check_int("num_clusters", num_clusters, minimum=1, maximum=MAX_CLUSTERS)
    repeats = check_int("repeats", repeats, minimum=1, maximum=20)
    seed = check_int("seed", seed, minimum=0)
    budget = check_float(
        "budget_seconds", budget_seconds, positive=True, maximum=MAX_BUDGET_SECONDS
    )
    chosen = tuple(dict.fromkeys(implementations))
    if not chosen or not all(isinstance(item, Implementation) for item in chosen):
        raise ValueError(f"implementations must be Implementation members, got {implementations!r}")

    settings = MeasureSettings(
        n_values=tuple(sizes),
        d=d,
        num_features=num_features,
        num_clusters=num_clusters,
        repeats=repeats,
        seed=seed,
        dtype=np.dtype(DTYPE).name,
        budget_seconds=budget,
        min_loop_seconds=MIN_LOOP_SECONDS,
    )
    use_one_thread()
    report = progress or (lambda fraction: None)
    planned = float(sum(n * n for n in sizes))
    done = 0.0
    measured: list[int] = []
    seconds: dict[Implementation, list[float]] = {item: [] for item in chosen}
    peaks: dict[Implementation, list[int]] = {item: [] for item in chosen}
    with one_thread():
        machine = machine_info()
        start = time.perf_counter()
        previous: tuple[int, float, list[float]] | None = None
        for n in sizes:
            if previous is not None:
                previous_n, previous_seconds, calls = previous
                ratio = (n / previous_n) ** 2
                predicted = predicted_size_seconds(previous_seconds, calls, ratio, repeats=repeats)
                if time.perf_counter() - start + predicted > budget:
                    break
            size_start = time.perf_counter()
            query, key, value = sample_timing_inputs(n, d, seed)
            for item in chosen:
                run = runner(
                    item,
                    query,
                    key,
                    value,
                    num_features=num_features,
                    num_clusters=num_clusters,
                    seed=seed,
                )
                took, peak = measure_once(item, run, repeats=repeats)
                seconds[item].append(took)
                peaks[item].append(peak)
                done += n * n / len(chosen)
                report(min(done / planned, 1.0))
            measured.append(n)
            calls = [seconds[item][-1] for item in chosen]
            previous = (n, time.perf_counter() - size_start, calls)
    report(1.0)
    return Measurements(
        settings=settings,
        machine=machine,
        n_values=tuple(measured),
        series=tuple(Series(item, tuple(seconds[item]), tuple(peaks[item])) for item in chosen),
        complete=len(measured) == len(sizes),
    )
