"""The first run: what a new user waits for while clusterlab's numba kernels compile.

Every figure comes from a fresh process with a fresh, empty ``NUMBA_CACHE_DIR`` (cold), then a
second process on the cache the first one wrote (warm):

- the first ``KMeans().fit`` in a new process (target: <= 5 s cold), 440 x 6 like the demo, and
  the kernels it compiles;
- ``clusterlab demo`` end to end (target: <= 30 s cold on 2 cores; 91 s before issue 14, 155 s
  at the start of this batch), and ``clusterlab demo --all`` (every model) cold;
- where the cold demos' compile time goes: CPU seconds per kernel (exclusive of the kernels it
  calls, summed over its compiled versions), the largest first, and per compared model (the
  compiles a model's comparison triggered first; what the first model compiles for every
  model, the validity indices among it, counts for that model).

Wall seconds depend on the machine's load; CPU seconds (user + system of the child) are the
steadier figure on a shared machine, since compiling runs on one core. Compile seconds are CPU
seconds of the compiling process (``time.process_time``).

Run: ``python -m benchmarks.run first_run`` (about 4 minutes on a quiet 2-core machine;
``--quick``: the KMeans rows only, under a minute).
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

# every compile, with the CPU time spent in it minus the compiles nested inside it, by kernel
# and by the model whose comparison was running (printed as JSON on the last line)
LISTEN = """
import collections, json, sys, time
from numba.core import event
stack, own, versions = [], collections.Counter(), collections.Counter()
by_model, phase = collections.Counter(), ["setup"]
class Listener(event.Listener):
    def on_start(self, ev):
        stack.append([time.process_time(), 0.0])
    def on_end(self, ev):
        start, nested = stack.pop()
        spent = time.process_time() - start
        fn = ev.data["dispatcher"].py_func
        name = fn.__module__.rsplit(".", 1)[-1] + "." + fn.__name__
        own[name] += spent - nested
        versions[name] += 1
        if stack:
            stack[-1][1] += spent
        else:
            by_model[phase[0]] += spent
event.register("numba:compile", Listener())
def report():
    kernels = {n: [own[n], versions[n]] for n in own}
    print(json.dumps({"kernels": kernels, "models": by_model}))
"""

KMEANS = (
    LISTEN
    + """
import numpy as np
from clusterlab import KMeans
X = np.random.default_rng(0).normal(size=(440, 6))
phase[0] = "KMeans().fit"
KMeans(random_state=0).fit(X)
report()
"""
)

DEMO = (
    LISTEN
    + """
import clusterlab.workflow.compare as compare
compare_one = compare._compare_one
def traced(model, label, *args, **kwargs):
    phase[0] = label
    try:
        return compare_one(model, label, *args, **kwargs)
    finally:
        phase[0] = "assign, profiles, model file, report"
compare._compare_one = traced
from clusterlab.cli import main
main(["--quiet", "demo", "--out", *sys.argv[1:]])
report()
"""
)


def _child(args: list[str], cache: Path) -> tuple[float, float, dict]:
    """Run a fresh interpreter on ``cache``; return its wall seconds, CPU seconds and the
    compile profile it printed."""
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
    return wall, cpu, json.loads(out.strip().splitlines()[-1])


def _cold_and_warm(name: str, args: list[str], table: Table, target: str) -> dict:
    """Add the cold and the warm row of ``name`` to ``table``; return the cold profile."""
    with tempfile.TemporaryDirectory(prefix="clusterlab-first-run-") as tmp:
        cache = Path(tmp) / "numba-cache"
        profiles = {}
        for state in ("cold", "warm"):
            wall, cpu, profile = _child(args, cache)
            compile_s = sum(profile["models"].values())
            n_versions = sum(v for _, v in profile["kernels"].values())
            shown_target = target if state == "cold" else ""
            table.add(name, state, wall, cpu, compile_s, n_versions, shown_target)
            profiles[state] = profile
    return profiles["cold"]


def _kernel_table(title: str, profile: dict, top: int) -> Table:
    table = Table(title, ["kernel", "versions", "compile CPU s"])
    ranked = sorted(profile["kernels"].items(), key=lambda item: -item[1][0])
    for name, (seconds, versions) in ranked[:top]:
        table.add(name, versions, seconds)
    rest = ranked[top:]
    if rest:
        table.add(f"{len(rest)} others", sum(v for _, (_, v) in rest), sum(s for _, (s, _) in rest))
    return table


def _model_table(title: str, profile: dict) -> Table:
    table = Table(title, ["compared model (or step)", "compile CPU s"])
    for name, seconds in profile["models"].items():
        table.add(name, seconds)
    return table


def main(quick: bool) -> list[Table]:
    table = Table(
        "first run: fresh process, empty numba cache (cold), then on its cache (warm)",
        ["what", "cache", "wall s", "CPU s", "compile CPU s", "versions", "target"],
    )
    kmeans = _cold_and_warm("first KMeans().fit", ["-c", KMEANS], table, "<= 5 s")
    tables = [table, _kernel_table("what the first KMeans().fit compiles", kmeans, top=20)]
    if quick:
        return tables
    with tempfile.TemporaryDirectory(prefix="clusterlab-demo-") as out:
        demo = _cold_and_warm("clusterlab demo", ["-c", DEMO, out], table, "<= 30 s")
        every = _cold_and_warm("clusterlab demo --all", ["-c", DEMO, out, "--all"], table, "")
    return [
        *tables,
        _model_table("the cold demo's compile time by compared model", demo),
        _kernel_table("where the cold demo's compile time goes", demo, top=15),
        _model_table("the cold demo --all: compile time by compared model", every),
        _kernel_table("where the cold demo --all's compile time goes", every, top=25),
    ]
