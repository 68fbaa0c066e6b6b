"""Distributed Birch (per-partition CF trees merged on the client) on a LocalCluster."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from clusterlab import Birch

da = pytest.importorskip("dask.array")  # the dask extra is part of dev: never skipped in CI
dd = pytest.importorskip("dask.dataframe")

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("dask_client")]

#: Uneven row blocks with an empty and a one-row block.
CHUNKS = (700, 0, 1, 599, 700)


@pytest.fixture(scope="module")
def blobs4():
    """2,000 rows in four round blobs (2-D), shuffled."""
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0], [6.0, 6.0]])
    y = rng.integers(0, 4, sum(CHUNKS))
    return centers[y] + rng.normal(size=(y.size, 2)), y


def _array(X):
    return da.from_array(X, chunks=(CHUNKS, X.shape[1]))


def _leaf_radii(model):
    from clusterlab.kernels.birch import leaf_entries

    tree = model._tree
    entries = leaf_entries(tree)
    return np.sqrt(tree[2][entries] / tree[0][entries])


def test_partition_trees_merged_give_the_in_memory_clustering(blobs4):
    """Subclusters differ: partitions are summarised first, and their full subclusters seldom
    merge whole, so there are more (here 98 against 74; the tolerance is 0.75x to 1.5x), every
    one within the threshold; the global clusters agree."""
    X, y = blobs4
    ref = Birch(threshold=0.6, n_clusters=4).fit(X)
    model = Birch(threshold=0.6, n_clusters=4).fit(_array(X))
    n_ref, n_ours = ref.subcluster_centers_.shape[0], model.subcluster_centers_.shape[0]
    assert 0.75 * n_ref <= n_ours <= 1.5 * n_ref
    assert model.subcluster_sizes_.sum() == X.shape[0]
    assert (_leaf_radii(model) <= model.threshold_ * (1 + 1e-9)).all()
    assert model.threshold_ == 0.6 and model.n_rebuilds_ == 0
    assert isinstance(model.labels_, da.Array) and model.labels_.chunks[0] == CHUNKS
    labels = model.labels_.compute()
    assert adjusted_rand_score(ref.labels_, labels) > 0.95
    assert adjusted_rand_score(y, labels) > 0.9
    np.testing.assert_array_equal(labels, model.predict(X))


def test_partial_fits_of_the_blocks_build_the_tree_of_one_fit(blobs4):
    X, _ = blobs4
    whole = Birch(threshold=0.5, n_clusters=None).fit(_array(X))
    parts = Birch(threshold=0.5, n_clusters=None)
    parts.partial_fit(da.from_array(X[:1300], chunks=((700, 0, 1, 599), 2)))
    parts.partial_fit(da.from_array(X[1300:], chunks=((700,), 2)))
    np.testing.assert_array_equal(parts.subcluster_centers_, whole.subcluster_centers_)
    np.testing.assert_array_equal(parts.subcluster_sizes_, whole.subcluster_sizes_)
    assert parts.labels_.shape == (700,)  # the last batch's labels, as in memory


def test_memory_limit_rebuilds_within_the_limit(blobs4):
    X, _ = blobs4
    model = Birch(threshold=0.05, n_clusters=3, memory_limit=0.02).fit(_array(X))
    assert model.n_rebuilds_ > 0 and model.threshold_ > 0.05
    assert model.subcluster_centers_.shape[0] <= model._max_entries(2)
    assert model.subcluster_sizes_.sum() == X.shape[0]
    assert (_leaf_radii(model) <= model.threshold_ * (1 + 1e-9)).all()


def test_dask_frame_keeps_names_index_and_float32(blobs4):
    X, _ = blobs4
    frame = pd.DataFrame(X.astype(np.float32), columns=["u", "v"], index=np.arange(len(X)) * 2)
    bounds = np.cumsum((0, *CHUNKS))
    ddf = dd.concat(
        [dd.from_pandas(frame.iloc[a:b], npartitions=1) for a, b in itertools.pairwise(bounds)]
    )
    model = Birch(threshold=0.6, n_clusters=4).fit(ddf)
    assert list(model.feature_names_in_) == ["u", "v"]
    assert model.subcluster_centers_.dtype == np.float32
    labels = model.labels_.compute()
    assert list(labels.index) == list(frame.index)
    np.testing.assert_array_equal(labels.to_numpy(), model.predict(frame))


def test_bad_input_is_refused(blobs4):
    X, _ = blobs4
    bad = X.copy()
    bad[5, 0] = np.inf
    with pytest.raises(ValueError, match="X must be finite"):
        Birch().fit(_array(bad))
    with pytest.raises(ValueError, match="at least one row; got 0"):
        Birch().fit(da.from_array(X[:0], chunks=1))
    fitted = Birch(n_clusters=None).fit(_array(X))
    with pytest.raises(ValueError, match="X has 3 features, but Birch was fitted with 2"):
        fitted.partial_fit(da.from_array(np.ones((4, 3)), chunks=2))
