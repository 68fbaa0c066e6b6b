"""What the database backends share: errors, chunks, dtypes in and out, checks.

Used by :mod:`clusterlab.io.databases` and its backends (:mod:`clusterlab.io._duckdb`,
:mod:`clusterlab.io._sqlalchemy`); see :mod:`clusterlab.io.databases` for the behaviour.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from clusterlab.io.locations import Database

#: Rows fetched or inserted at a time.
CHUNK_ROWS = 50_000
#: What ``if_exists`` may say.
IF_EXISTS = ("fail", "replace", "append")
#: Advice given when a result does not fit in memory.
TOO_LARGE = (
    "read_table holds a table in memory: stream it into Dask instead "
    "(clusterlab.distributed.io.read_database, or `clusterlab segment URL --table NAME "
    "--scheduler local`), or select fewer rows or columns in SQL (a WHERE clause, an aggregate, "
    "or a sample: DuckDB `USING SAMPLE 10%`, PostgreSQL `TABLESAMPLE SYSTEM (10)`)"
)


class DatabaseError(OSError):
    """A database could not be reached or refused a statement (the URL shown with its password
    masked)."""


class TableExistsError(ValueError):
    """The target table exists and ``if_exists='fail'``."""


# ---------------------------------------------------------------------------------------- reading


class ChunkCollector:
    """Chunks of a result, refused once they outgrow the memory budget."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.frames: list[pd.DataFrame] = []
        self.rows = 0
        self.bytes = 0

    def add(self, chunk: pd.DataFrame) -> None:
        from clusterlab._config import check_memory

        self.rows += len(chunk)
        self.bytes += int(chunk.memory_usage(deep=True, index=False).sum())
        check_memory(
            self.bytes,
            what=f"reading {self.what} ({self.rows:,} rows so far)",
            alternative=TOO_LARGE,
        )
        self.frames.append(chunk)

    def frame(self) -> pd.DataFrame:
        if len(self.frames) == 1:
            return self.frames[0]
        nonempty = [f for f in self.frames if len(f)] or self.frames[:1]
        return pd.concat(nonempty, ignore_index=True)


def as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the dtypes the file readers give (see the module docstring)."""
    result = pd.DataFrame(
        {i: _plain_column(col) for i, (_, col) in enumerate(frame.items())},
        index=pd.RangeIndex(len(frame)),
    )
    result.columns = [str(c) for c in frame.columns]
    return result


def _plain_column(col: pd.Series) -> pd.Series:
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        values = col.astype(object if col.isna().any() else dtype.categories.dtype)
        return _plain_column(values)
    if pd.api.types.is_object_dtype(dtype):
        return _object_column(col)
    if not pd.api.types.is_extension_array_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return col
    # nullable extension dtypes (Int64, boolean, Float64): numpy ones, as a file reader gives
    kind, missing = getattr(dtype, "kind", "O"), bool(col.isna().any())
    plain = {"i": "int64", "u": "int64", "f": "float64", "b": bool}.get(kind)
    if plain is None:
        return col
    if missing and kind in "iuf":
        return col.astype("float64")
    # booleans with a missing value: objects, missing as None (as every other backend and a
    # Parquet file give them; pd.NA would compare unequal to those)
    return col.astype(object).where(col.notna(), None) if missing else col.astype(plain)


def _object_column(col: pd.Series) -> pd.Series:
    """Python objects a driver returns, as the dtype their CSV text would read as."""
    present = col.dropna()
    if present.empty:
        return col.astype("float64") if len(col) else col
    types = {type(v) for v in present}
    if all(issubclass(t, decimal.Decimal | float | int) for t in types) and bool not in types:
        return pd.to_numeric(col.astype(object).where(col.notna(), np.nan), errors="raise")
    if all(issubclass(t, _dt.date) for t in types):  # date and datetime
        return pd.to_datetime(col)
    if all(issubclass(t, uuid.UUID | str) for t in types):
        return col.map(lambda v: v if v is None or isinstance(v, str) else str(v)).astype("str")
    return col


# ---------------------------------------------------------------------------------------- writing


def exists_message(db: Database, table: str) -> str:
    return (
        f"table {table!r} exists in {db}; pass if_exists='replace' or 'append' "
        "(--if-exists replace|append) to write to it"
    )


def writable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with string column names and every column in a type a database stores.

    Categories become their values; object columns must hold one kind of value (text, numbers,
    booleans, dates), else a ValueError names the column.
    """
    out = {}
    for name, col in frame.items():
        out[str(name)] = _writable_column(str(name), col)
    return pd.DataFrame(out, index=frame.index)


def _writable_column(name: str, col: pd.Series) -> pd.Series:
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object).where(col.notna(), None)
    if pd.api.types.is_object_dtype(col.dtype):
        return _object_for_writing(name, col)
    if pd.api.types.is_complex_dtype(col.dtype):
        raise ValueError(f"column {name!r} holds complex numbers, which a database cannot store")
    if col.dtype == np.uint64 and len(col) and col.max() > np.iinfo(np.int64).max:
        raise ValueError(f"column {name!r} holds integers above 2**63 - 1 (BIGINT's limit)")
    return col


def _object_for_writing(name: str, col: pd.Series) -> pd.Series:
    kind = pd.api.types.infer_dtype(col, skipna=True)
    if kind in ("string", "empty"):
        return col.astype("str") if kind == "string" else col.astype("float64")
    if kind == "integer":
        return col.astype("int64") if not col.isna().any() else col.astype("float64")
    if kind in ("floating", "mixed-integer-float", "decimal"):
        return pd.to_numeric(col, errors="raise").astype("float64")
    if kind == "boolean":
        return col if col.isna().any() else col.astype(bool)
    if kind in ("datetime", "datetime64", "date"):
        return pd.to_datetime(col)
    raise ValueError(
        f"column {name!r} holds values of several kinds ({kind}: e.g. "
        f"{col.dropna().map(type).unique()[:3].tolist()}); convert it to one type before writing"
    )


def check_file_database(db: Database, *, write: bool) -> None:
    """A database file must exist to be read, and its folder to be written (a driver would
    otherwise create an empty database, or fail with a less clear message)."""
    if db.path is None or db.path == ":memory:":
        return
    path = Path(db.path)
    if not write and not path.is_file():
        raise FileNotFoundError(f"{db}: no such database file {path}")
    if write and not path.parent.is_dir():
        raise FileNotFoundError(f"{db}: folder {path.parent} does not exist")
    if write and path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(f"{db}: permission denied (cannot write {path})")


def chunks_of(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """Consecutive slices of :data:`CHUNK_ROWS` rows of ``frame`` (one empty slice for an empty
    frame)."""
    size = CHUNK_ROWS
    if len(frame) == 0:
        yield frame
        return
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (drivers add hints and SQL on later lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
