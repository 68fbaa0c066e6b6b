"""One self-contained HTML report of a segmentation: data, choices, segments, anomalies.

The report shows one :class:`ReportInput`: the data and its preparation, the model comparison,
the chosen model with its labels, the segment profiles and rules, and the anomaly scores.
:meth:`clusterlab.Experiment.report` builds it from the experiment's state (the command line
goes the same way); :func:`write_report` builds it from explicit arrays. :func:`render_report`
writes ONE file: figures are inlined as base64 PNG, the stylesheet is inside the file, and
nothing refers to the network, so the report opens anywhere, offline.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import math
import os
import platform
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clusterlab._base import NOISE

__all__ = [
    "Comparison",
    "Preparation",
    "ReportInput",
    "check_path",
    "render_report",
    "write_report",
]

logger = logging.getLogger(__name__)

#: Plots drawn in the "main plots" section, in order (each only where it means something).
DEFAULT_PLOTS = ("cluster", "distribution", "feature", "silhouette", "distance")
#: Packages whose versions are recorded to reproduce the report.
_VERSIONED = ("clusterlab", "numpy", "scipy", "scikit-learn", "pandas", "numba", "matplotlib")
#: Rules listed per segment card (those covering most of the segment first).
MAX_RULES_SHOWN = 4
#: Multi-panel plots that take the full width of the page.
_WIDE_PLOTS = frozenset({"feature", "profile", "dendrogram", "reachability"})
_PLOT_TITLES = {
    "cluster": "Segments on the first two principal components",
    "cluster3d": "Segments in three dimensions",
    "tsne": "t-SNE map",
    "umap": "UMAP map",
    "distribution": "Segment sizes",
    "feature": "Features by segment",
    "silhouette": "Silhouette by segment",
    "distance": "Distances between segment centres",
    "profile": "Segment profiles",
    "dendrogram": "Dendrogram",
    "reachability": "Reachability",
    "condensed_tree": "Condensed tree",
}


@dataclass
class _Table:
    """A table ready for the template: formatted cells and which columns are numeric."""

    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    index_name: str | None = None
    highlight: int | None = None


@dataclass
class _Figure:
    title: str
    uri: str | None = None
    note: str | None = None
    wide: bool = False


@dataclass
class _Segment:
    name: str
    title: str
    colour: str
    size: int
    share: float
    description: str
    rules: list[dict[str, str]] = field(default_factory=list)
    features: list[dict[str, str]] = field(default_factory=list)
    categories: list[dict[str, str]] = field(default_factory=list)
    more_rules: int = 0


@dataclass(frozen=True, eq=False)
class Preparation:
    """How the data was prepared: the inferred ``schema``, the preprocessing ``steps`` and the
    run's ``params`` (see :func:`write_report`'s ``schema``, ``preprocessing_steps`` and
    ``params``)."""

    schema: Mapping[str, Any] | pd.DataFrame | None = None
    steps: Iterable[Any] | None = None
    params: Mapping[str, Any] | None = None


@dataclass(frozen=True, eq=False)
class Comparison:
    """How the model was chosen: the ``leaderboard``, the ``chosen`` row and ``k_selection``
    (see :func:`write_report`'s parameters of these names)."""

    leaderboard: pd.DataFrame | None = None
    chosen: Any = None
    k_selection: Any = None


@dataclass(frozen=True, eq=False)
class ReportInput:
    """One segmentation, with everything the report shows about it.

    Build it with :meth:`build` (which checks the inputs and computes the profiles, rules and
    anomaly scores), or let :meth:`clusterlab.Experiment.report` build it.

    Attributes
    ----------
    data, labels, X, model, metrics
        The rows segmented in the user's units, their segments (-1 is noise), their prepared
        features, the fitted model and its metrics (see :func:`write_report`).
    preparation, comparison : Preparation, Comparison
        How the data was prepared; how the model was chosen.
    profiles : SegmentProfiles
        :func:`clusterlab.insight.profile_segments` of ``data``.
    rules : SegmentRules
        :func:`clusterlab.insight.describe_segments` of ``data``.
    anomaly_scores : ndarray or None
        Scores in [0, 1] per row; None when the model cannot score anomalies.
    title : str
        Heading of the report.
    """

    data: pd.DataFrame
    labels: np.ndarray
    X: Any
    model: Any
    profiles: Any
    rules: Any
    anomaly_scores: np.ndarray | None = None
    metrics: Mapping[str, float] | None = None
    preparation: Preparation = field(default_factory=Preparation)
    comparison: Comparison = field(default_factory=Comparison)
    title: str = "Segmentation report"

    @classmethod
    def build(
        cls,
        *,
        data: Any,
        labels: Any,
        X_prepared: Any,
        model: Any,
        metrics: Mapping[str, float] | None = None,
        preparation: Preparation | None = None,
        comparison: Comparison | None = None,
        anomaly_scores: Any = None,
        rules_depth: int = 3,
        title: str = "Segmentation report",
    ) -> ReportInput:
        """Check the inputs (one row of ``X_prepared`` and one label per row of ``data``) and
        compute the segment profiles, the rules (a surrogate tree of ``rules_depth``) and, unless
        given, the anomaly scores."""
        from clusterlab.insight import describe_segments, profile_segments

        frame, y, X = _check_inputs(data, labels, X_prepared)
        if anomaly_scores is None:
            anomaly_scores = _anomaly_scores(model, X)
        return cls(
            data=frame,
            labels=y,
            X=X,
            model=model,
            profiles=profile_segments(frame, y),
            rules=describe_segments(frame, y, max_depth=rules_depth),
            anomaly_scores=None if anomaly_scores is None else np.asarray(anomaly_scores, float),
            metrics=metrics,
            preparation=preparation or Preparation(),
            comparison=comparison or Comparison(),
            title=title,
        )


def _anomaly_scores(model: Any, X: Any) -> np.ndarray | None:
    from clusterlab.insight import anomaly_scores

    try:
        return anomaly_scores(model, X)
    except ValueError as exc:
        logger.info("anomalies left out of the report: %s", exc)
        return None


def write_report(
    path: str | os.PathLike[str],
    *,
    data: Any,
    labels: Any,
    X_prepared: Any,
    model: Any,
    leaderboard: pd.DataFrame | None = None,
    metrics: Mapping[str, float] | None = None,
    schema: Mapping[str, Any] | pd.DataFrame | None = None,
    preprocessing_steps: Iterable[Any] | None = None,
    k_selection: Any = None,
    title: str = "Segmentation report",
    params: Mapping[str, Any] | None = None,
    anomaly_scores: Any = None,
    n_anomalies: int = 10,
    plots: Iterable[str] = DEFAULT_PLOTS,
    rules_depth: int = 3,
    chosen: Any = None,
    overwrite: bool = False,
) -> Path:
    """Write a self-contained HTML report of a segmentation.

    Parameters
    ----------
    path : str or PathLike
        File to write; must end in ``.html`` or ``.htm``.
    data : pandas.DataFrame
        The original data (profiles, rules and anomalies are shown in its units).
    labels : array-like of shape (n_samples,)
        Segment of each row; -1 is noise.
    X_prepared : array-like of shape (n_samples, n_features)
        The prepared feature matrix the model was fitted on (for the plots and anomaly scores).
    model : fitted clustering estimator
        The chosen model; its class and parameters are shown.
    leaderboard : pandas.DataFrame, optional
        The compare-models leaderboard (one row per model).
    metrics : mapping of str to float, optional
        The chosen model's metrics (silhouette, Calinski-Harabasz, ...).
    schema : mapping or DataFrame, optional
        The inferred schema: a mapping column -> kind, or a table indexed by column (or with a
        ``column`` column) with ``kind`` and optionally ``reason`` (as
        ``clusterlab.preprocessing.infer_schema`` returns); by default each column's kind is
        read from its dtype.
    preprocessing_steps : iterable, optional
        The steps applied before clustering: strings, or (name, description) pairs.
    k_selection : optional
        How k was chosen: a DataFrame of criteria indexed by k (its ``attrs["chosen_k"]``, if
        any, is marked), a ``(scores, chosen_k)`` pair, the result of
        ``clusterlab.selection.choose_k`` (``table`` and ``best_k``), or a matplotlib Figure.
    title : str, default="Segmentation report"
        Heading of the report.
    params : mapping, optional
        Parameters of the run (setup options, seeds), listed to reproduce it.
    anomaly_scores : array-like of shape (n_samples,), optional
        Precomputed scores in [0, 1]; by default computed with
        :func:`clusterlab.insight.anomaly_scores` (the section is left out when the model
        cannot score anomalies).
    n_anomalies : int, default=10
        Rows in the top-anomalies table.
    plots : iterable of str, default=("cluster", "distribution", "feature", "silhouette",
        "distance")
        Plot kinds in the "main plots" section; a kind that means nothing for the model is
        left out with a note.
    rules_depth : int, default=3
        Depth of the surrogate tree behind the segment rules.
    chosen : str, optional
        The leaderboard row of the chosen model (its index label or a cell, e.g. the model id),
        highlighted; by default the row naming the model's class.
    overwrite : bool, default=False
        Replace an existing file. Otherwise an existing file is never touched.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    FileExistsError
        When ``path`` exists and ``overwrite`` is False.
    ValueError
        When ``path`` does not end in .html / .htm, or the inputs disagree in length.

    Notes
    -----
    The inputs become one :class:`ReportInput` (:meth:`ReportInput.build`), which
    :func:`render_report` writes. The file is written to a temporary file in the same folder
    and then renamed, so a reader never sees half a report. Sections whose input is missing
    (no leaderboard, no k-selection, ...) are left out.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.cluster import KMeans
    >>> from clusterlab.datasets import load_wholesale_customers
    >>> from clusterlab.report import write_report
    >>> data = load_wholesale_customers()
    >>> X = (data - data.mean()) / data.std()
    >>> model = KMeans(3, n_init=3, random_state=0).fit(X)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> write_report(out, data=data, labels=model.labels_, X_prepared=X, model=model,
    ...              plots=["cluster"]).name
    'report.html'
    """
    target = check_path(Path(path), overwrite)
    plots = _check_plots(plots)
    report = ReportInput.build(
        data=data,
        labels=labels,
        X_prepared=X_prepared,
        model=model,
        metrics=metrics,
        preparation=Preparation(schema, preprocessing_steps, params),
        comparison=Comparison(leaderboard, chosen, k_selection),
        anomaly_scores=anomaly_scores,
        rules_depth=rules_depth,
        title=title,
    )
    return render_report(target, report, plots=plots, n_anomalies=n_anomalies, overwrite=overwrite)


def render_report(
    path: str | os.PathLike[str],
    report: ReportInput,
    *,
    plots: Iterable[str] = DEFAULT_PLOTS,
    n_anomalies: int = 10,
    overwrite: bool = False,
) -> Path:
    """Write ``report`` as one self-contained HTML file (see :func:`write_report` for the
    parameters); return the path."""
    start = time.perf_counter()
    target = check_path(Path(path), overwrite)
    html = _render(_context(report, _check_plots(plots), n_anomalies))
    _write_atomic(target, html, overwrite)
    logger.info("report written to %s in %.1f s", target, time.perf_counter() - start)
    return target


# --------------------------------------------------------------------------------------------
# inputs and output


def check_path(path: Path, overwrite: bool) -> Path:
    """``path`` when a report may be written there (an .html / .htm name in an existing folder,
    not an existing file unless ``overwrite``), else a ValueError or FileExistsError."""
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"path must be a file name ending in .html or .htm; got {str(path)!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True to replace it")
    if not path.parent.is_dir():
        raise ValueError(f"folder {str(path.parent)!r} of path does not exist")
    return path


