"""AffinityPropagation against scikit-learn: A1 dense 3,000 x 4 (identical labels), A2 the
preference search for n_clusters=6, A3 the sparse mode on 100,000 x 8.

Both run in this process on the same data; our kernels are compiled beforehand on a small
sample (the on-disk cache pays that once per install). Memory is the extra resident peak.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.cluster import AffinityPropagation as SkAP
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from benchmarks.harness import Table, measure
from clusterlab import AffinityPropagation

COLUMNS = [
    "case",
    "n x d",
    "impl",
    "seconds",
    "peak MiB",
    "clusters",
    "converged",
    "same labels",
    "ARI truth",
    "time ratio",
]


def _quiet(fn):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()

    return run


def _warm_up() -> None:
    X, _ = make_blobs(n_samples=300, n_features=4, centers=3, random_state=0)
    _quiet(lambda: AffinityPropagation(random_state=0).fit(X))()
    _quiet(lambda: AffinityPropagation(n_clusters=3, random_state=0).fit(X))()
    _quiet(lambda: AffinityPropagation(n_clusters=3, sparse=10, random_state=0).fit(X))()


def _dense(table: Table, n: int) -> None:
    X, y = make_blobs(n_samples=n, n_features=4, centers=6, random_state=0)
    shape = f"{n:,} x 4"
    ours = measure(_quiet(lambda: AffinityPropagation(random_state=0).fit(X)))
    ref = measure(_quiet(lambda: SkAP(random_state=0).fit(X)))
    a, b = ours.result, ref.result
    table.add(
        "A1", shape, "sklearn", ref.seconds, ref.peak_mb, len(b.cluster_centers_indices_),
        b.n_iter_ < 200, "", adjusted_rand_score(y, b.labels_), "",
    )  # fmt: skip
    table.add(
        "A1", shape, "clusterlab", ours.seconds, ours.peak_mb, a.n_clusters_, a.converged_,
        "yes" if np.array_equal(a.labels_, b.labels_) else "NO",
        adjusted_rand_score(y, a.labels_), f"{ref.seconds / ours.seconds:.1f}x faster",
    )  # fmt: skip
    search = measure(_quiet(lambda: AffinityPropagation(n_clusters=6, random_state=0).fit(X)))
    c = search.result
    table.add(
        "A2 n_clusters=6", shape, "clusterlab", search.seconds, search.peak_mb, c.n_clusters_,
        c.converged_, "", adjusted_rand_score(y, c.labels_), "",
    )  # fmt: skip


def _sparse(table: Table, n: int) -> None:
    X, y = make_blobs(n_samples=n, n_features=8, centers=10, random_state=0)
    shape = f"{n:,} x 8"
    dense_gib = 3 * n * n * 8 / 2**30
    table.add(
        "A3", shape, f"sklearn (not run: 4 n x n float64 = {4 * dense_gib / 3:,.0f} GiB)",
        "", "", "", "", "", "", "",
    )  # fmt: skip
    for label, params in (("sparse", {}), ("sparse, n_clusters=10", {"n_clusters": 10})):
        run = measure(
            _quiet(lambda p=params: AffinityPropagation(sparse=True, random_state=0, **p).fit(X))
        )
        m = run.result
        table.add(
            f"A3 {label}", shape, "clusterlab", run.seconds, run.peak_mb, m.n_clusters_,
            m.converged_, "", adjusted_rand_score(y, m.labels_), "",
        )  # fmt: skip


def main(quick: bool = False) -> list[Table]:
    table = Table(
        "AffinityPropagation: clusterlab vs scikit-learn (same process, same data)", COLUMNS
    )
    _warm_up()
    _dense(table, 1_000 if quick else 3_000)
    _sparse(table, 20_000 if quick else 100_000)
    return [table]
