"""Internal validity indices of a labelling of Dask data, by map-reduce.

Two passes over the blocks: the first sums each cluster's rows (its centroid and size), the
second measures every row against the centroids and gives all the indices at once --
Calinski-Harabasz, Davies-Bouldin, inertia and the simplified silhouette -- with the
definitions (and noise rule: label -1 is left out) of :mod:`clusterlab.metrics`. The exact
silhouette is O(n^2): it is computed on a uniform sample pulled to the client, and the result
says how many rows that sample had.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from clusterlab._base import NOISE
from clusterlab.distributed._blocks import collect, per_block
from clusterlab.distributed._data import SLICE
from clusterlab.distributed._tasks import as_block

__all__ = [
    "calinski_harabasz_score",
    "cluster_scores",
    "davies_bouldin_score",
    "inertia",
    "silhouette_score",
    "simplified_silhouette_score",
]


def _block_labels(lpart: Any, n_rows: int) -> np.ndarray:
    labels = np.asarray(lpart.to_numpy() if hasattr(lpart, "to_numpy") else lpart).reshape(-1)
    if labels.shape[0] != n_rows:
        raise ValueError(
            f"labels must have one label per row of X; a block of {n_rows} rows got "
            f"{labels.shape[0]} labels (give labels the row chunks / partitions of X)"
        )
    return labels


def _sums_task(part, lpart, dtype):
    """Task: a block's clusters (noise left out), their sizes and float64 row sums."""
    X = as_block(part, dtype)
    labels = _block_labels(lpart, X.shape[0])
    keep = labels != NOISE
    classes, codes = np.unique(labels[keep], return_inverse=True)
    sums = np.zeros((classes.size, X.shape[1]))
    np.add.at(sums, codes.ravel(), X[keep].astype(np.float64))
    return classes, np.bincount(codes.ravel(), minlength=classes.size), sums


def _scores_task(part, lpart, dtype, classes, centers, sizes):  # noqa: PLR0917
    """Task: per cluster, the rows' squared and plain distances to their centroid; and the
    sum of the simplified silhouette of the block's rows."""
    X = as_block(part, dtype)
    labels = _block_labels(lpart, X.shape[0])
    keep = labels != NOISE
    Xk = X[keep]
    codes = np.searchsorted(classes, labels[keep])
    k = classes.size
    squared, plain = np.zeros(k), np.zeros(k)
    silhouette = 0.0
    c_norms = np.einsum("ij,ij->i", centers, centers)
    for start in range(0, Xk.shape[0], SLICE):
        x = Xk[start : start + SLICE].astype(np.float64)
        c = codes[start : start + SLICE]
        diff = x - centers[c]
        sq_own = np.einsum("ij,ij->i", diff, diff)
        squared += np.bincount(c, weights=sq_own, minlength=k)
        plain += np.bincount(c, weights=np.sqrt(sq_own), minlength=k)
        silhouette += _simplified_silhouette_sum(x, c, centers, c_norms, sizes)
    return squared, plain, silhouette


def _simplified_silhouette_sum(x, codes, centers, c_norms, sizes):
    """Sum of ``(b - a) / max(a, b)`` over rows, as simplified_silhouette_score computes it."""
    sq = np.einsum("ij,ij->i", x, x)[:, None] - 2.0 * x @ centers.T + c_norms[None, :]
    dist = np.sqrt(np.maximum(sq, 0.0))
    rows = np.arange(codes.size)
    a = dist[rows, codes]
    dist[rows, codes] = np.inf
    b = dist.min(axis=1) if centers.shape[0] > 1 else np.full(codes.size, np.inf)
    denom = np.maximum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(denom > 0, (b - a) / denom, 0.0)
    s[sizes[codes] == 1] = 0.0
    return float(s.sum())


