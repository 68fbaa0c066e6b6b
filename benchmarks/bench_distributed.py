"""Distributed KMeans on a LocalCluster of 2 workers x 1 thread (processes, loopback).

Workloads of issue 19:

- DK1: KMeans 1,000,000 x 16, k = 64 (K1's data), from the same k-means++ centers: the
  distributed fit against the in-memory clusterlab fit (same iterations, inertia to 1e-9,
  time <= 1.5x) and against dask-ml's KMeans on the same cluster for the same number of
  iterations (>= 3x faster). The Dask array is persisted on the workers before the timings, as
  a Dask user would have it; "peak MiB" is the client process's (the workers' memory is theirs).
  The note gives CPU seconds: on a loaded machine wall times mostly measure waiting for a core.
- DK2: k-means|| initialisation on the same data: the inertia of its centers against in-memory
  greedy k-means++ (<= 1.1x), mean of three seeds.
- DK4: ``clusterlab segment 'data/*.parquet' --scheduler local --out segments/`` on 5,000,000
  rows of Parquet (6 skewed spend columns and a region), run as a separate process: setup,
  compare on the sample, fit on every row, label and write in < 5 minutes.
- DK5: KMedoids on Dask (CLARA's 5 draws fitted at once, losses by one map-reduce pass) against
  the in-memory CLARA (5 draws in turn): time and loss.
- DK6: GaussianMixture (diag) on Dask, 20 EM iterations from the same initial parameters,
  against the in-memory fit: time and lower bound (equal to rounding).
- DK7: Birch on Dask (a tree per partition, merged on the client) against the in-memory Birch:
  time, subclusters and agreement of the labels (ARI).
- DK3 (opt-in: ``CLUSTERLAB_BENCH_OUT_OF_CORE=1``, ~1.3 GB of Parquet in a temporary
  directory): 20,000,000 x 16 float32 read from Parquet by workers limited to 1 GB each; fit and
  predict complete, and the centers agree with the in-memory fit on a 1,000,000-row sample
  started from the same centers.

``quick`` uses 200,000 rows and k = 16 (500,000 rows for DK4, 2,000,000 for DK3).
``CLUSTERLAB_BENCH_DK1_ONLY=1`` runs DK1 and DK2 alone (their cluster, about a minute).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile

import numpy as np

from benchmarks.harness import Table, measure

COLUMNS = [
    "workload",
    "implementation",
    "seconds",
    "peak MiB",
    "inertia",
    "n_iter",
    "ratio",
    "note",
]


@contextlib.contextmanager
def _cluster(**kwargs):
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        **kwargs,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _blobs(n: int, d: int, k: int, dtype=np.float64) -> np.ndarray:
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=4.0, random_state=0)
    return np.ascontiguousarray(X, dtype=dtype)


def _warm_up(client, d: int, k: int) -> None:
    """Compile or load every kernel in the client and both workers, outside the timings."""
    import dask.array as da
    from dask_ml.cluster import KMeans as DaskMLKMeans

    from clusterlab import KMeans

    X = _blobs(20 * k, d, k)
    Xd = da.from_array(X, chunks=(10 * k, d))
    for algorithm in ("lloyd", "hamerly", "yinyang"):
        KMeans(k, algorithm=algorithm, max_iter=2, random_state=0).fit(X)
        KMeans(k, algorithm=algorithm, max_iter=2, random_state=0).fit(Xd)
    DaskMLKMeans(n_clusters=k, init=X[:k], max_iter=2).fit(Xd)


def _same_centers(table: Table, client, X: np.ndarray, k: int, chunk: int) -> None:
    import dask.array as da
    from dask_ml.cluster import KMeans as DaskMLKMeans
    from distributed import wait
    from sklearn.cluster import kmeans_plusplus

    from clusterlab import KMeans

    init, _ = kmeans_plusplus(X, k, random_state=0)
    # once untimed: the warm-up's small data compiles only the serial kernels, and this size
    # runs the parallel ones (a cold cache made the in-memory reference 1.9x slower)
    KMeans(k, init=init, max_iter=2).fit(X)
    start = _cpu(client)
    memory = measure(lambda: KMeans(k, init=init).fit(X))
    memory_cpu = _cpu(client)[0] - start[0]
    ref = memory.result
    Xd = client.persist(da.from_array(X, chunks=(chunk, X.shape[1])))
    wait(Xd)
    start = _cpu(client)
    ours = measure(lambda: KMeans(k, init=init).fit(Xd))
    stop = _cpu(client)
    workers = " + ".join(f"{b - a:.2f}" for a, b in zip(start[1], stop[1], strict=True))
    est = ours.result
    same = est.n_iter_ == ref.n_iter_
    rel = abs(est.inertia_ - ref.inertia_) / ref.inertia_
    table.add(
        "DK1",
        "clusterlab in memory (2 threads)",
        memory.seconds,
        memory.peak_mb,
        ref.inertia_,
        ref.n_iter_,
        None,
        f"reference; CPU {memory_cpu:.2f} s",
    )
    table.add(
        "DK1",
        "clusterlab on Dask",
        ours.seconds,
        ours.peak_mb,
        est.inertia_,
        est.n_iter_,
        ours.seconds / memory.seconds,
        f"time / in-memory; same n_iter: {same}; inertia rel. diff {rel:.1e}; CPU: workers "
        f"{workers} s, client and scheduler {stop[0] - start[0]:.2f} s",
    )
    peer = measure(
        lambda: DaskMLKMeans(n_clusters=k, init=init, max_iter=est.n_iter_, tol=0).fit(Xd)
    )
    table.add(
        "DK1",
        "dask-ml KMeans, same iterations",
        peer.seconds,
        peer.peak_mb,
        float(peer.result.inertia_),
        int(peer.result.n_iter_),
        peer.seconds / ours.seconds,
        "dask-ml time / ours",
    )


def _process_cpu() -> float:
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system


def _cpu(client) -> tuple[float, list[float]]:
    """CPU seconds used so far by this process (client and scheduler) and by each worker.

    On a loaded machine wall times mostly measure the wait for a core; CPU time says what the
    fit itself costs.
    """
    workers = client.run(_process_cpu)
    return _process_cpu(), [workers[w] for w in sorted(workers)]


def _init_cost(X: np.ndarray, centers: np.ndarray) -> float:
    from clusterlab.kernels.lloyd import assign_labels

    labels = np.full(X.shape[0], -1, dtype=np.int64)
    dist = np.empty(X.shape[0], dtype=X.dtype)
    assign_labels(X, np.ascontiguousarray(centers, dtype=X.dtype), labels, dist)
    return float(dist.sum(dtype=np.float64))


def _init_quality(table: Table, client, X: np.ndarray, k: int, chunk: int) -> None:
    import dask.array as da
    from distributed import wait

    from clusterlab import kmeans_plusplus
    from clusterlab.distributed._data import dask_data, data_stats
    from clusterlab.distributed._init import kmeans_parallel

    Xd = client.persist(da.from_array(X, chunks=(chunk, X.shape[1])))
    wait(Xd)
    data = dask_data(Xd)
    stats = data_stats(client, data)
    seeds = (0, 1, 2)
    plus = [measure(lambda s=s: kmeans_plusplus(X, k, random_state=s)[0]) for s in seeds]
    ours = [measure(lambda s=s: kmeans_parallel(client, data, stats, k, s, None)) for s in seeds]
    plus_cost = np.mean([_init_cost(X, r.result) for r in plus])
    ours_cost = np.mean([_init_cost(X, r.result) for r in ours])
    table.add(
        "DK2",
        "k-means++ in memory (init only)",
        np.mean([r.seconds for r in plus]),
        None,
        plus_cost,
        None,
        None,
        "mean of 3 seeds",
    )
    table.add(
        "DK2",
        "k-means|| on Dask (init only)",
        np.mean([r.seconds for r in ours]),
        None,
        ours_cost,
        None,
        ours_cost / plus_cost,
        "inertia / k-means++ (target <= 1.1)",
    )


def _out_of_core(quick: bool) -> Table:
    import dask.dataframe as dd
    import pandas as pd
    from sklearn.cluster import kmeans_plusplus

    from clusterlab import KMeans

    n = 2_000_000 if quick else 20_000_000
    k, d, per_file = 64, 16, 1_000_000
    table = Table(f"DK3: {n:,} x {d} float32 from Parquet, workers limited to 1 GB", COLUMNS)
    with tempfile.TemporaryDirectory() as tmp:
        centers = np.random.default_rng(1).normal(scale=20.0, size=(k, d))
        for i in range(n // per_file):
            rng = np.random.default_rng(100 + i)
            rows = centers[rng.integers(0, k, per_file)] + rng.normal(scale=4.0, size=(per_file, d))
            pd.DataFrame(rows.astype(np.float32), columns=[f"f{j}" for j in range(d)]).to_parquet(
                os.path.join(tmp, f"part-{i:03d}.parquet")
            )
        sample = pd.read_parquet(os.path.join(tmp, "part-000.parquet")).to_numpy()
        init, _ = kmeans_plusplus(sample, k, random_state=0)
        memory = measure(lambda: KMeans(k, init=init).fit(sample))
        table.add(
            "DK3",
            "in memory, 1,000,000-row sample",
            memory.seconds,
            memory.peak_mb,
            memory.result.inertia_,
            memory.result.n_iter_,
            None,
            "reference centers",
        )
        with _cluster(memory_limit="1GB"):
            frame = dd.read_parquet(os.path.join(tmp, "*.parquet"))
            fit = measure(lambda: KMeans(k, init=init).fit(frame))
            est = fit.result
            gap = _center_gap(est.cluster_centers_, memory.result.cluster_centers_)
            table.add(
                "DK3",
                "clusterlab on Dask, fit",
                fit.seconds,
                fit.peak_mb,
                est.inertia_,
                est.n_iter_,
                None,
                f"max center gap / cluster spread {gap:.3f}",
            )
            out = os.path.join(tmp, "labels")
            written = measure(lambda: est.predict(frame).to_frame("cluster").to_parquet(out))
            agree = _agreement(est, memory.result, sample)
            table.add(
                "DK3",
                "predict, written to Parquet",
                written.seconds,
                written.peak_mb,
                None,
                None,
                None,
                f"labels agree with the sample fit on {agree:.4f}",
            )
    return table


def _workflow(quick: bool) -> Table:
    """DK4: the command line on a partitioned Parquet data set (setup, compare, assign, write)."""
    import subprocess
    import time

    import pandas as pd

    n = 500_000 if quick else 5_000_000
    per_file = 250_000
    table = Table(f"DK4: clusterlab segment on {n:,} rows of Parquet (--scheduler local)", COLUMNS)
    rng = np.random.default_rng(7)
    centers = rng.normal(scale=3.0, size=(6, 6))
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n // per_file):
            which = rng.integers(0, 6, per_file)
            values = np.exp(centers[which] + rng.normal(size=(per_file, 6)))  # skewed, like money
            frame = pd.DataFrame(values, columns=[f"spend_{j}" for j in range(6)])
            frame["region"] = np.array(["north", "south", "east", "west"])[which % 4]
            # a plain index: dask 2026.8 cannot read files whose *named* RangeIndex pandas 3
            # stored as metadata (KeyError '[nan] not in index' in read_parquet)
            frame.index = pd.Index(np.arange(i * per_file, (i + 1) * per_file), name="customer")
            frame.to_parquet(os.path.join(tmp, f"part-{i:03d}.parquet"))
        src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
        out = os.path.join(tmp, "segments")
        argv = ["segment", os.path.join(tmp, "*.parquet"), "--scheduler", "local",
                "--out", out, "--log", "--quiet"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "clusterlab", *argv], env=env, check=True)
        seconds = time.perf_counter() - start
        files = len([f for f in os.listdir(out) if f.endswith(".parquet")])
        table.add(
            "DK4",
            "setup, compare (on the sample), assign, write",
            seconds,
            None,
            None,
            None,
            None,
            f"{files} Parquet files written; target < 300 s at 5,000,000 rows",
        )
    return table


def _kmedoids(quick: bool) -> Table:
    """DK5: KMedoids, CLARA on parallel samples on Dask against the in-memory CLARA."""
    import dask.array as da
    from distributed import wait

    from clusterlab import KMedoids

    n, k = (200_000, 8) if quick else (1_000_000, 10)
    X = _blobs(n, 10, k)
    table = Table(f"DK5: KMedoids (CLARA) on {n:,} x 10, k = {k}", COLUMNS)
    with _cluster() as client:
        small = da.from_array(X[:4000], chunks=(1000, 10))
        KMedoids(k, method="clara", sample_size=500, random_state=0).fit(X[:4000])  # compile
        KMedoids(k, sample_size=500, random_state=0).fit(small)  # compile on the workers
        memory = measure(lambda: KMedoids(k, method="clara", random_state=0).fit(X))
        Xd = client.persist(da.from_array(X, chunks=(n // 4, 10)))
        wait(Xd)
        ours = measure(lambda: KMedoids(k, method="clara", random_state=0).fit(Xd))
    ref, est = memory.result, ours.result
    table.add("DK5", "clusterlab in memory, method='clara'", memory.seconds, memory.peak_mb,
              ref.inertia_, ref.n_iter_, None, "reference (5 sequential draws)")  # fmt: skip
    table.add(
        "DK5",
        "clusterlab on Dask (5 parallel draws)",
        ours.seconds,
        ours.peak_mb,
        est.inertia_,
        est.n_iter_,
        ours.seconds / memory.seconds,
        f"time / in-memory; loss / in-memory {est.inertia_ / ref.inertia_:.4f}",
    )
    return table


def _mixture_start(X: np.ndarray, k: int) -> dict:
    """Initial parameters for DK6: one EM iteration of a k-means-started fit on 20,000 rows."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from clusterlab import GaussianMixture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(k, covariance_type="diag", max_iter=1, random_state=0)
        gm.fit(X[:20_000])
    return {"weights_init": gm.weights_, "means_init": gm.means_, "precisions_init": gm.precisions_}


