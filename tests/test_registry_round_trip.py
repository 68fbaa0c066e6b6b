"""Every registry entry passes the workflow round trip.

create -> assign -> predict -> save_model -> load_model -> predict, and save_experiment ->
load_experiment -> assign, give the same labels. A new model id is covered as soon as its entry
is in the registry (see the README's "Adding a model").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from clusterlab import Experiment
from clusterlab.clustering import load_model
from clusterlab.models import REGISTRY


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=90, centers=3, cluster_std=0.6, random_state=11)
    return pd.DataFrame(
        {"x": X[:, 0], "y": X[:, 1], "tier": np.where(X[:, 1] > 0, "gold", "basic")},
        index=pd.Index([f"c{i}" for i in range(90)], name="customer"),
    )


@pytest.fixture(scope="module")
def fitted(data):
    # outlier removal leaves rows out of training, so the out-of-sample rule is exercised too
    exp = Experiment(data, normalize=True, remove_outliers=True, session_id=0, verbose=False)
    models = {model_id: exp.create_model(model_id, verbose=False) for model_id in REGISTRY}
    return exp, models


@pytest.fixture(scope="module")
def restored(fitted, data, tmp_path_factory):
    exp, _ = fitted
    path = exp.save_experiment(tmp_path_factory.mktemp("round_trip") / "exp")
    back = Experiment.load_experiment(path, data)
    return {r.model_id: r.estimator for r in back._fitted.values()}, back


@pytest.mark.parametrize("model_id", list(REGISTRY))
def test_round_trip(fitted, restored, data, model_id, tmp_path):
    exp, models = fitted
    model = models[model_id]
    assigned = exp.assign_model(model)["Cluster"].to_numpy()
    assert (~exp.get_config("train_mask")).any()
    np.testing.assert_array_equal(exp.predict_model(model, data)["Cluster"], assigned)
    loaded = load_model(exp.save_model(model, tmp_path / model_id))
    assert loaded.model_id == model_id
    np.testing.assert_array_equal(loaded.predict(data), assigned)
    estimators, back = restored
    if model_id in estimators:
        np.testing.assert_array_equal(back.assign_model(estimators[model_id])["Cluster"], assigned)
    else:  # an estimator skops cannot store is left out of experiment files (Birch)
        assert REGISTRY[model_id].portable_rule is not None
