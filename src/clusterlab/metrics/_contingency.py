"""Two labelings as a contingency table, after the noise rule of the external indices.

Every external index is a function of the contingency table (reference classes x predicted
clusters), so each labeling pair is reduced once, in O(n log n) time for the label sort and
O(number of non-empty cells) memory, and the indices work on that table.

Noise rule (``noise=``), the same for every external index:

``"cluster"`` (default)
    ``-1`` is an ordinary label: all noise points together form one group. This is what
    scikit-learn does, so values equal scikit-learn's on any input.
``"ignore"``
    Points that are noise in either labeling are dropped before scoring. Use it to score a
    reference that marks noise (the benchmark protocol); it flatters a method that discards the
    hard points, so report the share of points it labelled as noise beside it.
``"singletons"``
    Each noise point is a cluster of its own: noise is never "in the same cluster" as anything,
    which the pair-counting indices (ARI, Rand, Fowlkes-Mallows) penalise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from clusterlab._base import NOISE

__all__ = ["NOISE_RULES", "Table", "check_labelings", "contingency_table", "prepare"]

NOISE_RULES = ("cluster", "ignore", "singletons")

# Above this many cells the table is built from the sorted cell codes instead of a dense bincount.
_DENSE_CELLS = 1 << 22


@dataclass(frozen=True)
class Table:
    """The non-empty cells of a contingency table and its margins.

    Attributes
    ----------
    rows, cols : ndarray of int64, shape (n_cells,)
        Class index and cluster index of each non-empty cell.
    counts : ndarray of int64, shape (n_cells,)
        Number of points in each cell (all > 0).
    a : ndarray of int64, shape (n_classes,)
        Class sizes (row sums).
    b : ndarray of int64, shape (n_clusters,)
        Cluster sizes (column sums).
    n : int
        Number of points scored.
    """

    rows: np.ndarray
    cols: np.ndarray
    counts: np.ndarray
    a: np.ndarray
    b: np.ndarray
    n: int

    def dense(self) -> np.ndarray:
        """The full ``(n_classes, n_clusters)`` table as an int64 array."""
        from clusterlab._config import check_memory

        check_memory(
            8.0 * self.a.size * self.b.size,
            what=f"the dense {self.a.size} x {self.b.size} contingency table",
            alternative="use sparse=True",
        )
        out = np.zeros((self.a.size, self.b.size), dtype=np.int64)
        out[self.rows, self.cols] = self.counts
        return out


def check_labelings(labels_true: Any, labels_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return both labelings as 1-D arrays of the same length, or raise naming the problem."""
    out = []
    for name, labels in (("labels_true", labels_true), ("labels_pred", labels_pred)):
        if isinstance(labels, str):
            raise TypeError(f"{name} must be a 1-D array-like of labels; got a string")
        arr = np.asarray(labels)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D; got an array of shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"{name} must hold at least one label; got an empty array")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must not contain NaN or inf")
        out.append(arr)
    if out[0].shape[0] != out[1].shape[0]:
        raise ValueError(
            "labels_true and labels_pred must have the same length; "
            f"got {out[0].shape[0]} and {out[1].shape[0]}"
        )
    return out[0], out[1]


def _noise_mask(labels: np.ndarray) -> np.ndarray:
    if labels.dtype.kind in "iuf":
        return labels == NOISE
    return np.zeros(labels.shape[0], dtype=bool)


def _as_singletons(labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Give each noise point a fresh label of its own (labels are numeric when mask is set)."""
    if not mask.any():
        return labels
    codes = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    fresh = codes.max(initial=-1) + 1
    codes[mask] = fresh + np.arange(int(mask.sum()), dtype=np.int64)
    return codes


def prepare(labels_true: Any, labels_pred: Any, noise: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate two labelings and apply the noise rule (see the module docstring)."""
    if noise not in NOISE_RULES:
        raise ValueError(f"noise must be one of {NOISE_RULES}; got {noise!r}")
    true, pred = check_labelings(labels_true, labels_pred)
    if noise == "cluster":
        return true, pred
    true_noise = _noise_mask(true)
    pred_noise = _noise_mask(pred)
    if noise == "ignore":
        keep = ~(true_noise | pred_noise)
        if not keep.any():
            raise ValueError(
                "no point left to score: every point is noise (-1) in labels_true or "
                "labels_pred and noise='ignore' drops them; use noise='cluster' or 'singletons'"
            )
        return true[keep], pred[keep]
    return _as_singletons(true, true_noise), _as_singletons(pred, pred_noise)


def contingency_table(labels_true: np.ndarray, labels_pred: np.ndarray) -> Table:
    """Reduce two validated labelings of equal length to a :class:`Table`."""
    _, ti = np.unique(labels_true, return_inverse=True)
    _, pi = np.unique(labels_pred, return_inverse=True)
    ti = ti.astype(np.int64, copy=False).ravel()
    pi = pi.astype(np.int64, copy=False).ravel()
    n_rows = int(ti.max()) + 1
    n_cols = int(pi.max()) + 1
    code = ti * n_cols + pi
    if n_rows * n_cols <= _DENSE_CELLS:
        full = np.bincount(code, minlength=n_rows * n_cols)
        cells = np.flatnonzero(full)
        counts = full[cells]
    else:
        cells, counts = np.unique(code, return_counts=True)
    counts = counts.astype(np.int64, copy=False)
    a = np.bincount(ti, minlength=n_rows).astype(np.int64, copy=False)
    b = np.bincount(pi, minlength=n_cols).astype(np.int64, copy=False)
    return Table(cells // n_cols, cells % n_cols, counts, a, b, int(ti.shape[0]))
