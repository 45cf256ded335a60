"""Measured time and memory of attention against n: the record, its file, and its analysis.

:func:`lab.cost_of_attention.measure.measure` (which imports torch) produces a
:class:`Measurements`; ``bench/attention_cost.py`` saves one as the shipped
``lab/checkpoints/cost_of_attention.json``. This module holds the record, the
one load/save pair, and the analysis the page shows: the log-log slope of
time (or memory) against ``n``, an ``n^p`` reference line, and where an
approximation becomes faster than exact attention. It imports no torch, so a
page can show the shipped figures instantly.

Timings are wall-clock seconds per call, the least over a few timed loops
(noise on a shared machine only ever adds time). Memory is the peak of bytes allocated during
one call, measured as :class:`MemoryMethod` says.

Shapes:
    N   measured sizes ``n`` (``L = S = n``)
"""

from __future__ import annotations

import enum
import itertools
import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from lab.attention import FloatArray
from lab.checks import as_real, check_float
from lab.cost_of_attention.config import FIT_MIN_N
from lab.enums import LabelledEnum

SHIPPED_MEASUREMENTS = (
    Path(__file__).resolve().parents[1] / "checkpoints" / "cost_of_attention.json"
)
FORMAT_VERSION = 1  # bump when the JSON layout changes


class MemoryMethod(LabelledEnum):
    """How a peak memory figure was measured."""

    # tracemalloc's peak of traced bytes during the call, minus what was traced before it.
    # numpy reports every array buffer to tracemalloc; memory a C extension takes with
    # plain malloc (a few small buffers inside scikit-learn's k-means) is not seen.
    TRACEMALLOC = "tracemalloc", "tracemalloc peak (numpy arrays)"
    # torch.profiler with profile_memory=True: every CPU tensor allocation and free during
    # the call, in time order; the figure is the highest running total of live bytes.
    TORCH_PROFILER = "torch.profiler", "torch.profiler peak of live tensor bytes"


class Implementation(LabelledEnum):
    """What is timed. The first three are exact attention; the rest are approximations."""

    # lab.attention.scaled_dot_product_attention
    NUMPY = "numpy", "numpy (matmul + softmax)"
    # explicit torch: softmax(Q K^T * scale) @ V
    TORCH = "torch", "torch (matmul + softmax)"
    # torch.nn.functional.scaled_dot_product_attention
    TORCH_FUSED = "torch_fused", "torch fused SDPA"
    # lab's performer_output (numpy)
    PERFORMER = "performer", "random features (numpy)"
    # lab's linear_output with elu + 1 (numpy)
    LINEAR = "linear", "linear attention (numpy)"
    # lab's clustered_output (numpy and scikit-learn's k-means)
    CLUSTERED = "clustered", "clustered attention (numpy)"

    @property
    def exact(self) -> bool:
        """Whether it computes exact softmax attention."""
        return self in (Implementation.NUMPY, Implementation.TORCH, Implementation.TORCH_FUSED)

    @property
    def memory_method(self) -> MemoryMethod:
        if self in (Implementation.TORCH, Implementation.TORCH_FUSED):
            return MemoryMethod.TORCH_PROFILER
        return MemoryMethod.TRACEMALLOC


@dataclass(frozen=True)
class MeasureSettings:
    """What was measured; every timed run uses these."""

    n_values: tuple[int, ...]  # the sizes planned, increasing (the budget may stop earlier)
    d: int  # query/key/value size
    num_features: int  # r of the random-feature runs
    num_clusters: int  # C of the clustered runs
    repeats: int  # timed loops per size and implementation; the least time per call is kept
    seed: int  # seeds the inputs, the random directions and k-means
    dtype: str  # the inputs' dtype (float32, as models run)
    budget_seconds: float  # the time budget of the whole measurement
    min_loop_seconds: float  # a timed loop repeats a fast call until it lasts this long


@dataclass(frozen=True)
class MachineInfo:
    """Where and how the figures were taken (they mean little without it)."""

    machine: str  # platform.platform() and the processor
    cpu_count: int  # logical CPUs the machine has (the run uses one thread)
    threads: int  # threads torch, BLAS and OpenMP were limited to
    python: str
    numpy: str
    torch: str
    scikit_learn: str
    fused_kernel: str  # the aten kernel torch's SDPA dispatched to on this machine
    date: str  # UTC, ISO 8601
    note: str  # caveats, e.g. that the machine was shared and the figures are noisy


