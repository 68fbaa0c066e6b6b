"""Figures for every clustering model: one function per kind of plot, and :func:`plot_model`.

Every function returns a :class:`matplotlib.figure.Figure`, draws into ``ax=`` when given (for
single-panel plots) and writes the figure when ``save=`` names a ``.png``, ``.svg`` or ``.pdf``
file. Figures are made with :class:`matplotlib.figure.Figure`, not pyplot, so nothing is left
open in a global figure manager and any backend (Agg included) works. matplotlib is imported
inside the functions: importing clusterlab does not import it.

Conventions shared by every plot: noise (label ``-1``) is drawn grey and apart from the
clusters; a model without centres gets centres computed as the mean of each cluster's rows; a
plot that means nothing for a model raises a ``ValueError`` naming the models or attributes it
supports.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from clusterlab._base import NOISE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PLOT_KINDS",
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
    "plot_profile",
    "plot_reachability",
    "plot_silhouette",
    "plot_stability",
    "plot_tsne",
    "plot_umap",
    "save_figure",
]

#: Colour of noise points and bars everywhere.
NOISE_COLOUR = "#a6a6a6"
#: File formats ``save=`` accepts, by extension.
SAVE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
#: Above this many points, point clouds are rasterised inside SVG / PDF files to keep them small.
RASTERIZE_ABOVE = 5_000


# --------------------------------------------------------------------------------------------
# shared helpers


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path``; the format follows the extension (.png, .svg or .pdf).

    Raises
    ------
    ValueError
        For any other extension.
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"save must be a file name ending in .png, .svg or .pdf; got {str(path)!r}"
        )
    fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight")
    return path


def _finish(fig: Figure, save: str | Path | None) -> Figure:
    if save is not None:
        save_figure(fig, save)
    return fig


def _axes(ax: Axes | None, figsize: tuple[float, float], **subplot: Any) -> tuple[Figure, Axes]:
    """The figure and axes to draw in: ``ax``'s when given, else a new figure."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot(**subplot)


def _matrix(X: Any, name: str = "X") -> tuple[np.ndarray, list[str]]:
    """``X`` as a float64 array and its feature names."""
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        try:
            array = X.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must be the prepared numeric feature matrix; column dtypes are "
                f"{sorted({str(t) for t in X.dtypes})}"
            ) from exc
    else:
        array = np.asarray(X, dtype=np.float64)
        names = [f"x{i}" for i in range(array.shape[1])] if array.ndim == 2 else []
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array; got shape {array.shape}")
    return array, names


def _labels(labels: Any, n: int) -> np.ndarray:
    from clusterlab.insight._common import as_labels

    return as_labels(labels, n)


def _clusters(labels: np.ndarray) -> np.ndarray:
    return np.unique(labels[labels != NOISE])


def _colours(n: int) -> list[Any]:
    """``n`` distinguishable colours: tab10, tab20, then evenly spaced hues."""
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    return [colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n)]


def _colour_map(labels: np.ndarray) -> dict[int, Any]:
    clusters = _clusters(labels)
    mapping: dict[int, Any] = dict(zip(clusters.tolist(), _colours(len(clusters)), strict=True))
    mapping[NOISE] = NOISE_COLOUR
    return mapping


def _means(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    clusters = _clusters(labels)
    if clusters.size == 0:
        raise ValueError("every row is noise (-1): there is no cluster to draw")
    return np.vstack([X[labels == c].mean(axis=0) for c in clusters])


def _centres(X: np.ndarray, labels: np.ndarray, centers: Any) -> np.ndarray:
    """Centres in X's space: the model's when given, else each cluster's mean."""
    if centers is None:
        return _means(X, labels)
    centres = np.asarray(centers, dtype=np.float64)
    if centres.ndim != 2 or centres.shape[1] != X.shape[1]:
        raise ValueError(f"centers must have shape (n_clusters, {X.shape[1]}); got {centres.shape}")
    return centres


def _point_size(n: int) -> float:
    return float(np.clip(600 / math.sqrt(n), 1.5, 28))


def _segment_label(label: int, count: int) -> str:
    return f"noise ({count:,})" if label == NOISE else f"segment {label} ({count:,})"


def _project(
    X: np.ndarray, names: list[str], n_components: int, random_state: int = 0
) -> tuple[np.ndarray, list[str], Callable[[np.ndarray], np.ndarray]]:
    """Coordinates to draw: the features themselves when there are exactly ``n_components``,
    else a PCA. Returns the coordinates, the axis labels and the map for other points."""
    if X.shape[1] == n_components:
        return X, names, lambda Z: Z
    if X.shape[1] < n_components:
        raise ValueError(
            f"a {n_components}-D plot needs at least {n_components} features; X has {X.shape[1]}"
        )
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components, random_state=random_state).fit(X)
    axis = [
        f"PC{i + 1} ({ratio:.0%} of variance)"
        for i, ratio in enumerate(pca.explained_variance_ratio_)
    ]
    return pca.transform(X), axis, pca.transform


def _scatter_segments(ax: Axes, coords: np.ndarray, labels: np.ndarray, **style: Any) -> None:
    """One collection per segment, noise first (underneath) in grey crosses."""
    colours = _colour_map(labels)
    size = _point_size(coords.shape[0])
    rasterized = coords.shape[0] > RASTERIZE_ABOVE
    order = ([NOISE] if np.any(labels == NOISE) else []) + _clusters(labels).tolist()
    for label in order:
        mask = labels == label
        points = [coords[mask, i] for i in range(coords.shape[1])]
        noise = label == NOISE
        ax.scatter(
            *points,
            s=size * (0.7 if noise else 1.0),
            color=colours[label],
            marker="x" if noise else "o",
            alpha=0.5 if noise else 0.8,
            linewidths=0.6 if noise else 0,
            label=_segment_label(label, int(mask.sum())),
            rasterized=rasterized,
            zorder=1 if noise else 2,
            **style,
        )


def _legend(ax: Axes, n_entries: int, **kwargs: Any) -> None:
    ax.legend(
        loc="best" if n_entries <= 8 else "upper left",
        bbox_to_anchor=None if n_entries <= 8 else (1.01, 1.0),
        fontsize="small",
        frameon=False,
        markerscale=max(1.0, 25 / max(kwargs.pop("point_size", 25), 1)),
        ncols=1 if n_entries <= 16 else 2,
        **kwargs,
    )


def _sample(n: int, max_samples: int | None, random_state: int) -> np.ndarray | None:
    """Row indices of a uniform sample without replacement, or None to keep every row."""
    if max_samples is None or n <= max_samples:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=max_samples, replace=False))


# --------------------------------------------------------------------------------------------
# point clouds


