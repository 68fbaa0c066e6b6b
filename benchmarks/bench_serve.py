"""The scoring service and the database round trip (issue 20), on loopback, bounded runs.

The model: k-means (k = 4, log + z-score) on the online-retail RFM table (4,339 customers). The
service is ``clusterlab serve`` in its own process (one uvicorn worker); the clients are asyncio
tasks over httpx in this process, so on 2 cores they share the machine with the server. The
server's own CPU time per request (from /proc) is printed too: it does not depend on the load.

- S1: one-row requests from 8 concurrent clients: latency p50 / p99 and requests per second
  (target p99 < 20 ms);
- S2: batches of 1,000 rows, 2 concurrent clients: rows per second (target >= 50,000);
- S3: 10,000 one-row requests of which 1% malformed (missing column, text for a number, NaN, an
  extra column, broken JSON): every malformed one must be 422, every other 200, and the server
  the same process throughout;
- in-process reference: the same scoring without HTTP (``ServedModel.predict``);
- R: the RFM table through CSV, DuckDB and PostgreSQL (a throwaway local cluster, when the
  server binaries are installed): write, read back, label, write the segments, read them back;
  customer keys and segments must be identical to the CSV path.

Run: ``PYTHONPATH=src python -m benchmarks.run serve`` (``--quick``: fewer requests).
"""

from __future__ import annotations

import asyncio
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

    def __init__(self, path: Path) -> None:
        import httpx

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clusterlab", "serve", str(path), "--port", str(self.port),
             "--max-rows", "1000", "-q"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service stopped: {self.process.stderr.read()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the service did not answer within 180 s")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        with open(f"/proc/{self.process.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def health(self) -> dict[str, Any]:
        import httpx

        return httpx.get(f"{self.url}/health", timeout=10).json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


async def _load(url: str, bodies: list[bytes], clients: int) -> tuple[np.ndarray, list[int], float]:
    """Post every body with ``clients`` concurrent clients: latencies (s), statuses, wall time."""
    import httpx

    latencies = np.zeros(len(bodies))
    statuses = [0] * len(bodies)
    cursor = iter(range(len(bodies)))
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        for i in cursor:
            start = time.perf_counter()
            response = await http.post(f"{url}/predict", content=bodies[i], headers=headers)
            latencies[i] = time.perf_counter() - start
            statuses[i] = response.status_code

    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        await http.post(f"{url}/predict", content=bodies[0], headers=headers)  # warm up
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.perf_counter() - start
    return latencies, statuses, wall


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
        "Scoring service, RFM k-means (k = 4), 1 uvicorn worker, clients in this process",
        ["run", "requests", "rows/request", "clients", "p50 ms", "p99 ms", "req/s", "rows/s",
         "server CPU ms/req", "status"],
    )  # fmt: skip
    server = _Server(path)
    try:
        bodies = [one[i] for i in rng.integers(0, len(one), n_single)]
        out.add(*_run("S1 one row", server, bodies, 1, CLIENTS))
        batch = [json.dumps(rows[i : i + 1000]).encode() for i in range(0, 4000, 1000)]
        bodies = [batch[i % len(batch)] for i in range(n_batches)]
        out.add(*_run("S2 batches", server, bodies, 1000, 2))
        out.add(*_mixed(server, one, n_mixed, rng))
    finally:
        server.stop()
    return out


def _run(name: str, server: _Server, bodies: list[bytes], rows: int, clients: int) -> list[Any]:
    """One table row: every body posted by ``clients`` concurrent clients, all expected 200."""
    cpu = server.cpu_seconds()
    lat, statuses, wall = asyncio.run(_load(server.url, bodies, clients))
    cpu = (server.cpu_seconds() - cpu) / (n := len(bodies))
    ok = statuses.count(200)
    status = "all 200" if ok == n else f"only {ok} x 200"
    return [name, n, rows, clients, *_latency(lat), n / wall, rows * n / wall, cpu * 1e3, status]


def _mixed(server: _Server, one: list[bytes], n: int, rng: np.random.Generator) -> list[Any]:
    pid = server.health()["pid"]
    picks = rng.integers(0, len(one), n)
    bad = set(rng.choice(n, n // 100, replace=False).tolist())
    bodies = [
        _malformed(json.loads(one[p]), i) if i in bad else one[p] for i, p in enumerate(picks)
    ]
    cpu = server.cpu_seconds()
    lat, statuses, wall = asyncio.run(_load(server.url, bodies, CLIENTS))
    cpu = (server.cpu_seconds() - cpu) / n
    wrong = sum((s != 422) if i in bad else (s != 200) for i, s in enumerate(statuses))
    same = server.process.poll() is None and server.health()["pid"] == pid
    verdict = f"{len(bad)} x 422, {n - len(bad)} x 200" if wrong == 0 else f"{wrong} WRONG"
    verdict += ", same process" if same else ", PROCESS RESTARTED"
    return [
        "S3 1% malformed",
        n,
        1,
        CLIENTS,
        *_latency(lat),
        n / wall,
        n / wall,
        cpu * 1e3,
        verdict,
    ]


def _latency(seconds: np.ndarray) -> tuple[float, float]:
    return float(np.percentile(seconds, 50) * 1e3), float(np.percentile(seconds, 99) * 1e3)


def _in_process_table(path: Path, table: pd.DataFrame) -> Table:
    from clusterlab.serve import ServedModel

    served = ServedModel(path)
    out = Table(
        "The same scoring in process (no HTTP): ServedModel.predict",
        ["rows", "ms per call", "rows/s"],
    )
    for n in (1, 1000):
        frame = served.frame({f.name: table[f.name].head(n).tolist() for f in served.features})
        run = measure(lambda frame=frame: served.predict(frame), repeat=20, warmup=True)
        out.add(n, run.seconds * 1e3, n / run.seconds)
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