def _check_plots(plots: Iterable[str]) -> list[str]:
    from clusterlab.plots import check_plot_name

    plots = list(plots)
    for kind in plots:
        check_plot_name(kind)
    return plots


def _check_inputs(data: Any, labels: Any, X_prepared: Any):
    from clusterlab.insight._common import as_frame, as_labels

    frame = as_frame(data, name="data")
    y = as_labels(labels, frame.shape[0])
    X = X_prepared.to_numpy() if isinstance(X_prepared, pd.DataFrame) else np.asarray(X_prepared)
    if X.ndim != 2 or X.shape[0] != frame.shape[0]:
        raise ValueError(
            f"X_prepared must have one row per row of data ({frame.shape[0]}); got shape {X.shape}"
        )
    if isinstance(X_prepared, pd.DataFrame):
        X = X_prepared
    return frame, y, X


def _write_atomic(path: Path, text: str, overwrite: bool) -> None:
    """Write ``text`` through :func:`clusterlab.io.atomic_output`: never a half-written file."""
    from clusterlab.io import atomic_output

    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _render(context: dict[str, Any]) -> str:
    import jinja2

    source = (resources.files("clusterlab") / "templates" / "report.html.j2").read_text("utf-8")
    env = jinja2.Environment(
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined
    )
    env.filters["pct"] = lambda v: f"{v:.0%}" if v >= 0.01 or v == 0 else f"{v:.1%}"
    return env.from_string(source).render(**context)


