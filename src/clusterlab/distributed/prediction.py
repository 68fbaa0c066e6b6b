"""Labelling, transforming and scoring Dask collections with a fitted model, lazily per block.

Every function here returns a Dask collection and computes nothing: a Dask array gives a Dask
array (one row chunk per input chunk), a Dask DataFrame gives a Dask Series or DataFrame with
the partitions' index. The fitted model travels to the workers once, as one graph key. Empty
blocks give empty results of the right dtype and width (dask-ml's ``ParallelPostFit`` fails
on them, dask-ml #911), one-row blocks one row.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from clusterlab.distributed._tasks import as_block, kernel_threads

__all__ = ["anomaly_scores", "label_block", "predict", "predict_proba", "transform"]


def label_block(part: Any, centers: np.ndarray, dtype: Any) -> np.ndarray:
    """Task: index of the nearest center of each row of a block (int64), the KMeans rule."""
    from clusterlab.kernels.lloyd import assign_labels

    X = as_block(part, dtype)
    labels = np.full(X.shape[0], -1, dtype=np.int64)
    if X.shape[0]:
        with kernel_threads(None):
            assign_labels(X, centers, labels, np.empty(X.shape[0], dtype=X.dtype))
    return labels


class _Labeller:
    """``predict`` of a model, or its fitted out-of-sample rule, on one in-memory block."""

    def __init__(self, model: Any, rule: Any) -> None:
        self.model = model
        self.rule = rule

    def __call__(self, block: Any) -> np.ndarray:
        if self.rule is not None:
            array = block.to_numpy(dtype=np.float64) if hasattr(block, "to_numpy") else block
            return np.asarray(self.rule.predict(self.model, array), dtype=np.int64)
        return np.asarray(self.model.predict(block), dtype=np.int64)


class _Method:
    """A model method (``transform``, ...) on one in-memory block."""

    def __init__(self, model: Any, name: str) -> None:
        self.model = model
        self.name = name

    def __call__(self, block: Any) -> np.ndarray:
        return np.asarray(getattr(self.model, self.name)(block))


def _apply(block: Any, func: Any, dtype: Any, width: int | None) -> Any:
    """Task: ``func`` on a block, or an empty result of the right shape when it has no rows."""
    if block.shape[0] == 0:
        return np.empty((0,) if width is None else (0, width), dtype=dtype)
    out = func(block)
    return out.astype(dtype, copy=False)


def _apply_frame(part: Any, func: Any, dtype: Any, columns: Any) -> Any:
    """Task: :func:`_apply` on a pandas partition, keeping its index."""
    import pandas as pd

    values = _apply(part, func, dtype, None if columns is None else len(columns))
    if columns is None:
        return pd.Series(values, index=part.index, dtype=dtype)
    return pd.DataFrame(values, index=part.index, columns=columns)


def _check_features(model: Any, X: Any) -> None:
    """The collection's columns against what the model was fitted on (nothing computed)."""
    n_features = getattr(model, "n_features_in_", None)
    width = len(X.columns) if hasattr(X, "columns") else X.shape[1]
    if n_features is not None and width != n_features:
        raise ValueError(
            f"X has {width} features, but {type(model).__name__} was fitted with {n_features}"
        )
    names = getattr(model, "feature_names_in_", None)
    if names is not None and hasattr(X, "columns") and list(map(str, X.columns)) != list(names):
        raise ValueError(
            f"X's columns {list(X.columns)} differ from the feature names "
            f"{list(names)} {type(model).__name__} was fitted with"
        )


