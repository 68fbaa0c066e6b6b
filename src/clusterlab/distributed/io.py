"""Partitioned tables in and out, and the Dask client of a command-line run."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["connect", "read_partitioned", "write_partitioned"]

#: File kinds read as partitioned data sets (one partition per file, or per row group).
READERS = {".parquet": "read_parquet", ".pq": "read_parquet", ".csv": "read_csv"}


@contextlib.contextmanager
def connect(scheduler: str) -> Iterator[Any]:
    """A ``distributed.Client`` for ``scheduler``: ``'local'`` starts a LocalCluster on this
    machine (one worker process per core, loopback only) for the run; anything else is the
    address of a running scheduler (``tcp://host:8786``)."""
    from distributed import Client, LocalCluster

    if scheduler == "local":
        logging.getLogger("distributed").setLevel(logging.ERROR)
        with (
            LocalCluster(threads_per_worker=1, host="127.0.0.1", dashboard_address=":0") as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    with Client(scheduler, timeout="30s") as client:
        yield client


def read_partitioned(pattern: str) -> Any:
    """A Dask DataFrame of the files matching ``pattern`` (a glob, a file or a directory of
    Parquet files); nothing is read yet.

    Raises
    ------
    ValueError
        For a kind of file that is not read as a partitioned data set, or no matching file.
    """
    import glob

    import dask.dataframe as dd

    path = Path(pattern)
    if path.is_dir():
        return dd.read_parquet(str(path))
    matches = sorted(glob.glob(pattern))
    if not matches:
        raise ValueError(f"no file matches {pattern!r}")
    suffixes = {Path(m).suffix.lower() for m in matches}
    if len(suffixes) != 1 or next(iter(suffixes)) not in READERS:
        raise ValueError(
            f"{pattern!r} must match Parquet (.parquet) or CSV (.csv) files of one kind; got "
            f"{sorted(suffixes)}"
        )
    return getattr(dd, READERS[suffixes.pop()])(matches)


def write_partitioned(frame: Any, out: Path, advance: Callable[[], None]) -> int:
    """Write ``frame`` as a Parquet data set in the directory ``out`` (one file per partition),
    calling ``advance`` as each partition is written; returns the number of files."""
    from distributed import as_completed, default_client

    client = default_client()
    parts = frame.to_parquet(str(out), write_index=True, compute=False)
    futures = client.compute(list(parts) if isinstance(parts, list | tuple) else [parts])
    for _ in as_completed(futures):
        advance()
    client.gather(futures)  # raises the first error of a partition, if any
    return frame.npartitions
