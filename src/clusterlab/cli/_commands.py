"""The commands: each takes the parsed arguments and the console, and returns the exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clusterlab.cli._common import (
    EXIT_OK,
    UI,
    Output,
    UsageError,
    cell_text,
    check_columns,
    check_output,
    input_name,
    input_of,
    segment_codes,
    table_output,
)

if TYPE_CHECKING:
    import pandas as pd


def cmd_profile(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.insight import describe_segments, profile_segments

    out = table_output(args, inputs=[args.input])
    frame = input_of(args)
    check_columns(frame, [args.labels, *args.ignore], option="--labels / --ignore")
    codes, names = segment_codes(frame[args.labels], option="--labels")
    features = frame.drop(columns=[args.labels, *args.ignore])
    if features.shape[1] == 0:
        raise UsageError("no feature columns left to profile besides --labels / --ignore")
    with ui.progress("profiling segments"):
        profiles = profile_segments(features, codes)
        rules = describe_segments(features, codes, max_depth=args.depth) if args.rules else None
    table = profiles.to_pandas().rename(index=lambda s: names.get(s, s))
    ui.heading(f"{len(table)} segments in {input_name(args)} (labels: {args.labels})")
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
        out.write(table)
        ui.wrote("profiles", out)
    return EXIT_OK


def cmd_rfm(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.datasets import rfm

    out = table_output(args, inputs=[args.input])
    if args.amount is None and (args.quantity is None or args.price is None):
        raise UsageError("give --amount COL, or --quantity COL and --price COL")
    with ui.progress(f"reading {input_name(args)}"):
        frame = input_of(args)
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
        out.write(table)
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
    from clusterlab.workflow import Experiment

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
    if getattr(args, "scheduler", None) is not None and args.sample is not None:
        options["dask_sample"] = args.sample  # on Dask, --sample sizes setup's sample
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
        include = getattr(args, "include", None)
        which = "every model" if include is None else f"{len(include)} models"
        with ui.progress(f"comparing {which} (k chosen per model)"):
            best = exp.compare_models(include=include, verbose=False)
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


def _outputs(args: argparse.Namespace) -> dict[str, Any]:
    """Check every output before any work; a model file without extension gets .clusterlab."""
    model = getattr(args, "save_model", None)
    if model is not None and not Path(model).suffix:
        model += MODEL_SUFFIX
    report = getattr(args, "report", None)
    if report is not None and Path(report).suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--report {report}: the report is HTML; name it *.html")
    return {
        "out": table_output(args, inputs=[args.input]),
        "model": check_output(model, force=args.force, inputs=[args.input], table=False),
        "report": check_output(report, force=args.force, inputs=[args.input], table=False),
    }


def cmd_segment(args: argparse.Namespace, ui: UI) -> int:
    outputs = _outputs(args)
    frame = input_of(args, sample=True)
    _segment(frame, args, ui, outputs, name=input_name(args))
    return EXIT_OK


def _segment(
    frame: pd.DataFrame,
    args: argparse.Namespace,
    ui: UI,
    outputs: dict[str, Any],
    *,
    name: str,
) -> pd.DataFrame:
    """The whole workflow on ``frame``; writes the outputs asked for; returns the labelled data."""
    from clusterlab.insight import profile_segments
    from clusterlab.io import atomic_output

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
        outputs["out"].write(labelled)
        ui.wrote("labelled data", outputs["out"])
    if outputs.get("model") is not None:
        with atomic_output(outputs["model"], overwrite=args.force, protect=protect) as tmp:
            exp.save_model(best, tmp)
        ui.wrote("model", outputs["model"])
    if outputs.get("report") is not None:
        with ui.progress("writing the report (plots, profiles, rules, anomalies)"):
            _report(exp, best, args=args, path=outputs["report"], name=name)
        ui.wrote("report", outputs["report"])
    return labelled


def _report(exp: Any, model: Any, *, args: argparse.Namespace, path: Path, name: str) -> None:
    """The HTML report of ``model``, as :meth:`clusterlab.Experiment.report` writes it; the
    command's options are listed to reproduce the run."""
    options = {
        key: value
        for key in ("model", "k", "normalize", "log", "ignore", "ground_truth", "seed", "sample")
        if (value := getattr(args, key, None)) not in (None, [], False)
    }
    title = f"Segmentation of {Path(name).name}"
    exp.report(path, model, title=title, params=options, overwrite=args.force)


