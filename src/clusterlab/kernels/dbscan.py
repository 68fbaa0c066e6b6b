"""DBSCAN in O(n) extra memory on three neighbour structures: a grid, a kd-tree, a radius graph.

Every path runs the same three steps and never holds more than one point's neighbourhood:

1. **core mask** — a point is core when the total weight of the points within ``eps`` (itself
   included, boundary included) is at least ``min_samples``; counting stops as soon as it is
   reached. Parallel over points (or cells).
2. **components** — core points within ``eps`` of each other are joined in a union-find. Grid:
   core points of one cell are always joined (the cell side is below ``eps / sqrt(d)``), and two
   neighbouring cells are joined when some pair of their core points is within ``eps`` (found in
   parallel, joined serially). kd-tree: core points are processed in blocks in tree order; in
   parallel each lists the distinct components of its core neighbours of smaller tree position
   (read-only finds), then the block's joins are made serially.
3. **labels** — clusters are numbered 0, 1, ... in the order of their smallest core point index,
   and a border point takes the smallest label among the clusters of the core points within
   ``eps`` of it. This is exactly the labelling of scikit-learn's DBSCAN, whose breadth-first
   expansion starts clusters in index order and lets a border point keep the first cluster that
   reaches it; noise is -1.

Squared euclidean distances are sums over coordinates in order, in float64, compared with
``eps * eps``, as in scikit-learn's kd-tree, so core decisions agree with it bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._base import NOISE
from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import (
    NO_LIMIT,
    STACK_SIZE,
    KDTree,
    point_knn,
    radius_next,
    walk_start,
)
from clusterlab.kernels.metric import rdist, rdist_rows
from clusterlab.kernels.union_find import uf_find, uf_find_readonly, uf_make, uf_union
from clusterlab.kernels.variants import choose, exponent, metric_twins

__all__ = [
    "graph_dbscan",
    "graph_nearest_core",
    "grid_dbscan",
    "tree_dbscan",
    "tree_nearest_core",
]

#: Most distinct neighbouring components a point records in the parallel linking phase; a point
#: with more is linked again serially (rare: it sits where many clusters still meet).
_MAX_LINKS = 16

#: Most neighbours remembered per non-core point between the core and the border steps.
_MAX_MEMO = 32


# --------------------------------------------------------------------------------------------
# grid (euclidean, low dimension)
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, parallel=True)
def _grid_core_mask(X, grid, neighbours, weights, eps2, min_samples):  # noqa: PLR0917
    order, cell_start, _, _ = grid
    ptr, cells = neighbours
    n_cells = cell_start.shape[0] - 1
    is_core = np.zeros(X.shape[0], dtype=np.bool_)
    for c in prange(n_cells):
        own = 0.0
        for t in range(cell_start[c], cell_start[c + 1]):
            own += weights[order[t]]
        if own >= min_samples:
            for t in range(cell_start[c], cell_start[c + 1]):
                is_core[order[t]] = True
            continue
        for t in range(cell_start[c], cell_start[c + 1]):
            i = order[t]
            total = own
            for q in range(ptr[c], ptr[c + 1]):
                c2 = cells[q]
                for u in range(cell_start[c2], cell_start[c2 + 1]):
                    j = order[u]
                    if rdist_rows(X, i, X, j, 2.0) <= eps2:
                        total += weights[j]
                if total >= min_samples:
                    break
            is_core[i] = total >= min_samples
    return is_core


@njit(cache=CACHE)
def _cells_touch(X, order, cell_start, is_core, a, b, eps2):  # noqa: PLR0917
    """True when a core point of cell ``a`` is within eps of a core point of cell ``b``."""
    for t in range(cell_start[a], cell_start[a + 1]):
        i = order[t]
        if not is_core[i]:
            continue
        for u in range(cell_start[b], cell_start[b + 1]):
            j = order[u]
            if is_core[j] and rdist_rows(X, i, X, j, 2.0) <= eps2:
                return True
    return False


@njit(cache=CACHE, parallel=True)
def _grid_links(X, grid, neighbours, is_core, cell_core, eps2):  # noqa: PLR0917
    order, cell_start, _, _ = grid
    ptr, cells = neighbours
    n_cells = cell_start.shape[0] - 1
    linked = np.zeros(cells.shape[0], dtype=np.bool_)
    for c in prange(n_cells):
        if not cell_core[c]:
            continue
        for q in range(ptr[c], ptr[c + 1]):
            c2 = cells[q]
            if c2 > c and cell_core[c2]:
                linked[q] = _cells_touch(X, order, cell_start, is_core, c, c2, eps2)
    return linked


@njit(cache=CACHE, parallel=True)
def _grid_border_labels(X, grid, neighbours, is_core, cell_label, labels, eps2):  # noqa: PLR0917
    order, cell_start, _, _ = grid
    ptr, cells = neighbours
    n_cells = cell_start.shape[0] - 1
    for c in prange(n_cells):
        for t in range(cell_start[c], cell_start[c + 1]):
            i = order[t]
            if is_core[i]:
                continue
            # every core point of the own cell is within eps: its cluster is a candidate
            best = cell_label[c]
            for q in range(ptr[c], ptr[c + 1]):
                c2 = cells[q]
                cand = cell_label[c2]
                if cand < 0 or (best >= 0 and cand >= best):
                    continue
                for u in range(cell_start[c2], cell_start[c2 + 1]):
                    j = order[u]
                    if is_core[j] and rdist_rows(X, i, X, j, 2.0) <= eps2:
                        best = cand
                        break
            labels[i] = best


@njit(cache=CACHE)
def grid_dbscan(X, grid, neighbours, weights, eps, min_samples):  # noqa: PLR0917
    """Euclidean DBSCAN on a grid of cells of side below ``eps / sqrt(d)``.

    Parameters
    ----------
    X : float64 or float32 array of shape (n, d)
        Read only.
    grid : tuple
        :func:`clusterlab.kernels.grid.build_grid` of ``X`` with side ``grid_side(eps, d)``.
    neighbours : tuple ``(ptr, cells)``
        :func:`clusterlab.kernels.grid.neighbour_cells` with ``cell_offsets(eps, side, d)``.
    weights : float64 array of shape (n,), non-negative
    eps : float > 0
    min_samples : float

    Returns
    -------
    labels : int64 array of shape (n,)
        Cluster of every point (see the module docstring for the numbering), -1 for noise.
    is_core : bool array of shape (n,)
    """
    n = X.shape[0]
    eps2 = eps * eps
    _order, cell_start, _, cell_of = grid
    ptr, cells = neighbours
    n_cells = cell_start.shape[0] - 1
    is_core = _grid_core_mask(X, grid, neighbours, weights, eps2, min_samples)
    cell_core = np.zeros(n_cells, dtype=np.bool_)
    for i in range(n):
        if is_core[i]:
            cell_core[cell_of[i]] = True
    linked = _grid_links(X, grid, neighbours, is_core, cell_core, eps2)
    parent, size = uf_make(n_cells)
    for c in range(n_cells):
        for q in range(ptr[c], ptr[c + 1]):
            if linked[q]:
                uf_union(parent, size, c, cells[q])
    labels = np.full(n, NOISE, dtype=np.int64)
    root_label = np.full(n_cells, NOISE, dtype=np.int64)
    next_label = 0
    for i in range(n):
        if is_core[i]:
            r = uf_find(parent, cell_of[i])
            if root_label[r] < 0:
                root_label[r] = next_label
                next_label += 1
            labels[i] = root_label[r]
    cell_label = np.full(n_cells, NOISE, dtype=np.int64)
    for c in range(n_cells):
        if cell_core[c]:
            cell_label[c] = root_label[uf_find(parent, c)]
    _grid_border_labels(X, grid, neighbours, is_core, cell_label, labels, eps2)
    return labels, is_core


# --------------------------------------------------------------------------------------------
# kd-tree (any Minkowski p, any dimension)
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, inline="always")
def _reaches(tree, t, r, p, cum_weight, min_samples, memo):  # noqa: PLR0917
    """True when the weight within reduced radius ``r`` of tree point ``t`` is >= min_samples.

    Writes the tree positions of the neighbours into ``memo`` while they fit and returns, as
    second value, how many were written (-1 when they did not fit); a point that is not core has
    few neighbours, and the border step then reads them instead of searching again.
    """
    data = tree.data
    start = tree.node_start
    end = tree.node_end
    x = data[t]
    cap = memo.shape[0]
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    sp = walk_start(stack)
    total = 0.0
    count = 0
    while True:
        node, sp, inside = radius_next(tree, x, r, p, stack, sp, NO_LIMIT, True, False)
        if node < 0:
            break
        if inside:
            total += cum_weight[end[node]] - cum_weight[start[node]]
            if count >= 0 and count + end[node] - start[node] <= cap:
                for u in range(start[node], end[node]):
                    memo[count] = u
                    count += 1
            else:
                count = -1
        else:
            for u in range(start[node], end[node]):
                if rdist(data[u], x, p) <= r:
                    total += cum_weight[u + 1] - cum_weight[u]
                    if 0 <= count < cap:
                        memo[count] = u
                        count += 1
                    else:
                        count = -1
        if total >= min_samples:
            return True, -1
    return False, count


def _tree_core_mask(tree, weights, r, p, min_samples, memo, memo_count):  # noqa: PLR0917
    """Core flags in tree order; ``memo`` / ``memo_count`` receive non-core neighbourhoods."""
    idx = tree.idx
    n = idx.shape[0]
    cum = np.zeros(n + 1, dtype=np.float64)
    for t in range(n):
        cum[t + 1] = cum[t] + weights[idx[t]]
    is_core = np.zeros(n, dtype=np.bool_)
    for t in prange(n):
        # exponent(p) in the loop body: a constant there in the metric twins (see
        # kdtree._query_knn)
        is_core[t], memo_count[t] = _reaches(tree, t, r, exponent(p), cum, min_samples, memo[t])
    return is_core


@njit(cache=CACHE, inline="always")
def _link_neighbours(tree, t, is_core, r, p, parent, size, roots, serial):  # noqa: PLR0917
    """Core neighbours of tree point ``t`` at smaller tree positions, by component.

    With ``serial`` false: records in ``roots`` the distinct components (read-only finds) other
    than ``t``'s own and returns how many, or -1 when there are more than ``len(roots)``. With
    ``serial`` true: joins ``t`` with each of them at once (writes ``parent`` and ``size``).
    """
    data = tree.data
    x = data[t]
    own = uf_find_readonly(parent, t)
    count = 0
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    sp = walk_start(stack)
    while True:
        # only partners before t: each pair of core points is seen once, from its later point
        node, sp, _ = radius_next(tree, x, r, p, stack, sp, t, False, False)
        if node < 0:
            break
        for u in range(tree.node_start[node], min(tree.node_end[node], t)):
            if not is_core[u] or rdist(data[u], x, p) > r:
                continue
            if serial:
                uf_union(parent, size, t, u)
                continue
            ru = uf_find_readonly(parent, u)
            if ru == own:
                continue
            seen = False
            for q in range(count):
                if roots[q] == ru:
                    seen = True
                    break
            if seen:
                continue
            if count == roots.shape[0]:
                return -1
            roots[count] = ru
            count += 1
    return count


def _links_of(tree, t, is_core, r, p, parent, size, roots, serial):  # noqa: PLR0917
    """:func:`_link_neighbours` as a kernel of its own (one per metric).

    One function for the parallel loop and the serial fallback alike: the walk compiles once
    per metric instead of twice.
    """
    return _link_neighbours(tree, t, is_core, r, exponent(p), parent, size, roots, serial)


def _tree_block_links(tree, is_core, r, p, parent, size, block, roots, counts):  # noqa: PLR0917
    # false, but computed: a literal flag would type _links_of apart from the serial fallback
    # and compile the walk twice (2.5 s of CPU, measured)
    serial = counts.shape[0] < 0
    for b in prange(block.shape[0]):
        counts[b] = _links_of(tree, block[b], is_core, r, p, parent, size, roots[b], serial)


def _tree_components(tree, is_core, r, p, block_size):
    n = is_core.shape[0]
    parent, size = uf_make(n)
    core_pos = np.flatnonzero(is_core)
    roots = np.empty((block_size, _MAX_LINKS), dtype=np.int64)
    counts = np.empty(block_size, dtype=np.int64)
    for first in range(0, core_pos.shape[0], block_size):
        block = core_pos[first : first + block_size]
        m = block.shape[0]
        part = roots[:m]  # both calls pass rows of it: one type of row for _links_of
        _tree_block_links(tree, is_core, r, p, parent, size, block, part, counts[:m])
        for b in range(m):
            t = block[b]
            overflow = counts[b] < 0  # too many components to record: link them serially
            if overflow:
                _links_of(tree, t, is_core, r, p, parent, size, part[b], overflow)
            else:
                for q in range(counts[b]):
                    uf_union(parent, size, t, roots[b, q])
    return parent


@njit(cache=CACHE, inline="always")
def _nearest_label_below(tree, t, is_core, label_t, r, p, best):  # noqa: PLR0917
    """Smallest label among core points within ``r`` of tree point ``t`` (``best`` if none less)."""
    data = tree.data
    x = data[t]
    stack = np.empty(STACK_SIZE, dtype=np.int64)
    sp = walk_start(stack)
    while best != 0:
        node, sp, _ = radius_next(tree, x, r, p, stack, sp, NO_LIMIT, False, False)
        if node < 0:
            break
        for u in range(tree.node_start[node], tree.node_end[node]):
            if is_core[u] and (best < 0 or label_t[u] < best) and rdist(data[u], x, p) <= r:
                best = label_t[u]
    return best


def _tree_border_labels(tree, is_core, label_t, r, p, memo, memo_count):  # noqa: PLR0917
    n = is_core.shape[0]
    out = label_t.copy()
    for t in prange(n):
        if is_core[t]:
            continue
        if memo_count[t] >= 0:
            best = NOISE
            for q in range(memo_count[t]):
                u = memo[t, q]
                if is_core[u] and (best < 0 or label_t[u] < best):
                    best = label_t[u]
            out[t] = best
        else:
            out[t] = _nearest_label_below(tree, t, is_core, label_t, r, exponent(p), NOISE)
    return out


def _tree_dbscan(tree, weights, r, p, min_samples, block_size):  # noqa: PLR0917
    """:func:`tree_dbscan`'s kernel: the three steps in tree order, results in row order."""
    idx = tree.idx
    n = idx.shape[0]
    # neighbourhoods of non-core points, kept while they have at most `cap` points: O(n) memory
    cap = max(1, min(int(np.ceil(min_samples)), _MAX_MEMO))
    memo = np.empty((n, cap), dtype=np.int64)
    memo_count = np.empty(n, dtype=np.int64)
    core_t = _tree_core_mask(tree, weights, r, p, min_samples, memo, memo_count)
    parent = _tree_components(tree, core_t, r, p, block_size)
    pos = np.empty(n, dtype=np.int64)
    for t in range(n):
        pos[idx[t]] = t
    label_t = np.full(n, NOISE, dtype=np.int64)
    root_label = np.full(n, NOISE, dtype=np.int64)
    next_label = 0
    for i in range(n):
        t = pos[i]
        if core_t[t]:
            root = uf_find(parent, t)
            if root_label[root] < 0:
                root_label[root] = next_label
                next_label += 1
            label_t[t] = root_label[root]
    label_t = _tree_border_labels(tree, core_t, label_t, r, p, memo, memo_count)
    labels = np.empty(n, dtype=np.int64)
    is_core = np.empty(n, dtype=np.bool_)
    for t in range(n):
        labels[idx[t]] = label_t[t]
        is_core[idx[t]] = core_t[t]
    return labels, is_core


