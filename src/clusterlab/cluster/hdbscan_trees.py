"""The trees an HDBSCAN fit produces, as result objects with ``to_pandas()`` and ``plot()``.

matplotlib and pandas are imported inside the methods that need them, so holding a fitted model
costs neither.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from clusterlab.kernels import condensed_tree as ct

__all__ = ["CondensedTree", "SingleLinkageTree"]

CONDENSED_DTYPE = np.dtype(
    [
        ("parent", np.int64),
        ("child", np.int64),
        ("lambda_val", np.float64),
        ("child_size", np.int64),
    ]
)


class CondensedTree:
    """The condensed cluster tree of an HDBSCAN fit.

    Rows ``(parent, child, lambda_val, child_size)``: points are ``0..n_points-1`` and clusters
    ``n_points, n_points + 1, ...`` with the root ``n_points``. A row with a point child says the
    point left ``parent`` at ``lambda_val = 1 / distance``; a row with a cluster child says the
    cluster split off ``parent`` at ``lambda_val`` with ``child_size`` points.

    Parameters
    ----------
    parent, child, lambda_val, child_size : ndarray of shape (m,)
    n_points : int
    selected_clusters : ndarray of int
        Ids of the clusters chosen for the flat clustering; label ``i`` is
        ``selected_clusters[i]``.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster.hdbscan import HDBSCAN
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 0.3, (40, 2)), rng.normal(5, 0.3, (40, 2))])
    >>> tree = HDBSCAN(min_cluster_size=10).fit(X).condensed_tree_
    >>> list(tree.to_pandas().columns)
    ['parent', 'child', 'lambda_val', 'child_size']
    """

    def __init__(
        self,
        parent: np.ndarray,
        child: np.ndarray,
        lambda_val: np.ndarray,
        child_size: np.ndarray,
        *,
        n_points: int,
        selected_clusters: np.ndarray,
    ) -> None:
        self.parent = np.asarray(parent, dtype=np.int64)
        self.child = np.asarray(child, dtype=np.int64)
        self.lambda_val = np.asarray(lambda_val, dtype=np.float64)
        self.child_size = np.asarray(child_size, dtype=np.int64)
        self.n_points = int(n_points)
        self.selected_clusters = np.asarray(selected_clusters, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.parent.size)

    def __repr__(self) -> str:
        n_clusters = int(self.parent.max() - self.n_points + 1) if len(self) else 0
        return (
            f"CondensedTree(n_points={self.n_points}, n_tree_clusters={n_clusters}, "
            f"n_selected={self.selected_clusters.size})"
        )

    def to_numpy(self) -> np.ndarray:
        """The rows as a structured array (fields parent, child, lambda_val, child_size)."""
        out = np.empty(len(self), dtype=CONDENSED_DTYPE)
        out["parent"] = self.parent
        out["child"] = self.child
        out["lambda_val"] = self.lambda_val
        out["child_size"] = self.child_size
        return out

    def to_pandas(self) -> Any:
        """The rows as a DataFrame with columns parent, child, lambda_val, child_size."""
        import pandas as pd

        return pd.DataFrame(
            {
                "parent": self.parent,
                "child": self.child,
                "lambda_val": self.lambda_val,
                "child_size": self.child_size,
            }
        )

    def plot(
        self,
        *,
        ax: Any = None,
        select_clusters: bool = True,
        cmap: str = "viridis",
        log_size: bool = False,
    ) -> Any:
        """Draw the tree as an icicle plot: lambda downwards, bar width = points still in.

        Drawn by :func:`clusterlab.plots.plot_condensed_tree` (``cmap`` shading, selected
        clusters outlined in red and numbered by their label).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Drawn into a new figure when None.
        select_clusters : bool
            Outline the clusters of the flat clustering.
        cmap : str
            Colour map for the number of points.
        log_size : bool
            Colour by the log of the number of points.

        Returns
        -------
        matplotlib.figure.Figure
            The figure, like every clusterlab plot (it used to be the Axes, as hdbscan's
            ``plot`` returns): the axes is ``fig.axes[0]``, or the ``ax`` passed in.
        """
        from clusterlab.plots import plot_condensed_tree

        return plot_condensed_tree(
            self,
            select_clusters=select_clusters,
            cmap=cmap,
            log_size=log_size,
            ax=ax,
            title="HDBSCAN condensed tree",
        )


class SingleLinkageTree:
    """The single-linkage tree of the mutual reachability distances (scipy's linkage layout).

    Merge ``i`` joins nodes ``left[i]`` and ``right[i]`` (points are ``0..n-1``, merge ``i``
    creates node ``n + i``) at height ``distance[i]`` into a cluster of ``size[i]`` points.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster.hdbscan import HDBSCAN
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 0.3, (40, 2)), rng.normal(5, 0.3, (40, 2))])
    >>> slt = HDBSCAN(min_cluster_size=10).fit(X).single_linkage_tree_
    >>> slt.to_numpy().shape
    (79, 4)
    """

    def __init__(
        self, left: np.ndarray, right: np.ndarray, distance: np.ndarray, size: np.ndarray
    ) -> None:
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.distance = np.asarray(distance, dtype=np.float64)
        self.size = np.asarray(size, dtype=np.int64)

    @property
    def n_points(self) -> int:
        return int(self.left.size + 1)

    def __len__(self) -> int:
        return int(self.left.size)

    def __repr__(self) -> str:
        return f"SingleLinkageTree(n_points={self.n_points})"

    def to_numpy(self) -> np.ndarray:
        """The tree as scipy's ``(n - 1, 4)`` float64 linkage matrix."""
        return np.column_stack(
            [self.left, self.right, self.distance, self.size.astype(np.float64)]
        ).astype(np.float64)

    def to_pandas(self) -> Any:
        """A DataFrame with columns parent, left_child, right_child, distance, size."""
        import pandas as pd

        n = self.n_points
        return pd.DataFrame(
            {
                "parent": np.arange(n, 2 * n - 1, dtype=np.int64),
                "left_child": self.left,
                "right_child": self.right,
                "distance": self.distance,
                "size": self.size,
            }
        )

    def get_clusters(self, cut_distance: float, min_cluster_size: int = 5) -> np.ndarray:
        """Flat clusters of the tree cut at ``cut_distance`` (merges strictly below it).

        Components smaller than ``min_cluster_size`` are noise (-1); clusters are numbered by
        their smallest point index.
        """
        return ct.cut_tree(
            self.left, self.right, self.distance, float(cut_distance), int(min_cluster_size)
        )

    def plot(self, *, ax: Any = None, truncate_mode: str | None = "lastp", p: int = 40) -> Any:
        """Draw the dendrogram (scipy's), truncated to the last ``p`` merges by default.

        Drawn by :func:`clusterlab.plots.plot_dendrogram`; ``truncate_mode`` is scipy's
        (``"lastp"``, ``"level"``, or None for every merge).

        Returns
        -------
        matplotlib.figure.Figure
            The figure, like every clusterlab plot (it used to be the Axes): the axes is
            ``fig.axes[0]``, or the ``ax`` passed in.
        """
        from clusterlab.plots import plot_dendrogram

        return plot_dendrogram(
            self,
            truncate=None if truncate_mode is None else p,
            truncate_mode=truncate_mode or "lastp",
            ax=ax,
            title="HDBSCAN single-linkage tree",
        )
