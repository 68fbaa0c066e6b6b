"""SpectralClustering against scikit-learn: the workloads of issue 17.

S1: PyCaret's mice data (1,080 x 77 protein levels: MouseID and the categorical columns dropped,
missing values imputed by the column mean and columns z-scored, as PyCaret's ``setup(normalize=
True)`` prepares them), k = 4: one fit of ours (default: sparse kNN graph) against
scikit-learn's default (dense rbf, gamma = 1) and scikit-learn's ``nearest_neighbors``.
S2: the elbow over k = 2..10 on the same data: nine fits of ours, and what ``plot='elbow'``
runs (one fit for k = 10 whose ``labels_for(k)`` gives every k from one eigensolve), and
``choose_k(model='sc')`` over the same k. (scikit-learn's nine rbf fits are not run: nine times
its S1 time.)
S3: 10,000 x 10 blobs (8 centers), ours against scikit-learn's ``nearest_neighbors`` / arpack,
and the ARI between the two labellings.
S4: 100,000 x 10 blobs: ours on the full kNN graph and with ``n_landmarks=1000``; ARI against
the blobs (scikit-learn's kNN-graph path needs minutes here and is not run).
Times are wall seconds of one run after a JIT warm-up; "speed-up" is scikit-learn's time over
ours.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from benchmarks.harness import Table, measure

MICE = Path("/work/shared/data/pycaret-datasets/mice.csv")
COLUMNS = ["workload", "implementation", "seconds", "peak MiB", "ARI", "speed-up"]


def mice() -> np.ndarray:
    """PyCaret's mice data as its setup prepares it: numeric columns, mean-imputed, z-scored."""
    import pandas as pd

    frame = pd.read_csv(MICE).drop(columns=["MouseID"]).select_dtypes("number")
    X = frame.fillna(frame.mean()).to_numpy(dtype=np.float64)
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _quiet(fn):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()

    return run


def _blobs(n: int):
    from sklearn.datasets import make_blobs

    return make_blobs(n_samples=n, n_features=10, centers=8, cluster_std=2.0, random_state=0)


def _mice_rows(table: Table, quick: bool) -> None:
    from sklearn.cluster import SpectralClustering as SkSpectral
    from sklearn.metrics import adjusted_rand_score

    from clusterlab import SpectralClustering

    X = mice()
    _quiet(lambda: SpectralClustering(4, random_state=0).fit(X[:300]))()
    ours = measure(_quiet(lambda: SpectralClustering(4, random_state=0).fit(X)))
    sk_nn = measure(
        _quiet(lambda: SkSpectral(4, affinity="nearest_neighbors", random_state=0).fit(X))
    )
    nn_ari = adjusted_rand_score(ours.result.labels_, sk_nn.result.labels_)
    table.add("S1 mice", "sklearn nearest_neighbors", sk_nn.seconds, sk_nn.peak_mb, nn_ari, None)
    if not quick:
        sk = measure(_quiet(lambda: SkSpectral(4, random_state=0).fit(X)))
        rbf_ari = adjusted_rand_score(ours.result.labels_, sk.result.labels_)
        table.add("S1 mice", "sklearn default (rbf)", sk.seconds, sk.peak_mb, rbf_ari, None)
        speedup = sk.seconds / ours.seconds
    else:
        speedup = sk_nn.seconds / ours.seconds
    table.add("S1 mice", "clusterlab default", ours.seconds, ours.peak_mb, None, speedup)
    elbow = measure(
        _quiet(lambda: [SpectralClustering(k, random_state=0).fit(X) for k in range(2, 11)])
    )
    table.add(
        "S2 mice elbow k=2..10", "clusterlab, 9 fits", elbow.seconds, elbow.peak_mb, None, None
    )

    from clusterlab.plots.selection import elbow_curve

    once = measure(
        _quiet(lambda: elbow_curve(SpectralClustering(4, random_state=0), X, range(2, 11)))
    )
    table.add(
        "S2 mice elbow k=2..10",
        "clusterlab plot='elbow' (1 eigensolve)",
        once.seconds,
        once.peak_mb,
        None,
        None,
    )
    from clusterlab.selection import choose_k

    chosen = measure(_quiet(lambda: choose_k(X, model="sc", k_range=range(2, 11), random_state=0)))
    table.add(
        "S2 mice choose_k k=2..10",
        "clusterlab model='sc'",
        chosen.seconds,
        chosen.peak_mb,
        None,
        None,
    )


def _blob_rows(table: Table, quick: bool) -> None:
    from sklearn.cluster import SpectralClustering as SkSpectral
    from sklearn.metrics import adjusted_rand_score

    from clusterlab import SpectralClustering

    n = 5_000 if quick else 10_000
    X, _ = _blobs(n)
    _quiet(lambda: SpectralClustering(8, random_state=0).fit(X[:1000]))()
    sk = measure(_quiet(lambda: SkSpectral(8, affinity="nearest_neighbors", random_state=0).fit(X)))
    ours = measure(_quiet(lambda: SpectralClustering(8, random_state=0).fit(X)))
    label = f"S3 {n:,} x 10 blobs"
    table.add(label, "sklearn nearest_neighbors/arpack", sk.seconds, sk.peak_mb, None, None)
    ari = adjusted_rand_score(ours.result.labels_, sk.result.labels_)
    table.add(
        label,
        "clusterlab (ARI vs sklearn)",
        ours.seconds,
        ours.peak_mb,
        ari,
        sk.seconds / ours.seconds,
    )

    n = 20_000 if quick else 100_000
    X, y = _blobs(n)
    label = f"S4 {n:,} x 10 blobs"
    for name, params in (("kNN graph", {}), ("n_landmarks=1000", {"n_landmarks": 1000})):
        run = measure(_quiet(lambda p=params: SpectralClustering(8, random_state=0, **p).fit(X)))
        ari = adjusted_rand_score(y, run.result.labels_)
        table.add(label, f"clusterlab {name} (ARI vs blobs)", run.seconds, run.peak_mb, ari, None)


def main(quick: bool = False) -> list[Table]:
    table = Table("S1-S4: spectral clustering, ours against scikit-learn", COLUMNS)
    _mice_rows(table, quick)
    _blob_rows(table, quick)
    return [table]
