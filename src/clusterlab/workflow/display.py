"""What the workflow shows when verbose: rich tables and a progress bar."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["Progress", "show"]


def show(frame: pd.DataFrame, title: str) -> None:
    """Print ``frame`` as a rich table (floats to 4 significant digits, NaN as a dash)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col))
    for row in frame.itertuples(index=False):
        table.add_row(*[_fmt(v) for v in row])
    Console().print(table)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.4g}"
    return str(value)


class Progress:
    """A rich progress bar when verbose; nothing otherwise."""

    def __init__(self, total: int, verbose: bool, title: str = "compare_models") -> None:
        self._bar = None
        self._title = title
        if verbose:
            from rich.progress import Progress as Bar

            self._bar = Bar(transient=True)
            self._bar.start()
            self._task = self._bar.add_task(title, total=total)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, label: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=f"{self._title}: {label}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
