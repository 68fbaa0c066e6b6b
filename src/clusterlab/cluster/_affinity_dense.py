"""The dense affinity propagation run behind ``AffinityPropagation``.

:class:`DenseRun` holds the similarity matrix with scikit-learn's tie-breaking noise and the two
message matrices, and solves for one preference (:meth:`DenseRun.solve`) or searches the
preference that gives a number of exemplars (:meth:`DenseRun.search`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clusterlab._config import check_memory, threads

__all__ = ["DenseRun", "exact_median", "finish_labels", "make_random_state", "search_preference"]

#: Below this many matrix entries (1,000 points) the message passing runs on one thread: two
#: parallel regions per iteration cost more than they save on short iterations. One iteration
#: on 1 vs 2 threads (benchmarks.run affinity, A4), quiet 2-core machine, 2026-12-07: 500
#: points 0.60 vs 0.83 ms, 1,000: 2.6 vs 1.9 ms, 2,000: 12.1 vs 8.2 ms, 3,000: 27.2 vs 22.7 ms,
#: 5,000: 74 vs 48 ms. (Under heavy load two threads lose at every size, 3-10x below 2,000
#: points; the switch follows the quiet figures, where runs are long enough to matter.)
#: These figures predate the vectorised kernels, which cut a one-thread iteration by about
#: 40% (3,000 points: 28.9 to 17.1 ms CPU, loaded): re-check the switch against A4, quiet.
_SMALL_DENSE = 1_000_000

#: Entries sampled by :func:`exact_median` to bracket the median.
_MEDIAN_SAMPLE = 20_000

#: Preference search for ``n_clusters``: at most this many runs.
_SEARCH_RUNS = 40

#: The search gives up on a count once its bracket of preferences is this narrow (relative to
#: the preference): a count no run has hit by then lies in a sliver of preferences, if any
#: (counts jump past it). Bisecting on to the last float took the rest of the 40 runs: on the
#: wholesale demo 30 of choose_k's 49 runs went to k = 8, which no preference gives.
_BRACKET_RTOL = 1e-4


@dataclass
class DenseRun:
    """Similarities with noise (diagonal set per preference), messages, and run settings."""

    S: np.ndarray
    noise_diag: np.ndarray
    median: float
    constant: bool
    corner: float
    est: Any
    R: np.ndarray | None = None
    A: np.ndarray | None = None
    colsum: np.ndarray | None = None

    @classmethod
    def build(cls, est: Any, X: np.ndarray) -> DenseRun:
        """Similarity matrix of ``X`` (or ``X`` itself when precomputed) with scikit-learn's
        noise on every entry; the diagonal is filled in by :meth:`solve`."""
        n = X.shape[0]
        dtype = X.dtype
        check_memory(
            3.0 * n * n * dtype.itemsize,
            what=f"dense affinity propagation on {n:,} points (three {n:,} x {n:,} matrices)",
            alternative="use sparse=True (messages along a k-nearest-neighbour graph, O(n k) "
            "memory)",
        )
        return cls.from_similarities(est, _similarities(est, X))

    @classmethod
    def from_similarities(cls, est: Any, S: np.ndarray) -> DenseRun:
        """A run on the similarity matrix ``S`` (used in place: noise is added to it)."""
        from clusterlab.kernels.affinity import off_diagonal_constant

        median = exact_median(S)
        constant = bool(off_diagonal_constant(S))
        corner = float(S.flat[S.shape[0] - 1])  # scikit-learn's test value, before the noise
        noise_diag = _add_noise(S, make_random_state(est.random_state))
        return cls(S, noise_diag, median, constant, corner, est)

    def set_preference(self, preference: Any) -> None:
        """Write ``preference`` (scalar or per point) and its noise on the diagonal, with the
        rounding of scikit-learn's ``S += (eps * S + tiny * 100) * noise``."""
        n = self.S.shape[0]
        dtype = self.S.dtype
        diag = np.empty(n, dtype=dtype)
        diag[:] = preference
        diag += (np.finfo(dtype).eps * diag + np.finfo(dtype).tiny * 100) * self.noise_diag
        self.S.flat[:: n + 1] = diag

    def solve(
        self, preference: Any, *, warm: bool = False, damping: float | None = None
    ) -> dict[str, Any]:
        """One run with ``preference``; the result record of the estimator.

        ``warm`` starts from the messages the previous run left (a search over preferences);
        ``damping`` overrides the estimator's starting damping and makes the run adaptive.
        """
        n = self.S.shape[0]
        pref = np.asarray(preference, dtype=np.float64)
        if n == 1 or (self.constant and np.all(pref == pref.flat[0])):
            return self._degenerate(pref)
        self.set_preference(preference)
        exemplar, n_iter, converged, damping = self._iterate(warm, damping)
        exemplars, labels = finish_labels(self.S, exemplar)
        out_pref = float(pref) if pref.ndim == 0 else pref
        return _record(exemplars, labels, n_iter, converged, out_pref, damping)

    def _iterate(self, warm: bool, damping: float | None) -> tuple[np.ndarray, int, bool, float]:
        import numba

        from clusterlab.kernels.affinity import dense_iterate

        est = self.est
        adaptive = damping is not None
        if damping is None:
            damping, adaptive = est._damping_start()
        warm = warm and self.R is not None
        if self.R is None:
            # np.zeros maps zero pages: the first row pass touches them, on every thread
            self.R = np.zeros(self.S.shape, dtype=self.S.dtype)
            self.A = np.zeros(self.S.shape, dtype=self.S.dtype)
            self.colsum = np.zeros(self.S.shape[0], dtype=self.S.dtype)
        elif not warm:
            self.R.fill(0)
            self.A.fill(0)
        small = self.S.shape[0] ** 2 < _SMALL_DENSE
        with threads(1 if small else None):
            exemplar, last_found, n_iter, converged, damping = dense_iterate(
                self.S,
                self.R,
                self.A,
                self.colsum,
                damping,
                est.max_iter,
                est.convergence_iter,
                warm,
                adaptive,
                numba.get_num_threads(),
            )
        if not exemplar.any():
            exemplar = last_found if last_found.any() else _most_evident(self.R, self.A)
        return exemplar, n_iter, converged, damping

    def _degenerate(self, pref: np.ndarray) -> dict[str, Any]:
        """scikit-learn's answer when all similarities and preferences are equal (or n = 1):
        every point its own exemplar if the preference beats the similarity, else one cluster."""
        n = self.S.shape[0]
        if n > 1:
            warnings.warn(
                "all similarities between distinct points are equal, and so are the "
                "preferences: the exemplars are arbitrary",
                UserWarning,
                stacklevel=5,
            )
        if pref.flat[0] > self.corner:
            exemplars = np.arange(n, dtype=np.int64)
            labels = np.arange(n, dtype=np.int64)
        else:
            exemplars = np.zeros(1, dtype=np.int64)
            labels = np.zeros(n, dtype=np.int64)
        out_pref = float(pref) if pref.ndim == 0 else pref
        return _record(exemplars, labels, 0, True, out_pref, self.est._damping_start()[0])

    def search(self, n_clusters: int, start: float | None = None) -> dict[str, Any]:
        """The run whose exemplar count is ``n_clusters`` (or the closest found), searched from
        the preference ``start`` (default: the median similarity)."""
        return self.search_many([n_clusters], start)[n_clusters]

    def search_many(
        self, targets: Sequence[int], start: float | None = None
    ) -> dict[int, dict[str, Any]]:
        """:meth:`search` for every exemplar count of ``targets``, each result exactly
        :meth:`search`'s on a fresh run, the runs their searches share made once
        (:func:`search_preferences`; the messages where two searches part are kept while the
        memory budget allows, else replayed)."""
        n = self.S.shape[0]
        if n == 1 or self.constant:
            found = {}
            for k in targets:
                pref = self.corner + 1.0 if k == n and n > 1 else self.median
                found[k] = self._degenerate(np.asarray(pref))
                _warn_count(found[k], k)
            return found
        S = self.S
        off = S[~np.eye(n, dtype=bool)] if n <= 2_000 else None
        lo = float(off.min()) if off is not None else float(_row_extreme(S, np.min))
        hi = float(off.max()) if off is not None else float(_row_extreme(S, np.max))
        first = self.median if start is None else float(start)
        searcher = _Searcher(self)
        return search_preferences(
            searcher.solve, targets, lo, first, hi, searcher.checkpoint, searcher.resume
        )


