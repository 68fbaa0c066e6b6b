"""The Experiment: setup, create / assign / predict for every model id, compare, tune, the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from clusterlab import Experiment
from clusterlab.models import REGISTRY
from clusterlab.models.estimates import knee_eps
from clusterlab.workflow import rank_models
from tests.checks import check_labels


def _segments(n=150, seed=0):
    """Three blobs in two numeric columns plus a categorical column that follows the blobs."""
    X, y = make_blobs(n_samples=n, centers=3, cluster_std=0.5, random_state=seed)
    rng = np.random.default_rng(seed)
    kind = np.array(["red", "green", "blue"])[y]
    flip = rng.random(n) < 0.1
    kind[flip] = "green"
    frame = pd.DataFrame(
        {"spend": X[:, 0] * 10 + 100, "visits": X[:, 1] + 20, "kind": kind, "truth": y},
        index=pd.RangeIndex(1000, 1000 + n, name="customer"),
    )
    return frame


@pytest.fixture(scope="module")
def data():
    return _segments()


@pytest.fixture(scope="module")
def exp(data):
    return Experiment(data, normalize=True, ground_truth="truth", session_id=0, verbose=False)


@pytest.fixture(scope="module")
def fitted(exp):
    """Every registry id fitted once on the shared experiment."""
    models = {}
    for model_id in REGISTRY:
        k = {"num_clusters": 3} if REGISTRY[model_id].needs_k else {}
        models[model_id] = exp.create_model(model_id, verbose=False, **k)
    return models


def test_setup_prepares_features_without_ground_truth(exp, data):
    X = exp.get_config("X_transformed")
    assert isinstance(X, pd.DataFrame)
    assert list(X.index) == list(data.index)
    assert "truth" not in X.columns and not any(c.startswith("truth") for c in X.columns)
    assert {"spend", "visits", "kind_red", "kind_green", "kind_blue"} == set(X.columns)
    assert exp.get_config("schema").loc["truth", "kind"] == "ground_truth"
    assert exp.pull().loc["Ground truth", "Value"] == "truth"


def test_setup_does_not_modify_input(data):
    before = data.copy()
    e = Experiment(data, normalize=True, remove_outliers=True, verbose=False, session_id=0)
    e.assign_model(e.create_model("kmeans", num_clusters=3, verbose=False))
    pd.testing.assert_frame_equal(data, before)


@pytest.mark.parametrize("model_id", list(REGISTRY))
def test_every_id_create_assign_predict(exp, fitted, data, model_id):
    model = fitted[model_id]
    out = exp.assign_model(model)
    assert list(out.columns[:-1]) == list(data.columns)
    assert out.index.equals(data.index)
    labels = out["Cluster"].to_numpy()
    check_labels(labels, len(data), allow_noise=REGISTRY[model_id].uses_noise or True)
    predicted = exp.predict_model(model, data)
    np.testing.assert_array_equal(predicted["Cluster"].to_numpy(), labels)
    # new rows: a shifted copy of the data still gets labels from the same rule
    shifted = data.copy()
    shifted["spend"] += 0.01
    assert len(exp.predict_model(model, shifted)) == len(data)


def test_metrics_row_and_external_metrics(exp, fitted):
    exp.create_model("kmeans", num_clusters=3, verbose=False)
    row = exp.pull().iloc[0]
    for name in (
        "Silhouette",
        "Calinski-Harabasz",
        "Davies-Bouldin",
        "Adjusted Rand",
        "Adjusted Mutual Info",
    ):
        assert np.isfinite(row[name])
    assert row["Adjusted Rand"] > 0.5  # the blobs are the truth (the categorical column adds noise)
    from sklearn.metrics import silhouette_score

    km = fitted["kmeans"]
    ref = silhouette_score(exp.get_config("X"), km.labels_)
    rec_row = exp._fitted[id(km)].metrics
    assert rec_row["Silhouette"] == pytest.approx(ref)


def test_silhouette_is_sampled_above_sample_size():
    data = _segments(n=400)
    e = Experiment(data, normalize=True, sample_size=100, verbose=False, session_id=0)
    e.create_model("kmeans", num_clusters=3, verbose=False)
    assert "Silhouette on a 100-row sample" in e.pull().iloc[0]["Note"]


def test_one_cluster_metrics_are_nan_not_zero(exp):
    exp.create_model("kmeans", num_clusters=1, verbose=False)
    row = exp.pull().iloc[0]
    assert np.isnan(row["Silhouette"]) and np.isnan(row["Davies-Bouldin"])
    assert "undefined" in row["Note"]


@pytest.mark.parametrize(
    "options",
    [
        {"remove_outliers": True, "outliers_threshold": 0.1},
        {"remove_outliers": True, "outliers_method": "lof"},
        {"numeric_imputation": "drop"},
        {"categorical_imputation": "drop"},
    ],
)
def test_assign_length_for_setups_that_drop_rows(options):
    data = _segments(n=120)
    data.loc[data.index[[3, 7]], "spend"] = np.nan
    data.loc[data.index[[9]], "kind"] = None
    for model_id in ("kmeans", "dbscan", "hclust"):
        e = Experiment(data, normalize=True, verbose=False, session_id=0, **options)
        assert e.get_config("train_mask").sum() < len(data)
        model = e.create_model(model_id, verbose=False)
        out = e.assign_model(model)
        assert len(out) == len(data)
        assert out["Cluster_predicted"].sum() == len(data) - e.get_config("train_mask").sum()
        assert out.index.equals(data.index)


def test_probabilities(exp, fitted):
    out = exp.assign_model(fitted["gmm"], probabilities=True)
    proba = out.filter(like="Cluster_proba_").to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    out = exp.assign_model(fitted["hdbscan"], probabilities=True)
    assert out["Cluster_membership"].between(0, 1).all()
    with pytest.raises(ValueError, match="probabilities=True needs a model"):
        exp.assign_model(fitted["kmeans"], probabilities=True)


def test_estimator_instance_is_accepted(exp):
    from sklearn.cluster import KMeans

    model = exp.create_model(KMeans(n_init=2, random_state=0), num_clusters=3, verbose=False)
    assert model.n_clusters == 3
    assert len(exp.assign_model(model)) == 150


def test_compare_models_ranks_and_skips(exp):
    from clusterlab import config_context

    with config_context(memory_budget=0.1):  # 150^2 floats = 0.17 MiB: O(n²) models skipped
        best = exp.compare_models(verbose=False)
    board = exp.pull()
    skipped = board[board["Note"].astype(str).str.startswith("skipped")]
    assert set(skipped.index) == {m for m, e in REGISTRY.items() if e.memory == "O(n²)"}
    assert all("memory budget" in n or "budget" in n for n in skipped["Note"])
    ranked = board.drop(index=skipped.index)
    last = ranked["Note"].astype(str).str.startswith("ranked last")
    assert ranked["Mean rank"][~last].is_monotonic_increasing
    assert ranked["Mean rank"][last].is_monotonic_increasing
    assert not last.to_numpy()[: (~last).sum()].any()  # demoted models come after all others
    assert exp.assign_model(best)["Cluster"].nunique() >= 2
    assert (ranked["Time (s)"] >= 0).all()


def test_compare_models_include_sort_and_n_select(exp):
    top = exp.compare_models(
        include=["kmeans", "birch", "gmm"], sort="Davies-Bouldin", n_select=2, verbose=False
    )
    board = exp.pull()
    assert len(top) == 2
    assert board["Davies-Bouldin"].is_monotonic_increasing  # lower is better: ascending
    assert list(board.index[:3]) == board.sort_values("Davies-Bouldin").index.tolist()


def test_compare_models_chooses_k_with_choose_k(exp):
    import matplotlib.pyplot as plt

    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.selection import choose_k

    models = exp.compare_models(include=["kmeans", "dbscan"], n_select=2, verbose=False)
    board = exp.pull()
    X = exp.get_config("X_transformed").to_numpy()
    # what compare_models documents: k in 2..10, seeded with session_id (0)
    expected = choose_k(X, model=KMeans(random_state=0), k_range=range(2, 11), random_state=0)
    kmeans = next(m for m in models if isinstance(m, KMeans))
    assert kmeans.n_clusters == expected.best_k
    assert board.loc["kmeans", "Parameters"] == f"n_clusters={expected.best_k}"
    assert board.loc["kmeans", "k chosen by"] == expected.reason
    assert expected.reason.startswith(f"k = {expected.best_k}: led by")
    assert board.loc["dbscan", "k chosen by"] == ""  # DBSCAN takes no k
    # the final fit starts from choose_k's solution, so it is never a worse optimum
    assert kmeans.inertia_ <= expected.table.loc[expected.best_k, "inertia"] * (1 + 1e-9)
    stored = exp.get_config("k_selection")["kmeans"]
    pd.testing.assert_frame_equal(stored.table, expected.table)
    assert expected.reason in exp.evaluate_model(kmeans)
    # the plots draw the stored scores, the chosen k marked
    fig = exp.plot_model(kmeans, plot="k_selection")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"chosen k = {expected.best_k}" in legend
    assert not any(t.startswith("votes") for t in legend)
    elbow = exp.plot_model(kmeans, plot="elbow")
    np.testing.assert_allclose(elbow.axes[0].lines[0].get_ydata(), expected.table["inertia"])
    assert elbow.axes[0].get_title() == f"Elbow (chosen k = {expected.best_k})"
    plt.close("all")


def test_compare_models_needs_rows_to_choose_k():
    tiny = pd.DataFrame({"a": [0.0, 1.0, 5.0], "b": [1.0, 0.0, 4.0]})
    exp = Experiment(tiny, session_id=0, verbose=False)
    with pytest.raises(RuntimeError, match=r"kmeans: skipped: failed: too few rows \(3\)"):
        exp.compare_models(include=["kmeans"], verbose=False)


def test_rank_rule_is_a_mean_of_ranks():
    frame = pd.DataFrame(
        {"Silhouette": [0.9, 0.5, 0.4], "Davies-Bouldin": [2.0, 0.5, 0.6], "CH": [1, 3, 2]},
        index=["a", "b", "c"],
    )
    ranks = rank_models(frame, [("Silhouette", True), ("Davies-Bouldin", False), ("CH", True)])
    assert ranks.to_dict() == {
        "a": pytest.approx(7 / 3),
        "b": pytest.approx(4 / 3),
        "c": pytest.approx(7 / 3),
    }


def test_tune_model(exp):
    tuned = exp.tune_model("kmeans", search_space={"n_clusters": [2, 3, 5]}, verbose=False)
    table = exp.pull()
    assert len(table) == 3
    assert table[
        "Adjusted Rand"
    ].is_monotonic_decreasing  # ground truth present: ARI is the default
    assert tuned.n_clusters == table.iloc[0]["n_clusters"]
    custom = exp.tune_model(
        "kmeans",
        search_space={"n_clusters": [2, 3, 4]},
        optimize=lambda X, labels: -abs(len(np.unique(labels)) - 4),
        verbose=False,
    )
    assert custom.n_clusters == 4
    dbscan = exp.tune_model("dbscan", n_iter=4, optimize="silhouette", verbose=False)
    assert len(exp.pull()) == 4
    assert exp.assign_model(dbscan)["Cluster"].max() >= 1


def test_knee_eps_separates_blobs():
    from sklearn.cluster import DBSCAN
    from sklearn.metrics import adjusted_rand_score

    X, y = make_blobs(n_samples=300, centers=[[0, 0], [10, 10]], cluster_std=0.5, random_state=0)
    eps = knee_eps(X, 5, 1000, 0)
    assert 0.1 < eps < 3.0
    labels = DBSCAN(eps=eps).fit_predict(X)
    # no cluster mixes the two blobs, and the two largest clusters hold most points
    clustered = labels >= 0
    assert adjusted_rand_score(labels[clustered], y[clustered]) > 0.9
    assert all(len(np.unique(y[labels == c])) == 1 for c in np.unique(labels[clustered]))
    assert np.sort(np.bincount(labels[clustered]))[-2:].sum() > 0.85 * len(X)


def test_metrics_management(exp):
    def spread(X, labels):
        return float(np.bincount(labels).std())

    exp.add_metric("spread", "Spread", spread, greater_is_better=False)
    try:
        assert exp.get_metrics().loc["spread", "Custom"]
        exp.create_model("kmeans", num_clusters=3, verbose=False)
        assert "Spread" in exp.pull().columns
        with pytest.raises(ValueError, match="already a metric"):
            exp.add_metric("spread", "Spread", spread)
    finally:
        exp.remove_metric("Spread")
    assert "spread" not in exp.get_metrics().index
    with pytest.raises(ValueError, match="metric 'nope' is not in use"):
        exp.remove_metric("nope")


def test_config_and_evaluate(exp, fitted):
    assert "X_transformed" in exp.get_config()
    exp.set_config("sample_size", 500)
    assert exp.get_config("sample_size") == 500
    exp.set_config("sample_size", 5_000)
    with pytest.raises(ValueError, match="variable must be one of"):
        exp.set_config("pipeline", None)
    text = exp.evaluate_model(fitted["kmeans"])
    assert "Cluster sizes" in text and "Silhouette" in text and "Segments" in text
    assert exp.evaluate_model(fitted["kmeans"], html=True).startswith("<div")


def test_plot_model_delegates_or_names_the_feature(exp, fitted):
    try:
        import clusterlab.plots  # noqa: F401
    except ImportError:
        with pytest.raises(NotImplementedError, match="plots arrive with the insight module"):
            exp.plot_model(fitted["kmeans"])
    else:
        import matplotlib.figure

        assert isinstance(exp.plot_model(fitted["kmeans"]), matplotlib.figure.Figure)


def test_bad_input_errors(exp, data):
    with pytest.raises(ValueError, match="at least one row"):
        Experiment(pd.DataFrame(), verbose=False)
    bad = data.assign(empty=np.nan)
    with pytest.raises(ValueError, match="column 'empty' has only missing values"):
        Experiment(bad, verbose=False)
    with pytest.raises(ValueError, match="did you mean 'kmeans'"):
        exp.create_model("kmean")
    with pytest.raises(ValueError, match=r"num_clusters must be an int in \[1, n_samples=150\]"):
        exp.create_model("kmeans", num_clusters=151)
    with pytest.raises(ValueError, match="num_clusters is meaningless for 'dbscan'"):
        exp.create_model("dbscan", num_clusters=3)
    text = pd.DataFrame({"review": [f"I liked this product a lot, number {i}" for i in range(40)]})
    with pytest.raises(ValueError, match="no usable feature columns"):
        Experiment(text, verbose=False)
    with pytest.raises(RuntimeError, match="run setup"):
        Experiment().create_model("kmeans")
    from sklearn.cluster import KMeans

    with pytest.raises(ValueError, match="was not fitted by this experiment"):
        exp.assign_model(KMeans())


def test_ground_truth_at_create_model(data):
    e = Experiment(data, ignore_features=["truth"], normalize=True, session_id=0, verbose=False)
    e.create_model("kmeans", num_clusters=3, ground_truth="truth", verbose=False)
    assert "Adjusted Rand" in e.pull().columns
    e.create_model("kmeans", num_clusters=3, verbose=False)
    assert "Adjusted Rand" not in e.pull().columns  # only for the call that named it
    leaky = Experiment(data, normalize=True, verbose=False)
    with pytest.raises(ValueError, match="ground_truth 'truth' is a feature of this setup"):
        leaky.create_model("kmeans", ground_truth="truth")


def test_degenerate_labellings_rank_last():
    from clusterlab.workflow.ranking import order as _order

    frame = pd.DataFrame(
        {
            "Silhouette": [0.9, 0.5, 0.8, 0.4],
            "Noise": [0.8, 0.0, 0.0, 0.1],
            "Largest segment": [0.1, 0.6, 0.99, 0.5],
            "Note": ["", "", "", "x"],
        },
        index=["mostly_noise", "good", "one_giant", "fair"],
    )
    out = _order(frame, [("Silhouette", True)])
    assert list(out.index) == ["good", "fair", "mostly_noise", "one_giant"]
    assert out.loc["mostly_noise", "Note"] == "ranked last: 80% of the rows are noise"
    assert out.loc["one_giant", "Note"] == "ranked last: one segment holds 99% of the rows"
    assert out.loc["fair", "Note"] == "x"
    plain = _order(frame, [("Silhouette", True)], demote=False)
    assert list(plain.index) == ["mostly_noise", "one_giant", "good", "fair"]


def test_compare_models_keeps_the_optimum_choose_k_found():
    # wholesale customers, normalised: a single k-means++ seeding (session_id 0) lands in a
    # local optimum at k = 2 with 1.2x the inertia choose_k's forward/backward passes reach
    from clusterlab.datasets import load_wholesale_customers

    e = Experiment(load_wholesale_customers(), normalize=True, session_id=0, verbose=False)
    kmeans = e.compare_models(include=["kmeans"], verbose=False)
    selection = e.get_config("k_selection")["kmeans"]
    assert kmeans.inertia_ <= selection.table.loc[selection.best_k, "inertia"] * (1 + 1e-9)
    X = e.get_config("X_transformed").to_numpy()
    fresh = type(kmeans)(n_clusters=selection.best_k, random_state=0).fit(X)
    assert kmeans.inertia_ < fresh.inertia_  # the case this guards: the fresh fit is worse


def test_warm_init_centers_and_empty_cluster_fallback():
    from types import SimpleNamespace

    from clusterlab.workflow.keys import warm_init as _warm_init

    X = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0], [12.0, 10.0]])
    full = SimpleNamespace(best_k=2, labels_=np.array([0, 0, 1, 1]))
    np.testing.assert_array_equal(_warm_init(X, full)["init"], [[1.0, 0.0], [11.0, 10.0]])
    # a labelling that leaves cluster 1 (of 3) empty gives no init: the fit seeds itself
    assert _warm_init(X, SimpleNamespace(best_k=3, labels_=np.array([0, 0, 2, 2]))) == {}
