"""SpectralClustering: agreement with scikit-learn on the same affinity, the Nystrom predict,
the disconnected-graph warning, embedding reuse and input errors."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import SpectralClustering as SkSpectralClustering
from sklearn.datasets import make_blobs
from sklearn.manifold import spectral_embedding as sk_spectral_embedding
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import kneighbors_graph

from clusterlab import SpectralClustering, config_context
from clusterlab.cluster.spectral import DisconnectedGraphWarning
from tests.checks import check_labels


@pytest.fixture(scope="module")
def four_blobs():
    """500 x 3, four blobs that touch: one connected kNN graph, distinct eigenvalues."""
    X, y = make_blobs(n_samples=500, n_features=3, centers=4, cluster_std=1.6, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def knn_affinity(four_blobs):
    C = kneighbors_graph(four_blobs[0], 15, include_self=True)
    return 0.5 * (C + C.T)


@pytest.fixture(scope="module")
def fitted(four_blobs):
    return SpectralClustering(4, n_components=8, random_state=0).fit(four_blobs[0])


@pytest.mark.parametrize("eigen_solver", ["arpack", "lobpcg", "amg"])
def test_same_embedding_as_sklearn_on_the_same_affinity(knn_affinity, eigen_solver):
    ref = sk_spectral_embedding(knn_affinity, n_components=4, drop_first=False, random_state=0)
    tol = "auto" if eigen_solver == "arpack" else 1e-8
    sc = SpectralClustering(
        4, affinity="precomputed", eigen_solver=eigen_solver, eigen_tol=tol, random_state=0
    ).fit(knn_affinity)
    assert sc.n_connected_components_ == 1
    atol = 1e-10 if eigen_solver == "arpack" else 1e-6 * np.abs(ref).max()
    np.testing.assert_allclose(sc.embedding_, ref, atol=atol)
    assert sc.eigenvalues_[0] == pytest.approx(0.0, abs=1e-8)
    assert np.all(np.diff(sc.eigenvalues_) >= -1e-12)


@pytest.mark.parametrize("assign_labels", ["kmeans", "discretize", "cluster_qr"])
def test_same_labels_as_sklearn_on_the_same_affinity(knn_affinity, assign_labels):
    params = {"affinity": "precomputed", "assign_labels": assign_labels, "random_state": 0}
    ours = SpectralClustering(4, **params).fit(knn_affinity)
    ref = SkSpectralClustering(4, **params).fit(knn_affinity)
    assert adjusted_rand_score(ours.labels_, ref.labels_) == 1.0
    check_labels(ours.labels_, knn_affinity.shape[0])


def test_nearest_neighbors_graph_is_sklearns(four_blobs):
    """The default affinity is scikit-learn's (C + C.T) / 2 with self-loops dropped."""
    X = four_blobs[0]
    sc = SpectralClustering(4, n_neighbors=12, random_state=0).fit(X)
    C = kneighbors_graph(X, 12, include_self=True)
    ref = (0.5 * (C + C.T)).toarray()
    np.fill_diagonal(ref, 0.0)
    np.testing.assert_array_equal(sc.affinity_matrix_.toarray(), ref)
    sk = SkSpectralClustering(4, affinity="nearest_neighbors", n_neighbors=12, random_state=0)
    assert adjusted_rand_score(sc.labels_, sk.fit(X).labels_) == 1.0


def test_precomputed_distances_equal_nearest_neighbors(four_blobs):
    from sklearn.metrics import pairwise_distances

    X = four_blobs[0]
    D = pairwise_distances(X)
    by_rows = SpectralClustering(4, random_state=0).fit(X)
    by_distances = SpectralClustering(
        4, affinity="precomputed_nearest_neighbors", random_state=0
    ).fit(D)
    assert adjusted_rand_score(by_rows.labels_, by_distances.labels_) == 1.0
    new = X[:50] + 0.01
    np.testing.assert_array_equal(
        by_distances.predict(pairwise_distances(new, X)), by_rows.predict(new)
    )


