"""Tests of the k-means++ and random seeding kernels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from clusterlab import kmeans_plusplus
from clusterlab.kernels.seeding import (
    default_n_local_trials,
    kmeans_plusplus_indices,
    random_indices,
)


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=600, n_features=3, centers=6, cluster_std=0.5, random_state=1)
    return X


def test_default_trials_match_scikit_learn():
    assert [default_n_local_trials(k) for k in (1, 2, 8, 64, 256)] == [2, 2, 4, 6, 7]


def test_seeds_are_rows_distinct_and_reproducible(data):
    centers, idx = kmeans_plusplus(data, 6, random_state=3)
    assert idx.dtype == np.int64
    assert np.array_equal(centers, data[idx])
    assert len(set(idx.tolist())) == 6
    _, idx2 = kmeans_plusplus(data, 6, random_state=3)
    assert np.array_equal(idx, idx2)


def test_seeds_cover_well_separated_blobs(data):
    # With one seed per blob, greedy k-means++ puts exactly one seed in every blob.
    _, y = make_blobs(n_samples=600, n_features=3, centers=6, cluster_std=0.5, random_state=1)
    for seed in range(5):
        _, idx = kmeans_plusplus(data, 6, random_state=seed)
        assert sorted(y[idx].tolist()) == list(range(6))


def test_potential_comparable_to_scikit_learn(data):
    from sklearn.cluster import kmeans_plusplus as sk_pp

    def potential(centers):
        d = ((data[:, None, :] - centers[None]) ** 2).sum(-1).min(1)
        return d.sum()

    ours = np.mean([potential(kmeans_plusplus(data, 6, random_state=s)[0]) for s in range(10)])
    theirs = np.mean([potential(sk_pp(data, 6, random_state=s)[0]) for s in range(10)])
    assert ours < 1.5 * theirs


def test_zero_weight_rows_never_chosen(data):
    w = np.ones(len(data))
    w[::2] = 0.0
    _, idx = kmeans_plusplus(data, 6, sample_weight=w, random_state=0)
    assert np.all(idx % 2 == 1)
    idx = random_indices(len(data), 6, w, 0)
    assert np.all(idx % 2 == 1)


def test_fewer_distinct_points_than_clusters():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 5, axis=0)
    idx = kmeans_plusplus_indices(X, np.ones(10), 4, 2, 0)
    # Both distinct points are found first; the remaining seeds repeat points.
    assert {tuple(r) for r in X[idx[:2]]} == {(0.0, 0.0), (1.0, 1.0)}
    assert idx.min() >= 0
    assert idx.max() < 10


def test_float32_kept(data):
    centers, _ = kmeans_plusplus(data.astype(np.float32), 4, random_state=0)
    assert centers.dtype == np.float32


def test_random_indices_distinct():
    idx = random_indices(50, 50, np.ones(50), 1)
    assert sorted(idx.tolist()) == list(range(50))


def test_bad_arguments(data):
    with pytest.raises(ValueError, match="n_clusters must be an int in"):
        kmeans_plusplus(data, 0)
    with pytest.raises(ValueError, match="n_local_trials must be"):
        kmeans_plusplus(data, 2, n_local_trials=0)
    with pytest.raises(ValueError, match=r"n_samples=600 should be >= n_clusters=601"):
        kmeans_plusplus(data, 601)
