"""The SQLAlchemy backend: PostgreSQL, SQLite and any other SQLAlchemy URL.

Tables are reflected (so their column types drive how values come back) and written through
SQLAlchemy Core: the table is created from the frame's dtypes and filled in chunks, inside one
transaction. SQL given by the user is sent to the driver as it is (no SQLAlchemy bind-parameter
parsing, so ``::date`` casts and ``':'`` in strings keep their meaning).
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd

from clusterlab.io import _db
from clusterlab.io._db import (
    DatabaseError,
    TableExistsError,
    check_file_database,
    exists_message,
    first_line,
)
from clusterlab.io.locations import Database, split_table_name

__all__ = ["TRANSACTIONAL_DDL", "check_writable", "engine", "read", "write"]

#: Dialects whose CREATE / DROP TABLE roll back with the transaction: the only ones a new table
#: is written to (elsewhere a write killed half way would leave a partial table).
TRANSACTIONAL_DDL = frozenset({"postgresql", "sqlite", "mssql", "duckdb", "cockroachdb"})


def _sqlalchemy(db: Database) -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise ImportError(f"{db} needs SQLAlchemy: pip install clusterlab[sql]") from None
    return sqlalchemy


def engine(db: Database) -> Any:
    """An engine without a connection pool (one command, one connection) for ``db``."""
    sa = _sqlalchemy(db)
    try:
        url = sa.engine.make_url(db.url)
    except (sa.exc.ArgumentError, ValueError):
        raise ValueError(f"cannot parse the database URL {db}") from None
    try:
        eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    except sa.exc.NoSuchModuleError:
        raise ValueError(f"{db}: SQLAlchemy knows no database kind {url.drivername!r}") from None
    except ImportError as exc:
        extra = "clusterlab[sql]" if url.get_backend_name() == "postgresql" else str(exc.name)
        raise ImportError(
            f"{db}: its driver ({exc.name}) is not installed: pip install {extra}"
        ) from None
    if url.get_backend_name() == "sqlite":
        _transactional_sqlite(eng)
    return eng


def _transactional_sqlite(eng: Any) -> None:
    """Make pysqlite's transactions cover CREATE TABLE too (SQLAlchemy's documented recipe).

    Python's sqlite3 module opens a transaction only before INSERT / UPDATE / DELETE, so a table
    created first would be committed at once; here the driver's own handling is switched off and
    BEGIN is emitted when SQLAlchemy begins a transaction.
    """
    from sqlalchemy import event

    @event.listens_for(eng, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(eng, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


@contextlib.contextmanager
def _errors(db: Database, action: str) -> Iterator[None]:
    """Driver and SQLAlchemy errors as one :class:`DatabaseError` line, password masked."""
    sa = _sqlalchemy(db)
    try:
        yield
    except sa.exc.DBAPIError as exc:
        reason = first_line(exc.orig) if exc.orig is not None else first_line(exc)
        raise DatabaseError(f"{db}: {action}: {db.scrub(reason)}") from None
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"{db}: {action}: {db.scrub(first_line(exc))}") from None


# ---------------------------------------------------------------------------------------- reading


def read(db: Database, *, table: str | None, sql: str | None) -> Iterator[pd.DataFrame]:
    sa = _sqlalchemy(db)
    check_file_database(db, write=False)
    eng = engine(db)
    try:
        with _errors(db, "cannot read"), eng.connect() as conn:
            streaming = conn.execution_options(stream_results=True, yield_per=_db.CHUNK_ROWS)
            if table is not None:
                result = streaming.execute(sa.select(_reflect(conn, db, table)))
            else:
                result = streaming.execute(_verbatim(sa, sql))
            if not result.returns_rows:
                raise ValueError(f"the query on {db} returns no rows (is it a SELECT?)")
            keys = list(result.keys())
            empty = True
            for part in result.partitions(_db.CHUNK_ROWS):
                empty = False
                yield pd.DataFrame.from_records(
                    [tuple(row) for row in part], columns=keys, coerce_float=True
                )
            if empty:
                yield pd.DataFrame(columns=keys)
    finally:
        eng.dispose()


def _verbatim(sa: Any, sql: str) -> Any:
    """``sql`` as a statement sent exactly as written: every colon SQLAlchemy would read as a bind
    parameter (``:name``, its own rule) is escaped; ``::`` casts are left alone, and ``%`` is
    escaped for the driver by SQLAlchemy."""
    return sa.text(re.sub(r"(?<![:\w\\]):(\w+)(?!:)", r"\\:\1", sql))


def _reflect(conn: Any, db: Database, table: str) -> Any:
    sa = _sqlalchemy(db)
    schema, name = split_table_name(table)
    try:
        return sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
    except sa.exc.NoSuchTableError:
        names = sa.inspect(conn).get_table_names(schema=schema)
        hint = f"; its tables: {', '.join(sorted(names)[:20])}" if names else " (it has no tables)"
        raise ValueError(f"{db} has no table {table!r}{hint}") from None


# ---------------------------------------------------------------------------------------- writing


def check_writable(db: Database, *, schema: str | None, name: str, if_exists: str) -> None:
    sa = _sqlalchemy(db)
    check_file_database(db, write=True)
    eng = engine(db)
    try:
        _check_dialect(db, eng, if_exists)
        if db.path is not None and not _file_exists(db):
            return  # a new SQLite file: no table exists yet (and none is created by looking)
        with _errors(db, "cannot connect"), eng.connect() as conn:
            exists = sa.inspect(conn).has_table(name, schema=schema)
        if exists and if_exists == "fail":
            raise TableExistsError(exists_message(db, _label(schema, name)))
    finally:
        eng.dispose()


def _file_exists(db: Database) -> bool:
    from pathlib import Path

    return db.path is not None and Path(db.path).exists()


def _check_dialect(db: Database, eng: Any, if_exists: str) -> None:
    if eng.dialect.name not in TRANSACTIONAL_DDL and if_exists != "append":
        raise ValueError(
            f"{db}: {eng.dialect.name} commits CREATE TABLE at once, so a table written there "
            "could be left half-written; create the table yourself and pass if_exists='append' "
            "(one INSERT transaction), or write to PostgreSQL, SQLite or DuckDB"
        )


def _label(schema: str | None, name: str) -> str:
    return name if schema is None else f"{schema}.{name}"


def write(
    db: Database,
    chunks: Iterable[pd.DataFrame],
    *,
    schema: str | None,
    name: str,
    if_exists: str,
) -> None:
    """Write the frames ``chunks`` (the first decides the columns and their types) in one
    transaction."""
    sa = _sqlalchemy(db)
    check_file_database(db, write=True)
    eng = engine(db)
    try:
        _check_dialect(db, eng, if_exists)
        with _errors(db, f"cannot write table {_label(schema, name)!r}"), eng.begin() as conn:
            exists = sa.inspect(conn).has_table(name, schema=schema)
            if exists and if_exists == "fail":
                raise TableExistsError(exists_message(db, _label(schema, name)))
            parts = iter(chunks)
            first = next(parts)
            if exists and if_exists == "append":
                table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
                _check_append(db, table, first)
            else:
                if exists:
                    sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn).drop(conn)
                table = _new_table(sa, first, schema=schema, name=name)
                table.create(conn)
            for chunk in itertools.chain([first], parts):
                _insert_chunk(conn, table, chunk)
    finally:
        eng.dispose()


def _new_table(sa: Any, frame: pd.DataFrame, *, schema: str | None, name: str) -> Any:
    columns = [sa.Column(str(c), _sql_type(sa, frame[c])) for c in frame.columns]
    return sa.Table(name, sa.MetaData(), *columns, schema=schema)


def _sql_type(sa: Any, col: pd.Series) -> Any:
    """The SQL type of a column of :func:`clusterlab.io._db.writable`'s frame."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.infer_dtype(col) == "boolean":
        return sa.Boolean()
    if isinstance(dtype, pd.DatetimeTZDtype):
        return sa.DateTime(timezone=True)
    checks = (
        (pd.api.types.is_integer_dtype, sa.BigInteger),
        (pd.api.types.is_float_dtype, lambda: sa.Float(precision=53)),  # float64 exactly
        (pd.api.types.is_datetime64_dtype, sa.DateTime),
        (pd.api.types.is_timedelta64_dtype, sa.Interval),
    )
    for check, sql_type in checks:
        if check(dtype):
            return sql_type()
    return sa.Text()


def _check_append(db: Database, table: Any, frame: pd.DataFrame) -> None:
    known = set(table.columns.keys())
    missing = [c for c in frame.columns if c not in known]
    if missing:
        raise ValueError(
            f"cannot append to table {table.fullname!r} of {db}: it has no columns {missing} "
            f"(its columns: {sorted(known)})"
        )


def _insert_chunk(conn: Any, table: Any, chunk: pd.DataFrame) -> None:
    if len(chunk) == 0:
        return
    columns = {name: _python_values(col) for name, col in chunk.items()}
    rows = [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    conn.execute(table.insert(), rows)


def _python_values(col: pd.Series) -> list[Any]:
    """Python values a driver adapts (numpy scalars are not), missing values as None (NULL)."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        values = list(col.dt.to_pydatetime())
    elif pd.api.types.is_timedelta64_dtype(col.dtype):
        values = list(col.dt.to_pytimedelta())
    else:
        values = col.tolist()
    missing = col.isna().to_numpy()
    if missing.any():
        values = [None if m else v for v, m in zip(values, missing, strict=True)]
    return values
