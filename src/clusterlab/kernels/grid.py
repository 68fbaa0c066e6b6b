"""Uniform grid cells for low-dimensional data: points bucketed by cell, and each cell's neighbours.

Layout
------
:func:`build_grid` buckets the rows of ``X`` into cubes of side ``side`` anchored at the
per-coordinate minimum and returns ``grid = (order, cell_start, cell_coords, cell_of)``:

``order`` : int64 array of shape (n,)
    Rows of ``X`` sorted by cell (and by row index within a cell).
``cell_start`` : int64 array of shape (n_cells + 1,)
    Cell ``c`` holds the rows ``order[cell_start[c]:cell_start[c + 1]]``; cells are non-empty and
    sorted by their row-major key.
``cell_coords`` : int64 array of shape (n_cells, d)
    Integer coordinates of each cell.
``cell_of`` : int64 array of shape (n,)
    Cell of each row of ``X``.

:func:`neighbour_cells` lists, for every cell, the non-empty cells at the integer offsets it is
given (the caller chooses them, e.g. all cells whose boxes come within ``eps``) as CSR arrays.

With ``side <= eps / sqrt(d)`` any two points of one cell are within ``eps`` of each other, which
is what makes grid DBSCAN fast in two or three dimensions; :func:`cell_offsets` gives the offsets
of every cell whose box can hold a point within ``eps`` of a point of the centre cell.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numba import njit, prange

from clusterlab._config import CACHE

__all__ = ["build_grid", "cell_offsets", "grid_fits", "grid_side", "neighbour_cells"]

#: Shrink factor of the cell side below eps / sqrt(d), so that rounding in the cell coordinates
#: can never put two points farther apart than eps into one cell.
_SIDE_MARGIN = 1.0 - 1e-6

#: Largest number of cells along all axes together for which row-major keys fit an int64.
_MAX_KEYS = 2**62

#: Largest coordinate, in cell sides, for which the cell of a point is computed reliably.
_MAX_SCALE = 1e9


def grid_side(eps: float, n_features: int) -> float:
    """Cell side for radius ``eps``: slightly below ``eps / sqrt(n_features)``."""
    return eps / math.sqrt(n_features) * _SIDE_MARGIN


def grid_fits(X: np.ndarray, side: float) -> bool:
    """True when a grid of cells of ``side`` suits ``X``.

    Row-major cell keys must fit an int64, and coordinates must be small against the side (below
    ``1e9`` sides) so that rounding in ``(x - origin) / side`` stays far below one cell.
    """
    high = np.max(X, axis=0).astype(np.float64)
    low = np.min(X, axis=0).astype(np.float64)
    extent = (high - low) / side + 2.0
    scale = max(float(np.max(np.abs(high))), float(np.max(np.abs(low)))) / side
    return (
        bool(np.all(np.isfinite(extent)))
        and float(np.prod(extent)) < _MAX_KEYS
        and scale < _MAX_SCALE
    )


def cell_offsets(eps: float, side: float, n_features: int) -> np.ndarray:
    """Integer offsets (excluding 0) of the cells that can hold a point within ``eps``.

    A cell at offset ``o`` is kept when the gap between the two cell boxes,
    ``side * sqrt(sum(max(|o_k| - 1, 0) ** 2))``, is at most ``eps``. The reach along an axis is
    ``floor(eps / side) + 1`` cells, one more than geometry needs, so that a point rounded into
    the next cell is never missed.

    Returns
    -------
    int64 array of shape (m, n_features)
    """
    reach = math.floor(eps / side) + 1
    kept = []
    for offset in itertools.product(range(-reach, reach + 1), repeat=n_features):
        if not any(offset):
            continue
        gap = math.sqrt(sum(max(abs(o) - 1, 0) ** 2 for o in offset)) * side
        if gap <= eps:
            kept.append(offset)
    return np.array(kept, dtype=np.int64).reshape(-1, n_features)


@njit(cache=CACHE)
def build_grid(X, side):
    """Bucket the rows of ``X`` into cubes of side ``side`` (see the module docstring).

    Parameters
    ----------
    X : float64 or float32 array of shape (n, d), n >= 1, finite
        Read only. The caller checks :func:`grid_fits` first.
    side : float > 0

    Returns
    -------
    grid : tuple ``(order, cell_start, cell_coords, cell_of)``
    """
    n, d = X.shape
    origin = np.empty(d, dtype=np.float64)
    for k in range(d):
        origin[k] = np.float64(X[0, k])
    for i in range(n):
        for k in range(d):
            origin[k] = min(origin[k], np.float64(X[i, k]))
    coords = np.empty((n, d), dtype=np.int64)
    extent = np.ones(d, dtype=np.int64)
    for i in range(n):
        for k in range(d):
            c = np.int64(np.floor((np.float64(X[i, k]) - origin[k]) / side))
            coords[i, k] = c
            extent[k] = max(extent[k], c + 1)
    keys = np.zeros(n, dtype=np.int64)
    for i in range(n):
        key = 0
        for k in range(d):
            key = key * extent[k] + coords[i, k]
        keys[i] = key
    order = np.argsort(keys, kind="mergesort")
    n_cells = 0
    for t in range(n):
        if t == 0 or keys[order[t]] != keys[order[t - 1]]:
            n_cells += 1
    cell_start = np.empty(n_cells + 1, dtype=np.int64)
    cell_coords = np.empty((n_cells, d), dtype=np.int64)
    cell_of = np.empty(n, dtype=np.int64)
    c = -1
    for t in range(n):
        row = order[t]
        if t == 0 or keys[row] != keys[order[t - 1]]:
            c += 1
            cell_start[c] = t
            cell_coords[c] = coords[row]
        cell_of[row] = c
    cell_start[n_cells] = n
    return order, cell_start, cell_coords, cell_of


@njit(cache=CACHE)
def _find_cell(cell_coords, target):
    """Index of the cell with coordinates ``target`` (binary search, row-major order), or -1."""
    lo = 0
    hi = cell_coords.shape[0]
    d = cell_coords.shape[1]
    while lo < hi:
        mid = (lo + hi) // 2
        cmp = 0
        for k in range(d):
            if cell_coords[mid, k] != target[k]:
                cmp = -1 if cell_coords[mid, k] < target[k] else 1
                break
        if cmp == 0:
            return mid
        if cmp < 0:
            lo = mid + 1
        else:
            hi = mid
    return -1


@njit(cache=CACHE, parallel=True)
def neighbour_cells(cell_coords, offsets):
    """Non-empty cells at each of ``offsets`` from every cell, as CSR arrays.

    Parameters
    ----------
    cell_coords : int64 array of shape (n_cells, d)
        From :func:`build_grid` (sorted row-major, which the binary search relies on).
    offsets : int64 array of shape (m, d)
        From :func:`cell_offsets`.

    Returns
    -------
    ptr : int64 array of shape (n_cells + 1,)
    cells : int64 array of shape (ptr[-1],)
        The neighbours of cell ``c`` are ``cells[ptr[c]:ptr[c + 1]]``, in the order of
        ``offsets``.
    """
    n_cells, d = cell_coords.shape
    m = offsets.shape[0]
    counts = np.zeros(n_cells, dtype=np.int64)
    for c in prange(n_cells):
        target = np.empty(d, dtype=np.int64)
        for o in range(m):
            for k in range(d):
                target[k] = cell_coords[c, k] + offsets[o, k]
            if _find_cell(cell_coords, target) >= 0:
                counts[c] += 1
    ptr = np.zeros(n_cells + 1, dtype=np.int64)
    for c in range(n_cells):
        ptr[c + 1] = ptr[c] + counts[c]
    cells = np.empty(ptr[n_cells], dtype=np.int64)
    for c in prange(n_cells):
        target = np.empty(d, dtype=np.int64)
        pos = ptr[c]
        for o in range(m):
            for k in range(d):
                target[k] = cell_coords[c, k] + offsets[o, k]
            found = _find_cell(cell_coords, target)
            if found >= 0:
                cells[pos] = found
                pos += 1
    return ptr, cells
