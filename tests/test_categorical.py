"""KModes and KPrototypes: the kmodes library from the same init, tiny cases, inputs, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from clusterlab import KModes, KPrototypes, config_context
from tests.checks import check_labels, same_partition

kmodes_lib = pytest.importorskip("kmodes")


def _lib_codes(X):
    """The kmodes library's codes for X (np.unique order per column)."""
    return np.column_stack(
        [np.searchsorted(np.unique(X[:, j]), X[:, j]) for j in range(X.shape[1])]
    )


@pytest.fixture(scope="module")
def cat_data():
    rng = np.random.default_rng(3)
    # four planted groups of 8 categorical columns, 20% of the values noise
    centers = rng.integers(0, 5, size=(4, 8))
    rows = centers[rng.integers(0, 4, size=600)]
    noise = rng.random(rows.shape) < 0.3
    rows = np.where(noise, rng.integers(0, 5, size=rows.shape), rows)
    return np.char.add("v", rows.astype(str)).astype(object)


@pytest.fixture(scope="module")
def mixed_data():
    rng = np.random.default_rng(5)
    n = 500
    group = rng.integers(0, 3, size=n)
    num = rng.normal(size=(n, 4)) + 2.0 * group[:, None]
    cat = np.where(rng.random((n, 3)) < 0.7, group[:, None], rng.integers(0, 3, (n, 3)))
    X = np.empty((n, 7), dtype=object)
    X[:, :4] = num
    X[:, 4:] = np.char.add("c", cat.astype(str))
    return X, num, cat


# -- against the kmodes library ----------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 5, 9])
def test_kmodes_equals_library_from_cao(cat_data, k):
    from kmodes.kmodes import KModes as LibKModes

    lib = LibKModes(k, init="Cao", n_init=1).fit(cat_data)
    ours = KModes(k).fit(cat_data)
    assert ours.cost_ == lib.cost_
    assert np.array_equal(ours.labels_, lib.labels_)
    assert ours.n_iter_ == lib.n_iter_
    assert np.array_equal(ours.cluster_centroids_, lib.cluster_centroids_)


def test_kmodes_equals_library_from_same_array_init(cat_data):
    from kmodes.kmodes import KModes as LibKModes

    rows = np.random.default_rng(0).choice(len(cat_data), 6, replace=False)
    init = cat_data[rows]
    lib = LibKModes(6, init=_lib_codes(cat_data)[rows], n_init=1).fit(cat_data)
    ours = KModes(6, init=init).fit(cat_data)
    assert ours.cost_ == lib.cost_
    assert np.array_equal(ours.labels_, lib.labels_)
    assert np.array_equal(ours.cluster_centroids_, lib.cluster_centroids_)


