"""KMeans against scikit-learn: workloads K1, K2, K3 and K5 of issue 2, import and first-fit cost.

Both libraries get the same data and, for K1/K2/K5, the same initial centers (scikit-learn's
k-means++ with a fixed seed), and run to convergence with the default tolerance. Times are wall
seconds (one run each, after a JIT warm-up of ours on a small slice); peak memory is the extra
resident memory of the call (``benchmarks.harness.measure``). "speed-up" is scikit-learn's time
over ours, so above 1 means we are faster.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from benchmarks.harness import Table, measure

COLUMNS = [
    "workload",
    "implementation",
    "seconds",
    "peak MiB",
    "inertia",
    "n_iter",
    "speed-up",
    "rel. inertia diff",
]


def _data(n: int, d: int, k: int, std: float, *, dtype=np.float64, seed: int = 0):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std, random_state=seed)
    return np.ascontiguousarray(X, dtype=dtype)


def _init(X: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import kmeans_plusplus

    centers, _ = kmeans_plusplus(X, k, random_state=0)
    return centers


def _ours(X, k, **params):
    from clusterlab import KMeans

    return lambda: KMeans(k, **params).fit(X)


def _sklearn(X, k, **params):
    from sklearn.cluster import KMeans

    return lambda: KMeans(k, **params).fit(X)


def _warm_up(X: np.ndarray, k: int) -> None:
    """Compile (or load from the cache) our kernels for this dtype, outside the timings."""
    from clusterlab import KMeans

    small = X[: max(20 * k, 2000)]
    for algorithm in ("lloyd", "hamerly", "yinyang"):
        KMeans(k, algorithm=algorithm, n_init=1, max_iter=2, random_state=0).fit(small)


def _row(table, workload, name, run, *, ref_seconds=None, ref_inertia=None):
    est = run.result
    speedup = None if ref_seconds is None else ref_seconds / run.seconds
    diff = None if ref_inertia is None else abs(est.inertia_ - ref_inertia) / ref_inertia
    table.add(workload, name, run.seconds, run.peak_mb, est.inertia_, est.n_iter_, speedup, diff)


def _same_init(table, workload, X, k, sk_algorithms, *, sk_ref=None):
    """Ours (algorithm='auto') against scikit-learn's algorithms from one k-means++ init."""
    init = _init(X, k)
    common = {"init": init, "n_init": 1}
    _warm_up(X, k)
    sk_runs = {alg: measure(_sklearn(X, k, algorithm=alg, **common)) for alg in sk_algorithms}
    ours = measure(_ours(X, k, **common))
    best_alg = min(sk_runs, key=lambda a: sk_runs[a].seconds)
    best = sk_runs[best_alg]
    for alg, run in sk_runs.items():
        _row(table, workload, f"scikit-learn {alg} ({X.dtype})", run)
    _row(
        table,
        workload,
        f"clusterlab auto ({X.dtype}) vs sklearn {best_alg}",
        ours,
        ref_seconds=best.seconds,
        ref_inertia=best.result.inertia_,
    )
    if sk_ref is not None:
        ref_name, ref_run = sk_ref
        _row(
            table,
            workload,
            f"clusterlab auto ({X.dtype}) vs {ref_name}",
            ours,
            ref_seconds=ref_run.seconds,
            ref_inertia=ref_run.result.inertia_,
        )
    return sk_runs, ours


def _defaults(table, workload, X, k):
    _warm_up(X, k)
    sk = measure(_sklearn(X, k, random_state=0))
    ours = measure(_ours(X, k, random_state=0))
    _row(table, workload, "scikit-learn defaults", sk)
    _row(
        table,
        workload,
        "clusterlab defaults",
        ours,
        ref_seconds=sk.seconds,
        ref_inertia=sk.result.inertia_,
    )


_IMPORT = (
    "import sys, time; t = time.perf_counter(); import clusterlab; "
    "dt = time.perf_counter() - t; "
    "print(dt, 'numba' in sys.modules)"
)
_FIRST_FIT = (
    "import time, numpy as np; from clusterlab import KMeans; "
    "X = np.random.default_rng(0).normal(size=(2000, 8)); "
    "t = time.perf_counter(); KMeans(8, random_state=0).fit(X); a = time.perf_counter() - t; "
    "t = time.perf_counter(); KMeans(8, random_state=1).fit(X); b = time.perf_counter() - t; "
    "print(a, b)"
)


def _subprocess(code: str) -> list[str]:
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return out.stdout.split()


def _startup_table() -> Table:
    table = Table(
        "clusterlab start-up (fresh processes; target: import < 0.5 s, first fit adds < 1 s)",
        ["what", "seconds", "note"],
    )
    imports = [_subprocess(_IMPORT) for _ in range(3)]
    best = min(float(r[0]) for r in imports)
    table.add("import clusterlab", best, f"numba imported: {imports[0][1]}")
    _subprocess(_FIRST_FIT)  # makes sure the numba cache is warm
    first, second = (float(v) for v in _subprocess(_FIRST_FIT))
    table.add("first KMeans fit, warm numba cache", first, f"second fit {second:.3f} s")
    table.add("first-fit overhead", first - second, "first minus second fit")
    return table


def main(quick: bool = False) -> list[Table]:
    """Run the k-means workloads; ``quick`` uses much smaller data (a smoke run)."""
    scale = 20 if quick else 1
    table = Table(
        "KMeans vs scikit-learn (same data; K1/K2/K5 from the same k-means++ centers)",
        COLUMNS,
    )
    # K1: 1,000,000 x 16, k = 64, cluster_std 4, to convergence from the same init.
    X = _data(1_000_000 // scale, 16, 64, 4.0)
    k1_sk, _ = _same_init(table, "K1", X, 64, ["lloyd"])
    # K5: K1 in float32, against scikit-learn on float64 K1 and on float32.
    X32 = X.astype(np.float32)
    del X
    _same_init(
        table, "K5", X32, 64, ["lloyd"], sk_ref=("sklearn lloyd (float64 K1)", k1_sk["lloyd"])
    )
    del X32
    # K2: 100,000 x 32, k = 256, cluster_std 3, to convergence from the same init.
    X = _data(100_000 // scale, 32, 256, 3.0)
    _same_init(table, "K2", X, 256, ["lloyd", "elkan"])
    # K3: defaults end to end (init + n_init + fit), 200,000 x 16, k = 16.
    X = _data(200_000 // scale, 16, 16, 1.0)
    _defaults(table, "K3", X, 16)
    return [table, _startup_table()]


if __name__ == "__main__":
    for t in main(quick="--quick" in sys.argv):
        print(t.text())
        print()
