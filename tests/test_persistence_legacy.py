"""Files written by an earlier clusterlab (tests/data/legacy) still load and predict the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clusterlab import Experiment
from clusterlab.clustering import load_model

LEGACY = Path(__file__).parent / "data" / "legacy"
MODEL_IDS = ("kmeans", "dbscan", "hdbscan", "hclust", "birch", "gmm")


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(LEGACY / "data.csv", index_col="row")


@pytest.fixture(scope="module")
def expected():
    return pd.read_csv(LEGACY / "expected_labels.csv", index_col="row")


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_legacy_model_file_predicts_the_labels_it_was_saved_with(data, expected, model_id):
    loaded = load_model(LEGACY / f"{model_id}.clusterlab")
    assert loaded.model_id == model_id
    labels = loaded.predict(data)
    np.testing.assert_array_equal(labels, expected[model_id].to_numpy())


def test_legacy_experiment_file_restores_models_and_choose_k(data, expected):
    exp = Experiment.load_experiment(LEGACY / "experiment.clusterlab", data)
    assert exp.get_config("options").columns.ground_truth == "truth"
    assert exp.get_config("train_mask").sum() < len(data)  # outliers were left out
    selection = exp.get_config("k_selection")["kmeans"]
    assert selection.reason.startswith(f"k = {selection.best_k}: led by")
    ids = sorted(r.model_id for r in exp._fitted.values())
    assert ids == sorted(["kmeans", "kmeans", "dbscan", "hdbscan", "hclust", "gmm"])
    for record in exp._fitted.values():
        labels = exp.assign_model(record.estimator)["Cluster"].to_numpy()
        if record.selection is None:  # the create_model fits of make_legacy_files.py
            np.testing.assert_array_equal(labels, expected[record.model_id].to_numpy())
        assert np.array_equal(exp.predict_model(record.estimator, data)["Cluster"], labels)
