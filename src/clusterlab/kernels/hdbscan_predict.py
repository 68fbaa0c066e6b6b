"""Out-of-sample HDBSCAN: approximate prediction and soft-clustering membership vectors.

A new point is attached to the condensed tree of a fitted model without re-clustering: among
its ``2 * min_samples`` nearest training points it picks the one at the smallest mutual
reachability distance, then enters the tree at that neighbour's cluster, moving up while the
cluster was born above the new point's lambda. These are the definitions of the hdbscan
library's ``approximate_predict`` and ``membership_vector`` (McInnes & Healy), with one
deliberate difference: the training core distances are the ones the clustering used, and a new
point's core distance is its distance to its ``min_samples``-th nearest training point (hdbscan
recomputes the training core distances with one neighbour fewer than its clustering used). With
that rule a training point fed back in finds itself, at its own core distance, and gets its own
label. The kernels take the neighbours precomputed (any kNN backend) and run in parallel over
the new points.

Cluster arrays are indexed by ``cluster id - n_train`` as in
:mod:`clusterlab.kernels.condensed_tree`; ``clusters`` is the tuple from its ``cluster_arrays``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from clusterlab._base import NOISE
from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import STACK_SIZE, min_rdist_point_node
from clusterlab.kernels.metric import rdist, rdist_to_dist
from clusterlab.kernels.mst import knn_within

__all__ = [
    "approximate_predict",
    "attach_points",
    "attach_points_tree",
    "exemplars",
    "membership_vectors",
    "point_rows",
]

_DBL_MAX = np.finfo(np.float64).max


@njit(cache=CACHE, inline="always")
def _lambda_of(mr, half_square):
    """``1 / distance`` (the largest float at 0) of a mutual reachability distance ``mr``.

    With ``half_square`` the distance is ``mr * mr / 2``: the cosine distance when ``mr`` is a
    euclidean distance between rows scaled to unit length (the same formula as the fit's).
    """
    d = mr * mr / 2.0 if half_square else mr
    return 1.0 / d if d > 0.0 else _DBL_MAX


@njit(cache=CACHE)
def point_rows(tree, n_points):
    """Where each training point leaves the condensed tree.

    Parameters
    ----------
    tree : tuple (parent, child, lambda_val, child_size)
    n_points : int

    Returns
    -------
    point_cluster : int64 (n_points,)
        Cluster index (``parent - n_points``) the point falls out of.
    point_lambda : float64 (n_points,)
        Lambda at which it does.
    """
    parent, child, lambda_val, _ = tree
    point_cluster = np.zeros(n_points, dtype=np.int64)
    point_lambda = np.zeros(n_points, dtype=np.float64)
    for r in range(parent.shape[0]):
        c = child[r]
        if c < n_points:
            point_cluster[c] = parent[r] - n_points
            point_lambda[c] = lambda_val[r]
    return point_cluster, point_lambda


@njit(cache=CACHE)
def exemplars(point_cluster, point_lambda, clusters, label_of_cluster, n_labels):
    """Exemplar points of each selected cluster, grouped by label.

    The exemplars of a selected cluster are, in each leaf cluster below it, the points that stay
    until the leaf's largest lambda (the leaf's densest core).

    Returns
    -------
    order : int64 (n_exemplars,)
        Training indices, grouped by label.
    offsets : int64 (n_labels + 1,)
        Label ``l``'s exemplars are ``order[offsets[l]:offsets[l + 1]]``.
    """
    first_child = clusters[1]
    max_lambda = clusters[5]
    n = point_cluster.shape[0]
    owner_label = np.full(n, -1, dtype=np.int64)
    counts = np.zeros(n_labels + 1, dtype=np.int64)
    for i in range(n):
        c = point_cluster[i]
        lab = label_of_cluster[c]
        if lab >= 0 and first_child[c] < 0 and point_lambda[i] == max_lambda[c]:
            owner_label[i] = lab
            counts[lab + 1] += 1
    offsets = np.cumsum(counts)
    fill = offsets[:-1].copy()
    order = np.empty(offsets[-1], dtype=np.int64)
    for i in range(n):
        lab = owner_label[i]
        if lab >= 0:
            order[fill[lab]] = i
            fill[lab] += 1
    return order, offsets


@njit(cache=CACHE, parallel=True)
def attach_points(nbr_idx, nbr_dist, core, min_samples, half_square=False):
    """Each new point's nearest training point in mutual reachability distance, and its lambda.

    The new point's core distance is ``nbr_dist[:, min_samples - 1]``; the candidates are the
    ``k`` neighbours given (``2 * min_samples`` in the definition). When fewer columns are given,
    a point is still settled exactly if some neighbour reaches the smallest possible value, the
    point's own core distance (a neighbour beyond the ``min_samples``-th cannot beat that): the
    caller queries more neighbours only for the points reported unsettled.

    Parameters
    ----------
    nbr_idx : int64 (m, k)
        Nearest training points, nearest first, ties by index; ``k >= min(min_samples, n)``.
    nbr_dist : float (m, k)
        Their distances.
    core : float64 (n,)
        Training core distances.
    min_samples : int
    half_square : bool, default=False
        Report lambdas of ``mr * mr / 2`` (cosine distances of rows scaled to unit length).

    Returns
    -------
    nearest : int64 (m,)
        Training row the point attaches to (the first neighbour at the smallest distance).
    lam : float64 (m,)
        ``1 / mutual reachability distance`` (largest float when that distance is 0).
    settled : bool (m,)
        False where a neighbour beyond the ``k`` given might still be nearer.
    """
    m, k = nbr_idx.shape
    nearest = np.empty(m, dtype=np.int64)
    lam = np.empty(m, dtype=np.float64)
    settled = np.empty(m, dtype=np.bool_)
    for i in prange(m):
        own_core = nbr_dist[i, min(min_samples, k) - 1]
        best = 0
        best_mr = np.inf
        for j in range(k):
            mr = max(core[nbr_idx[i, j]], own_core, nbr_dist[i, j])
            if mr < best_mr:
                best_mr = mr
                best = j
        nearest[i] = nbr_idx[i, best]
        lam[i] = _lambda_of(best_mr, half_square)
        settled[i] = best_mr <= own_core
    return nearest, lam, settled


_CHUNK = 64


@njit(cache=CACHE, parallel=True)
def _leaf_order(tree, Q, p):
    """An order of the query rows that keeps rows falling in one kd-tree leaf together."""
    left = tree.node_left
    right = tree.node_right
    m = Q.shape[0]
    leaf = np.empty(m, dtype=np.int64)
    for i in prange(m):
        node = 0
        while left[node] >= 0:
            a = left[node]
            b = right[node]
            node = (
                a
                if min_rdist_point_node(tree, a, Q[i], p) <= min_rdist_point_node(tree, b, Q[i], p)
                else b
            )
        leaf[i] = node
    return np.argsort(leaf, kind="mergesort")


@njit(cache=CACHE)
def _attach_one(core_t, own_k, heap_d, heap_i, p):
    """Nearest candidate in mutual reachability among sorted heaps; (position, mr, settled)."""
    own_core = rdist_to_dist(heap_d[own_k - 1], p)
    best = 0
    best_mr = np.inf
    for j in range(heap_d.shape[0]):
        mr = max(core_t[heap_i[j]], own_core, rdist_to_dist(heap_d[j], p))
        if mr < best_mr:
            best_mr = mr
            best = j
    return heap_i[best], best_mr, best_mr <= own_core


@njit(cache=CACHE, inline="always")
def _before(d1, i1, d2, i2):
    """(distance, position) order: nearer first, ties by smaller tree position."""
    return d1 < d2 or (d1 == d2 and i1 < i2)


@njit(cache=CACHE)
def _select_smallest(cand_d, cand_i, size, k):
    """Reorder ``cand_*[:size]`` so that the ``k`` smallest come first and the k-th is at k - 1.

    Quickselect (Hoare partition, median-of-three pivot) by :func:`_before`; the keys are unique
    because tree positions are. Average O(size), against O(log k) per insertion for a heap.
    """
    lo = 0
    hi = size - 1
    target = k - 1
    while lo < hi:
        a = lo
        b = (lo + hi) >> 1
        c = hi
        if _before(cand_d[b], cand_i[b], cand_d[a], cand_i[a]):
            a, b = b, a
        if _before(cand_d[c], cand_i[c], cand_d[b], cand_i[b]):
            b = c
            if _before(cand_d[b], cand_i[b], cand_d[a], cand_i[a]):
                b = a
        pivot_d = cand_d[b]
        pivot_i = cand_i[b]
        i = lo
        j = hi
        while i <= j:
            while _before(cand_d[i], cand_i[i], pivot_d, pivot_i):
                i += 1
            while _before(pivot_d, pivot_i, cand_d[j], cand_i[j]):
                j -= 1
            if i <= j:
                cand_d[i], cand_d[j] = cand_d[j], cand_d[i]
                cand_i[i], cand_i[j] = cand_i[j], cand_i[i]
                i += 1
                j -= 1
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            return


@njit(cache=CACHE, inline="always")
def _node_push(node_d, node_id, size, d, node):
    """Push ``node`` at reduced distance ``d`` on the min-heap ``node_*[:size]``; new size."""
    pos = size
    node_d[pos] = d
    node_id[pos] = node
    while pos > 0:
        parent = (pos - 1) >> 1
        if node_d[parent] <= node_d[pos]:
            break
        node_d[parent], node_d[pos] = node_d[pos], node_d[parent]
        node_id[parent], node_id[pos] = node_id[pos], node_id[parent]
        pos = parent
    return size + 1


@njit(cache=CACHE, inline="always")
def _node_pop(node_d, node_id, size):
    """Drop the root of the min-heap ``node_*[:size]``; new size."""
    size -= 1
    node_d[0] = node_d[size]
    node_id[0] = node_id[size]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            return size
        if child + 1 < size and node_d[child + 1] < node_d[child]:
            child += 1
        if node_d[pos] <= node_d[child]:
            return size
        node_d[child], node_d[pos] = node_d[pos], node_d[child]
        node_id[child], node_id[pos] = node_id[pos], node_id[child]
        pos = child


@njit(cache=CACHE)
def _knn_candidates(tree, x, p, k, cand_d, cand_i, node_d, node_id):  # noqa: PLR0917
    """The ``k`` nearest tree positions to ``x``, best-first, without a neighbour heap.

    Nodes are opened in order of their distance to ``x`` (a min-heap of nodes), which stops
    the search as soon as no unopened node can hold a nearer point; points within the current
    bound are appended to a candidate buffer that is cut back to the ``k`` best by
    :func:`_select_smallest` when it fills (and once early, to get a finite bound).

    Parameters
    ----------
    tree : KDTree
        ``kdtree.build_kdtree`` with ``n >= k`` points (read only).
    x : float (d,)
    p : float
    k : int
    cand_d : float64 (c,), c >= 2 * k
        Written: reduced distances of the candidates.
    cand_i : int64 (c,)
        Written: their tree positions.
    node_d : float64 (n_nodes,), node_id : int64 (n_nodes,)
        Scratch space for the node heap.

    Returns
    -------
    size : int
        ``cand_*[:size]`` holds every point nearer than the k-th (and possibly some farther);
        the k nearest are ``cand_*[:k]`` (unsorted) and the k-th nearest is at ``k - 1``.
    """
    data = tree.data
    start = tree.node_start
    end = tree.node_end
    left = tree.node_left
    right = tree.node_right
    capacity = cand_d.shape[0]
    bound = np.inf
    size = 0
    heap_size = _node_push(node_d, node_id, 0, min_rdist_point_node(tree, 0, x, p), 0)
    while heap_size > 0 and node_d[0] <= bound:
        node = node_id[0]
        heap_size = _node_pop(node_d, node_id, heap_size)
        if left[node] < 0:
            for s in range(start[node], end[node]):
                rd = rdist(data[s], x, p)
                if rd > bound:
                    continue
                if size == capacity:
                    _select_smallest(cand_d, cand_i, size, k)
                    size = k
                    bound = cand_d[k - 1]
                    if rd > bound:
                        continue
                cand_d[size] = rd
                cand_i[size] = s
                size += 1
            if size >= k and bound == np.inf:
                _select_smallest(cand_d, cand_i, size, k)
                size = k
                bound = cand_d[k - 1]
            continue
        for child in (left[node], right[node]):
            d_child = min_rdist_point_node(tree, child, x, p)
            if d_child <= bound:
                heap_size = _node_push(node_d, node_id, heap_size, d_child, child)
    _select_smallest(cand_d, cand_i, size, k)
    return size


@njit(cache=CACHE)
def _attach_candidates(core_t, k, cand_d, cand_i, size, p):  # noqa: PLR0917
    """:func:`_attach_one` over an unsorted candidate buffer from :func:`_knn_candidates`.

    Among the k nearest (those not after the k-th in (distance, position) order) the one of
    least mutual reachability, ties to the nearer: the first in sorted order, as there.
    """
    kth_d = cand_d[k - 1]
    kth_i = cand_i[k - 1]
    own_core = rdist_to_dist(kth_d, p)
    best_mr = np.inf
    best_d = np.inf
    best = -1
    for j in range(size):
        rd = cand_d[j]
        s = cand_i[j]
        if _before(kth_d, kth_i, rd, s):
            continue
        mr = max(core_t[s], own_core, rdist_to_dist(rd, p))
        if mr < best_mr or (mr == best_mr and _before(rd, s, best_d, best)):
            best_mr = mr
            best_d = rd
            best = s
    return best, best_mr, best_mr <= own_core


@njit(cache=CACHE, parallel=True)
def attach_points_tree(tree, Q, core_t, min_samples, p, half_square=False):  # noqa: PLR0917
    """:func:`attach_points` with the neighbour search fused in, on the training kd-tree.

    Rows are visited leaf by leaf (neighbouring rows read the same tree nodes, which stay in
    cache), each with a best-first search for ``min_samples`` neighbours
    (:func:`_knn_candidates`); only the few rows not settled by them search again for
    ``2 * min_samples``. Nothing of size ``(m, k)`` is stored. Same result as
    :func:`attach_points` on sorted neighbours.

    Parameters
    ----------
    tree : KDTree
        ``kdtree.build_kdtree`` of the training data.
    Q : float (m, d)
    core_t : float64 (n,)
        Training core distances in tree order.
    min_samples : int
    p : float
    half_square : bool, default=False
        As in :func:`attach_points`.

    Returns
    -------
    nearest : int64 (m,)
        Training row (original order) each point attaches to.
    lam : float64 (m,)
    """
    data = tree.data
    idx = tree.idx
    n = data.shape[0]
    n_nodes = tree.node_start.shape[0]
    m = Q.shape[0]
    k = min(min_samples, n)
    k_full = min(2 * min_samples, n)
    order = _leaf_order(tree, Q, p)
    nearest = np.empty(m, dtype=np.int64)
    lam = np.empty(m, dtype=np.float64)
    n_chunks = (m + _CHUNK - 1) // _CHUNK
    for chunk in prange(n_chunks):
        stack = np.empty(STACK_SIZE, dtype=np.int64)
        cand_d = np.empty(4 * k, dtype=np.float64)
        cand_i = np.empty(4 * k, dtype=np.int64)
        node_d = np.empty(n_nodes, dtype=np.float64)
        node_id = np.empty(n_nodes, dtype=np.int64)
        full_d = np.empty(k_full, dtype=np.float64)
        full_i = np.empty(k_full, dtype=np.int64)
        first = chunk * _CHUNK
        for r in range(first, min(m, first + _CHUNK)):
            i = order[r]
            size = _knn_candidates(tree, Q[i], p, k, cand_d, cand_i, node_d, node_id)
            pos, mr, settled = _attach_candidates(core_t, k, cand_d, cand_i, size, p)
            if not settled and k_full > k:
                knn_within(tree, Q[i], p, np.inf, full_d, full_i, stack)
                pos, mr, _ = _attach_one(core_t, k, full_d, full_i, p)
            nearest[i] = idx[pos]
            lam[i] = _lambda_of(mr, half_square)
    return nearest, lam


@njit(cache=CACHE, parallel=True)
def approximate_predict(nearest, lam, point_cluster, point_lambda, clusters, label_of_cluster):  # noqa: PLR0917
    """Labels and membership probabilities of new points in a fitted condensed tree.

    Parameters
    ----------
    nearest, lam : arrays (m,)
        From :func:`attach_points`.
    point_cluster, point_lambda : arrays (n,)
        From :func:`point_rows`.
    clusters : tuple
        From ``condensed_tree.cluster_arrays``.
    label_of_cluster : int64 (k_clusters,)
        Label of each cluster's selected ancestor, -1 when none (from ``label_points``).

    Returns
    -------
    labels : int64 (m,)
    probabilities : float64 (m,)
    """
    cl_parent, _, _, birth, _, max_lambda = clusters
    k_clusters = cl_parent.shape[0]
    # a sub-cluster of a selected cluster measures probabilities against the selected one
    owner_max = np.zeros(k_clusters, dtype=np.float64)
    for c in range(k_clusters):
        if label_of_cluster[c] < 0:
            continue
        p = cl_parent[c]
        if p >= 0 and label_of_cluster[p] == label_of_cluster[c]:
            owner_max[c] = owner_max[p]
        else:
            owner_max[c] = max_lambda[c]
    m = nearest.shape[0]
    labels = np.full(m, NOISE, dtype=np.int64)
    probabilities = np.zeros(m, dtype=np.float64)
    for i in prange(m):
        nn = nearest[i]
        c = point_cluster[nn]
        if point_lambda[nn] > lam[i]:
            while c > 0 and birth[c] >= lam[i]:
                c = cl_parent[c]
        lab = label_of_cluster[c]
        if lab < 0:
            continue
        labels[i] = lab
        top = owner_max[c]
        probabilities[i] = min(top, lam[i]) / top if top > 0.0 else 1.0
    return labels, probabilities


@njit(cache=CACHE)
def _merge_heights(point_cluster, lam, selected_ids, clusters, out):
    """Lambda at which the point's cluster meets each selected cluster (``lam`` if nested)."""
    cl_parent = clusters[0]
    birth = clusters[3]
    for s in range(selected_ids.shape[0]):
        left = point_cluster
        right = selected_ids[s]
        moved_left = False
        moved_right = False
        last = left
        while left != right:
            if left > right:
                moved_left = True
                last = left
                left = cl_parent[left]
            else:
                moved_right = True
                last = right
                right = cl_parent[right]
        out[s] = birth[last] if (moved_left and moved_right) else lam


