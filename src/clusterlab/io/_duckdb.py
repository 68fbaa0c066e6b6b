"""The DuckDB backend: database files, in-memory SQL, and SQL over table files.

DuckDB is used through its own Python API (no SQLAlchemy dialect needed): results come out as
pandas chunks, frames go in by reference, and one connection's transaction covers a whole write.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from clusterlab.io import _db, files
from clusterlab.io._db import (
    ChunkCollector,
    DatabaseError,
    TableExistsError,
    as_read,
    check_file_database,
    exists_message,
    first_line,
)
from clusterlab.io.locations import Database

__all__ = ["FILE_VIEW", "check_writable", "connect", "query_file", "read", "write"]

#: The name a table file has in ``sql=`` (``SELECT ... FROM data``).
FILE_VIEW = "data"
#: Name under which a frame being written is visible to DuckDB.
_FRAME = "__clusterlab_frame"
_VECTOR = 2048  # rows in a DuckDB vector: chunks are fetched in whole vectors
_NATIVE_ENCODINGS = ("utf-8", "utf-8-sig")


def _duckdb(db: Database | str) -> Any:
    try:
        import duckdb
    except ImportError:
        raise ImportError(f"{db} needs DuckDB: pip install clusterlab[duckdb]") from None
    return duckdb


def connect(db: Database, *, write: bool) -> Any:
    duckdb = _duckdb(db)
    check_file_database(db, write=write)
    read_only = not write and db.path != ":memory:"
    try:
        return duckdb.connect(db.path, read_only=read_only)
    except duckdb.Error as exc:
        raise DatabaseError(
            f"{db}: cannot open the database: {db.scrub(first_line(exc))}"
        ) from None


def quote(schema: str | None, name: str) -> str:
    """A (schema-qualified) identifier in DuckDB's quotes."""
    parts = [name] if schema is None else [schema, name]
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


# ---------------------------------------------------------------------------------------- reading


def read(db: Database, *, table: str | None, sql: str | None) -> Iterator[pd.DataFrame]:
    from clusterlab.io.locations import split_table_name

    con = connect(db, write=False)
    try:
        if table is not None:
            schema, name = split_table_name(table)
            if not _exists(con, schema, name):
                raise ValueError(f"{db} has no table {table!r}{_tables_hint(con)}")
            sql = f"SELECT * FROM {quote(schema, name)}"
        yield from fetch(con, sql, db)
    finally:
        con.close()


