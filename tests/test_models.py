"""The model registry and the out-of-sample rules."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import DBSCAN, AgglomerativeClustering, Birch
from sklearn.datasets import make_blobs

from clusterlab.models import (
    REGISTRY,
    KNNVote,
    NativePredict,
    NearestCentre,
    NearestCore,
    get_entry,
    out_of_sample_rule,
    registry_frame,
)

IDS = [
    "kmeans",
    "minibatch",
    "bisecting",
    "dbscan",
    "hdbscan",
    "optics",
    "hclust",
    "birch",
    "ap",
    "meanshift",
    "sc",
    "kmodes",
    "kprototypes",
    "kmedoids",
    "gmm",
    "genie",
]


@pytest.fixture(scope="module")
def blobs3():
    return make_blobs(n_samples=200, centers=3, cluster_std=0.6, random_state=1)


def test_registry_frame():
    frame = registry_frame()
    assert list(frame.index) == IDS
    assert {"Name", "Implementation", "Native predict", "Needs k", "Memory"} <= set(frame.columns)
    for model_id, row in frame.iterrows():
        est = REGISTRY[model_id].factory()
        assert row["Native predict"] == hasattr(est, "predict"), model_id
        assert row["Memory"] in {"O(n)", "O(n·k)", "O(n²)"}
        if "scikit-learn" in row["Implementation"]:
            assert type(est).__module__.startswith("sklearn.")
        if row["Needs k"]:
            assert REGISTRY[model_id].key_param in est.get_params()


def test_unknown_id_suggests():
    with pytest.raises(ValueError, match="did you mean 'hdbscan'"):
        get_entry("hdbscn")
    with pytest.raises(ValueError, match="not a known model id"):
        get_entry("xyzzy")
    with pytest.raises(TypeError, match="model must be a model id"):
        get_entry(3)


def test_nearest_core_is_dbscan_membership(blobs3):
    X, _ = blobs3
    est = DBSCAN(eps=0.5, min_samples=5).fit(X)
    rule = out_of_sample_rule(est)
    assert isinstance(rule, NearestCore)
    rule.fit(est, X, est.labels_)
    pred = rule.predict(est, X)
    core = est.core_sample_indices_
    # core points keep their label; noise stays noise (no core point within eps)
    np.testing.assert_array_equal(pred[core], est.labels_[core])
    np.testing.assert_array_equal(pred[est.labels_ == -1], -1)
    # a far-away point is noise
    assert rule.predict(est, np.array([[100.0, 100.0]])).tolist() == [-1]


def test_knn_vote_keeps_training_labels_and_follows_neighbours(blobs3):
    X, _ = blobs3
    est = AgglomerativeClustering(n_clusters=3).fit(X)
    rule = out_of_sample_rule(est)
    assert isinstance(rule, KNNVote)
    rule.fit(est, X, est.labels_)
    np.testing.assert_array_equal(rule.predict(est, X), est.labels_)
    # points near a training point get its cluster
    jitter = X + 1e-3
    np.testing.assert_array_equal(rule.predict(est, jitter), est.labels_)


def test_knn_vote_noise_wins_only_by_weight():
    X = np.array([[0.0], [0.1], [0.2], [3.0], [3.1]])
    rule = KNNVote(k=5).fit(None, X, np.array([0, 0, 0, -1, -1]))
    assert rule.predict(None, np.array([[3.05], [0.15]])).tolist() == [-1, 0]


def test_nearest_centre_matches_birch_predict(blobs3):
    X, _ = blobs3
    est = Birch(n_clusters=3).fit(X)
    assert isinstance(out_of_sample_rule(est), NativePredict)
    rule = NearestCentre().fit(est, X, est.labels_)
    new = np.random.default_rng(0).normal(size=(100, 2)) * 5
    np.testing.assert_array_equal(rule.predict(None, new), est.predict(new))


# ------------------------------------------------------------------ entries, engines and lookups


def test_every_engine_class_imports_and_builds():
    from sklearn.base import BaseEstimator

    for entry in REGISTRY.values():
        for engine, ref in entry.engines.items():
            cls = ref.load()
            assert isinstance(cls, type) and issubclass(cls, BaseEstimator), (entry.id, engine)
            assert cls.__name__ == ref.name
            est = entry.build(engine)
            assert type(est) is cls
            # scikit-learn's affinity propagation has no n_clusters: only the default engine
            # must take the key parameter the workflow chooses
            if entry.key_param is not None and engine == entry.default_engine:
                assert entry.key_param in est.get_params(), (entry.id, engine)


def test_default_engine_is_clusterlab_when_present():
    for entry in REGISTRY.values():
        expected = "clusterlab" if "clusterlab" in entry.engines else "sklearn"
        assert entry.default_engine == expected
        assert type(entry.factory()).__module__.startswith(
            "clusterlab." if expected == "clusterlab" else "sklearn."
        )
    kmeans = get_entry("kmeans")
    assert type(kmeans.build("sklearn")).__module__.startswith("sklearn.")
    with pytest.raises(ValueError, match=r"engine must be one of \['clusterlab', 'sklearn'\]"):
        kmeans.engine("numpy")


def test_implementation_text_follows_the_engine():
    assert get_entry("kmeans").implementation.startswith("clusterlab KMeans (numba")
    assert get_entry("hclust").implementation.startswith("clusterlab AgglomerativeClustering (")
    assert "predict:" not in get_entry("hclust").implementation.rpartition(")")[2]
    assert get_entry("birch").implementation.startswith("clusterlab Birch (numba")


def test_lazy_class_names_module_and_class():
    from clusterlab.models import lazy_class

    ref = lazy_class("sklearn.cluster:MeanShift", bin_seeding=True)
    assert (ref.module, ref.name) == ("sklearn.cluster", "MeanShift")
    assert ref().get_params()["bin_seeding"] is True
    assert ref(bin_seeding=False).get_params()["bin_seeding"] is False
    with pytest.raises(
        ValueError, match=r"path must be 'module:Class'; got 'sklearn\.cluster\.KMeans'"
    ):
        lazy_class("sklearn.cluster.KMeans")


def test_model_entry_is_keyword_only_and_frozen():
    import dataclasses

    from clusterlab.models import ModelEntry, lazy_class

    engines = {"sklearn": lazy_class("sklearn.cluster:Birch")}
    with pytest.raises(TypeError, match="positional"):
        ModelEntry("x", "X", engines)
    entry = ModelEntry(id="x", name="X", engines=engines)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.memory = "O(n²)"
    with pytest.raises(ValueError, match=r"x: engines must name at least one of"):
        ModelEntry(id="x", name="X", engines={"numpy": engines["sklearn"]})
    with pytest.raises(ValueError, match="x: key_search needs key_param"):
        from clusterlab.models import ChooseK

        ModelEntry(id="x", name="X", engines=engines, key_search=ChooseK("refit"))


def test_entry_for_matches_by_class():
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.preprocessing import StandardScaler

    from clusterlab.cluster.kmeans import KMeans as OurKMeans
    from clusterlab.models import entry_for, k_param_of

    class MyLinkage(AgglomerativeClustering):
        pass

    assert entry_for(OurKMeans()).id == "kmeans"
    assert entry_for(KMeans()).id == "kmeans"  # scikit-learn's engine of the same id
    assert entry_for(MyLinkage()).id == "hclust"  # a subclass matches its parent's entry
    assert entry_for(StandardScaler()) is None
    assert k_param_of(OurKMeans()) == "n_clusters"
    assert k_param_of(REGISTRY["gmm"].factory()) == "n_components"
    assert k_param_of(DBSCAN()) is None


def test_lookup_takes_ids_and_older_aliases():
    from clusterlab.models import lookup

    assert lookup("kmeans") == (REGISTRY["kmeans"], {})
    assert lookup("agglomerative") == (REGISTRY["hclust"], {"linkage": "ward"})
    assert lookup("Spectral") == (REGISTRY["sc"], {})
    assert lookup("nope") is None


def test_tune_space_estimates_from_the_data(blobs3):
    from clusterlab.models import DataContext
    from clusterlab.models.estimates import knee_eps

    X, _ = blobs3
    context = DataContext(X[:9], seed=0, search_size=2_000)
    space = REGISTRY["dbscan"].tune_space(context)
    eps = knee_eps(X[:9], 5, 2_000, 0)
    assert space["eps"] == [round(eps * f, 6) for f in (0.5, 0.75, 1.0, 1.5, 2.0)]
    assert space["min_samples"] == [3, 5, 10, 20]
    assert REGISTRY["kmeans"].tune_space(context)["n_clusters"] == list(range(2, 9))  # k < 9 rows


def test_default_params_seed_k_and_data_estimates(blobs3):
    from clusterlab.models import DataContext

    X, _ = blobs3
    context = DataContext(X, seed=7, search_size=2_000)
    assert REGISTRY["kmeans"].default_params(context, {}) == {"random_state": 7, "n_clusters": 4}
    assert REGISTRY["kmeans"].default_params(context, {"n_clusters": 2}) == {"random_state": 7}
    assert REGISTRY["hdbscan"].default_params(context, {}) == {"min_cluster_size": 5}
    assert set(REGISTRY["dbscan"].default_params(context, {})) == {"eps"}
    assert REGISTRY["dbscan"].default_params(context, {"eps": 0.3}) == {}


def test_files_may_hold_every_rule_by_its_public_name():
    from clusterlab.models import trusted_types

    names = trusted_types()
    assert {f"clusterlab.models.{c.__name__}" for c in (NativePredict, KNNVote)} <= names
    assert "sklearn.cluster._kmeans._kmeans_single_lloyd" in names  # bisecting's entry adds it
