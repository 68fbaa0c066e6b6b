"""Write the model and experiment files under tests/data/legacy/ that test_persistence loads.

They were written once by clusterlab at commit bbe1022 (before the workflow package, the
registry with lazy classes and persistence by records): the tests check that files written by
that version still load and predict the same labels. Rerunning this script with later code
writes files of the later code, which is not what these fixtures are for; keep the committed
files.

    PYTHONPATH=src python tests/data/make_legacy_files.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_blobs

from clusterlab import Experiment

HERE = Path(__file__).parent / "legacy"
MODEL_IDS = ("kmeans", "dbscan", "hdbscan", "hclust", "birch", "gmm")


def legacy_data() -> pd.DataFrame:
    X, y = make_blobs(n_samples=60, centers=3, cluster_std=0.5, random_state=3)
    X = np.round(X, 6)
    return pd.DataFrame(
        {
            "a": X[:, 0],
            "b": X[:, 1],
            "colour": np.where(X[:, 0] > X[:, 0].mean(), "warm", "cold"),
            "truth": y,
        },
        index=pd.Index([f"r{i}" for i in range(60)], name="row"),
    )


def main() -> None:
    HERE.mkdir(exist_ok=True)
    data = legacy_data()
    exp = Experiment(
        data, normalize=True, remove_outliers=True, ground_truth="truth", session_id=0,
        verbose=False,
    )  # fmt: skip
    expected = pd.DataFrame(index=data.index)
    for model_id in MODEL_IDS:
        model = exp.create_model(model_id, verbose=False)
        exp.save_model(model, HERE / f"{model_id}.clusterlab")
        expected[model_id] = exp.assign_model(model)["Cluster"]
    exp.compare_models(include=["kmeans"], verbose=False)  # keeps a choose_k result
    exp.save_experiment(HERE / "experiment.clusterlab")
    data.to_csv(HERE / "data.csv")
    expected.to_csv(HERE / "expected_labels.csv")


if __name__ == "__main__":
    main()