def fetch(con: Any, sql: str, db: Database | str) -> Iterator[pd.DataFrame]:
    """The result of ``sql`` in chunks of about :data:`~clusterlab.io._db.CHUNK_ROWS` rows."""
    duckdb = _duckdb(db)
    try:
        con.execute(sql)
        while True:
            chunk = con.fetch_df_chunk(max(1, _db.CHUNK_ROWS // _VECTOR))
            yield chunk
            if len(chunk) == 0:
                return
    except duckdb.Error as exc:
        raise DatabaseError(f"{db}: {_scrub(db, first_line(exc))}") from None


def _scrub(db: Database | str, text: str) -> str:
    return db.scrub(text) if isinstance(db, Database) else text


def _exists(con: Any, schema: str | None, name: str) -> bool:
    """Whether a table or view of that name exists (a catalog query: a failing SELECT would abort
    the transaction). DuckDB's identifiers are case-insensitive."""
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE lower(table_name) = lower(?) "
        "AND lower(table_schema) = lower(coalesce(?, current_schema()))",
        [name, schema],
    ).fetchall()
    return bool(rows[0][0])


def _tables_hint(con: Any) -> str:
    names = [
        row[0] if row[1] == "main" else f"{row[1]}.{row[0]}"
        for row in con.execute(
            "SELECT table_name, table_schema FROM information_schema.tables"
        ).fetchall()
    ]
    return f"; its tables: {', '.join(sorted(names)[:20])}" if names else " (it has no tables)"


def query_file(
    path: str | Path,
    sql: str,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | int = 0,
    **options: Any,
) -> pd.DataFrame:
    """Run ``sql`` on a table file, which the query names ``data``.

    Parquet, CSV / TSV (plain or gzip-compressed, UTF-8) and JSON lines are read by DuckDB itself,
    streaming (a query that filters or aggregates a file larger than memory works); the delimiter
    and decimal mark are sniffed as :func:`clusterlab.io.read_table` sniffs them, and DuckDB
    types the columns (dates become dates). Other files (Excel, other compressions or encodings,
    or when pandas ``options`` are given) are read by :func:`clusterlab.io.read_table` first.
    """
    path = Path(path)
    fmt, compression = files.table_format(path)
    files._check_readable(path)
    duckdb = _duckdb(f"sql= over {path}")
    read_options = {"sep": sep, "decimal": decimal, "encoding": encoding, "sheet": sheet}
    con = duckdb.connect()
    try:
        native = not options and _register_native(con, path, fmt, compression, **read_options)
        if native:
            try:
                return as_read(_collect(con, sql, path))
            except DatabaseError as exc:
                if "unicode" not in str(exc).lower():
                    raise
            # not UTF-8 after all (the sniffed sample was): read it with the encoding fallbacks
            con.execute(f"DROP VIEW {FILE_VIEW}").fetchall()
        con.register(FILE_VIEW, files.read_file(path, **read_options, **options))
        return as_read(_collect(con, sql, path))
    finally:
        con.close()


def _collect(con: Any, sql: str, path: Path) -> pd.DataFrame:
    chunks = ChunkCollector(f"the query on {path}")
    for chunk in fetch(con, sql, f"sql= over {path} (the file is the table {FILE_VIEW})"):
        chunks.add(chunk)
    return chunks.frame()


def _register_native(
    con: Any,
    path: Path,
    fmt: str,
    compression: str | None,
    *,
    sep: str | None,
    decimal: str | None,
    encoding: str | None,
    sheet: str | int,
) -> bool:
    """Make DuckDB read ``path`` as the view ``data``; False when it cannot read it natively
    (then the caller reads the file with :func:`clusterlab.io.files.read_file`)."""
    if fmt == "parquet":
        files._check_not_text(path, fmt)
        con.read_parquet(str(path)).create_view(FILE_VIEW)
        return True
    if compression not in (None, "gzip") or fmt not in ("csv", "tsv", "jsonl"):
        return False
    raw = files._read_sample(path, compression)
    if not raw.strip():
        raise files.FileFormatError(f"{path} is empty (no header, no rows)")
    files._check_not_binary(path, raw)
    if not _utf8(raw, encoding):
        return False
    duckdb = _duckdb("DuckDB")
    try:
        if fmt == "jsonl":
            relation = con.read_json(str(path), format="newline_delimited")
        else:
            options = _csv_options(path, raw, fmt, sep=sep, decimal=decimal)
            if options is None:
                return False
            relation = con.read_csv(str(path), header=True, **options)
        relation.create_view(FILE_VIEW)
    except duckdb.Error as exc:
        if "unicode" in str(exc).lower():
            return False  # invalid UTF-8 past the sample: the encoding fallbacks read it
        raise files.FileFormatError(f"{path}: {first_line(exc)}") from None
    return True


def _utf8(raw: bytes, encoding: str | None) -> bool:
    """Whether a file whose first bytes are ``raw`` is UTF-8 text (what DuckDB reads)."""
    if (encoding or files._guess_encoding(raw)).lower() not in _NATIVE_ENCODINGS:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(raw) - 4  # only a character cut by the sample's end
    return True


def _csv_options(
    path: Path, raw: bytes, fmt: str, *, sep: str | None, decimal: str | None
) -> dict[str, str] | None:
    """DuckDB's delimiter and decimal mark, as clusterlab sniffs them; None when the numbers use
    a thousands separator (DuckDB has none: pandas reads those files)."""
    text = raw.decode("utf-8", errors="replace")
    sep = sep or files._sniff_delimiter(path, text, fmt)
    if decimal is None and sep != ",":
        decimal, thousands = files._sniff_decimal(text, sep)
        if thousands is not None:
            return None
    return {"sep": sep, "decimal": decimal or "."}


# ---------------------------------------------------------------------------------------- writing


def check_writable(db: Database, *, schema: str | None, name: str, if_exists: str) -> None:
    if db.path == ":memory:":
        raise ValueError(f"{db} is an in-memory database: write to a file (duckdb:///path.duckdb)")
    check_file_database(db, write=True)
    if if_exists != "fail" or not Path(db.path).exists():
        return
    con = connect(db, write=False)
    try:
        if _exists(con, schema, name):
            raise TableExistsError(exists_message(db, _label(schema, name)))
    finally:
        con.close()


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
    """Write the frames ``chunks`` (the first decides the columns) in one transaction."""
    duckdb = _duckdb(db)
    if db.path == ":memory:":
        raise ValueError(f"{db} is an in-memory database: write to a file (duckdb:///path.duckdb)")
    con = connect(db, write=True)
    target = quote(schema, name)
    try:
        con.begin()
        exists = _exists(con, schema, name)
        if exists and if_exists == "fail":
            raise TableExistsError(exists_message(db, _label(schema, name)))
        parts = iter(chunks)
        first = next(parts)
        if exists and if_exists == "append":
            _check_append(con, db, target, first, _label(schema, name))
        elif exists:
            con.execute(f"DROP TABLE {target}").fetchall()
        create = not exists or if_exists == "replace"
        for chunk in itertools.chain([first], parts):
            _insert_chunk(con, target, chunk, create=create)
            create = False
        con.commit()
    except duckdb.Error as exc:
        _rollback(con)
        raise DatabaseError(
            f"{db}: cannot write table {name!r}: {db.scrub(first_line(exc))}"
        ) from None
    except BaseException:
        _rollback(con)
        raise
    finally:
        con.close()


def _insert_chunk(con: Any, target: str, chunk: pd.DataFrame, *, create: bool) -> None:
    """Create the table from the first chunk (DuckDB types it), insert the others by name."""
    con.register(_FRAME, chunk)
    try:
        if create:
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM {_FRAME}").fetchall()
        else:
            con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {_FRAME}").fetchall()
    finally:
        con.unregister(_FRAME)


def _check_append(con: Any, db: Database, target: str, frame: pd.DataFrame, label: str) -> None:
    columns = [row[0] for row in con.execute(f"DESCRIBE {target}").fetchall()]
    known = {c.lower() for c in columns}  # DuckDB's identifiers are case-insensitive
    missing = [c for c in frame.columns if c.lower() not in known]
    if missing:
        raise ValueError(
            f"cannot append to table {label!r} of {db}: it has no columns {missing} "
            f"(its columns: {columns})"
        )


def _rollback(con: Any) -> None:
    import contextlib

    duckdb = _duckdb("DuckDB")
    with contextlib.suppress(duckdb.Error):
        con.rollback()
