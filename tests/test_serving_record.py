"""What a model file records for scoring: feature schema, segment descriptions, anomaly scorer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clusterlab import Experiment
from clusterlab.insight import AnomalyScorer, anomaly_scores, profile_segments
from clusterlab.persistence import load_model

LEGACY = Path(__file__).parent / "data" / "legacy"


@pytest.fixture(scope="module")
def data(wholesale):
    frame = wholesale.head(200).copy()
    frame["Region"] = frame["Region"].map({1: "Lisbon", 2: "Oporto", 3: "Other"})
    frame["Member"] = frame["Channel"] == 2
    frame.loc[frame.index[::17], "Fresh"] = np.nan
    frame.loc[frame.index[::23], "Region"] = None
    return frame.drop(columns="Channel")


@pytest.fixture(scope="module")
def saved(data, tmp_path_factory):
    exp = Experiment(data, normalize=True, log_transform=True, session_id=0, verbose=False)
    model = exp.create_model("kmeans", num_clusters=3, verbose=False)
    path = exp.save_model(model, tmp_path_factory.mktemp("m") / "kmeans")
    return exp, model, load_model(path)


def test_feature_schema(saved, data):
    _, _, loaded = saved
    features = {f["name"]: f for f in loaded.serving["features"]}
    assert list(features) == loaded.features
    assert features["Fresh"] == {
        "name": "Fresh", "kind": "numeric", "type": "number", "dtype": "float64", "nullable": True,
        "exclusive_minimum": -1.0,
    }  # fmt: skip
    logged = set(loaded.pipeline.steps[0][1].named_transformers_["numeric_log1p"].feature_names_in_)
    assert {n for n, f in features.items() if "exclusive_minimum" in f} == logged
    assert features["Milk"]["dtype"] == "int64" and features["Milk"]["type"] == "number"
    assert features["Region"]["kind"] == "categorical"
    assert features["Region"]["categories"] == sorted(data["Region"].dropna().unique())
    assert features["Member"]["type"] == "boolean"
    assert features["Member"]["categories"] == [False, True]


def test_nullable_features_really_accept_missing_values(saved, data):
    _, _, loaded = saved
    row = data.iloc[[0]].copy()
    for feature in loaded.serving["features"]:
        assert feature["nullable"]
        row[feature["name"]] = None
        assert loaded.predict(row).shape == (1,)


def test_without_imputation_nothing_is_nullable_and_the_pipeline_refuses_missing_values(data):
    complete = data.dropna()
    exp = Experiment(complete, imputation_type=None, session_id=0, verbose=False)
    exp.create_model("kmeans", num_clusters=2, verbose=False)
    from clusterlab.workflow.serving import feature_schema

    assert not any(f["nullable"] for f in feature_schema(exp._state()))
    row = complete.iloc[[0]].assign(Fresh=np.nan)
    with pytest.raises(ValueError, match="missing values"):
        exp._state().preprocessor.transform(row)


def test_segments_and_descriptions(saved, data):
    exp, model, loaded = saved
    labels = exp.assign_model(model)["Cluster"].to_numpy()
    train = exp.get_config("train_mask")
    profiles = profile_segments(data.loc[train, loaded.features], labels[train])
    segments = loaded.serving["segments"]
    assert [s["segment"] for s in segments] == [0, 1, 2]
    assert [s["description"] for s in segments] == list(profiles.descriptions.values())
    assert sum(s["size"] for s in segments) == train.sum()
    assert sum(s["share"] for s in segments) == pytest.approx(1.0)


def test_anomaly_scorer_in_the_file_scores_like_anomaly_scores(saved):
    exp, model, loaded = saved
    X = exp.get_config("X_transformed").to_numpy()
    scorer = AnomalyScorer.from_record(loaded.serving["anomaly"])
    assert scorer.measure == "centre"
    np.testing.assert_allclose(scorer.score(X), anomaly_scores(model, X), atol=1e-12)


@pytest.mark.parametrize("model_id", ["kmeans", "dbscan", "hdbscan", "hclust", "birch", "gmm"])
def test_legacy_files_load_without_a_serving_record(model_id):
    loaded = load_model(LEGACY / f"{model_id}.clusterlab")
    assert loaded.serving is None
    data = pd.read_csv(LEGACY / "data.csv", index_col="row")
    assert len(loaded.predict(data)) == len(data)
