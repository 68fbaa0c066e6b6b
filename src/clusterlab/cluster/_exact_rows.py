"""Which new rows equal a training row exactly: so that a training point fed back to
``predict`` keeps the label the fit gave it.

The hierarchical models' out-of-sample rules (nearest centroid, smallest linkage distance, the
spanning-tree vertex a point would join) are rules for *new* points: applied to a training
point they can disagree with the tree, which put the point where its merges led. A row equal to
a training row takes that row's label first (as :class:`clusterlab.cluster.optics.OPTICS` does).

Rows are compared by the bytes of their float64 values: the training rows are sorted once by
those bytes (:func:`sorted_rows`) and each new row is found by binary search
(:func:`match_rows`), O((n + m) log n) time and one float64 copy of the training rows.
:class:`RowIndex` holds them for a fitted model, sorted at once or at the first lookup.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RowIndex", "match_rows", "sorted_rows"]


def _keys(rows: np.ndarray) -> np.ndarray:
    """One opaque byte-string key per row of a C-contiguous float64 2-D array (a view)."""
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()


def sorted_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``X`` as float64 sorted by their keys, and their row numbers in ``X``.

    Examples
    --------
    >>> rows, order = sorted_rows(np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> sorted(order.tolist())
    [0, 1]
    """
    rows = np.ascontiguousarray(X, dtype=np.float64) + 0.0  # -0.0 -> 0.0
    order = np.argsort(_keys(rows), kind="stable").astype(np.int64)
    return np.ascontiguousarray(rows[order]), order


def match_rows(rows: np.ndarray, order: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """For each row of ``Q``, the number of a training row equal to it, else -1.

    ``rows`` and ``order`` come from :func:`sorted_rows` (of the training rows).

    Examples
    --------
    >>> rows, order = sorted_rows(np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> match_rows(rows, order, np.array([[0.0, 1.0], [2.0, 2.0]])).tolist()
    [1, -1]
    """
    # -0.0 and 0.0 are the same number but not the same bytes
    queries = np.ascontiguousarray(Q, dtype=np.float64) + 0.0
    keys = _keys(rows)
    found = _keys(queries)
    pos = np.minimum(np.searchsorted(keys, found), keys.shape[0] - 1)
    return np.where(keys[pos] == found, order[pos], -1)


class RowIndex:
    """The training rows of a fitted model, for :func:`match_rows`.

    ``lazy=False`` sorts them now (the caller keeps no rows); ``lazy=True`` keeps ``rows`` (an
    array the model owns and never changes) and sorts at the first :meth:`match`, so a fit that
    is never asked to predict does not pay for the sort. The index is one object either way, so
    predicting changes no attribute of the model that holds it.

    Examples
    --------
    >>> index = RowIndex(np.array([[1.0, 0.0], [0.0, 1.0]]), lazy=True)
    >>> index.match(np.array([[0.0, 1.0], [2.0, 2.0]])).tolist()
    [1, -1]
    """

    def __init__(self, rows: np.ndarray, *, lazy: bool) -> None:
        self._source = rows if lazy else None
        self._sorted = None if lazy else sorted_rows(rows)

    def match(self, Q: np.ndarray) -> np.ndarray:
        """For each row of ``Q``, the number of a training row equal to it, else -1."""
        index = self._sorted
        if index is None:  # concurrent first calls may both sort: the same result
            index = self._sorted = sorted_rows(self._source)
        return match_rows(*index, Q)