def cmd_compare(args: argparse.Namespace, ui: UI) -> int:
    out = table_output(args, inputs=[args.input])
    frame = input_of(args, sample=True)
    with ui.progress("preparing the data"):
        exp = _setup(args, frame)
    include = args.include or None
    with ui.progress("comparing models (k chosen per model)"):
        exp.compare_models(include=include, verbose=False)
    board = exp.pull()
    if out is not None:
        out.write(board)
        ui.wrote("leaderboard", out)
    else:
        _print_formatted(ui, board, args.format, title=f"models on {input_name(args)}")
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
        text = cell_text(value) if isinstance(value, float) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(map(cell, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join([header, rule, *rows]) + "\n"


def cmd_predict(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.persistence import load_model

    out = table_output(args, inputs=[args.input, args.model])
    model_path = Path(args.model)
    if not model_path.is_file():
        raise FileNotFoundError(f"{args.model}: no such model file")
    model = load_model(model_path)
    frame = input_of(args)
    if args.label_name in frame.columns:
        raise UsageError(f"--label-name {args.label_name!r} is already a column of the input")
    with ui.progress(f"labelling {len(frame):,} rows"):
        labelled = model.predict_frame(frame, label_name=args.label_name)
    sizes = labelled[args.label_name].value_counts().sort_index()
    ui.table(sizes.rename("rows").to_frame().rename_axis("segment"), title=f"{model.model_id}")
    out.write(labelled)
    ui.wrote("labelled data", out)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, ui: UI) -> int:
    model_path = Path(args.model)
    if not model_path.is_file():
        raise FileNotFoundError(f"{args.model}: no such model file")
    from clusterlab.serve import run

    level = "warning" if ui.quiet else ("debug" if ui.verbose > 1 else "info")
    run(
        model_path,
        host=args.host,
        port=args.port,
        max_rows=args.max_rows,
        access_log=args.access_log,
        log_level=level,
        workers=args.workers,
    )
    return EXIT_OK


def cmd_anomalies(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.insight import anomaly_scores, top_anomalies

    out = table_output(args, inputs=[args.input])
    frame = input_of(args, sample=True)
    with ui.progress("preparing the data"):
        exp = _setup(args, frame)
    best, board = _choose_model(exp, args, ui)
    train = exp.get_config("train_mask")
    X = exp.get_config("X_transformed").to_numpy()
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
        out.write(scored)
        ui.wrote("scores", out)
    return EXIT_OK


def cmd_models(args: argparse.Namespace, ui: UI) -> int:
    from clusterlab.workflow import Experiment

    table = Experiment().models()
    _print_formatted(ui, table, args.format, title="models")
    return EXIT_OK


#: Files the demo writes in its folder (and only these: it replaces them on the next run).
DEMO_FILES = {
    "out": "wholesale_segments.csv",
    "model": "wholesale_segments.clusterlab",
    "report": "wholesale_report.html",
}


#: The models the demo compares: the k-means family, Ward's hierarchy and a density model with
#: noise, chosen because their kernels compile fast on a cold cache (24.5 s of CPU on a loaded
#: 2-core machine; every model, `clusterlab demo --all`, 109 s: benchmarks.run first_run).
DEMO_MODELS = ("kmeans", "minibatch", "bisecting", "hclust", "optics")

#: How long a cold demo takes on 2 cores (measured: `python -m benchmarks.run first_run`).
_COLD_DEMO = "about half a minute"
_COLD_DEMO_ALL = "about two minutes"


def _demo_models_line(include: list[str] | None) -> str:
    """Which models the demo compares, how to compare all, and what the first run costs."""
    if include is None:
        which = "every model"
        cost = _COLD_DEMO_ALL
    else:
        which = f"{', '.join(include)} (clusterlab demo --all: every model)"
        cost = _COLD_DEMO
    return (
        f"models compared: {which}\n"
        f"[dim]the first run on a machine compiles clusterlab's numba kernels ({cost} on 2 "
        "cores) and caches them; later runs take seconds[/dim]"
    )


def cmd_demo(args: argparse.Namespace, ui: UI) -> int:
    """The bundled wholesale data end to end: segments, model file and report in ``--out``."""
    from clusterlab.datasets import load_wholesale_customers
    from clusterlab.metrics import adjusted_rand_score

    folder = _demo_folder(args.out)
    outputs: dict[str, Any] = {key: folder / name for key, name in DEMO_FILES.items()}
    outputs["out"] = Output.file(outputs["out"], overwrite=True)
    data = load_wholesale_customers()
    ui.heading("clusterlab demo: 440 wholesale customers, annual spending on six categories")
    ui.print(
        "features: log transform and z-scores of the six spending columns; Channel "
        "(Horeca / Retail) and Region are left out, Channel is kept as a check"
    )
    include = None if args.all else list(DEMO_MODELS)
    ui.print(_demo_models_line(include))
    run = argparse.Namespace(
        model="auto", k=None, normalize="zscore", log=True, ignore=["Channel", "Region"],
        ground_truth=None, seed=args.seed, sample=None, label_name="segment", force=True,
        include=include,
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
