"""The models of categories in the workflow (issue 18 item 4): setup's raw view of categorical
columns, the kmodes / kprototypes / kmedoids ids, one Gower silhouette for every model on mixed
data, model files, and the segment contents that profiles, evaluate and the report show.

Real mixed data: palmerpenguins (species as ground truth; island and sex categorical) and the
wholesale customers with Channel and Region as categories.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from clusterlab import Experiment, GowerDistance
from clusterlab.cluster import KMedoids, KModes, KPrototypes
from clusterlab.metrics import gower_silhouette_score
from clusterlab.workflow.categories import RawCategories, features_frame
from clusterlab.workflow.compare import candidates
from tests.checks import check_labels

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL = ["island", "sex"]
MODELS = ("kmodes", "kprototypes", "kmedoids")


@pytest.fixture(scope="module")
def penguins():
    pp = pytest.importorskip("palmerpenguins")
    return pp.load_penguins().dropna().drop(columns=["year"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def exp(penguins):
    return Experiment(penguins, ground_truth="species", session_id=1, normalize=True, verbose=False)


@pytest.fixture(scope="module")
def fitted(exp):
    """One fitted model per id (k = 3, the number of species)."""
    return {m: exp.create_model(m, num_clusters=3, verbose=False) for m in (*MODELS, "kmeans")}


@pytest.fixture(scope="module")
def wholesale_exp(wholesale):
    return Experiment(
        wholesale,
        categorical_features=["Channel", "Region"],
        session_id=0,
        normalize=True,
        verbose=False,
    )


# -- the raw view ----------------------------------------------------------------------------


def test_raw_view_codes_categories_and_keeps_setups_numbers(exp, penguins):
    raw = exp._state().raw
    assert isinstance(raw.preprocessor, RawCategories)
    assert list(raw.X.columns) == NUMERIC + CATEGORICAL
    assert raw.categorical == (4, 5)
    # numeric columns exactly as setup prepared them for every other model
    np.testing.assert_allclose(raw.X[NUMERIC], exp.X_[NUMERIC])
    # each category its code, in sorted order
    levels = raw.preprocessor.categories_
    assert levels == {"island": ["Biscoe", "Dream", "Torgersen"], "sex": ["female", "male"]}
    island = [levels["island"][int(c)] for c in raw.X["island"]]
    assert island == penguins["island"].tolist()


def test_raw_view_imputes_and_codes_unseen_categories(penguins):
    data = penguins.copy()
    data.loc[[0, 1, 2], "sex"] = None
    exp = Experiment(data, ground_truth="species", session_id=1, verbose=False)
    raw = exp._state().raw
    # setup's categorical imputation (the most frequent category) fills the raw view too
    assert raw.X.loc[[0, 1, 2], "sex"].tolist() == [1.0] * 3  # 'male'
    new = data.drop(columns="species").head(2).assign(island=["Atlantis", "Dream"])
    assert raw.preprocessor.transform(new)["island"].tolist() == [-1.0, 1.0]


# -- the ids read the raw view -----------------------------------------------------------------


def test_ids_read_the_raw_view(fitted, exp):
    n_raw, n_onehot = 6, exp.X_.shape[1]
    assert n_onehot > n_raw
    assert fitted["kprototypes"].categorical == [4, 5]
    assert fitted["kprototypes"].n_features_in_ == n_raw
    metric = fitted["kmedoids"].metric
    assert isinstance(metric, GowerDistance) and metric.categorical == [4, 5]
    assert fitted["kmedoids"].n_features_in_ == n_raw
    assert fitted["kmodes"].n_features_in_ == n_raw
    assert fitted["kmeans"].n_features_in_ == n_onehot


def test_kmedoids_with_another_metric_reads_one_hot_features(exp):
    est = exp.create_model("kmedoids", num_clusters=3, metric="manhattan", verbose=False)
    assert est.metric == "manhattan" and est.n_features_in_ == exp.X_.shape[1]
    named = exp.create_model("kmedoids", num_clusters=3, metric="gower", verbose=False)
    assert isinstance(named.metric, GowerDistance) and named.metric.categorical == [4, 5]


def test_estimator_instances_get_the_code_columns(exp):
    est = exp.create_model(KPrototypes(n_clusters=3), verbose=False)
    assert est.categorical == [4, 5] and est.n_features_in_ == 6
    own = exp.create_model(KPrototypes(n_clusters=3, categorical=[5]), verbose=False)
    assert own.categorical == [5]
    gower = exp.create_model(KMedoids(n_clusters=3, metric="gower"), verbose=False)
    assert gower.metric.categorical == [4, 5]


def test_labels_equal_the_estimators_own_fit(fitted, exp):
    raw = exp._state().raw.X
    for model in MODELS:
        est = fitted[model]
        labels = exp.assign_model(est)["Cluster"].to_numpy()
        check_labels(labels, len(raw))
        np.testing.assert_array_equal(labels, est.predict(raw.to_numpy()))
    direct = KPrototypes(3, categorical=[4, 5], random_state=1).fit(raw.to_numpy())
    np.testing.assert_array_equal(fitted["kprototypes"].labels_, direct.labels_)


# -- compare_models --------------------------------------------------------------------------


def test_compare_candidates_follow_the_column_kinds(exp, wholesale_exp, blobs):
    mixed = candidates(None, None, exp._state())
    assert {"kprototypes", "kmedoids"} <= set(mixed) and "kmodes" not in mixed
    numeric = candidates(None, None, Experiment(blobs[0], verbose=False)._state())
    assert not set(MODELS) & set(numeric)
    table = pd.DataFrame({"a": list("xyzx" * 10), "b": list("ppqq" * 10)})
    assert set(MODELS) <= set(candidates(None, None, Experiment(table, verbose=False)._state()))
    assert candidates(["kmodes"], None, exp._state()) == ["kmodes"]


def test_every_model_gets_the_gower_silhouette(exp, fitted):
    raw = exp._state().raw
    for model in ("kmeans", "kprototypes", "kmedoids"):
        exp.create_model(model, num_clusters=3, verbose=False)
        row = exp.pull()
        labels = fitted[model].labels_
        expected = gower_silhouette_score(raw.X.to_numpy(), labels, categorical=[4, 5])
        assert row["Silhouette"].iloc[0] == pytest.approx(expected, abs=1e-4)
        assert "Gower" in row["Note"].iloc[0]


def test_gower_silhouette_is_sampled_above_sample_size(penguins):
    exp = Experiment(penguins, sample_size=100, session_id=0, verbose=False)
    exp.create_model("kprototypes", num_clusters=3, verbose=False)
    note = exp.pull()["Note"].iloc[0]
    assert "Gower" in note and "Silhouette on a 100-row sample" in note


def test_compare_models_on_wholesale(wholesale_exp):
    best = wholesale_exp.compare_models(include=["kmeans", "kprototypes", "kmedoids"])
    board = wholesale_exp.pull()
    assert set(board.index) == {"kmeans", "kprototypes", "kmedoids"}
    assert board["Note"].str.contains("Gower").all()
    assert board["Silhouette"].between(-1, 1).all()
    # k of the models of categories by the Gower silhouette, which choose_k's table holds
    for model in ("kprototypes", "kmedoids"):
        assert "silhouette under Gower's distance" in board.loc[model, "k chosen by"]
        table = wholesale_exp.leaderboard_.records[model].selection.table
        assert f"n_clusters={table['silhouette'].idxmax()}" == board.loc[model, "Parameters"]
    assert "Gower" not in board.loc["kmeans", "k chosen by"]
    labels = wholesale_exp.assign_model(best)["Cluster"].to_numpy()
    check_labels(labels, 440)


# -- quality on penguins (issue 18's target; both figures reported) ------------------------------


def test_kprototypes_ari_at_least_kmeans_on_one_hot(exp, fitted, penguins):
    truth = penguins["species"]
    ari = {m: adjusted_rand_score(truth, fitted[m].labels_) for m in fitted}
    assert ari["kprototypes"] >= ari["kmeans"]
    # the workflow's Gower distance has balanced column weights: with Gower's equal weights
    # the sexes outweigh the measurements and split Adelie and Chinstrap (ARI 0.496)
    assert fitted["kmedoids"].metric.weights == "balanced"
    assert ari["kmedoids"] >= ari["kmeans"] - 1e-9


# -- model files -----------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_model_file_round_trip(exp, fitted, penguins, model, tmp_path):
    est = fitted[model]
    exp.save_model(est, tmp_path / model)
    loaded = exp.load_model(tmp_path / model)
    new = penguins.drop(columns="species").sample(60, random_state=0)
    new.iloc[:5, new.columns.get_loc("island")] = "Atlantis"  # unseen: matches no category
    ours = exp.predict_model(est, new)["Cluster"]
    theirs = exp.predict_model(loaded, new)["Cluster"]
    pd.testing.assert_series_equal(ours, theirs)
    assigned = exp.assign_model(est)["Cluster"].to_numpy()
    np.testing.assert_array_equal(loaded.predict(penguins.drop(columns="species")), assigned)


def test_model_file_holds_the_estimator(exp, fitted, tmp_path):
    """The fitted layouts are plain arrays, so the model itself is stored (not a stand-in)."""
    for model in MODELS:
        exp.save_model(fitted[model], tmp_path / model)
        loaded = exp.load_model(tmp_path / model)
        assert type(loaded.estimator) is type(fitted[model])


def test_experiment_file_round_trip(penguins, tmp_path):
    """save_experiment keeps k-modes, k-prototypes and Gower k-medoids; a fresh experiment
    loaded from the file labels new rows as the original does, unseen categories included."""
    exp = Experiment(penguins, ground_truth="species", session_id=2, verbose=False)
    models = {m: exp.create_model(m, num_clusters=3, verbose=False) for m in MODELS}
    back = Experiment.load_experiment(exp.save_experiment(tmp_path / "penguins"), penguins)
    restored = {r.model_id: r.estimator for r in back._fitted.values()}
    assert sorted(restored) == sorted(MODELS)
    new = penguins.drop(columns="species").sample(60, random_state=1)
    new.iloc[:5, new.columns.get_loc("island")] = "Atlantis"
    for model in MODELS:
        assert type(restored[model]) is type(models[model])
        before = exp.predict_model(models[model], new)["Cluster"]
        after = back.predict_model(restored[model], new)["Cluster"]
        pd.testing.assert_series_equal(before, after)
        assigned = back.assign_model(restored[model])["Cluster"].to_numpy()
        np.testing.assert_array_equal(assigned, models[model].labels_)


def test_portable_rules_equal_predict_on_random_codes():
    from clusterlab.models import NearestGowerMedoid, NearestMode, NearestPrototype

    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(300, 3)), rng.integers(0, 4, (300, 2)).astype(float)]
    new = np.c_[rng.normal(size=(200, 3)) * 2, rng.integers(-1, 5, (200, 2)).astype(float)]
    models = [
        (KPrototypes(4, categorical=[3, 4], random_state=0), NearestPrototype),
        (KMedoids(4, metric=GowerDistance(categorical=[3, 4]), random_state=0), NearestGowerMedoid),
        (KModes(4, random_state=0), NearestMode),
    ]
    for est, rule in models:
        est.fit(X)
        fitted_rule = rule().fit(est, None, None)
        np.testing.assert_array_equal(fitted_rule.predict(None, X), est.predict(X))
        np.testing.assert_array_equal(fitted_rule.predict(None, new), est.predict(new))


# -- plots on the view the model read -----------------------------------------------------------


def test_silhouette_plot_is_the_leaderboards_gower_silhouette(exp, fitted):
    fig = exp.plot_model(fitted["kprototypes"], "silhouette")
    ax = fig.axes[0]
    mean_line = next(line for line in ax.lines if line.get_linestyle() == "--")
    raw = exp._state().raw.X.to_numpy()
    expected = gower_silhouette_score(raw, fitted["kprototypes"].labels_, categorical=[4, 5])
    assert mean_line.get_xdata()[0] == pytest.approx(expected, abs=1e-6)
    assert "Gower" in ax.get_title()


@pytest.mark.parametrize("model", ["kmodes", "kmedoids"])
def test_elbow_plot_refits_the_model_on_the_raw_view(exp, fitted, model):
    from sklearn.base import clone

    fig = exp.plot_model(fitted[model], "elbow", k_range=range(2, 5))
    raw = exp._state().raw.X.to_numpy()
    refits = [clone(fitted[model]).set_params(n_clusters=k).fit(raw) for k in (2, 3, 4)]
    expected = [getattr(r, "cost_", None) or r.inertia_ for r in refits]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), expected)
    assert fig.axes[0].get_ylabel() != "within-cluster sum of squares"


def test_projections_draw_one_hot_features_with_the_models_labels(exp, fitted):
    from clusterlab.workflow.evaluate import raw_view_inputs
    from clusterlab.workflow.records import find_record

    prepared = exp._state()
    medoids = find_record(exp._fitted, fitted["kmedoids"])
    X, options = raw_view_inputs("cluster", medoids, prepared, prepared.raw, {})
    assert X is prepared.X and X.shape[1] > len(NUMERIC + CATEGORICAL)
    # the medoids are rows: drawn at their own one-hot features
    at = fitted["kmedoids"].medoid_indices_
    np.testing.assert_array_equal(options["centers"], prepared.X.to_numpy()[at])
    prototypes = find_record(exp._fitted, fitted["kprototypes"])
    X, options = raw_view_inputs("distance", prototypes, prepared, prepared.raw, {})
    assert X is prepared.X and options["centers"] is None  # each cluster's mean
    fig = exp.plot_model(fitted["kmedoids"], "cluster")
    assert fig.axes


# -- segment contents ------------------------------------------------------------------------


def test_profiles_show_category_shares(exp, fitted):
    from clusterlab.insight import profile_segments

    frame = features_frame(exp._state())
    profiles = profile_segments(frame, fitted["kprototypes"].labels_)
    shares = profiles.shares["island"]
    assert list(shares.index) == ["0", "1", "2", "all"]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    truth = pd.crosstab(fitted["kprototypes"].labels_, frame["island"], normalize="index")
    np.testing.assert_allclose(shares.loc["0", "Biscoe"], truth.loc[0, "Biscoe"])


def test_setups_categorical_numbers_profile_as_categories(wholesale_exp):
    frame = features_frame(wholesale_exp._state())
    assert isinstance(frame["Region"].dtype, pd.CategoricalDtype)
    est = wholesale_exp.create_model("kprototypes", num_clusters=3, verbose=False)
    from clusterlab.workflow.evaluate import evaluate
    from clusterlab.workflow.records import find_record

    record = find_record(wholesale_exp._fitted, est)
    text = evaluate(record, wholesale_exp._state())
    assert "Shares of Region per cluster" in text and "Shares of Channel per cluster" in text
    means = text.split("Mean of each numeric column per cluster")[1].split("Shares of")[0]
    assert "Region" not in means


def test_report_shows_category_shares(exp, fitted, tmp_path):
    path = exp.report(tmp_path / "report.html", fitted["kmedoids"])
    html = path.read_text(encoding="utf-8")
    assert "Category shares per segment" in html
    assert "<h4>island</h4>" in html and "Torgersen" in html and "Everyone" in html


def test_rules_name_categories(exp, fitted):
    from clusterlab.insight import describe_segments

    frame = features_frame(exp._state())
    rules = describe_segments(frame, fitted["kmedoids"].labels_).to_pandas()
    # a rule names a category in the user's own words
    assert rules["rule"].str.contains("sex = male|sex ≠ male").any()


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.sampled_from(["a", "b", "c", None]), min_size=6, max_size=40),
    new=st.lists(st.sampled_from(["a", "b", "c", "zz", "yy"]), min_size=1, max_size=10),
)
def test_raw_view_codes_are_the_categories(values, new):
    """Codes name the categories in sorted order; missing values get setup's imputed
    category; a category first seen after setup gets -1 (hypothesis over the inputs)."""
    from clusterlab.preprocessing import Preprocessor, SetupOptions

    present = [v for v in values if v is not None]
    if not present:
        return
    data = pd.DataFrame({"x": np.arange(len(values), dtype=float), "c": values})
    pre = Preprocessor(SetupOptions.parse(verbose=False, categorical_features=["c"])).fit(data)
    raw = RawCategories(pre).fit(data)
    levels = raw.categories_["c"]
    assert levels == sorted(levels)
    mode = pd.Series(present).mode().iloc[0]
    codes = raw.transform(data)["c"].to_numpy()
    assert [levels[int(code)] for code in codes] == [mode if v is None else v for v in values]
    unseen = raw.transform(pd.DataFrame({"x": 0.0, "c": new}))["c"].tolist()
    assert unseen == [levels.index(v) if v in levels else -1 for v in new]
