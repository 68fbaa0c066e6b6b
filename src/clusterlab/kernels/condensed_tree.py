"""Condensed cluster trees: from a single-linkage tree to flat HDBSCAN clusters.

Trees are plain arrays:

- a **single-linkage tree** (scipy's linkage layout) with ``n - 1`` merges: ``left``, ``right``
  (int64 node ids; points are ``0..n-1``, merge ``i`` creates node ``n + i``), ``distance``
  (float64, non-decreasing) and ``size`` (int64, points under the new node);
- a **condensed tree** of rows ``(parent, child, lambda_val, child_size)``: clusters are numbered
  ``n, n + 1, ...`` with the root ``n``; a row whose ``child < n`` says a point left ``parent`` at
  ``lambda_val = 1 / distance``; a row whose ``child >= n`` says a cluster was born (split from
  ``parent``) at ``lambda_val``. Rows are in the breadth-first order of the single-linkage tree,
  so a cluster's id is larger than its parent's (ids are a topological order);
- **cluster arrays** indexed by ``cluster id - n`` (see :func:`cluster_arrays`).

The definitions (condensing, stability, excess-of-mass and leaf selection with
``cluster_selection_epsilon``, ``max_cluster_size`` and ``allow_single_cluster``, labels and
probabilities) follow Campello, Moulavi & Sander (2013) and McInnes & Healy (2017), with the edge
rules of scikit-learn's ``HDBSCAN`` so that labels agree with it; GLOSH outlier scores and cluster
persistence follow the ``hdbscan`` library.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clusterlab._base import NOISE
from clusterlab._config import CACHE

__all__ = [
    "cluster_arrays",
    "condense_tree",
    "cut_tree",
    "glosh_scores",
    "label_points",
    "persistence",
    "select_clusters",
    "stabilities",
]

_NO_CLUSTER = -1


@njit(cache=CACHE)
def _emit_points(sub_root, n, left, right, parent_label, lam, work, out, n_out):  # noqa: PLR0917
    """Append a row ``(parent_label, point, lam, 1)`` for every point under ``sub_root``.

    Points are visited breadth-first (``work`` is scratch space of length ``2n - 1``), the order
    scikit-learn uses, so that rows and therefore cluster ids come out in the same order.
    """
    out_parent, out_child, out_lambda, out_size = out
    head = 0
    tail = 1
    work[0] = sub_root
    while head < tail:
        node = work[head]
        head += 1
        if node < n:
            out_parent[n_out] = parent_label
            out_child[n_out] = node
            out_lambda[n_out] = lam
            out_size[n_out] = 1
            n_out += 1
        else:
            work[tail] = left[node - n]
            work[tail + 1] = right[node - n]
            tail += 2
    return n_out


@njit(cache=CACHE)
def condense_tree(left, right, distance, size, min_cluster_size):
    """Condense a single-linkage tree by a minimum cluster size.

    Walking down from the root, a merge whose two sides both hold ``>= min_cluster_size`` points
    is a true split (two new clusters are born); otherwise the small side's points fall out of the
    current cluster at that level and the large side carries the cluster's identity on.

    Parameters
    ----------
    left, right : int64 arrays of shape (n - 1,)
        Children of each merge (scipy layout: merge ``i`` creates node ``n + i``).
    distance : float64 array of shape (n - 1,)
        Merge heights, non-decreasing.
    size : int64 array of shape (n - 1,)
        Number of points under each merge.
    min_cluster_size : int
        At least 2.

    Returns
    -------
    parent, child : int64 arrays of shape (m,)
    lambda_val : float64 array of shape (m,)
        ``1 / distance`` (``inf`` for a distance of 0).
    child_size : int64 array of shape (m,)
        Every point appears exactly once as a child, so ``m = n + 2 * (number of splits)``.
    """
    n = left.shape[0] + 1
    n_nodes = 2 * n - 1
    root = n_nodes - 1
    cap = n + 2 * (n // min_cluster_size) + 2
    out = (
        np.empty(cap, dtype=np.int64),
        np.empty(cap, dtype=np.int64),
        np.empty(cap, dtype=np.float64),
        np.empty(cap, dtype=np.int64),
    )
    out_parent, out_child, out_lambda, out_size = out
    relabel = np.empty(n_nodes, dtype=np.int64)
    queue = np.empty(n_nodes, dtype=np.int64)
    work = np.empty(n_nodes, dtype=np.int64)
    n_out = 0
    if n == 1:
        return out_parent[:0], out_child[:0], out_lambda[:0], out_size[:0]
    relabel[root] = n
    next_label = n + 1
    head = 0
    tail = 1
    queue[0] = root
    while head < tail:
        node = queue[head]
        head += 1
        i = node - n
        a = left[i]
        b = right[i]
        lam = 1.0 / distance[i] if distance[i] > 0.0 else np.inf
        a_count = size[a - n] if a >= n else 1
        b_count = size[b - n] if b >= n else 1
        label = relabel[node]
        if a_count >= min_cluster_size and b_count >= min_cluster_size:
            for child, count in ((a, a_count), (b, b_count)):
                relabel[child] = next_label
                out_parent[n_out] = label
                out_child[n_out] = next_label
                out_lambda[n_out] = lam
                out_size[n_out] = count
                n_out += 1
                next_label += 1
                queue[tail] = child
                tail += 1
        elif a_count < min_cluster_size and b_count < min_cluster_size:
            n_out = _emit_points(a, n, left, right, label, lam, work, out, n_out)
            n_out = _emit_points(b, n, left, right, label, lam, work, out, n_out)
        elif a_count < min_cluster_size:
            relabel[b] = label
            n_out = _emit_points(a, n, left, right, label, lam, work, out, n_out)
            queue[tail] = b
            tail += 1
        else:
            relabel[a] = label
            n_out = _emit_points(b, n, left, right, label, lam, work, out, n_out)
            queue[tail] = a
            tail += 1
    return out_parent[:n_out], out_child[:n_out], out_lambda[:n_out], out_size[:n_out]


@njit(cache=CACHE)
def cluster_arrays(tree, n_points):
    """Per-cluster facts of a condensed tree, indexed by ``cluster id - n_points``.

    Parameters
    ----------
    tree : tuple (parent, child, lambda_val, child_size) of arrays of shape (m,)
        A condensed tree (see :func:`condense_tree`).
    n_points : int

    Returns
    -------
    clusters : tuple of the six arrays below, the ``clusters`` argument of the other kernels
    cl_parent : int64 (k,)
        Parent cluster index, -1 for the root (index 0).
    first_child, second_child : int64 (k,)
        The two child cluster indices, -1 for a leaf cluster.
    birth : float64 (k,)
        Lambda at which the cluster was born (0 for the root).
    n_members : int64 (k,)
        Points in the cluster at birth (the root: ``n_points``).
    max_lambda : float64 (k,)
        Largest lambda among the rows whose parent is the cluster ("death" of its own points).
    """
    parent, child, lambda_val, child_size = tree
    k = 1
    for r in range(parent.shape[0]):
        k = max(k, parent[r] - n_points + 1)
    cl_parent = np.full(k, -1, dtype=np.int64)
    first_child = np.full(k, -1, dtype=np.int64)
    second_child = np.full(k, -1, dtype=np.int64)
    birth = np.zeros(k, dtype=np.float64)
    n_members = np.zeros(k, dtype=np.int64)
    max_lambda = np.zeros(k, dtype=np.float64)
    n_members[0] = n_points
    for r in range(parent.shape[0]):
        p = parent[r] - n_points
        lam = lambda_val[r]
        max_lambda[p] = max(max_lambda[p], lam)
        c = child[r] - n_points
        if c >= 0:
            cl_parent[c] = p
            birth[c] = lam
            n_members[c] = child_size[r]
            if first_child[p] == -1:
                first_child[p] = c
            else:
                second_child[p] = c
    return cl_parent, first_child, second_child, birth, n_members, max_lambda


@njit(cache=CACHE)
def stabilities(tree, clusters, n_points):
    """Stability of each cluster: ``sum over its rows of (lambda - birth) * child_size``.

    Parameters
    ----------
    tree : tuple (parent, child, lambda_val, child_size)
        A condensed tree.
    clusters : tuple
        From :func:`cluster_arrays` (``birth`` is read).
    n_points : int

    Returns
    -------
    float64 (k,)
    """
    parent, _, lambda_val, child_size = tree
    birth = clusters[3]
    out = np.zeros(birth.shape[0], dtype=np.float64)
    for r in range(parent.shape[0]):
        p = parent[r] - n_points
        out[p] += (lambda_val[r] - birth[p]) * child_size[r]
    return out


@njit(cache=CACHE)
def _epsilon_search(candidates, clusters, epsilon, allow_single):
    """Replace each candidate born below ``epsilon`` by its lowest ancestor born above it.

    ``candidates`` is a bool mask over cluster indices (an antichain); returns a new mask. An
    ancestor's walk stops below the root (at the root's child) unless ``allow_single``.
    """
    cl_parent, first_child, second_child, birth, _, _ = clusters
    k = candidates.shape[0]
    selected = np.zeros(k, dtype=np.bool_)
    processed = np.zeros(k, dtype=np.bool_)
    stack = np.empty(k, dtype=np.int64)
    for leaf in range(k):
        if not candidates[leaf]:
            continue
        leaf_eps = 1.0 / birth[leaf]
        if not leaf_eps < epsilon:
            selected[leaf] = True
            continue
        if processed[leaf]:
            continue
        node = leaf
        while True:
            up = cl_parent[node]
            if up == 0:
                chosen = 0 if allow_single else node
                break
            if 1.0 / birth[up] > epsilon:
                chosen = up
                break
            node = up
        selected[chosen] = True
        top = 0
        stack[top] = chosen
        top += 1
        while top > 0:
            top -= 1
            c = stack[top]
            if c != chosen:
                processed[c] = True
            for d in (first_child[c], second_child[c]):
                if d >= 0:
                    stack[top] = d
                    top += 1
    return selected


@njit(cache=CACHE)
def select_clusters(stability, clusters, leaf, allow_single, epsilon, max_cluster_size):  # noqa: PLR0917
    """Choose the flat clustering: excess of mass (``leaf=False``) or the leaves of the tree.

    Parameters
    ----------
    stability : float64 (k,)
        From :func:`stabilities`; not modified.
    clusters : tuple
        From :func:`cluster_arrays`.
    leaf : bool
        Select the leaf clusters instead of maximising the total stability.
    allow_single : bool
        Whether the root may be selected (one cluster for all the data).
    epsilon : float
        ``cluster_selection_epsilon``: clusters born below this distance are merged up.
    max_cluster_size : int
        Excess of mass never selects a cluster with more points (0 means no limit).

    Returns
    -------
    selected : bool (k,)
        The selected clusters (no two on one root-to-leaf path).
    subtree_stability : float64 (k,)
        The stabilities after excess of mass (a cluster not selected carries the sum of its
        children's), used by :func:`persistence`.
    """
    cl_parent, first_child, second_child, _, n_members, _ = clusters
    k = stability.shape[0]
    stab = stability.copy()
    selected = np.zeros(k, dtype=np.bool_)
    lowest = 0 if allow_single else 1
    limit = max_cluster_size if max_cluster_size > 0 else np.iinfo(np.int64).max
    if not leaf:
        proposed = np.zeros(k, dtype=np.bool_)
        for c in range(k - 1, lowest - 1, -1):
            a = first_child[c]
            b = second_child[c]
            sub = 0.0
            members = n_members[c]
            if a >= 0:
                sub = stab[a] + stab[b]
            if c == 0:
                # scikit-learn measures the root by its child clusters only
                members = (n_members[a] + n_members[b]) if a >= 0 else 0
            if sub > stab[c] or members > limit:
                stab[c] = sub
            else:
                proposed[c] = True
        # a proposal stands unless an ancestor was proposed too (ids are topological)
        blocked = np.zeros(k, dtype=np.bool_)
        for c in range(k):
            p = cl_parent[c]
            if p >= 0 and (blocked[p] or proposed[p]):
                blocked[c] = True
            selected[c] = proposed[c] and not blocked[c]
        if epsilon != 0.0 and k > 1:
            only_root = selected[0]
            if only_root:
                if not allow_single:
                    selected[0] = False
            else:
                selected = _epsilon_search(selected, clusters, epsilon, allow_single)
    elif k > 1:
        leaves = np.zeros(k, dtype=np.bool_)
        for c in range(1, k):
            leaves[c] = first_child[c] < 0
        if epsilon != 0.0:
            selected = _epsilon_search(leaves, clusters, epsilon, allow_single)
        else:
            selected = leaves
        if not allow_single:
            selected[0] = False
    return selected, stab


@njit(cache=CACHE)
def label_points(tree, n_points, clusters, selected, allow_single, epsilon):  # noqa: PLR0917
    """Labels and membership probabilities of the points for a selection of clusters.

    A point belongs to its nearest selected ancestor cluster in the condensed tree (noise when
    there is none). When the root itself is selected (``allow_single``), a point is kept only if
    it left the root at or above lambda ``1 / epsilon`` (``epsilon > 0``) or at the root's largest
    lambda. The probability is ``min(lambda_point, max_lambda[c]) / max_lambda[c]`` for the
    point's selected cluster ``c`` (1 when that maximum is 0 or the point's lambda is infinite).

    Returns
    -------
    labels : int64 (n_points,)
        0..n_selected-1 in increasing cluster id, -1 for noise.
    probabilities : float64 (n_points,)
    label_of_cluster : int64 (k,)
        Label of the selected ancestor of every cluster (-1 when none): the cluster map used by
        prediction.
    """
    parent, child, lambda_val, _ = tree
    cl_parent = clusters[0]
    max_lambda = clusters[5]
    k = cl_parent.shape[0]
    cluster_label = np.full(k, NOISE, dtype=np.int64)
    n_selected = 0
    for c in range(k):
        if selected[c]:
            cluster_label[c] = n_selected
            n_selected += 1
    owner = np.full(k, _NO_CLUSTER, dtype=np.int64)
    for c in range(k):
        if selected[c]:
            owner[c] = c
        elif cl_parent[c] >= 0:
            owner[c] = owner[cl_parent[c]]
    label_of_cluster = np.full(k, NOISE, dtype=np.int64)
    for c in range(k):
        if owner[c] >= 0:
            label_of_cluster[c] = cluster_label[owner[c]]
    threshold = 1.0 / epsilon if epsilon != 0.0 else max_lambda[0]
    labels = np.full(n_points, NOISE, dtype=np.int64)
    probabilities = np.zeros(n_points, dtype=np.float64)
    for r in range(parent.shape[0]):
        point = child[r]
        if point >= n_points:
            continue
        c = owner[parent[r] - n_points]
        if c < 0:
            continue
        lam = lambda_val[r]
        if c == 0 and not (allow_single and lam >= threshold):
            continue
        labels[point] = cluster_label[c]
        top = max_lambda[c]
        if top == 0.0 or not np.isfinite(lam):
            probabilities[point] = 1.0
        else:
            probabilities[point] = min(lam, top) / top
    return labels, probabilities, label_of_cluster


@njit(cache=CACHE)
def glosh_scores(tree, n_points, clusters):
    """GLOSH outlier scores: ``(lambda_max - lambda_point) / lambda_max`` per point.

    ``lambda_max`` is the largest lambda anywhere below the point's cluster (the cluster's own
    points and every descendant cluster); 0 when that is 0 or the point's lambda is infinite.

    Returns
    -------
    float64 (n_points,)
    """
    parent, child, lambda_val, _ = tree
    cl_parent = clusters[0]
    deepest = clusters[5].copy()
    for c in range(cl_parent.shape[0] - 1, 0, -1):
        p = cl_parent[c]
        deepest[p] = max(deepest[p], deepest[c])
    scores = np.zeros(n_points, dtype=np.float64)
    for r in range(parent.shape[0]):
        point = child[r]
        if point >= n_points:
            continue
        top = deepest[parent[r] - n_points]
        lam = lambda_val[r]
        if top != 0.0 and np.isfinite(lam):
            scores[point] = (top - lam) / top
    return scores


def persistence(subtree_stability, selected, labels, lambda_val):
    """Cluster persistence: stability over ``size * largest lambda of the tree`` per cluster.

    1 means a cluster that persists over all distance scales, 0 an ephemeral one (the
    ``cluster_persistence_`` of the hdbscan library).

    Parameters
    ----------
    subtree_stability : float64 (k,)
        From :func:`select_clusters`.
    selected : bool (k,)
    labels : int64 (n,)
    lambda_val : float64 (m,)
        The condensed tree's lambdas.

    Returns
    -------
    float64 (n_selected,)
    """
    ids = np.flatnonzero(selected)
    sizes = np.bincount(labels[labels >= 0], minlength=ids.size)[: ids.size]
    top = float(lambda_val.max()) if lambda_val.size else 0.0
    if not np.isfinite(top) or top == 0.0:
        return np.ones(ids.size)
    out = np.ones(ids.size)
    nonempty = sizes > 0
    out[nonempty] = subtree_stability[ids[nonempty]] / (sizes[nonempty] * top)
    return out


@njit(cache=CACHE)
def cut_tree(left, right, distance, cut, min_cluster_size):
    """Flat clusters of a single-linkage tree cut at a height (DBSCAN* at ``eps = cut``).

    Merges with ``distance < cut`` are kept; components with fewer than ``min_cluster_size``
    points are noise. Clusters are numbered by their smallest point index.

    Parameters
    ----------
    left, right : int64 (n - 1,)
    distance : float64 (n - 1,)
        Non-decreasing merge heights.
    cut : float
    min_cluster_size : int

    Returns
    -------
    int64 (n,)
    """
    n = left.shape[0] + 1
    up = np.full(2 * n - 1, -1, dtype=np.int64)
    for i in range(n - 1):
        if distance[i] < cut:
            up[left[i]] = n + i
            up[right[i]] = n + i
    component = np.arange(2 * n - 1)
    # parents have larger ids, so one descending sweep gives every node its topmost kept ancestor
    for node in range(2 * n - 2, -1, -1):
        if up[node] >= 0:
            component[node] = component[up[node]]
    counts = np.zeros(2 * n - 1, dtype=np.int64)
    for p in range(n):
        counts[component[p]] += 1
    names = np.full(2 * n - 1, -1, dtype=np.int64)
    labels = np.full(n, NOISE, dtype=np.int64)
    n_clusters = 0
    for p in range(n):
        c = component[p]
        if counts[c] < min_cluster_size:
            continue
        if names[c] < 0:
            names[c] = n_clusters
            n_clusters += 1
        labels[p] = names[c]
    return labels
