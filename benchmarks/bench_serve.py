"""The scoring service and the database round trip (issue 20), on loopback, bounded runs.

The model: k-means (k = 4, log + z-score) on the online-retail RFM table (4,339 customers). The
service is ``clusterlab serve`` in its own process (a real uvicorn server on a free loopback
port, one worker, then ``--workers 2``); the clients run in another process
(``benchmarks/serve_load.py``: 8 keep-alive connections over raw HTTP/1.1 in asyncio, each
sending its next request when the previous answer has arrived), so that what is measured is the
server, sharing the 2 cores with a client as lean as can be. The server's own CPU time per request
(from /proc, all its processes) is printed too: it does not depend on the load.

- S1: one-row requests from 8 concurrent clients: latency p50 / p99 and requests per second
  (target p99 < 20 ms);
- S2: batches of 1,000 rows, 2 concurrent clients: rows per second (target >= 50,000);
- S3: 10,000 one-row requests of which 1% malformed (missing column, text for a number, NaN, an
  extra column, broken JSON): every malformed one must be 422, every other 200, and the server
  the same processes throughout;
- in-process reference: the same scoring without HTTP (``ServedModel.predict``);
- R: the RFM table through CSV, DuckDB and PostgreSQL (a throwaway local cluster, when the
  server binaries are installed): write, read back, label, write the segments, read them back;
  customer keys and segments must be identical to the CSV path.

Every run is bounded: the load generator stops at a deadline, the server is stopped at the end.
Run: ``PYTHONPATH=src python -m benchmarks.run serve`` (4 minutes on a machine loaded 15-20
deep, expect under 2 quiet; ``--quick``: fewer requests, 2.5 minutes loaded).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.harness import Table, measure

RETAIL = Path("/work/shared/data/online-retail/online_retail.csv.gz")
KEY = "CustomerID"
CLIENTS = 8
#: Longest a load run may take (seconds); requests not sent by then count as failed.
DEADLINE = 300


def main(quick: bool = False) -> list[Table]:
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    table = _rfm_table()
    path = _model_file(table, folder)
    tables = [_service_table(path, table, quick), _in_process_table(path, table)]
    tables.append(_round_trip_table(path, table, folder))
    return tables


# ------------------------------------------------------------------------------------- inputs


def _rfm_table() -> pd.DataFrame:
    from clusterlab.datasets import load_online_retail, rfm

    log = load_online_retail(RETAIL)
    table = rfm(
        log, customer=KEY, date="InvoiceDate", quantity="Quantity", price="UnitPrice",
        invoice="InvoiceNo",
    )  # fmt: skip
    return table.reset_index() if KEY not in table.columns else table


def _model_file(table: pd.DataFrame, folder: Path) -> Path:
    from clusterlab import Experiment

    exp = Experiment(
        table, ignore_features=[KEY], log_transform=True, normalize=True, session_id=0,
        verbose=False,
    )  # fmt: skip
    model = exp.create_model("kmeans", num_clusters=4, verbose=False)
    return Path(exp.save_model(model, folder / "rfm_kmeans"))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


# ------------------------------------------------------------------------------------ service


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """``clusterlab serve`` in a child process on a free loopback port."""

    def __init__(self, path: Path, workers: int = 1) -> None:
        import httpx

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clusterlab", "serve", str(path), "--port", str(self.port),
             "--max-rows", "1000", "--workers", str(workers), "-q"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service stopped: {self.process.stderr.read()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    time.sleep(2 if workers > 1 else 0)  # the other workers come up
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the service did not answer within 180 s")

    def pids(self) -> list[int]:
        """The server's processes: uvicorn's and its workers'."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
            except OSError:
                continue
        return sorted(found)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server's processes have used so far."""
        total = 0.0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _load(url: str, bodies: list[bytes], clients: int) -> tuple[np.ndarray, list[int], float]:
    """Post every body with ``clients`` concurrent clients from another process (serve_load):
    latencies (s), statuses, wall time."""
    with tempfile.TemporaryDirectory(prefix="bench-serve-load-") as folder:
        source, result = Path(folder) / "bodies", Path(folder) / "result.json"
        source.write_bytes(b"\n".join(bodies) + b"\n")
        argv = [sys.executable, "-m", "benchmarks.serve_load", f"{url}/predict", str(source),
                str(clients), str(result), str(DEADLINE)]  # fmt: skip
        root = str(Path(__file__).resolve().parents[1])
        subprocess.run(argv, check=True, timeout=DEADLINE + 60, cwd=root)
        answer = json.loads(result.read_text())
    return np.asarray(answer["latencies"]), answer["statuses"], answer["wall"]