class _Searcher:
    """A dense run's preference search: warm starts after the first run, the adaptive damping
    carried from run to run, and checkpoints of the messages for :func:`search_preferences`."""

    def __init__(self, run: DenseRun) -> None:
        self.run = run
        self.start_damping = run.est._damping_start()[0]
        self.damping = self.start_damping
        self.warm = False
        self.kept = 0  # bytes of the checkpoints alive

    def solve(self, p: float) -> dict[str, Any]:
        result = self.run.solve(p, warm=self.warm, damping=self.damping)
        self.warm = True
        self.damping = result["damping"]
        return result

    def checkpoint(self) -> Any:
        """The messages (a copy, while the run's matrices and every kept copy fit the memory
        budget) and the damping; None when the state is to be replayed."""
        from clusterlab._config import get_config

        run = self.run
        size = 2 * run.S.nbytes
        if (
            run.R is None
            or 3 * run.S.nbytes + self.kept + size > get_config()["memory_budget"] * 2**20
        ):
            return None
        self.kept += size
        return run.R.copy(), run.A.copy(), run.colsum.copy(), self.damping, self.warm

    def resume(self, saved: Any, history: tuple[float, ...]) -> None:
        run = self.run
        if saved is None:  # replay the runs from a cold start
            self.damping, self.warm = self.start_damping, False
            for p in history:
                self.solve(p)
            return
        R, A, colsum, self.damping, self.warm = saved
        run.R[...] = R
        run.A[...] = A
        run.colsum[...] = colsum
        self.kept -= R.nbytes + A.nbytes


