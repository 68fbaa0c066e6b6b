"""Agglomerative clustering targets of issue 15, side by side in one process.

- W1: Ward 20,000 x 10 against fastcluster's ``linkage_vector`` (merge heights compared with
  it, which computes scipy's), on clustered data (make_blobs, 10 centres) and on one Gaussian
  cloud (no structure: the hardest case for the kd-tree searches);
- W2: Ward 100,000 x 10 (blobs) against ``linkage_vector``;
- S1: single linkage 100,000 x 2 (blobs) against ``linkage_vector(method="single")``;
- A1 / C1: average and complete linkage 20,000 x 10 (blobs) against fastcluster's ``linkage``
  from the vectors (scipy's ``pdist`` then the chains), ours on float64 and on float32 data.

Timings use warm numba code (an untimed call on a slice of the same data first). Average and
complete (1.5 GiB and 3 GiB matrices) take the best of two calls for both sides: a process's
first allocation of that size can wait seconds for the kernel to find huge pages, which would
bias whichever side runs first. Peak memory is the resident high-water mark above the start of
the call. Peers that are not installed are reported as missing, not faked.
"""

from __future__ import annotations

import importlib

import numpy as np
from sklearn.datasets import make_blobs

from benchmarks.harness import Table, measure


def _peer(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _blobs(n: int, d: int, seed: int = 0) -> np.ndarray:
    X, _ = make_blobs(n_samples=n, n_features=d, centers=10, cluster_std=1.0, random_state=seed)
    return X


def _gauss(n: int, d: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def _ours(X: np.ndarray, method: str) -> np.ndarray:
    from clusterlab import linkage

    return linkage(X, method)


def _height_gap(Z: np.ndarray, ref: np.ndarray) -> float:
    """Largest relative difference between the two sorted height sequences."""
    a = np.sort(Z[:, 2])
    b = np.sort(ref[:, 2])
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def _row(table: Table, case: str, name: str, run, ours, gap) -> None:  # noqa: PLR0917
    ratio = 1.0 if ours is None else run.seconds / ours.seconds
    table.add(case, name, run.seconds, run.peak_mb, gap, ratio)


def _case(table: Table, case: str, X: np.ndarray, method: str, peer) -> None:
    """Ours and the peer on one data set; the peer's matrix is the height reference."""
    _ours(X[:2000], method)
    repeat = 2 if method in ("average", "complete") else 1
    ours = measure(lambda: _ours(X, method), repeat=repeat)
    if peer is None:
        _row(table, case, "clusterlab", ours, None, None)
        table.add(case, "fastcluster (not installed)", None, None, None, None)
        return
    ref = measure(peer, repeat=repeat)
    _row(table, case, "clusterlab", ours, None, _height_gap(ours.result, ref.result))
    _row(table, case, "fastcluster", ref, ours, 0.0)


def _table() -> Table:
    return Table(
        "Hierarchical clustering (seconds with a warm cache; 'height gap' = largest relative "
        "difference of the sorted merge heights from fastcluster's, which are scipy's; "
        "ratio = fastcluster time / clusterlab time)",
        ["case", "implementation", "seconds", "peak MiB", "height gap", "ratio"],
    )


def run_cases(table: Table, cases: list) -> None:
    """Each case ``(name, X, method, fastcluster function)``, ours against the peer; average and
    complete also on float32 data."""
    fastcluster = _peer("fastcluster")
    for case, X, method, peer_fn in cases:
        peer = None
        if fastcluster is not None:
            fn = getattr(fastcluster, peer_fn)

            def peer(X=X, fn=fn, method=method):
                return fn(X, method=method)

        _case(table, f"{case} {X.shape[0]:,}x{X.shape[1]}", X, method, peer)
        if method in ("average", "complete"):
            X32 = X.astype(np.float32)
            _ours(X32[:2000], method)
            run = measure(lambda X32=X32, method=method: _ours(X32, method), repeat=2)
            table.add(f"{case} float32", "clusterlab", run.seconds, run.peak_mb, None, None)


def condensed_cases(n: int) -> list:
    """The average and complete targets (A1, C1)."""
    return [
        ("A1 average", _blobs(n, 10), "average", "linkage"),
        ("C1 complete", _blobs(n, 10), "complete", "linkage"),
    ]


def main(quick: bool) -> list[Table]:
    table = _table()
    n_small = 5_000 if quick else 20_000
    n_large = 20_000 if quick else 100_000
    cases = [
        ("W1 ward blobs", _blobs(n_small, 10), "ward", "linkage_vector"),
        ("W1 ward gauss", _gauss(n_small, 10), "ward", "linkage_vector"),
        ("W2 ward blobs", _blobs(n_large, 10), "ward", "linkage_vector"),
        ("S1 single", _blobs(n_large, 2), "single", "linkage_vector"),
        *condensed_cases(n_small),
    ]
    run_cases(table, cases)
    return [table]