def tree_dbscan(  # noqa: PLR0917
    tree: KDTree, weights: np.ndarray, r: float, p: float, min_samples: float, block_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """DBSCAN with a kd-tree, for any Minkowski ``p``.

    Runs the kernels' twins for the metric of ``p`` (serial for small data on one thread, see
    :mod:`clusterlab.kernels.variants`); callable from Python only.

    Parameters
    ----------
    tree : KDTree
        :func:`clusterlab.kernels.kdtree.build_kdtree` of the data.
    weights : float64 array of shape (n,), non-negative, in the order of the original rows
    r : float
        ``eps`` as a reduced distance (:func:`clusterlab.kernels.kdtree.dist_to_rdist`).
    p : float
        Minkowski exponent.
    min_samples : float
    block_size : int >= 1
        Core points linked per parallel block (memory ``block_size * 16`` int64).

    Returns
    -------
    labels : int64 array of shape (n,), in the order of the original rows (-1 for noise)
    is_core : bool array of shape (n,), in the order of the original rows
    """
    kernel = choose(_TREE_DBSCAN, p, tree.data.size)
    return kernel(tree, weights, r, p, min_samples, block_size)


# --------------------------------------------------------------------------------------------
# precomputed radius graph (CSR)
# --------------------------------------------------------------------------------------------
@njit(cache=CACHE, parallel=True)
def _graph_core_mask(indptr, indices, dist, weights, eps, min_samples):  # noqa: PLR0917
    n = indptr.shape[0] - 1
    is_core = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        total = weights[i]
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            if j != i and dist[q] <= eps:
                total += weights[j]
        is_core[i] = total >= min_samples
    return is_core


@njit(cache=CACHE, parallel=True)
def _graph_border_labels(indptr, indices, dist, is_core, labels, eps):  # noqa: PLR0917
    n = indptr.shape[0] - 1
    for i in prange(n):
        if is_core[i]:
            continue
        best = NOISE
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            if is_core[j] and dist[q] <= eps and (best < 0 or labels[j] < best):
                best = labels[j]
        labels[i] = best


@njit(cache=CACHE)
def graph_dbscan(indptr, indices, dist, weights, eps, min_samples):  # noqa: PLR0917
    """DBSCAN on a precomputed radius graph in CSR form.

    Parameters
    ----------
    indptr, indices : int64 arrays
        CSR structure of an (n, n) graph, expected symmetric; row ``i`` lists candidate
        neighbours of ``i``. A point is always its own neighbour (stored diagonal entries are
        ignored); other entries count when their distance is ``<= eps``.
    dist : float64 array of shape (indptr[-1],)
        Stored distances.
    weights : float64 array of shape (n,), non-negative
    eps : float >= 0
    min_samples : float

    Returns
    -------
    labels : int64 array of shape (n,)
    is_core : bool array of shape (n,)
    """
    n = indptr.shape[0] - 1
    is_core = _graph_core_mask(indptr, indices, dist, weights, eps, min_samples)
    parent, size = uf_make(n)
    for i in range(n):
        if not is_core[i]:
            continue
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            if is_core[j] and dist[q] <= eps:
                uf_union(parent, size, i, j)
    labels = np.full(n, NOISE, dtype=np.int64)
    root_label = np.full(n, NOISE, dtype=np.int64)
    next_label = 0
    for i in range(n):
        if is_core[i]:
            root = uf_find(parent, i)
            if root_label[root] < 0:
                root_label[root] = next_label
                next_label += 1
            labels[i] = root_label[root]
    _graph_border_labels(indptr, indices, dist, is_core, labels, eps)
    return labels, is_core


@njit(cache=CACHE, parallel=True)
def graph_nearest_core(indptr, indices, dist, core_label, eps):
    """Label of the nearest core point within ``eps`` for each row of a CSR distance matrix.

    Parameters
    ----------
    indptr, indices : int64 arrays
        CSR structure of an (m, n_train) matrix of distances from new points to training points.
    dist : float64 array
        Stored distances.
    core_label : int64 array of shape (n_train,)
        Cluster of each training core point, -1 for the others.
    eps : float

    Returns
    -------
    int64 array of shape (m,)
        Label of the nearest core point (ties by smaller training index), -1 when none is within
        ``eps``.
    """
    m = indptr.shape[0] - 1
    out = np.full(m, NOISE, dtype=np.int64)
    for i in prange(m):
        best_d = np.inf
        best_j = -1
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            d = dist[q]
            if core_label[j] < 0 or d > eps:
                continue
            if d < best_d or (d == best_d and j < best_j):
                best_d = d
                best_j = j
        if best_j >= 0:
            out[i] = core_label[best_j]
    return out


def _tree_nearest_core(tree, Q, r, p, core_label):
    """:func:`tree_nearest_core`'s kernel, compiled per metric (``_TREE_NEAREST_CORE``)."""
    m = Q.shape[0]
    out = np.full(m, NOISE, dtype=np.int64)
    for i in prange(m):
        best_r = np.empty(1, dtype=np.float64)
        best_j = np.empty(1, dtype=np.int64)
        point_knn(tree, Q[i], exponent(p), best_r, best_j)  # a constant in the twins
        if best_r[0] <= r:
            out[i] = core_label[best_j[0]]
    return out


def tree_nearest_core(
    tree: KDTree, Q: np.ndarray, r: float, p: float, core_label: np.ndarray
) -> np.ndarray:
    """Label of the nearest core point within reduced radius ``r`` of each row of ``Q``.

    Callable from Python only (it runs the kernel's twin for ``p``, as :func:`tree_dbscan`).

    Parameters
    ----------
    tree : KDTree
        :func:`clusterlab.kernels.kdtree.build_kdtree` of the core points only.
    Q : float array of shape (m, d)
    r : float
        ``eps`` as a reduced distance.
    p : float
    core_label : int64 array of shape (n_core,)
        Cluster of each core point (rows of the tree's input).

    Returns
    -------
    int64 array of shape (m,)
        -1 where no core point is within ``eps``; ties by smaller core index.
    """
    return choose(_TREE_NEAREST_CORE, p, Q.size)(tree, Q, r, p, core_label)


# The kd-tree kernels for every metric x (parallel, serial), each compiled on first use: a
# euclidean DBSCAN compiles one copy of each tree walk (bound below as e.g.
# _tree_core_mask_euclidean_serial).
_LINKS_OF = metric_twins(_links_of, parallel=False)
_TREE_BLOCK_LINKS = metric_twins(_tree_block_links, _links_of=_LINKS_OF)
_TREE_COMPONENTS = metric_twins(
    _tree_components, parallel=False, _tree_block_links=_TREE_BLOCK_LINKS, _links_of=_LINKS_OF
)
_TREE_DBSCAN = metric_twins(
    _tree_dbscan,
    parallel=False,
    _tree_core_mask=metric_twins(_tree_core_mask),
    _tree_components=_TREE_COMPONENTS,
    _tree_border_labels=metric_twins(_tree_border_labels),
)
_TREE_NEAREST_CORE = metric_twins(_tree_nearest_core)
