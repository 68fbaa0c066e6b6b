"""Parameter constraints and input checks, in one place, with messages that name what went wrong.

Parameters are validated declaratively: an estimator lists, per parameter, the constraints any one
of which makes a value valid, and :func:`validate_params` raises a message naming the parameter, the
rule and the value, e.g. ``n_clusters must be an int in [1, inf); got 0``.

Array inputs go through :func:`check_data`, which builds on scikit-learn's public
``validate_data`` (so ``n_features_in_`` / ``feature_names_in_`` and their checks follow the
scikit-learn contract) and adds the rules scikit-learn leaves to each estimator.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FLOAT_DTYPES",
    "Interval",
    "InvalidParameterError",
    "Options",
    "check_data",
    "check_n_clusters",
    "check_sample_weight",
    "validate_params",
]

FLOAT_DTYPES = (np.float64, np.float32)


class InvalidParameterError(ValueError, TypeError):
    """A hyperparameter has the wrong type or value (both a ValueError and a TypeError)."""


@dataclass(frozen=True)
class Interval:
    """Numbers of one kind between two bounds.

    Parameters
    ----------
    kind : {numbers.Integral, numbers.Real}
        ``Integral`` accepts Python and numpy ints (not bools); ``Real`` also accepts floats.
    left, right : float or None
        Bounds; ``None`` means unbounded.
    closed : {"both", "left", "right", "neither"}
        Which bounds belong to the interval.
    """

    kind: type
    left: float | None
    right: float | None
    closed: str = "both"

    def is_satisfied_by(self, value: Any) -> bool:  # noqa: PLR0911
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        if isinstance(value, float | np.floating) and math.isnan(value):
            return False
        if self.left is not None:
            if self.closed in ("both", "left") and value < self.left:
                return False
            if self.closed in ("right", "neither") and value <= self.left:
                return False
        if self.right is not None:
            if self.closed in ("both", "right") and value > self.right:
                return False
            if self.closed in ("left", "neither") and value >= self.right:
                return False
        return True

    def __str__(self) -> str:
        kind = "an int" if self.kind is numbers.Integral else "a number"
        lb = "[" if self.closed in ("both", "left") and self.left is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.right is not None else ")"
        left = "-inf" if self.left is None else _fmt(self.left)
        right = "inf" if self.right is None else _fmt(self.right)
        return f"{kind} in {lb}{left}, {right}{rb}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (usually strings)."""

    values: tuple

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", tuple(values))

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str | int | float | type(None)) and value in self.values

    def __str__(self) -> str:
        return "one of {" + ", ".join(repr(v) for v in self.values) + "}"


@dataclass(frozen=True)
class _Kind:
    name: str
    test: Callable[[Any], bool]

    def is_satisfied_by(self, value: Any) -> bool:
        return self.test(value)

    def __str__(self) -> str:
        return self.name


def _is_array_like(value: Any) -> bool:
    return hasattr(value, "__array__") or (
        isinstance(value, list | tuple) and not isinstance(value, str)
    )


def _is_random_state(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0)
        or isinstance(value, np.random.RandomState | np.random.Generator)
    )


#: Named constraints usable in an estimator's ``_parameter_constraints``.
NONE = _Kind("None", lambda v: v is None)
BOOLEAN = _Kind("a bool", lambda v: isinstance(v, bool | np.bool_))
CALLABLE = _Kind("a callable", callable)
ARRAY_LIKE = _Kind("an array-like", _is_array_like)
RANDOM_STATE = _Kind("None, an int >= 0, a numpy RandomState or Generator", _is_random_state)
STRING = _Kind("a str", lambda v: isinstance(v, str))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def validate_params(
    params: Mapping[str, Any], constraints: Mapping[str, Iterable[Any]], *, caller: str = ""
) -> None:
    """Check each parameter against its list of constraints (any one may be met).

    Parameters
    ----------
    params : mapping
        Parameter name to value, e.g. ``estimator.get_params(deep=False)``.
    constraints : mapping
        Parameter name to a list of :class:`Interval`, :class:`Options`, the named kinds of this
        module (``NONE``, ``BOOLEAN``, ``CALLABLE``, ``ARRAY_LIKE``, ``RANDOM_STATE``, ``STRING``)
        or a type (``isinstance`` check). Parameters without constraints are not checked.
    caller : str
        Prepended to the message, e.g. the estimator's name.

    Raises
    ------
    InvalidParameterError
        ``"KMeans: n_clusters must be an int in [1, inf); got 0"``.
    """
    for name, rules in constraints.items():
        if name not in params:
            continue
        value = params[name]
        options = list(rules)
        if any(_satisfies(rule, value) for rule in options):
            continue
        described = [_describe(rule) for rule in options]
        rule_text = (
            described[0]
            if len(described) == 1
            else (", ".join(described[:-1]) + " or " + described[-1])
        )
        prefix = f"{caller}: " if caller else ""
        raise InvalidParameterError(f"{prefix}{name} must be {rule_text}; got {value!r}")


