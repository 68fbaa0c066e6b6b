"""The criteria of :func:`~clusterlab.selection.choose_k` and the votes they cast.

Each criterion names the k it prefers (its *vote*):

- ``elbow``: the knee of the inertia curve (Kneedle: the point of the normalised curve farthest
  above the chord from its first to its last point; the curve includes k = 1);
- ``silhouette`` and ``calinski_harabasz``: the k with the highest value;
- ``davies_bouldin``: the k with the lowest value;
- ``gap``: the gap statistic with the first-SE-maximum rule (the default of R's
  ``cluster::clusGap``): find the first local maximum k* of gap(k), then vote for the smallest k
  with ``gap(k) >= gap(k*) - s(k*)``; every such k is in the gap's *band*, the k it cannot tell
  apart within one standard error;
- ``bic`` / ``aic`` (Gaussian mixtures): the lowest value;
- ``eigengap`` (spectral): the k after which the normalised-Laplacian spectrum jumps most.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "CRITERIA",
    "DEFAULT_CRITERIA",
    "argbest",
    "gap_band",
    "gap_statistic",
    "gap_vote",
    "kneedle",
    "silhouette_rows",
    "total_ss",
    "within_ss",
]

logger = logging.getLogger(__name__)

#: Criteria and their display names.
CRITERIA = {
    "elbow": "elbow",
    "silhouette": "silhouette",
    "calinski_harabasz": "Calinski-Harabasz",
    "davies_bouldin": "Davies-Bouldin",
    "gap": "gap statistic",
    "bic": "BIC",
    "aic": "AIC",
    "eigengap": "eigengap",
}
DEFAULT_CRITERIA = ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "gap")
# Above this many points the silhouette is computed on a random sample of this size.
_SILHOUETTE_SAMPLE = 4000
# The gap statistic compares the data with uniform references of this many points.
_GAP_SAMPLE = 1000


def safe(fn: Callable[..., float], *args: Any, **kwargs: Any) -> float:
    """An index value, or NaN when the labeling is degenerate for it (e.g. one cluster)."""
    try:
        return float(fn(*args, **kwargs))
    except ValueError as exc:
        logger.debug("criterion %s undefined: %s", getattr(fn, "__name__", fn), exc)
        return math.nan


def within_ss(X: np.ndarray, labels: np.ndarray) -> float:
    from clusterlab.metrics import inertia

    return safe(inertia, X, labels)


def kneedle(ks: Sequence[int], values: Sequence[float]) -> tuple[int | None, np.ndarray]:
    """Knee of a decreasing curve and each point's height above the normalised chord."""
    x = np.asarray(ks, dtype=float)
    y = np.asarray(values, dtype=float)
    if x.size < 3 or not np.all(np.isfinite(y)) or y[0] == y[-1]:
        return None, np.full(x.size, np.nan)
    xn = (x - x[0]) / (x[-1] - x[0])
    yn = (y - y.min()) / (y.max() - y.min())
    # For a decreasing convex curve, 1 - yn rises steeply then flattens: its largest lead over
    # the diagonal is the knee.
    height = (1.0 - yn) - xn
    return int(x[int(np.argmax(height))]), height


