"""Distributed KMedoids (CLARA on parallel samples) on a LocalCluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from clusterlab import KMedoids

da = pytest.importorskip("dask.array")  # the dask extra is part of dev: never skipped in CI
dd = pytest.importorskip("dask.dataframe")

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("dask_client")]

#: Uneven row chunks with an empty and a one-row block.
CHUNKS = (400, 0, 1, 599, 500)


@pytest.fixture(scope="module")
def blobs4():
    X, _ = make_blobs(n_samples=sum(CHUNKS), centers=4, cluster_std=1.5, random_state=3)
    return X


def _dask(X):
    return da.from_array(X, chunks=(CHUNKS, X.shape[1]))


def _loss(X, centers, weights=None):
    d = np.sqrt(((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    return float(d.sum() if weights is None else np.dot(weights, d))


def test_a_sample_of_every_row_is_the_in_memory_fit(blobs4):
    X = blobs4
    ref = KMedoids(4, random_state=0).fit(X)
    model = KMedoids(4, random_state=0, sample_size=X.shape[0]).fit(_dask(X))
    np.testing.assert_array_equal(model.medoid_indices_, ref.medoid_indices_)
    assert model.inertia_ == pytest.approx(ref.inertia_, rel=1e-12)
    assert isinstance(model.labels_, da.Array)
    assert model.labels_.chunks == (CHUNKS,)
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)


def test_clara_on_samples_is_consistent_and_good(blobs4):
    X = blobs4
    weights = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    dw = da.from_array(weights, chunks=CHUNKS)
    model = KMedoids(4, method="clara", random_state=5, sample_size=200)
    model.fit(_dask(X), sample_weight=dw)
    # the medoids are rows of X at the positions given; the loss is theirs on every row
    np.testing.assert_array_equal(X[model.medoid_indices_], model.cluster_centers_)
    assert model.inertia_ == pytest.approx(_loss(X, model.cluster_centers_, weights), rel=1e-12)
    np.testing.assert_array_equal(model.labels_.compute(), model.predict(X))
    # as good as the in-memory FasterPAM on all rows, within 2 %
    best = KMedoids(4, random_state=0).fit(X, sample_weight=weights)
    assert model.inertia_ <= 1.02 * best.inertia_
    again = KMedoids(4, method="clara", random_state=5, sample_size=200)
    again.fit(_dask(X), sample_weight=dw)
    np.testing.assert_array_equal(again.medoid_indices_, model.medoid_indices_)


def test_dataframe_and_float32(blobs4):
    X = blobs4.astype(np.float32)
    frame = pd.DataFrame(X, columns=["a", "b"], index=np.arange(X.shape[0]) * 3)
    ddf = dd.from_pandas(frame, npartitions=3)
    model = KMedoids(4, metric="manhattan", random_state=0, sample_size=300).fit(ddf)
    assert list(model.feature_names_in_) == ["a", "b"]
    assert model.cluster_centers_.dtype == np.float32
    labels = model.labels_.compute()
    assert list(labels.index) == list(frame.index)
    np.testing.assert_array_equal(labels.to_numpy(), model.predict(frame))


def test_model_file_round_trip(blobs4, tmp_path):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from clusterlab.models import out_of_sample_rule
    from clusterlab.persistence import ClusterPipeline, load_model, save_pipeline

    X = blobs4
    frame = pd.DataFrame(X, columns=["a", "b"])
    model = KMedoids(4, random_state=0, sample_size=300).fit(_dask(X))
    bundle = ClusterPipeline(
        pipeline=Pipeline([("same", FunctionTransformer())]).fit(frame),
        features=["a", "b"],
        estimator=model,
        rule=out_of_sample_rule(model).fit(model, X, None),
        model_id="kmedoids",
        columns=["a", "b"],
    )
    loaded = load_model(save_pipeline(bundle, tmp_path / "kmedoids"))
    assert not hasattr(loaded.estimator, "labels_")  # the lazy labels are not the model
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(X))


def test_what_clara_cannot_sample_is_refused_clearly(blobs4):
    Xd = _dask(blobs4)
    with pytest.raises(TypeError, match=r"precomputed.*fit_sample\(KMedoids"):
        KMedoids(2, metric="precomputed").fit(Xd)
    with pytest.raises(TypeError, match=r"init as row indices.*fit_sample\(KMedoids"):
        KMedoids(2, init=[0, 1]).fit(Xd)
    with pytest.raises(ValueError, match=r"sample_size must be >= n_clusters=4; got 3"):
        KMedoids(4, sample_size=3).fit(Xd)
    with pytest.raises(ValueError, match="n_clusters"):
        KMedoids(n_clusters=0).fit(Xd)
    weights = np.ones(blobs4.shape[0])
    weights[blobs4.shape[0] // 2] = -1.0
    with pytest.raises(ValueError, match=r"sample_weight must be non-negative; got a minimum of"):
        KMedoids(2, sample_size=50, random_state=0).fit(Xd, sample_weight=weights)


def test_a_draw_larger_than_a_worker_is_refused(monkeypatch, blobs4):
    from clusterlab.distributed import _cluster

    tiny = _cluster.Workers((1, 1), (2.0**20, 2.0**20), (2.0**20, 2.0**20))
    monkeypatch.setattr(_cluster, "workers", lambda client: tiny)
    with pytest.raises(MemoryError, match=r"sample_size=8,000 rows needs about .* pass sample_"):
        KMedoids(4, sample_size=8000).fit(_dask(blobs4))


def test_nearest_rows_seed_distinct_rows_in_medoid_order():
    from clusterlab.distributed.medoids import nearest_rows

    model = KMedoids(2, random_state=0).fit(np.array([[0.0], [0.1], [5.0], [5.2]]))
    rows = np.array([[4.9], [0.05], [5.05], [-3.0]])
    chosen = nearest_rows(model, rows)
    order = np.argsort(model.cluster_centers_[:, 0])  # medoid 0 may be either blob
    assert chosen[order].tolist() == [1, 2]
    same = KMedoids(2, random_state=0).fit(np.array([[0.0], [0.1], [5.0], [5.2]]))
    assert nearest_rows(same, np.array([[0.0], [0.0], [0.0]])).tolist() == [0, 1]  # distinct


def test_draws_seeded_from_a_sample_fit_score_on_every_row(blobs4, monkeypatch):
    from clusterlab.distributed import medoids as dm

    seen = []
    original = dm.nearest_rows
    monkeypatch.setattr(dm, "nearest_rows", lambda m, rows: seen.append(original(m, rows))
                        or seen[-1])  # fmt: skip
    X = blobs4
    start = KMedoids(4, random_state=1).fit(X[::7])
    model = dm.fit_kmedoids(KMedoids(4, random_state=0, sample_size=200), _dask(X), start=start)
    assert len(seen) == 5 and all(init.shape == (4,) for init in seen)  # every draw seeded
    assert model.inertia_ == pytest.approx(_loss(X, model.cluster_centers_), rel=1e-9)
    assert model.inertia_ <= _loss(X, start.cluster_centers_) * 1.01
