"""A fitted numeric preprocessing pipeline as plain numpy, for scoring a few rows at a time.

scikit-learn's ``ColumnTransformer`` costs a few milliseconds per call in bookkeeping (column
selection, output containers, feature-name checks) whatever the number of rows: more than the
arithmetic for the one row a sign-up sends. :func:`compile_pipeline` turns a fitted pipeline made
only of the steps below into one function of the input columns, using the fitted attributes
(the same operations in the same order as scikit-learn's ``transform``):

- ``Pipeline`` and ``ColumnTransformer`` (columns by name, ``drop`` and ``passthrough``, no
  remainder columns);
- ``SimpleImputer`` on NaN without an indicator; ``FunctionTransformer`` of a numpy ufunc;
- ``StandardScaler``, ``MinMaxScaler``, ``MaxAbsScaler``, ``RobustScaler`` on dense input.

Any other step (encoders, custom transformers) and the function is None: the caller keeps the
pipeline. :class:`~clusterlab.serve.model.ServedModel` also keeps the pipeline unless the
function gives exactly its numbers on sample rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["compile_pipeline"]

#: A compiled step: float64 matrix -> float64 matrix (a new array; the input is not modified).
Step = Callable[[np.ndarray], np.ndarray]


def compile_pipeline(pipeline: Any) -> Callable[[pd.DataFrame], np.ndarray] | None:
    """``frame -> pipeline.transform(frame)`` in numpy for a pipeline of known numeric steps.

    The function takes a DataFrame, or a mapping of column name -> float64 array (a request's
    columns, without building a frame). Returns None when some step is not one of the module's
    list.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    steps = list(pipeline.steps) if isinstance(pipeline, Pipeline) else [(None, pipeline)]
    if not steps or not isinstance(steps[0][1], ColumnTransformer):
        return None
    select = _columns(steps[0][1])
    rest = [_step(step) for _, step in steps[1:] if step not in (None, "passthrough")]
    if select is None or any(step is None for step in rest):
        return None

    def transform(frame: pd.DataFrame) -> np.ndarray:
        X = select(frame)
        for step in rest:
            X = step(X)
        return X

    return transform


def _columns(ct: Any) -> Callable[[pd.DataFrame], np.ndarray] | None:
    """The fitted ColumnTransformer's blocks side by side, or None."""
    parts: list[tuple[list[str], list[Step]]] = []
    for name, transformer, columns in ct.transformers_:
        if transformer == "drop" or len(columns) == 0:
            continue
        if name == "remainder" or not all(isinstance(c, str) for c in columns):
            return None
        steps = [] if transformer == "passthrough" else _chain(transformer)
        if steps is None:
            return None
        parts.append((list(columns), steps))
    if not parts:
        return None

    def select(frame: pd.DataFrame) -> np.ndarray:
        blocks = []
        for columns, steps in parts:
            X = np.column_stack([_numbers(frame[c]) for c in columns])
            for step in steps:
                X = step(X)
            blocks.append(X)
        return np.hstack(blocks) if len(blocks) > 1 else blocks[0]

    return select


def _numbers(column: pd.Series | np.ndarray) -> np.ndarray:
    if isinstance(column, np.ndarray):  # a request's column, already float64 (ServedModel.score)
        if column.dtype != np.float64:
            raise TypeError(f"a column given as an array must be float64; got {column.dtype}")
        return column
    if column.dtype.kind not in "biuf":
        raise TypeError(f"column {column.name!r} is not numeric")
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _chain(transformer: Any) -> list[Step] | None:
    from sklearn.pipeline import Pipeline

    inner = (
        [s for _, s in transformer.steps] if isinstance(transformer, Pipeline) else [transformer]
    )
    steps = [_step(s) for s in inner if s not in (None, "passthrough")]
    return None if any(s is None for s in steps) else steps


def _step(est: Any) -> Step | None:
    """One fitted transformer as a numpy function, or None when it is not a known kind."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import (
        FunctionTransformer,
        MaxAbsScaler,
        MinMaxScaler,
        RobustScaler,
        StandardScaler,
    )

    kinds: dict[type, Callable[[Any], Step | None]] = {
        SimpleImputer: _imputer,
        FunctionTransformer: _function,
        StandardScaler: _standard,
        MinMaxScaler: _minmax,
        MaxAbsScaler: _maxabs,
        RobustScaler: _robust,
    }
    make = kinds.get(type(est))
    return None if make is None else make(est)


def _imputer(est: Any) -> Step | None:
    missing = est.missing_values
    if est.add_indicator or not (isinstance(missing, float) and np.isnan(missing)):
        return None
    statistics = np.asarray(est.statistics_, dtype=np.float64)
    if np.isnan(statistics).any():  # all-missing training columns are dropped: keep sklearn
        return None

    def impute(X: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(X), statistics, X)

    return impute


def _function(est: Any) -> Step | None:
    if not isinstance(est.func, np.ufunc) or est.kw_args or est.validate:
        return None
    func = est.func

    def apply(X: np.ndarray) -> np.ndarray:
        return func(X)

    return apply


def _standard(est: Any) -> Step:
    mean = est.mean_ if est.with_mean else None
    scale = est.scale_ if est.with_std else None

    def standardise(X: np.ndarray) -> np.ndarray:
        X = X - mean if mean is not None else X.copy()
        if scale is not None:
            X /= scale
        return X

    return standardise


def _minmax(est: Any) -> Step:
    scale, low = est.scale_, est.min_
    clip = est.clip
    bounds = est.feature_range

    def minmax(X: np.ndarray) -> np.ndarray:
        X = X * scale
        X += low
        if clip:
            np.clip(X, bounds[0], bounds[1], out=X)
        return X

    return minmax


def _maxabs(est: Any) -> Step:
    scale = est.scale_

    def maxabs(X: np.ndarray) -> np.ndarray:
        return X / scale

    return maxabs


def _robust(est: Any) -> Step:
    center, scale = est.center_, est.scale_

    def robust(X: np.ndarray) -> np.ndarray:
        X = X - center if center is not None else X.copy()
        if scale is not None:
            X /= scale
        return X

    return robust
