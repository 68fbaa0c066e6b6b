"""What a plot kind needs, gathered from what :func:`~clusterlab.plots.plot_model` was given.

A kind lists its needs by name (``PlotKind.needs``); each name here is a function that turns the
model, the data and the caller's options into the draw function's arguments. Everything is
computed on demand and once: a kind that needs only the model never reads X.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from clusterlab.plots._data import as_labels, as_matrix, clusters

#: What a need gives the draw function: positional arguments, keyword arguments.
Arguments = tuple[tuple[Any, ...], dict[str, Any]]


class PlotInputs:
    """The model, the data and the options of one :func:`plot_model` call.

    ``options`` are the caller's keyword arguments for the draw function; a need that consumes
    one (``scores``, ``k_range`` ...) removes it, and the rest go to the draw function.
    """

    def __init__(
        self,
        model: Any,
        X: Any,
        labels: Any,
        *,
        data: Any,
        feature_names: Sequence[str] | None,
        feature: str | None,
        label: bool,
        pipeline: Any,
        options: dict[str, Any],
    ) -> None:
        self.model = model
        self.X = X
        self.given_labels = labels
        self.given_data = data
        self.feature_names = feature_names
        self.feature = feature
        self.label = label
        self.pipeline = pipeline
        self.options = options

    @cached_property
    def frame(self) -> pd.DataFrame:
        """X as a float DataFrame with the feature names."""
        array, names = as_matrix(self.X)
        if self.feature_names is not None:
            if len(self.feature_names) != array.shape[1]:
                raise ValueError(
                    f"feature_names has {len(self.feature_names)} names for {array.shape[1]} "
                    "columns of X"
                )
            names = [str(n) for n in self.feature_names]
        return pd.DataFrame(array, columns=names)

    @cached_property
    def labels(self) -> np.ndarray:
        """The given labels, else the model's ``labels_`` for these rows, else its predictions."""
        n = self.frame.shape[0]
        if self.given_labels is not None:
            return as_labels(self.given_labels, n)
        fitted = getattr(self.model, "labels_", None)
        if fitted is not None and len(fitted) == n:
            return as_labels(fitted, n)
        if hasattr(self.model, "predict"):
            return as_labels(self.model.predict(self.frame.to_numpy()), n)
        raise ValueError(
            f"no labels for these {n} rows: {type(self.model).__name__} has no labels_ of that "
            "length and no predict; pass labels="
        )

    @cached_property
    def data(self) -> Any:
        """The original data (for profiles and features), default X."""
        return self.frame if self.given_data is None else self.given_data

    def feature_column(self) -> pd.Series:
        """The column ``feature`` names in the data (PyCaret: the first column by default)."""
        from clusterlab.insight._common import as_frame

        frame = as_frame(self.data)
        name = self.feature if self.feature is not None else frame.columns[0]
        if name not in frame.columns:
            raise ValueError(
                f"feature {name!r} is not a column of the data; columns are {list(frame.columns)}"
            )
        if frame.shape[0] != self.frame.shape[0]:
            raise ValueError(
                f"data has {frame.shape[0]} rows and X {self.frame.shape[0]}: feature= needs "
                "the original data of the rows plotted"
            )
        return frame[name]

    def take(self, *names: str, default: Any = None) -> Any:
        """The first of the options ``names`` that was given (all are removed), else default."""
        found = [self.options.pop(n) for n in names if n in self.options]
        return found[0] if found else default

    def gather(self, needs: Sequence[str]) -> Arguments:
        """The draw function's arguments for ``needs``, then the caller's remaining options
        (which override what the needs proposed)."""
        args: list[Any] = []
        keywords: dict[str, Any] = {}
        for need in needs:
            more_args, more_keywords = NEEDS[need](self)
            args.extend(more_args)
            keywords.update(more_keywords)
        return tuple(args), keywords | self.options


def _model_centres(inputs: PlotInputs) -> Arguments:
    """The model's centres (``cluster_centers_`` or ``means_``) when they match the clusters
    found; otherwise none, and the plot uses each cluster's mean."""
    if "centers" in inputs.options:
        return (), {}
    k, width = clusters(inputs.labels).size, inputs.frame.shape[1]
    for attribute in ("cluster_centers_", "means_"):
        centres = getattr(inputs.model, attribute, None)
        if centres is not None and np.shape(centres) == (k, width):
            return (), {"centers": np.asarray(centres)}
    return (), {"centers": None}


def _point_labels(inputs: PlotInputs) -> Arguments:
    """PyCaret's ``label=True``: each point labelled with its value of ``feature``."""
    if not inputs.label:
        return (), {}
    return (), {"point_labels": inputs.feature_column().to_numpy()}


def _feature_values(inputs: PlotInputs) -> Arguments:
    """PyCaret's 'distribution' with ``feature=``: that feature's values, by segment."""
    if inputs.feature is None:
        return (), {}
    return (), {"values": inputs.feature_column()}


def _features(inputs: PlotInputs) -> Arguments:
    """'feature' with ``feature=``: that one panel."""
    return ((), {}) if inputs.feature is None else ((), {"features": [inputs.feature]})


def _elbow(inputs: PlotInputs) -> Arguments:
    """(ks, inertias) given, or from a choose_k result, or the model refitted for each k."""
    from clusterlab.plots.selection import ELBOW_SAMPLES, elbow_inputs

    if "ks" in inputs.options:
        return (inputs.take("ks"), inputs.take("inertias")), {}
    return elbow_inputs(
        inputs.model,
        inputs.X,
        selection=inputs.take("selection"),
        k_range=inputs.take("k_range", default=range(2, 11)),
        max_samples=inputs.take("max_samples", default=ELBOW_SAMPLES),
        chosen_k=inputs.take("chosen_k"),
    )


def _selection_function(name: str) -> Callable[..., Any]:
    """``clusterlab.selection.<name>``, imported when a plot needs it."""
    from clusterlab import selection

    return getattr(selection, name)


def _k_selection(inputs: PlotInputs) -> Arguments:
    """A choose_k result (or table) given as ``selection=`` / ``scores=``, else computed."""
    result = inputs.take("selection", "scores")
    if result is None:
        k_range = inputs.take("k_range", default=range(2, 11))
        result = _selection_function("choose_k")(
            inputs.X, model=inputs.model, k_range=k_range, random_state=0
        )
    return (result,), {}


def _stability(inputs: PlotInputs) -> Arguments:
    """A stability result (or table) given as ``stability=`` / ``scores=``, else computed."""
    result = inputs.take("stability", "scores")
    if result is None:
        result = _selection_function("stability")(inputs.X, model=inputs.model, random_state=0)
    return (result,), {}


#: Every need a plot kind may list, and how it is met.
NEEDS: dict[str, Callable[[PlotInputs], Arguments]] = {
    "X": lambda inputs: ((inputs.frame,), {}),
    "labels": lambda inputs: ((inputs.labels,), {}),
    "data": lambda inputs: ((inputs.data,), {}),
    "model": lambda inputs: ((inputs.model,), {}),
    "pipeline": lambda inputs: ((inputs.pipeline,), {}),
    "centres": _model_centres,
    "point_labels": _point_labels,
    "feature_values": _feature_values,
    "features": _features,
    "elbow": _elbow,
    "selection": _k_selection,
    "stability": _stability,
}
