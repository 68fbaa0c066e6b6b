"""``clusterlab segment INPUT --scheduler ADDRESS|local``: the workflow on a partitioned data set.

The data stays partitioned from end to end: setup fits on a sample and takes its statistics from
every row, the models are compared on the sample, the chosen one is fitted on every row where a
distributed fit exists, and every row's label is written as one Parquet file per partition.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from clusterlab.cli._common import EXIT_OK, UI, UsageError

__all__ = ["cmd_segment", "segment_on_dask"]


def cmd_segment(args: argparse.Namespace, ui: UI) -> int:
    """``segment``: on Dask with ``--scheduler``, else the in-memory command."""
    from clusterlab.cli import _commands

    if args.scheduler is None:
        return _commands.cmd_segment(args, ui)
    return segment_on_dask(args, ui)


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


def segment_on_dask(args: argparse.Namespace, ui: UI) -> int:
    """The ``segment`` command on Dask (see the module docstring)."""
    from clusterlab.cli._commands import _choose_model, _outputs, _parameters, _setup, _show_board
    from clusterlab.distributed.io import connect, read_partitioned

    out = _out_dir(args)
    outputs = _outputs(argparse.Namespace(**{**vars(args), "out": None}))
    with connect(args.scheduler):
        try:
            frame = read_partitioned(args.input)
        except (ValueError, OSError) as exc:
            raise UsageError(str(exc)) from exc
        if args.label_name in frame.columns:
            raise UsageError(f"--label-name {args.label_name!r} is already a column of the input")
        with ui.progress(f"preparing {frame.npartitions} partitions (a sample, then every row)"):
            exp = _setup(args, frame)
        table = exp._dask
        best, board = _choose_model(exp, args, ui)
        model_id = board.index[0]
        where = f"{args.input}: a sample of {table.sample_rows:,} of {table.n_rows:,} rows"
        _show_board(ui, board, f"models on {where}")
        ui.heading(f"chosen: {model_id} ({_parameters(board, model_id, best)})")
        _describe(exp, best, args, ui)
        if out is not None:
            labelled = exp.assign_model(best, label_name=args.label_name)
            _write(labelled, out, ui)
            ui.wrote("labelled data (Parquet, one file per partition)", out)
        _files(exp, best, args, ui, outputs)
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


def _write(labelled: Any, out: Path, ui: UI) -> None:
    """Write beside ``out`` and move into place, so that a failed run leaves ``out`` as it was."""
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


def _files(exp: Any, model: Any, args: argparse.Namespace, ui: UI, outputs: dict) -> None:
    """The model file and the report (of the sample), when asked for."""
    from clusterlab.cli._commands import _report
    from clusterlab.io import atomic_output

    if outputs.get("model") is not None:
        with atomic_output(outputs["model"], overwrite=args.force) as tmp:
            exp.save_model(model, tmp)
        ui.wrote("model", outputs["model"])
    if outputs.get("report") is not None:
        with ui.progress("writing the report (on the sample)"):
            _report(exp, model, args=args, path=outputs["report"], name=args.input)
        ui.wrote("report", outputs["report"])
