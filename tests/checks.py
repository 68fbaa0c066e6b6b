"""Reusable invariant checks for clustering results, shared by the estimator tests."""

from __future__ import annotations

import numpy as np

from clusterlab._base import NOISE


def check_labels(labels: np.ndarray, n_samples: int, *, allow_noise: bool = False) -> int:
    """Assert the label contract and return the number of clusters.

    Labels are a 1-D int64 array of length ``n_samples``; cluster labels cover ``0..k-1`` with no
    gaps; the only negative label is ``NOISE`` (-1), and only when ``allow_noise``.
    """
    labels = np.asarray(labels)
    assert labels.shape == (n_samples,), f"labels shape {labels.shape} != ({n_samples},)"
    assert labels.dtype == np.int64, f"labels dtype {labels.dtype} is not int64"
    clusters = np.unique(labels[labels != NOISE])
    if allow_noise:
        assert labels.min(initial=0) >= NOISE, "labels below -1"
    else:
        assert not np.any(labels == NOISE), "noise label in an estimator that has no noise"
    assert np.array_equal(clusters, np.arange(clusters.size)), f"labels not 0..k-1: {clusters}"
    return int(clusters.size)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two labelings group the points identically (labels may be renamed)."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return False
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))
