"""HDBSCAN estimator: exact agreement with scikit-learn, invariances, edge cases, results objects.

The mutual reachability distance ``max(core_i, core_j, d_ij)`` ties whenever a core distance
dominates, and scikit-learn's own labels then depend on how its unstable sort orders equal
weights. With ``min_samples <= 2`` there are no such ties (given data without equal distances),
so labels must agree exactly; with larger ``min_samples`` the spanning-tree weights must agree
exactly and the labels up to those ties.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import HDBSCAN as SKHDBSCAN
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab.cluster.hdbscan import HDBSCAN
from tests.checks import check_labels, same_partition

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "clustering-benchmarks"
if not DATA.exists():  # a worktree sits one level deeper than a clone
    DATA = Path("/work/shared/data/clustering-benchmarks")

REAL = ["sipu/aggregation", "sipu/compound", "fcps/lsun", "fcps/target", "other/hdbscan"]


def _load(name: str) -> np.ndarray:
    with gzip.open(DATA / f"{name}.data.gz", "rt") as fh:
        X = np.loadtxt(fh, ndmin=2)
    # the benchmark data sit on grids: jitter by 1e-6 sd to remove exact distance ties
    rng = np.random.default_rng(0)
    return X + rng.normal(scale=1e-6 * X.std(), size=X.shape)


def _sklearn(X, **params):
    return SKHDBSCAN(copy=True, **params).fit(X)


@pytest.fixture(scope="module")
def noisy_blobs():
    rng = np.random.default_rng(0)
    X, _ = make_blobs(1500, centers=5, cluster_std=0.8, random_state=1)
    return np.vstack([X, rng.uniform(-12, 12, size=(150, 2))])


@pytest.fixture(scope="module")
def fitted(noisy_blobs):
    return HDBSCAN(min_cluster_size=15, min_samples=5).fit(noisy_blobs)


# ----------------------------------------------------------------------------------------------
# scikit-learn contract
# ----------------------------------------------------------------------------------------------
@parametrize_with_checks([HDBSCAN()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ----------------------------------------------------------------------------------------------
# agreement with scikit-learn
# ----------------------------------------------------------------------------------------------
OPTIONS = [
    {},
    {"cluster_selection_method": "leaf"},
    {"allow_single_cluster": True},
    {"allow_single_cluster": True, "cluster_selection_method": "leaf"},
    {"min_cluster_size": 25},
    {"max_cluster_size": 60},
    {"alpha": 0.7},
    {"metric": "manhattan"},
    {"metric": "chebyshev"},
]


@pytest.mark.parametrize("name", REAL)
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_labels_equal_scikit_learn_on_real_data(name, options):
    X = _load(name)
    params = {"min_cluster_size": 10, "min_samples": 2, **options}
    ours = HDBSCAN(**params).fit(X)
    ref = _sklearn(X, **params)
    np.testing.assert_array_equal(ours.labels_ == -1, ref.labels_ == -1)
    assert same_partition(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.probabilities_, ref.probabilities_, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
@pytest.mark.parametrize("min_samples", [1, 2])
def test_labels_equal_scikit_learn_on_random_data(noisy_blobs, algorithm, min_samples):
    for options in OPTIONS:
        params = {"min_cluster_size": 12, "min_samples": min_samples, **options}
        ours = HDBSCAN(algorithm=algorithm, **params).fit(noisy_blobs)
        ref = _sklearn(noisy_blobs, **params)
        assert same_partition(ours.labels_, ref.labels_), options


@pytest.mark.parametrize("name", ["sipu/compound", "other/chameleon_t7_10k"])
@pytest.mark.parametrize("min_samples", [5, 15])
def test_tied_mutual_reachability_same_tree_weights(name, min_samples):
    X = _load(name)
    ours = HDBSCAN(min_cluster_size=15, min_samples=min_samples).fit(X)
    ref = _sklearn(X, min_cluster_size=15, min_samples=min_samples)
    np.testing.assert_allclose(
        ours.single_linkage_tree_.distance,
        np.sort(ref._single_linkage_tree_["value"]),
        rtol=1e-12,
    )
    assert adjusted_rand_score(ours.labels_, ref.labels_) >= 0.98


def test_dbscan_clustering_equals_scikit_learn(noisy_blobs):
    ours = HDBSCAN(min_cluster_size=10, min_samples=2).fit(noisy_blobs)
    ref = _sklearn(noisy_blobs, min_cluster_size=10, min_samples=2)
    for cut in (0.2, 0.5, 1.0):
        a = ours.dbscan_clustering(cut, min_cluster_size=5)
        b = ref.dbscan_clustering(cut, min_cluster_size=5)
        np.testing.assert_array_equal(a == -1, b == -1)
        assert same_partition(a, b)
        check_labels(a, noisy_blobs.shape[0], allow_noise=True)


# ----------------------------------------------------------------------------------------------
# agreement with the hdbscan library (outlier scores, persistence, prediction)
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference_library():
    return pytest.importorskip("hdbscan", reason="the hdbscan library is the reference for GLOSH")


def test_glosh_and_persistence_equal_hdbscan_library(noisy_blobs, reference_library):
    # hdbscan's min_samples does not count the point itself: its 1 is our 2
    ours = HDBSCAN(min_cluster_size=15, min_samples=2).fit(noisy_blobs)
    ref = reference_library.HDBSCAN(min_cluster_size=15, min_samples=1).fit(noisy_blobs)
    assert same_partition(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.outlier_scores_, ref.outlier_scores_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        np.sort(ours.cluster_persistence_), np.sort(ref.cluster_persistence_), rtol=1e-5
    )


def test_prediction_kernels_equal_hdbscan_library(noisy_blobs, reference_library):
    """Fed hdbscan's own neighbours and core distances, the kernels reproduce its results."""
    from clusterlab.kernels import hdbscan_predict as hp

    m = 3
    ref = reference_library.HDBSCAN(min_cluster_size=15, min_samples=m, prediction_data=True)
    ref.fit(noisy_blobs)
    ours = HDBSCAN(min_cluster_size=15, min_samples=m + 1).fit(noisy_blobs)
    # same clustering (up to ties) is not what is tested here: rebuild ours on hdbscan's tree
    raw = ref.condensed_tree_._raw_tree
    tree = (
        raw["parent"].astype(np.int64),
        raw["child"].astype(np.int64),
        raw["lambda_val"].astype(np.float64),
        raw["child_size"].astype(np.int64),
    )
    from clusterlab.kernels import condensed_tree as ct

    n = noisy_blobs.shape[0]
    clusters = ct.cluster_arrays(tree, n)
    stab = ct.stabilities(tree, clusters, n)
    selected, _ = ct.select_clusters(stab, clusters, False, False, 0.0, 0)
    labels, _, label_of_cluster = ct.label_points(tree, n, clusters, selected, False, 0.0)
    np.testing.assert_array_equal(labels, ref.labels_)
    point_cluster, point_lambda = hp.point_rows(tree, n)
    X_new = np.random.default_rng(3).uniform(-12, 12, size=(300, 2))
    pd = ref.prediction_data_
    dist, ind = pd.tree.query(X_new, k=2 * m)
    # hdbscan takes the new point's core distance at index m: our min_samples - 1
    nearest, lam, settled = hp.attach_points(ind.astype(np.int64), dist, pd.core_distances, m + 1)
    assert settled.mean() > 0.5
    got_labels, got_probs = hp.approximate_predict(
        nearest,
        lam,
        point_cluster,
        point_lambda,
        clusters,
        label_of_cluster,
    )
    want_labels, want_probs = reference_library.approximate_predict(ref, X_new)
    np.testing.assert_array_equal(got_labels, want_labels)
    np.testing.assert_allclose(got_probs, want_probs, rtol=1e-12)
    order, offsets = hp.exemplars(
        point_cluster, point_lambda, clusters, label_of_cluster, int(selected.sum())
    )
    got = hp.membership_vectors(
        X_new,
        noisy_blobs,
        nearest,
        lam,
        point_cluster,
        point_lambda,
        clusters,
        np.flatnonzero(selected).astype(np.int64),
        order,
        offsets,
        2.0,
    )
    want = reference_library.membership_vector(ref, X_new)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    del ours


