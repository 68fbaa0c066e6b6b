"""AgglomerativeClustering and Genie in the workflow: training rows keep their labels under
predict, model files round-trip, choose_k cuts one tree, and the registry ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from clusterlab import AgglomerativeClustering, Experiment, Genie
from clusterlab.cluster._exact_rows import match_rows, sorted_rows
from clusterlab.clustering import load_model
from clusterlab.models import REGISTRY, get_entry

X, _ = make_blobs(n_samples=120, centers=4, cluster_std=1.2, random_state=5)
# a training row with a negative zero, and a duplicated row
X[0, 0] = -0.0
X[1] = X[2]
MODELS = {
    "ward": AgglomerativeClustering(4),
    "complete": AgglomerativeClustering(4, linkage="complete"),
    "average-manhattan": AgglomerativeClustering(4, linkage="average", metric="manhattan"),
    "single": AgglomerativeClustering(4, linkage="single"),
    "weighted": AgglomerativeClustering(4, linkage="weighted"),
    "median": AgglomerativeClustering(4, linkage="median"),
    "knn-graph": AgglomerativeClustering(4, connectivity=10),
    "genie": Genie(4),
    "genie-M5": Genie(4, M=5),
    "genie-prim": Genie(4, mst_algorithm="prim"),
}


@pytest.fixture(scope="module")
def fitted():
    return {name: model.fit(X) for name, model in MODELS.items()}


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_rows_keep_their_labels(fitted, name, dtype):
    if dtype is np.float32:
        model = MODELS[name].__class__(**MODELS[name].get_params()).fit(X.astype(np.float32))
    else:
        model = fitted[name]
    np.testing.assert_array_equal(model.predict(X.astype(dtype)), model.labels_)


def test_genie_mutual_reachability_rule_would_move_a_training_point():
    """The reason for the exact-row rule: with M > 1 the spanning-tree rule sends some
    training points to another cluster, predict does not."""
    from clusterlab.cluster.hierarchy import _attach

    model = Genie(6, M=5).fit(X)
    moved = model.labels_[_attach(model._spanning, X)] != model.labels_
    assert moved.any()
    np.testing.assert_array_equal(model.predict(X), model.labels_)


def test_new_points_follow_the_rule_not_the_match(fitted):
    model = fitted["ward"]
    Q = X[:10] + 1e-9
    centers = np.stack([X[model.labels_ == c].mean(0) for c in range(4)])
    expected = np.argmin(((Q[:, None] - centers) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(model.predict(Q), expected)


def test_match_rows_finds_equal_rows_only():
    rows, order = sorted_rows(X)
    match = match_rows(rows, order, np.vstack([X[[5, 0]], [[0.0, X[0, 1]]], X[:1] + 1e-12]))
    assert match[0] == 5 and match[1] == 0
    assert match[2] == 0  # 0.0 matches the training row's -0.0
    assert match[3] == -1
    assert match_rows(rows, order, X[[1]])[0] in (1, 2)


def test_refit_changes_what_predict_gives_training_rows():
    model = Genie(4).fit(X)
    model.refit(n_clusters=2)
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    assert model.labels_.max() == 1


# ----------------------------------------------------------------------------------------------
# model files
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def experiment():
    frame = pd.DataFrame(X, columns=["a", "b"])
    return Experiment(frame, session_id=0, verbose=False), frame


@pytest.mark.parametrize(
    ("model_id", "params"),
    [
        ("hclust", {}),
        ("hclust", {"linkage": "single"}),
        ("hclust", {"linkage": "average"}),
        ("hclust", {"linkage": "median"}),
        ("genie", {}),
        ("genie", {"M": 5}),
        ("genie", {"mst_algorithm": "approximate"}),
    ],
)
def test_model_file_round_trip(experiment, model_id, params, tmp_path):
    exp, frame = experiment
    model = exp.create_model(model_id, verbose=False, **params)
    assert type(model).__module__ == "clusterlab.cluster.hierarchy"
    assigned = exp.assign_model(model)["Cluster"].to_numpy()
    new = frame + np.random.default_rng(0).normal(scale=0.3, size=frame.shape)
    before = exp.predict_model(model, new)["Cluster"].to_numpy()
    loaded = load_model(exp.save_model(model, tmp_path / model_id))
    np.testing.assert_array_equal(loaded.predict(frame), assigned)
    np.testing.assert_array_equal(loaded.predict(new), before)


# ----------------------------------------------------------------------------------------------
# registry and choose_k
# ----------------------------------------------------------------------------------------------
def test_registry_entries():
    from sklearn.cluster import AgglomerativeClustering as SkAgglomerative

    hclust = get_entry("hclust")
    assert hclust.default_engine == "clusterlab"
    assert isinstance(hclust.factory(), AgglomerativeClustering)
    assert isinstance(hclust.build("sklearn"), SkAgglomerative)
    assert hclust.native_predict
    genie = get_entry("genie")
    assert isinstance(genie.factory(), Genie) and genie.needs_k
    assert set(genie.tuning) <= set(Genie().get_params())
    assert "genie" in REGISTRY


@pytest.mark.parametrize(
    "model",
    [
        Genie(gini_threshold=0.5),
        AgglomerativeClustering(linkage="average", metric="manhattan"),
        AgglomerativeClustering(linkage="ward", connectivity=8, compute_full_tree=False),
    ],
    ids=["genie", "average-manhattan", "ward-knn"],
)
def test_choose_k_cuts_one_tree(model):
    from sklearn.base import clone

    from clusterlab.selection import choose_k
    from clusterlab.selection.paths import fit_path, plan

    chosen = plan(model)
    assert chosen.kind == "linkage"
    path = fit_path(chosen, X, [2, 3, 5], seed=0, n_jobs=None)
    for k, labels in path.labels.items():
        ref = clone(model).set_params(n_clusters=k)
        if "compute_full_tree" in ref.get_params():
            ref.set_params(compute_full_tree=True)
        np.testing.assert_array_equal(labels, ref.fit(X).labels_)
    result = choose_k(X, model=model, k_range=range(2, 7), criteria=["silhouette"])
    ref = clone(model).set_params(n_clusters=result.best_k)
    if "compute_full_tree" in ref.get_params():
        ref.set_params(compute_full_tree=True)
    np.testing.assert_array_equal(result.labels_, ref.fit(X).labels_)


def test_choose_k_by_id_uses_the_tree():
    from clusterlab.selection.paths import plan

    assert plan("genie").kind == "linkage"
    assert plan("hclust").kind == "linkage"
    assert isinstance(plan("hclust").estimator, AgglomerativeClustering)
