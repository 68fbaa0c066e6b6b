"""KMedoids against python-kmedoids (Rust) and scikit-learn-extra, and CLARA on a million rows.

M1: FasterPAM, 10,000 x 10 blobs, k = 10, euclidean, all from the same 10 random medoids.
"fit" rows include the distance matrix (ours: our parallel kernel inside ``fit``; python-kmedoids:
scikit-learn's ``euclidean_distances``, as its ``KMedoids(metric='euclidean')`` does); "on D" rows
run FasterPAM alone on the same precomputed float64 matrix. python-kmedoids runs with
``n_cpu=1`` (its serial FasterPAM) and with its default (its parallel variant). "speed-up" is the
peer's time over ours; the target is at least 0.5 (half python-kmedoids' speed) with the same loss.
M1b: PAM (BUILD + SWAP) on 2,000 rows, ours vs scikit-learn-extra (which builds the full matrix
and runs the classic O(k n^2) swap evaluation).

M2: CLARA on 1,000,000 x 10, k = 10 (5 samples of ``2000 + 100 k`` rows, FasterPAM on each, one
linear assignment of all rows per sample): target < 30 s, and a loss within 2% of the reference
"FasterPAM on a random 20,000-row subsample, its medoids assigned to all rows".
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Table, measure

COLUMNS = ["case", "n x d, k", "implementation", "seconds", "peak MiB", "loss", "speed-up"]


def _blobs(n: int, d: int, k: int, seed: int = 0) -> np.ndarray:
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=2.0, random_state=seed)
    return np.ascontiguousarray(X)


def _m1(table: Table, n: int) -> None:
    import kmedoids
    from sklearn.metrics.pairwise import euclidean_distances

    from clusterlab import KMedoids

    k = 10
    X = _blobs(n, 10, k)
    init = np.random.default_rng(0).choice(n, k, replace=False)
    KMedoids(3, init=np.arange(3)).fit(X[:300])  # compile outside the timings
    shape = f"{n:,} x 10, k={k}"
    ours = measure(lambda: KMedoids(k, init=init).fit(X))
    serial = measure(lambda: kmedoids.fasterpam(euclidean_distances(X), init.copy(), n_cpu=1))
    para = measure(lambda: kmedoids.fasterpam(euclidean_distances(X), init.copy()))
    table.add(
        "M1 fit",
        shape,
        "clusterlab FasterPAM",
        ours.seconds,
        ours.peak_mb,
        ours.result.inertia_,
        "",
    )
    for name, run in (("python-kmedoids n_cpu=1", serial), ("python-kmedoids default", para)):
        table.add(
            "M1 fit",
            shape,
            name,
            run.seconds,
            run.peak_mb,
            float(run.result.loss),
            f"{run.seconds / ours.seconds:.2f}",
        )
    D = euclidean_distances(X)
    KMedoids(3, metric="precomputed", init=np.arange(3)).fit(D[:300, :300])
    ours_d = measure(lambda: KMedoids(k, metric="precomputed", init=init).fit(D))
    serial_d = measure(lambda: kmedoids.fasterpam(D, init.copy(), n_cpu=1))
    para_d = measure(lambda: kmedoids.fasterpam(D, init.copy()))
    table.add(
        "M1 on D",
        shape,
        "clusterlab FasterPAM",
        ours_d.seconds,
        ours_d.peak_mb,
        ours_d.result.inertia_,
        "",
    )
    for name, run in (("python-kmedoids n_cpu=1", serial_d), ("python-kmedoids default", para_d)):
        table.add(
            "M1 on D",
            shape,
            name,
            run.seconds,
            run.peak_mb,
            float(run.result.loss),
            f"{run.seconds / ours_d.seconds:.2f}",
        )


def _m1b(table: Table, n: int) -> None:
    from clusterlab import KMedoids

    k = 10
    X = _blobs(n, 10, k, seed=1)
    shape = f"{n:,} x 10, k={k}"
    ours = measure(lambda: KMedoids(k, method="pam").fit(X))
    table.add("M1b PAM", shape, "clusterlab", ours.seconds, ours.peak_mb, ours.result.inertia_, "")
    try:
        from sklearn_extra.cluster import KMedoids as ExtraKMedoids
    except (ImportError, ValueError) as exc:  # its wheels are built against numpy 1
        table.add(
            "M1b PAM",
            shape,
            f"scikit-learn-extra: does not import ({exc})"[:70],
            None,
            None,
            None,
            "",
        )
    else:
        extra = measure(lambda: ExtraKMedoids(k, method="pam", init="build").fit(X))
        table.add(
            "M1b PAM",
            shape,
            "scikit-learn-extra",
            extra.seconds,
            extra.peak_mb,
            float(extra.result.inertia_),
            f"{extra.seconds / ours.seconds:.1f}",
        )
    import kmedoids
    from sklearn.metrics.pairwise import euclidean_distances

    ref = measure(lambda: kmedoids.pam(euclidean_distances(X), k))
    table.add(
        "M1b PAM",
        shape,
        "python-kmedoids pam",
        ref.seconds,
        ref.peak_mb,
        float(ref.result.loss),
        f"{ref.seconds / ours.seconds:.2f}",
    )


def _m2(table: Table, n: int) -> None:
    from clusterlab import KMedoids

    k = 10
    X = _blobs(n, 10, k, seed=2)
    KMedoids(3, method="clara", sample_size=200).fit(X[:2000])
    clara = measure(lambda: KMedoids(k, method="clara", random_state=0).fit(X))
    rows = np.random.default_rng(0).choice(n, min(n, 20_000), replace=False)
    ref = KMedoids(k, random_state=0).fit(X[rows])
    medoids = rows[ref.medoid_indices_]
    ref_loss = _loss_of(X, medoids)
    shape = f"{n:,} x 10, k={k}"
    table.add(
        "M2 CLARA",
        shape,
        "clusterlab",
        clara.seconds,
        clara.peak_mb,
        clara.result.inertia_,
        "target < 30 s",
    )
    table.add(
        "M2 reference",
        shape,
        "FasterPAM on 20,000 rows, assigned to all",
        None,
        None,
        ref_loss,
        f"CLARA / ref = {clara.result.inertia_ / ref_loss:.4f}",
    )


def _loss_of(X: np.ndarray, medoids: np.ndarray) -> float:
    from sklearn.metrics import pairwise_distances_argmin_min

    _, dist = pairwise_distances_argmin_min(X, X[medoids])
    return float(dist.sum())


def main(quick: bool = False) -> list[Table]:
    table = Table("KMedoids: clusterlab vs python-kmedoids and scikit-learn-extra", COLUMNS)
    _m1(table, 3_000 if quick else 10_000)
    _m1b(table, 1_000 if quick else 2_000)
    _m2(table, 100_000 if quick else 1_000_000)
    return [table]