# --------------------------------------------------------------------------------------------
# formatting


def _fmt(value: Any) -> str:  # noqa: PLR0911 - one return per kind of value
    """A cell as a person reads it: 12,345 / 3.14 / 0.0123 / text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\N{EN DASH}"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isinf(v):
            return "\N{INFINITY}" if v > 0 else "\N{MINUS SIGN}\N{INFINITY}"
        if v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        if abs(v) >= 1:
            return _fmt_float(v, _decimals(abs(v)))
        return f"{v:.3g}"
    return str(value)


def _decimals(magnitude: float) -> int:
    """Decimals for numbers of this size: none from 100 up, two from 1, three below."""
    if magnitude >= 100:
        return 0
    return 2 if magnitude >= 1 else 3


def _fmt_float(value: float, decimals: int) -> str:
    if not math.isfinite(value):
        return _fmt(value)
    return f"{value:,.{decimals}f}"


def _column_cells(column: pd.Series) -> list[str]:
    """A column's cells with one number of decimals for the whole column, so they line up."""
    if not pd.api.types.is_float_dtype(column.dtype):
        return [_fmt(v) for v in column]
    values = column.to_numpy(dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [_fmt(v) for v in values]
    if np.all(finite == np.round(finite)):
        decimals = 0
    else:
        decimals = _decimals(float(np.median(np.abs(finite[finite != 0])))) if np.any(finite) else 0
    return [_fmt_float(float(v), decimals) if math.isfinite(v) else _fmt(v) for v in values]


def _table(df: pd.DataFrame, *, index: bool = True, highlight: int | None = None) -> _Table:
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    columns_cells = [_column_cells(df.iloc[:, i]) for i in range(df.shape[1])]
    rows = []
    for i, label in enumerate(df.index):
        cells = [cells[i] for cells in columns_cells]
        rows.append(([_fmt(label)] if index else []) + cells)
    columns = [str(c) for c in df.columns]
    if index:
        columns = [str(df.index.name or ""), *columns]
        numeric = [False, *numeric]
    return _Table(columns, rows, numeric, highlight=highlight)


def _figure_uri(fig: Any, dpi: int = 110) -> str:
    buffer = io.BytesIO()
    # plots lay themselves out (constrained layout): a "tight" bounding box would draw twice
    # fast zlib level: a few percent larger files, noticeably less time per figure
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", pil_kwargs={"compress_level": 3})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _hex(colour: Any) -> str:
    from matplotlib.colors import to_hex

    return to_hex(colour)


# --------------------------------------------------------------------------------------------
# sections


def _context(report: ReportInput, plots: list[str], n_anomalies: int) -> dict[str, Any]:
    frame, y, model = report.data, report.labels, report.model
    prep, comp = report.preparation, report.comparison
    n_clusters = int(np.unique(y[y != NOISE]).size)
    noise_share = float(np.mean(y == NOISE))
    sections = {
        "data": _data_section(frame, prep.schema),
        "preprocessing": _steps(prep.steps),
        "leaderboard": _leaderboard(comp.leaderboard, model, comp.chosen),
        "k_selection": _k_selection(comp.k_selection),
        "model": _model_section(model, report.metrics),
        "segments": _segments_section(frame, y, report.profiles, report.rules),
        "plots": _plots_section(model, report.X, y, frame, plots),
        "anomalies": _anomalies_section(frame, y, report.anomaly_scores, n_anomalies),
        "reproduce": _reproduce_section(frame, model, prep.params),
    }
    present = [(key, _SECTION_TITLES[key]) for key, value in sections.items() if value]
    return {
        "title": report.title,
        "generated": time.strftime("%Y-%m-%d %H:%M %Z"),
        "summary": [
            ("rows", f"{frame.shape[0]:,}"),
            ("columns", f"{frame.shape[1]:,}"),
            ("segments", f"{n_clusters:,}"),
            ("noise", f"{noise_share:.1%}" if noise_share else "none"),
            ("model", type(model).__name__),
        ],
        "nav": present,
        **sections,
    }


_SECTION_TITLES = {
    "data": "Data",
    "preprocessing": "Preprocessing",
    "leaderboard": "Model comparison",
    "k_selection": "Choosing k",
    "model": "Chosen model",
    "segments": "Segments",
    "plots": "Plots",
    "anomalies": "Anomalies",
    "reproduce": "Reproduce",
}


def _data_section(frame: pd.DataFrame, schema: Any) -> dict[str, Any]:
    from clusterlab.insight._common import split_columns

    numeric, categorical = split_columns(frame)
    inferred = _schema_map(schema)
    rows = []
    for column in frame.columns:
        series = frame[column]
        guess = (
            "numeric" if column in numeric else "categorical" if column in categorical else "other"
        )
        kind, reason = inferred.get(str(column), (guess, ""))
        missing = float(series.isna().mean())
        if column in numeric:
            values = series.astype(np.float64)
            summary = (
                f"mean {_fmt(values.mean())} · median {_fmt(values.median())} · "
                f"range {_fmt(values.min())} to {_fmt(values.max())}"
            )
        else:
            top = series.astype("object").value_counts().head(3)
            summary = ", ".join(f"{k} ({v / len(series):.0%})" for k, v in top.items())
        rows.append([str(column), kind, f"{series.nunique():,}", f"{missing:.1%}", summary])
        if any(r for _, r in inferred.values()):
            rows[-1].insert(2, reason)
    columns = ["column", "type", "distinct", "missing", "summary"]
    numeric_cells = [False, False, True, True, False]
    if any(r for _, r in inferred.values()):
        columns.insert(2, "why")
        numeric_cells.insert(2, False)
    # columns of the schema that are not in data (ignored ones the caller dropped) still count
    extra = [c for c in inferred if c not in set(map(str, frame.columns))]
    for column in extra:
        kind, reason = inferred[column]
        row = [column, kind, _fmt(None), _fmt(None), "not among the data shown"]
        if "why" in columns:
            row.insert(2, reason)
        rows.append(row)
    table = _Table(columns, rows, numeric_cells)
    return {
        "n_rows": f"{frame.shape[0]:,}",
        "n_columns": f"{frame.shape[1]:,}",
        "n_numeric": len(numeric),
        "n_categorical": len(categorical),
        "missing": f"{float(frame.isna().to_numpy().mean()):.1%}",
        "table": table,
    }


def _schema_map(schema: Any) -> dict[str, tuple[str, str]]:
    """Column -> (kind, reason) from a mapping or a schema table.

    A table is indexed by column name (or has a ``column`` column); its ``kind`` column (else
    its first column) is the kind and its ``reason`` column, when present, why.
    """
    if schema is None:
        return {}
    if isinstance(schema, pd.DataFrame):
        table = schema.set_index("column") if "column" in schema.columns else schema
        if table.shape[1] == 0:
            return {}
        kinds = table["kind"] if "kind" in table.columns else table.iloc[:, 0]
        reasons = table["reason"] if "reason" in table.columns else None
        return {
            str(c): (str(kinds[c]), "" if reasons is None else str(reasons[c])) for c in table.index
        }
    return {str(k): (str(v), "") for k, v in dict(schema).items()}


def _steps(steps: Iterable[Any] | None) -> list[dict[str, str]] | None:
    if steps is None:
        return None
    out = []
    for step in steps:
        if isinstance(step, tuple | list) and len(step) == 2:
            out.append({"name": str(step[0]), "detail": str(step[1])})
        else:
            out.append({"name": "", "detail": str(step)})
    return out or None


def _leaderboard(table: pd.DataFrame | None, model: Any, chosen: Any) -> _Table | None:
    if table is None or len(table) == 0:
        return None
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"leaderboard must be a DataFrame; got {type(table).__name__}")
    wanted = {str(chosen).lower()} if chosen is not None else {type(model).__name__.lower()}
    highlight = None
    for i, (label, row) in enumerate(
        zip(table.index, table.astype(str).itertuples(index=False), strict=True)
    ):
        if wanted & {str(label).lower(), *(cell.lower() for cell in row)}:
            highlight = i
            break
    show_index = not isinstance(table.index, pd.RangeIndex)
    # choose_k's sentence per model makes every row a paragraph tall; the k-selection section
    # explains the chosen model's k instead
    table = table.drop(columns=["k chosen by"], errors="ignore")
    return _table(table, index=show_index, highlight=highlight)


