"""How often choose_k finds the true k of make_blobs data, and how long it takes on 100,000 rows.

Data: ``sklearn.datasets.make_blobs`` with k = 3..12 centres, 100 points per centre, 5 features,
``cluster_std=2.5``; the centres are drawn uniformly in [-10, 10]^5 and redrawn until every pair
is at least ``MIN_SEPARATION`` standard deviations apart (so the true k is identifiable), which
leaves moderate overlap: the "overlap" column is the share of points closer to another centre
than to their own (the error of the optimal classifier).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from benchmarks.harness import Table, measure

MIN_SEPARATION = 3.5
STD = 2.5
N_FEATURES = 5


def blobs(k: int, seed: int, per_cluster: int = 100):
    """make_blobs with well-defined but overlapping centres; returns X, y and the overlap."""
    from sklearn.datasets import make_blobs

    rng = np.random.default_rng(seed)
    while True:
        centers = rng.uniform(-10, 10, size=(k, N_FEATURES))
        gaps = np.linalg.norm(centers[:, None] - centers[None], axis=-1)
        gaps[np.diag_indices(k)] = np.inf
        if gaps.min() >= MIN_SEPARATION * STD:
            break
    X, y = make_blobs(
        n_samples=per_cluster * k, centers=centers, cluster_std=STD, random_state=seed
    )
    nearest = np.linalg.norm(X[:, None] - centers[None], axis=-1).argmin(axis=1)
    return X, y, float(np.mean(nearest != y))


def accuracy(ks, seeds) -> Table:
    from clusterlab.selection import choose_k

    table = Table(
        f"choose_k on make_blobs (d={N_FEATURES}, std={STD}, centres >= {MIN_SEPARATION} sd "
        f"apart, 100 points per cluster), seeds {list(seeds)}",
        ["true k", "found", "runs", "overlap", "silhouette", "CH", "DB", "gap", "elbow", "s/run"],
    )
    total_hits = total_runs = 0
    per_criterion = dict.fromkeys(
        ["silhouette", "calinski_harabasz", "davies_bouldin", "gap", "elbow"], 0
    )
    for k in ks:
        hits, overlap, secs = 0, [], 0.0
        crit = dict.fromkeys(per_criterion, 0)
        for seed in seeds:
            X, _, ov = blobs(k, seed)
            overlap.append(ov)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = choose_k(X, random_state=seed)
            secs += time.perf_counter() - start
            hits += result.best_k == k
            for c in crit:
                crit[c] += result.votes.get(c) == k
        n = len(seeds)
        total_hits += hits
        total_runs += n
        for c in crit:
            per_criterion[c] += crit[c]
        table.add(k, f"{hits}/{n}", n, float(np.mean(overlap)),
                  *(crit[c] / n for c in crit), secs / n)  # fmt: skip
    table.add(
        "all",
        f"{total_hits}/{total_runs} = {total_hits / total_runs:.1%}",
        total_runs,
        "",
        *(per_criterion[c] / total_runs for c in per_criterion),
        "",
    )
    return table


def timing(n: int = 100_000) -> Table:
    from sklearn.datasets import make_blobs

    from clusterlab.selection import choose_k

    X, _ = make_blobs(n_samples=n, n_features=10, centers=8, random_state=0)
    choose_k(X[:2000], k_range=range(2, 5), random_state=0)  # compile outside the timing
    table = Table(
        f"choose_k(KMeans, k = 2..15) on {n:,} x 10 (8 blobs)",
        ["n_jobs", "seconds", "peak MB", "best_k", "sampled"],
    )
    for n_jobs in (1, 2):
        run = measure(lambda nj=n_jobs: choose_k(X, random_state=0, n_jobs=nj))
        result = run.result
        table.add(n_jobs, run.seconds, run.peak_mb, result.best_k, "; ".join(result.notes))
    return table


def main(quick: bool) -> list[Table]:
    if quick:
        return [accuracy(range(3, 7), range(2)), timing(20_000)]
    return [accuracy(range(3, 13), range(10, 15)), timing()]
