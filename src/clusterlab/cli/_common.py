"""What every command shares: exit codes, the console it prints through, input and output checks."""

from __future__ import annotations

import difflib
import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

PROG = "clusterlab"
logger = logging.getLogger("clusterlab.cli")


class UsageError(ValueError):
    """A command was given options or input it cannot work with (exit code 2)."""


# ------------------------------------------------------------------------------ output


class UI:
    """The one place the command line prints through (a rich console on stdout).

    ``quiet`` keeps only what a script needs: the paths of the files written. Tables, progress
    and notes go through :meth:`print`, :meth:`table` and :meth:`progress`.
    """

    def __init__(self, *, quiet: bool = False, verbose: int = 0) -> None:
        from rich.console import Console

        self.console = Console(highlight=False, soft_wrap=False)
        if not self.console.is_terminal and "COLUMNS" not in os.environ:
            # piped to a file or a CI log: wide enough that tables of numbers do not wrap
            self.console.width = 120
        self.quiet = quiet
        self.verbose = verbose

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if not self.quiet:
            self.console.print(*objects, **kwargs)

    def heading(self, text: str) -> None:
        self.print(f"\n[bold]{text}[/bold]")

    def wrote(self, what: str, path: object) -> None:
        """Report a file written; shown even with --quiet (scripts read it)."""
        if self.quiet:
            self.console.print(str(path), markup=False, highlight=False, soft_wrap=True)
        else:
            self.console.print(f"{what}: [bold]{path}[/bold]", soft_wrap=True)

    def table(self, frame: pd.DataFrame, *, title: str | None = None, index: bool = True) -> None:
        """Print a DataFrame as a rich table (numbers right-aligned, floats to 4 digits)."""
        if self.quiet:
            return
        from rich.table import Table

        table = Table(title=title, title_justify="left", header_style="bold")
        columns = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
        numeric = ([False] if index else []) + [_is_number_column(frame[c]) for c in frame]
        rows = [
            ([cell_text(key)] if index else []) + [cell_text(v) for v in row.tolist()]
            for key, row in frame.iterrows()
        ]
        for i, (name, right) in enumerate(zip(columns, numeric, strict=True)):
            # short columns (numbers, ids, flags) never wrap; long text folds
            longest = max((len(r[i]) for r in rows), default=0)
            table.add_column(
                name,
                justify="right" if right else "left",
                no_wrap=longest <= 24,
                overflow="fold",
            )
        for cells in rows:
            table.add_row(*cells)
        self.console.print(table)

    @contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[Callable[[], None]]:
        """A progress bar (or a spinner when ``total`` is unknown); yields ``advance()``."""
        if self.quiet or not self.console.is_terminal:
            logger.info("%s", description)
            yield lambda: None
            return
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), TextColumn("{task.completed}/{task.total}")]
        with Progress(*columns, TimeElapsedColumn(), console=self.console, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda: bar.advance(task)


def _is_number_column(column: Any) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def cell_text(value: Any) -> str:
    from rich.markup import escape

    if isinstance(value, float):
        if math.isnan(value):
            return ""
        size = abs(value)
        if value.is_integer() and size < 1e15:
            return f"{int(value):,}"  # counts that became floats next to a missing value
        if size >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}" if size >= 1 else f"{value:.3g}"
    return escape(str(value))


# ------------------------------------------------------------------------------ inputs


def source_name(source: str, *, table: str | None = None, sql: str | None = None) -> str:
    """How an INPUT is named in messages: a file's path, or a database (password masked) and its
    table or query."""
    from clusterlab.io import is_database, mask_password

    if not is_database(source):
        return source if sql is None else f"{source} (query)"
    shown = mask_password(source)
    return f"{shown} table {table}" if table is not None else f"{shown} (query)"


def read_input(
    source: str,
    *,
    table: str | None = None,
    sql: str | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Read a command's INPUT (a file, or a database's table or query); refuse a table without
    rows; optionally sample rows."""
    from clusterlab.io import is_database, mask_password, read_table

    if is_database(source) and table is None and sql is None:
        raise UsageError(
            f"INPUT {mask_password(source)} is a database: name the table with --table NAME or "
            "give a query with --sql QUERY"
        )
    if table is not None and not is_database(source):
        raise UsageError(
            f"--table names a table of a database; INPUT {source} is a file (to filter a file, "
            'use --sql "SELECT ... FROM data WHERE ...")'
        )
    name = source_name(source, table=table, sql=sql)
    frame = read_table(source, table=table, sql=sql)
    if frame.shape[0] == 0:
        raise UsageError(f"{name} has a header but no data rows")
    if frame.shape[1] == 0:
        raise UsageError(f"{name} has no columns")
    if sample is not None and sample < frame.shape[0]:
        frame = frame.sample(n=sample, random_state=seed).sort_index()
        logger.info("using a random sample of %d of the rows of %s", sample, name)
    return frame


def input_of(args: Any, *, sample: bool = False) -> pd.DataFrame:
    """:func:`read_input` with a command's INPUT, --table, --sql (and --sample, --seed)."""
    options: dict[str, Any] = {"table": args.table, "sql": args.sql}
    if sample:
        options |= {"sample": args.sample, "seed": args.seed or 0}
    return read_input(args.input, **options)


def input_name(args: Any) -> str:
    """The command's INPUT as messages show it."""
    return source_name(args.input, table=args.table, sql=args.sql)