def _record(exemplars, labels, n_iter, converged, preference, damping) -> dict[str, Any]:  # noqa: PLR0917
    return {
        "exemplars": exemplars,
        "labels": labels,
        "n_iter": n_iter,
        "converged": converged,
        "preference": preference,
        "damping": damping,
    }


def _row_extreme(S: np.ndarray, fn: Callable) -> float:
    """Min or max over the off-diagonal entries, a row at a time (no n x n temporary)."""
    n = S.shape[0]
    values = [fn(np.concatenate([S[i, :i], S[i, i + 1 :]])) for i in range(n)]
    return fn(np.asarray(values))


def _warn_count(result: dict[str, Any], n_clusters: int) -> None:
    found = int(result["exemplars"].shape[0])
    if found != n_clusters:
        warnings.warn(
            f"no preference gave exactly n_clusters={n_clusters} exemplars; the closest run "
            f"found {found} (preference_ = {result['preference']!r})",
            UserWarning,
            stacklevel=5,
        )


def search_preference(
    solve: Callable[[float], dict[str, Any]],
    n_clusters: int,
    lowest: float,
    start: float,
    highest: float,
) -> dict[str, Any]:
    """Bisection on the preference for a run with ``n_clusters`` exemplars.

    The exemplar count grows with the preference (not strictly, and noisily when runs do not
    converge). The search starts at ``start`` and brackets ``n_clusters`` between preferences
    giving too few and too many exemplars, moving out geometrically (``lowest`` and
    ``highest``, the extreme similarities, are the usual scale of the bracket); it then bisects
    -- on a log scale while the bracket is negative, as similarities span orders of magnitude
    -- until the bracket is narrower than ``_BRACKET_RTOL`` of the preference (or
    ``_SEARCH_RUNS`` runs were made). Returns the first run with exactly ``n_clusters``
    exemplars, else the run whose count was closest (fewer exemplars win ties), with a warning.
    """
    return search_preferences(solve, [n_clusters], lowest, start, highest)[n_clusters]


@dataclass
class _Branch:
    """The search of the targets whose runs so far were all the same.

    ``history`` holds the preferences run before ``p`` (from a cold start); ``saved`` the
    message state they left, when it was kept (None: the current state, or to be replayed).
    """

    targets: list[int]
    p: float | None
    lo: float | None
    hi: float | None
    up_step: float
    down_step: float
    tried: list[dict[str, Any]]
    history: tuple[float, ...]
    saved: Any = None
    current: bool = True


