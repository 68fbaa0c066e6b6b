"""stability: how often does each cluster reappear when the model is refitted on subsamples?

The model is fitted on all points (the reference clustering) and on random subsamples; per
cluster, the Jaccard similarity with its best match in each subsample's fit says whether it
reappears (Hennig, 2007); overall agreement is the mean adjusted Rand index between pairs of
subsample fits.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from clusterlab._base import NOISE
from clusterlab.selection.paths import seeds

__all__ = ["REAPPEAR_JACCARD", "StabilityResult", "stability"]

# Jaccard similarity at which a cluster counts as having reappeared (Hennig, 2007).
REAPPEAR_JACCARD = 0.75


@dataclass
class StabilityResult:
    """What :func:`stability` found.

    Attributes
    ----------
    labels_ : ndarray of int64
        The reference clustering (the model fitted on all points); clusters are named by it.
    mean_ari : float
        Mean adjusted Rand index over all pairs of resamples, each pair scored on the points
        both resamples contain.
    pairwise_ari : ndarray of float64, shape (n_pairs,)
        Those ARIs.
    jaccard : ndarray of float64, shape (n_resamples, n_clusters)
        For each resample and reference cluster, the Jaccard similarity of the cluster (restricted
        to the resample) with its best-matching cluster in the resample's fit.
    threshold : float
        Jaccard similarity at which a cluster counts as having reappeared (0.75).
    """

    labels_: np.ndarray
    mean_ari: float
    pairwise_ari: np.ndarray
    jaccard: np.ndarray
    threshold: float = REAPPEAR_JACCARD

    @property
    def cluster_stability(self) -> np.ndarray:
        """Mean Jaccard similarity of each reference cluster over the resamples."""
        return np.nanmean(self.jaccard, axis=0)

    @property
    def reappearance(self) -> np.ndarray:
        """Share of resamples in which each cluster reappears (Jaccard >= threshold)."""
        valid = ~np.isnan(self.jaccard)
        hits = np.where(valid, self.jaccard >= self.threshold, False).sum(axis=0)
        return hits / np.maximum(valid.sum(axis=0), 1)

    def to_pandas(self) -> Any:
        """One row per reference cluster: size, mean Jaccard, reappearance rate, verdict."""
        import pandas as pd

        sizes = np.bincount(self.labels_[self.labels_ != NOISE], minlength=self.jaccard.shape[1])
        frame = pd.DataFrame(
            {
                "size": sizes,
                "mean_jaccard": self.cluster_stability,
                "reappearance": self.reappearance,
                "verdict": [_verdict(j) for j in self.cluster_stability],
            }
        )
        frame.index = pd.Index(range(self.jaccard.shape[1]), name="cluster")
        return frame

    def summary(self) -> str:
        """The result in words, one line per cluster."""
        n_resamples = self.jaccard.shape[0]
        lines = [
            f"Across {n_resamples} subsamples the clusterings agree with a mean adjusted Rand "
            f'index of {self.mean_ari:.2f}. A cluster "reappears" in a subsample when its '
            f"best-matching cluster there has Jaccard similarity >= {self.threshold:.2f}."
        ]
        for c, (rate, jac) in enumerate(
            zip(self.reappearance, self.cluster_stability, strict=True)
        ):
            lines.append(
                f"cluster {c} reappears in {rate:.0%} of resamples "
                f"(mean Jaccard {jac:.2f}: {_verdict(jac)})"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"StabilityResult(mean_ari={self.mean_ari:.3f}, "
            f"n_clusters={self.jaccard.shape[1]}, n_resamples={self.jaccard.shape[0]})"
        )


def _verdict(jaccard: float) -> str:
    """Hennig's (2007) reading of the mean Jaccard similarity."""
    if not np.isfinite(jaccard):
        return "not assessed"
    if jaccard >= 0.85:
        return "highly stable"
    if jaccard >= REAPPEAR_JACCARD:
        return "stable"
    if jaccard > 0.5:
        return "pattern, not a stable cluster"
    return "dissolves"


