"""Exact silhouette: clusterlab's numba kernel against scikit-learn's silhouette_score.

Targets (issue 4): on 30,000 x 10 (8 blobs) at least 5x faster than scikit-learn, at most
100 MB extra memory, equal to 1e-10; 200,000 x 10 exact in under 60 s on 2 cores. Also the
external indices on 1,000,000 labels against scikit-learn.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Table, measure


def _blobs(n: int, dtype=np.float64):
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=n, n_features=10, centers=8, random_state=0)
    return X.astype(dtype), y


def silhouette_table(n: int, with_sklearn: bool) -> Table:
    from sklearn.metrics import silhouette_score as sk_silhouette

    from clusterlab.metrics import silhouette_score

    X, y = _blobs(n)
    silhouette_score(X[:500], y[:500])  # compile (or load from cache) outside the timing
    silhouette_score(X[:500].astype(np.float32), y[:500])
    table = Table(
        f"silhouette_score, {n:,} x 10, 8 blobs (exact)",
        ["implementation", "seconds", "peak MB", "value", "|diff|", "speed-up"],
    )
    ours = measure(lambda: silhouette_score(X, y))
    ours32 = measure(lambda: silhouette_score(X.astype(np.float32), y))
    ref = measure(lambda: sk_silhouette(X, y)) if with_sklearn else None
    base = ref.seconds if ref else None
    if ref:
        table.add("scikit-learn", ref.seconds, ref.peak_mb, ref.result, 0.0, 1.0)
    for name, run in (("clusterlab float64", ours), ("clusterlab float32 in", ours32)):
        diff = abs(run.result - ref.result) if ref else None
        table.add(name, run.seconds, run.peak_mb, run.result, diff,
                  base / run.seconds if base else None)  # fmt: skip
    return table


def external_table(n: int) -> Table:
    import sklearn.metrics as skm

    from clusterlab import metrics as cm

    rng = np.random.default_rng(0)
    true = rng.integers(0, 20, n)
    pred = np.where(rng.random(n) < 0.6, true, rng.integers(0, 25, n))
    table = Table(
        f"external indices, {n:,} labels, 20 x 25 clusters",
        ["index", "clusterlab s", "scikit-learn s", "|diff|"],
    )
    for ours, ref in (
        (cm.adjusted_rand_score, skm.adjusted_rand_score),
        (cm.adjusted_mutual_info_score, skm.adjusted_mutual_info_score),
        (cm.normalized_mutual_info_score, skm.normalized_mutual_info_score),
        (cm.fowlkes_mallows_score, skm.fowlkes_mallows_score),
    ):
        a = measure(lambda f=ours: f(true, pred), warmup=True)
        b = measure(lambda f=ref: f(true, pred))
        table.add(ours.__name__, a.seconds, b.seconds, abs(a.result - b.result))
    return table


def main(quick: bool) -> list[Table]:
    if quick:
        return [silhouette_table(5_000, True), external_table(100_000)]
    return [
        silhouette_table(30_000, True),
        silhouette_table(200_000, False),
        external_table(1_000_000),
    ]
