"""Anomaly scores rank planted outliers first, for every kind of model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import cluster, mixture

from clusterlab.insight import (
    THRESHOLD,
    anomaly_scores,
    anomaly_threshold,
    flag_anomalies,
    top_anomalies,
)
from clusterlab.insight.anomalies import ROBUST_Z, raw_anomaly_scores

N_OUTLIERS = 20


@pytest.fixture(scope="module")
def planted():
    """Three blobs (600 rows) and 20 outliers scattered far from every blob."""
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(
        n_samples=600, centers=[[0, 0], [6, 0], [3, 5]], cluster_std=0.7, random_state=1
    )
    rng = np.random.default_rng(1)
    outliers = []
    while len(outliers) < N_OUTLIERS:
        p = rng.uniform(-12, 18, size=2)
        if np.min(np.linalg.norm(X - p, axis=1)) > 3.0:
            outliers.append(p)
    return np.vstack([X, outliers])


class _Glosh:
    """A fitted stand-in exposing GLOSH scores, the attribute HDBSCAN models carry."""

    def __init__(self, X):
        from sklearn.neighbors import NearestNeighbors

        d, _ = NearestNeighbors(n_neighbors=10).fit(X).kneighbors(X)
        self.labels_ = np.zeros(len(X), dtype=np.int64)
        self.outlier_scores_ = 1 - d[:, -1].min() / d[:, -1]  # GLOSH-like, in [0, 1)


MODELS = {
    "kmeans": lambda: cluster.KMeans(3, n_init=3, random_state=0),
    "minibatch": lambda: cluster.MiniBatchKMeans(3, n_init=3, random_state=0),
    "gmm": lambda: mixture.GaussianMixture(3, random_state=0),
    "dbscan": lambda: cluster.DBSCAN(eps=0.6, min_samples=5),
    "optics": lambda: cluster.OPTICS(min_samples=10),
    "hdbscan": lambda: cluster.HDBSCAN(min_cluster_size=15, copy=True),
    "agglomerative": lambda: cluster.AgglomerativeClustering(3),
}


@pytest.mark.parametrize("name", [*MODELS, "glosh"])
def test_planted_outliers_rank_first(planted, name):
    model = _Glosh(planted) if name == "glosh" else MODELS[name]().fit(planted)
    scores = anomaly_scores(model, planted)
    assert scores.shape == (len(planted),)
    assert np.all((scores >= 0) & (scores <= 1))
    top = np.argsort(-scores)[:N_OUTLIERS]
    recall = np.mean(top >= len(planted) - N_OUTLIERS)
    assert recall >= 0.9, f"{name}: top-{N_OUTLIERS} recall {recall:.2f}"


def test_threshold_rule_is_three_robust_sd(planted):
    model = cluster.KMeans(3, n_init=3, random_state=0).fit(planted)
    raw = raw_anomaly_scores(model, planted)
    median = np.median(raw)
    z = (raw - median) / (1.4826 * np.median(np.abs(raw - median)))
    scores = anomaly_scores(model, planted)
    np.testing.assert_array_equal(flag_anomalies(scores), z > ROBUST_Z)
    assert anomaly_threshold(scores) == THRESHOLD
    assert flag_anomalies(scores)[-N_OUTLIERS:].mean() >= 0.9


def test_centre_ratio_by_hand():
    X = np.array([[0.0], [1.0], [-1.0], [2.0], [10.0], [12.0], [8.0]])

    class Fitted:
        cluster_centers_ = np.array([[0.0], [10.0]])

    # cluster 0 distances 0, 1, 1, 2 -> median 1; cluster 1: 0, 2, 2 -> median 2
    np.testing.assert_allclose(raw_anomaly_scores(Fitted(), X), [0, 1, 1, 2, 0, 1, 1])


def test_centroid_models_score_new_rows(planted):
    model = cluster.KMeans(3, n_init=3, random_state=0).fit(planted)
    new = np.array([[0.0, 0.0], [30.0, 30.0]])
    raw = raw_anomaly_scores(model, new, reference=planted)
    assert raw[1] > 10 * raw[0]
    fitted = raw_anomaly_scores(model, planted)
    np.testing.assert_allclose(
        raw_anomaly_scores(model, planted[:5], reference=planted), fitted[:5]
    )


def test_fraction_flags_exact_count():
    scores = np.array([0.1, 0.9, 0.3, 0.8, 0.2])
    assert flag_anomalies(scores, fraction=0.4).tolist() == [False, True, False, True, False]
    assert anomaly_threshold(scores, fraction=0.4) == 0.3
    assert flag_anomalies(scores, fraction=0.5).sum() == math.ceil(0.5 * 5)
    with pytest.raises(ValueError, match=r"fraction must be None or a number in \(0, 0.5\]"):
        flag_anomalies(scores, fraction=0.7)


def test_top_anomalies_table(planted):
    frame = pd.DataFrame(planted, columns=["u", "v"], index=[f"r{i}" for i in range(len(planted))])
    model = cluster.KMeans(3, n_init=3, random_state=0).fit(planted)
    scores = anomaly_scores(model, planted)
    table = top_anomalies(scores, frame, n=5, labels=model.labels_)
    assert table.columns.tolist() == ["anomaly_score", "is_anomaly", "segment", "u", "v"]
    assert table.index.tolist() == [frame.index[i] for i in np.argsort(-scores)[:5]]
    assert table["anomaly_score"].is_monotonic_decreasing
    np.testing.assert_array_equal(table["u"], frame.loc[table.index, "u"])


def test_errors(planted):
    with pytest.raises(ValueError, match="KMeans is not fitted"):
        anomaly_scores(cluster.KMeans(3), planted)
    dbscan = cluster.DBSCAN(eps=0.6).fit(planted)
    model = cluster.AgglomerativeClustering(3).fit(planted)
    with pytest.raises(ValueError, match="supported are models with cluster_centers_"):
        anomaly_scores(model, planted[:10])
    assert anomaly_scores(dbscan, planted[:10]).shape == (10,)
    with pytest.raises(ValueError, match="data has 3 rows but scores has 2"):
        top_anomalies([0.1, 0.2], np.zeros((3, 1)))
    with pytest.raises(ValueError, match="n must be an int >= 1; got 0"):
        top_anomalies([0.1], np.zeros((1, 1)), n=0)