@dataclass(frozen=True)
class Series:
    """One implementation's figures, one per measured ``n``.

    Attributes:
        implementation: what was timed.
        seconds: ``(N,)`` wall-clock seconds per call, the least over the timed loops.
        peak_bytes: ``(N,)`` the peak memory of one run, by ``implementation.memory_method``.
    """

    implementation: Implementation
    seconds: tuple[float, ...]
    peak_bytes: tuple[int, ...]


@dataclass(frozen=True)
class Measurements:
    """A complete measurement: settings, machine, the sizes reached and every series.

    Attributes:
        settings: what was asked for.
        machine: where it ran.
        n_values: ``(N,)`` the sizes actually measured (a prefix of ``settings.n_values``).
        series: one :class:`Series` per implementation, aligned with ``n_values``.
        complete: ``False`` if the time budget stopped the run before the last size.
    """

    settings: MeasureSettings
    machine: MachineInfo
    n_values: tuple[int, ...]
    series: tuple[Series, ...]
    complete: bool

    def series_for(self, implementation: Implementation) -> Series:
        """The series of ``implementation``; ``ValueError`` if it was not measured."""
        for series in self.series:
            if series.implementation is implementation:
                return series
        raise ValueError(f"{implementation.label} was not measured in this run")

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: the layout of the shipped file."""
        return {
            "format": FORMAT_VERSION,
            "settings": {**asdict(self.settings), "n_values": list(self.settings.n_values)},
            "machine": asdict(self.machine),
            "n_values": list(self.n_values),
            "complete": self.complete,
            "series": [
                {
                    "implementation": series.implementation.value,
                    "memory_method": series.implementation.memory_method.value,
                    "seconds": list(series.seconds),
                    "peak_bytes": list(series.peak_bytes),
                }
                for series in self.series
            ],
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Measurements:
        """The inverse of :meth:`to_dict`; ``ValueError`` naming what is missing or wrong."""
        if record.get("format") != FORMAT_VERSION:
            raise ValueError(
                f"measurements have format {record.get('format')!r}, expected {FORMAT_VERSION}; "
                "re-run bench/attention_cost.py"
            )
        for name in ("settings", "machine", "n_values", "complete", "series"):
            if name not in record:
                raise ValueError(f"measurements are missing {name!r}")
        settings = _build(MeasureSettings, record["settings"], "settings")
        machine = _build(MachineInfo, record["machine"], "machine")
        n_values = tuple(int(n) for n in record["n_values"])
        if any(later <= earlier for earlier, later in itertools.pairwise(n_values)):
            raise ValueError(f"measured sizes must increase, got {list(n_values)}")
        series_list = []
        for entry in record["series"]:
            try:
                implementation = Implementation(entry["implementation"])
            except ValueError:
                raise ValueError(
                    f"unknown implementation {entry['implementation']!r} in the measurements"
                ) from None
            seconds = tuple(float(value) for value in entry["seconds"])
            peak_bytes = tuple(int(value) for value in entry["peak_bytes"])
            if not len(seconds) == len(peak_bytes) == len(n_values):
                raise ValueError(
                    f"the {implementation.value} series has {len(seconds)} times and "
                    f"{len(peak_bytes)} memory figures for {len(n_values)} sizes"
                )
            series_list.append(Series(implementation, seconds, peak_bytes))
        return cls(settings, machine, n_values, tuple(series_list), bool(record["complete"]))


_Record = TypeVar("_Record", MeasureSettings, MachineInfo)


def _build(kind: type[_Record], record: Any, name: str) -> _Record:
    """``kind(**record)`` after checking that ``record`` has every field."""
    if not isinstance(record, dict):
        raise ValueError(f"measurements' {name} must be a mapping, got {type(record).__name__}")
    expected = [field.name for field in fields(kind)]
    missing = [key for key in expected if key not in record]
    if missing:
        raise ValueError(f"measurements' {name} are missing {', '.join(missing)}")
    values = {key: record[key] for key in expected}
    if "n_values" in values:
        values["n_values"] = tuple(int(n) for n in values["n_values"])
    return kind(**values)


def save_measurements(measurements: Measurements, path: Path) -> None:
    """Write ``measurements`` as JSON to ``path`` (the shipped file: :data:`SHIPPED_MEASUREMENTS`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(measurements.to_dict(), indent=1) + "\n")


