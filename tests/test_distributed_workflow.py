"""The workflow and the command line on Dask DataFrames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlab import Experiment

dd = pytest.importorskip("dask.dataframe")

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("dask_client")]


@pytest.fixture(scope="module")
def table(wholesale):
    """The wholesale data with some missing values, its pandas and Dask forms."""
    frame = wholesale.copy()
    frame.index = frame.index * 2 + 11  # not a default index: it must come back as it was
    frame.loc[frame.index[::37], "Milk"] = np.nan
    return frame, dd.from_pandas(frame, npartitions=4)


OPTIONS = {"normalize": True, "session_id": 0, "verbose": False, "ignore_features": ["Region"]}


@pytest.fixture(scope="module")
def experiment(table):
    _, ddf = table
    return Experiment(ddf, dask_sample=200, ground_truth="Channel", **OPTIONS)


def test_setup_fits_its_statistics_on_every_row(table, experiment):
    frame, _ = table
    full = Experiment(frame, ground_truth="Channel", **OPTIONS)
    ours = experiment.get_config("pipeline")
    theirs = full.get_config("pipeline")
    assert len(experiment.X_) == 200  # the sample the models are compared on
    imputer = ours.steps[0][1].named_transformers_["numeric"].steps[0][1]
    reference = theirs.steps[0][1].named_transformers_["numeric"].steps[0][1]
    np.testing.assert_allclose(imputer.statistics_, reference.statistics_, rtol=1e-12)
    scaler, full_scaler = ours.named_steps["normalize"], theirs.named_steps["normalize"]
    np.testing.assert_allclose(scaler.mean_, full_scaler.mean_, rtol=1e-12)
    np.testing.assert_allclose(scaler.scale_, full_scaler.scale_, rtol=1e-12)
    assert scaler.n_samples_seen_ == len(frame)


def test_kmeans_is_refitted_on_every_row_and_assigned_lazily(table, experiment):
    frame, _ddf = table
    model = experiment.create_model("kmeans", num_clusters=3)
    assert "fitted on all 440 rows (Dask)" in experiment.pull()["Note"].iloc[0]
    labelled = experiment.assign_model(model)
    assert isinstance(labelled, dd.DataFrame)
    result = labelled.compute()
    assert list(result.columns) == [*frame.columns, "Cluster"]
    pd.testing.assert_frame_equal(result.drop(columns="Cluster"), frame)
    features = [c for c in frame.columns if c not in ("Region", "Channel")]
    prepared = experiment.get_config("pipeline").transform(frame[features])
    np.testing.assert_array_equal(result["Cluster"].to_numpy(), model.predict(np.asarray(prepared)))
    np.testing.assert_array_equal(model.labels_.compute(), result["Cluster"].to_numpy())


@pytest.mark.parametrize(
    ("model_id", "params"), [("gmm", {"num_clusters": 3}), ("birch", {}), ("kmedoids", {})]
)
def test_mixtures_medoids_and_birch_are_refitted_on_every_row(table, experiment, model_id, params):
    frame, _ddf = table
    model = experiment.create_model(model_id, **params)
    assert "fitted on all 440 rows (Dask)" in experiment.pull()["Note"].iloc[0]
    assert hasattr(model.labels_, "dask") and model.labels_.shape[0] == len(frame)
    start = {"means_init", "weights_init", "precisions_init", "n_init"}
    if model_id == "gmm":  # the start from the sample fit was set for the refit only
        assert all(model.get_params()[name] in (None, 1) for name in start)
    features = [c for c in frame.columns if c not in ("Region", "Channel")]
    prepared = np.asarray(experiment.get_config("pipeline").transform(frame[features]))
    labels = experiment.assign_model(model).compute()["Cluster"].to_numpy()
    np.testing.assert_array_equal(labels, model.predict(prepared))
    np.testing.assert_array_equal(model.labels_.compute(), labels)


def test_models_without_a_distributed_fit_stay_on_the_sample(experiment, table):
    _frame, _ddf = table
    model = experiment.create_model("hclust", num_clusters=3)
    assert "fitted on a sample of 200 of 440 rows" in experiment.pull()["Note"].iloc[0]
    labels = experiment.assign_model(model, label_name="segment").compute()["segment"]
    assert labels.shape == (440,) and set(labels) <= {0, 1, 2}


def test_compare_refits_the_best_model(experiment):
    best = experiment.compare_models(include=["kmeans", "minibatch"], verbose=False)
    board = experiment.pull()
    assert "fitted on all 440 rows (Dask)" in board.loc[board.index[0], "Note"]
    assert hasattr(best.labels_, "dask")


def test_saved_model_labels_dask_data(experiment, table, tmp_path):
    from clusterlab.persistence import load_model

    _frame, ddf = table
    model = experiment.create_model("kmeans", num_clusters=4)
    path = experiment.save_model(model, tmp_path / "segments")
    loaded = load_model(path)
    lazy = experiment.predict_model(loaded, ddf, label_name="segment")
    assert isinstance(lazy, dd.DataFrame)
    expected = experiment.assign_model(model, label_name="segment").compute()["segment"]
    pd.testing.assert_series_equal(lazy.compute()["segment"], expected)


def test_label_format_is_kept_per_partition(table, tmp_path):
    from clusterlab import ClusteringExperiment
    from clusterlab.persistence import load_model

    frame, ddf = table
    exp = ClusteringExperiment(ddf, dask_sample=200, **OPTIONS)  # PyCaret's "Cluster 0" labels
    model = exp.create_model("kmeans", num_clusters=3, verbose=False)
    features = [c for c in frame.columns if c != "Region"]
    prepared = np.asarray(exp.get_config("pipeline").transform(frame[features]))
    expected = [f"Cluster {k}" for k in model.predict(prepared)]
    loaded = load_model(exp.save_model(model, tmp_path / "segments", verbose=False)[1])
    for lazy in (
        exp.assign_model(model),
        exp.predict_model(model, ddf),
        exp.predict_model(loaded, ddf),
    ):
        result = lazy.compute()
        assert result["Cluster"].tolist() == expected
        assert lazy.dtypes["Cluster"] == result["Cluster"].dtype  # the meta tells the truth
        pd.testing.assert_frame_equal(result.drop(columns="Cluster"), frame)
    integers = Experiment(ddf, dask_sample=200, **OPTIONS)
    km = integers.create_model("kmeans", num_clusters=3)
    assert integers.assign_model(km).dtypes["Cluster"] == np.int64


def test_setup_refuses_what_needs_every_row_in_memory(table):
    _, ddf = table
    with pytest.raises(ValueError, match="remove_outliers needs every row in memory"):
        Experiment(ddf, remove_outliers=True, verbose=False)
    with pytest.raises(ValueError, match="imputation 'drop'"):
        Experiment(ddf, numeric_imputation="drop", verbose=False)


@pytest.mark.slow
def test_cli_segments_a_partitioned_data_set(wholesale, tmp_path, capsys):
    from clusterlab.cli import main
    from clusterlab.persistence import load_model

    data = tmp_path / "data"
    data.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(wholesale)), 3)):
        wholesale.iloc[part].to_parquet(data / f"part-{i}.parquet")
    out = tmp_path / "segments"
    argv = [
        "segment", str(data / "*.parquet"), "--scheduler", "local", "--out", str(out),
        "--model", "kmeans", "--k", "3", "--ignore", "Region", "--ground-truth", "Channel",
        "--save-model", str(tmp_path / "model.clusterlab"),
    ]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "chosen: kmeans" in printed and "440 rows" in printed
    written = pd.read_parquet(out)
    assert len(list(out.glob("*.parquet"))) == 3
    assert sorted(written.index) == sorted(wholesale.index)
    labels = written.loc[wholesale.index, "segment"].to_numpy()
    assert set(labels) == {0, 1, 2}
    model = load_model(tmp_path / "model.clusterlab")
    np.testing.assert_array_equal(model.predict(wholesale), labels)
    assert main(argv) == 2  # --out exists: refused without --force
    assert "exists; use --force" in capsys.readouterr().err
