"""Safe model files: round trips, and refusal of foreign, modified or unsafe files."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from clusterlab import Experiment
from clusterlab.clustering import load_model
from clusterlab.models import REGISTRY
from clusterlab.persistence import FORMAT_VERSION, _write


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=120, centers=3, cluster_std=0.5, random_state=3)
    return pd.DataFrame(
        {"a": X[:, 0], "b": X[:, 1], "colour": np.where(X[:, 0] > 0, "warm", "cold")},
        index=pd.Index([f"r{i}" for i in range(120)], name="row"),
    )


@pytest.fixture(scope="module")
def exp(data):
    return Experiment(data, normalize=True, remove_outliers=True, session_id=0, verbose=False)


@pytest.mark.parametrize("model_id", list(REGISTRY))
def test_round_trip_every_id(exp, data, model_id, tmp_path):
    model = exp.create_model(model_id, verbose=False)
    assigned = exp.assign_model(model)["Cluster"].to_numpy()
    path = exp.save_model(model, tmp_path / model_id)
    assert path.exists() and path.suffix == ".clusterlab"
    loaded = load_model(path)
    out = exp.predict_model(loaded, data)  # an Experiment keeps integer labels
    assert out.index.equals(data.index)
    assert list(out.columns) == [*data.columns, "Cluster"]
    np.testing.assert_array_equal(out["Cluster"].to_numpy(), assigned)
    assert out["Cluster"].dtype == np.int64


def _rewrite(path, *, header=None, payload=None):
    with zipfile.ZipFile(path) as zf:
        old_header = json.loads(zf.read("clusterlab.json"))
        old_payload = zf.read("payload.skops")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("clusterlab.json", json.dumps(header or old_header))
        zf.writestr("payload.skops", payload if payload is not None else old_payload)
    return old_header, old_payload


def test_refuses_foreign_and_modified_files(exp, tmp_path):
    model = exp.create_model("kmeans", num_clusters=3, verbose=False)
    foreign = tmp_path / "model.pkl"
    foreign.write_bytes(b"\x80\x04not a zip")
    with pytest.raises(ValueError, match="not a clusterlab file \\(not a zip archive\\)"):
        load_model(foreign)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("data.csv", "a,b\n")
    with pytest.raises(ValueError, match="not a clusterlab file"):
        load_model(other_zip)
    path = exp.save_model(model, tmp_path / "km.clusterlab")
    header, payload = _rewrite(path)
    tampered = bytearray(payload)
    tampered[len(tampered) // 2] ^= 0xFF
    _rewrite(path, payload=bytes(tampered))
    with pytest.raises(ValueError, match="modified after it was written"):
        load_model(path)
    _rewrite(path, header={**header, "format_version": FORMAT_VERSION + 1}, payload=payload)
    with pytest.raises(
        ValueError, match="format version 2; this clusterlab reads versions up to 1"
    ):
        load_model(path)
    _rewrite(path, header={**header, "kind": "experiment"}, payload=payload)
    with pytest.raises(
        ValueError, match="is an experiment file, not a model file; read it with load_experiment"
    ):
        load_model(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "missing.clusterlab")


def test_refuses_types_outside_the_allowlist(tmp_path):
    # a file whose checksum is right but that would rebuild os.system: refused before loading
    path = _write(tmp_path / "evil", "model", {"estimator": os.system}, {})
    with pytest.raises(ValueError, match=r"not on clusterlab's allowlist.*system"):
        load_model(path)


def test_experiment_round_trip(exp, data, tmp_path):
    km = exp.create_model("kmeans", num_clusters=3, verbose=False)
    db = exp.create_model("dbscan", verbose=False)
    path = exp.save_experiment(tmp_path / "exp")
    back = Experiment.load_experiment(path, data)
    pd.testing.assert_frame_equal(back.get_config("X_transformed"), exp.get_config("X_transformed"))
    np.testing.assert_array_equal(back.get_config("train_mask"), exp.get_config("train_mask"))
    restored = list(back._fitted.values())
    by_id = {r.model_id: r.estimator for r in restored}
    for model_id, original in (("kmeans", km), ("dbscan", db)):
        np.testing.assert_array_equal(
            back.assign_model(by_id[model_id])["Cluster"], exp.assign_model(original)["Cluster"]
        )
    with pytest.raises(ValueError, match="data does not match the saved experiment"):
        Experiment.load_experiment(path, data.iloc[:10])
    with pytest.raises(
        ValueError, match="is an experiment file, not a model file; read it with load_experiment"
    ):
        load_model(path)


def test_experiment_keeps_choose_k_results(data, tmp_path):
    exp = Experiment(data, normalize=True, session_id=0, verbose=False)
    best = exp.compare_models(include=["kmeans"], verbose=False)
    before = exp.get_config("k_selection")["kmeans"]
    back = Experiment.load_experiment(exp.save_experiment(tmp_path / "exp"), data)
    after = back.get_config("k_selection")["kmeans"]
    assert after.best_k == before.best_k and after.reason == before.reason
    assert after.votes == before.votes and after.notes == before.notes
    pd.testing.assert_frame_equal(after.table, before.table)
    np.testing.assert_array_equal(after.labels_, before.labels_)
    (record,) = back._fitted.values()
    assert record.selection is after  # stored once, shared as in the saved experiment
    restored = record.estimator
    assert restored.n_clusters == best.n_clusters
    fig = back.plot_model(restored, plot="k_selection")
    assert fig.axes
