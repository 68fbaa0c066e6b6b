"""Clustering quality on Gagolewski's benchmark batteries, next to the published reference scores.

``python -m benchmarks.quality [--quick] [--markdown] [--seeds N] [--estimators kmeans ...]``

Protocol (as /work/shared/data/README.md describes the one behind reference-scores.csv): drop
zero-variance columns; add normal noise of 1e-6 x each column's sd; centre and divide by one
overall sd; cast to float32; cluster with the reference number of clusters; score only the
points that are not noise (label 0) in the reference. A data set with several reference
partitions is scored against each (clustering once per distinct k) and keeps the best score of
each index, and the reference scores are reduced the same way. Predicted noise, if an estimator
makes any, counts as singletons (``noise="singletons"``).

The published ``sklearn_kmeans`` scores come from ``sklearn.cluster.KMeans(n_clusters=k,
random_state=123)`` with the scikit-learn defaults of the time (greedy k-means++, ``n_init=10``,
``max_iter=300``, ``tol=1e-4``; gagolews/clustering-results-v1, do_benchmark_sklearn.py). Our
KMeans runs with the same settings and seed. Seeds do not carry over between implementations (nor
between scikit-learn versions), so the "live" columns rerun the reference implementation in
this process, under the same protocol, on the same preprocessed data: a difference to the
published figure that the live rerun shares is the luck of the seed, not the implementation.
``W/W live`` is the ratio of our within-cluster sum of squares to the live reference's (both in
float64 from the labels; below 1 means our restarts found a better k-means optimum).
``--seeds N`` repeats every fit with seeds 123, 124, ... and reports means over the seeds.

The hierarchical methods (``ward``, ``average``, ``complete``, ``single``, ``genie``) are
deterministic: fitted once, with no seed. Their published scores are fastcluster's linkages and
genieclust's Genie (gini_threshold 0.3; single linkage is Genie with threshold 1); the live
references are scikit-learn's ``AgglomerativeClustering`` (scipy's trees) up to 20,000 points and
genieclust 1.3 (run as a peer, never read).

The estimators run are a simple list: ``ESTIMATORS`` maps a name to a :class:`Spec`: our class (as
"module:Class", imported when it exists on this branch), its parameters, the published method it
is compared with and the live reference implementation; names whose class is not there yet are
reported and skipped.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import Table, machine_line

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "clustering-benchmarks"
if not DATA.exists():  # worktrees live in /work/wt/NAME: the shared data is /work/shared
    DATA = Path("/work/shared/data/clustering-benchmarks")
BATTERIES = ("fcps", "graves", "other", "sipu", "wut")
INDICES = ("ari", "ami", "nca")


@dataclass(frozen=True)
class Spec:
    """One estimator of the quality run and what it is compared with."""

    target: str  # "module:Class" of ours
    params: dict[str, Any]
    published: str  # method name in reference-scores.csv
    live: str | None = None  # "module:Class" of the reference implementation, rerun here
    live_params: dict[str, Any] = field(default_factory=dict)
    k_param: str = "n_clusters"
    # False for deterministic methods (no random_state: fitted once, whatever --seeds says)
    seeded: bool = True
    # the live reference is skipped above this many points (O(n^2) memory peers)
    live_max_n: int | None = None


#: name -> Spec
ESTIMATORS: dict[str, Spec] = {
    # As the reference was run: greedy k-means++, 10 restarts, max_iter 300, tol 1e-4 (our
    # defaults equal scikit-learn's there), best restart by inertia.
    "kmeans": Spec(
        "clusterlab.cluster.kmeans:KMeans",
        {"n_init": 10},
        "sklearn_kmeans",
        "sklearn.cluster:KMeans",
        {"n_init": 10},
    ),
    # fastcluster's published runs; scikit-learn's AgglomerativeClustering (scipy's linkage, the
    # same trees) is the live reference up to 20,000 points (its condensed matrix beyond)
    "ward": Spec(
        "clusterlab.cluster.hierarchy:AgglomerativeClustering",
        {"linkage": "ward"},
        "fastcluster_ward",
        "sklearn.cluster:AgglomerativeClustering",
        {"linkage": "ward"},
        seeded=False,
        live_max_n=20_000,
    ),
    "average": Spec(
        "clusterlab.cluster.hierarchy:AgglomerativeClustering",
        {"linkage": "average"},
        "fastcluster_average",
        "sklearn.cluster:AgglomerativeClustering",
        {"linkage": "average"},
        seeded=False,
        live_max_n=20_000,
    ),
    "complete": Spec(
        "clusterlab.cluster.hierarchy:AgglomerativeClustering",
        {"linkage": "complete"},
        "fastcluster_complete",
        "sklearn.cluster:AgglomerativeClustering",
        {"linkage": "complete"},
        seeded=False,
        live_max_n=20_000,
    ),
    "single": Spec(
        "clusterlab.cluster.hierarchy:AgglomerativeClustering",
        {"linkage": "single"},
        "single_linkage(Genie_G1.0)",
        "sklearn.cluster:AgglomerativeClustering",
        {"linkage": "single"},
        seeded=False,
        live_max_n=20_000,
    ),
    # genieclust (AGPL) is run as the live reference, never read
    "genie": Spec(
        "clusterlab.cluster.hierarchy:Genie",
        {"gini_threshold": 0.3},
        "Genie_G0.3",
        "genieclust:Genie",
        {"gini_threshold": 0.3},
        seeded=False,
    ),
    "gmm": Spec(
        "clusterlab.cluster.mixture:GaussianMixture",
        {"n_init": 100},
        "sklearn_gm",
        "sklearn.mixture:GaussianMixture",
        {"n_init": 100},
        "n_components",
    ),
    "birch": Spec(
        "clusterlab.cluster.birch:Birch",
        {"threshold": 0.01, "branching_factor": 50},
        "sklearn_birch_T0.01_BF50",
        "sklearn.cluster:Birch",
        {"threshold": 0.01, "branching_factor": 50},
    ),
    "spectral": Spec(
        "clusterlab.cluster.spectral:SpectralClustering",
        {"affinity": "rbf", "gamma": 5.0},
        "sklearn_spectral_Arbf_G5",
        "sklearn.cluster:SpectralClustering",
        {"affinity": "rbf", "gamma": 5.0},
    ),
}
DEFAULT = ("kmeans",)
# --quick keeps the data sets up to this size.
QUICK_MAX_N = 2000
# The seed of the published reference runs.
SEED = 123

logger = logging.getLogger(__name__)


def _import(target: str) -> type | None:
    module_name, cls_name = target.split(":")
    try:
        return getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError):
        return None


def load_estimator(name: str) -> tuple[type, dict[str, Any], str] | None:
    """Our estimator class, its parameters and its published method, or None if not built yet."""
    spec = ESTIMATORS[name]
    cls = _import(spec.target)
    return None if cls is None else (cls, spec.params, spec.published)


def datasets(quick: bool, batteries: Sequence[str] = BATTERIES) -> list[tuple[str, str]]:
    """(battery, name) of every data set of ``batteries`` on disk, in order."""
    found = []
    for battery in batteries:
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


@dataclass
class Outcome:
    """One implementation on one data set: best index values over the reference partitions
    (mean over seeds), the within-cluster sum of squares summed over the distinct k (mean over
    seeds) and the seconds spent fitting."""

    scores: dict[str, float]
    within_ss: float
    seconds: float


def run_one(
    cls: type,
    params: dict[str, Any],
    X: np.ndarray,
    partitions: list[np.ndarray],
    *,
    seeds: Sequence[int] = (SEED,),
    k_param: str = "n_clusters",
    seeded: bool = True,
) -> Outcome:
    """Fit once per distinct reference k and seed; score against every reference partition.

    A deterministic method (``seeded=False``) gets no ``random_state`` and is fitted once.
    """
    from clusterlab.metrics import inertia

    if not seeded:
        seeds = tuple(seeds)[:1]
    per_seed, within, seconds = [], [], 0.0
    for seed in seeds:
        best = dict.fromkeys(INDICES, -np.inf)
        fitted: dict[int, np.ndarray] = {}
        for reference in partitions:
            k = int(reference.max())
            if k not in fitted:
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    seed_kw = {"random_state": seed} if seeded else {}
                    model = cls(**{k_param: k}, **seed_kw, **params)
                    labels = model.fit_predict(X)
                seconds += time.perf_counter() - start
                fitted[k] = np.asarray(labels, dtype=np.int64)
            for index, value in score(reference, fitted[k]).items():
                best[index] = max(best[index], value)
        per_seed.append(best)
        X64 = X.astype(np.float64)
        within.append(sum(inertia(X64, labels) for labels in fitted.values()))
    mean = {i: float(np.mean([s[i] for s in per_seed])) for i in INDICES}
    return Outcome(mean, float(np.mean(within)), seconds / len(seeds))


def _warm_up(cls: type, params: dict[str, Any], k_param: str, seeded: bool = True) -> None:
    """One small fit, so that numba compilation is not counted in the first data set's time."""
    X = np.random.default_rng(0).normal(size=(60, 2)).astype(np.float32)
    seed_kw = {"random_state": 0} if seeded else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cls(**{k_param: 2}, **seed_kw, **params).fit(X)