def test_kmodes_tiny_equals_library():
    from kmodes.kmodes import KModes as LibKModes

    X = np.array(
        [["a", "x"], ["a", "x"], ["a", "y"], ["b", "y"], ["b", "z"], ["b", "z"], ["c", "z"]],
        dtype=object,
    )
    lib = LibKModes(2, init="Cao", n_init=1).fit(X)
    ours = KModes(2).fit(X)
    assert ours.cost_ == lib.cost_ == 3.0
    assert np.array_equal(ours.labels_, lib.labels_)
    assert ours.cluster_centroids_.tolist() == [["b", "z"], ["a", "x"]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kprototypes_equals_library_from_same_init(mixed_data, seed):
    from kmodes.kprototypes import KPrototypes as LibKPrototypes

    X, num, cat = mixed_data
    rows = np.random.default_rng(seed).choice(len(X), 4, replace=False)
    lib = LibKPrototypes(4, init=[num[rows].copy(), cat[rows].copy()], n_init=1)
    lib.fit(X, categorical=[4, 5, 6])
    ours = KPrototypes(4, init=X[rows]).fit(X)
    assert ours.gamma_ == lib.gamma
    assert ours.cost_ == lib.cost_
    assert np.array_equal(ours.labels_, lib.labels_)
    assert ours.n_iter_ == lib.n_iter_
    lib_centroids = lib.cluster_centroids_  # numeric block first, then the categories
    assert np.array_equal(
        ours.cluster_centroids_[:, :4].astype(float), lib_centroids[:, :4].astype(float)
    )
    assert np.array_equal(ours.cluster_centroids_[:, 4:], lib_centroids[:, 4:])


def test_kprototypes_weighted_cost_equals_library_without_empties(mixed_data):
    """With integer weights the library agrees too (its numeric means count moves, not weight,
    so the agreement holds for the cost of the first assignment and the initial prototypes)."""
    from kmodes.kprototypes import KPrototypes as LibKPrototypes

    X, num, cat = mixed_data
    rows = [0, 100, 200]
    w = np.ones(len(X))
    lib = LibKPrototypes(3, init=[num[rows].copy(), cat[rows].copy()], n_init=1, max_iter=1)
    lib.fit(X, categorical=[4, 5, 6], sample_weight=list(w))
    ours = KPrototypes(3, init=X[rows], max_iter=1).fit(X, sample_weight=w)
    assert ours.cost_ == lib.cost_


# -- tiny hand-computed cases and properties ---------------------------------------------------


def test_kmodes_hand_computed():
    X = pd.DataFrame(
        {
            "colour": ["red", "red", "red", "blue", "blue", "blue"],
            "size": ["S", "S", "M", "L", "L", "XL"],
        }
    )
    km = KModes(2).fit(X)
    assert km.labels_.tolist() == [0, 0, 0, 1, 1, 1]
    assert km.cluster_centroids_.tolist() == [["red", "S"], ["blue", "L"]]
    assert km.cost_ == 2.0  # one mismatch in each cluster
    assert km.transform(X).tolist()[2] == [1.0, 2.0]


def test_kprototypes_hand_computed():
    X = pd.DataFrame({"spend": [0.0, 2.0, 10.0, 12.0], "plan": ["a", "b", "b", "b"]})
    kp = KPrototypes(2, gamma=1.0).fit(X)
    assert kp.labels_.tolist() == [0, 0, 1, 1]
    # means 1 and 11; modes: a tie between a and b in cluster 0 goes to the lower code, "a"
    assert kp.cluster_centroids_.tolist() == [[1.0, "a"], [11.0, "b"]]
    assert kp.cost_ == 1 + 1 + 1 + 1 + 1.0  # squared distances 1 each, one mismatch
    assert kp.categorical_.tolist() == [1]


def test_predict_training_rows_returns_labels(mixed_data, cat_data):
    X, _, _ = mixed_data
    kp = KPrototypes(3, init="huang", n_init=3, random_state=0).fit(X)
    assert np.array_equal(kp.predict(X), kp.labels_)
    km = KModes(4, init="random", random_state=1).fit(cat_data)
    assert np.array_equal(km.predict(cat_data), km.labels_)
    check_labels(km.labels_, len(cat_data))


def test_cost_equals_transform_of_labels(mixed_data):
    X, _, _ = mixed_data
    kp = KPrototypes(3, random_state=0).fit(X)
    D = kp.transform(X)
    assert np.allclose(D[np.arange(len(X)), kp.labels_].sum(), kp.cost_, rtol=1e-12)
    assert np.array_equal(D.argmin(axis=1), kp.labels_)


@pytest.mark.parametrize("init", ["cao", "huang", "random"])
def test_threads_and_repeats_give_identical_results(mixed_data, init):
    X, _, _ = mixed_data
    runs = [
        KPrototypes(4, init=init, n_init=2, random_state=7, n_jobs=n_jobs).fit(X)
        for n_jobs in (1, 2, 1)
    ]
    for other in runs[1:]:
        assert np.array_equal(other.labels_, runs[0].labels_)
        assert other.cost_ == runs[0].cost_


def test_recovers_planted_groups(mixed_data, cat_data):
    from sklearn.metrics import adjusted_rand_score

    X, num, _ = mixed_data
    group = np.rint((num.mean(axis=1)) / 2.0).clip(0, 2)
    kp = KPrototypes(3, random_state=0).fit(X)
    assert adjusted_rand_score(group, kp.labels_) > 0.7


def test_huang_and_random_inits_keep_the_best_of_n_init(cat_data):
    one = KModes(5, init="huang", n_init=1, random_state=3).fit(cat_data)
    many = KModes(5, init="huang", n_init=6, random_state=3).fit(cat_data)
    assert many.cost_ <= one.cost_


def test_weights_scale_cost_and_integer_weights_equal_repeats_for_the_modes():
    X = np.array([["a"], ["a"], ["b"], ["b"], ["b"], ["c"]], dtype=object)
    w = np.array([3.0, 3.0, 1.0, 1.0, 1.0, 1.0])
    km = KModes(1).fit(X, sample_weight=w)
    assert km.cluster_centroids_.tolist() == [["a"]]  # weight 6 beats 3
    assert km.cost_ == 4.0
    assert KModes(1).fit(X, sample_weight=2 * w).cost_ == 8.0


def test_zero_weight_rows_never_seed_or_move_a_mode():
    X = np.array([["z", "z"]] * 5 + [["a", "b"]] * 3 + [["c", "d"]] * 3, dtype=object)
    w = np.r_[np.zeros(5), np.ones(6)]
    km = KModes(2).fit(X, sample_weight=w)
    assert sorted(km.cluster_centroids_.tolist()) == [["a", "b"], ["c", "d"]]


def test_large_k_initialises_without_failing_and_fills_every_cluster():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(400, 6))  # 729 possible rows, k = 60
    km = KModes(60).fit(X)
    assert check_labels(km.labels_, 400) == 60
    Xm = np.empty((400, 8), dtype=object)
    Xm[:, :6] = X.astype(str)
    Xm[:, 6:] = rng.normal(size=(400, 2))
    kp = KPrototypes(60, init="random", n_init=2, random_state=0).fit(Xm)
    assert check_labels(kp.labels_, 400) == 60