def plot_clusters(
    X: Any,
    labels: Any,
    *,
    centers: Any = None,
    show_centers: bool = True,
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
    array, names = _matrix(X)
    y = _labels(labels, array.shape[0])
    coords, axis, transform = _project(array, names, 2)
    fig, ax = _axes(ax, (7.0, 5.5))
    _scatter_segments(ax, coords, y)
    n_entries = len(np.unique(y))
    if show_centers and _clusters(y).size:
        centres = transform(_centres(array, y, centers))
        ax.scatter(
            centres[:, 0],
            centres[:, 1],
            s=90,
            marker="D",
            color="white",
            edgecolors="black",
            linewidths=1.4,
            zorder=3,
            label="centres",
        )
        n_entries += 1
    ax.set_xlabel(axis[0])
    ax.set_ylabel(axis[1])
    ax.set_title(title or ("Segments (PCA)" if array.shape[1] != 2 else "Segments"))
    _legend(ax, n_entries, point_size=_point_size(array.shape[0]))
    return _finish(fig, save)


def plot_clusters_3d(
    X: Any,
    labels: Any,
    *,
    centers: Any = None,
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
    array, names = _matrix(X)
    y = _labels(labels, array.shape[0])
    if ax is not None and getattr(ax, "name", "") != "3d":
        raise ValueError("ax must be a 3-D axes (add_subplot(projection='3d')) for 'cluster3d'")
    coords, axis, transform = _project(array, names, 3)
    fig, ax = _axes(ax, (7.5, 6.0), projection="3d")
    _scatter_segments(ax, coords, y, depthshade=False)
    n_entries = len(np.unique(y))
    if _clusters(y).size:
        c = transform(_centres(array, y, centers))
        ax.scatter(
            c[:, 0],
            c[:, 1],
            c[:, 2],
            s=80,
            marker="D",
            color="white",
            edgecolors="black",
            linewidths=1.4,
            label="centres",
            depthshade=False,
        )
        n_entries += 1
    for setter, text in zip((ax.set_xlabel, ax.set_ylabel, ax.set_zlabel), axis, strict=True):
        setter(text.split(" (")[0], fontsize="small")
    ax.set_title(title or "Segments (3-D PCA)")
    _legend(ax, n_entries, point_size=_point_size(array.shape[0]))
    return _finish(fig, save)


def _embedding_plot(
    coords: np.ndarray,
    y: np.ndarray,
    method: str,
    *,
    n_total: int,
    ax: Axes | None,
    title: str | None,
    save: str | Path | None,
) -> Figure:
    fig, ax = _axes(ax, (7.0, 5.5))
    _scatter_segments(ax, coords, y)
    shown = coords.shape[0]
    subtitle = f"{shown:,} rows" if shown == n_total else f"sample of {shown:,} of {n_total:,} rows"
    ax.set_title(title or f"{method} ({subtitle})")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(f"{method} 1")
    ax.set_ylabel(f"{method} 2")
    _legend(ax, len(np.unique(y)), point_size=_point_size(shown))
    return _finish(fig, save)


def _reduce_for_embedding(X: np.ndarray, random_state: int) -> np.ndarray:
    """PCA to 50 dimensions first when there are more, as t-SNE / UMAP users usually do."""
    if X.shape[1] <= 50:
        return X
    from sklearn.decomposition import PCA

    return PCA(n_components=50, random_state=random_state).fit_transform(X)


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
    ax, title, save
        As in :func:`plot_clusters`.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.plots import plot_tsne
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> plot_tsne(X, np.zeros(60, dtype=int), max_iter=250).axes[0].get_title()
    't-SNE (60 rows)'
    """
    from sklearn.manifold import TSNE

    array, _ = _matrix(X)
    y = _labels(labels, array.shape[0])
    if array.shape[0] < 5:
        raise ValueError(f"plot='tsne' needs at least 5 rows; got {array.shape[0]}")
    rows = _sample(array.shape[0], max_samples, random_state)
    sub, y_sub = (array, y) if rows is None else (array[rows], y[rows])
    tsne = TSNE(
        n_components=2,
        perplexity=min(perplexity, (sub.shape[0] - 1) / 3),
        max_iter=max_iter,
        angle=angle,
        init="pca",
        learning_rate="auto",
        random_state=random_state,
    )
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_jobs, user_api="openmp"):
        coords = tsne.fit_transform(_reduce_for_embedding(sub, random_state))
    return _embedding_plot(
        coords, y_sub, "t-SNE", n_total=array.shape[0], ax=ax, title=title, save=save
    )


def plot_umap(
    X: Any,
    labels: Any,
    *,
    max_samples: int | None = 20_000,
    n_neighbors: int = 15,
    random_state: int = 0,
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
    array, _ = _matrix(X)
    y = _labels(labels, array.shape[0])
    rows = _sample(array.shape[0], max_samples, random_state)
    sub, y_sub = (array, y) if rows is None else (array[rows], y[rows])
    reducer = umap.UMAP(n_neighbors=min(n_neighbors, sub.shape[0] - 1), random_state=random_state)
    coords = reducer.fit_transform(_reduce_for_embedding(sub, random_state))
    return _embedding_plot(
        coords, y_sub, "UMAP", n_total=array.shape[0], ax=ax, title=title, save=save
    )


# --------------------------------------------------------------------------------------------
# segment summaries


def _silhouette_values(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    from clusterlab.metrics import silhouette_samples

    return silhouette_samples(X, labels)


def plot_silhouette(
    X: Any,
    labels: Any,
    *,
    max_samples: int | None = 5000,
    random_state: int = 0,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Silhouette of each row, as sorted horizontal bars grouped by cluster.

    Noise rows are left out (a silhouette is defined for cluster members). Silhouettes cost
    O(n^2): above ``max_samples`` rows a uniform random sample is used, and the title says so.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.plots import plot_silhouette
    >>> X = np.r_[np.zeros((20, 2)), np.ones((20, 2))] + np.random.default_rng(0).normal(
    ...     scale=0.1, size=(40, 2))
    >>> fig = plot_silhouette(X, np.repeat([0, 1], 20))
    >>> fig.axes[0].get_title().startswith("Silhouette")
    True
    """
    array, _ = _matrix(X)
    y = _labels(labels, array.shape[0])
    members = np.flatnonzero(y != NOISE)
    if _clusters(y).size < 2:
        raise ValueError(
            f"plot='silhouette' needs at least 2 clusters (noise aside); got {_clusters(y).size}"
        )
    rows = _sample(members.size, max_samples, random_state)
    if rows is not None:
        members = members[rows]
    sub, y_sub = array[members], y[members]
    if np.unique(y_sub).size < 2:
        raise ValueError("the silhouette sample holds a single cluster; raise max_samples")
    values = _silhouette_values(sub, y_sub)
    fig, ax = _axes(ax, (7.0, 5.5))
    colours = _colour_map(y_sub)
    bottom = 0
    gap = max(2, int(0.02 * sub.shape[0]))
    for label in _clusters(y_sub):
        cluster = np.sort(values[y_sub == label])
        positions = np.arange(bottom, bottom + cluster.size)
        ax.fill_betweenx(
            positions,
            0,
            cluster,
            color=colours[label],
            alpha=0.85,
            lw=0,
            label=f"segment {label} (mean {cluster.mean():.2f})",
        )
        ax.text(
            -0.02, bottom + cluster.size / 2, str(label), ha="right", va="center", fontsize="small"
        )
        bottom += cluster.size + gap
    mean = float(values.mean())
    ax.axvline(mean, color="black", linestyle="--", linewidth=1, label=f"mean {mean:.2f}")
    ax.set_xlim(min(-0.1, float(values.min()) - 0.05), 1.0)
    ax.set_yticks([])
    ax.set_xlabel("silhouette")
    ax.set_ylabel("rows, grouped by segment")
    sampled = "" if rows is None else f", sample of {members.size:,}"
    ax.set_title(title or f"Silhouette (mean {mean:.2f}{sampled})")
    _legend(ax, _clusters(y_sub).size + 1)
    return _finish(fig, save)


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
    array, _ = _matrix(X)
    y = _labels(labels, array.shape[0])
    clusters = _clusters(y)
    if clusters.size < 2:
        raise ValueError(
            f"plot='distance' needs at least 2 clusters (noise aside); got {clusters.size}"
        )
    centres = _centres(array, y, centers)
    centred = centres - centres.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    coords = np.zeros((centres.shape[0], 2))
    n_axes = min(2, s.size)
    coords[:, :n_axes] = u[:, :n_axes] * s[:n_axes]
    counts = (
        np.array([np.sum(y == c) for c in clusters])
        if len(centres) == clusters.size
        else (
            np.bincount(
                np.argmin(((array[:, None, :] - centres[None]) ** 2).sum(-1), axis=1),
                minlength=len(centres),
            )
        )
    )
    fig, ax = _axes(ax, (6.5, 5.5))
    sizes = 3000 * counts / counts.max()
    colours = _colours(len(centres))
    ax.scatter(
        coords[:, 0],
        coords[:, 1],
        s=sizes,
        color=colours,
        alpha=0.55,
        edgecolors="black",
        linewidths=0.8,
    )
    for i, (x, yy) in enumerate(coords):
        label = clusters[i] if len(centres) == clusters.size else i
        ax.annotate(
            f"{label}\n{counts[i]:,}",
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
    return _finish(fig, save)


def plot_distribution(
    labels: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Bar chart of segment sizes, with noise as a grey bar at the end.

    Examples
    --------
    >>> from clusterlab.plots import plot_distribution
    >>> len(plot_distribution([0, 0, 1, -1]).axes[0].patches)
    3
    """
    y = np.asarray(labels)
    y = _labels(y, y.shape[0] if y.ndim == 1 else -1)
    order = _clusters(y).tolist() + ([NOISE] if np.any(y == NOISE) else [])
    counts = np.array([np.sum(y == label) for label in order])
    colours = _colour_map(y)
    fig, ax = _axes(ax, (max(5.0, 0.5 * len(order) + 2), 4.0))
    names = ["noise" if label == NOISE else str(label) for label in order]
    bars = ax.bar(names, counts, color=[colours[label] for label in order])
    for bar, count in zip(bars, counts, strict=True):
        ax.annotate(
            f"{count:,}\n{count / y.size:.0%}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize="small",
        )
    ax.set_ylim(0, counts.max() * 1.2)
    ax.set_xlabel("segment")
    ax.set_ylabel("rows")
    ax.set_title(title or f"Segment sizes ({y.size:,} rows)")
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, save)


def plot_profile(
    data: Any,
    labels: Any,
    *,
    max_features: int = 30,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Heatmap of standardised feature means per segment (rows) and numeric feature (columns).

    Each cell is (segment mean - population mean) / population standard deviation, from
    :func:`clusterlab.insight.profile_segments`; red is above average, blue below. With more
    than ``max_features`` numeric features, the most distinctive ones are shown.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.plots import plot_profile
    >>> df = pd.DataFrame({"a": [1.0, 2, 9, 8], "b": [5.0, 4, 1, 0]})
    >>> plot_profile(df, [0, 0, 1, 1]).axes[0].get_title()
    'Segment profiles (standardised means)'
    """
    from clusterlab.insight import profile_segments

    table = profile_segments(data, labels).numeric
    if table.empty:
        raise ValueError("plot='profile' needs at least one numeric column in data")
    grid = table.pivot(index="segment", columns="feature", values="std_diff")
    grid = grid.reindex(
        index=list(dict.fromkeys(table["segment"])), columns=list(dict.fromkeys(table["feature"]))
    )
    if grid.shape[1] > max_features:
        keep = grid.abs().max(axis=0).sort_values(ascending=False).index[:max_features]
        grid = grid[[c for c in grid.columns if c in set(keep)]]
    values = grid.to_numpy(dtype=np.float64)
    limit = max(1.0, float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0)
    longest = max(len(str(c)) for c in grid.columns)  # rotated tick labels need room below
    width = max(5.5, 0.7 * grid.shape[1] + 3.0)
    fig, ax = _axes(ax, (width, max(3.0, 0.45 * len(grid) + 1.6 + 0.07 * longest)))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=40, ha="right")
    ax.set_yticks(range(len(grid)), [f"segment {s}" if s != "noise" else s for s in grid.index])
    if values.size <= 400:
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                ax.text(
                    j,
                    i,
                    f"{value:+.1f}",
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color="white" if abs(value) > 0.6 * limit else "black",
                )
    fig.colorbar(image, ax=ax, label="SDs from population mean", shrink=0.85)
    ax.set_title(title or "Segment profiles (standardised means)")
    return _finish(fig, save)


def _distinctive(frame: pd.DataFrame, labels: np.ndarray, numeric: list[str]) -> list[str]:
    """Numeric features ordered by the share of variance the segments explain (eta squared)."""
    scores = {}
    for column in numeric:
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.isfinite(values)
        total = np.var(values[ok]) * ok.sum()
        if total <= 0:
            scores[column] = 0.0
            continue
        groups = pd.Series(values[ok]).groupby(labels[ok])
        between = float((groups.count() * (groups.mean() - values[ok].mean()) ** 2).sum())
        scores[column] = between / total
    return sorted(numeric, key=lambda c: -scores[c])


def plot_feature(
    data: Any,
    labels: Any,
    *,
    features: Sequence[str] | None = None,
    max_features: int = 6,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Distribution of each feature by segment: box plots for numeric features, stacked
    shares for categorical ones, one panel per feature.

    Parameters
    ----------
    data : pandas.DataFrame or array-like
        The original data (so that axes are in the user's units).
    labels : array-like of shape (n_samples,)
        Segment of each row; noise is a grey group of its own.
    features : list of str, optional
        Columns to show; by default the ``max_features`` numeric columns that the segments
        separate best (highest eta squared), then categorical columns up to ``max_features``.
    max_features : int, default=6
        Panels when ``features`` is not given.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.plots import plot_feature
    >>> df = pd.DataFrame({"a": [1.0, 2, 9, 8], "c": ["x", "y", "y", "y"]})
    >>> len(plot_feature(df, [0, 0, 1, 1]).axes)
    2
    """
    from matplotlib.figure import Figure

    from clusterlab.insight._common import as_frame, split_columns

    frame = as_frame(data)
    y = _labels(labels, frame.shape[0])
    numeric, categorical = split_columns(frame)
    if features is None:
        chosen = _distinctive(frame, y, numeric)[:max_features]
        chosen += categorical[: max(0, max_features - len(chosen))]
    else:
        missing = [f for f in features if f not in frame.columns]
        if missing:
            raise ValueError(
                f"features {missing} are not columns of data; columns are {list(frame.columns)}"
            )
        chosen = list(features)
    if not chosen:
        raise ValueError("plot='feature' found no numeric or categorical column in data")
    n_cols = min(3, len(chosen))
    n_rows = math.ceil(len(chosen) / n_cols)
    fig = Figure(figsize=(4.2 * n_cols, 3.3 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    order = _clusters(y).tolist() + ([NOISE] if np.any(y == NOISE) else [])
    colours = _colour_map(y)
    names = ["noise" if s == NOISE else str(s) for s in order]
    for ax, feature in zip(axes, chosen, strict=False):
        if feature in numeric:
            values = frame[feature].to_numpy(dtype=np.float64, na_value=np.nan)
            groups = [values[(y == s) & np.isfinite(values)] for s in order]
            boxes = ax.boxplot(
                groups,
                tick_labels=names,
                patch_artist=True,
                showfliers=False,
                widths=0.6,
                medianprops={"color": "black"},
            )
            for patch, s in zip(boxes["boxes"], order, strict=True):
                patch.set_facecolor(colours[s])
                patch.set_alpha(0.8)
        else:
            _stacked_shares(ax, frame[feature], y, order=order, names=names)
        ax.set_title(feature, fontsize="medium")
        ax.set_xlabel("segment", fontsize="small")
        ax.tick_params(labelsize="small")
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes[len(chosen) :]:
        ax.set_visible(False)
    fig.suptitle(title or "Features by segment")
    return _finish(fig, save)


def _stacked_shares(
    ax: Axes, column: pd.Series, y: np.ndarray, *, order: list[int], names: list[str], top: int = 6
) -> None:
    values = column.astype("object").where(column.notna(), "(missing)").astype(str)
    frequent = values.value_counts().index[:top]
    values = values.where(values.isin(frequent), "other")
    shares = pd.crosstab(pd.Series(y, index=column.index), values, normalize="index")
    shares = shares.reindex(index=order, fill_value=0)
    bottom = np.zeros(len(order))
    for colour, category in zip(_colours(shares.shape[1]), shares.columns, strict=True):
        ax.bar(names, shares[category].to_numpy(), bottom=bottom, color=colour, label=category)
        bottom += shares[category].to_numpy()
    ax.set_ylabel("share", fontsize="small")
    ax.legend(fontsize="x-small", frameon=False, loc="upper left", bbox_to_anchor=(1, 1))


# --------------------------------------------------------------------------------------------
# model-specific plots


def _linkage_matrix(model: Any) -> np.ndarray:
    """A scipy linkage matrix from a linkage array, a model's ``linkage_matrix_`` /
    ``linkage_``, or scikit-learn's ``children_`` + ``distances_``."""
    if isinstance(model, np.ndarray):
        candidate = model
    else:
        candidate = getattr(model, "linkage_matrix_", None)
        if candidate is None:
            candidate = getattr(model, "linkage_", None)
    if candidate is not None:
        Z = np.asarray(candidate, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != 4:
            raise ValueError(f"a linkage matrix has shape (n - 1, 4); got {Z.shape}")
        return Z
    children = getattr(model, "children_", None)
    if children is None:
        raise ValueError(
            "plot='dendrogram' needs a hierarchical model: AgglomerativeClustering (children_ "
            "and distances_), a model with linkage_matrix_, or a scipy linkage matrix; got "
            f"{type(model).__name__}"
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


def plot_dendrogram(
    model: Any,
    *,
    n_clusters: int | None = None,
    truncate: int = 30,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Dendrogram of a hierarchical model, truncated to its top ``truncate`` merges.

    Parameters
    ----------
    model : fitted hierarchical model or linkage matrix
        ``AgglomerativeClustering`` fitted with ``compute_distances=True`` (or a
        ``distance_threshold``), a model with ``linkage_matrix_`` / ``linkage_``, or a scipy
        linkage matrix of shape (n - 1, 4).
    n_clusters : int, optional
        Draw the cut that gives this many clusters; default the model's ``n_clusters_``.
    truncate : int, default=30
        Leaves shown (scipy's ``truncate_mode="lastp"``); a leaf's label gives its size.

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
    k = n_clusters if n_clusters is not None else getattr(model, "n_clusters_", None)
    fig, ax = _axes(ax, (8.0, 5.0))
    cut = None
    if k is not None and 1 < k <= Z.shape[0]:
        cut = 0.5 * (Z[-k, 2] + Z[-(k - 1), 2])
    dendrogram(
        Z,
        ax=ax,
        truncate_mode="lastp",
        p=truncate,
        color_threshold=cut,
        above_threshold_color="#555555",
        leaf_rotation=90,
        leaf_font_size=8,
    )
    if cut is not None:
        ax.axhline(cut, color="black", linestyle="--", linewidth=1, label=f"cut: {k} clusters")
        ax.legend(frameon=False, fontsize="small")
    ax.set_ylabel("merge distance")
    ax.set_xlabel("rows (leaf label = size of a truncated branch)")
    ax.set_title(
        title or (f"Dendrogram (cut at {k} clusters)" if cut is not None else "Dendrogram")
    )
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, save)


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
    y = _labels(model.labels_, reach.size)[order]
    finite = np.isfinite(reach)
    top = float(reach[finite].max()) if finite.any() else 1.0
    reach = np.where(finite, reach, top * 1.05)  # the first point (and unreachable ones)
    fig, ax = _axes(ax, (9.0, 4.2))
    colours = _colour_map(y)
    x = np.arange(reach.size)
    entries = _clusters(y).tolist() + ([NOISE] if np.any(y == NOISE) else [])
    for label in entries:
        mask = y == label
        ax.fill_between(
            x,
            0,
            np.where(mask, reach, np.nan),
            step="mid",
            color=colours[label],
            linewidth=0,
            label=_segment_label(label, int(mask.sum())),
        )
    eps = getattr(model, "eps", None)
    if getattr(model, "cluster_method", None) == "dbscan" and eps is not None:
        ax.axhline(eps, color="black", linestyle="--", linewidth=1, label=f"eps = {eps:g}")
    ax.set_xlim(0, reach.size)
    ax.set_ylim(0, top * 1.08)
    ax.set_xlabel("rows in cluster order")
    ax.set_ylabel("reachability distance")
    ax.set_title(title or "Reachability (OPTICS)")
    ax.spines[["top", "right"]].set_visible(False)
    _legend(ax, len(entries))
    return _finish(fig, save)


class _Tree(NamedTuple):
    """A condensed tree as parallel arrays; ``root`` is the id of the root cluster."""

    parent: np.ndarray
    child: np.ndarray
    lam: np.ndarray
    size: np.ndarray
    root: int


def _condensed_arrays(tree: Any) -> _Tree:
    """(parent, child, lambda, size) from a structured array, a DataFrame or an object with
    ``to_numpy()`` (hdbscan's CondensedTree)."""
    if hasattr(tree, "to_numpy") and not isinstance(tree, pd.DataFrame | np.ndarray):
        tree = tree.to_numpy()
    if isinstance(tree, pd.DataFrame):
        fields = set(tree.columns)
        get = tree.__getitem__
    else:
        tree = np.asarray(tree)
        fields = set(tree.dtype.names or ())
        get = tree.__getitem__
    lam = "lambda_val" if "lambda_val" in fields else "value"
    size = "child_size" if "child_size" in fields else "cluster_size"
    if not {"parent", "child", lam, size} <= fields:
        raise ValueError(
            "condensed_tree_ must have fields parent, child, lambda_val (or value) and "
            f"child_size (or cluster_size); got {sorted(fields)}"
        )
    parent = np.asarray(get("parent"), dtype=np.int64)
    lam_values = np.asarray(get(lam), dtype=np.float64)
    finite = lam_values[np.isfinite(lam_values)]
    # points at distance 0 leave at lambda = inf: draw them just below the deepest level
    cap = float(finite.max()) * 1.05 if finite.size else 1.0
    return _Tree(
        parent,
        np.asarray(get("child"), dtype=np.int64),
        np.minimum(lam_values, cap),
        np.asarray(get(size), dtype=np.int64),
        int(parent.min()),
    )


def _select_clusters(tree: _Tree, method: str) -> set[int]:
    """Clusters chosen by excess of mass ('eom') or as the leaves ('leaf') of the tree."""
    parent, child, lam, size, root = tree
    is_cluster = size > 1
    children: dict[int, list[int]] = {}
    for p, c in zip(parent[is_cluster], child[is_cluster], strict=True):
        children.setdefault(int(p), []).append(int(c))
    birth = {root: 0.0} | dict(
        zip(child[is_cluster].tolist(), lam[is_cluster].tolist(), strict=True)
    )
    nodes = sorted(birth)
    if method == "leaf":
        leaves = {c for c in nodes if c not in children and c != root}
        return leaves or ({root} if root not in children else set())
    stability = dict.fromkeys(nodes, 0.0)
    for p, lam_value, s in zip(parent, lam, size, strict=True):
        stability[int(p)] += (lam_value - birth[int(p)]) * s
    selected: dict[int, set[int]] = {}
    for node in sorted(nodes, reverse=True):  # children have larger ids than their parents
        kids = children.get(node, [])
        below = sum(_total(selected[k], stability) for k in kids)
        if not kids or stability[node] >= below:
            selected[node] = {node}
        else:
            selected[node] = set().union(*(selected[k] for k in kids))
    if root in selected[root] and root in children:
        return set().union(*(selected[k] for k in children[root]))
    return selected[root] - {root} if root in children else set()


def _total(nodes: set[int], stability: dict[int, float]) -> float:
    return sum(stability[n] for n in nodes)


def plot_condensed_tree(
    model: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """HDBSCAN condensed tree as an icicle plot: each cluster a column whose width is the
    number of rows still in it at density level lambda (downwards = denser).

    The clusters that are segments are coloured like them (matched by the majority of their
    rows' labels), the others are light grey. The selection is the tree's
    ``selected_clusters`` when it has them (clusterlab's HDBSCAN), else it is recomputed from
    the tree (excess of mass, or leaves with ``cluster_selection_method="leaf"``).

    Parameters
    ----------
    model : fitted HDBSCAN
        A model with ``condensed_tree_`` (a structured array or table with parent, child,
        lambda_val / value and child_size / cluster_size, or hdbscan's CondensedTree) and
        ``labels_``.
    """
    tree = getattr(model, "condensed_tree_", None)
    if tree is None:
        raise ValueError(
            "plot='condensed_tree' needs a model with condensed_tree_ (HDBSCAN); "
            f"{type(model).__name__} has none"
        )
    from matplotlib.patches import Patch

    arrays = _condensed_arrays(tree)
    parent, child, lam, size, _ = arrays
    if getattr(tree, "selected_clusters", None) is not None:  # the model's own selection
        selected = {int(c) for c in np.asarray(tree.selected_clusters)}
    else:
        selected = _select_clusters(arrays, getattr(model, "cluster_selection_method", "eom"))
    layout = _icicle_layout(arrays)
    colours, segment = _selected_colours(arrays, selected, getattr(model, "labels_", None))
    fig, ax = _axes(ax, (8.0, 5.5))
    cluster_parent = dict(zip(child[size > 1].tolist(), parent[size > 1].tolist(), strict=True))
    for node, (centre, levels, widths) in layout.items():
        # below a selected cluster the tree still splits: those parts are the segment too
        owner = node
        while owner not in colours and owner in cluster_parent:
            owner = cluster_parent[owner]
        ax.fill_betweenx(
            levels,
            centre - widths / 2,
            centre + widths / 2,
            step="post",
            color=colours.get(owner, "#d9dde3"),
            linewidth=0,
            alpha=0.95 if owner == node or owner not in colours else 0.4,
        )
    for p, c, value, s in zip(parent, child, lam, size, strict=True):
        if s > 1:  # a split: join the child to its parent
            ax.plot(
                [layout[int(p)][0], layout[int(c)][0]],
                [value, value],
                color="#555555",
                linewidth=0.8,
            )
    ax.invert_yaxis()
    ax.set_xticks([])
    ax.set_ylabel("λ = 1 / distance (down = denser)")
    ax.set_title(title or f"Condensed tree ({len(selected)} selected clusters)")
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    entries = sorted(segment.items(), key=lambda item: (item[1] == NOISE, item[1]))
    handles = [
        Patch(color=colours[node], label="noise" if s == NOISE else f"segment {s}")
        for node, s in entries
    ]
    if handles:
        ax.legend(handles=handles, frameon=False, fontsize="small", loc="lower right")
    return _finish(fig, save)


def _icicle_layout(tree: _Tree) -> dict[int, tuple[float, np.ndarray, np.ndarray]]:
    """node -> (x centre, lambda levels, widths): the width steps down as rows leave."""
    parent, child, lam, size, root = tree
    is_cluster = size > 1
    kids: dict[int, list[int]] = {}
    for p, c in zip(parent[is_cluster], child[is_cluster], strict=True):
        kids.setdefault(int(p), []).append(int(c))
    total = {root: int(size[parent == root].sum())} | dict(
        zip(child[is_cluster].tolist(), size[is_cluster].tolist(), strict=True)
    )
    birth = {root: 0.0} | dict(
        zip(child[is_cluster].tolist(), lam[is_cluster].tolist(), strict=True)
    )
    layout = {}
    stack = [(root, 0.0)]
    while stack:
        node, left = stack.pop()
        width = total[node]
        centre = left + width / 2
        rows = parent == node
        order = np.argsort(lam[rows], kind="stable")
        leave_at, leave_n = lam[rows][order], size[rows][order]
        levels = np.concatenate([[birth[node]], leave_at])
        remaining = width - np.concatenate([[0], np.cumsum(leave_n)])
        layout[node] = (centre, levels, remaining.astype(np.float64))
        children = kids.get(node, [])
        span = sum(total[c] for c in children)
        start = centre - span / 2
        for c in children:
            stack.append((c, start))
            start += total[c]
    return layout


def _selected_colours(
    tree: _Tree, selected: set[int], labels: Any
) -> tuple[dict[int, Any], dict[int, int]]:
    """Colour each selected cluster like the segment that holds most of its rows.

    Returns (node -> colour, node -> segment id)."""
    parent, child, _, size, root = tree
    if not selected:
        return {}, {}
    owner = dict.fromkeys(selected, -2)
    cluster_parent = dict(zip(child[size > 1].tolist(), parent[size > 1].tolist(), strict=True))

    def selected_ancestor(node: int) -> int | None:
        while node != root:
            if node in owner:
                return node
            node = cluster_parent[node]
        return root if root in owner else None

    ancestor_cache: dict[int, int | None] = {}
    points = size == 1
    votes: dict[int, list[int]] = {n: [] for n in selected}
    for p, c in zip(parent[points].tolist(), child[points].tolist(), strict=True):
        if p not in ancestor_cache:
            ancestor_cache[p] = selected_ancestor(p)
        anc = ancestor_cache[p]
        if anc is not None and labels is not None and c < len(labels):
            votes[anc].append(int(labels[c]))
    segment = {}
    for node, vote in votes.items():
        members = [v for v in vote if v != NOISE]
        segment[node] = int(np.bincount(members).argmax()) if members else NOISE
    clusters = sorted({s for s in segment.values() if s != NOISE})
    palette = dict(zip(clusters, _colours(len(clusters)), strict=True))
    return {node: palette.get(s, NOISE_COLOUR) for node, s in segment.items()}, segment


# --------------------------------------------------------------------------------------------
# choosing k


def plot_elbow(
    ks: Iterable[int],
    inertias: Iterable[float],
    *,
    chosen_k: int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Within-cluster sum of squares against k, with the chosen k marked.

    Examples
    --------
    >>> from clusterlab.plots import plot_elbow
    >>> plot_elbow([2, 3, 4], [10.0, 4.0, 3.5], chosen_k=3).axes[0].get_title()
    'Elbow (chosen k = 3)'
    """
    k = np.asarray(list(ks), dtype=np.int64)
    w = np.asarray(list(inertias), dtype=np.float64)
    if k.shape != w.shape or k.size == 0:
        raise ValueError(
            f"ks and inertias must have the same non-zero length; got {k.size} and {w.size}"
        )
    fig, ax = _axes(ax, (6.5, 4.2))
    ax.plot(k, w, marker="o", color="#1f77b4", label="within-cluster sum of squares")
    if chosen_k is not None and chosen_k in k:
        ax.axvline(chosen_k, color="#d62728", linestyle="--", linewidth=1)
        ax.plot(
            [chosen_k],
            [w[k == chosen_k][0]],
            marker="o",
            markersize=11,
            color="#d62728",
            label=f"chosen k = {chosen_k}",
            linestyle="none",
        )
    ax.set_xticks(k)
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("within-cluster sum of squares")
    ax.set_title(title or (f"Elbow (chosen k = {chosen_k})" if chosen_k is not None else "Elbow"))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize="small")
    return _finish(fig, save)


#: Criteria that always improve with k: only an elbow, not their best value, picks a k.
MONOTONE_CRITERIA = frozenset({"inertia", "wcss"})


def _criterion_choice(column: str, k: np.ndarray, oriented: np.ndarray, votes: dict) -> Any:
    """The k a criterion picks: its vote when known (the elbow for inertia), else its best."""
    key = "elbow" if column in MONOTONE_CRITERIA else column
    if key in votes:
        return votes[key]
    if column in MONOTONE_CRITERIA or not np.isfinite(oriented).any():
        return None
    return int(k[np.nanargmax(oriented)])


#: Criteria where a smaller value is better (the rest: larger is better).
LOWER_IS_BETTER = frozenset(
    {"davies_bouldin", "inertia", "wcss", "bic", "aic", "elbow", "xie_beni", "c_index"}
)


def plot_k_selection(
    scores: pd.DataFrame,
    *,
    chosen_k: int | None = None,
    lower_is_better: Iterable[str] = LOWER_IS_BETTER,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Every criterion against k on one scale (0 = worst, 1 = best k for that criterion).

    Parameters
    ----------
    scores : pandas.DataFrame or choose_k result
        Index: the k values tried; one column per criterion (raw values). Or the result of
        ``clusterlab.selection.choose_k`` (its ``table``; ``best_k`` is marked).
    chosen_k : int, optional
        Marked with a vertical line.
    lower_is_better : iterable of str
        Criteria (column names) where smaller is better; they are flipped before rescaling.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.plots import plot_k_selection
    >>> table = pd.DataFrame({"silhouette": [0.5, 0.7, 0.4], "davies_bouldin": [0.9, 0.5, 1.0]},
    ...                      index=[2, 3, 4])
    >>> len(plot_k_selection(table, chosen_k=3).axes[0].get_legend().get_texts())
    3
    """
    votes: dict[str, Any] = {}
    if not isinstance(scores, pd.DataFrame) and isinstance(
        getattr(scores, "table", None), pd.DataFrame
    ):
        # a clusterlab.selection.ChooseKResult: its table of criteria and its recommendation
        if chosen_k is None:
            chosen_k = getattr(scores, "best_k", None)
        votes = dict(getattr(scores, "votes", None) or {})
        scores = scores.table.drop(columns=["votes", "gap_se"], errors="ignore")
    if not isinstance(scores, pd.DataFrame) or scores.empty:
        raise ValueError(
            "scores must be a non-empty DataFrame indexed by k, one column per criterion"
        )
    lower = set(lower_is_better)
    fig, ax = _axes(ax, (7.0, 4.5))
    k = np.asarray(scores.index, dtype=np.int64)
    for colour, column in zip(_colours(scores.shape[1]), scores.columns, strict=True):
        values = scores[column].to_numpy(dtype=np.float64)
        if column in lower:
            values = -values
        span = np.nanmax(values) - np.nanmin(values)
        scaled = (values - np.nanmin(values)) / span if span > 0 else np.ones_like(values)
        arrow = "↓" if column in lower else "↑"
        best = _criterion_choice(column, k, values, votes)
        note = f" (best k = {best})" if best is not None else ""
        ax.plot(k, scaled, marker="o", color=colour, label=f"{column} {arrow}{note}")
    if chosen_k is not None:
        ax.axvline(
            chosen_k, color="black", linestyle="--", linewidth=1, label=f"chosen k = {chosen_k}"
        )
    ax.set_xticks(k)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("criterion, rescaled (1 = best)")
    ax.set_title(title or "Choosing k: every criterion")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _finish(fig, save)


def plot_stability(
    scores: Any,
    *,
    chosen_k: int | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Stability of the clustering under resampling.

    Parameters
    ----------
    scores : pandas.DataFrame, Series or stability result
        Either one row per k (index k) with a ``mean`` column and optionally ``std`` (the
        agreement between clusterings of resamples, e.g. ARI), drawn as a line with error bars;
        or a Series indexed by segment (per-cluster stability, e.g. mean Jaccard), drawn as
        bars; or the result of ``clusterlab.selection.stability`` (its per-cluster Jaccard).
    chosen_k : int, optional
        Marked on the per-k line.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.plots import plot_stability
    >>> per_k = pd.DataFrame({"mean": [0.9, 0.95, 0.6], "std": [0.05, 0.02, 0.1]},
    ...                      index=[2, 3, 4])
    >>> plot_stability(per_k, chosen_k=3).axes[0].get_xlabel()
    'number of clusters k'
    """
    threshold = 0.75
    title_note = ""
    if hasattr(scores, "jaccard") and hasattr(scores, "cluster_stability"):
        # a clusterlab.selection.StabilityResult: mean Jaccard of each reference cluster
        values = np.asarray(scores.cluster_stability, dtype=np.float64)
        threshold = float(getattr(scores, "threshold", threshold))
        title_note = f" (mean ARI {float(scores.mean_ari):.2f})"
        scores = pd.Series(values, index=[str(i) for i in range(values.size)])
    fig, ax = _axes(ax, (6.5, 4.2))
    if isinstance(scores, pd.DataFrame):
        if "mean" not in scores.columns:
            raise ValueError(f"stability scores need a 'mean' column; got {list(scores.columns)}")
        k = np.asarray(scores.index, dtype=np.int64)
        std = scores["std"].to_numpy(dtype=np.float64) if "std" in scores else None
        ax.errorbar(
            k,
            scores["mean"].to_numpy(dtype=np.float64),
            yerr=std,
            marker="o",
            capsize=4,
            color="#1f77b4",
            label="agreement between resamples",
        )
        if chosen_k is not None:
            ax.axvline(
                chosen_k,
                color="#d62728",
                linestyle="--",
                linewidth=1,
                label=f"chosen k = {chosen_k}",
            )
        ax.set_xticks(k)
        ax.set_xlabel("number of clusters k")
        ax.legend(frameon=False, fontsize="small")
        ax.set_title(title or "Stability against k")
    elif isinstance(scores, pd.Series):
        names = [str(s) for s in scores.index]
        values = scores.to_numpy(dtype=np.float64)
        colours = [
            NOISE_COLOUR if n in ("-1", "noise") else c
            for n, c in zip(names, _colours(len(names)), strict=True)
        ]
        ax.bar(names, values, color=colours)
        ax.axhline(
            threshold,
            color="black",
            linestyle=":",
            linewidth=1,
            label=f"reappears (Jaccard {threshold:g})",
        )
        ax.legend(frameon=False, fontsize="small", loc="lower right")
        ax.set_xlabel("segment")
        ax.set_title(title or f"Stability of each segment{title_note}")
    else:
        raise ValueError(
            "stability scores must be a DataFrame indexed by k or a Series "
            f"indexed by segment; got {type(scores).__name__}"
        )
    ax.set_ylabel("stability (1 = identical)")
    ax.set_ylim(0, 1.05)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, save)


# --------------------------------------------------------------------------------------------
# the dispatcher

#: The elbow refits the model once per k: above this many rows it is refitted on a uniform
#: sample (the curve's shape, which is what the elbow reads, hardly changes).
ELBOW_SAMPLES = 10_000

#: Every kind :func:`plot_model` draws.
PLOT_KINDS = (
    "cluster",
    "cluster3d",
    "tsne",
    "umap",
    "elbow",
    "silhouette",
    "distance",
    "distribution",
    "profile",
    "feature",
    "dendrogram",
    "reachability",
    "condensed_tree",
    "k_selection",
    "stability",
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


def _model_labels(model: Any, X: np.ndarray, labels: Any) -> np.ndarray:
    if labels is not None:
        return _labels(labels, X.shape[0])
    fitted = getattr(model, "labels_", None)
    if fitted is not None and len(fitted) == X.shape[0]:
        return _labels(fitted, X.shape[0])
    if hasattr(model, "predict"):
        return _labels(model.predict(X), X.shape[0])
    raise ValueError(
        f"no labels for these {X.shape[0]} rows: {type(model).__name__} has no labels_ of that "
        "length and no predict; pass labels="
    )


def _model_centres(model: Any, X: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """The model's own centres when they match the clusters, else None (means are used)."""
    for attribute in ("cluster_centers_", "means_"):
        centres = getattr(model, attribute, None)
        if centres is None:
            continue
        centres = np.asarray(centres)
        if centres.ndim == 2 and centres.shape == (_clusters(labels).size, X.shape[1]):
            return centres
    return None


def _elbow_curve(
    model: Any, X: np.ndarray, k_range: Iterable[int]
) -> tuple[list[int], list[float]]:
    """Within-cluster sum of squares of the model refitted for each k on the rows of X."""
    from sklearn.base import clone

    from clusterlab.metrics import inertia

    params = model.get_params() if hasattr(model, "get_params") else {}
    name = next((p for p in ("n_clusters", "n_components") if p in params), None)
    if name is None:
        raise ValueError(
            f"plot='elbow' refits the model for each k, which needs an n_clusters (or "
            f"n_components) parameter; {type(model).__name__} has none (density models such "
            "as DBSCAN, OPTICS and HDBSCAN choose k themselves)"
        )
    ks, wcss = [], []
    for k in k_range:
        if not 1 <= k < X.shape[0]:
            continue
        labels = clone(model).set_params(**{name: k}).fit_predict(X)
        total = inertia(X, labels)
        ks.append(k)
        wcss.append(total)
    return ks, wcss


def plot_model(
    model: Any,
    X: Any,
    labels: Any = None,
    *,
    plot: str = "cluster",
    data: Any = None,
    feature_names: Sequence[str] | None = None,
    save: str | Path | None = None,
    **kwargs: Any,
) -> Figure:
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
        One of :data:`PLOT_KINDS`: 'cluster', 'cluster3d', 'tsne', 'umap', 'elbow',
        'silhouette', 'distance', 'distribution', 'profile', 'feature', 'dendrogram',
        'reachability', 'condensed_tree', 'k_selection', 'stability'.
    data : pandas.DataFrame, optional
        The original (unscaled) data, for 'profile' and 'feature'; default ``X``.
    feature_names : sequence of str, optional
        Names of X's columns when X is an array.
    save : str or Path, optional
        Write the figure to this .png / .svg / .pdf file.
    **kwargs
        Passed to the plot's function (e.g. ``max_samples`` for 'tsne' and 'silhouette';
        ``k_range`` and ``max_samples`` (default :data:`ELBOW_SAMPLES`) for 'elbow', which
        refits the model for each k; ``scores`` and ``chosen_k`` for 'k_selection' and
        'stability', e.g. from ``clusterlab.selection``).

    Returns
    -------
    matplotlib.figure.Figure

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
    kind = check_plot_name(plot)
    model_only = {
        "dendrogram": plot_dendrogram,
        "reachability": plot_reachability,
        "condensed_tree": plot_condensed_tree,
    }
    if kind in model_only:
        return model_only[kind](model, save=save, **kwargs)
    if kind in ("elbow", "k_selection", "stability"):
        return _selection_plot(kind, model, X, save=save, **kwargs)
    array, names = _matrix(X)
    if feature_names is not None:
        if len(feature_names) != array.shape[1]:
            raise ValueError(
                f"feature_names has {len(feature_names)} names for {array.shape[1]} columns of X"
            )
        names = [str(n) for n in feature_names]
    y = _model_labels(model, array, labels)
    if kind == "distribution":
        return plot_distribution(y, save=save, **kwargs)
    if kind in ("profile", "feature"):
        frame = data if data is not None else pd.DataFrame(array, columns=names)
        function = plot_profile if kind == "profile" else plot_feature
        return function(frame, y, save=save, **kwargs)
    frame = pd.DataFrame(array, columns=names)
    if kind in ("cluster", "cluster3d", "distance"):
        kwargs.setdefault("centers", _model_centres(model, array, y))
    function = {
        "cluster": plot_clusters,
        "cluster3d": plot_clusters_3d,
        "distance": plot_distance,
        "tsne": plot_tsne,
        "umap": plot_umap,
        "silhouette": plot_silhouette,
    }[kind]
    return function(frame, y, save=save, **kwargs)


def _selection_plot(kind: str, model: Any, X: Any, **kwargs: Any) -> Figure:
    """'elbow', 'k_selection' and 'stability': from the results passed, else computed."""
    if kind == "elbow":
        return _elbow_plot(model, X, **kwargs)
    if kind == "k_selection":
        result = kwargs.pop("selection", None)
        if result is None:
            result = kwargs.pop("scores", None)
        if result is None:
            k_range = kwargs.pop("k_range", range(2, 11))
            result = _selection("choose_k")(X, model=model, k_range=k_range, random_state=0)
        return plot_k_selection(result, **kwargs)
    result = kwargs.pop("stability", None)
    if result is None:
        result = kwargs.pop("scores", None)
    if result is None:
        result = _selection("stability")(X, model=model, random_state=0)
    return plot_stability(result, **kwargs)


def _selection(name: str) -> Callable[..., Any]:
    """``clusterlab.selection.<name>``, imported when a plot needs it."""
    from clusterlab import selection

    return getattr(selection, name)


def _elbow_plot(model: Any, X: Any, **kwargs: Any) -> Figure:
    if "ks" in kwargs:
        return plot_elbow(kwargs.pop("ks"), kwargs.pop("inertias"), **kwargs)
    selection = kwargs.pop("selection", None)
    table = getattr(selection, "table", None)
    if isinstance(table, pd.DataFrame) and "inertia" in table.columns:
        votes = getattr(selection, "votes", {}) or {}
        chosen = kwargs.pop("chosen_k", votes.get("elbow", getattr(selection, "best_k", None)))
        return plot_elbow(table.index, table["inertia"], chosen_k=chosen, **kwargs)
    array, _ = _matrix(X)
    chosen = kwargs.pop("chosen_k", getattr(model, "n_clusters", None))
    k_range = kwargs.pop("k_range", range(2, 11))
    rows = _sample(array.shape[0], kwargs.pop("max_samples", ELBOW_SAMPLES), random_state=0)
    sub = array if rows is None else array[rows]
    ks, wcss = _elbow_curve(model, sub, k_range)
    if rows is not None:
        kwargs.setdefault(
            "title",
            f"Elbow on a sample of {sub.shape[0]:,} of {array.shape[0]:,} rows "
            f"(chosen k = {chosen})",
        )
    return plot_elbow(ks, wcss, chosen_k=chosen, **kwargs)
