"""K4: MiniBatchKMeans against scikit-learn, and BisectingKMeans beside it (no target).

K4 is 1,000,000 x 16 ``make_blobs`` data, k = 16, batch 4096. Both estimators stop early on their
smoothed batch inertia, so how long a run lasts depends on its random batches: each case runs
several seeds and reports each. Two kinds of run:

- *same init*: both start from the same greedy k-means++ centers (scikit-learn's
  ``kmeans_plusplus`` on 3 * batch_size random rows), so only the batches differ;
- *defaults*: each estimator end to end (its own init) with the same ``random_state``;
- *fixed steps*: the same init and exactly one pass of batches (``max_iter=1``, early stopping
  off) for both, so time per batch is compared without the luck of early stopping.

The inertia of each result is computed the same way for both, on the full data, from the final
centers (nearest-center assignment, float64 sum). Target: ours >= 1.2x faster, inertia no worse
than scikit-learn's by more than 0.1%, peak memory <= scikit-learn's + 10%.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Table, measure

N_SAMPLES = 1_000_000
N_FEATURES = 16
N_CLUSTERS = 16
BATCH = 4096


def _full_inertia(X: np.ndarray, centers: np.ndarray) -> float:
    from clusterlab.cluster.minibatch import nearest_centers

    return nearest_centers(X, np.ascontiguousarray(centers, dtype=X.dtype), None)[1]


def _warm_up(X: np.ndarray) -> None:
    """Compile (or load from cache) every kernel the runs use, outside the timings."""
    from clusterlab.cluster.bisecting import BisectingKMeans
    from clusterlab.cluster.minibatch import MiniBatchKMeans

    small = np.ascontiguousarray(X[:5000])
    MiniBatchKMeans(4, batch_size=256, random_state=0).fit(small)
    BisectingKMeans(4, random_state=0).fit(small)


def _minibatch_table(X: np.ndarray, seeds: list[int]) -> Table:
    from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
    from sklearn.cluster import kmeans_plusplus

    from clusterlab.cluster.minibatch import MiniBatchKMeans

    n = X.shape[0]
    table = Table(
        f"K4: MiniBatchKMeans, {n:,} x {X.shape[1]}, k={N_CLUSTERS}, batch {BATCH}",
        [
            "case",
            "seed",
            "sklearn s",
            "ours s",
            "speedup",
            "sklearn MiB",
            "ours MiB",
            "sklearn inertia",
            "ours inertia",
            "inertia vs sklearn",
            "sklearn steps",
            "ours steps",
        ],
    )
    for case in ("same init", "defaults", "fixed steps"):
        for seed in seeds if case != "fixed steps" else seeds[:1]:
            params: dict = dict(batch_size=BATCH, random_state=seed)
            if case != "defaults":
                rows = np.random.default_rng(seed).integers(0, n, 3 * BATCH)
                init, _ = kmeans_plusplus(X[rows], N_CLUSTERS, random_state=seed)
                params.update(init=init, n_init=1)
            if case == "fixed steps":
                params.update(max_iter=1, max_no_improvement=None)
            sk = measure(lambda p=params: SkMiniBatchKMeans(N_CLUSTERS, **p).fit(X))
            ours = measure(lambda p=params: MiniBatchKMeans(N_CLUSTERS, **p).fit(X))
            sk_inertia = _full_inertia(X, sk.result.cluster_centers_)
            ours_inertia = _full_inertia(X, ours.result.cluster_centers_)
            table.add(
                case,
                seed,
                sk.seconds,
                ours.seconds,
                f"{sk.seconds / ours.seconds:.2f}x",
                sk.peak_mb,
                ours.peak_mb,
                sk_inertia,
                ours_inertia,
                f"{100 * (ours_inertia / sk_inertia - 1):+.3f}%",
                sk.result.n_steps_,
                ours.result.n_steps_,
            )
    return table


def _bisecting_table(X: np.ndarray, seeds: list[int]) -> Table:
    from sklearn.cluster import BisectingKMeans as SkBisectingKMeans

    from clusterlab.cluster.bisecting import BisectingKMeans

    table = Table(
        f"BisectingKMeans (no target), {X.shape[0]:,} x {X.shape[1]}, k={N_CLUSTERS}",
        [
            "strategy",
            "seed",
            "sklearn s",
            "ours s",
            "speedup",
            "sklearn MiB",
            "ours MiB",
            "sklearn inertia",
            "ours inertia",
            "inertia vs sklearn",
        ],
    )
    for strategy in ("biggest_inertia", "largest_cluster"):
        for seed in seeds:
            params = dict(bisecting_strategy=strategy, random_state=seed)
            sk = measure(lambda p=params: SkBisectingKMeans(N_CLUSTERS, **p).fit(X))
            ours = measure(lambda p=params: BisectingKMeans(N_CLUSTERS, **p).fit(X))
            table.add(
                strategy,
                seed,
                sk.seconds,
                ours.seconds,
                f"{sk.seconds / ours.seconds:.2f}x",
                sk.peak_mb,
                ours.peak_mb,
                sk.result.inertia_,
                ours.result.inertia_,
                f"{100 * (ours.result.inertia_ / sk.result.inertia_ - 1):+.3f}%",
            )
    return table


def _fixed_mmap_threshold() -> None:
    """Make freed large arrays leave the process, so that RSS peaks are comparable run to run.

    glibc raises its mmap threshold after large frees, after which later large arrays come from
    the heap and stay resident when freed: a run would then look smaller than the one before it.
    Fixing the threshold turns that off (for both estimators alike).
    """
    import contextlib
    import ctypes

    m_mmap_threshold = -3
    with contextlib.suppress(OSError):  # not glibc: nothing to fix
        ctypes.CDLL("libc.so.6").mallopt(m_mmap_threshold, 128 * 1024)


def main(quick: bool = False) -> list[Table]:
    """K4 and the BisectingKMeans rows; ``quick`` uses 100,000 rows and one seed."""
    from sklearn.datasets import make_blobs

    _fixed_mmap_threshold()
    n = 100_000 if quick else N_SAMPLES
    seeds = [0] if quick else [0, 1, 2]
    X, _ = make_blobs(n_samples=n, n_features=N_FEATURES, centers=N_CLUSTERS, random_state=0)
    _warm_up(X)
    return [_minibatch_table(X, seeds), _bisecting_table(X, seeds[:1])]
