"""Profile of ``mst.core_distances_tree`` (issue 15, task knn10): single-thread CPU, 2-thread wall.

Run: ``PYTHONPATH=src python -m benchmarks.prof_knn10 [d ...]`` (default 10 and 4 features).
Each case is 100,000 make_blobs points (10 centres, std 1, random_state 0), k = 8, leaf size 40.
"""

from __future__ import annotations

import sys
import time

import numba
from sklearn.datasets import make_blobs

from clusterlab.kernels import kdtree, mst


def _best(fn, clock, repeat=3):
    fn()
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def main(dims=(10, 4), k=8, n=100_000):
    for d in dims:
        X, _ = make_blobs(n, d, centers=10, random_state=0)
        tree = kdtree.build_kdtree(X, 40)

        def run(tree=tree):
            return mst.core_distances_tree(tree, k, 2.0)

        numba.set_num_threads(1)
        cpu = _best(run, time.process_time)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        wall = _best(run, time.perf_counter)
        print(f"{n}x{d} k={k}: 1-thread CPU {cpu:.3f} s, 2-thread wall {wall:.3f} s", flush=True)


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (10, 4))
