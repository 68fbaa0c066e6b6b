"""DBSCAN against scikit-learn: D1 (100k x 2), D2 (1M x 2, memory), D3 (100k x 8).

Both run in this process on the same data; time is one call after a warm-up of our kernels on a
small sample (so JIT compilation is not counted; with the on-disk cache it is paid once per
install), memory is the extra resident peak of the call (``benchmarks.harness.measure``).
Agreement: identical core points, and ARI of the labels on the core points.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from benchmarks.harness import Table, measure
from clusterlab import DBSCAN

#: scikit-learn is not run where its neighbourhoods would exceed this (MiB): extrapolated.
SKLEARN_LIMIT_MB = 4096

COLUMNS = [
    "case",
    "n x d",
    "impl",
    "seconds",
    "peak MiB",
    "clusters",
    "same core",
    "ARI core",
    "time ratio",
    "mem ratio",
]


def _data(n: int, d: int) -> np.ndarray:
    X, _ = make_blobs(n_samples=n, n_features=d, centers=10, cluster_std=0.5, random_state=0)
    return X


def _warm_up(d: int, eps: float) -> None:
    X = _data(2000, d)
    DBSCAN(eps, min_samples=10).fit(X)
    DBSCAN(eps, min_samples=10, algorithm="kd_tree").fit(X)


def _compare(table: Table, case: str, X: np.ndarray, eps: float, min_samples: int) -> None:
    _warm_up(X.shape[1], eps)
    ours = measure(lambda: DBSCAN(eps, min_samples=min_samples).fit(X))
    ref = measure(lambda: SkDBSCAN(eps=eps, min_samples=min_samples).fit(X))
    _rows(table, case, X, ours, ref)


def _rows(table: Table, case: str, X, ours, ref) -> None:
    a, b = ours.result, ref.result
    same = np.array_equal(a.core_sample_indices_, b.core_sample_indices_)
    core = a.core_sample_indices_
    ari = adjusted_rand_score(a.labels_[core], b.labels_[core]) if same else None
    shape = f"{X.shape[0]:,} x {X.shape[1]}"
    table.add(
        case,
        shape,
        "sklearn",
        ref.seconds,
        ref.peak_mb,
        b.labels_.max() + 1,
        "",
        "",
        "",
        "",
    )
    table.add(
        case,
        shape,
        "clusterlab",
        ours.seconds,
        ours.peak_mb,
        a.n_clusters_,
        "yes" if same else "NO",
        ari,
        f"{ref.seconds / ours.seconds:.1f}x faster",
        f"{(ours.peak_mb or 0) / max(ref.peak_mb or 1e-9, 1e-9):.3f}",
    )


def main(quick: bool = False) -> list[Table]:
    table = Table("DBSCAN: clusterlab vs scikit-learn (same process, same data)", COLUMNS)
    scale = 10 if quick else 1
    # D1: the headline case
    _compare(table, "D1", _data(100_000 // scale, 2), eps=0.1, min_samples=10)
    # D3: eight features (kd-tree path on our side, kd-tree on scikit-learn's)
    _compare(table, "D3", _data(100_000 // scale, 8), eps=0.8, min_samples=10)
    # D2: one million points; scikit-learn measured on 100k and 200k, extrapolated to 1M when its
    # memory would pass SKLEARN_LIMIT_MB
    n_big = 1_000_000 // scale
    X = _data(n_big, 2)
    _warm_up(2, 0.1)
    ours = measure(lambda: DBSCAN(0.1, min_samples=10).fit(X))
    small = [n_big // 10, n_big // 5]
    peaks, times = [], []
    for n in small:
        Xs = _data(n, 2)
        run = measure(lambda Xs=Xs: SkDBSCAN(eps=0.1, min_samples=10).fit(Xs))
        peaks.append(run.peak_mb or 0.0)
        times.append(run.seconds)
        table.add(
            "D2",
            f"{n:,} x 2",
            "sklearn (measured)",
            run.seconds,
            run.peak_mb,
            run.result.labels_.max() + 1,
            "",
            "",
            "",
            "",
        )
    # neighbourhood sizes grow with the density, so scikit-learn's memory grows between n and
    # n^2 on this fixed layout; the measured exponent is kept within those bounds
    slope = math.log(max(peaks[1], 1e-3) / max(peaks[0], 1e-3)) / math.log(small[1] / small[0])
    slope = min(max(slope, 1.0), 2.0)
    projected_mb = peaks[1] * (n_big / small[1]) ** slope
    t_slope = math.log(times[1] / times[0]) / math.log(small[1] / small[0])
    projected_s = times[1] * (n_big / small[1]) ** t_slope
    if projected_mb <= SKLEARN_LIMIT_MB:
        ref = measure(lambda: SkDBSCAN(eps=0.1, min_samples=10).fit(X))
        _rows(table, "D2", X, ours, ref)
    else:
        table.add(
            "D2",
            f"{n_big:,} x 2",
            f"sklearn (extrapolated, memory ~ n^{slope:.2f}, time ~ n^{t_slope:.2f})",
            projected_s,
            projected_mb,
            "",
            "",
            "",
            "",
            "",
        )
        table.add(
            "D2",
            f"{n_big:,} x 2",
            "clusterlab",
            ours.seconds,
            ours.peak_mb,
            ours.result.n_clusters_,
            "",
            "",
            f"{projected_s / ours.seconds:.1f}x faster (vs extrapolated)",
            f"{(ours.peak_mb or 0) / projected_mb:.4f}",
        )
    return [table]
