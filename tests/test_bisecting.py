"""BisectingKMeans: quality against scikit-learn, the tree's predict, invariances, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.cluster import BisectingKMeans as SkBisectingKMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab.cluster.bisecting import BisectingKMeans
from tests.checks import check_labels, same_partition

# scikit-learn excuses the same check for its own BisectingKMeans: each split starts from random
# centers, so a weight of 2 and a repeated row draw different initial centers.
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight is not equivalent to removing/repeating samples: random split inits"
    ),
}


@parametrize_with_checks(
    [BisectingKMeans(n_clusters=2, n_init=2, max_iter=5)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def blobs6():
    X, y = make_blobs(n_samples=1500, n_features=3, centers=6, cluster_std=0.6, random_state=1)
    return X, y


# ------------------------------------------------------------ agreement with scikit-learn


@pytest.mark.parametrize("strategy", ["biggest_inertia", "largest_cluster"])
def test_inertia_comparable_to_sklearn(blobs6, strategy):
    X, _ = blobs6
    params = dict(init="k-means++", n_init=3, bisecting_strategy=strategy)
    ours = BisectingKMeans(6, random_state=0, **params).fit(X)
    ref = SkBisectingKMeans(6, random_state=0, **params).fit(X)
    assert check_labels(ours.labels_, X.shape[0]) == 6
    assert ours.inertia_ <= ref.inertia_ * 1.01
    assert same_partition(ours.labels_, ref.labels_)


def test_predict_follows_the_tree_like_sklearn():
    # 1-D, three pairs: the first split separates {0, 1, 10, 11} from {30, 31} (centers 5.5 and
    # 30.5), the second splits the left part (0.5 and 10.5). x = 19 is nearer the leaf center
    # 10.5 than 30.5, but the tree sends it right at the root (|19 - 30.5| < |19 - 5.5|).
    X = np.array([[0.0], [1.0], [10.0], [11.0], [30.0], [31.0]])
    ours = BisectingKMeans(3, init="k-means++", random_state=0).fit(X)
    ref = SkBisectingKMeans(3, init="k-means++", random_state=0).fit(X)
    np.testing.assert_allclose(np.sort(ours.cluster_centers_[:, 0]), [0.5, 10.5, 30.5])
    assert ours.inertia_ == pytest.approx(6 * 0.25)
    assert same_partition(ours.labels_, ref.labels_)
    new = np.array([[19.0], [-3.0], [4.0], [8.0], [40.0]])
    assert same_partition(
        np.concatenate([ours.labels_, ours.predict(new)]),
        np.concatenate([ref.labels_, ref.predict(new)]),
    )
    assert ours.predict([[19.0]])[0] == ours.labels_[4]
    nearest = np.argmin(np.abs(ours.cluster_centers_[:, 0] - 19.0))
    assert nearest == ours.labels_[2]  # the nearest center is not the leaf predict picks


def test_largest_cluster_splits_the_most_rows():
    # a big loose cloud and a small, far pair of tight clusters: by inertia the cloud has most
    # error, by count too; after the first split the largest remaining leaf is split next
    rng = np.random.default_rng(0)
    big = rng.normal(0, 1, size=(300, 2))
    small = np.vstack([rng.normal(50, 0.1, size=(20, 2)), rng.normal(60, 0.1, size=(20, 2))])
    X = np.vstack([big, small])
    model = BisectingKMeans(3, bisecting_strategy="largest_cluster", random_state=0).fit(X)
    sizes = np.bincount(model.labels_)
    # the split of the 300-point cloud happens before the 40-point pair is split
    assert sorted(sizes.tolist())[-1] < 300
    assert 40 in sizes.tolist()
    by_inertia = BisectingKMeans(3, random_state=0).fit(X)
    assert check_labels(by_inertia.labels_, X.shape[0]) == 3


def test_biggest_inertia_splits_the_widest_cluster():
    # two far groups: a wide one of 100 rows and a tight one of 300 (two sub-blobs each);
    # biggest_inertia splits the wide one, largest_cluster the tight one
    rng = np.random.default_rng(1)
    wide = np.vstack([rng.normal(-40, 1, size=(50, 2)), rng.normal(-20, 1, size=(50, 2))])
    tight = np.vstack([rng.normal(40, 0.1, size=(150, 2)), rng.normal(41, 0.1, size=(150, 2))])
    X = np.vstack([wide, tight])
    by_inertia = BisectingKMeans(3, init="k-means++", random_state=0).fit(X)
    by_size = BisectingKMeans(
        3, init="k-means++", bisecting_strategy="largest_cluster", random_state=0
    ).fit(X)
    assert sorted(np.bincount(by_inertia.labels_).tolist()) == [50, 50, 300]
    assert sorted(np.bincount(by_size.labels_).tolist()) == [100, 150, 150]


def test_score_and_transform_use_nearest_leaf_center(blobs6):
    X, _ = blobs6
    model = BisectingKMeans(6, random_state=0).fit(X)
    dist = model.transform(X)
    expected = np.linalg.norm(X[:, None, :] - model.cluster_centers_[None], axis=2)
    np.testing.assert_allclose(dist, expected, rtol=1e-12)
    assert model.score(X) == pytest.approx(-np.sum(np.min(expected, axis=1) ** 2))
    np.testing.assert_array_equal(model.predict(X), model.labels_)


# -------------------------------------------------------------------- invariances


def test_integer_weights_equal_repeated_rows_from_fixed_init():
    X, _ = make_blobs(n_samples=200, n_features=2, centers=4, cluster_std=0.5, random_state=2)
    w = np.random.default_rng(0).integers(1, 4, size=X.shape[0])
    weighted = BisectingKMeans(4, init="k-means++", random_state=0).fit(X, sample_weight=w)
    repeated = BisectingKMeans(4, init="k-means++", random_state=0).fit(np.repeat(X, w, axis=0))
    # the splits are the same well-separated blobs, so the centers are the same weighted means
    order_w = np.lexsort(weighted.cluster_centers_.T)
    order_r = np.lexsort(repeated.cluster_centers_.T)
    np.testing.assert_allclose(
        weighted.cluster_centers_[order_w], repeated.cluster_centers_[order_r], rtol=1e-10
    )
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-10)


def test_permuting_rows_permutes_labels(blobs6):
    X, _ = blobs6
    perm = np.random.default_rng(3).permutation(X.shape[0])
    a = BisectingKMeans(6, init="k-means++", n_init=3, random_state=0).fit(X)
    b = BisectingKMeans(6, init="k-means++", n_init=3, random_state=0).fit(X[perm])
    assert same_partition(a.labels_[perm], b.labels_)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-9)


def test_same_result_for_one_and_two_threads(blobs6, monkeypatch):
    # small work runs on one thread by design; lift that limit so both thread counts are used
    monkeypatch.setattr("clusterlab.cluster.minibatch.PARALLEL_MIN_ROWS", 0)
    X, _ = blobs6
    one = BisectingKMeans(6, random_state=4, n_jobs=1).fit(X)
    two = BisectingKMeans(6, random_state=4, n_jobs=2).fit(X)
    np.testing.assert_array_equal(one.labels_, two.labels_)
    np.testing.assert_array_equal(one.cluster_centers_, two.cluster_centers_)
    assert one.inertia_ == two.inertia_


def test_float32_stays_float32(blobs6):
    X, _ = blobs6
    m32 = BisectingKMeans(6, init="k-means++", random_state=0).fit(X.astype(np.float32))
    m64 = BisectingKMeans(6, init="k-means++", random_state=0).fit(X)
    assert m32.cluster_centers_.dtype == np.float32
    assert m32.transform(X.astype(np.float32)).dtype == np.float32
    assert m32.labels_.dtype == np.int64
    assert m32.inertia_ == pytest.approx(m64.inertia_, rel=1e-4)


def test_input_not_modified(blobs6):
    X, _ = blobs6
    X_copy = X.copy()
    BisectingKMeans(3, random_state=0).fit(X)
    np.testing.assert_array_equal(X, X_copy)


# -------------------------------------------------------------------- edge cases


def test_one_cluster():
    X, _ = make_blobs(n_samples=50, centers=2, random_state=0)
    model = BisectingKMeans(1).fit(X)
    assert np.all(model.labels_ == 0)
    np.testing.assert_allclose(model.cluster_centers_[0], X.mean(axis=0))
    assert np.all(model.predict(X) == 0)


def test_k_equals_n():
    X = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 9.0], [5.0, 5.0]])
    model = BisectingKMeans(4, random_state=0).fit(X)
    assert check_labels(model.labels_, 4) == 4
    assert model.inertia_ == 0.0
    np.testing.assert_array_equal(model.predict(X), model.labels_)


def test_duplicated_points_skip_unsplittable_leaves():
    # 30 copies of one row and 4 distinct rows: the copies cannot be split, the rest can
    X = np.vstack([np.zeros((30, 2)), [[10.0, 0.0], [11.0, 0.0], [0.0, 10.0], [0.0, 11.0]]])
    for strategy in ("biggest_inertia", "largest_cluster"):
        model = BisectingKMeans(4, bisecting_strategy=strategy, random_state=0).fit(X)
        assert check_labels(model.labels_, X.shape[0]) == 4
        assert np.bincount(model.labels_).max() == 30


# scikit-learn's estimator checks fit the default n_clusters=8 on 16 rows with 4 distinct values
FOUR_DISTINCT = np.repeat([[1.0, 3.0], [2.0, 1.0], [3.0, 3.0], [4.0, 1.0]], 4, axis=0)


@pytest.mark.parametrize("strategy", ["biggest_inertia", "largest_cluster"])
@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_fewer_distinct_rows_than_clusters_like_sklearn(strategy, init):
    params = dict(init=init, bisecting_strategy=strategy, random_state=0)
    ref = SkBisectingKMeans(8, **params).fit(FOUR_DISTINCT)
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(4\) found smaller than"):
        ours = BisectingKMeans(8, **params).fit(FOUR_DISTINCT)
    # the same four groups, eight centers (the extra ones repeat a group's center), zero inertia
    assert same_partition(ours.labels_, ref.labels_)
    assert ours.cluster_centers_.shape == ref.cluster_centers_.shape == (8, 2)
    assert (
        np.unique(ours.cluster_centers_, axis=0).tolist()
        == np.unique(FOUR_DISTINCT, axis=0).tolist()
    )
    assert ours.inertia_ == ref.inertia_ == 0.0
    np.testing.assert_array_equal(ours.predict(FOUR_DISTINCT), ours.labels_)
    # the repeated centers are the empty leaves, never predicted (ties go left, as in sklearn)
    np.testing.assert_array_equal(
        np.sort(np.bincount(ours.labels_, minlength=8)), [0] * 4 + [4] * 4
    )
    np.testing.assert_array_equal(
        np.sort(np.bincount(ref.labels_, minlength=8)),
        np.sort(np.bincount(ours.labels_, minlength=8)),
    )


def test_sample_weight_checks_with_default_clusters():
    # the two estimator checks that failed with n_clusters=8 (scikit-learn passes both)
    from sklearn.utils.estimator_checks import (
        check_sample_weights_not_overwritten,
        check_sample_weights_shape,
    )

    for check in (check_sample_weights_shape, check_sample_weights_not_overwritten):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            check("BisectingKMeans", BisectingKMeans())
            check("BisectingKMeans", SkBisectingKMeans())


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), ValueError, "infinity"),
        (np.empty((0, 2)), ValueError, "0 sample"),
        (np.arange(5.0), ValueError, "2D array"),
        ("data.csv", TypeError, "X must be a 2-D array-like"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError, "X must contain only"),
    ],
)
def test_bad_input(X, error, match):
    with pytest.raises(error, match=match):
        BisectingKMeans(1).fit(X)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_clusters": 0}, r"n_clusters must be an int in \[1, inf\); got 0"),
        ({"bisecting_strategy": "largest"}, r"bisecting_strategy must be one of"),
        ({"init": np.zeros((2, 2))}, r"init must be one of \{'k-means\+\+', 'random'\} or"),
        ({"n_init": "auto"}, r"n_init must be an int in \[1, inf\); got 'auto'"),
        ({"algorithm": "full"}, r"algorithm must be one of .*; got 'full'"),
        ({"n_jobs": 0}, r"n_jobs must be .*; got 0"),
    ],
)
def test_bad_params(blobs6, params, match):
    with pytest.raises(ValueError, match=match):
        BisectingKMeans(**params).fit(blobs6[0])


def test_more_clusters_than_samples():
    with pytest.raises(ValueError, match=r"n_clusters must be an int in \[1, n_samples=3\]; got 4"):
        BisectingKMeans(4).fit(np.eye(3))


def test_bad_sample_weight(blobs6):
    X, _ = blobs6
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        BisectingKMeans(2).fit(X, sample_weight=-np.ones(X.shape[0]))


# ------------------------------------------------------------- hypothesis: any small input


@st.composite
def _small_problem(draw):
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 3))
    values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
    # rounded, so that distinct rows are also distinct in squared distance (1e-200 and 0 are
    # not: 1e-400 underflows to 0; that case is the documented error)
    X = np.round(draw(hnp.arrays(np.float64, (n, d), elements=values)), 3)
    k = draw(st.integers(1, n))
    return X, k


@settings(max_examples=25, deadline=None)
@given(
    problem=_small_problem(),
    strategy=st.sampled_from(["biggest_inertia", "largest_cluster"]),
    seed=st.integers(0, 3),
)
def test_any_small_input_gives_a_tree(problem, strategy, seed):
    X, k = problem
    model = BisectingKMeans(k, bisecting_strategy=strategy, random_state=seed)
    n_distinct = np.unique(X, axis=0).shape[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X)
    # as many non-empty clusters as distinct rows allow; a warning exactly when fewer than k
    assert len(np.unique(model.labels_)) == min(k, n_distinct)
    assert model.cluster_centers_.shape == (k, X.shape[1])
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught) == (n_distinct < k)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert 0.0 <= model.inertia_ < np.inf


def test_inertia_per_cluster_in_blocks(monkeypatch):
    from clusterlab.cluster import bisecting

    monkeypatch.setattr(bisecting, "BLOCK_ROWS", 7)  # several blocks, the last one partial
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    w = rng.uniform(0, 2, 50)
    centers = rng.normal(size=(2, 3))
    labels = rng.integers(0, 2, 50)
    expected = [
        np.sum(w[labels == c] * ((X[labels == c] - centers[c]) ** 2).sum(1)) for c in (0, 1)
    ]
    np.testing.assert_allclose(
        bisecting._inertia_per_cluster(X, w, centers, labels), expected, rtol=1e-12
    )


def test_rows_closer_than_squared_distances_resolve():
    # 0 and 1e-200 cannot be told apart in squared distance: two groups, the third leaf empty
    X = np.array([[0.0], [1e-200], [5.0]])
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(2\) found smaller"):
        model = BisectingKMeans(3, random_state=0).fit(X)
    assert model.labels_[0] == model.labels_[1] != model.labels_[2]
    np.testing.assert_array_equal(model.predict(X), model.labels_)
