"""Gower's distance for mixed tables: a fitted transformer, a pairwise function, a silhouette.

Gower (1971): the distance between two rows is the weighted mean, over the columns both rows
have, of a per-column dissimilarity in [0, 1] — ``|a - b| / range`` for numeric columns, 0 or 1
(equal or not) for categorical ones, and the rank difference over the rank range for ordinal
ones (Podani 1999; R's ``daisy`` does the same). Missing values are skipped and the weights of the
columns compared renormalised. :class:`GowerDistance` learns ranges and levels on ``fit`` and
reuses them for new rows, capping a numeric difference at the full range (1), so the distances of
new rows to fitted ones are consistent and stay in [0, 1].

Gower weighs every column alike, which lets categories dominate: a category mismatch costs 1,
and in real tables half or more of the pairs of rows differ in a category, while a range-scaled
number differs by 0.2 to 0.3 on average. ``weights='balanced'`` weighs each column by 1 / its mean
dissimilarity over the pairs of fitted rows (exact, O(n log n) per column), so that every column
adds the same amount on average; the weights are learned on ``fit`` and kept for new rows.

Matrices are computed by a parallel numba kernel in float32 by default (float64 on request);
``gower_distances(..., top_n=m)`` returns each row's ``m`` nearest rows without ever building the
full matrix.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from clusterlab._base import NOISE, ParamsMixin
from clusterlab._config import check_memory, threads
from clusterlab._mixed import BALANCED, fit_gower, read_table
from clusterlab._validation import ARRAY_LIKE, NONE, Interval, Options

__all__ = ["GowerDistance", "gower_distances", "gower_silhouette_score"]

_COLUMNS = [NONE, Interval(numbers.Integral, None, None), str, ARRAY_LIKE]


class GowerDistance(ParamsMixin, TransformerMixin, BaseEstimator):
    """Gower's distance with ranges and levels learned on ``fit``.

    ``transform(X)`` gives the distances from the rows of ``X`` to the rows seen in ``fit``
    (so ``GowerDistance()`` followed by ``KMedoids(metric='precomputed')`` is a pipeline that
    predicts new rows); :meth:`pairwise` gives distances between any two tables under the fitted
    rules.

    Parameters
    ----------
    categorical : None, int, str, list of positions or names, or boolean mask
        Nominal columns (0/1 dissimilarity). None takes them from the dtypes: pandas category /
        object / string / bool columns, numpy object columns holding anything but numbers.
    ordinal : None, list of columns, or dict column -> levels in order
        Ordinal columns, compared by rank: ``|rank(a) - rank(b)| / (max rank - min rank)``.
        With a list, an ordered pandas Categorical gives the order, else the sorted values.
    weights : None, 'balanced' or array-like of shape (n_features,)
        Non-negative column weights; None: ones (Gower's coefficient). 'balanced': each column
        weighed by 1 / its mean dissimilarity over all pairs of the rows seen in ``fit`` (a
        column without differences among them keeps 1), so that on average every column adds
        the same amount to the distance instead of the categories dominating.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when X is a DataFrame with string column names.
    column_kinds_ : dict
        Each column's treatment: ``'numeric'``, ``'ordinal'``, ``'nominal'``, or ``'constant'``
        (a numeric column with a single value in fit: 0 when equal, 1 otherwise).
    ranges_ : dict
        Range learned for each numeric and ordinal (rank) column with more than one value.
    weights_ : ndarray of shape (n_features,)
        The weight of each column, in the columns' order (``weights``, resolved).

    Notes
    -----
    Rules for new data: a numeric difference larger than the fitted range counts as 1; a
    category not seen in fit matches no fitted level (two new rows with the same new category
    match each other within one call); an ordinal value outside the known levels is missing.
    A pair of rows with no column in common is at distance 1, the largest Gower distance.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab import GowerDistance
    >>> X = pd.DataFrame({"age": [20.0, 40.0, 60.0], "plan": ["basic", "basic", "pro"]})
    >>> D = GowerDistance().fit_transform(X)
    >>> D.round(3).tolist()
    [[0.0, 0.25, 1.0], [0.25, 0.0, 0.75], [1.0, 0.75, 0.0]]
    >>> balanced = GowerDistance(weights="balanced").fit(X)
    >>> balanced.weights_.round(3).tolist()  # mean differences: age 2/3, plan 2/3
    [1.5, 1.5]
    """

    _parameter_constraints = {  # noqa: RUF012 - read-only class table
        "categorical": _COLUMNS,
        "ordinal": [NONE, dict, *_COLUMNS[1:]],
        "weights": [NONE, Options(BALANCED), ARRAY_LIKE],
    }

    def __init__(self, *, categorical: Any = None, ordinal: Any = None, weights: Any = None):
        self.categorical = categorical
        self.ordinal = ordinal
        self.weights = weights

    def fit(self, X: Any, y: Any = None) -> GowerDistance:
        """Learn each column's kind, range or levels, and keep the encoded rows of ``X``."""
        self._validate_params()
        table = read_table(self, X, reset=True)
        self._encoding = fit_gower(table, self.categorical, self.ordinal, self.weights)
        self._fit_rows = self._encoding.encode(table)
        enc = self._encoding
        names = table.names
        self.column_kinds_ = {names[j]: kind for j, kind in zip(enc.order, enc.kinds, strict=True)}
        self.ranges_ = {
            names[j]: 1.0 / enc.scale[e] for e, j in enumerate(enc.order[: enc.n_interval])
        }
        self.weights_ = np.empty(len(names))
        self.weights_[enc.order] = enc.weights
        return self

    def encode(self, X: Any, unseen: dict | None = None) -> np.ndarray:
        """The float64 (n, d) encoding the kernels read (``clusterlab._mixed.GowerEncoding``)."""
        check_is_fitted(self, "column_kinds_")
        return self._encoding.encode(read_table(self, X, reset=False), unseen)

    def transform(self, X: Any) -> np.ndarray:
        """Distances from the rows of ``X`` to the rows seen in fit: float32 (n, n_fit)."""
        return _matrix(self.encode(X), self._fit_rows, self._encoding, np.float32, None)

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then the symmetric matrix of the fitted rows (zero diagonal), float32."""
        self.fit(X)
        return _matrix(self._fit_rows, None, self._encoding, np.float32, None)

    def pairwise(
        self, X: Any, Y: Any = None, *, dtype: Any = np.float32, n_jobs: int | None = None
    ) -> np.ndarray:
        """Distances between the rows of ``X`` and of ``Y`` (``X`` itself when None), under the
        fitted ranges and levels."""
        unseen: dict = {}
        A = self.encode(X, unseen)
        B = None if Y is None else self.encode(Y, unseen)
        return _matrix(A, B, self._encoding, dtype, n_jobs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags


def _matrix(A, B, encoding, dtype, n_jobs) -> np.ndarray:
    from clusterlab.kernels.gower import gower_matrix

    n_b = A.shape[0] if B is None else B.shape[0]
    dtype = np.dtype(dtype)
    check_memory(
        A.shape[0] * n_b * dtype.itemsize,
        what=f"the {A.shape[0]} x {n_b} Gower distance matrix",
        alternative="use gower_distances(..., top_n=m) for the nearest rows only, or a sample",
    )
    out = np.empty((A.shape[0], n_b), dtype=dtype)
    with threads(n_jobs):
        gower_matrix(
            A, A if B is None else B, encoding.n_interval, encoding.weights, out, B is None
        )
    return out


def _check_dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    return dtype


def gower_distances(
    X: Any,
    Y: Any = None,
    *,
    categorical: Any = None,
    ordinal: Any = None,
    weights: Any = None,
    top_n: int | None = None,
    dtype: Any = np.float32,
    n_jobs: int | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Gower's distances between the rows of ``X`` and of ``Y`` (``X`` itself when None).

    Ranges and levels are learned on ``X`` and ``Y`` together, as the ``gower`` package does
    (use :class:`GowerDistance` to learn them on one table and apply them to others).

    Parameters
    ----------
    X, Y : DataFrame or array-like of shape (n, n_features)
        Tables with the same columns; missing values are skipped pair by pair.
    categorical, ordinal, weights
        As in :class:`GowerDistance`.
    top_n : int, optional
        Return only each row's ``top_n`` nearest rows of ``Y`` (itself included when ``Y`` is
        None), computed in parallel chunks without the full matrix (memory O(n * top_n)).
    dtype : {float32, float64}, default=float32
        Type of the distances returned (they are accumulated in float64).
    n_jobs : int, optional
        Threads for the kernel (None: numba's current setting; -1: all cores).

    Returns
    -------
    ndarray of shape (n_x, n_y)
        Without ``top_n``; symmetric with a zero diagonal when ``Y`` is None.
    (distances, indices) : ndarrays of shape (n_x, top_n)
        With ``top_n``: each row sorted by distance (ties: the lower index first).

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.metrics import gower_distances
    >>> X = pd.DataFrame({"age": [20.0, 40.0, 60.0], "plan": ["basic", "basic", "pro"]})
    >>> gower_distances(X).round(3)[0].tolist()
    [0.0, 0.25, 1.0]
    >>> dist, idx = gower_distances(X, top_n=2)
    >>> idx.tolist()
    [[0, 1], [1, 0], [2, 1]]
    """
    from clusterlab.kernels.gower import gower_top_n

    dtype = _check_dtype(dtype)
    gd = GowerDistance(categorical=categorical, ordinal=ordinal, weights=weights)
    both = X if Y is None else _stack(X, Y)
    gd.fit(both)
    rows = gd._fit_rows
    n_x = _n_rows(X)
    A, B = (rows, None) if Y is None else (rows[:n_x], rows[n_x:])
    if top_n is None:
        return _matrix(A, B, gd._encoding, dtype, n_jobs)
    n_b = A.shape[0] if B is None else B.shape[0]
    if isinstance(top_n, bool) or not isinstance(top_n, int | np.integer) or not 1 <= top_n <= n_b:
        raise ValueError(f"top_n must be an int in [1, {n_b}] (the rows of Y); got {top_n!r}")
    dist = np.empty((A.shape[0], top_n), dtype=dtype)
    index = np.empty((A.shape[0], top_n), dtype=np.int64)
    with threads(n_jobs):
        gower_top_n(
            A, A if B is None else B, gd._encoding.n_interval, gd._encoding.weights, dist, index
        )
    return dist, index


def _n_rows(X: Any) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _stack(X: Any, Y: Any) -> Any:
    if isinstance(X, pd.DataFrame) or isinstance(Y, pd.DataFrame):
        if not (isinstance(X, pd.DataFrame) and isinstance(Y, pd.DataFrame)):
            raise TypeError("X and Y must both be DataFrames, or both arrays")
        if list(X.columns) != list(Y.columns):
            raise ValueError(
                f"X and Y must have the same columns; got {list(X.columns)[:10]} and "
                f"{list(Y.columns)[:10]}"
            )
        return pd.concat([X, Y], ignore_index=True)
    A = np.asarray(X, dtype=object)
    B = np.asarray(Y, dtype=object)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(
            f"X and Y must be 2-D with the same number of columns; got shapes {A.shape} and "
            f"{B.shape}"
        )
    return np.concatenate([A, B])


def gower_silhouette_score(
    X: Any,
    labels: Any,
    *,
    categorical: Any = None,
    ordinal: Any = None,
    weights: Any = None,
    sample_size: int | None = None,
    random_state: Any = None,
    n_jobs: int | None = None,
) -> float:
    """Mean silhouette coefficient under Gower's distance, for labellings of a mixed table.

    Ranges and levels are learned on all rows of ``X``; the silhouette is exact on the
    non-noise rows, or on ``sample_size`` of them drawn at random (the distance matrix of the
    rows scored is built in float32, so its size is checked against the memory budget).

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Cluster labels; noise (-1) is left out.
    categorical, ordinal, weights
        As in :class:`GowerDistance`.
    sample_size : int, optional
        Score this many random non-noise rows instead of all.
    random_state : int, RandomState or None
        Seed of the sample.
    n_jobs : int, optional
        Threads for the distance kernel.

    Returns
    -------
    float
        In [-1, 1]; higher is better.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.metrics import gower_silhouette_score
    >>> X = pd.DataFrame({"spend": [1.0, 1.1, 9.0, 9.2], "plan": ["a", "a", "b", "b"]})
    >>> round(gower_silhouette_score(X, [0, 0, 1, 1]), 3)
    0.983
    """
    from clusterlab.metrics.internal import silhouette_score

    gd = GowerDistance(categorical=categorical, ordinal=ordinal, weights=weights).fit(X)
    labels = np.asarray(labels)
    if labels.shape != (gd._fit_rows.shape[0],):
        raise ValueError(
            f"labels must be 1-D with one label per row of X ({gd._fit_rows.shape[0]}); "
            f"got shape {labels.shape}"
        )
    rows = np.flatnonzero(labels != NOISE)
    if sample_size is not None:
        if isinstance(sample_size, bool) or not isinstance(sample_size, int | np.integer):
            raise ValueError(f"sample_size must be None or an int >= 2; got {sample_size!r}")
        if sample_size < 2:
            raise ValueError(f"sample_size must be None or an int >= 2; got {sample_size}")
        if sample_size < rows.size:
            rs = np.random.RandomState(random_state)
            rows = np.sort(rs.choice(rows, size=sample_size, replace=False))
    A = gd._fit_rows[rows]
    D = _matrix(A, None, gd._encoding, np.float32, n_jobs)
    return silhouette_score(D, labels[rows], metric="precomputed")