def _satisfies(rule: Any, value: Any) -> bool:
    if isinstance(rule, type):
        return isinstance(value, rule)
    return rule.is_satisfied_by(value)


def _describe(rule: Any) -> str:
    if isinstance(rule, type):
        return f"an instance of {rule.__name__}"
    return str(rule)


def check_data(
    estimator: Any,
    X: Any,
    *,
    reset: bool = True,
    dtype: Any = FLOAT_DTYPES,
    accept_sparse: bool | str | list[str] = False,
    ensure_min_samples: int = 1,
    copy: bool = False,
    allow_nan: bool = False,
) -> Any:
    """Validate a data matrix for ``estimator`` and return it as a 2-D array.

    - 2-D, non-empty, numeric; float64 and float32 are kept, anything else becomes float64;
    - finite (no NaN or inf) unless ``allow_nan``;
    - with ``reset=True`` sets ``n_features_in_`` and ``feature_names_in_`` (pandas input);
      with ``reset=False`` checks them against the fitted values.

    The array returned is a copy when ``copy`` is true or a conversion was needed; the caller's
    object is never modified.
    """
    from sklearn.utils.validation import validate_data

    from clusterlab.distributed._dispatch import dask_input_error, is_dask_collection

    if is_dask_collection(X):  # never pulled into memory unannounced
        raise dask_input_error(estimator, fitting=reset)
    if isinstance(X, str):
        raise TypeError(
            f"X must be a 2-D array-like of numbers; got the string {X[:40]!r} "
            "(to read a file, use clusterlab.io.read_table)"
        )
    try:
        return validate_data(
            estimator,
            X,
            reset=reset,
            dtype=dtype,
            accept_sparse=accept_sparse,
            ensure_min_samples=ensure_min_samples,
            copy=copy,
            ensure_all_finite="allow-nan" if allow_nan else True,
        )
    except TypeError as exc:
        # Object columns holding text or other Python objects: say which input and keep numpy's
        # own reason ("float() argument must be a string or a real number, not 'dict'").
        raise TypeError(f"X must contain only numbers; {exc}") from exc
    except ValueError as exc:
        text = str(exc)
        if "could not convert" in text:
            raise ValueError(f"X must contain only numbers; {text}") from exc
        raise


def check_n_clusters(n_clusters: int, n_samples: int, *, name: str = "n_clusters") -> None:
    """Raise unless ``1 <= n_clusters <= n_samples``."""
    if n_clusters > n_samples:
        raise ValueError(
            f"{name} must be an int in [1, n_samples={n_samples}]; got {n_clusters} "
            f"(n_samples={n_samples} should be >= {name}={n_clusters})"
        )


def check_sample_weight(sample_weight: Any, n_samples: int, dtype: Any) -> np.ndarray:
    """Return sample weights as a 1-D array of ``dtype`` (ones when ``None``).

    Weights must be finite and non-negative, with a positive sum.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, numbers.Number) and not isinstance(sample_weight, bool):
        weights = np.full(n_samples, sample_weight, dtype=dtype)
    else:
        weights = np.asarray(sample_weight)
        if weights.dtype.kind not in "biuf":
            raise TypeError(f"sample_weight must be numeric; got an array of dtype {weights.dtype}")
        weights = weights.astype(dtype, copy=True)
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},) to match X; got {weights.shape}"
        )
    if not np.all(np.isfinite(weights)):
        raise ValueError("sample_weight must be finite; got NaN or inf")
    if np.any(weights < 0):
        raise ValueError(f"sample_weight must be non-negative; got a minimum of {weights.min()!r}")
    if not weights.sum() > 0:
        raise ValueError("sample_weight must have a positive sum; got all zeros")
    return weights
