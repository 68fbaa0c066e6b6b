"""PyCaret 3 clustering scripts run with only the import changed.

Written from PyCaret's documentation (the docstrings of ``pycaret.clustering`` and its
clustering tutorials), on PyCaret's own data sets (``../shared/data/pycaret-datasets``): the
tutorials' workflows as scripts, every documented parameter of every function called once with a
valid value, and PyCaret's label values and return types.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import clusterlab.clustering as pc
from clusterlab import ClusteringExperiment, Experiment
from clusterlab.persistence import ClusterPipeline

ROOT = Path(__file__).resolve().parents[1]

#: Every public function of PyCaret 3's ``pycaret.clustering`` and its parameters, in order.
PYCARET_FUNCTIONS = {
    "create_model": ["model", "num_clusters", "ground_truth", "round", "fit_kwargs", "verbose",
                     "experiment_custom_tags", "engine"],
    "assign_model": ["model", "transformation", "verbose"],
    "plot_model": ["model", "plot", "feature", "label", "scale", "save", "display_format"],
    "evaluate_model": ["model", "feature", "fit_kwargs"],
    "predict_model": ["model", "data"],
    "deploy_model": ["model", "model_name", "authentication", "platform"],
    "save_model": ["model", "model_name", "model_only", "verbose"],
    "load_model": ["model_name", "platform", "authentication", "verbose"],
    "pull": ["pop"],
    "models": ["internal", "raise_errors"],
    "get_metrics": ["reset", "include_custom", "raise_errors"],
    "add_metric": ["id", "name", "score_func", "target", "greater_is_better", "multiclass"],
    "remove_metric": ["name_or_id"],
    "get_logs": ["experiment_name", "save"],
    "get_config": ["variable"],
    "set_config": ["variable", "value"],
    "save_experiment": ["path_or_file"],
    "load_experiment": ["path_or_file", "data", "data_func", "preprocess_data"],
    "set_current_experiment": ["experiment"],
    "get_current_experiment": [],
    "get_allowed_engines": ["estimator"],
    "get_engine": ["estimator"],
}  # fmt: skip
#: PyCaret's get_config names for a clustering experiment that mean something here.
PYCARET_CONFIG = (
    "data", "dataset", "X", "train", "X_train", "X_transformed", "X_train_transformed",
    "train_transformed", "dataset_transformed", "pipeline", "seed", "USI", "n_jobs_param",
    "gpu_param", "gpu_n_jobs_param", "html_param", "memory", "exp_name_log", "exp_id",
    "logging_param", "log_plots_param",
)  # fmt: skip
CLUSTERS_4 = ["Cluster 0", "Cluster 1", "Cluster 2", "Cluster 3"]


def shared_file(name: str) -> Path:
    for base in (ROOT.parent, ROOT.parent.parent):
        path = base / "shared" / "data" / "pycaret-datasets" / name
        if path.is_file():
            return path
    pytest.skip("PyCaret's data sets not found beside the repository (../shared/data)")


@pytest.fixture(scope="module")
def jewellery():
    return pd.read_csv(shared_file("jewellery.csv"))  # what pycaret.datasets.get_data returns


@pytest.fixture(scope="module")
def mice():
    return pd.read_csv(shared_file("mice.csv"))


@pytest.fixture
def clusterlab_log(caplog):
    """caplog on the 'clusterlab' logger itself (the command line stops its propagation)."""
    package = logging.getLogger("clusterlab")
    propagate, package.propagate = package.propagate, True
    with caplog.at_level(logging.DEBUG, logger="clusterlab"):
        yield caplog
    package.propagate = propagate


@pytest.fixture(scope="module")
def exp(jewellery):
    return ClusteringExperiment().setup(jewellery, normalize=True, session_id=123, verbose=False)


@pytest.fixture(scope="module")
def kmeans(exp):
    return exp.create_model("kmeans", verbose=False)


# --------------------------------------------------------------------------------------------
# The tutorials' workflows
# --------------------------------------------------------------------------------------------


def test_tutorial_figure(jewellery):
    """PyCaret 3's clustering tutorial: k-means on jewellery after min-max scaling."""
    pc.setup(jewellery, normalize=True, normalize_method="minmax", session_id=123, verbose=False)
    pc.create_model("kmeans", verbose=False)
    row = pc.pull().iloc[0]
    assert (row["Silhouette"], row["Calinski-Harabasz"], row["Davies-Bouldin"]) == (
        pytest.approx(0.7569, abs=1e-12),
        pytest.approx(1449.9983, abs=1e-9),
        pytest.approx(0.3958, abs=1e-12),
    )


