"""The model a service scores with: loaded once, safely, with what answering needs.

:class:`ServedModel` reads a model file through :func:`clusterlab.persistence.load_model` (no code
from the file runs), keeps the file's SHA-256, and turns the file's serving record
(:mod:`clusterlab.workflow.serving`) into what the service needs: the feature specs the request
schema is built from, each segment's description, and the anomaly scorer. Files written before
the serving record existed still serve: their features accept any JSON scalar, and descriptions
and anomaly scores are null.
"""

from __future__ import annotations

import copy
import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Feature", "ServedModel"]

_BLOCK = 1 << 20


@dataclass(frozen=True)
class Feature:
    """An input column of the model, as the service accepts it.

    ``type`` is the JSON type (number, integer, string, boolean, or ``any`` for files that do not
    record types); ``nullable`` says whether ``null`` is accepted (the pipeline fills it).
    """

    name: str
    kind: str
    type: str
    dtype: str
    nullable: bool
    categories: tuple[Any, ...] | None = None
    exclusive_minimum: float | None = None

    def column(self, values: list[Any]) -> pd.Series | np.ndarray:
        """The request's values as the column the pipeline saw in training (numbers as a float64
        array, missing as NaN; other kinds as a Series of the training dtype)."""
        if self.type == "number" or (self.kind == "numeric" and self.type != "any"):
            return np.array(values, dtype=np.float64)  # None becomes NaN
        if self.kind == "date" and self.dtype.startswith("datetime64"):
            return pd.Series(pd.to_datetime(values))
        if self.type == "any" or any(v is None for v in values):
            return pd.Series(values, dtype=object)
        return pd.Series(values, dtype=self.dtype if self.dtype != "object" else object)