def _aligned(X: Any, labels: Any) -> tuple[Any, list, list]:
    """The data and the labels as matching lists of row blocks."""
    from clusterlab.distributed._data import dask_data
    from clusterlab.distributed._dispatch import is_dask_collection

    data = dask_data(X)
    if not is_dask_collection(labels):
        raise TypeError(
            f"labels must be a Dask array or Series aligned with X; got {type(labels).__name__}"
        )
    if hasattr(labels, "npartitions") and not hasattr(labels, "chunks"):
        parts = list(labels.to_delayed())
    else:
        if labels.ndim != 1:
            raise ValueError(f"labels must be 1-D; got a Dask array of shape {labels.shape}")
        if data.lengths is not None and not any(np.isnan(labels.chunks[0])):
            if sum(labels.chunks[0]) != sum(data.lengths):
                raise ValueError(
                    f"labels must have one label per row of X ({sum(data.lengths)}); "
                    f"got {sum(labels.chunks[0])}"
                )
            labels = labels.rechunk({0: data.lengths})
        parts = list(labels.to_delayed())
    if len(parts) != data.n_blocks:
        raise ValueError(
            f"labels must have one block per block of X ({data.n_blocks}); got {len(parts)}"
        )
    return data, data.blocks, parts


def cluster_scores(
    X: Any,
    labels: Any,
    *,
    silhouette_sample: int | None = 10_000,
    random_state: Any = None,
) -> dict[str, float]:
    """All the internal indices of a labelling of Dask data, in two passes over the blocks.

    Parameters
    ----------
    X : dask.array.Array or dask.dataframe.DataFrame
    labels : dask.array.Array or dask.dataframe.Series
        One label per row, in X's row blocks (for example ``model.labels_`` of a distributed
        fit, or :func:`clusterlab.distributed.predict`); -1 is noise and left out.
    silhouette_sample : int or None, default=10_000
        Rows of the uniform sample the exact silhouette is computed on (pulled to the client);
        ``None`` skips the exact silhouette.
    random_state : None, int or Generator
        Seeds that sample.

    Returns
    -------
    dict
        ``calinski_harabasz``, ``davies_bouldin``, ``inertia``, ``simplified_silhouette`` over
        all the non-noise rows; ``silhouette`` on the sample and ``silhouette_sample_size``,
        the rows it had.

    Raises
    ------
    ValueError
        When every row is noise, or there are fewer than 2 clusters or more than
        ``n_samples - 1`` (as the in-memory indices).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from distributed import Client
    >>> from clusterlab.distributed import cluster_scores
    >>> client = Client(processes=False, n_workers=1, dashboard_address=None)
    >>> X = da.from_array(np.array([[0.0], [0.2], [5.0], [5.2]]), chunks=2)
    >>> y = da.from_array(np.array([0, 0, 1, 1]), chunks=2)
    >>> round(cluster_scores(X, y)["davies_bouldin"], 3)
    0.04
    >>> client.close()
    """
    from scipy.spatial.distance import cdist

    classes, sizes, centers, squared, plain, silhouette = _two_passes(X, labels, 2)
    n = int(sizes.sum())
    k = classes.size
    within = float(squared.sum())
    mean = (centers * sizes[:, None]).sum(axis=0) / n
    between = float(np.sum(sizes * np.sum((centers - mean) ** 2, axis=1)))
    spread = plain / sizes
    separation = cdist(centers, centers)
    if np.allclose(spread, 0) or np.allclose(separation, 0):
        davies_bouldin = 0.0
    else:
        separation[separation == 0] = np.inf
        ratio = (spread[:, None] + spread[None, :]) / separation
        davies_bouldin = float(np.mean(np.max(ratio, axis=1)))
    scores = {
        "calinski_harabasz": 1.0 if within == 0.0 else between * (n - k) / (within * (k - 1.0)),
        "davies_bouldin": davies_bouldin,
        "inertia": within,
        "simplified_silhouette": silhouette / n,
    }
    if silhouette_sample is not None:
        scores.update(_sampled_silhouette(X, labels, silhouette_sample, random_state))
    return scores