def test_jewellery_tutorial_script(jewellery, tmp_path, monkeypatch, capsys):
    """PyCaret 3's clustering tutorial, every cell in order (functional and object API, verbose
    as in the tutorial; only the import changed; ``evaluate_model`` returns text)."""
    monkeypatch.chdir(tmp_path)
    data = jewellery
    # Quick start
    s = pc.setup(data, session_id=123)
    assert isinstance(s, ClusteringExperiment) and pc.get_current_experiment() is s
    assert "Setup" in capsys.readouterr().out
    assert pc.pull().loc["USI", "Value"] == pc.get_config("USI")
    exp = ClusteringExperiment()
    assert type(exp) is ClusteringExperiment
    exp.setup(data, session_id=123)
    assert pc.get_current_experiment() is s  # the functions stay on setup()'s experiment
    kmeans = pc.create_model("kmeans")
    assert "create_model('kmeans')" in capsys.readouterr().out
    assert {"kmeans", "dbscan", "hclust", "birch", "ap", "meanshift", "sc", "optics"} <= set(
        pc.models().index
    )
    meanshift = pc.create_model("meanshift")
    assert meanshift.labels_.shape == (len(data),)
    kmeans_cluster = pc.assign_model(kmeans)
    assert list(kmeans_cluster.columns) == [*data.columns, "Cluster"]
    assert sorted(kmeans_cluster["Cluster"].unique()) == CLUSTERS_4
    for plot in ("cluster", "elbow", "silhouette"):
        assert isinstance(pc.plot_model(kmeans, plot=plot), Figure)
    assert "Cluster sizes" in pc.evaluate_model(kmeans)
    kmeans_pred = pc.predict_model(kmeans, data=data)
    assert kmeans_pred["Cluster"].tolist() == kmeans_cluster["Cluster"].tolist()
    pipeline, name = pc.save_model(kmeans, "kmeans_pipeline")
    assert isinstance(pipeline, ClusterPipeline) and name == "kmeans_pipeline.clusterlab"
    kmeans_pipeline = pc.load_model("kmeans_pipeline")
    assert pc.predict_model(kmeans_pipeline, data=data)["Cluster"].equals(kmeans_pred["Cluster"])
    # Function by function: setup, get_config, set_config
    s = pc.setup(data, session_id=123)
    assert {"X_train_transformed", "seed"} <= set(pc.get_config())
    assert pc.get_config("X_train_transformed").shape == (505, 4)
    assert pc.get_config("seed") == 123
    pc.set_config("seed", 786)
    assert pc.get_config("seed") == 786
    s = pc.setup(data, session_id=123, normalize=True, normalize_method="minmax")
    ages = pc.get_config("X_train_transformed")["Age"]
    assert ages.min() == 0.0 and ages.max() == 1.0
    pd.testing.assert_series_equal(pc.get_config("X_train")["Age"], data["Age"])
    # create_model, pull, assign_model, plot_model
    kmeans = pc.create_model("kmeans")
    kmeans_results = pc.pull()
    assert isinstance(kmeans_results, pd.DataFrame)
    assert kmeans_results.iloc[0]["Silhouette"] == pytest.approx(0.7569, abs=1e-12)
    assert pc.create_model("kmeans", num_clusters=10).n_clusters == 10
    assert sorted(pc.assign_model(kmeans)["Cluster"].unique()) == CLUSTERS_4
    dpi = pc.plot_model(kmeans, plot="elbow").get_dpi()
    assert pc.plot_model(kmeans, plot="elbow", scale=2).get_dpi() == 2 * dpi
    assert pc.plot_model(kmeans, plot="elbow", save=True) == "Elbow Plot.png"
    assert (tmp_path / "Elbow Plot.png").stat().st_size > 0
    # save / load model and experiment
    pc.save_model(kmeans, "my_first_model")
    loaded_from_disk = pc.load_model("my_first_model")
    assert isinstance(loaded_from_disk, ClusterPipeline)
    assert pc.save_experiment("my_experiment") == Path("my_experiment.clusterlab")
    assert (tmp_path / "my_experiment.clusterlab").is_file()
    exp_from_disk = pc.load_experiment("my_experiment", data=data)
    assert exp_from_disk.get_config("seed") == 123
    assert exp_from_disk.get_config("X_train_transformed").equals(s.X_train_transformed)


