"""Distributed KMeans on a LocalCluster: the same fit as in memory, lazily labelled, checked."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from clusterlab import KMeans

da = pytest.importorskip("dask.array")  # the dask extra is part of dev: never skipped in CI

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("dask_client")]

#: Uneven row chunks with an empty and a one-row block.
CHUNKS = (700, 0, 1, 1299, 1000)


@pytest.fixture(scope="module")
def blobs10():
    X, _ = make_blobs(
        n_samples=sum(CHUNKS), centers=10, n_features=4, cluster_std=2.5, random_state=1
    )
    init = X[np.random.default_rng(0).choice(X.shape[0], 10, replace=False)]
    return X, init


def _dask(X, chunks=CHUNKS):
    return da.from_array(X, chunks=(chunks, X.shape[1]))


def test_import_loads_no_dask():
    code = (
        "import sys, clusterlab, clusterlab.cluster.kmeans, clusterlab.cluster.minibatch, "
        "clusterlab.cluster.medoids, clusterlab.cluster.categorical, "
        "clusterlab.distributed, clusterlab._validation\n"
        "from clusterlab import KMeans, DBSCAN\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "yinyang"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_fit_as_in_memory(blobs10, algorithm, dtype):
    X, init = blobs10
    X = X.astype(dtype)
    weights = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0])
    kwargs = {"init": init.astype(dtype), "algorithm": algorithm, "tol": 0.0}
    ref = KMeans(10, **kwargs).fit(X, sample_weight=weights)
    model = KMeans(10, **kwargs).fit(_dask(X), sample_weight=da.from_array(weights, chunks=CHUNKS))
    assert model.n_iter_ == ref.n_iter_
    assert model.inertia_ == pytest.approx(ref.inertia_, rel=1e-9 if dtype == np.float64 else 1e-5)
    assert model.cluster_centers_.dtype == dtype
    np.testing.assert_allclose(model.cluster_centers_, ref.cluster_centers_, rtol=1e-6, atol=1e-6)
    assert isinstance(model.labels_, da.Array)
    assert model.labels_.chunks == (CHUNKS,)
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "yinyang"])
def test_tol_stops_at_the_same_iteration(blobs10, algorithm):
    # Stopping on tol leaves the last pass's labels stale: the final pass relabels the rows
    # (afresh for Lloyd, by one more bounded step for the bounds); inertia and sizes follow.
    X, init = blobs10
    ref = KMeans(10, init=init, tol=1e-2, algorithm=algorithm).fit(X)
    model = KMeans(10, init=init, tol=1e-2, algorithm=algorithm).fit(_dask(X))
    assert ref.n_iter_ < KMeans(10, init=init, tol=0).fit(X).n_iter_
    assert model.n_iter_ == ref.n_iter_
    assert model.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)
    brute = ((X[:, None, :] - model.cluster_centers_[None]) ** 2).sum(axis=2)
    assert model.inertia_ == pytest.approx(brute.min(axis=1).sum(), rel=1e-9)


def test_empty_clusters_are_relocated_as_in_memory(blobs10):
    X, init = blobs10
    # Five centers far from every row: they start empty and take the farthest rows, while the
    # weightless outliers (the farthest rows of one block) must be passed over: the blocks are
    # asked for more rows than their first batch.
    X = np.vstack([X, X.max(axis=0) + 50.0 + np.arange(40)[:, None]])
    weights = np.ones(X.shape[0])
    weights[-40:] = 0.0
    far = init.copy()
    far[5:] = 1e4 + np.arange(5)[:, None]
    chunks = (700, 0, 1, 1299, 1040)
    ref = KMeans(10, init=far, algorithm="lloyd").fit(X, sample_weight=weights)
    model = KMeans(10, init=far, algorithm="lloyd").fit(
        _dask(X, chunks), sample_weight=da.from_array(weights, chunks=chunks)
    )
    assert model.n_iter_ == ref.n_iter_
    assert model.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    np.testing.assert_allclose(model.cluster_centers_, ref.cluster_centers_, rtol=1e-9)


def test_dataframe_input_keeps_feature_names(blobs10):
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    X, init = blobs10
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = KMeans(10, init=init).fit(dd.from_pandas(frame, npartitions=3))
    ref = KMeans(10, init=init).fit(frame)
    assert list(model.feature_names_in_) == ["a", "b", "c", "d"]
    assert model.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)
    np.testing.assert_array_equal(model.predict(frame), ref.predict(frame))


def test_fit_never_pulls_the_data_to_the_client(blobs10, monkeypatch):
    X, _ = blobs10
    Xd = _dask(X)

    def refuse(*args, **kwargs):
        raise AssertionError("the Dask array was pulled into the client's memory")

    monkeypatch.setattr(da.Array, "__array__", refuse)
    monkeypatch.setattr(da.Array, "compute", refuse)
    model = KMeans(4, random_state=0).fit(Xd)
    assert isinstance(model.labels_, da.Array)
    assert isinstance(model.predict(Xd), da.Array)
    assert isinstance(model.transform(Xd), da.Array)


def _init_cost(X, centers):
    d2 = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return float(d2.min(axis=1).sum())


def test_kmeans_parallel_init_is_good_and_reproducible(dask_client):
    from clusterlab import kmeans_plusplus
    from clusterlab.distributed._data import dask_data, data_stats
    from clusterlab.distributed._init import kmeans_parallel

    X, _ = make_blobs(n_samples=4000, centers=20, n_features=3, cluster_std=1.0, random_state=3)
    data = dask_data(_dask(X, (1000, 1000, 1000, 1000)))
    stats = data_stats(dask_client, data)
    ours = [kmeans_parallel(dask_client, data, stats, 20, seed, None) for seed in range(5)]
    plus = [kmeans_plusplus(X, 20, random_state=seed)[0] for seed in range(5)]
    np.testing.assert_array_equal(ours[0], kmeans_parallel(dask_client, data, stats, 20, 0, None))
    assert not np.array_equal(ours[0], ours[1])
    ratio = np.mean([_init_cost(X, c) for c in ours]) / np.mean([_init_cost(X, c) for c in plus])
    assert ratio <= 1.1


def test_random_state_and_n_init(blobs10):
    X, _ = blobs10
    Xd = _dask(X)
    first = KMeans(10, random_state=5).fit(Xd)
    again = KMeans(10, random_state=5).fit(Xd)
    np.testing.assert_array_equal(first.cluster_centers_, again.cluster_centers_)
    # On separated blobs k-means|| and Lloyd find the optimum, as in-memory k-means++ does.
    sep, _ = make_blobs(n_samples=3000, centers=10, n_features=4, cluster_std=0.5, random_state=1)
    ours = KMeans(10, random_state=5).fit(_dask(sep)).inertia_
    assert ours == pytest.approx(KMeans(10, random_state=5, n_init=3).fit(sep).inertia_, rel=1e-9)
    runs = [KMeans(10, init="random", n_init=1, random_state=s).fit(Xd).inertia_ for s in (7, 8)]
    best = KMeans(10, init="random", n_init=2, random_state=np.random.RandomState(0)).fit(Xd)
    assert best.inertia_ <= max(runs) or best.inertia_ == pytest.approx(min(runs))


def test_random_init_draws_only_weighted_rows(blobs10, dask_client):
    from clusterlab.distributed._data import dask_data
    from clusterlab.distributed._init import random_rows

    X, _ = blobs10
    weights = np.zeros(X.shape[0])
    chosen = np.arange(0, X.shape[0], 250)
    weights[chosen] = 1.0
    data = dask_data(_dask(X), da.from_array(weights, chunks=CHUNKS))
    rows = random_rows(dask_client, data, len(chosen), 0)
    assert sorted(map(tuple, rows)) == sorted(map(tuple, X[chosen]))


def test_duplicates_warn_as_in_memory():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 50, axis=0)
    with pytest.warns(Warning, match="distinct clusters"):
        KMeans(3, random_state=0).fit(_dask(X, (60, 40)))


def test_bad_input_is_refused_clearly(blobs10):
    X, init = blobs10
    with pytest.raises(TypeError, match="init as a callable"):
        KMeans(3, init=lambda X, k, random_state: X[:k]).fit(_dask(X))
    bad = X.copy()
    bad[1500, 2] = np.nan
    with pytest.raises(ValueError, match="X must be finite; block 3"):
        KMeans(3).fit(_dask(bad))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        KMeans(3).fit(_dask(X), sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match="n_clusters must be an int in"):
        KMeans(X.shape[0] + 1).fit(_dask(X))
    with pytest.raises(ValueError, match="must be 2-D"):
        KMeans(3).fit(da.ones(10, chunks=5))
    with pytest.raises(TypeError, match="only numbers"):
        KMeans(3).fit(da.from_array(np.array([["a", "b"]] * 4), chunks=2))
    with pytest.raises(ValueError, match=r"init \(the initial centers\) must have shape"):
        KMeans(10, init=init[:, :2]).fit(_dask(X))


def test_no_client_is_a_clear_error(blobs10, monkeypatch):
    import distributed

    def no_client():
        raise ValueError("No clients found")

    monkeypatch.setattr(distributed, "default_client", no_client)
    with pytest.raises(RuntimeError, match="none is running; start one first"):
        KMeans(3).fit(_dask(blobs10[0]))


def test_other_estimators_refuse_dask_without_computing(blobs10):
    from clusterlab import DBSCAN, BisectingKMeans

    X, _ = blobs10
    Xd = _dask(X)
    with pytest.raises(TypeError, match=r"clusterlab\.distributed\.fit_sample\(DBSCAN"):
        DBSCAN(eps=0.5).fit(Xd)
    with pytest.raises(TypeError, match=r"clusterlab\.distributed\.fit_sample\(BisectingKMeans"):
        BisectingKMeans(3).fit(Xd)
    fitted = DBSCAN(eps=0.5).fit(X)
    with pytest.raises(TypeError, match=r"clusterlab\.distributed\.predict\(model, X\)"):
        fitted.predict(Xd)


def test_float32_stays_float32_and_fit_predict_is_lazy(blobs10):
    X, _ = blobs10
    Xd = _dask(X.astype(np.float32))
    model = KMeans(5, random_state=0)
    labels = model.fit_predict(Xd)
    assert isinstance(labels, da.Array) and labels.dtype == np.int64
    assert model.cluster_centers_.dtype == np.float32
    distances = model.fit_transform(Xd)
    assert isinstance(distances, da.Array) and distances.dtype == np.float32
    np.testing.assert_allclose(distances.compute(), model.transform(X.astype(np.float32)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.predict(Xd).compute().shape == (X.shape[0],)


def test_column_chunks_and_unknown_row_chunks(blobs10):
    X, init = blobs10
    Xd = da.from_array(X, chunks=(1000, 2))  # two column chunks, joined lazily
    rows = Xd[da.from_array(X[:, 0] > -1e9, chunks=1000)]  # row chunk sizes unknown (NaN)
    assert np.isnan(rows.chunks[0][0])
    ref = KMeans(10, init=init).fit(X)
    model = KMeans(10, init=init, n_jobs=-1).fit(rows)
    assert model.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    assert model.labels_.chunks == ((1000, 1000, 1000),)
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)


def test_state_taken_over_by_each_pass_leaves_data_and_refits_unchanged(blobs10, dask_client):
    # Each pass updates its block's labels and bounds in place: the persisted blocks must stay
    # as given, a second fit on them must start afresh, and a relocation pass (reading the
    # state before the next pass takes it over) must see the state of its own iteration.
    X, init = blobs10
    far = init.copy()
    far[7:] = 1e4 + np.arange(3)[:, None]
    Xd = dask_client.persist(_dask(X))
    ref = KMeans(10, init=far, algorithm="yinyang", tol=0).fit(X)
    fits = [KMeans(10, init=far, algorithm="yinyang", tol=0).fit(Xd) for _ in range(2)]
    for model in fits:
        assert model.n_iter_ == ref.n_iter_
        assert model.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
        np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)
    np.testing.assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    np.testing.assert_array_equal(Xd.compute(), X)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_block_stats_finds_any_non_finite_value_and_exact_moments(bad):
    from clusterlab.distributed._data import SLICE, block_stats

    rng = np.random.default_rng(3)
    X = rng.normal(size=(2 * SLICE + 17, 5)) * np.array([1.0, 10.0, 1e3, 1e-3, 1.0]) + 1e4
    for dtype in (np.float64, np.float32):
        block = X.astype(dtype)
        stats = block_stats(block, None, dtype)
        exact = block.astype(np.float64)
        assert stats["finite"]
        np.testing.assert_allclose(stats["mean"], exact.mean(axis=0), rtol=1e-13)
        np.testing.assert_allclose(stats["m2"] / len(X), exact.var(axis=0), rtol=1e-9)
        np.testing.assert_array_equal(stats["lo"], exact.min(axis=0))
        np.testing.assert_array_equal(stats["hi"], exact.max(axis=0))
        block[2 * SLICE + 3, 3] = bad  # in the last slice
        assert not block_stats(block, None, dtype)["finite"]


@pytest.mark.parametrize("algorithm", ["lloyd", "yinyang"])
def test_resident_actors_and_tasks_give_identical_runs(blobs10, dask_client, algorithm, caplog):
    # Persisted blocks run in one actor per worker; every other case, and the rerun after a
    # lost worker, runs as tasks: both must add the same partials in the same order.
    import logging

    from clusterlab.distributed import _executors
    from clusterlab.distributed._data import dask_data, data_stats
    from clusterlab.distributed._lloyd import run_lloyd
    from clusterlab.distributed.kmeans import _persisted

    X, init = blobs10
    far = init.copy()
    far[8:] = 1e4 + np.arange(2)[:, None]  # two empty clusters: relocation on both executors
    data = dask_data(_dask(X))
    stats = data_stats(dask_client, data)
    data = _persisted(dask_client, data)
    calls = []
    spy = _executors.ResidentBlocks.step

    def counted(self, *args):
        calls.append(1)
        return spy(self, *args)

    args = (dask_client, data, stats, far, algorithm, 1 if algorithm == "lloyd" else 3, 300, 0.0)
    with caplog.at_level(logging.WARNING, logger="clusterlab.distributed._lloyd"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_executors.ResidentBlocks, "step", counted)
            resident = run_lloyd(*args, None, resident=True)
        tasks = run_lloyd(*args, None, resident=False)
    assert not caplog.records  # no fallback: the actors ran the whole fit
    assert len(calls) == resident.n_iter
    assert resident.n_iter == tasks.n_iter
    assert resident.inertia == tasks.inertia
    np.testing.assert_array_equal(resident.centers, tasks.centers)
    np.testing.assert_array_equal(resident.counts, tasks.counts)
    ref = KMeans(10, init=far, algorithm=algorithm, tol=0).fit(X)
    assert resident.n_iter == ref.n_iter_
    assert resident.inertia == pytest.approx(ref.inertia_, rel=1e-9)
