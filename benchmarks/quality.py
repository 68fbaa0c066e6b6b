"""Clustering quality on Gagolewski's benchmark batteries, next to the published reference scores.

``python -m benchmarks.quality [--quick] [--markdown] [--estimators kmeans ...]``

Protocol (as /work/shared/data/README.md describes the one behind reference-scores.csv): drop
zero-variance columns; add normal noise of 1e-6 x each column's sd; centre and divide by one
overall sd; cast to float32; cluster with the reference number of clusters; score only the
points that are not noise (label 0) in the reference. A data set with several reference
partitions is scored against each (clustering once per distinct k) and keeps the best score of
each index, and the reference scores are reduced the same way. Predicted noise, if an estimator
makes any, counts as singletons (``noise="singletons"``).

The estimators run are a simple list: ``ESTIMATORS`` maps a name to the class (as "module:Class",
imported when it exists on this branch), its parameters and the reference method it is compared
with; names whose class is not there yet are reported and skipped.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib
import logging
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import Table, machine_line

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "clustering-benchmarks"
if not DATA.exists():  # worktrees live in /work/wt/NAME: the shared data is /work/shared
    DATA = Path("/work/shared/data/clustering-benchmarks")
BATTERIES = ("fcps", "graves", "other", "sipu", "wut")
INDICES = ("ari", "ami", "nca")

#: name -> ("module:Class", parameters, reference method in reference-scores.csv)
ESTIMATORS: dict[str, tuple[str, dict[str, Any], str]] = {
    "kmeans": ("clusterlab.cluster.kmeans:KMeans", {"n_init": 10}, "sklearn_kmeans"),
    "ward": (
        "clusterlab.cluster.hierarchy:AgglomerativeClustering",
        {"linkage": "ward"},
        "fastcluster_ward",
    ),
    "genie": ("clusterlab.cluster.hierarchy:Genie", {"gini_threshold": 0.3}, "Genie_G0.3"),
    "gmm": ("clusterlab.cluster.mixture:GaussianMixture", {}, "sklearn_gm"),
    "birch": ("clusterlab.cluster.birch:Birch", {"threshold": 0.01}, "sklearn_birch_T0.01_BF50"),
    "spectral": ("clusterlab.cluster.spectral:SpectralClustering", {}, "sklearn_spectral_Arbf_G5"),
}
DEFAULT = ("kmeans",)
# --quick keeps the data sets up to this size.
QUICK_MAX_N = 2000
SEED = 123

logger = logging.getLogger(__name__)


def load_estimator(name: str) -> tuple[type, dict[str, Any], str] | None:
    """The estimator class, its parameters and its reference method, or None if not built yet."""
    target, params, reference = ESTIMATORS[name]
    module_name, cls_name = target.split(":")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError):
        return None
    return cls, params, reference


def datasets(quick: bool) -> list[tuple[str, str]]:
    """(battery, name) of every data set on disk, in order."""
    found = []
    for battery in BATTERIES:
        for path in sorted((DATA / battery).glob("*.data.gz")):
            found.append((battery, path.name[: -len(".data.gz")]))
    if quick:
        found = [(b, n) for b, n in found if _n_rows(DATA / b / f"{n}.data.gz") <= QUICK_MAX_N]
    return found


def _n_rows(path: Path) -> int:
    with gzip.open(path, "rt") as fh:
        return sum(1 for line in fh if line.strip())


def load(battery: str, name: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Preprocessed float32 data and the reference partitions (0 = noise)."""
    X = np.loadtxt(DATA / battery / f"{name}.data.gz", ndmin=2)
    labels = [
        np.loadtxt(path, dtype=np.int64)
        for path in sorted((DATA / battery).glob(f"{name}.labels*.gz"))
    ]
    return preprocess(X), labels


def preprocess(X: np.ndarray) -> np.ndarray:
    """The reference protocol: drop constant columns, jitter, centre, one overall sd, float32."""
    X = X[:, X.std(axis=0) > 0]
    rng = np.random.default_rng(SEED)
    X = X + rng.normal(size=X.shape) * (1e-6 * X.std(axis=0))
    X = X - X.mean(axis=0)
    return (X / X.std()).astype(np.float32)


