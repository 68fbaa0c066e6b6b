"""Partitioned tables in and out, and the Dask client of a command-line run.

- Files: :func:`read_partitioned` (a glob or folder of Parquet / CSV files) and
  :func:`write_partitioned` (one Parquet file per partition).
- Databases: :func:`read_database` streams a table or a query's result into a Dask DataFrame
  through Parquet partitions staged on disk, for results larger than memory (what
  :func:`clusterlab.io.read_table` refuses past the memory budget); :func:`write_database` writes
  a Dask DataFrame as a table partition by partition, in one transaction.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from clusterlab.distributed._staging import PARTITION_ROWS

__all__ = [
    "PARTITION_ROWS",
    "connect",
    "read_database",
    "read_partitioned",
    "write_database",
    "write_partitioned",
]

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


# ---------------------------------------------------------------------------------- databases


@contextlib.contextmanager
def read_database(
    source: str | os.PathLike[str],
    *,
    table: str | None = None,
    sql: str | None = None,
    folder: str | os.PathLike[str] | None = None,
    partition_rows: int = PARTITION_ROWS,
) -> Iterator[Any]:
    """A database table or a query's result as a Dask DataFrame, however large (a context manager).

    The result streams from the database in chunks into Parquet partitions of ``partition_rows``
    rows in ``folder``, one chunk in memory at a time, in one read (one consistent snapshot of the
    database); the Dask DataFrame reads those files. Inside the ``with`` block it computes to what
    :func:`clusterlab.io.read_table` returns for the same source (the same values and dtypes; the
    index numbers the rows 0..n-1), so ``Experiment(frame, ...)`` segments it as it would the
    in-memory table.

    Parameters
    ----------
    source : str or path-like
        A database, as for :func:`clusterlab.io.read_table`: ``duckdb:///shop.duckdb``, a
        ``.duckdb`` path, ``postgresql://user@host/db``, ``sqlite:///shop.db`` or any SQLAlchemy
        URL.
    table, sql : str, optional
        The table to read, or the query whose result to read (one of them).
    folder : str or path-like, optional
        Where the Parquet files go: a new or empty folder, kept after the block (read it again with
        ``dask.dataframe.read_parquet``). By default a temporary folder (in ``TMPDIR``) removed at
        the end of the block. The files must fit on its disk, and every Dask worker must be able to
        read it: with workers on other machines, a shared file system.
    partition_rows : int, default 1_000_000
        Rows per partition.

    Yields
    ------
    dask.dataframe.DataFrame
        Lazy; valid until the block ends (when ``folder`` is not given).

    Raises
    ------
    ValueError
        ``table`` and ``sql`` both or neither given, an unknown table, a column whose values are of
        different kinds in different parts of the result, or a bad ``partition_rows`` / ``folder``.
    DatabaseError
        The database cannot be reached or refuses the query.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from clusterlab.io import write_table
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "shop.duckdb"
    >>> _ = write_table(pd.DataFrame({"id": range(5), "spend": [1.0, 2, 3, 4, 5]}), db,
    ...                 table="customers")
    >>> with read_database(db, table="customers", partition_rows=2) as frame:
    ...     print(frame.npartitions, float(frame["spend"].sum().compute()))
    3 15.0
    """
    from clusterlab.distributed._staging import stage
    from clusterlab.io import is_database, mask_password
    from clusterlab.io.databases import read_chunks

    if not is_database(source):
        raise ValueError(
            f"read_database reads a database (a URL or a .duckdb file); got "
            f"{mask_password(os.fspath(source))} (for files use read_partitioned)"
        )
    if (
        isinstance(partition_rows, bool)
        or not isinstance(partition_rows, int)
        or partition_rows < 1
    ):
        raise ValueError(f"partition_rows must be an int >= 1; got {partition_rows!r}")
    chunks = read_chunks(source, table=table, sql=sql)  # checks table / sql before any work
    where = _staging_folder(folder)
    what = f"table {table!r}" if table is not None else "the query"
    what += f" of {mask_password(os.fspath(source))}"
    try:
        try:
            staged = stage(chunks, where, partition_rows=partition_rows, what=what)
        except BaseException:
            for path in where.glob("part-*.parquet"):  # a given folder is left as it was
                path.unlink()
            raise
        yield staged.frame()
    finally:
        if folder is None:
            shutil.rmtree(where, ignore_errors=True)


def _staging_folder(folder: str | os.PathLike[str] | None) -> Path:
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="clusterlab-staged-"))
    where = Path(folder)
    if where.exists() and (not where.is_dir() or any(where.iterdir())):
        raise ValueError(f"folder must be a new or empty folder; {where} is not")
    if not where.parent.is_dir():
        raise FileNotFoundError(f"folder {where}: {where.parent} does not exist")
    where.mkdir(exist_ok=True)
    return where


def write_database(
    frame: Any,
    target: str | os.PathLike[str],
    *,
    table: str,
    if_exists: str = "fail",
    index: bool | None = None,
    advance: Callable[[], None] | None = None,
) -> Any:
    """Write a Dask DataFrame as a table of a database, partition by partition, in one transaction.

    The partitions are computed in order (a few at a time on the ambient ``distributed.Client``,
    else one by one) and inserted as they arrive; only the partitions in flight are in memory.
    The table appears whole or not at all: if a partition fails, or the write is interrupted, the
    transaction is rolled back and the database is as it was. This holds on DuckDB, PostgreSQL and
    SQLite; other SQLAlchemy dialects commit ``CREATE TABLE`` at once, so there only
    ``if_exists='append'`` to an existing table is allowed (one INSERT transaction), as for
    :func:`clusterlab.io.write_table`.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame
    target : str or path-like
        A database, as for :func:`clusterlab.io.write_table`.
    table : str
        The table to write (``"name"`` or ``"schema.name"``).
    if_exists : {'fail', 'replace', 'append'}, default 'fail'
    index : bool, optional
        Write the index as column(s); by default when it has a name (the row numbers of
        :func:`read_database` have none and are not written).
    advance : callable, optional
        Called after each partition is inserted (a progress bar's step).

    Returns
    -------
    clusterlab.io.Database
        The database written to (its ``str`` masks the password).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd, dask.dataframe as dd
    >>> from clusterlab.io import read_table
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "shop.duckdb"
    >>> frame = dd.from_pandas(pd.DataFrame({"id": range(6), "segment": [0, 1] * 3}),
    ...                        npartitions=3)
    >>> _ = write_database(frame, db, table="segments")
    >>> len(read_table(db, table="segments"))
    6
    """
    from clusterlab.io.databases import write_chunks

    if index is None:
        index = frame.index.name is not None
    parts = _computed_partitions(frame, advance, client=_ambient_client())
    try:
        return write_chunks(parts, target, table=table, if_exists=if_exists, index=index)
    finally:
        parts.close()


#: Partitions computed ahead of the one being inserted, per worker thread.
_AHEAD = 2


def _ambient_client() -> Any:
    """The ``distributed.Client`` in use, or None (then Dask's default scheduler computes)."""
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def _computed_partitions(
    frame: Any, advance: Callable[[], None] | None, *, client: Any
) -> Generator[Any, None, None]:
    """The partitions of ``frame`` as pandas frames, in order: computed a few ahead on
    ``client``, or one by one without one."""
    delayed = iter(frame.to_delayed())
    if client is None:
        for part in delayed:
            yield part.compute()
            if advance is not None:
                advance()
        return
    window = _AHEAD * max(1, sum(client.nthreads().values()))
    futures = collections.deque(client.compute(d) for d in _take(delayed, window))
    try:
        while futures:
            future = futures.popleft()
            part = future.result()
            futures.extend(client.compute(d) for d in _take(delayed, 1))
            yield part
            if advance is not None:
                advance()
    finally:
        client.cancel(list(futures))


def _take(items: Iterator[Any], n: int) -> list[Any]:
    return [item for _, item in zip(range(n), items, strict=False)]
