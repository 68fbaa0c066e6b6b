"""Every model id with a scikit-learn engine runs with it in create_model, even where the engine's
class lacks a parameter of clusterlab's (scikit-learn's AffinityPropagation has no n_clusters)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlab import Experiment
from clusterlab.models import REGISTRY, get_entry

SKLEARN_IDS = [model_id for model_id, entry in REGISTRY.items() if "sklearn" in entry.engines]


@pytest.fixture(scope="module")
def exp():
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 3)), columns=list("abc"))
    return Experiment(frame, session_id=0, verbose=False)


@pytest.mark.parametrize("model_id", SKLEARN_IDS)
def test_create_model_with_the_sklearn_engine(exp, model_id):
    model = exp.create_model(model_id, engine="sklearn", verbose=False)
    assert type(model) is get_entry(model_id).estimator_class("sklearn")
    labels = exp.assign_model(model)["Cluster"]
    assert len(labels) == 60 and labels.notna().all()


def test_ap_key_parameter_follows_the_engine(exp):
    ap = get_entry("ap")
    assert ap.takes("n_clusters", "clusterlab") and not ap.takes("n_clusters", "sklearn")
    assert exp.create_model("ap", num_clusters=3, verbose=False).n_clusters == 3
    with pytest.raises(ValueError, match="num_clusters is not available for 'ap' with engine"):
        exp.create_model("ap", num_clusters=3, engine="sklearn", verbose=False)


def test_engine_of_setup_applies_to_create_compare_and_tune():
    frame = pd.DataFrame(np.random.default_rng(1).normal(size=(40, 2)), columns=["x", "y"])
    exp = Experiment(frame, engines={"ap": "sklearn"}, session_id=0, verbose=False)
    sklearn_ap = get_entry("ap").estimator_class("sklearn")
    assert type(exp.create_model("ap", verbose=False)) is sklearn_ap
    best = exp.compare_models(include=["ap"], verbose=False)  # no k to choose: its own defaults
    assert type(best) is sklearn_ap and exp.pull().loc["ap", "k chosen by"] == ""
    tuned = exp.tune_model("ap", n_iter=2, verbose=False)  # the space of its own parameters
    assert type(tuned) is sklearn_ap and "n_clusters" not in exp.tune_result_.best_params
