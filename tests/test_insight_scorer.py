"""AnomalyScorer: new rows scored one at a time, on the scale of anomaly_scores."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import AgglomerativeClustering
from sklearn.mixture import GaussianMixture

from clusterlab import DBSCAN, HDBSCAN, OPTICS, KMeans
from clusterlab.insight import THRESHOLD, AnomalyScorer, anomaly_scores
from clusterlab.insight import scorer as scorer_module


@pytest.fixture(scope="module")
def X(blobs):
    rng = np.random.default_rng(1)
    return np.vstack([blobs[0], rng.uniform(-15, 15, size=(6, 2))])


@pytest.fixture(scope="module")
def models(X):
    return {
        "kmeans": KMeans(3, random_state=0).fit(X),
        "gmm": GaussianMixture(3, random_state=0).fit(X),
        "dbscan": DBSCAN(eps=0.6, min_samples=5).fit(X),
        "optics": OPTICS(min_samples=5).fit(X),
        "hclust": AgglomerativeClustering(3).fit(X),
        "hdbscan": HDBSCAN(min_cluster_size=10).fit(X),
    }


@pytest.mark.parametrize(
    ("name", "measure"),
    [
        ("kmeans", "centre"),
        ("gmm", "likelihood"),
        ("dbscan", "core distance"),
        ("optics", "core distance"),
        ("hclust", "centre"),
    ],
)
def test_fitted_rows_score_as_anomaly_scores_does(models, X, name, measure):
    model = models[name]
    scorer = AnomalyScorer.fit(model, X)
    assert scorer.measure == measure
    np.testing.assert_allclose(scorer.score(X, model), anomaly_scores(model, X), atol=1e-12)


def test_hdbscan_uses_the_core_distance(models, X):
    # GLOSH is not defined for a new row; the core distance (min_samples) is
    scorer = AnomalyScorer.fit(models["hdbscan"], X)
    assert scorer.measure == "core distance" and scorer.k == 10


@pytest.mark.parametrize("name", ["kmeans", "gmm", "dbscan", "hclust", "hdbscan"])
def test_far_rows_are_anomalies_and_typical_rows_are_not(models, X, blobs, name):
    model = models[name]
    scorer = AnomalyScorer.fit(model, X)
    centres = np.vstack([blobs[0][blobs[1] == c].mean(axis=0) for c in range(3)])
    far = centres + 40.0
    assert (scorer.score(far, model) > THRESHOLD).all()
    assert (scorer.score(centres, model) < THRESHOLD).all()


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(st.integers(0, 305), min_size=1, max_size=20),
    name=st.sampled_from(["kmeans", "gmm", "dbscan", "hclust"]),
)
def test_a_rows_score_does_not_depend_on_the_rows_sent_with_it(models, X, rows, name):
    model = models[name]
    scorer = AnomalyScorer.fit(model, X)
    batch = scorer.score(X[rows], model)
    alone = np.array([scorer.score(X[[r]], model)[0] for r in rows])
    np.testing.assert_allclose(batch, alone, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["kmeans", "gmm", "dbscan", "hclust"])
def test_record_round_trip(models, X, name):
    model = models[name]
    scorer = AnomalyScorer.fit(model, X)
    record = scorer.to_record()
    for value in record.values():
        assert isinstance(value, str | int | float) or value.dtype == np.float64
    again = AnomalyScorer.from_record(record)
    np.testing.assert_array_equal(again.score(X, model), scorer.score(X, model))


def test_reference_is_a_sample_above_the_limit(models, X, monkeypatch):
    monkeypatch.setattr(scorer_module, "MAX_REFERENCE", 100)
    a = AnomalyScorer.fit(models["dbscan"], X, random_state=3)
    b = AnomalyScorer.fit(models["dbscan"], X, random_state=3)
    assert a.reference.shape == (100, 2)
    np.testing.assert_array_equal(a.score(X), b.score(X))


def test_errors(models, X):
    with pytest.raises(ValueError, match="not a fitted clustering model"):
        AnomalyScorer.fit(object(), X)
    scorer = AnomalyScorer.fit(models["kmeans"], X)
    with pytest.raises(ValueError, match="X has 3 features; the scorer was fitted on 2"):
        scorer.score(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="needs the fitted mixture"):
        AnomalyScorer.fit(models["gmm"], X).score(X)
    with pytest.raises(ValueError, match="unknown anomaly measure"):
        AnomalyScorer.from_record({"measure": "vibes", "median": 0, "scale": 1})