def check_columns(frame: pd.DataFrame, names: Sequence[str], *, option: str) -> None:
    """Every name must be a column of ``frame``; the error suggests close names."""
    columns = [str(c) for c in frame.columns]
    for name in names:
        if name not in columns:
            near = difflib.get_close_matches(name, columns, n=3)
            hint = f"did you mean {', '.join(near)}?" if near else "columns: " + ", ".join(columns)
            raise UsageError(f"{option} {name!r} is not a column of the input; {hint}")


def segment_codes(column: pd.Series, *, option: str) -> tuple[Any, dict[str, str]]:
    """Integer segment ids for a labels column, and names to show for them.

    Integer labels are used as they are (``-1`` is noise). Other labels (text, floats that are
    not whole numbers) are numbered in sorted order and shown by their own names.
    """
    import numpy as np
    import pandas as pd

    if column.isna().any():
        raise UsageError(
            f"{option} {column.name!r} has {int(column.isna().sum())} missing values; "
            "every row needs a segment"
        )
    if pd.api.types.is_integer_dtype(column) and not pd.api.types.is_bool_dtype(column):
        if column.min() < -1:
            raise UsageError(f"{option} {column.name!r}: segment ids must be >= -1 (-1 = noise)")
        return column.to_numpy(dtype=np.int64), {}
    codes, uniques = pd.factorize(column, sort=True)
    return codes.astype(np.int64), {str(i): str(v) for i, v in enumerate(uniques)}


def check_output(
    path: str | None, *, force: bool, inputs: Sequence[str], table: bool = True
) -> Path | None:
    """Fail early, before any work, when an output file cannot be written.

    ``table``: the output is a table, so its extension must be a table format.
    """
    if path is None:
        return None
    from clusterlab.io import check_writable, table_format

    target = Path(path)
    if table:
        table_format(target)
    check_writable(target, overwrite=force, protect=inputs)
    return target


class Output:
    """Where a command writes its table: a file, or a table of a database.

    Built by :func:`table_output`, which checks everything it can before any work: the file can be
    written, or the database can be reached and the table does not exist (unless ``--if-exists``
    says replace or append). :meth:`write` writes in one go (a temporary file renamed into place,
    or one database transaction).
    """

    def __init__(
        self, target: str | Path, *, table: str | None, if_exists: str, protect: Sequence[str]
    ) -> None:
        self.target = target
        self.table = table
        self.if_exists = if_exists
        self.protect = [p for p in protect if p is not None]

    @classmethod
    def file(cls, path: str | Path, *, overwrite: bool) -> Output:
        """A file output, without the early checks (the demo's own files)."""
        return cls(path, table=None, if_exists="replace" if overwrite else "fail", protect=())

    def __str__(self) -> str:
        from clusterlab.io import is_database, mask_password

        if self.table is not None and is_database(self.target):
            return f"{mask_password(str(self.target))} table {self.table}"
        return str(self.target)

    def write(self, frame: pd.DataFrame) -> None:
        from clusterlab.io import write_table

        write_table(
            frame, self.target, table=self.table, if_exists=self.if_exists, protect=self.protect
        )


def table_output(args: Any, *, inputs: Sequence[str | None] = ()) -> Output | None:
    """The command's --out / --out-table / --if-exists / --force as an :class:`Output`, checked
    before any work; None without --out."""
    from clusterlab.io import is_database, mask_password, resolve_if_exists

    out, table, if_exists = args.out, args.out_table, args.if_exists
    if out is None:
        if table is not None or if_exists is not None:
            raise UsageError("--out-table and --if-exists need --out (a database or a file)")
        return None
    protect = [p for p in inputs if p is not None]
    if not is_database(out):
        if table is not None:
            raise UsageError(f"--out-table names a table of a database; --out {out} is a file")
        if if_exists == "append":
            raise UsageError(f"--if-exists append adds rows to a table; --out {out} is a file")
        mode = resolve_if_exists(if_exists, overwrite=args.force)
        check_output(out, force=mode == "replace", inputs=protect)
        return Output(out, table=None, if_exists=mode, protect=protect)
    shown = mask_password(out)
    if table is None:
        raise UsageError(f"--out {shown} is a database: name the table with --out-table NAME")
    if args.force:
        raise UsageError("--force replaces files; to replace a table use --if-exists replace")
    mode = if_exists or "fail"
    _check_not_the_input(args, out, table)
    from clusterlab.io.databases import check_table_writable

    check_table_writable(out, table, if_exists=mode)
    return Output(out, table=table, if_exists=mode, protect=())


def _check_not_the_input(args: Any, out: str, table: str) -> None:
    """Refuse to write over (or append to) the table a command reads."""
    from clusterlab.io import is_database, parse_database

    source = getattr(args, "input", None)
    if source is None or getattr(args, "table", None) is None or not is_database(source):
        return
    same_db = _identity(parse_database(source)) == _identity(parse_database(out))
    if same_db and args.table.lower() == table.lower():
        raise UsageError(
            f"refusing to write over the input table {table!r}; choose another --out-table"
        )


def _identity(db: Any) -> tuple[str, str]:
    """A database without its password: its file, or its URL's host, port and name."""
    if db.path is not None:
        return db.backend, str(Path(db.path).resolve())
    from clusterlab.io.locations import mask_password

    return db.backend, mask_password(db.url).replace(":***@", "@")
