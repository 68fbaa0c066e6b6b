"""Nearest points in another component on a kd-tree: the searches of a Borůvka round.

A Borůvka round needs, for every component, its shortest edge to another component. Each point
looks for its nearest point (in mutual reachability ``max(d / alpha, core[t], core[s])``) in
another component, within a bound: the shortest edge its component has found so far. Two
searches share that contract:

- :func:`nearest_outside` walks the kd-tree from the root for one point, pruning nodes that lie
  wholly in its component (``node_comp``), whose smallest core distance (``node_core``) or box
  distance exceeds the bound;
- :func:`near_leaves` walks it once for a whole leaf whose points all lie in one component
  (late rounds: most leaves), with box-to-box distances, and lists the leaves that may hold a
  point within the component's bound; :func:`nearest_in_leaves` then scans only those for each
  point of the leaf. Points deep inside a component find the list empty and cost nothing.

Both are exact: a point's result is its nearest outside point when that lies within the bound,
and nothing otherwise, whatever the order of the walk. Box tests compare reduced distances with a
relative slack of 1e-9, so rounding only prunes less, and a node whose bound equals the best
weight found is still visited, so ties are settled over every point that reaches the best weight.
Ties between equal weights (:func:`tie_wins`): with ``rows`` None the smaller tree position;
with ``rows`` the tree's ``idx`` the smaller raw distance, then the smaller original row, the
key under which a Borůvka forest is the unique minimum spanning tree that prefers truly nearer
points among equal mutual reachability weights (see :mod:`clusterlab.kernels.reachability_ties`).
``rows`` is None or an array so that each choice compiles apart: the plain searches carry no
trace of the refined rule.

Data contract: ``tree`` is a ``kdtree.KDTree``; ``core`` float64 (n,) and ``component`` int64
(n,) are in tree order; ``node_comp`` int64 (n_nodes,) is the component every point below a
node shares, or -1; ``node_core`` float64 (n_nodes,) the smallest core distance below a node.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clusterlab._config import CACHE
from clusterlab.kernels.kdtree import children_near_first, min_rdist_node_node, min_rdist_point_node
from clusterlab.kernels.metric import dist_to_rdist, rdist, rdist_to_dist

__all__ = ["near_leaves", "nearest_in_leaves", "nearest_outside", "tie_wins"]

# rounding slack of the reduced-distance box tests (never prunes a point within the bound)
_SLACK = 1.0 + 1e-9


@njit(cache=CACHE, inline="always")
def _reduced_limit(limit, alpha, p):
    """Reduced distance beyond which a raw distance ``d`` has ``d / alpha > limit`` for sure."""
    return dist_to_rdist(limit * alpha, p) * _SLACK


@njit(cache=CACHE)
def tie_wins(s, best_j, x, rd, tree, p, rows):  # noqa: PLR0917
    """Whether point ``s`` (reduced raw distance ``rd`` from the query point ``x``) beats
    ``best_j`` at an equal weight.

    With ``rows`` None, the smaller tree position wins; with ``rows`` (int64 (n,), the row of
    each tree position), the smaller raw distance, then the smaller row. For one query point
    the ordering by the edge's (smaller end, larger end) rows is the ordering by the other
    end's row, so comparing ``rows[s]`` is the edge key's tie rule.
    """
    if rows is None:
        return s < best_j
    d = rdist_to_dist(rd, p)
    d_best = rdist_to_dist(rdist(tree.data[best_j], x, p), p)
    if d != d_best:
        return d < d_best
    return rows[s] < rows[best_j]


@njit(cache=CACHE, inline="always")
def _scan_leaf(node, t, tree, core, component, found, limits, alpha, p, rows):  # noqa: PLR0917
    """Improve ``found = (best, best_j)`` by the points of one leaf; ``limits = (bound,
    limit, r_limit)`` are the caller's bound, the current limit and its reduced form."""
    data = tree.data
    c = component[t]
    x = data[t]
    best, best_j = found
    bound, limit, r_limit = limits
    for s in range(tree.node_start[node], tree.node_end[node]):
        if component[s] == c or core[s] > limit:
            continue
        rd = rdist(data[s], x, p)
        if rd > r_limit:
            continue
        mr = max(rdist_to_dist(rd, p) / alpha, core[t], core[s])
        if mr <= bound and (
            mr < best
            or (
                mr == best
                # a ternary, not a call, on the plain path: an inlined call there, even one that
                # compiles to the same comparison, made the plain searches 15% slower
                and (s < best_j if rows is None else tie_wins(s, best_j, x, rd, tree, p, rows))
            )
        ):
            best = mr
            best_j = s
            limit = best
            r_limit = _reduced_limit(limit, alpha, p)
    return (best, best_j), (bound, limit, r_limit)