class ServedModel:
    """A model file loaded for scoring (see the module docstring).

    Parameters
    ----------
    path : str or path-like
        A model file written by ``save_model`` / ``clusterlab segment --save-model``.

    Attributes
    ----------
    model : clusterlab.persistence.ClusterPipeline
    sha256 : str
        Checksum of the file's bytes.
    features : list of Feature
    descriptions : dict
        Segment id -> description (empty for files that do not record them).
    segments : list of dict or None
        Each segment's id, size, share and description, as the file records them.
    scorer : clusterlab.insight.AnomalyScorer or None
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from clusterlab.persistence import load_model

        self.path = Path(path)
        before = _sha256(self.path)
        self.model = load_model(self.path)
        self.sha256 = _sha256(self.path)
        if self.sha256 != before:
            raise ValueError(f"{self.path} changed while it was being loaded; load it again")
        serving = self.model.serving or {}
        self.features = _features(self.model.features, serving.get("features"))
        self.segments = serving.get("segments")
        self.descriptions = {s["segment"]: s["description"] for s in self.segments or []}
        self.scorer = _scorer(serving.get("anomaly"))
        names = {f.name for f in self.features}
        #: columns setup saw that are not features: accepted in a request and ignored
        self.ignored = [c for c in self.model.columns if c not in names]
        columns = self._probe()
        probe = self.frame(columns)
        self._transform = _quick_transform(self.model.pipeline, probe)
        self._direct = _direct_transform(self.model.pipeline, self.features, columns, probe)
        self._labels = _quick_labels(self.model, self._probe_rows(probe))

    @property
    def model_id(self) -> str:
        return self.model.model_id

    def frame(self, columns: dict[str, list[Any]]) -> pd.DataFrame:
        """The feature columns of a request, typed as in training."""
        return pd.DataFrame({f.name: f.column(columns[f.name]) for f in self.features})

    def score(self, columns: dict[str, list[Any]]) -> tuple[np.ndarray, np.ndarray | None]:
        """Segment ids and anomaly scores of a request's validated columns (feature name ->
        values): :meth:`predict` of their :meth:`frame`, without building the frame when the
        pipeline compiles to numpy and takes the columns as they are."""
        if self._direct is None:
            return self.predict(self.frame(columns))
        X = self._direct({f.name: f.column(columns[f.name]) for f in self.features})
        return self._labelled(_finite(X))

    def prepared(self, frame: pd.DataFrame) -> np.ndarray:
        """The prepared features (float64) of a frame of feature columns.

        Raises ValueError naming the prepared columns whose values are not finite.
        """
        if self._transform is None:
            X = self.model.transform(frame).to_numpy(dtype=np.float64)
        else:
            features = self.model.features
            X = self._transform(frame if list(frame.columns) == features else frame[features])
        return _finite(X)

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Segment ids (int64, -1 = noise) and anomaly scores (None without a scorer)."""
        return self._labelled(self.prepared(frame))

    def _labelled(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if self._labels is not None:
            labels = self._labels(X)
        else:
            labels = self.model.rule.predict(self.model.estimator, X)
        scores = None if self.scorer is None else self.scorer.score(X, self.model.estimator)
        return np.asarray(labels, dtype=np.int64), scores

    def _probe(self) -> dict[str, list[Any]]:
        """A few rows every feature accepts (missing values where allowed, known categories)."""
        columns = {}
        for f in self.features:
            if f.categories:
                values = [f.categories[i % len(f.categories)] for i in range(3)]
            elif f.kind == "date":
                values = ["2020-01-01", "2021-06-30", "2022-12-31"]
            elif f.type in ("number", "integer", "any"):
                values = [0, 1, 2]
            elif f.type == "boolean":
                values = [True, False, True]
            else:
                values = ["a", "b", "c"]
            if f.nullable:
                values[1] = None
            columns[f.name] = values
        return columns

    def _probe_rows(self, probe: pd.DataFrame) -> np.ndarray | None:
        """Prepared rows to check a shortcut on: the probe's, and each pair of centres' midpoint
        (where labels are nearest to a tie), when the estimator has centres."""
        try:
            rows = self.prepared(probe)
        except Exception:  # a probe the pipeline refuses: no shortcut can be checked
            return None
        centres = getattr(self.model.estimator, "cluster_centers_", None)
        if centres is None or np.shape(centres)[1:] != rows.shape[1:]:
            return rows
        centres = np.asarray(centres, dtype=np.float64)
        pairs = (centres[:, None, :] + centres[None, :, :]) / 2
        return np.vstack([rows, centres, pairs.reshape(-1, centres.shape[1])])

    def describe(self) -> dict[str, Any]:
        """What ``GET /model`` answers."""
        from clusterlab import __version__

        return {
            "model_id": self.model_id,
            "file": {"name": self.path.name, "sha256": self.sha256},
            "features": [_feature_json(f) for f in self.features],
            "ignored_columns": self.ignored,
            "segments": self.segments,
            "anomaly_score": None
            if self.scorer is None
            else {"measure": self.scorer.measure, "threshold": _threshold()},
            "clusterlab_version": __version__,
        }


def _finite(X: np.ndarray) -> np.ndarray:
    """``X``, or a ValueError naming the rows whose prepared features are not finite."""
    if not np.isfinite(X).all():
        rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
        raise ValueError(
            f"rows {rows[:10].tolist()} give non-finite prepared features (values too large "
            "for the model's transformations?)"
        )
    return X


def _direct_transform(
    pipeline: Any, features: list[Feature], columns: dict[str, list[Any]], probe: pd.DataFrame
) -> Any:
    """The pipeline compiled to numpy (:mod:`clusterlab.serve.fastpath`) fed the request's
    columns as float64 arrays, without a DataFrame (a few hundred microseconds a request), or
    None: when a feature is not a number, the pipeline does not compile, or the result differs
    from the pipeline's own on the probe rows."""
    from clusterlab.serve.fastpath import compile_pipeline

    if not all(isinstance(f.column([0.0]), np.ndarray) for f in features):
        return None
    try:
        compiled = compile_pipeline(pipeline)
        if compiled is None:
            return None
        expected = np.asarray(pipeline.transform(probe), dtype=np.float64)
        got = compiled({f.name: f.column(columns[f.name]) for f in features})
    except Exception:  # a step the shortcut cannot take: keep the frame path
        return None
    same = got.shape == expected.shape and np.array_equal(got, expected, equal_nan=True)
    return compiled if same else None


def _quick_transform(pipeline: Any, probe: pd.DataFrame) -> Any:
    """The quickest exact stand-in for ``pipeline.transform`` (frame -> float64 array), or None.

    First choice: the pipeline compiled to numpy (:mod:`clusterlab.serve.fastpath`, numeric
    pipelines); second: a copy whose steps hand numpy arrays to each other (half the per-call
    cost of pandas output). Either is used only when it gives exactly the pipeline's numbers on
    ``probe``; otherwise None (the caller keeps the pipeline).
    """
    from clusterlab.serve.fastpath import compile_pipeline

    try:
        expected = np.asarray(pipeline.transform(probe), dtype=np.float64)
    except Exception:  # a pipeline that refuses the probe: no shortcut can be checked
        return None
    for make in (compile_pipeline, _numpy_output):
        try:
            candidate = make(pipeline)
            got = None if candidate is None else candidate(probe)
        except Exception:  # a step the shortcut cannot take: try the next one
            continue
        same = got is not None and got.shape == expected.shape
        if same and np.array_equal(got, expected, equal_nan=True):
            return candidate
    return None


def _quick_labels(model: Any, rows: np.ndarray | None) -> Any:
    """The labels of a clusterlab ``KMeans`` straight from its kernel, or None.

    ``KMeans.predict`` checks its input and sets the thread counts (numba's and BLAS's) on every
    call, about half a millisecond, more than the nearest-centre search for the rows a request
    holds; the service has already checked them (finite float64, the model's width). The shortcut
    is used only when the model's rule is the estimator's own ``predict`` and it gives exactly
    its labels on ``rows`` (the probe's, the centres and their midpoints).
    """
    import numba

    from clusterlab.cluster import KMeans
    from clusterlab.kernels.lloyd import assign_labels
    from clusterlab.models.out_of_sample import NativePredict

    estimator = model.estimator
    if rows is None or type(estimator) is not KMeans or not isinstance(model.rule, NativePredict):
        return None
    centres = np.ascontiguousarray(estimator.cluster_centers_)
    if centres.dtype != np.float64 or centres.shape[1] != rows.shape[1]:
        return None

    def labels(X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        out = np.full(X.shape[0], -1, dtype=np.int64)
        # one thread, as KMeans.predict runs small inputs: waking numba's pool for the few rows
        # of a request costs milliseconds on a loaded machine (measured: 19 ms a call on 2 busy
        # cores, against microseconds on one thread)
        previous = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            assign_labels(X, centres, out, np.empty(X.shape[0], dtype=np.float64))
        finally:
            numba.set_num_threads(previous)
        return out

    expected = np.asarray(model.rule.predict(estimator, rows), dtype=np.int64)
    return labels if np.array_equal(labels(rows), expected) else None


def _numpy_output(pipeline: Any) -> Any:
    """``pipeline.transform`` through a copy whose steps pass numpy arrays (float64 out).

    Its later steps were fitted on frames and now see arrays: scikit-learn's warning about the
    missing feature names says nothing here (the columns are in training order) and is silenced.
    """
    fast = copy.deepcopy(pipeline)
    fast.set_output(transform="default")

    def transform(frame: pd.DataFrame) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            return np.asarray(fast.transform(frame), dtype=np.float64)

    return transform


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _features(names: list[str], recorded: list[dict[str, Any]] | None) -> list[Feature]:
    if recorded is None:  # a file written before feature types were recorded
        return [Feature(str(n), "unknown", "any", "object", True) for n in names]
    return [
        Feature(
            f["name"],
            f["kind"],
            f["type"],
            f["dtype"],
            bool(f["nullable"]),
            None if f.get("categories") is None else tuple(f["categories"]),
            f.get("exclusive_minimum"),
        )
        for f in recorded
    ]


def _scorer(record: dict[str, Any] | None) -> Any:
    if record is None:
        return None
    from clusterlab.insight import AnomalyScorer

    return AnomalyScorer.from_record(record)


def _threshold() -> float:
    from clusterlab.insight import THRESHOLD

    return THRESHOLD


def _feature_json(feature: Feature) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": feature.name,
        "kind": feature.kind,
        "type": feature.type,
        "dtype": feature.dtype,
        "nullable": feature.nullable,
    }
    if feature.categories is not None:
        out["categories"] = list(feature.categories)
    if feature.exclusive_minimum is not None:
        out["exclusive_minimum"] = feature.exclusive_minimum
    return out
