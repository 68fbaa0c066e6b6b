"""Dask input as a list of row blocks, checked without computing, and its one-pass statistics.

A Dask array (chunked by rows; its column chunks are joined lazily) or a Dask DataFrame becomes
a :class:`DaskData`: one task graph per row block, the fit dtype (float32 stays float32,
anything else numeric becomes float64), the feature names and, once known, the rows per block.
Everything about the data that needs the values (row counts, finiteness, the weights' rules,
column means, variances and ranges) comes from :func:`data_stats`, one map-reduce pass.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from clusterlab.distributed._tasks import as_block, as_weights

__all__ = ["DaskData", "DataStats", "dask_data", "data_stats", "lazy_rows", "with_row_lengths"]

#: Rows per slice when a task reduces a block (bounds its float64 temporaries).
SLICE = 65_536


@dataclass
class DaskData:
    """Row blocks of a Dask collection, ready for tasks.

    ``blocks[i]`` and ``weights[i]`` are task-graph references (Delayed or Future) to block
    ``i`` and its weights; tasks turn them into arrays with :func:`as_block` / :func:`as_weights`.
    """

    blocks: list
    weights: list | None
    dtype: np.dtype
    n_features: int
    feature_names: np.ndarray | None
    lengths: tuple[int, ...] | None
    source: Any

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    @property
    def is_frame(self) -> bool:
        return hasattr(self.source, "columns")


def _fit_dtype(dtypes: list[np.dtype], what: str, names: list[str] | None) -> np.dtype:
    bad = [i for i, dt in enumerate(dtypes) if np.dtype(dt).kind not in "biuf"]
    if bad:
        if names is not None:
            columns = ", ".join(repr(names[i]) for i in bad[:5])
            raise TypeError(
                f"{what} must contain only numbers; the columns {columns} have dtypes "
                f"{[str(dtypes[i]) for i in bad[:5]]} (encode them first, e.g. with setup)"
            )
        raise TypeError(f"{what} must contain only numbers; got a Dask array of dtype {dtypes[0]}")
    if all(np.dtype(dt) == np.float32 for dt in dtypes):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def dask_data(X: Any, sample_weight: Any = None, *, what: str = "X") -> DaskData:
    """Check a Dask collection's metadata (nothing is computed) and split it into row blocks.

    Raises
    ------
    TypeError
        For a collection that is not a 2-D Dask array or a Dask DataFrame, or non-numeric data.
    ValueError
        For an array with an unknown or zero number of columns.
    """
    if hasattr(X, "columns") and hasattr(X, "npartitions"):
        names = [str(c) for c in X.columns]
        dtypes = list(X.dtypes)
        if not names:
            raise ValueError(f"{what} must have at least one column; got a Dask DataFrame of none")
        dtype = _fit_dtype(dtypes, what, names)
        string_names = all(isinstance(c, str) for c in X.columns)
        feature_names = np.asarray(names, dtype=object) if string_names else None
        blocks = list(X.to_delayed())
        lengths = None
        source = X
        n_features = len(names)
    elif hasattr(X, "chunks") and hasattr(X, "ndim"):
        if X.ndim != 2:
            raise ValueError(f"{what} must be 2-D; got a Dask array of shape {X.shape}")
        n_features = X.shape[1]
        if not n_features or np.isnan(n_features):
            raise ValueError(f"{what} must have a known, positive number of columns; got {X.shape}")
        dtype = _fit_dtype([X.dtype], what, None)
        if X.numblocks[1] > 1:
            X = X.rechunk({1: -1})
        blocks = list(X.to_delayed()[:, 0])
        known = not any(np.isnan(c) for c in X.chunks[0])
        lengths = tuple(int(c) for c in X.chunks[0]) if known else None
        feature_names = None
        source = X
    else:
        raise TypeError(
            f"{what} must be a 2-D Dask array or a Dask DataFrame; got {type(X).__name__}"
        )
    data = DaskData(blocks, None, dtype, int(n_features), feature_names, lengths, source)
    data.weights = _weight_blocks(sample_weight, data)
    return data


def _weight_blocks(sample_weight: Any, data: DaskData) -> list | None:
    """Weights as one graph reference per row block (checked against the blocks in the stats)."""
    from clusterlab.distributed._dispatch import is_dask_collection

    if sample_weight is None:
        return None
    if is_dask_collection(sample_weight):
        if hasattr(sample_weight, "npartitions") and not hasattr(sample_weight, "columns"):
            parts = list(sample_weight.to_delayed())
        elif getattr(sample_weight, "ndim", None) == 1:
            if data.lengths is not None and not any(np.isnan(sample_weight.chunks[0])):
                sample_weight = sample_weight.rechunk({0: data.lengths})
            parts = list(sample_weight.to_delayed())
        else:
            raise ValueError("sample_weight must be 1-D: a Dask array or a Dask Series")
        if len(parts) != data.n_blocks:
            raise ValueError(
                f"sample_weight must have one block per block of X ({data.n_blocks}); got "
                f"{len(parts)} (give it the row chunks / partitions of X)"
            )
        return parts
    weights = np.asarray(sample_weight)
    if weights.ndim != 1:
        raise ValueError(f"sample_weight must be 1-D; got shape {weights.shape}")
    if data.lengths is None:
        raise ValueError(
            "sample_weight for a Dask DataFrame (or an array of unknown chunk sizes) must be a "
            "Dask Series or array with the same partitions, not an in-memory array"
        )
    if weights.shape[0] != sum(data.lengths):
        raise ValueError(
            f"sample_weight must have shape ({sum(data.lengths)},) to match X; got {weights.shape}"
        )
    bounds = np.cumsum((0, *data.lengths))
    return [weights[a:b] for a, b in itertools.pairwise(bounds)]


@dataclass(frozen=True)
class DataStats:
    """What one pass over the blocks tells: rows, weights, column statistics (float64)."""

    lengths: np.ndarray
    weight_sums: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    span: np.ndarray

    @property
    def n_samples(self) -> int:
        return int(self.lengths.sum())

    @property
    def offsets(self) -> np.ndarray:
        """First row of each block."""
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    @property
    def mean_variance(self) -> float:
        """Mean over features of the population variance (KMeans' scale for ``tol``)."""
        return float(self.variance.mean())


def block_stats(part: Any, wpart: Any, dtype: Any) -> dict[str, Any]:
    """Task: rows, finiteness, weight checks and column moments of one block.

    Moments are combined slice by slice with Chan et al.'s pairwise update, so they are exact
    to rounding like a two-pass computation, in float64 whatever the block's dtype.
    """
    X = as_block(part, dtype)
    n, d = X.shape
    out: dict[str, Any] = {"n": n, "finite": True, "w_finite": True, "w_min": np.inf}
    out["wsum"] = float(n)
    if wpart is not None:
        w = as_weights(wpart, n, np.float64)
        out["w_finite"] = bool(np.isfinite(w).all())
        out["w_min"] = float(w.min()) if n else np.inf
        out["wsum"] = float(w.sum())
    count, mean, m2 = 0, np.zeros(d), np.zeros(d)
    lo, hi = np.full(d, np.inf), np.full(d, -np.inf)
    for start in range(0, n, SLICE):
        part64 = X[start : start + SLICE].astype(np.float64, copy=False)
        part_lo, part_hi = part64.min(axis=0), part64.max(axis=0)
        # NaN propagates through min and max, and an infinity is an extreme: the slice is
        # finite exactly when its column extremes are (one pass fewer than np.isfinite).
        if not (np.isfinite(part_lo).all() and np.isfinite(part_hi).all()):
            out["finite"] = False
            break
        m = part64.shape[0]
        part_mean = part64.mean(axis=0)
        centered = part64 - part_mean
        part_m2 = np.einsum("ij,ij->j", centered, centered)
        delta = part_mean - mean
        total = count + m
        mean = mean + delta * (m / total)
        m2 = m2 + part_m2 + delta**2 * (count * m / total)
        count = total
        lo = np.minimum(lo, part_lo)
        hi = np.maximum(hi, part_hi)
    out.update(mean=mean, m2=m2, lo=lo, hi=hi)
    return out


def data_stats(client: Any, data: DaskData) -> DataStats:
    """One pass over the blocks: check the values and sum up their statistics, in block order.

    Also records the rows per block in ``data.lengths``.

    Raises
    ------
    ValueError
        For NaN or inf in X, invalid weights, or no rows at all.
    """
    from dask import delayed

    weights = data.weights or [None] * data.n_blocks
    tasks = [
        delayed(block_stats, pure=True)(b, w, data.dtype)
        for b, w in zip(data.blocks, weights, strict=True)
    ]
    parts = client.gather(client.compute(tasks))
    for i, p in enumerate(parts):
        if not p["finite"]:
            raise ValueError(f"X must be finite; block {i} holds NaN or inf")
        if not p["w_finite"]:
            raise ValueError(f"sample_weight must be finite; block {i} holds NaN or inf")
        if p["w_min"] < 0:
            raise ValueError(f"sample_weight must be non-negative; got a minimum of {p['w_min']!r}")
    lengths = np.array([p["n"] for p in parts], dtype=np.int64)
    if lengths.sum() == 0:
        raise ValueError("X must have at least one row; got 0 rows")
    wsums = np.array([p["wsum"] for p in parts])
    if not wsums.sum() > 0:
        raise ValueError("sample_weight must have a positive sum; got all zeros")
    count, mean, m2 = 0, np.zeros(data.n_features), np.zeros(data.n_features)
    lo = np.full(data.n_features, np.inf)
    hi = np.full(data.n_features, -np.inf)
    for p in parts:
        if p["n"] == 0:
            continue
        delta = p["mean"] - mean
        total = count + p["n"]
        mean = mean + delta * (p["n"] / total)
        m2 = m2 + p["m2"] + delta**2 * (count * p["n"] / total)
        count = total
        lo = np.minimum(lo, p["lo"])
        hi = np.maximum(hi, p["hi"])
    data.lengths = tuple(int(n) for n in lengths)
    return DataStats(lengths, wsums, mean, m2 / count, hi - lo)


def lazy_rows(data: DaskData, func: Any, *args: Any, dtype: Any, width: int | None = None) -> Any:
    """A Dask array of ``func(block, *args)`` per block (known row chunks): nothing computed.

    ``func`` returns a 1-D array (``width=None``) or ``width`` columns per row of its block.
    """

    if data.lengths is None:
        raise RuntimeError("lazy_rows needs the block lengths (run data_stats first)")
    if data.is_frame:
        array = data.source.to_dask_array(lengths=list(data.lengths))
    else:
        array = data.source
        if any(np.isnan(c) for c in array.chunks[0]):
            array = _with_lengths(array, data)
    meta = np.empty((0,) if width is None else (0, width), dtype=dtype)
    if width is None:
        return array.map_blocks(func, *args, data.dtype, dtype=dtype, drop_axis=1, meta=meta)
    return array.map_blocks(
        func, *args, data.dtype, dtype=dtype, chunks=(array.chunks[0], (width,)), meta=meta
    )


def _with_lengths(array: Any, data: DaskData) -> Any:
    """The same graph with its (now known) row chunk sizes."""
    import dask.array as da

    chunks = (tuple(data.lengths), array.chunks[1])
    return da.Array(array.dask, array.name, chunks, meta=array._meta)


def with_row_lengths(result: Any, lengths: Any) -> Any:
    """A lazy per-block result with its rows per block filled in (nothing computed).

    For a Dask array computed block by block from an input whose row chunks were unknown
    (a Dask DataFrame's ``to_dask_array()``), once a pass has counted the rows of each block;
    anything else (a Dask Series, or known chunks) is returned as it is.
    """
    chunks = getattr(result, "chunks", None)
    if chunks is None or not any(np.isnan(c) for c in chunks[0]):
        return result
    import dask.array as da

    if len(lengths) != len(chunks[0]):
        raise RuntimeError(f"{len(lengths)} block lengths for {len(chunks[0])} blocks")
    known = (tuple(int(n) for n in lengths), *chunks[1:])
    return da.Array(result.dask, result.name, known, meta=result._meta)