def test_jewellery_object_api(exp, kmeans, jewellery, tmp_path):
    """The tutorial's object-oriented cells: the same calls on a ClusteringExperiment."""
    assert exp.get_config("X_train_transformed").shape == (505, 4)
    labels = exp.assign_model(kmeans)["Cluster"]
    assert sorted(labels.unique()) == CLUSTERS_4
    assert labels.tolist() == [f"Cluster {k}" for k in kmeans.labels_]
    assert exp.predict_model(kmeans, jewellery)["Cluster"].equals(labels)
    written = exp.plot_model(kmeans, plot="distribution", save=tmp_path)
    assert written == str(tmp_path / "Distribution Plot.png")
    assert exp.plot_model(kmeans, "cluster", save=tmp_path / "c.svg") == str(tmp_path / "c.svg")


@pytest.mark.parametrize(
    "plot", ["pipeline", "cluster", "tsne", "elbow", "silhouette", "distance", "distribution"]
)
def test_every_pycaret_plot(exp, kmeans, plot):
    """PyCaret's clustering plots (ClusteringExperiment._available_plots), by their ids."""
    fig = exp.plot_model(kmeans, plot=plot)
    assert isinstance(fig, Figure) and fig.axes


def test_mice_tutorial_script(mice, tmp_path, monkeypatch):
    """PyCaret's beginner clustering tutorial (CLU101) on the mice protein data."""
    monkeypatch.chdir(tmp_path)
    data = mice.sample(frac=0.95, random_state=786)
    data_unseen = mice.drop(data.index)
    data = data.reset_index(drop=True)
    data_unseen = data_unseen.reset_index(drop=True)
    pc.setup(data, normalize=True, ignore_features=["MouseID"], session_id=123, verbose=False)
    assert "MouseID" not in pc.get_config("dataset") and "MouseID" in pc.get_config("data")
    kmeans = pc.create_model("kmeans", verbose=False)
    kmodes = pc.create_model("kmodes", num_clusters=4, verbose=False)
    assert type(kmodes).__name__ == "KModes" and kmodes.n_clusters == 4
    results = pc.assign_model(kmeans)
    assert len(results) == len(data) and set(results["Cluster"]) <= set(CLUSTERS_4)
    assert set(pc.assign_model(kmodes)["Cluster"]) <= set(CLUSTERS_4)
    assert isinstance(pc.plot_model(kmeans), Figure)  # the default: the cluster plot
    for plot in ("elbow", "silhouette", "distribution"):
        assert isinstance(pc.plot_model(kmeans, plot=plot), Figure)
    fig = pc.plot_model(kmeans, plot="distribution", feature="class")
    assert fig.axes[0].get_legend() is not None
    assert isinstance(pc.plot_model(kmeans, plot="distribution", feature="CaNA_N"), Figure)
    unseen = pc.predict_model(kmeans, data=data_unseen)
    assert len(unseen) == len(data_unseen) and unseen["Cluster"].str.startswith("Cluster ").all()
    pc.save_model(kmeans, "Final KMeans Model 25Nov2020", verbose=False)
    saved = pc.load_model("Final KMeans Model 25Nov2020", verbose=False)
    again = pc.predict_model(saved, data=data_unseen)
    assert again["Cluster"].equals(unseen["Cluster"])


