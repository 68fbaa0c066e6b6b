"""The model registry and the out-of-sample rules."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import DBSCAN, AgglomerativeClustering, Birch
from sklearn.datasets import make_blobs

from clusterlab.models import (
    REGISTRY,
    KNNVote,
    NativePredict,
    NearestCentre,
    NearestCore,
    get_entry,
    out_of_sample_rule,
    registry_frame,
)

IDS = [
    "kmeans",
    "minibatch",
    "bisecting",
    "dbscan",
    "hdbscan",
    "optics",
    "hclust",
    "birch",
    "ap",
    "meanshift",
    "sc",
    "gmm",
]


@pytest.fixture(scope="module")
def blobs3():
    return make_blobs(n_samples=200, centers=3, cluster_std=0.6, random_state=1)


def test_registry_frame():
    frame = registry_frame()
    assert list(frame.index) == IDS
    assert {"Name", "Implementation", "Native predict", "Needs k", "Memory"} <= set(frame.columns)
    for model_id, row in frame.iterrows():
        est = REGISTRY[model_id].factory()
        assert row["Native predict"] == hasattr(est, "predict"), model_id
        assert row["Memory"] in {"O(n)", "O(n·k)", "O(n²)"}
        if "scikit-learn" in row["Implementation"]:
            assert type(est).__module__.startswith("sklearn.")
        if row["Needs k"]:
            assert REGISTRY[model_id].key_param in est.get_params()


def test_unknown_id_suggests():
    with pytest.raises(ValueError, match="did you mean 'hdbscan'"):
        get_entry("hdbscn")
    with pytest.raises(ValueError, match="not a known model id"):
        get_entry("xyzzy")
    with pytest.raises(TypeError, match="model must be a model id"):
        get_entry(3)


def test_nearest_core_is_dbscan_membership(blobs3):
    X, _ = blobs3
    est = DBSCAN(eps=0.5, min_samples=5).fit(X)
    rule = out_of_sample_rule(est)
    assert isinstance(rule, NearestCore)
    rule.fit(est, X, est.labels_)
    pred = rule.predict(est, X)
    core = est.core_sample_indices_
    # core points keep their label; noise stays noise (no core point within eps)
    np.testing.assert_array_equal(pred[core], est.labels_[core])
    np.testing.assert_array_equal(pred[est.labels_ == -1], -1)
    # a far-away point is noise
    assert rule.predict(est, np.array([[100.0, 100.0]])).tolist() == [-1]


def test_knn_vote_keeps_training_labels_and_follows_neighbours(blobs3):
    X, _ = blobs3
    est = AgglomerativeClustering(n_clusters=3).fit(X)
    rule = out_of_sample_rule(est)
    assert isinstance(rule, KNNVote)
    rule.fit(est, X, est.labels_)
    np.testing.assert_array_equal(rule.predict(est, X), est.labels_)
    # points near a training point get its cluster
    jitter = X + 1e-3
    np.testing.assert_array_equal(rule.predict(est, jitter), est.labels_)


def test_knn_vote_noise_wins_only_by_weight():
    X = np.array([[0.0], [0.1], [0.2], [3.0], [3.1]])
    rule = KNNVote(k=5).fit(None, X, np.array([0, 0, 0, -1, -1]))
    assert rule.predict(None, np.array([[3.05], [0.15]])).tolist() == [-1, 0]


def test_nearest_centre_matches_birch_predict(blobs3):
    X, _ = blobs3
    est = Birch(n_clusters=3).fit(X)
    assert isinstance(out_of_sample_rule(est), NativePredict)
    rule = NearestCentre().fit(est, X, est.labels_)
    new = np.random.default_rng(0).normal(size=(100, 2)) * 5
    np.testing.assert_array_equal(rule.predict(None, new), est.predict(new))
