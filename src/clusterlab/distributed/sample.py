"""Uniform samples of Dask data pulled to the client, and fitting any estimator on one."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from clusterlab.distributed._blocks import collect, per_block

__all__ = ["fit_sample", "uniform_sample"]


def _length_task(part: Any) -> int:
    return len(part)


def _rows_task(part: Any, wpart: Any, count: int, seed: Any):
    """Task: ``count`` rows of the block drawn uniformly without replacement, in block order
    (the rows, their weights and their positions in the block)."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(part), size=count, replace=False)) if count else np.arange(0)
    take = part.iloc[rows] if hasattr(part, "iloc") else np.asarray(part)[rows]
    weights = None
    if wpart is not None:
        weights = np.asarray(wpart.to_numpy() if hasattr(wpart, "to_numpy") else wpart)[rows]
    return take, weights, rows


def _block_lengths(client: Any, data: Any) -> tuple[int, ...]:
    if data.lengths is None:
        futures = per_block(client, _length_task, [data.blocks])
        data.lengths = tuple(int(n) for n in collect(client, futures))
    return data.lengths


def uniform_sample(
    X: Any, n_samples: int, *, sample_weight: Any = None, random_state: Any = None
) -> tuple[Any, np.ndarray | None]:
    """``min(n_samples, n)`` rows of a Dask collection, uniformly without replacement.

    The rows per block follow a multivariate hypergeometric draw over the block lengths, and
    each block draws its rows with its own random stream, so the sample is uniform, exact in
    size and the same for the same ``random_state``. Rows keep their order and, for a Dask
    DataFrame, their index and columns.

    Returns
    -------
    sample : numpy.ndarray or pandas.DataFrame
    weights : numpy.ndarray or None
        The sampled rows' ``sample_weight``.
    """
    sample, weights, _ = sample_rows(
        X, n_samples, sample_weight=sample_weight, random_state=random_state
    )
    return sample, weights


def sample_rows(
    X: Any, n_samples: int, *, sample_weight: Any = None, random_state: Any = None
) -> tuple[Any, np.ndarray | None, np.ndarray]:
    """:func:`uniform_sample`, and the sampled rows' positions in ``X`` (int64, increasing)."""
    from clusterlab.distributed._cluster import get_client
    from clusterlab.distributed._data import DaskData, _weight_blocks

    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be an int >= 1; got {n_samples!r}")
    client = get_client("sampling")
    blocks, lengths = _raw_blocks(X)
    data = DaskData(blocks, None, np.dtype(np.float64), 0, None, lengths, X)
    data.weights = _weight_blocks(sample_weight, data)
    lengths = np.asarray(_block_lengths(client, data), dtype=np.int64)
    seed = np.random.SeedSequence(_entropy(random_state))
    rng = np.random.default_rng(seed)
    total = int(lengths.sum())
    if total == 0:
        raise ValueError("X must have at least one row; got 0 rows")
    counts = rng.multivariate_hypergeometric(lengths, min(int(n_samples), total))
    streams = seed.spawn(data.n_blocks)
    weights = data.weights or [None] * data.n_blocks
    futures = per_block(client, _rows_task, [data.blocks, weights, list(counts), streams])
    parts = collect(client, futures)
    if hasattr(parts[0][0], "iloc"):
        import pandas as pd

        sample = pd.concat([p[0] for p in parts])
    else:
        sample = np.concatenate([p[0] for p in parts])
    sampled_weights = None if data.weights is None else np.concatenate([p[1] for p in parts])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    positions = np.concatenate([start + p[2] for start, p in zip(starts, parts, strict=True)])
    return sample, sampled_weights, positions.astype(np.int64)


def _raw_blocks(X: Any) -> tuple[list, tuple[int, ...] | None]:
    """Row blocks as the user's objects (pandas partitions keep their index and columns), and
    their lengths when the collection knows them."""
    if hasattr(X, "columns") and hasattr(X, "npartitions"):
        return list(X.to_delayed()), None
    if getattr(X, "ndim", None) not in (1, 2) or not hasattr(X, "chunks"):
        raise TypeError(f"X must be a Dask array or a Dask DataFrame; got {type(X).__name__}")
    if X.ndim == 2 and X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    blocks = X.to_delayed().reshape(X.numblocks[0], -1)[:, 0]
    known = not any(np.isnan(c) for c in X.chunks[0])
    return list(blocks), tuple(int(c) for c in X.chunks[0]) if known else None


def _entropy(random_state: Any) -> Any:
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    return random_state


def fit_sample(
    estimator: Any,
    X: Any,
    n_samples: int = 100_000,
    *,
    sample_weight: Any = None,
    random_state: Any = None,
    return_sample: bool = False,
) -> Any:
    """Fit any estimator on a uniform sample of a Dask collection, pulled to this process.

    For the estimators without a distributed fit (all but KMeans, MiniBatchKMeans, KMedoids,
    KModes and KPrototypes):
    ``min(n_samples, n)`` rows are drawn uniformly without replacement (see
    :func:`uniform_sample`), brought into memory here, and ``estimator.fit`` runs on them. Label
    all the rows afterwards with :func:`clusterlab.distributed.predict`.

    Parameters
    ----------
    estimator : estimator
        Unfitted (it is fitted in place and returned).
    X : dask.array.Array or dask.dataframe.DataFrame
    n_samples : int, default=100_000
        Rows to fit on. They are all held in this process's memory.
    sample_weight : Dask array or Series, optional
        The sampled rows' weights are passed to ``fit``.
    random_state : None, int or Generator
        Seeds the sample (the estimator keeps its own ``random_state``).
    return_sample : bool, default=False
        Also return the sample (a numpy array, or a DataFrame with the user's index), e.g. to
        fit an out-of-sample rule for a model without ``predict``.

    Returns
    -------
    estimator, or (estimator, sample)

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client
    >>> from clusterlab import DBSCAN
    >>> from clusterlab.distributed import fit_sample
    >>> client = Client(processes=False, n_workers=1, dashboard_address=None)
    >>> X = da.random.default_rng(0).normal(size=(10_000, 2), chunks=2_500)
    >>> model = fit_sample(DBSCAN(eps=0.3), X, n_samples=2_000, random_state=0)
    >>> model.labels_.shape
    (2000,)
    >>> client.close()
    """
    sample, weights = uniform_sample(
        X, n_samples, sample_weight=sample_weight, random_state=random_state
    )
    if weights is None:
        estimator.fit(sample)
    else:
        estimator.fit(sample, sample_weight=weights)
    return (estimator, sample) if return_sample else estimator
