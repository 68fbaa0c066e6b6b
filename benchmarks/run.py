"""Run every benchmark module and print its tables: ``python -m benchmarks.run [NAME ...]``.

Each module ``benchmarks/bench_*.py`` defines ``main(quick: bool) -> list[Table]``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import benchmarks
from benchmarks.harness import fix_allocator, machine_line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmark modules to run, e.g. kmeans dbscan")
    parser.add_argument("--quick", action="store_true", help="smaller data, for a smoke run")
    parser.add_argument("--markdown", action="store_true", help="print tables as Markdown")
    args = parser.parse_args()
    available = sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if m.name.startswith("bench_")
    )
    names = args.names or available
    unknown = sorted(set(names) - set(available))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {available}")
    fix_allocator()
    print(machine_line())
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        for table in module.main(quick=args.quick):
            print()
            print(table.markdown() if args.markdown else table.text())


if __name__ == "__main__":
    main()