CONFIGS = [
    {"affinity": "nearest_neighbors"},
    {"affinity": "self_tuning"},
    {"affinity": "rbf", "gamma": 0.2},
    {"affinity": "nearest_neighbors", "assign_labels": "discretize"},
    {"affinity": "nearest_neighbors", "assign_labels": "cluster_qr"},
    {"n_landmarks": 60},
    {"n_landmarks": 60, "affinity": "self_tuning"},
    {"n_landmarks": 60, "affinity": "rbf", "gamma": 0.2},
]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: "-".join(map(str, p.values())))
def test_training_rows_predict_their_labels(four_blobs, params):
    X, y = four_blobs
    sc = SpectralClustering(4, random_state=0, **params).fit(X)
    assert adjusted_rand_score(y, sc.labels_) > 0.8
    np.testing.assert_array_equal(sc.predict(X), sc.labels_)
    # rows a hair away from the training rows go through the Nystrom extension, not the
    # exact-match shortcut, and land in the same clusters
    jittered = X + 1e-9 * np.random.default_rng(0).standard_normal(X.shape)
    assert np.mean(sc.predict(jittered) == sc.labels_) > 0.99


@pytest.mark.parametrize("affinity", ["nearest_neighbors", "self_tuning", "rbf"])
def test_nystrom_extension_of_training_affinities_is_the_embedding(four_blobs, affinity):
    """Extended from its own row of affinities, a training row gets its own embedding back
    (the eigenvector equation): the extension is consistent with the fit."""
    X = four_blobs[0]
    sc = SpectralClustering(4, affinity=affinity, gamma=0.2, random_state=0).fit(X)
    extended, lonely = sc._nystrom(sc.affinity_matrix_)
    assert not lonely.any()
    np.testing.assert_allclose(extended, sc.embedding_, atol=1e-9 * np.abs(sc.embedding_).max())


def test_a_new_row_gets_the_affinities_it_would_have_in_the_graph(four_blobs):
    """The affinities of a new row to the training rows are its row of the graph built with
    it: its nearest neighbours and the rows whose neighbourhood it enters."""
    X = four_blobs[0]
    sc = SpectralClustering(4, n_neighbors=10, random_state=0).fit(X)
    rng = np.random.default_rng(2)
    for x in X[rng.choice(len(X), 20, replace=False)] + rng.normal(0, 0.3, (20, 3)):
        with_it = SpectralClustering(4, n_neighbors=10, random_state=0).fit(np.vstack([X, x]))
        expected = with_it.affinity_matrix_[len(X), : len(X)].toarray()
        np.testing.assert_array_equal(sc._affinity_state.rows(x[None]).toarray(), expected)


def test_new_points_are_labelled_like_their_blob(four_blobs):
    X, y = four_blobs
    sc = SpectralClustering(4, random_state=0).fit(X)
    X_new, y_new = make_blobs(
        n_samples=200, n_features=3, centers=4, cluster_std=1.0, random_state=0
    )
    # same centers (same random_state), tighter: the labels of new points follow their blobs
    # as closely as the fitted labels do
    assert adjusted_rand_score(y_new, sc.predict(X_new)) >= adjusted_rand_score(y, sc.labels_)


def test_disconnected_graph_warning_names_the_components():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 1, (40, 2)) for c in (0, 50, 100)])
    with pytest.warns(DisconnectedGraphWarning, match=r"has 3 connected components.*n_neighbors"):
        sc = SpectralClustering(2, n_neighbors=5, random_state=0).fit(X)
    assert sc.n_connected_components_ == 3
    check_labels(sc.labels_, len(X))


def test_a_disconnected_graph_has_the_spectrum_of_the_whole_laplacian():
    """Each component's eigenvalue 0 is taken as known and only the eigenpairs that can enter
    the smallest ``n_components`` are solved: the result is still the whole graph's spectrum."""
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(c, 1, (n, 2)) for c, n in ((0, 90), (50, 70), (100, 50))])
    with pytest.warns(DisconnectedGraphWarning, match="has 3 connected components"):
        sc = SpectralClustering(3, n_components=7, random_state=0).fit(X)
    A = sc.affinity_matrix_.toarray()
    degree = A.sum(axis=1)
    L = np.eye(len(X)) - A / np.sqrt(np.outer(degree, degree))
    np.testing.assert_allclose(sc.eigenvalues_, np.linalg.eigvalsh(L)[:7], atol=1e-8)
    V = sc.embedding_ * np.sqrt(degree)[:, None]  # back to eigenvectors of L
    np.testing.assert_allclose(L @ V, V * sc.eigenvalues_, atol=1e-6)
    np.testing.assert_allclose(V.T @ V, np.diag(np.diag(V.T @ V)), atol=1e-6)
    # the zeros come largest component first, each column constant on its component
    for j, size in enumerate((90, 70, 50)):
        support = np.flatnonzero(np.abs(sc.embedding_[:, j]) > 1e-12)
        assert support.size == size
        np.testing.assert_allclose(sc.embedding_[support, j], sc.embedding_[support[0], j])


