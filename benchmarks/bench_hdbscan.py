"""HDBSCAN targets H1-H3 of issue 3, side by side in one process.

- H1: 100,000 x 2 make_blobs (10 centres, std 0.5), min_cluster_size 50: clusterlab vs
  fast_hdbscan (time) and the hdbscan library (labels, ARI), scikit-learn's time alongside.
- H2: 100,000 x 10, same generator: clusterlab vs fast_hdbscan.
- H3: fit 100,000 x 2, predict 30,000 new points: clusterlab's ``approximate_predict`` vs
  hdbscan's.

Timings use warm numba code (an untimed call on a slice of the same data first); the first
call of a fresh process (kernels loaded from the on-disk cache) and the compile time without a
cache are reported in a separate table. Peers that are not installed are reported as missing,
not faked.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from benchmarks.harness import Table, measure

MIN_CLUSTER_SIZE = 50
# fast_hdbscan and hdbscan do not count a point among its own min_samples neighbours, scikit-learn
# and clusterlab do: clusterlab's min_samples=51 is the peers' default of 50, the same clustering
MIN_SAMPLES = MIN_CLUSTER_SIZE + 1


def _peer(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _data(n: int, d: int, seed: int = 0) -> np.ndarray:
    X, _ = make_blobs(n_samples=n, n_features=d, centers=10, cluster_std=0.5, random_state=seed)
    return X


def _ours(X: np.ndarray):
    from clusterlab.cluster.hdbscan import HDBSCAN

    return HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE, min_samples=MIN_SAMPLES).fit(X)


def _fit_row(table: Table, case: str, name: str, run, ours_seconds: float, ari) -> None:  # noqa: PLR0917
    table.add(
        case,
        name,
        run.seconds,
        run.peak_mb,
        len(set(run.result.labels_.tolist()) - {-1}),
        ari,
        run.seconds / ours_seconds if name != "clusterlab" else 1.0,
    )


def _fit_table(quick: bool) -> Table:
    fast_hdbscan = _peer("fast_hdbscan")
    hdbscan = _peer("hdbscan")
    from sklearn.cluster import HDBSCAN as SKHDBSCAN

    n = 20_000 if quick else 100_000
    table = Table(
        f"HDBSCAN fit, n={n:,}, min_cluster_size={MIN_CLUSTER_SIZE} (seconds with a warm cache; "
        "ARI against the hdbscan library's labels; ratio = peer time / clusterlab time)",
        ["case", "implementation", "seconds", "peak MiB", "clusters", "ARI vs hdbscan", "ratio"],
    )
    for case, d in (("H1", 2), ("H2", 10)):
        X = _data(n, d)
        # warm the numba caches on a slice (same dtype and width): compiled code is what is
        # compared, and a full warm-up call would double the run
        _ours(X[:3000])
        ours = measure(lambda X=X: _ours(X))
        reference = None
        ref_run = None
        if hdbscan is not None:
            ref_run = measure(lambda X=X: hdbscan.HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE).fit(X))
            reference = ref_run.result.labels_

        def ari(labels, reference=reference):
            return None if reference is None else adjusted_rand_score(reference, labels)

        _fit_row(table, case, "clusterlab", ours, ours.seconds, ari(ours.result.labels_))
        if fast_hdbscan is not None:
            fast_hdbscan.HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE).fit(X[:3000])
            run = measure(
                lambda X=X: fast_hdbscan.HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE).fit(X)
            )
            _fit_row(table, case, "fast_hdbscan", run, ours.seconds, ari(run.result.labels_))
        else:
            table.add(case, "fast_hdbscan (not installed)", None, None, None, None, None)
        if ref_run is not None:
            _fit_row(table, case, "hdbscan", ref_run, ours.seconds, 1.0)
        if case == "H1" or quick:
            # scikit-learn's Prim on 100k points takes minutes: once, in H1 only
            run = measure(
                lambda X=X: SKHDBSCAN(
                    min_cluster_size=MIN_CLUSTER_SIZE, min_samples=MIN_SAMPLES, copy=True
                ).fit(X)
            )
            _fit_row(table, case, "scikit-learn", run, ours.seconds, ari(run.result.labels_))
    return table


def _predict_table(quick: bool) -> Table:
    hdbscan = _peer("hdbscan")
    from clusterlab.cluster.hdbscan import HDBSCAN

    n = 20_000 if quick else 100_000
    m = 6_000 if quick else 30_000
    X = _data(n, 2)
    rng = np.random.default_rng(1)
    lo, hi = X.min(axis=0), X.max(axis=0)
    # new points: half near the training data, half anywhere in its bounding box
    X_new = np.vstack(
        [
            X[rng.integers(0, n, m // 2)] + rng.normal(0, 0.2, (m // 2, 2)),
            rng.uniform(lo, hi, (m - m // 2, 2)),
        ]
    )
    table = Table(
        f"HDBSCAN approximate_predict of {m:,} new points after fitting {n:,} x 2 "
        "(ratio = peer time / clusterlab time)",
        ["case", "implementation", "seconds", "peak MiB", "noise share", "ARI vs hdbscan", "ratio"],
    )
    model = HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE, min_samples=MIN_SAMPLES).fit(X)
    # best of three on both sides: one call is a fraction of a second, and a shared machine's
    # load comes in bursts that a single timing catches or misses by chance
    ours = measure(lambda: model.approximate_predict(X_new), warmup=True, repeat=3)
    ref_labels = None
    ref = None
    if hdbscan is not None:
        fitted = hdbscan.HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE, prediction_data=True).fit(X)
        ref = measure(lambda: hdbscan.approximate_predict(fitted, X_new), repeat=3)
        ref_labels = ref.result[0]
    ari = None if ref_labels is None else adjusted_rand_score(ref_labels, ours.result)
    table.add(
        "H3", "clusterlab", ours.seconds, ours.peak_mb, float(np.mean(ours.result < 0)), ari, 1.0
    )
    if ref is not None:
        table.add(
            "H3",
            "hdbscan",
            ref.seconds,
            ref.peak_mb,
            float(np.mean(ref_labels < 0)),
            1.0,
            ref.seconds / ours.seconds,
        )
    else:
        table.add("H3", "hdbscan (not installed)", None, None, None, None, None)
    return table


_COLD = """
import time, numpy as np
from sklearn.datasets import make_blobs
X, _ = make_blobs(2000, centers=5, random_state=0)
t = time.perf_counter()
from clusterlab.cluster.hdbscan import HDBSCAN
m = HDBSCAN(min_cluster_size=20).fit(X)
m.approximate_predict(X[:100]); m.membership_vector(X[:100])
print(time.perf_counter() - t)
"""


def _first_call_table() -> Table:
    table = Table(
        "HDBSCAN first call in a fresh process (2,000 x 2 fit + predict + membership_vector)",
        ["numba cache", "seconds"],
    )
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    for label, flag in (("on disk (warm)", "1"), ("off (compiles everything)", "0")):
        env["CLUSTERLAB_NUMBA_CACHE"] = flag
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _COLD], env=env, capture_output=True, text=True, check=True
        )
        del start
        table.add(label, float(out.stdout.strip().splitlines()[-1]))
    return table


def main(quick: bool) -> list[Table]:
    tables = [_fit_table(quick), _predict_table(quick)]
    if not quick:
        tables.append(_first_call_table())
    return tables
