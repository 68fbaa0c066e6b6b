"""The kd-tree build: the parallel level-at-a-time build against a node-at-a-time reference.

Every traversal that breaks ties by tree position (DBSCAN, HDBSCAN, OPTICS, Genie) depends on the
exact tree, so the parallel build must give the same arrays, bit for bit, as the serial kernel and
as the breadth-first build that splits one node at a time, for every thread count.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import njit

from clusterlab.kernels import kdtree
from clusterlab.kernels.kdtree import PARALLEL_BUILD_MIN, build_kdtree, build_kdtree_serial

SIZES = [1, 2, 41, PARALLEL_BUILD_MIN - 1, PARALLEL_BUILD_MIN, PARALLEL_BUILD_MIN + 1, 40_000]


def _reference(X, leaf_size):
    """Breadth-first build, one node at a time, children numbered as their parent splits; the
    median selection is the kernel's own quickselect (what is under test is the order)."""
    n = X.shape[0]
    idx = np.arange(n, dtype=np.int64)
    keys = np.empty(n)
    start, end, left, right, lower, upper = [0], [n], [], [], [], []
    i = 0
    while i < len(start):
        s, e = start[i], end[i]
        block = X[idx[s:e]].astype(np.float64)
        lower.append(block.min(axis=0))
        upper.append(block.max(axis=0))
        if e - s > leaf_size:
            spread = upper[i] - lower[i]
            dim = int(np.argmax(spread))  # the first of equal spreads, as the kernel
            keys[s:e] = X[idx[s:e], dim]
            mid = s + (e - s) // 2
            kdtree._select(keys, idx, s, e - 1, mid)
            left.append(len(start))
            right.append(len(start) + 1)
            start += [s, mid]
            end += [mid, e]
        else:
            left.append(-1)
            right.append(-1)
        i += 1
    arrays = (start, end, left, right, lower, upper)
    return (X[idx], idx, *(np.array(a, dtype=np.asarray(a[0]).dtype) for a in arrays))


def _data(kind, n, dtype):
    rng = np.random.default_rng(n)
    if kind == "normal":
        X = rng.normal(size=(n, 2))
    elif kind == "grid":  # many exact ties in both coordinates
        X = rng.integers(0, 7, size=(n, 3)).astype(float)
    else:  # duplicated rows, a constant column (zero spread), blobs
        X = np.repeat(rng.normal(size=(max(1, n // 5), 3)), 5, axis=0)[:n]
        X = np.vstack([X, X[: n - len(X)]]) if len(X) < n else X
        X[:, 1] = 2.5
    return np.ascontiguousarray(X, dtype=dtype)


def _assert_same_tree(got, expected):
    assert len(got) == len(expected) == 8
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


def _with_threads(n_threads, fn, *args):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(n_threads)
        return fn(*args)
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(
    ("kind", "dtype", "leaf_size"),
    [("normal", np.float64, 40), ("grid", np.float64, 16), ("duplicates", np.float32, 5)],
)
def test_parallel_build_is_the_node_at_a_time_build(n, kind, dtype, leaf_size):
    X = _data(kind, n, dtype)
    serial = build_kdtree_serial(X, leaf_size)
    _assert_same_tree(_with_threads(2, build_kdtree, X, leaf_size), serial)
    _assert_same_tree(_with_threads(1, build_kdtree, X, leaf_size), serial)
    ref = _reference(X, leaf_size)
    for got, want in zip(serial, ref, strict=True):
        np.testing.assert_array_equal(got, want)
    assert serial.data.dtype == dtype


@pytest.mark.parametrize("threads", [2, 3, 8, 10**6])
def test_any_thread_count_splits_the_same_tree(threads):
    # the top levels split one after the other until a level has as many nodes as threads
    # (none with 10**6: every level), then whole subtrees at once
    X = _data("grid", 3 * PARALLEL_BUILD_MIN, np.float64)
    _assert_same_tree(kdtree._build_in_parallel(X, 16, threads), build_kdtree_serial(X, 16))


def test_leaf_size_one_and_a_large_leaf():
    X = _data("normal", PARALLEL_BUILD_MIN + 3, np.float64)
    for leaf_size in (1, 0, PARALLEL_BUILD_MIN):  # 0 counts as 1; one leaf holding everything
        tree = _with_threads(2, build_kdtree, X, leaf_size)
        _assert_same_tree(tree, build_kdtree_serial(X, leaf_size))
    assert len(tree.node_start) == 3
    assert len(_with_threads(2, build_kdtree, X, 1).node_start) == 2 * len(X) - 1


def test_build_does_not_write_its_input():
    X = _data("grid", PARALLEL_BUILD_MIN + 1, np.float64)
    before = X.copy()
    _with_threads(2, build_kdtree, X, 8)
    np.testing.assert_array_equal(X, before)


@njit
def _build_in_a_kernel(X, leaf_size):
    return build_kdtree(X, leaf_size)


def test_numba_kernels_calling_build_get_the_same_tree():
    X = _data("normal", PARALLEL_BUILD_MIN + 1, np.float64)
    _assert_same_tree(_build_in_a_kernel(X, 40), _with_threads(2, build_kdtree, X, 40))
