"""Point clouds of the segments: PCA (2-D and 3-D), t-SNE, UMAP, and the intercluster distance map.

Noise (label ``-1``) is drawn as grey crosses underneath the clusters; a model without centres
gets centres computed as the mean of each cluster's rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from clusterlab._base import NOISE
from clusterlab.plots._data import as_labels, as_matrix, centres, clusters, project, sample_rows
from clusterlab.plots._figure import (
    RASTERIZE_ABOVE,
    colours,
    figure_and_axes,
    finish,
    legend,
    point_size,
    segment_colours,
    segment_label,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_clusters", "plot_clusters_3d", "plot_distance", "plot_tsne", "plot_umap"]

#: At most this many points get their ``point_labels`` written beside them (a uniform sample):
#: more would hide the plot under the text.
MAX_POINT_LABELS = 300


def _scatter_segments(ax: Axes, coords: np.ndarray, labels: np.ndarray, **style: Any) -> None:
    """One collection per segment, noise first (underneath) in grey crosses."""
    palette = segment_colours(labels)
    size = point_size(coords.shape[0])
    rasterized = coords.shape[0] > RASTERIZE_ABOVE
    order = ([NOISE] if np.any(labels == NOISE) else []) + clusters(labels).tolist()
    for label in order:
        mask = labels == label
        noise = label == NOISE
        ax.scatter(
            *(coords[mask, i] for i in range(coords.shape[1])),
            s=size * (0.7 if noise else 1.0),
            color=palette[label],
            marker="x" if noise else "o",
            alpha=0.5 if noise else 0.8,
            linewidths=0.6 if noise else 0,
            label=segment_label(label, int(mask.sum())),
            rasterized=rasterized,
            zorder=1 if noise else 2,
            **style,
        )


def _draw_centres(ax: Axes, coords: np.ndarray, size: float, **style: Any) -> None:
    """The centres as white, black-edged diamonds, labelled "centres" in the legend."""
    ax.scatter(
        *(coords[:, i] for i in range(coords.shape[1])),
        s=size,
        marker="D",
        color="white",
        edgecolors="black",
        linewidths=1.4,
        label="centres",
        **style,
    )


def _as_point_labels(point_labels: Any, n: int) -> np.ndarray | None:
    """``point_labels`` as an object array of one text per row, or None."""
    if point_labels is None:
        return None
    values = np.asarray(point_labels, dtype=object)
    if values.shape != (n,):
        raise ValueError(
            f"point_labels must have one entry per row ({n}); got shape {values.shape}"
        )
    return values


def _annotate_points(ax: Axes, coords: np.ndarray, texts: np.ndarray | None) -> None:
    """Write ``texts[i]`` beside point ``i`` (a sample of :data:`MAX_POINT_LABELS` at most)."""
    if texts is None:
        return
    rows = sample_rows(coords.shape[0], MAX_POINT_LABELS, random_state=0)
    for i in range(coords.shape[0]) if rows is None else rows:
        ax.text(*coords[i], f" {texts[i]}", fontsize="xx-small", va="center", zorder=4)


def plot_clusters(
    X: Any,
    labels: Any,
    *,
    centers: Any = None,
    show_centers: bool = True,
    point_labels: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """2-D scatter of the segments: the features themselves when X has two, else PCA.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The prepared feature matrix the model was fitted on.
    labels : array-like of shape (n_samples,)
        Segment of each row; noise (-1) is drawn as grey crosses underneath.
    centers : array-like of shape (n_clusters, n_features), optional
        The model's centres; by default each cluster's mean.
    show_centers : bool, default=True
        Mark the centres with black-edged diamonds.
    point_labels : array-like of shape (n_samples,), optional
        Text written beside each point, e.g. a column of the original data (PyCaret's
        ``label=True``). At most :data:`MAX_POINT_LABELS` points, a uniform sample, are written.
    ax : matplotlib Axes, optional
        Draw here instead of in a new figure.
    title : str, optional
        Defaults to "Segments (PCA)" or "Segments".
    save : str or Path, optional
        Write the figure to this .png / .svg / .pdf file.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.plots import plot_clusters
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> fig = plot_clusters(X, (X[:, 0] > 0).astype(int))
    >>> fig.axes[0].get_title()
    'Segments (PCA)'
    """
    array, names = as_matrix(X)
    y = as_labels(labels, array.shape[0])
    coords, axis, transform = project(array, names, 2)
    fig, ax = figure_and_axes(ax, (7.0, 5.5))
    _scatter_segments(ax, coords, y)
    n_entries = len(np.unique(y))
    if show_centers and clusters(y).size:
        _draw_centres(ax, transform(centres(array, y, centers)), 90, zorder=3)
        n_entries += 1
    _annotate_points(ax, coords, _as_point_labels(point_labels, array.shape[0]))
    ax.set_xlabel(axis[0])
    ax.set_ylabel(axis[1])
    ax.set_title(title or ("Segments (PCA)" if array.shape[1] != 2 else "Segments"))
    legend(ax, n_entries, marker_area=point_size(array.shape[0]))
    return finish(fig, save)


def plot_clusters_3d(
    X: Any,
    labels: Any,
    *,
    centers: Any = None,
    point_labels: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """3-D scatter of the segments on the first three principal components.

    Same parameters as :func:`plot_clusters`; ``ax`` must be a 3-D axes
    (``projection="3d"``).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.plots import plot_clusters_3d
    >>> X = np.random.default_rng(0).normal(size=(50, 4))
    >>> plot_clusters_3d(X, (X[:, 0] > 0).astype(int)).axes[0].name
    '3d'
    """
    array, names = as_matrix(X)
    y = as_labels(labels, array.shape[0])
    if ax is not None and getattr(ax, "name", "") != "3d":
        raise ValueError("ax must be a 3-D axes (add_subplot(projection='3d')) for 'cluster3d'")
    coords, axis, transform = project(array, names, 3)
    fig, ax = figure_and_axes(ax, (7.5, 6.0), projection="3d")
    _scatter_segments(ax, coords, y, depthshade=False)
    n_entries = len(np.unique(y))
    if clusters(y).size:
        _draw_centres(ax, transform(centres(array, y, centers)), 80, depthshade=False)
        n_entries += 1
    _annotate_points(ax, coords, _as_point_labels(point_labels, array.shape[0]))
    for setter, text in zip((ax.set_xlabel, ax.set_ylabel, ax.set_zlabel), axis, strict=True):
        setter(text.split(" (")[0], fontsize="small")
    ax.set_title(title or "Segments (3-D PCA)")
    legend(ax, n_entries, marker_area=point_size(array.shape[0]))
    return finish(fig, save)


def _embedding_input(
    X: Any, labels: Any, max_samples: int | None, random_state: int, point_labels: Any
) -> tuple[np.ndarray, np.ndarray, int, Any]:
    """The rows to embed (a sample above ``max_samples``), PCA-reduced to 50 dimensions when
    there are more (as t-SNE / UMAP users usually do), their labels and point labels, and the
    number of rows in all."""
    array, _ = as_matrix(X)
    n_total = array.shape[0]
    y = as_labels(labels, n_total)
    rows = sample_rows(n_total, max_samples, random_state)
    texts = _as_point_labels(point_labels, n_total)
    if rows is not None:
        array, y = array[rows], y[rows]
        texts = None if texts is None else texts[rows]
    if array.shape[1] > 50:
        from sklearn.decomposition import PCA

        array = PCA(n_components=50, random_state=random_state).fit_transform(array)
    return array, y, n_total, texts


def _embedding_plot(
    coords: np.ndarray,
    y: np.ndarray,
    method: str,
    *,
    n_total: int,
    point_labels: Any,
    ax: Axes | None,
    title: str | None,
    save: str | Path | None,
) -> Figure:
    fig, ax = figure_and_axes(ax, (7.0, 5.5))
    _scatter_segments(ax, coords, y)
    _annotate_points(ax, coords, point_labels)
    shown = coords.shape[0]
    subtitle = f"{shown:,} rows" if shown == n_total else f"sample of {shown:,} of {n_total:,} rows"
    ax.set_title(title or f"{method} ({subtitle})")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(f"{method} 1")
    ax.set_ylabel(f"{method} 2")
    legend(ax, len(np.unique(y)), marker_area=point_size(shown))
    return finish(fig, save)


def plot_tsne(
    X: Any,
    labels: Any,
    *,
    max_samples: int | None = 1000,
    perplexity: float = 30.0,
    max_iter: int = 350,
    angle: float = 0.7,
    n_jobs: int = 1,
    random_state: int = 0,
    point_labels: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """t-SNE map of the segments (scikit-learn's Barnes-Hut t-SNE) on a sample of rows.

    Parameters
    ----------
    X, labels
        As in :func:`plot_clusters`.
    max_samples : int or None, default=1000
        Embed a uniform random sample of at most this many rows (t-SNE is slow and a map of a
        thousand points shows the structure); ``None`` embeds every row.
    perplexity : float, default=30
        Lowered to ``(n - 1) / 3`` for tiny samples, as t-SNE requires.
    max_iter : int, default=350
        Optimisation steps: scikit-learn's 250 early-exaggeration steps, then the rest. A map
        for a picture settles quickly; raise it for a publication figure.
    angle : float, default=0.7
        Barnes-Hut accuracy (scikit-learn's default 0.5 is slower and looks the same here).
    n_jobs : int, default=1
        OpenMP threads for the gradient. One thread keeps the map identical everywhere and is
        much faster on a busy machine (spinning threads on shared cores cost 3-4x).
    random_state : int, default=0
        Seed of the sample and of t-SNE.
    point_labels, ax, title, save
        As in :func:`plot_clusters` (``point_labels`` has one entry per row of X).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.plots import plot_tsne
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> plot_tsne(X, np.zeros(60, dtype=int), max_iter=250).axes[0].get_title()
    't-SNE (60 rows)'
    """
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    sub, y, n_total, texts = _embedding_input(X, labels, max_samples, random_state, point_labels)
    if sub.shape[0] < 5:
        raise ValueError(f"plot='tsne' needs at least 5 rows; got {sub.shape[0]}")
    tsne = TSNE(
        n_components=2,
        perplexity=min(perplexity, (sub.shape[0] - 1) / 3),
        max_iter=max_iter,
        angle=angle,
        init="pca",
        learning_rate="auto",
        random_state=random_state,
    )
    with threadpool_limits(limits=n_jobs, user_api="openmp"):
        coords = tsne.fit_transform(sub)
    return _embedding_plot(
        coords, y, "t-SNE", n_total=n_total, point_labels=texts, ax=ax, title=title, save=save
    )


def plot_umap(
    X: Any,
    labels: Any,
    *,
    max_samples: int | None = 20_000,
    n_neighbors: int = 15,
    random_state: int = 0,
    point_labels: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """UMAP map of the segments (needs the optional package umap-learn).

    Parameters are as in :func:`plot_tsne`; ``n_neighbors`` is UMAP's.

    Raises
    ------
    ImportError
        When umap-learn is not installed, saying how to install it.
    """
    try:
        import umap
    except ImportError as exc:
        raise ImportError(
            "plot='umap' needs the optional package umap-learn: pip install umap-learn "
            "(or use plot='tsne', which needs nothing extra)"
        ) from exc
    sub, y, n_total, texts = _embedding_input(X, labels, max_samples, random_state, point_labels)
    reducer = umap.UMAP(n_neighbors=min(n_neighbors, sub.shape[0] - 1), random_state=random_state)
    coords = reducer.fit_transform(sub)
    return _embedding_plot(
        coords, y, "UMAP", n_total=n_total, point_labels=texts, ax=ax, title=title, save=save
    )


def _members(X: np.ndarray, labels: np.ndarray, centre_array: np.ndarray) -> np.ndarray:
    """Rows per centre: the cluster sizes when the centres are the clusters', else the rows
    nearest each centre (a model whose centres are not one per cluster)."""
    ids = clusters(labels)
    if len(centre_array) == ids.size:
        return np.array([np.sum(labels == c) for c in ids])
    nearest = np.argmin(((X[:, None, :] - centre_array[None]) ** 2).sum(-1), axis=1)
    return np.bincount(nearest, minlength=len(centre_array))


def plot_distance(
    X: Any,
    labels: Any,
    *,
    centers: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Intercluster distance map: centres placed by classical MDS, sized by membership.

    Classical (Torgerson) MDS of Euclidean distances between centres is the PCA of the
    centres, so the map is exact for up to three clusters and the best 2-D fit beyond.
    Noise has no centre and is left out. Needs at least two clusters.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.plots import plot_distance
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> fig = plot_distance(X, np.arange(60) % 3)
    >>> len(fig.axes[0].collections[0].get_offsets())
    3
    """
    array, _ = as_matrix(X)
    y = as_labels(labels, array.shape[0])
    ids = clusters(y)
    if ids.size < 2:
        raise ValueError(f"plot='distance' needs at least 2 clusters (noise aside); got {ids.size}")
    centre_array = centres(array, y, centers)
    u, s, _ = np.linalg.svd(centre_array - centre_array.mean(axis=0), full_matrices=False)
    coords = np.zeros((centre_array.shape[0], 2))
    n_axes = min(2, s.size)
    coords[:, :n_axes] = u[:, :n_axes] * s[:n_axes]
    counts = _members(array, y, centre_array)
    names = ids if len(centre_array) == ids.size else np.arange(len(centre_array))
    fig, ax = figure_and_axes(ax, (6.5, 5.5))
    ax.scatter(
        coords[:, 0],
        coords[:, 1],
        s=3000 * counts / counts.max(),
        color=colours(len(centre_array)),
        alpha=0.55,
        edgecolors="black",
        linewidths=0.8,
    )
    for name, count, (x, yy) in zip(names, counts, coords, strict=True):
        ax.annotate(
            f"{name}\n{count:,}",
            (x, yy),
            ha="center",
            va="center",
            fontsize="small",
            fontweight="bold",
        )
    # equal scales, so that distances on the map are distances between centres
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.3)
    ax.set_xlabel("MDS 1")
    ax.set_ylabel("MDS 2")
    ax.set_title(title or "Intercluster distance map (area = members)")
    return finish(fig, save)
