"""AffinityPropagation: scikit-learn's results in dense mode, the preference search, the sparse
mode, non-convergence, memory checks and the estimator contract."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import AffinityPropagation as SkAP
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import AffinityPropagation, AffinityPropagationWarning, config_context
from clusterlab.kernels.affinity import dense_iterate, sparse_iterate
from tests.checks import check_labels

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _random(seed: int, n: int | None = None, d: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 160)) if n is None else n
    d = int(rng.integers(1, 6)) if d is None else d
    return rng.normal(size=(n, d))


def assert_same_as_sklearn(ours: AffinityPropagation, ref: SkAP) -> None:
    np.testing.assert_array_equal(ours.cluster_centers_indices_, ref.cluster_centers_indices_)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_
    check_labels(ours.labels_, ours.labels_.shape[0])


@pytest.mark.parametrize("seed", range(8))
def test_dense_identical_to_sklearn(seed):
    X = _random(seed)
    ours = AffinityPropagation(random_state=seed).fit(X)
    ref = SkAP(random_state=seed).fit(X)
    assert_same_as_sklearn(ours, ref)
    np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)
    assert ours.converged_ == (ours.n_iter_ < 200)
    assert not ours.sparse_


@pytest.mark.parametrize(
    "params",
    [
        {"damping": 0.9},
        {"damping": 0.7, "convergence_iter": 5},
        {"preference": -50.0},
        {"max_iter": 30},
    ],
)
def test_dense_parameters_identical_to_sklearn(params):
    X = _random(11, 120, 3)
    ours = AffinityPropagation(random_state=3, **params).fit(X)
    ref = SkAP(random_state=3, **params).fit(X)
    assert_same_as_sklearn(ours, ref)


def test_precomputed_and_per_point_preferences_identical_to_sklearn():
    X = _random(5, 90, 2)
    S = -np.abs(X[:, None, 0] - X[None, :, 0]) - 0.5 * np.abs(X[:, None, 1] - X[None, :, 1])
    pref = np.linspace(-3.0, -1.0, X.shape[0])
    ours = AffinityPropagation(affinity="precomputed", preference=pref, random_state=0).fit(S)
    ref = SkAP(affinity="precomputed", preference=pref, random_state=0).fit(S)
    assert_same_as_sklearn(ours, ref)
    assert not hasattr(ours, "cluster_centers_")
    np.testing.assert_array_equal(ours.preference_, pref)
    # predict with similarities to the training points: the most similar exemplar
    np.testing.assert_array_equal(
        ours.predict(S[:10]), np.argmax(S[:10][:, ours.cluster_centers_indices_], axis=1)
    )


def test_precomputed_copy_false_works_in_place():
    X = _random(6, 60, 2)
    S = -((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    kept = S.copy()
    AffinityPropagation(affinity="precomputed", random_state=0).fit(S)
    np.testing.assert_array_equal(S, kept)
    in_place = AffinityPropagation(affinity="precomputed", copy=False, random_state=0).fit(S)
    assert not np.array_equal(S, kept)  # noise and preference were written into S
    ref = SkAP(affinity="precomputed", random_state=0).fit(kept)
    np.testing.assert_array_equal(in_place.labels_, ref.labels_)


def test_hand_computed_case():
    # two columns of three points: every run ends with the middle points as exemplars
    X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 4], [4, 0]], dtype=float)
    model = AffinityPropagation(random_state=5).fit(X)
    np.testing.assert_array_equal(model.cluster_centers_indices_, [0, 3])
    np.testing.assert_array_equal(model.labels_, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(model.predict([[0.0, 0.0], [4.0, 4.0]]), [0, 1])


@pytest.mark.parametrize("preference", [-10.0, 10.0])
def test_equal_similarities_follow_sklearn(preference):
    X = np.zeros((4, 2))
    with pytest.warns(UserWarning, match="similarities between distinct points are equal"):
        ours = AffinityPropagation(preference=preference, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkAP(preference=preference, random_state=0).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.cluster_centers_indices_, ref.cluster_centers_indices_)


def test_single_point():
    model = AffinityPropagation(random_state=0).fit(np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(model.labels_, [0])
    assert model.n_clusters_ == 1


def test_non_convergence_keeps_last_exemplars():
    X = _random(0, 80, 2)
    params = {"max_iter": 5, "preference": -100.0, "random_state": 0}
    with pytest.warns(AffinityPropagationWarning, match="did not converge"):
        model = AffinityPropagation(**params).fit(X)
    assert issubclass(AffinityPropagationWarning, ConvergenceWarning)
    assert not model.converged_
    assert model.n_iter_ == 5
    check_labels(model.labels_, X.shape[0])
    assert model.n_clusters_ >= 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkAP(**params).fit(X)
    assert np.all(ref.labels_ == -1)  # what this replaces: every label -1


def test_auto_damping_settles_an_oscillating_run():
    # three points keep entering and leaving the exemplar set with damping 0.5 (period 65)
    X = _random(9, 250, 5)
    fixed = AffinityPropagation(random_state=0).fit(X)
    assert not fixed.converged_
    auto = AffinityPropagation(damping="auto", random_state=0).fit(X)
    assert auto.converged_
    assert auto.damping_ > 0.5
    check_labels(auto.labels_, X.shape[0])


@pytest.fixture(scope="module")
def six_blobs():
    return make_blobs(n_samples=300, n_features=4, centers=6, random_state=0)


def test_n_clusters_finds_the_preference(six_blobs):
    X, y = six_blobs
    model = AffinityPropagation(n_clusters=6, random_state=0).fit(X)
    assert model.n_clusters_ == 6
    assert adjusted_rand_score(y, model.labels_) > 0.95
    assert isinstance(model.preference_, float)
    fewer = AffinityPropagation(n_clusters=2, random_state=0).fit(X)
    assert fewer.n_clusters_ == 2
    assert fewer.preference_ < model.preference_


def test_n_clusters_search_starts_at_a_given_preference(six_blobs):
    X, _ = six_blobs
    model = AffinityPropagation(n_clusters=4, preference=-1.0, random_state=0).fit(X)
    assert model.n_clusters_ == 4
    with pytest.raises(
        ValueError, match=r"preference must be a number \(where the search starts\)"
    ):
        AffinityPropagation(n_clusters=3, preference=np.ones(30)).fit(_random(0, 30, 2))
    with pytest.raises(ValueError, match=r"n_clusters must be an int in \[1, n_samples=30\]"):
        AffinityPropagation(n_clusters=31).fit(_random(0, 30, 2))


def test_sparse_points_mode(six_blobs):
    X, y = six_blobs
    model = AffinityPropagation(n_clusters=6, sparse=10, random_state=0).fit(X)
    assert model.sparse_
    assert model.n_clusters_ == 6
    assert adjusted_rand_score(y, model.labels_) > 0.95
    np.testing.assert_array_equal(model.cluster_centers_, X[model.cluster_centers_indices_])
    default = AffinityPropagation(sparse=True, random_state=0).fit(X)
    check_labels(default.labels_, X.shape[0])


def test_sparse_levels_when_the_graph_level_is_large(six_blobs, monkeypatch):
    import clusterlab.cluster._affinity_sparse as module

    monkeypatch.setattr(module, "_LEVEL2_MAX", 100)
    X, y = six_blobs
    model = AffinityPropagation(n_clusters=6, sparse=10, random_state=0).fit(X)
    assert model.n_clusters_ == 6
    assert adjusted_rand_score(y, model.labels_) > 0.9


def test_sparse_precomputed_graph():
    X, y = make_blobs(n_samples=200, centers=3, random_state=1)
    S = -((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    keep = np.quantile(S, 0.5, axis=1, keepdims=True) <= S
    graph = sp.csr_matrix(np.where(keep | keep.T, S, 0.0))
    model = AffinityPropagation(affinity="precomputed", n_clusters=3, random_state=0).fit(graph)
    assert model.sparse_
    assert model.n_clusters_ == 3
    assert adjusted_rand_score(y, model.labels_) > 0.95
    with pytest.raises(ValueError, match="sparse=False needs a dense similarity matrix"):
        AffinityPropagation(affinity="precomputed", sparse=False).fit(graph)


def test_sparse_kernel_on_a_complete_graph_equals_the_dense_kernel():
    X = _random(9, 70, 2)
    n = X.shape[0]
    S = -((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    S[np.diag_indices(n)] = np.median(S)
    S += 1e-12 * np.random.default_rng(0).standard_normal(S.shape)
    dense = dense_iterate(
        S, np.zeros_like(S), np.zeros_like(S), np.zeros(n), 0.5, 200, 15, False, False, 2
    )
    indptr = np.arange(0, n * n + 1, n, dtype=np.int64)
    indices = np.tile(np.arange(n, dtype=np.int64), n)
    col_edge = (np.arange(n)[None, :] * n + np.arange(n)[:, None]).ravel().astype(np.int64)
    diag = np.arange(n, dtype=np.int64) * (n + 1)
    flat = S.ravel().copy()
    sparse = sparse_iterate(
        indptr, indices, indptr, col_edge, diag, flat, np.zeros_like(flat),
        np.zeros_like(flat), np.zeros(n), 0.5, 200, 15, False, False,
    )  # fmt: skip
    np.testing.assert_array_equal(dense[0], sparse[0])
    assert dense[2:] == sparse[2:]


def test_memory_check_names_the_sparse_mode():
    X = _random(0, 300, 2)
    with config_context(memory_budget=1), pytest.raises(MemoryError, match="sparse=True"):
        AffinityPropagation(sparse=False).fit(X)


def test_auto_passes_messages_on_the_graph_when_dense_exceeds_the_budget():
    X, _ = make_blobs(n_samples=600, centers=3, cluster_std=0.5, random_state=4)
    assert not AffinityPropagation(n_clusters=3, random_state=0).fit(X).sparse_
    with config_context(memory_budget=1):  # three 600 x 600 float64 matrices: 8.2 MiB
        model = AffinityPropagation(n_clusters=3, random_state=0).fit(X)
    assert model.sparse_
    assert model.n_clusters_ == 3


def test_float32_stays_float32():
    X, _ = make_blobs(n_samples=200, centers=3, random_state=2)
    model = AffinityPropagation(random_state=0).fit(X.astype(np.float32))
    assert model.cluster_centers_.dtype == np.float32
    ref = AffinityPropagation(random_state=0).fit(X)
    assert adjusted_rand_score(model.labels_, ref.labels_) == 1.0


def test_thread_count_does_not_change_the_result(monkeypatch):
    from clusterlab.cluster import _affinity_dense

    monkeypatch.setattr(_affinity_dense, "_SMALL_DENSE", 0)  # every size on n_jobs threads
    X = _random(3, 1_100, 3)
    one = AffinityPropagation(max_iter=40, random_state=0, n_jobs=1).fit(X)
    two = AffinityPropagation(max_iter=40, random_state=0, n_jobs=2).fit(X)
    np.testing.assert_array_equal(one.labels_, two.labels_)
    assert one.n_iter_ == two.n_iter_


def test_predict_is_the_nearest_exemplar():
    X = _random(7, 120, 3)
    model = AffinityPropagation(random_state=0).fit(X)
    queries = np.random.default_rng(1).normal(size=(50, 3))
    dist = ((queries[:, None, :] - model.cluster_centers_[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(model.predict(queries), np.argmin(dist, axis=1))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"damping": 1.0}, r"damping must be a number in \[0.5, 1\) or one of \{'auto'\}"),
        ({"sparse": "yes"}, "sparse must be one of"),
        ({"preference": np.ones(3)}, r"preference must be a number or have shape \(n_samples,\)"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        AffinityPropagation(**params).fit(_random(0, 20, 2))


def test_precomputed_must_be_square():
    with pytest.raises(ValueError, match="square similarity matrix"):
        AffinityPropagation(affinity="precomputed").fit(np.zeros((4, 3)))


@parametrize_with_checks(
    [AffinityPropagation(random_state=0), AffinityPropagation(sparse=5, random_state=0)]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _sklearn_messages(S: np.ndarray, n_iter: int, damping: float):
    """scikit-learn's message updates (its loop, numpy for numpy), run ``n_iter`` times:
    ``R`` after the last, ``A`` after the one before (the kernel leaves ``A`` half an
    iteration behind), the last column sums and exemplar flags."""
    n = S.shape[0]
    ind = np.arange(n)
    R, A, tmp = np.zeros_like(S), np.zeros_like(S), np.zeros_like(S)
    for _ in range(n_iter):
        previous_a = A.copy()
        np.add(A, S, tmp)
        arg = np.argmax(tmp, axis=1)
        best = tmp[ind, arg]
        tmp[ind, arg] = -np.inf
        second = np.max(tmp, axis=1)
        np.subtract(S, best[:, None], tmp)
        tmp[ind, arg] = S[ind, arg] - second
        tmp *= 1 - damping
        R *= damping
        R += tmp
        np.maximum(R, 0, out=tmp)
        tmp.flat[:: n + 1] = R.flat[:: n + 1]
        colsum = np.sum(tmp, axis=0)
        tmp -= colsum
        diag = np.diag(tmp).copy()
        tmp.clip(0, np.inf, tmp)
        tmp.flat[:: n + 1] = diag
        tmp *= 1 - damping
        A *= damping
        A -= tmp
        exemplar = (np.diag(A) + np.diag(R)) > 0
    return R, previous_a, colsum, exemplar


def _tied_similarities(n: int, dtype) -> np.ndarray:
    """Negative squared distances with duplicated points (exact ties in every top-two scan
    of their rows) and the median on the diagonal, no noise."""
    X = _random(5, n, 3)
    X[1::7] = X[0]
    S = -((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    S[np.diag_indices(n)] = np.median(S)
    return np.ascontiguousarray(S, dtype=dtype)


@pytest.mark.parametrize("n_blocks", [1, 2, 3, 7])
def test_dense_kernel_bit_identical_to_sklearn_for_every_block_count(n_blocks):
    # the first row block's column sums are taken during the row pass, the rest in a column
    # pass: every column must still be summed as numpy's sum(axis=0), whatever the blocks
    S = _tied_similarities(203, np.float64)
    n = S.shape[0]
    R, A, colsum = np.zeros_like(S), np.zeros_like(S), np.zeros(n)
    exemplar, _, n_iter, converged, _ = dense_iterate(
        S, R, A, colsum, 0.6, 25, 25, False, False, n_blocks
    )
    ref_r, ref_a, ref_colsum, ref_exemplar = _sklearn_messages(S, 25, 0.6)
    assert (n_iter, converged) == (25, False)
    np.testing.assert_array_equal(R, ref_r)
    np.testing.assert_array_equal(A, ref_a)
    np.testing.assert_array_equal(colsum, ref_colsum)
    np.testing.assert_array_equal(exemplar, ref_exemplar)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_kernel_messages_do_not_depend_on_the_threads(dtype):
    from clusterlab._config import threads

    S = _tied_similarities(150, dtype)
    runs = []
    for n_threads, n_blocks in [(1, 1), (2, 2), (2, 5)]:
        R, A, colsum = np.zeros_like(S), np.zeros_like(S), np.zeros(S.shape[0], dtype)
        with threads(n_threads):
            out = dense_iterate(S, R, A, colsum, 0.5, 30, 30, False, False, n_blocks)
        runs.append((R, A, colsum, out[0]))
    for other in runs[1:]:
        for mine, theirs in zip(runs[0], other, strict=True):
            assert mine.dtype == theirs.dtype
            np.testing.assert_array_equal(mine, theirs)
    assert runs[0][0].dtype == dtype


@pytest.mark.parametrize(
    ("n", "dtype", "kind"),
    [
        (501, np.float64, "distances"),  # odd number of entries
        (600, np.float64, "distances"),
        (600, np.float32, "distances"),
        (700, np.float64, "ties"),  # few distinct values: the bracket is full of ties
        (450, np.float64, "constant"),
    ],
)
def test_exact_median_equals_numpy(n, dtype, kind):
    from clusterlab.cluster._affinity_dense import exact_median

    rng = np.random.default_rng(n)
    if kind == "distances":
        X = rng.normal(size=(n, 3))
        S = -((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    elif kind == "ties":
        S = -rng.integers(0, 4, size=(n, n)).astype(float)
    else:
        S = np.full((n, n), -2.5)
    S = S.astype(dtype)
    before = S.copy()
    assert exact_median(S) == float(np.median(S))
    np.testing.assert_array_equal(S, before)


def test_exact_median_falls_back_when_the_sample_misses(monkeypatch):
    from clusterlab.cluster import _affinity_dense

    monkeypatch.setattr(_affinity_dense, "_MEDIAN_SAMPLE", 1)  # a bracket around one entry
    S = -np.random.default_rng(1).random((500, 500))
    assert _affinity_dense.exact_median(S) == float(np.median(S))
