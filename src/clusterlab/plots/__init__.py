"""Figures for every clustering model: one function per kind of plot, and :func:`plot_model`.

One convention everywhere: every function returns a :class:`matplotlib.figure.Figure`, draws
into ``ax=`` when given (a multi-panel plot takes that axes' place) and writes the figure when
``save=`` names a ``.png``, ``.svg`` or ``.pdf`` file. Figures are made with
:class:`matplotlib.figure.Figure`, never through pyplot, so nothing is left open in pyplot's
figure manager and any backend (Agg included) works. matplotlib is imported inside the
functions: importing clusterlab does not import it.

Conventions shared by every plot: noise (label ``-1``) is drawn grey
(:data:`NOISE_COLOUR`) and apart from the clusters; a model without centres gets centres
computed as the mean of each cluster's rows; a plot that means nothing for a model raises a
``ValueError`` naming the models or attributes it supports.

The modules, by family: :mod:`~clusterlab.plots.scatter` (cluster, cluster3d, tsne, umap,
distance), :mod:`~clusterlab.plots.segments` (silhouette, distribution, profile, feature),
:mod:`~clusterlab.plots.trees` (dendrogram, reachability, condensed_tree),
:mod:`~clusterlab.plots.selection` (elbow, k_selection, stability),
:mod:`~clusterlab.plots.pipeline` (pipeline); :mod:`~clusterlab.plots.kinds` holds
:data:`PLOT_KINDS` and :func:`plot_model`.
"""

from __future__ import annotations

from clusterlab.plots._figure import (
    NOISE_COLOUR,
    RASTERIZE_ABOVE,
    SAVE_FORMATS,
    save_figure,
    segment_colours,
)
from clusterlab.plots.kinds import PLOT_KINDS, PlotKind, check_plot_name, plot_model
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
from clusterlab.plots.selection import (
    ELBOW_SAMPLES,
    LOWER_IS_BETTER,
    MONOTONE_CRITERIA,
    plot_elbow,
    plot_k_selection,
    plot_stability,
)
from clusterlab.plots.trees import plot_condensed_tree, plot_dendrogram, plot_reachability

# The report (clusterlab.report) still imports this private name; it moves to
# segment_colours with the report's rework, and then this line goes.
_colour_map = segment_colours

__all__ = [
    "ELBOW_SAMPLES",
    "LOWER_IS_BETTER",
    "MONOTONE_CRITERIA",
    "NOISE_COLOUR",
    "PLOT_KINDS",
    "RASTERIZE_ABOVE",
    "SAVE_FORMATS",
    "PlotKind",
    "check_plot_name",
    "plot_clusters",
    "plot_clusters_3d",
    "plot_condensed_tree",
    "plot_dendrogram",
    "plot_distance",
    "plot_distribution",
    "plot_elbow",
    "plot_feature",
    "plot_k_selection",
    "plot_model",
    "plot_pipeline",
    "plot_profile",
    "plot_reachability",
    "plot_silhouette",
    "plot_stability",
    "plot_tsne",
    "plot_umap",
    "save_figure",
    "segment_colours",
]
