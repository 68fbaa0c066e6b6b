"""Distributed MiniBatchKMeans: the model state visits the blocks; partial_fit streams them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from clusterlab import KMeans, MiniBatchKMeans

da = pytest.importorskip("dask.array")

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("dask_client")]

CHUNKS = (1500, 0, 1, 2499, 2000)


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(
        n_samples=sum(CHUNKS), centers=6, n_features=3, cluster_std=0.7, random_state=2
    )
    return X, da.from_array(X, chunks=(CHUNKS, 3))


def test_fit_is_reproducible_and_as_good_as_kmeans(data):
    X, Xd = data
    first = MiniBatchKMeans(6, batch_size=256, random_state=0).fit(Xd)
    again = MiniBatchKMeans(6, batch_size=256, random_state=0).fit(Xd)
    np.testing.assert_array_equal(first.cluster_centers_, again.cluster_centers_)
    assert first.n_steps_ == again.n_steps_ >= 1
    best = KMeans(6, random_state=0, n_init=3).fit(X).inertia_
    assert first.inertia_ <= 1.05 * best
    assert isinstance(first.labels_, da.Array)
    np.testing.assert_array_equal(first.labels_.compute(), first.predict(X))
    assert first.inertia_ == pytest.approx(-first.score(X), rel=1e-9)


def test_fit_stops_early_and_honours_max_iter(data):
    _, Xd = data
    n = sum(CHUNKS)
    capped = MiniBatchKMeans(6, batch_size=100, max_iter=1, max_no_improvement=None, random_state=0)
    capped.fit(Xd)
    assert capped.n_steps_ == n // 100 and capped.n_iter_ == 1
    early = MiniBatchKMeans(6, batch_size=100, max_iter=50, max_no_improvement=3, random_state=0)
    early.fit(Xd)
    assert early.n_steps_ < 50 * n // 100


def test_weightless_rows_are_never_drawn(data):
    X, _ = data
    far = np.vstack([X, np.full((500, 3), 1e3)])
    weights = np.concatenate([np.ones(X.shape[0]), np.zeros(500)])
    chunks = (*CHUNKS, 500)
    model = MiniBatchKMeans(6, batch_size=256, random_state=0, compute_labels=False).fit(
        da.from_array(far, chunks=(chunks, 3)), sample_weight=da.from_array(weights, chunks=chunks)
    )
    assert np.abs(model.cluster_centers_).max() < 100
    assert not hasattr(model, "labels_")


def test_partial_fit_streams_the_blocks_in_order(data):
    X, Xd = data
    model = MiniBatchKMeans(6, random_state=0).partial_fit(Xd)
    ref = MiniBatchKMeans(6, random_state=0)
    bounds = np.cumsum((0, *CHUNKS))
    for a, b in itertools.pairwise(bounds):
        if b > a:
            ref.partial_fit(X[a:b])
    assert model.n_steps_ == ref.n_steps_ == 4
    np.testing.assert_array_equal(model.cluster_centers_, ref.cluster_centers_)
    np.testing.assert_array_equal(model._counts, ref._counts)
    np.testing.assert_array_equal(model.labels_.compute(), ref.predict(X))
    again = model.partial_fit(Xd)  # continues from the fitted state
    assert again.n_steps_ == 8


def test_float32_and_dataframes(data):
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    X, _ = data
    frame = pd.DataFrame(X.astype(np.float32), columns=["a", "b", "c"])
    model = MiniBatchKMeans(6, random_state=0).fit(dd.from_pandas(frame, npartitions=3))
    assert model.cluster_centers_.dtype == np.float32
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    labels = model.predict(dd.from_pandas(frame, npartitions=2)).compute()
    np.testing.assert_array_equal(labels.to_numpy(), model.predict(frame))
