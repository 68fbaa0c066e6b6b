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

from clusterlab._config import CACHE

__all__ = ["approximate_predict", "exemplars", "membership_vectors", "point_rows"]

_DBL_MAX = np.finfo(np.float64).max


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


@njit(cache=CACHE)
def _nearest_mutual_reachability(nbr_idx, nbr_dist, core, min_samples):
    """The neighbour at the smallest mutual reachability distance, and ``1 / that distance``."""
    k = nbr_idx.shape[0]
    own_core = nbr_dist[min(min_samples, k) - 1]
    best = 0
    best_mr = np.inf
    for j in range(k):
        mr = max(core[nbr_idx[j]], own_core, nbr_dist[j])
        if mr < best_mr:
            best_mr = mr
            best = j
    lam = 1.0 / best_mr if best_mr > 0.0 else _DBL_MAX
    return nbr_idx[best], lam


@njit(cache=CACHE, parallel=True)
def approximate_predict(  # noqa: PLR0917
    nbr_idx, nbr_dist, core, min_samples, point_cluster, point_lambda, clusters, label_of_cluster
):
    """Labels and membership probabilities of new points in a fitted condensed tree.

    Parameters
    ----------
    nbr_idx : int64 (m, k)
        Each new point's ``k = 2 * min_samples`` nearest training points (fewer when the training
        set is small), nearest first, ties by index.
    nbr_dist : float (m, k)
        Their distances.
    core : float64 (n,)
        Training core distances.
    min_samples : int
        The new point's core distance is ``nbr_dist[:, min_samples - 1]``.
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
    is_owner = np.zeros(k_clusters, dtype=np.bool_)
    for c in range(k_clusters):
        if label_of_cluster[c] < 0:
            continue
        p = cl_parent[c]
        if p >= 0 and label_of_cluster[p] == label_of_cluster[c]:
            owner_max[c] = owner_max[p]
        else:
            owner_max[c] = max_lambda[c]
            is_owner[c] = True
    m = nbr_idx.shape[0]
    labels = np.full(m, -1, dtype=np.int64)
    probabilities = np.zeros(m, dtype=np.float64)
    for i in prange(m):
        nn, lam = _nearest_mutual_reachability(nbr_idx[i], nbr_dist[i], core, min_samples)
        c = point_cluster[nn]
        if point_lambda[nn] > lam:
            while c > 0 and birth[c] >= lam:
                c = cl_parent[c]
        lab = label_of_cluster[c]
        if lab < 0:
            continue
        labels[i] = lab
        top = owner_max[c]
        probabilities[i] = min(top, lam) / top if top > 0.0 else 1.0
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
    """Smallest Minkowski distance (``p`` = 2, 1 or inf) from ``x`` to ``data[rows]``."""
    best = np.inf
    for r in rows:
        acc = 0.0
        for f in range(x.shape[0]):
            diff = abs(np.float64(x[f]) - np.float64(data[r, f]))
            if p == 2.0:
                acc += diff * diff
            elif p == 1.0:
                acc += diff
            else:
                acc = max(acc, diff)
        best = min(best, acc)
    return np.sqrt(best) if p == 2.0 else best


@njit(cache=CACHE, parallel=True)
def membership_vectors(  # noqa: PLR0917
    X_new,
    X_train,
    nbr_idx,
    nbr_dist,
    core,
    min_samples,
    point_cluster,
    point_lambda,
    clusters,
    selected_ids,
    exemplar_order,
    exemplar_offsets,
    metric,
):
    """Soft-clustering membership of new points in each selected cluster.

    The product of a distance part (inverse distance to each cluster's nearest exemplar, square
    root) and an outlier part (softmax of how deep in the tree the point meets each cluster,
    squared), normalised, times the probability of being in any cluster at all.

    Parameters
    ----------
    X_new : float64 (m, d)
    X_train : float64 (n, d)
    nbr_idx, nbr_dist : (m, k)
        As in :func:`approximate_predict`.
    core : float64 (n,)
    min_samples : int
    point_cluster, point_lambda : arrays (n,)
        From :func:`point_rows`.
    clusters : tuple
        From ``condensed_tree.cluster_arrays``.
    selected_ids : int64 (n_labels,)
        Cluster index of each label.
    exemplar_order, exemplar_offsets : int64
        From :func:`exemplars`.
    metric : float
        Minkowski exponent of the distances to exemplars (2, 1 or inf).

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
        nn, lam = _nearest_mutual_reachability(nbr_idx[i], nbr_dist[i], core, min_samples)
        lam = min(lam, point_lambda[nn])
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
        nearest = np.argmax(heights)
        in_some = heights[nearest] / (max(lam, max_lambda[selected_ids[nearest]]) + 1e-8)
        for s in range(n_labels):
            out[i, s] = out[i, s] / row_total * in_some
    return out