def test_fewer_distinct_rows_than_clusters_warns():
    X = np.array([["a", "x"], ["a", "x"], ["b", "y"], ["b", "y"]], dtype=object)
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(2\) found smaller"):
        km = KModes(3).fit(X)
    assert km.cost_ == 0.0
    assert same_partition(km.labels_, [0, 0, 1, 1])


# -- inputs ------------------------------------------------------------------------------------


def test_dataframe_dtypes_and_missing_categories():
    X = pd.DataFrame(
        {
            "spend": [1.0, 1.5, 2.0, 9.0, 9.5, 10.0],
            "region": pd.Categorical(["n", "n", None, "s", "s", "s"]),
            "vip": [True, True, True, False, False, False],
            "plan": pd.array(["basic", None, "basic", "pro", "pro", None], dtype="string"),
            "visits": [1, 2, 1, 7, 8, 9],
        }
    )
    before = X.copy()
    kp = KPrototypes(2, gamma=1.0).fit(X)
    pd.testing.assert_frame_equal(X, before)
    assert kp.categorical_.tolist() == [1, 2, 3]
    assert same_partition(kp.labels_, [0, 0, 0, 1, 1, 1])
    south = kp.labels_[-1]
    assert kp.cluster_centroids_[south, 1:4].tolist() == ["s", False, "pro"]
    assert list(kp.feature_names_in_) == list(X.columns)
    # a missing value is a level of its own: a mode can be "missing"
    km = KModes(1).fit(pd.DataFrame({"c": [None, None, "a"]}))
    assert km.cluster_centroids_.tolist() == [[None]]


def test_categorical_by_name_position_and_mask_agree(mixed_data):
    X, _, _ = mixed_data
    df = pd.DataFrame(X, columns=[f"f{j}" for j in range(7)])
    df[["f0", "f1", "f2", "f3"]] = df[["f0", "f1", "f2", "f3"]].astype(float)
    by_dtype = KPrototypes(3, random_state=0).fit(df)
    for spec in (["f4", "f5", "f6"], [4, 5, 6], [False] * 4 + [True] * 3):
        other = KPrototypes(3, categorical=spec, random_state=0).fit(df)
        assert np.array_equal(other.labels_, by_dtype.labels_)
    # numbers listed as categorical are categories
    numeric = df[["f0", "f1"]]
    assert KPrototypes(3, categorical=[0]).fit(numeric).categorical_.tolist() == [0]


