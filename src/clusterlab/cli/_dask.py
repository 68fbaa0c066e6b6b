"""``clusterlab segment INPUT --scheduler ADDRESS|local``: the workflow on a partitioned data set.

The data stays partitioned from end to end: setup fits on a sample and takes its statistics from
every row, the models are compared on the sample, the chosen one is fitted on every row where a
distributed fit exists, and every row's label is written as one Parquet file per partition, or
to a database table partition by partition in one transaction.

INPUT is a glob or folder of Parquet / CSV files, or a database with ``--table`` / ``--sql``,
whose rows stream into Parquet partitions in a temporary folder first (``--staging DIR`` chooses
where; with a remote scheduler it must be a folder the workers can read).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clusterlab.cli._common import EXIT_OK, UI, Output, UsageError, input_name, table_output

__all__ = ["cmd_segment", "segment_on_dask"]


def cmd_segment(args: argparse.Namespace, ui: UI) -> int:
    """``segment``: on Dask with ``--scheduler``, else the in-memory command."""
    from clusterlab.cli import _commands

    if args.scheduler is None:
        if getattr(args, "staging", None) is not None:
            raise UsageError(
                "--staging is where --scheduler stages a database INPUT; add --scheduler"
            )
        return _commands.cmd_segment(args, ui)
    return segment_on_dask(args, ui)


def _out_target(args: argparse.Namespace) -> Path | Output | None:
    """Check ``--out`` before any work: a folder for the Parquet files, or a database table."""
    from clusterlab.io import is_database

    if args.out is not None and is_database(args.out):
        return table_output(args, inputs=[args.input])
    if args.out_table is not None or args.if_exists is not None:
        where = f"--out {args.out} is a folder" if args.out is not None else "there is no --out"
        raise UsageError(f"--out-table and --if-exists write to a database; {where}")
    return _out_dir(args)


def _out_dir(args: argparse.Namespace) -> Path | None:
    """Check ``--out`` (a directory for the Parquet files) before any work."""
    if args.out is None:
        return None
    out = Path(args.out)
    if out.suffix.lower() not in ("", ".parquet"):
        raise UsageError(f"--out {out}: with --scheduler the output is a folder of Parquet files")
    if out.exists() and not args.force:
        raise UsageError(f"--out {out} exists; use --force to replace it")
    if Path(args.input).resolve() == out.resolve():
        raise UsageError(f"--out {out} is the input; choose another folder")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: folder {out.parent} does not exist")
    return out


def _check_input(args: argparse.Namespace) -> None:
    """What INPUT, --table, --sql and --staging may be together, checked before any work."""
    from clusterlab.io import is_database

    if not is_database(args.input):
        if args.table is not None or args.sql is not None:
            raise UsageError(
                f"with --scheduler, --table / --sql read a database INPUT; {args.input} is a file "
                "pattern (filter the files before, or load them into DuckDB and give its URL)"
            )
        if args.staging is not None:
            raise UsageError("--staging is where a database INPUT is staged; INPUT is files")
        return
    if args.table is None and args.sql is None:
        raise UsageError(
            f"INPUT {input_name(args)} is a database: name the table with --table NAME or give a "
            "query with --sql QUERY"
        )
    if args.scheduler != "local" and args.staging is None:
        raise UsageError(
            "a database INPUT is staged as Parquet files the workers read: with a remote "
            "scheduler, give --staging DIR, a folder the workers can read (a shared file system)"
        )


@contextlib.contextmanager
def _input(args: argparse.Namespace, ui: UI) -> Iterator[Any]:
    """INPUT as a Dask DataFrame: files read in place, a database staged as Parquet files (in a
    temporary folder removed at the end)."""
    from clusterlab.distributed.io import read_partitioned
    from clusterlab.io import is_database

    if not is_database(args.input):
        try:
            frame = read_partitioned(args.input)
        except (ValueError, OSError) as exc:
            raise UsageError(str(exc)) from exc
        yield frame
        return
    with contextlib.ExitStack() as stack:
        yield _staged(args, ui, stack)


def _staged(args: argparse.Namespace, ui: UI, stack: contextlib.ExitStack) -> Any:
    """The database INPUT read into Parquet partitions, removed when ``stack`` closes."""
    from clusterlab.distributed.io import read_database

    name = input_name(args)
    try:
        folder = Path(tempfile.mkdtemp(prefix="clusterlab-staged-", dir=args.staging))
    except OSError as exc:
        raise UsageError(f"--staging {args.staging}: {exc.strerror or exc}") from exc
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    with ui.progress(f"reading {name} into Parquet partitions in {folder}"):
        frame = stack.enter_context(
            read_database(args.input, table=args.table, sql=args.sql, folder=folder)
        )
    if frame.npartitions == 1 and len(frame) == 0:
        raise UsageError(f"{name} has a header but no data rows")
    return frame


def segment_on_dask(args: argparse.Namespace, ui: UI) -> int:
    """The ``segment`` command on Dask (see the module docstring)."""
    from clusterlab.cli._commands import _choose_model, _outputs, _parameters, _setup, _show_board
    from clusterlab.distributed.io import connect

    _check_input(args)
    out = _out_target(args)
    files_only = {"out": None, "out_table": None, "if_exists": None}
    outputs = _outputs(argparse.Namespace(**{**vars(args), **files_only}))
    name = input_name(args)
    with connect(args.scheduler), _input(args, ui) as frame:
        if args.label_name in frame.columns:
            raise UsageError(f"--label-name {args.label_name!r} is already a column of the input")
        with ui.progress(f"preparing {frame.npartitions} partitions (a sample, then every row)"):
            exp = _setup(args, frame)
        table = exp._dask
        best, board = _choose_model(exp, args, ui)
        model_id = board.index[0]
        where = f"{name}: a sample of {table.sample_rows:,} of {table.n_rows:,} rows"
        _show_board(ui, board, f"models on {where}")
        ui.heading(f"chosen: {model_id} ({_parameters(board, model_id, best)})")
        _describe(exp, best, args, ui)
        if out is not None:
            labelled = exp.assign_model(best, label_name=args.label_name)
            _write(labelled, out, ui)
        _files(exp, best, args, ui, outputs, name=name)
    return EXIT_OK


def _describe(exp: Any, model: Any, args: argparse.Namespace, ui: UI) -> None:
    """The segments of the sample: sizes, feature means and what sets each apart."""
    from clusterlab.cli._commands import _features
    from clusterlab.insight import profile_segments

    sample = exp.data_
    labels = exp.predict_model(model, sample, label_name=args.label_name)[args.label_name]
    table = profile_segments(_features(sample, args, args.label_name), labels.to_numpy())
    profiles = table.to_pandas()
    title = f"segments of the sample ({len(sample):,} rows): size and mean of each feature"
    ui.table(profiles.drop(columns="description"), title=title)
    ui.table(profiles[["description"]], title="what sets each segment apart")


def _write(labelled: Any, out: Path | Output, ui: UI) -> None:
    """Write every labelled partition: to the database table in one transaction, or beside the
    folder ``out`` and moved into place, so that a failed run leaves ``out`` as it was."""
    if isinstance(out, Output):
        from clusterlab.distributed.io import write_database

        steps = labelled.npartitions
        with ui.progress(f"labelling and writing every partition to {out}", steps) as step:
            write_database(
                labelled, out.target, table=out.table, if_exists=out.if_exists, advance=step
            )
        ui.wrote("labelled data (one transaction)", out)
        return
    from clusterlab.distributed.io import write_partitioned

    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        with ui.progress("labelling and writing every partition", labelled.npartitions) as step:
            write_partitioned(labelled, tmp, step)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ui.wrote("labelled data (Parquet, one file per partition)", out)


def _files(
    exp: Any, model: Any, args: argparse.Namespace, ui: UI, outputs: dict, *, name: str
) -> None:
    """The model file and the report (of the sample), when asked for."""
    from clusterlab.cli._commands import _report
    from clusterlab.io import atomic_output

    if outputs.get("model") is not None:
        with atomic_output(outputs["model"], overwrite=args.force) as tmp:
            exp.save_model(model, tmp)
        ui.wrote("model", outputs["model"])
    if outputs.get("report") is not None:
        with ui.progress("writing the report (on the sample)"):
            _report(exp, model, args=args, path=outputs["report"], name=name)
        ui.wrote("report", outputs["report"])