def load_measurements(path: Path = SHIPPED_MEASUREMENTS) -> Measurements:
    """Read measurements written by :func:`save_measurements` (by default the shipped ones)."""
    return Measurements.from_dict(json.loads(Path(path).read_text()))


# ----------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class PowerLawFit:
    """``value ≈ prefactor * n ** slope``, fitted as a straight line in log-log.

    Attributes:
        slope: the exponent: about 2 for exact attention's time, 1 for a linear method's.
        prefactor: the value at ``n = 1`` on the fitted line.
        r_squared: the fraction of the variance of ``log value`` the line explains.
        n_min: the smallest ``n`` the fit used.
        n_max: the largest ``n`` the fit used.
    """

    slope: float
    prefactor: float
    r_squared: float
    n_min: int
    n_max: int

    def predict(self, n_values: ArrayLike) -> FloatArray:
        """The fitted line at ``n_values``."""
        return self.prefactor * np.asarray(n_values, dtype=float) ** self.slope


def fit_log_log_slope(
    n_values: ArrayLike, values: ArrayLike, *, min_n: int | None = None
) -> PowerLawFit:
    """Least-squares line through ``(log n, log value)``: its slope is the growth exponent.

    ``log value = slope log n + log prefactor``, fitted over the points with
    ``n >= min_n`` (all points by default). Exact ``c n^p`` data gives ``p``
    back exactly (up to rounding).

    Args:
        n_values: ``(N,)`` positive sizes, at least two distinct ones from ``min_n`` up.
        values: ``(N,)`` positive times or byte counts.
        min_n: fit only sizes at or above this.

    Returns:
        :class:`PowerLawFit`.
    """
    sizes = as_real("n_values", n_values, ndim=1, finite=True)
    figures = as_real("values", values, ndim=1, finite=True)
    if sizes.shape != figures.shape:
        raise ValueError(
            f"n_values has {sizes.size} entries but values has {figures.size}; give one value per n"
        )
    if (sizes <= 0).any() or (figures <= 0).any():
        raise ValueError("n_values and values must be positive to take their logarithms")
    if min_n is not None:
        keep = sizes >= check_float("min_n", min_n)
        sizes, figures = sizes[keep], figures[keep]
    if np.unique(sizes).size < 2:
        raise ValueError(
            f"a slope needs at least two distinct sizes, got {sizes.tolist()}"
            + (f" at n >= {min_n}" if min_n is not None else "")
        )
    log_n, log_value = np.log(sizes), np.log(figures)
    slope, intercept = np.polyfit(log_n, log_value, 1)
    residuals = log_value - (slope * log_n + intercept)
    total = float(np.sum((log_value - log_value.mean()) ** 2))
    r_squared = 1.0 - float(np.sum(residuals**2)) / total if total > 0 else 1.0
    return PowerLawFit(
        slope=float(slope),
        prefactor=math.exp(intercept),
        r_squared=r_squared,
        n_min=int(sizes.min()),
        n_max=int(sizes.max()),
    )


def power_law_reference(
    n_values: ArrayLike, *, through_n: float, through_value: float, power: float = 2.0
) -> FloatArray:
    """The line ``through_value * (n / through_n) ** power``: a reference of slope ``power``.

    Drawn through one measured point (e.g. the largest ``n``), it shows what
    pure ``n^2`` growth would look like beside the measurements.
    """
    sizes = as_real("n_values", n_values, finite=True)
    anchor = check_float("through_n", through_n, positive=True)
    value = check_float("through_value", through_value, positive=True)
    exponent = check_float("power", power)
    if (sizes <= 0).any():
        raise ValueError("n_values must be positive")
    return value * (sizes / anchor) ** exponent


class CrossoverPlace(enum.Enum):
    """Where, among the measured sizes, an approximation starts to win."""

    BELOW_RANGE = "below range"  # faster at every measured n
    WITHIN_RANGE = "within range"  # slower at small n, faster from some measured n on
    ABOVE_RANGE = "above range"  # still slower at the largest measured n


@dataclass(frozen=True)
class Crossover:
    """Where an approximation becomes faster than exact attention.

    Attributes:
        place: below, within or above the measured range.
        n: for ``WITHIN_RANGE``, the ``n`` where the two log-log lines cross
            between the last measured size at which the approximation was
            slower and the next; ``None`` otherwise.
    """

    place: CrossoverPlace
    n: float | None


