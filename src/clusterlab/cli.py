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
        rows = [
            ([_cell(key)] if index else []) + [_cell(v) for v in row.tolist()]
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


def _cell(value: Any) -> str:
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


# ---------------------------------------------------------------- the workflow commands

#: Leaderboard columns shown in the terminal (all of them go to --format csv/json and files).
BOARD_COLUMNS = [
    "Parameters", "Silhouette", "Calinski-Harabasz", "Davies-Bouldin", "ARI", "AMI",
    "Clusters", "Noise", "Note", "Time (s)",
]  # fmt: skip
MODEL_SUFFIX = ".clusterlab"


def _setup(args: argparse.Namespace, frame: pd.DataFrame) -> Any:
    """An Experiment set up on ``frame`` from the command's options."""
    from clusterlab.experiment import Experiment

    columns = list(args.ignore) + ([args.ground_truth] if args.ground_truth else [])
    check_columns(frame, columns, option="--ignore / --ground-truth")
    if len(set(frame.columns) - set(columns)) == 0:
        raise UsageError("no feature columns left besides --ignore / --ground-truth")
    options: dict[str, Any] = {
        "ignore_features": list(args.ignore),
        "ground_truth": args.ground_truth,
        "session_id": args.seed,
        "verbose": False,
        "log_transform": args.log,
    }
    if args.normalize == "none":
        options["normalize"] = False
    else:
        options |= {"normalize": True, "normalize_method": args.normalize}
    return Experiment(frame, **options)


def _choose_model(exp: Any, args: argparse.Namespace, ui: UI) -> tuple[Any, pd.DataFrame]:
    """Fit the model the options ask for; return it and the leaderboard (or its metrics row)."""
    model, k = args.model, args.k
    if model == "auto" and k is not None:
        ui.print("--k without --model: using k-means")
        model = "kmeans"
    if model == "auto":
        with ui.progress("comparing every model (k chosen per model)"):
            best = exp.compare_models(verbose=False)
    elif k is None and _needs_k(model):
        with ui.progress(f"{model}: choosing k"):
            best = exp.compare_models(include=[model], verbose=False)
    else:
        with ui.progress(f"fitting {model}"):
            best = exp.create_model(model, num_clusters=k, verbose=False)
    return best, exp.pull()


def _parameters(board: pd.DataFrame, model_id: str, model: Any) -> str:
    """The chosen model's key parameters as the leaderboard shows them, else its k."""
    text = board.loc[model_id, "Parameters"] if "Parameters" in board.columns else ""
    if isinstance(text, str) and text:
        return text
    k = board.loc[model_id, "Clusters"] if "Clusters" in board.columns else None
    return f"{int(k)} segments" if k is not None else type(model).__name__


def _needs_k(model_id: str) -> bool:
    from clusterlab.models import get_entry

    return bool(get_entry(model_id).needs_k)


def _show_board(ui: UI, board: pd.DataFrame, title: str) -> None:
    shown = board[[c for c in BOARD_COLUMNS if c in board.columns and c != "Note"]]
    ui.table(shown, title=title)
    if "Note" in board.columns:
        # notes are sentences: below the table, where they can be read
        for model, note in board["Note"].items():
            if isinstance(note, str) and note.strip():
                ui.print(f"  {model}: {note}", markup=False)


def _features(frame: pd.DataFrame, args: argparse.Namespace, label: str) -> pd.DataFrame:
    drop = [*args.ignore, *([args.ground_truth] if args.ground_truth else []), label]
    return frame.drop(columns=[c for c in drop if c in frame.columns])


def _outputs(args: argparse.Namespace) -> dict[str, Path | None]:
    """Check every output before any work; a model file without extension gets .clusterlab."""
    model = getattr(args, "save_model", None)
    if model is not None and not Path(model).suffix:
        model += MODEL_SUFFIX
    report = getattr(args, "report", None)
    if report is not None and Path(report).suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--report {report}: the report is HTML; name it *.html")
    return {
        "out": check_output(args.out, force=args.force, inputs=[args.input]),
        "model": check_output(model, force=args.force, inputs=[args.input], table=False),
        "report": check_output(report, force=args.force, inputs=[args.input], table=False),
    }


def cmd_segment(args: argparse.Namespace, ui: UI) -> int:
    outputs = _outputs(args)
    frame = read_input(args.input, sample=args.sample, seed=args.seed or 0)
    _segment(frame, args, ui, outputs, name=args.input)
    return EXIT_OK


def _segment(
    frame: pd.DataFrame,
    args: argparse.Namespace,
    ui: UI,
    outputs: dict[str, Path | None],
    *,
    name: str,
) -> pd.DataFrame:
    """The whole workflow on ``frame``; writes the outputs asked for; returns the labelled data."""
    from clusterlab.insight import profile_segments
    from clusterlab.io import atomic_output, write_table

    if args.label_name in frame.columns:
        raise UsageError(f"--label-name {args.label_name!r} is already a column of the input")
    with ui.progress("preparing the data"):
        exp = _setup(args, frame)
    best, board = _choose_model(exp, args, ui)
    model_id = board.index[0]
    _show_board(ui, board, f"models on {name} ({len(frame):,} rows)")
    labelled = exp.assign_model(best, label_name=args.label_name)
    labels = labelled[args.label_name].to_numpy()
    ui.heading(f"chosen: {model_id} ({_parameters(board, model_id, best)})")
    features = _features(frame, args, args.label_name)
    profiles = profile_segments(features, labels)
    table = profiles.to_pandas()
    ui.table(table.drop(columns="description"), title="segments: size and mean of each feature")
    ui.table(table[["description"]], title="what sets each segment apart")
    protect = [getattr(args, "input", None)]
    if outputs.get("out") is not None:
        write_table(labelled, outputs["out"], overwrite=args.force, protect=protect)
        ui.wrote("labelled data", outputs["out"])
    if outputs.get("model") is not None:
        with atomic_output(outputs["model"], overwrite=args.force, protect=protect) as tmp:
            exp.save_model(best, tmp)
        ui.wrote("model", outputs["model"])
    if outputs.get("report") is not None:
        with ui.progress("writing the report (plots, profiles, rules, anomalies)"):
            _report(
                exp, best, board=board, features=features, labels=labels, args=args,
                path=outputs["report"], name=name,
            )  # fmt: skip
        ui.wrote("report", outputs["report"])
    return labelled


def _report(
    exp: Any,
    model: Any,
    *,
    board: pd.DataFrame,
    features: pd.DataFrame,
    labels: Any,
    args: argparse.Namespace,
    path: Path,
    name: str,
) -> None:
    from clusterlab.report import write_report

    train = exp.get_config("train_mask")
    model_id = board.index[0]
    row = board.loc[model_id]
    metrics = {
        k: float(v)
        for k, v in row.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and k != "Time (s)"
    }
    options = {
        key: value
        for key in ("model", "k", "normalize", "log", "ignore", "ground_truth", "seed", "sample")
        if (value := getattr(args, key, None)) not in (None, [], False)
    }
    write_report(
        path,
        data=features.loc[train],
        labels=labels[train],
        X_prepared=exp.get_config("X"),
        model=model,
        leaderboard=board if len(board) > 1 else None,
        metrics=metrics,
        schema=exp.get_config("schema"),
        preprocessing_steps=[step for step, _ in exp.get_config("pipeline").steps],
        title=f"Segmentation of {Path(name).name}",
        params=options,
        chosen=model_id,
        overwrite=args.force,
    )


def cmd_compare(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.io import write_table

    out = check_output(args.out, force=args.force, inputs=[args.input])
    frame = read_input(args.input, sample=args.sample, seed=args.seed or 0)
    with ui.progress("preparing the data"):
        exp = _setup(args, frame)
    include = args.include or None
    with ui.progress("comparing models (k chosen per model)"):
        exp.compare_models(include=include, verbose=False)
    board = exp.pull()
    if out is not None:
        write_table(board, out, overwrite=args.force, protect=[args.input])
        ui.wrote("leaderboard", out)
    else:
        _print_formatted(ui, board, args.format, title=f"models on {args.input}")
    return EXIT_OK


def _print_formatted(ui: UI, frame: pd.DataFrame, fmt: str, *, title: str) -> None:
    """Print a table as rich (``table``) or as csv / json / markdown on stdout, for scripts."""
    if fmt == "table":
        _show_board(ui, frame, title) if "Parameters" in frame.columns else ui.table(frame)
        return
    flat = frame.reset_index()
    if fmt == "csv":
        text = flat.to_csv(index=False)
    elif fmt == "json":
        text = flat.to_json(orient="records", indent=1) + "\n"
    else:
        text = _markdown(flat)
    sys.stdout.write(text)


def _markdown(frame: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        text = _cell(value) if isinstance(value, float) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(map(cell, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join([header, rule, *rows]) + "\n"


def cmd_predict(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.io import write_table
    from clusterlab.persistence import load_model

    out = check_output(args.out, force=args.force, inputs=[args.input, args.model])
    model_path = Path(args.model)
    if not model_path.is_file():
        raise FileNotFoundError(f"{args.model}: no such model file")
    model = load_model(model_path)
    frame = read_input(args.input)
    if args.label_name in frame.columns:
        raise UsageError(f"--label-name {args.label_name!r} is already a column of the input")
    with ui.progress(f"labelling {len(frame):,} rows"):
        labelled = model.predict_frame(frame, label_name=args.label_name)
    sizes = labelled[args.label_name].value_counts().sort_index()
    ui.table(sizes.rename("rows").to_frame().rename_axis("segment"), title=f"{model.model_id}")
    write_table(labelled, out, overwrite=args.force, protect=[args.input, args.model])
    ui.wrote("labelled data", out)
    return EXIT_OK


def cmd_anomalies(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.insight import anomaly_scores, top_anomalies
    from clusterlab.io import write_table

    out = check_output(args.out, force=args.force, inputs=[args.input])
    frame = read_input(args.input, sample=args.sample, seed=args.seed or 0)
    with ui.progress("preparing the data"):
        exp = _setup(args, frame)
    best, board = _choose_model(exp, args, ui)
    train = exp.get_config("train_mask")
    X = exp.get_config("X").to_numpy()
    labels = exp.assign_model(best, label_name="_segment")["_segment"].to_numpy()[train]
    with ui.progress("scoring rows"):
        scores = anomaly_scores(best, X)
    rows = frame.loc[train]
    top = top_anomalies(scores, rows, n=min(args.top, len(rows)), labels=labels)
    n_flagged = int((scores > 0.5).sum())
    ui.heading(f"{board.index[0]}: {n_flagged:,} of {len(rows):,} rows score above 0.5 (anomalies)")
    ui.table(top, title=f"the {len(top)} most anomalous rows")
    if out is not None:
        scored = frame.loc[train].assign(segment=labels, anomaly_score=scores)
        write_table(scored, out, overwrite=args.force, protect=[args.input])
        ui.wrote("scores", out)
    return EXIT_OK


def cmd_models(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.experiment import Experiment

    table = Experiment().models()
    _print_formatted(ui, table, args.format, title="models")
    return EXIT_OK


#: Files the demo writes in its folder (and only these: it replaces them on the next run).
DEMO_FILES = {
    "out": "wholesale_segments.csv",
    "model": "wholesale_segments.clusterlab",
    "report": "wholesale_report.html",
}


def cmd_demo(args: argparse.Namespace, ui: UI) -> int:
    """The bundled wholesale data end to end: segments, model file and report in ``--out``."""
    from clusterlab.datasets import load_wholesale_customers
    from clusterlab.metrics import adjusted_rand_score

    folder = _demo_folder(args.out)
    outputs = {key: folder / name for key, name in DEMO_FILES.items()}
    data = load_wholesale_customers()
    ui.heading("clusterlab demo: 440 wholesale customers, annual spending on six categories")
    ui.print(
        "features: log transform and z-scores of the six spending columns; Channel "
        "(Horeca / Retail) and Region are left out, Channel is kept as a check"
    )
    run = argparse.Namespace(
        model="auto", k=None, normalize="zscore", log=True, ignore=["Channel", "Region"],
        ground_truth=None, seed=args.seed, sample=None, label_name="segment", force=True,
    )  # fmt: skip
    labelled = _segment(data, run, ui, outputs, name="wholesale_customers.csv")
    labels = labelled["segment"].to_numpy()
    clustered = labels != -1
    ari = adjusted_rand_score(data["Channel"].to_numpy()[clustered], labels[clustered])
    ui.print(
        f"check: agreement with the Channel the model never saw (ARI, rows in segments) = {ari:.2f}"
    )
    ui.wrote("open the report", outputs["report"])
    return EXIT_OK


def _demo_folder(out: str) -> Path:
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


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


def _add_workflow_options(p: argparse.ArgumentParser, *, model: bool = True) -> None:
    p.add_argument(
        "input", metavar="INPUT", help="table to segment (.csv, .tsv, .parquet, .xlsx, .jsonl)"
    )
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


def _add_segment(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "segment",
        parents=[common],
        formatter_class=_Formatter,
        help="the whole workflow: prepare, choose a model and k, label, describe",
        description="Prepare the data, compare the models (or fit the one given), label every "
        "row and describe the segments. Prints the leaderboard, the chosen model, the segment "
        "sizes and descriptions; writes the labelled table and the model file on request.",
        epilog=_examples(
            "clusterlab segment customers.csv --ignore id --out segments.csv --report report.html",
            "clusterlab segment rfm.csv --log --model kmeans --k 4 --save-model rfm.clusterlab",
            "clusterlab segment wholesale.csv --ignore Region --ground-truth Channel --log",
        ),
    )
    _add_workflow_options(p)
    p.add_argument("--out", metavar="FILE", help="write the data with a segment column")
    p.add_argument(
        "--save-model",
        metavar="FILE",
        help="write the model file (.clusterlab) for `clusterlab predict`",
    )
    p.add_argument("--report", metavar="FILE.html", help="write the self-contained HTML report")
    p.add_argument(
        "--label-name",
        default="segment",
        metavar="NAME",
        help="name of the label column (default segment)",
    )
    p.add_argument("--force", action="store_true", help="replace output files that exist")
    p.set_defaults(func=cmd_segment)


def _add_compare(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "compare",
        parents=[common],
        formatter_class=_Formatter,
        help="the leaderboard of every model on a table",
        description="Fit every model (k chosen per model) and rank them; prints the leaderboard.",
        epilog=_examples(
            "clusterlab compare customers.csv --ignore id",
            "clusterlab compare customers.csv --include kmeans gmm hdbscan --format markdown",
            "clusterlab compare customers.parquet --format json > board.json",
        ),
    )
    _add_workflow_options(p, model=False)
    p.add_argument("--include", nargs="+", metavar="ID", help="compare only these model ids")
    p.add_argument(
        "--format",
        default="table",
        choices=["table", "csv", "json", "markdown"],
        help="how to print the leaderboard (default table)",
    )
    p.add_argument("--out", metavar="FILE", help="write the leaderboard to a file instead")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=cmd_compare)


def _add_predict(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "predict",
        parents=[common],
        formatter_class=_Formatter,
        help="label new data with a saved model",
        description="Label the rows of INPUT with a model file written by `segment --save-model`"
        " (loading it never runs code from the file).",
        epilog=_examples(
            "clusterlab predict segments.clusterlab new_customers.csv --out labelled.csv",
        ),
    )
    p.add_argument("model", metavar="MODEL", help="model file (.clusterlab)")
    p.add_argument("input", metavar="INPUT", help="table with the columns the model was set up on")
    p.add_argument("--out", required=True, metavar="FILE", help="labelled table to write")
    p.add_argument(
        "--label-name",
        default="segment",
        metavar="NAME",
        help="name of the label column (default segment)",
    )
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=cmd_predict)


def _add_anomalies(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "anomalies",
        parents=[common],
        formatter_class=_Formatter,
        help="the rows that fit their segment worst",
        description="Segment the data (as `segment` does) and score every row for how anomalous "
        "it is under the model, on a 0-1 scale (above 0.5: an anomaly).",
        epilog=_examples(
            "clusterlab anomalies customers.csv --ignore id --top 20",
            "clusterlab anomalies rfm.csv --log --model kmeans --k 4 --out scores.csv",
        ),
    )
    _add_workflow_options(p)
    p.add_argument(
        "--top", type=_positive_int, default=10, metavar="N", help="rows to show (default 10)"
    )
    p.add_argument("--out", metavar="FILE", help="write every row with its score")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=cmd_anomalies)


def _add_models(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "models",
        parents=[common],
        formatter_class=_Formatter,
        help="the model registry: ids for --model",
        description="Every model id with its implementation, out-of-sample rule and memory.",
        epilog=_examples("clusterlab models", "clusterlab models --format csv"),
    )
    p.add_argument(
        "--format",
        default="table",
        choices=["table", "csv", "json", "markdown"],
        help="output format (default table)",
    )
    p.set_defaults(func=cmd_models)


def _k_option(text: str) -> int | None:
    return None if text == "auto" else _positive_int(text)


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
        description="Segment the 440 wholesale customers (bundled) by their spending: compare "
        "the models, choose one and its k, describe the segments, and write the labelled data, "
        "the model file and the HTML report to DIR. Files of an earlier demo in DIR are "
        "replaced; nothing else there is touched.",
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
    _add_segment,
    _add_compare,
    _add_predict,
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