def test_a_disconnected_landmark_graph_asks_for_more_landmarks():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 1, (60, 2)) for c in (0, 50, 100)])
    with pytest.warns(
        DisconnectedGraphWarning, match=r"landmark graph has 3 connected components.*n_landmarks"
    ):
        sc = SpectralClustering(3, n_landmarks=30, random_state=0).fit(X)
    assert sc.n_connected_components_ == 3
    assert "raise n_landmarks" in sc.components_note()


@pytest.mark.parametrize("eigen_solver", ["arpack", "lobpcg"])
def test_a_disconnected_graph_gives_one_zero_eigenvalue_per_component(eigen_solver):
    """Each component adds the eigenvalue 0 once: a multiple eigenvalue, solved component by
    component so that none is missed (one Lanczos run over the whole graph can miss one)."""
    X, y = make_blobs(n_samples=600, n_features=10, centers=6, cluster_std=0.5, random_state=1)
    with pytest.warns(DisconnectedGraphWarning, match="has 6 connected components"):
        sc = SpectralClustering(6, eigen_solver=eigen_solver, random_state=0).fit(X)
    np.testing.assert_allclose(sc.eigenvalues_, 0.0, atol=1e-8)
    assert adjusted_rand_score(y, sc.labels_) == 1.0
    # one column per component, constant on it (the random-walk eigenvector of eigenvalue 0)
    for j in range(6):
        support = np.flatnonzero(np.abs(sc.embedding_[:, j]) > 1e-12)
        assert len(np.unique(y[support])) == 1
        np.testing.assert_allclose(sc.embedding_[support, j], sc.embedding_[support[0], j])


def test_labels_for_reuses_the_embedding(fitted, four_blobs):
    X = four_blobs[0]
    assert fitted.embedding_.shape == (len(X), 8)
    for k in (2, 4, 6):
        fresh = SpectralClustering(k, random_state=0).fit(X)
        np.testing.assert_allclose(
            np.abs(fitted.embedding_[:, :k]), np.abs(fresh.embedding_), atol=1e-8
        )
        assert adjusted_rand_score(fitted.labels_for(k), fresh.labels_) > 0.95
    gaps = np.diff(fitted.eigenvalues_)
    assert int(np.argmax(gaps)) + 1 == 4  # the eigengap finds the four blobs


def test_solvers_agree(four_blobs):
    X = four_blobs[0]
    labels = [
        SpectralClustering(4, eigen_solver=s, random_state=0).fit(X).labels_
        for s in ("arpack", "lobpcg", "amg")
    ]
    assert adjusted_rand_score(labels[0], labels[1]) == 1.0
    assert adjusted_rand_score(labels[0], labels[2]) == 1.0


