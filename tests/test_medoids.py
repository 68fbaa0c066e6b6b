"""KMedoids: python-kmedoids' loss from the same medoids, PAM / FasterPAM optimality on small data,
the on-the-fly path equal to the matrix path, CLARA, metrics, inputs and errors."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import pairwise_distances

from clusterlab import GowerDistance, KMedoids, config_context
from tests.checks import check_labels


@pytest.fixture(scope="module")
def blobs6():
    X, y = make_blobs(n_samples=400, n_features=4, centers=6, cluster_std=2.0, random_state=3)
    return X, y


def _loss(D, medoids):
    return D[:, medoids].min(axis=1).sum()


def _optimum(D, k):
    """Exhaustive k-medoids optimum of a small distance matrix."""
    return min(_loss(D, list(c)) for c in itertools.combinations(range(len(D)), k))


# -- references --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_fasterpam_equals_python_kmedoids_from_same_medoids(blobs6, seed):
    kmedoids = pytest.importorskip("kmedoids")
    X, _ = blobs6
    D = pairwise_distances(X)
    init = np.random.default_rng(seed).choice(len(X), 6, replace=False)
    ref = kmedoids.fasterpam(D, init.copy(), max_iter=100, n_cpu=1)
    ours = KMedoids(6, init=init).fit(X)
    assert ours.inertia_ == pytest.approx(float(ref.loss), rel=1e-12)
    assert sorted(ours.medoid_indices_) == sorted(int(m) for m in ref.medoids)


def test_pam_equals_python_kmedoids_pam(blobs6):
    kmedoids = pytest.importorskip("kmedoids")
    X, _ = blobs6
    D = pairwise_distances(X)
    ref = kmedoids.pam(D, 6, max_iter=100)
    ours = KMedoids(6, method="pam").fit(X)
    assert ours.inertia_ == pytest.approx(float(ref.loss), rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_fasterpam_and_pam_find_the_optimum_on_small_data(seed):
    X, _ = make_blobs(n_samples=14, centers=3, cluster_std=1.0, random_state=seed)
    D = pairwise_distances(X)
    best = _optimum(D, 3)
    for method in ("fasterpam", "pam"):
        km = KMedoids(3, method=method).fit(X)
        assert km.inertia_ == pytest.approx(best, rel=1e-12), method
        assert km.inertia_ == pytest.approx(_loss(D, km.medoid_indices_), rel=1e-12)
    fast = KMedoids(3, method="fasterpam", init="random", random_state=seed).fit(X)
    assert fast.inertia_ == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("method", ["fasterpam", "pam", "alternate"])
def test_loss_never_increases_with_more_iterations(blobs6, method):
    X, _ = blobs6
    init = np.arange(6) * 7
    previous = _loss(pairwise_distances(X), init)
    for max_iter in (1, 2, 3, 5, 300):
        km = KMedoids(6, init=init, method=method, max_iter=max_iter).fit(X)
        assert km.inertia_ <= previous * (1 + 1e-12)
        previous = km.inertia_


def test_alternate_reaches_a_fixed_point(blobs6):
    X, _ = blobs6
    km = KMedoids(6, method="alternate", init="k-medoids++", random_state=0).fit(X)
    D = pairwise_distances(X)
    for s, m in enumerate(km.medoid_indices_):
        members = np.flatnonzero(km.labels_ == s)
        costs = D[np.ix_(members, members)].sum(axis=0)
        assert costs[members.tolist().index(m)] == pytest.approx(costs.min(), rel=1e-12)


def test_build_is_greedy_optimal_first_medoid(blobs6):
    X, _ = blobs6
    D = pairwise_distances(X)
    km = KMedoids(1, max_iter=1).fit(X)
    assert km.medoid_indices_[0] == np.argmin(D.sum(axis=0))
    assert km.inertia_ == pytest.approx(D.sum(axis=0).min(), rel=1e-12)


# -- paths that must agree ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fasterpam", "pam", "alternate"])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine", "chebyshev"])
def test_on_the_fly_equals_matrix(blobs6, method, metric):
    X, _ = blobs6
    full = KMedoids(6, metric=metric, method=method).fit(X)
    with config_context(memory_budget=0.5):  # 400 x 400 float64 is 1.2 MiB: over the budget
        fly = KMedoids(6, metric=metric, method=method).fit(X)
    assert np.array_equal(full.medoid_indices_, fly.medoid_indices_)
    assert np.array_equal(full.labels_, fly.labels_)
    assert full.inertia_ == fly.inertia_


def test_precomputed_and_callable_equal_builtin(blobs6):
    X, _ = blobs6
    ref = KMedoids(6, metric="manhattan").fit(X)
    D = pairwise_distances(X, metric="manhattan")
    pre = KMedoids(6, metric="precomputed").fit(D)
    assert np.array_equal(pre.medoid_indices_, ref.medoid_indices_)
    assert pre.cluster_centers_ is None
    assert np.array_equal(pre.predict(D), ref.labels_)
    call = KMedoids(6, metric=lambda A, B: pairwise_distances(A, B, metric="manhattan")).fit(X)
    assert np.array_equal(call.medoid_indices_, ref.medoid_indices_)
    assert np.array_equal(call.predict(X), ref.labels_)


@pytest.mark.parametrize("method", ["fasterpam", "pam", "alternate", "clara"])
@pytest.mark.parametrize("init", ["build", "lab", "k-medoids++", "random"])
def test_threads_do_not_change_the_result(blobs6, method, init):
    X, _ = blobs6
    fits = [
        KMedoids(6, method=method, init=init, random_state=5, n_jobs=j, sample_size=150).fit(X)
        for j in (1, 2)
    ]
    assert np.array_equal(fits[0].medoid_indices_, fits[1].medoid_indices_)
    assert fits[0].inertia_ == fits[1].inertia_


def test_predict_training_rows_returns_labels(blobs6):
    X, _ = blobs6
    for method in ("fasterpam", "clara"):
        km = KMedoids(6, method=method, random_state=0, sample_size=100).fit(X)
        assert np.array_equal(km.predict(X), km.labels_)
        check_labels(km.labels_, len(X))
        assert np.allclose(km.cluster_centers_, X[km.medoid_indices_])


def test_float32_stays_float32(blobs6):
    X = blobs6[0].astype(np.float32)
    km = KMedoids(6).fit(X)
    assert km.cluster_centers_.dtype == np.float32
    assert km.transform(X).dtype == np.float32
    assert np.array_equal(km.predict(X), km.labels_)


def test_recovers_blobs(blobs):
    from sklearn.metrics import adjusted_rand_score

    X, y = blobs
    assert adjusted_rand_score(y, KMedoids(3).fit(X).labels_) > 0.98


# -- CLARA ------------------------------------------------------------------------------------


def test_clara_near_fasterpam_and_linear_in_memory():
    X, _ = make_blobs(n_samples=3000, n_features=5, centers=8, cluster_std=1.5, random_state=0)
    full = KMedoids(8, random_state=0).fit(X)
    clara = KMedoids(8, method="clara", sample_size=1000, random_state=0).fit(X)
    assert clara.inertia_ <= 1.02 * full.inertia_
    assert np.array_equal(clara.predict(X), clara.labels_)
    with config_context(memory_budget=1):  # under 1 MiB: samples' distances on the fly too
        small = KMedoids(8, method="clara", sample_size=1000, random_state=0).fit(X)
    assert np.array_equal(small.medoid_indices_, clara.medoid_indices_)


def test_clara_with_the_whole_data_as_sample_is_fasterpam(blobs6):
    X, _ = blobs6
    assert KMedoids(6, method="clara").fit(X).inertia_ == pytest.approx(
        KMedoids(6).fit(X).inertia_, rel=1e-12
    )


# -- Gower -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_frame():
    rng = np.random.default_rng(1)
    n = 300
    g = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "spend": rng.normal(size=n) + 4 * g,
            "visits": rng.poisson(2 + 6 * g).astype(float),
            "channel": np.where(rng.random(n) < 0.9, np.array(["web", "shop", "phone"])[g], "web"),
            "member": rng.random(n) < 0.1 + 0.4 * g,
        }
    ), g


def test_gower_metric_equals_precomputed_gower(mixed_frame):
    X, g = mixed_frame
    km = KMedoids(3, metric="gower").fit(X)
    D = GowerDistance().fit_transform(X)
    pre = KMedoids(3, metric="precomputed").fit(D)
    assert np.array_equal(km.medoid_indices_, pre.medoid_indices_)
    assert km.inertia_ == pytest.approx(pre.inertia_, rel=1e-6)
    assert km.cluster_centers_.shape == (3, 4)
    assert km.cluster_centers_[0, 2] in {"web", "shop", "phone"}
    assert np.array_equal(km.predict(X), km.labels_)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(g, km.labels_) > 0.5


def test_gower_options_through_a_gower_distance(mixed_frame):
    X, _ = mixed_frame
    heavy = KMedoids(3, metric=GowerDistance(weights=[1, 1, 10, 1])).fit(X)
    # the channel then dominates: every cluster is one channel
    for s in range(3):
        assert X["channel"][heavy.labels_ == s].nunique() == 1


def test_gower_missing_values_and_new_categories(mixed_frame):
    X, _ = mixed_frame
    Xm = X.copy()
    Xm.loc[::7, "spend"] = np.nan
    Xm.loc[::5, "channel"] = None
    km = KMedoids(3, metric="gower").fit(Xm)
    new = X.iloc[:4].copy()
    new["channel"] = ["fax", "fax", "web", "mail"]
    labels = km.predict(new)
    assert labels.shape == (4,)
    assert np.array_equal(km.predict(Xm), km.labels_)


# -- errors -----------------------------------------------------------------------------------


def test_precomputed_must_be_square_symmetric_non_negative():
    with pytest.raises(ValueError, match=r"X must be a square distance matrix .* \(2, 3\)"):
        KMedoids(1, metric="precomputed").fit(np.zeros((2, 3)))
    D = np.array([[0.0, 1.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match=r"X must be symmetric .* D\[0, 1\] = 1.0 but D\[1, 0\]"):
        KMedoids(1, metric="precomputed").fit(D)
    with pytest.raises(ValueError, match=r"non-negative distances; got D\[0, 1\] = -1.0"):
        KMedoids(1, metric="precomputed").fit(-np.ones((2, 2)) + np.eye(2))


def test_callable_over_the_budget_names_clara(blobs6):
    X, _ = blobs6
    with config_context(memory_budget=0.5), pytest.raises(MemoryError, match="method='clara'"):
        KMedoids(3, metric=pairwise_distances).fit(X)
    with config_context(memory_budget=0.5):
        km = KMedoids(3, method="clara", sample_size=100, metric=pairwise_distances)
        assert np.array_equal(km.fit(X).predict(X), km.labels_)


def test_bad_init_and_parameters(blobs6):
    X, _ = blobs6
    with pytest.raises(ValueError, match=r"init must hold distinct row indices in \[0, 399\]"):
        KMedoids(2, init=[0, 0]).fit(X)
    with pytest.raises(ValueError, match="init as an array must hold n_clusters=2 row indices"):
        KMedoids(2, init=[0.5, 1.5]).fit(X)
    with pytest.raises(ValueError, match="KMedoids: method must be one of"):
        KMedoids(2, method="clarans").fit(X)
    with pytest.raises(ValueError, match="KMedoids: metric must be one of"):
        KMedoids(2, metric="hamming").fit(X)
    with pytest.raises(ValueError, match=r"number of rows of positive weight \(1\)"):
        KMedoids(2).fit(X, sample_weight=np.r_[1.0, np.zeros(len(X) - 1)])


def test_zero_weight_rows_are_never_medoids(blobs6):
    X, _ = blobs6
    w = np.ones(len(X))
    w[::2] = 0
    for method in ("fasterpam", "pam", "alternate", "clara"):
        for init in ("build", "lab", "k-medoids++", "random"):
            km = KMedoids(6, method=method, init=init, random_state=0, sample_size=100)
            km.fit(X, sample_weight=w)
            assert np.all(w[km.medoid_indices_] > 0), (method, init)