def _k_selection(selection: Any) -> _Figure | None:
    if selection is None:
        return None
    from matplotlib.figure import Figure

    from clusterlab.plots import plot_k_selection

    if isinstance(selection, Figure):
        return _Figure("How k was chosen", _figure_uri(selection))
    chosen = None
    if isinstance(selection, tuple) and len(selection) == 2:
        scores, chosen = selection
    elif isinstance(selection, pd.DataFrame):
        scores, chosen = selection, selection.attrs.get("chosen_k")
    elif isinstance(getattr(selection, "table", None), pd.DataFrame):  # choose_k's result
        chosen = getattr(selection, "best_k", None)
        scores = selection.table.drop(columns=["votes", "gap_se"], errors="ignore")
    else:
        scores = None
    if not isinstance(scores, pd.DataFrame):
        raise ValueError(
            "k_selection must be a DataFrame of criteria indexed by k, a (scores, chosen_k) "
            "pair, a clusterlab.selection.choose_k result or a Figure; got "
            f"{type(selection).__name__}"
        )
    numeric = scores.select_dtypes("number")
    fig = plot_k_selection(numeric, chosen_k=chosen)
    note = f"Chosen k = {chosen}." if chosen is not None else None
    return _Figure("Every criterion against k", _figure_uri(fig), note)


