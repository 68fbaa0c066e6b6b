"""Every kind of plot by name (:data:`PLOT_KINDS`), and :func:`plot_model`, which looks one up.

A kind is its draw function and what that function needs from the model and the data
(``needs``, met by :mod:`clusterlab.plots._inputs`). Adding a kind is one entry here.

:func:`plot_model` takes PyCaret 3's ``plot_model`` options, with PyCaret's meaning:

``feature``
    A column of ``data``. 'distribution' draws that feature's distribution stacked by segment
    (a histogram, or counts per category) instead of the segment sizes; 'feature' draws that
    one panel; with ``label=True``, the scatter kinds ('cluster', 'cluster3d', 'tsne',
    'umap') write its value beside each point, the first column by default. PyCaret also
    shows it as a hover tooltip, which a static figure does not have; the other kinds ignore
    it, as PyCaret's do.
``label``
    True writes each point's value of ``feature`` beside it in the scatter kinds (at most
    300 points, a uniform sample, so that the plot stays readable).
``scale``
    The resolution scale: the figure's dots per inch, on screen and in a saved raster file,
    are multiplied by it; its size in inches stays.
``display_format``
    ``"streamlit"`` shows the figure in the running Streamlit app (``streamlit.pyplot``;
    needs streamlit) unless it is saved; None only returns it.
``save``
    True or an existing folder writes ``<folder>/<display name>.png`` (``Elbow Plot.png``
    ...) and returns its path, as PyCaret returns the file name; a file name ending in .png,
    .svg or .pdf writes that file and returns the figure.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from clusterlab.plots._figure import SAVE_DPI, SAVE_FORMATS, save_figure
from clusterlab.plots._inputs import PlotInputs
from clusterlab.plots.pipeline import plot_pipeline
from clusterlab.plots.scatter import (
    plot_clusters,
    plot_clusters_3d,
    plot_distance,
    plot_tsne,
    plot_umap,
)
from clusterlab.plots.segments import (
    plot_distribution,
    plot_feature,
    plot_profile,
    plot_silhouette,
)
from clusterlab.plots.selection import plot_elbow, plot_k_selection, plot_stability
from clusterlab.plots.trees import plot_condensed_tree, plot_dendrogram, plot_reachability

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PLOT_KINDS", "PlotKind", "check_plot_name", "plot_model"]

#: Values of ``display_format`` (PyCaret's): None, or "streamlit" to show the figure in a
#: Streamlit app.
DISPLAY_FORMATS = (None, "streamlit")


@dataclass(frozen=True)
class PlotKind:
    """One kind of plot :func:`plot_model` draws.

    Attributes
    ----------
    name : str
        The ``plot=`` value.
    display_name : str
        Its name in words (PyCaret's where PyCaret has the plot); ``save=<folder>`` writes
        ``<folder>/<display_name>.png``.
    draw : callable
        The public function that draws it; it takes ``ax=`` and ``save=`` and returns a Figure.
    needs : tuple of str
        What :func:`plot_model` gathers for ``draw``, in order: ``"X"`` (the prepared features),
        ``"labels"``, ``"data"`` (the original data), ``"model"``, ``"pipeline"``,
        ``"centres"`` (the model's, as ``centers=``), ``"point_labels"`` / ``"feature_values"``
        / ``"features"`` (from PyCaret's ``feature=`` and ``label=``), ``"elbow"`` (the inertia
        curve), ``"selection"`` (a choose_k result), ``"stability"`` (a stability result).
    """

    name: str
    display_name: str
    draw: Callable[..., Figure]
    needs: tuple[str, ...]


_SCATTER = ("X", "labels", "centres", "point_labels")

#: Every kind :func:`plot_model` draws, by name.
PLOT_KINDS: MappingProxyType[str, PlotKind] = MappingProxyType(
    {
        kind.name: kind
        for kind in (
            PlotKind("cluster", "Cluster PCA Plot (2d)", plot_clusters, _SCATTER),
            PlotKind("cluster3d", "Cluster PCA Plot (3d)", plot_clusters_3d, _SCATTER),
            PlotKind("tsne", "Cluster t-SNE (2d)", plot_tsne, ("X", "labels", "point_labels")),
            PlotKind("umap", "Cluster UMAP (2d)", plot_umap, ("X", "labels", "point_labels")),
            PlotKind("elbow", "Elbow Plot", plot_elbow, ("elbow",)),
            PlotKind("silhouette", "Silhouette Plot", plot_silhouette, ("X", "labels")),
            PlotKind("distance", "Distance Plot", plot_distance, ("X", "labels", "centres")),
            PlotKind(
                "distribution",
                "Distribution Plot",
                plot_distribution,
                ("labels", "feature_values"),
            ),
            PlotKind("profile", "Profile Plot", plot_profile, ("data", "labels")),
            PlotKind("feature", "Feature Plot", plot_feature, ("data", "labels", "features")),
            PlotKind("dendrogram", "Dendrogram", plot_dendrogram, ("model",)),
            PlotKind("reachability", "Reachability Plot", plot_reachability, ("model",)),
            PlotKind("condensed_tree", "Condensed Tree", plot_condensed_tree, ("model",)),
            PlotKind("k_selection", "K Selection Plot", plot_k_selection, ("selection",)),
            PlotKind("stability", "Stability Plot", plot_stability, ("stability",)),
            PlotKind("pipeline", "Pipeline Plot", plot_pipeline, ("pipeline", "model")),
        )
    }
)


def check_plot_name(plot: Any) -> str:
    """Return the plot kind, or raise naming the closest valid kinds.

    Examples
    --------
    >>> from clusterlab.plots import check_plot_name
    >>> check_plot_name("silhouete")
    Traceback (most recent call last):
    ...
    ValueError: unknown plot 'silhouete'; did you mean 'silhouette'? Plots are: cluster, ...
    """
    if not isinstance(plot, str):
        raise TypeError(f"plot must be a str, one of {', '.join(PLOT_KINDS)}; got {plot!r}")
    key = plot.strip().lower().replace("-", "_")
    if key in PLOT_KINDS:
        return key
    close = difflib.get_close_matches(key, PLOT_KINDS, n=2, cutoff=0.6)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise ValueError(f"unknown plot {plot!r}; {hint}Plots are: {', '.join(PLOT_KINDS)}")


def _check_options(save: Any, label: Any, scale: Any, display_format: Any) -> Path | None:
    """The folder ``save`` names (None for a file or no save), after checking the options."""
    if not isinstance(label, bool):
        raise TypeError(f"label must be True or False; got {label!r}")
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not scale > 0:
        raise ValueError(f"scale must be a positive number; got {scale!r}")
    if display_format not in DISPLAY_FORMATS:
        raise ValueError(f"display_format must be None or 'streamlit'; got {display_format!r}")
    if save is None or save is False:
        return None
    if save is True:
        return Path()
    path = Path(save)
    if path.is_dir():
        return path
    if path.suffix.lower() not in SAVE_FORMATS:
        raise ValueError(
            "save must be a file name ending in .png, .svg or .pdf, or an existing folder; "
            f"got {str(path)!r}"
        )
    return None


def _output(fig: Figure, save: Any, *, scale: float, display_format: str | None) -> Figure:
    """Write the figure to the file ``save`` names, or show it in Streamlit; return it."""
    if save is not None and save is not False:
        save_figure(fig, save, dpi=SAVE_DPI * scale)
    elif display_format == "streamlit":
        _show_in_streamlit(fig)
    return fig


def _show_in_streamlit(fig: Figure) -> None:
    try:
        import streamlit
    except ImportError as exc:
        raise ImportError(
            "display_format='streamlit' shows the figure in a Streamlit app and needs "
            "streamlit: pip install streamlit"
        ) from exc
    streamlit.pyplot(fig)


def plot_model(
    model: Any,
    X: Any,
    labels: Any = None,
    *,
    plot: str = "cluster",
    data: Any = None,
    feature_names: Sequence[str] | None = None,
    save: str | Path | bool | None = None,
    feature: str | None = None,
    label: bool = False,
    scale: float = 1.0,
    display_format: str | None = None,
    pipeline: Any = None,
    **kwargs: Any,
) -> Figure | str:
    """Draw one kind of plot for a fitted clustering model.

    Parameters
    ----------
    model : fitted clustering estimator
        Any scikit-learn-compatible clustering model.
    X : array-like of shape (n_samples, n_features)
        The prepared feature matrix the model was fitted on.
    labels : array-like of shape (n_samples,), optional
        Segment of each row; default ``model.labels_`` (or ``model.predict(X)``).
    plot : str, default="cluster"
        A name of :data:`PLOT_KINDS` ('cluster', 'tsne', 'elbow', 'silhouette', 'distance',
        'distribution', 'dendrogram', 'pipeline' ...).
    data : pandas.DataFrame, optional
        The original data of the same rows, for 'profile', 'feature' and ``feature``;
        default X.
    feature_names : sequence of str, optional
        Names of X's columns when X is an array.
    save, feature, label, scale, display_format
        PyCaret's options, with PyCaret's meaning (see :mod:`clusterlab.plots.kinds`); save
        also takes a .png / .svg / .pdf file name.
    pipeline : scikit-learn Pipeline, optional
        The fitted preprocessing, for 'pipeline' (see :func:`plot_pipeline`).
    **kwargs
        Passed to the plot's function (``ax=``, ``title=``, ``max_samples`` ...), or met by
        its needs (:class:`PlotKind`): ``k_range``, ``ks`` / ``inertias`` for 'elbow',
        ``selection`` / ``stability`` / ``scores`` (clusterlab.selection's results).

    Returns
    -------
    matplotlib.figure.Figure, or str
        The figure; the path of the file written when ``save`` is a folder or True.

    Raises
    ------
    ValueError
        For an unknown plot name (with a suggestion), or a plot that means nothing for the
        model, naming the models or attributes it needs.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from clusterlab.plots import plot_model
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> model = KMeans(3, n_init=3, random_state=0).fit(X)
    >>> plot_model(model, X, plot="distribution").axes[0].get_title()
    'Segment sizes (100 rows)'
    """
    kind = PLOT_KINDS[check_plot_name(plot)]
    folder = _check_options(save, label, scale, display_format)
    given = {"data": data, "feature_names": feature_names, "feature": feature, "label": label}
    inputs = PlotInputs(model, X, labels, **given, pipeline=pipeline, options=dict(kwargs))
    args, keywords = inputs.gather(kind.needs)
    fig = kind.draw(*args, **keywords)
    fig.set_dpi(fig.get_dpi() * scale)
    if folder is not None:
        return str(save_figure(fig, folder / f"{kind.display_name}.png", dpi=SAVE_DPI * scale))
    return _output(fig, save, scale=scale, display_format=display_format)