def score(reference: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """ARI, AMI and NCA on the points the reference does not mark as noise."""
    from clusterlab.metrics import (
        adjusted_mutual_info_score,
        adjusted_rand_score,
        normalized_clustering_accuracy,
    )

    keep = reference > 0
    true, pred = reference[keep], predicted[keep]
    return {
        "ari": adjusted_rand_score(true, pred, noise="singletons"),
        "ami": adjusted_mutual_info_score(true, pred, noise="singletons"),
        "nca": normalized_clustering_accuracy(true, pred, noise="singletons"),
    }


def reference_scores() -> dict[tuple[str, str, str], dict[str, float]]:
    """(battery, dataset, method) -> best ARI, AMI, NCA over the reference partitions."""
    best: dict[tuple[str, str, str], dict[str, float]] = {}
    with open(DATA / "reference-scores.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row["battery"], row["dataset"], row["method"])
            entry = best.setdefault(key, dict.fromkeys(INDICES, -np.inf))
            for index in INDICES:
                entry[index] = max(entry[index], float(row[index]))
    return best


def run_one(cls: type, params: dict[str, Any], X: np.ndarray, partitions: list[np.ndarray]):
    """Best score of each index over the reference partitions, and the seconds spent fitting."""
    best = dict.fromkeys(INDICES, -np.inf)
    seconds = 0.0
    fitted: dict[int, np.ndarray] = {}
    for reference in partitions:
        k = int(reference.max())
        if k not in fitted:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = cls(n_clusters=k, random_state=SEED, **params).fit(X)
            seconds += time.perf_counter() - start
            fitted[k] = np.asarray(model.labels_)
        for index, value in score(reference, fitted[k]).items():
            best[index] = max(best[index], value)
    return best, seconds


def main(quick: bool = False, estimators: Sequence[str] = DEFAULT) -> list[Table]:
    """Score each estimator on every data set; one table per estimator."""
    refs = reference_scores()
    tables = []
    for name in estimators:
        loaded = load_estimator(name)
        if loaded is None:
            print(f"[quality] {name}: {ESTIMATORS[name][0]} is not on this branch yet; skipped")
            continue
        cls, params, method = loaded
        table = Table(
            f"{name} ({cls.__name__} {params}) vs published {method}, "
            f"{'quick: n <= ' + str(QUICK_MAX_N) if quick else 'all data sets'}",
            ["data set", "n", "k", "ARI", "ref ARI", "AMI", "ref AMI", "NCA", "ref NCA", "fit s"],
        )
        ours_all, refs_all = [], []
        for battery, dataset in datasets(quick):
            ref = refs.get((battery, dataset, method))
            if ref is None:
                continue
            X, partitions = load(battery, dataset)
            ours, seconds = run_one(cls, params, X, partitions)
            ours_all.append(ours)
            refs_all.append(ref)
            ks = "/".join(str(int(p.max())) for p in partitions)
            table.add(
                f"{battery}/{dataset}",
                X.shape[0],
                ks,
                ours["ari"],
                ref["ari"],
                ours["ami"],
                ref["ami"],
                ours["nca"],
                ref["nca"],
                seconds,
            )
        mean = {i: float(np.mean([o[i] for o in ours_all])) for i in INDICES}
        ref_mean = {i: float(np.mean([r[i] for r in refs_all])) for i in INDICES}
        table.add(
            f"MEAN over {len(ours_all)} data sets",
            "",
            "",
            mean["ari"],
            ref_mean["ari"],
            mean["ami"],
            ref_mean["ami"],
            mean["nca"],
            ref_mean["nca"],
            "",
        )
        tables.append(table)
    return tables


def _cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"only data sets with n <= {QUICK_MAX_N}"
    )
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--estimators", nargs="+", default=list(DEFAULT), choices=sorted(ESTIMATORS)
    )
    args = parser.parse_args()
    print(machine_line())
    for table in main(args.quick, args.estimators):
        print()
        print(table.markdown() if args.markdown else table.text())


if __name__ == "__main__":
    _cli()
