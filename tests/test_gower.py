"""Gower's distance: a hand-computed table with missing values, the gower package, top-n, the
fitted transformer's rules for new rows, ordinal columns, the Gower silhouette, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlab import GowerDistance, KMedoids
from clusterlab.metrics import gower_distances, gower_silhouette_score


@pytest.fixture(scope="module")
def hand():
    X = pd.DataFrame(
        {
            "age": [20.0, 40.0, 60.0, np.nan],
            "income": [1000.0, np.nan, 3000.0, 2000.0],
            "plan": ["basic", "basic", "pro", None],
            "city": ["A", "B", None, "A"],
        }
    )
    # ranges: age 40, income 2000; a missing value skips its column for the pair
    D = np.array(
        [
            [0.0, (0.5 + 0 + 1) / 3, (1 + 1 + 1) / 3, (0.5 + 0) / 2],
            [0.5, 0.0, (0.5 + 1) / 2, 1 / 1],
            [1.0, 0.75, 0.0, 0.5 / 1],
            [0.25, 1.0, 0.5, 0.0],
        ]
    )
    return X, D


@pytest.fixture(scope="module")
def mixed():
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) * (i + 1) + i for i in range(4)})
    for i in range(3):
        X[f"c{i}"] = rng.choice(["a", "b", "c", "d"][: i + 2], size=n)
    X["flag"] = rng.random(n) < 0.5
    return X


def test_hand_computed_table_with_missing_values(hand):
    X, D = hand
    assert np.allclose(gower_distances(X, dtype=np.float64), D, atol=1e-15)
    assert np.allclose(gower_distances(X), D, atol=1e-7)
    assert gower_distances(X).dtype == np.float32


def test_hand_computed_weights(hand):
    X, _ = hand
    D = gower_distances(X, weights=[2.0, 1.0, 1.0, 1.0], dtype=np.float64)
    assert D[0, 1] == pytest.approx((2 * 0.5 + 0 + 1) / 4)
    assert D[0, 3] == pytest.approx(0.5 / 2)  # age and plan missing: income and city remain
    assert D[1, 3] == pytest.approx(1.0)


def test_no_column_in_common_is_distance_one():
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [np.nan, "x", "y"]})
    assert gower_distances(X, dtype=np.float64)[0, 1] == 1.0


def test_equals_the_gower_package(mixed):
    gower = pytest.importorskip("gower")
    cat = [False] * 4 + [True] * 4
    ref = gower.gower_matrix(mixed.to_numpy(dtype=object), cat_features=cat)
    ours = gower_distances(mixed)
    assert np.abs(ours - ref).max() < 1e-6
    Y = mixed.iloc[:50]
    ref_xy = gower.gower_matrix(
        mixed.iloc[50:].to_numpy(dtype=object), Y.to_numpy(dtype=object), cat_features=cat
    )
    assert np.abs(gower_distances(mixed.iloc[50:], Y) - ref_xy).max() < 1e-6


def test_symmetric_zero_diagonal_and_bounded(mixed):
    D = gower_distances(mixed, dtype=np.float64)
    assert np.array_equal(D, D.T)
    assert np.all(np.diag(D) == 0)
    assert D.min() >= 0 and D.max() <= 1


@pytest.mark.parametrize("m", [1, 5, 300])
def test_top_n_equals_the_sorted_full_matrix(mixed, m):
    D = gower_distances(mixed, dtype=np.float64)
    dist, idx = gower_distances(mixed, top_n=m, dtype=np.float64)
    order = np.argsort(D, axis=1, kind="stable")[:, :m]
    assert np.array_equal(idx, order)
    assert np.array_equal(dist, np.take_along_axis(D, order, axis=1))


def test_top_n_between_two_tables(mixed):
    A, B = mixed.iloc[:40], mixed.iloc[40:]
    D = gower_distances(A, B)
    dist, idx = gower_distances(A, B, top_n=3)
    assert np.array_equal(idx, np.argsort(D, axis=1, kind="stable")[:, :3])
    assert dist.shape == (40, 3)


def test_transformer_learns_on_fit_and_applies_to_new_rows():
    X = pd.DataFrame({"age": [20.0, 40.0, 60.0], "plan": ["basic", "basic", "pro"]})
    gd = GowerDistance().fit(X)
    assert gd.ranges_ == {"age": 40.0}
    assert gd.column_kinds_ == {"age": "numeric", "plan": "nominal"}
    new = pd.DataFrame({"age": [100.0, 40.0], "plan": ["enterprise", "enterprise"]})
    D = gd.transform(new)
    assert D.shape == (2, 3)
    # age 100 is 2 ranges from 20: capped at 1; 'enterprise' matches no fitted plan
    assert D[0].tolist() == [1.0, 1.0, 1.0]
    assert D[1].tolist() == pytest.approx([0.75, 0.5, 0.75])
    # two new rows with the same new category match each other
    assert gd.pairwise(new)[0, 1] == 0.5  # age capped at 1, plan equal
    assert np.allclose(gd.fit_transform(X), gower_distances(X))


def test_ordinal_columns_by_rank():
    sizes = pd.Categorical(["S", "M", "L", "XL"], categories=["S", "M", "L", "XL"], ordered=True)
    X = pd.DataFrame({"size": sizes})
    D = gower_distances(X, ordinal=["size"], dtype=np.float64)
    assert D[0].tolist() == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    # without the ordinal declaration it is nominal
    assert gower_distances(X, dtype=np.float64)[0].tolist() == [0.0, 1.0, 1.0, 1.0]
    # explicit levels: the range is that of the ranks seen in fit (M..XL here)
    Y = pd.DataFrame({"size": ["M", "XL", "L"]})
    gd = GowerDistance(ordinal={"size": ["S", "M", "L", "XL"]}).fit(Y)
    assert gd.column_kinds_ == {"size": "ordinal"}
    assert gd.pairwise(pd.DataFrame({"size": ["S", "XL"]}))[0, 1] == 1.0  # capped at 1
    with pytest.raises(ValueError, match="ordinal levels of X size must include every value"):
        GowerDistance(ordinal={"size": ["S", "M"]}).fit(Y)


def test_constant_numeric_column_compares_equal_or_not():
    X = pd.DataFrame({"a": [5.0, 5.0, 5.0], "b": [0.0, 1.0, 2.0]})
    gd = GowerDistance().fit(X)
    assert gd.column_kinds_["a"] == "constant"
    D = gd.pairwise(pd.DataFrame({"a": [5.0, 6.0], "b": [0.0, 0.0]}))
    assert D[0, 1] == 0.5


def test_pipeline_with_precomputed_kmedoids_predicts_like_gower_metric(mixed):
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(GowerDistance(), KMedoids(4, metric="precomputed")).fit(mixed)
    direct = KMedoids(4, metric="gower").fit(mixed)
    assert np.array_equal(pipe[-1].medoid_indices_, direct.medoid_indices_)
    new = mixed.iloc[::7]
    assert np.array_equal(pipe.predict(new), direct.predict(new))


def test_gower_silhouette(mixed):
    from sklearn.metrics import silhouette_score

    labels = (mixed["x3"] > mixed["x3"].median()).astype(int).to_numpy()
    D = gower_distances(mixed, dtype=np.float64)
    ref = silhouette_score(D, labels, metric="precomputed")
    assert gower_silhouette_score(mixed, labels) == pytest.approx(ref, abs=1e-6)
    # noise is left out; a sample scores those rows under the ranges of all rows
    noisy = labels.copy()
    noisy[:30] = -1
    ref_noise = silhouette_score(D[30:, 30:], labels[30:], metric="precomputed")
    assert gower_silhouette_score(mixed, noisy) == pytest.approx(ref_noise, abs=1e-6)
    rows = np.sort(np.random.RandomState(0).choice(np.arange(30, 300), 100, replace=False))
    ref_sample = silhouette_score(D[np.ix_(rows, rows)], labels[rows], metric="precomputed")
    got = gower_silhouette_score(mixed, noisy, sample_size=100, random_state=0)
    assert got == pytest.approx(ref_sample, abs=1e-6)


def test_input_is_not_modified(hand):
    X, _ = hand
    before = X.copy()
    GowerDistance().fit(X).transform(X)
    gower_distances(X, X.iloc[:2], top_n=2)
    pd.testing.assert_frame_equal(X, before)


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"weights": [1.0]}, ValueError, r"weights must have one entry per column \(4\)"),
        ({"weights": [1, -1, 1, 1]}, ValueError, "weights must be finite, non-negative"),
        ({"top_n": 0}, ValueError, r"top_n must be an int in \[1, 4\]"),
        ({"dtype": np.int32}, ValueError, "dtype must be float32 or float64"),
        ({"categorical": ["nope"]}, ValueError, "categorical names column 'nope'"),
    ],
)
def test_errors(hand, kwargs, exc, message):
    X, _ = hand
    with pytest.raises(exc, match=message):
        gower_distances(X, **kwargs)


def test_x_and_y_must_share_columns(hand):
    X, _ = hand
    with pytest.raises(ValueError, match="X and Y must have the same columns"):
        gower_distances(X, X[["age", "plan", "city", "income"]])
    with pytest.raises(TypeError, match="X and Y must both be DataFrames, or both arrays"):
        gower_distances(X, X.to_numpy())


def test_infinite_numbers_are_refused():
    with pytest.raises(ValueError, match="X a has infinite values"):
        gower_distances(pd.DataFrame({"a": [1.0, np.inf]}))


def test_numpy_object_array_infers_categorical_columns():
    X = np.array([[1.0, "a"], [2.0, "b"], [3.0, "a"]], dtype=object)
    D = gower_distances(X, dtype=np.float64)
    assert D[0].tolist() == [0.0, (0.5 + 1) / 2, (1.0 + 0) / 2]


def test_memory_budget_guards_the_full_matrix(mixed):
    from clusterlab import config_context

    with config_context(memory_budget=0.1), pytest.raises(MemoryError, match="top_n"):
        gower_distances(mixed)
    with config_context(memory_budget=0.1):
        dist, _ = gower_distances(mixed, top_n=3)
    assert dist.shape == (300, 3)
