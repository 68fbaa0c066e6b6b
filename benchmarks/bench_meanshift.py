"""MeanShift and estimate_bandwidth against scikit-learn: M1 10,000 x 2 with bin seeding, M2
5,000 x 2 without, M3 1,000,000 x 2 (grid path), M4 estimate_bandwidth on 100,000 rows.

Same data and the same bandwidth for both; modes compared as the largest distance from one
of our centres to the nearest of scikit-learn's, in bandwidths. scikit-learn's
estimate_bandwidth is quadratic: on 100,000 rows it is measured at 10,000 and 20,000 rows and
extrapolated with the measured exponent.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.cluster import MeanShift as SkMeanShift
from sklearn.cluster import estimate_bandwidth as sk_estimate_bandwidth
from sklearn.datasets import make_blobs

from benchmarks.harness import Table, measure
from clusterlab import MeanShift, estimate_bandwidth

COLUMNS = [
    "case",
    "n x d",
    "impl",
    "seconds",
    "peak MiB",
    "clusters",
    "mode gap / h",
    "same labels",
    "time ratio",
]


def _data(n: int) -> np.ndarray:
    X, _ = make_blobs(n_samples=n, centers=5, n_features=2, cluster_std=1.0, random_state=0)
    return X


def _warm_up() -> None:
    X = _data(3000)
    MeanShift(bandwidth=2.0).fit(X)
    MeanShift(bandwidth=2.0, bin_seeding=True).fit(X)
    MeanShift(bandwidth=2.0, algorithm="grid").fit(X)
    estimate_bandwidth(X)


def _gap(ours: np.ndarray, ref: np.ndarray, h: float) -> float:
    dist = np.sqrt(((ours[:, None, :] - ref[None]) ** 2).sum(-1))
    return float(max(dist.min(axis=1).max(), dist.min(axis=0).max()) / h)


def _compare(table: Table, case: str, n: int, bin_seeding: bool) -> None:
    X = _data(n)
    h = float(sk_estimate_bandwidth(X, n_samples=2000, random_state=0))
    ours = measure(lambda: MeanShift(bandwidth=h, bin_seeding=bin_seeding).fit(X))
    ref = measure(lambda: SkMeanShift(bandwidth=h, bin_seeding=bin_seeding).fit(X))
    a, b = ours.result, ref.result
    shape = f"{n:,} x 2"
    table.add(case, shape, "sklearn", ref.seconds, ref.peak_mb, len(b.cluster_centers_), "", "", "")
    table.add(
        case, shape, "clusterlab", ours.seconds, ours.peak_mb, a.n_clusters_,
        _gap(a.cluster_centers_, b.cluster_centers_, h),
        "yes" if np.array_equal(a.labels_, b.labels_) else "NO",
        f"{ref.seconds / ours.seconds:.1f}x faster",
    )  # fmt: skip


def _million(table: Table, n: int) -> None:
    X = _data(n)
    run = measure(lambda: MeanShift().fit(X))
    m = run.result
    table.add(
        "M3 defaults", f"{n:,} x 2", f"clusterlab ({m.algorithm_})", run.seconds, run.peak_mb,
        m.n_clusters_, "", "", "",
    )  # fmt: skip


def _bandwidth(table: Table, n: int) -> None:
    X = _data(n)
    ours = measure(lambda: estimate_bandwidth(X))
    small = [n // 10, n // 5]
    times = []
    values = []
    for m in small:
        Xs = X[:m]
        run = measure(lambda Xs=Xs: sk_estimate_bandwidth(Xs))
        times.append(run.seconds)
        values.append(run.result)
        table.add(
            "M4 bandwidth",
            f"{m:,} x 2",
            "sklearn (measured)",
            run.seconds,
            run.peak_mb,
            "",
            "",
            "",
            "",
        )
    slope = math.log(times[1] / times[0]) / math.log(small[1] / small[0])
    projected = times[1] * (n / small[1]) ** slope
    table.add(
        "M4 bandwidth", f"{n:,} x 2", f"sklearn (extrapolated, time ~ n^{slope:.2f})",
        projected, "", "", "", "", "",
    )  # fmt: skip
    exact = values[0]
    table.add(
        "M4 bandwidth", f"{n:,} x 2", "clusterlab", ours.seconds, ours.peak_mb, "",
        f"value {ours.result:.4f} (sklearn on {small[0]:,}: {exact:.4f})", "",
        f"{projected / ours.seconds:.0f}x faster (vs extrapolated)",
    )  # fmt: skip


def main(quick: bool = False) -> list[Table]:
    table = Table("MeanShift: clusterlab vs scikit-learn (same process, same data)", COLUMNS)
    _warm_up()
    scale = 5 if quick else 1
    _compare(table, "M1 bin seeding", 10_000 // scale, bin_seeding=True)
    _compare(table, "M2 every point a seed", 5_000 // scale, bin_seeding=False)
    _million(table, 1_000_000 // scale)
    _bandwidth(table, 100_000 // scale)
    return [table]
