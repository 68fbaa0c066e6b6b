"""Grid-cell kernels: bucketing, neighbour cells and the same-cell-means-within-eps guarantee."""

from __future__ import annotations

import numpy as np
import pytest

from clusterlab.kernels.grid import (
    build_grid,
    cell_offsets,
    grid_fits,
    grid_side,
    neighbour_cells,
)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_cells_partition_points_and_are_within_eps(d):
    rng = np.random.default_rng(d)
    X = rng.normal(size=(500, d))
    eps = 0.3
    side = grid_side(eps, d)
    order, cell_start, cell_coords, cell_of = build_grid(X, side)
    assert np.array_equal(np.sort(order), np.arange(len(X)))
    assert cell_start[0] == 0 and cell_start[-1] == len(X) and np.all(np.diff(cell_start) > 0)
    for c in range(len(cell_start) - 1):
        rows = order[cell_start[c] : cell_start[c + 1]]
        assert np.all(cell_of[rows] == c)
        assert np.all(np.diff(rows) > 0)  # rows ascending within a cell
        block = X[rows]
        assert np.all(((block[:, None] - block[None]) ** 2).sum(-1) <= eps * eps)
    # cells sorted row-major and unique
    keys = [tuple(r) for r in cell_coords]
    assert keys == sorted(set(keys))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_neighbour_cells_cover_every_pair_within_eps(d):
    rng = np.random.default_rng(10 + d)
    X = rng.uniform(size=(400, d))
    eps = 0.15
    side = grid_side(eps, d)
    _, _, cell_coords, cell_of = build_grid(X, side)
    ptr, cells = neighbour_cells(cell_coords, cell_offsets(eps, side, d))
    close = ((X[:, None] - X[None]) ** 2).sum(-1) <= eps * eps
    for i, j in zip(*np.nonzero(close), strict=True):
        a, b = cell_of[i], cell_of[j]
        assert a == b or b in cells[ptr[a] : ptr[a + 1]]
    # and neighbours are exactly the non-empty cells at the offsets
    offsets = {tuple(o) for o in cell_offsets(eps, side, d)}
    for a in range(len(cell_coords)):
        for b in cells[ptr[a] : ptr[a + 1]]:
            assert tuple(cell_coords[b] - cell_coords[a]) in offsets


def test_offsets_in_two_dimensions():
    side = grid_side(1.0, 2)
    offsets = cell_offsets(1.0, side, 2)
    # reach of 2 cells; the corners (+-2, +-2) are sqrt(2) sides away, just within eps
    assert len(offsets) == 24
    assert not np.any(np.all(offsets == 0, axis=1))


def test_grid_fits_refuses_huge_extents():
    X = np.array([[0.0, 0.0], [1e12, 1e12]])
    assert grid_fits(X, 1.0) is False
    assert grid_fits(np.array([[0.0], [1.0]]), 0.1) is True
    assert grid_fits(np.array([[1e12], [1e12 + 1.0]]), 0.1) is False