@njit(cache=CACHE)
def nearest_outside(t, tree, core, component, node_comp, node_core, bound, alpha, p, stacks, rows):  # noqa: PLR0917
    """Nearest point (mutual reachability) to tree position ``t`` in another component, within
    ``bound``, by a walk from the root, nearer child first.

    ``stacks = (stack, stack_d)``: int64 and float64 scratch of ``kdtree.STACK_SIZE``.
    Returns ``(distance, position)``, ties broken by :func:`tie_wins` with ``rows``, or
    ``(inf, -1)`` when no point lies within ``bound``.
    """
    stack, stack_d = stacks
    left = tree.node_left
    c = component[t]
    x = tree.data[t]
    found = (np.inf, np.int64(-1))
    if core[t] > bound:
        return found
    limits = (bound, bound, _reduced_limit(bound, alpha, p))
    stack[0] = 0
    stack_d[0] = 0.0
    sp = 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        limit, r_limit = limits[1], limits[2]
        if stack_d[sp] > r_limit or node_comp[node] == c or node_core[node] > limit:
            continue
        if left[node] < 0:
            found, limits = _scan_leaf(
                node, t, tree, core, component, found, limits, alpha, p, rows
            )
            continue
        a, da, b, db = children_near_first(tree, node, x, p)
        # far child first so that the near one is popped next
        if db <= r_limit and node_comp[b] != c and node_core[b] <= limit:
            stack[sp] = b
            stack_d[sp] = db
            sp += 1
        if da <= r_limit and node_comp[a] != c and node_core[a] <= limit:
            stack[sp] = a
            stack_d[sp] = da
            sp += 1
    return found


@njit(cache=CACHE)
def near_leaves(leaf, tree, node_comp, node_core, bound, alpha, p, stack, out):  # noqa: PLR0917
    """Leaves that may hold a point within ``bound`` of some point of ``leaf``, in another
    component than the one ``leaf`` lies wholly in (``node_comp[leaf] >= 0``).

    Writes their node numbers to ``out`` and returns how many, or -1 when there are more than
    ``out`` holds (the caller then searches point by point).
    """
    left = tree.node_left
    right = tree.node_right
    c = node_comp[leaf]
    r_bound = _reduced_limit(bound, alpha, p)
    count = 0
    stack[0] = 0
    sp = 1
    while sp > 0:
        sp -= 1
        node = stack[sp]
        if node_comp[node] == c or node_core[node] > bound:
            continue
        if min_rdist_node_node(tree, leaf, node, p) > r_bound:
            continue
        if left[node] < 0:
            if count == out.shape[0]:
                return -1
            out[count] = node
            count += 1
            continue
        stack[sp] = right[node]
        stack[sp + 1] = left[node]
        sp += 2
    return count


@njit(cache=CACHE)
def nearest_in_leaves(t, tree, core, component, leaves, bound, alpha, p, rows):  # noqa: PLR0917
    """As :func:`nearest_outside`, scanning only the given leaves (from :func:`near_leaves`
    with a bound at least ``bound``: every point within ``bound`` lies in them)."""
    x = tree.data[t]
    found = (np.inf, np.int64(-1))
    if core[t] > bound:
        return found
    limits = (bound, bound, _reduced_limit(bound, alpha, p))
    for q in range(leaves.shape[0]):
        node = leaves[q]
        if min_rdist_point_node(tree, node, x, p) > limits[2]:
            continue
        found, limits = _scan_leaf(node, t, tree, core, component, found, limits, alpha, p, rows)
    return found
