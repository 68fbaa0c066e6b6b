"""Lazy prediction, transform, anomaly scores, metrics and sampling on Dask collections."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from clusterlab import KMeans

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("dask_client")]

#: New rows in uneven blocks with an empty and a one-row block.
CHUNKS = (50, 0, 1, 69)
COLUMNS = ["x0", "x1"]

#: Registry id -> small-data parameters (the key parameter set for 300 points in 3 blobs).
PARAMS = {
    "dbscan": {"eps": 0.5, "min_samples": 5},
    "hdbscan": {"min_cluster_size": 10},
    "optics": {"min_samples": 10},
    "ap": {"random_state": 0},
    "meanshift": {},
}


@pytest.fixture(scope="module")
def new_rows(blobs):
    X, _ = blobs
    rng = np.random.default_rng(4)
    return X[rng.choice(X.shape[0], sum(CHUNKS))] + rng.normal(scale=0.3, size=(sum(CHUNKS), 2))


def _array(X):
    return da.from_array(X, chunks=(CHUNKS, X.shape[1]))


def _frame(X):
    """A Dask DataFrame with the blocks of CHUNKS (one empty) and a non-default index."""
    frame = pd.DataFrame(X, columns=COLUMNS, index=np.arange(X.shape[0]) * 10 + 7)
    bounds = np.cumsum((0, *CHUNKS))
    parts = [dd.from_pandas(frame.iloc[a:b], npartitions=1) for a, b in itertools.pairwise(bounds)]
    return dd.concat(parts), frame


def _fitted(model_id, X):
    from clusterlab.models import REGISTRY

    entry = REGISTRY[model_id]
    params = dict(PARAMS.get(model_id, {entry.key_param: 3} if entry.needs_k else {}))
    if entry.random_state_param and entry.needs_k:
        params[entry.random_state_param] = 0
    return entry.factory(**params).fit(X)


def _registry_ids():
    from clusterlab.models import REGISTRY

    return list(REGISTRY)


@pytest.mark.parametrize("model_id", _registry_ids())
def test_lazy_predict_equals_eager_for_every_model(model_id, blobs, new_rows):
    from clusterlab.distributed import predict
    from clusterlab.models import out_of_sample_rule

    X, _ = blobs
    model = _fitted(model_id, X)
    rule = out_of_sample_rule(model).fit(model, X, getattr(model, "labels_", None))
    expected = rule.predict(model, new_rows)
    labels = predict(model, _array(new_rows), rule=rule)
    assert isinstance(labels, da.Array) and labels.dtype == np.int64
    assert labels.chunks == (CHUNKS,)
    np.testing.assert_array_equal(labels.compute(), expected)
    if not hasattr(model, "predict"):  # the rule fitted here, from the training rows
        np.testing.assert_array_equal(predict(model, _array(new_rows), train=X).compute(), expected)


@pytest.mark.parametrize("model_id", ["kmeans", "dbscan", "hclust"])
def test_lazy_predict_on_a_dataframe_keeps_the_index(model_id, blobs, new_rows):
    from clusterlab.distributed import predict
    from clusterlab.models import out_of_sample_rule

    X, _ = blobs
    model = _fitted(model_id, pd.DataFrame(X, columns=COLUMNS))
    rule = out_of_sample_rule(model).fit(model, X, getattr(model, "labels_", None))
    ddf, frame = _frame(new_rows)
    labels = predict(model, ddf, rule=rule)
    assert labels.dtype == np.int64
    result = labels.compute()
    assert list(result.index) == list(frame.index)
    native = hasattr(model, "predict")  # fitted with feature names: give it the frame
    expected = rule.predict(model, frame if native else new_rows)
    np.testing.assert_array_equal(result.to_numpy(), expected)


def test_a_model_without_predict_needs_its_training_rows(blobs, new_rows):
    from clusterlab.distributed import predict
    from clusterlab.models import REGISTRY

    # scikit-learn's AgglomerativeClustering (our hclust predicts; the sklearn engine does not)
    model = REGISTRY["hclust"].build("sklearn", n_clusters=3).fit(blobs[0])
    assert not hasattr(model, "predict")
    with pytest.raises(ValueError, match="has no predict: pass train="):
        predict(model, _array(new_rows))


def test_predict_checks_features_without_computing(blobs):
    from clusterlab.distributed import predict

    model = KMeans(3, random_state=0).fit(pd.DataFrame(blobs[0], columns=COLUMNS))
    with pytest.raises(ValueError, match="X has 3 features, but KMeans was fitted with 2"):
        predict(model, da.zeros((10, 3), chunks=5))
    renamed = dd.from_pandas(pd.DataFrame(blobs[0], columns=["a", "b"]), npartitions=2)
    with pytest.raises(ValueError, match="differ from the feature names"):
        predict(model, renamed)


@pytest.mark.parametrize("model_class", ["KMeans", "MiniBatchKMeans"])
def test_transform_is_lazy_and_equal(model_class, blobs, new_rows):
    import clusterlab

    model = getattr(clusterlab, model_class)(3, random_state=0).fit(blobs[0].astype(np.float32))
    rows = new_rows.astype(np.float32)
    distances = model.transform(_array(rows))
    assert distances.dtype == np.float32 and distances.chunks == (CHUNKS, (3,))
    np.testing.assert_array_equal(distances.compute(), model.transform(rows))
    np.testing.assert_array_equal(model.predict(_array(rows)).compute(), model.predict(rows))
    framed = getattr(clusterlab, model_class)(3, random_state=0)
    framed.fit(pd.DataFrame(blobs[0], columns=COLUMNS))
    ddf, frame = _frame(new_rows)
    table = framed.transform(ddf).compute()
    assert list(table.columns) == [f"{model_class.lower()}{j}" for j in range(3)]
    assert list(table.index) == list(frame.index)
    np.testing.assert_allclose(table.to_numpy(), framed.transform(frame))


@pytest.mark.parametrize("model_id", ["kmeans", "gmm"])
def test_anomaly_scores_match_in_memory_when_the_sample_is_everything(model_id, blobs):
    from clusterlab.distributed import anomaly_scores
    from clusterlab.insight import anomaly_scores as in_memory

    X, _ = blobs
    model = _fitted(model_id, X)
    scores = anomaly_scores(
        model, da.from_array(X, chunks=((100, 0, 1, 199), 2)), sample_size=10**6
    )
    assert isinstance(scores, da.Array) and scores.dtype == np.float64
    np.testing.assert_allclose(scores.compute(), in_memory(model, X), rtol=1e-9, atol=1e-12)


def test_anomaly_scores_refuse_models_that_score_only_their_rows(blobs):
    from clusterlab.distributed import anomaly_scores

    with pytest.raises(ValueError, match="scores only the rows it was fitted on"):
        anomaly_scores(_fitted("hdbscan", blobs[0]), _array(blobs[0][:120]))


def test_cluster_scores_equal_the_in_memory_indices(blobs):
    from clusterlab import metrics
    from clusterlab.distributed import cluster_scores, inertia

    X, y = blobs
    labels = y.copy()
    labels[::17] = -1  # noise is left out, as in memory
    chunks = (100, 0, 1, 199)
    Xd = da.from_array(X, chunks=(chunks, 2))
    yd = da.from_array(labels, chunks=chunks)
    scores = cluster_scores(Xd, yd, silhouette_sample=10**6)
    assert scores["calinski_harabasz"] == pytest.approx(
        metrics.calinski_harabasz_score(X, labels), rel=1e-9
    )
    assert scores["davies_bouldin"] == pytest.approx(
        metrics.davies_bouldin_score(X, labels), rel=1e-9
    )
    assert scores["inertia"] == pytest.approx(metrics.inertia(X, labels), rel=1e-9)
    assert scores["simplified_silhouette"] == pytest.approx(
        metrics.simplified_silhouette_score(X, labels), rel=1e-9
    )
    assert scores["silhouette"] == pytest.approx(metrics.silhouette_score(X, labels), rel=1e-9)
    assert scores["silhouette_sample_size"] == np.count_nonzero(labels != -1)
    assert inertia(Xd, da.zeros(X.shape[0], chunks=chunks, dtype=int)) == pytest.approx(
        metrics.inertia(X, np.zeros(X.shape[0], dtype=int)), rel=1e-9
    )
    small = cluster_scores(Xd, yd, silhouette_sample=50, random_state=0)
    assert small["silhouette_sample_size"] <= 50


def test_cluster_scores_on_a_dataframe_and_its_errors(blobs):
    from clusterlab import metrics
    from clusterlab.distributed import cluster_scores

    X, y = blobs
    ddf, _ = _frame(X[:120])
    # Labels as a Dask Series with the partitions of the data (as predict returns them).
    labels = ddf.map_partitions(
        lambda part: pd.Series(y[_positions(part)], index=part.index),
        meta=pd.Series(dtype=np.int64),
    )
    scores = cluster_scores(ddf, labels, silhouette_sample=None)
    assert scores["davies_bouldin"] == pytest.approx(
        metrics.davies_bouldin_score(X[:120], y[:120]), rel=1e-9
    )
    with pytest.raises(ValueError, match="between 2 and n_samples - 1 clusters"):
        cluster_scores(_array(X[:120]), da.zeros(120, chunks=(CHUNKS,), dtype=int))
    with pytest.raises(ValueError, match="every point is noise"):
        cluster_scores(_array(X[:120]), da.full(120, -1, chunks=(CHUNKS,)))
    with pytest.raises(TypeError, match="labels must be a Dask array or Series"):
        cluster_scores(_array(X[:120]), y[:120])


def _positions(part):
    return ((part.index.to_numpy() - 7) // 10).astype(int)


def test_fit_sample_is_uniform_exact_and_reproducible(blobs):
    from clusterlab import DBSCAN
    from clusterlab.distributed import fit_sample, predict, uniform_sample

    X, _ = blobs
    Xd = da.from_array(X, chunks=((100, 0, 1, 199), 2))
    model, sample = fit_sample(
        DBSCAN(eps=0.5), Xd, n_samples=120, random_state=0, return_sample=True
    )
    assert sample.shape == (120, 2) and model.labels_.shape == (120,)
    rows = {tuple(r) for r in X}
    assert all(tuple(r) in rows for r in sample)
    np.testing.assert_array_equal(sample, uniform_sample(Xd, 120, random_state=0)[0])
    assert not np.array_equal(sample, uniform_sample(Xd, 120, random_state=1)[0])
    everything, _ = uniform_sample(Xd, 10**6)
    np.testing.assert_array_equal(everything, X)
    frame = pd.DataFrame(X, columns=COLUMNS, index=np.arange(300) * 3)
    part, _ = uniform_sample(dd.from_pandas(frame, npartitions=3), 50, random_state=0)
    pd.testing.assert_frame_equal(part, frame.loc[part.index])
    labels = predict(model, Xd).compute()
    np.testing.assert_array_equal(labels, model.predict(X))
    with pytest.raises(ValueError, match="n_samples must be an int >= 1"):
        uniform_sample(Xd, 0)


def test_uniform_sample_is_uniform(blobs):
    """Every row is drawn with the same probability: counts over seeds look binomial."""
    from clusterlab.distributed import uniform_sample

    Xd = da.from_array(np.arange(40.0)[:, None], chunks=((5, 0, 1, 34), 1))
    counts = np.zeros(40)
    for seed in range(100):
        counts[uniform_sample(Xd, 10, random_state=seed)[0][:, 0].astype(int)] += 1
    # Each row: Binomial(100, 1/4), mean 25, sd 4.3; the extremes of 40 such draws stay within 5 sd.
    assert counts.sum() == 1000
    assert counts.min() > 25 - 5 * 4.33 and counts.max() < 25 + 5 * 4.33