def _model_section(model: Any, metrics: Mapping[str, float] | None) -> dict[str, Any]:
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    return {
        "name": type(model).__name__,
        "module": type(model).__module__.split(".")[0],
        "params": [(k, _fmt(v) if not isinstance(v, str) else v) for k, v in params.items()],
        "metrics": [(str(k), _fmt(v)) for k, v in (metrics or {}).items()],
    }


def _segments_section(
    frame: pd.DataFrame, y: np.ndarray, profiles: Any, rules: Any
) -> dict[str, Any]:
    from clusterlab.plots import plot_profile, segment_colours

    colours = segment_colours(y)
    cards = []
    for name, row in profiles.sizes.iterrows():
        label = NOISE if name == "noise" else int(name)
        segment = _Segment(
            name=name,
            title="Noise" if label == NOISE else f"Segment {name}",
            colour=_hex(colours[label]),
            size=int(row["size"]),
            share=float(row["share"]),
            description=str(row["description"]),
        )
        segment_rules = rules.for_segment(name)
        segment.more_rules = max(0, len(segment_rules) - MAX_RULES_SHOWN)
        for rule in segment_rules.head(MAX_RULES_SHOWN).itertuples(index=False):
            segment.rules.append(
                {
                    "text": rule.rule,
                    "precision": f"{rule.precision:.0%}",
                    "coverage": f"{rule.coverage:.0%}",
                }
            )
        numeric = profiles.numeric[profiles.numeric["segment"] == name]
        numeric = numeric.reindex(numeric["std_diff"].abs().sort_values(ascending=False).index)
        for item in numeric.head(4).itertuples(index=False):
            lift = f"x{item.lift:.1f}" if math.isfinite(item.lift) else f"{item.std_diff:+.1f} sd"
            segment.features.append(
                {
                    "name": item.feature,
                    "mean": _fmt(item.mean),
                    "population": _fmt(item.population_mean),
                    "lift": lift,
                    "direction": "up" if item.std_diff > 0 else "down",
                }
            )
        cats = profiles.categorical[profiles.categorical["segment"] == name]
        for item in cats.sort_values("lift", ascending=False).head(3).itertuples(index=False):
            segment.categories.append(
                {
                    "name": f"{item.feature} = {item.category}",
                    "share": f"{item.share:.0%}",
                    "lift": f"x{item.lift:.1f}",
                }
            )
        cards.append(segment)
    heatmap = None
    if not profiles.numeric.empty:
        heatmap = _Figure("Standardised means", _figure_uri(plot_profile(frame, y)), wide=True)
    return {
        "cards": cards,
        "fidelity": f"{rules.fidelity:.0%}",
        "depth": rules.max_depth,
        "heatmap": heatmap,
    }