_COLUMNS = [
    "data set", "n", "k",
    "ARI", "live ARI", "ref ARI",
    "AMI", "live AMI", "ref AMI",
    "NCA", "live NCA", "ref NCA",
    "W/W live", "fit s", "live s",
]  # fmt: skip


def _row(label: str, n: Any, k: Any, *, ours: dict, live: dict | None, ref: dict) -> list[Any]:
    cells: list[Any] = [label, n, k]
    for index in INDICES:
        cells += [ours[index], "" if live is None else live[index], ref[index]]
    return cells


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {i: float(np.mean([r[i] for r in rows])) for i in INDICES}


def evaluate(
    name: str,
    quick: bool = False,
    seeds: Sequence[int] = (SEED,),
    batteries: Sequence[str] = BATTERIES,
) -> Table | None:
    """Our estimator ``name``, its live reference and the published scores on every data set."""
    spec = ESTIMATORS[name]
    cls = _import(spec.target)
    if cls is None:
        print(f"[quality] {name}: {spec.target} is not on this branch yet; skipped")
        return None
    live_cls = _import(spec.live) if spec.live else None
    refs = reference_scores()
    _warm_up(cls, spec.params, spec.k_param, spec.seeded)
    table = Table(
        f"{name} ({cls.__name__} {spec.params}) vs live {spec.live} {spec.live_params} and "
        f"published {spec.published}; seeds {list(seeds)}; "
        f"{'quick: n <= ' + str(QUICK_MAX_N) if quick else 'all data sets'}",
        _COLUMNS,
    )
    collected: list[tuple[str, dict, dict | None, dict]] = []
    for battery, dataset in datasets(quick, batteries):
        ref = refs.get((battery, dataset, spec.published))
        if ref is None:
            continue
        X, partitions = load(battery, dataset)
        ours = run_one(
            cls, spec.params, X, partitions, seeds=seeds, k_param=spec.k_param, seeded=spec.seeded
        )
        live, live_failed = None, ""
        if live_cls is not None and (spec.live_max_n is None or X.shape[0] <= spec.live_max_n):
            try:
                live = run_one(
                    live_cls,
                    spec.live_params,
                    X,
                    partitions,
                    seeds=seeds,
                    k_param=spec.k_param,
                    seeded=spec.seeded,
                )
            except (ValueError, np.linalg.LinAlgError) as error:
                # a reference that raises (e.g. scikit-learn's GaussianMixture on an
                # ill-defined covariance) is reported on its row, not allowed to end the run
                live_failed = f"failed: {type(error).__name__}"
        collected.append((battery, ours.scores, None if live is None else live.scores, ref))
        ks = "/".join(str(int(p.max())) for p in partitions)
        live_scores = None if live is None else live.scores
        row = _row(
            f"{battery}/{dataset}", X.shape[0], ks, ours=ours.scores, live=live_scores, ref=ref
        )
        ratio = (
            "" if live is None or live.within_ss == 0 else f"{ours.within_ss / live.within_ss:.5f}"
        )
        table.add(*row, ratio, ours.seconds, live_failed if live is None else live.seconds)
    groups = [(b, [c for c in collected if c[0] == b]) for b in batteries]
    groups.append(("all", collected))
    for group, members in groups:
        if not members:
            continue
        lives = [c[2] for c in members if c[2] is not None]
        # the live reference may skip large data sets: its mean is then over fewer of them
        live_mean = _mean(lives) if lives else None
        label = f"MEAN {group} ({len(members)})"
        ours_mean = _mean([c[1] for c in members])
        ref_mean = _mean([c[3] for c in members])
        table.add(*_row(label, "", "", ours=ours_mean, live=live_mean, ref=ref_mean), "", "", "")
    return table


def main(
    quick: bool = False,
    estimators: Sequence[str] = DEFAULT,
    seeds: Sequence[int] = (SEED,),
    batteries: Sequence[str] = BATTERIES,
) -> list[Table]:
    """Score each estimator on every data set of ``batteries``; one table per estimator."""
    tables = [evaluate(name, quick, seeds, batteries) for name in estimators]
    return [t for t in tables if t is not None]


def _cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"only data sets with n <= {QUICK_MAX_N}"
    )
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--seeds", type=int, default=1, help=f"fit with seeds {SEED}, {SEED + 1}, ...; mean scores"
    )
    parser.add_argument(
        "--estimators", nargs="+", default=list(DEFAULT), choices=sorted(ESTIMATORS)
    )
    parser.add_argument("--batteries", nargs="+", default=list(BATTERIES), choices=BATTERIES)
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1; got {args.seeds}")
    print(machine_line())
    seeds = tuple(range(SEED, SEED + args.seeds))
    for table in main(args.quick, args.estimators, seeds, args.batteries):
        print()
        print(table.markdown() if args.markdown else table.text())


if __name__ == "__main__":
    _cli()