# --------------------------------------------------------------------------------------------
# Every function, every documented parameter
# --------------------------------------------------------------------------------------------


def test_every_pycaret_function_exists_with_pycaret_parameters():
    import inspect

    for name, params in PYCARET_FUNCTIONS.items():
        signature = inspect.signature(getattr(pc, name))
        names = [p for p in signature.parameters if p not in ("kwargs",)]
        assert names[: len(params)] == params, name
    assert "ClusteringExperiment" in pc.__all__


def test_create_model_keywords(exp):
    from sklearn.cluster import KMeans as SkKMeans

    X = exp.get_config("X_train_transformed").to_numpy()
    weights = np.linspace(0.5, 2.0, len(X))
    model = exp.create_model(
        "kmeans",
        num_clusters=3,
        ground_truth=None,
        round=2,
        fit_kwargs={"sample_weight": weights},
        verbose=False,
        experiment_custom_tags={"tag": 1},
        engine="sklearn",
    )
    assert type(model) is SkKMeans
    reference = SkKMeans(n_clusters=3, random_state=123).fit(X, sample_weight=weights)
    np.testing.assert_array_equal(model.labels_, reference.labels_)
    row = exp.pull().iloc[0]
    assert row["Silhouette"] == round(exp._fitted[id(model)].metrics["Silhouette"], 2)
    logs = exp.get_logs()
    assert logs.iloc[-1]["tags.tag"] == "1" and logs.iloc[-1]["params.n_clusters"] == 3
    with pytest.raises(ValueError, match="engine must be one of \\['clusterlab', 'sklearn'\\]"):
        exp.create_model("kmeans", engine="sklearnex", verbose=False)
    with pytest.raises(ValueError, match=r"round must be an int >= 0; got 1\.5"):
        exp.create_model("kmeans", round=1.5, verbose=False)


def test_ground_truth_and_pycaret_metric_ids(mice):
    small = mice[["MouseID", *mice.columns[1:11], "class"]]
    exp = ClusteringExperiment(
        small, normalize=True, ignore_features=["MouseID", "class"], session_id=0, verbose=False
    )
    exp.create_model("kmeans", num_clusters=8, ground_truth="class", verbose=False)
    row = exp.pull().iloc[0]
    assert {"Adjusted Rand", "Homogeneity", "Completeness"} <= set(row.index)
    table = exp.get_metrics()
    assert set(table["PyCaret ID"]) >= {"silhouette", "chs", "db", "hs", "ari", "cs"}
    exp.remove_metric("cs")  # PyCaret's docstring example
    exp.remove_metric("chs")
    assert {"completeness", "calinski_harabasz"}.isdisjoint(exp.get_metrics().index)
    exp.create_model("kmeans", num_clusters=8, ground_truth="class", verbose=False)
    assert {"Completeness", "Calinski-Harabasz"}.isdisjoint(exp.pull().columns)
    assert "completeness" in exp.get_metrics(reset=True).index
    exp.remove_metric("Completeness")
    with pytest.raises(ValueError, match="metric 'cs' is not in use"):
        exp.remove_metric("cs")


def test_pycaret_metric_ids_choose_the_sort_criterion(exp):
    from clusterlab.workflow.ranking import criteria

    board = pd.DataFrame({"Noise": [0.0, 0.0]})
    expected = {
        "silhouette": ("Silhouette", True),
        "chs": ("Calinski-Harabasz", True),
        "db": ("Davies-Bouldin", False),
    }
    for pycaret_id, criterion in expected.items():
        assert criteria(board, exp._metrics, pycaret_id, False) == [criterion]


