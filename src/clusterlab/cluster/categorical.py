"""KModes and KPrototypes: clustering categorical and mixed tables (Huang 1997, 1998).

Both take a pandas DataFrame with category / object / string / bool columns directly (or a
numpy array), code each categorical column's levels as integers, and run Huang's algorithm on
numba kernels (:mod:`clusterlab.kernels.kmodes`). From the same initial prototypes they return
the kmodes library's labels, prototypes and cost (tested bit for bit).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from clusterlab._base import ParamsMixin
from clusterlab._config import threads
from clusterlab._mixed import (
    CategoryCodes,
    Table,
    categorical_positions,
    fit_category_codes,
    read_table,
)
from clusterlab._validation import (
    ARRAY_LIKE,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_n_clusters,
    check_sample_weight,
)
from clusterlab.distributed._dispatch import dask_fit, is_dask_collection

__all__ = ["KModes", "KPrototypes"]

_SEED_HIGH = 2**31 - 1
#: Work (rows x columns x clusters) below which a fit runs on one thread: waking a second
#: thread for an assignment pass of a few milliseconds costs more than it saves.
_SMALL_WORK = 4_000_000

#: Checks of scikit-learn's suite that cannot apply, with the reason (listed in the tags).
_KMODES_EXPECTED_FAILED = {
    "check_clustering": (
        "k-modes treats every distinct number as a category, so the check's continuous blobs "
        "are all-different categories and cannot be recovered"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "Huang's algorithm moves one row at a time: a row repeated twice moves in two steps, "
        "a row of weight 2 in one, so the paths (and local optima) differ"
    ),
}
_KPROTOTYPES_EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": _KMODES_EXPECTED_FAILED[
        "check_sample_weight_equivalence_on_dense_data"
    ],
}


def _seed_source(random_state: Any):
    if isinstance(random_state, np.random.Generator):
        return lambda: int(random_state.integers(_SEED_HIGH))
    if isinstance(random_state, np.random.RandomState):
        return lambda: int(random_state.randint(_SEED_HIGH))
    rs = np.random.RandomState(random_state)
    return lambda: int(rs.randint(_SEED_HIGH))


class _Data:
    """The arrays one fit works on (numeric block, codes, weights, layout)."""

    def __init__(self, layout: CategoryCodes, Xnum, Xcat, weights, table: Table) -> None:
        self.layout = layout
        self.Xnum = Xnum
        self.Xcat = Xcat
        self.weights = weights
        self.table = table
        self.offsets = layout.offsets


class _HuangBase(
    ParamsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """Shared fit / predict of k-modes and k-prototypes (a k-modes fit has no numeric block)."""

    def _categorical_columns(self, table: Table) -> np.ndarray:
        raise NotImplementedError

    def _resolved_gamma(self, data: _Data, sample_weight: Any) -> float:
        raise NotImplementedError

    # -- fitting ------------------------------------------------------------------------------

    def _prepare(self, X: Any, sample_weight: Any) -> _Data:
        table = read_table(self, X, reset=True)
        layout, Xcat = fit_category_codes(table, self._categorical_columns(table))
        Xnum = layout.numeric_block(table)
        check_n_clusters(self.n_clusters, table.n_rows)
        weights = check_sample_weight(sample_weight, table.n_rows, np.float64)
        return _Data(layout, Xnum, np.ascontiguousarray(Xcat), weights, table)

    def _n_jobs_for(self, n_rows: int, n_columns: int) -> int | None:
        small = n_rows * max(1, n_columns) * self.n_clusters < _SMALL_WORK
        return 1 if small else self.n_jobs

    def _resolved_n_init(self, data: _Data) -> int:
        if isinstance(self.init, str) and self.init in ("huang", "random"):
            return int(self.n_init)
        if isinstance(self.init, str) and data.Xnum.shape[1] > 0:
            return int(self.n_init)  # k-prototypes 'cao': Cao's rows, then k-means++ draws
        return 1  # k-modes 'cao' and an array are deterministic: one run gives the answer

    def _init_rows(self, data: _Data, gamma: float, seed: int, run: int):
        """Initial prototypes (numeric block, codes) for run number ``run``."""
        from clusterlab.kernels.kmodes import (
            cao_indices,
            nearest_distinct_rows,
            plusplus_indices,
        )
        from clusterlab.kernels.seeding import random_indices

        k = self.n_clusters
        if not isinstance(self.init, str):
            return self._init_array
        if self.init == "cao" and run > 0:
            idx = plusplus_indices(data.Xnum, data.Xcat, data.weights, gamma, k, seed)
        elif self.init == "cao":
            idx = cao_indices(data.Xnum, data.Xcat, data.weights, data.offsets, gamma, k)
        elif self.init == "random":
            idx = random_indices(data.Xnum.shape[0], k, data.weights, seed)
        else:  # huang
            pnum, pcat = _huang_draw(data, k, seed)
            idx = nearest_distinct_rows(data.Xnum, data.Xcat, data.weights, pnum, pcat, gamma)
        return data.Xnum[idx].copy(), data.Xcat[idx].copy()

    def _check_init_array(self, data: _Data) -> None:
        self._init_array = None
        if isinstance(self.init, str):
            return
        rows = read_table(_Plain(), self.init, reset=True)
        if rows.n_columns != data.table.n_columns or rows.n_rows != self.n_clusters:
            raise ValueError(
                f"init must have shape (n_clusters, n_features) = ({self.n_clusters}, "
                f"{data.table.n_columns}); got ({rows.n_rows}, {rows.n_columns})"
            )
        self._init_array = data.layout.encode_rows(rows, data.table, "init")

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None):
        """Cluster the rows of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table; not modified.
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights (in the modes' frequencies, the means and the cost).

        Returns
        -------
        self
        """
        if is_dask_collection(X):  # batch passes by map-reduce; labels_ stays lazy
            return dask_fit(self, X, sample_weight)
        self._validate_params()
        data = self._prepare(X, sample_weight)
        self._check_init_array(data)
        gamma = self._resolved_gamma(data, sample_weight)
        next_seed = _seed_source(self.random_state)
        best = None
        with threads(self._n_jobs_for(data.Xnum.shape[0], data.table.n_columns)):
            for r in range(self._resolved_n_init(data)):
                cnum, ccat = self._init_rows(data, gamma, next_seed(), r)
                result = _run(data, cnum.copy(), ccat.copy(), gamma, self.max_iter)
                if best is None or result[3] < best[3]:
                    best = result
        cnum, ccat, labels, cost, n_iter, n_empty = best
        if n_empty:
            warnings.warn(
                f"Number of distinct clusters ({self.n_clusters - n_empty}) found smaller than "
                f"n_clusters ({self.n_clusters}): X has fewer distinct rows than clusters.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._layout = data.layout
        self._cnum, self._ccat, self._gamma = cnum, ccat, gamma
        self.labels_ = labels
        self.cost_ = float(cost)
        self.n_iter_ = int(n_iter)
        self.cluster_centroids_ = self._centroids_table(cnum, ccat)
        self.categorical_ = data.layout.categorical.copy()
        self._n_features_out = self.n_clusters
        return self

    def _centroids_table(self, cnum: np.ndarray, ccat: np.ndarray) -> np.ndarray:
        layout = self._layout
        out = np.empty((ccat.shape[0], len(layout.numeric) + len(layout.categorical)), dtype=object)
        out[:, layout.numeric] = cnum
        out[:, layout.categorical] = layout.decode(ccat)
        return out

    # -- using a fitted model -----------------------------------------------------------------

    def _test_blocks(self, X: Any):
        check_is_fitted(self, "labels_")
        table = read_table(self, X, reset=False)
        return self._layout.numeric_block(table), self._layout.categorical_block(table)

    def predict(self, X: Any) -> np.ndarray:
        """Nearest prototype of each row (int64); predicting the training rows gives ``labels_``.

        A category not seen in fit matches no mode: it adds one mismatch to every cluster and so
        does not change which is nearest (ties go to the lowest cluster index).
        """
        from clusterlab.kernels.kmodes import assign_cost

        Xnum, Xcat = self._test_blocks(X)
        labels = np.empty(Xnum.shape[0], dtype=np.int64)
        with threads(self._n_jobs_for(Xnum.shape[0], Xnum.shape[1] + Xcat.shape[1])):
            assign_cost(
                Xnum, Xcat, np.ones(Xnum.shape[0]), self._cnum, self._ccat, self._gamma, labels
            )
        return labels

    def transform(self, X: Any) -> np.ndarray:
        """Dissimilarity of each row to each prototype, float64 (n_samples, n_clusters)."""
        from clusterlab.kernels.kmodes import dissimilarities

        Xnum, Xcat = self._test_blocks(X)
        with threads(self.n_jobs):
            return dissimilarities(Xnum, Xcat, self._cnum, self._ccat, self._gamma)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


class _Plain(BaseEstimator):
    """Stand-in estimator for validating an ``init`` table (its state is discarded)."""


def _huang_draw(data: _Data, k: int, seed: int):
    """Huang's drawn prototypes: each column's value drawn by its (weighted) frequency."""
    rng = np.random.default_rng(seed)
    p = data.weights / data.weights.sum()
    n = data.Xnum.shape[0]
    pnum = np.empty((k, data.Xnum.shape[1]))
    pcat = np.empty((k, data.Xcat.shape[1]), dtype=np.int32)
    for f in range(data.Xnum.shape[1]):
        pnum[:, f] = data.Xnum[rng.choice(n, size=k, p=p), f]
    for j in range(data.Xcat.shape[1]):
        pcat[:, j] = data.Xcat[rng.choice(n, size=k, p=p), j]
    return pnum, pcat


def _run(data: _Data, cnum: np.ndarray, ccat: np.ndarray, gamma: float, max_iter: int):
    """One run of Huang's algorithm from initial prototypes, as the kmodes library runs it:
    assign every row, move each prototype to its cluster's mean and mode, then online passes
    until a pass moves nothing or does not lower the cost.

    Returns ``(cnum, ccat, labels, cost, n_iter, n_empty)``.
    """
    from clusterlab.kernels.kmodes import (
        accumulate,
        assign_cost,
        online_pass,
        repair_empty,
        update_prototypes,
    )

    Xnum, Xcat, w, offsets = data.Xnum, data.Xcat, data.weights, data.offsets
    n, k = Xnum.shape[0], ccat.shape[0]
    member = np.empty(n, dtype=np.int64)
    labels = np.empty(n, dtype=np.int64)
    sums = np.zeros((k, Xnum.shape[1]))
    wsum = np.zeros(k)
    counts = np.zeros(k, dtype=np.int64)
    freq = np.zeros((k, int(offsets[-1])))
    state = (cnum, ccat, sums, wsum, counts, freq, member)
    assign_cost(Xnum, Xcat, w, cnum, ccat, gamma, member)
    accumulate(Xnum, Xcat, w, member, offsets, sums, wsum, counts, freq)
    repair_empty(Xnum, Xcat, w, gamma, offsets, *state)
    update_prototypes(sums, wsum, freq, offsets, cnum, ccat)
    cost = assign_cost(Xnum, Xcat, w, cnum, ccat, gamma, labels)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        moves = online_pass(Xnum, Xcat, w, gamma, offsets, *state)
        new_cost = assign_cost(Xnum, Xcat, w, cnum, ccat, gamma, labels)
        converged = moves == 0 or new_cost >= cost
        cost = new_cost
        if converged:
            break
    n_empty = int(k - np.count_nonzero(np.bincount(labels, minlength=k)))
    return cnum, ccat, labels, cost, n_iter, n_empty


_COMMON_CONSTRAINTS = {
    "n_clusters": [Interval(numbers.Integral, 1, None)],
    "init": [Options("cao", "huang", "random"), ARRAY_LIKE],
    "n_init": [Interval(numbers.Integral, 1, None)],
    "max_iter": [Interval(numbers.Integral, 1, None)],
    "random_state": [RANDOM_STATE],
    "n_jobs": [NONE, Interval(numbers.Integral, None, None)],
}


class KModes(_HuangBase):
    """K-modes clustering of categorical data (Huang 1998), on numba kernels.

    Each cluster is summarised by its mode (the most frequent category of each column) and a
    row's dissimilarity to a mode is the number of columns where they differ. Huang's algorithm
    assigns the rows one at a time, updating the two modes concerned after every move.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {'cao', 'huang', 'random'} or array-like of shape (n_clusters, n_features)
        'cao': Cao, Liang & Bai (2009) — the densest row (most frequent categories), then
        repeatedly the row of largest density times dissimilarity to the chosen ones;
        deterministic, so ``n_init`` is not used. 'huang': each column's category drawn by
        frequency, each drawn prototype replaced by the nearest row distinct from those taken.
        'random': distinct rows drawn by weight. An array: initial modes in X's categories
        (every value must occur in its column).
    n_init : int, default=10
        Runs from different 'huang' or 'random' initialisations; the lowest cost wins.
    max_iter : int, default=100
        Maximum passes over the data in one run.
    random_state : None, int, RandomState or Generator
        Randomness of 'huang' and 'random'; an int gives identical results run to run and for
        every thread count.
    n_jobs : int, optional
        Threads for the assignment passes (None: numba's current setting; -1: all cores).

    Attributes
    ----------
    cluster_centroids_ : ndarray of object, shape (n_clusters, n_features)
        The modes, in X's own categories; a missing-value mode is ``None``.
    labels_ : ndarray of shape (n_samples,), int64
        Nearest mode of each row (ties: the lowest cluster index).
    cost_ : float
        Weighted sum of the rows' mismatches with their mode.
    n_iter_ : int
        Passes of the best run.
    categorical_ : ndarray of int64
        Positions of the categorical columns (every column).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when X is a DataFrame with string column names.

    Notes
    -----
    Every column is categorical: numbers are categories too (each distinct value a level).
    A missing value (None, NaN, pd.NA) is a category of its own. A cluster left empty is given
    the row farthest from its own mode (instead of the kmodes library's random row, and instead
    of failing to initialise at large ``n_clusters``). From the same initial modes, labels, modes
    and cost equal the kmodes library's wherever no cluster empties.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab import KModes
    >>> X = pd.DataFrame({"colour": ["red", "red", "red", "blue", "blue", "blue"],
    ...                   "size": ["S", "S", "M", "L", "L", "XL"]})
    >>> km = KModes(n_clusters=2).fit(X)
    >>> km.labels_.tolist()
    [0, 0, 0, 1, 1, 1]
    >>> km.cluster_centroids_.tolist()
    [['red', 'S'], ['blue', 'L']]
    """

    _parameter_constraints = _COMMON_CONSTRAINTS
    #: scikit-learn checks that cannot apply to categorical input, with the reason.
    _expected_failed_checks = _KMODES_EXPECTED_FAILED

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: Any = "cao",
        n_init: int = 10,
        max_iter: int = 100,
        random_state: Any = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _categorical_columns(self, table: Table) -> np.ndarray:
        return np.arange(table.n_columns, dtype=np.int64)

    def _resolved_gamma(self, data: _Data, sample_weight: Any) -> float:
        return 1.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class KPrototypes(_HuangBase):
    """K-prototypes clustering of mixed numeric and categorical data (Huang 1997).

    A prototype is the mean of a cluster's numeric columns and the mode of its categorical ones;
    the dissimilarity of a row to a prototype is the squared Euclidean distance over the numeric
    columns plus ``gamma`` times the number of categorical mismatches. Huang's algorithm assigns
    rows one at a time, updating the two prototypes concerned after every move.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    categorical : None, int, str, list of positions or names, or boolean mask
        The categorical columns. None takes them from X: pandas category / object / string /
        bool columns, or numpy object columns holding anything but numbers. Every other column
        must be numeric (scale them as for k-means: the squared distances are in their units).
    gamma : float, optional
        Weight of a categorical mismatch. None: Huang's rule as the kmodes library applies it,
        half the mean (weighted) standard deviation of the numeric columns (1 when that is 0 or
        when there is no numeric column).
    init : {'cao', 'huang', 'random'} or array-like of shape (n_clusters, n_features)
        'cao': the first run from Cao, Liang & Bai's rule with the k-prototypes dissimilarity —
        the densest row (density from the categorical columns), then repeatedly the row of
        largest density times dissimilarity to the chosen rows — and the other ``n_init - 1``
        runs from rows drawn as k-means++ draws them under that dissimilarity (Cao's rule has
        no randomness to restart from; the kmodes library also runs ``n_init`` times with
        'Cao', drawing the numeric parts at random). 'huang':
        each column's value drawn by frequency, each drawn prototype replaced by the nearest row
        distinct from those taken. 'random': distinct rows drawn by weight. An array: initial
        prototypes in X's column order and categories.
    n_init : int, default=10
        Runs from different initialisations ('cao', 'huang', 'random'); the lowest cost wins.
    max_iter : int, default=100
        Maximum passes over the data in one run.
    random_state : None, int, RandomState or Generator
        Randomness of the initialisations; an int gives identical results run to run and for
        every thread count.
    n_jobs : int, optional
        Threads for the assignment passes (None: numba's current setting; -1: all cores).

    Attributes
    ----------
    cluster_centroids_ : ndarray of object, shape (n_clusters, n_features)
        The prototypes in X's column order: means (float) and modes (X's categories; a
        missing-value mode is ``None``).
    labels_ : ndarray of shape (n_samples,), int64
    cost_ : float
        Weighted sum of the rows' dissimilarities to their prototype.
    gamma_ : float
        The mismatch weight used.
    n_iter_ : int
    categorical_ : ndarray of int64
        Positions of the categorical columns.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    Numeric columns may not have missing values (impute them, or use
    ``KMedoids(metric='gower')``); a missing category is a category of its own. Without
    categorical columns this is MacQueen's online k-means; without numeric ones, k-modes. The
    kmodes library draws the numeric part of every initial prototype at random (and gives up
    when that leaves a cluster empty); 'cao' here takes whole rows, and an empty cluster is
    given the row farthest from its own prototype. From the same initial prototypes, labels,
    prototypes and cost equal the library's wherever no cluster empties.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab import KPrototypes
    >>> X = pd.DataFrame({"spend": [1.0, 1.2, 0.9, 8.0, 8.5, 7.9],
    ...                   "channel": ["web", "web", "shop", "shop", "shop", "web"]})
    >>> kp = KPrototypes(n_clusters=2, gamma=0.5).fit(X)
    >>> kp.labels_.tolist()
    [0, 0, 0, 1, 1, 1]
    >>> kp.cluster_centroids_[1].tolist()
    [8.133333333333333, 'shop']
    """

    _parameter_constraints = {  # noqa: RUF012 - read-only class table
        **_COMMON_CONSTRAINTS,
        "categorical": [NONE, Interval(numbers.Integral, None, None), str, ARRAY_LIKE],
        "gamma": [NONE, Interval(numbers.Real, 0, None)],
    }
    #: scikit-learn checks that cannot apply to mixed input, with the reason.
    _expected_failed_checks = _KPROTOTYPES_EXPECTED_FAILED

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        categorical: Any = None,
        gamma: float | None = None,
        init: Any = "cao",
        n_init: int = 10,
        max_iter: int = 100,
        random_state: Any = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.categorical = categorical
        self.gamma = gamma
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _categorical_columns(self, table: Table) -> np.ndarray:
        return categorical_positions(table, self.categorical)

    def _resolved_gamma(self, data: _Data, sample_weight: Any) -> float:
        if self.gamma is not None:
            return float(self.gamma)
        Xnum = data.Xnum
        if Xnum.shape[1] == 0:
            return 1.0
        if sample_weight is None:
            # column by column (pairwise sums, as the library's column-major block gets): the
            # kmodes library's figure to the last bit
            std = np.std(np.asfortranarray(Xnum), axis=0)
        else:
            w = data.weights
            mean = (w @ Xnum) / w.sum()
            std = np.sqrt((w @ (Xnum - mean) ** 2) / w.sum())
        gamma = 0.5 * float(np.mean(std))
        return gamma if gamma > 0 else 1.0

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KPrototypes:
        super().fit(X, y, sample_weight)
        self.gamma_ = self._gamma
        return self
