"""The functional API: PyCaret's snippet runs with only the import changed."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import clusterlab.clustering as cl


def _snippet(data, quiet=""):
    # PyCaret's quick start, unchanged but for the import (run inside a fresh namespace)
    namespace = {"data": data}
    code = (
        "from clusterlab.clustering import *\n"
        f"clustering = setup(data, normalize=True{quiet})\n"
        "best_model = compare_models()\n"
        "kmeans = create_model('kmeans')\n"
        "labels = assign_model(kmeans)\n"
    )
    exec(compile(code, "<pycaret snippet>", "exec"), namespace)
    return namespace


def test_snippet_on_wholesale(wholesale, capsys):
    ns = _snippet(wholesale)
    shown = capsys.readouterr().out
    for title in ("Inferred schema", "compare_models", "create_model('kmeans')"):
        assert title in shown
    labels = ns["labels"]
    assert len(labels) == len(wholesale)
    assert list(labels.columns) == [*wholesale.columns, "Cluster"]
    # k = 4 by default; PyCaret's label values
    assert sorted(labels["Cluster"].unique()) == [
        "Cluster 0",
        "Cluster 1",
        "Cluster 2",
        "Cluster 3",
    ]
    board = cl.pull()
    assert board is not None
    assert ns["clustering"] is cl.get_current_experiment() is cl.get_experiment()
    prepared = cl.get_config("X_transformed")
    assert prepared.shape == (440, 8)
    np.testing.assert_allclose(prepared.mean().to_numpy(), 0.0, atol=1e-9)


def test_snippet_on_synthetic_with_categorical():
    rng = np.random.default_rng(5)
    n = 200
    group = rng.integers(0, 3, n)
    data = pd.DataFrame(
        {
            "income": rng.normal(40 + 20 * group, 4),
            "age": rng.normal(30 + 10 * group, 3),
            "plan": np.array(["basic", "plus", "premium"])[group],
        }
    )
    ns = _snippet(data, quiet=", verbose=False")
    labels = ns["labels"]
    assert len(labels) == n and "Cluster" in labels
    assert {"plan_basic", "plan_plus", "plan_premium"} <= set(cl.get_config("X_transformed"))
    assert cl.models().shape[0] >= 12


def test_functions_delegate_to_the_default_experiment(tmp_path):
    from clusterlab.datasets import load_wholesale_customers

    data = load_wholesale_customers()
    exp = cl.setup(data, normalize=True, ground_truth="Channel", session_id=2, verbose=False)
    km = cl.create_model("kmeans", num_clusters=2, verbose=False)
    assert "Adjusted Rand" in cl.pull().columns
    assert "Channel" not in cl.get_config("X_transformed").columns
    assert "silhouette" in cl.get_metrics().index
    saved, path = cl.save_model(km, tmp_path / "km")  # PyCaret's (pipeline, file name)
    assert path.endswith("km.clusterlab") and saved.estimator is km
    np.testing.assert_array_equal(
        cl.predict_model(cl.load_model(tmp_path / "km"), data)["Cluster"],
        cl.assign_model(km)["Cluster"],
    )
    saved = cl.save_experiment(tmp_path / "exp")
    again = cl.load_experiment(saved, data)
    assert again is cl.get_experiment() and again is not exp
    assert "Cluster sizes" in cl.evaluate_model(next(iter(again._fitted.values())).estimator)


def test_import_is_light():
    code = (
        "import sys, clusterlab.clustering\n"
        "heavy = [m for m in ('sklearn', 'pandas', 'numba', 'matplotlib', 'rich') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_setup_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(cl, "_CURRENT", [])
    assert cl.get_current_experiment() is None
    with pytest.raises(RuntimeError, match="call setup"):
        cl.create_model("kmeans")
    with pytest.raises(TypeError, match="experiment must be a ClusteringExperiment"):
        cl.set_current_experiment("nope")