def test_add_metric_pycaret_signature(exp):
    def spread(X, labels, power=1.0):
        return float(np.mean(np.abs(X)) ** power)

    series = pc_add_metric(exp, "spread", "Spread", spread, power=2.0)
    assert series["Name"] == "Spread" and series["Custom"]
    model = exp.create_model("kmeans", verbose=False)
    X = exp.get_config("X_train_transformed").to_numpy()
    assert exp._fitted[id(model)].metrics["Spread"] == pytest.approx(np.mean(np.abs(X)) ** 2)
    assert "spread" not in exp.get_metrics(include_custom=False, raise_errors=True).index
    with pytest.raises(ValueError, match="target must be 'pred'"):
        exp.add_metric("t", "T", spread, target="pred_proba")
    exp.remove_metric("Spread")


def pc_add_metric(exp, *args, **kwargs):
    """add_metric through the functional API, on ``exp``, in PyCaret's positional order."""
    pc.set_current_experiment(exp)
    return pc.add_metric(*args, "pred", False, True, **kwargs)


def test_assign_model_keywords(exp, kmeans):
    out = exp.assign_model(kmeans, transformation=True, verbose=False)
    expected = exp.get_config("dataset_transformed")
    assert list(out.columns) == [*expected.columns, "Cluster"]
    pd.testing.assert_frame_equal(out.drop(columns="Cluster"), expected)
    with pytest.raises(TypeError, match="transformation must be True or False; got 'yes'"):
        exp.assign_model(kmeans, transformation="yes")


def test_plot_model_keywords(exp, kmeans, tmp_path):
    path = exp.plot_model(
        kmeans,
        plot="cluster",
        feature="Age",
        label=True,
        scale=2,
        save=tmp_path,
        display_format=None,
    )
    assert Path(path).name == "Cluster PCA Plot (2d).png"
    fig = exp.plot_model(kmeans, "distribution", feature_name="Income", plot_kwargs={"title": "t"})
    assert fig.axes[0].get_title() == "t"
    with pytest.raises(ValueError, match="fold=5 is a cross-validation option"):
        exp.plot_model(kmeans, fold=5)


def test_evaluate_model_keywords(exp, kmeans):
    text = exp.evaluate_model(kmeans, feature="Age", fit_kwargs={})
    assert "Age per cluster" in text and "Cluster sizes" in text
    assert exp.evaluate_model(kmeans, feature_name="Age") == text
    with pytest.raises(ValueError, match="feature 'Agee' is not a column of the data"):
        exp.evaluate_model(kmeans, feature="Agee")


def test_save_and_load_model_keywords(exp, kmeans, jewellery, tmp_path, clusterlab_log):
    model, name = exp.save_model(kmeans, tmp_path / "alone", model_only=True, verbose=False)
    assert model is kmeans and name == str(tmp_path / "alone.clusterlab")
    alone = exp.load_model(tmp_path / "alone", platform=None, authentication=None, verbose=False)
    X = exp.get_config("X_train_transformed")
    np.testing.assert_array_equal(alone.predict(X), kmeans.labels_)
    exp.save_model(kmeans, tmp_path / "full", verbose=False, compress=3)
    assert "compress are joblib.dump options and have no effect" in clusterlab_log.text
    full = exp.load_model(str(tmp_path / "full.clusterlab"), verbose=False)
    assert exp.predict_model(full, jewellery)["Cluster"].equals(exp.assign_model(kmeans)["Cluster"])
    with pytest.raises(ValueError, match="platform='aws': clusterlab loads model files from disk"):
        exp.load_model("full", platform="aws", authentication={"bucket": "b"})
    with pytest.raises(FileNotFoundError, match=r"model file '.*nope' does not exist \(nor"):
        exp.load_model(tmp_path / "nope")


def test_deploy_model_says_what_to_use_instead(exp, kmeans):
    with pytest.raises(NotImplementedError, match=r"does not deploy to the cloud.*save_model"):
        exp.deploy_model(kmeans, "kmeans-deploy", {"bucket": "S3-bucket-name"}, platform="aws")


