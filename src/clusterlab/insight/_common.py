"""Input handling shared by the insight functions: tables, labels, segment names, column kinds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clusterlab._base import NOISE

#: How noise is named wherever a segment is shown to a person.
NOISE_NAME = "noise"


def as_frame(data: Any, *, name: str = "data") -> pd.DataFrame:
    """Return ``data`` as a DataFrame (a copy is never needed: nothing here writes to it).

    Arrays get columns ``x0, x1, ...``; a Series becomes a one-column frame.
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, pd.Series):
        frame = data.to_frame()
    else:
        array = np.asarray(data)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise ValueError(f"{name} must be a 2-D table; got an array of shape {array.shape}")
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    if frame.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row; got 0 rows")
    if frame.shape[1] == 0:
        raise ValueError(f"{name} must have at least one column; got 0 columns")
    if not _all_str(frame.columns):
        frame = frame.rename(columns=str)  # a renamed copy: the caller's frame is left as it was
    return frame


def _all_str(columns: pd.Index) -> bool:
    return all(isinstance(c, str) for c in columns)


def as_labels(labels: Any, n_rows: int, *, name: str = "labels") -> np.ndarray:
    """Return ``labels`` as a 1-D int64 array of length ``n_rows``; noise is ``-1``."""
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {array.shape}")
    if array.shape[0] != n_rows:
        raise ValueError(f"{name} must have one entry per row ({n_rows}); got {array.shape[0]}")
    if not np.issubdtype(array.dtype, np.integer):
        whole = np.issubdtype(array.dtype, np.floating) and np.all(np.isfinite(array))
        if whole and np.all(array == np.round(array)):
            return array.astype(np.int64)
        raise TypeError(f"{name} must be integer segment ids (noise = -1); got dtype {array.dtype}")
    if array.size and array.min() < NOISE:
        raise ValueError(f"{name} must be >= -1 (-1 = noise); got {int(array.min())}")
    return array.astype(np.int64, copy=False)


def segment_name(label: int) -> str:
    """How a segment id is shown: ``"0"``, ``"1"``, ... and ``"noise"`` for -1."""
    return NOISE_NAME if label == NOISE else str(int(label))


def segment_order(labels: np.ndarray) -> list[int]:
    """Segment ids in display order: clusters ascending, noise last."""
    present = np.unique(labels)
    clusters = [int(v) for v in present if v != NOISE]
    return clusters + ([NOISE] if np.any(present == NOISE) else [])


def split_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Split columns into numeric (summarised by mean / median) and categorical ones.

    Booleans, strings, categoricals and objects are categorical; every other numeric dtype is
    numeric. Datetimes and other kinds are left out.
    """
    numeric, categorical = [], []
    for column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            categorical.append(column)
        elif pd.api.types.is_numeric_dtype(dtype):
            numeric.append(column)
        elif (
            isinstance(dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(dtype)
            or pd.api.types.is_object_dtype(dtype)
        ):
            categorical.append(column)
    return numeric, categorical
