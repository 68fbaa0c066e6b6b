"""Anomaly scores from a fitted clustering model, on one [0, 1] scale with one threshold rule.

Each kind of model already says how unusual a row is in its own terms; this module reads that
off and puts it on a common scale:

============================  ==================================================================
model                          raw score (higher = more anomalous)
============================  ==================================================================
GLOSH (``outlier_scores_``)    the model's GLOSH outlier score (HDBSCAN)
mixture (``score_samples``)    negative log-likelihood of the row
centres (``cluster_centers_``)  distance to the nearest centre / median such distance in that
                               cluster (the cluster's spread), so a wide cluster is not penalised
OPTICS (``core_distances_``)   core distance: distance to the ``min_samples``-th neighbour
DBSCAN / HDBSCAN without       the same k-distance, computed with the model's ``min_samples``
GLOSH (``min_samples``)
other models with ``labels_``  as for centres, with each cluster's mean as its centre
============================  ==================================================================

The raw scores are then standardised robustly, ``z = (raw - median) / (1.4826 * MAD)``, and
mapped through a logistic curve centred at ``z = 3``:
``score = 1 / (1 + exp(-(z - 3)))``. The map is monotone, so rankings are those of the model.

Threshold rule: a row is an anomaly when its score is above :data:`THRESHOLD` = 0.5, i.e. its raw
score lies more than three robust standard deviations above the median raw score. With
``fraction=f`` the ``ceil(f * n)`` highest-scoring rows are flagged instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from clusterlab._base import NOISE
from clusterlab.insight._common import as_frame, as_labels, segment_name

__all__ = [
    "ROBUST_Z",
    "THRESHOLD",
    "anomaly_scores",
    "anomaly_threshold",
    "calibration",
    "flag_anomalies",
    "logistic_scores",
    "top_anomalies",
]

#: Robust z-score of the raw score at which a row counts as an anomaly.
ROBUST_Z = 3.0
#: Score above which a row is an anomaly (the logistic map sends ``ROBUST_Z`` to 0.5).
THRESHOLD = 0.5
#: Neighbours used for the k-distance when a density model has no ``min_samples``.
DEFAULT_MIN_SAMPLES = 5
#: 1 / Phi^-1(3/4): makes the MAD a consistent estimate of a normal standard deviation.
_MAD_SCALE = 1.4826


def anomaly_scores(model: Any, X: Any, *, reference: Any = None) -> np.ndarray:
    """Score every row of ``X`` for how anomalous it is under a fitted clustering model.

    Parameters
    ----------
    model : fitted clustering estimator
        A centroid model (``cluster_centers_``: k-means, k-medoids, mean shift, ...), a mixture
        (``score_samples``), HDBSCAN (``outlier_scores_`` for GLOSH, else ``min_samples``),
        OPTICS (``core_distances_``), DBSCAN (``min_samples``), or any model with ``labels_``.
    X : array-like of shape (n_samples, n_features)
        The prepared feature matrix the model was fitted on (GLOSH, OPTICS core distances and
        label-based centres are read from the fit and need the same rows), or new rows for
        centroid and mixture models.
    reference : array-like of shape (n_reference, n_features), optional
        For centroid models scoring new rows: the rows the model was fitted on, from which each
        cluster's spread is measured. By default the spread is measured on ``X`` itself, which
        is right when ``X`` is the fitted data (or a large sample like it).

    Returns
    -------
    numpy.ndarray of shape (n_samples,)
        Scores in [0, 1]; above :data:`THRESHOLD` (0.5) a row is an anomaly. See the module
        notes for each model's raw score and the normalisation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from clusterlab.insight import anomaly_scores
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 2)), [[8.0, 8.0]]])
    >>> scores = anomaly_scores(KMeans(2, n_init=3, random_state=0).fit(X), X)
    >>> int(np.argmax(scores)), bool(scores[-1] > 0.5)
    (200, True)
    """
    array = _as_matrix(X)
    return _normalise(raw_anomaly_scores(model, array, reference=reference))


def raw_anomaly_scores(model: Any, X: Any, *, reference: Any = None) -> np.ndarray:
    """The model's own anomaly measure per row, before normalisation (higher = more anomalous).

    Same parameters as :func:`anomaly_scores`.
    """
    array = _as_matrix(X)
    ref = array if reference is None else _as_matrix(reference)
    n = array.shape[0]
    outlier = getattr(model, "outlier_scores_", None)
    if outlier is not None and len(outlier) == n:
        return np.asarray(outlier, dtype=np.float64)
    if hasattr(model, "score_samples") and (hasattr(model, "means_") or hasattr(model, "weights_")):
        return -np.asarray(model.score_samples(array), dtype=np.float64)
    centres = getattr(model, "cluster_centers_", None)
    if centres is not None:
        return _centre_ratio(array, np.asarray(centres, dtype=np.float64), ref)
    core = getattr(model, "core_distances_", None)
    if core is not None and len(core) == n:
        return np.asarray(core, dtype=np.float64)
    min_samples = _min_samples(model)
    if min_samples is not None:
        return _k_distance(array, min_samples)
    labels = getattr(model, "labels_", None)
    if labels is not None and len(labels) == n:
        return _centre_ratio(array, _label_means(array, as_labels(labels, n)), array)
    if labels is None and not hasattr(model, "outlier_scores_"):
        raise ValueError(
            f"{type(model).__name__} is not fitted (it has no labels_ or cluster_centers_); "
            "fit it before scoring anomalies"
        )
    raise ValueError(
        f"cannot score anomalies with {type(model).__name__} on {n} rows: supported are models "
        "with cluster_centers_ (any rows), a mixture's score_samples (any rows), or, on the rows "
        "the model was fitted on, outlier_scores_ (HDBSCAN), core_distances_ (OPTICS), "
        "min_samples (DBSCAN) or labels_"
    )


def _as_matrix(X: Any) -> np.ndarray:
    if isinstance(X, pd.DataFrame):
        array = X.to_numpy(dtype=np.float64)
    else:
        array = np.asarray(X, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-D array; got shape {array.shape}")
    return array


def _min_samples(model: Any) -> int | None:
    if not hasattr(model, "labels_"):
        return None
    if hasattr(model, "min_samples"):
        value = model.min_samples
        if value is None:  # HDBSCAN: min_samples defaults to min_cluster_size
            value = getattr(model, "min_cluster_size", DEFAULT_MIN_SAMPLES)
        return max(1, int(value))
    return None


def _k_distance(X: np.ndarray, k: int) -> np.ndarray:
    """Distance to the k-th nearest row, counting the row itself (the core distance)."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, X.shape[0])
    distances, _ = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)
    return distances[:, -1]


