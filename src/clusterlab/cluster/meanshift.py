"""Mean shift: scikit-learn's flat-kernel modes on a kd-tree, a grid path for low dimension
(MeanShift++), a gaussian kernel, and a bandwidth estimate that is not quadratic."""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from clusterlab._base import NOISE, ParamsMixin
from clusterlab._config import threads
from clusterlab._validation import (
    ARRAY_LIKE,
    BOOLEAN,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_data,
    validate_params,
)

__all__ = ["MeanShift", "estimate_bandwidth"]

#: estimate_bandwidth averages the k-th neighbour distance of at most this many query rows
#: (all rows below it, so the estimate is then exactly scikit-learn's).
_BANDWIDTH_QUERIES = 2_000

#: algorithm='auto' takes the grid path up to this many features ...
_GRID_MAX_DIM = 3
#: ... when every point is a seed and there are more points than this.
_GRID_MIN_N = 20_000

#: Grid cells have side bandwidth / _GRID_SUBDIV; the flat stencil holds the cells whose
#: centres are within the bandwidth of the centre cell's (13 cells in 2-D).
_GRID_SUBDIV = 2

_LEAF_SIZE = 32

#: Up to this many candidate modes, near modes are found by brute force, not a kd-tree.
_SUPPRESS_BRUTE = 20_000


class _Plain(BaseEstimator):
    """Stand-in estimator for validating data outside an estimator."""


def estimate_bandwidth(
    X: Any,
    *,
    quantile: float = 0.3,
    n_samples: int | None = None,
    random_state: Any = 0,
    n_jobs: int | None = None,
) -> float:
    """Mean distance of the points to their ``k``-th nearest neighbour, ``k = quantile * n``.

    scikit-learn's definition (a point is its own first neighbour; ``quantile=0.5`` gives the
    mean over points of their median distance to the others), computed without its quadratic
    cost: the k-th distance is exact for each query (a partial sort of its n distances), and
    above 2,000 rows the mean is taken over 2,000 random query rows, an unbiased estimate whose
    relative standard error is the spread of the k-th distances over the points divided by
    about 45 (typically well under 1%). Time O(min(n, 2000) n).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    quantile : float in [0, 1], default=0.3
    n_samples : int or None
        Use this many random rows (all of them by default), as scikit-learn does.
    random_state : None, int or RandomState, default=0
        Draws the rows of ``n_samples`` and the query rows.
    n_jobs : int or None
        Threads (None: numba's current setting).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import estimate_bandwidth
    >>> X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]], dtype=float)
    >>> round(estimate_bandwidth(X, quantile=0.5), 2)
    1.61
    """
    from sklearn.utils import check_random_state

    from clusterlab.kernels.meanshift import kth_distances

    validate_params(
        {"quantile": quantile, "n_samples": n_samples, "random_state": random_state},
        {
            "quantile": [Interval(numbers.Real, 0, 1)],
            "n_samples": [Interval(numbers.Integral, 1, None), NONE],
            "random_state": [RANDOM_STATE],
        },
        caller="estimate_bandwidth",
    )
    X = np.ascontiguousarray(check_data(_Plain(), X))
    rs = check_random_state(random_state)
    if n_samples is not None:
        X = np.ascontiguousarray(X[rs.permutation(X.shape[0])[:n_samples]])
    n = X.shape[0]
    k = max(1, int(n * quantile))
    if n <= _BANDWIDTH_QUERIES:
        queries = np.arange(n, dtype=np.int64)
    else:
        queries = np.sort(rs.choice(n, _BANDWIDTH_QUERIES, replace=False)).astype(np.int64)
    with threads(n_jobs):
        return float(np.mean(kth_distances(X, queries, k)))


def default_bandwidth(X: np.ndarray, random_state: Any = 0) -> float:
    """The bandwidth MeanShift uses when none is given: half the mean, over the points, of
    their median distance to the others (``0.5 * estimate_bandwidth(X, quantile=0.5)``).

    Measured on the wholesale demo (440 x 6, log and z-scores) and PyCaret's mice data
    (1,080 x 91): scikit-learn's rule (quantile 0.3) puts 96% and 98-100% of the rows in one
    segment; with this rule, and modes of fewer than 5% of the rows merged into their nearest
    stronger mode (``min_cluster_size=0.05``), the segments are 2 (54% / 46%, silhouette
    0.28, ARI 0.46 with the hidden Channel) and 5 (largest 36%, ARI 0.41 with the mice's
    class). Above 50,000 rows it is estimated on 50,000 random rows. Falls back to the mean
    spread of the features, then 1, on degenerate data.
    """
    rows = None if X.shape[0] <= _DEFAULT_ROWS else _DEFAULT_ROWS
    bandwidth = _DEFAULT_FACTOR * estimate_bandwidth(
        X, quantile=_DEFAULT_QUANTILE, n_samples=rows, random_state=random_state
    )
    if bandwidth > 0:
        return bandwidth
    spread = float(np.mean(np.std(X, axis=0)))
    return spread if spread > 0 else 1.0