def _map_rows(X: Any, func: Any, dtype: Any, columns: Any = None) -> Any:
    """``func`` over the row blocks of ``X``, lazily: a Dask array, Series or DataFrame."""
    from dask import delayed

    from clusterlab.distributed._dispatch import is_dask_collection

    if not is_dask_collection(X):
        raise TypeError(f"X must be a Dask array or DataFrame; got {type(X).__name__}")
    func = delayed(func, pure=True)  # one key: the model is sent once, not once per block
    if hasattr(X, "columns") and hasattr(X, "map_partitions"):
        import pandas as pd

        meta = (
            pd.Series(np.empty(0, dtype=dtype))
            if columns is None
            else pd.DataFrame(np.empty((0, len(columns)), dtype=dtype), columns=columns)
        )
        return X.map_partitions(_apply_frame, func, dtype, columns, meta=meta)
    if getattr(X, "ndim", None) != 2:
        raise ValueError(f"X must be 2-D; got a Dask array of shape {X.shape}")
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    if columns is None:
        meta = np.empty(0, dtype=dtype)
        return X.map_blocks(_apply, func, dtype, None, dtype=dtype, drop_axis=1, meta=meta)
    width = len(columns)
    return X.map_blocks(
        _apply,
        func,
        dtype,
        width,
        dtype=dtype,
        chunks=(X.chunks[0], (width,)),
        meta=np.empty((0, width), dtype=dtype),
    )


def predict(model: Any, X: Any, *, rule: Any = None, train: Any = None) -> Any:
    """Labels (int64, -1 = noise) of every row of a Dask collection, computed lazily per block.

    Parameters
    ----------
    model : fitted estimator
        Any clustering model. With a ``predict`` method it labels the rows itself; without one
        (DBSCAN-like and hierarchical scikit-learn models) an out-of-sample rule does.
    X : dask.array.Array or dask.dataframe.DataFrame
        The rows, with the model's features.
    rule : fitted out-of-sample rule, optional
        As returned by :func:`clusterlab.models.out_of_sample_rule` and fitted; it is used
        instead of ``predict``. The workflow passes the rule it fitted.
    train : array-like, optional
        For a model without ``predict`` and no ``rule``: the rows the model was fitted on (for
        example the sample from :func:`fit_sample` with ``return_sample=True``); the model's
        out-of-sample rule is fitted on them here, on the client, and shipped to the workers.

    Returns
    -------
    dask.array.Array or dask.dataframe.Series
        One label per row, with the partitions' index for a DataFrame.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from clusterlab import KMeans
    >>> from clusterlab.distributed import predict
    >>> model = KMeans(2, random_state=0).fit(np.array([[0.0], [1.0], [10.0], [11.0]]))
    >>> labels = predict(model, da.from_array(np.array([[0.5], [10.5]]), chunks=1))
    >>> labels.compute().tolist() == model.predict([[0.5], [10.5]]).tolist()
    True
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    _check_features(model, X)
    if rule is None and not hasattr(model, "predict"):
        if train is None:
            raise ValueError(
                f"{type(model).__name__} has no predict: pass train= (the rows it was fitted "
                "on, e.g. fit_sample(..., return_sample=True)) or a fitted rule= (see "
                "clusterlab.models.out_of_sample_rule) to label new rows"
            )
        from clusterlab.models import out_of_sample_rule

        train_array = train.to_numpy(dtype=np.float64) if hasattr(train, "to_numpy") else train
        rule = out_of_sample_rule(model).fit(model, np.asarray(train_array), model.labels_)
    return _map_rows(X, _Labeller(model, rule), np.int64)


def _probe(model: Any, method: str, X: Any) -> np.ndarray:
    """``method`` on one row of zeros shaped like ``X``: its output's dtype and width."""
    if hasattr(X, "columns"):
        import pandas as pd

        row = pd.DataFrame(np.zeros((1, len(X.columns))), columns=X.columns)
        row = row.astype(dict(X.dtypes))
    else:
        row = np.zeros((1, X.shape[1]), dtype=X.dtype)
    return np.asarray(getattr(model, method)(row))


