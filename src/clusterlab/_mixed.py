"""Mixed tables: numeric and categorical columns, found from dtypes or named, and their codes.

Shared by the estimators for categorical and mixed data (k-modes, k-prototypes, k-medoids with
Gower's distance) and by :mod:`clusterlab.metrics.gower`. Nothing here is numba: this is the
pandas-facing layer that turns a user's table into the plain arrays the kernels read.

A column is **categorical** when its pandas dtype is ``category``, ``object``, ``string`` or
``bool``, or, in a numpy object array, when any of its non-missing values is not a real number
(strings, booleans, other objects); numeric dtypes are numeric. Dates and times are refused with
a message naming the column.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BALANCED",
    "CategoryCodes",
    "GowerEncoding",
    "Table",
    "balanced_weights",
    "fit_category_codes",
    "fit_gower",
    "mean_abs_difference",
    "mismatch_rate",
    "read_table",
    "resolve_columns",
]


@dataclass(frozen=True)
class Table:
    """A validated 2-D input, column by column.

    ``columns[j]`` is a pandas Series (DataFrame input) or a 1-D numpy array; ``names[j]`` is
    the column's name for messages (``"column 3"`` without names).
    """

    columns: list[Any]
    names: list[str]
    labels: list[Any] | None
    n_rows: int

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    def take(self, rows: np.ndarray) -> Table:
        """The same columns restricted to ``rows``."""
        cols = [c.iloc[rows] if isinstance(c, pd.Series) else c[rows] for c in self.columns]
        return Table(cols, self.names, self.labels, len(rows))


def read_table(estimator: Any, X: Any, *, reset: bool) -> Table:
    """Validate ``X`` for ``estimator`` (feature names and counts as scikit-learn checks them)
    and return it column by column, values unconverted.

    DataFrames keep their column dtypes (no conversion to an object array); lists of mixed rows
    become object arrays, so numbers stay numbers beside strings.
    """
    from sklearn.utils.validation import validate_data

    if isinstance(X, pd.DataFrame):
        validate_data(estimator, X, skip_check_array=True, reset=reset)
        n_rows, n_cols = X.shape
        if n_rows == 0 or n_cols == 0:
            what, need = ("sample", n_rows) if n_rows == 0 else ("feature", n_cols)
            raise ValueError(
                f"Found array with {need} {what}(s) (shape={X.shape}) while a minimum of 1 is "
                "required."
            )
        labels = list(X.columns)
        return Table(
            [X.iloc[:, j] for j in range(n_cols)], [str(c) for c in labels], labels, n_rows
        )
    if isinstance(X, str):
        raise TypeError(f"X must be a 2-D table or array-like; got the string {X[:40]!r}")
    if not hasattr(X, "__array__") and not _is_sparse(X):
        arr = np.asarray(X)
        if arr.dtype.kind in "US":
            arr = np.asarray(X, dtype=object)  # keep numbers numbers beside strings
        X = arr
    arr = validate_data(estimator, X, reset=reset, dtype=None, ensure_all_finite=False)
    return Table([arr[:, j] for j in range(arr.shape[1])], _default_names(arr), None, arr.shape[0])


def _is_sparse(X: Any) -> bool:
    import scipy.sparse

    return scipy.sparse.issparse(X)


def _default_names(arr: np.ndarray) -> list[str]:
    return [f"column {j}" for j in range(arr.shape[1])]


# -- which columns are categorical ----------------------------------------------------------


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def is_categorical(column: Any, name: str) -> bool:
    """Whether a column holds categories (see the module docstring for the rule)."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return True
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise TypeError(
            f"X {name} has dtype {dtype}; convert dates and times to numbers or categories first"
        )
    if pd.api.types.is_numeric_dtype(dtype):
        return False
    if isinstance(column, pd.Series) or dtype.kind != "O":
        return True
    present = [v for v in column if not _is_missing(v)]
    return not present or not all(_is_real(v) for v in present)


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def resolve_columns(spec: Any, table: Table, param: str) -> np.ndarray:
    """Column positions named by ``spec``: positions, names, or a boolean mask (sorted, unique).

    Raises a ValueError naming ``param``, the rule and the value for anything else.
    """
    n = table.n_columns
    values = [spec] if isinstance(spec, str | numbers.Integral) else list(spec)
    if values and all(isinstance(v, bool | np.bool_) for v in values):
        if len(values) != n:
            raise ValueError(
                f"{param} as a boolean mask must have one entry per column ({n}); got {len(values)}"
            )
        return np.flatnonzero(np.asarray(values, dtype=bool)).astype(np.int64)
    positions = []
    for v in values:
        if isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_):
            if not -n <= v < n:
                raise ValueError(
                    f"{param} must list column positions in [0, {n - 1}] or column names; "
                    f"got position {v}"
                )
            positions.append(int(v) % n)
        elif table.labels is not None and v in table.labels:
            positions.append(table.labels.index(v))
        elif table.labels is None:
            raise ValueError(
                f"{param} names column {v!r}, but X has no column names "
                "(pass column positions, or a DataFrame)"
            )
        else:
            raise ValueError(
                f"{param} names column {v!r}, which is not a column of X; "
                f"columns: {table.labels[:20]}"
            )
    return np.unique(np.asarray(positions, dtype=np.int64))


