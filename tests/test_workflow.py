"""The workflow package: the prepared state, the result objects behind pull(), the facade."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from clusterlab import Experiment
from clusterlab.workflow import Leaderboard, Prepared, TuneResult, prepare


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=200, centers=3, cluster_std=0.7, random_state=4)
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "truth": y})


@pytest.fixture(scope="module")
def exp(data):
    return Experiment(data, ignore_features=["truth"], session_id=0, verbose=False)


@pytest.fixture(scope="module")
def compared(exp):
    best = exp.compare_models(include=["kmeans", "gmm", "hdbscan"], n_select=3, verbose=False)
    return best, exp.leaderboard_, exp.pull()


def test_prepared_state_is_frozen_and_never_changed_in_place(data):
    state = prepare(data, ignore_features=["truth"], normalize=True, verbose=False)
    assert isinstance(state, Prepared) and state.y is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.y = None
    truth = state.with_ground_truth("truth")
    assert state.y is None and truth.y.equals(data["truth"])
    with pytest.raises(ValueError, match="ground_truth 'nope' is not a column of the data"):
        state.with_ground_truth("nope")
    seeded = state.with_option("session_id", 3)
    assert (seeded.options.session_id, state.options.session_id) == (3, None)
    assert state.X.shape == (200, 2) and state.summary().loc["Feature columns", "Value"] == "2"


def test_compare_returns_the_best_and_keeps_the_leaderboard(exp, compared):
    best, board, pulled = compared
    assert isinstance(board, Leaderboard)
    pd.testing.assert_frame_equal(board.to_pandas(), pulled)
    assert best == board.best(3)
    assert list(board.ranked) == list(pulled.index[:3])
    assert best[0] is board.records[board.ranked[0]].estimator
    assert set(board.k_selection) == {"kmeans", "gmm"}  # hdbscan takes no k
    assert board.k_selection["kmeans"] is exp.get_config("k_selection")["kmeans"]
    assert board.to_pandas() is not board.table  # pull() hands out copies


def test_leaderboard_plots_how_k_was_chosen(compared):
    from matplotlib.figure import Figure

    _, board, _ = compared
    fig = board.plot("gmm")
    assert isinstance(fig, Figure)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"chosen k = {board.k_selection['gmm'].best_k}" in legend
    assert isinstance(board.plot(), Figure)  # the best model whose k was chosen
    with pytest.raises(ValueError, match="model must be one of the models whose k was chosen"):
        board.plot("hdbscan")


def test_tune_returns_the_model_and_keeps_the_result(exp):
    model = exp.tune_model("kmeans", search_space={"n_clusters": [2, 3, 4]}, verbose=False)
    result = exp.tune_result_
    assert isinstance(result, TuneResult) and result.model is model
    pd.testing.assert_frame_equal(result.to_pandas(), exp.pull())
    assert result.optimize == "Silhouette" and result.greater_is_better
    assert result.best_params == {"n_clusters": int(result.table.loc[0, "n_clusters"])}
    assert model.n_clusters == result.best_params["n_clusters"]
    assert result.table["Silhouette"].is_monotonic_decreasing
    assert len(exp.assign_model(model)) == 200  # the tuned model is the experiment's


def test_pull_follows_the_last_result(exp):
    exp.create_model("kmeans", num_clusters=3, verbose=False)
    row = exp.pull()
    assert list(row.index) == ["kmeans"] and row.loc["kmeans", "Clusters"] == 3
    row.loc["kmeans", "Clusters"] = 99  # a copy: the record is not changed
    assert exp.pull().loc["kmeans", "Clusters"] == 3


def test_ground_truth_of_one_call_leaves_the_state_alone(exp):
    exp.create_model("kmeans", num_clusters=3, ground_truth="truth", verbose=False)
    assert "Adjusted Rand" in exp.pull().columns
    assert exp.get_config("y") is None


def test_set_config_gives_a_new_state(data):
    e = Experiment(data, ignore_features=["truth"], session_id=0, verbose=False)
    options = e.get_config("options")
    e.set_config("seed", 5)
    assert e.get_config("session_id") == 5 and options.session_id == 0
    e.set_config("search_size", 100)
    assert e.get_config("search_size") == 100
    with pytest.raises(ValueError, match="search_size must be an int >= 50; got 10"):
        e.set_config("search_size", 10)
    labels = e.assign_model(e.create_model("kmeans", verbose=False))["Cluster"]
    assert labels.nunique() == 4 and np.isin(labels, range(4)).all()


def _sections(path) -> set[str]:
    import re

    return set(re.findall(r'<section id="(\w+)"', path.read_text(encoding="utf-8")))


def test_report_of_the_compared_best_model(exp, compared, tmp_path):
    best, board, _ = compared
    path = exp.report(tmp_path / "segments.html")
    assert path == tmp_path / "segments.html"
    text = path.read_text(encoding="utf-8")
    assert {"data", "preprocessing", "leaderboard", "model", "segments", "anomalies"} <= (
        _sections(path)
    )
    assert type(best[0]).__name__ in text  # the default model is the best of the comparison
    if board.ranked[0] in board.k_selection:
        assert "k_selection" in _sections(path)
    with pytest.raises(FileExistsError, match="already exists; pass overwrite=True"):
        exp.report(path)
    with pytest.raises(ValueError, match=r"must be a file name ending in \.html or \.htm"):
        exp.report(tmp_path / "segments.pdf")


def test_report_of_a_created_model_has_no_leaderboard(data, tmp_path):
    e = Experiment(data, ignore_features=["truth"], session_id=0, verbose=False)
    with pytest.raises(RuntimeError, match="nothing to report yet"):
        e.report(tmp_path / "none.html")
    model = e.create_model("kmeans", num_clusters=3, verbose=False)
    path = e.report(tmp_path / "km.html", model, title="Three segments")
    sections = _sections(path)
    assert "leaderboard" not in sections and "k_selection" not in sections
    text = path.read_text(encoding="utf-8")
    assert "Three segments" in text and "session_id" in text  # what reproduces the run
    assert "ignore_features" in text


def test_report_input_is_one_object(exp, compared):
    from clusterlab.report import ReportInput
    from clusterlab.workflow.reporting import report_input

    _, board, _ = compared
    record = board.records[board.ranked[0]]
    content = report_input(exp._state(), record, board, exp.get_config("k_selection"))
    assert isinstance(content, ReportInput)
    assert list(content.data.columns) == ["a", "b"]  # the features, in the user's units
    np.testing.assert_array_equal(content.labels, record.labels)
    pd.testing.assert_frame_equal(content.comparison.leaderboard, board.to_pandas())
    assert content.comparison.chosen == record.model_id
    assert content.profiles.sizes["size"].sum() == len(record.labels)


def test_plot_model_passes_setup_and_pycaret_options(exp, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    model = exp.create_model("kmeans", num_clusters=3, verbose=False)
    assert isinstance(exp.plot_model(model, plot="pipeline"), Figure)  # setup's pipeline
    monkeypatch.chdir(tmp_path)
    written = exp.plot_model(model, plot="distribution", save=True)
    assert (tmp_path / written).exists() and str(written).endswith(".png")
