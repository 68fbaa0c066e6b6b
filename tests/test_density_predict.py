"""Predicting the training points of the density estimators on the benchmark batteries.

DBSCAN: core points keep their labels, noise stays noise, a border point joins a cluster with a
core point within ``eps`` (its nearest one; fit's tie rule may have picked another such cluster).
HDBSCAN: every training point keeps its label (it finds itself at its own core distance).
OPTICS's version of this check lives in test_optics.py.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from clusterlab import DBSCAN, HDBSCAN

BENCH = Path("/work/shared/data/clustering-benchmarks")
BATTERIES = ["sipu/aggregation", "sipu/compound", "fcps/lsun", "fcps/target", "other/hdbscan"]


@pytest.fixture(scope="module", params=BATTERIES)
def battery(request) -> np.ndarray:
    with gzip.open(BENCH / f"{request.param}.data.gz", "rt") as fh:
        return np.loadtxt(fh, ndmin=2)


def _eps_for(X: np.ndarray, min_samples: int) -> float:
    """A radius at which most points are core, so the batteries give real clusters."""
    from sklearn.neighbors import NearestNeighbors

    dist, _ = NearestNeighbors(n_neighbors=min_samples).fit(X).kneighbors(X)
    return float(np.quantile(dist[:, -1], 0.7))


def test_dbscan_predict_training_points(battery):
    X = battery
    eps = _eps_for(X, 8)
    model = DBSCAN(eps, min_samples=8).fit(X)
    assert model.labels_.max() >= 0
    got = model.predict(X)
    core = np.zeros(X.shape[0], dtype=bool)
    core[model.core_sample_indices_] = True
    np.testing.assert_array_equal(got[core], model.labels_[core])
    noise = model.labels_ == -1
    np.testing.assert_array_equal(got[noise], -1)
    border = ~core & ~noise
    d = np.sqrt(((X[border][:, None, :] - X[core][None]) ** 2).sum(-1))
    nearest = np.argmin(d, axis=1)
    assert np.all(d[np.arange(d.shape[0]), nearest] <= eps)
    np.testing.assert_array_equal(got[border], model.labels_[core][nearest])


def test_hdbscan_predict_training_points(battery):
    X = battery
    model = HDBSCAN(min_cluster_size=10).fit(X)
    assert model.n_clusters_ >= 1
    labels, probabilities = model.approximate_predict(X, return_probabilities=True)
    np.testing.assert_array_equal(labels, model.labels_)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    clustered = model.labels_ >= 0
    assert np.all(probabilities[clustered] > 0)
    np.testing.assert_array_equal(probabilities[~clustered], 0.0)
