"""A table that arrives in chunks (a database result), staged as Parquet partitions for Dask.

The chunks stream in (:func:`clusterlab.io.databases.read_chunks`); every ``partition_rows`` rows
become one Parquet file (``part-00000.parquet`` ...) whose index is the rows' numbers in the
whole result (0..n-1), so at most one partition is in memory and the result may be larger than
memory (it must fit on disk, compressed).

Each partition is typed as :func:`clusterlab.io.read_table` would type the whole result
(:func:`clusterlab.io._db.as_read`), but a partition only sees its own rows: a whole-number column
with a missing value in one partition is float64 there and int64 elsewhere, and a column without
any value in a partition has no type there. After the last partition the types are made one:

- in Parquet, a column without any value in a partition is written as Arrow's null type, and the
  partitions are read with the schema that unifies them all (int64 and double give double);
- in pandas, the dtype is the one reading the whole result would give: float64 for whole numbers
  with a missing value anywhere, object for booleans with a missing value anywhere, else the
  partitions' common dtype. A column holding different kinds of values in different partitions
  (text here, numbers there: SQLite's dynamic typing allows it) is refused with a ValueError
  naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PARTITION_ROWS", "Staged", "stage"]

#: Rows per Parquet partition unless told otherwise (a few hundred MiB for a wide table).
PARTITION_ROWS = 1_000_000
_NUMBERS = frozenset({"int64", "float64"})
_BOOLEANS = frozenset({"bool", "object"})


@dataclass
class Staged:
    """The Parquet files of a staged result and what reading them back needs."""

    folder: Path
    #: the result, as messages name it
    what: str
    files: list[Path] = field(default_factory=list)
    rows: int = 0
    schemas: list[Any] = field(default_factory=list)
    #: per column: the pandas dtypes of the partitions in which it has a value
    kinds: dict[str, set[str]] = field(default_factory=dict)
    #: columns without any value in some (non-empty) partition
    holes: set[str] = field(default_factory=set)
    meta: pd.DataFrame | None = None

    def add(self, frame: pd.DataFrame) -> None:
        """Write ``frame`` (typed by ``as_read``) as the next partition."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        start = self.rows
        frame = frame.set_axis(pd.Index(np.arange(start, start + len(frame)), dtype=np.int64))
        table = _arrow(frame)
        path = self.folder / f"part-{len(self.files):05d}.parquet"
        # dictionary encoding only where it pays (text): tried on every number column it costs
        # more than the rest of the write (measured 0.66 s against 0.28 s for 500k x 10)
        text = [
            f.name
            for f in table.schema
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        pq.write_table(table, path, use_dictionary=text)
        self.files.append(path)
        self.schemas.append(table.schema)
        self.rows += len(frame)
        if self.meta is None:
            self.meta = frame.iloc[:0]
        for name, col in frame.items():
            if len(col) and col.isna().all():
                self.holes.add(str(name))
            elif len(col):
                self.kinds.setdefault(str(name), set()).add(str(col.dtype))
        self.dtypes()  # a column of several kinds fails now, not after the last partition

    def dtypes(self) -> dict[str, Any]:
        """Each column's dtype in the whole result (see the module docstring)."""
        assert self.meta is not None
        return {
            str(name): _dtype(
                str(name), self.kinds.get(str(name), set()), name in self.holes, dtype, self.what
            )
            for name, dtype in self.meta.dtypes.items()
        }

    def frame(self) -> Any:
        """The staged result as a lazy Dask DataFrame, every partition in the common dtypes."""
        import dask.dataframe as dd
        import pyarrow as pa

        schema = pa.unify_schemas(self.schemas, promote_options="permissive")
        parts = dd.read_parquet([str(p) for p in self.files], dataset={"schema": schema})
        # cast only the columns that differ between partitions or from the common dtype, with
        # astype (not map_partitions), so that Dask still reads only the columns a result needs
        unsteady = self.holes | {name for name, kinds in self.kinds.items() if len(kinds) > 1}
        casts = {
            name: dtype
            for name, dtype in self.dtypes().items()
            if name in unsteady or parts.dtypes[name] != dtype
        }
        return parts.astype(casts) if casts else parts


def stage(
    chunks: Iterable[pd.DataFrame], folder: Path, *, partition_rows: int, what: str
) -> Staged:
    """Write ``chunks`` as Parquet partitions of ``partition_rows`` rows in ``folder``."""
    from clusterlab.io._db import as_read

    staged = Staged(Path(folder), what)
    pending: list[pd.DataFrame] = []
    count = 0
    for chunk in chunks:
        pending.append(chunk)
        count += len(chunk)
        if count < partition_rows:
            continue
        rows = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
        full = len(rows) - len(rows) % partition_rows
        for start in range(0, full, partition_rows):
            staged.add(as_read(rows.iloc[start : start + partition_rows].reset_index(drop=True)))
        pending, count = [rows.iloc[full:].reset_index(drop=True)], len(rows) - full
    if count or not staged.files:
        rows = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
        staged.add(as_read(rows))
    return staged


def _arrow(frame: pd.DataFrame) -> Any:
    """The partition as an Arrow table, a column without any value typed null."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=True)
    if len(frame) == 0:
        return table
    for name, col in frame.items():
        if col.isna().all():
            i = table.schema.get_field_index(str(name))
            table = table.set_column(i, pa.field(str(name), pa.null()), pa.nulls(len(frame)))
    return table


def _dtype(name: str, kinds: set[str], holes: bool, first: Any, what: str) -> Any:
    """A column's dtype in the whole result from its partitions' dtypes (module docstring)."""
    if not kinds:
        return first
    if len(kinds) == 1:
        (kind,) = kinds
        if holes and kind == "int64":
            return np.dtype("float64")
        if holes and kind == "bool":
            return np.dtype(object)
        return first if str(first) == kind else pd.api.types.pandas_dtype(kind)
    if kinds <= _NUMBERS:
        return np.dtype("float64")
    if kinds <= _BOOLEANS:
        return np.dtype(object)
    raise ValueError(
        f"column {name!r} of {what} holds values of different kinds in different parts of the "
        f"result ({', '.join(sorted(kinds))}); convert it to one type in SQL (CAST({name} AS ...))"
    )
