"""KModes / KPrototypes against the kmodes library, and quality on palmerpenguins.

C1: k-modes, 20,000 x 10 categorical, k = 8, both from Cao's initial modes (deterministic in
both libraries): same cost and labels expected. C2: k-prototypes, 20,000 x (10 numeric + 10
categorical), k = 8, both from the same initial prototypes (8 rows): same cost expected. C3:
k-prototypes on 1,000,000 x (10 + 10), k = 8, ours alone (a DataFrame with category columns,
one Cao run, encoding included). Times are the best wall seconds of 2-3 fits (one for C3) after
a warm-up of our kernels; "speed-up" is the library's time over ours.

Q: adjusted Rand index against the species on palmerpenguins (complete rows, numeric columns
standardised): k-means on the one-hot encoding, k-prototypes on the numeric columns plus raw
island and sex, k-medoids with Gower's distance on the raw table (numeric ranges and the two
categories; equal column weights, and ``weights='balanced'``, the workflow's), all with k = 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.harness import Table, measure

COLUMNS = [
    "case",
    "n x d",
    "implementation",
    "seconds",
    "peak MiB",
    "cost",
    "n_iter",
    "same labels",
    "speed-up",
]


def _planted(n: int, m: int, k: int, levels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer categories of ``k`` planted groups, 30% of the values redrawn at random."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, k, size=n)
    centers = rng.integers(0, levels, size=(k, m))
    X = centers[group]
    noise = rng.random(X.shape) < 0.3
    X = np.where(noise, rng.integers(0, levels, size=X.shape), X)
    X[:levels] = np.arange(levels)[:, None]  # every level present (codes equal values)
    return X, group


def _c1(table: Table, n: int) -> None:
    from kmodes.kmodes import KModes as LibKModes

    from clusterlab import KModes

    X, _ = _planted(n, 10, 8, 6, seed=0)
    KModes(8).fit(X[:500])
    ours = measure(lambda: KModes(8).fit(X), repeat=3)
    lib = measure(lambda: LibKModes(8, init="Cao", n_init=1).fit(X), repeat=3)
    a, b = ours.result, lib.result
    shape = f"{n:,} x 10"
    table.add("C1 k-modes", shape, "kmodes", lib.seconds, lib.peak_mb, b.cost_, b.n_iter_, "", "")
    table.add(
        "C1 k-modes",
        shape,
        "clusterlab",
        ours.seconds,
        ours.peak_mb,
        a.cost_,
        a.n_iter_,
        _yes(np.array_equal(a.labels_, b.labels_)),
        f"{lib.seconds / ours.seconds:.0f}x",
    )


def _mixed(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cat, group = _planted(n, 10, 8, 5, seed)
    rng = np.random.default_rng(seed + 1)
    num = rng.normal(size=(n, 10)) + rng.normal(scale=2.0, size=(8, 10))[group]
    X = np.empty((n, 20), dtype=object)
    X[:, :10] = num
    X[:, 10:] = cat
    return X, num, cat


def _c2(table: Table, n: int) -> None:
    from kmodes.kprototypes import KPrototypes as LibKPrototypes

    from clusterlab import KPrototypes

    X, num, cat = _mixed(n, seed=1)
    rows = np.random.default_rng(0).choice(n, 8, replace=False)
    cat_idx = list(range(10, 20))
    KPrototypes(8, categorical=cat_idx, init=X[rows]).fit(X[:500])
    ours = measure(lambda: KPrototypes(8, categorical=cat_idx, init=X[rows]).fit(X), repeat=3)
    lib = measure(
        lambda: LibKPrototypes(8, init=[num[rows].copy(), cat[rows].copy()], n_init=1).fit(
            X, categorical=cat_idx
        ),
        repeat=2,
    )
    a, b = ours.result, lib.result
    shape = f"{n:,} x (10 + 10)"
    table.add(
        "C2 k-prototypes", shape, "kmodes", lib.seconds, lib.peak_mb, b.cost_, b.n_iter_, "", ""
    )
    table.add(
        "C2 k-prototypes",
        shape,
        "clusterlab",
        ours.seconds,
        ours.peak_mb,
        a.cost_,
        a.n_iter_,
        _yes(np.array_equal(a.labels_, b.labels_)),
        f"{lib.seconds / ours.seconds:.0f}x",
    )


def _c3(table: Table, n: int) -> None:
    from clusterlab import KPrototypes

    cat, group = _planted(n, 10, 8, 5, seed=2)
    rng = np.random.default_rng(3)
    num = rng.normal(size=(n, 10)) + rng.normal(scale=2.0, size=(8, 10))[group]
    df = pd.DataFrame(num, columns=[f"x{j}" for j in range(10)])
    for j in range(10):
        df[f"c{j}"] = pd.Categorical.from_codes(cat[:, j], [f"level{v}" for v in range(5)])
    run = measure(lambda: KPrototypes(8, n_init=1).fit(df))
    kp = run.result
    table.add(
        "C3 k-prototypes",
        f"{n:,} x (10 + 10)",
        "clusterlab",
        run.seconds,
        run.peak_mb,
        kp.cost_,
        kp.n_iter_,
        "",
        "target < 60 s",
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def quality() -> Table:
    """Adjusted Rand index against the species on palmerpenguins (k = 3)."""
    from palmerpenguins import load_penguins
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import StandardScaler

    from clusterlab import GowerDistance, KMeans, KMedoids, KModes, KPrototypes
    from clusterlab.metrics import gower_silhouette_score

    df = load_penguins().dropna().reset_index(drop=True)
    num = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    cat = ["island", "sex"]
    scaled = pd.DataFrame(StandardScaler().fit_transform(df[num]), columns=num)
    onehot = pd.concat([scaled, pd.get_dummies(df[cat]).astype(float)], axis=1)
    mixed = pd.concat([scaled, df[cat]], axis=1)
    raw = df[num + cat]
    fits = [
        ("k-means, one-hot (baseline)", KMeans(3, n_init=10, random_state=0).fit(onehot)),
        ("k-prototypes (cao + 9 k-means++ runs)", KPrototypes(3, random_state=0).fit(mixed)),
        ("k-prototypes (one Cao run)", KPrototypes(3, n_init=1).fit(mixed)),
        ("k-medoids FasterPAM, Gower", KMedoids(3, metric="gower").fit(raw)),
        (
            "k-medoids FasterPAM, Gower weights='balanced' (the workflow's)",
            KMedoids(3, metric=GowerDistance(weights="balanced")).fit(raw),
        ),
        ("k-modes, island + sex only", KModes(3).fit(df[cat])),
    ]
    table = Table(
        f"Quality on palmerpenguins ({len(df)} complete rows, k = 3): ARI against the species",
        ["model", "ARI", "Gower silhouette"],
    )
    for name, model in fits:
        table.add(
            name,
            adjusted_rand_score(df["species"], model.labels_),
            gower_silhouette_score(raw, model.labels_),
        )
    return table


def main(quick: bool = False) -> list[Table]:
    table = Table("KModes / KPrototypes: clusterlab vs the kmodes library (same init)", COLUMNS)
    _c1(table, 5_000 if quick else 20_000)
    _c2(table, 3_000 if quick else 20_000)
    _c3(table, 100_000 if quick else 1_000_000)
    return [table, quality()]
