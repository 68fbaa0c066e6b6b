"""The argument parser: one subparser per command, each with its own help and examples.

Only argparse is imported here, so that ``clusterlab --help`` answers at once.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from typing import Any

from clusterlab import __version__
from clusterlab.cli import _commands, _dask
from clusterlab.cli._common import PROG


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


#: What INPUT may be, for the help of every command that reads a table.
_SOURCES = "a file (.csv, .tsv, .parquet, .xlsx, .jsonl), a .duckdb file or a database URL"


def _add_input(p: argparse.ArgumentParser, text: str) -> None:
    """INPUT and how to pick a table or a query's rows from it."""
    p.add_argument("input", metavar="INPUT", help=f"{text}: {_SOURCES}")
    source = p.add_argument_group("input from a database")
    which = source.add_mutually_exclusive_group()
    which.add_argument(
        "--table", metavar="NAME", help="read this table of the INPUT database (or SCHEMA.NAME)"
    )
    which.add_argument(
        "--sql",
        metavar="QUERY",
        help="read the result of this query (a file INPUT is the table named data, in DuckDB)",
    )


def _add_workflow_options(p: argparse.ArgumentParser, *, model: bool = True) -> None:
    _add_input(p, "table to segment")
    if model:
        p.add_argument(
            "--model",
            default="auto",
            metavar="ID|auto",
            help="model id (see `clusterlab models`), or auto: compare them all",
        )
        p.add_argument(
            "--k",
            type=_k_option,
            default=None,
            metavar="N|auto",
            help="number of segments, or auto (chosen per model)",
        )
    p.add_argument(
        "--normalize",
        default="zscore",
        choices=["zscore", "minmax", "maxabs", "robust", "none"],
        help="scaling of the numeric columns (default zscore)",
    )
    p.add_argument(
        "--log",
        action="store_true",
        help="log-transform skewed numeric columns first (money, counts)",
    )
    p.add_argument("--ignore", nargs="+", default=[], metavar="COL", help="columns to leave out")
    p.add_argument(
        "--ground-truth",
        metavar="COL",
        help="known labels: scored against (ARI, AMI ...), never a feature",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument(
        "--sample", type=_positive_int, metavar="N", help="use a random sample of N rows"
    )


def _command(
    sub: Any,
    common: argparse.ArgumentParser,
    name: str,
    func: Callable[..., int],
    *,
    summary: str,
    description: str,
    examples: tuple[str, ...],
) -> argparse.ArgumentParser:
    """A subcommand with the shared output options, its help text and examples."""
    p = sub.add_parser(
        name,
        parents=[common],
        formatter_class=_Formatter,
        help=summary,
        description=description,
        epilog=_examples(*examples),
    )
    p.set_defaults(func=func)
    return p


def _add_out(
    p: argparse.ArgumentParser,
    text: str,
    *,
    metavar: str = "FILE",
    required: bool = False,
    force: str = "replace --out if it exists",
) -> None:
    p.add_argument(
        "--out", required=required, metavar=metavar, help=f"{text} (a file, .duckdb or a URL)"
    )
    p.add_argument("--force", action="store_true", help=force)
    group = p.add_argument_group("output to a database")
    group.add_argument(
        "--out-table", metavar="NAME", help="table to write when --out is a database"
    )
    group.add_argument(
        "--if-exists",
        choices=["fail", "replace", "append"],
        default=None,
        help="when the table exists: fail (the default), replace it or append to it; "
        "written in one transaction",
    )


def _add_format(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument(
        "--format",
        default="table",
        choices=["table", "csv", "json", "markdown"],
        help=f"{text} (default table)",
    )


def _add_label_name(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--label-name",
        default="segment",
        metavar="NAME",
        help="name of the label column (default segment)",
    )


def _add_segment(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(
        sub,
        common,
        "segment",
        _dask.cmd_segment,
        summary="the whole workflow: prepare, choose a model and k, label, describe",
        description="Prepare the data, compare the models (or fit the one given), label every "
        "row and describe the segments. Prints the leaderboard, the chosen model, the segment "
        "sizes and descriptions; writes the labelled table and the model file on request.",
        examples=(
            "clusterlab segment customers.csv --ignore id --out segments.csv --report report.html",
            "clusterlab segment rfm.csv --log --model kmeans --k 4 --save-model rfm.clusterlab",
            "clusterlab segment wholesale.csv --ignore Region --ground-truth Channel --log",
            "clusterlab segment postgresql://analyst@db/shop --table rfm --ignore customer_id \\",
            "    --log --out postgresql://analyst@db/shop --out-table rfm_segments",
            "clusterlab segment orders.parquet --sql \"SELECT * FROM data WHERE country = 'UK'\"",
            "clusterlab segment 'data/*.parquet' --scheduler local --out segments/",
            "clusterlab segment shop.duckdb --table orders --scheduler local \\",
            "    --out shop.duckdb --out-table order_segments",
        ),
    )
    _add_workflow_options(p)
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS|local",
        help="segment INPUT on Dask, however large: a glob or directory of Parquet / CSV files, "
        "or a database with --table / --sql (streamed into Parquet files first); 'local' starts "
        "a cluster on this machine, an address joins a running scheduler; --out is then a "
        "directory of Parquet files, or a database table written in one transaction",
    )
    p.add_argument(
        "--staging",
        metavar="DIR",
        help="with --scheduler and a database INPUT: the folder the rows are staged in as Parquet "
        "files (a temporary folder inside it, removed at the end; default the system's temporary "
        "folder; with a remote scheduler, a folder the workers can read)",
    )
    p.add_argument(
        "--save-model",
        metavar="FILE",
        help="write the model file (.clusterlab) for `clusterlab predict`",
    )
    p.add_argument("--report", metavar="FILE.html", help="write the self-contained HTML report")
    _add_label_name(p)
    _add_out(p, "write the data with a segment column", force="replace output files that exist")


def _add_compare(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(
        sub,
        common,
        "compare",
        _commands.cmd_compare,
        summary="the leaderboard of every model on a table",
        description="Fit every model (k chosen per model) and rank them; prints the leaderboard.",
        examples=(
            "clusterlab compare customers.csv --ignore id",
            "clusterlab compare customers.csv --include kmeans gmm hdbscan --format markdown",
            "clusterlab compare customers.parquet --format json > board.json",
        ),
    )
    _add_workflow_options(p, model=False)
    p.add_argument("--include", nargs="+", metavar="ID", help="compare only these model ids")
    _add_format(p, "how to print the leaderboard")
    _add_out(p, "write the leaderboard to a file instead")


def _add_predict(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(
        sub,
        common,
        "predict",
        _commands.cmd_predict,
        summary="label new data with a saved model",
        description="Label the rows of INPUT with a model file written by `segment --save-model`"
        " (loading it never runs code from the file).",
        examples=(
            "clusterlab predict segments.clusterlab new_customers.csv --out labelled.csv",
            "clusterlab predict segments.clusterlab shop.duckdb --table new_customers \\",
            "    --out shop.duckdb --out-table new_segments --if-exists append",
        ),
    )
    p.add_argument("model", metavar="MODEL", help="model file (.clusterlab)")
    _add_input(p, "table with the columns the model was set up on")
    _add_out(p, "labelled table to write", required=True)
    _add_label_name(p)


def _add_serve(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(
        sub,
        common,
        "serve",
        _commands.cmd_serve,
        summary="serve a model file over HTTP: segments and anomaly scores for new rows",
        description="Load MODEL (with the safe loader) and answer POST /predict (JSON rows -> "
        "segment, description, anomaly score), GET /model, GET /health and GET /docs until "
        "interrupted. Bad rows get a 422 naming the row and the column. Binds to 127.0.0.1 "
        "unless --host says otherwise; the service has no authentication. Needs "
        "`pip install clusterlab[serve]`.",
        examples=(
            "clusterlab serve segments.clusterlab",
            "clusterlab serve segments.clusterlab --port 8080 --max-rows 50000 --workers 2",
            "curl -s localhost:8000/predict -H 'content-type: application/json' \\",
            '    -d \'{"recency": 12, "frequency": 3, "monetary": 420.5}\'',
        ),
    )
    p.add_argument("model", metavar="MODEL", help="model file (.clusterlab)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    p.add_argument("--port", type=_port, default=8000, metavar="N", help="port (default 8000)")
    p.add_argument(
        "--max-rows",
        type=_positive_int,
        default=10_000,
        metavar="N",
        help="most rows per request (default 10000; more is a 422)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="server processes sharing the port, each with the model loaded (default 1)",
    )
    p.add_argument("--access-log", action="store_true", help="log every request")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number; got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535; got {value}")
    return value


def _add_anomalies(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(
        sub,
        common,
        "anomalies",
        _commands.cmd_anomalies,
        summary="the rows that fit their segment worst",
        description="Segment the data (as `segment` does) and score every row for how anomalous "
        "it is under the model, on a 0-1 scale (above 0.5: an anomaly).",
        examples=(
            "clusterlab anomalies customers.csv --ignore id --top 20",
            "clusterlab anomalies rfm.csv --log --model kmeans --k 4 --out scores.csv",
        ),
    )
    _add_workflow_options(p)
    p.add_argument(
        "--top", type=_positive_int, default=10, metavar="N", help="rows to show (default 10)"
    )
    _add_out(p, "write every row with its score")


def _add_models(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(
        sub,
        common,
        "models",
        _commands.cmd_models,
        summary="the model registry: ids for --model",
        description="Every model id with its implementation, out-of-sample rule and memory.",
        examples=("clusterlab models", "clusterlab models --format csv"),
    )
    _add_format(p, "output format")


def _k_option(text: str) -> int | None:
    return None if text == "auto" else _positive_int(text)


def _add_profile(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(
        sub,
        common,
        "profile",
        _commands.cmd_profile,
        summary="profile the segments of an existing labelling",
        description="Profile the segments given by a labels column: size, mean of each feature, "
        "a one-line description of what sets each segment apart, and optionally if-then rules.",
        examples=(
            "clusterlab profile customers.csv --labels segment",
            "clusterlab profile customers.parquet --labels segment --ignore id --rules",
            "clusterlab profile labelled.csv --labels segment --out profiles.csv",
        ),
    )
    _add_input(p, "table with the data and a labels column")
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
    _add_out(p, "write the profile table (.csv, .parquet ...)")


def _add_rfm(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(
        sub,
        common,
        "rfm",
        _commands.cmd_rfm,
        summary="turn a transaction log into a recency / frequency / monetary table",
        description="One row per customer: recency (days since the last purchase), frequency "
        "(number of invoices) and monetary (purchases minus cancellations). Lines without a "
        'customer are dropped; invoices starting with "C", negative quantities and negative '
        "amounts are cancellations: they reduce monetary and are not purchases.",
        examples=(
            "clusterlab rfm online_retail.csv.gz --customer CustomerID --date InvoiceDate \\",
            "    --quantity Quantity --price UnitPrice --invoice InvoiceNo --out rfm.csv",
            "clusterlab rfm postgresql://analyst@db/shop --table orders --customer customer_id \\",
            "    --date ordered --amount total --out shop.duckdb --out-table rfm",
            "clusterlab rfm payments.parquet --customer client --date day --amount paid "
            "--now 2024-01-01 --out rfm.parquet",
        ),
    )
    _add_input(p, "transaction lines")
    p.add_argument("--customer", required=True, metavar="COL", help="customer id column")
    p.add_argument("--date", required=True, metavar="COL", help="transaction date column")
    p.add_argument("--amount", metavar="COL", help="value of each line (or --quantity and --price)")
    p.add_argument("--quantity", metavar="COL", help="quantity column")
    p.add_argument("--price", metavar="COL", help="unit price column")
    p.add_argument("--invoice", metavar="COL", help="invoice column (frequency counts invoices)")
    p.add_argument("--now", metavar="DATE", help="reference day (default: day after the last date)")
    _add_out(p, "write the table (.csv, .parquet, .xlsx ...)")


def _add_datasets(sub: Any, common: argparse.ArgumentParser) -> None:
    _command(
        sub,
        common,
        "datasets",
        _commands.cmd_datasets,
        summary="list the data sets clusterlab can load",
        description="The bundled data set and the loaders that take a path (nothing downloads).",
        examples=("clusterlab datasets",),
    )


def _add_demo(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(
        sub,
        common,
        "demo",
        _commands.cmd_demo,
        summary="segment the bundled wholesale-customers data end to end",
        description="Segment the 440 wholesale customers (bundled) by their spending: compare "
        f"{len(_commands.DEMO_MODELS)} models ({', '.join(_commands.DEMO_MODELS)}; --all: every "
        "model), choose one and its k, describe the segments, and write the labelled data, "
        "the model file and the HTML report to DIR. Files of an earlier demo in DIR are "
        "replaced; nothing else there is touched.",
        examples=(
            "clusterlab demo",
            "clusterlab demo --all",
            "clusterlab demo --out /tmp/demo --seed 1",
        ),
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="compare every model, not only the demo's (the first run compiles longer)",
    )
    p.add_argument(
        "--out",
        default="clusterlab-demo",
        metavar="DIR",
        help="folder for the results (default ./clusterlab-demo)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")


#: Subcommands in the order --help lists them.
COMMANDS: list[Callable[[Any, argparse.ArgumentParser], None]] = [
    _add_segment,
    _add_compare,
    _add_predict,
    _add_serve,
    _add_profile,
    _add_anomalies,
    _add_demo,
    _add_models,
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
              clusterlab segment customers.csv --ignore id --out segments.csv --save-model m
              clusterlab predict m.clusterlab new.csv --out labelled.csv
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
