"""Trees of the hierarchical and density models: dendrogram, reachability, condensed tree.

These are the only drawings of these trees in clusterlab: ``CondensedTree.plot`` and
``SingleLinkageTree.plot`` of an HDBSCAN fit call the functions here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from clusterlab._base import NOISE
from clusterlab.insight._common import segment_order
from clusterlab.plots import _condensed
from clusterlab.plots._data import as_labels
from clusterlab.plots._figure import (
    figure_and_axes,
    finish,
    legend,
    plain_axes,
    segment_colours,
    segment_label,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_condensed_tree", "plot_dendrogram", "plot_reachability"]

#: Fill of the condensed tree's clusters that are not (inside) a selected cluster.
UNSELECTED_COLOUR = "#d9dde3"
#: Outline of the selected clusters when the tree is shaded by size.
OUTLINE_COLOUR = "red"


# --------------------------------------------------------------------------------------------
# dendrogram


def _linkage_matrix(model: Any) -> np.ndarray:
    """A scipy linkage matrix from a linkage array, a model's ``linkage_matrix_`` /
    ``linkage_``, a single-linkage tree (``to_numpy()``, or an HDBSCAN's
    ``single_linkage_tree_``), or scikit-learn's ``children_`` + ``distances_``."""
    candidate = _own_linkage(model)
    if candidate is not None:
        Z = np.asarray(candidate, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != 4:
            raise ValueError(f"a linkage matrix has shape (n - 1, 4); got {Z.shape}")
        return Z
    children = getattr(model, "children_", None)
    if children is None:
        raise ValueError(
            "plot='dendrogram' needs a hierarchical model: AgglomerativeClustering (children_ "
            "and distances_), a model with linkage_matrix_, an HDBSCAN (its single-linkage "
            f"tree), or a scipy linkage matrix; got {type(model).__name__}"
        )
    distances = getattr(model, "distances_", None)
    if distances is None:
        raise ValueError(
            f"{type(model).__name__} was fitted without merge distances: refit it with "
            "compute_distances=True (or a distance_threshold) to draw its dendrogram"
        )
    children = np.asarray(children, dtype=np.int64)
    n = children.shape[0] + 1
    counts = np.zeros(children.shape[0])
    for i, (a, b) in enumerate(children):
        counts[i] = (1 if a < n else counts[a - n]) + (1 if b < n else counts[b - n])
    return np.column_stack([children, np.asarray(distances, dtype=np.float64), counts])


def _own_linkage(model: Any) -> Any:
    """The linkage matrix ``model`` is or carries, or None."""
    if isinstance(model, np.ndarray):
        return model
    for attribute in ("linkage_matrix_", "linkage_"):
        if getattr(model, attribute, None) is not None:
            return getattr(model, attribute)
    tree = getattr(model, "single_linkage_tree_", None)
    if tree is None and hasattr(model, "to_numpy") and not hasattr(model, "children_"):
        tree = model
    return None if tree is None else tree.to_numpy()


def _is_single_linkage(model: Any) -> bool:
    """A single-linkage tree of mutual reachability distances (HDBSCAN's), not a model's cut."""
    return hasattr(model, "single_linkage_tree_") or (
        hasattr(model, "to_numpy") and not isinstance(model, np.ndarray)
    )


def plot_dendrogram(
    model: Any,
    *,
    n_clusters: int | None = None,
    truncate: int | None = 30,
    truncate_mode: Literal["lastp", "level"] = "lastp",
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Dendrogram of a hierarchical model, truncated to its top ``truncate`` merges.

    Parameters
    ----------
    model : fitted hierarchical model, single-linkage tree or linkage matrix
        A model with ``linkage_matrix_`` / ``linkage_`` (scipy's format; used first),
        ``AgglomerativeClustering`` fitted with ``compute_distances=True`` (or a
        ``distance_threshold``), an HDBSCAN fit (its ``single_linkage_tree_`` of mutual
        reachability distances), a tree with ``to_numpy()`` giving a linkage matrix, or a scipy
        linkage matrix of shape (n - 1, 4).
    n_clusters : int, optional
        Draw the cut that gives this many clusters; default the model's ``n_clusters_``
        (no cut for a single-linkage tree, whose clusters are not a cut).
    truncate : int or None, default=30
        With ``truncate_mode="lastp"``, the leaves shown (a leaf's label gives its size); with
        ``"level"``, the levels of merges shown. None draws every merge, without leaf labels.
    truncate_mode : {"lastp", "level"}, default="lastp"
        scipy's truncation rule.
    ax, title, save
        As in :func:`plot_clusters`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import AgglomerativeClustering
    >>> from clusterlab.plots import plot_dendrogram
    >>> X = np.random.default_rng(0).normal(size=(40, 2))
    >>> model = AgglomerativeClustering(3, compute_distances=True).fit(X)
    >>> plot_dendrogram(model).axes[0].get_title()
    'Dendrogram (cut at 3 clusters)'
    """
    from scipy.cluster.hierarchy import dendrogram

    Z = _linkage_matrix(model)
    if not np.all(np.diff(Z[:, 2]) >= 0):
        Z = Z.copy()
        Z[:, 2] = np.maximum.accumulate(Z[:, 2])  # monotone heights, so that the drawing is a tree
    single = _is_single_linkage(model)
    k = n_clusters if n_clusters is not None or single else getattr(model, "n_clusters_", None)
    cut = 0.5 * (Z[-k, 2] + Z[-(k - 1), 2]) if k is not None and 1 < k <= Z.shape[0] else None
    fig, ax = figure_and_axes(ax, (8.0, 5.0))
    dendrogram(
        Z,
        ax=ax,
        truncate_mode=None if truncate is None else truncate_mode,
        p=truncate or 0,
        no_labels=truncate is None,
        color_threshold=cut,
        above_threshold_color="#555555",
        leaf_rotation=90,
        leaf_font_size=8,
    )
    if cut is not None:
        ax.axhline(cut, color="black", linestyle="--", linewidth=1, label=f"cut: {k} clusters")
        ax.legend(frameon=False, fontsize="small")
    ax.set_ylabel("mutual reachability distance" if single else "merge distance")
    ax.set_xlabel("rows (leaf label = size of a truncated branch)")
    default = f"Dendrogram (cut at {k} clusters)" if cut is not None else "Dendrogram"
    ax.set_title(title or default)
    plain_axes(ax)
    return finish(fig, save)


# --------------------------------------------------------------------------------------------
# reachability


def plot_reachability(
    model: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """OPTICS reachability plot: reachability distance in cluster order, coloured by segment.

    Valleys are clusters; noise is grey. Needs ``reachability_``, ``ordering_`` and
    ``labels_`` (OPTICS).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import OPTICS
    >>> from clusterlab.plots import plot_reachability
    >>> X = np.random.default_rng(0).normal(size=(60, 2))
    >>> plot_reachability(OPTICS(min_samples=5).fit(X)).axes[0].get_title()
    'Reachability (OPTICS)'
    """
    for attribute in ("reachability_", "ordering_", "labels_"):
        if not hasattr(model, attribute):
            raise ValueError(
                "plot='reachability' needs a model with reachability_ and ordering_ "
                f"(OPTICS); {type(model).__name__} has no {attribute}"
            )
    order = np.asarray(model.ordering_)
    reach = np.asarray(model.reachability_, dtype=np.float64)[order]
    y = as_labels(model.labels_, reach.size)[order]
    finite = np.isfinite(reach)
    top = float(reach[finite].max()) if finite.any() else 1.0
    reach = np.where(finite, reach, top * 1.05)  # the first point (and unreachable ones)
    fig, ax = figure_and_axes(ax, (9.0, 4.2))
    palette = segment_colours(y)
    x = np.arange(reach.size)
    entries = segment_order(y)
    for label in entries:
        mask = y == label
        ax.fill_between(
            x,
            0,
            np.where(mask, reach, np.nan),
            step="mid",
            color=palette[label],
            linewidth=0,
            label=segment_label(label, int(mask.sum())),
        )
    eps = getattr(model, "eps", None)
    if getattr(model, "cluster_method", None) == "dbscan" and eps is not None:
        ax.axhline(eps, color="black", linestyle="--", linewidth=1, label=f"eps = {eps:g}")
    ax.set_xlim(0, reach.size)
    ax.set_ylim(0, top * 1.08)
    ax.set_xlabel("rows in cluster order")
    ax.set_ylabel("reachability distance")
    ax.set_title(title or "Reachability (OPTICS)")
    plain_axes(ax)
    legend(ax, len(entries))
    return finish(fig, save)


# --------------------------------------------------------------------------------------------
# condensed tree


def _tree_and_labels(model: Any) -> tuple[Any, Any, str]:
    """The condensed tree, the labels and the selection method of ``model`` (or of a tree)."""
    tree = getattr(model, "condensed_tree_", None)
    if tree is not None:
        method = getattr(model, "cluster_selection_method", "eom")
        return tree, getattr(model, "labels_", None), method
    if _condensed.is_tree(model):
        return model, None, "eom"
    raise ValueError(
        "plot='condensed_tree' needs a model with condensed_tree_ (HDBSCAN) or a condensed "
        f"tree; {type(model).__name__} has none"
    )


def _segment_fill(
    tree: _condensed.Tree, steps: _condensed.Icicle, segment: dict[int, int]
) -> np.ndarray:
    """RGBA of each step: its selected cluster's segment colour (lighter below the selected
    cluster itself, where the tree still splits), light grey outside every selected cluster."""
    from matplotlib.colors import to_rgba

    palette = segment_colours(np.array(list(segment.values()), dtype=np.int64))
    parents = _condensed.cluster_parents(tree)
    fill = {}
    for node in np.unique(steps.node).tolist():
        owner = node
        while owner not in segment and owner in parents:
            owner = parents[owner]
        if owner in segment:
            fill[node] = to_rgba(palette[segment[owner]], 0.95 if owner == node else 0.4)
        else:
            fill[node] = to_rgba(UNSELECTED_COLOUR, 0.95)
    return np.array([fill[n] for n in steps.node.tolist()]).reshape(-1, 4)


def _size_fill(steps: _condensed.Icicle, cmap: str, log_size: bool) -> tuple[np.ndarray, Any]:
    """RGBA of each step by the number of points still in it, and the colour scale."""
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm, Normalize

    top = max(float(steps.width.max(initial=1.0)), 1.0)
    norm = LogNorm(1.0, max(top, 1.0 + 1e-9)) if log_size else Normalize(0.0, top)
    return colormaps[cmap](norm(steps.width)), (colormaps[cmap], norm)


def _outline(ax: Axes, steps: _condensed.Icicle, segment: dict[int, int]) -> None:
    """A box around each selected cluster's own column, with its segment id."""
    from matplotlib.patches import Rectangle

    for node, label in segment.items():
        mine = steps.node == node
        if not mine.any():
            continue
        x0 = float((steps.centre[mine] - steps.width[mine] / 2).min())
        x1 = float((steps.centre[mine] + steps.width[mine] / 2).max())
        y0, y1 = float(steps.bottom[mine].min()), float(steps.top[mine].max())
        ax.add_patch(
            Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=OUTLINE_COLOUR, lw=1.5)
        )
        ax.annotate(str(label), (x1, y0), color=OUTLINE_COLOUR, fontsize=8)


def plot_condensed_tree(
    model: Any,
    *,
    select_clusters: bool = True,
    cmap: str | None = None,
    log_size: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """HDBSCAN condensed tree as an icicle plot: each cluster a column whose width is the
    number of rows still in it at density level lambda (downwards = denser).

    The selection is the tree's ``selected_clusters`` when it has them (clusterlab's
    HDBSCAN), else it is recomputed from the tree (excess of mass, or leaves with the model's
    ``cluster_selection_method="leaf"``). A selected cluster's segment is the one that holds
    most of its rows (by the model's ``labels_``), or its position in the selection.

    Parameters
    ----------
    model : fitted HDBSCAN or condensed tree
        A model with ``condensed_tree_`` and ``labels_``, or the tree itself: clusterlab's or
        hdbscan's ``CondensedTree``, or a structured array / table with parent, child,
        lambda_val (or value) and child_size (or cluster_size).
    select_clusters : bool, default=True
        Show the flat clustering: the selected clusters are coloured like their segments
        (or, with ``cmap``, outlined in red and numbered).
    cmap : str, optional
        Shade every step by the number of points still in the cluster with this matplotlib
        colour map (hdbscan's picture), instead of colouring by segment.
    log_size : bool, default=False
        With ``cmap``, shade by the logarithm of the number of points.
    ax, title, save
        As in :func:`plot_clusters`.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster.hdbscan import HDBSCAN
    >>> from clusterlab.plots import plot_condensed_tree
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 0.3, (40, 2)), rng.normal(5, 0.3, (40, 2))])
    >>> plot_condensed_tree(HDBSCAN(min_cluster_size=10).fit(X)).axes[0].get_title()
    'Condensed tree (2 selected clusters)'
    """
    raw, labels, method = _tree_and_labels(model)
    tree = _condensed.tree_arrays(raw)
    own = getattr(raw, "selected_clusters", None)
    selected = [int(c) for c in own] if own is not None else None
    if selected is None:
        selected = _condensed.select_clusters(tree, method)
    segment = _condensed.segments_of(tree, selected, labels) if select_clusters else {}
    steps = _condensed.icicle(tree)
    fig, ax = figure_and_axes(ax, (8.0, 5.5))
    if cmap is None:
        _draw_icicle(ax, steps, _segment_fill(tree, steps, segment))
        _segment_legend(ax, segment)
    else:
        from matplotlib.cm import ScalarMappable

        fill, (scale_map, norm) = _size_fill(steps, cmap, log_size)
        _draw_icicle(ax, steps, fill)
        fig.colorbar(ScalarMappable(norm, scale_map), ax=ax, label="points in the cluster")
        _outline(ax, steps, segment)
    _draw_splits(ax, tree, steps)
    ax.set_title(title or f"Condensed tree ({len(selected)} selected clusters)")
    return finish(fig, save)


def _draw_icicle(ax: Axes, steps: _condensed.Icicle, fill: np.ndarray) -> None:
    """Every step as a filled rectangle (one collection), lambda growing downwards."""
    from matplotlib.collections import PolyCollection

    left, right = steps.centre - steps.width / 2, steps.centre + steps.width / 2
    corners = [(left, steps.bottom), (left, steps.top), (right, steps.top), (right, steps.bottom)]
    boxes = np.stack([np.column_stack(corner) for corner in corners], axis=1)
    ax.add_collection(PolyCollection(boxes, facecolors=fill, linewidths=0), autolim=False)
    ax.set_xlim(float(left.min(initial=0.0)), float(right.max(initial=1.0)))
    ax.set_ylim(max(float(steps.top.max(initial=0.0)), 1e-12) * 1.02, 0.0)  # denser downwards
    ax.set_xticks([])
    ax.set_ylabel("λ = 1 / distance (down = denser)")
    ax.spines[["top", "right", "bottom"]].set_visible(False)


def _segment_legend(ax: Axes, segment: dict[int, int]) -> None:
    """A legend entry per segment of the selected clusters."""
    from matplotlib.patches import Patch

    if not segment:
        return
    ids = np.array(list(segment.values()), dtype=np.int64)
    palette = segment_colours(ids)
    handles = [
        Patch(color=palette[s], label="noise" if s == NOISE else f"segment {s}")
        for s in segment_order(ids)
    ]
    ax.legend(handles=handles, frameon=False, fontsize="small", loc="lower right")


def _draw_splits(ax: Axes, tree: _condensed.Tree, steps: _condensed.Icicle) -> None:
    """A horizontal line joining each child cluster to its parent at the split's lambda."""
    from matplotlib.collections import LineCollection

    split = tree.size > 1
    parents, children, levels = tree.parent[split], tree.child[split], tree.lam[split]
    segments = [
        [(steps.node_centre[int(p)], lam), (steps.node_centre[int(c)], lam)]
        for p, c, lam in zip(parents, children, levels.tolist(), strict=True)
    ]
    if segments:
        ax.add_collection(LineCollection(segments, colors="#555555", linewidths=0.8))