# ----------------------------------------------------------------------------------------------
# prediction and soft clustering
# ----------------------------------------------------------------------------------------------
def test_training_points_predict_their_own_labels(fitted, noisy_blobs):
    labels, probs = fitted.approximate_predict(noisy_blobs, return_probabilities=True)
    np.testing.assert_array_equal(labels, fitted.labels_)
    assert np.all((probs > 0) == (labels >= 0))
    np.testing.assert_array_equal(fitted.predict(noisy_blobs), fitted.labels_)


def test_predict_far_points_are_noise_and_centres_are_clustered(fitted, noisy_blobs):
    far = np.array([[100.0, 100.0], [-80.0, 40.0]])
    np.testing.assert_array_equal(fitted.predict(far), [-1, -1])
    centres = np.array(
        [noisy_blobs[fitted.labels_ == k].mean(axis=0) for k in range(fitted.n_clusters_)]
    )
    labels, probs = fitted.predict(centres, return_probabilities=True)
    np.testing.assert_array_equal(labels, np.arange(fitted.n_clusters_))
    assert np.all(probs > 0.5)


def test_membership_vector_rows(fitted):
    X_new = np.random.default_rng(1).uniform(-12, 12, size=(200, 2))
    mv = fitted.membership_vector(X_new)
    assert mv.shape == (200, fitted.n_clusters_)
    assert np.all(mv >= 0)
    assert np.all(mv.sum(axis=1) <= 1 + 1e-9)
    hard = fitted.predict(X_new)
    clustered = hard >= 0
    # the strongest soft membership is the hard label for most clustered points
    assert np.mean(mv[clustered].argmax(axis=1) == hard[clustered]) > 0.9