def _warm(server: _Server, body: bytes) -> None:
    """A few hundred requests first: every worker compiled, connections and caches warm."""
    _load(server.url, [body] * 300, CLIENTS)


def _malformed(row: dict[str, Any], i: int) -> bytes:
    """A bad body of one of five kinds."""
    kind = i % 5
    if kind == 0:
        return json.dumps({k: v for k, v in row.items() if k != "recency"}).encode()
    if kind == 1:
        return json.dumps(row | {"monetary": "a lot"}).encode()
    if kind == 2:
        return json.dumps(row | {"frequency": 0.5}).replace("0.5", "NaN").encode()
    if kind == 3:
        return json.dumps(row | {"country": "UK"}).encode()
    return json.dumps(row).encode()[:-7]


def _service_table(path: Path, table: pd.DataFrame, quick: bool) -> Table:
    rows = _records(table)
    one = [json.dumps(r).encode() for r in rows]
    n_single = 1_000 if quick else 4_000
    n_batches = 10 if quick else 40
    n_mixed = 2_000 if quick else 10_000
    rng = np.random.default_rng(0)
    out = Table(
        "Scoring service, RFM k-means (k = 4): a uvicorn server, clients in another process",
        ["run", "workers", "requests", "rows/request", "clients", "p50 ms", "p99 ms", "req/s",
         "rows/s", "server CPU ms/req", "status"],
    )  # fmt: skip
    batch = [json.dumps(rows[i : i + 1000]).encode() for i in range(0, 4000, 1000)]
    for workers in (1, 2):
        server = _Server(path, workers)
        try:
            _warm(server, one[0])
            bodies = [one[i] for i in rng.integers(0, len(one), n_single)]
            out.add(*_run("S1 one row", server, bodies, workers=workers, rows=1, clients=CLIENTS))
            bodies = [batch[i % len(batch)] for i in range(n_batches)]
            out.add(*_run("S2 batches", server, bodies, workers=workers, rows=1000, clients=2))
            out.add(*_mixed(server, workers, one, n_mixed, rng))
        finally:
            server.stop()
    return out


def _run(
    name: str, server: _Server, bodies: list[bytes], *, workers: int, rows: int, clients: int
) -> list[Any]:
    """One table row: every body posted by ``clients`` concurrent clients, all expected 200."""
    cpu = server.cpu_seconds()
    lat, statuses, wall = _load(server.url, bodies, clients)
    cpu = (server.cpu_seconds() - cpu) / (n := len(bodies))
    ok = statuses.count(200)
    status = "all 200" if ok == n else f"only {ok} x 200"
    return [
        name, workers, n, rows, clients, *_latency(lat), n / wall, rows * n / wall, cpu * 1e3,
        status,
    ]  # fmt: skip