#: The default bandwidth is _DEFAULT_FACTOR times the mean k-th neighbour distance at this
#: quantile (see default_bandwidth for the measurements behind both numbers).
_DEFAULT_QUANTILE = 0.5
_DEFAULT_FACTOR = 0.5
#: ... estimated on at most this many random rows (a quantile of the distances is the same on a
#: random sample; 2,000 queries over 1,000,000 rows would cost 2e9 distances).
_DEFAULT_ROWS = 50_000


class MeanShift(ParamsMixin, ClusterMixin, BaseEstimator):
    """Mean shift clustering: every seed climbs to a mode of the data's density.

    A seed moves to the mean of the points within ``bandwidth`` of it (flat kernel) until it
    stops moving; the modes reached, strongest first, become cluster centres unless a stronger
    one is within ``bandwidth``; every point joins its nearest centre (Comaniciu and Meer,
    2002). With the flat kernel the centres are scikit-learn's (up to rounding): each seed's
    climb, the stopping rule, the ordering by the number of points around a mode and the
    suppression of near modes are the same.

    Neighbourhoods come from a kd-tree whose nodes carry their coordinate sums, so a step costs
    the nodes the ball's boundary crosses; seeds climb in parallel. With one to three features
    and every point a seed (``algorithm='auto'`` from 20,000 points), seeds first climb on a
    grid of cell sums (MeanShift++, Jang and Jiang 2021): cells of side ``bandwidth / 2``, each
    step the mean of the cells within ``bandwidth``; seeds in one cell share their climb, so a
    step costs the occupied cells, not the points. The few places where the grid climbs end
    then climb exactly, as above, to the modes.

    Parameters
    ----------
    bandwidth : float > 0 or None, default=None
        Radius of the flat kernel (standard deviation of the gaussian one). None: half the
        mean over the points of their median distance to the others,
        ``0.5 * estimate_bandwidth(X, quantile=0.5)`` (scikit-learn uses
        ``estimate_bandwidth(X, quantile=0.3)``, which on customer data typically puts nearly
        every row in one cluster; see :func:`default_bandwidth` for the measurements).
    seeds : array-like of shape (n_seeds, n_features) or None
        Starting points; None: every point, or the bins of ``bin_seeding``.
    bin_seeding : bool, default=False
        Seeds at the centres of the grid cells of side ``bandwidth`` holding at least
        ``min_bin_freq`` points (scikit-learn's bins, rounded the same way).
    min_bin_freq : int, default=1
    cluster_all : bool, default=True
        False: points farther than ``bandwidth`` from every centre are noise (-1).
    max_iter : int, default=300
        Moves per seed.
    min_cluster_size : int >= 1 or float in (0, 1), default=1
        Modes whose clusters hold fewer points (a float: that share of the points) are
        dropped and their points join the nearest remaining mode, the final step of
        Comaniciu and Meer's segmentation (weak modes are mostly outliers). The strongest mode
        always stays. 1 keeps every mode, as scikit-learn does.
    kernel : {'flat', 'gaussian'}, default='flat'
        ``'gaussian'`` weights points by ``exp(-d^2 / (2 bandwidth^2))`` (points beyond
        ``3 * bandwidth`` are left out); modes are ordered by their kernel density.
    algorithm : {'auto', 'exact', 'grid'}, default='auto'
        ``'exact'`` climbs every seed on the kd-tree; ``'grid'`` climbs first on the grid
        (every point a seed; up to three features); ``'auto'`` takes the grid from 20,000
        points when it applies.
    n_jobs : int or None, default=None
        Threads for the numba kernels (None: numba's current setting, -1: all cores).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Modes, strongest first.
    labels_ : ndarray of shape (n_samples,), int64
        Nearest centre of each point (-1 beyond ``bandwidth`` when ``cluster_all=False``). A
        mode may be nearest to no training point (its points lie nearer other modes); it is
        kept, as scikit-learn keeps it, and its number is then unused.
    n_clusters_ : int
    n_iter_ : int
        Largest number of moves a seed made (exact climbs).
    bandwidth_ : float
        The bandwidth used.
    algorithm_ : str
        ``'exact'`` or ``'grid'``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    Out-of-sample rule: ``predict`` gives the nearest centre (as scikit-learn, whatever
    ``cluster_all``).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import MeanShift
    >>> X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]], dtype=float)
    >>> ms = MeanShift(bandwidth=2).fit(X)
    >>> ms.labels_
    array([1, 1, 1, 0, 0, 0])
    >>> ms.predict(np.array([[0.0, 0.0], [5.0, 5.0]]))
    array([1, 0])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "bandwidth": [Interval(numbers.Real, 0, None, closed="neither"), NONE],
        "seeds": [ARRAY_LIKE, NONE],
        "bin_seeding": [BOOLEAN],
        "min_bin_freq": [Interval(numbers.Integral, 1, None)],
        "cluster_all": [BOOLEAN],
        "max_iter": [Interval(numbers.Integral, 0, None)],
        "min_cluster_size": [
            Interval(numbers.Integral, 1, None),
            Interval(numbers.Real, 0, 1, closed="neither"),
        ],
        "kernel": [Options("flat", "gaussian")],
        "algorithm": [Options("auto", "exact", "grid")],
        "n_jobs": [Interval(numbers.Integral, None, None), NONE],
    }

    def __init__(
        self,
        *,
        bandwidth: float | None = None,
        seeds: Any = None,
        bin_seeding: bool = False,
        min_bin_freq: int = 1,
        cluster_all: bool = True,
        max_iter: int = 300,
        min_cluster_size: float = 1,
        kernel: str = "flat",
        algorithm: str = "auto",
        n_jobs: int | None = None,
    ) -> None:
        self.bandwidth = bandwidth
        self.seeds = seeds
        self.bin_seeding = bin_seeding
        self.min_bin_freq = min_bin_freq
        self.cluster_all = cluster_all
        self.max_iter = max_iter
        self.min_cluster_size = min_cluster_size
        self.kernel = kernel
        self.algorithm = algorithm
        self.n_jobs = n_jobs

    # ----------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> MeanShift:
        """Find the modes and label every point.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        X = np.ascontiguousarray(check_data(self, X))
        with threads(self.n_jobs):
            bandwidth = (
                float(self.bandwidth) if self.bandwidth is not None else default_bandwidth(X)
            )
            seeds = self._seeds(X, bandwidth)
            self.algorithm_ = self._resolve_algorithm(X, seeds, bandwidth)
            if self.algorithm_ == "grid":
                means, intensity, n_iter = _grid_climb(X, bandwidth, self)
            else:
                means, intensity, n_iter = _exact_climb(
                    X, X if seeds is None else seeds, bandwidth, self
                )
            centers = _select_modes(means.astype(X.dtype), intensity, bandwidth)
            centers = self._prune(X, centers)
            labels = self._label(X, centers, bandwidth)
        self.bandwidth_ = bandwidth
        self.cluster_centers_ = centers
        self.labels_ = labels
        self.n_clusters_ = int(centers.shape[0])
        self.n_iter_ = int(n_iter)
        return self

    def _seeds(self, X: np.ndarray, bandwidth: float) -> np.ndarray | None:
        """The seeds to climb; None means every point."""
        if self.seeds is not None:
            seeds = np.asarray(self.seeds)
            if seeds.dtype.kind not in "biuf":
                raise TypeError(f"seeds must be numeric; got an array of dtype {seeds.dtype}")
            if seeds.ndim != 2 or seeds.shape[1] != X.shape[1] or seeds.shape[0] == 0:
                raise ValueError(
                    f"seeds must have shape (n_seeds, {X.shape[1]}) with n_seeds >= 1; "
                    f"got {seeds.shape}"
                )
            if not np.all(np.isfinite(seeds)):
                raise ValueError("seeds must be finite; got NaN or inf")
            return np.ascontiguousarray(seeds, dtype=np.float64)
        if self.bin_seeding:
            return bin_seeds(X, bandwidth, self.min_bin_freq)
        return None

    def _resolve_algorithm(self, X: np.ndarray, seeds: Any, bandwidth: float) -> str:
        from clusterlab.kernels.grid import grid_fits

        fits = X.shape[1] <= _GRID_MAX_DIM and grid_fits(X, bandwidth / _GRID_SUBDIV)
        if self.algorithm == "grid":
            if seeds is not None or not fits:
                raise ValueError(
                    "algorithm='grid' needs every point as a seed (no seeds, no bin_seeding) "
                    f"and at most {_GRID_MAX_DIM} features on a grid of reasonable size; got "
                    f"{X.shape[1]} features (use algorithm='exact')"
                )
            return "grid"
        if self.algorithm == "auto" and seeds is None and fits and X.shape[0] > _GRID_MIN_N:
            return "grid"
        return "exact"

    def _prune(self, X: np.ndarray, centers: np.ndarray) -> np.ndarray:
        """The centres whose nearest points number at least ``min_cluster_size`` (the
        strongest centre always stays), in their order."""
        from clusterlab.kernels.lloyd import assign_labels

        size = self.min_cluster_size
        minimum = size if isinstance(size, numbers.Integral) else math.ceil(size * X.shape[0])
        if minimum <= 1 or centers.shape[0] == 1:
            return centers
        labels = np.empty(X.shape[0], dtype=np.int64)
        assign_labels(X, np.ascontiguousarray(centers), labels, np.empty(X.shape[0], X.dtype))
        keep = np.bincount(labels, minlength=centers.shape[0]) >= minimum
        keep[0] = True
        return np.ascontiguousarray(centers[keep])

    def _label(self, X: np.ndarray, centers: np.ndarray, bandwidth: float) -> np.ndarray:
        from clusterlab.kernels.lloyd import assign_labels

        labels = np.empty(X.shape[0], dtype=np.int64)
        sq_dist = np.empty(X.shape[0], dtype=X.dtype)
        assign_labels(X, np.ascontiguousarray(centers), labels, sq_dist)
        if not self.cluster_all:
            labels[np.sqrt(sq_dist.astype(np.float64)) > bandwidth] = NOISE
        return labels

    # ----------------------------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        """Nearest centre of every row (ties: the lower label).

        Returns
        -------
        labels : ndarray of shape (n_queries,), int64
        """
        from clusterlab.kernels.lloyd import assign_labels

        check_is_fitted(self, "cluster_centers_")
        X = np.ascontiguousarray(check_data(self, X, reset=False))
        centers = np.ascontiguousarray(self.cluster_centers_.astype(X.dtype, copy=False))
        labels = np.empty(X.shape[0], dtype=np.int64)
        with threads(self.n_jobs):
            assign_labels(X, centers, labels, np.empty(X.shape[0], X.dtype))
        return labels


# --------------------------------------------------------------------------------------------
# seeds
# --------------------------------------------------------------------------------------------
def bin_seeds(X: np.ndarray, bin_size: float, min_bin_freq: int = 1) -> np.ndarray | None:
    """scikit-learn's bin seeds: the cells ``round(x / bin_size)`` holding at least
    ``min_bin_freq`` points, in order of first appearance, times ``bin_size`` (in float32, as
    scikit-learn rounds them). None (every point a seed, with a warning) when every point
    has a cell of its own."""
    binned = np.round(X / bin_size)
    cells, first, counts = np.unique(binned, axis=0, return_index=True, return_counts=True)
    keep = counts >= min_bin_freq
    cells = cells[keep][np.argsort(first[keep], kind="stable")]
    if cells.shape[0] == X.shape[0]:
        warnings.warn(
            f"bin seeding with bin_size={bin_size!r} gave every point a bin of its own; "
            "using the points as seeds",
            UserWarning,
            stacklevel=4,
        )
        return None
    return np.ascontiguousarray(cells.astype(np.float32) * np.float32(bin_size), dtype=np.float64)


# --------------------------------------------------------------------------------------------
# climbs
# --------------------------------------------------------------------------------------------
def _exact_climb(
    X: np.ndarray, seeds: np.ndarray, bandwidth: float, est: MeanShift
) -> tuple[np.ndarray, np.ndarray, int]:
    from clusterlab.kernels.kdtree import build_kdtree
    from clusterlab.kernels.meanshift import node_sums, shift_seeds

    tree = build_kdtree(X, _LEAF_SIZE)
    sums = node_sums(tree)
    means, intensity, n_iter = shift_seeds(
        tree, sums, np.ascontiguousarray(seeds), bandwidth, est.max_iter, est.kernel == "gaussian"
    )
    return means, intensity, int(n_iter.max(initial=0))


def _stencil(
    bandwidth: float, side: float, d: int, gaussian: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Integer cell offsets whose centres are within reach of the centre cell's, and weights."""
    from clusterlab.kernels.meanshift import GAUSSIAN_REACH

    reach = GAUSSIAN_REACH * bandwidth if gaussian else bandwidth
    span = math.floor(reach / side)
    offsets, weights = [], []
    for offset in itertools.product(range(-span, span + 1), repeat=d):
        dist = side * math.sqrt(sum(o * o for o in offset))
        if dist <= reach * (1 + 1e-12):
            offsets.append(offset)
            weights.append(math.exp(-0.5 * (dist / bandwidth) ** 2) if gaussian else 1.0)
    return np.array(offsets, dtype=np.int64), np.array(weights, dtype=np.float64)