def test_prediction_before_fit_and_wrong_width(fitted):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        HDBSCAN().predict([[0.0, 0.0]])
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.zeros((3, 5)))


# ----------------------------------------------------------------------------------------------
# invariances
# ----------------------------------------------------------------------------------------------
def test_row_permutation_translation_and_scale(noisy_blobs):
    params = {"min_cluster_size": 12, "min_samples": 2}
    base = HDBSCAN(**params).fit(noisy_blobs).labels_
    perm = np.random.default_rng(4).permutation(noisy_blobs.shape[0])
    permuted = HDBSCAN(**params).fit(noisy_blobs[perm]).labels_
    assert same_partition(permuted, base[perm])
    moved = HDBSCAN(**params).fit(noisy_blobs + 1000.0).labels_
    assert same_partition(moved, base)
    scaled = HDBSCAN(**params).fit(noisy_blobs * 8.0).labels_
    assert same_partition(scaled, base)


def test_thread_count_does_not_change_anything(noisy_blobs):
    one = HDBSCAN(min_cluster_size=15, n_jobs=1).fit(noisy_blobs)
    two = HDBSCAN(min_cluster_size=15, n_jobs=2).fit(noisy_blobs)
    np.testing.assert_array_equal(one.labels_, two.labels_)
    np.testing.assert_array_equal(one.probabilities_, two.probabilities_)
    np.testing.assert_array_equal(one.outlier_scores_, two.outlier_scores_)


def test_float32_stays_close(noisy_blobs):
    ours = HDBSCAN(min_cluster_size=15, min_samples=2).fit(noisy_blobs.astype(np.float32))
    ref = HDBSCAN(min_cluster_size=15, min_samples=2).fit(noisy_blobs)
    assert adjusted_rand_score(ours.labels_, ref.labels_) > 0.99
    assert ours.predict(noisy_blobs[:5].astype(np.float32)).dtype == np.int64


def test_duplicated_points_share_labels():
    rng = np.random.default_rng(2)
    base = np.vstack([rng.normal(0, 0.3, (60, 2)), rng.normal(4, 0.3, (60, 2))])
    X = np.repeat(base, 3, axis=0)
    labels = HDBSCAN(min_cluster_size=10).fit(X).labels_
    assert np.all(labels.reshape(-1, 3) == labels[::3, None])
    assert check_labels(labels, X.shape[0], allow_noise=True) == 2