def search_preferences(  # noqa: PLR0917
    solve: Callable[[float], dict[str, Any]],
    targets: Sequence[int],
    lowest: float,
    start: float,
    highest: float,
    checkpoint: Callable[[], Any] | None = None,
    resume: Callable[[Any, tuple[float, ...]], None] | None = None,
) -> dict[int, dict[str, Any]]:
    """:func:`search_preference` for several exemplar counts at once, run by run the same.

    Every target's search starts with the same run and follows it the same way as long as
    each run's count sends them the same way (too few exemplars, or too many); where a run's
    count falls between two targets their searches part. The runs they share are made once: a
    branch continues from the messages of the run before it (``solve`` warm-starts from
    whatever state the previous call left), the other branch from a ``checkpoint()`` taken
    there, which ``resume(saved, history)`` restores (``history``: the preferences run before,
    from a cold start, for a runner that replays them instead of keeping the messages). So
    each target's result is exactly the one :func:`search_preference` would return alone.
    ``checkpoint`` and ``resume`` are only called when two targets part.
    """
    tiny = 1e-12 * max(abs(lowest), abs(highest), 1.0)
    up_step = max(0.5 * (highest - start), tiny)
    down_step = max(start - lowest, tiny)
    pending = [_Branch(sorted(set(targets)), start, None, None, up_step, down_step, [], ())]
    found: dict[int, dict[str, Any]] = {}
    while pending:
        branch = pending.pop()
        if not branch.current:
            resume(branch.saved, branch.history)
        result = solve(branch.p)
        tried = [*branch.tried, result]
        count = int(result["exemplars"].shape[0])
        history = (*branch.history, branch.p)
        parts = []
        for group in (
            [k for k in branch.targets if k > count],
            [k for k in branch.targets if k < count],
        ):
            if group:
                parts.append(_next_branch(branch, group, count, tried, history))
        for k in branch.targets:
            if k == count:
                found[k] = result
        for part in parts:
            if part.p is None:
                for k in part.targets:
                    found[k] = _closest(part.tried, k)
        going = [part for part in parts if part.p is not None]
        for part in going[1:]:
            part.saved = checkpoint()
            part.current = False
        pending.extend(reversed(going))  # the first part runs next, on the current messages
    return found


def _next_branch(
    branch: _Branch, group: list[int], count: int, tried: list[dict[str, Any]], history: tuple
) -> _Branch:
    """The search of ``group`` after ``branch``'s run gave ``count`` exemplars: its next
    preference (None when the search is over)."""
    lo, hi, up_step, down_step = branch.lo, branch.hi, branch.up_step, branch.down_step
    p = branch.p
    if count < group[0]:
        lo = p
    else:
        hi = p
    nxt: float | None
    if len(tried) >= _SEARCH_RUNS:
        nxt = None
    elif lo is not None and hi is not None:
        nxt = _middle(lo, hi)
        if nxt in (lo, hi) or abs(hi - lo) <= _BRACKET_RTOL * max(abs(lo), abs(hi)):
            nxt = None
    elif hi is None:
        nxt, up_step = p + up_step, 2.0 * up_step
    else:
        nxt, down_step = p - down_step, 2.0 * down_step
    return _Branch(group, nxt, lo, hi, up_step, down_step, tried, history)


def _closest(tried: list[dict[str, Any]], n_clusters: int) -> dict[str, Any]:
    """The run whose count was closest to ``n_clusters`` (fewer exemplars win ties), warned."""
    best = min(
        tried,
        key=lambda r: (abs(r["exemplars"].shape[0] - n_clusters), r["exemplars"].shape[0]),
    )
    _warn_count(best, n_clusters)
    return best


def _middle(lo: float, hi: float) -> float:
    if hi < 0 and lo < 0:
        return -math.exp(0.5 * (math.log(-lo) + math.log(-hi)))
    return 0.5 * (lo + hi)


