"""The preprocessing pipeline and the model as a flow diagram (PyCaret's 'pipeline' plot)."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from clusterlab.plots._figure import finish, new_figure, root_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_pipeline"]

#: Longest line of text in a box: a longer description wraps, over three lines at most.
MAX_LINE = 48
MAX_WRAPPED = 3
#: Column names listed in a branch box before "+ n more".
MAX_COLUMNS = 4
#: Fill of the boxes: the input, the preprocessing steps, the model.
BOX_COLOURS = {"data": "#eeeeee", "step": "#dbe9f6", "model": "#fde2c8"}


class Box(NamedTuple):
    """One box of the diagram: a heading, lines of text below it and its role (a colour)."""

    heading: str
    lines: tuple[str, ...]
    role: str


def _short(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def _describe(estimator: Any) -> tuple[str, ...]:
    """The lines that show an estimator: scikit-learn's repr (changed parameters only), one
    line per step of a pipeline."""
    steps = getattr(estimator, "steps", None)
    if steps is not None:
        return tuple(line for _, step in steps for line in _describe(step))
    text = estimator if isinstance(estimator, str) else repr(estimator)
    lines = textwrap.wrap(" ".join(text.split()), MAX_LINE, subsequent_indent="  ")
    if len(lines) > MAX_WRAPPED:
        lines = [*lines[: MAX_WRAPPED - 1], _short(lines[MAX_WRAPPED - 1] + " …")]
    return tuple(lines)


def _columns(columns: Any) -> str:
    if isinstance(columns, str) or not hasattr(columns, "__len__"):
        return _short(f"columns: {columns}")
    names = [str(c) for c in columns]
    more = f" + {len(names) - MAX_COLUMNS} more" if len(names) > MAX_COLUMNS else ""
    return _short(f"columns: {', '.join(names[:MAX_COLUMNS])}{more}")


def _branches(name: str, step: Any) -> list[Box] | None:
    """Parallel boxes of a ColumnTransformer or FeatureUnion, else None."""
    if hasattr(step, "transformers"):  # a ColumnTransformer
        transformers = getattr(step, "transformers_", None) or step.transformers
        boxes = [
            Box(f"{name} / {branch}", (*_describe(inner), _columns(cols)), "step")
            for branch, inner, cols in transformers
            if not (branch == "remainder" and inner == "drop")
        ]
        return boxes or [Box(name, ("no column kept",), "step")]
    if hasattr(step, "transformer_list"):  # a FeatureUnion
        return [
            Box(f"{name} / {branch}", _describe(inner), "step")
            for branch, inner in step.transformer_list
        ]
    return None


def _stages(pipeline: Any, model: Any) -> list[list[Box]]:
    """The diagram's rows: the input, each step (branches side by side), the model."""
    width = getattr(pipeline, "n_features_in_", getattr(model, "n_features_in_", None))
    source = "the prepared features" if pipeline is None else "the data"
    data = f"{width} columns" if width is not None else source
    stages = [[Box("input", (data,), "data")]]
    steps = [] if pipeline is None else getattr(pipeline, "steps", [("preprocessing", pipeline)])
    for name, step in steps:
        if step is None or step == "passthrough":
            continue
        stages.append(_branches(name, step) or [Box(name, _describe(step), "step")])
    if model is not None:
        stages.append([Box("model", _describe(model), "model")])
    return stages


def _as_pipeline(pipeline: Any) -> Any:
    """A scikit-learn pipeline or transformer; clusterlab's Preprocessor gives its pipeline_."""
    if pipeline is None:
        return None
    pipeline = getattr(pipeline, "pipeline_", pipeline)
    if not hasattr(pipeline, "get_params"):
        raise TypeError(
            "pipeline must be a scikit-learn Pipeline or transformer (or clusterlab's "
            f"Preprocessor); got {type(pipeline).__name__}"
        )
    return pipeline


def plot_pipeline(
    pipeline: Any = None,
    model: Any = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Flow diagram of a preprocessing pipeline followed by the model.

    Each step is a box with scikit-learn's description of it (its changed parameters); the
    branches of a ``ColumnTransformer`` (or ``FeatureUnion``) stand side by side with the
    columns they take. Arrows show the order.

    Parameters
    ----------
    pipeline : scikit-learn Pipeline or transformer, optional
        The (fitted or unfitted) preprocessing, e.g. ``get_config('pipeline')`` of an
        experiment; clusterlab's ``Preprocessor`` is accepted for its ``pipeline_``. None
        draws the model alone on the prepared features.
    model : estimator, optional
        The clustering model, drawn as the last box.
    ax, title, save
        As in :func:`plot_clusters`.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.cluster import KMeans
    >>> from clusterlab.plots import plot_pipeline
    >>> fig = plot_pipeline(make_pipeline(StandardScaler()), KMeans(3))
    >>> fig.axes[0].get_title()
    'Pipeline: 1 step and the model'
    """
    pipeline = _as_pipeline(pipeline)
    if pipeline is None and model is None:
        raise ValueError("plot='pipeline' needs a pipeline= or a model to draw")
    stages = _stages(pipeline, model)
    widest = max(len(stage) for stage in stages)
    if ax is None:
        fig = new_figure((max(5.0, 3.2 * widest), 0.35 + 1.15 * len(stages)))
        ax = fig.add_subplot()
    else:
        fig = root_figure(ax)
    artists = _draw_boxes(ax, stages)
    for upper, lower in itertools.pairwise(artists):
        for a in upper:
            for b in lower:
                ax.annotate(
                    "",
                    xy=(0.5, 1.0),
                    xycoords=b,
                    xytext=(0.5, 0.0),
                    textcoords=a,
                    arrowprops={
                        "arrowstyle": "-|>",
                        "color": "#555555",
                        "shrinkA": 2,
                        "shrinkB": 2,
                    },
                )
    ax.set_xlim(-0.5, widest - 0.5)
    ax.set_ylim(-len(stages) + 0.5, 0.5)
    ax.set_axis_off()
    n_steps = len(stages) - 1 - (model is not None)
    default = f"Pipeline: {n_steps} step{'s' * (n_steps != 1)}"
    ax.set_title(title or (default + (" and the model" if model is not None else "")))
    return finish(fig, save)


def _draw_boxes(ax: Axes, stages: list[list[Box]]) -> list[list[Any]]:
    """Write every box (a row per stage, centred) and return the text artists by stage."""
    widest = max(len(stage) for stage in stages)
    artists = []
    for row, stage in enumerate(stages):
        offset = (widest - len(stage)) / 2
        texts = []
        for i, box in enumerate(stage):
            texts.append(
                ax.text(
                    offset + i,
                    -row,
                    "\n".join((box.heading, *box.lines)),
                    ha="center",
                    va="center",
                    fontsize="small",
                    family="monospace",
                    bbox={
                        "boxstyle": "round,pad=0.5",
                        "facecolor": BOX_COLOURS[box.role],
                        "edgecolor": "#888888",
                    },
                )
            )
        artists.append(texts)
    return artists