def _fit_labels(model: Any, X: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.base import clone

    est = clone(model)
    params = est.get_params()
    if "random_state" in params:
        est.set_params(random_state=seed)
    labels = est.fit_predict(X) if hasattr(est, "fit_predict") else est.fit(X).labels_
    return np.asarray(labels, dtype=np.int64)


def _best_jaccard(reference: np.ndarray, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """For each reference cluster, the largest Jaccard similarity with a cluster of ``labels``
    (both on the same points; noise is no cluster)."""
    out = np.full(n_clusters, np.nan)
    valid_pred = labels != NOISE
    pred_codes, pred_inverse = np.unique(labels[valid_pred], return_inverse=True)
    pred_full = np.full(labels.shape[0], -1, dtype=np.int64)
    pred_full[valid_pred] = pred_inverse
    pred_sizes = np.bincount(pred_inverse, minlength=pred_codes.size)
    for c in range(n_clusters):
        members = reference == c
        size = int(members.sum())
        if size == 0:
            continue
        hits = pred_full[members]
        hits = hits[hits >= 0]
        if hits.size == 0 or pred_codes.size == 0:
            out[c] = 0.0
            continue
        inter = np.bincount(hits, minlength=pred_codes.size)
        union = size + pred_sizes - inter
        out[c] = float(np.max(inter / union))
    return out


def stability(
    X: Any,
    model: Any = "kmeans",
    n_resamples: int = 20,
    fraction: float = 0.8,
    random_state: Any = None,
    *,
    n_clusters: int | None = None,
) -> StabilityResult:
    """How stable is a clustering under subsampling?

    The model is fitted on all points (the reference clustering, whose cluster numbers the
    result uses) and on ``n_resamples`` random subsamples of ``fraction`` of the points, drawn
    without replacement. Overall agreement is the mean adjusted Rand index between every pair of
    subsample fits on the points both contain. Per cluster, in each subsample the reference
    cluster (restricted to the subsample) is matched to the subsample cluster with the largest
    Jaccard similarity (Hennig, 2007); the cluster *reappears* when that similarity is at least
    0.75. Noise points (-1) are in no cluster.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    model : estimator or str, default='kmeans'
        An unfitted estimator (cloned for every fit; its ``random_state`` is reseeded per fit),
        or a model id that takes k ('kmeans', 'gmm', ...) with ``n_clusters``.
    n_resamples : int, default=20
    fraction : float in (0, 1), default=0.8
    random_state : None, int or RandomState
    n_clusters : int, optional
        Number of clusters (needed with a model id).

    Returns
    -------
    StabilityResult
        ``mean_ari``, ``jaccard``, ``reappearance``, ``summary()`` and ``to_pandas()``.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from clusterlab.selection import stability
    >>> X, _ = make_blobs(n_samples=300, centers=3, random_state=0)
    >>> result = stability(X, "kmeans", n_resamples=5, random_state=0, n_clusters=3)
    >>> bool(result.mean_ari > 0.9)
    True
    """
    from clusterlab.selection.choose_k import _check_X

    X = _check_X(X)
    n = X.shape[0]
    if (
        isinstance(n_resamples, bool)
        or not isinstance(n_resamples, numbers.Integral)
        or n_resamples < 2
    ):
        raise ValueError(f"n_resamples must be an int >= 2; got {n_resamples!r}")
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number in (0, 1); got {fraction!r}")
    estimator = _stability_model(model, n_clusters)
    m = round(fraction * n)
    if m < 2:
        raise ValueError(f"fraction * n_samples must leave at least 2 points; got {m}")
    drawn = seeds(random_state, 2 * n_resamples + 1)
    reference = _fit_labels(estimator, X, drawn[0])
    codes = np.full(n, NOISE, dtype=np.int64)
    clustered = reference != NOISE
    codes[clustered] = np.unique(reference[clustered], return_inverse=True)[1]
    k = int(codes.max()) + 1 if clustered.any() else 0
    subsets, fits = [], []
    jaccard = np.full((n_resamples, k), np.nan)
    for b in range(n_resamples):
        rows = np.sort(np.random.RandomState(drawn[1 + 2 * b]).choice(n, m, replace=False))
        labels = _fit_labels(estimator, X[rows], drawn[2 + 2 * b])
        subsets.append(rows)
        fits.append(labels)
        jaccard[b] = _best_jaccard(codes[rows], labels, k)
    pairwise = _pairwise_ari(subsets, fits)
    mean_ari = float(pairwise.mean()) if pairwise.size else math.nan
    return StabilityResult(codes, mean_ari, pairwise, jaccard)


def _pairwise_ari(subsets: list[np.ndarray], fits: list[np.ndarray]) -> np.ndarray:
    """The ARI of every pair of subsample fits, on the points both subsamples contain."""
    from clusterlab.metrics import adjusted_rand_score

    aris = []
    for a in range(len(fits)):
        for b in range(a + 1, len(fits)):
            common, ia, ib = np.intersect1d(subsets[a], subsets[b], return_indices=True)
            if common.size >= 2:
                aris.append(adjusted_rand_score(fits[a][ia], fits[b][ib]))
    return np.array(aris, dtype=np.float64)


def _stability_model(model: Any, n_clusters: int | None) -> Any:
    """The unfitted estimator to refit: a model id that takes k with ``n_clusters``, or an
    estimator (with ``n_clusters`` set when given)."""
    from sklearn.base import clone

    from clusterlab.models import get_entry, k_param_of

    if isinstance(model, str):
        try:
            entry = get_entry(model)
        except ValueError:
            entry = None
        if entry is None or not entry.needs_k:
            raise ValueError(
                f"model must be 'kmeans' or an estimator (or another model id that takes k); "
                f"got {model!r}"
            )
        if (
            isinstance(n_clusters, bool)
            or not isinstance(n_clusters, numbers.Integral)
            or n_clusters < 1
        ):
            raise ValueError(
                f"n_clusters must be an int >= 1 when model={model!r}; got {n_clusters!r}"
            )
        return entry.factory(**{entry.key_param: int(n_clusters)})
    if not hasattr(model, "get_params") or not hasattr(model, "fit"):
        raise TypeError(f"model must be 'kmeans' or an estimator; got {type(model).__name__}")
    if n_clusters is None:
        return model
    key = k_param_of(model)
    if key is None:
        raise TypeError(
            f"model must have an n_clusters (or n_components) parameter to set n_clusters; "
            f"got {type(model).__name__}"
        )
    return clone(model).set_params(**{key: n_clusters})
