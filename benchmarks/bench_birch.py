"""Birch against scikit-learn: B1 200,000 x 8 with threshold=1.0, n_clusters=10 (scikit-learn's
global step needs the square of the number of subclusters), B2 1,000,000 x 8 with the default
parameters, B3 partial_fit in ten chunks.

Same data for both; memory is the extra resident peak of the call. B1 states what scikit-learn's
agglomerative global step would allocate on the same subclusters instead of running it (its
tree alone took 212 s on the loaded machine). Full size: about 5 minutes (scikit-learn's B2
fit, once, is most of it).
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import Birch as SkBirch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from benchmarks.harness import Table, measure
from clusterlab import Birch

COLUMNS = [
    "case",
    "n x d",
    "impl",
    "seconds",
    "peak MiB",
    "subclusters",
    "ARI vs sklearn",
    "time ratio",
]


def _warm_up() -> None:
    X, _ = make_blobs(n_samples=3000, n_features=8, centers=10, random_state=0)
    Birch(threshold=1.0, n_clusters=10).fit(X)
    Birch(n_clusters=None).partial_fit(X[:100])


def _large_threshold(table: Table, n: int) -> None:
    """Ours only: scikit-learn's tree makes the same subclusters (same decisions; its tree
    alone took 212 s at full size under load) and its Ward step needs their square."""
    X, _ = make_blobs(n_samples=n, n_features=8, centers=10, random_state=0)
    shape = f"{n:,} x 8"
    ours = measure(lambda: Birch(threshold=1.0, n_clusters=10).fit(X))
    a = ours.result
    m = a.subcluster_centers_.shape[0]
    ward_gib = m * m * 8 / 2**30
    note = f"sklearn n_clusters=10: not run (Ward on {m:,} subclusters, >= {ward_gib:.0f} GiB)"
    table.add("B1", shape, note, "", "", "", "", "")
    table.add(
        "B1", shape, "clusterlab (tree + weighted k-means)", ours.seconds, ours.peak_mb, m, "",
        "",
    )  # fmt: skip


def _defaults(table: Table, n: int) -> None:
    X, _ = make_blobs(n_samples=n, n_features=8, centers=3, cluster_std=0.3, random_state=0)
    shape = f"{n:,} x 8"
    ours = measure(lambda: Birch().fit(X))
    ref = measure(lambda: SkBirch().fit(X))
    a, b = ours.result, ref.result
    table.add(
        "B2 defaults", shape, "sklearn", ref.seconds, ref.peak_mb,
        b.subcluster_centers_.shape[0], "", "",
    )  # fmt: skip
    table.add(
        "B2 defaults", shape, "clusterlab", ours.seconds, ours.peak_mb,
        a.subcluster_centers_.shape[0], adjusted_rand_score(b.labels_, a.labels_),
        f"{ref.seconds / ours.seconds:.1f}x faster",
    )  # fmt: skip


def _chunks(table: Table, n: int) -> None:
    X, _ = make_blobs(n_samples=n, n_features=8, centers=10, random_state=0)
    whole = Birch(threshold=1.0, n_clusters=10).fit(X)

    def stream():
        model = Birch(threshold=1.0, n_clusters=10)
        for part in np.array_split(X, 10):
            model.partial_fit(part)
        return model

    run = measure(stream)
    same = all(np.array_equal(p, q) for p, q in zip(whole._tree, run.result._tree, strict=True))
    table.add(
        "B3 partial_fit x10", f"{n:,} x 8", "clusterlab", run.seconds, run.peak_mb,
        run.result.subcluster_centers_.shape[0], "same tree as fit" if same else "DIFFERENT", "",
    )  # fmt: skip


def main(quick: bool = False) -> list[Table]:
    table = Table("Birch: clusterlab vs scikit-learn (same process, same data)", COLUMNS)
    _warm_up()
    scale = 10 if quick else 1
    _large_threshold(table, 200_000 // scale)
    _defaults(table, 1_000_000 // scale)
    _chunks(table, 200_000 // scale)
    return [table]
