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

    def _layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Icicle bars: x centre, width, bottom lambda, top lambda and cluster of each bar."""
        n = self.n_points
        tree = (self.parent, self.child, self.lambda_val, self.child_size)
        cl_parent, first, second, birth, members, _ = ct.cluster_arrays(tree, n)
        k = cl_parent.size
        left_edge = np.zeros(k)
        for c in range(k):  # ids are topological: a parent is placed before its children
            a, b = first[c], second[c]
            if a >= 0:
                slack = members[c] - members[a] - members[b]
                left_edge[a] = left_edge[c] + slack / 2.0
                left_edge[b] = left_edge[a] + members[a]
        finite = self.lambda_val[np.isfinite(self.lambda_val)]
        cap = float(finite.max()) * 1.05 if finite.size else 1.0
        lam = np.minimum(self.lambda_val, cap)
        order = np.lexsort((lam, self.parent))
        centres, widths, bottoms, tops, owners = [], [], [], [], []
        bounds = np.searchsorted(self.parent[order], np.arange(n, n + k + 1))
        for c in range(k):
            rows = order[bounds[c] : bounds[c + 1]]
            remaining = float(members[c])
            previous = birth[c]
            centre = left_edge[c] + members[c] / 2.0
            for value in np.unique(lam[rows]):
                if value > previous and remaining > 0:
                    centres.append(centre)
                    widths.append(remaining)
                    bottoms.append(previous)
                    tops.append(value)
                    owners.append(c)
                remaining -= float(self.child_size[rows][lam[rows] == value].sum())
                previous = value
        return (
            np.asarray(centres),
            np.asarray(widths),
            np.asarray(bottoms),
            np.asarray(tops),
            np.asarray(owners, dtype=np.int64),
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
        matplotlib Axes
        """
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 5))
        centres, widths, bottoms, tops, owners = self._layout()
        if centres.size:
            shade = np.log(widths) if log_size else widths
            colours = plt.get_cmap(cmap)(shade / max(shade.max(), 1e-12))
            ax.bar(
                centres, tops - bottoms, width=widths, bottom=bottoms, color=colours, linewidth=0
            )
            if select_clusters:
                for label, cid in enumerate(self.selected_clusters - self.n_points):
                    mine = owners == cid
                    if not mine.any():
                        continue
                    x0 = (centres[mine] - widths[mine] / 2).min()
                    x1 = (centres[mine] + widths[mine] / 2).max()
                    y0, y1 = bottoms[mine].min(), tops[mine].max()
                    ax.add_patch(
                        Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="red", lw=1.5)
                    )
                    ax.annotate(str(label), (x1, y0), color="red", fontsize=8)
        ax.set_ylim(max(tops.max(), 1e-12) if centres.size else 1.0, 0.0)
        ax.set_xticks([])
        ax.set_ylabel("lambda = 1 / distance")
        ax.set_title("HDBSCAN condensed tree")
        return ax


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

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt
        from scipy.cluster.hierarchy import dendrogram

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 5))
        dendrogram(
            self.to_numpy(),
            ax=ax,
            truncate_mode=truncate_mode,
            p=p,
            no_labels=truncate_mode is None,
        )
        ax.set_ylabel("mutual reachability distance")
        ax.set_title("HDBSCAN single-linkage tree")
        return ax