def _grid_climb(
    X: np.ndarray, bandwidth: float, est: MeanShift
) -> tuple[np.ndarray, np.ndarray, int]:
    """Every point's climb on the grid of cell sums, then exact climbs from where they end."""
    from clusterlab.kernels.grid import build_grid
    from clusterlab.kernels.meanshift import stencil_means

    side = bandwidth / _GRID_SUBDIV
    order, cell_start, cell_coords, _ = build_grid(X, side)
    origin = np.min(X, axis=0).astype(np.float64)
    counts = np.diff(cell_start).astype(np.float64)
    sums = np.add.reduceat(X[order].astype(np.float64), cell_start[:-1], axis=0)
    offsets, weights = _stencil(bandwidth, side, X.shape[1], est.kernel == "gaussian")
    state = cell_coords  # the cell each occupied cell's climb is in
    positions = None
    for _ in range(max(1, est.max_iter)):
        cells, inverse = np.unique(state, axis=0, return_inverse=True)
        means = stencil_means(cell_coords, sums, counts, cells, offsets, weights)
        stuck = np.isnan(means[:, 0])
        means[stuck] = (cells[stuck] + 0.5) * side + origin
        moved = np.floor((means - origin) / side).astype(np.int64)
        positions = means[inverse.ravel()]
        new_state = moved[inverse.ravel()]
        if np.array_equal(new_state, state):
            break
        state = new_state
    ends = np.unique(positions, axis=0)
    return _exact_climb(X, ends, bandwidth, est)


