"""The affinity k path: affinity propagation for every k with the work shared, each k exactly
its own fit (issue 16, AP inside compare_models and choose_k)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.datasets import make_blobs

from clusterlab import AffinityPropagation, config_context
from clusterlab.cluster import _affinity_dense
from clusterlab.cluster._affinity_dense import search_preference, search_preferences
from clusterlab.cluster.affinity import fit_each_k
from clusterlab.selection import choose_k
from clusterlab.selection.paths import affinity_path, plan
from tests.checks import check_labels

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    "ignore:no preference gave exactly:UserWarning",
)

_FITTED = (
    "cluster_centers_indices_",
    "labels_",
    "n_clusters_",
    "n_iter_",
    "converged_",
    "preference_",
    "damping_",
    "sparse_",
    "n_features_in_",
)


def assert_same_fit(ours: AffinityPropagation, alone: AffinityPropagation) -> None:
    for name in _FITTED:
        np.testing.assert_array_equal(getattr(ours, name), getattr(alone, name), err_msg=name)
    np.testing.assert_array_equal(ours.cluster_centers_, alone.cluster_centers_)
    check_labels(ours.labels_, ours.labels_.shape[0])


def fits_alone(estimator: AffinityPropagation, X, ks) -> dict[int, AffinityPropagation]:
    return {k: clone(estimator).set_params(n_clusters=k).fit(X) for k in ks}


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=240, n_features=4, centers=5, random_state=3)
    return X, y


@pytest.fixture(scope="module")
def shared_fits(blobs):
    X, _ = blobs
    base = AffinityPropagation(random_state=0)
    ks = list(range(2, 12))
    return base, ks, fit_each_k(base, X, ks), fits_alone(base, X, ks)


# ----------------------------------------------------------------------------------------------
# the shared search, on a synthetic runner whose counts depend on the messages it carries
# ----------------------------------------------------------------------------------------------
class _Runner:
    """A stand-in for a dense run: the exemplar count of a preference depends on the state the
    previous runs left (here: how many runs since the cold start), so a search that resumes a
    branch from the wrong state finds other counts."""

    def __init__(self) -> None:
        self.state: tuple[float, ...] = ()
        self.calls = 0

    def solve(self, p: float) -> dict:
        self.calls += 1
        self.state = (*self.state, p)
        count = max(1, round(40.0 + p + (len(self.state) % 3)))
        return {"exemplars": np.arange(count), "p": p, "state": self.state}

    def checkpoint(self):
        return self.state

    def resume(self, saved, history) -> None:
        assert saved == history
        self.state = saved


@pytest.mark.parametrize("replay", [False, True])
def test_search_preferences_equals_each_search_alone(replay):
    targets = [2, 3, 5, 8, 13, 21, 30, 39, 45, 60]
    shared = _Runner()
    if replay:

        def resume(saved, history):
            shared.state = ()
            for p in history:
                shared.solve(p)

        found = search_preferences(shared.solve, targets, -40.0, 0.0, 10.0, lambda: None, resume)
    else:
        found = search_preferences(
            shared.solve, targets, -40.0, 0.0, 10.0, shared.checkpoint, shared.resume
        )
    total_alone = 0
    for k in targets:
        alone = _Runner()
        result = search_preference(alone.solve, k, -40.0, 0.0, 10.0)
        total_alone += alone.calls
        assert found[k]["p"] == result["p"] and found[k]["state"] == result["state"], k
    if not replay:
        assert shared.calls <= total_alone - (len(targets) - 1)  # at least the first run shared


def test_search_preferences_with_unreachable_targets_warns_like_alone():
    # counts jump from 3 to 6 exemplars: 4 and 5 cannot be hit
    def solve(p):
        return {"exemplars": np.arange(3 if p < 0.0 else 6), "preference": p}

    with pytest.warns(UserWarning, match="no preference gave exactly n_clusters=4"):
        found = search_preferences(solve, [3, 4, 5, 6], -8.0, -4.0, 8.0, lambda: None, None)
    assert [found[k]["exemplars"].size for k in (3, 4, 5, 6)] == [3, 3, 6, 6]


# ----------------------------------------------------------------------------------------------
# fit_each_k: every k exactly its own fit
# ----------------------------------------------------------------------------------------------
def test_fit_each_k_equals_a_fit_per_k(shared_fits):
    _, ks, shared, alone = shared_fits
    for k in ks:
        assert_same_fit(shared[k], alone[k])
    assert shared[5].n_clusters_ == 5  # the five blobs


def test_fit_each_k_does_not_modify_the_estimator(shared_fits):
    base, _, _, _ = shared_fits
    assert base.get_params()["n_clusters"] is None
    assert not hasattr(base, "labels_")


@pytest.mark.parametrize(
    "params",
    [
        {"damping": "auto"},
        {"damping": 0.8, "max_iter": 60, "convergence_iter": 8},
        {"preference": -30.0},
    ],
)
def test_fit_each_k_equals_a_fit_per_k_with_parameters(blobs, params):
    X, _ = blobs
    base = AffinityPropagation(random_state=4, **params)
    ks = [2, 4, 5, 9]
    shared, alone = fit_each_k(base, X, ks), fits_alone(base, X, ks)
    for k in ks:
        assert_same_fit(shared[k], alone[k])


def test_replaying_the_messages_gives_the_same_fits(blobs):
    X, _ = blobs
    base = AffinityPropagation(random_state=0)
    ks = [2, 3, 5, 7]
    n_bytes = X.shape[0] ** 2 * 8
    # room for the run's three matrices, none for a copy of the messages
    with config_context(memory_budget=3.5 * n_bytes / 2**20):
        replayed = fit_each_k(base, X, ks)
    kept = fit_each_k(base, X, ks)
    for k in ks:
        assert_same_fit(replayed[k], kept[k])


def test_float32_and_pandas_input(blobs):
    X, _ = blobs
    frame = pd.DataFrame(X.astype(np.float32), columns=[f"c{i}" for i in range(4)])
    base = AffinityPropagation(random_state=2)
    shared, alone = fit_each_k(base, frame, [3, 5]), fits_alone(base, frame, [3, 5])
    for k in (3, 5):
        assert_same_fit(shared[k], alone[k])
        assert shared[k].cluster_centers_.dtype == np.float32
        assert list(shared[k].feature_names_in_) == list(frame.columns)


@pytest.mark.parametrize(
    "params",
    [
        {"sparse": 10},  # the sparse mode: a fit per k
        {"random_state": None},  # fresh noise at every fit: a fit per k, no equality promised
    ],
)
def test_modes_without_sharing_fit_each_k_alone(blobs, params):
    X, _ = blobs
    base = AffinityPropagation(**{"random_state": 0, **params})
    shared = fit_each_k(base, X, [3, 5])
    assert shared[3].n_clusters_ == 3 and shared[5].n_clusters_ == 5
    if params.get("random_state", 0) is not None:
        alone = fits_alone(base, X, [3, 5])
        for k in (3, 5):
            assert_same_fit(shared[k], alone[k])


def test_fit_each_k_errors_are_the_fits(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"n_clusters must be an int in \[1, n_samples=240\]"):
        fit_each_k(AffinityPropagation(random_state=0), X, [3, 241])
    with pytest.raises(ValueError, match=r"preference must be a number \(where the search"):
        fit_each_k(AffinityPropagation(random_state=0, preference=np.ones(240)), X, [3])
    with pytest.raises(ValueError, match="damping"):
        fit_each_k(AffinityPropagation(damping=2.0, random_state=0), X, [3])


def test_degenerate_data_equals_a_fit_per_k():
    X = np.zeros((6, 2))
    base = AffinityPropagation(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shared, alone = fit_each_k(base, X, [1, 2, 6]), fits_alone(base, X, [1, 2, 6])
    for k in (1, 2, 6):
        assert_same_fit(shared[k], alone[k])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(4, 40),
    d=st.integers(1, 3),
    duplicates=st.booleans(),
    ks=st.lists(st.integers(1, 12), min_size=1, max_size=6),
)
def test_fit_each_k_equals_a_fit_per_k_hypothesis(seed, n, d, duplicates, ks):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if duplicates:
        X = np.round(X, 0)  # many equal rows and equal similarities
    ks = sorted({min(k, n) for k in ks})
    base = AffinityPropagation(random_state=seed, max_iter=80)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shared, alone = fit_each_k(base, X, ks), fits_alone(base, X, ks)
    for k in ks:
        assert_same_fit(shared[k], alone[k])


# ----------------------------------------------------------------------------------------------
# the k path and choose_k
# ----------------------------------------------------------------------------------------------
def test_ap_takes_the_affinity_path():
    assert plan("ap").kind == "affinity"
    assert plan(AffinityPropagation()).kind == "affinity"
    from sklearn.cluster import AffinityPropagation as SkAP

    assert plan(SkAP()).kind == "refit"  # scikit-learn's: no shared similarities


def test_affinity_path_seeds_an_unset_random_state(blobs, shared_fits):
    X, _ = blobs
    _, ks, _, alone = shared_fits
    path = affinity_path(X, ks, 0, AffinityPropagation())
    for k in ks:
        np.testing.assert_array_equal(path.labels[k], alone[k].labels_)


def test_choose_k_on_the_affinity_path_labels_are_the_fit_at_best_k(blobs):
    X, _ = blobs
    base = AffinityPropagation(random_state=0)
    result = choose_k(X, base, k_range=range(2, 8), random_state=0, n_refs=2)
    assert result.best_k == 5
    alone = clone(base).set_params(n_clusters=result.best_k).fit(X)
    np.testing.assert_array_equal(result.labels_, alone.labels_)


def test_search_run_cap_is_shared(monkeypatch):
    # a cap of two runs: every target stops after the same two runs as alone
    monkeypatch.setattr(_affinity_dense, "_SEARCH_RUNS", 2)
    X, _ = make_blobs(n_samples=80, centers=4, random_state=1)
    base = AffinityPropagation(random_state=1)
    ks = [2, 3, 4, 6, 9]
    shared, alone = fit_each_k(base, X, ks), fits_alone(base, X, ks)
    for k in ks:
        assert_same_fit(shared[k], alone[k])
