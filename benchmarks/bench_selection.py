"""How often choose_k finds the true k, and how long it takes on 100,000 rows.

Main grid: ``sklearn.datasets.make_blobs`` with k = 3..12 centres, 100 points per centre, 5
features, ``cluster_std=2.5``; the centres are drawn uniformly in [-10, 10]^d and redrawn until
every pair is at least ``MIN_SEPARATION * STD`` = 8.75 apart (so the true k is identifiable),
which leaves moderate overlap: the "overlap" column is the share of points closer to another
centre than to their own (the error of the optimal classifier).

Robustness (so that the rule is not tuned to one grid): the same generator with heavier and
lighter overlap (std 1.5 and 3.0 at the same centre separation), 2, 10 and 50 dimensions (the box
grows by 10% after every 2,000 failed draws when the centres do not fit, as in 2-D), unequal
cluster sizes (30 to 300 points per cluster), and the real data sets of
../shared/data/clustering-benchmarks on which k-means with the reference k reaches AMI >= 0.95
(so the reference k is a k-means k; k-range 2..max(15, k + 5); a hit is any reference k).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from benchmarks.harness import Table, measure

MIN_SEPARATION = 3.5
STD = 2.5
N_FEATURES = 5
CRITERIA = ["gap", "calinski_harabasz", "silhouette", "davies_bouldin", "elbow"]
#: Real data sets with a k-means-shaped reference (our KMeans AMI >= 0.95 in benchmarks.quality).
REAL = (
    "fcps/hepta", "fcps/tetra", "fcps/twodiamonds", "graves/fuzzyx", "other/chameleon_t5_8k",
    "sipu/a1", "sipu/d31", "sipu/r15", "sipu/s1", "sipu/unbalance", "wut/circles", "wut/mk1",
    "wut/trajectories", "wut/x1", "wut/x2", "wut/x3", "wut/z3",
)  # fmt: skip


def blobs(
    k: int,
    seed: int,
    per_cluster: int = 100,
    *,
    std: float = STD,
    n_features: int = N_FEATURES,
    unequal: bool = False,
):
    """make_blobs with well-defined but overlapping centres; returns X, y and the overlap."""
    from sklearn.datasets import make_blobs

    rng = np.random.default_rng(seed)
    half, tries = 10.0, 0
    while True:
        centers = rng.uniform(-half, half, size=(k, n_features))
        gaps = np.linalg.norm(centers[:, None] - centers[None], axis=-1)
        gaps[np.diag_indices(k)] = np.inf
        if gaps.min() >= MIN_SEPARATION * STD:
            break
        tries += 1
        if tries % 2000 == 0:  # the centres do not fit (2-D, many k): a larger box
            half *= 1.1
    sizes = [int(m) for m in rng.integers(30, 301, size=k)] if unequal else per_cluster * k
    X, y = make_blobs(n_samples=sizes, centers=centers, cluster_std=std, random_state=seed)
    nearest = np.linalg.norm(X[:, None] - centers[None], axis=-1).argmin(axis=1)
    return X, y, float(np.mean(nearest != y))


def _run(X: np.ndarray, seed: int, k_range=range(2, 16)):
    from clusterlab.selection import choose_k

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = choose_k(X, k_range=k_range, random_state=seed)
    return result, time.perf_counter() - start


def accuracy(ks, seeds, **blob_options) -> Table:
    """Per true k: how often choose_k and each criterion alone found it."""
    options = ", ".join(f"{k}={v}" for k, v in blob_options.items()) or "main grid"
    table = Table(
        f"choose_k on make_blobs ({options}; d={blob_options.get('n_features', N_FEATURES)}, "
        f"std={blob_options.get('std', STD)}, centres >= {MIN_SEPARATION * STD} apart), "
        f"seeds {list(seeds)}",
        ["true k", "found", "runs", "overlap", "gap", "CH", "silhouette", "DB", "elbow", "s/run"],
    )
    total_hits = total_runs = 0
    per_criterion = dict.fromkeys(CRITERIA, 0)
    for k in ks:
        hits, overlap, secs = 0, [], 0.0
        crit = dict.fromkeys(CRITERIA, 0)
        for seed in seeds:
            X, _, ov = blobs(k, seed, **blob_options)
            overlap.append(ov)
            result, seconds = _run(X, seed)
            secs += seconds
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


def real_data(names=REAL) -> Table:
    """choose_k on real batteries whose reference partition k-means can represent."""
    from benchmarks.quality import load

    table = Table(
        "choose_k on clustering-benchmarks data sets (quality.py protocol; k-means-shaped "
        "references)",
        ["data set", "n", "true k", "found", "gap", "CH", "silhouette", "DB", "elbow", "s"],
    )
    hits = 0
    for name in names:
        battery, dataset = name.split("/")
        X, partitions = load(battery, dataset)
        true = sorted({int(p.max()) for p in partitions})
        result, seconds = _run(X, 0, range(2, max(16, true[-1] + 6)))
        hits += result.best_k in true
        votes = [result.votes.get(c) for c in CRITERIA]
        table.add(name, X.shape[0], "/".join(map(str, true)), result.best_k, *votes, seconds)
    table.add("all", "", "", f"{hits}/{len(names)}", "", "", "", "", "", "")
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
    return [
        accuracy(range(3, 13), range(10, 15)),
        accuracy(range(3, 13), range(20, 23), std=1.5),
        accuracy(range(3, 13), range(20, 23), std=3.0),
        accuracy(range(3, 13), range(30, 33), n_features=2),
        accuracy(range(3, 13), range(30, 33), n_features=10),
        accuracy(range(3, 13), range(30, 33), n_features=50),
        accuracy(range(3, 13), range(40, 45), unequal=True),
        real_data(),
        timing(),
    ]