@njit(cache=CACHE)
def _min_distance(x, data, rows, p):
    """Smallest Minkowski distance from ``x`` to ``data[rows]``."""
    best = np.inf
    for r in rows:
        best = min(best, rdist(x, data[r], p))
    return rdist_to_dist(best, p)


@njit(cache=CACHE, parallel=True)
def membership_vectors(  # noqa: PLR0917
    X_new,
    X_train,
    nearest,
    lam_new,
    point_cluster,
    point_lambda,
    clusters,
    selected_ids,
    exemplar_order,
    exemplar_offsets,
    metric,
    half_square=False,
):
    """Soft-clustering membership of new points in each selected cluster.

    The product of a distance part (inverse distance to each cluster's nearest exemplar, square
    root) and an outlier part (softmax of how deep in the tree the point meets each cluster,
    squared), normalised, times the probability of being in any cluster at all.

    Parameters
    ----------
    X_new : float (m, d)
    X_train : float (n, d)
    nearest, lam_new : arrays (m,)
        From :func:`attach_points`.
    point_cluster, point_lambda : arrays (n,)
        From :func:`point_rows`.
    clusters : tuple
        From ``condensed_tree.cluster_arrays``.
    selected_ids : int64 (n_labels,)
        Cluster index of each label.
    exemplar_order, exemplar_offsets : int64
        From :func:`exemplars`.
    metric : float
        Minkowski exponent of the distances to exemplars.
    half_square : bool, default=False
        Rows are scaled to unit length and distances are cosine distances: half the squared
        euclidean distance (``metric`` must be 2).

    Returns
    -------
    float64 (m, n_labels)
        Rows sum to the point's probability of being in some cluster.
    """
    max_lambda = clusters[5]
    m = X_new.shape[0]
    n_labels = selected_ids.shape[0]
    out = np.zeros((m, n_labels), dtype=np.float64)
    if n_labels == 0:
        return out
    for i in prange(m):
        nn = nearest[i]
        lam = min(lam_new[i], point_lambda[nn])
        pc = point_cluster[nn]
        heights = np.empty(n_labels, dtype=np.float64)
        # hdbscan passes this lambda through a float32 argument for the outlier part only;
        # keep that rounding so that results agree with it
        _merge_heights(pc, np.float64(np.float32(lam)), selected_ids, clusters, heights)
        dist_part = np.empty(n_labels, dtype=np.float64)
        total = 0.0
        for s in range(n_labels):
            rows = exemplar_order[exemplar_offsets[s] : exemplar_offsets[s + 1]]
            d = _min_distance(X_new[i], X_train, rows, metric)
            if half_square:
                d = d * d / 2.0
            dist_part[s] = 1.0 / d if d != 0.0 else _DBL_MAX / n_labels
            total += dist_part[s]
        top = max_lambda[pc]
        scores = np.empty(n_labels, dtype=np.float64)
        for s in range(n_labels):
            denom = top - heights[s]
            scores[s] = top / (denom if denom > 0.0 else 1e-8)
        best = scores.max()
        outlier_total = 0.0
        for s in range(n_labels):
            scores[s] = np.exp(scores[s] - best)
            outlier_total += scores[s]
        row_total = 0.0
        for s in range(n_labels):
            v = np.sqrt(dist_part[s] / total) * (scores[s] / outlier_total) ** 2
            out[i, s] = v
            row_total += v
        _merge_heights(pc, lam, selected_ids, clusters, heights)
        closest = np.argmax(heights)
        in_some = heights[closest] / (max(lam, max_lambda[selected_ids[closest]]) + 1e-8)
        for s in range(n_labels):
            out[i, s] = out[i, s] / row_total * in_some
    return out