# ----------------------------------------------------------------------------------------------
# edge cases and errors
# ----------------------------------------------------------------------------------------------
def test_attributes_and_contract(fitted, noisy_blobs):
    n = noisy_blobs.shape[0]
    k = check_labels(fitted.labels_, n, allow_noise=True)
    assert k == fitted.n_clusters_ == fitted.cluster_persistence_.size
    assert np.all((fitted.probabilities_ == 0) == (fitted.labels_ == -1))
    assert np.all((fitted.outlier_scores_ >= 0) & (fitted.outlier_scores_ <= 1))
    # noise is more outlying than the clustered points on average
    noise = fitted.labels_ == -1
    assert fitted.outlier_scores_[noise].mean() > fitted.outlier_scores_[~noise].mean()
    assert fitted.core_distances_.shape == (n,)


def test_all_noise_and_single_cluster():
    X = np.random.default_rng(0).uniform(size=(200, 2))
    labels = HDBSCAN(min_cluster_size=150).fit(X).labels_
    assert np.all(labels == -1)
    one = HDBSCAN(min_cluster_size=150, allow_single_cluster=True).fit(X)
    assert one.n_clusters_ == 1
    assert check_labels(one.labels_, 200, allow_noise=True) == 1
    ref = _sklearn(X, min_cluster_size=150, allow_single_cluster=True)
    np.testing.assert_array_equal(one.labels_, ref.labels_)
    mv = HDBSCAN(min_cluster_size=150).fit(X).membership_vector(X[:3])
    assert mv.shape == (3, 0)


def test_min_samples_larger_than_n_and_tiny_inputs():
    X = np.random.default_rng(0).normal(size=(4, 2))
    with pytest.raises(ValueError, match=r"min_samples must be at most n_samples=4; got 5"):
        HDBSCAN().fit(X)
    with pytest.raises(ValueError, match="at least 2 samples"):
        HDBSCAN(min_samples=1).fit(X[:1])
    labels = HDBSCAN(min_cluster_size=2, min_samples=2).fit(X).labels_
    check_labels(labels, 4, allow_noise=True)


def test_nan_is_a_clear_error():
    X = np.random.default_rng(0).normal(size=(20, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        HDBSCAN().fit(X)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_cluster_size": 1}, r"min_cluster_size must be an int in \[2, inf\); got 1"),
        ({"min_samples": 0}, r"min_samples must be an int in \[1, inf\) or None; got 0"),
        ({"cluster_selection_method": "best"}, "cluster_selection_method must be one of"),
        ({"cluster_selection_epsilon": -1.0}, "cluster_selection_epsilon must be a number"),
        ({"alpha": 0.0}, r"alpha must be a number in \(0, inf\); got 0.0"),
        ({"metric": "cityblock"}, "metric must be one of"),
        ({"max_cluster_size": 0}, "max_cluster_size must be an int"),
    ],
)
def test_parameter_errors(params, message):
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match=message):
        HDBSCAN(**params).fit(X)


def test_dbscan_clustering_errors(fitted):
    with pytest.raises(ValueError, match=r"cut_distance must be a number in \(0, inf\); got -1"):
        fitted.dbscan_clustering(-1)
    with pytest.raises(ValueError, match=r"min_cluster_size must be an int in \[1, inf\); got 0"):
        fitted.dbscan_clustering(0.5, min_cluster_size=0)


def test_user_data_is_not_modified(noisy_blobs):
    X = noisy_blobs.copy()
    model = HDBSCAN(min_cluster_size=15).fit(X)
    model.predict(X[:10])
    model.membership_vector(X[:10])
    np.testing.assert_array_equal(X, noisy_blobs)


# ----------------------------------------------------------------------------------------------
# result objects
# ----------------------------------------------------------------------------------------------
def test_condensed_tree_object(fitted, noisy_blobs):
    tree = fitted.condensed_tree_
    frame = tree.to_pandas()
    assert list(frame.columns) == ["parent", "child", "lambda_val", "child_size"]
    assert len(frame) == len(tree) >= noisy_blobs.shape[0]
    assert sorted(frame.loc[frame.child < tree.n_points, "child"]) == list(range(tree.n_points))
    assert tree.to_numpy().dtype.names == ("parent", "child", "lambda_val", "child_size")
    assert tree.selected_clusters.size == fitted.n_clusters_
    assert "CondensedTree" in repr(tree)
    ax = tree.plot().axes[0]
    assert ax.get_ylabel().startswith("λ = 1 / distance")
    assert len(ax.collections[0].get_paths()) > fitted.n_clusters_  # the icicle's steps
    assert len(ax.patches) == fitted.n_clusters_  # an outline per selected cluster


