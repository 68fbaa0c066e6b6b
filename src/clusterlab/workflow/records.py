"""What an experiment keeps about a model it fitted: :class:`FittedModel`."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FittedModel", "find_record", "json_safe", "labels_of"]


@dataclass
class FittedModel:
    """A fitted model and what the experiment learnt about it.

    Attributes
    ----------
    model_id : str
        Registry id, or the class name of an estimator given as an instance.
    estimator : estimator
        The fitted estimator.
    labels : ndarray of int64
        Its labels of the training rows (-1 = noise).
    rule : object
        The fitted out-of-sample rule (see :mod:`clusterlab.models.out_of_sample`).
    params : dict
        The parameters the experiment set (given and data-dependent defaults).
    metrics : dict
        The metrics row (indices, ``Clusters``, ``Noise``, ``Largest segment``, ``Note``).
    selection : ChooseKResult or None
        How compare_models chose k, when it did.
    """

    model_id: str
    estimator: Any
    labels: np.ndarray
    rule: Any
    params: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    selection: Any = None

    def to_pandas(self) -> Any:
        """The metrics row, indexed by model id: what ``pull()`` shows after create_model."""
        import pandas as pd

        return pd.DataFrame([self.metrics], index=pd.Index([self.model_id], name="Model"))


def labels_of(estimator: Any, X: np.ndarray) -> np.ndarray:
    """A fitted estimator's training labels (``labels_``, else ``predict``) as int64."""
    labels = getattr(estimator, "labels_", None)
    if labels is None:
        labels = estimator.predict(X)
    return np.asarray(labels, dtype=np.int64)


def find_record(records: dict[int, FittedModel], model: Any) -> FittedModel:
    """The record of ``model`` among ``records`` (keyed by ``id(estimator)``), or a ValueError."""
    record = records.get(id(model))
    if record is None or record.estimator is not model:
        raise ValueError(
            f"model {type(model).__name__} was not fitted by this experiment; pass it "
            "through create_model first (or load a saved model with load_model)"
        )
    return record


def json_safe(value: Any) -> Any:
    """A parameter value as JSON can hold it: numbers and strings as they are, else its repr."""
    if isinstance(value, bool | str | type(None)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return repr(value)
