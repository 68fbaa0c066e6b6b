"""Insight benchmarks: every plot on a 100,000-row experiment, t-SNE on 1,000 rows, the report.

Targets (issue 6): all plots for 100,000 rows < 30 s together; 'tsne' for 1,000 rows < 5 s
(scikit-learn's TSNE with its defaults is the side-by-side reference); the wholesale customers
report < 10 s and < 3 MB. Model fits are not timed: the figures are what is measured.
``quick=True`` uses 20,000 rows for the plots.
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.harness import Table, measure

#: Plots for a centroid model, with the arguments an experiment would pass.
_KMEANS_PLOTS = (
    "cluster",
    "cluster3d",
    "tsne",
    "silhouette",
    "distance",
    "distribution",
    "profile",
    "feature",
    "elbow",
    "k_selection",
    "stability",
)


def _data(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n, n_features=8, centers=5, cluster_std=1.5, random_state=seed)
    columns = [f"f{i}" for i in range(X.shape[1])]
    return pd.DataFrame(X, columns=columns), X


def _timed(fn) -> tuple[float, float, float | None]:
    """Wall seconds, CPU seconds of this process (all threads) and extra peak MiB of one call.

    CPU time is shown beside wall time because the machine is shared: under load the wall
    time grows with the other users, the CPU time hardly does.
    """
    start = time.process_time()
    run = measure(fn)
    return run.seconds, time.process_time() - start, run.peak_mb


def _render(fig) -> None:
    """Draw the figure to PNG in memory, as a user saving or viewing it would."""
    fig.savefig(io.BytesIO(), format="png", dpi=100)


def _plots_table(n: int) -> Table:
    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.plots import plot_model

    frame, X = _data(n)
    model = KMeans(5, n_init=1, random_state=0).fit(X)
    scores = pd.DataFrame(
        {"silhouette": [0.3, 0.5, 0.6, 0.4], "davies_bouldin": [1.2, 0.9, 0.7, 0.9]},
        index=[3, 4, 5, 6],
    )
    stability = pd.DataFrame({"mean": [0.8, 0.9, 0.97, 0.7], "std": [0.1] * 4}, index=[3, 4, 5, 6])
    extra = {
        "elbow": {"k_range": range(2, 9)},
        "k_selection": {"scores": scores, "chosen_k": 5},
        "stability": {"scores": stability, "chosen_k": 5},
    }
    table = Table(
        f"plots, KMeans on {n:,} rows x 8 features (figure made and drawn to PNG)",
        ["plot", "seconds", "cpu s", "peak MiB"],
    )
    total = [0.0, 0.0]
    for kind in _KMEANS_PLOTS:
        wall, cpu, peak = _timed(
            lambda kind=kind: _render(
                plot_model(model, X, plot=kind, data=frame, **extra.get(kind, {}))
            )
        )
        table.add(kind, wall, cpu, peak)
        total = [total[0] + wall, total[1] + cpu]
    more = _model_plots(table, min(n, 10_000))
    table.add("all plots together", total[0] + more[0], total[1] + more[1], None)
    return table


def _model_plots(table: Table, n: int) -> tuple[float, float]:
    """Dendrogram, reachability and condensed tree, on models fitted to n rows."""
    from sklearn.cluster import OPTICS, AgglomerativeClustering

    from clusterlab.plots import plot_condensed_tree, plot_dendrogram, plot_reachability

    _, X = _data(n, seed=1)
    X2 = X[:, :2]
    agglomerative = AgglomerativeClustering(5, compute_distances=True).fit(X2)
    optics = OPTICS(min_samples=20, max_eps=3.0).fit(X2)
    tree = _condensed_tree_model(X2)
    total = [0.0, 0.0]
    for name, fn in (
        ("dendrogram", lambda: _render(plot_dendrogram(agglomerative))),
        ("reachability", lambda: _render(plot_reachability(optics))),
        ("condensed_tree", lambda: _render(plot_condensed_tree(tree))),
    ):
        wall, cpu, peak = _timed(fn)
        table.add(f"{name} ({n:,} rows)", wall, cpu, peak)
        total = [total[0] + wall, total[1] + cpu]
    return total[0], total[1]


class _TreeModel:
    """scikit-learn's HDBSCAN with its condensed tree exposed, as HDBSCAN models carry it."""

    def __init__(self, labels: np.ndarray, tree: np.ndarray) -> None:
        self.labels_ = labels
        self.condensed_tree_ = tree


def _condensed_tree_model(X: np.ndarray) -> _TreeModel:
    from sklearn.cluster import HDBSCAN
    from sklearn.cluster._hdbscan._tree import _condense_tree

    model = HDBSCAN(min_cluster_size=50, copy=True).fit(X)
    return _TreeModel(model.labels_, _condense_tree(model._single_linkage_tree_, 50))


def _tsne_table() -> Table:
    from sklearn.manifold import TSNE

    from clusterlab.plots import plot_tsne

    _, X = _data(1000, seed=2)
    labels = np.zeros(len(X), dtype=np.int64)
    ours = _timed(lambda: _render(plot_tsne(X, labels)))
    reference = _timed(lambda: TSNE(random_state=0).fit_transform(X))
    table = Table("t-SNE, 1,000 rows x 8 features", ["what", "seconds", "cpu s", "time / ours"])
    table.add("plot='tsne' (figure included)", ours[0], ours[1], 1.0)
    table.add(
        "scikit-learn TSNE defaults (embedding only)",
        reference[0],
        reference[1],
        reference[0] / ours[0],
    )
    return table


def _report_table() -> Table:
    from sklearn.preprocessing import StandardScaler

    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.datasets import load_wholesale_customers
    from clusterlab.report import write_report

    data = load_wholesale_customers()
    spend = data.drop(columns=["Channel", "Region"])
    X = StandardScaler().fit_transform(np.log1p(spend))
    model = KMeans(4, n_init=3, random_state=0).fit(X)
    folder = Path(tempfile.mkdtemp())
    path = folder / "report.html"
    wall, cpu, _ = _timed(
        lambda: write_report(
            path, data=data, labels=model.labels_, X_prepared=X, model=model, overwrite=True
        )
    )
    table = Table("report, wholesale customers (440 rows)", ["what", "seconds", "cpu s", "MB"])
    table.add("write_report", wall, cpu, path.stat().st_size / 2**20)
    path.unlink()
    folder.rmdir()
    return table


def main(quick: bool) -> list[Table]:
    """Run the insight benchmarks; ``quick`` uses 20,000 rows instead of 100,000."""
    n = 20_000 if quick else 100_000
    return [_plots_table(n), _tsne_table(), _report_table()]