def test_unseen_category_adds_one_mismatch_everywhere():
    X = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["p", "p", "q", "q"]})
    km = KModes(2).fit(X)
    new = pd.DataFrame({"a": ["never", "x"], "b": ["q", "never"]})
    D = km.transform(new)
    assert D.tolist() == [[2.0, 1.0], [1.0, 2.0]]
    assert km.predict(new).tolist() == [1, 0]
    # all columns unseen: every cluster ties, the lowest index wins
    assert km.predict(pd.DataFrame({"a": ["?"], "b": ["?"]})).tolist() == [0]


def test_numeric_block_with_no_categorical_column_is_online_kmeans(blobs):
    from sklearn.metrics import adjusted_rand_score

    X, y = blobs
    kp = KPrototypes(3, random_state=0).fit(X)
    assert kp.categorical_.size == 0
    assert adjusted_rand_score(y, kp.labels_) > 0.98


# -- errors ------------------------------------------------------------------------------------


def test_missing_numeric_value_is_refused_naming_the_column():
    X = pd.DataFrame({"spend": [1.0, np.nan, 3.0], "plan": ["a", "b", "a"]})
    with pytest.raises(ValueError, match=r"X spend \(numeric\) has missing or infinite values"):
        KPrototypes(2).fit(X)


def test_non_numeric_column_not_listed_as_categorical():
    X = pd.DataFrame({"spend": [1.0, 2.0, 3.0], "plan": ["a", "b", "a"]})
    with pytest.raises(TypeError, match="X plan must be numeric"):
        KPrototypes(2, categorical=[0]).fit(X)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            [7],
            r"categorical must list column positions in \[0, 1\] or column names; got position 7",
        ),
        (["nope"], "categorical names column 'nope', which is not a column of X"),
        ([True], r"categorical as a boolean mask must have one entry per column \(2\); got 1"),
    ],
)
def test_bad_categorical_spec(spec, message):
    X = pd.DataFrame({"spend": [1.0, 2.0, 3.0], "plan": ["a", "b", "a"]})
    with pytest.raises(ValueError, match=message):
        KPrototypes(2, categorical=spec).fit(X)


def test_categorical_names_need_a_dataframe():
    with pytest.raises(ValueError, match="X has no column names"):
        KPrototypes(2, categorical=["plan"]).fit(np.array([[1.0, "a"], [2.0, "b"]], dtype=object))


def test_bad_init_array():
    X = np.array([["a", "x"], ["b", "y"], ["a", "y"]], dtype=object)
    with pytest.raises(
        ValueError, match=r"init must have shape \(n_clusters, n_features\) = \(2, 2\)"
    ):
        KModes(2, init=[["a", "x"]]).fit(X)
    with pytest.raises(
        ValueError, match="init row 1 has column 0 = 'zzz', which is not a category"
    ):
        KModes(2, init=[["a", "x"], ["zzz", "y"]]).fit(X)


def test_parameter_errors():
    X = np.array([["a"], ["b"]], dtype=object)
    with pytest.raises(ValueError, match=r"KModes: n_clusters must be an int in \[1, inf\); got 0"):
        KModes(0).fit(X)
    with pytest.raises(ValueError, match=r"n_clusters must be an int in \[1, n_samples=2\]; got 3"):
        KModes(3).fit(X)
    with pytest.raises(
        ValueError, match=r"KPrototypes: gamma must be None or a number in \[0, inf\)"
    ):
        KPrototypes(2, gamma=-1.0).fit(X)
    with pytest.raises(ValueError, match="init must be one of"):
        KModes(2, init="kmeans++").fit(X)


def test_unhashable_values_are_refused_naming_the_column():
    X = np.array([[{"a": 1}], [{"b": 2}]], dtype=object)
    with pytest.raises(TypeError, match="X column 0 holds values that cannot be categories"):
        KModes(1).fit(X)


def test_n_jobs_restored():
    import numba

    before = numba.get_num_threads()
    KModes(2, n_jobs=1).fit(np.array([["a"], ["b"], ["a"]], dtype=object))
    assert numba.get_num_threads() == before


def test_memory_budget_does_not_apply_to_linear_memory_methods(cat_data):
    with config_context(memory_budget=1), warnings.catch_warnings():
        warnings.simplefilter("error")
        KModes(3).fit(cat_data)
