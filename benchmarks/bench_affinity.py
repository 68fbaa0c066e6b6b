"""AffinityPropagation against scikit-learn: A1 dense 3,000 x 4 (identical labels; also on one
thread), A2 the preference search for n_clusters=6, A3 the sparse mode on 100,000 x 8; A4 one
dense iteration on one thread and on two (1,000 to 5,000 x 4: where ``_SMALL_DENSE`` switches
to threads); A5 choose_k for AP on the wholesale demo rows: the affinity k path against a fit per k.

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
from clusterlab._config import threads

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
    # 500 points: the exact median's kernels run from 200,000 similarities
    X, _ = make_blobs(n_samples=500, n_features=4, centers=3, random_state=0)
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
    # the same fit on one thread: what the two threads add (the kernels' result is the same)
    single = measure(_quiet(lambda: AffinityPropagation(random_state=0, n_jobs=1).fit(X)))
    d = single.result
    table.add(
        "A1 n_jobs=1", shape, "clusterlab", single.seconds, single.peak_mb, d.n_clusters_,
        d.converged_, "yes" if np.array_equal(d.labels_, b.labels_) else "NO",
        adjusted_rand_score(y, d.labels_), f"{ref.seconds / single.seconds:.1f}x faster",
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
    # one run (the default preference's run costs as much and has no k to compare with)
    run = measure(
        _quiet(lambda: AffinityPropagation(sparse=True, n_clusters=10, random_state=0).fit(X))
    )
    m = run.result
    table.add(
        "A3 sparse, n_clusters=10", shape, "clusterlab", run.seconds, run.peak_mb, m.n_clusters_,
        m.converged_, "", adjusted_rand_score(y, m.labels_), "",
    )  # fmt: skip


#: Iterations timed per size in A4 (the convergence window equals it: no early stop).
_A4_ITERATIONS = 30


def _iterations(X: np.ndarray, n_threads: int) -> float:
    """Seconds per dense iteration on ``n_threads`` threads (median-preference similarities)."""
    import numba
    from sklearn.metrics import euclidean_distances

    from clusterlab.kernels.affinity import dense_iterate

    S = -euclidean_distances(X, squared=True)
    np.fill_diagonal(S, np.median(S))
    R, A = np.zeros_like(S), np.zeros_like(S)
    colsum = np.zeros(S.shape[0])
    with threads(n_threads):
        blocks = numba.get_num_threads()
        run = measure(
            lambda: dense_iterate(
                S, R, A, colsum, 0.5, _A4_ITERATIONS, _A4_ITERATIONS, False, False, blocks
            )
        )
    return run.seconds / _A4_ITERATIONS


def _thread_table(sizes: list[int]) -> Table:
    table = Table(
        "A4 dense affinity propagation, one iteration: 1 thread vs 2 (where _SMALL_DENSE switches)",
        ["n x d", "n^2 entries", "ms / iteration, 1 thread", "2 threads", "2 threads speed-up"],
    )
    _iterations(np.zeros((50, 4)), 1)
    _iterations(np.zeros((50, 4)), 2)
    for n in sizes:
        X, _ = make_blobs(n_samples=n, n_features=4, centers=6, random_state=0)
        one, two = _iterations(X, 1), _iterations(X, 2)
        table.add(
            f"{n:,} x 4", f"{n * n:,}", 1e3 * one, 1e3 * two, f"{one / two:.2f}x",
        )  # fmt: skip
    return table


def _choose_k_table() -> Table:
    """choose_k for AP on the demo rows (setup(normalize=True) of the wholesale customers) as
    compare_models runs it: k = 2..10, three gap references, seed 1."""
    from clusterlab import Experiment
    from clusterlab.datasets import load_wholesale_customers
    from clusterlab.selection import choose_k, paths

    exp = Experiment(
        load_wholesale_customers(), normalize=True, ground_truth="Channel", session_id=1,
        verbose=False,
    )  # fmt: skip
    X = exp.get_config("X_transformed").to_numpy(dtype=np.float64)
    table = Table(
        "A5 choose_k(ap) on the wholesale demo (440 x 7, k = 2..10, 3 gap references)",
        ["path", "seconds", "peak MiB", "best k", "same table"],
    )
    runs = {}
    for name in ("affinity", "refit"):
        model = AffinityPropagation(random_state=1)
        saved = paths.PATHS["affinity"]
        if name == "refit":
            paths.PATHS["affinity"] = paths.PATHS["refit"]
        try:
            fit = _quiet(lambda m=model: choose_k(X, m, range(2, 11), random_state=1, n_refs=3))
            runs[name] = measure(fit)
        finally:
            paths.PATHS["affinity"] = saved
    same = runs["affinity"].result.table.equals(runs["refit"].result.table)
    for name, run in runs.items():
        table.add(
            name, run.seconds, run.peak_mb, run.result.best_k, "yes" if same else "NO",
        )  # fmt: skip
    return table


def main(quick: bool = False) -> list[Table]:
    table = Table(
        "AffinityPropagation: clusterlab vs scikit-learn (same process, same data)", COLUMNS
    )
    _warm_up()
    _dense(table, 1_000 if quick else 3_000)
    _sparse(table, 20_000 if quick else 100_000)
    sizes = [500, 1_000, 2_000] if quick else [500, 1_000, 1_500, 2_000, 3_000, 5_000]
    return [table, _thread_table(sizes), _choose_k_table()]
