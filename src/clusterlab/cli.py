"""The ``clusterlab`` command line (also ``python -m clusterlab``).

Exit codes: 0 success; 2 bad usage or bad input (a missing file, an unknown column, data that
cannot be clustered ...); 1 an internal error (a bug: please report it with ``--debug`` output).
Errors are one or two lines on stderr; ``--debug`` adds the traceback.

Only argparse and the standard library are imported at start-up, so that ``clusterlab --help``
answers at once; each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import math
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clusterlab import __version__

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]

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
        for name, right in zip(columns, numeric, strict=True):
            if right:
                table.add_column(name, justify="right", no_wrap=True)
            else:
                table.add_column(name, justify="left", overflow="fold")
        for key, row in frame.iterrows():
            cells = [_cell(key)] if index else []
            table.add_row(*cells, *(_cell(v) for v in row.tolist()))
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


def _cell(value: Any) -> str:
    from rich.markup import escape

    if isinstance(value, float):
        if math.isnan(value):
            return ""
        size = abs(value)
        if size >= 100 or size == 0:
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


def cmd_profile(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.insight import describe_segments, profile_segments
    from clusterlab.io import write_table

    out = check_output(args.out, force=args.force, inputs=[args.input])
    frame = read_input(args.input)
    check_columns(frame, [args.labels, *args.ignore], option="--labels / --ignore")
    codes, names = segment_codes(frame[args.labels], option="--labels")
    features = frame.drop(columns=[args.labels, *args.ignore])
    if features.shape[1] == 0:
        raise UsageError("no feature columns left to profile besides --labels / --ignore")
    with ui.progress("profiling segments"):
        profiles = profile_segments(features, codes)
        rules = describe_segments(features, codes, max_depth=args.depth) if args.rules else None
    table = profiles.to_pandas().rename(index=lambda s: names.get(s, s))
    ui.heading(f"{len(table)} segments in {args.input} (labels: {args.labels})")
    ui.table(table.drop(columns="description"), title="size and mean of each feature")
    ui.table(table[["description"]], title="what sets each segment apart")
    if rules is not None:
        shown = rules.rules.assign(segment=rules.rules["segment"].map(lambda s: names.get(s, s)))
        ui.table(
            shown[["segment", "rule", "precision", "coverage"]],
            title=f"rules (surrogate tree, fidelity {rules.fidelity:.1%})",
            index=False,
        )
    if out is not None:
        write_table(table, out, overwrite=args.force, protect=[args.input])
        ui.wrote("profiles", out)
    return EXIT_OK


def cmd_rfm(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.datasets import rfm
    from clusterlab.io import write_table

    out = check_output(args.out, force=args.force, inputs=[args.input])
    if args.amount is None and (args.quantity is None or args.price is None):
        raise UsageError("give --amount COL, or --quantity COL and --price COL")
    with ui.progress(f"reading {args.input}"):
        frame = read_input(args.input)
    roles = [args.customer, args.date, args.amount, args.quantity, args.price, args.invoice]
    check_columns(frame, [r for r in roles if r is not None], option="column")
    with ui.progress("building recency / frequency / monetary"):
        table = rfm(
            frame,
            customer=args.customer,
            date=args.date,
            amount=args.amount,
            quantity=args.quantity,
            price=args.price,
            invoice=args.invoice,
            now=args.now,
        )
    ui.heading(f"{len(table):,} customers from {len(frame):,} transaction lines")
    ui.table(table.describe().loc[["mean", "min", "25%", "50%", "75%", "max"]], title="summary")
    if out is not None:
        write_table(table, out, overwrite=args.force, protect=[args.input])
        ui.wrote("RFM table", out)
    return EXIT_OK


#: The six spending columns of the wholesale data (Channel / Region are not features in the demo).
WHOLESALE_SPENDING = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]
DEMO_K = range(2, 7)


def cmd_demo(args: argparse.Namespace, ui: UI) -> int:
    """Segment the bundled wholesale data end to end and write the results to ``--out``."""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score, silhouette_score
    from sklearn.preprocessing import StandardScaler

    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.datasets import load_wholesale_customers
    from clusterlab.insight import profile_segments
    from clusterlab.io import write_table

    folder = _demo_folder(args.out)
    data = load_wholesale_customers()
    ui.heading("clusterlab demo: 440 wholesale customers, annual spending on six categories")
    ui.print("features: log1p and standard scaling of " + ", ".join(WHOLESALE_SPENDING))
    ui.print("Channel (Horeca / Retail) is left out and used only as a check label")
    X = StandardScaler().fit_transform(np.log1p(data[WHOLESALE_SPENDING].to_numpy(float)))

    scores = []
    with ui.progress("k-means for k = 2..6", total=len(DEMO_K)) as advance:
        for k in DEMO_K:
            model = KMeans(k, n_init=10, random_state=args.seed).fit(X)
            scores.append((k, silhouette_score(X, model.labels_), model))
            advance()
    board = _leaderboard(scores, data["Channel"], adjusted_rand_score)
    ui.table(board, title="k-means on the scaled spending (higher silhouette is better)")
    k, _, model = max(scores, key=lambda item: item[1])
    ui.print(f"chosen: k = {k} (best silhouette)")

    labels = model.labels_
    profiles = profile_segments(data[WHOLESALE_SPENDING], labels)
    table = profiles.to_pandas()
    table.insert(
        2,
        "retail_share",
        data.groupby(labels)["Channel"].apply(lambda c: (c == 2).mean()).to_numpy(),
    )
    ui.table(table.drop(columns="description"), title="segments: size and mean annual spending")
    ui.table(table[["description"]], title="what sets each segment apart")

    labelled = data.assign(segment=labels)
    paths = {
        "labelled data": folder / "wholesale_segments.csv",
        "segment profiles": folder / "segment_profiles.csv",
    }
    write_table(labelled, paths["labelled data"], overwrite=True)
    write_table(table, paths["segment profiles"], overwrite=True)
    for what, path in paths.items():
        ui.wrote(what, path)
    return EXIT_OK


def _demo_folder(out: str) -> Path:
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _leaderboard(scores: list, check: Any, ari: Callable[[Any, Any], float]) -> pd.DataFrame:
    import pandas as pd

    rows = [
        {
            "k": k,
            "silhouette": silhouette,
            "ARI vs Channel": ari(check, model.labels_),
            "inertia": model.inertia_,
        }
        for k, silhouette, model in scores
    ]
    return pd.DataFrame(rows).set_index("k")


def cmd_datasets(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.datasets import list_datasets

    table = list_datasets()
    ui.table(table[["name", "rows", "columns", "location", "loader", "licence"]], index=False)
    if ui.quiet:
        ui.console.print("\n".join(table["name"]), soft_wrap=True)
    return EXIT_OK


# ------------------------------------------------------------------------------ parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def _common_options() -> argparse.ArgumentParser:
    # SUPPRESS: a flag given after the subcommand must not be reset by the subparser's default
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("output")
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print only errors and the paths of files written",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="say more (repeat for even more)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an error",
    )
    return common


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _add_profile(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "profile",
        parents=[common],
        formatter_class=_Formatter,
        help="profile the segments of an existing labelling",
        description="Profile the segments given by a labels column: size, mean of each feature, "
        "a one-line description of what sets each segment apart, and optionally if-then rules.",
        epilog=_examples(
            "clusterlab profile customers.csv --labels segment",
            "clusterlab profile customers.parquet --labels segment --ignore id --rules",
            "clusterlab profile labelled.csv --labels segment --out profiles.csv",
        ),
    )
    p.add_argument("input", metavar="INPUT", help="table with the data and a labels column")
    p.add_argument("--labels", required=True, metavar="COL", help="column holding the segments")
    p.add_argument("--ignore", nargs="+", default=[], metavar="COL", help="columns to leave out")
    p.add_argument("--rules", action="store_true", help="also describe segments by if-then rules")
    p.add_argument(
        "--depth",
        type=_positive_int,
        default=3,
        metavar="N",
        help="most conditions per rule (default 3)",
    )
    p.add_argument("--out", metavar="FILE", help="write the profile table (.csv, .parquet ...)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=cmd_profile)


def _add_rfm(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "rfm",
        parents=[common],
        formatter_class=_Formatter,
        help="turn a transaction log into a recency / frequency / monetary table",
        description="One row per customer: recency (days since the last purchase), frequency "
        "(number of invoices) and monetary (purchases minus cancellations). Lines without a "
        'customer are dropped; invoices starting with "C", negative quantities and negative '
        "amounts are cancellations: they reduce monetary and are not purchases.",
        epilog=_examples(
            "clusterlab rfm online_retail.csv.gz --customer CustomerID --date InvoiceDate \\",
            "    --quantity Quantity --price UnitPrice --invoice InvoiceNo --out rfm.csv",
            "clusterlab rfm payments.parquet --customer client --date day --amount paid "
            "--now 2024-01-01 --out rfm.parquet",
        ),
    )
    p.add_argument("input", metavar="INPUT", help="transaction lines")
    p.add_argument("--customer", required=True, metavar="COL", help="customer id column")
    p.add_argument("--date", required=True, metavar="COL", help="transaction date column")
    p.add_argument("--amount", metavar="COL", help="value of each line (or --quantity and --price)")
    p.add_argument("--quantity", metavar="COL", help="quantity column")
    p.add_argument("--price", metavar="COL", help="unit price column")
    p.add_argument("--invoice", metavar="COL", help="invoice column (frequency counts invoices)")
    p.add_argument("--now", metavar="DATE", help="reference day (default: day after the last date)")
    p.add_argument("--out", metavar="FILE", help="write the table (.csv, .parquet, .xlsx ...)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=cmd_rfm)


def _add_datasets(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "datasets",
        parents=[common],
        formatter_class=_Formatter,
        help="list the data sets clusterlab can load",
        description="The bundled data set and the loaders that take a path (nothing downloads).",
        epilog=_examples("clusterlab datasets"),
    )
    p.set_defaults(func=cmd_datasets)


def _add_demo(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "demo",
        parents=[common],
        formatter_class=_Formatter,
        help="segment the bundled wholesale-customers data end to end",
        description="Segment the 440 wholesale customers (bundled) by their spending: choose k, "
        "describe the segments, and write the labelled data and the segment profiles to DIR. "
        "Files of an earlier demo in DIR are replaced; nothing else there is touched.",
        epilog=_examples("clusterlab demo", "clusterlab demo --out /tmp/demo --seed 1"),
    )
    p.add_argument(
        "--out",
        default="clusterlab-demo",
        metavar="DIR",
        help="folder for the results (default ./clusterlab-demo)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.set_defaults(func=cmd_demo)


#: Subcommands in the order --help lists them.
COMMANDS: list[Callable[[Any, argparse.ArgumentParser], None]] = [
    _add_demo,
    _add_profile,
    _add_rfm,
    _add_datasets,
]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1; got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand (cheap: imports nothing heavy)."""
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[common],
        formatter_class=_Formatter,
        description="Fast clustering and customer segmentation from the command line.",
        epilog=textwrap.dedent(
            """\
            examples:
              clusterlab demo                (the bundled data set, end to end)
              clusterlab profile labelled.csv --labels segment
              clusterlab rfm transactions.csv --customer id --date day --amount paid --out rfm.csv
              clusterlab COMMAND --help      (every command has its own help and examples)

            exit codes: 0 ok, 2 bad usage or input, 1 internal error
            """
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(quiet=False, verbose=0, debug=False)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for add in COMMANDS:
        add(sub, common)
    return parser


# ------------------------------------------------------------------------------ main


class _LevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _configure_logging(*, quiet: bool, verbose: int, debug: bool) -> None:
    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    if verbose:
        level = logging.INFO
    if debug or verbose > 1:
        level = logging.DEBUG
    # plain lines on stderr, never wrapped, so that they can be read and grepped
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LevelFormatter())
    package = logging.getLogger("clusterlab")
    package.handlers[:] = [handler]
    package.setLevel(level)
    package.propagate = False


def _error_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        text = f"missing key {exc.args[0]!r}"
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 400 else first[:397] + "..."


def _is_input_error(exc: BaseException) -> bool:
    if isinstance(exc, ValueError | TypeError | OSError | MemoryError):
        return True
    # a missing optional dependency names the extra to install: the user can fix it
    return isinstance(exc, ImportError) and "pip install" in str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    debug = bool(args.debug)
    try:
        _configure_logging(quiet=args.quiet, verbose=args.verbose, debug=debug)
        ui = UI(quiet=args.quiet, verbose=args.verbose)
        return args.func(args, ui)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        if _is_input_error(exc):
            print(f"{PROG} {args.command}: error: {_error_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        print(
            f"{PROG} {args.command}: internal error: {type(exc).__name__}: {_error_line(exc)}\n"
            f"  this is a bug; please report it with the output of the same command and --debug",
            file=sys.stderr,
        )
        return EXIT_ERROR