def to_float(column: Any, name: str) -> np.ndarray:
    """A numeric column as float64 (missing values as NaN); TypeError naming the column."""
    try:
        if isinstance(column, pd.Series):
            return column.to_numpy(dtype=np.float64, na_value=np.nan)
        try:
            return np.asarray(column, dtype=np.float64)  # numbers (an object column of floats)
        except (TypeError, ValueError):
            if column.dtype.kind != "O":
                raise
        # an object column with None / pd.NA among numbers
        return np.array([np.nan if _is_missing(v) else v for v in column], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"X {name} must be numeric (or be listed as categorical); {exc}") from exc


def _as_objects(column: Any) -> np.ndarray:
    if isinstance(column, pd.Series):
        return column.to_numpy(dtype=object)
    return np.asarray(column)


def factorize(column: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes (int64, -1 for missing) and the sorted levels (object array) of a column.

    Levels sort as ``numpy.unique`` sorts them (so codes equal the kmodes library's); columns
    whose values cannot be ordered keep the order of first appearance. Levels are the user's own
    values (the first occurrence of each).
    """
    if isinstance(column, pd.Series) and isinstance(column.dtype, pd.CategoricalDtype):
        return _factorize_categorical(column)
    values = _as_objects(column)
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in _NUMBERS:
        # hash machine numbers, not Python objects (10x faster); keep the user's objects
        codes, _ = pd.factorize(values.astype(np.float64), sort=True)
        return codes.astype(np.int64), _first_values(values, codes)
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError as exc:
        if "unhashable" in str(exc):
            raise TypeError(
                f"X {name} holds values that cannot be categories ({exc}); categories must be "
                "hashable: strings, numbers, booleans"
            ) from exc
        codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


_NUMBERS = ("integer", "floating", "mixed-integer-float")


def _first_values(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The first value of each code (codes 0 .. k-1, -1 missing), in O(n) without sorting."""
    present = np.flatnonzero(codes >= 0)
    first = np.full(int(codes.max()) + 1 if present.size else 0, codes.size, dtype=np.int64)
    np.minimum.at(first, codes[present], present)
    return np.asarray(values[first], dtype=object)


def _factorize_categorical(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A pandas Categorical's codes remapped to its observed categories in sorted order."""
    codes = column.cat.codes.to_numpy().astype(np.int64)
    used = np.unique(codes[codes >= 0])
    levels = np.asarray(column.cat.categories[used], dtype=object)
    try:
        order = np.argsort(levels, kind="stable")
    except TypeError:
        order = np.arange(levels.size)
    remap = np.full(len(column.cat.categories), -1, dtype=np.int64)
    remap[used[order]] = np.arange(used.size)
    return np.where(codes >= 0, remap[np.maximum(codes, 0)], -1), levels[order]


def lookup(column: Any, levels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``column``'s values among ``levels`` (-1: not a level) and its missing mask.

    ``levels`` is a 1-D object array (how fitted layouts keep them: plain arrays, which a safe
    model file can store) or a pandas Index.
    """
    if not isinstance(levels, pd.Index):
        levels = pd.Index(levels, dtype=object)
    if isinstance(column, pd.Series) and isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy().astype(np.int64)
        of_category = lookup(np.asarray(column.cat.categories, dtype=object), levels)[0]
        return np.where(codes >= 0, of_category[np.maximum(codes, 0)], -1), codes < 0
    values = _as_objects(column)
    try:
        codes = levels.get_indexer(values)
    except TypeError:  # unhashable values: none of them is a level
        codes = np.array([_index_of(levels, v) for v in values], dtype=np.int64)
    return codes.astype(np.int64), np.asarray(pd.isna(values), dtype=bool)


def _index_of(levels: pd.Index, value: Any) -> int:
    try:
        return int(levels.get_loc(value)) if value in levels else -1
    except TypeError:
        return -1


# -- integer codes for k-modes and k-prototypes -----------------------------------------------


@dataclass(frozen=True)
class CategoryCodes:
    """Fitted layout of a mixed table for k-modes / k-prototypes.

    Plain arrays, tuples and strings only (each column's levels a 1-D object array), so that a
    fitted model holding it can be written to a safe model file.
    Missing categories are a level of their own (the last code of their column), so they can be
    a cluster's mode. At prediction a category not seen in fit gets code -1, which matches no
    level: it adds the same mismatch to every cluster and so never decides between them.
    """

    numeric: np.ndarray
    categorical: np.ndarray
    levels: tuple[np.ndarray, ...]
    has_missing: tuple[bool, ...]
    names: tuple[str, ...]

    @property
    def offsets(self) -> np.ndarray:
        sizes = [len(lv) + int(m) for lv, m in zip(self.levels, self.has_missing, strict=True)]
        return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)

    def numeric_block(self, table: Table) -> np.ndarray:
        """The numeric columns as a C-contiguous float64 (n, p) array; NaN is refused."""
        out = np.empty((table.n_rows, len(self.numeric)), dtype=np.float64)
        for t, j in enumerate(self.numeric):
            values = to_float(table.columns[j], table.names[j])
            if not np.all(np.isfinite(values)):
                raise ValueError(
                    f"X {table.names[j]} (numeric) has missing or infinite values; impute them "
                    "first, list the column as categorical, or use KMedoids(metric='gower'), "
                    "which skips missing values"
                )
            out[:, t] = values
        return out

    def categorical_block(self, table: Table) -> np.ndarray:
        """Category codes as a C-contiguous int32 (n, m) array (-1: unseen category)."""
        out = np.empty((table.n_rows, len(self.categorical)), dtype=np.int32)
        for t, j in enumerate(self.categorical):
            codes, missing = lookup(table.columns[j], self.levels[t])
            codes[missing] = len(self.levels[t]) if self.has_missing[t] else -1
            out[:, t] = codes
        return out

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Levels (object array) of a (k, m) array of codes; the missing level is ``None``."""
        out = np.empty(codes.shape, dtype=object)
        for t, levels in enumerate(self.levels):
            values = np.append(np.asarray(levels, dtype=object), None)
            out[:, t] = values[np.where(codes[:, t] < 0, len(levels), codes[:, t])]
        return out

    def encode_rows(self, rows: Any, table_like: Table, param: str) -> tuple:
        """Numeric block and codes of user-given prototype rows (an ``init`` array).

        Every category must be a level seen in fit; ValueError naming ``param`` otherwise.
        """
        num = self.numeric_block(rows)
        cat = self.categorical_block(rows)
        bad = np.argwhere(cat < 0)
        if bad.size:
            r, t = bad[0]
            j = self.categorical[t]
            raise ValueError(
                f"{param} row {r} has {table_like.names[j]} = "
                f"{_as_objects(rows.columns[j])[r]!r}, which is not a category of X"
            )
        return num, cat


def fit_category_codes(table: Table, categorical: np.ndarray) -> tuple[CategoryCodes, np.ndarray]:
    """Learn levels of the ``categorical`` columns; return the layout and the int32 codes."""
    numeric = np.setdiff1d(np.arange(table.n_columns), categorical).astype(np.int64)
    levels, has_missing = [], []
    codes = np.empty((table.n_rows, len(categorical)), dtype=np.int32)
    for t, j in enumerate(categorical):
        col_codes, uniques = factorize(table.columns[j], table.names[j])
        missing = bool(np.any(col_codes < 0))
        col_codes[col_codes < 0] = len(uniques)
        codes[:, t] = col_codes
        levels.append(_plain_levels(uniques))
        has_missing.append(missing)
    layout = CategoryCodes(
        numeric,
        np.asarray(categorical, dtype=np.int64),
        tuple(levels),
        tuple(has_missing),
        tuple(table.names),
    )
    return layout, codes


def _plain_levels(values: Any) -> np.ndarray:
    """Levels as a 1-D object array of the user's values (what a safe model file stores)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def categorical_positions(table: Table, spec: Any, param: str = "categorical") -> np.ndarray:
    """``spec`` resolved to positions, or (``None``) the columns the dtypes say are categorical."""
    if spec is None:
        return np.asarray(
            [j for j in range(table.n_columns) if is_categorical(table.columns[j], table.names[j])],
            dtype=np.int64,
        )
    return resolve_columns(spec, table, param)


# -- Gower's encoding ----------------------------------------------------------------------

#: Kinds of encoded Gower columns: ``|a - b|`` capped at 1, or 0/1 for equal/different values.
INTERVAL, NOMINAL = 0, 1


@dataclass(frozen=True)
class GowerEncoding:
    """Fitted per-column rules of Gower's distance, and the encoding the kernels read.

    Encoded columns come numeric-first: ``n_interval`` interval columns holding
    ``(x - low) / range`` (numeric columns, and ordinal columns' ranks), whose dissimilarity is
    ``min(|a - b|, 1)``; then nominal columns holding category codes, whose dissimilarity is 0
    for equal codes and 1 otherwise. Missing values are NaN (skipped, weights renormalised).
    ``order[e]`` is the user's column of encoded column ``e``; ``weights`` are in encoded order.
    Plain arrays, tuples and strings only (levels as 1-D object arrays), so that a fitted model
    holding it can be written to a safe model file.
    """

    order: np.ndarray
    n_interval: int
    low: np.ndarray
    scale: np.ndarray
    kinds: tuple[str, ...]
    levels: tuple[np.ndarray | None, ...]
    weights: np.ndarray

    def encode(self, table: Table, unseen: dict | None = None) -> np.ndarray:
        """Encoded float64 (n, d) array of ``table``'s rows.

        Categories not seen in fit get negative codes, equal for equal values across every
        call sharing ``unseen`` (so two new rows with the same new category still match), and
        never equal to a fitted level. Ordinal values outside the known levels are missing.
        """
        unseen = {} if unseen is None else unseen
        out = np.empty((table.n_rows, len(self.order)), dtype=np.float64)
        for e, j in enumerate(self.order):
            out[:, e] = self._column(e, table.columns[j], table.names[j], unseen)
        return out

    def _column(self, e: int, column: Any, name: str, unseen: dict) -> np.ndarray:
        kind, levels = self.kinds[e], self.levels[e]
        if kind in ("numeric", "constant"):
            values = to_float(column, name)
            if np.any(np.isinf(values)):
                raise ValueError(
                    f"X {name} has infinite values; Gower's distance needs finite ones"
                )
        else:
            codes, missing = lookup(column, levels)
            values = codes.astype(np.float64)
            values[missing] = np.nan
            if kind == "ordinal":
                values[codes < 0] = np.nan
            else:
                self._unseen_codes(e, column, values, codes < 0, missing, unseen)
        if e < self.n_interval:
            return (values - self.low[e]) * self.scale[e]
        return values

    @staticmethod
    def _unseen_codes(e, column, values, not_level, missing, unseen) -> None:  # noqa: PLR0917
        new = not_level & ~missing
        if not new.any():
            return
        seen = unseen.setdefault(e, {})
        for i in np.flatnonzero(new):
            v = _as_objects(column)[i]
            key = v if _hashable(v) else repr(v)
            values[i] = seen.setdefault(key, -1.0 - len(seen))


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def fit_gower(
    table: Table, categorical: Any = None, ordinal: Any = None, weights: Any = None
) -> GowerEncoding:
    """Learn Gower's per-column rules from ``table``: ranges, levels, kinds, weights.

    Parameters
    ----------
    categorical : None, column positions, names or a boolean mask
        Nominal columns; None takes them from the dtypes (ordinal columns excluded).
    ordinal : None, columns, or a dict column -> levels in order
        Ordinal columns, compared by rank (Podani's extension of Gower's coefficient); with a
        list, the order is an ordered pandas Categorical's, else the sorted values.
    weights : None, 'balanced' or array-like of shape (n_features,)
        Non-negative column weights (ones by default); 'balanced' weighs each column by 1 / its
        mean dissimilarity over the pairs of rows of ``table`` (:func:`balanced_weights`).
    """
    ord_levels = _ordinal_levels(table, ordinal)
    nominal = set(categorical_positions(table, categorical).tolist()) - set(ord_levels)
    kinds = {}
    for j in range(table.n_columns):
        kinds[j] = "ordinal" if j in ord_levels else "nominal" if j in nominal else "numeric"
    balanced = isinstance(weights, str) and weights == BALANCED
    w = np.ones(table.n_columns) if balanced else _gower_weights(weights, table)
    interval, nominal_cols = [], []
    low, scale, lv = {}, {}, {}
    mean_diff = np.zeros(table.n_columns)
    for j in range(table.n_columns):
        kind, values, levels = _fit_column(table, j, kinds[j], ord_levels.get(j))
        lv[j] = None if levels is None else _plain_levels(levels)
        present = values[~np.isnan(values)]
        span = float(present.max() - present.min()) if present.size else 0.0
        if kind != "nominal" and span > 0:
            interval.append(j)
            low[j], scale[j] = float(present.min()), 1.0 / span
            kinds[j] = kind
            mean_diff[j] = mean_abs_difference(present) / span
        else:
            nominal_cols.append(j)
            kinds[j] = "nominal" if kind == "nominal" else "constant" if kind == "numeric" else kind
            mean_diff[j] = mismatch_rate(present)
    if balanced:
        w = balanced_weights(mean_diff)
    order = np.asarray(interval + nominal_cols, dtype=np.int64)
    return GowerEncoding(
        order=order,
        n_interval=len(interval),
        low=np.asarray([low[j] for j in interval], dtype=np.float64),
        scale=np.asarray([scale[j] for j in interval], dtype=np.float64),
        kinds=tuple(kinds[j] for j in order),
        levels=tuple(lv[j] for j in order),
        weights=w[order].copy(),
    )


#: The ``weights`` option of Gower's distance that lets every column count equally on average.
BALANCED = "balanced"


def mean_abs_difference(values: np.ndarray) -> float:
    """Mean of ``|a - b|`` over the pairs of distinct positions of ``values`` (1-D float64, no
    NaN): exact, in O(n log n), from the sorted values (the pair sum is
    ``sum_i s_i * (2 i - n + 1)`` over the sorted ``s``); 0 for fewer than two values."""
    n = values.size
    if n < 2:
        return 0.0
    s = np.sort(values) - values.min()  # non-negative: no cancellation between large values
    pair_sum = float(np.dot(s, 2.0 * np.arange(n) - (n - 1)))
    return max(pair_sum, 0.0) / (n * (n - 1) / 2.0)


def mismatch_rate(codes: np.ndarray) -> float:
    """Share of the pairs of distinct positions of ``codes`` (1-D, no NaN) whose values differ:
    ``1 - sum_v n_v (n_v - 1) / (n (n - 1))`` from the count ``n_v`` of each value; 0 for fewer
    than two values."""
    n = codes.size
    if n < 2:
        return 0.0
    counts = np.unique(codes, return_counts=True)[1].astype(np.float64)
    return 1.0 - float(np.dot(counts, counts - 1.0)) / (n * (n - 1.0))


def balanced_weights(mean_diff: np.ndarray) -> np.ndarray:
    """Gower weights ``1 / mean_diff`` (a column's mean dissimilarity over the pairs of fitted
    rows), so that every column adds the same amount to the distance on average: a category
    mismatch (mean often 0.5 or more) then no longer outweighs a range-scaled number (often 0.2
    to 0.3). A column without differences among the fitted rows (one value, or fewer than two
    present) keeps weight 1: it separates none of them.

    Examples
    --------
    >>> balanced_weights(np.array([0.25, 0.5, 0.0])).tolist()
    [4.0, 2.0, 1.0]
    """
    out = np.ones(mean_diff.shape[0])
    varies = mean_diff > 0
    out[varies] = 1.0 / mean_diff[varies]
    return out


def _fit_column(table: Table, j: int, kind: str, ord_levels: pd.Index | None):
    """Values (float64, NaN missing) a column is encoded to at fit, and its levels."""
    column, name = table.columns[j], table.names[j]
    if kind == "numeric":
        values = to_float(column, name)
        if np.any(np.isinf(values)):
            raise ValueError(f"X {name} has infinite values; Gower's distance needs finite ones")
        return kind, values, None
    if kind == "ordinal":
        codes, missing = lookup(column, ord_levels)
        outside = (codes < 0) & ~missing
        if outside.any():
            value = _as_objects(column)[np.flatnonzero(outside)[0]]
            raise ValueError(
                f"ordinal levels of X {name} must include every value of the column; "
                f"{value!r} is not among {list(ord_levels)[:10]}"
            )
        values = codes.astype(np.float64)
        values[missing] = np.nan
        return kind, values, ord_levels
    codes, uniques = factorize(column, name)
    values = codes.astype(np.float64)
    values[codes < 0] = np.nan
    return kind, values, pd.Index(uniques, dtype=object)


def _ordinal_levels(table: Table, ordinal: Any) -> dict[int, pd.Index]:
    if ordinal is None:
        return {}
    if isinstance(ordinal, dict):
        out = {}
        for col, levels in ordinal.items():
            (j,) = resolve_columns([col], table, "ordinal")
            out[int(j)] = pd.Index(list(levels), dtype=object)
            if not out[int(j)].is_unique:
                raise ValueError(
                    f"ordinal levels of X {table.names[j]} must be unique; got {levels}"
                )
        return out
    out = {}
    for j in resolve_columns(ordinal, table, "ordinal"):
        column = table.columns[j]
        dtype = getattr(column, "dtype", None)
        if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
            out[int(j)] = pd.Index(list(dtype.categories), dtype=object)
        else:
            out[int(j)] = pd.Index(factorize(column, table.names[j])[1], dtype=object)
    return out


def _gower_weights(weights: Any, table: Table) -> np.ndarray:
    n = table.n_columns
    if weights is None:
        return np.ones(n)
    if isinstance(weights, str):
        raise ValueError(
            f"weights must be None, {BALANCED!r} or one non-negative number per column; "
            f"got {weights!r}"
        )
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"weights must have one entry per column ({n}); got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"weights must be finite, non-negative, with a positive sum; got {w}")
    return w
