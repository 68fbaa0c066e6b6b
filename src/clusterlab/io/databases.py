"""Tables in databases: DuckDB (embedded, and SQL over files) and any SQLAlchemy URL.

Reading
    A table (``table=``, ``"name"`` or ``"schema.name"``) or the result of a query (``sql=``) is
    fetched in chunks of :data:`CHUNK_ROWS` rows. Columns get the dtypes the file readers give:
    whole numbers ``int64`` (``float64`` when a value is missing, as in a CSV file), ``NUMERIC`` /
    ``DECIMAL`` ``float64``, text ``str``, booleans ``bool``, dates and timestamps
    ``datetime64``; a table read back equals the frame written, as it would from a Parquet file.
    The whole result is held in memory: a result larger than the memory budget
    (``CLUSTERLAB_MEMORY_BUDGET``, half the RAM by default) is refused after the chunk that crosses
    it, with the advice to stream it into Dask (:func:`clusterlab.distributed.io.read_database`,
    which stages the chunks as Parquet partitions on disk) or to filter, aggregate or sample in SQL.

Writing
    One transaction: the table appears whole or not at all, and a write that fails or is killed half
    way leaves the database as it was. ``if_exists='fail'`` (the default) refuses an existing
    table; ``'replace'`` drops and recreates it inside the same transaction; ``'append'`` inserts
    into it (every column written must exist there). Column types follow the dtypes: ``int64`` ->
    ``BIGINT``, ``float64`` -> ``DOUBLE PRECISION``, ``str`` -> ``TEXT``, ``bool`` -> ``BOOLEAN``,
    ``datetime64`` -> ``TIMESTAMP``, so key columns read back with the type they were written with.
    Writing is transactional on DuckDB, PostgreSQL and SQLite (whose DDL is transactional); other
    SQLAlchemy dialects are refused for new tables (MySQL, Oracle ... commit ``CREATE TABLE`` at
    once) and can only be appended to. :func:`write_chunks` writes a table that arrives in parts
    (the partitions of a Dask result) in the same single transaction.

Credentials come from the URL or from the driver's environment (PostgreSQL: ``PGPASSWORD``,
``~/.pgpass``, ``PGUSER``, ``PGHOST`` ...); a password never appears in a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd

from clusterlab.io._db import (
    CHUNK_ROWS,
    IF_EXISTS,
    TOO_LARGE,
    ChunkCollector,
    DatabaseError,
    TableExistsError,
    as_read,
    chunks_of,
    writable,
)
from clusterlab.io.files import _is_default_index, _with_index_columns
from clusterlab.io.locations import Database, parse_database, split_table_name

__all__ = [
    "CHUNK_ROWS",
    "IF_EXISTS",
    "TOO_LARGE",
    "DatabaseError",
    "TableExistsError",
    "check_table_writable",
    "read_chunks",
    "read_database",
    "write_chunks",
    "write_database",
]


def read_database(source: Any, *, table: str | None = None, sql: str | None = None) -> pd.DataFrame:
    """Read a table or a query's result from a database (see the module docstring).

    Use :func:`clusterlab.io.read_table`, which also reads files; this is its database half.
    """
    db = parse_database(source)
    what = f"table {table!r} of {db}" if table is not None else f"the query on {db}"
    chunks = ChunkCollector(what)
    for chunk in read_chunks(source, table=table, sql=sql):
        chunks.add(chunk)
    return as_read(chunks.frame())


def read_chunks(
    source: Any, *, table: str | None = None, sql: str | None = None
) -> Iterator[pd.DataFrame]:
    """The rows of a table or a query's result, in chunks of about :data:`CHUNK_ROWS` rows.

    The chunks are as the driver gives them (pass the whole result through
    :func:`clusterlab.io._db.as_read` for the dtypes :func:`read_database` gives); at least one
    chunk, empty for an empty result. Only one chunk is held at a time. The arguments are checked
    before the first chunk is asked for.
    """
    db = parse_database(source)
    if (table is None) == (sql is None):
        raise ValueError(
            f"{db}: name a table (table= / --table) or give a query (sql= / --sql), not "
            + ("both" if table is not None else "neither")
        )
    if sql is not None and (not isinstance(sql, str) or not sql.strip()):
        raise ValueError(f"sql must be a non-empty SQL query; got {sql!r}")
    return _backend(db).read(db, table=table, sql=sql)


def write_database(
    frame: pd.DataFrame,
    target: Any,
    *,
    table: str,
    if_exists: str = "fail",
    index: bool | None = None,
) -> Database:
    """Write ``frame`` as ``table`` of the database ``target``, in one transaction.

    Use :func:`clusterlab.io.write_table`, which also writes files; this is its database half.
    Returns the :class:`~clusterlab.io.locations.Database` written to.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame; got {type(frame).__name__}")
    db = parse_database(target)
    _check_if_exists(if_exists)
    schema, name = split_table_name(table)
    if index is None:
        index = not _is_default_index(frame.index)
    rows = _rows(frame, index=index, table=table, db=db)
    _backend(db).write(db, chunks_of(rows), schema=schema, name=name, if_exists=if_exists)
    return db


def write_chunks(
    chunks: Iterable[pd.DataFrame],
    target: Any,
    *,
    table: str,
    if_exists: str = "fail",
    index: bool = False,
) -> Database:
    """Write the frames ``chunks`` one after the other as ``table`` of ``target``, in one
    transaction: the table appears whole or not at all, also when the iterator raises half way.

    The first chunk decides the columns and their types (every chunk must have its columns;
    ``index=True`` writes each chunk's index as column(s)). Only one chunk is held at a time, so
    a table larger than memory can be written from the partitions of a Dask result
    (:func:`clusterlab.distributed.io.write_database` does). Returns the database written to.
    """
    db = parse_database(target)
    _check_if_exists(if_exists)
    schema, name = split_table_name(table)
    prepared = (_rows(chunk, index=index, table=table, db=db) for chunk in chunks)
    _backend(db).write(db, prepared, schema=schema, name=name, if_exists=if_exists)
    return db


def _rows(frame: pd.DataFrame, *, index: bool, table: str, db: Database) -> pd.DataFrame:
    """``frame`` as written: index columns when asked, string names, storable column types."""
    rows = _with_index_columns(frame) if index else frame
    names = pd.Index([str(c) for c in rows.columns])
    if names.duplicated().any():
        dupes = sorted(set(names[names.duplicated()]))
        raise ValueError(f"cannot write table {table!r} of {db}: duplicated column names {dupes}")
    return writable(rows)


def check_table_writable(target: Any, table: str, *, if_exists: str = "fail") -> None:
    """Raise the error :func:`write_database` would raise for an existing table or a database that
    cannot be reached, before any work is done (the write checks again, in its transaction)."""
    db = parse_database(target)
    _check_if_exists(if_exists)
    schema, name = split_table_name(table)
    _backend(db).check_writable(db, schema=schema, name=name, if_exists=if_exists)


def _check_if_exists(if_exists: str) -> None:
    if if_exists not in IF_EXISTS:
        raise ValueError(f"if_exists must be one of {', '.join(IF_EXISTS)}; got {if_exists!r}")


def _backend(db: Database) -> Any:
    if db.backend == "duckdb":
        from clusterlab.io import _duckdb

        return _duckdb
    from clusterlab.io import _sqlalchemy

    return _sqlalchemy