def transform(model: Any, X: Any) -> Any:
    """``model.transform`` of every row of a Dask collection, lazily per block.

    For k-means models: the distance of each row to each center. The output dtype and width are
    read from the model on one row of zeros (computed here, on the client).

    Returns
    -------
    dask.array.Array or dask.dataframe.DataFrame
        Shape (n_samples, n_outputs); for a DataFrame, columns from
        ``model.get_feature_names_out()`` when the model has it.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    if not hasattr(model, "transform"):
        raise TypeError(f"{type(model).__name__} has no transform")
    _check_features(model, X)
    out = _probe(model, "transform", X)
    columns = list(range(out.shape[1]))
    if hasattr(X, "columns") and hasattr(model, "get_feature_names_out"):
        columns = [str(c) for c in model.get_feature_names_out()]
    return _map_rows(X, _Method(model, "transform"), out.dtype, columns)


def predict_proba(model: Any, X: Any) -> Any:
    """``model.predict_proba`` of every row of a Dask collection, lazily per block.

    For mixtures: the posterior probability of each component.

    Returns
    -------
    dask.array.Array or dask.dataframe.DataFrame
        float64, shape (n_samples, n_components); for a DataFrame, one column per component
        (named 0 .. k-1) with the partitions' index.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from clusterlab import GaussianMixture
    >>> from clusterlab.distributed import predict_proba
    >>> X = np.array([[0.0], [0.2], [10.0], [10.2]])
    >>> model = GaussianMixture(2, random_state=0).fit(X)
    >>> proba = predict_proba(model, da.from_array(X, chunks=2))
    >>> np.allclose(proba.compute(), model.predict_proba(X))
    True
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    if not hasattr(model, "predict_proba"):
        raise TypeError(f"{type(model).__name__} has no predict_proba")
    _check_features(model, X)
    out = _probe(model, "predict_proba", X)
    return _map_rows(X, _Method(model, "predict_proba"), out.dtype, list(range(out.shape[1])))


class _AnomalyScorer:
    """Raw anomaly scores on a block, mapped to [0, 1] with a sample's robust location/scale."""

    def __init__(self, model: Any, reference: np.ndarray, median: float, scale: float) -> None:
        self.model = model
        self.reference = reference
        self.median = median
        self.scale = scale

    def __call__(self, block: Any) -> np.ndarray:
        from clusterlab.insight.anomalies import ROBUST_Z, raw_anomaly_scores

        raw = raw_anomaly_scores(self.model, block, reference=self.reference)
        if self.scale == 0:  # as in memory: no spread, no anomaly
            return np.zeros(raw.shape[0])
        z = (np.nan_to_num(raw, nan=-np.inf) - self.median) / self.scale
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-(z - ROBUST_Z)))


def anomaly_scores(
    model: Any, X: Any, *, sample_size: int = 20_000, random_state: Any = None
) -> Any:
    """Anomaly scores in [0, 1] of every row of a Dask collection, lazily per block.

    The distributed form of :func:`clusterlab.insight.anomaly_scores` for the models that score
    new rows: centroid models (``cluster_centers_``) and mixtures (``score_samples``). What the
    in-memory function measures on all rows -- each cluster's spread (median distance to its
    centre) and the median and MAD of the raw scores that set the 0-1 scale -- is estimated
    here on a uniform sample of ``sample_size`` rows pulled to the client (one pass), and the
    scores are then computed block by block.

    Returns
    -------
    dask.array.Array or dask.dataframe.Series
        float64 scores; above 0.5 a row is more than three robust standard deviations out.
    """
    from clusterlab.distributed.sample import uniform_sample
    from clusterlab.insight.anomalies import _MAD_SCALE, raw_anomaly_scores

    centroid = hasattr(model, "cluster_centers_")
    mixture = hasattr(model, "score_samples") and hasattr(model, "means_")
    if not (centroid or mixture):
        raise ValueError(
            f"anomaly scores of new rows need a model with cluster_centers_ or a mixture's "
            f"score_samples; {type(model).__name__} scores only the rows it was fitted on "
            "(use clusterlab.insight.anomaly_scores on a sample)"
        )
    _check_features(model, X)
    sample, _ = uniform_sample(X, sample_size, random_state=random_state)
    reference = sample.to_numpy(np.float64) if hasattr(sample, "to_numpy") else sample
    reference = np.asarray(reference, dtype=np.float64)
    raw = raw_anomaly_scores(model, reference)
    raw = raw[np.isfinite(raw)]
    median = float(np.median(raw)) if raw.size else 0.0
    scale = _MAD_SCALE * float(np.median(np.abs(raw - median))) if raw.size else 0.0
    if scale == 0 and raw.size:  # the in-memory fallback: the mean absolute deviation
        scale = math.sqrt(math.pi / 2) * float(np.mean(np.abs(raw - median)))
    return _map_rows(X, _AnomalyScorer(model, reference, median, scale), np.float64)