def _mixture_and_birch(quick: bool) -> Table:
    """DK6: GaussianMixture (diag, 20 EM iterations from the same initial parameters) on Dask
    against in memory; DK7: Birch on Dask (per-partition trees) against in memory."""
    import warnings

    import dask.array as da
    from distributed import wait
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import adjusted_rand_score

    from clusterlab import Birch, GaussianMixture

    n, k = (200_000, 8) if quick else (1_000_000, 16)
    X = _blobs(n, 16, k)
    table = Table(f"DK6/DK7: GaussianMixture and Birch on {n:,} x 16, k = {k}", COLUMNS)
    params = {"covariance_type": "diag", "max_iter": 20, "tol": 0.0, **_mixture_start(X, k)}
    birch = {"threshold": 14.0, "n_clusters": k}
    with _cluster() as client, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0: every run does 20 passes
        small = da.from_array(X[:4000], chunks=(1000, 16))
        for data in (X[:4000], small):  # compile in the client and on the workers
            GaussianMixture(k, **{**params, "max_iter": 2}).fit(data)
            Birch(**birch).fit(data)
        Xd = client.persist(da.from_array(X, chunks=(n // 4, 16)))
        wait(Xd)
        memory = measure(lambda: GaussianMixture(k, **params).fit(X))
        ours = measure(lambda: GaussianMixture(k, **params).fit(Xd))
        ref, est = memory.result, ours.result
        rel = abs(est.lower_bound_ - ref.lower_bound_) / abs(ref.lower_bound_)
        table.add("DK6", "GaussianMixture in memory (2 threads)", memory.seconds,
                  memory.peak_mb, None, ref.n_iter_, None,
                  f"reference; lower bound {ref.lower_bound_:.6f}")  # fmt: skip
        table.add("DK6", "GaussianMixture on Dask", ours.seconds, ours.peak_mb, None,
                  est.n_iter_, ours.seconds / memory.seconds,
                  f"time / in-memory; lower bound rel. diff {rel:.1e}")  # fmt: skip
        memory = measure(lambda: Birch(**birch).fit(X))
        ours = measure(lambda: Birch(**birch).fit(Xd))
        ref, est = memory.result, ours.result
        ari = adjusted_rand_score(ref.labels_, est.labels_.compute())
        table.add("DK7", "Birch in memory", memory.seconds, memory.peak_mb, None, None, None,
                  f"reference; {ref.subcluster_centers_.shape[0]} subclusters")  # fmt: skip
        table.add("DK7", "Birch on Dask (4 partition trees)", ours.seconds, ours.peak_mb, None,
                  None, ours.seconds / memory.seconds,
                  f"time / in-memory; {est.subcluster_centers_.shape[0]} subclusters; "
                  f"ARI with in-memory labels {ari:.4f}")  # fmt: skip
    return table


def _center_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance between matched centers over the typical within-cluster spread."""
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    cost = cdist(a, b)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].max() / (4.0 * np.sqrt(a.shape[1])))


def _agreement(est, ref, sample: np.ndarray) -> float:
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(ref.predict(sample), est.predict(sample)))


def main(quick: bool = False) -> list[Table]:
    """DK1, DK2, DK4 to DK7 (always), DK3 with ``CLUSTERLAB_BENCH_OUT_OF_CORE=1``."""
    n, k = (200_000, 16) if quick else (1_000_000, 64)
    chunk = n // 4  # two blocks per worker (Dask's advice: chunks of ~100 MB, not tiny)
    X = _blobs(n, 16, k)
    table = Table(
        f"KMeans on Dask, LocalCluster 2 workers x 1 thread: {n:,} x 16, k = {k}", COLUMNS
    )
    with _cluster() as client:
        _warm_up(client, 16, k)
        _same_centers(table, client, X, k, chunk)
        _init_quality(table, client, X, k, chunk)
    if os.environ.get("CLUSTERLAB_BENCH_DK1_ONLY") == "1":
        return [table]
    tables = [table, _kmedoids(quick), _mixture_and_birch(quick), _workflow(quick)]
    if os.environ.get("CLUSTERLAB_BENCH_OUT_OF_CORE") == "1":
        tables.append(_out_of_core(quick))
    return tables


if __name__ == "__main__":
    for t in main(quick="--quick" in sys.argv):
        print(t.text())
        print()