def measured_crossover(
    n_values: ArrayLike, exact_seconds: ArrayLike, approximate_seconds: ArrayLike
) -> Crossover:
    """Where measured times say an approximation overtakes exact attention.

    Looks for the last size at which the approximation is slower or equal (a
    noisy run can flip the order more than once): from the size after it the
    approximation is faster at every measured ``n``. Between those two sizes
    both times are taken as straight lines in log-log, and their crossing is
    ``n``.

    Args:
        n_values: ``(N,)`` increasing sizes.
        exact_seconds: ``(N,)`` exact attention's times.
        approximate_seconds: ``(N,)`` the approximation's times.

    Returns:
        :class:`Crossover`.
    """
    sizes = as_real("n_values", n_values, ndim=1, finite=True)
    exact = as_real("exact_seconds", exact_seconds, ndim=1, finite=True)
    approximate = as_real("approximate_seconds", approximate_seconds, ndim=1, finite=True)
    if not sizes.size == exact.size == approximate.size:
        raise ValueError(
            f"n_values, exact_seconds and approximate_seconds have {sizes.size}, {exact.size} "
            f"and {approximate.size} entries; give one time per n"
        )
    if sizes.size == 0:
        raise ValueError("no sizes were given; measure at least one n")
    if (sizes <= 0).any() or (exact <= 0).any() or (approximate <= 0).any():
        raise ValueError("sizes and times must be positive")
    if (np.diff(sizes) <= 0).any():
        raise ValueError(f"n_values must increase, got {sizes.tolist()}")
    slower = np.flatnonzero(approximate >= exact)
    if slower.size == 0:
        return Crossover(CrossoverPlace.BELOW_RANGE, None)
    last = int(slower[-1])
    if last == sizes.size - 1:
        return Crossover(CrossoverPlace.ABOVE_RANGE, None)
    # gap = log(approximate / exact): >= 0 at `last`, < 0 at `last + 1`; it is linear in
    # log n between them, and its zero is where the two lines cross.
    gap_before = math.log(approximate[last] / exact[last])
    gap_after = math.log(approximate[last + 1] / exact[last + 1])
    fraction = gap_before / (gap_before - gap_after)
    log_n = math.log(sizes[last]) + fraction * (math.log(sizes[last + 1]) - math.log(sizes[last]))
    return Crossover(CrossoverPlace.WITHIN_RANGE, math.exp(log_n))


@dataclass(frozen=True)
class SeriesFits:
    """Log-log fits of one series: time, and memory when every figure is positive."""

    seconds: PowerLawFit
    peak_bytes: PowerLawFit | None


def measured_slopes(
    measurements: Measurements, *, min_n: int = FIT_MIN_N
) -> dict[Implementation, SeriesFits]:
    """:func:`fit_log_log_slope` of every series' time and memory, over ``n >= min_n``.

    If fewer than two measured sizes reach ``min_n`` (a run the budget cut
    short), the fit uses the two largest sizes instead.
    """
    sizes = np.asarray(measurements.n_values, dtype=float)
    if sizes.size < 2:
        raise ValueError(f"a slope needs at least two measured sizes, got {sizes.tolist()}")
    lower = min_n if np.count_nonzero(sizes >= min_n) >= 2 else int(sizes[-2])
    fits = {}
    for series in measurements.series:
        memory = np.asarray(series.peak_bytes, dtype=float)[sizes >= lower]
        fits[series.implementation] = SeriesFits(
            seconds=fit_log_log_slope(sizes, series.seconds, min_n=lower),
            peak_bytes=(
                fit_log_log_slope(sizes[sizes >= lower], memory) if (memory > 0).all() else None
            ),
        )
    return fits


def measured_crossovers(
    measurements: Measurements, *, exact: Implementation = Implementation.NUMPY
) -> dict[Implementation, Crossover]:
    """:func:`measured_crossover` of every approximation against one exact implementation.

    numpy by default: the approximations are numpy code, so that is the fair
    comparison.
    """
    if not exact.exact:
        raise ValueError(f"exact must be an exact implementation, got {exact.label}")
    reference = measurements.series_for(exact).seconds
    return {
        series.implementation: measured_crossover(measurements.n_values, reference, series.seconds)
        for series in measurements.series
        if not series.implementation.exact
    }
