"""Gower's distance against the ``gower`` package, and the top-n mode.

G1: the full matrix of 10,000 x 10 mixed rows (5 numeric, 5 categorical, complete), ours in
float32 (parallel numba kernel) against ``gower.gower_matrix`` (numpy, one row at a time):
target >= 10x with values equal to 1e-6. G2: each of 2,000 rows' 10 nearest among 200,000
rows with ``top_n`` (the full matrix would be 1.5 GiB in float32), ours alone.
"""

from __future__ import annotations

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
    return [table]
