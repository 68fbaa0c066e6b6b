"""A lean HTTP load generator for bench_serve, run in its own process (standard library only).

``python -m benchmarks.serve_load URL BODIES CLIENTS OUT [DEADLINE_S]`` posts every line of the
file BODIES (one JSON body per line) to URL with CLIENTS concurrent keep-alive connections, each
sending its next request when the previous answer has arrived (closed loop), and writes a JSON
file OUT: each request's latency in seconds and HTTP status, and the wall time. The client is a
few lines of asyncio over raw HTTP/1.1 so that it costs the shared cores as little as possible;
a run stops by itself at DEADLINE_S (default 600) seconds, the requests not sent counted as
status 0.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class _Run:
    """What the clients of one run share: the target, the bodies, the next body's number and the
    results."""

    host: str
    port: int
    path: str
    bodies: list[bytes]
    deadline: float
    cursor: Iterator[int] = field(init=False)
    latencies: list[float] = field(init=False)
    statuses: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.cursor = iter(range(len(self.bodies)))
        self.latencies = [float("nan")] * len(self.bodies)
        self.statuses = [0] * len(self.bodies)


async def _client(run: _Run) -> None:
    """One keep-alive connection posting the run's next body until none (or no time) is left."""
    reader, writer = await asyncio.open_connection(run.host, run.port)
    head = (
        f"POST {run.path} HTTP/1.1\r\nHost: {run.host}:{run.port}\r\n"
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n"
    )
    try:
        for i in run.cursor:
            if time.monotonic() > run.deadline:
                return
            body = run.bodies[i]
            start = time.perf_counter()
            writer.write(head.format(len(body)).encode() + body)
            status, length = await _answer(reader)
            await reader.readexactly(length)
            run.latencies[i] = time.perf_counter() - start
            run.statuses[i] = status
    finally:
        writer.close()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, int]:
    """The status and content length of the next response (its headers are read)."""
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, length


async def run(url: str, bodies: list[bytes], clients: int, seconds: float) -> dict:
    """Post every body with ``clients`` concurrent connections; the latencies, statuses and wall
    time."""
    parts = urlsplit(url)
    state = _Run(parts.hostname, parts.port, parts.path, bodies, time.monotonic() + seconds)
    start = time.perf_counter()
    await asyncio.gather(*(_client(state) for _ in range(clients)))
    wall = time.perf_counter() - start
    return {"latencies": state.latencies, "statuses": state.statuses, "wall": wall}


def main(argv: list[str]) -> None:
    url, bodies_path, clients, out = argv[:4]
    seconds = float(argv[4]) if len(argv) > 4 else 600.0
    with open(bodies_path, "rb") as fh:
        bodies = [line.rstrip(b"\n") for line in fh]
    result = asyncio.run(run(url, bodies, int(clients), seconds))
    with open(out, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main(sys.argv[1:])
