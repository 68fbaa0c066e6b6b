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

    def wrote(self, what: str, path: Path) -> None:
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


def read_input(path: str, *, sample: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Read a command's INPUT table; refuse a table without rows; optionally sample rows."""
    from clusterlab.io import read_table

    frame = read_table(path)
    if frame.shape[0] == 0:
        raise UsageError(f"{path} has a header but no data rows")
    if frame.shape[1] == 0:
        raise UsageError(f"{path} has no columns")
    if sample is not None and sample < frame.shape[0]:
        frame = frame.sample(n=sample, random_state=seed).sort_index()
        logger.info("using a random sample of %d of the rows of %s", sample, path)
    return frame


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
    """Fail early, before any work, when an output cannot be written.

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


# ------------------------------------------------------------------------------ commands
