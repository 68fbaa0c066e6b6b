"""The first run: what a new user waits for while clusterlab's numba kernels compile.

Every figure comes from a fresh process with a fresh, empty ``NUMBA_CACHE_DIR`` (cold), then a
second process on the cache the first one wrote (warm):

- the first ``KMeans().fit`` in a new process (target: <= 5 s cold), 440 x 6 like the demo;
- ``clusterlab demo`` end to end (target: <= 30 s cold on 2 cores; 91 s before issue 14);
- where the demo's compile time goes: seconds per kernel (exclusive of the kernels it calls,
  summed over its compiled versions), the largest first.

Wall seconds depend on the machine's load; CPU seconds (user + system of the child) are the
steadier figure on a shared machine, since compiling runs on one core.

Run: ``python -m benchmarks.run first_run`` (``--quick``: the KMeans rows only).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Table

SRC = str(Path(__file__).resolve().parents[1] / "src")

KMEANS = """
import time
t = time.perf_counter()
import numpy as np
from clusterlab import KMeans, watch_compilation
X = np.random.default_rng(0).normal(size=(440, 6))
with watch_compilation() as watch:
    KMeans(random_state=0).fit(X)
print(watch.seconds)
"""

# every compile of the demo, with the time spent in it minus the compiles nested inside it
PROFILE = """
import collections, json, sys, time
from numba.core import event
stack, own, versions = [], collections.Counter(), collections.Counter()
class Listener(event.Listener):
    def on_start(self, ev):
        stack.append([time.perf_counter(), 0.0])
    def on_end(self, ev):
        start, nested = stack.pop()
        spent = time.perf_counter() - start
        fn = ev.data["dispatcher"].py_func
        name = fn.__module__.rsplit(".", 1)[-1] + "." + fn.__name__
        own[name] += spent - nested
        versions[name] += 1
        if stack:
            stack[-1][1] += spent
event.register("numba:compile", Listener())
from clusterlab.cli import main
main(["--quiet", "demo", "--out", sys.argv[1]])
print(json.dumps({n: [own[n], versions[n]] for n in own}))
"""


def _child(args: list[str], cache: Path) -> tuple[float, float, str]:
    """Run a fresh interpreter on ``cache``; return its wall seconds, CPU seconds and stdout."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": SRC}
    env.pop("CLUSTERLAB_NUMBA_CACHE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, check=True
    ).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


def _cold_and_warm(name: str, args: list[str], table: Table, target: str) -> None:
    with tempfile.TemporaryDirectory(prefix="clusterlab-first-run-") as tmp:
        cache = Path(tmp) / "numba-cache"
        for state in ("cold", "warm"):
            wall, cpu, out = _child(args, cache)
            # the KMeans child prints its compile seconds; the demo's are in _demo_profile
            compile_s = float(out.strip().splitlines()[-1]) if name.startswith("first") else None
            table.add(name, state, wall, cpu, compile_s, target if state == "cold" else "")


def _demo_profile(top: int) -> Table:
    table = Table("where the cold demo's compile time goes", ["kernel", "versions", "compile s"])
    with tempfile.TemporaryDirectory(prefix="clusterlab-first-run-") as tmp:
        _, _, out = _child(["-c", PROFILE, str(Path(tmp) / "demo")], Path(tmp) / "cache")
    spent = json.loads(out.strip().splitlines()[-1])
    ranked = sorted(spent.items(), key=lambda item: -item[1][0])
    for name, (seconds, versions) in ranked[:top]:
        table.add(name, versions, seconds)
    table.add("total", sum(v for _, v in spent.values()), sum(s for s, _ in spent.values()))
    return table


def main(quick: bool) -> list[Table]:
    table = Table(
        "first run: fresh process, empty numba cache (cold), then on its cache (warm)",
        ["what", "cache", "wall s", "CPU s", "compile s", "target"],
    )
    _cold_and_warm("first KMeans().fit", ["-c", KMEANS], table, "<= 5 s")
    if quick:
        return [table]
    with tempfile.TemporaryDirectory(prefix="clusterlab-demo-") as out:
        demo = ["-m", "clusterlab", "--quiet", "demo", "--out", out]
        _cold_and_warm("clusterlab demo", demo, table, "<= 30 s")
    return [table, _demo_profile(top=25)]