def test_single_linkage_tree_object(fitted, noisy_blobs):
    slt = fitted.single_linkage_tree_
    Z = slt.to_numpy()
    assert Z.shape == (noisy_blobs.shape[0] - 1, 4)
    assert np.all(np.diff(Z[:, 2]) >= 0)
    assert Z[-1, 3] == noisy_blobs.shape[0]
    frame = slt.to_pandas()
    assert list(frame.columns) == ["parent", "left_child", "right_child", "distance", "size"]
    np.testing.assert_array_equal(slt.get_clusters(0.5, 5), fitted.dbscan_clustering(0.5))
    ax = slt.plot(p=20).axes[0]
    assert ax.get_ylabel() == "mutual reachability distance"
    assert len(ax.get_xticklabels()) == 20


def test_registered_in_package():
    import clusterlab

    assert clusterlab.HDBSCAN is HDBSCAN


@pytest.mark.parametrize("allow_single", [False, True])
def test_identical_points_match_scikit_learn(allow_single):
    # every distance is 0: lambdas are infinite, a corner scikit-learn handles in its own way
    X = np.zeros((30, 2))
    ours = HDBSCAN(allow_single_cluster=allow_single).fit(X)
    ref = _sklearn(X, allow_single_cluster=allow_single)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.probabilities_, ref.probabilities_)
    two = np.vstack([np.zeros((20, 2)), np.ones((20, 2))])
    model = HDBSCAN().fit(two)
    assert same_partition(model.labels_, _sklearn(two).labels_)
    np.testing.assert_array_equal(
        model.predict([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]),
        [model.labels_[0], model.labels_[-1], -1],
    )


def test_brute_and_kd_tree_predict_alike(noisy_blobs):
    params = {"min_cluster_size": 15, "min_samples": 2}
    tree = HDBSCAN(**params).fit(noisy_blobs)
    brute = HDBSCAN(algorithm="brute", **params).fit(noisy_blobs)
    X_new = np.random.default_rng(8).uniform(-12, 12, size=(300, 2))
    lt, pt = tree.predict(X_new, return_probabilities=True)
    lb, pb = brute.predict(X_new, return_probabilities=True)
    assert same_partition(np.r_[tree.labels_, lt], np.r_[brute.labels_, lb])
    np.testing.assert_allclose(pt, pb, rtol=1e-12)
    mt = tree.membership_vector(X_new)
    mb = brute.membership_vector(X_new)
    # the shape of each row does not depend on how clusters are numbered ...
    np.testing.assert_allclose(
        np.sort(mt / mt.sum(axis=1, keepdims=True), axis=1),
        np.sort(mb / mb.sum(axis=1, keepdims=True), axis=1),
        rtol=1e-9,
        atol=1e-12,
    )
    # ... its scale can: hdbscan's "probability of any cluster" takes the first of the clusters
    # tied at the deepest merge height, and the two fits number their clusters differently
    assert np.mean(np.isclose(mt.sum(axis=1), mb.sum(axis=1), rtol=1e-9)) > 0.8


def test_fitted_model_stores_plain_arrays_only(fitted, noisy_blobs):
    # pickles and model files must not depend on a kernel type (the kd-tree is a named tuple in
    # the kernels, a plain tuple of arrays on the estimator)
    import pickle

    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=sio.dumps(fitted))
    assert not [name for name in untrusted if name.startswith("clusterlab.kernels")]
    again = pickle.loads(pickle.dumps(fitted))
    Q = noisy_blobs[::7]
    np.testing.assert_array_equal(again.predict(Q), fitted.predict(Q))
    np.testing.assert_array_equal(again.membership_vector(Q), fitted.membership_vector(Q))
