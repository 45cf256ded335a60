"""Input checks shared by every public entry point of the lab.

One place turns what a caller passes into the arrays and numbers the
mathematics needs, and says in the error what to fix ("query has shape
(3,) but needs 2 axes"), so no module writes its own coercion helper.

Every function raises ``ValueError`` with a message that names the argument.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

FloatArray = NDArray[np.floating]
BoolArray = NDArray[np.bool_]


def as_real(
    name: str,
    values: ArrayLike,
    *,
    ndim: int | None = None,
    min_ndim: int = 0,
    finite: bool = False,
    dtype: DTypeLike | None = None,
) -> FloatArray:
    """``values`` as a real floating array, copied only when it must be converted.

    Integers become float64; a floating array keeps its precision (float16 and
    float32 stay as they are, so precision demos see the real thing) unless
    ``dtype`` asks for another.

    Args:
        name: the argument's name, used in error messages.
        values: numbers of any shape; booleans, text and complex numbers are refused.
        ndim: the exact number of axes required, if any.
        min_ndim: the least number of axes required.
        finite: refuse NaN and ±inf.
        dtype: convert to this floating dtype.

    Returns:
        A floating array (never the caller's object when a conversion happened;
        callers must not write into it either way).
    """
    array = np.asarray(values)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must be real, got dtype {array.dtype}")
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    elif not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} axes, got shape {array.shape}")
    if array.ndim < min_ndim:
        raise ValueError(f"{name} needs at least {min_ndim} axes, got shape {array.shape}")
    if finite and not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity; every entry must be a finite number")
    return array


def as_matrix(name: str, values: ArrayLike) -> FloatArray:
    """``values`` as a finite float64 matrix ``(rows, columns)``."""
    return as_real(name, values, ndim=2, finite=True, dtype=np.float64)


def as_bool(name: str, values: ArrayLike) -> BoolArray:
    """``values`` as a boolean array; integers 0/1 and floats are refused, not guessed."""
    array = np.asarray(values)
    if array.dtype != np.bool_:
        raise ValueError(f"{name} must be boolean (True/False), got dtype {array.dtype}")
    return array


def _check_bounds(
    name: str, number: float, minimum: float | None, maximum: float | None, *, shown: str
) -> None:
    """Raise unless ``minimum <= number <= maximum``; the message quotes the value as ``shown``."""
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {shown}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {shown}")


def check_int(
    name: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an ``int`` within ``[minimum, maximum]``; booleans and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    number = int(value)
    _check_bounds(name, number, minimum, maximum, shown=str(number))
    return number


def check_float(
    name: str,
    value: object,
    *,
    positive: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """``value`` as a finite ``float``, optionally > 0 and within ``[minimum, maximum]``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and number <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    _check_bounds(name, number, minimum, maximum, shown=repr(value))
    return number


def check_parameter_shapes(
    weights: Mapping[str, ArrayLike], expected: Mapping[str, tuple[int, ...]]
) -> None:
    """Raise ``ValueError`` unless ``weights`` has exactly the names of ``expected``, each in its shape.

    A model's named parameters (a checkpoint, a trained run) are checked
    against the shapes its config needs before any forward pass uses them.
    """
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        raise ValueError(f"weights do not fit the config: missing {missing}, unexpected {extra}")
    for name, shape in expected.items():
        if tuple(np.shape(weights[name])) != shape:
            raise ValueError(f"{name} has shape {np.shape(weights[name])}, expected {shape}")