def test_pull_pop_models_and_engines(exp, jewellery):
    fresh = ClusteringExperiment(jewellery, session_id=0, verbose=False)
    fresh.create_model("kmeans", num_clusters=2, verbose=False)
    row = fresh.pull(pop=True)
    assert row.index.tolist() == ["kmeans"] and row.iloc[0]["Clusters"] == 2
    assert fresh.pull().loc["Session id", "Value"] == "0"  # the setup table shown before
    table = exp.models(internal=True, raise_errors=False)
    assert {"Key parameter", "Engines"} <= set(table.columns)
    assert exp.get_allowed_engines("kmeans") == ["clusterlab", "sklearn"]
    assert exp.get_allowed_engines("kmodes") == ["clusterlab"]  # no scikit-learn counterpart
    assert exp.get_engine("kmeans") == "clusterlab"


def test_kmodes_and_kmedoids_run_when_asked_for():
    from clusterlab.workflow.compare import candidates

    assert {"kmodes", "kmedoids"}.isdisjoint(candidates(None, None))
    assert candidates(["kmodes", "kmedoids"], None) == ["kmodes", "kmedoids"]


def test_setup_engines(jewellery):
    from sklearn.cluster import DBSCAN as SkDBSCAN

    exp = ClusteringExperiment(jewellery, engines={"dbscan": "sklearn"}, verbose=False)
    assert exp.get_engine("dbscan") == "sklearn" and exp.get_engine("kmeans") == "clusterlab"
    assert type(exp.create_model("dbscan", verbose=False)) is SkDBSCAN
    with pytest.raises(ValueError, match="engines: engine must be one of"):
        ClusteringExperiment(jewellery, engines={"kmeans": "sklearnex"}, verbose=False)
    with pytest.raises(ValueError, match="engines: model 'kmean' is not a known model id"):
        ClusteringExperiment(jewellery, engines={"kmean": "sklearn"}, verbose=False)


def test_get_config_pycaret_names(exp, jewellery):
    names = exp.get_config()
    assert set(PYCARET_CONFIG) <= set(names)
    pd.testing.assert_frame_equal(exp.get_config("X"), jewellery)  # the raw features
    pd.testing.assert_frame_equal(exp.get_config("dataset"), jewellery)
    transformed = exp.get_config("X_train_transformed")
    np.testing.assert_allclose(transformed.mean().to_numpy(), 0.0, atol=1e-12)
    for name in ("X_transformed", "train_transformed", "dataset_transformed"):
        pd.testing.assert_frame_equal(exp.get_config(name), transformed)
    assert exp.get_config("seed") == 123 and exp.get_config("n_jobs_param") == -1
    assert exp.get_config("exp_name_log") == "cluster-default-name"
    assert len(exp.get_config("USI")) == 4 and exp.get_config("exp_id") is None
    assert exp.pipeline is exp.get_config("pipeline") and exp.data is exp.get_config("data")
    assert exp.X_train.equals(jewellery) and exp.get_config("USI") == exp.USI


def test_set_config(jewellery):
    exp = ClusteringExperiment(jewellery, session_id=1, verbose=False)
    exp.set_config("seed", 786)
    exp.set_config(n_jobs_param=1, exp_name_log="jewellery")
    assert exp.get_config("seed") == 786 and exp.get_config("n_jobs_param") == 1
    assert exp.get_logs(experiment_name="jewellery").empty
    with pytest.raises(ValueError, match="variable must be one of"):
        exp.set_config("USI", "abcd")