def finish_labels(S: np.ndarray, exemplar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's final step: assign every point to its most similar exemplar, move each
    cluster's exemplar to the member with the largest summed similarity, and assign again.

    Returns the exemplar indices (ascending) and the labels 0..k-1 (int64).
    """
    from clusterlab.kernels.affinity import assign_to_exemplars, refine_exemplars

    exemplars = np.flatnonzero(exemplar).astype(np.int64)
    c = assign_to_exemplars(S, exemplars)
    order = np.argsort(c, kind="stable")
    ptr = np.searchsorted(c[order], np.arange(exemplars.shape[0] + 1)).astype(np.int64)
    exemplars = refine_exemplars(S, ptr, order.astype(np.int64))
    c = assign_to_exemplars(S, exemplars)
    labels = exemplars[c]
    centers = np.unique(labels)
    return centers.astype(np.int64), np.searchsorted(centers, labels).astype(np.int64)


def exact_median(S: np.ndarray) -> float:
    """``float(np.median(S))`` without sorting a copy of the whole matrix.

    A sorted sample of 20,000 entries brackets the middle order statistics; one
    parallel pass counts the entries below and inside the bracket, and only those inside
    (a few percent) are gathered and partitioned. The middle values are the same numbers
    numpy's partition finds, averaged as numpy does, so the result is identical; a bracket
    that misses them (unlucky sample) falls back to ``np.median``.
    """
    import numba

    from clusterlab.kernels.affinity import count_in_range, gather_in_range

    values = S.reshape(-1)
    size = values.shape[0]
    if size < 200_000 or not S.flags.c_contiguous:
        return float(np.median(S))
    picks = np.random.default_rng(0).integers(0, size, _MEDIAN_SAMPLE)  # fixed: no state used
    sample = np.sort(values[picks])
    m = sample.shape[0]
    k_lo, k_hi = (size - 1) // 2, size // 2  # the middle order statistics (equal if odd)
    margin = 4 * int(math.sqrt(m)) + 8  # about 8 standard deviations of the sample rank
    lo = sample[max(0, (k_lo * m) // size - margin)]
    hi = sample[min(m - 1, (k_hi * m) // size + margin)]
    below, within = count_in_range(values, lo, hi, numba.get_num_threads())
    if not below <= k_lo <= k_hi < below + within:
        return float(np.median(S))
    middle = gather_in_range(values, lo, hi, within)
    picked = np.partition(middle, [k_lo - below, k_hi - below])
    return float(
        np.mean(picked[[k_lo - below, k_hi - below]]) if k_lo != k_hi else picked[k_lo - below]
    )


def _most_evident(R: np.ndarray, A: np.ndarray) -> np.ndarray:
    """A single exemplar when no iteration had any: the point with the largest
    ``R[k, k] + A[k, k]``."""
    evidence = np.diagonal(R) + np.diagonal(A)
    out = np.zeros(R.shape[0], dtype=bool)
    out[int(np.argmax(evidence))] = True
    return out


def _similarities(est: Any, X: np.ndarray) -> np.ndarray:
    """Negative squared euclidean distances as scikit-learn computes them, or the precomputed
    matrix (in place only with ``copy=False`` on a writeable C-ordered float array)."""
    if est.affinity == "precomputed":
        in_place = (not est.copy) and X.flags.c_contiguous and X.flags.writeable
        return X if in_place else np.array(X, order="C", copy=True)
    from sklearn.metrics import euclidean_distances

    S = euclidean_distances(X, squared=True)
    np.negative(S, out=S)
    return S


def make_random_state(seed: Any) -> Any:
    """A RandomState as scikit-learn makes one (a numpy Generator is kept)."""
    if isinstance(seed, np.random.Generator):
        return seed
    from sklearn.utils import check_random_state

    return check_random_state(seed)


def _add_noise(S: np.ndarray, rs: Any) -> np.ndarray:
    """``S += (eps * S + tiny * 100) * z`` with ``z`` standard normal, drawn row by row from
    ``rs`` (the same stream and the same rounding as scikit-learn's one n x n draw, without the
    n x n temporary); returns the diagonal's draws."""
    n = S.shape[0]
    eps = np.finfo(S.dtype).eps
    tiny100 = np.finfo(S.dtype).tiny * 100
    diag = np.empty(n, dtype=np.float64)
    for i in range(n):
        z = rs.standard_normal(n)
        diag[i] = z[i]
        row = S[i]
        row += (eps * row + tiny100) * z
    return diag