# --------------------------------------------------------------------------------------------
# modes
# --------------------------------------------------------------------------------------------
def _select_modes(means: np.ndarray, intensity: np.ndarray, bandwidth: float) -> np.ndarray:
    """scikit-learn's choice of centres: distinct modes of the seeds that reached any point,
    ordered by intensity then coordinates (both descending); a mode within ``bandwidth`` of a
    stronger kept one is dropped."""
    from clusterlab.kernels.kdtree import build_kdtree, query_radius

    reached = intensity > 0
    if not reached.any():
        raise ValueError(
            f"no point is within bandwidth={bandwidth!r} of any seed; use other seeds or a "
            "larger bandwidth"
        )
    modes = means[reached]
    strength = intensity[reached]
    # equal modes keep the intensity of the last seed that reached them (a dict, in sklearn)
    modes, inverse = np.unique(modes, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    last = np.full(modes.shape[0], -1, dtype=np.int64)
    np.maximum.at(last, inverse, np.arange(inverse.shape[0]))
    strength = strength[last]
    keys = [-modes[:, k] for k in range(modes.shape[1] - 1, -1, -1)] + [-strength]
    modes = np.ascontiguousarray(modes[np.lexsort(keys)])
    keep = np.ones(modes.shape[0], dtype=bool)
    tree = build_kdtree(modes, _LEAF_SIZE) if modes.shape[0] > _SUPPRESS_BRUTE else None
    for i in range(modes.shape[0]):
        if not keep[i]:
            continue
        if tree is None:  # few modes: one vector of distances beats a tree query's start-up
            near = np.einsum("ij,ij->i", modes - modes[i], modes - modes[i]) <= bandwidth**2
        else:
            _, near, _ = query_radius(tree, modes[i : i + 1], bandwidth, 2.0)
        keep[near] = False
        keep[i] = True
    return modes[keep]
