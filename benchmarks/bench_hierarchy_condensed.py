"""Average and complete linkage alone (A1 and C1 of ``bench_hierarchy``), 20,000 x 10 blobs
against fastcluster's ``linkage`` from the vectors, ours on float64 and float32 data: the
issue-15 targets that need the condensed matrix, in about three minutes on two cores.
"""

from __future__ import annotations

from benchmarks.bench_hierarchy import _table, condensed_cases, run_cases
from benchmarks.harness import Table


def main(quick: bool) -> list[Table]:
    table = _table()
    run_cases(table, condensed_cases(5_000 if quick else 20_000))
    return [table]