def test_amg_without_pyamg_names_the_package(four_blobs, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyamg", None)
    with pytest.raises(ImportError, match="pip install pyamg"):
        SpectralClustering(4, eigen_solver="amg", random_state=0).fit(four_blobs[0])


def test_rbf_checks_memory_first(four_blobs):
    with (
        config_context(memory_budget=0.1),
        pytest.raises(MemoryError, match=r"rbf affinity .* affinity='nearest_neighbors'"),
    ):
        SpectralClustering(4, affinity="rbf").fit(four_blobs[0])


def test_same_result_every_run_and_thread_count(four_blobs):
    X = four_blobs[0]
    one = SpectralClustering(4, random_state=3, n_jobs=1).fit(X)
    two = SpectralClustering(4, random_state=3, n_jobs=2).fit(X)
    np.testing.assert_array_equal(one.labels_, two.labels_)
    np.testing.assert_array_equal(one.embedding_, two.embedding_)


def test_precomputed_predict_takes_affinity_rows(knn_affinity):
    sc = SpectralClustering(4, affinity="precomputed", random_state=0).fit(knn_affinity)
    rows = sp.csr_matrix(knn_affinity)[:20]
    assert np.mean(sc.predict(rows) == sc.labels_[:20]) > 0.9


def test_input_is_not_modified(knn_affinity):
    A = knn_affinity.copy()
    SpectralClustering(4, affinity="precomputed", random_state=0).fit(A)
    assert (knn_affinity != A).nnz == 0


@pytest.mark.parametrize(
    ("params", "X", "error", "match"),
    [
        ({"affinity": "precomputed"}, np.ones((4, 3)), ValueError, "square matrix"),
        ({"affinity": "precomputed"}, -np.ones((4, 4)), ValueError, "non-negative"),
        (
            {"affinity": "precomputed", "n_landmarks": 10},
            np.ones((4, 4)),
            ValueError,
            "n_landmarks works on data rows",
        ),
        ({"affinity": "cosine"}, None, ValueError, "affinity must be one of"),
        ({"n_clusters": 600}, None, ValueError, "n_clusters must be an int in"),
    ],
)
def test_bad_input_is_named(four_blobs, params, X, error, match):
    X = four_blobs[0] if X is None else X
    with pytest.raises(error, match=match), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SpectralClustering(**{"n_clusters": 2, **params}).fit(X)


def test_one_cluster_per_eigenvector_with_discretize(four_blobs):
    with pytest.warns(UserWarning, match="n_components=2 gives 2 clusters, not n_clusters=4"):
        sc = SpectralClustering(4, n_components=2, assign_labels="discretize").fit(four_blobs[0])
    assert check_labels(sc.labels_, len(four_blobs[0])) == 2


def test_labels_for_range(fitted):
    with pytest.raises(ValueError, match=r"n_clusters must be an int in \[1, n_components=8\]"):
        fitted.labels_for(9)


def test_large_graphs_start_lobpcg_from_the_landmark_embedding(monkeypatch):
    """eigen_solver='auto' on a large kNN graph: LOBPCG from the landmark embedding gives
    arpack's spectrum and labels (the threshold lowered here to keep the test small)."""
    import clusterlab.cluster._landmarks as landmarks
    import clusterlab.cluster.spectral as spectral_module

    X, _ = make_blobs(n_samples=1500, n_features=5, centers=4, cluster_std=2.5, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DisconnectedGraphWarning)
        exact = SpectralClustering(4, eigen_solver="arpack", random_state=0).fit(X)
        calls = []
        original = landmarks.landmark_embedding
        monkeypatch.setattr(
            landmarks, "landmark_embedding", lambda *a, **k: calls.append(a[1]) or original(*a, **k)
        )
        monkeypatch.setattr(spectral_module, "LANDMARK_START_MIN", 1000)
        monkeypatch.setattr(spectral_module, "START_LANDMARKS", 100)
        started = SpectralClustering(4, random_state=0).fit(X)
    assert calls == [100]
    assert exact.n_connected_components_ < 4
    np.testing.assert_allclose(started.eigenvalues_, exact.eigenvalues_, atol=1e-6)
    assert adjusted_rand_score(exact.labels_, started.labels_) == 1.0


def test_a_landmark_start_that_does_not_converge_falls_back_to_the_solver(monkeypatch):
    import clusterlab.cluster._spectral_embedding as embedding
    import clusterlab.cluster.spectral as spectral_module

    X, _ = make_blobs(n_samples=1500, n_features=5, centers=4, cluster_std=2.5, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DisconnectedGraphWarning)
        exact = SpectralClustering(4, eigen_solver="arpack", random_state=0).fit(X)
        monkeypatch.setattr(spectral_module, "LANDMARK_START_MIN", 1000)
        monkeypatch.setattr(spectral_module, "START_LANDMARKS", 100)
        monkeypatch.setattr(embedding, "_START_MAXITER", 1)
        fallback = SpectralClustering(4, random_state=0).fit(X)
    np.testing.assert_allclose(fallback.eigenvalues_, exact.eigenvalues_, atol=1e-10)