def test_get_logs(exp, kmeans, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    logs = exp.get_logs(save=True)
    assert {"run_id", "experiment_name", "source", "model", "metrics.Silhouette"} <= set(logs)
    assert (tmp_path / "cluster-default-name_logs.csv").is_file()
    with pytest.raises(ValueError, match="experiment_name 'other' is not this experiment"):
        exp.get_logs(experiment_name="other")


def test_experiment_files_with_or_without_the_suffix(exp, kmeans, jewellery, tmp_path):
    path = exp.save_experiment(tmp_path / "exp")
    assert path == tmp_path / "exp.clusterlab"
    back = ClusteringExperiment.load_experiment(tmp_path / "exp", data=jewellery)
    again = pc.load_experiment(str(path), data_func=lambda: jewellery, preprocess_data=False)
    assert pc.get_current_experiment() is again
    for loaded in (back, again):
        restored = next(r.estimator for r in loaded._fitted.values() if r.model_id == "kmeans")
        assert loaded.assign_model(restored)["Cluster"].str.startswith("Cluster ").all()
    with pytest.raises(FileNotFoundError, match=r"experiment file .* does not exist"):
        Experiment.load_experiment(tmp_path / "missing", jewellery)
    with pytest.raises(ValueError, match="give exactly one of data and data_func; got both"):
        Experiment.load_experiment(path, jewellery, lambda: jewellery, preprocess_data=False)


def test_load_experiment_with_an_index_column(mice, tmp_path):
    small = mice[["MouseID", *mice.columns[1:6], "Genotype"]]
    exp = Experiment(small, index="MouseID", session_id=0, verbose=False)
    model = exp.create_model("kmeans", num_clusters=3, verbose=False)
    path = exp.save_experiment(tmp_path / "indexed")
    back = Experiment.load_experiment(path, small)  # the raw data, MouseID still a column
    assert back.data.index.equals(exp.data.index) and "MouseID" not in back.data
    restored = next(iter(back._fitted.values())).estimator
    assert back.assign_model(restored)["Cluster"].equals(exp.assign_model(model)["Cluster"])
    same = Experiment.load_experiment(path, exp.data, preprocess_data=False)
    assert same.data.index.equals(exp.data.index)


# --------------------------------------------------------------------------------------------
# Label values and return types
# --------------------------------------------------------------------------------------------


def test_noise_is_pycaret_cluster_minus_one(exp, jewellery):
    dbscan = exp.create_model("dbscan", eps=0.3, min_samples=10, verbose=False)
    assert (dbscan.labels_ == -1).any()
    labels = exp.assign_model(dbscan)["Cluster"]
    assert labels.tolist() == [f"Cluster {k}" for k in dbscan.labels_]
    assert (labels == "Cluster -1").sum() == (dbscan.labels_ == -1).sum()


def test_label_format_switches_either_way(jewellery, tmp_path):
    integer = ClusteringExperiment(jewellery, label_format="integer", verbose=False)
    km = integer.create_model("kmeans", verbose=False)
    assert integer.assign_model(km)["Cluster"].dtype == np.int64
    text = Experiment(jewellery, label_format="pycaret", verbose=False)
    km = text.create_model("kmeans", verbose=False)
    assert sorted(text.assign_model(km)["Cluster"].unique()) == CLUSTERS_4
    plain = Experiment(jewellery, verbose=False)
    km = plain.create_model("kmeans", verbose=False)
    assert plain.assign_model(km)["Cluster"].dtype == np.int64
    assert plain.save_model(km, tmp_path / "plain") == tmp_path / "plain.clusterlab"
    with pytest.raises(ValueError, match="label_format must be one of"):
        Experiment(jewellery, label_format="text", verbose=False)


# --------------------------------------------------------------------------------------------
# Warnings and compile time
# --------------------------------------------------------------------------------------------


def test_a_model_that_does_not_converge_is_said_once(exp, clusterlab_log):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning may reach Python's display
        exp.create_model("ap", max_iter=2, convergence_iter=2, verbose=False)
    said = [r for r in clusterlab_log.records if "did not converge" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING
    assert said[0].getMessage().startswith("ap did not converge")
    assert "did not converge" in exp.pull().iloc[0]["Note"]


def test_a_degenerate_result_is_not_called_non_convergence(clusterlab_log):
    from sklearn.exceptions import ConvergenceWarning

    from clusterlab.workflow.fitting import converted_warnings

    notes: list[str] = []
    text = "Number of distinct clusters (3) found smaller than n_clusters (7)."
    with converted_warnings("sc", notes):
        warnings.warn(text, ConvergenceWarning, stacklevel=1)
        warnings.warn(text, ConvergenceWarning, stacklevel=1)  # said once
    said = [r.getMessage() for r in clusterlab_log.records if r.levelno == logging.WARNING]
    assert said == [f"sc: {text}"] and notes == [text]


# --------------------------------------------------------------------------------------------
# Result plots and the plots layering
# --------------------------------------------------------------------------------------------


def test_result_plots(exp, kmeans):
    from clusterlab.plots import plot_model
    from clusterlab.selection import choose_k, stability

    X = exp.get_config("X_train_transformed").to_numpy()
    result = choose_k(X, k_range=range(2, 5), random_state=0, n_refs=2)
    fig = result.plot(figsize=(9.0, 3.0))
    assert tuple(fig.get_size_inches()) == (9.0, 3.0)
    assert {ax.get_title() for ax in fig.axes if ax.get_visible()} >= {"silhouette", "elbow"}
    resampled = stability(X, model="kmeans", n_clusters=3, n_resamples=3, random_state=0)
    ax = resampled.plot(title="stable?").axes[0]
    assert ax.get_title() == "stable?" and len(ax.patches) == 3
    with pytest.raises(ValueError, match="plot='k_selection' draws a choose_k result: pass"):
        plot_model(kmeans, X, plot="k_selection")
    with pytest.raises(ValueError, match="plot='stability' draws a stability result: pass"):
        plot_model(kmeans, X, plot="stability")
    assert isinstance(exp.plot_model(kmeans, plot="k_selection", k_range=range(2, 5)), Figure)
    assert isinstance(exp.plot_model(kmeans, plot="stability"), Figure)


def test_plots_never_import_selection():
    from tests.test_import_graph import import_graph

    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith("clusterlab.plots"):
            assert not {t for t in targets if t.startswith("clusterlab.selection")}, module


# --------------------------------------------------------------------------------------------
# The command line shows no third-party warning
# --------------------------------------------------------------------------------------------


@pytest.fixture
def cli_logging():
    """The command line configures the 'clusterlab' logger; put it back afterwards."""
    package = logging.getLogger("clusterlab")
    saved = (package.handlers[:], package.level, package.propagate)
    yield
    package.handlers[:], package.level, package.propagate = saved


def test_cli_shows_no_third_party_warning(jewellery, tmp_path, monkeypatch, capsys, cli_logging):
    from clusterlab import cli
    from clusterlab.cli import _common

    data = tmp_path / "jewellery.csv"
    jewellery.to_csv(data, index=False)
    original = _common.read_input

    def read_with_a_library_warning(*args, **kwargs):
        warnings.warn("a library says something", FutureWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_common, "read_input", read_with_a_library_warning)
    command = ["compare", str(data), "--include", "kmeans", "--format", "csv"]
    assert cli.main(command) == 0
    shown = capsys.readouterr()
    assert "library says" not in shown.err + shown.out and "Warning" not in shown.err
    assert cli.main([*command, "--debug"]) == 0
    assert "debug: FutureWarning: a library says something" in capsys.readouterr().err


def test_cli_logs_clusterlab_warnings_as_lines(capsys, cli_logging):
    import clusterlab.workflow.fitting as ours
    from clusterlab.cli import _configure_logging, _warnings_as_log_lines

    _configure_logging(quiet=False, verbose=0, debug=False)
    with _warnings_as_log_lines():
        warnings.warn_explicit("ours to say", UserWarning, ours.__file__, 1)
        warnings.warn_explicit("theirs", UserWarning, "/elsewhere/lib.py", 1)
    err = capsys.readouterr().err
    assert "warning: ours to say" in err and "theirs" not in err
