"""Gower's distance against the ``gower`` package, and the top-n mode.

G1: the full matrix of 10,000 x 10 mixed rows (5 numeric, 5 categorical, complete), ours in
float32 (parallel numba kernel) against ``gower.gower_matrix`` (numpy, one row at a time):
target >= 10x with values equal to 1e-6. G2: each of 2,000 rows' 10 nearest among 200,000
rows with ``top_n`` (the full matrix would be 1.5 GiB in float32), ours alone.

W (quality, not time; ``python -m benchmarks.bench_gower`` prints it too): Gower k-medoids
(FasterPAM from BUILD, deterministic) with equal column weights against ``weights='balanced'``
on real mixed tables with a ground truth, k = the number of true classes, the tables as they
are (Gower's range scaling makes standardising irrelevant; missing values are skipped):
palmerpenguins (species; island, sex categorical), wholesale customers (Channel; Region
categorical), the mice protein data (Behavior; Genotype, Treatment categorical, 77 proteins
with missing values) and vega_datasets' cars (Origin; Cylinders categorical), plus the wholesale
table with Channel and Region both as categories and no truth (k = 3). The silhouettes are
computed under both distances, since each distance favours its own clustering.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from benchmarks.harness import Table, measure

COLUMNS = ["case", "n x d", "implementation", "seconds", "peak MiB", "max abs diff", "speed-up"]


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({f"x{j}": rng.normal(size=n) * (j + 1) for j in range(5)})
    for j in range(5):
        df[f"c{j}"] = rng.choice([f"level{v}" for v in range(3 + j)], size=n)
    return df


def _mixed_tables() -> list[tuple[str, pd.DataFrame, list[str], Any, int]]:
    """(name, features, categorical columns, truth or None, k) of the real mixed tables that
    can be loaded here (vega_datasets' cars only when that package is installed)."""
    from palmerpenguins import load_penguins

    from clusterlab.datasets import get_data, load_wholesale_customers

    tables = []
    penguins = load_penguins().dropna().reset_index(drop=True)
    features = penguins.drop(columns=["species", "year"])
    tables.append(("penguins", features, ["island", "sex"], penguins["species"], 3))
    wholesale = load_wholesale_customers()
    spend = wholesale.drop(columns=["Channel"])
    tables.append(("wholesale", spend, ["Region"], wholesale["Channel"], 2))
    tables.append(("wholesale, no truth", wholesale, ["Channel", "Region"], None, 3))
    mice = get_data("mice", verbose=False).drop(columns=["MouseID", "class"])
    tables.append(
        ("mice", mice.drop(columns="Behavior"), ["Genotype", "Treatment"], mice["Behavior"], 2)
    )
    try:
        from vega_datasets import data as vega
    except ImportError:
        return tables
    cars = vega.cars().drop(columns=["Name"])
    cars["Year"] = pd.to_datetime(cars["Year"]).dt.year
    tables.append(("cars", cars.drop(columns="Origin"), ["Cylinders"], cars["Origin"], 3))
    return tables


def weights_quality() -> Table:
    """W: Gower k-medoids with equal and with balanced column weights on real mixed tables."""
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

    from clusterlab import GowerDistance, KMedoids
    from clusterlab.metrics import gower_silhouette_score

    table = Table(
        "Gower k-medoids (FasterPAM): equal column weights vs weights='balanced'",
        [
            "data",
            "n x d",
            "k",
            "weights",
            "ARI",
            "AMI",
            "silhouette, equal",
            "silhouette, balanced",
        ],
    )
    for name, X, categorical, truth, k in _mixed_tables():
        for weights in (None, "balanced"):
            metric = GowerDistance(categorical=categorical, weights=weights)
            labels = KMedoids(k, metric=metric).fit(X).labels_
            scores = [
                gower_silhouette_score(X, labels, categorical=categorical, weights=w)
                for w in (None, "balanced")
            ]
            ari = "" if truth is None else adjusted_rand_score(truth, labels)
            ami = "" if truth is None else adjusted_mutual_info_score(truth, labels)
            shape = f"{X.shape[0]} x {X.shape[1]}"
            table.add(name, shape, k, weights or "equal", ari, ami, *scores)
    return table


def main(quick: bool = False) -> list[Table]:
    import gower

    from clusterlab.metrics import gower_distances

    table = Table("Gower's distance: clusterlab vs the gower package", COLUMNS)
    n = 3_000 if quick else 10_000
    df = _table(n)
    gower_distances(df.iloc[:200])  # compile outside the timing
    ours = measure(lambda: gower_distances(df))
    objects = df.to_numpy(dtype=object)  # the package reads pandas 3's string dtype badly
    ref = measure(lambda: gower.gower_matrix(objects, cat_features=[False] * 5 + [True] * 5))
    diff = float(np.abs(ours.result - ref.result).max())
    shape = f"{n:,} x 10"
    table.add("G1 full matrix", shape, "gower", ref.seconds, ref.peak_mb, "", "")
    table.add(
        "G1 full matrix",
        shape,
        "clusterlab",
        ours.seconds,
        ours.peak_mb,
        diff,
        f"{ref.seconds / ours.seconds:.0f}x",
    )
    del ours, ref
    m = 20_000 if quick else 200_000
    big = _table(m, seed=1)
    queries = big.iloc[:2_000]
    gower_distances(queries.iloc[:50], big.iloc[:500], top_n=3)
    top = measure(lambda: gower_distances(queries, big, top_n=10))
    table.add("G2 top 10", f"2,000 vs {m:,}", "clusterlab", top.seconds, top.peak_mb, "", "")
    return [table, weights_quality()]
