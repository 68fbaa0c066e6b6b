"""GaussianMixture and SpectralClustering in the workflow: registry ids ``gmm`` and ``sc``, their
k paths in choose_k (work shared across k), the elbow from one spectral fit, and model files."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from clusterlab.cluster.mixture import GaussianMixture
from clusterlab.cluster.mixture_path import gaussian_mixture_path
from clusterlab.cluster.spectral import SpectralClustering
from clusterlab.metrics import adjusted_rand_score
from clusterlab.models import REGISTRY
from clusterlab.selection import choose_k
from clusterlab.selection.paths import fit_path, plan

KS = [2, 3, 4, 5]


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=240, n_features=3, centers=4, cluster_std=1.2, random_state=5)
    return X, y


@pytest.mark.parametrize(
    ("model_id", "ours", "theirs"),
    [
        ("gmm", GaussianMixture, "sklearn.mixture._gaussian_mixture.GaussianMixture"),
        ("sc", SpectralClustering, "sklearn.cluster._spectral.SpectralClustering"),
    ],
)
def test_ids_default_to_ours_and_keep_sklearn(model_id, ours, theirs):
    entry = REGISTRY[model_id]
    assert entry.default_engine == "clusterlab"
    assert type(entry.factory()) is ours
    sk = entry.build("sklearn")
    assert f"{type(sk).__module__}.{type(sk).__qualname__}" == theirs
    assert entry.native_predict


def test_gmm_path_shares_work_and_matches_gaussian_mixture_path(blobs):
    X, _ = blobs
    chosen = plan("gmm")
    assert type(chosen.estimator) is GaussianMixture and chosen.kind == "mixture"
    path = fit_path(chosen, X, KS, seed=7, n_jobs=None)
    params = chosen.estimator.get_params()
    ref = gaussian_mixture_path(
        X, KS, covariance_types=["full"], n_init=params["n_init"], random_state=7
    )
    for k in KS:
        assert path.bic[k] == pytest.approx(ref.bic[("full", k)], rel=1e-12)
        assert path.aic[k] == pytest.approx(ref.aic[("full", k)], rel=1e-12)
        np.testing.assert_array_equal(path.labels[k], ref.labels("full", k))
        # the labels are the model's own predictions and BIC its own criterion
        model = ref.models[("full", k)]
        np.testing.assert_array_equal(path.labels[k], model.predict(X))
        assert path.bic[k] == pytest.approx(model.bic(X), rel=1e-9)


def test_gmm_path_refits_a_mixture_it_cannot_share(blobs):
    X, _ = blobs
    base = GaussianMixture(init_params="random_from_data", covariance_type="diag")
    path = fit_path(plan(base), X, [3, 4], seed=3, n_jobs=None)
    for k in (3, 4):
        model = GaussianMixture(
            k, init_params="random_from_data", covariance_type="diag", random_state=3
        ).fit(X)
        assert path.bic[k] == pytest.approx(model.bic(X), rel=1e-9)


def test_choose_k_gmm_picks_the_blobs_by_bic(blobs):
    X, _ = blobs
    r = choose_k(X, model="gmm", k_range=range(2, 8), random_state=0)
    assert r.votes["bic"] == 4 and r.best_k == 4
    assert r.table["bic"].idxmin() == 4


def test_gmm_id_names_a_covariance_type_with_a_lower_bic():
    # round blobs in 8-D: 'spherical' spends 1 variance per component where 'full' spends 36
    X, _ = make_blobs(n_samples=200, n_features=8, centers=3, random_state=2)
    r = choose_k(X, model="gmm", k_range=range(2, 6), random_state=0)
    assert "BIC is lowest with covariance_type='spherical' at k = 3" in r.reason
    explicit = choose_k(X, model=GaussianMixture(n_init=2), k_range=range(2, 6), random_state=0)
    assert "covariance_type=" not in explicit.reason
    pd.testing.assert_frame_equal(r.table, explicit.table)  # the path itself stays 'full'
    ref = gaussian_mixture_path(X, range(2, 6), n_init=2, random_state=0)
    assert ref.best("bic")[0] == "spherical"


def test_spectral_path_is_one_fit_of_ours(blobs):
    X, _ = blobs
    chosen = plan("sc")
    assert type(chosen.estimator) is SpectralClustering and chosen.kind == "spectral"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = fit_path(chosen, X, KS, seed=1, n_jobs=None)
        one = SpectralClustering(5, n_components=6, random_state=1).fit(X)
    np.testing.assert_allclose(path.eigenvalues, one.eigenvalues_, atol=1e-8)
    assert path.eigenvalues.size == max(KS) + 1
    for k in KS:
        np.testing.assert_array_equal(path.labels[k], one.labels_for(k))


def test_choose_k_sc_eigengap_finds_the_blobs(blobs):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = choose_k(X, model="sc", k_range=range(2, 8), random_state=0)
    assert r.votes["eigengap"] == 4
    assert adjusted_rand_score(y, r.labels_) > 0.95


def test_choose_k_sc_says_a_disconnected_graph_in_reason_not_in_a_warning():
    from clusterlab.cluster.spectral import DisconnectedGraphWarning

    centers = [[0.0, 0.0], [30.0, 0.0], [0.0, 30.0]]
    X, y = make_blobs(n_samples=150, centers=centers, cluster_std=0.5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DisconnectedGraphWarning)
        r = choose_k(X, model="sc", k_range=range(2, 6), random_state=0)
    assert "The affinity graph has 3 connected components" in r.reason
    assert "the eigengap cannot choose a k below 3" in r.reason
    assert r.best_k == 3 and adjusted_rand_score(y, r.labels_) == 1.0
    # the estimator itself keeps its warning
    with pytest.warns(DisconnectedGraphWarning, match="has 3 connected components"):
        SpectralClustering(3, random_state=0).fit(X)
    assert SpectralClustering(2, random_state=0).fit(X[y == 0]).components_note() is None


def test_elbow_of_spectral_clustering_is_one_fit(blobs):
    from clusterlab.metrics import inertia
    from clusterlab.plots.selection import elbow_curve

    X, _ = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ks, wcss = elbow_curve(SpectralClustering(random_state=2), X, range(2, 7))
        top = SpectralClustering(6, random_state=2).fit(X)
    assert ks == [2, 3, 4, 5, 6]
    expected = [inertia(X, top.labels_for(k)) for k in ks]
    np.testing.assert_allclose(wcss, expected, rtol=1e-12)
    assert wcss[2] < 0.5 * wcss[1]  # the drop at the true k


@pytest.mark.parametrize(
    ("model_id", "params"),
    [
        ("sc", {"n_landmarks": 40}),
        ("sc", {"affinity": "self_tuning"}),
        ("gmm", {"covariance_type": "tied"}),
    ],
)
def test_model_file_round_trip_of_variants(blobs, model_id, params, tmp_path):
    from clusterlab import Experiment
    from clusterlab.clustering import load_model

    X, _ = blobs
    data = pd.DataFrame(X, columns=["a", "b", "c"])
    exp = Experiment(data, session_id=0, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = exp.create_model(model_id, num_clusters=4, verbose=False, **params)
    fresh = data.iloc[::7] + 0.05
    expected = exp.predict_model(model, fresh)["Cluster"].to_numpy()
    loaded = load_model(exp.save_model(model, tmp_path / model_id))
    assert type(loaded.estimator) is type(model)
    np.testing.assert_array_equal(loaded.predict(fresh), expected)