def gap_statistic(
    X: np.ndarray,
    labels: dict[int, np.ndarray],
    gap_ks: Sequence[int],
    *,
    refit: Callable[[np.ndarray, Sequence[int], int], dict[int, np.ndarray]],
    seed: int,
    n_refs: int,
) -> tuple[dict[int, float], dict[int, float], int]:
    """Gap(k) = E*[log W_k] - log W_k and its standard error s_k = sd * sqrt(1 + 1/B).

    Computed on a random sample of at most ``_GAP_SAMPLE`` rows: W_k of the data is the
    within-cluster sum of squares of the sample under the labels already fitted on all points;
    the references are uniform over the bounding box of the sample in its principal axes
    (Tibshirani, Walther and Hastie, 2001, method b), clustered by the same model:
    ``refit(reference, ks, seed)`` gives its labels for every k.
    """
    rng = np.random.RandomState(seed)
    rows = np.arange(X.shape[0])
    if X.shape[0] > _GAP_SAMPLE:
        rows = np.sort(rng.choice(X.shape[0], _GAP_SAMPLE, replace=False))
    sample = np.asarray(X[rows], dtype=np.float64)
    centered = sample - sample.mean(axis=0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    rotated = centered @ vt.T
    lo, hi = rotated.min(axis=0), rotated.max(axis=0)
    log_w = {k: math.log(max(within_ss(sample, labels[k][rows]), 1e-300)) for k in gap_ks}
    ref_log_w: dict[int, list[float]] = {k: [] for k in gap_ks}
    for _ in range(n_refs):
        ref = rng.uniform(lo, hi, size=rotated.shape)
        ref_labels = refit(ref, gap_ks, int(rng.randint(2**31 - 1)))
        for k in gap_ks:
            ref_log_w[k].append(math.log(max(within_ss(ref, ref_labels[k]), 1e-300)))
    gap = {k: float(np.mean(ref_log_w[k]) - log_w[k]) for k in gap_ks}
    se = {k: float(np.std(ref_log_w[k]) * math.sqrt(1.0 + 1.0 / n_refs)) for k in gap_ks}
    return gap, se, sample.shape[0]


def gap_band(ks: Sequence[int], gap: dict[int, float], se: dict[int, float]) -> list[int]:
    """The k of ``ks`` within one standard error of the gap's first local maximum.

    The first local maximum is the first k with ``gap(k) >= gap(k + 1)`` (``k + 1`` may lie just
    past the range: choose_k fits it for this). An empty list (the gap abstains) when the gap is
    undefined or keeps rising through the range: data with no cluster structure at these k
    (skewed or continuous, as customer data often are) make the gap grow with k, and its
    largest k would be a guess.
    """
    ordered = [k for k in sorted(ks) if np.isfinite(gap.get(k, math.nan))]
    peak = None
    for k in ordered:
        if k + 1 in gap and np.isfinite(gap[k + 1]) and gap[k] >= gap[k + 1]:
            peak = k
            break
    if peak is None:
        return []
    floor = gap[peak] - se[peak]
    return [k for k in ordered if gap[k] >= floor]


def gap_vote(ks: Sequence[int], gap: dict[int, float], se: dict[int, float]) -> int | None:
    """The first-SE-maximum choice: the smallest k of the gap's band."""
    band = gap_band(ks, gap, se)
    return band[0] if band else None


def total_ss(X: np.ndarray) -> float:
    X64 = X.astype(np.float64, copy=False)
    centered = X64 - X64.mean(axis=0)
    return float(np.einsum("ij,ij->", centered, centered))


def silhouette_rows(n: int, sample_size: Any, seed: int, notes: list[str]) -> np.ndarray | None:
    if sample_size == "auto":
        size = _SILHOUETTE_SAMPLE if n > _SILHOUETTE_SAMPLE else None
    elif sample_size is None:
        size = None
    elif isinstance(sample_size, numbers.Integral) and not isinstance(sample_size, bool):
        if sample_size < 2:
            raise ValueError(f"sample_size must be 'auto', None or an int >= 2; got {sample_size}")
        size = int(sample_size) if sample_size < n else None
    else:
        raise ValueError(f"sample_size must be 'auto', None or an int >= 2; got {sample_size!r}")
    if size is None:
        return None
    notes.append(f"silhouette on a random sample of {size:,} of {n:,} points")
    return np.sort(np.random.RandomState(seed).choice(n, size, replace=False))


def argbest(values: dict[int, float], greater: bool) -> int | None:
    finite = {k: v for k, v in values.items() if np.isfinite(v)}
    if not finite:
        return None
    return (max if greater else min)(
        finite, key=lambda k: (finite[k], -k) if greater else (finite[k], k)
    )
