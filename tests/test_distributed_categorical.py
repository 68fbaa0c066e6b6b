"""Distributed KModes and KPrototypes (batch Huang passes by map-reduce) on a LocalCluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlab import KModes, KPrototypes

dd = pytest.importorskip("dask.dataframe")  # the dask extra is part of dev: never skipped in CI

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("dask_client")]


@pytest.fixture(scope="module")
def table():
    """1,200 rows in three groups: two noisy categorical columns and one numeric column."""
    rng = np.random.default_rng(0)
    n = 1200
    group = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "a": np.array(list("xyz"))[(group + (rng.random(n) < 0.2)) % 3],
            "b": np.array(list("pqrs"))[(group + (rng.random(n) < 0.3)) % 4],
            "c": rng.normal(group * 3.0, 1.0),
        },
        index=np.arange(n) * 2 + 1,
    )


def _frame(table):
    """Four partitions and an empty one."""
    return dd.concat([dd.from_pandas(table, npartitions=4), dd.from_pandas(table.iloc[:0], 1)])


def _batch_fixed_point(table, model, weights):
    """Each prototype is its cluster's weighted mean and (lowest-coded) mode on every row."""
    labels = model.predict(table)
    for c, row in enumerate(model.cluster_centroids_):
        members = labels == c
        w = weights[members]
        for j, name in enumerate(table.columns):
            values = table[name].to_numpy()[members]
            if j in model.categorical_:
                totals = pd.Series(w).groupby(values).sum()
                assert totals[row[j]] == pytest.approx(totals.max(), rel=1e-12)
            else:
                assert row[j] == pytest.approx(np.dot(w, values) / w.sum(), rel=1e-9)


def test_all_rows_in_the_sample_give_the_in_memory_fit(table):
    ref = KPrototypes(3, categorical=["a", "b"], random_state=0).fit(table)
    model = KPrototypes(3, categorical=["a", "b"], random_state=0).fit(_frame(table))
    assert model.gamma_ == ref.gamma_
    assert model.cost_ == pytest.approx(ref.cost_, rel=1e-12)
    np.testing.assert_array_equal(model.cluster_centroids_[:, :2], ref.cluster_centroids_[:, :2])
    np.testing.assert_allclose(model.cluster_centroids_[:, 2].astype(float),
                               ref.cluster_centroids_[:, 2].astype(float), rtol=1e-12)  # fmt: skip
    labels = model.labels_.compute()
    assert list(labels.index) == list(table.index)
    np.testing.assert_array_equal(labels.to_numpy(), ref.labels_)


def test_passes_from_a_small_sample_reach_a_batch_fixed_point(table, monkeypatch):
    from clusterlab.distributed import categorical

    monkeypatch.setattr(categorical, "SAMPLE_ROWS", 150)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, len(table))
    dw = dd.from_pandas(pd.Series(weights, index=table.index), npartitions=4)
    data = dd.from_pandas(table, npartitions=4)
    model = KPrototypes(3, categorical=["a", "b"], random_state=2, gamma=1.5)
    model.fit(data, sample_weight=dw)
    _batch_fixed_point(table, model, weights)
    cost = np.dot(weights, model.transform(table).min(axis=1))
    assert model.cost_ == pytest.approx(cost, rel=1e-9)
    again = KPrototypes(3, categorical=["a", "b"], random_state=2, gamma=1.5)
    again.fit(data, sample_weight=dw)
    np.testing.assert_array_equal(again.cluster_centroids_, model.cluster_centroids_)


def test_kmodes_on_a_dask_frame_with_levels_the_sample_missed(table, monkeypatch):
    from clusterlab.distributed import categorical

    monkeypatch.setattr(categorical, "SAMPLE_ROWS", 100)
    rare = table[["a", "b"]].copy()
    rare.iloc[::97, 0] = "rare"  # 13 rows: most are not in a 100-row sample
    model = KModes(3, random_state=0).fit(dd.from_pandas(rare, npartitions=3))
    ones = np.ones(len(rare))
    _batch_fixed_point(rare, model, ones)
    assert model.cost_ == pytest.approx(model.transform(rare).min(axis=1).sum())
    np.testing.assert_array_equal(model.labels_.compute().to_numpy(), model.predict(rare))


@pytest.mark.parametrize("weighted", [False, True])
def test_default_gamma_comes_from_every_row_not_the_sample(table, monkeypatch, weighted):
    from clusterlab.distributed import categorical

    monkeypatch.setattr(categorical, "SAMPLE_ROWS", 150)
    weights = np.random.default_rng(2).uniform(0.5, 2.0, len(table)) if weighted else None
    dw = None if weights is None else dd.from_pandas(pd.Series(weights, index=table.index), 4)
    ref = KPrototypes(3, categorical=["a", "b"], random_state=0).fit(table, sample_weight=weights)
    model = KPrototypes(3, categorical=["a", "b"], random_state=0)
    model.fit(dd.from_pandas(table, npartitions=4), sample_weight=dw)
    assert model.gamma is None  # the parameter is not touched
    assert model.gamma_ == pytest.approx(ref.gamma_, rel=1e-12)
    sample_gamma = KPrototypes(3, categorical=["a", "b"]).fit(table.iloc[:150]).gamma_
    assert abs(sample_gamma - ref.gamma_) > 1e-6  # a sample's gamma would differ
