"""OPTICS against scikit-learn: O1 (10,000 x 2, max_eps=inf), same process, same data.

Agreement: identical ordering, and the largest relative difference of the reachability along
the ordering (the target is <= 1e-9; ours is bit-identical).
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import OPTICS as SkOPTICS
from sklearn.datasets import make_blobs

from benchmarks.harness import Table, measure
from clusterlab import OPTICS

COLUMNS = [
    "case",
    "n x d",
    "impl",
    "seconds",
    "peak MiB",
    "clusters",
    "same ordering",
    "max rel diff reach",
    "time ratio",
]


def _rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    finite = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return float("inf")
    if not finite.any():
        return 0.0
    return float(np.max(np.abs(a[finite] - b[finite]) / np.maximum(np.abs(b[finite]), 1e-300)))


def main(quick: bool = False) -> list[Table]:
    table = Table("OPTICS: clusterlab vs scikit-learn (same process, same data)", COLUMNS)
    n = 2_000 if quick else 10_000
    X, _ = make_blobs(n_samples=n, centers=10, cluster_std=0.5, random_state=0)
    OPTICS(min_samples=10).fit(X[:500])  # compile outside the timing
    ours = measure(lambda: OPTICS(min_samples=10).fit(X))
    ref = measure(lambda: SkOPTICS(min_samples=10).fit(X))
    a, b = ours.result, ref.result
    same = np.array_equal(a.ordering_, b.ordering_)
    diff = _rel_diff(a.reachability_[a.ordering_], b.reachability_[b.ordering_])
    shape = f"{n:,} x 2"
    table.add("O1", shape, "sklearn", ref.seconds, ref.peak_mb, b.labels_.max() + 1, "", "", "")
    table.add(
        "O1",
        shape,
        "clusterlab",
        ours.seconds,
        ours.peak_mb,
        a.n_clusters_,
        "yes" if same else "NO",
        diff,
        f"{ref.seconds / ours.seconds:.1f}x faster",
    )
    return [table]