def _mixed(
    server: _Server, workers: int, one: list[bytes], n: int, rng: np.random.Generator
) -> list[Any]:
    pids = server.pids()
    picks = rng.integers(0, len(one), n)
    bad = set(rng.choice(n, n // 100, replace=False).tolist())
    bodies = [
        _malformed(json.loads(one[p]), i) if i in bad else one[p] for i, p in enumerate(picks)
    ]
    cpu = server.cpu_seconds()
    lat, statuses, wall = _load(server.url, bodies, CLIENTS)
    cpu = (server.cpu_seconds() - cpu) / n
    wrong = sum((s != 422) if i in bad else (s != 200) for i, s in enumerate(statuses))
    same = server.process.poll() is None and server.pids() == pids
    verdict = f"{len(bad)} x 422, {n - len(bad)} x 200" if wrong == 0 else f"{wrong} WRONG"
    verdict += ", same processes" if same else ", PROCESS RESTARTED"
    return [
        "S3 1% malformed", workers, n, 1, CLIENTS, *_latency(lat), n / wall, n / wall, cpu * 1e3,
        verdict,
    ]  # fmt: skip


def _latency(seconds: np.ndarray) -> tuple[float, float]:
    if np.isnan(seconds).any():  # requests not sent before the deadline
        return float("nan"), float("nan")
    return float(np.percentile(seconds, 50) * 1e3), float(np.percentile(seconds, 99) * 1e3)


def _in_process_table(path: Path, table: pd.DataFrame) -> Table:
    from clusterlab.serve import ServedModel

    served = ServedModel(path)
    out = Table(
        "The same scoring in process (no HTTP): ServedModel.score (a request's validated columns, "
        "what the service calls) and ServedModel.predict (a DataFrame)",
        ["call", "rows", "ms per call", "rows/s"],
    )
    for n in (1, 1000):
        columns = {f.name: table[f.name].head(n).tolist() for f in served.features}
        frame = served.frame(columns)
        calls = {
            "score(columns)": lambda columns=columns: served.score(columns),
            "predict(frame)": lambda frame=frame: served.predict(frame),
        }
        for name, call in calls.items():
            run = measure(call, repeat=20, warmup=True)
            out.add(name, n, run.seconds * 1e3, n / run.seconds)
    return out


# ---------------------------------------------------------------------------------- databases


def _round_trip_table(path: Path, table: pd.DataFrame, folder: Path) -> Table:
    from clusterlab.persistence import load_model

    model = load_model(path)
    out = Table(
        f"RFM table ({len(table):,} customers) through each store: write, read, label, write "
        "segments, read back",
        ["store", "seconds", "keys identical", "segments identical"],
    )
    reference = None
    for name, target, cleanup in _stores(folder):
        try:
            run = measure(lambda target=target: _round_trip(model, table, target))
            got = run.result.sort_values(KEY, ignore_index=True)
            if reference is None:
                reference = got
            keys = got[KEY].tolist() == reference[KEY].tolist()
            same = got["segment"].tolist() == reference["segment"].tolist()
            out.add(name, run.seconds, "yes" if keys else "NO", "yes" if same else "NO")
        finally:
            cleanup()
    return out


def _stores(folder: Path) -> list[tuple[str, dict[str, Any], Any]]:
    def nothing() -> None:
        return None

    stores = [
        ("CSV", {"rfm": folder / "rfm.csv", "out": folder / "segments.csv"}, nothing),
        ("DuckDB", {"db": f"duckdb:///{folder / 'shop.duckdb'}"}, nothing),
    ]
    server = _postgres()
    if server is not None:
        stores.append(("PostgreSQL", {"db": server.url()}, server.stop))
    return stores


def _postgres() -> Any:
    """A throwaway local PostgreSQL cluster (tests/postgres.py), or None without server binaries."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests import postgres

    bin_dir = postgres.server_binaries()
    if bin_dir is None:
        print("PostgreSQL server binaries not installed: the PostgreSQL row is left out")
        return None
    return postgres.Server(bin_dir).start()


def _round_trip(model: Any, table: pd.DataFrame, target: dict[str, Any]) -> pd.DataFrame:
    from clusterlab.io import read_table, write_table

    if "db" in target:
        db = target["db"]
        write_table(table, db, table="rfm", if_exists="replace")
        frame = read_table(db, table="rfm")
        write_table(
            model.predict_frame(frame, label_name="segment"),
            db,
            table="rfm_segments",
            if_exists="replace",
        )
        return read_table(db, sql=f'SELECT "{KEY}", segment FROM rfm_segments')
    write_table(table, target["rfm"], overwrite=True)
    frame = read_table(target["rfm"])
    write_table(model.predict_frame(frame, label_name="segment"), target["out"], overwrite=True)
    return read_table(target["out"])[[KEY, "segment"]]


if __name__ == "__main__":  # pragma: no cover
    for t in main(quick="--quick" in sys.argv):
        print(t.text(), end="\n\n")
    os._exit(0)