def _two_passes(X, labels, min_clusters):
    """Centroids (pass 1), then per-cluster distance sums and the simplified silhouette."""
    from clusterlab.distributed._cluster import get_client

    client = get_client("cluster_scores")
    data, blocks, parts = _aligned(X, labels)
    classes, sizes, centers = _centroids(client, data, blocks, parts, min_clusters)
    futures = per_block(client, _scores_task, [blocks, parts], data.dtype, classes, centers, sizes)
    squared, plain, silhouette = np.zeros(classes.size), np.zeros(classes.size), 0.0
    for block_sq, block_plain, block_sil in collect(client, futures):
        squared += block_sq
        plain += block_plain
        silhouette += block_sil
    return classes, sizes, centers, squared, plain, silhouette


def _centroids(client, data, blocks, parts, min_clusters):
    """Pass 1: the clusters present, their sizes and centroids."""
    futures = per_block(client, _sums_task, [blocks, parts], data.dtype)
    results = collect(client, futures)
    classes = np.unique(np.concatenate([r[0] for r in results]))
    sizes = np.zeros(classes.size, dtype=np.int64)
    sums = np.zeros((classes.size, data.n_features))
    for block_classes, block_sizes, block_sums in results:
        at = np.searchsorted(classes, block_classes)
        sizes[at] += block_sizes
        sums[at] += block_sums
    n = int(sizes.sum())
    if n == 0:
        raise ValueError("cluster_scores: every point is noise (-1); there is no cluster to score")
    if classes.size < min_clusters or (min_clusters > 1 and classes.size > n - 1):
        upper = "n_samples - 1" if min_clusters > 1 else "n_samples"
        raise ValueError(
            f"cluster_scores needs between {min_clusters} and {upper} clusters among the "
            f"non-noise points; got {classes.size} cluster(s) on {n} point(s)"
        )
    return classes, sizes, sums / sizes[:, None]


def _sampled_silhouette(X, labels, size, random_state) -> dict[str, float]:
    from clusterlab.distributed.sample import uniform_sample
    from clusterlab.metrics import silhouette_score as exact

    seed = np.random.SeedSequence(random_state if isinstance(random_state, int) else None)
    rows, _ = uniform_sample(X, size, random_state=np.random.default_rng(seed))
    codes, _ = uniform_sample(labels, size, random_state=np.random.default_rng(seed))
    rows = rows.to_numpy(np.float64) if hasattr(rows, "to_numpy") else rows
    codes = np.asarray(codes.to_numpy() if hasattr(codes, "to_numpy") else codes).reshape(-1)
    kept = int(np.count_nonzero(codes != NOISE))
    return {"silhouette": float(exact(rows, codes)), "silhouette_sample_size": kept}


def calinski_harabasz_score(X: Any, labels: Any) -> float:
    """Calinski-Harabasz index of a labelling of Dask data (see :func:`cluster_scores`)."""
    return cluster_scores(X, labels, silhouette_sample=None)["calinski_harabasz"]


def davies_bouldin_score(X: Any, labels: Any) -> float:
    """Davies-Bouldin index of a labelling of Dask data; lower is better."""
    return cluster_scores(X, labels, silhouette_sample=None)["davies_bouldin"]


def inertia(X: Any, labels: Any) -> float:
    """Within-cluster sum of squared distances to the cluster means, for Dask data (one
    cluster is enough)."""
    return float(_two_passes(X, labels, 1)[3].sum())


def simplified_silhouette_score(X: Any, labels: Any) -> float:
    """Simplified (centroid) silhouette of a labelling of Dask data."""
    return cluster_scores(X, labels, silhouette_sample=None)["simplified_silhouette"]


def silhouette_score(
    X: Any, labels: Any, *, sample_size: int = 10_000, random_state: Any = None
) -> float:
    """Exact silhouette on a uniform sample of ``sample_size`` rows of Dask data.

    The exact silhouette compares every pair of points; on data that needs Dask that is out of
    reach, so it is computed on a sample pulled to the client (noise rows of the sample are
    left out). :func:`cluster_scores` also says how many rows the sample had.
    """
    return _sampled_silhouette(X, labels, sample_size, random_state)["silhouette"]