def _label_means(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    clusters = np.unique(labels[labels != NOISE])
    if clusters.size == 0:
        raise ValueError("every row is noise: there is no cluster to measure distances from")
    return np.vstack([X[labels == c].mean(axis=0) for c in clusters])


def _centre_ratio(X: np.ndarray, centres: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Distance to the nearest centre over the median such distance of that cluster's rows.

    The spread (the median) is measured on ``reference``: the fitted rows, or ``X`` itself.
    """
    from sklearn.metrics import pairwise_distances_argmin_min

    for name, array in (("X", X), ("reference", reference)):
        if centres.ndim != 2 or centres.shape[1] != array.shape[1]:
            raise ValueError(
                f"{name} has {array.shape[1]} features but the model's centres have shape "
                f"{centres.shape}"
            )
    spread = centre_spread(reference, centres)
    nearest, distance = pairwise_distances_argmin_min(X, centres)
    return distance / spread[nearest]


def centre_spread(reference: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each centre's spread: the median distance to it of the ``reference`` rows nearest to it
    (the median over all rows for a centre no row is nearest to, or whose median is 0)."""
    from sklearn.metrics import pairwise_distances_argmin_min

    nearest, distance = pairwise_distances_argmin_min(reference, centres)
    positive = distance[distance > 0]
    fallback = float(np.median(positive)) if positive.size else 1.0
    spread = np.full(centres.shape[0], fallback)
    for c in np.unique(nearest):
        median = float(np.median(distance[nearest == c]))
        if median > 0:
            spread[c] = median
    return spread


def _normalise(raw: np.ndarray) -> np.ndarray:
    """Robust z-score, then the logistic map that sends z = ROBUST_Z to 0.5."""
    median, scale = calibration(raw)
    return logistic_scores(_finite(raw), median, scale)


def _finite(raw: np.ndarray) -> np.ndarray:
    """+inf (an unreachable point) as anomalous as anything seen; -inf or NaN the least."""
    raw = np.asarray(raw, dtype=np.float64).copy()
    finite = np.isfinite(raw)
    if not finite.any():
        return np.full_like(raw, np.inf)
    raw[np.isposinf(raw)] = raw[finite].max()
    raw[~np.isfinite(raw)] = raw[finite].min()
    return raw


def calibration(raw: Any) -> tuple[float, float]:
    """The median and robust scale of raw scores (the normalisation's two numbers).

    The scale is ``1.4826 * MAD``; when more than half the scores tie it falls back on the mean
    absolute deviation (times ``sqrt(pi / 2)``), and it is 0 when every score is the same.
    """
    raw = _finite(raw)
    if not np.isfinite(raw).all():
        return math.inf, 0.0
    median = float(np.median(raw))
    scale = _MAD_SCALE * float(np.median(np.abs(raw - median)))
    if scale == 0:  # more than half the rows tie: fall back on the mean absolute deviation
        scale = math.sqrt(math.pi / 2) * float(np.mean(np.abs(raw - median)))
    return median, scale


def logistic_scores(raw: Any, median: float, scale: float) -> np.ndarray:
    """Raw scores on the [0, 1] scale of :func:`anomaly_scores`, given a calibration.

    ``1 / (1 + exp(-(z - 3)))`` with ``z = (raw - median) / scale``; a row's score depends on
    its raw score only, so new rows can be scored one at a time against the fitted data's
    calibration (:class:`clusterlab.insight.AnomalyScorer`).
    """
    raw = np.asarray(raw, dtype=np.float64)
    if not math.isfinite(median):  # nothing finite was seen: everything is anomalous
        return np.ones_like(raw)
    if scale == 0:
        return np.where(raw > median, 1.0, 0.0)
    with np.errstate(over="ignore"):
        z = (raw - median) / scale
        return 1.0 / (1.0 + np.exp(-(z - ROBUST_Z)))


def _check_scores(scores: Any) -> np.ndarray:
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"scores must be a non-empty 1-D array; got shape {array.shape}")
    return array


def _check_fraction(fraction: float | None) -> None:
    if fraction is None:
        return
    if isinstance(fraction, bool) or not isinstance(fraction, int | float):
        raise ValueError(f"fraction must be None or a number in (0, 0.5]; got {fraction!r}")
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must be None or a number in (0, 0.5]; got {fraction!r}")


def anomaly_threshold(scores: Any, fraction: float | None = None) -> float:
    """The score above which rows are anomalies.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Output of :func:`anomaly_scores`.
    fraction : float in (0, 0.5], optional
        Flag this share of rows (the ``ceil(fraction * n)`` highest scores). ``None`` uses the
        fixed rule: :data:`THRESHOLD` (0.5), three robust standard deviations above the median.

    Returns
    -------
    float
        Rows whose score is strictly above this value are anomalies.

    Examples
    --------
    >>> from clusterlab.insight import anomaly_threshold
    >>> anomaly_threshold([0.1, 0.2, 0.9, 0.3], fraction=0.25)
    0.3
    """
    array = _check_scores(scores)
    _check_fraction(fraction)
    if fraction is None:
        return THRESHOLD
    n_flag = math.ceil(fraction * array.size)
    ordered = np.sort(array)[::-1]
    return float(ordered[n_flag]) if n_flag < array.size else float(ordered[-1]) - 1.0


def flag_anomalies(scores: Any, fraction: float | None = None) -> np.ndarray:
    """Boolean mask of the anomalous rows under :func:`anomaly_threshold`'s rule.

    With ``fraction`` exactly ``ceil(fraction * n)`` rows are flagged (ties broken by row order).

    Examples
    --------
    >>> from clusterlab.insight import flag_anomalies
    >>> flag_anomalies([0.1, 0.7, 0.2]).tolist()
    [False, True, False]
    """
    array = _check_scores(scores)
    _check_fraction(fraction)
    if fraction is None:
        return array > THRESHOLD
    n_flag = math.ceil(fraction * array.size)
    mask = np.zeros(array.size, dtype=bool)
    mask[np.argsort(-array, kind="stable")[:n_flag]] = True
    return mask


def top_anomalies(scores: Any, data: Any, n: int = 10, *, labels: Any = None) -> pd.DataFrame:
    """The ``n`` most anomalous rows of ``data``, most anomalous first.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Output of :func:`anomaly_scores`.
    data : pandas.DataFrame or array-like of shape (n_samples, n_features)
        The rows to show (usually the original, unscaled data); its index is kept.
    n : int, default=10
        Rows to return (fewer when ``data`` is shorter).
    labels : array-like of shape (n_samples,), optional
        Segment of each row, shown in a ``segment`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``anomaly_score``, ``is_anomaly`` (score above :data:`THRESHOLD`), ``segment``
        (when labels are given), then the data's columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.insight import top_anomalies
    >>> df = pd.DataFrame({"spend": [1.0, 2.0, 50.0]})
    >>> top_anomalies([0.1, 0.2, 0.9], df, n=1).index.tolist()
    [2]
    """
    array = _check_scores(scores)
    frame = as_frame(data)
    if frame.shape[0] != array.size:
        raise ValueError(f"data has {frame.shape[0]} rows but scores has {array.size} entries")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1; got {n!r}")
    order = np.argsort(-array, kind="stable")[:n]
    table = frame.iloc[order].copy()
    columns = {"anomaly_score": array[order], "is_anomaly": array[order] > THRESHOLD}
    if labels is not None:
        y = as_labels(labels, frame.shape[0])
        columns["segment"] = [segment_name(v) for v in y[order]]
    for position, (name, values) in enumerate(columns.items()):
        table.insert(position, name, values, allow_duplicates=True)
    return table
