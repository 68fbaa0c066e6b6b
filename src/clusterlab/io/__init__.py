"""Tables in and out: files by extension, databases by URL.

- Files (:mod:`clusterlab.io.files`): CSV / TSV, Parquet, Excel and JSON lines, chosen by the
  extension; the delimiter, decimal mark and encoding are sniffed; writes go to a temporary file
  renamed into place.
- Databases (:mod:`clusterlab.io.databases`): DuckDB (``duckdb:///shop.duckdb``, a ``.duckdb``
  path, or ``duckdb://`` in memory) through DuckDB's own API, and any SQLAlchemy URL
  (``postgresql://``, ``sqlite:///``, ...). A table or a query's result is read; a table is written
  in one transaction.
- SQL over a file: ``read_table("orders.parquet", sql="SELECT ... FROM data")`` runs the query
  in DuckDB, where the file is the table ``data``.

Optional dependencies: ``pip install clusterlab[duckdb]`` (DuckDB), ``clusterlab[sql]``
(SQLAlchemy and psycopg for PostgreSQL), ``clusterlab[parquet]``, ``clusterlab[excel]``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from clusterlab.io._db import IF_EXISTS, DatabaseError, TableExistsError
from clusterlab.io.files import (
    FORMATS,
    FileFormatError,
    atomic_output,
    check_writable,
    read_file,
    table_format,
    write_file,
)
from clusterlab.io.locations import Database, is_database, mask_password, parse_database

__all__ = [
    "FORMATS",
    "IF_EXISTS",
    "Database",
    "DatabaseError",
    "FileFormatError",
    "TableExistsError",
    "atomic_output",
    "check_writable",
    "is_database",
    "mask_password",
    "parse_database",
    "read_table",
    "table_format",
    "write_table",
]


def read_table(
    source: str | os.PathLike[str],
    *,
    table: str | None = None,
    sql: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | int = 0,
    **options: Any,
) -> pd.DataFrame:
    """Read a table from a file or a database.

    Parameters
    ----------
    source : str or path-like
        A file (its extension chooses the reader: ``.csv``, ``.tsv``, ``.parquet``, ``.xlsx``,
        ``.jsonl`` ..., see :mod:`clusterlab.io.files`), a DuckDB file (``.duckdb``), or a database
        URL: ``duckdb:///path.duckdb``, ``duckdb://`` (in memory, for SQL over files),
        ``postgresql://user@host:5432/db``, ``sqlite:///path.db`` or any SQLAlchemy URL. A password
        is taken from the URL or, for PostgreSQL, from ``PGPASSWORD`` / ``~/.pgpass``; it never
        appears in a message.
    table : str, optional
        For a database: the table to read (``"name"`` or ``"schema.name"``).
    sql : str, optional
        For a database: the query whose result to read. For a file: a query run by DuckDB in
        which the file is the table ``data`` (``SELECT * FROM data WHERE country = 'UK'``).
    sep, decimal, encoding, sheet, **options
        For files only: delimiter, decimal mark and encoding of text (sniffed by default), the
        Excel sheet, and options passed to the pandas reader.

    Returns
    -------
    pandas.DataFrame
        Columns with the dtypes reading the table's CSV export would give (int64, float64, str,
        bool, datetime64); a default 0..n-1 index.

    Raises
    ------
    FileNotFoundError, FileFormatError
        A missing or unreadable file (see :mod:`clusterlab.io.files`).
    ValueError
        ``table`` and ``sql`` both or neither given for a database, an unknown table (its tables are
        listed), or options that do not apply to the source.
    DatabaseError
        The database cannot be reached or refuses the query.
    MemoryError
        The result outgrows the memory budget (``CLUSTERLAB_MEMORY_BUDGET``); filter, aggregate
        or sample in SQL.
    ImportError
        A missing optional dependency (the message names the extra to install).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_table(pd.DataFrame({"id": [1, 2, 3], "spend": [5.0, 9.5, 2.0]}),
    ...                 folder / "shop.duckdb", table="customers")
    >>> read_table(folder / "shop.duckdb", sql="SELECT id FROM customers WHERE spend > 4")
       id
    0   1
    1   2
    """
    if table is not None and sql is not None:
        raise ValueError("give table= (a table to read) or sql= (a query), not both")
    if is_database(source):
        given = {"sep": sep, "decimal": decimal, "encoding": encoding, **options}
        extra = [k for k, v in given.items() if v is not None] + ([] if sheet == 0 else ["sheet"])
        if extra:
            raise ValueError(
                f"{', '.join(extra)} apply to files; {parse_database(source)} is a database"
            )
        from clusterlab.io.databases import read_database

        return read_database(source, table=table, sql=sql)
    if table is not None:
        raise ValueError(
            f"table= names a table of a database; {mask_password(os.fspath(source))} is a file "
            "(to query it, use sql= with the table name data)"
        )
    if sql is not None:
        from clusterlab.io._duckdb import query_file

        return query_file(
            source, sql, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet, **options
        )
    return read_file(source, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet, **options)


def write_table(
    frame: pd.DataFrame,
    target: str | os.PathLike[str],
    *,
    table: str | None = None,
    if_exists: str | None = None,
    overwrite: bool = False,
    index: bool | None = None,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Path | Database:
    """Write a table to a file or a database, never half-written.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; it is not modified.
    target : str or path-like
        A file (its extension chooses the format) or a database (a ``.duckdb`` path or a URL, as
        for :func:`read_table`).
    table : str, optional
        For a database: the table to write (``"name"`` or ``"schema.name"``); required there.
    if_exists : {'fail', 'replace', 'append'}, optional
        What to do when the file or table exists. ``'fail'`` (the default) refuses; ``'replace'``
        replaces it (a table is dropped and recreated in the same transaction); ``'append'``
        inserts the rows into an existing table (tables only). ``overwrite=True`` means
        ``'replace'``.
    overwrite : bool, default False
        Replace an existing file or table.
    index : bool, optional
        Write the row index as column(s); by default only when it is not the default 0..n-1 range.
    protect : iterable of paths
        Files that must never be written over (the inputs of a command).

    Returns
    -------
    pathlib.Path or Database
        The file written, or the database (its ``str`` shows the URL with the password masked).

    Raises
    ------
    FileExistsError, TableExistsError
        The file or table exists and ``if_exists`` is ``'fail'``.
    ValueError
        A database target without ``table``, ``append`` to a file, a column a database cannot
        store, or a dialect that cannot create a table in a transaction.
    DatabaseError
        The database cannot be reached or refuses the write (nothing is left behind).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "shop.duckdb"
    >>> frame = pd.DataFrame({"id": [1, 2], "segment": [0, 1]})
    >>> str(write_table(frame, target, table="segments")) == f"duckdb:///{target}"
    True
    >>> read_table(target, table="segments").equals(frame)
    True
    """
    mode = resolve_if_exists(if_exists, overwrite=overwrite)
    if is_database(target):
        if table is None:
            raise ValueError(f"name the table to write in {parse_database(target)} (table=)")
        from clusterlab.io.databases import write_database

        return write_database(frame, target, table=table, if_exists=mode, index=index)
    if table is not None:
        raise ValueError(f"table= names a table of a database; {target} is a file")
    if mode == "append":
        raise ValueError(f"if_exists='append' adds rows to a database table; {target} is a file")
    return write_file(frame, target, overwrite=mode == "replace", index=index, protect=protect)


def resolve_if_exists(if_exists: str | None, *, overwrite: bool = False) -> str:
    """One of :data:`IF_EXISTS` from ``if_exists`` and the older ``overwrite`` flag.

    Examples
    --------
    >>> resolve_if_exists(None), resolve_if_exists(None, overwrite=True)
    ('fail', 'replace')
    """
    if if_exists is None:
        return "replace" if overwrite else "fail"
    if if_exists not in IF_EXISTS:
        raise ValueError(f"if_exists must be one of {', '.join(IF_EXISTS)}; got {if_exists!r}")
    if overwrite and if_exists != "replace":
        raise ValueError(f"overwrite=True (--force) contradicts if_exists={if_exists!r}")
    return if_exists