def _plots_section(
    model: Any, X: Any, y: np.ndarray, frame: pd.DataFrame, kinds: list[str]
) -> list[_Figure]:
    from clusterlab.plots import plot_model

    figures = []
    for kind in kinds:
        title = _PLOT_TITLES.get(kind, kind)
        try:
            fig = plot_model(model, X, y, plot=kind, data=frame)
        except (ValueError, ImportError) as exc:
            figures.append(_Figure(title, None, f"Not drawn: {exc}"))
            continue
        figures.append(_Figure(title, _figure_uri(fig), wide=kind in _WIDE_PLOTS))
    return figures


def _anomalies_section(
    frame: pd.DataFrame, y: np.ndarray, scores: np.ndarray | None, n: int
) -> dict[str, Any] | None:
    from clusterlab.insight import THRESHOLD, top_anomalies

    if scores is None:
        return None
    table = top_anomalies(scores, frame, n=n, labels=y)
    n_flagged = int(np.sum(scores > THRESHOLD))
    return {
        "table": _table(table.drop(columns="is_anomaly"), index=True),
        "n_flagged": f"{n_flagged:,}",
        "share": f"{n_flagged / scores.size:.1%}",
        "threshold": THRESHOLD,
    }


def _reproduce_section(
    frame: pd.DataFrame, model: Any, params: Mapping[str, Any] | None
) -> dict[str, Any]:
    versions = [("Python", platform.python_version())]
    for package in _VERSIONED:
        try:
            versions.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            import clusterlab

            if package == "clusterlab":
                versions.append((package, clusterlab.__version__))
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
    ).hexdigest()[:16]
    model_params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    call = ", ".join(f"{k}={v!r}" for k, v in model_params.items())
    return {
        "versions": versions,
        "platform": f"{platform.system()} {platform.machine()}",
        "params": [(str(k), repr(v)) for k, v in (params or {}).items()],
        "data_hash": digest,
        "shape": f"{frame.shape[0]:,} rows \N{MULTIPLICATION SIGN} {frame.shape[1]:,} columns",
        "model_call": f"{type(model).__name__}({call})",
    }
