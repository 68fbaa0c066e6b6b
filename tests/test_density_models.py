"""The workflow's density ids are backed by clusterlab's estimators and their own predict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from clusterlab import OPTICS, Experiment
from clusterlab.models import REGISTRY, NativePredict, out_of_sample_rule


@pytest.mark.parametrize("model_id", ["dbscan", "hdbscan", "optics"])
def test_density_ids_are_ours_with_native_predict(model_id):
    entry = REGISTRY[model_id]
    est = entry.factory()
    assert type(est).__module__.startswith("clusterlab.cluster."), model_id
    assert entry.implementation.startswith("clusterlab "), entry.implementation
    assert entry.native_predict
    assert isinstance(out_of_sample_rule(est), NativePredict)


def test_optics_entry_builds_our_optics():
    assert isinstance(REGISTRY["optics"].factory(min_samples=7), OPTICS)


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=300, centers=3, cluster_std=0.4, random_state=5)
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1]}, index=[f"r{i}" for i in range(300)])


def test_optics_workflow_predicts_training_rows_and_far_rows(data):
    exp = Experiment(data, session_id=0, verbose=False)
    model = exp.create_model("optics", verbose=False)
    assigned = exp.assign_model(model)["Cluster"].to_numpy()
    assert assigned.max() >= 1  # the blobs are found
    again = exp.predict_model(model, data)["Cluster"].to_numpy()
    np.testing.assert_array_equal(again, assigned)
    far = pd.DataFrame({"a": [1e3, -1e3], "b": [1e3, 1e3]}, index=["x", "y"])
    out = exp.predict_model(model, far)
    assert out.index.tolist() == ["x", "y"]
    np.testing.assert_array_equal(out["Cluster"].to_numpy(), [-1, -1])
